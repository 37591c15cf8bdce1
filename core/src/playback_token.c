/* playback_token.c: ES384 playback authorization tokens for private IVS channels, and the
 * playback URL that carries one. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "buf.h"
#include "errors.h"
#include "ivs.h"

#define CLAIMS_ERROR "InvalidPlaybackTokenClaims"
#define KEY_ERROR "InvalidPrivateKey"

/* The service refuses single-use and viewer-bound tokens that live longer than this. */
#define SHORT_TOKEN_MAX_LIFETIME_S 600
#define VIEWER_ID_MAX_CHARS 40
#define STRICT_ORIGIN_MAX 5
#define ARN_MAX_LEN 128
/* P-384 scalars are 48 bytes; JWS ES384 puts r and s side by side at that width. */
#define P384_SCALAR_BYTES 48

/* The header is fixed, so its encoded form is too: base64url('{"alg":"ES384","typ":"JWT"}'). */
static const char s_jwt_header_b64[] = "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9";

static const char s_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put_base64url(struct buf *out, const unsigned char *data, size_t len)
{
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        buf_putc(out, s_b64url_alphabet[v >> 18 & 63]);
        buf_putc(out, s_b64url_alphabet[v >> 12 & 63]);
        buf_putc(out, s_b64url_alphabet[v >> 6 & 63]);
        buf_putc(out, s_b64url_alphabet[v & 63]);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        buf_putc(out, s_b64url_alphabet[v >> 18 & 63]);
        buf_putc(out, s_b64url_alphabet[v >> 12 & 63]);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        buf_putc(out, s_b64url_alphabet[v >> 18 & 63]);
        buf_putc(out, s_b64url_alphabet[v >> 12 & 63]);
        buf_putc(out, s_b64url_alphabet[v >> 6 & 63]);
    }
}

/* The number of code points in s, or -1 when s is not valid UTF-8 (JSON text must be). */
static long utf8_length(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    while (*p) {
        uint32_t cp;
        int extra;
        if (*p < 0x80) {
            cp = *p;
            extra = 0;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = *p & 0x1F;
            extra = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = *p & 0x0F;
            extra = 2;
        } else if ((*p & 0xF8) == 0xF0) {
            cp = *p & 0x07;
            extra = 3;
        } else {
            return -1;
        }
        p++;
        for (int k = 0; k < extra; k++, p++) {
            if ((*p & 0xC0) != 0x80)
                return -1;
            cp = cp << 6 | (*p & 0x3F);
        }
        static const uint32_t min_for_extra[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_extra[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        count++;
    }
    return count;
}

/* Whether s[0..len) is all [a-z0-9-] (and [A-Z] when allow_upper). */
static int all_arn_chars(const char *s, size_t len, int allow_upper)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 (allow_upper && c >= 'A' && c <= 'Z');
        if (!ok)
            return 0;
    }
    return 1;
}

/* arn:aws:ivs:<region [a-z0-9-]+>:<account [0-9]+>:channel/<id [a-zA-Z0-9-]+>, the model's
 * channel ARN pattern. */
