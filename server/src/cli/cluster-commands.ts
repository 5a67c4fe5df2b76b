// `choppa-lsp clusters`, `cluster start ID`, `context restart [ID]` and `jobs`: the cluster
// operations of the editor (issue 11) from a shell, on the workspace the configuration resolves to.
import { join } from 'node:path';
import { destroyContext } from '../backends/databricks/command-execution.js';
import { ClusterCatalog } from '../clusters/cluster-catalog.js';
import { describeWorkers, mayAttach, runtimePython, sortClusters } from '../clusters/cluster-info.js';
import { projectJobRuns, startCluster } from '../clusters/cluster-operations.js';
import { recordContext, recordedContext } from '../clusters/context-registry.js';
import { formatDuration } from '../engine/format.js';
import type { Workspace } from '../engine/workspace.js';
import type { CliOptions } from './cli-arguments.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export async function runClusterCommand(options: CliOptions, workspace: Workspace, stateDir: string, io: CliIo): Promise<number> {
  const access = workspace.backends.workspaceAccess();
  if (!access) {
    // Runs go to the local Python then, which the CLI daemon keeps warm: stopping the daemon is
    // how its next run gets a fresh interpreter.
    const local = options.command === 'context-restart' ? '; runs use the local Python, and `choppa-lsp daemon stop` gives the next run a fresh one' : '';
    io.err(`choppa-lsp ${options.command.replace('-', ' ')}: no Databricks workspace is configured (see \`choppa-lsp config\`)${local}\n`);
    return 1;
  }
  const { client, host } = access;
  const print = (value: unknown): void => io.out(`${JSON.stringify(value, null, 2)}\n`);
  switch (options.command) {
    case 'clusters': {
      const result = await new ClusterCatalog(client, host).list();
      if (!result.ok) {
        io.err(`choppa-lsp clusters: ${result.failure}\n`);
        return 1;
      }
      const clusters = sortClusters(result.snapshot.clusters);
      if (options.json) print({ host, userName: result.snapshot.userName ?? null, clusters });
      else if (clusters.length === 0) io.out(`no clusters in ${host}\n`);
      for (const cluster of options.json ? [] : clusters) {
        const python = runtimePython(cluster.spark_version);
        const denied = mayAttach(cluster, result.snapshot.userName) === false ? '  (you may not attach)' : '';
        io.out(`${cluster.cluster_id}  ${cluster.cluster_name ?? ''}  ${cluster.state ?? 'UNKNOWN'}  ${cluster.spark_version ?? '?'}${python ? ` (Python ${python})` : ''}  ${cluster.node_type_id ?? ''} ${describeWorkers(cluster)}${denied}\n`);
      }
      return 0;
    }
    case 'cluster-start': {
      const clusterId = options.target;
      if (clusterId === '') {
        io.err('choppa-lsp cluster start: give the cluster id\n');
        return 2;
      }
      const result = await startCluster(client, host, clusterId, { onProgress: (report) => io.err(`… ${report.message}\n`) });
      if (!result.ok) {
        io.err(`choppa-lsp cluster start: ${result.failure}\n`);
        return 1;
      }
      if (options.json) print({ clusterId, state: result.state });
      else io.out(`cluster ${clusterId} is ${result.state}\n`);
      return 0;
    }
    case 'context-restart': {
      const clusterId = options.target !== '' ? options.target : workspace.backends.clusterIdFor(undefined);
      if (clusterId === undefined) {
        io.err('choppa-lsp context restart: no cluster is configured; give its id\n');
        return 2;
      }
      const contextId = recordedContext(stateDir, host, clusterId);
      if (contextId === undefined) {
        io.out(`no warm execution context of this project on cluster ${clusterId} (${join(stateDir, 'contexts.json')}); the next run creates a fresh one\n`);
        return 0;
      }
      await destroyContext(client, { clusterId, contextId });
      recordContext(stateDir, host, clusterId, { dropped: contextId });
      io.out(`destroyed execution context ${contextId} on cluster ${clusterId}; the next run starts a fresh interpreter\n`);
      return 0;
    }
    case 'jobs': {
      const result = await projectJobRuns(client, host);
      if (!result.ok) {
        io.err(`choppa-lsp jobs: ${result.failure}\n`);
        return 1;
      }
      if (options.json) print(result.runs);
      else if (result.runs.length === 0) io.out('no job runs submitted by choppa\n');
      for (const run of options.json ? [] : result.runs) {
        const took = run.durationMs !== undefined ? `  ${formatDuration(run.durationMs)}` : '';
        io.out(`${run.runId}  ${run.function}  ${run.state}${run.result ? `/${run.result}` : ''}${took}  ${run.runPageUrl ?? ''}\n`);
      }
      return 0;
    }
    default:
      return 2;
  }
}
