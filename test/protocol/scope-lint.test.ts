// Scope lint over the wire: free names of a remote function are warned about on each use, both
// quick fixes come back as edits that, once applied, leave a file with no warnings.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver-protocol';
import { useEditor } from '../support/lsp-client.js';

const workspace = useEditor();

const text = [
  'import numpy as np',
  'from choppa import Choppa',
  '',
  'dutch = Choppa()',
  'THRESHOLD = 3',
  '',
  '',
  'def helper(x):',
  '    return x',
  '',
  '',
  '@dutch.remote',
  'def score(values) -> list[Row]:',
  '    spark.range(1)',
  '    arr = np.array(values)',
  '    return [helper(v) for v in np.sort(arr) if v > THRESHOLD]',
  '',
].join('\n');

/** Applies LSP edits to a text (edits of one document, non-overlapping). */
function applyEdits(source: string, edits: TextEdit[]): string {
  const lines = source.split('\n');
  const offset = (line: number, character: number): number =>
    lines.slice(0, line).reduce((sum, l) => sum + l.length + 1, 0) + character;
  const sorted = [...edits].sort((a, b) => offset(b.range.start.line, b.range.start.character) - offset(a.range.start.line, a.range.start.character));
  let result = source;
  for (const edit of sorted) {
    const start = offset(edit.range.start.line, edit.range.start.character);
    const end = offset(edit.range.end.line, edit.range.end.character);
    result = result.slice(0, start) + edit.newText + result.slice(end);
  }
  return result;
}

const warnings = (diagnostics: Diagnostic[]): Diagnostic[] => diagnostics.filter((d) => d.code === 'free-name');

describe('scope lint', () => {
  it('warns on each use of a module import, global and sibling function, and not on spark or annotations', async () => {
    const uri = await workspace.editor.open(join(workspace.root, 'lint.py'), text);
    const diagnostics = warnings(await workspace.editor.waitForDiagnostics(uri));
    const flagged = diagnostics.map((d) => `${d.range.start.line}:${text.split('\n')[d.range.start.line]!.slice(d.range.start.character, d.range.end.character)}`);
    expect(flagged.sort()).toEqual(['14:np', '15:THRESHOLD', '15:helper', '15:np'].sort());
    expect(diagnostics.every((d) => d.severity === 2 && d.source === 'choppa')).toBe(true);
  });

  it('both quick fixes apply cleanly and clear the warnings they address', async () => {
    const path = join(workspace.root, 'fix.py');
    let current = text;
    const uri = await workspace.editor.open(path, current);
    const fix = async (name: string, title: RegExp): Promise<void> => {
      const diagnostic = warnings(await workspace.editor.waitForDiagnostics(uri)).find((d) => {
        const line = current.split('\n')[d.range.start.line]!;
        return line.slice(d.range.start.character, d.range.end.character) === name;
      });
      expect(diagnostic, name).toBeDefined();
      const actions = await workspace.editor.request<CodeAction[]>('textDocument/codeAction', {
        textDocument: { uri },
        range: diagnostic!.range,
        context: { diagnostics: [diagnostic!] },
      });
      const action = actions.find((a) => title.test(a.title));
      expect(action, `${name}: ${actions.map((a) => a.title).join(', ')}`).toBeDefined();
      expect(action!.kind).toBe('quickfix');
      const edits = action!.edit!.changes![uri]!;
      const next = applyEdits(current, edits);
      // Replace the whole document, as an editor applying a workspace edit would.
      const lines = current.split('\n');
      await workspace.editor.change(uri, { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: lines[lines.length - 1]!.length } }, next);
      current = next;
    };

    await fix('np', /^Move `import numpy as np` into `score`/);
    expect(current).toContain('def score(values) -> list[Row]:\n    import numpy as np\n    spark.range(1)');
    expect(current).not.toMatch(/^import numpy as np$/m);
    await fix('THRESHOLD', /^Add `THRESHOLD` as a parameter of `score`/);
    await fix('helper', /^Add `helper` as a parameter of `score`/);
    expect(current).toMatch(/def score\(values, (THRESHOLD, helper|helper, THRESHOLD)\) -> list\[Row\]:/);
    const remaining = warnings(await workspace.editor.waitForDiagnostics(uri, (all) => warnings(all).length === 0));
    expect(remaining).toEqual([]);
  });
});
