// The server's state, owned in one place: client capabilities, settings, workspace roots, the
// open documents and one `Workspace` (store + backend) per state folder. Notification handlers
// change it; request handlers read it and hand runs to the engine.
import { LogLines } from './protocol/log-lines.js';
import { dirname, join, sep } from 'node:path';
import type { ClientCapabilities, Connection } from 'vscode-languageserver/node';
import type { CallSite, DecoratedFunction, FileAnalysis } from './analysis/model.js';
import { BackendSelection } from './engine/backend-selection.js';
import { DEFAULT_SETTINGS, type RawSettings, type Settings } from './config/settings.js';
import { SettingsNotices } from './protocol/settings-notices.js';
import { Documents } from './documents.js';
import { existingStateRoot, stateDirFor } from './engine/state-dir.js';
import { Workspace } from './engine/workspace.js';
import { uriToPath } from './protocol/convert.js';
import { pathInFolders } from './platform/folder-aliases.js';
import { indexRoot } from './workspace-index/project-roots.js';
import type { RunContext } from './protocol/run-commands.js';
import { ProgressTokens, type ServerProgress } from './protocol/work-done-progress.js';
import type { SubmissionRecord } from './engine/result-store.js';
import { analyze } from './analysis/analyze.js';
import { WorkspaceIndex, type OpenBuffer } from './workspace-index/workspace-index.js';
import { MissingImports } from './bundle/missing-imports.js';
import { ClusterCatalogs } from './clusters/cluster-catalog.js';
import { retryNotices } from './engine/retry-notices.js';

// What other files can see of a file: its instances' settings and its decorated functions.
function exportSignature(analysis: FileAnalysis): string[] {
  // Parts, not one string: the functions' sources joined were a 270 KB string per keystroke on a
  // 10k-line file, kept until the next one (so promoted); unchanged functions share their strings.
  const parts: string[] = [];
  for (const instance of analysis.instances) {
    parts.push(`${instance.name}=${String(instance.clusterId)}|${String(instance.artifactDir)}|${String(instance.resultSizeMax)}|${instance.dynamic.join(',')}`);
  }
  for (const fn of analysis.functions) parts.push(fn.name, fn.kind, fn.instance, fn.source);
  return parts;
}

function sameParts(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((part, index) => part === b[index]);
}

export interface SessionOptions {
  connection: Connection;
  documents: Documents;
  /** The runner shipped with the server (`server/python/runner.py`). */
  runnerPath: string;
}

export class Session {
  readonly connection: Connection;
  readonly documents: Documents;
  capabilities: ClientCapabilities = {};
  settings: Settings = DEFAULT_SETTINGS;
  /** Tells the user about settings that are not used (`protocol/settings-notices.ts`). */
  readonly settingsNotices = new SettingsNotices((message) => this.warn(message));
  /** What `initialize` sent as settings (`initializationOptions`), checked once initialized. */
  initialSettings: RawSettings = undefined;
  roots: string[] = [];
  private readonly workspaces = new Map<string, Workspace>();
  private readonly runnerPath: string;
  private toldLocal = false;
  /** The Python files of the workspace folders, their module names and what they export. */
  readonly index: WorkspaceIndex;
  /** What the last check before each run found missing on the backend. */
  readonly missingImports = new MissingImports();
  /** Told when the imports a file's functions lack have changed (the server republishes). */
  readonly importCheckListeners: Array<(filePath: string) => void> = [];
  /** The cached cluster list of each Databricks workspace (issue 11). */
  readonly clusterCatalogs = new ClusterCatalogs();
  /** The client's name from `initialize` (`clientInfo.name`), to word advice for that editor. */
  clientName: string | undefined;
  readonly progress: ProgressTokens;

  constructor(options: SessionOptions) {
    this.connection = options.connection;
    this.logLines = new LogLines(options.connection);
    this.progress = new ProgressTokens(options.connection);
    this.documents = options.documents;
    this.runnerPath = options.runnerPath;
    const queries = this.documents.compiledQueries;
    this.index = new WorkspaceIndex({ queries, openBuffer: (path) => this.openBuffer(path) });
    // An open document's analysis includes what its imports resolve to.
    this.documents.resolver = (uri, syntax, raw) => {
      const path = this.pathOf(uri);
      if (path === undefined) return raw;
      const facts = this.index.factsFor(path, raw);
      if (facts.instances.length === 0 && facts.functions.length === 0) return raw;
      return analyze(syntax.chunks, syntax.lines, queries, facts);
    };
  }

