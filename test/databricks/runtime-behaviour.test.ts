// How the Databricks backend copes with what real clusters do and our emulator used not to,
// over real HTTP: a context evicted between runs (answered 400, or 500) replaced by exactly one
// new context; a report cut by the output cap recovered by polling again; the cancel shape of
// the service (`Finished` + `CommandCancelledException`) read as cancelled; the report budget
// learnt from the cluster's runtime; heavy output through side files on every runtime and
// storage root.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProgressReport } from '../../server/src/backends/backend.js';
import { commandOutcome, executeCommand } from '../../server/src/backends/databricks/command-execution.js';
import { expectError, expectValue, payload, py, runRecording } from '../backends/contract.js';
import { DEFAULT_CLUSTER_ID } from '../emulator/emulator.js';
import { call, commandStatus, createContext, execute, poll } from '../emulator/support.js';
import { makeHarness, testClient, type Harness } from './harness.js';

const harnesses: Harness[] = [];
async function make(...args: Parameters<typeof makeHarness>): Promise<Harness> {
  const harness = await makeHarness(...args);
  harnesses.push(harness);
  return harness;
}
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((harness) => harness.cleanup()));
});

/**
 * Prints n numbered lines in blocks of 30,000 (300 KB, one write each): whatever the polls'
 * pace against the printing, each block waits whole, over every runtime's side-file threshold.
 */
const inBlocks = (letter: string): string =>
  py('def f(n):', '    for b in range(0, n, 30000):', `        print(''.join('%07d ${letter}\\n' % i for i in range(b, min(n, b + 30000))), end='')`, '    return n');

const creates = (harness: Harness) => harness.emulator.stats.count('POST', '/api/1.2/contexts/create');

describe.each([400, 500] as const)('a context evicted between runs, answered %i', (status) => {
  it('is replaced by exactly one new context, the run succeeds, and the progress says so', async () => {
    const harness = await make({ emulator: { maxContexts: 2, evictedContextStatus: status } });
    expect(expectValue(await harness.backend.run(payload({ source: py('def f():', '    return 1') }))).json).toBe(1);
    const ours = harness.emulator.contextIds();
    expect(ours).toHaveLength(1);
    // Other users of the shared cluster open contexts; ours, idle and least recently used, goes.
    await createContext(harness.emulator, DEFAULT_CLUSTER_ID);
    await createContext(harness.emulator, DEFAULT_CLUSTER_ID);
    expect(harness.emulator.contextIds()).not.toContain(ours[0]);
    const before = creates(harness);

    const messages: string[] = [];
    const outcome = await harness.backend.run(payload({ source: py('def f():', "    print('again')", '    return 2') }), {
      onProgress: (report: ProgressReport) => messages.push(report.message),
    });
    expect(expectValue(outcome).json).toBe(2);
    expect(outcome.stdout).toBe('again\n');
    expect(creates(harness)).toBe(before + 1);
    expect(messages.some((message) => message.includes('is gone') && message.includes('creating a new one'))).toBe(true);
    // And the new context stays: the next run creates none.
    expect(expectValue(await harness.backend.run(payload({ source: py('def f():', '    return 3') }))).json).toBe(3);
    expect(creates(harness)).toBe(before + 1);
  });
});

