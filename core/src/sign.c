/* sign.c: the public SigV4 entry points (ivs_sign, ivs_presign_url, ivs_signer_*) over
 * sigv4_sign. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "errors.h"
#include "ivs.h"
#include "model.h"
#include "sigv4.h"
#include "url.h"

/* Requests with at most this many headers pass them to the signer from the stack. */
#define INLINE_HEADERS 16

struct ivs_signer {
    struct sigv4_key_cache *keys;
};

struct parsed_url {
    size_t base_len;  /* scheme://authority/path: everything before '?' or '#' */
    char *host;       /* the Host header value: lowercased host, ":port" only when not default */
    char *path;       /* "/" when the URL has none */
    char *query;      /* without '?', "" when none */
    int path_missing; /* the URL had no path at all ("https://host") */
    char *storage;    /* host, path and query live in this one allocation */
};

static void parsed_url_free(struct parsed_url *u)
{
    free(u->storage);
    memset(u, 0, sizeof *u);
}

static enum ivs_status bad_url(struct ivs_error *err, const char *why)
{
    return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "the URL to sign %s", why);
}

static enum ivs_status parse_url(const char *url, struct parsed_url *u, struct ivs_error *err)
{
    memset(u, 0, sizeof *u);
    struct url_parts parts;
    const char *why = url_split(url, &parts);
    if (why)
        return bad_url(err, why);
    size_t host_len = parts.host_len, path_len = parts.path_len, query_len = parts.query_len;
    char port_text[8] = "";
    if (!parts.port_is_default)
        snprintf(port_text, sizeof port_text, ":%ld", parts.port_num);
    size_t port_len = strlen(port_text);
    char *block = malloc(host_len + port_len + 1 + (path_len ? path_len : 1) + 1 + query_len + 1);
    if (!block)
        return ivs_error_nomem(err);
    u->storage = u->host = block;
    for (size_t i = 0; i < host_len; i++)
        block[i] = (char)tolower((unsigned char)parts.host[i]);
    memcpy(block + host_len, port_text, port_len + 1);
    u->path = block + host_len + port_len + 1;
    u->path_missing = path_len == 0;
    if (path_len)
        memcpy(u->path, parts.path, path_len);
    else
        u->path[path_len++] = '/';
    u->path[path_len] = '\0';
    u->query = u->path + path_len + 1;
    if (query_len)
        memcpy(u->query, parts.query, query_len);
    u->query[query_len] = '\0';
    u->base_len = (size_t)(parts.path + parts.path_len - url);
    return IVS_OK;
}

static int has_host(const struct ivs_sign_request *req)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, "Host") == 0)
            return 1;
    return 0;
}

/* Fills the parts common to both modes; headers are left to the caller. */
static enum ivs_status prepare(const struct ivs_sign_request *req,
                               const struct ivs_credentials *creds, struct parsed_url *u,
                               struct sigv4_params *p, struct ivs_error *err)
{
    if (!req)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "no request to sign");
    if (!creds || !creds->access_key_id || !*creds->access_key_id || !creds->secret_access_key ||
        !*creds->secret_access_key)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "signing needs an access key id and a secret access key");
    if (req->header_count && !req->headers)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "header_count without headers");
    if (req->time < 0)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "signing time is negative");
    enum ivs_status rc = parse_url(req->url, u, err);
    if (rc != IVS_OK)
        return rc;
    memset(p, 0, sizeof *p);
    p->method = req->method;
    p->path = u->path;
    p->query = u->query;
    p->body = req->body;
    p->body_len = req->body_len;
    p->region = req->region;
    /* The default is the signing name of the default service (low-latency IVS). */
    p->service =
        req->service && *req->service ? req->service : model_default_service()->signing_name;
    p->time = req->time ? req->time : (int64_t)time(NULL);
    p->access_key_id = creds->access_key_id;
    p->secret_access_key = creds->secret_access_key;
    p->session_token = creds->session_token;
    p->normalize_path = 1;
    p->double_encode = 1;
    return IVS_OK;
}

enum ivs_status ivs_signer_sign(struct ivs_signer *signer, const struct ivs_sign_request *req,
                                const struct ivs_credentials *creds, struct ivs_signature *out,
                                struct ivs_error *err)
{
    if (!out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "ivs_sign needs an output");
    memset(out, 0, sizeof *out);
    struct parsed_url u;
    struct sigv4_params p;
    enum ivs_status rc = prepare(req, creds, &u, &p, err);
    if (rc != IVS_OK)
        return rc;

