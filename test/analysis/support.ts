// Shared helpers for the analysis tests: parse and analyze a snippet, find `$0` cursors, apply
// edits, and print results compactly so inline snapshots stay readable.

import type * as Parser from '../../server/src/syntax/tree.js';
import { createPythonParser, SyntaxDocument } from '../../server/src/syntax/parser.js';
import type { ParserEngine } from '../../server/src/syntax/parser-engine.js';
import { compileQueries, type CompiledQueries } from '../../server/src/syntax/queries.js';
import { loadQuerySources } from '../../server/src/query-files.js';
import { analyze } from '../../server/src/analysis/analyze.js';
import type { FileAnalysis, Pos, Span, TextEdit } from '../../server/src/analysis/model.js';
import { lineStarts, offsetAt } from '../../server/src/syntax/line-index.js';

export const parser = createPythonParser();
export const sources = loadQuerySources();

/** Fresh compiled queries (so a fresh, empty memo). */
export function freshQueries(): CompiledQueries {
  return compileQueries(sources);
}

const shared = freshQueries();

/**
 * Parses and analyzes `text` with the shared queries (and their memo) as the server does: cut
 * into chunks, each parsed on its own.
 */
export function analyzeText(text: string, queries: CompiledQueries = shared): FileAnalysis {
  const doc = new SyntaxDocument(text);
  try {
    return analyze(doc.chunks, text, queries);
  } finally {
    doc.dispose();
  }
}

/** Removes the `$0` marker and returns the text and the marker's position. */
export function cursor(snippet: string): { text: string; pos: Pos } {
  const at = snippet.indexOf('$0');
  if (at === -1) throw new Error('snippet has no $0');
  const text = snippet.slice(0, at) + snippet.slice(at + 2);
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  return { text, pos: { line, character: at - (before.lastIndexOf('\n') + 1) } };
}

/** `l:c-l:c`, for compact snapshots. */
export function showSpan(span: Span): string {
  return `${span.start.line}:${span.start.character}-${span.end.line}:${span.end.character}`;
}

/** The text a span covers. */
export function spanText(text: string, span: Span): string {
  const starts = lineStarts(text);
  return text.slice(offsetAt(text, starts, span.start), offsetAt(text, starts, span.end));
}

/** Applies non-overlapping edits (any order) to `text`. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const starts = lineStarts(text);
  const located = edits
    .map((edit) => ({ from: offsetAt(text, starts, edit.span.start), to: offsetAt(text, starts, edit.span.end), newText: edit.newText }))
    .sort((a, b) => b.from - a.from);
  let result = text;
  for (const { from, to, newText } of located) result = result.slice(0, from) + newText + result.slice(to);
  return result;
}

/** True when the text parses without ERROR or MISSING nodes. */
export function parsesCleanly(text: string): boolean {
  return !parser.parse(text).rootNode.hasError;
}

export type { Parser };

/** Each chunk of a document as line, text and tree, to compare with a fresh cut and parse. */
export function chunkShape(doc: SyntaxDocument): string[] {
  return doc.chunks.map((chunk) => `${chunk.row}|${chunk.text}|${chunk.tree.rootNode.toString()}`);
}

/** The chunks a fresh document of `text` has (cut and parsed from scratch). */
export function freshChunkShape(text: string, engine?: ParserEngine): string[] {
  const doc = new SyntaxDocument(text, engine);
  try {
    return chunkShape(doc);
  } finally {
    doc.dispose();
  }
}
