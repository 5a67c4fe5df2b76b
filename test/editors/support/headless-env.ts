// What every real-editor test shares: a sandbox (temp HOME and XDG folders, a copy of the demo
// project with a root marker) and the rule for a missing editor binary (fail under CI, naming
// the install script; skip with that message elsewhere).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SERVER_JS = join(REPO_ROOT, 'server/bin/choppa-lsp.cjs');
export const EDITORS_DIR = join(REPO_ROOT, '.editors');

export interface Sandbox {
  dir: string;
  home: string;
  project: string;
  /** The demo pipeline inside `project`. */
  file: string;
  /** A minimal environment: PATH, locale and the temp HOME/XDG folders, nothing else inherited. */
  env: Record<string, string>;
  remove(): void;
}

/** A fresh sandbox per test file, so editors never share `.choppa/` state or user config. */
export function createSandbox(prefix: string): Sandbox {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const home = join(dir, 'home');
  const project = join(dir, 'project');
  const xdg = { XDG_CONFIG_HOME: '.config', XDG_CACHE_HOME: '.cache', XDG_STATE_HOME: '.local/state', XDG_DATA_HOME: '.local/share' };
  const env: Record<string, string> = {
    PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
  };
  for (const [name, relative] of Object.entries(xdg)) {
    env[name] = join(home, relative);
    mkdirSync(env[name]!, { recursive: true });
  }
  mkdirSync(project, { recursive: true });
  const file = join(project, 'pipeline.py');
  copyFileSync(join(REPO_ROOT, 'examples/demo/pipeline.py'), file);
  // A root marker, so neither editor walks up into whatever the temp folder's parents hold.
  writeFileSync(join(project, 'pyproject.toml'), '[project]\nname = "demo"\n');
  return { dir, home, project, file, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Why an editor test cannot run (its binary is missing), or undefined when it can. */
export function missingEditor(binary: string, installScript: string): string | undefined {
  if (existsSync(binary)) return undefined;
  return `${binary} is missing: run ${installScript}`;
}

/**
 * For a `describe` whose editor is `missing` (from `missingEditor`): registers the one test that
 * says so, failing under CI and skipped elsewhere, and returns true so the caller returns early.
 */
export function reportMissing(missing: string | undefined): boolean {
  if (!missing) return false;
  it.skipIf(!process.env.CI)(missing, () => {
    expect.fail(missing);
  });
  return true;
}

/** Polls `condition` until it returns a value, or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, condition: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}
