// The runner's command strings and the JSON reports they return, turned into our types. Every
// backend sends these same commands (to a local python3 process or to a Databricks execution
// context) and reads the same reports.
import type { ArtifactRef, BackendFailure, RemoteError, RemoteFrame, RunOptions, RunOutcome, RunPayload, ValueInfo } from './backend.js';

/** What `start`, `poll` and `cancel` return: new output since the last report, and the state. */
export interface RunnerReport {
  runId: string | null;
  state: 'running' | 'cancelling' | 'done' | 'unknown';
  stdout: string;
  stderr: string;
  /** Present once `state` is `done`. */
  outcome?: RunOutcome;
}

/** Run ids are spliced into commands, so they are held to a safe alphabet (the runner agrees). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** `_choppa_runner.start("<base64 JSON payload>")`: starts a run, returns its first report. */
export function startCommand(payload: RunPayload): string {
  return `_choppa_runner.start("${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64')}")`;
}

/** `_choppa_runner.poll("<run id>")`: new output, state, and the envelope when done. */
export function pollCommand(runId: string): string {
  return `_choppa_runner.poll("${checkedRunId(runId)}")`;
}

/** `_choppa_runner.cancel("<run id>")`: interrupts the worker thread and its Spark job group. */
export function cancelCommand(runId: string): string {
  return `_choppa_runner.cancel("${checkedRunId(runId)}")`;
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
  };
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
  const table = tableFrom(raw['table']);
  if (table !== undefined) value.table = table;
  return value;
}

function remoteErrorFrom(raw: unknown): RemoteError | undefined {
  if (!isRecord(raw)) return undefined;
  const { type, message, frames, traceback, origin } = raw;
  if (typeof type !== 'string' || typeof message !== 'string') return undefined;
  const error: RemoteError = {
    type,
    message,
    frames: Array.isArray(frames) ? frames.flatMap(frameFrom) : [],
    origin: origin === 'backend' ? 'backend' : 'remote',
  };
  if (typeof traceback === 'string') error.traceback = traceback;
  return error;
}

function frameFrom(raw: unknown): RemoteFrame[] {
  if (!isRecord(raw) || typeof raw['line'] !== 'number') return [];
  return [
    {
      line: raw['line'],
      function: typeof raw['function'] === 'string' ? raw['function'] : '?',
      text: typeof raw['text'] === 'string' ? raw['text'] : '',
    },
  ];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Hands a report's new output to the run's listeners: each stream to `onOutput` and into the
 * accumulated `output`, the latest non-empty line to `onProgress`. True when there was output.
 */
export function deliverOutput(
  report: RunnerReport,
  output: { stdout: string; stderr: string },
  listeners: Pick<RunOptions, 'onOutput' | 'onProgress'>,
): boolean {
  let delivered = false;
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = report[stream];
    if (!text) continue;
    delivered = true;
    output[stream] += text;
    listeners.onOutput?.(stream, text);
  }
  const lastLine = (report.stdout + report.stderr).split('\n').filter((line) => line.trim() !== '').pop();
  if (lastLine !== undefined) listeners.onProgress?.({ message: lastLine.trim().slice(0, 200) });
  return delivered;
}

/**
 * The two ways a run ends without the runner's envelope, with the output gathered so far and
 * the time since `started`: a backend failure (the message says what to do) or a cancellation.
 */
export function endings(
  started: number,
  output: { stdout: string; stderr: string },
): { backendError: (message: string, traceback?: string) => RunOutcome; cancelled: () => RunOutcome } {
  return {
    backendError: (message, traceback) => ({
      status: 'error',
      error: { type: 'BackendError', message, frames: [], origin: 'backend', ...(traceback ? { traceback } : {}) },
      ...output,
      durationMs: Date.now() - started,
    }),
    cancelled: () => ({ status: 'cancelled', ...output, durationMs: Date.now() - started }),
  };
}
