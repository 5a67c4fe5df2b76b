// The CLI daemon: a process that keeps the CLI's warm state (parser, project index, workspaces
// with their warm interpreters or execution contexts and HTTP connections) and runs `run` and
// `artifact` for the terminals of one folder and environment, several at once as the server does.
// It listens on a private Unix socket, and exits after an idle deadline, on `stop`, or on SIGTERM.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { CliHost, type Io } from '../cli/cli-host.js';
import { runCli } from '../cli/cli.js';
import { PACKAGE_ROOT } from '../package-files.js';
import { VERSION } from '../version.js';
import { idleMs, runIdentity, sameIdentity, type RunIdentity } from './daemon-address.js';
import { encodeFrame, FrameReader, textFrames } from './frames.js';

/** What the daemon says about itself (`choppa-lsp daemon status`). */
export interface DaemonInfo {
  pid: number;
  cwd: string;
  version: string;
  startedAt: string;
  /** Runs it has served. */
  runs: number;
  /** Runs under way. */
  running?: number;
}

/** Listens on `path`; a stale socket file (its daemon gone) is replaced, a live one left alone. */
function listen(server: Server, path: string): Promise<'listening' | 'taken'> {
  return new Promise((resolve, reject) => {
    const attempt = (retry: boolean): void => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE' || !retry) return reject(error);
        const probe = connect(path);
        probe.once('connect', () => {
          probe.destroy();
          resolve('taken');
        });
        probe.once('error', () => {
          rmSync(path, { force: true });
          attempt(false);
        });
      });
      server.listen(path, () => resolve('listening'));
    };
    attempt(true);
  });
}

export async function serveCliDaemon(path: string): Promise<void> {
  // Nothing may write to the pipe the starting CLI reads after `ready`: it is closed then.
  const quiet = (): void => undefined;
  console.log = quiet;
  console.info = quiet;
  console.warn = quiet;
  console.error = quiet;
  process.stdout.on('error', quiet);
  const host = new CliHost(true);
  let running = 0;
  let connections = 0;
  let stopping = false;
  let stopAsked = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = idleMs(process.env);
  const info: DaemonInfo = { pid: process.pid, cwd: process.cwd(), version: VERSION, startedAt: new Date().toISOString(), runs: 0 };
  // Taken at the start, from the files as they were then: a rebuild since makes requests differ.
  const identity = runIdentity(PACKAGE_ROOT, process.argv[1] ?? '', process.cwd(), process.env);

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    server.close();
    rmSync(path, { force: true });
    // Results flushed, interpreters stopped; the contexts stay on the cluster for the next daemon.
    await Promise.race([host.dispose(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    process.exit(0);
  };
  const idle = (): void => {
    clearTimeout(timer);
    if (running > 0 || connections > 0 || stopping) return;
    timer = setTimeout(() => void stop(), deadline);
  };

  const serve = (socket: Socket, argv: string[]): (() => void) => {
    running += 1;
    clearTimeout(timer);
    const controller = new AbortController();
    let open = true;
    const send = (frame: Buffer): void => {
      if (open) socket.write(frame);
    };
    const io: Io = {
      out: (text) => {
        for (const frame of textFrames('out', text)) send(frame);
      },
      err: (text) => {
        for (const frame of textFrames('err', text)) send(frame);
      },
      signal: controller.signal,
    };
    // The terminal went away (closed, killed): the run is cancelled as Ctrl-C would.
    socket.once('close', () => {
      open = false;
      controller.abort();
    });
    runCli(argv, io, host)
      .then(
        (code) => code,
        (error: unknown) => {
          io.err(`choppa-lsp: ${(error as Error).stack ?? String(error)}\n`);
          return 2;
        },
      )
      .then((code) => {
        send(encodeFrame('exit', JSON.stringify({ code })));
        socket.end();
        running -= 1;
        info.runs += 1;
        if (stopAsked && running === 0) void stop();
        else idle();
      });
    return () => controller.abort();
  };

  const server = createServer((socket) => {
    connections += 1;
    clearTimeout(timer);
    const reader = new FrameReader();
    let served = false;
    let cancel: (() => void) | undefined;
    socket.on('error', quiet);
    socket.once('close', () => {
      connections -= 1;
      idle();
    });
    socket.on('data', (chunk: Buffer) => {
      const frames = reader.push(chunk);
      if ('failure' in frames) {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (frame.type === 'stop') {
          socket.end();
          // Runs under way end first.
          stopAsked = true;
          if (running === 0) void stop();
        } else if (frame.type === 'cancel') {
          cancel?.();
        } else if (frame.type === 'status') {
          socket.end(encodeFrame('info', JSON.stringify({ ...info, running })));
        } else if (frame.type === 'request' && !served) {
          served = true;
          let request: { argv: string[]; identity: RunIdentity };
          try {
            request = JSON.parse(frame.text) as { argv: string[]; identity: RunIdentity };
          } catch {
            socket.destroy();
            return;
          }
          // A run from another folder, environment or build goes in-process (never run as it
          // was not asked), and so does one that comes while the daemon stops.
          if (stopping || stopAsked || !sameIdentity(request.identity, identity)) {
            socket.end(encodeFrame('busy'));
            continue;
          }
          cancel = serve(socket, request.argv);
        }
      }
    });
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop());
  if ((await listen(server, path)) === 'taken') {
    // Another daemon started for the same socket meanwhile: the client talks to that one.
    process.stdout.write('ready\n');
    process.exit(0);
  }
  process.stdout.write('ready\n');
  idle();
}
