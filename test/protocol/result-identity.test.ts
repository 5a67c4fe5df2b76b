// Result identity over the wire, on the local backend and against the Databricks emulator: a
// name bound to a call is that call's result (never another call's), hints and hovers belong to
// the call they sit on, results go stale when the code or the inputs change, the opt-in cache,
// chaining by value after a restart and from the CLI, `@artifact` always a ref, module constants
// by value, and unpicklable results as errors at the line that returned them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction, Diagnostic, Hover, InlayHint } from 'vscode-languageserver-protocol';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, SERVER_BIN, positionOf, tempDir } from '../support/lsp-client.js';

interface RunResult {
  status: string;
  runId?: string;
  value?: { repr: string; json?: unknown; pickle?: string };
  ref?: { path: string };
  error?: { type: string; message: string; line?: number };
  cached?: boolean;
  call?: string;
}

const text = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa(artifact_dir="/Volumes/main/default/ids", result_size_max=1 << 20)',
  'REGIONS = ["emea", "amer", "apac"]',
  '',
  '@dutch.remote',
  'def load(n):',
  '    return list(range(n))',
  '',
  '@dutch.remote',
  'def count(rows):',
  '    return len(rows)',
  '',
  '@dutch.remote',
  'def double(x):',
  '    return x * 2',
  '',
  '@dutch.remote  # choppa: cache',
  'def lucky(seed):',
  '    import random',
  '    return random.random()',
  '',
  '@dutch.remote',
  'def roll(seed):',
  '    import random',
  '    return random.random()',
  '',
  '@dutch.artifact',
  'def table(rows=3):',
  '    return list(range(rows))',
  '',
  '@dutch.remote',
  'def n_regions(regions):',
  '    return len(regions)',
  '',
  '@dutch.remote',
  'def numbers():',
  '    for i in range(3):',
  '        yield i',
  '',
  '@dutch.remote',
  'def scaled(x):',
  '    from helpers import factor',
  '    return x * factor()',
  '',
  '@dutch.remote',
  'def fact(n):',
  '    return 1 if n <= 1 else n * fact(n - 1)',
  '',
  'big = load(1000)',
  'small = load(3)',
  'total = count(big)',
  'tiny = count(small)',
  'double(5)',
  'n_regions(REGIONS)',
  'fact(5)',
  'scaled(4)',
  '',
].join('\n');

const message = (diagnostic: Diagnostic): string => (typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value);
const lineOf = (source: string, needle: string): number => source.split('\n').findIndex((line) => line.includes(needle));

interface Target {
  name: string;
  env: () => NodeJS.ProcessEnv;
}

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'RUNNING' }] });
});
afterAll(async () => {
  await emulator.stop();
});

const targets: Target[] = [
  { name: 'local python3', env: () => ({}) },
  {
    name: 'Databricks emulator',
    env: () => ({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CLUSTER_ID: DEFAULT_CLUSTER_ID }),
  },
];

