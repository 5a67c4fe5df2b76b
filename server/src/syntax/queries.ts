// Compiles the `.scm` query files once per server, with the parser engine chosen at start. The
// sources come from the caller (read from disk by `query-files.ts`), so this module stays free of
// I/O.

import { parserEngine, type ParserEngine } from './parser-engine.js';
import type * as Parser from './tree.js';

/**
 * The compiled queries, by file name without `.scm`, plus a memo the analysis keeps of
 * per-statement results. The memo lives here because those results are only valid for these
 * queries, and because the owner of the queries (the session) is the right owner of the cache.
 */
export interface CompiledQueries {
  readonly queries: ReadonlyMap<string, Parser.Query>;
  readonly memo: Map<string, unknown>;
  /** The engine the queries were compiled for: a tree must come from the same one to be queried. */
  readonly engine: ParserEngine;
}

/**
 * Compiles every source with the Python grammar. A query that does not compile is our bug, not
 * the user's, so it throws an error that names the file.
 */
export function compileQueries(sources: Record<string, string>, engine: ParserEngine = parserEngine()): CompiledQueries {
  const queries = new Map<string, Parser.Query>();
  for (const [name, source] of Object.entries(sources)) {
    try {
      queries.set(name, engine.compileQuery(source));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(`server/queries/${name}.scm does not compile: ${detail}`);
    }
  }
  return { queries, memo: new Map(), engine };
}

/** The query compiled from `<name>.scm`; throws (our bug) when that file is missing. */
export function queryNamed(compiled: CompiledQueries, name: string): Parser.Query {
  const query = compiled.queries.get(name);
  if (!query) throw new Error(`server/queries/${name}.scm is missing`);
  return query;
}

/** The node captured as `name` in one match, if any. */
export function captureOf(match: Parser.QueryMatch, name: string): Parser.SyntaxNode | undefined {
  for (const capture of match.captures) if (capture.name === name) return capture.node;
  return undefined;
}
