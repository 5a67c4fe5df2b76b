// The Dask backend: runs execute the shared runner on a Dask worker (`client.submit`) through one
// warm local driver process (`dask-driver.ts`), with the runner's start/poll/cancel reports, so
// the engine sees the same contract as on the other backends. Refs stay on the cluster as
// published datasets; submitted runs are fire-and-forget tasks a later server finds again.
import { dirname } from 'node:path';
import type {
  ArtifactRef,
  Backend,
  CodeUpload,
  BackendFailure,
  FetchOptions,
  RunOptions,
  RunOutcome,
  RunPayload,
  SubmitRequest,
  SubmittedHandle,
  SubmittedStatus,
} from '../backend.js';
import { mapLogicalPath } from '../fs-paths.js';
import { describeExit, PythonExitedError } from '../local/python-process.js';
import { OutputTail } from '../output-tail.js';
import { removeAbandonedPartials } from '../partial-files.js';
import { RunnerChannel, type RunnerCommands } from '../runner-channel.js';
import { artifactRefFrom, endings, outcomeFromEnvelope, parseMissingImports, RUN_ID_PATTERN } from '../runner-protocol.js';
import { pause, pollRunner } from '../runner-poll.js';
import { DaskDriver, driverCall, type DaskClusterInfo, type DaskDriverOptions } from './dask-driver.js';
import { formatBytes } from '../../engine/format.js';

export interface DaskBackendOptions extends Omit<DaskDriverOptions, 'connectTimeoutMs'> {
  connectTimeoutMs?: number;
  /** How long a cancelled run may take to stop before `cancelled` is reported anyway. */
  cancelGraceMs?: number;
}

/** How long the driver's `poll` waits for news: the loop needs no gap of its own. */
const POLL_WAIT_MS = 25;
/** The pipe to the driver has no output cap; a large budget keeps heavy output to few round trips. */
const DRIVER_REPORT_BUDGET = 1 << 20;

/** The runner's start/poll/cancel, spelled as driver calls (the driver answers with the runner's reports). */
const DRIVER_COMMANDS: RunnerCommands = {
  start: (payload, budget) => driverCall('start', payload, budget),
  poll: (runId, cursor) => driverCall('poll', runId, cursor.out, cursor.err, cursor.envelope, cursor.budget, POLL_WAIT_MS),
  cancel: (runId, cursor) => driverCall('cancel', runId, cursor.out, cursor.err, cursor.envelope, cursor.budget),
};
const CONNECT_TIMEOUT_MS = 10_000;
const CANCEL_GRACE_MS = 5000;
const FETCH_POLL_MS = 200;

