-- Playback tokens from Lua: ivs.playback_token and ivs.playback_url. Signatures are checked
-- by the Python `cryptography` package (tests/oracle/verify_playback_token.py) when present.
local compat = require("helpers.compat")
local cjson = require("cjson")
local ivs = require("ivs")

-- Test-only keys, made for this spec with `openssl ecparam`; they protect nothing.
local P384_PRIVATE = [[
-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDAiLeXW0eJf1/WDyAHGkQPzbsJyZnuWMZWto21+iSR/WtnsQO1m50Iy
I1LvLk3tgAagBwYFK4EEACKhZANiAATFpVYOAhsSEhtd5/C4B5DGnzkNCnkubKs/
iB1jApxEKLeICP7YHN54cHsU+b+y7mSTm++LW5RR7RDPJja9vdmLp/BAtPlA9GWU
q0NnyMifkdABTWQY+35TP/xrn8TQpzo=
-----END EC PRIVATE KEY-----
]]
local P384_PUBLIC = [[
-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAExaVWDgIbEhIbXefwuAeQxp85DQp5Lmyr
P4gdYwKcRCi3iAj+2BzeeHB7FPm/su5kk5vvi1uUUe0QzyY2vb3Zi6fwQLT5QPRl
lKtDZ8jIn5HQAU1kGPt+Uz/8a5/E0Kc6
-----END PUBLIC KEY-----
]]
local P256_PRIVATE = [[
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIECiL0pGTMcJFMQ/Guqk6OfbEp8cr9N/1Ei+te+6BfVWoAoGCCqGSM49
AwEHoUQDQgAELE/cdtVbQ7sa9FlsLfWGQ6nHlG9HIVlAY1/e5LyYa+Lj2i8B+BWa
WGFlhZD9RL5dMPeix2X7xHA8RkuPCcqXOw==
-----END EC PRIVATE KEY-----
]]

local ARN = "arn:aws:ivs:us-west-2:123456789012:channel/abcdEFGH1234"
local NOW = 1700000000
local PLAYBACK_URL = "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/"
  .. "us-west-2.123456789012.channel.abcdEFGH1234.m3u8"

