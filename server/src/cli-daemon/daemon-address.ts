// Where a CLI daemon listens, and what it must agree on with a client. There is one per build of
// choppa-lsp, working folder and environment, so a daemon runs each request exactly as the process
// that asked would have: the same code, the same folder, the same variables (checked whole, not
// only by the socket's name). Sockets live in a folder only the user can enter. This module and
// the client are built into one small CommonJS file of their own, so nothing here imports the rest.
import { lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Variables a shell changes by itself between commands; they say nothing about a run. */
const VOLATILE = new Set(['_', 'PWD', 'OLDPWD', 'SHLVL']);
/** A Unix socket's path must fit `sun_path` (104 bytes on macOS, 108 on Linux). */
const MAX_SOCKET_PATH = 100;
/** How long an idle daemon waits for the next run before it exits. */
const DEFAULT_IDLE_MS = 10 * 60 * 1000;

/** Whether `run`/`artifact` go through a daemon: not on Windows, not with `CHOPPA_DAEMON=0`. */
export function daemonWanted(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): boolean {
  const setting = env['CHOPPA_DAEMON'];
  // Windows named pipes are open to other local users by default; runs stay in-process there.
  return platform !== 'win32' && setting !== '0' && setting !== 'off' && setting !== 'false';
}

/** The folder of the user's daemon sockets: `$CHOPPA_DAEMON_DIR`, `$XDG_RUNTIME_DIR/choppa-lsp`, else one in the temp folder. */
export function daemonDir(env: NodeJS.ProcessEnv): string {
  if (env['CHOPPA_DAEMON_DIR']) return env['CHOPPA_DAEMON_DIR'];
  if (env['XDG_RUNTIME_DIR']) return join(env['XDG_RUNTIME_DIR'], 'choppa-lsp');
  return join(tmpdir(), `choppa-lsp-${process.getuid?.() ?? 'user'}`);
}

/**
 * Makes the folder if needed and says whether it is safe: a real folder of this user that nobody
 * else may enter (a socket there runs code as the user). False means: no daemon, run in-process.
 */
export function privateDir(dir: string): boolean {
  const safe = (): boolean => {
    const stat = lstatSync(dir);
    return stat.isDirectory() && (process.getuid === undefined || stat.uid === process.getuid()) && (stat.mode & 0o077) === 0;
  };
  try {
    return safe();
  } catch {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return safe();
    } catch {
      return false;
    }
  }
}

function stamp(path: string): string {
  try {
    const stat = statSync(path);
    return `${path}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return `${path}:-`;
  }
}

/**
 * What identifies the code a daemon runs (`packageRoot` is `server/`, or the installed package):
 * the build's id, which `scripts/bundle.mjs` writes from the content of what it built, the Python
 * the backends send (edited in place in a checkout), node and the entry script. A rebuild or an
 * upgrade gets a daemon of its own.
 */
function buildStamps(packageRoot: string, entry: string): string[] {
  let id = 'no build id';
  try {
    id = readFileSync(join(packageRoot, 'dist', 'build-id.txt'), 'utf8').trim();
  } catch {
    // Not bundled: the stamps below still tell builds apart by node and entry.
  }
  const python = ['python/runner.py', 'python/dask_driver.py'].map((file) => stamp(join(packageRoot, file)));
  return [id, process.version, process.execPath, ...process.execArgv, entry, ...python];
}

/** The environment as a daemon must match it: every variable but those a shell changes by itself. */
function runEnvironment(env: NodeJS.ProcessEnv): [string, string][] {
  return Object.keys(env)
    .filter((key) => !VOLATILE.has(key))
    .sort()
    .map((key) => [key, env[key] ?? '']);
}

/** What a request carries so the daemon can refuse one it would not run exactly as asked. */
export interface RunIdentity {
  build: string[];
  cwd: string;
  env: [string, string][];
}

export function runIdentity(packageRoot: string, entry: string, cwd: string, env: NodeJS.ProcessEnv): RunIdentity {
  return { build: buildStamps(packageRoot, entry), cwd, env: runEnvironment(env) };
}

/** Whether a request's identity is the daemon's own. */
export function sameIdentity(a: RunIdentity, b: RunIdentity): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A 128-bit hash of `text`: four 32-bit FNV-1a lanes with different primes over its UTF-8 taken a
 * 32-bit word at a time, and a final mix. Not cryptographic: it only names the socket, and the
 * daemon compares the identity whole. It runs once per CLI run, before node has compiled it, so
 * it is written for the interpreter: a quarter of the steps a byte-wise loop takes, no arrays in
 * the loop (node's crypto module would cost ~2 ms just to load).
 */
function hash128(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const words = new Int32Array(bytes.buffer, 0, bytes.length >> 2);
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  let c = 0x9e3779b9;
  let d = 0x85ebca6b;
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i]!;
    a = Math.imul(a ^ word, 0x01000193);
    b = Math.imul(b ^ word, 0x01002193);
    c = Math.imul(c ^ word, 0x01004193);
    d = Math.imul(d ^ word, 0x01006193);
  }
  // The last 0–3 bytes, and the length, so texts that differ only in trailing zero bytes differ.
  for (let i = words.length * 4; i < bytes.length; i += 1) a = Math.imul(a ^ bytes[i]!, 0x01000193);
  b = Math.imul(b ^ bytes.length, 0x01002193);
  return [a, b, c, d]
    .map((value, lane) => {
      let mixed = value ^ (value >>> 16) ^ lane;
      mixed = Math.imul(mixed, 0x85ebca6b);
      mixed ^= mixed >>> 13;
      mixed = Math.imul(mixed, 0xc2b2ae35);
      mixed ^= mixed >>> 16;
      return (mixed >>> 0).toString(16).padStart(8, '0');
    })
    .join('');
}

/** The socket of the daemon that serves runs of this identity, or undefined when there can be none. */
export function socketPath(dir: string, identity: RunIdentity): string | undefined {
  // 96 bits of the hash: short enough for macOS's per-user temp folder (about 64 characters
  // with our folder) to stay within `sun_path`.
  const path = join(dir, `${hash128(JSON.stringify(identity)).slice(0, 24)}.sock`);
  return path.length <= MAX_SOCKET_PATH ? path : undefined;
}

/** The idle deadline: `$CHOPPA_DAEMON_IDLE_MS`, else ten minutes. */
export function idleMs(env: NodeJS.ProcessEnv): number {
  const value = Number(env['CHOPPA_DAEMON_IDLE_MS']);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_IDLE_MS;
}
