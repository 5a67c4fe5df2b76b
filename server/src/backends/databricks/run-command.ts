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
}

/**
 * Runs `cmd args`, without a shell unless `options.shell`. Rejects only when the process cannot start; an error with
 * `code === 'ENOENT'` means the executable was not found.
 */
export type RunCommand = (cmd: string, args: string[], options: RunCommandOptions) => Promise<CommandOutput>;

/** The real `RunCommand`: `child_process.spawn`, output collected as UTF-8. */
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
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
