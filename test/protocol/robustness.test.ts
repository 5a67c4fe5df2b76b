// Bad input never takes the server down: a file typed one character at a time (every prefix
// half-typed), random deletions, garbage, a huge file, and a corrupt state.json.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction, Hover } from 'vscode-languageserver-protocol';
import { EditorClient, tempDir, useEditor } from '../support/lsp-client.js';

const program = [
  'import numpy as np',
  'from choppa import Choppa as C',
  'dütch = C(result_size_max=2**10, cluster_id="0123-456789-abc")',
  '',
  '@dütch.remote()',
  'def größe(werte: list[int], *, faktor=2) -> int:',
  '    """Σ of the values 🎉."""',
  '    return sum(w * faktor for w in np.array(werte))',
  '',
  'with dütch.session():',
  '    x = größe([1, 2, 3])',
  '',
].join('\n');

const workspace = useEditor();

/** Asks hover and code actions at every line; the server must answer every one. */
async function probeEverywhere(uri: string, lines: number): Promise<void> {
  for (let line = 0; line < lines; line += 1) {
    const position = { line, character: 4 };
    await workspace.editor.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
    await workspace.editor.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: [] } });
  }
}

describe('the server keeps serving', () => {
  it('while a file is typed one character at a time (every prefix is half-typed Python)', async () => {
    const uri = await workspace.editor.open(join(workspace.root, 'typed.py'), '');
    let line = 0;
    let character = 0;
    for (const char of program) {
      await workspace.editor.change(uri, { start: { line, character }, end: { line, character } }, char);
      if (char === '\n') {
        line += 1;
        character = 0;
      } else {
        character += char.length;
      }
    }
    const diagnostics = await workspace.editor.waitForDiagnostics(uri);
    // Typed to the end, the analysis matches the file: the free `np` is flagged in größe.
    expect(diagnostics.filter((d) => d.code === 'free-name').map((d) => d.range.start)).toEqual([{ line: 7, character: 35 }]);
    await probeEverywhere(uri, 12);
    expect(workspace.editor.alive).toBe(true);
  });

  it('through random deletions and garbage', async () => {
    const uri = await workspace.editor.open(join(workspace.root, 'garbage.py'), program);
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const junk = ['@dütch.', 'def (', '"""', ')', ':', '\t', '\r\n', '@', 'class X(', 'lambda', '🎉', '\\'];
    for (let i = 0; i < 300; i += 1) {
      const line = random(12);
      const character = random(30);
      if (random(2) === 0) {
        await workspace.editor.change(uri, { start: { line, character }, end: { line, character: character + random(8) } }, '');
      } else {
        await workspace.editor.change(uri, { start: { line, character }, end: { line, character } }, junk[random(junk.length)]!);
      }
    }
    await probeEverywhere(uri, 14);
    const lenses = await workspace.editor.request<unknown[]>('textDocument/codeLens', { textDocument: { uri } });
    expect(Array.isArray(lenses)).toBe(true);
    expect(workspace.editor.alive).toBe(true);
  });

  it('on a huge file', async () => {
    const body = Array.from({ length: 2000 }, (_, i) => `@dütch.remote\ndef f${i}(a):\n    return a + ${i}\n`).join('\n');
    const text = `${program}\n${body}`;
    const uri = await workspace.editor.open(join(workspace.root, 'huge.py'), text);
    await workspace.editor.waitForDiagnostics(uri);
    const lenses = await workspace.editor.request<unknown[]>('textDocument/codeLens', { textDocument: { uri } });
    // Run remotely and "⋯ more" on each of the 2001 functions.
    expect(lenses.length).toBe(2 * 2001);
  });

  it('when .choppa/state.json is corrupt: it is moved aside with a warning, and runs still work', async () => {
    const folder = tempDir();
    mkdirSync(join(folder, '.choppa'));
    writeFileSync(join(folder, '.choppa', 'state.json'), '{"version": 1, "results": {"trunc');
    const other = await EditorClient.start({ root: folder });
    try {
      const uri = await other.open(join(folder, 'p.py'), program);
      await other.waitForDiagnostics(uri);
      await other.waitForMessage((message) => message.includes('state.json') && message.includes('moved'));
      expect(readdirSync(join(folder, '.choppa')).some((name) => name.startsWith('state.json.corrupt-'))).toBe(true);
      // The scope warning was right: `np` does not exist where the function runs.
      const result = await other.executeCommand<{ status: string; error?: { type: string; line?: number } }>('choppa.run', { uri, function: 'größe', args: '[1, 2]' });
      expect(result).toMatchObject({ status: 'error', error: { type: 'NameError', line: 7 } });
      expect(other.alive).toBe(true);
    } finally {
      await other.stop();
    }
  });
});
