/* lua_options.h: ivs.new's options as Lua sees them. The table itself is the C library's
 * (core/src/options.c): the binding's checks (l_new_client) and ivs.lua's (through
 * core.options) both read it, as the C library's own range checks do, so the three cannot
 * disagree about a type or a range. */
#ifndef IVS_LUA_OPTIONS_H
#define IVS_LUA_OPTIONS_H

#include "lua_error.h"
#include "options.h"

/* Sets core.options (name -> {type =, min =, max =, doc =}) in the table on top of the
 * stack: every row of the table that ivs.new takes under its own name. */
void ivs_lua_open_options(lua_State *L);

#endif