  /** The open buffer of a file path, for the index (open buffers win over the disk). */
  private openBuffer(path: string): OpenBuffer | undefined {
    for (const document of this.documents.all()) {
      let documentPath = this.bufferPaths.get(document);
      if (documentPath === undefined) this.bufferPaths.set(document, (documentPath = this.pathOf(document.uri) ?? ''));
      if (documentPath !== path) continue;
      const kept = this.buffers.get(document);
      // One view per document version: the index asks for it per function on every publish, and a
      // new view (and a parsed URL) each time was a third of what a keystroke left for the old generation.
      if (kept?.version === document.version) return kept.view;
      const { syntax } = document;
      // A reopened document starts its versions again: the syntax object tells them apart.
      const id = kept?.id ?? ++this.bufferCount;
      const view: OpenBuffer = { version: `${id}:${document.version}`, get text() { return syntax.text; }, lineText: syntax.lines, get chunks() { return syntax.chunks; }, get raw() { return document.raw; } };
      this.buffers.set(document, { id, version: document.version, view });
      return view;
    }
    return undefined;
  }

  /** Each open document's id and view of its current version, and its path (`openBuffer`). */
  private readonly buffers = new WeakMap<object, { id: number; version: number; view: OpenBuffer }>();
  private readonly bufferPaths = new WeakMap<object, string>();
  private bufferCount = 0;

  /** Where runs of a file's functions go, for messages (`cluster 0123-…`, `local python3.11`). */
  backendLabelFor(filePath: string): string {
    return this.workspaceFor(filePath).backends.labelFor(undefined);
  }

  /** Indexes the workspace folders (once the client said which they are). */
  indexFolders(): void {
    for (const root of this.roots) this.index.addFolder(root);
    for (const folder of this.index.truncatedFolders()) {
      this.warn(`choppa: ${folder} has more than 20,000 Python files or 50,000 folders; the workspace index stopped there, so modules past it are not found.`);
    }
  }

  /**
   * With no workspace folder at all (Helix without a root marker), indexes the project folder of a
   * file that uses Choppa (`indexRoot`, as the CLI does), so the sibling modules its functions
   * import ship with them instead of failing remotely with ModuleNotFoundError. True when it
   * indexed a folder it had not (documents then need their analyses again).
   */
  indexScriptFolder(uri: string): boolean {
    if (this.roots.length > 0) return false;
    const path = this.pathOf(uri);
    const analysis = this.documents.get(uri)?.analysis;
    if (path === undefined || !analysis || (analysis.functions.length === 0 && analysis.instances.length === 0)) return false;
    const folder = indexRoot(path);
    if (this.index.folderList().includes(folder)) return false;
    this.index.addFolder(folder);
    return true;
  }

  /**
   * Tells the other open documents that what `uri` exports may have changed, when it has: they
   * are analysed again with the new facts and their diagnostics republished by `republish`.
   */
  exportsMayHaveChanged(uri: string, republish: (uri: string) => void): void {
    const document = this.documents.get(uri);
    if (!document) return;
    const signature = exportSignature(document.analysis);
    if (sameParts(this.exportSignatures.get(uri), signature)) return;
    const first = !this.exportSignatures.has(uri);
    this.exportSignatures.set(uri, signature);
    if (first && signature.length === 0) return;
    this.documents.invalidateResolved(uri);
    for (const other of this.documents.all()) if (other.uri !== uri) republish(other.uri);
  }

  private readonly exportSignatures = new Map<string, string[]>();

  /** The workspace root holding a file: the deepest workspace folder that contains it. */
  rootOf(filePath: string): string | null {
    let best: string | null = null;
    for (const root of this.roots) {
      const inside = filePath === root || filePath.startsWith(root.endsWith(sep) ? root : root + sep);
      if (inside && (best === null || root.length > best.length)) best = root;
    }
    return best;
  }

  /**
   * Where the state of a file no workspace folder holds lives: the project above it that already
   * has a `.choppa/` (`existingStateRoot`), else null (the user cache folder). Asked once per folder.
   */
  private stateRootOutside(fileFolder: string): string | null {
    let root = this.outsideRoots.get(fileFolder);
    if (root === undefined) {
      if (this.outsideRoots.size >= 1024) this.outsideRoots.clear();
      this.outsideRoots.set(fileFolder, (root = existingStateRoot(fileFolder)));
    }
    return root;
  }

  private readonly outsideRoots = new Map<string, string | null>();

