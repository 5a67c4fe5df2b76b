// `textDocument/didClose`: forget the buffer and clear what we published for it.
import type { DidCloseTextDocumentParams } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';

export function didClose(session: Session, params: DidCloseTextDocumentParams): void {
  session.documents.close(params.textDocument.uri);
  void session.connection.sendDiagnostics({ uri: params.textDocument.uri, diagnostics: [] });
}
