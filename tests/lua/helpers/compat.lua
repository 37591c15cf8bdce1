-- What the specs need to read the same on Lua 5.1, LuaJIT 2.1, 5.2, 5.3 and 5.4: the suite
-- runs under each (scripts/run-tests), so a spec uses these instead of the 5.2+ forms of
-- os.execute and popen's close, and of table.unpack and math.type.
local M = {}

--- The interpreter the suite runs under (run-tests sets IVS_TEST_LUA), for subprocesses.
M.LUA = os.getenv("IVS_TEST_LUA") or "lua5.4"

--- Lua 5.3 and later have integers; before, every number is a double.
M.HAS_INTEGERS = math.type ~= nil

M.unpack = table.unpack or unpack -- luacheck: ignore 113 (5.1's global)

--- math.type everywhere: before 5.3, "integer" for an integral number below 2^53.
M.math_type = math.type or function(v)
  if type(v) ~= "number" then return nil end
  if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return "integer" end
  return "float"
end

--- Runs a shell command; returns true when it exited 0, and its exit code. (5.1 and LuaJIT
-- return the raw wait status from os.execute, 5.2 and later true/nil, "exit", code.)
function M.execute(cmd)
  local a, _, c = os.execute(cmd)
  if type(a) == "number" then
    local code = a > 255 and math.floor(a / 256) or a
    return code == 0, code
  end
  return a == true, c
end

--- Runs a shell command and reads its standard output; returns the output, true when it
-- exited 0, and its exit code. popen's close gives no status before 5.2, so the shell prints it.
function M.popen_read(cmd)
  local p = assert(io.popen("(" .. cmd .. "); echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("__rc=(%d+)%s*$"))
  out = out:gsub("__rc=%d+%s*$", "")
  return out, code == 0, code
end

--- loadfile(path, "t", env) everywhere.
function M.loadfile(path, env)
  if setfenv then -- luacheck: ignore 113 (5.1's global)
    local chunk, err = loadfile(path)
    if chunk and env then setfenv(chunk, env) end -- luacheck: ignore 113
    return chunk, err
  end
  return loadfile(path, "t", env)
end

return M
