// The server against a Databricks workspace (the emulator over loopback HTTP), configured the way
// users do it (DATABRICKS_* variables, a ~/.databrickscfg profile, editor settings): runs go to
// the cluster, configuration problems land on the Choppa(...) line saying where they looked, and
// the Choppa hover shows what was resolved without secrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const source = (clusterLine: string): string =>
  [
    'from choppa import Choppa',
    '',
    `dutch = Choppa(${clusterLine}artifact_dir="/Volumes/main/default/runs", result_size_max=1024)`,
    '',
    '@dutch.remote',
    'def add(a, b):',
    '    print("adding on the cluster")',
    '    return a + b',
    '',
    '@dutch.remote',
    'def big():',
    '    return list(range(5000))',
    '',
    '@dutch.remote',
    'def fails():',
    '    return 1 / 0',
    '',
  ].join('\n');

interface RunResult {
  status: string;
  value?: { json?: unknown };
  ref?: { path: string; sha256: string };
  error?: { type: string; message: string; line?: number };
  backend?: string;
}

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'TERMINATED' }], clusterStartDelayMs: 100 });
});
afterAll(async () => {
  await emulator.stop();
});

/** A server whose environment points at the emulator, as `export DATABRICKS_HOST=...` would. */
async function serverWith(env: NodeJS.ProcessEnv, configuration?: unknown): Promise<{ editor: EditorClient; root: string }> {
  const root = tempDir();
  const editor = await EditorClient.start({
    root,
    env: { DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg'), ...env },
    ...(configuration === undefined ? {} : { configuration }),
  });
  return { editor, root };
}

const configurationProblem = (all: Diagnostic[]): Diagnostic | undefined => all.find((d) => d.code === 'configuration');

describe('with a Databricks workspace configured', () => {
  it('runs on the cluster named in the code, starting it with progress, and shows the result', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token });
    try {
      const text = source(`cluster_id="${DEFAULT_CLUSTER_ID}", `);
      const uri = await editor.open(join(root, 'jobs.py'), text);
      const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'add', args: '2, 3' });
      expect(result).toMatchObject({ status: 'ok', value: { json: 5 }, backend: `cluster ${DEFAULT_CLUSTER_ID}` });
      const states = editor.progress.map((p) => (p.value as { message?: string }).message ?? '').join('\n');
      expect(states).toMatch(/PENDING|starting/i);
      const diagnostics = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result'));
      expect(diagnostics.find((d) => d.code === 'run-result')?.message).toMatch(/^add\(2, 3\) → 5 · .* · cluster 0123-456789-emulator$/);
      expect(configurationProblem(diagnostics)).toBeUndefined();
      // No "local backend" notice when a workspace is configured.
      expect(editor.messages.filter((m) => m.message.includes('local Python backend'))).toEqual([]);

      const failed = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'fails' });
      expect(failed.error).toMatchObject({ type: 'ZeroDivisionError', line: text.split('\n').indexOf('    return 1 / 0') });

      const ref = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'big' });
      expect(ref.ref?.path).toMatch(/^\/Volumes\/main\/default\/runs\/big-/);
      const local = await editor.executeCommand<{ sha256: string; localPath: string }>('choppa.dereference', { uri, function: 'big' });
      expect(local.sha256).toBe(ref.ref!.sha256);
      expect(local.localPath.startsWith(join(root, '.choppa', 'artifacts'))).toBe(true);
      expect(emulator.stats.count('POST', '/api/1.2/contexts/create')).toBe(1);

      const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'Choppa(') });
      const markdown = (hover.contents as { value: string }).value;
      expect(markdown).toContain(`runs go to: cluster ${DEFAULT_CLUSTER_ID}`);
      expect(markdown).toContain('DATABRICKS_HOST');
      expect(markdown).not.toContain(emulator.token);
    } finally {
      await editor.stop();
    }
  });

  it('takes the cluster from DATABRICKS_CLUSTER_ID when the code names none', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CLUSTER_ID: DEFAULT_CLUSTER_ID });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), source(''));
      const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'add', args: '1, 1' });
      expect(result.value?.json).toBe(2);
    } finally {
      await editor.stop();
    }
  });

  it('says on the Choppa line where it looked when no cluster is configured', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token });
    try {
      const text = source('');
      const uri = await editor.open(join(root, 'jobs.py'), text);
      const problem = configurationProblem(await editor.waitForDiagnostics(uri, (all) => configurationProblem(all) !== undefined))!;
      expect(problem.range.start.line).toBe(2);
      expect(problem.message).toContain('no cluster configured');
      expect(problem.message).toContain('DATABRICKS_CLUSTER_ID');
      expect(problem.message).toContain('Choppa(cluster_id=...)');
      const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'add', args: '1, 1' });
      expect(result.error).toMatchObject({ type: 'ConfigurationError' });
    } finally {
      await editor.stop();
    }
  });

  it('reports a missing profile with the SDK wording, and a cluster from the profile works', async () => {
    const home = tempDir();
    const cfg = join(home, '.databrickscfg');
    writeFileSync(cfg, `[DEFAULT]\nhost = ${emulator.url}\ntoken = ${emulator.token}\ncluster_id = ${DEFAULT_CLUSTER_ID}\n`, { mode: 0o600 });
    const missing = await serverWith({ DATABRICKS_CONFIG_FILE: cfg }, { profile: 'nope' });
    try {
      const uri = await missing.editor.open(join(missing.root, 'jobs.py'), source(''));
      const problem = configurationProblem(await missing.editor.waitForDiagnostics(uri, (all) => configurationProblem(all) !== undefined))!;
      expect(problem.message).toContain('resolve: ');
      expect(problem.message).toContain('has no nope profile configured');
      expect(problem.message).not.toContain(emulator.token);
    } finally {
      await missing.editor.stop();
    }
    const fromProfile = await serverWith({ DATABRICKS_CONFIG_FILE: cfg });
    try {
      const uri = await fromProfile.editor.open(join(fromProfile.root, 'jobs.py'), source(''));
      const result = await fromProfile.editor.executeCommand<RunResult>('choppa.run', { uri, function: 'add', args: '20, 22' });
      expect(result).toMatchObject({ status: 'ok', value: { json: 42 } });
    } finally {
      await fromProfile.editor.stop();
    }
  });

  it('keeps serving after a rejected token, with a message saying what to do', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: 'wrong-token', DATABRICKS_CLUSTER_ID: DEFAULT_CLUSTER_ID });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), source(''));
      const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'add', args: '1, 2' });
      expect(result.status).toBe('error');
      expect(result.error!.message).toMatch(/credentials|token/i);
      expect(result.error!.message).not.toContain('wrong-token');
      expect(result.error!.line).toBeUndefined();
      const lenses = await editor.request<unknown[]>('textDocument/codeLens', { textDocument: { uri } });
      expect(lenses.length).toBeGreaterThan(0);
    } finally {
      await editor.stop();
    }
  });
});

