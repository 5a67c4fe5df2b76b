// `with inst.session():` blocks, inside which the library reuses one remote process.

import type * as Parser from '../syntax/tree.js';
import type { SessionBlock } from './model.js';
import { spanOf } from '../syntax/nodes.js';
import { captureOf } from '../syntax/queries.js';

/** Every `with x.session():` in one top-level statement; `instance` is `x`, not yet checked. */
export function readSessions(statement: Parser.SyntaxNode, query: Parser.Query): SessionBlock[] {
  const sessions: SessionBlock[] = [];
  for (const match of query.matches(statement)) {
    const instance = captureOf(match, 'instance')?.text;
    const block = captureOf(match, 'scope.session');
    if (instance && block) sessions.push({ instance, span: spanOf(block) });
  }
  return sessions;
}
