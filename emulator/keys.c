#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "util.h"

static EVP_PKEY *read_p384(const char *pem, const char **why)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key) {
        *why = "publicKeyMaterial is not a PEM-encoded public key.";
        return NULL;
    }
    char group[64] = "";
    size_t glen = 0;
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &glen) != 1 ||
        strcmp(group, "secp384r1") != 0) {
        EVP_PKEY_free(key);
        *why = "publicKeyMaterial must be an ECDSA P-384 (secp384r1) public key.";
        return NULL;
    }
    return key;
}

int emu_p384_fingerprint(const char *pem, char fingerprint[48], const char **why)
{
    EVP_PKEY *key = read_p384(pem, why);
    if (!key)
        return -1;
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(key, &der);
    EVP_PKEY_free(key);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    int ok = der_len > 0 && EVP_Digest(der, (size_t)der_len, md, &md_len, EVP_md5(), NULL) == 1;
    OPENSSL_free(der);
    if (!ok) {
        *why = "Could not digest the public key.";
        return -1;
    }
    for (unsigned i = 0; i < 16; i++) {
        static const char hex[] = "0123456789abcdef";
        fingerprint[3 * i] = hex[md[i] >> 4];
        fingerprint[3 * i + 1] = hex[md[i] & 15];
        fingerprint[3 * i + 2] = i < 15 ? ':' : '\0';
    }
    return 0;
}

char *emu_b64url_encode(const void *data, size_t len)
{
    char *s = emu_base64_encode(data, len);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '=')
            break;
        s[o++] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    }
    s[o] = '\0';
    return s;
}

unsigned char *emu_b64url_decode(const char *text, size_t len, size_t *out_len)
{
    char *std = malloc(len + 4);
    if (!std)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '+' || c == '/')
            break; /* not base64url */
        std[o++] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    if (o != len) {
        free(std);
        return NULL;
    }
    while (o % 4)
        std[o++] = '=';
    std[o] = '\0';
    unsigned char *out = o ? (unsigned char *)emu_base64_decode(std, out_len) : NULL;
    free(std);
    return out;
}

int emu_es384_verify(const char *pem, const void *data, size_t len, const unsigned char *sig,
                     size_t sig_len)
{
    const char *why = NULL;
    if (sig_len != 96)
        return 0;
    EVP_PKEY *key = read_p384(pem, &why);
    if (!key)
        return 0;
    /* JWS carries r||s; OpenSSL verifies DER. */
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 48, NULL), *s = BN_bin2bn(sig + 48, 48, NULL);
    unsigned char *der = NULL;
    int der_len = -1;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL;
        der_len = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    int ok = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (der_len > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) == 1)
        ok = EVP_DigestVerify(md, der, (size_t)der_len, data, len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    EVP_PKEY_free(key);
    return ok;
}

char *emu_kms_like_signature(const void *data, size_t len)
{
    EVP_PKEY *key = EVP_EC_gen("P-384");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char sig[160];
    size_t sig_len = sizeof sig;
    char *out = NULL;
    if (key && md && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
        EVP_DigestSign(md, sig, &sig_len, data, len) == 1)
        out = emu_b64url_encode(sig, sig_len);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    return out;
}
