// The cluster in the editor (issue 11) against the emulator with clusters in several states and
// one the token's user may not attach to: completion of cluster ids and artifact_dir folders,
// hover on the id, diagnostics before any run, the Choppa line's code actions and the cluster
// commands, and one `clusters/list` per workspace per 30 s however many files are open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction, CompletionList, Diagnostic, Hover, TextEdit } from 'vscode-languageserver-protocol';
import { startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const ALPHA = '0101-111111-alpha';
const BETA = '0102-222222-beta';
const GAMMA = '0103-333333-gamma';
const DELTA = '0104-444444-delta';
const OTHER = '0105-555555-other';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({
    clusters: [
      { cluster_id: GAMMA, cluster_name: 'gamma', state: 'TERMINATED' },
      { cluster_id: BETA, cluster_name: 'beta', state: 'RUNNING', spark_version: '13.3.x-scala2.12', num_workers: 2 },
      { cluster_id: DELTA, cluster_name: 'delta', state: 'PENDING' },
      { cluster_id: OTHER, cluster_name: 'eps', state: 'RUNNING', single_user_name: 'someone.else@example.com' },
      {
        cluster_id: ALPHA,
        cluster_name: 'alpha',
        state: 'RUNNING',
        spark_version: '16.4.x-scala2.12',
        node_type_id: 'i3.2xlarge',
        autoscale: { min_workers: 2, max_workers: 8 },
        autotermination_minutes: 60,
      },
    ],
    clusterStartDelayMs: 300,
  });
  for (const dir of ['Volumes/main/default/runs/daily', 'Volumes/main/bronze/landing', 'Workspace/Shared/choppa']) mkdirSync(join(emulator.fsRoot, dir), { recursive: true });
});
afterAll(async () => {
  await emulator.stop();
});

async function serverWith(env: NodeJS.ProcessEnv = {}, configuration?: unknown): Promise<{ editor: EditorClient; root: string }> {
  const root = tempDir();
  const editor = await EditorClient.start({
    root,
    env: { DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg'), DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, ...env },
    ...(configuration === undefined ? {} : { configuration }),
  });
  return { editor, root };
}

const program = (choppaArgs: string): string =>
  ['from choppa import Choppa', '', `dutch = Choppa(${choppaArgs})`, '', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n');

function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }): number => lines.slice(0, p.line).reduce((sum, line) => sum + line.length + 1, 0) + p.character;
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let result = text;
  for (const edit of sorted) result = result.slice(0, offset(edit.range.start)) + edit.newText + result.slice(offset(edit.range.end));
  return result;
}

const listCalls = (): number => emulator.stats.count('GET', '/api/2.1/clusters/list');

