// The server's log lines (protocol/log-lines.ts): gathered for LOG_BATCH_MS and sent as one
// message of several lines, in the order they were written, and bounded: a flood keeps its first
// thousand lines and says how many more there were.
import { describe, expect, it } from 'vitest';
import type { Connection } from 'vscode-languageserver/node';
import { LOG_BATCH_MS, LogLines } from '../../server/src/protocol/log-lines.js';

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

const batch = () => new Promise((resolve) => setTimeout(resolve, LOG_BATCH_MS + 20));

describe('log lines', () => {
  it('sends the lines of a batch together once it has waited, in order', async () => {
    const { connection, sent } = recorder();
    const lines = new LogLines(connection);
    lines.push('one');
    await new Promise((resolve) => setImmediate(resolve));
    lines.push('two');
    expect(sent).toEqual([]);
    await batch();
    expect(sent).toEqual(['one\ntwo']);
    lines.push('three');
    await batch();
    expect(sent).toEqual(['one\ntwo', 'three']);
  });

  it('keeps at most a thousand lines waiting and counts the rest', async () => {
    const { connection, sent } = recorder();
    const lines = new LogLines(connection);
    for (let index = 0; index < 1500; index += 1) lines.push(`line ${index}`);
    await batch();
    expect(sent).toHaveLength(1);
    const sentLines = sent[0]!.split('\n');
    expect(sentLines).toHaveLength(1001);
    expect(sentLines[999]).toBe('line 999');
    expect(sentLines[1000]).toBe('choppa-lsp: 500 more log lines were dropped');
  });
});
