// `:checkhealth choppa` as a new user meets it, on Neovim 0.7.2 and 0.10, with the plugin on the
// runtimepath and the server from the README's install line: installed with `npm install -g`
// (of the packed server) it reports the server, its version and the parser; missing, it says so
// with the command that installs it; an older server gets a warning with the matching command.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, missingEditor, REPO_ROOT, reportMissing, type Sandbox } from './support/headless-env.js';
import { NEOVIMS } from './support/neovim.js';
import { installServerGlobally, pathWithout } from '../support/packaging.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'server', 'package.json'), 'utf8')) as { version: string }).version;
const INSTALL_LINE = `npm install -g choppa-lsp@${VERSION}`;

let sandbox: Sandbox;
let serverBin: string;

beforeAll(() => {
  sandbox = createSandbox('choppa-nvim-health-');
  serverBin = installServerGlobally(sandbox.dir);
}, 300_000);
afterAll(() => sandbox?.remove());

/** Runs `:checkhealth choppa` headless with `cmd` and PATH folders first; returns the report. */
function checkhealth(binary: string, cmd: string[], pathFirst: string[]): string {
  const out = join(sandbox.dir, `health-${Math.random().toString(36).slice(2)}.txt`);
  const script = join(sandbox.dir, 'health.lua');
  writeFileSync(
    script,
    [
      `vim.opt.runtimepath:prepend(${JSON.stringify(join(REPO_ROOT, 'client-neovim'))})`,
      `require('choppa').setup({ cmd = vim.fn.json_decode(${JSON.stringify(JSON.stringify(cmd))}) })`,
      "vim.cmd('checkhealth choppa')",
      `vim.fn.writefile(vim.api.nvim_buf_get_lines(0, 0, -1, false), ${JSON.stringify(out)})`,
      "vim.cmd('qa!')",
    ].join('\n'),
  );
  const result = spawnSync(binary, ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${script}`], {
    cwd: sandbox.project,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...sandbox.env, PATH: pathWithout(pathFirst) },
  });
  try {
    return readFileSync(out, 'utf8');
  } catch {
    throw new Error(`no report (exit ${result.status}): ${result.stderr}`);
  }
}

describe.each(NEOVIMS)('Neovim $label :checkhealth choppa', ({ binary }) => {
  const missing = missingEditor(binary, 'scripts/install-neovim.sh');
  if (reportMissing(missing)) return;

  it('with the server from npm install -g: OK, with its version and the parser', () => {
    const report = checkhealth(binary, ['choppa-lsp', '--stdio'], [serverBin]);
    expect(report).toMatch(new RegExp(`OK:? server runs: \`choppa-lsp --stdio\` \\(choppa-lsp ${VERSION.replace(/\./g, '\\.')}\\)`));
    expect(report).toMatch(/OK:? parser: web-tree-sitter [\d.]+ \(WebAssembly\)/);
    expect(report).toMatch(/OK:? Node\.js v\d+/);
    expect(report).not.toMatch(/ERROR/);
  });

  it('without the server: an error naming the install command', () => {
    const report = checkhealth(binary, ['choppa-lsp', '--stdio'], []);
    expect(report).toMatch(/ERROR:? server executable `choppa-lsp` not found on PATH/);
    expect(report).toContain(INSTALL_LINE);
  });

  it('with an older server: a warning naming the matching install command', () => {
    const bin = join(sandbox.dir, 'old-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'choppa-lsp'), '#!/bin/sh\necho "choppa-lsp 0.0.1"\necho "parser: tree-sitter 0.25.0 (native addon), tree-sitter-python 0.25.0"\n');
    chmodSync(join(bin, 'choppa-lsp'), 0o755);
    const report = checkhealth(binary, ['choppa-lsp', '--stdio'], [bin]);
    expect(report).toMatch(new RegExp(`WARNING:? server is choppa-lsp 0\\.0\\.1, the plugin is ${VERSION.replace(/\./g, '\\.')}`));
    expect(report).toContain(INSTALL_LINE);
  });
});
