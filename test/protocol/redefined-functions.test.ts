// A remote function defined twice in one module: Python keeps the last `def`, so every run (from
// the call site, by name) ships the last one, and the earlier one says why it offers no run.
// Defined in the branches of an `if`, which one runs is decided at run time: the run is refused.
// Against real python3, in a tab-indented file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const text = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa()',
  '',
  '',
  '@dutch.remote',
  'def tabbed(a, b=1):',
  '\tif a > b:',
  '\t\treturn a - b',
  '\treturn b - a',
  '',
  '',
  '@dutch.remote',
  'def tabbed(a, b=2):',
  '\treturn a * b',
  '',
  '',
  'print(tabbed(5, 2))',
  '',
  'if FAST:',
  '\t@dutch.remote',
  '\tdef branchy(x):',
  '\t\treturn x + 1',
  'else:',
  '\t@dutch.remote',
  '\tdef branchy(x):',
  '\t\treturn x - 1',
  '',
].join('\n');

let editor: EditorClient;
let uri: string;

beforeAll(async () => {
  const root = tempDir();
  editor = await EditorClient.start({ root });
  uri = await editor.open(`${root}/jobs.py`, text);
});

afterAll(async () => {
  await editor.stop();
});

function actionsAt(needle: string): Promise<CodeAction[]> {
  const position = positionOf(text, needle, 5);
  return editor.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: [] } });
}

describe('a function defined twice', () => {
  it('warns at the first definition and offers no run there', async () => {
    const firstDef = positionOf(text, 'def tabbed(a, b=1)').line;
    const diagnostics = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'function-redefined'));
    const warning = diagnostics.find((d: Diagnostic) => d.code === 'function-redefined')!;
    expect(warning.range.start.line).toBe(firstDef);
    expect(warning.message).toBe(
      '`tabbed` is defined again at line 14: from there on, and in every module that imports it, Python calls that definition, so choppa runs only that one. Rename one of them to run both.',
    );
    expect((await actionsAt('def tabbed(a, b=1)')).map((action) => action.title)).toEqual([]);
    expect((await actionsAt('def tabbed(a, b=2)')).map((action) => action.title)).toContain('Run tabbed remotely');
  });

  it('runs the last definition from the call site, as Python would', async () => {
    const action = (await actionsAt('tabbed(5, 2))')).find((candidate) => candidate.title === 'Run tabbed(5, 2) remotely')!;
    const result = await editor.request<{ status: string; value?: { repr: string } }>('workspace/executeCommand', action.command);
    expect(result).toMatchObject({ status: 'ok', value: { repr: '10' } });
  });

  it('runs the last definition when asked by name', async () => {
    const result = await editor.executeCommand<{ status: string; value?: { repr: string } }>('choppa.run', { uri, function: 'tabbed', args: '7, 3', fresh: true });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '21' } });
  });
});

describe('a function defined in both branches of an if', () => {
  it('is refused with the reason, rather than running one of them', async () => {
    const result = await editor.executeCommand<{ status: string; error?: { message: string } }>('choppa.run', { uri, function: 'branchy', args: '1' });
    expect(result.status).toBe('error');
    expect(result.error?.message).toBe(
      '`branchy` is defined 2 times in this module, not all at the top level: which definition the module binds is decided when it runs, so choppa runs none of them. Give each its own name.',
    );
    expect((await actionsAt('def branchy')).map((action) => action.title)).toEqual([]);
  });
});
