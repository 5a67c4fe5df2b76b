// `choppa.openClusterPage {clusterId, uri?}`: opens the cluster's page in the browser with
// `window/showDocument` (external) where the client can; the URL is in the result (and in a
// message) for clients that cannot.
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import { clusterPageUrl } from '../../clusters/cluster-info.js';
import type { Session } from '../../session.js';
import { requireScope } from './clusters.js';

export async function openClusterPage(session: Session, raw: unknown): Promise<{ url: string; opened: boolean }> {
  const { args, scope } = requireScope(session, raw, 'choppa.openClusterPage');
  const clusterId = args['clusterId'];
  if (typeof clusterId !== 'string' || clusterId === '') throw new ResponseError(ErrorCodes.InvalidParams, 'choppa.openClusterPage expects one argument {clusterId, uri?}');
  const url = clusterPageUrl(scope.host, clusterId);
  let opened = false;
  if (session.supportsShowDocument) {
    opened = await session.connection.window.showDocument({ uri: url, external: true }).then(
      (result) => result.success,
      () => false,
    );
  }
  if (!opened) session.info(`choppa: cluster ${clusterId}: ${url}`);
  return { url, opened };
}
