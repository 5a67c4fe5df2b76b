// The capabilities the server declares, in one place. What we offer does not depend on the
// client; what we *use* of the client (showDocument, progress, refresh) is checked in Session.
import type { InitializeResult, ServerCapabilities } from 'vscode-languageserver/node';
import { TextDocumentSyncKind } from './protocol/lsp-runtime.js';
import { COMMANDS } from './protocol/extensions.js';
import { VERSION } from './version.js';

/** The answer to `initialize`: the same for every client. */
export function initializeResult(): InitializeResult {
  return { capabilities: serverCapabilities(), serverInfo: { name: 'choppa-lsp', version: VERSION } };
}

export function serverCapabilities(): ServerCapabilities {
  return {
    positionEncoding: 'utf-16',
    textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
    codeActionProvider: true,
    codeLensProvider: { resolveProvider: false },
    hoverProvider: true,
    // Cluster ids inside `Choppa(cluster_id="`, folders inside `artifact_dir="/Volumes/`.
    completionProvider: { triggerCharacters: ['"', "'", '/'], resolveProvider: false },
    inlayHintProvider: true,
    workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    // Invariant: every command a code action or lens carries is listed here (Neovim's lens
    // runner and Helix only execute listed commands).
    executeCommandProvider: { commands: Object.values(COMMANDS) },
  };
}
