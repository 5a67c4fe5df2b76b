// The poll loop of a run whose runner answers over a channel without an output cap (the local
// python3 process, the Dask driver): send `start`, then `poll` with backoff (reset whenever output
// arrives, skipped while the runner says it has `more`), turn the first abort into one `cancel`,
// give a cancelled run a grace to stop, and hand output to the listeners. The positions, the
// budget and envelopes in pieces are `RunnerChannel`'s; the Databricks backend drives the same
// channel in its own loop, which adds side files, cut reports and a retry on a fresh context.
import type { RunOptions, RunOutcome, RunPayload } from './backend.js';
import type { RunnerChannel } from './runner-channel.js';
import { deliverOutput, type RunnerReport, type RunOutput } from './runner-protocol.js';

/** What one command came back as: the report's text, or an ending the transport decided. */
export type CommandAnswer = { text: string } | { end: RunOutcome };

/** What a transport may know about the cancellation while it sends a command. */
export interface CancelState {
  /** True once the cancel command went out. */
  readonly cancelSent: boolean;
}

export interface RunnerPollOptions {
  payload: RunPayload;
  /** The run's conversation with the runner (or its stand-in): commands and acknowledged positions. */
  channel: RunnerChannel;
  /** Sends one command. */
  send: (command: string, cancel: CancelState) => Promise<CommandAnswer>;
  /** The bounded tails of the output gathered so far; filled as reports arrive. */
  output: RunOutput;
  /** Builds the outcome of a run that ended without an envelope. */
  backendError: (message: string) => RunOutcome;
  cancelled: () => RunOutcome;
  /** The failure when the runner no longer knows the run (its process was replaced). */
  unknownRun: () => RunOutcome;
  /** How long a cancelled run may take to stop, from the cancel, before `cancelled` is reported anyway. */
  cancelGraceMs: number;
  /** Gaps between polls; 0 for a transport whose `poll` waits for news itself. */
  firstDelayMs: number;
  maxDelayMs: number;
  log?: (message: string) => void;
}

const GROWTH = 1.5;

/**
 * Drives one run to its outcome. Invariant: at most one command of the run is in flight, the
 * cancel command is sent at most once, and every report's output reaches the listeners in order
 * (the channel refuses a report that does not continue from the acknowledged positions).
 */
export async function pollRunner(options: RunnerPollOptions, listeners: RunOptions = {}): Promise<RunOutcome> {
  const { channel, send, output, cancelled, payload } = options;
  const { signal } = listeners;
  const deliver = (report: RunnerReport): boolean => deliverOutput(report, output, listeners);
  let cancelDeadline: number | undefined;
  const cancel: CancelState = {
    get cancelSent() {
      return cancelDeadline !== undefined;
    },
  };
  // The first abort turns the next command into a cancel; after that it is polls again.
  const nextCommand = (): string => {
    if (!signal?.aborted || cancelDeadline !== undefined) return channel.poll();
    cancelDeadline = Date.now() + options.cancelGraceMs;
    return channel.cancel();
  };
  let command = channel.start(payload);
  let delay = options.firstDelayMs;
  for (;;) {
    const answer = await send(command, cancel);
    if ('end' in answer) return answer.end;
    const read = channel.accept(answer.text);
    if ('failure' in read) return options.backendError(read.failure);
    if (read.kind === 'truncated') {
      command = channel.poll();
      continue;
    }
    const report = read.report;
    if (deliver(report)) delay = options.firstDelayMs;
    if (report.outcome) return { ...report.outcome, stdout: output.stdout.text(), stderr: output.stderr.text() };
    if (report.state === 'unknown') return options.unknownRun();
    if (cancelDeadline !== undefined && Date.now() > cancelDeadline) {
      options.log?.(`run ${payload.run_id} did not stop in time after cancel; leaving it behind`);
      return cancelled();
    }
    if (!report.more && (!signal?.aborted || cancelDeadline !== undefined)) {
      if (delay > 0) await pause(delay, cancelDeadline === undefined ? signal : undefined);
      delay = Math.min(options.maxDelayMs, Math.ceil(delay * GROWTH));
    }
    command = nextCommand();
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
