-- The README's C example (scripts/examples/hello.c, shown verbatim in the README) compiled as C
-- and as C++ against the built library, warning-free, and run against a fresh ivs-emulator.
-- The compilers do not depend on the interpreter, so it runs in the Lua 5.4 run only.

local emulator = require("helpers.emulator")

local ROOT = os.getenv("IVS_ROOT") or "."
local BUILD = os.getenv("IVS_BUILD") or (ROOT .. "/build")
local LUA = os.getenv("IVS_TEST_LUA") or "lua5.4"
local SOURCE = ROOT .. "/scripts/examples/hello.c"
local q = emulator.shell_quote

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function sh(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc == 0, (out:gsub("__rc=%d+%s*$", ""))
end

local function have(cmd) return (sh("command -v " .. cmd .. " >/dev/null")) end

describe("the C example (scripts/examples/hello.c)", function()
  it("is the README's C example, verbatim", function()
    local readme = read_file(ROOT .. "/README.md")
    local block = readme:match("## Using it from C\n.-```c\n(.-)```")
    assert.is_string(block, "no ```c block in the README's 'Using it from C' section")
    assert.equal(read_file(SOURCE), block)
  end)

  local emu, tmp
  lazy_setup(function()
    if LUA ~= "lua5.4" then return end
    local ok, out = sh("mktemp -d /tmp/ivs-c-example-XXXXXX")
    assert(ok, out)
    tmp = out:gsub("%s+$", "")
    emu = emulator.start()
  end)
  lazy_teardown(function()
    if emu then emu:stop() end
    if tmp then sh("rm -rf " .. q(tmp)) end
  end)

  for _, lang in ipairs({
    { name = "C", cc = "cc", flags = "-std=c11 -x c" },
    { name = "C++", cc = "g++", flags = "-std=c++11 -x c++" },
  }) do
    it("compiles without warnings as " .. lang.name .. " and runs against the emulator", function()
      if LUA ~= "lua5.4" then
        pending("compiled in the lua5.4 run only")
        return
      end
      if not have(lang.cc) then
        pending(lang.cc .. " is not installed")
        return
      end
      local bin = tmp .. "/hello-" .. lang.cc
      local ok, out = sh(string.format(
        "%s %s -Wall -Wextra -Werror -I%s %s -x none %s $(pkg-config --libs libcurl libcrypto libcjson expat) "
          .. "-lpthread -lm -o %s",
        lang.cc, lang.flags, q(ROOT .. "/core/include"), q(SOURCE), q(BUILD .. "/libivs.a"), q(bin)))
      assert.is_true(ok, out)
      local name = "hello_" .. (lang.cc == "cc" and "c" or "cxx")
      local run_ok, output = sh(emu:env() .. " timeout 30 " .. q(bin) .. " " .. name)
      assert.is_true(run_ok, output)
      assert.matches('created: {"channel":{[^\n]*"name":"' .. name .. '"', output)
      assert.matches('listed: {"channels":%[{[^\n]*"name":"' .. name .. '"', output)
      assert.matches("expected error: ResourceNotFoundException %(HTTP 404, service%)", output)
    end)
  end

end)
