/* test_playback_token.c: ES384 playback tokens and self-signed Real-Time participant and
 * connection tokens, verified here with OpenSSL from the public
 * key alone (r||s turned back into DER), and again by the Python `cryptography` package
 * (tests/oracle/verify_playback_token.py) when it is installed. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ivs.h"

#define ARN "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEf012345"
#define NOW 1700000000LL
#define HEADER_JSON "{\"alg\":\"ES384\",\"typ\":\"JWT\"}"

/* ------------------------------------------------------------------------------------- */
/* Keys                                                                                   */
/* ------------------------------------------------------------------------------------- */

static char *bio_to_string(BIO *bio)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *s = NULL;
    if (len >= 0 && (s = malloc((size_t)len + 1))) {
        memcpy(s, data, (size_t)len);
        s[len] = '\0';
    }
    BIO_free(bio);
    return s;
}

/* PKCS#8 ("BEGIN PRIVATE KEY"). */
static char *private_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        return NULL;
    }
    return bio_to_string(bio);
}

/* The SEC1 form openssl ecparam writes ("BEGIN EC PRIVATE KEY"). */
static char *private_pem_sec1(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    OSSL_ENCODER_CTX *ctx =
        OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "PEM", "type-specific", NULL);
    int ok =
        bio && ctx && OSSL_ENCODER_CTX_get_num_encoders(ctx) > 0 && OSSL_ENCODER_to_bio(ctx, bio);
    OSSL_ENCODER_CTX_free(ctx);
    if (!ok) {
        BIO_free(bio);
        return NULL;
    }
    return bio_to_string(bio);
}

static char *encrypted_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    static const unsigned char pass[] = "correct horse";
    if (!bio || !PEM_write_bio_PrivateKey(bio, pkey, EVP_aes_256_cbc(), pass, (int)sizeof pass - 1,
                                          NULL, NULL)) {
        BIO_free(bio);
        return NULL;
    }
    return bio_to_string(bio);
}

static char *public_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_PUBKEY(bio, pkey)) {
        BIO_free(bio);
        return NULL;
    }
    return bio_to_string(bio);
}

/* One P-384 key for the whole run (keygen is the slow part). */
struct keys {
    EVP_PKEY *pkey;
    char *pem;
    char *pub_pem;
};

static struct keys s_keys;

static int have_key(void)
{
    if (!s_keys.pkey) {
        s_keys.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        if (s_keys.pkey) {
            s_keys.pem = private_pem(s_keys.pkey);
            s_keys.pub_pem = public_pem(s_keys.pkey);
        }
    }
    return s_keys.pkey && s_keys.pem && s_keys.pub_pem;
}

static void keys_free(void)
{
    EVP_PKEY_free(s_keys.pkey);
    free(s_keys.pem);
    free(s_keys.pub_pem);
}

/* ------------------------------------------------------------------------------------- */
/* An independent JWT reader                                                              */
/* ------------------------------------------------------------------------------------- */

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decodes unpadded base64url; NULL on any character outside the alphabet (so '=' too). */
static unsigned char *b64url_decode(const char *s, size_t len, size_t *out_len)
{
    if (len % 4 == 1)
        return NULL;
    unsigned char *out = malloc(len * 3 / 4 + 2);
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; out && i < len; i++) {
        int v = b64url_value(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits & 0xFF);
        }
    }
    if (out)
        out[n] = '\0';
    *out_len = n;
    return out;
}

struct jwt {
    char *header;  /* decoded JSON text */
    char *payload; /* decoded JSON text */
    unsigned char *sig;
    size_t sig_len;
    size_t signing_input_len; /* header64.payload64 */
};

static void jwt_free(struct jwt *j)
{
    free(j->header);
    free(j->payload);
    free(j->sig);
    memset(j, 0, sizeof *j);
}

static int jwt_split(const char *token, struct jwt *j)
{
    memset(j, 0, sizeof *j);
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || strchr(dot2 + 1, '.'))
        return 0;
    size_t n;
    j->header = (char *)b64url_decode(token, (size_t)(dot1 - token), &n);
    j->payload = (char *)b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &n);
    j->sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &j->sig_len);
    j->signing_input_len = (size_t)(dot2 - token);
    if (!j->header || !j->payload || !j->sig) {
        jwt_free(j);
        return 0;
    }
    return 1;
}

/* Verifies a JWS ES384 signature (r||s) over token's signing input with pkey's public half,
 * using only the public key: it is re-read from its PEM so nothing private is involved. */
static int es384_verify(const char *pub_pem, const char *token)
{
    struct jwt j;
    if (!jwt_split(token, &j))
        return 0;
    int ok = 0;
    BIO *bio = BIO_new_mem_buf(pub_pem, -1);
    EVP_PKEY *pub = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *der = NULL;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (pub && sig && mctx && j.sig_len == 96) {
        BIGNUM *r = BN_bin2bn(j.sig, 48, NULL);
        BIGNUM *s = BN_bin2bn(j.sig + 48, 48, NULL);
        if (r && s && ECDSA_SIG_set0(sig, r, s)) {
            int der_len = i2d_ECDSA_SIG(sig, &der);
            ok = der_len > 0 &&
                 EVP_DigestVerifyInit_ex(mctx, NULL, "SHA384", NULL, NULL, pub, NULL) == 1 &&
                 EVP_DigestVerify(mctx, der, (size_t)der_len, (const unsigned char *)token,
                                  j.signing_input_len) == 1;
        } else {
            BN_free(r);
            BN_free(s);
        }
    }
    OPENSSL_free(der);
    EVP_MD_CTX_free(mctx);
    ECDSA_SIG_free(sig);
    EVP_PKEY_free(pub);
    jwt_free(&j);
    return ok;
}

