// What a person waiting on a Databricks call is told while it is retried: an unreachable host or
// a rate limit is tried again for up to 5 minutes (as the SDKs do), which without a word looks
// like a hang. One line at the first retry of a host, then at most one every `everyMs`.
import type { RetryNotice } from '../backends/databricks/http-client.js';
import { formatDuration } from './format.js';

/** A `RetryNotice` listener that says each host's retries through `say`, spaced out. */
export function retryNotices(say: (line: string) => void, everyMs = 15_000, now: () => number = Date.now): (notice: RetryNotice) => void {
  const lastSaid = new Map<string, number>();
  return (notice) => {
    const at = now();
    const last = lastSaid.get(notice.host);
    if (last !== undefined && at - last < everyMs) return;
    lastSaid.set(notice.host, at);
    const reason = notice.reason.length > 200 ? `${notice.reason.slice(0, 199)}…` : notice.reason;
    say(`Databricks at ${notice.host}: ${reason}; trying again (attempt ${notice.attempt}, ${formatDuration(notice.elapsedMs)} so far, giving up after ${formatDuration(notice.budgetMs)}; Ctrl-C or cancel stops it)`);
  };
}
