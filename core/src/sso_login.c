#include "sso_login.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"

#define SSO_REFRESH_WINDOW_MS (15 * 60 * 1000LL)
#define LOGIN_REFRESH_THRESHOLD_MS (5 * 60 * 1000LL)
#define TOKEN_FILE_MAX (256 * 1024)

/* ------------------------------------------------------------------------------------------
 * Files
 * ---------------------------------------------------------------------------------------- */

static char *hex_digest(const char *md_name, const char *text, const char *suffix)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD *alg = EVP_MD_fetch(NULL, md_name, NULL);
    int ok = alg && EVP_Digest(text, strlen(text), md, &md_len, alg, NULL) == 1;
    EVP_MD_free(alg);
    if (!ok)
        return NULL;
    struct buf b = BUF_INIT;
    buf_put_hex(&b, md, md_len);
    buf_puts(&b, suffix);
    return buf_steal(&b);
}

char *sso_cache_name(const char *key) { return hex_digest("SHA1", key, ".json"); }

char *login_cache_name(const char *session) { return hex_digest("SHA256", session, ".json"); }

/* Reads a token file into a parsed JSON object. Returns 0; -1 with errno when unreadable;
 * -2 when it is not a JSON object. */
static int read_json_file(const char *path, cJSON **out)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    if (cred_read_secret_file(path, TOKEN_FILE_MAX, &text, &len) != 0)
        return -1;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    explicit_bzero(text, len);
    free(text);
    if (!cJSON_IsObject(doc)) {
        ident_json_wipe_delete(doc);
        return -2;
    }
    *out = doc;
    return 0;
}

static int mkdirs(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Replaces path with doc atomically (a 0600 temp file in the same directory, fsync'd, then
 * renamed over it), so a reader never sees half a file and a failure leaves the old one. */
static int write_json_atomic(const char *dir, const char *path, const cJSON *doc)
{
    if (mkdirs(dir) != 0)
        return -1;
    char *text = cJSON_PrintUnformatted(doc);
    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    size_t len = strlen(text);
    struct buf tmp = BUF_INIT;
    buf_printf(&tmp, "%s.tmp-XXXXXX", path);
    int fd = buf_failed(&tmp) ? -1 : mkstemp(tmp.data);
    int rc = -1, saved = ENOMEM;
    if (fd >= 0) {
        size_t done = 0;
        while (done < len) {
            ssize_t n = write(fd, text + done, len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += (size_t)n;
        }
        if (done == len && fchmod(fd, 0600) == 0 && fsync(fd) == 0 && close(fd) == 0) {
            fd = -1;
            if (rename(tmp.data, path) == 0)
                rc = 0;
        }
        saved = errno;
        if (fd >= 0)
            close(fd);
        if (rc != 0)
            unlink(tmp.data);
    }
    explicit_bzero(text, len);
    free(text);
    buf_free(&tmp);
    errno = saved;
    return rc;
}

static const char *jstr(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static void warnf(void (*warn)(void *, const char *), void *ud, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warnf(void (*warn)(void *, const char *), void *ud, const char *fmt, ...)
{
    if (!warn)
        return;
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!buf_failed(&b))
        warn(ud, buf_str(&b));
    buf_free(&b);
}

/* ------------------------------------------------------------------------------------------
 * SSO
 * ---------------------------------------------------------------------------------------- */

/* CreateToken with the refresh token; on success replaces the cached document (new access
 * token, expiry, refresh token when one came back) and writes it back. */
static enum ivs_status sso_refresh(const struct ident_ctx *ctx, const struct sso_settings *s,
                                   const char *dir, const char *path, int64_t now_ms, cJSON **doc,
                                   void (*warn)(void *, const char *), void *warn_ud,
                                   struct ivs_error *err)
{
    const cJSON *old = *doc;
    const char *client_id = jstr(old, "clientId"), *client_secret = jstr(old, "clientSecret");
    const char *refresh = jstr(old, "refreshToken"), *reg = jstr(old, "registrationExpiresAt");
    int64_t reg_ms = 0;
    if (!client_id || !client_secret || !refresh || !reg || cred_parse_time(reg, &reg_ms) != 0)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "TokenRetrievalError",
                             "the SSO token cache has no refresh data");
    if (reg_ms <= now_ms)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "TokenRetrievalError",
                             "the SSO client registration has expired");
    char *base = NULL, *signing = NULL;
    const char *source;
    enum ivs_status st =
        ident_endpoint(ctx->cfg, IDENT_SSO_OIDC, s->region, &base, &signing, &source, err);
    if (st != IVS_OK)
        return st;
    free(signing);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "grantType", "refresh_token");
    cJSON_AddStringToObject(req, "clientId", client_id);
    cJSON_AddStringToObject(req, "clientSecret", client_secret);
    cJSON_AddStringToObject(req, "refreshToken", refresh);
    char *body = cJSON_PrintUnformatted(req);
    ident_json_wipe_delete(req);
    struct buf url = BUF_INIT;
    buf_printf(&url, "%s/token", base);
    free(base);
    cJSON *resp = NULL;
    st = body && !buf_failed(&url)
             ? ident_json_call(ctx, "POST", buf_str(&url), NULL, 0, body, &resp, NULL, err)
             : ivs_error_nomem(err);
    if (body) {
        explicit_bzero(body, strlen(body));
        free(body);
    }
    buf_free(&url);
    if (st != IVS_OK)
        return st;
    const char *access = jstr(resp, "accessToken");
    const cJSON *expires_in = cJSON_GetObjectItemCaseSensitive(resp, "expiresIn");
    if (!access || !cJSON_IsNumber(expires_in) || expires_in->valuedouble <= 0) {
        ident_json_wipe_delete(resp);
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "TokenRetrievalError",
                             "SSO-OIDC CreateToken answered without accessToken or expiresIn");
    }
    char expires[32];
    cred_format_time(now_ms + (int64_t)(expires_in->valuedouble * 1000.0), expires, sizeof expires);
    /* A new document, as botocore writes it: unknown old fields are dropped. */
    cJSON *fresh = cJSON_CreateObject();
    cJSON_AddStringToObject(fresh, "startUrl", s->start_url);
    cJSON_AddStringToObject(fresh, "region", s->region);
    cJSON_AddStringToObject(fresh, "accessToken", access);
    cJSON_AddStringToObject(fresh, "expiresAt", expires);
    cJSON_AddStringToObject(fresh, "clientId", client_id);
    cJSON_AddStringToObject(fresh, "clientSecret", client_secret);
    cJSON_AddStringToObject(fresh, "registrationExpiresAt", reg);
    if (jstr(resp, "refreshToken"))
        cJSON_AddStringToObject(fresh, "refreshToken", jstr(resp, "refreshToken"));
    ident_json_wipe_delete(resp);
    if (write_json_atomic(dir, path, fresh) != 0)
        warnf(warn, warn_ud,
              "credentials: the refreshed SSO token of profile '%s' could not be written back to "
              "%s (%s); it is used for now, and the file keeps the previous token",
              s->profile, path, strerror(errno));
    ident_json_wipe_delete(*doc);
    *doc = fresh;
    return IVS_OK;
}