/* ------------------------------------------------------------------------------------- */
/* Helpers                                                                                */
/* ------------------------------------------------------------------------------------- */

static struct ivs_playback_token_claims basic_claims(void)
{
    struct ivs_playback_token_claims c = {0};
    c.channel_arn = ARN;
    c.expires_at = NOW + 3600;
    return c;
}

static char *make_token(const struct ivs_playback_token_claims *c)
{
    struct ivs_error err = {0};
    char *token = NULL;
    enum ivs_status rc = ivs_playback_token(s_keys.pem, 0, c, NOW, &token, &err);
    CHECK_MSG(rc == IVS_OK, "ivs_playback_token: %s: %s", err.code ? err.code : "",
              err.message ? err.message : "");
    ivs_error_clear(&err);
    return token;
}

/* Expects the claims to be refused with InvalidPlaybackTokenClaims naming `claim`. */
static void expect_claims_error(const struct ivs_playback_token_claims *c, int64_t now,
                                const char *claim, int line)
{
    struct ivs_error err = {0};
    char *token = (char *)"untouched";
    enum ivs_status rc = ivs_playback_token(s_keys.pem, 0, c, now, &token, &err);
    if (rc != IVS_ERR_VALIDATION || err.kind != IVS_ERR_VALIDATION)
        harness_fail(__FILE__, line, "expected a validation error, got status %d", rc);
    else if (!err.code || strcmp(err.code, "InvalidPlaybackTokenClaims") != 0)
        harness_fail(__FILE__, line, "code %s", err.code ? err.code : "(null)");
    else if (!err.message || !strstr(err.message, claim))
        harness_fail(__FILE__, line, "message \"%s\" does not name %s",
                     err.message ? err.message : "", claim);
    if (token != NULL)
        harness_fail(__FILE__, line, "token_out not reset to NULL on failure");
    ivs_error_clear(&err);
}

#define EXPECT_CLAIMS_ERROR(c, now, claim) expect_claims_error(c, now, claim, __LINE__)

static void expect_key_error(const char *pem, size_t len, int line)
{
    struct ivs_playback_token_claims c = basic_claims();
    struct ivs_error err = {0};
    char *token = NULL;
    enum ivs_status rc = ivs_playback_token(pem, len, &c, NOW, &token, &err);
    if (rc != IVS_ERR_VALIDATION || !err.code || strcmp(err.code, "InvalidPrivateKey") != 0)
        harness_fail(__FILE__, line, "expected InvalidPrivateKey, got %d %s", rc,
                     err.code ? err.code : "(null)");
    if (err.message && (strstr(err.message, "BEGIN") || strstr(err.message, "MI")))
        harness_fail(__FILE__, line, "message quotes key material: %s", err.message);
    if (token)
        harness_fail(__FILE__, line, "a token came back");
    free(token);
    ivs_error_clear(&err);
}

#define EXPECT_KEY_ERROR(pem, len) expect_key_error(pem, len, __LINE__)

/* ------------------------------------------------------------------------------------- */
/* Tokens                                                                                 */
/* ------------------------------------------------------------------------------------- */

static void test_minimal_token_verifies(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    char *token = make_token(&c);
    if (!token)
        return;
    struct jwt j;
    CHECK(jwt_split(token, &j));
    CHECK_STR_EQ(HEADER_JSON, j.header);
    CHECK_STR_EQ("{\"aws:channel-arn\":\"" ARN "\",\"exp\":1700003600}", j.payload);
    CHECK_INT_EQ(96, j.sig_len);
    CHECK(!strchr(token, '='));
    CHECK(es384_verify(s_keys.pub_pem, token));
    jwt_free(&j);
    free(token);
}

static void test_all_claims_exact(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    c.expires_at = NOW + 600;
    c.access_control_allow_origin = "https://a.example.com,https://*.b.example.com";
    c.strict_origin_enforcement = 1;
    c.single_use_uuid = "0f8e5b4a-3c2d-4e1f-9a8b-7c6d5e4f3a2b";
    c.viewer_id = "viewer-42";
    c.viewer_session_version = 1700000000;
    c.maximum_resolution = "FULL_HD";
    char *token = make_token(&c);
    if (!token)
        return;
    struct jwt j;
    CHECK(jwt_split(token, &j));
    CHECK_STR_EQ(HEADER_JSON, j.header);
    CHECK_STR_EQ("{\"aws:channel-arn\":\"" ARN "\","
                 "\"aws:access-control-allow-origin\":"
                 "\"https://a.example.com,https://*.b.example.com\","
                 "\"aws:strict-origin-enforcement\":true,"
                 "\"aws:single-use-uuid\":\"0f8e5b4a-3c2d-4e1f-9a8b-7c6d5e4f3a2b\","
                 "\"aws:viewer-id\":\"viewer-42\","
                 "\"aws:viewer-session-version\":1700000000,"
                 "\"aws:maximum-resolution\":\"FULL_HD\","
                 "\"exp\":1700000600}",
                 j.payload);
    CHECK(es384_verify(s_keys.pub_pem, token));
    jwt_free(&j);
    free(token);
}

static void test_strings_escaped_and_big_integers_exact(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    c.expires_at = NOW + 60;
    c.viewer_id = "a\"b\\c\n\xc3\xa9";
    c.viewer_session_version = 9007199254740993LL; /* 2^53 + 1: no double holds it */
    char *token = make_token(&c);
    if (!token)
        return;
    struct jwt j;
    CHECK(jwt_split(token, &j));
    CHECK(strstr(j.payload, "\"aws:viewer-session-version\":9007199254740993") != NULL);
    cJSON *parsed = cJSON_Parse(j.payload);
    CHECK(parsed != NULL);
    const cJSON *vid = cJSON_GetObjectItemCaseSensitive(parsed, "aws:viewer-id");
    CHECK(cJSON_IsString(vid));
    if (cJSON_IsString(vid))
        CHECK_STR_EQ(c.viewer_id, vid->valuestring);
    cJSON_Delete(parsed);
    CHECK(es384_verify(s_keys.pub_pem, token));
    jwt_free(&j);
    free(token);
}

