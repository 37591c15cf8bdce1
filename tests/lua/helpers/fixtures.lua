--- Spec support: realistic IVS resources and small assertion helpers shared by the specs.
local compat = require("helpers.compat")
local M = {}

M.REGION = "us-west-2"
M.AKID = "AKIDEXAMPLE"
M.SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
M.TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessiontokenvalue/+=="
M.STREAM_KEY = "sk_us-west-2_Bsx5nM8wyKXb_EXAMPLESTREAMKEYVALUE"

local P = "arn:aws:ivs:us-west-2:123456789012:"
M.CHANNEL_ARN = P .. "channel/abcdEFGH1234"
M.CHANNEL_ARN2 = P .. "channel/ijklMNOP5678"
M.STREAM_KEY_ARN = P .. "stream-key/g1H2I3j4k5L6"
M.KEY_PAIR_ARN = P .. "playback-key/f99cde61-c2b0-4df3-8941-ca7d38acca1a"
M.RECORDING_ARN = P .. "recording-configuration/ABcdef34ghIJ"
M.POLICY_ARN = P .. "playback-restriction-policy/ABcdef34ghIJ"
M.AD_ARN = P .. "ad-configuration/ABcdef34ghIJ"
M.MEDIATAILOR_ARN = "arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/lobby-ads"
M.CHANNEL_ARN_ENCODED = "arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdEFGH1234"

M.channel = {
  arn = M.CHANNEL_ARN, name = "lobby", latencyMode = "LOW", type = "STANDARD",
  recordingConfigurationArn = "", ingestEndpoint = "a1b2c3d4e5f6.global-contribute.live-video.net",
  playbackUrl = "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/us-west-2.123456789012"
    .. ".channel.abcdEFGH1234.m3u8",
  authorized = false, insecureIngest = false, preset = "", tags = { team = "games" },
  srt = { endpoint = "a1b2c3d4e5f6.srt.live-video.net", passphrase = "AbCdEfGhIjKlMnOpQrStUvWxYz012345" },
  playbackRestrictionPolicyArn = "", adConfigurationArn = "", containerFormat = "TS",
  multitrackInputConfiguration = { enabled = false, policy = "ALLOW", maximumResolution = "FULL_HD" },
}
M.channel_summary = {
  arn = M.CHANNEL_ARN, name = "lobby", latencyMode = "LOW", authorized = false, insecureIngest = false,
  recordingConfigurationArn = "", playbackRestrictionPolicyArn = "", adConfigurationArn = "",
  type = "STANDARD", preset = "", tags = { team = "games" },
}
M.stream_key = { arn = M.STREAM_KEY_ARN, value = M.STREAM_KEY, channelArn = M.CHANNEL_ARN, tags = { team = "games" } }
M.stream_key_summary = { arn = M.STREAM_KEY_ARN, channelArn = M.CHANNEL_ARN, tags = { team = "games" } }
M.key_pair = { arn = M.KEY_PAIR_ARN, name = "player-keys", tags = { team = "games" },
  fingerprint = "98:0d:1a:a0:19:96:1e:ea:0a:0a:2c:9a:42:19:2b:e7" }
M.recording = {
  arn = M.RECORDING_ARN, name = "archive", state = "ACTIVE", tags = {},
  destinationConfiguration = { s3 = { bucketName = "lobby-recordings" } },
  thumbnailConfiguration = { recordingMode = "INTERVAL", targetIntervalSeconds = 30, resolution = "HD",
    storage = { "SEQUENTIAL", "LATEST" } },
  recordingReconnectWindowSeconds = 60,
  renditionConfiguration = { renditionSelection = "CUSTOM", renditions = { "HD", "SD" } },
}
M.policy = { arn = M.POLICY_ARN, name = "eu-only", allowedCountries = { "DE", "FR" },
  allowedOrigins = { "https://play.example.com" }, enableStrictOriginEnforcement = true, tags = { team = "games" } }
M.ad_configuration = {
  arn = M.AD_ARN, name = "lobby-ads", tags = { team = "games" },
  mediaTailorPlaybackConfigurations = { { playbackConfigurationArn = M.MEDIATAILOR_ARN } },
  postRollConfiguration = { durationSeconds = 30, enabled = true },
}
M.stream = {
  channelArn = M.CHANNEL_ARN, streamId = "st-1A2b3C4d5E6f7G8h9I0jKlM", playbackUrl = M.channel.playbackUrl,
  startTime = "2026-03-01T17:02:33Z", state = "LIVE", health = "HEALTHY", viewerCount = 4321,
}
M.stream_session = {
  streamId = "st-1A2b3C4d5E6f7G8h9I0jKlM", startTime = "2026-03-01T17:02:33Z", endTime = "2026-03-01T18:10:05Z",
  channel = M.channel, recordingConfiguration = M.recording,
  ingestConfiguration = {
    video = { avcProfile = "Main", avcLevel = "4.1", codec = "avc1.4D4029",
      encoder = "obs-output module (libobs 30.0.2)",
      targetBitrate = 6000000, targetFramerate = 60, videoHeight = 1080, videoWidth = 1920 },
    audio = { codec = "mp4a.40.2", targetBitrate = 160000, sampleRate = 48000, channels = 2 },
  },
  truncatedEvents = {
    { name = "Session Created", type = "IVS Stream State Change", eventTime = "2026-03-01T17:02:33Z" },
    { name = "Stream Start", type = "IVS Stream State Change", eventTime = "2026-03-01T17:02:34Z" },
  },
}

--- Deep comparison that also requires integers to stay integers (math.type) and booleans
-- to stay booleans. Returns true, or false and the path of the first difference.
function M.same_typed(expected, actual, path)
  path = path or "result"
  if type(expected) ~= type(actual) then
    return false, string.format("%s: expected %s, got %s", path, type(expected), type(actual))
  end
  if type(expected) == "number" then
    if compat.math_type(expected) ~= compat.math_type(actual) or expected ~= actual then
      return false, string.format("%s: expected %s (%s), got %s (%s)", path, tostring(expected),
        compat.math_type(expected), tostring(actual), compat.math_type(actual))
    end
    return true
  end
  if type(expected) ~= "table" then
    if expected ~= actual then
      return false, string.format("%s: expected %q, got %q", path, tostring(expected), tostring(actual))
    end
    return true
  end
  for k, v in pairs(expected) do
    local ok, where = M.same_typed(v, actual[k], path .. "." .. tostring(k))
    if not ok then return false, where end
  end
  for k in pairs(actual) do
    if expected[k] == nil then return false, path .. "." .. tostring(k) .. ": unexpected" end
  end
  return true
end

--- A client pointed at a capture server with the test credentials.
function M.client(ivs, url, extra)
  local opts = {
    region = M.REGION, endpoint = url, max_attempts = 1, timeout = 10,
    credentials = { creds = { access_key_id = M.AKID, secret_access_key = M.SECRET, session_token = M.TOKEN } },
  }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(ivs.new(opts))
end

return M
