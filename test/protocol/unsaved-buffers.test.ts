// A run or a submission from a buffer with unsaved changes ships the buffer's text, which the file
// on disk (and so the CLI, a later job, a colleague) does not have: the result names the unsaved
// files and a warning says so. Edits outside the shipped code, and saved files, say nothing. A new
// module not saved yet (or moved away on disk) is still a module of its package.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

// CRLF on disk, as a Windows colleague's checkout has it: the same text is not "unsaved".
const jobs = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa()',
  '',
  '',
  '@dutch.remote',
  'def scale(x, factor=2):',
  '    return x * factor',
  '',
  '',
  '@dutch.remote',
  'def doubled(x):',
  '    from .helpers import double',
  '    return double(x)',
  '',
].join('\r\n');
const helpers = 'def double(x):\n    return 2 * x\n';

interface Result {
  status: string;
  value?: { repr: string };
  unsaved?: string[];
}

let root: string;
let editor: EditorClient;
let uri: string;
let text = jobs;

beforeAll(async () => {
  root = tempDir();
  mkdirSync(join(root, 'pkg'));
  writeFileSync(join(root, 'pkg/__init__.py'), '');
  writeFileSync(join(root, 'pkg/jobs.py'), jobs);
  writeFileSync(join(root, 'pkg/helpers.py'), helpers);
  editor = await EditorClient.start({ root });
  uri = await editor.open(join(root, 'pkg/jobs.py'), jobs);
});

afterAll(async () => {
  await editor.stop();
});

/** Replaces `before` with `after` in the open buffer of jobs.py, without saving. */
async function edit(before: string, after: string): Promise<void> {
  const start = positionOf(text.replace(/\r\n/g, '\n'), before);
  const end = positionOf(text.replace(/\r\n/g, '\n'), before, before.length);
  await editor.change(uri, { start, end }, after);
  text = text.replace(before, after);
}

const unsavedWarnings = (): string[] => editor.messages.filter((m) => m.type === 2 && m.message.includes('unsaved')).map((m) => m.message);

describe('a run from a buffer with unsaved changes', () => {
  it('says nothing when the shipped code is what is saved, even with other unsaved edits in the file', async () => {
    await edit('dutch = Choppa()', 'dutch = Choppa()  # tuned later');
    const result = await editor.executeCommand<Result>('choppa.run', { uri, function: 'scale', args: '3' });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '6' } });
    expect(result.unsaved).toBeUndefined();
    expect(unsavedWarnings()).toEqual([]);
  });

  it('runs the buffer, and says the file on disk holds other code', async () => {
    await edit('return x * factor', 'return x * factor * 10');
    const result = await editor.executeCommand<Result>('choppa.run', { uri, function: 'scale', args: '3' });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '60' }, unsaved: ['pkg/jobs.py'] });
    const warning = await editor.waitForMessage((message) => message.includes('unsaved'));
    expect(warning).toEqual({
      type: 2,
      message: 'choppa: scale ran the unsaved text of pkg/jobs.py, not the file on disk: save to run the same code from the CLI or a job.',
    });
  });

  it('names an unsaved module the function imports, which ships with it', async () => {
    const helpersUri = await editor.open(join(root, 'pkg/helpers.py'), helpers);
    let result = await editor.executeCommand<Result>('choppa.run', { uri, function: 'doubled', args: '4' });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '8' } });
    expect(result.unsaved).toBeUndefined();
    await editor.change(helpersUri, { start: { line: 1, character: 11 }, end: { line: 1, character: 12 } }, '3');
    result = await editor.executeCommand<Result>('choppa.run', { uri, function: 'doubled', args: '4' });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '12' }, unsaved: ['pkg/helpers.py'] });
  });

  it('runs a new module of the package that is not saved yet, whose relative import names the instance', async () => {
    const source = 'from .jobs import dutch\n\n\n@dutch.remote\ndef fresh(x):\n    return x + 1\n\n\nfresh(1)\n';
    const freshUri = await editor.open(join(root, 'pkg/fresh.py'), source);
    const actions = await editor.request<Array<{ title: string }>>('textDocument/codeAction', {
      textDocument: { uri: freshUri },
      range: { start: { line: 8, character: 0 }, end: { line: 8, character: 0 } },
      context: { diagnostics: [] },
    });
    expect(actions.map((action) => action.title)).toContain('Run fresh(1) remotely');
    const result = await editor.executeCommand<Result>('choppa.run', { uri: freshUri, function: 'fresh', args: '1' });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '2' }, unsaved: ['pkg/fresh.py'] });
  });

  it('warns when a job is submitted from unsaved text', async () => {
    const result = await editor.executeCommand<{ status: string; unsaved?: string[] }>('choppa.submit', { uri, function: 'scale', args: '1' });
    expect(result).toMatchObject({ status: 'submitted', unsaved: ['pkg/jobs.py'] });
    const warning = await editor.waitForMessage((message) => message.includes('the job of scale'));
    expect(warning.message).toBe('choppa: the job of scale runs the unsaved text of pkg/jobs.py, not the file on disk: save to run the same code from the CLI or a job.');
    await editor.executeCommand('choppa.cancel', { uri, function: 'scale' });
  });
});
