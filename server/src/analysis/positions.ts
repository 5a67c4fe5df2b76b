// Small helpers over our positions and spans: ordering, containment, and moving a cached result
// to the lines where its statement now sits.

import type { Pos, Span } from './model.js';

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function comparePos(a: Pos, b: Pos): number {
  return a.line - b.line || a.character - b.character;
}

/** True when `pos` lies in `span`, both ends included (a cursor right after a name is on it). */
export function spanContains(span: Span, pos: Pos): boolean {
  return comparePos(span.start, pos) <= 0 && comparePos(pos, span.end) <= 0;
}

/** True when `inner` lies within `outer`. */
export function spanWithin(inner: Span, outer: Span): boolean {
  return comparePos(outer.start, inner.start) <= 0 && comparePos(inner.end, outer.end) <= 0;
}

/**
 * A deep copy of `value` with every position moved down by `delta` lines. Maps and sets are
 * shared (they hold no positions); plain objects with numeric `line` and `character` are
 * positions. Invariant: what is shifted keeps lines only inside such positions, never as a bare
 * number (a bare `defLine` once stayed behind when lines were added above a function).
 */
export function shiftLines<T>(value: T, delta: number): T {
  if (delta === 0) return value;
  return shift(value, delta) as T;
}

/** What `shiftLines` returns, but always a copy (even for no move): a tree of objects of its own. */
export function copyShifted<T>(value: T, delta: number): T {
  return shift(value, delta) as T;
}

// Hot on a line move of a large file (every summary below an Enter is copied), so it avoids
// `for...in`, `instanceof` per object and `map` closures: plain objects are recognised by their
// prototype, and everything else (maps, sets, class instances) is shared as it is.
function shift(value: unknown, delta: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) copy[index] = shift(value[index], delta);
    return copy;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const record = value as Record<string, unknown>;
  const line = record['line'];
  if (typeof line === 'number' && typeof record['character'] === 'number') {
    return { line: line + delta, character: record['character'] };
  }
  const copy: Record<string, unknown> = {};
  const keys = Object.keys(record);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    copy[key] = shift(record[key], delta);
  }
  return copy;
}

/**
 * Moves every position in `value` down by `delta` lines, in place. Only for a tree of objects
 * nothing else shares parts of: a copy made by `shiftLines` is one (it copies each occurrence),
 * so a position reachable twice is never moved twice. Moving in place is what lets a line added
 * near the top of a large file cost no copy of every summary below it.
 */
export function shiftLinesInPlace(value: unknown, delta: number): void {
  if (delta === 0 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) shiftLinesInPlace(value[index], delta);
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return;
  const record = value as Record<string, unknown>;
  const line = record['line'];
  if (typeof line === 'number' && typeof record['character'] === 'number') {
    record['line'] = line + delta;
    return;
  }
  const keys = Object.keys(record);
  for (let index = 0; index < keys.length; index++) shiftLinesInPlace(record[keys[index]!], delta);
}
