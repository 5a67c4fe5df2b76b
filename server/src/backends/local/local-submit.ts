// Submitted runs of the local backend: runner.py as a detached job (`--payload-file/--result-file`)
// in its own process group, with its files in `<fsRoot>/.choppa-jobs/<run id>/`, so it outlives
// the server and any later backend instance on the same `fsRoot` can poll or cancel it.
import { execFile, spawn } from 'node:child_process';
import { scrubbedEnvironment } from './python-process.js';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendFailure, SubmitRequest, SubmittedHandle, SubmittedStatus } from '../backend.js';
import { outcomeFromEnvelope, RUN_ID_PATTERN } from '../runner-protocol.js';

/** What a local job needs from its backend. */
export interface LocalJobOptions {
  pythonPath: string;
  fsRoot: string;
  runnerPath: string;
  logger?: ((message: string) => void) | undefined;
  /** How long a cancelled job gets after SIGTERM before its group is killed (default 2 s). */
  cancelGraceMs?: number;
  /** How long a resubmit waits for the first submit with its token to write the handle (default 10 s). */
  claimWaitMs?: number;
}

/**
 * `handle.data` of a local job. Invariant: `processStart` is the identity of the process at `pid`
 * when it was spawned; a pid whose start differs was reused by another program and is never
 * signalled.
 */
interface LocalJobData {
  pid: number;
  processStart: string;
  startedAt: string;
  dir: string;
  payloadFile: string;
  resultFile: string;
  logFile: string;
}

const JOBS_FOLDER = '.choppa-jobs';
const TOKENS_FOLDER = 'tokens';
const JOB_FILE = 'job.json';
const CANCEL_MARKER = 'cancel-requested';
/** The job writes its own pid here at start, so a server killed before `job.json` got the pid still finds it. */
const PID_FILE = 'runner.pid';
/** A job with neither a pid nor a result this long after its submit never started. */
const START_GRACE_MS = 30_000;
const LOG_TAIL_BYTES = 64 * 1024;
/** How long an idempotent resubmit waits for a concurrent first submit to write its handle. */
const CLAIM_WAIT_MS = 10_000;

/** The folder holding every local job's files under `fsRoot`. */
export function jobsRoot(fsRoot: string): string {
  return join(fsRoot, JOBS_FOLDER);
}

/**
 * Starts the runner detached on the request's payload (always in `artifact` mode), or returns
 * the handle of the job an earlier submit with the same idempotency token started.
 */
export async function submitLocalJob(options: LocalJobOptions, request: SubmitRequest): Promise<SubmittedHandle | BackendFailure> {
  const runId = request.payload.run_id;
  if (!RUN_ID_PATTERN.test(runId)) return { failure: `run id ${JSON.stringify(runId)} is not [A-Za-z0-9_.-]+` };
  const root = jobsRoot(options.fsRoot);
  const tokenFile = join(root, TOKENS_FOLDER, createHash('sha256').update(request.idempotencyToken).digest('hex'));
  try {
    await mkdir(join(root, TOKENS_FOLDER), { recursive: true, mode: 0o700 });
    // The claim is the exclusive create: of two submits with one token, one starts a process.
    await writeFile(tokenFile, runId, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') return { failure: `cannot prepare the local job folder ${root} (${errorCode(error)})` };
    const existing = await existingJob(root, tokenFile, options.claimWaitMs ?? CLAIM_WAIT_MS);
    if (!('retake' in existing)) return existing;
    // The first submit holds the token but died before its job folder was complete: nothing
    // ran, so this submit starts the job under the run id the token names.
    await rm(join(root, existing.retake), { recursive: true, force: true });
    return startJob(options, { ...request, payload: { ...request.payload, run_id: existing.retake } }, join(root, existing.retake));
  }
  const started = await startJob(options, request, join(root, runId));
  // A submit that started nothing releases its token, so the engine's retry can start the job.
  if ('failure' in started) await rm(tokenFile, { force: true });
  return started;
}

async function startJob(options: LocalJobOptions, request: SubmitRequest, dir: string): Promise<SubmittedHandle | BackendFailure> {
  const runId = request.payload.run_id;
  const data: LocalJobData = {
    pid: 0,
    processStart: '',
    startedAt: new Date().toISOString(),
    dir,
    payloadFile: join(dir, 'payload.json'),
    resultFile: join(dir, 'result.json'),
    logFile: join(dir, 'output.log'),
  };
  let log: Awaited<ReturnType<typeof open>> | undefined;
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    return { failure: `local run ${runId} was already submitted with another idempotency token (${errorCode(error)})` };
  }
  try {
    await writeFile(data.payloadFile, JSON.stringify({ ...request.payload, mode: 'artifact' }), { mode: 0o600 });
    log = await open(data.logFile, 'a', 0o600);
    // Written before the process starts (pid 0 until it is known): a server killed at any
    // instant after this leaves a handle that a restart finds, and the job's pid file says the rest.
    await writeFile(join(dir, JOB_FILE), JSON.stringify({ runId, data: { ...data } }), { mode: 0o600 });
  } catch (error) {
    return { failure: `cannot write the local job files under ${dir} (${errorCode(error)})` };
  }
  const spawned = await new Promise<{ pid: number } | { error: NodeJS.ErrnoException }>((resolve) => {
    // detached: a new process group (and session), so neither the server's exit nor a signal
    // to the server's group reaches it, and cancel can signal the job and its children at once.
    const child = spawn(options.pythonPath, [options.runnerPath, '--payload-file', data.payloadFile, '--result-file', data.resultFile], {
      cwd: options.fsRoot,
      detached: true,
      stdio: ['ignore', log!.fd, log!.fd],
      env: { ...scrubbedEnvironment(process.env), CHOPPA_FS_ROOT: options.fsRoot, CHOPPA_JOB_PID_FILE: join(dir, PID_FILE), PYTHONIOENCODING: 'utf-8', PYTHONUNBUFFERED: '1' },
    });
    child.once('error', (error) => resolve({ error }));
    child.once('spawn', () => {
      child.unref();
      resolve({ pid: child.pid! });
    });
  });
  await log.close();
  if ('error' in spawned) {
    return {
      failure: `could not start the Python interpreter \`${options.pythonPath}\` (${spawned.error.code ?? spawned.error.message}); set \`choppa.pythonPath\` to a Python 3.8+ executable`,
    };
  }
  data.pid = spawned.pid;
  data.processStart = (await processStart(spawned.pid)) ?? '';
  const handle: SubmittedHandle = { runId, data: { ...data } };
  await writeFile(join(dir, JOB_FILE), JSON.stringify(handle), { mode: 0o600 });
  options.logger?.(`local job ${runId} started (pid ${spawned.pid})`);
  return handle;
}

