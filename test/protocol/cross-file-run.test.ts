// A function run from a call site in another file: the function's own file, open beside it, shows
// that result at its `def` at once (as its hover already did), not the run before it until the
// next keystroke.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const jobs = ['from choppa import Choppa', 'dutch = Choppa()', '', '@dutch.remote', 'def f(x=1):', '    return x * 10', '', 'f(1)', ''].join('\n');
const main = ['from jobs import f', '', 'y = f(3)', ''].join('\n');

const result = (all: Diagnostic[]): string | undefined => all.find((d) => d.code === 'run-result')?.message as string | undefined;

describe('a run from a call site in another file', () => {
  it('shows at the function\'s own open file at once', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'jobs.py'), jobs);
    writeFileSync(join(root, 'main.py'), main);
    const editor = await EditorClient.start({ root });
    try {
      const jobsUri = await editor.open(join(root, 'jobs.py'), jobs);
      const mainUri = await editor.open(join(root, 'main.py'), main);
      await editor.waitForDiagnostics(mainUri);
      await editor.executeCommand('choppa.run', { uri: jobsUri, function: 'f', args: '1', position: positionOf(jobs, 'f(1)') });
      expect(result(await editor.waitForDiagnostics(jobsUri, (all) => result(all) !== undefined))).toMatch(/^f\(1\) → 10 /);
      const ran = await editor.executeCommand<{ value?: { repr: string } }>('choppa.run', { uri: mainUri, function: 'f', args: '3', position: positionOf(main, 'f(3)') });
      expect(ran.value?.repr).toBe('30');
      // Before, jobs.py kept saying `f(1) → 10` until it was edited.
      const shown = await editor.waitForDiagnostics(jobsUri, (all) => result(all)?.startsWith('f(3)') === true);
      expect(result(shown)).toMatch(/^f\(3\) → 30 /);
    } finally {
      await editor.stop();
    }
  });
});
