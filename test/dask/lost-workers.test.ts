// Workers that die under a nanny (killed -9, out of memory): Dask would run the lost work again
// from the start, unseen. A run whose worker died mid-run fails rather than run its user code a
// second time, and a ref whose worker died is gone rather than made again with other data.
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectRef, expectValue, payload, py } from '../backends/contract.js';
import { LocalDaskCluster, makeDaskBackend } from './harness.js';

/** How many times user code appended its line to `path` (0 when it never did). */
async function starts(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).length;
}

describe('dask backend when workers die under their nanny', () => {
  let cluster: LocalDaskCluster;
  let subject: Awaited<ReturnType<typeof makeDaskBackend>>;
  beforeAll(async () => {
    cluster = await LocalDaskCluster.start({ nanny: true });
    subject = await makeDaskBackend(cluster.address);
  }, 90_000);
  afterAll(async () => {
    await subject?.cleanup();
    await cluster?.stop();
  });

  it('fails a run whose worker was killed mid-run instead of running it again from the start', async () => {
    const log = join(tmpdir(), `choppa-dask-starts-${randomUUID()}`);
    try {
      const source = py(
        'def slow(log):',
        '    import time',
        "    open(log, 'a').write('started\\n')",
        '    for i in range(40):',
        "        print('slow', i, flush=True)",
        '        time.sleep(0.1)',
        '    return 1',
      );
      let killed: Promise<number[]> | undefined;
      const outcome = await subject.backend.run(payload({ function_name: 'slow', source, args_source: JSON.stringify(log) }), {
        onOutput: (_stream, text) => {
          if (!killed && text.includes('slow 2')) killed = cluster.killWorkerProcesses();
        },
      });
      expect((await killed)?.length).toBe(2);
      const error = expectError(outcome);
      expect(error.origin).toBe('backend');
      expect(error.message).toContain('the Dask worker running slow was lost mid-run');
      expect(error.message).toContain('it may have partly run');
      // The output is the one attempt's: nothing started again behind it.
      expect(outcome.stdout).toMatch(/^slow 0\nslow 1\nslow 2\n/);
      expect(outcome.stdout.match(/slow 0\n/g)).toHaveLength(1);
      // The nannies' new workers never start it again either.
      expect(expectValue(await subject.backend.run(payload({ source: py('def f():', '    return 1') }))).json).toBe(1);
      expect(await starts(log)).toBe(1);
    } finally {
      await rm(log, { force: true });
    }
  }, 90_000);

  it('refuses to chain a ref whose worker died rather than pass data made again', async () => {
    const log = join(tmpdir(), `choppa-dask-rnd-${randomUUID()}`);
    try {
      const ref = expectRef(
        await subject.backend.run(
          payload({
            mode: 'artifact',
            function_name: 'rnd',
            source: py('def rnd(n, log):', '    import random', "    open(log, 'a').write('rnd\\n')", '    return [random.random() for _ in range(n)]'),
            args_source: `100000, ${JSON.stringify(log)}`,
          }),
        ),
      );
      const first = () =>
        subject.backend.run(payload({ function_name: 'first', source: py('def first(data):', '    return data[:3]'), args_source: 'data', args_refs: { data: { path: ref.path } } }));
      const before = expectValue(await first()).json;
      expect(expectValue(await first()).json).toEqual(before);

      expect(await cluster.killWorkerProcesses()).toHaveLength(2);
      const error = expectError(await first());
      expect(error.message).toContain(`argument \`data\`: the artifact ${ref.path} was lost with the Dask worker that held it`);
      expect(error.message).toContain('run the function that made it again');
      // rnd did not run again unseen, and dereferencing says it is gone rather than fetch other data.
      expect(await starts(log)).toBe(1);
      const fetched = await subject.backend.fetchArtifact(ref.path, join(tmpdir(), `choppa-dask-lost-${randomUUID()}.pkl`));
      expect(fetched).toEqual({ failure: expect.stringContaining(`the artifact ${ref.path} was lost with the Dask worker that held it`) });
    } finally {
      await rm(log, { force: true });
    }
  }, 90_000);
});
