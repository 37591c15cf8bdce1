#!/usr/bin/env lua5.4
-- provision.lua: a tour of lua-ivs in one script, the way you would write it yourself.
--
-- It creates a recording configuration, a tagged channel that records with it, reads the
-- channel's stream key (printed masked), imports a playback key pair made with OpenSSL, goes
-- live (emulator only), reads the stream, sends timed metadata, stops the stream, lists the
-- account's channels page by page, opens an IVS Chat room with a chat token and an IVS
-- Real-Time stage with a participant token (both printed masked), and deletes everything it
-- created, also when a step fails or you press Ctrl-C.
--
-- Configuration comes only from the environment, as with any AWS SDK:
--   AWS_REGION, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ...
--   AWS_ENDPOINT_URL       a local ivs-emulator for all three services (`make demo` sets it);
--                          unset for real AWS
--   IVS_DEMO_BUCKET        S3 bucket (same region) for the recording configuration; against
--                          real AWS the recording step is skipped without it
--
--   make demo                                            # against a local ivs-emulator
--   AWS_PROFILE=dev AWS_REGION=us-west-2 lua5.4 scripts/examples/provision.lua   # real AWS
local ivs = require("ivs")

io.stdout:setvbuf("line") -- keep stdout and stderr lines in order when both go to a terminal

local function say(label, text)
  io.write(string.format("%-22s %s\n", label, text))
end

