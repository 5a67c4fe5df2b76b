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

/**
 * One chunk of a document. `key` stands for its text's parse: it stays the same while the text
 * does (wherever the chunk moves, and when a replaced text comes back), so what is derived from
 * the parse can be kept under it. The tree may be dropped once that is done (`dropTrees`); reading
 * `tree` then parses the chunk again.
 */
class Chunk implements ParsedChunk {
  #tree: Tree | undefined;

  constructor(
    readonly text: string,
    public start: number,
    public row: number,
    readonly key: object,
    private readonly parseNow: (text: string) => Tree,
    /** Whether the chunk was parsed (its key carries summaries) even if its tree was dropped. */
    public parsed: boolean,
  ) {}

  get tree(): Tree {
    this.#tree ??= this.parseNow(this.text);
    this.parsed = true;
    return this.#tree;
  }

  set tree(tree: Tree) {
    this.#tree = tree;
    this.parsed = true;
  }

  /** Whether the chunk holds its tree now (reading `tree` otherwise parses it again). */
  get hasTree(): boolean {
    return this.#tree !== undefined;
  }

  /** Gives up the tree, for the caller to free. */
  takeTree(): Tree | undefined {
    const tree = this.#tree;
    this.#tree = undefined;
    return tree;
  }
}

/**
 * The text of one document, cut into chunks at column-0 statement starts (`chunkStarts`), each
 * parsed into its own small tree. An edit re-cuts the text from the chunk before the edit until
 * the cuts agree with the old ones again, and only chunks whose text is new are parsed: a
 * keystroke costs the statement it is in, and tree-sitter's error recovery cannot run past it.
 * A chunk whose text reappears among the replaced ones, or among recently replaced ones (an undo,
 * a closed quote), keeps its key and tree.
 *
 * Parsing never happens inside an edit: `continueParse(budgetMs)` parses new chunks for about
 * that long (a large chunk in resumable, time-boxed slices), `finishParse()` parses the rest.
 * Invariant: `chunks` is always the parse of `text`; reading it while pending finishes the parse
 * first, synchronously. A tree (and its nodes) is valid until the next parse completes or
 * `dropTrees`: the WebAssembly engine frees trees nobody holds, so nothing keeps nodes across
 * edits. Each document owns its parser, because a partial parse lives in the parser that started it.
 */
