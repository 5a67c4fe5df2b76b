// The parser engine over `web-tree-sitter`: the tree-sitter runtime and the Python grammar
// (`tree-sitter-python.wasm`, shipped in the grammar's npm package) on WebAssembly. Loads on
// every platform without a compiler. Its finalizers free trees only after a collection that
// their tiny JS objects rarely cause, so superseded trees are freed explicitly (`free`).

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Language, Parser, Query as WasmQuery } from 'web-tree-sitter';
import { pythonParser, type ParserEngine, type PythonParser } from './parser-engine.js';
import type { Query, Tree } from './tree.js';

const require = createRequire(import.meta.url);

/** Where the grammar's `.wasm` sits: in the `tree-sitter-python` package this one depends on. */
export function pythonWasmPath(): string {
  return join(dirname(require.resolve('tree-sitter-python/package.json')), 'tree-sitter-python.wasm');
}

/** Initialises the WebAssembly runtime and loads the Python grammar into it. */
export async function loadWasmEngine(nativeUnavailable?: string): Promise<ParserEngine> {
  await Parser.init();
  const language = await Language.load(pythonWasmPath());
  const runtimeVersion = (require(join(dirname(require.resolve('web-tree-sitter')), 'package.json')) as { version: string }).version;
  const grammarVersion = (require('tree-sitter-python/package.json') as { version: string }).version;
  const createParser = (): PythonParser => {
    const parser = new Parser();
    parser.setLanguage(language);
    const parseFor = (text: string, oldTree: Tree | undefined, timeoutMicros: number): Tree | null => {
      // web-tree-sitter's timeout is a progress callback that answers "stop" (true); a stopped
      // parse resumes on the next call with the same text, as in the native binding.
      const deadline = timeoutMicros > 0 ? performance.now() + timeoutMicros / 1000 : Infinity;
      const options = deadline === Infinity ? undefined : { progressCallback: (() => performance.now() >= deadline) as () => void };
      // Our Tree is web-tree-sitter's own Tree seen through the shared interface.
      return parser.parse(text, (oldTree ?? null) as never, options) as unknown as Tree | null;
    };
    return pythonParser({
      parseFor,
      reset: () => parser.reset(),
      free: (tree) => (tree as unknown as { delete(): void }).delete(),
    });
  };
  return {
    kind: 'wasm',
    description: `web-tree-sitter ${runtimeVersion} (WebAssembly), tree-sitter-python ${grammarVersion}`,
    ...(nativeUnavailable === undefined ? {} : { nativeUnavailable }),
    createParser,
    compileQuery: (source) => new WasmQuery(language, source) as unknown as Query,
  };
}
