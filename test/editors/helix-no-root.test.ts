// Helix on a folder with no root marker (no .git, no pyproject.toml): it sends `rootUri: null` and
// no workspace folders, and a function importing a module beside it must still ship that module,
// as `python pipeline.py` would find it (it failed with ModuleNotFoundError before).
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, missingEditor, reportMissing, SERVER_JS, waitFor, type Sandbox } from './support/headless-env.js';
import { HELIX, configureHelix, startHelix, type HelixSession } from './support/helix.js';

const source = ['from choppa import Choppa', '', 'dutch = Choppa()', '', '@dutch.remote', 'def add(a, b):', '    import helpers', '    return helpers.plus(a, b)', '', 'print(add(1, 2))', ''].join('\n');

describe('Helix with no root marker', () => {
  const missing = missingEditor(HELIX, 'scripts/install-helix.sh') ?? missingEditor('/usr/bin/tmux', 'scripts/install-helix.sh');
  if (reportMissing(missing)) return;

  let sandbox: Sandbox;
  let helix: HelixSession | undefined;

  beforeAll(async () => {
    sandbox = createSandbox('choppa-helix-noroot-');
    rmSync(join(sandbox.project, 'pyproject.toml'));
    writeFileSync(sandbox.file, source);
    writeFileSync(join(sandbox.project, 'helpers.py'), 'def plus(a, b):\n    return a + b + 100\n');
    configureHelix(sandbox);
    // This checkout's server, as the `choppa-lsp` the documented languages.toml runs.
    const bin = join(sandbox.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'choppa-lsp'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(SERVER_JS)} "$@"\n`);
    chmodSync(join(bin, 'choppa-lsp'), 0o755);
    sandbox.env.PATH = `${bin}:${sandbox.env.PATH}`;
    helix = await startHelix(sandbox, `choppa-noroot-${process.pid}`);
  }, 120_000);

  afterAll(async () => {
    await helix?.quit();
    sandbox?.remove();
  });

  it('sends no root, and runs add(1, 2) with the helpers.py beside it', async () => {
    const { tmux, logText } = helix!;
    expect(logText()).toMatch(/"rootUri":null/);
    tmux.send(['/']);
    tmux.send(['add\\(1, 2\\)'], true);
    tmux.send(['Enter']);
    tmux.send(['g', 'h']);
    let menu = '';
    for (let attempt = 0; attempt < 3 && !menu.includes('Run add(1, 2) remotely'); attempt += 1) {
      if (attempt > 0) await tmux.escape();
      tmux.send(['Space', 'a']);
      menu = await tmux.waitForScreen('the code-action menu', (screen) => screen.includes('Run add(1, 2) remotely'), 5_000).catch(() => '');
    }
    const items = menu.split('\n').filter((line) => /(Run|Submit|Dereference) /.test(line));
    const index = items.findIndex((line) => line.includes('Run add(1, 2) remotely'));
    expect(index, tmux.screen()).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < index; i += 1) tmux.send(['Down']);
    tmux.send(['Enter']);
    const outcome = await waitFor('the run to end', () => (logText().includes('add(1, 2) → 103') ? 'ok' : logText().includes('ModuleNotFoundError') ? 'ModuleNotFoundError' : undefined));
    expect(outcome).toBe('ok');
  }, 60_000);
});
