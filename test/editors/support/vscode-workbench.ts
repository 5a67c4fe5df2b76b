// Driving the VS Code workbench (code-server in headless Chromium) the way a user does:
// quick open, go to line, the command palette, code actions, code lenses and hovers. Every step
// waits for what it expects in the DOM, never for a time.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';

/** Long enough for a cold extension host and a first python3 start on a busy machine. */
export const UI_TIMEOUT = 60_000;

export function screenshotter(page: Page, dir: string): (name: string) => Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let step = 0;
  return async (name) => {
    step += 1;
    const path = join(dir, `${String(step).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path });
    return path;
  };
}

async function quickInput(page: Page, keys: string, text: string, pick: string | RegExp): Promise<void> {
  await page.keyboard.press(keys);
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await page.keyboard.type(text);
  await widget.locator('.monaco-list-row', { hasText: pick }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
}

/** Opens a workspace file with Quick Open and waits for a line of it to be rendered. */
export async function openFile(page: Page, name: string, someLine: string): Promise<void> {
  await quickInput(page, 'Control+P', name, name);
  await line(page, someLine).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
}

/** Runs a command-palette entry by its full title (`Choppa: Show Run Output`). */
export async function palette(page: Page, title: string): Promise<void> {
  await quickInput(page, 'F1', title, title);
}

/** Moves the cursor with Go to Line (1-based line and column) and reveals the line. */
export async function gotoLine(page: Page, lineNumber: number, column: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await page.keyboard.type(`${lineNumber}:${column}`);
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
}

/** The rendered editor line holding `text` (in the active editor's code, not the panel). */
export function line(page: Page, text: string): Locator {
  return page.locator('.editor-group-container .view-line', { hasText: text }).first();
}

/** The code-action menu (not its submenu panel, which shares the class). */
export function actionMenu(page: Page): Locator {
  return page.locator('.action-widget:not(.action-list-submenu-panel)');
}

/** The text of rendered editor lines, with Monaco's non-breaking spaces made plain. */
export async function linesText(lines: Locator): Promise<string> {
  return (await lines.innerText()).replace(/\u00a0/g, ' ');
}

/** Opens the code-action menu at the cursor and picks the action titled `title`. */
export async function codeAction(page: Page, title: string): Promise<void> {
  await page.keyboard.press('Control+.');
  const menu = actionMenu(page);
  await menu.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await menu.locator('.monaco-list-row', { hasText: title }).first().click();
  await menu.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
}

/** The code lens titled `title`, once the server has sent it. */
export function codeLens(page: Page, title: string): Locator {
  return page.locator('.codelens-decoration a', { hasText: title }).first();
}

/** The "⋯ more" lens in the lens row of function `name`. */
export function moreLens(page: Page, name: string): Locator {
  // The run lens of any kind (`Run f remotely`, `Run f as artifact`, `Submit f as a job`) sits beside it.
  return page.locator('.codelens-decoration', { hasText: new RegExp(`(Run|Submit) ${name} `) }).first().locator('a', { hasText: '⋯ more' });
}

/**
 * Hovers the token `word` on the rendered line holding `lineText` until the hover contains
 * `expected` (a hover opened before the result arrived is closed by moving away, then reopened).
 */
export async function hoverWord(page: Page, lineText: string, word: string, expected: string | RegExp): Promise<Locator> {
  const token = line(page, lineText).locator('span > span', { hasText: new RegExp(`^${word}$`) }).first();
  const hover = page.locator('.monaco-hover', { hasText: expected }).first();
  const deadline = Date.now() + UI_TIMEOUT;
  for (;;) {
    const box = await token.boundingBox();
    if (!box) throw new Error(`${word} is not rendered on the line "${lineText}"`);
    await page.mouse.move(box.x + box.width / 2, box.y - 150);
    await page.locator('.monaco-hover:visible').first().waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    await page.locator('.monaco-hover:visible').first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    try {
      await hover.waitFor({ state: 'visible', timeout: Math.max(1, Math.min(5_000, deadline - Date.now())) });
      return hover;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
  }
}
