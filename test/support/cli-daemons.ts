// vitest global setup: the CLI daemons that tests start (every `choppa-lsp run` starts one) live
// in a folder of this test run's own, go after a short idle time, and are stopped at the end, so
// no test talks to a daemon of another run or of the user's, and none outlives the tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SERVER_BIN = join(import.meta.dirname, '..', '..', 'server', 'bin', 'choppa-lsp.cjs');

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'choppa-daemons-'));
  process.env['CHOPPA_DAEMON_DIR'] = dir;
  process.env['CHOPPA_DAEMON_IDLE_MS'] ??= '20000';
  return () => {
    spawnSync(process.execPath, [SERVER_BIN, 'daemon', 'stop'], { env: process.env, timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
  };
}
