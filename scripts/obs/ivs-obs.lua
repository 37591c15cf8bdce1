-- ivs-obs.lua: stream from OBS Studio to an Amazon IVS channel.
--
-- Add it in OBS under Tools -> Scripts (+). Fill in the channel name (and a profile, a region,
-- or an endpoint such as a local ivs-emulator), then press "Set up stream": the script finds
-- the channel by name or creates it, points OBS's stream settings at the channel's ingest
-- server with its stream key ("Custom" service, RTMPS) and shows the playback URL. While OBS
-- streams, it shows the stream's state, health and viewer count.
--
-- Needs the `ivs` rock for OBS's LuaJIT (Lua 5.1): see README.md, "OBS Studio". Every IVS call
-- is started without waiting and polled from an OBS timer, so OBS's main thread never blocks
-- on the network. Errors go to the script log and the status field; the stream key is only
-- ever written into OBS's stream settings, never into a log line or a property.
local obs = require("obslua")

-- OBS puts the script's own folder on package.path only in recent versions: add it, so an
-- `ivs` installed next to the script is found too.
if type(script_path) == "function" then
  local dir = script_path()
  package.path = dir .. "?.lua;" .. dir .. "?/init.lua;" .. package.path
  package.cpath = dir .. "?.so;" .. dir .. "?.dll;" .. package.cpath
end

local ok_ivs, ivs = pcall(require, "ivs")

local TIMER_MS = 250
-- GetStream while streaming: every this many timer ticks (5 s at 250 ms).
local STATUS_EVERY = 20

-- Everything the script keeps between OBS callbacks.
local S = {
  settings = nil, -- the obs_data of the script's settings (OBS owns it)
  client = nil, client_key = nil,
  call = nil, step = nil, -- the IVS call in flight and what its result is for
  channel = nil, -- { arn, name, ingest, playback }
  ticks = 0, was_streaming = false,
}

local function log(level, message)
  obs.script_log(level, "[ivs] " .. message)
end

-- A field of the settings that the properties show (read-only information for the user).
local function show(name, value)
  if S.settings then obs.obs_data_set_string(S.settings, name, value or "") end
end

local function set_status(text, is_error)
  show("status", text)
  log(is_error and obs.LOG_WARNING or obs.LOG_INFO, text)
end

local function fail(what, err)
  S.call, S.step = nil, nil
  set_status(what .. ": " .. tostring(err), true)
end

local function setting(name)
  local v = S.settings and obs.obs_data_get_string(S.settings, name) or ""
  v = v:match("^%s*(.-)%s*$")
  return v ~= "" and v or nil
end

-- One client per (profile, region, endpoint); a changed setting makes a new one.
local function get_client()
  local profile, region, endpoint = setting("profile"), setting("region"), setting("endpoint")
  local key = table.concat({ profile or "", region or "", endpoint or "" }, "\n")
  if S.client and S.client_key == key then return S.client end
  if S.client then S.client:close() end
  S.client = nil
  local client, err = ivs.new{ profile = profile, region = region, endpoint = endpoint, app_id = "ivs-obs" }
  if not client then return nil, err end
  S.client, S.client_key = client, key
  return client
end

-- Starts one IVS call; its result goes to the handler named `step` from the timer.
local function start(step, operation, params)
  local call, err = S.client:start(operation, params)
  if not call then return fail(operation, err) end
  S.call, S.step = call, step
end

-- Points OBS's stream settings at the channel: a "Custom" (rtmp_custom) service with the
-- ingest server and the stream key. An rtmp_custom service already in place is updated;
-- any other is replaced.
local function apply_to_obs(key_value)
  local data = obs.obs_data_create()
  obs.obs_data_set_string(data, "server", S.channel.ingest)
  obs.obs_data_set_string(data, "key", key_value)
  local current = obs.obs_frontend_get_streaming_service()
  if current and obs.obs_service_get_type(current) == "rtmp_custom" then
    obs.obs_service_update(current, data)
  else
    local service = obs.obs_service_create("rtmp_custom", "ivs", data, nil)
    obs.obs_frontend_set_streaming_service(service)
    obs.obs_service_release(service)
  end
  obs.obs_frontend_save_streaming_service()
  obs.obs_data_release(data)
end

local function use_channel(channel)
  S.channel = {
    arn = channel.arn, name = channel.name, playback = channel.playbackUrl,
    ingest = "rtmps://" .. channel.ingestEndpoint .. ":443/app/",
  }
  show("playback_url", channel.playbackUrl)
end

local function ready(key_value)
  apply_to_obs(key_value)
  S.call, S.step = nil, nil
  set_status(string.format("ready: OBS streams to channel '%s' (%s)", S.channel.name, S.channel.ingest))
end

-- What to do with each call's result.
local HANDLERS = {}

