// What the editor can do to a cluster and what it reads of the project's jobs: start a cluster
// and wait until it runs (the backend's own ensure-running loop), and the one-time runs this
// project submitted (`jobs/runs/list`, our run name prefix).
import type { ProgressReport } from '../backends/backend.js';
import { ensureClusterRunning } from '../backends/databricks/cluster-lifecycle.js';
import { describeApiFailure } from '../backends/databricks/failure-messages.js';
import type { DatabricksHttpClient } from '../backends/databricks/http-client.js';

/** Our submitted runs are named `choppa <function> <run id>` (job-submission.ts). */
export const RUN_NAME_PREFIX = 'choppa ';

export interface StartOptions {
  signal?: AbortSignal;
  onProgress?: (report: ProgressReport) => void;
  /** The SDKs wait 20 minutes. */
  timeoutMs?: number;
}

export async function startCluster(client: DatabricksHttpClient, host: string, clusterId: string, options: StartOptions = {}): Promise<{ ok: true; state: string } | { ok: false; failure: string; cancelled?: true }> {
  const result = await ensureClusterRunning({
    client,
    host,
    clusterId,
    autoStart: true,
    schedule: { firstMs: 250, maxMs: 10_000, factor: 2 },
    timeoutMs: options.timeoutMs ?? 20 * 60_000,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return result.ok ? { ok: true, state: result.cluster.state ?? 'RUNNING' } : result;
}

export interface JobRunSummary {
  runId: number;
  runName: string;
  /** The function, read from the run name. */
  function: string;
  state: string;
  result?: string;
  stateMessage?: string;
  startTime?: number;
  durationMs?: number;
  runPageUrl?: string;
}

interface ListedRun {
  run_id?: number;
  run_name?: string;
  start_time?: number;
  end_time?: number;
  run_duration?: number;
  execution_duration?: number;
  run_page_url?: string;
  state?: { life_cycle_state?: string; result_state?: string; state_message?: string };
  status?: { state?: string; termination_details?: { code?: string; message?: string } };
}

/** Pages of 25 runs read at most: the newest 250 one-time runs of the workspace. */
const MAX_PAGES = 10;

export async function projectJobRuns(client: DatabricksHttpClient, host: string, limit = 50): Promise<{ ok: true; runs: JobRunSummary[] } | { ok: false; failure: string }> {
  const runs: JobRunSummary[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES && runs.length < limit; page++) {
    const answer = await client.request<{ runs?: ListedRun[]; has_more?: boolean; next_page_token?: string }>('GET', '/api/2.2/jobs/runs/list', {
      query: { run_type: 'SUBMIT_RUN', limit: 25, ...(pageToken ? { page_token: pageToken } : {}) },
    });
    if (!answer.ok) return { ok: false, failure: describeApiFailure(answer.error, 'listing job runs', host, client.configFile) };
    for (const run of answer.value.runs ?? []) {
      if (typeof run.run_id !== 'number' || !run.run_name?.startsWith(RUN_NAME_PREFIX)) continue;
      const state = run.state?.life_cycle_state ?? run.status?.state ?? 'UNKNOWN';
      const ended = run.end_time !== undefined && run.end_time > 0;
      runs.push({
        runId: run.run_id,
        runName: run.run_name,
        function: run.run_name.slice(RUN_NAME_PREFIX.length).split(' ')[0] ?? '',
        state,
        ...(run.state?.result_state ? { result: run.state.result_state } : {}),
        ...(run.state?.state_message ? { stateMessage: run.state.state_message } : {}),
        ...(run.start_time ? { startTime: run.start_time } : {}),
        ...(run.start_time ? { durationMs: run.run_duration ?? ((ended ? run.end_time! : Date.now()) - run.start_time) } : {}),
        ...(run.run_page_url ? { runPageUrl: run.run_page_url } : {}),
      });
      if (runs.length >= limit) break;
    }
    pageToken = answer.value.has_more ? answer.value.next_page_token : undefined;
    if (!pageToken) break;
  }
  return { ok: true, runs };
}
