/* options.h: the one table of the client's options (options.c). The C library checks the
 * ranges of struct ivs_client_options with it (ivs_options_check), the Lua binding fills that
 * struct from it generically and exports it to ivs.lua as core.options, so a value passes all
 * three checks or none. Adding an option is a field in ivs.h plus a row in options.c. */
#ifndef IVS_OPTIONS_H
#define IVS_OPTIONS_H

#include <stddef.h>

#include "ivs.h"

/* What the field at `offset` of struct ivs_client_options is. */
enum ivs_option_kind {
    IVS_OPT_NONE,     /* no field: handled in Lua only (log, credentials, mfa_token...) */
    IVS_OPT_STRING,   /* const char *; NULL = resolve */
    IVS_OPT_FLAG,     /* int, nonzero = on (Lua: true) */
    IVS_OPT_TRISTATE, /* int: 0 = resolve, 1 = on, -1 = off (Lua: nil, true, false) */
    IVS_OPT_SECONDS,  /* double seconds; 0 = default, otherwise in (0, max] */
    IVS_OPT_COUNT,    /* int; 0 = default, otherwise in [min, max] */
};

struct ivs_option {
    const char *name; /* the field's name and ivs.new's key */
    /* ivs.new's type: "string", "boolean", "table", "function", "log" (a function or a
     * boolean), "number+" (a positive finite number up to max) or "integer+" (an integer from
     * min to max); NULL for a field ivs.new does not take under its own name (ivs.lua sets it
     * from another option, as access_key_id from credentials) */
    const char *lua_type;
    enum ivs_option_kind kind;
    size_t offset;   /* into struct ivs_client_options; unused for IVS_OPT_NONE */
    long min, max;   /* IVS_OPT_COUNT: the range; IVS_OPT_SECONDS: max only */
    const char *doc; /* one line, with the unit */
};

extern const struct ivs_option ivs_options[];
extern const size_t ivs_option_count;

/* The option called name, or NULL. */
const struct ivs_option *ivs_option_find(const char *name);

/* Checks every ranged field (IVS_OPT_COUNT, IVS_OPT_SECONDS) of opts against the table;
 * IVS_ERR_CONFIG "InvalidConfig" naming the option otherwise. Zero means "the default" and
 * passes. */
enum ivs_status ivs_options_check(const struct ivs_client_options *opts, struct ivs_error *err);

#endif
