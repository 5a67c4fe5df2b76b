// One syntax error stays in its own top-level statement: later functions keep their spans, get
// no scope warnings they do not deserve, and actions at them run them, not the broken one.
import { describe, it, expect } from 'vitest';
import { callAt, functionAt } from '../../server/src/analysis/analyze.js';
import { analyzeText, cursor, freshQueries } from './support.js';

const HEAD = `from choppa import Choppa
dutch = Choppa(cluster_id="0123-456789-abc")

`;

const BROKEN = `${HEAD}@dutch.remote
def broken():
    out = {}
    out["x"] = [1, 2,
    return out

@dutch.remote
def later(a):
    import os
    return os.getcwd() + a

@dutch.artifact()
@other.thing(
    1)
def third():
    return 3

LIMIT = 4
result = later("x")
`;

describe('a syntax error inside one function', () => {
  it('leaves later functions whole, each with its own span', () => {
    const analysis = analyzeText(BROKEN);
    expect(analysis.functions.map((fn) => [fn.name, fn.kind, fn.span.start.line, fn.span.end.line])).toEqual([
      ['broken', 'remote', 3, 7],
      ['later', 'remote', 9, 12],
      ['third', 'artifact', 14, 18],
    ]);
    expect(analysis.functions[1]?.source).toBe('def later(a):\n    import os\n    return os.getcwd() + a');
  });

  it('puts no scope warning on later decorators', () => {
    const analysis = analyzeText(BROKEN);
    expect(analysis.problems.filter((problem) => problem.span.start.line > 7 && problem.code === 'free-name')).toEqual([]);
  });

  it('runs the function under the cursor, not the broken one', () => {
    const { text, pos } = cursor(BROKEN.replace('return 3', 'return $03'));
    expect(functionAt(analyzeText(text), pos)?.name).toBe('third');
    const call = cursor(BROKEN.replace('later("x")', 'later("$0x")'));
    expect(callAt(analyzeText(call.text), call.pos)?.function).toBe('later');
  });

  it('still warns about a free name after the error', () => {
    const analysis = analyzeText(BROKEN.replace('return 3', 'return LIMIT'));
    expect(analysis.problems.map((problem) => [problem.code, problem.function, problem.span.start.line])).toEqual([
      ['decorator-not-shipped', 'third', 15],
      ['free-name', 'third', 18],
    ]);
  });

  it('does not cut inside a string that has column-0 lines', () => {
    const text = `${HEAD}@dutch.remote
def broken():
    doc = """
@dutch.remote
def not_a_function():
    pass
"""
    out = [1, 2,

@dutch.remote
def fine():
    return 1
`;
    const analysis = analyzeText(text);
    expect(analysis.functions.map((fn) => fn.name)).not.toContain('not_a_function');
    expect(analysis.functions.map((fn) => fn.name)).toContain('fine');
  });

  it('gives the same answer with a warm memo as with a fresh one, after edits', () => {
    const queries = freshQueries();
    const steps = [BROKEN, BROKEN.replace('[1, 2,', '[1, 2]'), BROKEN, BROKEN.replace('def later(a)', 'def later(a, b)')];
    for (const text of steps) expect(analyzeText(text, queries)).toEqual(analyzeText(text, freshQueries()));
  });

  it('a closed bracket gives the same functions as before the error', () => {
    const fixed = analyzeText(BROKEN.replace('[1, 2,', '[1, 2]'));
    const broken = analyzeText(BROKEN);
    expect(broken.functions.slice(1)).toEqual(fixed.functions.slice(1));
    expect(broken.calls).toEqual(fixed.calls);
  });
});
