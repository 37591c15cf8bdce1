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

describe("make docs", function()
  it("builds the LDoc reference with every operation and its parameters", function()
    -- make docs writes docs/api in the checkout and runs its own interpreters (LDoc under
    -- lua5.1, the page generator under lua5.4): one run of the suite is enough, and two at
    -- once would write the same files.
    if (os.getenv("IVS_TEST_LUA") or "lua5.4") ~= "lua5.4" then
      pending("make docs is tried in the lua5.4 run")
      return
    end
    if not (sh("command -v ldoc >/dev/null")) then
      pending("ldoc is not installed (Debian package lua-ldoc)")
      return
    end
    local ok, out = sh(string.format("timeout 300 make -s -C %s docs BUILD=%s IVS_SKIP_DEPS=1", q(ROOT), q(BUILD)))
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
end)