local B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function b64url_decode(s)
  assert(s:match("^[%w%-_]*$"), "not unpadded base64url: " .. s)
  local bits, out = {}, {}
  for i = 1, #s do
    local v = B64URL:find(s:sub(i, i), 1, true) - 1
    for b = 5, 0, -1 do bits[#bits + 1] = math.floor(v / 2 ^ b) % 2 end
  end
  for i = 1, #bits - 7, 8 do
    local byte = 0
    for b = 0, 7 do byte = byte * 2 + bits[i + b] end
    out[#out + 1] = string.char(byte)
  end
  return table.concat(out)
end

local function split(token)
  local h, p, s = token:match("^([^.]+)%.([^.]+)%.([^.]+)$")
  assert(h, "not three dot-separated parts: " .. token)
  return b64url_decode(h), b64url_decode(p), b64url_decode(s)
end

local function write_temp(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local function oracle_available()
  local ok = compat.execute("python3 -c 'import cryptography' >/dev/null 2>&1")
  local root = os.getenv("IVS_ROOT") or "."
  local f = io.open(root .. "/tests/oracle/verify_playback_token.py", "r")
  if f then f:close() end
  return ok == true and f ~= nil
end

-- Runs the Python oracle; returns its verdict table and exit code.
local function oracle_verify(token, public_pem)
  local key_path, token_path = write_temp(public_pem), write_temp(token)
  local root = os.getenv("IVS_ROOT") or "."
  local out, _, code = compat.popen_read(string.format("python3 '%s/tests/oracle/verify_playback_token.py' '%s' < '%s'",
    root, key_path, token_path))
  os.remove(key_path)
  os.remove(token_path)
  return cjson.decode(out), code
end

local function token_opts(extra)
  local t = { private_key = P384_PRIVATE, channel_arn = ARN, expires_in = 3600, now = NOW }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local function refused(opts, code)
  local token, err = ivs.playback_token(opts)
  assert.is_nil(token)
  assert.equal(ivs.Error, getmetatable(err))
  assert.is_true(ivs.is_error(err))
  assert.equal("validation", err.kind)
  assert.equal(code, err.code)
  assert.equal("playback_token", err.operation)
  assert.equal(0, err.attempts)
  assert.equal(0, err.status)
  assert.is_false(err.retryable)
  return err
end

describe("ivs.playback_token", function()
  it("makes an ES384 JWT with exactly the claims asked for", function()
    local token = assert(ivs.playback_token(token_opts()))
    local header, payload, sig = split(token)
    assert.equal('{"alg":"ES384","typ":"JWT"}', header)
    assert.equal('{"aws:channel-arn":"' .. ARN .. '","exp":1700003600}', payload)
    assert.equal(96, #sig)
  end)

  it("maps every option to its aws: claim", function()
    local token = assert(ivs.playback_token{
      private_key = P384_PRIVATE, channel_arn = ARN, now = NOW, expires_at = NOW + 540,
      access_control_allow_origin = "https://a.example,https://b.example",
      strict_origin_enforcement = true,
      single_use_uuid = "6b1f3c2e-8d4a-4f5b-9c7e-0a1b2c3d4e5f",
      viewer_id = 'vi"ewer-7', viewer_session_version = 1700000000,
      maximum_resolution = "HD",
    })
    local _, payload = split(token)
    assert.same({
      ["aws:channel-arn"] = ARN, exp = NOW + 540,
      ["aws:access-control-allow-origin"] = "https://a.example,https://b.example",
      ["aws:strict-origin-enforcement"] = true,
      ["aws:single-use-uuid"] = "6b1f3c2e-8d4a-4f5b-9c7e-0a1b2c3d4e5f",
      ["aws:viewer-id"] = 'vi"ewer-7', ["aws:viewer-session-version"] = 1700000000,
      ["aws:maximum-resolution"] = "HD",
    }, cjson.decode(payload))
  end)

  it("counts expires_in from the real clock by default", function()
    local before = os.time()
    local token = assert(ivs.playback_token{ private_key = P384_PRIVATE, channel_arn = ARN, expires_in = 60 })
    local _, payload = split(token)
    local exp = cjson.decode(payload).exp
    assert.is_true(exp >= before + 60 and exp <= os.time() + 60)
  end)

  it("signs verifiably (Python cryptography as the oracle), and tampering shows", function()
    if not oracle_available() then
      pending("python3 with the cryptography package is not available")
      return
    end
    local token = assert(ivs.playback_token(token_opts{ viewer_id = "v1", expires_in = 300 }))
    local verdict, code = oracle_verify(token, P384_PUBLIC)
    assert.equal(0, code)
    assert.is_true(verdict.valid)
    assert.same({ alg = "ES384", typ = "JWT" }, verdict.header)
    assert.equal("v1", verdict.claims["aws:viewer-id"])
    local h, p, s = token:match("^([^.]+)%.([^.]+)%.(.+)$")
    local flipped = s:sub(1, 4) .. (s:sub(5, 5) == "A" and "B" or "A") .. s:sub(6)
    verdict, code = oracle_verify(h .. "." .. p .. "." .. flipped, P384_PUBLIC)
    assert.equal(1, code)
    assert.is_false(verdict.valid)
  end)

  it("returns nil, err naming the claim for invalid claims", function()
    local err = refused(token_opts{ channel_arn = "arn:aws:ivs:us-west-2:123456789012:stream-key/x" },
      "InvalidPlaybackTokenClaims")
    assert.matches("aws:channel-arn", err.message, 1, true)
    err = refused(token_opts{ viewer_id = string.rep("v", 41), expires_in = 60 }, "InvalidPlaybackTokenClaims")
    assert.matches("aws:viewer-id", err.message, 1, true)
    err = refused(token_opts{ viewer_id = "v", expires_in = 601 }, "InvalidPlaybackTokenClaims")
    assert.matches("exp", err.message, 1, true)
    err = refused(token_opts{ maximum_resolution = "4K" }, "InvalidPlaybackTokenClaims")
    assert.matches("aws:maximum-resolution", err.message, 1, true)
    err = refused(token_opts{ expires_in = -5 }, "InvalidPlaybackTokenClaims")
    assert.matches("exp", err.message, 1, true)
    err = refused({ private_key = P384_PRIVATE, channel_arn = ARN }, "InvalidPlaybackTokenClaims")
    assert.matches("exp", err.message, 1, true)
    err = refused(token_opts{ strict_origin_enforcement = true,
      access_control_allow_origin = "a,b,c,d,e,f" }, "InvalidPlaybackTokenClaims")
    assert.matches("aws:access-control-allow-origin", err.message, 1, true)
    assert.equal("InvalidPlaybackTokenClaims: " .. err.message, tostring(err))
  end)

  it("returns nil, err for a key that is not a P-384 private key, never quoting it", function()
    for _, key in ipairs({ P256_PRIVATE, P384_PUBLIC, "not a key", "", P384_PRIVATE:sub(1, 100) }) do
      local err = refused(token_opts{ private_key = key }, "InvalidPrivateKey")
      assert.is_nil(err.message:find("MIG", 1, true))
      assert.is_nil(err.message:find("BEGIN", 1, true))
    end
  end)

  it("raises on misuse", function()
    assert.has_error(function() ivs.playback_token("pem") end,
      "bad argument #1 to 'playback_token' (table of options expected, got string)")
    assert.has_error(function() ivs.playback_token(token_opts{ viewer = "v" }) end,
      "ivs: unknown playback_token option 'viewer' (did you mean 'viewer_id'?)")
    assert.has_error(function() ivs.playback_token(token_opts{ expires_in = "300" }) end,
      "ivs: playback_token option 'expires_in' must be an integer, got string")
    assert.has_error(function() ivs.playback_token(token_opts{ expires_in = 1.5 }) end,
      "ivs: playback_token option 'expires_in' must be an integer, got a float")
    assert.has_error(function() ivs.playback_token(token_opts{ strict_origin_enforcement = 1 }) end,
      "ivs: playback_token option 'strict_origin_enforcement' must be a boolean, got number")
    assert.has_error(function() ivs.playback_token(token_opts{ expires_at = NOW + 60 }) end,
      "ivs: playback_token takes 'expires_in' or 'expires_at', not both")
    assert.has_error(function() ivs.playback_token{ channel_arn = ARN, expires_in = 60 } end,
      "ivs: playback_token needs 'private_key' (PEM text of the P-384 private key)")
  end)
end)

describe("ivs.playback_url", function()
  it("appends the token as ?token= or &token=", function()
    assert.equal(PLAYBACK_URL .. "?token=aa.bb.cc", ivs.playback_url(PLAYBACK_URL, "aa.bb.cc"))
    assert.equal(PLAYBACK_URL .. "?player=web&token=aa.bb.cc",
      ivs.playback_url(PLAYBACK_URL .. "?player=web", "aa.bb.cc"))
  end)

  it("replaces an old token and keeps the fragment last", function()
    assert.equal("https://h/p.m3u8?a=1&token=new#t=5", ivs.playback_url("https://h/p.m3u8?token=old&a=1#t=5", "new"))
  end)

  it("carries a real token unchanged", function()
    local token = assert(ivs.playback_token(token_opts()))
    assert.equal(PLAYBACK_URL .. "?token=" .. token, ivs.playback_url(PLAYBACK_URL, token))
  end)

  it("raises on misuse", function()
    assert.has_error(function() ivs.playback_url(nil, "t") end,
      "bad argument #1 to 'playback_url' (URL expected, got nil)")
    assert.has_error(function() ivs.playback_url(PLAYBACK_URL, "") end,
      "bad argument #2 to 'playback_url' (token expected, got string)")
  end)
end)
