/*
 * ivs_core.c: the C half of the Lua module, `ivs.core`.
 *
 * It owns three things: the client userdata ("ivs.Client") around a struct ivs_client, the
 * conversion between Lua tables and cJSON trees (guided by the model's shapes, so an empty
 * table becomes `[]` where the model wants a list and `{}` elsewhere), and read-only views of
 * the operation and shape tables for the Lua layer (lua_binding/ivs.lua) to build methods,
 * paginators and `ivs.describe` from.
 *
 * Error convention: misuse (wrong argument types, unknown operation, a closed client, a table
 * that cannot be JSON) raises; everything the core reports (validation, config, network,
 * service errors) comes back as `nil, err` with err an ivs.Error table.
 *
 * Memory: every malloc'd thing that lives across a Lua API call (cJSON trees, struct
 * ivs_error strings) sits in a "call frame" userdata whose __gc frees it, so a Lua error
 * (including a memory error) raised half-way through a conversion never leaks. No C statics
 * hold state: metatables live in the registry under their names.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include <cJSON.h>

#include "ivs.h"
#include "client.h"
#include "buf.h"
#include "errors.h"
#include "json_scan.h"
#include "model.h"
#include "suggest.h"
#include "lua_error.h"
#include "lua_options.h"
#include "lua_output.h"
#include "lua_participant_token.h"
#include "lua_playback_token.h"
#include "lua_sign.h"

#define CLIENT_MT "ivs.Client"
#define FRAME_MT "ivs.CallFrame"
#define CALL_MT "ivs.Call"

/* Nesting deeper than this is certainly a cycle or a mistake (IVS shapes nest 4 deep). */
#define MAX_DEPTH 64

LUAMOD_API __attribute__((visibility("default"))) int luaopen_ivs_core(lua_State *L);

/* The client userdata. `L` is the state of the call in progress, so the log hook can reach
 * the Lua log function; it is NULL between calls. */
struct lclient {
    struct ivs_client *client;
    lua_State *L;
    int log_ref;
    int mfa_ref;   /* the mfa_token option's function */
    int frame_ref; /* anchors the last blocking call's frame (s_take_frame), or LUA_NOREF */
    struct call_frame *spare; /* that frame while no call uses it; NULL else */
    /* The operation the last call or start named by its API name: a program calls the same
     * few operations again and again, so s_operation tries it before searching the model. */
    const struct model_operation *last_op;
};

/* Everything a call allocates outside Lua, owned by a userdata so a raise cannot leak it. */
struct call_frame {
    cJSON *input;
    cJSON *output;
    struct buf body;    /* a blocking call's response text, read straight into Lua values */
    struct buf scratch; /* a string with escapes, unescaped */
    struct ivs_error err;
};

/* ---------------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------------- */

/* The "did you mean" distance (suggest.h: one bounded, case-aware implementation). */
static size_t s_distance(const char *a, const char *b) { return suggest_distance(a, b); }

/* The operation of svc whose name is closest to `name` (snake or API spelling, whichever is
 * closer). */
static const char *s_closest_operation(const struct model_service *svc, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < svc->model->operation_count; i++) {
        const struct model_operation *op = &svc->model->operations[i];
        size_t d1 = s_distance(name, op->snake_name), d2 = s_distance(name, op->name);
        if (d1 < best_d) {
            best_d = d1;
            best = op->snake_name;
        }
        if (d2 < best_d) {
            best_d = d2;
            best = op->name;
        }
    }
    return best;
}

/* "unknown operation 'x' (did you mean 'y'?)", naming the service when it is not low-latency
 * IVS (whose message predates the others). */
static void s_push_unknown_operation(lua_State *L, const struct model_service *svc,
                                     const char *name)
{
    if (svc == model_default_service())
        lua_pushfstring(L, "unknown operation '%s' (did you mean '%s'?)", name,
                        s_closest_operation(svc, name));
    else
        lua_pushfstring(L, "unknown %s operation '%s' (did you mean '%s'?)", svc->name, name,
                        s_closest_operation(svc, name));
}

static const char *s_type_name(enum model_type t)
{
    switch (t) {
    case MT_STRUCTURE: return "structure";
    case MT_LIST: return "list";
    case MT_MAP: return "map";
    case MT_STRING: return "string";
    case MT_INTEGER: return "integer";
    case MT_LONG: return "long";
    case MT_FLOAT: return "float";
    case MT_DOUBLE: return "double";
    case MT_BOOLEAN: return "boolean";
    case MT_TIMESTAMP: return "timestamp";
    case MT_BLOB: return "blob";
    }
    return "unknown";
}

static const char *s_location_name(enum model_location l)
{
    switch (l) {
    case ML_BODY: return "body";
    case ML_URI: return "uri";
    case ML_QUERY: return "querystring";
    case ML_HEADER: return "header";
    }
    return "body";
}

static const char *s_log_level_name(enum ivs_log_level level)
{
    switch (level) {
    case IVS_LOG_ERROR: return "error";
    case IVS_LOG_WARN: return "warn";
    case IVS_LOG_INFO: return "info";
    case IVS_LOG_DEBUG: return "debug";
    }
    return "info";
}

static void s_set_string(lua_State *L, const char *key, const char *value)
{
    if (value) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
}

static void s_set_integer(lua_State *L, const char *key, lua_Integer value)
{
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
}

static void s_set_boolean(lua_State *L, const char *key, int value)
{
    lua_pushboolean(L, value);
    lua_setfield(L, -2, key);
}

/* core.closest(name, candidates) -> the string of the sequence candidates nearest to name
 * (s_distance; the first of equals), or nil when there is none. The one "did you mean" of
 * the module, used by ivs.lua and scripts/ivs too. */
static int l_closest(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer best = 0;
    size_t best_d = (size_t)-1;
    for (lua_Integer i = 1;; i++) {
        int ty = lua_rawgeti(L, 2, i);
        if (ty == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        if (ty == LUA_TSTRING) {
            size_t d = s_distance(name, lua_tostring(L, -1));
            if (d < best_d) {
                best_d = d;
                best = i;
            }
        }
        lua_pop(L, 1);
    }
    if (!best)
        lua_pushnil(L);
    else
        lua_rawgeti(L, 2, best);
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------- */

/* ivs.Error tables are built by lua_error.c (ivs_lua_push_error), which every Lua C file of
 * the module shares. */

/* ---------------------------------------------------------------------------------------
 * Call frames
 * ------------------------------------------------------------------------------------- */

static int l_frame_gc(lua_State *L)
{
    struct call_frame *f = luaL_checkudata(L, 1, FRAME_MT);
    cJSON_Delete(f->input);
    cJSON_Delete(f->output);
    f->input = f->output = NULL;
    buf_free(&f->body);
    buf_free(&f->scratch);
    ivs_error_clear(&f->err);
    return 0;
}

static struct call_frame *s_new_frame(lua_State *L)
{
    struct call_frame *f = lua_newuserdatauv(L, sizeof *f, 0);
    memset(f, 0, sizeof *f);
    luaL_setmetatable(L, FRAME_MT);
    return f;
}

/* ---------------------------------------------------------------------------------------
 * Lua -> cJSON, guided by the model
 * ------------------------------------------------------------------------------------- */

struct to_json {
    lua_State *L;
    const char *op; /* snake name, for messages */
    cJSON **root;   /* where the top table's node goes (the frame's input) */
    /* Stack slots [anchor, anchor_end) reserved by a blocking call: a string parameter copied
     * into one is alive until the call returns, so the tree points at it instead of copying
     * it (the tree is deleted before the call returns). anchor == anchor_end: none left. */
    int anchor, anchor_end;
    char path[512];
};

/* Stack slots a blocking call reserves for string parameters (most calls have one or two). */
#define INPUT_ANCHORS 8

/* Raises a misuse error naming the parameter path. The tree built so far belongs to the
 * call frame, so nothing leaks. */
static int s_misuse(struct to_json *tj, const char *what)
{
    /* No "file:line:" prefix: the position would be inside ivs.lua, not the caller's code. */
    lua_pushfstring(tj->L, "%s: %s: %s", tj->op, tj->path[0] ? tj->path : "params", what);
    return lua_error(tj->L);
}

/* Appends n bytes of s to the path at *len, cutting them short where the path is full (as
 * snprintf would); the path stays NUL-terminated. */
static void s_path_put(struct to_json *tj, size_t *len, const char *s, size_t n)
{
    size_t room = sizeof tj->path - 1 - *len;
    if (n > room)
        n = room;
    memcpy(tj->path + *len, s, n);
    *len += n;
    tj->path[*len] = '\0';
}

/* Appends a path element; returns the old length so the caller can restore it. Called for
 * every member converted, so it copies instead of formatting. */
static size_t s_path_push_key(struct to_json *tj, const char *key, int as_map)
{
    size_t old = strlen(tj->path), len = old;
    if (as_map) {
        s_path_put(tj, &len, "[\"", 2);
        s_path_put(tj, &len, key, strlen(key));
        s_path_put(tj, &len, "\"]", 2);
    } else {
        if (old)
            s_path_put(tj, &len, ".", 1);
        s_path_put(tj, &len, key, strlen(key));
    }
    return old;
}

static size_t s_path_push_index(struct to_json *tj, lua_Integer i)
{
    size_t old = strlen(tj->path), len = old;
    char digits[24], *d = digits + sizeof digits;
    /* Indices come from 1..n, so they are positive. */
    unsigned long long u = (unsigned long long)i;
    do
        *--d = (char)('0' + u % 10);
    while (u /= 10);
    s_path_put(tj, &len, "[", 1);
    s_path_put(tj, &len, d, (size_t)(digits + sizeof digits - d));
    s_path_put(tj, &len, "]", 1);
    return old;
}

/* What the keys of the table at idx look like. */
struct key_census {
    size_t strings, integers, others;
    lua_Integer max_int;
};

static struct key_census s_census(lua_State *L, int idx)
{
    struct key_census kc = {0, 0, 0, 0};
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            kc.strings++;
        } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
            kc.integers++;
            if (lua_tointeger(L, -1) > kc.max_int)
                kc.max_int = lua_tointeger(L, -1);
        } else {
            kc.others++;
        }
    }
    return kc;
}

/* A member key: the text, and whether it is a model member's name (static, so the tree
 * points at it instead of copying it). */
struct member_key {
    const char *name;
    int is_static;
};

static void s_to_json(struct to_json *tj, int idx, const struct model_shape *shape, cJSON *parent,
                      struct member_key key, int depth);

/* Attaches item to parent under key (or appends it to an array). */
static void s_attach(cJSON *parent, struct member_key key, cJSON *item)
{
    if (cJSON_IsArray(parent))
        cJSON_AddItemToArray(parent, item);
    else if (key.is_static)
        cJSON_AddItemToObjectCS(parent, key.name, item);
    else
        cJSON_AddItemToObject(parent, key.name, item);
}

