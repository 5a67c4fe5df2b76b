// A monorepo opened at its root in the editor: two projects, each with its own `pyproject.toml`
// and `src/` layout, and a module of the same name (`common`) in each. Functions decorated through
// each project's instance get their actions, and each runs with its own project's modules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CodeAction, Hover } from 'vscode-languageserver-protocol';
import { EditorClient, positionOf, RICH_CAPABILITIES, tempDir } from '../support/lsp-client.js';

const CAPABILITIES = {
  ...RICH_CAPABILITIES,
  workspace: { ...RICH_CAPABILITIES.workspace, workspaceFolders: true, didChangeWatchedFiles: { dynamicRegistration: true } },
};

function jobs(pkg: string, fn: string): string {
  return [`from ${pkg}.cluster import dutch`, '', '@dutch.remote', `def ${fn}():`, `    from ${pkg} import util`, '    import common', '    return [util.WHO, common.WHO]', ''].join('\n');
}

const FILES: Record<string, string> = {
  'projA/pyproject.toml': '[project]\nname = "alpha"\n\n[tool.poetry]\npackages = [{ include = "alpha", from = "src" }]\n',
  'projA/src/alpha/__init__.py': '',
  'projA/src/alpha/cluster.py': 'from choppa import Choppa\n\ndutch = Choppa()\n',
  'projA/src/alpha/util.py': 'WHO = "alpha.util"\n',
  'projA/src/common.py': 'WHO = "projA common"\n',
  'projA/src/alpha/jobs.py': jobs('alpha', 'a_job'),
  'projB/pyproject.toml': '[project]\nname = "beta"\n\n[tool.setuptools.packages.find]\nwhere = ["src"]\n',
  'projB/src/beta/__init__.py': '',
  'projB/src/beta/cluster.py': 'from choppa import Choppa\n\ndutch = Choppa()\n',
  'projB/src/beta/util.py': 'WHO = "beta.util"\n',
  'projB/src/common.py': 'WHO = "projB common"\n',
  'projB/src/beta/jobs.py': jobs('beta', 'b_job'),
};

describe('a monorepo of two projects opened at its root', () => {
  let root: string;
  let editor: EditorClient;

  beforeAll(async () => {
    root = tempDir();
    mkdirSync(join(root, '.git'));
    for (const [relative, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(root, relative)), { recursive: true });
      writeFileSync(join(root, relative), text);
    }
    editor = await EditorClient.start({ root, capabilities: CAPABILITIES, env: { DATABRICKS_CONFIG_FILE: join(root, 'none') } });
  });
  afterAll(async () => {
    await editor.stop();
  });

  it.each([
    ['projA/src/alpha/jobs.py', 'a_job', ['alpha.util', 'projA common']],
    ['projB/src/beta/jobs.py', 'b_job', ['beta.util', 'projB common']],
  ])('offers %s %s its actions and runs it with its own project modules', async (file, fn, expected) => {
    const text = FILES[file]!;
    const uri = await editor.open(join(root, file), text);
    const actions = await editor.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: positionOf(text, `def ${fn}`), end: positionOf(text, `def ${fn}`) },
      context: { diagnostics: [] },
    });
    expect(actions.map((action) => action.title)).toContain(`Run ${fn} remotely`);
    const result = await editor.executeCommand<{ status: string; value?: { json?: unknown } }>('choppa.run', { uri, function: fn });
    expect(result).toMatchObject({ status: 'ok', value: { json: expected } });
  });

  it('says in the hover which file of the workspace each shipped module is', async () => {
    const file = 'projB/src/beta/jobs.py';
    const text = FILES[file]!;
    const uri = await editor.open(join(root, file), text);
    const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'b_job') });
    const shown = (hover.contents as { value: string }).value;
    expect(shown).toMatch(/- `common` \(projB\/src\/common\.py, \d+ B\)/);
    expect(shown).toMatch(/- `beta\.util` \(projB\/src\/beta\/util\.py, \d+ B\)/);
  });
});
