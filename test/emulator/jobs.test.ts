// The emulated Jobs API one-time runs over real HTTP: python files imported through the Workspace
// API run as real python3 processes, through the run and task state shapes of reference §3, with
// cancel, timeouts, idempotent resubmits under a dropped response, and the project's runner as a job.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from './emulator.js';
import { alive, call, poll, type Answer } from './support.js';

const HOME = '/Users/emulator@example.com/jobs';
const RUNNER_PATH = fileURLToPath(new URL('../../server/python/runner.py', import.meta.url));
const TERMINAL = ['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'];

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ jobStartDelayMs: 300, jobCleanupDelayMs: 150 });
  expect((await call(emulator, 'POST', '/api/2.0/workspace/mkdirs', { path: HOME })).status).toBe(200);
});
afterAll(() => emulator.stop());
afterEach(() => emulator.faults.clear());

function py(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

/** Imports a workspace file as the VS Code extension does (AUTO, overwrite); returns its `/Workspace` path. */
async function importFile(target: Emulator, name: string, content: string): Promise<string> {
  const answer = await call(target, 'POST', '/api/2.0/workspace/import', {
    path: `${HOME}/${name}`,
    content: Buffer.from(content).toString('base64'),
    format: 'AUTO',
    overwrite: true,
  });
  expect(answer.status).toBe(200);
  return `/Workspace${HOME}/${name}`;
}

function pythonTask(pythonFile: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { task_key: 'main', spark_python_task: { python_file: pythonFile }, existing_cluster_id: DEFAULT_CLUSTER_ID, ...extra };
}

async function submit(body: Record<string, unknown>, version = '2.2', target = emulator): Promise<number> {
  const answer = await call(target, 'POST', `/api/${version}/jobs/runs/submit`, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(Object.keys(answer.body)).toEqual(['run_id']);
  return answer.body.run_id as number;
}

function getRun(runId: number, version = '2.2', target = emulator): Promise<Answer> {
  return call(target, 'GET', `/api/${version}/jobs/runs/get?run_id=${runId}`);
}

/** Polls like dbx (terminal set TERMINATED, SKIPPED, INTERNAL_ERROR) and records every state seen. */
async function waitForRun(runId: number, version = '2.2', target = emulator): Promise<{ run: any; runStates: string[]; taskStates: string[] }> {
  const runStates: string[] = [];
  const taskStates: string[] = [];
  const answer = await poll(
    async () => {
      const got = await getRun(runId, version, target);
      expect(got.status).toBe(200);
      const seen = [got.body.state.life_cycle_state as string, got.body.tasks[0].state.life_cycle_state as string];
      if (runStates.at(-1) !== seen[0]) runStates.push(seen[0]!);
      if (taskStates.at(-1) !== seen[1]) taskStates.push(seen[1]!);
      return got;
    },
    (got) => TERMINAL.includes(got.body.state.life_cycle_state),
  );
  return { run: answer.body, runStates, taskStates };
}

function output(runId: number, version = '2.2'): Promise<Answer> {
  return call(emulator, 'GET', `/api/${version}/jobs/runs/get-output?run_id=${runId}`);
}

describe('a successful python task', () => {
  it('runs through PENDING, RUNNING, TERMINATING to TERMINATED/SUCCESS, with logs, a written file and the 2.2 status', async () => {
    const file = await importFile(
      emulator,
      'hello.py',
      py(
        'import os, sys',
        "print('hello', *sys.argv[1:])",
        "print('a warning', file=sys.stderr)",
        "target = os.environ['CHOPPA_FS_ROOT'] + '/Volumes/main/default/jobs/out.txt'",
        'os.makedirs(os.path.dirname(target), exist_ok=True)',
        "open(target, 'w').write('written by the job')",
        "print('cwd', os.getcwd())",
      ),
    );
    const runId = await submit({ run_name: 'hello', tasks: [pythonTask(file, { spark_python_task: { python_file: file, parameters: ['big', 'world'] } })] });
    const { run, runStates, taskStates } = await waitForRun(runId);
    expect(runStates).toEqual(['PENDING', 'RUNNING', 'TERMINATING', 'TERMINATED']);
    expect(taskStates).toEqual(['PENDING', 'RUNNING', 'TERMINATING', 'TERMINATED']);
    expect(run).toMatchObject({
      run_id: runId,
      run_name: 'hello',
      run_type: 'SUBMIT_RUN',
      state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS', state_message: '', user_cancelled_or_timedout: false },
      status: { state: 'TERMINATED', termination_details: { code: 'SUCCESS', type: 'SUCCESS' } },
      run_page_url: `${emulator.url}/?o=900800700600#job/run/${runId}`,
    });
    const task = run.tasks[0];
    expect(task).toMatchObject({
      task_key: 'main',
      existing_cluster_id: DEFAULT_CLUSTER_ID,
      spark_python_task: { python_file: file, parameters: ['big', 'world'] },
      state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' },
      status: { state: 'TERMINATED', termination_details: { code: 'SUCCESS' } },
      cluster_instance: { cluster_id: DEFAULT_CLUSTER_ID },
    });
    expect(task.run_id).not.toBe(runId);
    expect(run.start_time).toBeGreaterThan(0);
    expect(run.end_time).toBeGreaterThanOrEqual(run.start_time);
    expect(run.setup_duration).toBeGreaterThanOrEqual(250);
    expect(run.execution_duration).toBeGreaterThan(0);
    expect(task.cleanup_duration).toBeGreaterThanOrEqual(100);

    const parent = await output(runId);
    expect(parent).toMatchObject({
      status: 400,
      body: {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.',
      },
    });
    const got = await output(task.run_id);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ logs_truncated: false, metadata: { run_id: task.run_id, state: { result_state: 'SUCCESS' } } });
    expect(got.body.logs).toContain('hello big world\n');
    expect(got.body.logs).toContain('a warning\n');
    expect(got.body).not.toHaveProperty('notebook_output');
    expect(got.body).not.toHaveProperty('error');
    // The task ran in a temp dir of its own, outside the storage root, removed afterwards.
    const cwd = /cwd (.+)\n/.exec(got.body.logs)![1]!;
    expect(cwd.startsWith(emulator.fsRoot)).toBe(false);
    await poll(async () => existsSync(cwd), (exists) => !exists);
    expect(existsSync(cwd)).toBe(false);

    const written = await fetch(`${emulator.url}/api/2.0/fs/files/Volumes/main/default/jobs/out.txt`, { headers: { authorization: `Bearer ${emulator.token}` } });
    expect(written.status).toBe(200);
    expect(await written.text()).toBe('written by the job');
  });

  it('answers on 2.1 paths too and keeps running while nobody polls', async () => {
    const file = await importFile(
      emulator,
      'quiet.py',
      py('import os', "open(os.environ['CHOPPA_FS_ROOT'] + '/Volumes/main/default/jobs/quiet.txt', 'w').write('done')"),
    );
    const runId = await submit({ tasks: [pythonTask(file)] }, '2.1');
    // The client goes away; the run finishes anyway, and a later poll (on the other version) sees it.
    await poll(
      () => call(emulator, 'HEAD', '/api/2.0/fs/files/Volumes/main/default/jobs/quiet.txt'),
      (answer) => answer.status === 200,
    );
    const { run } = await waitForRun(runId, '2.2');
    expect(run).toMatchObject({ run_name: 'Untitled', state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' } });
    expect((await getRun(runId, '2.1')).body.state.result_state).toBe('SUCCESS');
    expect((await output(run.tasks[0].run_id, '2.1')).body.logs).toBe('');
  });
});

describe('failures', () => {
  it('a raising script makes the run INTERNAL_ERROR/FAILED and the task TERMINATED/FAILED with error and error_trace', async () => {
    const file = await importFile(emulator, 'boom.py', py("print('before the error')", 'def explode():', "    raise ValueError('boom')", 'explode()'));
    const runId = await submit({ tasks: [pythonTask(file)] }, '2.1');
    const { run } = await waitForRun(runId, '2.1');
    expect(run.state).toEqual({
      life_cycle_state: 'INTERNAL_ERROR',
      result_state: 'FAILED',
      state_message: 'Task main failed with message: Workload failed, see run output for details.',
      user_cancelled_or_timedout: false,
    });
    expect(run.status).toEqual({
      state: 'TERMINATED',
      termination_details: { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message: 'Task main failed with message: Workload failed, see run output for details.' },
    });
    expect(run.tasks[0].state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'FAILED', state_message: 'Workload failed, see run output for details' });
    const got = await output(run.tasks[0].run_id, '2.1');
    expect(got.status).toBe(200);
    expect(got.body.error).toBe('ValueError: boom');
    expect(got.body.error_trace).toMatch(/^Traceback \(most recent call last\):\n/);
    expect(got.body.error_trace).toContain(`line 3, in explode`);
    expect(got.body.error_trace.trimEnd().endsWith('ValueError: boom')).toBe(true);
    expect(got.body.logs).toContain('before the error\n');
  });

  it('a python_file that does not exist fails the run after submit, with the service message', async () => {
    const runId = await submit({ tasks: [pythonTask(`/Workspace${HOME}/missing.py`)] });
    const { run } = await waitForRun(runId);
    const message = `Cannot read the python file /Workspace${HOME}/missing.py. Please check driver logs for more details.`;
    expect(run.state).toMatchObject({ life_cycle_state: 'INTERNAL_ERROR', result_state: 'FAILED', state_message: `Task main failed with message: ${message}.` });
    expect(run.status.termination_details.code).toBe('RESOURCE_NOT_FOUND');
    expect(run.tasks[0].state).toMatchObject({ life_cycle_state: 'INTERNAL_ERROR', result_state: 'FAILED', state_message: message });
    const got = await output(run.tasks[0].run_id);
    expect(got.body.error).toBe(message);
    expect(got.body).not.toHaveProperty('logs');
  });

  it('skips a task whose upstream failed, and reports the failed one at run level', async () => {
    const bad = await importFile(emulator, 'bad.py', py('import sys', 'sys.exit(3)'));
    const good = await importFile(emulator, 'good.py', py("print('never')"));
    const runId = await submit({
      tasks: [
        { task_key: 'second', depends_on: [{ task_key: 'first' }], spark_python_task: { python_file: good }, existing_cluster_id: DEFAULT_CLUSTER_ID },
        { task_key: 'first', spark_python_task: { python_file: bad }, existing_cluster_id: DEFAULT_CLUSTER_ID },
      ],
    });
    const { run } = await waitForRun(runId);
    expect(run.state.state_message).toBe('Task first failed with message: Workload failed, see run output for details.');
    const second = run.tasks.find((task: { task_key: string }) => task.task_key === 'second');
    expect(second.state).toMatchObject({ life_cycle_state: 'SKIPPED', result_state: 'UPSTREAM_FAILED' });
    const first = run.tasks.find((task: { task_key: string }) => task.task_key === 'first');
    expect((await output(first.run_id)).body.error).toBe('Python process exited with exit code 3');
  });
});

describe('cancel and timeout', () => {
  const sleeper = py(
    'import os, time',
    "open(os.environ['CHOPPA_FS_ROOT'] + '/Volumes/main/default/jobs/' + os.environ.get('PID_NAME', 'pid.txt'), 'w').write(str(os.getpid()))",
    "print('sleeping', flush=True)",
    'time.sleep(60)',
  );

  async function pidOf(name: string): Promise<number> {
    const answer = await poll(
      () => call(emulator, 'GET', `/api/2.0/fs/files/Volumes/main/default/jobs/${name}`),
      (got) => got.status === 200 && got.body !== '',
    );
    return Number(answer.body);
  }

  it('runs/cancel kills the process and ends the run TERMINATED/CANCELED', async () => {
    const file = await importFile(emulator, 'sleep.py', sleeper);
    const runId = await submit({ tasks: [pythonTask(file)], environment_variables: { PID_NAME: 'cancel.pid' } });
    const pid = await pidOf('cancel.pid');
    expect(alive(pid)).toBe(true);
    expect((await getRun(runId)).body.state.life_cycle_state).toBe('RUNNING');
    const cancelled = await call(emulator, 'POST', '/api/2.2/jobs/runs/cancel', { run_id: runId });
    expect(cancelled).toMatchObject({ status: 200, body: {} });
    const { run } = await waitForRun(runId);
    expect(run.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'CANCELED', user_cancelled_or_timedout: true });
    expect(run.status).toMatchObject({ state: 'TERMINATED', termination_details: { code: 'USER_CANCELED' } });
    expect(run.tasks[0].state.result_state).toBe('CANCELED');
    expect(alive(pid)).toBe(false);
    expect((await output(run.tasks[0].run_id)).body.logs).toBe('sleeping\n');
    // Cancelling a finished run changes nothing.
    expect((await call(emulator, 'POST', '/api/2.2/jobs/runs/cancel', { run_id: runId })).status).toBe(200);
    expect((await getRun(runId)).body.state.result_state).toBe('CANCELED');
  });

  it('cancelling a PENDING run ends it before anything starts', async () => {
    const file = await importFile(emulator, 'sleep.py', sleeper);
    const runId = await submit({ tasks: [pythonTask(file)] });
    expect((await getRun(runId)).body.state.life_cycle_state).toBe('PENDING');
    await call(emulator, 'POST', '/api/2.1/jobs/runs/cancel', { run_id: runId });
    const { run } = await waitForRun(runId);
    expect(run.state.result_state).toBe('CANCELED');
    expect(run.tasks[0].state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'CANCELED' });
  });

  it('timeout_seconds ends the run TIMEDOUT', async () => {
    const file = await importFile(emulator, 'sleep.py', sleeper);
    const runId = await submit({ timeout_seconds: 1, tasks: [pythonTask(file)], environment_variables: { PID_NAME: 'timeout.pid' } });
    const pid = await pidOf('timeout.pid');
    const { run } = await waitForRun(runId);
    expect(run.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'TIMEDOUT', user_cancelled_or_timedout: true });
    expect(alive(pid)).toBe(false);
  });
});

