// A real Dask cluster on loopback (a scheduler and two workers of Debian's python3-distributed)
// and a Dask backend connected to it, for the contract and the Dask-only tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaskBackend, type DaskBackendOptions } from '../../server/src/backends/dask/dask-backend.js';
import { DASK_DRIVER_PATH } from '../../server/src/backends/dask/dask-driver.js';
import { RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';
import { DASK_PYTHON, LocalDaskCluster } from '../../server/src/demo/local-dask-cluster.js';

export { DASK_PYTHON, LocalDaskCluster };

/** A backend on `scheduler` with the test defaults; `options` override them. */
export async function makeDaskBackend(scheduler: string, options: Partial<DaskBackendOptions> = {}) {
  const cwd = await mkdtemp(join(tmpdir(), 'choppa-dask-driver-'));
  const backend = new DaskBackend({
    pythonPath: DASK_PYTHON,
    scheduler,
    runnerPath: RUNNER_PATH,
    driverPath: DASK_DRIVER_PATH,
    cwd,
    connectTimeoutMs: 10_000,
    ...options,
  });
  return {
    backend,
    cleanup: async () => {
      await backend.dispose();
      await rm(cwd, { recursive: true, force: true });
    },
  };
}
