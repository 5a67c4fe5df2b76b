// A workspace folder can be reached by more than one path (a symbolic link to it, or one inside
// it): a file opened through another path than the folder's own is named as the folder names
// it, so its results, state and modules are the folder's, not those of a stranger's cache folder.
import { realpathSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';

/** The real path of `path`, or of its folder when the file does not exist yet. */
function realPath(path: string, realpath: (path: string) => string): string | undefined {
  try {
    return realpath(path);
  } catch {
    try {
      return join(realpath(dirname(path)), basename(path));
    } catch {
      return undefined;
    }
  }
}

const inside = (path: string, folder: string): boolean => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/**
 * `path` as the deepest of `folders` that holds it names it: unchanged when a folder holds it as
 * written, else the folder's path joined with where the file really is inside the folder, else
 * unchanged (a file outside every folder).
 */
export function pathInFolders(path: string, folders: readonly string[], realpath: (path: string) => string = realpathSync.native): string {
  if (folders.length === 0 || folders.some((folder) => inside(path, folder))) return path;
  const real = realPath(path, realpath);
  if (real === undefined) return path;
  let best: { folder: string; real: string } | undefined;
  for (const folder of folders) {
    const realFolder = realPath(folder, realpath);
    if (realFolder === undefined || !inside(real, realFolder)) continue;
    if (!best || realFolder.length > best.real.length) best = { folder, real: realFolder };
  }
  // `join` also drops the doubled separator of a folder given with a trailing one (eglot's `/proj/`).
  return best ? join(best.folder, real.slice(best.real.length)) : path;
}
