// Work-done progress for a long command, cancellable from the client: either through the
// progress the client attached to the request, through one we create, or `$/cancelRequest`.
// All three end in one AbortSignal that the engine passes down to the backend.
import type { CancellationToken, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import type { ProgressReport } from '../backends/backend.js';
import type { Session } from '../session.js';

export interface ProgressHandle {
  signal: AbortSignal;
  report: (report: ProgressReport) => void;
}

interface Reporter {
  begin(title: string): void;
  report(message: string): void;
  done(): void;
}

/**
 * How long a command goes on before we ask the client for a progress token of our own. A warm
 * run of a small function is answered within a few milliseconds, and its progress (the token's
 * round trip, begin, report, end) was five more messages for both sides to handle while the run's
 * own requests were in flight, for an indicator no editor shows for that long.
 */
export const PROGRESS_DELAY_MS = 50;

/**
 * Runs `work` inside a work-done progress titled `title`; progress is optional for clients. The
 * work starts at once; a client that attached a token sees the progress begin at once, otherwise
 * we ask the client for a token once the work has taken `PROGRESS_DELAY_MS` (the work goes on
 * meanwhile), and the progress begins, with the latest message, when the token exists. A progress
 * on the request's own token ends before `work`'s result is returned; one on a token we created
 * ends right after it.
 */
export async function withProgress<T>(
  session: Session,
  title: string,
  token: CancellationToken,
  attached: WorkDoneProgressReporter | undefined,
  work: (handle: ProgressHandle) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const cancel = (): void => controller.abort();
  const subscriptions = [token.onCancellationRequested(cancel)];
  let reporter: Reporter | undefined = attached && {
    begin: (begun) => attached.begin(begun, undefined, undefined, true),
    report: (message) => attached.report(message),
    done: () => attached.done(),
  };
  let latest: string | undefined;
  let creation: Promise<void> | undefined;
  let delay: NodeJS.Timeout | undefined;
  if (reporter) {
    reporter.begin(title);
  } else if (session.supportsWorkDoneProgress) {
    delay = setTimeout(() => {
      creation = session.progress.create().then(
        (created) => {
          created.onCancel(cancel);
          created.begin(title);
          if (latest !== undefined) created.report(latest);
          reporter = created;
        },
        () => undefined,
      );
    }, PROGRESS_DELAY_MS);
  }
  try {
    return await work({
      signal: controller.signal,
      report: (report) => {
        latest = report.message;
        reporter?.report(report.message);
      },
    });
  } finally {
    clearTimeout(delay);
    for (const subscription of subscriptions) subscription.dispose();
    if (creation === undefined) {
      // The client's own token belongs to its request: it ends before the answer. (Work shorter
      // than the delay never asked for one of ours.)
      reporter?.done();
    } else {
      // A token we created outlives the request, so its end follows the answer (one loop turn
      // later) instead of holding it, and the answer never waits for the client's create reply.
      void creation.then(() => setImmediate(() => reporter?.done()));
    }
  }
}
