-- The Neovim end-to-end scenario, run headless by test/editors/neovim.test.ts on every Neovim
-- version: it drives the plugin like a user would and writes one JSON record per step to
-- $CHOPPA_RESULTS, so the test reports each step apart. Waits on conditions, never on time.

local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/neovim-harness.lua')
local plugin, file, server_cmd, timeout = H.plugin, H.file, H.server_cmd, H.timeout
local step, wait_for, write_results = H.step, H.wait_for, H.write_results
local notifications = H.notifications
local prompts = {}

local function notified(pattern)
  for _, entry in ipairs(notifications) do
    if entry.message:find(pattern) then
      return entry
    end
  end
  return nil
end

local function cursor_to(text)
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  for index, line in ipairs(lines) do
    local column = line:find(text, 1, true)
    if column then
      vim.api.nvim_win_set_cursor(0, { index, column - 1 })
      return index - 1
    end
  end
  error('text not found: ' .. text)
end

-- What blocks a headless Neovim is answered here: select picks by title, requests get nil.
vim.notify = function(message, level)
  table.insert(notifications, { message = message, level = level or vim.log.levels.INFO })
end
vim.lsp.handlers['window/showMessageRequest'] = function()
  return vim.NIL
end
-- `pick` is the title to choose, or a list of titles chosen by successive menus.
local pick
local menus = {}
vim.ui.select = function(items, opts, on_choice)
  local wanted = pick
  if type(pick) == 'table' then
    wanted = table.remove(pick, 1)
  end
  local titles = {}
  for _, item in ipairs(items) do
    -- Neovim 0.12 lists code lenses as "<title> [<client name>]"; recorded as the title.
    local title = opts.format_item and opts.format_item(item) or tostring(item)
    table.insert(titles, (title:gsub(' %[choppa%]$', '')))
  end
  table.insert(menus, titles)
  for index, title in ipairs(titles) do
    if wanted and title == wanted then
      return on_choice(items[index], index)
    end
  end
  on_choice(nil, nil)
end
local answer
vim.ui.input = function(opts, on_confirm)
  table.insert(prompts, { prompt = opts.prompt, default = opts.default or '' })
  on_confirm(answer)
end

vim.cmd('filetype on')
vim.opt.runtimepath:prepend(plugin)
vim.cmd('runtime! plugin/choppa.lua')

local client
step('attach', function()
  -- Settings in the README's shape (`settings = { choppa = {...} }`), with one key the server
  -- does not know: results as Information proves they arrive, checkhealth names the stray key.
  local settings = { choppa = { diagnostics = { resultSeverity = 'information' }, pythonPth = 'python3' } }
  local how
  if vim.lsp.enable then
    -- 0.11+: the README's way, lsp/choppa.lua found on the runtimepath, only `cmd` overridden.
    vim.lsp.config('choppa', { cmd = server_cmd, settings = settings })
    vim.lsp.enable('choppa')
    how = 'vim.lsp.enable'
  else
    require('choppa').setup({ cmd = server_cmd, settings = settings })
    how = 'setup'
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  wait_for('the client to attach', function()
    client = require('choppa.commands').client(0)
    return client ~= nil and client.initialized ~= false and client.server_capabilities ~= nil
  end)
  return { root = client.config.root_dir, commands = client.server_capabilities.executeCommandProvider.commands, how = how }
end)

local add_line
-- Waits for a diagnostic of `bufnr` whose message `matches`, and returns it.
local function wait_for_diagnostic(what, bufnr, matches)
  local found
  wait_for(what, function()
    for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
      if matches(diagnostic.message) then
        found = diagnostic
        return true
      end
    end
    return false
  end)
  return found
end

step('code action runs add', function()
  add_line = cursor_to('add(1, 2)')
  pick = 'Run add(1, 2) remotely'
  vim.lsp.buf.code_action()
  local found = wait_for_diagnostic('the result diagnostic', 0, function(message)
    return message:find('add(1, 2) → 3', 1, true) == 1
  end)
  return { message = found.message, severity = found.severity, lnum = found.lnum, info = vim.diagnostic.severity.INFO }
end)

step('code lenses are shown and refreshed', function()
  local bufnr = vim.api.nvim_get_current_buf()
  local function titles()
    local list = {}
    for _, lens in ipairs(vim.lsp.codelens.get(bufnr) or {}) do
      if lens.command then
        table.insert(list, lens.command.title)
      end
    end
    return list
  end
  wait_for('the lenses', function()
    return vim.tbl_contains(titles(), 'Run add remotely')
  end)
  return { titles = titles() }
end)

step('hover shows the result', function()
  cursor_to('add(1, 2)')
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local responses = vim.lsp.buf_request_sync(0, 'textDocument/hover', params, timeout) or {}
  for _, response in pairs(responses) do
    local contents = response.result and response.result.contents
    if contents then
      local text = type(contents) == 'table' and (contents.value or vim.fn.json_encode(contents)) or contents
      return { text = text }
    end
  end
  error('no hover: ' .. vim.inspect(responses))
end)

