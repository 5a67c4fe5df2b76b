// One workspace's run machinery: its state folder, result store and backend. It owns a run
// from plan to stored result, and dereferences artifacts into `.choppa/artifacts/` with a
// verified checksum. The protocol layer and the CLI both drive runs through this class.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { CallArgument, FileAnalysis, Pos } from '../analysis/model.js';
import { isFailure, type ArtifactRef, type ProgressReport } from '../backends/backend.js';
import type { BackendSelection } from './backend-selection.js';
import { planArguments, planWithoutArguments, type ArgumentPlan } from './arguments.js';
import { formatBytes } from './format.js';
import { ResultStore, resultKey } from './result-store.js';
import { commandResult, recordFromOutcome, type RunCommandResult, type RunMode, type RunRecord } from './run-record.js';
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

export interface WorkspaceOptions {
  /** The workspace root, or null when the client sent none. */
  root: string | null;
  stateDir: string;
  /** Where runs go: the local backend or the Databricks workspace, per Choppa instance. */
  backends: BackendSelection;
  warn: (message: string) => void;
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

function previewText(ref: ArtifactRef, localPath: string): string {
  return [
    `ArtifactRef ${ref.path}`,
    `type:     ${ref.type}`,
    `size:     ${formatBytes(ref.size)} (${ref.size} bytes)`,
    `sha256:   ${ref.sha256} (verified)`,
    `created:  ${ref.created}`,
    `local:    ${localPath}`,
    '',
    'Preview',
    '',
    ref.preview,
    '',
    'Load it in Python:',
    '',
    '    import pickle',
    `    with open(${JSON.stringify(localPath)}, "rb") as f:`,
    '        value = pickle.load(f)',
    '',
  ].join('\n');
}

export class Workspace {
  readonly store: ResultStore;
  readonly root: string | null;
  readonly stateDir: string;
  readonly backends: BackendSelection;
  private readonly warn: (message: string) => void;
  private active = 0;
  private retired = false;

  constructor(options: WorkspaceOptions) {
    this.root = options.root;
    this.stateDir = options.stateDir;
    this.backends = options.backends;
    this.warn = options.warn;
    this.store = new ResultStore(options.stateDir, options.warn);
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

  /** Plans, runs and stores one run; never throws for user-caused failures. */
  async run(request: RunRequest): Promise<RunCommandResult> {
    const started = Date.now();
    const fail = (message: string, type = 'ChoppaError', missing?: string[]): RunCommandResult => ({
      status: 'error',
      function: request.functionName,
      error: { type, message, ...(missing ? { missing } : {}) },
      durationMs: Date.now() - started,
    });
    const fn = request.analysis.functions.find((candidate) => candidate.name === request.functionName);
    if (!fn) return fail(`There is no function \`${request.functionName}\` decorated by a Choppa instance in ${basename(request.filePath)}.`);
    const instance = request.analysis.instances.find((candidate) => candidate.name === fn.instance);
    const plan: ArgumentPlan = request.args
      ? planArguments(request.args.parsed, request.args.source, {
          fn,
          bindings: request.analysis.bindings,
          position: request.args.position,
          lastResult: (name) => this.lastResult(request.filePath, name),
        })
      : planWithoutArguments(fn);
    if (!plan.ok) return fail(plan.message, 'ArgumentError', plan.missing);

    const selected = this.backends.forInstance(instance);
    if ('failure' in selected) return fail(selected.failure, 'ConfigurationError');
    const backend = selected.backend;
    const runId = newRunId();
    request.onProgress?.({ message: `Running ${fn.name} on ${backend.label()}` });
    this.active += 1;
    const outcome = await backend.run(
      {
        run_id: runId,
        mode: request.mode,
        function_name: fn.name,
        source: fn.source,
        args_source: plan.argsSource,
        args_refs: plan.argsRefs,
        result_size_max: instance?.resultSizeMax ?? null,
        artifact_dir: instance?.artifactDir ?? DEFAULT_ARTIFACT_DIR,
      },
      {
        ...(request.signal ? { signal: request.signal } : {}),
        ...(request.onProgress ? { onProgress: request.onProgress } : {}),
        ...(request.onOutput ? { onOutput: request.onOutput } : {}),
      },
    ).finally(() => this.settle());
    const record = recordFromOutcome(outcome, {
      runId,
      function: fn.name,
      mode: request.mode,
      args: plan.argsSource,
      backend: backend.label(),
    });
    try {
      this.store.set(this.key(request.filePath, fn.name), record);
    } catch (error) {
      this.warn(`Could not save the result of ${fn.name} to ${this.stateDir}: ${(error as Error).message}`);
    }
    return commandResult(record, fn.defLine);
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
    const previewPath = `${localPath}.preview.txt`;
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
    await this.backends.dispose();
  }
}
