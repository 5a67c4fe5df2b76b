// One test command for every layer: analysis units, backend contracts, protocol tests over
// stdio, repo rules. Native addons (tree-sitter) and child processes want forked workers.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    setupFiles: ['test/support/parser-setup.ts'],
    globalSetup: ['test/support/cli-daemons.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
