// The shared backend contract, run against the Databricks backend talking to the workspace
// emulator over real HTTP: the same cases the local python3 backend passes.
import { describeBackendContract } from '../backends/contract.js';
import { makeHarness } from './harness.js';

describeBackendContract('databricks (emulator)', async () => {
  const harness = await makeHarness();
  return { backend: harness.backend, cleanup: harness.cleanup, countSubmittedRuns: async () => harness.emulator.jobRuns().length };
});
