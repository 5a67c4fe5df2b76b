// Builds and publishes a document's diagnostics: the analysis problems (scope lint, unsupported
// forms) plus the last run of each decorated function (its summary, or the error at the line
// that raised, with the remote frames as related information).
import type { Diagnostic, DiagnosticRelatedInformation } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from './lsp-runtime.js';
import type { DecoratedFunction, Problem } from '../analysis/model.js';
import { missingImportDiagnostics } from './missing-import-diagnostics.js';
import { clusterDiagnostics } from './cluster-diagnostics.js';
import { errorText, summaryLine } from '../engine/format.js';
import { errorLine, type RunRecord } from '../engine/run-record.js';
import type { Session } from '../session.js';
import { toRange, toSeverity } from './convert.js';

export const SOURCE = 'choppa';

/**
 * Ranges of lines without their indentation, so the squiggle sits on the code. Lines are read from
 * the document's chunks through its line table (kept through edits): neither the whole text nor
 * a split of it per error and frame (500 stored errors must not re-split a 10,000-line document
 * 2,000 times on every keystroke).
 */
function lineRanges(lineOf: (line: number) => string | undefined): (line: number) => Diagnostic['range'] {
  return (line) => {
    const text = lineOf(line);
    if (text === undefined) return { start: { line, character: 0 }, end: { line, character: 0 } };
    const content = text.replace(/\r$/, '');
    const start = content.length - content.trimStart().length;
    return { start: { line, character: start }, end: { line, character: Math.max(content.length, start) } };
  };
}

export function problemDiagnostic(problem: Problem): Diagnostic {
  const diagnostic: Diagnostic = {
    range: toRange(problem.span),
    severity: toSeverity(problem.severity),
    source: SOURCE,
    code: problem.code,
    message: problem.message,
  };
  return diagnostic;
}

function runDiagnostic(fn: DecoratedFunction, record: RunRecord, lineRange: (line: number) => Diagnostic['range'], uri: string, stale: string | undefined, resultSeverity: DiagnosticSeverity): Diagnostic {
  // A result whose code version no longer matches says so: the word "stale" and what changed.
  const staleNote = stale === undefined ? '' : ` · stale: ${stale}; run it again`;
  if (record.status === 'cancelled') {
    return { range: toRange(fn.nameSpan), severity: DiagnosticSeverity.Hint, source: SOURCE, code: 'run-cancelled', message: `${fn.name}: run cancelled` };
  }
  if (!record.error) {
    return {
      range: toRange(fn.nameSpan),
      severity: resultSeverity,
      source: SOURCE,
      code: stale === undefined ? 'run-result' : 'run-result-stale',
      message: `${summaryLine(record)}${staleNote}`,
    };
  }
  const error = record.error;
  const lastLine = fn.span.end.line;
  const raw = errorLine(record, fn.defLine) ?? fn.defLine;
  // A stale record can point past the function after a large edit; keep it inside.
  const line = raw >= fn.defLine && raw <= lastLine ? raw : fn.defLine;
  const relatedInformation: DiagnosticRelatedInformation[] = error.frames.map((frame) => ({
    location: { uri, range: lineRange(Math.min(fn.defLine + frame.relativeLine, lastLine)) },
    message: `in ${frame.function}: ${frame.text}`,
  }));
  const where = error.origin === 'backend' ? '' : ` (raised remotely in ${fn.name} on ${record.backend})`;
  const diagnostic: Diagnostic = {
    range: error.relativeLine === undefined ? toRange(fn.nameSpan) : lineRange(line),
    severity: DiagnosticSeverity.Error,
    source: SOURCE,
    code: error.origin === 'backend' ? 'backend-error' : 'remote-error',
    message: `${errorText(error)}${where}${staleNote}`,
  };
  if (relatedInformation.length > 0) diagnostic.relatedInformation = relatedInformation;
  return diagnostic;
}

/** Every diagnostic of an open document, as it should be shown now. */
export function diagnosticsFor(session: Session, uri: string): Diagnostic[] {
  const document = session.documents.get(uri);
  if (!document) return [];
  const { analysis } = document;
  const lint = session.settings.scopeLint.enable;
  const diagnostics = analysis.problems
    .filter((problem) => lint || problem.code !== 'free-name')
    .map(problemDiagnostic);
  const path = session.pathOf(uri);
  if (path === undefined) return diagnostics;
  const workspace = session.workspaceFor(path);
  for (const instance of analysis.instances) {
    const problem = workspace.backends.problemFor(instance);
    if (problem === undefined) continue;
    diagnostics.push({ range: toRange(instance.callSpan), severity: DiagnosticSeverity.Warning, source: SOURCE, code: 'configuration', message: problem });
  }
  diagnostics.push(...missingImportDiagnostics(session, path, analysis, document.syntax.lines));
  diagnostics.push(...clusterDiagnostics(session, path, analysis, document.syntax.lines));
  const lineRange = lineRanges(document.syntax.lines);
  // A result is news, not a problem: Hint keeps it out of problem lists unless asked otherwise.
  const resultSeverity = session.settings.diagnostics.resultSeverity === 'information' ? DiagnosticSeverity.Information : DiagnosticSeverity.Hint;
  for (const fn of analysis.functions) {
    const submitted = workspace.pendingSubmission(path, fn.name);
    if (submitted) {
      const where = submitted.handle ? `run ${submitted.handle.runId}` : 'being submitted';
      const message = `${fn.name}: submitted job ${where} is ${submitted.state.toUpperCase()}${submitted.stateMessage ? `: ${submitted.stateMessage}` : ''}`;
      diagnostics.push({ range: toRange(fn.nameSpan), severity: DiagnosticSeverity.Hint, source: SOURCE, code: 'run-submitted', message });
    }
    const record = workspace.latestResult(path, fn.name);
    if (record) diagnostics.push(runDiagnostic(fn, record, lineRange, uri, workspace.staleness(path, analysis, fn, path, record), resultSeverity));
  }
  return diagnostics;
}

export function publishDiagnostics(session: Session, uri: string): void {
  const document = session.documents.get(uri);
  if (!document) return;
  void session.connection.sendDiagnostics({ uri, version: document.version, diagnostics: diagnosticsFor(session, uri) });
}

/**
 * Publishes the document a run or submit came from and every other open document that defines a
 * function of that name: a run from a call site in another file changes what the function's own
 * file shows at its `def` (its last result, its job in flight), which the hover already tells.
 */
export function publishAfterRun(session: Session, uri: string, functionName: string): void {
  publishDiagnostics(session, uri);
  for (const document of session.documents.all()) {
    if (document.uri !== uri && document.analysis.functions.some((fn) => fn.name === functionName)) publishDiagnostics(session, document.uri);
  }
}

const pendingOthers = new WeakMap<Session, NodeJS.Timeout>();
/** How long edits of one file must pause before other files' results are checked against it. */
const OTHERS_DELAY_MS = 250;

/**
 * Republishes the other open documents once edits of `uri` pause: a module shipped with their
 * functions may have changed, which makes their results stale (result identity counts the bundle).
 */
export function publishOthersSoon(session: Session, uri: string): void {
  const pending = pendingOthers.get(session);
  if (pending) clearTimeout(pending);
  const timer = setTimeout(() => {
    pendingOthers.delete(session);
    for (const other of session.documents.all()) {
      if (other.uri === uri) continue;
      try {
        publishDiagnostics(session, other.uri);
      } catch (error) {
        session.log(`choppa: publishing diagnostics for ${other.uri} failed: ${String(error)}`);
      }
    }
  }, OTHERS_DELAY_MS);
  timer.unref();
  pendingOthers.set(session, timer);
}