enum ivs_status sso_fetch(const struct ident_ctx *ctx, const struct sso_settings *s, int64_t now_ms,
                          void (*warn)(void *ud, const char *line), void *warn_ud,
                          struct credentials *out, struct ivs_error *err)
{
    const char *key = s->session_name ? s->session_name : s->start_url;
    if (!s->home)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "SSOTokenLoadError",
                             "profile '%s' uses SSO, but HOME is not set, so the token cache "
                             "~/.aws/sso/cache cannot be found",
                             s->profile);
    char *name = sso_cache_name(key);
    struct buf dir = BUF_INIT, path = BUF_INIT;
    buf_printf(&dir, "%s/.aws/sso/cache", s->home);
    buf_printf(&path, "%s/%s", buf_str(&dir), name ? name : "");
    free(name);
    enum ivs_status st = IVS_OK;
    cJSON *doc = NULL;
    int64_t expires_ms = 0;
    if (buf_failed(&dir) || buf_failed(&path)) {
        st = ivs_error_nomem(err);
        goto done;
    }
    int rc = read_json_file(buf_str(&path), &doc);
    if (rc == -1) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "SSOTokenLoadError",
                           "the SSO token for %s does not exist or cannot be read (%s: %s); run "
                           "`aws sso login --profile %s`",
                           key, buf_str(&path), strerror(errno), s->profile);
        goto done;
    }
    const char *access = rc == 0 ? jstr(doc, "accessToken") : NULL;
    const char *expires = rc == 0 ? jstr(doc, "expiresAt") : NULL;
    if (!access || !expires || cred_parse_time(expires, &expires_ms) != 0) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "SSOTokenLoadError",
                           "the SSO token cache %s for %s is invalid (%s); run `aws sso login "
                           "--profile %s`",
                           buf_str(&path), key,
                           rc == -2 ? "not a JSON object" : "accessToken or expiresAt missing",
                           s->profile);
        goto done;
    }
    if (!s->session_name) {
        if (expires_ms <= now_ms) {
            st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "UnauthorizedSSOToken",
                               "the SSO session of profile '%s' has expired; run `aws sso login "
                               "--profile %s`",
                               s->profile, s->profile);
            goto done;
        }
    } else if (expires_ms - now_ms < SSO_REFRESH_WINDOW_MS) {
        struct ivs_error refresh_err = {0};
        if (sso_refresh(ctx, s, buf_str(&dir), buf_str(&path), now_ms, &doc, warn, warn_ud,
                        &refresh_err) != IVS_OK) {
            if (expires_ms <= now_ms) {
                st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "TokenRetrievalError",
                                   "the SSO token of profile '%s' (sso-session %s) has expired "
                                   "and refreshing it failed (%s); run `aws sso login --profile "
                                   "%s`",
                                   s->profile, s->session_name,
                                   refresh_err.message ? refresh_err.message : "error", s->profile);
                ivs_error_clear(&refresh_err);
                goto done;
            }
            warnf(warn, warn_ud,
                  "credentials: refreshing the SSO token of profile '%s' failed (%s); the "
                  "current one is still valid",
                  s->profile, refresh_err.message ? refresh_err.message : "error");
            ivs_error_clear(&refresh_err);
        }
        access = jstr(doc, "accessToken");
    }

    /* GetRoleCredentials: unsigned, the token in its own header. */
    char *base = NULL, *signing = NULL;
    const char *source;
    st = ident_endpoint(ctx->cfg, IDENT_SSO, s->region, &base, &signing, &source, err);
    if (st != IVS_OK)
        goto done;
    free(signing);
    struct buf url = BUF_INIT;
    buf_printf(&url, "%s/federation/credentials?role_name=", base);
    ident_form_encode(&url, s->role_name);
    buf_puts(&url, "&account_id=");
    ident_form_encode(&url, s->account_id);
    free(base);
    struct ivs_header h[] = {{"x-amz-sso_bearer_token", access}};
    cJSON *resp = NULL;
    st = buf_failed(&url)
             ? ivs_error_nomem(err)
             : ident_json_call(ctx, "GET", buf_str(&url), h, 1, NULL, &resp, NULL, err);
    buf_free(&url);
    if (st != IVS_OK) {
        if (err &&
            (err->status == 401 || (err->code && strcmp(err->code, "UnauthorizedException") == 0)))
            st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "UnauthorizedSSOToken",
                               "the SSO session of profile '%s' has expired or is otherwise "
                               "invalid; run `aws sso login --profile %s`",
                               s->profile, s->profile);
        else if (err) {
            err->kind = st = IVS_ERR_CREDENTIALS;
            ivs_error_prefix(err, "SSO GetRoleCredentials");
        }
        goto done;
    }
    const cJSON *rc_obj = cJSON_GetObjectItemCaseSensitive(resp, "roleCredentials");
    const char *k = jstr(rc_obj, "accessKeyId"), *sk = jstr(rc_obj, "secretAccessKey");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(rc_obj, "expiration");
    if (!k || !sk || !cJSON_IsNumber(exp)) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "InvalidResponse",
                           "SSO GetRoleCredentials answered without roleCredentials "
                           "(accessKeyId, secretAccessKey, expiration)");
    } else {
        st = cred_set(out, k, sk, jstr(rc_obj, "sessionToken"), (int64_t)exp->valuedouble, "sso",
                      err);
    }
    ident_json_wipe_delete(resp);
