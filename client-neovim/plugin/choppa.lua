-- Defines `:Choppa {subcommand}` (run, artifact, deref, status, submit, cancel, log, runs).
-- It sets no keymaps; see |choppa-commands|.
if vim.g.loaded_choppa then
  return
end
vim.g.loaded_choppa = true

vim.api.nvim_create_user_command('Choppa', function(opts)
  require('choppa.commands').dispatch(opts.args)
end, {
  nargs = '*',
  desc = 'choppa-lsp: run, artifact, deref, status, submit, cancel, log, runs',
  complete = function(arg_lead, cmd_line)
    return require('choppa.commands').complete(arg_lead, cmd_line)
  end,
})

-- Code actions and lenses carry the server's commands: handled here they prompt for missing
-- arguments, open previews and list runs like `:Choppa` does (see |choppa-actions|).
for _, name in ipairs(require('choppa.commands').HANDLED) do
  vim.lsp.commands[name] = function(command, ctx)
    require('choppa.commands').handle(command, ctx)
  end
end

-- With `vim.lsp.enable('choppa')` (0.11+) there is no setup() on_attach: hook lens refreshes here.
if vim.fn.exists('##LspAttach') == 1 then
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('choppa_lenses', { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'choppa' then
        require('choppa').refresh_lenses_on_events(args.buf)
      end
    end,
  })
end
