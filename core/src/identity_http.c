#include "identity_http.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "errors.h"
#include "http.h"
#include "model.h"
#include "profile.h"
#include "sigv4.h"
#include "url.h"

#define IDENT_DEFAULT_ATTEMPTS 3
#define IDENT_BACKOFF_BASE_MS 100

/* ------------------------------------------------------------------------------------------
 * Endpoints
 * ---------------------------------------------------------------------------------------- */

/* Per service: its endpoint variable, its key in a [services] section, its host prefix. */
static const struct {
    const char *env_name;
    const char *services_key;
    const char *host_prefix;
} s_services[] = {
    [IDENT_STS] = {"AWS_ENDPOINT_URL_STS", "sts", "sts"},
    [IDENT_SSO] = {"AWS_ENDPOINT_URL_SSO", "sso", "portal.sso"},
    [IDENT_SSO_OIDC] = {"AWS_ENDPOINT_URL_SSO_OIDC", "sso_oidc", "oidc"},
    [IDENT_SIGNIN] = {"AWS_ENDPOINT_URL_SIGNIN", "signin", "signin"},
};

/* Regions where sts_regional_endpoints = legacy still means the global endpoint (botocore's
 * LEGACY_GLOBAL_STS_REGIONS). */
static const char *const s_legacy_sts_regions[] = {
    "ap-northeast-1", "ap-south-1",   "ap-southeast-1", "ap-southeast-2",
    "aws-global",     "ca-central-1", "eu-central-1",   "eu-north-1",
    "eu-west-1",      "eu-west-2",    "eu-west-3",      "sa-east-1",
    "us-east-1",      "us-east-2",    "us-west-1",      "us-west-2",
};

/* The configured endpoint for a service, or NULL. */
static const char *configured_endpoint(const struct ivs_config *cfg, enum ident_service svc,
                                       const char **source)
{
    const char *ignore = config_env(cfg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (!ignore)
        ignore = config_profile_value(cfg, "ignore_configured_endpoint_urls");
    if (config_is_true(ignore))
        return NULL;
    const char *v = config_env(cfg, s_services[svc].env_name);
    if (v) {
        *source = s_services[svc].env_name;
        return v;
    }
    if ((v = config_env(cfg, "AWS_ENDPOINT_URL")) != NULL) {
        *source = "AWS_ENDPOINT_URL";
        return v;
    }
    const char *services = profile_get(cfg->config_file, cfg->profile, "services");
    if (services) {
        v = profile_get_sub(cfg->config_file, PROFILE_SECTION_SERVICES, services,
                            s_services[svc].services_key, "endpoint_url");
        if (v && *v) {
            *source = "services section";
            return v;
        }
    }
    if ((v = config_profile_value(cfg, "endpoint_url")) != NULL) {
        *source = "profile endpoint_url";
        return v;
    }
    return NULL;
}

/* The DNS suffix of a region's partition, read off the IVS default endpoint
 * ("https://ivs.<region>.<suffix>") so the partition table stays in one place. */
static char *partition_suffix(const char *region, int dualstack, struct ivs_error *err)
{
    char *ivs_url = NULL;
    if (config_default_endpoint(model_default_service(), region, 0, dualstack, &ivs_url, err) !=
        IVS_OK)
        return NULL;
    const char *at = strstr(ivs_url, region);
    char *suffix = NULL;
    if (at && at[strlen(region)] == '.')
        suffix = ivs_strdup(at + strlen(region) + 1);
    else
        ivs_error_set(err, IVS_ERR_INTERNAL, "InvalidEndpoint", "no DNS suffix for region %s",
                      region);
    free(ivs_url);
    return suffix;
}

enum ivs_status ident_endpoint(const struct ivs_config *cfg, enum ident_service svc,
                               const char *region, char **url, char **signing_region,
                               const char **source, struct ivs_error *err)
{
    *url = NULL;
    *signing_region = NULL;
    *source = "default";
    const char *configured = configured_endpoint(cfg, svc, source);
    if (configured) {
        enum ivs_status st = config_check_endpoint_url(configured, *source, url, err);
        if (st != IVS_OK)
            return st;
        *signing_region = ivs_strdup(region);
        return *signing_region ? IVS_OK : ivs_error_nomem(err);
    }
    struct buf b = BUF_INIT;
    const char *sign_region = region;
    if (svc == IDENT_STS) {
        const char *mode = config_env(cfg, "AWS_STS_REGIONAL_ENDPOINTS");
        const char *mode_source = "AWS_STS_REGIONAL_ENDPOINTS";
        if (!mode) {
            mode = config_profile_value(cfg, "sts_regional_endpoints");
            mode_source = "sts_regional_endpoints";
        }
        if (mode && strcmp(mode, "legacy") != 0 && strcmp(mode, "regional") != 0)
            return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                 "%s is \"%.40s\"; valid values are \"legacy\" and \"regional\"",
                                 mode_source, mode);
        int legacy = mode && strcmp(mode, "legacy") == 0 && !cfg->use_fips && !cfg->use_dualstack;
        for (size_t i = 0; legacy && i < sizeof s_legacy_sts_regions / sizeof *s_legacy_sts_regions;
             i++) {
            if (strcmp(region, s_legacy_sts_regions[i]) == 0) {
                buf_puts(&b, "https://sts.amazonaws.com");
                sign_region = "us-east-1";
                break;
            }
        }
    }
    if (b.len == 0) {
        int dualstack = svc == IDENT_STS && cfg->use_dualstack;
        char *suffix = partition_suffix(region, dualstack, err);
        if (!suffix)
            return err && err->kind ? err->kind : IVS_ERR_INTERNAL;
        if (svc == IDENT_SIGNIN && strcmp(suffix, "amazonaws.com") == 0 &&
            strncmp(region, "us-gov-", 7) != 0)
            buf_printf(&b, "https://%s.signin.aws.amazon.com", region);
        else if (svc == IDENT_SIGNIN && strcmp(suffix, "amazonaws.com.cn") == 0)
            buf_printf(&b, "https://%s.signin.amazonaws.cn", region);
        else if (svc == IDENT_SIGNIN && strncmp(region, "us-gov-", 7) == 0)
            buf_printf(&b, "https://%s.signin.amazonaws-us-gov.com", region);
        else
            buf_printf(&b, "https://%s%s.%s.%s", s_services[svc].host_prefix,
                       svc == IDENT_STS && cfg->use_fips ? "-fips" : "", region, suffix);
        free(suffix);
    }
    *url = buf_steal(&b);
    *signing_region = ivs_strdup(sign_region);
    if (!*url || !*signing_region) {
        free(*url);
        free(*signing_region);
        *url = *signing_region = NULL;
        return ivs_error_nomem(err);
    }
    return IVS_OK;
}

