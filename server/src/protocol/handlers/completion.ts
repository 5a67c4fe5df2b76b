// `textDocument/completion`: inside `Choppa(cluster_id="|")` the workspace's clusters (running
// first; name, state, runtime and Python as detail; the id inserted), and inside
// `artifact_dir="/Volumes/|"` or `"/Workspace/|"` the folders of that level, one level at a time.
import type { CompletionList, CompletionParams } from 'vscode-languageserver/node';
import { completionSite } from '../../clusters/choppa-line.js';
import type { Session } from '../../session.js';
import { clusterItems, folderItems, insideChoppaCall, NO_ITEMS } from '../cluster-completion.js';
import { clusterScope } from '../cluster-scope.js';

export async function completion(session: Session, params: CompletionParams): Promise<CompletionList> {
  const uri = params.textDocument.uri;
  const document = session.documents.get(uri);
  const path = session.pathOf(uri);
  if (!document || path === undefined) return NO_ITEMS;
  // The line first: editors ask on most keystrokes, and only a keyword string needs the whole text.
  const lineText = (document.syntax.lineText(params.position.line) ?? '').replace(/\r$/, '');
  const site = completionSite(lineText, params.position);
  if (!site) return NO_ITEMS;
  const text = document.syntax.text;
  const offset = (document.syntax.lineStarts[params.position.line] ?? text.length) + params.position.character;
  if (!insideChoppaCall(text, offset)) return NO_ITEMS;
  const scope = clusterScope(session, path);
  if (site.keyword === 'cluster_id') return scope ? clusterItems(scope, site) : NO_ITEMS;
  return folderItems(scope, site);
}