static int is_channel_arn(const char *arn)
{
    static const char prefix[] = "arn:aws:ivs:";
    size_t len = strlen(arn);
    if (len > ARN_MAX_LEN || strncmp(arn, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *region = arn + sizeof prefix - 1;
    const char *region_end = strchr(region, ':');
    if (!region_end || region_end == region ||
        !all_arn_chars(region, (size_t)(region_end - region), 0))
        return 0;
    const char *account = region_end + 1;
    const char *account_end = strchr(account, ':');
    if (!account_end || account_end == account ||
        strspn(account, "0123456789") != (size_t)(account_end - account))
        return 0;
    static const char type[] = "channel/";
    const char *resource = account_end + 1;
    if (strncmp(resource, type, sizeof type - 1) != 0)
        return 0;
    const char *id = resource + sizeof type - 1;
    return *id && all_arn_chars(id, strlen(id), 1);
}

/* Counts the comma-separated origins; -1 when one of them is empty. */
static int count_origins(const char *list)
{
    int count = 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        size_t blank = strspn(p, " \t");
        if (blank >= n)
            return -1;
        count++;
        if (!p[n])
            return count;
        p += n + 1;
    }
}

static void problem(struct buf *problems, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Adds one problem to the "; "-separated list. */
static void problem(struct buf *problems, const char *fmt, ...)
{
    if (problems->len)
        buf_puts(problems, "; ");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(problems, fmt, ap);
    va_end(ap);
}

/* Checks a claim string that is set; adds to problems and returns its code-point length, or
 * -1 when it is unusable. */
static long check_string_claim(struct buf *problems, const char *claim, const char *value)
{
    long n = utf8_length(value);
    if (n < 0)
        problem(problems, "%s is not valid UTF-8", claim);
    else if (n == 0)
        problem(problems, "%s is empty (leave it unset to omit it)", claim);
    return n > 0 ? n : -1;
}

/* Collects every problem with the claims into one message. */
static void validate_claims(const struct ivs_playback_token_claims *c, int64_t now,
                            struct buf *problems)
{
    if (!c->channel_arn)
        problem(problems, "%s is required", "aws:channel-arn");
    else if (!is_channel_arn(c->channel_arn))
        problem(problems,
                "%s must be an IVS channel ARN (arn:aws:ivs:<region>:<account>:channel/<id>, "
                "at most 128 characters)",
                "aws:channel-arn");

    int short_lived = c->single_use_uuid || c->viewer_id;
    if (c->expires_at <= 0)
        problem(problems, "%s is required (Unix time in seconds)", "exp");
    else if (c->expires_at <= now)
        problem(problems, "%s is not in the future", "exp");
    else if (short_lived && c->expires_at - now > SHORT_TOKEN_MAX_LIFETIME_S)
        problem(problems,
                "%s may be at most 600 seconds ahead when aws:single-use-uuid or aws:viewer-id "
                "is set",
                "exp");

    if (c->access_control_allow_origin &&
        check_string_claim(problems, "aws:access-control-allow-origin",
                           c->access_control_allow_origin) > 0) {
        int origins = count_origins(c->access_control_allow_origin);
        if (origins < 0)
            problem(problems, "%s has an empty entry in its comma-separated list",
                    "aws:access-control-allow-origin");
        else if (c->strict_origin_enforcement && origins > STRICT_ORIGIN_MAX)
            problem(problems,
                    "%s lists more than 5 origins, the limit with aws:strict-origin-enforcement",
                    "aws:access-control-allow-origin");
    }

    if (c->single_use_uuid)
        check_string_claim(problems, "aws:single-use-uuid", c->single_use_uuid);

    if (c->viewer_id) {
        long n = check_string_claim(problems, "aws:viewer-id", c->viewer_id);
        if (n > VIEWER_ID_MAX_CHARS)
            problem(problems, "%s is longer than 40 characters", "aws:viewer-id");
    }
    if (c->viewer_session_version < 0)
        problem(problems, "%s is negative", "aws:viewer-session-version");
    else if (c->viewer_session_version && !c->viewer_id)
        problem(problems, "%s is only meaningful with aws:viewer-id", "aws:viewer-session-version");

    if (c->maximum_resolution && strcmp(c->maximum_resolution, "SD") != 0 &&
        strcmp(c->maximum_resolution, "HD") != 0 && strcmp(c->maximum_resolution, "FULL_HD") != 0)
        problem(problems, "%s must be SD, HD or FULL_HD", "aws:maximum-resolution");
}

static int add_raw_int(cJSON *obj, const char *name, int64_t value)
{
    /* Raw, because cJSON numbers are doubles and would round versions above 2^53. */
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)value);
    return cJSON_AddRawToObject(obj, name, text) != NULL;
}

