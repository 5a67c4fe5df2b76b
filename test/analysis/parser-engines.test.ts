// Both parser engines, native tree-sitter and web-tree-sitter on WebAssembly, give the same
// trees and the same analysis on the same text (whole files, every prefix, random damage,
// CRLF and non-ASCII), and the engine a process runs is the one `CHOPPA_PARSER` asks for.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../server/src/analysis/analyze.js';
import { loadNativeEngine } from '../../server/src/syntax/native-engine.js';
import { parserEngine, type ParserEngine } from '../../server/src/syntax/parser-engine.js';
import { compileQueries } from '../../server/src/syntax/queries.js';
import { SyntaxDocument } from '../../server/src/syntax/parser.js';
import { loadWasmEngine } from '../../server/src/syntax/wasm-engine.js';
import { chunkShape, freshChunkShape, sources } from './support.js';

const REPO = join(import.meta.dirname, '..', '..');
const PIPELINE = readFileSync(join(REPO, 'examples', 'demo', 'pipeline.py'), 'utf8');

let native: ParserEngine;
let wasm: ParserEngine;

beforeAll(async () => {
  native = loadNativeEngine();
  wasm = await loadWasmEngine();
});

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The tree and the analysis of `text` on one engine, with a fresh query memo. */
function read(engine: ParserEngine, text: string): { tree: string; analysis: unknown } {
  const tree = engine.createParser().parse(text);
  return { tree: tree.rootNode.toString(), analysis: analyze(tree, text, compileQueries(sources, engine)) };
}

function expectSame(text: string, label: string): void {
  const a = read(native, text);
  const b = read(wasm, text);
  expect(b.tree, label).toBe(a.tree);
  expect(b.analysis, label).toEqual(a.analysis);
}

describe('native and WebAssembly parsers agree', () => {
  it('on the demo file, LF and CRLF, with its functions found', () => {
    expectSame(PIPELINE, 'LF');
    expectSame(PIPELINE.replace(/\n/g, '\r\n'), 'CRLF');
    const functions = (read(wasm, PIPELINE).analysis as { functions: { name: string }[] }).functions.map((f) => f.name);
    expect(functions).toContain('get_stuff');
  });

  it('on every prefix of the demo file', () => {
    for (let end = 0; end <= PIPELINE.length; end += 17) expectSame(PIPELINE.slice(0, end), `prefix ${end}`);
  });

  it('on random damage and non-ASCII text', () => {
    const next = random(16);
    const junk = ['(', ')', ':', '@dutch.remote\n', 'def ', '"', "'''", '😀', 'é', '\n    ', '\r\n', 'lambda', '[', ','];
    let text = PIPELINE;
    for (let i = 0; i < 120; i++) {
      const at = Math.floor(next() * text.length);
      text = next() < 0.5 ? text.slice(0, at) + junk[Math.floor(next() * junk.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + Math.floor(next() * 12));
      if (i % 4 === 0) expectSame(text, `step ${i}`);
    }
  });
});

describe('WebAssembly memory', () => {
  it('stays bounded over many edits of a large file (superseded trees are freed)', () => {
    // Every full-text change (some clients send only those) is a tree of its own, over 1.5 MB of
    // WebAssembly heap for this text, which the collector never sees: 150 of them kept grew
    // the process by about 250 MB.
    const big = Array.from({ length: 60 }, () => PIPELINE).join('\n');
    const document = new SyntaxDocument(big, wasm);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 150; i++) {
      if (i % 2) {
        document.replaceAll(`${document.text}#`);
      } else {
        const at = { line: (i * 37) % 1000, character: 0 };
        document.applyEdit({ start: at, end: at, text: 'x ' });
      }
      document.finishParse();
    }
    const grownMb = (process.memoryUsage().rss - before) / 1e6;
    expect(grownMb).toBeLessThan(150);
    expect(chunkShape(document)).toEqual(freshChunkShape(document.text, native));
  });
});

describe('the engine of this process', () => {
  it('is the one CHOPPA_PARSER names (native when unset and the addon loads)', () => {
    const wanted = process.env['CHOPPA_PARSER'] === 'wasm' ? 'wasm' : 'native';
    expect(parserEngine().kind).toBe(wanted);
    expect(parserEngine().description).toMatch(wanted === 'wasm' ? /^web-tree-sitter 0\.\d+\.\d+ \(WebAssembly\), tree-sitter-python 0\.25/ : /^tree-sitter 0\.25\.\d+ \(native addon\)/);
  });
});