describe('cluster completion, hover and the list cache', () => {
  it('completes cluster ids running first with name, state, runtime and Python, and inserts the id', async () => {
    const { editor, root } = await serverWith();
    try {
      const text = program('cluster_id="", artifact_dir="/Volumes/main/default/runs"');
      const uri = await editor.open(join(root, 'jobs.py'), text);
      const inside = positionOf(text, 'cluster_id="', 'cluster_id="'.length);
      const list = await editor.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: inside, context: { triggerKind: 2, triggerCharacter: '"' } });
      expect(list.items.map((item) => item.label)).toEqual(['alpha', 'beta', 'eps', 'delta', 'gamma']);
      const alpha = list.items[0]!;
      expect(alpha.detail).toContain('RUNNING');
      expect(alpha.detail).toContain('DBR 16.4');
      expect(alpha.detail).toContain('Python 3.12');
      expect(list.items[1]!.detail).toContain('Python 3.10');
      expect(list.items[2]!.detail).toContain('you may not attach');
      expect(list.items[4]!.labelDetails?.description).toBe('TERMINATED');
      const edit = alpha.textEdit as TextEdit;
      expect(applyEdits(text, [edit])).toContain(`Choppa(cluster_id="${ALPHA}", artifact_dir=`);
      // Outside the quotes, or outside a Choppa call, nothing is offered.
      const outside = await editor.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: { line: 5, character: 4 } });
      expect(outside.items).toEqual([]);
    } finally {
      await editor.stop();
    }
  });

  it('completes artifact_dir folders one level at a time under /Volumes and /Workspace', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_CLUSTER_ID: ALPHA });
    try {
      const complete = async (typed: string): Promise<{ labels: string[]; text: string; result: string }> => {
        const text = program(`artifact_dir="${typed}"`);
        const uri = await editor.open(join(root, `p${Math.random().toString(36).slice(2)}.py`), text);
        const position = positionOf(text, `artifact_dir="${typed}`, `artifact_dir="${typed}`.length);
        const list = await editor.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position });
        const first = list.items[0];
        return { labels: list.items.map((item) => item.label), text, result: first ? applyEdits(text, [first.textEdit as TextEdit]) : text };
      };
      expect((await complete('')).labels).toEqual(['/Volumes/', '/Workspace/']);
      expect((await complete('/Vol')).result).toContain('artifact_dir="/Volumes/"');
      expect((await complete('/Volumes/')).labels).toEqual(['main/']);
      expect((await complete('/Volumes/main/')).labels).toEqual(['bronze/', 'default/']);
      const volumes = await complete('/Volumes/main/default/');
      expect(volumes.labels).toEqual(['runs/']);
      expect(volumes.result).toContain('artifact_dir="/Volumes/main/default/runs/"');
      expect((await complete('/Volumes/main/default/runs/')).labels).toEqual(['daily/']);
      expect((await complete('/Workspace/')).labels).toEqual(['Shared/', 'Users/']);
      expect((await complete('/Workspace/Shared/ch')).result).toContain('artifact_dir="/Workspace/Shared/choppa/"');
    } finally {
      await editor.stop();
    }
  });

  it('hovers the cluster id with name, state, runtime and Python, nodes, workers, auto-termination and the page', async () => {
    const { editor, root } = await serverWith();
    try {
      const text = program(`cluster_id="${ALPHA}"`);
      const uri = await editor.open(join(root, 'jobs.py'), text);
      const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, ALPHA, 3) });
      const value = (hover.contents as { value: string }).value;
      expect(value).toContain('cluster alpha');
      expect(value).toContain('state: RUNNING');
      expect(value).toContain('16.4.x-scala2.12 (Python 3.12)');
      expect(value).toContain('i3.2xlarge, autoscale 2–8 workers');
      expect(value).toContain('terminates after 60 min idle');
      expect(value).toContain(`${emulator.url}/#setting/clusters/${ALPHA}/configuration`);
      const gammaText = program(`cluster_id="${GAMMA}"`);
      const gammaUri = await editor.open(join(root, 'gamma.py'), gammaText);
      const gamma = await editor.request<Hover>('textDocument/hover', { textDocument: { uri: gammaUri }, position: positionOf(gammaText, GAMMA, 2) });
      expect((gamma.contents as { value: string }).value).toContain('state: TERMINATED: Inactive cluster terminated');
      // Elsewhere on the Choppa line, the instance hover stays.
      const instance = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'Choppa(') });
      expect((instance.contents as { value: string }).value).toContain('runs go to');
    } finally {
      await editor.stop();
    }
  });

  it('calls clusters/list once per workspace however many files ask within 30 s', async () => {
    const { editor, root } = await serverWith();
    const before = listCalls();
    try {
      for (let i = 0; i < 6; i++) {
        const text = program(`cluster_id="${i % 2 ? ALPHA : GAMMA}"`);
        const uri = await editor.open(join(root, `f${i}.py`), text);
        await editor.request('textDocument/completion', { textDocument: { uri }, position: positionOf(text, 'cluster_id="', 'cluster_id="'.length) });
        await editor.request('textDocument/hover', { textDocument: { uri }, position: positionOf(text, '"', 3) });
        await editor.request('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, context: { diagnostics: [] } });
      }
      await editor.waitForDiagnostics(editor.uri(join(root, 'f0.py')), (all) => all.some((d) => d.code === 'cluster-terminated'));
      expect(listCalls() - before).toBe(1);
    } finally {
      await editor.stop();
    }
  });
});

