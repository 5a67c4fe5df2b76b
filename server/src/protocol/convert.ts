// The one place where our types become LSP types and back: positions, ranges, severities,
// edits, and URIs to file paths. Positions stay UTF-16, which both sides already use.
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Position, Range, TextEdit as LspTextEdit } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from './lsp-runtime.js';
import type { Pos, Severity, Span, TextEdit } from '../analysis/model.js';

export function toPosition(pos: Pos): Position {
  return { line: pos.line, character: pos.character };
}

export function fromPosition(position: Position): Pos {
  return { line: position.line, character: position.character };
}

export function toRange(span: Span): Range {
  return { start: toPosition(span.start), end: toPosition(span.end) };
}

export function fromRange(range: Range): Span {
  return { start: fromPosition(range.start), end: fromPosition(range.end) };
}

export function toSeverity(severity: Severity): DiagnosticSeverity {
  switch (severity) {
    case 'error':
      return DiagnosticSeverity.Error;
    case 'warning':
      return DiagnosticSeverity.Warning;
    case 'information':
      return DiagnosticSeverity.Information;
    case 'hint':
      return DiagnosticSeverity.Hint;
  }
}

export function toTextEdit(edit: TextEdit): LspTextEdit {
  return { range: toRange(edit.span), newText: edit.newText };
}

/** The file path of a `file:` URI, or undefined for other schemes (untitled buffers). */
export function uriToPath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}

/** True when `pos` lies within `span` (ends inclusive, as a cursor at a word's end counts). */
export function spanContains(span: Span, pos: Pos): boolean {
  const afterStart = pos.line > span.start.line || (pos.line === span.start.line && pos.character >= span.start.character);
  const beforeEnd = pos.line < span.end.line || (pos.line === span.end.line && pos.character <= span.end.character);
  return afterStart && beforeEnd;
}

/** True when two spans overlap or touch. */
export function spansTouch(a: Span, b: Span): boolean {
  return spanContains(a, b.start) || spanContains(a, b.end) || spanContains(b, a.start);
}
