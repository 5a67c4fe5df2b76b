// The server over stdio, started in two steps: the connection answers `initialize` as soon as it
// exists (the answer is the capabilities, the same for every client), while the rest of the
// server loads; the messages after `initialize` wait in the reader until every handler is wired,
// so none is dropped or answered "method not found".
import type { Connection, InitializeParams, Message } from 'vscode-languageserver/node';
import { initializeResult } from './capabilities.js';
import { createConnection, ErrorCodes, ProposedFeatures, ResponseError } from './protocol/lsp-runtime.js';
import { ResyncingMessageReader } from './protocol/message-reader.js';
import { DirectMessageWriter } from './protocol/message-writer.js';

export type StartServer = (connection: Connection, listening: { answered?: InitializeParams | undefined; onInputEnd?: (listener: () => void) => void }) => Connection;

/** Listens on stdio at once; `wiring` resolves to the full server once its modules are loaded. */
export function serveStdio(wiring: Promise<StartServer>): void {
  const logError = (message: string): void => {
    process.stderr.write(`${message}\n`);
  };
  const reader = new ResyncingMessageReader(process.stdin, logError);
  const writer = new DirectMessageWriter(process.stdout);
  const connection = createConnection(ProposedFeatures.all, reader, writer);
  let answered: InitializeParams | undefined;
  // Before `initialize`, as the full server's lifecycle does: requests refused, notifications dropped.
  const beforeInitialize = [
    connection.onRequest((method: string) => {
      throw new ResponseError(ErrorCodes.ServerNotInitialized, `${method} before initialize: the server is not initialized yet`);
    }),
    connection.onNotification((method: string) => logError(`choppa-lsp: ignored ${method} before initialize`)),
  ];
  reader.holdAfterInitialize();
  // An `initialize` without a capabilities object is refused here: vscode-languageserver reads
  // them before any handler of ours and would answer an internal error ("Cannot read
  // properties of undefined"). Nothing is recorded: the server then waits for a proper one.
  reader.screen((message) => {
    const request = message as { id?: number | string | null; method?: unknown; params?: { capabilities?: unknown } | null };
    if (request.method !== 'initialize' || request.id === undefined) return false;
    const capabilities = request.params?.capabilities;
    if (typeof capabilities === 'object' && capabilities !== null) return false;
    void writer.write({ jsonrpc: '2.0', id: request.id, error: { code: ErrorCodes.InvalidParams, message: 'initialize: `params.capabilities` must be an object' } } as Message);
    return true;
  });
  connection.onInitialize((params) => {
    answered = params;
    return initializeResult();
  });
  // A client gone before the server is wired leaves nothing to stop: end at once. Once wired
  // (and for an end held behind `initialize`), the server ends itself (`server.ts`).
  let wired = false;
  reader.onClose(() => {
    if (!wired) process.exit(1);
  });
  connection.listen();
  wiring.then(
    (startServer) => {
      for (const handler of beforeInitialize) handler.dispose();
      wired = true;
      // The server may be wired before `initialize` arrives (a client that waits, a fast load):
      // the connection listens either way, and the server then answers `initialize` itself.
      startServer(connection, { answered, onInputEnd: (listener) => reader.onClose(listener) });
      reader.release();
    },
    (error: unknown) => {
      process.stderr.write(`choppa-lsp: the server did not start: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(2);
    },
  );
}
