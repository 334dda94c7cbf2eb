/**
 * A destination's disk buffer (as Vector's and Fluent Bit's): an append-only log of packets in a
 * directory, in segment files read oldest first, so an outage longer than the memory queue loses
 * nothing, and what is on disk survives a restart.
 *
 *   <path>/<seq>.seg   records: [u32 length][u32 crc32][JSON of the packet], length and crc big-endian
 *   <path>/cursor      {"seq","offset"}: how far the oldest segment has been delivered
 *   <path>/lock        the pid of the process using the directory
 *
 * Appends are synchronous for the caller (the hot path) and written by one writer, all records
 * pending at the time in one write call; so a kill -9 of the process loses only records not yet
 * written (those of the last few milliseconds), since written data is in the OS page cache. fsync
 * policy: 'always' syncs after every write, 'interval' at most every fsyncIntervalMs (what a power
 * loss may lose), 'never' leaves it to the OS. Records are delivered at least once: the cursor moves
 * only after a batch was delivered, so a crash in between sends that batch again.
 * `prepend` writes a segment ordered before the others (packets older than everything on disk: a
 * failed batch, the memory queue at shutdown). A torn record at a segment's end (a crash mid-write)
 * ends that segment; the records before it are kept.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync, unlinkSync, openSync, closeSync, statSync } from 'node:fs';
import { open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Packet } from '../packet.js';
import { GatewayError } from '../errors.js';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface DiskBufferConfig {
  readonly path: string;
  readonly maxBytes: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  /** A segment is closed past this size (default 8 MiB). */
  readonly segmentBytes?: number;
}

const HEADER = 8;
const FIRST_SEQ = 1_000_000_000;
const name = (seq: number) => `${String(seq).padStart(12, '0')}.seg`;

interface Reading { seq: number; buf: Buffer; offset: number; next: number }

export class DiskBuffer {
  /** Segment numbers on disk, oldest first (the active one last). */
  private readonly segments: number[];
  private active: { seq: number; fh: FileHandle; size: number } | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> | undefined;
  private diskBytes: number;
  private reading: Reading | undefined;
  private cursor: { seq: number; offset: number } | undefined;
  private lastSync = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Segment numbers are taken synchronously, so the writer and a prepend never pick the same one. */
  private nextSeq: number;
  private minSeq: number;
  /** Records cut at a segment's end (torn writes) or failing their checksum. */
  corrupt = 0;
  /** The last write error, if the disk refused; appends are refused until a write succeeds. */
  writeError: Error | undefined;

  private constructor(readonly cfg: DiskBufferConfig) {
    mkdirSync(cfg.path, { recursive: true });
    takeLock(cfg.path);
    this.segments = readdirSync(cfg.path).filter((f) => /^\d{12}\.seg$/.test(f)).map((f) => Number(f.slice(0, 12))).sort((a, b) => a - b);
    this.minSeq = this.segments[0] ?? FIRST_SEQ;
    this.nextSeq = (this.segments.at(-1) ?? FIRST_SEQ - 1) + 1;
    this.diskBytes = this.segments.reduce((n, s) => n + statSync(join(cfg.path, name(s))).size, 0);
    try {
      const c = JSON.parse(readFileSync(join(cfg.path, 'cursor'), 'utf8')) as { seq: unknown; offset: unknown };
      if (typeof c.seq === 'number' && typeof c.offset === 'number') this.cursor = { seq: c.seq, offset: c.offset };
    } catch { /* no cursor (or a torn one): from the start of the oldest segment */ }
  }

