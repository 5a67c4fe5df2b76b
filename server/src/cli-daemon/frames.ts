// The daemon's wire format over its socket: frames of one type byte, a 4-byte length and a UTF-8
// payload. A reader takes chunks as they come and hands out whole frames, linear in the bytes.

/**
 * Client → daemon: a run's request (JSON), its cancel, stop, a status question. Daemon → client:
 * stdout, stderr, the exit (JSON), busy (not this daemon's to run: run it yourself), the status (JSON).
 */
export type FrameType = 'request' | 'cancel' | 'stop' | 'status' | 'out' | 'err' | 'exit' | 'busy' | 'info';

const CODES: Record<FrameType, number> = { request: 0x52, cancel: 0x43, stop: 0x53, status: 0x3f, out: 0x4f, err: 0x45, exit: 0x58, busy: 0x42, info: 0x49 };
const TYPES = new Map<number, FrameType>(Object.entries(CODES).map(([type, code]) => [code, type as FrameType]));
const HEADER = 5;
/** No frame is larger: output is sent in pieces, and a longer length means a broken stream. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

export interface Frame {
  type: FrameType;
  text: string;
}

export function encodeFrame(type: FrameType, text = ''): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > MAX_FRAME_BYTES) throw new Error(`a ${type} frame of ${payload.length} bytes is over the limit`);
  const frame = Buffer.allocUnsafe(HEADER + payload.length);
  frame[0] = CODES[type];
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, HEADER);
  return frame;
}

/** Text in frames of at most `MAX_FRAME_BYTES / 4` characters (a character is at most 4 bytes). */
export function* textFrames(type: 'out' | 'err', text: string): Generator<Buffer> {
  const step = MAX_FRAME_BYTES / 4;
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + step);
    // A surrogate pair stays in one frame.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    yield encodeFrame(type, text.slice(at, end));
    at = end;
  }
}

/**
 * Collects chunks and returns the frames they complete. Chunks are joined once per frame, when
 * its last byte is in, so a frame arriving in many pieces costs its length, not its pieces squared.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Frame[] | { failure: string } {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < HEADER) return frames;
      const head = this.chunks[0]!.length >= HEADER ? this.chunks[0]! : this.join();
      const type = TYPES.get(head[0]!);
      const length = head.readUInt32BE(1);
      if (type === undefined || length > MAX_FRAME_BYTES) return { failure: `a broken frame (type ${head[0]}, ${length} bytes)` };
      if (this.buffered < HEADER + length) return frames;
      const all = this.chunks.length === 1 ? this.chunks[0]! : this.join();
      frames.push({ type, text: all.toString('utf8', HEADER, HEADER + length) });
      const rest = all.subarray(HEADER + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
  }

  private join(): Buffer {
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined;
  }
}
