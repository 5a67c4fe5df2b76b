// `initialize` and `initialized`: record what the client can do and where its workspace is,
// read settings from initializationOptions, then pull `workspace/configuration` if supported.
import type { InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import { initializeResult } from '../../capabilities.js';
import { parseSettings } from '../../config/settings.js';
import { VERSION } from '../../version.js';
import { describeParserEngine } from '../../syntax/parser-engine.js';
import type { Session } from '../../session.js';
import { uriToPath } from '../convert.js';
import { publishDiagnostics } from '../diagnostics.js';
import { pullConfiguration } from './did-change-configuration.js';
import { waitAWhile } from '../configuration-wait.js';
import { didChangeWorkspaceFolders } from './did-change-workspace-folders.js';
import { DidChangeWatchedFilesNotification } from '../lsp-runtime.js';
import { watchIndexedFolders } from '../server-file-watch.js';


export function initialize(session: Session, params: InitializeParams): InitializeResult {
  session.capabilities = params.capabilities;
  session.clientName = params.clientInfo?.name;
  const folders = params.workspaceFolders ?? [];
  const roots = folders.map((folder) => uriToPath(folder.uri)).filter((path): path is string => path !== undefined);
  // Helix sends `rootUri: null` and no folders when it finds no root marker: state then lives
  // in the user cache dir.
  if (roots.length === 0 && params.rootUri) {
    const root = uriToPath(params.rootUri);
    if (root) roots.push(root);
  }
  session.roots = roots;
  session.settings = parseSettings(params.initializationOptions);
  session.initialSettings = params.initializationOptions;
  return initializeResult();
}

export function initialized(session: Session): void {
  watchProjectFiles(session);
  // Documents opened before the index existed were analysed without it.
  session.indexFolders();
  watchIndexedFolders(session);
  session.documents.invalidateResolved();
  for (const document of session.documents.all()) publishDiagnostics(session, document.uri);
  if (session.supportsWorkDoneProgress) session.progress.listen();
  // Clients show this in their LSP log (VS Code's output channel, Neovim's lsp.log).
  session.log(`choppa-lsp ${VERSION}, ${describeParserEngine().replace('\n', '; ')}`);
  session.settingsNotices.values(session.initialSettings);
  // Runs wait for the first configuration answer, so they use the interpreter the user set.
  // Documents opened before the answer were checked with defaults: check them again.
  const pulled = pullConfiguration(session).then((answered) => {
    if (answered) for (const document of session.documents.all()) publishDiagnostics(session, document.uri);
  });
  session.ready = waitAWhile(session, pulled);
}

// The index follows the disk through the client's file watcher, where the client lets the
// server register one, and follows workspace folders where the client sends their changes.
function watchProjectFiles(session: Session): void {
  const workspace = session.capabilities.workspace;
  if (workspace?.didChangeWatchedFiles?.dynamicRegistration === true) {
    void session.connection.client
      .register(DidChangeWatchedFilesNotification.type, {
        watchers: [{ globPattern: '**/*.py' }, { globPattern: '**/{pyproject.toml,setup.cfg,setup.py,.gitignore}' }],
      })
      .catch((error: unknown) => session.log(`choppa: could not watch project files: ${String(error)}`));
  }
  if (workspace?.workspaceFolders === true) {
    session.connection.workspace.onDidChangeWorkspaceFolders((event) => didChangeWorkspaceFolders(session, event));
  }
}
