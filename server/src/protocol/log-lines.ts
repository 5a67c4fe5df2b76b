// The server's `window/logMessage` lines, gathered and sent at most every LOG_BATCH_MS as one
// message of several lines rather than where they are written: a log line per HTTP request sat
// between a status check's answer and the next check, and a warm run of a few milliseconds now
// answers before its lines go out. Their order is kept; at most MAX_WAITING wait, and the rest
// are counted instead.
import type { Connection } from 'vscode-languageserver/node';

const MAX_WAITING = 1000;
/** How long a line may wait for others to go out with it. */
export const LOG_BATCH_MS = 50;

export class LogLines {
  private waiting: string[] = [];
  private dropped = 0;
  private scheduled: NodeJS.Timeout | undefined;

  constructor(private readonly connection: Connection) {}

  push(message: string): void {
    if (this.waiting.length >= MAX_WAITING) this.dropped += 1;
    else this.waiting.push(message);
    this.scheduled ??= setTimeout(() => this.flush(), LOG_BATCH_MS);
  }

  /** Sends what waits, in order, as one message. */
  flush(): void {
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduled = undefined;
    if (this.dropped > 0) this.waiting.push(`choppa-lsp: ${this.dropped} more log lines were dropped`);
    this.dropped = 0;
    if (this.waiting.length === 0) return;
    const message = this.waiting.join('\n');
    this.waiting = [];
    void this.connection.sendNotification('window/logMessage', { type: 4, message });
  }
}
