-- A stand-in for OBS Studio's `obslua` module that records what a script does.
--
-- Only the part of OBS's scripting API that scripts/obs/ivs-obs.lua uses, with OBS's names and
-- argument orders (docs.obsproject.com: scripting, reference-settings, reference-properties,
-- reference-services, reference-frontend-api): obs_data_* settings objects, properties with
-- text fields and buttons, timer_add/timer_remove, script_log, and the frontend's streaming
-- service. Any other name raises, so a script cannot call what the stand-in does not model.
-- State lives in `obs.host`: timers, logs, the current streaming service, whether OBS streams.
local M = {
  OBS_TEXT_DEFAULT = 0, OBS_TEXT_PASSWORD = 1, OBS_TEXT_MULTILINE = 2, OBS_TEXT_INFO = 3,
  LOG_ERROR = 100, LOG_WARNING = 200, LOG_INFO = 300, LOG_DEBUG = 400,
}

local host = {
  timers = {}, -- callback -> interval in ms
  logs = {}, -- { level, message }
  streaming = false,
  saved = 0, -- obs_frontend_save_streaming_service calls
  released = {}, -- objects released more often than they were referenced
}
M.host = host

local function check(cond, msg) if not cond then error("obslua stand-in: " .. msg, 3) end end

local function new_data() return { kind = "data", values = {}, defaults = {}, refs = 1 } end

local function release(obj, kind)
  check(type(obj) == "table" and obj.kind == kind, "release of something that is not an obs " .. kind)
  obj.refs = obj.refs - 1
  if obj.refs < 0 then host.released[#host.released + 1] = obj end
end

function M.obs_data_create() return new_data() end
function M.obs_data_release(d) release(d, "data") end

function M.obs_data_set_string(d, name, value)
  check(d and d.kind == "data", "obs_data_set_string on a non-data")
  check(type(name) == "string" and type(value) == "string", "obs_data_set_string(data, string, string)")
  d.values[name] = value
end

function M.obs_data_set_default_string(d, name, value)
  check(d and d.kind == "data", "obs_data_set_default_string on a non-data")
  check(type(name) == "string" and type(value) == "string", "obs_data_set_default_string(data, string, string)")
  d.defaults[name] = value
end

function M.obs_data_get_string(d, name)
  check(d and d.kind == "data", "obs_data_get_string on a non-data")
  local v = d.values[name]
  if v == nil then v = d.defaults[name] end
  return v or ""
end

function M.obs_properties_create() return { kind = "properties", list = {}, by_name = {} } end

local function add_property(props, p)
  check(props and props.kind == "properties", "a property added to a non-properties object")
  check(type(p.name) == "string" and not props.by_name[p.name], "property names are unique strings")
  props.list[#props.list + 1] = p
  props.by_name[p.name] = p
  return p
end

function M.obs_properties_add_text(props, name, description, text_type)
  check(type(description) == "string" and type(text_type) == "number",
    "obs_properties_add_text(props, name, desc, type)")
  return add_property(props, { kind = "text", name = name, description = description, type = text_type })
end

function M.obs_properties_add_button(props, name, text, callback)
  check(type(text) == "string" and type(callback) == "function", "obs_properties_add_button(props, name, text, fn)")
  return add_property(props, { kind = "button", name = name, description = text, callback = callback })
end

function M.timer_add(callback, ms)
  check(type(callback) == "function" and type(ms) == "number" and ms > 0, "timer_add(function, milliseconds)")
  host.timers[callback] = ms
end

function M.timer_remove(callback) host.timers[callback] = nil end

function M.script_log(level, message)
  check(type(level) == "number" and type(message) == "string", "script_log(level, string)")
  host.logs[#host.logs + 1] = { level = level, message = message }
end

-- The frontend's streaming service: OBS starts with a service of its own ("rtmp_common").
local function new_service(id, name, settings)
  local values = {}
  for k, v in pairs(settings and settings.values or {}) do values[k] = v end
  return { kind = "service", id = id, name = name, settings = values, refs = 1 }
end
host.service = new_service("rtmp_common", "default_service")

function M.obs_frontend_streaming_active() return host.streaming end
function M.obs_frontend_get_streaming_service() return host.service end -- no new reference

function M.obs_service_get_type(s)
  check(s and s.kind == "service", "obs_service_get_type on a non-service")
  return s.id
end

function M.obs_service_create(id, name, settings, hotkeys)
  check(type(id) == "string" and type(name) == "string", "obs_service_create(id, name, settings, hotkeys)")
  check(settings == nil or settings.kind == "data", "obs_service_create: settings must be obs data")
  check(hotkeys == nil or hotkeys.kind == "data", "obs_service_create: hotkey data must be obs data or nil")
  return new_service(id, name, settings)
end

function M.obs_service_update(s, settings)
  check(s and s.kind == "service" and settings and settings.kind == "data", "obs_service_update(service, data)")
  for k, v in pairs(settings.values) do s.settings[k] = v end
end

function M.obs_service_release(s) release(s, "service") end

function M.obs_frontend_set_streaming_service(s)
  check(s and s.kind == "service", "obs_frontend_set_streaming_service(service)")
  s.refs = s.refs + 1 -- the frontend keeps its own reference
  host.service = s
end

function M.obs_frontend_save_streaming_service() host.saved = host.saved + 1 end

return setmetatable(M, {
  __index = function(_, name) error("obslua stand-in: " .. tostring(name) .. " is not modelled", 2) end,
})
