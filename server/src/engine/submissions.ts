// Fire-and-forget runs (`@inst.submit`, `choppa.submit`): the idempotency token is stored before
// the request, the handle right after, and every run not yet ended is polled with backoff, also
// after a restart, until its result (an ArtifactRef) or its error is stored like any run's.
import { randomUUID } from 'node:crypto';
import type { Backend, RunPayload, SubmitCompute, SubmittedStatus } from '../backends/backend.js';
import { isFailure } from '../backends/backend.js';
import { runLogPath } from './run-log.js';
import { stateSubdir, writeAtomic } from './state-dir.js';
import type { ResultStore, SubmissionRecord, SubmissionTarget } from './result-store.js';
import type { RunRecord } from './run-record.js';
import type { CodeVersion } from './result-identity.js';
import { boundedOutput } from '../backends/output-tail.js';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_FIRST_MS = 500;
const POLL_MAX_MS = 15_000;
/** How many submitted runs `refresh` checks at once. */
const REFRESH_AT_ONCE = 8;

/** True once a submitted run can change no more. */
export function hasEnded(record: SubmissionRecord): boolean {
  return ENDED.has(record.state);
}

export interface SubmissionsOptions {
  store: ResultStore;
  stateDir: string;
  /** The backend a submission's target names, or why there is none now. */
  backendFor: (target: SubmissionTarget) => Backend | { failure: string };
  /** Called whenever a submission changes state (and once with `ended` when it ends). */
  onChange: (record: SubmissionRecord, ended: boolean) => void;
  warn: (message: string) => void;
}

export interface SubmitInput {
  key: string;
  /** The call's identity and code version, so the result lands on the call it came from. */
  call: string;
  version: CodeVersion;
  payload: RunPayload;
  compute: SubmitCompute;
  target: SubmissionTarget;
  backend: Backend;
}

/** Owns the polling timers of one workspace's submitted runs. */
export class Submissions {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private disposed = false;

  constructor(private readonly options: SubmissionsOptions) {}

  /** Submits a run: token stored first, handle stored on answer; then polled until it ends. */
  async submit(input: SubmitInput): Promise<SubmissionRecord> {
    const now = new Date().toISOString();
    const record: SubmissionRecord = {
      id: input.payload.run_id,
      key: input.key,
      function: input.payload.function_name,
      args: input.payload.args_source,
      call: input.call,
      version: input.version,
      idempotencyToken: randomUUID(),
      compute: input.compute,
      target: input.target,
      payload: input.payload,
      state: 'submitting',
      backend: input.backend.label(),
      createdAt: now,
      updatedAt: now,
    };
    // Invariant: the token is on disk before the request leaves, so a crash between the
    // request and its answer resubmits with the same token instead of starting a second run.
    this.options.store.setSubmission(record);
    return this.send(record, input.backend);
  }

  /** Picks up every submitted run that has not ended (after a restart, or from the CLI). */
  resume(): void {
    for (const record of this.options.store.allSubmissions()) {
      if (hasEnded(record) || this.timers.has(record.id)) continue;
      const backend = this.options.backendFor(record.target);
      if ('failure' in backend) {
        this.options.warn(`Cannot follow submitted run ${record.function} (${record.id}): ${backend.failure}`);
        continue;
      }
      if (record.handle === undefined) void this.send(record, backend);
      else this.schedule(record.id, 0, POLL_FIRST_MS);
    }
  }

  /**
   * Asks where they run for the state of every submitted run that has not ended, a few at a
   * time (for `choppa-lsp runs`, which would otherwise print what the last look saw); resolves
   * with the runs whose state could not be checked, and why.
   */
  async refresh(): Promise<Array<{ id: string; failure: string }>> {
    const open = this.options.store.allSubmissions().filter((record) => !hasEnded(record) && record.handle !== undefined);
    const failures: Array<{ id: string; failure: string }> = [];
    for (let start = 0; start < open.length; start += REFRESH_AT_ONCE) {
      await Promise.all(
        open.slice(start, start + REFRESH_AT_ONCE).map(async (record) => {
          const failure = await this.poll(record.id).then(
            () => this.lastPollFailure.get(record.id),
            (error: unknown) => (error as Error).message,
          );
          if (failure !== undefined) failures.push({ id: record.id, failure });
        }),
      );
    }
    return failures;
  }

  /** Why the last status check of a run failed, until one succeeds. */
  private readonly lastPollFailure = new Map<string, string>();

