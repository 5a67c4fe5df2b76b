// The runner's command strings and the JSON reports they return, turned into our types. Every
// backend sends these same commands (to a local python3 process or to a Databricks execution
// context) and reads the same reports.
import { createHash } from 'node:crypto';
import type { ArtifactRef, BackendFailure, RemoteError, RemoteFrame, RunOptions, RunOutcome, RunPayload, ValueInfo } from './backend.js';
import type { OutputTail } from './output-tail.js';

/** What `start`, `poll` and `cancel` return: output after the acknowledged positions, and the state. */
export interface RunnerReport {
  runId: string | null;
  state: 'running' | 'cancelling' | 'done' | 'unknown';
  stdout: string;
  stderr: string;
  /**
   * Where this report's output starts and ends in each stream, in the runner's characters
   * (code points); the next poll acknowledges the ends. Absent from a runner that predates them.
   */
  positions?: { outAt: number; out: number; errAt: number; err: number };
  /** A piece of the envelope's JSON text, when the envelope does not fit one report. */
  envelopePart?: { at: number; text: string; size: number };
  /** A stream's output in a side file under the artifact dir (heavy output, when the poll allowed it). */
  stdoutFile?: OutputFile;
  stderrFile?: OutputFile;
  /** The runner has more to send at once: poll again without waiting. */
  more: boolean;
  /** Present once `state` is `done` and the envelope came whole in this report. */
  outcome?: RunOutcome;
}

/** Output the runner wrote to a side file: `chars` characters (code points) from position `at`. */
export interface OutputFile {
  path: string;
  at: number;
  chars: number;
  bytes: number;
}

/** What a poll acknowledges, the most characters its report may have, and from how much waiting output a stream goes to a side file (0: never). */
export interface PollCursor {
  out: number;
  err: number;
  envelope: number;
  budget: number;
  spill?: number;
}

/** Run ids are spliced into commands, so they are held to a safe alphabet (the runner agrees). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * `_choppa_runner.start("<base64 JSON payload>", budget, spill)`: starts a run, returns its first
 * report (`spill` as in `poll`; runner 4 and newer).
 */
export function startCommand(payload: RunPayload, budget?: number, spill?: number): string {
  const encoded = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
  const counts = budget === undefined ? [] : [budget, ...(spill ? [spill] : [])];
  return `_choppa_runner.start("${encoded}"${counts.map((count) => `, ${checkedCount(count)}`).join('')})`;
}

/** `_choppa_runner.poll("<run id>", out, err, envelope, budget)`: output after the acknowledged positions, state, envelope. */
export function pollCommand(runId: string, cursor?: PollCursor): string {
  return `_choppa_runner.poll("${checkedRunId(runId)}"${cursorArguments(cursor)})`;
}

/** `_choppa_runner.cancel("<run id>", ...)`: interrupts the worker thread and its Spark job group; answers like `poll`. */
export function cancelCommand(runId: string, cursor?: PollCursor): string {
  return `_choppa_runner.cancel("${checkedRunId(runId)}"${cursorArguments(cursor)})`;
}

function cursorArguments(cursor: PollCursor | undefined): string {
  if (!cursor) return '';
  const counts = [cursor.out, cursor.err, cursor.envelope, cursor.budget, ...(cursor.spill ? [cursor.spill] : [])];
  return `, ${counts.map(checkedCount).join(', ')}`;
}

/** Numbers are spliced into commands too: only non-negative integers. */
function checkedCount(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`invalid count ${value}`);
  return String(value);
}

/** `_choppa_runner.missing("<base64 JSON names>")`: `{missing: [names]}`, the ones not importable. */
export function missingImportsCommand(names: readonly string[]): string {
  return `_choppa_runner.missing("${Buffer.from(JSON.stringify(names), 'utf8').toString('base64')}")`;
}