void ident_form_encode(struct buf *out, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(out, (char)*p);
        } else if (*p == ' ') {
            buf_putc(out, '+');
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(out, enc, 3);
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * XML (expat)
 * ---------------------------------------------------------------------------------------- */

struct xml_parse {
    struct xml_doc *doc;
    struct buf path; /* "A/B/C" of the open elements */
    struct buf text; /* character data of the innermost open element */
    int had_child;   /* the innermost open element has a child element */
    int failed;
};

static void wipe_buf(struct buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    buf_free(b);
}

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct xml_parse *x = ud;
    if (x->path.len)
        buf_putc(&x->path, '/');
    buf_puts(&x->path, name);
    if (x->text.data)
        explicit_bzero(x->text.data, x->text.len);
    buf_reset(&x->text);
    x->had_child = 0;
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct xml_parse *x = ud;
    struct xml_doc *d = x->doc;
    if (!x->had_child && !x->failed) {
        if (d->count == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 16;
            struct xml_leaf *grown = realloc(d->leaves, cap * sizeof *grown);
            if (!grown) {
                x->failed = 1;
                return;
            }
            d->leaves = grown;
            d->cap = cap;
        }
        char *path = ivs_strdup(buf_str(&x->path));
        char *text = ivs_strdup(buf_str(&x->text));
        if (!path || !text || buf_failed(&x->path) || buf_failed(&x->text)) {
            free(path);
            if (text)
                explicit_bzero(text, strlen(text));
            free(text);
            x->failed = 1;
            return;
        }
        d->leaves[d->count].path = path;
        d->leaves[d->count].text = text;
        d->count++;
    }
    char *slash = x->path.data ? strrchr(x->path.data, '/') : NULL;
    x->path.len = slash ? (size_t)(slash - x->path.data) : 0;
    if (x->path.data)
        x->path.data[x->path.len] = '\0';
    if (x->text.data)
        explicit_bzero(x->text.data, x->text.len);
    buf_reset(&x->text);
    /* The parent now has (had) a child. */
    x->had_child = 1;
}

static void XMLCALL xml_chars(void *ud, const XML_Char *s, int len)
{
    struct xml_parse *x = ud;
    buf_append(&x->text, s, (size_t)len);
}

