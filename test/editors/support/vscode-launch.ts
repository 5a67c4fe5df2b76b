// One VS Code workbench for an end-to-end test file: the packaged .vsix installed into a private
// code-server, quiet user settings, a workspace folder, and headless Chromium opened on it.
// Everything lives under one temp folder that `close` removes.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { packageVsix } from '../../support/packaging.js';
import { CHROMIUM, codeServerDirs, installExtension, REPO, startCodeServer, type CodeServerDirs, type RunningCodeServer } from './code-server.js';
import { screenshotter, UI_TIMEOUT } from './vscode-workbench.js';

export interface Workbench {
  root: string;
  dirs: CodeServerDirs;
  server: RunningCodeServer;
  page: Page;
  /** The install's output (`successfully installed` when it worked). */
  installed: string;
  /** Saves a numbered screenshot under test/.artifacts/<name>/ and returns its path. */
  shot: (name: string) => Promise<string>;
  close: () => Promise<void>;
}

export interface WorkbenchOptions {
  /** Temp folder prefix and test/.artifacts/ folder name. */
  name: string;
  /** Makes the workspace folder (or `.code-workspace` file) under `root` (and anything in the private HOME) and returns it. */
  prepare: (root: string, dirs: CodeServerDirs) => string;
  /** A file the explorer lists once the workbench is up. */
  waitForFile: string;
}

const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'window.restoreWindows': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export async function launchWorkbench(options: WorkbenchOptions): Promise<Workbench> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), `choppa-${options.name}-`)));
  let server: RunningCodeServer | undefined;
  let context: BrowserContext | undefined;
  const close = async (): Promise<void> => {
    // Playwright ends the Chromium it launched; code-server and its extension hosts go by PID.
    await context?.close();
    server?.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    // The .vsix is built from the server tsc -b just emitted (`npm test` runs tsc -b first). It is
    // the universal one: no native addon inside, so the server parses on WebAssembly.
    const dirs = codeServerDirs(root);
    const installed = await installExtension(dirs, packageVsix(join(root, 'choppa-lsp.vsix')));
    writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(QUIET_SETTINGS));
    const workspace = options.prepare(root, dirs);
    server = await startCodeServer(dirs, workspace);
    context = await chromium.launchPersistentContext(join(root, 'browser'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 960 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const shot = screenshotter(page, join(REPO, 'test', '.artifacts', options.name));
    // A `.code-workspace` file opens as a multi-root workspace, anything else as one folder.
    const opened = workspace.endsWith('.code-workspace') ? 'workspace' : 'folder';
    await page.goto(`${server.url}?${opened}=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: options.waitForFile }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    return { root, dirs, server, page, installed, shot, close };
  } catch (error) {
    await close();
    throw error;
  }
}
