// A client that goes away without `shutdown`/`exit` (it crashed, or closed the server's stdin):
// the server ends too, its Python with it, and what it stored in `.choppa/` is there for the
// next server.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
