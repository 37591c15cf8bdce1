-- What has to hold the same on every Lua the suite runs under (5.1, LuaJIT, 5.2, 5.3, 5.4):
-- integers without native integers, the 2^53 limit of doubles, type names on metatables.
-- No server: a validation error comes back before anything is sent, and the endpoint given is
-- one where nothing listens.
local compat = require("helpers.compat")
local F = require("helpers.fixtures")
local ivs = require("ivs")

local CREDS = { creds = { access_key_id = F.AKID, secret_access_key = F.SECRET } }

local jit = rawget(_G, "jit") -- LuaJIT's

describe("on " .. _VERSION .. (jit and (" (" .. jit.version .. ")") or ""), function()
  local client

  before_each(function()
    client = assert(ivs.new{ region = "us-west-2", endpoint = "http://127.0.0.1:9", credentials = CREDS,
      max_attempts = 1, connect_timeout = 2 })
  end)

  after_each(function()
    if client then client:close() end
  end)

  it("loads the module built for this interpreter", function()
    local found = package.searchpath and package.searchpath("ivs.core", package.cpath)
    if found then
      local want = compat.LUA == "lua5.4" and "/lua/ivs/core.so" or ("/" .. compat.LUA .. "/ivs/core.so")
      assert.is_truthy(found:find(want, 1, true), found)
    end
    assert.equal(41, #ivs.operations())
  end)

  it("checks integer parameters as integers", function()
    local _, err = client:list_channels{ maxResults = 1.5 }
    assert.equal("validation", err.kind)
    assert.matches("maxResults", err.message)
    -- An integral number is an integer everywhere: the call gets past validation and fails
    -- only on the network.
    _, err = client:list_channels{ maxResults = 5 }
    assert.equal("network", err.kind)
    _, err = client:list_channels{ maxResults = 5.0 }
    assert.equal("network", err.kind)
  end)

  it("gives integers back that print without .0", function()
    local v = assert(ivs.json.decode('{"n": 5, "big": 1700000000, "f": 1.5}'))
    assert.equal("5", tostring(v.n))
    assert.equal("1700000000", tostring(v.big))
    assert.equal("1.5", tostring(v.f))
    assert.equal('{"big":1700000000,"f":1.5,"n":5}', ivs.json.encode(v))
    assert.equal("integer", compat.math_type(v.n))
  end)

  it("has math.tointeger as ivs.tointeger", function()
    assert.equal(3, ivs.tointeger(3))
    assert.equal(3, ivs.tointeger(3.0))
    assert.is_nil(ivs.tointeger(1.5))
    assert.is_nil(ivs.tointeger("3"))
    assert.is_nil(ivs.tointeger(0 / 0))
    assert.equal(2 ^ 53 - 1, ivs.tointeger(2 ^ 53 - 1))
  end)

  it("refuses integer options past 2^53 where a double would have rounded them", function()
    local opts = { private_key = "x", channel_arn = "arn:aws:ivs:us-west-2:123456789012:channel/abc",
      expires_at = 2 ^ 60 }
    local ok, msg = pcall(ivs.playback_token, opts)
    assert.is_false(ok)
    if compat.HAS_INTEGERS then
      -- 2^60 is a float here (2 ^ n always is); the integer 1 << 60 would be exact.
      assert.matches("must be an integer, got a float", msg)
    else
      assert.matches("must be an integer, got a number beyond 2^53 (a double cannot hold it exactly in "
        .. _VERSION .. ")", msg, 1, true)
    end
    if not compat.HAS_INTEGERS then assert.is_nil(ivs.tointeger(2 ^ 60)) end
  end)

  it("names its types on their metatables", function()
    assert.equal("ivs.Client", getmetatable(client).__name)
    assert.equal("ivs.Client", ivs.Client.__name)
    assert.equal("ivs.Call", ivs.Call.__name)
    assert.matches("^ivs%.Client %(", tostring(client))
  end)

  it("keeps a client alive for the call it started, and cancels it on close", function()
    local call = assert(client:start("get_channel", { arn = F.CHANNEL_ARN }))
    client:close()
    client = nil
    collectgarbage()
    assert.is_true(call:done())
    local _, err = call:result()
    assert.equal("cancelled", err.kind)
  end)
end)
