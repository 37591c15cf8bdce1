-- `make docs`: LDoc builds the reference into docs/api, with the generated operations page.

local ROOT = os.getenv("IVS_ROOT") or "."
local BUILD = os.getenv("IVS_BUILD") or (ROOT .. "/build")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc == 0, (out:gsub("__rc=%d+%s*$", ""))
end

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- make docs writes docs/api in the checkout and runs its own interpreters (LDoc under lua5.1,
-- the page generator and the checker under lua5.4): one run of the suite is enough, and two at
-- once would write the same files.
local function can_run()
  if (os.getenv("IVS_TEST_LUA") or "lua5.4") ~= "lua5.4" then
    pending("make docs is tried in the lua5.4 run")
    return false
  end
  if not (sh("command -v ldoc >/dev/null")) then
    pending("ldoc is not installed (Debian package lua-ldoc)")
    return false
  end
  return true
end

local function make_docs(env)
  return sh(string.format("%s timeout 300 make -s -C %s docs BUILD=%s IVS_SKIP_DEPS=1", env or "", q(ROOT), q(BUILD)))
end

-- The documented names of a page: `<a name = "X">` anchors of its items.
local function anchors(html)
  local names = {}
  for name in html:gmatch('<a name = "([^"]+)"></a>') do names[name] = true end
  return names
end

