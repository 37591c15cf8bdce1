/* lua_sign.h: the Lua face of SigV4 signing (ivs.core.sign and ivs.core.presign), kept apart
 * from ivs_core.c, which calls ivs_lua_open_sign from luaopen_ivs_core. */
#ifndef IVS_LUA_SIGN_H
#define IVS_LUA_SIGN_H

#include <lua.h>

/*
 * Sets core.sign and core.presign in the table on top of the stack. Both share one
 * ivs_signer (its key cache), held as their upvalue, so signing in a loop does not derive the
 * key again each time; a lua_State is used by one thread at a time, as a signer must be.
 *
 * core.sign(t) -> headers | nil, err
 *   t: method, url, headers (table name -> string value), body (string), region, service,
 *   access_key_id, secret_access_key, session_token, time (integer, 0 or nil = now).
 *   headers is a new table with X-Amz-Date, Authorization and, with a session token,
 *   X-Amz-Security-Token.
 * core.presign(t) -> url | nil, err; t as for sign plus expires (integer seconds).
 * A field of the wrong type raises; what the signer rejects comes back as nil and an
 * ivs.Error (operation "sign" or "presign"). ivs.lua checks the option names.
 */
void ivs_lua_open_sign(lua_State *L);

#endif
