// A bare vscode-languageserver server over stdio, for the run-latency bench's transport floor: it
// answers `initialize` with no capabilities and nothing else, so an unknown request's round trip
// through it is what the library's own stdio reader and writer cost.
import { createConnection, ProposedFeatures, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';

const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
connection.onInitialize(() => ({ capabilities: {} }));
connection.listen();