describe("make docs", function()
  -- Runs first: it leaves docs/api unformatted, and the next spec writes it again.
  it("fails when LDoc cannot format the pages (markdown.lua hidden from its path)", function()
    if not can_run() then return end
    -- a copy of LDoc's module directory without markdown.lua: LDoc then falls back to plain
    -- text and exits 0, which make docs must turn into a failure
    local lib
    for _, dir in ipairs({ "/usr/share/lua/5.1", "/usr/local/share/lua/5.1" }) do
      if sh("test -f " .. q(dir .. "/markdown.lua") .. " && test -d " .. q(dir .. "/ldoc")) then lib = dir end
    end
    if not lib then
      pending("LDoc's modules are not in /usr/share/lua/5.1")
      return
    end
    local ok, hidden = sh("mktemp -d /tmp/ivs-nomd-XXXXXX")
    assert.is_true(ok, hidden)
    hidden = hidden:gsub("%s+$", "")
    ok = sh("for f in " .. q(lib) .. "/*; do [ \"$(basename \"$f\")\" = markdown.lua ] || ln -s \"$f\" " ..
      q(hidden) .. "/; done")
    assert.is_true(ok)
    local out
    ok, out = make_docs("LUA_PATH=" .. q(hidden .. "/?.lua;" .. hidden .. "/?/init.lua"))
    sh("rm -rf " .. q(hidden))
    assert.is_false(ok, out)
    assert.is_truthy(out:find("check-docs: the reference is not formatted", 1, true), out)
  end)

  it("builds the LDoc reference with every operation and its parameters", function()
    if not can_run() then return end
    -- whatever `lua` (or Debian's lua-any, LDoc's #! line) points to must not matter: here both
    -- are a program that fails, first on PATH
    local _, fake = sh("mktemp -d /tmp/ivs-fakelua-XXXXXX")
    fake = fake:gsub("%s+$", "")
    for _, name in ipairs({ "lua", "lua-any" }) do
      local f = assert(io.open(fake .. "/" .. name, "w"))
      f:write("#!/bin/sh\necho \"make docs ran '" .. name .. "'\" >&2\nexit 97\n")
      f:close()
    end
    sh("chmod +x " .. q(fake) .. "/*")
    local ok, out = make_docs("PATH=" .. q(fake) .. ":\"$PATH\"")
    sh("rm -rf " .. q(fake))
    assert.is_true(ok, out)
    local index = read(ROOT .. "/docs/api/index.html")
    assert.is_truthy(index, "docs/api/index.html was not written")
    assert.is_truthy(index:find("create_channel", 1, true), "the index does not mention create_channel")
    local ops = read(ROOT .. "/docs/api/operations/operations.html")
    assert.is_truthy(ops, "docs/api/operations/operations.html was not written")
    -- every operation has an anchor, with its API name and a parameter line
    local _, names = sh("cd " .. q(ROOT) .. " && LUA_PATH='lua_binding/?.lua;;' LUA_CPATH=" ..
      q(BUILD .. "/lua/?.so;;") .. " lua5.4 -e 'for _, n in ipairs(require(\"ivs\").operations()) do print(n) end'")
    local count = 0
    for name in names:gmatch("[%w_]+") do
      count = count + 1
      assert.is_truthy(ops:find('name = "' .. name .. '"', 1, true), name .. " is missing from the page")
    end
    assert.equal(41, count)
    local create = ops:match('name = "create_channel".-</dd>')
    assert.is_truthy(create)
    assert.is_truthy(create:find("<code>CreateChannel</code>", 1, true))
    local latency = "<code>latencyMode</code> (string, optional): one of <code>NORMAL</code>, <code>LOW</code>"
    assert.is_truthy(create:find(latency, 1, true), create)
    local get = ops:match('name = "get_channel".-</dd>')
    assert.is_truthy(get:find("<code>arn</code> (string, <strong>required</strong>", 1, true), get)
  end)

  -- Every name the module page documents is where the page says it is, and every public
  -- name is documented: `Client:x` is a method of clients, `Call:x` of call handles, a plain
  -- `x` a field of the module (operations have their own page).
  it("documents each function where it really is, and every public function", function()
    if not can_run() then return end
    local page = ROOT .. "/docs/api/modules/ivs.html"
    local index = read(page)
    if not index then
      local ok, out = make_docs()
      assert.is_true(ok, out)
      index = assert(read(page))
    end
    local ivs = require("ivs")
    local is_op = {}
    for _, n in ipairs(ivs.operations()) do is_op[n] = true end
    -- The methods clients share: Client.__index is a table, or a function that looks a key up
    -- in one (its upvalue `methods`) before the service's operations.
    local function method_table(lookup)
      if type(lookup) == "table" then return lookup end
      for i = 1, 50 do
        local name, value = debug.getupvalue(lookup, i)
        if not name then break end
        if name == "methods" and type(value) == "table" then return value end
      end
      error("cannot find the method table behind __index")
    end
    local classes = { Client = method_table(ivs.Client.__index), Call = method_table(ivs.Call.__index) }
    local documented = anchors(index)
    local wrong = {}
    for name in pairs(documented) do
      local class, method = name:match("^(%w+):([%w_]+)$")
      if class then
        if not (classes[class] and type(classes[class][method]) == "function") then
          wrong[#wrong + 1] = name .. " is documented but is not a method of " .. class
        end
      elseif ivs[name] == nil then
        wrong[#wrong + 1] = name .. " is documented but ivs." .. name .. " does not exist"
      end
    end
    for name in pairs(ivs) do
      if not is_op[name] and not documented[name] then
        wrong[#wrong + 1] = "ivs." .. name .. " is not documented"
      end
    end
    for class, methods in pairs(classes) do
      for name in pairs(methods) do
        if not is_op[name] and not documented[class .. ":" .. name] then
          wrong[#wrong + 1] = class .. ":" .. name .. " is not documented"
        end
      end
    end
    table.sort(wrong)
    assert.same({}, wrong)
    -- the signing functions are the module's, under their own section
    for _, name in ipairs({ "playback_token", "playback_url", "sign", "presign" }) do
      assert.is_true(documented[name], name)
      assert.is_nil(documented["Client:" .. name], name)
    end
    -- ivs.chat and ivs.realtime: what their pages document exists in the module, and every
    -- public name is documented there (its own functions as items, the shared API by name)
    for _, m in ipairs({ "ivs.chat", "ivs.realtime" }) do
      local html = assert(read(ROOT .. "/docs/api/modules/" .. m .. ".html"), m)
      local mod = require(m)
      local own_ops = {}
      for _, n in ipairs(mod.operations()) do own_ops[n] = true end
      local items = anchors(html)
      for name in pairs(items) do
        if mod[name] == nil then wrong[#wrong + 1] = m .. "." .. name .. " is documented but does not exist" end
      end
      for name, value in pairs(mod) do
        if not own_ops[name] and not items[name] then
          local shared = value == ivs[name] and documented[name]
          if not shared and not html:find("<code>" .. name .. "</code>", 1, true) then
            wrong[#wrong + 1] = m .. "." .. name .. " is not documented"
          end
        end
      end
    end
    table.sort(wrong)
    assert.same({}, wrong)
  end)

  it("has a page with every operation of IVS Chat and of IVS Real-Time, and their module pages", function()
    if not can_run() then return end
    -- The first test ran make docs.
    for _, page in ipairs({ { "ivs.chat", "chat_operations", 17 }, { "ivs.realtime", "realtime_operations", 39 } }) do
      local html = read(ROOT .. "/docs/api/operations/" .. page[2] .. ".html")
      assert.is_truthy(html, page[2] .. ".html was not written")
      local _, names = sh("cd " .. q(ROOT) .. " && LUA_PATH='lua_binding/?.lua;;' LUA_CPATH=" ..
        q(BUILD .. "/lua/?.so;;") .. " lua5.4 -e 'for _, n in ipairs(require(\"" .. page[1]
        .. "\").operations()) do print(n) end'")
      local count = 0
      for name in names:gmatch("[%w_]+") do
        count = count + 1
        assert.is_truthy(html:find('name = "' .. name .. '"', 1, true), name .. " is missing from " .. page[2])
      end
      assert.equal(page[3], count)
      assert.is_truthy(read(ROOT .. "/docs/api/modules/" .. page[1] .. ".html"), page[1] .. " has no module page")
    end
    local rt = read(ROOT .. "/docs/api/operations/realtime_operations.html")
    local create = rt:match('name = "create_participant_token".-</dd>')
    assert.is_truthy(create and create:find("<code>stageArn</code> (string, <strong>required</strong>", 1, true))
    local mod = read(ROOT .. "/docs/api/modules/ivs.realtime.html")
    assert.is_truthy(mod:find("participant_token", 1, true))
  end)

  it("shows each operation's one-line summary on its service's page", function()
    if not can_run() then return end
    for _, page in ipairs({ { "ivs", "operations" }, { "ivs.chat", "chat_operations" },
      { "ivs.realtime", "realtime_operations" } }) do
      local html = read(ROOT .. "/docs/api/operations/" .. page[2] .. ".html")
      if not html then
        local ok, out = make_docs()
        assert.is_true(ok, out)
        html = assert(read(ROOT .. "/docs/api/operations/" .. page[2] .. ".html"))
      end
      local mod = require(page[1])
      for _, snake in ipairs(mod.operations()) do
        local summary = mod.describe(snake).summary
        assert.is_truthy(summary and summary ~= "", snake)
        local row = html:match('<a href="#' .. snake .. '">[^\n]*</a></td>%s*<td class="summary">([^<]*)</td>')
        assert.equal(summary, row, page[2] .. ": " .. snake)
      end
    end
  end)
end)
