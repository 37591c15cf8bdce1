/* sso_login.h: the two providers whose tokens live in files the AWS CLI writes.
 *
 *  - SSO (IAM Identity Center): the token `aws sso login` caches in
 *    ~/.aws/sso/cache/<sha1>.json (key: the sso-session name, else the start URL), refreshed
 *    through SSO-OIDC CreateToken when it expires within 15 minutes (sso-session form only),
 *    written back atomically with mode 0600, then exchanged for role credentials with the
 *    portal's GetRoleCredentials.
 *  - login (`aws login`, profile key login_session): the credentials cached in
 *    $AWS_LOGIN_CACHE_DIRECTORY or ~/.aws/login/cache/<sha256>.json, refreshed through signin
 *    CreateOAuth2Token with a DPoP proof (ES256 JWT from the cached P-256 key) once fewer
 *    than 5 minutes remain, and written back the same way.
 * Tokens, refresh tokens, client secrets and the DPoP key never appear in a message. A cache
 * that cannot be written back is reported through warn (the credentials just obtained are
 * still used; the file on disk is left as it was). */
#ifndef IVS_SSO_LOGIN_H
#define IVS_SSO_LOGIN_H

#include <stdint.h>

#include "credentials.h"
#include "identity_http.h"

struct sso_settings {
    const char *profile;      /* for messages */
    const char *session_name; /* sso_session; NULL for the legacy form (no refresh) */
    const char *start_url, *region, *account_id, *role_name;
    const char *home; /* $HOME */
};

/* Fetches role credentials (provider "sso"). Errors carry the codes SSOTokenLoadError,
 * UnauthorizedSSOToken, TokenRetrievalError, or the portal's error type; the messages say to
 * run `aws sso login --profile <profile>` where that is the fix. */
enum ivs_status sso_fetch(const struct ident_ctx *ctx, const struct sso_settings *s, int64_t now_ms,
                          void (*warn)(void *ud, const char *line), void *warn_ud,
                          struct credentials *out, struct ivs_error *err);

struct login_settings {
    const char *profile;   /* for messages */
    const char *session;   /* login_session */
    const char *cache_dir; /* AWS_LOGIN_CACHE_DIRECTORY (NULL: ~/.aws/login/cache) */
    const char *home;      /* $HOME */
};

/* Fetches login credentials (provider "login"). Errors carry the codes LoginTokenLoadError,
 * LoginRefreshRequired, LoginInsufficientPermissions, LoginError, or signin's error type. */
enum ivs_status login_fetch(const struct ident_ctx *ctx, const struct login_settings *s,
                            int64_t now_ms, void (*warn)(void *ud, const char *line), void *warn_ud,
                            struct credentials *out, struct ivs_error *err);

/* The cache file names: hex SHA-1 of `key` (SSO) and hex SHA-256 of `session` (login), with
 * ".json". Caller frees; NULL when out of memory. */
char *sso_cache_name(const char *key);
char *login_cache_name(const char *session);

/* Builds a DPoP proof (compact JWS, ES256) for a POST to url at now_s with the EC P-256 key
 * in pem (SEC1 or PKCS#8). Appends it to out. IVS_ERR_CREDENTIALS "LoginTokenLoadError" when
 * the key is not a usable P-256 private key. */
enum ivs_status login_dpop_proof(const char *pem, const char *url, int64_t now_s, struct buf *out,
                                 struct ivs_error *err);

#endif
