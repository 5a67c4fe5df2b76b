// One workspace's run machinery: its state folder, result store and backend. It owns a run
// from plan to stored result, and dereferences artifacts into `.choppa/artifacts/` with a
// verified checksum. The protocol layer and the CLI both drive runs through this class.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { CallArgument, ChoppaInstance, DecoratedFunction, FileAnalysis, Pos } from '../analysis/model.js';
import { isFailure, type ArtifactRef, type Backend, type ProgressReport, type RunPayload } from '../backends/backend.js';
import type { BackendSelection } from './backend-selection.js';
import { planArguments, planWithoutArguments, type ArgumentPlan } from './arguments.js';
import { artifactPreview as previewText } from './artifact-preview.js';
import { formatBytes, formatDuration } from './format.js';
import { ResultStore, resultKey, type SubmissionRecord } from './result-store.js';
import { Submissions } from './submissions.js';
import { RunLog, runLogPath } from './run-log.js';
import { RunQueue } from './run-queue.js';
import { cancelledRecord, commandResult, recordFromOutcome, type RunCommandResult, type RunMode, type RunRecord } from './run-record.js';
import { ensureStateDir, writeAtomic } from './state-dir.js';

/** Where artifacts go when the `Choppa(...)` call names no `artifact_dir`. */
export const DEFAULT_ARTIFACT_DIR = '/Workspace/Shared/choppa/artifacts';

export interface RunRequest {
  /** Absolute path of the Python file. */
  filePath: string;
  analysis: FileAnalysis;
  functionName: string;
  mode: RunMode;
  /** Arguments written at a call site or supplied by the client, already split. */
  args?: { source: string; parsed: CallArgument[]; position?: Pos };
  signal?: AbortSignal;
  onProgress?: (report: ProgressReport) => void;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface DereferenceResult {
  localPath: string;
  previewPath: string;
  size: number;
  sha256: string;
  ref: ArtifactRef;
}

/** What a run or a submission needs once planned. */
interface Prepared {
  fn: DecoratedFunction;
  instance: ChoppaInstance | undefined;
  backend: Backend;
  payload: RunPayload;
  key: string;
}

/** A run in flight, for `choppa.listRuns` and `choppa.cancel`. */
export interface InflightRun {
  runId: string;
  key: string;
  function: string;
  startedAt: string;
  logPath: string;
  controller: AbortController;
}

export interface WorkspaceOptions {
  /** The workspace root, or null when the client sent none. */
  root: string | null;
  stateDir: string;
  /** Where runs go: the local backend or the Databricks workspace, per Choppa instance. */
  backends: BackendSelection;
  warn: (message: string) => void;
  /** How many runs may proceed at once; more wait (setting `choppa.runs.maxParallel`). */
  maxParallel?: number;
  /** Told when a submitted run changes state, and when it ends. */
  onSubmissionChange?: (record: SubmissionRecord, ended: boolean) => void;
}

/** What `choppa.submit` returns at once: the handle of the run. */
export interface SubmitCommandResult {
  status: 'submitted' | 'error';
  function: string;
  /** Our id for the run (`choppa.cancel`, `choppa-lsp wait`). */
  id?: string;
  /** The backend's run id (a Databricks job run id). */
  runId?: string;
  runPageUrl?: string;
  state?: string;
  error?: RunCommandResult['error'];
}

function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** A file name safe to create inside the artifacts folder, whatever the remote side said. */
export function safeArtifactName(remotePath: string): string {
  const last = remotePath.split(/[\\/]/).pop() ?? '';
  const cleaned = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return cleaned.length > 0 ? cleaned.slice(0, 200) : 'artifact.pkl';
}

export class Workspace {
  readonly store: ResultStore;
  readonly root: string | null;
  readonly stateDir: string;
  readonly backends: BackendSelection;
  private readonly warn: (message: string) => void;
  private active = 0;
  private retired = false;
  private readonly inflight = new Map<string, InflightRun>();
  private readonly queue: RunQueue;
  readonly submissions: Submissions;

  constructor(options: WorkspaceOptions) {
    this.root = options.root;
    this.stateDir = options.stateDir;
    this.backends = options.backends;
    this.warn = options.warn;
    this.store = new ResultStore(options.stateDir, options.warn);
    this.queue = new RunQueue(options.maxParallel ?? 4);
    this.submissions = new Submissions({
      store: this.store,
      stateDir: this.stateDir,
      backendFor: (target) => {
        const selected = this.backends.forTarget(target);
        return 'backend' in selected ? selected.backend : selected;
      },
      onChange: options.onSubmissionChange ?? (() => undefined),
      warn: this.warn,
    });
  }

