// A module a shown result shipped with changes on disk under an open editor (a `git checkout`)
// while the client reports no file changes (Neovim 0.10 on Linux offers no file watching; Helix
// registers it but reports only its own writes): the server's own watch turns the result stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientCapabilities, Diagnostic } from 'vscode-languageserver-protocol';
import { EditorClient, RICH_CAPABILITIES, tempDir } from '../support/lsp-client.js';

const jobs = ['from choppa import Choppa', '', 'dutch = Choppa()', '', '', '@dutch.remote', 'def scored(x):', '    from .features import weight', '    return weight(x)', ''].join('\n');

let editor: EditorClient | undefined;

const text = (diagnostic: Diagnostic): string => (typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value);

afterEach(async () => {
  await editor?.stop();
  editor = undefined;
});

/** A project whose `scored` ships `pkg/features.py`, opened and run once; returns the open file's uri. */
async function ranOnce(options: { capabilities: ClientCapabilities; clientName?: string }): Promise<{ root: string; uri: string }> {
  const root = tempDir();
  mkdirSync(join(root, 'pkg'));
  writeFileSync(join(root, 'pkg/__init__.py'), '');
  writeFileSync(join(root, 'pkg/features.py'), 'def weight(x):\n    return 2 * x\n');
  writeFileSync(join(root, 'pkg/jobs.py'), jobs);
  editor = await EditorClient.start({ root, ...options });
  const uri = await editor.open(join(root, 'pkg/jobs.py'), jobs);
  const result = await editor.executeCommand<{ status: string; value?: { repr: string } }>('choppa.run', { uri, function: 'scored', args: '5' });
  expect(result).toMatchObject({ status: 'ok', value: { repr: '10' } });
  await editor.waitForDiagnostics(uri, (all) => all.some((d) => text(d).startsWith('scored(5) → 10')));
  return { root, uri };
}

const staleResult = (message: string): boolean => message.startsWith('scored(5) → 10') && message.includes('stale: a shipped module changed');

describe('a shipped module changed on disk while the client watches nothing', () => {
  it('turns the result stale without any edit (Neovim 0.10 on Linux: no file watching offered)', async () => {
    const { root, uri } = await ranOnce({ capabilities: RICH_CAPABILITIES });
    writeFileSync(join(root, 'pkg/features.py'), 'def weight(x):\n    return 3 * x\n');
    const diagnostics = await editor!.waitForDiagnostics(uri, (all) => all.some((d) => staleResult(text(d))));
    expect(diagnostics.map(text).filter((message) => message.startsWith('scored(5)'))).toEqual([
      expect.stringContaining('stale: a shipped module changed; run it again'),
    ]);
  });

  it('watches for Helix too, which registers file watching but reports only its own writes', async () => {
    const capabilities = { ...RICH_CAPABILITIES, workspace: { ...RICH_CAPABILITIES.workspace, didChangeWatchedFiles: { dynamicRegistration: true } } };
    const { root, uri } = await ranOnce({ capabilities, clientName: 'helix' });
    // A checkout that brings a new folder too: the walk sees it, the change of the module counts.
    mkdirSync(join(root, 'pkg/extra'));
    writeFileSync(join(root, 'pkg/extra/__init__.py'), '');
    writeFileSync(join(root, 'pkg/features.py'), 'def weight(x):\n    return 3 * x\n');
    await editor!.waitForDiagnostics(uri, (all) => all.some((d) => staleResult(text(d))));
  });
});
