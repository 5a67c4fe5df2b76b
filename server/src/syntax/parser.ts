// Owns the parser and the parsed chunks of one Python document (`statement-chunks.ts` cuts them),
// and keeps them in step with edits, parsing what changed in time-boxed slices. Both parser engines
// count indexes and columns in UTF-16 code units when they parse a JS string, so LSP positions
// map onto them directly. Pure: scheduling the slices is the caller's business.

import type { Pos } from '../analysis/model.js';
import { lineStarts, offsetAt } from './line-index.js';
import { chunkStarts } from './statement-chunks.js';
import { parserEngine, type ParserEngine, type PythonParser } from './parser-engine.js';
import type { ParsedChunk, Tree } from './tree.js';

/** A parser set to the Python grammar, from the engine chosen at start. */
export function createPythonParser(): PythonParser {
  return parserEngine().createParser();
}

/** One LSP content change with a range. */
export interface TextChange {
  start: Pos;
  end: Pos;
  text: string;
}

export type { ParsedChunk } from './tree.js';

/** Replaced chunks larger than this are not kept for reuse (a statement, not a flipped region). */
const RECENT_CHUNK_CHARS = 16_384;
/** Replaced chunks kept for reuse hold at most this many times the document's text. */
const RECENT_CHARS_FACTOR = 1.5;

interface Chunk {
  text: string;
  start: number;
  row: number;
  /** Undefined until parsed. */
  tree: Tree | undefined;
}

/**
 * The text of one document, cut into chunks at column-0 statement starts (`chunkStarts`), each
 * parsed into its own small tree. An edit re-cuts the text from the chunk before the edit until
 * the cuts agree with the old ones again, and only chunks whose text is new are parsed: a
 * keystroke costs the statement it is in, and tree-sitter's error recovery cannot run past it.
 * A chunk whose text reappears among the replaced ones keeps its tree (trees are positioned
 * relative to their chunk, so moving a chunk costs nothing).
 *
 * Parsing never happens inside an edit: `continueParse(budgetMs)` parses pending chunks for
 * about that long (a large chunk in resumable, time-boxed slices), `finishParse()` parses the rest.
 * Invariant: `chunks` is always the parse of `text`; reading it while pending finishes the parse
 * first, synchronously. A tree (and its nodes) is valid until the next parse completes: the
 * WebAssembly engine frees trees that are no longer any chunk's, so nothing keeps nodes across
 * edits. Each document owns its parser, because a partial parse lives in the parser that started it.
 */
export class SyntaxDocument {
  readonly #parser: PythonParser;
  #text: string;
  #chunks: Chunk[];
  /** Indexes of chunks without a tree, in order. */
  #unparsed: Chunk[] = [];
  /** Trees of replaced chunks, freed once the parse that could reuse them completes. */
  #retired: Tree[] = [];
  /**
   * Trees of recently replaced chunks by text, oldest first, so a text that comes back gets its
   * tree (and its summaries) again: an unclosed `"""` flips the rest of the file into strings and
   * back until it is closed. At most `RECENT_CHARS_FACTOR` times the text's size, small chunks only.
   */
  #recent = new Map<string, Tree>();
  #recentChars = 0;
  /** The text of the chunk a time-boxed parse stopped in, to resume it. */
  #resuming: string | undefined;
  #starts: number[] | undefined;

  /**
   * Cuts `text` into chunks; parses nothing yet (`continueParse` or reading `chunks` does).
   * `engine` defaults to the one chosen at start (the benchmark compares both side by side).
   */
  constructor(text: string, engine: ParserEngine = parserEngine()) {
    this.#parser = engine.createParser();
    this.#text = text;
    this.#chunks = this.#cut(text, chunkStarts(text), 0);
    this.#unparsed = [...this.#chunks];
  }

  get text(): string {
    return this.#text;
  }

  /** The parsed chunks of `text`, in order; while `pending`, reading them finishes the parse first. */
  get chunks(): readonly ParsedChunk[] {
    this.finishParse();
    return this.#chunks as ParsedChunk[];
  }

  /** Whether some chunk of `text` is not parsed yet. */
  get pending(): boolean {
    return this.#unparsed.length > 0;
  }

