// Keeps one syntax error local to the statement it is in. Tree-sitter's error recovery can let
// an unclosed bracket inside one function swallow every later definition into one ERROR node;
// this reparses such a statement piece by piece, cut where a new top-level statement starts at
// column 0, so the functions after the error are found with their own spans.

import type * as Parser from '../syntax/tree.js';
import type { CompiledQueries } from '../syntax/queries.js';
import type { ParserEngine, PythonParser } from '../syntax/parser-engine.js';
import { shiftLines } from './positions.js';
import { emptySummary, summarizeStatement, type StatementSummary } from './statement-summary.js';

// A column-0 line starting with one of these continues the statement above it, even in
// broken code, so it is never a cut.
const CONTINUATION = /^(?:else\b|elif\b|except\b|finally\b|case\b|[)\]},.#]|$|\s)/;

// One parser per engine: the pieces must be parsed by the engine the queries were compiled for.
const parsers = new WeakMap<ParserEngine, PythonParser>();

/**
 * The summary of a broken top-level statement that spans several top-level statements' worth
 * of lines, read piece by piece; undefined when it has no place to cut (then the statement is
 * read whole, as usual). `row` is the statement's first line in the document.
 */
export function recoverStatement(statement: Parser.SyntaxNode, source: string, row: number, queries: CompiledQueries): StatementSummary | undefined {
  if (!statement.hasError || statement.startPosition.column !== 0) return undefined;
  const cuts = cutPoints(statement, source);
  if (cuts.length === 0) return undefined;
  let parser = parsers.get(queries.engine);
  if (!parser) {
    parser = queries.engine.createParser();
    parsers.set(queries.engine, parser);
  }
  const merged = emptySummary();
  const bounds = [0, ...cuts, source.length];
  let pieceRow = row;
  for (let index = 0; index + 1 < bounds.length; index++) {
    const piece = source.slice(bounds[index], bounds[index + 1]);
    const tree = parser.parse(piece);
    try {
      summarizePiece(tree, piece, pieceRow, queries, merged);
    } finally {
      // A WebAssembly tree is freed when nobody reads it any more (the summaries are plain data).
      parser.free(tree);
    }
    pieceRow += countNewlines(piece);
  }
  return merged;
}

function summarizePiece(tree: Parser.Tree, piece: string, pieceRow: number, queries: CompiledQueries, merged: StatementSummary): void {
  for (const child of tree.rootNode.children) {
    const childSource = piece.slice(child.startIndex, child.endIndex);
    let summary: StatementSummary;
    try {
      summary = summarizeStatement(child, childSource, piece, queries);
    } catch {
      summary = emptySummary();
    }
    merge(merged, shiftLines(summary, pieceRow));
  }
}

// Offsets (within `source`) of column-0 lines that start a new statement: not a continuation,
// not inside a string, and not the `def` under a decorator (the decorator's piece owns it).
function cutPoints(statement: Parser.SyntaxNode, source: string): number[] {
  const cuts: number[] = [];
  const strings = stringRanges(statement);
  let underDecorator = source.startsWith('@');
  let at = source.indexOf('\n');
  while (at !== -1 && at + 1 < source.length) {
    const lineStart = at + 1;
    at = source.indexOf('\n', lineStart);
    const line = source.slice(lineStart, at === -1 ? source.length : at);
    if (CONTINUATION.test(line)) continue;
    if (insideString(strings, lineStart)) continue;
    const decorator = line.startsWith('@');
    if (!underDecorator) cuts.push(lineStart);
    underDecorator = decorator;
  }
  return cuts;
}

// Whether an offset of the statement's text lies inside one of its string literals. Read from
// the string nodes' ranges, which both parser engines report alike.
function stringRanges(statement: Parser.SyntaxNode): Array<[number, number]> {
  return statement.descendantsOfType('string').map((node) => [node.startIndex - statement.startIndex, node.endIndex - statement.startIndex]);
}

function insideString(ranges: ReadonlyArray<[number, number]>, offset: number): boolean {
  return ranges.some(([start, end]) => start < offset && offset < end);
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

function merge(into: StatementSummary, from: StatementSummary): void {
  into.imports.push(...from.imports);
  into.names.push(...from.names);
  into.assignments.push(...from.assignments);
  into.instances.push(...from.instances);
  into.functions.push(...from.functions);
  into.calls.push(...from.calls);
  into.sessions.push(...from.sessions);
  into.moduleImports.push(...from.moduleImports);
  into.constructors.push(...from.constructors);
  for (const [name, count] of from.nameCounts) into.nameCounts.set(name, (into.nameCounts.get(name) ?? 0) + count);
}
