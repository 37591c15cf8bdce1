-- Cold start: require("ivs") builds only what a one-shot script needs. The tables of a
-- service (core.services[name], its operations, op_by_name and client methods) are made when
-- the service is first used; what is built later is the same as what was built at load before.
local F = require("helpers.fixtures")

-- A fresh copy of the module in this Lua state (luaopen runs again), restored afterwards.
local function fresh()
  local saved = {}
  for _, name in ipairs({ "ivs", "ivs.core", "ivs.chat", "ivs.realtime" }) do
    saved[name] = package.loaded[name]
    package.loaded[name] = nil
  end
  local ivs = require("ivs")
  local core = require("ivs.core")
  local function restore()
    for name in pairs(saved) do package.loaded[name] = saved[name] end
  end
  return ivs, core, restore
end

describe("cold start", function()
  it("builds the default service at load and the others when first used", function()
    local ivs, core, restore = fresh()
    finally(restore)
    assert.is_table(rawget(core.services, "ivs"))
    assert.equal(rawget(core.services, "ivs").operations, core.operations)
    assert.is_nil(rawget(core.services, "ivschat"))
    assert.is_nil(rawget(core.services, "ivs-realtime"))
    assert.same({ "ivs", "ivs-realtime", "ivschat" }, ivs.services())

    local chat = core.services.ivschat
    assert.equal(chat, rawget(core.services, "ivschat")) -- built once, then kept
    assert.equal("ivschat", chat.name)
    assert.equal(17, #chat.operations)
    assert.equal("create_chat_token", chat.operations[1].snake_name)
    assert.equal(39, #core.services["ivs-realtime"].operations)
    for _, bad in ipairs({ "nope", "IVS", 1, true }) do assert.is_nil(core.services[bad]) end
    assert.is_nil(rawget(core.services, "nope"))

    local c = F.client(ivs.service_module("ivschat"), "http://127.0.0.1:9")
    finally(function() c:close() end)
    assert.is_function(c.create_room)
    assert.is_nil(c.create_channel) -- a chat client has the chat operations only
    assert.has_error(function() ivs.service_module("nope") end)
  end)
end)
