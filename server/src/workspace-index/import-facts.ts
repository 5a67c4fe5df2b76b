// Resolves a module's imports to the Choppa instances and decorated functions of other modules,
// the way Python binds names: `from pkg.mod import dc`, `from .mod import dc as d`, `import
// pkg.mod as m` (then `m.dc`), `import pkg.mod` (then `pkg.mod.dc`), re-exports through a
// package's `__init__.py`, and `from m import *`. Pure: modules are looked up through `lookup`.

import type { FileAnalysis, ImportFacts, ImportedFunction, ImportedInstance, InstanceSettings, ModuleImport } from '../analysis/model.js';
import { absoluteModule, parentChain } from './module-names.js';
import { instanceAtDecorator, instanceNamed } from '../analysis/instances.js';

export interface ModuleLookup {
  /** The file of a module of the workspace. */
  pathOf(module: string): string | undefined;
  /** Whether the workspace has this module or package (namespace packages too). */
  hasModule(module: string): boolean;
  /** The module's own analysis (instances, imports). */
  raw(module: string): FileAnalysis | undefined;
  /** The module's analysis with its own imports resolved (functions decorated through them). */
  resolved(module: string): FileAnalysis | undefined;
}

/** What a name of a module turns out to be. */
type Export =
  | { kind: 'instance'; module: string; definedAs: string; path: string; line: number; settings: InstanceSettings }
  | { kind: 'function'; fact: Omit<ImportedFunction, 'name'> };

// Re-export chains longer than this are not followed (and a cycle stops here too).
const MAX_HOPS = 16;

/** The import facts of one module (`module` is its dotted name; `isPackage` for an `__init__`). */
export function resolveImportFacts(file: { module: string; isPackage: boolean; imports: readonly ModuleImport[] }, lookup: ModuleLookup): ImportFacts {
  const facts: ImportFacts = { instances: [], functions: [] };
  const seen = new Set<string>();
  const bind = (local: string, found: Export | undefined): void => {
    if (!found || seen.has(local)) return;
    seen.add(local);
    if (found.kind === 'instance') {
      facts.instances.push({ name: local, module: found.module, definedAs: found.definedAs, path: found.path, line: found.line, ...found.settings });
    } else {
      facts.functions.push({ name: local, ...found.fact });
    }
  };
  const exposeModule = (prefix: string, module: string): void => {
    for (const [name, found] of exportsOf(module, lookup)) bind(`${prefix}.${name}`, found);
  };
  for (const imported of file.imports) {
    if (!imported.moduleLevel || imported.dynamic) continue;
    if (imported.name === undefined) {
      if (!lookup.hasModule(imported.module)) continue;
      if (imported.bound !== imported.module.split('.')[0]) exposeModule(imported.bound, imported.module);
      else for (const module of parentChain(imported.module)) exposeModule(module, module);
      continue;
    }
    const base = absoluteModule(file.module, file.isPackage, imported.level, imported.module);
    if (base === undefined || !lookup.hasModule(base)) continue;
    if (imported.name === '*') {
      for (const [name, found] of exportsOf(base, lookup)) bind(name, found);
    } else if (lookup.hasModule(`${base}.${imported.name}`)) {
      exposeModule(imported.bound, `${base}.${imported.name}`);
    } else {
      bind(imported.bound, exportOf(base, imported.name, lookup, 0));
    }
  }
  return facts;
}

/** What `module.name` is, following re-exports. */
function exportOf(module: string, name: string, lookup: ModuleLookup, hops: number): Export | undefined {
  if (hops > MAX_HOPS) return undefined;
  const path = lookup.pathOf(module);
  const raw = lookup.raw(module);
  if (path === undefined || raw === undefined) return undefined;
  // An importer gets the module's last binding of the name.
  const instance = instanceNamed(raw.instances, name);
  if (instance) {
    const { clusterId, artifactDir, resultSizeMax, dynamic } = instance;
    const settings: InstanceSettings = { dynamic, ...defined({ clusterId, artifactDir, resultSizeMax }) };
    return { kind: 'instance', module, definedAs: name, path, line: instance.callSpan.start.line, settings };
  }
  const isPackage = path.endsWith('__init__.py');
  // The last module-level binding of the name wins, as at run time.
  const imports = raw.imports.filter((imported) => imported.moduleLevel && (imported.bound === name || imported.name === '*'));
  for (const imported of imports.reverse()) {
    if (imported.name === undefined) return undefined;
    const base = absoluteModule(module, isPackage, imported.level, imported.module);
    if (base === undefined) continue;
    if (imported.name === '*') {
      const found = exportOf(base, name, lookup, hops + 1);
      if (found) return found;
      continue;
    }
    if (lookup.hasModule(`${base}.${imported.name}`)) return undefined;
    return exportOf(base, imported.name, lookup, hops + 1);
  }
  // Only a function with a Choppa-like decorator can be one; anything else needs no resolution.
  if (!raw.decoratedNames.includes(name)) return undefined;
  const resolved = lookup.resolved(module);
  const fn = resolved?.functions.find((candidate) => candidate.name === name);
  if (!resolved || !fn) return undefined;
  const source = instanceAtDecorator(resolved, fn.instance, fn.decoratorSpan.start);
  const fact: Omit<ImportedFunction, 'name'> = { module, path, fn };
  if (source) {
    const { clusterId, artifactDir, resultSizeMax, dynamic } = source;
    fact.instance = { dynamic, ...defined({ clusterId, artifactDir, resultSizeMax }) };
  }
  return { kind: 'function', fact };
}

/** Every name a module exports that is an instance or a decorated function. */
function exportsOf(module: string, lookup: ModuleLookup): Map<string, Export> {
  const found = new Map<string, Export>();
  const raw = lookup.raw(module);
  if (!raw) return found;
  const names = new Set<string>();
  for (const instance of raw.instances) names.add(instance.name);
  for (const imported of raw.imports) if (imported.moduleLevel && imported.name !== undefined && imported.name !== '*') names.add(imported.bound);
  for (const name of raw.decoratedNames) names.add(name);
  for (const name of names) {
    const value = exportOf(module, name, lookup, 0);
    if (value) found.set(name, value);
  }
  return found;
}

function defined<T extends Record<string, unknown>>(record: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(record) as (keyof T)[]) if (record[key] !== undefined) out[key] = record[key];
  return out;
}
