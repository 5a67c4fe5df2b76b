// The problems a `Choppa(cluster_id=...)` line shows before any run, from the cached cluster list:
// an id the workspace does not have, a cluster the user may not attach to, a terminated one, a
// runtime whose Python is older than the local one that pickles arguments. Pure.
import { mayAttach, olderPython, runtimePython, type ClusterSnapshot } from './cluster-info.js';

export interface ClusterProblem {
  severity: 'error' | 'warning' | 'information';
  code: 'cluster-unknown' | 'cluster-not-attachable' | 'cluster-terminated' | 'cluster-python-older';
  message: string;
}

export interface ClusterProblemOptions {
  /** `choppa.autoStartCluster`: a terminated cluster is then started by the first run. */
  autoStart: boolean;
  /** The local Python (`3.12`) that pickles arguments and unpickles results, when known. */
  localPython: string | undefined;
}

export function clusterProblems(clusterId: string, snapshot: ClusterSnapshot, options: ClusterProblemOptions): ClusterProblem[] {
  const cluster = snapshot.clusters.find((candidate) => candidate.cluster_id === clusterId);
  if (!cluster) {
    // Beyond the pages listed it may well exist: saying it does not would be wrong.
    if (snapshot.complete === false) return [];
    return [{ severity: 'error', code: 'cluster-unknown', message: `cluster ${clusterId} does not exist in this workspace (clusters/list has ${snapshot.clusters.length} cluster${snapshot.clusters.length === 1 ? '' : 's'}; complete inside the quotes to pick one)` }];
  }
  const problems: ClusterProblem[] = [];
  const name = cluster.cluster_name ? `cluster ${cluster.cluster_name} (${clusterId})` : `cluster ${clusterId}`;
  if (mayAttach(cluster, snapshot.userName) === false) {
    problems.push({
      severity: 'error',
      code: 'cluster-not-attachable',
      message: `${name} is a single-user cluster of ${cluster.single_user_name ?? 'another user'}; ${snapshot.userName ?? 'you'} may not attach to it`,
    });
  }
  if (cluster.state === 'TERMINATED') {
    const why = cluster.state_message ? ` (${cluster.state_message})` : '';
    problems.push(
      options.autoStart
        ? { severity: 'information', code: 'cluster-terminated', message: `${name} is TERMINATED${why}; the first run starts it (a few minutes)` }
        : { severity: 'warning', code: 'cluster-terminated', message: `${name} is TERMINATED${why}; runs fail until it is started (code action "Start cluster", or set choppa.autoStartCluster)` },
    );
  }
  const remote = runtimePython(cluster.spark_version);
  if (remote !== undefined && options.localPython !== undefined && olderPython(remote, options.localPython)) {
    problems.push({
      severity: 'warning',
      code: 'cluster-python-older',
      message: `${name} runs Python ${remote} (${cluster.spark_version}), older than the local Python ${options.localPython}: pickles made here may not load there`,
    });
  }
  return problems;
}
