/* lua_error.h: ivs.Error, the error table the Lua C files of the module return (lua_error.c). */
#ifndef IVS_LUA_ERROR_H
#define IVS_LUA_ERROR_H

#include <lauxlib.h>
#include <lua.h>

#include "compat.h"

#include "ivs.h"

/* The metatable of error tables (ivs_lua_open_error registers it). */
#define IVS_LUA_ERROR_MT "ivs.Error"

/* Pushes an ivs.Error table built from err (strings copied; err is not cleared): kind, code,
 * message, status, request_id, retryable, attempts and operation (may be NULL). */
void ivs_lua_push_error(lua_State *L, const struct ivs_error *err, const char *operation);

/* Pushes `nil, err` for a failure and returns 2, the count a lua_CFunction returns. */
int ivs_lua_push_failure(lua_State *L, const struct ivs_error *err, const char *operation);

/* A text and an error the core hands out (a token, a URL), held by a userdata so that a Lua
 * error raised while the result is pushed (out of memory) cannot leak either: its __gc frees
 * both. ivs_lua_new_text_result pushes an empty one and returns it. */
struct ivs_lua_text_result {
    char *text;
    struct ivs_error err;
};
struct ivs_lua_text_result *ivs_lua_new_text_result(lua_State *L);

/* Registers the ivs.Error metatable (with its one-line __tostring) and sets it as field
 * "Error" of the table on top of the stack (luaopen_ivs_core calls it). */
void ivs_lua_open_error(lua_State *L);

#endif
