// Typing into a large file faster than the server reparses it: the diagnostics that end up
// published are those of the final text, and a request sent right after an edit already sees it.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { positionOf, useEditor } from '../support/lsp-client.js';

const FUNCTIONS = 300;

/** About 4,000 lines of decorated functions: big enough that a reparse takes many slices. */
function largeFile(): string {
  const lines = ['import numpy as np', 'from choppa import Choppa', '', 'dutch = Choppa()', ''];
  for (let i = 0; i < FUNCTIONS; i += 1) {
    lines.push('', '@dutch.remote', `def task_${i}(a, b=2):`, `    """Task ${i}."""`, '    total = 0');
    lines.push('    for x in range(a):', '        total += x * b', '        if x % 7 == 0:', '            total -= 1');
    lines.push('    return total');
  }
  return `${lines.join('\n')}\n`;
}

/** Diagnostics without what differs between two documents with the same text. */
function comparable(diagnostics: Diagnostic[]): unknown[] {
  return diagnostics
    .map(({ range, code, message, severity }) => ({ range, code, message, severity }))
    .sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

const workspace = useEditor();

describe('typing faster than the reparse', () => {
  it('publishes the diagnostics of the final text', async () => {
    let text = largeFile();
    const uri = await workspace.editor.open(join(workspace.root, 'typed.py'), text);
    await workspace.editor.waitForDiagnostics(uri);
    // Type a line at the top of a body near the start, one character per message without waiting
    // for anything: every prefix breaks the syntax of the rest of the file.
    const start = positionOf(text, '    total = 0');
    const typed = '    y = np.sqrt(a)\n';
    let { line, character } = start;
    for (const char of typed) {
      await workspace.editor.change(uri, { start: { line, character }, end: { line, character } }, char);
      const offset = text.split('\n').slice(0, line).join('\n').length + (line > 0 ? 1 : 0) + character;
      text = text.slice(0, offset) + char + text.slice(offset);
      if (char === '\n') {
        line += 1;
        character = 0;
      } else {
        character += 1;
      }
    }
    const diagnostics = await workspace.editor.waitForDiagnostics(uri);
    // The free `np` in the typed line is flagged where the final text has it.
    const free = diagnostics.filter((d) => d.code === 'free-name');
    expect(free.map((d) => d.range.start)).toEqual([{ line: start.line, character: 8 }]);
    // And everything equals what a fresh open of the final text yields.
    const reopened = await workspace.editor.open(join(workspace.root, 'fresh.py'), text);
    expect(comparable(diagnostics)).toEqual(comparable(await workspace.editor.waitForDiagnostics(reopened)));
  });

  it('answers hover right after an edit from the edited text', async () => {
    const text = largeFile();
    const uri = await workspace.editor.open(join(workspace.root, 'renamed.py'), text);
    await workspace.editor.waitForDiagnostics(uri);
    for (const i of [250, 20, 140]) {
      // Rename `task_<i>` by typing, and ask for hover on it in the very next message.
      const at = positionOf(text, `def task_${i}(`, 4 + `task_${i}`.length);
      await workspace.editor.change(uri, { start: at, end: at }, 'x');
      const hover = await workspace.editor.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: at.line, character: 6 } });
      expect(JSON.stringify(hover?.contents)).toContain(`task_${i}x`);
      await workspace.editor.change(uri, { start: at, end: { line: at.line, character: at.character + 1 } }, '');
    }
    // Broken syntax right before the request: the hover on a later function still reflects it.
    const broken = positionOf(text, 'def task_10(');
    await workspace.editor.change(uri, { start: broken, end: broken }, 'x');
    const later = positionOf(text, 'def task_200(', 4);
    const hover = await workspace.editor.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: later });
    expect(JSON.stringify(hover?.contents)).toContain('task_200');
  });
});
