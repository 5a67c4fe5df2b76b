// The local backend against a real python3 and a temp storage root: the shared backend
// contract, then what only a local process has (one warm pid, crash recovery, a bad
// interpreter path, the storage layout under `fsRoot`, detached submitted jobs).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend, RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';
import { jobsRoot } from '../../server/src/backends/local/local-submit.js';
import type { SubmittedHandle } from '../../server/src/backends/backend.js';
import { alive, poll } from '../emulator/support.js';
import {
  describeBackendContract,
  expectError,
  expectRef,
  expectValue,
  payload,
  py,
  submitOk,
  submitRequest,
  waitSubmitted,
} from './contract.js';

const PYTHON = process.env['CHOPPA_TEST_PYTHON'] ?? 'python3';
/** An interpreter too old for the runner, where the machine has one (pyenv). */
const OLD_PYTHON = process.env['CHOPPA_TEST_OLD_PYTHON'] ?? join(homedir(), '.pyenv', 'versions', '3.7.16', 'bin', 'python3');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./submit-child.ts', import.meta.url));

async function makeLocal(pythonPath = PYTHON) {
  const fsRoot = await mkdtemp(join(tmpdir(), 'choppa-local-'));
  const backend = new LocalBackend({ pythonPath, fsRoot, runnerPath: RUNNER_PATH });
  return {
    backend,
    fsRoot,
    countSubmittedRuns: async () => (await readdir(jobsRoot(fsRoot)).catch(() => [])).filter((name) => name !== 'tokens').length,
    cleanup: async () => {
      await backend.dispose();
      await rm(fsRoot, { recursive: true, force: true });
    },
  };
}

describeBackendContract('local python3', () => makeLocal());