  /** Opens (or creates) the buffer directory; refuses one another live process holds. */
  static open(cfg: DiskBufferConfig): DiskBuffer {
    try {
      return new DiskBuffer(cfg);
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `disk buffer ${cfg.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Bytes on disk and waiting to be written. */
  get bytes(): number { return this.diskBytes + this.pendingBytes; }
  /** Nothing on disk and nothing waiting to be written. */
  get empty(): boolean { return this.segments.length === 0 && this.pending.length === 0 && !this.writing; }

  /** Queues one packet for the log; false (nothing kept) when it would pass maxBytes or the disk refuses. */
  append(p: Packet): boolean {
    if (this.closed || this.writeError) return false;
    const rec = encode(p);
    if (this.bytes + rec.length > this.cfg.maxBytes) return false;
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.writing ??= this.writeLoop();
    return true;
  }

  /** Writes packets older than everything on disk as a segment before the others. False past maxBytes. */
  async prepend(packets: readonly Packet[]): Promise<boolean> {
    if (packets.length === 0) return true;
    const buf = Buffer.concat(packets.map(encode));
    if (this.bytes + buf.length > this.cfg.maxBytes) return false;
    const seq = --this.minSeq;
    const file = join(this.cfg.path, name(seq));
    // Written aside and renamed: a reader (or a restart) never sees half of it.
    const fh = await open(`${file}.tmp`, 'w');
    try {
      await writeAll(fh, buf);
      if (this.cfg.fsync !== 'never') await fh.datasync();
    } finally { await fh.close(); }
    await rename(`${file}.tmp`, file);
    this.segments.unshift(seq);
    this.diskBytes += buf.length;
    return true;
  }

  /**
   * The next packets (at most `max`, in order, from one segment), not yet delivered: the same ones
   * again until `commit()`. Empty when nothing is on disk. `fits(count, p)` is asked of each packet
   * in turn, the first included (count 0), so a caller can sum sizes; the first is taken whatever it says.
   */
  async read(max: number, fits: (count: number, p: Packet) => boolean = () => true): Promise<Packet[]> {
    for (;;) {
      if (!this.reading) {
        const seq = this.segments[0];
        if (seq === undefined) {
          if (!this.writing) return [];
          await this.writing; // records on their way to disk
          continue;
        }
        if (this.active?.seq === seq) { await this.writing; await this.closeActive(); } // read only closed segments
        const buf = await readFile(join(this.cfg.path, name(seq)));
        const offset = this.cursor?.seq === seq ? this.cursor.offset : 0;
        this.reading = { seq, buf, offset, next: offset };
      }
      const r = this.reading;
      const out: Packet[] = [];
      let at = r.offset;
      while (out.length < max && at + HEADER <= r.buf.length) {
        const len = r.buf.readUInt32BE(at), crc = r.buf.readUInt32BE(at + 4);
        const body = r.buf.subarray(at + HEADER, at + HEADER + len);
        if (body.length < len || crc32(body) !== crc) { this.corrupt++; at = r.buf.length; break; }
        const p = decode(body);
        if (!fits(out.length, p) && out.length > 0) break; // asked of every packet (the caller sums their sizes); the first is taken anyway
        out.push(p);
        at += HEADER + len;
      }
      if (at + HEADER > r.buf.length && at < r.buf.length) { this.corrupt++; at = r.buf.length; } // a torn header
      r.next = at;
      if (out.length > 0) return out;
      await this.dropSegment(r.seq); // read to its end: delivered
    }
  }

  /** The packets of the last read() were delivered (or given up): move past them, durably. */
  async commit(): Promise<void> {
    const r = this.reading;
    if (!r) return;
    r.offset = r.next;
    if (r.offset >= r.buf.length) { await this.dropSegment(r.seq); return; }
    this.cursor = { seq: r.seq, offset: r.offset };
    await writeFile(join(this.cfg.path, 'cursor'), JSON.stringify(this.cursor));
  }

  /** Writes what is pending and syncs (shutdown). Appends are refused afterwards. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    this.closed = true;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    if (this.active && this.cfg.fsync !== 'never') await this.active.fh.datasync().catch(() => undefined);
    await this.closeActive();
    try { unlinkSync(join(this.cfg.path, 'lock')); } catch { /* gone */ }
  }

  private async dropSegment(seq: number): Promise<void> {
    this.reading = undefined;
    const i = this.segments.indexOf(seq);
    if (i >= 0) this.segments.splice(i, 1);
    const file = join(this.cfg.path, name(seq));
    this.diskBytes = Math.max(0, this.diskBytes - (statSync(file, { throwIfNoEntry: false })?.size ?? 0));
    await unlink(file).catch(() => undefined);
    if (this.cursor?.seq === seq) { this.cursor = undefined; await unlink(join(this.cfg.path, 'cursor')).catch(() => undefined); }
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
        this.pending = [];
        const n = chunk.length;
        try {
          const a = await this.segmentFor();
          await writeAll(a.fh, chunk);
          a.size += n;
          this.diskBytes += n;
          this.writeError = undefined;
          await this.syncPerPolicy(a.fh);
        } catch (err) {
          this.writeError = err as Error; // the records of this write are lost: reported by the caller's counters
          this.onWriteError?.(err as Error, countRecords(chunk));
        } finally {
          this.pendingBytes -= n;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** Told of records a failed write lost (the runner counts them). */
  onWriteError: ((err: Error, records: number) => void) | undefined;

  private async segmentFor(): Promise<{ seq: number; fh: FileHandle; size: number }> {
    if (this.active && this.active.size < (this.cfg.segmentBytes ?? 8 * 1024 * 1024)) return this.active;
    await this.closeActive();
    const seq = this.nextSeq++;
    const fh = await open(join(this.cfg.path, name(seq)), 'wx');
    this.segments.push(seq);
    this.active = { seq, fh, size: 0 };
    return this.active;
  }

  private async closeActive(): Promise<void> {
    const a = this.active;
    this.active = undefined;
    await a?.fh.close().catch(() => undefined);
  }

  private async syncPerPolicy(fh: FileHandle): Promise<void> {
    if (this.cfg.fsync === 'always') { await fh.datasync(); return; }
    if (this.cfg.fsync !== 'interval') return;
    const now = Date.now();
    if (now - this.lastSync >= this.cfg.fsyncIntervalMs) { this.lastSync = now; await fh.datasync(); return; }
    // Sync what this write left unsynced within the interval, even if no write follows.
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      this.lastSync = Date.now();
      void this.active?.fh.datasync().catch(() => undefined);
    }, this.cfg.fsyncIntervalMs - (now - this.lastSync));
    this.syncTimer.unref();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) off += (await fh.write(buf, off)).bytesWritten;
}

function encode(p: Packet): Buffer {
  const body = Buffer.from(JSON.stringify({
    t: p.tag, l: p.listener, r: [p.remote.address, p.remote.port], o: [p.local.address, p.local.port], at: p.receivedAt,
    f: p.formatter, d: p.data.toString('base64'), ...(p.annotations ? { a: p.annotations } : {}),
  }), 'utf8');
  const rec = Buffer.allocUnsafe(HEADER + body.length);
  rec.writeUInt32BE(body.length, 0);
  rec.writeUInt32BE(crc32(body), 4);
  body.copy(rec, HEADER);
  return rec;
}

function decode(body: Buffer): Packet {
  const j = JSON.parse(body.toString('utf8')) as { t: string; l: string; r: [string, number]; o: [string, number]; at: number; f: Packet['formatter']; d: string; a?: Packet['annotations'] };
  return {
    tag: j.t, listener: j.l, remote: { address: j.r[0], port: j.r[1] }, local: { address: j.o[0], port: j.o[1] }, receivedAt: j.at,
    formatter: j.f, data: Buffer.from(j.d, 'base64'), ...(j.a ? { annotations: j.a } : {}),
  };
}

function countRecords(chunk: Buffer): number {
  let n = 0;
  for (let at = 0; at + HEADER <= chunk.length; at += HEADER + chunk.readUInt32BE(at)) n++;
  return n;
}

/** One process per buffer directory: a lock file with the pid; a dead owner's lock (kill -9) is taken over. */
function takeLock(dir: string): void {
  const file = join(dir, 'lock');
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid && alive(pid)) {
        throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `disk buffer ${dir} is in use by process ${pid}: give each destination (and each worker) its own buffer.disk.path`);
      }
      unlinkSync(file); // its owner is gone
    }
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}
