// `textDocument/hover`: on a decorated function, its decorator or a call of it, the last
// result; on a `Choppa(...)` instance, what the analysis read from it.
import type { Hover, HoverParams, MarkupContent } from 'vscode-languageserver/node';
import { callAt, functionAt, instanceAt } from '../../analysis/analyze.js';
import { functionHover, instanceHover } from '../../engine/hover-text.js';
import { markdownToPlainText } from '../../engine/plain-text.js';
import type { Session } from '../../session.js';
import { runTarget } from '../../workspace-index/run-target.js';
import type { DecoratedFunction, FileAnalysis } from '../../analysis/model.js';
import { buildBundle } from '../../bundle/code-bundle.js';
import { describeBundle } from '../../bundle/describe-bundle.js';
import { DEFAULT_ARTIFACT_DIR } from '../../engine/workspace.js';
import { fromPosition, toRange } from '../convert.js';
import { clusterIdHover } from '../cluster-hover.js';

/** Markdown, or plain text when the client lists plaintext first or no markdown at all. */
function contents(session: Session, markdown: string): MarkupContent {
  const formats = session.capabilities.textDocument?.hover?.contentFormat;
  const plain = formats !== undefined && formats.length > 0 && (formats[0] === 'plaintext' || !formats.includes('markdown'));
  return plain ? { kind: 'plaintext', value: markdownToPlainText(markdown) } : { kind: 'markdown', value: markdown };
}

export function hover(session: Session, params: HoverParams): Hover | null | Promise<Hover | null> {
  const analysis = session.analysisOf(params.textDocument.uri);
  const path = session.pathOf(params.textDocument.uri);
  if (!analysis || path === undefined) return null;
  const onClusterId = clusterIdHover(session, params, analysis, path);
  if (onClusterId) return onClusterId;
  const pos = fromPosition(params.position);
  const workspace = session.workspaceFor(path);
  const call = callAt(analysis, pos);
  const target = call ? runTarget(analysis, call.function, path) : undefined;
  const fn = call ? target?.fn : functionAt(analysis, pos);
  if (fn) {
    // On a call, that call's result; on the function, its newest result of any call. Results of
    // an imported function live under the file that defines it.
    const definedIn = target?.definedIn ?? path;
    const found = call ? workspace.resultAtCall(definedIn, fn.name, call, path, analysis) : undefined;
    const record = call ? found?.record : workspace.latestResult(definedIn, fn.name);
    const reasons = [found?.argsChanged ? 'the arguments of this call changed' : undefined, record ? workspace.staleness(path, analysis, fn, definedIn, record) : undefined].filter(Boolean);
    const history = record ? workspace.history(definedIn, fn.name, record.call ?? record.args.trim()) : [];
    const shipped = shippedWith(session, analysis, definedIn, fn);
    const text = functionHover(fn, record, { besideDiagnostic: !call, ...(reasons.length > 0 ? { stale: reasons.join('; ') } : {}), history });
    return { contents: contents(session, `${text}\n\n${shipped.join('\n')}`), range: toRange(call ? call.nameSpan : fn.nameSpan) };
  }
  const instance = instanceAt(analysis, pos);
  if (instance) {
    const value = instanceHover(instance, {
      runsGoTo: workspace.backends.labelFor(instance),
      artifactsGoTo: workspace.artifactsGoTo(instance),
      problem: workspace.backends.problemFor(instance),
      configuration: workspace.backends.describe(),
    });
    return { contents: contents(session, value), range: toRange(instance.callSpan) };
  }
  return null;
}

// What a run of `fn` would ship now (the same bundle the run builds).
function shippedWith(session: Session, analysis: FileAnalysis, definedIn: string, fn: DecoratedFunction): string[] {
  const artifactDir = runTarget(analysis, fn.name, definedIn)?.instance?.artifactDir ?? DEFAULT_ARTIFACT_DIR;
  return describeBundle(fn.name, buildBundle(session.index, definedIn, fn.name, artifactDir), session.rootOf(definedIn) ?? undefined);
}
