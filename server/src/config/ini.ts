// Reads `.databrickscfg` text the way the Go SDK does (gopkg.in/ini.v1 with
// `SpaceBeforeInlineComment: true`), so a profile means the same thing here as in the
// `databricks` CLI. Pure: text in, ordered sections or one error out; never throws.
import ini from 'ini';

/** One `key = value` of a section, after the dialect's comment and quote rules. */
export interface IniKey {
  key: string;
  value: string;
}

/** One section; repeated headers are merged into the first, in file order. */
export interface IniSection {
  name: string;
  keys: IniKey[];
}

/**
 * `error` is go-ini's exact message, which may quote the offending line; `reason` never
 * quotes file content, so it is the one to show where the file may hold secrets.
 */
export type IniParseResult =
  | { ok: true; sections: IniSection[] }
  | { ok: false; error: string; reason: string; line: number };

/** go-ini always creates this section first, even when the text never names it. */
export const DEFAULT_SECTION = 'DEFAULT';

type Entry = { kind: 'section'; name: string } | { kind: 'key'; key: string; value: string };
type Failure = { ok: false; error: string; reason: string };
type Lexed = { ok: true; entries: Entry[] } | (Failure & { line: number });

// Go's unicode.IsSpace, which is what go-ini trims with. JavaScript's trim() also strips
// U+FEFF, which Go does not treat as space.
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_SPACE = new RegExp(`^[${GO_SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${GO_SPACE}]+$`);
const KEY_VALUE_DELIMITERS = '=:';

const trimStart = (s: string): string => s.replace(LEADING_SPACE, '');
const trim = (s: string): string => trimStart(s).replace(TRAILING_SPACE, '');

/**
 * Parses INI text into ordered sections with ordered keys, reproducing the Go SDK's reader:
 * `#`/`;` start an inline comment only after a space, `:` works like `=`, surrounding quotes
 * are stripped, a trailing `\` continues a value, keys before any header belong to `DEFAULT`,
 * repeated sections merge and the last duplicate key wins (keeping its first position).
 * Errors carry go-ini's wording.
 */
export function parseIni(text: string): IniParseResult {
  const lexed = lex(text);
  if (!lexed.ok) return lexed;
  return { ok: true, sections: assemble(lexed.entries) };
}

/** The keys of one section by name, or undefined when the section is absent. */
export function sectionValues(sections: readonly IniSection[], name: string): Map<string, string> | undefined {
  const section = sections.find((s) => s.name === name);
  if (section === undefined) return undefined;
  return new Map(section.keys.map((k) => [k.key, k.value]));
}

// The lexical rules are ours, not the `ini` package's: `ini` classifies each line with one
// fixed regex and cuts values at any `#`/`;`, so it cannot express the space-before-comment
// rule, `:` as a delimiter, a section name that contains `]` or is not trimmed, continuation
// lines, triple-quoted or backquoted values, or go-ini's refusal of a line without a delimiter.
// None of its options changes that, so this walks lines exactly as go-ini's parser.go does.
function lex(text: string): Lexed {
  // go-ini skips a UTF-8 byte-order mark; node's utf8 decoding leaves it as U+FEFF.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // go-ini reads with ReadBytes('\n'): each line keeps its terminator, CR included, and the
  // terminator shows up in some error messages and inside multi-line quoted values.
  const lines = body.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let next = 0;
  const readLine = (): { data: string; eof: boolean } => {
    const data = lines[next] ?? '';
    next += 1;
    return { data, eof: !data.endsWith('\n') };
  };

  const entries: Entry[] = [];
  let autoIncrement = 1;
  while (next < lines.length) {
    // 1-based number of the line an entry starts on, for messages that must not quote it.
    const lineNumber = next + 1;
    const failed = (failure: Failure): Lexed => ({ ...failure, line: lineNumber });
    const line = trimStart(readLine().data);
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;

    if (line.startsWith('[')) {
      // go-ini reads to the LAST `]`, so `[foo]bar]` names `foo]bar`, and the name is not
      // trimmed. The reference recording reports the bare message, without the line.
      const close = line.lastIndexOf(']');
      if (close === -1) return failed(fail('unclosed section'));
      const name = line.slice(1, close);
      if (name === '') return failed(fail('empty section name'));
      entries.push({ kind: 'section', name });
      autoIncrement = 1;
      continue;
    }

    const keyName = readKeyName(line);
    if (!keyName.ok) return failed(keyName);
    let key = keyName.name;
    if (key === '-') {
      key = `#${autoIncrement}`;
      autoIncrement += 1;
    }
    const value = readValue(line.slice(keyName.offset), readLine);
    if (!value.ok) return failed(value);
    if (key === '') return failed(fail('error creating new key: empty key name'));
    entries.push({ kind: 'key', key, value: value.value });
  }
  return { ok: true, entries };
}

type KeyName = { ok: true; name: string; offset: number } | Failure;

function fail(error: string, reason = error): Failure {
  return { ok: false, error, reason };
}

function indexOfAny(s: string, chars: string): number {
  for (let i = 0; i < s.length; i++) if (chars.includes(s[i] ?? '')) return i;
  return -1;
}

