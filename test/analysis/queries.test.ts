// Every `.scm` query in server/queries compiles, and a broken one names its file.
import { describe, it, expect } from 'vitest';
import { compileQueries } from '../../server/src/syntax/queries.js';
import { sources } from './support.js';

describe('query files', () => {
  it('every .scm in server/queries compiles', () => {
    expect(Object.keys(sources).sort()).toMatchInlineSnapshot(`
      [
        "calls",
        "constructor-calls",
        "decorators",
        "identifiers",
        "imports",
        "instances",
        "module-calls",
        "module-imports",
        "sessions",
      ]
    `);
    for (const [name, source] of Object.entries(sources)) {
      expect(() => compileQueries({ [name]: source }), name).not.toThrow();
    }
  });

  it('a query that does not compile names its file', () => {
    expect(() => compileQueries({ broken: '(function_definition name: (identifier) @name' })).toThrow(/broken\.scm does not compile/);
  });
});
