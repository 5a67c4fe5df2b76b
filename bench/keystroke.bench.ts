// `npm run bench`: what typing costs on a realistic 10,000-line file (decorated functions with
// docstrings, helpers, classes, module-level call sites, problems) with 100 stored remote errors.
// The headline is the real server over stdio: didChange until the diagnostics of that version are
// published, for a keystroke in a body, typing a new function at the top (docstring included)
// and typing inside a docstring, against a full reparse + analysis of the same text. Then the
// same at 30,000 lines, how long other messages wait, memory, and opening large files. With
// CHOPPA_BENCH_BASELINE=<another build's server/dist/main.js>, that build runs side by side in the
// same rounds (keystrokes alternate between the two servers; the in-process waits run in child
// processes, one build after the other, twice); CHOPPA_BENCH_ONLY=typing,waits,memory,opening
// picks scenarios.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { constants as perfConstants, performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyze } from 'choppa-lsp/analysis/analyze.js';
import type { Pos } from 'choppa-lsp/analysis/model.js';
import { EditorClient } from 'choppa-lsp/demo/editor-client.js';
import type { Documents } from 'choppa-lsp/documents.js';
import { ResultStore } from 'choppa-lsp/engine/result-store.js';
import type { RunRecord } from 'choppa-lsp/engine/run-record.js';
import { loadQuerySources } from 'choppa-lsp/query-files.js';
import { compileQueries } from 'choppa-lsp/syntax/queries.js';
import { createPythonParser } from 'choppa-lsp/syntax/parser.js';
import { loadParserEngine } from 'choppa-lsp/syntax/load-parser-engine.js';
import { describeParserEngine } from 'choppa-lsp/syntax/parser-engine.js';
import { loadavg } from 'node:os';

/** Where things are in a generated file, read from the file itself (no line arithmetic to get wrong). */
export interface Layout {
  text: string;
  lines: number;
  /** The `def` line of each decorated function. */
  defs: number[];
  /** A line inside each decorated function's body, at column 4 (`    total = 0`). */
  bodies: number[];
  /** The middle line of each multi-line docstring (its text starts at column 4). */
  docstrings: number[];
  /** The line after the imports and the instance, where a new function is typed. */
  top: number;
}

/**
 * A realistic module: imports, a Choppa instance, settings, and sections of a decorated function
 * (multi-line docstring, loops, comprehensions, a try) with a module-level call of it, a plain
 * helper, now and then a class with methods (one of them decorated: a problem), a function that
 * reads a module global (a scope-lint problem) and an `if __name__ == "__main__":` block.
 */
export function generateFile(lineCount = 10_000): string {
  const lines = [
    'import json',
    'import os',
    'import numpy as np',
    'from choppa import Choppa',
    '',
    'dutch = Choppa(result_size_max=2**20)',
    'THRESHOLD = 0.5',
    'REGIONS = ["emea", "amer", "apac"]',
    '',
  ];
  const kinds = ['remote', 'artifact', 'submit'];
  let i = 0;
  while (lines.length < lineCount - 40) {
    lines.push('', `@dutch.${kinds[i % 3]}`, `def task_${i}(a, b=2, *rest, scale: float = 1.0, **options):`);
    lines.push(`    """Task ${i}: sums, filters and reports.`, '', `    Reads the inputs of region ${i % 3} and returns a summary dict.`, '    """');
    lines.push('    total = 0', '    for x in range(a):', '        total += x * b * scale');
    lines.push('        if x % 7 == 0:', '            total -= len(rest)', '        elif x % 11 == 0:', '            total += 1');
    lines.push(`    values = [v * ${i} for v in range(10) if v % 2]`, '    pairs = {k: v for k, v in options.items() if v is not None}');
    lines.push('    try:', '        ratio = total / max(1, len(values))', '    except ZeroDivisionError:', '        ratio = 0.0');
    lines.push('    result = {"total": total, "values": values, "ratio": ratio, "pairs": pairs}', `    print("task ${i}", result)`, '    return result');
    lines.push('', '', `result_${i} = task_${i}(${i}, b=3)`, `print(json.dumps(result_${i}))`, '');
    lines.push(`def helper_${i}(rows):`, '    out = []', '    for row in rows:', '        if row:', '            out.append(row)', '    return out', '');
    if (i % 10 === 0) {
      lines.push('', `class Loader${i}:`, '    """Loads things."""', '', '    def __init__(self, path):', '        self.path = path', '');
      lines.push('    @dutch.remote', '    def load(self, n):', '        return [self.path] * n', '', '    def size(self):', '        return len(self.path)', '');
    }
    if (i % 10 === 5) {
      lines.push('', '@dutch.remote', `def uses_global_${i}(n):`, '    return [x for x in range(n) if x > THRESHOLD]', '');
    }
    i += 1;
  }
  lines.push('', 'if __name__ == "__main__":');
  for (let k = 0; lines.length < lineCount; k += 1) lines.push(`    r${k} = task_${k % i}(${k}, b=3)`);
  return `${lines.join('\n')}\n`;
}