/** `tcp://host:port` and the other Dask comm schemes; anything else is refused before a connect. */
const SCHEDULER_PATTERN = /^(tcp|tls|ws|wss|ucx|inproc):\/\/[^\s'"\\]+$/;

/** Checks a scheduler address; a message saying what is wrong, or undefined when it is usable. */
export function schedulerProblem(address: string | null | undefined): string | undefined {
  if (!address) return 'no Dask scheduler is set: set `choppa.dask.scheduler` (or DASK_SCHEDULER_ADDRESS) to tcp://host:port';
  if (!SCHEDULER_PATTERN.test(address)) return `the Dask scheduler address ${JSON.stringify(address)} is not like tcp://host:port`;
  return undefined;
}

interface SubmittedAnswer {
  state: 'running' | 'failed' | 'ended';
  message?: string;
  envelope?: unknown;
}

/**
 * Invariant: at most one live driver; `spawning` is the one connect in progress, and a driver
 * whose client lost the scheduler is closed so the next run connects afresh.
 */
export class DaskBackend implements Backend {
  readonly kind = 'dask' as const;
  private readonly options: DaskBackendOptions;
  private live: DaskDriver | undefined;
  private spawning: Promise<DaskDriver | BackendFailure> | undefined;
  private disposed = false;

  constructor(options: DaskBackendOptions) {
    this.options = options;
  }

  label(): string {
    return `dask ${this.options.scheduler}`;
  }

  /** The pid of the warm driver process, when there is one (for tests and diagnostics). */
  driverPid(): number | undefined {
    return this.live?.alive ? this.live.process.pid : undefined;
  }

  async run(payload: RunPayload, options: RunOptions = {}): Promise<RunOutcome> {
    const started = Date.now();
    const { signal, onProgress } = options;
    const output = { stdout: new OutputTail(), stderr: new OutputTail() };
    const { backendError, cancelled } = endings(started, output);

    if (this.disposed) return backendError('the Dask backend was shut down; run again to start a new one');
    if (!RUN_ID_PATTERN.test(payload.run_id)) return backendError(`run id ${JSON.stringify(payload.run_id)} is not [A-Za-z0-9_.-]+`);
    if (signal?.aborted) return cancelled();
    const driver = await this.ensureDriver(onProgress);
    if ('failure' in driver) return backendError(driver.failure);
    if (signal?.aborted) return cancelled();
    const cluster = await driver.call<DaskClusterInfo>('info');
    // Dask queues a run until a worker comes; say so rather than look stuck.
    const waiting = !('failure' in cluster) && cluster.workers === 0;
    onProgress?.({
      message: waiting
        ? `waiting for a Dask worker: the scheduler at ${this.options.scheduler} has none yet`
        : `running ${payload.function_name} on dask ${this.options.scheduler}`,
    });

    const outcome = await pollRunner(
      {
        payload,
        channel: new RunnerChannel(payload.run_id, DRIVER_REPORT_BUDGET, DRIVER_COMMANDS),
        send: async (command, { cancelSent }) => {
          try {
            const answer = await driver.command(command);
            if (answer.ok) return { text: answer.result };
            const last = answer.error.trim().split('\n').pop() ?? answer.error;
            return { end: backendError(`the Dask driver failed while running ${payload.function_name}: ${last}`) };
          } catch (error) {
            if (cancelSent) return { end: cancelled() };
            if (driver.timedOut) {
              return {
                end: backendError(
                  `the Dask scheduler at ${this.options.scheduler} did not answer within ${driver.commandTimeoutMs / 1000} s while running ${payload.function_name}; the driver was restarted, run again`,
                ),
              };
            }
            const exit = error instanceof PythonExitedError ? describeExit(error.exit) : String(error);
            return { end: backendError(`the Dask driver process exited (${exit}) while running ${payload.function_name}; it will be restarted on the next run`) };
          }
        },
        output,
        backendError,
        cancelled,
        unknownRun: () => backendError(`the Dask driver no longer knows run ${payload.run_id} of ${payload.function_name}; run it again`),
        cancelGraceMs: this.options.cancelGraceMs ?? CANCEL_GRACE_MS,
        firstDelayMs: 0,
        maxDelayMs: 0,
        log: (message) => this.log(message),
      },
      options,
    );
    if (outcome.status === 'error' && outcome.error.origin === 'backend') await this.dropIfDisconnected(driver);
    return outcome;
  }

  /**
   * Puts the bundle where the runner of every worker finds it (its storage path under the
   * worker's own root), new workers included; once per path and hash for this driver.
   */
  async shipCode(code: CodeUpload, _options?: FetchOptions): Promise<{ uploaded: boolean } | BackendFailure> {
    if (mapLogicalPath('/', code.path) === undefined) {
      return { failure: `${code.path} is not a storage path (expected /Workspace/..., /Volumes/... or dbfs:/...)` };
    }
    const driver = await this.ensureDriver(undefined);
    if ('failure' in driver) return driver;
    const answer = await driver.call<{ uploaded?: boolean; failure?: string }>('ship_code', code.path, code.hash, Buffer.from(code.zip).toString('base64'));
    if ('failure' in answer) return { failure: answer.failure ?? 'the Dask driver could not ship the project code' };
    return { uploaded: answer.uploaded === true };
  }

  /** Asks the runner of a worker which of these modules it cannot import. */
  async missingImports(names: readonly string[], _options?: FetchOptions): Promise<string[] | BackendFailure> {
    if (names.length === 0) return [];
    const driver = await this.ensureDriver(undefined);
    if ('failure' in driver) return driver;
    const answer = await driver.call<{ text?: string; failure?: string }>('missing', Buffer.from(JSON.stringify(names), 'utf8').toString('base64'));
    if ('failure' in answer) return { failure: answer.failure ?? 'the Dask driver could not check imports' };
    return parseMissingImports(answer.text ?? '');
  }

  async readArtifactMetadata(path: string, _options?: FetchOptions): Promise<ArtifactRef | BackendFailure> {
    if (mapLogicalPath('/', path) === undefined) return refusedPath(path);
    const driver = await this.ensureDriver(undefined);
    if ('failure' in driver) return driver;
    const answer = await driver.call<{ ref?: unknown; missing?: string }>('artifact', path);
    if ('failure' in answer) return answer;
    if (answer.missing !== undefined) return { failure: answer.missing };
    return artifactRefFrom(answer.ref) ?? { failure: `the metadata of artifact ${path} on the Dask cluster is incomplete` };
  }

  /** Gathers the artifact's pickle from the workers in slices, straight into `destination`. */
  async fetchArtifact(path: string, destination: string, options: FetchOptions = {}): Promise<{ size: number; sha256: string } | BackendFailure> {
    if (mapLogicalPath('/', path) === undefined) return refusedPath(path);
    const driver = await this.ensureDriver(options.onProgress);
    if ('failure' in driver) return driver;
    // The driver names its partial files as `partialPath` does; what a killed one left goes first.
    await removeAbandonedPartials(dirname(destination));
    const begun = await driver.call<{ id?: string; missing?: string }>('fetch', path, destination);
    if ('failure' in begun) return begun;
    if (begun.id === undefined) return { failure: begun.missing ?? `artifact ${path} could not be fetched` };
    let reported = -10;
    for (;;) {
      const aborted = options.signal?.aborted === true;
      const job = await driver.call<{ state: string; written?: number; total?: number; size?: number; sha256?: string; error?: string; missing?: string }>(
        'fetch_poll',
        begun.id,
        aborted ? 0 : FETCH_POLL_MS,
        aborted,
      );
      if ('failure' in job) return job;
      if (job.state === 'done') {
        if (aborted) return { failure: `fetching ${path} was cancelled` };
        if (job.missing !== undefined) return { failure: job.missing };
        if (job.error !== undefined) return { failure: `could not gather artifact ${path} from the Dask cluster (${job.error})` };
        return { size: job.size ?? 0, sha256: job.sha256 ?? '' };
      }
      const percentage = job.total ? Math.floor(((job.written ?? 0) / job.total) * 100) : 0;
      if (percentage >= reported + 10) {
        reported = percentage;
        options.onProgress?.({ message: `downloading ${path} (${formatBytes(job.written ?? 0)} of ${formatBytes(job.total ?? 0)})`, percentage });
      }
      if (aborted) await pause(20, undefined);
    }
  }

  /** `fire_and_forget` on the cluster, with a published dataset as the handle. */
  async submit(request: SubmitRequest, _options?: FetchOptions): Promise<SubmittedHandle | BackendFailure> {
    if (this.disposed) return { failure: 'the Dask backend was shut down; submit again to start a new one' };
    if (!RUN_ID_PATTERN.test(request.payload.run_id)) return { failure: `run id ${JSON.stringify(request.payload.run_id)} is not [A-Za-z0-9_.-]+` };
    const driver = await this.ensureDriver(undefined);
    if ('failure' in driver) return driver;
    const answer = await driver.call<{ handle?: { run_id: string; dataset: string; scheduler: string }; failure?: string }>(
      'submit',
      { ...request.payload, mode: 'artifact' },
      request.idempotencyToken,
    );
    if ('failure' in answer) return { failure: answer.failure ?? 'the Dask driver refused the submit' };
    if (!answer.handle) return { failure: 'the Dask driver returned no handle' };
    const { run_id: runId, dataset, scheduler } = answer.handle;
    return { runId, data: { dataset, scheduler } };
  }

  async submittedStatus(handle: SubmittedHandle, _options?: FetchOptions): Promise<SubmittedStatus | BackendFailure> {
    const dataset = this.datasetOf(handle);
    if ('failure' in dataset) return dataset;
    const driver = await this.ensureDriver(undefined);
    if ('failure' in driver) return driver;
    const answer = await driver.call<SubmittedAnswer>('submitted', dataset.name);
    if ('failure' in answer) {
      await this.dropIfDisconnected(driver);
      return answer;
    }
    if (answer.state === 'running') return { state: 'running' };
    if (answer.state === 'failed') {
      const message = answer.message ?? 'the submitted run failed';
      return { state: 'failed', stateMessage: message, error: { type: 'BackendError', message, frames: [], origin: 'backend' } };
    }
    const outcome = outcomeFromEnvelope(answer.envelope);
    if ('failure' in outcome) return { state: 'failed', stateMessage: outcome.failure };
    const logs = outcome.stdout + outcome.stderr;
    if (outcome.status === 'cancelled') return { state: 'cancelled', logs };
    if (outcome.status === 'error') return { state: 'failed', stateMessage: outcome.error.message, error: outcome.error, logs };
    if ('ref' in outcome) return { state: 'succeeded', ref: outcome.ref, logs };
    return { state: 'failed', stateMessage: 'the submitted run returned a value instead of a ref', logs };
  }

  async cancelSubmitted(handle: SubmittedHandle): Promise<{ cancelled: true } | BackendFailure> {
    const dataset = this.datasetOf(handle);
    if ('failure' in dataset) return dataset;
    const driver = await this.ensureDriver(undefined);
    if ('failure' in driver) return driver;
    const answer = await driver.call<string>('cancel_submitted', handle.runId);
    return typeof answer === 'object' && 'failure' in answer ? answer : { cancelled: true };
  }

  /** How many submitted runs the scheduler holds handles for (tests count started runs). */
  async countSubmitted(): Promise<number | BackendFailure> {
    const driver = await this.ensureDriver(undefined);
    if ('failure' in driver) return driver;
    return driver.call<number>('count_submitted');
  }

  /** Closes the client and ends the driver; submitted runs keep going on the cluster. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const spawning = await this.spawning;
    await Promise.all([this.live, spawning].map((driver) => (driver && !('failure' in driver) ? driver.close() : undefined)));
    this.live = undefined;
  }

  private datasetOf(handle: SubmittedHandle): { name: string } | BackendFailure {
    const { dataset, scheduler } = handle.data as { dataset?: unknown; scheduler?: unknown };
    if (typeof dataset !== 'string' || !dataset.startsWith('choppa-submit:')) return { failure: `run ${handle.runId} has no Dask handle` };
    if (scheduler !== this.options.scheduler) {
      return { failure: `run ${handle.runId} was submitted to the Dask scheduler at ${String(scheduler)}, not ${this.options.scheduler}` };
    }
    return { name: dataset };
  }

  /**
   * The live driver, connecting one when there is none or when its client is no longer connected
   * to the scheduler it registered with (closed after the scheduler was gone longer than its
   * connect timeout, or reconnected to a restarted one that lacks its runner); runs arriving
   * together share it.
   */
  private async ensureDriver(onProgress: RunOptions['onProgress']): Promise<DaskDriver | BackendFailure> {
    if (this.disposed) return { failure: 'the Dask backend was shut down' };
    const live = this.live;
    if (live?.alive) {
      // A local check in the driver (one pipe round trip), no scheduler call.
      const connected = await live.call<boolean>('connected');
      if (connected === true) return live;
      // A driver that hung on it was killed: say so, as any command past its deadline does.
      if (live.timedOut && typeof connected === 'object') {
        if (this.live === live) this.live = undefined;
        return connected;
      }
      await this.drop(live);
    }
    return this.connectDriver(onProgress);
  }

  private connectDriver(onProgress: RunOptions['onProgress']): Promise<DaskDriver | BackendFailure> {
    if (this.disposed) return Promise.resolve({ failure: 'the Dask backend was shut down' });
    if (this.live?.alive) return Promise.resolve(this.live);
    if (!this.spawning) {
      onProgress?.({ message: `connecting to the Dask scheduler at ${this.options.scheduler}` });
      const problem = schedulerProblem(this.options.scheduler);
      this.spawning = (problem
        ? Promise.resolve({ failure: problem })
        : DaskDriver.connect({ ...this.options, connectTimeoutMs: this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS })
      ).then((result) => {
        this.spawning = undefined;
        if (!('failure' in result)) this.live = result;
        return result;
      });
    }
    return this.spawning;
  }

  /** Closes a driver whose client lost the scheduler, so the next request reconnects. */
  private async dropIfDisconnected(driver: DaskDriver): Promise<void> {
    const connected = driver.alive ? await driver.call<boolean>('connected') : false;
    if (connected === true) return;
    await this.drop(driver);
  }

  private async drop(driver: DaskDriver): Promise<void> {
    this.log(`the Dask driver lost the scheduler at ${this.options.scheduler}; reconnecting`);
    if (this.live === driver) this.live = undefined;
    await driver.close();
  }

  private log(message: string): void {
    this.options.logger?.(message);
  }
}

function refusedPath(path: string): BackendFailure {
  return {
    failure: `${path} is not a storage path this backend can read (expected /Workspace/..., /Volumes/... or dbfs:/... without \`..\`)`,
  };
}
