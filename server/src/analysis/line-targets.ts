// What an action at a position is about when the cursor is not exactly on a call: users put the
// cursor anywhere on `result = add(1, 2)` (at `result`, at the indentation, at the end) and
// expect the call's actions. Pure: reads the analysis only.
import { callAt } from './analyze.js';
import type { CallSite, FileAnalysis, Pos } from './model.js';

/**
 * The call of a decorated function at `pos`, else the first one (by column) that starts on the
 * line of `pos`, so actions are offered from anywhere on a call's line.
 */
export function callAtOrOnLine(analysis: FileAnalysis, pos: Pos): CallSite | undefined {
  const exact = callAt(analysis, pos);
  if (exact) return exact;
  let first: CallSite | undefined;
  for (const call of analysis.calls) {
    if (call.span.start.line !== pos.line) continue;
    if (!first || call.span.start.character < first.span.start.character) first = call;
  }
  return first;
}
