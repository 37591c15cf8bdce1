#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "errors.h"
#include "model.h"
#include "options.h"
#include "partitions.h"
#include "profile.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L

static const char *env_lookup(ivs_getenv_fn fn, void *ud, const char *name)
{
    const char *v = fn ? fn(ud, name) : getenv(name);
    return v && *v ? v : NULL;
}

/* A variable as it is set, empty values included (for the few settings where botocore
 * treats "set but empty" differently from "unset"). */
static const char *env_raw(const struct ivs_client_options *opts, const char *name)
{
    return opts && opts->getenv ? opts->getenv(opts->getenv_ud, name) : getenv(name);
}

const char *config_getenv(const struct ivs_client_options *opts, const char *name)
{
    return env_lookup(opts ? opts->getenv : NULL, opts ? opts->getenv_ud : NULL, name);
}

const char *config_env(const struct ivs_config *cfg, const char *name)
{
    return env_lookup(cfg ? cfg->getenv_fn : NULL, cfg ? cfg->getenv_ud : NULL, name);
}

const char *config_profile_value(const struct ivs_config *cfg, const char *key)
{
    if (!cfg || !cfg->profile)
        return NULL;
    const char *v = profile_get(cfg->credentials_file, cfg->profile, key);
    if (v && *v)
        return v;
    v = profile_get(cfg->config_file, cfg->profile, key);
    return v && *v ? v : NULL;
}

int config_is_true(const char *value) { return value && strcasecmp(value, "true") == 0; }

/* botocore's rule for region names: one DNS label, so it can be put into a host name. */
static int region_is_valid(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63 || r[0] == '-' || r[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = r[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
    }
    return 1;
}

enum ivs_status config_default_endpoint(const struct model_service *svc, const char *region,
                                        int fips, int dualstack, char **url, struct ivs_error *err)
{
    *url = NULL;
    if ((fips && !svc->fips) || (dualstack && !svc->dualstack))
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig", "%s has no %s endpoints",
                             svc->name, fips ? "FIPS" : "dual-stack");
    /* The partition table is generated from models/partitions.json (partitions.h). */
    const struct partition *p = partition_for_region(region);
    const char *suffix = p->dns_suffix;
    if ((dualstack && !p->supports_dualstack) || (fips && !p->supports_fips))
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "%s endpoints are not available in partition %s (region %s)",
                             dualstack && !p->supports_dualstack ? "dual-stack" : "FIPS", p->id,
                             region);
    if (dualstack)
        suffix = p->dualstack_dns_suffix;
    struct buf b = BUF_INIT;
    buf_printf(&b, "https://%s%s.%s.%s", svc->endpoint_prefix, fips ? "-fips" : "", region, suffix);
    *url = buf_steal(&b);
    return *url ? IVS_OK : ivs_error_nomem(err);
}

enum ivs_status config_check_endpoint_url(const char *url, const char *what, char **normalized,
                                          struct ivs_error *err)
{
    *normalized = NULL;
    size_t scheme_len;
    if (strncasecmp(url, "https://", 8) == 0)
        scheme_len = 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        scheme_len = 7;
    else
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidEndpoint",
                             "the endpoint URL from %s must start with http:// or https://", what);
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return ivs_error_set(
                err, IVS_ERR_CONFIG, "InvalidEndpoint",
                "the endpoint URL from %s contains whitespace or control characters", what);
    }
    const char *host = url + scheme_len;
    size_t authority_len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', authority_len);
    if (at) /* user info would be sent to an unexpected host and is never needed here */
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidEndpoint",
                             "the endpoint URL from %s must not contain user information", what);
    size_t host_len;
    if (authority_len > 0 && host[0] == '[') {
        const char *close = memchr(host, ']', authority_len);
        host_len = close ? (size_t)(close - host) + 1 : 0;
        if (close && close + 1 < host + authority_len && close[1] != ':')
            host_len = 0;
    } else {
        host_len = strcspn(host, ":/?#");
    }
    if (host_len == 0)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidEndpoint",
                             "the endpoint URL from %s has no host", what);
    const char *port = host + host_len;
    if (port < host + authority_len) { /* ":port": digits only, and some of them */
        const char *digits = port + 1, *end = host + authority_len;
        if (digits == end)
            return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidEndpoint",
                                 "the endpoint URL from %s has an empty port", what);
        for (const char *d = digits; d < end; d++) {
            if (*d < '0' || *d > '9')
                return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidEndpoint",
                                     "the endpoint URL from %s has an invalid port", what);
        }
    }
    size_t len = strlen(url);
    while (len > scheme_len + authority_len && url[len - 1] == '/')
        len--;
    *normalized = ivs_strndup(url, len);
    return *normalized ? IVS_OK : ivs_error_nomem(err);
}

