// Opening a file the server produced (a dereferenced preview, a run log) in the editor: with
// `window/showDocument` where the client has it and it works, otherwise a `window/showMessage`
// with the local path and the first lines, because clients drop a command's result silently
// (Helix 25.01, eglot 1.9, Neovim 0.7's built-in code action).
import { closeSync, openSync, readSync } from 'node:fs';
import type { Session } from '../session.js';
import { pathToUri } from './convert.js';
import { clip } from '../engine/format.js';

const HEAD_BYTES = 4096;
const HEAD_LINES = 5;
const LINE_CHARS = 120;

/** The first lines of a file, each cut to a line's width; empty when it cannot be read. */
export function headLines(path: string, lines = HEAD_LINES): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(HEAD_BYTES);
    const read = readSync(fd, buffer, 0, HEAD_BYTES, 0);
    const all = buffer.subarray(0, read).toString('utf8').split('\n');
    // The last piece of a full buffer may be a cut line (or a cut character): leave it out.
    if (read === HEAD_BYTES) all.pop();
    return all.slice(0, lines).map((line) => clip(line, LINE_CHARS));
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Shows `path` in the editor, or tells the user where it is (`what` names it) when that fails. */
export function openOrTell(session: Session, path: string, what: string): void {
  const tell = (): void => {
    const head = headLines(path);
    session.info([`choppa: ${what}: ${path}`, ...head].join('\n'));
  };
  if (!session.supportsShowDocument) return tell();
  session.connection.window.showDocument({ uri: pathToUri(path), takeFocus: true }).then(
    (result) => {
      if (!result.success) tell();
    },
    () => tell(),
  );
}
