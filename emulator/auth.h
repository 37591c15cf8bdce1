/* auth.h: verifying the SigV4 signature of an incoming request, in the order and with the
 * errors of the AWS front door that sits before IVS (API Gateway). */
#ifndef EMU_AUTH_H
#define EMU_AUTH_H

#include <stddef.h>

#include "ivs.h"
#include "store.h"

struct emu_credential {
    char *access_key_id;
    char *secret_access_key;
    char *account;
};

/* A temporary key issued by the identity endpoints (emulator/identity.c), as auth_verify
 * needs it. account points at storage that lives as long as the issuer. */
struct emu_temp_credential {
    char secret_access_key[64];
    const char *account;
    int expired; /* past its expiration on the issuer's clock */
};

/* Looks a temporary access key id up: 0 when it is known and session_token (NULL when the
 * request has none) is its token; 1 when it is known but the token is missing or different;
 * -1 when it is unknown. */
typedef int (*emu_temp_lookup_fn)(void *ud, const char *access_key_id, const char *session_token,
                                  struct emu_temp_credential *out);

struct emu_auth {
    const struct emu_credential *credentials;
    size_t credential_count;
    const char *const *regions;     /* regions a credential scope may name; NULL-terminated */
    long max_skew_s;                /* 300 */
    const char *service;            /* the scope's service; NULL means "ivs" */
    emu_temp_lookup_fn temp_lookup; /* NULL: only the static credentials */
    void *temp_ud;
};

struct emu_request_view {
    const char *method;
    const char *raw_path;             /* as sent on the wire */
    const char *raw_query;            /* as sent, without '?'; "" for none */
    const struct ivs_header *headers; /* every request header, in arrival order */
    size_t header_count;
    const void *body;
    size_t body_len;
};

struct sigv4_key_cache;

/*
 * Checks the Authorization header of req against the configured credentials at time `now`
 * (seconds). Returns 0 and sets *account and region (a copy into region[region_len]) when
 * the signature is good; otherwise fills out with the front door's 403 error and returns -1.
 * cache (may be NULL) keeps derived signing keys between calls on one thread.
 */
int auth_verify(const struct emu_auth *a, const struct emu_request_view *req, long long now,
                struct sigv4_key_cache *cache, const char **account, char *region,
                size_t region_len, struct emu_reply *out);

/* The access key id and the service of an Authorization header's credential scope. Returns 0
 * and fills both, or -1 when the header cannot be read. */
int auth_scope_key(const char *authorization, char *akid, size_t akid_len, char *service,
                   size_t service_len);

/* The credential scope region of an Authorization header, if one can be read; used with
 * --no-auth to pick the partition. Returns 0 and fills region, or -1. */
int auth_scope_region(const char *authorization, char *region, size_t region_len);

/* The value of the first header with this name (case-insensitive), NULL when absent. */
const char *emu_header(const struct emu_request_view *req, const char *name);

#endif
