// `textDocument/didChange`: edit the tree incrementally, re-analyse, republish diagnostics.
import type { DidChangeTextDocumentParams } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';
import { publishDiagnostics } from '../diagnostics.js';

export function didChange(session: Session, params: DidChangeTextDocumentParams): void {
  const { uri, version } = params.textDocument;
  if (session.documents.change(uri, version, params.contentChanges)) publishDiagnostics(session, uri);
}
