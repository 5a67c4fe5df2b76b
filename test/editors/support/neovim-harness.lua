-- What the headless Neovim scenarios share (neovim-scenario.lua, neovim-clusters.lua): their
-- environment, one JSON record per step written to $CHOPPA_RESULTS (so the test reports each
-- step apart), the notifications a user would have seen, and waiting on conditions, never on time.
local H = {}

H.plugin = assert(os.getenv('CHOPPA_PLUGIN'))
H.file = assert(os.getenv('CHOPPA_FILE'))
H.server_cmd = vim.fn.json_decode(assert(os.getenv('CHOPPA_SERVER_CMD')))
H.timeout = 20000
H.results = {}
H.notifications = {}
local results_path = assert(os.getenv('CHOPPA_RESULTS'))

function H.write_results()
  local handle = assert(io.open(results_path, 'w'))
  handle:write(vim.fn.json_encode({ version = tostring(vim.version().major .. '.' .. vim.version().minor), steps = H.results, notifications = H.notifications }))
  handle:close()
end

-- Runs one step; a step returns a detail table, or raises with what went wrong.
function H.step(name, fn)
  local ok, detail = pcall(fn)
  table.insert(H.results, { name = name, ok = ok, detail = ok and (detail or vim.NIL) or tostring(detail) })
  H.write_results()
end

function H.wait_for(what, condition)
  if not vim.wait(H.timeout, condition, 20) then
    error('timed out waiting for ' .. what)
  end
end

return H
