/**
 * Incremental parser for a streamed Lambda response (InvokeWithResponseStream): newline-delimited
 * reply objects ({"Tag","Data"} or {"Replies":[…]} per line), or one {"Replies":[…]} document
 * (pretty-printed across lines is fine) that completes at the end. Each reply is handed to `emit`
 * as soon as its line is complete. Pure apart from the callback.
 */
import type { Formatter, Reply } from '../../gateway/plugin-kit.js';
import { parseReplies } from '../../gateway/plugin-kit.js';

// Bound on text held while waiting for a multi-line document to complete (Lambda response
// streaming allows up to 20 MiB by default; replies are datagrams, far smaller).
const MAX_PENDING_CHARS = 20 * 1024 * 1024;

export class ReplyStreamParser {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  private partial = '';
  emitted = 0;
  rejected = 0;

  constructor(
    private readonly emit: (reply: Reply) => void,
    private readonly formatterOf: (tag: string) => Formatter | undefined,
  ) {}

  push(chunk: Uint8Array): void {
    const lines = (this.partial + this.decoder.decode(chunk, { stream: true })).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** End of stream: whatever is left must be one JSON document. */
  end(): void {
    const rest = this.pending + this.partial + this.decoder.decode();
    this.pending = '';
    this.partial = '';
    if (rest.trim() === '') return;
    const doc = tryParse(rest);
    if (doc === undefined) this.rejected += 1;
    else this.deliver(doc);
  }

  private line(line: string): void {
    const candidate = this.pending + line;
    if (candidate.trim() === '') { this.pending = ''; return; }
    const doc = tryParse(candidate);
    if (doc !== undefined) { this.pending = ''; this.deliver(doc); return; }
    this.pending = `${candidate}\n`;
    if (this.pending.length > MAX_PENDING_CHARS) { this.pending = ''; this.rejected += 1; }
  }

  private deliver(doc: unknown): void {
    const body = doc !== null && typeof doc === 'object' && 'Replies' in doc ? doc : { Replies: [doc] };
    const { replies, rejected } = parseReplies(body, this.formatterOf);
    this.rejected += rejected.length;
    for (const r of replies) { this.emitted += 1; this.emit(r); }
  }
}

function tryParse(text: string): unknown {
  try { return JSON.parse(text) as unknown; } catch { return undefined; }
}