/* The payload JSON, claims in a fixed order; NULL when out of memory. */
static char *claims_json(const struct ivs_playback_token_claims *c)
{
    cJSON *obj = cJSON_CreateObject();
    int ok = obj && cJSON_AddStringToObject(obj, "aws:channel-arn", c->channel_arn);
    if (ok && c->access_control_allow_origin)
        ok = cJSON_AddStringToObject(obj, "aws:access-control-allow-origin",
                                     c->access_control_allow_origin) != NULL;
    if (ok && c->strict_origin_enforcement)
        ok = cJSON_AddTrueToObject(obj, "aws:strict-origin-enforcement") != NULL;
    if (ok && c->single_use_uuid)
        ok = cJSON_AddStringToObject(obj, "aws:single-use-uuid", c->single_use_uuid) != NULL;
    if (ok && c->viewer_id)
        ok = cJSON_AddStringToObject(obj, "aws:viewer-id", c->viewer_id) != NULL;
    if (ok && c->viewer_session_version)
        ok = add_raw_int(obj, "aws:viewer-session-version", c->viewer_session_version);
    if (ok && c->maximum_resolution)
        ok = cJSON_AddStringToObject(obj, "aws:maximum-resolution", c->maximum_resolution) != NULL;
    if (ok)
        ok = add_raw_int(obj, "exp", c->expires_at);
    char *text = ok ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    return text;
}

/* Never prompt on a terminal for the passphrase of an encrypted key: refuse it instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *ud)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)ud;
    return -1;
}

static enum ivs_status load_p384_key(const char *pem, size_t pem_len, EVP_PKEY **out,
                                     struct ivs_error *err)
{
    *out = NULL;
    if (pem_len > INT_MAX)
        return ivs_error_set(err, IVS_ERR_VALIDATION, KEY_ERROR, "the private key is too large");
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio)
        return ivs_error_nomem(err);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (!pkey)
        return ivs_error_set(err, IVS_ERR_VALIDATION, KEY_ERROR,
                             "the private key is not an unencrypted PEM private key");
    char group[64] = "";
    size_t group_len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &group_len) ||
        strcmp(group, "secp384r1") != 0) {
        EVP_PKEY_free(pkey);
        return ivs_error_set(err, IVS_ERR_VALIDATION, KEY_ERROR,
                             "the private key is not an ECDSA P-384 (secp384r1) key");
    }
    *out = pkey;
    return IVS_OK;
}

/* Signs input with ES384 and appends the JWS form of the signature (r || s, base64url). */
static enum ivs_status sign_es384(EVP_PKEY *pkey, const char *input, size_t input_len,
                                  struct buf *out, struct ivs_error *err)
{
    enum ivs_status rc = IVS_OK;
    unsigned char *der = NULL;
    ECDSA_SIG *sig = NULL;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    size_t der_len = 0;
    if (!mctx)
        return ivs_error_nomem(err);
    if (EVP_DigestSignInit_ex(mctx, NULL, "SHA384", NULL, NULL, pkey, NULL) != 1 ||
        EVP_DigestSign(mctx, NULL, &der_len, (const unsigned char *)input, input_len) != 1) {
        rc = ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "ES384 signing failed to start");
        goto done;
    }
    der = malloc(der_len);
    if (!der) {
        rc = ivs_error_nomem(err);
        goto done;
    }
    if (EVP_DigestSign(mctx, der, &der_len, (const unsigned char *)input, input_len) != 1) {
        rc = ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "ES384 signing failed");
        goto done;
    }
    const unsigned char *p = der;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r = NULL, *s = NULL;
    if (sig)
        ECDSA_SIG_get0(sig, &r, &s);
    unsigned char raw[2 * P384_SCALAR_BYTES];
    if (!sig || BN_bn2binpad(r, raw, P384_SCALAR_BYTES) != P384_SCALAR_BYTES ||
        BN_bn2binpad(s, raw + P384_SCALAR_BYTES, P384_SCALAR_BYTES) != P384_SCALAR_BYTES) {
        rc = ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError",
                           "the ECDSA signature could not be converted to JWS form");
        goto done;
    }
    put_base64url(out, raw, sizeof raw);
done:
    ECDSA_SIG_free(sig);
    free(der);
    EVP_MD_CTX_free(mctx);
    return rc;
}

