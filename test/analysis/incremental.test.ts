// Incremental analysis must equal a fresh one: after every seeded random edit, the analysis of the
// edited document (its chunks re-cut and reparsed where the edit was) with a warm memo is compared
// with a fresh document analyzed by new, empty queries, and, whenever the text parses cleanly,
// with the analysis of one whole-file tree.
// Edits favour what shifts cached statements (lines added or removed above functions). Parses
// left pending (a slice that ran out of time, then more edits) must end in the same tree.

import { describe, it, expect } from 'vitest';
import { SyntaxDocument, type TextChange } from '../../server/src/syntax/parser.js';
import { analyze, summarizeSome } from '../../server/src/analysis/analyze.js';
import { lineStarts, offsetAt } from '../../server/src/syntax/line-index.js';
import { freshQueries, parser, parsesCleanly, chunkShape, freshChunkShape } from './support.js';
import type { FileAnalysis } from '../../server/src/analysis/model.js';

// A small seeded generator, so a failing random edit sequence can be replayed.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const BASE = `import numpy as np
from choppa import Choppa
dutch = Choppa(cluster_id="0123")
LIMIT = 3

@dutch.remote
def first(a, b=2):
    """Doc."""
    return np.sqrt(a) + LIMIT + b

def helper(x):
    return x + 1

@dutch.artifact()
def größe(ü, *rest, k=1):
    s = "😀😀"
    return helper(ü) * k

@dutch.submit
def third(n):
    import os
    return os.path.join(str(n), "x")

if __name__ == "__main__":
    with dutch.session():
        data = first(5)
        größe(data, k=2)
