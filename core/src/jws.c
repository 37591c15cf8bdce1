/* jws.c: the pieces every ES384 token of the family shares (playback tokens for private
 * channels, self-signed Real-Time participant and connection tokens): base64url, UTF-8 and
 * ARN checks, loading a P-384 private key, and signing header.payload as a compact JWS. */
#include "jws.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "errors.h"

/* P-384 scalars are 48 bytes; JWS ES384 puts r and s side by side at that width. */
#define P384_SCALAR_BYTES 48

static const char s_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void jws_base64url(struct buf *out, const unsigned char *data, size_t len)
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
long jws_utf8_length(const char *s)
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
int jws_arn_chars(const char *s, size_t len, int allow_upper)
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

int jws_is_ivs_arn(const char *arn, const char *service, const char *type)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "arn:aws:%s:", service);
    size_t len = strlen(arn), plen = strlen(prefix);
    if (len > JWS_ARN_MAX_LEN || strncmp(arn, prefix, plen) != 0)
        return 0;
    const char *region = arn + plen;
    const char *region_end = strchr(region, ':');
    if (!region_end || region_end == region ||
        !jws_arn_chars(region, (size_t)(region_end - region), 0))
        return 0;
    const char *account = region_end + 1;
    const char *account_end = strchr(account, ':');
    if (!account_end || account_end == account ||
        strspn(account, "0123456789") != (size_t)(account_end - account))
        return 0;
    const char *resource = account_end + 1;
    size_t tlen = strlen(type);
    if (strncmp(resource, type, tlen) != 0 || resource[tlen] != '/')
        return 0;
    const char *id = resource + tlen + 1;
    return *id && jws_arn_chars(id, strlen(id), 1);
}

/* Adds one problem to the "; "-separated list. */
void jws_problem(struct buf *problems, const char *fmt, ...)
{
    if (problems->len)
        buf_puts(problems, "; ");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(problems, fmt, ap);
    va_end(ap);
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
        return ivs_error_set(err, IVS_ERR_VALIDATION, JWS_KEY_ERROR,
                             "the private key is too large");
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio)
        return ivs_error_nomem(err);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (!pkey)
        return ivs_error_set(err, IVS_ERR_VALIDATION, JWS_KEY_ERROR,
                             "the private key is not an unencrypted PEM private key");
    char group[64] = "";
    size_t group_len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &group_len) ||
        strcmp(group, "secp384r1") != 0) {
        EVP_PKEY_free(pkey);
        return ivs_error_set(err, IVS_ERR_VALIDATION, JWS_KEY_ERROR,
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
    jws_base64url(out, raw, sizeof raw);
done:
    ECDSA_SIG_free(sig);
    free(der);
    EVP_MD_CTX_free(mctx);
    return rc;
}

enum ivs_status jws_sign_es384(const char *private_key_pem, size_t pem_len, const char *header_json,
                               const char *payload_json, char **token_out, struct ivs_error *err)
{
    *token_out = NULL;
    struct buf token = BUF_INIT;
    jws_base64url(&token, (const unsigned char *)header_json, strlen(header_json));
    buf_putc(&token, '.');
    jws_base64url(&token, (const unsigned char *)payload_json, strlen(payload_json));
    /* Signing is over before the signature is appended, so token.data may move then. */
    size_t signing_input_len = token.len;
    buf_putc(&token, '.');
    if (buf_failed(&token)) {
        buf_free(&token);
        return ivs_error_nomem(err);
    }
    /* Failed decodes leave errors on this thread's OpenSSL queue; drop ours, keep the
     * caller's. */
    ERR_set_mark();
    EVP_PKEY *pkey = NULL;
    enum ivs_status rc = load_p384_key(private_key_pem, pem_len, &pkey, err);
    if (rc == IVS_OK)
        rc = sign_es384(pkey, token.data, signing_input_len, &token, err);
    EVP_PKEY_free(pkey);
    ERR_pop_to_mark();
    if (rc == IVS_OK) {
        *token_out = buf_steal(&token);
        if (!*token_out)
            rc = ivs_error_nomem(err);
    }
    buf_free(&token);
    return rc;
}
