// Command-palette entries for the server's commands, acting on the function (or the call of
// one) at the cursor. The server decides what is there: the extension asks it for the code
// actions at the cursor and runs the matching one, so palette, lens and action stay the same.
import * as vscode from 'vscode';
import { SERVER_COMMANDS } from './protocol.js';

type ServerCommand = (typeof SERVER_COMMANDS)[keyof typeof SERVER_COMMANDS];

/** Palette command id → the server command it runs at the cursor. */
export const CURSOR_COMMANDS: Record<string, ServerCommand> = {
  'choppa.runAtCursor': SERVER_COMMANDS.run,
  'choppa.runArtifactAtCursor': SERVER_COMMANDS.runArtifact,
  'choppa.dereferenceAtCursor': SERVER_COMMANDS.dereference,
};

function commandOf(action: vscode.Command | vscode.CodeAction): vscode.Command | undefined {
  if (typeof action.command === 'string') return action as vscode.Command;
  return action.command;
}

export async function runAtCursor(serverCommand: ServerCommand): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'python') {
    void vscode.window.showWarningMessage('Choppa: open a Python file and put the cursor on a decorated function or a call of one.');
    return undefined;
  }
  const position = editor.selection.active;
  const actions =
    (await vscode.commands.executeCommand<Array<vscode.Command | vscode.CodeAction>>(
      'vscode.executeCodeActionProvider',
      editor.document.uri,
      new vscode.Range(position, position),
    )) ?? [];
  const command = actions.map(commandOf).find((candidate) => candidate?.command === serverCommand);
  if (!command) {
    const what = serverCommand === SERVER_COMMANDS.dereference ? 'a function with an artifact result' : 'a Choppa-decorated function or a call of one';
    void vscode.window.showWarningMessage(`Choppa: the cursor is not on ${what}.`);
    return undefined;
  }
  return vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
}
