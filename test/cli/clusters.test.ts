// The cluster commands of the CLI against the emulator, spawned as a user runs them: `clusters`,
// `cluster start ID`, `jobs`, and `context restart` destroying the warm context a running
// language server holds for this project (its next run gets a fresh interpreter).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, SERVER_BIN, tempDir } from '../support/lsp-client.js';

const ALPHA = '0101-111111-alpha';
const GAMMA = '0103-333333-gamma';
const OTHER = '0105-555555-other';

let emulator: Emulator;
let project: string;

beforeAll(async () => {
  emulator = await startEmulator({
    clusters: [
      { cluster_id: GAMMA, cluster_name: 'gamma', state: 'TERMINATED', spark_version: '15.4.x-scala2.12' },
      { cluster_id: ALPHA, cluster_name: 'alpha', state: 'RUNNING', autoscale: { min_workers: 1, max_workers: 4 } },
      { cluster_id: OTHER, cluster_name: 'eps', state: 'RUNNING', single_user_name: 'someone.else@example.com' },
    ],
    clusterStartDelayMs: 300,
  });
  project = tempDir();
  mkdirSync(join(project, '.git'));
});
afterAll(async () => {
  await emulator.stop();
});

/** Runs the CLI asynchronously (the emulator answers from this process). */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return cliWith({}, ...args);
}