/**
 * The handle the first submit with this token wrote, waiting briefly if it is still starting;
 * `retake` when that submit died before writing it (nothing was started).
 */
async function existingJob(root: string, tokenFile: string, waitMs: number): Promise<SubmittedHandle | BackendFailure | { retake: string }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const runId = (await readFile(tokenFile, 'utf8').catch(() => '')).trim();
    if (RUN_ID_PATTERN.test(runId)) {
      const text = await readFile(join(root, runId, JOB_FILE), 'utf8').catch(() => undefined);
      if (text !== undefined) {
        try {
          return JSON.parse(text) as SubmittedHandle;
        } catch {
          // Torn by a kill mid-write: the job never started (the file precedes the process).
        }
      }
      if (Date.now() > deadline) return { retake: runId };
    } else if (Date.now() > deadline) {
      return { failure: 'an earlier submit with the same idempotency token did not finish starting its job; submit again' };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The state of a local job: its result file once written (succeeded, failed with the runner's
 * frames, or cancelled), else running while its process lives, else failed with its log's tail.
 */
export async function localJobStatus(options: LocalJobOptions, handle: SubmittedHandle): Promise<SubmittedStatus | BackendFailure> {
  const data = jobData(options, handle);
  if ('failure' in data) return data;
  if (data.pid === 0) await adoptPid(data);
  // Liveness first: the runner writes its result before exiting, so a process found gone here
  // has left its result (if any) for the read below.
  const alive = await isOurProcess(data);
  const envelope = await readFile(data.resultFile, 'utf8').catch(() => undefined);
  const logs = envelope !== undefined || !alive ? await logTail(data.logFile) : '';
  if (envelope !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(envelope);
    } catch {
      return { state: 'failed', logs, error: backendError(`the result file of local job ${handle.runId} is not JSON`) };
    }
    const outcome = outcomeFromEnvelope(raw);
    if ('failure' in outcome) return { state: 'failed', logs, error: backendError(outcome.failure) };
    if (outcome.status === 'cancelled') return { state: 'cancelled', logs };
    if (outcome.status === 'error') return { state: 'failed', stateMessage: `${outcome.error.type}: ${outcome.error.message}`, error: outcome.error, logs };
    if ('ref' in outcome) return { state: 'succeeded', ref: outcome.ref, logs };
    return { state: 'failed', logs, error: backendError(`local job ${handle.runId} returned a value instead of storing an artifact`) };
  }
  const cancelRequested = await stat(join(data.dir, CANCEL_MARKER)).then(
    () => true,
    () => false,
  );
  if (alive) return cancelRequested ? { state: 'terminating', stateMessage: 'cancelling' } : { state: 'running', stateMessage: `pid ${data.pid}` };
  if (cancelRequested) return { state: 'cancelled', logs };
  if (data.pid === 0 && Date.now() - Date.parse(data.startedAt) < START_GRACE_MS) return { state: 'pending', stateMessage: 'starting' };
  const last = logs.trim().split('\n').pop();
  return {
    state: 'failed',
    logs,
    error: backendError(
      `the local job process (pid ${data.pid}) ended without a result${last ? `; its output ended with: ${last}` : ''}`,
    ),
  };
}

