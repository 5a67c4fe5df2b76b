// A multi-package project over the wire, on the local backend and on the emulator (whose Python
// runs in its own folder and cannot see the workspace): functions decorated through an imported
// instance get actions and run with the project modules they import shipped as a bundle; the
// second run uploads nothing; an edited module (open buffer or disk) ships in its new version;
// call sites in another file get the call-site actions; the runner never sees the workspace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction, CodeLens, Hover } from 'vscode-languageserver-protocol';
import { startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, positionOf, RICH_CAPABILITIES, tempDir } from '../support/lsp-client.js';
import { PROJECT_FILES, writeProject } from '../support/project-fixture.js';

const CLUSTER = '0123-456789-abcdefgh';
const CODE_DIR = '/Workspace/Shared/analytics/.choppa/code';

interface RunResult {
  status: string;
  value?: { json?: unknown; repr?: string };
  error?: { type: string; message: string };
  backend?: string;
}

const CAPABILITIES = {
  ...RICH_CAPABILITIES,
  workspace: { ...RICH_CAPABILITIES.workspace, workspaceFolders: true, didChangeWatchedFiles: { dynamicRegistration: true } },
};

const PROBE = [
  'from analytics import dc',
  '',
  '@dc.remote',
  'def where():',
  '    import os, sys',
  '    return {"cwd": os.getcwd(), "path": sys.path}',
  '',
].join('\n');

interface Setup {
  name: string;
  /** How results name where they ran. */
  backend: RegExp;
  start: (root: string) => Promise<EditorClient>;
  /** What the bundle uploads so far left behind: it changes with every upload. */
  uploads: () => string;
  stop?: () => Promise<void>;
}

let emulator: Emulator | undefined;

function localSetup(): Setup {
  let root = '';
  return {
    name: 'local backend',
    backend: /^local python/,
    start: async (folder) => {
      root = folder;
      return EditorClient.start({ root: folder, capabilities: CAPABILITIES, env: { DATABRICKS_CONFIG_FILE: join(folder, 'none') } });
    },
    // The local backend's storage is `.choppa/fs`: an upload writes a zip there (name, mtime).
    uploads: () => {
      const dir = join(root, '.choppa', 'fs', CODE_DIR);
      try {
        return readdirSync(dir)
          .filter((name) => name.endsWith('.zip'))
          .map((name) => `${name}@${statSync(join(dir, name)).mtimeMs}`)
          .join(',');
      } catch {
        return '';
      }
    },
  };
}

function emulatorSetup(): Setup {
  return {
    name: 'emulator',
    backend: new RegExp(`^cluster ${CLUSTER}$`),
    start: async (folder) => {
      emulator ??= await startEmulator({ clusters: [{ cluster_id: CLUSTER, state: 'RUNNING' }] });
      return EditorClient.start({
        root: folder,
        capabilities: CAPABILITIES,
        env: { DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CONFIG_FILE: join(folder, 'none') },
      });
    },
    uploads: () => {
      const imports = emulator?.stats.requests.filter((request) => request.method === 'POST' && request.path === '/api/2.0/workspace/import') ?? [];
      return imports.length === 0 ? '' : `${imports.length} imports`;
    },
    stop: async () => {
      await emulator?.stop();
      emulator = undefined;
    },
  };
}

