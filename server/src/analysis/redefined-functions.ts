// A decorated function defined more than once in its module. Defined again further down, Python
// binds the name to the last `def`, so importers and the calls after it run that one: a run by name
// ships the last, and the earlier ones get a Warning instead of run actions. Defined in branches
// (`if`/`else`, `try`), which one the module binds is decided when it runs: none is run. Pure.
import type { FunctionCandidate } from './decorated-functions.js';
import type { Problem } from './model.js';

/** The module-level candidates that are not the function their name means, each with a Warning on its name. */
export function redefinedFunctions(candidates: readonly FunctionCandidate[]): { replaced: ReadonlySet<FunctionCandidate>; problems: Problem[] } {
  const byName = new Map<string, FunctionCandidate[]>();
  let moduleLevel = 0;
  for (const candidate of candidates) {
    if (candidate.scope.kind !== 'module') continue;
    moduleLevel += 1;
    const same = byName.get(candidate.name);
    if (same) same.push(candidate);
    else byName.set(candidate.name, [candidate]);
  }
  const replaced = new Set<FunctionCandidate>();
  const problems: Problem[] = [];
  if (byName.size === moduleLevel) return { replaced, problems };
  for (const [name, definitions] of byName) {
    if (definitions.length < 2) continue;
    const last = definitions[definitions.length - 1]!;
    const inBranches = definitions.some((definition) => !isTopLevel(definition));
    for (const definition of inBranches ? definitions : definitions.slice(0, -1)) {
      replaced.add(definition);
      problems.push({
        code: inBranches ? 'function-ambiguous' : 'function-redefined',
        severity: 'warning',
        span: definition.nameSpan,
        function: name,
        fixes: [],
        message: inBranches
          ? `\`${name}\` is defined ${definitions.length} times in this module, not all at the top level: which definition the module binds is decided when it runs, so choppa runs none of them. Give each its own name.`
          : `\`${name}\` is defined again at line ${last.defStart.line + 1}: from there on, and in every module that imports it, Python calls that definition, so choppa runs only that one. Rename one of them to run both.`,
      });
    }
  }
  return { replaced, problems };
}

// A `def` (or its decorator) at column 0 is a statement of its own; an indented one at module scope
// is in a branch (`if`, `try`, `with`).
function isTopLevel(candidate: FunctionCandidate): boolean {
  return candidate.span.start.character === 0;
}
