/* client.c: the client handle and the one generic call path for every operation:
 * validate → serialise → (credentials → sign → send → parse) with standard retries. */
#include "client_internal.h"
#include "json_scan.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "config.h"
#include "credentials.h"
#include "errors.h"
#include "http.h"
#include "options.h"
#include "redact.h"
#include "retry.h"
#include "sigv4.h"
#include "url.h"

/* ---------------------------------------------------------------------------------------
 * Hooks and their defaults
 * ------------------------------------------------------------------------------------- */

static int64_t s_now_ms(const struct ivs_client *c)
{
    if (c->clock)
        return c->clock(c->hooks_ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t s_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t client_timer_now_ms(const struct ivs_client *c)
{
    return c->clock ? c->clock(c->hooks_ud) : s_monotonic_ms();
}

static void s_sleep_ms(struct ivs_client *c, int64_t ms)
{
    if (ms <= 0)
        return;
    if (c->sleep) {
        c->sleep(c->hooks_ud, ms);
        return;
    }
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static double s_random(struct ivs_client *c)
{
    if (c->random)
        return c->random(c->hooks_ud);
    /* xorshift64*: jitter needs spread, not cryptographic quality, and must not touch the
     * process-wide rand() state. */
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void s_stderr_log(void *ud, enum ivs_log_level level, const char *line)
{
    (void)ud;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    fprintf(stderr, "ivs %s: %s\n", names[level], line);
}

void client_log(const struct ivs_client *c, enum ivs_log_level level, const char *fmt, ...)
{
    if (!c->log || (int)level > c->log_level)
        return;
    struct buf line = BUF_INIT, safe = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&line, fmt, ap);
    va_end(ap);
    line.sensitive = 1;
    /* Masking by name (redact_json, redact_header_line) misses a secret where it has no
     * name: an echoed header in a message, a private key sent as a public one. */
    if (!buf_failed(&line))
        redact_scrub(&safe, buf_str(&line), line.len, (const char *const *)c->known_secrets, 2);
    if (!buf_failed(&line) && !buf_failed(&safe))
        c->log(c->log_ud, level, buf_str(&safe));
    buf_free(&line);
    buf_free(&safe);
}

void client_scrub_error(const struct ivs_client *c, struct ivs_error *err)
{
    redact_error(err, (const char *const *)c->known_secrets, 2);
}

/* Keeps a copy of a secret in use (a NULL or empty value keeps the old one: masking a value
 * no longer used costs nothing). Out of memory leaves the slot empty: masking by shape and
 * by name still applies. */
static void s_remember_secret(char **slot, const char *value)
{
    if (!value || !*value || (*slot && strcmp(*slot, value) == 0))
        return;
    if (*slot) {
        explicit_bzero(*slot, strlen(*slot));
        free(*slot);
    }
    *slot = ivs_strdup(value);
}

/* The credential chain's one line per resolution (provider, profile or file, masked key). */
static void s_cred_log(void *ud, const char *line) { client_log(ud, IVS_LOG_DEBUG, "%s", line); }

/* ---------------------------------------------------------------------------------------
 * Construction
 * ------------------------------------------------------------------------------------- */

/* Splits the resolved endpoint into what the request line and the signature need. */
static enum ivs_status s_split_endpoint(struct ivs_client *c, struct ivs_error *err)
{
    const char *url = c->cfg.endpoint;
    struct url_parts parts;
    const char *why = url_split(url, &parts);
    if (why)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidEndpoint", "endpoint '%s' %s", url, why);
    /* SigV4 signs Host without the scheme's default port, as the HTTP stack would send it. */
    size_t host_len = parts.port_is_default ? parts.host_len : (size_t)(parts.path - parts.host);
    const char *path = parts.path;

    struct buf base = BUF_INIT;
    buf_append(&base, url, parts.scheme_len + 3);
    buf_append(&base, parts.host, (size_t)(path - parts.host));
    c->url_base = buf_steal(&base);
    c->host = ivs_strndup(parts.host, host_len);
    size_t path_len = strcspn(path, "?#");
    while (path_len > 0 && path[path_len - 1] == '/')
        path_len--;
    c->base_path = ivs_strndup(path, path_len);
    if (!c->url_base || !c->host || !c->base_path)
        return ivs_error_nomem(err);
    return IVS_OK;
}

/* botocore's sanitize_user_agent_string_component: each code point outside A-Z a-z 0-9 and
 * !$%&'*+-.^_`|~,# becomes one "-". UTF-8 is decoded first (one dash for "é", not two); a
 * byte that is not part of a valid sequence is one code point of its own, as Python's
 * surrogateescape makes it. Returns the number of code points. */
static size_t s_put_ua_token(struct buf *b, const char *s)
{
    static const char extra[] = "!$%&'*+-.^_`|~,#";
    const unsigned char *p = (const unsigned char *)s;
    size_t points = 0;
    while (*p) {
        unsigned char c = *p;
        points++;
        if (c < 0x80) {
            int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     (c && strchr(extra, c));
            buf_putc(b, ok ? (char)c : '-');
            p++;
            continue;
        }
        size_t n = c >= 0xC2 && c <= 0xDF   ? 2
                   : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xF0 && c <= 0xF4 ? 4
                                            : 1;
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                n = 1;
                break;
            }
        }
        buf_putc(b, '-');
        p += n;
    }
    return points;
}

static char *s_user_agent(const struct ivs_config *cfg, size_t *app_id_points)
{
    struct buf ua = BUF_INIT;
    curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    /* botocore's api/<service id>#<version> metadata: the id lower-cased, spaces as dashes. */
    struct buf id = BUF_INIT;
    for (const char *p = cfg->service->service_id; *p; p++)
        buf_putc(&id, *p == ' ' ? '-' : (char)tolower((unsigned char)*p));
    buf_printf(&ua, "libivs/%s api/%s#%s md/curl#%s os/linux", IVS_VERSION, buf_str(&id),
               cfg->service->model->api_version, cv && cv->version ? cv->version : "unknown");
    buf_free(&id);
    /* As botocore: the retry mode, then the app id (PROVIDERS.md 9). */
    buf_printf(&ua, " cfg/retry-mode#%s", cfg->retry_mode ? cfg->retry_mode : "standard");
    *app_id_points = 0;
    if (cfg->app_id && *cfg->app_id) {
        buf_puts(&ua, " app/");
        *app_id_points = s_put_ua_token(&ua, cfg->app_id);
    }
    return buf_steal(&ua);
}

void client_http_options(const struct ivs_client *c, struct http_options *out)
{
    *out = (struct http_options){
        .connect_timeout_ms = c->cfg.connect_timeout_ms,
        .timeout_ms = c->cfg.timeout_ms,
        .close_connection = c->cfg.close_connection,
        .ca_bundle = c->cfg.ca_bundle,
        .user_agent = c->user_agent,
        .accept_encoding = 1,
    };
}

/* Copies the caller's options into *own (this library's layout) as ivs.h's ABI rule says:
 * struct_size bytes of a smaller (older) struct, the rest defaults; a larger (newer) struct
 * only when every field this library does not know is left zero. */
static enum ivs_status s_read_options(const struct ivs_client_options *in,
                                      struct ivs_client_options *own, struct ivs_error *err)
{
    memset(own, 0, sizeof *own);
    if (!in)
        return IVS_OK;
    size_t size = in->struct_size ? in->struct_size : sizeof *own;
    if (size < sizeof in->struct_size)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_client_new: options.struct_size %zu is too small (initialise "
                             "the options with ivs_client_options_init)",
                             size);
    if (size > sizeof *own) {
        const unsigned char *extra = (const unsigned char *)in + sizeof *own;
        for (size_t i = 0; i < size - sizeof *own; i++)
            if (extra[i])
                return ivs_error_set(err, IVS_ERR_USAGE, "OptionsTooNew",
                                     "ivs_client_new: the options set fields that libivs %s "
                                     "does not know (the program was built against a newer "
                                     "ivs.h; it needs a newer libivs)",
                                     IVS_VERSION);
        size = sizeof *own;
    }
    memcpy(own, in, size);
    own->struct_size = sizeof *own;
    return IVS_OK;
}

enum ivs_status ivs_client_new(const struct ivs_client_options *opts, struct ivs_client **out,
                               struct ivs_error *err)
{
    if (!out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_client_new: out must not be NULL");
    *out = NULL;
    /* ivs.h's ABI rule: read the caller's struct up to its own size, never past it. */
    struct ivs_client_options own;
    enum ivs_status ost = s_read_options(opts, &own, err);
    if (ost == IVS_OK)
        ost = ivs_options_check(&own, err); /* the ranges of options.c, as Lua checks them */
    if (ost != IVS_OK)
        return ost;
    opts = &own;
    if (ivs_global_init() < 0)
        return ivs_error_set(err, IVS_ERR_INTERNAL, "InitFailed",
                             "libcurl global initialisation failed");

    struct ivs_client *c = calloc(1, sizeof *c);
    if (!c)
        return ivs_error_nomem(err);
    c->magic = CLIENT_MAGIC;
    c->clock = opts->clock;
    c->sleep = opts->sleep;
    c->random = opts->random;
    c->hooks_ud = opts->hooks_ud;
    c->rng = (uint64_t)s_monotonic_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)c;
    if (c->rng == 0)
        c->rng = 0x853C49E6748FEA9BULL;

    c->max_connections =
        opts->max_connections > 0 ? opts->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS;
    c->log = opts->log;
    c->log_ud = opts->log_ud;
    c->log_level = IVS_LOG_DEBUG;
    if (!c->log) {
        /* IVS_LOG=1 / info logs a line per attempt, IVS_LOG=debug adds redacted headers and bodies.
         */
        const char *env = config_getenv(opts, "IVS_LOG");
        if (env && *env && strcmp(env, "0") != 0) {
            c->log = s_stderr_log;
            c->log_level = strcasecmp(env, "debug") == 0 ? IVS_LOG_DEBUG : IVS_LOG_INFO;
        }
    }

    enum ivs_status st = config_resolve(opts, &c->cfg, err);
    if (st == IVS_OK)
        st = retry_policy_init(&c->retry, c->cfg.retry_mode, c->cfg.max_attempts,
                               c->cfg.new_retries_2026, err);
    if (st == IVS_OK) {
        retry_quota_init(&c->quota, &c->retry);
        retry_rate_init(&c->rate, (double)client_timer_now_ms(c) / 1000.0);
        st = s_split_endpoint(c, err);
    }
    if (st == IVS_OK) {
        s_remember_secret(&c->known_secrets[0], opts->secret_access_key);
        s_remember_secret(&c->known_secrets[1], opts->session_token);
        st = cred_chain_new(opts, &c->cfg, &c->creds, err);
    }
    if (st == IVS_OK) {
        cred_chain_set_log(c->creds, s_cred_log, c);
        size_t app_id_points;
        c->user_agent = s_user_agent(&c->cfg, &app_id_points);
        if (app_id_points > 50) /* botocore warns and sends it anyway */
            client_log(c, IVS_LOG_WARN,
                       "client: the app id is %zu characters long; 50 or fewer are recommended",
                       app_id_points);
        c->keys = sigv4_key_cache_new();
        c->patterns = model_pattern_cache_new();
        if (!c->user_agent || !c->keys || !c->patterns)
            st = ivs_error_nomem(err);
    }
    if (st == IVS_OK) {
        struct http_options ho;
        client_http_options(c, &ho);
        st = http_conn_new(&ho, &c->http, err);
    }
    if (st != IVS_OK) {
        ivs_client_free(c);
        return st;
    }
    client_log(c, IVS_LOG_DEBUG, "client: region %s, endpoint %s (%s), max attempts %d",
               c->cfg.region, c->cfg.endpoint,
               c->cfg.endpoint_source[0] ? c->cfg.endpoint_source : "resolved",
               c->retry.max_attempts);
    *out = c;
    return IVS_OK;
}

void ivs_client_free(struct ivs_client *c)
{
    if (!c || c->magic != CLIENT_MAGIC)
        return;
    if (async_client_shutdown(c))
        return;
    client_destroy(c);
}

void client_destroy(struct ivs_client *c)
{
    http_conn_free(c->http);
    cred_chain_free(c->creds);
    sigv4_key_cache_free(c->keys);
    model_pattern_cache_free(c->patterns);
    config_cleanup(&c->cfg);
    free(c->url_base);
    free(c->base_path);
    free(c->host);
    free(c->user_agent);
    for (size_t i = 0; i < sizeof c->known_secrets / sizeof c->known_secrets[0]; i++) {
        if (c->known_secrets[i]) {
            explicit_bzero(c->known_secrets[i], strlen(c->known_secrets[i]));
            free(c->known_secrets[i]);
        }
    }
    explicit_bzero(c->secret_digest, sizeof c->secret_digest);
    buf_free(&c->scratch.wire_path);
    buf_free(&c->scratch.url);
    buf_free(&c->scratch.req_path);
    buf_free(&c->scratch.req_body);
    http_response_cleanup(&c->scratch.resp);
    http_multi_free(c->multi);
    c->magic = 0;
    free(c);
}

const char *ivs_client_region(const struct ivs_client *c) { return c ? c->cfg.region : NULL; }

const char *ivs_client_endpoint(const struct ivs_client *c) { return c ? c->cfg.endpoint : NULL; }

enum ivs_status ivs_client_identity(struct ivs_client *c, char **json_out, struct ivs_error *err)
{
    if (json_out)
        *json_out = NULL;
    if (!c || c->magic != CLIENT_MAGIC || !json_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_client_identity: client and json_out are required");
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return ivs_error_nomem(err);
    cJSON_AddStringToObject(obj, "profile", c->cfg.profile);
    cJSON_AddStringToObject(obj, "profile_source", c->cfg.profile_source);
    cJSON_AddStringToObject(obj, "region", c->cfg.region);
    cJSON_AddStringToObject(obj, "region_source", c->cfg.region_source);
    cJSON_AddStringToObject(obj, "endpoint", c->cfg.endpoint);
    cJSON_AddStringToObject(obj, "endpoint_source",
                            c->cfg.endpoint_source[0] ? c->cfg.endpoint_source : "resolved");
    if (c->cfg.config_path)
        cJSON_AddStringToObject(obj, "config_file", c->cfg.config_path);
    if (c->cfg.credentials_path)
        cJSON_AddStringToObject(obj, "credentials_file", c->cfg.credentials_path);
    cred_chain_describe(c->creds, s_now_ms(c), obj);
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!text)
        return ivs_error_nomem(err);
    *json_out = text;
    return IVS_OK;
}

enum ivs_status ivs_client_whoami(struct ivs_client *c, char **json_out, struct ivs_error *err)
{
    if (json_out)
        *json_out = NULL;
    if (!c || c->magic != CLIENT_MAGIC || !json_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_client_whoami: client and json_out are required");
    cJSON *obj = NULL;
    enum ivs_status st = cred_chain_whoami(c->creds, s_now_ms(c), &obj, err);
    if (st != IVS_OK)
        return st;
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!text)
        return ivs_error_nomem(err);
    *json_out = text;
    return IVS_OK;
}

const char *ivs_client_service(const struct ivs_client *c)
{
    return c ? c->cfg.service->name : NULL;
}

size_t ivs_operation_count(void) { return model_default_service()->model->operation_count; }

const char *ivs_operation_name(size_t i)
{
    return ivs_service_operation_name(model_default_service()->name, i);
}

size_t ivs_service_count(void) { return model_service_count; }

const char *ivs_service_name(size_t i)
{
    return i < model_service_count ? model_services[i].name : NULL;
}

size_t ivs_service_operation_count(const char *service)
{
    const struct model_service *svc = model_find_service(service);
    return svc ? svc->model->operation_count : 0;
}

const char *ivs_service_operation_name(const char *service, size_t i)
{
    const struct model_service *svc = model_find_service(service);
    return svc && i < svc->model->operation_count ? svc->model->operations[i].name : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Service errors
 * ------------------------------------------------------------------------------------- */

static const char *s_json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* Reduces "ns#Name:http://..." to "Name" (restJson1's rule for error types). */
static char *s_clean_error_type(const char *raw)
{
    size_t len = strcspn(raw, ":");
    const char *start = raw;
    for (size_t i = 0; i < len; i++)
        if (raw[i] == '#')
            start = raw + i + 1;
    len -= (size_t)(start - raw);
    while (len > 0 && isspace((unsigned char)start[0])) {
        start++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)start[len - 1]))
        len--;
    return len ? ivs_strndup(start, len) : NULL;
}

static const char *s_status_code_name(long status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 402: return "PaymentRequired";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 413: return "RequestEntityTooLarge";
    case 429: return "TooManyRequests";
    case 500: return "InternalServerError";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return status >= 500 ? "ServerError" : "ClientError";
    }
}

