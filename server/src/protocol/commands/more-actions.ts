// `choppa.moreActions`: the commands of a function beyond the main one its lens shows, for the
// "⋯ more" lens. Clients that handle it (VS Code, the Neovim plugin) offer them in a menu; for
// any other client a message lists them and points at the code actions, which offer them all.
import type { Command } from 'vscode-languageserver/node';
import { ErrorCodes, ResponseError } from '../lsp-runtime.js';
import type { Session } from '../../session.js';
import { parseRunTargetArguments } from '../extensions.js';
import { runCommands } from '../run-commands.js';
import { loadAnalysis } from './shared.js';

export function moreActions(session: Session, raw: unknown): { actions: Command[] } {
  const parsed = parseRunTargetArguments(raw);
  if (!parsed.ok || !('uri' in parsed.value)) throw new ResponseError(ErrorCodes.InvalidParams, 'choppa.moreActions expects one argument {uri, function}');
  const { uri, function: name } = parsed.value;
  const loaded = loadAnalysis(session, uri);
  if ('failure' in loaded) throw new ResponseError(ErrorCodes.InvalidParams, loaded.failure);
  const fn = loaded.analysis.functions.find((candidate) => candidate.name === name);
  if (!fn) throw new ResponseError(ErrorCodes.InvalidParams, `No Choppa function \`${name}\` in ${uri}.`);
  const actions = runCommands(uri, fn, session.runContext(loaded.path, fn, loaded.analysis)).slice(1);
  // Our own clients show a menu; a client that ran the lens blindly gets told where they are.
  if (!session.promptsForArguments) {
    session.info(`choppa: more for ${name}: ${actions.map((action) => action.title).join(' · ')} (in the code actions on its line)`);
  }
  return { actions };
}
