// Where the server's own files are: `package.json`, `python/` and `queries/`, found from this
// module, which sits one level below the package in `src/` and `dist/` alike, and in the bundle
// (`dist/choppa-lsp.bundle.js`), where every module shares this one's location.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `server/` folder (the npm package's root). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A file of the package, by its path from the package root. */
export function packageFile(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