-- Stream keys and tokens are secrets: show their shape, never their value.
local function mask(secret)
  local prefix = secret:match("^(sk_[%w-]+_)") or ""
  if prefix == "" then prefix = secret:sub(1, 4) end
  return prefix .. string.rep("*", 8) .. secret:sub(-4) .. string.format(" (%d characters)", #secret)
end

local function tags_text(tags)
  local keys = {}
  for k in pairs(tags or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. tags[k] end
  return table.concat(keys, ", ")
end

-- Raises the error of a failed call, saying which step failed; returns the result otherwise.
local function check(step, result, err)
  if not result then error(step .. ": " .. tostring(err), 0) end
  return result
end

local function sleep(seconds)
  os.execute("sleep " .. seconds)
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- ---------------------------------------------------------------------------------------
-- Emulator-only helper. Real IVS goes live when an encoder (OBS, ffmpeg, the broadcast SDK)
-- pushes video to the channel's ingest endpoint with its stream key. ivs-emulator has no video
-- ingest; its admin API (POST /_emulator/streams/start and /streams/stop, documented in
-- emulator/README.md) simulates a broadcast instead. It is plain unsigned HTTP on the
-- emulator's own port, so this helper uses the curl command rather than the SDK, and it is
-- only ever used when the endpoint is a loopback address that answers /_emulator/health.
-- ---------------------------------------------------------------------------------------
local emulator = {}

function emulator.request(endpoint, method, path, json_body)
  local cmd = string.format("curl -sS --max-time 10 -o /dev/null -w '%%{http_code}' -X %s %s %s 2>&1",
    method, json_body and ("-H 'Content-Type: application/json' --data-binary " .. shell_quote(json_body)) or "",
    shell_quote(endpoint .. "/_emulator" .. path))
  local pipe = io.popen(cmd, "r")
  if not pipe then return nil, "cannot run curl" end
  local out = pipe:read("*a")
  pipe:close()
  local status = tonumber(out:match("(%d%d%d)%s*$"))
  if status and status >= 200 and status < 300 then return true end
  return nil, string.format("%s /_emulator%s: %s", method, path, status and ("HTTP " .. status) or out)
end

function emulator.detect(endpoint)
  local host = endpoint:match("^https?://([^/:]+)") or endpoint:match("^https?://%[([^%]]+)%]")
  if host ~= "127.0.0.1" and host ~= "localhost" and host ~= "::1" then return false end
  return emulator.request(endpoint, "GET", "/health") == true
end

-- ARNs hold no characters that need escaping in JSON.
function emulator.start_broadcast(endpoint, channel_arn)
  return emulator.request(endpoint, "POST", "/streams/start", '{"channelArn":"' .. channel_arn .. '"}')
end

-- ---------------------------------------------------------------------------------------

local client, client_err = ivs.new{ app_id = "lua-ivs-demo" }
if not client then
  io.stderr:write("provision.lua: ", tostring(client_err), "\n")
  os.exit(1)
end
local endpoint = client:endpoint()
local on_emulator = emulator.detect(endpoint)
local suffix = string.format("%x%04x", os.time(), math.random(0, 0xffff))
local tags = { project = "lua-ivs-demo", owner = os.getenv("USER") or "demo" }

say("lua-ivs " .. ivs.VERSION, string.format("%s (%s%s)", endpoint, client:region(),
  on_emulator and ", ivs-emulator" or ""))

-- Undo actions, run newest first. Each one is tried even if an earlier one failed.
local cleanup = {}
-- `what` names a resource for the final "deleted" line; nil for housekeeping steps.
local function on_cleanup(what, fn) cleanup[#cleanup + 1] = { what = what, fn = fn } end

local function run()
  -- 1. A recording configuration: where the channel's broadcasts are archived.
  local bucket = os.getenv("IVS_DEMO_BUCKET") or (on_emulator and "lua-ivs-demo-recordings")
  local recording
  if bucket then
    recording = check("create_recording_configuration", client:create_recording_configuration{
      name = "demo-rec-" .. suffix, tags = tags,
      destinationConfiguration = { s3 = { bucketName = bucket } },
      thumbnailConfiguration = { recordingMode = "INTERVAL", targetIntervalSeconds = 60 },
    }).recordingConfiguration
    on_cleanup("recording configuration", function()
      return client:delete_recording_configuration{ arn = recording.arn }
    end)
    -- The service creates it asynchronously (CREATING, then ACTIVE or CREATE_FAILED).
    for _ = 1, 30 do
      if recording.state ~= "CREATING" then break end
      sleep(2)
      recording = check("get_recording_configuration",
        client:get_recording_configuration{ arn = recording.arn }).recordingConfiguration
    end
    if recording.state ~= "ACTIVE" then error("recording configuration is " .. recording.state, 0) end
    say("recording config", string.format("%s -> s3://%s (%s)", recording.name, bucket, recording.state))
  else
    say("recording config", "skipped (set IVS_DEMO_BUCKET to an S3 bucket in this region)")
  end

  -- 2. A channel, tagged, recording with that configuration. It comes with a stream key.
  local created = check("create_channel", client:create_channel{
    name = "demo-lobby-" .. suffix, latencyMode = "LOW", type = "STANDARD", tags = tags,
    recordingConfigurationArn = recording and recording.arn,
  })
  local channel = created.channel
  on_cleanup("channel", function() return client:delete_channel{ arn = channel.arn } end)
  say("channel", channel.name .. "  " .. channel.arn)
  say("  ingest", "rtmps://" .. channel.ingestEndpoint .. ":443/app/")
  say("  playback", channel.playbackUrl)
  say("  tags", tags_text(channel.tags))

  -- 3. Its stream key, read back the way you would later (list, then get).
  local summary = check("list_stream_keys", client:list_stream_keys{ channelArn = channel.arn }).streamKeys[1]
  local key = check("get_stream_key", client:get_stream_key{ arn = summary.arn }).streamKey
  say("stream key", mask(key.value))

  -- 4. A playback key pair for private channels. The private key signs viewer tokens and never
  -- leaves this machine; IVS only gets the public half.
  local pipe = assert(io.popen("mktemp -d"))
  local dir = pipe:read("*l")
  pipe:close()
  if not dir or dir == "" then error("mktemp -d failed", 0) end
  on_cleanup(nil, function() return os.execute("rm -rf " .. shell_quote(dir)) end)
  local private, public = dir .. "/private.pem", dir .. "/public.pem"
  if not os.execute(string.format("openssl ecparam -name secp384r1 -genkey -noout -out %s && "
      .. "openssl ec -in %s -pubout -out %s 2>/dev/null", private, private, public)) then
    error("openssl could not generate a key pair", 0)
  end
  local f = assert(io.open(public, "r"))
  local pem = f:read("*a")
  f:close()
  os.remove(private)
  local pair = check("import_playback_key_pair", client:import_playback_key_pair{
    name = "demo-keys-" .. suffix, publicKeyMaterial = pem, tags = tags,
  }).keyPair
  on_cleanup("playback key pair", function() return client:delete_playback_key_pair{ arn = pair.arn } end)
  say("playback key pair", pair.name .. "  " .. pair.fingerprint)

  -- 5. Go live. On real IVS an encoder does this; see the emulator helper above.
  if on_emulator then
    check("start broadcast", emulator.start_broadcast(endpoint, channel.arn))
    on_cleanup(nil, function()
      local _, err = client:stop_stream{ channelArn = channel.arn }
      if err and err.code == "ChannelNotBroadcasting" then return true end
      return err == nil, err
    end)
    say("broadcast", "started (simulated by the emulator)")
  else
    say("broadcast", "skipped: point an encoder at the ingest URL with the stream key to go live")
  end

  -- 6. The live stream, timed metadata for the players, then stop it.
  local stream, err = client:get_stream{ channelArn = channel.arn }
  if stream then
    stream = stream.stream
    say("stream", string.format("%s, %s, %d viewers, %s", stream.state, stream.health, stream.viewerCount,
      stream.streamId))
    check("put_metadata", client:put_metadata{ channelArn = channel.arn, metadata = '{"scene":"intro"}' })
    say("metadata", 'sent {"scene":"intro"}')
    check("stop_stream", client:stop_stream{ channelArn = channel.arn })
    say("stream", "stopped")
  elseif err.code == "ChannelNotBroadcasting" then
    say("stream", "offline (ChannelNotBroadcasting), so no metadata to send")
  else
    check("get_stream", nil, err)
  end

  -- 7. Every channel in the account, fetched 2 per page; items() follows nextToken for us.
  local count, found = 0, false
  for ch in client:items("list_channels", { maxResults = 2 }) do
    count = count + 1
    found = found or ch.arn == channel.arn
  end
  say("channels", string.format("%d in %s (ours %s)", count, client:region(), found and "included" or "MISSING"))
  if not found then error("list_channels did not return the new channel", 0) end

  -- 8. IVS Chat: a room and a token that lets one viewer into it (the token goes to the
  -- viewer's chat client, which connects to the room's messaging WebSocket).
  local chat = check("ivs.chat.new", require("ivs.chat").new{ app_id = "lua-ivs-demo" })
  on_cleanup(nil, function() chat:close() return true end)
  local room = check("create_room", chat:create_room{
    name = "demo-room-" .. suffix, tags = tags, maximumMessageLength = 500,
  })
  on_cleanup("chat room", function() return chat:delete_room{ identifier = room.arn } end)
  say("chat room", room.name .. "  " .. room.arn)
  local chat_token = check("create_chat_token", chat:create_chat_token{
    roomIdentifier = room.arn, userId = "demo-viewer", capabilities = { "SEND_MESSAGE" },
    sessionDurationInMinutes = 60, attributes = { displayName = "Demo viewer" },
  })
  say("  chat token", mask(chat_token.token) .. ", session until " .. chat_token.sessionExpirationTime)

  -- 9. IVS Real-Time: a stage and a participant token for a guest who publishes and
  -- subscribes (the token goes to the guest's broadcast SDK).
  local realtime = check("ivs.realtime.new", require("ivs.realtime").new{ app_id = "lua-ivs-demo" })
  on_cleanup(nil, function() realtime:close() return true end)
  local stage = check("create_stage", realtime:create_stage{ name = "demo-stage-" .. suffix, tags = tags }).stage
  on_cleanup("stage", function() return realtime:delete_stage{ arn = stage.arn } end)
  say("stage", stage.name .. "  " .. stage.arn)
  local participant = check("create_participant_token", realtime:create_participant_token{
    stageArn = stage.arn, userId = "demo-guest", capabilities = { "PUBLISH", "SUBSCRIBE" }, duration = 60,
  }).participantToken
  say("  participant token", mask(participant.token) .. " for " .. participant.participantId)
end

local ok, failure = pcall(run)
if not ok then
  -- Ctrl-C raises "interrupted!" in the running Lua code; cleaning up is exactly what we want.
  local text = tostring(failure)
  if text:match("interrupted!$") then text = "interrupted, cleaning up" end
  io.stderr:write("provision.lua: ", text, "\n")
end

-- Cleanup, newest first; a failure here is reported and makes the exit status non-zero.
local undone = {}
for i = #cleanup, 1, -1 do
  local step = cleanup[i]
  local done, result, err = pcall(step.fn)
  if done and result then
    undone[#undone + 1] = step.what
  else
    ok = false
    io.stderr:write(string.format("provision.lua: cleanup (%s) failed: %s\n", step.what or "housekeeping",
      tostring(done and err or result)))
  end
end
if #undone > 0 then say("deleted", table.concat(undone, ", ")) end
say(ok and "done" or "FAILED", ok and "everything created was deleted again" or "see the messages above")
client:close()
os.exit(ok and 0 or 1, true)
