// A small LSP editor that spawns the server (`server/bin/choppa-lsp.cjs --stdio`) and speaks
// JSON-RPC over its stdio exactly as an editor does. The demo and the protocol tests drive the
// server through it; callers wait for named messages (a diagnostic, a showMessage), never time.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ClientCapabilities,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';

/** The server's launcher, beside `dist/` in the package. */
export const SERVER_BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'choppa-lsp.cjs');

/** What a full-featured editor advertises (VS Code-like). */
export const RICH_CAPABILITIES: ClientCapabilities = {
  workspace: { configuration: true, inlayHint: { refreshSupport: true }, codeLens: { refreshSupport: true } },
  window: { workDoneProgress: true, showDocument: { support: true } },
  textDocument: {
    synchronization: { dynamicRegistration: false },
    publishDiagnostics: { relatedInformation: true },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['', 'quickfix'] } } },
    inlayHint: {},
  },
};

/** What Neovim 0.7 / Helix advertise: no configuration pull, no showDocument, no progress. */
export const BARE_CAPABILITIES: ClientCapabilities = { textDocument: { publishDiagnostics: {} } };

export interface ClientOptions {
  /** The workspace root; null sends `rootUri: null` and no folders, as Helix can. */
  root: string | null;
  /** The workspace folders sent in `initialize` (default: `root` alone). */
  folders?: string[];
  capabilities?: ClientCapabilities;
  /** `clientInfo.name` (`helix`, `Neovim`, `Visual Studio Code`); none by default. */
  clientName?: string;
  initializationOptions?: unknown;
  /** Answer to `workspace/configuration` for the `choppa` section. */
  configuration?: unknown;
  /** Never answer `workspace/configuration` (a client whose handler hangs). */
  configurationHangs?: boolean;
  /** Answer for an item scoped to a folder (`scopeUri`), when it differs from `configuration`. */
  folderConfiguration?: (scopeUri: string) => unknown;
  env?: NodeJS.ProcessEnv;
  /** The server command (default: this checkout's built server with `--stdio`). */
  command?: string[];
}

interface Waiter<T> {
  test: (value: T) => boolean;
  resolve: (value: T) => void;
}

/** Resolves the waiters `value` satisfies and returns the ones still waiting. */
function settle<T>(waiters: Array<Waiter<T>>, value: T): Array<Waiter<T>> {
  return waiters.filter((waiter) => {
    const hit = waiter.test(value);
    if (hit) waiter.resolve(value);
    return !hit;
  });
}

