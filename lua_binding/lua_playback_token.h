/* lua_playback_token.h: the Lua face of playback tokens (ivs.core.playback_token and
 * ivs.core.playback_url), kept apart from ivs_core.c and registered in its function table. */
#ifndef IVS_LUA_PLAYBACK_TOKEN_H
#define IVS_LUA_PLAYBACK_TOKEN_H

#include <lua.h>

/*
 * core.playback_token(private_key_pem, claims) -> token | nil, err
 * claims: channel_arn, expires_at, now (integers, Unix seconds; now nil = the real clock),
 * access_control_allow_origin, strict_origin_enforcement (boolean), single_use_uuid,
 * viewer_id, viewer_session_version (integer), maximum_resolution. A field of the wrong type
 * raises; invalid claims or key come back as nil and an ivs.Error (operation
 * "playback_token"). ivs.lua checks option names and computes expires_in.
 */
int ivs_lua_playback_token(lua_State *L);

/* core.playback_url(playback_url, token) -> url | nil, err (see ivs_playback_url). */
int ivs_lua_playback_url(lua_State *L);

#endif
