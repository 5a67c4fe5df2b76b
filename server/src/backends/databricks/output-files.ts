// Reads the side files of output the runner writes for heavy output (`stdout_file`/`stderr_file`
// of a report) straight into memory: one bounded request per file, checked against the bytes and
// characters the report announced, so a file cut or mangled on the way is refused, never shown.
import type { BackendFailure } from '../backend.js';
import type { OutputFile, RunnerReport } from '../runner-protocol.js';
import { readBoundedFile, storageLocation, type TransferContext } from './artifact-transfer.js';

/**
 * The most bytes one side file may have: the runner's 2 million characters take at most 8 MB of
 * UTF-8, under the Workspace export limit of 10 MB.
 */
export const OUTPUT_FILE_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Reads a report's side files into its `stdout`/`stderr`; the reason when one cannot be read
 * whole (the caller then asks for the output inline).
 */
export async function readOutputFiles(context: TransferContext, report: RunnerReport): Promise<string | undefined> {
  for (const [stream, file] of [['stdout', report.stdoutFile], ['stderr', report.stderrFile]] as const) {
    if (!file) continue;
    const text = await readOutputFile(context, file);
    if (typeof text !== 'string') return text.failure;
    report[stream] = text;
  }
  return undefined;
}

/** One side file's text, or why it is not the one announced. */
export async function readOutputFile(context: TransferContext, file: OutputFile): Promise<string | BackendFailure> {
  const location = storageLocation(file.path);
  if (location === undefined) return { failure: `${file.path} is not under a storage root` };
  if (file.bytes > OUTPUT_FILE_MAX_BYTES) return { failure: `${file.path} is announced with ${file.bytes} bytes, more than ${OUTPUT_FILE_MAX_BYTES}` };
  const read = await readBoundedFile(context, location, file.bytes, undefined);
  if ('failure' in read) return { failure: `${file.path}: ${read.failure}` };
  if (read.bytes.length !== file.bytes) return { failure: `${file.path} has ${read.bytes.length} bytes, not ${file.bytes}` };
  const text = read.bytes.toString('utf8');
  // As many UTF-16 units as bytes: no byte gave two (no surrogate pair), so no scan (ASCII, the common case).
  const chars = text.length === read.bytes.length ? text.length : codePoints(text);
  // Code points, as the runner counts: a mangled character would change the count.
  return chars === file.chars ? text : { failure: `${file.path} decodes to ${chars} characters, not ${file.chars}` };
}

/** Characters as Python counts them: a surrogate pair is one. */
function codePoints(text: string): number {
  let chars = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0xdc00 && code <= 0xdfff) chars -= 1;
  }
  return chars;
}
