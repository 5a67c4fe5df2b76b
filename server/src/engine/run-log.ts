// Each run's output, appended live to `.choppa/logs/<function>-<run>.log` as it arrives, so a
// long run can be watched (and output printed before an exception is never lost).
import { dirname, join } from 'node:path';
import { appendNoFollow, stateSubdir } from './state-dir.js';

/** The log file of a run. */
export function runLogPath(stateDir: string, functionName: string, runId: string): string {
  const safe = functionName.replace(/[^\p{L}\p{N}_-]/gu, '_');
  return join(stateDir, 'logs', `${safe}-${runId}.log`);
}

/**
 * An append-only log of one run. Writes are synchronous appends: output comes in polled chunks,
 * and a reader (an editor tailing the file) must see each chunk as soon as it arrived.
 */
export class RunLog {
  private failed = false;

  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void,
  ) {
    try {
      // A planted `logs` symlink would send output outside the state folder.
      stateSubdir(dirname(dirname(path)), 'logs');
    } catch (error) {
      this.fail(error);
    }
  }

  append(text: string): void {
    if (this.failed || text === '') return;
    try {
      appendNoFollow(this.path, text);
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.failed = true;
    this.warn(`Could not write the run log ${this.path}: ${(error as Error).message}`);
  }
}
