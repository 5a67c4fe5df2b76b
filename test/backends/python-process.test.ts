// The warm interpreter's life: it answers a handshake or is killed after a deadline, it dies
// with the server that started it (even one killed with SIGKILL), and user code never sees the
// server's credentials unless they are passed on purpose.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PythonProcess, scrubbedEnvironment } from '../../server/src/backends/local/python-process.js';
import { tempDir } from '../support/lsp-client.js';
import { alive, until } from '../support/processes.js';

const PYTHON = process.env['CHOPPA_PYTHON'] ?? 'python3';
const CHILD = fileURLToPath(new URL('./python-child.mjs', import.meta.url));



describe('the warm Python process', () => {
  it('gives up on an interpreter that starts but never answers, and kills it', async () => {
    const dir = tempDir();
    const hanging = join(dir, 'python-that-hangs');
    writeFileSync(hanging, '#!/bin/sh\necho $$ > "$(dirname "$0")/pid"\nexec sleep 300\n');
    chmodSync(hanging, 0o755);
    const started = Date.now();
    const result = await PythonProcess.start({ pythonPath: hanging, cwd: dir, env: process.env, startTimeoutMs: 700 });
    expect('error' in result && result.error.code).toBe('ETIMEDOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(await until(() => !alive(pid), 3_000)).toBe(true);
  });

  it('says why when the interpreter exits at start', async () => {
    const dir = tempDir();
    const broken = join(dir, 'python-that-fails');
    writeFileSync(broken, '#!/bin/sh\necho "no such venv" >&2\nexit 3\n');
    chmodSync(broken, 0o755);
    const result = await PythonProcess.start({ pythonPath: broken, cwd: dir, env: process.env });
    expect('error' in result && result.error.message).toMatch(/exited at start \(code 3\): no such venv/);
  });

  it('dies with the server that started it, even when the server is killed with SIGKILL', async () => {
    const server = spawn(process.execPath, [CHILD, PYTHON], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      server.stdout.once('data', (chunk: Buffer) => {
        const text = chunk.toString().trim();
        if (/^\d+$/.test(text)) resolve(Number(text));
        else reject(new Error(text));
      });
    });
    expect(alive(pid)).toBe(true);
    server.kill('SIGKILL');
    expect(await until(() => !alive(pid), 5_000)).toBe(true);
  });

  it('runs user code without the server credentials, unless passed on purpose', async () => {
    const env = { ...process.env, DATABRICKS_TOKEN: 'dapi-secret', ARM_CLIENT_SECRET: 'arm-secret', DATABRICKS_HOST: 'https://x', CHOPPA_KEEP: 'kept' };
    const python = await PythonProcess.start({ pythonPath: PYTHON, cwd: tempDir(), env, passEnvironment: ['DATABRICKS_HOST'] });
    if ('error' in python) throw python.error;
    try {
      const answer = await python.command("__import__('json').dumps({k: __import__('os').environ.get(k) for k in ['DATABRICKS_TOKEN', 'ARM_CLIENT_SECRET', 'DATABRICKS_HOST', 'CHOPPA_KEEP']})");
      expect(answer.ok && JSON.parse(answer.result)).toEqual({ DATABRICKS_TOKEN: null, ARM_CLIENT_SECRET: null, DATABRICKS_HOST: 'https://x', CHOPPA_KEEP: 'kept' });
    } finally {
      await python.kill();
    }
    expect(scrubbedEnvironment({ AZURE_CLIENT_SECRET: 's', PATH: '/bin' })).toEqual({ PATH: '/bin' });
  });
});
