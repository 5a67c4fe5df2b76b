// Bundles the built server (`dist/main.js` and every module it imports, statically or lazily) into
// `dist/choppa-lsp.bundle.js`, which `bin/choppa-lsp.js` runs: node loads one file instead of
// about 120, which takes 25-30 ms off every start (a CLI run, a server's first answer). npm
// packages stay outside (`packages: external`), found in node_modules as before; lazy imports
// stay lazy (esbuild runs a module's body when it is first imported). Run after `tsc -b`.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const server = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(server, 'dist', 'main.js');
if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npx tsc -b\` at the repository root first.`);

await build({
  entryPoints: [entry],
  outfile: join(server, 'dist', 'choppa-lsp.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // Readable stacks in bug reports: names and layout kept.
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
});
