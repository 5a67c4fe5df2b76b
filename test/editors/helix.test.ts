// Helix 25.01 end to end, in tmux, with the server from `npm install -g` of the packed package and
// the documented languages.toml (which keeps Helix's own Python servers): `space a` at the start
// of the line of `add(1, 2)` offers "Run add(1, 2) remotely", the result `add(1, 2) → 3` is a HINT
// in the diagnostics picker (`space d`), the progress token is readable, a function with required
// parameters says how to give them in Helix, and a dereferenced preview is announced with its
// path. Helix has no lenses.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, missingEditor, reportMissing, waitFor, type Sandbox } from './support/headless-env.js';
import { HELIX, configureHelix, startHelix, type HelixSession } from './support/helix.js';
import type { TmuxSession } from './support/tmux.js';
import { installServerGlobally, pathWithout } from '../support/packaging.js';

const INSTALL = 'scripts/install-helix.sh';
const RUN_ADD = 'Run add(1, 2) remotely';

describe('Helix', () => {
  const missing = missingEditor(HELIX, INSTALL) ?? missingEditor('/usr/bin/tmux', INSTALL);
  if (reportMissing(missing)) return;

  let sandbox: Sandbox;
  let helix: HelixSession | undefined;
  let tmux: TmuxSession | undefined;
  let logText: () => string;

  beforeAll(async () => {
    sandbox = createSandbox('choppa-helix-');
    configureHelix(sandbox);
    // The README's install: the server from `npm install -g` (no compiler), found by the
    // documented `command = "choppa-lsp"`, not the repository's linked bin.
    sandbox.env.PATH = pathWithout([installServerGlobally(sandbox.dir)], sandbox.env.PATH);
    helix = await startHelix(sandbox, `choppa-test-${process.pid}`);
    ({ tmux, logText } = helix);
  }, 300_000);

  afterAll(async () => {
    await helix?.quit();
    sandbox?.remove();
  });

  it("keeps Helix's own Python servers in the documented languages.toml", () => {
    const health = execFileSync(HELIX, ['--health', 'python'], { cwd: sandbox.project, env: sandbox.env, encoding: 'utf8' });
    const configured = health.slice(health.indexOf('Configured language servers'));
    for (const server of ['ruff', 'jedi', 'pylsp', 'choppa']) expect(configured).toContain(server);
  });

  it('offers the run as a code action from the start of the call line and shows the result as a hint', async () => {
    const session = tmux!;
    session.send(['/']);
    session.send(['add\\(1, 2\\)'], true);
    session.send(['Enter']);
    // Anywhere on the line will do: go to its first column.
    session.send(['g', 'h']);
    const callLine = readFileSync(sandbox.file, 'utf8').split('\n').findIndex((line) => line.includes('print(add(1, 2))')) + 1;
    await session.waitForScreen(`the cursor at the start of line ${callLine}`, (screen) => new RegExp(` ${callLine}:1\\s*$`, 'm').test(screen));

    session.send(['Space', 'a']);
    const menu = await session.waitForScreen('the code-action menu', (screen) => screen.includes(RUN_ADD));
    const items = menu.split('\n').filter((line) => /(Run|Dereference) /.test(line));
    // The server lists the plain run first; Helix preselects the first item of this menu.
    expect(items[0]).toContain(RUN_ADD);
    session.send(['Enter']);

    await waitFor('the result diagnostic to be published', () => (logText().includes('add(1, 2) → 3') ? true : undefined));
    session.send(['Space', 'd']);
    const picker = await session.waitForScreen('the diagnostic in the picker', (screen) => screen.includes('add(1, 2) → 3'));
    expect(picker).toMatch(/HINT\s+run-result\s+add\(1, 2\) → 3/);
    session.send(['Escape']);
    // The progress Helix prints as `[token] title`: a readable token, not a UUID.
    const tokens = [...logText().matchAll(/"token":"([^"]+)"/g)].map((match) => match[1]);
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) expect(token).toMatch(/^choppa-\d+$/);
  }, 60_000);

  async function pickAction(session: TmuxSession, search: string, title: string): Promise<void> {
    await session.escape();
    session.send(['/']);
    session.send([search], true);
    session.send(['Enter']);
    const line = readFileSync(sandbox.file, 'utf8').split('\n').findIndex((text) => text.includes(search)) + 1;
    await session.waitForScreen(`the cursor on line ${line}`, (screen) => new RegExp(` ${line}:\\d+\\s*$`, 'm').test(screen));
    // The actions follow the stored results: a menu opened before they landed is asked again.
    let menu = '';
    for (let attempt = 0; attempt < 3 && !menu.includes(title); attempt += 1) {
      if (attempt > 0) await session.escape();
      session.send(['Space', 'a']);
      menu = await session.waitForScreen(`"${title}" in the menu`, (screen) => screen.includes(title), 5_000).catch(() => '');
    }
    const items = menu.split('\n').filter((text) => /(Run|Submit|Dereference|Show) /.test(text));
    const index = items.findIndex((text) => text.includes(title));
    expect(index, `"${title}" in the menu:\n${session.screen()}`).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < index; i += 1) session.send(['Down']);
    session.send(['Enter']);
  }

  it('says which arguments a function needs and how to give them in Helix', async () => {
    const session = tmux!;
    await pickAction(session, 'def ratio', 'Run ratio remotely');
    const screen = await session.waitForScreen('the message in the status line', (text) => text.includes('`ratio` needs values for `a`, `b`'));
    expect(screen).toContain('Helix actions take no arguments');
    await waitFor('the whole message in the log', () => (logText().includes('write a call such as `ratio(a=…, b=…)` in the file and run the action from its line (space a)') ? true : undefined));
  }, 60_000);

  it('announces a dereferenced preview with its path, since Helix cannot open it', async () => {
    const session = tmux!;
    await pickAction(session, 'def squares_table', 'Run squares_table as artifact');
    await waitFor('the artifact result', () => (logText().includes('squares_table() [artifact] → ArtifactRef') ? true : undefined));
    await pickAction(session, 'def squares_table', 'Dereference last artifact of squares_table');
    const screen = await session.waitForScreen('the preview message', (text) => text.includes('choppa: preview of squares_table-'));
    expect(screen).toMatch(/choppa: preview of squares_table-\S+\.pkl: \S*\.choppa\/artifacts\//);
    // The first lines of the preview come with it (Helix shows the first in the status line).
    await waitFor('the preview lines in the message', () => (/preview of squares_table-[^"]*\\nArtifactRef /.test(logText()) ? true : undefined));
  }, 60_000);
});