step('Choppa deref opens the preview', function()
  cursor_to('get_stuff()')
  vim.cmd('Choppa run')
  wait_for('get_stuff to return a ref', function()
    return notified('^choppa: get_stuff%(%) → ArtifactRef') ~= nil or notified('get_stuff%(%) failed') ~= nil
  end)
  local ran = notified('get_stuff%(%)').message
  local source = vim.api.nvim_get_current_buf()
  vim.cmd('Choppa deref')
  local preview
  wait_for('a window showing the preview', function()
    for _, window in ipairs(vim.api.nvim_list_wins()) do
      local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(window))
      if name:find('/.choppa/artifacts/', 1, true) then
        preview = { name = name, lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(window), 0, 5, false) }
        return true
      end
    end
    return false
  end)
  -- Back to the source for the next steps, whichever way the preview was opened.
  vim.cmd('only')
  vim.api.nvim_set_current_buf(source)
  return { ran = ran, preview = preview, windows = #vim.api.nvim_list_wins() }
end)

step('the Dereference code action opens the preview', function()
  cursor_to('def get_stuff')
  local source = vim.api.nvim_get_current_buf()
  pick = 'Dereference last artifact of get_stuff'
  vim.lsp.buf.code_action()
  local preview
  wait_for('a window showing the preview', function()
    for _, window in ipairs(vim.api.nvim_list_wins()) do
      local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(window))
      if name:find('/.choppa/artifacts/', 1, true) then
        preview = name
        return true
      end
    end
    return false
  end)
  vim.cmd('only')
  vim.api.nvim_set_current_buf(source)
  return { preview = preview }
end)

step('Choppa run prompts for arguments', function()
  prompts = {}
  cursor_to('def ratio')
  answer = '6, 3'
  vim.cmd('Choppa run')
  wait_for('ratio(6, 3)', function()
    return notified('ratio%(6, 3%)') ~= nil
  end)
  local first = notified('ratio%(6, 3%)').message
  answer = '1, 4'
  vim.cmd('Choppa run')
  wait_for('ratio(1, 4)', function()
    return notified('ratio%(1, 4%)') ~= nil
  end)
  return { first = first, second = notified('ratio%(1, 4%)').message, prompts = vim.deepcopy(prompts) }
end)

