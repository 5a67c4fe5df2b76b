// The reader's hold behind an early `initialize` answer (stdio-server.ts): the initialize request
// goes through at once, everything read after it (and the end of the input) waits until the
// server is wired, then arrives in the order it was read; nothing is dropped.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ResyncingMessageReader } from '../../server/src/protocol/message-reader.js';

const frame = (message: object): string => {
  const body = JSON.stringify(message);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

describe('messages held after initialize', () => {
  it('delivers initialize, keeps what follows (and the close) until release, then all of it in order', async () => {
    const input = new PassThrough();
    const reader = new ResyncingMessageReader(input, () => {});
    const seen: string[] = [];
    reader.onClose(() => seen.push('close'));
    reader.listen((message) => seen.push(String((message as { method?: string }).method)));
    reader.holdAfterInitialize();
    input.write(frame({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { capabilities: {} } }));
    input.write(frame({ jsonrpc: '2.0', method: 'initialized', params: {} }));
    input.write(frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: {} }) + frame({ jsonrpc: '2.0', id: 1, method: 'textDocument/hover', params: {} }));
    input.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['initialize']);
    reader.release();
    expect(seen).toEqual(['initialize', 'initialized', 'textDocument/didOpen', 'textDocument/hover', 'close']);
    input.destroy();
  });

  it('passes messages before initialize straight through, and everything after a release', async () => {
    const input = new PassThrough();
    const reader = new ResyncingMessageReader(input, () => {});
    const seen: string[] = [];
    reader.listen((message) => seen.push(String((message as { method?: string }).method)));
    reader.holdAfterInitialize();
    input.write(frame({ jsonrpc: '2.0', id: 7, method: 'textDocument/hover', params: {} }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['textDocument/hover']);
    reader.release();
    input.write(frame({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} }) + frame({ jsonrpc: '2.0', method: 'initialized', params: {} }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['textDocument/hover', 'initialize', 'initialized']);
    input.destroy();
  });
});
