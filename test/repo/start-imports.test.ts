// Repo rules that keep the server's start fast (issue 14): vscode-languageserver's values come
// only through `protocol/lsp-runtime.ts` (its `require`), since one ESM value import of the
// CommonJS package makes node lex its whole re-export tree again (about 70 ms per start); and the
// Databricks backend is imported only by the lazy cluster backend, with `import()`.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'server', 'src');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : name.endsWith('.ts') ? [path] : [];
  });
}

const sources = walk(SRC).map((path) => ({ rel: relative(SRC, path), text: readFileSync(path, 'utf8') }));

/** The `import ... from 'module'` statements of a source whose module matches, with their clause. */
function importsFrom(text: string, module: RegExp): Array<{ clause: string; module: string }> {
  return [...text.matchAll(/^import\s+([^;]*?)\s+from\s+'([^']+)';/gms)]
    .map((match) => ({ clause: match[1]!, module: match[2]! }))
    .filter((entry) => module.test(entry.module));
}

/** Whether an import clause brings values (not only `type` names) into the module. */
function bringsValues(clause: string): boolean {
  if (clause.startsWith('type ')) return false;
  const braced = /^\{([^}]*)\}$/s.exec(clause.trim());
  if (!braced) return true;
  return braced[1]!.split(',').some((name) => name.trim() !== '' && !name.trim().startsWith('type '));
}

describe('the server start stays lazy', () => {
  it('imports only types from vscode-languageserver outside protocol/lsp-runtime.ts (the demo client aside)', () => {
    const offenders = sources
      .filter((source) => source.rel !== join('protocol', 'lsp-runtime.ts') && !source.rel.startsWith(join('demo', '')))
      .flatMap((source) => importsFrom(source.text, /^vscode-languageserver(\/node)?$/).filter(({ clause }) => bringsValues(clause)).map(({ clause }) => `${source.rel}: import ${clause.replace(/\s+/g, ' ')}`));
    expect(offenders).toEqual([]);
  });

  it('imports the Databricks backend statically nowhere in the server (lazy-cluster-backend.ts loads it)', () => {
    const offenders = sources
      .filter((source) => importsFrom(source.text, /databricks-backend\.js$/).some(({ clause }) => bringsValues(clause)))
      .map((source) => source.rel);
    expect(offenders).toEqual([]);
  });
});
