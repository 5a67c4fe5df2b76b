// What the extension remembers about runs: the ones in flight (shown in the status bar), the
// recent results (a quick pick behind the status bar item), each run's output in a log output
// channel, and the last arguments typed for each function (to pre-fill the next prompt).
import * as vscode from 'vscode';
import type { DereferenceResult, RunArguments, RunResult } from './protocol.js';

const RECENT_MAX = 20;
const LAST_ARGS_KEY = 'choppa.lastArguments';

export interface FinishedRun {
  label: string;
  result: RunResult;
  uri: string;
  finishedAt: Date;
}

/** A one-line summary of a result, as the output channel and the quick pick show it. */
export function summarize(result: RunResult): string {
  if (result.status === 'cancelled') return 'cancelled';
  if (result.status === 'error') return `${result.error?.type ?? 'Error'}: ${result.error?.message ?? 'failed'}`;
  if (result.ref) return `ArtifactRef ${result.ref.type ?? ''} ${formatBytes(result.ref.size)} ${result.ref.path}`.replace(/ +/g, ' ');
  return result.value?.repr ?? 'None';
}

/** The server's size format (`server/src/engine/format.ts`): one decimal below 100. */
function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function callLabel(name: string, args: string | undefined): string {
  return `${name}(${args ?? ''})`;
}

/** Owns the status bar item and the run log; disposed with the extension. */
export class Runs implements vscode.Disposable {
  private readonly active = new Map<number, string>();
  private readonly recent: FinishedRun[] = [];
  private nextId = 0;
  private readonly statusBar: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a run finished (the tree view lists the recent ones). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly state: vscode.Memento,
  ) {
    this.statusBar = vscode.window.createStatusBarItem('choppa.runs', vscode.StatusBarAlignment.Left, 50);
    this.statusBar.name = 'Choppa runs';
    this.statusBar.command = 'choppa.showRuns';
    this.render();
    this.statusBar.show();
  }

  /** Marks a run as in flight; call the returned function when it is over. */
  begin(name: string): () => void {
    const id = this.nextId++;
    this.active.set(id, name);
    this.render();
    return () => {
      this.active.delete(id);
      this.render();
    };
  }

  lastArguments(args: RunArguments): string | undefined {
    return this.state.get<Record<string, string>>(LAST_ARGS_KEY, {})[`${args.uri}#${args.function}`];
  }

  record(args: RunArguments, result: RunResult): void {
    const label = callLabel(result.function, result.args ?? args.args);
    this.recent.unshift({ label, result, uri: args.uri, finishedAt: new Date() });
    this.recent.length = Math.min(this.recent.length, RECENT_MAX);
    const used = result.args ?? args.args;
    if (used !== undefined && used !== '' && result.status !== 'error') {
      const all = { ...this.state.get<Record<string, string>>(LAST_ARGS_KEY, {}), [`${args.uri}#${args.function}`]: used };
      void this.state.update(LAST_ARGS_KEY, all);
    }
    const where = [`${result.durationMs} ms`, result.backend].filter(Boolean).join(' · ');
    const line = `${label} → ${summarize(result)} · ${where}`;
    if (result.status === 'ok') this.log.info(line);
    else if (result.status === 'cancelled') this.log.warn(line);
    else this.log.error(line);
    for (const text of (result.stdout ?? '').split('\n').filter((text) => text !== '')) this.log.info(`  stdout: ${text}`);
    for (const text of (result.stderr ?? '').split('\n').filter((text) => text !== '')) this.log.warn(`  stderr: ${text}`);
    this.render();
    this.changed.fire();
  }

  /** The finished runs of this window, newest first (at most RECENT_MAX). */
  recentRuns(): readonly FinishedRun[] {
    return this.recent;
  }

  note(message: string): void {
    this.log.info(message);
  }

  recordDereference(result: DereferenceResult): void {
    this.log.info(`dereferenced ${formatBytes(result.size)} (sha256 ${result.sha256.slice(0, 12)}…) → ${result.localPath}; preview ${result.previewPath}`);
  }

  /** The quick pick of recent results; picking one opens its file and the run log. */
  async showRecent(): Promise<void> {
    if (this.recent.length === 0) {
      void vscode.window.showInformationMessage('Choppa: no runs yet in this window.');
      return;
    }
    const items = this.recent.map((run) => ({
      label: `${run.result.status === 'ok' ? '$(check)' : run.result.status === 'error' ? '$(error)' : '$(circle-slash)'} ${run.label}`,
      description: summarize(run.result),
      detail: [`${run.result.durationMs} ms`, run.result.backend, run.finishedAt.toLocaleTimeString()].filter(Boolean).join(' · '),
      run,
    }));
    const picked = await vscode.window.showQuickPick(items, { title: 'Choppa: recent runs', matchOnDescription: true });
    if (!picked) return;
    await vscode.window.showTextDocument(vscode.Uri.parse(picked.run.uri), { preview: false });
    this.log.show(true);
  }

  showLog(): void {
    this.log.show(true);
  }

  private render(): void {
    const running = [...this.active.values()];
    const last = this.recent[0];
    if (running.length > 0) {
      this.statusBar.text = `$(sync~spin) Choppa: ${running.length === 1 ? `running ${running[0]}` : `${running.length} runs`}`;
    } else {
      this.statusBar.text = '$(rocket) Choppa';
    }
    const tooltip = [running.length > 0 ? `Running: ${running.join(', ')}` : 'No run in flight'];
    if (last) tooltip.push(`Last: ${last.label} → ${summarize(last.result)}${last.result.backend ? ` (${last.result.backend})` : ''}`);
    tooltip.push('Click to list recent runs.');
    this.statusBar.tooltip = tooltip.join('\n');
  }

  dispose(): void {
    this.changed.dispose();
    this.statusBar.dispose();
  }
}
