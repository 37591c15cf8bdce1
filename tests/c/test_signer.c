/* test_signer.c: the reusable public signer (ivs_signer_*) gives exactly what the one-shot
 * ivs_sign / ivs_presign_url give, whatever order keys, days, regions and secrets come in
 * (its key cache and its preloaded HMAC state must never leak one request into the next). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ivs.h"

#define EXAMPLE_KEY_ID "AKIDEXAMPLE"
#define EXAMPLE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_20150830_123600 1440938160LL

/* aws-c-auth's get-vanilla case: GET / on example.amazonaws.com, service "service". */
static void test_known_vector(void)
{
    struct ivs_signer *s = ivs_signer_new();
    CHECK(s != NULL);
    struct ivs_sign_request req = {0};
    req.method = "GET";
    req.url = "https://example.amazonaws.com/";
    req.region = "us-east-1";
    req.service = "service";
    req.time = T_20150830_123600;
    struct ivs_credentials creds = {EXAMPLE_KEY_ID, EXAMPLE_SECRET, NULL};
    for (int round = 0; round < 3; round++) { /* derived, then cached, then cached again */
        struct ivs_signature sig;
        struct ivs_error err = {0};
        CHECK_INT_EQ(IVS_OK, ivs_signer_sign(s, &req, &creds, &sig, &err));
        CHECK_STR_EQ("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                     sig.signature);
        CHECK_STR_EQ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                     "aws4_request, SignedHeaders=host;x-amz-date, Signature="
                     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                     sig.authorization);
        CHECK_STR_EQ("20150830T123600Z", sig.amz_date);
        CHECK(sig.security_token == NULL);
        ivs_signature_clear(&sig);
        ivs_error_clear(&err);
    }
    ivs_signer_free(s);
    ivs_signer_free(NULL);
}

static void check_same(struct ivs_signer *s, const struct ivs_sign_request *req,
                       const struct ivs_credentials *creds)
{
    struct ivs_signature a, b;
    struct ivs_error ea = {0}, eb = {0};
    enum ivs_status ra = ivs_sign(req, creds, &a, &ea);
    enum ivs_status rb = ivs_signer_sign(s, req, creds, &b, &eb);
    CHECK_INT_EQ(ra, rb);
    if (ra == IVS_OK && rb == IVS_OK) {
        CHECK_STR_EQ(a.amz_date, b.amz_date);
        CHECK_STR_EQ(a.signature, b.signature);
        CHECK_STR_EQ(a.authorization, b.authorization);
        CHECK_STR_EQ(a.signed_headers, b.signed_headers);
        CHECK_STR_EQ(a.canonical_request, b.canonical_request);
        CHECK_STR_EQ(a.string_to_sign, b.string_to_sign);
        CHECK((a.security_token == NULL) == (b.security_token == NULL));
        if (a.security_token && b.security_token)
            CHECK_STR_EQ(a.security_token, b.security_token);
    } else {
        CHECK_STR_EQ(ea.code ? ea.code : "", eb.code ? eb.code : "");
    }
    ivs_signature_clear(&a);
    ivs_signature_clear(&b);
    ivs_error_clear(&ea);
    ivs_error_clear(&eb);

    char *ua = NULL, *ub = NULL;
    ra = ivs_presign_url(req, creds, 900, &ua, &ea);
    rb = ivs_signer_presign_url(s, req, creds, 900, &ub, &eb);
    CHECK_INT_EQ(ra, rb);
    if (ua && ub)
        CHECK_STR_EQ(ua, ub);
    ivs_free(ua);
    ivs_free(ub);
    ivs_error_clear(&ea);
    ivs_error_clear(&eb);
}

/* Every combination in an order that makes the cache hit, miss, evict and switch its loaded
 * key constantly; each signature is compared with the one-shot path. */