describe('local backend', () => {
  let local: Awaited<ReturnType<typeof makeLocal>>;
  beforeAll(async () => {
    local = await makeLocal();
  });
  afterAll(async () => {
    await local?.cleanup();
  });

  const pid = async () =>
    expectValue(await local.backend.run(payload({ source: py('def f():', '    import os', '    return os.getpid()') }))).json;

  it('labels itself with the interpreter version after the first run', async () => {
    expect(local.backend.label()).toBe('local python3');
    await pid();
    expect(local.backend.label()).toMatch(/^local python3\.\d+$/);
  });

  it('reuses one warm process across runs', async () => {
    const first = await pid();
    expect(typeof first).toBe('number');
    expect(await pid()).toBe(first);
  });

  it('reports the process dying mid-run as a backend error, then restarts it', async () => {
    const before = await pid();
    const outcome = await local.backend.run(
      payload({ source: py('def f():', '    import os', "    print('going down')", '    os._exit(7)') }),
    );
    const error = expectError(outcome);
    expect(error.origin).toBe('backend');
    expect(error.message).toBe(
      'the local Python process exited (code 7) while running f; it will be restarted on the next run',
    );
    const after = await pid();
    expect(after).not.toBe(before);
  });

  it('reports a process killed by a signal', async () => {
    const error = expectError(
      await local.backend.run(payload({ source: py('def f():', '    import os, signal', '    os.kill(os.getpid(), signal.SIGKILL)') })),
    );
    expect(error.message).toContain('exited (signal SIGKILL)');
    expect(expectValue(await local.backend.run(payload({ source: py('def f():', '    return 2') }))).json).toBe(2);
  });

  it('ends a run at once, and starts afresh, when code writes over the private answer pipe', async () => {
    const before = await pid();
    const started = Date.now();
    const error = expectError(
      await local.backend.run(payload({ source: py('def f():', '    import os, time', "    os.write(4, b'not an answer\\n')", '    time.sleep(30)') })),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.origin).toBe('backend');
    expect(error.message).toContain('the local Python answered outside its protocol ("not an answer")');
    expect(error.message).toContain('the next run starts a fresh one (while running f)');
    expect(await pid()).not.toBe(before);
  });

  it('keeps user prints on fd 1 and 2 away from the protocol', async () => {
    const value = expectValue(
      await local.backend.run(
        payload({
          source: py(
            'def f():',
            '    import os',
            "    os.write(1, b'{\"id\": 1, \"ok\": true}\\n')",
            "    os.write(2, b'raw stderr\\n')",
            "    return 'fine'",
          ),
        }),
      ),
    );
    expect(value.json).toBe('fine');
  });

  /** An interpreter whose site hook makes the runner's installation hang (as a slow `sitecustomize` can). */
  async function pythonThatHangsLoadingTheRunner(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'choppa-slow-site-'));
    await writeFile(
      join(dir, 'sitecustomize.py'),
      ['import builtins, time', '_compile = builtins.compile', 'def compile(source, *args, **kwargs):', "    if isinstance(source, str) and '_choppa_install' in source:", '        time.sleep(600)', '    return _compile(source, *args, **kwargs)', 'builtins.compile = compile', ''].join('\n'),
    );
    const wrapper = join(dir, 'python');
    await writeFile(wrapper, `#!/bin/sh\nPYTHONPATH='${dir}' exec '${PYTHON}' "$@"\n`, { mode: 0o755 });
    return wrapper;
  }

  it('gives up on an interpreter that does not load the runner within its deadline, and says so', async () => {
    const slow = new LocalBackend({ pythonPath: await pythonThatHangsLoadingTheRunner(), fsRoot: local.fsRoot, runnerPath: RUNNER_PATH, startTimeoutMs: 1500 });
    try {
      const started = Date.now();
      const outcome = await slow.run(payload({ source: py('def f():', '    return 1') }));
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(expectError(outcome).message).toMatch(/did not load the runner within 2 s .*the next run starts a new one/);
    } finally {
      await slow.dispose();
    }
  });

  it('ends a run cancelled while the interpreter is still starting at once', async () => {
    const slow = new LocalBackend({ pythonPath: await pythonThatHangsLoadingTheRunner(), fsRoot: local.fsRoot, runnerPath: RUNNER_PATH, startTimeoutMs: 60_000 });
    try {
      const controller = new AbortController();
      const started = Date.now();
      const running = slow.run(payload({ source: py('def f():', '    return 1') }), {
        signal: controller.signal,
        onProgress: (report) => {
          if (report.message === 'starting local Python') setTimeout(() => controller.abort(), 300);
        },
      });
      const outcome = await running;
      expect(outcome.status).toBe('cancelled');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await slow.dispose();
    }
  });

  it('reports cancelled after the grace when the function is stuck in C, and stays usable', async () => {
    const stuck = new LocalBackend({ pythonPath: PYTHON, fsRoot: local.fsRoot, runnerPath: RUNNER_PATH, cancelGraceMs: 200 });
    try {
      const controller = new AbortController();
      const outcome = await stuck.run(
        payload({ source: py('def f():', '    import time', "    print('sleeping', flush=True)", '    time.sleep(600)') }),
        {
          signal: controller.signal,
          onOutput: (_stream, text) => {
            if (text.includes('sleeping')) controller.abort();
          },
        },
      );
      expect(outcome.status).toBe('cancelled');
      expect(expectValue(await stuck.run(payload({ source: py('def f():', '    return 3') }))).json).toBe(3);
    } finally {
      await stuck.dispose();
    }
  });

  it('writes artifacts under fsRoot with a sidecar', async () => {
    const ref = expectRef(
      await local.backend.run(payload({ mode: 'artifact', artifact_dir: 'dbfs:/tmp/layout', source: py('def f():', '    return [1, 2]') })),
    );
    const base = ref.path.slice('dbfs:/tmp/layout/'.length, -'.pkl'.length);
    const local_ = join(local.fsRoot, 'dbfs', 'tmp', 'layout');
    expect(existsSync(join(local_, `${base}.pkl`))).toBe(true);
    expect(JSON.parse(await readFile(join(local_, `${base}.json`), 'utf8'))).toEqual(ref);
  });

  it('refuses to fetch into place when the source maps outside fsRoot', async () => {
    expect(await local.backend.fetchArtifact('dbfs:/../x.pkl', join(local.fsRoot, 'out.pkl'))).toHaveProperty('failure');
  });

  it('refuses to read an artifact through a symbolic link planted inside fsRoot', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'choppa-outside-'));
    await writeFile(join(outside, 'secret.pkl'), 'not yours');
    await writeFile(join(outside, 'secret.json'), JSON.stringify({ path: '/Volumes/x', size: 9, sha256: 'a'.repeat(64), type: 'str', preview: "'x'", created: '' }));
    await mkdir(join(local.fsRoot, 'Volumes'), { recursive: true });
    await symlink(outside, join(local.fsRoot, 'Volumes', 'planted'));
    const fetched = await local.backend.fetchArtifact('/Volumes/planted/secret.pkl', join(tmpdir(), `choppa-never-${Date.now()}.pkl`));
    expect(fetched).toMatchObject({ failure: expect.stringContaining('/Volumes/planted/secret.pkl') });
    expect(await local.backend.readArtifactMetadata('/Volumes/planted/secret.pkl')).toHaveProperty('failure');
  });
});