done:
    ident_json_wipe_delete(doc);
    buf_free(&dir);
    buf_free(&path);
    return st;
}

/* ------------------------------------------------------------------------------------------
 * login: DPoP and CreateOAuth2Token
 * ---------------------------------------------------------------------------------------- */

static void put_b64url(struct buf *out, const unsigned char *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63]};
        buf_append(out, q, 4);
    }
    if (len - i == 1) {
        unsigned v = (unsigned)data[i] << 16;
        char q[2] = {tab[v >> 18], tab[(v >> 12) & 63]};
        buf_append(out, q, 2);
    } else if (len - i == 2) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8;
        char q[3] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63]};
        buf_append(out, q, 3);
    }
}

static enum ivs_status key_error(struct ivs_error *err)
{
    return ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginTokenLoadError",
                         "the dpopKey of the login token cache is not an EC P-256 private key; "
                         "run `aws login` again");
}

enum ivs_status login_dpop_proof(const char *pem, const char *url, int64_t now_s, struct buf *out,
                                 struct ivs_error *err)
{
    size_t pem_len = strlen(pem);
    if (pem_len > INT_MAX)
        return key_error(err);
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio)
        return ivs_error_nomem(err);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    char group[64] = "";
    size_t group_len = 0;
    BIGNUM *x = NULL, *y = NULL;
    unsigned char xb[32], yb[32], raw[64];
    enum ivs_status st = IVS_OK;
    EVP_MD_CTX *mctx = NULL;
    unsigned char *der = NULL;
    ECDSA_SIG *sig = NULL;
    struct buf signing_input = BUF_INIT;
    if (!pkey || !EVP_PKEY_is_a(pkey, "EC") ||
        !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &group_len) ||
        strcmp(group, "prime256v1") != 0 ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) ||
        BN_bn2binpad(x, xb, 32) != 32 || BN_bn2binpad(y, yb, 32) != 32) {
        st = key_error(err);
        goto done;
    }
    unsigned char rnd[16];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        st =
            ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "no random bytes for the DPoP jti");
        goto done;
    }
    rnd[6] = (unsigned char)((rnd[6] & 0x0f) | 0x40); /* UUID version 4 */
    rnd[8] = (unsigned char)((rnd[8] & 0x3f) | 0x80);
    struct buf jti = BUF_INIT;
    for (int i = 0; i < 16; i++) {
        buf_put_hex(&jti, rnd + i, 1);
        if (i == 3 || i == 5 || i == 7 || i == 9)
            buf_putc(&jti, '-');
    }
    struct buf header = BUF_INIT, payload = BUF_INIT;
    buf_puts(&header, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"x\":\"");
    put_b64url(&header, xb, 32);
    buf_puts(&header, "\",\"y\":\"");
    put_b64url(&header, yb, 32);
    buf_puts(&header, "\",\"crv\":\"P-256\"}}");
    cJSON *htu = cJSON_CreateString(url);
    char *htu_json = htu ? cJSON_PrintUnformatted(htu) : NULL;
    cJSON_Delete(htu);
    buf_printf(&payload, "{\"htm\":\"POST\",\"htu\":%s,\"iat\":%lld,\"jti\":\"%s\"}",
               htu_json ? htu_json : "\"\"", (long long)now_s, buf_str(&jti));
    free(htu_json);
    buf_free(&jti);
    put_b64url(&signing_input, (const unsigned char *)buf_str(&header), header.len);
    buf_putc(&signing_input, '.');
    put_b64url(&signing_input, (const unsigned char *)buf_str(&payload), payload.len);
    buf_free(&header);
    buf_free(&payload);
    if (buf_failed(&signing_input)) {
        st = ivs_error_nomem(err);
        goto done;
    }
    size_t der_len = 0;
    mctx = EVP_MD_CTX_new();
    if (!mctx || EVP_DigestSignInit_ex(mctx, NULL, "SHA256", NULL, NULL, pkey, NULL) != 1 ||
        EVP_DigestSign(mctx, NULL, &der_len, (const unsigned char *)signing_input.data,
                       signing_input.len) != 1 ||
        !(der = malloc(der_len)) ||
        EVP_DigestSign(mctx, der, &der_len, (const unsigned char *)signing_input.data,
                       signing_input.len) != 1) {
        st = ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError",
                           "ES256 signing of the DPoP "
                           "proof failed");
        goto done;
    }
    const unsigned char *p = der;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r = NULL, *s = NULL;
    if (sig)
        ECDSA_SIG_get0(sig, &r, &s);
    if (!sig || BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32) {
        st = ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError",
                           "the DPoP signature could not be converted to JWS form");
        goto done;
    }
    buf_append(out, signing_input.data, signing_input.len);
    buf_putc(out, '.');
    put_b64url(out, raw, 64);