static void test_matches_one_shot(void)
{
    struct ivs_signer *s = ivs_signer_new();
    CHECK(s != NULL);
    static const char *const methods[] = {"GET", "POST", "DELETE"};
    static const char *const urls[] = {
        "https://ivs.us-west-2.amazonaws.com/CreateChannel",
        "https://ivs.us-west-2.amazonaws.com/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A1%3Achannel%2Fx",
        "https://example.amazonaws.com/a/./b/../c//d/?b=2&a=1&a=0&x=%2F",
        "http://127.0.0.1:8080",
        "https://example.amazonaws.com/%E1%88%B4 space?k",
    };
    static const char *const regions[] = {"us-west-2", "eu-central-1", "ap-south-1"};
    static const char *const secrets[] = {EXAMPLE_SECRET, "another-secret",
                                          ("a-secret-longer-than-one-sha256-block-so-the-hmac-seed-"
                                           "is-hashed-first-0123456789abcdef")};
    struct ivs_header many[20];
    char names[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "X-Test-%02d", 19 - i);
        many[i].name = names[i];
        many[i].value = i % 3 ? "  folded\n\t value  " : "v";
    }
    static const struct ivs_header few[] = {
        {"Content-Type", "application/json"}, {"x-dup", "1"}, {"X-Dup", " 2 "}};
    int64_t day = 86400;
    unsigned n = 0;
    for (int round = 0; round < 2; round++)
        for (size_t m = 0; m < 3; m++)
            for (size_t u = 0; u < sizeof urls / sizeof urls[0]; u++)
                for (size_t r = 0; r < 3; r++)
                    for (size_t k = 0; k < 3; k++, n++) {
                        struct ivs_sign_request req = {0};
                        req.method = methods[m];
                        req.url = urls[u];
                        req.region = regions[(r + n) % 3];
                        req.service = n % 4 ? "ivs" : "service";
                        req.time = T_20150830_123600 + (int64_t)(n % 5) * day + (int64_t)n;
                        req.body = n % 2 ? "{\"name\":\"x\"}" : NULL;
                        req.body_len = n % 2 ? 12 : 0;
                        if (n % 7 == 0) {
                            req.headers = many;
                            req.header_count = 20;
                        } else {
                            req.headers = few;
                            req.header_count = n % 4;
                        }
                        struct ivs_credentials creds = {"AKIDEXAMPLE", secrets[k],
                                                        n % 3 ? NULL : "session token  x"};
                        check_same(s, &req, &creds);
                    }
    ivs_signer_free(s);
}

static void test_null_signer_and_errors(void)
{
    struct ivs_sign_request req = {0};
    req.method = "GET";
    req.url = "https://example.amazonaws.com/";
    req.region = "us-east-1";
    req.service = "service";
    req.time = T_20150830_123600;
    struct ivs_credentials creds = {EXAMPLE_KEY_ID, EXAMPLE_SECRET, NULL};
    struct ivs_signature sig;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_signer_sign(NULL, &req, &creds, &sig, &err));
    CHECK_STR_EQ("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", sig.signature);
    ivs_signature_clear(&sig);

    struct ivs_signer *s = ivs_signer_new();
    req.region = NULL;
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_signer_sign(s, &req, &creds, &sig, &err));
    CHECK(sig.authorization == NULL);
    ivs_error_clear(&err);
    /* The failure left nothing behind that a good request could trip over. */
    req.region = "us-east-1";
    CHECK_INT_EQ(IVS_OK, ivs_signer_sign(s, &req, &creds, &sig, &err));
    CHECK_STR_EQ("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", sig.signature);
    ivs_signature_clear(&sig);
    char *url = NULL;
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_signer_presign_url(s, &req, &creds, 0, &url, &err));
    CHECK(url == NULL);
    ivs_error_clear(&err);
    ivs_signer_free(s);
}

int main(void)
{
    RUN(test_known_vector);
    RUN(test_matches_one_shot);
    RUN(test_null_signer_and_errors);
    return harness_finish();
}
