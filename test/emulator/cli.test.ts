// The emulator's command line as `npm run emulator -- ...` runs it (vite-node, the options after
// `--`): `--help` lists the options, a mistaken option is refused in one line with the usage, and
// the options it knows still start a workspace that stops on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITE_NODE = join(ROOT, 'node_modules', '.bin', 'vite-node');
const CLI = join(ROOT, 'test', 'emulator', 'cli.ts');

function emulator(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(VITE_NODE, [CLI, '--', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run emulator', () => {
  it('prints its options on --help and exits 0', () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = emulator(flag);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: npm run emulator -- \[options\]\n/);
      for (const option of ['--port N', '--token TOKEN', '--fs-root DIR', '--python PATH', '--cluster-state STATE', '--runtime VERSION', '-h, --help']) expect(stdout).toContain(option);
      expect(stderr).not.toContain('ERR_PARSE_ARGS');
    }
  });

  it('refuses an unknown option or a value it does not know in one line, then the usage, exit 2', () => {
    for (const [args, line] of [
      [['--bogus'], "emulator: Unknown option '--bogus'"],
      [['--runtime', '18'], 'emulator: --runtime is 16.4 or 17, not 18'],
      [['--port', 'x'], 'emulator: --port x is not a port number'],
    ] as const) {
      const { code, stdout, stderr } = emulator(...args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.split('\n').slice(0, 3)).toEqual([line, '', 'Usage: npm run emulator -- [options]']);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('starts with the options it knows and stops on Ctrl-C', async () => {
    const child = spawn(VITE_NODE, [CLI, '--', '--port', '0', '--token', 'dapi-cli-test', '--runtime', '17'], { cwd: ROOT });
    let stdout = '';
    const listening = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('files under:')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await listening;
    expect(stdout).toMatch(/DATABRICKS_HOST=http:\/\/127\.0\.0\.1:\d+\n {2}DATABRICKS_TOKEN=dapi-cli-test\n/);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
