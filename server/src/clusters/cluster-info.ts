// What the editor shows of a cluster, from `clusters/list` entries: the fields we read, the Python
// of its runtime, whether the token's user may attach to it, its page URL, and the orders and
// short texts completion, hover and diagnostics share. Pure.

/** The fields of `clusters/list` entries (ClusterDetails) the editor reads. */
export interface ClusterInfo {
  cluster_id: string;
  cluster_name?: string;
  state?: string;
  state_message?: string;
  spark_version?: string;
  node_type_id?: string;
  driver_node_type_id?: string;
  num_workers?: number;
  autoscale?: { min_workers?: number; max_workers?: number };
  autotermination_minutes?: number;
  data_security_mode?: string;
  single_user_name?: string;
}

/** One `clusters/list` answer and who asked (SCIM `Me`, when it answered). */
export interface ClusterSnapshot {
  clusters: ClusterInfo[];
  /** False when the workspace had more clusters than were listed: an id not found may exist. */
  complete?: boolean;
  userName: string | undefined;
  fetchedAt: number;
}

/** The Python minor version of a Databricks Runtime (`16.4.x-scala2.12` → `3.12`), when known. */
export function runtimePython(sparkVersion: string | undefined): string | undefined {
  const match = /^(\d+)\.(\d+)/.exec(sparkVersion ?? '');
  if (!match) return undefined;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  // Databricks runtime release notes: 10.4 → 3.8, 11.3/12.2 → 3.9, 13.3/14.3 → 3.10, 15.4 → 3.11, 16.x+ → 3.12.
  if (major >= 16) return '3.12';
  if (major === 15) return '3.11';
  if (major >= 13) return '3.10';
  if (major >= 11) return '3.9';
  if (major === 10 || (major === 9 && minor >= 1)) return '3.8';
  return undefined;
}

/** `16.4.x-scala2.12` → `16.4`, the way the workspace UI names it. */
export function runtimeLabel(sparkVersion: string | undefined): string {
  const match = /^(\d+\.\d+)/.exec(sparkVersion ?? '');
  return match ? `DBR ${match[1]}${/-ml-/.test(sparkVersion ?? '') ? ' ML' : ''}` : (sparkVersion ?? 'unknown runtime');
}

/** Whether a version `a` (`3.10`) is older than `b` (`3.12`). */
export function olderPython(a: string, b: string): boolean {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

const SINGLE_USER_MODES = new Set(['SINGLE_USER', 'LEGACY_SINGLE_USER', 'LEGACY_SINGLE_USER_STANDARD', 'LEGACY_SINGLE_USER_PASSTHROUGH']);

/**
 * Whether the user may attach to the cluster, as far as the list says: a single-user cluster only
 * to its assigned user (the Databricks VS Code extension's check). Undefined when it cannot tell.
 */
export function mayAttach(cluster: ClusterInfo, userName: string | undefined): boolean | undefined {
  if (!SINGLE_USER_MODES.has(cluster.data_security_mode ?? '')) return true;
  if (userName === undefined || cluster.single_user_name === undefined) return undefined;
  return cluster.single_user_name.toLowerCase() === userName.toLowerCase();
}

/** The cluster's page in the workspace UI. */
export function clusterPageUrl(host: string, clusterId: string): string {
  return `${host.replace(/\/+$/, '')}/#setting/clusters/${encodeURIComponent(clusterId)}/configuration`;
}

const STATE_ORDER = ['RUNNING', 'RESIZING', 'PENDING', 'RESTARTING', 'TERMINATING', 'TERMINATED', 'ERROR', 'UNKNOWN'];

/** Running clusters first, then those on their way, then stopped ones; by name within each. */
export function sortClusters(clusters: readonly ClusterInfo[]): ClusterInfo[] {
  const rank = (cluster: ClusterInfo): number => {
    const index = STATE_ORDER.indexOf(cluster.state ?? 'UNKNOWN');
    return index === -1 ? STATE_ORDER.length : index;
  };
  return [...clusters].sort((a, b) => rank(a) - rank(b) || (a.cluster_name ?? a.cluster_id).localeCompare(b.cluster_name ?? b.cluster_id));
}

export function isRunning(cluster: ClusterInfo): boolean {
  return cluster.state === 'RUNNING' || cluster.state === 'RESIZING';
}

/** `2 workers`, `autoscale 2–8 workers`, `single node`. */
export function describeWorkers(cluster: ClusterInfo): string {
  if (cluster.autoscale) return `autoscale ${cluster.autoscale.min_workers ?? 0}–${cluster.autoscale.max_workers ?? 0} workers`;
  const workers = cluster.num_workers ?? 0;
  return workers === 0 ? 'single node' : `${workers} worker${workers === 1 ? '' : 's'}`;
}

/** `terminates after 120 min idle`, or `never terminates by itself`. */
export function describeAutoTermination(cluster: ClusterInfo): string {
  const minutes = cluster.autotermination_minutes ?? 0;
  return minutes > 0 ? `terminates after ${minutes} min idle` : 'no auto-termination';
}

/** The one-line detail of a completion item: `RUNNING · DBR 16.4 · Python 3.12 · 0123-…`. */
export function clusterDetail(cluster: ClusterInfo): string {
  const python = runtimePython(cluster.spark_version);
  return [cluster.state ?? 'UNKNOWN', runtimeLabel(cluster.spark_version), python ? `Python ${python}` : undefined, cluster.cluster_id].filter(Boolean).join(' · ');
}

/** The hover on a cluster id: name, state, runtime, size, auto-termination and the page link. */
export function clusterHoverMarkdown(cluster: ClusterInfo, host: string, attachable: boolean | undefined): string {
  const python = runtimePython(cluster.spark_version);
  const state = `${cluster.state ?? 'UNKNOWN'}${cluster.state_message ? `: ${cluster.state_message}` : ''}`;
  const lines = [
    `**cluster ${cluster.cluster_name ?? cluster.cluster_id}** \`${cluster.cluster_id}\``,
    '',
    `- state: ${state}`,
    `- runtime: ${cluster.spark_version ?? 'unknown'}${python ? ` (Python ${python})` : ''}`,
    `- nodes: ${cluster.node_type_id ?? 'unknown node type'}, ${describeWorkers(cluster)}`,
    `- ${describeAutoTermination(cluster)}`,
  ];
  if (attachable === false) lines.push(`- you may not attach to it (single user: ${cluster.single_user_name ?? 'someone else'})`);
  lines.push('', `[Open the cluster page](${clusterPageUrl(host, cluster.cluster_id)})`);
  return lines.join('\n');
}