describe('idempotency and serverless', () => {
  it('a resubmit with the same idempotency_token after a dropped response gets the same run, and only one run exists', async () => {
    const file = await importFile(emulator, 'once.py', py("print('once')"));
    const body = { run_name: 'once', idempotency_token: 'choppa-token-1', tasks: [pythonTask(file)] };
    emulator.faults.dropResponse({ method: 'POST', path: '/api/2.2/jobs/runs/submit' });
    await expect(call(emulator, 'POST', '/api/2.2/jobs/runs/submit', body)).rejects.toThrow();
    const first = await submit(body);
    const again = await submit(body, '2.1');
    expect(again).toBe(first);
    const runs = emulator.jobRuns().filter((submitted) => submitted.body['idempotency_token'] === 'choppa-token-1');
    expect(runs).toEqual([{ run_id: first, version: '2.2', body }]);
    const { run } = await waitForRun(first);
    expect(run.state.result_state).toBe('SUCCESS');
    expect(await submit({ ...body, idempotency_token: 'choppa-token-2' })).not.toBe(first);
  });

  it('records a serverless body (environments + environment_key) and runs it', async () => {
    const file = await importFile(emulator, 'serverless.py', py("print('on serverless')"));
    const body = {
      run_name: 'serverless',
      tasks: [{ task_key: 'js_sdk_job_run', spark_python_task: { python_file: file, parameters: [] }, environment_key: 'js_sdk_job_run_environment' }],
      environments: [{ environment_key: 'js_sdk_job_run_environment', spec: { client: '1', dependencies: ['pyyaml==6.0.2'] } }],
      access_control_list: [{ user_name: 'someone@example.com', permission_level: 'CAN_VIEW' }],
    };
    const runId = await submit(body);
    expect(emulator.jobRuns().at(-1)).toEqual({ run_id: runId, version: '2.2', body });
    const { run } = await waitForRun(runId);
    expect(run.state.result_state).toBe('SUCCESS');
    expect(run.tasks[0]).toMatchObject({ environment_key: 'js_sdk_job_run_environment' });
    expect(run.tasks[0]).not.toHaveProperty('cluster_instance');
    expect((await output(run.tasks[0].run_id)).body.logs).toBe('on serverless\n');
  });
});

