// The workspace index: every Python file of each workspace folder, the module name Python would
// give it, and (lazily, cached while the file is unchanged) its analysis. It resolves a file's
// imports into `ImportFacts`, so a Choppa instance or a decorated function defined in one module
// is known wherever it is imported. Open buffers win over the disk. The index owns its caches,
// hence a class.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type * as Parser from '../syntax/tree.js';
import type { PythonParser } from '../syntax/parser-engine.js';
import { analyze } from '../analysis/analyze.js';
import type { FileAnalysis, ImportFacts } from '../analysis/model.js';
import { createPythonParser } from '../syntax/parser.js';
import type { CompiledQueries } from '../syntax/queries.js';
import { findPythonFiles, listingUnchanged, MAX_FILES, type PythonFiles } from './python-files.js';
import { packageRoots } from './package-roots.js';
import { isPackageInit, moduleNameOf } from './module-names.js';
import { resolveImportFacts, type ModuleLookup } from './import-facts.js';

/** A file larger than this is not read: generated code, not something a function ships. */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** An open editor buffer: it wins over the file on disk. */
export interface OpenBuffer {
  /** Changes whenever the text changes (and differs between two openings of a file). */
  version: string;
  readonly text: string;
  /** Its lines, when the owner can read one without the whole text (`SyntaxDocument.lineText`). */
  readonly lineText?: (line: number) => string | undefined;
  readonly chunks: readonly Parser.ParsedChunk[];
  /** The buffer's own analysis, when its owner keeps one (the same as analysing `chunks`). */
  readonly raw?: FileAnalysis;
}

export interface WorkspaceIndexOptions {
  queries: CompiledQueries;
  /** The open buffer of a path, if the editor has it open. */
  openBuffer?: (path: string) => OpenBuffer | undefined;
  maxFiles?: number;
}

export type FileChangeKind = 'created' | 'changed' | 'deleted';

interface FolderEntry {
  folder: string;
  roots: string[];
  /** Projects of their own below the folder (a monorepo's), deepest first, with their package roots. */
  projects: { dir: string; roots: string[] }[];
  files: Set<string>;
  truncated: boolean;
  /** What the file list depends on, to tell whether a folder added again must be walked again. */
  listing: Pick<PythonFiles, 'stamps' | 'walkedAt' | 'truncated'>;
}

interface Parsed {
  token: string;
  analysis: FileAnalysis;
  /** The disk text, kept for small files so a bundle does not read it again. */
  text?: string;
}

/** How recently written a file's stat is not trusted to tell its text (see `readToken`). */
const RACY_MS = 2000;
let racyReads = 0;

/** Disk texts up to this size stay cached beside their analysis. */
const CACHED_TEXT_BYTES = 256 * 1024;

interface Resolved {
  analysis: FileAnalysis;
  /** The files it was resolved from, with the token each had. */
  deps: Map<string, string>;
}

export class WorkspaceIndex {
  private readonly folders = new Map<string, FolderEntry>();
  /**
   * Module names per project (a workspace folder, or a project of its own below one): in a
   * monorepo two projects may each have a `common` module, and each imports its own.
   */
  private readonly namespaces = new Map<string, Namespace>();
  private readonly moduleNames = new Map<string, string>();
  private readonly parsed = new Map<string, Parsed>();
  private readonly resolved = new Map<string, Resolved>();
  /** Dependency sets of the resolutions under way (nested through imports). */
  private readonly tracking: Map<string, string>[] = [];
  private parser: PythonParser | undefined;
  /** File tokens already read during the current pass (see `pass`). */
  private tokens: Map<string, string | undefined> | undefined;

  constructor(private readonly options: WorkspaceIndexOptions) {}

  /**
   * Indexes a workspace folder, again when it is already known (the CLI daemon does before each
   * command): a known folder whose listing is unchanged (`listingUnchanged`) and whose package roots
   * are the same is not walked again.
   */
  addFolder(folder: string): void {
    const roots = rootsOf(folder);
    const known = this.folders.get(folder);
    if (known && known.roots.join('\0') === roots.join('\0') && listingUnchanged(known.listing) && known.projects.every((project) => project.roots.join('\0') === rootsOf(project.dir).join('\0'))) return;
    const listing = findPythonFiles(folder, this.options.maxFiles ?? MAX_FILES);
    this.walkCount += 1;
    const projects = [...listing.projects].sort((a, b) => b.length - a.length).map((dir) => ({ dir, roots: rootsOf(dir) }));
    this.folders.set(folder, { folder, roots, projects, files: new Set(listing.files), truncated: listing.truncated, listing });
    this.rebuildModules();
  }

