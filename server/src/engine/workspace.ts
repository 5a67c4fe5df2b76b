// One workspace's run machinery: its state folder, result store and backend. It owns a run
// from plan to stored result, and dereferences artifacts into `.choppa/artifacts/` with a
// verified checksum. The protocol layer and the CLI both drive runs through this class.
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Binding, CallArgument, CallSite, DecoratedFunction, FileAnalysis, InstanceSettings, Pos } from '../analysis/model.js';
import { runTarget } from '../workspace-index/run-target.js';
import type { WorkspaceIndex } from '../workspace-index/workspace-index.js';
import { planCode, type CodePlan } from '../bundle/code-plan.js';
import { shipBundle, shipThenRun } from '../bundle/ship-code.js';
import { unsavedShippedFiles } from '../bundle/unsaved-code.js';
import { missingModuleOrigin } from '../bundle/missing-module-origin.js';
import { argumentNames, callKey } from '../analysis/call-sites.js';
import { isFailure, type ArtifactRef, type Backend, type ProgressReport, type RunPayload } from '../backends/backend.js';
import type { BackendSelection } from './backend-selection.js';
import { callLabel, planArguments, planWithoutArguments, type ArgumentPlan, type Upstream } from './arguments.js';
import { bindingAt, callIdentity, nthBinding } from './call-identity.js';
import { samePlace } from './result-place.js';
import { codeVersion, sourceHash, staleness, type CodeVersion } from './result-identity.js';
import { artifactPreview as previewText } from './artifact-preview.js';
import { errorText, formatBytes, formatDuration } from './format.js';
import { ResultStore, resultKey, type SubmissionRecord } from './result-store.js';
import { Submissions } from './submissions.js';
import { pruneRunLogs } from './log-retention.js';
import { RunLog, runLogPath } from './run-log.js';
import { RunQueue } from './run-queue.js';
import { cancelledRecord, commandResult, recordFromOutcome, type RunCommandResult, type RunMode, type RunRecord } from './run-record.js';
import { stateSubdir, writeAtomic } from './state-dir.js';
import { partialPath } from '../backends/partial-files.js';

/** How many files' key prefixes `Workspace.key` remembers (a workspace index holds at most 20,000 files). */
const KEY_PREFIXES_MAX = 20_000;

/** Where artifacts go when the `Choppa(...)` call names no `artifact_dir`. */
export const DEFAULT_ARTIFACT_DIR = '/Workspace/Shared/choppa/artifacts';

export interface RunRequest {
  /** Absolute path of the Python file. */
  filePath: string;
  analysis: FileAnalysis;
  functionName: string;
  mode: RunMode;
  /** Arguments written at a call site or supplied by the client, already split. */
  args?: { source: string; parsed: readonly CallArgument[]; position?: Pos };
  /** Where artifacts go when the code names no folder, once resolved (`artifactDirFor`). */
  defaultArtifactDir?: string;
  /** Serve a current cached result without running (setting `choppa.cache`); `# choppa: cache` on the decorator line turns it on for one function. */
  cache?: boolean;
  /** Run even when the cache holds a current result. */
  fresh?: boolean;
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
  instance: InstanceSettings | undefined;
  backend: Backend;
  payload: RunPayload;
  /** The function's key in the store. */
  key: string;
  /** The call's identity among the function's calls. */
  call: string;
  version: CodeVersion;
  /** The name the call's result is bound to, when the run came from `x = f(...)`. */
  boundTo: string | undefined;
  /** The project code the function imports (`bundle/`), shipped before the run. */
  code: CodePlan;
  /** The file that defines the function. */
  definedIn: string;
}