describe('local submitted jobs', () => {
  let local: Awaited<ReturnType<typeof makeLocal>>;
  beforeAll(async () => {
    local = await makeLocal();
  });
  afterAll(async () => {
    await local?.cleanup();
  });
  const pidOf = (handle: SubmittedHandle) => handle.data['pid'] as number;

  it('keeps a job running after dispose, and a fresh backend polls it to completion', async () => {
    const owner = new LocalBackend({ pythonPath: PYTHON, fsRoot: local.fsRoot, runnerPath: RUNNER_PATH });
    const handle = await submitOk(owner, submitRequest({ source: py('def f():', '    import time', '    time.sleep(1.0)', "    return 'done'") }));
    expect(handle.data).toMatchObject({
      dir: join(local.fsRoot, '.choppa-jobs', handle.runId),
      resultFile: join(local.fsRoot, '.choppa-jobs', handle.runId, 'result.json'),
      logFile: join(local.fsRoot, '.choppa-jobs', handle.runId, 'output.log'),
    });
    await owner.dispose();
    expect(alive(pidOf(handle))).toBe(true);
    const fresh = new LocalBackend({ pythonPath: PYTHON, fsRoot: local.fsRoot, runnerPath: RUNNER_PATH });
    expect((await fresh.submittedStatus(handle)) as object).toMatchObject({ state: 'running' });
    const status = await waitSubmitted(fresh, JSON.parse(JSON.stringify(handle)));
    expect(status).toMatchObject({ state: 'succeeded', ref: { type: 'str', preview: "'done'" } });
  });

  it('keeps a job running after the process that submitted it exits', async () => {
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'vite-node'),
      [CHILD, PYTHON, local.fsRoot, JSON.stringify(submitRequest({ source: py('def f():', '    import time', '    time.sleep(0.5)', '    return 5') }))],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const handle = JSON.parse(stdout.trim().split('\n').pop()!) as SubmittedHandle;
    expect(alive(pidOf(handle))).toBe(true);
    expect(await waitSubmitted(local.backend, handle)).toMatchObject({ state: 'succeeded', ref: { preview: '5' } });
  }, 60_000);

  it('reports a job whose process died without a result as failed, with the end of its output', async () => {
    const handle = await submitOk(
      local.backend,
      submitRequest({ source: py('def f():', '    import os', "    print('about to vanish', flush=True)", '    os._exit(3)') }),
    );
    const status = await waitSubmitted(local.backend, handle);
    expect(status.state).toBe('failed');
    expect(status.error).toMatchObject({ type: 'BackendError', origin: 'backend' });
    expect(status.error?.message).toContain('ended without a result; its output ended with: about to vanish');
    expect(status.logs).toContain('about to vanish');
  });

  it('cancels the whole process group of a job', async () => {
    const pidFile = join(local.fsRoot, 'grandchild.pid');
    const handle = await submitOk(
      local.backend,
      submitRequest({
        source: py(
          'def f(pid_file):',
          '    import subprocess, time',
          "    child = subprocess.Popen(['sleep', '600'])",
          "    open(pid_file, 'w').write(str(child.pid))",
          '    time.sleep(600)',
        ),
        args_source: JSON.stringify(pidFile),
      }),
    );
    const grandchild = Number(await poll(() => readFile(pidFile, 'utf8').catch(() => ''), (text) => text !== ''));
    expect(alive(grandchild)).toBe(true);
    expect(await local.backend.cancelSubmitted(handle)).toEqual({ cancelled: true });
    expect((await waitSubmitted(local.backend, handle)).state).toBe('cancelled');
    await poll(async () => alive(grandchild), (living) => !living, 5_000);
    expect(alive(pidOf(handle))).toBe(false);
    expect(alive(grandchild)).toBe(false);
  });

  it('never signals a pid that now belongs to another process', async () => {
    const done = await submitOk(local.backend, submitRequest({ source: py('def f():', '    return 1') }));
    await waitSubmitted(local.backend, done);
    // As if the job's pid had been reused by this very test process.
    const reused: SubmittedHandle = { ...done, data: { ...done.data, pid: process.pid } };
    await rm(join(local.fsRoot, '.choppa-jobs', done.runId, 'result.json'));
    expect(await local.backend.cancelSubmitted(reused)).toEqual({ cancelled: true });
    expect((await local.backend.submittedStatus(reused)) as object).toMatchObject({ state: 'failed' });
  });

  it('refuses a handle whose folder is not under its own fsRoot', async () => {
    const handle: SubmittedHandle = { runId: 'x1', data: { pid: 1, processStart: '', dir: '/tmp/elsewhere/x1' } };
    expect(await local.backend.submittedStatus(handle)).toHaveProperty('failure');
    expect(await local.backend.cancelSubmitted(handle)).toHaveProperty('failure');
  });

  it('names the setting when the interpreter is missing, and lets the same token try again', async () => {
    const broken = new LocalBackend({ pythonPath: '/nonexistent/python3', fsRoot: local.fsRoot, runnerPath: RUNNER_PATH });
    const request = submitRequest({ source: py('def f():', '    return 1') });
    const failed = await broken.submit(request);
    expect(failed).toHaveProperty('failure');
    expect((failed as { failure: string }).failure).toContain('choppa.pythonPath');
    const retried = await local.backend.submit({ ...request, payload: { ...request.payload, run_id: `${request.payload.run_id}-2` } });
    expect(retried).not.toHaveProperty('failure');
    expect((await waitSubmitted(local.backend, retried as SubmittedHandle)).state).toBe('succeeded');
  });
});

describe('local backend with a bad interpreter', () => {
  it('names the choppa.pythonPath setting', async () => {
    const local = await makeLocal('/nonexistent/python3');
    try {
      const error = expectError(await local.backend.run(payload({ source: py('def f():', '    return 1') })));
      expect(error.origin).toBe('backend');
      expect(error.message).toContain('choppa.pythonPath');
      expect(error.message).toContain('/nonexistent/python3');
    } finally {
      await local.cleanup();
    }
  });

  it.runIf(existsSync(OLD_PYTHON))('names the setting when the interpreter is older than 3.8', async () => {
    const local = await makeLocal(OLD_PYTHON);
    try {
      const error = expectError(await local.backend.run(payload({ source: py('def f():', '    return 1') })));
      expect(error.message).toMatch(/is Python 3\.7\.\d+; set `choppa.pythonPath` to a Python 3\.8\+ executable/);
    } finally {
      await local.cleanup();
    }
  });

  it('names the setting when the interpreter is not Python', async () => {
    const local = await makeLocal('/bin/false');
    try {
      const error = expectError(await local.backend.run(payload({ source: py('def f():', '    return 1') })));
      expect(error.message).toContain('choppa.pythonPath');
    } finally {
      await local.cleanup();
    }
  });
});
