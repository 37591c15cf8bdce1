-- luacheck configuration for lua-ivs (run as `luacheck lua_binding scripts tests/lua`).
std = "lua54"
max_line_length = 120
codes = true

-- Specs use busted's globals (describe, it, assert, pending...).
files["tests/lua"] = { std = "+busted" }
-- The capture server is a stand-alone script that reads the command line.
files["tests/lua/helpers/capture_server.lua"] = { globals = { "arg" } }
