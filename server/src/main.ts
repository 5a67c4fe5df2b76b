// The `choppa-lsp` executable: `--stdio` serves LSP; anything else is the terminal CLI,
// which drives the same engine. Nothing here writes protocol traffic except the connection.
// The parser engine (native tree-sitter, else WebAssembly) is chosen once, before either starts.
// Each mode imports only its own side, so a server start never loads the CLI and the reverse,
// and `--version` or `--help` load neither. A `run` or `artifact` gets here only when no CLI
// daemon took it (`bin/choppa-lsp.cjs` asks one first); `--cli-daemon` is that daemon.
import { parseCliArguments } from './cli/cli-arguments.js';
import { loadParserEngine } from './syntax/load-parser-engine.js';
import { describeParserEngine } from './syntax/parser-engine.js';

const argv = process.argv.slice(2);
const serving = argv.includes('--stdio');
// `--cli-daemon SOCKET`: started by the CLI itself (cli-daemon/daemon-client.ts), never by hand.
const daemonSocket = argv[0] === '--cli-daemon' ? argv[1] : undefined;
const usage = serving || daemonSocket ? undefined : parseCliArguments(argv);
// The mode's modules load while the engine is chosen; neither parses before both are there.
const side = serving ? import('./server.js') : daemonSocket || (usage && 'usage' in usage) ? undefined : import('./cli/cli.js');
const engine = loadParserEngine().catch((error: unknown) => {
  process.stderr.write(`choppa-lsp: no Python parser loads: ${(error as Error).message}\n`);
  process.exit(2);
});
if (serving) {
  // Invariant: in server mode nothing else writes to stdout; stray console output goes to stderr.
  console.log = console.error;
  console.info = console.error;
  // `initialize` is answered while the server and the parser engine load (stdio-server.ts).
  const { serveStdio } = await import('./stdio-server.js');
  serveStdio(Promise.all([side as Promise<typeof import('./server.js')>, engine]).then(([server]) => server.startServer));
} else if (daemonSocket) {
  const { serveCliDaemon } = await import('./cli-daemon/daemon-server.js');
  await engine;
  await serveCliDaemon(daemonSocket);
} else if (usage && 'usage' in usage) {
  await engine;
  // As `runCli` prints it: the version also says which parser runs.
  const text = usage.version ? `${usage.usage}${describeParserEngine()}\n` : usage.usage;
  (usage.exitCode === 0 ? process.stdout : process.stderr).write(text);
  process.exitCode = usage.exitCode;
} else {
  await engine;
  const { runCli } = (await side) as typeof import('./cli/cli.js');
  runCli(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`choppa-lsp: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
