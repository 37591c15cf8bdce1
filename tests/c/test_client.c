/* The generic call path end to end against a loopback fake server: signing, serialisation,
 * response and error parsing, retries (driven by fake clock, sleep and random hooks, so no
 * test waits), logging without secrets, keep-alive and several clients on several threads. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "client.h"
#include "errors.h"
#include "support/client_fixture.h"
#include "support/fakesrv.h"
#include "harness.h"
#include "ivs.h"
#include "options.h"
#include "sigv4.h"

#define TEST_AKID "AKIDCLIENTTEST000001"
#define TEST_SECRET "cLiEnTsEcReTkEy/ABCDEFGHIJKLMNOPQRSTUVWX"
#define TEST_TOKEN "SESSIONTOKEN+abc/def=="
#define CHANNEL_ARN "arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234"
#define STREAM_KEY_VALUE "sk_us-west-2_secretstreamkeyvalue0123456789"

/* Options for a client pointed at the fake server with this suite's keys and fake time. */
static void s_options(struct ivs_client_options *o, const char *url, struct fake_time *t)
{
    fixture_options(o, url, TEST_AKID, TEST_SECRET, t);
}

static void test_no_region_is_a_config_error(void)
{
    struct ivs_client_options o = {0};
    o.getenv = fake_env_no_imds;
    struct ivs_client *c = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_ERR_CONFIG, ivs_client_new(&o, &c, &err));
    CHECK(c == NULL);
    CHECK_STR_EQ("NoRegion", err.code);
    CHECK(err.message && strstr(err.message, "AWS_REGION"));
    ivs_error_clear(&err);
    ivs_client_free(NULL); /* destroy accepts NULL */
}

static void test_call_signs_serialises_and_parses(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv,
                 &(struct fakesrv_response){
                     .status = 200,
                     .headers = "x-amzn-RequestId: rid-1\r\nContent-Type: application/json\r\n",
                     .body = "{\"channel\":{\"arn\":\"" CHANNEL_ARN
                             "\",\"name\":\"lobby\",\"authorized\":false,"
                             "\"latencyMode\":\"LOW\"}}",
                 });
    struct fake_time t = {.now_ms = 1440938160000LL, .rnd = 0.5}; /* 2015-08-30T12:36:00Z */
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    const char *in = "{\"arn\":\"" CHANNEL_ARN "\"}";
    enum ivs_status st = ivs_client_call(c, "GetChannel", in, strlen(in), &out, NULL, &err);
    CHECK_MSG(st == IVS_OK, "call failed: %s", err.message ? err.message : "?");
    CHECK(out && strstr(out, "\"name\":\"lobby\""));
    CHECK(out && strstr(out, "\"authorized\":false"));
    CHECK_INT_EQ(1, fakesrv_request_count(srv));
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    char hb[512];
    CHECK_STR_EQ("POST", r->method);
    CHECK_STR_EQ("/GetChannel", r->target);
    CHECK_STR_EQ("application/json", fakesrv_request_header(r, "content-type", hb, sizeof hb));
    CHECK_STR_EQ("20150830T123600Z", fakesrv_request_header(r, "x-amz-date", hb, sizeof hb));
    const char *auth = fakesrv_request_header(r, "authorization", hb, sizeof hb);
    CHECK(auth &&
          strncmp(auth,
                  "AWS4-HMAC-SHA256 Credential=" TEST_AKID "/20150830/us-west-2/ivs/aws4_request, "
                  "SignedHeaders=content-type;host;x-amz-date, Signature=",
                  strlen("AWS4-HMAC-SHA256 Credential=" TEST_AKID
                         "/20150830/us-west-2/ivs/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-date, Signature=")) == 0);
    CHECK(fakesrv_request_header(r, "x-amz-security-token", hb, sizeof hb) == NULL);
    const char *ua = fakesrv_request_header(r, "user-agent", hb, sizeof hb);
    CHECK(ua && strncmp(ua, "libivs/" IVS_VERSION, strlen("libivs/" IVS_VERSION)) == 0);
    CHECK_STR_EQ("{\"arn\":\"" CHANNEL_ARN "\"}", r->body);
    ivs_free(out);
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* ivs_client_call hands the response body on as the service sent it (checked, not parsed
 * and printed again), and refuses a body that is not one JSON object. */
static void test_call_passes_the_body_through_and_checks_it(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    static const char body[] = "{ \"channel\" : { \"name\" : \"lobby\", \"n\": 1.50 } }\n";
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = body});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channel\":{\"name\":"});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "[]"});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = ""});
    struct fake_time t = {.now_ms = 1440938160000LL, .rnd = 0.5};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    const char *in = "{\"arn\":\"" CHANNEL_ARN "\"}";
    char *out = NULL;
    size_t len = 0;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "GetChannel", in, strlen(in), &out, &len, &err));
    CHECK_STR_EQ(body, out);
    CHECK_INT_EQ((long long)strlen(body), (long long)len);
    ivs_free(out);
    out = NULL;
    for (int i = 0; i < 2; i++) {
        CHECK_INT_EQ(IVS_ERR_INTERNAL,
                     ivs_client_call(c, "GetChannel", in, strlen(in), &out, &len, &err));
        CHECK(out == NULL);
        CHECK_STR_EQ("InvalidResponse", err.code);
        CHECK_INT_EQ(200, err.status);
        ivs_error_clear(&err);
    }
    /* An empty body is an empty output. */
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "GetChannel", in, strlen(in), &out, &len, &err));
    CHECK_STR_EQ("{}", out);
    CHECK_INT_EQ(2, (long long)len);
    ivs_free(out);
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* The app id goes into the User-Agent sanitised as botocore does it (PROVIDERS.md 9): one "-"
 * per code point outside the allowed set, so UTF-8 is decoded first. */
