// Emacs and the cluster (issue 11), on Emacs 28 with eglot 1.9 and Emacs 30 with its own eglot,
// against the emulator: on the `Choppa(...)` line eglot's code actions offer the cluster's
// operations and "Use cluster <name>" for each running cluster the user may attach to (not
// another user's); picking "Use cluster beta" from `eglot-code-actions` and saving writes its id.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/emulator.js';
import { BETA, CHOPPA_LINE, CLUSTER_ACTIONS, SOURCE, startClusterWorkspace } from './support/cluster-workspace.js';
import { EMACSES, INSTALL } from './support/emacs.js';
import { createSandbox, missingEditor, REPO_ROOT, reportMissing, SERVER_JS, type Sandbox } from './support/headless-env.js';


describe.each(EMACSES)('Emacs $label clusters', ({ label, binary, needs }) => {
  const missing = missingEditor(binary, INSTALL) ?? missingEditor(needs, INSTALL);
  if (reportMissing(missing)) return;

  let emulator: Emulator;
  let sandbox: Sandbox;
  let result: { offered?: string[]; menu?: string[]; line?: string; error?: string };
  let output = '';
  beforeAll(async () => {
    emulator = await startClusterWorkspace();
    sandbox = createSandbox(`choppa-emacs-clusters-${label}-`);
    writeFileSync(sandbox.file, SOURCE);
    const results = join(sandbox.dir, 'results.json');
    const child = spawn(binary, ['--batch', '-Q', '-l', join(REPO_ROOT, 'test/editors/support/emacs-clusters.el')], {
      cwd: sandbox.project,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...sandbox.env,
        DATABRICKS_HOST: emulator.url,
        DATABRICKS_TOKEN: emulator.token,
        CHOPPA_REPO: REPO_ROOT,
        CHOPPA_FILE: sandbox.file,
        CHOPPA_RESULTS: results,
        CHOPPA_SERVER_CMD: JSON.stringify([process.execPath, SERVER_JS, '--stdio']),
      },
    });
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    await new Promise<void>((done) => {
      const timer = setTimeout(() => {
        output += '\n(killed after 120 s)';
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }, 120_000);
      child.on('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
    result = existsSync(results) ? (JSON.parse(readFileSync(results, 'utf8')) as typeof result) : { error: `no results:\n${output}` };
  }, 180_000);

  afterAll(async () => {
    sandbox?.remove();
    await emulator?.stop();
  });

  it('offers the cluster operations and "Use cluster" for the running clusters the user may attach to', () => {
    expect(result.error, output).toBeUndefined();
    const clusterActions = result.offered!.filter((title) => /cluster|execution context/i.test(title));
    expect(clusterActions).toEqual(CLUSTER_ACTIONS);
  });

  it('writes the picked cluster into cluster_id= when "Use cluster beta" is chosen from eglot-code-actions', () => {
    expect(result.error, output).toBeUndefined();
    expect(result.menu!.some((title) => title.startsWith('Use cluster beta'))).toBe(true);
    expect(result.line).toBe(CHOPPA_LINE(BETA));
    expect(readFileSync(sandbox.file, 'utf8').split('\n')[2]).toBe(CHOPPA_LINE(BETA));
  });
});
