// How the extension starts choppa-lsp: the server packaged inside the .vsix (`server/`, with
// its runtime node_modules), run by the extension host's own node over stdio, the same
// `choppa-lsp --stdio` every editor starts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Executable } from 'vscode-languageclient/node';

/** The server entry point inside the installed extension, if the package has one. */
export function bundledServer(extensionPath: string): string | undefined {
  const entry = join(extensionPath, 'server', 'bin', 'choppa-lsp.cjs');
  return existsSync(entry) ? entry : undefined;
}

/**
 * The command that serves LSP on stdio. The extension host is node (code-server) or Electron
 * (desktop VS Code); `ELECTRON_RUN_AS_NODE` makes the latter behave as the former.
 */
export function serverExecutable(entry: string, cwd: string | undefined): Executable {
  return {
    command: process.execPath,
    args: [entry, '--stdio'],
    options: { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, ...(cwd ? { cwd } : {}) },
  };
}