export function layoutOf(text: string): Layout {
  const lines = text.split('\n');
  const layout: Layout = { text, lines: lines.length, defs: [], bodies: [], docstrings: [], top: 0 };
  lines.forEach((line, index) => {
    if (/^def task_\d+\(/.test(line)) {
      layout.defs.push(index);
      layout.docstrings.push(index + 3);
      layout.bodies.push(index + 5);
    }
  });
  layout.top = lines.findIndex((line) => line.startsWith('REGIONS')) + 1;
  for (const [name, at] of [['docstring', layout.docstrings[0]!], ['body', layout.bodies[0]!]] as const) {
    const expected = name === 'docstring' ? /^ {4}Reads the inputs/ : /^ {4}total = 0$/;
    if (!expected.test(lines[at] ?? '')) throw new Error(`layout: line ${at} is not a ${name} line`);
  }
  return layout;
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(name: string, samples: number[], baseline?: number[]): string {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  const max = Math.max(...samples);
  const ratio = baseline ? `  ${(percentile(baseline, 50) / p50).toFixed(1)}x faster than a full reparse at p50` : '';
  return `${name.padEnd(52)} n ${String(samples.length).padStart(4)}  p50 ${p50.toFixed(2).padStart(7)} ms   p99 ${p99.toFixed(2).padStart(7)} ms   max ${max.toFixed(1).padStart(7)} ms${ratio}`;
}

export interface Keystroke {
  start: Pos;
  end: Pos;
  text: string;
}

const defaultLayout = (() => {
  let layout: Layout | undefined;
  return () => (layout ??= layoutOf(generateFile()));
})();

/**
 * The keystrokes of one round: type `x` at column 4 of a statement inside a function body and
 * delete it again (the `x` makes a syntax error), spread across the file so no region stays hot;
 * every eighth round also an Enter and a Backspace near the top, which moves every statement below.
 */
export function keystrokes(round: number, layout: Layout = defaultLayout()): Keystroke[] {
  const line = layout.bodies[(round * 37) % layout.bodies.length]!;
  const at = { line, character: 4 };
  const typed = [
    { start: at, end: at, text: 'x' },
    { start: at, end: { line, character: 5 }, text: '' },
  ];
  if (round % 8 !== 0) return typed;
  const top = { line: layout.top, character: 0 };
  return [...typed, { start: top, end: top, text: '\n' }, { start: top, end: { line: layout.top + 1, character: 0 }, text: '' }];
}

/** A 40-line function as a user types it: word by word, quotes and brackets one at a time. */
const NEW_FUNCTION = [
  '@dutch.remote',
  'def summarise_orders(orders, region="emea", limit=100):',
  '    """Summarise the orders of one region.',
  '',
  '    Returns the totals by customer and the largest orders.',
  '    """',
  '    totals = {}',
  '    largest = []',
  '    for order in orders:',
  '        if order["region"] != region:',
  '            continue',
  '        customer = order["customer"]',
  '        totals[customer] = totals.get(customer, 0) + order["amount"]',
  '        largest.append((order["amount"], order["id"]))',
  '    largest.sort(reverse=True)',
  '    return {"totals": totals, "largest": largest[:limit]}',
  '',
  '',
];

/** The pieces a user types for `NEW_FUNCTION`, in order: words, single punctuation, newlines. */
export function typingPieces(source: string[]): string[] {
  const pieces: string[] = [];
  for (const line of source) {
    for (const token of line.match(/\s+|\w+|./g) ?? []) pieces.push(token);
    pieces.push('\n');
  }
  return pieces;
}

/** Types `pieces` at `at`, one edit per piece, returning each edit with its position. */
function typeAt(at: Pos, pieces: string[]): Keystroke[] {
  const edits: Keystroke[] = [];
  let { line, character } = at;
  for (const piece of pieces) {
    const pos = { line, character };
    edits.push({ start: pos, end: pos, text: piece });
    if (piece === '\n') {
      line += 1;
      character = 0;
    } else character += piece.length;
  }
  return edits;
}

/** Edits that type the new function at the top, then one edit that deletes it again. */
function newFunctionEdits(layout: Layout): { typed: Keystroke[]; undo: Keystroke } {
  const at = { line: layout.top, character: 0 };
  const typed = typeAt(at, typingPieces(NEW_FUNCTION));
  return { typed, undo: { start: at, end: { line: layout.top + NEW_FUNCTION.length, character: 0 }, text: '' } };
}

/** Words typed into an existing docstring, then one edit that removes them. */
function docstringEdits(layout: Layout, index: number): { typed: Keystroke[]; undo: Keystroke } {
  const line = layout.docstrings[(index * 17) % layout.docstrings.length]!;
  const pieces = typingPieces(['It also says "why" (and what) it skips.']).slice(0, -1);
  const at = { line, character: 4 };
  const typed = typeAt(at, pieces);
  const length = pieces.join('').length;
  return { typed, undo: { start: at, end: { line, character: 4 + length }, text: '' } };
}

/** Resolves in a later turn of the event loop, as the next LSP message would arrive. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Stands in for another LSP message waiting to be handled: ticks on `setImmediate` as messages
 * are handled, and records the longest gap between ticks, the longest any message had to wait.
 */
class Ticker {
  #running = false;
  #last = 0;
  longest = 0;

  start(): void {
    this.#running = true;
    this.#last = performance.now();
    this.longest = 0;
    const tick = (): void => {
      if (!this.#running) return;
      const now = performance.now();
      this.longest = Math.max(this.longest, now - this.#last);
      this.#last = now;
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  stop(): number {
    this.#running = false;
    return Math.max(this.longest, performance.now() - this.#last);
  }
}

/** A remote error as a real run leaves it: three frames inside the function. */
function storedError(i: number): RunRecord {
  return {
    runId: `run-${i}`,
    function: `task_${i}`,
    mode: 'remote',
    status: 'error',
    args: `${i}, b=3`,
    call: `${i}, b=3`,
    stdout: `task ${i} started\n`,
    stderr: '',
    durationMs: 812,
    backend: 'cluster 0123-456789-abcdef',
    finishedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    error: {
      type: 'ZeroDivisionError',
      message: 'division by zero',
      origin: 'remote',
      relativeLine: 14,
      frames: [
        { function: `task_${i}`, line: 5, text: 'for x in range(a):', relativeLine: 4 },
        { function: `task_${i}`, line: 7, text: 'total += x * b * scale', relativeLine: 6 },
        { function: `task_${i}`, line: 15, text: 'ratio = total / max(1, len(values))', relativeLine: 14 },
      ],
    } as RunRecord['error'],
  };
}

/** A workspace with the file and `errors` stored remote errors of its functions. */
export function workspace(text: string, errors: number): { root: string; path: string } {
  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-'));
  mkdirSync(join(root, '.git'));
  const path = join(root, 'big.py');
  writeFileSync(path, text);
  const store = new ResultStore(join(root, '.choppa'), () => undefined);
  for (let i = 0; i < errors; i += 1) store.set(`big.py::task_${i}`, storedError(i));
  return { root, path };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

/** A server build to measure: this one, or the baseline named by CHOPPA_BENCH_BASELINE. */
interface Build {
  name: string;
  /** Its `server/dist/main.js` (the in-process waits load its modules from beside it). */
  main: string;
  /** The command that starts its server over stdio. */
  command: string[];
}

// This build's server as editors start it: through the `choppa-lsp` launcher.
const THIS_BUILD: Build = {
  name: 'this build',
  main: fileURLToPath(new URL('../../server/dist/main.js', import.meta.url)),
  command: [process.execPath, fileURLToPath(new URL('../../server/bin/choppa-lsp.cjs', import.meta.url)), '--stdio'],
};

function buildsToRun(): Build[] {
  const baseline = process.env.CHOPPA_BENCH_BASELINE;
  return baseline ? [THIS_BUILD, { name: 'baseline', main: baseline, command: [process.execPath, baseline, '--stdio'] }] : [THIS_BUILD];
}

function startServer(build: Build, root: string): Promise<EditorClient> {
  return EditorClient.start({ root, command: build.command });
}

/** Full reparse + analysis of `text`, the baseline every keystroke is compared with. */
function fullReparse(text: string, samples: number): number[] {
  const parser = createPythonParser();
  const queries = compileQueries(loadQuerySources());
  const times: number[] = [];
  for (let i = 0; i < samples + 2; i += 1) {
    const t0 = performance.now();
    const tree = parser.parse(text);
    analyze(tree, text, queries);
    if (i >= 2) times.push(performance.now() - t0);
    parser.free(tree);
  }
  return times;
}

/** Sends each edit and waits for the diagnostics of its version; returns the times. */
async function typeServed(editor: EditorClient, uri: string, edits: Keystroke[]): Promise<number[]> {
  const times: number[] = [];
  for (const edit of edits) {
    const t0 = performance.now();
    await editor.change(uri, { start: edit.start, end: edit.end }, edit.text);
    await editor.waitForDiagnostics(uri);
    times.push(performance.now() - t0);
  }
  return times;
}

const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');

/** One build's server with the file open, and what its keystrokes cost. */
interface Served {
  build: Build;
  editor: EditorClient;
  uri: string;
  body: number[];
  newFunction: number[];
  docstring: number[];
}

/** Starts each build's server on its own copy of the workspace and waits for the first diagnostics. */
async function serveAll(builds: Build[], layout: Layout, label: string): Promise<Served[]> {
  const served: Served[] = [];
  for (const build of builds) {
    const { root, path } = workspace(layout.text, 100);
    const editor = await startServer(build, root);
    const uri = await editor.open(path, layout.text);
    const first = await editor.waitForDiagnostics(uri, (diagnostics) => diagnostics.some((d) => d.code === 'remote-error'));
    if (build === builds[0]) {
      const errors = first.filter((d) => d.code === 'remote-error').length;
      const problems = first.filter((d) => d.code !== 'remote-error').length;
      process.stdout.write(`${label}: ${layout.lines} lines, ${layout.defs.length} decorated task functions, ${errors} stored remote errors shown, ${problems} other diagnostics\n`);
    }
    served.push({ build, editor, uri, body: [], newFunction: [], docstring: [] });
  }
  return served;
}

/** Each round's edits go to every server in turn, the order alternating, so both see the same machine. */
function inTurn(served: Served[], round: number): Served[] {
  return round % 2 === 0 ? served : [...served].reverse();
}

async function stdioTyping(builds: Build[], layout: Layout, label: string, rounds: number, newFunctionEvery: number, full: number[]): Promise<Served[]> {
  const served = await serveAll(builds, layout, label);
  try {
    // Warm-up: the servers' code paths and caches, not counted.
    for (let i = 0; i < 20; i += 1) for (const s of inTurn(served, i)) await typeServed(s.editor, s.uri, keystrokes(i, layout));
    for (let round = 0; round < rounds; round += 1) {
      for (const s of inTurn(served, round)) {
        s.body.push(...(await typeServed(s.editor, s.uri, keystrokes(round + 20, layout))));
        if (round % newFunctionEvery !== 0) continue;
        const { typed, undo } = newFunctionEdits(layout);
        s.newFunction.push(...(await typeServed(s.editor, s.uri, typed)));
        await typeServed(s.editor, s.uri, [undo]);
        const inDoc = docstringEdits(layout, round);
        s.docstring.push(...(await typeServed(s.editor, s.uri, inDoc.typed)));
        await typeServed(s.editor, s.uri, [inDoc.undo]);
      }
    }
    process.stdout.write(`${row('  full reparse + analysis (in process)', full)}\n`);
    for (const s of served) {
      const all = allOf(s);
      const tag = builds.length > 1 ? ` (${s.build.name})` : '';
      process.stdout.write(`${row(`  keystroke in a body${tag}`, s.body, full)}\n`);
      process.stdout.write(`${row(`  typing a new function at the top${tag}`, s.newFunction, full)}\n`);
      process.stdout.write(`${row(`  typing inside a docstring${tag}`, s.docstring, full)}\n`);
      process.stdout.write(`${row(`  all keystrokes${tag}`, all, full)}\n`);
      process.stdout.write(`  server RSS after ${all.length + 80} keystrokes${tag}: ${rssMb(s.editor.child.pid!).toFixed(0)} MB\n`);
    }
    return served;
  } finally {
    for (const s of served) await s.editor.stop();
  }
}

function allOf(served: Served): number[] {
  return [...served.body, ...served.newFunction, ...served.docstring];
}

/** What one child process measured of a build's document path in process (`messageWaitsHere`). */
interface Waits {
  /** The longest wait of another message per keystroke, after the first 20 rounds. */
  waits: number[];
  /** The same for the first 20 rounds after the open (code not yet optimized). */
  cold: number[];
  /**
   * How long the main thread sat runnable but off the CPU (its run-queue delay in
   * /proc/self/task/<pid>/schedstat) during each keystroke of `cold` then `waits`: time the
   * machine's other processes had the cores, not time spent in this process.
   */
  runQueue: number[];
  /** Major collections during the measured keystrokes, and their longest pause. */
  majorGcs: number;
  majorGcMaxMs: number;
}

const WAITS_FLAG = '--message-waits';

/**
 * The in-process waits of `build`, in a child process of its own (two builds in one process
 * would share a heap and its collections): node --expose-gc this file --message-waits <server dist>.
 */
function messageWaits(build: Build): Waits {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), WAITS_FLAG, dirname(build.main)], { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 300_000 });
  return JSON.parse(out.slice(out.lastIndexOf('\n{'))) as Waits;
}

/**
 * The server's own document path in this process, loaded from `serverDist` (a build's
 * `server/dist`), to see how long other messages wait behind it while typing in a 30k-line file.
 */
async function messageWaitsHere(serverDist: string): Promise<Waits> {
  const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(serverDist, path)).href)) as T;
  const engine = await load<typeof import('choppa-lsp/syntax/load-parser-engine.js')>('syntax/load-parser-engine.js');
  await engine.loadParserEngine();
  const { Documents: DocumentsOf } = await load<{ Documents: typeof Documents }>('documents.js');
  const { createPythonParser: parserOf } = await load<typeof import('choppa-lsp/syntax/parser.js')>('syntax/parser.js');
  const { compileQueries: compile } = await load<typeof import('choppa-lsp/syntax/queries.js')>('syntax/queries.js');
  const { loadQuerySources: sources } = await load<typeof import('choppa-lsp/query-files.js')>('query-files.js');
  const majors: Array<{ start: number; duration: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as unknown as { detail: { kind: number } }).detail.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) majors.push({ start: entry.startTime, duration: entry.duration });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const layout = layoutOf(generateFile(30_000));
  const documents = new DocumentsOf(parserOf(), compile(sources()));
  const uri = 'file:///bench/big.py';
  // The open's own parse and first analysis are not a keystroke's: typing starts once it is done
  // (as the stdio scenarios wait for the first diagnostics).
  await new Promise<void>((resolve) => documents.openDocument(uri, 1, layout.text, () => resolve()));
  let version = 1;
  const ticker = new Ticker();
  const runQueue: number[] = [];
  const type = async (edits: Keystroke[]): Promise<number[]> => {
    const waits: number[] = [];
    for (const edit of edits) {
      await nextTurn();
      const queuedBefore = runQueueMs();
      ticker.start();
      await new Promise<void>((resolve) => {
        version += 1;
        documents.change(uri, version, [{ range: { start: edit.start, end: edit.end }, text: edit.text }], () => resolve());
      });
      waits.push(ticker.stop());
      runQueue.push(runQueueMs() - queuedBefore);
    }
    return waits;
  };
  // The first 20 rounds (what the stdio scenarios leave out as warm-up) are reported apart too.
  const cold = await type(Array.from({ length: 20 }, (_, round) => keystrokes(round, layout)).flat());
  const measuredFrom = performance.now();
  const { typed } = newFunctionEdits(layout);
  const waits = await type([...Array.from({ length: 60 }, (_, round) => keystrokes(round + 20, layout)).flat(), ...typed]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  const measured = majors.filter((gc) => gc.start >= measuredFrom);
  return { waits, cold, runQueue, majorGcs: measured.length, majorGcMaxMs: Math.max(0, ...measured.map((gc) => gc.duration)) };
}

/** The main thread's total run-queue delay so far, in ms (0 where /proc has no schedstat). */
function runQueueMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return 0;
  }
}

