/* fuzz_lua_json.c: JSON into Lua, through the Lua binding (lua_binding/ivs_core.c) in an
 * embedded Lua 5.4 state: the conversion of a response body into the table client:call()
 * returns (guided by the operation's output shape), and ivs.json.decode / encode.
 *
 * The input is a response body, optionally preceded by a line naming an operation
 * ("GetChannel"), whose output shape then guides the conversion. Invariants: nothing but a Lua
 * error ever escapes (the state's memory is capped, so exhaustion is a Lua error too); what
 * json_encode writes, json_decode reads back; and for every body the core's check accepts, the
 * blocking call's text reader gives exactly the value the tree path gives (same keys, same
 * strings, same numbers with the same integer or float subtype), without its name cache, with
 * an empty one and with one it has filled (bodies with an escaped NUL aside: see below). */
#include <cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "buf.h"
#include "client.h"
#include "fuzz.h"
#include "json_scan.h"
#include "lua_output.h"
#include "model.h"

int luaopen_ivs_core(lua_State *L);

#define LUA_MEMORY_CAP (64u * 1024u * 1024u)

struct cap {
    size_t used;
};

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct cap *c = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        c->used -= old;
        return NULL;
    }
    if (nsize > old && c->used - old + nsize > LUA_MEMORY_CAP)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p)
        c->used = c->used - old + nsize;
    return p;
}

struct push_args {
    const struct model_operation *op;
    const cJSON *output;
};

static int push_output(lua_State *L)
{
    const struct push_args *a = lua_touserdata(L, 1);
    ivs_lua_push_output(L, a->op, a->output);
    return 1;
}

/* The limits the core checks a response body against before either reader sees it (client.c's
 * RESPONSE_MAX_DEPTH and RESPONSE_MAX_VALUES). */
#define CHECK_DEPTH 32
#define CHECK_VALUES 200000

struct text_args {
    const struct model_operation *op;
    const char *text;
    size_t len;
    struct buf *scratch;
    int with_names; /* the reader uses the table at index 2 as its name cache */
};

static int push_text(lua_State *L)
{
    const struct text_args *a = lua_touserdata(L, 1);
    ivs_lua_push_text(L, a->op, a->text, a->len, a->scratch, a->with_names ? 2 : 0);
    return 1;
}

/* Whether the values at a and b are the same: tables key by key (both ways), numbers by value
 * and subtype, strings byte for byte. Bounded by the readers' own depth limit. */
static int same_value(lua_State *L, int a, int b, int depth)
{
    a = lua_absindex(L, a);
    b = lua_absindex(L, b);
    if (lua_type(L, a) != lua_type(L, b) || depth > CHECK_DEPTH + 2)
        return 0;
    if (!lua_checkstack(L, 4))
        return 1; /* the memory cap, not a difference: nothing left to compare with */
    switch (lua_type(L, a)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, a) != lua_isinteger(L, b))
            return 0;
        if (lua_isinteger(L, a))
            return lua_tointeger(L, a) == lua_tointeger(L, b);
        return lua_tonumber(L, a) == lua_tonumber(L, b) ||
               (lua_tonumber(L, a) != lua_tonumber(L, a) &&
                lua_tonumber(L, b) != lua_tonumber(L, b));
    case LUA_TSTRING: {
        size_t la, lb;
        const char *sa = lua_tolstring(L, a, &la), *sb = lua_tolstring(L, b, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    }
    case LUA_TBOOLEAN: return lua_toboolean(L, a) == lua_toboolean(L, b);
    case LUA_TTABLE:
        for (int pass = 0; pass < 2; pass++) {
            int from = pass ? b : a, to = pass ? a : b;
            lua_pushnil(L);
            while (lua_next(L, from)) {
                lua_pushvalue(L, -2);
                lua_rawget(L, to);
                int ok = pass ? !lua_isnil(L, -1) : same_value(L, -2, -1, depth + 1);
                lua_pop(L, 2);
                if (!ok) {
                    lua_pop(L, 1);
                    return 0;
                }
            }
        }
        return 1;
    default: return 1;
    }
}