/** As `cli`, with `env` over the emulator's variables (an undefined value removes one). */
function cliWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
  const all = { ...clean, HOME: project, DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'), DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CLUSTER_ID: ALPHA, ...env };
  const child = spawn(process.execPath, [SERVER_BIN, ...args], {
    cwd: project,
    env: Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined)),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('choppa-lsp cluster commands', () => {
  it('lists clusters running first, with runtime, Python and size; JSON too', async () => {
    const text = await cli('clusters');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines.map((line) => line.split('  ')[1])).toEqual(['alpha', 'eps', 'gamma']);
    expect(lines[0]).toContain('autoscale 1–4 workers');
    expect(lines[1]).toContain('(you may not attach)');
    expect(lines[2]).toContain('TERMINATED  15.4.x-scala2.12 (Python 3.11)');
    const json = await cli('clusters', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ userName: 'emulator@example.com', clusters: [{ cluster_id: ALPHA }, { cluster_id: OTHER }, { cluster_id: GAMMA }] });
  });

  it('starts a cluster and waits until it runs, printing its states', async () => {
    const started = await cli('cluster', 'start', GAMMA);
    expect(started.code).toBe(0);
    expect(started.stdout).toBe(`cluster ${GAMMA} is RUNNING\n`);
    expect(started.stderr).toContain('PENDING');
    expect((await cli('cluster', 'start')).code).toBe(2);
    const unknown = await cli('cluster', 'start', '0000-nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('does not exist');
  });

  it('lists only the job runs choppa submitted', async () => {
    for (const runName of ['choppa load 1a2b', 'someone else']) {
      await fetch(`${emulator.url}/api/2.2/jobs/runs/submit`, {
        method: 'POST',
        headers: { authorization: `Bearer ${emulator.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ run_name: runName, tasks: [{ task_key: 't', existing_cluster_id: ALPHA, spark_python_task: { python_file: '/Workspace/x.py' } }] }),
      });
    }
    const jobs = await cli('jobs', '--json');
    expect(jobs.code).toBe(0);
    const runs = JSON.parse(jobs.stdout) as Array<{ function: string; runName: string }>;
    expect(runs.map((run) => run.runName)).toEqual(['choppa load 1a2b']);
  });

  it('serves from the cache only results of where the run goes: a laptop result is not a cluster result', async () => {
    writeFileSync(join(project, 'where.py'), ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'def where():', '    import os', "    return str(os.getpid())", ''].join('\n'));
    const local = await cli('run', 'where.py:where', '--local', '--cache', '--json');
    expect(local.code, local.stderr).toBe(0);
    expect(JSON.parse(local.stdout)).toMatchObject({ backend: expect.stringMatching(/^local python/) });
    const cluster = await cli('run', 'where.py:where', '--cache', '--json');
    expect(cluster.code, cluster.stderr).toBe(0);
    const result = JSON.parse(cluster.stdout) as { backend: string; cached?: boolean };
    expect(result.backend).toBe(`cluster ${ALPHA}`);
    expect(result.cached).toBeUndefined();
    // On the cluster again, the cluster's result is served.
    expect(JSON.parse((await cli('run', 'where.py:where', '--cache', '--json')).stdout)).toMatchObject({ backend: `cluster ${ALPHA}`, cached: true });
  });

  it('says in one warning line that --cluster-id goes unused when the code names another cluster, and where', async () => {
    writeFileSync(join(project, 'pinned.py'), ['from choppa import Choppa', `dutch = Choppa(cluster_id="${ALPHA}")`, '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n'));
    const overridden = await cli('run', 'pinned.py:add', '--args', '1, 2', '--cluster-id', OTHER);
    expect(overridden.code, overridden.stderr).toBe(0);
    expect(overridden.stdout).toMatch(new RegExp(`^add\\(1, 2\\) → 3 · .* · cluster ${ALPHA}\n$`));
    const warnings = overridden.stderr.split('\n').filter((line) => line.includes('--cluster-id'));
    expect(warnings).toEqual([`warning: --cluster-id ${OTHER} is not used: Choppa(cluster_id="${ALPHA}") at pinned.py:2 names the cluster, and the code's cluster_id wins over the flag`]);
    const same = await cli('run', 'pinned.py:add', '--args', '1, 2', '--cluster-id', ALPHA);
    expect(same.code).toBe(0);
    expect(same.stderr).not.toContain('warning');
  });

  it('names the config file DATABRICKS_CONFIG_FILE points to, not ~/.databrickscfg, when a cluster or the token is refused', async () => {
    const config = join(project, 'team.databrickscfg');
    writeFileSync(config, `[DEFAULT]\nhost = ${emulator.url}\ntoken = ${emulator.token}\n`);
    writeFileSync(join(project, 'gone.py'), ['from choppa import Choppa', 'dutch = Choppa(cluster_id="0000-000000-gone")', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n'));
    const fromFile = { DATABRICKS_CONFIG_FILE: config, DATABRICKS_HOST: undefined, DATABRICKS_TOKEN: undefined, DATABRICKS_CLUSTER_ID: undefined };
    const missing = await cliWith(fromFile, 'run', 'gone.py:add', '--args', '1, 2');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`DATABRICKS_CLUSTER_ID or cluster_id in ${config})`);
    expect(missing.stdout).not.toContain('~/.databrickscfg');
    writeFileSync(config, `[DEFAULT]\nhost = ${emulator.url}\ntoken = not-the-token\n`);
    const refused = await cliWith(fromFile, 'clusters');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`rejected the credentials while listing clusters`);
    expect(refused.stderr).toContain(`(choppa settings, DATABRICKS_TOKEN or ${config})`);
    expect(refused.stderr).not.toContain('~/.databrickscfg');
  });

  it('says a wrong token was refused, not that the user folder for artifacts could not be found', async () => {
    writeFileSync(join(project, 'mine.py'), ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n'));
    const refused = await cliWith({ DATABRICKS_TOKEN: 'dapi-not-the-token', CHOPPA_DAEMON: '0' }, 'run', 'mine.py:add', '--args', '1, 2');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('rejected the credentials while looking up your user folder for artifacts');
    expect(refused.stdout).not.toContain('could not find your user folder');
    expect(refused.stdout + refused.stderr).not.toContain('dapi-not-the-token');
  });

  it('says at once that an unreachable host is being retried, and stops a run on Ctrl-C while it is', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
    const env = { ...clean, HOME: project, DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'), DATABRICKS_HOST: `http://127.0.0.1:${closed}`, DATABRICKS_TOKEN: 'dapi-unused', DATABRICKS_CLUSTER_ID: ALPHA };
    writeFileSync(join(project, 'mine.py'), ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n'));
    for (const args of [['clusters'], ['run', 'mine.py:add', '--args', '1, 2']]) {
      const child = spawn(process.execPath, [SERVER_BIN, ...args], { cwd: project, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const noticed = new Promise<number>((resolve) => {
        const started = Date.now();
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('trying again (attempt 2')) resolve(Date.now() - started);
        });
      });
      expect(await noticed, args[0]).toBeLessThan(5000);
      expect(stderr).toContain(`Databricks at http://127.0.0.1:${closed}: `);
      expect(stderr).toContain('connection refused');
      const interrupted = Date.now();
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(Date.now() - interrupted, args[0]).toBeLessThan(5000);
      if (args[0] === 'run') {
        expect(code).toBe(130);
        expect(stdout).toContain('add: cancelled');
      }
    }
  });

  it('context restart destroys the warm context the language server holds; its next run is fresh', async () => {
    const editor = await EditorClient.start({
      root: project,
      env: { DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'), DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token },
    });
    try {
      const text = [
        'from choppa import Choppa',
        '',
        `dutch = Choppa(cluster_id="${ALPHA}", artifact_dir="/Volumes/main/default/runs")`,
        '',
        '@dutch.remote',
        'def counter():',
        '    import builtins',
        '    builtins._choppa_cli_count = getattr(builtins, "_choppa_cli_count", 0) + 1',
        '    return builtins._choppa_cli_count',
        '',
      ].join('\n');
      const uri = await editor.open(join(project, 'jobs.py'), text);
      const run = () => editor.executeCommand<{ value?: { json?: unknown } }>('choppa.run', { uri, function: 'counter' });
      expect((await run()).value?.json).toBe(1);
      expect((await run()).value?.json).toBe(2);
      expect(existsSync(join(project, '.choppa', 'contexts.json'))).toBe(true);
      const restart = await cli('context', 'restart');
      expect(restart.code).toBe(0);
      expect(restart.stdout).toMatch(new RegExp(`destroyed execution context \\S+ on cluster ${ALPHA}`));
      expect((await run()).value?.json).toBe(1);
      const nothing = await cli('context', 'restart', GAMMA);
      expect(nothing.stdout).toContain('no warm execution context');
    } finally {
      await editor.stop();
    }
  });
});
