// A tmux session on a private socket, for driving terminal editors that have no scripting API
// (Helix): type with send-keys, read the screen with capture-pane, wait for text by polling.
import { execFileSync } from 'node:child_process';
import { waitFor } from './headless-env.js';
import { alive } from '../../support/processes.js';

export interface TmuxOptions {
  /** The private socket name (`tmux -L`). */
  socket: string;
  cwd: string;
  env: Record<string, string>;
  width: number;
  height: number;
  /** The program to run in the one pane, as argv. */
  command: string[];
}

function quote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** One tmux server with one pane; owns the processes it started and stops them by PID. */
export class TmuxSession {
  private constructor(
    private readonly options: TmuxOptions,
    readonly serverPid: number,
    readonly panePid: number,
  ) {}

  static start(options: TmuxOptions): TmuxSession {
    const run = (args: string[]): string =>
      execFileSync('tmux', ['-u', '-L', options.socket, '-f', '/dev/null', ...args], { cwd: options.cwd, env: options.env, encoding: 'utf8' });
    // A shell command string is what new-session takes; every word is quoted.
    const shell = options.command.map(quote).join(' ');
    run(['new-session', '-d', '-s', 'main', '-x', String(options.width), '-y', String(options.height), shell]);
    // Without this, Escape followed quickly by another key reads as Alt+key.
    run(['set-option', '-s', 'escape-time', '0']);
    const [serverPid, panePid] = run(['display-message', '-p', '#{pid} #{pane_pid}']).trim().split(' ').map(Number);
    return new TmuxSession(options, serverPid!, panePid!);
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.options.socket, ...args], { env: this.options.env, encoding: 'utf8' });
  }

  /** Sends keys as tmux names them (`Space`, `Enter`, `Escape`), or literal text with `literal`. */
  send(keys: string[], literal = false): void {
    this.tmux(['send-keys', '-t', 'main', ...(literal ? ['-l'] : []), ...keys]);
  }

  /**
   * Sends Escape on its own: a terminal program reading Escape and the next key in one read
   * takes them as Alt+key (Escape then `/` became Alt-/ in Helix), and no screen change says
   * when Escape was read, so this is the one place that waits on time.
   */
  async escape(): Promise<void> {
    this.send(['Escape']);
    await new Promise((done) => setTimeout(done, 200));
  }

  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', 'main']);
  }

  /** Waits until the screen shows `text` (or matches it) and returns the screen. */
  async waitForScreen(what: string, test: (screen: string) => boolean, timeoutMs = 20_000): Promise<string> {
    let last = '';
    try {
      return await waitFor(what, () => {
        last = this.screen();
        return test(last) ? last : undefined;
      }, timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the screen was:\n${last}`);
    }
  }

  /** Stops the pane's program and then the tmux server, by their PIDs. */
  async stop(): Promise<void> {
    for (const pid of [this.panePid, this.serverPid]) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      await waitFor(`process ${pid} to exit`, () => (alive(pid) ? undefined : true), 5_000).catch(() => process.kill(pid, 'SIGKILL'));
    }
  }
}

