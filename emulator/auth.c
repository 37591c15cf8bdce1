#include "auth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "sigv4.h"

const char *emu_header(const struct emu_request_view *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (!strcasecmp(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

static int deny(struct emu_reply *out, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int deny(struct emu_reply *out, const char *type, const char *fmt, ...)
{
    struct buf m = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&m, fmt, ap);
    va_end(ap);
    emu_reply_error(out, 403, type, "%s", buf_str(&m));
    buf_free(&m);
    out->front_door = 1;
    return -1;
}

struct auth_parts {
    char credential[256];
    char signed_headers[1024];
    char signature[128];
    int have_credential, have_signed_headers, have_signature;
};

/* Reads "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." (any order,
 * commas with or without spaces). Returns 0 when the algorithm is right. */
static int split_authorization(const char *h, struct auth_parts *p)
{
    memset(p, 0, sizeof *p);
    static const char algo[] = "AWS4-HMAC-SHA256";
    if (strncmp(h, algo, sizeof algo - 1) != 0 ||
        (h[sizeof algo - 1] != ' ' && h[sizeof algo - 1] != '\0'))
        return -1;
    const char *s = h + sizeof algo - 1;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        while (len && s[len - 1] == ' ')
            len--;
        struct {
            const char *key;
            char *dst;
            size_t cap;
            int *flag;
        } fields[] = {{"Credential=", p->credential, sizeof p->credential, &p->have_credential},
                      {"SignedHeaders=", p->signed_headers, sizeof p->signed_headers,
                       &p->have_signed_headers},
                      {"Signature=", p->signature, sizeof p->signature, &p->have_signature}};
        for (size_t i = 0; i < 3; i++) {
            size_t kl = strlen(fields[i].key);
            if (len > kl && !strncmp(s, fields[i].key, kl) && len - kl < fields[i].cap) {
                memcpy(fields[i].dst, s + kl, len - kl);
                fields[i].dst[len - kl] = '\0';
                *fields[i].flag = 1;
            }
        }
        s += len;
        while (*s && *s != ',')
            s++;
    }
    return 0;
}

int auth_scope_key(const char *authorization, char *akid, size_t akid_len, char *service,
                   size_t service_len)
{
    struct auth_parts p;
    if (!authorization || split_authorization(authorization, &p) != 0 || !p.have_credential)
        return -1;
    char k[128], date[16], reg[64], svc[64], term[64];
    if (sscanf(p.credential, "%127[^/]/%15[^/]/%63[^/]/%63[^/]/%63s", k, date, reg, svc, term) != 5)
        return -1;
    snprintf(akid, akid_len, "%s", k);
    snprintf(service, service_len, "%s", svc);
    return 0;
}

int auth_scope_region(const char *authorization, char *region, size_t region_len)
{
    struct auth_parts p;
    if (!authorization || split_authorization(authorization, &p) != 0 || !p.have_credential)
        return -1;
    char akid[128], date[16], reg[64], svc[64], term[64];
    if (sscanf(p.credential, "%127[^/]/%15[^/]/%63[^/]/%63[^/]/%63s", akid, date, reg, svc, term) !=
        5)
        return -1;
    snprintf(region, region_len, "%s", reg);
    return 0;
}

static int parse_http_date(const char *s, long long *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return -1;
    *t = (long long)timegm(&tm);
    return 0;
}

/* Signs the request as its sender must have, over the headers it named. The signer sets
 * X-Amz-Date, X-Amz-Security-Token and X-Amz-Content-SHA256 itself, so those are handed over
 * as parameters rather than as headers. */
static int recompute(const struct emu_request_view *req, const struct auth_parts *p,
                     const char *region, const char *service, const char *secret, const char *akid,
                     long long when, struct sigv4_key_cache *cache, struct sigv4_result *res)
{
    struct ivs_header *hs = calloc(req->header_count + 1, sizeof *hs);
    /* A name SignedHeaders lists twice ("host;host") must not take a header twice: hs has
     * room for each request header once. */
    unsigned char *taken = calloc(req->header_count + 1, 1);
    if (!hs || !taken) {
        free(hs);
        free(taken);
        return -1;
    }
    size_t n = 0;
    int token_signed = 0, content_sha_signed = 0;
    /* Each name from SignedHeaders, with every value the request carries for it. */
    const char *names = p->signed_headers;
    while (*names) {
        const char *semi = strchr(names, ';');
        size_t len = semi ? (size_t)(semi - names) : strlen(names);
        for (size_t i = 0; i < req->header_count; i++) {
            const char *hn = req->headers[i].name;
            if (taken[i] || strlen(hn) != len || strncasecmp(hn, names, len) != 0)
                continue;
            taken[i] = 1;
            if (!strcasecmp(hn, "x-amz-date"))
                continue;
            if (!strcasecmp(hn, "x-amz-security-token")) {
                token_signed = 1;
                continue;
            }
            if (!strcasecmp(hn, "x-amz-content-sha256")) {
                content_sha_signed = 1;
                continue;
            }
            hs[n++] = req->headers[i];
        }
        names += len;
        if (*names == ';')
            names++;
    }
    struct sigv4_params sp;
    memset(&sp, 0, sizeof sp);
    sp.method = req->method;
    sp.path = req->raw_path;
    sp.query = req->raw_query;
    sp.headers = hs;
    sp.header_count = n;
    sp.body = req->body;
    sp.body_len = req->body_len;
    sp.region = region;
    sp.service = service;
    sp.time = when;
    sp.access_key_id = akid;
    sp.secret_access_key = secret;
    sp.session_token = emu_header(req, "x-amz-security-token");
    sp.omit_session_token = sp.session_token && !token_signed;
    sp.add_content_sha256 = content_sha_signed;
    sp.normalize_path = 1;
    sp.double_encode = 1;
    struct ivs_error err = {0};
    enum ivs_status st = sigv4_sign(&sp, cache, res, &err);
    ivs_error_clear(&err);
    free(hs);
    free(taken);
    return st == IVS_OK ? 0 : -1;
}

int auth_verify(const struct emu_auth *a, const struct emu_request_view *req, long long now,
                struct sigv4_key_cache *cache, const char **account, char *region,
                size_t region_len, struct emu_reply *out)
{
    const char *authz = emu_header(req, "authorization");
    if (!authz || !*authz) {
        emu_reply_error(out, 403, "MissingAuthenticationTokenException",
                        "Missing Authentication Token");
        out->front_door = 1;
        return -1;
    }
    struct auth_parts p;
    const char *amz_date = emu_header(req, "x-amz-date");
    const char *http_date = emu_header(req, "date");
    if (split_authorization(authz, &p) != 0 || !p.have_credential || !p.have_signed_headers ||
        !p.have_signature || (!amz_date && !http_date)) {
        struct buf m = BUF_INIT;
        if (!p.have_credential)
            buf_puts(&m, "Authorization header requires 'Credential' parameter. ");
        if (!p.have_signature)
            buf_puts(&m, "Authorization header requires 'Signature' parameter. ");
        if (!p.have_signed_headers)
            buf_puts(&m, "Authorization header requires 'SignedHeaders' parameter. ");
        if (!amz_date && !http_date)
            buf_puts(&m, "Authorization header requires existence of either a 'X-Amz-Date' or a "
                         "'Date' header. ");
        if (m.len)
            m.len--;
        if (m.data)
            m.data[m.len] = '\0';
        int rc = deny(out, "IncompleteSignatureException", "%s", buf_str(&m));
        buf_free(&m);
        return rc;
    }
    char akid[128], sdate[16], sregion[64], svc[64], term[64];
    if (sscanf(p.credential, "%127[^/]/%15[^/]/%63[^/]/%63[^/]/%63s", akid, sdate, sregion, svc,
               term) != 5)
        return deny(
            out, "IncompleteSignatureException",
            "Credential must have the form <access key>/<date>/<region>/<service>/aws4_request.");
    long long when = 0;
    char date_text[17];
    if (amz_date) {
        int64_t t;
        if (sigv4_parse_amz_date(amz_date, &t) != 0)
            return deny(out, "IncompleteSignatureException",
                        "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                        "http://en.wikipedia.org/wiki/ISO_8601",
                        amz_date);
        when = t;
    } else if (parse_http_date(http_date, &when) != 0) {
        return deny(out, "IncompleteSignatureException",
                    "Date must be in RFC 1123 format. Got '%s'.", http_date);
    }
    sigv4_format_amz_date(when, date_text);
    if (strlen(sdate) != 8 || strncmp(sdate, date_text, 8) != 0) {
        char d8[9];
        memcpy(d8, date_text, 8);
        d8[8] = '\0';
        return deny(out, "InvalidSignatureException",
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                    "date from HTTP: "
                    "'%s' != '%s', from '%s'.",
                    sdate, d8, date_text);
    }
    int region_ok = 0;
    for (const char *const *r = a->regions; r && *r; r++)
        if (!strcmp(*r, sregion))
            region_ok = 1;
    if (!region_ok)
        return deny(out, "InvalidSignatureException",
                    "Credential should be scoped to a valid region. ");
    /* The routed service's signing name (per request), else the server's (identity routes). */
    const char *service = req->service ? req->service : a->service ? a->service : "ivs";
    if (strcmp(svc, service) != 0)
        return deny(out, "InvalidSignatureException",
                    "Credential should be scoped to correct service: '%s'. ", service);
    if (strcmp(term, "aws4_request") != 0)
        return deny(
            out, "InvalidSignatureException",
            "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ",
            term);
    if (when < now - a->max_skew_s || when > now + a->max_skew_s) {
        char now_text[17], edge[17];
        sigv4_format_amz_date(now, now_text);
        if (when < now) {
            sigv4_format_amz_date(now - a->max_skew_s, edge);
            return deny(out, "InvalidSignatureException",
                        "Signature expired: %s is now earlier than %s (%s - 5 min.)", date_text,
                        edge, now_text);
        }
        sigv4_format_amz_date(now + a->max_skew_s, edge);
        return deny(out, "InvalidSignatureException",
                    "Signature not yet current: %s is still later than %s (%s + 5 min.)", date_text,
                    edge, now_text);
    }
    const struct emu_credential *cred = NULL;
    for (size_t i = 0; i < a->credential_count; i++)
        if (!strcmp(a->credentials[i].access_key_id, akid))
            cred = &a->credentials[i];
    /* Not a configured key: perhaps temporary credentials issued by the identity endpoints,
     * which are only good with their own session token. */
    struct emu_temp_credential temp;
    memset(&temp, 0, sizeof temp);
    int is_temp =
        !cred && a->temp_lookup &&
        a->temp_lookup(a->temp_ud, akid, emu_header(req, "x-amz-security-token"), &temp) == 0;
    if (!cred && !is_temp)
        return deny(out, "UnrecognizedClientException",
                    "The security token included in the request is invalid.");
    int host_signed = 0;
    for (const char *h = p.signed_headers; h;) {
        if (!strncasecmp(h, "host", 4) && (h[4] == ';' || h[4] == '\0'))
            host_signed = 1;
        h = strchr(h, ';');
        if (h)
            h++;
    }
    if (!host_signed)
        return deny(out, "InvalidSignatureException",
                    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    struct sigv4_result res;
    int good = 0;
    if (recompute(req, &p, sregion, service,
                  is_temp ? temp.secret_access_key : cred->secret_access_key, akid, when, cache,
                  &res) == 0) {
        good = res.signed_headers && !strcasecmp(res.signed_headers, p.signed_headers) &&
               sigv4_equal_ct(res.signature, p.signature);
        sigv4_result_cleanup(&res);
    }
    explicit_bzero(temp.secret_access_key, sizeof temp.secret_access_key);
    if (!good)
        return deny(
            out, "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check "
            "your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.");
    if (is_temp && temp.expired)
        return deny(out, "ExpiredTokenException",
                    "The security token included in the request is expired");
    *account = is_temp ? temp.account : cred->account;
    snprintf(region, region_len, "%s", sregion);
    return 0;
}
