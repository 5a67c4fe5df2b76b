// The "Choppa" tree view: the workspace's clusters (name, state, runtime; start, restart the
// warm context, open the page, use in this file), the runs of this window and the jobs this
// project submitted. It follows the cluster status bar item's refreshes and finished runs.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { ClusterStatus } from './cluster-status.js';
import type { ClusterEntry, JobRunEntry } from './protocol.js';
import { summarize, type FinishedRun, type Runs } from './runs.js';

type Node =
  | { kind: 'group'; group: 'clusters' | 'runs' | 'jobs' }
  | { kind: 'cluster'; cluster: ClusterEntry }
  | { kind: 'run'; run: FinishedRun }
  | { kind: 'job'; job: JobRunEntry }
  | { kind: 'note'; text: string };

const GROUP_LABELS = { clusters: 'Clusters', runs: 'Recent runs', jobs: 'Submitted jobs' } as const;

function isRunning(cluster: ClusterEntry): boolean {
  return cluster.state === 'RUNNING' || cluster.state === 'RESIZING';
}

function clusterItem(cluster: ClusterEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(cluster.name, vscode.TreeItemCollapsibleState.None);
  item.id = `cluster:${cluster.clusterId}`;
  const runtime = [cluster.sparkVersion, cluster.python ? `Python ${cluster.python}` : undefined].filter(Boolean).join(' · ');
  item.description = [cluster.state, runtime].filter(Boolean).join(' · ');
  item.tooltip = `${cluster.name} (${cluster.clusterId})\n${cluster.state}${cluster.stateMessage ? `: ${cluster.stateMessage}` : ''}${runtime ? `\n${runtime}` : ''}${cluster.attachable === false ? '\nYou may not attach to it.' : ''}`;
  const colour = cluster.attachable === false || cluster.state === 'ERROR' ? 'errorForeground' : isRunning(cluster) ? 'testing.iconPassed' : 'list.warningForeground';
  item.iconPath = new vscode.ThemeIcon(isRunning(cluster) ? 'vm-running' : 'vm-outline', new vscode.ThemeColor(colour));
  // The menus' `when` clauses read this: only a terminated cluster offers Start.
  item.contextValue = cluster.state === 'TERMINATED' ? 'choppaCluster.terminated' : 'choppaCluster';
  return item;
}

function runItem(run: FinishedRun): vscode.TreeItem {
  const item = new vscode.TreeItem(run.label, vscode.TreeItemCollapsibleState.None);
  item.description = summarize(run.result);
  item.tooltip = [`${run.label} → ${summarize(run.result)}`, [`${run.result.durationMs} ms`, run.result.backend, run.finishedAt.toLocaleTimeString()].filter(Boolean).join(' · ')].join('\n');
  item.iconPath = new vscode.ThemeIcon(run.result.status === 'ok' ? 'check' : run.result.status === 'error' ? 'error' : 'circle-slash');
  item.command = { title: 'Open file', command: 'vscode.open', arguments: [vscode.Uri.parse(run.uri)] };
  return item;
}

function jobItem(job: JobRunEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(`${job.function} #${job.runId}`, vscode.TreeItemCollapsibleState.None);
  const seconds = job.durationMs !== undefined ? `${(job.durationMs / 1000).toFixed(1)} s` : undefined;
  item.description = [job.result ?? job.state, seconds].filter(Boolean).join(' · ');
  item.iconPath = new vscode.ThemeIcon(job.result === 'SUCCESS' ? 'check' : job.result ? 'error' : 'sync');
  if (job.runPageUrl) item.command = { title: 'Open run page', command: 'vscode.open', arguments: [vscode.Uri.parse(job.runPageUrl)] };
  return item;
}

