// Reads JSON-RPC messages from the client's byte stream (`Content-Length` framing) and survives
// bad framing: a malformed header, a body that is not JSON or a length that runs into the next
// message is logged and skipped by resyncing on the next `Content-Length:` header, instead of
// leaving every later message unread. Linear in its input, with a cap on one message's size.
import type { DataCallback, Disposable, Message } from 'vscode-languageserver/node';
import { AbstractMessageReader } from './lsp-runtime.js';

const HEADER = Buffer.from('Content-Length:', 'ascii');
const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');
/** Larger messages are refused: no editor sends a document this big in one message. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** A body still incomplete this long after the last byte, with a header behind it, was mis-framed. */
const STALL_MS = 2_000;

export class ResyncingMessageReader extends AbstractMessageReader {
  private buffer = Buffer.alloc(0);
  /** Where unread bytes start in `buffer`. */
  private start = 0;
  private end = 0;
  private expected = -1;
  private bodyStart = 0;
  private stall: NodeJS.Timeout | undefined;
  private callback: DataCallback | undefined;
  /** Set by `holdAfterInitialize`: the next `initialize` request starts the hold. */
  private holdArmed = false;
  /** While held: the messages read (and a close or error of the input) since `initialize`, in order. */
  private held: Array<Message | { closed: true } | { failed: Error }> | undefined;
  /** Takes (answers itself) a message no handler should see; see `screen`. */
  private screener: ((message: Message) => boolean) | undefined;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly log: (message: string) => void,
  ) {
    super();
  }

  /**
   * Delivers the next `initialize` request, then keeps every later message (and the end of the
   * input) until `release`: the server answers `initialize` while its handlers still load, and
   * nothing that follows reaches the connection before they are wired.
   */
  holdAfterInitialize(): void {
    this.holdArmed = true;
  }

  /**
   * Messages for which `take` returns true are not delivered: it has answered them itself (an
   * `initialize` the library could not even read).
   */
  screen(take: (message: Message) => boolean): void {
    this.screener = take;
  }

  /** Ends the hold: what was kept is delivered in the order it was read. */
  release(): void {
    this.holdArmed = false;
    const held = this.held ?? [];
    this.held = undefined;
    for (const item of held) {
      if ('closed' in item) this.fireClose();
      else if ('failed' in item) this.fireError(item.failed);
      else this.deliver(item);
    }
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer): void => this.onData(chunk);
    const onClose = (): void => {
      if (!this.held) this.fireClose();
      else if (!this.held.some((item) => 'closed' in item)) this.held.push({ closed: true });
    };
    const onError = (error: Error): void => (this.held ? void this.held.push({ failed: error }) : this.fireError(error));
    this.input.on('data', onData);
    this.input.on('end', onClose);
    this.input.on('close', onClose);
    this.input.on('error', onError);
    return {
      dispose: () => {
        this.input.off('data', onData);
        this.input.off('end', onClose);
        this.input.off('close', onClose);
        this.input.off('error', onError);
        if (this.stall) clearTimeout(this.stall);
      },
    };
  }

  private append(chunk: Buffer): void {
    if (this.end + chunk.length > this.buffer.length) {
      // Compact, then grow geometrically: each byte is copied a bounded number of times.
      const live = this.end - this.start;
      const size = Math.max(this.buffer.length, 64 * 1024, (live + chunk.length) * 2);
      const next = size === this.buffer.length ? this.buffer : Buffer.alloc(size);
      this.buffer.copy(next, 0, this.start, this.end);
      this.bodyStart -= this.start;
      this.buffer = next;
      this.end = live;
      this.start = 0;
    }
    chunk.copy(this.buffer, this.end);
    this.end += chunk.length;
  }

  private onData(chunk: Buffer): void {
    this.append(chunk);
    this.drain();
    if (this.stall) clearTimeout(this.stall);
    if (this.expected >= 0) this.stall = setTimeout(() => this.unstall(), STALL_MS);
  }

  private drain(): void {
    for (;;) {
      if (this.expected < 0 && !this.readHeader()) return;
      if (this.end - this.bodyStart < this.expected) return;
      const body = this.buffer.subarray(this.bodyStart, this.bodyStart + this.expected);
      const next = this.bodyStart + this.expected;
      let message: Message | undefined;
      try {
        message = JSON.parse(body.toString('utf8')) as Message;
      } catch {
        message = undefined;
      }
      this.expected = -1;
      if (message === null || typeof message !== 'object') {
        this.log(`choppa-lsp: skipped a message whose body is not JSON (${body.length} bytes); reading on from the next header`);
        this.resync(this.bodyStart);
        continue;
      }
      this.start = next;
      this.deliver(message);
    }
  }

  private deliver(message: Message): void {
    if (this.screener?.(message)) return;
    if (this.held) {
      this.held.push(message);
      return;
    }
    this.callback?.(message);
    if (this.holdArmed && (message as { method?: unknown }).method === 'initialize') {
      this.holdArmed = false;
      this.held = [];
    }
  }

  /** Parses the header block at `start`; false when it is not complete yet. */
  private readHeader(): boolean {
    for (;;) {
      const headerEnd = this.buffer.indexOf(HEADER_END, this.start);
      if (headerEnd < 0 || headerEnd >= this.end) {
        // Garbage with no header in sight is dropped rather than kept forever.
        if (this.end - this.start > 64 * 1024 && this.buffer.indexOf(HEADER, this.start) < 0) this.start = this.end;
        return false;
      }
      const text = this.buffer.subarray(this.start, headerEnd).toString('ascii');
      const match = /(?:^|\r\n)Content-Length:[ \t]*(\d+)[ \t]*(?:\r\n|$)/i.exec(text);
      const length = match ? Number(match[1]) : NaN;
      if (Number.isSafeInteger(length) && length <= MAX_MESSAGE_BYTES) {
        this.expected = length;
        this.bodyStart = headerEnd + HEADER_END.length;
        return true;
      }
      this.log(`choppa-lsp: skipped a message with a bad header (${JSON.stringify(text.slice(0, 120))}); reading on from the next header`);
      this.resync(this.start + 1);
    }
  }

  /** Moves to the next `Content-Length:` header at or after `from` (or to the end). */
  private resync(from: number): void {
    this.expected = -1;
    const next = this.buffer.indexOf(HEADER, from);
    this.start = next >= 0 && next < this.end ? next : this.end;
  }

  /** A body that never completes while another header follows it: its length was wrong. */
  private unstall(): void {
    this.stall = undefined;
    if (this.expected < 0) return;
    const next = this.buffer.indexOf(HEADER, this.bodyStart);
    if (next < 0 || next >= this.end) return;
    this.log(`choppa-lsp: a message's Content-Length (${this.expected}) ran past the next message; skipped it`);
    this.expected = -1;
    this.start = next;
    this.drain();
  }
}
