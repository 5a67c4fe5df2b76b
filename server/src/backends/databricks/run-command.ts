// Runs a CLI (`databricks`, `az`) for a credential strategy and hands back its exit code and
// output. The strategies take this as a dependency, so tests can wrap it (another PATH) while
// still running real processes.
import { spawn } from 'node:child_process';

export interface RunCommandOptions {
  signal?: AbortSignal;
  /** Kill the process after this long; the result then has `code: null`. */
  timeoutMs?: number;
  /** Replaces the environment (PATH lookup included); defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Run through the system shell: needed for a `.cmd` on Windows (`az.cmd`), which Node refuses
   * to spawn without one. The caller must pass only arguments that need no quoting.
   */
  shell?: boolean;
}

export interface CommandOutput {
  /** Exit code, or null when the process was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when a stream passed `MAX_COMMAND_OUTPUT` characters: the process was killed then. */
  overflowed?: true;
}

/**
 * The most each stream of a credential CLI may print. A token answer is a few kilobytes; a CLI
 * that prints without end (a wrapper in a loop, a pager) is killed rather than buffered.
 */
export const MAX_COMMAND_OUTPUT = 1024 * 1024;

/**
 * Runs `cmd args`, without a shell unless `options.shell`. Rejects only when the process cannot start; an error with
 * `code === 'ENOENT'` means the executable was not found.
 */
export type RunCommand = (cmd: string, args: string[], options: RunCommandOptions) => Promise<CommandOutput>;

/** The real `RunCommand`: `child_process.spawn`, output collected as UTF-8 up to `MAX_COMMAND_OUTPUT` a stream. */
export const runCommand: RunCommand = (cmd, args, options) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...(options.env ?? process.env) },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      timeout: options.timeoutMs,
      ...(options.shell ? { shell: true } : {}),
      windowsHide: true,
    });
    const kept = { stdout: '', stderr: '' };
    let overflowed = false;
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8').on('data', (chunk: string) => {
        if (overflowed) return;
        kept[stream] += chunk;
        if (kept[stream].length <= MAX_COMMAND_OUTPUT) return;
        overflowed = true;
        kept[stream] = kept[stream].slice(0, MAX_COMMAND_OUTPUT);
        child.kill('SIGKILL');
      });
    }
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: overflowed ? null : code, ...kept, ...(overflowed ? { overflowed: true as const } : {}) }));
  });