describe('where artifacts go when the code names no artifact_dir', () => {
  const noDir = ['from choppa import Choppa', '', `dutch = Choppa(cluster_id="${DEFAULT_CLUSTER_ID}")`, '', '@dutch.artifact', 'def table():', '    return [1, 2, 3]', ''].join('\n');

  it('is the current user\'s own folder, never a shared one, and the Choppa hover says so', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), noDir);
      const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'table' });
      expect(result.ref?.path).toMatch(/^\/Workspace\/Users\/emulator@example\.com\/\.choppa\/artifacts\/table-/);
      const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(noDir, 'Choppa(') });
      expect((hover.contents as { value: string }).value).toContain('artifacts go to: your own folder');
    } finally {
      await editor.stop();
    }
  });

  it('is the choppa.artifactDir setting when it names one', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token }, { artifactDir: '/Volumes/main/default/team' });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), noDir);
      const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'table' });
      expect(result.ref?.path).toMatch(/^\/Volumes\/main\/default\/team\/table-/);
    } finally {
      await editor.stop();
    }
  });

  it('refuses to run, saying why and what to set, when the user cannot be found', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token });
    try {
      emulator.faults.status({ method: 'GET', path: '/api/2.0/preview/scim/v2/Me' }, 404, { times: 5 });
      const uri = await editor.open(join(root, 'jobs.py'), noDir);
      const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'table' });
      expect(result.status).toBe('error');
      expect(result.error?.message).toContain('could not find your user folder for artifacts');
      expect(result.error?.message).toContain('choppa.artifactDir');
    } finally {
      emulator.faults.clear();
      await editor.stop();
    }
  });
});