describe('cluster diagnostics before any run', () => {
  const file = [
    'from choppa import Choppa',
    '',
    'a = Choppa(cluster_id="0199-000000-nope")',
    `b = Choppa(cluster_id="${OTHER}")`,
    `c = Choppa(cluster_id="${GAMMA}")`,
    `d = Choppa(cluster_id="${BETA}")`,
    `e = Choppa(cluster_id="${ALPHA}")`,
    '',
  ].join('\n');
  const clusterCodes = (all: Diagnostic[]): Diagnostic[] => all.filter((d) => typeof d.code === 'string' && d.code.startsWith('cluster-'));

  it('marks an unknown id, a cluster one may not attach to, a terminated one and an older Python', async () => {
    const { editor, root } = await serverWith();
    try {
      const uri = await editor.open(join(root, 'many.py'), file);
      const all = clusterCodes(await editor.waitForDiagnostics(uri, (d) => clusterCodes(d).length >= 4 && d.some((x) => x.code === 'cluster-python-older')));
      const on = (line: number) => all.filter((d) => d.range.start.line === line).map((d) => [d.code, d.severity]);
      expect(on(2)).toEqual([['cluster-unknown', 1]]);
      expect(on(3)).toEqual([['cluster-not-attachable', 1]]);
      expect(on(4)).toEqual([['cluster-terminated', 3]]);
      expect(on(5)).toEqual([['cluster-python-older', 2]]);
      expect(on(6)).toEqual([]);
      const unknown = all.find((d) => d.code === 'cluster-unknown')!;
      // The squiggle sits on the id inside the quotes.
      expect(unknown.range).toEqual({ start: { line: 2, character: 23 }, end: { line: 2, character: 23 + '0199-000000-nope'.length } });
      expect(all.find((d) => d.code === 'cluster-not-attachable')!.message).toContain('someone.else@example.com');
      expect(all.find((d) => d.code === 'cluster-python-older')!.message).toMatch(/Python 3\.10 .* older than the local Python 3\.\d+/);

      // Editing the line to a good id clears its problem at once (from the cached list).
      const before = listCalls();
      await editor.change(uri, { start: { line: 2, character: 23 }, end: { line: 2, character: 23 + '0199-000000-nope'.length } }, ALPHA);
      await editor.waitForDiagnostics(uri, (d) => !d.some((x) => x.code === 'cluster-unknown'));
      expect(listCalls()).toBe(before);
    } finally {
      await editor.stop();
    }
  });

  it('makes a terminated cluster a Warning when choppa.autoStartCluster is off', async () => {
    const { editor, root } = await serverWith({}, { autoStartCluster: false });
    try {
      const uri = await editor.open(join(root, 'many.py'), file);
      const all = await editor.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'cluster-terminated'));
      const terminated = all.find((d) => d.code === 'cluster-terminated')!;
      expect(terminated.severity).toBe(2);
      expect(terminated.message).toContain('Start cluster');
    } finally {
      await editor.stop();
    }
  });

  it('follows a cluster that changes state, on the refresh timer while the file is open', async () => {
    const refreshed = await startEmulator({ clusters: [{ cluster_id: ALPHA, cluster_name: 'alpha', state: 'RUNNING' }] });
    const root = tempDir();
    const editor = await EditorClient.start({
      root,
      env: { DATABRICKS_CONFIG_FILE: join(root, 'none'), DATABRICKS_HOST: refreshed.url, DATABRICKS_TOKEN: refreshed.token, CHOPPA_CLUSTER_LIST_TTL_MS: '400' },
    });
    try {
      const uri = await editor.open(join(root, 'a.py'), program(`cluster_id="${ALPHA}"`));
      await editor.open(join(root, 'b.py'), program(`cluster_id="${ALPHA}"`));
      await editor.open(join(root, 'c.py'), program(`cluster_id="${ALPHA}"`));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = Date.now();
      const calls = refreshed.stats.count('GET', '/api/2.1/clusters/list');
      refreshed.terminateCluster(ALPHA);
      await editor.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'cluster-terminated'));
      await new Promise((resolve) => setTimeout(resolve, 800));
      const elapsed = Date.now() - started;
      // One list per TTL for the three files together, not one per file.
      expect(refreshed.stats.count('GET', '/api/2.1/clusters/list') - calls).toBeLessThanOrEqual(Math.ceil(elapsed / 400) + 1);
    } finally {
      await editor.stop();
      await refreshed.stop();
    }
  });
});

