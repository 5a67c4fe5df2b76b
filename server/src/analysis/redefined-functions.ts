// A decorated function defined again further down its module: Python binds the name to the last
// `def`, so importers and the calls after it run that one. A run by name must ship the last; the
// earlier ones get a Warning instead of run actions. Pure.
import type { FunctionCandidate } from './decorated-functions.js';
import type { Problem } from './model.js';

/**
 * The module-level candidates a later top-level definition of the same name replaces, each with a
 * Warning on its name. Only top-level statements count (a `def` at column 0): two definitions in
 * the branches of an `if` are a choice made at run time, not a redefinition.
 */
export function redefinedFunctions(candidates: readonly FunctionCandidate[]): { replaced: ReadonlySet<FunctionCandidate>; problems: Problem[] } {
  const last = new Map<string, FunctionCandidate>();
  let topLevel = 0;
  for (const candidate of candidates) {
    if (!isTopLevel(candidate)) continue;
    topLevel += 1;
    last.set(candidate.name, candidate);
  }
  const replaced = new Set<FunctionCandidate>();
  const problems: Problem[] = [];
  if (last.size === topLevel) return { replaced, problems };
  for (const candidate of candidates) {
    const kept = last.get(candidate.name);
    if (!isTopLevel(candidate) || kept === undefined || kept === candidate) continue;
    replaced.add(candidate);
    problems.push({
      code: 'function-redefined',
      severity: 'warning',
      span: candidate.nameSpan,
      function: candidate.name,
      fixes: [],
      message: `\`${candidate.name}\` is defined again at line ${kept.defStart.line + 1}: from there on, and in every module that imports it, Python calls that definition, so choppa runs only that one. Rename one of them to run both.`,
    });
  }
  return { replaced, problems };
}

function isTopLevel(candidate: FunctionCandidate): boolean {
  return candidate.scope.kind === 'module' && candidate.span.start.character === 0;
}