/* What a response body may be before it is parsed: a tree deeper or larger than this costs
 * far more to build (cJSON, then Lua tables) than its bytes suggest, and no IVS answer comes
 * near it (shapes nest six deep; a page of 100 channels is a few thousand values). */
#define RESPONSE_MAX_DEPTH 32
#define RESPONSE_MAX_VALUES 200000

/* Measures a JSON text without building it: the deepest nesting and an upper bound of its
 * values (every value but the first follows a ',', '[' or ':'). Strings are skipped, so
 * brackets inside them do not count. Returns 0 when it is within the limits above. */
static int s_json_too_big(const char *p, size_t len, int *too_deep)
{
    size_t depth = 0, values = 1;
    *too_deep = 0;
    for (size_t i = 0; i < len; i++) {
        switch (p[i]) {
        case '"':
            for (i++; i < len && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
            break;
        case '[':
        case '{':
            if (++depth > RESPONSE_MAX_DEPTH) {
                *too_deep = 1;
                return 1;
            }
            values += p[i] == '[';
            break;
        case ']':
        case '}':
            if (depth)
                depth--;
            break;
        case ',':
        case ':': values++; break;
        default: break;
        }
        if (values > RESPONSE_MAX_VALUES)
            return 1;
    }
    return 0;
}

void client_parse_service_error(long status, const char *body, size_t body_len,
                                const char *(*header_lookup)(const void *ctx, const char *name),
                                const void *ctx, struct ivs_error *err)
{
    int too_deep;
    /* An error body too big to parse cheaply is read as text: status and headers remain. */
    cJSON *json = body && body_len && !s_json_too_big(body, body_len, &too_deep)
                      ? cJSON_ParseWithLength(body, body_len)
                      : NULL;
    if (json && !cJSON_IsObject(json)) {
        cJSON_Delete(json);
        json = NULL;
    }
    char *code = NULL;
    const char *type_header = header_lookup ? header_lookup(ctx, "x-amzn-ErrorType") : NULL;
    if (type_header)
        code = s_clean_error_type(type_header);
    static const char *const code_keys[] = {"code", "Code", "__type"};
    for (size_t i = 0; !code && json && i < sizeof code_keys / sizeof code_keys[0]; i++) {
        const char *v = s_json_string(json, code_keys[i]);
        if (v)
            code = s_clean_error_type(v);
    }

    const char *message = NULL;
    static const char *const message_keys[] = {"exceptionMessage", "message", "Message"};
    for (size_t i = 0; !message && json && i < sizeof message_keys / sizeof message_keys[0]; i++)
        message = s_json_string(json, message_keys[i]);
    if (!message && header_lookup)
        message = header_lookup(ctx, "x-amzn-ErrorMessage");

    const char *code_text = code ? code : s_status_code_name(status);
    if (message)
        ivs_error_set(err, IVS_ERR_SERVICE, code_text, "%s", message);
    else
        ivs_error_set(err, IVS_ERR_SERVICE, code_text, "the service answered HTTP %ld", status);
    if (err) {
        err->status = status;
        const char *rid = header_lookup ? header_lookup(ctx, "x-amzn-RequestId") : NULL;
        if (!rid && header_lookup)
            rid = header_lookup(ctx, "x-amz-request-id");
        free(err->request_id);
        err->request_id = ivs_strdup(rid);
    }
    free(code);
    cJSON_Delete(json);
}

static const char *s_response_header(const void *ctx, const char *name)
{
    return http_response_header(ctx, name);
}

/* ---------------------------------------------------------------------------------------
 * The call
 * ------------------------------------------------------------------------------------- */

/* call_begin on a cs already zeroed, whose buffers may hold the client's scratch blocks. On
 * failure the buffers are left for the caller to release or give back. */
static enum ivs_status s_begin(struct ivs_client *c, const struct model_operation *op,
                               const cJSON *input, struct call_state *cs, struct ivs_error *err)
{
    cs->op = op;
    enum ivs_status st = model_validate_cached(op, input, c->patterns, err);
    if (st != IVS_OK) {
        /* Validation quotes the bad value: it may be a secret in the wrong place (a stream
         * key passed as an ARN). */
        client_scrub_error(c, err);
        return st;
    }
    st = cs->from_scratch
             ? model_serialize_into(op, input, &cs->req, &cs->req_path, &cs->req_body, err)
             : model_serialize(op, input, &cs->req, err);
    if (st != IVS_OK)
        return st;

    buf_puts(&cs->wire_path, c->base_path);
    buf_puts(&cs->wire_path, cs->req.path);
    buf_puts(&cs->url, c->url_base);
    buf_append(&cs->url, buf_str(&cs->wire_path), cs->wire_path.len);
    if (cs->req.query && *cs->req.query) {
        buf_putc(&cs->url, '?');
        buf_puts(&cs->url, cs->req.query);
    }
    if (buf_failed(&cs->wire_path) || buf_failed(&cs->url)) {
        model_request_cleanup(&cs->req);
        return ivs_error_nomem(err);
    }
    return IVS_OK;
}

enum ivs_status call_begin(struct ivs_client *c, const struct model_operation *op,
                           const cJSON *input, struct call_state *cs, struct ivs_error *err)
{
    memset(cs, 0, sizeof *cs);
    enum ivs_status st = s_begin(c, op, input, cs, err);
    if (st != IVS_OK) {
        buf_free(&cs->wire_path);
        buf_free(&cs->url);
    }
    return st;
}

/* Lends the client's scratch buffers to a blocking call (when no other call holds them). */
static void s_scratch_take(struct ivs_client *c, struct call_state *cs)
{
    memset(cs, 0, sizeof *cs);
    struct call_scratch *sc = &c->scratch;
    if (sc->taken)
        return;
    sc->taken = 1;
    cs->from_scratch = 1;
    cs->wire_path = sc->wire_path;
    cs->url = sc->url;
    cs->req_path = sc->req_path;
    cs->req_body = sc->req_body;
    cs->resp = sc->resp;
    sc->wire_path = sc->url = sc->req_path = sc->req_body = (struct buf)BUF_INIT;
    sc->resp = (struct http_response){0};
    buf_reset(&cs->wire_path);
    buf_reset(&cs->url);
}

/* Empties a buffer for the next call; one grown past an unusual request is let go. */
static void s_scratch_reset(struct buf *b)
{
    if (b->failed || b->cap > 4096)
        buf_free(b);
    else
        buf_reset(b);
}

/* Takes the scratch buffers back from cs (emptied: a sensitive body is wiped), so call_end
 * releases none of them. */
static void s_scratch_give(struct ivs_client *c, struct call_state *cs)
{
    if (!cs->from_scratch)
        return;
    struct call_scratch *sc = &c->scratch;
    s_scratch_reset(&cs->wire_path);
    s_scratch_reset(&cs->url);
    s_scratch_reset(&cs->req_path);
    s_scratch_reset(&cs->req_body);
    http_response_reset(&cs->resp);
    sc->wire_path = cs->wire_path;
    sc->url = cs->url;
    sc->req_path = cs->req_path;
    sc->req_body = cs->req_body;
    sc->resp = cs->resp;
    cs->wire_path = cs->url = cs->req_path = cs->req_body = (struct buf)BUF_INIT;
    /* req pointed into the buffers just given back: it keeps only what is its own. */
    if (cs->req.borrowed) {
        cs->req.path = cs->req.body = NULL;
        cs->req.body_len = 0;
    }
    cs->resp = (struct http_response){0};
    cs->from_scratch = 0;
    sc->taken = 0;
}

enum ivs_status call_prepare_attempt(struct ivs_client *c, struct call_state *cs)
{
    const struct model_request *req = &cs->req;
    struct ivs_error *err = &cs->attempt_err;
    cs->attempt++;
    cs->sent = 0;
    ivs_error_clear(err);
    sigv4_result_cleanup(&cs->sig);

    const struct credentials *cr = NULL;
    int64_t now_ms = s_now_ms(c);
    enum ivs_status st = cred_chain_get(c->creds, now_ms, &cr, err);
    if (st != IVS_OK)
        return st;
    if (cr) {
        int same_secret = c->secret_digest_set && c->known_secrets[0] &&
                          strcmp(c->known_secrets[0], cr->secret_access_key) == 0;
        s_remember_secret(&c->known_secrets[0], cr->secret_access_key);
        s_remember_secret(&c->known_secrets[1], cr->session_token);
        if (!same_secret) {
            sigv4_secret_digest(cr->secret_access_key, c->secret_digest);
            c->secret_digest_set = 1;
        }
    }

    struct ivs_header *headers = cs->headers;
    size_t n = 0;
    headers[n++] = (struct ivs_header){"Host", c->host};
    if (req->body)
        headers[n++] = (struct ivs_header){"Content-Type", "application/json"};
    size_t signed_count = n;

    if (cr) {
        struct sigv4_params p = {
            .method = req->method,
            .path = buf_str(&cs->wire_path),
            .query = req->query,
            .headers = headers,
            .header_count = signed_count,
            .body = req->body,
            .body_len = req->body_len,
            .region = c->cfg.region,
            .service = c->cfg.service->signing_name,
            .time = now_ms / 1000,
            .access_key_id = cr->access_key_id,
            .secret_access_key = cr->secret_access_key,
            .secret_digest = c->secret_digest,
            .session_token = cr->session_token,
            .normalize_path = 1,
            .double_encode = 1,
        };
        st = sigv4_sign(&p, c->keys, &cs->sig, err);
        if (st != IVS_OK)
            return st;
        headers[n++] = (struct ivs_header){"X-Amz-Date", cs->sig.amz_date};
        if (cr->session_token && *cr->session_token)
            headers[n++] = (struct ivs_header){"X-Amz-Security-Token", cr->session_token};
        headers[n++] = (struct ivs_header){"Authorization", cs->sig.authorization};
    }
    cs->header_count = n;

    if (c->log && c->log_level >= IVS_LOG_DEBUG) {
        struct buf line = BUF_INIT;
        buf_printf(&line, "request %s %s", req->method, buf_str(&cs->url));
        for (size_t i = 0; i < n; i++) {
            buf_puts(&line, "\n  ");
            redact_header_line(&line, headers[i].name, headers[i].value);
        }
        if (req->body) {
            buf_puts(&line, "\n  body: ");
            redact_json(&line, req->body, req->body_len);
        }
        client_log(c, IVS_LOG_DEBUG, "%s", buf_str(&line));
        buf_free(&line);
    }
    cs->sent = 1;
    cs->sent_at_ms = s_monotonic_ms();
    return IVS_OK;
}

/* Output members bound to response headers (Real-Time's replication calls return nothing
 * else), added to the output as the model types them. Returns -1 when memory runs out. */
static int s_add_header_members(const struct model_operation *op, const struct http_response *resp,
                                cJSON *result)
{
    const struct model_shape *out = op->output;
    for (size_t i = 0; out && i < out->member_count; i++) {
        const struct model_member *m = &out->members[i];
        const char *v;
        if (m->location != ML_HEADER || !m->location_name ||
            !(v = http_response_header(resp, m->location_name)))
            continue;
        cJSON *item;
        char *end;
        double d;
        switch (m->shape->type) {
        case MT_INTEGER:
        case MT_LONG:
        case MT_FLOAT:
        case MT_DOUBLE:
            d = strtod(v, &end);
            item = end != v && !*end ? cJSON_CreateNumber(d) : cJSON_CreateString(v);
            break;
        case MT_BOOLEAN:
            item = strcasecmp(v, "true") == 0    ? cJSON_CreateTrue()
                   : strcasecmp(v, "false") == 0 ? cJSON_CreateFalse()
                                                 : cJSON_CreateString(v);
            break;
        default: item = cJSON_CreateString(v); break;
        }
        if (!item)
            return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(result, m->name);
        cJSON_AddItemToObject(result, m->name, item);
    }
    return 0;
}

/* Whether an operation's output has members bound to response headers: those exist only in
 * the parsed tree, so such a call cannot hand back the body text as it came. */
static int s_output_has_headers(const struct model_operation *op)
{
    const struct model_shape *out = op->output;
    for (size_t i = 0; out && i < out->member_count; i++)
        if (out->members[i].location == ML_HEADER)
            return 1;
    return 0;
}

int call_output_has_headers(const struct model_operation *op) { return s_output_has_headers(op); }

/* Turns the response of an attempt into its output or its error. */
static enum ivs_status s_parse_response(struct ivs_client *c, struct call_state *cs, cJSON **output)
{
    const struct model_operation *op = cs->op;
    struct http_response *resp = &cs->resp;
    struct ivs_error *err = &cs->attempt_err;
    int64_t elapsed = s_monotonic_ms() - cs->sent_at_ms;
    const char *rid = http_response_header(resp, "x-amzn-RequestId");
    client_log(c, IVS_LOG_INFO, "%s: HTTP %ld in %lld ms (request id %s)", op->name, resp->status,
               (long long)elapsed, rid ? rid : "none");
    if (c->log && c->log_level >= IVS_LOG_DEBUG && resp->body.len) {
        struct buf line = BUF_INIT;
        buf_puts(&line, "response body: ");
        redact_json(&line, resp->body.data, resp->body.len);
        client_log(c, IVS_LOG_DEBUG, "%s", buf_str(&line));
        buf_free(&line);
    }

    if (cs->raw_output && resp->status >= 200 && resp->status <= 299) {
        /* One pass that allocates nothing instead of a tree that would only be printed; the
         * same limits as a parsed response (json_object_within counts values as
         * s_json_too_big does). */
        if (resp->body.len == 0 || json_object_within(resp->body.data, resp->body.len,
                                                      RESPONSE_MAX_DEPTH, RESPONSE_MAX_VALUES))
            return IVS_OK;
        /* Not acceptable: the size check and the tree parser say precisely why, as for a
         * parsed response (or, where cJSON is more lenient, the text is still refused). */
        enum ivs_status st =
            client_parse_response(op->name, resp->status, resp->body.data, resp->body.len,
                                  s_response_header, resp, output, err);
        if (st != IVS_OK)
            return st;
        cJSON_Delete(*output);
        *output = NULL;
        ivs_error_set(err, IVS_ERR_INTERNAL, "InvalidResponse",
                      "%s: the service answered HTTP %ld with a body that is not a JSON object",
                      op->name, resp->status);
        err->status = resp->status;
        err->request_id = ivs_strdup(rid);
        return IVS_ERR_INTERNAL;
    }

    enum ivs_status st =
        client_parse_response(op->name, resp->status, resp->body.data, resp->body.len,
                              s_response_header, resp, output, err);
    if (st == IVS_OK && s_add_header_members(op, resp, *output) != 0) {
        cJSON_Delete(*output);
        *output = NULL;
        return ivs_error_nomem(err);
    }
    return st;
}

enum ivs_status
client_parse_response(const char *operation, long status, const char *body, size_t body_len,
                      const char *(*header_lookup)(const void *ctx, const char *name),
                      const void *ctx, cJSON **output, struct ivs_error *err)
{
    *output = NULL;
    if (status < 200 || status > 299) {
        client_parse_service_error(status, body, body_len, header_lookup, ctx, err);
        return IVS_ERR_SERVICE;
    }
    cJSON *result;
    int too_deep = 0;
    if (body_len == 0) {
        result = cJSON_CreateObject();
    } else if (s_json_too_big(body, body_len, &too_deep)) {
        if (too_deep)
            ivs_error_set(err, IVS_ERR_INTERNAL, "InvalidResponse",
                          "%s: the response is nested more than %d levels deep", operation,
                          RESPONSE_MAX_DEPTH);
        else
            ivs_error_set(err, IVS_ERR_INTERNAL, "ResponseTooLarge",
                          "%s: the response holds more than %d JSON values", operation,
                          RESPONSE_MAX_VALUES);
        if (err) {
            const char *rid = header_lookup ? header_lookup(ctx, "x-amzn-RequestId") : NULL;
            err->status = status;
            free(err->request_id);
            err->request_id = ivs_strdup(rid);
        }
        return IVS_ERR_INTERNAL;
    } else {
        /* Only whitespace may follow the object, as the raw path's check demands: cJSON stops
         * after the first value and would accept "{} junk". */
        const char *end = NULL;
        result = cJSON_ParseWithLengthOpts(body, body_len, &end, 0);
        size_t at = result && end ? (size_t)(end - body) : body_len;
        while (at < body_len && strchr(" \t\r\n", body[at]) && body[at])
            at++;
        if (!result || !cJSON_IsObject(result) || at < body_len) {
            cJSON_Delete(result);
            const char *rid = header_lookup ? header_lookup(ctx, "x-amzn-RequestId") : NULL;
            ivs_error_set(err, IVS_ERR_INTERNAL, "InvalidResponse",
                          "%s: the service answered HTTP %ld with a body that is not a JSON object",
                          operation, status);
            if (err) {
                err->status = status;
                free(err->request_id);
                err->request_id = ivs_strdup(rid);
            }
            return IVS_ERR_INTERNAL;
        }
    }
    if (!result)
        return ivs_error_nomem(err);
    *output = result;
    return IVS_OK;
}

enum call_next call_finish_attempt(struct ivs_client *c, struct call_state *cs, enum ivs_status st,
                                   cJSON **output, int64_t *delay_ms)
{
    const struct model_operation *op = cs->op;
    struct ivs_error *err = &cs->attempt_err;
    *delay_ms = 0;
    sigv4_result_cleanup(&cs->sig);
    if (cs->sent) {
        if (st == IVS_OK) {
            st = s_parse_response(c, cs, output);
        } else {
            client_log(c, IVS_LOG_INFO, "%s: %s (%s) after %lld ms", op->name,
                       err->code ? err->code : "failed", err->message ? err->message : "",
                       (long long)(s_monotonic_ms() - cs->sent_at_ms));
        }
    }
    cs->status = st;
    if (st != IVS_OK)
        client_scrub_error(c, err); /* a service may echo the request's headers back */
    enum retry_class cls = st == IVS_OK ? RETRY_NONE : retry_classify(err);
    if (c->retry.adaptive && cs->sent) {
        double rate = retry_rate_update(&c->rate, cls == RETRY_THROTTLE,
                                        (double)client_timer_now_ms(c) / 1000.0);
        if (cls == RETRY_THROTTLE)
            client_log(c, IVS_LOG_INFO, "%s: throttled, client send rate now %.3f/s", op->name,
                       rate);
    }
    if (st == IVS_OK) {
        retry_quota_on_success(&c->quota, &c->retry, cs->last_cost);
        return CALL_DONE;
    }
    err->retryable = cls != RETRY_NONE;
    if (cls == RETRY_NONE || cs->attempt >= c->retry.max_attempts)
        return CALL_DONE;
    int cost = retry_quota_acquire(&c->quota, &c->retry, cls);
    if (cost < 0) {
        /* The bucket is empty: failing fast protects a struggling service (standard mode). */
        client_log(c, IVS_LOG_WARN, "%s: not retrying, the client's retry quota is exhausted",
                   op->name);
        return CALL_DONE;
    }
    cs->last_cost = cost;
    const char *retry_after =
        st == IVS_ERR_SERVICE ? http_response_header(&cs->resp, "x-amz-retry-after") : NULL;
    int64_t delay = retry_backoff_ms(&c->retry, cls, cs->attempt, s_random(c), retry_after);
    client_log(c, IVS_LOG_INFO, "%s: attempt %d failed (%s), retrying in %lld ms", op->name,
               cs->attempt, err->code ? err->code : "error", (long long)delay);
    *delay_ms = delay;
    return CALL_RETRY;
}

int64_t call_rate_delay_ms(struct ivs_client *c)
{
    if (!c->retry.adaptive)
        return 0;
    double wait = retry_rate_acquire(&c->rate, (double)client_timer_now_ms(c) / 1000.0);
    if (wait <= 0)
        return 0;
    int64_t ms = (int64_t)ceil(wait * 1000.0);
    return ms < 1 ? 1 : ms;
}

void call_rate_take(struct ivs_client *c)
{
    retry_rate_take(&c->rate, (double)client_timer_now_ms(c) / 1000.0);
}

enum ivs_status call_end(struct call_state *cs, struct ivs_error *err)
{
    enum ivs_status st = cs->status;
    if (st != IVS_OK) {
        /* A credentials failure happens before anything is sent on that attempt. */
        cs->attempt_err.attempts =
            cs->attempt_err.kind == IVS_ERR_CREDENTIALS ? cs->attempt - 1 : cs->attempt;
        ivs_error_move(err, &cs->attempt_err);
    }
    ivs_error_clear(&cs->attempt_err);
    sigv4_result_cleanup(&cs->sig);
    http_response_cleanup(&cs->resp);
    buf_free(&cs->wire_path);
    buf_free(&cs->url);
    model_request_cleanup(&cs->req);
    buf_free(&cs->req_path);
    buf_free(&cs->req_body);
    return st;
}

/* The blocking call loop. With raw set, the output is the response text, moved into *raw
 * (checked to be one JSON object, never parsed into a tree), and *output stays NULL. */
static enum ivs_status s_call(struct ivs_client *c, const struct model_operation *op,
                              const cJSON *input, cJSON **output, struct buf *raw,
                              struct ivs_error *err)
{
    struct call_state cs;
    s_scratch_take(c, &cs);
    enum ivs_status st = s_begin(c, op, input, &cs, err);
    if (st != IVS_OK) {
        s_scratch_give(c, &cs);
        buf_free(&cs.wire_path);
        buf_free(&cs.url);
        return st;
    }
    cs.raw_output = raw != NULL && !s_output_has_headers(op);
    for (;;) {
        int64_t wait = call_rate_delay_ms(c);
        if (wait > 0) {
            client_log(c, IVS_LOG_DEBUG, "%s: client-side rate limit, waiting %lld ms", op->name,
                       (long long)wait);
            s_sleep_ms(c, wait);
            call_rate_take(c);
        }
        st = call_prepare_attempt(c, &cs);
        if (st == IVS_OK)
            st = http_perform(c->http, cs.req.method, buf_str(&cs.url), cs.headers, cs.header_count,
                              cs.req.body, cs.req.body ? cs.req.body_len : 0, &cs.resp,
                              &cs.attempt_err);
        int64_t delay;
        if (call_finish_attempt(c, &cs, st, output, &delay) == CALL_DONE)
            break;
        s_sleep_ms(c, delay);
    }
    if (raw && cs.status == IVS_OK && cs.raw_output) {
        *raw = cs.resp.body;
        cs.resp.body = (struct buf)BUF_INIT;
    } else if (raw && cs.status == IVS_OK && *output) {
        /* Header-bound members live only in the tree: print it. */
        char *text = cJSON_PrintUnformatted(*output);
        cJSON_Delete(*output);
        *output = NULL;
        if (text)
            buf_puts(raw, text);
        free(text);
        if (!text || buf_failed(raw)) {
            buf_free(raw);
            s_scratch_give(c, &cs);
            call_end(&cs, NULL);
            return ivs_error_nomem(err);
        }
    }
    s_scratch_give(c, &cs);
    return call_end(&cs, err);
}

enum ivs_status client_call_json(struct ivs_client *c, const struct model_operation *op,
                                 const cJSON *input, cJSON **output, struct ivs_error *err)
{
    if (output)
        *output = NULL;
    if (!c || c->magic != CLIENT_MAGIC || !op || !output)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "client_call_json: client, operation and output are required");
    return s_call(c, op, input, output, NULL, err);
}

