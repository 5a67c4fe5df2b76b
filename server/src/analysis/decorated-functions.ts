// Functions decorated by a Choppa instance (`@dutch.remote`, `@dutch.artifact()`…): what is
// shipped (source, parameters), where quick fixes insert text, and the forms we cannot ship
// (async functions, methods, nested functions), which become problems instead.

import type * as Parser from '../syntax/tree.js';
import type { DecoratedFunction, Param, Pos, Problem, RunKind, Span } from './model.js';
import {
  blockStatements,
  enclosingScope,
  freeNames,
  functionParams,
  isDocstring,
  posOf,
  spanOf,
  type EnclosingScope,
} from '../syntax/nodes.js';
import { captureOf } from '../syntax/queries.js';
import { NOTEBOOK_GLOBALS, PYTHON_BUILTINS } from './builtins.js';

const ALWAYS_DEFINED: ReadonlySet<string> = new Set([...PYTHON_BUILTINS, ...NOTEBOOK_GLOBALS]);

/** Where to insert text: `before + something + after` at `pos`. */
export interface InsertPoint {
  pos: Pos;
  before: string;
  after: string;
}

/** A free use of a name inside a decorated function (see `freeNames`). */
export interface FreeUseSpan {
  name: string;
  span: Span;
}

/** A function with at least one decorator that looks like a Choppa one. */
export interface FunctionCandidate {
  name: string;
  nameSpan: Span;
  span: Span;
  /**
   * Where the `def` keyword starts. Invariant: every position in a candidate is a `Pos`, never a
   * bare line number, so moving a cached summary to new lines (`shiftLines`) moves all of it.
   */
  defStart: Pos;
  source: string;
  params: Param[];
  /**
   * The `@x.remote`-like decorators, top to bottom; `cache` is set when the decorator's line
   * ends with a `# choppa: cache` comment (the per-function cache opt-in).
   */
  decorators: { instance: string; kind: RunKind; span: Span; cache: boolean }[];
  /** The function's other decorators (`@retry(3)`), which only run where the module runs. */
  otherDecorators: { text: string; span: Span }[];
  scope: EnclosingScope;
  isAsync: boolean;
  /** Free uses, only for module-level plain functions (the ones that can be shipped). */
  free: FreeUseSpan[];
  /** How often each name is used inside the function. */
  useCounts: Map<string, number>;
  /** Where "add a parameter" inserts, when the parameter list is well formed. */
  paramInsert?: InsertPoint;
  /** Where "move the import into the function" inserts, when the body has a statement. */
  bodyInsert?: InsertPoint;
}

// A per-function choice lives in a comment, never in a keyword argument: the code must still
// run with the real library, whose decorators take none.
const CACHE_COMMENT = /#\s*choppa:\s*cache\b/;

function hasCacheComment(text: string, from: number): boolean {
  const end = text.indexOf('\n', from);
  return CACHE_COMMENT.test(text.slice(from, end === -1 ? text.length : end));
}

/** The longest decorator instance expression read (`dutch`, `jobs.dutch`, with spaces). */
const INSTANCE_CHARS_MAX = 256;

/** The functions in one top-level statement that carry a `@x.remote`-like decorator. */
export function readFunctionCandidates(statement: Parser.SyntaxNode, text: string, query: Parser.Query): FunctionCandidate[] {
  const byStart = new Map<number, { definition: Parser.SyntaxNode; decorated: Parser.SyntaxNode; name: Parser.SyntaxNode; decorators: FunctionCandidate['decorators'] }>();
  for (const match of query.matches(statement)) {
    const definition = captureOf(match, 'definition.function');
    const decorated = captureOf(match, 'decorated');
    const name = captureOf(match, 'name');
    const decorator = captureOf(match, 'decorator');
    // An instance is a name or a dotted name; a longer capture is error recovery's, whose text
    // can be most of the file (a docstring being typed): not read, not an instance.
    const instanceNode = captureOf(match, 'instance');
    const instance = instanceNode && instanceNode.endIndex - instanceNode.startIndex <= INSTANCE_CHARS_MAX ? instanceNode.text.replace(/\s+/g, '') : undefined;
    const kind = captureOf(match, 'kind')?.text as RunKind | undefined;
    if (!definition || !decorated || !name || !decorator || !instance || !kind) continue;
    const key = definition.startIndex;
    let entry = byStart.get(key);
    if (!entry) {
      entry = { definition, decorated, name, decorators: [] };
      byStart.set(key, entry);
    }
    entry.decorators.push({ instance, kind, span: spanOf(decorator), cache: hasCacheComment(text, decorator.startIndex) });
  }
  const candidates: FunctionCandidate[] = [];
  for (const { definition, decorated, name, decorators } of byStart.values()) {
    decorators.sort((a, b) => a.span.start.line - b.span.start.line || a.span.start.character - b.span.start.character);
    const scope = enclosingScope(decorated);
    const isAsync = definition.child(0)?.type === 'async';
    const parameters = definition.childForFieldName('parameters');
    const params = parameters
      ? functionParams(parameters).map((param) => ({
          name: param.name,
          kind: param.kind,
          hasDefault: param.hasDefault,
          span: spanOf(param.node),
        }))
      : [];
    const otherDecorators: FunctionCandidate['otherDecorators'] = [];
    for (const child of decorated.namedChildren) {
      if (child.type !== 'decorator' || decorators.some((d) => d.span.start.line === child.startPosition.row && d.span.start.character === child.startPosition.column)) continue;
      const expression = child.namedChild(0);
      const shown = (expression?.text ?? child.text.replace(/^@\s*/, '')).replace(/\s+/g, ' ');
      otherDecorators.push({ text: shown.length > 60 ? `${shown.slice(0, 59)}…` : shown, span: spanOf(child) });
    }
    const candidate: FunctionCandidate = {
      name: name.text,
      nameSpan: spanOf(name),
      span: spanOf(decorated),
      defStart: posOf(definition.startPosition),
      source: shippedSource(definition, text),
      params,
      decorators,
      otherDecorators,
      scope,
      isAsync,
      free: [],
      useCounts: new Map(),
    };
    if (scope.kind === 'module' && !isAsync) {
      const { uses, useCounts } = freeNames(definition, ALWAYS_DEFINED);
      candidate.free = uses;
      candidate.useCounts = useCounts;
      const paramInsert = parameters ? paramInsertPoint(parameters) : undefined;
      if (paramInsert) candidate.paramInsert = paramInsert;
      const bodyInsert = bodyInsertPoint(definition, text);
      if (bodyInsert) candidate.bodyInsert = bodyInsert;
    }
    candidates.push(candidate);
  }
  return candidates;
}

