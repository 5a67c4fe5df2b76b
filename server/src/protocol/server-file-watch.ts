// Where the client does not report file changes, the server watches the folders its index walked,
// so results shown on open files turn stale when a module they shipped changes on disk (a
// `git checkout`, a formatter, another editor) instead of staying shown as current.
import type { Session } from '../session.js';
import { watchFolders, type FolderWatcher } from '../workspace-index/folder-watcher.js';
import { filesChangedOnDisk } from './handlers/did-change-watched-files.js';

const watchers = new WeakMap<Session, FolderWatcher>();

/**
 * Whether the client reports changes made outside it: Neovim 0.10 on Linux does not offer
 * `didChangeWatchedFiles`, and Helix (25.01) registers it but reports only its own writes.
 */
export function clientWatchesFiles(session: Session): boolean {
  if (session.clientName?.toLowerCase() === 'helix') return false;
  return session.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
}

/** Starts (or brings up to date) the server's watch of the indexed folders, when the client does not watch. */
export function watchIndexedFolders(session: Session): void {
  if (clientWatchesFiles(session)) return;
  let watcher = watchers.get(session);
  if (!watcher) {
    watcher = watchFolders(
      (changes) => {
        // Walked again only when a folder's listing changed (the index's stamps tell).
        // Every indexed folder: the workspace folders, and a script's project with none (`indexScriptFolder`).
        if (changes.folders) for (const folder of session.index.folderList()) session.index.addFolder(folder);
        filesChangedOnDisk(session, changes.files);
        if (changes.folders) watchIndexedFolders(session);
      },
      (unwatched) => session.log(`choppa: ${unwatched} project folders are not watched for changes on disk (limit reached); results there turn stale on the next edit.`),
    );
    watchers.set(session, watcher);
  }
  watcher.update(session.index.walkedFolders());
}

/** Stops the server's watch (at shutdown). */
export function stopWatchingFolders(session: Session): void {
  watchers.get(session)?.close();
  watchers.delete(session);
}
