-- Module-level functions on the lazily built default client, in a subprocess with its own
-- environment (the test runner clears every AWS_* variable).
local compat = require("helpers.compat")
local capture = require("helpers.capture")
local F = require("helpers.fixtures")

local function run_lua(env, code)
  local out, ok, status = compat.popen_read(string.format("env %s %s -e %q 2>&1", env, compat.LUA, code))
  return out, ok or nil, status
end

describe("default client", function()
  after_each(capture.finish_all)

  it("is built from the environment on first use", function()
    local srv = capture.start({ { body = { channel = F.channel } }, { body = { streams = {} } } })
    local env = string.format("AWS_REGION=eu-central-1 AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=%s "
      .. "AWS_SECRET_ACCESS_KEY=%s", srv.url, F.AKID, F.SECRET)
    local out, ok = run_lua(env, [[
      local ivs = require("ivs")
      local r = assert(ivs.get_channel{ arn = "]] .. F.CHANNEL_ARN .. [[" })
      local s = assert(ivs.call("ListStreams", {}))
      print(r.channel.name, #s.streams, ivs.default_client():region())
    ]])
    assert.is_true(ok, out)
    assert.equal("lobby\t0\teu-central-1\n", out)
    local reqs = srv:finish()
    assert.equal(2, #reqs)
    assert.equal("/GetChannel", reqs[1].path)
    assert.matches("Credential=" .. F.AKID .. "/%d+/eu%-central%-1/ivs/aws4_request", reqs[1].header("authorization"))
  end)

  it("returns nil, err when it cannot be built, and tries again later", function()
    local out, ok = run_lua("", [[
      local ivs = require("ivs")
      local r, err = ivs.list_channels{}
      print(r, err.code, getmetatable(err) == ivs.Error)
      local r2, err2 = ivs.get_channel{ arn = "x" }
      print(r2, err2.code)
    ]])
    assert.is_true(ok, out)
    assert.equal("nil\tNoRegion\ttrue\nnil\tNoRegion\n", out)
  end)
end)
