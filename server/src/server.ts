// The wiring table: every LSP method the server handles, mapped to its handler. Adding a
// method means one file in `protocol/handlers/`, one line here and one capability.
import { createConnection, ProposedFeatures, type Connection } from 'vscode-languageserver/node';
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
import { initialize, initialized } from './protocol/handlers/initialize.js';
import { inlayHint } from './protocol/handlers/inlay-hint.js';
import { loadQuerySources } from './query-files.js';
import { Session } from './session.js';
import { refreshResultViews } from './protocol/commands/shared.js';
import { publishDiagnostics } from './protocol/diagnostics.js';
import { compileQueries } from './syntax/queries.js';
import { createPythonParser } from './syntax/parser.js';

/** Wires a session to a connection; returns the connection, listening. */
export function startServer(connection: Connection = createConnection(ProposedFeatures.all)): Connection {
  const documents = new Documents(createPythonParser(), compileQueries(loadQuerySources()));
  const session = new Session({ connection, documents, runnerPath: RUNNER_PATH });

  connection.onInitialize((params) => initialize(session, params));
  connection.onInitialized(() => initialized(session));
  connection.onDidOpenTextDocument((params) => didOpen(session, params));
  connection.onDidChangeTextDocument((params) => didChange(session, params));
  connection.onDidCloseTextDocument((params) => didClose(session, params));
  connection.onDidChangeConfiguration((params) => didChangeConfiguration(session, params));
  connection.onDidChangeWatchedFiles((params) => didChangeWatchedFiles(session, params));
  connection.onCodeAction((params) => codeAction(session, params));
  connection.onCodeLens((params) => codeLens(session, params));
  connection.onHover((params) => hover(session, params));
  connection.languages.inlayHint.on((params) => inlayHint(session, params));
  connection.onExecuteCommand((params, token, workDone) => executeCommand(session, params, token, workDone));
  connection.onShutdown(() => session.disposeWorkspaces());
  session.importCheckListeners.push(() => {
    for (const document of session.documents.all()) publishDiagnostics(session, document.uri);
  });
  session.submissionListeners.push((uri) => {
    publishDiagnostics(session, uri);
    refreshResultViews(session);
  });

  connection.listen();
  return connection;
}
