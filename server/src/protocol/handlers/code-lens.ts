// `textDocument/codeLens`: above each decorated function, its main run command and a "⋯ more"
// lens (`choppa.moreActions`) for the rest, so the row fits a split; the code actions offer them
// all (Helix has no lenses).
import type { CodeLens, CodeLensParams } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';
import { toRange } from '../convert.js';
import { COMMANDS } from '../extensions.js';
import { runCommands } from '../run-commands.js';

export function codeLens(session: Session, params: CodeLensParams): CodeLens[] {
  if (!session.settings.codeLens.enable) return [];
  const uri = params.textDocument.uri;
  const analysis = session.analysisOf(uri);
  const path = session.pathOf(uri);
  if (!analysis || path === undefined) return [];
  return analysis.functions.flatMap((fn) => {
    const [main, ...rest] = runCommands(uri, fn, session.runContext(path, fn, analysis));
    const range = toRange(fn.nameSpan);
    const more = { title: '⋯ more', command: COMMANDS.moreActions, arguments: [{ uri, function: fn.name }] };
    return [main, ...(rest.length > 0 ? [more] : [])].filter((command) => command !== undefined).map((command) => ({ range, command }));
  });
}