  /** The store key of a function of a file. */
  key(filePath: string, functionName: string): string {
    const rel = this.root === null ? basename(filePath) : relative(this.root, filePath);
    return resultKey(rel, functionName);
  }

  /** The last result of a function of a file. */
  lastResult(filePath: string, functionName: string): RunRecord | undefined {
    return this.store.get(this.key(filePath, functionName));
  }

  /** Resolves what a run or a submission needs: the function, its arguments and its backend. */
  private prepare(request: RunRequest): Prepared | { error: NonNullable<RunCommandResult['error']> } {
    const fn = request.analysis.functions.find((candidate) => candidate.name === request.functionName);
    if (!fn) {
      return { error: { type: 'ChoppaError', message: `There is no function \`${request.functionName}\` decorated by a Choppa instance in ${basename(request.filePath)}.` } };
    }
    const instance = request.analysis.instances.find((candidate) => candidate.name === fn.instance);
    const plan: ArgumentPlan = request.args
      ? planArguments(request.args.parsed, request.args.source, {
          fn,
          bindings: request.analysis.bindings,
          position: request.args.position,
          lastResult: (name) => this.lastResult(request.filePath, name),
        })
      : planWithoutArguments(fn);
    if (!plan.ok) return { error: { type: 'ArgumentError', message: plan.message, ...(plan.missing ? { missing: plan.missing } : {}) } };
    const selected = this.backends.forInstance(instance);
    if ('failure' in selected) return { error: { type: 'ConfigurationError', message: selected.failure } };
    const runId = newRunId();
    const payload: RunPayload = {
      run_id: runId,
      mode: request.mode,
      function_name: fn.name,
      source: fn.source,
      args_source: plan.argsSource,
      args_refs: plan.argsRefs,
      result_size_max: instance?.resultSizeMax ?? null,
      artifact_dir: instance?.artifactDir ?? DEFAULT_ARTIFACT_DIR,
    };
    return { fn, instance, backend: selected.backend, payload, key: this.key(request.filePath, fn.name) };
  }

  /** Plans, runs and stores one run; never throws for user-caused failures. */
  async run(request: RunRequest): Promise<RunCommandResult> {
    const started = Date.now();
    const prepared = this.prepare(request);
    if ('error' in prepared) return { status: 'error', function: request.functionName, error: prepared.error, durationMs: Date.now() - started };
    const { fn, backend, payload, key } = prepared;
    const runId = payload.run_id;
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    request.signal?.addEventListener('abort', abort, { once: true });
    const log = new RunLog(runLogPath(this.stateDir, fn.name, runId), this.warn);
    log.append(`# ${fn.name}(${payload.args_source}) on ${backend.label()}, ${new Date().toISOString()}\n`);
    this.inflight.set(runId, { runId, key, function: fn.name, startedAt: new Date().toISOString(), logPath: log.path, controller });
    this.active += 1;
    try {
      if (this.queue.full) {
        request.onProgress?.({ message: `${fn.name} is queued behind ${this.queue.backlog + 1} run(s) (choppa.runs.maxParallel)` });
      }
      if (!(await this.queue.acquire(controller.signal))) {
        const record = cancelledRecord({ runId, function: fn.name, mode: request.mode, args: payload.args_source, backend: backend.label() });
        return commandResult(record, fn.defLine);
      }
      request.onProgress?.({ message: `Running ${fn.name} on ${backend.label()}` });
      const outcome = await backend
        .run(payload, {
          signal: controller.signal,
          ...(request.onProgress ? { onProgress: request.onProgress } : {}),
          onOutput: (stream, text) => {
            log.append(text);
            request.onOutput?.(stream, text);
          },
        })
        .finally(() => this.queue.release());
      const record = recordFromOutcome(outcome, { runId, function: fn.name, mode: request.mode, args: payload.args_source, backend: backend.label() });
      record.logPath = log.path;
      log.append(`# ${record.status === 'ok' ? 'finished' : record.status === 'error' ? `raised ${record.error?.type}: ${record.error?.message}` : 'cancelled'} after ${formatDuration(record.durationMs)}\n`);
      try {
        this.store.set(key, record);
      } catch (error) {
        this.warn(`Could not save the result of ${fn.name} to ${this.stateDir}: ${(error as Error).message}`);
      }
      return commandResult(record, fn.defLine);
    } finally {
      request.signal?.removeEventListener('abort', abort);
      this.inflight.delete(runId);
      this.settle();
    }
  }