/**
 * Stops a local job: SIGTERM to its process group, SIGKILL after the grace. A job that already
 * ended is left as it is (its status keeps its own outcome).
 */
export async function cancelLocalJob(options: LocalJobOptions, handle: SubmittedHandle): Promise<{ cancelled: true } | BackendFailure> {
  const data = jobData(options, handle);
  if ('failure' in data) return data;
  if (data.pid === 0) await adoptPid(data);
  if (!(await isOurProcess(data))) return { cancelled: true };
  await writeFile(join(data.dir, CANCEL_MARKER), new Date().toISOString(), { mode: 0o600 });
  signalGroup(data.pid, 'SIGTERM');
  const deadline = Date.now() + (options.cancelGraceMs ?? 2000);
  while (Date.now() < deadline) {
    if (!(await isOurProcess(data))) return { cancelled: true };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (await isOurProcess(data)) signalGroup(data.pid, 'SIGKILL');
  options.logger?.(`local job ${handle.runId} did not stop within the grace; killed its process group`);
  return { cancelled: true };
}

/** Validates `handle.data`; the job folder must be this backend's, whatever the state file says. */
function jobData(options: LocalJobOptions, handle: SubmittedHandle): LocalJobData | BackendFailure {
  const raw = handle.data;
  const dir = join(jobsRoot(options.fsRoot), handle.runId);
  if (!RUN_ID_PATTERN.test(handle.runId) || raw['dir'] !== dir || typeof raw['pid'] !== 'number' || typeof raw['processStart'] !== 'string') {
    return { failure: `submitted run ${handle.runId} is not a job of this local backend (its folder is not under ${jobsRoot(options.fsRoot)})` };
  }
  return {
    pid: raw['pid'],
    processStart: raw['processStart'],
    startedAt: typeof raw['startedAt'] === 'string' ? raw['startedAt'] : '',
    dir,
    payloadFile: join(dir, 'payload.json'),
    resultFile: join(dir, 'result.json'),
    logFile: join(dir, 'output.log'),
  };
}

/**
 * The pid of a job whose handle was written before its process started (the server died in
 * between): the one the job wrote itself, trusted only while that process runs this job.
 */
async function adoptPid(data: LocalJobData): Promise<void> {
  const pid = Number.parseInt(await readFile(join(data.dir, PID_FILE), 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (process.platform === 'linux') {
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!command.includes(data.resultFile)) return;
  }
  data.pid = pid;
  data.processStart = (await processStart(pid)) ?? '';
}

/** Whether `pid` is still the process the job started (not exited, not a zombie, not reused). */
async function isOurProcess(data: LocalJobData): Promise<boolean> {
  if (data.pid <= 0) return false;
  try {
    process.kill(data.pid, 0);
  } catch {
    return false;
  }
  const start = await processStart(data.pid);
  if (start === undefined) return false;
  // Without a recorded identity (the platform had none) a live pid is trusted.
  return data.processStart === '' || start === data.processStart;
}

/**
 * An identity of the process at `pid` that a reused pid does not share: the start time in clock
 * ticks from `/proc` on Linux, `ps`'s start time elsewhere; undefined when it is gone or a zombie.
 */
async function processStart(pid: number): Promise<string | undefined> {
  if (process.platform === 'linux') {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) return undefined;
    // The command name may contain spaces and parentheses; the fields after its last `)` do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  }
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'stat=,lstart=', '-p', String(pid)], (error, stdout) => {
      const line = stdout.trim();
      if (error || line === '' || line.startsWith('Z')) resolve(undefined);
      else resolve(line.replace(/^\S+\s+/, ''));
    });
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

async function logTail(logFile: string): Promise<string> {
  try {
    const file = await open(logFile, 'r');
    try {
      const { size } = await file.stat();
      const length = Math.min(size, LOG_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await file.close();
    }
  } catch {
    return '';
  }
}

function backendError(message: string) {
  return { type: 'BackendError', message, frames: [], origin: 'backend' as const };
}

function errorCode(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ?? message;
}