/* Converts the table at idx into an object or array attached to parent under key; with no
 * parent it becomes the root (*tj->root), owned by the frame before anything is added. */
static void s_table_to_json(struct to_json *tj, int idx, const struct model_shape *shape,
                            cJSON *parent, struct member_key key, int depth)
{
    lua_State *L = tj->L;
    luaL_checkstack(L, 6, "nested too deeply");
    if (depth > MAX_DEPTH)
        s_misuse(tj, "nested too deeply (a table that contains itself?)");
    struct key_census kc = s_census(L, idx);
    enum model_type want = shape ? shape->type : MT_STRUCTURE;
    int is_array;
    if (kc.strings == 0 && kc.integers == 0 && kc.others == 0) {
        is_array = shape && shape->type == MT_LIST;
    } else if (shape && (want == MT_STRUCTURE || want == MT_MAP)) {
        if (kc.integers || kc.others)
            s_misuse(tj, want == MT_MAP ? "map keys must be strings"
                                        : "structure keys must be member names (strings)");
        is_array = 0;
    } else if (shape && want == MT_LIST) {
        if (kc.strings || kc.others || (size_t)kc.max_int != kc.integers)
            s_misuse(tj, "a list must be a sequence (keys 1..n, no holes)");
        is_array = 1;
    } else if (kc.strings && !kc.integers && !kc.others) {
        is_array = 0;
    } else if (!kc.strings && !kc.others && (size_t)kc.max_int == kc.integers) {
        is_array = 1;
    } else {
        s_misuse(tj, "a table must be either a sequence or have only string keys");
        return;
    }

    cJSON *node = is_array ? cJSON_CreateArray() : cJSON_CreateObject();
    if (!node)
        luaL_error(L, "not enough memory");
    if (parent)
        s_attach(parent, key, node);
    else
        *tj->root = node;

    if (is_array) {
        const struct model_shape *elem =
            shape && shape->type == MT_LIST ? shape->member_shape : NULL;
        for (lua_Integer i = 1; i <= kc.max_int; i++) {
            size_t old = s_path_push_index(tj, i);
            lua_geti(L, idx, i);
            s_to_json(tj, lua_gettop(L), elem, node, (struct member_key){NULL, 0}, depth + 1);
            lua_pop(L, 1);
            tj->path[old] = '\0';
        }
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        /* The census said string keys only, but Lua code (an __index reached through lua_geti
         * below, a finalizer) may have added others since: never convert a key in place. */
        if (lua_type(L, -2) != LUA_TSTRING)
            s_misuse(tj, "the table changed while it was converted (a finalizer or __index?)");
        size_t klen = 0;
        const char *k = lua_tolstring(L, -2, &klen);
        const struct model_shape *member_shape = NULL;
        struct member_key jk = {k, 0};
        if (shape && shape->type == MT_STRUCTURE) {
            const struct model_member *m = model_find_member(shape, k);
            member_shape = m ? m->shape : NULL;
            if (m) /* the same bytes (a key with a NUL is refused below) */
                jk = (struct member_key){m->name, 1};
        } else if (shape && shape->type == MT_MAP) {
            member_shape = shape->member_shape;
        }
        size_t old = s_path_push_key(tj, k, shape && shape->type == MT_MAP);
        if (strlen(k) != klen)
            s_misuse(tj, "keys must not contain NUL bytes");
        s_to_json(tj, lua_gettop(L), member_shape, node, jk, depth + 1);
        tj->path[old] = '\0';
        lua_pop(L, 1);
    }
}

/* Converts the Lua value at idx to JSON and attaches it to parent. nil is skipped (an absent
 * member); values that JSON cannot carry raise. */
static void s_to_json(struct to_json *tj, int idx, const struct model_shape *shape, cJSON *parent,
                      struct member_key key, int depth)
{
    lua_State *L = tj->L;
    cJSON *item = NULL;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: return;
    case LUA_TBOOLEAN: item = cJSON_CreateBool(lua_toboolean(L, idx)); break;
    case LUA_TNUMBER: {
        double d = lua_isinteger(L, idx) ? (double)lua_tointeger(L, idx) : lua_tonumber(L, idx);
        if (!isfinite(d))
            s_misuse(tj, "numbers must be finite (JSON has no NaN or infinity)");
        item = cJSON_CreateNumber(d);
        break;
    }
    case LUA_TSTRING: {
        size_t len = 0;
        const char *s = lua_tolstring(L, idx, &len);
        if (strlen(s) != len)
            s_misuse(tj, "strings must not contain NUL bytes");
        if (tj->anchor < tj->anchor_end) {
            lua_pushvalue(L, idx);
            lua_replace(L, tj->anchor++);
            item = cJSON_CreateStringReference(s);
        } else {
            item = cJSON_CreateString(s);
        }
        break;
    }
    case LUA_TTABLE: s_table_to_json(tj, idx, shape, parent, key, depth); return;
    default: {
        char what[96];
        snprintf(what, sizeof what,
                 "cannot send a %s (JSON takes strings, numbers, booleans "
                 "and tables)",
                 luaL_typename(L, idx));
        s_misuse(tj, what);
        return;
    }
    }
    if (!item)
        luaL_error(L, "not enough memory");
    s_attach(parent, key, item);
}

/* ---------------------------------------------------------------------------------------
 * cJSON -> Lua, guided by the model
 * ------------------------------------------------------------------------------------- */

static void s_push_number(lua_State *L, double d, const struct model_shape *shape)
{
    int want_float = shape && (shape->type == MT_FLOAT || shape->type == MT_DOUBLE);
    /* 2^63 as a double; integral values inside (-2^63, 2^63) fit a lua_Integer. */
    if (!want_float && d == floor(d) && d > -9223372036854775808.0 && d < 9223372036854775808.0)
        lua_pushinteger(L, (lua_Integer)d);
    else
        lua_pushnumber(L, d);
}

/* Pushes the Lua form of a JSON value. JSON null becomes nil (so a null member is absent and
 * a null list element is dropped). */
static void s_push_json(lua_State *L, const cJSON *j, const struct model_shape *shape, int depth)
{
    luaL_checkstack(L, 4, "response nested too deeply");
    if (depth > MAX_DEPTH)
        luaL_error(L, "response nested too deeply");
    if (cJSON_IsObject(j)) {
        lua_createtable(L, 0, cJSON_GetArraySize(j));
        const cJSON *child;
        cJSON_ArrayForEach(child, j)
        {
            if (cJSON_IsNull(child) || !child->string)
                continue;
            const struct model_shape *member_shape = NULL;
            if (shape && shape->type == MT_STRUCTURE) {
                const struct model_member *m = model_find_member(shape, child->string);
                member_shape = m ? m->shape : NULL;
            } else if (shape && shape->type == MT_MAP) {
                member_shape = shape->member_shape;
            }
            s_push_json(L, child, member_shape, depth + 1);
            lua_setfield(L, -2, child->string);
        }
    } else if (cJSON_IsArray(j)) {
        lua_createtable(L, cJSON_GetArraySize(j), 0);
        const struct model_shape *elem =
            shape && shape->type == MT_LIST ? shape->member_shape : NULL;
        lua_Integer n = 0;
        const cJSON *child;
        cJSON_ArrayForEach(child, j)
        {
            if (cJSON_IsNull(child))
                continue;
            s_push_json(L, child, elem, depth + 1);
            lua_seti(L, -2, ++n);
        }
    } else if (cJSON_IsString(j)) {
        lua_pushstring(L, j->valuestring);
    } else if (cJSON_IsNumber(j)) {
        s_push_number(L, j->valuedouble, shape);
    } else if (cJSON_IsBool(j)) {
        lua_pushboolean(L, cJSON_IsTrue(j));
    } else {
        lua_pushnil(L);
    }
}

void ivs_lua_push_output(lua_State *L, const struct model_operation *op, const cJSON *output)
{
    if (output)
        s_push_json(L, output, op ? op->output : NULL, 0);
    else
        lua_newtable(L);
    if (!lua_istable(L, -1)) { /* a non-object body is the core's to reject, but be safe */
        lua_pop(L, 1);
        lua_newtable(L);
    }
}

/* ---------------------------------------------------------------------------------------
 * JSON text -> Lua, guided by the model
 *
 * A blocking call's response goes from its text straight into Lua values: no cJSON tree is
 * built and deleted, and a string without escapes is pushed from the text itself. The core
 * has already checked the text to be one well-formed JSON object (json_scan.c), so this
 * reader only walks it. It gives what s_push_json gives for the same text: null members and
 * null elements are dropped, numbers follow the shape, nesting beyond MAX_DEPTH is refused.
 * The text and the scratch buffer belong to the call frame, so a Lua error leaks nothing.
 * ------------------------------------------------------------------------------------- */

struct text_reader {
    lua_State *L;
    const char *p;
    const char *end; /* the text's end (its NUL): word-wide reads stay before it */
    struct buf *scratch;
    int names; /* stack index of the name cache (s_push_cached), or 0: none */
};

/* The name cache: an array table of interned member names and enum values, one per Lua
 * state, shared as upvalue 1 of the client and call methods. Interning a string (hashing it
 * and finding it in the string table) is most of what a structure's key or an enum value
 * costs; fetching it from the array part by an index computed from the model is a fraction
 * of that. A member's slot is its address in units of its size (so the members of one array
 * take distinct slots), an enum value's the address of its entry in the shape's list, in a
 * region of its own; two strings in one slot just take turns. The table is reachable from
 * Lua (debug.getupvalue), so what a slot holds is checked to be that very string before use. */
#define NAME_SLOTS 1024
#define ENUM_SLOTS 512

static int s_member_slot(const struct model_member *m)
{
    return (int)(((uintptr_t)m / sizeof *m) & (NAME_SLOTS - 1)) + 1;
}

static int s_enum_slot(const char *const *value)
{
    return NAME_SLOTS + (int)(((uintptr_t)value / sizeof *value) & (ENUM_SLOTS - 1)) + 1;
}

/* Pushes the len bytes at s, which are the model string of the cache's slot. */
static void s_push_cached(struct text_reader *r, int slot, const char *s, size_t len)
{
    lua_State *L = r->L;
    if (lua_rawgeti(L, r->names, slot) == LUA_TSTRING) {
        size_t n;
        const char *c = lua_tolstring(L, -1, &n);
        if (n == len && memcmp(c, s, len) == 0)
            return;
    }
    lua_pop(L, 1);
    lua_pushlstring(L, s, len);
    lua_pushvalue(L, -1);
    lua_rawseti(L, r->names, slot);
}

/* Pushes a structure's key: the len bytes at key, which name member m (NULL: not a member).
 * has_nul: the key holds a NUL (\\u0000), so it matched m only up to it and is not m's name. */