step('code action prompts for missing arguments', function()
  cursor_to('def ratio')
  pick = 'Run ratio remotely'
  answer = '2, 4'
  vim.lsp.buf.code_action()
  wait_for('ratio(2, 4)', function()
    return notified('ratio%(2, 4%)') ~= nil
  end)
  return { ran = notified('ratio%(2, 4%)').message, prompt = prompts[#prompts] }
end)

step('Choppa artifact and status', function()
  cursor_to('def squares_table')
  vim.cmd('Choppa artifact')
  wait_for('squares_table to return a ref', function()
    return notified('squares_table%(%)') ~= nil
  end)
  vim.cmd('Choppa status')
  wait_for('the status', function()
    return notified('^choppa: client %d+ attached') ~= nil
  end)
  return { artifact = notified('squares_table%(%)').message, status = notified('^choppa: client %d+ attached').message }
end)

step('Choppa submit, runs and log', function()
  cursor_to('def squares_table')
  vim.cmd('Choppa submit')
  wait_for('the submitted handle', function()
    return notified('submitted') ~= nil
  end)
  local source = vim.api.nvim_get_current_buf()
  vim.cmd('Choppa runs')
  wait_for('the run list', function()
    return notified('runs in the quickfix list') ~= nil
  end)
  local quickfix = {}
  for _, item in ipairs(vim.fn.getqflist()) do
    table.insert(quickfix, { file = vim.api.nvim_buf_get_name(item.bufnr), lnum = item.lnum, text = item.text })
  end
  vim.cmd('cclose')
  vim.api.nvim_set_current_buf(source)
  cursor_to('def squares_table')
  local before = vim.api.nvim_get_current_buf()
  vim.cmd('Choppa log')
  wait_for('the log to open', function()
    return vim.api.nvim_buf_get_name(0):match('%.log$') ~= nil
  end)
  local log = vim.api.nvim_buf_get_name(0)
  -- 0.7 opened the log in a split; 0.10 let the server open it in this window.
  pcall(vim.cmd, 'close')
  vim.api.nvim_set_current_buf(before)
  return {
    submitted = notified('submitted').message,
    runs = notified('runs in the quickfix list').message,
    quickfix = quickfix,
    log = log,
    completion = vim.fn.getcompletion('Choppa ', 'cmdline'),
  }
end)

step('the more lens offers the other actions, which prompt for arguments', function()
  cursor_to('def add')
  pick = { '⋯ more', 'Run add as artifact' }
  answer = '3, 4'
  local before = #menus
  vim.lsp.codelens.run()
  wait_for('add(3, 4) as artifact', function()
    return notified('add%(3, 4%) →') ~= nil or notified('add%(3, 4%) failed') ~= nil
  end)
  return { ran = notified('add%(3, 4%)').message, menus = vim.list_slice(menus, before + 1), prompt = prompts[#prompts] }
end)

step('cancel says so in one line', function()
  cursor_to('def add')
  vim.cmd('Choppa cancel')
  wait_for('the answer', function()
    return notified('^choppa: There is no run') ~= nil
  end)
  return { message = notified('^choppa: There is no run').message }
end)

step('a run whose error holds a lone surrogate answers and shows it', function()
  -- A Latin-1 file name decoded with surrogateescape, as Python does for one on disk.
  local bufnr = vim.api.nvim_get_current_buf()
  local last = vim.api.nvim_buf_line_count(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, last, last, false, {
    '',
    '',
    '@dutch.remote',
    'def lone():',
    '    raise FileNotFoundError("no such file: " + b"caf\\xe9.csv".decode("utf-8", "surrogateescape"))',
  })
  local params = { command = 'choppa.run', arguments = { { uri = vim.uri_from_bufnr(bufnr), ['function'] = 'lone' } } }
  local responses = vim.lsp.buf_request_sync(bufnr, 'workspace/executeCommand', params, H.timeout) or {}
  local status
  for _, response in pairs(responses) do
    if response.result then
      status = response.result.status
    end
  end
  local found = wait_for_diagnostic('the error diagnostic', bufnr, function(message)
    return message:find('no such file: caf', 1, true) ~= nil
  end)
  vim.api.nvim_buf_set_lines(bufnr, last, -1, false, {})
  return { status = status, message = found.message }
end)

step('a module changed on disk turns the result that shipped it stale', function()
  -- Neovim on Linux offers no file watching: what a `git checkout` does to a module under an
  -- open editor reaches the server only through the server's own watch of the project.
  local dir = vim.fn.fnamemodify(file, ':h')
  local function write(path, text)
    local handle = assert(io.open(path, 'w'))
    handle:write(text)
    handle:close()
  end
  local pipeline = vim.api.nvim_get_current_buf()
  write(dir .. '/weights.py', 'def weight(x):\n    return 2 * x\n')
  local scored = dir .. '/scored.py'
  write(scored, 'from choppa import Choppa\n\ndutch = Choppa()\n\n\n@dutch.remote\ndef scored(x):\n    from weights import weight\n    return weight(x)\n\n\nscored(5)\n')
  vim.cmd('edit ' .. vim.fn.fnameescape(scored))
  local bufnr = vim.api.nvim_get_current_buf()
  local ships
  wait_for('the new module in what scored ships', function()
    if not require('choppa.commands').client(bufnr) then
      return false
    end
    local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = 6, character = 5 } }, H.timeout) or {}
    for _, response in pairs(responses) do
      local contents = response.result and response.result.contents
      local text = type(contents) == 'table' and (contents.value or '') or tostring(contents or '')
      if text:find('weights', 1, true) then
        ships = text
      end
    end
    return ships ~= nil
  end)
  local params = { command = 'choppa.run', arguments = { { uri = vim.uri_from_bufnr(bufnr), ['function'] = 'scored', args = '5', position = { line = 11, character = 0 } } } }
  vim.lsp.buf_request_sync(bufnr, 'workspace/executeCommand', params, H.timeout)
  local ran = wait_for_diagnostic('the result of scored(5)', bufnr, function(message)
    return message:find('scored(5) → 10', 1, true) == 1
  end)
  write(dir .. '/weights.py', 'def weight(x):\n    return 3 * x\n')
  local stale = wait_for_diagnostic('the result to turn stale', bufnr, function(message)
    return message:find('scored(5) → 10', 1, true) == 1 and message:find('stale', 1, true) ~= nil
  end)
  vim.cmd('buffer ' .. pipeline)
  return { ran = ran.message, stale = stale.message }
end)

step('help opens without helptags', function()
  vim.cmd('help choppa')
  local name = vim.api.nvim_buf_get_name(0)
  vim.cmd('close')
  return { name = name }
end)

step('messages fit one line', function()
  local long = {}
  local width = vim.v.echospace > 0 and vim.v.echospace or vim.o.columns
  for _, entry in ipairs(notifications) do
    if entry.message:find('\n') or vim.fn.strdisplaywidth(entry.message) > width then
      table.insert(long, entry.message)
    end
  end
  return { long = long, count = #notifications }
end)

step('checkhealth choppa', function()
  vim.cmd('checkhealth choppa')
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  return { lines = lines }
end)

-- Stop the server before leaving so nothing outlives the editor.
local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients
vim.lsp.stop_client(get_clients())
vim.wait(5000, function()
  return #get_clients() == 0
end, 20)
write_results()
vim.cmd('qa!')