static void test_tampering_breaks_signature(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    char *token = make_token(&c);
    if (!token)
        return;
    CHECK(es384_verify(s_keys.pub_pem, token));
    size_t len = strlen(token);
    const char *dot1 = strchr(token, '.');
    const char *dot2 = strrchr(token, '.');
    /* One byte in the header, one in the payload, one in the signature. */
    size_t positions[] = {3, (size_t)(dot1 - token) + 5, (size_t)(dot2 - token) + 10, len - 3};
    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
        char *copy = strdup(token);
        copy[positions[i]] = copy[positions[i]] == 'A' ? 'B' : 'A';
        CHECK_MSG(!es384_verify(s_keys.pub_pem, copy), "tampered at %zu still verifies",
                  positions[i]);
        free(copy);
    }
    /* Another key's public half does not verify it either. */
    EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    char *other_pub = other ? public_pem(other) : NULL;
    CHECK(other_pub != NULL);
    if (other_pub)
        CHECK(!es384_verify(other_pub, token));
    free(other_pub);
    EVP_PKEY_free(other);
    free(token);
}

static void test_signatures_are_fresh_and_all_verify(void)
{
    /* ECDSA draws a new nonce each time; r and s of either width (leading zero bytes happen
     * one time in 256) must come out left-padded to 48 bytes. Many signatures exercise it. */
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    char *first = make_token(&c);
    for (int i = 0; i < 300 && first && !harness_current_failed(); i++) {
        char *t = make_token(&c);
        if (!t)
            break;
        CHECK(strcmp(t, first) != 0);
        CHECK_MSG(es384_verify(s_keys.pub_pem, t), "signature %d does not verify", i);
        free(t);
    }
    free(first);
}

static void test_sec1_pem_and_length_bounded_input(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    char *sec1 = private_pem_sec1(s_keys.pkey);
    if (!sec1)
        SKIP("OpenSSL has no type-specific PEM encoder for EC keys");
    CHECK(strstr(sec1, "BEGIN EC PRIVATE KEY") != NULL);
    /* Not NUL-terminated: pem_len must be honoured exactly (valgrind/ASan catch over-reads). */
    size_t len = strlen(sec1);
    char *exact = malloc(len);
    memcpy(exact, sec1, len);
    struct ivs_playback_token_claims c = basic_claims();
    struct ivs_error err = {0};
    char *token = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_playback_token(exact, len, &c, NOW, &token, &err));
    CHECK(token && es384_verify(s_keys.pub_pem, token));
    free(token);
    ivs_error_clear(&err);
    free(exact);
    free(sec1);
}

static void test_real_clock(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    c.expires_at = (int64_t)time(NULL) + 120;
    c.viewer_id = "v";
    struct ivs_error err = {0};
    char *token = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_playback_token(s_keys.pem, 0, &c, 0, &token, &err));
    free(token);
    ivs_error_clear(&err);
    c.expires_at = (int64_t)time(NULL) - 5;
    EXPECT_CLAIMS_ERROR(&c, 0, "exp");
    c.expires_at = (int64_t)time(NULL) + 3600; /* too far ahead for a viewer-bound token */
    EXPECT_CLAIMS_ERROR(&c, 0, "exp");
}

/* ------------------------------------------------------------------------------------- */
/* Keys refused                                                                           */
/* ------------------------------------------------------------------------------------- */

static void test_wrong_keys_rejected(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *p256_pem = p256 ? private_pem(p256) : NULL;
    CHECK(p256_pem != NULL);
    if (p256_pem)
        EXPECT_KEY_ERROR(p256_pem, 0);
    free(p256_pem);
    EVP_PKEY_free(p256);

    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char *ed_pem = ed ? private_pem(ed) : NULL;
    if (ed_pem)
        EXPECT_KEY_ERROR(ed_pem, 0);
    free(ed_pem);
    EVP_PKEY_free(ed);

    /* The public half alone cannot sign. */
    EXPECT_KEY_ERROR(s_keys.pub_pem, 0);
    /* An encrypted key is refused, without ever prompting for a passphrase. */
    char *enc = encrypted_pem(s_keys.pkey);
    CHECK(enc && strstr(enc, "ENCRYPTED"));
    if (enc)
        EXPECT_KEY_ERROR(enc, 0);
    free(enc);
}

static void test_garbage_keys_rejected(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    EXPECT_KEY_ERROR("", 0);
    EXPECT_KEY_ERROR("not a key at all", 0);
    EXPECT_KEY_ERROR("-----BEGIN PRIVATE KEY-----\nMIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGe\n"
                     "-----END PRIVATE KEY-----\n",
                     0);
    /* The real key cut short. */
    EXPECT_KEY_ERROR(s_keys.pem, strlen(s_keys.pem) / 2);
}

