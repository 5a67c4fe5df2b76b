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

/** How long a command goes on before we ask for a token of our own: a warm run's progress was five messages while its requests were in flight. */
export const PROGRESS_DELAY_MS = 50;

/**
 * Runs `work` inside a work-done progress titled `title`; progress is optional for clients. The
 * work starts at once. A token the client attached begins at once; one of ours is asked for after
 * `PROGRESS_DELAY_MS` and begins with the latest message when it exists. Either ends before the
 * result is returned.
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
    // A progress that began ends before the answer: an editor shows the result, not both at once.
    clearTimeout(delay);
    await creation;
    reporter?.done();
    for (const subscription of subscriptions) subscription.dispose();
  }
}
