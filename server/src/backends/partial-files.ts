// The partial file a download writes before renaming it into place, named after the process that
// writes it (`<destination>.part-<pid>-<ms>`), so that what a killed process left behind (SIGKILL,
// a power loss) is told apart from a download another live process is writing and removed by
// the next download into the same folder. Every backend that streams an artifact to disk uses it.
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../platform/process-alive.js';

/** `<anything>.part-<pid>-<ms since the epoch>`, as `partialPath` names them. */
const PARTIAL_NAME = /\.part-(\d{1,10})-(\d{13})$/;
/**
 * A download writes continuously or fails within minutes; a partial file nobody has written for
 * this long belongs to no download, even when its pid now names another live process.
 */
const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;

/** The partial file this process writes for `destination`. */
export function partialPath(destination: string): string {
  return `${destination}.part-${process.pid}-${Date.now()}`;
}

/**
 * Removes the partial files in `folder` that no live download is writing: their process is gone,
 * or it is this process's pid but the file predates this process (a pid reused after a restart),
 * or nobody has written them for a day. Returns the names removed; never throws.
 */
export async function removeAbandonedPartials(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = PARTIAL_NAME.exec(name);
    if (match === null) continue;
    const path = join(folder, name);
    if (!(await abandoned(path, Number(match[1]), Number(match[2])))) continue;
    try {
      await unlink(path);
      removed.push(name);
    } catch {
      // Removed meanwhile by its writer or another sweep.
    }
  }
  return removed;
}

async function abandoned(path: string, pid: number, startedAt: number): Promise<boolean> {
  if (pid === process.pid) return startedAt < performance.timeOrigin;
  if (!processAlive(pid)) return true;
  try {
    return Date.now() - (await stat(path)).mtimeMs > ABANDONED_AFTER_MS;
  } catch {
    return false;
  }
}

