/* lua_sign.c: ivs.core.sign and ivs.core.presign over the public signer (ivs_signer_*). */
#include "lua_sign.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "ivs.h"
#include "lua_error.h"

#define SIGNER_MT "ivs.Signer"
#define SIGN_RESULT_MT "ivs.SignResult"

/* Most requests carry a few headers; more go to a Lua-owned block. */
#define INLINE_HEADERS 16

struct lua_signer {
    struct ivs_signer *signer;
};

/* What the core hands out, held by a userdata so a Lua error raised while the result is
 * pushed (out of memory) cannot leak it. */
struct sign_result {
    struct ivs_signature sig;
    char *url;
    struct ivs_error err;
};

static int l_signer_gc(lua_State *L)
{
    struct lua_signer *s = luaL_checkudata(L, 1, SIGNER_MT);
    ivs_signer_free(s->signer);
    s->signer = NULL;
    return 0;
}

static int l_result_gc(lua_State *L)
{
    struct sign_result *r = luaL_checkudata(L, 1, SIGN_RESULT_MT);
    ivs_signature_clear(&r->sig);
    ivs_free(r->url);
    r->url = NULL;
    ivs_error_clear(&r->err);
    return 0;
}

static struct sign_result *new_result(lua_State *L)
{
    struct sign_result *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, SIGN_RESULT_MT);
    return r;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (!value)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

/* An optional string field of t; raises on another type or on an embedded NUL (which C
 * would silently cut the value at). Read raw, and the value stays on the stack (the caller
 * makes room): a later __index (opt_integer) or a finalizer may remove it from t, and only
 * the stack slot then keeps the string the returned pointer points into alive. */
static const char *opt_string(lua_State *L, int t, const char *name, size_t *len_out)
{
    lua_pushstring(L, name);
    int type = lua_rawget(L, t);
    const char *s = NULL;
    size_t len = 0;
    if (type == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &len);
        if (!len_out && strlen(s) != len)
            luaL_error(L, "ivs: sign option '%s' contains a NUL byte", name);
    } else if (type != LUA_TNIL) {
        luaL_error(L, "ivs: sign option '%s' must be a string, got %s", name, luaL_typename(L, -1));
    }
    if (len_out)
        *len_out = len;
    return s;
}

static lua_Integer opt_integer(lua_State *L, int t, const char *name)
{
    lua_getfield(L, t, name);
    lua_Integer v = 0;
    if (!lua_isnil(L, -1)) {
        int isint = 0;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint || lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "ivs: sign option '%s' must be an integer, got %s", name,
                       lua_type(L, -1) == LUA_TNUMBER ? "a non-integral number"
                                                      : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return v;
}

/* Fills req and creds from the options table at index 1. Header names and values are read
 * into headers (inline, or a userdata left on the stack when there are many). */
static void read_request(lua_State *L, struct ivs_sign_request *req, struct ivs_credentials *creds,
                         struct ivs_header *inline_headers)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkstack(L, 16, "ivs: sign");
    memset(req, 0, sizeof *req);
    req->method = opt_string(L, 1, "method", NULL);
    req->url = opt_string(L, 1, "url", NULL);
    size_t body_len = 0;
    req->body = opt_string(L, 1, "body", &body_len);
    req->body_len = body_len;
    req->region = opt_string(L, 1, "region", NULL);
    req->service = opt_string(L, 1, "service", NULL);
    req->time = (int64_t)opt_integer(L, 1, "time");
    creds->access_key_id = opt_string(L, 1, "access_key_id", NULL);
    creds->secret_access_key = opt_string(L, 1, "secret_access_key", NULL);
    creds->session_token = opt_string(L, 1, "session_token", NULL);

    int type = lua_getfield(L, 1, "headers"); /* stays on the stack: it keeps the strings */
    if (type == LUA_TNIL)
        return;
    if (type != LUA_TTABLE)
        luaL_error(L, "ivs: sign option 'headers' must be a table, got %s", luaL_typename(L, -1));
    int ht = lua_gettop(L);
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, ht)) {
        count++;
        lua_pop(L, 1);
    }
    /* The allocations below can run finalizers, which may add headers (so count is only a
     * bound, checked at every entry) or remove them (so every name and value is anchored in
     * a table of ours while the signer reads them). */
    struct ivs_header *headers = inline_headers;
    if (count > INLINE_HEADERS)
        headers = lua_newuserdatauv(L, count * sizeof *headers, 0);
    lua_createtable(L, count > INT_MAX / 2 ? INT_MAX : (int)(2 * count), 0);
    int anchor = lua_gettop(L);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, ht)) {
        if (n == count)
            luaL_error(L, "ivs: sign option 'headers' changed while it was read (a finalizer?)");
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L,
                       "ivs: sign option 'headers' maps header names to string values "
                       "(got a %s key and a %s value)",
                       luaL_typename(L, -2), luaL_typename(L, -1));
        size_t name_len, value_len;
        const char *name = lua_tolstring(L, -2, &name_len);
        const char *value = lua_tolstring(L, -1, &value_len);
        if (strlen(name) != name_len || strlen(value) != value_len)
            luaL_error(L, "ivs: sign option 'headers' has a NUL byte in '%s'", name);
        headers[n].name = name;
        headers[n].value = value;
        n++;
        lua_rawseti(L, anchor, (lua_Integer)(2 * n)); /* pops the value */
        lua_pushvalue(L, -1);
        lua_rawseti(L, anchor, (lua_Integer)(2 * n - 1));
    }
    req->headers = headers;
    req->header_count = n;
}

