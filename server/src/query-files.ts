// Reads the tree-sitter query files shipped in `server/queries/`. This is the only place that
// touches them on disk, so `syntax/` and `analysis/` stay free of I/O.
import { readFileSync, readdirSync } from 'node:fs';
import { packageFile } from './package-files.js';
import { join } from 'node:path';

/** The folder holding the `.scm` files, next to `dist/` in the package. */
export const QUERIES_DIR = packageFile('queries');

/** Every `<name>.scm` in the queries folder, keyed by `<name>`. */
export function loadQuerySources(dir: string = QUERIES_DIR): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith('.scm')) sources[file.slice(0, -4)] = readFileSync(join(dir, file), 'utf8');
  }
  return sources;
}