describe('the output cap', () => {
  it('recovers a report cut by a 50,000-character cap: polls again with a smaller budget and loses nothing', async () => {
    // A budget above the cap, as if the runtime were misread: the first big report is cut.
    const harness = await make({ emulator: { runtime: '16.4' }, backend: { reportBudget: 200_000 } });
    const { outcome, streamed } = await runRecording(
      harness.backend,
      payload({ source: py('def f(n):', '    for i in range(n):', "        print('%07d' % i)", '    return list(range(10000))'), args_source: '20000' }),
    );
    const expected = Array.from({ length: 20000 }, (_, i) => String(i).padStart(7, '0') + '\n').join('');
    expect(streamed.stdout).toBe(expected);
    expect(expectValue(outcome).json).toEqual(Array.from({ length: 10000 }, (_, i) => i));
    expect(harness.logs.some((line) => line.includes("cut by the cluster's output cap"))).toBe(true);
  });

  it('sends large reports to a DBR 17 cluster: 200,000 characters inline in a handful of polls, no side file', async () => {
    const harness = await make({ emulator: { runtime: '17' } });
    const { streamed } = await runRecording(
      harness.backend,
      payload({ source: py('def f():', "    print('x' * 200000)", '    return 1') }),
    );
    expect(streamed.stdout).toBe('x'.repeat(200_000) + '\n');
    // Under 16,000 characters a report it would take at least 13.
    expect(harness.emulator.stats.count('POST', '/api/1.2/commands/execute')).toBeLessThan(10);
    expect(harness.emulator.stats.count('GET', '/api/2.0/workspace/export')).toBe(0);
  });

  it('keeps DBR 16.4 reports under 16,000 characters', async () => {
    const harness = await make({ emulator: { runtime: '16.4' } });
    const { streamed } = await runRecording(harness.backend, payload({ source: py('def f():', "    print('x' * 60000)", '    return 1') }));
    expect(streamed.stdout.length).toBe(60_001);
    // 60 KB at most 16,000 characters a report: at least four reports (the start's and three polls'), and the install.
    expect(harness.emulator.stats.count('POST', '/api/1.2/commands/execute')).toBeGreaterThanOrEqual(5);
  });

  it.each(['16.4', '17'] as const)('brings heavy output on DBR %s through side files under the artifact dir, removed once read', async (runtime) => {
    const harness = await make({ emulator: { runtime } });
    const { outcome, streamed } = await runRecording(
      harness.backend,
      payload({ source: inBlocks('é'), args_source: '300000' }),
    );
    expect(expectValue(outcome).json).toBe(300000);
    expect(streamed.stdout).toBe(Array.from({ length: 300000 }, (_, i) => `${String(i).padStart(7, '0')} é\n`).join(''));
    expect(outcome.stdout.endsWith(`${String(299999).padStart(7, '0')} é\n`)).toBe(true);
    expect(harness.emulator.stats.count('GET', '/api/2.0/workspace/export')).toBeGreaterThanOrEqual(1);
    // 3 MB would be 190 reports of 16,000 characters.
    expect(harness.emulator.stats.count('POST', '/api/1.2/commands/execute')).toBeLessThan(60);
    const leftovers = await readdir(join(harness.emulator.fsRoot, 'Workspace/Shared/choppa-contract/.choppa/output'), { recursive: true }).catch(() => []);
    expect(leftovers.filter((name) => name.endsWith('.txt'))).toEqual([]);
  });

  it.each([
    { dir: 'dbfs:/tmp/choppa-heavy', read: '/api/2.0/dbfs/read' },
    { dir: '/Volumes/main/default/vol/choppa-heavy', read: /^\/api\/2\.0\/fs\/files\/Volumes\/main\/default\/vol\/choppa-heavy\/\.choppa\/output\// },
  ])('reads side files of output under $dir through its own API, whole', async ({ dir, read }) => {
    const harness = await make({ emulator: { runtime: '17' } });
    const { outcome, streamed } = await runRecording(
      harness.backend,
      payload({ artifact_dir: dir, source: inBlocks('ü'), args_source: '300000' }),
    );
    expect(expectValue(outcome).json).toBe(300000);
    expect(streamed.stdout).toBe(Array.from({ length: 300000 }, (_, i) => `${String(i).padStart(7, '0')} ü\n`).join(''));
    expect(harness.emulator.stats.count('GET', read)).toBeGreaterThanOrEqual(1);
  });

  it.each(['16.4', '17'] as const)('asks for the output inline when a side file cannot be read on DBR %s', async (runtime) => {
    const harness = await make({ emulator: { runtime } });
    harness.emulator.faults.status({ method: 'GET', path: '/api/2.0/workspace/export' }, 404, { times: 100 });
    // `start` may answer with a whole budget inline (a megabyte on 17): more than that waits after it.
    const size = runtime === '17' ? 1_500_000 : 300_000;
    const { streamed } = await runRecording(harness.backend, payload({ source: py('def f():', `    print('y' * ${size})`, '    return 1') }));
    expect(streamed.stdout).toBe('y'.repeat(size) + '\n');
    expect(harness.logs.some((line) => line.includes('could not read an output side file'))).toBe(true);
  });
});

describe('the real cancel shape', () => {
  it('reads Finished + CommandCancelledException as cancelled, with a readable message', async () => {
    const harness = await make();
    const { emulator } = harness;
    const contextId = await createContext(emulator, DEFAULT_CLUSTER_ID);
    const id = await execute(emulator, DEFAULT_CLUSTER_ID, contextId, 'import time\nfor _ in range(600): time.sleep(0.05)');
    await poll(() => commandStatus(emulator, DEFAULT_CLUSTER_ID, contextId, id), (answer) => answer.body.status === 'Running');
    await call(emulator, 'POST', '/api/1.2/commands/cancel', { clusterId: DEFAULT_CLUSTER_ID, contextId, commandId: id });
    const ended = await poll(() => commandStatus(emulator, DEFAULT_CLUSTER_ID, contextId, id), (answer) => !['Running', 'Cancelling'].includes(answer.body.status));
    expect(ended.body.status).toBe('Finished');
    expect(commandOutcome(ended.body.status, ended.body.results)).toEqual({ kind: 'cancelled', message: 'the command was cancelled' });
  });

  it('still reads a Cancelled status as cancelled', () => {
    expect(commandOutcome('Cancelled', undefined)).toEqual({ kind: 'cancelled', message: 'the command was cancelled' });
  });
});

// dbt-databricks (`api_client.py`, `_create_execution_context`) retries a context that ends
// `Error`: "ContextStatus.ERROR can occur when cluster is under heavy load".
describe('a busy cluster whose new contexts end Error', () => {
  it('creates another context, up to three, and the run succeeds', async () => {
    const harness = await make({ backend: { timing: { contextRetryMs: 10 } } });
    harness.emulator.failContextStarts(2);
    const messages: string[] = [];
    const outcome = await harness.backend.run(payload({ source: py('def f():', '    return 7') }), {
      onProgress: (report: ProgressReport) => messages.push(report.message),
    });
    expect(expectValue(outcome).json).toBe(7);
    expect(creates(harness)).toBe(3);
    // The two that ended Error were destroyed, not left on the cluster.
    expect(harness.emulator.stats.count('POST', '/api/1.2/contexts/destroy')).toBe(2);
    expect(messages.some((message) => message.includes('did not start (the cluster may be busy)') && message.includes('attempt 3 of 3'))).toBe(true);
  });

  it('says how often it tried once three contexts ended Error', async () => {
    const harness = await make({ backend: { timing: { contextRetryMs: 10 } } });
    harness.emulator.failContextStarts(3);
    const outcome = await harness.backend.run(payload({ source: py('def f():', '    return 7') }));
    expect(outcome.status).toBe('error');
    expect(outcome.status === 'error' ? outcome.error.message : '').toContain(`the execution context on cluster ${DEFAULT_CLUSTER_ID} did not start (Error 3 times)`);
    expect(creates(harness)).toBe(3);
  });
});

// A command whose driver went away ends `Error` with its message in `results.data`, where dbt
// reads it (dbt-databricks `api_client.py` `_extract_error_message`), not in a summary or cause.
describe('a command that ends Error', () => {
  it('says why, from results.data, instead of "failed without a message"', async () => {
    const harness = await make();
    const { emulator } = harness;
    const contextId = await createContext(emulator, DEFAULT_CLUSTER_ID);
    const client = testClient(emulator.url, emulator.token);
    const outcome = executeCommand(client, { clusterId: DEFAULT_CLUSTER_ID, contextId }, 'import time\ntime.sleep(30)', { schedule: { firstMs: 5, maxMs: 20, factor: 1.5 } });
    // A few status checks in, the command is running on the context.
    await poll(async () => emulator.stats.count('GET', '/api/1.2/commands/status'), (checks) => checks >= 4);
    emulator.terminateCluster(DEFAULT_CLUSTER_ID);
    const ended = await outcome;
    expect(ended).toMatchObject({ kind: 'ended', status: 'Error' });
    expect(ended.kind === 'ended' ? ended.message : '').toContain(`Cluster ${DEFAULT_CLUSTER_ID} was terminated while the command was running`);
  });
});

// A context shut down under a running command ends it with CommandCancelledException thrown from
// `ExecContextState.shutdown` (paiqo/Databricks-VSCode#132): the context is lost, not cancelled.
describe('a context destroyed under a running command', () => {
  it('reads as a lost context, not as a cancel', async () => {
    const harness = await make();
    const { emulator } = harness;
    const contextId = await createContext(emulator, DEFAULT_CLUSTER_ID);
    const client = testClient(emulator.url, emulator.token);
    const outcome = executeCommand(client, { clusterId: DEFAULT_CLUSTER_ID, contextId }, 'import time\ntime.sleep(30)', { schedule: { firstMs: 5, maxMs: 20, factor: 1.5 } });
    await poll(async () => emulator.stats.count('GET', '/api/1.2/commands/status'), (checks) => checks >= 4);
    // Another client (another window's `choppa.restartContext`, a notebook tool) destroys it.
    await call(emulator, 'POST', '/api/1.2/contexts/destroy', { clusterId: DEFAULT_CLUSTER_ID, contextId });
    expect(await outcome).toEqual({ kind: 'ended', status: 'Finished', message: 'the execution context was shut down (destroyed or restarted) while the command ran' });
  });
});

// A context evicted during a run: 1.2 answers its next command 500 "Context ExecutionContextId(<id>)
// is disconnected." (the kb.databricks.com wording; 1.2's 500s carry `{error}`, databrickslabs/dbx#261).
describe('a context evicted while a run goes on, answered 500', () => {
  it('says the context was lost, not that Databricks failed for a moment', async () => {
    const harness = await make({ emulator: { evictedContextStatus: 500 } });
    const outcome = await harness.backend.run(
      payload({ source: py('def f():', '    import time', "    print('started', flush=True)", '    time.sleep(20)') }),
      {
        onOutput: (_stream, text) => {
          if (text.includes('started')) harness.emulator.evictContext();
        },
      },
    );
    const error = expectError(outcome);
    expect(error.message).toContain(`the execution context on cluster ${DEFAULT_CLUSTER_ID} was lost while running f`);
    expect(error.message).toContain('is disconnected');
    expect(error.message).not.toContain('usually temporary');
  });
});
