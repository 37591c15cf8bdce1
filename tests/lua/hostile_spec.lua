-- Hostile Lua values against the C binding: metatables whose __index runs the collector,
-- finalizers that grow or empty the tables being read. Without ASan a bug here may only show
-- as a wrong result (checked below); `make asan` runs this spec with the ASan-built module,
-- where any read of freed memory or write past a block aborts the run.
local core = require("ivs.core")
local compat = require("helpers.compat")

-- A finalizer pending when the binding allocates: in generational mode every young
-- collection ends by calling the pending finalizers, and a large allocation (a key array
-- for thousands of keys) starts one. Returns the finalizer's run count so far.
local function armed(fn)
  local state = { runs = 0 }
  return function()
    setmetatable({}, { __gc = function()
      state.runs = state.runs + 1
      fn(state.runs)
    end })
  end, state
end

local function normal_gc()
  if _VERSION == "Lua 5.4" then collectgarbage("incremental", 200, 100, 13) end
  collectgarbage("collect")
end

local function fresh(prefix, n)
  -- Built at run time (never a constant of this chunk), so the table is its only holder.
  return prefix .. string.rep("x", n) .. tostring({}):sub(-6)
end

describe("hostile finalizers", function()
  after_each(normal_gc)

  it("json_encode survives a finalizer that adds keys while the key array is allocated", function()
    if _VERSION ~= "Lua 5.4" then
      pending("needs Lua 5.4's generational collector to time the finalizer")
      return
    end
    local victim = {}
    for i = 1, 20000 do victim["key" .. i] = i end
    local arm, state = armed(function(run)
      for j = 1, 200 do victim["grown" .. run .. "_" .. j] = j end
    end)
    collectgarbage("generational", 1, 100)
    for _ = 1, 5 do
      arm()
      local ok, text = pcall(core.json_encode, victim)
      -- Either the encoder noticed the table change (an error) or it wrote valid JSON.
      if ok then assert.is_table(core.json_decode(text)) else assert.matches("changed", text) end
    end
    assert.is_true(state.runs > 0, "the finalizer never ran: the test proves nothing")
  end)

  it("sign survives a finalizer that adds headers while the header array is allocated", function()
    if _VERSION ~= "Lua 5.4" then
      pending("needs Lua 5.4's generational collector to time the finalizer")
      return
    end
    local headers = {}
    for i = 1, 20000 do headers["x-h" .. i] = "v" end
    local arm, state = armed(function(run)
      for j = 1, 200 do headers["x-grown-" .. run .. "-" .. j] = "g" end
    end)
    collectgarbage("generational", 1, 100)
    for _ = 1, 5 do
      arm()
      local ok, err = pcall(core.sign, { method = "GET", url = "https://example.amazonaws.com/",
        region = "us-east-1", service = "service", access_key_id = "AKIDEXAMPLE",
        secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", time = 1440938160, headers = headers })
      if not ok then assert.matches("changed", err) end
    end
    assert.is_true(state.runs > 0, "the finalizer never ran: the test proves nothing")
  end)
end)

describe("hostile __index", function()
  after_each(normal_gc)

  it("new_client keeps a string that only __index handed out", function()
    local region = "us-" .. "west-2"
    local opts = setmetatable({}, { __index = function(_, k)
      collectgarbage()
      collectgarbage()
      if k == "region" then return fresh("", 0):sub(1, 0) .. "us-" .. "west-2" end
      if k == "endpoint" then return fresh("http://127.0.0.1:1/", 50) end
      if k == "access_key_id" then return "AKID" .. "EXAMPLE" end
      if k == "secret_access_key" then return fresh("secret", 40) end
    end })
    local c = assert(core.new_client(opts))
    assert.equal(region, c:region())
    assert.matches("^http://127%.0%.0%.1:1/x+", c:endpoint())
    c:close()
  end)

  it("sign keeps a string that a later __index removed from the table", function()
    local function opts()
      return { method = "GET", url = "https://example.amazonaws.com/" .. string.rep("p", 60),
        region = "us-east-1", service = "service", access_key_id = "AKIDEXAMPLE",
        secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" .. string.rep("s", 0) }
    end
    local plain = opts()
    plain.time = 1440938160
    local want = assert(core.sign(plain))
    local hostile = opts()
    setmetatable(hostile, { __index = function(t, k)
      if k == "time" then
        rawset(t, "url", nil)
        rawset(t, "region", nil)
        collectgarbage()
        collectgarbage()
        return 1440938160
      end
    end })
    local got = assert(core.sign(hostile))
    assert.equal(want.Authorization, got.Authorization)
  end)

  it("presign keeps header strings that a later __index removed from the headers table", function()
    local function make()
      local h = {}
      -- Long strings are never interned: each call makes new string objects.
      for i = 1, 20 do h["x-header-name-long-enough-" .. string.rep("x", 30) .. i] = string.rep("v", 60) .. i end
      return h
    end
    local base = { method = "GET", url = "https://example.amazonaws.com/", region = "us-east-1",
      service = "service", access_key_id = "AKIDEXAMPLE",
      secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", time = 1440938160, expires = 300 }
    local headers = make()
    local copy = make()
    local plain = {}
    for k, v in pairs(base) do plain[k] = v end
    plain.headers = copy
    local want = assert(core.presign(plain))
    local hostile = {}
    for k, v in pairs(base) do hostile[k] = v end
    hostile.expires = nil
    hostile.headers = headers
    setmetatable(hostile, { __index = function(t, k)
      if k == "expires" then
        for name in pairs(t.headers) do t.headers[name] = nil end
        collectgarbage()
        collectgarbage()
        return 300
      end
    end })
    headers = nil -- luacheck: ignore 311 (only the table may hold the strings)
    assert.equal(want, assert(core.presign(hostile)))
  end)

  it("playback_token keeps a claim that a later __index removed from the table", function()
    local key = [[
-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDAiLeXW0eJf1/WDyAHGkQPzbsJyZnuWMZWto21+iSR/WtnsQO1m50Iy
I1LvLk3tgAagBwYFK4EEACKhZANiAATFpVYOAhsSEhtd5/C4B5DGnzkNCnkubKs/
iB1jApxEKLeICP7YHN54cHsU+b+y7mSTm++LW5RR7RDPJja9vdmLp/BAtPlA9GWU
q0NnyMifkdABTWQY+35TP/xrn8TQpzo=
-----END EC PRIVATE KEY-----
]]
    local arn = "arn:aws:ivs:us-west-2:123456789012:channel/abcdEFGH1234"
    -- Built at run time, so only the claims table holds it (read before expires_at).
    local claims = { channel_arn = "arn:aws:ivs:us-west-2:123456789012:" .. "channel/abcdEFGH1234" }
    setmetatable(claims, { __index = function(t, k)
      if k == "expires_at" then
        rawset(t, "channel_arn", nil)
        collectgarbage()
        collectgarbage()
        return 1700000300
      end
      if k == "now" then return 1700000000 end
    end })
    local token = assert(core.playback_token(key, claims))
    local payload = token:match("^[^.]+%.([^.]+)%.")
    local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    local bits, out = 0, {}
    local acc = 0
    for i = 1, #payload do
      acc = acc * 64 + (b64:find(payload:sub(i, i), 1, true) - 1)
      bits = bits + 6
      if bits >= 8 then
        bits = bits - 8
        out[#out + 1] = string.char(math.floor(acc / 2 ^ bits))
        acc = acc % 2 ^ bits
      end
    end
    local json = assert(core.json_decode(table.concat(out)))
    assert.equal(arn, json["aws:channel-arn"])
  end)
end)

describe("NUL bytes in options", function()
  it("ivs.new refuses a string option with a NUL byte instead of cutting it short", function()
    local ivs = require("ivs")
    local ok, err = pcall(ivs.new, { region = "us-west-2\0evil", endpoint = "http://127.0.0.1:1",
      credentials = { creds = { access_key_id = "AKIDEXAMPLE", secret_access_key = "secret" } } })
    assert.is_false(ok)
    assert.matches("region.*NUL", tostring(err))
    ok, err = pcall(core.new_client, { region = "us-west-2", endpoint = "http://127.0.0.1:1\0/x" })
    assert.is_false(ok)
    assert.matches("endpoint.*NUL", tostring(err))
  end)
end)

describe("secrets by value", function()
  local capture = require("helpers.capture")
  local ivs = require("ivs")
  after_each(capture.finish_all)

  local SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  local TOKEN = "FwoGZXIvYXdzEBYaDEXAMPLESESSIONTOKENvalue+/=="
  local SIG = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
  local PRIVATE = "-----BEGIN EC PRIVATE KEY-----\nMIGkAgEBBDAiLeXW0eJf1/WDyAHGkQPzbsJyZnuWMZWto21+iSR/\n"
    .. "-----END EC PRIVATE KEY-----\n"

  local function client(url, lines)
    return assert(ivs.new{ region = "us-west-2", endpoint = url, max_attempts = 1,
      credentials = { creds = { access_key_id = "AKIDEXAMPLE", secret_access_key = SECRET, session_token = TOKEN } },
      log = function(line) lines[#lines + 1] = line end })
  end

  local function assert_clean(text, what)
    for _, s in ipairs({ SECRET, TOKEN, SIG, "MIGkAgEBBDAiLeXW0eJf1", "sk_us%-west%-2_AbCdEf" }) do
      assert.is_nil(text:find(s, 1, s:find("%%") == nil), what .. " holds a secret: " .. text)
    end
  end

  it("keeps a service's echo of the request headers out of tostring(err) and the log", function()
    local echo = "you sent X-Amz-Security-Token: " .. TOKEN .. ", Authorization: AWS4-HMAC-SHA256 "
      .. "Credential=AKIDEXAMPLE/20260101/us-west-2/ivs/aws4_request, SignedHeaders=host, Signature=" .. SIG
      .. " and the key " .. SECRET
    local srv = capture.start({ { status = 400, headers = { ["x-amzn-ErrorType"] = "ValidationException" },
      body = { message = echo } } })
    local lines = {}
    local c = client(srv.url, lines)
    local out, err = c:get_channel{ arn = "arn:aws:ivs:us-west-2:123456789012:channel/abcdEFGH1234" }
    srv:finish()
    assert.is_nil(out)
    assert.equal("ValidationException", err.code)
    assert_clean(tostring(err), "tostring(err)")
    assert_clean(err.message, "err.message")
    assert.matches("Credential=AKIDEXAMPLE/20260101", err.message, 1, true)
    assert.is_true(#lines > 0)
    assert_clean(table.concat(lines, "\n"), "the log")
  end)

  it("keeps a stream key passed as an ARN out of the validation error", function()
    local lines = {}
    local c = client("http://127.0.0.1:1", lines)
    local out, err = c:get_channel{ arn = "sk_us-west-2_AbCdEf012345GhIjKlMnOp" }
    assert.is_nil(out)
    assert.equal("validation", err.kind)
    assert_clean(tostring(err), "tostring(err)")
  end)

  it("keeps a private key sent as publicKeyMaterial out of the debug log", function()
    local srv = capture.start({ { status = 200, body = { keyPair = { name = "k" } } } })
    local lines = {}
    local c = client(srv.url, lines)
    assert(c:import_playback_key_pair{ publicKeyMaterial = PRIVATE, name = "k" })
    local reqs = srv:finish()
    assert.matches("MIGkAgEBBDAiLeXW0eJf1", reqs[1].body, 1, true) -- sent as given
    assert_clean(table.concat(lines, "\n"), "the log")
  end)
end)

describe("ivs.json.decode on odd input", function()
  local ivs = require("ivs")

  it("keeps \\u0000 inside a string", function()
    local v = assert(ivs.json.decode('{"a":"x\\u0000y","b":["\\u0000"]}'))
    assert.equal("x\0y", v.a)
    assert.equal("\0", v.b[1])
    assert.equal('{"a":"x\\u0000y"}', ivs.json.encode({ a = v.a }))
  end)

  it("refuses numbers that do not fit a double instead of making them infinite", function()
    for _, text in ipairs({ "1e999", "[-1e999]", '{"n":1' .. string.rep("0", 400) .. "}" }) do
      local v, err = ivs.json.decode(text)
      assert.is_nil(v, text)
      assert.equal("InvalidJSON", err.code)
      assert.matches("too large", err.message)
    end
    assert.equal(1e308, ivs.json.decode("1e308"))
    if compat.HAS_INTEGERS then
      assert.equal(math.maxinteger, ivs.json.decode("9223372036854775807"))
      assert.equal("integer", math.type(ivs.json.decode("-9223372036854775808")))
    end
  end)

  it("reads surrogate pairs and refuses lone ones", function()
    assert.equal("\240\159\152\128", ivs.json.decode('"\\ud83d\\ude00"'))
    assert.is_nil((ivs.json.decode('"\\ud83d"')))
    assert.is_nil((ivs.json.decode('"\\ude00"')))
    assert.is_nil((ivs.json.decode('"a\nb"')))
  end)
end)

describe("odd responses", function()
  local capture = require("helpers.capture")
  local ivs = require("ivs")
  after_each(capture.finish_all)

  local function client(url)
    return assert(ivs.new{ region = "us-west-2", endpoint = url, max_attempts = 1,
      credentials = { creds = { access_key_id = "AKIDEXAMPLE", secret_access_key = "secretsecret" } } })
  end

  local function call_with(body, headers)
    local srv = capture.start({ { status = 200, body = body, headers = headers } })
    local c = client(srv.url)
    local ok, out, err = pcall(c.list_channels, c, {})
    srv:finish()
    c:close()
    assert.is_true(ok, "raised instead of returning nil, err: " .. tostring(out))
    return out, err
  end

  it("returns nil, err for a response nested 65 to 999 levels deep", function()
    for _, depth in ipairs({ 65, 200, 999 }) do
      local body = '{"channels":' .. string.rep("[", depth) .. string.rep("]", depth) .. "}"
      local out, err = call_with(body)
      assert.is_nil(out, depth)
      assert.equal("InvalidResponse", err.code)
      assert.matches("nested more than", err.message)
    end
  end)

  it("refuses a response with too many values before building it", function()
    local out, err = call_with('{"channels":[' .. string.rep("0,", 300000) .. "0]}")
    assert.is_true(out == nil, "the response was accepted") -- (printing it would take minutes)
    assert.equal("ResponseTooLarge", err.code)
  end)

  it("bounds the size of a gzip response after decompression", function()
    local p = io.popen("(printf '{\"channels\":[]'; head -c 20000000 /dev/zero | tr '\\0' ' '; printf '}')"
      .. " | gzip -c 2>/dev/null")
    local gz = p and p:read("*a") or ""
    if p then p:close() end
    if #gz < 1000 or #gz > 200000 then
      pending("gzip is not available")
      return
    end
    local out, err = call_with(gz, { ["Content-Encoding"] = "gzip" })
    assert.is_nil(out)
    assert.equal("ResponseTooLarge", err.code)
    assert.matches("after decompression", err.message)
  end)

  it("raises an ivs error from items() when the result list has the wrong type", function()
    local srv = capture.start({ { status = 200, body = { channels = 42 } } })
    local c = client(srv.url)
    local ok, err = pcall(function() for _ in c:items("list_channels") do end end)
    srv:finish()
    assert.is_false(ok)
    assert.is_true(ivs.is_error(err), tostring(err))
    assert.equal("InvalidResponse", err.code)
    assert.matches("channels", tostring(err))
  end)
end)

describe("did you mean, on huge names", function()
  local ivs = require("ivs")

  it("suggests at once whatever the length of the bad name", function()
    local huge = string.rep("regoin", 11000) -- 64 KiB
    local started = os.clock()
    local ok, err = pcall(ivs.new, { [huge] = "us-west-2" })
    assert.is_false(ok)
    assert.matches("did you mean", err)
    local c = assert(ivs.new{ region = "us-west-2", endpoint = "http://127.0.0.1:1",
      credentials = { creds = { access_key_id = "AKIDEXAMPLE", secret_access_key = "secretsecret" } } })
    ok, err = pcall(c.pages, c, string.rep("list_channelz", 5000))
    assert.is_false(ok)
    assert.matches("did you mean", err)
    ok, err = pcall(ivs.describe, string.rep("x", 1048576))
    assert.is_false(ok)
    assert.matches("did you mean", err)
    c:close()
    assert.is_true(os.clock() - started < 2, "took " .. (os.clock() - started) .. " s")
    assert.equal("region", require("ivs.core").closest("regoin", { "profile", "region", "endpoint" }))
    assert.is_nil(require("ivs.core").closest("x", {}))
  end)
end)

-- A blocking call reuses the client's spare call frame; Lua code that runs during the call (a
-- finalizer, while the response is read into tables) may call the same client, and must get
-- a frame of its own: the outer call is still reading its response text out of its frame.
describe("a call made from a finalizer during a call", function()
  local capture = require("helpers.capture")
  local F = require("helpers.fixtures")
  local ivs = require("ivs")
  after_each(function()
    capture.finish_all()
    normal_gc()
  end)

  it("sends string parameters that Lua code dropped during the call", function()
    -- The first strings of a blocking call are pointed at, not copied (anchored on the
    -- call's stack); the rest are copied. The log function empties the parameters and runs
    -- the collector while the call is on. The parameters' strings are held by nothing else
    -- (what is expected is kept doubled, another string).
    local params = { name = fresh("name-", 40), tags = {} }
    local want = { name = params.name:rep(2), tags = {} }
    for i = 1, 12 do
      params.tags["k" .. i] = fresh("v" .. i .. "-", 30)
      want.tags["k" .. i] = params.tags["k" .. i]:rep(2)
    end
    local srv = capture.start({ { body = { channel = { name = "x" } } } })
    local calling = false
    local c = assert(ivs.new{ region = "us-west-2", endpoint = srv.url, max_attempts = 1,
      credentials = { creds = { access_key_id = F.AKID, secret_access_key = F.SECRET } },
      log = function()
        if calling and params then
          params.name, params.tags, params = nil, nil, nil
          collectgarbage()
          collectgarbage()
        end
      end })
    calling = true
    assert(c:create_channel(params))
    calling = false
    c:close()
    local sent = srv:finish()[1].json
    assert.is_nil(params, "the log function never ran: the test proves nothing")
    assert.equal(want.name, sent.name:rep(2))
    for k, v in pairs(sent.tags) do sent.tags[k] = v:rep(2) end
    assert.same(want.tags, sent.tags)
  end)

  it("gets its own frame and leaves the outer call's response whole", function()
    if _VERSION ~= "Lua 5.4" then
      pending("needs Lua 5.4's collector modes to time the finalizer")
      return
    end
    -- Strings new to the state in every response, so reading each one allocates (and the
    -- allocations run the collector).
    local responses = {}
    for r = 1, 50 do
      local items = {}
      for i = 1, 3000 do items[i] = '"r' .. r .. "_item" .. i .. '"' end
      responses[r] = { body = '{"channel":{"arn":"' .. F.CHANNEL_ARN .. '","name":"n","extra":[' ..
        table.concat(items, ",") .. "]}}" }
    end
    local srv = capture.start(responses)
    responses = nil -- luacheck: ignore (the bodies live in the server now; less for the collector)
    local c = F.client(ivs, srv.url)
    local function check(out)
      assert.equal("n", out.channel.name)
      assert.equal(3000, #out.channel.extra)
      local r = out.channel.extra[1]:match("^r(%d+)_item1$")
      assert.is_truthy(r)
      assert.equal("r" .. r .. "_item3000", out.channel.extra[3000])
    end
    -- Whether the finalizer runs inside the binding's client:call (a C function on the stack).
    local function inside_call()
      for level = 2, 20 do
        local info = debug.getinfo(level, "nS")
        if not info then return false end
        if info.what == "C" and info.name == "call" then return true end
      end
      return false
    end
    local nested, nested_in_call = {}, 0
    local arm = armed(function()
      if #nested < 10 then
        local inside = inside_call()
        nested[#nested + 1] = assert(c:get_channel{ arn = F.CHANNEL_ARN })
        if inside then nested_in_call = nested_in_call + 1 end
      end
    end)
    -- A collector that never pauses (5.4 reads a pause of 0 as "unchanged"): its steps, and
    -- the finalizers, run during the call's allocations, most of which read the response.
    collectgarbage("incremental", 1, 100, 10)
    for _ = 1, 30 do
      if nested_in_call >= 3 then break end
      -- A cycle starts with the call: the object armed now is found dead within it.
      collectgarbage("collect")
      arm()
      check(assert(c:get_channel{ arn = F.CHANNEL_ARN }))
    end
    normal_gc()
    for _, out in ipairs(nested) do check(out) end
    assert.is_true(nested_in_call > 0, "no finalizer ran during a call: the test proves nothing")
    c:close()
    srv:finish()
  end)
end)

describe("the member-name cache of the response reader", function()
  local capture = require("helpers.capture")
  local F = require("helpers.fixtures")
  local ivs = require("ivs")
  after_each(capture.finish_all)

  -- The cache is upvalue 1 of the client methods: reachable from Lua through the debug
  -- library, so the reader checks every name it takes from it.
  local call = core.client_methods.call
  -- Enum values are cached too: one of them, one that is not (empty), one with a NUL after one.
  local body = '{"channel":{"arn":"a1","name":"n1","latencyMode":"LOW","authorized":true,' ..
    '"type":"STANDARD","preset":"","containerFormat":"TS\\u0000x","tags":{"arn":"t","name":"u"}}}'
  local want = { channel = { arn = "a1", name = "n1", latencyMode = "LOW", authorized = true,
    type = "STANDARD", preset = "", containerFormat = "TS\0x", tags = { arn = "t", name = "u" } } }

  -- Lua 5.1's debug library does not reach C upvalues (LuaJIT's does).
  local reachable = _VERSION ~= "Lua 5.1" or rawget(_G, "jit") ~= nil

  local function get(n)
    local responses = {}
    for i = 1, n do responses[i] = { body = body } end
    local srv = capture.start(responses)
    local c = F.client(ivs, srv.url)
    local outs = {}
    for i = 1, n do outs[i] = assert(c:get_channel{ arn = F.CHANNEL_ARN }) end
    c:close()
    srv:finish()
    return outs
  end

  it("reads the right keys whatever Lua code put in the cache", function()
    if not reachable then
      pending("Lua 5.1's debug library cannot reach a C function's upvalues")
      return
    end
    local _, names = debug.getupvalue(call, 1)
    assert.equal("table", type(names), "no member-name cache: the test proves nothing")
    for _, out in ipairs(get(2)) do assert.same(want, out) end -- filled, then from the cache
    local filled, values = 0, 0
    for i = 1, 1536 do
      if names[i] ~= nil then filled = filled + 1 end
      if names[i] == "STANDARD" then values = values + 1 end
    end
    assert.is_true(filled >= 4, "the reader kept no names")
    assert.equal(1, values, "the reader kept no enum value")
    -- Wrong names, wrong types, a hash part: each slot taken is checked, then refilled.
    local junk = { "arn", "name", "x", 42, {}, true, "latencyMode", "LOW", "TS", "STANDARD" }
    for i = 1, 1536 do names[i] = junk[i % #junk + 1] end
    names.extra = "arn"
    for _, out in ipairs(get(2)) do assert.same(want, out) end
  end)

  it("reads the right keys when the cache is replaced by something that is not a table", function()
    if not reachable then
      pending("Lua 5.1's debug library cannot reach a C function's upvalues")
      return
    end
    local name, saved = debug.getupvalue(call, 1)
    assert.equal("table", type(saved), "no member-name cache: the test proves nothing")
    for _, v in ipairs({ 42, "names", false }) do
      debug.setupvalue(call, 1, v)
      local ok, outs = pcall(get, 1)
      debug.setupvalue(call, 1, saved)
      assert.is_true(ok, tostring(outs))
      assert.same(want, outs[1])
    end
    assert.equal(saved, select(2, debug.getupvalue(call, 1)), name)
  end)
end)
