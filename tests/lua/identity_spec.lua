-- Who a client is: client:identity(), client:whoami(), the mfa_token option, and the CLI's
-- `ivs configure list` and `ivs whoami`, against a loopback capture server playing STS. Each
-- case runs in a subprocess, because the profile, files and endpoints come from the
-- environment.
local capture = require("helpers.capture")
local cjson = require("cjson")

local ROOT = os.getenv("IVS_ROOT") or "."
local compat = require("helpers.compat")
local LUA = os.getenv("IVS_TEST_LUA") or "lua5.4"
local IVS = ROOT .. "/scripts/ivs"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local ASSUME_ROLE = [[<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleResult><Credentials><AccessKeyId>ASIALUAROLE1234</AccessKeyId>
<SecretAccessKey>lua-role-secret</SecretAccessKey><SessionToken>lua-role-token</SessionToken>
<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult>
<ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleResponse>]]
local CALLER = [[<GetCallerIdentityResponse><GetCallerIdentityResult>
<Arn>arn:aws:sts::123456789012:assumed-role/app/s</Arn><UserId>AROA:s</UserId>
<Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>]]
local SECRETS = { "lua-role-secret", "lua-role-token", "base-secret", "654321", "ASIALUAROLE1234" }

local tmp

local function env_for(srv, profile)
  return string.format("AWS_CONFIG_FILE=%s AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=%s "
    .. "AWS_ENDPOINT_URL_STS=%s AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true",
    q(tmp .. "/config"), q(tmp .. "/credentials"), q(profile), q(srv.url))
end

-- Runs a Lua chunk in a subprocess with env; returns its stdout (JSON) decoded.
local function run_lua(env, code)
  write_file(tmp .. "/chunk.lua", code)
  local cmd = string.format("%s timeout 60 %s %s >%s 2>%s </dev/null", env, LUA, q(tmp .. "/chunk.lua"),
    q(tmp .. "/out"), q(tmp .. "/err"))
  local ok = compat.execute(cmd)
  local out, err = read_file(tmp .. "/out"), read_file(tmp .. "/err")
  assert(ok, err)
  return cjson.decode(out), out .. err
end

