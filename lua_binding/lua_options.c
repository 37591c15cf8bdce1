/* lua_options.c: core.options, ivs.new's view of the one option table (see lua_options.h).
 * Adding an option is a row in core/src/options.c plus the code that uses it. */
#include "lua_options.h"

void ivs_lua_open_options(lua_State *L)
{
    lua_createtable(L, 0, (int)ivs_option_count);
    for (size_t i = 0; i < ivs_option_count; i++) {
        const struct ivs_option *o = &ivs_options[i];
        if (!o->lua_type)
            continue;
        lua_createtable(L, 0, 4);
        lua_pushstring(L, o->lua_type);
        lua_setfield(L, -2, "type");
        if (o->kind == IVS_OPT_COUNT) {
            lua_pushinteger(L, o->min);
            lua_setfield(L, -2, "min");
        }
        if (o->kind == IVS_OPT_COUNT || o->kind == IVS_OPT_SECONDS) {
            lua_pushinteger(L, o->max);
            lua_setfield(L, -2, "max");
        }
        lua_pushstring(L, o->doc);
        lua_setfield(L, -2, "doc");
        lua_setfield(L, -2, o->name);
    }
    lua_setfield(L, -2, "options");
}
