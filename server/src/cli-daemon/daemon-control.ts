// `choppa-lsp daemon status` and `choppa-lsp daemon stop`: the user's CLI daemons (one per build,
// folder and environment), found by their sockets and asked directly; stop lets each finish its
// run first. A socket nobody answers on (its daemon was killed) is removed.
import { readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { daemonDir } from './daemon-address.js';
import type { DaemonInfo } from './daemon-server.js';
import { encodeFrame, FrameReader, type FrameType } from './frames.js';

/** How long a daemon may take to answer `status`, or to be gone after `stop`. */
const ANSWER_MS = 5_000;
const STOP_MS = 60_000;

function sockets(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.sock'))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/**
 * Sends one frame and resolves to the daemon's answer when it closes the connection: its frames,
 * or `gone` when nobody listens there (the socket is then removed), or `silent` past `ms`.
 */
function ask(socket: string, type: FrameType, ms: number): Promise<{ text: string }[] | 'gone' | 'silent'> {
  return new Promise((resolve) => {
    const connection = connect(socket);
    const reader = new FrameReader();
    const frames: { text: string }[] = [];
    const timer = setTimeout(() => {
      connection.destroy();
      resolve('silent');
    }, ms);
    connection.once('connect', () => connection.write(encodeFrame(type)));
    connection.on('data', (chunk: Buffer) => {
      const read = reader.push(chunk);
      if (!('failure' in read)) frames.push(...read);
    });
    connection.once('close', () => {
      clearTimeout(timer);
      resolve(frames);
    });
    connection.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') {
        rmSync(socket, { force: true });
        resolve('gone');
      } else resolve('silent');
    });
  });
}

export async function daemonCommand(action: string, io: { out: (text: string) => void; err: (text: string) => void }, json: boolean): Promise<number> {
  const dir = daemonDir(process.env);
  if (action === 'status') {
    const answers = await Promise.all(sockets(dir).map(async (socket) => ({ socket, answer: await ask(socket, 'status', ANSWER_MS) })));
    const live = answers.flatMap(({ socket, answer }) => (Array.isArray(answer) && answer[0] ? [{ socket, ...(JSON.parse(answer[0].text) as DaemonInfo) }] : []));
    if (json) io.out(`${JSON.stringify(live, null, 2)}\n`);
    else if (live.length === 0) io.out(`no CLI daemon runs (${dir})\n`);
    else for (const info of live) io.out(`pid ${info.pid}  ${info.cwd}  choppa-lsp ${info.version}  since ${info.startedAt}  ${info.runs} run${info.runs === 1 ? '' : 's'}${info.running ? `, ${info.running} under way` : ''}\n`);
    return 0;
  }
  if (action === 'stop') {
    const all = sockets(dir);
    const stopped = await Promise.all(
      all.map(async (socket) => {
        const answer = await ask(socket, 'stop', STOP_MS);
        if (answer === 'gone') return 'gone';
        // The daemon removes its socket when it has stopped.
        const deadline = Date.now() + STOP_MS;
        while (sockets(dir).includes(socket) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        return sockets(dir).includes(socket) ? 'running' : 'stopped';
      }),
    );
    const count = stopped.filter((state) => state === 'stopped').length;
    const left = stopped.filter((state) => state === 'running').length;
    if (json) io.out(`${JSON.stringify({ stopped: count, running: left })}\n`);
    else io.out(`${count} CLI daemon${count === 1 ? '' : 's'} stopped${left ? `, ${left} still running a run` : ''}\n`);
    return left === 0 ? 0 : 1;
  }
  io.err(`choppa-lsp daemon: expected status or stop, got ${action}\n`);
  return 2;
}
