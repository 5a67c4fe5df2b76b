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

/**
 * An append-only log of one run. Text is appended on the next turn of the event loop (the
 * output of one polled report at most waits there), so a run's first command goes out before the
 * log's folder is checked and its file opened; `close` writes what is left at once. A reader (an
 * editor tailing the file) sees each chunk of output as soon as it arrived. The file stays open
 * while the run goes on and is closed a loop turn after `close`: one write before the answer.
 */
export class RunLog {
  private failed = false;
  private closed = false;
  private fd: number | undefined;
  private pending = '';
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void,
  ) {}

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
    this.scheduled = undefined;
    const text = this.pending;
    this.pending = '';
    if (this.failed || text === '') return;
    try {
      if (this.fd === undefined) {
        // A planted `logs` symlink would send output outside the state folder.
        stateSubdir(dirname(dirname(this.path)), 'logs');
        this.fd = openAppendNoFollow(this.path);
      }
      writeSync(this.fd, text);
    } catch (error) {
      this.fail(error);
    }
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
