// `Choppa(...)` calls the analysis cannot follow: an instance assigned to an attribute
// (`self.c = Choppa()`), created inside a function, or never bound to a module-level name. Their
// decorators are not recognised, so the user is told why instead of seeing nothing.

import type * as Parser from '../syntax/tree.js';
import type { ChoppaInstance, Problem, Span } from './model.js';
import { enclosingScope, spanOf } from '../syntax/nodes.js';
import { captureOf } from '../syntax/queries.js';

/** A call that may construct a Choppa instance, with where it sits. */
export interface ConstructorCall {
  constructorName: string;
  callSpan: Span;
  /** `self.c` for an attribute target, the function or class it is in, or neither. */
  target?: string;
  scope: { kind: 'module' | 'class' | 'function'; name?: string };
}

/** The `X(...)`/`m.X(...)` calls in one top-level statement whose callee mentions `Choppa`. */
export function readConstructorCalls(statement: Parser.SyntaxNode, query: Parser.Query): ConstructorCall[] {
  const calls: ConstructorCall[] = [];
  for (const match of query.matches(statement)) {
    const constructor = captureOf(match, 'constructor');
    const call = captureOf(match, 'call');
    if (!constructor || !call) continue;
    const constructorName = constructor.text.replace(/\s+/g, '');
    if (!constructorName.includes('Choppa')) continue;
    const found: ConstructorCall = { constructorName, callSpan: spanOf(call), scope: enclosingScope(call) };
    const parent = call.parent;
    const left = parent?.type === 'assignment' ? parent.childForFieldName('left') : null;
    if (left && left.type !== 'identifier') found.target = left.text;
    calls.push(found);
  }
  return calls;
}

/** Information problems for the Choppa constructions that no followed instance accounts for. */
export function unfollowedProblems(
  calls: readonly ConstructorCall[],
  followed: readonly ChoppaInstance[],
  isChoppa: (constructorName: string) => boolean,
): Problem[] {
  const problems: Problem[] = [];
  for (const call of calls) {
    if (!isChoppa(call.constructorName)) continue;
    const start = call.callSpan.start;
    if (followed.some((instance) => instance.callSpan.start.line === start.line && instance.callSpan.start.character === start.character)) continue;
    const where = call.target
      ? `assigned to \`${call.target}\``
      : call.scope.kind === 'function'
        ? `created inside ${call.scope.name ? `\`${call.scope.name}\`` : 'a function'}`
        : call.scope.kind === 'class'
          ? `created in ${call.scope.name ? `class \`${call.scope.name}\`` : 'a class body'}`
          : 'not assigned to a module-level name';
    problems.push({
      code: 'instance-not-followed',
      severity: 'information',
      message: `This Choppa instance is ${where}, which choppa-lsp cannot follow: functions it decorates get no run actions, hover or checks. Assign it to a module-level name (\`dc = Choppa(...)\`) and import that name where it is used.`,
      span: call.callSpan,
      fixes: [],
    });
  }
  return problems;
}
