-- `:checkhealth choppa`: is the server executable there and does it run, is the Python of the
-- local backend there, is the client attached. Works with `vim.health` (0.10+) and with the
-- `health` module of Neovim 0.7 to 0.9.

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

function M.check()
  local config = require('choppa').config
  start('choppa')

  local executable = config.cmd[1]
  if vim.fn.executable(executable) ~= 1 then
    error(string.format('server executable `%s` not found', executable),
      { 'Install choppa-lsp so it is on PATH, or pass `cmd` to require("choppa").setup()' })
  else
    -- The same command without `--stdio` is the CLI; `--help` proves it starts.
    local argv = vim.tbl_filter(function(arg)
      return arg ~= '--stdio'
    end, config.cmd)
    table.insert(argv, '--help')
    local code, output = run(argv)
    if code == 0 and output:find('choppa%-lsp') then
      ok(string.format('server runs: `%s`', table.concat(config.cmd, ' ')))
    else
      error(string.format('`%s` failed (exit %d): %s', table.concat(argv, ' '), code, output))
    end
  end

  local python = require('choppa.settings').section(config.settings).pythonPath or 'python3'
  if vim.fn.executable(python) ~= 1 then
    error(string.format('`%s` not found: the local backend needs it', python),
      { 'Install python3 or set the `pythonPath` setting' })
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
