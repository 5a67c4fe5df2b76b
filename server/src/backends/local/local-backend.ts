// The embedded backend: a local python3 stands in for the cluster and `fsRoot` for its storage.
// It keeps one warm process that has executed runner.py and drives it with the same short
// start/poll/cancel commands a Databricks execution context gets.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { packageFile } from '../../package-files.js';
import type {
  CodeUpload,
  ArtifactRef,
  Backend,
  BackendFailure,
  FetchOptions,
  RunOptions,
  RunOutcome,
  RunPayload,
  SubmitRequest,
  SubmittedHandle,
  SubmittedStatus,
} from '../backend.js';
import { mapLogicalPath, sidecarPath } from '../fs-paths.js';
import { partialPath, removeAbandonedPartials } from '../partial-files.js';
import { shipCodeToRoot } from '../local-code-store.js';
import { cancelLocalJob, localJobStatus, submitLocalJob } from './local-submit.js';
import { describeExit, PythonExitedError, PythonProcess, PythonProtocolError, START_TIMEOUT_MS } from './python-process.js';
import { raceAbort, withDeadline } from '../promise-races.js';
import { OutputTail } from '../output-tail.js';
import { artifactRefFrom, endings, INFO_COMMAND, missingImportsCommand, parseMissingImports, RUN_ID_PATTERN } from '../runner-protocol.js';
import { RunnerChannel } from '../runner-channel.js';
import { pollRunner } from '../runner-poll.js';
import { formatBytes } from '../../engine/format.js';

/**
 * Whether `local` really lies under the fs root once links are resolved: a symbolic link planted
 * inside `.choppa/fs` (a cloned repository can carry one) must not lead a read elsewhere. A path
 * that does not exist passes; reading it then says it is missing.
 */
async function insideRoot(fsRoot: string, local: string): Promise<boolean> {
  let root: string;
  let real: string;
  try {
    [root, real] = await Promise.all([realpath(fsRoot), realpath(local)]);
  } catch {
    return true;
  }
  const inside = relative(root, real);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
}

/** `server/python/runner.py`. */
export const RUNNER_PATH = packageFile('python', 'runner.py');

export interface LocalBackendOptions {
  /** The interpreter (the `choppa.pythonPath` setting). */
  pythonPath: string;
  /** The folder standing in for `/Workspace`, `/Volumes` and `dbfs:/`. */
  fsRoot: string;
  runnerPath: string;
  logger?: (message: string) => void;
  /** How long a cancelled run may take to stop before `cancelled` is reported anyway. */
  cancelGraceMs?: number;
  /** Credential variables user code may see anyway (setting `choppa.passEnvironment`). */
  passEnvironment?: readonly string[];
  /** How long starting the interpreter may take, and then loading the runner (default 30 s each). */
  startTimeoutMs?: number;
}

/** A local process has no output cap; a large budget keeps heavy output to few round trips. */
const LOCAL_REPORT_BUDGET = 1 << 20;
const POLL_FIRST_MS = 5;
const POLL_MAX_MS = 200;
/**
 * The default cancel grace. A thread blocked in C (`time.sleep`, a socket read) only sees the
 * cancellation when it returns to Python; past the grace the run is left behind in the process.
 */
const CANCEL_GRACE_MS = 5000;

/**
 * Invariant: at most one live process per backend; `live` is replaced only after the previous
 * one exited, and `spawning` is the one spawn in progress.
 */
export class LocalBackend implements Backend {
  readonly kind = 'local' as const;
  private readonly options: LocalBackendOptions;
  private live: PythonProcess | undefined;
  private spawning: Promise<PythonProcess | BackendFailure> | undefined;
  private pythonVersion: string | undefined;
  private disposed = false;
  private readonly stopStarting = new AbortController();

  constructor(options: LocalBackendOptions) {
    this.options = options;
  }

  label(): string {
    const minor = this.pythonVersion?.split('.').slice(0, 2).join('.');
    return minor ? `local python${minor}` : 'local python3';
  }

