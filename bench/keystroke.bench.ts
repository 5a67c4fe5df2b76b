// `npm run bench`: what one keystroke costs on a 10,000-line file with 500 decorated functions, in
// one process: what `didChange` blocks for (edit + one parse slice), how long until the analysis
// of the new text is ready, the old synchronous path (edit + whole reparse + analysis) and a full
// reparse as the baseline; then the same keystrokes and requests through the real server over stdio.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { analyze } from 'choppa-lsp/analysis/analyze.js';
import type { Pos } from 'choppa-lsp/analysis/model.js';
import { EditorClient } from 'choppa-lsp/demo/editor-client.js';
import { Documents } from 'choppa-lsp/documents.js';
import { loadQuerySources } from 'choppa-lsp/query-files.js';
import { compileQueries } from 'choppa-lsp/syntax/queries.js';
import { createPythonParser, SyntaxDocument } from 'choppa-lsp/syntax/parser.js';
import { loadParserEngine } from 'choppa-lsp/syntax/load-parser-engine.js';
import { describeParserEngine } from 'choppa-lsp/syntax/parser-engine.js';

const FUNCTIONS = 500;
const LINES = 10_000;
/** The 0-based line of the first `def`, and the distance between two. */
const FIRST_DEF = 8;
const FUNCTION_LINES = 21;

/**
 * A realistic file: imports, a Choppa instance, 500 decorated functions of about 20 lines each,
 * and the calls under `if __name__ == "__main__":`. No filler: thousands of consecutive comment
 * lines make tree-sitter-python's indentation scanner quadratic, which real files never are.
 */
