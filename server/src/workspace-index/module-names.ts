// Module names as Python resolves them: a file's dotted name under its package root
// (`pkg/mod.py` is `pkg.mod`, `pkg/__init__.py` is `pkg`), and the absolute name a relative
// import means in a given module. Pure string work.

import { sep } from 'node:path';

/** A Python identifier (`str.isidentifier`): a letter or `_`, then letters, digits, marks and `_`. */
const IDENTIFIER = /^[\p{ID_Start}_][\p{ID_Continue}]*$/u;

/** The dotted module name of `path` under `root`, or undefined when it is not importable. */
export function moduleNameOf(root: string, path: string): string | undefined {
  const prefix = root.endsWith(sep) ? root : root + sep;
  if (!path.startsWith(prefix) || !path.endsWith('.py')) return undefined;
  // Python names modules by identifiers, which may be non-ASCII (`données.py`), compared after
  // NFKC normalization (PEP 3131): a file name written in NFD (macOS) is the same module.
  const parts = path.slice(prefix.length, -3).normalize('NFKC').split(sep);
  if (parts[parts.length - 1] === '__init__') parts.pop();
  if (parts.length === 0 || !parts.every((part) => IDENTIFIER.test(part))) return undefined;
  return parts.join('.');
}

/** True for a package's `__init__.py`. */
export function isPackageInit(path: string): boolean {
  return path.endsWith(`${sep}__init__.py`);
}

/**
 * The absolute module a `from <dots><module> import` means inside module `current` (a package
 * when `currentIsPackage`), or undefined when it climbs above the top-level package.
 */
export function absoluteModule(current: string, currentIsPackage: boolean, level: number, module: string): string | undefined {
  if (level === 0) return module;
  const parts = current.split('.');
  // In a module, one dot is its package; in a package's `__init__`, one dot is the package.
  const keep = parts.length - (currentIsPackage ? level - 1 : level);
  if (keep <= 0) return undefined;
  const base = parts.slice(0, keep);
  if (module) base.push(module);
  return base.length > 0 ? base.join('.') : undefined;
}

/** `a.b.c` → [`a`, `a.b`, `a.b.c`]: importing a submodule imports its packages first. */
export function parentChain(module: string): string[] {
  const parts = module.split('.');
  return parts.map((_, index) => parts.slice(0, index + 1).join('.'));
}
