// Builds the VS Code package once at a time: `npm run package -w client-vscode` stages the server
// into client-vscode/server/ and writes client-vscode/choppa-lsp.vsix in place, so two test files
// building it at once would mix their files. A lock folder serialises them, and each caller gets
// its own copy of the .vsix.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');
const LOCK = join(REPO, 'client-vscode', '.package-lock-dir');
/** A lock older than this was left by a killed run. */
const STALE_MS = 10 * 60_000;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Builds the .vsix from the current build of the server and copies it to `destination`. */
export function packageVsix(destination: string): string {
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
    execFileSync('npm', ['run', 'package'], { cwd: join(REPO, 'client-vscode'), stdio: 'pipe', timeout: 240_000 });
    copyFileSync(join(REPO, 'client-vscode', 'choppa-lsp.vsix'), destination);
    return destination;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
