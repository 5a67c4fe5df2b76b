// Builds a Databricks backend against a fresh workspace emulator over loopback HTTP, with the
// short waits tests want, for the Databricks backend tests.
import { readFile } from 'node:fs/promises';
import { credentialsFor } from '../../server/src/backends/databricks/credentials.js';
import { DatabricksBackend, type DatabricksBackendOptions } from '../../server/src/backends/databricks/databricks-backend.js';
import { DatabricksHttpClient, type DatabricksHttpClientOptions } from '../../server/src/backends/databricks/http-client.js';
import { runCommand } from '../../server/src/backends/databricks/run-command.js';
import { RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';
import { Secret } from '../../server/src/config/redact.js';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator, type EmulatorOptions } from '../emulator/emulator.js';

export interface Harness {
  emulator: Emulator;
  backend: DatabricksBackend;
  logs: string[];
  cleanup: () => Promise<void>;
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  backend?: Partial<DatabricksBackendOptions>;
  client?: Partial<DatabricksHttpClientOptions>;
  /** Send this token instead of the emulator's. */
  token?: string;
  /** Talk to this URL instead of the emulator's. */
  host?: string;
}

let runnerSource: string | undefined;

/** A client for `host` with the PAT `token` and test-sized retry delays. */
export function testClient(host: string, token: string, overrides: Partial<DatabricksHttpClientOptions> = {}, logs: string[] = []): DatabricksHttpClient {
  return new DatabricksHttpClient({
    host,
    credentials: credentialsFor({ type: 'pat', token: new Secret(token) }, { host, runCommand }),
    userAgent: 'choppa-lsp/0.0.0-test databricks-backend-test',
    retryBudgetMs: 5_000,
    backoff: { baseMs: 10, maxMs: 50, jitterMinMs: 0, jitterMaxMs: 5 },
    logger: (line) => logs.push(line),
    ...overrides,
  });
}

/** A backend on a new emulator (or on `options.host`), stopped and disposed by `cleanup`. */
export async function makeHarness(options: HarnessOptions = {}): Promise<Harness> {
  runnerSource ??= await readFile(RUNNER_PATH, 'utf8');
  const emulator = await startEmulator({ clusterStartDelayMs: 100, ...options.emulator });
  const logs: string[] = [];
  const host = options.host ?? emulator.url;
  const client = testClient(host, options.token ?? emulator.token, options.client, logs);
  const backend = new DatabricksBackend({
    client,
    host,
    clusterId: DEFAULT_CLUSTER_ID,
    runnerSource,
    autoStartCluster: true,
    logger: (line) => logs.push(line),
    ...options.backend,
    timing: { clusterPollFirstMs: 20, clusterPollMaxMs: 100, contextPollFirstMs: 10, cancelGraceMs: 3000, ...options.backend?.timing },
  });
  return {
    emulator,
    backend,
    logs,
    cleanup: async () => {
      await backend.dispose();
      await emulator.stop();
    },
  };
}
