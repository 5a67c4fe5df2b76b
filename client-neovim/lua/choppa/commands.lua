-- The `:Choppa` subcommands: thin wrappers that find the Choppa function under the cursor
-- through the server's own code actions and send `workspace/executeCommand`. They add only
-- what the protocol leaves to the client: prompting for arguments and opening returned paths.

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

---@param message string
---@param level? integer
local function notify(message, level)
  vim.notify('choppa: ' .. message, level or vim.log.levels.INFO)
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

-- Neovim 0.11 made client methods take `self`; earlier versions use plain fields.
local function request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

---@param client table
---@param command string
---@return boolean
local function server_has(client, command)
  local provider = (client.server_capabilities or {}).executeCommandProvider
  return type(provider) == 'table' and vim.tbl_contains(provider.commands or {}, command)
end

---@param client table
---@param bufnr integer
---@param command string
---@param argument table
---@param on_result fun(result: table)
local function execute(client, bufnr, command, argument, on_result)
  request(client, 'workspace/executeCommand', { command = command, arguments = { argument } }, function(err, result)
    if err then
      notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
      return
    end
    on_result(result or {})
    -- Results change the lenses (a Dereference lens appears, a Cancel lens goes).
    require('choppa').refresh_lenses(bufnr)
  end, bufnr)
end

-- Asks the server for the code actions at the cursor and calls back with the arguments of
-- the wanted command (`{uri, function, args?, position?}`), or nil when there is none.
local function command_at_cursor(client, bufnr, wanted, callback)
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { diagnostics = {} }
  request(client, 'textDocument/codeAction', params, function(err, actions)
    if err then
      notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
      return
    end
    for _, action in ipairs(actions or {}) do
      local command = type(action.command) == 'table' and action.command or action
      if command.command == wanted and command.arguments and command.arguments[1] then
        callback(vim.deepcopy(command.arguments[1]))
        return
      end
    end
    callback(nil)
  end, bufnr)
end

---@param result table
---@return string
---@param sent table the arguments the command was sent
local function summary(result, sent)
  local call = string.format('%s(%s)', result['function'] or sent['function'], result.args or sent.args or '')
  if result.status == 'cancelled' then
    return call .. ' cancelled'
  end
  if result.status ~= 'ok' then
    local error = result.error or {}
    return string.format('%s failed: %s: %s', call, error.type or 'Error', error.message or '')
  end
  if result.ref then
    return string.format('%s → ArtifactRef %s (%d bytes); `:Choppa deref` downloads it', call, result.ref.path, result.ref.size)
  end
  return string.format('%s → %s', call, result.value and result.value.repr or 'None')
end

local function run(kind, user_args)
  local bufnr, client = attached()
  if not client then
    return
  end
  local command = kind == 'artifact' and 'choppa.runArtifact' or 'choppa.run'
  command_at_cursor(client, bufnr, command, function(argument)
    if not argument then
      return notify('no Choppa function or call under the cursor', vim.log.levels.WARN)
    end
    local key = argument.uri .. '#' .. argument['function']
    local function go(arg)
      if arg.args then
        last_args[key] = arg.args
      end
      execute(client, bufnr, command, arg, function(result)
        -- With no arguments given, an ArgumentError can only mean required parameters are
        -- missing: ask for them instead of failing.
        if arg.args == nil and result.status == 'error' and (result.error or {}).type == 'ArgumentError' then
          vim.ui.input({ prompt = argument['function'] .. '(', default = last_args[key] or '' }, function(input)
            if input == nil then
              return
            end
            arg.args = input
            go(arg)
          end)
          return
        end
        notify(summary(result, arg), result.status == 'ok' and vim.log.levels.INFO or vim.log.levels.ERROR)
      end)
    end
    if user_args ~= '' then
      argument.args = user_args
    end
    go(argument)
  end)
end

---@param client table
---@return boolean
local function supports_show_document(client)
  local capabilities = client.config and client.config.capabilities or vim.lsp.protocol.make_client_capabilities()
  local window = capabilities.window or {}
  return type(window.showDocument) == 'table' and window.showDocument.support == true
end

local function deref(function_name)
  local bufnr, client = attached()
  if not client then
    return
  end
  local function go(argument)
    execute(client, bufnr, 'choppa.dereference', argument, function(result)
      notify(string.format('%s (%d bytes, sha256 %s)', result.localPath or '?', result.size or 0, result.sha256 or '?'))
      -- Clients with window/showDocument get the preview opened by the server.
      if result.previewPath and not supports_show_document(client) then
        vim.cmd('split ' .. vim.fn.fnameescape(result.previewPath))
      end
    end)
  end
  if function_name ~= '' then
    return go({ uri = vim.uri_from_bufnr(bufnr), ['function'] = function_name })
  end
  command_at_cursor(client, bufnr, 'choppa.run', function(argument)
    if not argument then
      return notify('no Choppa function or call under the cursor (or give one: `:Choppa deref NAME`)', vim.log.levels.WARN)
    end
    go({ uri = argument.uri, ['function'] = argument['function'] })
  end)
end

local function status()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    return notify('the choppa client is not attached to this buffer', vim.log.levels.WARN)
  end
  local provider = (client.server_capabilities or {}).executeCommandProvider or {}
  notify(string.format('client %d attached, root %s, server commands: %s', client.id,
    client.config.root_dir or '(none)', table.concat(provider.commands or {}, ', ')))
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
    return notify(string.format('`:Choppa %s` is not available yet in this server version (it does not offer %s)', name, command),
      vim.log.levels.WARN)
  end
  local function show(result)
    if type(result) == 'table' and type(result.path) == 'string' then
      -- Clients with window/showDocument get the log opened by the server.
      if not supports_show_document(client) then
        vim.cmd('split ' .. vim.fn.fnameescape(result.path))
      end
    else
      notify(vim.inspect(result))
    end
  end
  if name == 'runs' then
    return execute(client, bufnr, command, { uri = vim.uri_from_bufnr(bufnr) }, show)
  end
  command_at_cursor(client, bufnr, 'choppa.run', function(argument)
    if not argument then
      return notify('no Choppa function or call under the cursor', vim.log.levels.WARN)
    end
    if rest ~= '' then
      argument.args = rest
    end
    execute(client, bufnr, command, argument, show)
  end)
end

local subcommands = {
  run = function(rest)
    run('remote', rest)
  end,
  artifact = function(rest)
    run('artifact', rest)
  end,
  deref = deref,
  status = status,
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
