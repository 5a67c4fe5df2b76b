// Analysis never throws: every prefix of a realistic file, random deletions, garbage, huge files.
import { describe, it, expect } from 'vitest';
import { analyze } from '../../server/src/analysis/analyze.js';
import { analyzeText, freshQueries, parser } from './support.js';

const REALISTIC = `from __future__ import annotations
import os, sys
import numpy as np
from choppa import Choppa as C

dutch: C = C(cluster_id="0123-456789-abc", result_size_max=10 * 1024 * 1024)
LIMIT = 2 ** 10

class Helper:
    @dutch.remote
    def method(self): pass

@dutch.remote()
@other(1)
def get_stuff(n: int = 3, *args, k=1, **kw) -> list[int]:
    """Docstring."""
    rows = [np.sqrt(i) for i in range(n) if i < LIMIT]
    with open(os.path.join("/tmp", "x")) as fh:
        data = fh.read()
    return rows

@dutch.artifact
async def later(): pass

@dutch.submit
def analyze_stuff(data, é="😀"):
    match data:
        case [x, *rest]: return x
    return sys.argv, é

if __name__ == "__main__":
    with dutch.session():
        data = get_stuff(5, k=2)
        analyze_stuff(data)
`;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('never throws on broken code', () => {
  it('every prefix of a realistic file', () => {
    const queries = freshQueries();
    for (let end = 0; end <= REALISTIC.length; end++) {
      const text = REALISTIC.slice(0, end);
      // With a warm memo and with a fresh one: the memo must not change the answer.
      const warm = analyze(parser.parse(text), text, queries);
      if (end % 40 === 0) expect(warm, `prefix ${end}`).toEqual(analyze(parser.parse(text), text, freshQueries()));
    }
  });

  it('random deletions and insertions of garbage', () => {
    const next = random(7);
    const queries = freshQueries();
    const garbage = ['@dutch.rem', 'def f(', '"""', "'", '(', ')', ':', '\n    ', '@dutch.remote\n', '\\', '\t', '\r', '\u0000', '😀'];
    for (let round = 0; round < 300; round++) {
      let text = REALISTIC;
      for (let k = 0; k < 3; k++) {
        const at = Math.floor(next() * text.length);
        const length = Math.floor(next() * 40);
        text = text.slice(0, at) + (next() < 0.5 ? garbage[Math.floor(next() * garbage.length)]! : '') + text.slice(at + length);
      }
      expect(() => analyze(parser.parse(text), text, queries)).not.toThrow();
    }
  });

  it('degenerate inputs', () => {
    for (const text of ['', '\n', '@dutch.remote', '@dutch.remote\n', '@dutch.rem', 'def f(', 'x = "unclosed', '\u0000\u0001', ')))(((', 'from choppa import Choppa\nd = Choppa(\n@d.remote\ndef f(']) {
      expect(() => analyzeText(text), JSON.stringify(text)).not.toThrow();
    }
    expect(analyzeText('')).toEqual({ instances: [], functions: [], calls: [], sessions: [], bindings: [], problems: [], imports: [], decoratedNames: [], importedInstances: [], importedFunctions: [] });
  });

  it('half-typed code still yields what can be found', () => {
    const a = analyzeText('from choppa import Choppa\ndutch = Choppa()\n@dutch.remote\ndef f(x):\n    return x\n@dutch.rem\n');
    expect(a.functions.map((f) => f.name)).toEqual(['f']);
  });

  it('a 10,000-line file with 500 functions', () => {
    const lines = ['import numpy as np', 'from choppa import Choppa', 'dutch = Choppa()'];
    for (let i = 0; i < 500; i++) {
      lines.push('@dutch.remote', `def f${i}(a, b=1):`, '    """Doc."""');
      for (let j = 0; j < 16; j++) lines.push(`    a = a + np.sqrt(b) * ${j}`);
      lines.push('    return a', '');
    }
    const text = lines.join('\n');
    const a = analyzeText(text, freshQueries());
    expect(text.split('\n').length).toBeGreaterThan(10_000);
    expect(a.functions).toHaveLength(500);
    expect(a.problems).toHaveLength(500 * 16);
  });
});
