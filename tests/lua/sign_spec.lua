-- SigV4 from Lua: ivs.sign and ivs.presign against known vectors (aws-c-auth's get-vanilla
-- cases, the same ones tests/c/test_sigv4.c checks), and their argument handling.
local cjson = require("cjson")
local ivs = require("ivs")

local ROOT = os.getenv("IVS_ROOT") or "."
local VECTORS = ROOT .. "/../shared/sigv4/aws-c-auth-v4"

local CREDS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }
local T_20150830_123600 = 1440938160

local function vanilla(extra)
  local t = { method = "GET", url = "https://example.amazonaws.com/", region = "us-east-1", service = "service",
    time = T_20150830_123600, credentials = CREDS }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

describe("ivs.sign", function()
  it("signs aws-c-auth's get-vanilla case (computed by hand, byte for byte)", function()
    local h = assert(ivs.sign(vanilla()))
    assert.equal("20150830T123600Z", h["X-Amz-Date"])
    assert.equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " ..
      "SignedHeaders=host;x-amz-date, " ..
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", h.Authorization)
    assert.is_nil(h["X-Amz-Security-Token"])
    assert.equal(2, count(h))
  end)

  it("gives the same headers when Host is passed explicitly, in any case", function()
    local a = assert(ivs.sign(vanilla()))
    local b = assert(ivs.sign(vanilla{ headers = { host = "example.amazonaws.com" } }))
    assert.same(a, b)
  end)

  it("signs the session token as aws-c-auth's get-vanilla-with-session-token expects", function()
    local dir = VECTORS .. "/get-vanilla-with-session-token"
    local ctx_text, signed = read(dir .. "/context.json"), read(dir .. "/header-signed-request.txt")
    if not ctx_text or not signed then
      pending("the shared SigV4 vectors are not here (" .. dir .. ")")
      return
    end
    local ctx = cjson.decode(ctx_text)
    local h = assert(ivs.sign(vanilla{ credentials = { access_key_id = ctx.credentials.access_key_id,
      secret_access_key = ctx.credentials.secret_access_key, session_token = ctx.credentials.token } }))
    assert.equal(ctx.credentials.token, h["X-Amz-Security-Token"])
    assert.equal(signed:match("\nAuthorization:([^\n]+)"), h.Authorization)
    assert.equal(signed:match("\nX%-Amz%-Date:([^\n]+)"), h["X-Amz-Date"])
  end)

  it("gives the same answer every time in a loop, and follows the clock across midnight", function()
    local first = assert(ivs.sign(vanilla()))
    for _ = 1, 50 do assert.same(first, ivs.sign(vanilla())) end
    local next_day = assert(ivs.sign(vanilla{ time = T_20150830_123600 + 86400 }))
    assert.equal("20150831T123600Z", next_day["X-Amz-Date"])
    assert.matches("Credential=AKIDEXAMPLE/20150831/us%-east%-1/service/aws4_request", next_day.Authorization)
    assert.same(first, ivs.sign(vanilla()))
  end)

  it("covers headers and body: changing either changes the signature", function()
    local base = { method = "POST", url = "https://ivs.us-west-2.amazonaws.com/GetChannel",
      headers = { ["Content-Type"] = "application/json" }, body = '{"arn":"x"}', region = "us-west-2",
      time = T_20150830_123600, credentials = CREDS }
    local a = assert(ivs.sign(base))
    assert.matches("SignedHeaders=content%-type;host;x%-amz%-date,", a.Authorization)
    assert.matches("/us%-west%-2/ivs/aws4_request", a.Authorization) -- service defaults to ivs
    base.body = '{"arn":"y"}'
    local b = assert(ivs.sign(base))
    assert.are_not.equal(a.Authorization, b.Authorization)
    base.headers["Content-Type"] = "application/x-amz-json-1.1"
    local c = assert(ivs.sign(base))
    assert.are_not.equal(b.Authorization, c.Authorization)
  end)

  it("returns nil and an ivs.Error for what the signer rejects", function()
    local h, err = ivs.sign(vanilla{ method = "" })
    assert.is_nil(h)
    assert.equal("InvalidArgument", err.code)
    assert.equal("sign", err.operation)
    assert.equal(ivs.Error, getmetatable(err))
    h, err = ivs.sign(vanilla{ headers = { Authorization = "mine" } })
    assert.is_nil(h)
    assert.matches("the signer sets it", err.message)
    h, err = ivs.sign(vanilla{ url = "example.amazonaws.com/" })
    assert.is_nil(h)
    assert.equal("InvalidArgument", err.code)
    -- The message never carries the secret.
    assert.is_nil(tostring(err):find(CREDS.secret_access_key, 1, true))
  end)

  it("raises on unknown options, wrong types and missing credentials", function()
    assert.has_error(function() ivs.sign("GET /") end,
      "bad argument #1 to 'sign' (table of options expected, got string)")
    assert.has_error(function() ivs.sign(vanilla{ regoin = "x" }) end,
      "ivs: unknown sign option 'regoin' (did you mean 'region'?)")
    assert.has_error(function() ivs.sign(vanilla{ time = 1.5 }) end,
      "ivs: sign option 'time' must be an integer, got a float")
    assert.has_error(function() ivs.sign(vanilla{ credentials = false }) end,
      "ivs: sign option 'credentials' must be a table, got boolean")
    assert.has_error(function() ivs.sign{ method = "GET", url = "https://x/", region = "r" } end)
    assert.has_error(function() ivs.sign(vanilla{ credentials = { access_key = "a" } }) end)
    assert.has_error(function() ivs.sign(vanilla{ headers = { [1] = "x" } }) end)
    assert.has_error(function() ivs.sign(vanilla{ headers = { ["X-A"] = 5 } }) end)
  end)
end)

describe("ivs.presign", function()
  it("presigns aws-c-auth's get-vanilla case (expires 3600)", function()
    local url = assert(ivs.presign(vanilla{ expires = 3600 }))
    assert.equal("https://example.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256" ..
      "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request" ..
      "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host" ..
      "&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d", url)
  end)

  it("defaults to 900 seconds and rejects an expiry out of range", function()
    assert.matches("&X%-Amz%-Expires=900&", assert(ivs.presign(vanilla())))
    local url, err = ivs.presign(vanilla{ expires = 604801 })
    assert.is_nil(url)
    assert.equal("InvalidArgument", err.code)
    assert.equal("presign", err.operation)
    assert.has_error(function() ivs.presign(vanilla{ expires = "900" }) end,
      "ivs: presign option 'expires' must be an integer, got string")
  end)
end)
