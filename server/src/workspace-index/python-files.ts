// Finds the Python files of a workspace folder the way a user thinks of "the project": every
// `.py` file, minus what `.gitignore` files exclude, virtualenvs (any folder with a
// `pyvenv.cfg`), `node_modules`, `.choppa`, `.git` and caches. Bounded: past `maxFiles` files or
// `MAX_DIRECTORIES` folders the walk stops and says so. A walk records what its listing depends
// on (each folder's and `.gitignore`'s mtime), so an unchanged listing need not be walked again,
// as git's untracked cache does.

import { readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
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

/**
 * Whether a folder is a Python project of its own: a `pyproject.toml`, or a `setup.py` or
 * `setup.cfg` that is a build script (a pipeline's `steps/setup.py` module is not), and no
 * `__init__.py` (a project's root is never one of its packages).
 */
function isProjectFolder(dir: string, entries: readonly Dirent[]): boolean {
  const names = new Set(entries.filter((entry) => !entry.isDirectory()).map((entry) => entry.name));
  if (names.has('__init__.py')) return false;
  if (names.has('pyproject.toml')) return true;
  const mentions = (name: string, pattern: RegExp): boolean => {
    if (!names.has(name)) return false;
    try {
      return pattern.test(readFileSync(join(dir, name), 'utf8').slice(0, 64 * 1024));
    } catch {
      return false;
    }
  };
  return mentions('setup.py', /\b(?:setuptools|distutils)\b/) || mentions('setup.cfg', /^\s*\[(?:metadata|options)\]/m);
}

/** More files than this in one folder is not a project we index whole. */
export const MAX_FILES = 20_000;
/** Nor is a tree of more folders than this (a data folder, a home directory). */
export const MAX_DIRECTORIES = 50_000;

export interface PythonFiles {
  files: string[];
  /**
   * Folders below the top one that are projects of their own (a `pyproject.toml`, `setup.cfg` or
   * `setup.py`): in a monorepo each has its own package roots and module names.
   */
  projects: string[];
  /** True when the walk stopped at `MAX_FILES` or `MAX_DIRECTORIES`. */
  truncated: boolean;
  /** What the listing depends on: each folder walked and each `.gitignore` read, as the walk found them. */
  stamps: ListingStamp[];
  /** When the walk began (`Date.now()`). */
  walkedAt: number;
}

export interface ListingStamp {
  path: string;
  mtimeMs: number;
  /** A `.gitignore`'s size (-1 for a folder). */
  size: number;
}

/**
 * A stamp taken within this long of its mtime is not trusted: another change within the same tick
 * of the file clock (seconds on some file systems) would leave the mtime as it was.
 */
const RACY_MS = 2000;

/**
 * Whether a listing still stands: every folder and `.gitignore` it depends on has the mtime (and
 * size) the walk saw, and none was stamped within `RACY_MS` of a change to it. Files added,
 * removed or renamed change their folder's mtime; a new `.gitignore` or virtualenv does too.
 */
export function listingUnchanged(listing: Pick<PythonFiles, 'stamps' | 'walkedAt' | 'truncated'>): boolean {
  if (listing.truncated) return false;
  for (const stamp of listing.stamps) {
    if (stamp.mtimeMs >= listing.walkedAt - RACY_MS) return false;
    const now = statSync(stamp.path, { throwIfNoEntry: false });
    if (!now || now.mtimeMs !== stamp.mtimeMs || (stamp.size >= 0 && now.size !== stamp.size)) return false;
  }
  return true;
}

/** The Python files under `folder`, sorted. */
export function findPythonFiles(folder: string, maxFiles: number = MAX_FILES): PythonFiles {
  const files: string[] = [];
  const projects: string[] = [];
  const stamps: ListingStamp[] = [];
  const walkedAt = Date.now();
  let truncated = false;
  let directories = 0;
  // The real paths of the folders being walked: a link to one of them (a folder above) would loop.
  // A folder reached both through a link and directly is walked twice, once per module name.
  const walking = new Set<string>();
  // Each level carries the rules of the `.gitignore` files above it, relative to their folder.
  const walk = (dir: string, rules: { base: string; ignore: Ignore }[]): void => {
    if (truncated) return;
    if (++directories > MAX_DIRECTORIES) {
      truncated = true;
      return;
    }
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (walking.has(real)) return;
    walking.add(real);
    try {
      walkFolder(dir, rules);
    } finally {
      walking.delete(real);
    }
  };
  const walkFolder = (dir: string, rules: { base: string; ignore: Ignore }[]): void => {
    // Stamped before it is read: a change in between shows as a new mtime next time.
    const stat = statSync(dir, { throwIfNoEntry: false });
    if (!stat) return;
    stamps.push({ path: dir, mtimeMs: stat.mtimeMs, size: -1 });
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((entry) => entry.name === 'pyvenv.cfg' && entry.isFile())) return;
    if (dir !== folder && isProjectFolder(dir, entries)) projects.push(dir);
    const here = readIgnore(dir, stamps);
    const active = here ? [...rules, { base: dir, ignore: here }] : rules;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      // A symlinked package or module is imported through its link like any other (teams link
      // shared code into a project), so it ships too.
      const target = entry.isSymbolicLink() ? statSync(path, { throwIfNoEntry: false }) : entry;
      if (!target) continue;
      const isDir = target.isDirectory();
      if (isDir && SKIPPED.has(entry.name)) continue;
      if (!isDir && !(target.isFile() && entry.name.endsWith('.py'))) continue;
      if (ignored(active, path, isDir)) continue;
      if (isDir) walk(path, active);
      else if (files.length >= maxFiles) {
        truncated = true;
        return;
      } else files.push(path);
    }
  };
  walk(folder, []);
  return { files, projects, truncated, stamps, walkedAt };
}

function readIgnore(dir: string, stamps: ListingStamp[]): Ignore | undefined {
  const path = join(dir, '.gitignore');
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return undefined;
  stamps.push({ path, mtimeMs: stat.mtimeMs, size: stat.size });
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