export class ClusterTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The last list shown (undefined: none yet, null: no workspace), so a refresh that changed nothing does not redraw the rows. */
  private clusters: ClusterEntry[] | null | undefined;

  constructor(
    private readonly status: ClusterStatus,
    private readonly runs: Runs,
    private readonly client: () => LanguageClient | undefined,
  ) {
    this.subscriptions = [
      status.onDidRefresh(() => void this.reloadClusters()),
      runs.onDidChange(() => this.changed.fire(undefined)),
      vscode.window.registerTreeDataProvider('choppa.clusters', this),
      vscode.commands.registerCommand('choppa.refreshClusters', () => this.refresh()),
      vscode.commands.registerCommand('choppa.cluster.use', (node: Node) => this.use(node)),
      vscode.commands.registerCommand('choppa.cluster.start', (node: Node) => this.start(node)),
      vscode.commands.registerCommand('choppa.cluster.restartContext', (node: Node) => this.restartContext(node)),
      vscode.commands.registerCommand('choppa.cluster.openPage', (node: Node) => this.openPage(node)),
    ];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const item = new vscode.TreeItem(GROUP_LABELS[node.group], node.group === 'jobs' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.group}`;
        return item;
      }
      case 'cluster':
        return clusterItem(node.cluster);
      case 'run':
        return runItem(node.run);
      case 'job':
        return jobItem(node.job);
      case 'note':
        return new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return [{ kind: 'group', group: 'clusters' }, { kind: 'group', group: 'runs' }, { kind: 'group', group: 'jobs' }];
    if (node.kind !== 'group') return [];
    if (node.group === 'runs') {
      const recent = this.runs.recentRuns();
      return recent.length > 0 ? recent.map((run) => ({ kind: 'run', run })) : [{ kind: 'note', text: 'No runs yet in this window' }];
    }
    if (!this.client()) return [{ kind: 'note', text: 'The language server is starting…' }];
    if (node.group === 'clusters') {
      if (this.clusters === undefined) this.clusters = (await this.status.clusters(this.activeUri())) ?? null;
      const clusters = this.clusters;
      if (!clusters) return [{ kind: 'note', text: 'No Databricks workspace for this folder' }];
      return clusters.length > 0 ? clusters.map((cluster) => ({ kind: 'cluster', cluster })) : [{ kind: 'note', text: 'The workspace has no clusters' }];
    }
    // Listed only when the group is expanded: `jobs/runs/list` is not cached by the server.
    const jobs = await this.command<{ runs: JobRunEntry[] }>('choppa.jobRuns', this.activeUri() ? { uri: this.activeUri() } : {});
    if (!jobs) return [{ kind: 'note', text: 'No Databricks workspace for this folder' }];
    return jobs.runs.length > 0 ? jobs.runs.map((job) => ({ kind: 'job', job })) : [{ kind: 'note', text: 'No job submitted from this project' }];
  }

  /** Asks for the list again (the server's cache answers) and redraws only when it changed. */
  private async reloadClusters(): Promise<void> {
    const clusters = (await this.status.clusters(this.activeUri())) ?? null;
    if (JSON.stringify(clusters) === JSON.stringify(this.clusters)) return;
    this.clusters = clusters;
    this.changed.fire(undefined);
  }

  private activeUri(): string | undefined {
    const document = vscode.window.activeTextEditor?.document;
    return document?.languageId === 'python' ? document.uri.toString() : undefined;
  }

  private async command<T>(command: string, argument: Record<string, unknown>): Promise<T | undefined> {
    const client = this.client();
    if (!client) return undefined;
    try {
      return await client.sendRequest<T>('workspace/executeCommand', { command, arguments: [argument] });
    } catch (error) {
      void vscode.window.showErrorMessage(`Choppa: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  private async refresh(): Promise<void> {
    await this.command('choppa.clusters', { refresh: true, ...(this.activeUri() ? { uri: this.activeUri() } : {}) });
    await this.status.refresh();
    // Submitted jobs are not cached: asked for, they are listed again even when no cluster changed.
    this.changed.fire(undefined);
  }

  private async use(node: Node): Promise<void> {
    if (node?.kind !== 'cluster') return;
    const document = vscode.window.activeTextEditor?.document;
    if (!document || document.languageId !== 'python' || !(await this.status.useCluster(document, node.cluster.clusterId))) {
      void vscode.window.showInformationMessage('Choppa: open a Python file with a Choppa(...) line to use this cluster in it.');
    }
  }

  private async start(node: Node): Promise<void> {
    if (node?.kind !== 'cluster') return;
    // The server reports the states as progress until RUNNING, and says how it ended.
    await this.command('choppa.startCluster', { clusterId: node.cluster.clusterId });
    await this.status.refresh();
  }

  private async restartContext(node: Node): Promise<void> {
    if (node?.kind !== 'cluster') return;
    // The server says what it did (a context destroyed, or none there).
    await this.command('choppa.restartContext', { clusterId: node.cluster.clusterId });
  }

  private async openPage(node: Node): Promise<void> {
    if (node?.kind !== 'cluster') return;
    await vscode.env.openExternal(vscode.Uri.parse(node.cluster.url));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }
}
