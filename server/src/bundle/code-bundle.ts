// The bundle of a run: the project modules its function needs (see `module-closure.ts`), packed
// as a deterministic zip named by the sha256 of its bytes, under
// `<artifact_dir>/.choppa/code/<hash>.zip`. The runner puts it on `sys.path` (and `addPyFile`s it
// for executors); a new version of any module is a new hash, so runs of different versions never
// share a file. The payload carries `bundle: {path, hash, modules}`; the hash is part of the run's
// code version.

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { formatBytes } from '../engine/format.js';
import { MAX_FILE_BYTES, type WorkspaceIndex } from '../workspace-index/workspace-index.js';
import { functionClosure, type ModuleClosure } from './module-closure.js';
import { zipArchive, type ZipEntry } from './zip-archive.js';

/** A bundle larger than this is refused: project code, not data, is what ships. */
export const MAX_BUNDLE_BYTES = 20 * 1024 * 1024;

/** What the runner payload carries (`payload.bundle`). */
export interface BundleRef {
  /** Logical storage path of the zip (`/Workspace/.../.choppa/code/<hash>.zip`). */
  path: string;
  /** sha256 of the zip's bytes, hex. */
  hash: string;
  /** Every module in the zip, dotted (purged from `sys.modules` when the version changes). */
  modules: string[];
  /** The package of the function's own module: what its relative imports resolve against. */
  package?: string;
}

export interface CodeBundle {
  ref: BundleRef;
  zip: Buffer;
  /** What ships, for hover and `choppa-lsp bundle`: module, file inside the zip, bytes. */
  files: { module: string; name: string; source: string; size: number }[];
  /** Third-party top-level imports of the shipped code (and of the function). */
  external: string[];
}

/**
 * The bundle of `functionName` of `filePath`, or undefined when it imports no project module
 * (then nothing ships and the payload has no `bundle`).
 */
export function buildBundle(index: WorkspaceIndex, filePath: string, functionName: string, artifactDir: string): CodeBundle | undefined | { failure: string } {
  return index.pass(() => {
    const closure = functionClosure(index, filePath, functionName);
    if (closure.modules.size === 0) return undefined;
    // Before the reuse below: a file added since may have made a module name ambiguous.
    const clash = closure.ambiguous[0];
    if (clash) {
      return {
        failure: `module ${clash.module} is ${clash.files.length} files of the project (${clash.files.join(', ')}), each on a package root; which one Python imports depends on how it is started, so ${functionName} cannot ship it: rename or move one`,
      };
    }
    // The same modules in the same versions make the same zip: reuse the last one.
    const key = `${filePath}\0${functionName}\0${artifactDir}`;
    const versions = [...closure.modules.values()].map((source) => `${source}@${index.tokenOf(source) ?? '?'}`).join('\0');
    let recent = recentByIndex.get(index);
    if (!recent) recentByIndex.set(index, (recent = new Map()));
    const cached = recent.get(key);
    if (cached && cached.versions === versions && !versions.includes('?')) return cached.bundle;
    const built = pack(index, filePath, functionName, artifactDir, closure);
    if (!('failure' in built)) {
      recent.delete(key);
      recent.set(key, { versions, bundle: built });
      if (recent.size > RECENT_BUNDLES) recent.delete(recent.keys().next().value as string);
    }
    return built;
  });
}

/** A module's text as it ships: `\n` line ends, no byte order mark (what Python reads either way). */
export function sourceText(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

// The last bundles built, by function: a run right after a hover reuses the hover's zip.
const RECENT_BUNDLES = 32;
const recentByIndex = new WeakMap<WorkspaceIndex, Map<string, { versions: string; bundle: CodeBundle }>>();

function pack(index: WorkspaceIndex, filePath: string, functionName: string, artifactDir: string, closure: ModuleClosure): CodeBundle | { failure: string } {
  const entries: ZipEntry[] = [];
  const files: CodeBundle['files'] = [];
  let total = 0;
  for (const [module, source] of closure.modules) {
    const text = index.textOf(source);
    if (text === undefined) return { failure: unreadable(source, module, functionName) };
    // Python reads source with universal newlines and skips a UTF-8 BOM, so neither changes what
    // runs; shipped without them, a CRLF or BOM module makes the same zip from the disk and from an
    // editor that sends its buffer without them (Emacs, VS Code), and opening it there does not
    // make its results look stale.
    const data = Buffer.from(sourceText(text), 'utf8');
    total += data.length;
    if (total > MAX_BUNDLE_BYTES) {
      return { failure: `the project modules ${functionName} imports are over ${MAX_BUNDLE_BYTES / 1024 / 1024} MB; ship data as arguments or artifacts, not as modules` };
    }
    const name = `${module.split('.').join('/')}${source.endsWith('__init__.py') ? '/__init__.py' : '.py'}`;
    entries.push({ name, data });
    files.push({ module, name, source, size: data.length });
  }
  // Python's zipimport finds a package folder by its own entry: without one, a namespace package
  // (a folder without `__init__.py`) is not found in the zip, and an installed copy would be.
  const folders = new Set<string>();
  for (const { name } of entries) for (let slash = name.indexOf('/'); slash !== -1; slash = name.indexOf('/', slash + 1)) folders.add(name.slice(0, slash + 1));
  for (const folder of folders) entries.push({ name: folder, data: Buffer.alloc(0) });
  const zip = zipArchive(entries);
  const hash = createHash('sha256').update(zip).digest('hex');
  const path = `${artifactDir.replace(/\/+$/, '')}/.choppa/code/${hash}.zip`;
  const own = index.moduleOf(filePath);
  const pkg = own === undefined ? undefined : filePath.endsWith('__init__.py') ? own : own.split('.').slice(0, -1).join('.');
  const ref: BundleRef = { path, hash, modules: [...closure.modules.keys()].sort(), ...(pkg ? { package: pkg } : {}) };
  return { ref, zip, files, external: closure.external };
}

// Why a module of the closure has no text: gone, unreadable, or larger than a module the index reads.
function unreadable(source: string, module: string, functionName: string): string {
  const size = statSync(source, { throwIfNoEntry: false })?.size;
  if (size !== undefined && size > MAX_FILE_BYTES) {
    return `${source} (module ${module}) is ${formatBytes(size)}, over the ${formatBytes(MAX_FILE_BYTES)} a shipped module may be, so ${functionName} cannot run with it; generated code or data belongs in an argument or an artifact`;
  }
  return `${source} (module ${module}) cannot be read, so it cannot ship with ${functionName}`;
}
