// The CLI daemon as a user meets it: `choppa-lsp run` in a terminal goes to a warm daemon of that
// folder and environment (started on first use), prints exactly what a run in-process prints,
// never runs a command with another environment or folder than the terminal's, does not make a
// second terminal wait, cancels on Ctrl-C or when the terminal goes away, says so when the daemon
// dies under a run, picks up results other processes stored, and goes after its idle time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { encodeFrame, FrameReader, type Frame } from '../../server/src/cli-daemon/frames.js';
import { SERVER_BIN, tempDir } from '../support/lsp-client.js';
import { alive, until } from '../support/processes.js';

const source = [
  'from choppa import Choppa',
  '',
  'dutch = Choppa()',
  '',
  '',
  '@dutch.remote',
  'def pid():',
  '    import os',
  '    return os.getpid()',
  '',
  '',
  '@dutch.remote',
  'def mark():',
  '    import os',
  '    return os.environ.get("CHOPPA_TEST_MARK")',
  '',
  '',
  '@dutch.remote',
  'def slow(seconds):',
  '    import time',
  '    print("started", flush=True)',
  '    time.sleep(seconds)',
  '    return seconds',
  '',
  '',
  '@dutch.remote',
  'def produce(n):',
  '    import time',
  '    return time.time_ns()',
  '',
  '',
  'seed = produce(1)',
  '',
  '',
  '@dutch.remote',
  'def consume(value):',
  '    return value',
  '',
  '',
  '@dutch.remote',
  'def loud(n):',
  '    for i in range(n):',
  '        print(f"line {i:06d}")',
  '    return n',
  '',
  '',
  '@dutch.remote',
  'def boom():',
  '    raise ValueError("no good")',
  '',
].join('\n');

let project: string;
let daemons: string;
/** The daemon of the project folder and the tests' own environment. */
let main: Status;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function environment(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABRICKS_') && !key.startsWith('CHOPPA_DAEMON')));
  return { ...clean, HOME: project, DATABRICKS_CONFIG_FILE: join(project, 'none.cfg'), CHOPPA_DAEMON_DIR: daemons, CHOPPA_DAEMON_IDLE_MS: '60000', ...extra };
}

