// Helix 25.01 and the cluster (issue 11), in tmux, against the emulator: on the `Choppa(...)` line
// `space a` offers the cluster's operations and "Use cluster <name>" for each running cluster the
// user may attach to (not the one of another user); picking one and `:w` writes its id into
// `cluster_id=`. The server is the repository's (first `choppa-lsp` on the sandbox PATH), found
// by the documented languages.toml.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/emulator.js';
import { BETA, CHOPPA_LINE, CLUSTER_ACTIONS, GAMMA, SOURCE, startClusterWorkspace } from './support/cluster-workspace.js';
import { createSandbox, missingEditor, reportMissing, waitFor, type Sandbox } from './support/headless-env.js';
import { HELIX, configureHelix, startHelix, type HelixSession } from './support/helix.js';

const INSTALL = 'scripts/install-helix.sh';
/** A cluster action's title on a menu line (the clusters here have one-word names). */
const CLUSTER_ACTION = /(?:Start cluster|Restart execution context on|Open cluster page of|Use cluster) \w+/;

describe('Helix clusters', () => {
  const missing = missingEditor(HELIX, INSTALL) ?? missingEditor('/usr/bin/tmux', INSTALL);
  if (reportMissing(missing)) return;

  let emulator: Emulator;
  let sandbox: Sandbox;
  let helix: HelixSession | undefined;

  beforeAll(async () => {
    emulator = await startClusterWorkspace();
    sandbox = createSandbox('choppa-helix-clusters-');
    configureHelix(sandbox);
    writeFileSync(sandbox.file, SOURCE);
    helix = await startHelix(sandbox, `choppa-test-clusters-${process.pid}`, { DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token });
  }, 120_000);

  afterAll(async () => {
    await helix?.quit();
    sandbox?.remove();
    await emulator?.stop();
  });

  it('offers "Use cluster <name>" on the Choppa line and writes the picked id into cluster_id=', async () => {
    const session = helix!.tmux;
    session.send(['/']);
    session.send(['Choppa\\('], true);
    session.send(['Enter']);
    await session.waitForScreen('the cursor on line 3', (screen) => / 3:\d+\s*$/m.test(screen));

    // The cluster list arrives with the first question: a menu opened before it lacks the picks.
    let menu = '';
    for (let attempt = 0; attempt < 5 && !menu.includes('Use cluster beta'); attempt += 1) {
      if (attempt > 0) await session.escape();
      session.send(['Space', 'a']);
      menu = await session.waitForScreen('"Use cluster beta" in the menu', (screen) => screen.includes('Use cluster beta'), 10_000).catch(() => '');
    }
    const items = menu.split('\n').flatMap((text) => CLUSTER_ACTION.exec(text)?.[0] ?? []);
    expect(items, menu).toEqual(CLUSTER_ACTIONS);
    for (let i = 0; i < items.indexOf('Use cluster beta'); i += 1) session.send(['Down']);
    session.send(['Enter']);
    await session.waitForScreen('the edited line', (screen) => screen.includes(CHOPPA_LINE(BETA)));
    await session.escape();
    session.send([':w'], true);
    session.send(['Enter']);
    // Helix saves by renaming a new file over the old one: for a moment there is none.
    const written = (): string | undefined => {
      try {
        return readFileSync(sandbox.file, 'utf8');
      } catch {
        return undefined;
      }
    };
    await waitFor('the written file', () => (written() === SOURCE.replace(GAMMA, BETA) ? true : undefined));
  }, 90_000);
});
