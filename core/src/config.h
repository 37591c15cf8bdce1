/* config.h: the settings of a client, resolved once from the explicit options, the
 * environment (through the options' getenv hook) and the shared config files, in the
 * standard AWS precedence: explicit, environment, credentials file, config file, default. */
#ifndef IVS_CONFIG_H
#define IVS_CONFIG_H

#include "ivs.h"

struct profile_file;

struct ivs_config {
    char *profile;              /* explicit, AWS_DEFAULT_PROFILE, AWS_PROFILE, "default" */
    int profile_explicit;       /* set in the options (botocore then skips environment keys) */
    const char *profile_source; /* "the options", "AWS_DEFAULT_PROFILE", ..., "default" (static) */
    char *region;
    const char *region_source;   /* "the options", "AWS_REGION", ... (static) */
    char *endpoint;              /* validated, without a trailing "/" */
    const char *endpoint_source; /* "explicit", "env AWS_ENDPOINT_URL_IVS", ..., "default" */
    int max_attempts;            /* 0 = let retry decide */
    char *retry_mode;            /* "standard", "legacy" or "adaptive"; NULL = default */
    int new_retries_2026;        /* 1 unless AWS_NEW_RETRIES_2026 is "false" */
    char *ca_bundle;
    char *app_id;
    int use_fips, use_dualstack; /* 0/1 after resolution */
    long timeout_ms, connect_timeout_ms;
    int close_connection;

    /* The environment hook, kept for the credential chain (which reads the environment when
     * credentials are first needed). */
    ivs_getenv_fn getenv_fn;
    void *getenv_ud;

    /* The shared files, parsed once here and shared with the credential chain. A file that
     * could not be read is NULL; its path is still recorded for messages (NULL when no path
     * could be formed, e.g. HOME unset). */
    char *config_path, *credentials_path;
    struct profile_file *config_file, *credentials_file;
};

/*
 * Resolves every setting. Fails with IVS_ERR_CONFIG and one of the codes "NoRegion",
 * "InvalidRegion", "ProfileNotFound", "InvalidEndpoint", "InvalidConfig". opts may be NULL.
 * On failure *out is left zeroed (nothing to clean up); on success release it with
 * config_cleanup().
 */
enum ivs_status config_resolve(const struct ivs_client_options *opts, struct ivs_config *out,
                               struct ivs_error *err);

/* Releases what a resolved configuration holds and zeroes it. NULL is accepted. */
void config_cleanup(struct ivs_config *cfg);

/* Reads an environment variable through the options' hook, or getenv(3) when there is none
 * (opts may be NULL). Empty values count as unset (NULL), as in the AWS SDKs. */
const char *config_getenv(const struct ivs_client_options *opts, const char *name);

/* The same, from the hook recorded in a resolved configuration. */
const char *config_env(const struct ivs_config *cfg, const char *name);

/* A profile setting: the credentials file's value first, then the config file's (the
 * standard precedence between the two). NULL when neither has it or the value is empty. */
const char *config_profile_value(const struct ivs_config *cfg, const char *key);

/* Nonzero when `value` is "true" in any case (how the AWS SDKs read boolean settings). */
int config_is_true(const char *value);

/*
 * Checks an endpoint URL: http or https scheme, a host, no whitespace or control
 * characters. On success *normalized (caller frees) is the URL without trailing "/".
 * `what` names the source in the error message ("AWS_ENDPOINT_URL", ...).
 */
enum ivs_status config_check_endpoint_url(const char *url, const char *what, char **normalized,
                                          struct ivs_error *err);

/*
 * The endpoint the IVS rules produce for a region: https://ivs[-fips].{region}.{suffix},
 * where the DNS suffix is the dnsSuffix (or with dual-stack the dualStackDnsSuffix) of the
 * region's partition in partitions.json (partitions.h). *url is freed by the caller. Fails
 * with IVS_ERR_CONFIG "InvalidConfig" when the partition lacks the variant asked for.
 */
enum ivs_status config_default_endpoint(const char *region, int fips, int dualstack, char **url,
                                        struct ivs_error *err);

#endif