static void test_app_id_is_sanitised_into_the_user_agent(void)
{
    static const struct {
        const char *app_id, *want;
    } cases[] = {
        {"my app/1", " app/my-app-1"},
        {"a(b)c<d>e@f:g;h=i?j[k]l{m}n\"o\\p", " app/a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p"},
        {"caf\xC3\xA9-\xC3\xBC my/app", " app/caf----my-app"},
        {"ok!$%&'*+-.^_`|~,#9", " app/ok!$%&'*+-.^_`|~,#9"},
        {"tab\there", " app/tab-here"},
        {"bad\xFF"
         "byte\xE2\x82",
         " app/bad-byte--"},
        {"\xF0\x9F\x8E\xA5"
         "cam",
         " app/-cam"},
    };
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
        struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
        struct ivs_client_options o;
        s_options(&o, url, &t);
        o.app_id = cases[i].app_id;
        struct ivs_client *c = fixture_client(&o);
        char *out = NULL;
        struct ivs_error err = {0};
        CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "ListChannels", "{}", 2, &out, NULL, &err));
        char hb[512];
        const char *ua =
            fakesrv_request_header(fakesrv_request(srv, (int)i), "user-agent", hb, sizeof hb);
        const char *app = ua ? strstr(ua, " cfg/retry-mode#standard app/") : NULL;
        app = app ? strstr(app, " app/") : NULL;
        CHECK_MSG(app && strcmp(app, cases[i].want) == 0, "case %zu: User-Agent %s", i,
                  ua ? ua : "(none)");
        ivs_free(out);
        ivs_error_clear(&err);
        ivs_client_free(c);
    }
    fakesrv_stop(srv);
}

static void test_session_token_is_sent_and_signed(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    o.session_token = TEST_TOKEN;
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "list_channels", NULL, 0, &out, NULL, &err));
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    char hb[512];
    CHECK_STR_EQ(TEST_TOKEN, fakesrv_request_header(r, "x-amz-security-token", hb, sizeof hb));
    const char *auth = fakesrv_request_header(r, "authorization", hb, sizeof hb);
    CHECK(auth && strstr(auth, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));
    CHECK_STR_EQ("{}", r->body);
    ivs_free(out);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_tag_operations_use_path_and_query(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(
        srv, &(struct fakesrv_response){.status = 200, .body = "{\"tags\":{\"team\":\"a b\"}}"});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    const char *in = "{\"resourceArn\":\"" CHANNEL_ARN "\"}";
    CHECK_INT_EQ(IVS_OK,
                 ivs_client_call(c, "ListTagsForResource", in, strlen(in), &out, NULL, &err));
    CHECK(out && strstr(out, "\"team\":\"a b\""));
    ivs_free(out);
    const char *untag = "{\"resourceArn\":\"" CHANNEL_ARN "\",\"tagKeys\":[\"a b\",\"x+y\"]}";
    CHECK_INT_EQ(IVS_OK,
                 ivs_client_call(c, "untag_resource", untag, strlen(untag), &out, NULL, &err));
    ivs_free(out);
    CHECK_INT_EQ(2, fakesrv_request_count(srv));
    char hb[256];
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK_STR_EQ("GET", r->method);
    CHECK_STR_EQ("/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdABCD1234",
                 r->target);
    CHECK(fakesrv_request_header(r, "content-type", hb, sizeof hb) == NULL);
    CHECK_INT_EQ(0, r->body_len);
    r = fakesrv_request(srv, 1);
    CHECK_STR_EQ("DELETE", r->method);
    CHECK_STR_EQ("/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdABCD1234"
                 "?tagKeys=a%20b&tagKeys=x%2By",
                 r->target);
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_no_content_response_gives_empty_object(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 204});
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    size_t len = 99;
    struct ivs_error err = {0};
    const char *in = "{\"arn\":\"" CHANNEL_ARN "\"}";
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "DeleteChannel", in, strlen(in), &out, &len, &err));
    CHECK_STR_EQ("{}", out);
    CHECK_INT_EQ(2, len);
    ivs_free(out);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_transient_errors_are_retried_with_backoff(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct fakesrv_response busy = {
        .status = 503,
        .headers = "x-amzn-ErrorType: ServiceUnavailable\r\nx-amzn-RequestId: rid-503\r\n",
        .body = "{\"exceptionMessage\":\"try later\"}",
    };
    fakesrv_push(srv, &busy);
    fakesrv_push(srv, &busy);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "ListChannels", "{}", 2, &out, NULL, &err));
    CHECK_INT_EQ(3, fakesrv_request_count(srv));
    CHECK_INT_EQ(2, t.sleeps);
    /* 2026 standard parameters: full jitter over 50 ms * 2^(attempt-1). */
    CHECK_INT_EQ(25, t.slept[0]);
    CHECK_INT_EQ(50, t.slept[1]);
    /* Each attempt is signed afresh with the clock at that moment. */
    char a[64], b[64];
    fakesrv_request_header(fakesrv_request(srv, 0), "x-amz-date", a, sizeof a);
    fakesrv_request_header(fakesrv_request(srv, 2), "x-amz-date", b, sizeof b);
    CHECK_STR_EQ("20231114T221320Z", a);
    CHECK_STR_EQ("20231114T221320Z", b); /* 75 ms later: same second */
    ivs_free(out);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_throttling_uses_the_throttling_base(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(
        srv, &(struct fakesrv_response){
                 .status = 429,
                 .headers =
                     "x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/coral/\r\n",
                 .body = "{\"exceptionMessage\":\"slow down\"}",
             });
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    const char *in = "{\"channelArn\":\"" CHANNEL_ARN "\"}";
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "StopStream", in, strlen(in), &out, NULL, &err));
    CHECK_INT_EQ(1, t.sleeps);
    CHECK_INT_EQ(500, t.slept[0]);
    ivs_free(out);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* Adaptive mode: the throttle enables the client-side limiter at the measured rate (0 here:
 * the bucket falls to its 0.5/s floor), so after the 500 ms backoff the retry also waits for
 * a token: (1 - 0.5 x 0.5) / 0.5 = 1.5 s. Standard mode would only sleep the backoff. A later
 * call waits for its token too (rate min(CUBIC 3.2, 2 x measured 0.8) = 1.6/s). */
