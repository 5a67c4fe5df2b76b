#!/usr/bin/env node
// Launcher kept in git so npm can link the bin before the build has run. CommonJS, as is the
// CLI daemon's client it loads first for `run` and `artifact` (`dist/cli-daemon-client.cjs`): node
// starts a CommonJS entry a few milliseconds sooner than a module, and a warm run through the daemon
// loads nothing else. Anything else, or a run no daemon takes, runs the bundled server and CLI
// (`scripts/bundle.mjs`), a few files to load rather than every module of `dist/`.
'use strict';
const { join } = require('node:path');

const command = process.argv[2];
const root = join(__dirname, '..');
const daemon = command === 'run' || command === 'artifact' ? require('../dist/cli-daemon-client.cjs').runThroughDaemon(process.argv.slice(2), __filename, root) : Promise.resolve(undefined);
daemon.then((code) => {
  if (code === undefined) return import('../dist/choppa-lsp.bundle.js');
  // Everything is written (the client writes stdout and stderr synchronously, and waits for any
  // that had to go through node's streams): leave without the teardown of handles nobody waits for.
  process.exit(code);
});
