// The Databricks backend: one warm python execution context per (host, cluster), with runner.py
// installed once, driven by the same short start/poll/cancel commands as the local process. It
// makes sure the cluster runs first, recreates a lost context for the next run, and turns every
// failure of the workspace into a backend error that says what happened and what to do.
import type {
  ArtifactRef,
  Backend,
  BackendFailure,
  CodeUpload,
  FetchOptions,
  ProgressReport,
  RunOptions,
  RunOutcome,
  RunPayload,
  SubmitRequest,
  SubmittedHandle,
  SubmittedStatus,
} from '../backend.js';
import { OutputTail } from '../output-tail.js';
import { isTruncatedResult, RunnerChannel } from '../runner-channel.js';
import { endings, isMissingRunner, missingImportsCommand, parseMissingImports, RUN_ID_PATTERN, runnerBuildOf, runnerGuard, runnerInstall } from '../runner-protocol.js';
import { pollRunner, type CancelState, type CommandAnswer } from '../runner-poll.js';
import { fetchArtifact, readArtifactMetadata, type TransferContext } from './artifact-transfer.js';
import { shipCode } from './code-upload.js';
import { readOutputFiles } from './output-files.js';
import { canRunCommands, describeClusterState, ensureClusterRunning, getCluster } from './cluster-lifecycle.js';
import {
  createContext,
  destroyContext,
  executeCommand,
  pause,
  type CommandOutcome,
  type ContextAddress,
  type PollSchedule,
} from './command-execution.js';
import { describeApiFailure, isAuthFailure } from './failure-messages.js';
import type { DatabricksHttpClient } from './http-client.js';
import { cancelJob, jobStatus, submitJob, type JobContext } from './job-submission.js';
import { reportBudgetFor, spillThresholdFor } from './runtime-limits.js';
import { DEFAULT_SETTINGS } from '../../config/settings.js';
import { raceAbort } from '../promise-races.js';

/** Waits and limits; the defaults suit a real workspace, tests shorten the cluster ones. */
export interface DatabricksTiming {
  /** Gap after the first `commands/status` check, which follows `commands/execute` at once (default 1 ms, growing). */
  commandPollFirstMs?: number;
  /** Longest gap between status checks of one command (default 1 s). */
  commandPollMaxMs?: number;
  /** First gap between runner polls after the first (at once); reset whenever output arrives (default 10 ms). */
  runnerPollFirstMs?: number;
  /** Longest gap between runner polls (default 1 s). */
  runnerPollMaxMs?: number;
  /** First `contexts/status` check (default 50 ms). */
  contextPollFirstMs?: number;
  contextPollMaxMs?: number;
  /** Give up on a context that stays Pending (default 10 min). */
  contextTimeoutMs?: number;
  /** Wait before creating another context after one ended `Error`, doubled each time (default 1 s). */
  contextRetryMs?: number;
  /** First `clusters/get` re-check while the cluster starts (default 1 s, growing). */
  clusterPollFirstMs?: number;
  /** Longest gap between cluster checks (default 10 s, as the SDKs). */
  clusterPollMaxMs?: number;
  /** Give up waiting for RUNNING (default 20 min, as the SDKs). */
  clusterTimeoutMs?: number;
  /** How long the runner gets to stop a cancelled run before `commands/cancel` and `cancelled` anyway (default 5 s). */
  cancelGraceMs?: number;
  /** The longest one short runner command may take (default 5 min); then it is cancelled. */
  commandTimeoutMs?: number;
}

export interface DatabricksBackendOptions {
  client: DatabricksHttpClient;
  /** The workspace URL, for messages. */
  host: string;
  clusterId: string;
  /** The text of server/python/runner.py, executed once per context. */
  runnerSource: string;
  /** Start a TERMINATED cluster instead of failing (`choppa.autoStartCluster`). */
  autoStartCluster: boolean;
  logger?: (message: string) => void;
  timing?: DatabricksTiming;
  /**
   * The most characters one runner report may have. Default: from the cluster's runtime
   * (`runtime-limits.ts`), below its command output cap.
   */
  reportBudget?: number;
  /** The serverless environment version of submitted jobs (`choppa.serverless.environmentVersion`). */
  serverlessEnvironmentVersion?: string;
  /** Told when the warm context changes (recorded so `choppa-lsp context restart` can find it). */
  onContextChange?: (change: { created: string } | { dropped: string }) => void;
  /**
   * Warm contexts across processes (the CLI): the context another run of this project recorded
   * is adopted when it is still running, instead of creating one (seconds on a real cluster),
   * and is left running at exit for the next invocation.
   */
  reuseContext?: { recorded: () => string | undefined; keepOnDispose: boolean };
}

