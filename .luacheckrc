-- luacheck configuration for lua-ivs (run as `luacheck lua_binding scripts tests/lua`).
std = "lua54"
max_line_length = 120
codes = true

-- Specs use busted's globals (describe, it, assert, pending...).
files["tests/lua"] = { std = "+busted" }
-- The capture server is a stand-alone script that reads the command line.
files["tests/lua/helpers/capture_server.lua"] = { globals = { "arg" } }
-- The OBS Studio script defines the script_* functions OBS calls and may call OBS's script_path.
files["scripts/obs"] = { globals = { "script_description", "script_properties", "script_defaults",
  "script_update", "script_load", "script_unload" }, read_globals = { "script_path" } }
-- The OBS host plays OBS: it calls those functions.
files["tests/lua/helpers/obs_host.lua"] = { read_globals = { "arg", "script_description", "script_properties",
  "script_defaults", "script_update", "script_load", "script_unload" } }
-- LÖVE calls the love.* functions the example defines on its global `love` table.
files["scripts/examples/love"] = { globals = { "love" } }
files["tests/lua/helpers/love_host.lua"] = { globals = { "love" }, read_globals = { "arg" } }
