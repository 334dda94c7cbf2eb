/**
 * A small driver of the addon's flow offload (native/udp_flow.c) on its raw API, for valgrind
 * (plain JS, no tsx):
 *   valgrind --leak-check=full node bench/native/flow-smoke.mjs
 * A listener pins 40 session sockets (one per client port of one client socket: the table grows
 * past its first 64 buckets with a second listener's 80), forwards bursts both ways, then: some
 * sessions are unpinned, some closed while pinned, one listener closed while its sessions are
 * pinned (they go on alone), the other after more traffic; then every socket is closed and dropped
 * (run with --expose-gc to collect them), and a session's flow state (flowState()) kept past its
 * socket is read, then dropped.
 * 127.0.0.1 only, stops by itself.
 */
import { createRequire } from 'node:module';
import { createSocket } from 'node:dgram';

const addon = createRequire(import.meta.url)('../../build/Release/udp_native.node');
const W = addon.META_WORDS;

function listener(onRead) {
  const slots = 64;
  const s = { recvMeta: new Uint32Array(slots * W), payload: new Uint8Array(1 << 16), meta: new Uint32Array(1024 * W), status: new Int32Array(2) };
  s.sock = new addon.UdpSocket({ host: '127.0.0.1', port: 0, reusePort: false, recvBufferBytes: 1 << 20, sendBufferBytes: 1 << 20, slots, slotBytes: 1500 },
    s.recvMeta, s.payload, s.meta, s.status, (n, buf, err) => onRead(n, err), () => {});
  s.port = s.sock.local()[1];
  s.sock.startReading();
  return s;
}

function send(s, port, count, from = 0) {
  for (let i = 0; i < count; i++) {
    const b = i * W;
    s.meta[b] = i * 32; s.meta[b + 1] = 16 + ((from + i) % 16); s.meta[b + 2] = port; s.meta[b + 3] = 4;
    s.meta[b + 4] = 0x0100007f; s.meta[b + 5] = 0; s.meta[b + 6] = 0; s.meta[b + 7] = 0;
  }
  return s.sock.send(count);
}

let toJs = 0, replies = 0;
const l1 = listener((n) => { toJs += n; });
const l2 = listener((n) => { toJs += n; });
// The backend echoes each datagram to its sender (a session socket), which sends it on to its client.
const echo = createSocket('udp4');
echo.on('message', (m, r) => echo.send(m, r.port, r.address));
await new Promise((r) => echo.bind(0, '127.0.0.1', r));
const echoPort = echo.address().port;
let clientGot = 0;
const clients = [];
for (let i = 0; i < 120; i++) clients.push(listener((n) => { clientGot += n; }));

const group = new addon.UdpGroup({ slots: 32, slotBytes: 65536 }, new Uint32Array(32 * W), new Uint8Array(1 << 16), new Uint32Array(1024 * W), new Int32Array(2));
let sessions = [];
for (let i = 0; i < 120; i++) {
  const s = new addon.UdpSession(group, '127.0.0.1', echoPort, (n) => { replies += n; }, () => {});
  s.startReading();
  const key = new Uint32Array([4, clients[i].port, 0x0100007f, 0, 0, 0]);
  const rc = s.pin(i < 40 ? l1.sock : l2.sock, key);
  if (rc !== 0) throw new Error(`pin ${i}: ${rc}`);
  sessions.push(s);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (let round = 0; round < 10; round++) {
  for (let i = 0; i < clients.length; i++) send(clients[i], i < 40 ? l1.port : l2.port, 2, round);
  await sleep(20);
}
const totals1 = l1.sock.flowTotals(), totals2 = l2.sock.flowTotals();
for (let i = 0; i < 10; i++) sessions[i].unpin();
for (let i = 10; i < 20; i++) sessions[i].close();
const flows = sessions.slice(20, 30).map((s) => s.flow());
l2.sock.close(); // sessions 40..119 stay open, unpinned
for (let round = 0; round < 3; round++) {
  for (let i = 0; i < clients.length; i++) send(clients[i], i < 40 ? l1.port : l2.port, 2, round);
  await sleep(20);
}
l1.sock.close();
for (const x of sessions) x.close(); // (an open socket keeps the process alive, and itself)
let keptState = sessions[25].flowState(); // a session's flow state, kept past its socket
sessions = null;
globalThis.gc?.();
await sleep(50);
globalThis.gc?.();
const late = Array.from(keptState); // the struct outlives the array over its state: pinned 0, counts as they were
keptState = null; // and is freed once the array is collected too
globalThis.gc?.();
await sleep(50);
for (const s of clients) s.sock.close();
echo.close();
console.log(JSON.stringify({ toJs, replies, clientGot, totals1, totals2, flow20: flows[0], late }));