done:
    ECDSA_SIG_free(sig);
    free(der);
    EVP_MD_CTX_free(mctx);
    BN_free(x);
    BN_free(y);
    EVP_PKEY_free(pkey);
    buf_free(&signing_input);
    return st;
}

/* Maps signin's AccessDeniedException `error` member to botocore's login errors. */
static enum ivs_status login_refresh_error(const struct login_settings *s, const char *oauth,
                                           struct ivs_error *err)
{
    if (!err || !err->code || strcmp(err->code, "AccessDeniedException") != 0) {
        if (err)
            err->kind = IVS_ERR_CREDENTIALS;
        ivs_error_prefix(err, "signin CreateOAuth2Token");
        return IVS_ERR_CREDENTIALS;
    }
    long status = err->status;
    enum ivs_status st;
    if (oauth &&
        (strcmp(oauth, "TOKEN_EXPIRED") == 0 || strcmp(oauth, "USER_CREDENTIALS_CHANGED") == 0))
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginRefreshRequired",
                           "the login session of profile '%s' has expired or its credentials "
                           "have changed; run `aws login --profile %s`",
                           s->profile, s->profile);
    else if (oauth && strcmp(oauth, "INSUFFICIENT_PERMISSIONS") == 0)
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginInsufficientPermissions",
                           "profile '%s': login credentials cannot be refreshed for lack of "
                           "permission for signin:CreateOAuth2Token",
                           s->profile);
    else
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginError",
                           "profile '%s': refreshing the login session failed (%.40s); run "
                           "`aws login --profile %s` if it persists",
                           s->profile, oauth ? oauth : "no error code", s->profile);
    err->status = status;
    return st;
}

