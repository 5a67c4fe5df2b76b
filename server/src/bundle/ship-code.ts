// Makes a run's code bundle available where the run happens before the run starts: the
// backend uploads it unless that hash is already there. A bundle that cannot be shipped fails
// the run with a clear error instead of running against code the cluster does not have.
import type { Backend, ProgressReport, RunOutcome } from '../backends/backend.js';
import { formatBytes } from '../engine/format.js';
import type { CodeBundle } from './code-bundle.js';

/** Ships `bundle` (when there is one), then runs `start`; a failed upload is the run's error. */
export async function shipThenRun(
  backend: Backend,
  bundle: CodeBundle | undefined,
  options: { signal?: AbortSignal; onProgress?: (report: ProgressReport) => void },
  start: () => Promise<RunOutcome>,
): Promise<RunOutcome> {
  const started = Date.now();
  const shipped = await shipBundle(backend, bundle, options);
  if (shipped !== undefined) {
    return { status: 'error', error: { type: 'ChoppaCodeError', message: shipped, frames: [], origin: 'backend' }, stdout: '', stderr: '', durationMs: Date.now() - started };
  }
  return start();
}

/** Uploads the bundle if needed; returns why it could not, or undefined. */
export async function shipBundle(
  backend: Backend,
  bundle: CodeBundle | undefined,
  options: { signal?: AbortSignal; onProgress?: (report: ProgressReport) => void },
): Promise<string | undefined> {
  if (!bundle) return undefined;
  options.onProgress?.({ message: `Checking project code (${bundle.files.length} modules, ${formatBytes(bundle.zip.length)})` });
  const result = await backend.shipCode({ path: bundle.ref.path, hash: bundle.ref.hash, zip: bundle.zip }, options.signal ? { signal: options.signal } : {});
  if ('failure' in result) return result.failure;
  return undefined;
}