static void test_usage_errors(void)
{
    struct ivs_playback_token_claims c = basic_claims();
    struct ivs_error err = {0};
    char *token = NULL;
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_playback_token(NULL, 0, &c, NOW, &token, &err));
    CHECK_STR_EQ("InvalidArgument", err.code);
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_playback_token("x", 0, NULL, NOW, &token, &err));
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_playback_token("x", 0, &c, NOW, NULL, &err));
    /* err may be NULL. */
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_playback_token(NULL, 0, &c, NOW, &token, NULL));
    char *url = NULL;
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_playback_url(NULL, "t", &url, &err));
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_playback_url("https://x/y.m3u8", "", &url, &err));
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_playback_url("https://x/y.m3u8", "t", NULL, &err));
    CHECK(url == NULL);
    ivs_error_clear(&err);
}

/* ------------------------------------------------------------------------------------- */
/* Claims refused                                                                         */
/* ------------------------------------------------------------------------------------- */

static void test_channel_arn_rules(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    c.channel_arn = NULL;
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:channel-arn");
    static const char *const bad[] = {
        "",
        "channel/AbCdEf012345",
        "arn:aws:ivs:us-west-2:123456789012:stream-key/AbCdEf012345",
        "arn:aws:ivs:us-west-2:123456789012:channel/",
        "arn:aws:ivs:us-west-2:1234x6789012:channel/AbCdEf012345",
        "arn:aws:ivs:US-WEST-2:123456789012:channel/AbCdEf012345",
        "arn:aws:ivs::123456789012:channel/AbCdEf012345",
        "arn:aws:s3:us-west-2:123456789012:channel/AbCdEf012345",
        "arn:aws:ivs:us-west-2:123456789012:channel/AbC_def",
        "arn:aws:ivs:us-west-2:123456789012:channel/AbC/def",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.channel_arn = bad[i];
        EXPECT_CLAIMS_ERROR(&c, NOW, "aws:channel-arn");
    }
    /* 128 characters pass, 129 do not. */
    char arn[200];
    int prefix = snprintf(arn, sizeof arn, "arn:aws:ivs:us-west-2:123456789012:channel/");
    memset(arn + prefix, 'a', 128 - (size_t)prefix);
    arn[128] = '\0';
    c.channel_arn = arn;
    char *token = make_token(&c);
    CHECK(token != NULL);
    free(token);
    arn[128] = 'a';
    arn[129] = '\0';
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:channel-arn");
}

static void test_exp_rules(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    c.expires_at = 0;
    EXPECT_CLAIMS_ERROR(&c, NOW, "exp");
    c.expires_at = NOW;
    EXPECT_CLAIMS_ERROR(&c, NOW, "exp");
    c.expires_at = NOW - 1;
    EXPECT_CLAIMS_ERROR(&c, NOW, "exp");
    /* Without single-use or viewer claims, far-off expiry is allowed. */
    c.expires_at = NOW + 30LL * 24 * 3600;
    char *token = make_token(&c);
    CHECK(token != NULL);
    free(token);

    /* With either, at most 600 s ahead. */
    const char *uuid = "0f8e5b4a-3c2d-4e1f-9a8b-7c6d5e4f3a2b";
    for (int which = 0; which < 2; which++) {
        c = basic_claims();
        if (which == 0)
            c.single_use_uuid = uuid;
        else
            c.viewer_id = "viewer";
        c.expires_at = NOW + 600;
        token = make_token(&c);
        CHECK(token != NULL);
        free(token);
        c.expires_at = NOW + 601;
        EXPECT_CLAIMS_ERROR(&c, NOW, "exp");
    }
}

static void test_viewer_rules(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    c.expires_at = NOW + 300;
    char id[64];
    memset(id, 'v', 40);
    id[40] = '\0';
    c.viewer_id = id;
    char *token = make_token(&c);
    CHECK(token != NULL);
    free(token);
    id[40] = 'v';
    id[41] = '\0';
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:viewer-id");

    /* Characters, not bytes: 40 two-byte characters pass. */
    char wide[128] = "";
    for (int i = 0; i < 40; i++)
        strcat(wide, "\xc3\xa9");
    c.viewer_id = wide;
    token = make_token(&c);
    CHECK(token != NULL);
    free(token);

    c.viewer_id = "";
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:viewer-id");
    c.viewer_id = "bad\xff";
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:viewer-id");
    c.viewer_id = "overlong\xc0\xaf";
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:viewer-id");
    c.viewer_id = "surrogate\xed\xa0\x80";
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:viewer-id");

    c.viewer_id = NULL;
    c.viewer_session_version = 5;
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:viewer-session-version");
    c.viewer_id = "v";
    c.viewer_session_version = -1;
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:viewer-session-version");
}

static void test_origin_rules(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    const char *five = "https://a.example,https://b.example,https://c.example,"
                       "https://d.example,https://*.e.example";
    const char *six = "https://a.example,https://b.example,https://c.example,"
                      "https://d.example,https://e.example,https://f.example";
    c.access_control_allow_origin = six;
    char *token = make_token(&c); /* six are fine without strict enforcement */
    CHECK(token != NULL);
    free(token);
    c.strict_origin_enforcement = 1;
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:access-control-allow-origin");
    c.access_control_allow_origin = five;
    token = make_token(&c);
    CHECK(token != NULL);
    free(token);
    /* Strict enforcement alone (every origin, but each request must send one). */
    c.access_control_allow_origin = NULL;
    token = make_token(&c);
    CHECK(token != NULL);
    free(token);
    c.access_control_allow_origin = "https://a.example,,https://b.example";
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:access-control-allow-origin");
    c.access_control_allow_origin = "";
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:access-control-allow-origin");
}

