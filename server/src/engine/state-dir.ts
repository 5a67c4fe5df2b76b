// Where a workspace keeps its `.choppa/` state, and the safe file operations on it: atomic
// writes (temp file + rename) with mode 0600, and a `.gitignore` so nothing is committed.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
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

/** Creates the state folder (0700) with a `.gitignore` of `*` on first use. */
export function ensureStateDir(dir: string): void {
  if (existsSync(join(dir, '.gitignore'))) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeAtomic(join(dir, '.gitignore'), '*\n');
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
