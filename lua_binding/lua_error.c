/* lua_error.c: ivs.Error, the error table every failure of the module returns (`nil, err`):
 * built here from a struct ivs_error for ivs_core.c, lua_sign.c and lua_playback_token.c
 * alike, with its one-line __tostring. */
#include "lua_error.h"

#include <stdio.h>
#include <string.h>

static void s_set_string(lua_State *L, const char *key, const char *value)
{
    if (!value)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void s_set_integer(lua_State *L, const char *key, lua_Integer value)
{
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
}

static void s_set_boolean(lua_State *L, const char *key, int value)
{
    lua_pushboolean(L, value);
    lua_setfield(L, -2, key);
}

void ivs_lua_push_error(lua_State *L, const struct ivs_error *err, const char *operation)
{
    lua_createtable(L, 0, 9);
    s_set_string(L, "kind", ivs_status_name(err->kind));
    s_set_string(L, "code", err->code ? err->code : "Unknown");
    s_set_string(L, "message", err->message ? err->message : "");
    s_set_integer(L, "status", (lua_Integer)err->status);
    s_set_string(L, "request_id", err->request_id);
    s_set_boolean(L, "retryable", err->retryable != 0);
    s_set_integer(L, "attempts", err->attempts);
    s_set_string(L, "operation", operation);
    luaL_setmetatable(L, IVS_LUA_ERROR_MT);
}

int ivs_lua_push_failure(lua_State *L, const struct ivs_error *err, const char *operation)
{
    lua_pushnil(L);
    ivs_lua_push_error(L, err, operation);
    return 2;
}

/* __tostring of ivs.Error: one line, `Code: message (status 404, request id, 1 attempt)`.
 * Built only from the table's public fields, none of which ever holds a secret. */
static int l_error_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_Buffer b;
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "status");
    lua_getfield(L, 1, "request_id");
    lua_getfield(L, 1, "attempts");
    luaL_buffinit(L, &b);
    const char *code = lua_tostring(L, 2);
    luaL_addstring(&b, code ? code : "Error");
    size_t mlen = 0;
    const char *msg = lua_tolstring(L, 3, &mlen);
    if (msg && mlen) {
        luaL_addstring(&b, ": ");
        /* Keep it one line whatever the service put in its message. */
        for (size_t i = 0; i < mlen; i++)
            luaL_addchar(&b, (msg[i] == '\n' || msg[i] == '\r') ? ' ' : msg[i]);
    }
    lua_Integer status = lua_tointeger(L, 4);
    const char *rid = lua_tostring(L, 5);
    lua_Integer attempts = lua_tointeger(L, 6);
    int parts = 0;
    char tmp[64];
    if (status > 0) {
        snprintf(tmp, sizeof tmp, "status %lld", (long long)status);
        luaL_addstring(&b, " (");
        luaL_addstring(&b, tmp);
        parts++;
    }
    if (rid && *rid) {
        luaL_addstring(&b, parts++ ? ", request " : " (request ");
        luaL_addstring(&b, rid);
    }
    if (attempts > 0) {
        snprintf(tmp, sizeof tmp, "%lld attempt%s", (long long)attempts, attempts == 1 ? "" : "s");
        luaL_addstring(&b, parts++ ? ", " : " (");
        luaL_addstring(&b, tmp);
    }
    if (parts)
        luaL_addchar(&b, ')');
    luaL_pushresult(&b);
    return 1;
}

void ivs_lua_open_error(lua_State *L)
{
    luaL_newmetatable(L, IVS_LUA_ERROR_MT);
    lua_pushcfunction(L, l_error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_setfield(L, -2, "Error");
}

#define TEXT_RESULT_MT "ivs.TextResult"

static int l_text_result_gc(lua_State *L)
{
    struct ivs_lua_text_result *r = luaL_checkudata(L, 1, TEXT_RESULT_MT);
    ivs_free(r->text);
    r->text = NULL;
    ivs_error_clear(&r->err);
    return 0;
}

struct ivs_lua_text_result *ivs_lua_new_text_result(lua_State *L)
{
    struct ivs_lua_text_result *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    if (luaL_newmetatable(L, TEXT_RESULT_MT)) {
        lua_pushcfunction(L, l_text_result_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return r;
}