/* "~/x" → "$HOME/x"; other paths unchanged. NULL when HOME is needed and unset. */
static char *expand_home(const struct ivs_client_options *opts, const char *path)
{
    if (path[0] != '~' || (path[1] != '/' && path[1] != '\0'))
        return ivs_strdup(path);
    const char *home = config_getenv(opts, "HOME");
    if (!home)
        return NULL;
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s%s", home, path + 1);
    return buf_steal(&b);
}

static char *shared_file_path(const struct ivs_client_options *opts, const char *env_name,
                              const char *default_name)
{
    const char *set = config_getenv(opts, env_name);
    if (set)
        return expand_home(opts, set);
    const char *home = config_getenv(opts, "HOME");
    if (!home)
        return NULL;
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s/.aws/%s", home, default_name);
    return buf_steal(&b);
}

/* A setting from the environment, else the profile. *source receives where it came from. */
static const char *env_or_profile(const struct ivs_client_options *opts,
                                  const struct ivs_config *cfg, const char *env_name,
                                  const char *profile_key, const char **source)
{
    const char *v = config_getenv(opts, env_name);
    if (v) {
        *source = env_name;
        return v;
    }
    v = config_profile_value(cfg, profile_key);
    *source = profile_key;
    return v;
}

/* Tri-state booleans: explicit (> 0 on, < 0 off), environment, profile, off. */
static enum ivs_status resolve_flag(const struct ivs_client_options *opts, struct ivs_config *cfg,
                                    int explicit_value, const char *env_name,
                                    const char *profile_key, int *out, struct ivs_error *err)
{
    if (explicit_value) {
        *out = explicit_value > 0;
        return IVS_OK;
    }
    const char *source;
    const char *v = env_or_profile(opts, cfg, env_name, profile_key, &source);
    if (!v) {
        *out = 0;
        return IVS_OK;
    }
    if (strcasecmp(v, "true") == 0)
        *out = 1;
    else if (strcasecmp(v, "false") == 0)
        *out = 0;
    else
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "%s must be true or false, not \"%s\"", source, v);
    return IVS_OK;
}