static void test_adaptive_mode_limits_the_send_rate(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){
                          .status = 400,
                          .headers = "x-amzn-ErrorType: ThrottlingException\r\n",
                          .body = "{\"message\":\"slow down\"}",
                      });
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    o.retry_mode = "adaptive";
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    const char *in = "{\"channelArn\":\"" CHANNEL_ARN "\"}";
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "StopStream", in, strlen(in), &out, NULL, &err));
    CHECK_INT_EQ(2, t.sleeps);
    CHECK_INT_EQ(500, t.slept[0]);
    CHECK_INT_EQ(1500, t.slept[1]);
    ivs_free(out);
    out = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "StopStream", in, strlen(in), &out, NULL, &err));
    CHECK_INT_EQ(3, t.sleeps);
    CHECK(t.slept[2] >= 625 && t.slept[2] <= 626);
    CHECK_INT_EQ(3, fakesrv_request_count(srv));
    char hb[512];
    const char *ua = fakesrv_request_header(fakesrv_request(srv, 0), "user-agent", hb, sizeof hb);
    CHECK(ua && strstr(ua, " cfg/retry-mode#adaptive"));
    ivs_free(out);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_client_errors_are_not_retried(void)
{
    static const struct {
        int status;
        const char *type;
    } cases[] = {
        {400, "ValidationException"},    {402, "ServiceQuotaExceededException"},
        {403, "AccessDeniedException"},  {404, "ResourceNotFoundException"},
        {404, "ChannelNotBroadcasting"}, {409, "ConflictException"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fakesrv *srv = fakesrv_start();
        if (!srv)
            SKIP("no fake server");
        char url[64], headers[128];
        fakesrv_url(srv, url, sizeof url);
        snprintf(headers, sizeof headers, "x-amzn-ErrorType: %s\r\nx-amzn-RequestId: rid-%d\r\n",
                 cases[i].type, cases[i].status);
        fakesrv_push(
            srv, &(struct fakesrv_response){.status = cases[i].status,
                                            .headers = headers,
                                            .body = "{\"exceptionMessage\":\"no such thing\"}"});
        struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
        struct ivs_client_options o;
        s_options(&o, url, &t);
        struct ivs_client *c = fixture_client(&o);
        char *out = NULL;
        struct ivs_error err = {0};
        const char *in = "{\"arn\":\"" CHANNEL_ARN "\"}";
        CHECK_INT_EQ(IVS_ERR_SERVICE,
                     ivs_client_call(c, "GetChannel", in, strlen(in), &out, NULL, &err));
        CHECK(out == NULL);
        CHECK_STR_EQ(cases[i].type, err.code);
        CHECK_STR_EQ("no such thing", err.message);
        CHECK_INT_EQ(cases[i].status, err.status);
        CHECK_INT_EQ(0, err.retryable);
        CHECK_INT_EQ(1, err.attempts);
        CHECK_INT_EQ(0, t.sleeps);
        CHECK_INT_EQ(1, fakesrv_request_count(srv));
        char rid[16];
        snprintf(rid, sizeof rid, "rid-%d", cases[i].status);
        CHECK_STR_EQ(rid, err.request_id);
        ivs_error_clear(&err);
        ivs_client_free(c);
        fakesrv_stop(srv);
    }
}

static void test_retries_stop_at_max_attempts(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    for (int i = 0; i < 5; i++)
        fakesrv_push(
            srv,
            &(struct fakesrv_response){
                .status = 500,
                .headers =
                    "x-amzn-ErrorType: InternalServerException\r\nx-amzn-RequestId: rid-500\r\n",
                .body = "{\"exceptionMessage\":\"boom\"}"});
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.999};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    o.max_attempts = 4;
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_ERR_SERVICE, ivs_client_call(c, "ListStreams", "{}", 2, &out, NULL, &err));
    CHECK_INT_EQ(4, fakesrv_request_count(srv));
    CHECK_INT_EQ(4, err.attempts);
    CHECK_INT_EQ(1, err.retryable);
    CHECK_STR_EQ("InternalServerException", err.code);
    CHECK_STR_EQ("rid-500", err.request_id);
    CHECK_INT_EQ(3, t.sleeps);
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_connection_failures_are_retried(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_stop(srv); /* nothing listens there any more */
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_ERR_NETWORK, ivs_client_call(c, "ListChannels", "{}", 2, &out, NULL, &err));
    CHECK_STR_EQ("ConnectionError", err.code);
    CHECK_INT_EQ(3, err.attempts);
    CHECK_INT_EQ(1, err.retryable);
    CHECK_INT_EQ(0, err.status);
    CHECK_INT_EQ(2, t.sleeps);
    ivs_error_clear(&err);
    ivs_client_free(c);
}

