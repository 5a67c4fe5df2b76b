// Keeps the cluster diagnostics of open files current: a timer asks each Databricks workspace
// with an open `Choppa(...)` file for its cluster list (the catalog's TTL keeps that to one
// `clusters/list` per workspace per 30 s), and any change republishes the open documents.
import { CLUSTER_LIST_TTL_MS, type ClusterCatalog } from '../clusters/cluster-catalog.js';
import type { Session } from '../session.js';
import { clusterScope } from './cluster-scope.js';
import { publishDiagnostics } from './diagnostics.js';

export function startClusterRefresh(session: Session): () => void {
  session.clusterCatalogs.changeListeners.push(() => {
    for (const document of session.documents.all()) {
      try {
        publishDiagnostics(session, document.uri);
      } catch (error) {
        session.log(`choppa: publishing diagnostics for ${document.uri} failed: ${String(error)}`);
      }
    }
  });
  // A third of the TTL, so a list is never more than a TTL and a third old while files are open.
  const timer = setInterval(() => {
    const catalogs = new Set<ClusterCatalog>();
    for (const document of session.documents.all()) {
      const path = session.pathOf(document.uri);
      if (path === undefined || document.analysis.instances.length === 0) continue;
      const scope = clusterScope(session, path);
      if (scope) catalogs.add(scope.catalog);
    }
    for (const catalog of catalogs) if (catalog.stale) void catalog.list();
  }, Math.max(100, Math.floor(CLUSTER_LIST_TTL_MS / 3)));
  timer.unref();
  return () => clearInterval(timer);
}
