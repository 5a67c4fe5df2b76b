// Each workspace folder is its own Python project with its own module names: an import is looked
// up as `sys.path` would find it, in the importing file's folder first, and in another folder only
// when its own has no module or package of that top-level name.

/** The modules of one workspace folder. */
export interface ModuleNamespace {
  folder: string;
  /** Dotted module name → file (`pkg/__init__.py` for a package). */
  modules: Map<string, string>;
  /** Every package prefix of a module name (namespace packages have no file of their own). */
  packages: Set<string>;
}

/**
 * The namespace an import of `module` reads, from a file of the folder `folder` (undefined for a
 * file outside every folder): the whole dotted name comes from the one folder that holds its
 * top-level name, so a package is never assembled from two projects.
 */
export function namespaceFor(namespaces: readonly ModuleNamespace[], module: string, folder: string | undefined): ModuleNamespace | undefined {
  const top = module.split('.', 1)[0] ?? module;
  const holds = (namespace: ModuleNamespace): boolean => namespace.modules.has(top) || namespace.packages.has(top);
  const own = folder === undefined ? undefined : namespaces.find((namespace) => namespace.folder === folder);
  if (own && holds(own)) return own;
  return namespaces.find(holds);
}
