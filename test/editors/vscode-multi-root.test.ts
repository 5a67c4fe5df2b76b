// VS Code with a multi-root workspace (a `.code-workspace` of two project folders, each with its
// own helpers.py and the same code importing it): each folder's run ships its own helpers.py and
// its result shows on its own file. Before, the second folder's run shipped the first's module.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingVscodeTools } from './support/code-server.js';
import { launchWorkbench, type Workbench } from './support/vscode-launch.js';
import { codeAction, codeLens, gotoLine, hoverWord, line, openFile, UI_TIMEOUT } from './support/vscode-workbench.js';

const SETUP_TIMEOUT = 240_000;
const missing = missingVscodeTools();
const SOURCE = (project: string): string[] => [`# the ${project} project`, 'from choppa import Choppa', '', 'dutch = Choppa()', '', '@dutch.remote', 'def which():', '    import helpers', '    return helpers.val()', '', 'print(which())', ''];

describe.skipIf(missing !== undefined)(`VS Code multi-root workspace${missing ? ` — skipped: ${missing}` : ''}`, { timeout: 180_000 }, () => {
  let workbench: Workbench;
  let page: Page;

  beforeAll(async () => {
    workbench = await launchWorkbench({
      name: 'vscode-multi-root',
      prepare: (root) => {
        for (const [folder, file, label] of [['alpha-project', 'alpha.py', 'A'], ['beta-project', 'beta.py', 'B']] as const) {
          mkdirSync(join(root, folder));
          writeFileSync(join(root, folder, 'helpers.py'), `def val():\n    return "from ${label}"\n`);
          writeFileSync(join(root, folder, file), SOURCE(folder).join('\n'));
        }
        const workspace = join(root, 'projects.code-workspace');
        writeFileSync(workspace, JSON.stringify({ folders: [{ path: 'alpha-project' }, { path: 'beta-project' }] }));
        return workspace;
      },
      waitForFile: 'alpha-project',
    });
    page = workbench.page;
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    await workbench?.close();
  }, SETUP_TIMEOUT);

  async function open(file: string): Promise<void> {
    // Away from any hover, so quick open gets the keys.
    await page.mouse.move(5, 5);
    await page.keyboard.press('Escape');
    await openFile(page, file, `# the ${file.replace('.py', '')}-project project`);
  }

  async function runWhich(file: string, expected: string): Promise<string> {
    await open(file);
    // The lens says the server has the file analysed: code actions asked before would be empty.
    await codeLens(page, 'Run which remotely').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await gotoLine(page, SOURCE('').indexOf('print(which())') + 1, 'print('.length + 1);
    await codeAction(page, 'Run which() remotely');
    const hover = await hoverWord(page, 'def which():', 'which', new RegExp(`which\\(\\) → '`));
    const text = await hover.innerText();
    await workbench.shot(`ran-${file}`);
    expect(text).toContain(expected);
    return text;
  }

  it("runs the second folder's function with the second folder's helpers.py", async () => {
    await runWhich('beta.py', "which() → 'from B'");
  });

  it("runs the first folder's with its own, and each file keeps its result", async () => {
    await runWhich('alpha.py', "which() → 'from A'");
    await page.mouse.move(5, 5);
    await page.locator('.tabs-container .tab', { hasText: 'beta.py' }).first().click();
    await line(page, '# the beta-project project').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const hover = await hoverWord(page, 'def which():', 'which', /which\(\) → '/);
    expect(await hover.innerText()).toContain("which() → 'from B'");
  });
});
