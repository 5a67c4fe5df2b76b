// Each run's output, appended live to `.choppa/logs/<function>-<run>.log` as it arrives, so a
// long run can be watched (and output printed before an exception is never lost).
import { closeSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openAppendNoFollow, stateSubdir } from './state-dir.js';

/** The log file of a run. */
export function runLogPath(stateDir: string, functionName: string, runId: string): string {
  const safe = functionName.replace(/[^\p{L}\p{N}_-]/gu, '_');
  return join(stateDir, 'logs', `${safe}-${runId}.log`);
}

/** Log folders this process has checked (a real folder, not a planted symbolic link). */
const checkedFolders = new Set<string>();

/**
 * How long the header of a run that prints nothing waits before the file is made: a run that ends
 * sooner (most warm runs) writes its log in one go as it ends, and no run makes a file in front
 * of its first request.
 */
const HEADER_WAIT_MS = 25;

/**
 * An append-only log of one run. Output is appended on the next turn of the event loop (the
 * output of one polled report at most waits there), so a reader (an editor tailing the file) sees
 * each chunk of output as soon as it arrived; the header alone waits `HEADER_WAIT_MS`. `close`
 * writes what is left at once, so the log is whole on disk before the run is answered; the file is
 * closed a loop turn later.
 */
export class RunLog {
  private failed = false;
  private closed = false;
  private fd: number | undefined;
  private pending = '';
  private scheduled: NodeJS.Immediate | undefined;
  private header: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** The run's first line: written with its first output, after `HEADER_WAIT_MS`, or at `close`. */
  begin(header: string): void {
    if (this.failed || this.closed) return;
    this.pending += header;
    this.header ??= setTimeout(() => this.flush(), HEADER_WAIT_MS).unref();
  }

  append(text: string): void {
    if (this.failed || this.closed || text === '') return;
    this.pending += text;
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Writes what was appended and not yet written; the log is complete on disk when this returns. */
  close(): void {
    this.flush();
    this.closed = true;
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) setImmediate(closeQuietly, fd);
  }

  private flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.header) clearTimeout(this.header);
    this.scheduled = undefined;
    this.header = undefined;
    const text = this.pending;
    this.pending = '';
    if (this.failed || text === '') return;
    try {
      this.fd ??= this.open();
      writeSync(this.fd, text);
    } catch (error) {
      this.fail(error);
    }
  }

  /** The file, once its folder is known to be a real one (a planted `logs` symlink would send output outside). */
  private open(): number {
    const folder = dirname(this.path);
    if (checkedFolders.has(folder)) {
      try {
        return openAppendNoFollow(this.path);
      } catch (error) {
        // The folder went away since it was checked (a cleaned `.choppa`): check it, make it, again.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        checkedFolders.delete(folder);
      }
    }
    stateSubdir(dirname(folder), 'logs');
    checkedFolders.add(folder);
    return openAppendNoFollow(this.path);
  }

  private fail(error: unknown): void {
    this.failed = true;
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) closeQuietly(fd);
    this.warn(`Could not write the run log ${this.path}: ${(error as Error).message}`);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // A descriptor already gone.
  }
}
