-- Plays OBS Studio for scripts/obs/ivs-obs.lua: loads it with the obslua stand-in, sets its
-- properties, presses its button and runs OBS's timers, against an ivs-emulator; prints what
-- happened as one JSON object for tests/lua/obs_spec.lua. Run as a subprocess (so that the
-- AWS profile it uses can come from its own environment):
--
--   luajit obs_host.lua ROOT EMULATOR_URL REGION
local ROOT, URL, REGION = arg[1], arg[2], arg[3]
package.path = ROOT .. "/tests/lua/?.lua;" .. package.path
local cjson = require("cjson")
local socket = require("socket")
local obs = require("helpers.obslua")
package.loaded.obslua = obs
local admin = require("helpers.admin").new({ url = URL })

dofile(ROOT .. "/scripts/obs/ivs-obs.lua")

local record = { steps = {} }
local settings = obs.obs_data_create()
script_defaults(settings)
script_load(settings)
local props = script_properties()
record.properties = {}
for _, p in ipairs(props.list) do record.properties[#record.properties + 1] = p.kind .. ":" .. p.name end
record.timers_after_load = 0
for _, ms in pairs(obs.host.timers) do record.timers_after_load = record.timers_after_load + 1; record.timer_ms = ms end

local function set(values)
  for k, v in pairs(values) do obs.obs_data_set_string(settings, k, v) end
  script_update(settings)
end

-- One round of OBS's timers; returns how long the slowest callback took (seconds).
local slowest = 0
local function run_timers()
  for callback in pairs(obs.host.timers) do
    local t0 = socket.gettime()
    callback()
    local dt = socket.gettime() - t0
    if dt > slowest then slowest = dt end
  end
end

-- Runs the timers until a settings field matches pattern (bounded: 10 s).
local function until_field(name, pattern)
  for _ = 1, 1000 do
    run_timers()
    if obs.obs_data_get_string(settings, name):find(pattern) then return true end
    socket.sleep(0.01)
  end
  return false
end

local function press()
  local button = props.by_name.set_up
  local t0 = socket.gettime()
  local refresh = button.callback(props, button)
  return refresh, socket.gettime() - t0
end

local function snapshot(label, extra)
  local s = {
    label = label, status = obs.obs_data_get_string(settings, "status"),
    playback_url = obs.obs_data_get_string(settings, "playback_url"),
    stream_status = obs.obs_data_get_string(settings, "stream_status"),
    service = { id = obs.host.service.id, server = obs.host.service.settings.server,
      key = obs.host.service.settings.key },
    saved = obs.host.saved,
  }
  for k, v in pairs(extra or {}) do s[k] = v end
  record.steps[#record.steps + 1] = s
  return s
end

-- 1. No channel name: an error in the status, nothing started.
press()
snapshot("no name")

-- 2. A channel that does not exist yet: created, OBS pointed at it.
set({ channel_name = "obs-lobby", profile = "obs", region = REGION, endpoint = URL })
local refresh, took = press()
local right_after = obs.obs_data_get_string(settings, "status")
local done = until_field("status", "^ready")
local first = snapshot("create", { refresh = refresh, press_seconds = took, right_after = right_after, done = done })

-- 3. OBS streams before IVS sees the stream: ChannelNotBroadcasting, shown as such.
obs.host.streaming = true
snapshot("not broadcasting", { done = until_field("stream_status", "not broadcasting") })

-- 4. The encoder connects (a simulated broadcast by stream key): state, health, viewers.
admin:start_stream({ streamKey = first.service.key, viewerCount = 7 })
snapshot("live", { done = until_field("stream_status", "LIVE") })
admin:stream_health({ streamKey = first.service.key, health = "STARVING", viewerCount = 3 })
snapshot("starving", { done = until_field("stream_status", "STARVING") })
obs.host.streaming = false
snapshot("stopped", { done = until_field("stream_status", "not streaming") })
admin:stop_stream({ streamKey = first.service.key })

-- 5. Pressed again: the channel is found by name (not created twice), same key.
obs.obs_data_set_string(settings, "status", "")
press()
snapshot("find", { done = until_field("status", "^ready") })
local _, channels = admin:request("GET", "/health")
record.channel_count = channels and channels.channels

-- 6. An endpoint where nothing listens: the error in the status and the log.
set({ endpoint = "http://127.0.0.1:9" })
obs.obs_data_set_string(settings, "status", "")
press()
snapshot("unreachable", { done = until_field("status", "list_channels") })

script_unload()
local timers_left = 0
for _ in pairs(obs.host.timers) do timers_left = timers_left + 1 end
record.timers_after_unload = timers_left
record.slowest_timer_seconds = slowest
record.logs = obs.host.logs
record.over_released = #obs.host.released
io.write(cjson.encode(record), "\n")