static void test_validation_failure_sends_nothing(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    const char *in = "{\"nmae\":\"x\",\"latencyMode\":\"FAST\"}";
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_client_call(c, "CreateChannel", in, strlen(in), &out, NULL, &err));
    CHECK_STR_EQ("ParamValidationError", err.code);
    CHECK(err.message && strstr(err.message, "nmae") && strstr(err.message, "latencyMode"));
    CHECK_INT_EQ(0, err.attempts);
    CHECK_INT_EQ(0, fakesrv_request_count(srv));
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_client_call(c, "CreateChannel", "[1]", 3, &out, NULL, &err));
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_client_call(c, "CreateChanel", "{}", 2, &out, NULL, &err));
    CHECK_STR_EQ("UnknownOperation", err.code);
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* ivs.h's ABI rule: an older program's smaller struct is read up to its struct_size (the
 * bytes after it are not the library's business: here they are garbage that would crash as
 * hook pointers), and a newer program's unknown fields are refused unless left zero. */
/* The C library checks every ranged option against the one option table (core/src/options.c)
 * that the Lua binding and ivs.lua read: below min or above max fails here, naming the
 * caller's option, exactly where tests/lua/client_spec.lua sees ivs.new fail. (0 is the C
 * struct's "default" and passes; Lua has nil for that, so an explicit 0 fails there.) */
static void test_option_ranges_follow_the_table(void)
{
    size_t ranged = 0;
    for (size_t i = 0; i < ivs_option_count; i++) {
        const struct ivs_option *opt = &ivs_options[i];
        if (opt->kind != IVS_OPT_COUNT && opt->kind != IVS_OPT_SECONDS)
            continue;
        ranged++;
        double lo = opt->kind == IVS_OPT_COUNT ? (double)opt->min : 0.5;
        const struct {
            double v;
            int ok;
        } cases[] = {{-1, 0}, {lo, 1}, {(double)opt->max, 1}, {(double)opt->max + 1, 0}};
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            struct ivs_client_options o;
            ivs_client_options_init(&o);
            o.region = "us-west-2";
            o.anonymous = 1;
            char *field = (char *)&o + opt->offset;
            if (opt->kind == IVS_OPT_COUNT) {
                int v = (int)cases[k].v;
                memcpy(field, &v, sizeof v);
            } else {
                memcpy(field, &cases[k].v, sizeof cases[k].v);
            }
            struct ivs_client *c = NULL;
            struct ivs_error err = {0};
            enum ivs_status st = ivs_client_new(&o, &c, &err);
            CHECK_MSG((st == IVS_OK) == cases[k].ok, "%s = %g: status %d", opt->name, cases[k].v,
                      (int)st);
            if (!cases[k].ok) {
                char want[64];
                snprintf(want, sizeof want, "option '%s' must be", opt->name);
                CHECK_MSG(err.message && strstr(err.message, want), "%s = %g: %s", opt->name,
                          cases[k].v, err.message ? err.message : "(no message)");
                CHECK_STR_EQ("InvalidConfig", err.code);
            }
            ivs_client_free(c);
            ivs_error_clear(&err);
        }
    }
    CHECK(ranged >= 4); /* max_attempts, max_connections, timeout, connect_timeout */
}

static void test_options_struct_size(void)
{
    struct ivs_client_options init;
    memset(&init, 0x5A, sizeof init);
    ivs_client_options_init(&init);
    CHECK(init.struct_size == sizeof init);
    CHECK(init.region == NULL && init.log == NULL && init.mfa_token == NULL);

    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});

    /* An "older" program: its struct ends before the hooks. */
    size_t old_size = offsetof(struct ivs_client_options, log);
    size_t big = sizeof(struct ivs_client_options) + 64;
    struct ivs_client_options *o = malloc(big);
    CHECK(o != NULL);
    if (!o) {
        fakesrv_stop(srv);
        return;
    }
    memset(o, 0xA5, big);
    ivs_client_options_init_size(o, old_size);
    o->region = "us-west-2";
    o->endpoint = url;
    o->access_key_id = TEST_AKID;
    o->secret_access_key = TEST_SECRET;
    o->max_attempts = 1;
    struct ivs_client *c = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_new(o, &c, &err));
    char *out = NULL;
    if (c) {
        CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "ListChannels", "{}", 0, &out, NULL, &err));
        ivs_free(out);
        ivs_client_free(c);
    }
    ivs_error_clear(&err);

    /* A "newer" program: its struct is larger than the library's. */
    ivs_client_options_init_size(o, big);
    o->region = "us-west-2";
    o->anonymous = 1;
    o->endpoint = url;
    c = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_new(o, &c, &err)); /* the unknown tail is all zero */
    ivs_client_free(c);
    c = NULL;
    ((unsigned char *)o)[big - 1] = 1;
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_client_new(o, &c, &err));
    CHECK_STR_EQ("OptionsTooNew", err.code);
    CHECK(c == NULL);
    ivs_error_clear(&err);
    o->struct_size = 1;
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_client_new(o, &c, &err));
    ivs_error_clear(&err);
    free(o);
    fakesrv_stop(srv);
}

/* ivs.h's request_len rule: 0 reads a NUL-terminated string (it used to send `{}` and create a
 * channel without the caller's members); a short length or trailing bytes are named as such. */
