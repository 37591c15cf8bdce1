-- The house in order. One of each helper: the C sources have one URL splitter
-- (core/src/url.c), one ISO 8601 reader (core/src/timeutil.c) and one "did you mean" distance
-- (core/src/suggest.c); a second copy creeping back in (and drifting from the first) fails
-- here. Code in its house: the Lua error builder is lua_error.c, which the binding's files
-- share, so ivs_core.c and lua_sign.c do not import each other. The request parser (an HTTP
-- request back into an operation's input) is the emulator's: libivs does not ship it.

local ROOT = os.getenv("IVS_ROOT") or "."

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>/dev/null"))
  local out = p:read("*a")
  p:close()
  return out
end

-- The C files (core, binding, emulator) whose text matches the Lua pattern.
local function c_files_matching(pattern)
  local hits = {}
  for path in sh("cd '" .. ROOT .. "' && ls core/src/*.c lua_binding/*.c emulator/*.c"):gmatch("[^\n]+") do
    local f = assert(io.open(ROOT .. "/" .. path, "rb"))
    local text = f:read("*a")
    f:close()
    if text:find(pattern) then hits[#hits + 1] = path end
  end
  table.sort(hits)
  return hits
end

describe("one of each helper", function()
  it("splits URLs in core/src/url.c only", function()
    assert.same({ "core/src/url.c" }, c_files_matching('strstr%([%w_]+, "://"%)'))
  end)

  it("reads ISO 8601 in core/src/timeutil.c only", function()
    assert.same({ "core/src/timeutil.c" }, c_files_matching("!= 'T' && %*p != 't'"))
  end)

  it("computes the 'did you mean' distance in core/src/suggest.c only", function()
    assert.same({ "core/src/suggest.c" }, c_files_matching("%+ 2 < best"))
    assert.same({}, c_files_matching("prev%[j %- 1%] %+ cost"))
  end)
end)

describe("code in its house", function()
  local function read(path)
    local f = assert(io.open(ROOT .. "/" .. path, "rb"))
    local text = f:read("*a")
    f:close()
    return text
  end

  it("builds ivs.Error in lua_binding/lua_error.c only", function()
    assert.same({ "lua_binding/lua_error.c" }, c_files_matching("\nint ivs_lua_push_failure%("))
    assert.same({ "lua_binding/lua_error.c" }, c_files_matching("\nvoid ivs_lua_push_error%("))
  end)

  it("keeps lua_sign.c and lua_playback_token.c free of ivs_core.c", function()
    for _, path in ipairs({ "lua_binding/lua_sign.c", "lua_binding/lua_playback_token.c" }) do
      local includes = {}
      for name in read(path):gmatch('#include "([^"]+)"') do includes[#includes + 1] = name end
      table.sort(includes)
      local own = path:match("([^/]+)%.c$") .. ".h"
      local expected = { "ivs.h", "lua_error.h", own }
      table.sort(expected)
      assert.same(expected, includes)
    end
  end)

  it("keeps the emulator's request parser out of libivs", function()
    local BUILD = os.getenv("IVS_BUILD") or (ROOT .. "/build")
    if sh("command -v nm") == "" then
      pending("nm is not installed (Debian package binutils)")
      return
    end
    local lib = BUILD .. "/libivs.a"
    local f = assert(io.open(lib, "rb"), lib .. " is not built")
    f:close()
    local symbols = sh("nm -g --defined-only '" .. lib .. "'")
    -- The library is read for real: its public entry points are there.
    assert.is_truthy(symbols:find("ivs_client_call", 1, true))
    assert.is_falsy(symbols:find("model_deserialize_request", 1, true))
    assert.same({ "emulator/request.c" }, c_files_matching("\nenum ivs_status model_deserialize_request%("))
  end)
end)
