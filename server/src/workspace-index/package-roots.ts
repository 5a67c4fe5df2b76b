// Where a workspace folder's importable packages start, as Python would see them once the
// project is installed: the folder itself, plus a `src/` layout declared in `pyproject.toml` or
// `setup.cfg` (the build backends' spellings, read in `pyproject.ts`) or found by setuptools' own
// rule (a `src/` folder that is not itself a package). Pure: the caller reads the files.

import { join, normalize } from 'node:path';
import { declaredPackageRoots, parsePyproject } from './pyproject.js';

export interface ProjectFiles {
  pyproject?: string;
  setupCfg?: string;
  /** `setup.py`, read as text (never run): its `package_dir={"": "lib"}`. */
  setupPy?: string;
  /** Whether `<folder>/<relative>` is a directory, and whether it holds an `__init__.py`. */
  isDir: (relative: string) => boolean;
  isPackage: (relative: string) => boolean;
}

/** Absolute package roots of `folder`, most specific first, the folder itself last. */
export function packageRoots(folder: string, files: ProjectFiles): string[] {
  const relatives = new Set<string>();
  for (const where of declaredRoots(files)) relatives.add(where);
  if (files.isDir('src') && !files.isPackage('src')) relatives.add('src');
  const roots: string[] = [];
  for (const relative of relatives) {
    const clean = normalize(relative).replace(/\/+$/, '');
    if (clean === '' || clean === '.' || clean.startsWith('..') || !files.isDir(clean)) continue;
    roots.push(join(folder, clean));
  }
  roots.push(folder);
  return [...new Set(roots)];
}

function declaredRoots(files: ProjectFiles): string[] {
  const found = files.pyproject === undefined ? [] : declaredPackageRoots(parsePyproject(files.pyproject));
  const setupCfg = files.setupCfg ?? '';
  // [options] package_dir = \n    = src     (or `package_dir = =src`)
  for (const match of setupCfg.matchAll(/^\s*package_dir\s*=\s*(?:\n\s+)?=\s*(\S+)/gm)) found.push(match[1] ?? '');
  // [options.packages.find] where = src
  for (const match of setupCfg.matchAll(/^\s*where\s*=\s*(\S+)/gm)) found.push(match[1] ?? '');
  // setup(package_dir={"": "lib"}, ...) and find_packages(where="lib"), as literals.
  const setupPy = files.setupPy ?? '';
  for (const match of setupPy.matchAll(/package_dir\s*=\s*\{\s*(["'])\1\s*:\s*(["'])([^"'\n]+)\2/g)) found.push(match[3] ?? '');
  for (const match of setupPy.matchAll(/find(?:_namespace)?_packages\s*\(\s*(?:where\s*=\s*)?(["'])([^"'\n]+)\1/g)) found.push(match[2] ?? '');
  return found;
}
