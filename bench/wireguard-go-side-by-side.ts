/**
 * node --import tsx bench/wireguard-go-side-by-side.ts [--packets 100000] [--size 64] [--seconds 5]
 *
 * wireguard-go on this machine, for comparison with bench/wireguard.ts: two namespaces joined
 * by a veth pair (10.213.43.0/30, made here and removed at the end), wireguard-go in each
 * (tunnel 10.88.0.0/24), a node sender in the first sending UDP datagrams through the tunnel
 * (bounded by --packets and --seconds) to a node sink in the second. The figures are datagrams
 * per CPU-second of each wireguard-go process (/proc/<pid>/stat utime + stime): the sending one
 * reads the tun and encrypts, the receiving one decrypts and writes the tun. Unlike the engine's
 * figures they include wireguard-go's own socket and tun I/O (its design has no way to leave
 * them out); handshakes are not compared (wireguard-go answers at most one initiation per peer
 * every 20 ms and cannot be driven faster from outside without as many peers).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { packets: { type: 'string', default: '100000' }, size: { type: 'string', default: '64' }, seconds: { type: 'string', default: '5' } } });
const TAG = String(process.pid % 100_000);
const NS = [`ugw-bench-a-${TAG}`, `ugw-bench-b-${TAG}`] as const;
const children: ChildProcess[] = [];
const run = (args: string[], input?: string) => execFileSync(args[0]!, args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
const inNs = (i: 0 | 1, args: string[], input?: string) => run(['ip', 'netns', 'exec', NS[i], ...args], input);
const CLK_TCK = 100; // Linux USER_HZ
const DIR = mkdtempSync(join(tmpdir(), 'ugw-wg-bench-'));

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) { if (Date.now() > end) throw new Error('timed out'); await new Promise((r) => setTimeout(r, 20)); }
}

async function startWg(i: 0 | 1, key: string, peerPub: string, peerEndpoint: string): Promise<number> {
  const name = `wgb${TAG}${i}`;
  const child = spawn('ip', ['netns', 'exec', NS[i], 'wireguard-go', '-f', name], { stdio: 'ignore' });
  children.push(child);
  await waitFor(() => { try { inNs(i, ['wg', 'show', name]); return true; } catch { return false; } }, 5_000);
  const keyFile = join(DIR, `${name}.key`);
  writeFileSync(keyFile, key, { mode: 0o600 });
  inNs(i, ['wg', 'set', name, 'private-key', keyFile, 'listen-port', '51820', 'peer', peerPub, 'endpoint', peerEndpoint, 'allowed-ips', '10.88.0.0/24']);
  inNs(i, ['ip', 'addr', 'add', `10.88.0.${i + 1}/24`, 'dev', name]);
  inNs(i, ['ip', 'link', 'set', name, 'up']);
  return child.pid!; // `ip netns exec` execs wireguard-go in place: same pid
}

const SINK = `const s=require('dgram').createSocket('udp4');let n=0;s.on('message',()=>n++);s.bind(9000,'10.88.0.2',()=>console.log('ready'));process.stdin.on('data',()=>{console.log(n);process.exit(0)})`;
const SENDER = `const s=require('dgram').createSocket('udp4');const N=${Number(values.packets)},end=Date.now()+${Number(values.seconds) * 1000},b=Buffer.alloc(${Number(values.size)},7);let sent=0,inflight=0;
function pump(){while(inflight<64&&sent<N&&Date.now()<end){inflight++;sent++;s.send(b,9000,'10.88.0.2',()=>{inflight--;if(sent>=N||Date.now()>=end){if(inflight===0){console.log(sent);s.close()}}else pump()})}}pump()`;

/** SIGTERM and wait for the exit, so no zombie outlives us. */
async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
}

