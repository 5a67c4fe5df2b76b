// Scope lint: which free names of a remote function are flagged and which are not, and both quick
// fixes applied to the text.
import { describe, it, expect } from 'vitest';
import { analyzeText, applyEdits, parsesCleanly, showSpan } from './support.js';

const HEADER = 'from choppa import Choppa\ndutch = Choppa()\n';

/** The flagged names, as `name line:col`, for the snippet after the header. */
function check(snippet: string): string[] {
  return analyzeText(HEADER + snippet)
    .problems.filter((p) => p.code === 'free-name')
    .map((p) => `${p.function}: ${p.message.slice(0, p.message.indexOf(':'))} ${showSpan(p.span)}`);
}

/** Applies fix number `index` of the first problem about `name`; the result must parse. */
function fix(snippet: string, name: string, index: number): string {
  const text = HEADER + snippet;
  const problem = analyzeText(text).problems.find((p) => p.code === 'free-name' && p.message.startsWith(`\`${name}\``));
  const chosen = problem?.fixes[index];
  if (!chosen) return `no fix ${index} for ${name}: ${JSON.stringify(problem?.fixes.map((f) => f.title))}`;
  const result = applyEdits(text, chosen.edits).slice(HEADER.length);
  expect(parsesCleanly(HEADER + result), result).toBe(true);
  return `${chosen.title}${chosen.preferred ? ' (preferred)' : ''}\n${result}`;
}

describe('scope lint: flagged', () => {
  it('module imports, every use', () => {
    expect(check('import numpy as np\nimport a.b\nfrom x import y as z\n@dutch.remote\ndef f():\n    return np.sum(np.ones(3)), a.b.c, z\n')).toMatchInlineSnapshot(`
      [
        "f: \`np\` is a module-level import 7:11-7:13",
        "f: \`np\` is a module-level import 7:18-7:20",
        "f: \`a\` is a module-level import 7:31-7:32",
        "f: \`z\` is a module-level import 7:38-7:39",
      ]
    `);
  });

  it('globals, sibling functions and classes, other decorated functions, the instance', () => {
    expect(
      check(`LIMIT = 3
def helper(): pass
class Point: pass
@dutch.remote
def g(): pass
@dutch.remote
def f():
    return LIMIT, helper(), Point(), g(), dutch
`),
    ).toMatchInlineSnapshot(`
      [
        "f: \`LIMIT\` is a module-level global 9:11-9:16",
        "f: \`helper\` is a function defined beside \`f\` 9:18-9:24",
        "f: \`Point\` is a class defined beside \`f\` 9:28-9:33",
        "f: \`g\` is a function defined beside \`f\` 9:37-9:38",
        "f: \`dutch\` is the Choppa instance, defined at module level 9:42-9:47",
      ]
    `);
  });

  it('module names bound inside if/try/with/for blocks', () => {
    expect(
      check(`try:
    import ujson as json
except ImportError:
    json = None
if __name__ == "__main__":
    r = 1
for i in range(3): pass
@dutch.remote
def f():
    return json, r, i
`),
    ).toMatchInlineSnapshot(`
      [
        "f: \`json\` is a module-level import 11:11-11:15",
        "f: \`r\` is a module-level global 11:17-11:18",
        "f: \`i\` is a module-level global 11:20-11:21",
      ]
    `);
  });

  it('parameter defaults are evaluated on the cluster', () => {
    expect(check('LIMIT = 3\n@dutch.remote\ndef f(n=LIMIT, *, m: int = LIMIT): return n\n')).toMatchInlineSnapshot(`
      [
        "f: \`LIMIT\` is a module-level global 4:8-4:13",
        "f: \`LIMIT\` is a module-level global 4:27-4:32",
      ]
    `);
  });

  it('a `global` declaration makes uses module globals', () => {
    expect(check('count = 0\n@dutch.remote\ndef f():\n    global count\n    count = count + 1\n')).toMatchInlineSnapshot(`
      [
        "f: \`count\` is a module-level global 6:12-6:17",
      ]
    `);
  });

  it('free names in nested functions, lambdas and comprehensions still count', () => {
    expect(
      check(`import os
@dutch.remote
def f(xs):
    def inner(): return os.sep
    g = lambda: os.name
    return [os.path.join(x) for x in xs]
`),
    ).toMatchInlineSnapshot(`
      [
        "f: \`os\` is a module-level import 5:24-5:26",
        "f: \`os\` is a module-level import 6:16-6:18",
        "f: \`os\` is a module-level import 7:12-7:14",
      ]
    `);
  });

  it('a comprehension variable does not leak out of the comprehension', () => {
    expect(check('x = 1\n@dutch.remote\ndef f(xs):\n    ys = [x for x in xs]\n    return x\n')).toMatchInlineSnapshot(`
      [
        "f: \`x\` is a module-level global 6:11-6:12",
      ]
    `);
  });

  it('the first iterable of a comprehension is evaluated outside it', () => {
    expect(check('x = [1]\n@dutch.remote\ndef f():\n    return [x for x in x]\n')).toMatchInlineSnapshot(`
      [
        "f: \`x\` is a module-level global 5:23-5:24",
      ]
    `);
  });

  it('a class body is not visible from its methods', () => {
    expect(check('y = 1\n@dutch.remote\ndef f():\n    class K:\n        y = 2\n        def m(self): return y\n    return K\n')).toMatchInlineSnapshot(`
      [
        "f: \`y\` is a module-level global 7:28-7:29",
      ]
    `);
  });
});