static void s_text_push_key(struct text_reader *r, const struct model_member *m, const char *key,
                            size_t len, int has_nul)
{
    if (!m || !r->names || has_nul)
        lua_pushlstring(r->L, key, len);
    else
        s_push_cached(r, s_member_slot(m), key, len);
}

/* Pushes a string value of shape (which has enum values): from the cache when it is one of
 * them (the very bytes: a value with a NUL is none), else interned as any string. */
static void s_text_push_enum(struct text_reader *r, const struct model_shape *shape, const char *s,
                             size_t len)
{
    for (size_t i = 0; len && r->names && i < shape->enum_count; i++) {
        const char *e = shape->enum_values[i];
        size_t j = 0;
        while (j < len && e[j] == s[j] && e[j])
            j++;
        if (j == len && e[len] == '\0') {
            s_push_cached(r, s_enum_slot(&shape->enum_values[i]), s, len);
            return;
        }
    }
    lua_pushlstring(r->L, s, len);
}

static void s_text_ws(struct text_reader *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
        r->p++;
}

static unsigned s_hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static void s_put_utf8(struct buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_append(b, u, n);
}

/* The first '"' or '\\' at or after q: the text is checked (no raw control bytes in its
 * strings, every string closed before the end), so json_string_stop finds just these. */
static const char *s_text_stop(const char *q, const char *end) { return json_string_stop(q, end); }

/* At the opening quote of a string; sets *s and *len to its contents (in the text itself when
 * it has no escapes, else in the scratch buffer) and moves past the closing quote. */
static void s_text_string(struct text_reader *r, const char **s, size_t *len)
{
    const char *start = ++r->p, *q = s_text_stop(start, r->end);
    if (*q == '"') {
        *s = start;
        *len = (size_t)(q - start);
        r->p = q + 1;
        return;
    }
    struct buf *b = r->scratch;
    buf_reset(b);
    buf_append(b, start, (size_t)(q - start));
    while (*q != '"') {
        if (*q != '\\') {
            const char *run = q;
            q = s_text_stop(q, r->end);
            buf_append(b, run, (size_t)(q - run));
            continue;
        }
        q++;
        char c = *q++;
        switch (c) {
        case 'b': buf_putc(b, '\b'); break;
        case 'f': buf_putc(b, '\f'); break;
        case 'n': buf_putc(b, '\n'); break;
        case 'r': buf_putc(b, '\r'); break;
        case 't': buf_putc(b, '\t'); break;
        case 'u': {
            unsigned cp = s_hex4(q);
            q += 4;
            /* A high surrogate followed by a low one is one code point; a lone half is kept
             * as its own (three-byte) sequence rather than refusing the whole response. */
            if (cp >= 0xd800 && cp <= 0xdbff && q[0] == '\\' && q[1] == 'u') {
                unsigned lo = s_hex4(q + 2);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    q += 6;
                }
            }
            s_put_utf8(b, cp);
            break;
        }
        default: buf_putc(b, c); break; /* \" \\ \/ */
        }
    }
    r->p = q + 1;
    if (buf_failed(b))
        luaL_error(r->L, "not enough memory");
    *s = b->data ? b->data : "";
    *len = b->len;
}

static int s_text_is_null(const struct text_reader *r) { return r->p[0] == 'n'; }

static void s_text_value(struct text_reader *r, const struct model_shape *shape, int depth);

static void s_text_number(struct text_reader *r, const struct model_shape *shape)
{
    const char *start = r->p;
    /* Most numbers are plain integers: up to 15 digits are below 2^53, so the double made
     * here is exactly the one strtod would make. -0 takes strtod's path (it keeps the sign). */
    const char *q = start + (*start == '-');
    const char *digits = q;
    int64_t v = 0;
    while (*q >= '0' && *q <= '9' && q - digits < 16)
        v = v * 10 + (*q++ - '0');
    if (q - digits <= 15 && *q != '.' && *q != 'e' && *q != 'E' && !(*q >= '0' && *q <= '9') &&
        !(v == 0 && *start == '-')) {
        r->p = q;
        s_push_number(r->L, (double)(*start == '-' ? -v : v), shape);
        return;
    }
    while ((*r->p >= '0' && *r->p <= '9') || *r->p == '-' || *r->p == '+' || *r->p == '.' ||
           *r->p == 'e' || *r->p == 'E')
        r->p++;
    /* strtod as cJSON reads numbers, with the locale's decimal point as cJSON puts it in (a
     * host may have called setlocale), so the value is the one s_push_json would push. A
     * number too long for the stack buffer (valid JSON, if unusual) is read whole from the
     * scratch buffer, which holds nothing else now: a member's key is already on the stack. */
    char tmp[64];
    char *text = tmp;
    size_t n = (size_t)(r->p - start);
    if (n < sizeof tmp) {
        memcpy(tmp, start, n);
        tmp[n] = '\0';
    } else {
        buf_reset(r->scratch);
        buf_append(r->scratch, start, n);
        if (buf_failed(r->scratch))
            luaL_error(r->L, "not enough memory");
        text = r->scratch->data;
    }
    char point = localeconv()->decimal_point[0];
    if (point != '.') {
        char *dot = strchr(text, '.');
        if (dot)
            *dot = point;
    }
    s_push_number(r->L, strtod(text, NULL), shape);
}

/* The member of a structure a key names, as model_find_member(shape, key) finds it (the key
 * as a C string: up to its first NUL). The search starts at *next, past the member found
 * last: a service writes members in the model's order, so each key is usually found at the
 * first try. */
static const struct model_member *s_text_member(const struct model_shape *shape, const char *key,
                                                size_t len, int has_nul, size_t *next)
{
    size_t n = shape->member_count;
    for (size_t k = 0, i = *next; k < n; k++, i = i + 1 < n ? i + 1 : 0) {
        const char *name = shape->members[i].name;
        int same;
        if (name[0] != key[0]) {
            same = 0; /* most misses end here (an empty key's byte is never a name's first) */
        } else if (!has_nul) {
            /* strncmp stops at the name's end; equal over len bytes of a key without a NUL
             * means the name is at least that long, so name[len] is inside it. */
            same = strncmp(name, key, len) == 0 && name[len] == '\0';
        } else {
            size_t j = 0;
            while (j < len && key[j] && name[j] == key[j])
                j++;
            same = name[j] == '\0' && (j == len || key[j] == '\0');
        }
        if (same) {
            *next = i + 1 < n ? i + 1 : 0;
            return &shape->members[i];
        }
    }
    return NULL;
}

static void s_text_value(struct text_reader *r, const struct model_shape *shape, int depth)
{
    lua_State *L = r->L;
    if (depth > MAX_DEPTH)
        luaL_error(L, "response nested too deeply");
    s_text_ws(r);
    char c = *r->p;
    /* A container holds its table, a key and a value on the stack; a scalar fits in that. */
    if (c == '{' || c == '[')
        luaL_checkstack(L, 4, "response nested too deeply");
    if (c == '{') {
        /* A structure's member count is a free upper bound: no rehash while it fills. */
        int is_structure = shape && shape->type == MT_STRUCTURE;
        size_t next = 0;
        lua_createtable(L, 0, is_structure ? (int)shape->member_count : 0);
        r->p++;
        s_text_ws(r);
        while (*r->p != '}') {
            const char *key;
            size_t key_len;
            s_text_string(r, &key, &key_len);
            s_text_ws(r);
            r->p++; /* ':' */
            s_text_ws(r);
            if (s_text_is_null(r)) {
                r->p += 4;
            } else {
                /* The key is pushed before the value is read: the value may reuse the
                 * scratch buffer the key is in. */
                const struct model_shape *member_shape = NULL;
                if (is_structure) {
                    /* A key read from the text itself holds no NUL (the text is checked: no
                     * raw control bytes); one with escapes, unescaped into the scratch
                     * buffer, may (\u0000). */
                    int has_nul = key == r->scratch->data && memchr(key, '\0', key_len) != NULL;
                    const struct model_member *m =
                        s_text_member(shape, key, key_len, has_nul, &next);
                    s_text_push_key(r, m, key, key_len, has_nul);
                    member_shape = m ? m->shape : NULL;
                } else {
                    lua_pushlstring(L, key, key_len);
                    if (shape && shape->type == MT_MAP)
                        member_shape = shape->member_shape;
                }
                s_text_value(r, member_shape, depth + 1);
                lua_rawset(L, -3);
            }
            s_text_ws(r);
            if (*r->p == ',') {
                r->p++;
                s_text_ws(r);
            }
        }
        r->p++;
    } else if (c == '[') {
        lua_createtable(L, 0, 0);
        const struct model_shape *elem =
            shape && shape->type == MT_LIST ? shape->member_shape : NULL;
        lua_Integer n = 0;
        r->p++;
        s_text_ws(r);
        while (*r->p != ']') {
            if (s_text_is_null(r)) {
                r->p += 4;
            } else {
                s_text_value(r, elem, depth + 1);
                lua_seti(L, -2, ++n);
            }
            s_text_ws(r);
            if (*r->p == ',') {
                r->p++;
                s_text_ws(r);
            }
        }
        r->p++;
    } else if (c == '"') {
        const char *str;
        size_t len;
        s_text_string(r, &str, &len);
        if (shape && shape->enum_count)
            s_text_push_enum(r, shape, str, len);
        else
            lua_pushlstring(L, str, len);
    } else if (c == 't') {
        lua_pushboolean(L, 1);
        r->p += 4;
    } else if (c == 'f') {
        lua_pushboolean(L, 0);
        r->p += 5;
    } else {
        s_text_number(r, shape);
    }
}

/* Pushes the name cache (upvalue 1 of the running C function) and returns its stack
 * index, or 0 when the upvalue is not a table (debug.setupvalue can change it). On the stack
 * it stays the same table whatever Lua code runs meanwhile (a finalizer, say). */
static int s_names(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    return lua_gettop(L);
}

void ivs_lua_push_text(lua_State *L, const struct model_operation *op, const char *text, size_t len,
                       struct buf *scratch, int names)
{
    if (!len) {
        lua_newtable(L);
        return;
    }
    struct text_reader r = {L, text, text + len, scratch, names ? lua_absindex(L, names) : 0};
    s_text_value(&r, op ? op->output : NULL, 0);
}

/* ---------------------------------------------------------------------------------------
 * Generic JSON (core.json_encode / core.json_decode), for tools such as scripts/ivs
 *
 * No model here, so a table's keys decide: a sequence is an array, string keys make an
 * object, and an empty table is an object unless its metatable is the array marker
 * (registry JSON_ARRAY_MT, exported as core.json_array_mt), which the decoder also puts on
 * every array it makes so that `[]` survives a round trip. Object keys are written sorted
 * (byte order), so the same value always gives the same text.
 * ------------------------------------------------------------------------------------- */

