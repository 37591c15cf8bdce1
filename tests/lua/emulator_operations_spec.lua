-- Every IVS operation, driven through the Lua client against a real ivs-emulator, in the order
-- a user would call them, with the state checked after each step and the formats the service
-- uses. The last spec counts the operations exercised: dropping one fails it.
local ivs = require("ivs")
local emulator = require("helpers.emulator")
local admin_helper = require("helpers.admin")

local REGION, ACCOUNT = emulator.REGION, emulator.ACCOUNT
local ARN_PREFIX = "arn:aws:ivs:" .. REGION .. ":" .. ACCOUNT .. ":"
local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"
local MEDIATAILOR = "arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/"

local emu, admin, raw_client, client

-- Operations called through `client`, by snake name (also through pages/items/run_all).
local exercised = {}
local is_operation = {}
for _, name in ipairs(ivs.operations()) do is_operation[name] = true end

-- A client wrapper that records each operation it is asked to run.
local function tracking(c)
  return setmetatable({}, {
    __index = function(_, key)
      if is_operation[key] then
        return function(_, params)
          exercised[key] = true
          return c[key](c, params)
        end
      elseif key == "pages" or key == "items" then
        return function(_, op, ...)
          exercised[op] = true
          return c[key](c, op, ...)
        end
      elseif key == "run_all" then
        return function(_, calls, ...)
          for _, entry in ipairs(calls) do exercised[entry[1]] = true end
          return c:run_all(calls, ...)
        end
      end
      return function(_, ...) return c[key](c, ...) end
    end,
  })
end

local function escape(s) return (s:gsub("%p", "%%%0")) end

local function arn_of(kind)
  return "^" .. escape(ARN_PREFIX .. kind .. "/") .. "(%w+)$"
end

