// The `choppa-lsp` executable: `--stdio` serves LSP; anything else is the terminal CLI,
// which drives the same engine. Nothing here writes protocol traffic except the connection.
import { runCli } from './cli/cli.js';
import { startServer } from './server.js';

const argv = process.argv.slice(2);
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
