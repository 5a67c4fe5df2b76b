// Detection over the wire: every import, alias and decorator form yields run actions and lenses
// for the right functions, and nothing else does; unsupported forms get a diagnostic.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { CodeAction, CodeLens, Diagnostic } from 'vscode-languageserver-protocol';
import { positionOf, useEditor } from '../support/lsp-client.js';

const workspace = useEditor();

/** The function names the server offers lenses for, in order (every one offers Run as artifact). */
async function lensFunctions(name: string, text: string): Promise<string[]> {
  const uri = await workspace.editor.open(join(workspace.root, name), text);
  const lenses = await workspace.editor.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
  const names = lenses
    .filter((lens) => ['choppa.run', 'choppa.runArtifact', 'choppa.submit'].includes(lens.command?.command ?? ''))
    .map((lens) => (lens.command?.arguments?.[0] as { function: string }).function);
  return names;
}

describe('Choppa instances and decorators are found in every form', () => {
  it.each([
    ['from-import', 'from choppa import Choppa\ndutch = Choppa()\n@dutch.remote\ndef f():\n    return 1\n', ['f']],
    ['alias', 'from choppa import Choppa as C\nd = C(cluster_id="x")\n@d.remote()\ndef f():\n    return 1\n', ['f']],
    ['module import', 'import choppa\ndutch = choppa.Choppa()\n@dutch.artifact\ndef f():\n    return 1\n', ['f']],
    ['module alias', 'import choppa as ch\ndutch = ch.Choppa()\n@dutch.submit\ndef f():\n    return 1\n', ['f']],
    ['annotated', 'from choppa import Choppa\ndutch: Choppa = Choppa()\n@dutch.remote\ndef f():\n    return 1\n', ['f']],
    [
      'stacked and called',
      'import functools\nfrom choppa import Choppa\ndutch = Choppa()\n@functools.wraps(print)\n@dutch.artifact()\n@staticmethod\ndef g():\n    return 2\n@dutch.remote\ndef h(x=1):\n    return x\n',
      ['g', 'h'],
    ],
    ['not a Choppa instance', 'from flask import Flask\napp = Flask()\n@app.remote\ndef f():\n    return 1\n', []],
    ['Choppa not imported from choppa', 'from other import Choppa\nd = Choppa()\n@d.remote\ndef f():\n    return 1\n', []],
  ])('%s', async (name, text, expected) => {
    expect(await lensFunctions(`${name.replace(/\W/g, '-')}.py`, text)).toEqual(expected);
  });
});

describe('code actions sit on decorated functions and on their call sites', () => {
  const text = [
    'from choppa import Choppa',
    'dutch = Choppa()',
    '@dutch.remote',
    'def add(a, b):',
    '    return a + b',
    '',
    'with dutch.session():',
    '    total = add(1, b=2)',
    '',
  ].join('\n');

  it('offers Run remotely and Run as artifact at the def and at the call, with the call arguments', async () => {
    const uri = await workspace.editor.open(join(workspace.root, 'actions.py'), text);
    const at = async (needle: string): Promise<CodeAction[]> => {
      const position = positionOf(text, needle);
      return workspace.editor.request<CodeAction[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: { start: position, end: position },
        context: { diagnostics: [] },
      });
    };
    const onDef = await at('add(a');
    expect(onDef.map((action) => action.title)).toEqual(['Run add remotely', 'Run add as artifact', 'Submit add as a job']);
    expect(onDef[0]!.command).toEqual({ title: 'Run add remotely', command: 'choppa.run', arguments: [{ uri, function: 'add' }] });
    const onCall = await at('add(1');
    expect(onCall.map((action) => action.title)).toEqual(['Run add(1, b=2) remotely', 'Run add(1, b=2) as artifact', 'Submit add(1, b=2) as a job']);
    expect(onCall[1]!.command?.command).toBe('choppa.runArtifact');
    expect(onCall[0]!.command?.arguments?.[0]).toEqual({ uri, function: 'add', args: '1, b=2', position: positionOf(text, 'add(1') });
    expect(await at('with dutch')).toEqual([]);
  });

  it('says async defs and methods are not supported instead of staying silent', async () => {
    const source = [
      'from choppa import Choppa',
      'dutch = Choppa()',
      '@dutch.remote',
      'async def fetch():',
      '    return 1',
      'class Model:',
      '    @dutch.remote',
      '    def fit(self):',
      '        return 2',
      '',
    ].join('\n');
    const uri = await workspace.editor.open(join(workspace.root, 'unsupported.py'), source);
    const diagnostics = await workspace.editor.waitForDiagnostics(uri, (all) => all.length >= 2);
    const byCode = (code: string): Diagnostic | undefined => diagnostics.find((d) => d.code === code);
    expect(byCode('async-not-supported')?.range.start.line).toBe(3);
    expect(byCode('method-not-supported')?.range.start.line).toBeGreaterThanOrEqual(6);
    expect(await lensFunctions('unsupported-2.py', source)).toEqual([]);
  });

  it('refuses a run or submit of an async def or a method by name with the reason, not "no such function"', async () => {
    const source = ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'async def pull():', '    return 1', 'class Model:', '    @dutch.remote', '    def fit(self):', '        return 2', ''].join('\n');
    const uri = await workspace.editor.open(join(workspace.root, 'refused.py'), source);
    type Refused = { status: string; error?: { type: string; message: string } };
    const run = await workspace.editor.executeCommand<Refused>('choppa.run', { uri, function: 'pull' });
    expect(run.status).toBe('error');
    expect(run.error?.message).toMatch(/^`pull` is an `async def`: `@dutch\.remote` does not support coroutines, because the cluster runs the function synchronously/);
    expect((await workspace.editor.waitForMessage((message) => message.startsWith('choppa: pull:'))).message).toContain('is an `async def`');
    const submitted = await workspace.editor.executeCommand<Refused>('choppa.submit', { uri, function: 'pull' });
    expect(submitted.error?.message).toBe(run.error?.message);
    const method = await workspace.editor.executeCommand<Refused>('choppa.run', { uri, function: 'fit' });
    expect(method.error?.message).toMatch(/^`fit` is a method of class `Model`/);
    expect(workspace.editor.messages.filter((m) => m.message.includes('decorated by a Choppa instance'))).toEqual([]);
  });
});
