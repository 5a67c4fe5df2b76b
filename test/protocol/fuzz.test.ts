// 10,000 seeded random edits through the real server over stdio, with hover, code action, inlay
// hint and code lens requests in between: every request is answered, the server never dies, and
// the diagnostics of the edited buffer end equal to those of the same text opened fresh. A failing
// seed replays exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { CodeAction, Diagnostic, Hover, InlayHint } from 'vscode-languageserver-protocol';
import { lineStarts } from '../../server/src/syntax/line-index.js';
import { EditorClient, tempDir } from '../support/lsp-client.js';

const SEED = 20261129;
const EDITS = 10_000;

const BASE = [
  'import numpy as np',
  'from choppa import Choppa',
  'dutch = Choppa(cluster_id="0123", result_size_max=10 * 1024)',
  'REGIONS = ["emea", "amer"]',
  '',
  '@dutch.remote',
  'def load(n):',
  '    """Rows."""',
  '    return [np.sqrt(i) for i in range(n)]',
  '',
  '@dutch.artifact  # choppa: cache',
  'def größe(ü, *rest, k=1):',
  '    s = "😀😀"',
  '    return len(ü) * k',
  '',
  'big = load(1000)',
  'größe(big, k=2)',
  'load(len(REGIONS))',
  '',
].join('\n');

const LINES = ['# c\n', '\n', 'x = 1\n', 'é = "😀"\n', 'import os\n', '@dutch.remote\ndef extra(q):\n    return q\n', '    y = (2,\n', 'out["x"] = [1, 2,\n', '"""\n', 'def f(:\n'];
const PIECES = ['x', '(', ')', ':', '😀', 'é', ' ', '"', "'''", '[', ']', ',', '\t', '@', '\r\n'];

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A random edit of `text` as an LSP range change (UTF-16 columns). */
function randomEdit(text: string, next: () => number): { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string } {
  const starts = lineStarts(text);
  const line = Math.floor(next() * starts.length);
  const lineText = text.slice(starts[line]!, (starts[line + 1] ?? text.length + 1) - 1);
  const roll = next();
  if (roll < 0.3) return { range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: LINES[Math.floor(next() * LINES.length)]! };
  if (roll < 0.5 && starts.length > 3) {
    const end = Math.min(starts.length - 1, line + 1 + Math.floor(next() * 3));
    return { range: { start: { line, character: 0 }, end: { line: end, character: 0 } }, text: '' };
  }
  const at = Math.floor(next() * (lineText.length + 1));
  if (roll < 0.8) return { range: { start: { line, character: at }, end: { line, character: at } }, text: PIECES[Math.floor(next() * PIECES.length)]! };
  const to = Math.min(lineText.length, at + 1 + Math.floor(next() * 6));
  return { range: { start: { line, character: at }, end: { line, character: to } }, text: '' };
}

function applyEdit(text: string, edit: ReturnType<typeof randomEdit>): string {
  const starts = lineStarts(text);
  const offset = (pos: { line: number; character: number }): number => {
    const start = starts[pos.line] ?? text.length;
    const lineEnd = pos.line + 1 < starts.length ? starts[pos.line + 1]! - 1 : text.length;
    return Math.min(start + pos.character, lineEnd);
  };
  return text.slice(0, offset(edit.range.start)) + edit.text + text.slice(offset(edit.range.end));
}

const comparable = (all: Diagnostic[]): unknown[] =>
  all.map((d) => ({ range: d.range, code: d.code, message: d.message, severity: d.severity })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

let root: string;
let editor: EditorClient;

beforeAll(async () => {
  root = tempDir();
  editor = await EditorClient.start({ root });
});
afterAll(async () => {
  await editor.stop();
});

describe(`${EDITS} random edits over stdio (seed ${SEED})`, () => {
  it('answers every request, never dies, and ends with the diagnostics of a fresh open', async () => {
    const next = random(SEED);
    let text = BASE;
    const uri = await editor.open(join(root, 'fuzz.py'), text);
    let version = 1;
    const answered: Array<Promise<unknown>> = [];
    for (let step = 0; step < EDITS; step += 1) {
      const edit = randomEdit(text, next);
      text = applyEdit(text, edit);
      version += 1;
      void editor.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [edit] });
      if (step % 97 === 0) {
        const line = Math.floor(next() * (text.split('\n').length));
        const position = { line, character: 2 };
        const range = { start: { line: 0, character: 0 }, end: { line: line + 1, character: 0 } };
        answered.push(editor.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position }));
        answered.push(editor.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: [] } }));
        answered.push(editor.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range }));
        answered.push(editor.request('textDocument/codeLens', { textDocument: { uri } }));
      }
      // Let the server breathe now and then, as a typist would.
      if (step % 500 === 0) await answered[answered.length - 1];
    }
    const results = await Promise.allSettled(answered);
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    // The edited buffer and the same text opened fresh agree.
    const fresh = await editor.open(join(root, 'fresh.py'), text);
    await editor.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } });
    const edited = await editor.waitForDiagnostics(uri, () => true);
    const opened = await editor.waitForDiagnostics(fresh, () => true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(comparable(editor.lastDiagnostics(uri))).toEqual(comparable(editor.lastDiagnostics(fresh)));
    expect(edited).toBeDefined();
    expect(opened).toBeDefined();
  }, 240_000);
});
