// `choppa.clusters {uri?, refresh?}`: the workspace's clusters as JSON (running first), from the
// cached list (`refresh: true` asks the service again), for pickers and status bars.
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import { clusterPageUrl, mayAttach, runtimePython, sortClusters } from '../../clusters/cluster-info.js';
import type { Session } from '../../session.js';
import { clusterScope, commandPath, type ClusterScope } from '../cluster-scope.js';

export interface ClusterEntry {
  clusterId: string;
  name: string;
  state: string;
  stateMessage: string;
  sparkVersion: string | null;
  python: string | null;
  nodeType: string | null;
  numWorkers: number | null;
  autoscale: { minWorkers: number; maxWorkers: number } | null;
  autoterminationMinutes: number | null;
  attachable: boolean | null;
  url: string;
}

function argumentObject(raw: unknown): Record<string, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
}

/** The Databricks workspace a cluster command is about, or an InvalidRequest saying there is none. */
export function requireScope(session: Session, raw: unknown, command: string): { args: Record<string, unknown>; scope: ClusterScope } {
  const args = argumentObject(raw);
  if (args['uri'] !== undefined && typeof args['uri'] !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, `${command}: \`uri\` must be a string`);
  const scope = clusterScope(session, commandPath(session, args['uri']));
  if (!scope) throw new ResponseError(ErrorCodes.InvalidRequest, `${command}: no Databricks workspace is configured for this folder (runs are local or the configuration does not resolve)`);
  return { args, scope };
}

export async function listClusters(session: Session, raw: unknown): Promise<{ host: string; userName: string | null; clusters: ClusterEntry[] }> {
  const { args, scope } = requireScope(session, raw, 'choppa.clusters');
  const result = await scope.catalog.list(args['refresh'] === true);
  if (!result.ok) throw new ResponseError(ErrorCodes.InternalError, result.failure);
  const { snapshot } = result;
  return {
    host: scope.host,
    userName: snapshot.userName ?? null,
    clusters: sortClusters(snapshot.clusters).map((cluster) => ({
      clusterId: cluster.cluster_id,
      name: cluster.cluster_name ?? cluster.cluster_id,
      state: cluster.state ?? 'UNKNOWN',
      stateMessage: cluster.state_message ?? '',
      sparkVersion: cluster.spark_version ?? null,
      python: runtimePython(cluster.spark_version) ?? null,
      nodeType: cluster.node_type_id ?? null,
      numWorkers: cluster.autoscale ? null : (cluster.num_workers ?? 0),
      autoscale: cluster.autoscale ? { minWorkers: cluster.autoscale.min_workers ?? 0, maxWorkers: cluster.autoscale.max_workers ?? 0 } : null,
      autoterminationMinutes: cluster.autotermination_minutes ?? null,
      attachable: mayAttach(cluster, snapshot.userName) ?? null,
      url: clusterPageUrl(scope.host, cluster.cluster_id),
    })),
  };
}