describe.each(targets)('result identity on $name', (target) => {
  let root: string;
  let editor: EditorClient;
  let uri: string;
  let source = text;

  const start = async (configuration?: unknown): Promise<void> => {
    editor = await EditorClient.start({
      root,
      env: { DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg'), ...target.env() },
      ...(configuration === undefined ? {} : { configuration }),
    });
    uri = await editor.open(join(root, 'pipeline.py'), source);
  };

  beforeAll(async () => {
    root = tempDir();
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, 'pipeline.py'), text);
    writeFileSync(join(root, 'helpers.py'), 'def factor():\n    return 2\n');
    await start();
  });
  afterAll(async () => {
    await editor.stop();
  });

  /** Runs `fn` as the code action at the call site `needle` (its first `(` call in that line). */
  const runAt = (needle: string, extra: Record<string, unknown> = {}, command = 'choppa.run'): Promise<RunResult> => {
    const line = source.split('\n')[lineOf(source, needle)]!;
    const fn = /([A-Za-z_]\w*)\(/.exec(line.slice(line.indexOf('=') + 1))![1]!;
    const open = line.indexOf(`${fn}(`);
    const args = line.slice(open + fn.length + 1, line.lastIndexOf(')'));
    return editor.executeCommand<RunResult>(command, { uri, function: fn, args, position: { line: lineOf(source, needle), character: open }, ...extra });
  };
  const hints = (): Promise<InlayHint[]> =>
    editor.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } } });
  const hintOn = async (needle: string): Promise<string | undefined> => {
    const line = lineOf(source, needle);
    const found = (await hints()).find((hint) => hint.position.line === line);
    return found === undefined ? undefined : String(found.label);
  };
  const hoverAt = async (needle: string, offset = 0): Promise<string> => {
    const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(source, needle, offset) });
    return (hover.contents as { value: string }).value;
  };
  const replaceLine = async (needle: string, replacement: string): Promise<void> => {
    const line = lineOf(source, needle);
    const old = source.split('\n')[line]!;
    await editor.change(uri, { start: { line, character: 0 }, end: { line, character: old.length } }, replacement);
    const lines = source.split('\n');
    lines[line] = replacement;
    source = lines.join('\n');
  };
  const resultDiagnostic = async (fn: string, test: (d: Diagnostic) => boolean = () => true): Promise<Diagnostic> => {
    const all = await editor.waitForDiagnostics(uri, (diagnostics) => diagnostics.some((d) => message(d).startsWith(`${fn}(`) && test(d)));
    return all.find((d) => message(d).startsWith(`${fn}(`) && test(d))!;
  };

  it('passes the result of the call a name is bound to, in either order of running', async () => {
    // `small` last: its producer's latest result is then load(3), which `count(big)` must not get.
    expect((await runAt('big = load(1000)')).value?.json).toHaveLength(1000);
    expect((await runAt('small = load(3)')).value?.json).toEqual([0, 1, 2]);
    expect((await runAt('total = count(big)')).value?.json).toBe(1000);
    expect((await runAt('tiny = count(small)')).value?.json).toBe(3);
    // And the other way round.
    expect((await runAt('small = load(3)')).status).toBe('ok');
    expect((await runAt('big = load(1000)')).status).toBe('ok');
    expect((await runAt('tiny = count(small)')).value?.json).toBe(3);
    expect((await runAt('total = count(big)')).value?.json).toBe(1000);
  });

  it('shows each call its own result as inlay hint, and none on a recursive call inside the body', async () => {
    expect(await hintOn('big = load(1000)')).toMatch(/^⇒ \[0, 1, 2, 3/);
    expect(await hintOn('small = load(3)')).toBe('⇒ [0, 1, 2]');
    expect(await hintOn('total = count(big)')).toBe('⇒ 1000');
    expect(await hintOn('tiny = count(small)')).toBe('⇒ 3');
    expect((await runAt('fact(5)')).value?.json).toBe(120);
    expect(await hintOn('fact(5)')).toBe('⇒ 120');
    expect(await hintOn('n * fact(n - 1)')).toBeUndefined();
  });

  it('says which call to run first when the bound call has no result, by its text and line', async () => {
    await replaceLine('small = load(3)', 'small = load(4)');
    const result = await runAt('tiny = count(small)');
    expect(result.status).toBe('error');
    expect(result.error?.message).toContain(`\`small\` is bound to \`load(4) at line ${lineOf(source, 'small = load(4)') + 1}\`, which has no result yet`);
    expect(result.error?.message).not.toMatch(/[0-9a-z]{10,}/);
    // The old result of that binding shows, marked stale, until the call runs again.
    expect(await hintOn('small = load(4)')).toBe('⇒ [0, 1, 2] (stale)');
    await replaceLine('small = load(4)', 'small = load(3)');
  });

  it('marks a result stale when the function body changes, and clears it after a re-run', async () => {
    expect((await runAt('double(5)')).value?.json).toBe(10);
    expect((await resultDiagnostic('double')).message).not.toContain('stale');
    await replaceLine('    return x * 2', '    return x * 3');
    const stale = await resultDiagnostic('double', (d) => message(d).includes('stale'));
    expect(stale.message).toContain('stale: the code of double changed');
    expect(await hintOn('double(5)')).toBe('⇒ 10 (stale)');
    expect(await hoverAt('double(5)')).toContain('**Stale:** the code of double changed');
    // A chained call refuses a stale upstream result rather than passing old data on.
    await replaceLine('    return list(range(n))', '    return list(range(n + 1))');
    const refused = await runAt('total = count(big)');
    expect(refused.error?.message).toContain('whose result is stale (the code of load changed)');
    await replaceLine('    return list(range(n + 1))', '    return list(range(n))');
    expect((await runAt('double(5)')).value?.json).toBe(15);
    expect((await resultDiagnostic('double', (d) => !message(d).includes('stale'))).message).toMatch(/^double\(5\) → 15/);
    expect(await hintOn('double(5)')).toBe('⇒ 15');
  });

  it('marks a result stale when a module it ships changes, and clears it after a re-run', async () => {
    expect((await runAt('scaled(4)')).value?.json).toBe(8);
    expect(await hintOn('scaled(4)')).toBe('⇒ 8');
    const helpers = await editor.open(join(root, 'helpers.py'), 'def factor():\n    return 2\n');
    await editor.change(helpers, { start: { line: 1, character: 11 }, end: { line: 1, character: 12 } }, '3');
    expect(await hintOn('scaled(4)')).toBe('⇒ 8 (stale)');
    expect(message(await resultDiagnostic('scaled', (d) => message(d).includes('stale')))).toContain('stale: a shipped module changed');
    expect((await runAt('scaled(4)')).value?.json).toBe(12);
    expect(await hintOn('scaled(4)')).toBe('⇒ 12');
  });

  it('marks a downstream result stale when its upstream call has a newer result', async () => {
    expect((await runAt('total = count(big)')).status).toBe('ok');
    expect(await hintOn('total = count(big)')).toBe('⇒ 1000');
    await runAt('big = load(1000)');
    expect(await hintOn('total = count(big)')).toBe('⇒ 1000 (stale)');
  });

  it('passes module constants by value, and marks the result stale when the constant changes', async () => {
    expect((await runAt('n_regions(REGIONS)')).value?.json).toBe(3);
    await replaceLine('REGIONS = [', 'REGIONS = ["emea", "amer"]');
    expect(await hintOn('n_regions(REGIONS)')).toBe('⇒ 3 (stale)');
    expect((await runAt('n_regions(REGIONS)')).value?.json).toBe(2);
    expect(await hintOn('n_regions(REGIONS)')).toBe('⇒ 2');
  });

  it('runs @artifact functions as artifacts whatever the action', async () => {
    for (const command of ['choppa.run', 'choppa.runArtifact']) {
      const result = await editor.executeCommand<RunResult>(command, { uri, function: 'table' });
      expect(result.ref?.path, command).toMatch(/^\/Volumes\/main\/default\/ids\/table-/);
      expect(result.value).toBeUndefined();
    }
    const local = await editor.executeCommand<{ sha256: string }>('choppa.dereference', { uri, function: 'table' });
    expect(local.sha256).toHaveLength(64);
  });

  it('reports an unpicklable result as an error at the line that produced it', async () => {
    const result = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'numbers' });
    expect(result.status).toBe('error');
    expect(result.error).toMatchObject({ type: 'ChoppaPicklingError', line: lineOf(source, '        yield i') });
    expect(result.error?.message).toContain('is a generator, which cannot be pickled');
    const all = await editor.waitForDiagnostics(uri, (diagnostics) => diagnostics.some((d) => d.code === 'remote-error' && message(d).includes('ChoppaPicklingError')));
    expect(all.find((d) => message(d).includes('ChoppaPicklingError'))?.range.start.line).toBe(lineOf(source, '        yield i'));
  });

  it('serves a current result from the cache only when asked: per function, per setting, never with fresh', async () => {
    // Off by default: `roll` runs again and draws another number.
    const first = await runAt('big = load(1000)', {}, 'choppa.run');
    expect(first.cached).toBeUndefined();
    const a = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'roll', args: '1' });
    const b = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'roll', args: '1' });
    expect(b.cached).toBeUndefined();
    expect(b.value?.json).not.toBe(a.value?.json);
    // `# choppa: cache` on the decorator line: the second run is the first one's result.
    const c = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'lucky', args: '1' });
    const d = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'lucky', args: '1' });
    expect(c.cached).toBeUndefined();
    expect(d).toMatchObject({ status: 'ok', cached: true });
    expect(d.value?.json).toBe(c.value?.json);
    expect((await resultDiagnostic('lucky', (diag) => message(diag).includes('cached'))).message).toMatch(/^lucky\(1\) → [0-9.]+ · cached (just now|\d+ s ago)/);
    // Another call is another key.
    expect((await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'lucky', args: '2' })).cached).toBeUndefined();
    // fresh: true runs anyway.
    const e = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'lucky', args: '1', fresh: true });
    expect(e.cached).toBeUndefined();
    expect(e.value?.json).not.toBe(c.value?.json);
    // The code action that carries it, and the hover's history of the call.
    const actions = await editor.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: positionOf(source, 'def lucky'), end: positionOf(source, 'def lucky') },
      context: { diagnostics: [] },
    });
    const again = actions.find((action) => action.title === 'Run lucky again (ignore cache)');
    expect(again?.command?.arguments?.[0]).toMatchObject({ function: 'lucky', fresh: true });
    const hover = await hoverAt('def lucky', 4);
    expect(hover).toContain('Last runs of this call:');
    expect(hover.match(/^- `\(1\)` → /gm)).toHaveLength(3);
    expect(hover).toMatch(/· cached ·/);
    // An edit to the function is a new code version: no hit.
    await replaceLine('    return random.random()', '    return random.random() + 0');
    const f = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'lucky', args: '1' });
    expect(f.cached).toBeUndefined();
  });

  it('serves every function from the cache with choppa.cache "on"', async () => {
    await editor.stop();
    await start({ cache: 'on' });
    const a = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'roll', args: '7' });
    const b = await editor.executeCommand<RunResult>('choppa.run', { uri, function: 'roll', args: '7' });
    expect(b).toMatchObject({ cached: true, value: { json: a.value?.json } });
  });

  it('chains small results by value after a restart, and from the CLI', async () => {
    expect((await runAt('small = load(3)')).value?.pickle).toBeUndefined();
    await editor.stop();
    await start();
    expect((await runAt('tiny = count(small)')).value?.json).toBe(3);
    const listed = await editor.executeCommand<{ results: Array<{ function: string; call: string; history: unknown[] }> }>('choppa.listRuns', { uri });
    const loads = listed.results.filter((result) => result.function === 'load').map((result) => result.call).sort();
    expect(loads).toEqual(['1000', '3']);

    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
    // Asynchronously: the emulator answers from this very process.
    const cli = await promisify(execFile)(process.execPath, [SERVER_BIN, 'run', 'pipeline.py:count', '--args', 'small', '--json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...clean, HOME: root, DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg'), ...target.env() },
    });
    expect((JSON.parse(cli.stdout) as RunResult).value?.json).toBe(3);
    // `choppa-lsp run` of an `@dutch.artifact` function stores an artifact, as every action does.
    const artifact = await promisify(execFile)(process.execPath, [SERVER_BIN, 'run', 'pipeline.py:table', '--json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...clean, HOME: root, DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg'), ...target.env() },
    });
    expect((JSON.parse(artifact.stdout) as RunResult).ref?.path).toMatch(/^\/Volumes\/main\/default\/ids\/table-/);
  });
});
