/* ivs_lua.h: what the Lua C files of the module share (ivs_core.c defines these). */
#ifndef IVS_LUA_H
#define IVS_LUA_H

#include <lauxlib.h>
#include <lua.h>

#include "compat.h"

#include "ivs.h"

/* The metatable of error tables, registered by luaopen_ivs_core. */
#define IVS_LUA_ERROR_MT "ivs.Error"

/* Pushes an ivs.Error table built from err (strings copied; err is not cleared): kind, code,
 * message, status, request_id, retryable, attempts and operation (may be NULL). */
void ivs_lua_push_error(lua_State *L, const struct ivs_error *err, const char *operation);

/* Pushes `nil, err` for a failure and returns 2, the count a lua_CFunction returns. */
int ivs_lua_push_failure(lua_State *L, const struct ivs_error *err, const char *operation);

#endif
