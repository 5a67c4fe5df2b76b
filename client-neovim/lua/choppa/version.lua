-- The plugin's version: the same number as the choppa-lsp server and the VS Code extension
-- (a repository test keeps them equal); `:checkhealth choppa` compares it with the server's.
return '0.1.0'