export class SyntaxDocument {
  readonly #parser: PythonParser;
  /**
   * The whole text, joined from the chunks when a reader asks for it and kept until the next
   * edit. The chunks are the text: an edit does not build a new whole string (on a 10k-line file
   * a 250 KB one per keystroke, in the large-object space, where one per scavenge was promoted and
   * 15–30 MB of them waited for the next major GC), so a keystroke whose readers only need lines
   * (`lineText`) allocates nothing the size of the file.
   */
  #text: string | undefined;
  #length: number;
  #chunks: Chunk[];
  /** Chunks never parsed, in order. */
  #unparsed: Chunk[] = [];
  /** Chunks parsed by `continueParse` or `finishParse` whose trees were not dropped since. */
  #parsed: Chunk[] = [];
  /** Trees nobody reads any more, freed once the parse in progress completes. */
  #retired: Tree[] = [];
  /**
   * Keys (and trees) of recently replaced chunks by text, oldest first, so a text that comes back
   * gets them again: an unclosed `"""` at column 0 flips the rest of the file into strings and
   * back until it is closed. At most `RECENT_CHARS_FACTOR` times the text's size, small chunks only.
   */
  #recent = new Map<string, Chunk>();
  #recentChars = 0;
  /** The text of the chunk a time-boxed parse stopped in, to resume it. */
  #resuming: string | undefined;
  #starts: number[] | undefined;
  readonly #parseNow = (text: string): Tree => {
    this.#abandonResumable();
    return this.#parser.parse(text);
  };

  /**
   * Cuts `text` into chunks; parses nothing yet (`continueParse` or reading `chunks` does).
   * `engine` defaults to the one chosen at start (the benchmark compares both side by side).
   */
  constructor(text: string, engine: ParserEngine = parserEngine()) {
    this.#parser = engine.createParser();
    this.#text = text;
    this.#length = text.length;
    this.#chunks = this.#cut(text, chunkStarts(text), 0);
    this.#unparsed = [...this.#chunks];
  }

  /** The whole text (joined from the chunks after an edit: read `lineText` where a line will do). */
  get text(): string {
    this.#text ??= this.#chunks.map((chunk) => chunk.text).join('');
    return this.#text;
  }

  /** The length of the text in UTF-16 units. */
  get length(): number {
    return this.#length;
  }

  /** `lineText`, bound: the text as lines, for readers that take a reader. */
  readonly lines = (line: number): string | undefined => this.lineText(line);

  /** Line `line` of the text without its `\n` (undefined past the last line), read from its chunk. */
  lineText(line: number): string | undefined {
    const starts = this.#lineStarts();
    const from = starts[line];
    if (from === undefined) return undefined;
    const next = starts[line + 1];
    const to = next === undefined ? this.#length : next - 1;
    // A line lies inside one chunk: chunks start at line starts.
    const chunk = this.#chunks[chunkIndexAt(this.#chunks, from)]!;
    return chunk.text.slice(from - chunk.start, to - chunk.start);
  }

  /** The parsed chunks of `text`, in order; while `pending`, reading them finishes the parse first. */
  get chunks(): readonly ParsedChunk[] {
    this.finishParse();
    return this.#chunks;
  }

  /** Whether some chunk of `text` was never parsed. */
  get pending(): boolean {
    return this.#unparsed.length > 0;
  }

  /**
   * The chunks parsed so far whose trees are still held, while the rest of the text may still be
   * pending: what is derived from their trees can be made now and the trees dropped
   * (`dropParsedTrees`), so a large file's trees are never all held at once.
   */
  get parsedSoFar(): readonly ParsedChunk[] {
    return this.#parsed.filter((chunk) => chunk.hasTree);
  }

  /**
   * Drops the trees of the chunks parsed so far (`parsedSoFar`), also while a parse is pending: a
   * reader that still wants one gets it parsed again. Dropped at once, a tree dies young, rather
   * than thousands of them at the end of a large file's parse, promoted by then: the native
   * binding frees the trees the collector found all in one go after it (a napi finalizer each),
   * and 3,400 of them (a 30,000-line file) took 20–40 ms in which no message was handled.
   */
  dropParsedTrees(): void {
    // Nobody else has read these trees (`chunks` finishes the parse first), so they go at once.
    for (const chunk of this.#parsed) {
      const tree = chunk.takeTree();
      if (tree) this.#parser.free(tree);
    }
    this.#parsed = [];
  }

  /** Applies one ranged change to the text and re-cuts the chunks around it; parses nothing yet. */
  applyEdit(change: TextChange): void {
    const lines = this.#lineStarts();
    const chars = { length: this.#length, charCodeAt: (index: number) => this.#charCodeAt(index) };
    let startIndex = offsetAt(chars, lines, change.start);
    let oldEndIndex = offsetAt(chars, lines, change.end);
    if (oldEndIndex < startIndex) [startIndex, oldEndIndex] = [oldEndIndex, startIndex];
    const inserted = change.text;
    const delta = inserted.length - (oldEndIndex - startIndex);
    const rowDelta = countBreaks(inserted) - breaksBetween(lines, startIndex, oldEndIndex);
    this.#text = undefined;
    this.#length += delta;
    this.#starts = editLineStarts(lines, startIndex, oldEndIndex, inserted);
    // Re-cut from the chunk before the one holding the edit: an edit at a chunk's first line
    // can make it continue the chunk above.
    const chunks = this.#chunks;
    const first = Math.max(0, chunkIndexAt(chunks, startIndex) - 1);
    const from = chunks[first]!.start;
    const editEnd = startIndex + inserted.length;
    // The new text of the chunks around the edit, and of one more after it: the cuts agree with
    // the old ones again at its start, as a rule. When they do not (an unclosed quote), the rest
    // of the text is added and cut again.
    let through = Math.min(chunks.length, chunkIndexAt(chunks, oldEndIndex) + 2);
    let region = '';
    let stop = chunks.length;
    let end = this.#length;
    let starts: number[];
    for (;;) {
      const old = chunks.slice(first, through).map((chunk) => chunk.text).join('');
      region = old.slice(0, startIndex - from) + inserted + old.slice(oldEndIndex - from);
      // The old chunks after the edit, by where they start in the new text.
      let next = first + 1;
      while (next < chunks.length && chunks[next]!.start < oldEndIndex) next++;
      starts = chunkStarts(region, 0, (at) => {
        const cut = at + from;
        if (cut <= editEnd) return false;
        while (next < chunks.length && chunks[next]!.start + delta < cut) next++;
        if (next < chunks.length && chunks[next]!.start + delta === cut) {
          stop = next;
          end = cut;
          return true;
        }
        return false;
      });
      if (stop < chunks.length || through === chunks.length) break;
      through = chunks.length;
    }
    const replaced = chunks.slice(first, stop);
    const kept = chunks.slice(stop);
    for (const chunk of kept) {
      chunk.start += delta;
      chunk.row += rowDelta;
    }
    // Replaced chunks go to the recent ones; a new chunk whose text is there takes its key and tree.
    for (const chunk of replaced) this.#remember(chunk);
    const fresh = this.#cut(region, starts, chunks[first]!.row, end - from, from);
    this.#chunks = [...chunks.slice(0, first), ...fresh, ...kept];
    this.#unparsed = this.#unparsed.filter((chunk) => !replaced.includes(chunk));
    for (const chunk of fresh) if (!chunk.parsed) this.#unparsed.push(chunk);
    this.#unparsed.sort((a, b) => a.start - b.start);
  }

  #charCodeAt(index: number): number {
    if (this.#text !== undefined) return this.#text.charCodeAt(index);
    const chunk = this.#chunks[chunkIndexAt(this.#chunks, index)]!;
    return chunk.text.charCodeAt(index - chunk.start);
  }

  /** Replaces the whole text (a full-document change). */
  replaceAll(text: string): void {
    this.#retireAll();
    this.#text = text;
    this.#length = text.length;
    this.#starts = undefined;
    this.#chunks = this.#cut(text, chunkStarts(text), 0);
    this.#unparsed = [...this.#chunks];
  }

  /**
   * Parses new chunks for about `budgetMs` (tree-sitter checks its clock every few hundred
   * steps, so a slice can overrun slightly), at most `maxChunks` of them. Returns true when every
   * chunk is parsed.
   */
  continueParse(budgetMs: number, maxChunks = Infinity): boolean {
    const deadline = performance.now() + budgetMs;
    for (let count = 0; this.#unparsed.length > 0; count++) {
      const left = deadline - performance.now();
      if (left <= 0 || count >= maxChunks) return false;
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

  /**
   * Frees the trees of parsed chunks once what was derived from them is kept under their keys (the
   * analysis): a reader that still wants a tree gets it parsed again. Trees are most of the weight
   * of an open document.
   */
  dropTrees(): void {
    if (this.#unparsed.length > 0) return;
    this.#parsed = [];
    for (const chunk of this.#chunks) {
      const tree = chunk.takeTree();
      if (tree) this.#retired.push(tree);
    }
    for (const chunk of this.#recent.values()) {
      const tree = chunk.takeTree();
      if (tree) this.#retired.push(tree);
    }
    this.#freeRetired();
  }

  /** Frees every tree (the document was closed); the document must not be read afterwards. */
  dispose(): void {
    this.#retireAll();
    this.#chunks = [];
    this.#unparsed = [];
    this.#freeRetired();
  }

  #retireAll(): void {
    this.#parsed = [];
    for (const chunk of [...this.#chunks, ...this.#recent.values()]) {
      const tree = chunk.takeTree();
      if (tree) this.#retired.push(tree);
    }
    this.#recent.clear();
    this.#recentChars = 0;
  }

  /** Parses the first unparsed chunk, for `timeoutMicros` at most (0: no limit). */
  #parseNext(timeoutMicros: number): boolean {
    const chunk = this.#unparsed[0]!;
    // A stopped parse of another text is moot: the next parse must start over.
    if (this.#resuming !== undefined && this.#resuming !== chunk.text) this.#abandonResumable();
    const tree = this.#parser.parseFor(chunk.text, undefined, timeoutMicros);
    if (!tree) {
      this.#resuming = chunk.text;
      return false;
    }
    this.#resuming = undefined;
    chunk.tree = tree;
    this.#unparsed.shift();
    this.#parsed.push(chunk);
    return true;
  }

  #abandonResumable(): void {
    if (this.#resuming === undefined) return;
    this.#parser.reset();
    this.#resuming = undefined;
  }

  #remember(chunk: Chunk): void {
    if (!chunk.parsed || chunk.text.length > RECENT_CHUNK_CHARS || this.#recent.has(chunk.text)) {
      const tree = chunk.takeTree();
      if (tree) this.#retired.push(tree);
      return;
    }
    this.#recent.set(chunk.text, chunk);
    this.#recentChars += chunk.text.length;
    const limit = this.#length * RECENT_CHARS_FACTOR;
    for (const oldest of this.#recent.keys()) {
      if (this.#recentChars <= limit) break;
      const tree = this.#take(oldest)?.takeTree();
      if (tree) this.#retired.push(tree);
    }
  }

  #take(chunkText: string): Chunk | undefined {
    const chunk = this.#recent.get(chunkText);
    if (chunk === undefined) return undefined;
    this.#recent.delete(chunkText);
    this.#recentChars -= chunkText.length;
    return chunk;
  }

  #freeRetired(): void {
    for (const tree of this.#retired) this.#parser.free(tree);
    this.#retired = [];
  }

  /**
   * Chunks of `text` starting at `starts` (the first on line `row`); the last ends at `end`. A
   * text among the recently replaced chunks takes that chunk's key and tree.
   */
  #cut(text: string, starts: readonly number[], row: number, end = text.length, base = 0): Chunk[] {
    const chunks: Chunk[] = [];
    for (let index = 0; index < starts.length; index++) {
      const start = starts[index]!;
      const stop = index + 1 < starts.length ? starts[index + 1]! : end;
      const chunkText = ownCopy(text.slice(start, stop));
      const earlier = this.#take(chunkText);
      const chunk = new Chunk(chunkText, base + start, row, earlier?.key ?? {}, this.#parseNow, earlier?.parsed ?? false);
      const tree = earlier?.takeTree();
      if (tree) chunk.tree = tree;
      chunks.push(chunk);
      row += countBreaks(chunkText);
    }
    return chunks;
  }

  /** Where each line of `text` starts, kept up to date through edits (the same array, changed in place: read it, do not keep it). */
  get lineStarts(): readonly number[] {
    return this.#lineStarts();
  }

  #lineStarts(): number[] {
    this.#starts ??= lineStarts(this.text);
    return this.#starts;
  }
}

/**
 * A copy of a slice that does not keep the string it was cut from: V8 keeps a slice as a view of
 * its parent, so a chunk's text (and every name and source the analysis slices out of it) would
 * keep the whole document text of its version alive; 400 versions of a 10,000-line file held
 * 160 MB that way.
 */
function ownCopy(slice: string): string {
  return slice.length < 13 ? slice : Buffer.from(slice, 'utf16le').toString('utf16le');
}

/** Past this many inserted lines (a paste), the line table is rebuilt rather than spliced. */
const SPLICE_LINES_MAX = 10_000;

/**
 * Updates the line table in place after `[startIndex, oldEndIndex)` was replaced by `inserted`:
 * lines starting up to the edit stay, lines whose break was replaced go, the inserted breaks come
 * in, and later lines move by the change in length. Linear in the lines, without a scan of the
 * whole text or a new table per keystroke.
 */
function editLineStarts(starts: number[], startIndex: number, oldEndIndex: number, inserted: string): number[] {
  const delta = inserted.length - (oldEndIndex - startIndex);
  // The first line starting after the edit's start.
  const kept = firstAfter(starts, startIndex);
  let after = kept;
  while (after < starts.length && starts[after]! <= oldEndIndex) after++;
  const added: number[] = [];
  for (let i = inserted.indexOf('\n'); i !== -1; i = inserted.indexOf('\n', i + 1)) added.push(startIndex + i + 1);
  if (added.length > SPLICE_LINES_MAX) {
    const next = starts.slice(0, kept);
    for (const start of added) next.push(start);
    for (let index = after; index < starts.length; index++) next.push(starts[index]! + delta);
    return next;
  }
  if (added.length !== after - kept) starts.splice(kept, after - kept, ...added);
  else for (let index = 0; index < added.length; index++) starts[kept + index] = added[index]!;
  for (let index = kept + added.length; index < starts.length; index++) starts[index] = starts[index]! + delta;
  return starts;
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

/** How many line breaks lie in `[start, end)`: the line starts in `(start, end]`. */
function breaksBetween(starts: readonly number[], start: number, end: number): number {
  return firstAfter(starts, end) - firstAfter(starts, start);
}

/** The index of the first entry of ascending `starts` greater than `offset`. */
function firstAfter(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function countBreaks(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
