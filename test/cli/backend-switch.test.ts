// A project starts on the embedded local backend and is later pointed at a Databricks workspace
// (the README's path for a new user). What was computed locally stays shown as local, but it must
// not travel into a cluster run as if it were the cluster's data, nor be served by the cache as
// the cluster's result: the run refuses, naming where the result was made.
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

const SOURCE = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa()',
  '',
  '@dutch.artifact',
  'def produce(n):',
  '    return list(range(n))',
  '',
  '@dutch.remote',
  'def where(n):',
  '    return [n, "here"]',
  '',
  '@dutch.remote',
  'def medium(n):',
  '    return "x" * n',
  '',
  '@dutch.remote',
  'def consume(xs):',
  '    return xs',
  '',
  'big = produce(10)',
  'small = where(3)',
  'held = medium(100_000)',
  'consume(big)',
  'consume(small)',
  '',
].join('\n');

beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'RUNNING' }, { cluster_id: OTHER_CLUSTER_ID, state: 'RUNNING' }] });
  project = tempDir();
  mkdirSync(join(project, '.git'));
  writeFileSync(join(project, 'mix.py'), SOURCE);
});
afterAll(async () => {
  await emulator.stop();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** One CLI command, locally (no workspace configured) or on the emulator's workspace. */
async function cli(args: string[], on: 'local' | 'cluster' | 'other'): Promise<Outcome> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const env = {
    ...clean,
    HOME: project,
    DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'),
    ...(on !== 'local'
      ? { DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CLUSTER_ID: on === 'cluster' ? DEFAULT_CLUSTER_ID : OTHER_CLUSTER_ID }
      : {}),
  };
  return promisify(execFile)(process.execPath, [SERVER_BIN, ...args], { cwd: project, encoding: 'utf8', env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
}

describe('results made on one backend, then a run on another', () => {
  it('refuses to pass a locally made result (a ref or a small value) into a cluster run, and says where it was made', async () => {
    expect((await cli(['artifact', 'mix.py:produce', '--args', '10'], 'local')).code).toBe(0);
    expect((await cli(['run', 'mix.py:where', '--args', '3'], 'local')).code).toBe(0);
    // Locally, both chain as before.
    const local = await cli(['run', 'mix.py:consume', '--args', 'small', '--json'], 'local');
    expect(local.code).toBe(0);
    expect((JSON.parse(local.stdout) as { value: { json: unknown } }).value.json).toEqual([3, 'here']);

    for (const name of ['big', 'small']) {
      const onCluster = await cli(['run', 'mix.py:consume', '--args', name], 'cluster');
      expect(onCluster.code).toBe(1);
      expect(onCluster.stdout + onCluster.stderr).toMatch(new RegExp(`\`${name}\` is bound to .* made on local python[\\d.]*.*this run goes to cluster ${DEFAULT_CLUSTER_ID}`));
    }
  }, 60_000);

  it('does not serve a local result from the cache as the cluster result', async () => {
    const cached = await cli(['run', 'mix.py:where', '--args', '3', '--cache', '--json'], 'cluster');
    expect(cached.code).toBe(0);
    const record = JSON.parse(cached.stdout) as { backend: string; value: { json: unknown } };
    expect(record.backend).toBe(`cluster ${DEFAULT_CLUSTER_ID}`);
    // Made on the cluster, it now chains there.
    const chained = await cli(['run', 'mix.py:consume', '--args', 'small', '--json'], 'cluster');
    expect(chained.code).toBe(0);
    expect((JSON.parse(chained.stdout) as { value: { json: unknown } }).value.json).toEqual(record.value.json);
  }, 60_000);

  it('between two clusters of one workspace, passes artifacts and small values but not a value only one cluster holds, and caches per cluster', async () => {
    expect((await cli(['artifact', 'mix.py:produce', '--args', '10'], 'cluster')).code).toBe(0);
    expect((await cli(['run', 'mix.py:medium', '--args', '100_000'], 'cluster')).code).toBe(0);
    const fed = await cli(['run', 'mix.py:consume', '--args', 'big', '--json'], 'other');
    expect(fed.code).toBe(0);
    expect((JSON.parse(fed.stdout) as { value: { json: unknown } }).value.json).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await cli(['run', 'mix.py:consume', '--args', 'small'], 'other')).code).toBe(0);
    const held = await cli(['run', 'mix.py:consume', '--args', 'held'], 'other');
    expect(held.code).toBe(1);
    expect(held.stdout + held.stderr).toContain(`\`held\` is bound to \`medium(100_000) at line 23\`, whose result is held only by cluster ${DEFAULT_CLUSTER_ID}'s Python, and this run goes to cluster ${OTHER_CLUSTER_ID}`);
    const cached = await cli(['run', 'mix.py:where', '--args', '3', '--cache', '--json'], 'other');
    expect((JSON.parse(cached.stdout) as { backend: string; cached?: unknown }).backend).toBe(`cluster ${OTHER_CLUSTER_ID}`);
    expect((JSON.parse(cached.stdout) as { cached?: unknown }).cached).toBeUndefined();
  }, 60_000);

  it('dereferences an artifact from where it was made, and says so when that backend is not configured now', async () => {
    expect((await cli(['artifact', 'mix.py:produce', '--args', '10'], 'local')).code).toBe(0);
    const fromLocal = await cli(['deref', 'mix.py:produce'], 'cluster');
    expect(fromLocal.stderr).not.toContain('not found');
    expect(fromLocal.code).toBe(0);
    expect(fromLocal.stdout).toContain('(verified)');
    expect((await cli(['artifact', 'mix.py:produce', '--args', '10'], 'cluster')).code).toBe(0);
    const fromCluster = await cli(['deref', 'mix.py:produce'], 'local');
    expect(fromCluster.code).toBe(1);
    expect(fromCluster.stderr).toContain(`this artifact was made on Databricks cluster ${DEFAULT_CLUSTER_ID}, and no Databricks workspace is configured now`);
  }, 60_000);
});
