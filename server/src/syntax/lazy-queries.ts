// Queries compiled on first use instead of at start: compiling the `.scm` files is most of what a
// server start did before it could answer `initialize`. The server warms them right after that
// answer, so the first opened document finds them compiled, or waits only for the rest.
import type { CompiledQueries } from './queries.js';

/** A `CompiledQueries` whose queries and memo come from `compile`, called once, when first read. */
export function lazyQueries(compile: () => CompiledQueries, engine: CompiledQueries['engine']): CompiledQueries & { warm(): void } {
  let compiled: CompiledQueries | undefined;
  const get = (): CompiledQueries => (compiled ??= compile());
  return {
    get queries() {
      return get().queries;
    },
    get memo() {
      return get().memo;
    },
    engine,
    warm: () => void get(),
  };
}
