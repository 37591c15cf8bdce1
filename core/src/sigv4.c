#include "sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "errors.h"
#include "timeutil.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_MAX_EXPIRES 604800L

/* Region and service names are short; longer ones simply bypass the cache. */
#define KEY_CACHE_ENTRIES 8
#define KEY_CACHE_NAME_MAX 64

struct key_cache_entry {
    int used;
    uint64_t last_use;
    unsigned char secret_digest[32]; /* SHA-256 of the secret: the secret itself is never kept */
    char date[9];
    char region[KEY_CACHE_NAME_MAX];
    char service[KEY_CACHE_NAME_MAX];
    unsigned char key[32];
};

struct sigv4_key_cache {
    uint64_t clock; /* logical clock for least-recently-used eviction */
    struct key_cache_entry entries[KEY_CACHE_ENTRIES];
};

/* Query parameters and headers on their way into canonical form. */
struct query_param {
    char *key;   /* canonical encoding */
    char *value; /* canonical encoding */
};

struct canon_header {
    char *name;  /* lowercased, trimmed */
    char *value; /* trimmed, inner whitespace collapsed */
    size_t order;
};

/* ------------------------------------------------------------------------------------- */
/* Small helpers                                                                          */
/* ------------------------------------------------------------------------------------- */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static int is_header_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int empty(const char *s) { return !s || !*s; }

void sigv4_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            buf_putc(out, (char)c);
        } else {
            char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
            buf_append(out, esc, 3);
        }
    }
}

void sigv4_uri_decode(struct buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && ivs_hex_value((unsigned char)s[i + 1]) >= 0 &&
            ivs_hex_value((unsigned char)s[i + 2]) >= 0) {
            buf_putc(out, (char)(ivs_hex_value((unsigned char)s[i + 1]) * 16 +
                                 ivs_hex_value((unsigned char)s[i + 2])));
            i += 2;
        } else {
            /* A stray '%' is taken literally, so it is re-encoded as %25 rather than lost. */
            buf_putc(out, s[i]);
        }
    }
}

void sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int md_len = 0;
    if (!EVP_Digest(data ? data : "", len, md, &md_len, EVP_sha256(), NULL) || md_len != 32) {
        hex[0] = '\0';
        return;
    }
    for (size_t i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

void sigv4_format_amz_date(int64_t t, char out[17])
{
    int64_t days, secs, y;
    int m, d;
    ivs_split_epoch(t, &days, &secs);
    ivs_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%04d%02d%02dT%02d%02d%02dZ", (int)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    memcpy(out, tmp, 16);
    out[16] = '\0';
}

static int parse_digits(const char *s, int n, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return 0;
}

int sigv4_parse_amz_date(const char *s, int64_t *t)
{
    unsigned y, mo, d, h, mi, se;
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    if (parse_digits(s, 4, &y) || parse_digits(s + 4, 2, &mo) || parse_digits(s + 6, 2, &d) ||
        parse_digits(s + 9, 2, &h) || parse_digits(s + 11, 2, &mi) || parse_digits(s + 13, 2, &se))
        return -1;
    if (!ivs_valid_date(y, (int)mo, (int)d) || h > 23 || mi > 59 || se > 60)
        return -1;
    *t =
        ivs_days_from_civil(y, (int)mo, (int)d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se;
    return 0;
}

int sigv4_equal_ct(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    size_t la = strlen(a), lb = strlen(b);
    /* Every byte of the longer string is visited whatever the contents, so timing reveals only
     * the lengths (which are public: signatures are always 64 characters). */
    size_t n = la > lb ? la : lb;
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = i < la ? (unsigned char)a[i] : 0;
        unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(ca ^ cb);
    }
    return diff == 0;
}

/* ------------------------------------------------------------------------------------- */
/* Signing key and its cache                                                              */
/* ------------------------------------------------------------------------------------- */

static int hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                       unsigned char out[32])
{
    unsigned int out_len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &out_len) || out_len != 32)
        return -1;
    return 0;
}

