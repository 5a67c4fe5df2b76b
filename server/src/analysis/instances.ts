// `Choppa` instances: module-level assignments of a `Choppa(...)` call, and the constructor
// settings the analysis can read as constants (cluster, artifact folder, result size limit).

import type * as Parser from '../syntax/tree.js';
import type { ChoppaInstance, FileAnalysis, ImportedInstance, Pos, Span } from './model.js';
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

/** One binding of an instance name: a `Choppa(...)` of this file, or an import of one from another. */
interface InstanceBinding<T> {
  instance: T;
  /** Where the binding is made: the end of the `Choppa(...)` call, or the start of the import. */
  at: Pos;
  /** A statement of its own at column 0, which every run of the module runs. */
  topLevel: boolean;
}

type Bound = ChoppaInstance | ImportedInstance;

function bindingsOf(analysis: Pick<FileAnalysis, 'instances' | 'importedInstances' | 'imports'>, name: string): InstanceBinding<Bound>[] {
  const bindings: InstanceBinding<Bound>[] = [];
  for (const instance of analysis.instances) {
    if (instance.name === name) bindings.push({ instance, at: instance.callSpan.end, topLevel: instance.nameSpan.start.character === 0 });
  }
  const imported = analysis.importedInstances.find((candidate) => candidate.name === name);
  if (imported) {
    const statements = analysis.imports.filter((clause) => clause.moduleLevel && clause.bound === name);
    // `m.dc` through `import pkg.cluster as m` is one binding whatever the order of the rest.
    if (statements.length === 0) bindings.push({ instance: imported, at: { line: -1, character: 0 }, topLevel: true });
    for (const clause of statements) bindings.push({ instance: imported, at: clause.at, topLevel: clause.at.character === 0 });
  }
  return bindings.sort((a, b) => a.at.line - b.at.line || a.at.character - b.at.character);
}

/**
 * The instance a function decorated with `name` at `at` (its decorator) runs with: the last one
 * bound by then, a local `Choppa(...)` or an import, since a decorator runs when its `def` does.
 * `dutch = Choppa(...)` made twice at the top level thus decorates each function with the one
 * above it, as Python would. Undefined when there is none, or when the name is bound in a block
 * that may not run and elsewhere too (`ambiguousInstance`).
 */
export function instanceAtDecorator(analysis: Pick<FileAnalysis, 'instances' | 'importedInstances' | 'imports'>, name: string, at: Pos): Bound | undefined {
  const bindings = bindingsOf(analysis, name);
  if (isAmbiguous(bindings)) return undefined;
  let found: InstanceBinding<Bound> | undefined;
  for (const binding of bindings) if (binding.at.line < at.line || (binding.at.line === at.line && binding.at.character <= at.character)) found = binding;
  return (found ?? bindings[0])?.instance;
}

/**
 * The instance `name` means at `at` among this file's own `Choppa(...)` calls (or the module's
 * last, what an importer gets, without `at`).
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
 * Where an instance name is bound more than once, not every time at the top level (`if PROD:
 * dutch = Choppa(...) else: ...`, or `try: from .cluster import dutch` with a fallback `Choppa()`
 * in `except`): which instance the module makes is decided when it runs, so a function decorated
 * with it runs nowhere rather than on a guessed cluster. The lines of the bindings, or undefined.
 */
export function ambiguousInstance(analysis: Pick<FileAnalysis, 'instances' | 'importedInstances' | 'imports'>, name: string): number[] | undefined {
  const bindings = bindingsOf(analysis, name);
  return isAmbiguous(bindings) ? bindings.map((binding) => binding.at.line + 1) : undefined;
}

function isAmbiguous(bindings: readonly InstanceBinding<Bound>[]): boolean {
  return bindings.length > 1 && bindings.some((binding) => !binding.topLevel);
}

/** The span an instance is "at": from its name to the end of the constructor call. */
export function instanceSpan(instance: ChoppaInstance): Span {
  return { start: instance.nameSpan.start, end: instance.callSpan.end };
}