/**
 * The line a `start` sent to a context this process did not set up goes behind: it raises, with a
 * message `isMissingRunner` knows, unless the namespace holds runner `build` (`runnerBuildOf`). A
 * warm context another process left is so adopted without a round trip of its own, and never runs
 * a start on another runner, not even one that bears the same version number (an upgrade that
 * changed the runner's code and not its number).
 */
export function runnerGuard(build: string): string {
  return `if getattr(globals().get('_choppa_runner'), 'build', None) != '${checkedBuild(build)}': raise RuntimeError('choppa runner ${build} is not in this context')`;
}

/** Whether a command's error is `runnerGuard`'s (or the runner missing altogether). */
export function isMissingRunner(message: string): boolean {
  return /choppa runner [\w.-]+ is not in this context|name '_choppa_runner' is not defined/.test(message);
}

/** The runner version `runner.py` installs (its `version = N`); undefined when the text has none. */
export function runnerVersionOf(source: string): string | undefined {
  return /^ {4}version = (\d+)$/m.exec(source)?.[1];
}

/** Which runner a text is: its version and a digest of the text (`5-0123456789abcdef`); undefined without a version. */
export function runnerBuildOf(source: string): string | undefined {
  const version = runnerVersionOf(source);
  return version === undefined ? undefined : `${version}-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
}

/**
 * The command that installs the runner under `build`: the runner keeps a runner already there
 * only when it is of the same build, so another build's never runs on.
 */
export function runnerInstall(source: string, build: string | undefined): string {
  return build === undefined ? source : `_choppa_runner_build = '${checkedBuild(build)}'\n${source}`;
}

function checkedBuild(build: string): string {
  if (!/^\d+-[0-9a-f]{16}$/.test(build)) throw new Error(`invalid runner build ${JSON.stringify(build)}`);
  return build;
}

/** Reads the answer of `missingImportsCommand`. */
export function parseMissingImports(text: string): string[] | BackendFailure {
  try {
    const raw = JSON.parse(text) as unknown;
    if (isRecord(raw) && Array.isArray(raw['missing']) && raw['missing'].every((name) => typeof name === 'string')) return raw['missing'] as string[];
    return { failure: `the runner could not check imports: ${isRecord(raw) && typeof raw['error'] === 'string' ? raw['error'] : text.slice(0, 200)}` };
  } catch {
    return { failure: `the runner answered something that is not JSON: ${text.slice(0, 200)}` };
  }
}

/** `_choppa_runner.info()`: `{runner_version, python, pid, executable}` as JSON. */
export const INFO_COMMAND = '_choppa_runner.info()';

function checkedRunId(runId: string): string {
  if (!RUN_ID_PATTERN.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
  return runId;
}

/** Parses one report; a malformed one is a failure naming what was wrong. */
export function parseReport(text: string): RunnerReport | BackendFailure {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { failure: `the runner answered something that is not JSON: ${text.slice(0, 200)}` };
  }
  if (!isRecord(raw)) return { failure: 'the runner answered something that is not a JSON object' };
  const state = raw['state'];
  if (state !== 'running' && state !== 'cancelling' && state !== 'done' && state !== 'unknown') {
    return { failure: `the runner reported an unknown state ${JSON.stringify(state)}` };
  }
  const report: RunnerReport = {
    runId: typeof raw['run_id'] === 'string' ? raw['run_id'] : null,
    state,
    stdout: typeof raw['stdout'] === 'string' ? raw['stdout'] : '',
    stderr: typeof raw['stderr'] === 'string' ? raw['stderr'] : '',
    more: raw['more'] === true,
  };
  const { out_at: outAt, out, err_at: errAt, err } = raw;
  if (isCount(outAt) && isCount(out) && isCount(errAt) && isCount(err)) report.positions = { outAt, out, errAt, err };
  const part = raw['envelope_part'];
  if (part !== undefined) {
    if (!isRecord(part) || !isCount(part['at']) || typeof part['text'] !== 'string' || !isCount(part['size'])) {
      return { failure: 'the runner sent a malformed piece of its envelope' };
    }
    report.envelopePart = { at: part['at'], text: part['text'], size: part['size'] };
  }
  for (const [key, field] of [['stdout_file', 'stdoutFile'], ['stderr_file', 'stderrFile']] as const) {
    const file = raw[key];
    if (file === undefined) continue;
    if (!isRecord(file) || typeof file['path'] !== 'string' || !isCount(file['at']) || !isCount(file['chars']) || !isCount(file['bytes'])) {
      return { failure: `the runner sent a malformed ${key}` };
    }
    report[field] = { path: file['path'], at: file['at'], chars: file['chars'], bytes: file['bytes'] };
  }
  // An envelope in pieces is put together by the caller (RunnerChannel).
  if (state === 'done' && !('envelope' in raw) && report.envelopePart) return report;
  if (state === 'done') {
    const outcome = outcomeFromEnvelope(raw['envelope']);
    if ('failure' in outcome) return outcome;
    report.outcome = outcome;
  }
  return report;
}

/** Converts the runner's final envelope into a `RunOutcome`. */
export function outcomeFromEnvelope(envelope: unknown): RunOutcome | BackendFailure {
  if (!isRecord(envelope)) return { failure: 'the runner finished without an envelope' };
  const base = {
    stdout: typeof envelope['stdout'] === 'string' ? envelope['stdout'] : '',
    stderr: typeof envelope['stderr'] === 'string' ? envelope['stderr'] : '',
    durationMs: typeof envelope['durationMs'] === 'number' ? envelope['durationMs'] : 0,
  };
  switch (envelope['status']) {
    case 'ok': {
      if (isRecord(envelope['ref'])) {
        const ref = artifactRefFrom(envelope['ref']);
        return ref ? { ...base, status: 'ok', ref } : { failure: 'the runner returned a malformed artifact ref' };
      }
      const value = valueInfoFrom(envelope['value']);
      return value ? { ...base, status: 'ok', value } : { failure: 'the runner returned a malformed value' };
    }
    case 'error': {
      const error = remoteErrorFrom(envelope['error']);
      return error ? { ...base, status: 'error', error } : { failure: 'the runner returned a malformed error' };
    }
    case 'cancelled':
      return { ...base, status: 'cancelled' };
    default:
      return { failure: `the runner returned an unknown status ${JSON.stringify(envelope['status'])}` };
  }
}

/** Validates an artifact ref (an envelope's `ref` or a `.json` sidecar). */
export function artifactRefFrom(raw: unknown): ArtifactRef | undefined {
  if (!isRecord(raw)) return undefined;
  const { path, size, sha256, type, preview, created } = raw;
  if (
    typeof path !== 'string' ||
    typeof size !== 'number' ||
    typeof sha256 !== 'string' ||
    typeof type !== 'string' ||
    typeof preview !== 'string' ||
    typeof created !== 'string'
  ) {
    return undefined;
  }
  const ref: ArtifactRef = { path, size, sha256, type, preview, created };
  const table = tableFrom(raw['table']);
  if (table !== undefined) ref.table = table;
  return ref;
}

/** The runner caps a table at 4,000 characters; anything else is not one of its tables. */
const TABLE_MAX = 4000;

function tableFrom(raw: unknown): string | undefined {
  return typeof raw === 'string' && raw.length <= TABLE_MAX ? raw : undefined;
}

function valueInfoFrom(raw: unknown): ValueInfo | undefined {
  if (!isRecord(raw)) return undefined;
  const { repr, type, size } = raw;
  if (typeof repr !== 'string' || typeof type !== 'string') return undefined;
  if (size !== null && typeof size !== 'number') return undefined;
  const value: ValueInfo = { repr, type, size };
  if ('json' in raw) value.json = raw['json'];
  // A small result's pickle, for passing it by value later; bounded by the runner (16 KB).
  if (typeof raw['pickle'] === 'string' && raw['pickle'].length <= 32 * 1024) value.pickle = raw['pickle'];
  const table = tableFrom(raw['table']);
  if (table !== undefined) value.table = table;
  return value;
}

/** The runner's bounds of an error envelope, held here too whatever sent it (an older runner, a job's result file). */
export const ERROR_TEXT_MAX = 64 * 1024;
export const FRAMES_KEPT = 50;

function remoteErrorFrom(raw: unknown): RemoteError | undefined {
  if (!isRecord(raw)) return undefined;
  const { type, message, frames, traceback, origin, frames_omitted: omitted } = raw;
  if (typeof type !== 'string' || typeof message !== 'string') return undefined;
  const all = Array.isArray(frames) ? frames : [];
  const kept = all.length > 2 * FRAMES_KEPT ? [...all.slice(0, FRAMES_KEPT), ...all.slice(-FRAMES_KEPT)] : all;
  const error: RemoteError = {
    type: clipped(type, 1000),
    message: clipped(message, ERROR_TEXT_MAX),
    frames: kept.flatMap(frameFrom),
    origin: origin === 'backend' ? 'backend' : 'remote',
  };
  const framesOmitted = (isCount(omitted) ? omitted : 0) + all.length - kept.length;
  if (framesOmitted > 0) error.framesOmitted = framesOmitted;
  if (typeof traceback === 'string') error.traceback = clipped(traceback, ERROR_TEXT_MAX);
  return error;
}

/** `text` at most about `limit` characters: head and tail around a note, as the runner cuts. */
export function clipped(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const half = Math.floor(limit / 2);
  return `${text.slice(0, half)}\n[... ${text.length - 2 * half} characters omitted ...]\n${text.slice(-half)}`;
}

function frameFrom(raw: unknown): RemoteFrame[] {
  if (!isRecord(raw) || typeof raw['line'] !== 'number') return [];
  return [
    {
      line: raw['line'],
      function: typeof raw['function'] === 'string' ? clipped(raw['function'], 500) : '?',
      text: typeof raw['text'] === 'string' ? clipped(raw['text'], 500) : '',
    },
  ];
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A run's output as the backend keeps it: the bounded tail of each stream. */
export interface RunOutput {
  stdout: OutputTail;
  stderr: OutputTail;
}

/**
 * Hands a report's new output to the run's listeners: each stream whole to `onOutput` and into
 * the bounded `output` tails, the latest non-empty line to `onProgress`. True when there was output.
 */
export function deliverOutput(report: RunnerReport, output: RunOutput, listeners: Pick<RunOptions, 'onOutput' | 'onProgress'>): boolean {
  let delivered = false;
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = report[stream];
    if (!text) continue;
    delivered = true;
    output[stream].append(text);
    listeners.onOutput?.(stream, text);
  }
  const lastLine = lastNonEmptyLine(report.stderr) ?? lastNonEmptyLine(report.stdout);
  if (lastLine !== undefined) listeners.onProgress?.({ message: lastLine.trim().slice(0, 200), output: true });
  return delivered;
}

/** Scans back from the end only, so a report of many lines costs its last line, not all of them. */
function lastNonEmptyLine(text: string): string | undefined {
  let end = text.length;
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1);
    const line = text.slice(start + 1, end);
    if (line.trim() !== '') return line;
    end = start < 0 ? 0 : start;
  }
  return undefined;
}

/**
 * The two ways a run ends without the runner's envelope, with the output gathered so far and
 * the time since `started`: a backend failure (the message says what to do) or a cancellation.
 */
export function endings(
  started: number,
  output: RunOutput,
): { backendError: (message: string, traceback?: string) => RunOutcome; cancelled: (message?: string) => RunOutcome } {
  const texts = () => ({ stdout: output.stdout.text(), stderr: output.stderr.text() });
  return {
    backendError: (message, traceback) => ({
      status: 'error',
      error: { type: 'BackendError', message, frames: [], origin: 'backend', ...(traceback ? { traceback } : {}) },
      ...texts(),
      durationMs: Date.now() - started,
    }),
    cancelled: (message) => ({ status: 'cancelled', ...(message ? { message } : {}), ...texts(), durationMs: Date.now() - started }),
  };
}
