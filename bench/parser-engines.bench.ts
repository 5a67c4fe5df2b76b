// `npm run bench`, second part: the native tree-sitter binding and web-tree-sitter (WebAssembly)
// side by side in one process on the same 10,000-line file and the same keystrokes, interleaved,
// then both through the real server over stdio. Target: the WebAssembly path within 2× of native.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyze } from 'choppa-lsp/analysis/analyze.js';
import { EditorClient } from 'choppa-lsp/demo/editor-client.js';
import { PARSE_SLICE_MS } from 'choppa-lsp/documents.js';
import { loadQuerySources } from 'choppa-lsp/query-files.js';
import { loadNativeEngine } from 'choppa-lsp/syntax/native-engine.js';
import { SyntaxDocument } from 'choppa-lsp/syntax/parser.js';
import type { ParserEngine, PythonParser } from 'choppa-lsp/syntax/parser-engine.js';
import { compileQueries, type CompiledQueries } from 'choppa-lsp/syntax/queries.js';
import { loadWasmEngine } from 'choppa-lsp/syntax/wasm-engine.js';
import { generateFile, keystrokes, layoutOf, percentile } from './keystroke.bench.js';

interface Path {
  name: string;
  engine: ParserEngine;
  document: SyntaxDocument;
  /** The server's own path: a document that edits, runs one slice, and is read later. */
  sliced: SyntaxDocument;
  queries: CompiledQueries;
  /** For the full reparses of the baseline. */
  parser: PythonParser;
  slice: number[];
  fresh: number[];
  full: number[];
  published: number[];
}

function newPath(name: string, engine: ParserEngine, text: string): Path {
  const queries = compileQueries(loadQuerySources(), engine);
  const document = new SyntaxDocument(text, engine);
  analyze(document.chunks, document.text, queries);
  return { name, engine, document, sliced: new SyntaxDocument(text, engine), queries, parser: engine.createParser(), slice: [], fresh: [], full: [], published: [] };
}

function figures(samples: number[]): string {
  return `p50 ${percentile(samples, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(samples, 99).toFixed(2).padStart(7)} ms`;
}

function compare(label: string, native: number[], wasm: number[]): { p50: number; p99: number } {
  const p50 = percentile(wasm, 50) / percentile(native, 50);
  const p99 = percentile(wasm, 99) / percentile(native, 99);
  process.stdout.write(`${label}\n  native  ${figures(native)}\n  wasm    ${figures(wasm)}   wasm/native ${p50.toFixed(2)}x at p50, ${p99.toFixed(2)}x at p99\n`);
  return { p50, p99 };
}

async function main(): Promise<void> {
  const text = generateFile();
  const layout = layoutOf(text);
  const native = newPath('native', loadNativeEngine(), text);
  const wasm = newPath('wasm', await loadWasmEngine(), text);
  process.stdout.write(`native: ${native.engine.description}\nwasm:   ${wasm.engine.description}\n\n`);
  const rounds = 300;
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which engine goes first, so neither always runs on a warmer machine.
    const order = round % 2 === 0 ? [native, wasm] : [wasm, native];
    for (const edit of keystrokes(round)) {
      for (const path of order) {
        let t0 = performance.now();
        path.sliced.applyEdit(edit);
        path.sliced.continueParse(PARSE_SLICE_MS);
        path.slice.push(performance.now() - t0);
        path.sliced.finishParse();
        t0 = performance.now();
        path.document.applyEdit(edit);
        analyze(path.document.chunks, path.document.text, path.queries);
        path.fresh.push(performance.now() - t0);
      }
    }
    for (const path of order) {
      const t0 = performance.now();
      const tree = path.parser.parse(path.document.text);
      analyze(tree, path.document.text, path.queries);
      path.full.push(performance.now() - t0);
      path.parser.free(tree);
    }
  }
  if (native.document.text !== wasm.document.text || native.document.chunks.map((c) => c.tree.rootNode.toString()).join() !== wasm.document.chunks.map((c) => c.tree.rootNode.toString()).join()) {
    throw new Error('the two engines disagree on the text or its tree');
  }
  process.stdout.write(`In process (${native.fresh.length} keystrokes each, interleaved):\n`);
  compare('didChange blocks: edit + one parse slice', native.slice, wasm.slice);
  const keystroke = compare('keystroke to fresh analysis: edit + incremental reparse + analysis', native.fresh, wasm.fresh);
  compare('full reparse + analysis', native.full, wasm.full);

  const root = mkdtempSync(join(tmpdir(), 'choppa-bench-engines-'));
  const file = join(root, 'big.py');
  writeFileSync(file, text);
  const editors = await Promise.all(
    [native, wasm].map(async (path) => {
      const editor = await EditorClient.start({ root, env: { CHOPPA_PARSER: path.name } });
      const uri = await editor.open(file, text);
      await editor.waitForDiagnostics(uri);
      return { path, editor, uri };
    }),
  );
  for (let i = 0; i < 100; i += 1) {
    const line = layout.bodies[(i * 53) % layout.bodies.length]!;
    const at = { line, character: 4 };
    for (const { path, editor, uri } of i % 2 === 0 ? editors : [...editors].reverse()) {
      for (const [end, typed] of [[at, 'x'], [{ line, character: 5 }, '']] as const) {
        const t0 = performance.now();
        await editor.change(uri, { start: at, end }, typed);
        await editor.waitForDiagnostics(uri);
        path.published.push(performance.now() - t0);
      }
    }
  }
  await Promise.all(editors.map(({ editor }) => editor.stop()));
  process.stdout.write(`\nThrough the server over stdio (${native.published.length} keystrokes each):\n`);
  const served = compare('didChange to fresh publishDiagnostics', native.published, wasm.published);
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  process.stdout.write(`target: WebAssembly keystroke to fresh analysis within 2x of native at p50: ${met(keystroke.p50 <= 2)} (${keystroke.p50.toFixed(2)}x)\n`);
  process.stdout.write(`target: WebAssembly didChange to fresh diagnostics within 2x of native at p50: ${met(served.p50 <= 2)} (${served.p50.toFixed(2)}x)\n`);
}

void main();
