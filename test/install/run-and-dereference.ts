// The user-visible proof that an installed server works: run a function as an artifact over
// LSP, dereference it, and check the local copy against the ref's size and sha256.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { EditorClient } from '../support/lsp-client.js';

/** Runs `fn` in `uri` as an artifact, dereferences it, verifies it; returns the local path. */
export async function runAndDereference(editor: EditorClient, uri: string, fn: string): Promise<string> {
  const result = await editor.executeCommand<{ status: string; ref?: { size: number; sha256: string } }>('choppa.runArtifact', { uri, function: fn });
  expect(result.status).toBe('ok');
  const deref = await editor.executeCommand<{ localPath: string; sha256: string }>('choppa.dereference', { uri, function: fn });
  const bytes = readFileSync(deref.localPath);
  expect(bytes.length).toBe(result.ref!.size);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(result.ref!.sha256);
  expect(deref.sha256).toBe(result.ref!.sha256);
  return deref.localPath;
}
