// Two calls written alike are two calls when a name among their arguments reads a different
// assignment, on the local backend and against the Databricks emulator: `df = double(df)` reads
// the `df` before it, `show(N)` after `N = 1` and after `N = 2` each keep their own result (in
// the editor and from the CLI, which must never pass the other's data on), an edited assignment
// makes what read it stale, and a function called through a module alias is not falsely stale.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hover, InlayHint } from 'vscode-languageserver-protocol';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, SERVER_BIN, positionOf, tempDir } from '../support/lsp-client.js';

interface RunResult {
  status: string;
  value?: { json?: unknown };
  error?: { type: string; message: string };
}

const text = [
  'from choppa import Choppa',
  'import stages as S',
  '',
  'dutch = Choppa()',
  '',
  '@dutch.remote',
  'def load(n):',
  '    return list(range(n))',
  '',
  '@dutch.remote',
  'def double(x):',
  '    return x * 2',
  '',
  '@dutch.remote',
  'def count(rows):',
  '    return len(rows)',
  '',
  '@dutch.remote',
  'def show(x):',
  '    return x * 10',
  '',
  '@dutch.remote',
  'def plus1(x):',
  '    return x + 1',
  '',
  'df = load(3)',
  'df = double(df)',
  'count(df)  # of the doubled df',
  '',
  'N = 1',
  'show(N)  # N is 1',
  'a = show(N)',
  'plus1(a)',
  'N = 2',
  'show(N)  # N is 2',
  '',
  'data = load(4)',
  't = S.taxed(data)',
  'count(t)  # through the alias',
  '',
].join('\n');

const stages = ['from choppa import Choppa', '', 'dutch = Choppa()', '', '@dutch.remote', 'def taxed(rows):', '    from helpers import rate', '    return [row * rate() for row in rows]', ''].join('\n');

const lineOf = (source: string, needle: string): number => source.split('\n').findIndex((line) => line.includes(needle));

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'RUNNING' }] });
});
afterAll(async () => {
  await emulator.stop();
});

const targets = [
  { name: 'local python3', env: (): NodeJS.ProcessEnv => ({}) },
  { name: 'Databricks emulator', env: (): NodeJS.ProcessEnv => ({ DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CLUSTER_ID: DEFAULT_CLUSTER_ID }) },
];

describe.each(targets)('call identity on $name', (target) => {
  let root: string;
  let editor: EditorClient;
  let uri: string;
  let source = text;

  beforeAll(async () => {
    root = tempDir();
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, 'pipeline.py'), text);
    writeFileSync(join(root, 'stages.py'), stages);
    writeFileSync(join(root, 'helpers.py'), 'def rate():\n    return 2\n');
    editor = await EditorClient.start({ root, env: { DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg'), ...target.env() } });
    uri = await editor.open(join(root, 'pipeline.py'), source);
  });
  afterAll(async () => {
    await editor.stop();
  });

  const cli = async (...args: string[]): Promise<RunResult> => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_')));
    // Asynchronously: the emulator answers from this very process. A failed run exits 1.
    const run = promisify(execFile)(process.execPath, [SERVER_BIN, 'run', ...args, '--json'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...clean, HOME: root, DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg'), ...target.env() },
    });
    const output = await run.catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    return JSON.parse(output.stdout) as RunResult;
  };
  /** Runs the call on the line holding `needle` as its code action does. */
  const runAt = (needle: string): Promise<RunResult> => {
    const lineNo = lineOf(source, needle);
    const line = source.split('\n')[lineNo]!;
    const call = /([A-Za-z_][\w.]*)\(([^)]*)\)/.exec(line.slice(line.indexOf('=') + 1))!;
    return editor.executeCommand<RunResult>('choppa.run', { uri, function: call[1], args: call[2], position: { line: lineNo, character: line.indexOf(`${call[1]}(`) } });
  };
  const hintOn = async (needle: string): Promise<string | undefined> => {
    const hints = await editor.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } } });
    const found = hints.find((hint) => hint.position.line === lineOf(source, needle));
    return found === undefined ? undefined : String(found.label);
  };

  it('from the CLI, passes a name the result of the call it is bound to, or refuses: never a call written alike', async () => {
    // `show --args N` reads the last `N = 2`; `a` is bound to the `show(N)` that reads `N = 1`.
    expect((await cli('pipeline.py:show', '--args', 'N')).value?.json).toBe(20);
    const refused = await cli('pipeline.py:plus1', '--args', 'a');
    expect(refused.status).toBe('error');
    expect(refused.error?.message).toContain(`\`a\` is bound to \`show(N) at line ${lineOf(source, 'a = show(N)') + 1}\`, which has no result yet`);
  });

  it('keeps one result per call when a name is assigned again between two calls written alike', async () => {
    expect((await runAt('show(N)  # N is 1')).value?.json).toBe(10);
    expect(await hintOn('show(N)  # N is 1')).toBe('⇒ 10');
    expect(await hintOn('show(N)  # N is 2')).toBe('⇒ 20');
    expect((await runAt('show(N)  # N is 2')).value?.json).toBe(20);
    expect(await hintOn('show(N)  # N is 1')).toBe('⇒ 10');
    expect(await hintOn('show(N)  # N is 2')).toBe('⇒ 20');
    // `a = show(N)` is the same call as the first (it reads the same `N`): its result chains.
    expect((await runAt('plus1(a)')).value?.json).toBe(11);
    expect((await cli('pipeline.py:plus1', '--args', 'a')).value?.json).toBe(11);
  });

  it('reads the name before an assignment in the assignment itself (df = double(df))', async () => {
    expect((await runAt('df = load(3)')).value?.json).toEqual([0, 1, 2]);
    expect((await runAt('df = double(df)')).value?.json).toEqual([0, 1, 2, 0, 1, 2]);
    expect((await runAt('count(df)  # of the doubled df')).value?.json).toBe(6);
    expect(await hintOn('df = load(3)')).toBe('⇒ [0, 1, 2]');
    expect(await hintOn('count(df)  # of the doubled df')).toBe('⇒ 6');
  });

  it('chains through a module alias without a false stale mark, and marks stale what read an edited assignment', async () => {
    expect((await runAt('data = load(4)')).value?.json).toEqual([0, 1, 2, 3]);
    expect((await runAt('t = S.taxed(data)')).value?.json).toEqual([0, 2, 4, 6]);
    expect(await hintOn('t = S.taxed(data)')).toBe('⇒ [0, 2, 4, 6]');
    expect((await runAt('count(t)  # through the alias')).value?.json).toBe(4);
    // `data` now binds another call: what read it is stale, and says why.
    const line = lineOf(source, 'data = load(4)');
    await editor.change(uri, { start: { line, character: 12 }, end: { line, character: 13 } }, '5');
    source = source.replace('data = load(4)', 'data = load(5)');
    expect(await hintOn('t = S.taxed(data)')).toBe('⇒ [0, 2, 4, 6] (stale)');
    const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(source, 'S.taxed(data)', 2) });
    expect((hover.contents as { value: string }).value).toContain(`\`data\` is now \`load(5) at line ${line + 1}\``);
    const refused = await runAt('count(t)  # through the alias');
    expect(refused.error?.message).toContain('whose result is stale');
  });
});
