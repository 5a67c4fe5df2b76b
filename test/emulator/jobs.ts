// The emulated Jobs API one-time runs (`runs/submit`, `runs/get`, `runs/get-output`, `runs/cancel`,
// `runs/list` on 2.1 and 2.2 paths): every spark_python_task is a real python3 process whose output
// becomes the task's logs, with the run and task state shapes of reference §3 and nothing persisted.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapLogicalPath } from '../../server/src/backends/fs-paths.js';
import type { Clusters } from './clusters.js';
import { apiError, flag, json, type Reply } from './http-util.js';

/** The workspace id in `run_page_url`, the one the CLI's fake workspace uses. */
const ORG_ID = '900800700600';
const USER = 'emulator@example.com';
/** Task and run messages measured on the service by the CLI's testserver (reference §3.3). */
const WORKLOAD_FAILED = 'Workload failed, see run output for details';
const MULTI_TASK_OUTPUT =
  'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.';
/** `runs/get-output` keeps the first 5 MB of output (RunOutput docstring). */
const DEFAULT_LOGS_LIMIT = 5 * 1024 * 1024;
/** 2.2 returns at most 100 tasks per `runs/get` page (reference §3.1). */
const TASKS_PAGE_SIZE = 100;
const MAX_LIST_LIMIT = 25;

type LifeCycleState = 'PENDING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED' | 'SKIPPED' | 'INTERNAL_ERROR';
type ResultState = 'SUCCESS' | 'FAILED' | 'TIMEDOUT' | 'CANCELED' | 'UPSTREAM_FAILED';

export interface RunState {
  life_cycle_state: LifeCycleState;
  result_state?: ResultState;
  state_message: string;
  user_cancelled_or_timedout: boolean;
}

/** The v2 `status` (2.2 and newer 2.1 answers carry both shapes). */
export interface RunStatus {
  state: 'PENDING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED';
  termination_details?: { code: string; type: 'SUCCESS' | 'INTERNAL_ERROR' | 'CLIENT_ERROR' | 'CLOUD_FAILURE'; message: string };
}

/** One submitted body as the service received it, for tests to assert what a client sent. */
export interface SubmittedRun {
  run_id: number;
  /** The API version of the path it came in on (`2.1` or `2.2`). */
  version: string;
  body: Record<string, unknown>;
}

export interface JobsOptions {
  pythonPath: string;
  fsRoot: string;
  /** The emulator's URL, known only once it listens; used in `run_page_url`. */
  baseUrl: () => string;
  /** How long a run stays PENDING before its tasks start. */
  startDelayMs: number;
  /** How long a finished task stays TERMINATING. */
  cleanupDelayMs: number;
  /** Whether the workspace has serverless jobs (decides the error for a task without compute). */
  serverless: boolean;
  logsLimitBytes?: number;
}

interface TaskRun {
  run_id: number;
  task_key: string;
  spec: Record<string, unknown>;
  depends_on: string[];
  state: RunState;
  status: RunStatus;
  start_time: number;
  running_at?: number;
  terminating_at?: number;
  end_time?: number;
  logs: Buffer[];
  logsSize: number;
  logsTruncated: boolean;
  stderr: string;
  error?: string;
  error_trace?: string;
  child?: ChildProcess;
  exited?: Promise<void>;
  cwd?: string;
  timer?: NodeJS.Timeout;
  /** Why the process was stopped, when it was stopped by the service rather than ending on its own. */
  stopping?: 'CANCELED' | 'TIMEDOUT';
}

interface RunRecord {
  run_id: number;
  run_name: string;
  body: Record<string, unknown>;
  tasks: TaskRun[];
  state: RunState;
  status: RunStatus;
  start_time: number;
  running_at?: number;
  end_time?: number;
  timer?: NodeJS.Timeout;
  stopping?: 'CANCELED' | 'TIMEDOUT';
}

function pendingState(message = ''): RunState {
  return { life_cycle_state: 'PENDING', state_message: message, user_cancelled_or_timedout: false };
}

