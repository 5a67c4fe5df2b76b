// Which Databricks workspace (and its cached cluster list) a file or a command is about, and
// where on a `Choppa(...)` call the cluster id sits. Shared by the cluster handlers and commands.
import { join } from 'node:path';
import type { ChoppaInstance, FileAnalysis, Pos } from '../analysis/model.js';
import type { DatabricksHttpClient } from '../backends/databricks/http-client.js';
import type { ClusterCatalog } from '../clusters/cluster-catalog.js';
import { keywordStrings, type KeywordString } from '../clusters/choppa-line.js';
import type { Workspace } from '../engine/workspace.js';
import type { Session } from '../session.js';

export interface ClusterScope {
  catalog: ClusterCatalog;
  client: DatabricksHttpClient;
  host: string;
  workspace: Workspace;
}

/** The Databricks workspace of a file, or undefined when its runs are local or misconfigured. */
export function clusterScope(session: Session, path: string): ClusterScope | undefined {
  const workspace = session.workspaceFor(path);
  const access = workspace.backends.workspaceAccess();
  if (!access) return undefined;
  return { catalog: session.clusterCatalogs.for(access.host, access.authType, access.client), client: access.client, host: access.host, workspace };
}

/** The file a command is about: its `uri`, or else the first workspace folder (or the cwd). */
export function commandPath(session: Session, uri: unknown): string {
  const path = typeof uri === 'string' ? session.pathOf(uri) : undefined;
  return path ?? join(session.roots[0] ?? process.cwd(), '__choppa__.py');
}

/** The instance whose call covers `pos` (the `Choppa(...)` line or lines). */
export function instanceOnLine(analysis: FileAnalysis, pos: Pos): ChoppaInstance | undefined {
  return analysis.instances.find((instance) => pos.line >= instance.callSpan.start.line && pos.line <= instance.callSpan.end.line);
}

/** The `cluster_id=` / `artifact_dir=` strings of an instance's call, read from the lines of its call only. */
export function instanceStrings(lineOf: (line: number) => string | undefined, instance: ChoppaInstance): KeywordString[] {
  const { start, end } = instance.callSpan;
  const lines: string[] = [];
  for (let line = start.line; line <= end.line; line++) {
    const text = lineOf(line);
    if (text === undefined) break;
    lines[line] = text;
  }
  return keywordStrings(lines, start.line, end.line);
}

export function contains(found: KeywordString, pos: Pos): boolean {
  return pos.line === found.start.line && pos.character >= found.start.character && pos.character <= found.end.character;
}
