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
 * Runs `work` inside a work-done progress titled `title`; progress is optional for clients. The
 * work starts at once, while the client creates a token we asked for (a round trip that would
 * otherwise delay every run): the progress begins, with the latest message, when the token exists.
 * A progress on the request's own token ends before `work`'s result is returned; one on a token we
 * created ends right after it.
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
  if (reporter) {
    reporter.begin(title);
  } else if (session.supportsWorkDoneProgress) {
    // Asked for on the next turn of the event loop, once the work has sent its first request.
    creation = new Promise<void>((resolve) => setImmediate(resolve)).then(() => session.progress.create()).then(
      (created) => {
        created.onCancel(cancel);
        created.begin(title);
        if (latest !== undefined) created.report(latest);
        reporter = created;
      },
      () => undefined,
    );
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
    for (const subscription of subscriptions) subscription.dispose();
    if (creation === undefined) {
      // The client's own token belongs to its request: it ends before the answer.
      reporter?.done();
    } else {
      // A token we created outlives the request, so its end follows the answer (one loop turn
      // later) instead of holding it, and the answer never waits for the client's create reply.
      void creation.then(() => setImmediate(() => reporter?.done()));
    }
  }
}
