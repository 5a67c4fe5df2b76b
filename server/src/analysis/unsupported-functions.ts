// Why a decorated function of a file cannot run remotely (an `async def`, a method, a nested
// function, one defined in several branches or decorated with an instance made in several), so a run asked for by name is refused with the explanation `list` and the
// diagnostics give, rather than being told there is no such function. Pure: reads the analysis.
import type { FileAnalysis, Problem, ProblemCode } from './model.js';

const NOT_SUPPORTED: ReadonlySet<ProblemCode> = new Set(['async-not-supported', 'method-not-supported', 'nested-not-supported', 'function-ambiguous', 'instance-ambiguous']);

/**
 * The problem that keeps a function named `name` from running remotely, or undefined when the file
 * has a runnable decorated function of that name (it wins, as a run finds it first) or no
 * decorated function of that name at all.
 */
export function unsupportedFunction(analysis: FileAnalysis, name: string): Problem | undefined {
  if (analysis.functions.some((fn) => fn.name === name)) return undefined;
  return analysis.problems.find((problem) => problem.function === name && NOT_SUPPORTED.has(problem.code));
}
