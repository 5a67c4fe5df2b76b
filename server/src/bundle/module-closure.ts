// The project modules a function needs where it runs: the workspace modules it imports inside
// its body (relative imports resolved against its own module), their packages' `__init__.py`,
// and, transitively, whatever those modules import anywhere in them. Imports that are not
// workspace modules are third-party (the cluster's own, or requirements).

import { basename } from 'node:path';
import type { ModuleImport } from '../analysis/model.js';
import { absoluteModule, isPackageInit, parentChain } from '../workspace-index/module-names.js';
import type { WorkspaceIndex } from '../workspace-index/workspace-index.js';

export interface ModuleClosure {
  /** Module name → file, in the order they were found. */
  modules: Map<string, string>;
  /** Top-level names imported that are not workspace modules (`numpy`, `pandas`). */
  external: string[];
  /** Modules it needs that two files of the project are (see `WorkspaceIndex.filesOfAmbiguous`). */
  ambiguous: { module: string; files: readonly string[] }[];
}

/** At most this many modules ship with one function. */
export const MAX_MODULES = 2_000;

/** The closure of the imports inside `functionName` of `filePath`. */
export function functionClosure(index: WorkspaceIndex, filePath: string, functionName: string): ModuleClosure {
  const modules = new Map<string, string>();
  const external = new Set<string>();
  const ambiguous: ModuleClosure['ambiguous'] = [];
  // Each module's imports resolve as its own file imports them (in a monorepo, in its project).
  const queue: { module: string; path: string; isPackage: boolean; imports: ModuleImport[] }[] = [];
  const own = index.rawAnalysis(filePath);
  const ownModule = index.moduleOf(filePath) ?? basename(filePath, '.py');
  queue.push({
    module: ownModule,
    path: filePath,
    isPackage: isPackageInit(filePath),
    imports: (own?.imports ?? []).filter((imported) => imported.within === functionName),
  });
  const include = (module: string, from: string): void => {
    for (const name of parentChain(module)) {
      if (modules.has(name) || modules.size >= MAX_MODULES) continue;
      const path = index.pathOfModule(name, from);
      if (path === undefined) continue;
      modules.set(name, path);
      const files = index.filesOfAmbiguous(name, from);
      if (files) ambiguous.push({ module: name, files });
      queue.push({ module: name, path, isPackage: isPackageInit(path), imports: index.rawAnalysis(path)?.imports ?? [] });
    }
  };
  while (queue.length > 0) {
    const { module, path: from, isPackage, imports } = queue.shift()!;
    for (const imported of imports) {
      const base = imported.name === undefined ? imported.module : absoluteModule(module, isPackage, imported.level, imported.module);
      if (base === undefined) continue;
      if (!index.hasModule(base, from)) {
        // A module missing from a package of the project (ignored, compiled only, too large) is
        // not found where the run goes either, since the package ships: it must not be taken for
        // a third-party name, which would let the cluster's installed copy of the package run.
        const within = parentChain(base).filter((name) => isPackageInit(index.pathOfModule(name, from) ?? ''));
        const deepest = within[within.length - 1];
        if (deepest !== undefined) include(deepest, from);
        else if (imported.level === 0) external.add(base.split('.')[0] ?? base);
        continue;
      }
      include(base, from);
      if (imported.name !== undefined && imported.name !== '*' && index.hasModule(`${base}.${imported.name}`, from)) include(`${base}.${imported.name}`, from);
    }
  }
  return { modules, external: [...external].sort(), ambiguous };
}
