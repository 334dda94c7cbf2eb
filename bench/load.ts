/**
 * Load generation over loopback for the benchmark: a closed-loop request/response driver,
 * an open-loop fixed-rate sender, and UDP sinks/echo backends. Every loop is bounded in count
 * and time and stops by itself. Traffic goes to 127.0.0.1 only.
 */
import { createSocket, type Socket } from 'node:dgram';

const HOST = '127.0.0.1';

export async function bindSocket(onMessage?: (msg: Buffer, port: number, address: string, s: Socket) => void): Promise<Socket> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  if (onMessage) s.on('message', (m, r) => onMessage(m, r.port, r.address, s));
  await new Promise<void>((r) => s.bind(0, HOST, () => r()));
  return s;
}

/** A UDP echo backend (the proxy's upstream). */
export const echoBackend = () => bindSocket((m, port, address, s) => s.send(m, port, address));

/** A sink that counts datagrams and records one-way latency from the timestamp in the payload. */
export async function sink(): Promise<{ socket: Socket; count: () => number; latencies: number[] }> {
  let n = 0;
  const latencies: number[] = [];
  const socket = await bindSocket((m) => { n++; if (m.length >= 16) latencies.push(nowUs() - Number(m.readBigUInt64BE(8))); });
  return { socket, count: () => n, latencies };
}

export function nowUs(): number { return Number(process.hrtime.bigint() / 1000n); }

/** Payload: 8-byte sequence number, 8-byte send time (µs, monotonic), padding to `size`. */
function payload(size: number, seq: number): Buffer {
  const b = Buffer.alloc(Math.max(size, 16));
  b.writeBigUInt64BE(BigInt(seq), 0);
  b.writeBigUInt64BE(BigInt(nowUs()), 8);
  return b;
}

export interface RoundTripResult { sent: number; received: number; seconds: number; latenciesUs: number[] }

/**
 * Closed loop: keep `window` requests outstanding; each reply releases the next request.
 * A request without a reply after 1 s is counted lost and replaced.
 */
export async function closedLoop(port: number, size: number, window: number, seconds: number, maxPackets: number): Promise<RoundTripResult> {
  const outstanding = new Map<number, number>();
  const latenciesUs: number[] = [];
  let seq = 0, received = 0;
  const end = Date.now() + seconds * 1000;
  const s = await bindSocket((m) => {
    const id = Number(m.readBigUInt64BE(0));
    const t = outstanding.get(id);
    if (t === undefined) return;
    outstanding.delete(id);
    received++;
    latenciesUs.push(nowUs() - t);
    next();
  });
  const next = () => {
    if (Date.now() >= end || seq >= maxPackets) return;
    const p = payload(size, seq);
    outstanding.set(seq, nowUs());
    seq++;
    s.send(p, port, HOST);
  };
  const sweep = setInterval(() => {
    const old = nowUs() - 1_000_000;
    for (const [id, t] of outstanding) if (t < old) { outstanding.delete(id); next(); }
  }, 100);
  const t0 = Date.now();
  for (let i = 0; i < window; i++) next();
  while (Date.now() < end && seq < maxPackets) await new Promise((r) => setTimeout(r, 50));
  const seconds_ = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 300)); // late replies
  clearInterval(sweep);
  s.close();
  return { sent: seq, received, seconds: seconds_, latenciesUs };
}

/** Open loop at a fixed rate (packets/s) for `seconds`; replies (if any) timed against send time. */
export async function openLoop(port: number, size: number, rate: number, seconds: number): Promise<RoundTripResult> {
  const latenciesUs: number[] = [];
  let received = 0, sent = 0;
  const s = await bindSocket((m) => { received++; latenciesUs.push(nowUs() - Number(m.readBigUInt64BE(8))); });
  const total = Math.floor(rate * seconds);
  const t0 = nowUs();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((nowUs() - t0) / 1e6) * rate));
      while (sent < due) s.send(payload(size, sent), port, HOST), sent++;
      if (sent >= total) resolve(); else setTimeout(tick, 1);
    };
    tick();
  });
  const secs = (nowUs() - t0) / 1e6;
  await new Promise((r) => setTimeout(r, 500));
  s.close();
  return { sent, received, seconds: secs, latenciesUs };
}

/** Blast as fast as the socket takes it, in bursts, for `seconds` or `maxPackets`. */
export async function blast(port: number, size: number, seconds: number, maxPackets: number): Promise<{ sent: number; seconds: number }> {
  const s = await bindSocket();
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    const burst = () => {
      for (let i = 0; i < 64 && sent < maxPackets; i++) s.send(payload(size, sent++), port, HOST);
      if (Date.now() >= end || sent >= maxPackets) resolve(); else setImmediate(burst);
    };
    burst();
  });
  const secs = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  s.close();
  return { sent, seconds: secs };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
