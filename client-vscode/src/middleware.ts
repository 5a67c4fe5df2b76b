// The languageclient middleware: what VS Code adds around the server's commands. Runs go
// through here whether a code lens, a code action or the command palette started them, so this
// is where missing arguments are asked for and results are logged; and previews the server asks
// to show open beside the code instead of over it.
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { isDereferenceResult, isRunArguments, isRunResult, moreActionsOf, SERVER_COMMANDS, wantsArguments, type RunArguments, type RunResult } from './protocol.js';
import type { Runs } from './runs.js';

type Next = (command: string, args: unknown[]) => vscode.ProviderResult<unknown>;

async function askForArguments(runs: Runs, args: RunArguments, result: RunResult, typed: string | undefined): Promise<string | undefined> {
  const missing = result.error?.missing;
  // Names the parameters; the server's message speaks of "args" and is for other clients.
  const signature = `${args.function}(${missing?.join(', ') ?? '…'})`;
  return vscode.window.showInputBox({
    title: `Choppa: arguments for ${signature}`,
    prompt: missing ? `Values for ${missing.join(', ')}, as Python arguments` : (result.error?.message.replace(/`/g, '') ?? `Arguments for ${args.function}`),
    placeHolder: missing ? missing.map((name) => `${name}=…`).join(', ') : 'Python arguments, e.g. 1, b=2',
    value: typed ?? runs.lastArguments(args) ?? '',
    ignoreFocusOut: true,
  });
}

async function run(runs: Runs, command: string, args: RunArguments, next: Next): Promise<unknown> {
  let current = args;
  let typed: string | undefined;
  for (;;) {
    const done = runs.begin(current.function);
    let result: unknown;
    try {
      result = await next(command, [current]);
    } finally {
      done();
    }
    if (!isRunResult(result)) return result;
    // A run the user supplied arguments for that still lacks them (or did not parse) asks again,
    // pre-filled with what was typed; escape ends it with the server's answer.
    if (wantsArguments(result)) {
      const answer = await askForArguments(runs, current, result, typed);
      if (answer === undefined) {
        runs.note(`${current.function}: no arguments given, not run`);
        return result;
      }
      typed = answer;
      current = { ...args, args: answer };
      continue;
    }
    // A submission's handle is not a result; the server reports the job when it ends.
    if ((result.status as string) !== 'submitted') runs.record(current, result);
    return result;
  }
}

export function middleware(runs: Runs): Middleware {
  return {
    executeCommand: async (command, args, next) => {
      const [argument] = args as unknown[];
      const runLike = command === SERVER_COMMANDS.run || command === SERVER_COMMANDS.runArtifact || command === SERVER_COMMANDS.submit;
      if (runLike && isRunArguments(argument)) {
        return run(runs, command, argument, next);
      }
      if (command === SERVER_COMMANDS.moreActions) {
        // The "⋯ more" lens: the function's other commands in a quick pick.
        const actions = moreActionsOf(await next(command, args));
        const picked = await vscode.window.showQuickPick(actions.map((action) => ({ label: action.title, action })), { title: 'Choppa' });
        if (!picked) return undefined;
        return vscode.commands.executeCommand(picked.action.command, ...(picked.action.arguments ?? []));
      }
      const result = await next(command, args);
      if (command === SERVER_COMMANDS.dereference && isDereferenceResult(result)) runs.recordDereference(result);
      return result;
    },
    window: {
      // Invariant: a preview the server opens never replaces the code it came from.
      showDocument: async (params, _token, next) => {
        if (params.external === true) return next(params, _token);
        const uri = vscode.Uri.parse(params.uri);
        const options: vscode.TextDocumentShowOptions = { viewColumn: vscode.ViewColumn.Beside, preserveFocus: params.takeFocus !== true };
        if (params.selection) {
          options.selection = new vscode.Range(
            params.selection.start.line,
            params.selection.start.character,
            params.selection.end.line,
            params.selection.end.character,
          );
        }
        try {
          await vscode.window.showTextDocument(uri, options);
          return { success: true };
        } catch {
          return { success: false };
        }
      },
    },
  };
}
