// `textDocument/didOpen`: open the document, and publish its diagnostics once it is parsed and
// analysed (`Documents` spreads that over continuations, so a large file does not block the server).
import type { DidOpenTextDocumentParams } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';
import { publishDiagnostics } from '../diagnostics.js';
import { watchIndexedFolders } from '../server-file-watch.js';

export function didOpen(session: Session, params: DidOpenTextDocumentParams): void {
  const { uri, version, text } = params.textDocument;
  session.documents.openDocument(uri, version, text, () => {
    // This runs in a continuation, where a throw would take the server down instead of one request.
    try {
      if (session.indexScriptFolder(uri)) {
        session.documents.invalidateResolved();
        watchIndexedFolders(session);
      }
      publishDiagnostics(session, uri);
    } catch (error) {
      session.log(`choppa: publishing diagnostics for ${uri} failed: ${String(error)}`);
    }
  });
}
