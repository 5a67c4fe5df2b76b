// Decides what arguments a run gets (DESIGN §8): the call site's, else the client's, else none
// when every parameter has a default. Names bound earlier in the file to another remote call's
// result become references the runner resolves where the function runs.
import type { ArgRef } from '../backends/backend.js';
import type { Binding, CallArgument, DecoratedFunction, Pos } from '../analysis/model.js';
import type { RunRecord } from './run-record.js';

export type ArgumentPlan =
  | { ok: true; argsSource: string; argsRefs: Record<string, ArgRef> }
  | { ok: false; message: string; missing?: string[] };

export interface ArgumentContext {
  fn: DecoratedFunction;
  bindings: Binding[];
  /** Where the arguments are written: names bound after this point do not count. */
  position: Pos | undefined;
  /** The last result of a function of this file, by name. */
  lastResult: (functionName: string) => RunRecord | undefined;
}

function before(a: Pos, b: Pos): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** The binding of `name` in effect at `position` (the last one before it, or the last one). */
function bindingAt(bindings: Binding[], name: string, position: Pos | undefined): Binding | undefined {
  let found: Binding | undefined;
  for (const binding of bindings) {
    if (binding.name !== name) continue;
    if (position && !before(binding.span.start, position)) break;
    found = binding;
  }
  return found;
}

/** The parameters a run must be given because they have no default. */
export function requiredParameters(fn: DecoratedFunction): string[] {
  return fn.params
    .filter((param) => !param.hasDefault && (param.kind === 'positional' || param.kind === 'keyword'))
    .map((param) => param.name);
}

/**
 * Resolves arguments already split into `args` (from a call site or from client text parsed
 * the same way). Every bare name must be bound to the result of another remote call that has
 * a result; literals are left for the runner, which accepts literals only.
 */
export function planArguments(args: CallArgument[], source: string, context: ArgumentContext): ArgumentPlan {
  const argsRefs: Record<string, ArgRef> = {};
  for (const arg of args) {
    const name = arg.identifier;
    if (name === undefined) continue;
    const binding = bindingAt(context.bindings, name, context.position);
    if (binding?.callOf === undefined) {
      return {
        ok: false,
        message:
          `Argument \`${name}\` of \`${context.fn.name}\` is neither a literal nor the result of another remote call. ` +
          'Only the function and its arguments reach the cluster: pass a literal, or bind the name to a call of a decorated function first.',
      };
    }
    const producer = binding.callOf;
    const record = context.lastResult(producer);
    if (record === undefined || record.status !== 'ok') {
      return {
        ok: false,
        message: `\`${name}\` is the result of \`${producer}\`, which has no result yet: run \`${producer}\` first.`,
      };
    }
    argsRefs[name] = record.ref ? { path: record.ref.path } : { run_id: record.runId };
  }
  return { ok: true, argsSource: source, argsRefs };
}

/** The plan when no arguments were written anywhere: fine only if every parameter has a default. */
export function planWithoutArguments(fn: DecoratedFunction): ArgumentPlan {
  const missing = requiredParameters(fn);
  if (missing.length === 0) return { ok: true, argsSource: '', argsRefs: {} };
  const names = missing.map((name) => `\`${name}\``).join(', ');
  return {
    ok: false,
    missing,
    message: `\`${fn.name}\` needs arguments for ${names}. Run it from a call site, or pass them with the command (\`args\`, e.g. "${missing.map(() => '…').join(', ')}").`,
  };
}
