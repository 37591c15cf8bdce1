-- The emulator's admin API (/_emulator/...) driven from Lua, with its effects checked through
-- the Lua client: health, reset, simulated broadcasts, EventBridge events and fault injection
-- (and how the client's retries meet the injected faults).
local ivs = require("ivs")
local socket = require("socket")
local emulator = require("helpers.emulator")
local admin_helper = require("helpers.admin")

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"

local emu, admin, client

local function new_client(opts)
  local o = { endpoint = emu.url, region = emu.region, credentials = emu.credentials }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(ivs.new(o))
end

-- A client whose log lines are collected; returns the client and the list of lines.
local function logging_client(opts)
  local lines = {}
  opts = opts or {}
  opts.log = function(line) lines[#lines + 1] = line end
  return new_client(opts), lines
end

local function count_matching(lines, pattern)
  local n = 0
  for _, line in ipairs(lines) do
    if line:find(pattern) then n = n + 1 end
  end
  return n
end

local function names_of(events)
  local out = {}
  for i, e in ipairs(events) do out[i] = e.detail.event_name or e.detail.recording_status end
  return out
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

describe("admin health and reset", function()
  it("health reports status, region, account, uptime and the channel count", function()
    local h = admin:health()
    assert.equal("ok", h.status)
    assert.equal(emu.region, h.region)
    assert.equal(emulator.ACCOUNT, h.account)
    assert.is_number(h.uptimeSeconds)
    assert.is_true(h.uptimeSeconds >= 0)
    assert.equal(0, h.channels)
    assert(client:create_channel{})
    assert(client:create_channel{})
    assert.equal(2, admin:health().channels)
  end)

  it("reset clears resources, streams, events and faults", function()
    local ch = assert(client:create_channel{ name = "before" }).channel
    assert(client:import_playback_key_pair{ publicKeyMaterial = admin_helper.ec_public_key() })
    assert(client:create_recording_configuration{ destinationConfiguration = { s3 = { bucketName = "b-1" } } })
    admin:start_stream{ channelArn = ch.arn }
    admin:add_fault{ operation = "GetChannel", status = 500, count = 0 }
    assert.is_true(#admin:events() > 0)
    assert.equal(1, #admin:faults())

    admin:reset()
    assert.equal(0, admin:health().channels)
    assert.same({}, assert(client:list_channels{}).channels)
    assert.same({}, assert(client:list_playback_key_pairs{}).keyPairs)
    assert.same({}, assert(client:list_recording_configurations{}).recordingConfigurations)
    assert.same({}, assert(client:list_streams{}).streams)
    assert.same({}, admin:events())
    assert.same({}, admin:faults())
    local _, err = client:get_channel{ arn = ch.arn }
    assert.equal("ResourceNotFoundException", err.code)
  end)

  it("answers unknown admin paths and bad bodies with errors", function()
    local status, body = admin:get("/nope")
    assert.equal(404, status)
    assert.matches("No admin endpoint GET /nope", body.message, 1, true)
    status, body = admin:post("/streams/start", { channelArn = "not-an-arn" })
    assert.equal(400, status)
    assert.matches("channelArn", body.message, 1, true)
    status = admin:request("POST", "/faults", "{not json")
    assert.equal(400, status)
  end)
end)

describe("admin streams", function()
  it("start and stop by channel ARN", function()
    local ch = assert(client:create_channel{ name = "by-arn" }).channel
    local started = admin:start_stream{ channelArn = ch.arn, viewerCount = 7 }
    assert.equal(ch.arn, started.stream.channelArn)
    assert.equal("LIVE", started.stream.state)
    assert.equal(7, started.stream.viewerCount)
    assert.equal(started.stream.streamId, started.streamSession.streamId)
    local stream = assert(client:get_stream{ channelArn = ch.arn }).stream
    assert.equal(started.stream.streamId, stream.streamId)
    assert.equal(7, stream.viewerCount)

    -- Already live: 409.
    local status, body = admin:post("/streams/start", { channelArn = ch.arn })
    assert.equal(409, status)
    assert.matches("live", body.message)

    local stopped = admin:stop_stream{ channelArn = ch.arn }
    assert.equal(stream.streamId, stopped.streamSession.streamId)
    assert.matches(ISO, stopped.streamSession.endTime)
    local _, err = client:get_stream{ channelArn = ch.arn }
    assert.equal("ChannelNotBroadcasting", err.code)
    -- Not live any more: stopping again is 404.
    status = admin:post("/streams/stop", { channelArn = ch.arn })
    assert.equal(404, status)
  end)

  it("start and stop by stream key, as an encoder would", function()
    local created = assert(client:create_channel{ name = "by-key" })
    local started = admin:start_stream{ streamKey = created.streamKey.value, health = "STARVING" }
    assert.equal(created.channel.arn, started.stream.channelArn)
    local stream = assert(client:get_stream{ channelArn = created.channel.arn }).stream
    assert.equal("STARVING", stream.health)
    admin:stop_stream{ streamKey = created.streamKey.value }
    assert.same({}, assert(client:list_streams{}).streams)

    local status = admin:post("/streams/start", { streamKey = "sk_us-west-2_AAAAAAAAAAAA_nope" })
    assert.equal(404, status)
    status = admin:post("/streams/start", { channelArn = "arn:aws:ivs:us-west-2:123456789012:channel/AAAAAAAAAAAA" })
    assert.equal(404, status)
    status = admin:post("/streams/start", { channelArn = created.channel.arn, health = "GREAT" })
    assert.equal(400, status)
  end)

  it("changes health and viewer count of a live stream", function()
    local ch = assert(client:create_channel{}).channel
    admin:start_stream{ channelArn = ch.arn }
    local changed = admin:stream_health{ channelArn = ch.arn, health = "STARVING", viewerCount = 3 }
    assert.equal("STARVING", changed.stream.health)
    local stream = assert(client:get_stream{ channelArn = ch.arn }).stream
    assert.equal("STARVING", stream.health)
    assert.equal(3, stream.viewerCount)
  end)
end)

describe("admin events", function()
  it("records stream, health and recording events with their detail fields", function()
    local rc = assert(client:create_recording_configuration{
      destinationConfiguration = { s3 = { bucketName = "event-bucket" } } }).recordingConfiguration
    local created = assert(client:create_channel{ name = "evented", recordingConfigurationArn = rc.arn })
    local ch = created.channel
    local other = assert(client:create_channel{ name = "other" }).channel
    admin:start_stream{ channelArn = other.arn }

    local sid = admin:start_stream{ streamKey = created.streamKey.value }.stream.streamId
    admin:stream_health{ channelArn = ch.arn, health = "STARVING" }
    admin:stream_health{ channelArn = ch.arn, health = "HEALTHY" }
    admin:stop_stream{ channelArn = ch.arn, code = "StreamTakeoverInvalidPriority" }

    local events = admin:events{ channelArn = ch.arn }
    assert.same({ "Session Created", "Stream Start", "Recording Start", "Starvation Start", "Starvation End",
      "Session Ended", "Stream End", "Recording End" }, names_of(events))
    for _, e in ipairs(events) do
      assert.equal("0", e.version)
      assert.equal("aws.ivs", e.source)
      assert.equal(emulator.ACCOUNT, e.account)
      assert.equal(emu.region, e.region)
      assert.same({ ch.arn }, e.resources)
      assert.matches(ISO, e.time)
      assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", e.id)
      assert.equal(sid, e.detail.stream_id)
      assert.equal("evented", e.detail.channel_name)
    end
    assert.equal("IVS Stream Health Change", events[4]["detail-type"])
    assert.equal("StreamTakeoverInvalidPriority", events[6].detail.code)

    local recording = admin:events{ channelArn = ch.arn, detailType = "IVS Recording State Change" }
    assert.equal(2, #recording)
    for _, e in ipairs(recording) do
      assert.equal("IVS Recording State Change", e["detail-type"])
      assert.equal("event-bucket", e.detail.recording_s3_bucket_name)
      assert.matches("^ivs/v1/" .. emulator.ACCOUNT .. "/", e.detail.recording_s3_key_prefix)
      assert.is_string(e.detail.recording_session_id)
      assert.equal(recording[1].detail.recording_session_id, e.detail.recording_session_id)
    end
    assert.equal("Recording End", recording[2].detail.recording_status)
    assert.same({ sid }, recording[2].detail.recording_session_stream_ids)
    assert.is_number(recording[2].detail.recording_duration_ms)

    -- The session keeps its events and the error mark.
    local session = assert(client:get_stream_session{ channelArn = ch.arn, streamId = sid }).streamSession
    assert.equal("Recording End", session.truncatedEvents[1].name)
    local sessions = assert(client:list_stream_sessions{ channelArn = ch.arn }).streamSessions
    assert.is_true(sessions[1].hasErrorEvent)

    -- Unfiltered: the other channel's events too; detailType alone filters across channels.
    assert.equal(#events + 2, #admin:events())
    assert.same({ "Session Created", "Stream Start" }, names_of(admin:events{ channelArn = other.arn }))
    assert.equal(4 + 2, #admin:events{ detailType = "IVS Stream State Change" })
    admin:clear_events()
    assert.same({}, admin:events())
  end)
end)

describe("admin faults", function()
  it("a 503 for the next N calls is retried: N+1 attempts, then success", function()
    local ch = assert(client:create_channel{ name = "flaky" }).channel
    admin:add_fault{ operation = "GetChannel", status = 503, errorCode = "ServiceUnavailable", count = 2 }
    local faults = admin:faults()
    assert.equal(1, #faults)
    assert.equal("GetChannel", faults[1].operation)
    assert.equal(2, faults[1].count)

    -- Two attempts are not enough against two faults.
    local short = new_client{ max_attempts = 2 }
    local out, err = short:get_channel{ arn = ch.arn }
    short:close()
    assert.is_nil(out)
    assert.equal("ServiceUnavailable", err.code)
    assert.equal(503, err.status)
    assert.is_true(err.retryable)
    assert.equal(2, err.attempts)
    assert.is_string(err.request_id)
    assert.same({}, admin:faults())

    admin:add_fault{ operation = "GetChannel", status = 503, errorCode = "ServiceUnavailable", count = 2 }
    local c, lines = logging_client{ max_attempts = 3 }
    local got = assert(c:get_channel{ arn = ch.arn })
    c:close()
    assert.equal(ch.arn, got.channel.arn)
    assert.equal(2, count_matching(lines, "GetChannel: attempt %d failed %(ServiceUnavailable%), retrying"))
    assert.equal(1, count_matching(lines, "GetChannel: attempt 2 failed"))
    -- Other operations were never affected.
    assert(client:list_channels{})
  end)

  it("a 400 fault is not retried", function()
    admin:add_fault{ operation = "ListChannels", status = 400, errorCode = "ValidationException",
      message = "injected by emulator_admin_spec", count = 3 }
    local out, err = client:list_channels{}
    assert.is_nil(out)
    assert.equal("ValidationException", err.code)
    assert.equal(400, err.status)
    assert.is_false(err.retryable)
    assert.equal(1, err.attempts)
    assert.equal("injected by emulator_admin_spec", err.message)
    -- Two of the three faults are left.
    assert.equal(2, admin:faults()[1].count)
    admin:clear_faults()
    assert(client:list_channels{})
  end)

  it("added latency is observable and ends with the fault", function()
    admin:add_fault{ operation = "ListChannels", latencyMs = 400, count = 1 }
    local t0 = socket.gettime()
    assert(client:list_channels{})
    local slow = socket.gettime() - t0
    t0 = socket.gettime()
    assert(client:list_channels{})
    local fast = socket.gettime() - t0
    assert.is_true(slow >= 0.4, "delayed call took " .. slow .. " s")
    assert.is_true(fast < 0.4, "undelayed call took " .. fast .. " s")
  end)

  it("a dropped connection is a retryable ConnectionError; a retry gets through", function()
    admin:add_fault{ operation = "CreateChannel", dropConnection = true, count = 1 }
    local once = new_client{ max_attempts = 1 }
    local out, err = once:create_channel{ name = "dropped" }
    once:close()
    assert.is_nil(out)
    assert.equal("network", err.kind)
    assert.equal("ConnectionError", err.code)
    assert.equal(0, err.status)
    assert.is_true(err.retryable)
    assert.equal(1, err.attempts)

    admin:add_fault{ operation = "CreateChannel", dropConnection = true, count = 1 }
    local c, lines = logging_client()
    assert(c:create_channel{ name = "kept" })
    c:close()
    assert.equal(1, count_matching(lines, "CreateChannel: attempt 1 failed %(ConnectionError%), retrying"))
    -- The dropped requests changed nothing: one channel exists.
    local names = {}
    for ch in client:items("list_channels") do names[#names + 1] = ch.name end
    assert.same({ "kept" }, names)
  end)

  it("'*' faults every operation until cleared; bad faults are refused", function()
    admin:add_fault{ operation = "*", status = 500, errorCode = "InternalServerException", count = 0 }
    local c = new_client{ max_attempts = 1 }
    local _, err = c:list_channels{}
    assert.equal("InternalServerException", err.code)
    assert.equal(500, err.status)
    _, err = c:list_playback_key_pairs{}
    assert.equal("InternalServerException", err.code)
    admin:clear_faults()
    assert(c:list_channels{})
    c:close()

    assert.equal(400, (admin:post("/faults", { operation = "NoSuchOperation", status = 500 })))
    assert.equal(400, (admin:post("/faults", { operation = "GetChannel", status = 200 })))
    assert.equal(400, (admin:post("/faults", { operation = "GetChannel", latencyMs = 600000 })))
    assert.same({}, admin:faults())
  end)
end)