`;

// Whole lines (the common case that shifts every later statement) and a few in-line pieces.
const LINES = ['# comment\n', '\n', 'x = 1\n', 'é = "😀"\n', 'import os\n', '@dutch.remote\ndef extra(q):\n    return q\n', '    y = 2\n'];
const PIECES = ['x', '(', ')', ':', '😀', 'é', ' ', '"'];

function randomChange(text: string, next: () => number, eol: string): TextChange {
  const starts = lineStarts(text);
  const line = Math.floor(next() * starts.length);
  const roll = next();
  if (roll < 0.45) {
    const inserted = LINES[Math.floor(next() * LINES.length)]!.replace(/\n/g, eol);
    return { start: { line, character: 0 }, end: { line, character: 0 }, text: inserted };
  }
  if (roll < 0.75) {
    const count = 1 + Math.floor(next() * 2);
    return { start: { line, character: 0 }, end: { line: line + count, character: 0 }, text: '' };
  }
  const character = Math.floor(next() * 20);
  const piece = PIECES[Math.floor(next() * PIECES.length)]!;
  const end = next() < 0.6 ? character : character + 1;
  return { start: { line, character }, end: { line, character: end }, text: piece };
}

/** The analysis of a fresh document of `text`, with an empty memo. */
function freshAnalysis(text: string): FileAnalysis {
  const doc = new SyntaxDocument(text);
  try {
    return analyze(doc.chunks, text, freshQueries());
  } finally {
    doc.dispose();
  }
}

function checkSequence(seed: number, eol: string): { withFunctions: number; clean: number } {
  let clean = 0;
  const next = random(seed);
  const queries = freshQueries();
  const doc = new SyntaxDocument(BASE.replace(/\n/g, eol));
  analyze(doc.chunks, doc.text, queries);
  let withFunctions = 0;
  for (let step = 0; step < 40; step++) {
    doc.applyEdit(randomChange(doc.text, next, eol));
    expect(doc.lineStarts, `seed ${seed}, step ${step}, line table`).toEqual(lineStarts(doc.text));
    const incremental = analyze(doc.chunks, doc.text, queries);
    const fresh = freshAnalysis(doc.text);
    expect(incremental, `seed ${seed}, step ${step}`).toEqual(fresh);
    if (fresh.functions.length > 0) withFunctions++;
    if (parsesCleanly(doc.text)) {
      expect(incremental, `seed ${seed}, step ${step}, one tree`).toEqual(analyze(parser.parse(doc.text), doc.text, freshQueries()));
      clean++;
    }
  }
  return { withFunctions, clean };
}

describe('incremental analysis equals a fresh one', () => {
  it('lines added above a cached function move its defLine and spans', () => {
    const queries = freshQueries();
    const doc = new SyntaxDocument('from choppa import Choppa\n\ndutch = Choppa()\n\n@dutch.remote\ndef add(a, b=2):\n    return a + b\n');
    analyze(doc.chunks, doc.text, queries);
    doc.applyEdit({ start: { line: 1, character: 0 }, end: { line: 1, character: 0 }, text: '# one\n# two\n# three\n' });
    const fn = analyze(doc.chunks, doc.text, queries).functions[0];
    expect(fn?.defLine).toBe(8);
    expect(fn?.nameSpan.start).toEqual({ line: 8, character: 4 });
    doc.applyEdit({ start: { line: 1, character: 0 }, end: { line: 3, character: 0 }, text: '' });
    expect(analyze(doc.chunks, doc.text, queries).functions[0]?.defLine).toBe(6);
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('random line and character edits, %s', (_name, eol) => {
    let withFunctions = 0;
    let clean = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const counts = checkSequence(seed, eol);
      withFunctions += counts.withFunctions;
      clean += counts.clean;
    }
    // Most steps still have decorated functions, so the comparison is not vacuous (few parse
    // cleanly: statement-chunks.test.ts compares with one whole-file tree on clean code).
    expect(withFunctions).toBeGreaterThan(200);
  });
});

describe('the line table kept through edits', () => {
  it('equals a fresh one after typing, joining and splitting lines, and a paste of 12,000 lines', () => {
    const doc = new SyntaxDocument(BASE.replace(/\n/g, '\r\n'));
    const edits: TextChange[] = [
      { start: { line: 5, character: 3 }, end: { line: 5, character: 3 }, text: 'x' },
      { start: { line: 5, character: 2 }, end: { line: 7, character: 1 }, text: '' },
      { start: { line: 2, character: 0 }, end: { line: 2, character: 0 }, text: 'a\nb\r\n\n' },
      { start: { line: 9, character: 0 }, end: { line: 9, character: 0 }, text: 'y = 1\n'.repeat(12_000) },
      { start: { line: 1, character: 0 }, end: { line: 3, character: 0 }, text: '\n' },
      { start: { line: 100, character: 0 }, end: { line: 12_005, character: 0 }, text: '' },
    ];
    for (const [index, edit] of edits.entries()) {
      doc.applyEdit(edit);
      expect(doc.lineStarts, `edit ${index}`).toEqual(lineStarts(doc.text));
    }
  });
});

describe('summaries moved in slices', () => {
  it('an Enter at the top moves every summary below it, a few chunks per slice, to the same analysis', () => {
    const text = BASE.repeat(60);
    const queries = freshQueries();
    const doc = new SyntaxDocument(text);
    analyze(doc.chunks, doc.text, queries);
    doc.applyEdit({ start: { line: 1, character: 0 }, end: { line: 1, character: 0 }, text: '\n' });
    // A clock that has run out at every look: each slice still does some work, and slices end.
    let slices = 1;
    while (!summarizeSome(doc.chunks, queries, () => true)) {
      slices++;
      expect(slices).toBeLessThan(1000);
    }
    expect(slices).toBeGreaterThan(3);
    const moved = analyze(doc.chunks, doc.text, queries);
    expect(moved.functions.at(-1)?.defLine).toBe(freshAnalysis(doc.text).functions.at(-1)?.defLine);
    expect(moved).toEqual(freshAnalysis(doc.text));
    // Moved again (in place now, the first move made the copy), up and down, problems included.
    for (const text of ['\n\n', '# a comment\n', '']) {
      const end = text === '' ? { line: 4, character: 0 } : { line: 1, character: 0 };
      doc.applyEdit({ start: { line: 1, character: 0 }, end, text });
      const again = analyze(doc.chunks, doc.text, queries);
      expect(again.problems.length).toBeGreaterThan(0);
      expect(again).toEqual(freshAnalysis(doc.text));
    }
  });
});

// Large enough that a parse slice of a microsecond cannot finish it.
const LARGE = BASE.repeat(40);

describe('parses left pending end in the same tree and analysis', () => {
  it('a document is pending until slices finish it or its chunks are read', () => {
    const doc = new SyntaxDocument(LARGE);
    expect(doc.pending).toBe(true);
    doc.finishParse();
    expect(doc.pending).toBe(false);
    doc.applyEdit({ start: { line: 6, character: 0 }, end: { line: 6, character: 0 }, text: 'x' });
    expect(doc.pending).toBe(true);
    expect(doc.text.split('\n')[6]).toBe('xdef first(a, b=2):');
    doc.replaceAll(LARGE);
    expect(doc.continueParse(0.001)).toBe(false);
    expect(doc.pending).toBe(true);
    // Reading the chunks finishes the parse: they are never behind the text.
    expect(chunkShape(doc)).toEqual(freshChunkShape(doc.text));
    expect(doc.pending).toBe(false);
    expect(doc.continueParse(0.001)).toBe(true);
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('bursts of edits while a parse is pending, %s', (_name, eol) => {
    for (let seed = 1; seed <= 6; seed++) {
      const next = random(seed);
      const queries = freshQueries();
      const doc = new SyntaxDocument(LARGE.replace(/\n/g, eol));
      let pendingEdits = 0;
      for (let step = 0; step < 60; step++) {
        // As the server does: one slice per keystroke, more slices only now and then, so most
        // edits land on a pending parse and compose on the last complete tree.
        doc.applyEdit(randomChange(doc.text, next, eol));
        if (!doc.continueParse(0.001)) pendingEdits++;
        const roll = next();
        if (roll < 0.15) doc.continueParse(0.5);
        else if (roll < 0.25) doc.finishParse();
        else if (roll < 0.3) analyze(doc.chunks, doc.text, queries);
      }
      doc.finishParse();
      const fresh = parser.parse(doc.text);
      expect(chunkShape(doc), `seed ${seed}`).toEqual(freshChunkShape(doc.text));
      expect(analyze(doc.chunks, doc.text, queries), `seed ${seed}`).toEqual(freshAnalysis(doc.text));
      if (parsesCleanly(doc.text)) expect(analyze(doc.chunks, doc.text, queries), `seed ${seed}`).toEqual(analyze(fresh, doc.text, freshQueries()));
      expect(pendingEdits, 'most edits left a parse pending').toBeGreaterThan(30);
    }
  });

  it('a full replacement while pending, then ranged edits before any parse finishes', () => {
    const doc = new SyntaxDocument(LARGE);
    doc.applyEdit({ start: { line: 3, character: 0 }, end: { line: 3, character: 0 }, text: '(' });
    expect(doc.continueParse(0.001)).toBe(false);
    doc.replaceAll(BASE.repeat(30));
    expect(doc.continueParse(0.001)).toBe(false);
    doc.applyEdit({ start: { line: 5, character: 0 }, end: { line: 6, character: 0 }, text: '' });
    doc.applyEdit({ start: { line: 0, character: 0 }, end: { line: 0, character: 0 }, text: 'import os\n' });
    while (!doc.continueParse(0.5));
    expect(doc.text.startsWith('import os\nimport numpy as np\n')).toBe(true);
    const fresh = parser.parse(doc.text);
    expect(chunkShape(doc)).toEqual(freshChunkShape(doc.text));
    expect(analyze(doc.chunks, doc.text, freshQueries())).toEqual(analyze(fresh, doc.text, freshQueries()));
  });
});

/** `change` applied to `text` as an editor applies it (the model the document is checked against). */
function applied(text: string, change: TextChange): string {
  const starts = lineStarts(text);
  const at = (pos: TextChange['start']): number => offsetAt(text, starts, pos);
  const [from, to] = [at(change.start), at(change.end)].sort((a, b) => a - b);
  return text.slice(0, from) + change.text + text.slice(to);
}

describe('the chunks are the text', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('after random edits (%s), the text joined from the chunks is the edited text, every line reads from its chunk, and the analysis read by lines equals a fresh one', (_name, eol) => {
    for (let seed = 1; seed <= 6; seed++) {
      const next = random(seed);
      const queries = freshQueries();
      let expected = BASE.repeat(8).replace(/\n/g, eol);
      const doc = new SyntaxDocument(expected);
      for (let step = 0; step < 60; step++) {
        // The document's own text is not read between edits: each edit works on the chunks alone.
        const change = randomChange(expected, next, eol);
        expected = applied(expected, change);
        doc.applyEdit(change);
        expect(doc.length, `seed ${seed}, step ${step}`).toBe(expected.length);
        if (step % 6 === 5) expect(analyze(doc.chunks, doc.lines, queries), `seed ${seed}, step ${step}`).toEqual(freshAnalysis(expected));
      }
      const lines = expected.split('\n');
      for (let line = 0; line <= lines.length; line++) expect(doc.lineText(line), `seed ${seed}, line ${line}`).toBe(lines[line]);
      expect(doc.lineStarts).toEqual(lineStarts(expected));
      expect(doc.text).toBe(expected);
      expect(chunkShape(doc)).toEqual(freshChunkShape(expected));
    }
  });

  it('an opened string that swallows the rest of the file is cut again over the whole rest, and closing it brings the old chunks back', () => {
    const text = BASE.repeat(6);
    const doc = new SyntaxDocument(text);
    const queries = freshQueries();
    analyze(doc.chunks, doc.lines, queries);
    const at = { line: 4, character: 0 };
    doc.applyEdit({ start: at, end: at, text: "NOTE = '''\n" });
    const opened = applied(text, { start: at, end: at, text: "NOTE = '''\n" });
    expect(chunkShape(doc)).toEqual(freshChunkShape(opened));
    expect(analyze(doc.chunks, doc.lines, queries)).toEqual(freshAnalysis(opened));
    // The four statements above it, and the rest of the file as one chunk: the cut ran past the
    // chunks around the edit, to the end.
    expect(doc.chunks.length).toBe(5);
    doc.applyEdit({ start: at, end: { line: 5, character: 0 }, text: '' });
    expect(doc.text).toBe(text);
    expect(chunkShape(doc)).toEqual(freshChunkShape(text));
    const back = analyze(doc.chunks, doc.lines, queries);
    expect(back).toEqual(freshAnalysis(text));
    expect(doc.chunks.length).toBeGreaterThan(30);
    // BASE repeated defines its functions again and again: the earlier definitions are warnings.
    expect(back.functions.length + back.problems.filter((problem) => problem.code === 'function-redefined').length).toBeGreaterThan(10);
  });
});

describe('trees dropped while a large file is still being parsed', () => {
  it('chunks summarized as they are parsed give up their trees, and the analysis equals a fresh one', () => {
    const doc = new SyntaxDocument(LARGE);
    const queries = freshQueries();
    let slices = 0;
    while (doc.pending) {
      doc.continueParse(0.5, 1);
      const parsed = doc.parsedSoFar;
      expect(parsed.length).toBeLessThanOrEqual(1);
      if (parsed.length > 0) summarizeSome(parsed, queries, () => false);
      doc.dropParsedTrees();
      expect(doc.parsedSoFar).toHaveLength(0);
      slices++;
    }
    expect(slices).toBeGreaterThan(10);
    expect(analyze(doc.chunks, doc.lines, queries)).toEqual(freshAnalysis(LARGE));
  });
});
