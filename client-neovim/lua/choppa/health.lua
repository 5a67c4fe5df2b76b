-- `:checkhealth choppa`: is Node.js there, is the server executable there, does it run, is it
-- the plugin's version and which parser does it use, is the Python of the local backend there,
-- is the client attached. Each problem comes with the command that fixes it. Works with
-- `vim.health` (0.10+) and with the `health` module of Neovim 0.7 to 0.9.

local M = {}

local health = vim.health or require('health')
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local error = health.error or health.report_error

---@param argv string[]
---@return integer code, string output
local function run(argv)
  local output = vim.fn.system(argv)
  return vim.v.shell_error, output
end

local VERSION = require('choppa.version')
local INSTALL = string.format('npm install -g choppa-lsp@%s', VERSION)

---@param text string
---@return integer[]|nil
local function parse_version(text)
  local major, minor, patch = text:match('(%d+)%.(%d+)%.(%d+)')
  if not major then
    return nil
  end
  return { tonumber(major), tonumber(minor), tonumber(patch) }
end

-- The npm-installed `choppa-lsp` is a node script: without node on PATH it cannot start.
local function check_node(uses_npm_bin)
  if vim.fn.executable('node') ~= 1 then
    local report = uses_npm_bin and error or warn
    report('`node` not found on PATH: the npm-installed server runs on Node.js 20.18 or newer',
      { 'Install Node.js 20.18+ (your package manager, or nodejs.org), then: ' .. INSTALL })
    return
  end
  local code, output = run({ 'node', '--version' })
  local version = code == 0 and parse_version(output) or nil
  if not version then
    warn(string.format('`node --version` failed: %s', vim.trim(output)))
  elseif version[1] < 20 or (version[1] == 20 and version[2] < 18) then
    error(string.format('Node.js %s is too old: the server needs 20.18 or newer', vim.trim(output)),
      { 'Install Node.js 20.18+ (your package manager, or nodejs.org)' })
  else
    ok(string.format('Node.js %s', vim.trim(output)))
  end
end

-- The configuration in use: setup()'s (0.7 to 0.10), else the one `vim.lsp.enable('choppa')`
-- starts (0.11+: lsp/choppa.lua merged with the user's `vim.lsp.config('choppa', ...)`).
local function effective_config()
  local choppa = require('choppa')
  if choppa.configured or not vim.lsp.config then
    return choppa.config
  end
  local found, resolved = pcall(function()
    return vim.lsp.config.choppa
  end)
  if found and type(resolved) == 'table' and type(resolved.cmd) == 'table' then
    return vim.tbl_extend('keep', resolved, { settings = {} })
  end
  return choppa.config
end

function M.check()
  local config = effective_config()
  start('choppa')

  local executable = config.cmd[1]
  check_node(executable == 'choppa-lsp')
  if vim.fn.executable(executable) ~= 1 then
    error(string.format('server executable `%s` not found on PATH', executable),
      { 'Install the server: ' .. INSTALL, 'or pass `cmd` to require("choppa").setup() (0.7 to 0.10) or vim.lsp.config("choppa", { cmd = ... }) (0.11+)' })
  else
    -- The same command without `--stdio` is the CLI; `--version` proves it starts and says
    -- which version and which parser run.
    local argv = vim.tbl_filter(function(arg)
      return arg ~= '--stdio'
    end, config.cmd)
    table.insert(argv, '--version')
    local code, output = run(argv)
    local server_version = output:match('choppa%-lsp (%d+%.%d+%.%d+)')
    if code ~= 0 or not server_version then
      error(string.format('`%s` failed (exit %d): %s', table.concat(argv, ' '), code, vim.trim(output)),
        { 'Reinstall the server: ' .. INSTALL })
    else
      ok(string.format('server runs: `%s` (choppa-lsp %s)', table.concat(config.cmd, ' '), server_version))
      if server_version ~= VERSION then
        warn(string.format('server is choppa-lsp %s, the plugin is %s', server_version, VERSION),
          { 'Install the matching server: ' .. INSTALL })
      end
      local parser = output:match('parser: ([^\n]+)')
      if parser then
        ok('parser: ' .. parser)
      end
    end
  end

  -- The server's default, `python3`, means `python` on Windows.
  local python = require('choppa.settings').section(config.settings).pythonPath or (vim.fn.has('win32') == 1 and 'python' or 'python3')
  if vim.fn.executable(python) ~= 1 then
    error(string.format('`%s` not found: the local backend needs it', python),
      { 'Install Python 3 (e.g. `sudo apt install python3`, `brew install python`, or python.org on Windows)', 'or set the `pythonPath` setting to an interpreter' })
  else
    local code, output = run({ python, '--version' })
    if code == 0 then
      ok(string.format('local backend Python: %s', vim.trim(output)))
    else
      error(string.format('`%s --version` failed: %s', python, output))
    end
  end

  local settings = require('choppa.settings')
  local unknown = settings.unknown_keys(settings.section(config.settings))
  if #unknown > 0 then
    warn(string.format('unknown settings (ignored by the server): %s', table.concat(unknown, ', ')),
      { 'See :help choppa-settings for the keys; both `settings = { ... }` and `settings = { choppa = { ... } }` work' })
  else
    ok('settings: every key is known')
  end

  local attached = {}
  for _, client in ipairs((vim.lsp.get_clients or vim.lsp.get_active_clients)()) do
    if client.name == 'choppa' then
      for bufnr in pairs(client.attached_buffers or {}) do
        table.insert(attached, string.format('client %d (root %s) on buffer %d %s', client.id,
          client.config.root_dir or '(none)', bufnr, vim.api.nvim_buf_get_name(bufnr)))
      end
    end
  end
  if #attached > 0 then
    for _, line in ipairs(attached) do
      ok('attached: ' .. line)
    end
    for _, client in ipairs((vim.lsp.get_clients or vim.lsp.get_active_clients)()) do
      local provider = client.name == 'choppa' and (client.server_capabilities or {}).executeCommandProvider
      if provider then
        ok('server commands: ' .. table.concat(provider.commands or {}, ', '))
        break
      end
    end
  else
    warn('the choppa client is not attached to any buffer',
      { 'Open a Python file after require("choppa").setup() (0.7 to 0.10) or vim.lsp.enable("choppa") (0.11+)' })
  end
end

return M
