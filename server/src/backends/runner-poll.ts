// The one poll loop of a run driven by runner reports: send `start`, then `poll` with backoff
// (reset whenever output arrives), turn the first abort into one `cancel`, give a cancelled run a
// grace to stop, and hand output to the listeners. Backends differ only in how a command travels
// (a local pipe, a Databricks command, the Dask driver) and in how a lost run is described.
import type { RunOptions, RunOutcome, RunPayload } from './backend.js';
import { deliverOutput, parseReport, type RunnerReport } from './runner-protocol.js';

/** What one command came back as: the report's text, or an ending the transport decided. */
export type CommandAnswer = { text: string } | { end: RunOutcome };

/** What a transport may know about the cancellation while it sends a command. */
export interface CancelState {
  /** True once the cancel command went out. */
  cancelSent: boolean;
  /** When the run's cancel grace ends (set as soon as the signal aborts). */
  deadline: () => number | undefined;
}

export interface RunnerPollOptions {
  payload: RunPayload;
  /** The three command strings of this backend's runner (or stand-in). */
  commands: { start: string; poll: string; cancel: string };
  /** Sends one command. */
  send: (command: string, cancel: CancelState) => Promise<CommandAnswer>;
  /** The output gathered so far; filled as reports arrive. */
  output: { stdout: string; stderr: string };
  /** Builds the outcome of a run that ended without an envelope. */
  backendError: (message: string) => RunOutcome;
  cancelled: () => RunOutcome;
  /** The failure when the runner no longer knows the run (its process or context was replaced). */
  unknownRun: () => RunOutcome | Promise<RunOutcome>;
  /** How long a cancelled run may take to stop, from the abort, before `cancelled` is reported anyway. */
  cancelGraceMs: number;
  /** Gaps between polls; 0 for a transport whose `poll` waits for news itself. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** The gap before the first poll (default `firstDelayMs`). */
  initialDelayMs?: number;
  /** How a report that is not valid becomes a message (the backend adds where it came from). */
  describeBadReport?: (failure: string) => string;
  log?: (message: string) => void;
}

const GROWTH = 1.5;

/**
 * Drives one run to its outcome. Invariant: at most one command of the run is in flight, the
 * cancel command is sent at most once, and every report's output reaches the listeners in order.
 */
export async function pollRunner(options: RunnerPollOptions, listeners: RunOptions = {}): Promise<RunOutcome> {
  const { commands, send, output, cancelled } = options;
  const { signal } = listeners;
  const deliver = (report: RunnerReport): boolean => deliverOutput(report, output, listeners);
  let cancelDeadline: number | undefined;
  let cancelSent = false;
  const onAbort = (): void => {
    cancelDeadline ??= Date.now() + options.cancelGraceMs;
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const cancel: CancelState = {
    get cancelSent() {
      return cancelSent;
    },
    deadline: () => cancelDeadline,
  };
  try {
    let command = commands.start;
    let delay = options.initialDelayMs ?? options.firstDelayMs;
    for (;;) {
      const answer = await send(command, cancel);
      if ('end' in answer) return answer.end;
      const report = parseReport(answer.text);
      if ('failure' in report) return options.backendError(options.describeBadReport?.(report.failure) ?? report.failure);
      if (deliver(report)) delay = options.firstDelayMs;
      if (report.outcome) return report.outcome;
      if (report.state === 'unknown') return await options.unknownRun();
      if (cancelSent && cancelDeadline !== undefined && Date.now() > cancelDeadline) {
        options.log?.(`run ${options.payload.run_id} did not stop within the cancel grace; leaving it behind`);
        return cancelled();
      }
      if (!signal?.aborted || cancelSent) {
        if (delay > 0) await pause(delay, cancelSent ? undefined : signal);
        delay = Math.min(options.maxDelayMs, Math.max(options.firstDelayMs, Math.ceil(delay * GROWTH)));
      }
      if (signal?.aborted && !cancelSent) {
        cancelSent = true;
        onAbort();
        command = commands.cancel;
      } else {
        command = commands.poll;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
