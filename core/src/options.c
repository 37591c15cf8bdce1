/* options.c: the client's options, once (see options.h). */
#include "options.h"

#include <math.h>
#include <string.h>

#include "errors.h"

#define FIELD(f) offsetof(struct ivs_client_options, f)
/* One year: longer timeouts are a mistake (a unit confusion, ms for seconds), not a wish. */
#define MAX_SECONDS (86400L * 365)

const struct ivs_option ivs_options[] = {
    {"access_key_id", NULL, IVS_OPT_STRING, FIELD(access_key_id), 0, 0, "from credentials"},
    {"anonymous", "boolean", IVS_OPT_FLAG, FIELD(anonymous), 0, 0, "send requests unsigned"},
    {"app_id", "string", IVS_OPT_STRING, FIELD(app_id), 0, 0, "appended to the User-Agent"},
    {"ca_bundle", "string", IVS_OPT_STRING, FIELD(ca_bundle), 0, 0, "CA file for TLS"},
    {"close_connection", "boolean", IVS_OPT_FLAG, FIELD(close_connection), 0, 0,
     "do not reuse connections between calls"},
    {"connect_timeout", "number+", IVS_OPT_SECONDS, FIELD(connect_timeout), 0, MAX_SECONDS,
     "seconds to connect"},
    {"credentials", "table", IVS_OPT_NONE, 0, 0, 0, "{creds = {...}, profile =, anonymous =}"},
    {"endpoint", "string", IVS_OPT_STRING, FIELD(endpoint), 0, 0, "full URL; wins over everything"},
    {"log", "log", IVS_OPT_NONE, 0, 0, 0, "a function(level, line), or true for stderr"},
    {"max_attempts", "integer+", IVS_OPT_COUNT, FIELD(max_attempts), 1, 100,
     "total attempts, the first included"},
    {"max_connections", "integer+", IVS_OPT_COUNT, FIELD(max_connections), 1, 10000,
     "connections open at once for non-blocking calls"},
    {"mfa_token", "function", IVS_OPT_NONE, 0, 0, 0,
     "function(serial) -> code, for mfa_serial profiles"},
    {"profile", "string", IVS_OPT_STRING, FIELD(profile), 0, 0, "profile name"},
    {"region", "string", IVS_OPT_STRING, FIELD(region), 0, 0, "e.g. us-west-2"},
    {"retry_mode", "string", IVS_OPT_STRING, FIELD(retry_mode), 0, 0,
     "standard, legacy or adaptive"},
    {"s3_force_path_style", "boolean", IVS_OPT_NONE, 0, 0, 0,
     "accepted for the R SDK's config shape; no effect"},
    {"secret_access_key", NULL, IVS_OPT_STRING, FIELD(secret_access_key), 0, 0, "from credentials"},
    {"service", "string", IVS_OPT_STRING, FIELD(service), 0, 0,
     "ivs (default), ivschat or ivs-realtime; set by ivs.chat/ivs.realtime"},
    {"session_token", NULL, IVS_OPT_STRING, FIELD(session_token), 0, 0, "from credentials"},
    {"timeout", "number+", IVS_OPT_SECONDS, FIELD(timeout), 0, MAX_SECONDS,
     "seconds for a whole attempt"},
    {"use_dualstack_endpoint", "boolean", IVS_OPT_TRISTATE, FIELD(use_dualstack_endpoint), 0, 0,
     "the dual-stack endpoint"},
    {"use_fips_endpoint", "boolean", IVS_OPT_TRISTATE, FIELD(use_fips_endpoint), 0, 0,
     "the FIPS endpoint"},
};

const size_t ivs_option_count = sizeof ivs_options / sizeof ivs_options[0];

const struct ivs_option *ivs_option_find(const char *name)
{
    for (size_t i = 0; i < ivs_option_count; i++)
        if (strcmp(ivs_options[i].name, name) == 0)
            return &ivs_options[i];
    return NULL;
}

enum ivs_status ivs_options_check(const struct ivs_client_options *opts, struct ivs_error *err)
{
    const char *base = (const char *)opts;
    for (size_t i = 0; opts && i < ivs_option_count; i++) {
        const struct ivs_option *o = &ivs_options[i];
        if (o->kind == IVS_OPT_COUNT) {
            int v;
            memcpy(&v, base + o->offset, sizeof v);
            if (v != 0 && (v < o->min || v > o->max))
                return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                     "option '%s' must be an integer from %ld to %ld, not %d",
                                     o->name, o->min, o->max, v);
        } else if (o->kind == IVS_OPT_SECONDS) {
            double d;
            memcpy(&d, base + o->offset, sizeof d);
            if (d != 0 && !(d > 0 && d <= (double)o->max))
                return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                     "option '%s' must be a positive number of seconds up to "
                                     "%ld, not %g",
                                     o->name, o->max, d);
        }
    }
    return IVS_OK;
}
