// Submitted jobs through the server against the emulator's Jobs API: a dropped response after
// runs/submit created the run still ends with one run, serverless sends `environments` and no
// cluster, and a failed task lands as an Error at the raising line with the remote traceback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Diagnostic, Hover } from 'vscode-languageserver-protocol';
import { DEFAULT_CLUSTER_ID, startEmulator, type Emulator } from '../emulator/emulator.js';
import { EditorClient, positionOf, tempDir } from '../support/lsp-client.js';

const source = [
  'from choppa import Choppa',
  `dutch = Choppa(cluster_id="${DEFAULT_CLUSTER_ID}", artifact_dir="/Volumes/main/default/jobs")`,
  '',
  '@dutch.submit',
  'def train(epochs=2):',
  '    return {"epochs": epochs}',
  '',
  '@dutch.submit',
  'def broken():',
  '    data = {}',
  '    return data["missing"]',
  '',
].join('\n');

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.stop();
});

async function server(configuration?: unknown): Promise<{ editor: EditorClient; uri: string }> {
  const root = tempDir();
  const editor = await EditorClient.start({
    root,
    env: { DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CONFIG_FILE: join(root, 'none') },
    ...(configuration === undefined ? {} : { configuration }),
  });
  return { editor, uri: await editor.open(join(root, 'jobs.py'), source) };
}

const resultOf = (all: Diagnostic[]): Diagnostic | undefined => all.find((d) => d.code === 'run-result' || d.code === 'remote-error');

describe('submitting to Databricks through the server', () => {
  it('survives a response dropped after runs/submit created the run: one run in total', async () => {
    const { editor, uri } = await server();
    try {
      const before = emulator.jobRuns().length;
      emulator.faults.dropResponse({ method: 'POST', path: '/api/2.1/jobs/runs/submit' }, 1);
      const handle = await editor.executeCommand<{ status: string; runId: string; runPageUrl?: string }>('choppa.submit', { uri, function: 'train', args: '5' });
      expect(handle.status).toBe('submitted');
      expect(handle.runPageUrl).toBeDefined();
      expect(emulator.jobRuns().length).toBe(before + 1);
      const done = await editor.waitForDiagnostics(uri, (all) => resultOf(all) !== undefined);
      expect(resultOf(done)?.message).toMatch(/^train\(5\) \[artifact\] → ArtifactRef .* \(dict\) · .* · cluster /);
      expect(emulator.jobRuns().length).toBe(before + 1);
    } finally {
      emulator.faults.clear();
      await editor.stop();
    }
  });

  it('sends environments and no cluster when choppa.compute is serverless', async () => {
    const { editor, uri } = await server({ compute: 'serverless' });
    try {
      await editor.executeCommand('choppa.submit', { uri, function: 'train' });
      const body = emulator.jobRuns().at(-1)!.body as { environments?: unknown[]; tasks: Array<Record<string, unknown>> };
      expect(body.environments).toHaveLength(1);
      expect(body.tasks[0]!.existing_cluster_id).toBeUndefined();
      expect(body.tasks[0]!.environment_key).toBeDefined();
    } finally {
      await editor.stop();
    }
  });

  it('refuses a dbfs:/ artifact_dir on serverless before submitting, saying what to use', async () => {
    const root = tempDir();
    const editor = await EditorClient.start({
      root,
      env: { DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token, DATABRICKS_CONFIG_FILE: join(root, 'none') },
      configuration: { compute: 'serverless' },
    });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), source.replace('/Volumes/main/default/jobs', 'dbfs:/tmp/jobs'));
      const before = emulator.jobRuns().length;
      const result = await editor.executeCommand<{ status: string; error?: { type: string; message: string } }>('choppa.submit', { uri, function: 'train' });
      expect(result.error?.type).toBe('ConfigurationError');
      expect(result.error?.message).toContain('/Volumes/');
      expect(emulator.jobRuns().length).toBe(before);
    } finally {
      await editor.stop();
    }
  });

  it('shows a failed task as an Error at the raising line, with the remote traceback in hover', async () => {
    const { editor, uri } = await server();
    try {
      await editor.executeCommand('choppa.submit', { uri, function: 'broken' });
      const all = await editor.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'remote-error'));
      const error = all.find((d) => d.code === 'remote-error')!;
      expect(error.range.start.line).toBe(source.split('\n').indexOf('    return data["missing"]'));
      expect(error.message).toContain('KeyError');
      const hover = await editor.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(source, 'broken()') });
      expect((hover.contents as { value: string }).value).toContain('Traceback');
    } finally {
      await editor.stop();
    }
  });
});
