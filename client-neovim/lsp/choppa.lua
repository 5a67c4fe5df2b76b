-- choppa-lsp for Neovim 0.11+: `vim.lsp.enable('choppa')` picks this config up from the
-- runtimepath. The server is the same binary every editor starts, over stdio.
return {
  cmd = { 'choppa-lsp', '--stdio' },
  filetypes = { 'python' },
  root_markers = { '.choppa', 'pyproject.toml', '.git' },
  settings = { choppa = {} },
  -- Settings are taken with or without the `choppa` level (see |choppa-settings|), and also sent
  -- as initializationOptions.
  before_init = function(params, config)
    local section = require('choppa.settings').section(config.settings)
    config.settings = { choppa = section }
    params.initializationOptions = { choppa = section }
  end,
  -- Messages as one short line (no "Press ENTER"); see |choppa-messages|.
  handlers = require('choppa').handlers,
}
