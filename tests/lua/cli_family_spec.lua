-- scripts/ivs for IVS Chat and IVS Real-Time (`ivs chat ...`, `ivs realtime ...`), run as a
-- subprocess against the loopback capture server: the same flags, typing, pagination, output
-- and exit codes as `ivs OPERATION`, and self-signed participant tokens checked by an
-- independent verifier (Python's cryptography) when it is installed.
local compat = require("helpers.compat")
local capture = require("helpers.capture")
local F = require("helpers.fixtures")
local ivs = require("ivs")

local ROOT = os.getenv("IVS_ROOT") or "."
local IVS = ROOT .. "/scripts/ivs"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local tmp

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Runs `ivs args...` with the test credentials; returns exit status, stdout, stderr.
local function run(...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = q(a) end
  local env = string.format("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=us-west-2 AWS_MAX_ATTEMPTS=1",
    q(F.AKID), q(F.SECRET))
  -- Under the interpreter of this run, whatever the script's #! line names.
  local cmd = string.format("%s timeout 60 %s %s %s >%s 2>%s </dev/null", env, compat.LUA, q(IVS),
    table.concat(args, " "), q(tmp .. "/out"), q(tmp .. "/err"))
  local _, code = compat.execute(cmd)
  return code, read_file(tmp .. "/out"), read_file(tmp .. "/err")
end

local ROOM = "arn:aws:ivschat:us-west-2:123456789012:room/g1H2I3j4k5L6"
local STAGE = "arn:aws:ivs:us-west-2:123456789012:stage/8h86yWuvnf17"
local KEY_ARN = "arn:aws:ivs:us-west-2:123456789012:public-key/abcdABC1efg2"

describe("ivs chat / ivs realtime", function()
  lazy_setup(function()
    local p = assert(io.popen("mktemp -d"))
    tmp = p:read("*l")
    p:close()
  end)
  lazy_teardown(function() os.execute("rm -rf " .. q(tmp)) end)
  after_each(capture.finish_all)

  it("calls a Chat operation with typed flags and prints the result as JSON", function()
    local srv = capture.start({ { body = { arn = ROOM, name = "lobby", maximumMessageLength = 500,
      tags = { team = "games" } } } })
    local code, out, err = run("chat", "create-room", "--name", "lobby", "--maximum-message-length", "500",
      "--tags", "team=games", "--endpoint-url", srv.url)
    local reqs = srv:finish()
    assert.equal(0, code, err)
    local r = reqs[1]
    assert.equal("/CreateRoom", r.path)
    assert.same({ name = "lobby", maximumMessageLength = 500, tags = { team = "games" } }, r.json)
    assert.is_truthy(r.header("authorization"):find("/us-west-2/ivschat/aws4_request", 1, true))
    local value = ivs.json.decode(out)
    assert.equal(ROOM, value.arn)
    assert.equal(500, value.maximumMessageLength)
  end)

  it("signs Real-Time requests as ivs and merges every page of a list", function()
    local srv = capture.start({
      { body = { stages = { { arn = STAGE, name = "a" } }, nextToken = "t2" } },
      { body = { stages = { { arn = STAGE, name = "b" } } } },
    })
    local code, out, err = run("realtime", "list-stages", "--endpoint-url", srv.url, "--max-results", "1")
    local reqs = srv:finish()
    assert.equal(0, code, err)
    assert.equal(2, #reqs)
    assert.equal("t2", reqs[2].json.nextToken)
    assert.is_truthy(reqs[1].header("authorization"):find("/us-west-2/ivs/aws4_request", 1, true))
    local value = ivs.json.decode(out)
    assert.equal(2, #value.stages)
    assert.equal("b", value.stages[2].name)
  end)

  it("exits 2 for an unknown operation or a rejected input (nothing sent), 1 for a service error", function()
    local code, _, err = run("chat", "create-stage")
    assert.equal(2, code)
    assert.is_truthy(err:find("ivs chat help", 1, true), err)
    code, _, err = run("realtime", "get-stage", "--arn", "not-an-arn", "--endpoint-url", "http://127.0.0.1:9")
    assert.equal(2, code)
    assert.is_truthy(err:find("ParamValidationError", 1, true), err)
    local srv = capture.start({ { status = 404, headers = { ["x-amzn-ErrorType"] = "ResourceNotFoundException" },
      body = { message = "Stage not found" } } })
    code, _, err = run("realtime", "get-stage", "--arn", STAGE, "--endpoint-url", srv.url)
    srv:finish()
    assert.equal(1, code)
    assert.is_truthy(err:find("ResourceNotFoundException", 1, true), err)
    code = run("chat")
    assert.equal(2, code)
  end)

  it("completes each service's operations and parameters in bash", function()
    local code, out = run("__complete", "--", "chat", "create-r")
    assert.equal(0, code)
    assert.equal("create-room\n", out)
    code, out = run("__complete", "--", "realtime", "participant-t")
    assert.equal(0, code)
    assert.equal("participant-token\n", out)
    code, out = run("__complete", "--", "realtime", "get-stage", "--ar")
    assert.equal(0, code)
    assert.equal("--arn\n", out)
    code, out = run("__complete", "--", "ch")
    assert.equal(0, code)
    assert.equal("chat\n", out)
  end)

  it("lists each service's operations in help", function()
    local code, out = run("chat", "help")
    assert.equal(0, code)
    assert.is_truthy(out:find("create-chat-token", 1, true))
    assert.is_falsy(out:find("create-channel", 1, true))
    code, out = run("help", "realtime")
    assert.equal(0, code)
    assert.is_truthy(out:find("create-participant-token", 1, true))
    assert.is_truthy(out:find("participant-token", 1, true))
    code, out = run("realtime", "help", "participant-token")
    assert.equal(0, code)
    assert.is_truthy(out:find("--public-key-arn", 1, true))
  end)

  it("signs a participant token that an independent verifier accepts", function()
    local key = tmp .. "/key.pem"
    local pub = tmp .. "/pub.pem"
    assert.is_true(compat.execute("openssl ecparam -name secp384r1 -genkey -noout -out " .. q(key)
      .. " 2>/dev/null && openssl ec -in " .. q(key) .. " -pubout -out " .. q(pub) .. " 2>/dev/null") == true)
    local code, out, err = run("realtime", "participant-token", "--private-key", "file://" .. key,
      "--public-key-arn", KEY_ARN, "--stage-arn", STAGE, "--events-url", "wss://global.events.live-video.net",
      "--whip-url", "https://7d77e42545dc.global-bm.whip.live-video.net", "--user-id", "guest-1",
      "--capabilities", "PUBLISH", "--attributes", "seat=3", "--expires-in", "3600")
    assert.equal(0, code, err)
    local token = out:gsub("%s+$", "")
    assert.equal(3, select(2, token:gsub("%.", "")) + 1)
    -- Too long a lifetime is a rejected input: exit 2.
    local err2
    code, out, err2 = run("realtime", "participant-token", "--private-key", "file://" .. key,
      "--public-key-arn", KEY_ARN, "--stage-arn", STAGE, "--events-url", "wss://global.events.live-video.net",
      "--whip-url", "https://x.global-bm.whip.live-video.net", "--expires-in", tostring(15 * 86400))
    assert.equal(2, code)
    assert.equal("", out)
    assert.is_truthy(err2:find("14 days", 1, true), err2)

    if not compat.execute("python3 -c 'import cryptography' >/dev/null 2>&1") then
      pending("python3 with the cryptography package is not available")
      return
    end
    local f = assert(io.open(tmp .. "/token", "wb"))
    f:write(token)
    f:close()
    local p = assert(io.popen("python3 " .. q(ROOT .. "/tests/oracle/verify_playback_token.py") .. " " .. q(pub)
      .. " < " .. q(tmp .. "/token")))
    local verdict = ivs.json.decode(p:read("*a"))
    p:close()
    assert.is_true(verdict.valid, verdict.reason)
    assert.equal(KEY_ARN, verdict.header.kid)
    assert.equal("ES384", verdict.header.alg)
    local c = verdict.claims
    assert.equal(STAGE, c.resource)
    assert.equal("8h86yWuvnf17", c.topic)
    assert.equal("guest-1", c.user_id)
    assert.equal("1.0", c.version)
    assert.same({ allow_publish = true }, c.capabilities)
    assert.same({ seat = "3" }, c.attributes)
    assert.equal(3600, c.exp - c.iat)
  end)
end)
