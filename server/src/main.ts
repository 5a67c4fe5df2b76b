// The `choppa-lsp` executable: `--stdio` serves LSP; anything else is the terminal CLI,
// which drives the same engine. Nothing here writes protocol traffic except the connection.
// The parser engine (native tree-sitter, else WebAssembly) is chosen once, before either starts.
import { runCli } from './cli/cli.js';
import { startServer } from './server.js';
import { loadParserEngine } from './syntax/load-parser-engine.js';

const argv = process.argv.slice(2);
try {
  await loadParserEngine();
} catch (error) {
  process.stderr.write(`choppa-lsp: no Python parser loads: ${(error as Error).message}\n`);
  process.exit(2);
}
if (argv.includes('--stdio')) {
  // Invariant: in server mode nothing else writes to stdout; stray console output goes to stderr.
  console.log = console.error;
  console.info = console.error;
  startServer();
} else {
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
