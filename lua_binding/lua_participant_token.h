/* participant_token.h: the Lua face of self-signed IVS Real-Time tokens
 * (ivs.core.participant_token and ivs.core.connection_token), registered in ivs_core.c's
 * function table. ivs.lua checks the option names and types and computes the times; these
 * take the prepared fields. */
#ifndef IVS_LUA_PARTICIPANT_TOKEN_H
#define IVS_LUA_PARTICIPANT_TOKEN_H

#include <lua.h>

/*
 * core.participant_token(private_key_pem, claims) -> token | nil, err
 * claims: public_key_arn, stage_arn, events_url, whip_url, user_id, participant_id
 * (strings), capabilities (integer bit set, 0 = both), attributes (a sequence k1, v1, k2,
 * v2, ... of strings), issued_at, expires_at, now (integers, Unix seconds). A field of the
 * wrong type raises; invalid claims or key come back as nil and an ivs.Error (operation
 * "participant_token").
 */
int ivs_lua_participant_token(lua_State *L);

/* core.connection_token(private_key_pem, claims) -> token | nil, err; claims:
 * public_key_arn, events_url, connection_id, issued_at, expires_at, now. */
int ivs_lua_connection_token(lua_State *L);

#endif