#define JSON_ARRAY_MT "ivs.JsonArray"
#define BUF_MT "ivs.JsonBuf"
/* Deeper than this is certainly a cycle when encoding; when decoding it is refused. */
#define JSON_MAX_DEPTH 256

static int l_jsonbuf_gc(lua_State *L)
{
    buf_free(luaL_checkudata(L, 1, BUF_MT));
    return 0;
}

struct json_writer {
    lua_State *L;
    struct buf *out;
    int pretty;
};

static void s_json_newline(struct json_writer *w, int depth)
{
    if (!w->pretty)
        return;
    buf_putc(w->out, '\n');
    for (int i = 0; i < depth; i++)
        buf_puts(w->out, "    ");
}

static void s_json_string(struct buf *out, const char *s, size_t len)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': buf_puts(out, "\\\""); break;
        case '\\': buf_puts(out, "\\\\"); break;
        case '\n': buf_puts(out, "\\n"); break;
        case '\r': buf_puts(out, "\\r"); break;
        case '\t': buf_puts(out, "\\t"); break;
        case '\b': buf_puts(out, "\\b"); break;
        case '\f': buf_puts(out, "\\f"); break;
        default:
            if (c < 0x20)
                buf_printf(out, "\\u%04x", c);
            else
                buf_putc(out, (char)c);
        }
    }
    buf_putc(out, '"');
}

