// What only the Dask backend has, on a real loopback cluster: refs that move worker to worker
// without passing through the server, dereference in slices, submitted runs found again by a new
// server, and a scheduler that cannot be reached or dies mid-run.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectRef, expectValue, payload, py, runRecording, submitOk, submitRequest, waitSubmitted } from '../backends/contract.js';
import { DASK_DRIVER_PATH, DaskDriver } from '../../server/src/backends/dask/dask-driver.js';
import { RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';
import { DASK_PYTHON, LocalDaskCluster, makeDaskBackend } from './harness.js';

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM). */
async function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!match) throw new Error(`no ${field} for ${pid}`);
  return Number(match[1]) * 1024;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('dask backend on a loopback cluster', () => {
  let cluster: LocalDaskCluster;
  let subject: Awaited<ReturnType<typeof makeDaskBackend>>;
  beforeAll(async () => {
    cluster = await LocalDaskCluster.start();
    subject = await makeDaskBackend(cluster.address);
  }, 90_000);
  afterAll(async () => {
    await subject?.cleanup();
    await cluster?.stop();
  });

  it('labels itself with the scheduler', () => {
    expect(subject.backend.label()).toBe(`dask ${cluster.address}`);
  });

  it('chains a 120 MB ref worker to worker and dereferences it in slices, never holding it in the driver', async () => {
    const size = 120 << 20;
    const ref = expectRef(
      await subject.backend.run(payload({ mode: 'artifact', function_name: 'make', source: py('def make(n):', "    return b'\\x07' * n"), args_source: String(size) })),
    );
    expect(ref.type).toBe('bytes');
    expect(ref.size).toBeGreaterThan(size);
    const driver = subject.backend.driverPid()!;
    const before = await memoryOf(driver, 'VmRSS');
    const value = expectValue(
      await subject.backend.run(
        payload({ source: py('def f(data):', '    return [len(data), data[:2].hex()]'), args_source: 'data', args_refs: { data: { path: ref.path } } }),
      ),
    );
    expect(value.json).toEqual([size, '0707']);
    // Had the pickle passed through the driver (the only way to the server), its peak would
    // have grown by the artifact's size.
    expect((await memoryOf(driver, 'VmHWM')) - before).toBeLessThan(size / 4);

    const destination = join(tmpdir(), `choppa-dask-deref-${process.pid}.pkl`);
    const progress: number[] = [];
    try {
      const fetched = await subject.backend.fetchArtifact(ref.path, destination, {
        onProgress: (report) => progress.push(report.percentage ?? -1),
      });
      expect(fetched).toEqual({ size: ref.size, sha256: ref.sha256 });
      expect(await sha256File(destination)).toBe(ref.sha256);
      // 8 MB slices: the driver never held the whole pickle either.
      expect((await memoryOf(driver, 'VmHWM')) - before).toBeLessThan(size / 4);
      expect(progress.at(-1)).toBeGreaterThanOrEqual(0);
    } finally {
      await rm(destination, { force: true });
    }
  }, 120_000);

  it('passes a value held by one worker to a run, wherever the scheduler would put it', async () => {
    // Several producers spread over both workers; one consumer takes all of their values.
    const producers = await Promise.all(
      [1, 2, 3, 4].map(async (n) => {
        const body = payload({ source: py('def f(n):', '    import time', '    time.sleep(0.2)', "    return {'n': n}"), args_source: String(n) });
        expectValue(await subject.backend.run(body));
        return body.run_id;
      }),
    );
    const value = expectValue(
      await subject.backend.run(
        payload({
          source: py('def f(a, b, c, d):', "    return [a['n'], b['n'], c['n'], d['n']]"),
          args_source: 'a, b, c, d',
          args_refs: Object.fromEntries(['a', 'b', 'c', 'd'].map((name, i) => [name, { run_id: producers[i]! }])),
        }),
      ),
    );
    expect(value.json).toEqual([1, 2, 3, 4]);
  });

  it('keeps held values when another server connects to the same scheduler', async () => {
    const first = payload({ source: py('def f():', "    return {'kept': True}") });
    expectValue(await subject.backend.run(first));
    const other = await makeDaskBackend(cluster.address);
    try {
      // The other server's driver registers the runner on every worker too.
      expectValue(await other.backend.run(payload({ source: py('def f():', '    return 0') })));
    } finally {
      await other.cleanup();
    }
    const value = expectValue(
      await subject.backend.run(payload({ source: py('def g(x):', "    return x['kept']"), function_name: 'g', args_source: 'x', args_refs: { x: { run_id: first.run_id } } })),
    );
    expect(value.json).toBe(true);
  });

  it('streams output lines in order while the run goes on', async () => {
    const arrivals: number[] = [];
    const { outcome, streamed } = await runRecording(
      subject.backend,
      payload({ source: py('def f():', '    import time', '    for i in range(20):', "        print('line', i, flush=True)", '        time.sleep(0.05)', '    return 1') }),
      { onOutput: () => arrivals.push(Date.now()) },
    );
    const expected = Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join('');
    expect(streamed.stdout).toBe(expected);
    expect(outcome.stdout).toBe(expected);
    // Live: the output came in several pieces spread over the run, not once at its end.
    expect(arrivals.length).toBeGreaterThan(3);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(300);
  });

  it('keeps the last megabyte of output past the live cap: the outcome and the stream end with the last line', async () => {
    // 6 MB of prints: the first 4 MB stream live, the last megabyte comes after the run.
    const { outcome, streamed } = await runRecording(
      subject.backend,
      payload({ source: py('def f():', '    for i in range(60000):', "        print('%05d' % i + 'x' * 94)", "    print('the end')", '    return 1') }),
    );
    expect(expectValue(outcome).json).toBe(1);
    expect(streamed.stdout.startsWith('00000' + 'x'.repeat(94) + '\n')).toBe(true);
    expect(streamed.stdout).toContain('[live output stops here: over 4194304 characters');
    expect(streamed.stdout).toMatch(/\[\.\.\. \d+ characters omitted \.\.\.\]\n/);
    expect(streamed.stdout.endsWith('59999' + 'x'.repeat(94) + '\nthe end\n')).toBe(true);
    expect(outcome.stdout.endsWith('\nthe end\n')).toBe(true);
  }, 60_000);

  it('answers in the runner report shape: output from the acknowledged position, sent again until acknowledged', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'choppa-dask-driver-'));
    const driver = await DaskDriver.connect({ pythonPath: DASK_PYTHON, scheduler: cluster.address, runnerPath: RUNNER_PATH, driverPath: DASK_DRIVER_PATH, cwd, connectTimeoutMs: 10_000 });
    if ('failure' in driver) throw new Error(driver.failure);
    try {
      const run = payload({ source: py('def f():', '    import time', "    print('first')", '    time.sleep(0.4)', "    print('second')", '    return 7') });
      type Report = { state: string; stdout: string; out_at: number; out: number; envelope?: Record<string, unknown> };
      const call = async (...args: unknown[]) => {
        const answer = await driver.call<Report>(...(args as [string, ...unknown[]]));
        if ('failure' in answer) throw new Error(answer.failure);
        return answer;
      };
      await call('start', run, 100_000);
      let report = await call('poll', run.run_id, 0, 0, 0, 100_000, 2000);
      for (let i = 0; report.stdout === '' && i < 100; i++) report = await call('poll', run.run_id, 0, 0, 0, 100_000, 100);
      expect(report).toMatchObject({ state: 'running', stdout: 'first\n', out_at: 0, out: 6 });
      // The answer was "lost": the same position again gets the same output again.
      expect(await call('poll', run.run_id, 0, 0, 0, 100_000, 0)).toMatchObject({ stdout: 'first\n', out_at: 0, out: 6 });
      let seen = '';
      let at = 6;
      do {
        report = await call('poll', run.run_id, at, 0, 0, 100_000, 200);
        expect(report.out_at).toBe(at);
        seen += report.stdout;
        at = report.out;
      } while (report.state !== 'done');
      expect(seen).toBe('second\n');
      expect(report.envelope).toMatchObject({ status: 'ok', value: { json: 7 } });
      expect(report.envelope).not.toHaveProperty('stdout');
      expect((await call('poll', run.run_id, at, 0, 0, 100_000, 0)).state).toBe('unknown');
    } finally {
      await driver.close();
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('cancels through the runner and frees the worker thread: all four worker threads run at once afterwards', async () => {
    const controller = new AbortController();
    const outcome = await subject.backend.run(
      payload({ source: py('def f():', '    import time', "    print('spinning', flush=True)", '    while True:', '        time.sleep(0.01)') }),
      { signal: controller.signal, onOutput: (_stream, text) => text.includes('spinning') && controller.abort() },
    );
    expect(outcome.status).toBe('cancelled');
    // Two workers with two threads each: four runs that wait for each other pass only if the
    // cancelled run gave its thread back.
    const token = join(tmpdir(), `choppa-dask-slots-${randomUUID()}`);
    const source = py(
      'def f(token, me):',
      '    import os, time',
      "    open('%s-%d' % (token, me), 'w').close()",
      '    deadline = time.time() + 20',
      "    while not all(os.path.exists('%s-%d' % (token, k)) for k in range(4)):",
      '        if time.time() > deadline:',
      "            raise TimeoutError('not every worker thread was free')",
      '        time.sleep(0.01)',
      '    return me',
    );
    try {
      const all = await Promise.all([0, 1, 2, 3].map((me) => subject.backend.run(payload({ source, args_source: `${JSON.stringify(token)}, ${me}` }))));
      expect(all.map((one) => expectValue(one).json)).toEqual([0, 1, 2, 3]);
    } finally {
      await Promise.all([0, 1, 2, 3].map((me) => rm(`${token}-${me}`, { force: true })));
    }
  }, 60_000);

  it('never starts a run cancelled while it waited in the queue', async () => {
    const quick = await makeDaskBackend(cluster.address, { cancelGraceMs: 1000 });
    const gate = join(tmpdir(), `choppa-dask-gate-${randomUUID()}`);
    const marker = join(tmpdir(), `choppa-dask-ran-${randomUUID()}`);
    try {
      // Four runs hold every worker thread until the gate opens.
      const blockers = [0, 1, 2, 3].map((i) =>
        quick.backend.run(payload({ source: py('def f(gate, i):', '    import os, time', '    while not os.path.exists(gate):', '        time.sleep(0.01)', '    return i'), args_source: `${JSON.stringify(gate)}, ${i}` })),
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const controller = new AbortController();
      const queued = quick.backend.run(payload({ source: py('def f(marker):', "    open(marker, 'w').close()", '    return 1'), args_source: JSON.stringify(marker) }), { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 700));
      controller.abort();
      expect((await queued).status).toBe('cancelled');
      writeFileSync(gate, 'go');
      expect((await Promise.all(blockers)).map((one) => expectValue(one).json)).toEqual([0, 1, 2, 3]);
      // The queued task now reaches a free thread: it must see the cancel and not run.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(existsSync(marker)).toBe(false);
    } finally {
      await quick.cleanup();
      await rm(gate, { force: true });
      await rm(marker, { force: true });
    }
  }, 60_000);

  it('keeps a submitted run and its result for a new server (a new driver) after a restart', async () => {
    const request = submitRequest({ source: py('def f(n):', '    import time', "    print('slow start')", '    time.sleep(1.5)', '    return list(range(n))'), args_source: '500' });
    const handle = await submitOk(subject.backend, request);
    // The server goes away: its driver and client close while the run is going.
    await subject.cleanup();
    subject = await makeDaskBackend(cluster.address);
    const again = await submitOk(subject.backend, request);
    expect(again.runId).toBe(handle.runId);
    const status = await waitSubmitted(subject.backend, JSON.parse(JSON.stringify(handle)));
    expect(status.state, JSON.stringify(status)).toBe('succeeded');
    expect(status.ref?.preview.startsWith('[0, 1, 2')).toBe(true);
    expect(status.logs).toContain('slow start');
    expect(await subject.backend.readArtifactMetadata(status.ref!.path)).toEqual(status.ref);
  }, 60_000);
});

describe('dask backend without a scheduler', () => {
  it('says the scheduler cannot be reached, quickly, and how to fix it', async () => {
    const address = `tcp://127.0.0.1:${await closedPort()}`;
    const { backend, cleanup } = await makeDaskBackend(address, { connectTimeoutMs: 2000 });
    try {
      const started = Date.now();
      const error = expectError(await backend.run(payload({ source: py('def f():', '    return 1') })));
      expect(error.origin).toBe('backend');
      expect(error.message).toContain(`cannot reach the Dask scheduler at ${address}`);
      expect(error.message).toContain('choppa.dask.scheduler');
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await cleanup();
    }
  });

  it('refuses an address that is not a scheduler address before starting anything', async () => {
    const { backend, cleanup } = await makeDaskBackend('127.0.0.1:8786');
    try {
      const error = expectError(await backend.run(payload({ source: py('def f():', '    return 1') })));
      expect(error.message).toBe('the Dask scheduler address "127.0.0.1:8786" is not like tcp://host:port');
      expect(backend.driverPid()).toBeUndefined();
    } finally {
      await cleanup();
    }
  });

  it('says which Python lacks distributed', async () => {
    const { backend, cleanup } = await makeDaskBackend('tcp://127.0.0.1:1', { pythonPath: process.env['CHOPPA_TEST_PYTHON_WITHOUT_DASK'] ?? 'python3', connectTimeoutMs: 1000 });
    try {
      const error = expectError(await backend.run(payload({ source: py('def f():', '    return 1') })));
      // On machines whose python3 has distributed, the connect fails instead: both are clear.
      expect(error.message).toMatch(/cannot import distributed.*choppa\.dask\.pythonPath|cannot reach the Dask scheduler/);
    } finally {
      await cleanup();
    }
  });
});

describe('dask backend on a scheduler without workers', () => {
  it('says the run waits for a worker, and can be cancelled meanwhile', async () => {
    const cluster = await LocalDaskCluster.start({ workers: 0 });
    const { backend, cleanup } = await makeDaskBackend(cluster.address, { cancelGraceMs: 500 });
    try {
      const controller = new AbortController();
      const messages: string[] = [];
      const outcome = await backend.run(payload({ source: py('def f():', '    return 1') }), {
        signal: controller.signal,
        onProgress: (report) => {
          messages.push(report.message);
          if (report.message.startsWith('waiting for a Dask worker')) setTimeout(() => controller.abort(), 200);
        },
      });
      expect(messages).toContain(`waiting for a Dask worker: the scheduler at ${cluster.address} has none yet`);
      expect(outcome.status).toBe('cancelled');
    } finally {
      await cleanup();
      await cluster.stop();
    }
  }, 60_000);
});

describe('dask backend when the scheduler dies mid-run', () => {
  let cluster: LocalDaskCluster;
  beforeAll(async () => {
    cluster = await LocalDaskCluster.start({ workers: 1 });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('ends the run with a clear error, refuses while it is down, serves again once it is back, and gives up on a hung one', async () => {
    const { backend, cleanup } = await makeDaskBackend(cluster.address, { connectTimeoutMs: 3000 });
    try {
      expect(expectValue(await backend.run(payload({ source: py('def f():', '    return 1') }))).json).toBe(1);
      const started = Date.now();
      const outcome = await backend.run(
        payload({ source: py('def f():', '    import time', "    print('started', flush=True)", '    time.sleep(60)') }),
        {
          onOutput: (_stream, text) => {
            if (text.includes('started')) cluster.killScheduler();
          },
        },
      );
      const error = expectError(outcome);
      expect(error.origin).toBe('backend');
      expect(error.message).toMatch(/Dask scheduler at tcp:\/\/127\.0\.0\.1:\d+/);
      expect(outcome.stdout).toContain('started');
      expect(Date.now() - started).toBeLessThan(30_000);

      const down = expectError(await backend.run(payload({ source: py('def f():', '    return 2') })));
      expect(down.message).toContain(`cannot reach the Dask scheduler at ${cluster.address}`);

      await cluster.restartScheduler();
      // A scheduler that hangs (connected, mute): a driver call gives up at its deadline.
      const hung = await makeDaskBackend(cluster.address, { commandTimeoutMs: 3000 });
      try {
        expect(expectValue(await hung.backend.run(payload({ source: py('def f():', '    return 4') }))).json).toBe(4);
        cluster.pauseScheduler(true);
        const asked = Date.now();
        const failure = await hung.backend.readArtifactMetadata('/Workspace/Shared/missing.pkl');
        expect(failure).toEqual({ failure: `the Dask driver got no answer from the scheduler at ${cluster.address} within 3 s (in artifact); it was restarted` });
        expect(Date.now() - asked).toBeLessThan(10_000);
      } finally {
        cluster.pauseScheduler(false);
        await hung.cleanup();
      }
      // The same backend connects to the new scheduler on the next run.
      const back = await backend.run(payload({ source: py('def f():', '    return 3') }));
      expect(expectValue(back).json).toBe(3);
    } finally {
      await cleanup();
    }
  }, 120_000);

  it('reconnects on the first run after the scheduler restarted while the backend was idle, whether its client gave up or reconnected', async () => {
    const { backend, cleanup } = await makeDaskBackend(cluster.address, { connectTimeoutMs: 2000 });
    try {
      expect(expectValue(await backend.run(payload({ source: py('def f():', '    return 1') }))).json).toBe(1);
      for (const downMs of [4000, 0]) {
        cluster.killScheduler();
        // Longer than the client's connect timeout, its client closes; at once, it reconnects
        // to the new scheduler, which knows neither its runner nor its output topic.
        await new Promise((resolve) => setTimeout(resolve, downMs));
        await cluster.restartScheduler();
        const messages: string[] = [];
        const outcome = await backend.run(payload({ source: py('def f(x):', '    return x * 2'), args_source: String(downMs) }), {
          onProgress: (report) => messages.push(report.message),
        });
        expect(expectValue(outcome).json).toBe(downMs * 2);
        expect(messages.filter((message) => message.startsWith('waiting for a Dask worker'))).toEqual([]);
      }
    } finally {
      await cleanup();
    }
  }, 120_000);
});
