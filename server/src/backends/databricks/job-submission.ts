// Submitted runs on Databricks (DESIGN §2 `submit`): runner.py and the payload are uploaded under
// `<artifact_dir>/.choppa/jobs/<run id>/` and run as a one-time Jobs API run with one
// spark_python_task (databricks-api.md §3), on the cluster or serverless. The result comes back
// through the runner's result file; get-output of the task run covers a runner that never wrote one.
import { createHash } from 'node:crypto';
import type {
  BackendFailure,
  RemoteError,
  RemoteFrame,
  SubmitRequest,
  SubmittedHandle,
  SubmittedState,
  SubmittedStatus,
} from '../backend.js';
import { outcomeFromEnvelope, RUN_ID_PATTERN } from '../runner-protocol.js';
import { readSmallFile, storageLocation, type TransferContext } from './artifact-transfer.js';
import { uploadFile } from './file-upload.js';
import { describeApiFailure } from './failure-messages.js';

/** What job submission needs from the Databricks backend. */
export interface JobContext extends TransferContext {
  clusterId: string;
  /** The text of server/python/runner.py, uploaded with every job. */
  runnerSource: string;
  /** `spec.environment_version` of serverless runs (`choppa.serverless.environmentVersion`). */
  serverlessEnvironmentVersion: string;
}

/** The Jobs API version the client speaks; 2.2 differs only in paging `runs/get` (§3.1). */
const JOBS_API = '/api/2.1/jobs/runs';
const TASK_KEY = 'choppa';
const ENVIRONMENT_KEY = 'choppa';
/**
 * Put before logs the service cut: get-output keeps only the last 5 MB of a task's output
 * (databricks-sdk-py `service/jobs.py`, `RunOutput.logs`), so without it the log would read as
 * if the run had printed nothing before.
 */
export const TRUNCATED_LOGS_NOTE =
  '[choppa: Databricks returns only the last 5 MB of a job\'s output (logs_truncated), so its beginning is missing here; the run page has the full driver logs]';
/** The service's limit on `idempotency_token` (§3.2). */
const MAX_TOKEN_CHARS = 64;

/** `runs/get` as far as it is read here: `Run` with its `RunState`, v2 `RunStatus` and tasks (§3.3). */
export interface JobRun {
  run_id?: number;
  run_page_url?: string;
  state?: { life_cycle_state?: string; result_state?: string; state_message?: string };
  status?: { state?: string; termination_details?: { code?: string; type?: string; message?: string } };
  tasks?: { task_key?: string; run_id?: number }[];
}

interface JobRunOutput {
  logs?: string;
  logs_truncated?: boolean;
  error?: string;
  error_trace?: string;
}

/** `handle.data` of a Databricks job: everything needed to poll, read the result and cancel. */
interface JobData {
  runId: number;
  taskRunId?: number;
  resultPath: string;
}

/** Where a run stands, read from `runs/get`, with the service's words for it. */
export interface RunPhase {
  state: SubmittedState;
  message?: string;
}

/**
 * Uploads the runner and the payload (always `artifact` mode) and submits the one-time run with
 * the request's idempotency token, so a resubmit after a lost answer finds the same run.
 */
export async function submitJob(context: JobContext, request: SubmitRequest, signal?: AbortSignal): Promise<SubmittedHandle | BackendFailure> {
  const payload = { ...request.payload, mode: 'artifact' as const };
  if (!RUN_ID_PATTERN.test(payload.run_id)) return { failure: `run id ${JSON.stringify(payload.run_id)} is not [A-Za-z0-9_.-]+` };
  const jobDir = `${payload.artifact_dir.replace(/\/+$/, '')}/.choppa/jobs/${payload.run_id}`;
  const runnerPath = `${jobDir}/runner.py`;
  const payloadPath = `${jobDir}/payload.json`;
  const resultPath = `${jobDir}/result.json`;
  if (storageLocation(runnerPath) === undefined) {
    return { failure: `artifact_dir ${JSON.stringify(payload.artifact_dir)} is not a /Workspace/..., /Volumes/... or dbfs:/... folder, so the job has nowhere to live` };
  }
  for (const [path, text] of [
    [runnerPath, context.runnerSource],
    [payloadPath, JSON.stringify(payload)],
  ] as const) {
    const uploaded = await uploadFile(context, path, Buffer.from(text, 'utf8'), signal);
    if ('failure' in uploaded) return { failure: `could not upload the job files: ${uploaded.failure}` };
  }

  const task: Record<string, unknown> = {
    task_key: TASK_KEY,
    // The task reads its files through the cluster's own paths (`/Workspace`, `/Volumes`,
    // `/dbfs`), which the runner derives from the logical paths it is given.
    spark_python_task: { python_file: runnerPath, parameters: ['--payload-file', payloadPath, '--result-file', resultPath] },
  };
  const body: Record<string, unknown> = {
    run_name: `choppa ${payload.function_name} ${payload.run_id}`,
    idempotency_token: jobToken(request.idempotencyToken),
    tasks: [task],
  };
  if (request.compute === 'serverless') {
    task['environment_key'] = ENVIRONMENT_KEY;
    // `environment_version`, not the deprecated `client` (whose version 1 is Python 3.10).
    body['environments'] = [{ environment_key: ENVIRONMENT_KEY, spec: { environment_version: context.serverlessEnvironmentVersion } }];
  } else {
    task['existing_cluster_id'] = context.clusterId;
  }
  // Retrying a submit is safe only because it carries the idempotency token: the service
  // answers a resend with the run the first one created.
  const submitted = await context.client.request<{ run_id?: number }>('POST', `${JOBS_API}/submit`, {
    body,
    idempotent: true,
    ...(signal ? { signal } : {}),
  });
  if (!submitted.ok) return { failure: describeApiFailure(submitted.error, `submitting ${payload.function_name} as a job`, context.host, context.client.configFile) };
  const runId = submitted.value.run_id;
  if (typeof runId !== 'number') return { failure: 'Databricks accepted the job but returned no run_id' };

  // The task run id (for get-output) and the run page are known at once; both are optional.
  const run = await getRun(context, runId);
  const taskRunId = run.ok ? taskRunOf(run.value) : undefined;
  const runPageUrl = run.ok ? run.value.run_page_url : undefined;
  context.logger?.(`submitted ${payload.function_name} as job run ${runId}`);
  return {
    runId: String(runId),
    ...(runPageUrl ? { runPageUrl } : {}),
    data: {
      runId,
      ...(taskRunId !== undefined ? { taskRunId } : {}),
      taskKey: TASK_KEY,
      compute: request.compute,
      ...(request.compute === 'cluster' ? { clusterId: context.clusterId } : {}),
      jobDir,
      runnerPath,
      payloadPath,
      resultPath,
    },
  };
}

