/* lua_playback_token.c: ivs.core.playback_token and ivs.core.playback_url over the C core. */
#include "lua_playback_token.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "ivs.h"
#include "lua_error.h"

/* Reads an optional string field of the claims table; raises on another type or on an
 * embedded NUL (which C would silently cut the claim at). Read raw, and the value stays on
 * the stack (the caller makes room): a later __index (the integer fields) may remove it from
 * the claims table, and only the stack slot then keeps the string alive. */
static const char *opt_string_field(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    int type = lua_rawget(L, t);
    const char *s = NULL;
    if (type == LUA_TSTRING) {
        size_t len;
        s = lua_tolstring(L, -1, &len);
        if (strlen(s) != len)
            luaL_error(L, "ivs: playback token option '%s' contains a NUL byte", name);
    } else if (type != LUA_TNIL) {
        luaL_error(L, "ivs: playback token option '%s' must be a string, got %s", name,
                   luaL_typename(L, -1));
    }
    return s;
}

static int64_t opt_integer_field(lua_State *L, int t, const char *name)
{
    lua_getfield(L, t, name);
    int64_t v = 0;
    if (!lua_isnil(L, -1)) {
        int isint = 0;
        lua_Integer i = lua_tointegerx(L, -1, &isint);
        if (!isint || lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "ivs: playback token option '%s' must be an integer, got %s", name,
                       lua_type(L, -1) == LUA_TNUMBER ? "a non-integral number"
                                                      : luaL_typename(L, -1));
        v = (int64_t)i;
    }
    lua_pop(L, 1);
    return v;
}

static int opt_boolean_field(lua_State *L, int t, const char *name)
{
    int type = lua_getfield(L, t, name);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        luaL_error(L, "ivs: playback token option '%s' must be a boolean, got %s", name,
                   luaL_typename(L, -1));
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

int ivs_lua_playback_token(lua_State *L)
{
    size_t pem_len = 0;
    const char *pem = luaL_checklstring(L, 1, &pem_len);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checkstack(L, 12, "ivs: playback_token");
    struct ivs_playback_token_claims claims = {0};
    claims.channel_arn = opt_string_field(L, 2, "channel_arn");
    claims.expires_at = opt_integer_field(L, 2, "expires_at");
    claims.access_control_allow_origin = opt_string_field(L, 2, "access_control_allow_origin");
    claims.strict_origin_enforcement = opt_boolean_field(L, 2, "strict_origin_enforcement");
    claims.single_use_uuid = opt_string_field(L, 2, "single_use_uuid");
    claims.viewer_id = opt_string_field(L, 2, "viewer_id");
    claims.viewer_session_version = opt_integer_field(L, 2, "viewer_session_version");
    claims.maximum_resolution = opt_string_field(L, 2, "maximum_resolution");
    int64_t now = opt_integer_field(L, 2, "now");
    /* An empty key means "NUL-terminated" to the C API; it then fails as InvalidPrivateKey. */

    struct ivs_lua_text_result *r = ivs_lua_new_text_result(L);
    if (ivs_playback_token(pem, pem_len, &claims, now, &r->text, &r->err) != IVS_OK)
        return ivs_lua_push_failure(L, &r->err, "playback_token");
    lua_pushstring(L, r->text);
    return 1;
}

int ivs_lua_playback_url(lua_State *L)
{
    const char *url = luaL_checkstring(L, 1);
    const char *token = luaL_checkstring(L, 2);
    struct ivs_lua_text_result *r = ivs_lua_new_text_result(L);
    if (ivs_playback_url(url, token, &r->text, &r->err) != IVS_OK)
        return ivs_lua_push_failure(L, &r->err, "playback_url");
    lua_pushstring(L, r->text);
    return 1;
}
