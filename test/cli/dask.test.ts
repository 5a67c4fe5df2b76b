// The CLI on a real loopback Dask cluster, as a user runs it: `--backend dask --scheduler ...`
// for a value (output on stderr), an error exit at the document line, an artifact dereferenced
// by a later process, and a submitted job waited for by another process (the scheduler via
// DASK_SCHEDULER_ADDRESS).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';
import { DASK_PYTHON, LocalDaskCluster } from '../dask/harness.js';

const source = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa(artifact_dir="/Volumes/main/default/cli")',
  '',
  '@dutch.remote',
  'def add(a, b):',
  '    print("adding on dask")',
  '    return a + b',
  '',
  '@dutch.artifact',
  'def table(rows=3):',
  '    return list(range(rows))',
  '',
  '@dutch.remote',
  'def boom():',
  '    return {}["missing"]',
  '',
].join('\n');

let cluster: LocalDaskCluster;
let project: string;
let file: string;

/** Runs the CLI (asynchronously: the cluster lives in this process's children). */
function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_') && !key.startsWith('DASK_')));
  const child = spawn(process.execPath, [SERVER_BIN, ...args], {
    cwd: project,
    env: { ...clean, HOME: project, DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'), ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const dask = (...args: string[]) => cli({}, ...args, '--backend', 'dask', '--scheduler', cluster.address, '--dask-python', DASK_PYTHON);

beforeAll(async () => {
  cluster = await LocalDaskCluster.start();
  project = tempDir();
  mkdirSync(join(project, '.git'));
  file = join(project, 'jobs.py');
  writeFileSync(file, source);
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('choppa-lsp --backend dask', () => {
  it('runs a function on a worker and prints the result with the scheduler', async () => {
    const { code, stdout, stderr } = await dask('run', `${file}:add`, '--args', '1, 2');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(new RegExp(`^add\\(1, 2\\) → 3 · \\d+ ms · dask ${cluster.address.replace(/\./g, '\\.')}\\n$`));
    expect(stderr).toContain('adding on dask');
  });

  it('exits 1 with the document line when the function raises', async () => {
    const { code, stdout } = await dask('run', `${file}:boom`);
    expect(code).toBe(1);
    expect(stdout).toContain("error: KeyError: 'missing'");
    expect(stdout).toContain('jobs.py:16');
  });

  it('stores an artifact on the cluster that a later process dereferences, verified', async () => {
    const stored = await dask('artifact', `${file}:table`, '--args', '5', '--json');
    expect(stored.code, stored.stderr).toBe(0);
    const ref = (JSON.parse(stored.stdout) as { ref: { path: string; sha256: string } }).ref;
    expect(ref.path).toMatch(/^\/Volumes\/main\/default\/cli\/table-.+\.pkl$/);
    const deref = await dask('deref', ref.path, '--json');
    expect(deref.code, deref.stderr).toBe(0);
    const local = JSON.parse(deref.stdout) as { localPath: string; previewPath: string; sha256: string };
    expect(local.localPath.startsWith(join(project, '.choppa', 'artifacts'))).toBe(true);
    expect(createHash('sha256').update(readFileSync(local.localPath)).digest('hex')).toBe(ref.sha256);
    expect(readFileSync(local.previewPath, 'utf8')).toContain('[0, 1, 2, 3, 4]');
  });

  it('submits a job that another process waits for, the scheduler from DASK_SCHEDULER_ADDRESS', async () => {
    const env = { DASK_SCHEDULER_ADDRESS: cluster.address, CHOPPA_DASK_PYTHON: DASK_PYTHON };
    const submitted = await cli(env, 'submit', `${file}:table`, '--args', '6', '--json', '--backend', 'dask');
    expect(submitted.code, submitted.stderr).toBe(0);
    const handle = JSON.parse(submitted.stdout) as { status: string; id: string };
    expect(handle.status).toBe('submitted');
    const waited = await cli(env, 'wait', handle.id, '--backend', 'dask');
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toMatch(/^table → ArtifactRef .* \(list\) at \/Volumes\/main\/default\/cli\/table-/);
  });

  it('config says where runs go, and fails without a scheduler', async () => {
    const set = await dask('config');
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`choppa.backend is "dask": runs go to the Dask scheduler at ${cluster.address} (from choppa.dask.scheduler), through ${DASK_PYTHON}.\n`);
    const unset = await cli({}, 'config', '--backend', 'dask');
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('no Dask scheduler is set');
  });

  it('says the scheduler cannot be reached', async () => {
    const { code, stdout, stderr } = await cli({}, 'run', `${file}:add`, '--args', '1, 2', '--backend', 'dask', '--scheduler', 'tcp://127.0.0.1:1', '--dask-python', DASK_PYTHON);
    expect(code).toBe(1);
    expect(stdout + stderr).toContain('cannot reach the Dask scheduler at tcp://127.0.0.1:1');
  });
});