  async run(payload: RunPayload, options: RunOptions = {}): Promise<RunOutcome> {
    const started = Date.now();
    const { signal, onProgress } = options;
    const output = { stdout: new OutputTail(), stderr: new OutputTail() };
    const { backendError, cancelled } = endings(started, output);

    if (this.disposed) return backendError('the local backend was shut down; run again to start a new one');
    if (!RUN_ID_PATTERN.test(payload.run_id)) {
      return backendError(`run id ${JSON.stringify(payload.run_id)} is not [A-Za-z0-9_.-]+`);
    }
    if (signal?.aborted) return cancelled();
    // A cancel while the interpreter starts ends this run at once; the start goes on for the
    // runs after it (its own deadlines end it if it hangs).
    const python = await raceAbort(this.ensureProcess(onProgress), signal);
    if (python === 'aborted' || signal?.aborted) return cancelled();
    if ('failure' in python) return backendError(python.failure);

    return pollRunner(
      {
        payload,
        channel: new RunnerChannel(payload.run_id, LOCAL_REPORT_BUDGET),
        send: async (command, { cancelSent }) => {
          let answer: Awaited<ReturnType<PythonProcess['command']>>;
          try {
            answer = await python.command(command);
          } catch (error) {
            if (error instanceof PythonProtocolError) return { end: backendError(`${error.message} (while running ${payload.function_name})`) };
            if (!(error instanceof PythonExitedError)) return { end: backendError(`the local backend failed: ${String(error)}`) };
            if (cancelSent) return { end: cancelled() };
            output.stderr.append(python.stderrTail);
            return {
              end: backendError(
                `the local Python process exited (${describeExit(error.exit)}) while running ${payload.function_name}; it will be restarted on the next run`,
              ),
            };
          }
          if (answer.ok) return { text: answer.result };
          const last = answer.error.trim().split('\n').pop() ?? answer.error;
          return { end: backendError(`the runner failed while running ${payload.function_name}: ${last}`, answer.error) };
        },
        output,
        backendError,
        cancelled,
        unknownRun: () =>
          backendError(`the local Python process no longer knows run ${payload.run_id} of ${payload.function_name}; run it again`),
        cancelGraceMs: this.options.cancelGraceMs ?? CANCEL_GRACE_MS,
        firstDelayMs: POLL_FIRST_MS,
        maxDelayMs: POLL_MAX_MS,
        log: (message) => this.log(message),
      },
      options,
    );
  }

  async missingImports(names: readonly string[]): Promise<string[] | BackendFailure> {
    if (names.length === 0) return [];
    const python = await this.ensureProcess(undefined);
    if ('failure' in python) return python;
    try {
      const answer = await python.command(missingImportsCommand(names));
      return answer.ok ? parseMissingImports(answer.result) : { failure: `the runner could not check imports: ${answer.error.trim().split('\n').pop() ?? ''}` };
    } catch (error) {
      return { failure: `the local Python process could not check imports: ${String(error)}` };
    }
  }

  shipCode(code: CodeUpload): Promise<{ uploaded: boolean } | BackendFailure> {
    return shipCodeToRoot(this.options.fsRoot, code);
  }

  async readArtifactMetadata(path: string, _options?: FetchOptions): Promise<ArtifactRef | BackendFailure> {
    const local = mapLogicalPath(this.options.fsRoot, path);
    if (local === undefined || !(await insideRoot(this.options.fsRoot, sidecarPath(local)))) return refusedPath(path);
    let text: string;
    try {
      text = await readFile(sidecarPath(local), 'utf8');
    } catch (error) {
      return { failure: `no metadata for artifact ${path} (${errorCode(error)})` };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { failure: `the metadata of artifact ${path} is not JSON` };
    }
    return artifactRefFrom(raw) ?? { failure: `the metadata of artifact ${path} is incomplete` };
  }

