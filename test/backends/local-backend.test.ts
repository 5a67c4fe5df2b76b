// The local backend against a real python3 and a temp storage root: the shared backend
// contract, then what only a local process has (one warm pid, crash recovery, a bad
// interpreter path, the storage layout under `fsRoot`).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend, RUNNER_PATH } from '../../server/src/backends/local/local-backend.js';
import { describeBackendContract, expectError, expectRef, expectValue, payload, py } from './contract.js';

const PYTHON = process.env['CHOPPA_TEST_PYTHON'] ?? 'python3';
/** An interpreter too old for the runner, where the machine has one (pyenv). */
const OLD_PYTHON = process.env['CHOPPA_TEST_OLD_PYTHON'] ?? join(homedir(), '.pyenv', 'versions', '3.7.16', 'bin', 'python3');

async function makeLocal(pythonPath = PYTHON) {
  const fsRoot = await mkdtemp(join(tmpdir(), 'choppa-local-'));
  const backend = new LocalBackend({ pythonPath, fsRoot, runnerPath: RUNNER_PATH });
  return {
    backend,
    fsRoot,
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
