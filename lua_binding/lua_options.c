/* lua_options.c: the options of ivs.new, once (see lua_options.h). Adding an option is a row
 * here plus the code that uses it: ivs.lua reads its name, type and range from core.options. */
#include "lua_options.h"

#include <string.h>

static const struct ivs_lua_option s_options[] = {
    {"anonymous", "boolean", 0, 0, "send requests unsigned"},
    {"app_id", "string", 0, 0, "appended to the User-Agent"},
    {"ca_bundle", "string", 0, 0, "CA file for TLS"},
    {"close_connection", "boolean", 0, 0, "do not reuse connections between calls"},
    {"connect_timeout", "number+", 0, 0, "seconds to connect"},
    {"credentials", "table", 0, 0, "{creds = {...}, profile =, anonymous =}"},
    {"endpoint", "string", 0, 0, "full URL; wins over everything"},
    {"log", "log", 0, 0, "a function(level, line), or true for stderr"},
    {"max_attempts", "integer+", 1, 100, "total attempts, the first included"},
    {"max_connections", "integer+", 1, 10000, "connections open at once for non-blocking calls"},
    {"mfa_token", "function", 0, 0, "function(serial) -> code, for mfa_serial profiles"},
    {"profile", "string", 0, 0, "profile name"},
    {"region", "string", 0, 0, "e.g. us-west-2"},
    {"retry_mode", "string", 0, 0, "standard, legacy or adaptive"},
    {"s3_force_path_style", "boolean", 0, 0, "accepted for the R SDK's config shape; no effect"},
    {"service", "string", 0, 0,
     "ivs (default), ivschat or ivs-realtime; set by ivs.chat/ivs.realtime"},
    {"timeout", "number+", 0, 0, "seconds for a whole attempt"},
    {"use_dualstack_endpoint", "boolean", 0, 0, "the dual-stack endpoint"},
    {"use_fips_endpoint", "boolean", 0, 0, "the FIPS endpoint"},
};

const struct ivs_lua_option *ivs_lua_option(const char *name)
{
    for (size_t i = 0; i < sizeof s_options / sizeof s_options[0]; i++)
        if (strcmp(s_options[i].name, name) == 0)
            return &s_options[i];
    return NULL;
}

void ivs_lua_open_options(lua_State *L)
{
    size_t n = sizeof s_options / sizeof s_options[0];
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        const struct ivs_lua_option *o = &s_options[i];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, o->type);
        lua_setfield(L, -2, "type");
        if (strcmp(o->type, "integer+") == 0) {
            lua_pushinteger(L, o->min);
            lua_setfield(L, -2, "min");
            lua_pushinteger(L, o->max);
            lua_setfield(L, -2, "max");
        }
        lua_pushstring(L, o->doc);
        lua_setfield(L, -2, "doc");
        lua_setfield(L, -2, o->name);
    }
    lua_setfield(L, -2, "options");
}
