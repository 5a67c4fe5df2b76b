// The warm local Python that holds the `distributed.Client`: a `PythonProcess` (the local
// backend's private-pipe host) that has executed `server/python/dask_driver.py` and connected to
// the scheduler. Every call travels as base64 JSON `{method, args}`, never as spliced source.
import { readFile } from 'node:fs/promises';
import { packageFile } from '../../package-files.js';
import { describeExit, PythonExitedError, PythonProcess } from '../local/python-process.js';
import type { BackendFailure } from '../backend.js';

/** `server/python/dask_driver.py`. */
export const DASK_DRIVER_PATH = packageFile('python', 'dask_driver.py');

export interface DaskDriverOptions {
  /** An interpreter that can `import distributed` (the `choppa.dask.pythonPath` setting). */
  pythonPath: string;
  scheduler: string;
  runnerPath: string;
  driverPath: string;
  /** How long connecting to the scheduler may take. */
  connectTimeoutMs: number;
  /** How long one command may take before the driver is deemed hung (default 60 s). */
  commandTimeoutMs?: number;
  cwd: string;
  logger?: ((message: string) => void) | undefined;
}

/** How long one driver command may take before the driver is deemed hung. */
export const COMMAND_TIMEOUT_MS = 60_000;

/** What `info` reports once connected. */
export interface DaskClusterInfo {
  scheduler: string;
  workers: number;
  distributed: string;
  python: string;
}

/** The command string that calls one driver method. */
export function driverCall(method: string, ...args: unknown[]): string {
  return `_choppa_dask_call("${Buffer.from(JSON.stringify({ method, args }), 'utf8').toString('base64')}")`;
}

/** A connected driver process. */
export class DaskDriver {
  private constructor(
    readonly process: PythonProcess,
    readonly info: DaskClusterInfo,
    readonly commandTimeoutMs: number,
  ) {}

  /** Starts the process, loads the driver and connects; a failure says what to change. */
  static async connect(options: DaskDriverOptions): Promise<DaskDriver | BackendFailure> {
    const { pythonPath, scheduler } = options;
    let driverSource: string;
    let runnerSource: string;
    try {
      [driverSource, runnerSource] = await Promise.all([readFile(options.driverPath, 'utf8'), readFile(options.runnerPath, 'utf8')]);
    } catch (error) {
      return { failure: `the Dask backend cannot start: ${(error as Error).message}` };
    }
    const started = await PythonProcess.start({
      pythonPath,
      cwd: options.cwd,
      env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
      logger: options.logger,
    });
    if ('error' in started) {
      return {
        failure: `could not start the Python interpreter \`${pythonPath}\` for Dask (${started.error.code ?? started.error.message}); set \`choppa.dask.pythonPath\` to the Python of your Dask environment`,
      };
    }
    // The process must not outlive a connect that takes too long (or hangs in an import).
    const deadline = setTimeout(() => void started.kill(0), options.connectTimeoutMs + 15_000);
    try {
      const loaded = await started.command(driverSource);
      if (!loaded.ok) {
        await started.kill();
        const last = lastLine(loaded.error);
        const hint = /No module named '?(distributed|dask)/.test(loaded.error)
          ? `\`${pythonPath}\` cannot import distributed; install it there (Debian: \`apt-get install python3-distributed\`, which is /usr/bin/python3) or set \`choppa.dask.pythonPath\` to the Python of your Dask environment`
          : `the Dask driver could not load in \`${pythonPath}\` (${last})`;
        return { failure: hint };
      }
      const connected = await started.command(driverCall('connect', scheduler, runnerSource, options.connectTimeoutMs / 1000));
      if (!connected.ok) {
        await started.kill();
        return {
          failure: `cannot reach the Dask scheduler at ${scheduler} (${lastLine(connected.error)}); start it (\`dask-scheduler\`) or set \`choppa.dask.scheduler\``,
        };
      }
      const info = JSON.parse(connected.result) as DaskClusterInfo;
      options.logger?.(`dask driver ${started.pid} connected to ${scheduler} (${info.workers} workers, distributed ${info.distributed})`);
      return new DaskDriver(started, info, options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS);
    } catch (error) {
      const exit = error instanceof PythonExitedError ? describeExit(error.exit) : String(error);
      return { failure: `the Dask driver \`${pythonPath}\` exited while connecting to ${scheduler} (${exit}): ${lastLine(started.stderrTail)}` };
    } finally {
      clearTimeout(deadline);
    }
  }

  get alive(): boolean {
    return this.process.alive;
  }

  /**
   * Sends one command with a deadline: every driver command is short (a poll waits 25 ms at
   * most), so one that takes longer means a hung scheduler call; the driver is then killed,
   * which rejects the command with `PythonExitedError`, and the next request starts a new one.
   */
  async command(code: string, timeoutMs = this.commandTimeoutMs): ReturnType<PythonProcess['command']> {
    const timer = setTimeout(() => {
      this.timedOut = true;
      void this.process.kill(0);
    }, timeoutMs);
    try {
      return await this.process.command(code);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True once a command outlived its deadline (and the process was killed for it). */
  timedOut = false;

  /** Calls a driver method; its JSON answer parsed, or a failure naming the method. */
  async call<T>(method: string, ...args: unknown[]): Promise<T | BackendFailure> {
    try {
      const answer = await this.command(driverCall(method, ...args));
      if (!answer.ok) return { failure: `the Dask driver failed in ${method}: ${lastLine(answer.error)}` };
      try {
        return JSON.parse(answer.result) as T;
      } catch {
        return { failure: `the Dask driver answered ${method} with something that is not JSON: ${answer.result.slice(0, 200)}` };
      }
    } catch (error) {
      if (this.timedOut) return { failure: `the Dask driver got no answer from the scheduler at ${this.info.scheduler} within ${this.commandTimeoutMs / 1000} s (in ${method}); it was restarted` };
      const exit = error instanceof PythonExitedError ? describeExit(error.exit) : String(error);
      return { failure: `the Dask driver exited (${exit}); it will be restarted on the next request` };
    }
  }

  /** Closes the client, then ends the process. */
  async close(): Promise<void> {
    if (this.process.alive) {
      await Promise.race([this.process.command(driverCall('close')).catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
    }
    await this.process.kill();
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}
