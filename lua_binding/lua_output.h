/* lua_output.h: an operation's output as the Lua value client:call() returns (ivs_core.c). */
#ifndef IVS_LUA_OUTPUT_H
#define IVS_LUA_OUTPUT_H

#include <stddef.h>

#include <lua.h>

struct model_operation;
struct cJSON;

/* Pushes the Lua value of an operation's parsed output (a table; an empty one when output is
 * NULL), converted as the model's output shape says, as client:call() returns it. Raises a Lua
 * error when the output nests too deeply. op may be NULL (no shape guidance). */
void ivs_lua_push_output(lua_State *L, const struct model_operation *op,
                         const struct cJSON *output);

/* Pushes the Lua value of a response body given as text, read as a blocking call reads it
 * (the reader client:call() uses, without a tree). The text must be what the core accepts
 * (json_object_within: one JSON object within the response limits) and NUL-terminated at
 * text[len]; len 0 gives an empty table. scratch holds unescaped strings; names is the stack
 * index of a name cache table (as the client's methods keep one), or 0 for none. Raises a
 * Lua error when memory runs out. For tests and the fuzz harness, which compare it with
 * ivs_lua_push_output. */
struct buf;
void ivs_lua_push_text(lua_State *L, const struct model_operation *op, const char *text, size_t len,
                       struct buf *scratch, int names);

#endif
