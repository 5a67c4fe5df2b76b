// The emulated Command Execution API 1.2 over real HTTP: notebook-cell results, IPython-style error
// results, queueing, cancel, cluster state errors, lost contexts and terminated clusters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from './emulator.js';
import { alive, call, commandStatus, createContext, execute, poll, run } from './support.js';

const CLUSTER = DEFAULT_CLUSTER_ID;
let emulator: Emulator;
let context: string;

beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: CLUSTER }, { cluster_id: 'stopped', state: 'TERMINATED' }] });
  context = await createContext(emulator, CLUSTER);
});
afterAll(() => emulator.stop());

describe('command execution', () => {
  it('creates a context that reports Running, with the camelCase shape', async () => {
    const status = await call(emulator, 'GET', `/api/1.2/contexts/status?clusterId=${CLUSTER}&contextId=${context}`);
    expect(status.body).toEqual({ id: context, status: 'Running' });
  });

  it('ends a context Error as a cluster under heavy load does, when told to', async () => {
    emulator.failContextStarts(1);
    const failed = await createContext(emulator, CLUSTER);
    const status = await call(emulator, 'GET', `/api/1.2/contexts/status?clusterId=${CLUSTER}&contextId=${failed}`);
    expect(status.body).toEqual({ id: failed, status: 'Error' });
    const next = await createContext(emulator, CLUSTER);
    expect((await call(emulator, 'GET', `/api/1.2/contexts/status?clusterId=${CLUSTER}&contextId=${next}`)).body.status).toBe('Running');
  });

  it('returns printed output followed by the last expression like Out[n]', async () => {
    const result = await run(emulator, CLUSTER, context, 'x = 40\nprint("hello")\nx + 2');
    expect(result.status).toBe('Finished');
    expect(result.results).toEqual({ resultType: 'text', data: expect.stringMatching(/^hello\nOut\[\d+\]: 42$/) });
  });

  it('drops the final newline of printed output and shows no Out for None', async () => {
    const result = await run(emulator, CLUSTER, context, 'print("done")\nNone');
    expect(result.results).toEqual({ resultType: 'text', data: 'done' });
  });

  it('keeps one namespace across commands', async () => {
    await run(emulator, CLUSTER, context, 'shared = [1, 2]');
    const result = await run(emulator, CLUSTER, context, 'shared');
    expect(result.results.data).toMatch(/Out\[\d+\]: \[1, 2\]/);
  });

  it('reports an exception as Finished with an HTML summary and an ANSI IPython traceback', async () => {
    const result = await run(emulator, CLUSTER, context, 'def f():\n    raise Exception("juhu")\nf()');
    expect(result.status).toBe('Finished');
    expect(result.results.resultType).toBe('error');
    expect(result.results.summary).toBe("<span class='ansi-red-fg'>Exception</span>: juhu");
    const cause: string = result.results.cause;
    expect(cause).toContain('\u001b[0;31m');
    expect(cause.startsWith('\u001b[0;31m---')).toBe(true);
    const plain = cause.replace(/\u001b\[\d+(?:;\d+)*m/g, '');
    expect(plain).toContain('Traceback (most recent call last)');
    expect(plain).toMatch(/<command--1> in f\(\)/);
    expect(plain).toMatch(/^---> 2 {5}raise Exception\("juhu"\)$/m);
    expect(plain.endsWith('Exception: juhu')).toBe(true);
  });

  it('reports a syntax error in the plain traceback style', async () => {
    const result = await run(emulator, CLUSTER, context, 'def (:');
    expect(result.results.summary).toMatch(/^<span class='ansi-red-fg'>SyntaxError<\/span>: /);
    expect(result.results.cause.replace(/\u001b\[\d+(?:;\d+)*m/g, '')).toMatch(/File "<command--1>", line 1/);
  });

  it('runs two commands on one context one after the other', async () => {
    const first = await execute(emulator, CLUSTER, context, 'import time\ntime.sleep(0.4)\norder = ["first"]');
    const second = await execute(emulator, CLUSTER, context, 'order.append("second")\norder');
    expect((await commandStatus(emulator, CLUSTER, context, second)).body.status).toBe('Queued');
    const done = await poll(() => commandStatus(emulator, CLUSTER, context, second), (answer) => answer.body.status === 'Finished');
    expect(done.body.results.data).toMatch(/\['first', 'second'\]/);
    expect((await commandStatus(emulator, CLUSTER, context, first)).body.status).toBe('Finished');
  });

  it('cancels a running command and the context keeps working', async () => {
    const id = await execute(emulator, CLUSTER, context, 'import time\nfor _ in range(600): time.sleep(0.05)');
    await poll(() => commandStatus(emulator, CLUSTER, context, id), (answer) => answer.body.status === 'Running');
    expect((await call(emulator, 'POST', '/api/1.2/commands/cancel', { clusterId: CLUSTER, contextId: context, commandId: id })).status).toBe(200);
    // As the service answers: Finished with an error result, not a Cancelled status.
    const status = await poll(() => commandStatus(emulator, CLUSTER, context, id), (answer) => answer.body.status !== 'Running' && answer.body.status !== 'Cancelling');
    expect(status.body.status).toBe('Finished');
    expect(status.body.results.resultType).toBe('error');
    expect(status.body.results.cause).toContain('CommandCancelledException');
    expect((await run(emulator, CLUSTER, context, '1 + 1')).results.data).toMatch(/Out\[\d+\]: 2/);
  });

  it('cancels a queued command without running it', async () => {
    const busy = await execute(emulator, CLUSTER, context, 'import time\ntime.sleep(0.3)');
    const queued = await execute(emulator, CLUSTER, context, 'ran_queued = True');
    await call(emulator, 'POST', '/api/1.2/commands/cancel', { clusterId: CLUSTER, contextId: context, commandId: queued });
    expect((await commandStatus(emulator, CLUSTER, context, queued)).body).toMatchObject({
      status: 'Finished',
      results: { resultType: 'error', cause: expect.stringContaining('CommandCancelledException') },
    });
    await poll(() => commandStatus(emulator, CLUSTER, context, busy), (answer) => answer.body.status === 'Finished');
    expect((await run(emulator, CLUSTER, context, "'ran_queued' in globals()")).results.data).toMatch(/False/);
  });

  it('answers {error} bodies for a stopped cluster, an unknown cluster and an unknown context', async () => {
    const stopped = await call(emulator, 'POST', '/api/1.2/contexts/create', { clusterId: 'stopped', language: 'python' });
    expect(stopped.status).toBe(400);
    expect(stopped.body).toEqual({ error: expect.stringContaining('is not running') });
    const unknown = await call(emulator, 'POST', '/api/1.2/contexts/create', { clusterId: 'nope', language: 'python' });
    expect(unknown.body).toEqual({ error: 'Cluster nope does not exist' });
    const missing = await call(emulator, 'GET', `/api/1.2/contexts/status?clusterId=${CLUSTER}&contextId=123`);
    expect(missing).toMatchObject({ status: 400, body: { error: 'Context 123 does not exist.' } });
  });

  it('destroys a context: its process ends and later calls answer as for a missing context', async () => {
    const id = await createContext(emulator, CLUSTER);
    const pid = Number((await run(emulator, CLUSTER, id, 'import os\nos.getpid()')).results.data.split(': ')[1]);
    expect(alive(pid)).toBe(true);
    expect((await call(emulator, 'POST', '/api/1.2/contexts/destroy', { clusterId: CLUSTER, contextId: id })).status).toBe(200);
    await poll(async () => alive(pid), (isAlive) => !isAlive);
    expect(alive(pid)).toBe(false);
    const execute = await call(emulator, 'POST', '/api/1.2/commands/execute', { clusterId: CLUSTER, contextId: id, language: 'python', command: '1' });
    expect(execute.body).toEqual({ error: `Context ${id} does not exist.` });
  });

  it('a lost context ends its running command with the kernel error and then is missing', async () => {
    const id = await createContext(emulator, CLUSTER);
    const command = await execute(emulator, CLUSTER, id, 'import time\ntime.sleep(30)');
    await poll(() => commandStatus(emulator, CLUSTER, id, command), (answer) => answer.body.status === 'Running');
    emulator.loseContext(id);
    const ended = await poll(() => commandStatus(emulator, CLUSTER, id, command), (answer) => answer.body.status !== 'Running');
    expect(ended.body).toMatchObject({ status: 'Finished', results: { resultType: 'error', summary: 'Fatal error: The Python kernel is unresponsive.' } });
    const status = await call(emulator, 'GET', `/api/1.2/contexts/status?clusterId=${CLUSTER}&contextId=${id}`);
    expect(status).toMatchObject({ status: 400, body: { error: `Context ${id} does not exist.` } });
  });
});

describe('a cluster terminated mid-run', () => {
  it('ends the running command in Error and leaves the cluster TERMINATED with a reason', async () => {
    const local = await startEmulator({ clusters: [{ cluster_id: 'c1' }] });
    try {
      const id = await createContext(local, 'c1');
      const command = await execute(local, 'c1', id, 'import time\ntime.sleep(30)');
      await poll(() => commandStatus(local, 'c1', id, command), (answer) => answer.body.status === 'Running');
      local.terminateCluster('c1', { code: 'DRIVER_UNREACHABLE', type: 'SERVICE_FAULT' });
      const ended = await commandStatus(local, 'c1', id, command);
      expect(ended.body).toMatchObject({ status: 'Error', results: { resultType: 'error', data: expect.stringContaining('was terminated') } });
      const cluster = await call(local, 'GET', '/api/2.1/clusters/get?cluster_id=c1');
      expect(cluster.body).toMatchObject({ state: 'TERMINATED', termination_reason: { code: 'DRIVER_UNREACHABLE', type: 'SERVICE_FAULT' } });
      const again = await call(local, 'POST', '/api/1.2/commands/execute', { clusterId: 'c1', contextId: id, language: 'python', command: '1' });
      expect(again.body.error).toContain('is not running');
    } finally {
      await local.stop();
    }
  });

  it('stop() ends every context process', async () => {
    const local = await startEmulator();
    const id = await createContext(local, DEFAULT_CLUSTER_ID);
    const pid = Number((await run(local, DEFAULT_CLUSTER_ID, id, 'import os\nos.getpid()')).results.data.split(': ')[1]);
    await local.stop();
    expect(alive(pid)).toBe(false);
  });
});
