// The cluster of the active Python file in the status bar (name and state, coloured when it is
// stopped or unusable) and a quick pick of the workspace's clusters that sets `cluster_id=` on
// the file's `Choppa(...)` line. The list comes from the server's `choppa.clusters` (cached there).
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { ClusterEntry } from './protocol.js';

const CLUSTER_ID = /\bcluster_id\s*=\s*[rRuU]?(["'])([^"'\\\n]*)\1/;
/** How often the item follows state changes (the server lists at most every 30 s anyway). */
const REFRESH_MS = 30_000;

export class ClusterStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('choppa.cluster', vscode.StatusBarAlignment.Left, 49);
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly timer: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private readonly refreshed = new vscode.EventEmitter<void>();
  /** Fires after every refresh, so the tree view follows the same events as the item. */
  readonly onDidRefresh = this.refreshed.event;

  constructor(private readonly client: () => LanguageClient | undefined) {
    this.item.name = 'Choppa cluster';
    this.item.command = 'choppa.pickCluster';
    this.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor(() => void this.refresh()),
      vscode.workspace.onDidSaveTextDocument(() => void this.refresh()),
      // A "Use cluster" code action or a typed id: follow it once typing pauses.
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document !== vscode.window.activeTextEditor?.document) return;
        if (this.pending) clearTimeout(this.pending);
        this.pending = setTimeout(() => void this.refresh(), 500);
      }),
    );
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  /** The clusters of the file's workspace (or the first folder's without `uri`), undefined when there is none. */
  async clusters(uri?: string): Promise<ClusterEntry[] | undefined> {
    const client = this.client();
    if (!client) return undefined;
    try {
      const result = await client.sendRequest<{ clusters: ClusterEntry[] }>('workspace/executeCommand', { command: 'choppa.clusters', arguments: [uri ? { uri } : {}] });
      return result.clusters;
    } catch {
      return undefined; // no Databricks workspace (local runs): no item
    }
  }

  async refresh(): Promise<void> {
    await this.render();
    this.refreshed.fire();
  }

  private async render(): Promise<void> {
    const document = vscode.window.activeTextEditor?.document;
    if (!document || document.languageId !== 'python' || !/\bChoppa\(/.test(document.getText())) {
      this.item.hide();
      return;
    }
    const clusters = await this.clusters(document.uri.toString());
    if (!clusters) {
      this.item.hide();
      return;
    }
    const id = CLUSTER_ID.exec(document.getText())?.[2];
    const cluster = clusters.find((candidate) => candidate.clusterId === id);
    if (!cluster) {
      this.item.text = id ? `$(error) ${id}: no such cluster` : '$(server) pick a cluster';
      this.item.backgroundColor = id ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
      this.item.tooltip = 'Choppa: click to pick a cluster';
    } else {
      const running = cluster.state === 'RUNNING' || cluster.state === 'RESIZING';
      this.item.text = `${running ? '$(vm-running)' : '$(vm-outline)'} ${cluster.name} ${cluster.state}`;
      this.item.backgroundColor =
        cluster.attachable === false || cluster.state === 'ERROR'
          ? new vscode.ThemeColor('statusBarItem.errorBackground')
          : running
            ? undefined
            : new vscode.ThemeColor('statusBarItem.warningBackground');
      this.item.tooltip = `${cluster.name} (${cluster.clusterId})\n${cluster.state}${cluster.stateMessage ? `: ${cluster.stateMessage}` : ''}\n${cluster.sparkVersion ?? ''}${cluster.python ? ` · Python ${cluster.python}` : ''}\nClick to pick another cluster`;
    }
    this.item.show();
  }

  /** The quick pick: every cluster (running first), then the edit on the active file's Choppa line. */
  async pick(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    const clusters = await this.clusters(editor.document.uri.toString());
    if (!clusters) {
      void vscode.window.showInformationMessage('Choppa: no Databricks workspace is configured for this file.');
      return;
    }
    const chosen = await vscode.window.showQuickPick(
      clusters.map((cluster) => ({
        label: cluster.name,
        description: `${cluster.state} · ${cluster.sparkVersion ?? ''}${cluster.python ? ` · Python ${cluster.python}` : ''}`,
        detail: `${cluster.clusterId}${cluster.attachable === false ? ' · you may not attach to it' : ''}`,
        cluster,
      })),
      { placeHolder: 'Cluster for Choppa(cluster_id=...)' },
    );
    if (!chosen) return;
    await this.useCluster(editor.document, chosen.cluster.clusterId);
  }

  /** Sets `cluster_id=` on the document's `Choppa(...)` line (replacing the id, or adding the keyword). */
  async useCluster(document: vscode.TextDocument, clusterId: string): Promise<boolean> {
    const text = document.getText();
    const existing = CLUSTER_ID.exec(text);
    const edit = new vscode.WorkspaceEdit();
    if (existing) {
      const start = existing.index + existing[0].length - 1 - (existing[2] ?? '').length;
      edit.replace(document.uri, new vscode.Range(document.positionAt(start), document.positionAt(start + (existing[2] ?? '').length)), clusterId);
    } else {
      const open = text.search(/\bChoppa\(/);
      if (open === -1) return false;
      const at = open + 'Choppa('.length;
      const empty = text.charAt(at) === ')';
      edit.insert(document.uri, document.positionAt(at), `cluster_id="${clusterId}"${empty ? '' : ', '}`);
    }
    const applied = await vscode.workspace.applyEdit(edit);
    await this.refresh();
    return applied;
  }

  dispose(): void {
    clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    for (const subscription of this.subscriptions) subscription.dispose();
    this.refreshed.dispose();
    this.item.dispose();
  }
}