  /** How many times a folder was walked (a known folder added again may not be). */
  get walks(): number {
    return this.walkCount;
  }

  private walkCount = 0;

  removeFolder(folder: string): void {
    if (this.folders.delete(folder)) this.rebuildModules();
  }

  /** The indexed folders. */
  folderList(): string[] {
    return [...this.folders.keys()];
  }

  /** Every folder the walks of the indexed folders read (the ones whose files count). */
  walkedFolders(): string[] {
    const folders: string[] = [];
    for (const entry of this.folders.values()) for (const stamp of entry.listing.stamps) if (stamp.size < 0) folders.push(stamp.path);
    return folders;
  }

  /** Folders whose walk stopped at the file limit. */
  truncatedFolders(): string[] {
    return [...this.folders.values()].filter((entry) => entry.truncated).map((entry) => entry.folder);
  }

  get fileCount(): number {
    let count = 0;
    for (const entry of this.folders.values()) count += entry.files.size;
    return count;
  }

  /** Applies file events (`workspace/didChangeWatchedFiles`, or a watcher of the CLI). */
  filesChanged(changes: readonly { path: string; kind: FileChangeKind }[]): void {
    let structural = false;
    for (const { path, kind } of changes) {
      this.parsed.delete(path);
      const base = path.slice(path.lastIndexOf(sep) + 1);
      // A project file or an ignore file changes what the folder's roots or files are.
      if (base === 'pyproject.toml' || base === 'setup.cfg' || base === 'setup.py' || base === '.gitignore') {
        const entry = this.folderOf(path);
        if (entry) this.addFolder(entry.folder);
        continue;
      }
      if (!path.endsWith('.py')) continue;
      const entry = this.folderOf(path);
      if (!entry) continue;
      if (kind === 'deleted' && entry.files.delete(path)) structural = true;
      if (kind === 'created' && !entry.files.has(path) && existsSync(path)) {
        entry.files.add(path);
        structural = true;
      }
    }
    if (structural) this.rebuildModules();
    this.resolved.clear();
  }

  /**
   * The dotted module name of an indexed file, or of an open buffer the disk does not have (a new
   * module not saved yet, a file moved away under the editor): named by where it is, so its
   * relative imports (`from . import dutch`) resolve as they will once it is saved.
   */
  moduleOf(path: string): string | undefined {
    const known = this.moduleNames.get(path);
    if (known !== undefined || this.options.openBuffer?.(path) === undefined) return known;
    for (const root of this.folderOf(path)?.roots ?? []) {
      const name = moduleNameOf(root, path);
      if (name !== undefined) return name;
    }
    return undefined;
  }

  /**
   * The file of a module (`pkg/__init__.py` for a package) as the file `from` imports it: its own
   * project's module first, else the one other project that has it (a monorepo's path dependency).
   */
  pathOfModule(module: string, from?: string): string | undefined {
    return this.namespaceOf(module, from)?.modules.get(module);
  }

  /** Whether a module name is a package or module of the workspace (namespace packages too), as `from` imports it. */
  hasModule(module: string, from?: string): boolean {
    return this.namespaceOf(module, from) !== undefined;
  }

  /**
   * Every file of a module name that more than one file of the project has (on two package roots):
   * which one Python imports depends on how it is started.
   */
  filesOfAmbiguous(module: string, from?: string): readonly string[] | undefined {
    return this.namespaceOf(module, from)?.duplicates.get(module);
  }

  private namespaceOf(module: string, from: string | undefined): Namespace | undefined {
    const has = (namespace: Namespace): boolean => namespace.modules.has(module) || namespace.packages.has(module);
    const own = from === undefined ? undefined : this.namespaces.get(this.projectOf(from) ?? '');
    if (own) return has(own) ? own : uniqueIn([...this.namespaces.values()].filter((namespace) => namespace !== own && has(namespace)));
    // A file outside every folder (a script beside the project): the first that has it.
    for (const namespace of this.namespaces.values()) if (has(namespace)) return namespace;
    return undefined;
  }

  /** The project folder a file belongs to: the deepest project of its workspace folder, else the folder. */
  private projectOf(path: string): string | undefined {
    const entry = this.folderOf(path);
    if (!entry) return undefined;
    return entry.projects.find((project) => path.startsWith(project.dir + sep))?.dir ?? entry.folder;
  }

  /** Whether the file is indexed (in a folder, not ignored). */
  has(path: string): boolean {
    return this.folderOf(path)?.files.has(path) ?? false;
  }

