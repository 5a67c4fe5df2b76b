// The shared backend contract, run against the Databricks backend talking to the workspace
// emulator over real HTTP, once per runtime profile: 16.4 LTS (50,000-character output cap, a
// REPL that swaps sys.stdout per command) and 17 (10 MB cap). The same cases the local backend passes.
import { describeBackendContract } from '../backends/contract.js';
import { RUNTIME_PROFILES, type RuntimeProfileName } from '../emulator/emulator.js';
import { makeHarness } from './harness.js';

for (const runtime of ['16.4', '17'] as RuntimeProfileName[]) {
  describeBackendContract(`databricks (emulator, DBR ${runtime})`, async () => {
    const harness = await makeHarness({ emulator: { runtime } });
    return {
      backend: harness.backend,
      cleanup: harness.cleanup,
      countSubmittedRuns: async () => harness.emulator.jobRuns().length,
      swapsStdout: RUNTIME_PROFILES[runtime].swapsStdout,
    };
  });
}
