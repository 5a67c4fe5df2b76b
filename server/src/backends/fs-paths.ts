// The one mapping from a logical storage path (`/Workspace/...`, `/Volumes/...`, `dbfs:/...`)
// to the local file that holds it. `map_path` in server/python/runner.py mirrors it line for
// line, and test/backends/fs-paths.test.ts keeps the two in agreement.

const STORAGE_ROOTS = new Set(['Workspace', 'Volumes', 'dbfs']);

/**
 * Maps a logical storage path to a local path: `/Workspace/a` → `<root>/Workspace/a`,
 * `/Volumes/a` → `<root>/Volumes/a`, `dbfs:/a` (or `/dbfs/a`) → `<root>/dbfs/a`. Without a root
 * the result is the cluster's own path (`/dbfs/a` for `dbfs:/a`). Returns undefined for a
 * relative path, a `..` segment, a NUL or backslash, or anything outside those three roots, so
 * a mapped path never leaves `root`.
 */
export function mapLogicalPath(root: string | undefined, logical: string): string | undefined {
  if (logical === '' || logical.includes('\0') || logical.includes('\\')) return undefined;
  let local: string;
  if (logical.startsWith('dbfs:')) {
    const rest = logical.slice('dbfs:'.length);
    if (!rest.startsWith('/')) return undefined;
    local = '/dbfs' + rest;
  } else if (logical.startsWith('/')) {
    local = logical;
  } else {
    return undefined;
  }
  const segments = local.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return undefined;
  const first = segments[0];
  if (first === undefined || !STORAGE_ROOTS.has(first)) return undefined;
  const mapped = '/' + segments.join('/');
  return root ? root.replace(/\/+$/, '') + mapped : mapped;
}

/** The `.json` sidecar beside an artifact's `.pkl` (`f-1.pkl` → `f-1.json`). */
export function sidecarPath(artifactPath: string): string {
  return (artifactPath.endsWith('.pkl') ? artifactPath.slice(0, -'.pkl'.length) : artifactPath) + '.json';
}