/** The function from `def` to the end of its body, `\n` line endings, dedented to column 0. */
function shippedSource(definition: Parser.SyntaxNode, text: string): string {
  const source = text.slice(definition.startIndex, definition.endIndex).replace(/\r\n/g, '\n');
  const indent = definition.startPosition.column;
  if (indent === 0) return source;
  return source
    .split('\n')
    .map((line, index) => (index === 0 ? line : line.slice(Math.min(indent, leadingSpace(line)))))
    .join('\n');
}

function leadingSpace(line: string): number {
  const match = /^[ \t]*/.exec(line);
  return match ? match[0].length : 0;
}

// A new parameter goes before the first parameter that a plain positional one may not follow:
// one with a default, `*`, `*args` or `**kwargs`. Otherwise it goes last, or alone in `()`.
function paramInsertPoint(parameters: Parser.SyntaxNode): InsertPoint | undefined {
  if (parameters.type !== 'parameters' || parameters.hasError) return undefined;
  const items = parameters.namedChildren.filter((child) => child.type !== 'comment');
  for (const item of items) {
    const type = item.type;
    const splat =
      type === 'typed_parameter' &&
      item.namedChildren.some((child) => child.type === 'list_splat_pattern' || child.type === 'dictionary_splat_pattern');
    if (
      splat ||
      type === 'default_parameter' ||
      type === 'typed_default_parameter' ||
      type === 'keyword_separator' ||
      type === 'list_splat_pattern' ||
      type === 'dictionary_splat_pattern'
    ) {
      return { pos: posOf(item.startPosition), before: '', after: ', ' };
    }
  }
  const last = items[items.length - 1];
  if (last) return { pos: posOf(last.endPosition), before: ', ', after: '' };
  const open = posOf(parameters.startPosition);
  return { pos: { line: open.line, character: open.character + 1 }, before: '', after: '' };
}

// The import goes first in the body, after the docstring, with the body's own indentation; a
// body on the `def` line gets `; ` separators instead of a new line.
function bodyInsertPoint(definition: Parser.SyntaxNode, text: string): InsertPoint | undefined {
  const body = definition.childForFieldName('body');
  if (!body) return undefined;
  const statements = blockStatements(body);
  const first = statements[0];
  if (!first) return undefined;
  const colonRow = body.previousSibling?.endPosition.row ?? definition.startPosition.row;
  const sameLine = first.startPosition.row === colonRow;
  const eol = text.slice(definition.startIndex, definition.endIndex).includes('\r\n') ? '\r\n' : '\n';
  if (isDocstring(first)) {
    if (sameLine) return { pos: posOf(first.endPosition), before: '; ', after: '' };
    const next = statements[1];
    if (next && next.startPosition.row > first.endPosition.row) {
      return { pos: posOf(next.startPosition), before: '', after: eol + indentOf(next, text) };
    }
    return { pos: posOf(first.endPosition), before: eol + indentOf(first, text), after: '' };
  }
  if (sameLine) return { pos: posOf(first.startPosition), before: '', after: '; ' };
  return { pos: posOf(first.startPosition), before: '', after: eol + indentOf(first, text) };
}

function indentOf(node: Parser.SyntaxNode, text: string): string {
  const column = node.startPosition.column;
  const prefix = text.slice(node.startIndex - column, node.startIndex);
  return /^[ \t]*$/.test(prefix) ? prefix : ' '.repeat(column);
}

/**
 * Splits the candidates into shippable functions and problems, given the names of the Choppa
 * instances. A candidate whose decorators name no instance (`@app.remote`) is not ours at all.
 */
