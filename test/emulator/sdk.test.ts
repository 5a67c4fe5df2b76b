// The official JS SDK (@databricks/sdk-experimental 0.14.2, the newest release that supports node 20)
// drives the emulator as an independent client. Two shims work around bugs of that release, not of
// the emulator: it rewrites the host to `https://<hostname>` and it drops the query string of GETs.
import { Agent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { Config, WorkspaceClient } from '@databricks/sdk-experimental';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './emulator.js';

let emulator: Emulator;
let client: WorkspaceClient;
const agent = new Agent({ keepAlive: true });

type RequestOptions = Parameters<WorkspaceClient['apiClient']['request']>[0];

function sdkClient(target: Emulator): WorkspaceClient {
  // A missing config file keeps ~/.databrickscfg out; `pat` skips the credential-chain probing.
  const config = new Config({ host: target.url, token: target.token, authType: 'pat', configFile: '/nonexistent/.databrickscfg' });
  // 0.14.2 turns any host into `https://<hostname>` (0.17.0 keeps scheme and port).
  (config as unknown as { fixHost(): void }).fixHost = () => {};
  const workspace = new WorkspaceClient(config, { agent: agent as unknown as HttpsAgent });
  // 0.14.2 only sets the query string when a payload is present, so every GET lost its parameters
  // (fixed in 0.17.0, which moved the query out of that branch).
  const api = workspace.apiClient;
  const original = api.request.bind(api);
  api.request = ((options: RequestOptions, context?: unknown) =>
    original(options.method === 'GET' && !options.payload ? { ...options, payload: options.query } : options, context as never)) as typeof api.request;
  return workspace;
}

beforeAll(async () => {
  emulator = await startEmulator({ clusters: [{ cluster_id: 'sdk-up' }, { cluster_id: 'sdk-down', state: 'TERMINATED' }], clusterStartDelayMs: 100 });
  client = sdkClient(emulator);
});
afterAll(async () => {
  await emulator.stop();
  agent.destroy();
});

describe('the official JS SDK against the emulator', () => {
  it('lists clusters with their sizes and owner, says who the token is, and lists the Unity Catalog levels above a volume', async () => {
    const target = await startEmulator({
      clusters: [
        { cluster_id: 'auto', cluster_name: 'auto', autoscale: { min_workers: 2, max_workers: 8 }, autotermination_minutes: 0, node_type_id: 'm5.large' },
        { cluster_id: 'theirs', single_user_name: 'other@example.com' },
      ],
    });
    const sdk = sdkClient(target);
    try {
      const listed = [];
      for await (const cluster of sdk.clusters.list({})) listed.push(cluster);
      const auto = listed.find((cluster) => cluster.cluster_id === 'auto')!;
      expect(auto.autoscale).toEqual({ min_workers: 2, max_workers: 8 });
      expect(auto.num_workers).toBeUndefined();
      expect(auto).toMatchObject({ node_type_id: 'm5.large', autotermination_minutes: 0, spark_version: '16.4.x-scala2.12', data_security_mode: 'SINGLE_USER' });
      expect(listed.find((cluster) => cluster.cluster_id === 'theirs')?.single_user_name).toBe('other@example.com');
      expect((await sdk.currentUser.me()).userName).toBe('emulator@example.com');
      await sdk.files.createDirectory({ directory_path: '/Volumes/main/raw/landing/2026' });
      const names = async (items: AsyncIterable<{ name?: string }>): Promise<string[]> => {
        const found: string[] = [];
        for await (const item of items) found.push(item.name ?? '');
        return found;
      };
      expect(await names(sdk.catalogs.list({}))).toEqual(['main']);
      expect(await names(sdk.schemas.list({ catalog_name: 'main' }))).toEqual(['raw']);
      expect(await names(sdk.volumes.list({ catalog_name: 'main', schema_name: 'raw' }))).toEqual(['landing']);
      await expect(names(sdk.schemas.list({ catalog_name: 'nope' }))).rejects.toMatchObject({ errorCode: 'CATALOG_DOES_NOT_EXIST', statusCode: 404 });
      // A context on someone else's single-user cluster is refused.
      await expect(sdk.commandExecution.create({ clusterId: 'theirs', language: 'python' })).rejects.toMatchObject({ statusCode: 403 });
    } finally {
      await target.stop();
    }
  });

  it('lists every cluster across pages when the server holds fewer per page than asked', async () => {
    const seeds = ['p1', 'p2', 'p3', 'p4', 'p5'].map((cluster_id) => ({ cluster_id }));
    const target = await startEmulator({ clusters: seeds, clusterListPageMax: 2 });
    try {
      const listed: string[] = [];
      for await (const cluster of sdkClient(target).clusters.list({ page_size: 100 })) listed.push(cluster.cluster_id!);
      expect(listed).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
      expect(target.stats.count('GET', '/api/2.1/clusters/list')).toBe(3);
    } finally {
      await target.stop();
    }
  });

  it('gets a cluster and starts a terminated one, waiting for RUNNING', async () => {
    const cluster = await client.clusters.get({ cluster_id: 'sdk-up' });
    expect(cluster.state).toBe('RUNNING');
    const waiter = await client.clusters.start({ cluster_id: 'sdk-down' });
    const started = await waiter.wait();
    expect(started.state).toBe('RUNNING');
  });

  it('maps the unknown-cluster error into an ApiError with the service code', async () => {
    await expect(client.clusters.get({ cluster_id: 'ghost' })).rejects.toMatchObject({ errorCode: 'INVALID_PARAMETER_VALUE', statusCode: 400 });
  });

  it('retries a 429 on its own', async () => {
    emulator.faults.status({ path: '/api/2.1/clusters/get' }, 429, { times: 1, retryAfterSeconds: 1 });
    expect((await client.clusters.get({ cluster_id: 'sdk-up' })).state).toBe('RUNNING');
    expect(emulator.stats.requests.filter((request) => request.path === '/api/2.1/clusters/get' && request.status === 429)).toHaveLength(1);
  });

  it('runs a 1.2 command round trip with its commandExecution API', async () => {
    const context = await (await client.commandExecution.create({ clusterId: 'sdk-up', language: 'python' })).wait();
    expect(context.status).toBe('Running');
    const contextId = context.id!;
    const done = await (await client.commandExecution.execute({ clusterId: 'sdk-up', contextId, language: 'python', command: 'print("done")' })).wait();
    expect(done.status).toBe('Finished');
    expect(done.results).toEqual({ resultType: 'text', data: 'done' });
    const failed = await (await client.commandExecution.execute({ clusterId: 'sdk-up', contextId, language: 'python', command: '1/0' })).wait();
    expect(failed.results?.resultType).toBe('error');
    expect(failed.results?.summary).toContain('ZeroDivisionError');
    await client.commandExecution.destroy({ clusterId: 'sdk-up', contextId });
    await expect(client.commandExecution.contextStatus({ clusterId: 'sdk-up', contextId })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('imports and exports a workspace file', async () => {
    await client.workspace.mkdirs({ path: '/Users/sdk' });
    await client.workspace.import({ path: '/Users/sdk/a.py', content: Buffer.from('x = 1\n').toString('base64'), format: 'RAW', overwrite: true });
    const status = await client.workspace.getStatus({ path: '/Users/sdk/a.py' });
    expect(status.object_type).toBe('FILE');
    const exported = await client.workspace.export({ path: '/Users/sdk/a.py', format: 'SOURCE' });
    expect(Buffer.from(exported.content!, 'base64').toString()).toBe('x = 1\n');
    const listed = [];
    for await (const object of client.workspace.list({ path: '/Users/sdk' })) listed.push(object.path);
    expect(listed).toEqual(['/Users/sdk/a.py']);
  });

  it('downloads a volume file and lists its directory with the Files API', async () => {
    // The generated `files.upload` never sends its contents (in 0.14.2 and 0.17.0), so plain fetch uploads.
    await fetch(`${emulator.url}/api/2.0/fs/files/Volumes/c/s/v/sdk.txt`, { method: 'PUT', headers: { authorization: `Bearer ${emulator.token}` }, body: 'volume bytes' });
    const download = await client.files.download({ file_path: '/Volumes/c/s/v/sdk.txt' });
    const chunks: Uint8Array[] = [];
    for await (const chunk of download.contents as AsyncIterable<Uint8Array>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('volume bytes');
    expect(Number(download['content-length'])).toBe(12);
    const entries = [];
    for await (const entry of client.files.listDirectoryContents({ directory_path: '/Volumes/c/s/v' })) entries.push(entry.name);
    expect(entries).toEqual(['sdk.txt']);
  });

  it('submits one-time job runs and waits with its jobs waiter, which raises for a failed task', async () => {
    await client.workspace.mkdirs({ path: '/Users/sdk/jobs' });
    const upload = (name: string, text: string) =>
      client.workspace.import({ path: `/Users/sdk/jobs/${name}`, content: Buffer.from(text).toString('base64'), format: 'AUTO', overwrite: true });
    await upload('ok.py', "import sys\nprint('argv', sys.argv[1:])\n");
    await upload('fail.py', "raise RuntimeError('nope')\n");
    const task = (file: string) => ({ task_key: 'js_sdk_job_run', spark_python_task: { python_file: file, parameters: ['a'] }, existing_cluster_id: 'sdk-up' });
    const run = await (await client.jobs.submit({ run_name: 'sdk', tasks: [task('/Workspace/Users/sdk/jobs/ok.py')] })).wait();
    expect(run.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' });
    const output = await client.jobs.getRunOutput({ run_id: run.tasks![0]!.run_id! });
    expect(output.logs).toBe("argv ['a']\n");
    const failing = await client.jobs.submit({ tasks: [task('/Workspace/Users/sdk/jobs/fail.py')] });
    await expect(failing.wait()).rejects.toThrow(
      'failed to reach TERMINATED or SKIPPED state, got INTERNAL_ERROR: Task js_sdk_job_run failed with message: Workload failed, see run output for details.',
    );
  });

  it('puts, streams and reads DBFS files', async () => {
    await client.dbfs.put({ path: '/sdk/put.txt', contents: Buffer.from('put').toString('base64'), overwrite: true });
    const { handle } = await client.dbfs.create({ path: '/sdk/blocks.txt', overwrite: true });
    await client.dbfs.addBlock({ handle: handle!, data: Buffer.from('one,').toString('base64') });
    await client.dbfs.addBlock({ handle: handle!, data: Buffer.from('two').toString('base64') });
    await client.dbfs.close({ handle: handle! });
    const read = await client.dbfs.read({ path: '/sdk/blocks.txt', offset: 0, length: 1024 });
    expect(read.bytes_read).toBe(7);
    expect(Buffer.from(read.data!, 'base64').toString()).toBe('one,two');
    expect((await client.dbfs.getStatus({ path: '/sdk/put.txt' })).file_size).toBe(3);
  });
});
