/* lua_output.h: an operation's output as the Lua value client:call() returns (ivs_core.c). */
#ifndef IVS_LUA_OUTPUT_H
#define IVS_LUA_OUTPUT_H

#include <lua.h>

struct model_operation;
struct cJSON;

/* Pushes the Lua value of an operation's parsed output (a table; an empty one when output is
 * NULL), converted as the model's output shape says, as client:call() returns it. Raises a Lua
 * error when the output nests too deeply. op may be NULL (no shape guidance). */
void ivs_lua_push_output(lua_State *L, const struct model_operation *op,
                         const struct cJSON *output);

#endif
