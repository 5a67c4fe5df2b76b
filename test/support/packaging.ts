// Builds what users install, one build at a time: `npm run package -w client-vscode` stages the
// server into client-vscode/server/ and writes client-vscode/choppa-lsp.vsix in place, and
// `npm pack -w server` copies CHANGELOG.md and LICENSE into server/ first, so two test files
// building at once would mix their files. A lock folder serialises them; each caller gets its
// own copy of the result.
import { execFileSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { noCompiler } from '../install/no-compiler.js';

const REPO = join(import.meta.dirname, '..', '..');
const LOCK = join(REPO, 'client-vscode', '.package-lock-dir');
/** A lock older than this was left by a killed run. */
const STALE_MS = 10 * 60_000;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withPackagingLock<T>(build: () => T): T {
  const deadline = Date.now() + STALE_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      let age = 0;
      try {
        age = Date.now() - statSync(LOCK).mtimeMs;
      } catch {
        continue;
      }
      if (age > STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${LOCK} is held by another build for too long`);
      sleep(250);
    }
  }
  try {
    return build();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Builds the .vsix from the current build of the server and copies it to `destination`. */
export function packageVsix(destination: string): string {
  return withPackagingLock(() => {
    execFileSync('npm', ['run', 'package'], { cwd: join(REPO, 'client-vscode'), stdio: 'pipe', timeout: 240_000 });
    copyFileSync(join(REPO, 'client-vscode', 'choppa-lsp.vsix'), destination);
    return destination;
  });
}

/** What `npm pack` made: the tarball's path, its size and the files in it. */
export interface PackedServer {
  tarball: string;
  size: number;
  files: string[];
}

/** Packs the server (`npm pack -w server`) into `folder`. */
export function packServer(folder: string, env: NodeJS.ProcessEnv = process.env): PackedServer {
  return withPackagingLock(() => {
    const stdout = execFileSync('npm', ['pack', '-w', 'server', '--pack-destination', folder, '--json'], { cwd: REPO, encoding: 'utf8', env, timeout: 120_000 });
    const [info] = JSON.parse(stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
    return { tarball: join(folder, info!.filename), size: info!.size, files: info!.files.map((file) => file.path) };
  });
}

/**
 * The README's install line, `npm install -g choppa-lsp`, of the packed server into
 * `<folder>/npm-global` on a PATH where compilers fail (as on most users' machines); returns
 * that prefix's `bin` folder. The server there parses on WebAssembly.
 */
export function installServerGlobally(folder: string): string {
  const { tarball } = packServer(folder);
  const prefix = join(folder, 'npm-global');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], {
    cwd: folder,
    stdio: 'pipe',
    timeout: 240_000,
    env: { ...process.env, PATH: noCompiler(folder).path() },
  });
  return join(prefix, 'bin');
}

/** `PATH` with `first` before the current one minus any `node_modules` folder (the repository links a choppa-lsp there). */
export function pathWithout(first: string[], path = process.env['PATH'] ?? ''): string {
  return [...first, ...path.split(delimiter).filter((dir) => dir && !dir.includes('node_modules'))].join(delimiter);
}
