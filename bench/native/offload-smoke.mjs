/**
 * A small driver of the addon's GSO/GRO paths on its raw API, for valgrind (plain JS, no tsx):
 *   valgrind --error-exitcode=1 node bench/native/offload-smoke.mjs
 * Listener sockets send runs (mixed sizes, > 64 segments, a simulated refusal, a kernel refusal
 * with SO_NO_CHECK) to a GRO listener; session sockets of a group receive GRO runs; everything
 * is closed at the end. 127.0.0.1 only, a few hundred datagrams, stops by itself.
 */
import { createRequire } from 'node:module';

const addon = createRequire(import.meta.url)('../../build/Release/udp_native.node');
const W = addon.META_WORDS;

function socket(slotBytes, onRead) {
  const slots = 64;
  const s = {
    recvMeta: new Uint32Array(slots * W), payload: new Uint8Array(1 << 20), meta: new Uint32Array(1024 * W), status: new Int32Array(2),
  };
  s.sock = new addon.UdpSocket({ host: '127.0.0.1', port: 0, reusePort: false, recvBufferBytes: 1 << 20, sendBufferBytes: 1 << 20, slots, slotBytes },
    s.recvMeta, s.payload, s.meta, s.status, (n, buf, err, off = 0) => onRead(s, n, buf, err, off), () => {});
  s.port = s.sock.local()[1];
  return s;
}

/** Packs datagrams of the given sizes to 127.0.0.1:port and sends them in one call. */
function send(s, port, sizes) {
  let off = 0;
  sizes.forEach((len, i) => {
    const b = i * W;
    s.meta[b] = off; s.meta[b + 1] = len; s.meta[b + 2] = port; s.meta[b + 3] = 4;
    s.meta[b + 4] = 0x0100007f; s.meta[b + 5] = 0; s.meta[b + 6] = 0; s.meta[b + 7] = 0;
    s.payload.fill(i & 0xff, off, off + len);
    off += len;
  });
  return s.sock.send(sizes.length);
}

let received = 0, bad = 0;
addon.setOffload('all');
const rx = socket(1500, (s, n, buf, err, off) => {
  if (err) { bad++; return; }
  for (let i = 0, pos = off; i < n; i++) { const len = s.recvMeta[i * W]; received++; pos += len; }
});
const tx = socket(1500, () => {});
const wanted = [];
const batch = (sizes) => { wanted.push(...sizes); send(tx, rx.port, sizes); };
batch([100, 100, 100, 50, 100, 100, 30, 30, 30, 200, 200, 0, 5, 5, 1]);
batch(Array.from({ length: 300 }, () => 10));
batch(Array.from({ length: 60 }, () => 1200));
addon.setOffload('all', { gsoErrno: 5, count: 1 });
batch(Array.from({ length: 6 }, () => 80));
addon.setOffload('all', { noCheck: true });
const nocheck = socket(1500, () => {});
addon.setOffload('all');
wanted.push(...Array(5).fill(300));
send(nocheck, rx.port, Array(5).fill(300));

// Session sockets of one group (32 slots of 64 KiB) receiving GRO runs from a listener.
const g = { recvMeta: new Uint32Array(32 * W), payload: new Uint8Array(1 << 20), meta: new Uint32Array(1024 * W), status: new Int32Array(2) };
const group = new addon.UdpGroup({ slots: 32, slotBytes: 65536 }, g.recvMeta, g.payload, g.meta, g.status);
let replies = 0;
const backend = socket(1500, () => {});
const sessions = [0, 1].map(() => new addon.UdpSession(group, '127.0.0.1', backend.port, (n) => { replies += n; }, () => {}));
const sessionPorts = sessions.map((s) => { s.startReading(); return s.local()[1]; });
for (const p of sessionPorts) send(backend, p, Array.from({ length: 100 }, (_, i) => (i < 99 ? 150 : 11)));

rx.sock.startReading();
const deadline = Date.now() + 5000;
const timer = setInterval(() => {
  if ((received < wanted.length || replies < 200) && Date.now() < deadline) return;
  clearInterval(timer);
  for (const s of [rx, tx, nocheck, backend]) s.sock.close();
  for (const s of sessions) s.close();
  const st = addon.offload();
  console.log(JSON.stringify({ received, wanted: wanted.length, replies, bad, ...st }));
  if (received !== wanted.length || replies !== 200 || bad) process.exitCode = 1;
}, 20);