/**
 * The run's state from `runs/get`; once it ended, its result from the result file (a ref, or
 * the runner's error with frames), else the task's error from `runs/get-output`, plus its logs.
 */
export async function jobStatus(context: JobContext, handle: SubmittedHandle, signal?: AbortSignal): Promise<SubmittedStatus | BackendFailure> {
  const data = jobData(handle);
  if ('failure' in data) return data;
  const run = await getRun(context, data.runId, signal);
  if (!run.ok) {
    if (run.error.errorCode === 'RESOURCE_DOES_NOT_EXIST') {
      return { failure: `job run ${data.runId} no longer exists on ${context.host} (Databricks keeps runs for 60 days)` };
    }
    return { failure: describeApiFailure(run.error, `reading job run ${data.runId}`, context.host, context.client.configFile) };
  }
  const phase = runPhase(run.value);
  const stateMessage = phase.message ? { stateMessage: phase.message } : {};
  if (phase.state === 'pending' || phase.state === 'running' || phase.state === 'terminating') return { state: phase.state, ...stateMessage };

  const taskRunId = data.taskRunId ?? taskRunOf(run.value);
  const output = taskRunId === undefined ? undefined : await getOutput(context, taskRunId, signal);
  const logs = output?.logs !== undefined ? { logs: output.logs_truncated === true ? `${TRUNCATED_LOGS_NOTE}\n${output.logs}` : output.logs } : {};

  const location = storageLocation(data.resultPath)!;
  const read = await readSmallFile(context, location, signal);
  if ('text' in read) {
    let raw: unknown;
    try {
      raw = JSON.parse(read.text);
    } catch {
      raw = undefined;
    }
    const outcome = outcomeFromEnvelope(raw);
    if (!('failure' in outcome)) {
      if (outcome.status === 'cancelled') return { state: 'cancelled', ...stateMessage, ...logs };
      if (outcome.status === 'error') return { state: 'failed', ...stateMessage, error: outcome.error, ...logs };
      if ('ref' in outcome) return { state: 'succeeded', ...stateMessage, ref: outcome.ref, ...logs };
    }
    context.logger?.(`job run ${data.runId}: the result file ${data.resultPath} is unusable; using the run's own state`);
  } else if (!read.notFound) {
    // A result that exists but cannot be read now may be readable on the next poll.
    return { failure: `job run ${data.runId} ended, but its result could not be read: ${read.failure}` };
  }

  if (phase.state === 'cancelled') return { state: 'cancelled', ...stateMessage, ...logs };
  if (output?.error !== undefined) return { state: 'failed', ...stateMessage, error: errorFromOutput(output), ...logs };
  const why = phase.state === 'succeeded' ? `the job succeeded but left no result at ${data.resultPath}` : (phase.message ?? `job run ${data.runId} failed`);
  return { state: 'failed', ...stateMessage, error: { type: 'BackendError', message: why, frames: [], origin: 'backend' }, ...logs };
}