int xml_doc_parse(struct xml_doc *doc, const char *text, size_t len)
{
    memset(doc, 0, sizeof *doc);
    XML_Parser p = XML_ParserCreate("UTF-8");
    if (!p)
        return -1;
    struct xml_parse x = {doc, BUF_INIT, BUF_INIT, 0, 0};
    x.text.sensitive = 1;
    XML_SetUserData(p, &x);
    XML_SetElementHandler(p, xml_start, xml_end);
    XML_SetCharacterDataHandler(p, xml_chars);
    int ok = len <= (size_t)INT32_MAX &&
             XML_Parse(p, text ? text : "", (int)len, XML_TRUE) == XML_STATUS_OK && !x.failed;
    XML_ParserFree(p);
    buf_free(&x.path);
    wipe_buf(&x.text);
    if (!ok || doc->count == 0) {
        xml_doc_free(doc);
        return -1;
    }
    return 0;
}

void xml_doc_free(struct xml_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->count; i++) {
        free(doc->leaves[i].path);
        explicit_bzero(doc->leaves[i].text, strlen(doc->leaves[i].text));
        free(doc->leaves[i].text);
    }
    free(doc->leaves);
    memset(doc, 0, sizeof *doc);
}

const char *xml_doc_get(const struct xml_doc *doc, const char *suffix)
{
    size_t n = strlen(suffix);
    for (size_t i = 0; i < doc->count; i++) {
        const char *path = doc->leaves[i].path;
        size_t len = strlen(path);
        if (len == n ? strcmp(path, suffix) == 0
                     : len > n && path[len - n - 1] == '/' && strcmp(path + len - n, suffix) == 0)
            return doc->leaves[i].text;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Sending with retries
 * ---------------------------------------------------------------------------------------- */

static void backoff(const struct ident_ctx *ctx, int attempt)
{
    int64_t ms = (int64_t)IDENT_BACKOFF_BASE_MS << (attempt > 4 ? 4 : attempt - 1);
    if (ctx->sleep) {
        ctx->sleep(ctx->sleep_ud, ms);
        return;
    }
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static int max_attempts(const struct ident_ctx *ctx)
{
    return ctx->cfg->max_attempts > 0 ? ctx->cfg->max_attempts : IDENT_DEFAULT_ATTEMPTS;
}

static void response_wipe(struct http_response *resp)
{
    if (resp->body.data)
        explicit_bzero(resp->body.data, resp->body.cap);
    http_response_cleanup(resp);
}

static int throttling_code(const char *code)
{
    static const char *const codes[] = {"Throttling",
                                        "ThrottlingException",
                                        "RequestLimitExceeded",
                                        "TooManyRequestsException",
                                        "IDPCommunicationError",
                                        "RequestThrottled"};
    for (size_t i = 0; code && i < sizeof codes / sizeof *codes; i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

/* Sends once per attempt until an answer that is not worth retrying (or attempts run out).
 * code_of reads the error code of an answer for the throttling check. On IVS_OK resp holds
 * the last answer. */
static enum ivs_status send_with_retries(const struct ident_ctx *ctx, const char *method,
                                         const char *url, const struct ivs_header *headers,
                                         size_t header_count, const char *body, size_t body_len,
                                         char *(*code_of)(const struct http_response *),
                                         struct http_response *resp, struct ivs_error *err)
{
    struct http_options ho = {0};
    ho.timeout_ms = ctx->cfg->timeout_ms;
    ho.connect_timeout_ms = ctx->cfg->connect_timeout_ms;
    ho.ca_bundle = ctx->cfg->ca_bundle;
    ho.sensitive_body = 1;
    struct http_conn *conn = NULL;
    enum ivs_status st = http_conn_new(&ho, &conn, err);
    if (st != IVS_OK)
        return st;
    int attempts = max_attempts(ctx);
    for (int attempt = 1; attempt <= attempts; attempt++) {
        response_wipe(resp);
        ivs_error_clear(err);
        st = http_perform(conn, method, url, headers, header_count, body, body_len, resp, err);
        int retry;
        if (st != IVS_OK) {
            retry = st == IVS_ERR_NETWORK || st == IVS_ERR_TIMEOUT;
        } else if (resp->status >= 500 || resp->status == 429) {
            retry = 1;
        } else if (resp->status >= 400) {
            char *code = code_of(resp);
            retry = throttling_code(code);
            free(code);
        } else {
            retry = 0;
        }
        if (!retry || attempt == attempts)
            break;
        backoff(ctx, attempt);
    }
    http_conn_free(conn);
    return st;
}

/* ---- STS ---- */

static char *sts_code_of(const struct http_response *resp)
{
    struct xml_doc doc;
    if (xml_doc_parse(&doc, resp->body.data, resp->body.len) != 0)
        return NULL;
    char *code = ivs_strdup(xml_doc_get(&doc, "Error/Code"));
    xml_doc_free(&doc);
    return code;
}

static const char *status_name(long status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 429: return "TooManyRequests";
    case 500: return "InternalServerError";
    case 503: return "ServiceUnavailable";
    default: return status >= 500 ? "ServerError" : "ClientError";
    }
}

/* Splits "scheme://host[:port][/path]" into the Host header value (default port left out, as
 * libcurl sends it) and the path. */
static int split_url(const char *url, char **host, char **path)
{
    struct url_parts parts;
    if (url_split(url, &parts))
        return -1;
    *host = ivs_strndup(parts.host,
                        parts.port_is_default ? parts.host_len : (size_t)(parts.path - parts.host));
    *path = ivs_strdup(parts.path);
    return *host && *path ? 0 : -1;
}

enum ivs_status ident_sts_call(const struct ident_ctx *ctx, const char *action, const char *form,
                               const struct ident_signer *signer, const char *context,
                               enum ivs_status fail_kind, struct xml_doc *out,
                               struct ivs_error *err)
{
    memset(out, 0, sizeof *out);
    char *base = NULL, *signing_region = NULL, *host = NULL, *path = NULL;
    const char *source;
    enum ivs_status st =
        ident_endpoint(ctx->cfg, IDENT_STS, ctx->cfg->region, &base, &signing_region, &source, err);
    if (st != IVS_OK)
        return st;
    struct buf url = BUF_INIT, wire_path = BUF_INIT;
    if (split_url(base, &host, &path) != 0) {
        st = ivs_error_nomem(err);
        goto done;
    }
    buf_printf(&wire_path, "%s/", path);
    buf_printf(&url, "%s/", base);
    if (buf_failed(&url) || buf_failed(&wire_path)) {
        st = ivs_error_nomem(err);
        goto done;
    }
    struct ivs_header headers[6];
    size_t n = 0;
    headers[n++] = (struct ivs_header){"Host", host};
    headers[n++] =
        (struct ivs_header){"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
    struct sigv4_result sig = {0};
    time_t now = time(NULL);
    if (signer) {
        struct sigv4_params p = {
            .method = "POST",
            .path = buf_str(&wire_path),
            .headers = headers,
            .header_count = n,
            .body = form,
            .body_len = strlen(form),
            .region = signing_region,
            .service = "sts",
            .time = (int64_t)now,
            .access_key_id = signer->access_key_id,
            .secret_access_key = signer->secret_access_key,
            .session_token = signer->session_token,
            .normalize_path = 1,
            .double_encode = 1,
        };
        st = sigv4_sign(&p, NULL, &sig, err);
        if (st != IVS_OK)
            goto done;
        headers[n++] = (struct ivs_header){"X-Amz-Date", sig.amz_date};
        if (signer->session_token && *signer->session_token)
            headers[n++] = (struct ivs_header){"X-Amz-Security-Token", signer->session_token};
        headers[n++] = (struct ivs_header){"Authorization", sig.authorization};
    }
    struct http_response resp = {0};
    /* Host is derived from the URL by libcurl; it is only listed here to be signed. */
    st = send_with_retries(ctx, "POST", buf_str(&url), headers + 1, n - 1, form, strlen(form),
                           sts_code_of, &resp, err);
    sigv4_result_cleanup(&sig);
    if (st != IVS_OK) {
        ivs_error_prefix(err, context);
        response_wipe(&resp);
        goto done;
    }
    if (resp.status == 200) {
        if (xml_doc_parse(out, resp.body.data, resp.body.len) != 0)
            st = ivs_error_set(err, IVS_ERR_INTERNAL, "InvalidResponse",
                               "%s: STS (%s) answered %s with HTTP 200 but a body that is not "
                               "XML",
                               context, buf_str(&url), action);
    } else {
        struct xml_doc edoc;
        const char *rid = http_response_header(&resp, "x-amzn-RequestId");
        if (xml_doc_parse(&edoc, resp.body.data, resp.body.len) == 0 &&
            xml_doc_get(&edoc, "Error/Code")) {
            const char *msg = xml_doc_get(&edoc, "Error/Message");
            st = ivs_error_set(err, fail_kind, xml_doc_get(&edoc, "Error/Code"),
                               "%s: STS %s failed (%s): %s", context, action,
                               xml_doc_get(&edoc, "Error/Code"), msg ? msg : "no message");
            if (!rid)
                rid = xml_doc_get(&edoc, "RequestId");
            if (err) {
                free(err->request_id);
                err->request_id = ivs_strdup(rid);
            }
            xml_doc_free(&edoc);
        } else {
            st = ivs_error_set(err, fail_kind, status_name(resp.status),
                               "%s: STS (%s) answered %s with HTTP %ld and a body that is not "
                               "an XML error document",
                               context, buf_str(&url), action, resp.status);
            if (err) {
                free(err->request_id);
                err->request_id = ivs_strdup(rid);
            }
        }
        if (err) {
            err->status = resp.status;
            err->retryable = resp.status >= 500 || resp.status == 429;
        }
    }
    response_wipe(&resp);
done:
    buf_free(&url);
    buf_free(&wire_path);
    free(base);
    free(signing_region);
    free(host);
    free(path);
    return st;
}

/* ---- JSON services ---- */

void ident_json_wipe_delete(struct cJSON *j)
{
    for (cJSON *e = j; e; e = e->next) {
        if (e->valuestring)
            explicit_bzero(e->valuestring, strlen(e->valuestring));
        ident_json_wipe_delete(e->child);
        e->child = NULL;
    }
    cJSON_Delete(j);
}

/* "ns#Name:http://..." → "Name". */
static char *clean_type(const char *raw)
{
    size_t len = strcspn(raw, ":");
    const char *start = raw;
    for (size_t i = 0; i < len; i++)
        if (raw[i] == '#')
            start = raw + i + 1;
    len -= (size_t)(start - raw);
    return len ? ivs_strndup(start, len) : NULL;
}

static char *json_code_of(const struct http_response *resp)
{
    const char *h = http_response_header(resp, "x-amzn-ErrorType");
    if (h)
        return clean_type(h);
    cJSON *doc = cJSON_ParseWithLength(resp->body.data ? resp->body.data : "", resp->body.len);
    char *code = NULL;
    static const char *const keys[] = {"__type", "code", "Code"};
    for (size_t i = 0; !code && i < sizeof keys / sizeof *keys; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, keys[i]);
        if (cJSON_IsString(v) && *v->valuestring)
            code = clean_type(v->valuestring);
    }
    ident_json_wipe_delete(doc);
    return code;
}

enum ivs_status ident_json_call(const struct ident_ctx *ctx, const char *method, const char *url,
                                const struct ivs_header *headers, size_t header_count,
                                const char *body, struct cJSON **out, char **out_error_field,
                                struct ivs_error *err)
{
    *out = NULL;
    if (out_error_field)
        *out_error_field = NULL;
    struct ivs_header all[8];
    size_t n = 0;
    if (body)
        all[n++] = (struct ivs_header){"Content-Type", "application/json"};
    all[n++] = (struct ivs_header){"Accept", "application/json"};
    for (size_t i = 0; i < header_count && n < sizeof all / sizeof *all; i++)
        all[n++] = headers[i];
    struct http_response resp = {0};
    enum ivs_status st = send_with_retries(ctx, method, url, all, n, body, body ? strlen(body) : 0,
                                           json_code_of, &resp, err);
    if (st != IVS_OK) {
        response_wipe(&resp);
        return st;
    }
    cJSON *doc = resp.body.len ? cJSON_ParseWithLength(resp.body.data, resp.body.len) : NULL;
    if (resp.status >= 200 && resp.status <= 299) {
        if (!cJSON_IsObject(doc)) {
            ident_json_wipe_delete(doc);
            st = ivs_error_set(err, IVS_ERR_INTERNAL, "InvalidResponse",
                               "%s answered HTTP %ld with a body that is not a JSON object", url,
                               resp.status);
            if (err)
                err->status = resp.status;
        } else {
            *out = doc;
        }
        response_wipe(&resp);
        return st;
    }
    char *code = json_code_of(&resp);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(doc, "message");
    if (!cJSON_IsString(msg))
        msg = cJSON_GetObjectItemCaseSensitive(doc, "Message");
    const cJSON *oauth = cJSON_GetObjectItemCaseSensitive(doc, "error");
    if (out_error_field && cJSON_IsString(oauth))
        *out_error_field = ivs_strdup(oauth->valuestring);
    /* Error messages of these services name the problem, never the token; they are cut to a
     * readable length all the same. */
    st =
        ivs_error_set(err, IVS_ERR_SERVICE, code ? code : status_name(resp.status),
                      "%s answered HTTP %ld%s%.200s", url, resp.status,
                      cJSON_IsString(msg) ? ": " : "", cJSON_IsString(msg) ? msg->valuestring : "");
    if (err) {
        err->status = resp.status;
        free(err->request_id);
        err->request_id = ivs_strdup(http_response_header(&resp, "x-amzn-RequestId"));
    }
    free(code);
    ident_json_wipe_delete(doc);
    response_wipe(&resp);
    return st;
}
