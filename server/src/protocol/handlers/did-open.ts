// `textDocument/didOpen`: parse and analyse the document, then publish its diagnostics.
import type { DidOpenTextDocumentParams } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';
import { publishDiagnostics } from '../diagnostics.js';

export function didOpen(session: Session, params: DidOpenTextDocumentParams): void {
  const { uri, version, text } = params.textDocument;
  session.documents.openDocument(uri, version, text);
  publishDiagnostics(session, uri);
}
