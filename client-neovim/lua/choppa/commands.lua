-- The `:Choppa` subcommands and the `vim.lsp.commands` handlers of the server's commands: thin
-- wrappers that find the Choppa function under the cursor through the server's own code actions
-- and send `workspace/executeCommand`. They add only what the protocol leaves to the client:
-- prompting for arguments, opening returned paths, the runs in the quickfix list, short messages.

local M = {}

-- The last arguments typed for a function, by `uri#function`, to pre-fill the next prompt.
local last_args = {}

-- Subcommands that map to a server command an older server may not offer.
local optional = {
  submit = 'choppa.submit',
  cancel = 'choppa.cancel',
  log = 'choppa.showLog',
  runs = 'choppa.listRuns',
}

--- Says one line, cut to fit the command line, so it never asks to "Press ENTER".
---@param message string
---@param level? integer
function M.notify_line(message, level)
  local line = vim.split(message, '\n', { plain = true })[1] or ''
  local width = math.max(20, (vim.v.echospace or 0) > 0 and vim.v.echospace or (vim.o.columns - 12))
  if vim.fn.strdisplaywidth(line) > width then
    line = vim.fn.strcharpart(line, 0, width - 1) .. '…'
  end
  vim.notify(line, level or vim.log.levels.INFO)
end

---@param message string
---@param level? integer
local function notify(message, level)
  M.notify_line('choppa: ' .. message, level)
end

---@param bufnr integer
---@return table|nil
function M.client(bufnr)
  local list = (vim.lsp.get_clients or vim.lsp.get_active_clients)()
  for _, client in ipairs(list) do
    if client.name == 'choppa' and vim.lsp.buf_is_attached(bufnr, client.id) then
      return client
    end
  end
  return nil
end

-- The current buffer and its choppa client, or the buffer and nil after saying why.
---@return integer, table|nil
local function attached()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify('the choppa client is not attached to this buffer', vim.log.levels.ERROR)
  end
  return bufnr, client
end
M.attached = attached

-- Neovim 0.11 made client methods take `self`; earlier versions use plain fields.
local function request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end
M.request = request

---@param client table
---@param command string
---@return boolean
local function server_has(client, command)
  local provider = (client.server_capabilities or {}).executeCommandProvider
  return type(provider) == 'table' and vim.tbl_contains(provider.commands or {}, command)
end

---@param client table
---@return boolean
local function supports_show_document(client)
  local capabilities = client.config and client.config.capabilities or vim.lsp.protocol.make_client_capabilities()
  local window = capabilities.window or {}
  return type(window.showDocument) == 'table' and window.showDocument.support == true
end

-- Sends a command and hands its result on; errors are said, not thrown.
local function send(client, bufnr, command, argument, on_result)
  request(client, 'workspace/executeCommand', { command = command, arguments = { argument } }, function(err, result)
    if err then
      notify(err.message or tostring(err), vim.log.levels.ERROR)
      return
    end
    on_result(result or {})
    -- Results change the lenses (a Dereference lens appears, a Cancel lens goes).
    require('choppa').refresh_lenses(bufnr)
  end, bufnr)
end

-- `512 B`, `17.6 KB`, `176 KB`: the server's size format.
local function format_bytes(size)
  if type(size) ~= 'number' then
    return '?'
  end
  if size < 1024 then
    return string.format('%d B', size)
  end
  local units = { 'KB', 'MB', 'GB', 'TB' }
  local value, unit = size / 1024, 1
  while value >= 1024 and unit < #units do
    value, unit = value / 1024, unit + 1
  end
  return (value < 100 and string.format('%.1f', value) or string.format('%d', math.floor(value + 0.5))) .. ' ' .. units[unit]
end

---@param result table
---@param sent table the arguments the command was sent
---@return string
local function summary(result, sent)
  local call = string.format('%s(%s)', result['function'] or sent['function'], result.args or sent.args or '')
  if result.status == 'cancelled' then
    return call .. ' cancelled'
  end
  if result.status == 'submitted' then
    return string.format('%s submitted (run %s)', call, tostring(result.runId))
  end
  if result.status ~= 'ok' then
    local error = result.error or {}
    return string.format('%s failed: %s: %s', call, error.type or 'Error', error.message or '')
  end
  if result.ref then
    -- Type and size only, so the line fits; the hover has the path.
    return string.format('%s → ArtifactRef %s %s', call, tostring(result.ref.type or ''), format_bytes(result.ref.size))
  end
  return string.format('%s → %s', call, result.value and result.value.repr or 'None')
end

local function split_open(path)
  vim.cmd('split ' .. vim.fn.fnameescape(path))
end