  /**
   * Submits a fire-and-forget run and returns its handle at once; the run is then followed until
   * it ends, and its result (always an ArtifactRef) is stored like any run's.
   */
  async submit(request: Omit<RunRequest, 'mode'>, compute: 'cluster' | 'serverless'): Promise<SubmitCommandResult> {
    const prepared = this.prepare({ ...request, mode: 'artifact' });
    if ('error' in prepared) return { status: 'error', function: request.functionName, error: prepared.error };
    const target = this.backends.targetOf(prepared.backend);
    if (compute === 'serverless' && target.kind === 'databricks' && prepared.payload.artifact_dir.startsWith('dbfs:/')) {
      // Serverless compute has no /dbfs mount, so the runner could not write the result there.
      const message = `serverless compute cannot write to ${prepared.payload.artifact_dir} (it has no /dbfs mount): use a /Volumes/... or /Workspace/... artifact_dir, or choppa.compute "cluster"`;
      return { status: 'error', function: request.functionName, error: { type: 'ConfigurationError', message } };
    }
    const record = await this.submissions.submit({ key: prepared.key, payload: prepared.payload, compute, target, backend: prepared.backend });
    if (!record.handle) {
      return { status: 'error', function: record.function, id: record.id, error: { type: 'SubmitError', message: record.stateMessage ?? 'the run was not submitted' } };
    }
    return {
      status: 'submitted',
      function: record.function,
      id: record.id,
      runId: record.handle.runId,
      ...(record.handle.runPageUrl ? { runPageUrl: record.handle.runPageUrl } : {}),
      state: record.state,
    };
  }

  /** The submitted run of a function still in flight, if any (the newest). */
  pendingSubmission(filePath: string, functionName: string): SubmissionRecord | undefined {
    const key = this.key(filePath, functionName);
    return this.store.allSubmissions().find((record) => record.key === key && !['succeeded', 'failed', 'cancelled'].includes(record.state));
  }

  /** The runs in flight now. */
  running(): InflightRun[] {
    return [...this.inflight.values()];
  }

  /** Cancels a run in flight (by run id, or the latest of a function); false when none. */
  cancelRunning(match: { runId?: string; key?: string }): boolean {
    const run = [...this.inflight.values()].reverse().find((candidate) => candidate.runId === match.runId || candidate.key === match.key);
    if (!run) return false;
    run.controller.abort();
    return true;
  }

  /**
   * Copies an artifact into `.choppa/artifacts/`, verifies its sha256 against the ref, and
   * writes a readable preview beside it. `ref` is a logical path or the ref itself.
   */
  async dereference(
    ref: ArtifactRef | string,
    options: { signal?: AbortSignal; onProgress?: (report: ProgressReport) => void } = {},
  ): Promise<DereferenceResult | { failure: string }> {
    const selected = this.backends.forArtifacts();
    if ('failure' in selected) return selected;
    const backend = selected.backend;
    let meta: ArtifactRef;
    if (typeof ref === 'string') {
      const read = await backend.readArtifactMetadata(ref, options);
      if (isFailure(read)) return read;
      meta = read;
    } else {
      meta = ref;
    }
    const dir = join(this.stateDir, 'artifacts');
    ensureStateDir(this.stateDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const localPath = resolve(dir, safeArtifactName(meta.path));
    // Invariant: nothing is written outside `.choppa/artifacts/`, whatever the remote name.
    if (!localPath.startsWith(resolve(dir) + sep)) return { failure: `Refusing to write ${meta.path} outside ${dir}.` };
    const temp = `${localPath}.${randomBytes(4).toString('hex')}.part`;
    options.onProgress?.({ message: `Downloading ${formatBytes(meta.size)} from ${meta.path}` });
    const fetched = await backend.fetchArtifact(meta.path, temp, options);
    if (isFailure(fetched)) {
      rmSync(temp, { force: true });
      return fetched;
    }
    if (fetched.sha256 !== meta.sha256 || fetched.size !== meta.size) {
      rmSync(temp, { force: true });
      return {
        failure: `The download of ${meta.path} does not match its ref (sha256 ${fetched.sha256.slice(0, 12)}…, ${fetched.size} bytes; expected ${meta.sha256.slice(0, 12)}…, ${meta.size} bytes). Nothing was kept; run the function again.`,
      };
    }
    renameSync(temp, localPath);
    const previewPath = `${localPath}.preview.md`;
    writeAtomic(previewPath, previewText(meta, localPath));
    return { localPath, previewPath, size: fetched.size, sha256: fetched.sha256, ref: meta };
  }

  /** Disposes the backend once the runs in flight have finished (settings changed under them). */
  retire(): void {
    this.retired = true;
    if (this.active === 0) void this.dispose();
  }

  private settle(): void {
    this.active -= 1;
    if (this.retired && this.active === 0) void this.dispose();
  }

  async dispose(): Promise<void> {
    this.submissions.dispose();
    await this.backends.dispose();
  }
}
