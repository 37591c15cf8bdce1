#include "sigv4.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, whose per-digest
 * dispatch and context copies cost more than the hashing of a signature's short strings.
 * They remain in every OpenSSL 3 build; only this file uses them. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "buf.h"
#include "errors.h"
#include "timeutil.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_ALGORITHM_LEN 16
#define SIGV4_MAX_EXPIRES 604800L

/* Region and service names are short; longer ones simply bypass the cache. */
#define KEY_CACHE_ENTRIES 8
#define KEY_CACHE_NAME_MAX 64

/* Requests with at most this many signed headers sort them on the stack. */
#define INLINE_HEADERS 16

/* SHA-256 and HMAC-SHA256 on plain SHA256_CTX states. A signature hashes a handful of short
 * strings; through EVP each digest paid for provider dispatch and each HMAC for two context
 * duplications (two allocations) on top of the compression itself, more than the hashing.
 * inner and outer hold the state after the first block of an HMAC key (key ^ ipad,
 * key ^ opad), so each HMAC under a loaded key starts from a memcpy: two compressions fewer
 * and no key schedule. */
struct sha_engine {
    SHA256_CTX inner;
    SHA256_CTX outer;
};

struct key_cache_entry {
    int used;
    uint64_t last_use;
    unsigned char secret_digest[32]; /* SHA-256 of the secret: the secret itself is never kept */
    char date[9];
    char region[KEY_CACHE_NAME_MAX];
    char service[KEY_CACHE_NAME_MAX];
    unsigned char key[32];
};

/* Buffers reused from one signature to the next. None holds key material, but the arena, the
 * canonical request and the presigned query carry the session token: all are marked
 * sensitive so a block let go of is wiped first. */
struct sign_work {
    struct buf arena;          /* canonical header names and values, each NUL-terminated */
    struct buf signed_headers; /* "host;x-amz-date" */
    struct buf creq;
    struct buf sts;
    struct buf final; /* Authorization value or presigned query */
};

struct sigv4_key_cache {
    uint64_t clock; /* logical clock for least-recently-used eviction */
    struct key_cache_entry entries[KEY_CACHE_ENTRIES];
    struct sha_engine engine;
    int loaded; /* entry whose key is in engine.inner/outer, or -1 */
    struct sign_work work;
    /* The last signing time and its X-Amz-Date text: calls within one second format it once. */
    int64_t date_time;
    char date_text[17]; /* "" until the first signing */
};

/* Query parameters on their way into canonical form. */
struct query_param {
    char *key;   /* canonical encoding */
    char *value; /* canonical encoding */
};

/* A header in canonical form: offsets into sign_work.arena until the arena stops growing,
 * then pointers for sorting and output. */
struct canon_header {
    size_t name_off, value_off;
    const char *name;  /* lowercased, trimmed */
    const char *value; /* trimmed, inner whitespace collapsed */
    size_t name_len, value_len;
    size_t order;
};

/* ------------------------------------------------------------------------------------- */
/* Small helpers                                                                          */
/* ------------------------------------------------------------------------------------- */

static const char s_hex_lower[] = "0123456789abcdef";
static const char s_hex_upper[] = "0123456789ABCDEF";

/* 1 for the RFC 3986 unreserved characters A-Z a-z 0-9 - _ . ~ */
static const unsigned char s_unreserved[256] = {
    ['-'] = 1, ['_'] = 1, ['.'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

static int is_header_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int empty(const char *s) { return !s || !*s; }

/* Lowercase hex of n bytes and a NUL. A signature writes three digests this way (the payload
 * hash, the canonical request's hash and the signature): sixteen bytes at a time where SSE2
 * is there, a third of the byte loop's instructions. */
static void put_hex(char *out, const unsigned char *bytes, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i low4 = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9);
    const __m128i zero = _mm_set1_epi8('0'), past_nine = _mm_set1_epi8('a' - '0' - 10);
    for (; n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(bytes + i));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low4), lo = _mm_and_si128(v, low4);
        /* digit + '0', plus the gap up to 'a' for the digits above 9 */
        hi = _mm_add_epi8(_mm_add_epi8(hi, zero),
                          _mm_and_si128(_mm_cmpgt_epi8(hi, nine), past_nine));
        lo = _mm_add_epi8(_mm_add_epi8(lo, zero),
                          _mm_and_si128(_mm_cmpgt_epi8(lo, nine), past_nine));
        _mm_storeu_si128((__m128i *)(void *)(out + 2 * i), _mm_unpacklo_epi8(hi, lo));
        _mm_storeu_si128((__m128i *)(void *)(out + 2 * i + 16), _mm_unpackhi_epi8(hi, lo));
    }