static void test_resolution_and_uuid_rules(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    static const char *const good[] = {"SD", "HD", "FULL_HD"};
    for (size_t i = 0; i < 3; i++) {
        c.maximum_resolution = good[i];
        char *token = make_token(&c);
        CHECK(token != NULL);
        free(token);
    }
    static const char *const bad[] = {"", "sd", "4K", "LOWEST_RESOLUTION", "FULL_HD "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.maximum_resolution = bad[i];
        EXPECT_CLAIMS_ERROR(&c, NOW, "aws:maximum-resolution");
    }
    c = basic_claims();
    c.expires_at = NOW + 60;
    c.single_use_uuid = "";
    EXPECT_CLAIMS_ERROR(&c, NOW, "aws:single-use-uuid");
}

static void test_every_problem_reported_at_once(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = {0};
    c.viewer_id = "0123456789012345678901234567890123456789x";
    c.maximum_resolution = "8K";
    struct ivs_error err = {0};
    char *token = NULL;
    CHECK_INT_EQ(IVS_ERR_VALIDATION, ivs_playback_token(s_keys.pem, 0, &c, NOW, &token, &err));
    CHECK(err.message && strstr(err.message, "aws:channel-arn"));
    CHECK(err.message && strstr(err.message, "exp"));
    CHECK(err.message && strstr(err.message, "aws:viewer-id"));
    CHECK(err.message && strstr(err.message, "aws:maximum-resolution"));
    ivs_error_clear(&err);
}

/* ------------------------------------------------------------------------------------- */
/* Playback URLs                                                                          */
/* ------------------------------------------------------------------------------------- */

static void check_url(const char *base, const char *token, const char *expected, int line)
{
    char *url = NULL;
    struct ivs_error err = {0};
    enum ivs_status rc = ivs_playback_url(base, token, &url, &err);
    if (rc != IVS_OK || !url || strcmp(url, expected) != 0)
        harness_fail(__FILE__, line, "ivs_playback_url(%s): expected %s, got %s", base, expected,
                     url ? url : "(null)");
    ivs_free(url);
    ivs_error_clear(&err);
}

#define CHECK_URL(base, token, expected) check_url(base, token, expected, __LINE__)

static void test_playback_url(void)
{
    const char *m3u8 = "https://a1b2c3.us-west-2.playback.live-video.net/api/video/v1/"
                       "us-west-2.123456789012.channel.AbCdEf012345.m3u8";
    char expected[512];
    snprintf(expected, sizeof expected, "%s?token=aa.bb.cc", m3u8);
    CHECK_URL(m3u8, "aa.bb.cc", expected);
    CHECK_URL("https://h/p.m3u8?player=web", "aa.bb.cc",
              "https://h/p.m3u8?player=web&token=aa.bb.cc");
    CHECK_URL("https://h/p.m3u8?", "t", "https://h/p.m3u8?token=t");
    CHECK_URL("https://h/p.m3u8?a=1&", "t", "https://h/p.m3u8?a=1&token=t");
    /* An old token is replaced, wherever it sits; look-alike names are kept. */
    CHECK_URL("https://h/p.m3u8?token=old", "new", "https://h/p.m3u8?token=new");
    CHECK_URL("https://h/p.m3u8?a=1&token=old&tokens=2&b", "new",
              "https://h/p.m3u8?a=1&tokens=2&b&token=new");
    CHECK_URL("https://h/p.m3u8?token&a=1", "new", "https://h/p.m3u8?a=1&token=new");
    /* The fragment stays last. */
    CHECK_URL("https://h/p.m3u8#t=10", "t", "https://h/p.m3u8?token=t#t=10");
    CHECK_URL("https://h/p.m3u8?a=1#frag?x", "t", "https://h/p.m3u8?a=1&token=t#frag?x");
    /* Anything outside the unreserved set is percent-encoded. */
    CHECK_URL("https://h/p", "a+b/c=d&e f~g", "https://h/p?token=a%2Bb%2Fc%3Dd%26e%20f~g");
}

static void test_playback_url_with_real_token(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_playback_token_claims c = basic_claims();
    char *token = make_token(&c);
    if (!token)
        return;
    char *url = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_playback_url("https://h/p.m3u8", token, &url, NULL));
    CHECK(url && strncmp(url, "https://h/p.m3u8?token=", 23) == 0);
    CHECK(url && strcmp(url + 23, token) == 0); /* a JWT needs no encoding */
    ivs_free(url);
    free(token);
}

/* ------------------------------------------------------------------------------------- */
/* The Python oracle                                                                      */
/* ------------------------------------------------------------------------------------- */

static int oracle_available(void)
{
    char script[4096];
    snprintf(script, sizeof script, "%s/tests/oracle/verify_playback_token.py", harness_root());
    if (access(script, R_OK) != 0)
        return 0;
    int status = system("python3 -c 'import cryptography' >/dev/null 2>&1");
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Runs the oracle on token; returns its JSON verdict (or NULL), and its exit status. */
static cJSON *oracle_verify(const char *pub_pem, const char *token, int *exit_status)
{
    char key_path[] = "/tmp/ivs-token-pub-XXXXXX";
    char token_path[] = "/tmp/ivs-token-jwt-XXXXXX";
    int kfd = mkstemp(key_path);
    int tfd = mkstemp(token_path);
    cJSON *result = NULL;
    *exit_status = -1;
    if (kfd >= 0 && tfd >= 0 && write(kfd, pub_pem, strlen(pub_pem)) == (ssize_t)strlen(pub_pem) &&
        write(tfd, token, strlen(token)) == (ssize_t)strlen(token)) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "python3 '%s/tests/oracle/verify_playback_token.py' '%s' < '%s'",
                 harness_root(), key_path, token_path);
        FILE *f = popen(cmd, "r");
        if (f) {
            char out[16384];
            size_t n = fread(out, 1, sizeof out - 1, f);
            out[n] = '\0';
            int status = pclose(f);
            if (status != -1 && WIFEXITED(status))
                *exit_status = WEXITSTATUS(status);
            result = cJSON_Parse(out);
        }
    }
    if (kfd >= 0) {
        close(kfd);
        unlink(key_path);
    }
    if (tfd >= 0) {
        close(tfd);
        unlink(token_path);
    }
    return result;
}