local function run_cli(env, ...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = q(a) end
  -- Under the interpreter of this run, whatever the #! line says.
  local cmd = string.format("%s timeout 60 %s %s %s >%s 2>%s </dev/null", env, LUA, q(IVS), table.concat(args, " "),
    q(tmp .. "/out"), q(tmp .. "/err"))
  local _, code = compat.execute(cmd)
  return code, read_file(tmp .. "/out"), read_file(tmp .. "/err")
end

local function assert_no_secret(text)
  for _, s in ipairs(SECRETS) do
    assert.is_nil(text:find(s, 1, true), "secret " .. s .. " in: " .. text)
  end
end

describe("identity", function()
  before_each(function()
    local p = assert(io.popen("mktemp -d"))
    tmp = p:read("*l")
    p:close()
    write_file(tmp .. "/config", "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\n"
      .. "source_profile = base\n"
      .. "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n"
      .. "mfa_serial = arn:aws:iam::123456789012:mfa/alice\n")
    write_file(tmp .. "/credentials", "[base]\naws_access_key_id = AKIDLUABASE\n"
      .. "aws_secret_access_key = base-secret\n")
  end)

  after_each(function()
    capture.finish_all()
    if tmp then os.execute("rm -rf " .. q(tmp)) end
  end)

  it("describes the client, asks STS who it is, and logs the provider without secrets", function()
    local srv = capture.start({ { body = ASSUME_ROLE }, { body = CALLER } })
    local result, raw = run_lua(env_for(srv, "app"), [[
      local cjson = require("cjson")
      local ivs = require("ivs")
      local lines = {}
      local c = assert(ivs.new{ log = function(line) lines[#lines + 1] = line end })
      local id = assert(c:identity())
      local who = assert(c:whoami())
      io.write(cjson.encode({ id = id, who = who, log = table.concat(lines, "\n"),
        str = tostring(c) }))
    ]])
    local reqs = srv:finish()
    assert.equal("assume-role", result.id.credential_provider)
    assert.equal("***********1234", result.id.access_key_id)
    assert.equal("2099-01-01T00:00:00Z", result.id.expires_at)
    assert.equal("app", result.id.profile)
    assert.equal("AWS_PROFILE", result.id.profile_source)
    assert.equal("eu-west-1", result.id.region)
    assert.equal("AWS_REGION", result.id.region_source)
    assert.equal("default", result.id.endpoint_source)
    assert.matches("profile 'app'", result.id.credential_source, 1, true)
    assert.equal("arn:aws:sts::123456789012:assumed-role/app/s", result.who.Arn)
    assert.equal("123456789012", result.who.Account)
    assert.matches("credentials: resolved from assume-role", result.log, 1, true)
    assert_no_secret(raw)
    assert.equal(2, #reqs)
    assert.matches("^Action=AssumeRole&", reqs[1].body)
    assert.equal("Action=GetCallerIdentity&Version=2011-06-15", reqs[2].body)
    assert.matches("Credential=ASIALUAROLE1234/", reqs[2].header("authorization"), 1, true)
  end)

  it("asks the mfa_token function for the code, and fails clearly without one", function()
    local srv = capture.start({ { body = ASSUME_ROLE } })
    local result, raw = run_lua(env_for(srv, "mfa"), [[
      local cjson = require("cjson")
      local ivs = require("ivs")
      local asked
      local c = assert(ivs.new{ mfa_token = function(serial) asked = serial; return "654321" end })
      local id = assert(c:identity())
      local plain = assert(ivs.new{})
      local _, err = plain:whoami()
      local bad = assert(ivs.new{ mfa_token = function() error("no device") end })
      local _, err2 = bad:whoami()
      io.write(cjson.encode({ asked = asked, provider = id.credential_provider,
        code = err.code, message = tostring(err), code2 = err2.code }))
    ]])
    local reqs = srv:finish()
    assert.equal("arn:aws:iam::123456789012:mfa/alice", result.asked)
    assert.equal("assume-role", result.provider)
    assert.equal("MfaTokenRequired", result.code)
    assert.matches("mfa_token", result.message, 1, true)
    assert.equal("MfaTokenRequired", result.code2)
    assert.equal(1, #reqs)
    assert.matches("&TokenCode=654321", reqs[1].body, 1, true)
    assert.matches("&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice", reqs[1].body, 1, true)
    -- The code went to STS and nowhere else.
    assert.is_nil(raw:find("654321", 1, true))
  end)

  it("raises for an mfa_token that is not a function", function()
    local ivs = require("ivs")
    local ok, msg = pcall(ivs.new, { region = "us-east-1", mfa_token = "123456" })
    assert.is_false(ok)
    assert.matches("mfa_token", msg, 1, true)
  end)

  it("prints `ivs configure list` and `ivs whoami`", function()
    local srv = capture.start({ { body = ASSUME_ROLE }, { body = ASSUME_ROLE }, { body = CALLER } })
    local env = env_for(srv, "app")
    local code, out, err = run_cli(env, "configure", "list")
    assert.equal(0, code, err)
    assert.matches("access_key%s+%*+1234%s+assume%-role%s+profile 'app'", out)
    assert.matches("region%s+eu%-west%-1%s+AWS_REGION", out)
    assert.matches("profile%s+app%s+AWS_PROFILE", out)
    assert_no_secret(out .. err)
    code, out, err = run_cli(env, "whoami")
    assert.equal(0, code, err)
    local who = cjson.decode(out)
    assert.equal("arn:aws:sts::123456789012:assumed-role/app/s", who.Arn)
    srv:finish()
    -- Without credentials: the table still prints, the reason goes to stderr.
    code, out, err = run_cli("AWS_CONFIG_FILE=/nonexistent/c AWS_SHARED_CREDENTIALS_FILE=/nonexistent/k "
      .. "AWS_REGION=us-west-2 AWS_EC2_METADATA_DISABLED=true", "configure", "list")
    assert.equal(0, code)
    assert.matches("access_key%s+<not set>%s+None%s+NoCredentials", out)
    assert.matches("no credentials found", err, 1, true)
  end)
end)
