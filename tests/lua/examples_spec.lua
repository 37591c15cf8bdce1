-- The example scripts (scripts/examples) and `make demo`'s driver, each run as a subprocess
-- against a fresh ivs-emulator, the way a user runs them.
local compat = require("helpers.compat")
local emulator = require("helpers.emulator")
local ivs = require("ivs")
local http = require("socket.http")
local ltn12 = require("ltn12")

local ROOT = os.getenv("IVS_ROOT") or "."
local LUA = os.getenv("IVS_TEST_LUA") or "lua5.4"
local q = emulator.shell_quote

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

local emu, client, tmp

-- Runs an example with the given environment prefix; returns the exit status, stdout and stderr.
local function run_with(env, script, ...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = q(a) end
  local cmd = string.format("%s timeout 60 %s %s %s >%s 2>%s </dev/null", env, LUA,
    q(ROOT .. "/scripts/examples/" .. script), table.concat(args, " "), q(tmp .. "/out"), q(tmp .. "/err"))
  local _, code = compat.execute(cmd)
  return code, read_file(tmp .. "/out"), read_file(tmp .. "/err")
end

-- Runs an example against the emulator.
local function run(script, ...)
  return run_with(emu:env(), script, ...)
end

local function admin(method, path, body)
  local chunks = {}
  local _, status = http.request{
    url = emu.url .. "/_emulator" .. path, method = method, sink = ltn12.sink.table(chunks),
    source = body and ltn12.source.string(body) or nil,
    headers = body and { ["content-type"] = "application/json", ["content-length"] = #body } or nil,
  }
  return status, table.concat(chunks)
end

local function count(operation)
  local n = 0
  for _ in client:items(operation) do n = n + 1 end
  return n
end

local function public_key_pem()
  local private, public = tmp .. "/k.pem", tmp .. "/pub.pem"
  assert(compat.execute(string.format("openssl ecparam -name secp384r1 -genkey -noout -out %s && "
    .. "openssl ec -in %s -pubout -out %s 2>/dev/null", q(private), q(private), q(public))))
  return read_file(public)
end

before_each(function()
  emu = emulator.start()
  client = assert(ivs.new{ endpoint = emu.url, region = emu.region, credentials = emu.credentials })
  local p = assert(io.popen("mktemp -d"))
  tmp = p:read("*l")
  p:close()
end)

after_each(function()
  if client then client:close() end
  emulator.stop_all()
  if tmp then os.execute("rm -rf " .. q(tmp)) end
end)

describe("provision.lua", function()
  it("walks through the API, masks the stream key and deletes everything it created", function()
    local code, out, err = run("provision.lua")
    assert.equal(0, code, err)
    assert.equal("", err)
    assert.matches("ivs%-emulator", out)
    assert.matches("recording config%s+demo%-rec%-%x+ %-> s3://[%w-]+ %(ACTIVE%)", out)
    assert.matches("channel%s+demo%-lobby%-%x+%s+arn:aws:ivs:us%-west%-2:%d+:channel/%w+", out)
    assert.matches("tags%s+owner=[^,]+, project=lua%-ivs%-demo", out)
    assert.matches("stream key%s+sk_us%-west%-2_%*%*%*%*%*%*%*%*%w%w%w%w %(%d+ characters%)", out)
    assert.matches("playback key pair%s+demo%-keys%-%x+%s+%x%x:%x%x:", out)
    assert.matches("stream%s+LIVE, HEALTHY, 0 viewers, st%-%w+", out)
    assert.matches('metadata%s+sent {"scene":"intro"}', out)
    assert.matches("stream%s+stopped", out)
    assert.matches("channels%s+1 in us%-west%-2 %(ours included%)", out)
    assert.matches("chat room%s+demo%-room%-%x+%s+arn:aws:ivschat:us%-west%-2:%d+:room/%w+", out)
    assert.matches("chat token%s+AQIC%*%*%*%*%*%*%*%*.... %(%d+ characters%), session until %d%d%d%d%-", out)
    assert.matches("stage%s+demo%-stage%-%x+%s+arn:aws:ivs:us%-west%-2:%d+:stage/%w+", out)
    assert.matches("participant token%s+eyJ.%*%*%*%*%*%*%*%*.... %(%d+ characters%) for %w+", out)
    assert.matches("deleted%s+stage, chat room, playback key pair, channel, recording configuration", out)
    assert.matches("done%s+everything created was deleted again", out)
    -- No token in full: the masked forms are the only traces of them.
    assert.is_nil(out:match("AQIC[%w+/=]+#0"), "a chat token was printed")
    assert.is_nil(out:match("eyJ[%w_-]+%.[%w_-]+%."), "a participant token was printed")
    -- No stream key value in full anywhere.
    assert.is_nil(out:match("sk_us%-west%-2_%w%w%w%w%w%w%w%w%w"))
    local lines = select(2, out:gsub("\n", ""))
    assert.is_true(lines >= 12 and lines <= 30, "output has " .. lines .. " lines")
    assert.equal(0, count("list_channels"))
    assert.equal(0, count("list_recording_configurations"))
    assert.equal(0, count("list_playback_key_pairs"))
  end)

  it("still stops the stream and deletes everything when a step fails", function()
    local status = admin("POST", "/faults", '{"operation":"PutMetadata","status":400,'
      .. '"errorCode":"ValidationException","message":"injected by examples_spec"}')
    assert.equal(200, status)
    local code, out, err = run("provision.lua")
    assert.equal(1, code)
    assert.matches("put_metadata: ValidationException: injected by examples_spec", err)
    assert.matches("deleted%s+playback key pair, channel, recording configuration", out)
    assert.matches("FAILED", out)
    assert.equal(0, count("list_channels"))
    assert.equal(0, count("list_recording_configurations"))
    assert.equal(0, count("list_playback_key_pairs"))
  end)

  it("exits non-zero with the reason when it cannot reach the endpoint", function()
    emu:stop()
    local code, _, err = run("provision.lua")
    assert.equal(1, code)
    assert.matches("provision.lua: create_channel: ConnectionError: could not talk to 127.0.0.1", err)
  end)
end)

describe("every example", function()
  it("says what is missing, without a traceback, when no region is configured", function()
    -- scripts/run-tests clears AWS_REGION and points the shared files at nonexistent paths.
    for _, script in ipairs({ "provision.lua", "provision_channels.lua", "list_all.lua" }) do
      local code, _, err = run_with("env -u AWS_REGION -u AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED=true",
        script)
      assert.equal(1, code, script)
      assert.matches("NoRegion: no region is configured", err, 1, false, script)
      assert.is_nil(err:find("traceback", 1, true), script)
    end
  end)
end)

describe("provision_channels.lua", function()
  it("creates the missing channels, then changes nothing on a second run", function()
    local code, out, err = run("provision_channels.lua")
    assert.equal(0, code, err)
    assert.matches("created%s+lobby%s+arn:aws:ivs:", out)
    assert.matches("created%s+stage%s+arn:aws:ivs:", out)
    assert.matches("3 created, 0 updated, 0 unchanged, 0 failed", out)
    local names = {}
    for ch in client:items("list_channels") do names[ch.name] = ch end
    assert.same({ team = "games", env = "demo" }, names.lobby.tags)
    assert.equal("ADVANCED_HD", names.stage.type)
    assert.equal("CONSTRAINED_BANDWIDTH_DELIVERY", names.stage.preset)
    assert.is_true(names.backstage.authorized)

    code, out, err = run("provision_channels.lua")
    assert.equal(0, code, err)
    assert.matches("unchanged%s+lobby", out)
    assert.matches("0 created, 0 updated, 3 unchanged, 0 failed", out)
    assert.equal(3, count("list_channels"))
  end)

  it("updates only what differs, adds tags, and leaves other tags alone", function()
    local existing = assert(client:create_channel{ name = "lobby", latencyMode = "NORMAL",
      tags = { team = "old", keep = "me" } }).channel
    write_file(tmp .. "/specs.lua", [[
return {
  { name = "lobby", latencyMode = "LOW", tags = { team = "games", env = "prod" } },
  { name = "fresh", type = "BASIC" },
}]])
    local code, out, err = run("provision_channels.lua", "--dry-run", tmp .. "/specs.lua")
    assert.equal(0, code, err)
    assert.matches("would be updated%s+lobby%s+latencyMode NORMAL %-> LOW; tags %+{env=prod,team=games}", out)
    assert.matches("would be created%s+fresh", out)
    assert.equal("NORMAL", client:get_channel{ arn = existing.arn }.channel.latencyMode)
    assert.equal(1, count("list_channels"))

    code, out, err = run("provision_channels.lua", tmp .. "/specs.lua")
    assert.equal(0, code, err)
    assert.matches("updated%s+lobby%s+latencyMode NORMAL %-> LOW", out)
    assert.matches("1 created, 1 updated, 0 unchanged, 0 failed", out)
    local ch = client:get_channel{ arn = existing.arn }.channel
    assert.equal("LOW", ch.latencyMode)
    assert.same({ team = "games", env = "prod", keep = "me" }, ch.tags)

    code, out = run("provision_channels.lua", tmp .. "/specs.lua")
    assert.equal(0, code)
    assert.matches("0 created, 0 updated, 2 unchanged, 0 failed", out)
  end)

  it("rejects a bad specs file and reports service errors on stderr", function()
    write_file(tmp .. "/bad.lua", 'return { { name = "x", latencyMod = "LOW" } }')
    local code, _, err = run("provision_channels.lua", tmp .. "/bad.lua")
    assert.equal(2, code)
    assert.matches("spec x: unknown setting 'latencyMod'", err)

    write_file(tmp .. "/invalid.lua", 'return { { name = "x", latencyMode = "FAST" } }')
    code, _, err = run("provision_channels.lua", tmp .. "/invalid.lua")
    assert.equal(1, code)
    assert.matches("provision_channels: x: .*latencyMode", err)
  end)
end)

describe("rotate_stream_key.lua", function()
  it("replaces the key, keeps its tags and prints only a masked value", function()
    local created = assert(client:create_channel{ name = "rot", tags = { team = "games" } })
    local old = created.streamKey
    local code, out, err = run("rotate_stream_key.lua", "rot")
    assert.equal(0, code, err)
    assert.matches("deleted stream key%s+" .. old.arn:gsub("%p", "%%%0"), out)
    assert.matches("value%s+sk_us%-west%-2_%*%*%*%*%*%*%*%*%w%w%w%w\n", out)
    local keys = client:list_stream_keys{ channelArn = created.channel.arn }.streamKeys
    assert.equal(1, #keys)
    assert.are_not.equal(old.arn, keys[1].arn)
    assert.same({ team = "games" }, keys[1].tags)
    local new_value = client:get_stream_key{ arn = keys[1].arn }.streamKey.value
    assert.is_nil(out:find(new_value, 1, true))
    assert.is_nil(out:find(old.value, 1, true))
    assert.matches("new stream key%s+" .. keys[1].arn:gsub("%p", "%%%0"), out)
  end)

  it("fails clearly for an unknown channel and for a bad command line", function()
    local code, _, err = run("rotate_stream_key.lua", "nope")
    assert.equal(1, code)
    assert.matches("no channel is named nope", err)
    code, _, err = run("rotate_stream_key.lua", "arn:aws:ivs:us-west-2:123456789012:channel/missing00000")
    assert.equal(1, code)
    assert.matches("ResourceNotFoundException", err)
    code, _, err = run("rotate_stream_key.lua")
    assert.equal(2, code)
    assert.matches("usage:", err)
  end)
end)

describe("list_all.lua", function()
  it("lists every kind of resource with its tags, across pages", function()
    for i = 1, 3 do
      assert(client:create_channel{ name = "ch" .. i, tags = { n = tostring(i) } })
    end
    assert(client:create_recording_configuration{ name = "archive", tags = { team = "vod" },
      destinationConfiguration = { s3 = { bucketName = "my-recordings" } } })
    assert(client:import_playback_key_pair{ name = "players", publicKeyMaterial = public_key_pem() })
    assert(client:create_playback_restriction_policy{ name = "eu-only", allowedCountries = { "DE", "FR" },
      tags = { region = "eu" } })
    local code, out, err = run("list_all.lua")
    assert.equal(0, code, err)
    assert.matches("channels: 3\n", out)
    assert.matches("ch2%s+arn:aws:ivs:us%-west%-2:%d+:channel/%w+ %[n=2%]", out)
    assert.matches("recording configurations: 1\n%s+archive%s+arn:[^\n]+%[team=vod%]", out)
    assert.matches("playback key pairs: 1\n%s+players%s+arn:aws:ivs:[^\n]+playback%-key/", out)
    assert.matches("playback restriction policies: 1\n%s+eu%-only%s+arn:[^\n]+%[region=eu%]", out)
  end)

  it("exits non-zero when a listing fails", function()
    assert.equal(200, (admin("POST", "/faults", '{"operation":"ListPlaybackKeyPairs","status":403,'
      .. '"errorCode":"AccessDeniedException","message":"no"}')))
    local code, _, err = run("list_all.lua")
    assert.equal(1, code)
    assert.matches("list_all: list_playback_key_pairs: AccessDeniedException", err)
  end)
end)

describe("revoke_viewer.lua", function()
  it("revokes a viewer's sessions on a channel named or given by ARN", function()
    local ch = assert(client:create_channel{ name = "private", authorized = true }).channel
    local code, out, err = run("revoke_viewer.lua", "private", "viewer-42", "3")
    assert.equal(0, code, err)
    assert.equal("revoked viewer viewer-42 on " .. ch.arn .. " (session versions <= 3)\n", out)
    code, out, err = run("revoke_viewer.lua", ch.arn, "viewer-7")
    assert.equal(0, code, err)
    assert.matches("versions <= 0", out)
  end)

  it("fails for a missing channel and for a bad command line", function()
    local code, _, err = run("revoke_viewer.lua", "arn:aws:ivs:us-west-2:123456789012:channel/missing00000", "v")
    assert.equal(1, code)
    assert.matches("start_viewer_session_revocation: ResourceNotFoundException", err)
    code, _, err = run("revoke_viewer.lua", "private")
    assert.equal(2, code)
    assert.matches("usage:", err)
    code = run("revoke_viewer.lua", "private", "v", "-1")
    assert.equal(2, code)
  end)
end)

describe("scripts/demo", function()
  it("runs provision.lua against its own emulator and stops it afterwards", function()
    local cmd = string.format("timeout 120 %s >%s 2>%s </dev/null", q(ROOT .. "/scripts/demo"), q(tmp .. "/out"),
      q(tmp .. "/err"))
    local _, code = compat.execute(cmd)
    local out = read_file(tmp .. "/out")
    assert.equal(0, code, read_file(tmp .. "/err"))
    local port = assert(out:match("listening on http://127%.0%.0%.1:(%d+)"))
    assert.matches("done%s+everything created was deleted again", out)
    -- Nothing answers on the emulator's port any more.
    local sock = require("socket").tcp()
    sock:settimeout(1)
    assert.is_nil((sock:connect("127.0.0.1", tonumber(port))))
    sock:close()
  end)

  it("passes the script's failure on and still stops the emulator", function()
    write_file(tmp .. "/fails.lua", 'io.stderr:write("broken on purpose\\n") os.exit(3)')
    local cmd = string.format("timeout 120 %s %s >%s 2>%s </dev/null", q(ROOT .. "/scripts/demo"),
      q(tmp .. "/fails.lua"), q(tmp .. "/out"), q(tmp .. "/err"))
    local _, code = compat.execute(cmd)
    assert.equal(3, code)
    assert.matches("broken on purpose", read_file(tmp .. "/err"))
    local port = assert(read_file(tmp .. "/out"):match("listening on http://127%.0%.0%.1:(%d+)"))
    local sock = require("socket").tcp()
    sock:settimeout(1)
    assert.is_nil((sock:connect("127.0.0.1", tonumber(port))))
    sock:close()
  end)
end)
