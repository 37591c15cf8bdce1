#!/usr/bin/env lua5.4
-- list_all.lua: an inventory of the IVS resources in one region, with their tags.
--
--   lua5.4 list_all.lua
--
-- Lists every channel, recording configuration, playback key pair and playback restriction
-- policy, one per line with its name, ARN and tags, following pagination with items().
--
-- Configuration comes from the environment (AWS_REGION, AWS_PROFILE or keys,
-- AWS_ENDPOINT_URL_IVS for a local emulator). Exit status: 0 on success, 1 on failure.
local ivs = require("ivs")

local client, err = ivs.new()
if not client then
  io.stderr:write("list_all: ", tostring(err), "\n")
  os.exit(1)
end

local function tags_text(tags)
  local parts = {}
  for k, v in pairs(tags or {}) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  return #parts > 0 and ("[" .. table.concat(parts, ", ") .. "]") or ""
end

local KINDS = {
  { title = "channels", operation = "list_channels" },
  { title = "recording configurations", operation = "list_recording_configurations" },
  { title = "playback key pairs", operation = "list_playback_key_pairs" },
  { title = "playback restriction policies", operation = "list_playback_restriction_policies" },
}

print(string.format("IVS resources in %s (%s)", client:region(), client:endpoint()))
for _, kind in ipairs(KINDS) do
  local lines = {}
  -- items() raises the page's ivs.Error when a page fails.
  local ok, lerr = pcall(function()
    for item in client:items(kind.operation) do
      lines[#lines + 1] = string.format("  %-24s %s %s", (item.name or "") ~= "" and item.name or "(no name)", item.arn,
        tags_text(item.tags))
    end
  end)
  if not ok then
    io.stderr:write("list_all: ", kind.operation, ": ", tostring(lerr), "\n")
    os.exit(1)
  end
  table.sort(lines)
  print(string.format("%s: %d", kind.title, #lines))
  for _, line in ipairs(lines) do print(line) end
end
client:close()