enum ivs_status client_call_text(struct ivs_client *c, const struct model_operation *op,
                                 const cJSON *input, struct buf *body, struct ivs_error *err)
{
    if (!c || c->magic != CLIENT_MAGIC || !op || !body)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "client_call_text: client, operation and body are required");
    cJSON *unused = NULL;
    enum ivs_status st = s_call(c, op, input, &unused, body, err);
    if (st != IVS_OK)
        buf_free(body);
    return st;
}

/* Whether `len` bytes of JSON text end inside a string or an unclosed object or array. */
static int s_json_is_unfinished(const char *text, size_t len)
{
    size_t depth = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if ((ch == '}' || ch == ']') && depth > 0) {
            depth--;
        }
    }
    return in_string || depth > 0;
}

enum ivs_status client_parse_request(const struct ivs_client *c, const char *operation,
                                     const char *request_json, size_t request_len,
                                     const struct model_operation **op_out, cJSON **input_out,
                                     struct ivs_error *err)
{
    *op_out = NULL;
    *input_out = NULL;
    const struct model_service *svc = c->cfg.service;
    const struct model_operation *op = model_find_operation(svc, operation);
    if (!op)
        return ivs_error_set(err, IVS_ERR_USAGE, "UnknownOperation",
                             "'%s' is not an operation of %s", operation, svc->name);
    cJSON *input = NULL;
    /* ivs.h's rule: a length of 0 reads up to the NUL, so a caller who passes a string and
     * forgets its length sends what they wrote, never a silent `{}`. */
    size_t len = request_json && request_len == 0 ? strlen(request_json) : request_len;
    if (request_json && len) {
        const char *end = NULL;
        input = cJSON_ParseWithLengthOpts(request_json, len, &end, 0);
        size_t at = end && end >= request_json ? (size_t)(end - request_json) : 0;
        if (!input) {
            /* Text that is still inside a string, object or array when the bytes run out
             * was most likely cut short by request_len: say that rather than "bad JSON". */
            if (request_len && s_json_is_unfinished(request_json, len))
                return ivs_error_set(err, IVS_ERR_VALIDATION, "ParamValidationError",
                                     "%s: request_json ends inside the JSON text after "
                                     "request_len = %zu bytes (pass the whole length, or 0 "
                                     "for a NUL-terminated string)",
                                     op->snake_name, request_len);
            return ivs_error_set(err, IVS_ERR_VALIDATION, "ParamValidationError",
                                 "%s: request_json is not valid JSON (at byte %zu of %zu)",
                                 op->snake_name, at, len);
        }
        /* strchr also matches the NUL, so a length that counts the terminator (sizeof of a
         * literal) is accepted. */
        while (at < len && strchr(" \t\r\n", request_json[at]))
            at++;
        if (!cJSON_IsObject(input) || at < len) {
            int is_object = cJSON_IsObject(input);
            cJSON_Delete(input);
            if (is_object)
                return ivs_error_set(err, IVS_ERR_VALIDATION, "ParamValidationError",
                                     "%s: request_json has bytes after its JSON object (at byte "
                                     "%zu of request_len = %zu)",
                                     op->snake_name, at, len);
            return ivs_error_set(err, IVS_ERR_VALIDATION, "ParamValidationError",
                                 "%s: the request must be a JSON object", op->snake_name);
        }
    }
    *op_out = op;
    *input_out = input;
    return IVS_OK;
}

enum ivs_status ivs_client_call(struct ivs_client *c, const char *operation,
                                const char *request_json, size_t request_len, char **response_json,
                                size_t *response_len, struct ivs_error *err)
{
    if (response_json)
        *response_json = NULL;
    if (response_len)
        *response_len = 0;
    if (!c || c->magic != CLIENT_MAGIC || !operation || !response_json)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_client_call: client, operation and response_json are required");
    const struct model_operation *op;
    cJSON *input;
    enum ivs_status st =
        client_parse_request(c, operation, request_json, request_len, &op, &input, err);
    if (st != IVS_OK)
        return st;
    /* The response goes back as the service sent it: parsing it into a tree only to print the
     * tree again doubled the work of a call. */
    struct buf body = BUF_INIT;
    st = client_call_text(c, op, input, &body, err);
    cJSON_Delete(input);
    if (st != IVS_OK)
        return st;
    if (body.len == 0)
        buf_puts(&body, "{}");
    if (buf_failed(&body)) {
        buf_free(&body);
        return ivs_error_nomem(err);
    }
    if (response_len)
        *response_len = body.len;
    *response_json = body.data;
    return IVS_OK;
}
