// `textDocument/codeLens`: above each decorated function, the same run commands the code
// actions offer (for clients that show lenses; Helix has none and uses code actions).
import type { CodeLens, CodeLensParams } from 'vscode-languageserver/node';
import type { Session } from '../../session.js';
import { toRange } from '../convert.js';
import { runCommands } from '../run-commands.js';

export function codeLens(session: Session, params: CodeLensParams): CodeLens[] {
  if (!session.settings.codeLens.enable) return [];
  const uri = params.textDocument.uri;
  const analysis = session.analysisOf(uri);
  const path = session.pathOf(uri);
  if (!analysis || path === undefined) return [];
  return analysis.functions.flatMap((fn) =>
    runCommands(uri, fn, session.runContext(path, fn, analysis)).map((command) => ({ range: toRange(fn.nameSpan), command })),
  );
}
