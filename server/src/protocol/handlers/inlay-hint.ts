// `textDocument/inlayHint`: after each call of a decorated function, its last result
// (`⇒ 3`, `⇒ ArtifactRef 1.2 GB (list)`).
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
    const record = workspace.lastResult(runTarget(analysis, call.function, path)?.definedIn ?? path, call.function);
    if (!record) continue;
    hints.push({ position: toPosition(call.span.end), label: `⇒ ${shortOutcome(record, 40)}`, paddingLeft: true });
  }
  return hints;
}
