// `choppa.submit`: submit a function as a fire-and-forget job and return its handle at once;
// the run is followed in the background and its result lands like any run's when it ends.
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import type { CallArgument } from '../../analysis/model.js';
import type { SubmitCommandResult } from '../../engine/workspace.js';
import type { Session } from '../../session.js';
import { publishDiagnostics } from '../diagnostics.js';
import { parseRunArguments } from '../extensions.js';
import { loadAnalysis } from './shared.js';

export async function submitFunction(session: Session, raw: unknown): Promise<SubmitCommandResult> {
  const parsed = parseRunArguments(raw);
  if (!parsed.ok) throw new ResponseError(ErrorCodes.InvalidParams, `choppa.submit ${parsed.message}`);
  const { uri, function: name, args, position } = parsed.value;
  const loaded = loadAnalysis(session, uri);
  if ('failure' in loaded) throw new ResponseError(ErrorCodes.InvalidParams, loaded.failure);
  let parsedArgs: { source: string; parsed: CallArgument[]; position?: { line: number; character: number } } | undefined;
  if (args !== undefined) {
    const split = session.documents.parseArguments(args);
    if (!split) return { status: 'error', function: name, error: { type: 'ArgumentError', message: `\`${args}\` is not a valid Python argument list.` } };
    parsedArgs = { source: args, parsed: split, ...(position ? { position } : {}) };
  }
  await session.ready;
  const workspace = session.workspaceFor(loaded.path);
  const result = await workspace.submit(
    { filePath: loaded.path, analysis: loaded.analysis, functionName: name, ...(parsedArgs ? { args: parsedArgs } : {}) },
    session.settings.compute,
  );
  if (result.error?.missing) {
    if (!session.promptsForArguments) session.warn(`choppa: ${result.error.message}`);
  } else if (result.error) {
    session.error(`choppa: ${name}: ${result.error.message}`);
  } else {
    session.info(`choppa: ${name} submitted (run ${result.runId})${result.runPageUrl ? `: ${result.runPageUrl}` : ''}`);
  }
  publishDiagnostics(session, uri);
  return result;
}
