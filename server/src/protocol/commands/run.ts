// `choppa.run` and `choppa.runArtifact`: resolve the function and its arguments from the
// document as the editor has it, run it with progress, then refresh every surface that shows
// results (diagnostics, inlay hints, code lenses).
import { ErrorCodes, ResponseError, type CancellationToken, type WorkDoneProgressReporter } from 'vscode-languageserver/node';
import type { CallArgument } from '../../analysis/model.js';
import type { RunCommandResult, RunMode } from '../../engine/run-record.js';
import type { Session } from '../../session.js';
import { publishDiagnostics } from '../diagnostics.js';
import { parseRunArguments } from '../extensions.js';
import { withProgress } from '../progress.js';
import { loadAnalysis, refreshResultViews } from './shared.js';

export async function runFunction(
  session: Session,
  raw: unknown,
  mode: RunMode,
  token: CancellationToken,
  attached: WorkDoneProgressReporter | undefined,
): Promise<RunCommandResult> {
  const parsed = parseRunArguments(raw);
  if (!parsed.ok) throw new ResponseError(ErrorCodes.InvalidParams, `choppa.run ${parsed.message}`);
  const { uri, function: name, args, position } = parsed.value;
  const loaded = loadAnalysis(session, uri);
  if ('failure' in loaded) throw new ResponseError(ErrorCodes.InvalidParams, loaded.failure);
  let parsedArgs: { source: string; parsed: CallArgument[]; position?: { line: number; character: number } } | undefined;
  if (args !== undefined) {
    const split = session.documents.parseArguments(args);
    if (!split) {
      return { status: 'error', function: name, durationMs: 0, error: { type: 'ArgumentError', message: `\`${args}\` is not a valid Python argument list.` } };
    }
    parsedArgs = { source: args, parsed: split, ...(position ? { position } : {}) };
  }
  await session.ready;
  const workspace = session.workspaceFor(loaded.path);
  if (workspace.backends.mode === 'local') session.noteLocalBackendOnce();
  const title = mode === 'artifact' ? `Running ${name} as artifact` : `Running ${name}`;
  const result = await withProgress(session, title, token, attached, ({ signal, report }) =>
    workspace.run({
      filePath: loaded.path,
      analysis: loaded.analysis,
      functionName: name,
      mode,
      signal,
      onProgress: report,
      ...(parsedArgs ? { args: parsedArgs } : {}),
    }),
  );
  // Missing arguments are a question, not a failure: clients that prompt (VS Code, the Neovim
  // plugin) ask for `error.missing` themselves; a warning tells the others what to do.
  if (result.error?.missing) {
    if (!session.promptsForArguments) session.warn(`choppa: ${result.error.message}`);
  } else if (result.status === 'error' && result.error && result.error.line === undefined) {
    session.error(`choppa: ${name}: ${result.error.message}`);
  }
  publishDiagnostics(session, uri);
  refreshResultViews(session);
  return result;
}
