// Neovim and the cluster (issue 11), on every Neovim version, against the emulator:
// `:Choppa clusters` offers the clusters (running first) in vim.ui.select and sets the picked
// one's id on the `Choppa(...)` line; `require('choppa').status()` shows its name and state.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/emulator.js';
import { createSandbox, missingEditor, REPO_ROOT, reportMissing, SERVER_JS, type Sandbox } from './support/headless-env.js';
import { NEOVIMS, type ScenarioResult } from './support/neovim.js';

const INSTALL = 'scripts/install-neovim.sh';

describe.each(NEOVIMS)('Neovim $label clusters', ({ label, binary }) => {
  const missing = missingEditor(binary, INSTALL);
  if (reportMissing(missing)) return;

  let emulator: Emulator;
  let sandbox: Sandbox;
  let result: ScenarioResult;
  beforeAll(async () => {
    emulator = await startEmulator({
      clusters: [
        { cluster_id: '0103-333333-gamma', cluster_name: 'gamma', state: 'TERMINATED' },
        { cluster_id: '0101-111111-alpha', cluster_name: 'alpha', state: 'RUNNING' },
      ],
    });
    sandbox = createSandbox(`choppa-nvim-clusters-${label}-`);
    writeFileSync(sandbox.file, ['from choppa import Choppa', '', 'dutch = Choppa(cluster_id="0103-333333-gamma")', '', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n'));
    const results = join(sandbox.dir, 'results.json');
    const child = spawn(binary, ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${join(REPO_ROOT, 'test/editors/support/neovim-clusters.lua')}`], {
      cwd: sandbox.project,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...sandbox.env,
        DATABRICKS_HOST: emulator.url,
        DATABRICKS_TOKEN: emulator.token,
        CHOPPA_PLUGIN: join(REPO_ROOT, 'client-neovim'),
        CHOPPA_FILE: sandbox.file,
        CHOPPA_RESULTS: results,
        CHOPPA_SERVER_CMD: JSON.stringify([process.execPath, SERVER_JS, '--stdio']),
      },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exitCode = await new Promise<number | null>((done) => {
      const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        done(code);
      });
    });
    const parsed = existsSync(results) ? (JSON.parse(readFileSync(results, 'utf8')) as ScenarioResult) : { version: '?', steps: [], notifications: [] };
    result = { ...parsed, steps: Array.isArray(parsed.steps) ? parsed.steps : [], exitCode, stderr };
  }, 90_000);
  afterAll(async () => {
    sandbox?.remove();
    await emulator?.stop();
  });

  function step<T>(name: string): T {
    const found = result.steps.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`step "${name}" did not run (exit ${result.exitCode}):\n${result.stderr}`);
    if (!found.ok) throw new Error(`step "${name}" failed: ${String(found.detail)}\n${result.stderr}`);
    return found.detail as T;
  }

  it(':Choppa clusters lists running clusters first and sets the picked id on the Choppa line', () => {
    step('attach');
    const { menu, lines } = step<{ menu: string[]; lines: string[] }>('Choppa clusters picks alpha');
    expect(menu[0]).toMatch(/^alpha {2}RUNNING · Python 3\.12 {2}\(0101-111111-alpha\)$/);
    expect(menu[1]).toMatch(/^gamma {2}TERMINATED/);
    expect(lines[2]).toBe('dutch = Choppa(cluster_id="0101-111111-alpha")');
  });

  it("require('choppa').status() shows the buffer's cluster and its state", () => {
    expect(step<{ text: string }>('status shows the cluster').text).toBe('alpha RUNNING');
  });
});
