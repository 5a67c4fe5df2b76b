// Decides what arguments a run gets (DESIGN §8): the call site's, else the client's, else none
// when every parameter has a default. A name bound earlier in the file to a call of a decorated
// function becomes exactly that call's result (by value when small, by ref), a name bound to a
// module literal its value; anything else is refused with a message that names it.
import type { ArgRef } from '../backends/backend.js';
import type { Binding, CallArgument, DecoratedFunction, Pos } from '../analysis/model.js';
import { bindingAt, bindingOrdinal, competingBinding } from './call-identity.js';
import type { InputStamp } from './result-identity.js';
import type { RunRecord } from './run-record.js';
import { mayFeed, samePlace } from './result-place.js';
import { clip } from './format.js';

export type ArgumentPlan =
  | {
      ok: true;
      argsSource: string;
      argsRefs: Record<string, ArgRef>;
      argsValues: Record<string, string>;
      argsLiterals: Record<string, string>;
      /** What each named argument meant: part of the run's code version. */
      inputs: Record<string, InputStamp>;
    }
  | { ok: false; message: string; missing?: string[] };

/** The call a name is bound to, as the store has it now. */
export interface Upstream {
  /** The producer's function key in the store. */
  fnKey: string;
  /** The identity of the call the binding names (`call-identity.ts`). */
  call: string;
  /** Its latest record for exactly that call, if any. */
  record: RunRecord | undefined;
  /** Why that record no longer matches the code, if it does not. */
  stale: string | undefined;
}

export interface ArgumentContext {
  fn: DecoratedFunction;
  bindings: Binding[];
  /** Where the arguments are written: names bound after this point do not count. */
  position: Pos | undefined;
  /** The result of the call a binding names (`big = load(1000)`), never another call's. */
  upstream: (binding: Binding & { callOf: string }) => Upstream;
  /** Where this run goes (its backend's label), when known: results made elsewhere are refused. */
  runsOn?: string;
}

/** `load(1000)` at line 3: how a message names the call a binding is bound to. */
export function callLabel(binding: Binding & { callOf: string }): string {
  const args = binding.call?.argsSource ?? '…';
  const text = clip(args, 40);
  return `${binding.callOf}(${text.replace(/\s+/g, ' ')}) at line ${(binding.call?.span.start.line ?? binding.span.start.line) + 1}`;
}

/** The parameters a run must be given because they have no default. */
export function requiredParameters(fn: DecoratedFunction): string[] {
  return fn.params
    .filter((param) => !param.hasDefault && (param.kind === 'positional' || param.kind === 'keyword'))
    .map((param) => param.name);
}

/**
 * Resolves arguments already split into `args` (from a call site or from client text parsed
 * the same way). A bare name must be bound to a module literal (passed by value) or to a call
 * of a decorated function that has a current result: exactly that call's result, by value when
 * it is small, as a ref when it is one. Literals are left for the runner, which accepts literals
 * only. When in doubt the plan refuses: passing another call's data would be silently wrong.
 */
export function planArguments(args: readonly CallArgument[], source: string, context: ArgumentContext): ArgumentPlan {
  const argsRefs: Record<string, ArgRef> = {};
  const argsValues: Record<string, string> = {};
  const argsLiterals: Record<string, string> = {};
  const inputs: Record<string, InputStamp> = {};
  for (const arg of args) {
    const name = arg.identifier;
    if (name === undefined) continue;
    const binding = bindingAt(context.bindings, name, context.position);
    const competing = binding && competingBinding(context.bindings, binding, context.position);
    if (binding && competing) {
      return {
        ok: false,
        message:
          `\`${name}\` is assigned at line ${binding.span.start.line + 1} in a block that may not run (an \`if\`, a loop or an \`except\`), and at line ${competing.span.start.line + 1} before it: ` +
          'which value it holds here is decided when the module runs. Assign it once before this call, or pass a literal.',
      };
    }
    if (binding?.literal !== undefined) {
      argsLiterals[name] = binding.literal;
      inputs[name] = { kind: 'literal', text: binding.literal, binding: bindingOrdinal(context.bindings, binding) };
      continue;
    }
    if (binding?.callOf === undefined) {
      return {
        ok: false,
        message:
          `Argument \`${name}\` of \`${context.fn.name}\` is neither a literal, a module constant, nor the result of another remote call. ` +
          'Only the function and its arguments reach the cluster: pass a literal, or bind the name to a call of a decorated function first.',
      };
    }
    const bound = binding as Binding & { callOf: string };
    const label = callLabel(bound);
    const upstream = context.upstream(bound);
    const record = upstream.record;
    if (record === undefined) {
      return { ok: false, message: `\`${name}\` is bound to \`${label}\`, which has no result yet: run that call first.` };
    }
    if (record.status !== 'ok') {
      const how = record.status === 'cancelled' ? 'was cancelled' : `raised ${record.error?.type ?? 'an error'}`;
      return { ok: false, message: `\`${name}\` is bound to \`${label}\`, whose last run ${how}: run that call again first.` };
    }
    if (upstream.stale !== undefined) {
      return { ok: false, message: `\`${name}\` is bound to \`${label}\`, whose result is stale (${upstream.stale}): run that call again first.` };
    }
    const byRunId = !record.ref && record.value?.pickle === undefined;
    if (context.runsOn !== undefined && !(byRunId ? samePlace : mayFeed)(record.backend, context.runsOn)) {
      // Data made elsewhere (locally, say, before a workspace was configured) would pass for this
      // backend's; a value kept only in another process's memory is not there at all.
      const where = byRunId ? `is held only by ${record.backend}'s Python` : `was made on ${record.backend}`;
      return {
        ok: false,
        message: `\`${name}\` is bound to \`${label}\`, whose result ${where}, and this run goes to ${context.runsOn}: run that call there first.`,
      };
    }
    const runId = record.cached?.from ?? record.runId;
    if (record.ref) argsRefs[name] = { path: record.ref.path };
    else if (!byRunId) argsValues[name] = record.value!.pickle!;
    else argsRefs[name] = { run_id: runId, call: label };
    inputs[name] = { kind: 'result', function: upstream.fnKey, call: upstream.call, runId, label, binding: bindingOrdinal(context.bindings, binding) };
  }
  return { ok: true, argsSource: source, argsRefs, argsValues, argsLiterals, inputs };
}

/** The plan when no arguments were written anywhere: fine only if every parameter has a default. */
export function planWithoutArguments(fn: DecoratedFunction): ArgumentPlan {
  const missing = requiredParameters(fn);
  if (missing.length === 0) return { ok: true, argsSource: '', argsRefs: {}, argsValues: {}, argsLiterals: {}, inputs: {} };
  const names = missing.map((name) => `\`${name}\``).join(', ');
  return {
    ok: false,
    missing,
    message: `\`${fn.name}\` needs arguments for ${names}. Run it from a call site, or pass them with the command (\`args\`, e.g. "${missing.map(() => '…').join(', ')}").`,
  };
}
