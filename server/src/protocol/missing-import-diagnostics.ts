// Warnings on the import lines of third-party modules the cluster lacks (the check the server
// makes before each run), and their quick fix: add the module where the project's requirements
// are read from (`choppa.requirementsFile`, `requirements.txt` or `[project] dependencies`).
import type { CodeAction, Diagnostic, Position, TextEdit } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from './lsp-runtime.js';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { distributionsOf } from '../bundle/distribution-names.js';
import { requirementsFolder, requirementsTarget } from '../bundle/requirements.js';
import { addDependency } from '../workspace-index/pyproject.js';
import type { FileAnalysis } from '../analysis/model.js';
import type { Session } from '../session.js';
import { pathToUri } from './convert.js';

export const MISSING_IMPORT = 'missing-import';

/** One Warning per import (inside a function that was checked) of a module found missing. */
export function missingImportDiagnostics(session: Session, path: string, analysis: FileAnalysis, lineOf: (line: number) => string | undefined): Diagnostic[] {
  const checked = session.missingImports.of(path);
  if (checked.size === 0) return [];
  const where = session.backendLabelFor(path);
  const diagnostics: Diagnostic[] = [];
  for (const imported of analysis.imports) {
    if (imported.level > 0 || imported.within === undefined || imported.optional) continue;
    const top = imported.module.split('.')[0] ?? imported.module;
    if (!checked.get(imported.within)?.includes(top)) continue;
    const line = imported.at.line;
    diagnostics.push({
      range: { start: imported.at, end: { line, character: (lineOf(line) ?? '').replace(/\r$/, '').length } },
      severity: DiagnosticSeverity.Warning,
      source: 'choppa',
      code: MISSING_IMPORT,
      message: `\`${top}\` cannot be imported on ${where} (checked before the last run of ${imported.within}), and the project's requirements do not declare it: add ${requirementFor(top) === top ? 'it' : `\`${requirementFor(top)}\``} to them (quick fix), or install it on the cluster.`,
      data: { module: top },
    });
  }
  return diagnostics;
}

/**
 * "Add `X` to <file>" for each missing-import diagnostic the client sent back, into the file the
 * requirements are read from; none when that is a `pyproject.toml` whose list cannot be edited
 * safely (a new `requirements.txt` would hide its dependencies from every run).
 */
export function addRequirementActions(session: Session, path: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const root = session.rootOf(path);
  if (root === null) return [];
  const target = requirementsTarget(requirementsFolder(path, root, session.settings.requirementsFile), session.settings.requirementsFile);
  const uri = pathToUri(target.path);
  const name = basename(target.path);
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    const module = (diagnostic.data as { module?: unknown } | undefined)?.module;
    if (diagnostic.code !== MISSING_IMPORT || typeof module !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) continue;
    const exists = existsSync(target.path);
    const text = exists ? readFileSync(target.path, 'utf8') : '';
    const requirement = requirementFor(module);
    const inserts = target.kind === 'pyproject' ? addDependency(text, requirement) : [{ offset: text.length, text: `${text === '' || text.endsWith('\n') ? '' : '\n'}${requirement}\n` }];
    if (!inserts) continue;
    const edits: TextEdit[] = inserts.map((insert) => {
      const at = positionAt(text, insert.offset);
      return { range: { start: at, end: at }, newText: insert.text };
    });
    actions.push({
      title: `Add \`${requirement}\` to ${name}`,
      kind: 'quickfix',
      diagnostics: [diagnostic],
      edit: exists
        ? { changes: { [uri]: edits } }
        : { documentChanges: [{ kind: 'create', uri, options: { ignoreIfExists: true } }, { textDocument: { uri, version: null }, edits }] },
    });
  }
  return actions;
}

/** What a requirement line names for the top-level module: its usual distribution (`scikit-learn` for `sklearn`). */
function requirementFor(module: string): string {
  return distributionsOf(module)[0] ?? module;
}

/** The LSP position (UTF-16 columns) of a string offset. */
function positionAt(text: string, offset: number): Position {
  let line = 0;
  let start = 0;
  for (let newline = text.indexOf('\n'); newline >= 0 && newline < offset; newline = text.indexOf('\n', newline + 1)) {
    line += 1;
    start = newline + 1;
  }
  return { line, character: offset - start };
}
