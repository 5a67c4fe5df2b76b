// The editor's view of results made on another backend than the one runs go to now: a project run
// locally, then pointed at a Databricks workspace. The code actions do not offer to run "again
// (ignore cache)" over a local result the cache would not serve, and the run goes to the cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { CodeAction } from 'vscode-languageserver-protocol';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const source = [
  'from choppa import Choppa',
  '',
  `dutch = Choppa(cluster_id="${DEFAULT_CLUSTER_ID}")`,
  '',
  '@dutch.remote  # choppa: cache',
  'def lucky(n):',
  '    import random',
  '    return random.random() + n',
  '',
].join('\n');

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.stop();
});

interface RunResult {
  status: string;
  cached?: boolean;
  backend?: string;
}

async function actionTitles(editor: EditorClient, uri: string): Promise<string[]> {
  const at = positionOf(source, 'def lucky');
  const actions = await editor.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: at, end: at }, context: { diagnostics: [] } });
  return actions.map((action) => action.title);
}

describe('a result made on another backend than runs go to now', () => {
  it('is not offered as a cached result, and the run goes to the cluster', async () => {
    const root = tempDir();
    const noConfig = { DATABRICKS_CONFIG_FILE: join(root, 'no-databrickscfg') };
    const local = await EditorClient.start({ root, env: noConfig });
    try {
      const uri = await local.open(join(root, 'jobs.py'), source);
      await local.executeCommand<RunResult>('choppa.run', { uri, function: 'lucky', args: '1' });
      expect(await local.executeCommand<RunResult>('choppa.run', { uri, function: 'lucky', args: '1' })).toMatchObject({ cached: true });
      expect(await actionTitles(local, uri)).toContain('Run lucky again (ignore cache)');
    } finally {
      await local.stop();
    }
    const onCluster = await EditorClient.start({ root, env: { ...noConfig, DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token } });
    try {
      const uri = await onCluster.open(join(root, 'jobs.py'), source);
      expect(await actionTitles(onCluster, uri)).not.toContain('Run lucky again (ignore cache)');
      const result = await onCluster.executeCommand<RunResult>('choppa.run', { uri, function: 'lucky', args: '1' });
      expect(result).toMatchObject({ status: 'ok', backend: `cluster ${DEFAULT_CLUSTER_ID}` });
      expect(result.cached).toBeUndefined();
    } finally {
      await onCluster.stop();
    }
  }, 60_000);
});
