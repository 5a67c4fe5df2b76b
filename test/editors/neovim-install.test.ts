// The README's `vim.pack` lines, verbatim, in Neovim 0.12 as a new user's whole `init.lua`: the
// repository (a local clone standing in for GitHub, which this machine cannot reach) is
// installed by vim.pack, its `client-neovim/` joins the runtimepath, and `vim.lsp.enable` starts
// `choppa-lsp` from PATH on a Python file, whose code actions are choppa's.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, missingEditor, REPO_ROOT, reportMissing, SERVER_JS, type Sandbox } from './support/headless-env.js';
import { NEOVIMS } from './support/neovim.js';

const GITHUB_URL = 'https://github.com/choppa-lsp/choppa-lsp';

/** The Lua block that follows "With `vim.pack`" in the README. */
function readmeVimPackLines(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /With `vim\.pack`[^\n]*\n\n```lua\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no vim.pack block');
  return block[1]!;
}

const neovim = NEOVIMS.find((candidate) => candidate.label === '0.12')!;

describe('Neovim 0.12 installed with the README vim.pack lines', () => {
  const missing = missingEditor(neovim.binary, 'scripts/install-neovim.sh');
  if (reportMissing(missing)) return;

  let sandbox: Sandbox;
  let report: { loaded: boolean; command: number; cmd: string[]; attached: boolean; actions: string[]; plugin: string };
  let lines: string;
  beforeAll(() => {
    sandbox = createSandbox('choppa-nvim-pack-');
    // The repository as vim.pack would clone it: a git repository holding client-neovim/.
    const repo = join(sandbox.dir, 'choppa-lsp');
    cpSync(join(REPO_ROOT, 'client-neovim'), join(repo, 'client-neovim'), { recursive: true });
    const git = (...args: string[]) => {
      const done = spawnSync('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...args], { cwd: repo, encoding: 'utf8' });
      if (done.status !== 0) throw new Error(`git ${args.join(' ')}: ${done.stderr}`);
    };
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'plugin');
    // `choppa-lsp` on PATH, as `npm install -g` leaves it.
    const bin = join(sandbox.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'choppa-lsp'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(SERVER_JS)} "$@"\n`);
    chmodSync(join(bin, 'choppa-lsp'), 0o755);
    lines = readmeVimPackLines();
    const init = join(sandbox.env.XDG_CONFIG_HOME!, 'nvim', 'init.lua');
    mkdirSync(join(sandbox.env.XDG_CONFIG_HOME!, 'nvim'), { recursive: true });
    writeFileSync(init, lines.replace(GITHUB_URL, `file://${repo}`));
    const out = join(sandbox.dir, 'report.json');
    const check = join(sandbox.dir, 'check.lua');
    writeFileSync(
      check,
      [
        `vim.cmd('edit ' .. vim.fn.fnameescape(${JSON.stringify(sandbox.file)}))`,
        'local client',
        "local attached = vim.wait(30000, function() client = vim.lsp.get_clients({ name = 'choppa', bufnr = 0 })[1]; return client ~= nil and client.initialized end, 50)",
        'local titles = {}',
        'if attached then',
        "  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)",
        "  local row = 0",
        "  for index, line in ipairs(lines) do if line:find('add(1, 2)', 1, true) then row = index - 1 break end end",
        "  local params = { textDocument = { uri = vim.uri_from_bufnr(0) }, range = { start = { line = row, character = 0 }, ['end'] = { line = row, character = 0 } }, context = { diagnostics = {} } }",
        "  local answer = client:request_sync('textDocument/codeAction', params, 20000, 0) or {}",
        "  for _, action in ipairs(answer.result or {}) do table.insert(titles, action.title) end",
        'end',
        'local resolved = vim.lsp.config.choppa or {}',
        `vim.fn.writefile({ vim.json.encode({ loaded = vim.g.loaded_choppa == true, command = vim.fn.exists(':Choppa'), cmd = resolved.cmd or {}, attached = attached, actions = titles, plugin = vim.api.nvim_get_runtime_file('lsp/choppa.lua', false)[1] or '' }) }, ${JSON.stringify(out)})`,
        "vim.cmd('qa!')",
      ].join('\n'),
    );
    const result = spawnSync(neovim.binary, ['--headless', '-i', 'NONE', '-n', '-c', `luafile ${check}`], {
      cwd: sandbox.project,
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...sandbox.env, PATH: `${bin}:${sandbox.env.PATH}` },
    });
    if (!existsSync(out)) throw new Error(`no report (exit ${result.status}): ${result.stdout}${result.stderr}`);
    report = JSON.parse(readFileSync(out, 'utf8')) as typeof report;
  }, 120_000);
  afterAll(() => sandbox?.remove());

  it('installs the plugin from the repository and loads it from client-neovim/', () => {
    expect(lines).toContain(GITHUB_URL);
    expect(report.plugin).toBe(join(sandbox.env.XDG_DATA_HOME!, 'nvim', 'site', 'pack', 'core', 'opt', 'choppa-lsp', 'client-neovim', 'lsp', 'choppa.lua'));
    expect(report.loaded).toBe(true);
    expect(report.command).toBe(2);
    expect(report.cmd).toEqual(['choppa-lsp', '--stdio']);
  });

  it("starts choppa-lsp from PATH on a Python file through vim.lsp.enable, offering choppa's code actions", () => {
    expect(report.attached).toBe(true);
    expect(report.actions).toContain('Run add(1, 2) remotely');
  });
});