function readKeyName(line: string): KeyName {
  const delimiterMissing = fail(`key-value delimiter not found: ${line}`, 'key-value delimiter not found');
  let keyQuote = '';
  if (line.startsWith('"')) keyQuote = line.length > 6 && line.startsWith('"""') ? '"""' : '"';
  else if (line.startsWith('`')) keyQuote = '`';

  if (keyQuote !== '') {
    const start = keyQuote.length;
    const close = line.indexOf(keyQuote, start);
    if (close === -1) return fail(`missing closing key quote: ${line}`, 'missing closing key quote');
    const delimiter = indexOfAny(line.slice(close + start), KEY_VALUE_DELIMITERS);
    if (delimiter < 0) return delimiterMissing;
    return { ok: true, name: trim(line.slice(start, close)), offset: close + delimiter + start + 1 };
  }

  const delimiter = indexOfAny(line, KEY_VALUE_DELIMITERS);
  if (delimiter < 0) return delimiterMissing;
  return { ok: true, name: trim(line.slice(0, delimiter)), offset: delimiter + 1 };
}

type Value = { ok: true; value: string } | Failure;
type ReadLine = () => { data: string; eof: boolean };

function readValue(raw: string, readLine: ReadLine): Value {
  let line = trimStart(raw);
  if (line === '') return { ok: true, value: '' };

  let valueQuote = '';
  if (line.length > 3 && line.startsWith('"""')) valueQuote = '"""';
  else if (line.startsWith('`')) valueQuote = '`';
  if (valueQuote !== '') {
    const start = valueQuote.length;
    const close = line.slice(start).lastIndexOf(valueQuote);
    if (close === -1) return readMultiline(line, line.slice(start), valueQuote, readLine);
    return { ok: true, value: line.slice(start, start + close) };
  }

  line = trim(line);
  if (line.endsWith('\\')) return { ok: true, value: readContinuation(line.slice(0, -1), readLine) };

  // SpaceBeforeInlineComment: only " #" (or, failing that, " ;") starts a comment, so
  // `abc#def` is a value and `a ;b #c` keeps `a ;b`.
  let comment = line.indexOf(' #');
  if (comment === -1) comment = line.indexOf(' ;');
  if (comment > -1) line = trim(line.slice(0, comment));

  if (hasSurroundingQuote(line, "'") || hasSurroundingQuote(line, '"')) line = line.slice(1, -1);
  return { ok: true, value: line };
}

function readMultiline(first: string, initial: string, quote: string, readLine: ReadLine): Value {
  let value = initial;
  for (;;) {
    const { data, eof } = readLine();
    const close = data.lastIndexOf(quote);
    if (close > -1) return { ok: true, value: value + data.slice(0, close) };
    value += data;
    if (eof) return fail(`missing closing key quote from '${first}' to '${data}'`, 'missing closing value quote');
  }
}

function readContinuation(initial: string, readLine: ReadLine): string {
  let value = initial;
  for (;;) {
    const { data, eof } = readLine();
    const next = trim(data);
    if (next === '') return value;
    value += next;
    if (!value.endsWith('\\')) return value;
    value = value.slice(0, -1);
    if (eof) return value;
  }
}

/** True when `s` is wrapped in `quote` and contains no other one (go-ini's rule). */
function hasSurroundingQuote(s: string, quote: string): boolean {
  return s.length >= 2 && s.startsWith(quote) && s.endsWith(quote) && s.indexOf(quote, 1) === s.length - 1;
}

// The `ini` package merges the entries: repeated sections into one object, repeated keys
// last-wins in their first position. It sees placeholder names only (`s0`, `k3`), because
// real names would be nested on dots, reordered when they look like integers, turned into
// arrays when they end in `[]`, dropped when they are `__proto__`, or cut at `#`/`;`; and it
// sees JSON-quoted values, the one form its decoder returns verbatim (apart from the JSON
// literals true/false/null, which it turns into non-strings and String() turns back).
function assemble(entries: readonly Entry[]): IniSection[] {
  const sectionIds = new Map<string, string>([[DEFAULT_SECTION, 's0']]);
  const sectionNames = new Map<string, string>([['s0', DEFAULT_SECTION]]);
  const keyIds = new Map<string, string>();
  const keyNames = new Map<string, string>();
  const out: string[] = ['[s0]'];
  for (const entry of entries) {
    if (entry.kind === 'section') {
      let id = sectionIds.get(entry.name);
      if (id === undefined) {
        id = `s${sectionIds.size}`;
        sectionIds.set(entry.name, id);
        sectionNames.set(id, entry.name);
      }
      out.push(`[${id}]`);
      continue;
    }
    let id = keyIds.get(entry.key);
    if (id === undefined) {
      id = `k${keyIds.size}`;
      keyIds.set(entry.key, id);
      keyNames.set(id, entry.key);
    }
    out.push(`${id}=${jsonLine(entry.value)}`);
  }

  const decoded = ini.decode(out.join('\n')) as Record<string, Record<string, unknown>>;
  const sections: IniSection[] = [];
  for (const [id, values] of Object.entries(decoded)) {
    const name = sectionNames.get(id);
    if (name === undefined) continue;
    const keys: IniKey[] = [];
    for (const [keyId, value] of Object.entries(values)) {
      const key = keyNames.get(keyId);
      if (key !== undefined) keys.push({ key, value: String(value) });
    }
    sections.push({ name, keys });
  }
  return sections;
}

// JSON.stringify leaves U+2028/U+2029 raw, and `ini`'s line regex (`.`) stops at them.
function jsonLine(value: string): string {
  return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
