// The terminal side of the CLI daemon: a `run` or `artifact` is sent to the daemon of this build,
// folder and environment (started on first use), and its output and exit code relayed as they
// come. The launcher loads it as one small CommonJS file (`dist/cli-daemon-client.cjs`) before
// anything else, so a warm run costs node's start and the run.
import { connect, type Socket } from 'node:net';
import { daemonDir, daemonWanted, privateDir, runIdentity, socketPath } from './daemon-address.js';
import { drained, writeOut } from '../cli/standard-output.js';
import { encodeFrame, FrameReader } from './frames.js';

/** How long a daemon may take to start listening before the run goes in-process instead. */
const START_DEADLINE_MS = 10_000;

/**
 * A connection to the socket with `request` sent (node queues it until the connection is up, so
 * the daemon has it without waiting on this process to hear of the connection), or undefined when
 * nobody listens there (then nothing was delivered).
 */
function reach(path: string, request: Buffer): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.write(request);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => resolve(undefined));
  });
}

/** Starts a daemon for `path` and waits until it listens; false when it did not. */
async function startDaemon(path: string, entry: string): Promise<boolean> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    // Its own session (detached), no terminal and none of our pipes: it outlives this process
    // without holding up whoever waits for our output to end.
    const child = spawn(process.execPath, [...process.execArgv, entry, '--cli-daemon', path], {
      cwd: process.cwd(),
      env: process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let said = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      child.stdout?.destroy();
      child.removeAllListeners();
      child.unref();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), START_DEADLINE_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      said += chunk.toString('utf8');
      if (said.includes('ready\n')) done(true);
      else if (said.length > 4096) done(false);
    });
    child.once('error', () => done(false));
    child.once('exit', () => done(said.includes('ready\n')));
  });
}

/**
 * Runs `argv` through the daemon and resolves to its exit code once its output is written, or to
 * undefined when there is no daemon to be had or it will not take the run (it is stopping, or its
 * identity is not this terminal's): the caller then runs the command itself. With an exit code,
 * the caller exits at once: the connection is left for the exit to close.
 * `entry` is the script node runs (the launcher, which a daemon is started with too), and
 * `packageRoot` the package's folder (`server/`).
 */
export async function runThroughDaemon(argv: string[], entry: string, packageRoot: string): Promise<number | undefined> {
  if (!daemonWanted(process.env, process.platform)) return undefined;
  const dir = daemonDir(process.env);
  if (!privateDir(dir)) return undefined;
  const identity = runIdentity(packageRoot, entry, process.cwd(), process.env);
  const path = socketPath(dir, identity);
  if (path === undefined) return undefined;
  const request = encodeFrame('request', JSON.stringify({ argv, identity }));
  let socket = await reach(path, request);
  if (!socket) {
    if (!(await startDaemon(path, entry))) return undefined;
    socket = await reach(path, request);
    if (!socket) return undefined;
  }
  const code = await converse(socket);
  if (code !== undefined) await drained();
  return code;
}

function exitCode(text: string): number | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code < 256 ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Relays the daemon's frames for the request `reach` sent until its exit code comes. */
function converse(socket: Socket): Promise<number | undefined> {
  return new Promise((resolve) => {
    const reader = new FrameReader();
    let heard = false;
    let ended = false;
    let interrupts = 0;
    // Ctrl-C cancels the run as it would in-process; a second one leaves at once.
    const onInterrupt = (): void => {
      interrupts += 1;
      if (interrupts > 1) process.exit(130);
      socket.write(encodeFrame('cancel'));
    };
    process.on('SIGINT', onInterrupt);
    const finish = (code: number | undefined): void => {
      if (ended) return;
      ended = true;
      process.removeListener('SIGINT', onInterrupt);
      // With an exit code the process exits at once and the connection closes with it (closing
      // it first costs a third of a millisecond); a `busy` one goes on in-process, so it closes.
      if (code === undefined) socket.destroy();
      resolve(code);
    };
    const broken = (what: string): void => {
      writeOut(2, `choppa-lsp: the daemon sent ${what}; the run's outcome is unknown (CHOPPA_DAEMON=0 runs without a daemon)\n`);
      finish(2);
    };
    socket.on('data', (chunk: Buffer) => {
      const frames = reader.push(chunk);
      if ('failure' in frames) return broken(frames.failure);
      for (const frame of frames) {
        if (frame.type === 'busy' && !heard) return finish(undefined);
        heard = true;
        if (frame.type === 'out') writeOut(1, frame.text);
        else if (frame.type === 'err') writeOut(2, frame.text);
        else if (frame.type === 'exit') {
          const code = exitCode(frame.text);
          return code === undefined ? broken(`an exit of ${JSON.stringify(frame.text.slice(0, 80))}`) : finish(code);
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (ended) return;
      // Whether the run happened is not known here: say so rather than run it a second time.
      writeOut(2, "choppa-lsp: the daemon stopped before the run ended; its outcome is unknown. Run it again (CHOPPA_DAEMON=0 runs without a daemon).\n");
      finish(2);
    });
  });
}