static void test_request_len_rule(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    const char *in = "{\"name\":5,\"latencyMode\":\"FAST\"}";
    CHECK_INT_EQ(IVS_ERR_VALIDATION, ivs_client_call(c, "CreateChannel", in, 0, &out, NULL, &err));
    CHECK_MSG(err.message && strstr(err.message, "name") && strstr(err.message, "latencyMode"),
              "%s", err.message ? err.message : "(null)");
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_client_call(c, "CreateChannel", in, strlen(in) - 3, &out, NULL, &err));
    CHECK_MSG(err.message && strstr(err.message, "ends inside the JSON text") &&
                  strstr(err.message, "request_len"),
              "%s", err.message ? err.message : "(null)");
    ivs_error_clear(&err);
    const char *trailing = "{\"name\":\"a\"} x";
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_client_call(c, "CreateChannel", trailing, 0, &out, NULL, &err));
    CHECK_MSG(err.message && strstr(err.message, "bytes after its JSON object"), "%s",
              err.message ? err.message : "(null)");
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_client_call(c, "CreateChannel", "{\"name\":", 0, &out, NULL, &err));
    CHECK_MSG(err.message && strstr(err.message, "not valid JSON"), "%s",
              err.message ? err.message : "(null)");
    ivs_error_clear(&err);
    CHECK_INT_EQ(0, fakesrv_request_count(srv));
    /* Whitespace or the NUL after the object is fine, and "" is still `{}`. */
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "ListChannels", "{} \n", 0, &out, NULL, &err));
    ivs_free(out);
    out = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "ListChannels", "", 0, &out, NULL, &err));
    ivs_free(out);
    out = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "ListChannels", "{}", sizeof "{}", &out, NULL, &err));
    ivs_free(out);
    CHECK_INT_EQ(3, fakesrv_request_count(srv));
    CHECK_STR_EQ("{}", fakesrv_request(srv, 1)->body);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static const char *s_lookup(const void *ctx, const char *name)
{
    const char *const *pairs = ctx;
    for (; *pairs; pairs += 2)
        if (strcasecmp(pairs[0], name) == 0)
            return pairs[1];
    return NULL;
}

static void test_service_error_parsing(void)
{
    struct ivs_error err = {0};
    const char *h1[] = {"X-Amzn-ErrorType",
                        "ValidationException:http://internal.amazon.com/coral/com.amazon/",
                        "X-Amzn-RequestId", "r1", NULL};
    client_parse_service_error(400, "{\"exceptionMessage\":\"bad\",\"message\":\"other\"}", 45,
                               s_lookup, h1, &err);
    CHECK_STR_EQ("ValidationException", err.code);
    CHECK_STR_EQ("bad", err.message);
    CHECK_STR_EQ("r1", err.request_id);
    CHECK_INT_EQ(IVS_ERR_SERVICE, err.kind);
    ivs_error_clear(&err);

    const char *none[] = {NULL};
    const char *body = "{\"__type\":\"com.amazonaws.ivs#ConflictException\",\"Message\":\"busy\"}";
    client_parse_service_error(409, body, strlen(body), s_lookup, none, &err);
    CHECK_STR_EQ("ConflictException", err.code);
    CHECK_STR_EQ("busy", err.message);
    CHECK(err.request_id == NULL);
    ivs_error_clear(&err);

    const char *h2[] = {"x-amzn-ErrorMessage", "from header", NULL};
    client_parse_service_error(403, "not json", 8, s_lookup, h2, &err);
    CHECK_STR_EQ("Forbidden", err.code);
    CHECK_STR_EQ("from header", err.message);
    ivs_error_clear(&err);

    client_parse_service_error(502, NULL, 0, s_lookup, none, &err);
    CHECK_STR_EQ("BadGateway", err.code);
    CHECK(err.message && strstr(err.message, "502"));
    CHECK_INT_EQ(502, err.status);
    ivs_error_clear(&err);
}

struct log_capture {
    char text[65536];
    size_t len;
    int lines;
};

static void s_capture_log(void *ud, enum ivs_log_level level, const char *line)
{
    struct log_capture *cap = ud;
    (void)level;
    size_t n = strlen(line);
    if (cap->len + n + 2 < sizeof cap->text) {
        memcpy(cap->text + cap->len, line, n);
        cap->len += n;
        cap->text[cap->len++] = '\n';
        cap->text[cap->len] = '\0';
    }
    cap->lines++;
}

static void test_logs_never_show_secrets(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv,
                 &(struct fakesrv_response){
                     .status = 200,
                     .headers = "x-amzn-RequestId: rid-log\r\n",
                     .body = "{\"channel\":{\"arn\":\"" CHANNEL_ARN
                             "\"},\"streamKey\":{\"arn\":\"arn:aws:ivs:"
                             "us-west-2:123456789012:stream-key/k1\",\"value\":\"" STREAM_KEY_VALUE
                             "\"}}"});
    struct log_capture cap = {.len = 0};
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    o.session_token = TEST_TOKEN;
    o.log = s_capture_log;
    o.log_ud = &cap;
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK,
                 ivs_client_call(c, "CreateChannel", "{\"name\":\"lobby\"}", 16, &out, NULL, &err));
    CHECK(out && strstr(out, STREAM_KEY_VALUE)); /* the caller gets it; the log must not */
    CHECK(cap.lines >= 2);
    CHECK(strstr(cap.text, "CreateChannel") != NULL);
    CHECK(strstr(cap.text, "rid-log") != NULL);
    CHECK(strstr(cap.text, TEST_AKID) != NULL); /* the key id is not a secret and helps debugging */
    CHECK(strstr(cap.text, TEST_SECRET) == NULL);
    CHECK(strstr(cap.text, TEST_TOKEN) == NULL);
    CHECK(strstr(cap.text, STREAM_KEY_VALUE) == NULL);
    CHECK(strstr(cap.text, "Signature=") == NULL || strstr(cap.text, "Signature=***") != NULL);
    ivs_free(out);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_connection_is_reused_unless_closed(void)
{
    for (int close_it = 0; close_it <= 1; close_it++) {
        struct fakesrv *srv = fakesrv_start();
        if (!srv)
            SKIP("no fake server");
        char url[64];
        fakesrv_url(srv, url, sizeof url);
        for (int i = 0; i < 4; i++)
            fakesrv_push(srv,
                         &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});
        struct ivs_client_options o;
        s_options(&o, url, NULL);
        o.close_connection = close_it;
        struct ivs_client *c = fixture_client(&o);
        for (int i = 0; i < 4; i++) {
            char *out = NULL;
            struct ivs_error err = {0};
            CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "ListChannels", "{}", 2, &out, NULL, &err));
            ivs_free(out);
            ivs_error_clear(&err);
        }
        CHECK_INT_EQ(close_it ? 4 : 1, fakesrv_connection_count(srv));
        ivs_client_free(c);
        fakesrv_stop(srv);
    }
}

