#!/usr/bin/env lua5.4
-- provision_channels.lua: make the account's channels match a list of specs.
--
--   lua5.4 provision_channels.lua [--dry-run] [SPECS.lua]
--
-- SPECS.lua returns a list of channel specs; without it, the example list below is used:
--
--   return {
--     { name = "lobby", latencyMode = "LOW", type = "STANDARD", tags = { team = "games" } },
--     { name = "stage", latencyMode = "NORMAL", type = "ADVANCED_HD", preset = "CONSTRAINED_BANDWIDTH_DELIVERY" },
--   }
--
-- A spec names a channel (`name`, required), any UpdateChannel setting (`latencyMode`, `type`,
-- `authorized`, `insecureIngest`, `preset`, `recordingConfigurationArn`, ...) and `tags`.
-- Channels are matched by name. A missing channel is created; an existing one gets only the
-- settings that differ, and the tags of the spec that are missing or different (tags the spec
-- does not mention are left alone). A second run with the same specs changes nothing and says
-- so. `--dry-run` prints the plan without changing anything.
--
-- Configuration comes from the environment (AWS_REGION, AWS_PROFILE or keys,
-- AWS_ENDPOINT_URL_IVS for a local emulator). Exit status: 0 when every channel matches its
-- spec, 1 when something failed, 2 for a bad command line or specs file.
local ivs = require("ivs")

local EXAMPLE_SPECS = {
  { name = "lobby", latencyMode = "LOW", type = "STANDARD", tags = { team = "games", env = "demo" } },
  { name = "stage", latencyMode = "NORMAL", type = "ADVANCED_HD", preset = "CONSTRAINED_BANDWIDTH_DELIVERY",
    tags = { team = "events" } },
  { name = "backstage", latencyMode = "LOW", type = "BASIC", authorized = true, tags = { team = "events" } },
}

local function fail(status, message)
  io.stderr:write("provision_channels: ", message, "\n")
  os.exit(status)
end

-- Command line.
local dry_run, specs_path = false, nil
for _, a in ipairs(arg) do
  if a == "--dry-run" then
    dry_run = true
  elseif a:sub(1, 1) == "-" or specs_path then
    fail(2, "usage: provision_channels.lua [--dry-run] [SPECS.lua]")
  else
    specs_path = a
  end
end

-- A specs file is data: it runs with an empty environment (setfenv on Lua 5.1 and LuaJIT).
local function load_data(path)
  if setfenv then -- luacheck: ignore 113 (Lua 5.1's global)
    local chunk, err = loadfile(path)
    if chunk then setfenv(chunk, {}) end -- luacheck: ignore 113
    return chunk, err
  end
  return loadfile(path, "t", {})
end

local specs = EXAMPLE_SPECS
if specs_path then
  local chunk, err = load_data(specs_path)
  if not chunk then fail(2, err) end
  local ok, result = pcall(chunk)
  if not ok then fail(2, specs_path .. ": " .. tostring(result)) end
  if type(result) ~= "table" then fail(2, specs_path .. " must return a list of channel specs") end
  specs = result
end

-- The settings a spec may hold: UpdateChannel's parameters (from the model), plus tags.
local SETTINGS = {}
for _, p in ipairs(ivs.describe("update_channel").params) do
  if p.name ~= "arn" and p.name ~= "name" then SETTINGS[p.name] = true end
end
local seen_names = {}
for i, spec in ipairs(specs) do
  if type(spec) ~= "table" or type(spec.name) ~= "string" or spec.name == "" then
    fail(2, string.format("spec #%d needs a name", i))
  end
  if seen_names[spec.name] then fail(2, "two specs name the channel " .. spec.name) end
  seen_names[spec.name] = true
  for k in pairs(spec) do
    if k ~= "name" and k ~= "tags" and not SETTINGS[k] then
      fail(2, string.format("spec %s: unknown setting '%s'", spec.name, tostring(k)))
    end
  end
end

local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function show(v)
  if type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. show(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return v == nil and "(unset)" or tostring(v)
end

local client, cerr = ivs.new()
if not client then fail(1, tostring(cerr)) end

-- Existing channels by name (names need not be unique in IVS: refuse to guess).
local by_name, duplicate = {}, {}
local ok, err = pcall(function()
  for ch in client:items("list_channels") do
    if by_name[ch.name] then duplicate[ch.name] = true end
    by_name[ch.name] = ch
  end
end)
if not ok then fail(1, "list_channels: " .. tostring(err)) end

local counts = { created = 0, updated = 0, unchanged = 0, failed = 0 }
local function report(what, name, detail)
  counts[what] = counts[what] + 1
  if what == "failed" then
    io.stderr:write(string.format("provision_channels: %s: %s\n", name, detail))
    return
  end
  print(string.format("%-10s %-12s %s", (dry_run and what ~= "unchanged" and "would be " or "") .. what, name,
    detail or ""))
end

for _, spec in ipairs(specs) do
  local name = spec.name
  local settings = {}
  for k, v in pairs(spec) do
    if k ~= "name" and k ~= "tags" then settings[k] = v end
  end
  local existing = by_name[name]
  if duplicate[name] then
    report("failed", name, "several channels have this name; fix that by hand first")
  elseif not existing then
    if dry_run then
      report("created", name)
    else
      local params = { name = name, tags = spec.tags }
      for k, v in pairs(settings) do params[k] = v end
      local out, cerr2 = client:create_channel(params)
      if out then
        report("created", name, out.channel.arn)
      else
        report("failed", name, tostring(cerr2))
      end
    end
  else
    local current, gerr = client:get_channel{ arn = existing.arn }
    if not current then
      report("failed", name, tostring(gerr))
    else
      current = current.channel
      local changes, update, update_count = {}, { arn = current.arn }, 0
      for k, want in pairs(settings) do
        if not same(want, current[k]) then
          update[k] = want
          update_count = update_count + 1
          changes[#changes + 1] = string.format("%s %s -> %s", k, show(current[k]), show(want))
        end
      end
      local tag_changes = {}
      for k, v in pairs(spec.tags or {}) do
        if (current.tags or {})[k] ~= v then tag_changes[k] = v end
      end
      if next(tag_changes) then changes[#changes + 1] = "tags +" .. show(tag_changes) end
      table.sort(changes)
      local problem
      if not dry_run and update_count > 0 then
        local _, uerr = client:update_channel(update)
        if uerr then problem = "update_channel: " .. tostring(uerr) end
      end
      if not dry_run and not problem and next(tag_changes) then
        local _, terr = client:tag_resource{ resourceArn = current.arn, tags = tag_changes }
        if terr then problem = "tag_resource: " .. tostring(terr) end
      end
      if problem then
        report("failed", name, problem)
      elseif #changes == 0 then
        report("unchanged", name)
      else
        report("updated", name, table.concat(changes, "; "))
      end
    end
  end
end

print(string.format("%d created, %d updated, %d unchanged, %d failed%s", counts.created, counts.updated,
  counts.unchanged, counts.failed, dry_run and " (dry run: nothing was changed)" or ""))
client:close()
os.exit(counts.failed == 0 and 0 or 1, true)
