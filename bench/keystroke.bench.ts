// `npm run bench`: latency of one keystroke (incremental tree edit + reparse + analysis) on a
// 10,000-line file with 500 decorated functions, side by side with a full reparse + analysis
// as the baseline, in one process; then codeAction and hover through the real server over stdio.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyze } from 'choppa-lsp/analysis/analyze.js';
import { EditorClient } from 'choppa-lsp/demo/editor-client.js';
import { loadQuerySources } from 'choppa-lsp/query-files.js';
import { compileQueries } from 'choppa-lsp/syntax/queries.js';
import { createPythonParser, SyntaxDocument } from 'choppa-lsp/syntax/parser.js';

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

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(name: string, samples: number[], baseline?: number[]): string {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  const ratio = baseline ? `  ${(percentile(baseline, 50) / p50).toFixed(1)}x faster at p50` : '';
  return `${name.padEnd(44)} p50 ${p50.toFixed(2).padStart(7)} ms   p99 ${p99.toFixed(2).padStart(7)} ms${ratio}`;
}

async function main(): Promise<void> {
  const text = generateFile();
  const parser = createPythonParser();
  const queries = compileQueries(loadQuerySources());
  const document = new SyntaxDocument(parser, text);
  const lineCount = text.split('\n').length;
  const first = analyze(document.tree, document.text, queries);
  process.stdout.write(`file: ${lineCount} lines, ${first.functions.length} decorated functions, ${first.problems.length} problems\n\n`);

  const incremental: number[] = [];
  const full: number[] = [];
  const rounds = 400;
  for (let i = 0; i < rounds; i += 1) {
    // Type one character inside a function body, then delete it: two keystrokes a round,
    // spread across the file so no single region stays hot.
    const line = FIRST_DEF + ((i * 37) % (FUNCTIONS - 1)) * FUNCTION_LINES + 4;
    const at = { line, character: 4 };
    for (const edit of [
      { start: at, end: at, text: 'x' },
      { start: at, end: { line, character: 5 }, text: '' },
    ]) {
      const t0 = performance.now();
      document.applyEdit(edit);
      analyze(document.tree, document.text, queries);
      incremental.push(performance.now() - t0);
    }
    // Baseline, interleaved: a fresh parse of the same text plus the same analysis.
    const t1 = performance.now();
    const tree = parser.parse(document.text);
    analyze(tree, document.text, queries);
    full.push(performance.now() - t1);
  }
  process.stdout.write('In process (one keystroke = edit + reparse + analysis of the whole file):\n');
  process.stdout.write(`${row('full reparse + analysis (baseline)', full)}\n`);
  process.stdout.write(`${row('incremental edit + reparse + analysis', incremental, full)}\n`);
  const target = percentile(incremental, 99) < 5 ? 'met' : 'MISSED';
  process.stdout.write(`target p99 < 5 ms per keystroke: ${target}\n\n`);

  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-'));
  const path = join(root, 'big.py');
  writeFileSync(path, text);
  const editor = await EditorClient.start({ root });
  const uri = await editor.open(path, text);
  await editor.waitForDiagnostics(uri);
  const keystroke: number[] = [];
  const codeAction: number[] = [];
  const hover: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const line = FIRST_DEF + ((i * 53) % FUNCTIONS) * FUNCTION_LINES;
    const position = { line, character: 6 };
    let t0 = performance.now();
    await editor.change(uri, { start: { line: line + 4, character: 4 }, end: { line: line + 4, character: 4 } }, ' ');
    await editor.change(uri, { start: { line: line + 4, character: 4 }, end: { line: line + 4, character: 5 } }, '');
    await editor.request('textDocument/hover', { textDocument: { uri }, position });
    keystroke.push((performance.now() - t0) / 2);
    t0 = performance.now();
    await editor.request('textDocument/codeAction', { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: [] } });
    codeAction.push(performance.now() - t0);
    t0 = performance.now();
    await editor.request('textDocument/hover', { textDocument: { uri }, position });
    hover.push(performance.now() - t0);
  }
  await editor.stop();
  process.stdout.write('Through the server over stdio (JSON-RPC round trip included):\n');
  process.stdout.write(`${row('didChange (half of two edits + a hover)', keystroke)}\n`);
  process.stdout.write(`${row('textDocument/codeAction', codeAction)}\n`);
  process.stdout.write(`${row('textDocument/hover', hover)}\n`);
}

void main();