  /** Polls a run until it ends; resolves with its final record (for `choppa-lsp wait`). */
  async wait(id: string, onState?: (record: SubmissionRecord) => void): Promise<SubmissionRecord | undefined> {
    let delay = POLL_FIRST_MS;
    for (;;) {
      const record = this.options.store.submission(id);
      if (!record) return undefined;
      onState?.(record);
      if (hasEnded(record)) return record;
      await this.poll(id);
      const after = this.options.store.submission(id);
      if (after && hasEnded(after)) return after;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
  }

  /** Cancels a submitted run where it runs. */
  async cancel(id: string): Promise<{ cancelled: true } | { failure: string }> {
    const record = this.options.store.submission(id);
    if (!record) return { failure: `No submitted run ${id}.` };
    if (hasEnded(record)) return { failure: `${record.function} (${id}) has already ${record.state === 'succeeded' ? 'finished' : record.state}.` };
    if (!record.handle) return { failure: `${record.function} (${id}) is still being submitted; cancel again in a moment.` };
    const backend = this.options.backendFor(record.target);
    if ('failure' in backend) return backend;
    const cancelled = await backend.cancelSubmitted(record.handle);
    if (isFailure(cancelled)) return cancelled;
    await this.poll(id);
    return { cancelled: true };
  }

  dispose(): void {
    this.disposed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async send(record: SubmissionRecord, backend: Backend): Promise<SubmissionRecord> {
    const handle = await backend.submit({
      payload: record.payload as RunPayload,
      idempotencyToken: record.idempotencyToken,
      compute: record.compute,
    });
    if (isFailure(handle)) {
      const failed: SubmissionRecord = { ...record, state: 'failed', stateMessage: handle.failure };
      this.finish(failed, { state: 'failed', error: { type: 'SubmitError', message: handle.failure, frames: [], origin: 'backend' } });
      return failed;
    }
    const { payload: _sent, ...rest } = record;
    const submitted: SubmissionRecord = { ...rest, handle, state: 'pending' };
    this.options.store.setSubmission(submitted);
    this.options.onChange(submitted, false);
    this.schedule(submitted.id, POLL_FIRST_MS, POLL_FIRST_MS);
    return submitted;
  }

  private schedule(id: string, delay: number, next: number): void {
    if (this.disposed) return;
    const timer = setTimeout(() => {
      this.timers.delete(id);
      void this.poll(id).then((ended) => {
        if (!ended) this.schedule(id, next, Math.min(next * 2, POLL_MAX_MS));
      });
    }, delay);
    timer.unref();
    this.timers.set(id, timer);
  }

  /** Asks the backend once; returns true when the run has ended. */
  private async poll(id: string): Promise<boolean> {
    const record = this.options.store.submission(id);
    if (!record?.handle) return record ? hasEnded(record) : true;
    if (hasEnded(record)) return true;
    const backend = this.options.backendFor(record.target);
    if ('failure' in backend) {
      this.lastPollFailure.set(id, backend.failure);
      return false;
    }
    const status = await backend.submittedStatus(record.handle);
    if (isFailure(status)) {
      this.lastPollFailure.set(id, status.failure);
      this.options.warn(`Could not check submitted run ${record.function} (${record.handle.runId}): ${status.failure}`);
      return false;
    }
    this.lastPollFailure.delete(id);
    const changed = status.state !== record.state || status.stateMessage !== record.stateMessage;
    if (!changed) return false;
    const updated: SubmissionRecord = { ...record, state: status.state };
    if (status.stateMessage !== undefined) updated.stateMessage = status.stateMessage;
    if (ENDED.has(status.state)) {
      // The result goes in before the run is marked ended: a writer killed between the two lines
      // leaves a run still to follow, whose next look stores its result again, never an ended run
      // without one.
      this.finish(updated, status);
      return true;
    }
    this.options.store.setSubmission(updated);
    this.options.onChange(updated, false);
    return false;
  }

  /** Stores the ended run's result like any run's, with its logs, and says so. */
  private finish(record: SubmissionRecord, status: SubmittedStatus): void {
    // Every ended job has a log to show, like every run (a silent job's says how it ended).
    let logPath: string | undefined = runLogPath(this.options.stateDir, record.function, record.id);
    const header = `# ${record.function}(${record.args}) submitted as ${record.handle?.runId ?? record.id} on ${record.backend}, ${record.createdAt}\n`;
    try {
      stateSubdir(this.options.stateDir, 'logs');
      writeAtomic(logPath, `${header}${status.logs ?? ''}${status.logs && !status.logs.endsWith('\n') ? '\n' : ''}# ${status.state}\n`);
    } catch (error) {
      this.options.warn(`Could not write ${logPath}: ${(error as Error).message}`);
      logPath = undefined;
    }
    const result: RunRecord = {
      runId: record.id,
      function: record.function,
      mode: 'artifact',
      status: status.state === 'succeeded' ? 'ok' : status.state === 'cancelled' ? 'cancelled' : 'error',
      args: record.args,
      ...(record.call !== undefined ? { call: record.call } : {}),
      ...(record.version !== undefined ? { version: record.version } : {}),
      // The log file has all of it; the record keeps the bounded tail, as for runs.
      stdout: boundedOutput(status.logs ?? ''),
      stderr: '',
      durationMs: Date.now() - Date.parse(record.createdAt),
      backend: record.backend,
      finishedAt: new Date().toISOString(),
      ...(logPath !== undefined ? { logPath } : {}),
      ...(record.handle ? { submitted: { runId: record.handle.runId, ...(record.handle.runPageUrl ? { runPageUrl: record.handle.runPageUrl } : {}) } } : {}),
    };
    if (status.ref) result.ref = status.ref;
    if (status.state === 'failed') {
      const error = status.error ?? { type: 'JobFailed', message: status.stateMessage ?? 'the job failed', frames: [], origin: 'remote' as const };
      const frames = error.frames.map((frame) => ({ ...frame, relativeLine: frame.line - 1 }));
      result.error = { type: error.type, message: error.message, origin: error.origin, frames };
      const innermost = frames[frames.length - 1];
      if (innermost) result.error.relativeLine = innermost.relativeLine;
      if (error.traceback) result.error.traceback = error.traceback;
    }
    this.options.store.set(record.key, result);
    this.options.store.setSubmission(record);
    this.options.onChange(record, true);
  }
}
