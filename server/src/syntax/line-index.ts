// Converts between LSP positions (0-based line, UTF-16 column) and UTF-16 offsets into a text.
// Only `\n` starts a line, exactly as tree-sitter counts rows, so a `\r` before it is never a
// column a position can land on.

import type { Pos } from '../analysis/model.js';

/** The offsets at which each line of `text` starts (always at least `[0]`). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  let i = text.indexOf('\n');
  while (i !== -1) {
    starts.push(i + 1);
    i = text.indexOf('\n', i + 1);
  }
  return starts;
}

/**
 * The UTF-16 offset of `pos` in `text`, clamped the way LSP asks: a line past the end is the end
 * of the text, a character past the end of its line is the end of that line (before any `\r`).
 */
export function offsetAt(text: Pick<string, 'length' | 'charCodeAt'>, starts: readonly number[], pos: Pos): number {
  if (pos.line < 0) return 0;
  const start = starts[pos.line];
  if (start === undefined) return text.length;
  const next = starts[pos.line + 1];
  let end = next === undefined ? text.length : next - 1;
  if (end > start && text.charCodeAt(end - 1) === 13) end -= 1;
  return Math.min(start + Math.max(0, pos.character), end);
}

/** The position of a UTF-16 offset, found by binary search over `starts`. */
export function positionAt(starts: readonly number[], offset: number): Pos {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - (starts[lo] ?? 0) };
}