/** Server RSS of each build after `keystrokeCount` keystrokes typed as a user types (each waits for its diagnostics). */
async function memoryAfterTyping(builds: Build[], layout: Layout, keystrokeCount: number): Promise<Array<{ build: Build; rss: number; most: number }>> {
  const served: Served[] = [];
  try {
    for (const build of builds) {
      const { root, path } = workspace(layout.text, 100);
      const editor = await startServer(build, root);
      const uri = await editor.open(path, layout.text);
      await editor.waitForDiagnostics(uri);
      served.push({ build, editor, uri, body: [], newFunction: [], docstring: [] });
    }
    let sent = 0;
    // RSS is sampled every round from the 1,000th keystroke on too: one reading can land just
    // before or after a major collection.
    const most = served.map(() => 0);
    for (let round = 0; sent < keystrokeCount; round += 1) {
      const edits = keystrokes(round, layout);
      if (round % 40 === 0) {
        const { typed, undo } = newFunctionEdits(layout);
        edits.push(...typed, undo);
      }
      for (const s of inTurn(served, round)) await typeServed(s.editor, s.uri, edits);
      sent += edits.length;
      if (sent >= 1_000) served.forEach((s, index) => (most[index] = Math.max(most[index]!, rssMb(s.editor.child.pid!))));
    }
    return served.map((s, index) => ({ build: s.build, rss: rssMb(s.editor.child.pid!), most: most[index]! }));
  } finally {
    for (const s of served) await s.editor.stop();
  }
}

