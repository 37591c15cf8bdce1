-- scripts/ivs, the command line tool, run as a subprocess against a fresh ivs-emulator the way
-- a user runs it; and ivs.json, which it prints with.
local compat = require("helpers.compat")
local emulator = require("helpers.emulator")
local ivs = require("ivs")

local ROOT = os.getenv("IVS_ROOT") or "."
local IVS = ROOT .. "/scripts/ivs"
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

local emu, tmp

-- Runs `ivs args...` with an environment prefix; returns exit status, stdout, stderr.
local function run_with(env, ...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = q(a) end
  -- Under the interpreter of this run, whatever the script's #! line names.
  local cmd = string.format("%s timeout 60 %s %s %s >%s 2>%s </dev/null", env, compat.LUA, q(IVS),
    table.concat(args, " "), q(tmp .. "/out"), q(tmp .. "/err"))
  local _, code = compat.execute(cmd)
  return code, read_file(tmp .. "/out"), read_file(tmp .. "/err")
end

local function run(...)
  return run_with(emu and emu:env() or "", ...)
end

-- Runs a command that must succeed and print JSON; returns the decoded output.
local function run_json(...)
  local code, out, err = run(...)
  assert.equal(0, code, err)
  assert.equal("", err)
  local value, derr = ivs.json.decode(out)
  assert.is_not_nil(value, derr and derr.message)
  return value
end

local function mktemp()
  local p = assert(io.popen("mktemp -d"))
  local dir = p:read("*l")
  p:close()
  return dir
end

local function b64url_decode(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local bits = {}
  for c in s:gmatch(".") do
    local v = alphabet:find(c, 1, true)
    assert(v, "not base64url: " .. c)
    v = v - 1
    for i = 5, 0, -1 do bits[#bits + 1] = math.floor(v / 2 ^ i) % 2 end
  end
  local out = {}
  for i = 1, #bits - 7, 8 do
    local byte = 0
    for j = 0, 7 do byte = byte * 2 + bits[i + j] end
    out[#out + 1] = string.char(byte)
  end
  return table.concat(out)
end

describe("ivs.json", function()
  it("encodes with sorted keys, compact or indented", function()
    local v = { b = 1, a = { 1, 2, { z = true, y = false } }, c = "x" }
    assert.equal('{"a":[1,2,{"y":false,"z":true}],"b":1,"c":"x"}', ivs.json.encode(v))
    assert.equal('{\n    "a": [\n        1\n    ],\n    "b": {}\n}', ivs.json.encode({ a = { 1 }, b = {} }, true))
  end)

  it("escapes strings and writes numbers exactly", function()
    assert.equal('"q\\"\\\\\\n\\t\\u0001é"', ivs.json.encode('q"\\\n\t\1é'))
    if compat.HAS_INTEGERS then assert.equal("9223372036854775807", ivs.json.encode(math.maxinteger)) end
    assert.equal("9007199254740991", ivs.json.encode(2 ^ 53 - 1))
    assert.equal("0.1", ivs.json.encode(0.1))
    assert.equal(1 / 3, ivs.json.decode(ivs.json.encode(1 / 3)))
    assert.equal("null", ivs.json.encode(nil))
  end)

  it("writes an empty table as {} unless it is marked as an array", function()
    assert.equal("{}", ivs.json.encode({}))
    assert.equal("[]", ivs.json.encode(ivs.json.array()))
    local t = ivs.json.array({ 1 })
    assert.equal("[1]", ivs.json.encode(t))
  end)

  it("round-trips values, empty arrays and objects included", function()
    for _, text in ipairs({
      '{"a":[],"b":{},"c":[1,-2,3.5,"s",true,false],"d":{"e":{"f":[[]]}}}',
      '[]', '{}', '"plain"', "42", "true",
      '{"channels":[{"arn":"arn:aws:ivs:us-west-2:123456789012:channel/abc","tags":{}}]}',
    }) do
      local v = ivs.json.decode(text)
      assert.equal(text, ivs.json.encode(v))
      assert.equal(text, ivs.json.encode(ivs.json.decode(ivs.json.encode(v, true))))
    end
  end)

  it("decodes integers as integers and null as absent", function()
    local v = ivs.json.decode('{"n":3,"f":2.5,"z":null,"l":[1,null,2]}')
    assert.equal("integer", compat.math_type(v.n))
    assert.equal("float", compat.math_type(v.f))
    assert.is_nil(v.z)
    assert.same({ 1, 2 }, { v.l[1], v.l[2] })
    assert.equal(2, #v.l)
  end)

  it("returns nil, err with the position for text that is not JSON", function()
    local v, err = ivs.json.decode('{\n  "a": tru }')
    assert.is_nil(v)
    assert.is_true(ivs.is_error(err))
    assert.equal("InvalidJSON", err.code)
    assert.matches("line 2", err.message)
    assert.is_nil((ivs.json.decode("[1] trailing")))
    assert.is_nil((ivs.json.decode("")))
    assert.is_nil((ivs.json.decode(string.rep("[", 300) .. string.rep("]", 300))))
  end)

  it("raises for values JSON cannot carry", function()
    assert.has_error(function() ivs.json.encode({ 1, x = 2 }) end)
    assert.has_error(function() ivs.json.encode({ f = print }) end)
    assert.has_error(function() ivs.json.encode(0 / 0) end)
    local cyclic = {}
    cyclic.self = cyclic
    assert.has_error(function() ivs.json.encode(cyclic) end)
    assert.has_error(function() ivs.json.array(5) end)
  end)
end)

describe("the ivs command", function()
  before_each(function()
    tmp = mktemp()
  end)

  after_each(function()
    emulator.stop_all()
    emu = nil
    if tmp then os.execute("rm -rf " .. q(tmp)) end
  end)

  describe("without a service", function()
    it("lists the 41 operations and the global options for help and --help", function()
      for _, form in ipairs({ { "help" }, { "--help" } }) do
        local code, out, err = run(compat.unpack(form))
        assert.equal(0, code, err)
        local ops, listed = {}, 0
        for line in out:gmatch("[^\n]+") do
          -- "  name  summary": the operation and its one-line summary
          local name, summary = line:match("^  ([a-z][a-z-]+)  +(%u[^\n]*%.)$")
          if name then
            assert.equal(ivs.describe(name:gsub("%-", "_")).summary, summary)
            ops[name] = true
            listed = listed + 1
          end
        end
        assert.equal(41, listed)
        for _, snake in ipairs(ivs.operations()) do
          local kebab = snake:gsub("_", "-")
          assert.is_true(ops[kebab], kebab .. " is not listed")
        end
        assert.matches("%-%-endpoint%-url", out)
        assert.matches("playback%-token", out)
      end
    end)

    it("describes one operation's parameters from the model", function()
      local code, out = run("help", "create-channel")
      assert.equal(0, code)
      assert.matches("%-%-latency%-mode <string>", out)
      assert.matches("one of: NORMAL, LOW", out)
      assert.matches("%-%-authorized | %-%-no%-authorized <boolean>", out)
      assert.matches("%-%-tags <map of string to string>", out)
      assert.matches("length 0..128", out)
      local code2, out2 = run("get-channel", "--help")
      assert.equal(0, code2)
      assert.matches("%-%-arn <string>%s+%(required%)", out2)
      local code3, out3 = run("help", "list_channels")
      assert.equal(0, code3)
      assert.matches("Paginated", out3)
    end)

    it("prints its version", function()
      local code, out = run("--version")
      assert.equal(0, code)
      assert.equal("ivs " .. ivs.VERSION .. " (IVS API " .. ivs.API_VERSION .. ", " .. _VERSION .. ")\n", out)
    end)

    it("exits 2 with the closest valid name for an unknown option or operation", function()
      local code, out, err = run("create-channel", "--nmae", "x")
      assert.equal(2, code)
      assert.equal("", out)
      assert.equal("ivs: unknown option --nmae for create-channel (did you mean --name?)\n", err)
      code, out, err = run("creat-channel")
      assert.equal(2, code)
      assert.equal("", out)
      assert.matches("unknown operation 'creat%-channel' %(did you mean 'create%-channel'%?", err)
      code, out, err = run()
      assert.equal(2, code)
      assert.equal("", out)
      assert.matches("no operation given", err)
    end)

    it("exits 2 for values of the wrong type and requests the model rejects, sending nothing", function()
      -- No endpoint or region at all: these must fail before any client exists.
      local code, out, err = run("list-channels", "--max-results", "1.5")
      assert.equal(2, code)
      assert.equal("", out)
      assert.equal("ivs: --max-results expects an integer, got '1.5'\n", err)
      code, out, err = run("create-channel", "--authorized", "maybe")
      assert.equal(2, code)
      assert.equal("", out)
      assert.matches("expects true or false", err)
      code, out, err = run("tag-resource", "--resource-arn", "arn:aws:ivs:us-west-2:1:channel/a", "--tags", "{oops")
      assert.equal(2, code)
      assert.equal("", out)
      assert.matches("^ivs: %-%-tags: not valid JSON", err)
      code, out, err = run_with("AWS_REGION=us-west-2 AWS_ENDPOINT_URL_IVS=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=A "
        .. "AWS_SECRET_ACCESS_KEY=B", "create-channel", "--latency-mode", "FAST")
      assert.equal(2, code)
      assert.equal("", out)
      assert.matches('^ivs: ParamValidationError: create_channel: latencyMode: "FAST" is not one of', err)
      assert.equal(1, select(2, err:gsub("\n", "")))
    end)

    it("exits 1 with one line when no region is configured", function()
      local code, _, err = run_with("env -u AWS_REGION -u AWS_DEFAULT_REGION", "list-channels")
      assert.equal(1, code)
      assert.matches("^ivs: NoRegion: no region is configured", err)
      assert.equal(1, select(2, err:gsub("\n", "")))
      assert.is_nil(err:find("traceback", 1, true))
    end)

    it("signs a playback token: three base64url parts, header alg ES384", function()
      if not compat.execute("command -v openssl >/dev/null 2>&1") then
        pending("the openssl command is not installed")
        return
      end
      local key = tmp .. "/key.pem"
      assert.is_true((compat.execute("openssl ecparam -name secp384r1 -genkey -noout -out " .. q(key))))
      local arn = "arn:aws:ivs:us-west-2:123456789012:channel/abcDEF123"
      local code, out, err = run("playback-token", "--private-key", "file://" .. key, "--channel-arn", arn,
        "--expires-in", "300", "--viewer-id", "player-7")
      assert.equal(0, code, err)
      local h, p, s = out:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)\n$")
      assert.is_not_nil(h, out)
      local header = ivs.json.decode(b64url_decode(h))
      assert.equal("ES384", header.alg)
      local claims = ivs.json.decode(b64url_decode(p))
      assert.equal(arn, claims["aws:channel-arn"])
      assert.equal("player-7", claims["aws:viewer-id"])
      assert.is_true(math.abs(claims.exp - os.time() - 300) <= 5)
      assert.equal(96, #b64url_decode(s)) -- raw r||s of P-384

      code, out = run("playback-token", "--private-key", "file://" .. key, "--channel-arn", arn,
        "--url", "https://example.invalid/v1/x.m3u8")
      assert.equal(0, code)
      assert.matches("^https://example%.invalid/v1/x%.m3u8%?token=[%w_-]+%.[%w_-]+%.[%w_-]+\n$", out)

      -- Bad claims: exit 2, and the key never shows up in a message.
      code, out, err = run("playback-token", "--private-key", "file://" .. key, "--channel-arn", arn,
        "--expires-in", "3600", "--viewer-id", "v")
      assert.equal(2, code)
      assert.equal("", out)
      assert.matches("InvalidPlaybackTokenClaims", err)
      code, out, err = run("playback-token", "--channel-arn", arn)
      assert.equal(2, code)
      assert.equal("", out)
      assert.matches("needs %-%-private%-key", err)
    end)
  end)

  describe("on hostile input (one line, exit 2 or 1, never a stack trace)", function()
    local capture = require("helpers.capture")
    after_each(capture.finish_all)
    local ENV = "AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secretsecret AWS_REGION=us-west-2"

    local function one_line(code, want, out, err)
      assert.equal(want, code, err)
      assert.equal("", out)
      assert.matches("^ivs: [^\n]*\n$", err)
      assert.is_nil(err:find("traceback", 1, true), err)
    end

    it("refuses bad command-line values as usage errors", function()
      local code, out, err = run_with(ENV, "--max-attempts", "1000", "list-channels", "--endpoint-url",
        "http://127.0.0.1:1")
      one_line(code, 2, out, err)
      assert.matches("max%-attempts", err)
      write_file(tmp .. "/nul", "arn:aws:ivs:us-west-2:123456789012:channel/ab\0cd")
      code, out, err = run_with(ENV, "get-channel", "--arn", "file://" .. tmp .. "/nul")
      one_line(code, 2, out, err)
      assert.matches("NUL", err)
      code, out, err = run_with(ENV, "list-channels", "--cli-input-json", "file:///dev/zero")
      one_line(code, 2, out, err)
      assert.matches("larger than", err)
      for _, depth in ipairs({ 100, 1000 }) do
        write_file(tmp .. "/deep.json", '{"tags":{"a":' .. string.rep("[", depth) .. string.rep("]", depth) .. "}}")
        code, out, err = run_with(ENV, "list-channels", "--cli-input-json", "file://" .. tmp .. "/deep.json",
          "--endpoint-url", "http://127.0.0.1:1")
        one_line(code, 2, out, err)
      end
    end)

    it("answers a huge unknown name with a suggestion at once", function()
      local started = os.time()
      local code, out, err = run_with(ENV, string.rep("list-channelz", 8000))
      one_line(code, 2, out, err)
      assert.matches("did you mean", err)
      assert.is_true(os.time() - started < 10)
    end)

    it("reports odd responses as failed calls", function()
      for _, body in ipairs({ '{"channels":42}', '{"channels":' .. string.rep("[", 200) .. string.rep("]", 200) .. "}",
        "not json", '{"channels":[1,"x",{"arn":5}]}' }) do
        local r = { status = 200, body = body }
        local srv = capture.start({ r, r, r, r })
        for _, args in ipairs({ { "--output", "json" }, { "--output", "text", "--no-paginate" },
          { "--output", "table", "--no-paginate" }, { "--max-items", "1" } }) do
          local code, out, err = run_with(ENV, "list-channels", "--endpoint-url", srv.url, compat.unpack(args))
          if code == 0 then
            assert.equal("", err)
          else
            one_line(code, 1, out, err)
          end
        end
        srv:finish()
      end
    end)
  end)

  describe("against the emulator", function()
    before_each(function()
      emu = emulator.start()
    end)

    it("creates a channel from flags and gets it back", function()
      local out = run_json("create-channel", "--name", "lobby", "--latency-mode", "LOW", "--no-authorized",
        "--type", "BASIC")
      local ch = out.channel
      assert.equal("lobby", ch.name)
      assert.equal("LOW", ch.latencyMode)
      assert.equal("BASIC", ch.type)
      assert.is_false(ch.authorized)
      assert.matches("^sk_", out.streamKey.value) -- the stream key is the output of the call
      local got = run_json("get-channel", "--arn", ch.arn)
      assert.equal(ch.arn, got.channel.arn)
      assert.equal("lobby", got.channel.name)
      -- snake_case operation and member spellings work too
      got = run_json("get_channel", "--arn=" .. ch.arn, "--region", "us-west-2")
      assert.equal("lobby", got.channel.name)
      local created = run_json("create-channel", "--name", "priv", "--authorized")
      assert.is_true(created.channel.authorized)
    end)

    it("prints JSON with sorted keys and [] for an empty list", function()
      local code, out = run("list-channels")
      assert.equal(0, code)
      assert.equal('{\n    "channels": []\n}\n', out)
      run_json("create-channel", "--name", "a")
      code, out = run("list-channels")
      assert.equal(0, code)
      local keys = {}
      for k in out:gmatch('\n            "(%w+)":') do keys[#keys + 1] = k end
      local sorted = { compat.unpack(keys) }
      table.sort(sorted)
      assert.is_true(#keys >= 5)
      assert.same(sorted, keys)
    end)

    it("fetches every page of a list operation and merges them", function()
      local arns = {}
      for i = 1, 4 do arns[i] = run_json("create-channel", "--name", "ch" .. i).channel.arn end
      local all = run_json("list-channels", "--max-results", "1")
      assert.equal(4, #all.channels)
      assert.is_nil(all.nextToken)
      local seen = {}
      for _, ch in ipairs(all.channels) do seen[ch.arn] = true end
      for _, arn in ipairs(arns) do assert.is_true(seen[arn], arn) end

      local one = run_json("list-channels", "--max-results", "1", "--no-paginate")
      assert.equal(1, #one.channels)
      assert.is_string(one.nextToken)
      local rest = run_json("list-channels", "--max-results", "2", "--next-token", one.nextToken)
      assert.equal(3, #rest.channels)

      local some = run_json("list-channels", "--max-results", "1", "--max-items", "2")
      assert.equal(2, #some.channels)
    end)

    it("tags with shorthand and JSON, and untags with repeated --tag-keys", function()
      local arn = run_json("create-channel", "--name", "t", "--tags", "team=a,env=dev").channel.arn
      local code, out, err = run("tag-resource", "--resource-arn", arn, "--tags", '{"x":"1","y":"2"}')
      assert.equal(0, code, err)
      assert.equal("", out) -- no output, as the AWS CLI does for an empty result
      assert.same({ team = "a", env = "dev", x = "1", y = "2" },
        run_json("list-tags-for-resource", "--resource-arn", arn).tags)
      code, out, err = run("untag-resource", "--resource-arn", arn, "--tag-keys", "x", "--tag-keys", "team")
      assert.equal(0, code, err)
      assert.equal("", out)
      assert.same({ env = "dev", y = "2" }, run_json("list-tags-for-resource", "--resource-arn", arn).tags)
      code, out, err = run("untag-resource", "--resource-arn", arn, "--tag-keys", "env", "y")
      assert.equal(0, code, err)
      assert.equal("", out)
      local code2, out2 = run("list-tags-for-resource", "--resource-arn", arn)
      assert.equal(0, code2)
      assert.equal('{\n    "tags": {}\n}\n', out2)
    end)

    it("takes the whole input from --cli-input-json file://, flags overriding it", function()
      local input = tmp .. "/in.json"
      write_file(input, '{"name":"from-file","latencyMode":"NORMAL","tags":{"k":"v"}}')
      local ch = run_json("create-channel", "--cli-input-json", "file://" .. input, "--latency-mode", "LOW").channel
      assert.equal("from-file", ch.name)
      assert.equal("LOW", ch.latencyMode)
      assert.same({ k = "v" }, ch.tags)
      local code, _, err = run("create-channel", "--cli-input-json", "file://" .. tmp .. "/missing.json")
      assert.equal(2, code)
      assert.matches("cannot read", err)
    end)

    it("exits 1 with the service's error on one line of stderr", function()
      local arn = "arn:aws:ivs:us-west-2:123456789012:channel/doesNotExist"
      local code, out, err = run("get-channel", "--arn", arn)
      assert.equal(1, code)
      assert.equal("", out)
      assert.matches("^ivs: ResourceNotFoundException: .* %(status 404, request [%w-]+, 1 attempt%)\n$", err)
    end)

    it("prints one tab-separated line per item with --output text", function()
      for i = 1, 3 do run_json("create-channel", "--name", "txt" .. i, "--latency-mode", "LOW") end
      local code, out, err = run("list-channels", "--output", "text", "--max-results", "2")
      assert.equal(0, code, err)
      local lines = {}
      for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
      assert.equal(3, #lines)
      for _, line in ipairs(lines) do
        assert.matches("\tarn:aws:ivs:us%-west%-2:123456789012:channel/%w+\t", line)
        assert.matches("\ttxt%d\tLOW\t", line) -- the model's member order: arn, name, latencyMode
      end
    end)

    it("logs redacted requests to stderr with --debug", function()
      local code, out, err = run("--debug", "list-channels")
      assert.equal(0, code)
      assert.matches('"channels"', out)
      assert.matches("POST http://127%.0%.0%.1:%d+/ListChannels", err)
      assert.is_nil(err:find(emulator.SECRET_ACCESS_KEY, 1, true))
      assert.is_nil(err:match("Signature=%x%x%x%x"))
    end)

    it("sends to --endpoint-url and honours --max-attempts", function()
      local code, _, err = run("--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1", "list-channels")
      assert.equal(1, code)
      assert.matches("^ivs: ConnectionError", err)
      assert.matches("1 attempt", err)
      code = run("--endpoint-url", emu.url, "list-channels")
      assert.equal(0, code)
    end)
  end)
end)
