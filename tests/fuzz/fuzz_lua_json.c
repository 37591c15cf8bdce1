/* fuzz_lua_json.c: JSON into Lua, through the Lua binding (lua_binding/ivs_core.c) in an
 * embedded Lua 5.4 state: the conversion of a response body into the table client:call()
 * returns (guided by the operation's output shape), and ivs.json.decode / encode.
 *
 * The input is a response body, optionally preceded by a line naming an operation
 * ("GetChannel"), whose output shape then guides the conversion. Invariants: nothing but a Lua
 * error ever escapes (the state's memory is capped, so exhaustion is a Lua error too); what
 * json_encode writes, json_decode reads back. */
#include <cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "client.h"
#include "fuzz.h"
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
