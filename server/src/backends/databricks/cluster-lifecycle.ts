// Makes sure the cluster can run commands before a context is created: the SDKs' "ensure cluster
// is running" loop (databricks-api.md §2.5), reporting every state it waits through and honouring
// cancellation. Starting a terminated cluster is opt-in (`choppa.autoStartCluster`).
import type { ProgressReport } from '../backend.js';
import type { PollSchedule } from './command-execution.js';
import { pause } from './command-execution.js';
import { describeApiFailure } from './failure-messages.js';
import type { ApiResult, DatabricksHttpClient } from './http-client.js';

/** The fields of `ClusterDetails` (§2.2) the backend reads. */
export interface ClusterDetails {
  cluster_id?: string;
  cluster_name?: string;
  state?: string;
  state_message?: string;
  /** The runtime, `16.4.x-scala2.12`: it decides the command output cap. */
  spark_version?: string;
  termination_reason?: { code?: string; type?: string; parameters?: Record<string, string> };
}

export interface EnsureClusterOptions {
  client: DatabricksHttpClient;
  host: string;
  clusterId: string;
  autoStart: boolean;
  /** Delays between `clusters/get` polls while the cluster is on its way. */
  schedule: PollSchedule;
  /** Give up after this long (the SDKs wait 20 minutes). */
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (report: ProgressReport) => void;
  logger?: (message: string) => void;
}

export type EnsureClusterResult =
  | { ok: true; cluster: ClusterDetails }
  | { ok: false; failure: string; cancelled?: true };

/** The states in which a cluster runs commands (go-sdk `IsRunningOrResizing`). */
export function canRunCommands(state: string | undefined): boolean {
  return state === 'RUNNING' || state === 'RESIZING';
}

/** `clusters/get` on the 2.1 path. */
export function getCluster(client: DatabricksHttpClient, clusterId: string, signal?: AbortSignal): Promise<ApiResult<ClusterDetails>> {
  return client.request<ClusterDetails>('GET', '/api/2.1/clusters/get', {
    query: { cluster_id: clusterId },
    ...(signal ? { signal } : {}),
  });
}

/** `PENDING: Finding instances…`, or just the state when the service gave no message. */
export function describeClusterState(cluster: ClusterDetails): string {
  const state = cluster.state ?? 'UNKNOWN';
  const message = cluster.state_message?.trim();
  return message ? `${state}: ${message}` : state;
}

/**
 * Returns once the cluster is `RUNNING` (or `RESIZING`): starts a `TERMINATED` one when
 * `autoStart` (waiting out `TERMINATING` first), waits through `PENDING`, `RESTARTING` and
 * `RESIZING`, retries when someone else changed the state under it (`INVALID_STATE`), and fails
 * with the state message on `ERROR` or `UNKNOWN`. Each new state is reported through
 * `onProgress` as `cluster <id> is <STATE>: <state_message>`.
 */
export async function ensureClusterRunning(options: EnsureClusterOptions): Promise<EnsureClusterResult> {
  const { client, host, clusterId, signal } = options;
  const deadline = Date.now() + options.timeoutMs;
  const cancelled: EnsureClusterResult = { ok: false, failure: `waiting for cluster ${clusterId} was cancelled`, cancelled: true };
  let delay = options.schedule.firstMs;
  let lastReported = '';
  let waited = false;
  const report = (message: string): void => {
    if (message === lastReported) return;
    lastReported = message;
    options.logger?.(message);
    options.onProgress?.({ message });
  };
  const howToStart = 'start it in the Databricks workspace, or set `choppa.autoStartCluster` to true to let choppa start it';

  for (;;) {
    if (signal?.aborted) return cancelled;
    const got = await getCluster(client, clusterId, signal);
    if (signal?.aborted) return cancelled;
    let state = 'UNKNOWN';
    if (!got.ok) {
      if (got.error.errorCode === 'RESOURCE_DOES_NOT_EXIST') {
        return {
          ok: false,
          failure: `cluster ${clusterId} does not exist in ${host} (${got.error.message}); check the cluster id (\`Choppa(cluster_id=...)\`, DATABRICKS_CLUSTER_ID or cluster_id in ${client.configFile})`,
        };
      }
      if (got.error.errorCode !== 'INVALID_STATE') {
        return { ok: false, failure: describeApiFailure(got.error, `checking cluster ${clusterId}`, host, client.configFile) };
      }
      options.logger?.(`cluster ${clusterId}: ${got.error.message}; checking again`);
    } else {
      const cluster = got.value;
      state = cluster.state ?? 'UNKNOWN';
      if (canRunCommands(state)) {
        if (waited) report(`cluster ${clusterId} is ${describeClusterState(cluster)}`);
        return { ok: true, cluster };
      }
      waited = true;
      report(`cluster ${clusterId} is ${describeClusterState(cluster)}`);
      switch (state) {
        case 'TERMINATED': {
          if (!options.autoStart) {
            return { ok: false, failure: `cluster ${clusterId} is ${describeClusterState(cluster)}; ${howToStart}` };
          }
          const started = await client.request('POST', '/api/2.1/clusters/start', {
            body: { cluster_id: clusterId },
            ...(signal ? { signal } : {}),
          });
          if (signal?.aborted) return cancelled;
          if (!started.ok && started.error.errorCode !== 'INVALID_STATE') {
            return { ok: false, failure: describeApiFailure(started.error, `starting cluster ${clusterId}`, host, client.configFile) };
          }
          // INVALID_STATE: someone else started it between our get and our start (§2.5).
          report(started.ok ? `starting cluster ${clusterId}` : `cluster ${clusterId} was started by someone else`);
          break;
        }
        case 'TERMINATING':
          if (!options.autoStart) {
            return { ok: false, failure: `cluster ${clusterId} is ${describeClusterState(cluster)}; ${howToStart}` };
          }
          break;
        case 'PENDING':
        case 'RESTARTING':
          break;
        default:
          return {
            ok: false,
            failure: `cluster ${clusterId} is ${describeClusterState(cluster)}; check the cluster in the Databricks workspace (its event log says why) and restart it`,
          };
      }
    }
    if (Date.now() + delay > deadline) {
      const minutes = Math.round(options.timeoutMs / 60_000);
      return {
        ok: false,
        failure: `cluster ${clusterId} did not become RUNNING within ${minutes >= 1 ? `${minutes} min` : `${options.timeoutMs} ms`} (last state ${state}); check it in the Databricks workspace and run again`,
      };
    }
    await pause(delay, signal);
    delay = Math.min(options.schedule.maxMs, Math.ceil(delay * options.schedule.factor));
  }
}
