// Runs over the wire against real python3: a value, a ref over result_size_max, an artifact,
// an exception at the right document line (also after edits above), chaining a ref without
// downloading it, hover after a run and after a restart, and a verified dereference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic, Hover, InlayHint } from 'vscode-languageserver-protocol';
import { BARE_CAPABILITIES, EditorClient, RICH_CAPABILITIES, positionOf, tempDir } from '../support/lsp-client.js';

interface RunResult {
  status: string;
  value?: { repr: string; type: string; size: number; json?: unknown };
  ref?: { path: string; size: number; sha256: string; type: string; preview: string; created: string };
  error?: { type: string; message: string; line?: number; missing?: string[] };
  stdout?: string;
  durationMs: number;
}

const text = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa(artifact_dir="/Volumes/main/default/runs", max_result_size=2**12)',
  '',
  '@dutch.remote',
  'def add(a, b=2):',
  '    print("adding", a, b)',
  '    return a + b',
  '',
  '@dutch.remote',
  'def get_stuff(n=10_000):',
  '    return list(range(n))',
  '',
  '@dutch.remote',
  'def analyze_stuff(data):',
  '    return {"count": len(data), "type": type(data).__name__}',
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
  'print(add(1, b=5))',
  'data = get_stuff()',
  'summary = analyze_stuff(data)',
  'fails(3)',
  '',
].join('\n');

let root: string;
let editor: EditorClient;
let uri: string;

beforeAll(async () => {
  root = tempDir();
  editor = await EditorClient.start({ root });
  uri = await editor.open(join(root, 'pipeline.py'), text);
  await editor.waitForDiagnostics(uri);
});
afterAll(async () => {
  await editor.stop();
});

const run = (fn: string, extra: Record<string, unknown> = {}, command = 'choppa.run'): Promise<RunResult> =>
  editor.executeCommand<RunResult>(command, { uri, function: fn, ...extra });

/** Runs `fn` as the code action at the call found by `needle` (the call starts `offset` in). */
const runAt = (fn: string, needle: string, source: string = text, offset = 0): Promise<RunResult> => {
  const position = positionOf(source, needle, offset);
  const call = source.slice(source.indexOf(needle) + offset);
  const args = call.slice(call.indexOf('(') + 1, call.indexOf(')'));
  return run(fn, { args, position });
};

const hoverText = async (needle: string, source: string = text): Promise<string> => {
  const hover = await editor.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: positionOf(source, needle) });
  return hover && typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
};

const resultFor = (fn: string) => (all: Diagnostic[]): boolean =>
  all.some((d) => d.code === 'run-result' && typeof d.message === 'string' && d.message.startsWith(`${fn}(`));

