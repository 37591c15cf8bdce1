-- scripts/examples/love/main.lua, the LÖVE example, under LuaJIT (what LÖVE embeds) with a
-- stand-in `love` table (helpers/love_host.lua), against a real ivs-emulator.
local compat = require("helpers.compat")
local emulator = require("helpers.emulator")
local admin_helper = require("helpers.admin")
local cjson = require("cjson")
local ivs = require("ivs")

local ROOT = os.getenv("IVS_ROOT") or "."
local BUILD = os.getenv("IVS_BUILD") or (ROOT .. "/build")
local q = emulator.shell_quote

describe("the LÖVE example", function()
  local emu, admin, client, channel

  local function frames(pattern, max)
    local cmd = string.format("%s IVS_CHANNEL_ARN=%s LUA_PATH=%s LUA_CPATH=%s timeout 60 luajit %s %s %s %d 2>&1",
      emu:env(), q(channel.arn), q(ROOT .. "/lua_binding/?.lua;;"), q(BUILD .. "/luajit/?.so;;"),
      q(ROOT .. "/tests/lua/helpers/love_host.lua"), q(ROOT), q(pattern), max)
    local text, ok = compat.popen_read(cmd)
    assert(ok, text)
    return cjson.decode(text:match("[^\n]*\n?$"))
  end

  local function skipped()
    if channel then return false end
    pending("runs once, under luajit (the Lua LÖVE embeds)")
    return true
  end

  setup(function()
    if compat.LUA ~= "luajit" then return end
    emu = emulator.start()
    admin = admin_helper.new(emu)
    client = assert(ivs.new{ endpoint = emu.url, region = emu.region, credentials = emu.credentials })
    channel = assert(client:create_channel{ name = "love-lobby" }).channel
  end)

  teardown(function()
    if client then client:close() end
    emulator.stop_all()
  end)

  it("shows an offline channel, then the live stream, without a slow frame", function()
    if skipped() then return end
    local r = frames("offline", 600)
    assert.equal("IVS stream: offline", r.matched)
    -- The first frame is drawn before any answer: the request runs behind the game loop.
    assert.equal("IVS stream: starting", r.texts[1])
    assert.is_true(r.frames > 1)
    assert.is_true(r.slowest_update < 0.1, "a frame's update took " .. r.slowest_update .. " s")

    admin:start_stream{ channelArn = channel.arn, viewerCount = 4 }
    r = frames("LIVE", 600)
    assert.equal("IVS stream: LIVE, HEALTHY, 4 viewers", r.matched)
    assert.is_true(r.slowest_update < 0.1, "a frame's update took " .. r.slowest_update .. " s")
  end)

  it("says what is missing without a channel to watch", function()
    if skipped() then return end
    local saved = channel.arn
    channel.arn = ""
    local r = frames("IVS_CHANNEL_ARN", 3)
    channel.arn = saved
    assert.equal("IVS stream: set IVS_CHANNEL_ARN to the channel to watch", r.matched)
  end)
end)
