// Names bound at module scope: the assignments argument resolution follows
// (`data = get_stuff()`), and what kind of thing each module-level name is, for the scope lint.

import type * as Parser from '../syntax/tree.js';
import type { Span } from './model.js';
import { moduleBindings, spanOf } from '../syntax/nodes.js';
import { calleeName } from './call-sites.js';
import { literalSource } from './constants.js';

/**
 * An assignment at module scope; `rhsCall` names the callee when the value is `name(...)` or
 * `m.name(...)`, `literal` is the value's source when it is a literal the runner can rebuild.
 */
export interface AssignmentInfo {
  name: string;
  span: Span;
  rhsCall?: string;
  literal?: string;
  /** The clause block it is in when it runs only in some runs of the module (`if`, loops, `except`, `case`). */
  branch?: Span;
}

/** A module-level name bound by something other than an import. */
export interface ModuleNameInfo {
  name: string;
  kind: 'global' | 'function' | 'class';
}

/** The module-scope names and assignments of one top-level statement, in document order. */
export function readModuleBindings(statement: Parser.SyntaxNode): { names: ModuleNameInfo[]; assignments: AssignmentInfo[] } {
  const { names, assignments } = moduleBindings(statement);
  return {
    names: names.map(({ name, kind }) => ({ name, kind })),
    assignments: assignments.map(({ name, node, value, branch }) => {
      const info: AssignmentInfo = { name, span: spanOf(node) };
      if (branch) info.branch = spanOf(branch);
      if (value?.type === 'call') {
        const callee = value.childForFieldName('function');
        const name = callee ? calleeName(callee) : undefined;
        if (name !== undefined) info.rhsCall = name;
      } else if (value) {
        const literal = literalSource(value);
        if (literal !== undefined) info.literal = literal;
      }
      return info;
    }),
  };
}
