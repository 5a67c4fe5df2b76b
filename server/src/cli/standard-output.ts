// Writing to the terminal: stdout and stderr written synchronously, without node's streams (which
// cost a short CLI run about a millisecond to make), the rest through the stream when a write
// would block, and nothing more once the reader has gone. The CLI in-process and the CLI daemon's
// client both write through here, so `| head` and a non-blocking pipe behave the same in both.
import { writeSync } from 'node:fs';

/** Standard streams a write would have blocked on (a non-blocking pipe): the rest goes through node's stream. */
const streamed = new Set<1 | 2>();
/** Standard streams whose reader has gone (`| head`): what is left is dropped, as a shell's tools do. */
const gone = new Set<1 | 2>();

/**
 * Writes to stdout (1) or stderr (2) without making node's stream for it, which would cost a warm
 * run about a millisecond: synchronous writes, as node's own are for files, pipes and terminals on
 * Linux and macOS.
 */
export function writeOut(fd: 1 | 2, text: string): void {
  if (gone.has(fd)) return;
  let bytes = Buffer.from(text, 'utf8');
  if (!streamed.has(fd)) {
    try {
      while (bytes.length > 0) bytes = bytes.subarray(writeSync(fd, bytes));
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN') {
        gone.add(fd);
        return;
      }
      streamed.add(fd);
    }
  }
  const stream = fd === 1 ? process.stdout : process.stderr;
  if (stream.listenerCount('error') === 0) stream.on('error', () => gone.add(fd));
  stream.write(bytes);
}

/** Resolves once whatever went through node's streams is written. */
export async function drained(): Promise<void> {
  for (const fd of streamed) {
    const stream = fd === 1 ? process.stdout : process.stderr;
    while (stream.writableLength > 0 && !gone.has(fd)) await new Promise((resolve) => stream.once('drain', resolve));
  }
}
