-- require("ivs.realtime").participant_token and connection_token: the Lua options (types,
-- capabilities, attributes, expiry), the token's header and claims, errors as nil, err, and
-- the signature checked by Python's cryptography when it is installed.
local compat = require("helpers.compat")
local ivs = require("ivs")
local realtime = require("ivs.realtime")

local ROOT = os.getenv("IVS_ROOT") or "."
local KEY_ARN = "arn:aws:ivs:us-west-2:123456789012:public-key/abcdABC1efg2"
local STAGE = "arn:aws:ivs:us-west-2:123456789012:stage/8h86yWuvnf17"
local EVENTS = "wss://global.events.live-video.net"
local WHIP = "https://7d77e42545dc.global-bm.whip.live-video.net"
local NOW = 1700000000

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local dir, pem

local function b64url_decode(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local out, acc, bits = {}, 0, 0
  for c in s:gmatch(".") do
    acc = acc * 64 + (alphabet:find(c, 1, true) - 1)
    bits = bits + 6
    if bits >= 8 then
      bits = bits - 8
      local byte = math.floor(acc / 2 ^ bits) % 256
      out[#out + 1] = string.char(byte)
      acc = acc % 2 ^ bits
    end
  end
  return table.concat(out)
end

local function parts(token)
  local h, p, s = token:match("^([^.]+)%.([^.]+)%.([^.]+)$")
  return ivs.json.decode(b64url_decode(h)), ivs.json.decode(b64url_decode(p)), s
end

local function base(extra)
  local o = { private_key = pem, public_key_arn = KEY_ARN, stage_arn = STAGE, events_url = EVENTS,
    whip_url = WHIP, expires_in = 3600, now = NOW }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe("realtime.participant_token", function()
  lazy_setup(function()
    local p = assert(io.popen("mktemp -d"))
    dir = p:read("*l")
    p:close()
    assert.is_true(compat.execute("openssl ecparam -name secp384r1 -genkey -noout -out " .. q(dir .. "/key.pem")
      .. " 2>/dev/null && openssl ec -in " .. q(dir .. "/key.pem") .. " -pubout -out " .. q(dir .. "/pub.pem")
      .. " 2>/dev/null") == true)
    local f = assert(io.open(dir .. "/key.pem"))
    pem = f:read("*a")
    f:close()
  end)
  lazy_teardown(function() os.execute("rm -rf " .. q(dir)) end)

  it("signs the header and claims IVS requires", function()
    local token = assert(realtime.participant_token(base({ user_id = "guest-1", participant_id = "p-1",
      capabilities = { "SUBSCRIBE", "PUBLISH" }, attributes = { seat = "3", name = "Ann" } })))
    local h, c, sig = parts(token)
    assert.same({ alg = "ES384", typ = "JWT", kid = KEY_ARN }, h)
    assert.equal(NOW, c.iat)
    assert.equal(NOW + 3600, c.exp)
    assert.equal("p-1", c.jti)
    assert.equal("guest-1", c.user_id)
    assert.equal(STAGE, c.resource)
    assert.equal("8h86yWuvnf17", c.topic)
    assert.equal(EVENTS, c.events_url)
    assert.equal(WHIP, c.whip_url)
    assert.same({ allow_publish = true, allow_subscribe = true }, c.capabilities)
    assert.same({ seat = "3", name = "Ann" }, c.attributes)
    assert.equal("1.0", c.version)
    assert.equal(128, #sig) -- 96 bytes of r || s, base64url
    -- Attributes go out in key order, so equal inputs give equal payloads.
    assert.is_truthy(b64url_decode(token:match("^[^.]+%.([^.]+)")):find('"attributes":{"name":"Ann","seat":"3"}',
      1, true))
    -- expires_at works too; capabilities default to both; no user_id or attributes unless given.
    local o = base()
    o.expires_in, o.expires_at = nil, NOW + 60
    local _, c2 = parts(assert(realtime.participant_token(o)))
    assert.equal(NOW + 60, c2.exp)
    assert.same({ allow_publish = true, allow_subscribe = true }, c2.capabilities)
    assert.is_nil(c2.user_id)
    assert.is_nil(c2.attributes)
    assert.matches("^[%w]+$", c2.jti)
    assert.equal(12, #c2.jti)
  end)

  it("raises on misuse and returns nil, err for claims IVS would refuse", function()
    assert.has_error(function() realtime.participant_token("x") end)
    assert.has_error(function() realtime.participant_token(base({ stage = STAGE })) end,
      nil)
    assert.has_error(function() realtime.participant_token(base({ user_id = 7 })) end)
    assert.has_error(function() realtime.participant_token(base({ capabilities = { "WATCH" } })) end)
    assert.has_error(function() realtime.participant_token(base({ capabilities = {} })) end)
    assert.has_error(function() realtime.participant_token(base({ attributes = { seat = 3 } })) end)
    assert.has_error(function() realtime.participant_token(base({ expires_at = NOW + 5 })) end)
    assert.has_error(function() realtime.participant_token(base({ expires_in = 1.5 })) end)
    local o = base()
    o.private_key = nil
    assert.has_error(function() realtime.participant_token(o) end)

    local token, err = realtime.participant_token(base({ expires_in = 14 * 86400 + 1 }))
    assert.is_nil(token)
    assert.equal("InvalidParticipantTokenClaims", err.code)
    assert.equal("validation", err.kind)
    assert.is_truthy(err.message:find("14 days", 1, true))
    token, err = realtime.participant_token(base({ attributes = { big = string.rep("x", 1100) } }))
    assert.is_nil(token)
    assert.is_truthy(err.message:find("1 KB", 1, true))
    token, err = realtime.participant_token(base({ private_key = "-----BEGIN PRIVATE KEY-----\nAA\n"
      .. "-----END PRIVATE KEY-----\n" }))
    assert.is_nil(token)
    assert.equal("InvalidPrivateKey", err.code)
    assert.is_falsy(tostring(err):find("BEGIN", 1, true))
  end)

  it("signs connection tokens with the account and region of the key", function()
    local token = assert(realtime.connection_token({ private_key = pem, public_key_arn = KEY_ARN,
      expires_in = 600, now = NOW, connection_id = "c-1" }))
    local h, c = parts(token)
    assert.equal(KEY_ARN, h.kid)
    assert.same({ exp = NOW + 600, iat = NOW, jti = "c-1", account_id = "123456789012", region = "us-west-2",
      events_url = EVENTS, version = "1.0" }, c)
    local none, err = realtime.connection_token({ private_key = pem, public_key_arn = KEY_ARN,
      expires_in = 29 * 86400, now = NOW })
    assert.is_nil(none)
    assert.equal("InvalidConnectionTokenClaims", err.code)
  end)

  it("is verified by Python's cryptography", function()
    if not compat.execute("python3 -c 'import cryptography' >/dev/null 2>&1") then
      pending("python3 with the cryptography package is not available")
      return
    end
    local token = assert(realtime.participant_token(base({ now = os.time(), user_id = "caf\195\169" })))
    local f = assert(io.open(dir .. "/token", "wb"))
    f:write(token)
    f:close()
    local p = assert(io.popen("python3 " .. q(ROOT .. "/tests/oracle/verify_playback_token.py") .. " "
      .. q(dir .. "/pub.pem") .. " < " .. q(dir .. "/token")))
    local verdict = ivs.json.decode(p:read("*a"))
    p:close()
    assert.is_true(verdict.valid, verdict.reason)
    assert.equal("caf\195\169", verdict.claims.user_id)
    -- The same check refuses a token whose payload was changed after signing.
    local tampered = token:gsub("^([^.]+%.)(.)", function(a, b) return a .. (b == "e" and "f" or "e") end)
    f = assert(io.open(dir .. "/token", "wb"))
    f:write(tampered)
    f:close()
    p = assert(io.popen("python3 " .. q(ROOT .. "/tests/oracle/verify_playback_token.py") .. " "
      .. q(dir .. "/pub.pem") .. " < " .. q(dir .. "/token")))
    verdict = ivs.json.decode(p:read("*a"))
    p:close()
    assert.is_false(verdict.valid)
  end)
end)
