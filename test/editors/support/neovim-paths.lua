-- A project whose path Neovim spells its own way in URIs (lowercase hex for `é`, `(` and `+`
-- left as they are, where Node writes uppercase hex), run headless by neovim-paths.test.ts: a
-- job submitted from it ends on its file (the in-flight hint gives way to the result).

local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/neovim-harness.lua')

vim.notify = function(message, level)
  table.insert(H.notifications, { message = message, level = level or vim.log.levels.INFO })
end
vim.lsp.handlers['window/showMessageRequest'] = function()
  return vim.NIL
end
vim.cmd('filetype on')
vim.opt.runtimepath:prepend(H.plugin)
vim.cmd('runtime! plugin/choppa.lua')

local function diagnostic(pattern)
  for _, found in ipairs(vim.diagnostic.get(0)) do
    if found.message:find(pattern) then
      return found
    end
  end
  return nil
end

local client
H.step('attach', function()
  require('choppa').setup({ cmd = H.server_cmd })
  vim.cmd('edit ' .. vim.fn.fnameescape(H.file))
  H.wait_for('the client to attach', function()
    client = require('choppa.commands').client(0)
    return client ~= nil and client.initialized ~= false and client.server_capabilities ~= nil
  end)
  return { root = client.config.root_dir, uri = vim.uri_from_bufnr(0) }
end)

H.step('a submitted job ends on its file', function()
  local gate = vim.fn.fnamemodify(H.file, ':h') .. '/gate'
  local answer
  local argument = { uri = vim.uri_from_bufnr(0), ['function'] = 'train', args = vim.fn.json_encode(gate) }
  client.request('workspace/executeCommand', { command = 'choppa.submit', arguments = { argument } }, function(err, result)
    answer = err or result
  end, 0)
  H.wait_for('the handle', function()
    return answer ~= nil
  end)
  H.wait_for('the in-flight hint', function()
    return diagnostic('submitted job') ~= nil
  end)
  local handle = assert(io.open(gate, 'w'))
  handle:write('go')
  handle:close()
  H.wait_for('the result at the function', function()
    return diagnostic('^train%(') ~= nil and diagnostic('submitted job') == nil
  end)
  return { status = answer.status, result = diagnostic('^train%(').message }
end)

local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients
vim.lsp.stop_client(get_clients())
vim.wait(5000, function()
  return #get_clients() == 0
end, 20)
H.write_results()
vim.cmd('qa!')
