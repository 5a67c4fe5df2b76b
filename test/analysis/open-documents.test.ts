// The server's open documents (`documents.ts`): a large file opened in slices and then typed in,
// keystroke by keystroke as an editor sends them, must end with the analysis a fresh parse of its
// text gives, with no tree left over from the open, and with decorated functions on their lines
// after edits above them move them; and argument source split once and kept for the runs after.

import { describe, expect, it } from 'vitest';
import { Documents, type OpenDocument } from '../../server/src/documents.js';
import { analyze } from '../../server/src/analysis/analyze.js';
import { SyntaxDocument } from '../../server/src/syntax/parser.js';
import type { FileAnalysis } from '../../server/src/analysis/model.js';
import { freshQueries, parser } from './support.js';

const SECTION = `
@dutch.remote
def task(a, b=2):
    """Doc."""
    total = 0
    for x in range(a):
        total += x * b
    return total

def helper(rows):
    return [row for row in rows if row]
`;

function file(sections: number): string {
  const body = Array.from({ length: sections }, (_, i) => SECTION.replace('def task', `def task_${i}`).replace('def helper', `def helper_${i}`)).join('');
  return `import json\nfrom choppa import Choppa\n\ndutch = Choppa()\n${body}`;
}

function fresh(text: string): FileAnalysis {
  const doc = new SyntaxDocument(text);
  try {
    return analyze(doc.chunks, text, freshQueries());
  } finally {
    doc.dispose();
  }
}

const URI = 'file:///project/big.py';

function analysed(documents: Documents, run: (done: (document: OpenDocument) => void) => void): Promise<OpenDocument> {
  return new Promise((resolve) => run(resolve));
}

describe('an open document', () => {
  it('opened in slices, it never holds the trees of what it parsed, and its analysis is a fresh one', async () => {
    const text = file(300);
    const documents = new Documents(parser, freshQueries());
    const opened = documents.openDocument(URI, 1, text);
    let turns = 0;
    while (opened.syntax.pending) {
      await new Promise((resolve) => setImmediate(resolve));
      // Between continuations nothing parsed is still held: each chunk gave its tree up once summarized.
      expect(opened.syntax.parsedSoFar).toHaveLength(0);
      turns++;
    }
    expect(turns).toBeGreaterThan(3);
    const document = await analysed(documents, (done) => documents.change(URI, 2, [], done));
    expect(document.analysis).toEqual(fresh(text));
    expect(document.analysis.functions).toHaveLength(300);
    documents.close(URI);
  });

  it('after hundreds of keystrokes (typing, Enters above the functions, deletions) its analysis is a fresh one of the typed text', async () => {
    const text = file(60);
    const documents = new Documents(parser, freshQueries());
    await analysed(documents, (done) => documents.openDocument(URI, 1, text, done));
    let version = 1;
    let expected = text;
    const lines = (): string[] => expected.split('\n');
    const type = async (line: number, character: number, endLine: number, endCharacter: number, inserted: string): Promise<OpenDocument> => {
      const all = lines();
      const offset = (l: number, c: number): number => all.slice(0, l).reduce((sum, row) => sum + row.length + 1, 0) + c;
      expected = expected.slice(0, offset(line, character)) + inserted + expected.slice(offset(endLine, endCharacter));
      version += 1;
      return analysed(documents, (done) => documents.change(URI, version, [{ range: { start: { line, character }, end: { line: endLine, character: endCharacter } }, text: inserted }], done));
    };
    let document: OpenDocument | undefined;
    for (let round = 0; round < 60; round++) {
      const body = lines().findIndex((row, index) => index > round * 3 && row === '    total = 0');
      // A character typed into a body and deleted again (a syntax error in between).
      document = await type(body, 4, body, 4, 'x');
      document = await type(body, 4, body, 5, '');
      // An Enter at the top moves every function below; every fifth round it stays.
      document = await type(4, 0, 4, 0, '\n');
      if (round % 5 !== 0) document = await type(4, 0, 5, 0, '');
      // A new function typed at the top, word by word.
      if (round % 20 === 0) for (const piece of ['@dutch.remote\n', 'def ', 'added', '(n', '):\n', '    return', ' n\n']) document = await type(3, 0, 3, 0, piece);
    }
    expect(document!.syntax.text).toBe(expected);
    const analysis = document!.analysis;
    expect(analysis).toEqual(fresh(expected));
    // The functions sit on their lines in the typed text.
    const rows = lines();
    for (const fn of analysis.functions) expect(rows[fn.defLine]).toMatch(new RegExp(`^def ${fn.name}\\(`));
    documents.close(URI);
  });
});

describe('the analysis in steps', () => {
  it('gives what the analysis at once gives, in many steps on a large file', async () => {
    const { analyzeInSteps } = await import('../../server/src/analysis/analyze.js');
    const text = file(400);
    const doc = new SyntaxDocument(text);
    const queries = freshQueries();
    const steps = analyzeInSteps(doc.chunks, doc.lines, queries);
    let count = 0;
    let step = steps.next();
    for (; !step.done; step = steps.next()) count++;
    expect(count).toBeGreaterThan(5);
    expect(step.value).toEqual(fresh(text));
    expect(step.value).toEqual(analyze(doc.chunks, doc.lines, freshQueries()));
    doc.dispose();
  });
});

describe('argument splits', () => {
  it('splits the same arguments again from its memo, each caller with a copy of its own', () => {
    const documents = new Documents(parser, freshQueries());
    const first = documents.parseArguments('1, b=data, *rest')!;
    expect(first.map((arg) => [arg.keyword, arg.identifier, arg.text, arg.splat])).toEqual([
      [undefined, undefined, '1', undefined],
      ['b', 'data', 'data', undefined],
      [undefined, 'rest', 'rest', '*'],
    ]);
    first[1]!.span.start.character = 99;
    first.pop();
    const again = documents.parseArguments('1, b=data, *rest')!;
    expect(again).toHaveLength(3);
    expect(again[1]!.span.start.character).not.toBe(99);
    expect(documents.parseArguments('1, (')).toBeUndefined();
    expect(documents.parseArguments('1, (')).toBeUndefined();
  });
});
