// The shared backend contract, run against the Dask backend on a real loopback cluster (a
// `dask-scheduler` and two `dask-worker` processes): the same cases the other backends pass.
import { describeBackendContract } from '../backends/contract.js';
import { LocalDaskCluster, makeDaskBackend } from './harness.js';

describeBackendContract('dask (loopback cluster)', async () => {
  const cluster = await LocalDaskCluster.start();
  const { backend, cleanup } = await makeDaskBackend(cluster.address);
  return {
    backend,
    cleanup: async () => {
      await cleanup();
      await cluster.stop();
    },
    runsOnSeveralProcesses: true,
    countSubmittedRuns: async () => {
      const count = await backend.countSubmitted();
      if (typeof count !== 'number') throw new Error(count.failure);
      return count;
    },
  };
});