static int derive_signing_key(const char *secret, const char *date8, const char *region,
                              const char *service, unsigned char key[32])
{
    struct buf seed = BUF_INIT;
    buf_puts(&seed, "AWS4");
    buf_puts(&seed, secret);
    if (buf_failed(&seed)) {
        buf_free(&seed);
        return -1;
    }
    unsigned char k_date[32], k_region[32], k_service[32];
    int rc = hmac_sha256(seed.data, seed.len, date8, strlen(date8), k_date);
    OPENSSL_cleanse(seed.data, seed.len);
    buf_free(&seed);
    if (rc == 0)
        rc = hmac_sha256(k_date, 32, region, strlen(region), k_region);
    if (rc == 0)
        rc = hmac_sha256(k_region, 32, service, strlen(service), k_service);
    if (rc == 0)
        rc = hmac_sha256(k_service, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k_date, sizeof k_date);
    OPENSSL_cleanse(k_region, sizeof k_region);
    OPENSSL_cleanse(k_service, sizeof k_service);
    return rc;
}

struct sigv4_key_cache *sigv4_key_cache_new(void)
{
    return calloc(1, sizeof(struct sigv4_key_cache));
}

void sigv4_key_cache_free(struct sigv4_key_cache *c)
{
    if (!c)
        return;
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

int sigv4_signing_key(struct sigv4_key_cache *cache, const char *secret, const char *date8,
                      const char *region, const char *service, unsigned char key[32])
{
    if (!secret || !date8 || strlen(date8) != 8 || !region || !service)
        return -1;
    if (!cache || strlen(region) >= KEY_CACHE_NAME_MAX || strlen(service) >= KEY_CACHE_NAME_MAX)
        return derive_signing_key(secret, date8, region, service, key) == 0 ? 0 : -1;

    unsigned char digest[32];
    unsigned int digest_len = 0;
    if (!EVP_Digest(secret, strlen(secret), digest, &digest_len, EVP_sha256(), NULL))
        return -1;
    struct key_cache_entry *victim = &cache->entries[0];
    for (size_t i = 0; i < KEY_CACHE_ENTRIES; i++) {
        struct key_cache_entry *e = &cache->entries[i];
        if (e->used && CRYPTO_memcmp(e->secret_digest, digest, 32) == 0 &&
            strcmp(e->date, date8) == 0 && strcmp(e->region, region) == 0 &&
            strcmp(e->service, service) == 0) {
            e->last_use = ++cache->clock;
            memcpy(key, e->key, 32);
            return 1;
        }
        if (!e->used || (victim->used && e->last_use < victim->last_use))
            victim = e;
    }
    if (derive_signing_key(secret, date8, region, service, key) != 0)
        return -1;
    victim->used = 1;
    victim->last_use = ++cache->clock;
    memcpy(victim->secret_digest, digest, 32);
    memcpy(victim->date, date8, 9);
    snprintf(victim->region, sizeof victim->region, "%s", region);
    snprintf(victim->service, sizeof victim->service, "%s", service);
    memcpy(victim->key, key, 32);
    return 0;
}

/* ------------------------------------------------------------------------------------- */
/* Canonical pieces                                                                       */
/* ------------------------------------------------------------------------------------- */

void sigv4_normalize_path(struct buf *out, const char *path, size_t len)
{
    /* Segment boundaries of the kept segments, as (start, length) pairs in path. */
    size_t cap = len / 2 + 2, count = 0;
    size_t *seg = malloc(cap * 2 * sizeof *seg);
    if (!seg) {
        out->failed = 1;
        return;
    }
    size_t i = 0;
    while (i <= len) {
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        size_t n = i - start;
        if (n == 0 || (n == 1 && path[start] == '.')) {
            /* empty or "." segment: dropped */
        } else if (n == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (count)
                count--;
        } else {
            seg[2 * count] = start;
            seg[2 * count + 1] = n;
            count++;
        }
        i++;
    }
    buf_putc(out, '/');
    for (size_t k = 0; k < count; k++) {
        if (k)
            buf_putc(out, '/');
        buf_append(out, path + seg[2 * k], seg[2 * k + 1]);
    }
    if (count && len && path[len - 1] == '/')
        buf_putc(out, '/');
    free(seg);
}

static void append_canonical_uri(struct buf *out, const char *path, int normalize,
                                 int double_encode)
{
    if (empty(path))
        path = "/";
    struct buf tmp = BUF_INIT;
    if (normalize)
        sigv4_normalize_path(&tmp, path, strlen(path));
    else
        buf_puts(&tmp, path);
    if (double_encode)
        sigv4_uri_encode(out, buf_str(&tmp), tmp.len, 1);
    else
        buf_append(out, buf_str(&tmp), tmp.len);
    if (buf_failed(&tmp))
        out->failed = 1;
    buf_free(&tmp);
}

static char *canonical_component(const char *s, size_t len)
{
    struct buf decoded = BUF_INIT, encoded = BUF_INIT;
    sigv4_uri_decode(&decoded, s, len);
    sigv4_uri_encode(&encoded, buf_str(&decoded), decoded.len, 0);
    if (buf_failed(&decoded))
        encoded.failed = 1;
    buf_free(&decoded);
    return buf_steal(&encoded);
}

static char *encode_value(const char *s)
{
    struct buf b = BUF_INIT;
    sigv4_uri_encode(&b, s, strlen(s), 0);
    return buf_steal(&b);
}

static int compare_params(const void *a, const void *b)
{
    const struct query_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static int compare_headers(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static char *lower_trimmed(const char *s)
{
    size_t len = strlen(s);
    while (len && is_header_space((unsigned char)s[len - 1]))
        len--;
    while (len && is_header_space((unsigned char)*s)) {
        s++;
        len--;
    }
    char *r = ivs_strndup(s, len);
    if (r)
        for (char *p = r; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return r;
}

/* Trims and collapses every run of whitespace (a folded continuation line included) into one
 * space, as every SDK does before signing. */
static char *collapse_value(const char *s)
{
    struct buf b = BUF_INIT;
    int pending_space = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_header_space(*p)) {
            pending_space = b.len > 0;
            continue;
        }
        if (pending_space)
            buf_putc(&b, ' ');
        pending_space = 0;
        buf_putc(&b, (char)*p);
    }
    return buf_steal(&b);
}

static int ieq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

/* Parameters whose presence means the request was already presigned. */
static const char *const s_auth_params[] = {
    "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",           "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token",
};

struct sign_state {
    struct query_param *params;
    size_t param_count, param_cap;
    struct canon_header *headers;
    size_t header_count, header_cap;
};

static int push_param(struct sign_state *st, char *key, char *value)
{
    if (!key || !value) {
        free(key);
        free(value);
        return -1;
    }
    if (st->param_count == st->param_cap) {
        size_t cap = st->param_cap ? st->param_cap * 2 : 16;
        struct query_param *p = realloc(st->params, cap * sizeof *p);
        if (!p) {
            free(key);
            free(value);
            return -1;
        }
        st->params = p;
        st->param_cap = cap;
    }
    st->params[st->param_count].key = key;
    st->params[st->param_count].value = value;
    st->param_count++;
    return 0;
}

static int push_header(struct sign_state *st, char *name, char *value)
{
    if (!name || !value) {
        free(name);
        free(value);
        return -1;
    }
    if (st->header_count == st->header_cap) {
        size_t cap = st->header_cap ? st->header_cap * 2 : 16;
        struct canon_header *h = realloc(st->headers, cap * sizeof *h);
        if (!h) {
            free(name);
            free(value);
            return -1;
        }
        st->headers = h;
        st->header_cap = cap;
    }
    st->headers[st->header_count].name = name;
    st->headers[st->header_count].value = value;
    st->headers[st->header_count].order = st->header_count;
    st->header_count++;
    return 0;
}

static void sign_state_free(struct sign_state *st)
{
    for (size_t i = 0; i < st->param_count; i++) {
        free(st->params[i].key);
        free(st->params[i].value);
    }
    free(st->params);
    for (size_t i = 0; i < st->header_count; i++) {
        free(st->headers[i].name);
        free(st->headers[i].value);
    }
    free(st->headers);
}

static enum ivs_status validate(const struct sigv4_params *p, struct ivs_error *err)
{
    if (empty(p->method))
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "signing needs an HTTP method");
    if (empty(p->region))
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "signing needs a region");
    if (empty(p->service))
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "signing needs a service name");
    if (empty(p->access_key_id) || empty(p->secret_access_key))
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "signing needs an access key id and a secret access key");
    if (p->header_count && !p->headers)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "header_count without headers");
    if (p->body_len && !p->body)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "body_len without a body");
    if (p->presign && (p->expires_s < 1 || p->expires_s > SIGV4_MAX_EXPIRES))
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "presign expiry must be 1 to %ld seconds, not %ld", SIGV4_MAX_EXPIRES,
                             p->expires_s);
    for (size_t i = 0; i < p->header_count; i++) {
        const char *name = p->headers[i].name;
        if (empty(name) || !p->headers[i].value)
            return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                                 "header %zu has no name or no value", i);
        for (const char *c = name; *c; c++)
            if ((unsigned char)*c <= ' ' || *c == ':' || *c == 0x7f)
                return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                                     "header %zu has an invalid name", i);
        if (ieq(name, "Authorization") || ieq(name, "X-Amz-Date") ||
            ieq(name, "X-Amz-Security-Token") ||
            (p->add_content_sha256 && !p->presign && ieq(name, "X-Amz-Content-SHA256")))
            return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                                 "the request already carries a %s header; the signer sets it",
                                 name);
    }
    return IVS_OK;
}

