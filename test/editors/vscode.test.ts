// The VS Code client end to end: the packaged .vsix installed into code-server, driven in
// headless Chromium on a copy of examples/demo. One run lens and "⋯ more" per function; a code
// action runs `add(1, 2)`, the result is a hint whose hover adds to it instead of repeating it;
// a lens runs `ratio` with arguments typed into an input box that names them; the run log shows
// its output; a table-like artifact shows as a table in hover and in its preview, opened beside
// the code through "⋯ more"; nullable settings are editable in the Settings UI. Screenshots go
// to test/.artifacts/vscode/ (docs/ keeps three of them for the README).
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_SCRIPT, missingVscodeTools, REPO, type CodeServerDirs } from './support/code-server.js';
import { launchWorkbench, type Workbench } from './support/vscode-launch.js';
import { actionMenu, codeAction, codeLens, gotoLine, hoverWord, line, linesText, moreLens, openFile, palette, UI_TIMEOUT } from './support/vscode-workbench.js';

const SETUP_TIMEOUT = 240_000;
const STEP_TIMEOUT = 180_000;
const missing = missingVscodeTools();
const PIPELINE = readFileSync(join(REPO, 'examples', 'demo', 'pipeline.py'), 'utf8').split('\n');

/** Go to Line's 1-based line and column of `needle` in pipeline.py. */
function at(needle: string): [number, number] {
  const index = PIPELINE.findIndex((text) => text.includes(needle));
  if (index < 0) throw new Error(`${needle} is not in pipeline.py`);
  return [index + 1, PIPELINE[index]!.indexOf(needle) + 1];
}

if (missing && process.env.CI) {
  it('VS Code end-to-end: code-server and chromium are installed', () => {
    throw new Error(`${missing} (CI must run ${INSTALL_SCRIPT} first)`);
  });
}

