// The VS Code client and the cluster (issue 11), end to end: the packaged .vsix in code-server,
// driven in headless Chromium, against the emulator with a running cluster, a terminated one and
// one the token's user may not attach to. The status bar shows the file's cluster and its state
// (coloured while it is not running); clicking it lists the clusters running first and picking
// one rewrites `cluster_id=` in the file; the "Choppa" view lists the clusters and uses one in
// the file from its inline action; completion inside `cluster_id="` offers the clusters.
// Screenshots go to test/.artifacts/vscode-clusters/ (docs/vscode-cluster-*.png are two of them,
// for the README).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/emulator.js';
import { INSTALL_SCRIPT, missingVscodeTools } from './support/code-server.js';
import { launchWorkbench, type Workbench } from './support/vscode-launch.js';
import { codeAction, codeLens, gotoLine, line, openFile, palette, UI_TIMEOUT } from './support/vscode-workbench.js';

const SETUP_TIMEOUT = 240_000;
const STEP_TIMEOUT = 120_000;
const missing = missingVscodeTools();

const ALPHA = '0101-111111-alpha';
const GAMMA = '0103-333333-gamma';
const THEIRS = '0102-222222-theirs';
const CHOPPA_LINE = (id: string): string => `dutch = Choppa(cluster_id="${id}")`;
const SOURCE = ['from choppa import Choppa', '', CHOPPA_LINE(GAMMA), '', '', '@dutch.remote', 'def add(a, b):', '    return a + b', '', '', '@dutch.submit', 'def nightly():', '    return 42', '', '', 'print(add(1, 2))', ''].join('\n');

if (missing && process.env.CI) {
  it('VS Code clusters end-to-end: code-server and chromium are installed', () => {
    throw new Error(`${missing} (CI must run ${INSTALL_SCRIPT} first)`);
  });
}