/* core.<fn>(value at idx) under pcall; leaves the results (or the error) on the stack and
 * returns the pcall status. */
static int call_core(lua_State *L, const char *fn, int idx, int nresults)
{
    idx = lua_absindex(L, idx);
    lua_getglobal(L, "core");
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    lua_pushvalue(L, idx);
    return lua_pcall(L, 1, nresults, 0);
}

/* encode, then decode what encode wrote: that must always read back. */
static void round_trip(lua_State *L, int idx)
{
    int top = lua_gettop(L);
    if (call_core(L, "json_encode", idx, 1) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
        if (call_core(L, "json_decode", -1, 2) == LUA_OK) {
            if (lua_isnil(L, -2)) {
                /* Only running out of memory may stop it, never the text encode wrote. */
                lua_getfield(L, -1, "code");
                const char *code = lua_tostring(L, -1);
                FUZZ_ASSERT(!code || strcmp(code, "InvalidJSON") != 0);
            }
        }
    }
    lua_settop(L, top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cap cap = {0};
    lua_State *L = lua_newstate(capped_alloc, &cap);
    if (!L)
        return 0;
    luaL_requiref(L, "_G", luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    lua_settop(L, 0);
    lua_pushcfunction(L, luaopen_ivs_core);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        lua_close(L);
        return 0;
    }
    lua_setglobal(L, "core");

    /* An operation name on the first line selects the output shape. */
    const struct model_operation *op = NULL;
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl) {
        char *name = fuzz_strndup(data, (size_t)(nl - data));
        op = name ? model_find_operation(model_find_service("ivs"), name) : NULL;
        free(name);
    }
    const char *body = (const char *)data;
    size_t len = size;
    if (op) {
        body = (const char *)nl + 1;
        len = size - (size_t)(nl + 1 - data);
    }

    /* The call path: the core's response parser, then the binding's conversion. */
    cJSON *out = NULL;
    struct ivs_error err = {0};
    if (client_parse_response(op ? op->name : "Unknown", 200, body, len, NULL, NULL, &out, &err) ==
        IVS_OK) {
        struct push_args a = {op, out};
        lua_pushcfunction(L, push_output);
        lua_pushlightuserdata(L, &a);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
            FUZZ_ASSERT(lua_istable(L, -1));
            round_trip(L, -1);
            /* The text reader, when the core's check would hand it this body. cJSON keeps keys
             * and strings as C strings, so an escaped NUL cuts them in the tree while the
             * reader keeps them whole: such bodies are left out of the comparison. */
            char *text = fuzz_strndup((const uint8_t *)body, len);
            if (text && !memmem(text, len, "\\u0000", 6) &&
                (len == 0 || json_object_within(text, len, CHECK_DEPTH, CHECK_VALUES))) {
                struct buf scratch = BUF_INIT;
                lua_newtable(L); /* index 2: the name cache */
                for (int run = 0; run < 3; run++) {
                    struct text_args t = {op, text, len, &scratch, run > 0};
                    lua_pushcfunction(L, push_text);
                    lua_pushlightuserdata(L, &t);
                    if (run > 0)
                        lua_pushvalue(L, 2);
                    /* Only the memory cap may stop it (a Lua error); else the values agree. */
                    if (lua_pcall(L, run > 0 ? 2 : 1, 1, 0) == LUA_OK)
                        FUZZ_ASSERT(same_value(L, 1, -1, 0));
                    lua_pop(L, 1);
                }
                buf_free(&scratch);
            }
            free(text);
        }
        lua_settop(L, 0);
    }
    cJSON_Delete(out);
    ivs_error_clear(&err);

    /* ivs.json.decode of the same text, and back. */
    lua_pushlstring(L, body, len);
    if (call_core(L, "json_decode", -1, 2) == LUA_OK && !lua_isnil(L, -2))
        round_trip(L, -2);
    lua_settop(L, 0);
    lua_close(L);
    FUZZ_ASSERT(cap.used == 0);
    return 0;
}
