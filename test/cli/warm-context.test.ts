// The CLI keeps one warm execution context per project and cluster across invocations: through
// its daemon the context stays open in the daemon between runs; without one (CHOPPA_DAEMON=0)
// the second `choppa-lsp run` reuses the context the first left recorded in .choppa/contexts.json
// (no new contexts/create). Either way a context that is gone meanwhile is replaced by exactly one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';

const OTHER_CLUSTER_ID = '0456-789012-other';
let emulator: Emulator;
let project: string;

beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'RUNNING' }, { cluster_id: OTHER_CLUSTER_ID, state: 'RUNNING' }] });
  project = tempDir();
  mkdirSync(join(project, '.git'));
  writeFileSync(join(project, 'jobs.py'), ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n'));
});
afterAll(async () => {
  await emulator.stop();
});

/** One CLI run, asynchronously (the emulator answers from this very process); `inProcess` without the daemon. */
async function run(args: string, inProcess = false): Promise<{ value?: { json?: unknown } }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const { stdout } = await promisify(execFile)(process.execPath, [SERVER_BIN, 'run', 'jobs.py:add', '--args', args, '--json'], {
    cwd: project,
    encoding: 'utf8',
    env: {
      ...clean,
      HOME: project,
      DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'),
      DATABRICKS_HOST: emulator.url,
      DATABRICKS_TOKEN: emulator.token,
      DATABRICKS_CLUSTER_ID: DEFAULT_CLUSTER_ID,
      ...(inProcess ? { CHOPPA_DAEMON: '0' } : {}),
    },
  });
  return JSON.parse(stdout) as { value?: { json?: unknown } };
}

/** One command in a context, straight over HTTP, waited for. */
async function command(contextId: string, text: string): Promise<void> {
  const headers = { authorization: `Bearer ${emulator.token}`, 'content-type': 'application/json' };
  const executed = await fetch(`${emulator.url}/api/1.2/commands/execute`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ clusterId: DEFAULT_CLUSTER_ID, contextId, language: 'python', command: text }),
  });
  const { id } = (await executed.json()) as { id: string };
  for (;;) {
    const query = new URLSearchParams({ clusterId: DEFAULT_CLUSTER_ID, contextId, commandId: id });
    const status = (await (await fetch(`${emulator.url}/api/1.2/commands/status?${query}`, { headers })).json()) as { status: string; results?: { resultType?: string } };
    if (status.status === 'Finished' && status.results?.resultType !== 'error') return;
    if (status.status !== 'Running' && status.status !== 'Queued') throw new Error(`the command ended ${JSON.stringify(status)}`);
  }
}