-- Asserts an ARN of the given type with a 12-character alphanumeric id; returns the id.
local function check_arn(arn, kind)
  assert.is_string(arn)
  local id = arn:match(arn_of(kind))
  assert.is_not_nil(id, arn .. " is not a " .. kind .. " ARN")
  assert.equal(12, #id, arn)
  return id
end

local function expect_error(code, status, out, err)
  assert.is_nil(out)
  assert.is_true(ivs.is_error(err), tostring(err))
  assert.equal(code, err.code, tostring(err))
  assert.equal(status, err.status, tostring(err))
  assert.is_true(#err.request_id > 0)
  return err
end

local function missing(kind)
  return ARN_PREFIX .. kind .. "/AAAAAAAAAAAA"
end

-- Walks every page; returns the number of pages and the items in order.
local function walk(op, key, params)
  local pages, items = 0, {}
  for page in client:pages(op, params) do
    pages = pages + 1
    for _, item in ipairs(page[key]) do items[#items + 1] = item end
  end
  local via_items = {}
  for item in client:items(op, params) do via_items[#via_items + 1] = item end
  assert.same(items, via_items)
  return pages, items
end

local function arns(list, field)
  local out = {}
  for i, item in ipairs(list) do out[i] = item[field or "arn"] end
  return out
end

setup(function()
  emu = emulator.start()
  admin = admin_helper.new(emu)
  raw_client = assert(ivs.new{ endpoint = emu.url, region = emu.region, credentials = emu.credentials })
  client = tracking(raw_client)
end)

teardown(function()
  if raw_client then raw_client:close() end
  emulator.stop_all()
end)

before_each(function()
  admin:reset()
end)

describe("channels through the emulator", function()
  it("create, get, update, list, batch get and delete with the service's formats", function()
    local created = assert(client:create_channel{ name = "lobby", latencyMode = "NORMAL", type = "BASIC",
      tags = { team = "games" } })
    local ch, key = created.channel, created.streamKey
    local id = check_arn(ch.arn, "channel")
    assert.equal("lobby", ch.name)
    assert.equal("NORMAL", ch.latencyMode)
    assert.equal("BASIC", ch.type)
    assert.is_false(ch.authorized)
    assert.is_false(ch.insecureIngest)
    assert.equal("", ch.recordingConfigurationArn)
    assert.same({ team = "games" }, ch.tags)
    local host = ch.ingestEndpoint:match("^(%x+)%.global%-contribute%.live%-video%.net$")
    assert.is_not_nil(host, ch.ingestEndpoint)
    assert.equal(12, #host)
    assert.equal("https://" .. host .. ".us-west-2.playback.live-video.net/api/video/v1/us-west-2."
      .. ACCOUNT .. ".channel." .. id .. ".m3u8", ch.playbackUrl)
    assert.equal(host .. ".srt.live-video.net", ch.srt.endpoint)
    assert.equal(79, #ch.srt.passphrase)
    -- The channel's own stream key comes with it and carries its tags.
    local key_id = check_arn(key.arn, "stream-key")
    assert.equal(ch.arn, key.channelArn)
    assert.matches("^sk_us%-west%-2_" .. key_id .. "_%w+$", key.value)
    assert.equal(#"sk_us-west-2_" + 12 + 1 + 30, #key.value)
    assert.same({ team = "games" }, key.tags)

    assert.same(ch, client:get_channel{ arn = ch.arn }.channel)

    local updated = assert(client:update_channel{ arn = ch.arn, name = "lobby-2", latencyMode = "LOW",
      type = "STANDARD", authorized = true }).channel
    assert.equal("lobby-2", updated.name)
    assert.equal("LOW", updated.latencyMode)
    assert.is_true(updated.authorized)
    assert.equal(ch.playbackUrl, updated.playbackUrl)
    assert.same(updated, client:get_channel{ arn = ch.arn }.channel)

    local other = assert(client:create_channel{ name = "stage" }).channel
    assert.equal("LOW", other.latencyMode)
    assert.equal("STANDARD", other.type)

    local list = assert(client:list_channels{}).channels
    assert.same({ ch.arn, other.arn }, arns(list))
    for _, summary in ipairs(list) do
      -- Summaries leave out the endpoints and the multitrack/container details.
      assert.is_nil(summary.playbackUrl)
      assert.is_nil(summary.ingestEndpoint)
      assert.is_nil(summary.srt)
      assert.is_nil(summary.containerFormat)
      assert.is_not_nil(summary.latencyMode)
    end
    assert.same({ other.arn }, arns(client:list_channels{ filterByName = "stage" }.channels))

    local batch = assert(client:batch_get_channel{ arns = { ch.arn, missing("channel"), other.arn } })
    assert.same({ ch.arn, other.arn }, arns(batch.channels))
    assert.equal(1, #batch.errors)
    assert.equal(missing("channel"), batch.errors[1].arn)
    assert.equal("404", batch.errors[1].code)

    assert.same({}, assert(client:delete_channel{ arn = ch.arn }))
    expect_error("ResourceNotFoundException", 404, client:get_channel{ arn = ch.arn })
    -- Its stream key went with it.
    expect_error("ResourceNotFoundException", 404, client:get_stream_key{ arn = key.arn })
    assert.same({ other.arn }, arns(client:list_channels{}.channels))
  end)

  it("pages list_channels with pages() and items() over 3 pages", function()
    local made = {}
    for i = 1, 5 do made[i] = assert(client:create_channel{ name = "ch-" .. i }).channel.arn end
    local pages, items = walk("list_channels", "channels", { maxResults = 2 })
    assert.equal(3, pages)
    assert.same(made, arns(items))
    -- A filter holds across pages (names need not be unique).
    local twins = {}
    for i = 1, 3 do twins[i] = assert(client:create_channel{ name = "twin" }).channel.arn end
    pages, items = walk("list_channels", "channels", { maxResults = 1, filterByName = "twin" })
    assert.equal(3, pages)
    assert.same(twins, arns(items))
  end)
end)

describe("stream keys through the emulator", function()
  it("delete, create, get, list and batch get", function()
    local created = assert(client:create_channel{ name = "keys" })
    local ch = created.channel
    assert.same({ created.streamKey.arn }, arns(client:list_stream_keys{ channelArn = ch.arn }.streamKeys))
    assert.same({}, assert(client:delete_stream_key{ arn = created.streamKey.arn }))
    assert.same({}, assert(client:list_stream_keys{ channelArn = ch.arn }).streamKeys)

    local key = assert(client:create_stream_key{ channelArn = ch.arn, tags = { use = "backup" } }).streamKey
    local key_id = check_arn(key.arn, "stream-key")
    assert.matches("^sk_us%-west%-2_" .. key_id .. "_%w+$", key.value)
    assert.are_not.equal(created.streamKey.value, key.value)
    assert.same(key, client:get_stream_key{ arn = key.arn }.streamKey)

    local summaries = assert(client:list_stream_keys{ channelArn = ch.arn, maxResults = 50 }).streamKeys
    assert.same({ key.arn }, arns(summaries))
    assert.is_nil(summaries[1].value)
    assert.same({ use = "backup" }, summaries[1].tags)
    -- One key per channel: items() across channels' lists still ends after one page each.
    local n = 0
    for _ in client:items("list_stream_keys", { channelArn = ch.arn, maxResults = 1 }) do n = n + 1 end
    assert.equal(1, n)

    local batch = assert(client:batch_get_stream_key{ arns = { key.arn, missing("stream-key") } })
    assert.same({ key.arn }, arns(batch.streamKeys))
    assert.equal(key.value, batch.streamKeys[1].value)
    assert.equal(missing("stream-key"), batch.errors[1].arn)
    assert.equal("404", batch.errors[1].code)
  end)
end)

describe("recording configurations through the emulator", function()
  it("create, get, attach, filter channels by it, detach, delete; 3 pages", function()
    local rc = assert(client:create_recording_configuration{ name = "archive",
      destinationConfiguration = { s3 = { bucketName = "my-recordings" } },
      thumbnailConfiguration = { recordingMode = "INTERVAL", targetIntervalSeconds = 30 },
      recordingReconnectWindowSeconds = 60, tags = { team = "vod" } }).recordingConfiguration
    check_arn(rc.arn, "recording-configuration")
    assert.equal("ACTIVE", rc.state)
    assert.equal("my-recordings", rc.destinationConfiguration.s3.bucketName)
    assert.equal(30, rc.thumbnailConfiguration.targetIntervalSeconds)
    assert.equal(60, rc.recordingReconnectWindowSeconds)
    assert.same(rc, client:get_recording_configuration{ arn = rc.arn }.recordingConfiguration)

    local ch = assert(client:create_channel{ name = "recorded", recordingConfigurationArn = rc.arn }).channel
    assert.equal(rc.arn, ch.recordingConfigurationArn)
    assert(client:create_channel{ name = "plain" })
    assert.same({ ch.arn }, arns(client:list_channels{ filterByRecordingConfigurationArn = rc.arn }.channels))
    assert.equal("", assert(client:update_channel{ arn = ch.arn, recordingConfigurationArn = "" })
      .channel.recordingConfigurationArn)
    assert.same({}, client:list_channels{ filterByRecordingConfigurationArn = rc.arn }.channels)

    local made = { rc.arn }
    for i = 2, 5 do
      made[i] = assert(client:create_recording_configuration{ name = "rc-" .. i,
        destinationConfiguration = { s3 = { bucketName = "bucket-" .. i } } }).recordingConfiguration.arn
    end
    local pages, items = walk("list_recording_configurations", "recordingConfigurations", { maxResults = 2 })
    assert.equal(3, pages)
    assert.same(made, arns(items))
    assert.equal("ACTIVE", items[1].state)
    assert.equal("my-recordings", items[1].destinationConfiguration.s3.bucketName)

    assert.same({}, assert(client:delete_recording_configuration{ arn = rc.arn }))
    expect_error("ResourceNotFoundException", 404, client:get_recording_configuration{ arn = rc.arn })
  end)
end)

describe("playback key pairs through the emulator", function()
  it("import, get, list over 3 pages, delete", function()
    local pems, made = {}, {}
    for i = 1, 3 do
      pems[i] = admin_helper.ec_public_key()
      local pair = assert(client:import_playback_key_pair{ name = "players-" .. i, publicKeyMaterial = pems[i],
        tags = { n = tostring(i) } }).keyPair
      check_arn(pair.arn, "playback-key")
      assert.equal("players-" .. i, pair.name)
      assert.matches("^%x%x" .. string.rep(":%x%x", 15) .. "$", pair.fingerprint)
      assert.same({ n = tostring(i) }, pair.tags)
      made[i] = pair
    end
    assert.are_not.equal(made[1].fingerprint, made[2].fingerprint)
    assert.same(made[2], client:get_playback_key_pair{ arn = made[2].arn }.keyPair)

    local pages, items = walk("list_playback_key_pairs", "keyPairs", { maxResults = 1 })
    assert.equal(3, pages)
    assert.same(arns(made), arns(items))
    assert.equal("players-1", items[1].name)

    assert.same({}, assert(client:delete_playback_key_pair{ arn = made[1].arn }))
    expect_error("ResourceNotFoundException", 404, client:get_playback_key_pair{ arn = made[1].arn })
    -- The same key can come back once its pair is gone.
    assert(client:import_playback_key_pair{ publicKeyMaterial = pems[1] })
  end)
end)

describe("playback restriction policies through the emulator", function()
  it("create, get, update, attach, list over 3 pages, delete", function()
    local policy = assert(client:create_playback_restriction_policy{ name = "eu-only",
      allowedCountries = { "DE", "FR" }, allowedOrigins = { "https://example.com" },
      enableStrictOriginEnforcement = true }).playbackRestrictionPolicy
    check_arn(policy.arn, "playback-restriction-policy")
    assert.same({ "DE", "FR" }, policy.allowedCountries)
    assert.same({ "https://example.com" }, policy.allowedOrigins)
    assert.is_true(policy.enableStrictOriginEnforcement)
    assert.same(policy, client:get_playback_restriction_policy{ arn = policy.arn }.playbackRestrictionPolicy)

    local updated = assert(client:update_playback_restriction_policy{ arn = policy.arn, name = "eu-us",
      allowedCountries = { "DE", "US" }, enableStrictOriginEnforcement = false }).playbackRestrictionPolicy
    assert.equal("eu-us", updated.name)
    assert.same({ "DE", "US" }, updated.allowedCountries)
    assert.is_false(updated.enableStrictOriginEnforcement)
    assert.same(updated, client:get_playback_restriction_policy{ arn = policy.arn }.playbackRestrictionPolicy)

    local ch = assert(client:create_channel{ name = "geo", playbackRestrictionPolicyArn = policy.arn }).channel
    assert.equal(policy.arn, ch.playbackRestrictionPolicyArn)
    assert.same({ ch.arn },
      arns(client:list_channels{ filterByPlaybackRestrictionPolicyArn = policy.arn }.channels))
    assert(client:update_channel{ arn = ch.arn, playbackRestrictionPolicyArn = "" })

    local made = { policy.arn }
    for i = 2, 3 do
      made[i] = assert(client:create_playback_restriction_policy{ name = "p" .. i })
        .playbackRestrictionPolicy.arn
    end
    -- The default page size is 1 for this operation.
    local pages, items = walk("list_playback_restriction_policies", "playbackRestrictionPolicies", {})
    assert.equal(3, pages)
    assert.same(made, arns(items))

    assert.same({}, assert(client:delete_playback_restriction_policy{ arn = policy.arn }))
    expect_error("ResourceNotFoundException", 404,
      client:get_playback_restriction_policy{ arn = policy.arn })
  end)
end)

describe("ad configurations through the emulator", function()
  it("create, get, update, attach, list over 3 pages, delete", function()
    local ad = assert(client:create_ad_configuration{ name = "ads",
      mediaTailorPlaybackConfigurations = { { playbackConfigurationArn = MEDIATAILOR .. "main" } },
      tags = { team = "ads" } }).adConfiguration
    check_arn(ad.arn, "ad-configuration")
    assert.equal(MEDIATAILOR .. "main", ad.mediaTailorPlaybackConfigurations[1].playbackConfigurationArn)
    assert.same({ team = "ads" }, ad.tags)
    assert.same(ad, client:get_ad_configuration{ arn = ad.arn }.adConfiguration)

    local updated = assert(client:update_ad_configuration{ arn = ad.arn, name = "ads-2",
      mediaTailorPlaybackConfigurations = { { playbackConfigurationArn = MEDIATAILOR .. "other" } },
      postRollConfiguration = { enabled = true, durationSeconds = 30 } }).adConfiguration
    assert.equal("ads-2", updated.name)
    assert.equal(MEDIATAILOR .. "other", updated.mediaTailorPlaybackConfigurations[1].playbackConfigurationArn)
    assert.same({ enabled = true, durationSeconds = 30 }, updated.postRollConfiguration)
    assert.same(updated, client:get_ad_configuration{ arn = ad.arn }.adConfiguration)

    local ch = assert(client:create_channel{ name = "with-ads", adConfigurationArn = ad.arn }).channel
    assert.equal(ad.arn, ch.adConfigurationArn)
    assert.same({ ch.arn }, arns(client:list_channels{ filterByAdConfigurationArn = ad.arn }.channels))
    assert(client:delete_channel{ arn = ch.arn })

    local made = { ad.arn }
    for i = 2, 3 do
      made[i] = assert(client:create_ad_configuration{ name = "ads-" .. i,
        mediaTailorPlaybackConfigurations = { { playbackConfigurationArn = MEDIATAILOR .. "c" .. i } } })
        .adConfiguration.arn
    end
    local pages, items = walk("list_ad_configurations", "adConfigurations", { maxResults = 1 })
    assert.equal(3, pages)
    assert.same(made, arns(items))

    assert.same({}, assert(client:delete_ad_configuration{ arn = ad.arn }))
    expect_error("ResourceNotFoundException", 404, client:get_ad_configuration{ arn = ad.arn })
  end)
end)

describe("tags through the emulator", function()
  it("tag, list and untag keys with spaces, '+', '=', '/' and non-ASCII", function()
    local ch = assert(client:create_channel{ name = "tagged", tags = { keep = "me" } }).channel
    local tags = {
      ["a key"] = "a value", ["x+y"] = "1+1", ["k=v"] = "a=b", ["path/to"] = "/a/b",
      ["clé é"] = "café ☕", ["plain"] = "",
    }
    assert.same({}, assert(client:tag_resource{ resourceArn = ch.arn, tags = tags }))
    local want = { keep = "me" }
    for k, v in pairs(tags) do want[k] = v end
    assert.same(want, client:list_tags_for_resource{ resourceArn = ch.arn }.tags)
    assert.same(want, client:get_channel{ arn = ch.arn }.channel.tags)

    -- tagKeys travel in the query string: every awkward key must arrive intact.
    assert.same({}, assert(client:untag_resource{ resourceArn = ch.arn,
      tagKeys = { "a key", "x+y", "k=v", "path/to", "clé é" } }))
    assert.same({ keep = "me", plain = "" }, client:list_tags_for_resource{ resourceArn = ch.arn }.tags)

    -- Other resource types take tags the same way.
    local rc = assert(client:create_recording_configuration{
      destinationConfiguration = { s3 = { bucketName = "tags-bucket" } } }).recordingConfiguration
    assert(client:tag_resource{ resourceArn = rc.arn, tags = { ["x+y=z"] = "ü" } })
    assert.same({ ["x+y=z"] = "ü" }, client:list_tags_for_resource{ resourceArn = rc.arn }.tags)
    expect_error("ResourceNotFoundException", 404,
      client:list_tags_for_resource{ resourceArn = missing("channel") })
  end)
end)

describe("streams through the emulator", function()
  it("a simulated broadcast: get, list by health, sessions, metadata, ad break, stop", function()
    local rc = assert(client:create_recording_configuration{
      destinationConfiguration = { s3 = { bucketName = "rec-bucket" } } }).recordingConfiguration
    local ad = assert(client:create_ad_configuration{
      mediaTailorPlaybackConfigurations = { { playbackConfigurationArn = MEDIATAILOR .. "live" } } })
      .adConfiguration
    local ch = assert(client:create_channel{ name = "live", recordingConfigurationArn = rc.arn,
      adConfigurationArn = ad.arn }).channel
    expect_error("ChannelNotBroadcasting", 404, client:get_stream{ channelArn = ch.arn })

    local started = admin:start_stream{ channelArn = ch.arn, viewerCount = 12 }
    local stream = assert(client:get_stream{ channelArn = ch.arn }).stream
    assert.equal(ch.arn, stream.channelArn)
    assert.equal("LIVE", stream.state)
    assert.equal("HEALTHY", stream.health)
    assert.equal(12, stream.viewerCount)
    assert.equal(ch.playbackUrl, stream.playbackUrl)
    assert.matches("^st%-" .. string.rep("%w", 23) .. "$", stream.streamId)
    assert.equal(started.stream.streamId, stream.streamId)
    assert.matches(ISO, stream.startTime)

    local healthy = assert(client:list_streams{ filterBy = { health = "HEALTHY" } }).streams
    assert.same({ ch.arn }, arns(healthy, "channelArn"))
    assert.is_nil(healthy[1].playbackUrl)
    assert.same({}, client:list_streams{ filterBy = { health = "STARVING" } }.streams)
    admin:stream_health{ channelArn = ch.arn, health = "STARVING" }
    assert.same({ ch.arn }, arns(client:list_streams{ filterBy = { health = "STARVING" } }.streams, "channelArn"))
    assert.same({}, client:list_streams{ filterBy = { health = "HEALTHY" } }.streams)

    local session = assert(client:get_stream_session{ channelArn = ch.arn, streamId = stream.streamId })
      .streamSession
    assert.equal(stream.streamId, session.streamId)
    assert.matches(ISO, session.startTime)
    assert.is_nil(session.endTime)
    assert.equal(ch.arn, session.channel.arn)
    assert.equal(rc.arn, session.recordingConfiguration.arn)
    assert.is_number(session.ingestConfiguration.video.videoWidth)
    -- Without a stream id: the current session.
    assert.equal(stream.streamId, client:get_stream_session{ channelArn = ch.arn }.streamSession.streamId)

    assert.same({}, assert(client:put_metadata{ channelArn = ch.arn, metadata = '{"scene":"intro"}' }))
    assert.same({}, assert(client:put_metadata{ channelArn = ch.arn, metadata = string.rep("m", 1024) }))
    local ad_break = assert(client:insert_ad_break{ channelArn = ch.arn, durationSeconds = 30 })
    assert.matches("^%w+$", ad_break.adBreakId)

    assert.same({}, assert(client:stop_stream{ channelArn = ch.arn }))
    expect_error("ChannelNotBroadcasting", 404, client:get_stream{ channelArn = ch.arn })
    assert.same({}, client:list_streams{}.streams)
    local ended = assert(client:get_stream_session{ channelArn = ch.arn, streamId = stream.streamId })
      .streamSession
    assert.matches(ISO, ended.endTime)
    local sessions = assert(client:list_stream_sessions{ channelArn = ch.arn }).streamSessions
    assert.equal(1, #sessions)
    assert.equal(stream.streamId, sessions[1].streamId)
    assert.matches(ISO, sessions[1].endTime)
    assert.is_false(sessions[1].hasErrorEvent)
  end)

  it("pages list_streams and list_stream_sessions over 3 pages", function()
    local live = {}
    for i = 1, 3 do
      live[i] = assert(client:create_channel{ name = "live-" .. i }).channel.arn
      admin:start_stream{ channelArn = live[i] }
    end
    local pages, items = walk("list_streams", "streams", { maxResults = 1 })
    assert.equal(3, pages)
    table.sort(live)
    local got = arns(items, "channelArn")
    table.sort(got)
    assert.same(live, got)

    local ch = live[1]
    admin:stop_stream{ channelArn = ch }
    local ids = {}
    for i = 1, 3 do
      ids[i] = admin:start_stream{ channelArn = ch }.stream.streamId
      admin:stop_stream{ channelArn = ch }
    end
    pages, items = walk("list_stream_sessions", "streamSessions", { channelArn = ch, maxResults = 2 })
    assert.equal(2, pages)
    assert.equal(4, #items)
    -- Newest first.
    assert.same({ ids[3], ids[2], ids[1] }, { items[1].streamId, items[2].streamId, items[3].streamId })
    pages = walk("list_stream_sessions", "streamSessions", { channelArn = ch, maxResults = 1 })
    assert.equal(4, pages)
  end)
end)

describe("viewer-session revocations through the emulator", function()
  it("single and batch, with per-item errors", function()
    local ch = assert(client:create_channel{ name = "private", authorized = true }).channel
    assert.same({}, assert(client:start_viewer_session_revocation{ channelArn = ch.arn, viewerId = "viewer-1",
      viewerSessionVersionsLessThanOrEqualTo = 3 }))
    expect_error("ResourceNotFoundException", 404,
      client:start_viewer_session_revocation{ channelArn = missing("channel"), viewerId = "viewer-1" })

    local out = assert(client:batch_start_viewer_session_revocation{ viewerSessions = {
      { channelArn = ch.arn, viewerId = "viewer-2" },
      { channelArn = missing("channel"), viewerId = "viewer-3" },
      { channelArn = ch.arn, viewerId = "viewer-4", viewerSessionVersionsLessThanOrEqualTo = 7 },
    } })
    assert.equal(1, #out.errors)
    assert.equal(missing("channel"), out.errors[1].channelArn)
    assert.equal("viewer-3", out.errors[1].viewerId)
    assert.equal("404", out.errors[1].code)
    assert.is_string(out.errors[1].message)
  end)
end)

describe("many calls at once through the emulator", function()
  it("run_all: 50 create_channel calls with concurrency 16, 50 distinct ARNs", function()
    local calls = {}
    for i = 1, 50 do calls[i] = { "create_channel", { name = "bulk-" .. i } } end
    local results = client:run_all(calls, { concurrency = 16 })
    assert.equal(50, #results)
    local seen = {}
    for i, r in ipairs(results) do
      assert.is_nil(r.err, tostring(r.err))
      assert.equal("bulk-" .. i, r.result.channel.name)
      check_arn(r.result.channel.arn, "channel")
      seen[r.result.channel.arn] = true
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.equal(50, n)
    assert.equal(50, admin:health().channels)
    local listed = 0
    for _ in client:items("list_channels", { maxResults = 20 }) do listed = listed + 1 end
    assert.equal(50, listed)
  end)
end)

describe("coverage", function()
  it("every operation of ivs.operations() was exercised above", function()
    local names = ivs.operations()
    assert.equal(41, #names)
    local left = {}
    for _, name in ipairs(names) do
      if not exercised[name] then left[#left + 1] = name end
    end
    local n = 0
    for name in pairs(exercised) do
      assert.is_true(is_operation[name], name)
      n = n + 1
    end
    assert.same({}, left)
    assert.equal(#names, n)
  end)
end)