static enum ivs_status resolve_profile(const struct ivs_client_options *opts,
                                       struct ivs_config *cfg, struct ivs_error *err)
{
    const char *name = opts ? opts->profile : NULL;
    const char *source = "the options";
    if (name && *name) {
        cfg->profile_explicit = 1;
    } else if ((name = env_raw(opts, "AWS_DEFAULT_PROFILE")) != NULL) {
        /* botocore's order (PROVIDERS.md 7.3); a set but empty value names the profile "",
         * which does not exist, rather than falling back to the default. */
        source = "AWS_DEFAULT_PROFILE";
    } else if ((name = env_raw(opts, "AWS_PROFILE")) != NULL) {
        source = "AWS_PROFILE";
    } else {
        name = "default";
        source = NULL;
    }
    cfg->profile = ivs_strdup(name);
    cfg->profile_source = source ? source : "default";
    if (!cfg->profile)
        return ivs_error_nomem(err);
    cfg->config_path = shared_file_path(opts, "AWS_CONFIG_FILE", "config");
    cfg->credentials_path = shared_file_path(opts, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    cfg->config_file = profile_file_load(cfg->config_path, PROFILE_FILE_CONFIG);
    cfg->credentials_file = profile_file_load(cfg->credentials_path, PROFILE_FILE_CREDENTIALS);
    /* "default" may be absent (a machine with only environment settings); any other name
     * was asked for and must exist, as botocore insists. */
    if (source && strcmp(name, "default") != 0 &&
        !profile_section_exists(cfg->config_file, PROFILE_SECTION_PROFILE, name) &&
        !profile_section_exists(cfg->credentials_file, PROFILE_SECTION_PROFILE, name))
        return ivs_error_set(err, IVS_ERR_CONFIG, "ProfileNotFound",
                             "the profile '%s' (from %s) is in neither the config file (%s) nor "
                             "the credentials file (%s)",
                             name, source,
                             cfg->config_path ? cfg->config_path : "no path: HOME unset",
                             cfg->credentials_path ? cfg->credentials_path : "no path: HOME unset");
    return IVS_OK;
}

static enum ivs_status resolve_service(const struct ivs_client_options *opts,
                                       struct ivs_config *cfg, struct ivs_error *err)
{
    if (!opts || !opts->service || !*opts->service) {
        cfg->service = model_default_service();
        return IVS_OK;
    }
    const char *name = opts->service;
    cfg->service = model_find_service(name);
    if (cfg->service)
        return IVS_OK;
    struct buf names = BUF_INIT;
    for (size_t i = 0; i < model_service_count; i++)
        buf_printf(&names, "%s%s", i ? ", " : "", model_services[i].name);
    enum ivs_status st =
        buf_failed(&names)
            ? ivs_error_nomem(err)
            : ivs_error_set(err, IVS_ERR_CONFIG, "UnknownService",
                            "unknown service \"%.64s\": expected one of %s", name, buf_str(&names));
    buf_free(&names);
    return st;
}

static enum ivs_status resolve_region(const struct ivs_client_options *opts, struct ivs_config *cfg,
                                      struct ivs_error *err)
{
    const char *v = opts ? opts->region : NULL;
    const char *source = "the options";
    if (!v || !*v) {
        source = "AWS_REGION";
        v = config_getenv(opts, "AWS_REGION");
    }
    if (!v) {
        source = "AWS_DEFAULT_REGION";
        v = config_getenv(opts, "AWS_DEFAULT_REGION");
    }
    if (!v) {
        source = "the profile's region setting";
        v = config_profile_value(cfg, "region");
    }
    if (!v)
        return ivs_error_set(err, IVS_ERR_CONFIG, "NoRegion",
                             "no region is configured: set the region option, the AWS_REGION "
                             "environment variable, or `region = ...` in profile '%s' of %s",
                             cfg->profile, cfg->config_path ? cfg->config_path : "~/.aws/config");
    if (!region_is_valid(v))
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidRegion",
                             "the region \"%.64s\" from %s is not a valid region name", v, source);
    cfg->region = ivs_strdup(v);
    cfg->region_source = source;
    return cfg->region ? IVS_OK : ivs_error_nomem(err);
}

