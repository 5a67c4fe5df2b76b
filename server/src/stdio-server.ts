// The server over stdio, started in two steps: the connection answers `initialize` as soon as it
// exists (the answer is the capabilities, the same for every client), while the rest of the
// server loads; the messages after `initialize` wait in the reader until every handler is wired,
// so none is dropped or answered "method not found".
import type { Connection, InitializeParams } from 'vscode-languageserver/node';
import { initializeResult } from './capabilities.js';
import { createConnection, ErrorCodes, ProposedFeatures, ResponseError, StreamMessageWriter } from './protocol/lsp-runtime.js';
import { ResyncingMessageReader } from './protocol/message-reader.js';

export type StartServer = (connection: Connection, answered?: InitializeParams) => Connection;

/** Listens on stdio at once; `wiring` resolves to the full server once its modules are loaded. */
export function serveStdio(wiring: Promise<StartServer>): void {
  const logError = (message: string): void => {
    process.stderr.write(`${message}\n`);
  };
  const reader = new ResyncingMessageReader(process.stdin, logError);
  const connection = createConnection(ProposedFeatures.all, reader, new StreamMessageWriter(process.stdout));
  let answered: InitializeParams | undefined;
  // Before `initialize`, as the full server's lifecycle does: requests refused, notifications dropped.
  const beforeInitialize = [
    connection.onRequest((method: string) => {
      throw new ResponseError(ErrorCodes.ServerNotInitialized, `${method} before initialize: the server is not initialized yet`);
    }),
    connection.onNotification((method: string) => logError(`choppa-lsp: ignored ${method} before initialize`)),
  ];
  reader.holdAfterInitialize();
  connection.onInitialize((params) => {
    // Refused before anything is recorded: the full server then waits for a proper one.
    if (typeof params !== 'object' || params === null || typeof params.capabilities !== 'object' || params.capabilities === null) {
      throw new ResponseError(ErrorCodes.InvalidParams, 'initialize: `params.capabilities` must be an object');
    }
    answered = params;
    return initializeResult();
  });
  connection.listen();
  wiring.then(
    (startServer) => {
      for (const handler of beforeInitialize) handler.dispose();
      startServer(connection, answered);
      reader.release();
    },
    (error: unknown) => {
      process.stderr.write(`choppa-lsp: the server did not start: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(2);
    },
  );
}
