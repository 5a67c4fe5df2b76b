// `npm run bench` (second part): the workspace index and the bundle on a generated project of
// 2,000 Python files (100 packages of 20 modules, each importing siblings absolutely and
// relatively), side by side with the I/O floor in the same process: a bare recursive `readdir`
// for the index, reading and hashing the same files for the bundle.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildBundle } from 'choppa-lsp/bundle/code-bundle.js';
import { loadQuerySources } from 'choppa-lsp/query-files.js';
import { loadParserEngine } from 'choppa-lsp/syntax/load-parser-engine.js';
import { compileQueries } from 'choppa-lsp/syntax/queries.js';
import { WorkspaceIndex } from 'choppa-lsp/workspace-index/workspace-index.js';
import { percentile } from './stats.js';

const PACKAGES = 100;
const MODULES = 19;

function generateProject(root: string): void {
  const write = (relative: string, text: string): void => {
    mkdirSync(join(root, relative, '..'), { recursive: true });
    writeFileSync(join(root, relative), text);
  };
  write('pyproject.toml', '[project]\nname = "bench"\n');
  write('.gitignore', 'build/\n');
  for (let p = 0; p < PACKAGES; p += 1) {
    write(`pkg${p}/__init__.py`, p === 0 ? 'from .cluster import dc\n' : `from pkg0 import dc\n`);
    for (let m = 0; m < MODULES; m += 1) {
      const lines = [`"""Module ${m} of package ${p}."""`, 'import json', 'import numpy as np'];
      if (m > 0) lines.push(`from .mod${m - 1} import helper${m - 1}`);
      if (p > 0 && m === 0) lines.push(`from pkg${p - 1}.mod${MODULES - 1} import helper${MODULES - 1}`);
      if (p === 0 && m === 0) lines.push('from choppa import Choppa', '', 'dc = Choppa(cluster_id="0123-456789-bench")');
      lines.push('', `def helper${m}(x):`, `    """Helper ${m}."""`, '    total = 0', '    for i in range(x):', '        total += i * 2');
      lines.push('    return json.dumps({"total": total})', '');
      lines.push('@dc.remote', `def job${m}(n):`, `    from pkg${p}.mod${m} import helper${m}`, `    return helper${m}(n)`, '');
      for (let f = 0; f < 5; f += 1) lines.push(`def extra${f}(a, b=1):`, '    values = [a * b for _ in range(3)]', '    return sum(values)', '');
      write(m === 0 && p === 0 ? `pkg${p}/cluster.py` : `pkg${p}/mod${m}.py`, lines.join('\n'));
    }
  }
}


function row(name: string, samples: number[], baseline?: number[]): string {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  const ratio = baseline ? `  ${(p50 / percentile(baseline, 50)).toFixed(1)}x the floor at p50` : '';
  return `${name.padEnd(44)} p50 ${p50.toFixed(2).padStart(8)} ms   p99 ${p99.toFixed(2).padStart(8)} ms${ratio}`;
}

function time<T>(work: () => T): [number, T] {
  const start = performance.now();
  const value = work();
  return [performance.now() - start, value];
}

function walk(dir: string, files: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) walk(join(dir, entry.name), files);
    else if (entry.name.endsWith('.py')) files.push(join(dir, entry.name));
  }
}

/**
 * Every folder and file of the tree last changed `seconds` ago (a project nobody is editing right
 * now): `.gitignore` files too, or a quick machine re-adds the folder within their racy window.
 */
function settle(dir: string, seconds: number): void {
  const when = Date.now() / 1000 - seconds;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) settle(join(dir, entry.name), seconds);
    else utimesSync(join(dir, entry.name), when, when);
  }
  utimesSync(dir, when, when);
}

async function main(): Promise<void> {
  await loadParserEngine();
  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-project-'));
  try {
    generateProject(root);
    settle(root, 60);
    const queries = compileQueries(loadQuerySources());
    const floor: number[] = [];
    const build: number[] = [];
    const full: number[] = [];
    let fileCount = 0;
    for (let round = 0; round < 7; round += 1) {
      floor.push(time(() => walk(root, []))[0]);
      const [ms, index] = time(() => {
        const index = new WorkspaceIndex({ queries });
        index.addFolder(root);
        return index;
      });
      build.push(ms);
      fileCount = index.fileCount;
      // Everything parsed and analysed as well: what a first `analysisOf` of every file costs.
      full.push(ms + time(() => { for (let p = 0; p < PACKAGES; p += 1) index.analysisOf(join(root, `pkg${p}`, 'mod1.py')); })[0]);
    }
    process.stdout.write(`\nworkspace index: ${fileCount} Python files in ${PACKAGES} packages\n`);
    process.stdout.write(`${row('readdir of the tree (floor)', floor)}\n`);
    process.stdout.write(`${row('index build (files, roots, module names)', build, floor)}\n`);
    process.stdout.write(`${row('build + resolve every package (100 files)', full, floor)}\n`);
    // What the CLI daemon pays before each command: the folder added again, unchanged since.
    const kept = new WorkspaceIndex({ queries });
    kept.addFolder(root);
    const again: number[] = [];
    for (let round = 0; round < 30; round += 1) again.push(time(() => kept.addFolder(root))[0]);
    if (kept.walks !== 1) throw new Error(`the unchanged folder was walked ${kept.walks} times`);
    process.stdout.write(`${row('the same folder added again, unchanged', again, floor)}\n`);

    // The bundle of a function deep in the chain: pkg99.mod18 imports, transitively, 2,000 files.
    // A shallow one (pkg5.mod3) is the everyday case.
    const index = new WorkspaceIndex({ queries });
    index.addFolder(root);
    for (const [label, p, m] of [['shallow (pkg5.job3)', 5, 3], ['deep (pkg99.job18)', 99, 18]] as const) {
      const file = join(root, `pkg${p}`, `mod${m}.py`);
      const [cold, first] = time(() => buildBundle(index, file, `job${m}`, '/Workspace/Shared/bench'));
      if (!first || 'failure' in first) throw new Error(`no bundle for ${label}`);
      const warm: number[] = [];
      const reading: number[] = [];
      for (let round = 0; round < 30; round += 1) {
        warm.push(time(() => buildBundle(index, file, `job${m}`, '/Workspace/Shared/bench'))[0]);
        reading.push(time(() => {
          const hash = createHash('sha256');
          for (const shipped of first.files) hash.update(readFileSync(shipped.source));
          return hash.digest('hex');
        })[0]);
      }
      process.stdout.write(`\nbundle ${label}: ${first.files.length} modules, ${(first.zip.length / 1024).toFixed(0)} KB, first build ${cold.toFixed(1)} ms\n`);
      process.stdout.write(`${row('read + hash the same files (floor)', reading)}\n`);
      process.stdout.write(`${row('bundle, warm index', warm, reading)}\n`);
      if (label.startsWith('shallow')) process.stdout.write(`target: a function's bundle ≤ 20 ms warm: ${percentile(warm, 99) <= 20 ? 'met' : 'NOT met'} (p99)\n`);
    }
    process.stdout.write(`target: index build for 2,000 files ≤ 2 s: ${percentile(build, 99) <= 2000 ? 'met' : 'NOT met'} (p99 build), build + resolve p99 ${percentile(full, 99).toFixed(0)} ms\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
