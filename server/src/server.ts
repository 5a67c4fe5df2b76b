// The wiring table: every LSP method the server handles, mapped to its handler. Adding a
// method means one file in `protocol/handlers/`, one line here and one capability.
import type { Connection, InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import { ConnectionError, createConnection, ProposedFeatures } from './protocol/lsp-runtime.js';
import { DirectMessageWriter } from './protocol/message-writer.js';
import { RUNNER_PATH } from './backends/local/local-backend.js';
import { Documents } from './documents.js';
import { codeAction } from './protocol/handlers/code-action.js';
import { codeLens } from './protocol/handlers/code-lens.js';
import { didChangeConfiguration } from './protocol/handlers/did-change-configuration.js';
import { didChange } from './protocol/handlers/did-change.js';
import { didClose } from './protocol/handlers/did-close.js';
import { didChangeWatchedFiles } from './protocol/handlers/did-change-watched-files.js';
import { didOpen } from './protocol/handlers/did-open.js';
import { executeCommand } from './protocol/handlers/execute-command.js';
import { hover } from './protocol/handlers/hover.js';
import { completion } from './protocol/handlers/completion.js';
import { startClusterRefresh } from './protocol/cluster-refresh.js';
import { stopWatchingFolders } from './protocol/server-file-watch.js';
import { initialize, initialized } from './protocol/handlers/initialize.js';
import { Lifecycle } from './protocol/lifecycle.js';
import { ResyncingMessageReader } from './protocol/message-reader.js';
import { inlayHint } from './protocol/handlers/inlay-hint.js';
import { loadQuerySources } from './query-files.js';
import { Session } from './session.js';
import { refreshResultViews } from './protocol/commands/shared.js';
import { publishDiagnostics } from './protocol/diagnostics.js';
import { compileQueries } from './syntax/queries.js';
import { lazyQueries } from './syntax/lazy-queries.js';
import { parserEngine } from './syntax/parser-engine.js';
import { createPythonParser } from './syntax/parser.js';

const logError = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/** The stdio connection, with a reader that resyncs after bad framing. */
function stdioConnection(): { connection: Connection; onInputEnd: (listener: () => void) => void } {
  const reader = new ResyncingMessageReader(process.stdin, logError);
  return { connection: createConnection(ProposedFeatures.all, reader, new DirectMessageWriter(process.stdout)), onInputEnd: (listener) => reader.onClose(listener) };
}

/** A connection `stdio-server.ts` already listens on; `answered` when `initialize` came first. */
export interface ListeningConnection {
  answered?: InitializeParams | undefined;
  /** Registers what to do when the client closes the server's input. */
  onInputEnd?: (listener: () => void) => void;
}

/** How long the interpreters get to stop once the client is gone, before the server exits anyway. */
const INPUT_END_DEADLINE_MS = 5_000;
/** How long the messages read before the end of the input get to be handled before the server ends. */
const INPUT_END_SETTLE_MS = 50;

/**
 * Wires a session to a connection; returns the connection, listening. With `listening`, the
 * connection listens already (`stdio-server.ts`); when it also answered `initialize`, the session
 * takes those params as its own `initialize` would have, else it answers the one still to come.
 */
export function startServer(given?: Connection, listening?: ListeningConnection): Connection {
  const own = given ? undefined : stdioConnection();
  const connection = given ?? own!.connection;
  const onInputEnd = listening?.onInputEnd ?? own?.onInputEnd;
  const answered = listening?.answered;
  // Compiled once `initialize` is answered (or by whatever reads them first).
  const queries = lazyQueries(() => compileQueries(loadQuerySources()), parserEngine());
  const documents = new Documents(createPythonParser(), queries);
  const session = new Session({ connection, documents, runnerPath: RUNNER_PATH });
  // Every handler goes through the lifecycle: nothing is served before initialize or after shutdown.
  const life = new Lifecycle(logError);

  const accept = (params: InitializeParams): InitializeResult => {
    const result = initialize(session, params);
    life.initialized();
    setImmediate(queries.warm);
    return result;
  };
  if (answered) accept(answered);
  else connection.onInitialize(accept);
  connection.onInitialized(() => initialized(session));
  connection.onDidOpenTextDocument(life.notification('textDocument/didOpen', (params) => didOpen(session, params)));
  connection.onDidChangeTextDocument(life.notification('textDocument/didChange', (params) => didChange(session, params)));
  connection.onDidCloseTextDocument(life.notification('textDocument/didClose', (params) => didClose(session, params)));
  connection.onDidChangeConfiguration(life.notification('workspace/didChangeConfiguration', (params) => didChangeConfiguration(session, params)));
  connection.onDidChangeWatchedFiles(life.notification('workspace/didChangeWatchedFiles', (params) => didChangeWatchedFiles(session, params)));
  connection.onCodeAction(life.request('textDocument/codeAction', (params) => codeAction(session, params)));
  connection.onCodeLens(life.request('textDocument/codeLens', (params) => codeLens(session, params)));
  connection.onHover(life.request('textDocument/hover', (params) => hover(session, params)));
  connection.onCompletion(life.request('textDocument/completion', (params) => completion(session, params)));
  connection.languages.inlayHint.on(life.request('textDocument/inlayHint', (params) => inlayHint(session, params)));
  connection.onExecuteCommand(life.request('workspace/executeCommand', (params, token, workDone) => executeCommand(session, params, token, workDone)));
  const stopClusterRefresh = startClusterRefresh(session);
  connection.onShutdown(() => {
    life.shutDown();
    stopClusterRefresh();
    stopWatchingFolders(session);
    return session.disposeWorkspaces();
  });
  // A client that closes the server's input is gone (it crashed, or dropped the pipe without
  // `exit`): the server ends as `exit` would, once its interpreters are stopped and its results
  // saved, instead of living on with them. vscode-languageserver does this only for plain streams.
  // The messages read before the end (a `shutdown` sent just before closing) are still queued in
  // the connection: they are handled first, and the exit code says whether shutdown came. From
  // the end on, anything sent to the client (a log line, a message about the runs being stopped)
  // throws "Connection is closed", which must not end the server before its interpreters.
  let ended = false;
  onInputEnd?.(() => {
    if (ended) return;
    ended = true;
    const exit = (): never => process.exit(life.isShutDown ? 0 : 1);
    process.on('uncaughtException', (error) => {
      if (error instanceof ConnectionError) return;
      logError(`choppa-lsp: ${error.stack ?? String(error)}`);
      exit();
    });
    setTimeout(() => {
      stopClusterRefresh();
      setTimeout(exit, INPUT_END_DEADLINE_MS).unref();
      void session.disposeWorkspaces().finally(exit);
    }, INPUT_END_SETTLE_MS);
  });
  session.importCheckListeners.push(() => {
    for (const document of session.documents.all()) publishDiagnostics(session, document.uri);
  });
  session.submissionListeners.push((uri) => {
    publishDiagnostics(session, uri);
    refreshResultViews(session);
  });

  if (!listening) connection.listen();
  return connection;
}
