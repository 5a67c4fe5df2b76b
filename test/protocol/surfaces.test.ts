// What each editor sees of a result, over the wire against real python3: a table-like result is
// previewed as a Markdown table in hover and in the dereferenced preview; a client that asks for
// plaintext hover gets no Markdown marks; a client without showDocument is told where the
// preview is; the lens row is one run lens plus "⋯ more"; progress tokens are readable; actions
// are offered from anywhere on a call's line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeAction, CodeLens, Hover } from 'vscode-languageserver-protocol';
import { BARE_CAPABILITIES, EditorClient, RICH_CAPABILITIES, positionOf, tempDir } from '../support/lsp-client.js';

const text = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa(artifact_dir="/Volumes/main/default/runs")',
  '',
  '@dutch.remote',
  'def squares(rows=3):',
  '    return [{"row": i, "square": i * i} for i in range(rows)]',
  '',
  '@dutch.artifact',
  'def pairs():',
  '    return [(1, "one"), (2, "two")]',
  '',
  '@dutch.remote',
  'def needs(a, b):',
  '    return a + b',
  '',
  'result = squares(2)',
  '',
].join('\n');

interface Opened {
  editor: EditorClient;
  uri: string;
  root: string;
}

async function open(capabilities: typeof RICH_CAPABILITIES, clientName?: string): Promise<Opened> {
  const root = tempDir();
  const editor = await EditorClient.start({ root, capabilities, ...(clientName ? { clientName } : {}) });
  const uri = await editor.open(join(root, 'tables.py'), text);
  await editor.waitForDiagnostics(uri);
  return { editor, uri, root };
}

const hoverAt = async ({ editor, uri }: Opened, needle: string): Promise<Hover> =>
  editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, needle) });

describe('a rich client (VS Code-like)', () => {
  let opened: Opened;
  beforeAll(async () => {
    opened = await open(RICH_CAPABILITIES);
  });
  afterAll(async () => opened.editor.stop());

  it('shows a list of dicts as a Markdown table with its shape in hover', async () => {
    // Run at the call, whose result the hover on that call shows.
    const result = await opened.editor.executeCommand<{ status: string; value: { table?: string } }>('choppa.run', { uri: opened.uri, function: 'squares', args: '2', position: positionOf(text, 'squares(2)') });
    expect(result.status).toBe('ok');
    const hover = await hoverAt(opened, 'squares(2)');
    expect(hover.contents).toMatchObject({ kind: 'markdown' });
    const value = (hover.contents as { value: string }).value;
    expect(value).toContain('| row | square |\n|---|---|\n| 0 | 0 |\n| 1 | 1 |\n\n2 rows × 2 columns');
  });

  it('writes the table into the dereferenced preview, a Markdown file', async () => {
    const ran = await opened.editor.executeCommand<{ status: string }>('choppa.runArtifact', { uri: opened.uri, function: 'pairs' });
    expect(ran.status).toBe('ok');
    const deref = await opened.editor.executeCommand<{ previewPath: string }>('choppa.dereference', { uri: opened.uri, function: 'pairs' });
    expect(deref.previewPath).toMatch(/\.pkl\.preview\.md$/);
    const preview = readFileSync(deref.previewPath, 'utf8');
    expect(preview.split('\n')[0]).toMatch(/^ArtifactRef \/Volumes\/main\/default\/runs\/pairs-/);
    expect(preview).toContain('| 0 | 1 |\n|---|---|\n| 1 | one |\n| 2 | two |\n\n2 rows × 2 columns');
  });

  it('shows one run lens and a "⋯ more" lens that hands out the other commands', async () => {
    const lenses = await opened.editor.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: opened.uri } });
    const squares = lenses.filter((lens) => (lens.command?.arguments?.[0] as { function?: string })?.function === 'squares');
    expect(squares.map((lens) => lens.command?.title)).toEqual(['Run squares remotely', '⋯ more']);
    const more = await opened.editor.executeCommand<{ actions: Array<{ title: string }> }>('choppa.moreActions', squares[1]!.command!.arguments![0]);
    expect(more.actions.map((action) => action.title)).toEqual(expect.arrayContaining(['Run squares as artifact', 'Submit squares as a job']));
    expect(more.actions.map((action) => action.title)).not.toContain('Run squares remotely');
  });

  it('offers the call\'s actions from the start of its line', async () => {
    const line = text.split('\n').findIndex((candidate) => candidate.startsWith('result = squares(2)'));
    const actions = await opened.editor.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: opened.uri },
      range: { start: { line, character: 0 }, end: { line, character: 0 } },
      context: { diagnostics: [] },
    });
    expect(actions.map((action) => action.title)).toContain('Run squares(2) remotely');
  });

  it('names server-created progress readably', () => {
    const tokens = opened.editor.progress.map((params) => params.token);
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) expect(token).toMatch(/^choppa-\d+$/);
  });
});

describe('a bare client (eglot without markdown-mode, Helix)', () => {
  let opened: Opened;
  beforeAll(async () => {
    opened = await open({ ...BARE_CAPABILITIES, textDocument: { ...BARE_CAPABILITIES.textDocument, hover: { contentFormat: ['plaintext'] } } }, 'helix');
  });

  it('is told which arguments are missing and how to give them in that editor', async () => {
    const result = await opened.editor.executeCommand<{ error: { missing: string[] } }>('choppa.run', { uri: opened.uri, function: 'needs' });
    expect(result.error.missing).toEqual(['a', 'b']);
    const message = await opened.editor.waitForMessage((candidate) => candidate.includes('`needs` needs'));
    expect(message.message).toBe(
      'choppa: `needs` needs values for `a`, `b`. Helix actions take no arguments: write a call such as `needs(a=…, b=…)` in the file and run the action from its line (space a).',
    );
  });
  afterAll(async () => opened.editor.stop());

  it('gets plaintext hover without Markdown marks when it asks for plaintext', async () => {
    await opened.editor.executeCommand('choppa.run', { uri: opened.uri, function: 'squares', args: '2', position: positionOf(text, 'squares(2)') });
    const hover = await hoverAt(opened, 'squares(2)');
    expect(hover.contents).toMatchObject({ kind: 'plaintext' });
    const value = (hover.contents as { value: string }).value;
    expect(value).toContain('@dutch.remote squares');
    expect(value).toContain('| 1 | 1 |');
    expect(value).not.toMatch(/\*\*|`/);
  });

  it('is told where a dereferenced preview is, with its first lines, since it cannot open it', async () => {
    await opened.editor.executeCommand('choppa.runArtifact', { uri: opened.uri, function: 'pairs' });
    const deref = await opened.editor.executeCommand<{ previewPath: string }>('choppa.dereference', { uri: opened.uri, function: 'pairs' });
    const message = await opened.editor.waitForMessage((candidate) => candidate.includes(deref.previewPath));
    expect(message.type).toBe(3);
    expect(message.message.split('\n').slice(0, 2)).toEqual([
      `choppa: preview of ${deref.previewPath.split('/').pop()!.replace(/\.preview\.md$/, '')}: ${deref.previewPath}`,
      readFileSync(deref.previewPath, 'utf8').split('\n')[0],
    ]);
  });

  it('is told where a run log is, since it cannot open it', async () => {
    const log = await opened.editor.executeCommand<{ path: string }>('choppa.showLog', { uri: opened.uri, function: 'squares' });
    await opened.editor.waitForMessage((candidate) => candidate.startsWith(`choppa: run log: ${log.path}`));
  });
});
