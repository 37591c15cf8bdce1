/* participant_token.c: ivs.core.participant_token and ivs.core.connection_token over the C
 * core (ivs_participant_token, ivs_connection_token). */
#include "lua_participant_token.h"

#include <string.h>

#include <lauxlib.h>

#include "ivs.h"
#include "lua_error.h"

/* An optional string field, read raw (no metamethod runs, so the string stays anchored in
 * the claims table, which is on the stack); raises on another type or an embedded NUL. */
static const char *opt_string(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    int type = lua_rawget(L, t);
    const char *s = NULL;
    if (type == LUA_TSTRING) {
        size_t len;
        s = lua_tolstring(L, -1, &len);
        if (strlen(s) != len)
            luaL_error(L, "ivs: token option '%s' contains a NUL byte", name);
    } else if (type != LUA_TNIL) {
        luaL_error(L, "ivs: token option '%s' must be a string, got %s", name,
                   luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return s;
}

static int64_t opt_integer(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    int type = lua_rawget(L, t);
    int64_t v = 0;
    if (type != LUA_TNIL) {
        int isint = 0;
        lua_Integer i = lua_tointegerx(L, -1, &isint);
        if (!isint || type != LUA_TNUMBER)
            luaL_error(L, "ivs: token option '%s' must be an integer, got %s", name,
                       type == LUA_TNUMBER ? "a non-integral number" : luaL_typename(L, -1));
        v = (int64_t)i;
    }
    lua_pop(L, 1);
    return v;
}

int ivs_lua_participant_token(lua_State *L)
{
    size_t pem_len = 0;
    const char *pem = luaL_checklstring(L, 1, &pem_len);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    struct ivs_participant_token_claims c = {0};
    c.public_key_arn = opt_string(L, 2, "public_key_arn");
    c.stage_arn = opt_string(L, 2, "stage_arn");
    c.events_url = opt_string(L, 2, "events_url");
    c.whip_url = opt_string(L, 2, "whip_url");
    c.user_id = opt_string(L, 2, "user_id");
    c.participant_id = opt_string(L, 2, "participant_id");
    c.capabilities = (int)opt_integer(L, 2, "capabilities");
    c.issued_at = opt_integer(L, 2, "issued_at");
    c.expires_at = opt_integer(L, 2, "expires_at");
    int64_t now = opt_integer(L, 2, "now");

    /* The attributes: a sequence of keys and values at index 3 (kept on the stack, so its
     * strings stay alive), copied into a userdata array at index 4 (freed by the GC). */
    lua_pushstring(L, "attributes");
    int type = lua_rawget(L, 2);
    if (type != LUA_TNIL && type != LUA_TTABLE)
        return luaL_error(L, "ivs: token option 'attributes' must be a table, got %s",
                          luaL_typename(L, -1));
    /* Counted with raw reads, not lua_rawlen, which Lua 5.1 lacks. */
    size_t n = 0;
    while (type == LUA_TTABLE && lua_rawgeti(L, 3, (lua_Integer)(2 * n + 1)) != LUA_TNIL) {
        lua_pop(L, 1);
        n++;
    }
    if (type == LUA_TTABLE)
        lua_pop(L, 1); /* the nil that ended the count */
    struct ivs_token_attribute *attrs =
        lua_newuserdatauv(L, (n ? n : 1) * sizeof *attrs, 0); /* index 4 */
    for (size_t i = 0; i < n; i++) {
        const char *kv[2];
        for (int k = 0; k < 2; k++) {
            size_t len;
            if (lua_rawgeti(L, 3, (lua_Integer)(2 * i + (size_t)k + 1)) != LUA_TSTRING)
                return luaL_error(L, "ivs: token attributes must be strings");
            kv[k] = lua_tolstring(L, -1, &len);
            if (strlen(kv[k]) != len)
                return luaL_error(L, "ivs: token attribute contains a NUL byte");
            lua_pop(L, 1); /* still referenced by the sequence at index 3 */
        }
        attrs[i].key = kv[0];
        attrs[i].value = kv[1];
    }
    c.attributes = n ? attrs : NULL;
    c.attribute_count = n;

    struct ivs_lua_text_result *r = ivs_lua_new_text_result(L);
    if (ivs_participant_token(pem, pem_len, &c, now, &r->text, &r->err) != IVS_OK)
        return ivs_lua_push_failure(L, &r->err, "participant_token");
    lua_pushstring(L, r->text);
    return 1;
}

int ivs_lua_connection_token(lua_State *L)
{
    size_t pem_len = 0;
    const char *pem = luaL_checklstring(L, 1, &pem_len);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    struct ivs_connection_token_claims c = {0};
    c.public_key_arn = opt_string(L, 2, "public_key_arn");
    c.events_url = opt_string(L, 2, "events_url");
    c.connection_id = opt_string(L, 2, "connection_id");
    c.issued_at = opt_integer(L, 2, "issued_at");
    c.expires_at = opt_integer(L, 2, "expires_at");
    int64_t now = opt_integer(L, 2, "now");
    struct ivs_lua_text_result *r = ivs_lua_new_text_result(L);
    if (ivs_connection_token(pem, pem_len, &c, now, &r->text, &r->err) != IVS_OK)
        return ivs_lua_push_failure(L, &r->err, "connection_token");
    lua_pushstring(L, r->text);
    return 1;
}