describe.skipIf(missing !== undefined)(`VS Code (code-server) and the cluster${missing ? ` — skipped: ${missing}` : ''}`, { timeout: STEP_TIMEOUT }, () => {
  let emulator: Emulator;
  let workbench: Workbench;
  let page: Page;
  let file: string;
  let shot: (name: string) => Promise<string>;

  /** The Choppa cluster item of the status bar (the runs item next to it says "Choppa"). */
  const clusterItem = (): Locator => page.locator('.statusbar-item').filter({ hasText: /\b(RUNNING|TERMINATED|PENDING|ERROR)\b|no such cluster|pick a cluster/ }).first();

  /** Each row's label and description, as `label | description` (the DOM joins them without a space). */
  const labelled = async (rows: Locator): Promise<string[]> =>
    Promise.all(
      (await rows.all()).map(async (row) => {
        // allInnerTexts does not wait (a row without a description has none); the first label is
        // the item's, a quick pick's detail line has its own.
        const name = ((await row.locator('.label-name').allInnerTexts())[0] ?? '').trim();
        const description = ((await row.locator('.label-description').allInnerTexts())[0] ?? '').trim();
        return description ? `${name} | ${description}` : name;
      }),
    );

  beforeAll(async () => {
    emulator = await startEmulator({
      clusters: [
        { cluster_id: GAMMA, cluster_name: 'gamma', state: 'TERMINATED' },
        { cluster_id: THEIRS, cluster_name: 'theirs', state: 'RUNNING', single_user_name: 'other@example.com' },
        { cluster_id: ALPHA, cluster_name: 'alpha', state: 'RUNNING' },
      ],
    });
    workbench = await launchWorkbench({
      name: 'vscode-clusters',
      prepare: (root, dirs) => {
        // The workspace comes from the default profile of the private HOME's config file, as a
        // user's does; the token is the emulator's.
        writeFileSync(join(dirs.home, '.databrickscfg'), `[DEFAULT]\nhost = ${emulator.url}\ntoken = ${emulator.token}\n`, { mode: 0o600 });
        const project = join(root, 'project');
        mkdirSync(project, { recursive: true });
        writeFileSync(join(project, 'pyproject.toml'), '[project]\nname = "clusters"\n');
        file = join(project, 'clusters.py');
        writeFileSync(file, SOURCE);
        return project;
      },
      waitForFile: 'clusters.py',
    });
    ({ page, shot } = workbench);
    expect(workbench.installed).toMatch(/successfully installed/i);
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    await workbench?.close();
    await emulator?.stop();
  }, SETUP_TIMEOUT);

  it("shows the file's cluster and its state in the status bar, coloured while it is terminated", async () => {
    await openFile(page, 'clusters.py', 'def add(a, b):');
    const item = clusterItem();
    await expect.poll(() => item.innerText().catch(() => ''), { timeout: UI_TIMEOUT }).toContain('gamma TERMINATED');
    // A terminated cluster gets the warning background (VS Code's `warning-kind` class).
    expect(await item.getAttribute('class')).toMatch(/\bwarning-kind\b/);
    await shot('status-bar-terminated');
  });

  it('lists the clusters running first from the status bar and writes the picked id into cluster_id=', async () => {
    await clusterItem().click();
    const pick = page.locator('.quick-input-widget');
    const rows = pick.locator('.monaco-list-row');
    await rows.filter({ hasText: 'gamma' }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await labelled(rows)).toEqual(['alpha | RUNNING · 16.4.x-scala2.12 · Python 3.12', 'theirs | RUNNING · 16.4.x-scala2.12 · Python 3.12', 'gamma | TERMINATED · 16.4.x-scala2.12 · Python 3.12']);
    expect(await rows.filter({ hasText: 'theirs' }).innerText()).toContain(`${THEIRS} · you may not attach to it`);
    // Past its fade-in, so the screenshot shows it opaque.
    await expect.poll(() => pick.evaluate((element) => (globalThis as unknown as { getComputedStyle(node: unknown): { opacity: string } }).getComputedStyle(element).opacity), { timeout: UI_TIMEOUT }).toBe('1');
    await shot('cluster-pick');
    await rows.filter({ hasText: 'alpha' }).first().click();
    await pick.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await line(page, CHOPPA_LINE(ALPHA)).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await page.keyboard.press('Control+S');
    await expect.poll(() => readFileSync(file, 'utf8'), { timeout: UI_TIMEOUT }).toBe(SOURCE.replace(GAMMA, ALPHA));
    const item = clusterItem();
    await expect.poll(() => item.innerText(), { timeout: UI_TIMEOUT }).toContain('alpha RUNNING');
    expect(await item.getAttribute('class')).not.toMatch(/\b(warning|error)-kind\b/);
  });

  it('lists the clusters and a finished run in the Choppa view, and uses a cluster in the file from its inline action', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Choppa"]').first().click();
    const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Clusters and Runs/i }) }).first();
    const rows = view.locator('.monaco-list-row');
    await rows.filter({ hasText: 'gamma' }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const texts = await labelled(rows);
    expect(texts.slice(0, 4)).toEqual(['Clusters', 'alpha | RUNNING · 16.4.x-scala2.12 · Python 3.12', 'theirs | RUNNING · 16.4.x-scala2.12 · Python 3.12', 'gamma | TERMINATED · 16.4.x-scala2.12 · Python 3.12']);
    expect(texts).toContain('Recent runs');
    expect(texts).toContain('No runs yet in this window');
    // A run on alpha (the emulator runs it in a real python3) lands under "Recent runs".
    await gotoLine(page, SOURCE.split('\n').indexOf('print(add(1, 2))') + 1, 8);
    await codeAction(page, 'Run add(1, 2) remotely');
    await expect.poll(() => labelled(rows), { timeout: UI_TIMEOUT }).toContain('add(1, 2) | 3');
    // It ran on the workspace, not on the local backend.
    expect(emulator.stats.count('POST', /contexts\/create/)).toBeGreaterThan(0);
    const gamma = rows.filter({ hasText: 'gamma' }).first();
    await gamma.hover();
    await gamma.locator('.action-label[aria-label="Use in This File"]').click();
    await line(page, CHOPPA_LINE(GAMMA)).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect.poll(() => clusterItem().innerText(), { timeout: UI_TIMEOUT }).toContain('gamma TERMINATED');
    await shot('choppa-view');
  });

  it('completes cluster ids inside cluster_id="" with the clusters, running first', async () => {
    await page.mouse.move(700, 600);
    // Just inside the opening quote: the item replaces the whole id.
    await gotoLine(page, 3, CHOPPA_LINE('').indexOf('"') + 2);
    const suggest = page.locator('.suggest-widget');
    const rows = suggest.locator('.monaco-list-row');
    await expect.poll(async () => {
      await page.keyboard.press('Control+Space');
      await suggest.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
      return rows.filter({ hasText: 'alpha' }).count();
    }, { timeout: UI_TIMEOUT }).toBeGreaterThan(0);
    const labels = (await rows.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
    expect(labels[0]).toMatch(/^alpha\b.*RUNNING/);
    expect(labels.some((text) => /^gamma\b.*TERMINATED/.test(text))).toBe(true);
    await shot('cluster-completion');
    await page.keyboard.press('Escape');
    await suggest.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  });

  it("starts a terminated cluster from the view's inline action and restarts a warm context from its menu", async () => {
    const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Clusters and Runs/i }) }).first();
    const rows = view.locator('.monaco-list-row');
    const gamma = rows.filter({ hasText: 'gamma' }).first();
    await gamma.hover();
    await gamma.locator('.action-label[aria-label="Start Cluster"]').click();
    // The file names gamma: the status bar follows it to RUNNING, without the warning colour.
    await expect.poll(() => clusterItem().innerText(), { timeout: UI_TIMEOUT }).toContain('gamma RUNNING');
    expect(await clusterItem().getAttribute('class')).not.toMatch(/\b(warning|error)-kind\b/);
    await expect.poll(() => labelled(rows), { timeout: UI_TIMEOUT }).toContain('gamma | RUNNING · 16.4.x-scala2.12 · Python 3.12');
    expect(emulator.stats.count('POST', /clusters\/start/)).toBe(1);

    // alpha holds the warm context of the earlier run: its menu destroys it.
    await rows.filter({ hasText: 'alpha' }).first().click({ button: 'right' });
    const menu = page.locator('.context-view .monaco-menu');
    // The menu ignores a click that comes right after it opened: hovering focuses the item, Enter picks it.
    await menu.locator('.action-label', { hasText: 'Restart Execution Context' }).hover();
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'execution context on cluster' }).first();
    await toast.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await toast.innerText()).toContain(`the execution context on cluster ${ALPHA} was destroyed; the next run starts a fresh interpreter`);
    // Said once (by the server), not repeated by the extension.
    expect(await page.locator('.notifications-toasts .notification-toast', { hasText: 'execution context on cluster' }).count()).toBe(1);
    expect(emulator.stats.count('POST', /contexts\/destroy/)).toBe(1);
    await shot('started-and-restarted');
  });

  it("opens a cluster's page in the browser from the view's menu", async () => {
    const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Clusters and Runs/i }) }).first();
    await view.locator('.monaco-list-row', { hasText: 'alpha' }).first().click({ button: 'right' });
    const menu = page.locator('.context-view .monaco-menu');
    await menu.locator('.action-label', { hasText: 'Open Cluster Page' }).hover();
    const opened = page.context().waitForEvent('page', { timeout: UI_TIMEOUT });
    await page.keyboard.press('Enter');
    // VS Code asks before it opens a site outside its trusted domains (a loopback one it opens at once).
    const dialog = page.locator('.monaco-dialog-box');
    const confirmed = dialog
      .waitFor({ state: 'visible', timeout: UI_TIMEOUT })
      .then(() => dialog.locator('.monaco-button', { hasText: /^Open$/ }).click())
      .then(() => opened, () => opened);
    const tab = await Promise.race([opened, confirmed]);
    // code-server serves a loopback address through its own port proxy (`/proxy/<port>/`); a
    // workspace's https address would open as it is.
    const port = new URL(emulator.url).port;
    const clusterPage = `#setting/clusters/${ALPHA}/configuration`;
    const proxied = new RegExp(`^http://127\\.0\\.0\\.1:\\d+/proxy/${port}/${clusterPage}$`);
    expect(tab.url() === `${emulator.url}/${clusterPage}` || proxied.test(tab.url()), tab.url()).toBe(true);
    await tab.close();
  });

  it('lists a job submitted from a lens under "Submitted jobs", after a refresh', async () => {
    await page.mouse.move(700, 600);
    await codeLens(page, 'Submit nightly as a job').click();
    const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Clusters and Runs/i }) }).first();
    const rows = view.locator('.monaco-list-row');
    await rows.filter({ hasText: 'Submitted jobs' }).first().click();
    await expect
      .poll(async () => {
        // The view is alone in its container: its title actions sit in the side bar's title.
        await page.locator('.part.sidebar .action-label[aria-label="Refresh Clusters and Jobs"]:visible').first().click();
        return (await labelled(rows)).find((text) => text.startsWith('nightly #'));
      }, { timeout: UI_TIMEOUT, interval: 1_000 })
      .toMatch(/^nightly #\d+ \| SUCCESS · \d+\.\d s$/);
    await shot('submitted-job');
  });

  it('restarts the language server from the palette; the new one lists the clusters again', async () => {
    const askedWhoAmI = emulator.stats.count('GET', /scim\/v2\/Me/);
    await palette(page, 'Choppa: Restart Language Server');
    // A new server process asks the workspace who the token's user is once more.
    await expect.poll(() => emulator.stats.count('GET', /scim\/v2\/Me/), { timeout: UI_TIMEOUT }).toBeGreaterThan(askedWhoAmI);
    await expect.poll(() => clusterItem().innerText(), { timeout: UI_TIMEOUT }).toContain('gamma RUNNING');
  });
});
