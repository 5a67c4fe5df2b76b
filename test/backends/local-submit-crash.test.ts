// A local submit interrupted at any instant (the server killed between claiming the token, writing
// the job's handle and learning the pid) leaves exactly one job, whose result a restarted server
// finds with the same idempotency token; the job says its own pid, so it can be followed and
// cancelled although the server never recorded it.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';
import { localJobStatus, submitLocalJob, cancelLocalJob, jobsRoot } from '../../server/src/backends/local/local-submit.js';
import type { SubmittedHandle, SubmittedStatus } from '../../server/src/backends/backend.js';
import { py, submitRequest } from './contract.js';
import { tempDir } from '../support/lsp-client.js';

const PYTHON = process.env['CHOPPA_PYTHON'] ?? 'python3';

async function settle(options: Parameters<typeof localJobStatus>[0], handle: SubmittedHandle): Promise<SubmittedStatus> {
  for (let i = 0; i < 400; i += 1) {
    const status = await localJobStatus(options, handle);
    if ('failure' in status) throw new Error(status.failure);
    if (['succeeded', 'failed', 'cancelled'].includes(status.state)) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the job did not end');
}

describe('a local submit killed part-way', () => {
  it('after the process started but before its pid was recorded: the same token finds the one job and its result', async () => {
    const options = { pythonPath: PYTHON, fsRoot: tempDir(), runnerPath: RUNNER_PATH };
    const request = submitRequest({ source: py('def f():', '    import time', '    time.sleep(0.3)', '    return 42') });
    const first = await submitLocalJob(options, request);
    if ('failure' in first) throw new Error(first.failure);
    // What a kill before the pid was written leaves: the handle as written before the spawn.
    const jobFile = join(jobsRoot(options.fsRoot), first.runId, 'job.json');
    const written = JSON.parse(readFileSync(jobFile, 'utf8')) as SubmittedHandle;
    writeFileSync(jobFile, JSON.stringify({ ...written, data: { ...written.data, pid: 0, processStart: '' } }));
    const again = await submitLocalJob(options, request);
    if ('failure' in again) throw new Error(again.failure);
    expect(again.runId).toBe(first.runId);
    // Starting (no pid yet) or running, never failed, until its result is in.
    expect(['pending', 'running', 'succeeded']).toContain((await localJobStatus(options, again) as SubmittedStatus).state);
    expect(await settle(options, again)).toMatchObject({ state: 'succeeded', ref: { preview: '42' } });
    expect(readdirSync(jobsRoot(options.fsRoot)).filter((name) => name !== 'tokens')).toEqual([first.runId]);
  });

  it('after claiming the token but before anything else: the same token starts the job once', async () => {
    const options = { pythonPath: PYTHON, fsRoot: tempDir(), runnerPath: RUNNER_PATH, claimWaitMs: 300 };
    const request = submitRequest({ source: py('def f():', '    return "once"') });
    const tokens = join(jobsRoot(options.fsRoot), 'tokens');
    mkdirSync(tokens, { recursive: true });
    writeFileSync(join(tokens, createHash('sha256').update(request.idempotencyToken).digest('hex')), request.payload.run_id);
    const handle = await submitLocalJob(options, request);
    if ('failure' in handle) throw new Error(handle.failure);
    expect(handle.runId).toBe(request.payload.run_id);
    expect(await settle(options, handle)).toMatchObject({ state: 'succeeded', ref: { preview: "'once'" } });
    const twice = await submitLocalJob(options, request);
    expect(twice).toMatchObject({ runId: handle.runId });
  });

  it('cancels a job whose pid only the job itself wrote down', async () => {
    const options = { pythonPath: PYTHON, fsRoot: tempDir(), runnerPath: RUNNER_PATH, cancelGraceMs: 500 };
    const handle = await submitLocalJob(options, submitRequest({ source: py('def f():', '    import time', '    time.sleep(600)') }));
    if ('failure' in handle) throw new Error(handle.failure);
    const pidless = { ...handle, data: { ...handle.data, pid: 0, processStart: '' } };
    for (let i = 0; i < 100 && (await localJobStatus(options, pidless) as SubmittedStatus).state !== 'running'; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await cancelLocalJob(options, pidless)).toEqual({ cancelled: true });
    expect((await settle(options, pidless)).state).toBe('cancelled');
  });
});
