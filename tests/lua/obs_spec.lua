-- scripts/obs/ivs-obs.lua, the OBS Studio script, driven under LuaJIT (OBS's Lua) by
-- helpers/obs_host.lua with a stand-in obslua module, against a real ivs-emulator. The host
-- runs in a subprocess so the script's AWS profile comes from a credentials file of its own.
local compat = require("helpers.compat")
local emulator = require("helpers.emulator")
local cjson = require("cjson")

local ROOT = os.getenv("IVS_ROOT") or "."
local BUILD = os.getenv("IVS_BUILD") or (ROOT .. "/build")
local q = emulator.shell_quote

describe("the OBS Studio script", function()
  local emu, dir, record

  local function step(label)
    for _, s in ipairs(record.steps) do
      if s.label == label then return s end
    end
    error("no step " .. label)
  end

  setup(function()
    -- OBS embeds LuaJIT: the script is tried there whatever Lua runs this spec (one run is
    -- enough; the others would repeat it).
    if compat.LUA ~= "luajit" then return end
    if not compat.execute("command -v luajit >/dev/null 2>&1") then return end
    emu = emulator.start()
    local out = compat.popen_read("mktemp -d")
    dir = out:gsub("%s+$", "")
    local f = assert(io.open(dir .. "/credentials", "w"))
    f:write("[obs]\naws_access_key_id = ", emu.access_key_id, "\naws_secret_access_key = ",
      emu.secret_access_key, "\n")
    f:close()
    local cmd = string.format("env -u AWS_ENDPOINT_URL_IVS -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY " ..
      "AWS_SHARED_CREDENTIALS_FILE=%s AWS_CONFIG_FILE=/nonexistent LUA_PATH=%s LUA_CPATH=%s " ..
      "timeout 120 luajit %s %s %s %s 2>&1",
      q(dir .. "/credentials"), q(ROOT .. "/lua_binding/?.lua;;"), q(BUILD .. "/luajit/?.so;;"),
      q(ROOT .. "/tests/lua/helpers/obs_host.lua"), q(ROOT), q(emu.url), q(emu.region))
    local text, ok = compat.popen_read(cmd)
    assert(ok, text)
    record = cjson.decode(text:match("[^\n]*\n?$"))
  end)

  teardown(function()
    emulator.stop_all()
    if dir then os.execute("rm -rf " .. q(dir)) end
  end)

  -- Under the other interpreters every test is reported as skipped.
  local function skipped()
    if record then return false end
    pending("runs once, under luajit (the Lua OBS embeds)")
    return true
  end

  it("shows the properties and runs its work from an OBS timer", function()
    if skipped() then return end
    assert.same({ "text:channel_name", "text:profile", "text:region", "text:endpoint", "button:set_up",
      "text:status", "text:playback_url", "text:stream_status" }, record.properties)
    assert.equal(1, record.timers_after_load)
    assert.equal(0, record.timers_after_unload)
    -- No callback waits on the network: each timer run and each button press is quick.
    assert.is_true(record.slowest_timer_seconds < 0.5, "a timer callback took " .. record.slowest_timer_seconds)
    assert.equal(0, record.over_released)
  end)

  it("asks for a channel name before doing anything", function()
    if skipped() then return end
    local s = step("no name")
    assert.matches("channel name", s.status)
    assert.equal("rtmp_common", s.service.id)
  end)

  it("creates the channel and points OBS's custom stream service at it", function()
    if skipped() then return end
    local s = step("create")
    assert.is_true(s.done, s.status)
    assert.is_true(s.refresh)
    assert.is_true(s.press_seconds < 0.5)
    -- The press only starts the lookup; the answer arrives through the timer.
    assert.matches("^looking for channel 'obs%-lobby'", s.right_after)
    assert.matches("^ready: OBS streams to channel 'obs%-lobby'", s.status)
    assert.equal("rtmp_custom", s.service.id)
    assert.matches("^rtmps://[%w.-]+:443/app/$", s.service.server)
    assert.equal(1, s.service.key:find("sk_" .. emu.region .. "_", 1, true))
    assert.is_true(s.saved >= 1)
    assert.matches("^https://.+%.m3u8$", s.playback_url)
  end)

  it("shows state, health and viewers while streaming, and a channel not yet broadcasting", function()
    if skipped() then return end
    assert.is_true(step("not broadcasting").done)
    assert.matches("not broadcasting", step("not broadcasting").stream_status)
    local live = step("live")
    assert.is_true(live.done, live.stream_status)
    assert.equal("LIVE, HEALTHY, 7 viewers", live.stream_status)
    assert.equal("LIVE, STARVING, 3 viewers", step("starving").stream_status)
    assert.equal("not streaming", step("stopped").stream_status)
  end)

  it("finds the channel by name when pressed again, with the same key", function()
    if skipped() then return end
    local s = step("find")
    assert.is_true(s.done, s.status)
    assert.equal(step("create").service.key, s.service.key)
    assert.equal(step("create").playback_url, s.playback_url)
    assert.equal(1, record.channel_count)
  end)

  it("shows errors in the status and the log, and never the stream key", function()
    if skipped() then return end
    local s = step("unreachable")
    assert.is_true(s.done, s.status)
    assert.matches("^list_channels: ", s.status)
    local key = step("create").service.key
    local warned = false
    for _, l in ipairs(record.logs) do
      assert.is_nil(l.message:find(key, 1, true), "stream key in the log: " .. l.message)
      if l.message:find("list_channels: ", 1, true) then warned = true end
    end
    assert.is_true(warned, "the failure is not in the script log")
    for _, st in ipairs(record.steps) do
      for _, field in ipairs({ "status", "playback_url", "stream_status" }) do
        assert.is_nil(st[field]:find(key, 1, true), "stream key shown in " .. field)
      end
    end
  end)
end)