static int s_is_array_marked(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return 0;
    luaL_getmetatable(L, JSON_ARRAY_MT);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

struct json_key {
    const char *s;
    size_t len;
};

static int s_key_cmp(const void *a, const void *b)
{
    const struct json_key *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static void s_json_value(struct json_writer *w, int idx, int depth);

static void s_json_table(struct json_writer *w, int idx, int depth)
{
    lua_State *L = w->L;
    if (depth >= JSON_MAX_DEPTH)
        luaL_error(L, "json_encode: nested too deeply (a table that contains itself?)");
    luaL_checkstack(L, 6, "json_encode: nested too deeply");
    struct key_census kc = s_census(L, idx);
    if (kc.integers == 0 && kc.strings == 0 && kc.others == 0) {
        buf_puts(w->out, s_is_array_marked(L, idx) ? "[]" : "{}");
        return;
    }
    if (!kc.strings && !kc.others && (size_t)kc.max_int == kc.integers) {
        buf_putc(w->out, '[');
        for (lua_Integer i = 1; i <= kc.max_int; i++) {
            if (i > 1)
                buf_putc(w->out, ',');
            s_json_newline(w, depth + 1);
            lua_rawgeti(L, idx, i);
            s_json_value(w, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
        }
        s_json_newline(w, depth);
        buf_putc(w->out, ']');
        return;
    }
    if (kc.integers || kc.others)
        luaL_error(L, "json_encode: a table must be either a sequence or have only string keys");

    /* Allocating the arrays below can run finalizers, and one may add keys to the table or
     * remove them: the census is only an upper bound, checked at every key, and every key
     * is anchored in a table of ours so that no pointer in keys[] outlives its string. */
    struct json_key *keys = lua_newuserdatauv(L, kc.strings * sizeof *keys, 0);
    lua_createtable(L, kc.strings > INT_MAX ? INT_MAX : (int)kc.strings, 0);
    int anchor = lua_gettop(L);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (n == kc.strings || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "json_encode: the table changed while it was encoded (a finalizer?)");
        lua_pushvalue(L, -1);
        lua_rawseti(L, anchor, (lua_Integer)n + 1);
        keys[n].s = lua_tolstring(L, -1, &keys[n].len);
        if (strlen(keys[n].s) != keys[n].len)
            luaL_error(L, "json_encode: keys must not contain NUL bytes");
        n++;
    }
    qsort(keys, n, sizeof *keys, s_key_cmp);
    buf_putc(w->out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(w->out, ',');
        s_json_newline(w, depth + 1);
        s_json_string(w->out, keys[i].s, keys[i].len);
        buf_puts(w->out, w->pretty ? ": " : ":");
        lua_pushlstring(L, keys[i].s, keys[i].len);
        lua_rawget(L, idx);
        s_json_value(w, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
    s_json_newline(w, depth);
    buf_putc(w->out, '}');
    lua_pop(L, 2); /* keys and their anchor */
}

static void s_json_value(struct json_writer *w, int idx, int depth)
{
    lua_State *L = w->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: buf_puts(w->out, "null"); break;
    case LUA_TBOOLEAN: buf_puts(w->out, lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            buf_printf(w->out, "%lld", (long long)lua_tointeger(L, idx));
        } else {
            double d = lua_tonumber(L, idx);
            if (!isfinite(d))
                luaL_error(L, "json_encode: numbers must be finite (JSON has no NaN or infinity)");
            /* The shortest of these that reads back as the same double. */
            char tmp[40];
            snprintf(tmp, sizeof tmp, "%.15g", d);
            if (strtod(tmp, NULL) != d)
                snprintf(tmp, sizeof tmp, "%.17g", d);
            buf_puts(w->out, tmp);
        }
        break;
    case LUA_TSTRING: {
        size_t len = 0;
        const char *s = lua_tolstring(L, idx, &len);
        s_json_string(w->out, s, len);
        break;
    }
    case LUA_TTABLE: s_json_table(w, idx, depth); break;
    case LUA_TLIGHTUSERDATA:
        /* ivs.json.null, the one light userdata a caller can hold that means JSON null. */
        if (lua_touserdata(L, idx) == NULL) {
            buf_puts(w->out, "null");
            break;
        }
        /* fall through */
    default:
        luaL_error(L,
                   "json_encode: cannot encode a %s (JSON takes nil, ivs.json.null, booleans, "
                   "numbers, strings and tables)",
                   luaL_typename(L, idx));
    }
}

static int l_json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 2);
    struct json_writer w = {L, NULL, lua_toboolean(L, 2)};
    w.out = lua_newuserdatauv(L, sizeof *w.out, 0); /* freed by __gc even if encoding raises */
    memset(w.out, 0, sizeof *w.out);
    luaL_setmetatable(L, BUF_MT);
    s_json_value(&w, 1, 0);
    if (buf_failed(w.out))
        return luaL_error(L, "not enough memory");
    lua_pushlstring(L, buf_str(w.out), w.out->len);
    buf_free(w.out);
    return 1;
}

/* Pushes the Lua form of a cJSON tree without a model (for the core's own JSON texts, such as
 * client:identity()). null_idx: the stack index of the value that stands for JSON null, or 0
 * to leave nulls out (an absent key; a dropped array element). */
static void s_push_plain_json(lua_State *L, const cJSON *j, int null_idx)
{
    luaL_checkstack(L, 4, "json_decode: nested too deeply");
    const cJSON *child;
    if (cJSON_IsObject(j)) {
        lua_createtable(L, 0, cJSON_GetArraySize(j));
        cJSON_ArrayForEach(child, j)
        {
            if ((cJSON_IsNull(child) && !null_idx) || !child->string)
                continue;
            s_push_plain_json(L, child, null_idx);
            lua_setfield(L, -2, child->string);
        }
    } else if (cJSON_IsArray(j)) {
        lua_createtable(L, cJSON_GetArraySize(j), 0);
        luaL_setmetatable(L, JSON_ARRAY_MT);
        lua_Integer n = 0;
        cJSON_ArrayForEach(child, j)
        {
            if (cJSON_IsNull(child) && !null_idx)
                continue;
            s_push_plain_json(L, child, null_idx);
            lua_seti(L, -2, ++n);
        }
    } else if (cJSON_IsString(j)) {
        lua_pushstring(L, j->valuestring);
    } else if (cJSON_IsNumber(j)) {
        s_push_number(L, j->valuedouble, NULL);
    } else if (cJSON_IsBool(j)) {
        lua_pushboolean(L, cJSON_IsTrue(j));
    } else if (null_idx) {
        lua_pushvalue(L, null_idx);
    } else {
        lua_pushnil(L);
    }
}

/* The decoder reads the text straight into Lua values (no cJSON in between, whose strings
 * end at the first NUL): "\u0000" survives inside a string, integers that fit are exact
 * lua_Integers, and a number that does not fit a double (1e999) is refused rather than made
 * infinite. Errors name the line and column, never quote the text (it may hold a secret). */
struct json_reader {
    lua_State *L;
    const char *text;
    size_t len, pos;
    const char *error; /* set by the first failure; the caller turns it into nil, err */
    size_t error_at;
    int null_idx; /* stack index of the value standing for JSON null, 0 = leave nulls out */
};

static int s_jr_fail(struct json_reader *r, const char *what)
{
    if (!r->error) {
        r->error = what;
        r->error_at = r->pos;
    }
    return 0;
}

static void s_jr_ws(struct json_reader *r)
{
    while (r->pos < r->len) {
        char c = r->text[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        r->pos++;
    }
}

static int s_jr_hex4(struct json_reader *r, unsigned *out)
{
    if (r->len - r->pos < 4)
        return s_jr_fail(r, "a \\u escape needs four hex digits");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = r->text[r->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return s_jr_fail(r, "a \\u escape needs four hex digits");
    }
    *out = v;
    return 1;
}

static void s_jr_utf8(luaL_Buffer *b, unsigned cp)
{
    if (cp < 0x80) {
        luaL_addchar(b, (char)cp);
    } else if (cp < 0x800) {
        luaL_addchar(b, (char)(0xC0 | (cp >> 6)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        luaL_addchar(b, (char)(0xE0 | (cp >> 12)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        luaL_addchar(b, (char)(0xF0 | (cp >> 18)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Pushes the string starting at the opening quote (on success only). */
static int s_jr_string(struct json_reader *r)
{
    luaL_Buffer b;
    r->pos++; /* the quote */
    luaL_buffinit(r->L, &b);
    for (;;) {
        if (r->pos >= r->len) {
            luaL_pushresult(&b);
            lua_pop(r->L, 1);
            return s_jr_fail(r, "unterminated string");
        }
        size_t start = r->pos;
        while (r->pos < r->len && r->text[r->pos] != '"' && r->text[r->pos] != '\\' &&
               (unsigned char)r->text[r->pos] >= 0x20)
            r->pos++;
        luaL_addlstring(&b, r->text + start, r->pos - start);
        if (r->pos >= r->len)
            continue;
        char c = r->text[r->pos];
        if (c == '"') {
            r->pos++;
            luaL_pushresult(&b);
            return 1;
        }
        if (c != '\\') {
            luaL_pushresult(&b);
            lua_pop(r->L, 1);
            return s_jr_fail(r, "control character in a string");
        }
        r->pos++;
        char e = r->pos < r->len ? r->text[r->pos++] : '\0';
        unsigned cp = 0;
        switch (e) {
        case '"': luaL_addchar(&b, '"'); break;
        case '\\': luaL_addchar(&b, '\\'); break;
        case '/': luaL_addchar(&b, '/'); break;
        case 'b': luaL_addchar(&b, '\b'); break;
        case 'f': luaL_addchar(&b, '\f'); break;
        case 'n': luaL_addchar(&b, '\n'); break;
        case 'r': luaL_addchar(&b, '\r'); break;
        case 't': luaL_addchar(&b, '\t'); break;
        case 'u':
            if (!s_jr_hex4(r, &cp))
                break;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo = 0;
                if (r->len - r->pos < 2 || r->text[r->pos] != '\\' || r->text[r->pos + 1] != 'u') {
                    s_jr_fail(r, "a high surrogate must be followed by a low one");
                    break;
                }
                r->pos += 2;
                if (!s_jr_hex4(r, &lo))
                    break;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    s_jr_fail(r, "a high surrogate must be followed by a low one");
                    break;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                s_jr_fail(r, "a low surrogate without a high one");
                break;
            }
            s_jr_utf8(&b, cp);
            break;
        default: s_jr_fail(r, "invalid escape in a string");
        }
        if (r->error) {
            luaL_pushresult(&b);
            lua_pop(r->L, 1);
            return 0;
        }
    }
}

static int s_jr_number(struct json_reader *r)
{
    size_t start = r->pos;
    const char *t = r->text;
    int integral = 1;
    if (r->pos < r->len && t[r->pos] == '-')
        r->pos++;
    if (r->pos < r->len && t[r->pos] == '0') {
        r->pos++;
    } else if (r->pos < r->len && t[r->pos] >= '1' && t[r->pos] <= '9') {
        while (r->pos < r->len && t[r->pos] >= '0' && t[r->pos] <= '9')
            r->pos++;
    } else {
        return s_jr_fail(r, "invalid value");
    }
    if (r->pos < r->len && t[r->pos] == '.') {
        integral = 0;
        r->pos++;
        if (r->pos >= r->len || t[r->pos] < '0' || t[r->pos] > '9')
            return s_jr_fail(r, "a digit must follow the decimal point");
        while (r->pos < r->len && t[r->pos] >= '0' && t[r->pos] <= '9')
            r->pos++;
    }
    if (r->pos < r->len && (t[r->pos] == 'e' || t[r->pos] == 'E')) {
        integral = 0;
        r->pos++;
        if (r->pos < r->len && (t[r->pos] == '+' || t[r->pos] == '-'))
            r->pos++;
        if (r->pos >= r->len || t[r->pos] < '0' || t[r->pos] > '9')
            return s_jr_fail(r, "a digit must follow the exponent");
        while (r->pos < r->len && t[r->pos] >= '0' && t[r->pos] <= '9')
            r->pos++;
    }
    char tmp[64];
    size_t n = r->pos - start;
    if (n >= sizeof tmp) {
        /* Longer than any double needs: only its magnitude matters, so parse a heap copy. */
        char *copy = lua_newuserdatauv(r->L, n + 1, 0);
        memcpy(copy, t + start, n);
        copy[n] = '\0';
        double d = strtod(copy, NULL);
        lua_pop(r->L, 1);
        if (!isfinite(d)) {
            r->pos = start;
            return s_jr_fail(r, "number too large for a double");
        }
        s_push_number(r->L, d, NULL);
        return 1;
    }
    memcpy(tmp, t + start, n);
    tmp[n] = '\0';
    if (integral) {
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == 0) {
            lua_pushinteger(r->L, (lua_Integer)v);
            return 1;
        }
    }
    double d = strtod(tmp, NULL);
    if (!isfinite(d)) {
        r->pos = start;
        return s_jr_fail(r, "number too large for a double");
    }
    s_push_number(r->L, d, NULL);
    return 1;
}

static int s_jr_literal(struct json_reader *r, const char *word)
{
    size_t n = strlen(word);
    if (r->len - r->pos < n || memcmp(r->text + r->pos, word, n) != 0)
        return s_jr_fail(r, "invalid value");
    r->pos += n;
    return 1;
}

/* Pushes one value (JSON null as nil); returns 0 on failure with nothing pushed. */
static int s_jr_value(struct json_reader *r, int depth)
{
    lua_State *L = r->L;
    s_jr_ws(r);
    if (r->pos >= r->len)
        return s_jr_fail(r, "unexpected end of text");
    char c = r->text[r->pos];
    if (c == '{' || c == '[') {
        if (depth >= JSON_MAX_DEPTH)
            return s_jr_fail(r, "nested too deeply");
        luaL_checkstack(L, 4, "json_decode: nested too deeply");
        int is_array = c == '[';
        char close = is_array ? ']' : '}';
        r->pos++;
        lua_newtable(L);
        if (is_array)
            luaL_setmetatable(L, JSON_ARRAY_MT);
        int t = lua_gettop(L);
        lua_Integer n = 0;
        s_jr_ws(r);
        if (r->pos < r->len && r->text[r->pos] == close) {
            r->pos++;
            return 1;
        }
        for (;;) {
            if (!is_array) {
                s_jr_ws(r);
                if (r->pos >= r->len || r->text[r->pos] != '"') {
                    lua_settop(L, t - 1);
                    return s_jr_fail(r, "expected a member name");
                }
                if (!s_jr_string(r)) {
                    lua_settop(L, t - 1);
                    return 0;
                }
                s_jr_ws(r);
                if (r->pos >= r->len || r->text[r->pos] != ':') {
                    lua_settop(L, t - 1);
                    return s_jr_fail(r, "expected ':'");
                }
                r->pos++;
            }
            if (!s_jr_value(r, depth + 1)) {
                lua_settop(L, t - 1);
                return 0;
            }
            /* null (without the null option): an absent member, a dropped element */
            if (lua_isnil(L, -1))
                lua_settop(L, t);
            else if (is_array)
                lua_rawseti(L, t, ++n);
            else
                lua_rawset(L, t);
            s_jr_ws(r);
            if (r->pos < r->len && r->text[r->pos] == ',') {
                r->pos++;
                continue;
            }
            if (r->pos < r->len && r->text[r->pos] == close) {
                r->pos++;
                return 1;
            }
            lua_settop(L, t - 1);
            return s_jr_fail(r, is_array ? "expected ',' or ']'" : "expected ',' or '}'");
        }
    }
    if (c == '"')
        return s_jr_string(r);
    if (c == 't') {
        if (!s_jr_literal(r, "true"))
            return 0;
        lua_pushboolean(L, 1);
        return 1;
    }
    if (c == 'f') {
        if (!s_jr_literal(r, "false"))
            return 0;
        lua_pushboolean(L, 0);
        return 1;
    }
    if (c == 'n') {
        if (!s_jr_literal(r, "null"))
            return 0;
        if (r->null_idx)
            lua_pushvalue(L, r->null_idx);
        else
            lua_pushnil(L);
        return 1;
    }
    return s_jr_number(r);
}

static int l_json_decode(lua_State *L)
{
    size_t len = 0;
    const char *text = luaL_checklstring(L, 1, &len);
    /* Options: { null = value } keeps JSON nulls as that value (ivs.json.null, usually). The
     * value is anchored at index 2 for the whole decode. */
    int null_idx = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "null");
        lua_replace(L, 2);
        if (!lua_isnil(L, 2))
            null_idx = 2;
    }
    lua_settop(L, 2);
    struct json_reader r = {L, text, len, 0, NULL, 0, null_idx};
    if (s_jr_value(&r, 0)) {
        s_jr_ws(&r);
        if (r.pos == r.len)
            return 1;
        lua_pop(L, 1);
        s_jr_fail(&r, "unexpected text after the value");
    }
    int line = 1, column = 1;
    for (size_t i = 0; i < r.error_at && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    struct call_frame *f = s_new_frame(L);
    if (strcmp(r.error, "nested too deeply") == 0)
        ivs_error_set(&f->err, IVS_ERR_VALIDATION, "InvalidJSON",
                      "JSON nested more than %d levels deep (line %d, column %d)", JSON_MAX_DEPTH,
                      line, column);
    else
        ivs_error_set(&f->err, IVS_ERR_VALIDATION, "InvalidJSON",
                      "not valid JSON: %s (line %d, column %d)", r.error, line, column);
    lua_pushnil(L);
    ivs_lua_push_error(L, &f->err, NULL);
    return 2;
}

/* ---------------------------------------------------------------------------------------
 * The client
 * ------------------------------------------------------------------------------------- */

static struct lclient *s_check_client(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, CLIENT_MT);
}

static struct lclient *s_check_open_client(lua_State *L, int idx)
{
    struct lclient *lc = s_check_client(L, idx);
    if (!lc->client) {
        lua_pushliteral(L, "attempt to use a closed " CLIENT_MT);
        lua_error(L);
    }
    return lc;
}

/* An open client that is not in the middle of a core call. lc->L is set only while the core
 * runs, so finding it set here means the client's own log function is calling back into it;
 * calling, starting, polling or cancelling then would free or reuse the call the core is still
 * working on. */
static struct lclient *s_check_idle_client(lua_State *L, int idx)
{
    struct lclient *lc = s_check_open_client(L, idx);
    if (lc->L) {
        lua_pushliteral(L, "a client cannot be used from inside its own log function");
        lua_error(L);
    }
    return lc;
}

/* Runs inside lua_pcall so that nothing the log function does (or a memory error while
 * pushing the line) can longjmp through the core. */
static int l_log_trampoline(lua_State *L)
{
    const struct lclient *lc = lua_touserdata(L, 1);
    const char *line = lua_touserdata(L, 2);
    enum ivs_log_level level = (enum ivs_log_level)lua_tointeger(L, 3);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lc->log_ref);
    lua_pushstring(L, line);
    lua_pushstring(L, s_log_level_name(level));
    lua_call(L, 2, 0);
    return 0;
}

static void s_log_hook(void *ud, enum ivs_log_level level, const char *line)
{
    struct lclient *lc = ud;
    lua_State *L = lc->L;
    if (!L || lc->log_ref == LUA_NOREF || !lua_checkstack(L, 6))
        return;
    lua_pushcfunction(L, l_log_trampoline);
    lua_pushlightuserdata(L, lc);
    lua_pushlightuserdata(L, (void *)line);
    lua_pushinteger(L, level);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK)
        lua_pop(L, 1); /* a failing log function must not fail the request */
}

/* Runs inside lua_pcall: calls the mfa_token function with the device serial and copies the
 * string it returns into the core's buffer. */
static int l_mfa_trampoline(lua_State *L)
{
    const struct lclient *lc = lua_touserdata(L, 1);
    const char *serial = lua_touserdata(L, 2);
    char *code = lua_touserdata(L, 3);
    size_t size = (size_t)lua_tointeger(L, 4);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lc->mfa_ref);
    lua_pushstring(L, serial);
    lua_call(L, 1, 1);
    size_t len = 0;
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (!v || len == 0 || len >= size || strlen(v) != len)
        return 0; /* no usable code: the core reports MfaTokenRequired */
    memcpy(code, v, len + 1);
    return 0;
}

static int s_mfa_hook(void *ud, const char *serial, char *code, size_t size)
{
    struct lclient *lc = ud;
    lua_State *L = lc->L;
    code[0] = '\0';
    if (!L || lc->mfa_ref == LUA_NOREF || !lua_checkstack(L, 8))
        return 1;
    lua_pushcfunction(L, l_mfa_trampoline);
    lua_pushlightuserdata(L, lc);
    lua_pushlightuserdata(L, (void *)serial);
    lua_pushlightuserdata(L, code);
    lua_pushinteger(L, (lua_Integer)size);
    if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
        lua_pop(L, 1); /* an error in the function means no code: the error says so */
        return 1;
    }
    return code[0] ? 0 : 1;
}

/* The one destroy behind close(), __close and __gc: idempotent. */
static void s_destroy(lua_State *L, struct lclient *lc)
{
    if (lc->client) {
        ivs_client_free(lc->client);
        lc->client = NULL;
    }
    if (lc->log_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, lc->log_ref);
        lc->log_ref = LUA_NOREF;
    }
    if (lc->mfa_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, lc->mfa_ref);
        lc->mfa_ref = LUA_NOREF;
    }
    if (lc->frame_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, lc->frame_ref);
        lc->frame_ref = LUA_NOREF;
    }
    lc->spare = NULL;
    lc->L = NULL;
}

