// One run's conversation with the runner, the same for every backend: the commands to send
// (with the acknowledged output positions and the report budget), and each answer turned into a
// report, a truncated answer recognised by the output cap's marker (then the same positions are
// polled again with a smaller budget, so nothing is lost), and an envelope put together from its
// pieces when it did not fit one report.
import type { BackendFailure, RunPayload } from './backend.js';
import { cancelCommand, outcomeFromEnvelope, parseReport, pollCommand, startCommand, type PollCursor, type RunnerReport } from './runner-protocol.js';

/**
 * What Databricks puts in the middle of a command result it cut to the REPL's output cap
 * (`spark.databricks.driver.maxReplOutputLength`): the head and the tail stay around it.
 */
export const OUTPUT_CAP_MARKER = '\n\n... [*** WARNING: max output size exceeded, skipping output. ***] ...\n\n';

/** The marker without its newlines, as it shows whatever the whitespace around it became. */
const MARKER_CORE = '[*** WARNING: max output size exceeded, skipping output. ***]';

/** Reports stay above this many characters however often they were cut. */
export const MIN_REPORT_BUDGET = 1000;

/** Whether a command's text result was cut by the output cap. Our reports are one line of JSON, so a real newline pair cannot be part of one. */
export function isTruncatedResult(text: string): boolean {
  return text.includes(MARKER_CORE);
}

export type ChannelAnswer =
  | { kind: 'report'; report: RunnerReport }
  /** The answer was cut by an output cap; poll again (the budget was halved). */
  | { kind: 'truncated'; budget: number }
  | BackendFailure;

/**
 * How the channel's commands are spelled: the runner's own (`runner-protocol.ts`) by default; a
 * backend that speaks to the runner through a stand-in (the Dask driver) passes its own, with the
 * same positions and budget.
 */
export interface RunnerCommands {
  /** `spill`: from how many waiting characters a stream may go to a side file (0: never). */
  start(payload: RunPayload, budget: number, spill: number): string;
  poll(runId: string, cursor: PollCursor): string;
  cancel(runId: string, cursor: PollCursor): string;
}

const RUNNER_COMMANDS: RunnerCommands = { start: startCommand, poll: pollCommand, cancel: cancelCommand };

export class RunnerChannel {
  private out = 0;
  private err = 0;
  private envelope: string[] = [];
  private envelopeLength = 0;
  /** Positions of a report whose side files the caller still has to read. */
  private held: { out: number; err: number } | undefined;
  /** From how many waiting characters a stream may go to a side file; 0 keeps everything inline. */
  public spill = 0;

  /** `budget`: the most characters one report may have; halved after each truncated answer. */
  constructor(
    private readonly runId: string,
    public budget: number,
    private readonly commands: RunnerCommands = RUNNER_COMMANDS,
  ) {}

  start(payload: RunPayload): string {
    // Heavy output printed at once would otherwise fill the first report inline.
    return this.commands.start(payload, this.budget, this.spill);
  }

  poll(): string {
    return this.commands.poll(this.runId, this.cursor());
  }

  cancel(): string {
    return this.commands.cancel(this.runId, this.cursor());
  }

  /** Reads one answer (the command's whole text result, or the line the runner returned). */
  accept(text: string): ChannelAnswer {
    if (isTruncatedResult(text)) {
      this.budget = Math.max(MIN_REPORT_BUDGET, Math.floor(this.budget / 2));
      return { kind: 'truncated', budget: this.budget };
    }
    const report = parseReport(text);
    if ('failure' in report) return report;
    if (report.state === 'unknown') return { kind: 'report', report };
    const positions = report.positions;
    if (!positions) return { failure: 'the runner in this context is an older version without output positions; restart the context and run again' };
    if (positions.outAt !== this.out || positions.errAt !== this.err) {
      return { failure: `the runner sent output from position ${positions.outAt}/${positions.errAt} where ${this.out}/${this.err} was expected` };
    }
    for (const [file, at, end] of [
      [report.stdoutFile, positions.outAt, positions.out],
      [report.stderrFile, positions.errAt, positions.err],
    ] as const) {
      if (file && (file.at !== at || file.at + file.chars !== end)) return { failure: 'the runner sent a side file of output that does not match its positions' };
    }
    if (report.stdoutFile || report.stderrFile) {
      // Acknowledged only once the caller has read the files (`filesRead`).
      this.held = { out: positions.out, err: positions.err };
    } else {
      this.out = positions.out;
      this.err = positions.err;
    }
    const part = report.envelopePart;
    if (part) {
      if (part.at !== this.envelopeLength) {
        return { failure: `the runner sent its envelope from character ${part.at} where ${this.envelopeLength} was expected` };
      }
      this.envelope.push(part.text);
      this.envelopeLength += part.text.length;
      if (report.state === 'done') {
        if (this.envelopeLength !== part.size) return { failure: 'the runner ended before its whole envelope arrived' };
        let raw: unknown;
        try {
          raw = JSON.parse(this.envelope.join(''));
        } catch {
          return { failure: 'the runner sent an envelope whose pieces are not JSON together' };
        }
        const outcome = outcomeFromEnvelope(raw);
        if ('failure' in outcome) return outcome;
        report.outcome = outcome;
      }
    }
    return { kind: 'report', report };
  }

  /**
   * The side files of the last report were read (`ok`: acknowledge them) or could not be
   * (stop using side files; the next poll gets the same output inline).
   */
  filesRead(ok: boolean): void {
    if (ok && this.held) {
      this.out = this.held.out;
      this.err = this.held.err;
    }
    if (!ok) this.spill = 0;
    this.held = undefined;
  }

  private cursor(): PollCursor {
    // The envelope position counts the runner's characters; its JSON text is ASCII, so they
    // are JavaScript's too.
    return { out: this.out, err: this.err, envelope: this.envelopeLength, budget: this.budget, spill: this.spill };
  }
}
