/**
 * A small driver of the addon's receive coalescing (native/udp_poll.c) on its raw API, for valgrind
 * (plain JS, no tsx):
 *   valgrind --leak-check=full node bench/native/coalesce-smoke.mjs
 * Two coalescing listeners (100 ms intervals) receive a burst every 20 ms for ~500 ms, so their
 * wake-ups are dense and the timer starts (then timer reads, and the switch back when the bursts
 * stop); one is closed while its timer runs, the other paused while coalescing, then closed; a
 * third is closed right after its first burst. (An open socket keeps the process alive, as a dgram socket
 * does, so every socket is closed.) 127.0.0.1 only, stops by itself.
 */
import { createRequire } from 'node:module';

const addon = createRequire(import.meta.url)('../../build/Release/udp_native.node');
const W = addon.META_WORDS;

function socket(onRead, coalesceMicros = 0) {
  const slots = 64;
  const s = { recvMeta: new Uint32Array(slots * W), payload: new Uint8Array(1 << 16), meta: new Uint32Array(1024 * W), status: new Int32Array(2) };
  s.sock = new addon.UdpSocket({ host: '127.0.0.1', port: 0, reusePort: false, recvBufferBytes: 1 << 20, sendBufferBytes: 1 << 20, slots, slotBytes: 1500, coalesceMicros },
    s.recvMeta, s.payload, s.meta, s.status, (n, buf, err) => onRead(n, err), () => {});
  s.port = s.sock.local()[1];
  return s;
}

function send(s, port, count) {
  for (let i = 0; i < count; i++) {
    const b = i * W;
    s.meta[b] = i * 32; s.meta[b + 1] = 32; s.meta[b + 2] = port; s.meta[b + 3] = 4;
    s.meta[b + 4] = 0x0100007f; s.meta[b + 5] = 0; s.meta[b + 6] = 0; s.meta[b + 7] = 0;
  }
  return s.sock.send(count);
}

let received = 0, sent = 0, bad = 0;
const onRead = (n, err) => { if (err) bad++; else received += n; };
const a = socket(onRead, 100_000), b = socket(onRead, 100_000);
const early = socket(onRead, 1000);
const tx = socket(() => {});
for (const s of [a, b, early]) s.sock.startReading();
sent += send(tx, early.port, 8);

const deadline = Date.now() + 5000;
let round = 0;
const timer = setInterval(() => {
  round++;
  if (round <= 18) { sent += send(tx, a.port, 1 + (round % 5)); sent += send(tx, b.port, 3); }
  if (round === 2) early.sock.close();
  if (round === 16) b.sock.stopReading();
  if (round === 22) a.sock.close(); // while its timer may run
  if (round < 26 && Date.now() < deadline) return;
  clearInterval(timer);
  const [starts, ticks] = b.sock.coalescing();
  b.sock.close();
  tx.sock.close();
  console.log(JSON.stringify({ received, sent, bad, starts, ticks }));
  if (bad || received === 0 || starts === 0) process.exitCode = 1;
}, 20);
