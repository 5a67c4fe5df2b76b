// The server's writer (protocol/message-writer.ts): each message framed with its length in bytes,
// written whole and in the order sent, before `write` returns, so a response sent after a few
// notifications is not held back a turn of the event loop for each; and the library's own reader
// reads back exactly what was sent.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StreamMessageReader, type Message } from 'vscode-languageserver/node';
import { DirectMessageWriter } from '../../server/src/protocol/message-writer.js';

describe('the direct message writer', () => {
  it('writes each message whole, in order, before write returns', async () => {
    const output = new PassThrough();
    const writer = new DirectMessageWriter(output);
    const messages: Message[] = [
      { jsonrpc: '2.0', method: 'window/logMessage', params: { type: 4, message: 'ünïcödé → 🐍' } } as Message,
      { jsonrpc: '2.0', method: '$/progress', params: { token: 'choppa-1', value: { kind: 'end' } } } as Message,
      { jsonrpc: '2.0', id: 3, result: { status: 'ok', value: { repr: '3' } } } as Message,
    ];
    const written = messages.map((message) => writer.write(message));
    // Nothing awaited yet: all three are in the stream already.
    const bytes = output.read() as Buffer;
    let offset = 0;
    for (const message of messages) {
      const header = /^Content-Length: (\d+)\r\n\r\n/.exec(bytes.subarray(offset, offset + 40).toString('ascii'));
      expect(header).not.toBeNull();
      const start = offset + header![0].length;
      const length = Number(header![1]);
      expect(JSON.parse(bytes.subarray(start, start + length).toString('utf8'))).toEqual(message);
      offset = start + length;
    }
    expect(offset).toBe(bytes.length);
    await Promise.all(written);
  });

  it('writes a lone surrogate as U+FFFD, never as an escape strict decoders refuse', () => {
    const output = new PassThrough();
    const writer = new DirectMessageWriter(output);
    // What Python's surrogateescape makes of a Latin-1 file name, and a surrogate pair beside it.
    const name = `caf${String.fromCharCode(0xdce9)}.csv 🐍`;
    void writer.write({ jsonrpc: '2.0', id: 1, result: { stdout: `reading ${name}\n`, error: { message: `no such file: ${name}` } } } as Message);
    const text = (output.read() as Buffer).toString('utf8');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body).not.toMatch(/\\u[dD][89a-fA-F]/);
    expect(JSON.parse(body)).toEqual({ jsonrpc: '2.0', id: 1, result: { stdout: 'reading caf\uFFFD.csv 🐍\n', error: { message: 'no such file: caf\uFFFD.csv 🐍' } } });
    expect(Number(/^Content-Length: (\d+)/.exec(text)![1])).toBe(Buffer.byteLength(body, 'utf8'));
  });

  it('is read back by the library reader', async () => {
    const output = new PassThrough();
    const writer = new DirectMessageWriter(output);
    const reader = new StreamMessageReader(output);
    const read: Message[] = [];
    const done = new Promise<void>((resolve) =>
      reader.listen((message) => {
        read.push(message);
        if (read.length === 20) resolve();
      }),
    );
    const sent = Array.from({ length: 20 }, (_, id) => ({ jsonrpc: '2.0', id, result: 'x'.repeat(id * 1000) + 'é' }) as Message);
    for (const message of sent) void writer.write(message);
    await done;
    expect(read).toEqual(sent);
    reader.dispose();
  });

  it('rejects a write after the stream closed', async () => {
    const output = new PassThrough();
    const writer = new DirectMessageWriter(output);
    output.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(writer.write({ jsonrpc: '2.0', method: 'x' } as Message)).rejects.toThrow(/closed/);
  });
});
