// Decorated functions: every decorator form, parameters, the shipped source and its `def` line,
// and the unsupported forms (async, methods, nested) reported instead of silently skipped.
import { describe, it, expect } from 'vitest';
import { functionAt } from '../../server/src/analysis/analyze.js';
import { analyzeText, cursor, showSpan } from './support.js';

const HEADER = 'from choppa import Choppa\ndutch = Choppa()\n';

function check(snippet: string): string[] {
  const analysis = analyzeText(HEADER + snippet);
  return [
    ...analysis.functions.map(
      (fn) =>
        `${fn.kind} ${fn.name} via ${fn.instance} def@${fn.defLine} name ${showSpan(fn.nameSpan)} decorator ${showSpan(fn.decoratorSpan)} span ${showSpan(fn.span)}`,
    ),
    ...analysis.problems.filter((p) => p.code !== 'free-name').map((p) => `${p.severity} ${p.code} ${showSpan(p.span)}: ${p.message}`),
  ];
}

function params(snippet: string): string[] {
  return analyzeText(HEADER + snippet).functions.flatMap((fn) =>
    fn.params.map((p) => `${p.name} ${p.kind}${p.hasDefault ? ' =' : ''} ${showSpan(p.span)}`),
  );
}

describe('decorated functions', () => {
  it('bare and called decorators of each kind', () => {
    expect(
      check(`@dutch.remote
def a(): pass
@dutch.artifact()
def b(): pass
@dutch.submit(timeout=3)
def c(): pass
`),
    ).toMatchInlineSnapshot(`
      [
        "remote a via dutch def@3 name 3:4-3:5 decorator 2:0-2:13 span 2:0-3:13",
        "artifact b via dutch def@5 name 5:4-5:5 decorator 4:0-4:17 span 4:0-5:13",
        "submit c via dutch def@7 name 7:4-7:5 decorator 6:0-6:24 span 6:0-7:13",
      ]
    `);
  });

  it('stacked with other decorators in any order', () => {
    expect(
      check(`@functools.cache
@dutch.remote
@other
def a(): pass

@dutch.artifact
@functools.wraps(x)
def b(): pass
`),
    ).toMatchInlineSnapshot(`
      [
        "remote a via dutch def@5 name 5:4-5:5 decorator 3:0-3:13 span 2:0-5:13",
        "artifact b via dutch def@9 name 9:4-9:5 decorator 7:0-7:15 span 7:0-9:13",
        "warning decorator-not-shipped 2:0-2:16: \`@functools.cache\` does not apply where \`a\` runs remotely: only the function's own source reaches the cluster, so it runs there without this decorator (it still applies when the module runs locally).",
        "warning decorator-not-shipped 4:0-4:6: \`@other\` does not apply where \`a\` runs remotely: only the function's own source reaches the cluster, so it runs there without this decorator (it still applies when the module runs locally).",
        "warning decorator-not-shipped 8:0-8:19: \`@functools.wraps(x)\` does not apply where \`b\` runs remotely: only the function's own source reaches the cluster, so it runs there without this decorator (it still applies when the module runs locally).",
      ]
    `);
  });

  it('a decorator on something that is not a Choppa instance is not a match', () => {
    expect(check('@app.remote\ndef a(): pass\n@dutch.route\ndef b(): pass\n@remote\ndef c(): pass\n')).toMatchInlineSnapshot(`[]`);
  });

  it('with an instance from an aliased module import', () => {
    expect(analyzeText('import choppa as ch\nd = ch.Choppa()\n@d.submit\ndef job(): pass\n').functions.map((f) => f.name)).toEqual(['job']);
  });

  it('a function defined again: the last definition is the function, the earlier ones warn', () => {
    expect(check('@dutch.remote\ndef f(a): return 1\n\n@dutch.artifact\ndef f(a): return 2\n\n@dutch.remote\ndef f(a): return 3\n')).toMatchInlineSnapshot(`
      [
        "remote f via dutch def@9 name 9:4-9:5 decorator 8:0-8:13 span 8:0-9:18",
        "warning function-redefined 3:4-3:5: \`f\` is defined again at line 10: from there on, and in every module that imports it, Python calls that definition, so choppa runs only that one. Rename one of them to run both.",
        "warning function-redefined 6:4-6:5: \`f\` is defined again at line 10: from there on, and in every module that imports it, Python calls that definition, so choppa runs only that one. Rename one of them to run both.",
      ]
    `);
  });

  it('definitions in the branches of an `if` are decided at run time: none is run', () => {
    expect(check('if FAST:\n    @dutch.remote\n    def f(): return 1\nelse:\n    @dutch.remote\n    def f(): return 2\n\n@dutch.remote\ndef g(): return 3\n')).toMatchInlineSnapshot(`
      [
        "remote g via dutch def@10 name 10:4-10:5 decorator 9:0-9:13 span 9:0-10:17",
        "warning function-ambiguous 4:8-4:9: \`f\` is defined 2 times in this module, not all at the top level: which definition the module binds is decided when it runs, so choppa runs none of them. Give each its own name.",
        "warning function-ambiguous 7:8-7:9: \`f\` is defined 2 times in this module, not all at the top level: which definition the module binds is decided when it runs, so choppa runs none of them. Give each its own name.",
      ]
    `);
  });

  it('async, method and nested forms are problems, not functions', () => {
    expect(
      check(`@dutch.remote
async def a(): pass

class K:
    @dutch.remote
    def method(self): pass

def outer():
    @dutch.artifact
    def inner(): pass
    return inner
`),
    ).toMatchInlineSnapshot(`
      [
        "error async-not-supported 3:10-3:11: \`a\` is an \`async def\`: \`@dutch.remote\` does not support coroutines, because the cluster runs the function synchronously and cannot await it. Make \`a\` a plain \`def\`.",
        "warning method-not-supported 7:8-7:14: \`method\` is a method of class \`K\`: \`@dutch.remote\` on methods is not supported, because only a function and its arguments reach the cluster, not \`self\` or its class. Move \`method\` to module level.",
        "warning nested-not-supported 11:8-11:13: \`inner\` is defined inside \`outer\`: \`@dutch.artifact\` on nested functions is not supported, because the enclosing function's variables do not reach the cluster. Move \`inner\` to module level.",
      ]
    `);
  });

  it('source is def to end of body without decorators; defLine is the def line', () => {
    const [fn] = analyzeText(`${HEADER}@dutch.remote()\n@other\ndef f(x):\n    """Doc."""\n    return x\n\n\ny = 1\n`).functions;
    expect(fn?.source).toMatchInlineSnapshot(`
      "def f(x):
          """Doc."""
          return x"
    `);
    expect(fn?.defLine).toBe(4);
  });

  it('CRLF in source is normalised', () => {
    const [fn] = analyzeText(`${HEADER}@dutch.remote\r\ndef f(x):\r\n    return x\r\n`).functions;
    expect(fn?.source).toBe('def f(x):\n    return x');
  });

  it('parameters of every kind', () => {
    expect(
      params(`@dutch.remote
def f(a, b: int, c=1, d: str = "x", /, e=2, *args, k, m: int = 3, **kwargs) -> None:
    pass
@dutch.remote
def g(*, only): pass
@dutch.remote
def h(*args: int, **kw: str): pass
`),
    ).toMatchInlineSnapshot(`
      [
        "a positional 3:6-3:7",
        "b positional 3:9-3:15",
        "c positional = 3:17-3:20",
        "d positional = 3:22-3:34",
        "e positional = 3:39-3:42",
        "args varargs 3:44-3:49",
        "k keyword 3:51-3:52",
        "m keyword = 3:54-3:64",
        "kwargs kwargs 3:66-3:74",
        "only keyword 6:9-6:13",
        "args varargs 8:6-8:16",
        "kw kwargs 8:18-8:27",
      ]
    `);
  });

  it('functionAt is generous: decorator, def line, body', () => {
    const at = (snippet: string): string | undefined => {
      const { text, pos } = cursor(HEADER + snippet);
      return functionAt(analyzeText(text), pos)?.name;
    };
    expect(at('@dut$0ch.remote\ndef f():\n    return 1\n')).toBe('f');
    expect(at('@dutch.remote\nd$0ef f():\n    return 1\n')).toBe('f');
    expect(at('@dutch.remote\ndef f():\n    return $01\n')).toBe('f');
    expect(at('@dutch.remote\ndef f():\n    return 1\n$0\nx = 1\n')).toBeUndefined();
  });
});
