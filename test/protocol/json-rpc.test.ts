// The server as a JSON-RPC peer fed bytes by hand: nothing is served before `initialize` or after
// `shutdown`, wrong-typed parameters get InvalidParams with a readable message, and bad framing
// (a malformed Content-Length, a body that is not JSON, a length that runs into the next
// message) is logged and skipped without losing the messages after it.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';

interface Response {
  id: number;
  result?: unknown;
  error?: { code: number; message: string };
}

class RawPeer {
  readonly responses = new Map<number, Response>();
  stderr = '';
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end < 0) break;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())?.[1]);
        if (this.buffer.length < end + 4 + length) break;
        const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString()) as Response & { method?: string };
        this.buffer = this.buffer.subarray(end + 4 + length);
        if (message.method === undefined && typeof message.id === 'number') this.responses.set(message.id, message);
        else if (message.method !== undefined && message.id !== undefined) this.send({ jsonrpc: '2.0', id: message.id, result: null });
      }
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  static start(): RawPeer {
    return new RawPeer(spawn(process.execPath, [SERVER_BIN, '--stdio'], { stdio: 'pipe' }));
  }

  raw(bytes: string): void {
    this.child.stdin.write(bytes);
  }

  send(message: object): void {
    const body = JSON.stringify(message);
    this.raw(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  request(id: number, method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', id, method, params });
  }

  async response(id: number, timeoutMs = 10_000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    while (!this.responses.has(id)) {
      if (Date.now() > deadline) throw new Error(`no response to request ${id}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return this.responses.get(id)!;
  }

  async initialize(root: string): Promise<void> {
    this.request(1, 'initialize', { processId: null, rootUri: pathToFileURL(root).href, capabilities: {} });
    await this.response(1);
    this.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
  }
}

let peer: RawPeer | undefined;
afterEach(() => {
  peer?.child.kill();
  peer = undefined;
});

function project(): { root: string; uri: string; marker: string } {
  const root = tempDir();
  mkdirSync(join(root, '.git'));
  const marker = join(root, 'ran.txt');
  const file = join(root, 'jobs.py');
  writeFileSync(file, ['from choppa import Choppa', 'dutch = Choppa()', '@dutch.remote', 'def touch():', `    open(${JSON.stringify(marker)}, "w").write("ran")`, '    return 1', ''].join('\n'));
  return { root, uri: pathToFileURL(file).href, marker };
}

describe('JSON-RPC lifecycle and framing', () => {
  it('refuses requests before initialize with ServerNotInitialized, and runs nothing', async () => {
    const { root, uri, marker } = project();
    peer = RawPeer.start();
    peer.request(7, 'workspace/executeCommand', { command: 'choppa.run', arguments: [{ uri, function: 'touch' }] });
    expect((await peer.response(7)).error?.code).toBe(-32002);
    await peer.initialize(root);
    peer.request(8, 'textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 5 } });
    expect((await peer.response(8)).error).toBeUndefined();
    expect(existsSync(marker)).toBe(false);
  });

  it('answers an initialize sent only once the server has loaded, and serves after it', async () => {
    // Clients may start the server and initialize later; by then the whole server is wired.
    const { root, uri } = project();
    peer = RawPeer.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await peer.initialize(root);
    expect(peer.responses.get(1)?.result).toMatchObject({ capabilities: { hoverProvider: true }, serverInfo: { name: 'choppa-lsp' } });
    peer.request(2, 'textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 5 } });
    expect((await peer.response(2)).error).toBeUndefined();
    expect(peer.stderr).not.toContain('already listening');
  });

  it('refuses an initialize without capabilities with InvalidParams, and initializes after a proper one', async () => {
    const { root, uri } = project();
    peer = RawPeer.start();
    peer.request(1, 'initialize', { processId: null, rootUri: pathToFileURL(root).href });
    expect((await peer.response(1)).error).toMatchObject({ code: -32602, message: expect.stringContaining('`params.capabilities` must be an object') });
    peer.request(2, 'initialize', null);
    expect((await peer.response(2)).error?.code).toBe(-32602);
    peer.request(3, 'initialize', { processId: null, rootUri: pathToFileURL(root).href, capabilities: {} });
    expect((await peer.response(3)).result).toMatchObject({ capabilities: { hoverProvider: true } });
    peer.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
    peer.request(4, 'textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 5 } });
    expect((await peer.response(4)).error).toBeUndefined();
  });

  it('answers wrong-typed parameters with InvalidParams that say which field', async () => {
    const { root, uri } = project();
    peer = RawPeer.start();
    await peer.initialize(root);
    peer.request(2, 'textDocument/hover', { textDocument: { uri }, position: 'line 3' });
    expect((await peer.response(2)).error).toMatchObject({ code: -32602, message: expect.stringContaining('`position` must be a position') });
    peer.request(3, 'textDocument/codeAction', { textDocument: { uri: 42 }, range: {}, context: {} });
    expect((await peer.response(3)).error).toMatchObject({ code: -32602, message: expect.stringContaining('`textDocument.uri` must be a string') });
  });

  it('skips a bad Content-Length, a body that is not JSON and an overlong length, and answers every request after them', async () => {
    const { root, uri } = project();
    peer = RawPeer.start();
    await peer.initialize(root);
    const hover = (id: number): void => peer!.request(id, 'textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 5 } });
    peer.raw('Content-Length: abc\r\n\r\n{"jsonrpc":"2.0","id":99,"method":"textDocument/hover"}');
    for (let id = 10; id < 20; id += 1) hover(id);
    peer.raw('Content-Length: 12\r\n\r\nnot json!!!!');
    for (let id = 20; id < 30; id += 1) hover(id);
    for (let id = 10; id < 30; id += 1) expect((await peer.response(id)).error, `request ${id}`).toBeUndefined();
    // A length past the body swallows the start of the next message; the reader gives up on it.
    peer.raw('Content-Length: 500\r\n\r\n{"jsonrpc":"2.0","id":98,"method":"shutdown"}');
    hover(30);
    hover(31);
    expect((await peer.response(31)).error).toBeUndefined();
    expect(peer.stderr).toContain('bad header');
    expect(peer.stderr).toContain('not JSON');
    expect(peer.stderr).toContain('ran past the next message');
  });

  it('refuses requests after shutdown with InvalidRequest', async () => {
    const { root, uri, marker } = project();
    peer = RawPeer.start();
    await peer.initialize(root);
    peer.request(2, 'shutdown', null);
    await peer.response(2);
    peer.request(3, 'workspace/executeCommand', { command: 'choppa.run', arguments: [{ uri, function: 'touch' }] });
    expect((await peer.response(3)).error?.code).toBe(-32600);
    expect(existsSync(marker)).toBe(false);
  });
});
