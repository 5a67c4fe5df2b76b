// Call sites of decorated functions: every call form, its arguments split for resolution, the
// name a call's result is bound to, and `callAt` under a cursor.
import { describe, it, expect } from 'vitest';
import { callAt } from '../../server/src/analysis/analyze.js';
import { analyzeText, cursor, showSpan } from './support.js';

const HEADER = `from choppa import Choppa
dutch = Choppa()
@dutch.remote
def get_stuff(n=1): return n
@dutch.artifact
def analyze_stuff(data, k=1): return data
`;

function check(snippet: string): string[] {
  return analyzeText(HEADER + snippet).calls.map((call) => {
    const args = call.args.map((a) => `${a.splat ?? ''}${a.keyword ? `${a.keyword}=` : ''}${a.text}${a.identifier ? ' (id)' : ''} ${showSpan(a.span)}`);
    return `${call.function}(${call.argsSource}) ${showSpan(call.span)} name ${showSpan(call.nameSpan)}${call.boundTo ? ` -> ${call.boundTo}` : ''} [${args.join('; ')}]`;
  });
}

describe('call sites', () => {
  it('anywhere: module level, __main__, session, inside other functions', () => {
    expect(
      check(`get_stuff()
if __name__ == '__main__':
    with dutch.session():
        data = get_stuff(5)
        analyze_stuff(data, k=2)
def local():
    return analyze_stuff(get_stuff())
print(get_stuff)
other(1)
`),
    ).toMatchInlineSnapshot(`
      [
        "get_stuff() 6:0-6:11 name 6:0-6:9 []",
        "get_stuff(5) 9:15-9:27 name 9:15-9:24 -> data [5 9:25-9:26]",
        "analyze_stuff(data, k=2) 10:8-10:32 name 10:8-10:21 [data (id) 10:22-10:26; k=2 10:28-10:31]",
        "analyze_stuff(get_stuff()) 12:11-12:37 name 12:11-12:24 [get_stuff() 12:25-12:36]",
        "get_stuff() 12:25-12:36 name 12:25-12:34 []",
      ]
    `);
  });

  it('arguments: keyword, identifier, splats, literals, annotated binding', () => {
    expect(check('x: list = analyze_stuff([1, 2], *rest, k=n, **opts)\nanalyze_stuff(\n    "a",  # c\n    k=3,\n)\n')).toMatchInlineSnapshot(`
      [
        "analyze_stuff([1, 2], *rest, k=n, **opts) 6:10-6:51 name 6:10-6:23 -> x [[1, 2] 6:24-6:30; *rest (id) 6:32-6:37; k=n (id) 6:39-6:42; **opts (id) 6:44-6:50]",
        "analyze_stuff(
          "a",  # c
          k=3,
      ) 7:0-10:1 name 7:0-7:13 ["a" 8:4-8:7; k=3 9:4-9:7]",
      ]
    `);
  });

  it('callAt finds the innermost call', () => {
    const at = (snippet: string): string | undefined => {
      const { text, pos } = cursor(HEADER + snippet);
      const call = callAt(analyzeText(text), pos);
      return call && `${call.function}(${call.argsSource})`;
    };
    expect(at('analyze_stuff(get_stuff($01))\n')).toBe('get_stuff(1)');
    expect(at('analyze_st$0uff(get_stuff(1))\n')).toBe('analyze_stuff(get_stuff(1))');
    expect(at('x = 1$0\n')).toBeUndefined();
  });
});

describe('bindings and sessions', () => {
  it('module-level assignments in order, with callOf for decorated calls', () => {
    const analysis = analyzeText(
      HEADER +
        `data = get_stuff()
a, b = 1, 2
count: int = 0
count += 1
if __name__ == "__main__":
    with dutch.session():
        result: object = analyze_stuff(data)
        other = len(data)
def f():
    inner = get_stuff()
x = y = get_stuff()
`,
    );
    expect(analysis.bindings.map((b) => `${b.name} ${showSpan(b.span)}${b.callOf ? ` <- ${b.callOf}` : ''}`)).toMatchInlineSnapshot(`
      [
        "Choppa 0:19-0:25",
        "dutch 1:0-1:16",
        "get_stuff 3:4-3:13",
        "analyze_stuff 5:4-5:17",
        "data 6:0-6:18 <- get_stuff",
        "a 7:0-7:11",
        "b 7:0-7:11",
        "count 8:0-8:14",
        "count 9:0-9:10",
        "result 12:8-12:44 <- analyze_stuff",
        "other 13:8-13:25",
        "f 14:4-14:5",
        "x 16:0-16:19 <- get_stuff",
        "y 16:4-16:19 <- get_stuff",
      ]
    `);
    expect(analysis.sessions.map((s) => `${s.instance} ${showSpan(s.span)}`)).toMatchInlineSnapshot(`
      [
        "dutch 11:4-13:25",
      ]
    `);
  });

  it('a session of something that is not an instance is not a session', () => {
    expect(analyzeText(HEADER + 'with db.session():\n    pass\nwith dutch.session() as s, open(f):\n    pass\n').sessions.map((s) => s.span.start.line)).toEqual([8]);
  });
});