export class EditorClient {
  readonly connection: ProtocolConnection;
  readonly messages: Array<{ type: number; message: string }> = [];
  /** `window/logMessage` texts, in order. */
  readonly logs: string[] = [];
  readonly shownDocuments: string[] = [];
  /** How many times the server asked for `workspace/configuration`. */
  configurationRequests = 0;
  readonly progress: Array<{ token: unknown; value: unknown }> = [];
  readonly stderr: string[] = [];
  /** What the server registered dynamically (`client/registerCapability`). */
  readonly registrations: Array<{ method: string; registerOptions?: unknown }> = [];
  private readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  private diagnosticWaiters: Array<Waiter<PublishDiagnosticsParams>> = [];
  private messageWaiters: Array<Waiter<{ type: number; message: string }>> = [];
  private progressWaiters: Array<Waiter<{ token: unknown; value: unknown }>> = [];
  private versions = new Map<string, number>();
  private exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly options: ClientOptions,
  ) {
    this.connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    this.exited = new Promise((done) => child.on('exit', (code) => done(code)));
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      this.diagnostics.set(params.uri, params);
      this.diagnosticWaiters = settle(this.diagnosticWaiters, params);
    });
    this.connection.onNotification('window/showMessage', (params: { type: number; message: string }) => {
      this.messages.push(params);
      this.messageWaiters = settle(this.messageWaiters, params);
    });
    // The server sends its log lines in batches, one message of several lines.
    this.connection.onNotification('window/logMessage', (params: { message: string }) => {
      for (const line of params.message.split('\n')) if (this.logs.length < 1000) this.logs.push(line);
    });
    this.connection.onNotification('$/progress', (params: { token: unknown; value: unknown }) => {
      this.progress.push(params);
      this.progressWaiters = settle(this.progressWaiters, params);
    });
    this.connection.onRequest('workspace/configuration', (params: { items: Array<{ scopeUri?: string }> }) => {
      this.configurationRequests += 1;
      if (options.configurationHangs) return new Promise(() => undefined);
      return params.items.map((item) => (item.scopeUri !== undefined && options.folderConfiguration ? options.folderConfiguration(item.scopeUri) : undefined) ?? options.configuration ?? null);
    });
    this.connection.onRequest('window/workDoneProgress/create', () => null);
    this.connection.onRequest('client/registerCapability', (params: { registrations: Array<{ method: string; registerOptions?: unknown }> }) => {
      this.registrations.push(...params.registrations);
      return null;
    });
    this.connection.onRequest('window/showDocument', (params: { uri: string }) => {
      this.shownDocuments.push(params.uri);
      return { success: true };
    });
    this.connection.onRequest('workspace/inlayHint/refresh', () => null);
    this.connection.onRequest('workspace/codeLens/refresh', () => null);
    this.connection.onRequest('window/showMessageRequest', () => {
      throw new Error('the server must never send window/showMessageRequest');
    });
    this.connection.listen();
  }

  /** Spawns the server and completes the initialize handshake. */
  static async start(options: ClientOptions): Promise<EditorClient> {
    const home = mkdtempSync(join(tmpdir(), 'choppa-home-'));
    const [command, ...args] = options.command ?? [process.execPath, SERVER_BIN, '--stdio'];
    const child = spawn(command!, args, {
      cwd: options.root ?? home,
      env: { ...process.env, XDG_CACHE_HOME: join(home, 'cache'), HOME: home, ...options.env },
    });
    const client = new EditorClient(child, options);
    const rootUri = options.root === null ? null : pathToFileURL(options.root).href;
    await client.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: options.folders
        ? options.folders.map((folder, index) => ({ uri: pathToFileURL(folder).href, name: `folder${index}` }))
        : rootUri === null ? null : [{ uri: rootUri, name: 'test' }],
      capabilities: options.capabilities ?? RICH_CAPABILITIES,
      ...(options.clientName ? { clientInfo: { name: options.clientName } } : {}),
      initializationOptions: options.initializationOptions,
    });
    await client.connection.sendNotification('initialized', {});
    return client;
  }

  uri(path: string): string {
    return pathToFileURL(path).href;
  }

  async open(path: string, text: string): Promise<string> {
    const uri = this.uri(path);
    this.versions.set(uri, 1);
    await this.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'python', version: 1, text },
    });
    return uri;
  }

  /** Closes a document. */
  async close(uri: string): Promise<void> {
    this.versions.delete(uri);
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** Sends one incremental change. */
  async change(uri: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }, text: string): Promise<void> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ range, text }],
    });
  }

  /** Resolves with the first published diagnostics of `uri` (past or future) that pass `test`. */
  waitForDiagnostics(uri: string, test: (diagnostics: Diagnostic[]) => boolean = () => true): Promise<Diagnostic[]> {
    // Only diagnostics for the latest text we sent count, so a stale publish never satisfies.
    const fresh = (params: PublishDiagnosticsParams): boolean =>
      params.version === undefined || params.version >= (this.versions.get(uri) ?? 0);
    const current = this.diagnostics.get(uri);
    if (current && fresh(current) && test(current.diagnostics)) return Promise.resolve(current.diagnostics);
    return new Promise((done) => {
      this.diagnosticWaiters.push({
        test: (params) => params.uri === uri && fresh(params) && test(params.diagnostics),
        resolve: (params) => done(params.diagnostics),
      });
    });
  }

  /** Resolves with the first showMessage (past or future) whose text passes `test`. */
  waitForMessage(test: (message: string) => boolean): Promise<{ type: number; message: string }> {
    const seen = this.messages.find((params) => test(params.message));
    if (seen) return Promise.resolve(seen);
    return new Promise((done) => this.messageWaiters.push({ test: (params) => test(params.message), resolve: done }));
  }

  /** Resolves with the first `$/progress` value (past or future) that passes `test`. */
  waitForProgress(test: (value: unknown) => boolean): Promise<unknown> {
    const seen = this.progress.find((params) => test(params.value));
    if (seen) return Promise.resolve(seen.value);
    return new Promise((done) =>
      this.progressWaiters.push({ test: (params) => test(params.value), resolve: (params) => done(params.value) }),
    );
  }

  lastDiagnostics(uri: string): Diagnostic[] {
    return this.diagnostics.get(uri)?.diagnostics ?? [];
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  executeCommand<R>(command: string, argument: unknown): Promise<R> {
    return this.request<R>('workspace/executeCommand', { command, arguments: [argument] });
  }

  /** True while the server process is alive. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Shuts the server down politely; resolves with its exit code. */
  async stop(): Promise<number | null> {
    if (this.alive) {
      try {
        await this.connection.sendRequest('shutdown');
        await this.connection.sendNotification('exit');
      } catch {
        this.child.kill();
      }
    }
    const code = await this.exited;
    this.connection.dispose();
    return code;
  }
}
