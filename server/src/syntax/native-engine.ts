// The parser engine over the native `tree-sitter` binding (an optional dependency: its addon
// may be missing, or built for another libstdc++, and then it does not load). The binding's
// types are declared here by hand, so the server builds without the addon installed.

import { createRequire } from 'node:module';
import { pythonParser, type ParserEngine, type PythonParser } from './parser-engine.js';
import type { Query, Tree } from './tree.js';

const require = createRequire(import.meta.url);

interface NativeParser {
  setLanguage(language: unknown): void;
  setTimeoutMicros(timeout: number): void;
  parse(text: string, oldTree?: Tree, options?: { bufferSize?: number }): Tree | null | undefined;
  reset(): void;
}

interface NativeBinding {
  new (): NativeParser;
  Query: new (language: unknown, source: string) => Query;
}

/**
 * How many UTF-16 units the binding copies out of the text per read. Its default (32K units) is
 * a buffer allocated and freed on every parse call, and with glibc a request that large first
 * consolidates every small block freed since the last one: after old trees were freed, that took
 * 10–60 ms inside a 2.5 ms slice, where tree-sitter's timeout cannot interrupt it. A small buffer
 * keeps parse calls off that path; the reads it adds are cheap slices of a flat string.
 */
const INPUT_CHUNK = 256;

/**
 * Loads the native binding and the grammar's native addon, and parses one line to prove they
 * work. Throws (with the loader's own message) when either does not load.
 */
export function loadNativeEngine(): ParserEngine {
  const Binding = require('tree-sitter') as NativeBinding;
  const language: unknown = require('tree-sitter-python');
  const bindingVersion = (require('tree-sitter/package.json') as { version: string }).version;
  const grammarVersion = (require('tree-sitter-python/package.json') as { version: string }).version;
  const createParser = (): PythonParser => {
    const parser = new Binding();
    parser.setLanguage(language);
    const parseFor = (text: string, oldTree: Tree | undefined, timeoutMicros: number): Tree | null => {
      parser.setTimeoutMicros(timeoutMicros);
      // The binding returns no tree when the timeout ran out; calling again with the same text
      // resumes (the old tree only matters when a parse starts).
      return parser.parse(text, oldTree, { bufferSize: INPUT_CHUNK }) ?? null;
    };
    return pythonParser({
      parseFor,
      reset: () => parser.reset(),
      // The binding frees a tree when the collector takes it, and sees its native weight.
      free: () => undefined,
    });
  };
  const probe = createParser().parse('x = 1\n');
  if (probe?.rootNode.type !== 'module') throw new Error('the native tree-sitter binding loaded but does not parse');
  return {
    kind: 'native',
    description: `tree-sitter ${bindingVersion} (native addon), tree-sitter-python ${grammarVersion}`,
    createParser,
    compileQuery: (source) => new Binding.Query(language, source),
  };
}
