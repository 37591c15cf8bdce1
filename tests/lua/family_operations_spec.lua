-- Every operation of every service of the family (low-latency IVS, Chat, Real-Time) through
-- its Lua module, with inputs and responses made from the model (helpers/model_values.lua),
-- so no operation can be missed: the exact request on the wire (method, path, query, JSON
-- body, signing scope, host, user agent) and the parsed result. Then pagination, non-blocking
-- calls and retries for Chat and Real-Time, and botocore's own serializer against ours for all
-- 97 operations where botocore is installed.
local compat = require("helpers.compat")
local capture = require("helpers.capture")
local F = require("helpers.fixtures")
local V = require("helpers.model_values")
local cjson = require("cjson")
local ivs = require("ivs")

local ROOT = os.getenv("IVS_ROOT") or "."

local SERVICES = {
  { name = "ivs", module = "ivs", signing = "ivs", ua = "ivs", operations = 41,
    model = "models/ivs/ivs-2020-07-14.model.json" },
  { name = "ivschat", module = "ivs.chat", signing = "ivschat", ua = "ivschat", operations = 17,
    model = "models/ivschat/ivschat-2020-07-14.model.json" },
  { name = "ivs-realtime", module = "ivs.realtime", signing = "ivs", ua = "ivs-realtime", operations = 39,
    model = "models/ivs-realtime/ivs-realtime-2020-07-14.model.json" },
}

-- What each service's run saw, for the botocore comparison at the end.
local seen = {}

