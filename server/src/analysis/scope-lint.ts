// The Choppa scope rule: only the function and its arguments reach the cluster, so a free name
// that refers to a module-level import, global or sibling definition fails remotely. Each use
// becomes a warning with quick fixes (add a parameter, move the import into the function).

import type { DecoratedFunction, Fix, Problem, TextEdit } from './model.js';
import type { FunctionCandidate } from './decorated-functions.js';
import type { ImportClause } from './imports.js';
import { NOTEBOOK_GLOBALS, PYTHON_BUILTINS } from './builtins.js';
import { comparePos } from './positions.js';

/** What a module-level name is, strongest first when a name is bound several ways. */
export type ModuleNameKind = 'instance' | 'import' | 'function' | 'class' | 'global';

/** What the lint needs to know about the rest of the module. */
export interface ModuleContext {
  kindOf(name: string): ModuleNameKind | undefined;
  /** The first module-level import clause that binds `name`. */
  importOf(name: string): ImportClause | undefined;
  /** True when code outside `candidate` still uses `name`, so its import must stay. */
  usedElsewhere(name: string, candidate: FunctionCandidate): boolean;
  /** The edit that removes an import clause, made line-aware against the document text. */
  removalEdit(clause: ImportClause): TextEdit;
}

/** The `free-name` problems of one decorated function, one per use, with their quick fixes. */
export function lintFunction(fn: DecoratedFunction, candidate: FunctionCandidate, context: ModuleContext): Problem[] {
  const problems: Problem[] = [];
  const fixesByName = new Map<string, Fix[]>();
  for (const use of candidate.free) {
    const name = use.name;
    if (PYTHON_BUILTINS.has(name) || NOTEBOOK_GLOBALS.has(name)) continue;
    const kind = context.kindOf(name);
    if (!kind) continue;
    // A use in a parameter default is evaluated when the `def` runs, before the body and
    // before any argument: neither a parameter nor an import in the body would help it.
    const insert = candidate.bodyInsert;
    const inDefault = insert !== undefined && comparePos(use.span.start, insert.pos) < 0;
    const key = inDefault ? `${name}\u0000default` : name;
    let fixes = fixesByName.get(key);
    if (!fixes) {
      fixes = inDefault ? [] : fixesFor(name, kind, fn, candidate, context);
      fixesByName.set(key, fixes);
    }
    problems.push({
      code: 'free-name',
      severity: 'warning',
      message: messageFor(name, kind, fn.name),
      span: use.span,
      function: fn.name,
      fixes,
    });
  }
  return problems;
}

function messageFor(name: string, kind: ModuleNameKind, fn: string): string {
  const missing = 'it does not exist on the cluster.';
  switch (kind) {
    case 'import':
      return `\`${name}\` is a module-level import: ${missing} Move the import into \`${fn}\` or pass it as a parameter.`;
    case 'instance':
      return `\`${name}\` is the Choppa instance, defined at module level: ${missing} Only \`${fn}\` and its arguments reach the cluster.`;
    case 'function':
      return `\`${name}\` is a function defined beside \`${fn}\`: ${missing} Define it inside \`${fn}\` or pass what it computes as a parameter.`;
    case 'class':
      return `\`${name}\` is a class defined beside \`${fn}\`: ${missing} Define it inside \`${fn}\` or pass an instance as a parameter.`;
    case 'global':
      return `\`${name}\` is a module-level global: ${missing} Pass it to \`${fn}\` as a parameter.`;
  }
}

function fixesFor(
  name: string,
  kind: ModuleNameKind,
  fn: DecoratedFunction,
  candidate: FunctionCandidate,
  context: ModuleContext,
): Fix[] {
  const fixes: Fix[] = [];
  const param = candidate.paramInsert;
  if (param) {
    fixes.push({
      title: `Add \`${name}\` as a parameter of \`${fn.name}\``,
      edits: [{ span: { start: param.pos, end: param.pos }, newText: param.before + name + param.after }],
    });
  }
  const clause = kind === 'import' ? context.importOf(name) : undefined;
  const insert = candidate.bodyInsert;
  if (clause && insert) {
    const edits: TextEdit[] = [
      { span: { start: insert.pos, end: insert.pos }, newText: insert.before + clause.statementText + insert.after },
    ];
    // The module-level import goes only when nothing else in the file uses the name: other
    // functions, module code or annotations evaluated locally would break without it.
    const keep = context.usedElsewhere(name, candidate);
    if (!keep) edits.push(context.removalEdit(clause));
    fixes.push({
      title: keep
        ? `Copy \`${clause.statementText}\` into \`${fn.name}\` (still used elsewhere)`
        : `Move \`${clause.statementText}\` into \`${fn.name}\``,
      edits,
    });
  }
  // Moving an import keeps callers working; otherwise adding a parameter is the one fix.
  const preferred = fixes[fixes.length - 1];
  if (preferred) preferred.preferred = true;
  return fixes;
}
