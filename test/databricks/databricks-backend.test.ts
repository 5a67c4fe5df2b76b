// What only the Databricks backend has, against the workspace emulator over real HTTP: cluster
// start-up, one warm context reused and recreated, fast results, injected faults that end in
// success after retries or in a clear error (with the backend still serving), and cancellation
// that falls back to `commands/cancel`.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgressReport } from '../../server/src/backends/backend.js';
import { expectError, expectValue, payload, py } from '../backends/contract.js';
import { DEFAULT_CLUSTER_ID } from '../emulator/emulator.js';
import { call, createContext, poll } from '../emulator/support.js';
import { BACK_TO_BACK_CHECKS, BACK_TO_BACK_WINDOW_MS, executeCommand } from '../../server/src/backends/databricks/command-execution.js';
import { makeHarness, testClient, type Harness } from './harness.js';
import { RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';

const trivial = () => payload({ source: py('def f():', '    return 1') });

async function expectOne(harness: Harness): Promise<void> {
  expect(expectValue(await harness.backend.run(trivial())).json).toBe(1);
}

describe('cluster start-up', () => {
  const harnesses: Harness[] = [];
  const make = async (...args: Parameters<typeof makeHarness>) => {
    const harness = await makeHarness(...args);
    harnesses.push(harness);
    return harness;
  };
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((harness) => harness.cleanup()));
  });

  it('labels itself with the cluster', async () => {
    const harness = await make();
    expect(harness.backend.label()).toBe(`cluster ${DEFAULT_CLUSTER_ID}`);
  });

  it('starts a TERMINATED cluster, reporting each state it waits through', async () => {
    const harness = await make({
      emulator: { clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'TERMINATED' }], clusterStartDelayMs: 300 },
    });
    const messages: string[] = [];
    const outcome = await harness.backend.run(trivial(), { onProgress: (report: ProgressReport) => messages.push(report.message) });
    expect(expectValue(outcome).json).toBe(1);
    expect(messages).toContain(`cluster ${DEFAULT_CLUSTER_ID} is TERMINATED: Inactive cluster terminated (inactive for 120 minutes).`);
    expect(messages).toContain(`starting cluster ${DEFAULT_CLUSTER_ID}`);
    expect(messages).toContain(
      `cluster ${DEFAULT_CLUSTER_ID} is PENDING: Finding instances for new nodes, acquiring more instances if necessary`,
    );
    expect(messages).toContain(`cluster ${DEFAULT_CLUSTER_ID} is RUNNING`);
    expect(messages).toContain(`creating an execution context on cluster ${DEFAULT_CLUSTER_ID}`);
    expect(harness.emulator.stats.count('POST', '/api/2.1/clusters/start')).toBe(1);
  });

  it('refuses to start a TERMINATED cluster without autoStartCluster, saying how to fix it', async () => {
    const harness = await make({
      emulator: { clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'TERMINATED' }] },
      backend: { autoStartCluster: false },
    });
    const error = expectError(await harness.backend.run(trivial()));
    expect(error.origin).toBe('backend');
    expect(error.message).toContain(`cluster ${DEFAULT_CLUSTER_ID} is TERMINATED: Inactive cluster terminated`);
    expect(error.message).toContain('choppa.autoStartCluster');
    expect(harness.emulator.stats.count('POST', '/api/2.1/clusters/start')).toBe(0);
    expect(harness.emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(0);
  });

  it('fails clearly on a cluster in ERROR and on an unknown cluster', async () => {
    const broken = await make({ emulator: { clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'ERROR' }] } });
    expect(expectError(await broken.backend.run(trivial())).message).toMatch(new RegExp(`^cluster ${DEFAULT_CLUSTER_ID} is ERROR; check the cluster`));
    const missing = await make({ emulator: { clusters: [{ cluster_id: 'other', state: 'RUNNING' }] } });
    const error = expectError(await missing.backend.run(trivial()));
    expect(error.message).toContain(`cluster ${DEFAULT_CLUSTER_ID} does not exist`);
    expect(error.message).toContain('DATABRICKS_CLUSTER_ID');
  });

  it('stops waiting for a starting cluster when the run is cancelled, and starts over on the next run', async () => {
    const harness = await make({
      emulator: { clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'TERMINATED' }], clusterStartDelayMs: 500 },
    });
    const controller = new AbortController();
    const outcome = await harness.backend.run(trivial(), {
      signal: controller.signal,
      onProgress: (report) => {
        if (report.message.includes('PENDING')) controller.abort();
      },
    });
    expect(outcome.status).toBe('cancelled');
    await expectOne(harness);
    expect(harness.emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(1);
  });

  it('reports a runner that cannot load, readably and without HTML or ANSI', async () => {
    const harness = await make({ backend: { runnerSource: "raise RuntimeError('<broken> runner')" } });
    const error = expectError(await harness.backend.run(trivial()));
    expect(error.message).toBe(`could not load the choppa runner on cluster ${DEFAULT_CLUSTER_ID}: RuntimeError: <broken> runner`);
    expect(harness.emulator.stats.count('POST', '/api/1.2/contexts/destroy')).toBe(1);
  });

  it('cannot reach an unreachable host, and says to check the host', async () => {
    const harness = await make({ host: 'http://127.0.0.1:9', client: { retryBudgetMs: 200 } });
    const error = expectError(await harness.backend.run(trivial()));
    expect(error.origin).toBe('backend');
    expect(error.message).toContain('cannot reach Databricks at http://127.0.0.1:9');
    expect(error.message).toContain('check the host');
  });

  it('reports rejected credentials without the token, and names what to check', async () => {
    const harness = await make({ token: 'dapi-wrong-token-SECRET' });
    const error = expectError(await harness.backend.run(trivial()));
    expect(error.message).toContain('rejected the credentials');
    expect(error.message).toContain('Invalid access token.');
    expect(error.message).toContain('databricks auth login');
    expect(JSON.stringify(error)).not.toContain('SECRET');
  });
});

