// `npm run bench`: what typing costs on a realistic 10,000-line file (decorated functions with
// docstrings, helpers, classes, module-level call sites, problems) with 100 stored remote errors.
// The headline is the real server over stdio: didChange until the diagnostics of that version are
// published, for a keystroke in a body, typing a new function at the top (docstring included)
// and typing inside a docstring, against a full reparse + analysis of the same text. Then the
// same at 30,000 lines, how long other messages wait, memory, and opening large files.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { analyze } from 'choppa-lsp/analysis/analyze.js';
import type { Pos } from 'choppa-lsp/analysis/model.js';
import { EditorClient } from 'choppa-lsp/demo/editor-client.js';
import { Documents } from 'choppa-lsp/documents.js';
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
  const ratio = baseline ? `  ${(percentile(baseline, 50) / p50).toFixed(1)}x faster than the baseline at p50` : '';
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

async function stdioTyping(layout: Layout, label: string, rounds: number, newFunctionEvery: number, full: number[]): Promise<{ body: number[]; all: number[] }> {
  const { root, path } = workspace(layout.text, 100);
  const editor = await EditorClient.start({ root });
  try {
    const uri = await editor.open(path, layout.text);
    const first = await editor.waitForDiagnostics(uri, (diagnostics) => diagnostics.some((d) => d.code === 'remote-error'));
    const errors = first.filter((d) => d.code === 'remote-error').length;
    const problems = first.filter((d) => d.code !== 'remote-error').length;
    process.stdout.write(`${label}: ${layout.lines} lines, ${layout.defs.length} decorated task functions, ${errors} stored remote errors shown, ${problems} other diagnostics\n`);
    // Warm-up: the server's code paths and caches, not counted.
    for (let i = 0; i < 20; i += 1) await typeServed(editor, uri, keystrokes(i, layout));
    const body: number[] = [];
    const newFunction: number[] = [];
    const docstring: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      body.push(...(await typeServed(editor, uri, keystrokes(round + 20, layout))));
      if (round % newFunctionEvery === 0) {
        const { typed, undo } = newFunctionEdits(layout);
        newFunction.push(...(await typeServed(editor, uri, typed)));
        await typeServed(editor, uri, [undo]);
        const inDoc = docstringEdits(layout, round);
        docstring.push(...(await typeServed(editor, uri, inDoc.typed)));
        await typeServed(editor, uri, [inDoc.undo]);
      }
    }
    const all = [...body, ...newFunction, ...docstring];
    process.stdout.write(`${row('  full reparse + analysis (baseline, in process)', full)}\n`);
    process.stdout.write(`${row('  keystroke in a body', body, full)}\n`);
    process.stdout.write(`${row('  typing a new function at the top', newFunction, full)}\n`);
    process.stdout.write(`${row('  typing inside a docstring', docstring, full)}\n`);
    process.stdout.write(`${row('  all keystrokes', all, full)}\n`);
    process.stdout.write(`  server RSS after ${all.length + 80} keystrokes: ${rssMb(editor.child.pid!).toFixed(0)} MB\n`);
    return { body, all };
  } finally {
    await editor.stop();
  }
}

/** The server's own document path in process, to see how long other messages wait behind it. */
async function messageWaits(layout: Layout, rounds: number): Promise<number[]> {
  const documents = new Documents(createPythonParser(), compileQueries(loadQuerySources()));
  const uri = 'file:///bench/big.py';
  // The open's own parse and first analysis are not a keystroke's: typing starts once it is done
  // (as the stdio scenarios wait for the first diagnostics).
  await new Promise<void>((resolve) => documents.openDocument(uri, 1, layout.text, () => resolve()));
  let version = 1;
  const waits: number[] = [];
  const ticker = new Ticker();
  const { typed } = newFunctionEdits(layout);
  const edits = [...Array.from({ length: rounds }, (_, round) => keystrokes(round, layout)).flat(), ...typed];
  for (const edit of edits) {
    await nextTurn();
    ticker.start();
    await new Promise<void>((resolve) => {
      version += 1;
      documents.change(uri, version, [{ range: { start: edit.start, end: edit.end }, text: edit.text }], () => resolve());
    });
    waits.push(ticker.stop());
  }
  return waits;
}

