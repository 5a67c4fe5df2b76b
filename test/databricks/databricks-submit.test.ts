// What only the Databricks backend's submitted runs have, against the emulator's Jobs API over
// real HTTP: the runs/submit body for a cluster and for serverless, uploads through each storage
// API, a lost submit answer resent with the same idempotency token, and failed tasks whose error
// comes from the result file or, without one, from get-output of the task run.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmittedHandle } from '../../server/src/backends/backend.js';
import { runPhase, TRUNCATED_LOGS_NOTE, type JobRun } from '../../server/src/backends/databricks/job-submission.js';
import { mapLogicalPath } from '../../server/src/backends/fs-paths.js';
import { py, submitOk, submitRequest, waitSubmitted } from '../backends/contract.js';
import { DEFAULT_CLUSTER_ID } from '../emulator/emulator.js';
import { call, poll } from '../emulator/support.js';
import { makeHarness, type Harness } from './harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await makeHarness();
});
afterAll(async () => {
  await harness?.cleanup();
});

const backend = () => harness.backend;
const lastSubmission = () => harness.emulator.jobRuns().at(-1)!;
const runState = async (runId: string) => (await call(harness.emulator, 'GET', `/api/2.1/jobs/runs/get?run_id=${runId}`)).body;
const ended = (run: { state: { life_cycle_state: string } }) => ['TERMINATED', 'INTERNAL_ERROR', 'SKIPPED'].includes(run.state.life_cycle_state);

