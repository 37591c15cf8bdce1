-- The `ivs` command at par with `aws ivs`: --query, --output text|table, --max-items with
-- --starting-token, bash completion, and the playback-token key message. Run as a
-- subprocess against a fresh ivs-emulator; the AWS CLI (where installed) is the oracle for
-- the table drawing and the resume tokens.
local emulator = require("helpers.emulator")
local ivs = require("ivs")
local output = require("ivs.output")

local ROOT = os.getenv("IVS_ROOT") or "."
local IVS = ROOT .. "/scripts/ivs"
local q = emulator.shell_quote

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function sh(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc, (out:gsub("__rc=%d+%s*$", ""))
end

local tmp
local function run_with(env, ...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = q(a) end
  -- Under the interpreter of this run (scripts/run-tests sets IVS_TEST_LUA), whatever the #! says.
  local cmd = string.format("%s timeout 60 %s %s %s >%s 2>%s </dev/null", env, os.getenv("IVS_TEST_LUA") or "lua5.4",
    q(IVS), table.concat(args, " "), q(tmp .. "/out"), q(tmp .. "/err"))
  local ok, _, code = os.execute(cmd)
  if type(ok) == "number" then code = ok / 256 end -- Lua 5.1 returns the wait status
  return code, read_file(tmp .. "/out"), read_file(tmp .. "/err")
end

local function has_aws_cli()
  return (sh("command -v aws >/dev/null && python3 -c 'import awscli' 2>/dev/null")) == 0
end

local ARRAY_MT = getmetatable(ivs.json.array())
output.array_mt = ARRAY_MT

describe("ivs command line: output and queries", function()
  local emu

  setup(function()
    local p = assert(io.popen("mktemp -d"))
    tmp = p:read("*l")
    p:close()
    emu = emulator.start()
    for _, name in ipairs({ "alpha", "bravo", "charlie", "delta", "echo" }) do
      local code, _, err = run_with(emu:env(), "create-channel", "--name", name, "--tags", "team=" .. name)
      assert.equal(0, code, err)
    end
  end)

  teardown(function()
    if emu then emu:stop() end
    if tmp then os.execute("rm -rf " .. q(tmp)) end
  end)

  local function run(...) return run_with(emu:env(), ...) end

  it("applies --query after pagination, and --output json prints the result", function()
    local code, out, err = run("list-channels", "--max-results", "2", "--query", "channels[].name")
    assert.equal(0, code, err)
    assert.are.same({ "alpha", "bravo", "charlie", "delta", "echo" }, ivs.json.decode(out))
    code, out = run("list-channels", "--query", "length(channels[?starts_with(name, 'c')])")
    assert.equal(0, code)
    assert.equal("1\n", out)
    code, out = run("list-channels", "--query", "channels[?name=='nope'] | [0]")
    assert.equal(0, code)
    assert.equal("null\n", out)
  end)

  it("refuses a bad expression before sending anything (exit 2, one line)", function()
    local code, out, err = run("list-channels", "--query", "channels[?name==")
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("^ivs: %-%-query: ", err)
    assert.equal(1, select(2, err:gsub("\n", "")))
    code, out, err = run("list-channels", "--query", "abs(channels)")
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("QueryError: abs%(%)", err)
  end)

  it("prints text in the model's member order, with tags as key and value", function()
    local code, out, err = run("list-channels", "--output", "text", "--max-items", "1")
    assert.equal(0, code, err)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    -- CHANNELS, then arn, name, latencyMode... (the model's ChannelSummary order)
    local cols = {}
    for c in (lines[1] .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = c end
    assert.equal("CHANNELS", cols[1])
    assert.matches("^arn:aws:ivs:", cols[2])
    assert.equal("alpha", cols[3])
    assert.equal("LOW", cols[4])
    assert.equal("False", cols[5])
    assert.equal("TAGS\tteam\talpha", lines[2])
    assert.matches("^NEXTTOKEN\t[%w+/=]+$", lines[3])
  end)

  it("resumes with --starting-token from the NextToken --max-items printed", function()
    local seen = {}
    local token
    for _ = 1, 10 do
      local args = { "list-channels", "--max-items", "2", "--max-results", "3", "--query",
                     "{names: channels[].name, next: NextToken}" }
      if token then
        args[#args + 1] = "--starting-token"
        args[#args + 1] = token
      end
      local code, out, err = run((table.unpack or _G.unpack)(args))
      assert.equal(0, code, err)
      local page = ivs.json.decode(out)
      for _, n in ipairs(page.names) do seen[#seen + 1] = n end
      token = page.next
      if not token then break end
    end
    assert.are.same({ "alpha", "bravo", "charlie", "delta", "echo" }, seen)
    local code, _, err = run("list-channels", "--starting-token", "not-a-token")
    assert.equal(2, code)
    assert.matches("starting%-token", err)
    code, _, err = run("get-channel", "--arn", "x", "--starting-token", "eyJ9")
    assert.equal(2, code)
    assert.matches("only to list operations", err)
  end)

  it("draws --output table and resume tokens exactly as the AWS CLI", function()
    if not has_aws_cli() then
      pending("the AWS CLI is not installed here")
      return
    end
    local env = emu:env() .. " AWS_DEFAULT_REGION=" .. emu.region .. " COLUMNS= "
    local code, mine, err = run_with(env, "list-channels", "--output", "table", "--max-items", "2")
    assert.equal(0, code, err)
    local rc, theirs = sh(env .. " aws ivs list-channels --endpoint-url " .. emu.url ..
      " --output table --max-items 2 2>/dev/null")
    assert.equal(0, rc, theirs)
    assert.equal(theirs, mine)
    -- the AWS CLI resumes from our token and we from its
    local rc2, token = sh(env .. " aws ivs list-channels --endpoint-url " .. emu.url ..
      " --max-items 3 --page-size 2 --output json --query NextToken 2>/dev/null")
    assert.equal(0, rc2, token)
    code, mine = run_with(env, "list-channels", "--max-items", "3", "--max-results", "2",
      "--query", "NextToken", "--output", "text")
    assert.equal(0, code)
    assert.equal(ivs.json.decode(token), (mine:gsub("\n$", "")))
    local rc3, rest = sh(env .. " aws ivs list-channels --endpoint-url " .. emu.url ..
      " --starting-token " .. q((mine:gsub("\n$", ""))) .. " --page-size 2 --query 'channels[].name' --output text")
    assert.equal(0, rc3, rest)
    assert.equal("delta\techo\n", (rest:gsub("\n(.)", "\t%1")))
  end)

  it("offers operations, options and values through bash completion", function()
    local code, out = run("completion", "bash")
    assert.equal(0, code)
    assert.matches("complete %-o default %-F _ivs_complete ivs", out)
    code, out = run("__complete", "--", "get-ch")
    assert.equal(0, code)
    assert.equal("get-channel\n", out)
    local _
    _, out = run("__complete", "--", "list-channels", "--max")
    assert.equal("--max-attempts\n--max-items\n--max-results\n", (function()
      local l = {}
      for x in out:gmatch("[^\n]+") do l[#l + 1] = x end
      table.sort(l)
      return table.concat(l, "\n") .. "\n"
    end)())
    _, out = run("__complete", "--", "--output", "t")
    assert.equal("table\ntext\n", out)
    if (sh("command -v bash >/dev/null")) == 0 then
      local script = tmp .. "/complete.sh"
      local f = assert(io.open(script, "w"))
      f:write(string.format([[
ivs() { %s %s "$@"; }
source <(ivs completion bash)
COMP_WORDS=(ivs create-chan); COMP_CWORD=1; _ivs_complete; echo "${COMPREPLY[*]}"
]], os.getenv("IVS_TEST_LUA") or "lua5.4", q(IVS)))
      f:close()
      local rc, got = sh("bash " .. q(script))
      assert.equal(0, rc, got)
      assert.equal("create-channel\n", got)
    end
  end)

  it("says what --private-key expected when given a bare path", function()
    local key = tmp .. "/private.pem"
    local f = assert(io.open(key, "w"))
    f:write("not a key\n")
    f:close()
    local code, out, err = run("playback-token", "--private-key", key, "--channel-arn",
      "arn:aws:ivs:us-west-2:123456789012:channel/abcdABCDefgh")
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("write %-%-private%-key file://", err)
  end)

  it("runs scripts/demo with a script path relative to the caller's directory", function()
    local dir = tmp .. "/demo"
    os.execute("mkdir -p " .. q(dir))
    local f = assert(io.open(dir .. "/hello.lua", "w"))
    f:write('local ivs = require("ivs")\n',
      'local out = assert(ivs.new():list_channels{})\n',
      'print("channels", #out.channels)\n')
    f:close()
    local rc, out = sh("cd " .. q(dir) .. " && timeout 120 " .. q(ROOT .. "/scripts/demo") .. " hello.lua")
    assert.equal(0, rc, out)
    assert.matches("channels\t0", out)
  end)
end)

describe("ivs.output", function()
  setup(function()
    local p = assert(io.popen("mktemp -d"))
    tmp = p:read("*l")
    p:close()
  end)

  teardown(function()
    if tmp then os.execute("rm -rf " .. q(tmp)) end
  end)

  it("renders text with the AWS CLI's rules for records, lists and scalars", function()
    local v = { a = ivs.json.array({ 1, 2 }), c = "x", d = ivs.json.array({ { x = 1 }, { y = 2 } }) }
    assert.equal("x\nA\t1\nA\t2\nD\t1\t\nD\t\t2\n", output.text(v))
    assert.equal("alpha\tbeta\n", output.text(ivs.json.array({ "alpha", "beta" })))
    assert.equal("", output.text(nil))
    assert.equal("True\n", output.text(true))
  end)

  it("draws a table the AWS CLI's way (oracle: awscli's TableFormatter)", function()
    if (sh("python3 -c 'import awscli.formatter' 2>/dev/null")) ~= 0 then
      pending("awscli is not installed here")
      return
    end
    local samples = {
      '{"channel":{"arn":"arn:aws:ivs:us-west-2:1:channel/abc","name":"lobby","authorized":false,' ..
        '"tags":{"env":"prod","team":"video"},"srt":{"endpoint":"e","passphrase":"p"}}}',
      '{"a":[1,2,3],"b":[[1,2],[3,4]],"c":"x","d":[{"x":1},{"y":2}],"n":3.5}',
      '["alpha","beta"]',
      '{"stage":{"name":"日本語のステージ","endpoints":{"events":"wss://a","whip":"https://b"},"n":60}}',
      '{"items":[{"k":"a","v":true},{"k":"b","v":false,"sub":{"z":1}}]}',
    }
    for i, s in ipairs(samples) do
      local path = tmp .. "/sample" .. i .. ".json"
      local f = assert(io.open(path, "wb"))
      f:write(s)
      f:close()
      for _, width in ipairs({ 80, 40 }) do
        local rc, theirs = sh("python3 -c " .. q([[
import sys, json, io, argparse
import awscli.table as t
t.determine_terminal_width = lambda default_width=80: ]] .. width .. [[

from awscli.formatter import TableFormatter
out = io.StringIO()
TableFormatter(argparse.Namespace(color='off', query=None))('Title', json.load(open(sys.argv[1])), out)
sys.stdout.write(out.getvalue())]]) .. " " .. q(path))
        assert.equal(0, rc, theirs)
        local mine = output.table(ivs.json.decode(s), "Title", { width = width })
        assert.equal(theirs, mine, "sample " .. i .. " at width " .. width)
      end
    end
  end)
end)