/** `runs/cancel`; cancelling a run that already ended changes nothing (the service answers `{}`). */
export async function cancelJob(context: JobContext, handle: SubmittedHandle): Promise<{ cancelled: true } | BackendFailure> {
  const data = jobData(handle);
  if ('failure' in data) return data;
  const cancelled = await context.client.request('POST', `${JOBS_API}/cancel`, { body: { run_id: data.runId }, idempotent: true });
  if (!cancelled.ok) return { failure: describeApiFailure(cancelled.error, `cancelling job run ${data.runId}`, context.host, context.client.configFile) };
  return { cancelled: true };
}

/**
 * Maps a run to our state: the most advanced of the deprecated `life_cycle_state` and the v2 `status.state` gives the phase; once ended,
 * `result_state` (else `termination_details.code`) gives the outcome. A failed task makes the
 * run `INTERNAL_ERROR` + `FAILED` (§3.3), which is an ordinary failure here.
 */
export function runPhase(run: JobRun): RunPhase {
  const lifeCycle = run.state?.life_cycle_state;
  const v2 = run.status?.state;
  const message = run.state?.state_message || run.status?.termination_details?.message || undefined;
  const withMessage = (state: SubmittedState): RunPhase => (message ? { state, message } : { state });
  const ended = lifeCycle === 'TERMINATED' || lifeCycle === 'SKIPPED' || lifeCycle === 'INTERNAL_ERROR' || v2 === 'TERMINATED';
  if (!ended) {
    if (lifeCycle === 'TERMINATING' || v2 === 'TERMINATING') return withMessage('terminating');
    if (lifeCycle === 'RUNNING' || v2 === 'RUNNING') return withMessage('running');
    return withMessage('pending');
  }
  switch (run.state?.result_state) {
    case 'SUCCESS':
      return withMessage('succeeded');
    case 'CANCELED':
    case 'UPSTREAM_CANCELED':
      return withMessage('cancelled');
    case undefined:
      break;
    default:
      return withMessage('failed');
  }
  switch (run.status?.termination_details?.code) {
    case 'SUCCESS':
      return withMessage(lifeCycle === 'SKIPPED' || lifeCycle === 'INTERNAL_ERROR' ? 'failed' : 'succeeded');
    case 'USER_CANCELED':
    case 'CANCELED':
      return withMessage('cancelled');
    default:
      return withMessage('failed');
  }
}

/**
 * A task's `error`/`error_trace` as a remote error. The runner prints the user's traceback, so
 * `File "<choppa:f>", line N, in g` lines give frames relative to the shipped source.
 */
export function errorFromOutput(output: { error?: string; error_trace?: string }): RemoteError {
  const error = (output.error ?? '').trim();
  const named = /^([A-Za-z_][\w.]*): ([\s\S]*)$/.exec(error);
  const frames: RemoteFrame[] = [];
  const lines = (output.error_trace ?? '').split('\n');
  lines.forEach((line, index) => {
    const frame = /^\s*File "<choppa:[^">]*>", line (\d+), in (.+)$/.exec(line);
    if (!frame) return;
    const next = lines[index + 1] ?? '';
    const text = /^\s*File "/.test(next) ? '' : next.trim();
    frames.push({ line: Number(frame[1]), function: frame[2]!.trim(), text });
  });
  return {
    type: named ? named[1]! : 'JobError',
    message: named ? named[2]! : error,
    frames,
    ...(output.error_trace ? { traceback: output.error_trace } : {}),
    origin: 'remote',
  };
}

/** Tokens longer than the service accepts are hashed, still one token per request. */
function jobToken(token: string): string {
  return token.length <= MAX_TOKEN_CHARS ? token : createHash('sha256').update(token).digest('hex');
}

function getRun(context: JobContext, runId: number, signal?: AbortSignal) {
  return context.client.request<JobRun>('GET', `${JOBS_API}/get`, { query: { run_id: runId }, ...(signal ? { signal } : {}) });
}

/** get-output of the task run (the parent run refuses it, §3.4); undefined when unreadable. */
async function getOutput(context: JobContext, taskRunId: number, signal?: AbortSignal): Promise<JobRunOutput | undefined> {
  const output = await context.client.request<JobRunOutput>('GET', `${JOBS_API}/get-output`, {
    query: { run_id: taskRunId },
    ...(signal ? { signal } : {}),
  });
  if (output.ok) return output.value;
  context.logger?.(`runs/get-output of task run ${taskRunId} failed: ${output.error.message}`);
  return undefined;
}

function taskRunOf(run: JobRun): number | undefined {
  const task = run.tasks?.find((candidate) => candidate.task_key === TASK_KEY) ?? run.tasks?.[0];
  return typeof task?.run_id === 'number' ? task.run_id : undefined;
}

function jobData(handle: SubmittedHandle): JobData | BackendFailure {
  const { runId, taskRunId, resultPath } = handle.data;
  if (typeof runId !== 'number' || typeof resultPath !== 'string' || storageLocation(resultPath) === undefined) {
    return { failure: `submitted run ${handle.runId} is not a Databricks job of this backend` };
  }
  return { runId, resultPath, ...(typeof taskRunId === 'number' ? { taskRunId } : {}) };
}
