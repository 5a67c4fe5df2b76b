// A run that fails importing a third-party module its function never imports: a module-level
// import of a project module that ships with it does (`from choppa import Choppa` in the
// `cluster.py` a package's `__init__.py` re-exports). Python names only the module; this says
// which shipped file imports it, so the fix (a requirement, or moving the import) is findable.
import type { WorkspaceIndex } from '../workspace-index/workspace-index.js';
import type { CodePlan } from './code-plan.js';

/**
 * Where a shipped project module imports the module a `ModuleNotFoundError` names, as
 * `[file, 1-based line]` with the file as `display` shows it, or undefined when none does (the
 * function imports it itself, or it is not third-party).
 */
export function missingModuleOrigin(
  index: WorkspaceIndex | undefined,
  code: CodePlan,
  error: { type: string; message: string },
  display: (path: string) => string,
): { file: string; line: number; module: string } | undefined {
  if (!index || error.type !== 'ModuleNotFoundError') return undefined;
  const named = /^No module named '([^']+)'/.exec(error.message)?.[1];
  const top = named?.split('.')[0];
  if (!top || index.hasModule(top)) return undefined;
  for (const file of code.bundle?.files ?? []) {
    const imported = index.rawAnalysis(file.source)?.imports.find((clause) => clause.level === 0 && clause.moduleLevel && clause.module.split('.')[0] === top);
    if (imported) return { file: display(file.source), line: imported.at.line + 1, module: top };
  }
  return undefined;
}
