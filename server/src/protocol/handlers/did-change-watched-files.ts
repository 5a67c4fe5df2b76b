// `workspace/didChangeWatchedFiles`: Python files (and the project files that decide package
// roots) created, changed or deleted on disk update the workspace index; open documents are then
// analysed again against it and their diagnostics republished.
import type { DidChangeWatchedFilesParams } from 'vscode-languageserver/node';
import { FileChangeType } from '../lsp-runtime.js';
import type { Session } from '../../session.js';
import type { FileChangeKind } from '../../workspace-index/workspace-index.js';
import { uriToPath } from '../convert.js';
import { publishDiagnostics } from '../diagnostics.js';

const KINDS: Record<number, FileChangeKind> = {
  [FileChangeType.Created]: 'created',
  [FileChangeType.Changed]: 'changed',
  [FileChangeType.Deleted]: 'deleted',
};

export function didChangeWatchedFiles(session: Session, params: DidChangeWatchedFilesParams): void {
  const changes = params.changes.flatMap((change) => {
    const path = uriToPath(change.uri);
    const kind = KINDS[change.type];
    return path === undefined || kind === undefined ? [] : [{ path, kind }];
  });
  if (changes.length === 0) return;
  filesChangedOnDisk(session, changes);
}

/** What the client's file events (or the server's own watch of its folders) change: the index, then every open document's diagnostics. */
export function filesChangedOnDisk(session: Session, changes: readonly { path: string; kind: FileChangeKind }[]): void {
  session.index.filesChanged(changes);
  session.documents.invalidateResolved();
  for (const document of session.documents.all()) publishDiagnostics(session, document.uri);
}