describe('runs/submit', () => {
  it('runs the uploaded runner on the cluster with logical paths, and says how to find the run again', async () => {
    const request = submitRequest({ source: py('def f():', '    return 1') });
    const handle = await submitOk(backend(), request);
    const id = request.payload.run_id;
    const jobDir = `/Workspace/Shared/choppa-contract/.choppa/jobs/${id}`;
    const { body, version } = lastSubmission();
    expect(version).toBe('2.1');
    expect(body).toEqual({
      run_name: `choppa f ${id}`,
      idempotency_token: request.idempotencyToken,
      tasks: [
        {
          task_key: 'choppa',
          spark_python_task: {
            python_file: `${jobDir}/runner.py`,
            parameters: ['--payload-file', `${jobDir}/payload.json`, '--result-file', `${jobDir}/result.json`],
          },
          existing_cluster_id: DEFAULT_CLUSTER_ID,
        },
      ],
    });
    expect(handle).toEqual({
      runId: String(lastSubmission().run_id),
      runPageUrl: expect.stringMatching(/#job\/run\/\d+$/),
      data: {
        runId: lastSubmission().run_id,
        taskRunId: expect.any(Number),
        taskKey: 'choppa',
        compute: 'cluster',
        clusterId: DEFAULT_CLUSTER_ID,
        jobDir,
        runnerPath: `${jobDir}/runner.py`,
        payloadPath: `${jobDir}/payload.json`,
        resultPath: `${jobDir}/result.json`,
      },
    });
    expect(await waitSubmitted(backend(), handle)).toMatchObject({ state: 'succeeded', ref: { preview: '1' } });
  });

  it('sends serverless runs with an environment and no cluster', async () => {
    const handle = await submitOk(backend(), submitRequest({ source: py('def f():', "    return 'serverless'") }, { compute: 'serverless' }));
    const { body } = lastSubmission();
    expect(body['environments']).toEqual([{ environment_key: 'choppa', spec: { environment_version: '4' } }]);
    const [task] = body['tasks'] as Record<string, unknown>[];
    expect(task).toMatchObject({ task_key: 'choppa', environment_key: 'choppa' });
    expect(task).not.toHaveProperty('existing_cluster_id');
    expect(task).not.toHaveProperty('new_cluster');
    expect(handle.data).not.toHaveProperty('clusterId');
    expect(await waitSubmitted(backend(), handle)).toMatchObject({ state: 'succeeded', ref: { preview: "'serverless'" } });
  });

  it.each([
    ['/Volumes/main/default/vol/choppa', 'PUT', '/api/2.0/fs/files/Volumes/main/default/vol/choppa/.choppa/jobs/'],
    ['dbfs:/tmp/choppa/jobs', 'POST', '/api/2.0/dbfs/put'],
  ])('uploads the job files under %s through its own API', async (artifactDir, method, path) => {
    const before = harness.emulator.stats.count(method, path);
    const handle = await submitOk(backend(), submitRequest({ artifact_dir: artifactDir, source: py('def f():', '    return [1]') }));
    expect(harness.emulator.stats.count(method, path) - before).toBe(2);
    const status = await waitSubmitted(backend(), handle);
    expect(status.state).toBe('succeeded');
    expect(status.ref?.path.startsWith(`${artifactDir}/f-`)).toBe(true);
  });

  it('streams a payload over 1 MB to DBFS in blocks', async () => {
    const before = harness.emulator.stats.count('POST', '/api/2.0/dbfs/add-block');
    const big = 'x'.repeat(1_500_000);
    const handle = await submitOk(
      backend(),
      submitRequest({ artifact_dir: 'dbfs:/tmp/choppa/big', source: py('def f(text):', '    return len(text)'), args_source: `'${big}'` }),
    );
    expect(harness.emulator.stats.count('POST', '/api/2.0/dbfs/add-block') - before).toBe(2);
    expect(await waitSubmitted(backend(), handle)).toMatchObject({ state: 'succeeded', ref: { preview: '1500000' } });
  });

  it('gets the same run back when the answer to runs/submit was lost, and one run in total', async () => {
    const submitsBefore = harness.emulator.stats.count('POST', '/api/2.1/jobs/runs/submit');
    const runsBefore = harness.emulator.jobRuns().length;
    harness.emulator.faults.dropResponse({ method: 'POST', path: '/api/2.1/jobs/runs/submit' });
    const request = submitRequest({ source: py('def f():', '    return 9') });
    const first = await submitOk(backend(), request);
    // The engine resubmits with the stored token after a restart: still the same run.
    const second = await submitOk(backend(), request);
    expect(second.runId).toBe(first.runId);
    expect(harness.emulator.stats.count('POST', '/api/2.1/jobs/runs/submit') - submitsBefore).toBe(3);
    expect(harness.emulator.jobRuns().length - runsBefore).toBe(1);
    expect(await waitSubmitted(backend(), second)).toMatchObject({ state: 'succeeded', ref: { preview: '9' } });
  });

  it('hashes an idempotency token longer than the service accepts, consistently', async () => {
    const request = submitRequest({ source: py('def f():', '    return 0') }, { idempotencyToken: 'k'.repeat(100) });
    const first = await submitOk(backend(), request);
    expect(lastSubmission().body['idempotency_token']).toMatch(/^[0-9a-f]{64}$/);
    expect((await submitOk(backend(), request)).runId).toBe(first.runId);
    await waitSubmitted(backend(), first);
  });
});

describe('a failed task', () => {
  const raising = () =>
    submitRequest({ source: py('def f(n):', "    print('before')", '    def helper(k):', '        return 1 / k', '    return helper(n)'), args_source: '0' });

  it('makes the run INTERNAL_ERROR + FAILED, and the error comes from the result file', async () => {
    const handle = await submitOk(backend(), raising());
    const status = await waitSubmitted(backend(), handle);
    const run = await runState(handle.runId);
    expect(run.state).toMatchObject({ life_cycle_state: 'INTERNAL_ERROR', result_state: 'FAILED' });
    expect(run.status.state).toBe('TERMINATED');
    expect(status).toMatchObject({
      state: 'failed',
      stateMessage: 'Task choppa failed with message: Workload failed, see run output for details.',
      error: { type: 'ZeroDivisionError', message: 'division by zero', origin: 'remote' },
    });
    expect(status.error?.frames.map((frame) => frame.line)).toEqual([5, 4]);
    // The runner printed the traceback, so the task's own log shows what raised.
    expect(status.logs).toContain('ZeroDivisionError: division by zero');
  });

  it('without a result file, takes the error from get-output of the task run, frames included', async () => {
    const handle = await submitOk(backend(), raising());
    await poll(() => runState(handle.runId), ended);
    await rm(mapLogicalPath(harness.emulator.fsRoot, handle.data['resultPath'] as string)!);
    const status = await waitSubmitted(backend(), handle);
    expect(status.state).toBe('failed');
    expect(status.error).toMatchObject({ type: 'ZeroDivisionError', message: 'division by zero', origin: 'remote' });
    expect(status.error?.frames).toEqual([
      { line: 5, function: 'f', text: 'return helper(n)' },
      { line: 4, function: 'helper', text: 'return 1 / k' },
    ]);
    expect(status.error?.traceback).toContain('Traceback (most recent call last)');
  });

  it('finds the task run from runs/get when the handle does not name it', async () => {
    const handle = await submitOk(backend(), raising());
    await poll(() => runState(handle.runId), ended);
    await rm(mapLogicalPath(harness.emulator.fsRoot, handle.data['resultPath'] as string)!);
    const { taskRunId: _dropped, ...data } = handle.data;
    const status = await waitSubmitted(backend(), { ...handle, data });
    expect(status.error).toMatchObject({ type: 'ZeroDivisionError' });
  });

  it('reports a runner that died without a result by the service error', async () => {
    const handle = await submitOk(
      backend(),
      submitRequest({ source: py('def f():', '    import os', "    print('vanishing', flush=True)", '    os._exit(3)') }),
    );
    const status = await waitSubmitted(backend(), handle);
    expect(status.state).toBe('failed');
    expect(status.error).toMatchObject({ origin: 'remote', message: expect.stringContaining('exit code 3') });
    expect(status.logs).toContain('vanishing');
  });
});

// get-output keeps the *last* 5 MB of a task's output (databricks-sdk-py `service/jobs.py`,
// `RunOutput.logs`) and sets `logs_truncated`.
describe('a job that printed more than get-output returns', () => {
  it('keeps the tail, with the traceback, and says the beginning is missing', async () => {
    const small = await makeHarness({ emulator: { jobLogsLimitBytes: 4000 } });
    try {
      const handle = await submitOk(
        small.backend,
        submitRequest({ source: py('def f():', '    for i in range(1000):', "        print('line %04d' % i)", "    raise ValueError('at the end')") }),
      );
      const status = await waitSubmitted(small.backend, handle);
      expect(status.state).toBe('failed');
      expect(status.logs?.startsWith(`${TRUNCATED_LOGS_NOTE}\n`)).toBe(true);
      expect(status.logs).toContain('line 0999\n');
      expect(status.logs).toContain('ValueError: at the end');
      expect(status.logs).not.toContain('line 0000\n');
    } finally {
      await small.cleanup();
    }
  });

  it('adds nothing to logs the service did not cut', async () => {
    const handle = await submitOk(backend(), submitRequest({ source: py('def f():', "    print('short')", '    return 1') }));
    const status = await waitSubmitted(backend(), handle);
    expect(status.logs).toContain('short\n');
    expect(status.logs).not.toContain('logs_truncated');
  });
});

describe('cancel and lookup', () => {
  it('cancels a pending run before it starts', async () => {
    const handle = await submitOk(backend(), submitRequest({ source: py('def f():', '    return 1') }));
    expect(await backend().cancelSubmitted(handle)).toEqual({ cancelled: true });
    expect((await waitSubmitted(backend(), handle)).state).toBe('cancelled');
  });

  it('leaves an ended run as it was when cancelled', async () => {
    const handle = await submitOk(backend(), submitRequest({ source: py('def f():', '    return 2') }));
    await waitSubmitted(backend(), handle);
    expect(await backend().cancelSubmitted(handle)).toEqual({ cancelled: true });
    expect(await waitSubmitted(backend(), handle)).toMatchObject({ state: 'succeeded', ref: { preview: '2' } });
  });

  it('says when a run no longer exists', async () => {
    const gone: SubmittedHandle = { runId: '7', data: { runId: 7, resultPath: '/Workspace/Shared/x/result.json' } };
    const status = await backend().submittedStatus(gone);
    expect(status).toEqual({ failure: expect.stringContaining('job run 7 no longer exists') });
  });

  it('refuses a handle that is not one of its jobs', async () => {
    expect(await backend().submittedStatus({ runId: 'x', data: { pid: 1 } })).toHaveProperty('failure');
    expect(await backend().cancelSubmitted({ runId: 'x', data: {} })).toHaveProperty('failure');
  });
});

describe('run state mapping', () => {
  const run = (lifeCycle?: string, result?: string, v2?: string, code?: string): JobRun => ({
    ...(lifeCycle ? { state: { life_cycle_state: lifeCycle, ...(result ? { result_state: result } : {}) } } : {}),
    ...(v2 ? { status: { state: v2, ...(code ? { termination_details: { code } } : {}) } } : {}),
  });
  it.each([
    [run('QUEUED'), 'pending'],
    [run('PENDING'), 'pending'],
    [run('BLOCKED'), 'pending'],
    [run('WAITING_FOR_RETRY'), 'pending'],
    [run('RUNNING'), 'running'],
    [run('PENDING', undefined, 'RUNNING'), 'running'],
    [run('TERMINATING'), 'terminating'],
    [run('RUNNING', undefined, 'TERMINATING'), 'terminating'],
    [run('TERMINATED', 'SUCCESS'), 'succeeded'],
    [run('TERMINATED', 'FAILED'), 'failed'],
    [run('INTERNAL_ERROR', 'FAILED', 'TERMINATED', 'RUN_EXECUTION_ERROR'), 'failed'],
    [run('TERMINATED', 'TIMEDOUT', 'TERMINATED', 'CANCELED'), 'failed'],
    [run('TERMINATED', 'CANCELED'), 'cancelled'],
    [run('TERMINATED', 'UPSTREAM_CANCELED'), 'cancelled'],
    [run('TERMINATED', 'MAXIMUM_CONCURRENT_RUNS_REACHED'), 'failed'],
    [run('SKIPPED'), 'failed'],
    [run('INTERNAL_ERROR'), 'failed'],
    [run(undefined, undefined, 'QUEUED'), 'pending'],
    [run(undefined, undefined, 'WAITING'), 'pending'],
    [run(undefined, undefined, 'TERMINATED', 'SUCCESS'), 'succeeded'],
    [run(undefined, undefined, 'TERMINATED', 'USER_CANCELED'), 'cancelled'],
    [run(undefined, undefined, 'TERMINATED', 'DRIVER_ERROR'), 'failed'],
  ])('%j is %s', (given, expected) => {
    expect(runPhase(given).state).toBe(expected);
  });
});
