// `choppa.run` and `choppa.runArtifact`: resolve the function and its arguments from the
// document as the editor has it, run it with progress, then refresh every surface that shows
// results (diagnostics, inlay hints, code lenses).
import type { CancellationToken, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import { unsupportedFunction } from '../../analysis/unsupported-functions.js';
import type { RunCommandResult, RunMode } from '../../engine/run-record.js';
import type { Session } from '../../session.js';
import { publishAfterRun } from '../diagnostics.js';
import { missingArgumentsMessage } from '../missing-arguments.js';
import { withProgress } from '../progress.js';
import { unsavedCodeMessage } from '../unsaved-code-message.js';
import { readRunInput, refreshResultViews } from './shared.js';

export async function runFunction(
  session: Session,
  raw: unknown,
  mode: RunMode,
  token: CancellationToken,
  attached: WorkDoneProgressReporter | undefined,
): Promise<RunCommandResult> {
  const input = readRunInput(session, raw, mode === 'artifact' ? 'choppa.runArtifact' : 'choppa.run');
  const name = input.name;
  if ('invalidArgs' in input) return { status: 'error', function: name, durationMs: 0, error: { type: 'ArgumentError', message: input.invalidArgs } };
  // An `async def`, a method or a nested function is refused with the reason its diagnostic gives.
  const unsupported = unsupportedFunction(input.analysis, name);
  if (unsupported) {
    session.error(`choppa: ${name}: ${unsupported.message}`);
    return { status: 'error', function: name, durationMs: 0, error: { type: 'ChoppaError', message: unsupported.message } };
  }
  await session.ready;
  const workspace = session.workspaceFor(input.path);
  if (workspace.backends.mode === 'local') session.noteLocalBackendOnce();
  const title = mode === 'artifact' ? `Running ${name} as artifact` : `Running ${name}`;
  const request = {
    filePath: input.path,
    analysis: input.analysis,
    functionName: name,
    mode,
    cache: session.settings.cache === 'on',
    fresh: input.fresh,
    ...(input.args ? { args: input.args } : {}),
  };
  // A cache hit runs nothing, so it shows no progress either.
  const result =
    workspace.cached(request) ?? (await withProgress(session, title, token, attached, ({ signal, report }) => workspace.run({ ...request, signal, onProgress: report })));
  // Missing arguments are a question, not a failure: clients that prompt (VS Code, the Neovim
  // plugin) ask for `error.missing` themselves; a warning tells the others what to do.
  if (result.error?.missing) {
    if (!session.promptsForArguments) session.warn(`choppa: ${missingArgumentsMessage(name, result.error.missing, session.clientName)}`);
  } else if (result.status === 'error' && result.error && result.error.line === undefined) {
    session.error(`choppa: ${name}: ${result.error.message}`);
  }
  if (result.unsaved) session.warn(unsavedCodeMessage(name, result.unsaved, false));
  // The answer goes first: the diagnostics and the refresh requests that show the result
  // elsewhere follow on the next turn, not in front of the response (0.2 ms of a warm run).
  setImmediate(() => {
    publishAfterRun(session, input.uri, name);
    refreshResultViews(session);
  });
  return result;
}
