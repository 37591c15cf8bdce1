-- Each error the emulator reproduces, seen through the Lua client as `nil, err` with the
-- service's code, HTTP status, a request id and the right retryable flag. Requests the client
-- refuses to send (malformed JSON, a stale signature date) go out raw through curl.
local ivs = require("ivs")
local emulator = require("helpers.emulator")
local admin_helper = require("helpers.admin")

local ARN_PREFIX = "arn:aws:ivs:" .. emulator.REGION .. ":" .. emulator.ACCOUNT .. ":"

local emu, admin, client

local function new_client(opts)
  local o = { endpoint = emu.url, region = emu.region, credentials = emu.credentials }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(ivs.new(o))
end

-- Asserts `nil, err` with the given code, status and retryable flag; returns err.
local function expect(code, status, retryable, out, err)
  assert.is_nil(out)
  assert.is_true(ivs.is_error(err), "expected an ivs error, got " .. tostring(err))
  assert.equal(code, err.code, tostring(err))
  assert.equal(status, err.status, tostring(err))
  assert.equal(retryable, err.retryable, tostring(err))
  assert.is_string(err.request_id, tostring(err))
  assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", err.request_id)
  assert.is_true(err.attempts >= 1)
  if status < 500 and status ~= 429 then
    assert.equal(1, err.attempts, tostring(err))
  end
  assert.equal("service", err.kind)
  assert.is_true(#err.message > 0)
  local line = tostring(err)
  assert.matches(code, line, 1, true)
  assert.matches(err.request_id, line, 1, true)
  return err
end

local function missing(kind)
  return ARN_PREFIX .. kind .. "/AAAAAAAAAAAA"
end

setup(function()
  emu = emulator.start()
  admin = admin_helper.new(emu)
  client = new_client()
end)

teardown(function()
  if client then client:close() end
  emulator.stop_all()
end)

before_each(function()
  admin:reset()
end)

describe("ResourceNotFoundException", function()
  it("is 404 for each kind of resource and not retryable", function()
    local cases = {
      { "get_channel", { arn = missing("channel") } },
      { "update_channel", { arn = missing("channel"), name = "x" } },
      { "delete_channel", { arn = missing("channel") } },
      { "get_stream_key", { arn = missing("stream-key") } },
      { "delete_stream_key", { arn = missing("stream-key") } },
      { "create_stream_key", { channelArn = missing("channel") } },
      { "list_stream_keys", { channelArn = missing("channel") } },
      { "get_recording_configuration", { arn = missing("recording-configuration") } },
      { "get_playback_key_pair", { arn = missing("playback-key") } },
      { "get_playback_restriction_policy", { arn = missing("playback-restriction-policy") } },
      { "get_ad_configuration", { arn = missing("ad-configuration") } },
      { "get_stream_session", { channelArn = missing("channel") } },
      { "list_stream_sessions", { channelArn = missing("channel") } },
      { "tag_resource", { resourceArn = missing("channel"), tags = { a = "b" } } },
      { "create_channel", { recordingConfigurationArn = missing("recording-configuration") } },
    }
    for _, case in ipairs(cases) do
      local err = expect("ResourceNotFoundException", 404, false, client[case[1]](client, case[2]))
      assert.equal(case[1], err.operation)
    end
  end)
end)

describe("ConflictException", function()
  it("is 409 for a live channel, an in-use recording configuration and two ListChannels filters", function()
    local rc = assert(client:create_recording_configuration{
      destinationConfiguration = { s3 = { bucketName = "conflict-bucket" } } }).recordingConfiguration
    local ch = assert(client:create_channel{ name = "busy", recordingConfigurationArn = rc.arn }).channel
    expect("ConflictException", 409, false, client:delete_recording_configuration{ arn = rc.arn })

    admin:start_stream{ channelArn = ch.arn }
    expect("ConflictException", 409, false, client:delete_channel{ arn = ch.arn })
    expect("ConflictException", 409, false, client:update_channel{ arn = ch.arn, name = "renamed" })
    -- No ad configuration on the channel.
    expect("ConflictException", 409, false, client:insert_ad_break{ channelArn = ch.arn, durationSeconds = 10 })
    admin:stop_stream{ channelArn = ch.arn }
    assert(client:delete_channel{ arn = ch.arn })
    assert(client:delete_recording_configuration{ arn = rc.arn })

    expect("ConflictException", 409, false, client:list_channels{ filterByName = "busy",
      filterByRecordingConfigurationArn = rc.arn })

    local pem = admin_helper.ec_public_key()
    assert(client:import_playback_key_pair{ publicKeyMaterial = pem })
    expect("ConflictException", 409, false, client:import_playback_key_pair{ publicKeyMaterial = pem })
  end)
end)

describe("ServiceQuotaExceededException", function()
  it("is 402 for a second stream key and a 4th playback key pair", function()
    local ch = assert(client:create_channel{}).channel
    expect("ServiceQuotaExceededException", 402, false, client:create_stream_key{ channelArn = ch.arn })
    for _ = 1, 3 do
      assert(client:import_playback_key_pair{ publicKeyMaterial = admin_helper.ec_public_key() })
    end
    expect("ServiceQuotaExceededException", 402, false,
      client:import_playback_key_pair{ publicKeyMaterial = admin_helper.ec_public_key() })
  end)
end)

describe("ChannelNotBroadcasting", function()
  it("is 404 for stream operations on an offline channel", function()
    local ad = assert(client:create_ad_configuration{ mediaTailorPlaybackConfigurations = {
      { playbackConfigurationArn = "arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/x" } } })
    local ch = assert(client:create_channel{ adConfigurationArn = ad.adConfiguration.arn }).channel
    expect("ChannelNotBroadcasting", 404, false, client:get_stream{ channelArn = ch.arn })
    expect("ChannelNotBroadcasting", 404, false, client:stop_stream{ channelArn = ch.arn })
    expect("ChannelNotBroadcasting", 404, false, client:put_metadata{ channelArn = ch.arn, metadata = "x" })
    expect("ChannelNotBroadcasting", 404, false, client:insert_ad_break{ channelArn = ch.arn,
      durationSeconds = 10 })
  end)
end)

describe("ThrottlingException", function()
  it("is 429 past 5 PutMetadata per second per channel; retries get through", function()
    local ch = assert(client:create_channel{}).channel
    admin:start_stream{ channelArn = ch.arn }
    local once = new_client{ max_attempts = 1 }
    -- Made before the burst, so nothing slow sits between the burst and its call.
    local lines = {}
    local patient = new_client{ max_attempts = 10, log = function(line) lines[#lines + 1] = line end }
    local throttled
    -- Six calls in well under a second: the sixth at the latest is over the rate.
    for _ = 1, 6 do
      local out, err = once:put_metadata{ channelArn = ch.arn, metadata = "tick" }
      if not out then
        throttled = err
        break
      end
    end
    assert.is_not_nil(throttled, "six PutMetadata calls were not throttled")
    expect("ThrottlingException", 429, true, nil, throttled)
    assert.equal(1, throttled.attempts)

    -- The window is still full: the first attempt is throttled again, a later one gets through.
    local started = os.time()
    assert(patient:put_metadata{ channelArn = ch.arn, metadata = "after backoff" })
    patient:close()
    once:close()
    assert.is_true(os.time() - started < 30)
    local retries = 0
    for _, line in ipairs(lines) do
      if line:find("PutMetadata: attempt %d+ failed %(ThrottlingException%), retrying") then retries = retries + 1 end
    end
    assert.is_true(retries >= 1, "no throttled attempt before the success:\n" .. table.concat(lines, "\n"))
  end)
end)

describe("ValidationException", function()
  it("is 400 for metadata over 1 KB (the client leaves that check to the service)", function()
    local ch = assert(client:create_channel{}).channel
    admin:start_stream{ channelArn = ch.arn }
    expect("ValidationException", 400, false, client:put_metadata{ channelArn = ch.arn,
      metadata = string.rep("x", 1025) })
    -- 1024 bytes of UTF-8 are fine; one more byte is not.
    assert(client:put_metadata{ channelArn = ch.arn, metadata = string.rep("é", 512) })
    expect("ValidationException", 400, false, client:put_metadata{ channelArn = ch.arn,
      metadata = string.rep("é", 512) .. "x" })
  end)

  it("is 400 for a playback key that is not P-384 (a rule only the service checks)", function()
    local err = expect("ValidationException", 400, false,
      client:import_playback_key_pair{ publicKeyMaterial = admin_helper.ec_public_key("prime256v1") })
    assert.is_nil(err.message:find("BEGIN PUBLIC KEY", 1, true))
    expect("ValidationException", 400, false,
      client:import_playback_key_pair{ publicKeyMaterial = "not a key at all" })
  end)

  it("is 400 for a nextToken that does not decode or belongs to another listing", function()
    for i = 1, 3 do assert(client:create_channel{ name = "c" .. i }) end
    expect("ValidationException", 400, false, client:list_channels{ nextToken = "bm90LWEtdG9rZW4=" })
    expect("ValidationException", 400, false, client:list_channels{ nextToken = "garbage" })
    local page = assert(client:list_channels{ maxResults = 1 })
    assert.is_string(page.nextToken)
    -- A token is bound to its operation and filters.
    expect("ValidationException", 400, false, client:list_channels{ nextToken = page.nextToken,
      filterByName = "c1" })
    expect("ValidationException", 400, false, client:list_recording_configurations{ nextToken = page.nextToken })
    assert.equal(1, #assert(client:list_channels{ nextToken = page.nextToken, maxResults = 1 }).channels)
  end)

  it("is 400 with the service's wire format for a malformed body sent raw", function()
    local r = admin:raw{ path = "/CreateChannel", body = '{"name": ', sign = true }
    assert.equal(400, r.status)
    assert.equal("ValidationException", r.headers["x-amzn-errortype"])
    assert.matches("^application/json", r.headers["content-type"])
    assert.is_string(r.headers["x-amzn-requestid"])
    assert.is_string(r.json.message)
    assert.equal(r.json.message, r.json.exceptionMessage)

    -- A value the client would refuse, sent raw: the emulator enforces the model too.
    r = admin:raw{ path = "/CreateChannel", body = '{"latencyMode":"FAST"}', sign = true }
    assert.equal(400, r.status)
    assert.equal("ValidationException", r.headers["x-amzn-errortype"])
    assert.matches("latencyMode", r.json.message)
    assert.equal(0, admin:health().channels)

    r = admin:raw{ path = "/CreateChannel", body = "name=x", content_type = "text/plain", sign = true }
    assert.equal(415, r.status)
    assert.equal("UnsupportedMediaTypeException", r.headers["x-amzn-errortype"])
  end)
end)

describe("signature errors", function()
  it("UnrecognizedClientException for an unknown access key", function()
    local c = new_client{ credentials = { creds = { access_key_id = "AKIAUNKNOWNKEY000000",
      secret_access_key = emu.secret_access_key } } }
    local err = expect("UnrecognizedClientException", 403, false, c:list_channels{})
    c:close()
    assert.is_nil(tostring(err):find(emu.secret_access_key, 1, true))
  end)

  it("InvalidSignatureException for a wrong secret", function()
    local c = new_client{ credentials = { creds = { access_key_id = emu.access_key_id,
      secret_access_key = "wrongSecretWrongSecretWrongSecret0000000" } } }
    local err = expect("InvalidSignatureException", 403, false, c:create_channel{ name = "nope" })
    c:close()
    assert.is_nil(tostring(err):find("wrongSecret", 1, true))
    assert.equal(0, admin:health().channels)
  end)

  it("MissingAuthenticationTokenException for an unsigned (anonymous) request", function()
    local c = new_client{ credentials = { anonymous = true } }
    expect("MissingAuthenticationTokenException", 403, false, c:list_channels{})
    c:close()
    local r = admin:raw{ path = "/ListChannels" }
    assert.equal(403, r.status)
    assert.equal("MissingAuthenticationTokenException", r.headers["x-amzn-errortype"])
  end)

  it("InvalidSignatureException for a request date more than 5 minutes off", function()
    -- The Lua client always signs with the current time; curl signs with the date we give it.
    local r = admin:raw{ path = "/ListChannels", sign = true, headers = { "X-Amz-Date: 20200101T000000Z" } }
    assert.equal(403, r.status)
    assert.equal("InvalidSignatureException", r.headers["x-amzn-errortype"])
    assert.matches("^Signature expired", r.json.message)
    local future = os.date("!%Y%m%dT%H%M%SZ", os.time() + 3600)
    r = admin:raw{ path = "/ListChannels", sign = true, headers = { "X-Amz-Date: " .. future } }
    assert.equal(403, r.status)
    assert.matches("^Signature not yet current", r.json.message)
    -- The same signer with the current date is accepted, so the failures above are the date's.
    r = admin:raw{ path = "/ListChannels", sign = true }
    assert.equal(200, r.status)
    assert.same({ channels = {} }, r.json)
  end)
end)
