// vitest global setup: the CLI daemons that tests start (every `choppa-lsp run` starts one) live
// in a folder of this test run's own, go after a short idle time, and are stopped at the end, so
// no test talks to a daemon of another run or of the user's, and none outlives the tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SERVER_BIN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'choppa-lsp.cjs');

export function setup(): void {
  process.env['CHOPPA_DAEMON_DIR'] = mkdtempSync(join(tmpdir(), 'choppa-daemons-'));
  process.env['CHOPPA_DAEMON_IDLE_MS'] ??= '20000';
}

export function teardown(): void {
  spawnSync(process.execPath, [SERVER_BIN, 'daemon', 'stop'], { env: process.env, timeout: 60_000 });
  rmSync(process.env['CHOPPA_DAEMON_DIR']!, { recursive: true, force: true });
}
