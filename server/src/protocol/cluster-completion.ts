// The completion items of a `Choppa(...)` string: the workspace's clusters for `cluster_id=`
// (running first, the id inserted) and one level of `/Volumes` or `/Workspace` folders for
// `artifact_dir=`. `handlers/completion.ts` finds the site; this builds the items.
import type { CompletionItem, CompletionList } from 'vscode-languageserver/node';
import { CompletionItemKind } from './lsp-runtime.js';
import type { CompletionSite } from '../clusters/choppa-line.js';
import { clusterDetail, mayAttach, sortClusters } from '../clusters/cluster-info.js';
import { listFolders } from '../clusters/workspace-paths.js';
import type { ClusterScope } from './cluster-scope.js';

const ROOTS = ['/Volumes/', '/Workspace/'];
/** How far back a `Choppa(` may open the call the cursor is in. */
const LOOK_BACK_CHARS = 4_000;

export const NO_ITEMS: CompletionList = { isIncomplete: false, items: [] };
/** Whether `offset` is inside the parentheses of a `Choppa(` call (also while they are unclosed). */
export function insideChoppaCall(text: string, offset: number): boolean {
  const from = Math.max(0, offset - LOOK_BACK_CHARS);
  const before = text.slice(from, offset);
  const open = before.lastIndexOf('Choppa(');
  if (open === -1) return false;
  let depth = 0;
  for (const char of before.slice(open + 'Choppa'.length)) {
    if (char === '(') depth++;
    else if (char === ')') depth--;
  }
  return depth > 0;
}

export async function clusterItems(scope: ClusterScope, site: CompletionSite): Promise<CompletionList> {
  const result = await scope.catalog.list();
  if (!result.ok) return NO_ITEMS;
  const range = { start: site.start, end: site.end };
  const items = sortClusters(result.snapshot.clusters).map((cluster, index): CompletionItem => {
    const attachable = mayAttach(cluster, result.snapshot.userName);
    const name = cluster.cluster_name ?? cluster.cluster_id;
    return {
      label: name,
      labelDetails: { description: cluster.state ?? 'UNKNOWN' },
      kind: CompletionItemKind.Value,
      detail: `${clusterDetail(cluster)}${attachable === false ? ' · you may not attach' : ''}`,
      sortText: String(index).padStart(4, '0'),
      filterText: `${cluster.cluster_id} ${name}`,
      textEdit: { range, newText: cluster.cluster_id },
    };
  });
  return { isIncomplete: false, items };
}

export async function folderItems(scope: ClusterScope | undefined, site: CompletionSite): Promise<CompletionList> {
  const typed = site.typed;
  const slash = typed.lastIndexOf('/');
  const isRoot = slash <= 0 || !ROOTS.some((root) => typed.startsWith(root));
  if (isRoot) {
    const range = { start: site.start, end: { line: site.start.line, character: site.start.character + typed.length } };
    const items = ROOTS.filter((root) => root.startsWith(typed) || typed === '').map((root, index): CompletionItem => ({
      label: root,
      kind: CompletionItemKind.Folder,
      sortText: String(index),
      textEdit: { range, newText: root },
    }));
    return { isIncomplete: false, items };
  }
  if (!scope) return NO_ITEMS;
  const parent = typed.slice(0, slash + 1);
  const listing = await listFolders(scope.client, parent);
  if (!listing.ok) return NO_ITEMS;
  const segmentStart = { line: site.start.line, character: site.start.character + parent.length };
  const range = { start: segmentStart, end: { line: site.start.line, character: site.start.character + typed.length } };
  const items = listing.folders.map((name, index): CompletionItem => ({
    label: `${name}/`,
    kind: CompletionItemKind.Folder,
    detail: `${parent}${name}/`,
    sortText: String(index).padStart(4, '0'),
    textEdit: { range, newText: `${name}/` },
  }));
  return { isIncomplete: false, items };
}
