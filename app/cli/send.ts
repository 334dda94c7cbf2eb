/**
 * `udp-gateway send`: one datagram, then print the replies. Imports node:dgram and node:net only
 * (no config, plugins or logger), so it starts in about the time Node itself takes.
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { hostPortOption, intOption, parseOptions, UsageError } from './usage.js';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ args, allowPositionals: true, options: {
    to: { type: 'string', default: '127.0.0.1:5555' }, wait: { type: 'string', default: '1000' }, hex: { type: 'boolean', default: false },
  } });
  const { host, port } = hostPortOption('to', values.to, '127.0.0.1');
  const wait = intOption('wait', values.wait, 0, 3_600_000)!;
  const text = positionals.join(' ') || 'hello';
  if (values.hex && !/^([0-9a-fA-F]{2})*$/.test(text)) throw new UsageError(`--hex: "${text}" is not an even number of hex digits`);
  const data = values.hex ? Buffer.from(text, 'hex') : Buffer.from(text, 'utf8');
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  let replies = 0;
  socket.on('message', (msg, rinfo) => {
    replies++;
    process.stdout.write(`reply from ${rinfo.address}:${rinfo.port} (${msg.length} bytes): ${values.hex ? msg.toString('hex') : msg.toString('utf8')}\n`);
  });
  await new Promise<void>((resolve, reject) => socket.send(data, port, host, (err) => (err ? reject(err) : resolve())));
  await new Promise((r) => setTimeout(r, wait));
  socket.close();
  if (replies === 0) process.stderr.write(`no reply from ${host}:${port} within ${wait} ms\n`);
  return replies > 0 ? 0 : 1;
}