function HANDLERS.find(out)
  local name = setting("channel_name")
  for _, summary in ipairs(out.channels or {}) do
    if summary.name == name then
      set_status("found channel '" .. name .. "'")
      return start("channel", "get_channel", { arn = summary.arn })
    end
  end
  if out.nextToken then
    return start("find", "list_channels", { filterByName = name, nextToken = out.nextToken })
  end
  set_status("creating channel '" .. name .. "'")
  start("create", "create_channel", { name = name })
end

function HANDLERS.create(out)
  use_channel(out.channel)
  ready(out.streamKey.value)
end

function HANDLERS.channel(out)
  use_channel(out.channel)
  start("keys", "list_stream_keys", { channelArn = S.channel.arn })
end

function HANDLERS.keys(out)
  local first = (out.streamKeys or {})[1]
  if first then return start("key", "get_stream_key", { arn = first.arn }) end
  start("new_key", "create_stream_key", { channelArn = S.channel.arn })
end

function HANDLERS.key(out) ready(out.streamKey.value) end
HANDLERS.new_key = HANDLERS.key

function HANDLERS.stream(out)
  local st = out.stream or {}
  show("stream_status", string.format("%s, %s, %d viewer%s", st.state or "?", st.health or "?",
    st.viewerCount or 0, st.viewerCount == 1 and "" or "s"))
end

-- The OBS timer: polls the client without waiting, hands finished calls to their handler,
-- and asks for the stream's status now and then while OBS streams.
local function tick()
  if not S.client then return end
  S.client:poll(0)
  if S.call and S.call:done() then
    local call, step = S.call, S.step
    S.call, S.step = nil, nil
    local out, err = call:result()
    if not out then
      if step == "stream" and err.code == "ChannelNotBroadcasting" then
        show("stream_status", "not broadcasting yet (IVS has not seen the stream)")
      else
        fail(call:operation(), err)
      end
    else
      HANDLERS[step](out)
    end
  end
  local streaming = obs.obs_frontend_streaming_active()
  if streaming and S.channel and not S.call then
    S.ticks = S.ticks + 1
    if not S.was_streaming or S.ticks >= STATUS_EVERY then
      S.ticks = 0
      start("stream", "get_stream", { channelArn = S.channel.arn })
    end
  elseif not streaming and S.was_streaming then
    show("stream_status", "not streaming")
  end
  S.was_streaming = streaming
end

-- The button: find or create the channel named in the settings.
local function on_set_up()
  if not ok_ivs then
    set_status("the ivs module is not installed for OBS's Lua: " .. tostring(ivs), true)
    return true
  end
  local name = setting("channel_name")
  if not name then
    set_status("enter a channel name first", true)
    return true
  end
  if S.call then
    set_status("busy: wait for the call in flight", true)
    return true
  end
  local client, err = get_client()
  if not client then
    fail("client", err)
    return true
  end
  S.channel = nil
  show("playback_url", "")
  set_status("looking for channel '" .. name .. "'")
  start("find", "list_channels", { filterByName = name })
  return true
end

-- OBS's script interface ------------------------------------------------------------------

function script_description()
  return "Streams to an Amazon IVS channel: finds or creates the channel by name, sets the "
    .. "stream server and key, and shows the stream's state, health and viewers."
end

function script_properties()
  local props = obs.obs_properties_create()
  obs.obs_properties_add_text(props, "channel_name", "Channel name", obs.OBS_TEXT_DEFAULT)
  obs.obs_properties_add_text(props, "profile", "AWS profile (optional)", obs.OBS_TEXT_DEFAULT)
  obs.obs_properties_add_text(props, "region", "Region (optional)", obs.OBS_TEXT_DEFAULT)
  obs.obs_properties_add_text(props, "endpoint", "Endpoint (optional, e.g. ivs-emulator)", obs.OBS_TEXT_DEFAULT)
  obs.obs_properties_add_button(props, "set_up", "Set up stream", on_set_up)
  obs.obs_properties_add_text(props, "status", "Status", obs.OBS_TEXT_MULTILINE)
  obs.obs_properties_add_text(props, "playback_url", "Playback URL", obs.OBS_TEXT_DEFAULT)
  obs.obs_properties_add_text(props, "stream_status", "Stream", obs.OBS_TEXT_DEFAULT)
  return props
end

function script_defaults(settings)
  obs.obs_data_set_default_string(settings, "region", "")
end

function script_update(settings)
  S.settings = settings
end

function script_load(settings)
  S.settings = settings
  show("status", ok_ivs and "" or ("the ivs module is not installed for OBS's Lua: " .. tostring(ivs)))
  obs.timer_add(tick, TIMER_MS)
end

function script_unload()
  obs.timer_remove(tick)
  if S.client then S.client:close() end -- also cancels a call in flight
  S.client, S.call, S.step = nil, nil, nil
end