  /** The text of the file's open buffer, or undefined when the editor does not have it open. */
  openText(path: string): string | undefined {
    return this.options.openBuffer?.(path)?.text;
  }

  /** The text of a file: the open buffer when there is one, else the disk (undefined if unreadable). */
  textOf(path: string): string | undefined {
    const open = this.options.openBuffer?.(path);
    if (open) return open.text;
    const cached = this.parsed.get(path);
    if (cached?.text !== undefined && cached.token === this.tokenOf(path)) return cached.text;
    try {
      if (statSync(path).size > MAX_FILE_BYTES) return undefined;
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** The file's own analysis (no import facts), cached while its text is unchanged. */
  rawAnalysis(path: string): FileAnalysis | undefined {
    const token = this.tokenOf(path);
    for (const deps of this.tracking) deps.set(path, token ?? '');
    if (token === undefined) return undefined;
    const cached = this.parsed.get(path);
    if (cached?.token === token) return cached.analysis;
    const open = this.options.openBuffer?.(path);
    let analysis: FileAnalysis;
    if (open) {
      analysis = open.raw ?? analyze(open.chunks, open.lineText ?? open.text, this.options.queries);
    } else {
      const text = this.textOf(path);
      if (text === undefined) return undefined;
      this.parser ??= createPythonParser();
      const tree = this.parser.parse(text);
      try {
        analysis = analyze(tree, text, this.options.queries);
      } finally {
        // The analysis is plain data; a WebAssembly tree must be freed once nobody reads it.
        this.parser.free(tree);
      }
      this.parsed.set(path, { token, analysis, ...(text.length <= CACHED_TEXT_BYTES ? { text } : {}) });
      return analysis;
    }
    this.parsed.set(path, { token, analysis });
    return analysis;
  }

  /**
   * Runs `work` with each file's token read at most once (a stat per file, not per use): the
   * files are taken as they are when the pass starts. Passes nest.
   */
  pass<T>(work: () => T): T {
    if (this.tokens) return work();
    this.tokens = new Map();
    try {
      return work();
    } finally {
      this.tokens = undefined;
    }
  }

  /** The analysis of a file with its imports resolved (instances and functions of other modules). */
  analysisOf(path: string): FileAnalysis | undefined {
    return this.pass(() => this.resolve(path));
  }

  private resolve(path: string): FileAnalysis | undefined {
    const cached = this.resolved.get(path);
    if (cached && [...cached.deps].every(([dep, token]) => (this.tokenOf(dep) ?? '') === token)) {
      for (const deps of this.tracking) for (const [dep, token] of cached.deps) deps.set(dep, token);
      return cached.analysis;
    }
    const deps = new Map<string, string>();
    this.tracking.push(deps);
    try {
      const raw = this.rawAnalysis(path);
      if (!raw) return undefined;
      const facts = this.factsFor(path, raw);
      let analysis = raw;
      if (facts.instances.length > 0 || facts.functions.length > 0) {
        const open = this.options.openBuffer?.(path);
        if (open) {
          analysis = analyze(open.chunks, open.lineText ?? open.text, this.options.queries, facts);
        } else {
          const text = this.textOf(path) ?? '';
          this.parser ??= createPythonParser();
          const tree = this.parser.parse(text);
          try {
            analysis = analyze(tree, text, this.options.queries, facts);
          } finally {
            this.parser.free(tree);
          }
        }
      }
      this.resolved.set(path, { analysis, deps });
      return analysis;
    } finally {
      this.tracking.pop();
      for (const outer of this.tracking) for (const [dep, token] of deps) outer.set(dep, token);
    }
  }

  /**
   * What the imports of a file (analysed as `raw`) resolve to. Files outside every folder are
   * resolved against the folders all the same (a script beside the project).
   */
  factsFor(path: string, raw: FileAnalysis): ImportFacts {
    const lookup: ModuleLookup = {
      pathOf: (module) => this.pathOfModule(module, path),
      hasModule: (module) => this.hasModule(module, path),
      raw: (module) => {
        const file = this.pathOfModule(module, path);
        return file === undefined ? undefined : this.rawAnalysis(file);
      },
      resolved: (module) => {
        const file = this.pathOfModule(module, path);
        return file === undefined || this.resolving.has(file) ? undefined : this.guarded(file);
      },
    };
    const module = this.moduleOf(path) ?? this.scriptModule(path);
    return this.pass(() => resolveImportFacts({ module, isPackage: isPackageInit(path), imports: raw.imports }, lookup));
  }

  private readonly resolving = new Set<string>();

  // A module's resolution can import the module asking for it: the cycle yields nothing there.
  private guarded(path: string): FileAnalysis | undefined {
    this.resolving.add(path);
    try {
      return this.resolve(path);
    } finally {
      this.resolving.delete(path);
    }
  }

  // A file outside the package roots (a script) still resolves absolute imports; its own name
  // only matters for relative imports, which a script cannot use.
  private scriptModule(path: string): string {
    return path.slice(path.lastIndexOf(sep) + 1).replace(/\.py$/, '');
  }

  /** What identifies a file's current text: its open buffer's version, or its disk stat. */
  tokenOf(path: string): string | undefined {
    if (this.tokens?.has(path)) return this.tokens.get(path);
    const token = this.readToken(path);
    this.tokens?.set(path, token);
    return token;
  }

  private readToken(path: string): string | undefined {
    const open = this.options.openBuffer?.(path);
    if (open) return `open:${open.version}`;
    try {
      const stat = statSync(path);
      if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return undefined;
      const token = `disk:${stat.mtimeMs}:${stat.size}:${stat.ino}`;
      // Racy files (as git calls them): a file written in the last moments may be written again
      // within its timestamp's granularity (a few ms on Linux, seconds elsewhere) with the same
      // size and stat. Its token then matches nothing, so its text is read again until it settles.
      return Date.now() - stat.mtimeMs < RACY_MS ? `${token}:racy${++racyReads}` : token;
    } catch {
      return undefined;
    }
  }

  private folderOf(path: string): FolderEntry | undefined {
    let best: FolderEntry | undefined;
    for (const entry of this.folders.values()) {
      const prefix = entry.folder.endsWith(sep) ? entry.folder : entry.folder + sep;
      if (path.startsWith(prefix) && (!best || entry.folder.length > best.folder.length)) best = entry;
    }
    return best;
  }

  private rebuildModules(): void {
    this.namespaces.clear();
    this.moduleNames.clear();
    this.resolved.clear();
    for (const entry of this.folders.values()) {
      for (const path of entry.files) {
        const project = entry.projects.find((candidate) => path.startsWith(candidate.dir + sep));
        const dir = project?.dir ?? entry.folder;
        let namespace = this.namespaces.get(dir);
        if (!namespace) this.namespaces.set(dir, (namespace = { modules: new Map(), packages: new Set(), duplicates: new Map() }));
        for (const root of project?.roots ?? entry.roots) {
          const name = moduleNameOf(root, path);
          if (name === undefined) continue;
          this.moduleNames.set(path, name);
          const first = namespace.modules.get(name);
          if (first === undefined) namespace.modules.set(name, path);
          else namespace.duplicates.set(name, [...(namespace.duplicates.get(name) ?? [first]), path]);
          for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) namespace.packages.add(name.slice(0, dot));
          break;
        }
      }
    }
  }
}

interface Namespace {
  modules: Map<string, string>;
  /** Every package prefix of a module name (namespace packages have no file of their own). */
  packages: Set<string>;
  /** Module names two files have (`src/utils.py` and `utils.py`, each on a package root): every file. */
  duplicates: Map<string, string[]>;
}

// Another project's module is what a file imports only when exactly one project has it.
function uniqueIn(namespaces: Namespace[]): Namespace | undefined {
  return namespaces.length === 1 ? namespaces[0] : undefined;
}

function rootsOf(folder: string): string[] {
  const read = (name: string): string | undefined => {
    try {
      // Whole or not at all: half a TOML file is not TOML.
      if (statSync(join(folder, name)).size > 1024 * 1024) return undefined;
      return readFileSync(join(folder, name), 'utf8');
    } catch {
      return undefined;
    }
  };
  const isDir = (relative: string): boolean => {
    try {
      return statSync(join(folder, relative)).isDirectory();
    } catch {
      return false;
    }
  };
  const pyproject = read('pyproject.toml');
  const setupCfg = read('setup.cfg');
  const setupPy = read('setup.py');
  return packageRoots(folder, {
    ...(pyproject !== undefined ? { pyproject } : {}),
    ...(setupCfg !== undefined ? { setupCfg } : {}),
    ...(setupPy !== undefined ? { setupPy } : {}),
    isDir,
    isPackage: (relative) => existsSync(join(folder, relative, '__init__.py')),
  });
}

/** The deepest folder of `folders` that holds `path`, or its own folder. */
export function folderFor(folders: readonly string[], path: string): string {
  let best: string | undefined;
  for (const folder of folders) {
    const prefix = folder.endsWith(sep) ? folder : folder + sep;
    if (path.startsWith(prefix) && (!best || folder.length > best.length)) best = folder;
  }
  return best ?? dirname(path);
}