static enum ivs_status resolve_endpoint(const struct ivs_client_options *opts,
                                        struct ivs_config *cfg, struct ivs_error *err)
{
    const char *url = NULL, *source = NULL, *label = NULL;
    const struct model_service *svc = cfg->service;
    /* Static sizes: env_name and config_key are short generated identifiers. */
    char env_var[96], env_source[112], section_source[128], section_label[128];
    snprintf(env_var, sizeof env_var, "AWS_ENDPOINT_URL_%s", svc->env_name);
    snprintf(env_source, sizeof env_source, "env %s", env_var);
    snprintf(section_source, sizeof section_source, "profile services section (%s endpoint_url)",
             svc->config_key);
    snprintf(section_label, sizeof section_label, "the services section's %s endpoint_url",
             svc->config_key);
    if (opts && opts->endpoint && *opts->endpoint) {
        url = opts->endpoint;
        source = "explicit";
        label = "the endpoint option";
    } else {
        const char *ignore_source;
        const char *ignore = env_or_profile(opts, cfg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                            "ignore_configured_endpoint_urls", &ignore_source);
        if (!config_is_true(ignore)) {
            const char *services = profile_get(cfg->config_file, cfg->profile, "services");
            const char *service_url =
                services ? profile_get_sub(cfg->config_file, PROFILE_SECTION_SERVICES, services,
                                           svc->config_key, "endpoint_url")
                         : NULL;
            if ((url = config_getenv(opts, env_var)) != NULL) {
                source = env_source;
                label = env_var;
            } else if ((url = config_getenv(opts, "AWS_ENDPOINT_URL")) != NULL) {
                source = "env AWS_ENDPOINT_URL";
                label = "AWS_ENDPOINT_URL";
            } else if (services && !profile_section_key_count(cfg->config_file,
                                                              PROFILE_SECTION_SERVICES, services)) {
                /* A missing (or empty) section is an error, as in botocore: falling back to
                 * the real service would send a script meant for a local endpoint to AWS. */
                return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                     "profile '%s' sets services = %s, but the config file (%s) "
                                     "has no (or an empty) [services %s] section",
                                     cfg->profile, services,
                                     cfg->config_path ? cfg->config_path : "~/.aws/config",
                                     services);
            } else if (service_url && *service_url) {
                url = service_url;
                source = section_source;
                label = section_label;
            } else if ((url = config_profile_value(cfg, "endpoint_url")) != NULL) {
                source = "profile endpoint_url";
                label = "the profile's endpoint_url";
            }
        }
    }
    if (!url) {
        snprintf(cfg->endpoint_source, sizeof cfg->endpoint_source, "default");
        return config_default_endpoint(svc, cfg->region, cfg->use_fips, cfg->use_dualstack,
                                       &cfg->endpoint, err);
    }
    if (cfg->use_fips || cfg->use_dualstack)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "a custom endpoint (from %s) cannot be combined with %s endpoints; "
                             "unset one of them",
                             label, cfg->use_fips ? "FIPS" : "dual-stack");
    snprintf(cfg->endpoint_source, sizeof cfg->endpoint_source, "%s", source);
    return config_check_endpoint_url(url, label, &cfg->endpoint, err);
}

static enum ivs_status resolve_retry(const struct ivs_client_options *opts, struct ivs_config *cfg,
                                     struct ivs_error *err)
{
    if (opts && opts->max_attempts < 0)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "max_attempts must be at least 1, not %d", opts->max_attempts);
    if (opts && opts->max_attempts > 0) {
        cfg->max_attempts = opts->max_attempts;
    } else {
        const char *source;
        const char *v = env_or_profile(opts, cfg, "AWS_MAX_ATTEMPTS", "max_attempts", &source);
        if (v) {
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            while (*end == ' ' || *end == '\t')
                end++;
            /* The same range as the option (core/src/options.c): a value from the environment
             * or a profile is not allowed more attempts than one set in code. */
            const struct ivs_option *limit = ivs_option_find("max_attempts");
            if (errno || end == v || *end || n < limit->min || n > limit->max)
                return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                     "%s must be a whole number from %ld to %ld, not \"%.40s\"",
                                     source, limit->min, limit->max, v);
            cfg->max_attempts = (int)n;
        }
    }
    const char *mode = opts ? opts->retry_mode : NULL;
    const char *mode_source = "the retry_mode option";
    if (!mode || !*mode)
        mode = env_or_profile(opts, cfg, "AWS_RETRY_MODE", "retry_mode", &mode_source);
    if (mode) {
        /* Checked here, where the source is known (retry.c checks again). */
        if (strcmp(mode, "standard") != 0 && strcmp(mode, "legacy") != 0 &&
            strcmp(mode, "adaptive") != 0)
            return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                 "%s must be standard, legacy or adaptive, not \"%.40s\"",
                                 mode_source, mode);
        cfg->retry_mode = ivs_strdup(mode);
        if (!cfg->retry_mode)
            return ivs_error_nomem(err);
    }
    const char *next = config_getenv(opts, "AWS_NEW_RETRIES_2026");
    cfg->new_retries_2026 = !(next && strcasecmp(next, "false") == 0);
    return IVS_OK;
}

