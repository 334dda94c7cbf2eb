/**
 * An append-only file with size-based rotation: path → path.1 → … → path.<maxFiles> (the oldest
 * is overwritten). Appends are serialised, so concurrent batches never interleave or race a rotation.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';

export class RotatingFile {
  /** Bytes in the current file. */
  size = 0;
  rotations = 0;
  private handle: FileHandle | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(readonly path: string, readonly maxBytes: number, readonly maxFiles: number) {}

  /** Append one chunk with (as far as the OS allows) one write call. Rejects on a write error. */
  append(chunk: Buffer): Promise<void> {
    const run = this.chain.then(() => this.write(chunk));
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    await this.release();
  }

  private async write(chunk: Buffer): Promise<void> {
    if (this.closed) throw new Error('file destination is closed');
    let fh = await this.current();
    // A chunk larger than maxBytes still goes into one (fresh) file: lines are never split.
    if (this.size > 0 && this.size + chunk.length > this.maxBytes) {
      await this.rotate();
      fh = await this.current();
    }
    try {
      for (let off = 0; off < chunk.length;) off += (await fh.write(chunk, off)).bytesWritten;
      this.size += chunk.length;
    } catch (err) {
      await this.release(); // reopen (and re-stat) on the next write
      throw err;
    }
  }

  private async current(): Promise<FileHandle> {
    if (!this.handle) {
      const fh = await open(this.path, 'a');
      this.size = (await fh.stat()).size;
      this.handle = fh;
    }
    return this.handle;
  }

  private async release(): Promise<void> {
    const fh = this.handle;
    this.handle = undefined;
    await fh?.close().catch(() => undefined);
  }

  private async rotate(): Promise<void> {
    await this.release();
    if (this.maxFiles === 0) await unlink(this.path).catch(ignoreMissing);
    else {
      for (let i = this.maxFiles - 1; i >= 1; i--) await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(ignoreMissing);
      await rename(this.path, `${this.path}.1`).catch(ignoreMissing);
    }
    this.rotations++;
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
