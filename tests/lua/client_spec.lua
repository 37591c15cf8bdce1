-- The module surface: options (R-SDK shapes), client lifetime, tostring, introspection.
local capture = require("helpers.capture")
local F = require("helpers.fixtures")
local ivs = require("ivs")

local function ivs_core_options() return require("ivs.core").options end
local CREDS = { creds = { access_key_id = F.AKID, secret_access_key = F.SECRET, session_token = F.TOKEN } }

describe("module", function()
  it("returns a table, sets no globals and carries its version", function()
    assert.is_table(ivs)
    assert.is_nil(rawget(_G, "ivs"))
    assert.matches("^%d+%.%d+%.%d+$", ivs.VERSION)
    assert.equal("ivs " .. ivs.VERSION, ivs._VERSION)
    assert.equal("2020-07-14", ivs.API_VERSION)
    assert.same(ivs, package.loaded.ivs)
  end)

  it("lists the 41 operations sorted, snake_case, unique", function()
    local ops = ivs.operations()
    assert.equal(41, #ops)
    for i, name in ipairs(ops) do
      assert.matches("^[a-z][a-z_]*[a-z]$", name)
      if i > 1 then assert.is_true(ops[i - 1] < name) end
    end
    assert.equal("batch_get_channel", ops[1])
    assert.equal("update_playback_restriction_policy", ops[41])
  end)

  it("generates one client method and one module function per operation", function()
    local c = assert(ivs.new{ region = "us-west-2", endpoint = "http://127.0.0.1:9" })
    for _, name in ipairs(ivs.operations()) do
      assert.is_function(c[name], name)
      assert.is_function(ivs[name], name)
    end
    c:close()
  end)

  it("describes an operation from the model", function()
    local d = ivs.describe("create_channel")
    assert.equal("CreateChannel", d.name)
    assert.equal("POST", d.method)
    assert.equal("/CreateChannel", d.uri)
    local byname = {}
    for _, p in ipairs(d.params) do byname[p.name] = p end
    assert.same({ "NORMAL", "LOW" }, byname.latencyMode.enum)
    assert.equal("string", byname.name.type)
    assert.equal(0, byname.name.min)
    assert.equal(128, byname.name.max)
    assert.equal("[a-zA-Z0-9-_]*", byname.name.pattern)
    assert.is_false(byname.name.required)
    assert.equal("body", byname.name.location)
    assert.equal("map", byname.tags.type)
    assert.equal("string", byname.tags.key.type)
    assert.equal(128, byname.tags.key.max)
    assert.equal(256, byname.tags.value.max)
    assert.equal(50, byname.tags.max)
    assert.equal("boolean", byname.authorized.type)
    local mt = byname.multitrackInputConfiguration
    assert.equal("structure", mt.type)
    assert.equal("enabled", mt.members[1].name)

    local u = ivs.describe("UntagResource")
    assert.equal("DELETE", u.method)
    local arn, keys = u.params[1], u.params[2]
    assert.equal("resourceArn", arn.name)
    assert.equal("uri", arn.location)
    assert.is_true(arn.required)
    assert.equal("tagKeys", keys.name)
    assert.equal("querystring", keys.location)
    assert.equal("list", keys.type)
    assert.equal("string", keys.element.type)

    local l = ivs.describe("list_stream_sessions")
    assert.is_true(l.paginated)
    assert.equal("streamSessions", l.result_key)
    local out = {}
    for _, m in ipairs(l.output) do out[m.name] = m end
    assert.equal("list", out.streamSessions.type)
    assert.equal("timestamp", out.streamSessions.element.members[2].type)
  end)

  it("raises on an unknown operation in describe, with a suggestion", function()
    assert.has_error(function() ivs.describe("create_chanel") end,
      "bad argument #1 to 'describe' (unknown operation 'create_chanel' (did you mean 'create_channel'?))")
    assert.has_error(function() ivs.describe(42) end)
  end)
end)

describe("client options", function()
  after_each(capture.finish_all)

  local function roundtrip(make)
    local srv = capture.start({ { body = { channel = F.channel } } })
    local c = assert(make(srv.url))
    local out = assert(c:get_channel{ arn = F.CHANNEL_ARN })
    c:close()
    local reqs = srv:finish()
    assert.equal(F.CHANNEL_ARN, out.channel.arn)
    return reqs[1]
  end

  it("accepts the R SDK's config table", function()
    local r = roundtrip(function(url)
      return ivs.new{ config = { credentials = CREDS, endpoint = url, region = "us-west-2", close_connection = true,
        timeout = 5, s3_force_path_style = false } }
    end)
    assert.matches("/us%-west%-2/ivs/aws4_request", r.header("authorization"))
  end)

  it("accepts the top-level shorthand and the module call form", function()
    local r = roundtrip(function(url)
      return ivs{ region = "eu-west-1", endpoint = url, credentials = CREDS, max_attempts = 2, retry_mode = "standard",
        connect_timeout = 2, app_id = "lobby-tool" }
    end)
    assert.matches("/eu%-west%-1/ivs/aws4_request", r.header("authorization"))
    assert.matches("lobby%-tool", r.header("user-agent"))
  end)

  it("omits the security token header without a session token", function()
    local r = roundtrip(function(url)
      return ivs.new{ region = "us-west-2", endpoint = url,
        credentials = { creds = { access_key_id = F.AKID, secret_access_key = F.SECRET } } }
    end)
    assert.is_nil(r.header("x-amz-security-token"))
    assert.is_nil(r.header("authorization"):find("x-amz-security-token", 1, true))
  end)

  it("sends unsigned requests for anonymous credentials", function()
    local r = roundtrip(function(url)
      return ivs.new{ region = "us-west-2", endpoint = url, credentials = { anonymous = true } }
    end)
    assert.is_nil(r.header("authorization"))
  end)

  it("reports the resolved region and endpoint", function()
    local c = assert(ivs.new{ region = "ap-northeast-2", credentials = CREDS })
    assert.equal("ap-northeast-2", c:region())
    assert.equal("https://ivs.ap-northeast-2.amazonaws.com", c:endpoint())
    c:close()
  end)

  it("raises on an unknown option, naming the closest valid one", function()
    assert.has_error(function() ivs.new{ regoin = "us-west-2" } end,
      "ivs: unknown option 'regoin' (did you mean 'region'?)")
    assert.has_error(function() ivs.new{ config = { endpont = "http://x" } } end,
      "ivs: unknown option 'config.endpont' (did you mean 'config.endpoint'?)")
    assert.has_error(function() ivs{ credentials = { cred = {} } } end,
      "ivs: unknown option 'credentials.cred' (did you mean 'credentials.creds'?)")
    assert.has_error(function() ivs{ credentials = { creds = { secret_key = "x" } } } end,
      "ivs: unknown option 'credentials.creds.secret_key' (did you mean 'credentials.creds.secret_access_key'?)")
  end)

  it("raises on options of the wrong type, naming the option", function()
    local cases = {
      { { region = 5 }, "option 'region' must be a string, got number" },
      { { timeout = "10" }, "option 'timeout' must be a positive number, got string" },
      { { timeout = -1 }, "option 'timeout' must be a positive number" },
      { { max_attempts = 2.5 }, "option 'max_attempts' must be an integer from 1 to 100, got 2.5" },
      { { close_connection = "yes" }, "option 'close_connection' must be a boolean" },
      { { log = "stderr" }, "option 'log' must be a function or a boolean" },
      { { config = "us-west-2" }, "option 'config' must be a table" },
      { { credentials = "AKID" }, "option 'credentials' must be a table" },
      { { config = { use_fips_endpoint = 1 } }, "option 'config.use_fips_endpoint' must be a boolean" },
    }
    for _, c in ipairs(cases) do
      local ok, msg = pcall(ivs.new, c[1])
      assert.is_false(ok)
      assert.is_truthy(tostring(msg):find(c[2], 1, true), tostring(msg))
    end
    assert.has_error(function() ivs.new("us-west-2") end,
      "bad argument #1 to 'new' (table of options expected, got string)")
    assert.has_error(function() ivs.new{ region = "us-west-2", config = { region = "eu-west-1" } } end)
    assert.has_error(function() ivs.new{ credentials = { creds = { access_key_id = F.AKID } } } end)
  end)

  it("checks every option against the binding's one option table, blaming the caller", function()
    -- The C binding and ivs.lua read the same table (core.options): a value passes both or
    -- neither, and the error points at the line that called ivs.new, not inside ivs.lua.
    assert.same({ type = "integer+", min = 1, max = 100, doc = ivs_core_options().max_attempts.doc },
      ivs_core_options().max_attempts)
    for _, c in ipairs({ { "max_attempts", 101 }, { "max_attempts", 0 }, { "max_connections", 10001 } }) do
      local spec = ivs_core_options()[c[1]]
      local ok, msg = pcall(function()
        local client = ivs.new{ region = "us-west-2", [c[1]] = c[2] } -- not a tail call: this line is blamed
        return client
      end)
      assert.is_false(ok)
      assert.matches("client_spec%.lua:%d+: ivs: option '" .. c[1] .. "' must be an integer from "
        .. spec.min .. " to " .. spec.max .. ", got " .. c[2], msg)
      -- The binding's own check says the same about the same value.
      ok, msg = pcall(require("ivs.core").new_client, { region = "us-west-2", [c[1]] = c[2] })
      assert.is_false(ok)
      assert.matches("option '" .. c[1] .. "' must be an integer from " .. spec.min .. " to " .. spec.max, msg)
    end
    local c = ivs.new{ region = "us-west-2", credentials = CREDS, max_attempts = 100 }
    c:close()
    -- An option ivs.new accepts is a row of the table: the unknown-option check reads it too.
    assert.has_error(function() ivs.new{ max_attempt = 3 } end,
      "ivs: unknown option 'max_attempt' (did you mean 'max_attempts'?)")
  end)

  it("accepts and refuses each ranged option where the C library does", function()
    -- The same cases as tests/c/test_client.c's test_option_ranges_follow_the_table, from the
    -- same table (core/src/options.c): below min and above max fail, min and max pass, in
    -- ivs.new, in the binding and in ivs_client_new alike, each error naming the option.
    local core = require("ivs.core")
    local ranged = 0
    for name, spec in pairs(ivs_core_options()) do
      if spec.max then
        ranged = ranged + 1
        local lo = spec.min or 0.5
        for _, c in ipairs({ { -1, false }, { lo, true }, { spec.max, true }, { spec.max + 1, false } }) do
          local value, ok_expected = c[1], c[2]
          local ok, client = pcall(ivs.new, { region = "us-west-2", credentials = CREDS, [name] = value })
          assert.equal(ok_expected, ok and client ~= nil, name .. " = " .. value .. ": " .. tostring(client))
          if ok and client then client:close() end
          if not ok_expected then
            assert.matches("ivs: option '" .. name .. "' must be", client)
          end
          local bok, bclient = pcall(core.new_client, { region = "us-west-2", anonymous = true, [name] = value })
          assert.equal(ok_expected, bok and bclient ~= nil, name .. " = " .. value .. ": " .. tostring(bclient))
          if bok and bclient then bclient:close() end
          if not ok_expected then assert.matches("option '" .. name .. "' must be", bclient) end
        end
      end
    end
    assert.is_true(ranged >= 4) -- max_attempts, max_connections, timeout, connect_timeout
  end)

  it("returns nil, err with code NoRegion when no region is found", function()
    local c, err = ivs.new{ credentials = CREDS }
    assert.is_nil(c)
    assert.equal(ivs.Error, getmetatable(err))
    assert.equal("config", err.kind)
    assert.equal("NoRegion", err.code)
    assert.equal(0, err.attempts)
    assert.is_true(ivs.is_error(err))
    assert.is_false(ivs.is_error({ code = "NoRegion" }))
  end)
end)

describe("client lifetime", function()
  it("closes idempotently and raises when used after close", function()
    local c = assert(ivs.new{ region = "us-west-2", credentials = CREDS })
    assert.is_false(c:is_closed())
    c:close()
    c:close()
    assert.is_true(c:is_closed())
    assert.has_error(function() c:get_channel{ arn = F.CHANNEL_ARN } end, "attempt to use a closed ivs.Client")
    assert.has_error(function() c:call("GetChannel", {}) end, "attempt to use a closed ivs.Client")
    assert.has_error(function() c:region() end, "attempt to use a closed ivs.Client")
  end)

  it("closes at the end of a <close> scope", function()
    -- <close> is Lua 5.4 syntax: compiled at run time so the spec loads on every Lua.
    local load_string = loadstring or load -- luacheck: ignore 113 (5.1's loadstring)
    local scope = load_string([[
      local ivs, opts = ...
      local outer
      do
        local c <close> = assert(ivs.new(opts))
        outer = c
        assert(not c:is_closed(), "closed too early")
      end
      return outer
    ]])
    if not scope then
      pending("<close> is Lua 5.4 syntax")
      return
    end
    assert.is_true(scope(ivs, { region = "us-west-2", credentials = CREDS }):is_closed())
  end)

  it("is collected without being closed", function()
    for _ = 1, 20 do assert(ivs.new{ region = "us-west-2", credentials = CREDS }) end
    collectgarbage()
    collectgarbage()
  end)

  it("never shows a secret in tostring", function()
    local c = assert(ivs.new{ region = "us-west-2", credentials = CREDS })
    local s = tostring(c)
    assert.matches("^ivs%.Client %(0x%x+%)$", s)
    assert.is_nil(s:find(F.SECRET, 1, true))
    assert.is_nil(s:find(F.TOKEN, 1, true))
    assert.is_nil(s:find(F.AKID, 1, true))
    c:close()
    assert.matches("^ivs%.Client %(0x%x+%) closed$", tostring(c))
    assert.is_true(ivs.is_client(c))
    assert.is_false(ivs.is_client({}))
  end)

  it("raises on misuse of methods, naming the argument", function()
    local c = assert(ivs.new{ region = "us-west-2", credentials = CREDS })
    finally(function() c:close() end)
    assert.has_error(function() c:create_channel("lobby") end,
      "bad argument #1 to 'create_channel' (table of parameters expected, got string)")
    assert.has_error(function() c.create_channel{ name = "x" } end,
      "bad argument #1 to 'create_channel' (ivs.Client expected, got table; use client:create_channel{...})")
    assert.has_error(function() c:call("CreateChanel", {}) end,
      "bad argument #1 to 'call' (unknown operation 'CreateChanel' (did you mean 'CreateChannel'?))")
    assert.has_error(function() c:call("create_channel", 5) end,
      "bad argument #2 to 'call' (table of parameters expected, got number)")
    assert.has_error(function() ivs.create_channel(5) end,
      "bad argument #1 to 'create_channel' (table of parameters expected, got number)")
    assert.has_error(function() c:pages("get_channel") end,
      "bad argument #1 to 'pages' (get_channel is not paginated)")
    assert.has_error(function() c:items("list_chanels") end,
      "bad argument #1 to 'items' (unknown operation 'list_chanels'; did you mean 'list_channels'?)")
  end)
end)

-- A blocking call reads the response text straight into Lua values (no cJSON tree): it must
-- give what the tree gave for every kind of JSON value.
describe("operation names", function()
  after_each(capture.finish_all)

  it("sends each call to the operation it names, API or snake name, after any other", function()
    -- The binding remembers the operation a client called last: every name must still reach
    -- its own operation, and an unknown name must still raise after a known one.
    local names = { "GetChannel", "GetChannel", "get_stream_key", "GetChannel", "ListChannels",
      "list_channels", "ListChannels", "GetStreamKey" }
    local want = { "/GetChannel", "/GetChannel", "/GetStreamKey", "/GetChannel", "/ListChannels",
      "/ListChannels", "/ListChannels", "/GetStreamKey" }
    local responses = {}
    for i = 1, #names do responses[i] = { body = "{}" } end
    local srv = capture.start(responses)
    local c = F.client(ivs, srv.url)
    for _, name in ipairs(names) do
      local lower = name:lower()
      local params = lower:find("list") and {} or
        { arn = lower:find("stream") and F.STREAM_KEY_ARN or F.CHANNEL_ARN }
      assert(c:call(name, params))
      assert.has_error(function() c:call("GetChannelX", {}) end,
        "bad argument #1 to 'call' (unknown operation 'GetChannelX' (did you mean 'GetChannel'?))")
    end
    c:close()
    local sent = srv:finish()
    assert.equal(#want, #sent)
    for i, r in ipairs(sent) do assert.equal(want[i], r.path, names[i]) end
  end)
end)

describe("response reading", function()
  after_each(capture.finish_all)

  local function call_with(body)
    local srv = capture.start({ { body = body } })
    local c = assert(ivs.new{ region = "us-west-2", endpoint = srv.url, credentials = CREDS, max_attempts = 1 })
    local out, err = c:get_channel{ arn = F.CHANNEL_ARN }
    c:close()
    srv:finish()
    return out, err
  end

  it("unescapes strings, drops nulls and keeps unknown members", function()
    local out = assert(call_with(' { "channel" : { "arn" : "' .. F.CHANNEL_ARN .. '",\n' ..
      '"name": "a\\"b\\\\c\\/\\u00e9\\ud83d\\ude00\\n\\t\\u0041", "latencyMode": null,\n' ..
      '"tags": { "k": null, "e": "", "u": "\195\169" }, "authorized": false, "insecureIngest": true,\n' ..
      '"extra": [1, null, -2.5e1, {"x": null, "y": [[], {}]}, "s"] } }\r\n'))
    local ch = out.channel
    assert.equal(F.CHANNEL_ARN, ch.arn)
    assert.equal('a"b\\c/\195\169\240\159\152\128\n\tA', ch.name)
    assert.is_nil(ch.latencyMode)
    assert.same({ e = "", u = "\195\169" }, ch.tags)
    assert.equal(false, ch.authorized)
    assert.equal(true, ch.insecureIngest)
    assert.same({ 1, -25, { y = { {}, {} } }, "s" }, ch.extra)
    if math.type then
      assert.equal("integer", math.type(ch.extra[1]))
      assert.equal("integer", math.type(ch.extra[2]))
    end
  end)

  -- The same body read by a blocking call (straight from the text) and by a non-blocking one
  -- (through a cJSON tree): the values, their Lua types (integer or float) and their signs
  -- must agree exactly.
  local function describe_value(v)
    if type(v) == "number" then
      local kind = math.type and math.type(v) or "number"
      -- 1/v tells -0 from 0 where the value is a float.
      return kind .. ":" .. string.format("%.17g", v) .. ((v == 0 and 1 / v < 0) and ":neg" or "")
    elseif type(v) ~= "table" then
      return type(v) .. ":" .. tostring(v)
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. describe_value(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end

  local function both_ways(mod, op, params, body)
    local srv = capture.start({ { body = body }, { body = body } })
    local c = F.client(mod, srv.url)
    local blocking = assert(c[op](c, params))
    local call = assert(c:start(op, params))
    local deadline = os.time() + 10
    while not call:done() and os.time() < deadline do c:poll(50) end
    local async = assert(call:result())
    c:close()
    srv:finish()
    return describe_value(blocking), describe_value(async)
  end

  it("reads numbers, keys and strings as the tree reader does", function()
    local numbers = { "0", "-0", "7", "-7", "123456789012345", "-123456789012345",
      "1234567890123456", "9007199254740993", "12345678901234567890", "1e3", "1E+2", "-2.5e-1",
      "0.1", "1.0", "-0.0", "100000000000000000000000", "9223372036854775807",
      "-9223372036854775808", "9223372036854775808", "1e400", "-1e400", "5e-324" }
    local list = "[" .. table.concat(numbers, ",") .. "]"
    -- Keys out of the model's order, an unknown key that starts like a member, and strings
    -- with escapes and stop bytes at every offset of an eight-byte word.
    local strings = {}
    for i = 0, 17 do
      strings[#strings + 1] = '"' .. string.rep("a", i) .. '\\"' .. string.rep("b", 17 - i) .. '"'
      strings[#strings + 1] = '"' .. string.rep("c", i) .. '\\u00e9' .. string.rep("d", i) .. '"'
    end
    local body = '{"channel":{"tags":{"z":"1","a":"2"},"name":"n","arnx":1,"arn":"' .. F.CHANNEL_ARN ..
      '","extra":' .. list .. ',"strings":[' .. table.concat(strings, ",") .. ']}}'
    local a, b = both_ways(ivs, "get_channel", { arn = F.CHANNEL_ARN }, body)
    assert.equal(b, a)
    assert.matches("arnx=integer:1", a:gsub("number:", "integer:"), 1, true)
    -- A float member (realtime's framerate): integral values stay floats, signs stay.
    local rt = require("ivs.realtime")
    local arn = "arn:aws:ivs:us-west-2:123456789012:encoder-configuration/AbCdEf123456"
    for _, n in ipairs(numbers) do
      local a2, b2 = both_ways(rt, "get_encoder_configuration", { arn = arn },
        '{"encoderConfiguration":{"arn":"' .. arn .. '","video":{"framerate":' .. n .. ',"bitrate":' .. n .. '}}}')
      assert.equal(b2, a2)
    end
    -- Keys with escapes name their members too.
    local a3, b3 = both_ways(rt, "get_encoder_configuration", { arn = arn },
      '{"encoderConfiguration":{"video":{"bitrat\\u0065":30,"fr\\u0061merate":30}}}')
    assert.equal(b3, a3)
    if math.type then
      assert.matches("framerate=float:30", a3, 1, true)
      -- A key with a NUL names the member before it (as a C string would), so it is typed
      -- as that member.
      local srv = capture.start({ { body = '{"encoderConfiguration":{"video":{"framerate\\u0000x":30}}}' } })
      local c = F.client(rt, srv.url)
      local out = assert(c:get_encoder_configuration{ arn = arn })
      c:close()
      srv:finish()
      assert.equal("float", math.type(out.encoderConfiguration.video["framerate\0x"]))
    end
  end)

  it("gives an empty table for an empty body and an error for a malformed one", function()
    assert.same({}, assert(call_with("")))
    for _, bad in ipairs{ '{"channel":', '[]', '{"a":1}x', '{"a":"\\q"}' } do
      local out, err = call_with(bad)
      assert.is_nil(out)
      assert.equal("InvalidResponse", err.code)
    end
  end)
end)
