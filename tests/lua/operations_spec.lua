-- Every IVS operation through the Lua module: the exact HTTP request that reaches the wire
-- (method, path, query, headers, signed scope, JSON body) and the parsed result of a
-- realistic canned response. One case per operation; the spec checks the table is complete.
local compat = require("helpers.compat")
local capture = require("helpers.capture")
local F = require("helpers.fixtures")
local cjson = require("cjson")
local ivs = require("ivs")

local C, C2 = F.CHANNEL_ARN, F.CHANNEL_ARN2

-- op: snake name; params; path (default "/" .. API name); method (default POST); query;
-- body: expected JSON body (default = params; false = no body); text: literal fragments the raw
-- body must contain; status (default 200); response (a table sent as JSON, or a string);
-- expect: the parsed result (default = response).
local cases = {
  { op = "batch_get_channel", params = { arns = { C, C2 } },
    response = { channels = { F.channel }, errors = { { arn = C2, code = "ResourceNotFoundException",
      message = "Channel not found" } } } },
  { op = "batch_get_stream_key", params = { arns = { F.STREAM_KEY_ARN } },
    response = { streamKeys = { F.stream_key }, errors = {} }, expect = { streamKeys = { F.stream_key },
      errors = {} } },
  { op = "batch_start_viewer_session_revocation",
    params = { viewerSessions = { { channelArn = C, viewerId = "viewer-42",
      viewerSessionVersionsLessThanOrEqualTo = 1700000000 }, { channelArn = C2, viewerId = "viewer-43" } } },
    text = { '"viewerSessionVersionsLessThanOrEqualTo":1700000000' },
    response = { errors = { { channelArn = C2, viewerId = "viewer-43", code = "ResourceNotFoundException",
      message = "channel not found" } } } },
  { op = "create_ad_configuration",
    params = { name = "lobby-ads",
      mediaTailorPlaybackConfigurations = { { playbackConfigurationArn = F.MEDIATAILOR_ARN } },
      postRollConfiguration = { durationSeconds = 30, enabled = true }, tags = { team = "games" } },
    text = { '"durationSeconds":30' },
    response = { adConfiguration = F.ad_configuration } },
  { op = "create_channel",
    params = { name = "lobby", latencyMode = "LOW", type = "STANDARD", authorized = false, insecureIngest = false,
      tags = {}, containerFormat = "TS" },
    text = { '"tags":{}', '"authorized":false' },
    response = { channel = F.channel, streamKey = F.stream_key } },
  { op = "create_playback_restriction_policy",
    params = { name = "eu-only", allowedCountries = { "DE", "FR" }, allowedOrigins = {},
      enableStrictOriginEnforcement = true },
    text = { '"allowedOrigins":[]', '"enableStrictOriginEnforcement":true' },
    response = { playbackRestrictionPolicy = F.policy } },
  { op = "create_recording_configuration",
    params = { name = "archive", destinationConfiguration = { s3 = { bucketName = "lobby-recordings" } },
      thumbnailConfiguration = { recordingMode = "INTERVAL", targetIntervalSeconds = 30, storage = { "SEQUENTIAL" } },
      recordingReconnectWindowSeconds = 60, renditionConfiguration = { renditionSelection = "ALL" } },
    text = { '"targetIntervalSeconds":30', '"recordingReconnectWindowSeconds":60' },
    response = { recordingConfiguration = F.recording } },
  { op = "create_stream_key", params = { channelArn = C, tags = { team = "games" } },
    response = { streamKey = F.stream_key } },
  { op = "delete_ad_configuration", params = { arn = F.AD_ARN }, status = 204, response = "", expect = {} },
  { op = "delete_channel", params = { arn = C }, status = 204, response = "", expect = {} },
  { op = "delete_playback_key_pair", params = { arn = F.KEY_PAIR_ARN }, response = "{}", expect = {} },
  { op = "delete_playback_restriction_policy", params = { arn = F.POLICY_ARN }, status = 204, response = "",
    expect = {} },
  { op = "delete_recording_configuration", params = { arn = F.RECORDING_ARN }, status = 204, response = "",
    expect = {} },
  { op = "delete_stream_key", params = { arn = F.STREAM_KEY_ARN }, status = 204, response = "", expect = {} },
  { op = "get_ad_configuration", params = { arn = F.AD_ARN }, response = { adConfiguration = F.ad_configuration } },
  { op = "get_channel", params = { arn = C }, response = { channel = F.channel } },
  { op = "get_playback_key_pair", params = { arn = F.KEY_PAIR_ARN }, response = { keyPair = F.key_pair } },
  { op = "get_playback_restriction_policy", params = { arn = F.POLICY_ARN },
    response = { playbackRestrictionPolicy = F.policy } },
  { op = "get_recording_configuration", params = { arn = F.RECORDING_ARN },
    response = { recordingConfiguration = F.recording } },
  { op = "get_stream", params = { channelArn = C }, response = { stream = F.stream } },
  { op = "get_stream_key", params = { arn = F.STREAM_KEY_ARN }, response = { streamKey = F.stream_key } },
  { op = "get_stream_session", params = { channelArn = C, streamId = "st-1A2b3C4d5E6f7G8h9I0jKlM" },
    response = { streamSession = F.stream_session } },
  { op = "import_playback_key_pair",
    params = { name = "player-keys", publicKeyMaterial = "-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACID"
      .. "YgAEexample\n-----END PUBLIC KEY-----\n", tags = { team = "games" } },
    text = { "\\n-----END PUBLIC KEY-----\\n" },
    response = { keyPair = F.key_pair } },
  { op = "insert_ad_break", params = { channelArn = C, durationSeconds = 30 }, text = { '"durationSeconds":30' },
    response = { adBreakId = "Ab12Cd34Ef56" } },
  { op = "list_ad_configurations", params = { maxResults = 10 }, text = { '"maxResults":10' },
    response = { adConfigurations = { { arn = F.AD_ARN, name = "lobby-ads", tags = {},
      mediaTailorPlaybackConfigurations = { { playbackConfigurationArn = F.MEDIATAILOR_ARN } } } },
      nextToken = "AQECAHh0ZXN0dG9rZW4" } },
  { op = "list_channels", params = { filterByName = "lobby", maxResults = 50 }, text = { '"maxResults":50' },
    response = { channels = { F.channel_summary } } },
  { op = "list_playback_key_pairs", params = {}, body = {}, text = { "{}" },
    response = { keyPairs = { { arn = F.KEY_PAIR_ARN, name = "player-keys", tags = {} } } } },
  { op = "list_playback_restriction_policies", params = { nextToken = "AQECAHh0ZXN0dG9rZW4", maxResults = 2 },
    response = { playbackRestrictionPolicies = { F.policy } } },
  { op = "list_recording_configurations", params = { maxResults = 100 },
    response = { recordingConfigurations = { { arn = F.RECORDING_ARN, name = "archive", state = "ACTIVE",
      destinationConfiguration = { s3 = { bucketName = "lobby-recordings" } }, tags = {} } } } },
  { op = "list_stream_keys", params = { channelArn = C, maxResults = 1 },
    response = { streamKeys = { F.stream_key_summary } } },
  { op = "list_stream_sessions", params = { channelArn = C },
    response = { streamSessions = { { streamId = "st-1A2b3C4d5E6f7G8h9I0jKlM", startTime = "2026-03-01T17:02:33Z",
      endTime = "2026-03-01T18:10:05Z", hasErrorEvent = false } }, nextToken = "c2Vzc2lvbnMtcGFnZS0y" } },
  { op = "list_streams", params = { filterBy = { health = "HEALTHY" }, maxResults = 20 },
    response = { streams = { { channelArn = C, streamId = F.stream.streamId, state = "LIVE", health = "HEALTHY",
      viewerCount = 4321, startTime = "2026-03-01T17:02:33Z" } } } },
  { op = "list_tags_for_resource", params = { resourceArn = C }, method = "GET",
    path = "/tags/" .. F.CHANNEL_ARN_ENCODED, body = false,
    response = { tags = { team = "games", ["cost center"] = "media:42" } } },
  { op = "put_metadata", params = { channelArn = C, metadata = '{"question":"Who scores next?","round":3}' },
    status = 204, response = "", expect = {} },
  { op = "start_viewer_session_revocation",
    params = { channelArn = C, viewerId = "viewer-42", viewerSessionVersionsLessThanOrEqualTo = 1700000000 },
    text = { '"viewerSessionVersionsLessThanOrEqualTo":1700000000' }, response = "{}", expect = {} },
  { op = "stop_stream", params = { channelArn = C }, response = "{}", expect = {} },
  { op = "tag_resource", params = { resourceArn = C, tags = { team = "games", ["cost center"] = "media:42" } },
    path = "/tags/" .. F.CHANNEL_ARN_ENCODED, body = { tags = { team = "games", ["cost center"] = "media:42" } },
    response = "{}", expect = {} },
  { op = "untag_resource", params = { resourceArn = C, tagKeys = { "team", "cost center" } }, method = "DELETE",
    path = "/tags/" .. F.CHANNEL_ARN_ENCODED, query = "tagKeys=team&tagKeys=cost%20center", body = false,
    response = "{}", expect = {} },
  { op = "update_ad_configuration", params = { arn = F.AD_ARN, name = "lobby-ads-v2",
    postRollConfiguration = { durationSeconds = 45, enabled = false } },
    text = { '"durationSeconds":45' },
    response = { adConfiguration = F.ad_configuration } },
  { op = "update_channel", params = { arn = C, latencyMode = "NORMAL", type = "ADVANCED_HD",
    preset = "CONSTRAINED_BANDWIDTH_DELIVERY", recordingConfigurationArn = "" },
    text = { '"recordingConfigurationArn":""' },
    response = { channel = F.channel } },
  { op = "update_playback_restriction_policy", params = { arn = F.POLICY_ARN, allowedCountries = {},
    allowedOrigins = { "https://play.example.com" } },
    text = { '"allowedCountries":[]' },
    response = { playbackRestrictionPolicy = F.policy } },
}

