/* sigv4.h: AWS Signature Version 4, header and query (presign) modes.
 * Used by the client for every call, by ivs_sign()/ivs_presign_url(), and by the emulator to
 * verify what it receives. Pure computation: no I/O, no globals. */
#ifndef IVS_SIGV4_H
#define IVS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "ivs.h"

struct sigv4_params {
    const char *method;
    const char *path;  /* the path exactly as sent on the wire (percent-encoded once); may hold
                          raw bytes such as spaces or UTF-8, which are encoded */
    const char *query; /* the query as sent, without '?'; NULL or "" for none */
    const struct ivs_header *headers; /* headers to sign, Host among them; names any case;
                                         repeated names keep their order */
    size_t header_count;
    const void *body;
    size_t body_len;
    const char *payload_hash; /* NULL: SHA-256 of body; else used as is ("UNSIGNED-PAYLOAD") */
    const char *region;
    const char *service;
    int64_t time; /* signing time, seconds since the epoch (UTC) */
    const char *access_key_id;
    const char *secret_access_key;
    /* NULL, or sigv4_secret_digest() of secret_access_key, which a caller signing many
     * requests with one secret keeps: the key cache is keyed on it, so it is not hashed
     * again for every signature. */
    const unsigned char *secret_digest;
    const char *session_token; /* NULL or "" for none */
    int normalize_path;        /* remove ".", ".." and empty segments (every non-S3 service) */
    int double_encode;         /* encode the wire path once more (every non-S3 service) */
    int add_content_sha256;    /* header mode: add and sign x-amz-content-sha256 */
    int omit_session_token;    /* token added to the request but not signed */
    int presign;               /* query mode */
    long expires_s;            /* query mode: X-Amz-Expires */
};

struct sigv4_key_cache; /* signing keys keyed by (secret, date, region, service) */

struct sigv4_result {
    char amz_date[17];
    char signature[65];
    char payload_hash[65];
    char *canonical_request;
    char *string_to_sign;
    char *signed_headers;   /* "host;x-amz-date" */
    char *credential_scope; /* "20150830/us-east-1/service/aws4_request" */
    char *authorization;    /* header mode: the Authorization header value */
    char *query;            /* query mode: the complete signed query string (no '?') */
    char *storage;          /* the one allocation every string above lives in: the strings
                               are released together, never one by one */
};

/* Signs. cache may be NULL. Returns IVS_OK, or IVS_ERR_USAGE / IVS_ERR_NOMEM with err set.
 * The result's strings are released with sigv4_result_cleanup(). */
enum ivs_status sigv4_sign(const struct sigv4_params *p, struct sigv4_key_cache *cache,
                           struct sigv4_result *out, struct ivs_error *err);
void sigv4_result_cleanup(struct sigv4_result *r);

/* A small per-owner cache (a client holds one; it is not shared between threads). It keys each
 * entry on a SHA-256 of the secret, never the secret itself, so new credentials or a new UTC
 * day simply miss. free wipes the keys and accepts NULL. */
struct sigv4_key_cache *sigv4_key_cache_new(void);
void sigv4_key_cache_free(struct sigv4_key_cache *c);

/* Derives the SigV4 signing key for (secret, date8 = "YYYYMMDD", region, service) into key,
 * through cache when not NULL. Returns 1 when the key came from the cache, 0 when it was
 * derived, -1 on failure. Exposed so tests and the emulator can reach the cache directly. */
int sigv4_signing_key(struct sigv4_key_cache *cache, const char *secret, const char *date8,
                      const char *region, const char *service, unsigned char key[32]);

/* Helpers shared with the serializer, the emulator and tests. */

/* Percent-encodes with the RFC 3986 unreserved set (A-Z a-z 0-9 - _ . ~), uppercase hex;
 * keeps '/' when keep_slash. Appends to out (a struct buf *). */
struct buf;
void sigv4_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash);
/* Decodes %XX in place semantics into out; '+' is kept as '+'. */
void sigv4_uri_decode(struct buf *out, const char *s, size_t len);
/* Appends the path with ".", ".." and empty segments removed: always a leading '/', a trailing
 * '/' only when the path had one and something is left. Idempotent. */
void sigv4_normalize_path(struct buf *out, const char *path, size_t len);
/* What sigv4_params.secret_digest must hold for secret (its SHA-256). */
void sigv4_secret_digest(const char *secret, unsigned char out[32]);
/* Lowercase hex SHA-256 of data into hex[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char hex[65]);
/* Formats t as YYYYMMDDTHHMMSSZ into out[17]. */
void sigv4_format_amz_date(int64_t t, char out[17]);
/* Parses YYYYMMDDTHHMMSSZ; returns 0 and sets *t, or -1. */
int sigv4_parse_amz_date(const char *s, int64_t *t);
/* Constant-time comparison of two NUL-terminated strings; returns 1 when equal. */
int sigv4_equal_ct(const char *a, const char *b);

#endif