/* A string option of the table at t. The value is stored in the anchor table (ours, at
 * index `anchor`) before its pointer is returned: it may come from an __index that nothing
 * else references, or a later __index or log function may remove it from the options table,
 * and either way the collector could free it while the core still reads it. */
static const char *s_opt_string(lua_State *L, int t, int anchor, const char *name)
{
    int ty = lua_getfield(L, t, name);
    const char *s = NULL;
    if (ty == LUA_TSTRING) {
        size_t len = 0;
        s = lua_tolstring(L, -1, &len);
        /* C would silently cut the value at the NUL. */
        if (strlen(s) != len)
            luaL_error(L, "option '%s' must not contain a NUL byte", name);
        lua_setfield(L, anchor, name);
    } else {
        if (ty != LUA_TNIL)
            luaL_error(L, "option '%s' must be a string, got %s", name, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    return s;
}

/* A number of seconds: positive, finite and at most opt->max (the table's limit, which the C
 * library checks too). */
static double s_opt_number(lua_State *L, int t, const struct ivs_option *opt)
{
    int ty = lua_getfield(L, t, opt->name);
    double d = 0;
    if (ty == LUA_TNUMBER) {
        d = lua_tonumber(L, -1);
        if (!(d > 0) || !isfinite(d) || d > (double)opt->max)
            luaL_error(L, "option '%s' must be a positive number of seconds up to %d", opt->name,
                       (int)opt->max);
    } else if (ty != LUA_TNIL) {
        luaL_error(L, "option '%s' must be a number, got %s", opt->name, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return d;
}

/* Booleans as the core's tri-state: nil = 0 (resolve), true = 1, false = -1. */
static int s_opt_tristate(lua_State *L, int t, const char *name)
{
    int ty = lua_getfield(L, t, name);
    int v = 0;
    if (ty == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1) ? 1 : -1;
    else if (ty != LUA_TNIL)
        luaL_error(L, "option '%s' must be a boolean, got %s", name, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* An integer option, checked against its range in the one option table (core/src/options.c),
 * which ivs.lua and the C library check against too; 0 (the default) when absent. */
static int s_opt_count(lua_State *L, int t, const struct ivs_option *opt)
{
    int ty = lua_getfield(L, t, opt->name);
    lua_Integer v = 0;
    if (ty == LUA_TNUMBER) {
        v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        if (!lua_isinteger(L, -1) || v < opt->min || v > opt->max)
            luaL_error(L, "option '%s' must be an integer from %d to %d", opt->name, (int)opt->min,
                       (int)opt->max);
    } else if (ty != LUA_TNIL) {
        luaL_error(L, "option '%s' must be an integer, got %s", opt->name, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return (int)v;
}

/* Fills the fields of o from the options table at index t, row by row of the one option
 * table; strings are anchored in the table at index anchor (see s_opt_string). The rows
 * without a field (log, mfa_token, credentials...) are l_new_client's or ivs.lua's. */
static void s_fill_options(lua_State *L, int t, int anchor, struct ivs_client_options *o)
{
    for (size_t i = 0; i < ivs_option_count; i++) {
        const struct ivs_option *opt = &ivs_options[i];
        char *field = (char *)o + opt->offset;
        switch (opt->kind) {
        case IVS_OPT_STRING: {
            const char *v = s_opt_string(L, t, anchor, opt->name);
            memcpy(field, &v, sizeof v);
            break;
        }
        case IVS_OPT_FLAG: {
            int v = s_opt_tristate(L, t, opt->name) > 0;
            memcpy(field, &v, sizeof v);
            break;
        }
        case IVS_OPT_TRISTATE: {
            int v = s_opt_tristate(L, t, opt->name);
            memcpy(field, &v, sizeof v);
            break;
        }
        case IVS_OPT_SECONDS: {
            double v = s_opt_number(L, t, opt);
            memcpy(field, &v, sizeof v);
            break;
        }
        case IVS_OPT_COUNT: {
            int v = s_opt_count(L, t, opt);
            memcpy(field, &v, sizeof v);
            break;
        }
        case IVS_OPT_NONE: break;
        }
    }
}

/* core.new_client(opts): opts is the flat table ivs.lua builds (see ivs.new for the names).
 * Wrong option types raise; failures of the core (no region...) return nil, err. */
static int l_new_client(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_newtable(L); /* index 2: anchors the option strings (see s_opt_string) */

    struct ivs_client_options o;
    ivs_client_options_init(&o);
    s_fill_options(L, 1, 2, &o);
    int ty = lua_getfield(L, 1, "log"); /* stays at index 3 */
    if (ty != LUA_TNIL && ty != LUA_TFUNCTION)
        return luaL_error(L, "option 'log' must be a function, got %s", luaL_typename(L, -1));
    int mfa_ty = lua_getfield(L, 1, "mfa_token"); /* stays at index 4 */
    if (mfa_ty != LUA_TNIL && mfa_ty != LUA_TFUNCTION)
        return luaL_error(L, "option 'mfa_token' must be a function, got %s", luaL_typename(L, -1));

    struct lclient *lc = lua_newuserdatauv(L, sizeof *lc, 0);
    lc->client = NULL;
    lc->L = NULL;
    lc->log_ref = LUA_NOREF;
    lc->mfa_ref = LUA_NOREF;
    lc->frame_ref = LUA_NOREF;
    lc->spare = NULL;
    lc->last_op = NULL;
    luaL_setmetatable(L, CLIENT_MT);
    if (mfa_ty == LUA_TFUNCTION) {
        lua_pushvalue(L, 4);
        lc->mfa_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        o.mfa_token = s_mfa_hook;
        o.mfa_token_ud = lc;
    }
    if (ty == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        lc->log_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        o.log = s_log_hook;
        o.log_ud = lc;
    }

    struct call_frame *f = s_new_frame(L);
    lc->L = L;
    enum ivs_status st = ivs_client_new(&o, &lc->client, &f->err);
    lc->L = NULL;
    if (st != IVS_OK) {
        s_destroy(L, lc);
        lua_pushnil(L);
        ivs_lua_push_error(L, &f->err, NULL);
        return 2;
    }
    lua_pop(L, 1); /* the frame */
    return 1;
}

/* The operation named by argument 2, for call and start, with argument 3 checked to be a
 * table of parameters or nil; raises on misuse. Leaves the stack as client, name, params. */
static const struct model_operation *s_operation(lua_State *L, struct lclient *lc)
{
    const char *name = luaL_checkstring(L, 2);
    /* API names are unique in a service, so the model's search would find this very one. */
    const struct model_operation *op = lc->last_op;
    if (!op || strcmp(name, op->name) != 0) {
        const struct model_service *svc = model_find_service(ivs_client_service(lc->client));
        op = model_find_operation(svc, name);
        if (!op) {
            s_push_unknown_operation(L, svc, name);
            luaL_argerror(L, 2, lua_tostring(L, -1));
        }
        lc->last_op = op;
    }
    if (!lua_isnoneornil(L, 3) && !lua_istable(L, 3))
        luaL_argerror(
            L, 3, lua_pushfstring(L, "table of parameters expected, got %s", luaL_typename(L, 3)));
    lua_settop(L, 3);
    return op;
}

/* Converts the parameters (argument 3) into f->input, which must be empty. With anchors, the
 * stack slots [anchors, anchors + INPUT_ANCHORS) hold the strings the tree points at. */
static void s_frame_input(lua_State *L, const struct model_operation *op, struct call_frame *f,
                          int anchors)
{
    if (!lua_istable(L, 3)) {
        f->input = cJSON_CreateObject();
        if (!f->input)
            luaL_error(L, "not enough memory");
        return;
    }
    struct to_json tj;
    tj.L = L;
    tj.op = op->snake_name;
    tj.root = &f->input;
    tj.anchor = anchors;
    tj.anchor_end = anchors ? anchors + INPUT_ANCHORS : 0;
    tj.path[0] = '\0';
    s_table_to_json(&tj, 3, op->input, NULL, (struct member_key){NULL, 0}, 0);
    if (!cJSON_IsObject(f->input))
        luaL_argerror(L, 3, "parameters must be a table with string keys");
}

/* The operation named by argument 2 and the parameters of argument 3 (a table or nil), for
 * start; raises on misuse. Leaves the stack as client, name, params, frame and returns the
 * frame, whose input holds the converted parameters. */
static struct call_frame *s_operation_input(lua_State *L, struct lclient *lc,
                                            const struct model_operation **op_out)
{
    const struct model_operation *op = s_operation(L, lc);
    struct call_frame *f = s_new_frame(L); /* index 4 */
    *op_out = op;
    s_frame_input(L, op, f, 0);
    return f;
}

/* A blocking call's frame: the client's spare one when it has one (taken out, so a call made
 * from Lua code that runs meanwhile, a metamethod or a finalizer, gets a frame of its own),
 * else a new one. Pushed at index 4, so the call's stack anchors it whatever the registry
 * slot holds later. */
static struct call_frame *s_take_frame(lua_State *L, struct lclient *lc)
{
    if (lc->spare) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lc->frame_ref);
        /* The very block: the registry is reachable from Lua (debug.getregistry), so the
         * slot is not trusted to hold the frame. */
        if (lua_touserdata(L, -1) == lc->spare) {
            struct call_frame *f = lc->spare;
            lc->spare = NULL;
            return f;
        }
        lc->spare = NULL;
        lua_pop(L, 1);
    }
    return s_new_frame(L);
}

/* Empties the frame at index 4 and keeps it as the client's spare (a closed client keeps
 * none: the frame is left to the collector). Its scratch buffer keeps its memory. */
static void s_keep_frame(lua_State *L, struct lclient *lc, struct call_frame *f)
{
    cJSON_Delete(f->input);
    cJSON_Delete(f->output);
    f->input = f->output = NULL;
    buf_free(&f->body);
    buf_reset(&f->scratch);
    ivs_error_clear(&f->err);
    if (!lc->client)
        return;
    lua_pushvalue(L, 4);
    if (lc->frame_ref == LUA_NOREF)
        lc->frame_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else
        lua_rawseti(L, LUA_REGISTRYINDEX, lc->frame_ref);
    lc->spare = f;
}

/* client:call(operation, params) -> result | nil, err */
static int l_client_call(lua_State *L)
{
    struct lclient *lc = s_check_idle_client(L, 1);
    const struct model_operation *op = s_operation(L, lc);
    struct call_frame *f = s_take_frame(L, lc); /* index 4 */
    lua_settop(L, 4 + INPUT_ANCHORS);
    s_frame_input(L, op, f, 5);

    lc->L = L;
    enum ivs_status st = client_call_text(lc->client, op, f->input, &f->body, &f->err);
    lc->L = NULL;
    cJSON_Delete(f->input);
    f->input = NULL;
    if (st != IVS_OK) {
        lua_pushnil(L);
        ivs_lua_push_error(L, &f->err, op->snake_name);
        s_keep_frame(L, lc, f);
        return 2;
    }
    if (f->body.len) {
        /* The core checked the text: one JSON object, so the reader starts at its brace. */
        struct text_reader r = {L, f->body.data, f->body.data + f->body.len, &f->scratch,
                                s_names(L)};
        s_text_value(&r, op->output, 0);
    } else {
        lua_newtable(L);
    }
    s_keep_frame(L, lc, f);
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Non-blocking calls
 *
 * The core fires a call's completion from inside ivs_client_poll(); that C callback only
 * files the outcome into the call's slot (plain C, no Lua), so no Lua error can unwind
 * through the core or libcurl. Lua reads the slot afterwards through the ivs.Call handle.
 * ------------------------------------------------------------------------------------- */

/* The outcome of one non-blocking call. It lives apart from the handle so that a handle
 * collected while its call is in flight leaves the callback something valid to write to
 * (the callback then frees it). */
struct async_slot {
    int done;
    int orphaned; /* the handle was collected first */
    enum ivs_status status;
    /* The response text as a blocking call gets it (checked once by the core), read into Lua
     * by call:result() with the blocking call's reader, so both give the same tables. */
    struct buf body;
    struct buf scratch; /* the reader's, owned here so a Lua error in result() leaks nothing */
    struct ivs_error err;
    const struct model_operation *op;
};

/* The ivs.Call userdata. Its user value holds the client, which thus outlives the handle. */
struct lcall {
    struct async_slot *slot;
};

static void s_slot_free(struct async_slot *s)
{
    buf_free(&s->body);
    buf_free(&s->scratch);
    ivs_error_clear(&s->err);
    free(s);
}

static void s_call_done(void *ud, enum ivs_status status, struct buf *body, struct ivs_error *err)
{
    struct async_slot *s = ud;
    if (s->orphaned) {
        free(s); /* the core frees body and err */
        return;
    }
    s->done = 1;
    s->status = status;
    if (body) {
        s->body = *body;
        *body = (struct buf)BUF_INIT;
    }
    if (err)
        ivs_error_move(&s->err, err);
}

/* client:start(operation, params) -> call | nil, err */
static int l_client_start(lua_State *L)
{
    struct lclient *lc = s_check_idle_client(L, 1);
    const struct model_operation *op;
    struct call_frame *f = s_operation_input(L, lc, &op);
    /* The handle exists before the call starts, so a memory error cannot strand the slot. */
    struct lcall *call = lua_newuserdatauv(L, sizeof *call, 1); /* index 5 */
    call->slot = NULL;
    luaL_setmetatable(L, CALL_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, 5, 1);
    struct async_slot *slot = calloc(1, sizeof *slot);
    if (!slot)
        return luaL_error(L, "not enough memory");
    slot->op = op;

    lc->L = L;
    enum ivs_status st = client_start_text(lc->client, op, f->input, s_call_done, slot, &f->err);
    lc->L = NULL;
    cJSON_Delete(f->input);
    f->input = NULL;
    if (st != IVS_OK) {
        free(slot);
        lua_pushnil(L);
        ivs_lua_push_error(L, &f->err, op->snake_name);
        ivs_error_clear(&f->err);
        return 2;
    }
    call->slot = slot;
    lua_settop(L, 5);
    return 1;
}

/* client:poll([timeout_ms]) -> number of calls in flight */
static int l_client_poll(lua_State *L)
{
    struct lclient *lc = s_check_idle_client(L, 1);
    lua_Integer timeout = luaL_optinteger(L, 2, 0);
    if (timeout > 24 * 3600 * 1000)
        timeout = 24 * 3600 * 1000;
    if (timeout < 0)
        timeout = -1;
    lc->L = L;
    int n = ivs_client_poll(lc->client, (int)timeout);
    lc->L = NULL;
    lua_pushinteger(L, n);
    return 1;
}

static int l_client_in_flight(lua_State *L)
{
    lua_pushinteger(L, ivs_client_in_flight(s_check_open_client(L, 1)->client));
    return 1;
}

static int l_client_cancel_all(lua_State *L)
{
    struct lclient *lc = s_check_idle_client(L, 1);
    lc->L = L;
    ivs_client_cancel_all(lc->client);
    lc->L = NULL;
    return 0;
}

static struct async_slot *s_check_call(lua_State *L)
{
    struct lcall *call = luaL_checkudata(L, 1, CALL_MT);
    if (!call->slot)
        luaL_error(L, "attempt to use a released " CALL_MT);
    return call->slot;
}

static int l_call_done(lua_State *L)
{
    lua_pushboolean(L, s_check_call(L)->done);
    return 1;
}

/* call:result() -> result | nil, err; raises while the call is in flight. */
static int l_call_result(lua_State *L)
{
    struct async_slot *s = s_check_call(L);
    if (!s->done)
        return luaL_error(L, "call:result() on a call still in flight (poll the client until "
                             "call:done())");
    if (s->status != IVS_OK) {
        lua_pushnil(L);
        ivs_lua_push_error(L, &s->err, s->op->snake_name);
        return 2;
    }
    if (s->body.len) {
        /* The core checked the text: one JSON object, so the reader starts at its brace. */
        struct text_reader r = {L, s->body.data, s->body.data + s->body.len, &s->scratch,
                                s_names(L)};
        s_text_value(&r, s->op->output, 0);
    } else {
        lua_newtable(L);
    }
    return 1;
}

static int l_call_operation(lua_State *L)
{
    lua_pushstring(L, s_check_call(L)->op->snake_name);
    return 1;
}

static int l_call_gc(lua_State *L)
{
    struct lcall *call = luaL_checkudata(L, 1, CALL_MT);
    struct async_slot *s = call->slot;
    call->slot = NULL;
    if (!s)
        return 0;
    if (s->done)
        s_slot_free(s);
    else
        s->orphaned = 1; /* the completion (at the latest when the client is freed) frees it */
    return 0;
}

static int l_call_tostring(lua_State *L)
{
    struct lcall *call = luaL_checkudata(L, 1, CALL_MT);
    const struct async_slot *s = call->slot;
    lua_pushfstring(L, CALL_MT " (%s, %s)", s ? s->op->snake_name : "?",
                    !s        ? "released"
                    : s->done ? ivs_status_name(s->status)
                              : "in flight");
    return 1;
}

static const luaL_Reg s_call_methods[] = {
    {"done", l_call_done},
    {"result", l_call_result},
    {"operation", l_call_operation},
    {NULL, NULL},
};

static const luaL_Reg s_call_meta[] = {
    {"__gc", l_call_gc},
    {"__tostring", l_call_tostring},
    {NULL, NULL},
};

static int l_client_close(lua_State *L)
{
    struct lclient *lc = s_check_client(L, 1);
    /* The core is mid-call (this runs from the client's own log function): freeing the
     * client under it would pull the ground from under its feet. */
    if (lc->L)
        return luaL_error(L, "a client cannot be closed from inside its own log function");
    s_destroy(L, lc);
    return 0;
}

static int l_client_is_closed(lua_State *L)
{
    lua_pushboolean(L, s_check_client(L, 1)->client == NULL);
    return 1;
}

static int l_client_region(lua_State *L)
{
    lua_pushstring(L, ivs_client_region(s_check_open_client(L, 1)->client));
    return 1;
}

static int l_client_endpoint(lua_State *L)
{
    lua_pushstring(L, ivs_client_endpoint(s_check_open_client(L, 1)->client));
    return 1;
}

/* client:identity() -> table (see ivs_client_identity), or nil, err. */
static int l_client_identity(lua_State *L)
{
    struct lclient *lc = s_check_idle_client(L, 1);
    struct call_frame *f = s_new_frame(L);
    char *text = NULL;
    lc->L = L;
    enum ivs_status st = ivs_client_identity(lc->client, &text, &f->err);
    lc->L = NULL;
    if (st == IVS_OK) {
        f->output = cJSON_Parse(text);
        ivs_free(text);
        if (!f->output)
            return luaL_error(L, "out of memory");
        s_push_plain_json(L, f->output, 0); /* nulls left out: absent fields */
        return 1;
    }
    lua_pushnil(L);
    ivs_lua_push_error(L, &f->err, "identity");
    ivs_error_clear(&f->err);
    return 2;
}

/* client:whoami() -> {UserId, Account, Arn} from STS GetCallerIdentity, or nil, err. */
static int l_client_whoami(lua_State *L)
{
    struct lclient *lc = s_check_idle_client(L, 1);
    struct call_frame *f = s_new_frame(L);
    char *text = NULL;
    lc->L = L;
    enum ivs_status st = ivs_client_whoami(lc->client, &text, &f->err);
    lc->L = NULL;
    if (st == IVS_OK) {
        f->output = cJSON_Parse(text);
        ivs_free(text);
        if (!f->output)
            return luaL_error(L, "out of memory");
        s_push_plain_json(L, f->output, 0); /* nulls left out: absent fields */
        return 1;
    }
    lua_pushnil(L);
    ivs_lua_push_error(L, &f->err, "whoami");
    ivs_error_clear(&f->err);
    return 2;
}

/* client:service() -> the API name of the client's service ("ivs", "ivschat", ...). */
static int l_client_service(lua_State *L)
{
    lua_pushstring(L, ivs_client_service(s_check_open_client(L, 1)->client));
    return 1;
}

/* Shows the type and the address only: a client holds credentials, and none of them may
 * ever end up in a log through tostring(). */
static int l_client_tostring(lua_State *L)
{
    struct lclient *lc = s_check_client(L, 1);
    lua_pushfstring(L, CLIENT_MT " (%p)%s", (void *)lc, lc->client ? "" : " closed");
    return 1;
}

static int l_is_client(lua_State *L)
{
    lua_pushboolean(L, luaL_testudata(L, 1, CLIENT_MT) != NULL);
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Introspection
 * ------------------------------------------------------------------------------------- */

static void s_push_shape(lua_State *L, const struct model_shape *s, int depth);

static void s_push_member(lua_State *L, const struct model_member *m, int depth)
{
    s_push_shape(L, m->shape, depth);
    s_set_string(L, "name", m->name);
    s_set_boolean(L, "required", m->required);
    s_set_string(L, "location", s_location_name(m->location));
    s_set_string(L, "location_name", m->location_name);
}

/* Pushes a description of a shape: type, constraints, and nested members/element/key/value. */
static void s_push_shape(lua_State *L, const struct model_shape *s, int depth)
{
    luaL_checkstack(L, 6, "model nested too deeply");
    lua_createtable(L, 0, 8);
    if (!s)
        return;
    s_set_string(L, "shape", s->name);
    s_set_string(L, "type", s_type_name(s->type));
    if (s->has_min)
        s_set_integer(L, "min", (lua_Integer)s->min);
    if (s->has_max)
        s_set_integer(L, "max", (lua_Integer)s->max);
    if (s->pattern)
        s_set_string(L, "pattern", s->pattern);
    if (s->sensitive)
        s_set_boolean(L, "sensitive", 1);
    if (s->timestamp_format)
        s_set_string(L, "timestamp_format", s->timestamp_format);
    if (s->enum_count) {
        lua_createtable(L, (int)s->enum_count, 0);
        for (size_t i = 0; i < s->enum_count; i++) {
            lua_pushstring(L, s->enum_values[i]);
            lua_seti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "enum");
    }
    if (depth > MAX_DEPTH)
        return; /* shapes that refer to themselves stop here */
    if (s->type == MT_STRUCTURE) {
        lua_createtable(L, (int)s->member_count, 0);
        for (size_t i = 0; i < s->member_count; i++) {
            s_push_member(L, &s->members[i], depth + 1);
            lua_seti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "members");
    } else if (s->type == MT_LIST) {
        s_push_shape(L, s->member_shape, depth + 1);
        lua_setfield(L, -2, "element");
    } else if (s->type == MT_MAP) {
        s_push_shape(L, s->key_shape, depth + 1);
        lua_setfield(L, -2, "key");
        s_push_shape(L, s->member_shape, depth + 1);
        lua_setfield(L, -2, "value");
    }
}

/* The summary of one operation that core.operations lists. */
static void s_push_operation(lua_State *L, const struct model_operation *op)
{
    lua_createtable(L, 0, 13);
    s_set_string(L, "name", op->name);
    s_set_string(L, "snake_name", op->snake_name);
    s_set_string(L, "method", op->method);
    s_set_string(L, "uri", op->uri);
    s_set_integer(L, "success_status", op->success_status);
    s_set_boolean(L, "readonly", op->readonly_);
    s_set_boolean(L, "idempotent", op->idempotent);
    s_set_boolean(L, "paginated", op->paginated);
    s_set_string(L, "result_key", op->result_key);
    s_set_string(L, "summary", op->summary);
    const struct model_shape *in = op->input;
    const struct model_shape *out = op->output;
    s_set_string(L, "input_shape", in ? in->name : NULL);
    s_set_string(L, "output_shape", out ? out->name : NULL);
}

/* The service named by argument idx: a string, or nil for low-latency IVS; raises for an
 * unknown name. */
static const struct model_service *s_opt_service(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return model_default_service();
    const char *name = luaL_checkstring(L, idx);
    const struct model_service *svc = model_find_service(name);
    if (!svc)
        luaL_argerror(L, idx, lua_pushfstring(L, "unknown service '%s'", name));
    return svc;
}

/* core.describe(name [, service]) -> the operation summary plus `params` (input members) and
 * `output` (output members), or raises for an unknown name. service defaults to "ivs". */
static int l_describe(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const struct model_service *svc = s_opt_service(L, 2);
    const struct model_operation *op = model_find_operation(svc, name);
    if (!op) {
        s_push_unknown_operation(L, svc, name);
        return luaL_argerror(L, 1, lua_tostring(L, -1));
    }
    s_push_operation(L, op);
    const struct model_shape *in = op->input;
    const struct model_shape *out = op->output;
    lua_createtable(L, in ? (int)in->member_count : 0, 0);
    for (size_t i = 0; in && i < in->member_count; i++) {
        s_push_member(L, &in->members[i], 1);
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "params");
    lua_createtable(L, out ? (int)out->member_count : 0, 0);
    for (size_t i = 0; out && i < out->member_count; i++) {
        s_push_member(L, &out->members[i], 1);
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "output");
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------------------- */

static const luaL_Reg s_client_methods[] = {
    {"call", l_client_call},
    {"close", l_client_close},
    {"is_closed", l_client_is_closed},
    {"region", l_client_region},
    {"endpoint", l_client_endpoint},
    {"service", l_client_service},
    {"identity", l_client_identity},
    {"whoami", l_client_whoami},
    {"start", l_client_start},
    {"poll", l_client_poll},
    {"in_flight", l_client_in_flight},
    {"cancel_all", l_client_cancel_all},
    {NULL, NULL},
};

static const luaL_Reg s_client_meta[] = {
    {"__gc", l_client_close},
    {"__close", l_client_close},
    {"__tostring", l_client_tostring},
    {NULL, NULL},
};

static const luaL_Reg s_functions[] = {
    {"new_client", l_new_client},
    {"is_client", l_is_client},
    {"describe", l_describe},
    {"playback_token", ivs_lua_playback_token},
    {"playback_url", ivs_lua_playback_url},
    {"participant_token", ivs_lua_participant_token},
    {"connection_token", ivs_lua_connection_token},
    {"json_encode", l_json_encode},
    {"json_decode", l_json_decode},
    {"closest", l_closest},
    {NULL, NULL},
};

/* core.services' __index: builds a service's table on first use, then keeps it (rawset), so
 * a one-shot script pays only for the services it touches. Names are matched exactly: the
 * table answers the keys it would hold if it were filled at load, and nil for any other. */
static int l_services_index(lua_State *L)
{
    const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    const struct model_service *svc = NULL;
    for (size_t k = 0; name && !svc && k < model_service_count; k++)
        if (strcmp(model_services[k].name, name) == 0)
            svc = &model_services[k];
    if (!svc)
        return 0;
    lua_createtable(L, 0, 6);
    s_set_string(L, "name", svc->name);
    s_set_string(L, "endpoint_prefix", svc->endpoint_prefix);
    s_set_string(L, "signing_name", svc->signing_name);
    s_set_string(L, "service_id", svc->service_id);
    s_set_string(L, "api_version", svc->model->api_version);
    lua_createtable(L, (int)svc->model->operation_count, 0);
    for (size_t i = 0; i < svc->model->operation_count; i++) {
        s_push_operation(L, &svc->model->operations[i]);
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "operations");
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

int luaopen_ivs_core(lua_State *L)
{
    luaL_newlib(L, s_functions);
    ivs_lua_open_sign(L); /* core.sign, core.presign (lua_sign.c) */

    luaL_newmetatable(L, FRAME_MT);
    lua_pushcfunction(L, l_frame_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    luaL_newmetatable(L, BUF_MT);
    lua_pushcfunction(L, l_jsonbuf_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    luaL_newmetatable(L, JSON_ARRAY_MT);
    lua_setfield(L, -2, "json_array_mt");
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "json_null");

    ivs_lua_open_error(L);
    ivs_lua_open_options(L);

    /* The name cache (s_push_cached), upvalue 1 of every client and call method. */
    lua_createtable(L, NAME_SLOTS + ENUM_SLOTS, 0);
    int names = lua_gettop(L);

    luaL_newmetatable(L, CLIENT_MT);
    luaL_setfuncs(L, s_client_meta, 0);
    lua_createtable(L, 0, (int)(sizeof s_client_methods / sizeof s_client_methods[0]) - 1);
    lua_pushvalue(L, names);
    luaL_setfuncs(L, s_client_methods, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    lua_setfield(L, -4, "client_methods"); /* ivs.lua adds the generated methods here */
    lua_setfield(L, -3, "Client");

    luaL_newmetatable(L, CALL_MT);
    luaL_setfuncs(L, s_call_meta, 0);
    lua_createtable(L, 0, (int)(sizeof s_call_methods / sizeof s_call_methods[0]) - 1);
    lua_pushvalue(L, names);
    luaL_setfuncs(L, s_call_methods, 1);
    lua_setfield(L, -2, "__index");
    lua_setfield(L, -3, "Call");
    lua_pop(L, 1); /* the cache */

    /* core.services[name] = {name, endpoint_prefix, signing_name, service_id, api_version,
     * operations}, built when first indexed (l_services_index); core.service_names lists the
     * names in order. core.operations and core.API_VERSION are low-latency IVS's, as before
     * there were several services. */
    lua_createtable(L, 0, (int)model_service_count);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_services_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_createtable(L, (int)model_service_count, 0);
    for (size_t k = 0; k < model_service_count; k++) {
        lua_pushstring(L, model_services[k].name);
        lua_seti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -3, "service_names");
    lua_getfield(L, -1, "ivs");
    lua_getfield(L, -1, "operations");
    lua_setfield(L, -4, "operations");
    lua_pop(L, 1);
    lua_setfield(L, -2, "services");

    lua_createtable(L, IVS_ERR_CANCELLED + 1, 0);
    for (int k = IVS_OK; k <= IVS_ERR_CANCELLED; k++) {
        lua_pushstring(L, ivs_status_name((enum ivs_status)k));
        lua_seti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "kinds");

    lua_pushstring(L, ivs_version());
    lua_setfield(L, -2, "VERSION");
    lua_pushstring(L, model_default_service()->model->api_version);
    lua_setfield(L, -2, "API_VERSION");
    lua_pushfstring(L, "ivs.core %s", ivs_version());
    lua_setfield(L, -2, "_VERSION");
    return 1;
}
