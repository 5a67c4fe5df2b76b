// Copies the built server into client-vscode/server/ for the .vsix: bin, dist, python, queries,
// package.json and the runtime node_modules it resolves (with the native tree-sitter addons for
// this platform only). Run after `tsc -b` at the root; `npm run package` calls it.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const serverDir = join(repo, 'server');
const out = join(here, '..', 'server');
const platformPrebuild = `${process.platform}-${process.arch}`;

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

/** Leaves out sources, other platforms' prebuilds and build leftovers; keeps `.node` addons. */
function keep(source, packageDir) {
  const rel = relative(packageDir, source).split(sep);
  if (rel[0] === '' || rel.length === 0) return true;
  const [top, second] = rel;
  if (top === 'node_modules') return false;
  if (top === 'vendor' || top === 'test' || top === 'tests') return false;
  if (top === 'src') return rel.length === 1 || (rel.length === 2 && second === 'node-types.json');
  if (top === 'prebuilds') return rel.length === 1 || second === platformPrebuild;
  if (top === 'build') return rel.length === 1 || (second === 'Release' && (rel.length === 2 || source.endsWith('.node')));
  return !/\.(wasm|map|d\.ts|d\.mts|d\.cts|gyp|cc|h)$/.test(source);
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
console.log(`staged the server and ${staged.size} packages into ${out}`);
