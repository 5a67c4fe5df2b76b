// vscode-languageserver's values (constants, classes, `createConnection`), loaded with `require`.
// The package is CommonJS: imported from ESM, node lexes it and its whole re-export tree for named
// exports first, about 70 of the 110 ms the import took, on every server start. Types still come
// from `import type` of the package; only values come from here.
import { createRequire } from 'node:module';
import type * as Lsp from 'vscode-languageserver/node';

const lsp = createRequire(import.meta.url)('vscode-languageserver/node') as typeof Lsp;

export const createConnection = lsp.createConnection;
export const ProposedFeatures = lsp.ProposedFeatures;
export const AbstractMessageWriter = lsp.AbstractMessageWriter;
export const AbstractMessageReader = lsp.AbstractMessageReader;
export const ResponseError = lsp.ResponseError;
export const ConnectionError = lsp.ConnectionError;
export type ResponseError<D = void> = Lsp.ResponseError<D>;
export const ErrorCodes = lsp.ErrorCodes;
export const DiagnosticSeverity = lsp.DiagnosticSeverity;
export type DiagnosticSeverity = Lsp.DiagnosticSeverity;
export const TextDocumentSyncKind = lsp.TextDocumentSyncKind;
export const FileChangeType = lsp.FileChangeType;
export const CompletionItemKind = lsp.CompletionItemKind;
export const CodeActionKind = lsp.CodeActionKind;
export const DidChangeWatchedFilesNotification = lsp.DidChangeWatchedFilesNotification;
export const WorkDoneProgress = lsp.WorkDoneProgress;
export const WorkDoneProgressCancelNotification = lsp.WorkDoneProgressCancelNotification;
export const WorkDoneProgressCreateRequest = lsp.WorkDoneProgressCreateRequest;