  /** The workspace (store and backend) a file's runs belong to, created on first use. */
  workspaceFor(filePath: string): Workspace {
    const root = this.rootOf(filePath) ?? this.stateRootOutside(dirname(filePath));
    const stateDir = stateDirFor(root, dirname(filePath));
    let workspace = this.workspaces.get(stateDir);
    if (!workspace) {
      const backends = new BackendSelection({
        settings: this.settings,
        env: process.env,
        defaultLocalRoot: join(stateDir, 'fs'),
        stateDir,
        runnerPath: this.runnerPath,
        logger: (message) => this.log(message),
        onRetry: retryNotices((line) => this.warn(`choppa: ${line}`), 30_000),
      });
      workspace = new Workspace({
        // With no root the state is kept per folder (in the user cache), and results are named
        // from that folder: by base name alone, `lib/helpers.py`'s `f` run from `main.py` was the
        // result of `helpers.py`'s `f`, shown at its `def`.
        root: root ?? dirname(filePath),
        stateDir,
        backends,
        warn: (message) => this.warn(message),
        maxParallel: this.settings.runs.maxParallel,
        index: this.index,
        requirementsFile: this.settings.requirementsFile,
        artifactDir: this.settings.artifactDir,
        writeAfterAnswer: true,
        onImportCheck: (file, functionName, missing) => {
          if (!this.missingImports.record(file, functionName, missing)) return;
          for (const listener of this.importCheckListeners) listener(file);
        },
        onSubmissionChange: (record, ended) => this.submissionChanged(record, ended),
      });
      this.workspaces.set(stateDir, workspace);
      // Submitted runs outlive the editor: follow the ones this workspace left in flight.
      workspace.submissions.resume();
    }
    return workspace;
  }

  /**
   * The workspace following the run or submitted job `id` (our run id), whichever folder it
   * belongs to: a command given only an id (`choppa.cancel {id}`) must not look in the first
   * folder alone. Undefined when none knows it.
   */
  workspaceWithRun(id: string): Workspace | undefined {
    for (const root of this.roots) this.workspaceFor(root);
    for (const workspace of this.workspaces.values()) {
      if (workspace.running().some((run) => run.runId === id) || workspace.store.submission(id) !== undefined) return workspace;
    }
    return undefined;
  }

  /**
   * What the run commands of a function (or of one call of it) depend on: its last result, runs
   * in flight, its log, and whether the cache would serve the call without running.
   */
  runContext(filePath: string, fn: DecoratedFunction, analysis: FileAnalysis, call?: CallSite, callingFile: string = filePath): RunContext {
    const workspace = this.workspaceFor(filePath);
    const found = call ? workspace.resultAtCall(filePath, fn.name, call, callingFile, analysis) : undefined;
    const record = call ? found?.record : workspace.latestResult(filePath, fn.name);
    const key = workspace.key(filePath, fn.name);
    const running = workspace.running().some((run) => run.key === key);
    const inFlight = running || workspace.pendingSubmission(filePath, fn.name) !== undefined;
    const cacheOn = this.settings.cache === 'on' || fn.cacheOptIn;
    const exact = record !== undefined && (call === undefined || found?.argsChanged === false);
    const cacheServes =
      cacheOn &&
      exact &&
      record.status === 'ok' &&
      workspace.staleness(callingFile, analysis, fn, filePath, record) === undefined &&
      workspace.madeWhereRunsGo(record, analysis, fn.name, callingFile);
    return { record, inFlight, hasLog: running || record?.logPath !== undefined, cacheServes };
  }

  /** The analysis of a document: the open buffer when it is open (unsaved edits count). */
  analysisOf(uri: string): FileAnalysis | undefined {
    return this.documents.get(uri)?.analysis;
  }

  /** Listeners for submitted runs changing state (the server republishes what shows them). */
  readonly submissionListeners: Array<(uri: string) => void> = [];

  /** Work-done progress of each submitted run being followed, by our run id. */
  private readonly jobProgress = new Map<string, Promise<ServerProgress | undefined>>();

  /** Shows a followed job as a cancellable work-done progress, ended when the job ends. */
  private trackJobProgress(workspace: Workspace | undefined, record: SubmissionRecord, ended: boolean): void {
    let progress = this.jobProgress.get(record.id);
    if (!progress && !ended && this.supportsWorkDoneProgress) {
      progress = this.progress.create().then(
        (reporter) => {
          reporter.begin(`Job ${record.function}`, record.state, true);
          reporter.onCancel(() => void workspace?.submissions.cancel(record.id));
          return reporter;
        },
        () => undefined,
      );
      this.jobProgress.set(record.id, progress);
    }
    if (!progress) return;
    void progress.then((reporter) => {
      if (ended) reporter?.done();
      else reporter?.report(`${record.state}${record.stateMessage ? `: ${record.stateMessage}` : ''}`);
    });
    if (ended) this.jobProgress.delete(record.id);
  }