-- Where the runs of `:Choppa runs` live: the file and line of each function.
local function locate(root, key, name)
  local file = key:match('^(.*)::') or ''
  local path = file:sub(1, 1) == '/' and file or ((root or vim.fn.getcwd()) .. '/' .. file)
  local lnum = 1
  local bufnr = vim.fn.bufnr(path)
  local lines = bufnr ~= -1 and vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    or (vim.fn.filereadable(path) == 1 and vim.fn.readfile(path, '', 10000) or {})
  for index, line in ipairs(lines) do
    if line:match('^%s*def%s+' .. vim.pesc(name) .. '%s*%(') then
      lnum = index
      break
    end
  end
  return path, lnum
end

-- `choppa.listRuns` as the quickfix list: runs in flight, submitted jobs, stored results.
local function runs_to_quickfix(client, result)
  local root = client.config and client.config.root_dir
  local items = {}
  local function add(entry, text, key)
    local path, lnum = locate(root, key or entry.key or '', entry['function'] or '?')
    table.insert(items, { filename = path, lnum = lnum, text = text })
  end
  for _, run in ipairs(result.running or {}) do
    add(run, string.format('%s: running for %ds', run['function'], math.floor((run.ageMs or 0) / 1000)))
  end
  for _, job in ipairs(result.submitted or {}) do
    add(job, string.format('%s: job %s %s', job['function'], tostring((job.handle or {}).runId or job.id), tostring(job.state)))
  end
  for _, record in ipairs(result.results or {}) do
    add(record, string.format('%s: %s, finished %s%s', record['function'], tostring(record.status), tostring(record.finishedAt),
      type(record.ref) == 'string' and (' · ' .. record.ref) or ''))
  end
  vim.fn.setqflist({}, ' ', { title = 'choppa runs', items = items })
  vim.cmd('botright copen')
  vim.cmd('wincmd p')
  notify(string.format('%d runs in the quickfix list', #items))
end

--- Sends a server command and does with its result what the user expects: asks for missing
--- arguments and sends it again, says the outcome, opens a preview or log, lists runs.
---@param client table
---@param bufnr integer
---@param command string
---@param argument table
function M.execute(client, bufnr, command, argument)
  send(client, bufnr, command, argument, function(result)
    if command == 'choppa.run' or command == 'choppa.runArtifact' or command == 'choppa.submit' then
      local error = result.error or {}
      -- With no arguments given, an ArgumentError can only mean required parameters are missing.
      if argument.args == nil and result.status == 'error' and error.type == 'ArgumentError' then
        local key = argument.uri .. '#' .. argument['function']
        local missing = type(error.missing) == 'table' and table.concat(error.missing, ', ') or ''
        vim.ui.input({ prompt = argument['function'] .. '(' .. missing .. '): ', default = last_args[key] or '' }, function(input)
          if input == nil or vim.trim(input) == '' then
            return
          end
          last_args[key] = input
          local again = vim.deepcopy(argument)
          again.args = input
          M.execute(client, bufnr, command, again)
        end)
        return
      end
      local ok = result.status == 'ok' or result.status == 'submitted'
      notify(summary(result, argument), ok and vim.log.levels.INFO or vim.log.levels.ERROR)
    elseif command == 'choppa.dereference' then
      notify(string.format('%s (%s)', result.localPath or '?', format_bytes(result.size)))
      -- Clients with window/showDocument get the preview opened by the server.
      if result.previewPath and not supports_show_document(client) then
        split_open(result.previewPath)
      end
    elseif command == 'choppa.showLog' then
      if type(result.path) == 'string' and not supports_show_document(client) then
        split_open(result.path)
      end
    elseif command == 'choppa.cancel' then
      notify(tostring(result.message or (result.cancelled and 'cancelled' or 'nothing to cancel')))
    elseif command == 'choppa.listRuns' then
      runs_to_quickfix(client, result)
    elseif command == 'choppa.moreActions' then
      local actions = result.actions or {}
      vim.ui.select(actions, {
        prompt = 'choppa: ' .. tostring(argument['function']),
        format_item = function(action)
          return action.title
        end,
      }, function(action)
        if action then
          M.execute(client, bufnr, action.command, vim.deepcopy((action.arguments or {})[1] or {}))
        end
      end)
    end
  end)
end

--- The server commands whose results this plugin handles, for `vim.lsp.commands`: code actions
--- and lenses then prompt, open and list like the `:Choppa` commands do.
M.HANDLED = {
  'choppa.run',
  'choppa.runArtifact',
  'choppa.submit',
  'choppa.dereference',
  'choppa.showLog',
  'choppa.cancel',
  'choppa.listRuns',
  'choppa.moreActions',
}

--- A `vim.lsp.commands` handler: `command` is the LSP Command, `ctx` has client_id and bufnr.
function M.handle(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return
  end
  local bufnr = ctx.bufnr or vim.api.nvim_get_current_buf()
  M.execute(client, bufnr, command.command, vim.deepcopy((command.arguments or {})[1] or {}))
end

-- The run commands that name the function under the cursor: an `@x.artifact` function offers
-- only `choppa.runArtifact` (it always runs as one), so asking for `choppa.run` takes that too.
local RUN_COMMANDS = { 'choppa.run', 'choppa.runArtifact', 'choppa.submit' }

-- Asks the server for the code actions at the cursor and calls back with the arguments of
-- the wanted command (`{uri, function, args?, position?}`; `wanted` may list several, first
-- found wins in the server's order), or nil when there is none.
local function command_at_cursor(client, bufnr, wanted, callback)
  local accepted = {}
  for _, name in ipairs(type(wanted) == 'table' and wanted or { wanted }) do
    accepted[name] = true
  end
  if wanted == 'choppa.run' then
    accepted['choppa.runArtifact'] = true
  end
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { diagnostics = {} }
  request(client, 'textDocument/codeAction', params, function(err, actions)
    if err then
      notify(err.message or tostring(err), vim.log.levels.ERROR)
      return
    end
    for _, action in ipairs(actions or {}) do
      local command = type(action.command) == 'table' and action.command or action
      if accepted[command.command] and command.arguments and command.arguments[1] then
        callback(vim.deepcopy(command.arguments[1]))
        return
      end
    end
    callback(nil)
  end, bufnr)
end

local function run(command, user_args)
  local bufnr, client = attached()
  if not client then
    return
  end
  command_at_cursor(client, bufnr, command, function(argument)
    if not argument then
      return notify('no Choppa function or call under the cursor', vim.log.levels.WARN)
    end
    if user_args ~= '' then
      argument.args = user_args
      last_args[argument.uri .. '#' .. argument['function']] = user_args
    end
    M.execute(client, bufnr, command, argument)
  end)
end

local function deref(function_name)
  local bufnr, client = attached()
  if not client then
    return
  end
  if function_name ~= '' then
    return M.execute(client, bufnr, 'choppa.dereference', { uri = vim.uri_from_bufnr(bufnr), ['function'] = function_name })
  end
  command_at_cursor(client, bufnr, RUN_COMMANDS, function(argument)
    if not argument then
      return notify('no Choppa function or call under the cursor (or give one: `:Choppa deref NAME`)', vim.log.levels.WARN)
    end
    M.execute(client, bufnr, 'choppa.dereference', { uri = argument.uri, ['function'] = argument['function'] })
  end)
end

local function status()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    return notify('the choppa client is not attached to this buffer', vim.log.levels.WARN)
  end
  -- One short line; `:checkhealth choppa` lists the server's commands.
  notify(string.format('client %d attached, root %s', client.id, client.config.root_dir or '(none)'))
end

-- Subcommands whose command the server does not offer (an older server) answer so instead
-- of failing; they work whenever the server lists their command.
local function optional_command(name, rest)
  local bufnr, client = attached()
  if not client then
    return
  end
  local command = optional[name]
  if not server_has(client, command) then
    return notify(string.format('`:Choppa %s` is not available in this server version', name), vim.log.levels.WARN)
  end
  if name == 'runs' then
    return M.execute(client, bufnr, command, { uri = vim.uri_from_bufnr(bufnr) })
  end
  if name == 'submit' then
    return run(command, rest)
  end
  command_at_cursor(client, bufnr, RUN_COMMANDS, function(argument)
    if not argument then
      return notify('no Choppa function or call under the cursor', vim.log.levels.WARN)
    end
    M.execute(client, bufnr, command, { uri = argument.uri, ['function'] = argument['function'] })
  end)
end

local subcommands = {
  run = function(rest)
    run('choppa.run', rest)
  end,
  artifact = function(rest)
    run('choppa.runArtifact', rest)
  end,
  deref = deref,
  status = status,
  clusters = function()
    require('choppa.clusters').pick()
  end,
  restart = function()
    require('choppa.clusters').restart()
  end,
}
for name in pairs(optional) do
  subcommands[name] = function(rest)
    optional_command(name, rest)
  end
end

---@return string[]
function M.names()
  local names = vim.tbl_keys(subcommands)
  table.sort(names)
  return names
end

--- Runs `:Choppa {subcommand} [rest]`.
---@param line string everything after `:Choppa`
function M.dispatch(line)
  local name, rest = line:match('^%s*(%S*)%s*(.-)%s*$')
  local handler = subcommands[name]
  if not handler then
    return notify(string.format('unknown subcommand `%s`; one of: %s', name, table.concat(M.names(), ', ')),
      vim.log.levels.ERROR)
  end
  handler(rest)
end

--- Completion for `:Choppa`: subcommand names as the first word.
---@param arg_lead string
---@param cmd_line string
---@return string[]
function M.complete(arg_lead, cmd_line)
  if cmd_line:match('^%s*%S+%s+%S*$') == nil then
    return {}
  end
  return vim.tbl_filter(function(name)
    return name:sub(1, #arg_lead) == arg_lead
  end, M.names())
end

return M