static void s_always_ok(void *ud, const struct fakesrv_request *req, struct fakesrv_response *resp)
{
    (void)ud;
    (void)req;
    resp->status = 200;
    resp->body = "{\"channels\":[],\"nextToken\":\"\"}";
}

struct thread_job {
    const char *url;
    int ok;
};

static void *s_thread_main(void *arg)
{
    struct thread_job *job = arg;
    struct ivs_client_options o;
    s_options(&o, job->url, NULL);
    struct ivs_client *c = NULL;
    struct ivs_error err = {0};
    if (ivs_client_new(&o, &c, &err) != IVS_OK)
        return NULL;
    for (int i = 0; i < 25; i++) {
        char *out = NULL;
        if (ivs_client_call(c, "ListChannels", "{\"maxResults\":5}", 16, &out, NULL, &err) ==
                IVS_OK &&
            strstr(out, "channels"))
            job->ok++;
        ivs_free(out);
        ivs_error_clear(&err);
    }
    ivs_client_free(c);
    return NULL;
}

static void test_clients_on_several_threads(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_set_handler(srv, s_always_ok, NULL);
    enum { THREADS = 4 };
    pthread_t tids[THREADS];
    struct thread_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct thread_job){.url = url, .ok = 0};
        pthread_create(&tids[i], NULL, s_thread_main, &jobs[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tids[i], NULL);
        CHECK_INT_EQ(25, jobs[i].ok);
    }
    CHECK_INT_EQ(THREADS * 25, fakesrv_request_count(srv));
    fakesrv_stop(srv);
}

static void test_anonymous_requests_are_unsigned(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"streams\":[]}"});
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    o.access_key_id = o.secret_access_key = NULL;
    o.anonymous = 1;
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "ListStreams", NULL, 0, &out, NULL, &err));
    char hb[256];
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK(fakesrv_request_header(r, "authorization", hb, sizeof hb) == NULL);
    CHECK(fakesrv_request_header(r, "x-amz-date", hb, sizeof hb) == NULL);
    ivs_free(out);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_endpoint_with_default_port_and_path(void)
{
    struct ivs_client_options o;
    s_options(&o, "https://ivs.example.test:443/", NULL);
    struct ivs_client *c = fixture_client(&o);
    CHECK_STR_EQ("https://ivs.example.test:443", ivs_client_endpoint(c));
    CHECK_STR_EQ("us-west-2", ivs_client_region(c));
    ivs_client_free(c);
    CHECK_INT_EQ(41, ivs_operation_count());
    CHECK_STR_EQ("BatchGetChannel", ivs_operation_name(0));
    CHECK(ivs_operation_name(41) == NULL);
}

/* One call of `operation` on a client of `service`; checks the credential scope's service
 * and the path, and returns the response (caller frees). */
static char *s_service_call(const char *service, const char *operation, const char *in,
                            const char *want_path, const char *want_scope)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return NULL;
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"ok\":true}"});
    struct fake_time t = {.now_ms = 1440938160000LL, .rnd = 0.5};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    o.service = service;
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    if (c) {
        CHECK_STR_EQ(service, ivs_client_service(c));
        enum ivs_status st = ivs_client_call(c, operation, in, strlen(in), &out, NULL, &err);
        CHECK_MSG(st == IVS_OK, "%s %s: %s", service, operation, err.message ? err.message : "?");
    }
    CHECK_INT_EQ(1, fakesrv_request_count(srv));
    if (fakesrv_request_count(srv) == 1) {
        const struct fakesrv_request *r = fakesrv_request(srv, 0);
        char hb[512], want[128];
        CHECK_STR_EQ(want_path, r->target);
        snprintf(want, sizeof want, "/20150830/us-west-2/%s/aws4_request,", want_scope);
        const char *auth = fakesrv_request_header(r, "authorization", hb, sizeof hb);
        CHECK_MSG(auth && strstr(auth, want), "%s: %s", service, auth ? auth : "(none)");
        const char *ua = fakesrv_request_header(r, "user-agent", hb, sizeof hb);
        snprintf(want, sizeof want, " api/%s#2020-07-14 ",
                 strcmp(service, "ivs-realtime") == 0 ? "ivs-realtime" : service);
        CHECK_MSG(ua && strstr(ua, want), "user agent %s", ua ? ua : "(none)");
    }
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
    return out;
}

/* The service is chosen when the client is made; Real-Time signs as "ivs" (its model's
 * signing name) though its host is ivsrealtime.*; operations belong to one service. */
