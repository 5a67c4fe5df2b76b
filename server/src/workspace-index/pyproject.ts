// What choppa-lsp reads from a `pyproject.toml`: the `[project] dependencies` a run installs and
// where the build backend's packages start. Parsed as TOML by smol-toml, loaded on first use
// (2.5 ms, and most projects never need it), since regexes over TOML misread extras
// (`dask[dataframe]`), comments and literal strings. Pure: the caller reads the file.
import { createRequire } from 'node:module';
import type * as SmolToml from 'smol-toml';

export type Pyproject = { table: Record<string, unknown> } | { failure: string };

let toml: typeof SmolToml | undefined;

/** The file's tables, or why it cannot be read as TOML (with its line and column). */
export function parsePyproject(text: string): Pyproject {
  toml ??= createRequire(import.meta.url)('smol-toml') as typeof SmolToml;
  try {
    return { table: toml.parse(text, { unsafeKeyBehaviour: 'drop', maxDepth: 64 }) };
  } catch (error) {
    if (error instanceof toml.TomlError) return { failure: `it is not valid TOML (line ${error.line}, column ${error.column}: ${firstLine(error.message)})` };
    return { failure: `it cannot be read as TOML (${firstLine(String(error))})` };
  }
}

/**
 * `[project] dependencies`: each a PEP 508 requirement, a line for pip. A list that is not one of
 * strings, or a string holding a line break (it would smuggle an option line such as
 * `--index-url` into pip's input), is refused rather than half-read.
 */
export function projectDependencies(pyproject: Pyproject): string[] | { failure: string } {
  if ('failure' in pyproject) return pyproject;
  const dependencies = path(pyproject.table, ['project', 'dependencies']);
  if (dependencies === undefined) return [];
  if (!Array.isArray(dependencies)) return { failure: '`[project] dependencies` is not a list' };
  const lines: string[] = [];
  for (const entry of dependencies) {
    if (typeof entry !== 'string') return { failure: '`[project] dependencies` holds something other than strings' };
    if (/[\r\n\0]/.test(entry)) return { failure: `a dependency of \`[project] dependencies\` holds a line break: ${JSON.stringify(entry.slice(0, 80))}` };
    if (entry.trim() !== '') lines.push(entry.trim());
  }
  return lines;
}

/** Whether the file has a `[project]` table whose dependencies are listed there (not `dynamic`). */
export function listsDependencies(pyproject: Pyproject): boolean {
  if ('failure' in pyproject) return false;
  const project = record(path(pyproject.table, ['project']));
  return project !== undefined && !list(project['dynamic']).includes('dependencies');
}

/**
 * Folders (relative to the project) where a build backend finds the packages, in the spellings of
 * setuptools, poetry, hatch, pdm, maturin, uv and scikit-build-core. A file that is not valid
 * TOML declares none (setuptools' own `src/` rule still applies).
 */
export function declaredPackageRoots(pyproject: Pyproject): string[] {
  if ('failure' in pyproject) return [];
  const table = pyproject.table;
  const found: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === 'string') found.push(value);
  };
  // [tool.setuptools.packages.find] where = ["src"]
  for (const where of list(path(table, ['tool', 'setuptools', 'packages', 'find', 'where']))) add(where);
  // [tool.setuptools] package-dir = {"" = "src"}
  add(record(path(table, ['tool', 'setuptools', 'package-dir']))?.['']);
  // [tool.poetry] packages = [{ include = "pkg", from = "src" }]
  for (const entry of list(path(table, ['tool', 'poetry', 'packages']))) add(record(entry)?.['from']);
  // [tool.hatch.build.targets.wheel] packages = ["src/pkg"] (or [tool.hatch.build]); scikit-build-core's wheel.packages alike
  for (const packages of [
    path(table, ['tool', 'hatch', 'build', 'targets', 'wheel', 'packages']),
    path(table, ['tool', 'hatch', 'build', 'packages']),
    path(table, ['tool', 'scikit-build', 'wheel', 'packages']),
  ]) {
    for (const entry of list(packages)) if (typeof entry === 'string') add(parentOf(entry));
  }
  // [tool.hatch.build.targets.wheel] sources = ["src"] (or {"src" = ""}): prefixes stripped from paths
  for (const sources of [path(table, ['tool', 'hatch', 'build', 'targets', 'wheel', 'sources']), path(table, ['tool', 'hatch', 'build', 'sources'])]) {
    for (const entry of list(sources)) add(entry);
    for (const [from, to] of Object.entries(record(sources) ?? {})) if (to === '') add(from);
  }
  // [tool.pdm.build] package-dir = "src"
  add(path(table, ['tool', 'pdm', 'build', 'package-dir']));
  // [tool.maturin] python-source = "python"
  add(path(table, ['tool', 'maturin', 'python-source']));
  // [tool.uv.build-backend] module-root = "src" (uv_build's default when the table is there)
  const uvBackend = record(path(table, ['tool', 'uv', 'build-backend']));
  if (uvBackend) add(uvBackend['module-root'] ?? 'src');
  return found.filter((root) => root !== '');
}

