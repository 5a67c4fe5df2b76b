// `npm run bench` (second part): the warm latency of one run on a Dask cluster on loopback
// (a scheduler, two workers), through the Dask backend and through the real server over stdio,
// against `client.submit(add, 1, 2).result()` of the same function from a warm Python holding
// its own `distributed.Client`. Rounds alternate in one process, so both see the same machine.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RunPayload } from 'choppa-lsp/backends/backend.js';
import { DaskBackend } from 'choppa-lsp/backends/dask/dask-backend.js';
import { DASK_DRIVER_PATH } from 'choppa-lsp/backends/dask/dask-driver.js';
import { RUNNER_PATH } from 'choppa-lsp/backends/local/local-backend.js';
import { PythonProcess } from 'choppa-lsp/backends/local/python-process.js';
import { EditorClient } from 'choppa-lsp/demo/editor-client.js';
import { DASK_PYTHON, LocalDaskCluster } from 'choppa-lsp/demo/local-dask-cluster.js';

const ROUNDS = 15;
const PER_ROUND = 10;
const TARGET_RATIO = 1.5;

/** The baseline, in the Python of the cluster: the same function, submitted and awaited. */
const BASELINE = String.raw`
def _bench_install():
    import json, time
    from distributed import Client
    state = {}
    def add(a, b):
        return a + b
    def connect(address):
        state['client'] = Client(address, set_as_default=False)
        return 'ok'
    def round_(n):
        client = state['client']
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            assert client.submit(add, 1, 2, pure=False).result() == 3
            samples.append((time.perf_counter() - started) * 1000)
        return json.dumps(samples)
    globals()['_bench'] = {'connect': connect, 'round': round_}
_bench_install()
`;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(name: string, samples: number[], baseline?: number[]): string {
  const p50 = percentile(samples, 50);
  const p90 = percentile(samples, 90);
  const p99 = percentile(samples, 99);
  const ratio = baseline ? `  ${(p50 / percentile(baseline, 50)).toFixed(2)}x the baseline at p50` : '';
  return `${name.padEnd(50)} p50 ${p50.toFixed(2).padStart(7)} ms   p90 ${p90.toFixed(2).padStart(7)} ms   p99 ${p99.toFixed(2).padStart(7)} ms${ratio}`;
}

function payload(): RunPayload {
  return {
    run_id: `bench-${randomUUID()}`,
    mode: 'remote',
    function_name: 'add',
    source: 'def add(a, b):\n    return a + b\n',
    args_source: '1, 2',
    args_refs: {},
    result_size_max: null,
    artifact_dir: '/Workspace/Shared/choppa-bench',
  };
}

async function main(): Promise<void> {
  const cluster = await LocalDaskCluster.start();
  const backend = new DaskBackend({ pythonPath: DASK_PYTHON, scheduler: cluster.address, runnerPath: RUNNER_PATH, driverPath: DASK_DRIVER_PATH, cwd: tmpdir() });
  const python = await PythonProcess.start({ pythonPath: DASK_PYTHON, cwd: tmpdir(), env: process.env });
  if ('error' in python) throw python.error;
  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-dask-'));
  const file = join(root, 'bench.py');
  const text = 'from choppa import Choppa\n\ndutch = Choppa()\n\n@dutch.remote\ndef add(a, b):\n    return a + b\n';
  writeFileSync(file, text);
  const editor = await EditorClient.start({ root, initializationOptions: { backend: 'dask', dask: { scheduler: cluster.address, pythonPath: DASK_PYTHON } } });
  try {
    for (const answer of [await python.command(BASELINE), await python.command(`_bench['connect'](${JSON.stringify(cluster.address)})`)]) {
      if (!answer.ok) throw new Error(answer.error);
    }
    const uri = await editor.open(file, text);
    await editor.waitForDiagnostics(uri);
    const ours: number[] = [];
    const lsp: number[] = [];
    const baseline: number[] = [];
    const oneRun = async (): Promise<number> => {
      const started = performance.now();
      const outcome = await backend.run(payload());
      if (outcome.status !== 'ok' || !('value' in outcome) || outcome.value.json !== 3) throw new Error(JSON.stringify(outcome));
      return performance.now() - started;
    };
    const oneLspRun = async (): Promise<number> => {
      const started = performance.now();
      const result = await editor.executeCommand<{ status: string; value?: { json?: unknown } }>('choppa.run', { uri, function: 'add', args: '1, 2' });
      if (result.status !== 'ok' || result.value?.json !== 3) throw new Error(JSON.stringify(result));
      return performance.now() - started;
    };
    // Warm-up: the driver's connect, the workers' runner install, the server's first run.
    for (let i = 0; i < 5; i += 1) {
      await oneRun();
      await oneLspRun();
    }
    const warm = await python.command(`_bench['round'](5)`);
    if (!warm.ok) throw new Error(warm.error);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let i = 0; i < PER_ROUND; i += 1) ours.push(await oneRun());
      const answer = await python.command(`_bench['round'](${PER_ROUND})`);
      if (!answer.ok) throw new Error(answer.error);
      baseline.push(...(JSON.parse(answer.result) as number[]));
      for (let i = 0; i < PER_ROUND; i += 1) lsp.push(await oneLspRun());
    }
    process.stdout.write(`\nDask: warm run of add(1, 2) on a loopback cluster (${cluster.address}, 2 workers), ${ROUNDS * PER_ROUND} runs each\n`);
    process.stdout.write(`${row('client.submit(add, 1, 2).result() (baseline)', baseline)}\n`);
    process.stdout.write(`${row('DaskBackend.run (runner on a worker)', ours, baseline)}\n`);
    process.stdout.write(`${row('choppa.run over LSP (engine, store, diagnostics)', lsp, baseline)}\n`);
    const ratio = percentile(ours, 50) / percentile(baseline, 50);
    process.stdout.write(`target: DaskBackend.run within ${TARGET_RATIO}x of client.submit().result() at p50: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x)\n`);
  } finally {
    await editor.stop();
    await backend.dispose();
    await python.kill();
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
