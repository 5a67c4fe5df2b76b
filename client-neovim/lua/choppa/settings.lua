-- The `choppa` settings section as users write it: both shapes the docs have shown are taken
-- (`settings = { pythonPath = ... }` and `settings = { choppa = { pythonPath = ... } }`), and
-- keys the server does not know are found for `:checkhealth choppa`. KEYS mirrors the server's
-- schema (server/src/config/settings.ts; a repo test keeps them in step).

local M = {}

M.KEYS = {
  'artifactDir',
  'authType',
  'autoStartCluster',
  'backend',
  'cache',
  'clusterId',
  'codeLens.enable',
  'compute',
  'configFile',
  'dask.pythonPath',
  'dask.scheduler',
  'diagnostics.resultSeverity',
  'host',
  'inlayHints.enable',
  'localRoot',
  'passEnvironment',
  'profile',
  'pythonPath',
  'requirementsFile',
  'runs.maxParallel',
  'scopeLint.enable',
  'serverless.environmentVersion',
}

--- The `choppa` section of what a user passed as `settings`, in either shape.
---@param settings table|nil
---@return table
function M.section(settings)
  settings = settings or {}
  if type(settings.choppa) == 'table' then
    return settings.choppa
  end
  return settings
end

local known = {}
local prefixes = {}
for _, key in ipairs(M.KEYS) do
  known[key] = true
  local prefix = key:match('^(.*)%.')
  while prefix do
    prefixes[prefix] = true
    prefix = prefix:match('^(.*)%.')
  end
end

--- Dotted names of the keys in a section the server does not know, sorted.
---@param section table
---@return string[]
function M.unknown_keys(section)
  local found = {}
  local function walk(tbl, path)
    for key, value in pairs(tbl) do
      local name = path and (path .. '.' .. tostring(key)) or tostring(key)
      if not known[name] then
        if prefixes[name] and type(value) == 'table' then
          walk(value, name)
        else
          table.insert(found, name)
        end
      end
    end
  end
  walk(section, nil)
  table.sort(found)
  return found
end

return M
