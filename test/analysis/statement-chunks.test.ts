// Documents are parsed in chunks cut at column-0 statement starts. On code that parses cleanly the
// analysis of the chunks must equal the analysis of one whole-file tree (strings and brackets with
// column-0 lines, decorators, continuations, CRLF, non-ASCII); a keystroke reparses only its
// chunk; and an unclosed bracket or quote while typing leaves the functions after it found.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../server/src/analysis/analyze.js';
import { SyntaxDocument } from '../../server/src/syntax/parser.js';
import { chunkStarts } from '../../server/src/syntax/statement-chunks.js';
import { chunkShape, freshChunkShape, freshQueries, parser, parsesCleanly } from './support.js';

const PIPELINE = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'demo', 'pipeline.py'), 'utf8');

const TRICKY = `"""Module docstring.
def not_a_function():
    pass
"""
import os
from choppa import Choppa

dutch = Choppa(cluster_id="0123")
QUERY = """
select *
from orders
import nothing
"""
ITEMS = [
1,
2,
]
TOTAL = 1 + \\
2
@dutch.remote
# a comment between decorator and def
@other
def first(a, b=2):
    s = 'it''s'
    return a + b + len(QUERY)

first(1, b=2)
if TOTAL:
    first(2)
else:
    first(3)
try:
    x = first(4)
except Exception:
    pass
finally:
    pass

class Holder:
    @dutch.remote
    def method(self):
        return 1
@dutch.submit
def größe(ü="😀", *rest):
    """Doc with a column-0 line
import os
    """
    return ü
big = größe("é")
`;

function wholeTree(text: string): unknown {
  return analyze(parser.parse(text), text, freshQueries());
}

function chunked(text: string): unknown {
  const doc = new SyntaxDocument(text);
  try {
    return analyze(doc.chunks, text, freshQueries());
  } finally {
    doc.dispose();
  }
}

describe('chunked analysis equals one whole-file tree on clean code', () => {
  it.each([
    ['the demo pipeline', PIPELINE],
    ['strings, brackets and continuations with column-0 lines', TRICKY],
  ])('%s, LF and CRLF', (_name, text) => {
    for (const variant of [text, text.replace(/\n/g, '\r\n')]) {
      expect(parsesCleanly(variant)).toBe(true);
      expect(chunked(variant)).toEqual(wholeTree(variant));
    }
  });

  it('finds what the whole file has: functions, calls, problems', () => {
    const analysis = chunked(TRICKY) as { functions: { name: string }[]; calls: unknown[]; problems: unknown[] };
    expect(analysis.functions.map((fn) => fn.name)).toEqual(['first', 'größe']);
    expect(analysis.calls.length).toBeGreaterThanOrEqual(5);
  });

  it('every clean prefix of the demo file at a line end', () => {
    const lines = PIPELINE.split('\n');
    let compared = 0;
    for (let count = 1; count <= lines.length; count++) {
      const text = `${lines.slice(0, count).join('\n')}\n`;
      if (!parsesCleanly(text)) continue;
      expect(chunked(text), `${count} lines`).toEqual(wholeTree(text));
      compared++;
    }
    expect(compared).toBeGreaterThan(lines.length / 3);
  });

  it('does not cut inside strings, brackets, continuations or under a decorator', () => {
    const starts = chunkStarts(TRICKY);
    const cutLines = starts.map((at) => TRICKY.slice(at, TRICKY.indexOf('\n', at)));
    expect(cutLines).toEqual([
      '"""Module docstring.',
      'import os',
      'from choppa import Choppa',
      'dutch = Choppa(cluster_id="0123")',
      'QUERY = """',
      'ITEMS = [',
      'TOTAL = 1 + \\',
      '@dutch.remote',
      'first(1, b=2)',
      'if TOTAL:',
      'try:',
      'class Holder:',
      '@dutch.submit',
      'big = größe("é")',
    ]);
  });
});

