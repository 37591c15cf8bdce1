-- Non-blocking calls: client:start / client:poll / ivs.Call, and client:run_all.
local echo = require("helpers.echo_server")
local capture = require("helpers.capture")
local F = require("helpers.fixtures")
local V = require("helpers.model_values")
local cjson = require("cjson")
local ivs = require("ivs")
local socket = require("socket")

local ARN = "arn:aws:ivs:us-west-2:123456789012:channel/"

-- Polls the client and steps the in-process server until every call is done (bounded).
local function drive(client, server, calls, seconds)
  local deadline = socket.gettime() + (seconds or 10)
  local function all_done()
    for _, c in ipairs(calls) do
      if not c:done() then return false end
    end
    return true
  end
  while not all_done() and socket.gettime() < deadline do
    client:poll(0)
    server:step(0.002)
  end
  return all_done()
end

describe("non-blocking calls", function()
  after_each(capture.finish_all)

  it("start returns a handle whose result arrives through poll", function()
    local srv = echo.new()
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local call = c:start("get_channel", { arn = ARN .. "abc1" })
    assert.equal("ivs.Call", getmetatable(call).__name)
    assert.equal(ivs.Call, getmetatable(call))
    assert.is_false(call:done())
    assert.equal("get_channel", call:operation())
    assert.equal(1, c:in_flight())
    assert.has_error(function() call:result() end)
    -- One thread runs both the client and the server: this only finishes if poll(0) never
    -- waits for the response.
    assert.is_true(drive(c, srv, { call }))
    assert.equal(0, c:in_flight())
    local out, err = call:result()
    assert.is_nil(err)
    assert.same({ arn = ARN .. "abc1", name = "n-abc1" }, out.channel)
    assert.same(out, (call:result())) -- readable again
    srv:close()
  end)

  it("keeps several calls on the wire at once, each with its own result", function()
    local srv = echo.new({ hold = 4 }) -- answers nothing until 4 requests wait together
    local c = F.client(ivs, srv.url, { max_connections = 4 })
    finally(function() c:close() end)
    local calls = {}
    for i = 1, 4 do calls[i] = assert(c:start("GetChannel", { arn = ARN .. "ch" .. i })) end
    assert.equal(4, c:poll(0))
    assert.is_true(drive(c, srv, calls))
    for i = 1, 4 do assert.equal("n-ch" .. i, calls[i]:result().channel.name) end
    assert.equal(4, srv.connections)
    srv:close()
  end)

  it("reports validation errors at once and service errors through the handle", function()
    local srv = echo.new()
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local call, err = c:start("get_channel", {})
    assert.is_nil(call)
    assert.equal("validation", err.kind)
    assert.equal("ParamValidationError", err.code)
    assert.equal(0, c:in_flight())
    assert.has_error(function() c:start("get_chanel", {}) end)
    assert.has_error(function() c:start("get_channel", 42) end)

    local bad = assert(c:start("get_stream_key", { arn = "arn:aws:ivs:us-west-2:123456789012:stream-key/k1" }))
    assert.is_true(drive(c, srv, { bad }))
    local out, e = bad:result()
    assert.is_nil(out)
    assert.equal(ivs.Error, getmetatable(e))
    assert.equal("service", e.kind)
    assert.equal("ResourceNotFoundException", e.code)
    assert.equal(404, e.status)
    assert.equal("get_stream_key", e.operation)
    assert.equal(1, srv.requests) -- the invalid call sent nothing
    srv:close()
  end)

  it("cancels calls in flight on cancel_all and on close", function()
    local srv = echo.new({ hold = 1000 }) -- never answers
    local c = F.client(ivs, srv.url)
    local a = assert(c:start("get_channel", { arn = ARN .. "a" }))
    local b = assert(c:start("get_channel", { arn = ARN .. "b" }))
    for _ = 1, 20 do
      c:poll(0)
      srv:step(0.002)
    end
    c:cancel_all()
    assert.equal(0, c:in_flight())
    local out, err = a:result()
    assert.is_nil(out)
    assert.equal("cancelled", err.kind)
    assert.equal("Cancelled", err.code)
    local out_b, err_b = b:result()
    assert.is_nil(out_b)
    assert.equal("cancelled", err_b.kind)

    local late = assert(c:start("get_channel", { arn = ARN .. "late" }))
    c:close()
    assert.is_true(late:done())
    assert.equal("cancelled", select(2, late:result()).kind)
    assert.has_error(function() c:poll() end) -- closed client
    srv:close()
  end)

  it("refuses to re-enter the client from its own log function", function()
    -- The log function runs while the core is half-way through a call (here: parsing the
    -- response inside poll). Cancelling, polling or starting calls on the same client from
    -- there would free the call the core is still working on.
    local srv = echo.new()
    local c
    local tried = {}
    c = F.client(ivs, srv.url, { log = function()
      if #tried > 0 then return end
      for _, method in ipairs({ "cancel_all", "poll", "start", "call" }) do
        local ok, err = pcall(c[method], c, "get_channel", { arn = ARN .. "nested" })
        tried[#tried + 1] = { method, ok, tostring(err) }
      end
    end })
    local call = assert(c:start("get_channel", { arn = ARN .. "outer" }))
    assert.is_true(drive(c, srv, { call }))
    local out, err = call:result()
    assert.is_nil(err)
    assert.equal("n-outer", out.channel.name)
    assert.equal(4, #tried)
    for _, t in ipairs(tried) do
      assert.is_false(t[2], t[1] .. " was allowed from inside the log function")
      assert.truthy(t[3]:find("log function", 1, true), t[3])
    end
    assert.equal(0, c:in_flight())
    c:close()
    srv:close()
  end)

  it("drops a handle collected in flight without harm", function()
    local srv = echo.new()
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    do
      local _ = c:start("get_channel", { arn = ARN .. "gone" })
    end
    collectgarbage()
    collectgarbage()
    local keep = assert(c:start("get_channel", { arn = ARN .. "kept" }))
    assert.is_true(drive(c, srv, { keep }))
    assert.equal("n-kept", keep:result().channel.name)
    -- The orphaned call still completes (its slot is freed by the completion).
    local deadline = socket.gettime() + 5
    while c:in_flight() > 0 and socket.gettime() < deadline do
      c:poll(0)
      srv:step(0.002)
    end
    assert.equal(0, c:in_flight())
    srv:close()
  end)

  it("poll(0) returns at once while the server is slow", function()
    local srv = capture.start({ { body = { channels = {} }, delay = 0.5 } })
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local call = assert(c:start("list_channels"))
    local worst, polls = 0, 0
    local deadline = socket.gettime() + 5
    while not call:done() and socket.gettime() < deadline do
      local t0 = socket.gettime()
      c:poll(0)
      local dt = socket.gettime() - t0
      if dt > worst then worst = dt end
      polls = polls + 1
      socket.sleep(0.002)
    end
    assert.is_true(call:done())
    assert.same({ channels = {} }, call:result())
    assert.is_true(polls > 50, "only " .. polls .. " polls in 500 ms")
    assert.is_true(worst < 0.05, string.format("a poll(0) took %.1f ms", worst * 1000))
    srv:finish()
  end)
end)

describe("client:run_all", function()
  after_each(capture.finish_all)

  it("runs 40 calls 8 at a time and returns the results in order", function()
    local child = echo.spawn()
    local ok, res = pcall(function()
      local c = F.client(ivs, child.url, { max_connections = 8 })
      finally(function() c:close() end)
      local calls = {}
      for i = 1, 40 do calls[i] = { "get_channel", { arn = ARN .. "c" .. i } } end
      calls[41] = { "get_channel", {} } -- invalid: reported in place, the others still run
      calls[42] = { "GetStreamKey", { arn = "arn:aws:ivs:us-west-2:123456789012:stream-key/k1" } }
      return c:run_all(calls, { concurrency = 8 })
    end)
    local stats = child.finish()
    assert.is_true(ok, tostring(res))
    assert.equal(42, #res)
    for i = 1, 40 do
      assert.is_nil(res[i].err)
      assert.equal("n-c" .. i, res[i].result.channel.name)
    end
    assert.equal("validation", res[41].err.kind)
    assert.is_nil(res[41].result)
    assert.equal("ResourceNotFoundException", res[42].err.code)
    assert.equal(41, stats.requests)
    assert.is_true(stats.connections >= 2 and stats.connections <= 8, "connections: " .. stats.connections)
  end)

  it("rejects malformed entries before starting anything", function()
    local child = echo.spawn()
    local c = F.client(ivs, child.url)
    finally(function() c:close() end)
    assert.has_error(function() c:run_all({ { "no_such_op", {} } }) end)
    assert.has_error(function() c:run_all({ { "get_channel", 5 } }) end)
    assert.has_error(function() c:run_all({}, { concurrency = 0 }) end)
    assert.has_error(function() c:run_all({}, { parallel = 2 }) end)
    assert.same({}, c:run_all({}))
    assert.equal(0, c:in_flight())
    assert.equal(0, child.finish().requests)
  end)

  it("max_connections is a client option; cancelled is an error kind", function()
    assert.has_error(function() ivs.new({ region = "us-west-2", max_connections = 0 }) end)
    assert.has_error(function() ivs.new({ region = "us-west-2", max_connections = "8" }) end)
    local c = assert(ivs.new({ region = "us-west-2", max_connections = 8, endpoint = "http://127.0.0.1:9" }))
    finally(function() c:close() end)
    assert.is_true(ivs.is_client(c))
    assert.equal("cancelled", ivs.kinds[#ivs.kinds])
  end)
end)

-- A non-blocking call's response is checked by the core exactly as a blocking call's (the
-- same text checker: trailing bytes refused, the same limits and errors) and read into Lua by
-- the same reader, so start/result and run_all give what call gives, value for value.
describe("non-blocking results read like blocking ones", function()
  after_each(capture.finish_all)

  -- A value as text with every number's Lua subtype, keys sorted: equal texts, equal values.
  local function typed(v)
    if type(v) == "table" then
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      local parts = {}
      for _, k in ipairs(keys) do parts[#parts + 1] = typed(k) .. "=" .. typed(v[k]) end
      return "{" .. table.concat(parts, ",") .. "}"
    elseif type(v) == "number" then
      return (math.type and math.type(v) or "number") .. ":" .. string.format("%.17g", v)
    end
    return type(v) .. ":" .. tostring(v)
  end

  local function typed_err(e)
    if not e then return "no error" end
    return typed({ kind = e.kind, code = e.code, message = e.message, status = e.status,
      retryable = e.retryable, operation = e.operation })
  end

  local bodies = {
    ' { "channel" : { "arn" : "' .. F.CHANNEL_ARN .. '", "name": "a\\"b\\u00e9\\ud83d\\ude00",\n' ..
      '"latencyMode": null, "tags": { "k": null, "e": "" }, "authorized": false,\n' ..
      '"extra": [1, null, -2.5e1, 1.5, 1e300, {"x": null, "y": [[], {}]}, "s"] } }\r\n',
    '{"channel":{"name":"a"}} trailing',
    '{"channel":{}}{"channel":{}}',
    '{"channel":{"name":"a"}}\0',
    '{"channel":',
    '[]',
    '{"a":"\\q"}',
    '{"channel":' .. string.rep("[", 40) .. string.rep("]", 40) .. "}",
    '',
  }

  it("gives the same result or the same error for every body", function()
    for i, body in ipairs(bodies) do
      local srv = capture.start({ { body = body }, { body = body }, { body = body } })
      local c = F.client(ivs, srv.url)
      local b_out, b_err = c:get_channel{ arn = F.CHANNEL_ARN }
      local call = assert(c:start("get_channel", { arn = F.CHANNEL_ARN }))
      for _ = 1, 100 do
        if call:done() then break end
        c:poll(100)
      end
      local s_out, s_err = call:result()
      local r = c:run_all({ { "get_channel", { arn = F.CHANNEL_ARN } } })[1]
      c:close()
      srv:finish()
      assert.equal(typed(b_out), typed(s_out), "body " .. i)
      assert.equal(typed(b_out), typed(r.result), "body " .. i)
      assert.equal(typed_err(b_err), typed_err(s_err), "body " .. i)
      assert.equal(typed_err(b_err), typed_err(r.err), "body " .. i)
      if i == 1 or i == #bodies then
        assert.is_table(b_out, "body " .. i)
      else
        assert.is_nil(b_out, "body " .. i)
        assert.equal("InvalidResponse", b_err.code, "body " .. i)
      end
    end
  end)

  -- Members bound to response headers exist only in the core's tree: the text a non-blocking
  -- call hands over is that tree printed, as for a blocking call.
  it("gives header-bound output members as a blocking call does", function()
    local n = 0
    for _, name in ipairs({ "ivs", "ivs.chat", "ivs.realtime" }) do
      local mod = require(name)
      for _, op in ipairs(mod.operations()) do
        local d = mod.describe(op)
        local headers = V.output_headers(d)
        if #headers > 0 then
          n = n + 1
          local h = {}
          for _, x in ipairs(headers) do h[x[1]] = x[3] end
          local r = { status = d.success_status, headers = h, body = cjson.encode(V.output(d)) }
          local srv = capture.start({ r, r })
          local c = F.client(mod, srv.url)
          local b_out, b_err = c:call(op, V.input(d))
          local call = assert(c:start(op, V.input(d)))
          for _ = 1, 100 do
            if call:done() then break end
            c:poll(100)
          end
          local s_out, s_err = call:result()
          c:close()
          srv:finish()
          assert.is_table(b_out, op .. ": " .. tostring(b_err))
          assert.equal(headers[1][3], b_out[headers[1][2]], op)
          assert.equal(typed(b_out), typed(s_out), op)
          assert.equal(typed_err(b_err), typed_err(s_err), op)
        end
      end
    end
    assert.is_true(n > 0, "no operation has header-bound output members")
  end)
end)
