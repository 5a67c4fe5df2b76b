// A run whose function moves while it runs (lines typed above it): the error the run returns
// points at the line that raised as the document is when the run ends, as the stored error's
// diagnostic does, not at where the function was when the run started.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { useEditor } from '../support/lsp-client.js';

const text = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa()',
  '',
  '@dutch.remote',
  'def slow_fail(x):',
  '    import time',
  '    time.sleep(1.5)',
  '    return x / 0',
  '',
].join('\n');
const RAISES = text.split('\n').indexOf('    return x / 0');

const workspace = useEditor();
let uri: string;

beforeAll(async () => {
  uri = await workspace.editor.open(join(workspace.root, 'slow.py'), text);
  await workspace.editor.waitForDiagnostics(uri);
});

describe('a function moved while it runs', () => {
  it('gets its error line where the function is when the run ends', async () => {
    const running = workspace.editor.executeCommand<{ status: string; error?: { type: string; line?: number } }>('choppa.run', { uri, function: 'slow_fail', args: '1' });
    // The run is under way (python3 is sleeping) when three lines are typed above the function.
    await new Promise((resolve) => setTimeout(resolve, 700));
    await workspace.editor.change(uri, { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, '# one\n# two\n# three\n');
    await workspace.editor.waitForDiagnostics(uri);
    const result = await running;
    expect(result.status).toBe('error');
    expect(result.error).toMatchObject({ type: 'ZeroDivisionError', line: RAISES + 3 });
    const errorAt = (all: Diagnostic[]): boolean => all.some((d) => d.code === 'remote-error' && d.range.start.line === RAISES + 3);
    expect(errorAt(await workspace.editor.waitForDiagnostics(uri, errorAt))).toBe(true);
  }, 30_000);
});
