// Reads argument source typed by a user (`"1, b=data"`, from an input box or the CLI) into the
// same `CallArgument`s a call site yields, so both go through one argument resolution.
import type * as Parser from '../syntax/tree.js';
import { readArguments } from './call-sites.js';
import type { CallArgument } from './model.js';

/** The prefix callers parse before the user's text: `ARGUMENT_LIST_PREFIX + text + ')'`. */
export const ARGUMENT_LIST_PREFIX = '__choppa_args__(';

/**
 * The arguments of a tree parsed from `__choppa_args__(<text>)`, or undefined when the text is
 * not exactly one valid argument list (a stray `)` or a syntax error).
 */
export function argumentsOfTree(tree: Parser.Tree): CallArgument[] | undefined {
  const root = tree.rootNode;
  if (root.hasError || root.namedChildCount !== 1) return undefined;
  const call = root.namedChild(0)?.namedChild(0);
  if (call?.type !== 'call' || call.childForFieldName('function')?.text !== '__choppa_args__') return undefined;
  const args = call.childForFieldName('arguments');
  if (args?.type !== 'argument_list') return undefined;
  return readArguments(args);
}
