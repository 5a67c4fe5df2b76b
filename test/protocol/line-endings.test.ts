// A CRLF module with a byte order mark that ships with a function, opened in an editor that sends
// its buffer with `\n` and no BOM (Emacs decodes DOS line ends, editors drop the BOM): the code that
// runs is the same, so the result run before it was opened stays current, and the run from the
// buffer is not "unsaved".
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hover } from 'vscode-languageserver-protocol';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const jobs = ['from choppa import Choppa', '', 'dutch = Choppa()', '', '', '@dutch.remote', 'def scored(x):', '    from .features import weight', '    return weight(x)', ''].join('\n');
const features = ['"""Weights."""', '', '', 'def weight(x):', '    return 2 * x', ''];

let editor: EditorClient;
let root: string;
let uri: string;

beforeAll(async () => {
  root = tempDir();
  mkdirSync(join(root, 'pkg'));
  writeFileSync(join(root, 'pkg/__init__.py'), '');
  writeFileSync(join(root, 'pkg/features.py'), `\uFEFF${features.join('\r\n')}`);
  writeFileSync(join(root, 'pkg/jobs.py'), jobs);
  editor = await EditorClient.start({ root });
  uri = await editor.open(join(root, 'pkg/jobs.py'), jobs);
});

afterAll(async () => {
  await editor.stop();
});

async function hoverText(): Promise<string> {
  const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(jobs, 'def scored', 5) });
  return (hover.contents as { value: string }).value;
}

describe('a CRLF module with a BOM opened with \\n line ends and no BOM', () => {
  it('keeps the result of a run made before it was opened current', async () => {
    const result = await editor.executeCommand<{ status: string; value?: { repr: string } }>('choppa.run', { uri, function: 'scored', args: '5' });
    expect(result).toMatchObject({ status: 'ok', value: { repr: '10' } });
    expect(await hoverText()).not.toContain('Stale');
    await editor.open(join(root, 'pkg/features.py'), features.join('\n'));
    expect(await hoverText()).not.toContain('Stale');
    const again = await editor.executeCommand<{ status: string; unsaved?: string[] }>('choppa.run', { uri, function: 'scored', args: '5' });
    expect(again.unsaved).toBeUndefined();
  });
});