describe.each([localSetup(), emulatorSetup()])('a multi-package project on the $name', (setup) => {
  let root: string;
  let editor: EditorClient;
  const open = (relative: string, text = PROJECT_FILES[relative] ?? ''): Promise<string> => editor.open(join(root, relative), text);
  const run = (uri: string, fn: string, args?: string): Promise<RunResult> =>
    editor.executeCommand<RunResult>('choppa.run', { uri, function: fn, ...(args === undefined ? {} : { args }) });

  beforeAll(async () => {
    root = tempDir();
    writeProject(root, { 'scripts/probe.py': PROBE });
    editor = await setup.start(root);
  });
  afterAll(async () => {
    await editor.stop();
    await setup.stop?.();
  });

  it('offers actions and lenses on functions decorated through an imported instance', async () => {
    const uri = await open('analytics/jobs.py');
    const diagnostics = await editor.waitForDiagnostics(uri);
    expect(diagnostics).toEqual([]);
    const text = PROJECT_FILES['analytics/jobs.py'] ?? '';
    const actions = await editor.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: positionOf(text, 'def vocabulary'), end: positionOf(text, 'def vocabulary') },
      context: { diagnostics: [] },
    });
    expect(actions.map((action) => action.title)).toContain('Run vocabulary remotely');
    const lenses = await editor.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    // One run lens per decorated function (the other commands are behind its "⋯ more" lens).
    expect(lenses.map((lens) => lens.command?.title).filter((title) => title?.startsWith('Run'))).toHaveLength(3);
    expect(editor.registrations.map((registration) => registration.method)).toContain('workspace/didChangeWatchedFiles');
    const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'vocabulary') });
    const shown = (hover.contents as { value: string }).value;
    expect(shown).toContain('Ships with `vocabulary`: 4 project modules');
    expect(shown).toMatch(/- `analytics\.text_tools` \(analytics\/text_tools\.py, 5\d B\)/);
  });

  it('runs functions that import project modules, shipped as one bundle', async () => {
    const jobs = await open('analytics/jobs.py');
    const first = await run(jobs, 'vocabulary', '"A b a B c"');
    expect(first).toMatchObject({ status: 'ok', value: { json: ['a', 'b', 'c'] } });
    expect(first.backend).toMatch(setup.backend);
    // A relative import inside the function, and a transitive relative import in a subpackage.
    expect(await run(jobs, 'counted', '"A b a B c"')).toMatchObject({ status: 'ok', value: { json: 3 } });
    const summary = await open('analytics/reports/summary.py');
    expect(await run(summary, 'summary', '5')).toMatchObject({ status: 'ok', value: { json: 17 } });
    // `import pkg.mod as m` then `@m.dc.remote`, importing a package of the `src/` layout.
    const aliased = await open('scripts/aliased.py');
    expect(await run(aliased, 'twice', '21')).toMatchObject({ status: 'ok', value: { json: 42 } });
    // The instance re-exported from `analytics/__init__.py`.
    const reexported = await open('scripts/reexported.py');
    expect(await run(reexported, 'shout', '"hey "')).toMatchObject({ status: 'ok', value: { json: 'HEY' } });
  });

  it('uploads nothing on the second run of the same code', async () => {
    const jobs = await open('analytics/jobs.py');
    expect(await run(jobs, 'vocabulary', '"x"')).toMatchObject({ status: 'ok' });
    const before = setup.uploads();
    expect(before).not.toBe('');
    expect(await run(jobs, 'vocabulary', '"y Y"')).toMatchObject({ status: 'ok', value: { json: ['y'] } });
    expect(setup.uploads()).toBe(before);
  });

  it('ships the new version of a module edited in an open buffer, then on disk', async () => {
    const jobs = await open('analytics/jobs.py');
    expect(await run(jobs, 'vocabulary', '"A b"')).toMatchObject({ value: { json: ['a', 'b'] } });
    const toolsText = PROJECT_FILES['analytics/text_tools.py'] ?? '';
    const tools = await open('analytics/text_tools.py', toolsText);
    const at = positionOf(toolsText, '.lower()');
    await editor.change(tools, { start: at, end: { line: at.line, character: at.character + '.lower()'.length } }, '.upper()');
    expect(await run(jobs, 'vocabulary', '"A b"')).toMatchObject({ status: 'ok', value: { json: ['A', 'B'] } });
    // Closed without saving: the disk wins again; then the disk changes.
    await editor.close(tools);
    expect(await run(jobs, 'vocabulary', '"A b"')).toMatchObject({ value: { json: ['a', 'b'] } });
    writeFileSync(join(root, 'analytics/text_tools.py'), 'def normalise(word):\n    return word.strip()[::-1]\n');
    await editor.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: editor.uri(join(root, 'analytics/text_tools.py')), type: 2 }] });
    expect(await run(jobs, 'vocabulary', '"ab cd"')).toMatchObject({ status: 'ok', value: { json: ['ba', 'dc'] } });
    writeFileSync(join(root, 'analytics/text_tools.py'), toolsText);
  });

  it('offers and runs the call-site actions of a function imported into another file', async () => {
    const text = PROJECT_FILES['scripts/calls.py'] ?? '';
    const uri = await open('scripts/calls.py');
    const position = positionOf(text, 'plain(6, 7)', 2);
    const actions = await editor.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: position, end: position },
      context: { diagnostics: [] },
    });
    const action = actions.find((candidate) => candidate.title === 'Run plain(6, 7) remotely');
    expect(action?.command?.arguments?.[0]).toMatchObject({ uri, function: 'plain', args: '6, 7' });
    const result = await editor.executeCommand<RunResult>('choppa.run', action?.command?.arguments?.[0]);
    expect(result).toMatchObject({ status: 'ok', value: { json: 42 } });
    const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position });
    expect(JSON.stringify(hover.contents)).toContain('42');
  });

  it('runs call sites through a module alias, a dotted import and an aliased name, each with its own result', async () => {
    const text = PROJECT_FILES['scripts/module_calls.py'] ?? '';
    const uri = await open('scripts/module_calls.py');
    const actionsAt = (needle: string) => {
      const position = positionOf(text, needle, 1);
      return editor.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: [] } });
    };
    const runAt = async (needle: string, title: string): Promise<RunResult> => {
      const action = (await actionsAt(needle)).find((candidate) => candidate.title === title);
      expect(action?.command?.arguments?.[0]).toMatchObject({ uri });
      return editor.executeCommand<RunResult>('choppa.run', action?.command?.arguments?.[0]);
    };
    expect(await runAt('j.plain(2, 3)', 'Run j.plain(2, 3) remotely')).toMatchObject({ status: 'ok', value: { json: 6 } });
    expect(await runAt('analytics.jobs.plain(4, 5)', 'Run analytics.jobs.plain(4, 5) remotely')).toMatchObject({ status: 'ok', value: { json: 20 } });
    expect(await runAt('p(1, 1)', 'Run p(1, 1) remotely')).toMatchObject({ status: 'ok', value: { json: 1 } });
    // `first` is bound to `j.plain(2, 3)`: its result, not the latest of `plain` (1).
    expect(await runAt('j.plain(first, 10)', 'Run j.plain(first, 10) remotely')).toMatchObject({ status: 'ok', value: { json: 60 } });
    // No run action on something that only looks like one (an attribute of the function).
    expect((await actionsAt('__doc__')).filter((action) => action.title.startsWith('Run'))).toEqual([]);
    const hints = await editor.request<Array<{ position: { line: number }; label: string }>>('textDocument/inlayHint', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } },
    });
    expect(hints.map((hint) => [hint.position.line, hint.label])).toEqual([
      [4, '⇒ 6'],
      [5, '⇒ 20'],
      [6, '⇒ 1'],
      [7, '⇒ 60'],
    ]);
    // What concerns the function's results points at the file that defines it.
    const more = await actionsAt('j.plain(2, 3)');
    const log = more.find((candidate) => candidate.title === 'Show run log of plain');
    expect(log?.command?.arguments?.[0]).toEqual({ uri: editor.uri(join(root, 'analytics/jobs.py')), function: 'plain' });
  });

  it('runs where the workspace folder is not on the path', async () => {
    const uri = await open('scripts/probe.py', PROBE);
    const result = await run(uri, 'where');
    expect(result.status).toBe('ok');
    const { cwd, path } = result.value?.json as { cwd: string; path: string[] };
    expect(cwd).not.toBe(root);
    expect(path.filter((entry) => entry === root || entry === join(root, 'scripts') || entry === join(root, 'src'))).toEqual([]);
  });
});