static void test_python_cryptography_oracle(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    if (!oracle_available())
        SKIP("python3 with the cryptography package is not available");
    struct ivs_playback_token_claims c = basic_claims();
    c.expires_at = NOW + 540;
    c.access_control_allow_origin = "https://a.example";
    c.strict_origin_enforcement = 1;
    c.single_use_uuid = "0f8e5b4a-3c2d-4e1f-9a8b-7c6d5e4f3a2b";
    c.viewer_id = "vi\"ewer\xc3\xa9";
    c.viewer_session_version = 9007199254740993LL;
    c.maximum_resolution = "HD";
    char *token = make_token(&c);
    if (!token)
        return;
    int status;
    cJSON *verdict = oracle_verify(s_keys.pub_pem, token, &status);
    CHECK_INT_EQ(0, status);
    CHECK(verdict != NULL);
    if (verdict) {
        CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "valid")));
        const cJSON *header = cJSON_GetObjectItemCaseSensitive(verdict, "header");
        const cJSON *claims = cJSON_GetObjectItemCaseSensitive(verdict, "claims");
        CHECK_STR_EQ("ES384", cJSON_GetStringValue(cJSON_GetObjectItem(header, "alg")));
        CHECK_STR_EQ("JWT", cJSON_GetStringValue(cJSON_GetObjectItem(header, "typ")));
        CHECK_INT_EQ(2, cJSON_GetArraySize(header));
        CHECK_INT_EQ(8, cJSON_GetArraySize(claims));
        CHECK_STR_EQ(ARN, cJSON_GetStringValue(cJSON_GetObjectItem(claims, "aws:channel-arn")));
        CHECK_STR_EQ(c.viewer_id,
                     cJSON_GetStringValue(cJSON_GetObjectItem(claims, "aws:viewer-id")));
        CHECK_STR_EQ("HD",
                     cJSON_GetStringValue(cJSON_GetObjectItem(claims, "aws:maximum-resolution")));
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(claims, "aws:strict-origin-enforcement")));
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(claims, "exp")) == (double)(NOW + 540));
    }
    cJSON_Delete(verdict);

    /* And it refuses a tampered token, so the check above can fail. */
    char *dot = strrchr(token, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    verdict = oracle_verify(s_keys.pub_pem, token, &status);
    CHECK_INT_EQ(1, status);
    CHECK(verdict && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(verdict, "valid")));
    cJSON_Delete(verdict);
    free(token);
}

/* ------------------------------------------------------------------------------------- */
/* Self-signed Real-Time participant and connection tokens                                */
/* ------------------------------------------------------------------------------------- */

#define KEY_ARN "arn:aws:ivs:us-west-2:123456789012:public-key/abcdABC1efg2"
#define STAGE_ARN "arn:aws:ivs:us-west-2:123456789012:stage/8h86yWuvnf17"
#define EVENTS_URL "wss://global.events.live-video.net"
#define WHIP_URL "https://7d77e42545dc.global-bm.whip.live-video.net"

static struct ivs_participant_token_claims participant_claims(void)
{
    struct ivs_participant_token_claims c = {0};
    c.public_key_arn = KEY_ARN;
    c.stage_arn = STAGE_ARN;
    c.events_url = EVENTS_URL;
    c.whip_url = WHIP_URL;
    c.expires_at = NOW + 3600;
    return c;
}

