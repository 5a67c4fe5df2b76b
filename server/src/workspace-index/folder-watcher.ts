// The server's own watch of the indexed folders, for clients that do not report file changes
// (Neovim 0.10 on Linux does not offer `workspace/didChangeWatchedFiles`; Helix 25.01 registers it
// but reports only its own writes), so a `git checkout` under an open editor still reaches the index.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { extname, join } from 'node:path';
import type { FileChangeKind } from './workspace-index.js';

/** More folders than this are not watched (each is one inotify watch, a per-user resource). */
export const MAX_WATCHED_FOLDERS = 4096;

/** How long events are gathered before they are reported, so a checkout of many files is one report. */
const SETTLE_MS = 100;

const PROJECT_FILES = new Set(['pyproject.toml', 'setup.cfg', '.gitignore']);

export interface FolderChanges {
  files: { path: string; kind: FileChangeKind }[];
  /** A folder was created or removed: the listing must be walked again. */
  folders: boolean;
}

export interface FolderWatcher {
  /** Watches exactly `folders` from now on (adding and dropping watches). */
  update(folders: readonly string[]): void;
  close(): void;
  /** How many folders are watched. */
  readonly size: number;
}

/**
 * Watches each of `folders` (not recursively: the index's walk decides which folders count) and
 * reports the Python and project files changed in them, gathered over `SETTLE_MS`. `onLimit` is
 * told once when folders are left unwatched (the cap or the system's watch limit).
 */
export function watchFolders(onChanges: (changes: FolderChanges) => void, onLimit: (unwatched: number) => void): FolderWatcher {
  const watchers = new Map<string, FSWatcher>();
  const pending = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let warned = false;

  const flush = (): void => {
    timer = undefined;
    const changes: FolderChanges = { files: [], folders: false };
    for (const [path, name] of pending) {
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat?.isDirectory() || (stat === undefined && watchers.has(path))) changes.folders = true;
      else if (extname(name) === '.py' || PROJECT_FILES.has(name)) changes.files.push({ path, kind: stat ? 'created' : 'deleted' });
    }
    pending.clear();
    if (changes.files.length > 0 || changes.folders) onChanges(changes);
  };

  const add = (folder: string): boolean => {
    try {
      const watcher = watch(folder, { persistent: false }, (_event, name) => {
        if (typeof name !== 'string' || name === '') return;
        pending.set(join(folder, name), name);
        timer ??= setTimeout(flush, SETTLE_MS).unref();
      });
      watcher.on('error', () => {
        watcher.close();
        watchers.delete(folder);
      });
      watchers.set(folder, watcher);
      return true;
    } catch {
      return false;
    }
  };

  return {
    update(folders) {
      const wanted = new Set(folders);
      for (const [folder, watcher] of watchers) {
        if (wanted.has(folder)) continue;
        watcher.close();
        watchers.delete(folder);
      }
      let unwatched = 0;
      for (const folder of wanted) {
        if (watchers.has(folder)) continue;
        if (watchers.size >= MAX_WATCHED_FOLDERS || !add(folder)) unwatched += 1;
      }
      if (unwatched > 0 && !warned) {
        warned = true;
        onLimit(unwatched);
      }
    },
    close() {
      if (timer) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
    get size() {
      return watchers.size;
    },
  };
}