static enum ivs_status collect_query(const struct sigv4_params *p, struct sign_state *st,
                                     struct ivs_error *err)
{
    const char *q = p->query ? p->query : "";
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len) {
            const char *eq = memchr(q, '=', len);
            size_t klen = eq ? (size_t)(eq - q) : len;
            char *key = canonical_component(q, klen);
            char *value = eq ? canonical_component(eq + 1, len - klen - 1) : ivs_strdup("");
            if (key) {
                struct buf decoded = BUF_INIT;
                sigv4_uri_decode(&decoded, q, klen);
                for (size_t i = 0; i < sizeof s_auth_params / sizeof s_auth_params[0]; i++) {
                    if (ieq(buf_str(&decoded), s_auth_params[i])) {
                        buf_free(&decoded);
                        free(key);
                        free(value);
                        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                                             "the query already carries %s; the signer sets it",
                                             s_auth_params[i]);
                    }
                }
                buf_free(&decoded);
            }
            if (push_param(st, key, value) != 0)
                return ivs_error_nomem(err);
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return IVS_OK;
}

static void append_signed_headers(struct buf *out, const struct sign_state *st)
{
    for (size_t i = 0; i < st->header_count; i++) {
        if (i && strcmp(st->headers[i].name, st->headers[i - 1].name) == 0)
            continue;
        if (out->len)
            buf_putc(out, ';');
        buf_puts(out, st->headers[i].name);
    }
}

