// Owns the parser and the tree of one Python document, and keeps the tree in step with edits by
// `tree.edit` plus an incremental reparse that can run in time-boxed slices. Both parser engines
// count indexes and columns in UTF-16 code units when they parse a JS string, so LSP positions
// map onto them directly. Pure: scheduling the slices is the caller's business.

import type { Pos } from '../analysis/model.js';
import { lineStarts, offsetAt, positionAt } from './line-index.js';
import { parserEngine, type ParserEngine, type PythonParser } from './parser-engine.js';
import type { Point, Tree } from './tree.js';

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

/**
 * The text and tree of one document.
 *
 * An edit never parses by itself: it updates `text` and applies `tree.edit` to the last complete
 * tree, and the document becomes `pending`. `continueParse(budgetMs)` then runs one time-boxed
 * slice of the reparse (tree-sitter resumes a timed-out parse where it stopped), and
 * `finishParse()` runs it to the end. Edits that arrive while a parse is pending abandon the
 * partial parse and compose on the last complete tree, so the next parse covers all of them.
 *
 * Invariant: `tree` is always the parse of `text`; reading it while pending finishes the parse
 * first, synchronously. A tree (and its nodes) is valid until the next parse completes: the
 * WebAssembly engine frees superseded trees, so nothing keeps nodes across edits. Each document owns its parser, because a partial parse lives in the
 * parser that started it.
 */
export class SyntaxDocument {
  readonly #parser: PythonParser;
  #text: string;
  /**
   * The last complete parse with every later edit applied (`tree.edit`), so it is positioned on
   * `#text` but its nodes may be stale while `#pending`. Undefined after `replaceAll` until the
   * fresh parse completes: there is nothing worth reusing then.
   */
  #tree: Tree | undefined;
  #pending = false;
  #starts: number[] | undefined;

  /**
   * Parses `text` completely: opening a document has nothing older to show in the meantime.
   * `engine` defaults to the one chosen at start (the benchmark compares both side by side).
   */
  constructor(text: string, engine: ParserEngine = parserEngine()) {
    this.#parser = engine.createParser();
    this.#text = text;
    this.#tree = this.#parser.parse(text);
  }

  get text(): string {
    return this.#text;
  }

  /** The parse of `text`; while `pending`, reading it finishes the parse first (synchronously). */
  get tree(): Tree {
    this.finishParse();
    return this.#tree!;
  }

  /** Whether `text` has changed since the last complete parse. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Applies one ranged change to the text and the last complete tree; parses nothing yet. */
  applyEdit(change: TextChange): void {
    const old = this.#text;
    const starts = this.#lineStarts();
    let startIndex = offsetAt(old, starts, change.start);
    let oldEndIndex = offsetAt(old, starts, change.end);
    if (oldEndIndex < startIndex) [startIndex, oldEndIndex] = [oldEndIndex, startIndex];
    const startPoint = toPoint(positionAt(starts, startIndex));
    const oldEndPoint = toPoint(positionAt(starts, oldEndIndex));
    const inserted = change.text;
    const newEndIndex = startIndex + inserted.length;
    const lastBreak = inserted.lastIndexOf('\n');
    const newEndPoint =
      lastBreak === -1
        ? { row: startPoint.row, column: startPoint.column + inserted.length }
        : { row: startPoint.row + countBreaks(inserted), column: inserted.length - lastBreak - 1 };
    this.#abandonPartialParse();
    // Successive edits compose on one tree, as tree-sitter allows before a reparse.
    this.#tree?.edit({
      startIndex,
      oldEndIndex,
      newEndIndex,
      startPosition: startPoint,
      oldEndPosition: oldEndPoint,
      newEndPosition: newEndPoint,
    });
    this.#text = old.slice(0, startIndex) + inserted + old.slice(oldEndIndex);
    this.#starts = undefined;
    this.#pending = true;
  }

  /** Replaces the whole text (a full-document change); the next parse starts from scratch. */
  replaceAll(text: string): void {
    this.#abandonPartialParse();
    this.#text = text;
    this.#starts = undefined;
    if (this.#tree) this.#parser.free(this.#tree);
    this.#tree = undefined;
    this.#pending = true;
  }

  /**
   * Runs the pending parse for about `budgetMs` (tree-sitter checks its clock every few hundred
   * steps, so a slice can overrun slightly). Returns true when the tree is current.
   */
  continueParse(budgetMs: number): boolean {
    if (!this.#pending) return true;
    return this.#parseFor(Math.max(1, Math.round(budgetMs * 1000)));
  }

  /** Finishes a pending parse synchronously, for readers that need the current tree now. */
  finishParse(): void {
    if (this.#pending) this.#parseFor(0);
  }

  /** One call into tree-sitter with a timeout (0: none); resumes a parse that timed out. */
  #parseFor(timeoutMicros: number): boolean {
    // No tree means the timeout ran out; calling again with the same text resumes (the old tree
    // only matters when a parse starts).
    const tree = this.#parser.parseFor(this.#text, this.#tree, timeoutMicros);
    if (!tree) return false;
    // The new tree shares what it reused from the old one; the old one itself is nobody's now.
    if (this.#tree && this.#tree !== tree) this.#parser.free(this.#tree);
    this.#tree = tree;
    this.#pending = false;
    return true;
  }

  /** A partial parse is of a text that no longer exists: the next parse must start over. */
  #abandonPartialParse(): void {
    if (this.#pending) this.#parser.reset();
  }

  #lineStarts(): number[] {
    this.#starts ??= lineStarts(this.#text);
    return this.#starts;
  }
}

function toPoint(pos: Pos): Point {
  return { row: pos.line, column: pos.character };
}

function countBreaks(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