/** Server RSS after `keystrokeCount` keystrokes typed as a user types (each waits for its diagnostics). */
async function memoryAfterTyping(layout: Layout, keystrokeCount: number): Promise<number> {
  const { root, path } = workspace(layout.text, 100);
  const editor = await EditorClient.start({ root });
  try {
    const uri = await editor.open(path, layout.text);
    await editor.waitForDiagnostics(uri);
    let sent = 0;
    for (let round = 0; sent < keystrokeCount; round += 1) {
      const edits = keystrokes(round, layout);
      if (round % 40 === 0) {
        const { typed, undo } = newFunctionEdits(layout);
        edits.push(...typed, undo);
      }
      await typeServed(editor, uri, edits);
      sent += edits.length;
    }
    return rssMb(editor.child.pid!);
  } finally {
    await editor.stop();
  }
}

/** Opens `files` at once; how long a request sent right after waits, and until all diagnostics. */
async function opening(files: Array<{ name: string; text: string }>): Promise<{ answered: number; diagnosed: number; rss: number }> {
  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-open-'));
  mkdirSync(join(root, '.git'));
  for (const { name, text } of files) writeFileSync(join(root, name), text);
  const editor = await EditorClient.start({ root });
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

async function main(): Promise<void> {
  await loadParserEngine();
  const cpus = (await import('node:os')).cpus().length;
  process.stdout.write(`${describeParserEngine()} (CHOPPA_PARSER=wasm for the other path; parser-engines.bench compares both)\n`);
  process.stdout.write(`machine: ${cpus} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start\n\n`);
  const layout = layoutOf(generateFile(10_000));
  const full = fullReparse(layout.text, 30);
  const typed = await stdioTyping(layout, 'Through the server over stdio, didChange to its diagnostics published (100 stored errors)', 150, 50, full);
  process.stdout.write(`target: p50 ≤ 5 ms: ${met(percentile(typed.all, 50) <= 5)}; p99 ≤ 16 ms: ${met(percentile(typed.all, 99) <= 16)}; ≥ 10x faster than a full reparse at p50: ${met(percentile(full, 50) / percentile(typed.all, 50) >= 10)}\n\n`);

  const large = layoutOf(generateFile(30_000));
  const largeFull = fullReparse(large.text, 10);
  const largeTyped = await stdioTyping(large, 'The same at 30,000 lines', 40, 20, largeFull);
  process.stdout.write(`target: 30k lines p99 ≤ 30 ms: ${met(percentile(largeTyped.all, 99) <= 30)}\n\n`);

  const waits = await messageWaits(large, 60);
  process.stdout.write(`${row('In process, 30k lines: longest wait of another message per keystroke', waits)}\n`);
  process.stdout.write(`target: no message waits > 16 ms: ${met(Math.max(...waits) <= 16)} (max ${Math.max(...waits).toFixed(1)} ms)\n\n`);

  const rss = await memoryAfterTyping(layout, 3_000);
  process.stdout.write(`Memory: server RSS, one 10k-line file after 3,000 keystrokes: ${rss.toFixed(0)} MB (target ≤ 150 MB: ${met(rss <= 150)})\n`);
  const fifty = Array.from({ length: 50 }, (_, k) => ({ name: `module_${k}.py`, text: generateFile(2_000) }));
  const many = await opening(fifty);
  process.stdout.write(`Memory: server RSS, 50 files of 2,000 lines open: ${many.rss.toFixed(0)} MB (target ≤ 250 MB: ${met(many.rss <= 250)})\n\n`);

  const one = await opening([{ name: 'large.py', text: large.text }]);
  process.stdout.write(`Opening a 30k-line file: next request answered after ${one.answered.toFixed(0)} ms (target ≤ 100 ms: ${met(one.answered <= 100)}), diagnostics after ${one.diagnosed.toFixed(0)} ms\n`);
  process.stdout.write(`Opening 50 files of 2,000 lines: next request answered after ${many.answered.toFixed(0)} ms, diagnostics of all after ${many.diagnosed.toFixed(0)} ms\n`);
  process.stdout.write(`load average at end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
}

// Run when executed, not when the parser-engine benchmark imports the file and keystrokes.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
