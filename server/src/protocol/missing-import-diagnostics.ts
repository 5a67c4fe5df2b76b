// Warnings on the import lines of third-party modules the cluster lacks (the check the server
// makes before each run), and their quick fix: add the module to `requirements.txt`.
import type { CodeAction, Diagnostic } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from './lsp-runtime.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
    if (imported.level > 0 || imported.within === undefined) continue;
    const top = imported.module.split('.')[0] ?? imported.module;
    if (!checked.get(imported.within)?.includes(top)) continue;
    const line = imported.at.line;
    diagnostics.push({
      range: { start: imported.at, end: { line, character: (lineOf(line) ?? '').replace(/\r$/, '').length } },
      severity: DiagnosticSeverity.Warning,
      source: 'choppa',
      code: MISSING_IMPORT,
      message: `\`${top}\` cannot be imported on ${where} (checked before the last run of ${imported.within}), and the requirements do not declare it: add it to requirements.txt, or install it on the cluster.`,
      data: { module: top },
    });
  }
  return diagnostics;
}

/** "Add `X` to requirements.txt" for each missing-import diagnostic the client sent back. */
export function addRequirementActions(session: Session, path: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const root = session.rootOf(path);
  if (root === null) return [];
  const file = join(root, 'requirements.txt');
  const uri = pathToUri(file);
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    const module = (diagnostic.data as { module?: unknown } | undefined)?.module;
    if (diagnostic.code !== MISSING_IMPORT || typeof module !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) continue;
    const exists = existsSync(file);
    const text = exists ? readFileSync(file, 'utf8') : '';
    const lines = text.split('\n');
    const last = lines.length - 1;
    const insert = `${text === '' || text.endsWith('\n') ? '' : '\n'}${module}\n`;
    const edit = { range: { start: { line: last, character: lines[last]?.length ?? 0 }, end: { line: last, character: lines[last]?.length ?? 0 } }, newText: insert };
    actions.push({
      title: `Add \`${module}\` to requirements.txt`,
      kind: 'quickfix',
      diagnostics: [diagnostic],
      edit: exists
        ? { changes: { [uri]: [edit] } }
        : { documentChanges: [{ kind: 'create', uri, options: { ignoreIfExists: true } }, { textDocument: { uri, version: null }, edits: [edit] }] },
    });
  }
  return actions;
}
