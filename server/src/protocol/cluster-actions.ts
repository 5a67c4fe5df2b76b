// The code actions of a `Choppa(...)` line on a Databricks workspace: Start cluster (when it is
// not running), Restart execution context, Open cluster page, and "Use cluster <name>" for each
// running cluster the user may attach to, as an edit setting or replacing `cluster_id=`.
import type { CodeAction, CodeActionParams } from 'vscode-languageserver/node';
import type { FileAnalysis } from '../analysis/model.js';
import { clusterIdEdit } from '../clusters/choppa-line.js';
import { isRunning, mayAttach, sortClusters } from '../clusters/cluster-info.js';
import type { Session } from '../session.js';
import { clusterScope, instanceOnLine } from './cluster-scope.js';
import { fromPosition } from './convert.js';
import { COMMANDS } from './extensions.js';

/** Running clusters offered as "Use cluster" at most (a picker, not a listing). */
const MAX_USE_ACTIONS = 20;

/** The cluster actions at `params.range`, or undefined when it is not on a `Choppa(...)` line of a Databricks workspace. */
export function clusterActions(session: Session, params: CodeActionParams, analysis: FileAnalysis, path: string): Promise<CodeAction[]> | undefined {
  const instance = instanceOnLine(analysis, fromPosition(params.range.start));
  if (!instance) return undefined;
  const scope = clusterScope(session, path);
  const text = session.documents.get(params.textDocument.uri)?.syntax.text;
  if (!scope || text === undefined) return undefined;
  const uri = params.textDocument.uri;
  const clusterId = scope.workspace.backends.clusterIdFor(instance);
  return scope.catalog.list().then((result) => {
    const actions: CodeAction[] = [];
    const clusters = result.ok ? sortClusters(result.snapshot.clusters) : [];
    const current = clusters.find((cluster) => cluster.cluster_id === clusterId);
    if (clusterId !== undefined && current) {
      const name = current.cluster_name ?? clusterId;
      if (!isRunning(current)) {
        actions.push({ title: `Start cluster ${name}`, command: { title: `Start cluster ${name}`, command: COMMANDS.startCluster, arguments: [{ clusterId, uri }] } });
      }
      actions.push({
        title: `Restart execution context on ${name}`,
        command: { title: `Restart execution context on ${name}`, command: COMMANDS.restartContext, arguments: [{ clusterId, uri }] },
      });
      actions.push({ title: `Open cluster page of ${name}`, command: { title: `Open cluster page of ${name}`, command: COMMANDS.openClusterPage, arguments: [{ clusterId, uri }] } });
    }
    const lines = text.split('\n');
    const usable = clusters.filter((cluster) => isRunning(cluster) && cluster.cluster_id !== clusterId && mayAttach(cluster, result.ok ? result.snapshot.userName : undefined) !== false);
    for (const cluster of usable.slice(0, MAX_USE_ACTIONS)) {
      const edit = clusterIdEdit(lines, instance.callSpan.start, instance.callSpan.end, cluster.cluster_id);
      actions.push({
        title: `Use cluster ${cluster.cluster_name ?? cluster.cluster_id}`,
        edit: { changes: { [uri]: [{ range: { start: edit.start, end: edit.end }, newText: edit.newText }] } },
      });
    }
    return actions;
  });
}
