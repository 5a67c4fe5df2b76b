// A server answers `initialize` without the Databricks backend's code (1.2 commands, jobs,
// artifact transfer), even with a workspace configured: it loads on the first run. The modules a
// server loads are seen through a loader hook (`test/support/module-log.mjs`), so this runs the
// built modules (`dist/main.js`) rather than the bundle the launcher runs, where the same imports
// stay lazy but are no files to see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, tempDir } from '../support/lsp-client.js';

const MODULES = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));
const HOOK = pathToFileURL(fileURLToPath(new URL('../support/module-log.mjs', import.meta.url))).href;
const BACKEND_CODE = ['backends/databricks/databricks-backend.js', 'backends/databricks/command-execution.js', 'backends/databricks/job-submission.js', 'backends/databricks/artifact-transfer.js'];

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'RUNNING' }] });
});
afterAll(async () => {
  await emulator.stop();
});

describe('server start', () => {
  it('answers initialize without the Databricks backend, which loads with the first run', async () => {
    const root = tempDir();
    const log = join(root, 'modules.log');
    writeFileSync(log, '');
    const editor = await EditorClient.start({
      root,
      command: [process.execPath, '--import', HOOK, MODULES, '--stdio'],
      env: {
        CHOPPA_MODULE_LOG: log,
        DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg'),
        DATABRICKS_HOST: emulator.url,
        DATABRICKS_TOKEN: emulator.token,
        DATABRICKS_CLUSTER_ID: DEFAULT_CLUSTER_ID,
      },
    });
    try {
      const loaded = (): string[] => readFileSync(log, 'utf8').split('\n');
      const atStart = loaded();
      expect(atStart.some((url) => url.endsWith('/server/dist/server.js'))).toBe(true);
      for (const module of BACKEND_CODE) expect(atStart.filter((url) => url.endsWith(`/server/dist/${module}`))).toEqual([]);

      const uri = await editor.open(join(root, 'jobs.py'), ['from choppa import Choppa', '', 'dutch = Choppa()', '', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n'));
      const result = await editor.executeCommand<{ status: string; value?: { json?: unknown }; backend?: string }>('choppa.run', { uri, function: 'add', args: '1, 2' });
      expect(result).toMatchObject({ status: 'ok', value: { json: 3 }, backend: `cluster ${DEFAULT_CLUSTER_ID}` });
      expect(loaded().some((url) => url.endsWith('/server/dist/backends/databricks/databricks-backend.js'))).toBe(true);
    } finally {
      await editor.stop();
    }
  }, 60_000);
});