static void test_each_service_signs_and_routes_as_its_model_says(void)
{
    char *out = s_service_call("ivschat", "create_chat_token",
                               "{\"roomIdentifier\":\"arn:aws:ivschat:us-west-2:123456789012:room/"
                               "g1H2I3j4k5L6\",\"userId\":\"u1\"}",
                               "/CreateChatToken", "ivschat");
    CHECK(out && strcmp(out, "{\"ok\":true}") == 0);
    ivs_free(out);
    out = s_service_call("ivs-realtime", "GetStage",
                         "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:stage/8h86yWuvnf17\"}",
                         "/GetStage", "ivs");
    ivs_free(out);
    /* The broken ResourceArn pattern of Chat is not enforced: a real room ARN goes through. */
    out = s_service_call("ivschat", "ListTagsForResource",
                         "{\"resourceArn\":\"arn:aws:ivschat:us-west-2:123456789012:room/"
                         "g1H2I3j4k5L6\"}",
                         "/tags/arn%3Aaws%3Aivschat%3Aus-west-2%3A123456789012%3Aroom%2F"
                         "g1H2I3j4k5L6",
                         "ivschat");
    ivs_free(out);
    out =
        s_service_call("ivs", "GetChannel", "{\"arn\":\"" CHANNEL_ARN "\"}", "/GetChannel", "ivs");
    ivs_free(out);

    /* An operation of another service is unknown to this client; nothing is sent. */
    struct ivs_client_options o;
    s_options(&o, "http://127.0.0.1:9", NULL);
    o.service = "ivschat";
    struct ivs_client *c = fixture_client(&o);
    char *resp = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_client_call(c, "GetChannel", "{}", 2, &resp, NULL, &err));
    CHECK_STR_EQ("UnknownOperation", err.code);
    CHECK(err.message && strstr(err.message, "ivschat"));
    ivs_error_clear(&err);
    /* Validation uses the service's model. */
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_client_call(c, "CreateChatToken", "{}", 2, &resp, NULL, &err));
    CHECK(err.message && strstr(err.message, "roomIdentifier"));
    ivs_error_clear(&err);
    ivs_client_free(c);

    o.service = "ivs_chat";
    c = NULL;
    CHECK_INT_EQ(IVS_ERR_CONFIG, ivs_client_new(&o, &c, &err));
    CHECK(c == NULL);
    CHECK_STR_EQ("UnknownService", err.code);
    ivs_error_clear(&err);
}

static void test_service_introspection(void)
{
    CHECK_INT_EQ(3, ivs_service_count());
    CHECK_STR_EQ("ivs", ivs_service_name(0));
    CHECK_STR_EQ("ivs-realtime", ivs_service_name(1));
    CHECK_STR_EQ("ivschat", ivs_service_name(2));
    CHECK(ivs_service_name(3) == NULL);
    CHECK_INT_EQ(41, ivs_service_operation_count("ivs"));
    CHECK_INT_EQ(17, ivs_service_operation_count("ivschat"));
    CHECK_INT_EQ(39, ivs_service_operation_count("ivs-realtime"));
    CHECK_INT_EQ(0, ivs_service_operation_count("nope"));
    CHECK_INT_EQ(0, ivs_service_operation_count(NULL));
    CHECK_STR_EQ("CreateChatToken", ivs_service_operation_name("ivschat", 0));
    CHECK_STR_EQ("UpdateStage", ivs_service_operation_name("ivs-realtime", 38));
    CHECK(ivs_service_operation_name("ivs-realtime", 39) == NULL);
    CHECK(ivs_service_operation_name("nope", 0) == NULL);
    size_t total = 0;
    for (size_t i = 0; i < ivs_service_count(); i++)
        total += ivs_service_operation_count(ivs_service_name(i));
    CHECK_INT_EQ(97, total);
    CHECK(ivs_client_service(NULL) == NULL);
}

/* Real-Time's replication calls answer with header-bound output members only: they reach
 * the output as the model names them. */
static void test_header_bound_output_members(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){
                          .status = 200,
                          .headers = "Access-Control-Allow-Origin: *\r\n"
                                     "Cache-Control: no-store, no-cache\r\n"
                                     "X-Frame-Options: DENY\r\nContent-Type: application/json\r\n",
                          .body = "{}",
                      });
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    o.service = "ivs-realtime";
    struct ivs_client *c = fixture_client(&o);
    char *out = NULL;
    struct ivs_error err = {0};
    const char *in =
        "{\"sourceStageArn\":\"arn:aws:ivs:us-west-2:123456789012:stage/aaaaaaaaaaaa\","
        "\"destinationStageArn\":\"arn:aws:ivs:us-west-2:123456789012:stage/"
        "bbbbbbbbbbbb\",\"participantId\":\"pid1\"}";
    CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "StartParticipantReplication", in, strlen(in), &out,
                                         NULL, &err));
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    CHECK_STR_EQ("*", cJSON_GetStringValue(cJSON_GetObjectItem(j, "accessControlAllowOrigin")));
    CHECK_STR_EQ("no-store, no-cache",
                 cJSON_GetStringValue(cJSON_GetObjectItem(j, "cacheControl")));
    CHECK_STR_EQ("DENY", cJSON_GetStringValue(cJSON_GetObjectItem(j, "xFrameOptions")));
    CHECK(cJSON_GetObjectItem(j, "strictTransportSecurity") == NULL); /* not sent */
    cJSON_Delete(j);
    ivs_free(out);
    out = NULL;

    /* Such operations parse their body into a tree (the header members join it): the tree
     * path refuses bytes after the object as the text path does, and allows whitespace. */
    static const struct {
        const char *body;
        enum ivs_status want;
    } tails[] = {
        {"{} trailing", IVS_ERR_INTERNAL},
        {"{}{}", IVS_ERR_INTERNAL},
        {"{} \r\n\t", IVS_OK},
    };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        fakesrv_push(srv, &(struct fakesrv_response){.status = 200,
                                                     .headers = "X-Frame-Options: DENY\r\n",
                                                     .body = tails[i].body});
        enum ivs_status st =
            ivs_client_call(c, "StartParticipantReplication", in, strlen(in), &out, NULL, &err);
        CHECK_MSG(st == tails[i].want, "body %zu: status %d (%s)", i, (int)st,
                  err.message ? err.message : "");
        if (tails[i].want != IVS_OK)
            CHECK(err.code && strcmp(err.code, "InvalidResponse") == 0 && err.message &&
                  strstr(err.message, "not a JSON object"));
        ivs_free(out);
        out = NULL;
        ivs_error_clear(&err);
    }
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* The client keeps a digest of the secret it signs with rather than hashing it per call: when
 * the credentials change between calls (here a credential_process near its expiry, run again
 * for every call, answers new keys each time), each request must still be signed with its own
 * secret. Each Authorization is checked against a signature made from scratch. */
