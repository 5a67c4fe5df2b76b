// Runs the runner's Python unit tests (test/python/test_runner.py): what only shows from inside
// the namespace it is installed in, such as idempotent installs and the names it adds.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';

const PYTHON = process.env['CHOPPA_TEST_PYTHON'] ?? 'python3';
const TESTS = join(dirname(RUNNER_PATH), '..', '..', 'test', 'python', 'test_runner.py');

describe('runner.py unit tests', () => {
  it('pass under python3', () => {
    const result = spawnSync(PYTHON, [TESTS], {
      encoding: 'utf8',
      env: { ...process.env, CHOPPA_RUNNER: RUNNER_PATH },
      timeout: 60_000,
    });
    expect(result.stderr).toMatch(/\nOK/);
    expect(result.status).toBe(0);
  });
});
