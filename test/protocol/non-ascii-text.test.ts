// Non-ASCII names and strings, emoji and CJK on the lines of calls and decorators, in a CRLF file:
// actions and inlay hints sit at UTF-16 positions, a label cut to fit never cuts an emoji in half
// (a lone half reaches the editor as U+FFFD: `�…`), and a module named `données.py` ships.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeAction, InlayHint } from 'vscode-languageserver-protocol';
import { EditorClient, tempDir } from '../support/lsp-client.js';

const lines = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa()  # 東京 🚀',
  '',
  '',
  '@dutch.remote  # 🎉 résumé',
  'def résumé(étiquette: str = "défaut") -> str:',
  '    """Résumé 📦."""',
  '    return étiquette + "x" * 32 + "🎉🎉🎉🎉"',
  '',
  '',
  'out = résumé("😀 東京")  # 特徴 🎉',
  '',
];
const text = lines.join('\r\n');

let editor: EditorClient;
let uri: string;
let root: string;

const lecture = 'from choppa import Choppa\n\ndutch = Choppa()\n\n\n@dutch.remote\ndef lire(n):\n    from .données import charger\n    return charger(n)\n';

beforeAll(async () => {
  root = tempDir();
  mkdirSync(join(root, 'churn'));
  writeFileSync(join(root, 'churn/__init__.py'), '');
  writeFileSync(join(root, 'churn/données.py'), 'def charger(n):\n    return list(range(n))\n');
  writeFileSync(join(root, 'churn/lecture.py'), lecture);
  editor = await EditorClient.start({ root });
  uri = await editor.open(`${root}/jobs.py`, text);
});

afterAll(async () => {
  await editor.stop();
});

describe('emoji and CJK on the lines of calls', () => {
  it('runs the call from its code action, and shows its hint at the end of the call in UTF-16 units', async () => {
    const callLine = lines.indexOf('out = résumé("😀 東京")  # 特徴 🎉');
    const at = { line: callLine, character: 'out = résumé("😀'.length };
    const actions = await editor.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: at, end: at }, context: { diagnostics: [] } });
    const run = actions.find((action) => action.title === 'Run résumé("😀 東京") remotely')!;
    const result = await editor.request<{ status: string; value?: { repr: string } }>('workspace/executeCommand', run.command);
    expect(result).toMatchObject({ status: 'ok', value: { repr: `'😀 東京${'x'.repeat(32)}🎉🎉🎉🎉'` } });
    const hints = await editor.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } } });
    expect(hints).toHaveLength(1);
    expect(hints[0]!.position).toEqual({ line: callLine, character: 'out = résumé("😀 東京")'.length });
    const label = String(hints[0]!.label);
    expect(label).not.toContain('\uFFFD');
    expect(label).toBe(`⇒ '😀 東京${'x'.repeat(32)}…`);
  });
});

describe('a module with a non-ASCII name', () => {
  it('ships with the function that imports it, as Python imports it', async () => {
    const lectureUri = await editor.open(join(root, 'churn/lecture.py'), lecture);
    const result = await editor.executeCommand<{ status: string; value?: { repr: string }; error?: { message: string } }>('choppa.run', { uri: lectureUri, function: 'lire', args: '3' });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '[0, 1, 2]' } });
  });
});
