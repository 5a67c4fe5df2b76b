// The INI reader against the 40 cases recorded from the Go SDK's reader (go-ini with
// SpaceBeforeInlineComment), plus the go-ini rules those cases do not cover and the `ini`
// package quirks the wrapper must neutralise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type IniSection, parseIni } from '../../server/src/config/ini.js';

interface ReferenceCase {
  name: string;
  input: string;
  sections?: { name: string; keys: { key: string; value: string }[] | null }[];
  error?: string;
}

const reference = JSON.parse(
  // __dirname rather than import.meta: the test project compiles as CommonJS, and vitest
  // provides __dirname to ESM modules too.
  readFileSync(join(__dirname, 'fixtures', 'go-ini-reference.json'), 'utf8'),
) as ReferenceCase[];

/** Sections as compact `[name] key=value` strings, so expectations read like the file. */
function render(sections: readonly { name: string; keys: readonly { key: string; value: string }[] | null }[]): string[] {
  return sections.map((s) => `[${s.name}] ${(s.keys ?? []).map((k) => `${k.key}=${JSON.stringify(k.value)}`).join(' ')}`.trimEnd());
}

function check(input: string): string[] | string {
  const result = parseIni(input);
  return result.ok ? render(result.sections) : `error: ${result.error}`;
}

describe('go-ini reference', () => {
  it('has all 40 cases', () => {
    expect(reference).toHaveLength(40);
  });

  it.each(reference)('$name', (c) => {
    const result = parseIni(c.input);
    if (c.error !== undefined) {
      expect(result.ok ? undefined : result.error).toBe(c.error);
      return;
    }
    // The fixture writes an empty section's keys as null (Go's nil slice); ours is [].
    const expected: IniSection[] = (c.sections ?? []).map((s) => ({ name: s.name, keys: s.keys ?? [] }));
    expect(result).toEqual({ ok: true, sections: expected });
  });
});

describe('go-ini rules beyond the reference', () => {
  it.each([
    ['double quotes stripped', '[a]\nk = "x y"', ['[DEFAULT]', '[a] k="x y"']],
    ['single quotes stripped', "[a]\nk = 'x'", ['[DEFAULT]', '[a] k="x"']],
    ['quoted hash kept', '[a]\npassword = "%Y#X$Z"', ['[DEFAULT]', '[a] password="%Y#X$Z"']],
    ['inner quote keeps quotes', '[a]\nk = "x"y"', ['[DEFAULT]', '[a] k="\\"x\\"y\\""']],
    ['quotes after comment cut', '[a]\nk = "x" # note', ['[DEFAULT]', '[a] k="x"']],
    ['backquoted value keeps comment chars', '[a]\nk = `x #y`', ['[DEFAULT]', '[a] k="x #y"']],
    ['triple-quoted multi-line', '[a]\nk = """one\ntwo"""\nj = 1', ['[DEFAULT]', '[a] k="one\\ntwo" j="1"']],
    // Each continued line is trimmed before it is appended, so only the first line's
    // trailing space survives.
    ['continuation lines', '[a]\nk = one \\\n  two\\\n three\nj = 1', ['[DEFAULT]', '[a] k="one twothree" j="1"']],
    ['continuation ends at a blank line', '[a]\nk = one\\\n\nj = 1', ['[DEFAULT]', '[a] k="one" j="1"']],
    ['continuation keeps comment text', '[a]\nk = x \\\n #y', ['[DEFAULT]', '[a] k="x #y"']],
    ['UTF-8 BOM skipped', '\uFEFF[a]\nk = v', ['[DEFAULT]', '[a] k="v"']],
    ['CRLF everywhere', '[a]\r\nk = v #c\r\n\r\nj: w\r\n', ['[DEFAULT]', '[a] k="v" j="w"']],
    ['text after section header ignored', '[a] ; comment\nk = v', ['[DEFAULT]', '[a] k="v"']],
    ['dotted section names are literal', '[pat.with.dot]\ntoken = t', ['[DEFAULT]', '[pat.with.dot] token="t"']],
    ['sections are case-sensitive', '[default]\nk = v', ['[DEFAULT]', '[default] k="v"']],
    ['explicit DEFAULT merges with implicit', 'a = 1\n[x]\n[DEFAULT]\nb = 2', ['[DEFAULT] a="1" b="2"', '[x]']],
    ['quoted key name', '[a]\n"k=1" = v', ['[DEFAULT]', '[a] k=1="v"']],
    ['dash keys auto-increment', '[a]\n- = x\n- = y', ['[DEFAULT]', '[a] #1="x" #2="y"']],
  ] as const)('%s', (_name, input, expected) => {
    expect(check(input)).toEqual(expected);
  });

  it.each([
    ['empty key name', '[a]\n= v', 'error: error creating new key: empty key name'],
    ['unclosed triple quote', '[a]\nk = """x\ny', "error: missing closing key quote from '\"\"\"x\n' to 'y'"],
    ['unclosed quoted key', '[a]\n"k = v', 'error: missing closing key quote: "k = v'],
  ] as const)('refuses %s', (_name, input, expected) => {
    expect(check(input)).toEqual(expected);
  });
});

describe('the ini package never leaks its own dialect', () => {
  it.each([
    ['true/false/null stay strings', '[a]\nx = true\ny = false\nz = null', ['[DEFAULT]', '[a] x="true" y="false" z="null"']],
    ['integer-like keys keep file order', '[a]\nb = 1\n2 = 2\n1 = 3', ['[DEFAULT]', '[a] b="1" 2="2" 1="3"']],
    ['integer-like sections keep file order', '[b]\n[2]\n[1]', ['[DEFAULT]', '[b]', '[2]', '[1]']],
    ['array suffix is a plain key', '[a]\nk[] = 1\nk[] = 2', ['[DEFAULT]', '[a] k[]="2"']],
    ['__proto__ is an ordinary name', '[__proto__]\n__proto__ = v', ['[DEFAULT]', '[__proto__] __proto__="v"']],
    ['escapes are not interpreted', '[a]\nk = a\\;b\\#c\\\\d', ['[DEFAULT]', '[a] k="a\\\\;b\\\\#c\\\\\\\\d"']],
    ['JSON-looking quotes are not parsed', '[a]\nk = "a\\nb"', ['[DEFAULT]', '[a] k="a\\\\nb"']],
    ['line separators survive', '[a]\nk = x\u2028y', ['[DEFAULT]', '[a] k="x\u2028y"']],
    ['equals in key via colon', '[a]\nk: x=y', ['[DEFAULT]', '[a] k="x=y"']],
  ] as const)('%s', (_name, input, expected) => {
    expect(check(input)).toEqual(expected);
  });
});

describe('parse failures', () => {
  it('carry the line and a reason that quotes nothing from the file', () => {
    expect(parseIni('[a]\nk = v\n  dapiPASTED\n')).toEqual({
      ok: false,
      error: 'key-value delimiter not found: dapiPASTED\n',
      reason: 'key-value delimiter not found',
      line: 3,
    });
  });
});