  private submissionChanged(record: SubmissionRecord, ended: boolean): void {
    const workspace = [...this.workspaces.values()].find((candidate) => candidate.store.submission(record.id) !== undefined);
    this.trackJobProgress(workspace, record, ended);
    const file = record.key.slice(0, record.key.lastIndexOf('::'));
    const path = workspace?.root ? join(workspace.root, file) : undefined;
    if (ended) {
      const result = workspace?.store.byRunId(record.key, record.id);
      const how = result?.status === 'ok' ? `finished: ${result.ref ? `ArtifactRef ${result.ref.path}` : 'ok'}` : result?.status === 'cancelled' ? 'was cancelled' : `failed: ${result?.error?.type ?? ''} ${result?.error?.message ?? record.stateMessage ?? ''}`;
      const message = `choppa: submitted run of ${record.function} (${record.handle?.runId ?? record.id}) ${how}`;
      // A failed job is an error, not news.
      if (record.state === 'failed' || result?.status === 'error') this.error(message);
      else this.info(message);
    }
    // Compared as paths: clients spell URIs their own way (VS Code writes `+` as `%2B`, Node does not).
    for (const document of this.documents.all()) {
      if (path === undefined || this.pathOf(document.uri) === path) for (const listener of this.submissionListeners) listener(document.uri);
    }
  }

  /** Says once per session that runs go to the embedded local backend. */
  noteLocalBackendOnce(): void {
    if (this.toldLocal) return;
    this.toldLocal = true;
    this.info(
      `choppa: no Databricks workspace is configured, so runs use the embedded local Python backend (${this.settings.pythonPath}).`,
    );
  }

  /**
   * Applies new settings. Workspaces built with other backend settings are retired: runs in
   * flight finish on them, new runs get a workspace built with the new settings.
   */
  updateSettings(settings: Settings): void {
    // Inlay hints, lenses and lint read the settings directly; everything else shapes backends.
    const shaping = (value: Settings) => JSON.stringify({ ...value, inlayHints: 0, codeLens: 0, scopeLint: 0, diagnostics: 0 });
    const changed = shaping(settings) !== shaping(this.settings);
    this.settings = settings;
    if (!changed) return;
    for (const workspace of this.workspaces.values()) workspace.retire();
    this.workspaces.clear();
  }

  /**
   * Lets go of the workspaces of folders removed from the editor: runs in flight finish, then
   * their interpreters stop (they would otherwise live until the server ends). Their state stays
   * on disk for the day the folder comes back.
   */
  forgetFolders(folders: readonly string[]): void {
    for (const [stateDir, workspace] of this.workspaces) {
      if (workspace.root === null || !folders.includes(workspace.root)) continue;
      workspace.retire();
      this.workspaces.delete(stateDir);
    }
  }

  /** Resolves once the first `workspace/configuration` answer (if any) is in. */
  ready: Promise<void> = Promise.resolve();

  /**
   * Disposes every workspace; resolves once those of earlier calls are disposed too (`shutdown`
   * followed by the end of the input must not exit while the first is still stopping them).
   */
  disposeWorkspaces(): Promise<void> {
    const all = [...this.workspaces.values()];
    this.workspaces.clear();
    const these = Promise.all(all.map((workspace) => workspace.dispose()));
    this.disposing = Promise.all([this.disposing, these]).then(() => undefined);
    return this.disposing;
  }

  private disposing: Promise<void> = Promise.resolve();

  /** A plain message: a `window/showMessage` notification, never `showMessageRequest`. */
  info(message: string): void {
    void this.connection.sendNotification('window/showMessage', { type: 3, message });
  }

  warn(message: string): void {
    void this.connection.sendNotification('window/showMessage', { type: 2, message });
    this.log(message);
  }

  error(message: string): void {
    void this.connection.sendNotification('window/showMessage', { type: 1, message });
    this.log(message);
  }

  log(message: string): void {
    this.logLines.push(message);
  }

  private readonly logLines: LogLines;

  get supportsShowDocument(): boolean {
    return this.capabilities.window?.showDocument?.support === true;
  }

  get supportsWorkDoneProgress(): boolean {
    return this.capabilities.window?.workDoneProgress === true;
  }

  /** The client asks the user for missing arguments itself (custom capability, ARCHITECTURE.md). */
  get promptsForArguments(): boolean {
    const experimental = this.capabilities.experimental as { choppa?: { argumentPrompt?: unknown } } | undefined;
    return experimental?.choppa?.argumentPrompt === true;
  }

  get supportsConfiguration(): boolean {
    return this.capabilities.workspace?.configuration === true;
  }

  get supportsInlayHintRefresh(): boolean {
    return this.capabilities.workspace?.inlayHint?.refreshSupport === true;
  }

  get supportsCodeLensRefresh(): boolean {
    return this.capabilities.workspace?.codeLens?.refreshSupport === true;
  }

  /**
   * The file path of an open or on-disk document URI, as the workspace folder holding it names it
   * (a file reached through a symbolic link to the folder is the folder's file).
   */
  pathOf(uri: string): string | undefined {
    const path = uriToPath(uri);
    return path === undefined ? undefined : pathInFolders(path, this.roots);
  }
}
