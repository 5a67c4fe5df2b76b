// Helix for the editor tests: where the install script puts it, its user configuration in a
// sandbox, made from the documented `client-helix/languages.toml` exactly as users copy it, and
// starting it in tmux on the sandbox's file.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EDITORS_DIR, REPO_ROOT, waitFor, type Sandbox } from './headless-env.js';
import { TmuxSession } from './tmux.js';

export const HELIX = join(EDITORS_DIR, 'bin/hx');

/** Installs the documented languages.toml as the sandbox user's Helix configuration. */
export function configureHelix(sandbox: Sandbox): string {
  const configDir = join(sandbox.env.XDG_CONFIG_HOME!, 'helix');
  mkdirSync(configDir, { recursive: true });
  copyFileSync(join(REPO_ROOT, 'client-helix/languages.toml'), join(configDir, 'languages.toml'));
  return configDir;
}

/** Helix on the sandbox's pipeline.py in tmux, with its log (where Helix writes the LSP traffic). */
export interface HelixSession {
  tmux: TmuxSession;
  logText: () => string;
  /** Quits Helix without saving and stops tmux. */
  quit: () => Promise<void>;
}

/**
 * Starts Helix (verbose log) on pipeline.py with `env` on top of the sandbox's and resolves once
 * choppa-lsp has the document: code actions asked for before that would come back empty.
 */
export async function startHelix(sandbox: Sandbox, socket: string, env: Record<string, string> = {}): Promise<HelixSession> {
  const log = join(sandbox.dir, 'helix.log');
  const logText = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const tmux = TmuxSession.start({
    socket,
    cwd: sandbox.project,
    env: { ...sandbox.env, ...env, TERM: 'xterm-256color' },
    width: 120,
    height: 30,
    command: [HELIX, '--log', log, '-v', 'pipeline.py'],
  });
  const quit = async (): Promise<void> => {
    tmux.send(['Escape']);
    tmux.send([':q!'], true);
    tmux.send(['Enter']);
    await tmux.stop();
  };
  try {
    await tmux.waitForScreen('Helix to show the file', (screen) => screen.includes('def add(a, b):'));
    await waitFor('choppa-lsp to receive the document', () => (/choppa -> .*textDocument\/didOpen/.test(logText()) ? true : undefined), 60_000);
  } catch (error) {
    await quit();
    throw error;
  }
  return { tmux, logText, quit };
}
