// Work-done progress and cancellation over the wire: a run reports begin/report/end with its
// latest output line, and `$/cancelRequest` stops it where it runs, leaving the backend usable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import { EditorClient, tempDir } from '../support/lsp-client.js';
import { PROGRESS_DELAY_MS } from '../../server/src/protocol/progress.js';

const text = [
  'import time',
  'from choppa import Choppa',
  'dutch = Choppa()',
  '',
  '@dutch.remote',
  'def slow(steps=600):',
  '    import time',
  '    for i in range(steps):',
  '        print(f"tick {i}")',
  '        time.sleep(0.05)',
  '    return "finished"',
  '',
  '@dutch.remote',
  'def quick():',
  '    return 42',
  '',
].join('\n');

let editor: EditorClient;
let uri: string;

beforeAll(async () => {
  const root = tempDir();
  editor = await EditorClient.start({ root });
  uri = await editor.open(join(root, 'slow.py'), text);
});
afterAll(async () => {
  await editor.stop();
});

interface ProgressValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  cancellable?: boolean;
}

const values = (): ProgressValue[] => editor.progress.map((entry) => entry.value as ProgressValue);

describe('progress and cancellation', () => {
  it('reports a cancellable progress with the latest output line, then cancels on $/cancelRequest', async () => {
    const source = new CancellationTokenSource();
    const running = editor.connection.sendRequest(
      'workspace/executeCommand',
      { command: 'choppa.run', arguments: [{ uri, function: 'slow' }] },
      source.token,
    ) as Promise<{ status: string }>;
    // Wait until the function has printed: then it is surely running remotely.
    await editor.waitForProgress((value) => {
      const progress = value as ProgressValue;
      return progress.kind === 'report' && progress.message?.includes('tick') === true;
    });
    const begin = values().find((value) => value.kind === 'begin');
    expect(begin).toMatchObject({ title: 'Running slow', cancellable: true });
    source.cancel();
    const result = await running.catch((error: unknown) => ({ status: `rejected: ${String(error)}` }));
    expect(result.status).toBe('cancelled');
    expect(values().at(-1)?.kind).toBe('end');
    const hint = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-cancelled'));
    expect(hint.find((d) => d.code === 'run-cancelled')?.message).toBe('slow: run cancelled');

    const next = await editor.executeCommand<{ status: string; value?: { json?: unknown } }>('choppa.run', { uri, function: 'quick' });
    expect(next.value?.json).toBe(42);
  });

  it('cancels when the user cancels the progress itself (window/workDoneProgress/cancel)', async () => {
    const seen = editor.progress.length;
    const running = editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'slow' });
    await editor.waitForProgress((value) => {
      const progress = value as ProgressValue;
      return progress.kind === 'report' && progress.message?.includes('tick') === true && editor.progress.length > seen;
    });
    const token = editor.progress.slice(seen).find((entry) => (entry.value as ProgressValue).kind === 'begin' && (entry.value as ProgressValue).title === 'Running slow')!.token;
    await editor.connection.sendNotification('window/workDoneProgress/cancel', { token });
    expect((await running).status).toBe('cancelled');
    const next = await editor.executeCommand<{ value?: { json?: unknown } }>('choppa.run', { uri, function: 'quick' });
    expect(next.value?.json).toBe(42);
  });

  it('shows no progress for a run answered within the delay, and a progress for a longer one', async () => {
    await editor.executeCommand('choppa.run', { uri, function: 'quick' });
    // What the runs before may still send (a progress ends after its answer) arrives first.
    await new Promise((resolve) => setTimeout(resolve, 2 * PROGRESS_DELAY_MS));
    // Warm now: a run of a few milliseconds asks for no token and sends no progress at all. A
    // loaded machine may take longer for one; some of five are well within the delay.
    let quickOnes = 0;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const seen = editor.progress.length;
      const started = Date.now();
      const result = await editor.executeCommand<{ value?: { json?: unknown } }>('choppa.run', { uri, function: 'quick' });
      const took = Date.now() - started;
      expect(result.value?.json).toBe(42);
      if (took > PROGRESS_DELAY_MS / 2) continue;
      quickOnes += 1;
      await new Promise((resolve) => setTimeout(resolve, 2 * PROGRESS_DELAY_MS));
      expect(editor.progress.slice(seen)).toEqual([]);
    }
    expect(quickOnes).toBeGreaterThan(0);
    const before = editor.progress.length;
    const slow = editor.executeCommand<{ value?: { json?: unknown } }>('choppa.run', { uri, function: 'slow', args: 'steps=3' });
    expect((await slow).value?.json).toBe('finished');
    await new Promise((resolve) => setTimeout(resolve, 2 * PROGRESS_DELAY_MS));
    const shown = editor.progress.slice(before).map((entry) => entry.value as ProgressValue);
    expect(shown[0]).toMatchObject({ kind: 'begin', title: 'Running slow' });
    expect(shown.at(-1)?.kind).toBe('end');
  });

});