function path(table: Record<string, unknown>, keys: readonly string[]): unknown {
  let value: unknown = table;
  for (const key of keys) {
    const current = record(value);
    if (!current || !Object.hasOwn(current, key)) return undefined;
    value = current[key];
  }
  return value;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function parentOf(entry: string): string {
  const slash = entry.replace(/\/+$/, '').lastIndexOf('/');
  return slash > 0 ? entry.slice(0, slash) : '';
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').slice(0, 200);
}

/** An insertion into the file's text, at a UTF-16 offset. */
export interface TextInsert {
  offset: number;
  text: string;
}

/**
 * The insertions that add `requirement` to `[project] dependencies`, in the array's own layout (a
 * line of its own in a multi-line array), or a `dependencies` line under `[project]` when there is
 * none. Checked by parsing the result: undefined unless the dependencies gain exactly that one
 * entry and nothing else in the file changes (an unusual spelling is left alone, not misedited).
 */
export function addDependency(text: string, requirement: string): TextInsert[] | undefined {
  const before = parsePyproject(text);
  const existing = projectDependencies(before);
  if ('failure' in before || 'failure' in existing) return undefined;
  if (!listsDependencies(before)) return undefined;
  const placed = path(before.table, ['project', 'dependencies']) === undefined ? newDependenciesLine(text) : appendToArray(text);
  if (!placed) return undefined;
  const inserts = placed.map((insert) => ({ ...insert, text: insert.text.replace('\0', JSON.stringify(requirement)) }));
  const after = parsePyproject(apply(text, inserts));
  if ('failure' in after) return undefined;
  const gained = projectDependencies(after);
  if ('failure' in gained || JSON.stringify(gained) !== JSON.stringify([...existing, requirement])) return undefined;
  const withoutDependencies = (table: Record<string, unknown>): string => JSON.stringify(table, (key, value: unknown) => (key === 'dependencies' && value === path(table, ['project', 'dependencies']) ? undefined : value));
  return withoutDependencies(after.table) === withoutDependencies(before.table) ? inserts : undefined;
}

/** `dependencies = [\0]` on the line after the `[project]` header (`\0` stands for the requirement). */
function newDependenciesLine(text: string): TextInsert[] | undefined {
  const header = /^[ \t]*\[[ \t]*project[ \t]*\][ \t]*(#[^\n]*)?(\r?\n|$)/m.exec(text);
  if (!header) return undefined;
  const end = header.index + header[0].length;
  const newline = header[2] === '' ? '\n' : (header[2] ?? '\n');
  return [{ offset: end, text: `${header[2] === '' ? newline : ''}dependencies = [\0]${header[2] === '' ? '' : newline}` }];
}

/** Where `[project] dependencies = [...]` ends, and the insertions that add `\0` as its last entry. */
function appendToArray(text: string): TextInsert[] | undefined {
  const header = /^[ \t]*\[[ \t]*project[ \t]*\][ \t]*(#[^\n]*)?$/m.exec(text);
  if (!header) return undefined;
  const tableEnd = /^[ \t]*\[/m.exec(text.slice(header.index + header[0].length));
  const tableText = text.slice(header.index, tableEnd ? header.index + header[0].length + tableEnd.index : text.length);
  const key = /^[ \t]*dependencies[ \t]*=[ \t]*\[/m.exec(tableText);
  if (!key) return undefined;
  const open = header.index + key.index + key[0].length - 1;
  const scan = scanArray(text, open);
  if (!scan) return undefined;
  const { close, lastValueEnd, commaAfterLast } = scan;
  if (lastValueEnd === undefined) return [{ offset: open + 1, text: '\0' }];
  const lineStart = text.lastIndexOf('\n', lastValueEnd - 1) + 1;
  const closeOnItsLine = text.slice(lastValueEnd, close).includes('\n');
  if (!closeOnItsLine) return [{ offset: lastValueEnd, text: ', \0' }];
  // A line of its own, indented as the last entry, after that entry's line (and its comment).
  const indent = /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? '';
  const lineEnd = text.indexOf('\n', lastValueEnd);
  const eol = text[lineEnd - 1] === '\r' ? '\r\n' : '\n';
  const inserts: TextInsert[] = [];
  if (!commaAfterLast) inserts.push({ offset: lastValueEnd, text: ',' });
  inserts.push({ offset: lineEnd - (eol === '\r\n' ? 1 : 0), text: `${eol}${indent}\0,` });
  return inserts;
}

/**
 * From the `[` at `open`: the matching `]`, where the last top-level entry ends and whether a
 * comma follows it. Strings (all four TOML kinds) and comments are skipped whole.
 */
function scanArray(text: string, open: number): { close: number; lastValueEnd: number | undefined; commaAfterLast: boolean } | undefined {
  let depth = 0;
  let lastValueEnd: number | undefined;
  let commaAfterLast = false;
  for (let i = open; i < text.length; i += 1) {
    const char = text[i];
    if (char === '#') {
      const end = text.indexOf('\n', i);
      if (end < 0) return undefined;
      i = end;
      continue;
    }
    if (char === '"' || char === "'") {
      const triple = text.startsWith(char.repeat(3), i);
      const end = stringEnd(text, i, char, triple);
      if (end < 0) return undefined;
      if (depth === 1) {
        lastValueEnd = end;
        commaAfterLast = false;
      }
      i = end - 1;
      continue;
    }
    if (char === '[' || char === '{') {
      depth += 1;
      continue;
    }
    if (char === ']' || char === '}') {
      depth -= 1;
      if (depth === 0) return { close: i, lastValueEnd, commaAfterLast };
      if (depth === 1) {
        lastValueEnd = i + 1;
        commaAfterLast = false;
      }
      continue;
    }
    if (depth === 1 && char === ',') commaAfterLast = true;
    else if (depth === 1 && char !== undefined && !/\s/.test(char)) {
      lastValueEnd = i + 1;
      commaAfterLast = false;
    }
  }
  return undefined;
}

/** The offset just past the string that opens at `start`, or -1 when it never closes. */
function stringEnd(text: string, start: number, quote: string, triple: boolean): number {
  const delimiter = triple ? quote.repeat(3) : quote;
  for (let i = start + delimiter.length; i < text.length; i += 1) {
    if (quote === '"' && text[i] === '\\') {
      i += 1;
      continue;
    }
    if (!triple && text[i] === '\n') return -1;
    if (text.startsWith(delimiter, i)) {
      // A closing `"""` may be followed by up to two more quotes that belong to the string.
      let end = i + delimiter.length;
      while (triple && text[end] === quote && end < i + delimiter.length + 2) end += 1;
      return end;
    }
  }
  return -1;
}

/** The text with the insertions made; two at one offset land in their order (as in an LSP edit). */
function apply(text: string, inserts: readonly TextInsert[]): string {
  let result = text;
  const order = inserts.map((insert, index) => ({ insert, index })).sort((a, b) => b.insert.offset - a.insert.offset || b.index - a.index);
  for (const { insert } of order) result = result.slice(0, insert.offset) + insert.text + result.slice(insert.offset);
  return result;
}
