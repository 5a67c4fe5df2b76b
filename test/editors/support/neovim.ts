// Runs the Neovim scenario (`neovim-scenario.lua`) headless in one Neovim and returns its
// per-step records. Neovim runs in its own process group, which is killed if it overstays.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EDITORS_DIR, REPO_ROOT, SERVER_JS, type Sandbox } from './headless-env.js';

export interface NeovimVersion {
  label: string;
  binary: string;
}

/** The versions the plugin supports and the tests drive: Debian bookworm's, trixie's and forky's. */
export const NEOVIMS: NeovimVersion[] = [
  { label: '0.7.2', binary: '/usr/bin/nvim' },
  { label: '0.10', binary: join(EDITORS_DIR, 'bin/nvim-0.10') },
  { label: '0.12', binary: join(EDITORS_DIR, 'bin/nvim-0.12') },
];

export interface ScenarioStep {
  name: string;
  ok: boolean;
  /** The step's findings, or the error message when it failed. */
  detail: unknown;
}

export interface ScenarioResult {
  version: string;
  steps: ScenarioStep[];
  notifications: Array<{ message: string; level: number }>;
  exitCode: number | null;
  stderr: string;
}

/** Runs the whole scenario (`script`, beside this file) once; each test then checks one step of it. */
export async function runNeovimScenario(binary: string, sandbox: Sandbox, timeoutMs = 90_000, scenario = 'neovim-scenario.lua'): Promise<ScenarioResult> {
  const results = join(sandbox.dir, 'neovim-results.json');
  const script = join(REPO_ROOT, 'test/editors/support', scenario);
  const child = spawn(binary, ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${script}`], {
    cwd: sandbox.project,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...sandbox.env,
      CHOPPA_PLUGIN: join(REPO_ROOT, 'client-neovim'),
      CHOPPA_FILE: sandbox.file,
      CHOPPA_RESULTS: results,
      CHOPPA_SERVER_CMD: JSON.stringify([process.execPath, SERVER_JS, '--stdio']),
    },
  });
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exitCode = await new Promise<number | null>((done) => {
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
  if (!existsSync(results)) {
    return { version: '?', steps: [], notifications: [], exitCode, stderr };
  }
  const parsed = JSON.parse(readFileSync(results, 'utf8')) as Omit<ScenarioResult, 'exitCode' | 'stderr'>;
  // Lua's json_encode writes an empty list as `{}`.
  const steps = Array.isArray(parsed.steps) ? parsed.steps : [];
  const notifications = Array.isArray(parsed.notifications) ? parsed.notifications : [];
  return { version: parsed.version, steps, notifications, exitCode, stderr };
}
