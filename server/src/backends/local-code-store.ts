// Ships a code bundle to a storage root on this machine (the local backend's `fsRoot`, which
// stands in for the cluster's storage): written once per hash, atomically, and checked by
// sha256 when it is already there, so a truncated file is replaced rather than trusted.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BackendFailure, CodeUpload } from './backend.js';
import { mapLogicalPath } from './fs-paths.js';

export async function shipCodeToRoot(fsRoot: string, code: CodeUpload): Promise<{ uploaded: boolean } | BackendFailure> {
  const local = mapLogicalPath(fsRoot, code.path);
  if (local === undefined) return { failure: `${code.path} is not a storage path (expected /Workspace/..., /Volumes/... or dbfs:/...)` };
  try {
    const existing = await readFile(local);
    if (createHash('sha256').update(existing).digest('hex') === code.hash) return { uploaded: false };
  } catch {
    // Not there yet.
  }
  const temp = `${local}.${randomBytes(4).toString('hex')}.part`;
  try {
    await mkdir(dirname(local), { recursive: true });
    await writeFile(temp, code.zip, { mode: 0o600 });
    await rename(temp, local);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    return { failure: `could not write the project code to ${code.path}: ${(error as Error).message}` };
  }
  return { uploaded: true };
}
