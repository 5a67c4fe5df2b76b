// `npm run bench` (results): what storing a run costs as stored results grow (the journaled store
// against rewriting the whole state file, as the store did before), and what a cache hit costs
// through the real server over stdio against a warm run of the same call on the local backend.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EditorClient } from 'choppa-lsp/demo/editor-client.js';
import { ResultStore } from 'choppa-lsp/engine/result-store.js';
import type { RunRecord } from 'choppa-lsp/engine/run-record.js';
import { writeAtomic } from 'choppa-lsp/engine/state-dir.js';
import { percentile } from './stats.js';


function row(name: string, samples: number[], baseline?: number[]): string {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  const max = Math.max(...samples);
  const ratio = baseline ? `  ${(percentile(baseline, 50) / p50).toFixed(1)}x faster at p50` : '';
  return `${name.padEnd(52)} p50 ${p50.toFixed(2).padStart(8)} ms   p99 ${p99.toFixed(2).padStart(8)} ms   max ${max.toFixed(1).padStart(7)} ms${ratio}`;
}

/** A stored record as a real run leaves it: a value, some output, a code version. */
function record(i: number, call: string): RunRecord {
  return {
    runId: `run-${i}`,
    function: `task_${i % 1000}`,
    mode: 'remote',
    status: 'ok',
    args: call,
    call,
    stdout: `task ${i} done\n`.repeat(8),
    stderr: '',
    durationMs: 812,
    backend: 'cluster 0123-456789-abcdef',
    finishedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    value: { repr: `{'total': ${i}, 'values': [1, 3, 5, 7, 9]}`, type: 'dict', size: 96, json: { total: i, values: [1, 3, 5, 7, 9] } },
    version: { hash: 'a'.repeat(24), source: 'b'.repeat(24), mode: 'remote', inputs: {} },
  };
}

/** The store before result identity: read, merge and rewrite the whole pretty-printed file per run. */
function rewriteWhole(file: string, key: string, value: RunRecord): void {
  const state = JSON.parse(readFileSync(file, 'utf8')) as { version: 1; results: Record<string, RunRecord> };
  state.results[key] = value;
  writeAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

function storeWrites(stored: number): { journal: number[]; whole: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'choppa-bench-store-'));
  const store = new ResultStore(dir, () => undefined);
  const wholeDir = mkdtempSync(join(tmpdir(), 'choppa-bench-whole-'));
  const wholeFile = join(wholeDir, 'state.json');
  const whole: Record<string, RunRecord> = {};
  for (let i = 0; i < stored; i += 1) {
    const key = `jobs/module_${i % 100}.py::task_${i % 1000}`;
    store.set(key, record(i, String(Math.floor(i / 1000))));
    whole[`${key}::${Math.floor(i / 1000)}`] = record(i, String(i));
  }
  writeFileSync(wholeFile, JSON.stringify({ version: 1, results: whole }, null, 2));
  const journal: number[] = [];
  const wholeSamples: number[] = [];
  // Enough runs that the journal is folded into the snapshot at least once (in max and p99).
  const runs = stored >= 10_000 ? 8_000 : 300;
  for (let i = 0; i < runs; i += 1) {
    const next = record(stored + i, `new-${i % 20}`);
    let start = performance.now();
    store.set('jobs/module_0.py::task_0', next);
    journal.push(performance.now() - start);
    if (i < 30) {
      start = performance.now();
      rewriteWhole(wholeFile, `jobs/module_0.py::task_0::new-${i % 20}`, next);
      wholeSamples.push(performance.now() - start);
    }
  }
  return { journal, whole: wholeSamples };
}

async function cacheHits(): Promise<{ hit: number[]; warm: number[] }> {
  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-cache-'));
  mkdirSync(join(root, '.git'));
  const text = [
    'from choppa import Choppa',
    '',
    'dutch = Choppa()',
    '',
    '@dutch.remote  # choppa: cache',
    'def summarise(n):',
    '    return {"n": n, "squares": [i * i for i in range(n)]}',
    '',
    'summarise(50)',
    '',
  ].join('\n');
  const editor = await EditorClient.start({ root });
  try {
    const uri = await editor.open(join(root, 'pipeline.py'), text);
    const args = { uri, function: 'summarise', args: '50', position: { line: 8, character: 0 } };
    // Warm-up: the warm python3 starts, the runner installs, the first result is stored.
    for (let i = 0; i < 20; i += 1) await editor.executeCommand('choppa.run', { ...args, fresh: true });
    const warm: number[] = [];
    const hit: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      let start = performance.now();
      await editor.executeCommand('choppa.run', { ...args, fresh: true });
      warm.push(performance.now() - start);
      start = performance.now();
      const result = await editor.executeCommand<{ cached?: boolean }>('choppa.run', args);
      hit.push(performance.now() - start);
      if (result.cached !== true) throw new Error('the cache did not serve the second run');
    }
    return { hit, warm };
  } finally {
    await editor.stop();
  }
}

console.log('Storing one run, by stored results (journal append vs rewriting the whole file)');
for (const stored of [100, 1_000, 10_000]) {
  const { journal, whole } = storeWrites(stored);
  console.log(row(`  rewrite whole state.json, ${stored} stored`, whole));
  console.log(row(`  journaled store, ${stored} stored (target p99 ≤ 20 ms)`, journal, whole));
}
console.log('\nA run through the server over stdio, local backend');
const { hit, warm } = await cacheHits();
console.log(row('  warm run (fresh: true)', warm));
console.log(row('  cache hit (target p99 ≤ 10 ms)', hit, warm));