enum ivs_status login_fetch(const struct ident_ctx *ctx, const struct login_settings *s,
                            int64_t now_ms, void (*warn)(void *ud, const char *line), void *warn_ud,
                            struct credentials *out, struct ivs_error *err)
{
    struct buf dir = BUF_INIT, path = BUF_INIT;
    if (s->cache_dir && s->cache_dir[0] == '~' && (s->cache_dir[1] == '/' || !s->cache_dir[1]) &&
        s->home)
        buf_printf(&dir, "%s%s", s->home, s->cache_dir + 1);
    else if (s->cache_dir)
        buf_puts(&dir, s->cache_dir);
    else if (s->home)
        buf_printf(&dir, "%s/.aws/login/cache", s->home);
    else
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginTokenLoadError",
                             "profile '%s' uses login_session, but neither HOME nor "
                             "AWS_LOGIN_CACHE_DIRECTORY is set",
                             s->profile);
    char *name = login_cache_name(s->session);
    buf_printf(&path, "%s/%s", buf_str(&dir), name ? name : "");
    free(name);
    enum ivs_status st = IVS_OK;
    cJSON *doc = NULL;
    if (buf_failed(&dir) || buf_failed(&path)) {
        st = ivs_error_nomem(err);
        goto done;
    }
    int rc = read_json_file(buf_str(&path), &doc);
    if (rc != 0) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginTokenLoadError",
                           "no usable login session %s for profile '%s' (%s: %s); run `aws login "
                           "--profile %s`",
                           s->session, s->profile, buf_str(&path),
                           rc == -1 ? strerror(errno) : "not a JSON object", s->profile);
        goto done;
    }
    static const char *const required[] = {"accessToken", "refreshToken", "dpopKey", "clientId"};
    struct buf missing = BUF_INIT;
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, required[i]);
        if (!v || cJSON_IsNull(v))
            buf_printf(&missing, "%s%s", missing.len ? ", " : "", required[i]);
    }
    if (missing.len) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginTokenLoadError",
                           "the login token cache %s lacks %s; run `aws login --profile %s`",
                           buf_str(&path), buf_str(&missing), s->profile);
        buf_free(&missing);
        goto done;
    }
    buf_free(&missing);
    cJSON *at = cJSON_GetObjectItemCaseSensitive(doc, "accessToken");
    int64_t expires_ms = 0;
    const char *exp = jstr(at, "expiresAt");
    if (!exp || cred_parse_time(exp, &expires_ms) != 0)
        expires_ms = 0; /* unknown: refresh */
    if (expires_ms - now_ms > LOGIN_REFRESH_THRESHOLD_MS && jstr(at, "accessKeyId") &&
        jstr(at, "secretAccessKey")) {
        st = cred_set(out, jstr(at, "accessKeyId"), jstr(at, "secretAccessKey"),
                      jstr(at, "sessionToken"), expires_ms, "login", err);
        goto done;
    }

    /* Refresh. */
    const char *dpop_key = jstr(doc, "dpopKey"), *client_id = jstr(doc, "clientId");
    const char *refresh = jstr(doc, "refreshToken");
    if (!dpop_key || !client_id || !refresh) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginTokenLoadError",
                           "the login token cache %s has empty fields; run `aws login --profile "
                           "%s`",
                           buf_str(&path), s->profile);
        goto done;
    }
    char *base = NULL, *signing = NULL;
    const char *source;
    st = ident_endpoint(ctx->cfg, IDENT_SIGNIN, ctx->cfg->region, &base, &signing, &source, err);
    if (st != IVS_OK)
        goto done;
    free(signing);
    struct buf url = BUF_INIT, proof = BUF_INIT;
    buf_printf(&url, "%s/v1/token", base);
    free(base);
    st = login_dpop_proof(dpop_key, buf_str(&url), now_ms / 1000, &proof, err);
    if (st != IVS_OK) {
        buf_free(&url);
        buf_free(&proof);
        goto done;
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "clientId", client_id);
    cJSON_AddStringToObject(req, "refreshToken", refresh);
    cJSON_AddStringToObject(req, "grantType", "refresh_token");
    char *body = cJSON_PrintUnformatted(req);
    ident_json_wipe_delete(req);
    struct ivs_header h[] = {{"DPoP", buf_str(&proof)}};
    cJSON *resp = NULL;
    char *oauth = NULL;
    st = body ? ident_json_call(ctx, "POST", buf_str(&url), h, 1, body, &resp, &oauth, err)
              : ivs_error_nomem(err);
    if (body) {
        explicit_bzero(body, strlen(body));
        free(body);
    }
    buf_free(&url);
    buf_free(&proof);
    if (st != IVS_OK) {
        st = login_refresh_error(s, oauth, err);
        free(oauth);
        goto done;
    }
    free(oauth);
    const cJSON *nat = cJSON_GetObjectItemCaseSensitive(resp, "accessToken");
    const cJSON *expires_in = cJSON_GetObjectItemCaseSensitive(resp, "expiresIn");
    const char *nk = jstr(nat, "accessKeyId"), *ns = jstr(nat, "secretAccessKey");
    const char *nt = jstr(nat, "sessionToken"), *nr = jstr(resp, "refreshToken");
    if (!nk || !ns || !nt || !nr || !cJSON_IsNumber(expires_in)) {
        ident_json_wipe_delete(resp);
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "LoginTokenLoadError",
                           "signin CreateOAuth2Token answered without a complete token "
                           "(accessToken, refreshToken, expiresIn)");
        goto done;
    }
    int64_t new_expires = now_ms + (int64_t)(expires_in->valuedouble * 1000.0);
    char when[32];
    cred_format_time(new_expires, when, sizeof when);
    /* Update the cached document in place: other fields (idToken, dpopKey...) stay. */
    cJSON *fresh_at = cJSON_CreateObject();
    cJSON_AddStringToObject(fresh_at, "accessKeyId", nk);
    cJSON_AddStringToObject(fresh_at, "secretAccessKey", ns);
    cJSON_AddStringToObject(fresh_at, "sessionToken", nt);
    if (jstr(at, "accountId"))
        cJSON_AddStringToObject(fresh_at, "accountId", jstr(at, "accountId"));
    cJSON_AddStringToObject(fresh_at, "expiresAt", when);
    st = cred_set(out, nk, ns, nt, new_expires, "login", err);
    cJSON *new_refresh = cJSON_CreateString(nr);
    ident_json_wipe_delete(resp);
    cJSON *old_at = cJSON_DetachItemFromObjectCaseSensitive(doc, "accessToken");
    ident_json_wipe_delete(old_at);
    cJSON_AddItemToObject(doc, "accessToken", fresh_at);
    cJSON *old_refresh = cJSON_DetachItemFromObjectCaseSensitive(doc, "refreshToken");
    ident_json_wipe_delete(old_refresh);
    cJSON_AddItemToObject(doc, "refreshToken", new_refresh);
    if (st == IVS_OK && write_json_atomic(buf_str(&dir), buf_str(&path), doc) != 0)
        warnf(warn, warn_ud,
              "credentials: the refreshed login session of profile '%s' could not be written "
              "back to %s (%s); it is used for now, and the file keeps the previous session",
              s->profile, buf_str(&path), strerror(errno));
done:
    ident_json_wipe_delete(doc);
    buf_free(&dir);
    buf_free(&path);
    return st;
}