export function generateFile(): string {
  const lines = ['import json', 'import numpy as np', 'from choppa import Choppa', '', 'dutch = Choppa(result_size_max=2**20)', ''];
  const kinds = ['remote', 'artifact', 'submit'];
  for (let i = 0; i < FUNCTIONS; i += 1) {
    lines.push('', `@dutch.${kinds[i % 3]}`, `def task_${i}(a, b=2, *rest, scale: float = 1.0, **options):`);
    lines.push(`    """Task ${i}: sums, filters and reports."""`, '    total = 0', '    for x in range(a):', '        total += x * b * scale');
    lines.push('        if x % 7 == 0:', '            total -= len(rest)', '        elif x % 11 == 0:', '            total += 1');
    lines.push(`    values = [v * ${i} for v in range(10) if v % 2]`, '    pairs = {k: v for k, v in options.items() if v is not None}');
    lines.push('    try:', '        ratio = total / max(1, len(values))', '    except ZeroDivisionError:', '        ratio = 0.0');
    lines.push('    result = {"total": total, "values": values, "ratio": ratio, "pairs": pairs}', `    print("task ${i}", result)`, '    return result');
  }
  lines.push('', 'if __name__ == "__main__":');
  for (let i = 0; lines.length < LINES; i = (i + 1) % FUNCTIONS) lines.push(`    r${i} = task_${i}(${i}, b=3)`);
  return `${lines.join('\n')}\n`;
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(name: string, samples: number[], baseline?: number[]): string {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  const ratio = baseline ? `  ${(percentile(baseline, 50) / p50).toFixed(1)}x faster at p50` : '';
  return `${name.padEnd(44)} p50 ${p50.toFixed(2).padStart(7)} ms   p99 ${p99.toFixed(2).padStart(7)} ms${ratio}`;
}

export interface Keystroke {
  start: Pos;
  end: Pos;
  text: string;
}

/**
 * The keystrokes of one round: type `x` at column 4 of a statement inside a function body and
 * delete it again (the `x` makes a syntax error, which is what sends tree-sitter's error recovery
 * over much of the file), spread across the file so no region stays hot; every eighth round also
 * an Enter and a Backspace near the top, which moves every statement below.
 */
export function keystrokes(round: number): Keystroke[] {
  const line = FIRST_DEF + ((round * 37) % (FUNCTIONS - 1)) * FUNCTION_LINES + 4;
  const at = { line, character: 4 };
  const typed = [
    { start: at, end: at, text: 'x' },
    { start: at, end: { line, character: 5 }, text: '' },
  ];
  if (round % 8 !== 0) return typed;
  const top = { line: 5, character: 0 };
  return [...typed, { start: top, end: top, text: '\n' }, { start: top, end: { line: 6, character: 0 }, text: '' }];
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

async function main(): Promise<void> {
  await loadParserEngine();
  process.stdout.write(`${describeParserEngine()} (CHOPPA_PARSER=wasm for the other path; parser-engines.bench compares both)\n`);
  const text = generateFile();
  const parser = createPythonParser();
  const queries = compileQueries(loadQuerySources());
  const synchronous = new SyntaxDocument(text);
  const lineCount = text.split('\n').length;
  const first = analyze(synchronous.tree, synchronous.text, queries);
  process.stdout.write(`file: ${lineCount} lines, ${first.functions.length} decorated functions, ${first.problems.length} problems\n\n`);
  // The server's own path, with its own memo so neither path warms the other's.
  const documents = new Documents(createPythonParser(), compileQueries(loadQuerySources()));
  const uri = 'file:///bench/big.py';
  documents.openDocument(uri, 1, text);
  let version = 1;

  const full: number[] = [];
  const sync: number[] = [];
  const blocking: number[] = [];
  const fresh: number[] = [];
  const waits: number[] = [];
  const ticker = new Ticker();
  const rounds = 400;
  for (let i = 0; i < rounds; i += 1) {
    for (const edit of keystrokes(i)) {
      const t0 = performance.now();
      synchronous.applyEdit(edit);
      analyze(synchronous.tree, synchronous.text, queries);
      sync.push(performance.now() - t0);
      await nextTurn();

      ticker.start();
      let ready = 0;
      const analyzed = new Promise<void>((resolve) => {
        const t1 = performance.now();
        version += 1;
        documents.change(uri, version, [{ range: { start: edit.start, end: edit.end }, text: edit.text }], () => {
          ready = performance.now() - t1;
          resolve();
        });
        blocking.push(performance.now() - t1);
      });
      await analyzed;
      fresh.push(ready);
      waits.push(ticker.stop());
      await nextTurn();
    }
    // Baseline, interleaved: a fresh parse of the same text plus the same analysis.
    const t2 = performance.now();
    const tree = parser.parse(synchronous.text);
    analyze(tree, synchronous.text, queries);
    full.push(performance.now() - t2);
  }
  if (documents.get(uri)?.syntax.text !== synchronous.text) throw new Error('the two paths disagree on the text');
  process.stdout.write(`In process (${sync.length} keystrokes, ${sync.length / rounds} a round; analysis of the whole file each time):\n`);
  process.stdout.write(`${row('full reparse + analysis (baseline)', full)}\n`);
  process.stdout.write(`${row('synchronous edit + reparse + analysis (old)', sync, full)}\n`);
  process.stdout.write(`${row('didChange blocks: edit + one parse slice', blocking, full)}\n`);
  process.stdout.write(`${row('keystroke to fresh analysis (sliced)', fresh, full)}\n`);
  process.stdout.write(`${row('longest wait of a message meanwhile', waits)}\n`);
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  process.stdout.write(`target: didChange blocks < 5 ms at p99: ${met(percentile(blocking, 99) < 5)}\n`);
  process.stdout.write(
    `target: fresh analysis no later than the old synchronous path (+10%) at p50 and p99: ${met(
      percentile(fresh, 50) <= percentile(sync, 50) * 1.1 && percentile(fresh, 99) <= percentile(sync, 99) * 1.1,
    )}\n\n`,
  );

  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-'));
  const path = join(root, 'big.py');
  writeFileSync(path, text);
  const editor = await EditorClient.start({ root });
  const served = await editor.open(path, text);
  await editor.waitForDiagnostics(served);
  const keystroke: number[] = [];
  const codeAction: number[] = [];
  const hover: number[] = [];
  const published: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const line = FIRST_DEF + ((i * 53) % FUNCTIONS) * FUNCTION_LINES;
    const position = { line, character: 6 };
    let t0 = performance.now();
    await editor.change(served, { start: { line: line + 4, character: 4 }, end: { line: line + 4, character: 4 } }, ' ');
    await editor.change(served, { start: { line: line + 4, character: 4 }, end: { line: line + 4, character: 5 } }, '');
    await editor.request('textDocument/hover', { textDocument: { uri: served }, position });
    keystroke.push((performance.now() - t0) / 2);
    t0 = performance.now();
    await editor.request('textDocument/codeAction', { textDocument: { uri: served }, range: { start: position, end: position }, context: { diagnostics: [] } });
    codeAction.push(performance.now() - t0);
    t0 = performance.now();
    await editor.request('textDocument/hover', { textDocument: { uri: served }, position });
    hover.push(performance.now() - t0);
    // A syntax-breaking keystroke, then its undo, each until the diagnostics of its version arrive.
    const at = { line: line + 3, character: 4 };
    for (const [end, typed] of [[at, 'x'], [{ line: line + 3, character: 5 }, '']] as const) {
      t0 = performance.now();
      await editor.change(served, { start: at, end }, typed);
      await editor.waitForDiagnostics(served);
      published.push(performance.now() - t0);
    }
  }
  await editor.stop();
  process.stdout.write('Through the server over stdio (JSON-RPC round trip included):\n');
  process.stdout.write(`${row('didChange (half of two edits + a hover)', keystroke)}\n`);
  process.stdout.write(`${row('didChange to fresh publishDiagnostics', published)}\n`);
  process.stdout.write(`${row('textDocument/codeAction', codeAction)}\n`);
  process.stdout.write(`${row('textDocument/hover', hover)}\n`);
}

// Run when executed, not when the parser-engine benchmark imports the file and keystrokes.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
