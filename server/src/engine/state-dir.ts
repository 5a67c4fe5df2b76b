// Where a workspace keeps its `.choppa/` state, and the safe file operations on it: atomic
// writes (temp file + rename) with mode 0600, and a `.gitignore` so nothing is committed.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, mkdirSync, openSync, realpathSync, renameSync, writeFileSync, writeSync, existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { userCacheDir } from '../platform/host-paths.js';

/**
 * The state folder for a workspace root: `<root>/.choppa`. With no root (Helix sends none
 * when it finds no root marker) it lives in the user cache dir (per platform), keyed by the
 * file's folder.
 */
export function stateDirFor(root: string | null, fileFolder: string, env: NodeJS.ProcessEnv = process.env): string {
  if (root !== null) return join(root, '.choppa');
  const cache = userCacheDir(env, process.platform, homedir());
  const key = createHash('sha256').update(fileFolder).digest('hex').slice(0, 16);
  return join(cache, 'choppa-lsp', key);
}

/**
 * The nearest folder at or above `fileFolder` that already holds a `.choppa/` folder (the
 * project state the CLI, or an editor that had a workspace folder, made), or null. A file opened
 * with no workspace folder uses it rather than a cache folder nobody else reads.
 */
export function existingStateRoot(fileFolder: string): string | null {
  for (let dir = fileFolder; ; dir = dirname(dir)) {
    try {
      if (lstatSync(join(dir, '.choppa')).isDirectory()) return dir;
    } catch {
      // No state here: look further up.
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Creates the state folder (0700) with a `.gitignore` of `*` on first use. A state folder that
 * is a symbolic link (a cloned repository may carry one) is refused: writes would land outside.
 */
export function ensureStateDir(dir: string): void {
  if (existsSync(join(dir, '.gitignore'))) {
    assertRealDirectory(dir);
    return;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertRealDirectory(dir);
  writeAtomic(join(dir, '.gitignore'), '*\n');
}

/** Throws unless `dir` is a directory itself, not a symbolic link to one. */
export function assertRealDirectory(dir: string): void {
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink() || !stat.isDirectory()) {
    throw new Error(`${dir} is ${stat.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; choppa-lsp writes its state only into real folders (remove it and try again)`);
  }
}

/** A folder of the state folder (`logs`, `artifacts`), created 0700, never a symbolic link. */
export function stateSubdir(stateDir: string, name: string): string {
  ensureStateDir(stateDir);
  const dir = join(stateDir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertRealDirectory(dir);
  return dir;
}

/** A descriptor for appending to `path`, which must not be a symbolic link planted in its place. */
export function openAppendNoFollow(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
}

/** Opens a file for appending without following a symbolic link planted in its place. */
export function appendNoFollow(path: string, text: string): void {
  const fd = openAppendNoFollow(path);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * `path` when it really lies inside `folder` (symbolic links resolved on both sides), else
 * undefined: a path read from a state file is data, and may have been tampered with.
 */
export function confinedPath(folder: string, path: string): string | undefined {
  try {
    const inside = relative(realpathSync(folder), realpathSync(path));
    return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a file so that readers see the old or the new content, never a torn one. */
export function writeAtomic(path: string, content: string | Uint8Array): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, content, { mode: 0o600 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
