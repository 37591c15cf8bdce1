#!/usr/bin/env lua5.4
-- rotate_stream_key.lua: replace a channel's stream key (after a leak, or on a schedule).
--
--   lua5.4 rotate_stream_key.lua CHANNEL
--
-- CHANNEL is a channel ARN or an exact channel name. IVS allows one stream key per channel, so
-- rotating means deleting the current key and creating a new one; the new key keeps the old
-- key's tags. An encoder still using the old key is refused from then on (a live broadcast
-- using it is not cut by the deletion itself; stop_stream does that). The new key is printed
-- masked: fetch the full value where it is needed with get_stream_key, never from logs.
--
-- Configuration comes from the environment (AWS_REGION, AWS_PROFILE or keys,
-- AWS_ENDPOINT_URL_IVS for a local emulator). Exit status: 0 on success, 1 on failure, 2 for a
-- bad command line.
local ivs = require("ivs")

local function fail(status, message)
  io.stderr:write("rotate_stream_key: ", message, "\n")
  os.exit(status)
end

local function mask(secret)
  local prefix = secret:match("^(sk_[%w-]+_)") or ""
  return prefix .. string.rep("*", 8) .. secret:sub(-4)
end

local target = arg[1]
if not target or arg[2] or target:sub(1, 1) == "-" then fail(2, "usage: rotate_stream_key.lua CHANNEL") end

local client, err = ivs.new()
if not client then fail(1, tostring(err)) end

-- A name is resolved with filterByName, then matched exactly (names are not unique in IVS).
local channel_arn = target
if not target:match("^arn:") then
  local matches = {}
  local ok, lerr = pcall(function()
    for ch in client:items("list_channels", { filterByName = target }) do
      if ch.name == target then matches[#matches + 1] = ch.arn end
    end
  end)
  if not ok then fail(1, "list_channels: " .. tostring(lerr)) end
  if #matches == 0 then fail(1, "no channel is named " .. target) end
  if #matches > 1 then fail(1, string.format("%d channels are named %s; give an ARN", #matches, target)) end
  channel_arn = matches[1]
end

local keys, kerr = client:list_stream_keys{ channelArn = channel_arn }
if not keys then fail(1, "list_stream_keys: " .. tostring(kerr)) end
local tags
for _, key in ipairs(keys.streamKeys) do
  tags = tags or key.tags
  local _, derr = client:delete_stream_key{ arn = key.arn }
  if derr then fail(1, "delete_stream_key: " .. tostring(derr)) end
  print("deleted stream key  " .. key.arn)
end

local created, cerr = client:create_stream_key{ channelArn = channel_arn, tags = tags }
if not created then fail(1, "create_stream_key: " .. tostring(cerr)) end
local key = created.streamKey
print("new stream key      " .. key.arn)
print("value               " .. mask(key.value))
client:close()
