// `choppa.startCluster {clusterId, uri?}`: starts a terminated cluster and reports its states as
// work-done progress until it is RUNNING; then the cluster list is fetched again so the
// `Choppa(...)` line's diagnostics follow.
import type { CancellationToken, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import { startCluster } from '../../clusters/cluster-operations.js';
import type { Session } from '../../session.js';
import { withProgress } from '../progress.js';
import { requireScope } from './clusters.js';

export async function startClusterCommand(
  session: Session,
  raw: unknown,
  token: CancellationToken,
  attached: WorkDoneProgressReporter | undefined,
): Promise<{ clusterId: string; state: string } | { clusterId: string; error: string; cancelled?: true }> {
  const { args, scope } = requireScope(session, raw, 'choppa.startCluster');
  const clusterId = args['clusterId'];
  if (typeof clusterId !== 'string' || clusterId === '') throw new ResponseError(ErrorCodes.InvalidParams, 'choppa.startCluster expects one argument {clusterId, uri?}');
  const result = await withProgress(session, `Starting cluster ${clusterId}`, token, attached, (progress) =>
    startCluster(scope.client, scope.host, clusterId, { signal: progress.signal, onProgress: progress.report }),
  );
  void scope.catalog.list(true);
  if (!result.ok) {
    if (!result.cancelled) session.error(`choppa: ${result.failure}`);
    return { clusterId, error: result.failure, ...(result.cancelled ? { cancelled: true as const } : {}) };
  }
  session.info(`choppa: cluster ${clusterId} is ${result.state}`);
  return { clusterId, state: result.state };
}