describe('the CLI and warm execution contexts', () => {
  it('reuses the context an earlier run left warm, and replaces one that is gone by exactly one (in-process)', async () => {
    expect((await run('1, 2', true)).value?.json).toBe(3);
    expect(emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(1);
    const before = emulator.stats.requests.length;
    expect((await run('2, 3', true)).value?.json).toBe(5);
    // The context already holds this runner: a warm run sends short commands only, not its 70 KB again.
    const executes = emulator.stats.requests.slice(before).filter((request) => request.path === '/api/1.2/commands/execute');
    expect(executes.length).toBeGreaterThan(0);
    expect(Math.max(...executes.map((request) => request.bytes))).toBeLessThan(10_000);
    // Nor is it asked which runner it holds first: the start checks that in the same command.
    expect(executes[0]!.command).toMatch(/^if getattr\(globals\(\).get\('_choppa_runner'\), 'build', None\) != '\d+-[0-9a-f]{16}': raise/);
    expect(executes.filter((request) => !/_choppa_runner\.(start|poll)\(/.test(request.command ?? '') && !request.command?.startsWith('if getattr'))).toEqual([]);
    // Before its start it asks for nothing but the recorded context, the cluster and the user folder.
    const warm = emulator.stats.requests.slice(before);
    const firstExecute = warm.findIndex((request) => request.path === '/api/1.2/commands/execute');
    expect(warm.slice(0, firstExecute).map((request) => request.path).sort()).toEqual(['/api/1.2/contexts/status', '/api/2.0/preview/scim/v2/Me', '/api/2.1/clusters/get']);
    expect((await run('3, 4', true)).value?.json).toBe(7);
    expect(emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(1);
    expect(emulator.stats.count('POST', '/api/1.2/contexts/destroy')).toBe(0);
    // Gone meanwhile (evicted, or restarted from another process): one new context.
    for (const id of emulator.contextIds()) emulator.evictContext(id);
    expect((await run('4, 5', true)).value?.json).toBe(9);
    expect(emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(2);
    expect((await run('5, 6', true)).value?.json).toBe(11);
    expect(emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(2);
  }, 60_000);

  it('through the daemon, a warm run sends the runner its commands and nothing else, and survives a context that is gone', async () => {
    const contexts = emulator.stats.count('POST', '/api/1.2/contexts/create');
    expect((await run('1, 2')).value?.json).toBe(3);
    // The daemon found the context the in-process runs left recorded.
    expect(emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(contexts);
    const before = emulator.stats.requests.length;
    expect((await run('2, 3')).value?.json).toBe(5);
    const warm = emulator.stats.requests.slice(before);
    expect(new Set(warm.map((request) => request.path))).toEqual(new Set(['/api/1.2/commands/execute', '/api/1.2/commands/status']));
    // (A command's first line: the start's is its runner-version check.)
    const commands = warm.filter((request) => request.path === '/api/1.2/commands/execute').map((request) => request.command ?? '');
    expect(commands.filter((command) => !/_choppa_runner\.(start|poll)\(/.test(command) && !command.startsWith('if getattr'))).toEqual([]);
    for (const id of emulator.contextIds()) emulator.evictContext(id);
    expect((await run('4, 5')).value?.json).toBe(9);
    expect(emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(contexts + 1);
    expect((await run('5, 6')).value?.json).toBe(11);
    expect(emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(contexts + 1);
  }, 60_000);

  it('sends the runner again to a warm context that holds another version of it', async () => {
    expect((await run('1, 1')).value?.json).toBe(2);
    const [contextId] = emulator.contextIds();
    // What an older choppa-lsp would have left there: a runner of another version.
    await command(contextId!, 'class _OldRunner:\n    version = 2\n_choppa_runner = _OldRunner()');
    expect((await run('20, 22')).value?.json).toBe(42);
    expect(emulator.contextIds()).toEqual([contextId]);
    // And one whose REPL lost it (a restarted interpreter keeps the context id): sent again too.
    await command(contextId!, 'del _choppa_runner');
    expect((await run('40, 2')).value?.json).toBe(42);
    expect(emulator.contextIds()).toEqual([contextId]);
  }, 60_000);
  it('through the daemon, a run follows the configuration as it is now: a profile edited between runs', async () => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
    const config = join(project, 'edited.cfg');
    const profile = (clusterId: string): void => writeFileSync(config, `[DEFAULT]\nhost = ${emulator.url}\ntoken = ${emulator.token}\ncluster_id = ${clusterId}\n`);
    const runOn = async (): Promise<string> => {
      const { stdout } = await promisify(execFile)(process.execPath, [SERVER_BIN, 'run', 'jobs.py:add', '--args', '1, 1', '--json'], {
        cwd: project,
        encoding: 'utf8',
        env: { ...clean, HOME: project, DATABRICKS_CONFIG_FILE: config },
      });
      return (JSON.parse(stdout) as { backend: string }).backend;
    };
    profile(DEFAULT_CLUSTER_ID);
    expect(await runOn()).toContain(DEFAULT_CLUSTER_ID);
    profile(OTHER_CLUSTER_ID);
    expect(await runOn()).toContain(OTHER_CLUSTER_ID);
    profile(DEFAULT_CLUSTER_ID);
    expect(await runOn()).toContain(DEFAULT_CLUSTER_ID);
  }, 60_000);
});
