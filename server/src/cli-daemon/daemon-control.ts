// `choppa-lsp daemon status` and `choppa-lsp daemon stop`: the user's CLI daemons (one per build,
// folder and environment), read from their socket folder; stop lets each finish its run first.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { daemonDir } from './daemon-address.js';
import type { DaemonInfo } from './daemon-server.js';
import { encodeFrame } from './frames.js';

interface Found {
  socket: string;
  info: DaemonInfo | undefined;
}

function found(dir: string): Found[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.sock'));
  } catch {
    return [];
  }
  return names.map((name) => {
    const socket = join(dir, name);
    let info: DaemonInfo | undefined;
    try {
      info = JSON.parse(readFileSync(socket.replace(/\.sock$/, '.json'), 'utf8')) as DaemonInfo;
    } catch {
      info = undefined;
    }
    return { socket, info };
  });
}

/** Asks one daemon to stop; resolves once its socket is gone, or false after `deadlineMs`. */
function stopOne(socket: string, deadlineMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = connect(socket);
    const started = Date.now();
    const gone = (): void => {
      if (!existsSync(socket)) resolve(true);
      else if (Date.now() - started > deadlineMs) resolve(false);
      else setTimeout(gone, 20);
    };
    connection.once('connect', () => connection.end(encodeFrame('stop')));
    connection.once('close', gone);
    connection.once('error', () => undefined);
  });
}

export async function daemonCommand(action: string, io: { out: (text: string) => void; err: (text: string) => void }, json: boolean): Promise<number> {
  const dir = daemonDir(process.env);
  const daemons = found(dir);
  if (action === 'status') {
    if (json) io.out(`${JSON.stringify(daemons.map(({ socket, info }) => ({ socket, ...info })), null, 2)}\n`);
    else if (daemons.length === 0) io.out(`no CLI daemon runs (${dir})\n`);
    else for (const { info, socket } of daemons) io.out(info ? `pid ${info.pid}  ${info.cwd}  choppa-lsp ${info.version}  since ${info.startedAt}  ${info.runs} run${info.runs === 1 ? '' : 's'}\n` : `${socket} (no details)\n`);
    return 0;
  }
  if (action === 'stop') {
    const stopped = await Promise.all(daemons.map(({ socket }) => stopOne(socket, 60_000)));
    const left = stopped.filter((ok) => !ok).length;
    if (!json) io.out(`${daemons.length - left} CLI daemon${daemons.length - left === 1 ? '' : 's'} stopped${left ? `, ${left} still running a run` : ''}\n`);
    else io.out(`${JSON.stringify({ stopped: daemons.length - left, running: left })}\n`);
    return left === 0 ? 0 : 1;
  }
  io.err(`choppa-lsp daemon: expected status or stop, got ${action}\n`);
  return 2;
}