export function resolveFunctions(
  candidates: readonly FunctionCandidate[],
  instances: ReadonlySet<string>,
): { functions: { fn: DecoratedFunction; candidate: FunctionCandidate }[]; problems: Problem[] } {
  const functions: { fn: DecoratedFunction; candidate: FunctionCandidate }[] = [];
  const problems: Problem[] = [];
  for (const candidate of candidates) {
    const decorator = candidate.decorators.find((d) => instances.has(d.instance));
    if (!decorator) continue;
    const kept = resolvedOf.get(candidate);
    if (kept && kept.decorator === decorator) {
      if (kept.problem) problems.push(kept.problem);
      else functions.push(kept.entry!);
      for (const warning of kept.notShipped) problems.push(warning);
      continue;
    }
    const problem = unsupported(candidate, `${decorator.instance}.${decorator.kind}`);
    const entry = problem ? undefined : { candidate, fn: decoratedFunction(candidate, decorator) };
    const notShipped = problem ? [] : notShippedDecorators(candidate, decorator, instances);
    resolvedOf.set(candidate, { decorator, problem, entry, notShipped });
    if (problem) problems.push(problem);
    else functions.push(entry!);
    for (const warning of notShipped) problems.push(warning);
  }
  return { functions, problems };
}

/**
 * A Warning on each other decorator of a shipped function (`@retry(3)`, `@logged`): the cluster
 * runs the function's own source, so what such a decorator adds (retries, logging, caching)
 * silently does not happen there, while it does when the module runs locally.
 */
function notShippedDecorators(candidate: FunctionCandidate, chosen: FunctionCandidate['decorators'][number], instances: ReadonlySet<string>): Problem[] {
  const others = [
    ...candidate.otherDecorators,
    // A `@x.remote`-like decorator of something that is not a Choppa instance (`@ray.remote`).
    ...candidate.decorators.filter((d) => d !== chosen && !instances.has(d.instance)).map((d) => ({ text: `${d.instance}.${d.kind}`, span: d.span })),
  ];
  return others.map(({ text, span }) => ({
    span,
    function: candidate.name,
    fixes: [],
    code: 'decorator-not-shipped',
    severity: 'warning' as const,
    message: `\`@${text}\` does not apply where \`${candidate.name}\` runs remotely: only the function's own source reaches the cluster, so it runs there without this decorator (it still applies when the module runs locally).`,
  }));
}

/**
 * What a candidate resolved to, kept while it is the same object (its chunk's summaries are kept
 * until the chunk's text changes) with the same decorator: a keystroke makes none of these anew
 * for the functions it did not touch (made anew, they were most of what a keystroke left for the
 * old generation). Its positions are the candidate's own objects, which move with its chunk.
 */
const resolvedOf = new WeakMap<
  FunctionCandidate,
  { decorator: FunctionCandidate['decorators'][number]; problem: Problem | undefined; entry: { fn: DecoratedFunction; candidate: FunctionCandidate } | undefined; notShipped: Problem[] }
>();

function decoratedFunction(candidate: FunctionCandidate, decorator: FunctionCandidate['decorators'][number]): DecoratedFunction {
  return {
    name: candidate.name,
    kind: decorator.kind,
    instance: decorator.instance,
    nameSpan: candidate.nameSpan,
    decoratorSpan: decorator.span,
    span: candidate.span,
    // Read from the candidate, whose positions move with its chunk: a run that held the function
    // across an await places its error lines in the document as it is now.
    get defLine() {
      return candidate.defStart.line;
    },
    source: candidate.source,
    params: candidate.params,
    cacheOptIn: decorator.cache,
  };
}

function unsupported(candidate: FunctionCandidate, decorator: string): Problem | undefined {
  const name = candidate.name;
  const base = { span: candidate.nameSpan, function: name, fixes: [] };
  if (candidate.scope.kind === 'class') {
    const owner = candidate.scope.name ? `class \`${candidate.scope.name}\`` : 'a class';
    return {
      ...base,
      code: 'method-not-supported',
      severity: 'warning',
      message: `\`${name}\` is a method of ${owner}: \`@${decorator}\` on methods is not supported, because only a function and its arguments reach the cluster, not \`self\` or its class. Move \`${name}\` to module level.`,
    };
  }
  if (candidate.scope.kind === 'function') {
    const owner = candidate.scope.name ? `\`${candidate.scope.name}\`` : 'another function';
    return {
      ...base,
      code: 'nested-not-supported',
      severity: 'warning',
      message: `\`${name}\` is defined inside ${owner}: \`@${decorator}\` on nested functions is not supported, because the enclosing function's variables do not reach the cluster. Move \`${name}\` to module level.`,
    };
  }
  if (candidate.isAsync) {
    return {
      ...base,
      code: 'async-not-supported',
      severity: 'error',
      message: `\`${name}\` is an \`async def\`: \`@${decorator}\` does not support coroutines, because the cluster runs the function synchronously and cannot await it. Make \`${name}\` a plain \`def\`.`,
    };
  }
  return undefined;
}
