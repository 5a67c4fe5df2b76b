// `choppa.restartContext {clusterId?, uri?}`: destroys the warm execution context of a cluster so
// the next run starts in a fresh interpreter (the cluster of the file's `Choppa(...)` or of the
// settings when no id is given).
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import type { Session } from '../../session.js';
import { requireScope } from './clusters.js';

export async function restartContext(session: Session, raw: unknown): Promise<{ clusterId: string; restarted: boolean; message: string }> {
  const { args, scope } = requireScope(session, raw, 'choppa.restartContext');
  let clusterId = args['clusterId'];
  if (clusterId !== undefined && (typeof clusterId !== 'string' || clusterId === '')) throw new ResponseError(ErrorCodes.InvalidParams, 'choppa.restartContext: `clusterId` must be a cluster id');
  if (clusterId === undefined) {
    const uri = typeof args['uri'] === 'string' ? args['uri'] : undefined;
    const instance = uri ? session.analysisOf(uri)?.instances[0] : undefined;
    clusterId = scope.workspace.backends.clusterIdFor(instance);
  }
  if (typeof clusterId !== 'string') throw new ResponseError(ErrorCodes.InvalidRequest, 'choppa.restartContext: no cluster is configured; give {clusterId}');
  const backend = scope.workspace.backends.existingClusterBackend(clusterId);
  const restarted = backend ? await backend.restartContext() : false;
  const message = restarted
    ? `the execution context on cluster ${clusterId} was destroyed; the next run starts a fresh interpreter`
    : `there is no warm execution context on cluster ${clusterId}; the next run creates one`;
  session.info(`choppa: ${message}`);
  return { clusterId, restarted, message };
}
