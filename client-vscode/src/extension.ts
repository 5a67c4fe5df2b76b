// The VS Code client of choppa-lsp: starts the packaged server over stdio and adds only what
// the protocol cannot carry (argument prompts, a run log, a status bar item, palette entries,
// previews beside the code). Everything else comes from the server's LSP surface.
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions } from 'vscode-languageclient/node';
import { CURSOR_COMMANDS, runAtCursor } from './cursor-commands.js';
import { middleware } from './middleware.js';
import { Runs } from './runs.js';
import { ClusterStatus } from './cluster-status.js';
import { ClusterTree } from './cluster-tree.js';
import { bundledServer, serverExecutable } from './server-launch.js';

let client: LanguageClient | undefined;

/** The `choppa` settings as a plain object, for `initializationOptions`. */
function settings(): unknown {
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration('choppa'))) as unknown;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverLog = vscode.window.createOutputChannel('choppa-lsp', { log: true });
  const runLog = vscode.window.createOutputChannel('Choppa Runs', { log: true });
  const runs = new Runs(runLog, context.workspaceState);
  const clusterStatus = new ClusterStatus(() => client);
  context.subscriptions.push(serverLog, runLog, runs, clusterStatus, new ClusterTree(clusterStatus, runs, () => client));
  context.subscriptions.push(
    vscode.commands.registerCommand('choppa.showRuns', () => runs.showRecent()),
    vscode.commands.registerCommand('choppa.showOutput', () => runs.showLog()),
    vscode.commands.registerCommand('choppa.pickCluster', () => clusterStatus.pick()),
    // Declared in the manifest's palette; a new server process reads settings and state afresh.
    vscode.commands.registerCommand('choppa.restartServer', async () => {
      await client?.restart();
      void clusterStatus.refresh();
    }),
    ...Object.entries(CURSOR_COMMANDS).map(([id, serverCommand]) => vscode.commands.registerCommand(id, () => runAtCursor(serverCommand))),
  );

  const entry = bundledServer(context.extensionPath);
  if (!entry) {
    void vscode.window.showErrorMessage(`Choppa: this package has no server (expected ${context.extensionPath}/server/bin/choppa-lsp.cjs); rebuild it with \`npm run package\`.`);
    return;
  }
  const executable = serverExecutable(entry, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'python' }],
    initializationOptions: settings(),
    synchronize: { configurationSection: 'choppa' },
    outputChannel: serverLog,
    middleware: middleware(runs),
  };
  client = new LanguageClient('choppa', 'choppa-lsp', { run: executable, debug: executable }, clientOptions);
  // Tell the server this client asks for missing arguments itself (see ARCHITECTURE.md).
  client.registerFeature({
    fillClientCapabilities: (capabilities) => {
      capabilities.experimental = { ...(capabilities.experimental as object | undefined), choppa: { argumentPrompt: true } };
    },
    initialize: () => undefined,
    getState: () => ({ kind: 'static' }),
    clear: () => undefined,
  });
  await client.start();
  void clusterStatus.refresh();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