local function api_name(snake)
  return (snake:gsub("^%l", string.upper):gsub("_(%l)", string.upper))
end

local captured = {} -- op -> the request it sent, for the signature oracle below

-- "20260301T170233Z" -> seconds since the epoch (UTC).
local function amz_epoch(d)
  local y, mo, da, h, mi, s = d:match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  local days_from_civil = function(yy, m, dd)
    yy = m <= 2 and yy - 1 or yy
    local era = math.floor(yy / 400)
    local yoe = yy - era * 400
    local doy = math.floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + dd - 1
    local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
    return era * 146097 + doe - 719468
  end
  return days_from_civil(tonumber(y), tonumber(mo), tonumber(da)) * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60
    + tonumber(s)
end

describe("operations", function()
  after_each(capture.finish_all)

  it("has exactly one case per operation, 41 in all", function()
    local seen = {}
    for _, c in ipairs(cases) do
      assert.is_nil(seen[c.op], "duplicate case " .. c.op)
      seen[c.op] = true
    end
    local ops = ivs.operations()
    assert.equal(41, #ops)
    for _, name in ipairs(ops) do assert.is_true(seen[name], "no case for " .. name) end
    assert.equal(#ops, #cases)
  end)

  for _, case in ipairs(cases) do
    it(case.op .. " sends the exact request and parses the response", function()
      local status = case.status or 200
      local response = case.response
      local srv = capture.start({ { status = status, body = response,
        headers = { ["x-amzn-RequestId"] = "6f1e7d2c-0000-4000-8000-" .. case.op:sub(1, 12) } } })
      local client = F.client(ivs, srv.url)
      local out, err = client[case.op](client, case.params)
      client:close()
      local reqs = srv:finish()
      assert.is_nil(err and tostring(err))
      assert.equal(1, #reqs)
      local r = reqs[1]
      r.port = srv.port
      captured[case.op] = r

      assert.equal(case.method or "POST", r.method)
      assert.equal(case.path or ("/" .. api_name(case.op)), r.path)
      assert.equal(case.query or "", r.query)

      -- Signing: scope, signed headers, date agreement, session token.
      local date = r.header("x-amz-date")
      assert.matches("^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$", date)
      local auth = r.header("authorization")
      local day, signed, sig = auth:match("^AWS4%-HMAC%-SHA256 Credential=" .. F.AKID
        .. "/(%d+)/us%-west%-2/ivs/aws4_request, ?SignedHeaders=([%w;%-]+), ?Signature=(%x+)$")
      assert.is_truthy(day, "Authorization: " .. auth)
      assert.equal(date:sub(1, 8), day)
      assert.equal(64, #sig)
      local signed_set = {}
      for h in signed:gmatch("[^;]+") do signed_set[h] = true end
      assert.is_true(signed_set["host"] and signed_set["x-amz-date"] and signed_set["x-amz-security-token"],
        "SignedHeaders=" .. signed)
      assert.equal(F.TOKEN, r.header("x-amz-security-token"))
      assert.equal("127.0.0.1:" .. srv.port, r.header("host"))
      assert.is_truthy(r.header("user-agent"))
      assert.matches("ivs", r.header("user-agent"))

      if case.body == false then
        assert.equal("", r.body)
      else
        assert.equal("application/json", r.header("content-type"))
        local expected_body = case.body or case.params
        assert.is_truthy(r.json, "body is not JSON: " .. r.body)
        assert.same(expected_body, r.json)
        for _, fragment in ipairs(case.text or {}) do
          assert.is_truthy(r.body:find(fragment, 1, true), "body lacks " .. fragment .. ": " .. r.body)
        end
        -- Integers never go out as 30.0 or 3e1.
        assert.is_nil(r.body:find("%d%.0[,}%]]"), r.body)
      end

      local expect = case.expect
      if expect == nil then
        expect = type(response) == "table" and response or cjson.decode(response)
      end
      local ok, where = F.same_typed(expect, out)
      assert.is_true(ok, where)
    end)
  end

  it("signs exactly as botocore does (independent oracle)", function()
    local oracle = (os.getenv("IVS_ROOT") or ".") .. "/tests/oracle/botocore_sign.py"
    local probe = io.open(oracle, "r")
    if not probe or not compat.execute("python3 -c 'import botocore' >/dev/null 2>&1") then
      if probe then probe:close() end
      pending("botocore or tests/oracle/botocore_sign.py not available")
      return
    end
    probe:close()
    local checked = 0
    for _, op in ipairs({ "create_channel", "list_tags_for_resource", "untag_resource", "tag_resource",
      "put_metadata", "import_playback_key_pair" }) do
      local r = captured[op]
      assert.is_truthy(r, "no request captured for " .. op)
      local signed = r.header("authorization"):match("SignedHeaders=([^,]+)")
      local headers = {}
      for name in signed:gmatch("[^;]+") do
        if name ~= "host" and name ~= "x-amz-date" and name ~= "x-amz-security-token" then
          headers[#headers + 1] = { name, r.header(name) }
        end
      end
      local spec = cjson.encode({
        method = r.method, url = "http://127.0.0.1:" .. r.port .. r.path .. (r.query ~= "" and ("?" .. r.query) or ""),
        headers = headers, body = r.body, region = F.REGION, service = "ivs", time = amz_epoch(r.header("x-amz-date")),
        access_key_id = F.AKID, secret_access_key = F.SECRET, session_token = F.TOKEN,
      })
      local tmp = os.tmpname()
      local f = assert(io.open(tmp, "wb"))
      f:write(spec)
      f:close()
      local p = assert(io.popen("python3 " .. oracle .. " < " .. tmp))
      local out = p:read("*a")
      p:close()
      os.remove(tmp)
      local expected = cjson.decode(out)
      assert.equal(expected.authorization, r.header("authorization"), op .. "\n" .. expected.canonical_request)
      checked = checked + 1
    end
    assert.equal(6, checked)
  end)
end)
