-- The Neovim cluster scenario, run headless by test/editors/neovim-clusters.test.ts against the
-- emulator: `:Choppa clusters` lists the clusters in vim.ui.select (picking "alpha"), the buffer's
-- `cluster_id=` becomes alpha's id, and `require('choppa').status()` shows its name and state.
-- Writes one JSON record per step to $CHOPPA_RESULTS; waits on conditions, never on time.

local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/neovim-harness.lua')
local plugin, file, server_cmd = H.plugin, H.file, H.server_cmd
local step, wait_for, write_results = H.step, H.wait_for, H.write_results

local menus = {}
vim.ui.select = function(items, opts, on_choice)
  local titles = {}
  for _, item in ipairs(items) do
    table.insert(titles, opts.format_item and opts.format_item(item) or tostring(item))
  end
  table.insert(menus, titles)
  for index, title in ipairs(titles) do
    if title:find('^alpha ') then
      return on_choice(items[index], index)
    end
  end
  on_choice(nil, nil)
end
vim.notify = function() end

vim.cmd('filetype on')
vim.opt.runtimepath:prepend(plugin)
vim.cmd('runtime! plugin/choppa.lua')

step('attach', function()
  require('choppa').setup({ cmd = server_cmd })
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  wait_for('the client to attach', function()
    local client = require('choppa.commands').client(0)
    return client ~= nil and client.initialized ~= false and client.server_capabilities ~= nil
  end)
  return {}
end)

step('Choppa clusters picks alpha', function()
  vim.cmd('Choppa clusters')
  wait_for('the cluster_id edit', function()
    return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n'):find('0101%-111111%-alpha') ~= nil
  end)
  return { menu = menus[1], lines = vim.api.nvim_buf_get_lines(0, 0, -1, false) }
end)

step('status shows the cluster', function()
  local text = ''
  wait_for('the status text', function()
    text = require('choppa').status()
    return text ~= ''
  end)
  return { text = text }
end)

local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients
vim.lsp.stop_client(get_clients())
vim.wait(5000, function()
  return #get_clients() == 0
end, 20)
write_results()
vim.cmd('qa!')
