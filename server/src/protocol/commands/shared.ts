// What the command implementations share: finding a document's analysis (the open buffer, or
// the file on disk when the editor has not opened it) and asking clients to refresh views.
import { readFileSync } from 'node:fs';
import type { FileAnalysis } from '../../analysis/model.js';
import type { Session } from '../../session.js';

export function loadAnalysis(session: Session, uri: string): { path: string; analysis: FileAnalysis } | { failure: string } {
  const path = session.pathOf(uri);
  if (path === undefined) return { failure: `${uri} is not a file on disk; save it first.` };
  const open = session.analysisOf(uri);
  if (open) return { path, analysis: open };
  try {
    return { path, analysis: session.documents.analyzeText(readFileSync(path, 'utf8')).analysis };
  } catch (error) {
    return { failure: `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
}

/** Asks the client to re-query inlay hints and code lenses, where it supports being asked. */
export function refreshResultViews(session: Session): void {
  if (session.supportsInlayHintRefresh) void session.connection.sendRequest('workspace/inlayHint/refresh').catch(() => undefined);
  if (session.supportsCodeLensRefresh) void session.connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
}
