// Non-ASCII names and strings, emoji and CJK on the lines of calls and decorators, in a CRLF file:
// actions and inlay hints sit at UTF-16 positions, and a label cut to fit never cuts an emoji in
// half (a lone half reaches the editor as U+FFFD: `�…`).
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

beforeAll(async () => {
  const root = tempDir();
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
