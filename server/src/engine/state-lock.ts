// The one writer discipline of a state folder shared by several processes (the server, CLI runs,
// a second editor): an advisory lock file held for the few milliseconds of an append or a
// compaction. A lock left by a dead process, or older than any real hold, is broken.
import { closeSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../platform/process-alive.js';

/** A hold lasts microseconds to a compaction's milliseconds; anything this old was abandoned. */
const STALE_MS = 30_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}


/** True when the lock at `path` was left by a process that is gone, or is far too old. */
function abandoned(path: string): boolean {
  try {
    const holder = Number.parseInt(readFileSync(path, 'utf8').split(' ')[0] ?? '', 10);
    if (Number.isInteger(holder) && holder !== process.pid && !processAlive(holder)) return true;
    return Date.now() - statSync(path).mtimeMs > STALE_MS;
  } catch {
    // Gone between our attempt and this look: try again.
    return false;
  }
}

/**
 * Runs `work` while holding `<dir>/state.lock`. Waits up to `timeoutMs` for another holder,
 * then throws an error that says which process holds it.
 */
export function withStateLock<T>(dir: string, work: () => T, timeoutMs = 5_000): T {
  const path = join(dir, 'state.lock');
  const deadline = Date.now() + timeoutMs;
  let fd: number | undefined;
  let pause = 1;
  while (fd === undefined) {
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (abandoned(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        let holder = 'another process';
        try {
          holder = `process ${readFileSync(path, 'utf8').split(' ')[0]}`;
        } catch {
          // Released meanwhile; the message stays general.
        }
        throw new Error(`${dir} is locked by ${holder} (${path}); results were not saved`);
      }
      sleep(pause);
      pause = Math.min(pause * 2, 20);
    }
  }
  try {
    writeSync(fd, `${process.pid} ${Date.now()}`);
  } finally {
    closeSync(fd);
  }
  try {
    return work();
  } finally {
    release(path);
  }
}

/** Removes the lock file (one unlink: this runs after every stored run). */
function release(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
