// The server's log lines (protocol/log-lines.ts): sent on the next turn of the event loop, in the
// order they were written, and bounded: a flood keeps its first thousand lines and says how many
// more there were.
import { describe, expect, it } from 'vitest';
import type { Connection } from 'vscode-languageserver/node';
import { LogLines } from '../../server/src/protocol/log-lines.js';

function recorder(): { connection: Connection; sent: string[] } {
  const sent: string[] = [];
  const connection = {
    sendNotification: (method: string, params: { message: string }) => {
      expect(method).toBe('window/logMessage');
      sent.push(params.message);
      return Promise.resolve();
    },
  } as unknown as Connection;
  return { connection, sent };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('log lines', () => {
  it('sends the lines of a turn on the next one, in order', async () => {
    const { connection, sent } = recorder();
    const lines = new LogLines(connection);
    lines.push('one');
    lines.push('two');
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual(['one', 'two']);
    lines.push('three');
    await nextTurn();
    expect(sent).toEqual(['one', 'two', 'three']);
  });

  it('keeps at most a thousand lines waiting and counts the rest', async () => {
    const { connection, sent } = recorder();
    const lines = new LogLines(connection);
    for (let index = 0; index < 1500; index += 1) lines.push(`line ${index}`);
    await nextTurn();
    expect(sent).toHaveLength(1001);
    expect(sent[999]).toBe('line 999');
    expect(sent[1000]).toBe('choppa-lsp: 500 more log lines were dropped');
  });
});