static void append_canonical_headers(struct buf *out, const struct sign_state *st)
{
    for (size_t i = 0; i < st->header_count; i++) {
        int continues = i && strcmp(st->headers[i].name, st->headers[i - 1].name) == 0;
        if (continues) {
            buf_putc(out, ',');
        } else {
            if (i)
                buf_putc(out, '\n');
            buf_puts(out, st->headers[i].name);
            buf_putc(out, ':');
        }
        buf_puts(out, st->headers[i].value);
    }
    if (st->header_count)
        buf_putc(out, '\n');
}

static void append_query(struct buf *out, const struct sign_state *st)
{
    for (size_t i = 0; i < st->param_count; i++) {
        if (i)
            buf_putc(out, '&');
        buf_puts(out, st->params[i].key);
        buf_putc(out, '=');
        buf_puts(out, st->params[i].value);
    }
}

void sigv4_result_cleanup(struct sigv4_result *r)
{
    if (!r)
        return;
    free(r->canonical_request);
    free(r->string_to_sign);
    free(r->signed_headers);
    free(r->credential_scope);
    free(r->authorization);
    free(r->query);
    memset(r, 0, sizeof *r);
}

enum ivs_status sigv4_sign(const struct sigv4_params *p, struct sigv4_key_cache *cache,
                           struct sigv4_result *out, struct ivs_error *err)
{
    if (!out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "sigv4_sign needs a result");
    memset(out, 0, sizeof *out);
    if (!p)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "sigv4_sign needs parameters");
    enum ivs_status st_rc = validate(p, err);
    if (st_rc != IVS_OK)
        return st_rc;

    struct sign_state st = {0};
    struct buf scope = BUF_INIT, signed_headers = BUF_INIT, creq = BUF_INIT, sts = BUF_INIT;
    struct buf auth = BUF_INIT, query = BUF_INIT;
    int has_token = !empty(p->session_token);
    enum ivs_status rc = IVS_ERR_NOMEM;

    sigv4_format_amz_date(p->time, out->amz_date);
    char date8[9];
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';

    if (p->payload_hash) {
        snprintf(out->payload_hash, sizeof out->payload_hash, "%s", p->payload_hash);
    } else {
        sigv4_sha256_hex(p->body, p->body_len, out->payload_hash);
    }
    if (!out->payload_hash[0]) {
        rc = ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "SHA-256 failed");
        goto done;
    }
    buf_printf(&scope, "%s/%s/%s/aws4_request", date8, p->region, p->service);

    for (size_t i = 0; i < p->header_count; i++)
        if (push_header(&st, lower_trimmed(p->headers[i].name),
                        collapse_value(p->headers[i].value)))
            goto done;
    if (!p->presign) {
        if (push_header(&st, ivs_strdup("x-amz-date"), ivs_strdup(out->amz_date)))
            goto done;
        if (has_token && !p->omit_session_token &&
            push_header(&st, ivs_strdup("x-amz-security-token"), collapse_value(p->session_token)))
            goto done;
        if (p->add_content_sha256 &&
            push_header(&st, ivs_strdup("x-amz-content-sha256"), ivs_strdup(out->payload_hash)))
            goto done;
    }
    if (st.header_count)
        qsort(st.headers, st.header_count, sizeof *st.headers, compare_headers);
    append_signed_headers(&signed_headers, &st);
    if (buf_failed(&signed_headers))
        goto done;

    rc = collect_query(p, &st, err);
    if (rc != IVS_OK)
        goto done;
    rc = IVS_ERR_NOMEM;
    if (p->presign) {
        struct buf cred = BUF_INIT;
        buf_printf(&cred, "%s/%s", p->access_key_id, buf_str(&scope));
        char expires[24];
        snprintf(expires, sizeof expires, "%ld", p->expires_s);
        int bad = buf_failed(&cred);
        bad = bad || push_param(&st, ivs_strdup("X-Amz-Algorithm"), ivs_strdup(SIGV4_ALGORITHM));
        bad = bad || push_param(&st, ivs_strdup("X-Amz-Credential"), encode_value(buf_str(&cred)));
        bad = bad || push_param(&st, ivs_strdup("X-Amz-Date"), ivs_strdup(out->amz_date));
        bad = bad || push_param(&st, ivs_strdup("X-Amz-Expires"), ivs_strdup(expires));
        bad = bad || push_param(&st, ivs_strdup("X-Amz-SignedHeaders"),
                                encode_value(buf_str(&signed_headers)));
        if (has_token && !p->omit_session_token)
            bad = bad || push_param(&st, ivs_strdup("X-Amz-Security-Token"),
                                    encode_value(p->session_token));
        buf_free(&cred);
        if (bad)
            goto done;
    }
    if (st.param_count)
        qsort(st.params, st.param_count, sizeof *st.params, compare_params);

    buf_puts(&creq, p->method);
    buf_putc(&creq, '\n');
    append_canonical_uri(&creq, p->path, p->normalize_path, p->double_encode);
    buf_putc(&creq, '\n');
    append_query(&creq, &st);
    buf_putc(&creq, '\n');
    append_canonical_headers(&creq, &st);
    buf_putc(&creq, '\n');
    buf_append(&creq, buf_str(&signed_headers), signed_headers.len);
    buf_putc(&creq, '\n');
    buf_puts(&creq, out->payload_hash);
    if (buf_failed(&creq) || buf_failed(&scope))
        goto done;

    char creq_hash[65];
    sigv4_sha256_hex(creq.data, creq.len, creq_hash);
    buf_printf(&sts, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, out->amz_date, buf_str(&scope), creq_hash);
    if (buf_failed(&sts))
        goto done;

    unsigned char key[32], sig[32];
    int key_rc = sigv4_signing_key(cache, p->secret_access_key, date8, p->region, p->service, key);
    int mac_rc = key_rc < 0 ? -1 : hmac_sha256(key, 32, sts.data, sts.len, sig);
    OPENSSL_cleanse(key, sizeof key);
    if (mac_rc != 0 || !creq_hash[0]) {
        rc = ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "HMAC-SHA256 failed");
        goto done;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out->signature[2 * i] = digits[sig[i] >> 4];
        out->signature[2 * i + 1] = digits[sig[i] & 15];
    }
    out->signature[64] = '\0';

    if (p->presign) {
        /* The caller's own parameters stay exactly as they were sent; the server canonicalises
         * them the same way the signer did. */
        if (!empty(p->query)) {
            buf_puts(&query, p->query);
            buf_putc(&query, '&');
        }
        buf_printf(&query, "X-Amz-Algorithm=%s&X-Amz-Credential=", SIGV4_ALGORITHM);
        struct buf cred = BUF_INIT;
        buf_printf(&cred, "%s/%s", p->access_key_id, buf_str(&scope));
        sigv4_uri_encode(&query, buf_str(&cred), cred.len, 0);
        if (buf_failed(&cred))
            query.failed = 1;
        buf_free(&cred);
        buf_printf(&query, "&X-Amz-Date=%s&X-Amz-Expires=%ld&X-Amz-SignedHeaders=", out->amz_date,
                   p->expires_s);
        sigv4_uri_encode(&query, buf_str(&signed_headers), signed_headers.len, 0);
        if (has_token) {
            buf_puts(&query, "&X-Amz-Security-Token=");
            sigv4_uri_encode(&query, p->session_token, strlen(p->session_token), 0);
        }
        buf_printf(&query, "&X-Amz-Signature=%s", out->signature);
        if (buf_failed(&query))
            goto done;
        out->query = buf_steal(&query);
    } else {
        buf_printf(&auth, "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", SIGV4_ALGORITHM,
                   p->access_key_id, buf_str(&scope), buf_str(&signed_headers), out->signature);
        if (buf_failed(&auth))
            goto done;
        out->authorization = buf_steal(&auth);
    }
    out->canonical_request = buf_steal(&creq);
    out->string_to_sign = buf_steal(&sts);
    out->signed_headers = buf_steal(&signed_headers);
    out->credential_scope = buf_steal(&scope);
    if (!out->canonical_request || !out->string_to_sign || !out->signed_headers ||
        !out->credential_scope || (p->presign ? !out->query : !out->authorization))
        goto done;
    rc = IVS_OK;

done:
    sign_state_free(&st);
    buf_free(&scope);
    buf_free(&signed_headers);
    buf_free(&creq);
    buf_free(&sts);
    buf_free(&auth);
    buf_free(&query);
    if (rc != IVS_OK) {
        sigv4_result_cleanup(out);
        if (rc == IVS_ERR_NOMEM)
            ivs_error_nomem(err);
    }
    return rc;
}
