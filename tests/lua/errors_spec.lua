-- Service errors, retries and secrets as the Lua caller sees them.
local capture = require("helpers.capture")
local F = require("helpers.fixtures")
local ivs = require("ivs")

describe("service errors", function()
  after_each(capture.finish_all)

  it("return nil, err with every field, and a one-line tostring", function()
    local srv = capture.start({ { status = 404,
      headers = { ["x-amzn-ErrorType"] = "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.ivs/",
        ["x-amzn-RequestId"] = "4f3c2b1a-9d8e-4f7a-b6c5-1234567890ab" },
      body = { exceptionMessage = "Channel not found" } } })
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local out, err = c:get_channel{ arn = F.CHANNEL_ARN }
    assert.is_nil(out)
    assert.equal(ivs.Error, getmetatable(err))
    assert.equal("service", err.kind)
    assert.equal("ResourceNotFoundException", err.code)
    assert.equal("Channel not found", err.message)
    assert.equal(404, err.status)
    assert.equal("4f3c2b1a-9d8e-4f7a-b6c5-1234567890ab", err.request_id)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)
    assert.equal("get_channel", err.operation)
    assert.equal("ResourceNotFoundException: Channel not found (status 404, request "
      .. "4f3c2b1a-9d8e-4f7a-b6c5-1234567890ab, 1 attempt)", tostring(err))
    assert.equal(1, #srv:finish())
  end)

  it("dispatch on the error type, not the status", function()
    local srv = capture.start({
      { status = 404, headers = { ["x-amzn-ErrorType"] = "ChannelNotBroadcasting" },
        body = { exceptionMessage = "Channel is not live" } },
      { status = 402, headers = { ["x-amzn-ErrorType"] = "ServiceQuotaExceededException" },
        body = { exceptionMessage = "Stream key limit reached" } },
    })
    local c = F.client(ivs, srv.url)
    finally(function() c:close() end)
    local _, e1 = c:get_stream{ channelArn = F.CHANNEL_ARN }
    local _, e2 = c:create_stream_key{ channelArn = F.CHANNEL_ARN }
    assert.equal("ChannelNotBroadcasting", e1.code)
    assert.equal(404, e1.status)
    assert.equal("ServiceQuotaExceededException", e2.code)
    assert.equal(402, e2.status)
    assert.equal("Stream key limit reached", e2.message)
  end)

  it("are retried when retryable: 503 twice then 200 succeeds on the third attempt", function()
    local busy = { status = 503, headers = { ["x-amzn-ErrorType"] = "ServiceUnavailable" },
      body = { exceptionMessage = "Service is busy" } }
    local srv = capture.start({ busy, busy, { body = { channels = {}, errors = {} } } })
    local c = F.client(ivs, srv.url, { max_attempts = 3 })
    finally(function() c:close() end)
    local out, err = c:batch_get_channel{ arns = { F.CHANNEL_ARN } }
    assert.is_nil(err and tostring(err))
    assert.same({ channels = {}, errors = {} }, out)
    local reqs = srv:finish()
    assert.equal(3, #reqs)
    -- Each attempt is signed on its own.
    for _, r in ipairs(reqs) do assert.matches("^AWS4%-HMAC%-SHA256 ", r.header("authorization")) end
  end)

  it("report the attempts when retries run out", function()
    local busy = { status = 503, headers = { ["x-amzn-ErrorType"] = "ServiceUnavailable" },
      body = { exceptionMessage = "Service is busy" } }
    local srv = capture.start({ busy, busy })
    local c = F.client(ivs, srv.url, { max_attempts = 2 })
    finally(function() c:close() end)
    local out, err = c:batch_get_channel{ arns = { F.CHANNEL_ARN } }
    assert.is_nil(out)
    assert.equal("ServiceUnavailable", err.code)
    assert.equal(503, err.status)
    assert.is_true(err.retryable)
    assert.equal(2, err.attempts)
    assert.matches("%(status 503, request req%-0002%-capture, 2 attempts%)$", tostring(err))
    assert.equal(2, #srv:finish())
  end)

  it("return a network error for a refused connection", function()
    local srv = capture.start({})
    local url = srv.url
    srv:finish() -- the port is closed now
    local c = F.client(ivs, url)
    finally(function() c:close() end)
    local out, err = c:get_channel{ arn = F.CHANNEL_ARN }
    assert.is_nil(out)
    assert.equal("network", err.kind)
    assert.equal(0, err.status)
    assert.is_true(err.attempts >= 1)
    assert.is_nil(tostring(err):find("\n", 1, true))
  end)
end)

describe("secrets", function()
  after_each(capture.finish_all)

  it("never appear in errors or log lines, even with a stream key in the response", function()
    local srv = capture.start({
      { body = { channel = F.channel, streamKey = F.stream_key } },
      { status = 403, headers = { ["x-amzn-ErrorType"] = "AccessDeniedException" },
        body = { exceptionMessage = "User is not authorized to perform ivs:GetStreamKey" } },
    })
    local lines = {}
    local c = F.client(ivs, srv.url, { log = function(line, level)
      lines[#lines + 1] = level .. " " .. line
    end })
    finally(function() c:close() end)
    local out = assert(c:create_channel{ name = "lobby" })
    assert.equal(F.STREAM_KEY, out.streamKey.value)
    local _, err = c:get_stream_key{ arn = F.STREAM_KEY_ARN }
    assert.equal("AccessDeniedException", err.code)
    assert.is_true(#lines > 0, "the log function was never called")
    local everything = table.concat(lines, "\n") .. "\n" .. tostring(err) .. "\n" .. tostring(c)
    for k, v in pairs(err) do everything = everything .. "\n" .. tostring(k) .. "=" .. tostring(v) end
    for _, secret in ipairs({ F.SECRET, F.TOKEN, F.STREAM_KEY, F.channel.srt.passphrase }) do
      assert.is_nil(everything:find(secret, 1, true), "leaked: " .. secret)
    end
  end)

  it("survive a log function that raises", function()
    local srv = capture.start({ { body = { channel = F.channel } } })
    local c = F.client(ivs, srv.url, { log = function() error("log sink is broken") end })
    finally(function() c:close() end)
    local out = assert(c:get_channel{ arn = F.CHANNEL_ARN })
    assert.equal("lobby", out.channel.name)
  end)
end)
