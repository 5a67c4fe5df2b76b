// Test helpers around the demo's editor client: an editor per test file, temp folders, and
// positions found by text.
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { EditorClient, type ClientOptions } from '../../server/src/demo/editor-client.js';

export { EditorClient, RICH_CAPABILITIES, BARE_CAPABILITIES, SERVER_BIN } from '../../server/src/demo/editor-client.js';

/** A fresh temp folder, resolved through symlinks so paths compare equal. */
export function tempDir(prefix = 'choppa-test-'): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

/** The position of the first occurrence of `needle` in `text` (plus `offset` characters). */
export function positionOf(text: string, needle: string, offset = 0): { line: number; character: number } {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, index + offset);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}

/** Starts one editor on a fresh workspace folder before the file's tests and stops it after. */
export function useEditor(options: Partial<ClientOptions> = {}): { editor: EditorClient; root: string } {
  const context = { editor: undefined as unknown as EditorClient, root: '' };
  beforeAll(async () => {
    context.root = tempDir();
    context.editor = await EditorClient.start({ root: context.root, ...options });
  });
  afterAll(async () => {
    await context.editor.stop();
  });
  return context;
}
