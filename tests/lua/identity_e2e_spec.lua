-- Every credential provider end to end against ivs-emulator, which serves STS, the SSO portal,
-- SSO-OIDC and signin on its own port and accepts the temporary credentials it issues on its
-- IVS endpoints. Each case runs a Lua subprocess with its own HOME, config files and
-- environment (where profiles come from), pointed at the emulator by AWS_ENDPOINT_URL. Skips
-- when the emulator does not serve the identity calls.
local emulator = require("helpers.emulator")
local admin_mod = require("helpers.admin")
local cjson = require("cjson")

local LUA = os.getenv("IVS_TEST_LUA") or "lua5.4"
local q = emulator.shell_quote

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function digest(alg, text)
  local path = os.tmpname()
  write_file(path, text)
  local p = assert(io.popen(alg .. "sum " .. q(path)))
  local out = p:read("*l")
  p:close()
  os.remove(path)
  return out:match("^(%x+)")
end

local function b64url(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for j = 1, chars do
      local v = math.floor(n / 2 ^ (6 * (4 - j))) % 64
      out[#out + 1] = alphabet:sub(v + 1, v + 1)
    end
  end
  return table.concat(out)
end

local function jwt(claims)
  return b64url('{"alg":"RS256","typ":"JWT"}') .. "." .. b64url(cjson.encode(claims)) .. ".c2ln"
end

-- What every scenario's subprocess does: make a client, call IVS three times, say who it is.
local SCRIPT = [[
local cjson = require("cjson")
local ivs = require("ivs")
local opts = {}
if os.getenv("TEST_MFA") then opts.mfa_token = function() return os.getenv("TEST_MFA") end end
local lines = {}
opts.log = function(line) lines[#lines + 1] = line end
local c, err = ivs.new(opts)
if not c then io.write(cjson.encode({ error = err.code, message = tostring(err) })) return end
local out = { calls = 0 }
for _ = 1, 3 do
  local r, cerr = c:list_channels{}
  if not r then
    out.error, out.message = cerr.code, tostring(cerr)
    break
  end
  out.calls = out.calls + 1
end
if not out.error then
  out.identity = c:identity()
  local who, werr = c:whoami()
  out.who = who
  if not who then out.error, out.message = werr.code, tostring(werr) end
end
out.log = table.concat(lines, "\n")
io.write(cjson.encode(out))
]]

describe("every credential provider against the emulator", function()
  local emu, admin, tmp, serves_identity

  setup(function()
    emu = emulator.start()
    admin = admin_mod.new(emu)
    local status = admin:get("/identity/calls")
    serves_identity = status == 200
  end)

  teardown(function()
    if emu then emu:stop() end
  end)

  before_each(function()
    if not serves_identity then return end
    local p = assert(io.popen("mktemp -d"))
    tmp = p:read("*l")
    p:close()
    os.execute("mkdir -p " .. q(tmp .. "/.aws/sso/cache") .. " " .. q(tmp .. "/login"))
    write_file(tmp .. "/credentials", string.format("[emu]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
      emulator.ACCESS_KEY_ID, emulator.SECRET_ACCESS_KEY))
    admin:post("/reset", {})
    admin:delete("/identity/calls")
  end)

  after_each(function()
    if tmp then os.execute("rm -rf " .. q(tmp)) end
    tmp = nil
  end)

  local function need_identity()
    if not serves_identity then
      pending("this ivs-emulator does not serve the identity calls")
      return false
    end
    return true
  end

  -- Runs SCRIPT with the given profile and extra environment; returns the decoded result.
  local function run(config, profile, extra_env)
    write_file(tmp .. "/config", config)
    write_file(tmp .. "/script.lua", SCRIPT)
    local env = string.format("env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "
      .. "-u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL_IVS HOME=%s AWS_CONFIG_FILE=%s "
      .. "AWS_SHARED_CREDENTIALS_FILE=%s AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_EC2_METADATA_DISABLED=true %s %s",
      q(tmp), q(tmp .. "/config"), q(tmp .. "/credentials"), q(emu.url), emu.region,
      profile and ("AWS_PROFILE=" .. q(profile)) or "", extra_env or "")
    local cmd = string.format("%s timeout 60 %s %s >%s 2>%s </dev/null", env, LUA, q(tmp .. "/script.lua"),
      q(tmp .. "/out"), q(tmp .. "/err"))
    os.execute(cmd)
    local out = read_file(tmp .. "/out") or ""
    local ok, value = pcall(cjson.decode, out)
    assert(ok, "no result: " .. out .. (read_file(tmp .. "/err") or ""))
    value.raw = out
    return value
  end

  local function calls()
    local _, body = admin:get("/identity/calls")
    return body or {}
  end

  local ROLE_CONFIG = "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = emu\n"
    .. "[profile top]\nrole_arn = arn:aws:iam::123456789012:role/top\nsource_profile = app\n"
    .. "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/guarded\nsource_profile = emu\n"
    .. "mfa_serial = arn:aws:iam::123456789012:mfa/me\n"

  it("assumes a role once for many calls, and chains roles", function()
    if not need_identity() then return end
    local r = run(ROLE_CONFIG, "app")
    assert.is_nil(r.error, r.message)
    assert.equal(3, r.calls)
    assert.equal("assume-role", r.identity.credential_provider)
    assert.matches("^arn:aws:sts::123456789012:assumed%-role/app/", r.who.Arn)
    assert.equal(1, calls().AssumeRole)
    assert.matches("credentials: resolved from assume-role (profile 'app'", r.log, 1, true)
    r = run(ROLE_CONFIG, "top")
    assert.is_nil(r.error, r.message)
    assert.matches("^arn:aws:sts::123456789012:assumed%-role/top/", r.who.Arn)
    assert.equal(3, calls().AssumeRole)
  end)

  it("assumes a role that needs MFA with the mfa_token option, and fails on a wrong code", function()
    if not need_identity() then return end
    admin:post("/identity/roles", { roleArn = "arn:aws:iam::123456789012:role/guarded",
      mfaSerial = "arn:aws:iam::123456789012:mfa/me", mfaCode = "246810" })
    local r = run(ROLE_CONFIG, "mfa", "TEST_MFA=246810")
    assert.is_nil(r.error, r.message)
    assert.matches("assumed%-role/guarded/", r.who.Arn)
    r = run(ROLE_CONFIG, "mfa", "TEST_MFA=111111")
    assert.equal("AccessDenied", r.error)
    assert.is_nil(r.raw:find("111111", 1, true))
    r = run(ROLE_CONFIG, "mfa")
    assert.equal("MfaTokenRequired", r.error)
  end)

  it("fails on a role STS refuses, without falling through", function()
    if not need_identity() then return end
    admin:post("/identity/roles", { roleArn = "arn:aws:iam::123456789012:role/other" })
    local r = run(ROLE_CONFIG, "app")
    assert.equal("AccessDenied", r.error)
    assert.equal(0, r.calls)
  end)

  it("uses web identity from the environment, and reports an expired token", function()
    if not need_identity() then return end
    local token = jwt({ sub = "alice", aud = "ivs", iss = "https://issuer.example", exp = os.time() + 3600 })
    write_file(tmp .. "/token", token .. "\n")
    local env = string.format("AWS_WEB_IDENTITY_TOKEN_FILE=%s AWS_ROLE_ARN=arn:aws:iam::123456789012:role/web "
      .. "AWS_ROLE_SESSION_NAME=ci", q(tmp .. "/token"))
    local r = run("", nil, env)
    assert.is_nil(r.error, r.message)
    assert.equal(3, r.calls)
    assert.equal("assume-role-with-web-identity", r.identity.credential_provider)
    assert.equal("arn:aws:sts::123456789012:assumed-role/web/ci", r.who.Arn)
    assert.is_nil(r.raw:find(token, 1, true))
    write_file(tmp .. "/token", jwt({ sub = "alice", exp = os.time() - 60 }))
    r = run("", nil, env)
    assert.equal("ExpiredTokenException", r.error)
    assert.matches("has expired", r.message, 1, true)
  end)

  it("uses an SSO session, refreshing its token through SSO-OIDC and writing it back", function()
    if not need_identity() then return end
    local _, cache = admin:post("/identity/sso-sessions", { startUrl = "https://my-sso-portal.awsapps.com/start",
      region = "us-east-1", roles = { { accountId = "123456789012", roleName = "ReadOnly" } },
      expiresInSeconds = 300 })
    local path = tmp .. "/.aws/sso/cache/" .. digest("sha1", "my-sso") .. ".json"
    write_file(path, cjson.encode(cache))
    local config = "[profile dev]\nsso_session = my-sso\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n"
      .. "[sso-session my-sso]\nsso_start_url = https://my-sso-portal.awsapps.com/start\nsso_region = us-east-1\n"
    local r = run(config, "dev")
    assert.is_nil(r.error, r.message)
    assert.equal(3, r.calls)
    assert.equal("sso", r.identity.credential_provider)
    assert.matches("assumed%-role/AWSReservedSSO_ReadOnly/", r.who.Arn)
    local c = calls()
    assert.equal(1, c.CreateToken)
    assert.equal(1, c.GetRoleCredentials)
    local saved = cjson.decode(read_file(path))
    assert.are_not.equal(cache.accessToken, saved.accessToken)
    assert.are_not.equal(cache.refreshToken, saved.refreshToken)
    assert.is_nil(r.raw:find(saved.accessToken, 1, true))
    -- A session the portal does not know: log in again.
    cache.accessToken = "unknown-token"
    cache.expiresAt = "2099-01-01T00:00:00Z"
    write_file(path, cjson.encode(cache))
    r = run(config, "dev")
    assert.equal("UnauthorizedSSOToken", r.error)
    assert.matches("aws sso login --profile dev", r.message, 1, true)
  end)

  it("uses an `aws login` session, refreshing it with a DPoP proof", function()
    if not need_identity() then return end
    local arn = "arn:aws:iam::123456789012:user/alice"
    local _, cache = admin:post("/identity/login-sessions", { arn = arn, credentialsExpiresInSeconds = 60 })
    local path = tmp .. "/login/" .. digest("sha256", arn) .. ".json"
    write_file(path, cjson.encode(cache))
    local config = "[profile me]\nlogin_session = " .. arn .. "\n"
    local env = "AWS_LOGIN_CACHE_DIRECTORY=" .. q(tmp .. "/login")
    local r = run(config, "me", env)
    assert.is_nil(r.error, r.message)
    assert.equal(3, r.calls)
    assert.equal("login", r.identity.credential_provider)
    assert.equal(arn, r.who.Arn)
    assert.equal(1, calls().CreateOAuth2Token)
    local saved = cjson.decode(read_file(path))
    assert.are_not.equal(cache.refreshToken, saved.refreshToken)
    assert.equal(cache.dpopKey, saved.dpopKey)
    -- A session whose credentials changed: log in again.
    _, cache = admin:post("/identity/login-sessions", { arn = arn, credentialsExpiresInSeconds = 60,
      error = "USER_CREDENTIALS_CHANGED" })
    write_file(path, cjson.encode(cache))
    r = run(config, "me", env)
    assert.equal("LoginRefreshRequired", r.error)
    assert.matches("aws login --profile me", r.message, 1, true)
  end)
end)
