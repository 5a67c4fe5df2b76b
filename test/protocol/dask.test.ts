// The editor flow over the wire with `choppa.backend: "dask"` on a real loopback Dask cluster:
// a value from a call site, a ref chained into another call on the cluster, an error at the
// raising line, a verified dereference, and a submitted job that a new server picks up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';
import { DASK_PYTHON, LocalDaskCluster } from '../dask/harness.js';

interface RunResult {
  status: string;
  value?: { repr: string; json?: unknown };
  ref?: { path: string; size: number; sha256: string; type: string; preview: string };
  error?: { type: string; message: string; line?: number };
  stdout?: string;
  backend?: string;
}

const text = (gate: string): string =>
  [
    'from choppa import Choppa',
    '',
    'dutch = Choppa(artifact_dir="/Volumes/main/default/dask", max_result_size=2**12)',
    '',
    '@dutch.remote',
    'def add(a, b=2):',
    '    print("adding on a worker", a, b)',
    '    return a + b',
    '',
    '@dutch.remote',
    'def get_stuff(n=10_000):',
    '    return list(range(n))',
    '',
    '@dutch.remote',
    'def analyze_stuff(data):',
    '    return {"count": len(data), "total": sum(data)}',
    '',
    '@dutch.artifact',
    'def table():',
    '    return {"rows": [1, 2, 3]}',
    '',
    '@dutch.remote',
    'def fails(x):',
    '    y = x * 2',
    '    return y / 0',
    '',
    '@dutch.submit',
    'def train(gate, epochs=3):',
    '    import os, time',
    '    while not os.path.exists(gate):',
    '        time.sleep(0.02)',
    '    return {"epochs": epochs}',
    '',
    'print(add(1, b=5))',
    'data = get_stuff()',
    'summary = analyze_stuff(data)',
    `GATE = ${JSON.stringify(gate)}`,
    '',
  ].join('\n');

describe('dask backend over LSP', () => {
  let cluster: LocalDaskCluster;
  let root: string;
  let editor: EditorClient;
  let uri: string;
  let source: string;
  const options = () => ({ backend: 'dask', dask: { scheduler: cluster.address, pythonPath: DASK_PYTHON } });

  beforeAll(async () => {
    cluster = await LocalDaskCluster.start();
    root = tempDir();
    source = text(join(root, 'gate'));
    writeFileSync(join(root, 'pipeline.py'), source);
    editor = await EditorClient.start({ root, initializationOptions: options() });
    uri = await editor.open(join(root, 'pipeline.py'), source);
    await editor.waitForDiagnostics(uri);
  }, 90_000);
  afterAll(async () => {
    await editor?.stop();
    await cluster?.stop();
  });

  const run = (fn: string, extra: Record<string, unknown> = {}, command = 'choppa.run'): Promise<RunResult> =>
    editor.executeCommand<RunResult>(command, { uri, function: fn, ...extra });

  it('runs a function from its call site on a worker and shows the value with the scheduler', async () => {
    const result = await run('add', { args: '1, b=5', position: positionOf(source, 'add(1, b=5)') });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '6', json: 6 }, stdout: 'adding on a worker 1 5\n' });
    expect(result.backend).toBe(`dask ${cluster.address}`);
    const diagnostics = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result'));
    expect(diagnostics.find((d) => d.code === 'run-result')?.message).toContain(`dask ${cluster.address}`);
    // The worker's output reached the run log too.
    const log = await editor.executeCommand<{ path: string }>('choppa.showLog', { uri, function: 'add' });
    expect(readFileSync(log.path, 'utf8')).toContain('adding on a worker 1 5');
  });

  it('keeps a ref over max_result_size on the cluster and chains it into the next call', async () => {
    const stuff = await run('get_stuff');
    expect(stuff.status).toBe('ok');
    expect(stuff.ref?.path).toMatch(/^\/Volumes\/main\/default\/dask\/get_stuff-.+\.pkl$/);
    expect(stuff.ref?.type).toBe('list');
    const summary = await run('analyze_stuff', { args: 'data', position: positionOf(source, 'summary = analyze_stuff(data)', 'summary = '.length) });
    expect(summary).toMatchObject({ status: 'ok', value: { json: { count: 10_000, total: 49_995_000 } } });
  });

  it('reports the remote exception at the document line that raised', async () => {
    const result = await run('fails', { args: '3' });
    expect(result.status).toBe('error');
    expect(result.error).toMatchObject({ type: 'ZeroDivisionError', line: source.split('\n').indexOf('    return y / 0') });
  });

  it('dereferences an artifact from the cluster into .choppa/artifacts, verified', async () => {
    const stored = await run('table', {}, 'choppa.runArtifact');
    expect(stored.ref?.preview).toBe("{'rows': [1, 2, 3]}");
    const local = await editor.executeCommand<{ localPath: string; previewPath: string; size: number; sha256: string }>('choppa.dereference', { uri, function: 'table' });
    expect(local.localPath.startsWith(join(root, '.choppa', 'artifacts'))).toBe(true);
    expect(local.sha256).toBe(stored.ref!.sha256);
    expect(createHash('sha256').update(readFileSync(local.localPath)).digest('hex')).toBe(stored.ref!.sha256);
    expect(readFileSync(local.previewPath, 'utf8')).toContain("'rows': [1, 2, 3]");
  });

  it('submits a job whose result a new server picks up after a restart', async () => {
    const gate = join(root, 'gate');
    const handle = await editor.executeCommand<{ status: string; id: string }>('choppa.submit', { uri, function: 'train', args: JSON.stringify(gate) });
    expect(handle.status, JSON.stringify(handle)).toBe('submitted');
    await editor.stop();
    writeFileSync(gate, 'go');
    editor = await EditorClient.start({ root, initializationOptions: options() });
    uri = await editor.open(join(root, 'pipeline.py'), source);
    const done = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result' && String(d.message).startsWith('train')));
    expect(done.find((d) => String(d.message).startsWith('train'))?.message).toMatch(/^train\(.*\) \[artifact\] → ArtifactRef .* \(dict\)/);
  }, 60_000);
});
