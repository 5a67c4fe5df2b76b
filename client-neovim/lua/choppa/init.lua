-- choppa-lsp for Neovim 0.7 to 0.10: `require('choppa').setup(opts)` starts the client for
-- Python buffers and attaches it (Neovim 0.11+ can use `vim.lsp.enable('choppa')` instead).
-- Thin on purpose: everything else is `vim.lsp`; this only picks the command, root and settings.

---@class choppa.Config
---@field cmd? string[] The server command (default `{ 'choppa-lsp', '--stdio' }`).
---@field filetypes? string[] Filetypes to attach to (default `{ 'python' }`).
---@field root_markers? string[] Files or folders marking the project root.
---@field settings? table The `choppa` settings (see |choppa-settings|), as `{ pythonPath = ... }` or `{ choppa = { pythonPath = ... } }`.
---@field capabilities? table Client capabilities (default: Neovim's own).
---@field on_attach? fun(client: table, bufnr: integer)

---@class choppa.InternalConfig
---@field cmd string[]
---@field filetypes string[]
---@field root_markers string[]
---@field settings table
---@field capabilities table|nil
---@field on_attach fun(client: table, bufnr: integer)|nil

local M = {}

---@type choppa.InternalConfig
local defaults = {
  cmd = { 'choppa-lsp', '--stdio' },
  filetypes = { 'python' },
  root_markers = { '.choppa', 'pyproject.toml', '.git' },
  settings = {},
  capabilities = nil,
  on_attach = nil,
}

---@type choppa.InternalConfig
M.config = vim.deepcopy(defaults)

-- Clients started through `vim.lsp.start_client` (0.7), by root folder.
local clients_by_root = {}

---@param bufnr integer
---@return string
function M.root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.fn.getcwd()
  while true do
    for _, marker in ipairs(M.config.root_markers) do
      if vim.loop.fs_stat(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return vim.fn.getcwd()
    end
    dir = parent
  end
end

--- Server messages as one short line, so they never ask to "Press ENTER"; the whole text goes
--- to the LSP log (|vim.lsp.log|), where multi-line messages (a preview's first lines) are kept.
M.handlers = {
  ['window/showMessage'] = function(_, result, ctx)
    if type(result) ~= 'table' or type(result.message) ~= 'string' then
      return vim.NIL
    end
    -- `vim.lsp.log` is a field from 0.8 on; 0.7 has only the module.
    local ok, log = pcall(require, 'vim.lsp.log')
    if ok and log and log.info then
      pcall(log.info, 'choppa: window/showMessage', result.message)
    end
    local levels = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }
    require('choppa.commands').notify_line(result.message, levels[result.type] or vim.log.levels.INFO)
    return vim.NIL
  end,
}

--- Makes `:help choppa` work without `:helptags`: the plugin ships doc/tags, and generates it
--- when that file is missing (a copy without it, e.g. a sparse checkout).
function M.ensure_help_tags()
  local doc = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h') .. '/doc'
  if vim.fn.filereadable(doc .. '/tags') == 0 and vim.fn.isdirectory(doc) == 1 then
    pcall(vim.cmd, 'helptags ' .. vim.fn.fnameescape(doc))
  end
end

---@param bufnr integer
---@return table
local function client_config(bufnr)
  local config = M.config
  local section = require('choppa.settings').section(config.settings)
  -- Both paths carry the settings: Neovim 0.7 does not advertise workspace/configuration, so
  -- the server reads `init_options` there and asks for `settings` where it can.
  return {
    name = 'choppa',
    cmd = config.cmd,
    root_dir = M.root_dir(bufnr),
    settings = { choppa = section },
    init_options = { choppa = section },
    handlers = M.handlers,
    -- The plugin asks for missing arguments itself (:Choppa run), so it says so to the server.
    capabilities = vim.tbl_deep_extend(
      'force',
      config.capabilities or vim.lsp.protocol.make_client_capabilities(),
      { experimental = { choppa = { argumentPrompt = true } } }
    ),
    on_attach = function(client, bufnr)
      M.refresh_lenses_on_events(bufnr)
      if config.on_attach then
        config.on_attach(client, bufnr)
      end
    end,
  }
end

--- Starts (or reuses) the client for this buffer's root and attaches it.
---@param bufnr? integer
---@return integer|nil client_id
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local config = client_config(bufnr)
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = clients_by_root[config.root_dir]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    id = vim.lsp.start_client(config)
    if not id then
      return nil
    end
    clients_by_root[config.root_dir] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Re-asks the server for code lenses of a buffer: Neovim neither refreshes them by itself nor
--- (before 0.10) honours the server's `workspace/codeLens/refresh`, and lenses change with results.
---@param bufnr? integer
function M.refresh_lenses(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  vim.api.nvim_buf_call(bufnr, function()
    pcall(vim.lsp.codelens.refresh)
  end)
end

local lens_buffers = {}

--- Refreshes a buffer's lenses when it is entered, left insert mode on, or written.
---@param bufnr integer
function M.refresh_lenses_on_events(bufnr)
  if lens_buffers[bufnr] then
    return
  end
  lens_buffers[bufnr] = true
  vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
    buffer = bufnr,
    callback = function()
      M.refresh_lenses(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = bufnr,
    once = true,
    callback = function()
      lens_buffers[bufnr] = nil
    end,
  })
  M.refresh_lenses(bufnr)
end

--- A statusline component: the buffer's cluster and its state (`alpha RUNNING`), '' when none.
---@param bufnr? integer
---@return string
function M.status(bufnr)
  return require('choppa.clusters').status(bufnr)
end

--- Configures the plugin and attaches the client to matching buffers, now and when opened.
---@param opts? choppa.Config
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  M.configured = true
  M.ensure_help_tags()
  local group = vim.api.nvim_create_augroup('choppa', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

return M
