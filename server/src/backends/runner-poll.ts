// The one poll loop of a run, shared by every backend: send `start`, poll a few times at once and
// then with backoff (reset whenever output arrives, skipped while the runner says it has `more`), turn the
// first abort into one `cancel`, give a cancelled run a grace to stop, and hand output to the
// listeners. Positions, the budget and envelopes in pieces are `RunnerChannel`'s; what differs
// between backends is the transport (`send`) and a few hooks the Databricks backend needs (side
// files of output, reports cut by the cluster's output cap).
import type { RunOptions, RunOutcome, RunPayload } from './backend.js';
import type { RunnerChannel } from './runner-channel.js';
import { deliverOutput, type RunnerReport, type RunOutput } from './runner-protocol.js';

/** What one command came back as: the report's text, or an ending the transport decided. */
export type CommandAnswer = { text: string } | { end: RunOutcome };

/** What a transport may know about the run while it sends a command. */
export interface CancelState {
  /** True once the cancel command went out. */
  readonly cancelSent: boolean;
  /** True until the runner has answered a command of this run: the command is (again) `start`. */
  readonly starting: boolean;
}

export interface RunnerPollOptions {
  payload: RunPayload;
  /** The run's conversation with the runner (or its stand-in): commands and acknowledged positions. */
  channel: RunnerChannel;
  /** Sends one command. */
  send: (command: string, state: CancelState) => Promise<CommandAnswer>;
  /** The bounded tails of the output gathered so far; filled as reports arrive. */
  output: RunOutput;
  /** Builds the outcome of a run that ended without an envelope (a report the channel refused). */
  backendError: (message: string) => RunOutcome;
  cancelled: () => RunOutcome;
  /** The failure when the runner no longer knows the run (its process was replaced). */
  unknownRun: () => RunOutcome | Promise<RunOutcome>;
  /**
   * Reads a report's output side files into its `stdout`/`stderr` (a transport with an output
   * cap); the reason when one cannot be read whole, and the output is then asked for inline.
   */
  readSideFiles?: (report: RunnerReport) => Promise<string | undefined>;
  /** Told when a report came back cut by an output cap; the channel polls again within `budget`. */
  onTruncated?: (budget: number) => void;
  /** How long a cancelled run may take to stop, from the cancel, before `cancelled` is reported anyway. */
  cancelGraceMs: number;
  /** Gaps between polls after the first `BACK_TO_BACK_POLLS` (which follow at once); 0 for a transport whose `poll` waits for news itself. */
  firstDelayMs: number;
  maxDelayMs: number;
  log?: (message: string) => void;
}

const GROWTH = 1.5;

/**
 * Polls that follow the previous report at once, before the gaps: a run of a few milliseconds
 * ends within them. Each waits for the previous answer, so a transport's round trip bounds
 * their rate (a pipe's tenth of a millisecond locally, tens of milliseconds on a workspace).
 */
export const BACK_TO_BACK_POLLS = 3;

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
  let starting = true;
  const state: CancelState = {
    get cancelSent() {
      return cancelDeadline !== undefined;
    },
    get starting() {
      return starting;
    },
  };
  // The first abort turns the next command into a cancel; after that it is polls again.
  const nextCommand = (): string => {
    if (!signal?.aborted || cancelDeadline !== undefined) return channel.poll();
    cancelDeadline = Date.now() + options.cancelGraceMs;
    return channel.cancel();
  };
  let command = channel.start(payload);
  // A short function is often done by the time `start` is answered: the first polls go at once.
  let delay = options.firstDelayMs;
  let quick = BACK_TO_BACK_POLLS;
  for (;;) {
    const answer = await send(command, state);
    if ('end' in answer) return answer.end;
    const read = channel.accept(answer.text);
    if ('failure' in read) return options.backendError(read.failure);
    starting = false;
    if (read.kind === 'truncated') {
      // Nothing is lost: the runner keeps what was not acknowledged and sends it again.
      options.onTruncated?.(read.budget);
      command = nextCommand();
      continue;
    }
    const report = read.report;
    if (options.readSideFiles && (report.stdoutFile || report.stderrFile)) {
      const unread = await options.readSideFiles(report);
      channel.filesRead(unread === undefined);
      if (unread !== undefined) {
        options.log?.(`run ${payload.run_id}: could not read an output side file (${unread}); asking for that output inline`);
        command = channel.poll();
        continue;
      }
    }
    if (deliver(report)) delay = options.firstDelayMs;
    if (report.outcome) return { ...report.outcome, stdout: output.stdout.text(), stderr: output.stderr.text() };
    if (report.state === 'unknown') return options.unknownRun();
    if (cancelDeadline !== undefined && Date.now() > cancelDeadline) {
      options.log?.(`run ${payload.run_id} did not stop in time after cancel; leaving it behind`);
      return cancelled();
    }
    if (!report.more && (!signal?.aborted || cancelDeadline !== undefined)) {
      if (quick > 0) {
        quick -= 1;
      } else {
        if (delay > 0) await pause(delay, cancelDeadline === undefined ? signal : undefined);
        delay = Math.min(options.maxDelayMs, Math.max(options.firstDelayMs, Math.ceil(delay * GROWTH)));
      }
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
