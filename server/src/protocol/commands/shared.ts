// What the command implementations share: reading a run command's arguments, finding a
// document's analysis (the open buffer, or the file on disk when the editor has not opened it)
// and asking clients to refresh views.
import { readFileSync } from 'node:fs';
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import type { FileAnalysis } from '../../analysis/model.js';
import type { RunRequest } from '../../engine/workspace.js';
import type { Session } from '../../session.js';
import { parseRunArguments } from '../extensions.js';
import { parsedArguments } from './parsed-arguments.js';

export function loadAnalysis(session: Session, uri: string): { path: string; analysis: FileAnalysis } | { failure: string } {
  const path = session.pathOf(uri);
  if (path === undefined) return { failure: `${uri} is not a file on disk; save it first.` };
  const open = session.analysisOf(uri);
  if (open) return { path, analysis: open };
  const indexed = session.index.analysisOf(path);
  if (indexed) return { path, analysis: indexed };
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

/** A run or submit command's arguments, resolved against the document as the editor has it. */
export type RunInput =
  | { uri: string; name: string; path: string; analysis: FileAnalysis; args?: NonNullable<RunRequest['args']>; fresh: boolean }
  | { uri: string; name: string; invalidArgs: string };

/** Reads `{uri, function, args?, position?}`; malformed params are the client's bug and throw. */
export function readRunInput(session: Session, raw: unknown, command: string): RunInput {
  const parsed = parseRunArguments(raw);
  if (!parsed.ok) throw new ResponseError(ErrorCodes.InvalidParams, `${command} ${parsed.message}`);
  const { uri, function: name, args, position } = parsed.value;
  const fresh = parsed.value.fresh === true;
  const loaded = loadAnalysis(session, uri);
  if ('failure' in loaded) throw new ResponseError(ErrorCodes.InvalidParams, loaded.failure);
  if (args === undefined) return { uri, name, ...loaded, fresh };
  const split = parsedArguments(session, args);
  if (!split) return { uri, name, invalidArgs: `\`${args}\` is not a valid Python argument list.` };
  return { uri, name, ...loaded, fresh, args: { source: args, parsed: split, ...(position ? { position } : {}) } };
}