describe('warm context', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await makeHarness();
  });
  afterAll(async () => {
    await harness?.cleanup();
  });

  it('creates one context for ten runs, and installs the runner once', async () => {
    const before = harness.emulator.stats.count('POST', '/api/1.2/commands/execute');
    for (let index = 0; index < 10; index++) await expectOne(harness);
    expect(harness.emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(1);
    // Per run: one start and at least one poll, plus the runner once.
    const executes = harness.emulator.stats.count('POST', '/api/1.2/commands/execute') - before;
    expect(executes).toBeLessThanOrEqual(1 + 10 * 3);
  });

  it('shares one context creation between concurrent first runs', async () => {
    const fresh = await makeHarness();
    try {
      const outcomes = await Promise.all(Array.from({ length: 4 }, () => fresh.backend.run(trivial())));
      for (const outcome of outcomes) expect(expectValue(outcome).json).toBe(1);
      expect(fresh.emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(1);
    } finally {
      await fresh.cleanup();
    }
  });

  it('answers a trivial run after a handful of status checks', async () => {
    await expectOne(harness);
    const since = harness.emulator.stats.requests.length;
    const started = Date.now();
    await expectOne(harness);
    // Generous for a loaded CI machine, and still far below an SDK-style 1 s first sleep.
    expect(Date.now() - started).toBeLessThan(1000);
    const requests = harness.emulator.stats.requests.slice(since);
    const executes = requests.filter((request) => request.path === '/api/1.2/commands/execute').length;
    const statuses = requests.filter((request) => request.path === '/api/1.2/commands/status').length;
    expect(executes).toBeGreaterThan(0);
    // A few per command while it is young (one per round trip), not a loop.
    expect(statuses).toBeLessThanOrEqual(executes * (BACK_TO_BACK_CHECKS + 12));
  });

  it('checks a command back to back only in its first milliseconds, then with growing gaps', async () => {
    const contextId = await createContext(harness.emulator, DEFAULT_CLUSTER_ID);
    const since = harness.emulator.stats.requests.length;
    const client = testClient(harness.emulator.url, harness.emulator.token);
    const outcome = await executeCommand(client, { clusterId: DEFAULT_CLUSTER_ID, contextId }, 'import time\ntime.sleep(0.4)\nprint("slept")', {
      schedule: { firstMs: 1, maxMs: 1000, factor: 1.5 },
    });
    expect(outcome).toMatchObject({ kind: 'text', data: expect.stringContaining('slept') });
    const requests = harness.emulator.stats.requests.slice(since);
    const executed = requests.find((request) => request.path === '/api/1.2/commands/execute')!;
    const checks = requests.filter((request) => request.path === '/api/1.2/commands/status');
    // Past the window (and the execute's own answer), each check waits at least the first gap
    // after the answer before it; a tight loop would check every fraction of a millisecond.
    const late = checks.filter((check, index) => index >= BACK_TO_BACK_CHECKS && check.at - executed.at > BACK_TO_BACK_WINDOW_MS + 20);
    expect(late.length).toBeGreaterThan(3);
    for (const check of late) expect(check.at - checks[checks.indexOf(check) - 1]!.at).toBeGreaterThanOrEqual(1);
    // 1, 2, 3, 5, 8 … ms over 400 ms: about a dozen after the window, whatever the round trip.
    expect(late.length).toBeLessThanOrEqual(20);
  });

  it('checks a run of a few seconds at a bounded rate, backing off to one poll a second', async () => {
    await expectOne(harness);
    const since = harness.emulator.stats.requests.length;
    const outcome = await harness.backend.run(payload({ source: py('def f():', '    import time', '    time.sleep(3)', '    return 1') }));
    const ended = Date.now();
    expect(expectValue(outcome).json).toBe(1);
    const requests = harness.emulator.stats.requests.slice(since);
    const executes = requests.filter((request) => request.path === '/api/1.2/commands/execute');
    const statuses = requests.filter((request) => request.path === '/api/1.2/commands/status');
    // start, a few polls at once, then gaps of 10 ms growing by half up to 1 s: about 17 runner
    // commands, each answered within a few status checks.
    expect(executes.length).toBeLessThanOrEqual(25);
    expect(statuses.length).toBeLessThanOrEqual(3 * executes.length + 10);
    // The last second is the back-off's: one or two polls, not a tight loop.
    expect(executes.filter((request) => request.at > ended - 1000).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((request) => request.at > ended - 1000).length).toBeLessThanOrEqual(9);
  });

  it('recreates a lost context for the next run', async () => {
    await expectOne(harness);
    const creates = harness.emulator.stats.count('POST', '/api/1.2/contexts/create');
    harness.emulator.loseContext();
    await expectOne(harness);
    expect(harness.emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(creates + 1);
    await expectOne(harness);
    expect(harness.emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(creates + 1);
  });

  it('ends a run whose context dies mid-run as a backend error, then recreates it', async () => {
    await expectOne(harness);
    const outcome = await harness.backend.run(
      payload({ source: py('def f():', '    import time', "    print('started', flush=True)", '    time.sleep(30)') }),
      {
        onOutput: (_stream, text) => {
          if (text.includes('started')) harness.emulator.loseContext();
        },
      },
    );
    const error = expectError(outcome);
    expect(error.origin).toBe('backend');
    expect(error.message).toMatch(/^the execution context on cluster \S+ was lost while running f \(/);
    expect(error.message).toContain('run it again');
    expect(outcome.stdout).toContain('started');
    await expectOne(harness);
  });

  it("runs on its own runner in a warm context another build left, though both runners bear one version number", async () => {
    // An upgrade of choppa-lsp whose runner changed without a new version number adopts the
    // context the old build left warm (`.choppa/contexts.json`): the old runner must not run on.
    const runnerSource = await readFile(RUNNER_PATH, 'utf8');
    const changed = runnerSource.replace(/^ {4}repr_max = 2000$/m, '    repr_max = 10');
    expect(changed).not.toBe(runnerSource);
    await expectOne(harness);
    const warm = harness.emulator.contextIds();
    expect(warm).toHaveLength(1);
    const upgraded = await makeHarness({
      host: harness.emulator.url,
      token: harness.emulator.token,
      backend: { runnerSource: changed, reuseContext: { recorded: () => warm[0], keepOnDispose: true } },
    });
    try {
      const value = expectValue(await upgraded.backend.run(payload({ source: py('def f():', "    return 'x' * 100") })));
      expect(value.repr.length).toBeLessThanOrEqual(10);
      expect(harness.emulator.contextIds()).toEqual(warm);
    } finally {
      await upgraded.cleanup();
    }
    // The first build's next run finds its own runner gone and puts it back.
    expect(expectValue(await harness.backend.run(payload({ source: py('def f():', "    return 'x' * 100") }))).repr).toHaveLength(102);
  });

  it("leaves another build's runner alone while it runs someone's function, and goes to a context of its own", async () => {
    // The editor's server and the CLI are often two builds (the .vsix bundles its own server): the
    // CLI following the recorded context must not pull the runner out from under the server's run.
    const runnerSource = await readFile(RUNNER_PATH, 'utf8');
    const other = runnerSource.replace(/^ {4}repr_max = 2000$/m, '    repr_max = 1999');
    await expectOne(harness);
    const [warm] = harness.emulator.contextIds();
    const long = harness.backend.run(payload({ source: py('def f():', '    import time', '    time.sleep(1.5)', "    return 'slow'") }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cli = await makeHarness({
      host: harness.emulator.url,
      token: harness.emulator.token,
      backend: { runnerSource: other, reuseContext: { recorded: () => warm, keepOnDispose: true } },
    });
    try {
      expect(expectValue(await cli.backend.run(payload({ source: py('def f():', '    return 2') }))).json).toBe(2);
      // Its next run stays in its own context.
      expect(expectValue(await cli.backend.run(payload({ source: py('def f():', '    return 3') }))).json).toBe(3);
      expect(expectValue(await long).json).toBe('slow');
      expect(harness.emulator.contextIds()).toHaveLength(2);
    } finally {
      await cli.cleanup();
    }
    await expectOne(harness);
  });

  it('follows the context its project records, so a context restart reaches a warm CLI daemon too', async () => {
    // contexts.json as the CLI daemon and the editor's server share it: each records the context
    // it creates, the daemon adopts what is recorded, and `choppa-lsp context restart` destroys
    // the recorded one and forgets it.
    let recorded: string | undefined;
    const record = (change: { created: string } | { dropped: string }) => {
      if ('created' in change) recorded = change.created;
      else if (recorded === change.dropped) recorded = undefined;
    };
    const daemon = await makeHarness({ backend: { reuseContext: { recorded: () => recorded, keepOnDispose: true }, onContextChange: record } });
    const server = await makeHarness({ host: daemon.emulator.url, token: daemon.emulator.token, backend: { onContextChange: record } });
    try {
      const mark = py('def f():', '    import os', "    os.environ['CHOPPA_MARK'] = 'warm'", '    return 1');
      const read = py('def f():', '    import os', "    return os.environ.get('CHOPPA_MARK')");
      expect(expectValue(await daemon.backend.run(payload({ source: mark }))).json).toBe(1);
      expect(expectValue(await daemon.backend.run(payload({ source: read }))).json).toBe('warm');
      // The editor's server runs too, on a context of its own, now the recorded one.
      expect(expectValue(await server.backend.run(payload({ source: mark }))).json).toBe(1);
      // `choppa-lsp context restart`: the recorded context is destroyed and forgotten.
      daemon.emulator.loseContext(recorded);
      recorded = undefined;
      expect(expectValue(await daemon.backend.run(payload({ source: read }))).json).toBeNull();
      expect(expectValue(await server.backend.run(payload({ source: read }))).json).toBeNull();
      // The record lost (a `.choppa/` removed): the next run is a fresh interpreter, as the command says.
      expect(expectValue(await daemon.backend.run(payload({ source: mark }))).json).toBe(1);
      recorded = undefined;
      expect(expectValue(await daemon.backend.run(payload({ source: read }))).json).toBeNull();
    } finally {
      await server.cleanup();
      await daemon.cleanup();
    }
  });

  it('never starts a function a second time after its context died while starting it', async () => {
    // The kernel dies while the start command is under way, after the function's side effect: to
    // the backend that looks like a context that was already gone, but a new context must not run
    // the function again.
    await expectOne(harness);
    const marks = join(await mkdtemp(join(tmpdir(), 'choppa-once-')), 'marks.txt');
    const source = py('def f(marks):', "    with open(marks, 'a') as handle:", "        handle.write('ran\\n')", "    return 'done'");
    harness.emulator.dieAfterCommand(/_choppa_runner\.start\(/, 300);
    const messages: string[] = [];
    const error = expectError(
      await harness.backend.run(payload({ source, args_source: JSON.stringify(marks) }), { onProgress: (report) => messages.push(report.message) }),
    );
    expect(await readFile(marks, 'utf8')).toBe('ran\n');
    expect(error.origin).toBe('backend');
    expect(error.message).toContain('it may have partly run');
    expect(error.message).toContain('Fatal error: The Python kernel is unresponsive.');
    expect(messages.join('\n')).not.toContain('starting f again');
    await expectOne(harness);
  });

  it('falls back to commands/cancel when the runner cannot answer a cancel in time', async () => {
    const stuck = await makeHarness({ backend: { timing: { cancelGraceMs: 300 } } });
    try {
      await expectOne(stuck);
      const controller = new AbortController();
      // A catastrophic regex holds the GIL for seconds, so no runner command can answer.
      const running = stuck.backend.run(
        payload({ source: py('def f():', '    import re', "    return bool(re.match(r'(a+)+$', 'a' * 26 + 'b'))") }),
        { signal: controller.signal },
      );
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      expect((await running).status).toBe('cancelled');
      // Abort at 200 ms, 300 ms of grace, then at most a short wait for the cancel's answer.
      expect(Date.now() - started).toBeLessThan(2000);
      expect(stuck.emulator.stats.count('POST', '/api/1.2/commands/cancel')).toBeGreaterThanOrEqual(1);
      await expectOne(stuck);
    } finally {
      await stuck.cleanup();
    }
  });
});

describe('faults', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await makeHarness();
    await expectOne(harness);
  });
  afterAll(async () => {
    await harness?.cleanup();
  });
  afterEach(() => {
    harness.emulator.faults.clear();
  });

  const statuses = (status: number) => harness.emulator.stats.requests.filter((request) => request.status === status).length;

  it('waits out a 429 with Retry-After', async () => {
    const before = statuses(429);
    harness.emulator.faults.status({ method: 'POST', path: '/api/1.2/commands/execute' }, 429, { retryAfterSeconds: 1 });
    const started = Date.now();
    await expectOne(harness);
    expect(statuses(429) - before).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('rides out a burst of 503s', async () => {
    const before = statuses(503);
    harness.emulator.faults.status({ method: 'GET', path: '/api/1.2/commands/status' }, 503, { times: 3, retryAfterSeconds: 0 });
    await expectOne(harness);
    expect(statuses(503) - before).toBe(3);
  });

  it('retries connection resets on status checks and on commands/execute', async () => {
    harness.emulator.faults.reset({ method: 'GET', path: '/api/1.2/commands/status' }, 2);
    harness.emulator.faults.reset({ method: 'POST', path: '/api/1.2/commands/execute' }, 1);
    await expectOne(harness);
  });

  it('reports an HTML 500 as a readable backend error, and keeps serving', async () => {
    harness.emulator.faults.html500({ method: 'GET', path: '/api/1.2/commands/status' });
    const error = expectError(await harness.backend.run(trivial()));
    expect(error.origin).toBe('backend');
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain('Server Error');
    expect(error.message).toContain('try again');
    expect(error.message).not.toMatch(/<[a-z/]/i);
    await expectOne(harness);
  });

  it('cancels the run on the cluster when a check of a running command fails for good, and says so', async () => {
    const marker = `/Workspace/Shared/unit/${Date.now()}-still-running.txt`;
    const source = py('def f(path):', '    import time, os', '    time.sleep(2)', "    target = os.environ.get('CHOPPA_FS_ROOT', '') + path", "    open(target, 'w').write('ran on')", '    return 1');
    const run = harness.backend.run(payload({ source, args_source: JSON.stringify(marker) }));
    // Once the run is going, one status check answers the gateway's HTML 500 (not retried).
    await new Promise((resolve) => setTimeout(resolve, 300));
    harness.emulator.faults.html500({ method: 'GET', path: '/api/1.2/commands/status' }, 1);
    const error = expectError(await run);
    harness.emulator.faults.clear();
    expect(error.origin).toBe('backend');
    expect(error.message).toContain('HTTP 500');
    expect(error.message, harness.logs.join('\n')).toContain('The run was cancelled on cluster');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(existsSync(join(harness.emulator.fsRoot, marker))).toBe(false);
    await expectOne(harness);
  });

  it('reports a 401 as a credentials problem, and keeps serving', async () => {
    harness.emulator.faults.status({ method: 'POST', path: '/api/1.2/commands/execute' }, 401);
    const error = expectError(await harness.backend.run(trivial()));
    expect(error.origin).toBe('backend');
    expect(error.message).toContain('rejected the credentials');
    await expectOne(harness);
  });

  it('reports a cluster terminated mid-run, and works again once the cluster is started', async () => {
    const manual = await makeHarness({ backend: { autoStartCluster: false } });
    try {
      await expectOne(manual);
      const outcome = await manual.backend.run(
        payload({ source: py('def f():', '    import time', "    print('started', flush=True)", '    time.sleep(30)') }),
        {
          onOutput: (_stream, text) => {
            if (text.includes('started')) manual.emulator.terminateCluster(DEFAULT_CLUSTER_ID);
          },
        },
      );
      const error = expectError(outcome);
      expect(error.origin).toBe('backend');
      expect(error.message).toContain(`cluster ${DEFAULT_CLUSTER_ID} stopped while f was running (it is TERMINATED: Termination requested by`);
      expect(error.message).toContain('start the cluster (or set `choppa.autoStartCluster` to true) and run again');
      // Still terminated: the next run says so instead of trying.
      expect(expectError(await manual.backend.run(trivial())).message).toContain('is TERMINATED');
      await call(manual.emulator, 'POST', '/api/2.1/clusters/start', { cluster_id: DEFAULT_CLUSTER_ID });
      await poll(
        () => call(manual.emulator, 'GET', `/api/2.1/clusters/get?cluster_id=${DEFAULT_CLUSTER_ID}`),
        (answer) => answer.body.state === 'RUNNING',
      );
      await expectOne(manual);
    } finally {
      await manual.cleanup();
    }
  });

  it('starts the cluster again on the next run after it was terminated, with autoStartCluster', async () => {
    await expectOne(harness);
    harness.emulator.terminateCluster(DEFAULT_CLUSTER_ID);
    await expectOne(harness);
    expect(harness.emulator.stats.count('POST', '/api/2.1/clusters/start')).toBe(1);
  });
});
