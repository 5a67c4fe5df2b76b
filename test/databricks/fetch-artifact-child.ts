// Run in a child process by the Databricks backend tests: fetches one artifact from the emulator
// and prints `{size, sha256, rssGrowth}` as JSON, so that the memory a download takes is measured
// apart from the test worker (which holds the emulator and vitest).
import { Secret } from '../../server/src/config/redact.js';
import { credentialsFor } from '../../server/src/backends/databricks/credentials.js';
import { DatabricksBackend } from '../../server/src/backends/databricks/databricks-backend.js';
import { DatabricksHttpClient } from '../../server/src/backends/databricks/http-client.js';
import { runCommand } from '../../server/src/backends/databricks/run-command.js';

const [url, token, path, destination] = process.argv.slice(2);
if (!url || !token || !path || !destination) throw new Error('usage: fetch-artifact-child <url> <token> <path> <destination>');

const client = new DatabricksHttpClient({
  host: url,
  credentials: credentialsFor({ type: 'pat', token: new Secret(token) }, { host: url, runCommand }),
  userAgent: 'choppa-lsp/0.0.0 test',
  retryBudgetMs: 10_000,
  backoff: { baseMs: 10, maxMs: 50, jitterMinMs: 0, jitterMaxMs: 5 },
});
const backend = new DatabricksBackend({ client, host: url, clusterId: 'unused', runnerSource: '', autoStartCluster: false });

// A collection first, so that the baseline is what a running process holds at rest.
(globalThis as { gc?: () => void }).gc?.();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 10);
const percentages: number[] = [];
const result = await backend.fetchArtifact(path, destination, { onProgress: (report) => percentages.push(report.percentage ?? -1) });
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
process.stdout.write(JSON.stringify({ result, rssGrowth: peak - baseline, percentages }) + '\n');