describe('scope lint: not flagged', () => {
  const none = (snippet: string): void => expect(check(snippet)).toEqual([]);

  it('builtins, including exceptions and dunders', () => none('x = 1\n@dutch.remote\ndef f():\n    print(len([]), ValueError, __name__, Ellipsis)\n'));
  it('Databricks notebook globals', () =>
    none('@dutch.remote\ndef f():\n    return spark, sc, sqlContext, dbutils, display, displayHTML, table, sql, udf, getArgument\n'));
  it('params of every kind', () => none('a = b = c = d = 1\n@dutch.remote\ndef f(a, /, b, *c, d=1, **kw): return a, b, c, d, kw\n'));
  it('locals bound anywhere, even after the use', () =>
    none(`x = y = z = w = v = u = t = s = r = q = 1
import os
@dutch.remote
def f(items):
    print(x)
    x = 1
    for y, (z, *w) in items: pass
    with open("f") as v, open("g") as (u, t): pass
    try: pass
    except Exception as s: pass
    if (r := 3): pass
    q += 1
    import os
    del os
`));
  it('walrus in a comprehension binds in the function', () => none('n = 1\n@dutch.remote\ndef f(xs):\n    [n := x for x in xs]\n    return n\n'));
  it('nested defs, lambdas, classes and their params', () =>
    none(`g = h = K = a = b = 1
@dutch.remote
def f():
    def g(a): return a
    h = lambda b: b
    class K: pass
    return g, h, K
`));
  it('nonlocal resolves to the enclosing function', () =>
    none('n = 1\n@dutch.remote\ndef f():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n    return n\n'));
  it('names used only in annotations', () =>
    none('from typing import List\nimport pandas as pd\nT = int\n@dutch.remote\ndef f(a: pd.DataFrame, *args: T) -> List[T]:\n    x: pd.Series = 1\n    return x\n'));
  it("the function's own decorators", () => none('import functools\n@functools.cache\n@dutch.remote\ndef f(): pass\n'));
  it('its own name (recursion)', () => none('@dutch.remote\ndef f(n): return f(n - 1)\n'));
  it('unknown names (not defined in the module)', () => none('@dutch.remote\ndef f(): return mystery\n'));
  it('match captures', () =>
    none('x = rest = kk = 1\n@dutch.remote\ndef f(v):\n    match v:\n        case [x, *rest]: return x, rest\n        case {"k": kk}: return kk\n'));
  it('attribute and keyword names are not uses', () => none('sep = k = 1\n@dutch.remote\ndef f(p):\n    return p.sep, dict(k=1)\n'));
  it('functions that are not decorated by Choppa are not linted', () => none('import os\ndef f(): return os\n@app.remote\ndef g(): return os\n'));
});

