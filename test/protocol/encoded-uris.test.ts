// Paths that need URI encoding, spelled as VS Code spells them (every byte but letters, digits,
// `-._~` percent-encoded, so `+` is `%2B` where Node leaves it): every surface answers on the
// client's own URI, and a submitted job's end replaces its in-flight hint there.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { EditorClient, tempDir } from '../support/lsp-client.js';

/** A file URI as VS Code's `URI.file(path).toString()` writes it. */
function vscodeUri(path: string): string {
  const encode = (part: string): string => encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `file://${path.split('/').map(encode).join('/')}`;
}

const text = [
  'from choppa import Choppa',
  'dutch = Choppa(artifact_dir="/Volumes/main/default/jobs")',
  '',
  '@dutch.submit',
  'def train(gate):',
  '    import os, time',
  '    while not os.path.exists(gate):',
  '        time.sleep(0.02)',
  '    return 5',
  '',
].join('\n');

const submittedHint = (all: Diagnostic[]): boolean => all.some((d) => d.code === 'run-submitted');

describe('a project whose path needs encoding', () => {
  it('replaces a submitted job\'s in-flight hint with its result on the URI the editor sent', async () => {
    const root = join(tempDir(), 'données #1 50% a+b (copy)');
    mkdirSync(root);
    const file = join(root, 'jobs.py');
    writeFileSync(file, text);
    const gate = join(root, 'gate');
    const editor = await EditorClient.start({ root });
    try {
      const uri = vscodeUri(file);
      expect(uri).toContain('a%2Bb%20%28copy%29');
      await editor.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
      await editor.waitForDiagnostics(uri);
      const handle = await editor.executeCommand<{ status: string }>('choppa.submit', { uri, function: 'train', args: JSON.stringify(gate) });
      expect(handle.status).toBe('submitted');
      await editor.waitForDiagnostics(uri, submittedHint);
      writeFileSync(gate, 'go');
      await editor.waitForMessage((message) => message.includes('submitted run of train') && message.includes('finished'));
      // Before, the job's end was announced but the file kept saying the job was PENDING.
      const done = await editor.waitForDiagnostics(uri, (all) => all.some((d) => d.code === 'run-result'));
      expect(submittedHint(done)).toBe(false);
      expect(done.find((d) => d.code === 'run-result')?.message).toMatch(/^train\(.*\) \[artifact\] → ArtifactRef/);
    } finally {
      await editor.stop();
    }
  });
});
