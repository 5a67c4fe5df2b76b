// `Choppa` instances: module-level assignments of a `Choppa(...)` call, and the constructor
// settings the analysis can read as constants (cluster, artifact folder, result size limit).

import type * as Parser from '../syntax/tree.js';
import type { ChoppaInstance, Pos, Span } from './model.js';
import { foldConstant } from './constants.js';
import { enclosingScope, spanOf } from '../syntax/nodes.js';
import { captureOf } from '../syntax/queries.js';

/** An assignment of a constructor call that may turn out to be `choppa.Choppa`. */
export interface InstanceCandidate extends ChoppaInstance {
  /** The callee as written, without spaces (`Choppa`, `ch.Choppa`, `C`). */
  constructorName: string;
}

/** The module-level constructor assignments in one top-level statement. */
export function readInstanceCandidates(statement: Parser.SyntaxNode, query: Parser.Query): InstanceCandidate[] {
  const candidates: InstanceCandidate[] = [];
  for (const match of query.matches(statement)) {
    const name = captureOf(match, 'name');
    const call = captureOf(match, 'call');
    const constructor = captureOf(match, 'constructor');
    const args = captureOf(match, 'arguments');
    const assignment = captureOf(match, 'definition.instance');
    if (!name || !call || !constructor || !args || !assignment) continue;
    if (enclosingScope(assignment).kind !== 'module') continue;
    const candidate: InstanceCandidate = {
      name: name.text,
      callSpan: spanOf(call),
      nameSpan: spanOf(name),
      dynamic: [],
      constructorName: constructor.text.replace(/\s+/g, ''),
    };
    readSettings(args, candidate);
    candidates.push(candidate);
  }
  return candidates;
}

function readSettings(args: Parser.SyntaxNode, instance: ChoppaInstance): void {
  for (const arg of args.namedChildren) {
    if (arg.type !== 'keyword_argument') continue;
    const keyword = arg.childForFieldName('name')?.text;
    const valueNode = arg.childForFieldName('value');
    if (!keyword || !valueNode) continue;
    const value = foldConstant(valueNode);
    if (keyword === 'cluster_id' || keyword === 'artifact_dir') {
      if (typeof value === 'string' || value === null) {
        if (keyword === 'cluster_id') instance.clusterId = value;
        else instance.artifactDir = value;
      } else instance.dynamic.push(keyword);
    } else if (keyword === 'result_size_max' || keyword === 'max_result_size') {
      if ((typeof value === 'number' && Number.isFinite(value)) || value === null) instance.resultSizeMax = value;
      else instance.dynamic.push(keyword);
    }
  }
}

/**
 * The candidates whose constructor is `choppa.Choppa`: a name imported as `from choppa import
 * Choppa [as C]`, or `M.Choppa` where `M` is `import choppa [as M]`.
 */
export function resolveInstances(
  candidates: readonly InstanceCandidate[],
  choppa: { classes: ReadonlySet<string>; modules: ReadonlySet<string> },
): ChoppaInstance[] {
  const instances: ChoppaInstance[] = [];
  for (const candidate of candidates) {
    if (!isChoppaConstructor(candidate.constructorName, choppa)) continue;
    const { constructorName: _constructor, ...instance } = candidate;
    instances.push(instance);
  }
  return instances;
}

/** Whether a callee as written (`Choppa`, `ch.Choppa`) is `choppa.Choppa`, given the imports. */
export function isChoppaConstructor(callee: string, choppa: { classes: ReadonlySet<string>; modules: ReadonlySet<string> }): boolean {
  const dot = callee.indexOf('.');
  return dot === -1 ? choppa.classes.has(callee) : callee.slice(dot + 1) === 'Choppa' && choppa.modules.has(callee.slice(0, dot));
}

/**
 * The instance `name` means at `at` (a function's decorator): the last one made by then, since a
 * decorator runs when its `def` does; without `at`, the module's last (what an importer gets).
 * `dutch = Choppa(...)` made twice at the top level thus decorates each function with the one
 * above it, as Python would. Undefined when there is none.
 */
export function instanceNamed<T extends Pick<ChoppaInstance, 'name' | 'callSpan'>>(instances: readonly T[], name: string, at?: Pos): T | undefined {
  let found: T | undefined;
  let first: T | undefined;
  for (const instance of instances) {
    if (instance.name !== name) continue;
    first ??= instance;
    const end = instance.callSpan.end;
    if (at && (end.line > at.line || (end.line === at.line && end.character > at.character))) continue;
    found = instance;
  }
  return found ?? first;
}

/**
 * The names bound to a `Choppa(...)` more than once where not every one is a top-level statement
 * (`if PROD: dutch = Choppa(cluster_id=...) else: ...`): which instance the module makes is decided
 * when it runs, so a function decorated with such a name runs nowhere rather than on a guessed cluster.
 */
export function ambiguousInstanceNames(instances: readonly ChoppaInstance[]): Map<string, ChoppaInstance[]> {
  const byName = new Map<string, ChoppaInstance[]>();
  for (const instance of instances) {
    const same = byName.get(instance.name);
    if (same) same.push(instance);
    else byName.set(instance.name, [instance]);
  }
  for (const [name, same] of byName) {
    if (same.length < 2 || same.every((instance) => instance.nameSpan.start.character === 0)) byName.delete(name);
  }
  return byName;
}

/** The span an instance is "at": from its name to the end of the constructor call. */
export function instanceSpan(instance: ChoppaInstance): Span {
  return { start: instance.nameSpan.start, end: instance.callSpan.end };
}
