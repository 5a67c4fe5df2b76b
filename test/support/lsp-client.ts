// Test helpers around the demo's editor client: temp folders and positions found by text.
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
