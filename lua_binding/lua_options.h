/* lua_options.h: the one table of ivs.new's options (lua_options.c). The binding's checks
 * (l_new_client) and ivs.lua's (through core.options) both read it, so the two cannot
 * disagree about a type or a range. */
#ifndef IVS_LUA_OPTIONS_H
#define IVS_LUA_OPTIONS_H

#include "lua_error.h"

struct ivs_lua_option {
    const char *name;
    /* "string", "boolean", "table", "function", "log" (a function or a boolean), "number+"
     * (a positive finite number) or "integer+" (an integer from min to max) */
    const char *type;
    lua_Integer min, max; /* "integer+" only */
    const char *doc;      /* one line, with the unit */
};

/* The option called name, or NULL. */
const struct ivs_lua_option *ivs_lua_option(const char *name);

/* Sets core.options (name -> {type =, min =, max =, doc =}) in the table on top of the
 * stack. */
void ivs_lua_open_options(lua_State *L);

#endif
