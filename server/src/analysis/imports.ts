// Module-level imports: which names they bind, which of them bring in `choppa.Choppa`, and how
// to remove one imported name again (for the "move the import into the function" quick fix).

import type * as Parser from '../syntax/tree.js';
import type { Span } from './model.js';
import { blockStatements, enclosingScope, spanOf } from '../syntax/nodes.js';
import { captureOf } from '../syntax/queries.js';

/** One name bound by a module-level import statement. */
export interface ImportClause {
  /** The name the import binds (`np` for `import numpy as np`, `a` for `import a.b`). */
  bound: string;
  /** The module imported (`numpy`), or imported from (`choppa` in `from choppa import X`). */
  module: string;
  /** For `from m import x`: `x`. */
  imported?: string;
  /** The import of just this name, ready to be written elsewhere (`import numpy as np`). */
  statementText: string;
  /** The clause that binds the name. */
  span: Span;
  /**
   * How to remove just this name: an edit inside a statement that imports several names, or
   * the whole statement (`statement`), removed with its line when alone on it.
   */
  removal: { kind: 'edit'; span: Span; newText: string } | { kind: 'statement'; span: Span };
}

/** The module-level import clauses inside one top-level statement. */
export function readImports(statement: Parser.SyntaxNode, query: Parser.Query): ImportClause[] {
  const clauses: ImportClause[] = [];
  for (const match of query.matches(statement)) {
    const importNode = captureOf(match, 'import');
    const clause = captureOf(match, 'import.clause');
    if (!importNode || !clause || enclosingScope(importNode).kind !== 'module') continue;
    const alias = captureOf(match, 'import.alias')?.text;
    const from = captureOf(match, 'import.from');
    const removal = removalOf(importNode, clause);
    if (from) {
      const module = compact(from.text);
      const imported = compact(captureOf(match, 'import.name')?.text ?? '');
      if (!imported || module === '__future__') continue;
      const bound = alias ?? imported;
      const statementText = `from ${module} import ${imported}${alias ? ` as ${alias}` : ''}`;
      clauses.push({ bound, module, imported, statementText, span: spanOf(clause), removal });
    } else {
      const moduleNode = captureOf(match, 'import.module');
      const module = compact(moduleNode?.text ?? '');
      const bound = alias ?? moduleNode?.namedChild(0)?.text;
      if (!module || !bound) continue;
      const statementText = `import ${module}${alias ? ` as ${alias}` : ''}`;
      clauses.push({ bound, module, statementText, span: spanOf(clause), removal });
    }
  }
  return clauses;
}

function compact(text: string): string {
  return text.replace(/\s+/g, '');
}

function removalOf(statement: Parser.SyntaxNode, clause: Parser.SyntaxNode): ImportClause['removal'] {
  const names = statement.childrenForFieldName('name');
  if (names.length <= 1) {
    // Removing the only statement of a block would leave it empty, which is a syntax error.
    const parent = statement.parent;
    if (parent?.type === 'block' && blockStatements(parent).length === 1) {
      return { kind: 'edit', span: spanOf(statement), newText: 'pass' };
    }
    return { kind: 'statement', span: spanOf(statement) };
  }
  const index = names.findIndex((name) => name.startIndex === clause.startIndex);
  const next = names[index + 1];
  const previous = names[index - 1];
  // Take the comma with the name: the one after it, or before it for the last name.
  if (next) return { kind: 'edit', span: { start: spanOf(clause).start, end: spanOf(next).start }, newText: '' };
  if (previous) return { kind: 'edit', span: { start: spanOf(previous).end, end: spanOf(clause).end }, newText: '' };
  return { kind: 'statement', span: spanOf(statement) };
}

/** The names that refer to `choppa.Choppa` and to the `choppa` module, from the imports. */
export function choppaNames(imports: readonly ImportClause[]): { classes: Set<string>; modules: Set<string> } {
  const classes = new Set<string>();
  const modules = new Set<string>();
  for (const clause of imports) {
    if (clause.module !== 'choppa') continue;
    if (clause.imported === 'Choppa') classes.add(clause.bound);
    else if (clause.imported === undefined && (clause.statementText.includes(' as ') || clause.bound === 'choppa')) {
      modules.add(clause.bound);
    }
  }
  return { classes, modules };
}