/** Opens `files` at once; how long a request sent right after waits, and until all diagnostics. */
async function opening(build: Build, files: Array<{ name: string; text: string }>): Promise<{ answered: number; diagnosed: number; rss: number }> {
  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-open-'));
  mkdirSync(join(root, '.git'));
  for (const { name, text } of files) writeFileSync(join(root, name), text);
  const editor = await startServer(build, root);
  try {
    await editor.executeCommand('choppa.listRuns', {});
    const t0 = performance.now();
    const uris: string[] = [];
    for (const { name, text } of files) uris.push(await editor.open(join(root, name), text));
    await editor.executeCommand('choppa.listRuns', {});
    const answered = performance.now() - t0;
    for (const uri of uris) await editor.waitForDiagnostics(uri);
    const diagnosed = performance.now() - t0;
    return { answered, diagnosed, rss: rssMb(editor.child.pid!) };
  } finally {
    await editor.stop();
  }
}

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

async function main(): Promise<void> {
  await loadParserEngine();
  const cpus = (await import('node:os')).cpus().length;
  const builds = buildsToRun();
  const only = new Set((process.env.CHOPPA_BENCH_ONLY ?? 'typing,waits,memory,opening').split(','));
  const tag = (build: Build): string => (builds.length > 1 ? ` (${build.name})` : '');
  process.stdout.write(`${describeParserEngine()} (CHOPPA_PARSER=wasm for the other path; parser-engines.bench compares both)\n`);
  process.stdout.write(`machine: ${cpus} cores, load average ${load()} at start${builds.length > 1 ? `; baseline ${builds[1]!.main}` : ''}\n\n`);
  const layout = layoutOf(generateFile(10_000));
  const large = layoutOf(generateFile(30_000));
  if (only.has('typing')) {
    const full = fullReparse(layout.text, 30);
    const typed = await stdioTyping(builds, layout, 'Through the server over stdio, didChange to its diagnostics published (100 stored errors)', 150, 50, full);
    for (const s of typed) {
      const all = allOf(s);
      process.stdout.write(`target${tag(s.build)}: p50 ≤ 5 ms: ${met(percentile(all, 50) <= 5)}; p99 ≤ 16 ms: ${met(percentile(all, 99) <= 16)}; ≥ 10x faster than a full reparse at p50: ${met(percentile(full, 50) / percentile(all, 50) >= 10)}\n`);
    }
    process.stdout.write(`load average ${load()}\n\n`);
    const largeFull = fullReparse(large.text, 10);
    const largeTyped = await stdioTyping(builds, large, 'The same at 30,000 lines', 40, 20, largeFull);
    for (const s of largeTyped) process.stdout.write(`target${tag(s.build)}: 30k lines p99 ≤ 30 ms: ${met(percentile(allOf(s), 99) <= 30)}\n`);
    process.stdout.write(`load average ${load()}\n\n`);
  }

  if (only.has('waits')) {
    process.stdout.write('In process, 30k lines: longest wait of another message per keystroke, from the first keystroke after the open (a child process per build and run)\n');
    const results = new Map<Build, Waits[]>(builds.map((build) => [build, []]));
    for (let run = 0; run < 2; run += 1) for (const build of builds) results.get(build)!.push(messageWaits(build));
    for (const build of builds) {
      const runs = results.get(build)!;
      const cold = runs.flatMap((r) => r.cold);
      const warm = runs.flatMap((r) => r.waits);
      const all = [...cold, ...warm];
      process.stdout.write(`${row(`  all keystrokes${tag(build)}`, all)}\n`);
      process.stdout.write(`${row(`    the first ${cold.length / runs.length} after the open${tag(build)}`, cold)}\n`);
      process.stdout.write(`${row(`    the rest${tag(build)}`, warm)}\n`);
      process.stdout.write(`    major collections in the rest: ${runs.map((r) => r.majorGcs).join(' + ')}, longest pause ${Math.max(...runs.map((r) => r.majorGcMaxMs)).toFixed(1)} ms\n`);
      // The longest waits, and how much of each keystroke the main thread spent waiting for a core.
      const queued = runs.flatMap((r) => r.runQueue);
      const longest = all.map((wait, index) => ({ wait, queued: queued[index] ?? 0 })).sort((a, b) => b.wait - a.wait).slice(0, 4);
      process.stdout.write(`    longest waits: ${longest.map(({ wait, queued: q }) => `${wait.toFixed(1)} ms (${q.toFixed(1)} ms of it off the CPU, runnable)`).join(', ')}\n`);
      process.stdout.write(`target${tag(build)}: no message waits > 16 ms: ${met(Math.max(...all) <= 16)} (max ${Math.max(...all).toFixed(1)} ms)\n`);
    }
    process.stdout.write(`load average ${load()}\n\n`);
  }

  if (only.has('memory')) {
    for (const { build, rss, most } of await memoryAfterTyping(builds, layout, 3_000)) {
      process.stdout.write(`Memory${tag(build)}: server RSS, one 10k-line file after 3,000 keystrokes: ${rss.toFixed(0)} MB (target ≤ 150 MB: ${met(rss <= 150)}); the most from the 1,000th on: ${most.toFixed(0)} MB\n`);
    }
    process.stdout.write(`load average ${load()}\n`);
  }
  if (only.has('opening')) {
    const fifty = Array.from({ length: 50 }, (_, k) => ({ name: `module_${k}.py`, text: generateFile(2_000) }));
    for (const build of builds) {
      const many = await opening(build, fifty);
      const one = await opening(build, [{ name: 'large.py', text: large.text }]);
      process.stdout.write(`Memory${tag(build)}: server RSS, 50 files of 2,000 lines open: ${many.rss.toFixed(0)} MB (target ≤ 250 MB: ${met(many.rss <= 250)})\n`);
      process.stdout.write(`Opening a 30k-line file${tag(build)}: next request answered after ${one.answered.toFixed(0)} ms (target ≤ 100 ms: ${met(one.answered <= 100)}), diagnostics after ${one.diagnosed.toFixed(0)} ms\n`);
      process.stdout.write(`Opening 50 files of 2,000 lines${tag(build)}: next request answered after ${many.answered.toFixed(0)} ms, diagnostics of all after ${many.diagnosed.toFixed(0)} ms\n`);
    }
  }
  process.stdout.write(`load average at end: ${load()}\n`);
}

// Run when executed, not when the parser-engine benchmark imports the file and keystrokes.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === WAITS_FLAG) {
    void messageWaitsHere(process.argv[3]!).then((waits) => process.stdout.write(`\n${JSON.stringify(waits)}\n`));
  } else {
    void main();
  }
}