  /** Applies one ranged change to the text and re-cuts the chunks around it; parses nothing yet. */
  applyEdit(change: TextChange): void {
    const old = this.#text;
    const lines = this.#lineStarts();
    let startIndex = offsetAt(old, lines, change.start);
    let oldEndIndex = offsetAt(old, lines, change.end);
    if (oldEndIndex < startIndex) [startIndex, oldEndIndex] = [oldEndIndex, startIndex];
    const inserted = change.text;
    const text = old.slice(0, startIndex) + inserted + old.slice(oldEndIndex);
    const delta = inserted.length - (oldEndIndex - startIndex);
    const rowDelta = countBreaks(inserted) - countBreaks(old.slice(startIndex, oldEndIndex));
    this.#text = text;
    this.#starts = undefined;
    // Re-cut from the chunk before the one holding the edit: an edit at a chunk's first line
    // can make it continue the chunk above.
    const chunks = this.#chunks;
    const first = Math.max(0, chunkIndexAt(chunks, startIndex) - 1);
    const from = chunks[first]!.start;
    // The old chunks after the edit, by where they start in the new text.
    let next = first + 1;
    while (next < chunks.length && chunks[next]!.start < oldEndIndex) next++;
    const editEnd = startIndex + inserted.length;
    let stop = chunks.length;
    let end = text.length;
    const starts = chunkStarts(text, from, (cut) => {
      if (cut <= editEnd) return false;
      while (next < chunks.length && chunks[next]!.start + delta < cut) next++;
      if (next < chunks.length && chunks[next]!.start + delta === cut) {
        stop = next;
        end = cut;
        return true;
      }
      return false;
    });
    const fresh = this.#cut(text, starts, chunks[first]!.row, end);
    const replaced = chunks.slice(first, stop);
    const kept = chunks.slice(stop);
    for (const chunk of kept) {
      chunk.start += delta;
      chunk.row += rowDelta;
    }
    // Chunks whose text is unchanged keep their trees, wherever they moved.
    const reusable = new Map<string, Tree>();
    for (const chunk of replaced) if (chunk.tree) reusable.set(chunk.text, chunk.tree);
    for (const chunk of fresh) {
      const tree = reusable.get(chunk.text) ?? this.#recent.get(chunk.text);
      if (!tree) continue;
      chunk.tree = tree;
      if (!reusable.delete(chunk.text)) this.#forget(chunk.text);
    }
    for (const [chunkText, tree] of reusable) this.#remember(chunkText, tree);
    this.#chunks = [...chunks.slice(0, first), ...fresh, ...kept];
    this.#unparsed = this.#chunks.filter((chunk) => !chunk.tree);
  }

  /** Replaces the whole text (a full-document change). */
  replaceAll(text: string): void {
    for (const chunk of this.#chunks) if (chunk.tree) this.#retired.push(chunk.tree);
    for (const chunkText of [...this.#recent.keys()]) this.#retired.push(this.#forget(chunkText)!);
    this.#text = text;
    this.#starts = undefined;
    this.#chunks = this.#cut(text, chunkStarts(text), 0);
    this.#unparsed = [...this.#chunks];
  }

  /**
   * Parses pending chunks for about `budgetMs` (tree-sitter checks its clock every few hundred
   * steps, so a slice can overrun slightly). Returns true when every chunk is parsed.
   */
  continueParse(budgetMs: number): boolean {
    const deadline = performance.now() + budgetMs;
    while (this.#unparsed.length > 0) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      if (!this.#parseNext(Math.max(1, Math.round(left * 1000)))) return false;
    }
    this.#freeRetired();
    return true;
  }

  /** Finishes a pending parse synchronously, for readers that need the current trees now. */
  finishParse(): void {
    while (this.#unparsed.length > 0) this.#parseNext(0);
    this.#freeRetired();
  }

  /** Frees every tree (the document was closed); the document must not be read afterwards. */
  dispose(): void {
    for (const chunk of this.#chunks) if (chunk.tree) this.#retired.push(chunk.tree);
    for (const chunkText of [...this.#recent.keys()]) this.#retired.push(this.#forget(chunkText)!);
    this.#chunks = [];
    this.#unparsed = [];
    this.#freeRetired();
  }

  /** Parses the first unparsed chunk, for `timeoutMicros` at most (0: no limit). */
  #parseNext(timeoutMicros: number): boolean {
    const chunk = this.#unparsed[0]!;
    // A stopped parse of another text is moot: the next parse must start over.
    if (this.#resuming !== undefined && this.#resuming !== chunk.text) this.#parser.reset();
    const tree = this.#parser.parseFor(chunk.text, undefined, timeoutMicros);
    if (!tree) {
      this.#resuming = chunk.text;
      return false;
    }
    this.#resuming = undefined;
    chunk.tree = tree;
    this.#unparsed.shift();
    return true;
  }

  #remember(chunkText: string, tree: Tree): void {
    if (chunkText.length > RECENT_CHUNK_CHARS || this.#recent.has(chunkText)) {
      this.#retired.push(tree);
      return;
    }
    this.#recent.set(chunkText, tree);
    this.#recentChars += chunkText.length;
    const limit = this.#text.length * RECENT_CHARS_FACTOR;
    for (const oldest of this.#recent.keys()) {
      if (this.#recentChars <= limit) break;
      this.#retired.push(this.#forget(oldest)!);
    }
  }

  #forget(chunkText: string): Tree | undefined {
    const tree = this.#recent.get(chunkText);
    if (tree === undefined) return undefined;
    this.#recent.delete(chunkText);
    this.#recentChars -= chunkText.length;
    return tree;
  }

  #freeRetired(): void {
    for (const tree of this.#retired) this.#parser.free(tree);
    this.#retired = [];
  }

  /** Chunks of `text` starting at `starts` (the first on line `row`); the last ends at `end`. */
  #cut(text: string, starts: readonly number[], row: number, end = text.length): Chunk[] {
    const chunks: Chunk[] = [];
    for (let index = 0; index < starts.length; index++) {
      const start = starts[index]!;
      const stop = index + 1 < starts.length ? starts[index + 1]! : end;
      const chunkText = text.slice(start, stop);
      chunks.push({ text: chunkText, start, row, tree: undefined });
      row += countBreaks(chunkText);
    }
    return chunks;
  }

  #lineStarts(): number[] {
    this.#starts ??= lineStarts(this.#text);
    return this.#starts;
  }
}

/** The index of the chunk that holds `offset` (the last one starting at or before it). */
function chunkIndexAt(chunks: readonly Chunk[], offset: number): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chunks[mid]!.start <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function countBreaks(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