/** Where the outcome of a run that could not start is stored: its call, as a started run's would be. */
interface FailedBeforeStart {
  key: string;
  call: string;
  version: CodeVersion;
  boundTo: string | undefined;
  fn: DecoratedFunction;
  args: string;
  backend: string;
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
  /** The workspace index: the project modules a function imports ship with its runs. */
  index?: WorkspaceIndex;
  /** Setting `choppa.requirementsFile`. */
  requirementsFile?: string | null;
  /** Setting `choppa.artifactDir`: where artifacts go when the code names no folder. */
  artifactDir?: string | null;
  /** Told, before each run, which third-party imports of its code the backend lacks. */
  onImportCheck?: (filePath: string, functionName: string, missing: string[]) => void;
  /**
   * Write a run's record to the journal on the next turn of the event loop, after the caller has
   * answered (the server; the record is in memory at once). A process that may exit as soon as
   * `run` returns (the CLI) leaves it off.
   */
  writeAfterAnswer?: boolean;
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
  /** The shipped files whose open buffer differs from the disk: the job runs the buffer's text. */
  unsaved?: string[];
}

// Run ids' random bytes, drawn 64 ids at a time (a crypto call per run cost more than planning it).
let idBytes = Buffer.alloc(0);
let idAt = 0;

function newRunId(): string {
  if (idAt + 3 > idBytes.length) {
    idBytes = randomBytes(3 * 64);
    idAt = 0;
  }
  const suffix = idBytes.toString('hex', idAt, idAt + 3);
  idAt += 3;
  return `${Date.now().toString(36)}${suffix}`;
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
  private readonly index: WorkspaceIndex | undefined;
  private readonly requirementsFile: string | null;
  private readonly artifactDir: string | null;
  private readonly onImportCheck: WorkspaceOptions['onImportCheck'];
  private active = 0;
  private retired = false;
  private readonly inflight = new Map<string, InflightRun>();
  private readonly queue: RunQueue;
  readonly submissions: Submissions;
  private readonly writeAfterAnswer: boolean;

  constructor(options: WorkspaceOptions) {
    this.root = options.root;
    this.stateDir = options.stateDir;
    this.backends = options.backends;
    this.warn = options.warn;
    this.index = options.index;
    this.requirementsFile = options.requirementsFile ?? null;
    this.artifactDir = options.artifactDir ?? null;
    this.onImportCheck = options.onImportCheck;
    // Logs of runs the store no longer names go at its compactions (log-retention.ts).
    this.store = new ResultStore(options.stateDir, options.warn, () => {
      const named = this.store.referencedRunIds();
      pruneRunLogs(join(options.stateDir, 'logs'), (runId) => named.has(runId) || this.inflight.has(runId));
    });
    this.writeAfterAnswer = options.writeAfterAnswer === true;
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
    // Asked for every decorated function on every publish (thousands per keystroke on a large
    // file): the file's part is worked out once per path.
    let file = this.keyPrefixes.get(filePath);
    if (file === undefined) {
      file = resultKey(this.root === null ? basename(filePath) : relative(this.root, filePath), '');
      if (this.keyPrefixes.size >= KEY_PREFIXES_MAX) this.keyPrefixes.clear();
      this.keyPrefixes.set(filePath, file);
    }
    return file + functionName;
  }

  private readonly keyPrefixes = new Map<string, string>();

  /**
   * A file as call identities and code versions name it: its path from the root (`/`-separated,
   * as the store names files), which `staleness` turns back into the file to read.
   */
  private callerOf(filePath: string): string {
    return (this.root === null ? basename(filePath) : relative(this.root, filePath)).split('\\').join('/');
  }

  /** The identity of a call of `analysis` (a call site, or arguments given as text at `position`). */
  callIdentity(callingFile: string, analysis: FileAnalysis, key: string, names: readonly string[], position: Pos | undefined): string {
    return callIdentity(key, names, this.callerOf(callingFile), analysis.bindings, position);
  }

  /** The newest result of a function of a file, whichever call it came from. */
  latestResult(filePath: string, functionName: string): RunRecord | undefined {
    return this.store.latest(this.key(filePath, functionName));
  }

  /**
   * The result that belongs to a call site of `callingFile` (of a function of `definedIn`): the
   * latest of exactly that call, or (marked `argsChanged`) the one the same binding had before
   * its arguments were edited, unless that one is another call still in the file.
   */
  resultAtCall(definedIn: string, functionName: string, call: CallSite, callingFile: string, analysis: FileAnalysis): { record: RunRecord; argsChanged: boolean } | undefined {
    const fnKey = this.key(definedIn, functionName);
    const identity = this.callIdentity(callingFile, analysis, call.key, argumentNames(call.args), call.span.start);
    const exact = this.store.forCall(fnKey, identity);
    if (exact) return { record: exact, argsChanged: false };
    if (call.boundTo === undefined) return undefined;
    const candidates = this.store.calls(fnKey).filter((record) => record.boundTo === call.boundTo);
    if (candidates.length === 0) return undefined;
    const others = new Set<string>();
    for (const other of analysis.calls) {
      if (other !== call && other.function === call.function) others.add(this.callIdentity(callingFile, analysis, other.key, argumentNames(other.args), other.span.start));
    }
    const before = candidates.find((record) => !others.has(record.call ?? record.args.trim()));
    return before ? { record: before, argsChanged: true } : undefined;
  }

  /** The newest artifact of a function (of one call of it, when `call` is given). */
  latestArtifact(filePath: string, functionName: string, call?: string): { ref: ArtifactRef; madeOn: string } | undefined {
    const fnKey = this.key(filePath, functionName);
    const records = call === undefined ? this.store.calls(fnKey) : [this.store.forCall(fnKey, call)];
    const record = records.find((candidate) => candidate?.ref !== undefined);
    return record?.ref ? { ref: record.ref, madeOn: record.backend } : undefined;
  }

  /** The runs of one call of a function, newest first. */
  history(filePath: string, functionName: string, call: string): ReturnType<ResultStore['history']> {
    return this.store.history(this.key(filePath, functionName), call);
  }

  /** The project code (bundle and requirements) `fn` would ship with now, as one hash; undefined when none ships. */
  private codeHash(definedIn: string, fn: DecoratedFunction, code?: CodePlan): string | undefined {
    const plan = code ?? planCode(this.index, definedIn, fn.name, { artifactDir: DEFAULT_ARTIFACT_DIR, root: this.root, requirementsFile: this.requirementsFile });
    if ('failure' in plan) return `unplannable:${plan.failure}`;
    const parts = [plan.bundle?.ref.hash, plan.requirements?.hash].filter((part): part is string => part !== undefined);
    return parts.length > 0 ? parts.join('+') : undefined;
  }

  /**
   * Why a stored result of `fn` (defined in `definedIn`) no longer matches the code, if it does
   * not. Its named arguments are read in the file whose call made it: `analysis` when that is
   * `filePath`, else that file's analysis from the index.
   */
  staleness(filePath: string, analysis: FileAnalysis, fn: DecoratedFunction, definedIn: string, record: RunRecord, depth = 0): string | undefined {
    // Chains deeper than this are not followed; what is shown still says the direct causes.
    if (depth > 8) return undefined;
    const caller = record.version?.caller;
    let callingFile = filePath;
    let callingAnalysis: FileAnalysis | undefined = analysis;
    if (caller !== undefined && caller !== this.callerOf(filePath)) {
      callingFile = this.root === null ? '' : join(this.root, caller);
      callingAnalysis = this.root === null ? undefined : this.index?.pass(() => this.index?.analysisOf(callingFile));
    }
    return staleness(record.version, {
      fn,
      bundle: this.codeHash(definedIn, fn),
      // A result made from another file that cannot be analysed here: its names are not checked.
      ...(callingAnalysis
        ? { binding: (name: string, ordinal: number | undefined) => (ordinal === undefined ? bindingAt(callingAnalysis!.bindings, name, undefined) : nthBinding(callingAnalysis!.bindings, name, ordinal)) }
        : {}),
      boundCall: (binding) => {
        if (!callingAnalysis || binding.callOf === undefined || !binding.call) return undefined;
        const target = runTarget(callingAnalysis, binding.callOf, callingFile);
        return {
          function: this.key(target?.definedIn ?? callingFile, target?.fn.name ?? binding.callOf),
          call: this.callIdentity(callingFile, callingAnalysis, binding.call.key, binding.call.names, binding.call.span.start),
          label: callLabel(binding as Binding & { callOf: string }),
        };
      },
      upstream: (input) => {
        const upstream = this.store.forCall(input.function, input.call);
        if (!upstream || upstream.status !== 'ok') return undefined;
        const producer = callingAnalysis ? this.producerOf(callingAnalysis, callingFile, input.function) : undefined;
        const stale = producer ? this.staleness(callingFile, callingAnalysis!, producer.fn, producer.definedIn, upstream, depth + 1) : undefined;
        return { runId: upstream.cached?.from ?? upstream.runId, ...(stale !== undefined ? { stale } : {}) };
      },
    });
  }

  /** The function, local or imported under any name, whose results live under `fnKey`, and where it is defined. */
  private producerOf(analysis: FileAnalysis, filePath: string, fnKey: string): { fn: DecoratedFunction; definedIn: string } | undefined {
    const local = analysis.functions.find((fn) => this.key(filePath, fn.name) === fnKey);
    if (local) return { fn: local, definedIn: filePath };
    const imported = analysis.importedFunctions.find((candidate) => this.key(candidate.path, candidate.fn.name) === fnKey);
    return imported ? { fn: imported.fn, definedIn: imported.path } : undefined;
  }

  /** The result of exactly the call a binding names, and whether it is still current. */
  private upstream(filePath: string, analysis: FileAnalysis, binding: Binding & { callOf: string }): Upstream {
    // The producer may be imported (under another name too): its results live under the file
    // that defines it, by its own name.
    const target = runTarget(analysis, binding.callOf, filePath);
    const fnKey = this.key(target?.definedIn ?? filePath, target?.fn.name ?? binding.callOf);
    const call = binding.call ? this.callIdentity(filePath, analysis, binding.call.key, binding.call.names, binding.call.span.start) : '';
    const record = binding.call ? this.store.forCall(fnKey, call) : undefined;
    const stale = record && target ? this.staleness(filePath, analysis, target.fn, target.definedIn, record, 1) : undefined;
    return { fnKey, call, record, stale };
  }

  /** Resolves what a run or a submission needs: the function, its arguments and its backend. */
  private prepare(request: RunRequest): Prepared | { error: NonNullable<RunCommandResult['error']>; belongsTo?: FailedBeforeStart } {
    // The function may be defined in another module (a call site of an imported function).
    const target = runTarget(request.analysis, request.functionName, request.filePath);
    if (!target) {
      return { error: { type: 'ChoppaError', message: `There is no function \`${request.functionName}\` decorated by a Choppa instance in ${basename(request.filePath)}.` } };
    }
    const { fn, instance } = target;
    const selected = this.backends.forInstance(instance);
    const plan: ArgumentPlan = request.args
      ? planArguments(request.args.parsed, request.args.source, {
          fn,
          bindings: request.analysis.bindings,
          position: request.args.position,
          upstream: (binding) => this.upstream(request.filePath, request.analysis, binding),
          ...('backend' in selected ? { runsOn: selected.backend.label() } : {}),
        })
      : planWithoutArguments(fn);
    if (!plan.ok) return { error: { type: 'ArgumentError', message: plan.message, ...(plan.missing ? { missing: plan.missing } : {}) } };
    // `@x.artifact` always returns an ArtifactRef, whichever action or command runs it.
    const mode = fn.kind === 'artifact' ? 'artifact' : request.mode;
    const runId = newRunId();
    const payload: RunPayload = {
      run_id: runId,
      mode,
      function_name: fn.name,
      source: fn.source,
      args_source: plan.argsSource,
      args_refs: plan.argsRefs,
      ...(Object.keys(plan.argsValues).length > 0 ? { args_values: plan.argsValues } : {}),
      ...(Object.keys(plan.argsLiterals).length > 0 ? { args_literals: plan.argsLiterals } : {}),
      result_size_max: instance?.resultSizeMax ?? null,
      artifact_dir: instance?.artifactDir ?? request.defaultArtifactDir ?? this.artifactDir ?? DEFAULT_ARTIFACT_DIR,
    };
    // The project code and requirements that ship with the run (`bundle/`).
    const code = planCode(this.index, target.definedIn, fn.name, { artifactDir: payload.artifact_dir, root: this.root, requirementsFile: this.requirementsFile });
    if (!('failure' in code)) {
      if (code.bundle) payload.bundle = code.bundle.ref;
      if (code.requirements) payload.requirements = code.requirements;
    }
    const bundle = this.codeHash(target.definedIn, fn, 'failure' in code ? undefined : code);
    const version = codeVersion({
      source: sourceHash(fn.source),
      ...(bundle !== undefined ? { bundle } : {}),
      mode,
      inputs: plan.inputs,
      ...(Object.keys(plan.inputs).length > 0 ? { caller: this.callerOf(request.filePath) } : {}),
    });
    const position = request.args?.position;
    const site = position
      ? request.analysis.calls.find((call) => call.function === request.functionName && call.span.start.line === position.line && call.span.start.character === position.character)
      : undefined;
    const key = this.key(target.definedIn, fn.name);
    const call = request.args ? this.callIdentity(request.filePath, request.analysis, callKey(request.args.parsed), argumentNames(request.args.parsed), request.args.position) : '';
    // The configuration or the project code keeps the run from starting: that is this call's
    // latest outcome, and what the editor shows on it, not the run before.
    const belongsTo = (): FailedBeforeStart => ({ key, call, version, boundTo: site?.boundTo, fn, args: plan.argsSource, backend: this.backends.labelFor(instance) });
    if ('failure' in selected) return { error: { type: 'ConfigurationError', message: selected.failure }, belongsTo: belongsTo() };
    if ('failure' in code) return { error: { type: code.type, message: code.failure }, belongsTo: belongsTo() };
    return { fn, instance, backend: selected.backend, payload, key, call, version, boundTo: site?.boundTo, code, definedIn: target.definedIn };
  }

  /** Stores the outcome of a run that failed before it started under the call it was for. */
  private failedBeforeStart(belongsTo: FailedBeforeStart, error: NonNullable<RunCommandResult['error']>, started: number): RunCommandResult {
    const record = recordFromOutcome(
      { status: 'error', error: { type: error.type, message: error.message, frames: [], origin: 'backend' }, stdout: '', stderr: '', durationMs: Date.now() - started },
      {
        runId: newRunId(),
        function: belongsTo.fn.name,
        mode: belongsTo.version.mode,
        args: belongsTo.args,
        backend: belongsTo.backend,
        call: belongsTo.call,
        version: belongsTo.version,
        ...(belongsTo.boundTo !== undefined ? { boundTo: belongsTo.boundTo } : {}),
      },
    );
    this.saveRecord(belongsTo.key, record);
    return commandResult(record, belongsTo.fn.defLine);
  }

  /**
   * Where the run's artifacts go when `Choppa(...)` names no folder and the setting none either:
   * the backend's private default (the user's own folder on Databricks). Undefined when the code
   * or the setting names one, or the backend has no default of its own; a failure when the
   * backend cannot say whose folder (rather than fall back to a folder everyone can read).
   */
  private async artifactDirFor(request: Pick<RunRequest, 'analysis' | 'functionName' | 'filePath' | 'signal'>): Promise<string | undefined | { failure: string }> {
    const target = runTarget(request.analysis, request.functionName, request.filePath);
    if (!target || target.instance?.artifactDir || this.artifactDir) return undefined;
    const selected = this.backends.forInstance(target.instance);
    if ('failure' in selected || !selected.backend.defaultArtifactDir) return undefined;
    return selected.backend.defaultArtifactDir(request.signal ? { signal: request.signal } : {});
  }

  /**
   * Lets the run's backend start its context while the artifact folder is looked up (on a warm
   * CLI run the two overlap instead of taking a round trip each), unless the cache may serve it.
   */
  private prepareBackend(request: RunRequest): void {
    const target = runTarget(request.analysis, request.functionName, request.filePath);
    if (!target || (!request.fresh && (request.cache || target.fn.cacheOptIn))) return;
    const selected = this.backends.forInstance(target.instance);
    if (!('failure' in selected)) selected.backend.prepare?.();
  }

  /** Where an instance's artifacts go when its code names no folder, in words for its hover. */
  artifactsGoTo(instance: InstanceSettings | undefined): string {
    if (this.artifactDir) return `\`${this.artifactDir}\` (setting choppa.artifactDir)`;
    const selected = this.backends.forInstance(instance);
    if (!('failure' in selected) && selected.backend.defaultArtifactDir) return 'your own folder, `/Workspace/Users/<you>/.choppa/artifacts` (set `artifact_dir` or choppa.artifactDir for another)';
    return `\`${DEFAULT_ARTIFACT_DIR}\``;
  }

  /** A current result of the same call and code version, when the cache may serve it. */
  private cacheHit(request: RunRequest, prepared: Prepared): RunRecord | undefined {
    if (request.fresh || !(request.cache || prepared.fn.cacheOptIn)) return undefined;
    const hit = this.store.forCall(prepared.key, prepared.call);
    if (!hit || hit.status !== 'ok' || hit.version?.hash !== prepared.version.hash) return undefined;
    if (!samePlace(hit.backend, prepared.backend.label())) return undefined;
    return {
      ...hit,
      runId: prepared.payload.run_id,
      cached: hit.cached ?? { from: hit.runId, computedAt: hit.finishedAt },
      finishedAt: new Date().toISOString(),
      ...(prepared.boundTo !== undefined ? { boundTo: prepared.boundTo } : {}),
    };
  }

  /**
   * The stored result a run would be served from the cache, stored again as a cached run, or
   * undefined when it would run: lets the protocol answer a hit without showing any progress.
   */
  cached(request: RunRequest): RunCommandResult | undefined {
    if (request.fresh || (!request.cache && !runTarget(request.analysis, request.functionName, request.filePath)?.fn.cacheOptIn)) return undefined;
    const prepared = this.prepare(request);
    if ('error' in prepared) return undefined;
    const hit = this.cacheHit(request, prepared);
    if (!hit) return undefined;
    this.saveRecord(prepared.key, hit);
    return commandResult(hit, prepared.fn.defLine);
  }

  /** Plans, runs and stores one run; never throws for user-caused failures. */
  async run(request: RunRequest): Promise<RunCommandResult> {
    const started = Date.now();
    this.prepareBackend(request);
    const home = await this.artifactDirFor(request);
    if (request.signal?.aborted) return { status: 'cancelled', function: request.functionName, durationMs: Date.now() - started };
    if (home !== undefined && typeof home !== 'string') {
      const error = { type: 'ConfigurationError', message: home.failure };
      const planned = this.prepare(request);
      const belongsTo = 'key' in planned ? { ...planned, args: planned.payload.args_source, backend: planned.backend.label() } : planned.belongsTo;
      return belongsTo ? this.failedBeforeStart(belongsTo, error, started) : { status: 'error', function: request.functionName, error, durationMs: Date.now() - started };
    }
    const prepared = this.prepare(home === undefined ? request : { ...request, defaultArtifactDir: home });
    if ('error' in prepared) {
      if (prepared.belongsTo) return this.failedBeforeStart(prepared.belongsTo, prepared.error, started);
      return { status: 'error', function: request.functionName, error: prepared.error, durationMs: Date.now() - started };
    }
    const { fn, backend, payload, key } = prepared;
    const runId = payload.run_id;
    // Read as the run starts: what the buffers ship against what the files on disk hold.
    const unsaved = this.unsavedFiles(prepared);
    const hit = this.cacheHit(request, prepared);
    if (hit) {
      this.saveRecord(key, hit);
      return commandResult(hit, fn.defLine);
    }
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    request.signal?.addEventListener('abort', abort, { once: true });
    const log = new RunLog(runLogPath(this.stateDir, fn.name, runId), this.warn);
    log.begin(`# ${fn.name}(${payload.args_source}) on ${backend.label()}, ${new Date().toISOString()}\n`);
    this.inflight.set(runId, { runId, key, function: fn.name, startedAt: new Date().toISOString(), logPath: log.path, controller });
    this.active += 1;
    try {
      if (this.queue.full) {
        request.onProgress?.({ message: `${fn.name} is queued behind ${this.queue.backlog + 1} run(s) (choppa.runs.maxParallel)` });
      }
      if (!(await this.queue.acquire(controller.signal))) {
        const record = cancelledRecord({ runId, function: fn.name, mode: payload.mode, args: payload.args_source, backend: backend.label(), call: prepared.call });
        return commandResult(record, fn.defLine);
      }
      request.onProgress?.({ message: `Running ${fn.name} on ${backend.label()}` });
      const progress = request.onProgress ? { onProgress: request.onProgress } : {};
      const checked = (missing: string[]): void => this.onImportCheck?.(prepared.definedIn, fn.name, missing);
      const outcome = await shipThenRun(backend, prepared.code, { signal: controller.signal, ...progress, onImportCheck: checked }, () =>
        backend.run(payload, {
          signal: controller.signal,
          ...progress,
          onOutput: (stream, text) => {
            log.append(text);
            request.onOutput?.(stream, text);
          },
        }),
      ).finally(() => this.queue.release());
      const record = recordFromOutcome(outcome, {
        runId,
        function: fn.name,
        mode: payload.mode,
        args: payload.args_source,
        backend: backend.label(),
        call: prepared.call,
        version: prepared.version,
        ...(prepared.boundTo !== undefined ? { boundTo: prepared.boundTo } : {}),
      });
      record.logPath = log.path;
      const origin = record.error && missingModuleOrigin(this.index, prepared.code, record.error, (path) => this.displayPath(path));
      if (record.error && origin) {
        record.error.message += `: it is imported at line ${origin.line} of ${origin.file}, a project module that ships with ${fn.name}; declare \`${origin.module}\` in the project's requirements, or install it where the function runs`;
      }
      const cancelled = outcome.status === 'cancelled' && outcome.message ? `cancelled (${outcome.message})` : 'cancelled';
      log.append(`# ${record.status === 'ok' ? 'finished' : record.status === 'error' ? `raised ${record.error ? errorText(record.error) : 'an error'}` : cancelled} after ${formatDuration(record.durationMs)}\n`);
      // Arguments the runner could not make (`--args "load(4)"`, a value no longer held) are a
      // refused request, as the server's own ArgumentError is: not a result of the function to
      // show on it until its next run.
      if (record.error?.type !== 'ChoppaArgumentError') this.saveRecord(key, record);
      const result = commandResult(record, fn.defLine);
      if (unsaved.length > 0) result.unsaved = unsaved;
      return result;
    } finally {
      log.close();
      request.signal?.removeEventListener('abort', abort);
      this.inflight.delete(runId);
      this.settle();
    }
  }

  private saveRecord(key: string, record: RunRecord): void {
    try {
      if (this.writeAfterAnswer) this.store.setSoon(key, record);
      else this.store.set(key, record);
    } catch (error) {
      this.warn(`Could not save the result of ${record.function} to ${this.stateDir}: ${(error as Error).message}`);
    }
  }

  /**
   * Submits a fire-and-forget run and returns its handle at once; the run is then followed until
   * it ends, and its result (always an ArtifactRef) is stored like any run's.
   */
  async submit(request: Omit<RunRequest, 'mode'>, compute: 'cluster' | 'serverless'): Promise<SubmitCommandResult> {
    const home = await this.artifactDirFor(request);
    if (home !== undefined && typeof home !== 'string') return { status: 'error', function: request.functionName, error: { type: 'ConfigurationError', message: home.failure } };
    const prepared = this.prepare({ ...request, mode: 'artifact', ...(home === undefined ? {} : { defaultArtifactDir: home }) });
    if ('error' in prepared) return { status: 'error', function: request.functionName, error: prepared.error };
    const target = this.backends.targetOf(prepared.backend);
    if (compute === 'serverless' && target.kind === 'databricks' && prepared.payload.artifact_dir.startsWith('dbfs:/')) {
      // Serverless compute has no /dbfs mount, so the runner could not write the result there.
      const message = `serverless compute cannot write to ${prepared.payload.artifact_dir} (it has no /dbfs mount): use a /Volumes/... or /Workspace/... artifact_dir, or choppa.compute "cluster"`;
      return { status: 'error', function: request.functionName, error: { type: 'ConfigurationError', message } };
    }
    const unsaved = this.unsavedFiles(prepared);
    const unshipped = await shipBundle(prepared.backend, prepared.code.bundle, request.signal ? { signal: request.signal } : {});
    if (unshipped !== undefined) return { status: 'error', function: request.functionName, error: { type: 'ChoppaCodeError', message: unshipped } };
    const record = await this.submissions.submit({ key: prepared.key, call: prepared.call, version: prepared.version, payload: prepared.payload, compute, target, backend: prepared.backend });
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
      ...(unsaved.length > 0 ? { unsaved } : {}),
    };
  }

  /** The shipped files open with unsaved changes, relative to the workspace root. */
  private unsavedFiles(prepared: Prepared): string[] {
    return unsavedShippedFiles(this.index, prepared.definedIn, prepared.fn, prepared.code).map((path) => this.displayPath(path));
  }

  /** A file as messages name it: relative to the workspace root. */
  private displayPath(path: string): string {
    return this.root ? relative(this.root, path) : basename(path);
  }

  /** The submitted run of a function still in flight, if any (the newest). */
  pendingSubmission(filePath: string, functionName: string): SubmissionRecord | undefined {
    return this.store.pendingFor(this.key(filePath, functionName));
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
    options: { signal?: AbortSignal; onProgress?: (report: ProgressReport) => void; madeOn?: string } = {},
  ): Promise<DereferenceResult | { failure: string }> {
    // Read from where the artifact was made (a local result stays local after a workspace is configured).
    const selected = this.backends.forArtifacts(options.madeOn);
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
    let dir: string;
    try {
      dir = stateSubdir(this.stateDir, 'artifacts');
    } catch (error) {
      return { failure: (error as Error).message };
    }
    const localPath = resolve(dir, safeArtifactName(meta.path));
    // Invariant: nothing is written outside `.choppa/artifacts/`, whatever the remote name.
    if (!localPath.startsWith(resolve(dir) + sep)) return { failure: `Refusing to write ${meta.path} outside ${dir}.` };
    // Named after this process, so the next download sweeps it up if this one is killed between its renames.
    const temp = partialPath(localPath);
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
    try {
      this.store.flush();
    } catch (error) {
      this.warn(`Could not save results to ${this.stateDir}: ${(error as Error).message}`);
    }
    this.submissions.dispose();
    await this.backends.dispose();
  }
}
