// Makes a run's code bundle available where the run happens before the run starts: the
// backend uploads it unless that hash is already there. A bundle that cannot be shipped fails
// the run with a clear error instead of running against code the cluster does not have.
import type { Backend, ProgressReport, RunOutcome } from '../backends/backend.js';
import { formatBytes } from '../engine/format.js';
import type { CodeBundle } from './code-bundle.js';
import { declares, type CodePlan } from './code-plan.js';

/**
 * Ships the plan's bundle (when there is one), asks the backend which third-party imports of the
 * shipped code it lacks (`onImportCheck`, the ones the requirements do not declare), then runs
 * `start`; a failed upload is the run's error.
 */
export async function shipThenRun(
  backend: Backend,
  plan: CodePlan,
  options: { signal?: AbortSignal; onProgress?: (report: ProgressReport) => void; onImportCheck?: (missing: string[]) => void },
  start: () => Promise<RunOutcome>,
): Promise<RunOutcome> {
  const started = Date.now();
  const shipped = await shipBundle(backend, plan.bundle, options);
  if (shipped !== undefined) {
    return { status: 'error', error: { type: 'ChoppaCodeError', message: shipped, frames: [], origin: 'backend' }, stdout: '', stderr: '', durationMs: Date.now() - started };
  }
  if (options.onImportCheck && plan.external.length > 0) {
    const missing = await backend.missingImports(plan.external, options.signal ? { signal: options.signal } : {});
    // A check that could not be made says nothing; the run itself will tell.
    if (!('failure' in missing)) options.onImportCheck(missing.filter((name) => !declares(plan.requirements?.lines ?? [], name)));
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
