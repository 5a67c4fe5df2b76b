// What a CLI process keeps between commands: the parser and queries, each project's workspace
// index, and each project's warm workspace (its backends: a warm interpreter or execution
// context, open HTTP connections). A one-shot `choppa-lsp` keeps one for its single command; the
// CLI daemon keeps one across runs, so a warm run does only the run.
import { join } from 'node:path';
import { nodeHttpTransport, undiciTransport, type HttpTransport } from '../backends/databricks/http-transport.js';
import { RUNNER_PATH } from '../backends/local/local-backend.js';
import { parseSettings, type Settings } from '../config/settings.js';
import { Documents } from '../documents.js';
import { BackendSelection, resolveWorkspaceConfig } from '../engine/backend-selection.js';
import { Workspace } from '../engine/workspace.js';
import { loadQuerySources } from '../query-files.js';
import { compileQueries } from '../syntax/queries.js';
import { createPythonParser } from '../syntax/parser.js';
import { WorkspaceIndex } from '../workspace-index/workspace-index.js';
import type { CliOptions } from './cli-arguments.js';
import { retryNotices } from '../engine/retry-notices.js';

/** Where a command writes, and what cancels it (Ctrl-C in the terminal that asked). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  signal?: AbortSignal;
}

/** Projects a host keeps warm at once; the least recently used one is let go past it. */
const MAX_PROJECTS = 8;

/**
 * The settings the CLI runs with: its options, and the interpreters from `$CHOPPA_PYTHON` and
 * `$CHOPPA_DASK_PYTHON`.
 */
export function cliSettings(options: CliOptions): Settings {
  const daskPython = options.dask.pythonPath ?? process.env.CHOPPA_DASK_PYTHON;
  return parseSettings({
    ...options.databricks,
    backend: options.local ? 'local' : (options.backend ?? 'auto'),
    ...(process.env.CHOPPA_PYTHON ? { pythonPath: process.env.CHOPPA_PYTHON } : {}),
    dask: { ...(options.dask.scheduler ? { scheduler: options.dask.scheduler } : {}), ...(daskPython ? { pythonPath: daskPython } : {}) },
  });
}

/**
 * A workspace of the project at `root`, with the CLI's settings; its warnings go to `warn`. A
 * command of its own process talks over node's own HTTP (see http-transport.ts); a daemon's
 * workspaces, which live for many runs, over undici as the server's do.
 */
function openWorkspace(root: string, options: CliOptions, warn: (message: string) => void, index: WorkspaceIndex | undefined, transport: HttpTransport): Workspace {
  const stateDir = join(root, '.choppa');
  const backends = new BackendSelection({
    settings: cliSettings(options),
    env: process.env,
    defaultLocalRoot: join(stateDir, 'fs'),
    stateDir,
    reuseContexts: true,
    transport,
    runnerPath: RUNNER_PATH,
    logger: () => undefined,
    onRetry: retryNotices(warn),
  });
  return new Workspace({ root, stateDir, backends, warn, ...(index ? { index } : {}) });
}

interface Kept {
  key: string;
  workspace: Workspace;
}

export class CliHost {
  private documentsKept: Documents | undefined;
  private readonly indexes = new Map<string, WorkspaceIndex>();
  private readonly workspaces = new Map<string, Kept>();
  /** The commands under way: a kept workspace warns each of them, whichever command made it. */
  private readonly commands = new Set<Io>();

  /** `daemon`: the host lives for many commands, maybe at once (its HTTP goes over undici). */
  constructor(private readonly daemon = false) {}

  /** Runs one command's `work` with its output among those warnings go to. */
  async serving<T>(io: Io, work: () => Promise<T>): Promise<T> {
    this.commands.add(io);
    try {
      return await work();
    } finally {
      this.commands.delete(io);
    }
  }

  private warn(message: string): void {
    for (const io of this.commands) io.err(`warning: ${message}\n`);
  }

  /** The parser and compiled queries, made once. */
  documents(): Documents {
    this.documentsKept ??= new Documents(createPythonParser(), compileQueries(loadQuerySources()));
    return this.documentsKept;
  }

  /**
   * The index of a folder, walked again on every call: files added or deleted since the last
   * command are seen, and analyses are kept only for files whose size and mtime are unchanged.
   */
  index(folder: string): WorkspaceIndex {
    let index = this.indexes.get(folder);
    if (!index) {
      index = new WorkspaceIndex({ queries: this.documents().compiledQueries });
      this.indexes.set(folder, index);
    } else {
      this.indexes.delete(folder);
      this.indexes.set(folder, index);
    }
    index.addFolder(folder);
    while (this.indexes.size > MAX_PROJECTS) this.indexes.delete(this.indexes.keys().next().value!);
    return index;
  }

  /**
   * The warm workspace of a project for a run. It is kept while the run's settings and the
   * Databricks configuration they resolve to (options, environment, config file) are the same;
   * anything else gets a new one, and the old one is let go once its runs end. Results other
   * processes stored meanwhile (an editor's server, a CLI run without the daemon) are read first.
   */
  workspace(root: string, options: CliOptions, index?: WorkspaceIndex): Workspace {
    const settings = cliSettings(options);
    // Compared in memory only: it holds secrets.
    const config = settings.backend === 'local' || settings.backend === 'dask' ? null : resolveWorkspaceConfig(settings, process.env);
    const key = JSON.stringify({ settings, config, index: index?.folderList() ?? [] });
    const kept = this.workspaces.get(root);
    if (kept?.key === key) {
      this.workspaces.delete(root);
      this.workspaces.set(root, kept);
      kept.workspace.store.reload();
      return kept.workspace;
    }
    kept?.workspace.retire();
    const transport = this.daemon ? undiciTransport(undefined, process.env) : nodeHttpTransport(process.env);
    const workspace = openWorkspace(root, options, (message) => this.warn(message), index, transport);
    this.workspaces.set(root, { key, workspace });
    while (this.workspaces.size > MAX_PROJECTS) {
      const [oldest, { workspace: old }] = this.workspaces.entries().next().value!;
      this.workspaces.delete(oldest);
      old.retire();
    }
    return workspace;
  }

  /** Lets every kept workspace go: results flushed, interpreters stopped, HTTP connections closed. */
  async dispose(): Promise<void> {
    const all = [...this.workspaces.values()].map(({ workspace }) => workspace);
    this.workspaces.clear();
    this.indexes.clear();
    await Promise.all(all.map((workspace) => workspace.dispose()));
  }
}
