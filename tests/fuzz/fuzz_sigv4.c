/* fuzz_sigv4.c: SigV4 canonicalisation and signing (core/src/sigv4.c).
 *
 * The input is an HTTP request: "METHOD /path?query HTTP/1.1", header lines, an empty line,
 * the body. It is signed in header mode and presigned in query mode, with the options taken
 * from the input's last byte (S3-style paths, x-amz-content-sha256, a session token, whether
 * the token is signed). Invariants: signing the same request twice (the second time through
 * the key cache) gives the same signature; path normalisation is idempotent; percent-decoding
 * undoes percent-encoding; an X-Amz-Date read back gives the time it was written from. */

#include "buf.h"
#include "fuzz.h"
#include "sigv4.h"

static struct sigv4_key_cache *s_cache;

static void check_helpers(const char *path, size_t len, int64_t t)
{
    struct buf once = BUF_INIT, twice = BUF_INIT;
    sigv4_normalize_path(&once, path, len);
    sigv4_normalize_path(&twice, buf_str(&once), once.len);
    if (!buf_failed(&once) && !buf_failed(&twice)) {
        FUZZ_ASSERT(once.len > 0 && buf_str(&once)[0] == '/');
        FUZZ_ASSERT(once.len == twice.len && !memcmp(buf_str(&once), buf_str(&twice), once.len));
    }
    buf_free(&once);
    buf_free(&twice);

    struct buf enc = BUF_INIT, dec = BUF_INIT;
    sigv4_uri_encode(&enc, path, len, 0);
    sigv4_uri_decode(&dec, buf_str(&enc), enc.len);
    if (!buf_failed(&enc) && !buf_failed(&dec)) {
        for (size_t i = 0; i < enc.len; i++) {
            char c = buf_str(&enc)[i];
            FUZZ_ASSERT((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || strchr("-_.~%", c));
        }
        FUZZ_ASSERT(dec.len == len && !memcmp(buf_str(&dec), path, len));
    }
    buf_free(&enc);
    buf_free(&dec);
    sigv4_uri_decode(&dec, path, len); /* arbitrary text: stray '%', bad hex, truncation */
    buf_free(&dec);

    char amz[17];
    int64_t back = 0;
    sigv4_format_amz_date(t, amz);
    FUZZ_ASSERT(sigv4_parse_amz_date(amz, &back) == 0 && back == t);
    sigv4_parse_amz_date(path, &back);
}

static void sign(const struct sigv4_params *p, int input_has_secret)
{
    struct sigv4_result r1, r2;
    struct ivs_error err = {0};
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    enum ivs_status st1 = sigv4_sign(p, s_cache, &r1, &err);
    ivs_error_clear(&err);
    enum ivs_status st2 = sigv4_sign(p, s_cache, &r2, &err);
    ivs_error_clear(&err);
    FUZZ_ASSERT(st1 == st2);
    if (st1 == IVS_OK && st2 == IVS_OK) {
        FUZZ_ASSERT(strlen(r1.signature) == 64 && !strcmp(r1.signature, r2.signature));
        FUZZ_ASSERT(!strcmp(r1.canonical_request, r2.canonical_request));
        FUZZ_ASSERT(p->presign ? r1.query != NULL : r1.authorization != NULL);
        /* The secret itself is never part of what is signed or sent (unless the request
         * carries it). */
        if (!input_has_secret) {
            FUZZ_ASSERT(!strstr(r1.canonical_request, p->secret_access_key));
            FUZZ_ASSERT(!strstr(p->presign ? r1.query : r1.authorization, p->secret_access_key));
        }
    }
    sigv4_result_cleanup(&r1);
    sigv4_result_cleanup(&r2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_cache)
        s_cache = sigv4_key_cache_new();
    struct fuzz_message m;
    size_t pos = 0;
    if (fuzz_parse_message(data, size, &pos, 0, &m) != 0) {
        fuzz_message_free(&m);
        return 0;
    }
    unsigned flags = size ? data[size - 1] : 0;
    /* "METHOD target VERSION": the target splits into path and query at the first '?'. */
    char *method = m.start;
    char *target = strchr(method, ' ');
    if (target) {
        *target++ = '\0';
        char *version = strrchr(target, ' ');
        if (version)
            *version = '\0';
    } else {
        target = method + strlen(method);
    }
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';

    struct ivs_header headers[64];
    for (size_t i = 0; i < m.header_count; i++) {
        headers[i].name = m.headers[i].name;
        headers[i].value = m.headers[i].value;
    }
    /* The signing time comes from the input too, within the years SigV4 dates can name. */
    int64_t t = 1440938160; /* 2015-08-30T12:36:00Z, the AWS test suite's */
    if (size >= 9) {
        uint32_t v;
        memcpy(&v, data + size - 5, sizeof v);
        t += (int64_t)v;
    }
    struct sigv4_params p = {
        .method = method,
        .path = *target ? target : "/",
        .query = query,
        .headers = headers,
        .header_count = m.header_count,
        .body = m.body,
        .body_len = m.body_len,
        .payload_hash = (flags & 64) ? "UNSIGNED-PAYLOAD" : NULL,
        .region = "us-east-1",
        .service = "ivs",
        .time = t,
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .session_token = (flags & 1) ? "IQoJb3JpZ2luX2VjEFUaCXVzLWVhc3QtMSJHMEUC" : NULL,
        .normalize_path = !(flags & 2),
        .double_encode = !(flags & 2),
        .add_content_sha256 = (flags & 4) != 0,
        .omit_session_token = (flags & 8) != 0,
        .presign = 0,
        .expires_s = 1 + (long)(flags >> 4) * 3600,
    };
    int has_secret = memmem(data, size, p.secret_access_key, strlen(p.secret_access_key)) != NULL;
    sign(&p, has_secret);
    p.presign = 1;
    sign(&p, has_secret);

    check_helpers(target, strlen(target), t);
    fuzz_message_free(&m);
    return 0;
}
