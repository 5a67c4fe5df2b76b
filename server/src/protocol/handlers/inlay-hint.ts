// `textDocument/inlayHint`: after each call of a decorated function, the last result of exactly
// that call (`⇒ 3`, `⇒ ArtifactRef 1.2 GB (list)`), marked `(stale)` when the code changed since.
// A call with no result of its own (`fact(n - 1)` inside `fact`) shows nothing.
import type { InlayHint, InlayHintParams } from 'vscode-languageserver/node';
import { shortOutcome } from '../../engine/format.js';
import type { Session } from '../../session.js';
import { runTarget } from '../../workspace-index/run-target.js';
import { fromRange, spansTouch, toPosition } from '../convert.js';

export function inlayHint(session: Session, params: InlayHintParams): InlayHint[] {
  if (!session.settings.inlayHints.enable) return [];
  const analysis = session.analysisOf(params.textDocument.uri);
  const path = session.pathOf(params.textDocument.uri);
  if (!analysis || path === undefined) return [];
  const workspace = session.workspaceFor(path);
  const visible = fromRange(params.range);
  const hints: InlayHint[] = [];
  for (const call of analysis.calls) {
    if (!spansTouch(call.span, visible)) continue;
    const target = runTarget(analysis, call.function, path);
    const found = target ? workspace.resultAtCall(target.definedIn, target.fn.name, call, path, analysis) : undefined;
    if (!found || !target) continue;
    const { record, argsChanged } = found;
    const reasons = [argsChanged ? `the arguments changed since \`${call.function}(${record.args})\`` : undefined, workspace.staleness(path, analysis, target.fn, target.definedIn, record)].filter(Boolean);
    const hint: InlayHint = { position: toPosition(call.span.end), label: `⇒ ${shortOutcome(record, 40)}${reasons.length > 0 ? ' (stale)' : ''}`, paddingLeft: true };
    if (reasons.length > 0) hint.tooltip = `Stale: ${reasons.join('; ')}. Run this call again.`;
    hints.push(hint);
  }
  return hints;
}