type ContextAcquired = { ok: true; id: string } | { ok: false; failure: string; cancelled?: true };

/** One context creation that runs may join; it is aborted when every run waiting on it is. */
interface Creation {
  promise: Promise<ContextAcquired>;
  controller: AbortController;
  listeners: Set<(report: ProgressReport) => void>;
  /** The stage reported last, told to a run that joins later (one started by `prepare`). */
  last?: ProgressReport;
  waiters: number;
}

const GROWTH = 1.5;

/** How many contexts one run creates before it reports that none starts. */
const CONTEXT_START_ATTEMPTS = 3;

/**
 * Invariant: at most one context is in use (`contextId`) and at most one is being created
 * (`creation`); a run that finds the context gone clears `contextId` only if it still names
 * that context, so concurrent runs never throw away a newer one.
 */
export class DatabricksBackend implements Backend {
  readonly kind = 'databricks' as const;
  private readonly options: DatabricksBackendOptions;
  private readonly timing: Required<DatabricksTiming>;
  private contextId: string | undefined;
  private creation: Creation | undefined;
  /** Learnt from the cluster's runtime when a context is created; halved for good after a cut report. */
  private reportBudget: number;
  private disposed = false;
  /** The line every `start` goes behind (`runnerGuard`); none when our runner names no version. */
  private readonly guard: string | undefined;
  /** The command that installs our runner, under its build (`runnerInstall`). */
  private readonly install: string;
  /** A recorded context another build's runner was busy in: not adopted again. */
  private busyElsewhere: string | undefined;

  constructor(options: DatabricksBackendOptions) {
    this.options = options;
    this.timing = {
      commandPollFirstMs: 1,
      commandPollMaxMs: 1000,
      runnerPollFirstMs: 10,
      runnerPollMaxMs: 1000,
      contextPollFirstMs: 50,
      contextPollMaxMs: 1000,
      contextTimeoutMs: 10 * 60_000,
      contextRetryMs: 1000,
      clusterPollFirstMs: 1000,
      clusterPollMaxMs: 10_000,
      clusterTimeoutMs: 20 * 60_000,
      cancelGraceMs: 5000,
      commandTimeoutMs: 5 * 60_000,
      ...options.timing,
    };
    this.reportBudget = options.reportBudget ?? reportBudgetFor(undefined);
    const build = runnerBuildOf(options.runnerSource);
    this.guard = build === undefined ? undefined : runnerGuard(build);
    this.install = runnerInstall(options.runnerSource, build);
  }

  /**
   * The current user's own folder (`/Workspace/Users/<user name>/.choppa/artifacts`, from the SCIM
   * `Me` endpoint, asked once): `/Workspace/Shared` would show one person's results, often data
   * extracts, to every user of the workspace.
   */
  async defaultArtifactDir(options: FetchOptions = {}): Promise<string | BackendFailure> {
    this.artifactHome ??= this.options.client.request<{ userName?: string }>('GET', '/api/2.0/preview/scim/v2/Me').then((answer) => {
      if (answer.ok && typeof answer.value.userName === 'string' && /^[^/\\\0]+$/.test(answer.value.userName)) {
        return `/Workspace/Users/${answer.value.userName}/.choppa/artifacts`;
      }
      this.artifactHome = undefined;
      // Refused credentials or an unreachable host are what the user must fix, not the folder.
      if (!answer.ok && (isAuthFailure(answer.error) || answer.error.status === 0 || answer.error.status >= 429)) {
        return { failure: describeApiFailure(answer.error, 'looking up your user folder for artifacts', this.options.host, this.options.client.configFile) };
      }
      const why = answer.ok ? 'the answer had no user name' : answer.error.message;
      return { failure: `could not find your user folder for artifacts (${why}); set \`artifact_dir\` in Choppa(...) or the setting choppa.artifactDir` };
    });
    // The lookup is shared by every run that needs it; a run cancelled meanwhile stops waiting
    // at once (an unreachable host is retried for minutes), the lookup goes on for the others.
    const home = await raceAbort(this.artifactHome, options.signal);
    return home === 'aborted' ? { failure: 'cancelled while looking up your user folder for artifacts' } : home;
  }