describe.skipIf(missing !== undefined)(`VS Code (code-server) end to end${missing ? ` — skipped: ${missing}` : ''}`, { timeout: STEP_TIMEOUT }, () => {
  let workbench: Workbench;
  let root: string;
  let page: Page;
  let shot: (name: string) => Promise<string>;
  let dirs: CodeServerDirs;

  beforeAll(async () => {
    workbench = await launchWorkbench({
      name: 'vscode',
      // A copy, so the demo's .choppa/ state is neither read nor written.
      prepare: (folder) => {
        const workspace = join(folder, 'demo');
        cpSync(join(REPO, 'examples', 'demo'), workspace, { recursive: true, filter: (source) => !source.includes('.choppa') });
        // A folder setting, which VS Code gives the server for the window and for the folder alike.
        mkdirSync(join(workspace, '.vscode'), { recursive: true });
        writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'choppa.runs.maxParallel': 3 }));
        return workspace;
      },
      waitForFile: 'pipeline.py',
    });
    ({ root, page, shot, dirs } = workbench);
    expect(workbench.installed).toMatch(/successfully installed/i);
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    await workbench?.close();
  }, SETUP_TIMEOUT);

  it('opens pipeline.py with one run lens and a "⋯ more" lens per function', async () => {
    await openFile(page, 'pipeline.py', 'def add(a, b):');
    await codeLens(page, 'Run add remotely').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const row = page.locator('.codelens-decoration', { hasText: 'Run add remotely' }).first();
    expect((await row.locator('a').allInnerTexts()).map((title) => title.trim())).toEqual(['Run add remotely', '⋯ more']);
    await shot('opened-with-lenses');
  });

  it('installed the extension without a native addon; its server log says WebAssembly', async () => {
    const files = (readdirSync(dirs.extensions, { recursive: true }) as string[]).map(String);
    expect(files.some((file) => file.endsWith('tree-sitter-python.wasm'))).toBe(true);
    expect(files.filter((file) => file.endsWith('.node'))).toEqual([]);
    // The languageclient writes the server's window/logMessage lines to the `choppa-lsp` log.
    const serverLog = (): string =>
      (readdirSync(root, { recursive: true }) as string[])
        .map(String)
        .filter((file) => /choppa-lsp\.log$/.test(file))
        .map((file) => readFileSync(join(root, file), 'utf8'))
        .join('\n');
    await expect.poll(serverLog, { timeout: UI_TIMEOUT }).toMatch(/parser: web-tree-sitter [\d.]+ \(WebAssembly\)/);
    // VS Code's settings, pulled for the window and for the folder, raise no settings warning.
    expect(serverLog()).not.toMatch(/for itself|settings? w[ae]re? ignored/);
  });

  it('runs add(1, 2) from the call site\'s code action; the hover shows 3', async () => {
    await gotoLine(page, ...at('add(1, 2)'));
    await page.keyboard.press('Control+.');
    const menu = actionMenu(page);
    await menu.locator('.monaco-list-row', { hasText: 'Run add(1, 2) remotely' }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await shot('code-action-menu');
    await page.keyboard.press('Escape');
    await codeAction(page, 'Run add(1, 2) remotely');
    await gotoLine(page, ...at('add(a, b)'));
    // A hint: the result is not a problem, so the Problems count stays at zero.
    await expect.poll(() => page.locator('.editor-group-container .squiggly-hint').count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.editor-group-container .squiggly-info').count()).toBe(0);
    const hover = await hoverWord(page, 'def add(a, b):', 'add', /returned/);
    const text = await hover.innerText();
    // The diagnostic line says the call and the value once; the hover adds type, size and when.
    expect(text).toContain('add(1, 2) → 3');
    expect(text).toMatch(/returned int · \d+(\.\d)? B pickled \((just now|\d+ min ago)\)\./);
    expect(text).not.toMatch(/^3$/m);
    expect(text).not.toMatch(/\d{4}-\d\d-\d\dT/);
    await shot('hover-add-3');
  });

  it('asks for the arguments of ratio in an input box and runs it with them', async () => {
    await page.mouse.move(5, 400);
    await gotoLine(page, ...at('ratio(a, b)'));
    await codeLens(page, 'Run ratio remotely').click();
    const input = page.locator('.quick-input-widget');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect.poll(() => input.innerText(), { timeout: UI_TIMEOUT }).toContain('arguments for ratio(a, b)');
    expect(await input.innerText()).toContain('Values for a, b, as Python arguments');
    await page.keyboard.type('6, 3');
    await shot('input-box-ratio');
    await page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    const hover = await hoverWord(page, 'def ratio(a, b):', 'ratio', /returned/);
    const text = await hover.innerText();
    expect(text).toContain('ratio(6, 3) → 2.0');
    await shot('hover-ratio-2.0');
  });

  it('shows each run\'s output in the run log', async () => {
    await page.mouse.move(5, 400);
    await palette(page, 'Choppa: Show Run Output');
    const panel = page.locator('.part.panel');
    const lines = panel.locator('.view-lines').first();
    await expect.poll(() => linesText(lines), { timeout: UI_TIMEOUT }).toContain('stdout: dividing 6 by 3');
    const log = await linesText(lines);
    expect(log).toContain('ratio(6, 3) → 2.0');
    expect(log).toContain('add(1, 2) → 3');
    await shot('run-log');
  });

  it('lists recent runs from the status bar and pre-fills the last arguments', async () => {
    await page.locator('.statusbar-item', { hasText: 'Choppa' }).first().click();
    const pick = page.locator('.quick-input-widget');
    await pick.locator('.monaco-list-row', { hasText: 'ratio(6, 3)' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await shot('recent-runs');
    await page.keyboard.press('Escape');
    await pick.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await line(page, 'def ratio(a, b):').click();
    await codeLens(page, 'Run ratio remotely').click();
    await pick.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect.poll(() => pick.locator('input').first().inputValue(), { timeout: UI_TIMEOUT }).toBe('6, 3');
    await page.keyboard.press('Escape');
    await pick.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  });

  it('shows a table-like artifact as a table in hover, and opens its preview beside the code from "⋯ more"', async () => {
    await page.mouse.move(5, 400);
    await gotoLine(page, ...at('squares_table(rows=5)'));
    // An `@dutch.artifact` function's one run lens runs it as an artifact.
    await codeLens(page, 'Run squares_table as artifact').click();
    const hover = await hoverWord(page, 'def squares_table(rows=5):', 'squares_table', /5 rows × 2 columns/);
    // Rendered as a table: a header cell per column, a row per record.
    expect(await hover.locator('table th').allInnerTexts()).toEqual(['row', 'square']);
    expect(await hover.locator('table tr').count()).toBe(6);
    await shot('hover-table');
    await page.mouse.move(5, 400);
    const pick = page.locator('.quick-input-widget');
    await expect.poll(async () => {
      await moreLens(page, 'squares_table').click();
      const found = await pick.locator('.monaco-list-row', { hasText: 'Dereference last artifact of squares_table' }).count();
      if (found === 0) await page.keyboard.press('Escape');
      return found;
    }, { timeout: UI_TIMEOUT }).toBe(1);
    await pick.locator('.monaco-list-row', { hasText: 'Dereference last artifact of squares_table' }).click();
    await page.locator('.tab', { hasText: 'preview.md' }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(await page.locator('.editor-group-container').count()).toBe(2);
    const preview = page.locator('.editor-group-container').nth(1);
    // Monaco renders spaces as non-breaking ones.
    const previewText = async (): Promise<string> => (await preview.innerText()).replace(/\u00a0/g, ' ');
    await expect.poll(previewText, { timeout: UI_TIMEOUT }).toContain('| row | square |');
    expect(await previewText()).toContain('5 rows × 2 columns');
    await shot('artifact-table-preview');
  });

  it('lets the nullable settings be edited in the Settings UI', async () => {
    await palette(page, 'Preferences: Open User Settings');
    const editor = page.locator('.settings-editor');
    await editor.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await page.keyboard.type('choppa.clusterId');
    const item = editor.locator('.setting-item', { hasText: 'Cluster Id' }).first();
    await item.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect.poll(() => item.locator('input').count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(0);
    expect(await item.innerText()).not.toContain('Edit in settings.json');
    await shot('settings-ui-cluster-id');
  });
});
