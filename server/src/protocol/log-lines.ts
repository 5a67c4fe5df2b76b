// The server's `window/logMessage` lines, sent on the next turn of the event loop rather than
// where they are written: a log line per HTTP request sat between a status check's answer and the
// next check. Their order is kept; at most MAX_WAITING wait, and the rest are counted instead.
import type { Connection } from 'vscode-languageserver/node';

const MAX_WAITING = 1000;

export class LogLines {
  private waiting: string[] = [];
  private dropped = 0;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly connection: Connection) {}

  push(message: string): void {
    if (this.waiting.length >= MAX_WAITING) this.dropped += 1;
    else this.waiting.push(message);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Sends what waits, in order. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const lines = this.waiting;
    this.waiting = [];
    for (const message of lines) void this.connection.sendNotification('window/logMessage', { type: 4, message });
    if (this.dropped > 0) {
      void this.connection.sendNotification('window/logMessage', { type: 4, message: `choppa-lsp: ${this.dropped} more log lines were dropped` });
      this.dropped = 0;
    }
  }
}