describe('bad requests', () => {
  it('answers validation errors with the service bodies', async () => {
    const file = await importFile(emulator, 'valid.py', py('pass'));
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ run_name: 'no tasks' }, 'One of job_cluster_key, new_cluster, or existing_cluster_id must be specified.'],
      [{ tasks: [pythonTask(file, { existing_cluster_id: 'ghost' })] }, 'Cluster ghost does not exist'],
      [
        { tasks: [{ task_key: 'bare', spark_python_task: { python_file: file } }] },
        'An environment is required for serverless task bare. Please define one using `environments` and `environment_key`. ' +
          'For more details, please refer to the API documentation at https://docs.databricks.com/api/workspace/jobs/submit',
      ],
      [{ tasks: [pythonTask(file, { existing_cluster_id: undefined, environment_key: 'nope' })] }, 'Environment key nope of task main is not defined in environments.'],
      [{ tasks: [{ task_key: 'main', existing_cluster_id: DEFAULT_CLUSTER_ID, spark_python_task: {} }] }, 'Missing required field: python_file'],
      [{ tasks: [{ spark_python_task: { python_file: file }, existing_cluster_id: DEFAULT_CLUSTER_ID }] }, 'Missing required field: task_key'],
      [{ tasks: [pythonTask(file)], idempotency_token: 'x'.repeat(65) }, `The idempotency token ${'x'.repeat(65)} is longer than 64 characters.`],
    ];
    for (const [body, message] of cases) {
      const answer = await call(emulator, 'POST', '/api/2.2/jobs/runs/submit', body);
      expect(answer, message).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message } });
    }
    expect(emulator.jobRuns().some((submitted) => submitted.body['run_name'] === 'no tasks')).toBe(false);
  });

  it('answers unknown and malformed run ids, and malformed JSON', async () => {
    expect(await getRun(42)).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Run 42 does not exist.' } });
    expect(await output(42)).toMatchObject({ status: 400, body: { message: 'Run 42 does not exist.' } });
    expect(await call(emulator, 'POST', '/api/2.1/jobs/runs/cancel', { run_id: 42 })).toMatchObject({ status: 400, body: { message: 'Run 42 does not exist.' } });
    expect(await call(emulator, 'GET', '/api/2.2/jobs/runs/get')).toMatchObject({ status: 400, body: { message: 'Missing required field: run_id' } });
    expect(await call(emulator, 'GET', '/api/2.2/jobs/runs/get?run_id=abc')).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    const malformed = await call(emulator, 'POST', '/api/2.2/jobs/runs/submit', Buffer.from('{not json'), { 'content-type': 'application/json' });
    expect(malformed).toMatchObject({ status: 400, body: { error_code: 'MALFORMED_REQUEST' } });
    expect(await call(emulator, 'GET', '/api/2.0/jobs/runs/get?run_id=1')).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
  });

  it('without serverless, a task with no compute gets the classic error', async () => {
    const classic = await startEmulator({ serverless: false });
    try {
      const answer = await call(classic, 'POST', '/api/2.1/jobs/runs/submit', { tasks: [{ task_key: 'k', spark_python_task: { python_file: '/Workspace/x.py' } }] });
      expect(answer).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'One of job_cluster_key, new_cluster, or existing_cluster_id must be specified.' } });
    } finally {
      await classic.stop();
    }
  });
});

