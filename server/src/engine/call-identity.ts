// Which call a result belongs to. Two calls written alike are still two calls when a name among
// their arguments reads a different assignment: `show(N)` after `N = 1` and after `N = 2`, or
// `count(data)` after `data = load(3)` and after `data = load(5)`. So a call's identity is its
// arguments as written plus, for each bare name, which of the calling file's assignments of it
// the call reads (`N#2`: the second `N = ...` of that file) and the calling file itself.
import type { Binding, Pos } from '../analysis/model.js';

function notAfter(a: Pos, b: Pos): boolean {
  return a.line < b.line || (a.line === b.line && a.character <= b.character);
}

/**
 * The assignments of each name in document order, worked out once per analysis (identities are
 * asked for every call a hint, lens or diagnostic shows, on files with thousands of assignments).
 */
const byName = new WeakMap<readonly Binding[], Map<string, Binding[]>>();

function assignmentsOf(bindings: readonly Binding[], name: string): readonly Binding[] {
  let names = byName.get(bindings);
  if (!names) {
    names = new Map();
    for (const binding of bindings) {
      const list = names.get(binding.name);
      if (list) list.push(binding);
      else names.set(binding.name, [binding]);
    }
    byName.set(bindings, names);
  }
  return names.get(name) ?? [];
}

/**
 * The assignment of `name` in effect at `position`: the last one whose statement has ended by
 * then (in `df = double(df)` the argument still reads the `df` before it), or the file's last
 * when there is no position (arguments given as text run as if after the whole module).
 */
export function bindingAt(bindings: readonly Binding[], name: string, position: Pos | undefined): Binding | undefined {
  const list = assignmentsOf(bindings, name);
  if (!position) return list.at(-1);
  let found: Binding | undefined;
  for (const binding of list) {
    if (!notAfter(binding.span.end, position)) break;
    found = binding;
  }
  return found;
}

/**
 * The assignment before `binding` that a run of the module may have kept instead, when `binding`
 * is in a clause block that may not run (`if DEBUG: df = load(100)`) and the call at `position`
 * is not inside that block: which of the two the name holds is decided when the module runs.
 */
export function competingBinding(bindings: readonly Binding[], binding: Binding, position: Pos | undefined): Binding | undefined {
  const branch = binding.branch;
  if (!branch || (position && notAfter(branch.start, position) && notAfter(position, branch.end))) return undefined;
  const list = assignmentsOf(bindings, binding.name);
  const index = list.indexOf(binding);
  return index > 0 ? list[index - 1] : undefined;
}

/** Which assignment of its name `binding` is, counting from 1 in document order (0: none of them). */
export function bindingOrdinal(bindings: readonly Binding[], binding: Binding): number {
  return assignmentsOf(bindings, binding.name).indexOf(binding) + 1;
}

/** The `ordinal`-th assignment of `name` (from 1), undefined when the file has fewer. */
export function nthBinding(bindings: readonly Binding[], name: string, ordinal: number): Binding | undefined {
  return ordinal >= 1 ? assignmentsOf(bindings, name)[ordinal - 1] : undefined;
}

/**
 * The identity of a call whose arguments are `key` (`callKey`, as written) and whose bare names
 * are `names`, made in the file `caller` (its path as the store names files) at `position`:
 * `key` alone when it names nothing, else `key | jobs.py N#2 data#1` (`#0`: not assigned there).
 */
export function callIdentity(key: string, names: readonly string[], caller: string, bindings: readonly Binding[], position: Pos | undefined): string {
  if (names.length === 0) return key;
  const read = names.map((name) => {
    const binding = bindingAt(bindings, name, position);
    return `${name}#${binding ? bindingOrdinal(bindings, binding) : 0}`;
  });
  return `${key} | ${caller} ${read.join(' ')}`;
}
