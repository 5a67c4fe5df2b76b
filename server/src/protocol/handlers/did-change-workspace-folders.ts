// `workspace/didChangeWorkspaceFolders`: folders added to or removed from the workspace are
// indexed or forgotten, and open documents are analysed again against the index.
import type { WorkspaceFoldersChangeEvent } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';
import { uriToPath } from '../convert.js';
import { publishDiagnostics } from '../diagnostics.js';
import { watchIndexedFolders } from '../server-file-watch.js';

export function didChangeWorkspaceFolders(session: Session, event: WorkspaceFoldersChangeEvent): void {
  const removed = event.removed.map((folder) => uriToPath(folder.uri)).filter((path): path is string => path !== undefined);
  const added = event.added.map((folder) => uriToPath(folder.uri)).filter((path): path is string => path !== undefined);
  session.roots = [...session.roots.filter((root) => !removed.includes(root)), ...added.filter((root) => !session.roots.includes(root))];
  for (const folder of removed) session.index.removeFolder(folder);
  session.forgetFolders(removed);
  for (const folder of added) session.index.addFolder(folder);
  watchIndexedFolders(session);
  session.documents.invalidateResolved();
  for (const document of session.documents.all()) publishDiagnostics(session, document.uri);
}