describe('runs/list, clusters and stop', () => {
  it('lists submit runs newest first, with active_only and paging', async () => {
    const listed = await call(emulator, 'GET', '/api/2.2/jobs/runs/list?limit=2');
    expect(listed.status).toBe(200);
    expect(listed.body.runs).toHaveLength(2);
    expect(listed.body.has_more).toBe(true);
    expect(listed.body.runs[0].start_time).toBeGreaterThanOrEqual(listed.body.runs[1].start_time);
    expect(listed.body.runs[0]).not.toHaveProperty('tasks');
    const next = await call(emulator, 'GET', `/api/2.2/jobs/runs/list?limit=2&page_token=${listed.body.next_page_token}`);
    expect(next.body.runs[0].run_id).not.toBe(listed.body.runs[1].run_id);
    // Earlier tests leave runs in every state, so the filters are checked against each run's own state.
    const active = await call(emulator, 'GET', '/api/2.2/jobs/runs/list?active_only=true');
    for (const run of active.body.runs ?? []) expect(run.end_time).toBe(0);
    const completed = await call(emulator, 'GET', '/api/2.2/jobs/runs/list?completed_only=true&limit=25');
    expect(completed.body.runs.length).toBeGreaterThan(0);
    for (const run of completed.body.runs) expect(TERMINAL).toContain(run.state.life_cycle_state);
    expect(await call(emulator, 'GET', '/api/2.2/jobs/runs/list?active_only=true&completed_only=true')).toMatchObject({ status: 400 });
  });

  it('starts a terminated existing cluster and keeps the run PENDING until it is RUNNING', async () => {
    const own = await startEmulator({ clusters: [{ cluster_id: 'asleep', state: 'TERMINATED' }], clusterStartDelayMs: 400, jobStartDelayMs: 0 });
    try {
      await call(own, 'POST', '/api/2.0/workspace/mkdirs', { path: HOME });
      const file = await importFile(own, 'wake.py', py("print('awake')"));
      const runId = await submit({ tasks: [pythonTask(file, { existing_cluster_id: 'asleep' })] }, '2.2', own);
      const pending = await poll(() => getRun(runId, '2.2', own), (got) => got.body.state.state_message !== '');
      expect(pending.body.state).toMatchObject({ life_cycle_state: 'PENDING', state_message: 'Waiting for cluster asleep to start.' });
      expect((await call(own, 'GET', '/api/2.1/clusters/get?cluster_id=asleep')).body.state).toBe('PENDING');
      const { run } = await waitForRun(runId, '2.2', own);
      expect(run.state.result_state).toBe('SUCCESS');
      expect(run.setup_duration).toBeGreaterThanOrEqual(350);
    } finally {
      await own.stop();
    }
  });

  it('stop() kills the processes of running tasks', async () => {
    const own = await startEmulator({ jobStartDelayMs: 0 });
    try {
      await call(own, 'POST', '/api/2.0/workspace/mkdirs', { path: HOME });
      const file = await importFile(
        own,
        'forever.py',
        py('import os, time', "open(os.environ['CHOPPA_FS_ROOT'] + '/Workspace/Users/emulator@example.com/jobs/pid', 'w').write(str(os.getpid()))", 'time.sleep(60)'),
      );
      await submit({ tasks: [pythonTask(file)] }, '2.2', own);
      const pidFile = `${own.fsRoot}/Workspace${HOME}/pid`;
      await poll(async () => existsSync(pidFile) && (await readFile(pidFile, 'utf8')) !== '', Boolean);
      const pid = Number(await readFile(pidFile, 'utf8'));
      expect(alive(pid)).toBe(true);
      await own.stop();
      expect(alive(pid)).toBe(false);
    } finally {
      await own.stop();
    }
  });
});

