// A run that failed importing a module of the project which did not ship with it says why: only
// the modules a function imports with an import statement in its body ship (the bundle reads
// them from the source, and `importlib.import_module` with a literal name), so a module named at
// run time (`importlib.import_module("pkg." + kind)`) finds nothing where it runs.
import type { RunOutcome } from '../backends/backend.js';

/**
 * The outcome, with a `ModuleNotFoundError` for a project module that `shipped` lacks explained;
 * any other outcome as it is.
 */
export function explainUnshippedModule(outcome: RunOutcome, isProjectModule: (name: string) => boolean, shipped: readonly string[]): RunOutcome {
  if (outcome.status !== 'error' || outcome.error.type !== 'ModuleNotFoundError') return outcome;
  const name = /^No module named '([\w.]+)'/.exec(outcome.error.message)?.[1];
  if (name === undefined || shipped.includes(name) || !isProjectModule(name)) return outcome;
  // The runner already said so, when the module's package shipped without it.
  if (outcome.error.message.includes('is not among the project modules shipped')) return outcome;
  const message = `${outcome.error.message}: ${name} is a module of this project, but only the project modules a function imports with an import statement in its body ship with it (a module named at run time, such as importlib.import_module(name), is not seen); import what it needs with an import statement in the function (\`import ${name}…\` or \`from ${name} import …\`)`;
  return { ...outcome, error: { ...outcome.error, message } };
}