    size_t count = req->header_count;
    struct ivs_header inline_headers[INLINE_HEADERS];
    struct ivs_header *headers = inline_headers;
    if (count + 1 > INLINE_HEADERS) {
        headers = calloc(count + 1, sizeof *headers);
        if (!headers) {
            parsed_url_free(&u);
            return ivs_error_nomem(err);
        }
    }
    if (count)
        memcpy(headers, req->headers, count * sizeof *headers);
    if (!has_host(req)) {
        headers[count].name = "Host";
        headers[count].value = u.host;
        count++;
    }
    p.headers = headers;
    p.header_count = count;

    struct sigv4_result r;
    rc = sigv4_sign(&p, signer ? signer->keys : NULL, &r, err);
    if (headers != inline_headers)
        free(headers);
    parsed_url_free(&u);
    if (rc != IVS_OK)
        return rc;
    memcpy(out->amz_date, r.amz_date, sizeof out->amz_date);
    memcpy(out->signature, r.signature, sizeof out->signature);
    /* ivs_signature_clear() frees each string on its own: they are copied out of the
     * result's single block. */
    out->authorization = ivs_strdup(r.authorization);
    out->signed_headers = ivs_strdup(r.signed_headers);
    out->canonical_request = ivs_strdup(r.canonical_request);
    out->string_to_sign = ivs_strdup(r.string_to_sign);
    sigv4_result_cleanup(&r);
    int has_token = creds->session_token && *creds->session_token;
    if (has_token)
        out->security_token = ivs_strdup(creds->session_token);
    if (!out->authorization || !out->signed_headers || !out->canonical_request ||
        !out->string_to_sign || (has_token && !out->security_token)) {
        ivs_signature_clear(out);
        return ivs_error_nomem(err);
    }
    return IVS_OK;
}

void ivs_signature_clear(struct ivs_signature *sig)
{
    if (!sig)
        return;
    free(sig->authorization);
    free(sig->security_token);
    free(sig->signed_headers);
    free(sig->canonical_request);
    free(sig->string_to_sign);
    memset(sig, 0, sizeof *sig);
}

enum ivs_status ivs_sign(const struct ivs_sign_request *req, const struct ivs_credentials *creds,
                         struct ivs_signature *out, struct ivs_error *err)
{
    return ivs_signer_sign(NULL, req, creds, out, err);
}

struct ivs_signer *ivs_signer_new(void)
{
    struct ivs_signer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->keys = sigv4_key_cache_new();
    if (!s->keys) {
        free(s);
        return NULL;
    }
    return s;
}

void ivs_signer_free(struct ivs_signer *signer)
{
    if (!signer)
        return;
    sigv4_key_cache_free(signer->keys);
    free(signer);
}

enum ivs_status ivs_presign_url(const struct ivs_sign_request *req,
                                const struct ivs_credentials *creds, long expires_s, char **url_out,
                                struct ivs_error *err)
{
    return ivs_signer_presign_url(NULL, req, creds, expires_s, url_out, err);
}

enum ivs_status ivs_signer_presign_url(struct ivs_signer *signer,
                                       const struct ivs_sign_request *req,
                                       const struct ivs_credentials *creds, long expires_s,
                                       char **url_out, struct ivs_error *err)
{
    if (!url_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_presign_url needs an output");
    *url_out = NULL;
    if (expires_s < 1 || expires_s > 604800)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "presign expiry must be 1 to 604800 seconds, not %ld", expires_s);
    struct parsed_url u;
    struct sigv4_params p;
    enum ivs_status rc = prepare(req, creds, &u, &p, err);
    if (rc != IVS_OK)
        return rc;

    /* Only Host is signed: whoever follows the URL sends no other header we could predict. */
    struct ivs_header host = {"Host", u.host};
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, "Host") == 0 &&
            req->headers[i].value)
            host.value = req->headers[i].value;
    p.headers = &host;
    p.header_count = 1;
    p.presign = 1;
    p.expires_s = expires_s;

    struct sigv4_result r;
    rc = sigv4_sign(&p, signer ? signer->keys : NULL, &r, err);
    if (rc == IVS_OK) {
        struct buf b = BUF_INIT;
        buf_append(&b, req->url, u.base_len);
        if (u.path_missing)
            buf_putc(&b, '/'); /* "https://host?x": the signed path was "/" */
        buf_putc(&b, '?');
        buf_puts(&b, r.query);
        *url_out = buf_steal(&b);
        sigv4_result_cleanup(&r);
        if (!*url_out)
            rc = ivs_error_nomem(err);
    }
    parsed_url_free(&u);
    return rc;
}
