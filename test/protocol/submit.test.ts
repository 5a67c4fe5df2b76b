// Submitted jobs over the wire on the local backend: the handle comes back at once, a Hint shows
// the run's state, the run outlives the server (a new server picks it up from state.json and
// shows its result in hover), a failed job lands at the raising line, and a job can be cancelled.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const text = (gate: string): string =>
  [
    'from choppa import Choppa',
    'dutch = Choppa(artifact_dir="/Volumes/main/default/jobs")',
    '',
    '@dutch.submit',
    'def train(gate, epochs=3):',
    '    import os, time',
    '    while not os.path.exists(gate):',
    '        time.sleep(0.02)',
    '    return {"epochs": epochs, "loss": 0.25}',
    '',
    '@dutch.submit',
    'def broken():',
    '    values = [1, 2]',
    '    return values[5]',
    '',
    '@dutch.submit',
    'def forever():',
    '    import time',
    '    time.sleep(600)',
    '',
    `GATE = ${JSON.stringify(gate)}`,
    '',
  ].join('\n');

interface Submitted {
  status: string;
  id: string;
  runId: string;
  state: string;
}

const hint = (all: Diagnostic[]): Diagnostic | undefined => all.find((d) => d.code === 'run-submitted');

describe('submit', () => {
  it('returns a handle at once, and the job outlives the server: a new server shows its result', async () => {
    const root = tempDir();
    const gate = join(root, 'gate');
    const file = join(root, 'jobs.py');
    const source = text(gate);
    writeFileSync(file, source);
    const first = await EditorClient.start({ root });
    let id: string;
    try {
      const uri = await first.open(file, source);
      const lenses = await first.request<Array<{ command?: { title: string } }>>('textDocument/codeLens', { textDocument: { uri } });
      expect(lenses[0]?.command?.title).toBe('Submit train as a job');
      const handle = await first.executeCommand<Submitted>('choppa.submit', { uri, function: 'train', args: JSON.stringify(gate) });
      expect(handle).toMatchObject({ status: 'submitted', state: 'pending' });
      id = handle.id;
      const pending = hint(await first.waitForDiagnostics(uri, (all) => hint(all) !== undefined))!;
      expect(pending.severity).toBe(4);
      expect(pending.message).toMatch(/^train: submitted job run \S+ is (PENDING|RUNNING)/);
      const runs = await first.executeCommand<{ submitted: Array<{ id: string; state: string }> }>('choppa.listRuns', { uri });
      expect(runs.submitted.map((run) => run.id)).toEqual([id]);
      // The job shows as a cancellable progress while it is followed.
      await first.waitForProgress((value) => (value as { kind?: string; title?: string }).kind === 'begin' && (value as { title?: string }).title === 'Job train');
    } finally {
      await first.stop();
    }

    // The editor is gone; the job is not. Let it finish, then open the project again.
    writeFileSync(gate, 'go');
    const second = await EditorClient.start({ root });
    try {
      const uri = await second.open(file, source);
      const done = await second.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result'));
      expect(done.find((d) => d.code === 'run-result')?.message).toMatch(/^train\(.*\) \[artifact\] → ArtifactRef .* \(dict\)/);
      expect(hint(done)).toBeUndefined();
      await second.waitForMessage((message) => message.includes('submitted run of train') && message.includes('finished'));
      const hover = await second.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(source, 'train(gate') });
      expect((hover.contents as { value: string }).value).toContain('/Volumes/main/default/jobs/');
      const deref = await second.executeCommand<{ previewPath: string }>('choppa.dereference', { uri, function: 'train' });
      expect(deref.previewPath).toContain(join(root, '.choppa', 'artifacts'));
    } finally {
      await second.stop();
    }
  });

  it('puts a failed job at the line that raised, with the remote traceback', async () => {
    const root = tempDir();
    const editor = await EditorClient.start({ root });
    try {
      const source = text(join(root, 'unused'));
      const uri = await editor.open(join(root, 'jobs.py'), source);
      const submitted = await editor.executeCommand<Submitted>('choppa.submit', { uri, function: 'broken' });
      const all = await editor.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'remote-error'));
      const error = all.find((d) => d.code === 'remote-error')!;
      expect(error.range.start.line).toBe(source.split('\n').indexOf('    return values[5]'));
      expect(error.message).toContain('IndexError');
      const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(source, 'broken()') });
      expect((hover.contents as { value: string }).value).toContain('Traceback');
      // Reported as an error, not as news.
      const said = await editor.waitForMessage((message) => message.includes('submitted run of broken') && message.includes('failed'));
      expect(said.type).toBe(1);
      // Its log, by the id the submit returned (as `choppa-lsp runs` and the VS Code runs view name it).
      const log = await editor.executeCommand<{ path: string }>('choppa.showLog', { id: submitted.id });
      expect(readFileSync(log.path, 'utf8')).toContain('# failed');
    } finally {
      await editor.stop();
    }
  });

  it('cancels a submitted job where it runs', async () => {
    const root = tempDir();
    const editor = await EditorClient.start({ root });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), text(join(root, 'unused')));
      const handle = await editor.executeCommand<Submitted>('choppa.submit', { uri, function: 'forever' });
      const cancelled = await editor.executeCommand<{ cancelled: boolean }>('choppa.cancel', { id: handle.id });
      expect(cancelled.cancelled).toBe(true);
      const all = await editor.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'run-cancelled'));
      expect(hint(all)).toBeUndefined();
    } finally {
      await editor.stop();
    }
  });
});