describe('scope lint: quick fixes', () => {
  it('one fix per name, shared by every use', () => {
    const problems = analyzeText(HEADER + 'import os\n@dutch.remote\ndef f():\n    return os.sep, os.name\n').problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]?.fixes).toEqual(problems[1]?.fixes);
  });

  it('add a parameter: empty, plain, defaults, star, kwargs, positional-only, trailing comma', () => {
    const cases = [
      'def f():\n    return L',
      'def f(a):\n    return L',
      'def f(a, b=1):\n    return L',
      'def f(a, *args, k):\n    return L',
      'def f(*, k):\n    return L',
      'def f(**kw):\n    return L',
      'def f(a, /, b):\n    return L',
      'def f(a=1, /):\n    return L',
      'def f(\n    a,\n    b,\n):\n    return L',
    ];
    expect(cases.map((body) => fix(`L = 1\n@dutch.remote\n${body}\n`, 'L', 0).split('\n').slice(3).join('\n'))).toMatchInlineSnapshot(`
      [
        "def f(L):
          return L
      ",
        "def f(a, L):
          return L
      ",
        "def f(a, L, b=1):
          return L
      ",
        "def f(a, L, *args, k):
          return L
      ",
        "def f(L, *, k):
          return L
      ",
        "def f(L, **kw):
          return L
      ",
        "def f(a, /, b, L):
          return L
      ",
        "def f(L, a=1, /):
          return L
      ",
        "def f(
          a,
          b, L,
      ):
          return L
      ",
      ]
    `);
  });

  it('move an import: after the docstring, with the body indentation, removing it at module level', () => {
    expect(fix('import numpy as np\n\n@dutch.remote\ndef f(x):\n    """Doc."""\n    return np.sum(x)\n', 'np', 1)).toMatchInlineSnapshot(`
      "Move \`import numpy as np\` into \`f\` (preferred)

      @dutch.remote
      def f(x):
          """Doc."""
          import numpy as np
          return np.sum(x)
      "
    `);
  });

  it('move one name out of a multi-name import', () => {
    expect(fix('import os, sys\nprint(sys.argv)\n@dutch.remote\ndef f():\n  return os.sep\n', 'os', 1)).toMatchInlineSnapshot(`
      "Move \`import os\` into \`f\` (preferred)
      import sys
      print(sys.argv)
      @dutch.remote
      def f():
        import os
        return os.sep
      "
    `);
    expect(fix('from a import b, c\nprint(b)\n@dutch.remote\ndef f():\n\treturn c\n', 'c', 1)).toMatchInlineSnapshot(`
      "Move \`from a import c\` into \`f\` (preferred)
      from a import b
      print(b)
      @dutch.remote
      def f():
      	from a import c
      	return c
      "
    `);
    expect(fix('from a import (b as bb,\n    c)\n@dutch.remote\ndef f():\n    return bb\n', 'bb', 1)).toMatchInlineSnapshot(`
      "Move \`from a import b as bb\` into \`f\` (preferred)
      from a import (c)
      @dutch.remote
      def f():
          from a import b as bb
          return bb
      "
    `);
  });

  it('keeps the module-level import when other code still uses it', () => {
    expect(fix('import os\nprint(os.sep)\n@dutch.remote\ndef f():\n    return os.sep\n', 'os', 1)).toMatchInlineSnapshot(`
      "Copy \`import os\` into \`f\` (still used elsewhere) (preferred)
      import os
      print(os.sep)
      @dutch.remote
      def f():
          import os
          return os.sep
      "
    `);
  });

  it('moves an import whose name appears elsewhere only after a dot or as a keyword name, which are not uses of it', () => {
    expect(
      fix('from pkg.helpers import scale\nimport pkg.other as h\nh.scale = h.size(scale=2)\n@dutch.remote\ndef work(x, y):\n    return scale(x), h.scale(y)\n', 'scale', 1),
    ).toMatchInlineSnapshot(`
      "Move \`from pkg.helpers import scale\` into \`work\` (preferred)
      import pkg.other as h
      h.scale = h.size(scale=2)
      @dutch.remote
      def work(x, y):
          from pkg.helpers import scale
          return scale(x), h.scale(y)
      "
    `);
  });

  it('one-line bodies, the only statement of a block, CRLF', () => {
    expect(fix('import os\n@dutch.remote\ndef f(): return os.sep\n', 'os', 1)).toMatchInlineSnapshot(`
      "Move \`import os\` into \`f\` (preferred)
      @dutch.remote
      def f(): import os; return os.sep
      "
    `);
    expect(fix('try:\n    import os\nexcept ImportError:\n    pass\n@dutch.remote\ndef f():\n    "Doc."\n    return os\n', 'os', 1)).toMatchInlineSnapshot(`
      "Move \`import os\` into \`f\` (preferred)
      try:
          pass
      except ImportError:
          pass
      @dutch.remote
      def f():
          "Doc."
          import os
          return os
      "
    `);
    expect(JSON.stringify(fix('import os\r\n@dutch.remote\r\ndef f():\r\n    return os.sep\r\n', 'os', 1))).toMatchInlineSnapshot(`""Move \`import os\` into \`f\` (preferred)\\n@dutch.remote\\r\\ndef f():\\r\\n    import os\\r\\n    return os.sep\\r\\n""`);
  });

  it('a use in a parameter default gets no fix (neither would help), a use in the body does', () => {
    const problems = analyzeText(HEADER + 'import os\n@dutch.remote\ndef f(x=os.sep):\n    return os.name\n').problems;
    expect(problems.map((p) => p.fixes.map((f) => f.title))).toMatchInlineSnapshot(`
      [
        [],
        [
          "Add \`os\` as a parameter of \`f\`",
          "Move \`import os\` into \`f\`",
        ],
      ]
    `);
  });

  it('a statement sharing its line with others', () => {
    expect(fix('import os; x = 1\n@dutch.remote\ndef f():\n    return os\n', 'os', 1)).toMatchInlineSnapshot(`
      "Move \`import os\` into \`f\` (preferred)
      x = 1
      @dutch.remote
      def f():
          import os
          return os
      "
    `);
  });
});