static void test_participant_token_exact_and_verifies(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    static const struct ivs_token_attribute attrs[] = {{"username", "guest \"one\""},
                                                       {"seat", "3"}};
    struct ivs_participant_token_claims c = participant_claims();
    c.user_id = "guest-1";
    c.capabilities = IVS_PARTICIPANT_PUBLISH | IVS_PARTICIPANT_SUBSCRIBE;
    c.attributes = attrs;
    c.attribute_count = 2;
    c.participant_id = "p_1-A";
    c.expires_at = NOW + 14 * 24 * 3600; /* the longest allowed */
    char *token = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_participant_token(s_keys.pem, 0, &c, NOW, &token, &err));
    struct jwt j;
    CHECK(token && jwt_split(token, &j));
    if (token && j.header) {
        CHECK_STR_EQ("{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"" KEY_ARN "\"}", j.header);
        CHECK_STR_EQ("{\"exp\":1701209600,\"iat\":1700000000,\"jti\":\"p_1-A\",\"user_id\":"
                     "\"guest-1\",\"resource\":\"" STAGE_ARN "\",\"topic\":\"8h86yWuvnf17\","
                     "\"events_url\":\"" EVENTS_URL "\",\"whip_url\":\"" WHIP_URL "\","
                     "\"capabilities\":{\"allow_publish\":true,\"allow_subscribe\":true},"
                     "\"attributes\":{\"username\":\"guest \\\"one\\\"\",\"seat\":\"3\"},"
                     "\"version\":\"1.0\"}",
                     j.payload);
        CHECK_INT_EQ(96, j.sig_len);
        jwt_free(&j);
        CHECK(es384_verify(s_keys.pub_pem, token));
        /* A changed claim no longer verifies. */
        char *dot = strchr(token, '.');
        dot[3] = dot[3] == 'A' ? 'B' : 'A';
        CHECK(!es384_verify(s_keys.pub_pem, token));
    }
    ivs_free(token);

    /* Subscribe only: only that capability is written; no user_id, no attributes; a random
     * 12-character jti, different each time. */
    c = participant_claims();
    c.capabilities = IVS_PARTICIPANT_SUBSCRIBE;
    char *t1 = NULL, *t2 = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_participant_token(s_keys.pem, 0, &c, NOW, &t1, &err));
    CHECK_INT_EQ(IVS_OK, ivs_participant_token(s_keys.pem, 0, &c, NOW, &t2, &err));
    struct jwt j1, j2;
    CHECK(t1 && t2 && jwt_split(t1, &j1) && jwt_split(t2, &j2));
    if (j1.payload && j2.payload) {
        cJSON *p1 = cJSON_Parse(j1.payload), *p2 = cJSON_Parse(j2.payload);
        const char *jti1 = cJSON_GetStringValue(cJSON_GetObjectItem(p1, "jti"));
        const char *jti2 = cJSON_GetStringValue(cJSON_GetObjectItem(p2, "jti"));
        CHECK(jti1 && strlen(jti1) == 12 &&
              strspn(jti1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                           "qrstuvwxyz0123456789") == 12);
        CHECK(jti1 && jti2 && strcmp(jti1, jti2) != 0);
        CHECK(!cJSON_GetObjectItem(p1, "user_id") && !cJSON_GetObjectItem(p1, "attributes"));
        const cJSON *caps = cJSON_GetObjectItem(p1, "capabilities");
        CHECK_INT_EQ(1, cJSON_GetArraySize(caps));
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(caps, "allow_subscribe")));
        cJSON_Delete(p1);
        cJSON_Delete(p2);
        jwt_free(&j1);
        jwt_free(&j2);
    }
    CHECK(es384_verify(s_keys.pub_pem, t1));
    ivs_free(t1);
    ivs_free(t2);
    /* 0 = both capabilities, as CreateParticipantToken's default. */
    c = participant_claims();
    CHECK_INT_EQ(IVS_OK, ivs_participant_token(s_keys.pem, 0, &c, NOW, &t1, &err));
    CHECK(t1 && jwt_split(t1, &j1));
    CHECK(j1.payload && strstr(j1.payload, "{\"allow_publish\":true,\"allow_subscribe\":true}"));
    jwt_free(&j1);
    ivs_free(t1);
    ivs_error_clear(&err);
}

/* Expects the participant claims to be refused, the message naming `what`. */
static void expect_participant_error(const struct ivs_participant_token_claims *c, const char *what,
                                     int line)
{
    char *token = (char *)"unchanged";
    struct ivs_error err = {0};
    enum ivs_status st = ivs_participant_token(s_keys.pem, 0, c, NOW, &token, &err);
    if (st != IVS_ERR_VALIDATION || !err.code ||
        strcmp(err.code, "InvalidParticipantTokenClaims") != 0 || !err.message ||
        !strstr(err.message, what) || token != NULL)
        harness_fail(__FILE__, line, "expected a claims error about '%s', got %d %s: %s", what,
                     (int)st, err.code ? err.code : "-", err.message ? err.message : "-");
    ivs_error_clear(&err);
}

static void test_participant_token_limits(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_participant_token_claims c = participant_claims();
    c.expires_at = NOW + 14 * 24 * 3600 + 1;
    expect_participant_error(&c, "14 days", __LINE__);
    c.expires_at = NOW;
    expect_participant_error(&c, "not in the future", __LINE__);
    c.expires_at = 0;
    expect_participant_error(&c, "exp is required", __LINE__);
    c = participant_claims();
    c.issued_at = NOW - 100; /* issued earlier: the 14 days count from iat */
    c.expires_at = NOW - 100 + 14 * 24 * 3600 + 1;
    expect_participant_error(&c, "14 days", __LINE__);

    c = participant_claims();
    c.public_key_arn = "arn:aws:ivs:us-west-2:123456789012:stage/abc";
    expect_participant_error(&c, "public key ARN", __LINE__);
    c = participant_claims();
    c.stage_arn = "arn:aws:ivs:us-west-2:123456789012:channel/abc";
    expect_participant_error(&c, "stage ARN", __LINE__);
    c = participant_claims();
    c.events_url = "https://global.events.live-video.net";
    expect_participant_error(&c, "wss://", __LINE__);
    c = participant_claims();
    c.whip_url = NULL;
    expect_participant_error(&c, "whip_url", __LINE__);

    char long_id[200];
    memset(long_id, 'u', 129);
    long_id[129] = '\0';
    c = participant_claims();
    c.user_id = long_id;
    expect_participant_error(&c, "user_id is longer than 128", __LINE__);
    long_id[128] = '\0';
    char *token = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_participant_token(s_keys.pem, 0, &c, NOW, &token, &err));
    ivs_free(token);

    c = participant_claims();
    c.participant_id = "has space";
    expect_participant_error(&c, "jti", __LINE__);
    memset(long_id, 'j', 65);
    long_id[65] = '\0';
    c.participant_id = long_id;
    expect_participant_error(&c, "jti", __LINE__);

    c = participant_claims();
    c.capabilities = 4;
    expect_participant_error(&c, "capabilities", __LINE__);

    /* Attributes: 1 KB of keys and values in all; keys unique and non-empty. */
    static char big[1100];
    memset(big, 'v', 1020);
    big[1020] = '\0';
    struct ivs_token_attribute attrs[2] = {{"abcd", big}, {"k", "v"}};
    c = participant_claims();
    c.attributes = attrs;
    c.attribute_count = 1; /* 4 + 1020 = 1024 bytes: the limit */
    CHECK_INT_EQ(IVS_OK, ivs_participant_token(s_keys.pem, 0, &c, NOW, &token, &err));
    ivs_free(token);
    c.attribute_count = 2;
    expect_participant_error(&c, "more than 1 KB", __LINE__);
    attrs[0].key = "k";
    attrs[0].value = "w";
    expect_participant_error(&c, "given twice", __LINE__);
    attrs[0].key = "";
    expect_participant_error(&c, "non-empty key", __LINE__);

    /* Every problem at once. */
    c = participant_claims();
    c.stage_arn = NULL;
    c.events_url = NULL;
    c.expires_at = 0;
    expect_participant_error(&c, "resource (the stage ARN) is required; events_url", __LINE__);
    ivs_error_clear(&err);

    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_participant_token(NULL, 0, &c, NOW, &token, &err));
    ivs_error_clear(&err);
    c = participant_claims();
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_participant_token("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE "
                                       "KEY-----\n",
                                       0, &c, NOW, &token, &err));
    CHECK_STR_EQ("InvalidPrivateKey", err.code);
    ivs_error_clear(&err);
}

