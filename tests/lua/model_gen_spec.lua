-- scripts/gen-model.lua: a fourth service of the same protocol is only a model directory.
-- A copy of Chat's model under another name and endpoint prefix is generated beside the three
-- real ones; its tables and its line of the descriptor table appear, derived from the model's
-- metadata and endpoint rules, and every generated file compiles.
local ROOT = os.getenv("IVS_ROOT") or "."

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc == 0, (out:gsub("__rc=%d+%s*$", ""))
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

describe("gen-model.lua", function()
  local tmp

  before_each(function()
    local _, out = sh("mktemp -d")
    tmp = out:gsub("%s+$", "")
  end)
  after_each(function() if tmp then os.execute("rm -rf " .. q(tmp)) end end)

  it("adds a service from a model directory alone", function()
    if not (sh("lua5.4 -e 'require \"cjson\"' && test -r /usr/share/unicode/UnicodeData.txt")) then
      pending("lua5.4 with lua-cjson or Debian's unicode-data is not installed")
      return
    end
    assert.is_true((sh("cp -r " .. q(ROOT .. "/models") .. " " .. q(tmp .. "/models"))))
    -- "Chat Two": the Chat model with another service id, endpoint prefix and signing name.
    local dir = tmp .. "/models/ivschat-two"
    assert.is_true((sh("mkdir -p " .. q(dir))))
    local model = read(ROOT .. "/models/ivschat/ivschat-2020-07-14.model.json")
    model = model:gsub('"endpointPrefix": "ivschat"', '"endpointPrefix": "ivschattwo"')
      :gsub('"serviceId": "ivschat"', '"serviceId": "Chat Two"')
      :gsub('"signingName": "ivschat"', '"signingName": "ivschattwo"')
    assert.is_truthy(model:find('"serviceId": "Chat Two"', 1, true), "the model's metadata was not found")
    write(dir .. "/ivschat-two-2020-07-14.model.json", model)
    write(dir .. "/paginators-1.json", read(ROOT .. "/models/ivschat/paginators-1.json"))
    write(dir .. "/summaries.json", read(ROOT .. "/models/ivschat/summaries.json"))
    write(dir .. "/endpoint-rule-set-1.json",
      (read(ROOT .. "/models/ivschat/endpoint-rule-set-1.json"):gsub("https://ivschat", "https://ivschattwo")))
    local out_dir = tmp .. "/out"
    local ok, out = sh("mkdir " .. q(out_dir) .. " && cd " .. q(tmp) .. " && lua5.4 " ..
      q(ROOT .. "/scripts/gen-model.lua") .. " " .. q(out_dir) .. " models/*/*.model.json")
    assert.is_true(ok, out)

    local services = read(out_dir .. "/services.c")
    assert.is_truthy(services:find('{"ivschat-two", "ivschattwo", "ivschattwo", "Chat Two", "CHAT_TWO", '
      .. '"chat_two", 1, 1, &ivs_model_ivschattwo},', 1, true), services)
    assert.is_truthy(services:find("model_service_count = 4;", 1, true))
    local tables = read(out_dir .. "/model_ivschattwo.c")
    assert.is_truthy(tables:find("const struct model_operation ivs_model_ivschattwo_ops[]", 1, true))
    -- The three real services come out exactly as committed.
    for _, f in ipairs({ "model_ivs.c", "model_ivschat.c", "model_ivsrealtime.c", "model_unicode.c" }) do
      assert.equal(read(ROOT .. "/core/src/" .. f), read(out_dir .. "/" .. f), f)
    end
    -- Every generated file compiles against the core's headers.
    local cflags = "-std=c11 -Wall -Wextra -Werror -fsyntax-only -I" .. q(ROOT .. "/core/src") .. " -I"
      .. q(ROOT .. "/core/include") .. " $(pkg-config --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson)"
    for _, f in ipairs({ "services.c", "model_ivschattwo.c" }) do
      ok, out = sh("cc " .. cflags .. " " .. q(out_dir .. "/" .. f))
      assert.is_true(ok, f .. ": " .. out)
    end
  end)

  it("refuses a model directory whose summaries.json misses an operation", function()
    if not (sh("lua5.4 -e 'require \"cjson\"'")) then
      pending("lua5.4 with lua-cjson is not installed")
      return
    end
    local dir = tmp .. "/models/ivschat"
    assert.is_true((sh("mkdir -p " .. q(dir) .. " && cp " .. q(ROOT .. "/models/ivschat") .. "/*.json " .. q(dir))))
    local summaries = read(dir .. "/summaries.json")
    local without = summaries:gsub('%s*"DeleteRoom": "[^"]*",', "")
    assert.are_not.equal(summaries, without)
    write(dir .. "/summaries.json", without)
    local ok, out = sh("lua5.4 " .. q(ROOT .. "/scripts/gen-model.lua") .. " " .. q(tmp) .. " " ..
      q(dir .. "/ivschat-2020-07-14.model.json"))
    assert.is_false(ok)
    assert.is_truthy(out:find("no summary of DeleteRoom", 1, true), out)
  end)

  it("refuses a model of another protocol", function()
    if not (sh("lua5.4 -e 'require \"cjson\"'")) then
      pending("lua5.4 with lua-cjson is not installed")
      return
    end
    local dir = tmp .. "/models/other"
    assert.is_true((sh("mkdir -p " .. q(dir))))
    write(dir .. "/other-2020-01-01.model.json",
      '{"metadata":{"protocol":"json","endpointPrefix":"other","serviceId":"Other"},"shapes":{},"operations":{}}')
    local ok, out = sh("lua5.4 " .. q(ROOT .. "/scripts/gen-model.lua") .. " " .. q(tmp) .. " " ..
      q(dir .. "/other-2020-01-01.model.json"))
    assert.is_false(ok)
    assert.is_truthy(out:find("rest-json", 1, true), out)
  end)
end)
