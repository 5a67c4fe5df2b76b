// `textDocument/hover`: on a decorated function, its decorator or a call of it, the last
// result; on a `Choppa(...)` instance, what the analysis read from it.
import type { Hover, HoverParams, MarkupContent } from 'vscode-languageserver/node';
import { callAt, functionAt, instanceAt } from '../../analysis/analyze.js';
import { functionHover, instanceHover } from '../../engine/hover-text.js';
import { markdownToPlainText } from '../../engine/plain-text.js';
import type { Session } from '../../session.js';
import { fromPosition, toRange } from '../convert.js';

/** Markdown, or plain text when the client lists plaintext first or no markdown at all. */
function contents(session: Session, markdown: string): MarkupContent {
  const formats = session.capabilities.textDocument?.hover?.contentFormat;
  const plain = formats !== undefined && formats.length > 0 && (formats[0] === 'plaintext' || !formats.includes('markdown'));
  return plain ? { kind: 'plaintext', value: markdownToPlainText(markdown) } : { kind: 'markdown', value: markdown };
}

export function hover(session: Session, params: HoverParams): Hover | null {
  const analysis = session.analysisOf(params.textDocument.uri);
  const path = session.pathOf(params.textDocument.uri);
  if (!analysis || path === undefined) return null;
  const pos = fromPosition(params.position);
  const workspace = session.workspaceFor(path);
  const call = callAt(analysis, pos);
  const fn = call ? analysis.functions.find((candidate) => candidate.name === call.function) : functionAt(analysis, pos);
  if (fn) {
    const value = functionHover(fn, workspace.lastResult(path, fn.name), { besideDiagnostic: !call });
    return { contents: contents(session, value), range: toRange(call ? call.nameSpan : fn.nameSpan) };
  }
  const instance = instanceAt(analysis, pos);
  if (instance) {
    const value = instanceHover(instance, {
      runsGoTo: workspace.backends.labelFor(instance),
      problem: workspace.backends.problemFor(instance),
      configuration: workspace.backends.describe(),
    });
    return { contents: contents(session, value), range: toRange(instance.callSpan) };
  }
  return null;
}
