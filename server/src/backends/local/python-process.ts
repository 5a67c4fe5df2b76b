// One warm python3 process that behaves like a Databricks execution context: it executes
// command strings in one persistent `__main__` namespace and answers each with its result.
// Commands and answers travel as JSON lines over private pipes (fd 3 in, fd 4 out), so nothing
// user code prints on fd 1/2 can corrupt the protocol.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/**
 * The host loop, passed with `-c`. Everything lives inside a function so that the only name
 * it adds to `__main__` is `_choppa_host`. An expression's string result is returned as is
 * (other results as their repr), like a REPL cell; statements return ''.
 */
const HOST_SOURCE = String.raw`
def _choppa_host():
    import os, sys, threading, time, traceback, __main__
    # Taken now: code that replaces the json module's functions later must not break the answers.
    from json import dumps, loads
    # Dies with the server: the kernel kills it when its parent goes (Linux), and a watchdog
    # notices a new parent elsewhere, so no interpreter outlives a crashed or killed server.
    parent = os.getppid()
    try:
        import ctypes, signal
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if os.getppid() != parent:
        os._exit(1)
    def watchdog():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)
    threading.Thread(target=watchdog, name='choppa-watchdog', daemon=True).start()
    commands = os.fdopen(3, 'rb')
    answers = os.fdopen(4, 'wb')
    namespace = __main__.__dict__
    # The handshake: the interpreter started and reads commands.
    answers.write(b'{"ready": true}\n')
    answers.flush()
    for line in commands:
        try:
            message = loads(line)
            ident, code = message['id'], message['code']
        except Exception:
            continue
        try:
            try:
                compiled = compile(code, '<command>', 'eval')
            except SyntaxError:
                exec(compile(code, '<command>', 'exec'), namespace)
                result = ''
            else:
                value = eval(compiled, namespace)
                result = value if isinstance(value, str) else ('' if value is None else repr(value))
            answer = {'id': ident, 'ok': True, 'result': result}
        except BaseException:
            answer = {'id': ident, 'ok': False, 'error': traceback.format_exc()}
        answers.write(dumps(answer).encode('utf-8') + b'\n')
        answers.flush()
_choppa_host()
`;

/** How the process ended. */
export interface PythonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Thrown by `command` when the process answered something that is not its protocol (it is then killed). */
export class PythonProtocolError extends Error {}

/** Thrown by `command` when the process is gone before it answered. */
export class PythonExitedError extends Error {
  constructor(readonly exit: PythonExit) {
    super(`the Python process exited (${describeExit(exit)})`);
  }
}

