--- Amazon IVS Real-Time from Lua: stages, participants, compositions, ingest, public keys.
--
-- The same library as `ivs`, for the IVS Real-Time API (`ivs-realtime`, 2020-07-14, 39
-- operations): the same options, the same conventions (`nil, err` for expected failures,
-- misuse raises), the same validation, retries, `pages`/`items` for every paginated
-- operation, non-blocking `start`/`poll`/`run_all`, and the same introspection. Clients call
-- `https://ivsrealtime.{region}.amazonaws.com` and sign as `ivs` (the service's signing name)
-- unless an endpoint is configured (`endpoint`, `AWS_ENDPOINT_URL_IVS_REALTIME`,
-- `AWS_ENDPOINT_URL`, the `ivs_realtime` key of a `[services]` section, or the profile's
-- `endpoint_url`).
--
-- The module has `new` (and `realtime(opts)`), `default_client`, `reset_default`, one
-- function per operation on the default client (`realtime.create_stage{...}`), `call`,
-- `operations`, `describe`, `API_VERSION`, `SERVICE` (`"ivs-realtime"`), the shared `Error`,
-- `Client`, `Call`, `kinds`, `is_error`, `is_client` and `json` of `ivs`, and the two
-- self-signed tokens below.
-- @module ivs.realtime
-- @usage
-- local realtime = require("ivs.realtime")
-- local client <close> = realtime.new{ region = "us-west-2" }
-- local stage = assert(client:create_stage{ name = "studio" }).stage
-- local token = assert(realtime.participant_token{ private_key = pem, public_key_arn = key_arn,
--   stage_arn = stage.arn, events_url = stage.endpoints.events, whip_url = stage.endpoints.whip,
--   user_id = "guest-1", capabilities = { "PUBLISH", "SUBSCRIBE" }, expires_in = 3600 })

local ivs = require("ivs")
local core = require("ivs.core")

local error = error
local ipairs = ipairs
local floor = math.floor
local os_time = os.time
local pairs = pairs
local sort = table.sort
local string_format = string.format
local table_concat = table.concat
local tostring = tostring
local type = type

local realtime = ivs.service_module("ivs-realtime")

-- Whether v is an integral number (portable: no math.type).
local function is_integer(v)
  return type(v) == "number" and v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53
end

-- Checks opts against a table of option name -> "string" | "integer" | "table"; raises for
-- an unknown name or a wrong type, as the rest of the module does.
local function check_options(fname, opts, types)
  if type(opts) ~= "table" then
    error(string_format("bad argument #1 to '%s' (table of options expected, got %s)", fname, type(opts)), 3)
  end
  for k, v in pairs(opts) do
    local want = type(k) == "string" and types[k]
    if not want then
      local names = {}
      for name in pairs(types) do names[#names + 1] = name end
      sort(names)
      error(string_format("ivs: unknown %s option '%s' (valid: %s)", fname, tostring(k),
        table_concat(names, ", ")), 3)
    end
    local ok = (want == "integer" and is_integer(v)) or (want ~= "integer" and type(v) == want)
    if not ok then
      error(string_format("ivs: %s option '%s' must be a%s %s, got %s", fname, k,
        want == "integer" and "n" or "", want, type(v)), 3)
    end
  end
  if opts.private_key == nil then
    error(string_format("ivs: %s needs 'private_key' (PEM text of the P-384 private key)", fname), 3)
  end
  if opts.expires_in ~= nil and opts.expires_at ~= nil then
    error(string_format("ivs: %s takes 'expires_in' or 'expires_at', not both", fname), 3)
  end
end

local PARTICIPANT_OPTION_TYPES = {
  private_key = "string", public_key_arn = "string", stage_arn = "string", events_url = "string",
  whip_url = "string", user_id = "string", capabilities = "table", attributes = "table",
  expires_in = "integer", expires_at = "integer", participant_id = "string", now = "integer",
}

local CAPABILITY_BITS = { PUBLISH = 1, SUBSCRIBE = 2 }

--- Makes a self-signed participant token for a stage.
--
-- The token is a JWT signed ES384 with the private half of a P-384 key pair whose public
-- half was given to `import_public_key`; its JOSE header's `kid` is that public key's ARN.
-- Signing is local: nothing is sent and no client is needed. A participant joins the stage
-- with it as with a token from `create_participant_token`.
--
-- Options (claim in brackets):
--
-- * `private_key` (required): PEM text of an EC P-384 private key, as made by
--   `openssl ecparam -name secp384r1 -genkey -noout`.
-- * `public_key_arn` (required) [header `kid`]: the ARN `import_public_key` returned.
-- * `stage_arn` (required) [`resource`; `topic` is its id].
-- * `events_url`, `whip_url` (required) [`events_url`, `whip_url`]: the stage's
--   `endpoints.events` and `endpoints.whip`.
-- * `user_id` [`user_id`]: at most 128 characters, visible to every participant.
-- * `capabilities` [`capabilities`]: a list of `"PUBLISH"` and/or `"SUBSCRIBE"` (default
--   both).
-- * `attributes` [`attributes`]: a table of string keys and values, at most 1 KB in all,
--   visible to every participant.
-- * `expires_in` seconds from now, or `expires_at` Unix time (one of them required) [`exp`]:
--   at most 14 days after issue.
-- * `participant_id` [`jti`]: the participant id, at most 64 characters of
--   `[A-Za-z0-9_-]`; default 12 random alphanumerics.
-- * `now`: the current Unix time (default `os.time()`), the token's `iat`; for tests.
--
-- The payload also carries `iat` and `version = "1.0"`. Invalid claims give `nil, err` with
-- `err.code == "InvalidParticipantTokenClaims"` (the message names every claim at fault); a
-- key that is not a P-384 private key gives `"InvalidPrivateKey"` (never quoting the key).
-- Unknown options and options of the wrong type raise.
-- @tparam table opts
-- @treturn string|nil the token
-- @treturn ivs.Error|nil the error
function realtime.participant_token(opts)
  check_options("participant_token", opts, PARTICIPANT_OPTION_TYPES)
  local caps = 0
  if opts.capabilities ~= nil then
    local n = 0
    for k, v in pairs(opts.capabilities) do
      local bit = CAPABILITY_BITS[v]
      if type(k) ~= "number" or not bit then
        error("ivs: participant_token option 'capabilities' must list \"PUBLISH\" and/or \"SUBSCRIBE\"", 2)
      end
      if caps % (2 * bit) < bit then caps = caps + bit end
      n = n + 1
    end
    if n == 0 then
      error("ivs: participant_token option 'capabilities' is empty (list \"PUBLISH\" and/or \"SUBSCRIBE\")", 2)
    end
  end
  -- Attributes as a flat key, value sequence in key order, so equal inputs give equal tokens.
  local attributes
  if opts.attributes ~= nil then
    local keys = {}
    for k, v in pairs(opts.attributes) do
      if type(k) ~= "string" or type(v) ~= "string" then
        error("ivs: participant_token option 'attributes' must map strings to strings", 2)
      end
      keys[#keys + 1] = k
    end
    sort(keys)
    attributes = {}
    for _, k in ipairs(keys) do
      attributes[#attributes + 1] = k
      attributes[#attributes + 1] = opts.attributes[k]
    end
  end
  local now = opts.now or os_time()
  return core.participant_token(opts.private_key, {
    public_key_arn = opts.public_key_arn, stage_arn = opts.stage_arn, events_url = opts.events_url,
    whip_url = opts.whip_url, user_id = opts.user_id, participant_id = opts.participant_id,
    capabilities = caps, attributes = attributes, issued_at = now, now = now,
    expires_at = opts.expires_at or (opts.expires_in and now + opts.expires_in),
  })
end

local CONNECTION_OPTION_TYPES = {
  private_key = "string", public_key_arn = "string", events_url = "string", expires_in = "integer",
  expires_at = "integer", connection_id = "string", now = "integer",
}

--- Makes a self-signed connection token.
--
-- The client SDKs use one to keep a single connection across stages of one account and
-- region; it does not replace participant tokens. Signed like `participant_token` (ES384,
-- `kid` = the public key ARN); the payload holds `exp`, `iat`, `jti`, `account_id` and
-- `region` (taken from the public key's ARN), `events_url` and `version = "1.0"`.
--
-- Options: `private_key`, `public_key_arn` (required), `expires_in` or `expires_at` (at most
-- 4 weeks after issue), `connection_id` [`jti`] (default random), `events_url` (default and
-- only accepted value `"wss://global.events.live-video.net"`), `now`. Errors as for
-- `participant_token`, with code `"InvalidConnectionTokenClaims"`.
-- @tparam table opts
-- @treturn string|nil the token
-- @treturn ivs.Error|nil the error
function realtime.connection_token(opts)
  check_options("connection_token", opts, CONNECTION_OPTION_TYPES)
  local now = opts.now or os_time()
  return core.connection_token(opts.private_key, {
    public_key_arn = opts.public_key_arn, events_url = opts.events_url, connection_id = opts.connection_id,
    issued_at = now, now = now, expires_at = opts.expires_at or (opts.expires_in and now + opts.expires_in),
  })
end

return realtime
