// How long run logs stay in `.choppa/logs/`: a log goes once no kept record, history entry or
// submission names its run and it has not been written for a while (a run of another process,
// whose record this one has not seen yet, keeps appending to its log). Run at each compaction of
// the result store, so the folder is bounded by what the store keeps plus the runs of the last hour.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A log untouched for this long, of a run no record names, is removed. */
const LOG_KEPT_MS = 60 * 60 * 1000;

/** The run id in a log's name (`<function>-<run id>.log`; a Python name has no `-`). */
function runIdOfLog(name: string): string | undefined {
  const match = /-([^-]+)\.log$/.exec(name);
  return match?.[1];
}

/** Removes the logs in `dir` of runs `kept` does not name, last written before `now - LOG_KEPT_MS`; returns how many. */
export function pruneRunLogs(dir: string, kept: (runId: string) => boolean, now = Date.now()): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const runId = runIdOfLog(name);
    if (runId === undefined || kept(runId)) continue;
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (!stat.isFile() || now - stat.mtimeMs < LOG_KEPT_MS) continue;
      rmSync(path, { force: true });
      removed += 1;
    } catch {
      // Gone meanwhile, or not ours to remove: left as it is.
    }
  }
  return removed;
}