function badRequest(message: string): never {
  throw apiError(400, 'INVALID_PARAMETER_VALUE', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Run ids as the service parses them: a positive integer in the query or body, else 400. */
function parseRunId(value: unknown): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  if (text === '') badRequest('Missing required field: run_id');
  if (!/^\d+$/.test(text)) badRequest(`Invalid run_id: ${text}`);
  return Number(text);
}

/**
 * Where a `python_file` lives under `fsRoot`: `/Workspace/...` and bare workspace paths (`/Users/...`),
 * `/Volumes/...` and `dbfs:/...`; undefined for anything the emulator cannot read (cloud URIs).
 */
export function pythonFileLocation(fsRoot: string, pythonFile: string): string | undefined {
  if (pythonFile.startsWith('dbfs:/') || pythonFile.startsWith('/Volumes/') || pythonFile.startsWith('/Workspace/')) {
    return mapLogicalPath(fsRoot, pythonFile);
  }
  if (pythonFile.startsWith('/')) return mapLogicalPath(fsRoot, '/Workspace' + pythonFile);
  return undefined;
}

/** The traceback at the end of stderr (from its last `Traceback` header), and its last line as the error. */
export function pythonFailure(stderr: string, exitCode: number | null, signal: NodeJS.Signals | null): { error: string; trace: string } {
  const trimmed = stderr.replace(/\s+$/, '');
  const start = trimmed.lastIndexOf('Traceback (most recent call last):');
  const trace = start >= 0 ? trimmed.slice(start) : trimmed;
  const lastLine = trace.slice(trace.lastIndexOf('\n') + 1).trim();
  const fallback = signal ? `Python process was killed by signal ${signal}` : `Python process exited with exit code ${exitCode ?? 'unknown'}`;
  return { error: lastLine || fallback, trace };
}

export class Jobs {
  private readonly runs = new Map<number, RunRecord>();
  /** Task run id → its run. */
  private readonly taskRuns = new Map<number, { run: RunRecord; task: TaskRun }>();
  private readonly tokens = new Map<string, number>();
  private readonly submitted: SubmittedRun[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextId = 1_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  private stopped = false;

  constructor(
    private readonly clusters: Clusters,
    private readonly options: JobsOptions,
  ) {}

  /** Deep copies of every accepted `runs/submit` body, oldest first (idempotent repeats are not new). */
  submissions(): SubmittedRun[] {
    return structuredClone(this.submitted);
  }

  handleSubmit(version: string, body: Record<string, unknown>): Reply {
    const token = body['idempotency_token'];
    if (token !== undefined) {
      if (typeof token !== 'string') badRequest('idempotency_token must be a string');
      if (token.length > 64) badRequest(`The idempotency token ${token} is longer than 64 characters.`);
      // The service guarantees one run per token: a resend (after a lost response) gets the same id.
      const existing = this.tokens.get(token);
      if (existing !== undefined) return json({ run_id: existing });
    }
    const tasks = this.validate(body);
    const now = Date.now();
    const run: RunRecord = {
      run_id: this.id(),
      run_name: typeof body['run_name'] === 'string' && body['run_name'] !== '' ? body['run_name'] : 'Untitled',
      body: structuredClone(body),
      tasks: tasks.map((spec) => ({
        run_id: this.id(),
        task_key: spec['task_key'] as string,
        spec: structuredClone(spec),
        depends_on: Array.isArray(spec['depends_on']) ? spec['depends_on'].filter(isObject).map((d) => String(d['task_key'])) : [],
        state: pendingState(),
        status: { state: 'PENDING' },
        start_time: now,
        logs: [],
        logsSize: 0,
        logsTruncated: false,
        stderr: '',
      })),
      state: pendingState(),
      status: { state: 'PENDING' },
      start_time: now,
    };
    this.runs.set(run.run_id, run);
    for (const task of run.tasks) this.taskRuns.set(task.run_id, { run, task });
    if (typeof token === 'string') this.tokens.set(token, run.run_id);
    this.submitted.push({ run_id: run.run_id, version, body: structuredClone(body) });
    this.later(this.options.startDelayMs, () => this.begin(run));
    return json({ run_id: run.run_id });
  }

  handleGet(version: string, query: URLSearchParams): Reply {
    const runId = parseRunId(query.get('run_id') ?? '');
    const run = this.runs.get(runId);
    if (run) {
      const view = this.runView(run);
      if (version !== '2.2') return json(view);
      // 2.2 pages `tasks` by 100; the SDK follows next_page_token and concatenates.
      const offset = Number(query.get('page_token') ?? '0') || 0;
      const tasks = view['tasks'] as unknown[];
      const page = { ...view, tasks: tasks.slice(offset, offset + TASKS_PAGE_SIZE) };
      return json(offset + TASKS_PAGE_SIZE < tasks.length ? { ...page, has_more: true, next_page_token: String(offset + TASKS_PAGE_SIZE) } : page);
    }
    const entry = this.taskRuns.get(runId);
    if (entry) return json(this.taskAsRun(entry.run, entry.task));
    throw this.runNotFound(runId);
  }

  handleGetOutput(query: URLSearchParams): Reply {
    const runId = parseRunId(query.get('run_id') ?? '');
    if (this.runs.has(runId)) badRequest(MULTI_TASK_OUTPUT);
    const entry = this.taskRuns.get(runId);
    if (!entry) throw this.runNotFound(runId);
    const { run, task } = entry;
    const output: Record<string, unknown> = { metadata: this.taskAsRun(run, task) };
    // Output exists once the task has ended; until then only the metadata comes back.
    if (task.end_time === undefined) return json(output);
    if (task.error !== undefined) output['error'] = task.error;
    if (task.error_trace !== undefined) output['error_trace'] = task.error_trace;
    // Logs exist only for a process that started; a file that could not be read leaves none.
    if (task.child !== undefined) {
      output['logs'] = Buffer.concat(task.logs).toString('utf8');
      output['logs_truncated'] = task.logsTruncated;
    }
    return json(output);
  }

  async handleCancel(body: Record<string, unknown>): Promise<Reply> {
    const runId = parseRunId(body['run_id']);
    const run = this.runs.get(runId) ?? this.taskRuns.get(runId)?.run;
    if (!run) throw this.runNotFound(runId);
    this.stopRun(run, 'CANCELED');
    // Cancellation is asynchronous on the service too; clients poll runs/get for TERMINATED.
    return json({});
  }

  handleList(query: URLSearchParams): Reply {
    const activeOnly = flag(query.get('active_only'), false);
    const completedOnly = flag(query.get('completed_only'), false);
    if (activeOnly && completedOnly) badRequest('active_only and completed_only cannot both be true.');
    const runType = query.get('run_type');
    const limit = Number(query.get('limit') ?? MAX_LIST_LIMIT) || MAX_LIST_LIMIT;
    if (limit < 1 || limit > MAX_LIST_LIMIT) badRequest(`limit must be between 1 and ${MAX_LIST_LIMIT}.`);
    const offset = Number(query.get('page_token') ?? query.get('offset') ?? '0') || 0;
    const expand = flag(query.get('expand_tasks'), false);
    const all = [...this.runs.values()]
      .filter((run) => (runType ? runType === 'SUBMIT_RUN' : true))
      .filter((run) => (activeOnly ? run.end_time === undefined : completedOnly ? run.end_time !== undefined : true))
      .sort((a, b) => b.start_time - a.start_time || b.run_id - a.run_id);
    const runs = all.slice(offset, offset + limit).map((run) => {
      const view = this.runView(run);
      if (!expand) delete view['tasks'];
      return view;
    });
    const more = offset + limit < all.length;
    return json({ ...(runs.length ? { runs } : {}), has_more: more, ...(more ? { next_page_token: String(offset + limit) } : {}) });
  }

  /** Kills every task process and waits until all have exited; runs are forgotten with the emulator. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const exits: Promise<void>[] = [];
    for (const { task } of this.taskRuns.values()) {
      if (task.timer) clearTimeout(task.timer);
      if (task.child && task.exited) {
        task.child.kill('SIGKILL');
        exits.push(task.exited);
      }
    }
    await Promise.all(exits);
    await Promise.all([...this.taskRuns.values()].map(({ task }) => (task.cwd ? rm(task.cwd, { recursive: true, force: true }) : undefined)));
  }

  /** Checks a SubmitRun body as the service does before creating anything; returns its tasks. */
  private validate(body: Record<string, unknown>): Record<string, unknown>[] {
    const tasks = body['tasks'];
    if (tasks === undefined || (Array.isArray(tasks) && tasks.length === 0)) {
      // What the service answers for a body with no task at all (databricks/cli#838).
      badRequest('One of job_cluster_key, new_cluster, or existing_cluster_id must be specified.');
    }
    if (!Array.isArray(tasks) || !tasks.every(isObject)) badRequest('tasks must be an array of task objects');
    if (body['timeout_seconds'] !== undefined && (typeof body['timeout_seconds'] !== 'number' || body['timeout_seconds'] < 0)) {
      badRequest('timeout_seconds must be a non-negative integer');
    }
    if (body['git_source'] !== undefined) badRequest('The emulator does not run tasks from git_source.');
    const environments = Array.isArray(body['environments']) ? body['environments'].filter(isObject) : [];
    const environmentKeys = new Set(environments.map((environment) => environment['environment_key']));
    for (const environment of environments) {
      // `client` is the deprecated name of `environment_version` (compute.Environment); one is needed.
      const spec = isObject(environment['spec']) ? environment['spec'] : {};
      if (typeof spec['environment_version'] !== 'string' && typeof spec['client'] !== 'string') {
        badRequest(`Environment ${String(environment['environment_key'])} needs spec.environment_version.`);
      }
    }
    const keys = new Set<string>();
    for (const task of tasks) {
      const key = task['task_key'];
      if (typeof key !== 'string' || key === '') badRequest('Missing required field: task_key');
      if (keys.has(key)) badRequest(`Task key ${key} is not unique.`);
      keys.add(key);
      const python = task['spark_python_task'];
      if (!isObject(python)) {
        const kind = Object.keys(task).find((name) => name.endsWith('_task'));
        badRequest(kind ? `The emulator runs only spark_python_task, not ${kind} (task ${key}).` : `Task ${key} has no task type; set spark_python_task.`);
      }
      const file = python['python_file'];
      if (typeof file !== 'string' || file === '') badRequest('Missing required field: python_file');
      if (python['source'] === 'GIT') badRequest('The emulator does not run tasks from git_source.');
      if (python['parameters'] !== undefined && (!Array.isArray(python['parameters']) || !python['parameters'].every((p) => typeof p === 'string'))) {
        badRequest(`spark_python_task.parameters of task ${key} must be an array of strings`);
      }
      const clusterId = task['existing_cluster_id'];
      if (typeof clusterId === 'string' && clusterId !== '') {
        if (!this.clusters.get(clusterId)) badRequest(`Cluster ${clusterId} does not exist`);
      } else if (isObject(task['new_cluster'])) {
        // A job cluster is created for the run; the emulator only pays its start-up as PENDING time.
      } else if (typeof task['environment_key'] === 'string' && task['environment_key'] !== '') {
        if (!environmentKeys.has(task['environment_key'])) {
          badRequest(`Environment key ${task['environment_key']} of task ${key} is not defined in environments.`);
        }
      } else if (this.options.serverless) {
        // The service's answer (databricks/databricks-sdk-py#1228) for a python task with no compute.
        badRequest(
          `An environment is required for serverless task ${key}. Please define one using \`environments\` and \`environment_key\`. ` +
            'For more details, please refer to the API documentation at https://docs.databricks.com/api/workspace/jobs/submit',
        );
      } else {
        badRequest('One of job_cluster_key, new_cluster, or existing_cluster_id must be specified.');
      }
    }
    for (const task of tasks) {
      for (const dependency of Array.isArray(task['depends_on']) ? task['depends_on'] : []) {
        const upstream = isObject(dependency) ? dependency['task_key'] : undefined;
        if (typeof upstream !== 'string' || !keys.has(upstream)) {
          badRequest(`Task ${String(task['task_key'])} depends on ${String(upstream)}, which is not a task of this run.`);
        }
      }
    }
    return tasks;
  }

  private id(): number {
    this.nextId += 1 + Math.floor(Math.random() * 7);
    return this.nextId;
  }

  private later(ms: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) action();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private runNotFound(runId: number) {
    return apiError(400, 'INVALID_PARAMETER_VALUE', `Run ${runId} does not exist.`);
  }

  /** PENDING → RUNNING once existing clusters are up (a terminated one is started, as the service does). */
  private begin(run: RunRecord): void {
    if (run.end_time !== undefined || run.stopping) return;
    const waiting = this.clusterWaitedOn(run);
    if (waiting) {
      run.state = pendingState(`Waiting for cluster ${waiting} to start.`);
      for (const task of run.tasks) task.state = pendingState(run.state.state_message);
      this.later(25, () => this.begin(run));
      return;
    }
    run.running_at = Date.now();
    run.state = { life_cycle_state: 'RUNNING', state_message: '', user_cancelled_or_timedout: false };
    run.status = { state: 'RUNNING' };
    const timeout = Number(run.body['timeout_seconds'] ?? 0);
    if (timeout > 0) run.timer = this.later(timeout * 1000, () => this.stopRun(run, 'TIMEDOUT'));
    this.schedule(run);
  }

  private clusterWaitedOn(run: RunRecord): string | undefined {
    for (const task of run.tasks) {
      const clusterId = task.spec['existing_cluster_id'];
      if (typeof clusterId !== 'string' || clusterId === '') continue;
      const cluster = this.clusters.get(clusterId);
      if (!cluster || cluster.state === 'RUNNING' || cluster.state === 'RESIZING') continue;
      if (cluster.state === 'TERMINATED') this.clusters.handleStart({ cluster_id: clusterId });
      return clusterId;
    }
    return undefined;
  }

  /** Starts every task whose upstream tasks have ended; skips those an upstream failure rules out. */
  private schedule(run: RunRecord): void {
    for (const task of run.tasks) {
      if (run.stopping || task.state.life_cycle_state !== 'PENDING') continue;
      const upstream = task.depends_on.map((key) => run.tasks.find((candidate) => candidate.task_key === key)!);
      if (upstream.some((other) => other.end_time === undefined)) continue;
      if (upstream.some((other) => other.state.result_state !== 'SUCCESS')) {
        task.state = { life_cycle_state: 'SKIPPED', result_state: 'UPSTREAM_FAILED', state_message: 'Upstream task(s) failed.', user_cancelled_or_timedout: false };
        task.status = { state: 'TERMINATED', termination_details: { code: 'SKIPPED', type: 'SUCCESS', message: 'Upstream task(s) failed.' } };
        task.end_time = Date.now();
        continue;
      }
      void this.startTask(run, task);
    }
    this.settle(run);
  }

  private async startTask(run: RunRecord, task: TaskRun): Promise<void> {
    const python = task.spec['spark_python_task'] as Record<string, unknown>;
    const pythonFile = python['python_file'] as string;
    task.running_at = Date.now();
    task.state = { life_cycle_state: 'RUNNING', state_message: 'In run', user_cancelled_or_timedout: false };
    task.status = { state: 'RUNNING' };
    const local = pythonFileLocation(this.options.fsRoot, pythonFile);
    const info = local ? await stat(local).catch(() => undefined) : undefined;
    if (this.stopped || task.stopping) return this.taskEnded(run, task);
    if (!local || !info?.isFile()) {
      // The run exists and then fails, as on the service, rather than the submit being refused.
      const message = `Cannot read the python file ${pythonFile}. Please check driver logs for more details.`;
      task.error = message;
      return this.taskEnded(run, task, {
        state: { life_cycle_state: 'INTERNAL_ERROR', result_state: 'FAILED', state_message: message, user_cancelled_or_timedout: false },
        details: { code: 'RESOURCE_NOT_FOUND', type: 'CLIENT_ERROR', message },
      });
    }
    task.cwd = await mkdtemp(join(tmpdir(), 'choppa-emulator-task-'));
    if (this.stopped || task.stopping) {
      void rm(task.cwd, { recursive: true, force: true });
      return this.taskEnded(run, task);
    }
    const parameters = (python['parameters'] as string[] | undefined) ?? [];
    const extraEnv = isObject(run.body['environment_variables']) ? (run.body['environment_variables'] as Record<string, string>) : {};
    const child = spawn(this.options.pythonPath, ['-u', local, ...parameters], {
      cwd: task.cwd,
      env: { ...process.env, ...extraEnv, CHOPPA_FS_ROOT: this.options.fsRoot, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    task.child = child;
    const closed = once(child, 'close').then(
      ([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }),
      () => ({ code: null, signal: null }),
    );
    task.exited = closed.then(() => undefined);
    const limit = this.options.logsLimitBytes ?? DEFAULT_LOGS_LIMIT;
    // The service returns the *last* 5 MB of a task's logs (databricks/databricks-sdk-py
    // `databricks/sdk/service/jobs.py`, `RunOutput.logs`: "Databricks restricts this API to return
    // the last 5 MB of these logs"), with `logs_truncated` set: the head goes, the traceback stays.
    const keep = (chunk: Buffer) => {
      task.logs.push(chunk);
      task.logsSize += chunk.length;
      while (task.logsSize > limit) {
        task.logsTruncated = true;
        const first = task.logs[0]!;
        const excess = task.logsSize - limit;
        if (first.length <= excess) {
          task.logs.shift();
          task.logsSize -= first.length;
          continue;
        }
        // Cut on a character boundary: UTF-8 continuation bytes go with the character they end.
        let cut = excess;
        while (cut < first.length && (first[cut]! & 0xc0) === 0x80) cut += 1;
        task.logs[0] = first.subarray(cut);
        task.logsSize -= cut;
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', (chunk: Buffer) => {
      keep(chunk);
      // The traceback is read from stderr alone; its tail is all that is ever needed.
      task.stderr = (task.stderr + chunk.toString('utf8')).slice(-256 * 1024);
    });
    const taskTimeout = Number(task.spec['timeout_seconds'] ?? 0);
    if (taskTimeout > 0) task.timer = setTimeout(() => this.stopTask(task, 'TIMEDOUT'), taskTimeout * 1000);
    const { code, signal } = await closed;
    if (task.timer) clearTimeout(task.timer);
    if (this.stopped) return;
    void rm(task.cwd, { recursive: true, force: true });
    if (task.stopping) return this.taskEnded(run, task);
    if (code === 0) {
      return this.taskEnded(run, task, {
        state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS', state_message: '', user_cancelled_or_timedout: false },
        details: { code: 'SUCCESS', type: 'SUCCESS', message: '' },
      });
    }
    const failure = pythonFailure(task.stderr, code, signal);
    task.error = failure.error;
    task.error_trace = failure.trace;
    return this.taskEnded(run, task, {
      state: { life_cycle_state: 'TERMINATED', result_state: 'FAILED', state_message: WORKLOAD_FAILED, user_cancelled_or_timedout: false },
      details: { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message: WORKLOAD_FAILED },
    });
  }

  /** A task goes through TERMINATING (the configured clean-up time) to its final state. */
  private taskEnded(run: RunRecord, task: TaskRun, outcome?: { state: RunState; details: NonNullable<RunStatus['termination_details']> }): void {
    const final = outcome ?? stoppedOutcome(task.stopping ?? 'CANCELED');
    task.terminating_at = Date.now();
    task.state = { life_cycle_state: 'TERMINATING', state_message: final.state.state_message, user_cancelled_or_timedout: final.state.user_cancelled_or_timedout };
    task.status = { state: 'TERMINATING' };
    this.later(this.options.cleanupDelayMs, () => {
      task.end_time = Date.now();
      task.state = final.state;
      task.status = { state: 'TERMINATED', termination_details: final.details };
      this.schedule(run);
    });
  }

  private stopTask(task: TaskRun, reason: 'CANCELED' | 'TIMEDOUT'): void {
    if (task.end_time !== undefined || task.stopping) return;
    // A process that has already exited keeps the outcome it reached.
    if (task.child && (task.child.exitCode !== null || task.child.signalCode !== null)) return;
    task.stopping = reason;
    if (task.child) {
      task.state = { ...task.state, life_cycle_state: 'TERMINATING' };
      task.status = { state: 'TERMINATING' };
      task.child.kill('SIGTERM');
      // A script that ignores SIGTERM is killed outright, as the driver would.
      const child = task.child;
      this.later(2000, () => child.kill('SIGKILL'));
    }
  }

  /** Cancels or times out a run: running tasks are killed, tasks not yet started end with the same result. */
  private stopRun(run: RunRecord, reason: 'CANCELED' | 'TIMEDOUT'): void {
    if (run.end_time !== undefined || run.stopping) return;
    run.stopping = reason;
    if (run.timer) clearTimeout(run.timer);
    for (const task of run.tasks) {
      if (task.end_time !== undefined) continue;
      if (task.state.life_cycle_state === 'PENDING') {
        const final = stoppedOutcome(reason);
        task.stopping = reason;
        task.end_time = Date.now();
        task.state = final.state;
        task.status = { state: 'TERMINATED', termination_details: final.details };
      } else {
        this.stopTask(task, reason);
      }
    }
    run.state = { ...run.state, life_cycle_state: 'TERMINATING' };
    run.status = { state: 'TERMINATING' };
    this.settle(run);
  }

  /** Rolls task outcomes up into the run once every task has ended (reference §3.3). */
  private settle(run: RunRecord): void {
    if (run.end_time !== undefined || run.tasks.some((task) => task.end_time === undefined)) return;
    run.end_time = Date.now();
    if (run.timer) clearTimeout(run.timer);
    if (run.stopping) {
      const final = stoppedOutcome(run.stopping);
      run.state = final.state;
      run.status = { state: 'TERMINATED', termination_details: final.details };
      return;
    }
    const failed = run.tasks.find((task) => task.state.result_state !== 'SUCCESS' && task.state.result_state !== 'UPSTREAM_FAILED');
    if (!failed) {
      run.state = { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS', state_message: '', user_cancelled_or_timedout: false };
      run.status = { state: 'TERMINATED', termination_details: { code: 'SUCCESS', type: 'SUCCESS', message: '' } };
      return;
    }
    // One failed task fails the run, and the deprecated life_cycle_state says INTERNAL_ERROR even
    // though status.state is TERMINATED: py-sdk's submit waiter therefore raises for it.
    const message = `Task ${failed.task_key} failed with message: ${failed.state.state_message}.`;
    run.state = { life_cycle_state: 'INTERNAL_ERROR', result_state: failed.state.result_state ?? 'FAILED', state_message: message, user_cancelled_or_timedout: false };
    run.status = {
      state: 'TERMINATED',
      termination_details: { code: failed.status.termination_details?.code ?? 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message },
    };
  }

  private runPageUrl(runId: number): string {
    return `${this.options.baseUrl()}/?o=${ORG_ID}#job/run/${runId}`;
  }

  private timings(start: number, running: number | undefined, terminating: number | undefined, end: number | undefined): Record<string, number> {
    const now = Date.now();
    const setupEnd = running ?? (end ?? now);
    const executionEnd = terminating ?? end;
    return {
      start_time: start,
      end_time: end ?? 0,
      setup_duration: running !== undefined || end !== undefined ? setupEnd - start : 0,
      execution_duration: running !== undefined && executionEnd !== undefined ? executionEnd - running : 0,
      cleanup_duration: terminating !== undefined && end !== undefined ? end - terminating : 0,
      run_duration: end !== undefined ? end - start : 0,
      queue_duration: 0,
    };
  }

  private taskView(run: RunRecord, task: TaskRun): Record<string, unknown> {
    const spec = { ...task.spec };
    const clusterId = spec['existing_cluster_id'];
    const cluster = typeof clusterId === 'string' ? this.clusters.get(clusterId) : undefined;
    return {
      ...spec,
      run_id: task.run_id,
      task_key: task.task_key,
      state: { ...task.state },
      status: structuredClone(task.status),
      ...this.timings(task.start_time, task.running_at, task.terminating_at, task.end_time),
      attempt_number: 0,
      run_if: spec['run_if'] ?? 'ALL_SUCCESS',
      run_page_url: this.runPageUrl(task.run_id),
      ...(cluster && task.running_at !== undefined ? { cluster_instance: { cluster_id: cluster.cluster_id, spark_context_id: String(cluster.spark_context_id ?? '') } } : {}),
    };
  }

  /** The run is TERMINATING from the moment its last task stops executing until every task has ended. */
  private runState(run: RunRecord): { state: RunState; status: RunStatus } {
    const cleaningUp =
      run.end_time === undefined &&
      run.running_at !== undefined &&
      run.tasks.every((task) => task.end_time !== undefined || task.state.life_cycle_state === 'TERMINATING');
    if (!cleaningUp) return { state: { ...run.state }, status: structuredClone(run.status) };
    return { state: { ...run.state, life_cycle_state: 'TERMINATING' }, status: { state: 'TERMINATING' } };
  }

  private runView(run: RunRecord): Record<string, unknown> {
    const { state, status } = this.runState(run);
    return {
      run_id: run.run_id,
      number_in_job: run.run_id,
      original_attempt_run_id: run.run_id,
      creator_user_name: USER,
      run_name: run.run_name,
      run_type: 'SUBMIT_RUN',
      trigger: 'ONE_TIME',
      state,
      status,
      ...this.timings(run.start_time, run.running_at, undefined, run.end_time),
      // A run's execution spans its tasks; the run-level durations sum as on the service.
      execution_duration: run.running_at !== undefined && run.end_time !== undefined ? run.end_time - run.running_at : 0,
      setup_duration: run.running_at !== undefined ? run.running_at - run.start_time : 0,
      cleanup_duration: 0,
      attempt_number: 0,
      run_page_url: this.runPageUrl(run.run_id),
      tasks: run.tasks.map((task) => this.taskView(run, task)),
      ...(Array.isArray(run.body['environments']) ? { environments: structuredClone(run.body['environments']) } : {}),
      format: 'MULTI_TASK',
    };
  }

  /** A task run seen on its own (`runs/get` or get-output `metadata` for a task run id). */
  private taskAsRun(run: RunRecord, task: TaskRun): Record<string, unknown> {
    const view = this.taskView(run, task);
    return {
      run_id: task.run_id,
      number_in_job: task.run_id,
      original_attempt_run_id: task.run_id,
      creator_user_name: USER,
      run_name: run.run_name,
      run_type: 'SUBMIT_RUN',
      trigger: 'ONE_TIME',
      state: view['state'],
      status: view['status'],
      start_time: view['start_time'],
      end_time: view['end_time'],
      setup_duration: view['setup_duration'],
      execution_duration: view['execution_duration'],
      cleanup_duration: view['cleanup_duration'],
      run_duration: view['run_duration'],
      attempt_number: 0,
      run_page_url: view['run_page_url'],
      task_key: task.task_key,
      tasks: [view],
      format: 'MULTI_TASK',
    };
  }
}

function stoppedOutcome(reason: 'CANCELED' | 'TIMEDOUT'): { state: RunState; details: NonNullable<RunStatus['termination_details']> } {
  if (reason === 'TIMEDOUT') {
    const message = 'Run timed out.';
    return {
      state: { life_cycle_state: 'TERMINATED', result_state: 'TIMEDOUT', state_message: message, user_cancelled_or_timedout: true },
      details: { code: 'CANCELED', type: 'CLIENT_ERROR', message },
    };
  }
  const message = 'Run cancelled.';
  return {
    state: { life_cycle_state: 'TERMINATED', result_state: 'CANCELED', state_message: message, user_cancelled_or_timedout: true },
    details: { code: 'USER_CANCELED', type: 'SUCCESS', message },
  };
}
