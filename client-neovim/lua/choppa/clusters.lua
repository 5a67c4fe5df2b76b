-- The cluster of a buffer's `Choppa(...)` line: `:Choppa clusters` picks one with vim.ui.select
-- and sets `cluster_id=` in the buffer, `:Choppa restart` gives the next run a fresh interpreter,
-- and `status()` is a statusline component (cluster name and state, refreshed in the background
-- at most every 30 s; the server caches the list anyway).
local M = {}

local REFRESH_MS = 30000
-- bufnr -> { text = string, at = ms }
local cache = {}

local function now_ms()
  return vim.loop.now()
end

local function notify(message, level)
  require('choppa.commands').notify_line('choppa: ' .. message, level)
end

local function request(client, method, params, handler, bufnr)
  return require('choppa.commands').request(client, method, params, handler, bufnr)
end

local function clusters(client, bufnr, callback)
  local params = { command = 'choppa.clusters', arguments = { { uri = vim.uri_from_bufnr(bufnr) } } }
  request(client, 'workspace/executeCommand', params, function(err, result)
    callback(err, result)
  end, bufnr)
end

-- The written cluster id of the buffer (its first `cluster_id="..."`), with where it sits.
local function written_id(bufnr)
  for index, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local start, value = line:match('cluster_id%s*=%s*[rRuU]?["\']()([^"\'\\]*)["\']')
    if start then
      return value, index - 1, start - 1
    end
  end
  return nil
end

-- Sets `cluster_id="id"` on the buffer's Choppa line: replaces the written id, or adds it first.
function M.set_cluster_id(bufnr, id)
  local value, row, col = written_id(bufnr)
  if value then
    vim.api.nvim_buf_set_text(bufnr, row, col, row, col + #value, { id })
    return true
  end
  for index, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local open = line:find('Choppa%(')
    if open then
      local at = open + #'Choppa(' - 1
      local empty = line:sub(at + 1, at + 1) == ')'
      local text = 'cluster_id="' .. id .. '"' .. (empty and '' or ', ')
      vim.api.nvim_buf_set_text(bufnr, index - 1, at, index - 1, at, { text })
      return true
    end
  end
  return false
end

--- `:Choppa clusters`: the workspace's clusters (running first) in vim.ui.select, then the edit.
function M.pick()
  local bufnr, client = require('choppa.commands').attached()
  if not client then
    return
  end
  clusters(client, bufnr, function(err, result)
    if err then
      return notify(err.message or tostring(err), vim.log.levels.ERROR)
    end
    local list = (result or {}).clusters or {}
    if #list == 0 then
      return notify('the workspace has no clusters', vim.log.levels.WARN)
    end
    vim.ui.select(list, {
      prompt = 'Cluster for Choppa(cluster_id=...)',
      format_item = function(cluster)
        local python = cluster.python ~= vim.NIL and cluster.python and (' · Python ' .. cluster.python) or ''
        local denied = cluster.attachable == false and ' · you may not attach' or ''
        return string.format('%s  %s%s%s  (%s)', cluster.name, cluster.state, python, denied, cluster.clusterId)
      end,
    }, function(choice)
      if not choice then
        return
      end
      if M.set_cluster_id(bufnr, choice.clusterId) then
        cache[bufnr] = nil
        notify('cluster ' .. choice.name .. ' (' .. choice.clusterId .. ')')
      else
        notify('no Choppa(...) line in this buffer', vim.log.levels.WARN)
      end
    end)
  end)
end

--- `:Choppa restart`: destroys the warm execution context of the buffer's cluster.
function M.restart()
  local bufnr, client = require('choppa.commands').attached()
  if not client then
    return
  end
  local params = { command = 'choppa.restartContext', arguments = { { uri = vim.uri_from_bufnr(bufnr) } } }
  request(client, 'workspace/executeCommand', params, function(err, result)
    if err then
      return notify(err.message or tostring(err), vim.log.levels.ERROR)
    end
    notify((result or {}).message or 'done')
  end, bufnr)
end

--- A statusline component: `alpha RUNNING`, or '' when the buffer names no known cluster.
---@param bufnr? integer
---@return string
function M.status(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local entry = cache[bufnr]
  local id = written_id(bufnr)
  if entry and entry.id == id and now_ms() - entry.at < REFRESH_MS then
    return entry.text
  end
  local client = require('choppa.commands').client(bufnr)
  if not client then
    return entry and entry.text or ''
  end
  cache[bufnr] = { text = entry and entry.text or '', at = now_ms(), id = id }
  clusters(client, bufnr, function(err, result)
    local text = ''
    if not err and result then
      for _, cluster in ipairs(result.clusters or {}) do
        if cluster.clusterId == id then
          text = cluster.name .. ' ' .. cluster.state
        end
      end
      if text == '' and id then
        text = id .. ' (no such cluster)'
      end
    end
    cache[bufnr] = { text = text, at = now_ms(), id = id }
    vim.cmd('redrawstatus')
  end)
  return cache[bufnr].text
end

return M
