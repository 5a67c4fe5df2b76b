// `textDocument/hover`: on a decorated function, its decorator or a call of it, the last
// result; on a `Choppa(...)` instance, what the analysis read from it.
import type { Hover, HoverParams } from 'vscode-languageserver/node';
import { callAt, functionAt, instanceAt } from '../../analysis/analyze.js';
import { functionHover, instanceHover } from '../../engine/hover-text.js';
import type { Session } from '../../session.js';
import { fromPosition, toRange } from '../convert.js';

export function hover(session: Session, params: HoverParams): Hover | null {
  const analysis = session.analysisOf(params.textDocument.uri);
  const path = session.pathOf(params.textDocument.uri);
  if (!analysis || path === undefined) return null;
  const pos = fromPosition(params.position);
  const workspace = session.workspaceFor(path);
  const call = callAt(analysis, pos);
  const fn = call ? analysis.functions.find((candidate) => candidate.name === call.function) : functionAt(analysis, pos);
  if (fn) {
    // On a call, that call's result; on the function, its newest result of any call.
    const found = call ? workspace.resultAtCall(path, call) : undefined;
    const record = call ? found?.record : workspace.latestResult(path, fn.name);
    const reasons = [found?.argsChanged ? 'the arguments of this call changed' : undefined, record ? workspace.staleness(path, analysis, fn, record) : undefined].filter(Boolean);
    const history = record ? workspace.history(path, fn.name, record.call ?? record.args.trim()) : [];
    const value = functionHover(fn, record, { ...(reasons.length > 0 ? { stale: reasons.join('; ') } : {}), history });
    return { contents: { kind: 'markdown', value }, range: toRange(call ? call.nameSpan : fn.nameSpan) };
  }
  const instance = instanceAt(analysis, pos);
  if (instance) {
    const value = instanceHover(instance, {
      runsGoTo: workspace.backends.labelFor(instance),
      problem: workspace.backends.problemFor(instance),
      configuration: workspace.backends.describe(),
    });
    return { contents: { kind: 'markdown', value }, range: toRange(instance.callSpan) };
  }
  return null;
}
