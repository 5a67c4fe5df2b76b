// Artifacts through the Databricks backend against the workspace emulator: metadata without the
// pickle, dereference-sized downloads by the API of each storage root with sha256 checked, a
// 200 MB Volume download in a child process with bounded memory, and a Range resume.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef } from '../../server/src/backends/backend.js';
import { expectRef, payload, py } from '../backends/contract.js';
import { makeHarness, type Harness } from './harness.js';

const MB = 1024 * 1024;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fetch-artifact-child.ts', import.meta.url));

let harness: Harness;
let scratch: string;
beforeAll(async () => {
  harness = await makeHarness();
  scratch = await mkdtemp(join(tmpdir(), 'choppa-databricks-artifacts-'));
});
afterAll(async () => {
  await harness?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});
afterEach(() => {
  harness.emulator.faults.clear();
});

/** An artifact of `size` zero bytes (plus the pickle header) under `dir`, made by the runner. */
async function bytesArtifact(dir: string, size: number): Promise<ArtifactRef> {
  return expectRef(
    await harness.backend.run(payload({ mode: 'artifact', artifact_dir: dir, source: py('def f(n):', '    return bytes(n)'), args_source: String(size) })),
  );
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const requestsTo = (pattern: RegExp) => harness.emulator.stats.requests.filter((request) => pattern.test(request.path));

describe('artifacts', () => {
  it('says to use a /Volumes/... artifact_dir when a workspace artifact is over the 10 MB export limit', async () => {
    const ref = await bytesArtifact('/Workspace/Shared/choppa/huge', 10 * MB + 1);
    const fetched = await harness.backend.fetchArtifact(ref.path, join(scratch, 'huge.pkl'));
    expect(fetched).toHaveProperty('failure');
    const { failure } = fetched as { failure: string };
    expect(failure).toContain('exceeded max size (10485760 bytes)');
    expect(failure).toContain('/Volumes/... artifact_dir');
  });

  it.each([
    { dir: '/Workspace/Shared/choppa/big', size: 5 * MB, api: /^\/api\/2\.0\/workspace\/export$/ },
    { dir: '/Volumes/main/default/vol/big', size: 20 * MB, api: /^\/api\/2\.0\/fs\/files\/Volumes\/main\/default\/vol\/big\/f-.*\.pkl$/ },
    { dir: 'dbfs:/tmp/choppa/big', size: 3.5 * MB, api: /^\/api\/2\.0\/dbfs\/read$/ },
  ])('downloads a $size byte artifact under $dir by its API, with progress and its sha256', async ({ dir, size, api }) => {
    const ref = await bytesArtifact(dir, size);
    expect(await harness.backend.readArtifactMetadata(ref.path)).toEqual(ref);
    const before = requestsTo(api).length;
    const destination = join(scratch, `fetched-${size}.pkl`);
    const percentages: number[] = [];
    const fetched = await harness.backend.fetchArtifact(ref.path, destination, {
      onProgress: (report) => percentages.push(report.percentage ?? -1),
    });
    expect(fetched).toEqual({ size: ref.size, sha256: ref.sha256 });
    expect((await stat(destination)).size).toBe(ref.size);
    expect(await sha256Of(destination)).toBe(ref.sha256);
    expect(requestsTo(api).length).toBeGreaterThan(before);
    expect(percentages.at(-1)).toBe(100);
    expect(percentages.length).toBeGreaterThan(2);
  });

  it('says how much of a tiny artifact came in bytes, as every size reads, not as "0 KB of 0 KB"', async () => {
    const ref = await bytesArtifact('/Volumes/main/default/vol/tiny', 20);
    expect(ref.size).toBeLessThan(1024);
    const messages: string[] = [];
    const fetched = await harness.backend.fetchArtifact(ref.path, join(scratch, 'tiny.pkl'), { onProgress: (report) => messages.push(report.message) });
    expect(fetched).toEqual({ size: ref.size, sha256: ref.sha256 });
    expect(messages.at(-1)).toBe(`downloading ${ref.path} (${ref.size} B of ${ref.size} B)`);
  });

  it('reads DBFS in 1 MB chunks', async () => {
    const ref = await bytesArtifact('dbfs:/tmp/choppa/chunks', 3.5 * MB);
    const before = requestsTo(/^\/api\/2\.0\/dbfs\/read$/).length;
    expect(await harness.backend.fetchArtifact(ref.path, join(scratch, 'chunks.pkl'))).toEqual({ size: ref.size, sha256: ref.sha256 });
    expect(requestsTo(/^\/api\/2\.0\/dbfs\/read$/).length - before).toBe(Math.ceil(ref.size / MB));
  });

  it('reads metadata from the sidecar without touching the pickle', async () => {
    const ref = await bytesArtifact('/Volumes/main/default/vol/meta', 1 * MB);
    const before = requestsTo(/\.pkl$/).length;
    expect(await harness.backend.readArtifactMetadata(ref.path)).toEqual(ref);
    expect(requestsTo(/\.pkl$/).length).toBe(before);
    expect(requestsTo(/\/meta\/f-.*\.json$/).length).toBeGreaterThan(0);
  });

  it('resumes a Volume download with Range after the connection drops mid-body', async () => {
    const ref = await bytesArtifact('/Volumes/main/default/vol/resume', 8 * MB);
    harness.emulator.faults.cutBody({ method: 'GET', path: '/api/2.0/fs/files/Volumes/main/default/vol/resume/' }, 3 * MB, 2);
    const before = harness.emulator.stats.requests.length;
    const destination = join(scratch, 'resumed.pkl');
    expect(await harness.backend.fetchArtifact(ref.path, destination)).toEqual({ size: ref.size, sha256: ref.sha256 });
    expect(await sha256Of(destination)).toBe(ref.sha256);
    const downloads = harness.emulator.stats.requests.slice(before).filter((request) => request.path.endsWith('.pkl'));
    // The full body (cut), a range from 3 MB (cut again), then the rest: 206 each time.
    expect(downloads.map((request) => request.status)).toEqual([200, 206, 206]);
  });

  it('refuses a Workspace artifact over the export limit, pointing at /Volumes', async () => {
    const ref = await bytesArtifact('/Workspace/Shared/choppa/huge', 11 * MB);
    const fetched = await harness.backend.fetchArtifact(ref.path, join(scratch, 'huge.pkl'));
    expect(fetched).toHaveProperty('failure');
    expect((fetched as { failure: string }).failure).toContain('/Volumes/');
  });

  it('downloads a 200 MB Volume artifact with bounded memory (in a child process)', async () => {
    const ref = await bytesArtifact('/Volumes/main/default/vol/huge', 200 * MB);
    const destination = join(scratch, 'huge-volume.pkl');
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'vite-node'), [CHILD, harness.emulator.url, harness.emulator.token, ref.path, destination], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as { result: unknown; rssGrowth: number; percentages: number[] };
    expect(report.result).toEqual({ size: ref.size, sha256: ref.sha256 });
    // Measured at 40-65 MB whatever the size (20 MB to 400 MB): garbage-collection slack, not the file.
    expect(report.rssGrowth, `RSS grew by ${(report.rssGrowth / MB).toFixed(0)} MB`).toBeLessThan(100 * MB);
    expect(report.percentages.at(-1)).toBe(100);
    expect(await sha256Of(destination)).toBe(ref.sha256);
  }, 60_000);
});
