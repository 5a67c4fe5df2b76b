// `choppa.submit`: submit a function as a fire-and-forget job and return its handle at once;
// the run is followed in the background and its result lands like any run's when it ends.
import { unsupportedFunction } from '../../analysis/unsupported-functions.js';
import type { SubmitCommandResult } from '../../engine/workspace.js';
import type { Session } from '../../session.js';
import { publishAfterRun } from '../diagnostics.js';
import { missingArgumentsMessage } from '../missing-arguments.js';
import { unsavedCodeMessage } from '../unsaved-code-message.js';
import { readRunInput } from './shared.js';

export async function submitFunction(session: Session, raw: unknown): Promise<SubmitCommandResult> {
  const input = readRunInput(session, raw, 'choppa.submit');
  const name = input.name;
  if ('invalidArgs' in input) return { status: 'error', function: name, error: { type: 'ArgumentError', message: input.invalidArgs } };
  const unsupported = unsupportedFunction(input.analysis, name);
  if (unsupported) {
    session.error(`choppa: ${name}: ${unsupported.message}`);
    return { status: 'error', function: name, error: { type: 'ChoppaError', message: unsupported.message } };
  }
  await session.ready;
  const workspace = session.workspaceFor(input.path);
  const result = await workspace.submit(
    { filePath: input.path, analysis: input.analysis, functionName: name, ...(input.args ? { args: input.args } : {}) },
    session.settings.compute,
  );
  if (result.error?.missing) {
    if (!session.promptsForArguments) session.warn(`choppa: ${missingArgumentsMessage(name, result.error.missing, session.clientName)}`);
  } else if (result.error) {
    session.error(`choppa: ${name}: ${result.error.message}`);
  } else {
    session.info(`choppa: ${name} submitted (run ${result.runId})${result.runPageUrl ? `: ${result.runPageUrl}` : ''}`);
  }
  if (result.unsaved) session.warn(unsavedCodeMessage(name, result.unsaved, true));
  publishAfterRun(session, input.uri, name);
  return result;
}
