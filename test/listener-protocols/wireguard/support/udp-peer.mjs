// A UDP endpoint run inside the test's network namespace (plain JS: `ip netns exec NS node udp-peer.mjs ...`).
//   send HOST PORT TEXT TIMEOUT_MS  -> sends TEXT, prints {"localPort":n} then {"reply":"...","from":"ip:port"} or {"timeout":true}
//   listen ADDRESS PORT TIMEOUT_MS  -> prints {"ready":true} then {"data":"...","from":"ip:port"} or {"timeout":true}
import dgram from 'node:dgram';

const [mode, host, portText, a4, a5] = process.argv.slice(2);
const port = Number(portText);
const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const finish = (o) => { print(o); socket.close(); };

if (mode === 'send') {
  const timer = setTimeout(() => finish({ timeout: true }), Number(a5));
  socket.on('message', (msg, rinfo) => { clearTimeout(timer); finish({ reply: msg.toString(), from: `${rinfo.address}:${rinfo.port}` }); });
  socket.bind(0, () => {
    print({ localPort: socket.address().port });
    socket.send(Buffer.from(a4), port, host);
  });
} else {
  const timer = setTimeout(() => finish({ timeout: true }), Number(a4));
  socket.on('message', (msg, rinfo) => { clearTimeout(timer); finish({ data: msg.toString(), from: `${rinfo.address}:${rinfo.port}` }); });
  socket.bind(port, host, () => print({ ready: true }));
}