local function decode_query(q)
  local out = {}
  for _, kv in ipairs(capture.query_pairs(q)) do
    local k = kv[1]
    local v = kv[2]:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    out[k] = out[k] or {}
    out[k][#out[k] + 1] = v
  end
  return out
end

for _, S in ipairs(SERVICES) do
  local mod = require(S.module)
  local ops = mod.operations()

  describe(S.module .. " operations", function()
    local results = {}

    -- One server, one client, every operation in turn: each request answered with a body
    -- made from the operation's output shape (and its header-bound members as headers).
    lazy_setup(function()
      local responses, cases = {}, {}
      for i, op in ipairs(ops) do
        local d = mod.describe(op)
        local headers = { ["x-amzn-RequestId"] = "rid-" .. op }
        local expect = V.output(d)
        for _, h in ipairs(V.output_headers(d)) do
          headers[h[1]] = h[3]
          expect[h[2]] = h[3]
        end
        local body = V.output(d)
        responses[i] = { status = d.success_status, headers = headers,
          body = d.success_status == 204 and "" or cjson.encode(body) }
        if d.success_status == 204 then expect = {} end
        cases[i] = { op = op, d = d, params = V.input(d), expect = expect }
      end
      local srv = capture.start(responses)
      local client = F.client(mod, srv.url)
      for _, c in ipairs(cases) do
        c.out, c.err = client[c.op](client, c.params)
      end
      client:close()
      local reqs = srv:finish()
      for i, c in ipairs(cases) do
        c.req = reqs[i]
        c.port = srv.port
        results[c.op] = c
      end
      seen[S.name] = cases
    end)

    after_each(capture.finish_all)

    it("covers all " .. S.operations .. " operations of the model (guard)", function()
      assert.equal(S.operations, #ops)
      local core = require("ivs.core")
      assert.equal(S.operations, #core.services[S.name].operations)
      for _, op in ipairs(ops) do
        assert.is_function(mod[op], op)
        assert.is_table(results[op], "no result for " .. op)
      end
    end)

    for _, op in ipairs(ops) do
      it(op .. " sends the exact request and parses the response", function()
        local c = results[op]
        assert.is_nil(c.err and tostring(c.err))
        local r = c.req
        assert.is_table(r, "no request reached the server")
        local want = V.expected_request(c.d, c.params)
        assert.equal(want.method, r.method)
        assert.equal(want.path, r.path)
        assert.equal(want.query, r.query)
        if want.body then
          assert.equal("application/json", r.header("content-type"))
          assert.same(want.body, r.json)
        else
          assert.equal("", r.body)
        end
        local auth = r.header("authorization")
        local scope = auth:match("Credential=" .. F.AKID .. "/%d+/([^,]+),")
        assert.equal("us-west-2/" .. S.signing .. "/aws4_request", scope)
        assert.equal("127.0.0.1:" .. c.port, r.header("host"))
        assert.equal(F.TOKEN, r.header("x-amz-security-token"))
        assert.is_truthy(r.header("user-agent"):find(" api/" .. S.ua .. "#2020-07-14 ", 1, true),
          r.header("user-agent"))
        local ok, where = F.same_typed(c.expect, c.out)
        assert.is_true(ok, where)
      end)
    end
  end)
end

for _, S in ipairs(SERVICES) do
  if S.name ~= "ivs" then
    local mod = require(S.module)

    describe(S.module .. " conventions", function()
      after_each(capture.finish_all)

      it("pages and items work for every paginated operation", function()
        local paginated, responses = {}, {}
        for _, op in ipairs(mod.operations()) do
          local d = mod.describe(op)
          if d.paginated then
            paginated[#paginated + 1] = d
            local first = V.output(d)
            first.nextToken = "page2token"
            responses[#responses + 1] = { body = first }
            responses[#responses + 1] = { body = V.output(d) }
          end
        end
        assert.is_true(#paginated >= 2)
        local srv = capture.start(responses)
        local client = F.client(mod, srv.url)
        local counts = {}
        for _, d in ipairs(paginated) do
          local n = 0
          for _ in client:items(d.snake_name, V.input(d)) do n = n + 1 end
          counts[d.snake_name] = n
        end
        client:close()
        local reqs = srv:finish()
        assert.equal(2 * #paginated, #reqs)
        for i, d in ipairs(paginated) do
          -- Each output list has one element per page; the second request carries the token.
          assert.equal(2, counts[d.snake_name], d.snake_name)
          assert.is_nil(reqs[2 * i - 1].json.nextToken)
          assert.equal("page2token", reqs[2 * i].json.nextToken)
          assert.equal("/" .. d.name, reqs[2 * i].path)
        end
      end)

      it("runs calls without blocking (start, poll, run_all) and retries a 500", function()
        local ops = mod.operations()
        local d1, d2 = mod.describe(ops[1]), mod.describe(ops[2])
        local srv = capture.start({ { status = 500, body = { message = "try again" } },
          { body = V.output(d1) }, { body = V.output(d2) } })
        local client = F.client(mod, srv.url, { max_attempts = 2, max_connections = 1 })
        local out = client:run_all({ { ops[1], V.input(d1) }, { ops[2], V.input(d2) } })
        client:close()
        local reqs = srv:finish()
        assert.equal(3, #reqs)
        assert.is_table(out[1].result, out[1].err and tostring(out[1].err))
        assert.is_table(out[2].result, out[2].err and tostring(out[2].err))
      end)

      if S.name == "ivs-realtime" then
        it("sends one idempotency token for every attempt of start_composition", function()
          local d = mod.describe("start_composition")
          local params = V.input(d)
          params.idempotencyToken = nil
          local srv = capture.start({ { status = 500, body = { message = "try again" } }, { body = V.output(d) } })
          local client = F.client(mod, srv.url, { max_attempts = 2 })
          local out, err = client:start_composition(params)
          client:close()
          local reqs = srv:finish()
          assert.is_table(out, err and tostring(err))
          assert.equal(2, #reqs)
          local token = reqs[1].json.idempotencyToken
          assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", token)
          assert.equal(36, #token)
          assert.equal(token, reqs[2].json.idempotencyToken)
        end)
      end

      it("validates against its own model and names its service", function()
        local client = F.client(mod, "http://127.0.0.1:9")
        local op, required
        for _, name in ipairs(mod.operations()) do
          for _, p in ipairs(mod.describe(name).params) do
            if p.required and not required then op, required = name, p.name end
          end
        end
        assert.is_string(required)
        local out, err = client[op](client, {})
        assert.is_nil(out)
        assert.equal("validation", err.kind)
        assert.equal("ParamValidationError", err.code)
        assert.is_truthy(err.message:find(required, 1, true))
        assert.equal(S.name, client:service())
        -- Another service's operation is not a method of this client.
        assert.is_nil(client.create_channel)
        assert.has_error(function() client:call("CreateChannel", {}) end)
        client:close()
        assert.equal(S.name, mod.SERVICE)
        assert.equal("2020-07-14", mod.API_VERSION)
        assert.equal(ivs.Client, getmetatable(client))
      end)

      it("builds its default client from the environment (nil, err without a region)", function()
        mod.reset_default()
        local out, err = mod[mod.operations()[1]]({})
        assert.is_nil(out)
        assert.equal("NoRegion", err.code)
        assert.is_nil(mod.default_client())
      end)
    end)
  end
end

describe("the family against botocore's serializer", function()
  it("serializes all 97 operations as botocore does", function()
    local oracle = ROOT .. "/tests/oracle/botocore_serialize.py"
    if not compat.execute("python3 -c 'import botocore' >/dev/null 2>&1") then
      pending("botocore is not installed")
      return
    end
    local total = 0
    for _, S in ipairs(SERVICES) do
      local cases = assert(seen[S.name], "no run for " .. S.name)
      local input = {}
      for i, c in ipairs(cases) do input[i] = { operation = c.d.name, input = c.params } end
      local tmp = os.tmpname()
      local f = assert(io.open(tmp, "wb"))
      f:write(cjson.encode(input))
      f:close()
      local p = assert(io.popen("python3 " .. oracle .. " " .. ROOT .. "/" .. S.model .. " < " .. tmp))
      local text = p:read("*a")
      p:close()
      os.remove(tmp)
      local expected = cjson.decode(text)
      assert.equal(#cases, #expected)
      for i, c in ipairs(cases) do
        local e, r = expected[i], c.req
        assert.equal(e.method, r.method, c.op)
        assert.equal(e.path, r.path, c.op)
        assert.same(e.query, decode_query(r.query), c.op)
        if e.body ~= nil and e.body ~= cjson.null then
          assert.same(cjson.decode(e.body), r.json, c.op)
        else
          assert.equal("", r.body, c.op)
        end
        total = total + 1
      end
    end
    assert.equal(97, total)
  end)
end)