describe('running on the local backend', () => {
  it('runs a function remotely from its call site and shows the value everywhere', async () => {
    const result = await runAt('add', 'add(1, b=5)');
    expect(result.status).toBe('ok');
    expect(result.value).toMatchObject({ repr: '6', type: 'int', json: 6 });
    expect(result.stdout).toBe('adding 1 5\n');
    const diagnostics = await editor.waitForDiagnostics(uri, resultFor('add'));
    const info = diagnostics.find((d) => d.code === 'run-result')!;
    // Hint by default: a result is not a problem (choppa.diagnostics.resultSeverity).
    expect(info.severity).toBe(4);
    expect(info.range.start).toEqual(positionOf(text, 'add(a'));
    expect(info.message).toMatch(/^add\(1, b=5\) → 6 · \d+ ms · local python3\.\d+$/);
    const hover = await hoverText('add(1, b=5)');
    expect(hover).toContain('returned `int');
    expect(hover).toContain('adding 1 5');
    const hints = await editor.request<InlayHint[]>('textDocument/inlayHint', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 40, character: 0 } },
    });
    expect(hints.map((hint) => hint.label)).toContain('⇒ 6');
  });

  it('returns an ArtifactRef when the pickled result is over max_result_size', async () => {
    const result = await run('get_stuff');
    expect(result.status).toBe('ok');
    expect(result.value).toBeUndefined();
    expect(result.ref!.path).toMatch(/^\/Volumes\/main\/default\/runs\/get_stuff-.+\.pkl$/);
    expect(result.ref!.size).toBeGreaterThan(4096);
    expect(result.ref!.type).toBe('list');
    expect(result.ref!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const hover = await hoverText('get_stuff()');
    expect(hover).toContain('ArtifactRef');
    expect(hover).toContain(result.ref!.path);
  });

  it('chains the ref into a second call: it is loaded where the function runs, never downloaded', async () => {
    const result = await runAt('analyze_stuff', 'summary = analyze_stuff(data)', text, 'summary = '.length);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('ok');
    expect(result.value!.json).toEqual({ count: 10_000, type: 'list' });
    expect(existsSync(join(root, '.choppa', 'artifacts'))).toBe(false);
  });

  it('refuses an argument that is neither a literal nor a remote result, naming it', async () => {
    const result = await run('analyze_stuff', { args: 'undefined_thing' });
    expect(result.status).toBe('error');
    expect(result.error!.message).toContain('`undefined_thing`');
    await editor.waitForMessage((message) => message.includes('undefined_thing'));
  });

  it('says which parameters are missing when there is nothing to take them from', async () => {
    const result = await run('fails');
    expect(result.error).toMatchObject({ type: 'ArgumentError', missing: ['x'] });
    expect(result.error!.message).toContain('`x`');
    // A warning, not an error: clients that can prompt for `missing` do so next.
    const message = await editor.waitForMessage((text) => text.includes('`fails` needs a value for `x`.'));
    expect(message.type).toBe(2);
  });

  it('leaves the asking to clients that declare they prompt for arguments', async () => {
    const folder = tempDir();
    const prompting = await EditorClient.start({
      root: folder,
      capabilities: { ...RICH_CAPABILITIES, experimental: { choppa: { argumentPrompt: true } } },
    });
    try {
      const promptingUri = await prompting.open(join(folder, 'p.py'), text);
      const result = await prompting.executeCommand<RunResult>('choppa.run', { uri: promptingUri, function: 'fails' });
      expect(result.error).toMatchObject({ type: 'ArgumentError', missing: ['x'] });
      // Notifications precede the response on the wire, so none came for this run.
      expect(prompting.messages.filter((m) => m.message.includes('needs a value'))).toEqual([]);
    } finally {
      await prompting.stop();
    }
  });

  it('stores an artifact, always as a ref', async () => {
    const result = await run('table', {}, 'choppa.runArtifact');
    expect(result.status).toBe('ok');
    expect(result.ref!.type).toBe('dict');
    expect(result.ref!.preview).toContain("'rows'");
  });

  it('dereferences the last artifact into .choppa/artifacts with a verified copy and a preview', async () => {
    const result = await run('get_stuff');
    const deref = await editor.executeCommand<{ localPath: string; previewPath: string; size: number; sha256: string }>(
      'choppa.dereference',
      { uri, function: 'get_stuff' },
    );
    expect(deref.localPath.startsWith(join(root, '.choppa', 'artifacts'))).toBe(true);
    const bytes = readFileSync(deref.localPath);
    expect(bytes.length).toBe(result.ref!.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(result.ref!.sha256);
    expect(deref.sha256).toBe(result.ref!.sha256);
    const preview = readFileSync(deref.previewPath, 'utf8');
    expect(preview).toContain(result.ref!.path);
    expect(preview).toContain('pickle.load');
    expect(editor.shownDocuments.map((shown) => fileURLToPath(shown))).toContain(deref.previewPath);
    expect(readFileSync(join(root, '.choppa', '.gitignore'), 'utf8')).toBe('*\n');
  });

  it('reports a remote exception at the line that raised, and again after lines are added above', async () => {
    const result = await runAt('fails', 'fails(3)');
    expect(result.status).toBe('error');
    expect(result.error).toMatchObject({ type: 'ZeroDivisionError', line: text.split('\n').indexOf('    return y / 0') });
    const errorAt = (line: number) => (all: Diagnostic[]) => all.some((d) => d.code === 'remote-error' && d.range.start.line === line);
    const before = await editor.waitForDiagnostics(uri, errorAt(24));
    const diagnostic = before.find((d) => d.code === 'remote-error')!;
    expect(diagnostic.severity).toBe(1);
    expect(diagnostic.message).toContain('ZeroDivisionError: division by zero');
    expect(diagnostic.relatedInformation?.[0]?.location.range.start.line).toBe(24);

    // Three lines typed above the function: the stored error follows the function down.
    await editor.change(uri, { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, '# one\n# two\n# three\n');
    await editor.waitForDiagnostics(uri, errorAt(27));
    const edited = ['from choppa import Choppa', '# one', '# two', '# three', ...text.split('\n').slice(1)].join('\n');
    const again = await runAt('fails', 'fails(3)', edited);
    expect(again.error!.line).toBe(27);
    await editor.change(uri, { start: { line: 1, character: 0 }, end: { line: 4, character: 0 } }, '');
    await editor.waitForDiagnostics(uri, errorAt(24));
  });

  it('shows the last results in hover after the server restarts', async () => {
    await editor.stop();
    editor = await EditorClient.start({ root });
    uri = await editor.open(join(root, 'pipeline.py'), text);
    const diagnostics = await editor.waitForDiagnostics(uri, resultFor('add'));
    expect(diagnostics.some((d) => d.code === 'remote-error')).toBe(true);
    expect(await hoverText('add(a')).toContain('returned `int');
    expect(await hoverText('get_stuff(n')).toContain('ArtifactRef');
    const listed = await editor.executeCommand<{ results: Array<{ key: string }> }>('choppa.listRuns', { uri });
    expect([...new Set(listed.results.map((result) => result.key))].sort()).toEqual(
      ['pipeline.py::add', 'pipeline.py::analyze_stuff', 'pipeline.py::fails', 'pipeline.py::get_stuff', 'pipeline.py::table'].sort(),
    );
  });
});

describe('clients with fewer capabilities (Neovim 0.7, Helix)', () => {
  it('runs with no root, no configuration pull, no progress and no showDocument', async () => {
    const folder = tempDir();
    const bare = await EditorClient.start({ root: null, capabilities: BARE_CAPABILITIES, initializationOptions: { choppa: { inlayHints: { enable: false } } } });
    try {
      const bareUri = await bare.open(join(folder, 'x.py'), text);
      const result = await bare.executeCommand<RunResult>('choppa.run', { uri: bareUri, function: 'add', args: '40' });
      expect(result.value!.json).toBe(42);
      const deref = await bare.executeCommand<{ previewPath: string }>('choppa.runArtifact', { uri: bareUri, function: 'table' });
      expect(deref).toMatchObject({ status: 'ok' });
      const shown = await bare.executeCommand<{ previewPath: string }>('choppa.dereference', { uri: bareUri, function: 'table' });
      expect(existsSync(shown.previewPath)).toBe(true);
      expect(bare.shownDocuments).toEqual([]);
      expect(shown.previewPath.startsWith(join(folder, '.choppa'))).toBe(false);
      const hints = await bare.request<InlayHint[]>('textDocument/inlayHint', {
        textDocument: { uri: bareUri },
        range: { start: { line: 0, character: 0 }, end: { line: 40, character: 0 } },
      });
      expect(hints).toEqual([]);
      expect(readdirSync(folder)).toEqual([]);
      // Neovim 0.7 does not advertise workspace/configuration: the server must not ask.
      expect(bare.configurationRequests).toBe(0);
    } finally {
      await bare.stop();
    }
  });

  it('ships a sibling module with no workspace folder at all, as `python file.py` would find it (Helix without a root marker)', async () => {
    const folder = tempDir();
    const source = ['from choppa import Choppa', 'dutch = Choppa()', '', '@dutch.remote', 'def f():', '    import helpers', '    return helpers.val()', ''].join('\n');
    writeFileSync(join(folder, 'helpers.py'), 'def val():\n    return "sibling"\n');
    writeFileSync(join(folder, 'jobs.py'), source);
    const bare = await EditorClient.start({ root: null, capabilities: BARE_CAPABILITIES });
    try {
      const uri = await bare.open(join(folder, 'jobs.py'), source);
      await bare.waitForDiagnostics(uri);
      // Before, nothing was indexed without a folder: the run failed with ModuleNotFoundError.
      const result = await bare.executeCommand<RunResult>('choppa.run', { uri, function: 'f' });
      expect(result.error).toBeUndefined();
      expect(result.value!.json).toBe('sibling');
      // The state stays in the user cache folder: nothing is written beside the script.
      expect(readdirSync(folder).sort()).toEqual(['helpers.py', 'jobs.py']);
      // The shipped module changes on disk (this client reports no file changes): the result turns stale.
      await bare.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result'));
      writeFileSync(join(folder, 'helpers.py'), 'def val():\n    return "changed"\n');
      const stale = await bare.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result-stale'));
      expect(stale.find((d) => d.code === 'run-result-stale')?.message).toContain('stale');
    } finally {
      await bare.stop();
    }
  });

  it('with no workspace folder, never shows a function\'s result at another file of the same name', async () => {
    const folder = tempDir();
    const module = (value: string): string => ['from choppa import Choppa', 'dutch = Choppa()', '', '@dutch.remote', 'def f():', `    return ${JSON.stringify(value)}`, ''].join('\n');
    const main = ['from lib.helpers import f', '', 'f()', ''].join('\n');
    mkdirSync(join(folder, 'lib'));
    writeFileSync(join(folder, 'lib', '__init__.py'), '');
    writeFileSync(join(folder, 'lib', 'helpers.py'), module('lib'));
    writeFileSync(join(folder, 'helpers.py'), module('top'));
    writeFileSync(join(folder, 'main.py'), main);
    const bare = await EditorClient.start({ root: null, capabilities: BARE_CAPABILITIES });
    try {
      const top = await bare.open(join(folder, 'helpers.py'), module('top'));
      await bare.waitForDiagnostics(top);
      const mainUri = await bare.open(join(folder, 'main.py'), main);
      await bare.waitForDiagnostics(mainUri);
      const ran = await bare.executeCommand<RunResult>('choppa.run', { uri: mainUri, function: 'f', args: '', position: positionOf(main, 'f()') });
      expect(ran.value?.json).toBe('lib');
      // Before, results were named by base name alone without a root: helpers.py showed lib/helpers.py's.
      const hover = await bare.request<Hover | null>('textDocument/hover', { textDocument: { uri: top }, position: positionOf(module('top'), 'f():') });
      const shown = hover && typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
      expect(shown).toContain('Not run yet');
    } finally {
      await bare.stop();
    }
  });

  it('with no workspace folder, keeps using the .choppa/ a project above the file already has', async () => {
    const folder = tempDir();
    writeFileSync(join(folder, 'x.py'), text);
    const first = await EditorClient.start({ root: folder });
    try {
      const uri = await first.open(join(folder, 'x.py'), text);
      expect(await first.executeCommand<RunResult>('choppa.run', { uri, function: 'add', args: '40' })).toMatchObject({ status: 'ok' });
    } finally {
      await first.stop();
    }
    // The same project opened with no root marker (Helix), or its file opened from outside the
    // editor's folders: before, its results lived in a cache folder and the project's were not shown.
    const bare = await EditorClient.start({ root: null, capabilities: BARE_CAPABILITIES });
    try {
      const uri = await bare.open(join(folder, 'x.py'), text);
      const shown = await bare.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result'));
      expect(shown.find((d) => d.code === 'run-result')?.message).toMatch(/^add\(40\) → 42 /);
      const listed = await bare.executeCommand<{ results: Array<{ function: string }> }>('choppa.listRuns', { uri });
      expect(listed.results.map((result) => result.function)).toContain('add');
    } finally {
      await bare.stop();
    }
  });

  it('says clearly when the Python interpreter does not exist, and keeps serving', async () => {
    const folder = tempDir();
    const broken = await EditorClient.start({ root: folder, configuration: { pythonPath: '/nonexistent/python3' } });
    try {
      const brokenUri = await broken.open(join(folder, 'x.py'), text);
      const result = await broken.executeCommand<RunResult>('choppa.run', { uri: brokenUri, function: 'add', args: '1' });
      expect(result.status).toBe('error');
      expect(result.error!.message).toContain('choppa.pythonPath');
      expect(broken.configurationRequests).toBe(1);
      const lenses = await broken.request<unknown[]>('textDocument/codeLens', { textDocument: { uri: brokenUri } });
      expect(lenses.length).toBeGreaterThan(0);
    } finally {
      await broken.stop();
    }
  });
});
