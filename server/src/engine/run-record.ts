// What a finished run leaves behind: the record kept in memory and in `.choppa/state.json`,
// and the JSON a command returns to the editor. Remote error lines are kept relative to the
// function's `def`, so they follow the function when lines above it are edited.
import type { ArtifactRef, RemoteFrame, RunOutcome, ValueInfo } from '../backends/backend.js';
import { shorterTail } from '../backends/output-tail.js';
import type { CodeVersion } from './result-identity.js';

export type RunMode = 'remote' | 'artifact';

/** A remote error as stored: lines relative to `def` (0 = the `def` line). */
export interface StoredError {
  type: string;
  message: string;
  origin: 'remote' | 'backend';
  /** Offset from the `def` line of the innermost frame inside the function, if any. */
  relativeLine?: number;
  frames: Array<RemoteFrame & { relativeLine: number }>;
  traceback?: string;
}

/** One run of one call of a function, as the store keeps it. */
export interface RunRecord {
  runId: string;
  function: string;
  mode: RunMode;
  status: 'ok' | 'error' | 'cancelled';
  /** The arguments as they were sent (`1, b=data`). */
  args: string;
  /** The call's identity (`CallSite.key`); records of older versions lack it. */
  call?: string;
  /** The code version the run ran (result identity); records of older versions lack it. */
  version?: CodeVersion;
  /** Served from the cache: the run whose result this is, and when that run finished. */
  cached?: { from: string; computedAt: string };
  /** The name the call's result was bound to (`big = load(1000)`), to find it again after its arguments change. */
  boundTo?: string;
  value?: ValueInfo;
  ref?: ArtifactRef;
  error?: StoredError;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Backend label (`local python3.11`). */
  backend: string;
  /** ISO 8601. */
  finishedAt: string;
  /** The run's output log, `.choppa/logs/<function>-<run>.log`. */
  logPath?: string;
  /** For a submitted run: the backend's run id and page. */
  submitted?: { runId: string; runPageUrl?: string };
}

/** The JSON result of `choppa.run` / `choppa.runArtifact` (and of the CLI's `--json`). */
export interface RunCommandResult {
  status: 'ok' | 'error' | 'cancelled';
  runId?: string;
  function: string;
  args?: string;
  value?: ValueInfo;
  ref?: ArtifactRef;
  /** `line` is the 0-based document line that raised, when known. */
  error?: {
    type: string;
    message: string;
    line?: number;
    frames?: Array<RemoteFrame & { documentLine: number }>;
    /** For `ArgumentError`: the parameters a client should ask for, when that is the problem. */
    missing?: string[];
  };
  stdout?: string;
  stderr?: string;
  durationMs: number;
  backend?: string;
  /** Where the run's output was logged. */
  logPath?: string;
  /** The call's identity (its normalised arguments). */
  call?: string;
  /** True when the result came from the cache without running anything. */
  cached?: boolean;
  /** When cached: when the run that computed it finished (ISO 8601). */
  computedAt?: string;
  /** The shipped files whose open buffer differs from the disk: the run ran the buffer's text. */
  unsaved?: string[];
}

/** Builds the stored record from a backend outcome; `defLine` anchors frame lines. */
export function recordFromOutcome(
  outcome: RunOutcome,
  context: { runId: string; function: string; mode: RunMode; args: string; backend: string; call?: string; version?: CodeVersion; boundTo?: string },
): RunRecord {
  const base = {
    ...context,
    stdout: shorterTail(outcome.stdout),
    stderr: shorterTail(outcome.stderr),
    durationMs: outcome.durationMs,
    finishedAt: new Date().toISOString(),
  };
  if (outcome.status === 'cancelled') return { ...base, status: 'cancelled' };
  if (outcome.status === 'error') {
    // Shipped source line 1 is the `def` line, so a frame's offset from `def` is line - 1.
    const frames = outcome.error.frames.map((frame) => ({ ...frame, relativeLine: frame.line - 1 }));
    const innermost = frames[frames.length - 1];
    const error: StoredError = {
      type: outcome.error.type,
      message: outcome.error.message,
      origin: outcome.error.origin,
      frames,
    };
    if (innermost) error.relativeLine = innermost.relativeLine;
    if (outcome.error.traceback !== undefined) error.traceback = outcome.error.traceback;
    return { ...base, status: 'error', error };
  }
  if ('ref' in outcome) return { ...base, status: 'ok', ref: outcome.ref };
  return { ...base, status: 'ok', value: outcome.value };
}

/** The record of a run cancelled before it started (while it waited in the queue). */
export function cancelledRecord(context: { runId: string; function: string; mode: RunMode; args: string; backend: string; call?: string }): RunRecord {
  return { ...context, status: 'cancelled', stdout: '', stderr: '', durationMs: 0, finishedAt: new Date().toISOString() };
}

/** The command result for a record, with error lines placed in the document as it is now. */
export function commandResult(record: RunRecord, defLine: number | undefined): RunCommandResult {
  const result: RunCommandResult = {
    status: record.status,
    runId: record.runId,
    function: record.function,
    args: record.args,
    stdout: record.stdout,
    stderr: record.stderr,
    durationMs: record.durationMs,
    backend: record.backend,
  };
  if (record.logPath) result.logPath = record.logPath;
  if (record.call !== undefined) result.call = record.call;
  if (record.cached) {
    result.cached = true;
    result.computedAt = record.cached.computedAt;
  }
  if (record.value) {
    // The pickle is for chaining, not for clients.
    const { pickle: _pickle, ...value } = record.value;
    result.value = value;
  }
  if (record.ref) result.ref = record.ref;
  if (record.error) {
    const error: NonNullable<RunCommandResult['error']> = {
      type: record.error.type,
      message: record.error.message,
    };
    if (defLine !== undefined) {
      const line = errorLine(record, defLine);
      if (line !== undefined) error.line = line;
      error.frames = record.error.frames.map(({ relativeLine, ...frame }) => ({
        ...frame,
        documentLine: defLine + relativeLine,
      }));
    }
    result.error = error;
  }
  return result;
}

/** The document line a stored error points at, given where the function's `def` is now; none for backend errors. */
export function errorLine(record: RunRecord, defLine: number): number | undefined {
  if (record.error?.relativeLine === undefined) return undefined;
  return defLine + record.error.relativeLine;
}