  async fetchArtifact(
    path: string,
    destination: string,
    options: FetchOptions = {},
  ): Promise<{ size: number; sha256: string } | BackendFailure> {
    const local = mapLogicalPath(this.options.fsRoot, path);
    if (local === undefined || !(await insideRoot(this.options.fsRoot, local))) return refusedPath(path);
    let total: number;
    try {
      total = (await stat(local)).size;
    } catch (error) {
      return { failure: `artifact ${path} not found (${errorCode(error)})` };
    }
    const hash = createHash('sha256');
    let size = 0;
    let reported = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        const percentage = total > 0 ? Math.floor((size / total) * 100) : 100;
        if (percentage >= reported + 10) {
          reported = percentage;
          options.onProgress?.({ message: `downloading ${path} (${formatBytes(size)} of ${formatBytes(total)})`, percentage });
        }
        callback(null, chunk);
      },
    });
    // Written beside the destination and renamed, so a failed copy never leaves a partial file;
    // one a killed process left there is removed by the next copy into that folder.
    const partial = partialPath(destination);
    try {
      await mkdir(dirname(destination), { recursive: true });
      await removeAbandonedPartials(dirname(destination));
      await pipeline(createReadStream(local), counter, createWriteStream(partial, { mode: 0o600 }), {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await rename(partial, destination);
    } catch (error) {
      await unlink(partial).catch(() => {});
      if (options.signal?.aborted) return { failure: `fetching ${path} was cancelled` };
      return { failure: `could not copy artifact ${path} (${errorCode(error)})` };
    }
    return { size, sha256: hash.digest('hex') };
  }

  /** Starts the runner as a detached job under `<fsRoot>/.choppa-jobs/`; it outlives this backend. */
  submit(request: SubmitRequest, _options?: FetchOptions): Promise<SubmittedHandle | BackendFailure> {
    if (this.disposed) return Promise.resolve({ failure: 'the local backend was shut down; submit again to start a new one' });
    return submitLocalJob(this.options, request);
  }

  submittedStatus(handle: SubmittedHandle, _options?: FetchOptions): Promise<SubmittedStatus | BackendFailure> {
    return localJobStatus(this.options, handle);
  }

  cancelSubmitted(handle: SubmittedHandle): Promise<{ cancelled: true } | BackendFailure> {
    return cancelLocalJob(this.options, handle);
  }

  /** Ends the warm process; submitted jobs are detached and keep running. */
  async dispose(): Promise<void> {
    this.disposed = true;
    // An interpreter still starting (or loading the runner) is stopped, not waited for.
    this.stopStarting.abort();
    const spawning = await this.spawning;
    await Promise.all(
      [this.live, spawning].map((python) => (python && !('failure' in python) ? python.kill() : undefined)),
    );
    this.live = undefined;
  }

  /** The live process, spawning one (and sending it runner.py) when there is none. */
  private ensureProcess(onProgress: RunOptions['onProgress']): Promise<PythonProcess | BackendFailure> {
    if (this.live?.alive) return Promise.resolve(this.live);
    // Runs that arrive together share one spawn; a failed spawn is not kept, so the next run
    // tries again.
    if (!this.spawning) {
      onProgress?.({ message: 'starting local Python' });
      this.spawning = this.spawn().then((result) => {
        this.spawning = undefined;
        if (!('failure' in result)) this.live = result;
        return result;
      });
    }
    return this.spawning;
  }

  private async spawn(): Promise<PythonProcess | BackendFailure> {
    const { pythonPath, fsRoot, runnerPath } = this.options;
    let runnerSource: string;
    try {
      runnerSource = await readFile(runnerPath, 'utf8');
      await mkdir(fsRoot, { recursive: true });
    } catch (error) {
      return { failure: `the local backend cannot start: ${(error as Error).message}` };
    }
    const started = await PythonProcess.start({
      signal: this.stopStarting.signal,
      pythonPath,
      cwd: fsRoot,
      env: { ...process.env, CHOPPA_FS_ROOT: fsRoot, PYTHONIOENCODING: 'utf-8' },
      logger: this.options.logger,
      ...(this.options.passEnvironment ? { passEnvironment: this.options.passEnvironment } : {}),
      ...(this.options.startTimeoutMs !== undefined ? { startTimeoutMs: this.options.startTimeoutMs } : {}),
    });
    if ('error' in started) {
      return {
        failure: `could not start the Python interpreter \`${pythonPath}\` (${started.error.code === 'ETIMEDOUT' || started.error.code === 'EEXITED' ? started.error.message : (started.error.code ?? started.error.message)}); set \`choppa.pythonPath\` to a Python 3.8+ executable`,
      };
    }
    const deadlineMs = this.options.startTimeoutMs ?? START_TIMEOUT_MS;
    try {
      const loading = started.command(runnerSource).then((installed) => (installed.ok ? started.command(INFO_COMMAND) : installed));
      // Observed here too: after a timeout the kill rejects it, with nobody awaiting it.
      loading.catch(() => undefined);
      const stop = (): void => void started.kill(100);
      this.stopStarting.signal.addEventListener('abort', stop, { once: true });
      const info = await withDeadline(loading, deadlineMs).finally(() => this.stopStarting.signal.removeEventListener('abort', stop));
      if (info === 'timeout') {
        await started.kill(100);
        return {
          failure: `\`${pythonPath}\` did not load the runner within ${Math.round(deadlineMs / 1000)} s (a slow or hanging site-packages hook?); it was stopped, and the next run starts a new one`,
        };
      }
      if (!info.ok) {
        await started.kill();
        const last = info.error.trim().split('\n').pop() ?? '';
        return {
          failure: `\`${pythonPath}\` could not load the runner (${last}); set \`choppa.pythonPath\` to a Python 3.8+ executable`,
        };
      }
      const { python } = JSON.parse(info.result) as { python: string };
      const [major = 0, minor = 0] = python.split('.').map(Number);
      if (major < 3 || (major === 3 && minor < 8)) {
        await started.kill();
        return { failure: `\`${pythonPath}\` is Python ${python}; set \`choppa.pythonPath\` to a Python 3.8+ executable` };
      }
      this.pythonVersion = python;
      this.log(`local python ${python} started (pid ${started.pid})`);
      return started;
    } catch (error) {
      const exit = error instanceof PythonExitedError ? describeExit(error.exit) : String(error);
      const tail = started.stderrTail.trim().split('\n').pop();
      return {
        failure: `the Python interpreter \`${pythonPath}\` exited while starting (${exit}${tail ? `: ${tail}` : ''}); set \`choppa.pythonPath\` to a Python 3.8+ executable`,
      };
    }
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

function errorCode(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ?? message;
}
