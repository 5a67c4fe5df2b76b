// Copies the built server into client-vscode/server/ for the .vsix: bin, dist, python, queries,
// package.json and the runtime node_modules it resolves. The .vsix is universal: no native addon
// goes in (the optional `tree-sitter` binding is left out, and so are the grammar's prebuilds),
// so the server parses on WebAssembly with `tree-sitter-python.wasm` on every platform. Also
// copies the root LICENSE and CHANGELOG.md beside the manifest for vsce. Run after `tsc -b` at
// the root; `npm run package` calls it.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const serverDir = join(repo, 'server');
const out = join(here, '..', 'server');

if (!existsSync(join(serverDir, 'dist', 'main.js'))) {
  throw new Error(`${serverDir}/dist/main.js is missing: run \`npx tsc -b\` at the repository root first.`);
}

/** Finds a dependency the way node does: the nearest node_modules up from the dependent. */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === repo || dirname(dir) === dir) return undefined;
  }
}

/**
 * Leaves out sources, native builds and prebuilds (no platform's addon goes in), debug builds
 * and type declarations; keeps `.wasm` files, which are what the server parses with here.
 */
function keep(source, packageDir) {
  const rel = relative(packageDir, source).split(sep);
  if (rel[0] === '' || rel.length === 0) return true;
  const [top] = rel;
  if (['node_modules', 'vendor', 'test', 'tests', 'src', 'prebuilds', 'build', 'debug', 'bindings'].includes(top)) return false;
  return !/\.(node|map|d\.ts|d\.mts|d\.cts|gyp|cc|c|h|js\.map)$/.test(source);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const part of ['bin', 'dist', 'python', 'queries', 'package.json']) {
  cpSync(join(serverDir, part), join(out, part), { recursive: true, filter: (source) => !/\.(map|d\.ts)$/.test(source) });
}

const staged = new Map();
const queue = [serverDir];
while (queue.length > 0) {
  const dependent = queue.shift();
  const manifest = JSON.parse(readFileSync(join(dependent, 'package.json'), 'utf8'));
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const found = resolvePackage(name, dependent);
    if (!found) throw new Error(`${name} (a dependency of ${manifest.name}) is not installed.`);
    // Both server/node_modules and the root node_modules collapse into server/node_modules.
    const target = join(out, relative(repo, found).replace(/^server[/\\]/, ''));
    if (staged.has(target)) {
      if (staged.get(target) !== found) throw new Error(`${found} and ${staged.get(target)} would both be staged as ${target}.`);
      continue;
    }
    staged.set(target, found);
    cpSync(found, target, { recursive: true, dereference: true, filter: (source) => keep(source, found) });
    queue.push(found);
  }
}
for (const doc of ['LICENSE', 'CHANGELOG.md']) cpSync(join(repo, doc), join(here, '..', doc));
console.log(`staged the server and ${staged.size} packages into ${out} (no native addon: the server parses on WebAssembly)`);
