-- Defines `:Choppa {subcommand}` (run, artifact, deref, status, submit, cancel, log, runs).
-- It loads nothing until used and sets no keymaps; see |choppa-commands|.
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
