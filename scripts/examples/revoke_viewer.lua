#!/usr/bin/env lua5.4
-- revoke_viewer.lua: end a viewer's playback sessions on a private channel.
--
--   lua5.4 revoke_viewer.lua CHANNEL VIEWER_ID [MAX_VERSION]
--
-- CHANNEL is a channel ARN or an exact channel name; VIEWER_ID is the viewer id your playback
-- tokens carry. IVS ends that viewer's sessions on the channel whose token version
-- (`aws:viewer-session-version`) is at most MAX_VERSION (default 0: tokens without a
-- version); tokens issued later with a higher version keep working. The revocation takes
-- effect within about a minute.
--
-- Configuration comes from the environment (AWS_REGION, AWS_PROFILE or keys,
-- AWS_ENDPOINT_URL_IVS for a local emulator). Exit status: 0 on success, 1 on failure, 2 for a
-- bad command line.
local ivs = require("ivs")

local function fail(status, message)
  io.stderr:write("revoke_viewer: ", message, "\n")
  os.exit(status)
end

local target, viewer, version = arg[1], arg[2], arg[3]
local max_version = version and ivs.tointeger(tonumber(version))
if not target or not viewer or arg[4] or (version and (not max_version or max_version < 0)) then
  fail(2, "usage: revoke_viewer.lua CHANNEL VIEWER_ID [MAX_VERSION (integer >= 0)]")
end

local client, err = ivs.new()
if not client then fail(1, tostring(err)) end

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

local _, rerr = client:start_viewer_session_revocation{
  channelArn = channel_arn, viewerId = viewer, viewerSessionVersionsLessThanOrEqualTo = max_version,
}
if rerr then fail(1, "start_viewer_session_revocation: " .. tostring(rerr)) end
print(string.format("revoked viewer %s on %s (session versions <= %d)", viewer, channel_arn, max_version or 0))
client:close()