/** A CLI command as a terminal runs it; `onStderr` sees its stderr as it comes and may kill it. */
function cli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER_BIN, ...args], { cwd: options.cwd ?? project, env: environment(options.env ?? {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** A long run of `slow` that `act` interrupts, once, as soon as it has printed "started". */
function interrupted(act: (child: ReturnType<typeof spawn>) => void, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  let acted = false;
  return cli(['run', 'jobs.py:slow', '--args', '60'], {
    env,
    onStderr: (text, child) => {
      if (acted || !text.includes('started')) return;
      acted = true;
      act(child);
    },
  });
}

async function value(args: string[], env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  const ran = await cli(['run', ...args, '--json'], { env });
  expect(ran.code, ran.stderr).toBe(0);
  return (JSON.parse(ran.stdout) as { value: { json: unknown } }).value.json;
}

interface Status {
  socket: string;
  pid: number;
  cwd: string;
  runs: number;
  running: number;
}

function status(): Status[] {
  const result = spawnSync(process.execPath, [SERVER_BIN, 'daemon', 'status', '--json'], { cwd: project, env: environment({}), encoding: 'utf8' });
  return JSON.parse(result.stdout) as Status[];
}



beforeAll(() => {
  project = tempDir();
  // A folder of this file's own: the tests stop and kill daemons, never those of other tests.
  daemons = join(tempDir(), 'daemons');
  mkdirSync(join(project, '.git'));
  mkdirSync(join(project, 'sub'));
  writeFileSync(join(project, 'jobs.py'), source);
});

afterAll(() => {
  spawnSync(process.execPath, [SERVER_BIN, 'daemon', 'stop'], { cwd: project, env: environment({}) });
});

describe('the CLI daemon', () => {
  it('serves runs from one warm daemon and interpreter, printing what a run in-process prints', async () => {
    const first = await value(['jobs.py:pid']);
    expect(await value(['jobs.py:pid'])).toBe(first);
    const [daemon, ...others] = status();
    expect(others).toEqual([]);
    expect(daemon).toMatchObject({ cwd: project, runs: 2 });
    main = daemon!;
    expect(alive(daemon!.pid)).toBe(true);
    // Without the daemon every run has its own interpreter.
    const inProcess = await value(['jobs.py:pid'], { CHOPPA_DAEMON: '0' });
    expect(inProcess).not.toBe(first);
    expect(await value(['jobs.py:pid'], { CHOPPA_DAEMON: '0' })).not.toBe(inProcess);
    // The same streams, text and exit code as in-process, for a value, a raise and mistakes; only
    // progress differs (the warm interpreter has nothing to start), and so may the duration.
    const shown = (ran: Ran) => ({
      code: ran.code,
      stdout: ran.stdout.replace(/ · [\d.]+ m?s · /g, ' · (time) · '),
      stderr: ran.stderr.split('\n').filter((line) => !line.startsWith('… ')),
    });
    for (const args of [['run', 'jobs.py:boom'], ['run', 'jobs.py:mark'], ['run', 'jobs.py:nothing'], ['run', 'jobs.py:mark', '--args', '1 +'], ['run', 'nowhere.py:f']]) {
      const through = await cli(args);
      const alone = await cli(args, { env: { CHOPPA_DAEMON: '0' } });
      expect(shown(through)).toEqual(shown(alone));
    }
    expect((await cli(['run', 'jobs.py:boom'])).stdout).toMatch(/^error: ValueError: no good \(jobs\.py:\d+\)/);
    expect(status()[0]).toMatchObject({ pid: daemon!.pid, runs: 8 });
  }, 60_000);

  it('runs each command with the environment and folder of its terminal', async () => {
    expect(await value(['jobs.py:mark'], { CHOPPA_TEST_MARK: 'a' })).toBe('a');
    expect(await value(['jobs.py:mark'], { CHOPPA_TEST_MARK: 'b' })).toBe('b');
    expect(await value(['jobs.py:mark'], { CHOPPA_TEST_MARK: 'a' })).toBe('a');
    // From a subfolder, paths are the terminal's: relative to where it stands.
    const below = await cli(['run', '../jobs.py:boom'], { cwd: join(project, 'sub') });
    expect(below.stdout).toMatch(/\(\.\.\/jobs\.py:\d+\)/);
    const cwds = status().map((daemon) => daemon.cwd);
    expect(cwds.filter((cwd) => cwd === project).length).toBe(3);
    expect(cwds).toContain(join(project, 'sub'));
  }, 60_000);

  it('refuses a request from another build, folder or environment than its own', async () => {
    const [daemon] = status().filter((candidate) => candidate.cwd === join(project, 'sub'));
    const frames: Frame[] = await new Promise((resolve, reject) => {
      const socket = connect(daemon!.socket);
      const reader = new FrameReader();
      const got: Frame[] = [];
      socket.on('data', (chunk) => {
        const read = reader.push(chunk);
        if (!('failure' in read)) got.push(...read);
      });
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      const identity = { build: ['another build'], cwd: join(project, 'sub'), env: [] };
      socket.write(encodeFrame('request', JSON.stringify({ argv: ['run', '../jobs.py:mark', '--json'], identity })));
    });
    expect(frames.map((frame) => frame.type)).toEqual(['busy']);
  });

  it('does not make a second terminal wait: it serves its run while the first one goes on', async () => {
    const warm = await value(['jobs.py:pid']);
    let second: Promise<Ran> | undefined;
    const slow = await cli(['run', 'jobs.py:slow', '--args', '3', '--json'], {
      onStderr: (text) => {
        if (!second && text.includes('started')) second = cli(['run', 'jobs.py:pid', '--json']);
      },
    });
    expect(slow.code).toBe(0);
    expect((JSON.parse(slow.stdout) as { value: { json: unknown } }).value.json).toBe(3);
    const other = await second!;
    expect(other.code, other.stderr).toBe(0);
    // The daemon's warm interpreter, done long before the slow run.
    expect((JSON.parse(other.stdout) as { value: { json: unknown } }).value.json).toBe(warm);
    expect(other.ms).toBeLessThan(slow.ms / 2);
  }, 60_000);

  it('cancels the run on Ctrl-C, exiting 130 as an interrupted command does, and serves the next one', async () => {
    const before = status().find((daemon) => daemon.pid === main.pid);
    const cancelled = await interrupted((child) => child.kill('SIGINT'));
    expect(cancelled.code).toBe(130);
    expect(cancelled.stdout).toContain('slow: cancelled');
    expect(cancelled.ms).toBeLessThan(20_000);
    expect(await value(['jobs.py:mark'])).toBeNull();
    const after = status().find((daemon) => daemon.pid === before!.pid);
    expect(after?.runs).toBe(before!.runs + 2);
  }, 60_000);

  it('exits 130 on Ctrl-C without a daemon too (CHOPPA_DAEMON=0), after cancelling the run', async () => {
    const cancelled = await interrupted((child) => child.kill('SIGINT'), { CHOPPA_DAEMON: '0' });
    expect(cancelled.code).toBe(130);
    expect(cancelled.stdout).toBe('slow: cancelled\n');
    expect(cancelled.ms).toBeLessThan(20_000);
  }, 60_000);

  it('cancels the run of a terminal that goes away', async () => {
    const before = status().find((daemon) => daemon.pid === main.pid);
    const gone = await interrupted((child) => child.kill('SIGKILL'));
    expect(gone.code).toBeNull();
    // The killed run ends in seconds (it would sleep a minute), and nothing is under way after it.
    expect(await until(() => status().find((daemon) => daemon.pid === before!.pid)?.runs === before!.runs + 1, 20_000)).toBe(true);
    expect(status().find((daemon) => daemon.pid === before!.pid)?.running).toBe(0);
    expect(await value(['jobs.py:mark'])).toBeNull();
    expect(status().find((daemon) => daemon.pid === before!.pid)?.runs).toBe(before!.runs + 2);
  }, 60_000);

  it('says the outcome is unknown when the daemon dies under a run, and starts a new one after', async () => {
    const before = status().find((daemon) => daemon.pid === main.pid);
    const known = new Set(status().map((daemon) => daemon.pid));
    const died = await interrupted(() => process.kill(before!.pid, 'SIGKILL'));
    expect(died.code).toBe(2);
    expect(died.stderr).toContain('the daemon stopped before the run ended; its outcome is unknown');
    // Its socket is left behind; the next run replaces it with a new daemon.
    expect(typeof (await value(['jobs.py:pid']))).toBe('number');
    const now = status();
    expect(now.map((daemon) => daemon.pid)).not.toContain(before!.pid);
    expect(now.filter((daemon) => !known.has(daemon.pid))).toMatchObject([{ cwd: project, runs: 1 }]);
  }, 60_000);

  it('reads results other processes stored before each run: a chained name gets the latest', async () => {
    const first = await value(['jobs.py:produce', '--args', '1'], { CHOPPA_DAEMON: '0' });
    expect(await value(['jobs.py:consume', '--args', 'seed'])).toBe(first);
    const second = await value(['jobs.py:produce', '--args', '1'], { CHOPPA_DAEMON: '0' });
    expect(second).not.toBe(first);
    expect(await value(['jobs.py:consume', '--args', 'seed'])).toBe(second);
  }, 60_000);

  it('relays output larger than a pipe holds to a reader that lags, and leaves a reader that went away', async () => {
    // 20,000 lines (220 KB) of output on stderr, read only after a pause: nothing lost or torn.
    const lagging = await new Promise<Ran>((resolve, reject) => {
      const child = spawn(process.execPath, [SERVER_BIN, 'run', 'jobs.py:loud', '--args', '20000'], { cwd: project, env: environment({}) });
      let stdout = '';
      let stderr = '';
      child.stderr.pause();
      setTimeout(() => child.stderr.resume(), 300);
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr, ms: 0 }));
    });
    expect(lagging.code, lagging.stderr.slice(-500)).toBe(0);
    const lines = lagging.stderr.split('\n').filter((line) => line.startsWith('line '));
    expect(lines).toHaveLength(20_000);
    expect(lines.every((line, i) => line === `line ${String(i).padStart(6, '0')}`)).toBe(true);
    // The same into a pipe left non-blocking by the parent (the flag is shared with the child): a
    // write that would block goes on through node's stream, in order, nothing lost.
    const parent = [
      'import json, os, subprocess, sys, time',
      'r, w = os.pipe()',
      'os.set_blocking(w, False)',
      'child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=w)',
      'os.close(w)',
      'time.sleep(0.3)',
      'data = b""',
      'while chunk := os.read(r, 65536):',
      '    data += chunk',
      'print(json.dumps({"code": child.wait(), "stderr": data.decode()}))',
    ].join('\n');
    // 200,000 lines (2.2 MB): many writes go through the stream.
    const through = spawnSync('python3', ['-c', parent, process.execPath, SERVER_BIN, 'run', 'jobs.py:loud', '--args', '200000'], { cwd: project, env: environment({}), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const nonBlocking = JSON.parse(through.stdout) as { code: number; stderr: string };
    expect(nonBlocking.code, through.stderr).toBe(0);
    // Only the run's lines and its progress: no warning of node's among them.
    expect(nonBlocking.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('line ') && !line.startsWith('… '))).toEqual([]);
    const written = nonBlocking.stderr.split('\n').filter((line) => line.startsWith('line '));
    expect(written).toHaveLength(200_000);
    expect(written.every((line, i) => line === `line ${String(i).padStart(6, '0')}`)).toBe(true);
    // A reader that closes before anything is written (`| head -c 0`): the run's exit code stands,
    // through the daemon as in-process.
    for (const env of [{}, { CHOPPA_DAEMON: '0' }]) {
      const gone = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, [SERVER_BIN, 'run', 'jobs.py:loud', '--args', '20000'], { cwd: project, env: environment(env) });
        child.stdout.destroy();
        child.stderr.destroy();
        child.on('error', reject);
        child.on('close', resolve);
      });
      expect(gone, JSON.stringify(env)).toBe(0);
    }
    expect(await value(['jobs.py:mark'], { CHOPPA_TEST_MARK: 'after' })).toBe('after');
  }, 60_000);

  it('runs the code as it is on disk, even saved twice within one tick of the file clock', async () => {
    const version = (word: string): string => ['from choppa import Choppa', '', 'dutch = Choppa()', '', '', '@dutch.remote', 'def which():', `    return "${word}"`, ''].join('\n');
    const file = join(project, 'versions.py');
    // Both saves stamped with the same whole second, the same size: as two saves within one tick
    // of a coarse file clock look (ext3, HFS+, FAT; a few milliseconds on Linux's own).
    const tick = Math.floor(Date.now() / 1000);
    writeFileSync(file, version('one'));
    utimesSync(file, tick, tick);
    expect(await value(['versions.py:which'])).toBe('one');
    const stat = statSync(file);
    writeFileSync(file, version('two'));
    utimesSync(file, tick, tick);
    expect(statSync(file)).toMatchObject({ mtimeMs: stat.mtimeMs, size: stat.size, ino: stat.ino });
    expect(await value(['versions.py:which'])).toBe('two');
  }, 60_000);

  it('exits after its idle time, and its interpreter with it; `daemon stop` stops the rest', async () => {
    const idle = { CHOPPA_DAEMON_IDLE_MS: '1500' };
    const known = new Set(status().map((candidate) => candidate.pid));
    const interpreter = (await value(['jobs.py:pid'], idle)) as number;
    const daemon = status().find((candidate) => !known.has(candidate.pid));
    expect(daemon).toMatchObject({ cwd: project, runs: 1 });
    expect(alive(interpreter)).toBe(true);
    expect(await until(() => !alive(interpreter) && status().length > 0 && !status().some((candidate) => candidate.pid === daemon!.pid), 15_000)).toBe(true);
    const stopped = spawnSync(process.execPath, [SERVER_BIN, 'daemon', 'stop'], { cwd: project, env: environment({}), encoding: 'utf8' });
    expect(stopped.status).toBe(0);
    expect(stopped.stdout).toMatch(/^\d+ CLI daemons? stopped/);
    expect(status()).toEqual([]);
  }, 60_000);
});