async function main(): Promise<void> {
  try {
    for (const ns of NS) run(['ip', 'netns', 'add', ns]);
    run(['ip', 'link', 'add', `ugwba${TAG}`, 'netns', NS[0], 'type', 'veth', 'peer', 'name', `ugwbb${TAG}`, 'netns', NS[1]]);
    inNs(0, ['ip', 'addr', 'add', '10.213.43.1/30', 'dev', `ugwba${TAG}`]);
    inNs(1, ['ip', 'addr', 'add', '10.213.43.2/30', 'dev', `ugwbb${TAG}`]);
    for (const i of [0, 1] as const) { inNs(i, ['ip', 'link', 'set', i ? `ugwbb${TAG}` : `ugwba${TAG}`, 'up']); inNs(i, ['ip', 'link', 'set', 'lo', 'up']); }
    const keys = [run(['wg', 'genkey']), run(['wg', 'genkey'])];
    const pubs = keys.map((k) => run(['wg', 'pubkey'], k));
    const pids = [await startWg(0, keys[0]!, pubs[1]!, '10.213.43.2:51820'), await startWg(1, keys[1]!, pubs[0]!, '10.213.43.1:51820')];
    const sink = spawn('ip', ['netns', 'exec', NS[1], 'node', '-e', SINK], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(sink);
    let sinkOut = '';
    sink.stdout!.on('data', (d: Buffer) => { sinkOut += d; });
    await waitFor(() => sinkOut.includes('ready'), 5_000);
    inNs(0, ['node', '-e', `const s=require('dgram').createSocket('udp4');s.send('warm',9000,'10.88.0.2',()=>s.close())`]); // handshake first
    await waitFor(() => { try { return /latest handshake/.test(inNs(0, ['wg', 'show'])); } catch { return false; } }, 10_000);
    // datagrams each wireguard-go really handled: its transfer counter / the size of one transport message
    const transfer = (i: 0 | 1) => Number(inNs(i, ['wg', 'show', `wgb${TAG}${i}`, 'transfer']).split(/\s+/)[i === 0 ? 2 : 1]);
    const ipOverhead = 20 + 8;
    const messageSize = 16 + Math.ceil((Number(values.size) + ipOverhead) / 16) * 16 + 16;
    const bytesBefore = [transfer(0), transfer(1)];
    const before = pids.map(cpuSeconds);
    const start = performance.now();
    const sent = Number(inNs(0, ['node', '-e', SENDER]));
    await new Promise((r) => setTimeout(r, 300)); // let the last datagrams drain into the sink
    const wall = (performance.now() - start) / 1000;
    const cpu = pids.map((p, i) => cpuSeconds(p) - before[i]!);
    const sealed = Math.round((transfer(0) - bytesBefore[0]!) / messageSize);
    const opened = Math.round((transfer(1) - bytesBefore[1]!) / messageSize);
    sink.stdin!.write('x');
    await waitFor(() => /\n\d+\n/.test(sinkOut), 5_000);
    const received = Number(sinkOut.trim().split('\n').pop()) - 1; // minus the warm-up datagram
    console.log(`wireguard-go ${run(['dpkg-query', '-W', '-f=${Version}', 'wireguard-go'])}, ${values.size} B datagrams, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
    console.log(`sent ${sent}, received ${received} (${(100 * (1 - received / sent)).toFixed(1)}% lost) in ${wall.toFixed(2)} s: ${Math.round(received / wall).toLocaleString('en-US')} /s wall`);
    console.log(`| wireguard-go encrypt side (tun read + seal + send) | ${Math.round(sealed / cpu[0]!).toLocaleString('en-US')} per CPU-s | ${sealed} datagrams in ${cpu[0]!.toFixed(2)} CPU-s |`);
    console.log(`| wireguard-go decrypt side (recv + open + tun write) | ${Math.round(opened / cpu[1]!).toLocaleString('en-US')} per CPU-s | ${opened} datagrams in ${cpu[1]!.toFixed(2)} CPU-s |`);
  } finally {
    await Promise.all(children.map(stop));
    for (const ns of NS) { try { run(['ip', 'netns', 'del', ns]); } catch { /* not made */ } }
    rmSync(DIR, { recursive: true, force: true });
  }
}

await main();