  private artifactHome: Promise<string | BackendFailure> | undefined;

  /**
   * Starts acquiring the context (checking a recorded one, or creating one) without waiting, so
   * that its round trips overlap the user-folder lookup before a run; the run joins it.
   */
  prepare(): void {
    if (this.disposed || this.contextId !== undefined || this.creation !== undefined) return;
    this.acquireContext({}).catch(() => undefined);
  }

  label(): string {
    return `cluster ${this.options.clusterId}`;
  }

  async run(payload: RunPayload, options: RunOptions = {}): Promise<RunOutcome> {
    const started = Date.now();
    const { signal, onOutput, onProgress } = options;
    const output = { stdout: new OutputTail(), stderr: new OutputTail() };
    const { backendError, cancelled } = endings(started, output);
    const { clusterId } = this.options;

    if (this.disposed) return backendError(`the Databricks backend for cluster ${clusterId} was shut down; run again`);
    if (!RUN_ID_PATTERN.test(payload.run_id)) return backendError(`run id ${JSON.stringify(payload.run_id)} is not [A-Za-z0-9_.-]+`);
    if (signal?.aborted) return cancelled();
    const acquired = await this.acquireContext(options);
    if (!acquired.ok) return acquired.cancelled || signal?.aborted ? cancelled() : backendError(acquired.failure);
    if (signal?.aborted) return cancelled();
    let contextId = acquired.id;

    const channel = new RunnerChannel(payload.run_id, this.reportBudget);
    channel.spill = spillThresholdFor(this.reportBudget);

    // Once the signal aborts, the runner gets `cancelGraceMs` to stop the run; a command still
    // waiting past that deadline is cancelled with `commands/cancel`.
    let cancelDeadline: number | undefined;
    const onAbort = (): void => {
      cancelDeadline ??= Date.now() + this.timing.cancelGraceMs;
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let retriedStart = false;
    // Why the context a start was sent to was replaced, when it was.
    let lostWhileStarting: string | undefined;
    let reinstalled = false;
    let cutByService = false;
    // Every start checks the runner's version in the same command (an adopted context is not
    // asked beforehand); without a version to check, adoption sent the runner anyway.
    const guard = this.guard;
    // The transport of the shared poll loop: one 1.2 command per runner command, and what only a
    // remote context needs (a start retried once on a fresh context, stopping the run when a
    // check fails for good).
    const send = async (command: string, state: CancelState): Promise<CommandAnswer> => {
      for (;;) {
        const answer = await this.runnerCommand(contextId, command, () => cancelDeadline, state.starting ? guard : undefined);
        if (answer.kind === 'text') {
          cutByService = answer.truncated;
          return { text: isTruncatedResult(answer.data) ? answer.data : lastJsonLine(answer.data) };
        }
        if (answer.kind === 'deadline') {
          if (cancelDeadline !== undefined) {
            this.log(`run ${payload.run_id}: the runner did not answer within the cancel grace; cancelled its command`);
            return { end: cancelled() };
          }
          await this.forgetContext(contextId, true);
          return {
            end: backendError(
              `a runner command for ${payload.function_name} did not finish within ${Math.round(this.timing.commandTimeoutMs / 1000)} s on cluster ${clusterId}, so the execution context looks stuck; it was dropped, run again to use a new one`,
            ),
          };
        }
        if (answer.kind === 'cancelled') {
          if (cancelDeadline !== undefined) return { end: cancelled() };
          // Cancelled on the cluster, not from here (a notebook UI, another client): the run
          // stops too, rather than going on unwatched.
          if (!state.starting) await this.runnerCommand(contextId, channel.cancel(), () => Date.now() + this.timing.cancelGraceMs);
          return { end: cancelled(`the command running ${payload.function_name} was cancelled on cluster ${clusterId} (${answer.message})`) };
        }
        // A warm context left by another process may hold another runner, or none after a
        // REPL restart: the runner goes in once, and the start once more.
        if (state.starting && !reinstalled && answer.kind === 'error' && isMissingRunner(answer.message) && cancelDeadline === undefined) {
          reinstalled = true;
          this.log(`context ${contextId}: ${answer.message.split('\n')[0]}; sending the runner`);
          onProgress?.({ message: `installing the choppa runner on cluster ${clusterId}` });
          const installed = await this.runnerCommand(contextId, undefined, () => cancelDeadline, this.install);
          if (installed.kind === 'text') continue;
        }
        // The cached context may be gone (evicted while idle: a new run finds out first):
        // destroy what is left, one fresh context, the runner again, one more start.
        // The runner went in and the start still finds another: a runner of another build, kept
        // because it is running someone's function. That context is theirs: a new one of our own.
        if (state.starting && !retriedStart && reinstalled && answer.kind === 'error' && isMissingRunner(answer.message) && cancelDeadline === undefined) {
          retriedStart = true;
          this.log(`context ${contextId}: another build of the runner is busy there; creating a context of our own`);
          onProgress?.({ message: `the execution context on cluster ${clusterId} is busy with another version of choppa-lsp; creating one for ${payload.function_name}` });
          await this.forgetContext(contextId, false);
          this.busyElsewhere = contextId;
          const own = await this.acquireContext(options);
          if (!own.ok) return { end: own.cancelled || signal?.aborted ? cancelled() : backendError(own.failure) };
          contextId = own.id;
          continue;
        }
        if (state.starting && !retriedStart && freshContextMayHelp(answer)) {
          retriedStart = true;
          const lost = `the execution context on cluster ${clusterId} is gone (${summarize(answer)})`;
          this.log(`context ${contextId}: ${lost}; creating a new one`);
          lostWhileStarting = summarize(answer);
          onProgress?.({ message: `${lost}; creating a new one for ${payload.function_name}` });
          await this.forgetContext(contextId, true);
          const fresh = await this.acquireContext(options);
          if (!fresh.ok) return { end: fresh.cancelled || signal?.aborted ? cancelled() : backendError(fresh.failure) };
          contextId = fresh.id;
          continue;
        }
        if (cancelDeadline !== undefined) return { end: cancelled() };
        const failure = await this.describeCommandFailure(answer, contextId, payload.function_name, state.starting);
        if (state.starting) return { end: backendError(failure.message, failure.traceback) };
        // The run goes on on the cluster whatever happened to this check: stop it before
        // saying so, rather than leave it running unwatched.
        const stop = await this.runnerCommand(contextId, channel.cancel(), () => Date.now() + this.timing.cancelGraceMs);
        const stopped = stop.kind === 'text' || stop.kind === 'cancelled';
        this.log(`run ${payload.run_id}: a check of its command failed for good; ${stopped ? 'cancelled the run on the cluster' : `could not cancel the run on the cluster (${summarize(stop)})`}`);
        const after = stopped
          ? ` The run was cancelled on cluster ${clusterId}.`
          : ` The run may still be running on cluster ${clusterId}; restart its execution context or the cluster to stop it.`;
        return { end: backendError(`${failure.message}${after}`, failure.traceback) };
      }
    };
    onProgress?.({ message: `running ${payload.function_name} on cluster ${clusterId}` });
    try {
      const outcome = await pollRunner(
        {
          // Claimed, so the start retried on a new context refuses when the first one got as far
          // as starting the function (the kernel may have died of it).
          payload: { ...payload, claim: true },
          channel,
          send,
          output,
          backendError: (failure) =>
            backendError(
              `the runner on cluster ${clusterId} answered unexpectedly while running ${payload.function_name}: ${failure}${cutByService ? ' (Databricks truncated the command result)' : ''}`,
            ),
          cancelled,
          unknownRun: async () => {
            await this.forgetContext(contextId, false);
            return backendError(
              `the execution context on cluster ${clusterId} no longer knows run ${payload.run_id} of ${payload.function_name} (it was restarted); run it again`,
            );
          },
          readSideFiles: (report) => readOutputFiles(this.transferContext(), report),
          onTruncated: (budget) => {
            this.reportBudget = Math.min(this.reportBudget, budget);
            this.log(`run ${payload.run_id}: a report was cut by the cluster's output cap; polling again with at most ${budget} characters`);
          },
          cancelGraceMs: this.timing.cancelGraceMs,
          firstDelayMs: this.timing.runnerPollFirstMs,
          maxDelayMs: this.timing.runnerPollMaxMs,
          log: (message) => this.log(message),
        },
        options,
      );
      if (lostWhileStarting !== undefined && outcome.status === 'error' && outcome.error.type === 'ChoppaAlreadyStarted') {
        return backendError(
          `the execution context on cluster ${clusterId} died while ${payload.function_name} was starting (${lostWhileStarting}); it had already begun there, so it was not started again: it may have partly run. Check what it does, then run it again (a new context will be created)`,
        );
      }
      return outcome;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async missingImports(names: readonly string[], options: FetchOptions = {}): Promise<string[] | BackendFailure> {
    if (names.length === 0) return [];
    if (this.disposed) return { failure: `the Databricks backend for cluster ${this.options.clusterId} was shut down` };
    const context = await this.acquireContext(options);
    if (!context.ok) return { failure: context.failure };
    const answer = await this.runnerCommand(context.id, missingImportsCommand(names), () => undefined);
    if (answer.kind !== 'text') return { failure: `could not ask cluster ${this.options.clusterId} which imports it lacks (${summarize(answer)})` };
    return parseMissingImports(lastJsonLine(answer.data));
  }

  shipCode(code: CodeUpload, options: FetchOptions = {}): Promise<{ uploaded: boolean } | BackendFailure> {
    return shipCode(this.transferContext(), code, options.signal);
  }

  readArtifactMetadata(path: string, options?: FetchOptions): Promise<ArtifactRef | BackendFailure> {
    return readArtifactMetadata(this.transferContext(), path, options);
  }

  fetchArtifact(path: string, destination: string, options?: FetchOptions): Promise<{ size: number; sha256: string } | BackendFailure> {
    return fetchArtifact(this.transferContext(), path, destination, options);
  }

  /** Uploads the runner and payload and submits a one-time job run (no execution context needed). */
  submit(request: SubmitRequest, options: FetchOptions = {}): Promise<SubmittedHandle | BackendFailure> {
    return submitJob(this.jobContext(), request, options.signal);
  }

  submittedStatus(handle: SubmittedHandle, options: FetchOptions = {}): Promise<SubmittedStatus | BackendFailure> {
    return jobStatus(this.jobContext(), handle, options.signal);
  }

  cancelSubmitted(handle: SubmittedHandle): Promise<{ cancelled: true } | BackendFailure> {
    return cancelJob(this.jobContext(), handle);
  }

  /**
   * Destroys the warm execution context so the next run gets a fresh interpreter (runs in flight
   * on it end as lost). Returns whether there was one.
   */
  async restartContext(): Promise<boolean> {
    const id = this.contextId;
    if (id === undefined) return false;
    await this.forgetContext(id, true);
    return true;
  }

  /** Destroys the execution context; submitted job runs are the service's and keep going. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const creation = this.creation;
    this.creation = undefined;
    creation?.controller.abort();
    const created = await creation?.promise;
    const ids = new Set([this.contextId, created?.ok ? created.id : undefined]);
    this.contextId = undefined;
    // Kept warm (and recorded) for the next process of this project.
    if (this.options.reuseContext?.keepOnDispose) return;
    for (const id of ids) {
      if (id === undefined) continue;
      this.options.onContextChange?.({ dropped: id });
      await destroyContext(this.options.client, this.address(id));
    }
  }

  /** The live context, or the one being created (joined), or a new one. */
  private async acquireContext(options: RunOptions): Promise<ContextAcquired> {
    if (this.contextId !== undefined && this.followsRecord(this.contextId)) return { ok: true, id: this.contextId };
    if (this.disposed) return { ok: false, failure: 'the Databricks backend was shut down' };
    let creation = this.creation;
    if (creation === undefined) {
      const controller = new AbortController();
      const listeners = new Set<(report: ProgressReport) => void>();
      if (options.onProgress) listeners.add(options.onProgress);
      const fresh: Creation = { controller, listeners, waiters: 0, promise: Promise.resolve({ ok: false, failure: '' }) };
      fresh.promise = this.createContext(controller.signal, (report) => {
        fresh.last = report;
        for (const listener of listeners) listener(report);
      }).then((result) => {
        if (this.creation === fresh) this.creation = undefined;
        if (result.ok && !this.disposed && !controller.signal.aborted) {
          this.contextId = result.id;
          this.options.onContextChange?.({ created: result.id });
        }
        return result;
      });
      this.creation = creation = fresh;
    } else if (options.onProgress) {
      creation.listeners.add(options.onProgress);
      if (creation.last) options.onProgress(creation.last);
    }
    const joined = creation;
    joined.waiters += 1;
    try {
      const acquired = await raceAbort(joined.promise, options.signal);
      return acquired === 'aborted' ? { ok: false, failure: 'cancelled', cancelled: true } : acquired;
    } finally {
      if (options.onProgress) joined.listeners.delete(options.onProgress);
      joined.waiters -= 1;
      // The last run waiting gave up: stop polling the cluster on nobody's behalf.
      if (joined.waiters === 0 && options.signal?.aborted && this.creation === joined) {
        this.creation = undefined;
        joined.controller.abort();
      }
    }
  }

  private async createContext(signal: AbortSignal, onProgress: (report: ProgressReport) => void): Promise<ContextAcquired> {
    const { client, host, clusterId } = this.options;
    const cancelled: ContextAcquired = { ok: false, failure: 'cancelled', cancelled: true };
    // A context another process left warm is asked about alongside the cluster: one round trip
    // instead of two before a warm CLI run (a stale answer is caught by the runner check).
    const recorded = [this.options.reuseContext?.recorded()].find((id) => id !== this.busyElsewhere);
    const recordedStatus = recorded === undefined ? undefined : this.contextStatus(recorded, signal);
    const cluster = await ensureClusterRunning({
      client,
      host,
      clusterId,
      autoStart: this.options.autoStartCluster,
      schedule: this.schedule(this.timing.clusterPollFirstMs, this.timing.clusterPollMaxMs),
      timeoutMs: this.timing.clusterTimeoutMs,
      signal,
      onProgress,
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
    const status = await recordedStatus;
    if (!cluster.ok) return cluster.cancelled ? cancelled : { ok: false, failure: cluster.failure };
    this.reportBudget = this.options.reportBudget ?? reportBudgetFor(cluster.cluster.spark_version);

    if (recorded !== undefined) {
      const adopted = await this.adoptContext(recorded, status, signal, onProgress);
      if (adopted) return { ok: true, id: recorded };
      if (signal.aborted) return cancelled;
    }

    onProgress({ message: `creating an execution context on cluster ${clusterId}` });
    let context = await createContext(client, clusterId, {
      schedule: this.schedule(this.timing.contextPollFirstMs, this.timing.contextPollMaxMs),
      timeoutMs: this.timing.contextTimeoutMs,
      signal,
    });
    // A context that ends `Error` is what a cluster under heavy load answers, and a later one
    // usually starts (dbt-databricks retries it five times, backing off exponentially); the
    // failed one has been destroyed already.
    for (let attempt = 2; attempt <= CONTEXT_START_ATTEMPTS && !context.ok && 'status' in context && context.status === 'Error' && !signal.aborted; attempt++) {
      const waitMs = this.timing.contextRetryMs * 2 ** (attempt - 2);
      this.log(`execution context on cluster ${clusterId} ended Error; creating another in ${waitMs} ms (attempt ${attempt} of ${CONTEXT_START_ATTEMPTS})`);
      onProgress({ message: `the execution context on cluster ${clusterId} did not start (the cluster may be busy); creating another (attempt ${attempt} of ${CONTEXT_START_ATTEMPTS})` });
      await pause(waitMs, signal);
      if (signal.aborted) break;
      context = await createContext(client, clusterId, {
        schedule: this.schedule(this.timing.contextPollFirstMs, this.timing.contextPollMaxMs),
        timeoutMs: this.timing.contextTimeoutMs,
        signal,
      });
    }
    if (signal.aborted) {
      if (context.ok) await destroyContext(client, this.address(context.id));
      return cancelled;
    }
    if (!context.ok) {
      return {
        ok: false,
        failure:
          'error' in context
            ? describeApiFailure(context.error, `creating an execution context on cluster ${clusterId}`, host, client.configFile)
            : `the execution context on cluster ${clusterId} did not start (${context.status}${context.status === 'Error' ? ` ${CONTEXT_START_ATTEMPTS} times` : ''}); check the cluster's driver logs, restart the cluster if it persists, and run again`,
      };
    }

    onProgress({ message: `installing the choppa runner on cluster ${clusterId}` });
    const installed = await executeCommand(client, this.address(context.id), this.install, {
      schedule: this.schedule(this.timing.commandPollFirstMs, this.timing.commandPollMaxMs),
      deadline: () => Date.now() + this.timing.commandTimeoutMs,
      signal,
    });
    if (installed.kind === 'text') {
      this.log(`execution context ${context.id} ready on cluster ${clusterId}`);
      return { ok: true, id: context.id };
    }
    await destroyContext(client, this.address(context.id));
    if (signal.aborted) return cancelled;
    const reason =
      installed.kind === 'api'
        ? describeApiFailure(installed.error, `installing the runner on cluster ${clusterId}`, host, client.configFile)
        : summarize(installed);
    return { ok: false, failure: `could not load the choppa runner on cluster ${clusterId}: ${reason}` };
  }

  /**
   * Takes over a context another process of this project left warm when it is still `Running`.
   * Which runner it holds is not asked: each start checks the version itself (`runnerGuard`) and
   * the runner goes in then if it must. Without a version in our runner to check, it goes in now.
   * Otherwise false, and a fresh one is created.
   */
  private async adoptContext(contextId: string, status: string | undefined, signal: AbortSignal, onProgress: (report: ProgressReport) => void): Promise<boolean> {
    const { client, clusterId } = this.options;
    if (status !== 'Running') {
      this.log(`recorded execution context ${contextId} is ${status ?? 'gone'}; creating a new one`);
      return false;
    }
    onProgress({ message: `reusing the warm execution context on cluster ${clusterId}` });
    if (this.guard === undefined) {
      const schedule = this.schedule(this.timing.commandPollFirstMs, this.timing.commandPollMaxMs);
      const installed = await executeCommand(client, this.address(contextId), this.install, { schedule, deadline: () => Date.now() + this.timing.commandTimeoutMs, signal });
      if (installed.kind !== 'text') return false;
    }
    this.log(`reusing execution context ${contextId} on cluster ${clusterId}`);
    return true;
  }

  /**
   * Whether a backend that shares its project's recorded context (the CLI's) may go on with the
   * one it holds: only while that is the recorded one. Another recorded since (by the editor's
   * server), or none (`choppa-lsp context restart` destroyed it, `.choppa/` was removed), and the
   * next run takes what is recorded or a fresh interpreter, as that command promises; runs under
   * way keep theirs.
   */
  private followsRecord(held: string): boolean {
    const reuse = this.options.reuseContext;
    if (reuse === undefined) return true;
    const recorded = reuse.recorded();
    // The recorded one is another build's, busy when we looked: ours goes on.
    if (recorded === held || (recorded !== undefined && recorded === this.busyElsewhere)) return true;
    this.log(`execution context ${held} is no longer the one this project records (${recorded ?? 'none'}); leaving it`);
    this.contextId = undefined;
    return false;
  }

  /** `contexts/status` of a context: its status, or undefined when the call failed. */
  private async contextStatus(contextId: string, signal: AbortSignal): Promise<string | undefined> {
    const { client, clusterId } = this.options;
    const status = await client.request<{ status?: string }>('GET', '/api/1.2/contexts/status', { query: { clusterId, contextId }, signal });
    return status.ok ? status.value.status ?? 'unknown' : undefined;
  }

  /** A short runner command (`print(...)` of its JSON report) after `prelude` (Python lines), or the prelude alone, with the run's deadline. */
  private runnerCommand(contextId: string, command: string | undefined, cancelDeadline: () => number | undefined, prelude?: string): Promise<CommandOutcome> {
    const hardDeadline = Date.now() + this.timing.commandTimeoutMs;
    const text = [prelude, command === undefined ? undefined : `print(${command})`].filter((line) => line !== undefined).join('\n');
    return executeCommand(this.options.client, this.address(contextId), text, {
      schedule: this.schedule(this.timing.commandPollFirstMs, this.timing.commandPollMaxMs),
      deadline: () => Math.min(hardDeadline, cancelDeadline() ?? Infinity),
      idempotent: true,
    });
  }

  /**
   * Why a runner command failed, for the user. A context or cluster that went away clears the
   * context (the next run creates one); what the user should do depends on the cluster's state.
   */
  private async describeCommandFailure(
    answer: Exclude<CommandOutcome, { kind: 'text' } | { kind: 'deadline' }>,
    contextId: string,
    functionName: string,
    starting: boolean,
  ): Promise<{ message: string; traceback?: string }> {
    const { client, host, clusterId } = this.options;
    if (answer.kind === 'api' && (isAuthFailure(answer.error) || answer.error.status === 0 || (answer.error.status >= 429 && !contextIsGone(answer.error.message)))) {
      // The context is probably fine; only the call failed.
      const doing = `${starting ? 'starting' : 'running'} ${functionName} on cluster ${clusterId}`;
      return { message: describeApiFailure(answer.error, doing, host, client.configFile) };
    }
    await this.forgetContext(contextId, false);
    const reason = summarize(answer);
    const cluster = await getCluster(client, clusterId);
    if (cluster.ok && !canRunCommands(cluster.value.state)) {
      const next = this.options.autoStartCluster
        ? 'run again to start it (`choppa.autoStartCluster` is on)'
        : 'start the cluster (or set `choppa.autoStartCluster` to true) and run again';
      return {
        message: `cluster ${clusterId} stopped while ${functionName} was ${starting ? 'starting' : 'running'} (it is ${describeClusterState(cluster.value)}; ${reason}); ${next}`,
      };
    }
    const traceback = answer.kind === 'error' && answer.detail !== '' ? { traceback: answer.detail } : {};
    if (starting) return { message: `could not start ${functionName} on cluster ${clusterId}: ${reason}; run again`, ...traceback };
    return {
      message: `the execution context on cluster ${clusterId} was lost while running ${functionName} (${reason}); run it again, a new context will be created`,
      ...traceback,
    };
  }

  /** Drops a context that turned out to be unusable; `destroy` when it may still exist. */
  private async forgetContext(contextId: string, destroy: boolean): Promise<void> {
    if (this.contextId === contextId) {
      this.contextId = undefined;
      this.options.onContextChange?.({ dropped: contextId });
    }
    if (destroy) await destroyContext(this.options.client, this.address(contextId));
  }

  private transferContext(): TransferContext {
    const { client, host, logger } = this.options;
    return { client, host, ...(logger ? { logger } : {}) };
  }

  private jobContext(): JobContext {
    const { clusterId, runnerSource, serverlessEnvironmentVersion } = this.options;
    return { ...this.transferContext(), clusterId, runnerSource, serverlessEnvironmentVersion: serverlessEnvironmentVersion ?? DEFAULT_SETTINGS.serverless.environmentVersion };
  }

  private address(contextId: string): ContextAddress {
    return { clusterId: this.options.clusterId, contextId };
  }

  private schedule(firstMs: number, maxMs: number): PollSchedule {
    return { firstMs, maxMs, factor: GROWTH };
  }

  private log(message: string): void {
    this.options.logger?.(`databricks backend: ${message}`);
  }
}

/**
 * Whether a failed `start` is worth one retry on a new context: the context (or the cluster
 * under it) is gone, or the runner is missing because the REPL restarted. Credentials,
 * network trouble and server errors are not helped by a new context.
 */
function freshContextMayHelp(answer: CommandOutcome): boolean {
  switch (answer.kind) {
    case 'api':
      if (isAuthFailure(answer.error) || answer.error.status === 429) return false;
      // The status for an evicted context is not documented (databricks-api.md §11): any
      // refusal of `commands/execute` says the command never ran, so a fresh start is safe.
      // Once accepted, only a context that does not exist says the same; a 500 on a status
      // check may hide a command that runs.
      if (answer.phase === 'execute') return answer.error.status >= 400;
      return answer.error.status === 400 || answer.error.status === 404 || contextIsGone(answer.error.message);
    case 'error':
      return /_choppa_runner/.test(answer.message) || /kernel|python process/i.test(answer.message) || contextIsGone(answer.message);
    case 'ended':
      return true;
    default:
      return false;
  }
}

/**
 * Whether a message says the execution context itself went away, whatever the status it came
 * with: Databricks words it "Context ExecutionContextId(<id>) is disconnected." (kb.databricks.com,
 * "Maximum execution context or notebook attachment limit reached"), and 1.2 answers some such
 * failures with a 500 (databrickslabs/dbx#261), which would otherwise read as a passing fault.
 */
function contextIsGone(message: string): boolean {
  return /context\b.*\b(does not exist|not found|evicted|gone|no longer|closed|is disconnected)/i.test(message);
}

function summarize(answer: CommandOutcome): string {
  switch (answer.kind) {
    case 'api':
      return answer.error.message;
    case 'error':
    case 'ended':
    case 'cancelled':
      return answer.message;
    case 'deadline':
      return 'the command did not finish in time';
    case 'text':
      return 'the command finished';
  }
}

/** The runner's report is the last JSON line of the command's output. */
function lastJsonLine(data: string): string {
  const lines = data.split('\n');
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]!.trim();
    if (line.startsWith('{')) return line;
  }
  return data;
}

