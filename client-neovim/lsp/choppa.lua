-- choppa-lsp for Neovim 0.11+: `vim.lsp.enable('choppa')` picks this config up from the
-- runtimepath. The server is the same binary every editor starts, over stdio.
return {
  cmd = { 'choppa-lsp', '--stdio' },
  filetypes = { 'python' },
  root_markers = { '.choppa', 'pyproject.toml', '.git' },
  settings = { choppa = {} },
  -- Messages as one short line (no "Press ENTER"); see |choppa-messages|.
  handlers = require('choppa').handlers,
}
