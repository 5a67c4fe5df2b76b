// The parser seam: which tree-sitter runs the Python grammar, chosen once at start. The native
// binding is preferred where it loads; otherwise the same grammar runs on WebAssembly
// (`web-tree-sitter` with `tree-sitter-python.wasm`), so installing never needs a compiler.
// Everything else (documents, queries, analysis) asks `parserEngine()` and sees one interface.

import type { Query, Tree } from './tree.js';

/** Which implementation parses: the native addon or WebAssembly. */
export type ParserKind = 'native' | 'wasm';

/** A Python parser that can parse in time-boxed slices and resume. */
export interface PythonParser {
  /** Parses `text` to the end, reusing `oldTree` (already edited to match) when given. */
  parse(text: string, oldTree?: Tree): Tree;
  /**
   * Parses for about `timeoutMicros` (0: no limit) and returns null when that ran out; the next
   * call with the same text resumes the parse, unless `reset()` was called in between.
   */
  parseFor(text: string, oldTree: Tree | undefined, timeoutMicros: number): Tree | null;
  /** Drops a parse that was stopped part-way, so the next call starts afresh. */
  reset(): void;
  /**
   * Frees a tree nobody reads any more. WebAssembly trees live outside the JS heap (about 15 MB
   * for a 10,000-line file) and the garbage collector does not see that weight, so superseded
   * trees are freed here; native ones are left to the collector. Reading a freed tree is a bug.
   */
  free(tree: Tree): void;
}

/** A parser from its sliced parse: `parse` is `parseFor` without a time limit. */
export function pythonParser(parts: Omit<PythonParser, 'parse'>): PythonParser {
  return {
    ...parts,
    parse(text, oldTree) {
      const tree = parts.parseFor(text, oldTree, 0);
      if (!tree) throw new Error('the parser returned no tree for a parse without a time limit');
      return tree;
    },
  };
}

export interface ParserEngine {
  readonly kind: ParserKind;
  /** What runs, for `--version`, logs and health checks: `tree-sitter 0.25.0 (native addon)`. */
  readonly description: string;
  /** Why the native binding is not the one running (only for `wasm`, when it was not asked for). */
  readonly nativeUnavailable?: string;
  createParser(): PythonParser;
  /** Compiles a query for the Python grammar; throws with tree-sitter's message when it does not. */
  compileQuery(source: string): Query;
}

/** What `CHOPPA_PARSER` may say: `native` or `wasm` force a path, anything else lets it choose. */
export type ParserPreference = ParserKind | 'auto';

export function parserPreference(value: string | undefined): ParserPreference {
  const wanted = value?.trim().toLowerCase();
  return wanted === 'native' || wanted === 'wasm' ? wanted : 'auto';
}

let current: ParserEngine | undefined;

/**
 * The engine chosen at start. Reading it before `useParserEngine` is our bug (the executable
 * and the test setup both choose one before anything parses), so it throws.
 */
export function parserEngine(): ParserEngine {
  if (!current) throw new Error('no parser engine was chosen: call loadParserEngine() at start');
  return current;
}

/** Chooses the engine for this process. Trees and queries of two engines never mix. */
export function useParserEngine(engine: ParserEngine): void {
  if (current && current !== engine) throw new Error(`the ${current.kind} parser was already chosen for this process`);
  current = engine;
}

/** Whether an engine was chosen yet. */
export function hasParserEngine(): boolean {
  return current !== undefined;
}

/** The engine in words, for `--version`, the server log and health checks (one or two lines). */
export function describeParserEngine(engine: ParserEngine = parserEngine()): string {
  const line = `parser: ${engine.description}`;
  return engine.nativeUnavailable === undefined ? line : `${line}\nnative tree-sitter not loaded: ${engine.nativeUnavailable}`;
}
