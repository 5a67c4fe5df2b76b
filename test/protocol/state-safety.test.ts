// A planted `.choppa/` (a cloned repository can carry one) cannot make the server write or show
// files outside it: `logs` and `artifacts` symlinked elsewhere are refused with a clear message,
// and a log path tampered into the state file is not opened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EditorClient, tempDir } from '../support/lsp-client.js';

const text = ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.artifact', 'def table():', '    print("rows")', '    return [1, 2, 3]', ''].join('\n');

let root: string;
let outside: string;
let editor: EditorClient;
let uri: string;

beforeAll(async () => {
  root = tempDir();
  outside = tempDir('choppa-outside-');
  mkdirSync(join(root, '.git'));
  mkdirSync(join(root, '.choppa'));
  writeFileSync(join(root, '.choppa', '.gitignore'), '*\n');
  mkdirSync(join(outside, 'logs'));
  mkdirSync(join(outside, 'artifacts'));
  symlinkSync(join(outside, 'logs'), join(root, '.choppa', 'logs'));
  symlinkSync(join(outside, 'artifacts'), join(root, '.choppa', 'artifacts'));
  writeFileSync(join(outside, 'secret.txt'), 'not yours');
  // A tampered journal: the stored run says its log is a file outside the project.
  const record = { runId: 'planted', function: 'table', mode: 'artifact', status: 'ok', args: '', call: '', stdout: '', stderr: '', durationMs: 1, backend: 'x', finishedAt: '2026-01-01T00:00:00.000Z', logPath: join(outside, 'secret.txt') };
  writeFileSync(join(root, '.choppa', 'journal.jsonl'), `${JSON.stringify({ k: 'result', fn: 'jobs.py::table', record })}\n`);
  editor = await EditorClient.start({ root });
  uri = await editor.open(join(root, 'jobs.py'), text);
});
afterAll(async () => {
  await editor.stop();
});

describe('a planted .choppa folder', () => {
  it('does not open a log path outside .choppa/logs read from the state', async () => {
    await expect(editor.executeCommand('choppa.showLog', { uri, function: 'table' })).rejects.toThrow(/no run log/);
    expect(editor.shownDocuments).toEqual([]);
  });

  it('runs, but writes no log and no artifact through symlinked folders, and says why', async () => {
    const result = await editor.executeCommand<{ status: string; ref?: { path: string } }>('choppa.run', { uri, function: 'table' });
    expect(result.status).toBe('ok');
    const warning = await editor.waitForMessage((message) => message.includes('symbolic link'));
    expect(warning.message).toContain(join(root, '.choppa', 'logs'));
    await expect(editor.executeCommand('choppa.dereference', { uri, function: 'table' })).rejects.toThrow(/symbolic link/);
    expect(readdirSync(join(outside, 'logs'))).toEqual([]);
    expect(readdirSync(join(outside, 'artifacts'))).toEqual([]);
  });
});
