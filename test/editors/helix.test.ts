// Helix 25.01 end to end, in tmux: with the server from `npm install -g` of the packed package
// and the documented languages.toml, `space a` at the call `add(1, 2)` offers "Run add(1, 2)
// remotely", and after picking it the result diagnostic `add(1, 2) → 3` is on screen in the
// diagnostics picker (`space d`). Helix has no lenses.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, missingEditor, waitFor, type Sandbox } from './support/headless-env.js';
import { HELIX, configureHelix } from './support/helix.js';
import { TmuxSession } from './support/tmux.js';
import { installServerGlobally, pathWithout } from '../support/packaging.js';

const INSTALL = 'scripts/install-helix.sh';
const RUN_ADD = 'Run add(1, 2) remotely';

describe('Helix', () => {
  const missing = missingEditor(HELIX, INSTALL) ?? missingEditor('/usr/bin/tmux', INSTALL);
  if (missing) {
    // Under CI a missing editor is a failure; elsewhere the skip says how to get it.
    it.skipIf(!process.env.CI)(missing, () => {
      expect.fail(missing);
    });
    return;
  }

  let sandbox: Sandbox;
  let tmux: TmuxSession | undefined;
  let log: string;
  const logText = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');

  beforeAll(async () => {
    sandbox = createSandbox('choppa-helix-');
    configureHelix(sandbox);
    // The README's install: the server from `npm install -g` (no compiler), found by the
    // documented `command = "choppa-lsp"`, not the repository's linked bin.
    sandbox.env.PATH = pathWithout([installServerGlobally(sandbox.dir)], sandbox.env.PATH);
    log = join(sandbox.dir, 'helix.log');
    tmux = TmuxSession.start({
      socket: `choppa-test-${process.pid}`,
      cwd: sandbox.project,
      env: { ...sandbox.env, TERM: 'xterm-256color' },
      width: 120,
      height: 30,
      command: [HELIX, '--log', log, '-v', 'pipeline.py'],
    });
    await tmux.waitForScreen('Helix to show the file', (screen) => screen.includes('def add(a, b):'));
    // Code actions asked for before the server has the document would come back empty.
    await waitFor('choppa-lsp to receive the document', () => (/choppa -> .*textDocument\/didOpen/.test(logText()) ? true : undefined));
  }, 300_000);

  afterAll(async () => {
    if (tmux) {
      tmux.send(['Escape']);
      tmux.send([':q!'], true);
      tmux.send(['Enter']);
      await tmux.stop();
    }
    sandbox?.remove();
  });

  it('offers the run as a code action at the call site and shows the result diagnostic', async () => {
    const session = tmux!;
    session.send(['/']);
    session.send(['add\\(1, 2\\)'], true);
    session.send(['Enter']);
    const callLine = readFileSync(sandbox.file, 'utf8').split('\n').findIndex((line) => line.includes('print(add(1, 2))')) + 1;
    await session.waitForScreen(`the cursor on line ${callLine}`, (screen) => new RegExp(` ${callLine}:\\d+\\s*$`, 'm').test(screen));

    session.send(['Space', 'a']);
    const menu = await session.waitForScreen('the code-action menu', (screen) => screen.includes(RUN_ADD));
    const items = menu.split('\n').filter((line) => /(Run|Dereference) /.test(line));
    // The server lists the plain run first; Helix preselects the first item of this menu.
    expect(items[0]).toContain(RUN_ADD);
    session.send(['Enter']);

    await waitFor('the result diagnostic to be published', () => (logText().includes('add(1, 2) → 3') ? true : undefined));
    session.send(['Space', 'd']);
    const picker = await session.waitForScreen('the diagnostic in the picker', (screen) => screen.includes('add(1, 2) → 3'));
    expect(picker).toMatch(/INFO\s+run-result\s+add\(1, 2\) → 3/);
    session.send(['Escape']);
  }, 60_000);
});
