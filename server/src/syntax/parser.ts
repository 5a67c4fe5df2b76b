// Owns the parser and the current tree of one Python document, and keeps the tree in step with
// edits by `tree.edit` plus an incremental reparse. The node binding counts indexes and columns
// in UTF-16 code units when it parses a JS string, so LSP positions map onto it directly.

import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';
import type { Pos } from '../analysis/model.js';
import { lineStarts, offsetAt, positionAt } from './line-index.js';

/** A parser set to the Python grammar. */
export function createPythonParser(): Parser {
  const parser = new Parser();
  parser.setLanguage(Python as unknown as Parser.Language);
  return parser;
}

/** One LSP content change with a range. */
export interface TextChange {
  start: Pos;
  end: Pos;
  text: string;
}

/**
 * The text and tree of one document. Invariant: `tree` is always the parse of `text`; every
 * change goes through `applyEdit` or `replaceAll`, which keep the two in step.
 */
export class SyntaxDocument {
  readonly #parser: Parser;
  #text: string;
  #tree: Parser.Tree;
  #starts: number[] | undefined;

  constructor(parser: Parser, text: string) {
    this.#parser = parser;
    this.#text = text;
    this.#tree = parser.parse(text);
  }

  get text(): string {
    return this.#text;
  }

  get tree(): Parser.Tree {
    return this.#tree;
  }

  /** Applies one ranged change: edits the old tree, then reparses reusing what did not change. */
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
    const text = old.slice(0, startIndex) + inserted + old.slice(oldEndIndex);
    this.#tree.edit({
      startIndex,
      oldEndIndex,
      newEndIndex,
      startPosition: startPoint,
      oldEndPosition: oldEndPoint,
      newEndPosition: newEndPoint,
    });
    this.#text = text;
    this.#starts = undefined;
    this.#tree = this.#parser.parse(text, this.#tree);
  }

  /** Replaces the whole text (a full-document change) with a fresh parse. */
  replaceAll(text: string): void {
    this.#text = text;
    this.#starts = undefined;
    this.#tree = this.#parser.parse(text);
  }

  #lineStarts(): number[] {
    this.#starts ??= lineStarts(this.#text);
    return this.#starts;
  }
}

function toPoint(pos: Pos): Parser.Point {
  return { row: pos.line, column: pos.character };
}

function countBreaks(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