describe('cluster code actions and commands', () => {
  const actionsAt = async (editor: EditorClient, uri: string, line: number): Promise<CodeAction[]> =>
    editor.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: { line, character: 0 }, end: { line, character: 0 } }, context: { diagnostics: [] } });

  it('offers Start, Restart context, Open page and Use cluster per running attachable cluster; Use cluster replaces the id', async () => {
    const { editor, root } = await serverWith();
    try {
      const text = program(`cluster_id="${GAMMA}", artifact_dir="/Volumes/main/default/runs"`);
      const uri = await editor.open(join(root, 'jobs.py'), text);
      const actions = await actionsAt(editor, uri, 2);
      const titles = actions.map((action) => action.title);
      expect(titles).toEqual(['Start cluster gamma', 'Restart execution context on gamma', 'Open cluster page of gamma', 'Use cluster alpha', 'Use cluster beta']);
      expect(actions[0]!.command).toMatchObject({ command: 'choppa.startCluster', arguments: [{ clusterId: GAMMA, uri }] });
      const use = actions.find((action) => action.title === 'Use cluster alpha')!;
      const edited = applyEdits(text, use.edit!.changes![uri]!);
      expect(edited.split('\n')[2]).toBe(`dutch = Choppa(cluster_id="${ALPHA}", artifact_dir="/Volumes/main/default/runs")`);
      // Not on the Choppa line: no cluster actions.
      expect((await actionsAt(editor, uri, 6)).some((action) => action.title.startsWith('Use cluster'))).toBe(false);
    } finally {
      await editor.stop();
    }
  });

  it('"Use cluster" adds cluster_id= when the code names none (the cluster came from the environment)', async () => {
    const { editor, root } = await serverWith({ DATABRICKS_CLUSTER_ID: BETA });
    try {
      const text = program('artifact_dir="/Volumes/main/default/runs"');
      const uri = await editor.open(join(root, 'jobs.py'), text);
      const actions = await actionsAt(editor, uri, 2);
      expect(actions.map((action) => action.title)).toContain('Restart execution context on beta');
      const use = actions.find((action) => action.title === 'Use cluster alpha')!;
      expect(applyEdits(text, use.edit!.changes![uri]!).split('\n')[2]).toBe(`dutch = Choppa(cluster_id="${ALPHA}", artifact_dir="/Volumes/main/default/runs")`);
      const bare = program('');
      const bareUri = await editor.open(join(root, 'bare.py'), bare);
      const bareUse = (await actionsAt(editor, bareUri, 2)).find((action) => action.title === 'Use cluster alpha')!;
      expect(applyEdits(bare, bareUse.edit!.changes![bareUri]!).split('\n')[2]).toBe(`dutch = Choppa(cluster_id="${ALPHA}")`);
    } finally {
      await editor.stop();
    }
  });

  it('starts a terminated cluster with progress until RUNNING, and its diagnostic goes', async () => {
    const started = await startEmulator({ clusters: [{ cluster_id: GAMMA, cluster_name: 'gamma', state: 'TERMINATED' }], clusterStartDelayMs: 400 });
    const root = tempDir();
    const editor = await EditorClient.start({ root, env: { DATABRICKS_CONFIG_FILE: join(root, 'none'), DATABRICKS_HOST: started.url, DATABRICKS_TOKEN: started.token } });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), program(`cluster_id="${GAMMA}"`));
      await editor.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'cluster-terminated'));
      const result = await editor.executeCommand<{ clusterId: string; state: string }>('choppa.startCluster', { clusterId: GAMMA, uri });
      expect(result).toEqual({ clusterId: GAMMA, state: 'RUNNING' });
      const messages = editor.progress.map((p) => (p.value as { message?: string; title?: string }).message ?? (p.value as { title?: string }).title ?? '').join('\n');
      expect(messages).toContain(`Starting cluster ${GAMMA}`);
      expect(messages).toMatch(/PENDING/);
      expect(started.stats.count('POST', '/api/2.1/clusters/start')).toBe(1);
      await editor.waitForDiagnostics(uri, (d) => !d.some((x) => x.code === 'cluster-terminated'));
    } finally {
      await editor.stop();
      await started.stop();
    }
  });

  it('restarts the warm execution context: the next run gets a fresh interpreter', async () => {
    const { editor, root } = await serverWith();
    try {
      const text = [
        'from choppa import Choppa',
        '',
        `dutch = Choppa(cluster_id="${ALPHA}", artifact_dir="/Volumes/main/default/runs")`,
        '',
        '@dutch.remote',
        'def counter():',
        '    import builtins',
        '    builtins._choppa_test_count = getattr(builtins, "_choppa_test_count", 0) + 1',
        '    return builtins._choppa_test_count',
        '',
      ].join('\n');
      const uri = await editor.open(join(root, 'jobs.py'), text);
      const run = () => editor.executeCommand<{ status: string; value?: { json?: unknown } }>('choppa.run', { uri, function: 'counter' });
      expect((await run()).value?.json).toBe(1);
      expect((await run()).value?.json).toBe(2);
      const destroyed = emulator.stats.count('POST', '/api/1.2/contexts/destroy');
      const restart = await editor.executeCommand<{ restarted: boolean; clusterId: string }>('choppa.restartContext', { uri });
      expect(restart).toMatchObject({ restarted: true, clusterId: ALPHA });
      expect(emulator.stats.count('POST', '/api/1.2/contexts/destroy')).toBe(destroyed + 1);
      expect((await run()).value?.json).toBe(1);
      const again = await editor.executeCommand<{ restarted: boolean }>('choppa.restartContext', { clusterId: BETA });
      expect(again.restarted).toBe(false);
    } finally {
      await editor.stop();
    }
  });

  it('lists clusters as JSON, opens the cluster page externally, and lists the project\'s job runs', async () => {
    const { editor, root } = await serverWith();
    try {
      const uri = await editor.open(join(root, 'jobs.py'), program(`cluster_id="${ALPHA}"`));
      const listed = await editor.executeCommand<{ host: string; userName: string; clusters: Array<Record<string, unknown>> }>('choppa.clusters', { uri });
      expect(listed.userName).toBe('emulator@example.com');
      expect(listed.clusters.map((c) => c['name'])).toEqual(['alpha', 'beta', 'eps', 'delta', 'gamma']);
      expect(listed.clusters[0]).toMatchObject({ clusterId: ALPHA, state: 'RUNNING', python: '3.12', nodeType: 'i3.2xlarge', autoscale: { minWorkers: 2, maxWorkers: 8 }, autoterminationMinutes: 60, attachable: true });
      expect(listed.clusters.find((c) => c['clusterId'] === OTHER)).toMatchObject({ attachable: false });
      expect(listed.clusters.find((c) => c['clusterId'] === BETA)).toMatchObject({ numWorkers: 2, python: '3.10' });

      const page = await editor.executeCommand<{ url: string; opened: boolean }>('choppa.openClusterPage', { clusterId: ALPHA, uri });
      expect(page).toEqual({ url: `${emulator.url}/#setting/clusters/${ALPHA}/configuration`, opened: true });
      expect(editor.shownDocuments).toContain(page.url);

      const submit = async (runName: string): Promise<number> => {
        const response = await fetch(`${emulator.url}/api/2.2/jobs/runs/submit`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emulator.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            run_name: runName,
            tasks: [{ task_key: 't', existing_cluster_id: ALPHA, spark_python_task: { python_file: '/Workspace/Shared/none.py' } }],
          }),
        });
        return ((await response.json()) as { run_id: number }).run_id;
      };
      const ours = await submit('choppa add 7f3a');
      await submit('nightly etl');
      const runs = await editor.executeCommand<{ runs: Array<Record<string, unknown>> }>('choppa.jobRuns', { uri });
      expect(runs.runs.map((run) => run['runId'])).toEqual([ours]);
      expect(runs.runs[0]).toMatchObject({ function: 'add', runName: 'choppa add 7f3a' });
      expect(String(runs.runs[0]!['runPageUrl'])).toContain(String(ours));
      expect(typeof runs.runs[0]!['state']).toBe('string');
    } finally {
      await editor.stop();
    }
  });

  it('says plainly when no Databricks workspace is configured', async () => {
    const root = tempDir();
    const editor = await EditorClient.start({ root, env: { DATABRICKS_CONFIG_FILE: join(root, 'none'), DATABRICKS_HOST: '', DATABRICKS_TOKEN: '' } });
    try {
      await expect(editor.executeCommand('choppa.clusters', {})).rejects.toThrow(/no Databricks workspace is configured/);
    } finally {
      await editor.stop();
    }
  });
});

describe('a cluster the user may not attach to', () => {
  it('refuses a run with the single-user check the service answers, not a credentials error', async () => {
    const { editor, root } = await serverWith();
    try {
      const uri = await editor.open(join(root, 'jobs.py'), program(`cluster_id="${OTHER}", artifact_dir="/Volumes/main/default/runs"`));
      const result = await editor.executeCommand<{ status: string; error?: { message: string } }>('choppa.run', { uri, function: 'add', args: '1, 2' });
      expect(result.status).toBe('error');
      // The service's own words, and what to do instead of checking the token.
      expect(result.error?.message).toContain(`Single-user check failed: user 'emulator@example.com' attempted to run a command on single-user cluster ${OTHER}, but the single user of this cluster is`);
      expect(result.error?.message).toContain('is a single-user cluster of another user');
      expect(result.error?.message).toContain('pick another cluster');
      expect(result.error?.message).not.toMatch(/credentials|token/i);
    } finally {
      await editor.stop();
    }
  });
});