static enum ivs_status seconds_to_ms(double seconds, long fallback_ms, const char *what, long *out,
                                     struct ivs_error *err)
{
    if (isnan(seconds) || seconds < 0 || seconds > 86400.0 * 365)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "%s must be a number of seconds between 0 and one year", what);
    if (seconds == 0) {
        *out = fallback_ms;
        return IVS_OK;
    }
    long ms = (long)llround(seconds * 1000.0);
    *out = ms < 1 ? 1 : ms;
    return IVS_OK;
}

static enum ivs_status dup_setting(const char *explicit_value,
                                   const struct ivs_client_options *opts,
                                   const struct ivs_config *cfg, const char *env_name,
                                   const char *profile_key, char **out, struct ivs_error *err)
{
    const char *source;
    const char *v = explicit_value && *explicit_value
                        ? explicit_value
                        : env_or_profile(opts, cfg, env_name, profile_key, &source);
    if (!v)
        return IVS_OK;
    *out = ivs_strdup(v);
    return *out ? IVS_OK : ivs_error_nomem(err);
}

enum ivs_status config_resolve(const struct ivs_client_options *opts, struct ivs_config *out,
                               struct ivs_error *err)
{
    memset(out, 0, sizeof *out);
    struct ivs_config cfg = {0};
    cfg.getenv_fn = opts ? opts->getenv : NULL;
    cfg.getenv_ud = opts ? opts->getenv_ud : NULL;
    enum ivs_status st = resolve_service(opts, &cfg, err);
    if (st == IVS_OK)
        st = resolve_profile(opts, &cfg, err);
    if (st == IVS_OK)
        st = resolve_flag(opts, &cfg, opts ? opts->use_fips_endpoint : 0, "AWS_USE_FIPS_ENDPOINT",
                          "use_fips_endpoint", &cfg.use_fips, err);
    if (st == IVS_OK)
        st = resolve_flag(opts, &cfg, opts ? opts->use_dualstack_endpoint : 0,
                          "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint",
                          &cfg.use_dualstack, err);
    if (st == IVS_OK)
        st = resolve_region(opts, &cfg, err);
    if (st == IVS_OK)
        st = resolve_endpoint(opts, &cfg, err);
    if (st == IVS_OK)
        st = resolve_retry(opts, &cfg, err);
    if (st == IVS_OK)
        st = dup_setting(opts ? opts->ca_bundle : NULL, opts, &cfg, "AWS_CA_BUNDLE", "ca_bundle",
                         &cfg.ca_bundle, err);
    if (st == IVS_OK) {
        /* AWS_SDK_UA_APP_ID set but empty means "no app id", profile notwithstanding. */
        const char *env_app = env_raw(opts, "AWS_SDK_UA_APP_ID");
        int cleared = env_app && !*env_app && !(opts && opts->app_id && *opts->app_id);
        if (!cleared)
            st = dup_setting(opts ? opts->app_id : NULL, opts, &cfg, "AWS_SDK_UA_APP_ID",
                             "sdk_ua_app_id", &cfg.app_id, err);
    }
    if (st == IVS_OK)
        st = seconds_to_ms(opts ? opts->timeout : 0, DEFAULT_TIMEOUT_MS, "timeout", &cfg.timeout_ms,
                           err);
    if (st == IVS_OK)
        st = seconds_to_ms(opts ? opts->connect_timeout : 0, DEFAULT_CONNECT_TIMEOUT_MS,
                           "connect_timeout", &cfg.connect_timeout_ms, err);
    if (st != IVS_OK) {
        config_cleanup(&cfg);
        return st;
    }
    if (cfg.connect_timeout_ms > cfg.timeout_ms)
        cfg.connect_timeout_ms = cfg.timeout_ms;
    cfg.close_connection = opts ? opts->close_connection != 0 : 0;
    *out = cfg;
    return IVS_OK;
}

void config_cleanup(struct ivs_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->profile);
    free(cfg->region);
    free(cfg->endpoint);
    free(cfg->retry_mode);
    free(cfg->ca_bundle);
    free(cfg->app_id);
    free(cfg->config_path);
    free(cfg->credentials_path);
    profile_file_free(cfg->config_file);
    profile_file_free(cfg->credentials_file);
    memset(cfg, 0, sizeof *cfg);
}
