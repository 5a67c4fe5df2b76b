// The bounded end of a run's output that travels with its outcome, its stored record and
// `.choppa/state.json`. The whole output goes to listeners as it arrives (the engine appends it
// to `.choppa/logs/`); only the last `OUTPUT_TAIL_CHARS` characters are kept here.

/** The most characters of each stream an outcome carries (what the editor sees of a run just done). */
export const OUTPUT_TAIL_CHARS = 64 * 1024;

/**
 * The most characters of each stream a stored record (and so `state.json` and its journal)
 * keeps: enough for a hover, while a run's log under `.choppa/logs/` keeps the whole output.
 * Five stored runs of heavy output then cost the state folder 80 KB, not 320 KB.
 */
export const STORED_TAIL_CHARS = 16 * 1024;

/** The first line of a tail that lost its beginning; the run log has the whole output. */
export function omittedLine(count: number): string {
  return `[... ${count} earlier characters omitted; the run log has the whole output ...]\n`;
}

/**
 * The last `limit` characters of a stream, appended to in chunks. Appending is amortised
 * linear: chunks are joined and cut only once they hold twice the limit.
 */
export class OutputTail {
  private chunks: string[] = [];
  private held = 0;
  private dropped = 0;

  constructor(private readonly limit: number = OUTPUT_TAIL_CHARS) {}

  append(text: string): void {
    if (text === '') return;
    this.chunks.push(text);
    this.held += text.length;
    if (this.held > 2 * this.limit) this.compact();
  }

  /** Characters appended in all. */
  get total(): number {
    return this.dropped + this.held;
  }

  /** The tail, headed by a line saying how much came before when anything was dropped. */
  text(): string {
    this.compact();
    const kept = this.chunks.join('');
    return this.dropped > 0 ? omittedLine(this.dropped) + kept : kept;
  }

  private compact(): void {
    let joined = this.chunks.join('');
    if (joined.length > this.limit) {
      this.dropped += joined.length - this.limit;
      joined = joined.slice(joined.length - this.limit);
    }
    this.chunks = joined === '' ? [] : [joined];
    this.held = joined.length;
  }
}

const OMITTED_HEAD = /^\[\.\.\. (\d+) earlier characters omitted; the run log has the whole output \.\.\.\]\n/;

/**
 * Cuts a tail (possibly headed by an `omittedLine` already) to `limit` characters, the head
 * line counting everything left out since the start of the stream.
 */
export function shorterTail(text: string, limit: number = STORED_TAIL_CHARS): string {
  const head = OMITTED_HEAD.exec(text);
  const dropped = head ? Number(head[1]) : 0;
  const body = head ? text.slice(head[0].length) : text;
  if (body.length <= limit) return text;
  return omittedLine(dropped + body.length - limit) + body.slice(body.length - limit);
}

/** Caps an output text that arrived whole (a submitted job's log) the same way. */
export function boundedOutput(text: string, limit: number = OUTPUT_TAIL_CHARS): string {
  if (text.length <= limit) return text;
  return omittedLine(text.length - limit) + text.slice(text.length - limit);
}
