// Hover on the cluster id string of a `Choppa(cluster_id="...")` call: the cluster's name, state
// and message, runtime and Python, nodes and workers, auto-termination and a link to its page.
import type { Hover, HoverParams } from 'vscode-languageserver/node';
import type { FileAnalysis } from '../analysis/model.js';
import { clusterHoverMarkdown, mayAttach } from '../clusters/cluster-info.js';
import { markdownToPlainText } from '../engine/plain-text.js';
import type { Session } from '../session.js';
import { clusterScope, contains, instanceOnLine, instanceStrings } from './cluster-scope.js';
import { fromPosition } from './convert.js';

/** A hover when the position is on a cluster id string (answered from the cached list), else undefined. */
export function clusterIdHover(session: Session, params: HoverParams, analysis: FileAnalysis, path: string): Promise<Hover | null> | undefined {
  const pos = fromPosition(params.position);
  const instance = instanceOnLine(analysis, pos);
  const syntax = session.documents.get(params.textDocument.uri)?.syntax;
  if (!instance || syntax === undefined) return undefined;
  const found = instanceStrings(syntax.lines, instance).find((candidate) => candidate.keyword === 'cluster_id' && contains(candidate, pos));
  if (!found) return undefined;
  const scope = clusterScope(session, path);
  if (!scope) return undefined;
  return scope.catalog.list().then((result) => {
    let markdown: string;
    if (!result.ok) markdown = `cluster \`${found.value}\`: the cluster list is not available (${result.failure})`;
    else {
      const cluster = result.snapshot.clusters.find((candidate) => candidate.cluster_id === found.value);
      markdown = cluster
        ? clusterHoverMarkdown(cluster, scope.host, mayAttach(cluster, result.snapshot.userName))
        : `cluster \`${found.value}\` does not exist in ${scope.host} (${result.snapshot.clusters.length} clusters listed)`;
    }
    const formats = session.capabilities.textDocument?.hover?.contentFormat;
    const plain = formats !== undefined && formats.length > 0 && (formats[0] === 'plaintext' || !formats.includes('markdown'));
    return {
      contents: plain ? { kind: 'plaintext', value: markdownToPlainText(markdown) } : { kind: 'markdown', value: markdown },
      range: { start: found.start, end: found.end },
    };
  });
}
