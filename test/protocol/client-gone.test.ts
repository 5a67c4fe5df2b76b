// A client that goes away without `shutdown`/`exit` (it crashed, or closed the server's stdin):
// the server ends too, its Python with it, and what it stored in `.choppa/` is there for the
// next server.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CLUSTER_ID, startEmulator } from '../emulator/emulator.js';
import { EditorClient, tempDir } from '../support/lsp-client.js';

const text = (pidFile: string): string =>
  [
    'from choppa import Choppa',
    'dutch = Choppa()',
    '',
    '@dutch.remote',
    'def quick():',
    '    return 41 + 1',
    '',
    '@dutch.remote',
    'def slow():',
    '    import os, time',
    `    open(${JSON.stringify(pidFile)}, "w").write(str(os.getpid()))`,
    '    time.sleep(120)',
    '',
  ].join('\n');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves once `test` holds, checking every 50 ms (a process's end has no message to wait for). */
async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((done) => setTimeout(done, 50));
}

describe('a client that closes the server\'s input', () => {
  it('ends the server and its Python mid-run, and leaves the stored results to the next server', async () => {
    const root = tempDir();
    const pidFile = join(root, 'python.pid');
    const source = text(pidFile);
    const editor = await EditorClient.start({ root });
    const uri = await editor.open(join(root, 'jobs.py'), source);
    await editor.waitForDiagnostics(uri);
    expect(await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'quick' })).toMatchObject({ status: 'ok' });
    void editor.executeCommand('choppa.run', { uri, function: 'slow' }).catch(() => undefined);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '');
    const python = Number(readFileSync(pidFile, 'utf8'));
    const exited = new Promise<number | null>((done) => editor.child.once('exit', (code) => done(code)));
    editor.child.stdin.end();
    // Before, the server (and its Python, mid-run) lived on with nobody to talk to.
    expect(await exited).toBe(1);
    await until(() => !alive(python));

    const next = await EditorClient.start({ root });
    try {
      const reopened = await next.open(join(root, 'jobs.py'), source);
      const shown = await next.waitForDiagnostics(reopened, (all) => all.some((d) => d.code === 'run-result'));
      expect(shown.filter((d) => d.code === 'run-result').map((d) => d.message)).toEqual([expect.stringMatching(/^quick\(\) → 42 /)]);
    } finally {
      await next.stop();
    }
  });
});

describe('a client that sends shutdown and closes the input without exit', () => {
  it('lets the shutdown finish destroying the cluster\'s execution context before the server exits', async () => {
    const emulator = await startEmulator({ clusters: [{ cluster_id: DEFAULT_CLUSTER_ID, state: 'RUNNING' }] });
    const root = tempDir();
    const source = ['from choppa import Choppa', `dutch = Choppa(cluster_id="${DEFAULT_CLUSTER_ID}")`, '', '@dutch.remote', 'def add(a, b):', '    return a + b', ''].join('\n');
    const editor = await EditorClient.start({ root, env: { DATABRICKS_CONFIG_FILE: join(root, 'none'), DATABRICKS_HOST: emulator.url, DATABRICKS_TOKEN: emulator.token } });
    try {
      const uri = await editor.open(join(root, 'jobs.py'), source);
      expect(await editor.executeCommand<{ status: string }>('choppa.run', { uri, function: 'add', args: '1, 2' })).toMatchObject({ status: 'ok' });
      expect(emulator.contextIds()).toHaveLength(1);
      const exited = new Promise<number | null>((done) => editor.child.once('exit', (code) => done(code)));
      // `shutdown` and the end of the input in one write, as a client that closes its pipe at once.
      const shutdown = JSON.stringify({ jsonrpc: '2.0', id: 9_999, method: 'shutdown', params: null });
      editor.child.stdin.end(`Content-Length: ${Buffer.byteLength(shutdown)}\r\n\r\n${shutdown}`);
      expect(await exited).toBe(0);
      // The context the server made is gone with it, not left on the cluster.
      expect(emulator.contextIds()).toEqual([]);
    } finally {
      if (editor.alive) editor.child.kill();
      await emulator.stop();
    }
  });
});