#endif
    for (; i < n; i++) {
        out[2 * i] = s_hex_lower[bytes[i] >> 4];
        out[2 * i + 1] = s_hex_lower[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void sigv4_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash)
{
    /* Worst case every byte becomes %XX: reserve once and write in place. */
    if (len > ((size_t)-1 - 1) / 3 || buf_reserve(out, len * 3) != 0) {
        out->failed = 1;
        return;
    }
    char *w = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (s_unreserved[c] || (keep_slash && c == '/')) {
            *w++ = (char)c;
        } else {
            w[0] = '%';
            w[1] = s_hex_upper[c >> 4];
            w[2] = s_hex_upper[c & 15];
            w += 3;
        }
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
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

/* ------------------------------------------------------------------------------------- */
/* SHA-256 and HMAC                                                                       */
/* ------------------------------------------------------------------------------------- */

static void engine_free(struct sha_engine *e)
{
    /* The states hold the HMAC key pads. */
    OPENSSL_cleanse(e, sizeof *e);
}

static int engine_init(struct sha_engine *e)
{
    memset(e, 0, sizeof *e);
    return 0;
}

static int engine_sha256(struct sha_engine *e, const void *data, size_t len, unsigned char out[32])
{
    (void)e;
    SHA256_CTX ctx;
    int ok =
        SHA256_Init(&ctx) && SHA256_Update(&ctx, data ? data : "", len) && SHA256_Final(out, &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx); /* it hashed the secret or the session token */
    return ok ? 0 : -1;
}

/* Loads an HMAC key: inner and outer absorb its ipad and opad blocks. */
static int engine_hmac_key(struct sha_engine *e, const void *key, size_t key_len)
{
    unsigned char block[64], hashed[32];
    if (key_len > sizeof block) {
        if (engine_sha256(e, key, key_len, hashed) != 0)
            return -1;
        key = hashed;
        key_len = sizeof hashed;
    }
    memset(block, 0x36, sizeof block);
    for (size_t i = 0; i < key_len; i++)
        block[i] ^= ((const unsigned char *)key)[i];
    int ok = SHA256_Init(&e->inner) && SHA256_Update(&e->inner, block, sizeof block);
    for (size_t i = 0; i < sizeof block; i++)
        block[i] ^= 0x36 ^ 0x5c;
    ok = ok && SHA256_Init(&e->outer) && SHA256_Update(&e->outer, block, sizeof block);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(hashed, sizeof hashed);
    return ok ? 0 : -1;
}

/* HMAC-SHA256 of msg under the key last given to engine_hmac_key. */
static int engine_hmac(struct sha_engine *e, const void *msg, size_t len, unsigned char out[32])
{
    unsigned char inner_hash[32];
    SHA256_CTX work = e->inner;
    int ok = SHA256_Update(&work, msg, len) && SHA256_Final(inner_hash, &work);
    work = e->outer;
    ok = ok && SHA256_Update(&work, inner_hash, 32) && SHA256_Final(out, &work);
    OPENSSL_cleanse(&work, sizeof work);
    OPENSSL_cleanse(inner_hash, sizeof inner_hash);
    return ok ? 0 : -1;
}

static int engine_hmac_once(struct sha_engine *e, const void *key, size_t key_len, const void *msg,
                            size_t msg_len, unsigned char out[32])
{
    if (engine_hmac_key(e, key, key_len) != 0)
        return -1;
    return engine_hmac(e, msg, msg_len, out);
}

void sigv4_secret_digest(const char *secret, unsigned char out[32])
{
    if (engine_sha256(NULL, secret ? secret : "", secret ? strlen(secret) : 0, out) != 0)
        memset(out, 0, 32);
}

void sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    if (!SHA256(data ? data : (const void *)"", len, md)) {
        hex[0] = '\0';
        return;
    }
    put_hex(hex, md, 32);
}

static void put_digits(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void sigv4_format_amz_date(int64_t t, char out[17])
{
    int64_t days, secs, y;
    int m, d;
    ivs_split_epoch(t, &days, &secs);
    ivs_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    put_digits(out, (unsigned)y, 4);
    put_digits(out + 4, (unsigned)m, 2);
    put_digits(out + 6, (unsigned)d, 2);
    out[8] = 'T';
    put_digits(out + 9, (unsigned)(secs / 3600), 2);
    put_digits(out + 11, (unsigned)(secs / 60 % 60), 2);
    put_digits(out + 13, (unsigned)(secs % 60), 2);
    out[15] = 'Z';
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

static int derive_signing_key(struct sha_engine *e, const char *secret, const char *date8,
                              const char *region, const char *service, unsigned char key[32])
{
    struct buf seed = BUF_INIT;
    buf_puts(&seed, "AWS4");
    buf_puts(&seed, secret);
    if (buf_failed(&seed)) {
        buf_free(&seed);
        return -1;
    }
    unsigned char k_date[32], k_region[32], k_service[32];
    int rc = engine_hmac_once(e, seed.data, seed.len, date8, strlen(date8), k_date);
    OPENSSL_cleanse(seed.data, seed.len);
    buf_free(&seed);
    if (rc == 0)
        rc = engine_hmac_once(e, k_date, 32, region, strlen(region), k_region);
    if (rc == 0)
        rc = engine_hmac_once(e, k_region, 32, service, strlen(service), k_service);
    if (rc == 0)
        rc = engine_hmac_once(e, k_service, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k_date, sizeof k_date);
    OPENSSL_cleanse(k_region, sizeof k_region);
    OPENSSL_cleanse(k_service, sizeof k_service);
    return rc;
}

static void sign_work_init(struct sign_work *w)
{
    memset(w, 0, sizeof *w);
    w->arena.sensitive = w->signed_headers.sensitive = w->creq.sensitive = w->sts.sensitive =
        w->final.sensitive = 1;
}

static void sign_work_free(struct sign_work *w)
{
    buf_free(&w->arena);
    buf_free(&w->signed_headers);
    buf_free(&w->creq);
    buf_free(&w->sts);
    buf_free(&w->final);
}

struct sigv4_key_cache *sigv4_key_cache_new(void)
{
    struct sigv4_key_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (engine_init(&c->engine) != 0) {
        free(c);
        return NULL;
    }
    c->loaded = -1;
    sign_work_init(&c->work);
    return c;
}

void sigv4_key_cache_free(struct sigv4_key_cache *c)
{
    if (!c)
        return;
    engine_free(&c->engine);
    sign_work_free(&c->work);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

/* Finds or derives the key; *slot is the cache entry holding it, or -1 when it bypassed the
 * cache. Deriving reuses the engine's HMAC state, so it marks no key as loaded. */
static int lookup_key(struct sigv4_key_cache *cache, struct sha_engine *e, const char *secret,
                      const unsigned char *secret_digest, const char *date8, const char *region,
                      const char *service, unsigned char key[32], int *slot)
{
    *slot = -1;
    size_t region_len = strlen(region), service_len = strlen(service);
    if (!cache || region_len >= KEY_CACHE_NAME_MAX || service_len >= KEY_CACHE_NAME_MAX) {
        if (cache)
            cache->loaded = -1; /* deriving overwrites the loaded key's HMAC state */
        return derive_signing_key(e, secret, date8, region, service, key) == 0 ? 0 : -1;
    }

    unsigned char digest[32];
    if (secret_digest)
        memcpy(digest, secret_digest, 32);
    else if (engine_sha256(e, secret, strlen(secret), digest) != 0)
        return -1;
    struct key_cache_entry *victim = &cache->entries[0];
    for (size_t i = 0; i < KEY_CACHE_ENTRIES; i++) {
        struct key_cache_entry *entry = &cache->entries[i];
        if (entry->used && CRYPTO_memcmp(entry->secret_digest, digest, 32) == 0 &&
            memcmp(entry->date, date8, 9) == 0 &&
            memcmp(entry->region, region, region_len + 1) == 0 &&
            memcmp(entry->service, service, service_len + 1) == 0) {
            entry->last_use = ++cache->clock;
            memcpy(key, entry->key, 32);
            *slot = (int)i;
            return 1;
        }
        if (!entry->used || (victim->used && entry->last_use < victim->last_use))
            victim = entry;
    }
    cache->loaded = -1;
    if (derive_signing_key(e, secret, date8, region, service, key) != 0)
        return -1;
    victim->used = 1;
    victim->last_use = ++cache->clock;
    memcpy(victim->secret_digest, digest, 32);
    memcpy(victim->date, date8, 9);
    memcpy(victim->region, region, region_len + 1);
    memcpy(victim->service, service, service_len + 1);
    memcpy(victim->key, key, 32);
    *slot = (int)(victim - cache->entries);
    return 0;
}

int sigv4_signing_key(struct sigv4_key_cache *cache, const char *secret, const char *date8,
                      const char *region, const char *service, unsigned char key[32])
{
    if (!secret || !date8 || strlen(date8) != 8 || !region || !service)
        return -1;
    struct sha_engine local;
    struct sha_engine *e = cache ? &cache->engine : &local;
    if (!cache) {
        if (engine_init(&local) != 0)
            return -1;
    }
    int slot;
    int rc = lookup_key(cache, e, secret, NULL, date8, region, service, key, &slot);
    if (!cache)
        engine_free(&local);
    return rc;
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

/* 1 when sigv4_normalize_path would return the path unchanged: a leading '/', no empty, "."
 * or ".." segment, and a trailing '/' only after a segment. Most request paths are. */
static int path_is_normal(const char *path, size_t len)
{
    if (len == 0 || path[0] != '/')
        return 0;
    if (len == 1)
        return 1;
    size_t i = 1;
    while (i < len) {
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        size_t n = i - start;
        if (n == 0 || (n == 1 && path[start] == '.') ||
            (n == 2 && path[start] == '.' && path[start + 1] == '.'))
            return 0;
        i++; /* past the '/'; a '/' as the very last byte ends the loop: a trailing slash */
    }
    return 1;
}

static void append_canonical_uri(struct buf *out, struct buf *tmp, const char *path, int normalize,
                                 int double_encode)
{
    if (empty(path))
        path = "/";
    size_t len = strlen(path);
    if (normalize && !path_is_normal(path, len)) {
        buf_reset(tmp);
        sigv4_normalize_path(tmp, path, len);
        if (buf_failed(tmp)) {
            out->failed = 1;
            return;
        }
        path = buf_str(tmp);
        len = tmp->len;
    }
    if (double_encode)
        sigv4_uri_encode(out, path, len, 1);
    else
        buf_append(out, path, len);
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

static int ieq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

/* Parameters whose presence means the request was already presigned. */
static const char *const s_auth_params[] = {
    "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",           "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token",
};

struct sign_state {
    struct query_param *params;
    size_t param_count, param_cap;
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

static void sign_state_free(struct sign_state *st)
{
    for (size_t i = 0; i < st->param_count; i++) {
        free(st->params[i].key);
        /* one of them may be the session token (presigning) */
        OPENSSL_cleanse(st->params[i].value, strlen(st->params[i].value));
        free(st->params[i].value);
    }
    free(st->params);
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

/* ------------------------------------------------------------------------------------- */
/* Canonical headers                                                                      */
/* ------------------------------------------------------------------------------------- */

/* Appends s[0..len) and a NUL to the arena; returns the offset where it starts. */
static size_t arena_put(struct buf *a, const char *s, size_t len)
{
    size_t off = a->len;
    if (buf_reserve(a, len + 1) != 0) {
        a->failed = 1;
        return off;
    }
    memcpy(a->data + a->len, s, len);
    a->len += len + 1;
    a->data[a->len - 1] = '\0';
    a->data[a->len] = '\0';
    return off;
}

/* Appends a header name trimmed and lowercased (ASCII only, whatever the locale). */
static size_t arena_name(struct buf *a, const char *s, size_t *len_out)
{
    size_t len = strlen(s);
    while (len && is_header_space((unsigned char)s[len - 1]))
        len--;
    while (len && is_header_space((unsigned char)*s)) {
        s++;
        len--;
    }
    size_t off = arena_put(a, s, len);
    if (!a->failed)
        for (char *c = a->data + off; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    *len_out = len;
    return off;
}

/* Appends a header value trimmed, with every run of whitespace (a folded continuation line
 * included) collapsed into one space, as every SDK does before signing. */
static size_t arena_value(struct buf *a, const char *s, size_t *len_out)
{
    size_t len = strlen(s), off = a->len, n = 0;
    *len_out = 0;
    if (buf_reserve(a, len + 1) != 0) {
        a->failed = 1;
        return off;
    }
    char *w = a->data + off;
    int pending_space = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (is_header_space(*c)) {
            pending_space = n > 0;
            continue;
        }
        if (pending_space)
            w[n++] = ' ';
        pending_space = 0;
        w[n++] = (char)*c;
    }
    w[n] = '\0';
    a->len += n + 1;
    a->data[a->len] = '\0';
    *len_out = n;
    return off;
}

/* Adds a header whose name and value are already canonical. */
static void add_header(struct buf *a, struct canon_header *h, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
    h->name_off = arena_put(a, name, name_len);
    h->name_len = name_len;
    h->value_off = arena_put(a, value, value_len);
    h->value_len = value_len;
}

static int compare_headers(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void sort_headers(struct canon_header *h, size_t n)
{
    if (n > INLINE_HEADERS) {
        qsort(h, n, sizeof *h, compare_headers);
        return;
    }
    /* A handful of headers, nearly sorted already: insertion sort beats qsort's calls. */
    for (size_t i = 1; i < n; i++) {
        struct canon_header cur = h[i];
        size_t j = i;
        while (j && compare_headers(&h[j - 1], &cur) > 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = cur;
    }
}

static void append_signed_headers(struct buf *out, const struct canon_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(h[i].name, h[i - 1].name) == 0)
            continue;
        if (out->len)
            buf_putc(out, ';');
        buf_append(out, h[i].name, h[i].name_len);
    }
}

static void append_canonical_headers(struct buf *out, const struct canon_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int continues = i && strcmp(h[i].name, h[i - 1].name) == 0;
        if (continues) {
            buf_putc(out, ',');
        } else {
            if (i)
                buf_putc(out, '\n');
            buf_append(out, h[i].name, h[i].name_len);
            buf_putc(out, ':');
        }
        buf_append(out, h[i].value, h[i].value_len);
    }
    if (n)
        buf_putc(out, '\n');
}

/* ------------------------------------------------------------------------------------- */
/* Signing                                                                                */
/* ------------------------------------------------------------------------------------- */

void sigv4_result_cleanup(struct sigv4_result *r)
{
    if (!r)
        return;
    free(r->storage);
    memset(r, 0, sizeof *r);
}

/* Empties a reused buffer; one that grew past a large request is let go rather than kept. */
static void work_reset(struct buf *b)
{
    if (b->failed || b->cap > 65536)
        buf_free(b);
    else
        buf_reset(b);
}

/* Copies len bytes and a NUL to *cursor and moves it past them. */
static char *store(char **cursor, const char *s, size_t len)
{
    char *start = *cursor;
    memcpy(start, s, len);
    start[len] = '\0';
    *cursor += len + 1;
    return start;
}

/* One signing in progress: what the steps below share. The steps follow the specification's
 * tasks (docs.aws.amazon.com, "Create a signed AWS API request"): the canonical request
 * (task 1), the string to sign (task 2), the signature (task 3) and adding it to the request
 * (task 4). Each returns IVS_OK or the failure; IVS_ERR_NOMEM is reported by sigv4_sign. */
struct sign_ctx {
    const struct sigv4_params *p;
    struct sigv4_key_cache *cache; /* NULL: a one-off signing with local engine and work */
    struct sha_engine *e;
    struct sign_work *w;
    struct sigv4_result *out;
    struct sign_state st;    /* the query parameters, sorted */
    struct canon_header *hs; /* the headers to sign, sorted */
    size_t hn;
    int has_token;
    char date8[9];    /* YYYYMMDD of the signing time */
    size_t scope_off; /* the credential scope inside w->sts */
    size_t scope_len;
};

/* The hashed payload: the caller's (UNSIGNED-PAYLOAD, a precomputed hash) or SHA-256 of the
 * body. */
static enum ivs_status sign_payload_hash(struct sign_ctx *c, struct ivs_error *err)
{
    const struct sigv4_params *p = c->p;
    if (p->payload_hash) {
        size_t n = strnlen(p->payload_hash, sizeof c->out->payload_hash - 1);
        memcpy(c->out->payload_hash, p->payload_hash, n);
        c->out->payload_hash[n] = '\0';
    } else {
        unsigned char md[32];
        if (engine_sha256(c->e, p->body, p->body_len, md) == 0)
            put_hex(c->out->payload_hash, md, 32);
    }
    if (!c->out->payload_hash[0])
        return ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "SHA-256 failed");
    return IVS_OK;
}

/* Task 2, first half: the string to sign up to the credential scope, which later steps read
 * back from it (c->scope_off, c->scope_len). */
static enum ivs_status sign_scope(struct sign_ctx *c)
{
    struct buf *sts = &c->w->sts;
    buf_append(sts, SIGV4_ALGORITHM "\n", SIGV4_ALGORITHM_LEN + 1);
    buf_append(sts, c->out->amz_date, 16);
    buf_putc(sts, '\n');
    c->scope_off = sts->len;
    buf_append(sts, c->date8, 8);
    buf_putc(sts, '/');
    buf_puts(sts, c->p->region);
    buf_putc(sts, '/');
    buf_puts(sts, c->p->service);
    buf_append(sts, "/aws4_request", 13);
    c->scope_len = sts->len - c->scope_off;
    return buf_failed(sts) ? IVS_ERR_NOMEM : IVS_OK;
}

/* Task 1, headers: the caller's headers plus X-Amz-Date, X-Amz-Security-Token and
 * X-Amz-Content-SHA256 (headers mode), canonicalised into the arena, sorted, and the
 * SignedHeaders list. c->hs must have room for header_count + 3 entries. */
static enum ivs_status sign_headers(struct sign_ctx *c)
{
    const struct sigv4_params *p = c->p;
    struct canon_header *hs = c->hs;
    size_t hn = 0;
    struct buf *arena = &c->w->arena;
    for (size_t i = 0; i < p->header_count; i++, hn++) {
        hs[hn].name_off = arena_name(arena, p->headers[i].name, &hs[hn].name_len);
        hs[hn].value_off = arena_value(arena, p->headers[i].value, &hs[hn].value_len);
    }
    if (!p->presign) {
        add_header(arena, &hs[hn++], "x-amz-date", 10, c->out->amz_date, 16);
        if (c->has_token && !p->omit_session_token) {
            hs[hn].name_off = arena_put(arena, "x-amz-security-token", 20);
            hs[hn].name_len = 20;
            hs[hn].value_off = arena_value(arena, p->session_token, &hs[hn].value_len);
            hn++;
        }
        if (p->add_content_sha256)
            add_header(arena, &hs[hn++], "x-amz-content-sha256", 20, c->out->payload_hash,
                       strlen(c->out->payload_hash));
    }
    if (buf_failed(arena))
        return IVS_ERR_NOMEM;
    for (size_t i = 0; i < hn; i++) {
        hs[i].name = arena->data + hs[i].name_off;
        hs[i].value = arena->data + hs[i].value_off;
        hs[i].order = i;
    }
    sort_headers(hs, hn);
    c->hn = hn;
    append_signed_headers(&c->w->signed_headers, hs, hn);
    return buf_failed(&c->w->signed_headers) ? IVS_ERR_NOMEM : IVS_OK;
}

/* Task 1, query: the caller's parameters plus, when presigning, the X-Amz-* ones, sorted. */
static enum ivs_status sign_query(struct sign_ctx *c, struct ivs_error *err)
{
    const struct sigv4_params *p = c->p;
    struct sign_state *st = &c->st;
    if (!empty(p->query)) {
        enum ivs_status rc = collect_query(p, st, err);
        if (rc != IVS_OK)
            return rc;
    }
    if (p->presign) {
        const struct buf *sts = &c->w->sts;
        struct buf cred = BUF_INIT;
        buf_puts(&cred, p->access_key_id);
        buf_putc(&cred, '/');
        buf_append(&cred, sts->data + c->scope_off, c->scope_len);
        char expires[24];
        snprintf(expires, sizeof expires, "%ld", p->expires_s);
        int bad = buf_failed(&cred);
        bad = bad || push_param(st, ivs_strdup("X-Amz-Algorithm"), ivs_strdup(SIGV4_ALGORITHM));
        bad = bad || push_param(st, ivs_strdup("X-Amz-Credential"), encode_value(buf_str(&cred)));
        bad = bad || push_param(st, ivs_strdup("X-Amz-Date"), ivs_strdup(c->out->amz_date));
        bad = bad || push_param(st, ivs_strdup("X-Amz-Expires"), ivs_strdup(expires));
        bad = bad || push_param(st, ivs_strdup("X-Amz-SignedHeaders"),
                                encode_value(buf_str(&c->w->signed_headers)));
        if (c->has_token && !p->omit_session_token)
            bad = bad || push_param(st, ivs_strdup("X-Amz-Security-Token"),
                                    encode_value(p->session_token));
        buf_free(&cred);
        if (bad)
            return IVS_ERR_NOMEM;
    }
    if (st->param_count > 1)
        qsort(st->params, st->param_count, sizeof *st->params, compare_params);
    return IVS_OK;
}

/* Task 1: the canonical request, from the method, path, query, headers and payload hash. */
static enum ivs_status sign_canonical_request(struct sign_ctx *c)
{
    const struct sigv4_params *p = c->p;
    struct sign_work *w = c->w;
    struct buf *creq = &w->creq;
    buf_puts(creq, p->method);
    buf_putc(creq, '\n');
    append_canonical_uri(creq, &w->final, p->path, p->normalize_path, p->double_encode);
    buf_putc(creq, '\n');
    append_query(creq, &c->st);
    buf_putc(creq, '\n');
    append_canonical_headers(creq, c->hs, c->hn);
    buf_putc(creq, '\n');
    buf_append(creq, buf_str(&w->signed_headers), w->signed_headers.len);
    buf_putc(creq, '\n');
    buf_append(creq, c->out->payload_hash, strlen(c->out->payload_hash));
    return buf_failed(creq) ? IVS_ERR_NOMEM : IVS_OK;
}

/* Task 2, second half: the hash of the canonical request ends the string to sign. */
static enum ivs_status sign_string_to_sign(struct sign_ctx *c, struct ivs_error *err)
{
    unsigned char digest[32];
    struct buf *sts = &c->w->sts;
    if (engine_sha256(c->e, c->w->creq.data, c->w->creq.len, digest) != 0)
        return ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "SHA-256 failed");
    if (buf_reserve(sts, 65) != 0)
        return IVS_ERR_NOMEM;
    sts->data[sts->len++] = '\n';
    put_hex(sts->data + sts->len, digest, 32);
    sts->len += 64;
    return IVS_OK;
}

/* Task 3: the signing key (cached per secret, date, region and service) and the HMAC of the
 * string to sign with it. */
static enum ivs_status sign_signature(struct sign_ctx *c, struct ivs_error *err)
{
    const struct sigv4_params *p = c->p;
    struct sigv4_key_cache *cache = c->cache;
    unsigned char digest[32], key[32];
    int slot = -1;
    int mac_rc = lookup_key(cache, c->e, p->secret_access_key, p->secret_digest, c->date8,
                            p->region, p->service, key, &slot) < 0
                     ? -1
                     : 0;
    /* The HMAC key schedule is kept loaded between signings with the same key. */
    if (mac_rc == 0 && (!cache || slot < 0 || cache->loaded != slot)) {
        mac_rc = engine_hmac_key(c->e, key, 32);
        if (cache)
            cache->loaded = mac_rc == 0 ? slot : -1;
    }
    OPENSSL_cleanse(key, sizeof key);
    if (mac_rc == 0)
        mac_rc = engine_hmac(c->e, c->w->sts.data, c->w->sts.len, digest);
    if (mac_rc != 0)
        return ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "HMAC-SHA256 failed");
    put_hex(c->out->signature, digest, 32);
    return IVS_OK;
}

/* Task 4: the Authorization header value, or the presigned query string, into w->final. */
static enum ivs_status sign_assemble(struct sign_ctx *c)
{
    const struct sigv4_params *p = c->p;
    struct sign_work *w = c->w;
    const struct buf *sts = &w->sts;
    struct buf *fin = &w->final;
    buf_reset(fin); /* it held a normalised path */
    if (p->presign) {
        /* The caller's own parameters stay exactly as they were sent; the server canonicalises
         * them the same way the signer did. */
        if (!empty(p->query)) {
            buf_puts(fin, p->query);
            buf_putc(fin, '&');
        }
        buf_puts(fin, "X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=");
        struct buf cred = BUF_INIT;
        buf_puts(&cred, p->access_key_id);
        buf_putc(&cred, '/');
        buf_append(&cred, sts->data + c->scope_off, c->scope_len);
        sigv4_uri_encode(fin, buf_str(&cred), cred.len, 0);
        if (buf_failed(&cred))
            fin->failed = 1;
        buf_free(&cred);
        buf_printf(fin, "&X-Amz-Date=%s&X-Amz-Expires=%ld&X-Amz-SignedHeaders=", c->out->amz_date,
                   p->expires_s);
        sigv4_uri_encode(fin, buf_str(&w->signed_headers), w->signed_headers.len, 0);
        if (c->has_token) {
            buf_puts(fin, "&X-Amz-Security-Token=");
            sigv4_uri_encode(fin, p->session_token, strlen(p->session_token), 0);
        }
        buf_puts(fin, "&X-Amz-Signature=");
        buf_append(fin, c->out->signature, 64);
    } else {
        buf_append(fin, SIGV4_ALGORITHM " Credential=", SIGV4_ALGORITHM_LEN + 12);
        buf_puts(fin, p->access_key_id);
        buf_putc(fin, '/');
        buf_append(fin, sts->data + c->scope_off, c->scope_len);
        buf_append(fin, ", SignedHeaders=", 16);
        buf_append(fin, buf_str(&w->signed_headers), w->signed_headers.len);
        buf_append(fin, ", Signature=", 12);
        buf_append(fin, c->out->signature, 64);
    }
    return buf_failed(fin) ? IVS_ERR_NOMEM : IVS_OK;
}

/* Every string of the result in one allocation. */
static enum ivs_status sign_store_result(struct sign_ctx *c)
{
    struct sign_work *w = c->w;
    struct sigv4_result *out = c->out;
    const struct buf *creq = &w->creq, *sts = &w->sts, *fin = &w->final;
    char *block =
        malloc(creq->len + sts->len + w->signed_headers.len + c->scope_len + fin->len + 5);
    if (!block)
        return IVS_ERR_NOMEM;
    char *cursor = block;
    out->storage = block;
    out->canonical_request = store(&cursor, creq->data, creq->len);
    out->string_to_sign = store(&cursor, sts->data, sts->len);
    out->signed_headers = store(&cursor, buf_str(&w->signed_headers), w->signed_headers.len);
    out->credential_scope = store(&cursor, sts->data + c->scope_off, c->scope_len);
    if (c->p->presign)
        out->query = store(&cursor, fin->data, fin->len);
    else
        out->authorization = store(&cursor, fin->data, fin->len);
    return IVS_OK;
}

enum ivs_status sigv4_sign(const struct sigv4_params *p, struct sigv4_key_cache *cache,
                           struct sigv4_result *out, struct ivs_error *err)
{
    if (!out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "sigv4_sign needs a result");
    memset(out, 0, sizeof *out);
    if (!p)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "sigv4_sign needs parameters");
    enum ivs_status rc = validate(p, err);
    if (rc != IVS_OK)
        return rc;

    struct sha_engine local_engine;
    struct sign_work local_work;
    struct canon_header inline_headers[INLINE_HEADERS];
    struct sign_ctx c = {
        .p = p,
        .cache = cache,
        .e = cache ? &cache->engine : &local_engine,
        .w = cache ? &cache->work : &local_work,
        .out = out,
        .hs = inline_headers,
        .has_token = !empty(p->session_token),
    };
    if (!cache && engine_init(&local_engine) != 0)
        return ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "SHA-256 is not available");
    sign_work_init(&local_work);
    work_reset(&c.w->arena);
    work_reset(&c.w->signed_headers);
    work_reset(&c.w->creq);
    work_reset(&c.w->sts);
    work_reset(&c.w->final);

    if (cache && cache->date_text[0] && cache->date_time == p->time) {
        memcpy(out->amz_date, cache->date_text, sizeof out->amz_date);
    } else {
        sigv4_format_amz_date(p->time, out->amz_date);
        if (cache) {
            memcpy(cache->date_text, out->amz_date, sizeof cache->date_text);
            cache->date_time = p->time;
        }
    }
    memcpy(c.date8, out->amz_date, 8);
    c.date8[8] = '\0';

    size_t max_headers = p->header_count + 3;
    if (max_headers > INLINE_HEADERS && !(c.hs = malloc(max_headers * sizeof *c.hs)))
        rc = IVS_ERR_NOMEM;
    if (rc == IVS_OK)
        rc = sign_payload_hash(&c, err);
    if (rc == IVS_OK)
        rc = sign_scope(&c);
    if (rc == IVS_OK)
        rc = sign_headers(&c);
    if (rc == IVS_OK)
        rc = sign_query(&c, err);
    if (rc == IVS_OK)
        rc = sign_canonical_request(&c);
    if (rc == IVS_OK)
        rc = sign_string_to_sign(&c, err);
    if (rc == IVS_OK)
        rc = sign_signature(&c, err);
    if (rc == IVS_OK)
        rc = sign_assemble(&c);
    if (rc == IVS_OK)
        rc = sign_store_result(&c);

    sign_state_free(&c.st);
    if (c.hs && c.hs != inline_headers)
        free(c.hs);
    if (!cache) {
        sign_work_free(&local_work);
        engine_free(&local_engine);
    }
    if (rc != IVS_OK) {
        sigv4_result_cleanup(out);
        if (rc == IVS_ERR_NOMEM)
            ivs_error_nomem(err);
    }
    return rc;
}
