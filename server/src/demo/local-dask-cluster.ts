// A throwaway Dask cluster on loopback for the demo and the tests: one `dask-scheduler` and N
// `dask-worker` processes of Debian's python3-distributed. Every process is bounded: the
// scheduler closes itself when idle, workers die without their scheduler, and all are killed when
// this process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalDaskClusterOptions {
  /** An interpreter with `distributed` (Debian's is /usr/bin/python3). */
  python?: string;
  workers?: number;
  threadsPerWorker?: number;
  /** How long the whole start may take. */
  timeoutMs?: number;
  /** Seconds of idleness (no client, no task) after which the scheduler exits by itself. */
  idleTimeoutS?: number;
  /** Workers under a nanny, which starts a new worker process when one dies (as `dask worker` does by default). */
  nanny?: boolean;
}

/** The interpreter the demo and the tests use for Dask unless told otherwise. */
export const DASK_PYTHON = process.env['CHOPPA_DASK_PYTHON'] ?? '/usr/bin/python3';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** A running cluster; `address` is the scheduler's `tcp://127.0.0.1:port`. */
export class LocalDaskCluster {
  private scheduler: ChildProcess | undefined;
  private readonly workers: ChildProcess[] = [];
  private readonly dir: string;
  address = '';
  private port = 0;

  private constructor(private readonly options: Required<LocalDaskClusterOptions>) {
    this.dir = mkdtempSync(join(tmpdir(), 'choppa-dask-'));
  }

  static async start(options: LocalDaskClusterOptions = {}): Promise<LocalDaskCluster> {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', killAll);
    }
    const cluster = new LocalDaskCluster({
      python: options.python ?? DASK_PYTHON,
      workers: options.workers ?? 2,
      threadsPerWorker: options.threadsPerWorker ?? 2,
      timeoutMs: options.timeoutMs ?? 60_000,
      idleTimeoutS: options.idleTimeoutS ?? 600,
      nanny: options.nanny ?? false,
    });
    try {
      await cluster.startScheduler();
      await Promise.all(Array.from({ length: cluster.options.workers }, (_, i) => cluster.startWorker(i)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Kills the scheduler at once (SIGKILL), as a crash would; workers are left to notice. */
  killScheduler(): void {
    this.scheduler?.kill('SIGKILL');
  }

  /**
   * Kills every worker process at once (SIGKILL), as an out-of-memory kill would; with `nanny`,
   * the nannies start new ones. Returns the pids killed.
   */
  async killWorkerProcesses(): Promise<number[]> {
    const pids: number[] = [];
    for (const worker of this.workers) {
      if (worker.pid === undefined) continue;
      pids.push(...(this.options.nanny ? await childPids(worker.pid) : [worker.pid]));
    }
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    return pids;
  }

  /** Stops (SIGSTOP) or resumes (SIGCONT) the scheduler: a hung scheduler, connected but mute. */
  pauseScheduler(paused: boolean): void {
    this.scheduler?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  /**
   * Starts a fresh scheduler on the same port, with fresh workers: workers without a nanny close
   * when they lose their scheduler (after the task they were running), and never reconnect.
   */
  async restartScheduler(): Promise<void> {
    await Promise.all(this.workers.map((worker) => stopChild(worker, 0)));
    await this.startScheduler(this.port);
    await Promise.all(this.workers.map((_, index) => this.startWorker(index)));
  }

  /** Stops every process and removes the temp folder. */
  async stop(): Promise<void> {
    const all = [this.scheduler, ...this.workers].filter((child): child is ChildProcess => child !== undefined);
    await Promise.all(all.map((child) => stopChild(child)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(args: string[], name: string): ChildProcess {
    const child = spawn(this.options.python, ['-m', ...args], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONWARNINGS: 'ignore' },
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    child.stdout?.resume();
    (child as ChildProcess & { choppaName?: string }).choppaName = name;
    return child;
  }

  private async startScheduler(port = 0): Promise<void> {
    const child = this.spawn(
      [
        'distributed.cli.dask_scheduler',
        '--host', '127.0.0.1',
        '--port', String(port),
        '--no-dashboard',
        '--idle-timeout', `${this.options.idleTimeoutS}s`,
      ],
      'scheduler',
    );
    this.scheduler = child;
    const line = await waitForLine(child, /Scheduler at:\s+(tcp:\/\/127\.0\.0\.1:(\d+))/, this.options.timeoutMs, 'dask-scheduler');
    this.address = line[1]!;
    this.port = Number(line[2]);
  }

  private async startWorker(index: number): Promise<void> {
    const child = this.spawn(
      [
        'distributed.cli.dask_worker',
        this.address,
        '--host', '127.0.0.1',
        '--nthreads', String(this.options.threadsPerWorker),
        this.options.nanny ? '--nanny' : '--no-nanny',
        '--no-dashboard',
        '--death-timeout', '60s',
        '--name', `choppa-worker-${index}`,
        '--local-directory', join(this.dir, `worker-${index}`),
      ],
      `worker-${index}`,
    );
    this.workers[index] = child;
    await waitForLine(child, /Registered to:/, this.options.timeoutMs, 'dask-worker');
  }
}

/** The worker processes a nanny spawned (Linux: /proc), not its resource tracker. */
async function childPids(parent: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The fourth field, after the parenthesised command name (which may hold spaces).
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && (await readFile(`/proc/${entry}/cmdline`, 'utf8')).includes('spawn_main')) children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

/** Resolves with the first stderr line matching `pattern`; rejects when the process ends first. */
function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, name: string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => finish(new Error(`${name} did not start within ${timeoutMs} ms:\n${seen.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-16_384);
      const match = seen.match(pattern);
      if (match) finish(undefined, match);
    };
    const onExit = (code: number | null) => finish(new Error(`${name} exited (${code}) while starting:\n${seen.slice(-2000)}`));
    function finish(error?: Error, match?: RegExpMatchArray) {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining so a chatty process never blocks on a full pipe.
      child.stderr?.resume();
      if (error) reject(error);
      else resolve(match!);
    }
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