static void test_connection_token(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    struct ivs_connection_token_claims c = {0};
    c.public_key_arn = KEY_ARN;
    c.connection_id = "conn-1";
    c.expires_at = NOW + 28 * 24 * 3600;
    char *token = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_connection_token(s_keys.pem, 0, &c, NOW, &token, &err));
    struct jwt j;
    CHECK(token && jwt_split(token, &j));
    if (j.payload) {
        CHECK_STR_EQ("{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"" KEY_ARN "\"}", j.header);
        CHECK_STR_EQ("{\"exp\":1702419200,\"iat\":1700000000,\"jti\":\"conn-1\",\"account_id\":"
                     "\"123456789012\",\"region\":\"us-west-2\",\"events_url\":\"" EVENTS_URL
                     "\",\"version\":\"1.0\"}",
                     j.payload);
        jwt_free(&j);
    }
    CHECK(es384_verify(s_keys.pub_pem, token));
    ivs_free(token);
    c.expires_at = NOW + 28 * 24 * 3600 + 1;
    token = NULL;
    CHECK_INT_EQ(IVS_ERR_VALIDATION, ivs_connection_token(s_keys.pem, 0, &c, NOW, &token, &err));
    CHECK_STR_EQ("InvalidConnectionTokenClaims", err.code);
    CHECK(err.message && strstr(err.message, "4 weeks"));
    ivs_error_clear(&err);
    c.expires_at = NOW + 60;
    c.events_url = "wss://us-west-2.events.live-video.net";
    CHECK_INT_EQ(IVS_ERR_VALIDATION, ivs_connection_token(s_keys.pem, 0, &c, NOW, &token, &err));
    CHECK(err.message && strstr(err.message, "events_url"));
    ivs_error_clear(&err);
}

static void test_participant_token_python_oracle(void)
{
    if (!have_key())
        SKIP("OpenSSL could not make a P-384 key");
    if (!oracle_available())
        SKIP("python3 with the cryptography package is not available");
    static const struct ivs_token_attribute attrs[] = {{"name", "caf\xc3\xa9"}};
    struct ivs_participant_token_claims c = participant_claims();
    c.user_id = "guest-1";
    c.attributes = attrs;
    c.attribute_count = 1;
    char *token = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_participant_token(s_keys.pem, 0, &c, NOW, &token, &err));
    if (!token)
        return;
    int status;
    cJSON *verdict = oracle_verify(s_keys.pub_pem, token, &status);
    CHECK_INT_EQ(0, status);
    if (verdict) {
        CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verdict, "valid")));
        const cJSON *header = cJSON_GetObjectItemCaseSensitive(verdict, "header");
        const cJSON *claims = cJSON_GetObjectItemCaseSensitive(verdict, "claims");
        CHECK_STR_EQ(KEY_ARN, cJSON_GetStringValue(cJSON_GetObjectItem(header, "kid")));
        CHECK_STR_EQ("8h86yWuvnf17", cJSON_GetStringValue(cJSON_GetObjectItem(claims, "topic")));
        CHECK_STR_EQ("1.0", cJSON_GetStringValue(cJSON_GetObjectItem(claims, "version")));
        CHECK_STR_EQ("caf\xc3\xa9", cJSON_GetStringValue(cJSON_GetObjectItem(
                                        cJSON_GetObjectItem(claims, "attributes"), "name")));
    }
    cJSON_Delete(verdict);
    char *dot = strrchr(token, '.');
    dot[7] = dot[7] == 'A' ? 'B' : 'A';
    verdict = oracle_verify(s_keys.pub_pem, token, &status);
    CHECK_INT_EQ(1, status);
    cJSON_Delete(verdict);
    ivs_free(token);
    ivs_error_clear(&err);
}

int main(void)
{
    RUN(test_participant_token_exact_and_verifies);
    RUN(test_participant_token_limits);
    RUN(test_connection_token);
    RUN(test_participant_token_python_oracle);
    RUN(test_minimal_token_verifies);
    RUN(test_all_claims_exact);
    RUN(test_strings_escaped_and_big_integers_exact);
    RUN(test_tampering_breaks_signature);
    RUN(test_signatures_are_fresh_and_all_verify);
    RUN(test_sec1_pem_and_length_bounded_input);
    RUN(test_real_clock);
    RUN(test_wrong_keys_rejected);
    RUN(test_garbage_keys_rejected);
    RUN(test_usage_errors);
    RUN(test_channel_arn_rules);
    RUN(test_exp_rules);
    RUN(test_viewer_rules);
    RUN(test_origin_rules);
    RUN(test_resolution_and_uuid_rules);
    RUN(test_every_problem_reported_at_once);
    RUN(test_playback_url);
    RUN(test_playback_url_with_real_token);
    RUN(test_python_cryptography_oracle);
    keys_free();
    return harness_finish();
}