/* Builds header.payload, signs it and appends the signature. */
static enum ivs_status sign_claims(EVP_PKEY *pkey, const struct ivs_playback_token_claims *claims,
                                   char **token_out, struct ivs_error *err)
{
    char *payload = claims_json(claims);
    if (!payload)
        return ivs_error_nomem(err);
    struct buf token = BUF_INIT;
    buf_puts(&token, s_jwt_header_b64);
    buf_putc(&token, '.');
    put_base64url(&token, (const unsigned char *)payload, strlen(payload));
    free(payload);
    /* Signing is over before the signature is appended, so token.data may move then. */
    size_t signing_input_len = token.len;
    buf_putc(&token, '.');
    enum ivs_status rc = buf_failed(&token)
                             ? ivs_error_nomem(err)
                             : sign_es384(pkey, token.data, signing_input_len, &token, err);
    if (rc == IVS_OK) {
        *token_out = buf_steal(&token);
        if (!*token_out)
            rc = ivs_error_nomem(err);
    }
    buf_free(&token);
    return rc;
}

enum ivs_status ivs_playback_token(const char *private_key_pem, size_t pem_len,
                                   const struct ivs_playback_token_claims *claims, int64_t now,
                                   char **token_out, struct ivs_error *err)
{
    if (!private_key_pem || !claims || !token_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_playback_token needs a private key, claims and token_out");
    *token_out = NULL;
    if (now == 0)
        now = (int64_t)time(NULL);
    if (pem_len == 0)
        pem_len = strlen(private_key_pem);

    struct buf problems = BUF_INIT;
    validate_claims(claims, now, &problems);
    if (problems.len || buf_failed(&problems)) {
        enum ivs_status rc;
        if (buf_failed(&problems))
            rc = ivs_error_nomem(err);
        else
            rc = ivs_error_set(err, IVS_ERR_VALIDATION, CLAIMS_ERROR,
                               "invalid playback token claims: %s", buf_str(&problems));
        buf_free(&problems);
        return rc;
    }
    buf_free(&problems);

    /* Failed decodes leave errors on this thread's OpenSSL queue; drop ours, keep the
     * caller's. */
    ERR_set_mark();
    EVP_PKEY *pkey = NULL;
    enum ivs_status rc = load_p384_key(private_key_pem, pem_len, &pkey, err);
    if (rc == IVS_OK)
        rc = sign_claims(pkey, claims, token_out, err);
    EVP_PKEY_free(pkey);
    ERR_pop_to_mark();
    return rc;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Whether the query parameter starting at p (up to end) is named "token". */
static int is_token_param(const char *p, size_t len)
{
    size_t name_len = strcspn(p, "=&");
    if (name_len > len)
        name_len = len;
    return name_len == 5 && memcmp(p, "token", 5) == 0;
}

enum ivs_status ivs_playback_url(const char *playback_url, const char *token, char **url_out,
                                 struct ivs_error *err)
{
    if (!playback_url || !*playback_url || !token || !*token || !url_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_playback_url needs a playback URL, a token and url_out");
    *url_out = NULL;
    size_t before_fragment = strcspn(playback_url, "#");
    const char *fragment = playback_url + before_fragment;
    size_t base_len = strcspn(playback_url, "?#");

    struct buf url = BUF_INIT;
    buf_append(&url, playback_url, base_len);
    char sep = '?';
    if (base_len < before_fragment) {
        /* Keep every parameter but an old token, in order. */
        const char *p = playback_url + base_len + 1;
        const char *end = fragment;
        while (p < end) {
            size_t n = strcspn(p, "&#");
            if (p + n > end)
                n = (size_t)(end - p);
            if (n > 0 && !is_token_param(p, n)) {
                buf_putc(&url, sep);
                buf_append(&url, p, n);
                sep = '&';
            }
            p += n + 1;
        }
    }
    buf_putc(&url, sep);
    buf_puts(&url, "token=");
    for (const unsigned char *t = (const unsigned char *)token; *t; t++) {
        if (is_unreserved(*t))
            buf_putc(&url, (char)*t);
        else
            buf_printf(&url, "%%%02X", *t);
    }
    buf_puts(&url, fragment);
    *url_out = buf_steal(&url);
    buf_free(&url);
    return *url_out ? IVS_OK : ivs_error_nomem(err);
}
