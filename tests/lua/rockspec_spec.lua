-- The rockspec: its contents stay in step with the tree (every C source listed, nothing from
-- luarocks.org needed), and `luarocks make` builds a working module offline into a
-- throwaway tree from a copy of the sources.

local compat = require("helpers.compat")
local ROOT = os.getenv("IVS_ROOT") or "."
local ROCKSPEC = ROOT .. "/rockspec/lua-ivs-scm-1.rockspec"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc == 0, (out:gsub("__rc=%d+%s*$", ""))
end

local function load_rockspec()
  local env = {}
  local chunk = assert(compat.loadfile(ROCKSPEC, env))
  chunk()
  return env
end

local function c_files(dir)
  local _, out = sh("cd " .. q(ROOT) .. " && ls " .. dir .. "/*.c 2>/dev/null")
  local files = {}
  for f in out:gmatch("[^\n]+") do files[#files + 1] = f end
  table.sort(files)
  return files
end

describe("rockspec", function()
  local spec

  before_each(function() spec = load_rockspec() end)

  it("describes lua-ivs scm-1 in format 3.0", function()
    assert.equal("3.0", spec.rockspec_format)
    assert.equal("lua-ivs", spec.package)
    assert.equal("scm-1", spec.version)
    assert.is_truthy(spec.source.url:match("^git%+https://"))
  end)

  it("depends on Lua 5.1 to 5.4, and on the system C libraries", function()
    assert.same({ "lua >= 5.1, < 5.5" }, spec.dependencies)
    local ext = spec.external_dependencies
    assert.same({ library = "curl" }, ext.CURL) -- see the rockspec for why no header
    assert.same({ header = "openssl/evp.h", library = "crypto" }, ext.OPENSSL)
    assert.same({ header = "cjson/cJSON.h", library = "cjson" }, ext.CJSON)
  end)

  it("lists exactly the C files of core/src and lua_binding", function()
    local core = spec.build.modules["ivs.core"]
    assert.equal("builtin", spec.build.type)
    local listed = {}
    for i, f in ipairs(core.sources) do listed[i] = f end
    table.sort(listed)
    local present = c_files("core/src")
    for _, f in ipairs(c_files("lua_binding")) do present[#present + 1] = f end
    table.sort(present)
    assert.same(present, listed)
  end)

  it("has a test section that runs the spec suite without fetching anything", function()
    assert.equal("command", spec.test.type)
    assert.is_truthy(spec.test.command:find("scripts/run-tests", 1, true))
  end)

  it("ships the Lua layer and points at include directories that exist", function()
    assert.equal("lua_binding/ivs.lua", spec.build.modules.ivs)
    -- every Lua module under lua_binding/ivs/ is shipped under its dotted name
    local _, listing = sh("cd " .. q(ROOT) .. " && ls lua_binding/ivs/*.lua")
    for path in listing:gmatch("[^\n]+") do
      local name = "ivs." .. path:match("lua_binding/ivs/(.-)%.lua$")
      assert.equal(path, spec.build.modules[name], name .. " is not in the rockspec")
    end
    assert.is_true((sh("test -f " .. q(ROOT .. "/lua_binding/ivs.lua"))))
    for _, d in ipairs(spec.build.modules["ivs.core"].incdirs) do
      if not d:find("$(", 1, true) then
        assert.is_true((sh("test -d " .. q(ROOT .. "/" .. d))), d .. " does not exist")
      end
    end
  end)

  describe("luarocks make", function()
    local tmp

    after_each(function()
      if tmp then sh("rm -rf " .. q(tmp)) end
      tmp = nil
    end)

    -- The rock for the Lua this run is under (IVS_TEST_LUA): luajit loads the 5.1 rock, which
    -- the lua5.1 run builds and then tries under both lua5.1 and luajit.
    local lua = compat.LUA
    local version = lua:match("^lua(5%.%d)$")

    it("builds the rock offline into a private tree for this Lua and the module works", function()
      if not (sh("command -v luarocks >/dev/null")) then
        pending("luarocks is not installed")
        return
      end
      if not version then
        pending(lua .. " loads the 5.1 rock: the lua5.1 run builds it and tries it under luajit")
        return
      end
      local ok, out = sh("mktemp -d /tmp/ivs-rock-XXXXXX")
      assert.is_true(ok, out)
      tmp = out:gsub("%s+$", "")
      -- Build from a copy: the builtin backend writes its objects next to the sources.
      ok, out = sh(string.format("mkdir %s/src && cd %s && cp -r core lua_binding rockspec scripts %s/src/",
        q(tmp), q(ROOT), q(tmp)))
      assert.is_true(ok, out)
      -- --deps-mode=none and no server: nothing may be fetched; HOME keeps the user's
      -- luarocks config and cache out of it, env -u the test run's module paths.
      ok, out = sh(string.format(
        "cd %s/src && env -u LUA_PATH -u LUA_CPATH HOME=%s timeout 300 luarocks --lua-version %s --tree %s/tree " ..
        "--only-server=file:///nonexistent make --deps-mode=none rockspec/lua-ivs-scm-1.rockspec",
        q(tmp), q(tmp), version, q(tmp)))
      assert.is_true(ok, out)
      local tree = tmp .. "/tree"
      local script = [[
        local ivs = require("ivs")
        local found = package.searchpath and package.searchpath("ivs.core", package.cpath)
        assert(not package.searchpath or (found and found:find(os.getenv("TREE"), 1, true)),
          "ivs.core not from the rock tree")
        assert(#ivs.operations() == 41, "operations: " .. #ivs.operations())
        local c = assert(ivs.new{ region = "ap-northeast-1", endpoint = "http://127.0.0.1:9" })
        assert(c:region() == "ap-northeast-1", c:region())
        assert(c:endpoint():find("http://127.0.0.1:9", 1, true), c:endpoint())
        local out = assert(ivs.json.decode('{"maxResults": 5}'))
        assert(tostring(out.maxResults) == "5", tostring(out.maxResults))
        c:close()
        print("rock ok " .. _VERSION .. (jit and (" " .. jit.version) or ""))
      ]]
      local runners = { lua }
      if version == "5.1" and (sh("command -v luajit >/dev/null")) then runners[2] = "luajit" end
      for _, runner in ipairs(runners) do
        ok, out = sh(string.format("TREE=%s LUA_PATH=%s LUA_CPATH=%s timeout 60 %s -e %s", q(tree),
          q(tree .. "/share/lua/" .. version .. "/?.lua;" .. tree .. "/share/lua/" .. version .. "/?/init.lua"),
          q(tree .. "/lib/lua/" .. version .. "/?.so"), runner, q(script)))
        assert.is_true(ok, runner .. ": " .. out)
        assert.is_truthy(out:find("rock ok", 1, true), out)
        if runner == "luajit" then assert.is_truthy(out:find("LuaJIT", 1, true), out) end
      end
      -- build.install.bin: the ivs command, runnable from the tree
      ok, out = sh(string.format("LUA_PATH=%s LUA_CPATH=%s timeout 60 %s/bin/ivs --version",
        q(tree .. "/share/lua/" .. version .. "/?.lua"), q(tree .. "/lib/lua/" .. version .. "/?.so"), q(tree)))
      assert.is_true(ok and out:find("^ivs ") ~= nil, out)
    end)
  end)
end)
