-- The Makefile's hygiene, read through `make -n` (a dry run: nothing is built or installed):
-- plain `make` never installs packages, the targets the README names do; every test program is
-- rebuilt when a header it includes changes; every C file also goes through clang.

local ROOT = os.getenv("IVS_ROOT") or "."
local BUILD = os.getenv("IVS_BUILD") or (ROOT .. "/build")
-- The .d files name their targets as the Makefile did (relative to the checkout), so the dry
-- runs use the same spelling of the build directory.
local REL_BUILD = BUILD:sub(1, #ROOT + 1) == ROOT .. "/" and BUILD:sub(#ROOT + 2) or BUILD

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc == 0, (out:gsub("__rc=%d+%s*$", ""))
end

-- `make -n ARGS` in the checkout with this run's build directory.
local function dry(args)
  return sh(string.format("make -n --no-print-directory -C %s BUILD=%s %s", q(ROOT), q(REL_BUILD), args))
end

describe("Makefile", function()
  it("never installs packages for `make` (all) or `make tests`", function()
    for _, target in ipairs({ "", "all", "tests", "lib", "lua" }) do
      local ok, out = dry(target .. " -W core/src/buf.h")
      assert.is_true(ok, out)
      assert.is_nil(out:find("install%-deps"), target .. ": " .. out)
      assert.is_nil(out:find("apt%-get"), target .. ": " .. out)
    end
  end)

  it("installs the missing packages first for deps, test and demo (as the README says)", function()
    for _, target in ipairs({ "deps", "test", "demo" }) do
      local ok, out = dry(target)
      assert.is_true(ok, out)
      assert.truthy(out:find("scripts/install%-deps"), target .. ": " .. out)
    end
    local readme = assert(io.open(ROOT .. "/README.md")):read("*a")
    assert.truthy(readme:find("`make` alone%s+never installs"))
  end)

  it("rebuilds a test program when a test header it includes changes", function()
    local bin = BUILD .. "/tests/test_async"
    if not io.open(bin .. ".d") then
      pending("no dependency file yet (" .. bin .. ".d): run make tests")
      return
    end
    for _, header in ipairs({ "tests/c/harness.h", "tests/c/support/fakesrv.h" }) do
      local ok, out = dry("-W " .. header .. " " .. q(REL_BUILD .. "/tests/test_async"))
      assert.is_true(ok, out)
      assert.truthy(out:find("tests/c/test_async.c", 1, true), header .. ": " .. out)
    end
  end)

  it("puts every C file through clang as part of `make tests` when clang is installed", function()
    if not sh("command -v clang >/dev/null") then
      pending("clang is not installed")
      return
    end
    local ok, out = dry("-W core/src/buf.h -W tests/c/harness.h tests")
    assert.is_true(ok, out)
    assert.truthy(out:find("clang [^\n]*%-fsyntax%-only[^\n]*core/src/buf%.c"), out)
    assert.truthy(out:find("clang [^\n]*%-fsyntax%-only[^\n]*tests/c/test_retry%.c"), out)
    assert.truthy(out:find("clang [^\n]*%-fsyntax%-only[^\n]*lua_binding/ivs_core%.c"), out)
    assert.truthy(out:find("clang [^\n]*%-fsyntax%-only[^\n]*emulator/server%.c"), out)
  end)
end)
