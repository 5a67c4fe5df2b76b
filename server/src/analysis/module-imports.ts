// Every import of a file, at any depth, as plain data: which modules the file needs, and which
// ones a given top-level function needs when it ships. The workspace index resolves them.

import type * as Parser from '../syntax/tree.js';
import type { ModuleImport } from './model.js';
import { enclosingScope, guardedAgainstImportError, outermostFunction, posOf } from '../syntax/nodes.js';
import { captureOf } from '../syntax/queries.js';

/** The imports inside one top-level statement. */
export function readModuleImports(statement: Parser.SyntaxNode, query: Parser.Query): ModuleImport[] {
  const imports: ModuleImport[] = [];
  for (const match of query.matches(statement)) {
    const node = captureOf(match, 'import');
    if (!node) continue;
    const moduleLevel = enclosingScope(node).kind === 'module';
    const owner = outermostFunction(node)?.childForFieldName('name')?.text;
    const base = { moduleLevel, at: posOf(node.startPosition), ...(owner ? { within: owner } : {}), ...(guardedAgainstImportError(node) ? { optional: true as const } : {}) };
    const dynamic = captureOf(match, 'import.dynamic');
    if (dynamic) {
      const module = literalModule(dynamic.text);
      // It binds no name: the module is what ships, never an instance another file could import.
      if (module) imports.push({ module, level: 0, bound: '', dynamic: true, ...base });
      continue;
    }
    const alias = captureOf(match, 'import.alias')?.text;
    const from = captureOf(match, 'import.from');
    if (from) {
      const written = compact(from.text);
      const level = /^\.*/.exec(written)?.[0].length ?? 0;
      const module = written.slice(level);
      if (module === '__future__') continue;
      if (captureOf(match, 'import.wildcard')) {
        imports.push({ module, level, name: '*', bound: '*', ...base });
        continue;
      }
      const name = compact(captureOf(match, 'import.name')?.text ?? '');
      if (!name) continue;
      imports.push({ module, level, name, bound: alias ?? name, ...base });
    } else {
      const module = compact(captureOf(match, 'import.module')?.text ?? '');
      if (!module) continue;
      imports.push({ module, level: 0, bound: alias ?? module.split('.')[0] ?? module, ...base });
    }
  }
  return imports;
}

// The dotted name a plain string literal spells (`"pkg.mod"`, `'pkg'`); none for an f-string, a
// relative name (it needs `package=`) or anything else.
function literalModule(text: string): string | undefined {
  const match = /^(["'])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\1$/.exec(text);
  return match?.[2];
}

function compact(text: string): string {
  return text.replace(/\s+/g, '');
}