static char s_rotate_config[64];

static const char *rotate_env(void *ud, const char *name)
{
    (void)ud;
    if (strcmp(name, "AWS_CONFIG_FILE") == 0)
        return s_rotate_config;
    if (strcmp(name, "AWS_SHARED_CREDENTIALS_FILE") == 0)
        return "/nonexistent/credentials";
    return fake_env_no_imds(NULL, name);
}

static void test_signature_follows_rotating_credentials(void)
{
    char counter[64] = "/tmp/ivs-rotate-count-XXXXXX", script[64] = "/tmp/ivs-rotate-XXXXXX";
    strcpy(s_rotate_config, "/tmp/ivs-rotate-config-XXXXXX");
    int fds[3] = {mkstemp(counter), mkstemp(script), mkstemp(s_rotate_config)};
    CHECK(fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0);
    if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)
        return;
    dprintf(fds[1],
            "#!/bin/sh\nn=$(cat %s); n=$((n+1)); echo $n > %s\n"
            "printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDROTATE%%s\", \"SecretAccessKey\": "
            "\"rotatingSecret%%s\", \"Expiration\": \"2030-01-01T00:00:00Z\"}' $n $n\n",
            counter, counter);
    dprintf(fds[2], "[default]\ncredential_process = %s\n", script);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    chmod(script, 0700);

    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    /* Four minutes before the keys expire: inside the refresh margin, so every call runs the
     * process again. */
    struct fake_time t = {.now_ms = 1893456000000LL - 4 * 60 * 1000};
    struct ivs_client_options o;
    fixture_options(&o, url, NULL, NULL, &t);
    o.getenv = rotate_env;
    struct ivs_client *c = fixture_client(&o);
    const char *req = "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdEFGH1234\"}";
    for (int i = 0; c && i < 3; i++) {
        fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
        char *out = NULL;
        struct ivs_error err = {0};
        CHECK_INT_EQ(IVS_OK, ivs_client_call(c, "GetChannel", req, strlen(req), &out, NULL, &err));
        free(out);
        ivs_error_clear(&err);
    }
    for (size_t i = 0; c && i < 3; i++) {
        const struct fakesrv_request *r = fakesrv_request(srv, i);
        char host[128], date[32], auth[512], ctype[64], akid[32], secret[32];
        CHECK(r != NULL);
        if (!r || !fakesrv_request_header(r, "Host", host, sizeof host) ||
            !fakesrv_request_header(r, "X-Amz-Date", date, sizeof date) ||
            !fakesrv_request_header(r, "Authorization", auth, sizeof auth) ||
            !fakesrv_request_header(r, "Content-Type", ctype, sizeof ctype)) {
            CHECK_MSG(0, "request %zu lacks a signed header", i);
            continue;
        }
        snprintf(akid, sizeof akid, "AKIDROTATE%zu", i + 1);
        snprintf(secret, sizeof secret, "rotatingSecret%zu", i + 1);
        int64_t when = 0;
        CHECK(sigv4_parse_amz_date(date, &when) == 0);
        const struct ivs_header signed_headers[] = {{"Host", host}, {"Content-Type", ctype}};
        struct sigv4_params p = {
            .method = "POST",
            .path = r->target,
            .headers = signed_headers,
            .header_count = 2,
            .body = r->body,
            .body_len = r->body_len,
            .region = "us-west-2",
            .service = "ivs",
            .time = when,
            .access_key_id = akid,
            .secret_access_key = secret,
            .normalize_path = 1,
            .double_encode = 1,
        };
        struct sigv4_result expect;
        CHECK_INT_EQ(IVS_OK, sigv4_sign(&p, NULL, &expect, NULL));
        CHECK_STR_EQ(expect.authorization, auth);
        sigv4_result_cleanup(&expect);
    }
    ivs_client_free(c);
    fakesrv_stop(srv);
    unlink(counter);
    unlink(script);
    unlink(s_rotate_config);
}

int main(void)
{
    RUN(test_no_region_is_a_config_error);
    RUN(test_call_signs_serialises_and_parses);
    RUN(test_call_passes_the_body_through_and_checks_it);
    RUN(test_app_id_is_sanitised_into_the_user_agent);
    RUN(test_session_token_is_sent_and_signed);
    RUN(test_tag_operations_use_path_and_query);
    RUN(test_no_content_response_gives_empty_object);
    RUN(test_transient_errors_are_retried_with_backoff);
    RUN(test_throttling_uses_the_throttling_base);
    RUN(test_adaptive_mode_limits_the_send_rate);
    RUN(test_client_errors_are_not_retried);
    RUN(test_retries_stop_at_max_attempts);
    RUN(test_connection_failures_are_retried);
    RUN(test_validation_failure_sends_nothing);
    RUN(test_request_len_rule);
    RUN(test_options_struct_size);
    RUN(test_option_ranges_follow_the_table);
    RUN(test_service_error_parsing);
    RUN(test_logs_never_show_secrets);
    RUN(test_connection_is_reused_unless_closed);
    RUN(test_clients_on_several_threads);
    RUN(test_anonymous_requests_are_unsigned);
    RUN(test_endpoint_with_default_port_and_path);
    RUN(test_each_service_signs_and_routes_as_its_model_says);
    RUN(test_service_introspection);
    RUN(test_header_bound_output_members);
    RUN(test_signature_follows_rotating_credentials);
    return harness_finish();
}