describe('the project runner as a job', () => {
  it('runs runner.py --payload-file/--result-file with logical paths and writes the artifact, its sidecar and the result', async () => {
    const runner = await importFile(emulator, 'runner.py', await readFile(RUNNER_PATH, 'utf8'));
    const payload = {
      run_id: 'job-square-1',
      mode: 'submit',
      function_name: 'square',
      source: py('def square(x):', "    print('squaring', x)", '    return x * x'),
      args_source: '7',
      args_refs: {},
      result_size_max: null,
      artifact_dir: '/Volumes/main/default/jobs/artifacts',
    };
    await importFile(emulator, 'payload.json', JSON.stringify(payload));
    const resultFile = '/Volumes/main/default/jobs/results/job-square-1.json';
    const runId = await submit({
      run_name: 'choppa square',
      tasks: [pythonTask(runner, { spark_python_task: { python_file: runner, parameters: ['--payload-file', `/Workspace${HOME}/payload.json`, '--result-file', resultFile] } })],
    });
    const { run } = await waitForRun(runId);
    const logs = (await output(run.tasks[0].run_id)).body;
    expect(run.state.result_state, JSON.stringify(logs)).toBe('SUCCESS');
    expect(logs.logs).toContain('squaring 7\n');

    const files = (path: string) => call(emulator, 'GET', `/api/2.0/fs/files${path}`);
    const result = JSON.parse((await files(resultFile)).body);
    expect(result).toMatchObject({
      status: 'ok',
      ref: { path: '/Volumes/main/default/jobs/artifacts/square-job-square-1.pkl', type: 'int', preview: '49' },
    });
    // The output is in the task's logs; the result file does not repeat it.
    expect(result).not.toHaveProperty('stdout');
    const sidecar = JSON.parse((await files('/Volumes/main/default/jobs/artifacts/square-job-square-1.json')).body);
    expect(sidecar).toEqual(result.ref);
    const pickle = await fetch(`${emulator.url}/api/2.0/fs/files/Volumes/main/default/jobs/artifacts/square-job-square-1.pkl`, {
      headers: { authorization: `Bearer ${emulator.token}` },
    });
    expect(pickle.status).toBe(200);
    expect((await pickle.arrayBuffer()).byteLength).toBe(result.ref.size);
  });
});
