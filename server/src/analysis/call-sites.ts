// Calls of plain and dotted names, `f(...)` and `m.f(...)`, with their arguments split the way
// argument resolution needs them (keyword, bare identifier, splat). Which of them call a
// decorated function is decided once the whole file's functions and imports are known.

import type * as Parser from '../syntax/tree.js';
import type { CallArgument, CallSite } from './model.js';
import { spanOf } from '../syntax/nodes.js';
import { captureOf } from '../syntax/queries.js';
import { PYTHON_BUILTINS } from './builtins.js';

/**
 * Every `name(...)` call in one top-level statement (with `calls.scm`), or every `a.b.name(...)`
 * call (with `module-calls.scm`), with `function` set to the callee (`a.b.name`, without the
 * spaces Python allows around dots). Calls of builtins (`print`, `len`…) and of anything but a
 * chain of names (`df.x().y()`, `s[0].f()`) are skipped to keep a keystroke cheap: none can be a
 * decorated function of the project.
 */
export function readCalls(statement: Parser.SyntaxNode, query: Parser.Query): CallSite[] {
  const calls: CallSite[] = [];
  for (const match of query.matches(statement)) {
    const name = captureOf(match, 'name');
    const args = captureOf(match, 'arguments');
    const call = captureOf(match, 'reference.call');
    const callee = name ? calleeName(name) : undefined;
    if (!name || !args || !call || callee === undefined || PYTHON_BUILTINS.has(callee)) continue;
    const parsed = readArguments(args);
    const site: CallSite = {
      function: callee,
      span: spanOf(call),
      nameSpan: spanOf(name),
      argsSource: innerText(args.text),
      args: parsed,
      key: callKey(parsed),
    };
    const boundTo = boundName(call);
    if (boundTo) site.boundTo = boundTo;
    calls.push(site);
  }
  return calls;
}

/** A callee as a call site names it: `f`, or `a.b.f` for a chain of names; undefined otherwise. */
export function calleeName(node: Parser.SyntaxNode): string | undefined {
  const parts: string[] = [];
  let current: Parser.SyntaxNode | null = node;
  while (current?.type === 'attribute') {
    const attribute = current.childForFieldName('attribute');
    if (attribute?.type !== 'identifier') return undefined;
    parts.push(attribute.text);
    current = current.childForFieldName('object');
  }
  if (current?.type !== 'identifier') return undefined;
  parts.push(current.text);
  return parts.reverse().join('.');
}

/**
 * A call's identity among the calls of one function: its arguments as written, one space after
 * each comma, so `load(1000)` and `load(3)` are two calls and `load( 3 )` is `load(3)`. Names
 * stay names: what a name means at a call is part of the code version, not of the call.
 */
export function callKey(args: readonly CallArgument[]): string {
  return args.map((arg) => `${arg.splat ?? ''}${arg.keyword !== undefined ? `${arg.keyword}=` : ''}${arg.text.trim()}`).join(', ');
}

/** The bare names among a call's arguments, each once, in order: what a call's identity adds to its key. */
export function argumentNames(args: readonly CallArgument[]): string[] {
  const names: string[] = [];
  for (const arg of args) if (arg.identifier !== undefined && !names.includes(arg.identifier)) names.push(arg.identifier);
  return names;
}

function innerText(text: string): string {
  const start = text.startsWith('(') ? 1 : 0;
  const end = text.length > start && text.endsWith(')') ? text.length - 1 : text.length;
  return text.slice(start, end);
}

/** Splits an `argument_list` node into arguments. */
export function readArguments(args: Parser.SyntaxNode): CallArgument[] {
  const result: CallArgument[] = [];
  for (const arg of args.namedChildren) {
    const type = arg.type;
    if (type === 'comment') continue;
    let value: Parser.SyntaxNode | null = arg;
    const entry: CallArgument = { text: '', span: spanOf(arg) };
    if (type === 'keyword_argument') {
      const keyword = arg.childForFieldName('name')?.text;
      if (keyword) entry.keyword = keyword;
      value = arg.childForFieldName('value');
    } else if (type === 'list_splat' || type === 'dictionary_splat') {
      entry.splat = type === 'list_splat' ? '*' : '**';
      value = arg.namedChild(0);
    }
    if (!value) continue;
    entry.text = value.text;
    if (value.type === 'identifier') entry.identifier = value.text;
    result.push(entry);
  }
  return result;
}

// `x = f(...)` and `x: T = f(...)` bind the result; a call nested deeper in the value does not.
function boundName(call: Parser.SyntaxNode): string | undefined {
  const parent = call.parent;
  if (parent?.type !== 'assignment') return undefined;
  if (parent.childForFieldName('right')?.startIndex !== call.startIndex) return undefined;
  const left = parent.childForFieldName('left');
  return left?.type === 'identifier' ? left.text : undefined;
}
