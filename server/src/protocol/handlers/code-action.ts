// `textDocument/codeAction`: the run commands at a decorated function or a call site, and the
// scope-lint quick fixes for problems under the cursor.
import type { CodeAction, CodeActionParams } from 'vscode-languageserver/node';
import { CodeActionKind } from '../lsp-runtime.js';
import { functionAt } from '../../analysis/analyze.js';
import { callAtOrOnLine } from '../../analysis/line-targets.js';
import type { Session } from '../../session.js';
import { fromPosition, fromRange, pathToUri, spansTouch, toTextEdit } from '../convert.js';
import { problemDiagnostic } from '../diagnostics.js';
import { runCommands } from '../run-commands.js';
import { addRequirementActions } from '../missing-import-diagnostics.js';
import { runTarget } from '../../workspace-index/run-target.js';
import { clusterActions } from '../cluster-actions.js';

export function codeAction(session: Session, params: CodeActionParams): CodeAction[] | Promise<CodeAction[]> {
  const uri = params.textDocument.uri;
  const analysis = session.analysisOf(uri);
  const path = session.pathOf(uri);
  if (!analysis || path === undefined) return [];
  const only = params.context.only;
  const wants = (kind: string): boolean => !only || only.some((prefix) => kind === prefix || kind.startsWith(`${prefix}.`));
  const actions: CodeAction[] = [];
  const range = fromRange(params.range);
  if (wants(CodeActionKind.QuickFix)) {
    actions.push(...addRequirementActions(session, path, params.context.diagnostics));
    for (const problem of analysis.problems) {
      if (!spansTouch(problem.span, range)) continue;
      for (const fix of problem.fixes) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [problemDiagnostic(problem)],
          isPreferred: fix.preferred === true,
          edit: { changes: { [uri]: fix.edits.map(toTextEdit) } },
        });
      }
    }
  }
  // Run actions carry no kind so every client lists them with the other actions; they are
  // left out when the client asks for specific kinds only (e.g. source actions on save).
  if (!only) {
    const pos = fromPosition(params.range.start);
    const call = callAtOrOnLine(analysis, pos);
    // A call site may call a function defined in another module; its results live there.
    const target = call ? runTarget(analysis, call.function, path) : undefined;
    const fn = call ? target?.fn : functionAt(analysis, pos);
    if (fn) {
      const definedIn = target?.definedIn ?? path;
      const context = session.runContext(definedIn, fn, analysis, call, path);
      for (const command of runCommands(uri, fn, context, call, definedIn === path ? uri : pathToUri(definedIn))) actions.push({ title: command.title, command });
    }
    // On a `Choppa(...)` line: the cluster's operations and a "Use cluster" per running cluster.
    const onCluster = clusterActions(session, params, analysis, path);
    if (onCluster) return onCluster.then((more) => [...actions, ...more]);
  }
  return actions;
}
