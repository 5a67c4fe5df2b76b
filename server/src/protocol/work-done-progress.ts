// Server-created work-done progress with readable tokens (`choppa-3`) instead of the library's
// UUIDs: Helix prints the token in front of every progress line. Owns the token → cancel map
// and the `window/workDoneProgress/cancel` handler for every progress the server creates.
import type { Connection, WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from 'vscode-languageserver/node';
import { WorkDoneProgress, WorkDoneProgressCancelNotification, WorkDoneProgressCreateRequest } from './lsp-runtime.js';

/** A progress the server created: begin once, report, done; `cancelled` fires on the client's cancel. */
export interface ServerProgress {
  readonly token: string;
  begin(title: string, message?: string, cancellable?: boolean): void;
  report(message?: string): void;
  done(): void;
  onCancel(listener: () => void): void;
}

/** Creates progress on one connection; one instance per connection (it owns the cancel handler). */
export class ProgressTokens {
  private counter = 0;
  private readonly cancels = new Map<string, Array<() => void>>();

  constructor(private readonly connection: Connection) {}

  /**
   * Takes over `window/workDoneProgress/cancel` (the library registers its own during
   * `initialize`, for its UUID tokens only); call once the client has initialized.
   */
  listen(): void {
    this.connection.onNotification(WorkDoneProgressCancelNotification.type, ({ token }) => {
      for (const listener of this.cancels.get(String(token)) ?? []) listener();
    });
  }

  /** Asks the client for a progress with a short readable token; rejects if the client refuses. */
  async create(): Promise<ServerProgress> {
    this.counter += 1;
    const token = `choppa-${this.counter}`;
    await this.connection.sendRequest(WorkDoneProgressCreateRequest.type, { token });
    const listeners: Array<() => void> = [];
    this.cancels.set(token, listeners);
    let ended = false;
    const send = (value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd): void => {
      if (!ended) void this.connection.sendProgress(WorkDoneProgress.type, token, value);
    };
    return {
      token,
      begin: (title, message, cancellable = true) => send({ kind: 'begin', title, cancellable, ...(message ? { message } : {}) }),
      report: (message) => send({ kind: 'report', ...(message ? { message } : {}) }),
      done: () => {
        send({ kind: 'end' });
        ended = true;
        this.cancels.delete(token);
      },
      onCancel: (listener) => listeners.push(listener),
    };
  }
}
