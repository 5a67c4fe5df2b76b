// `textDocument/didChange`: edit the tree, and republish diagnostics once the reparse and the
// analysis (which `Documents` spreads over continuations) are done.
import type { DidChangeTextDocumentParams } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';
import { publishDiagnostics, publishOthersSoon } from '../diagnostics.js';

export function didChange(session: Session, params: DidChangeTextDocumentParams): void {
  const { uri, version } = params.textDocument;
  session.documents.change(uri, version, params.contentChanges, () => {
    // This runs in a continuation, where a throw would take the server down instead of one request.
    try {
      publishDiagnostics(session, uri);
      // Other open files that import this one see its new instances and functions.
      session.exportsMayHaveChanged(uri, (other) => publishDiagnostics(session, other));
      // Their results may have gone stale if they ship this file.
      publishOthersSoon(session, uri);
    } catch (error) {
      session.log(`choppa: publishing diagnostics for ${uri} failed: ${String(error)}`);
    }
  });
}
