// Helix for the editor tests: where the install script puts it, and its user configuration in
// a sandbox, made from the documented `client-helix/languages.toml` exactly as users copy it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EDITORS_DIR, REPO_ROOT, type Sandbox } from './headless-env.js';

export const HELIX = join(EDITORS_DIR, 'bin/hx');

/** Installs the documented languages.toml as the sandbox user's Helix configuration. */
export function configureHelix(sandbox: Sandbox): string {
  const configDir = join(sandbox.env.XDG_CONFIG_HOME!, 'helix');
  mkdirSync(configDir, { recursive: true });
  copyFileSync(join(REPO_ROOT, 'client-helix/languages.toml'), join(configDir, 'languages.toml'));
  return configDir;
}
