// Finds the Python files of a workspace folder the way a user thinks of "the project": every
// `.py` file, minus what `.gitignore` files exclude, virtualenvs (any folder with a
// `pyvenv.cfg`), `node_modules`, `.choppa`, `.git` and caches. Bounded: past `maxFiles` files or
// `MAX_DIRECTORIES` folders the walk stops and says so.

import { existsSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** Folder names never indexed, whatever `.gitignore` says. */
const SKIPPED = new Set([
  '.git',
  '.hg',
  '.svn',
  '.choppa',
  'node_modules',
  '__pycache__',
  '.venv',
  'venv',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  'site-packages',
  '.ipynb_checkpoints',
]);

/** More files than this in one folder is not a project we index whole. */
export const MAX_FILES = 20_000;
/** Nor is a tree of more folders than this (a data folder, a home directory). */
export const MAX_DIRECTORIES = 50_000;

export interface PythonFiles {
  files: string[];
  /** True when the walk stopped at `MAX_FILES` or `MAX_DIRECTORIES`. */
  truncated: boolean;
}

/** The Python files under `folder`, sorted. */
export function findPythonFiles(folder: string, maxFiles: number = MAX_FILES): PythonFiles {
  const files: string[] = [];
  let truncated = false;
  let directories = 0;
  // Each level carries the rules of the `.gitignore` files above it, relative to their folder.
  const walk = (dir: string, rules: { base: string; ignore: Ignore }[]): void => {
    if (truncated) return;
    if (++directories > MAX_DIRECTORIES) {
      truncated = true;
      return;
    }
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((entry) => entry.name === 'pyvenv.cfg' && entry.isFile())) return;
    const here = readIgnore(dir);
    const active = here ? [...rules, { base: dir, ignore: here }] : rules;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const isDir = entry.isDirectory();
      if (isDir && SKIPPED.has(entry.name)) continue;
      if (!isDir && !(entry.isFile() && entry.name.endsWith('.py'))) continue;
      if (ignored(active, path, isDir)) continue;
      if (isDir) walk(path, active);
      else if (files.length >= maxFiles) {
        truncated = true;
        return;
      } else files.push(path);
    }
  };
  walk(folder, []);
  return { files, truncated };
}

function readIgnore(dir: string): Ignore | undefined {
  const path = join(dir, '.gitignore');
  if (!existsSync(path)) return undefined;
  try {
    return ignore().add(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function ignored(rules: readonly { base: string; ignore: Ignore }[], path: string, isDir: boolean): boolean {
  for (const rule of rules) {
    const rel = relative(rule.base, path).split(sep).join('/');
    if (rel === '' || rel.startsWith('..')) continue;
    if (rule.ignore.ignores(isDir ? `${rel}/` : rel)) return true;
  }
  return false;
}
