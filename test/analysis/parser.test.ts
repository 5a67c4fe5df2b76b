// SyntaxDocument: LSP edits become tree edits with UTF-16 and CRLF positions right, and the
// incremental tree matches a fresh parse.
import { describe, it, expect } from 'vitest';
import { SyntaxDocument } from '../../server/src/syntax/parser.js';
import { analyze } from '../../server/src/analysis/analyze.js';
import { lineStarts, offsetAt, positionAt } from '../../server/src/syntax/line-index.js';
import { analyzeText, freshQueries, parser, showSpan, chunkShape, freshChunkShape } from './support.js';

// A small seeded generator, so a failing random edit sequence can be replayed.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const REALISTIC = `import numpy as np
from choppa import Choppa
dutch = Choppa(cluster_id="0123", result_size_max=10 * 1024)
LIMIT = 3

def helper(x):
    return x + 1

@dutch.remote
def get_stuff(n: int = 2) -> list[int]:
    """Fetch."""
    return [np.sqrt(i) for i in range(n)] + [LIMIT]

@dutch.artifact()
def analyze_stuff(data, *, k=1):
    return helper(data) * k

if __name__ == "__main__":
    with dutch.session():
        data = get_stuff(5)
        analyze_stuff(data, k=2)
`;

describe('positions', () => {
  it('columns are UTF-16 code units, after an emoji and on a non-ASCII identifier', () => {
    const text = 's = "😀"; é = 1\nx = é\n';
    const tree = parser.parse(text);
    const second = tree.rootNode.namedChildren[1]!;
    expect(second.text).toBe('é = 1');
    expect(second.startPosition).toEqual({ row: 0, column: 10 });
    expect(second.startIndex).toBe(text.indexOf('é'));
    const use = tree.rootNode.namedChildren[2]!.descendantsOfType('identifier')[1]!;
    expect(use.startPosition).toEqual({ row: 1, column: 4 });
    expect(use.endPosition).toEqual({ row: 1, column: 5 });
  });

  it('a decorated function after an emoji line reports UTF-16 spans', () => {
    const a = analyzeText('from choppa import Choppa\nd = Choppa()\n@d.remote\ndef f(ü):\n    s = "😀😀"; return ü + größe\ngröße = 1\n');
    expect(a.functions.map((f) => `${f.name} ${showSpan(f.nameSpan)} ${f.params.map((p) => showSpan(p.span))}`)).toMatchInlineSnapshot(`
      [
        "f 3:4-3:5 3:6-3:7",
      ]
    `);
    expect(a.problems.map((p) => `${p.code} ${showSpan(p.span)}`)).toMatchInlineSnapshot(`
      [
        "free-name 4:27-4:32",
      ]
    `);
  });

  it('CRLF: `\\r` is not a column, and positions past a line end clamp before it', () => {
    const text = 'ab\r\ncd\r\n';
    const starts = lineStarts(text);
    expect(offsetAt(text, starts, { line: 0, character: 2 })).toBe(2);
    expect(offsetAt(text, starts, { line: 0, character: 9 })).toBe(2);
    expect(offsetAt(text, starts, { line: 1, character: 1 })).toBe(5);
    expect(offsetAt(text, starts, { line: 7, character: 0 })).toBe(text.length);
    expect(positionAt(starts, 5)).toEqual({ line: 1, character: 1 });
  });

  it('CRLF files analyze like LF files, with `\\n` in the shipped source', () => {
    const lf = analyzeText(REALISTIC);
    const crlf = analyzeText(REALISTIC.replace(/\n/g, '\r\n'));
    expect(crlf.functions.map((f) => f.source)).toEqual(lf.functions.map((f) => f.source));
    expect(crlf.functions.map((f) => f.span)).toEqual(lf.functions.map((f) => f.span));
    expect(crlf.calls.map((c) => c.span)).toEqual(lf.calls.map((c) => c.span));
    expect(crlf.problems.map((p) => p.span)).toEqual(lf.problems.map((p) => p.span));
  });
});

describe('SyntaxDocument', () => {
  it('applies an edit incrementally', () => {
    const doc = new SyntaxDocument('x = 1\ny = 2\n');
    doc.applyEdit({ start: { line: 1, character: 4 }, end: { line: 1, character: 5 }, text: 'f(3)' });
    expect(doc.text).toBe('x = 1\ny = f(3)\n');
    expect(chunkShape(doc)).toEqual(freshChunkShape(doc.text));
    doc.replaceAll('z = 0\n');
    expect(doc.chunks.map((chunk) => chunk.text).join('')).toBe('z = 0\n');
  });

  it('handles edits with non-ASCII text and CRLF', () => {
    const doc = new SyntaxDocument('a = "😀"\r\nb = é\r\n');
    doc.applyEdit({ start: { line: 1, character: 4 }, end: { line: 1, character: 5 }, text: 'ü😀 + 1\r\nc = 2' });
    expect(doc.text).toBe('a = "😀"\r\nb = ü😀 + 1\r\nc = 2\r\n');
    expect(chunkShape(doc)).toEqual(freshChunkShape(doc.text));
  });

  it('random edits give the same tree and analysis as a fresh parse of the final text', () => {
    const pieces = ['x', '(', ')', ':', '\n', '    ', '@dutch.remote\n', 'def g(a):\n    return np.a\n', 'é', '😀', '"', ',', 'import os\n', '\r\n', ''];
    for (let seed = 1; seed <= 12; seed++) {
      const next = random(seed);
      const queries = freshQueries();
      const doc = new SyntaxDocument(REALISTIC);
      for (let step = 0; step < 60; step++) {
        const starts = lineStarts(doc.text);
        const pick = (): { line: number; character: number } => {
          const line = Math.floor(next() * starts.length);
          return { line, character: Math.floor(next() * 30) };
        };
        let start = pick();
        let end = next() < 0.5 ? start : pick();
        if (end.line < start.line || (end.line === start.line && end.character < start.character)) [start, end] = [end, start];
        const text = pieces[Math.floor(next() * pieces.length)]!;
        doc.applyEdit({ start, end, text });
        // Analyze as the server does, on every keystroke, so the memo is exercised.
        analyze(doc.chunks, doc.text, queries);
      }
      const fresh = parser.parse(doc.text);
      expect(chunkShape(doc), `seed ${seed}`).toEqual(freshChunkShape(doc.text));
      expect(analyze(doc.chunks, doc.text, queries), `seed ${seed}`).toEqual(analyze(fresh, doc.text, freshQueries()));
    }
  });
});
