/*
 * compat.h: the Lua 5.4 C API the binding is written against, provided on Lua 5.1, LuaJIT 2.1,
 * 5.2 and 5.3 (and nothing on 5.4, or 5.5 whose API keeps these names).
 *
 * The binding's sources use the 5.4 names only; this header is the one place that knows which
 * version lacks what. Include it after <lua.h> and <lauxlib.h> (lua_error.h does).
 *
 * Numbers: before 5.3 every Lua number is a double. lua_isinteger then means "a number with an
 * integral value that a double holds exactly" (|n| < 2^53), so integer options keep validating
 * as integers and values past 2^53, which a double would silently round, are refused instead.
 * IVS_LUA_HAS_INTEGERS tells the two worlds apart where a message needs to.
 */
#ifndef IVS_LUA_COMPAT_H
#define IVS_LUA_COMPAT_H

#include <math.h>

#include <lauxlib.h>
#include <lua.h>

/* 2^53: below it a double holds every integer exactly. */
#define IVS_LUA_EXACT_LIMIT 9007199254740992.0

#if LUA_VERSION_NUM >= 503
#define IVS_LUA_HAS_INTEGERS 1
#else
#define IVS_LUA_HAS_INTEGERS 0
#endif

/* ---- 5.1 and LuaJIT 2.1 (LuaJIT reports 501; it has a few of these, ours are used alike) ---- */
#if LUA_VERSION_NUM < 502

#ifndef LUA_OK
#define LUA_OK 0
#endif
#ifndef LUAMOD_API
#define LUAMOD_API extern
#endif

static inline int ivs_compat_absindex(lua_State *L, int idx)
{
    return idx > 0 || idx <= LUA_REGISTRYINDEX ? idx : lua_gettop(L) + idx + 1;
}
#define lua_absindex ivs_compat_absindex

static inline void ivs_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name; l++) {
        for (int i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}
#define luaL_setfuncs ivs_compat_setfuncs
#undef luaL_newlib /* LuaJIT has one, over its own luaL_setfuncs */
#define luaL_newlib(L, l)                                                                          \
    (lua_createtable((L), 0, (int)(sizeof(l) / sizeof((l)[0]) - 1)), luaL_setfuncs((L), (l), 0))

static inline void ivs_compat_setmetatable(lua_State *L, const char *name)
{
    luaL_getmetatable(L, name);
    lua_setmetatable(L, -2);
}
#define luaL_setmetatable ivs_compat_setmetatable

static inline void *ivs_compat_testudata(lua_State *L, int idx, const char *name)
{
    void *p = lua_touserdata(L, idx);
    if (!p || !lua_getmetatable(L, idx))
        return NULL;
    luaL_getmetatable(L, name);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? p : NULL;
}
#define luaL_testudata ivs_compat_testudata

/* A userdata's one slot for another Lua value is its environment table in 5.1: the values
 * go into a table set as the environment, which keeps them alive as a user value would. */
static inline int ivs_compat_setiuservalue(lua_State *L, int idx, int n)
{
    idx = lua_absindex(L, idx);
    lua_createtable(L, n, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, n);
    lua_setfenv(L, idx);
    return 1;
}
#define lua_setiuservalue ivs_compat_setiuservalue

#endif /* < 5.2 */

/* ---- up to 5.2: getters that return the type, integer access ---- */
#if LUA_VERSION_NUM < 503

/* Before 5.3 these return nothing; 5.3 made them return the type of the pushed value. The
 * macros call the real function (a macro does not expand inside itself). */
#define lua_getfield(L, i, k) (lua_getfield((L), (i), (k)), lua_type((L), -1))
#define lua_rawget(L, i) (lua_rawget((L), (i)), lua_type((L), -1))
#define lua_rawgeti(L, i, n) (lua_rawgeti((L), (i), (n)), lua_type((L), -1))
#define lua_gettable(L, i) (lua_gettable((L), (i)), lua_type((L), -1))

/* 5.3 and later name the type in __name, which tostring and the Lua layer read. */
static inline int ivs_compat_newmetatable(lua_State *L, const char *name)
{
    if (!luaL_newmetatable(L, name))
        return 0;
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    return 1;
}
#define luaL_newmetatable ivs_compat_newmetatable

static inline int ivs_compat_geti(lua_State *L, int idx, lua_Integer n)
{
    idx = lua_absindex(L, idx);
    lua_pushinteger(L, n);
    return lua_gettable(L, idx);
}
#define lua_geti ivs_compat_geti

static inline void ivs_compat_seti(lua_State *L, int idx, lua_Integer n)
{
    idx = lua_absindex(L, idx);
    lua_pushinteger(L, n);
    lua_insert(L, -2);
    lua_settable(L, idx);
}
#define lua_seti ivs_compat_seti

static inline int ivs_compat_isinteger(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
    lua_Number d = lua_tonumber(L, idx);
    return d == floor(d) && fabs(d) < IVS_LUA_EXACT_LIMIT;
}
#define lua_isinteger ivs_compat_isinteger

/* 5.3's meaning (5.2's own truncates 1.5 to 1 and says it is a number): *isint is set only
 * for a number, or a numeric string, with an exact integral value. */
static inline lua_Integer ivs_compat_tointegerx(lua_State *L, int idx, int *isint)
{
    int ok = 0;
    lua_Integer v = 0;
    if (lua_isnumber(L, idx)) {
        lua_Number d = lua_tonumber(L, idx);
        if (d == floor(d) && fabs(d) < IVS_LUA_EXACT_LIMIT) {
            v = (lua_Integer)d;
            ok = 1;
        }
    }
    if (isint)
        *isint = ok;
    return v;
}
#undef lua_tointegerx
#define lua_tointegerx ivs_compat_tointegerx
/* 5.2 defines lua_tointeger through lua_tointegerx; keep its truncating meaning. */
#undef lua_tointeger
#define lua_tointeger(L, i) ((lua_Integer)lua_tonumber((L), (i)))

#endif /* < 5.3 */

/* ---- up to 5.3: one user value per userdata, set with lua_setuservalue ---- */
#if LUA_VERSION_NUM < 504

#define lua_newuserdatauv(L, size, nuvalue) ((void)(nuvalue), lua_newuserdata((L), (size)))

#if LUA_VERSION_NUM >= 502
static inline int ivs_compat_setiuservalue(lua_State *L, int idx, int n)
{
    (void)n; /* the binding only ever uses the first */
    lua_setuservalue(L, idx);
    return 1;
}
#define lua_setiuservalue ivs_compat_setiuservalue
#endif

#endif /* < 5.4 */

#endif