static int l_sign(lua_State *L)
{
    struct lua_signer *s = lua_touserdata(L, lua_upvalueindex(1));
    struct ivs_sign_request req;
    struct ivs_credentials creds = {0};
    struct ivs_header inline_headers[INLINE_HEADERS];
    read_request(L, &req, &creds, inline_headers);
    struct sign_result *r = new_result(L);
    if (ivs_signer_sign(s->signer, &req, &creds, &r->sig, &r->err) != IVS_OK)
        return ivs_lua_push_failure(L, &r->err, "sign");
    lua_createtable(L, 0, 3);
    set_string(L, "X-Amz-Date", r->sig.amz_date);
    set_string(L, "Authorization", r->sig.authorization);
    set_string(L, "X-Amz-Security-Token", r->sig.security_token);
    return 1;
}

static int l_presign(lua_State *L)
{
    struct lua_signer *s = lua_touserdata(L, lua_upvalueindex(1));
    struct ivs_sign_request req;
    struct ivs_credentials creds = {0};
    struct ivs_header inline_headers[INLINE_HEADERS];
    read_request(L, &req, &creds, inline_headers);
    lua_Integer expires = opt_integer(L, 1, "expires");
    /* Out of range values are the signer's to reject (clamped, never wrapped around). */
    long expires_s = expires > LONG_MAX ? LONG_MAX : expires < LONG_MIN ? LONG_MIN : (long)expires;
    struct sign_result *r = new_result(L);
    if (ivs_signer_presign_url(s->signer, &req, &creds, expires_s, &r->url, &r->err) != IVS_OK)
        return ivs_lua_push_failure(L, &r->err, "presign");
    lua_pushstring(L, r->url);
    return 1;
}

void ivs_lua_open_sign(lua_State *L)
{
    if (luaL_newmetatable(L, SIGN_RESULT_MT)) {
        lua_pushcfunction(L, l_result_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);

    struct lua_signer *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->signer = NULL;
    if (luaL_newmetatable(L, SIGNER_MT)) {
        lua_pushcfunction(L, l_signer_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    s->signer = ivs_signer_new();
    if (!s->signer)
        luaL_error(L, "ivs: cannot set up SigV4 signing (out of memory, or no SHA-256 in OpenSSL)");

    lua_pushvalue(L, -1);
    lua_pushcclosure(L, l_sign, 1);
    lua_setfield(L, -3, "sign");
    lua_pushcclosure(L, l_presign, 1);
    lua_setfield(L, -2, "presign");
}