/** `code 3` or `signal SIGKILL`, for messages. */
export function describeExit(exit: PythonExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? '?'}`;
}

export interface PythonProcessOptions {
  pythonPath: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger?: ((message: string) => void) | undefined;
  /** Kills the interpreter if it has not answered its handshake yet (the start then fails with ABORT_ERR). */
  signal?: AbortSignal;
  /** How long the interpreter may take to start and answer the handshake (default 30 s). */
  startTimeoutMs?: number;
  /** Variables user code may see although they hold credentials (setting `choppa.passEnvironment`). */
  passEnvironment?: readonly string[];
}

/** An interpreter slower than this to start is broken or hanging (a wrapper waiting on input, a stuck site hook). */
export const START_TIMEOUT_MS = 30_000;

// Credentials the server itself may hold; user code runs without them unless passed on purpose.
const SECRET_VARIABLES = /^(DATABRICKS_|ARM_|AZURE_|AWS_SECRET|AWS_SESSION_TOKEN$|GOOGLE_APPLICATION_CREDENTIALS$|GITHUB_TOKEN$)/;

/** The environment for user code: the server's, without credentials (unless `pass` names them). */
export function scrubbedEnvironment(env: NodeJS.ProcessEnv, pass: readonly string[] = []): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (!SECRET_VARIABLES.test(name) || pass.includes(name)) kept[name] = value;
  }
  return kept;
}

type Answer = { ok: true; result: string } | { ok: false; error: string };

interface Pending {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

/** A running host process; `start` resolves once it is ready for commands. */
export class PythonProcess {
  readonly pid: number;
  /** Set once the process has exited; commands then reject at once. */
  exit: PythonExit | undefined;
  /** The last few KiB the process wrote on fd 2 outside any run, for crash messages. */
  stderrTail = '';
  private readonly child: ChildProcess;
  private readonly commands: Writable;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly exited: Promise<PythonExit>;
  private markReady: () => void = () => undefined;
  /** Resolves when the host answered its handshake. */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  private constructor(child: ChildProcess, logger: ((message: string) => void) | undefined) {
    this.child = child;
    this.pid = child.pid ?? -1;
    this.commands = child.stdio[3] as Writable;
    // EPIPE after the process died; the exit handler reports it.
    this.commands.on('error', () => {});
    const answers = child.stdio[4] as Readable;
    // Chunks of the answer line in progress: each chunk is searched once and joined once,
    // so a long answer costs linear time (string concatenation plus a search from the start
    // was quadratic in it).
    let partial: string[] = [];
    answers.setEncoding('utf8');
    answers.on('data', (chunk: string) => {
      let start = 0;
      let newline: number;
      while ((newline = chunk.indexOf('\n', start)) >= 0) {
        partial.push(chunk.slice(start, newline));
        this.answer(partial.join(''));
        partial = [];
        start = newline + 1;
      }
      if (start < chunk.length) partial.push(chunk.slice(start));
    });
    answers.on('error', () => {});
    const log = (stream: string) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (stream === 'stderr') this.stderrTail = (this.stderrTail + text).slice(-4096);
      logger?.(`python ${this.pid} ${stream}: ${text.trimEnd()}`);
    };
    child.stdout?.on('data', log('stdout'));
    child.stderr?.on('data', log('stderr'));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        // Answers written just before the exit may still be in the pipe: let them arrive.
        const drained = answers.readableEnded ? Promise.resolve() : once(answers, 'close').then(() => {});
        void Promise.race([drained, new Promise((r) => setTimeout(r, 200))]).then(() => {
          this.exit = { code, signal };
          for (const pending of this.pending.values()) pending.reject(new PythonExitedError(this.exit));
          this.pending.clear();
          resolve(this.exit);
        });
      });
    });
  }

  /**
   * Spawns the host; resolves once it answered the handshake, or with the spawn error (ENOENT,
   * EACCES), or with ETIMEDOUT when it started but did not answer within `startTimeoutMs` (then
   * it is killed), or with an early exit.
   */
  static async start(options: PythonProcessOptions): Promise<PythonProcess | { error: NodeJS.ErrnoException }> {
    const child = spawn(options.pythonPath, ['-u', '-c', HOST_SOURCE], {
      cwd: options.cwd,
      env: scrubbedEnvironment(options.env, options.passEnvironment),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    const started = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (error) => resolve(error));
    });
    if (started) return { error: started };
    const python = new PythonProcess(child, options.logger);
    const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const outcome = await Promise.race([
      python.ready.then(() => 'ready' as const),
      python.whenExited().then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
      new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        if (options.signal?.aborted) onAbort();
        else options.signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    if (outcome === 'ready') return python;
    if (outcome === 'aborted') {
      await python.kill(100);
      const error: NodeJS.ErrnoException = new Error('its start was called off');
      error.code = 'ABORT_ERR';
      return { error };
    }
    if (outcome === 'timeout') {
      await python.kill(100);
      const error: NodeJS.ErrnoException = new Error(`it started but did not answer within ${Math.round(timeoutMs / 1000)} s`);
      error.code = 'ETIMEDOUT';
      return { error };
    }
    const exit = python.exit ?? (await python.whenExited());
    const error: NodeJS.ErrnoException = new Error(`it exited at start (${describeExit(exit)})${python.stderrTail ? `: ${python.stderrTail.trim().split('\n').pop()}` : ''}`);
    error.code = 'EEXITED';
    return { error };
  }

  /** False once the process has exited, even before `exit` is filled in. */
  get alive(): boolean {
    return this.poisoned === undefined && this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Set when the process broke its protocol: it is being killed, and takes no more commands. */
  private poisoned: PythonProtocolError | undefined;

  /** Executes one command in the process's `__main__` namespace. */
  command(code: string): Promise<Answer> {
    if (this.exit) return Promise.reject(new PythonExitedError(this.exit));
    if (this.poisoned) return Promise.reject(this.poisoned);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.commands.write(JSON.stringify({ id, code }) + '\n');
    });
  }

  /**
   * Only the host writes fd 4, one JSON answer a line: anything else means code in the process
   * broke the host (it replaced what the host writes with), so no answer can be trusted to come.
   * The commands waiting fail now, rather than wait forever, and the process goes; the next run
   * starts a fresh one.
   */
  private broken(line: string): void {
    const error = new PythonProtocolError(
      `the local Python answered outside its protocol (${JSON.stringify(line.slice(0, 80))}): code run in it replaced part of the interpreter the runner needs; it was stopped, and the next run starts a fresh one`,
    );
    this.poisoned ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.child.kill('SIGKILL');
  }

  /** Resolves when the process has exited (immediately if it already has). */
  whenExited(): Promise<PythonExit> {
    return this.exited;
  }

  /** Ends the process: closing fd 3 lets the host loop return; SIGKILL if that is not enough. */
  async kill(graceMs = 500): Promise<void> {
    if (this.exit) return;
    this.commands.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private answer(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      raw = undefined;
    }
    if (typeof raw !== 'object' || raw === null) {
      this.broken(line);
      return;
    }
    const message = raw as { id?: unknown; ok?: unknown; result?: unknown; error?: unknown; ready?: unknown };
    if (message.ready === true) {
      this.markReady();
      return;
    }
    if (typeof message.id !== 'number') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    pending.resolve(
      message.ok === true
        ? { ok: true, result: typeof message.result === 'string' ? message.result : '' }
        : { ok: false, error: typeof message.error === 'string' ? message.error : 'unknown error' },
    );
  }
}