describe('a keystroke is bounded by its statement', () => {
  const text = Array.from({ length: 30 }, (_, i) => `@dutch.remote\ndef f${i}(a):\n    return a + ${i}\n\n`).join('');
  const source = `from choppa import Choppa\ndutch = Choppa()\n\n${text}`;

  it('reparses only the chunk it edits; the others keep their trees', () => {
    const doc = new SyntaxDocument(source);
    const before = doc.chunks.map((chunk) => chunk.tree);
    doc.applyEdit({ start: { line: 5, character: 13 }, end: { line: 5, character: 13 }, text: ' * (' });
    const after = doc.chunks.map((chunk) => chunk.tree);
    expect(after.length).toBe(before.length);
    const changed = after.filter((tree, index) => tree !== before[index]);
    expect(changed.length).toBe(1);
    const fns = (analyze(doc.chunks, doc.text, freshQueries()) as { functions: { name: string }[] }).functions.map((fn) => fn.name);
    // The broken function is still read; the 29 after it are untouched.
    expect(fns.length).toBeGreaterThanOrEqual(29);
    expect(fns).toContain('f29');
  });

  it('an unclosed triple quote at the top flips the rest as Python would, and closing it restores everything', () => {
    const doc = new SyntaxDocument(source);
    const queries = freshQueries();
    const whole = (analyze(doc.chunks, doc.text, queries) as { functions: unknown[] }).functions.length;
    expect(whole).toBe(30);
    doc.applyEdit({ start: { line: 3, character: 0 }, end: { line: 3, character: 0 }, text: 'X = """\n' });
    expect(analyze(doc.chunks, doc.text, queries)).toEqual(chunked(doc.text));
    doc.applyEdit({ start: { line: 4, character: 0 }, end: { line: 4, character: 0 }, text: 'text"""\n' });
    expect(parsesCleanly(doc.text)).toBe(true);
    expect(analyze(doc.chunks, doc.text, queries)).toEqual(wholeTree(doc.text));
    expect((analyze(doc.chunks, doc.text, queries) as { functions: unknown[] }).functions.length).toBe(30);
  });

  it('an unclosed docstring being typed in a function leaves the functions after it found', () => {
    const doc = new SyntaxDocument(source);
    const queries = freshQueries();
    doc.applyEdit({ start: { line: 3, character: 0 }, end: { line: 3, character: 0 }, text: '@dutch.remote\ndef new(a):\n    """Summarise\n' });
    const names = (analyze(doc.chunks, doc.text, queries) as { functions: { name: string }[] }).functions.map((fn) => fn.name);
    expect(names).toContain('f0');
    expect(names).toContain('f29');
    expect(names.length).toBeGreaterThanOrEqual(30);
    doc.applyEdit({ start: { line: 6, character: 0 }, end: { line: 6, character: 0 }, text: '    """\n    return a\n\n' });
    expect(parsesCleanly(doc.text)).toBe(true);
    expect(analyze(doc.chunks, doc.text, queries)).toEqual(wholeTree(doc.text));
  });

  it('trees dropped after the analysis: the analysis stays, edits still work, a tree read is parsed again', () => {
    const doc = new SyntaxDocument(source);
    const queries = freshQueries();
    const before = analyze(doc.chunks, doc.text, queries);
    doc.dropTrees();
    expect(analyze(doc.chunks, doc.text, queries)).toEqual(before);
    doc.applyEdit({ start: { line: 5, character: 4 }, end: { line: 5, character: 4 }, text: 'x = 1\n    ' });
    expect(analyze(doc.chunks, doc.text, queries)).toEqual(chunked(doc.text));
    doc.dropTrees();
    expect(chunkShape(doc)).toEqual(freshChunkShape(doc.text));
  });

  it('positions stay exact after edits with non-ASCII text and CRLF', () => {
    const crlf = source.replace(/\n/g, '\r\n');
    const doc = new SyntaxDocument(crlf);
    doc.applyEdit({ start: { line: 2, character: 0 }, end: { line: 2, character: 0 }, text: 'é = "😀😀"\r\n\r\n' });
    doc.applyEdit({ start: { line: 7, character: 11 }, end: { line: 7, character: 11 }, text: '😀' });
    expect(analyze(doc.chunks, doc.text, freshQueries())).toEqual(wholeTree(doc.text));
  });
});
