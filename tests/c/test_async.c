/* Non-blocking calls against the loopback fake server: many calls in flight on a capped pool
 * of kept-alive connections, retries whose backoff is a timer inside poll (stepped with a
 * fake clock; the sleep hook must stay unused), errors, cancellation (explicit and by
 * freeing the client), re-entrant starts from callbacks, and a poll(0) that never waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "errors.h"
#include "harness.h"
#include "ivs.h"
#include "support/client_fixture.h"
#include "support/fakesrv.h"

#define TEST_AKID "AKIDASYNCTEST0000001"
#define TEST_SECRET "aSyNcSeCrEtKeY/ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define ARN_PREFIX "arn:aws:ivs:us-west-2:123456789012:channel/"

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void s_options(struct ivs_client_options *o, const char *url, struct fake_time *t)
{
    fixture_options(o, url, TEST_AKID, TEST_SECRET, t);
}

/* Polls until nothing is in flight or deadline_ms passes; returns what is still in flight. */
static int s_drain(struct ivs_client *c, int deadline_ms)
{
    int64_t end = s_mono_ms() + deadline_ms;
    int n = ivs_client_in_flight(c);
    while (n > 0 && s_mono_ms() < end)
        n = ivs_client_poll(c, 50);
    return n;
}

/* What one callback saw. */
struct outcome {
    int fired;
    enum ivs_status status;
    char *response;
    char code[64];
    int attempts;
    long http_status;
};

static void s_record(void *ud, enum ivs_status status, const char *json, size_t len,
                     const struct ivs_error *err)
{
    struct outcome *o = ud;
    o->fired++;
    o->status = status;
    free(o->response);
    o->response = NULL;
    if (json) {
        o->response = malloc(len + 1);
        memcpy(o->response, json, len + 1);
    }
    if (err) {
        snprintf(o->code, sizeof o->code, "%s", err->code ? err->code : "");
        o->attempts = err->attempts;
        o->http_status = err->status;
    }
}

/* Answers GetChannel with the channel named after the ARN's resource id. */
struct echo {
    char body[256];
    int delay_ms;
};

static void s_echo_channel(void *ud, const struct fakesrv_request *req,
                           struct fakesrv_response *resp)
{
    struct echo *e = ud;
    const char *id = req->body ? strstr(req->body, ARN_PREFIX) : NULL;
    char name[32] = "none";
    if (id) {
        id += strlen(ARN_PREFIX);
        size_t n = strcspn(id, "\"");
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, id, n);
        name[n] = '\0';
    }
    snprintf(e->body, sizeof e->body, "{\"channel\":{\"arn\":\"%s%s\",\"name\":\"n-%s\"}}",
             ARN_PREFIX, name, name);
    resp->status = 200;
    resp->body = e->body;
    resp->delay_ms =
        __atomic_load_n(&e->delay_ms, __ATOMIC_RELAXED); /* the test thread changes it */
}

static enum ivs_status s_start_get_channel(struct ivs_client *c, int i, struct outcome *o,
                                           struct ivs_error *err)
{
    char in[128];
    int n = snprintf(in, sizeof in, "{\"arn\":\"" ARN_PREFIX "ch%04d\"}", i);
    return ivs_client_start(c, "GetChannel", in, (size_t)n, s_record, o, err);
}

/* Starts `count` GetChannel calls and drives them to completion; checks every callback fired
 * exactly once with its own channel. */
static void s_run_batch(struct ivs_client *c, int count)
{
    struct outcome *out = calloc((size_t)count, sizeof *out);
    for (int i = 0; i < count; i++) {
        struct ivs_error err = {0};
        CHECK_INT_EQ(IVS_OK, s_start_get_channel(c, i, &out[i], &err));
        ivs_error_clear(&err);
    }
    CHECK_INT_EQ(count, ivs_client_in_flight(c));
    CHECK_INT_EQ(0, s_drain(c, 20000));
    for (int i = 0; i < count; i++) {
        char want[64];
        snprintf(want, sizeof want, "\"name\":\"n-ch%04d\"", i);
        CHECK_MSG(out[i].fired == 1, "call %d: callback fired %d times", i, out[i].fired);
        CHECK_MSG(out[i].status == IVS_OK, "call %d: status %d (%s)", i, out[i].status,
                  out[i].code);
        CHECK_MSG(out[i].response && strstr(out[i].response, want), "call %d: wrong output %s", i,
                  out[i].response ? out[i].response : "(null)");
        free(out[i].response);
        if (harness_current_failed())
            break;
    }
    free(out);
}

static void test_hundred_calls_with_32_in_flight(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct echo e = {.delay_ms = 40};
    fakesrv_set_handler(srv, s_echo_channel, &e);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    o.max_connections = 32;
    struct ivs_client *c = fixture_client(&o);

    int64_t t0 = s_mono_ms();
    s_run_batch(c, 100);
    int64_t elapsed = s_mono_ms() - t0;
    CHECK_INT_EQ(100, fakesrv_request_count(srv));
    size_t conns = fakesrv_connection_count(srv);
    CHECK_MSG(conns > 1 && conns <= 32, "%zu connections for 100 calls capped at 32", conns);
    /* One at a time would take 100 x 40 ms; 32 at once take about four rounds. */
    CHECK_MSG(elapsed < 2500, "100 calls of 40 ms took %lld ms: not concurrent",
              (long long)elapsed);

    /* A second burst reuses the kept-alive connections instead of opening new ones. */
    s_run_batch(c, 100);
    CHECK_INT_EQ(200, fakesrv_request_count(srv));
    CHECK_INT_EQ(conns, fakesrv_connection_count(srv));
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_connection_cap_is_honoured(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct echo e = {.delay_ms = 20};
    fakesrv_set_handler(srv, s_echo_channel, &e);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    o.max_connections = 3;
    struct ivs_client *c = fixture_client(&o);
    s_run_batch(c, 20);
    CHECK_INT_EQ(20, fakesrv_request_count(srv));
    CHECK_MSG(fakesrv_connection_count(srv) <= 3, "%zu connections with a cap of 3",
              fakesrv_connection_count(srv));
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_retry_backoff_is_a_timer_inside_poll(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){
                          .status = 503,
                          .headers = "x-amzn-ErrorType: ServiceUnavailable\r\n",
                          .body = "{\"message\":\"try later\"}",
                      });
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "ListChannels", "{}", 2, s_record, &out, &err));

    /* The 503 arrives; the 25 ms backoff (50 ms base x 0.5) runs on the fake clock, which
     * does not move, so real time passing must not send the retry. */
    int64_t end = s_mono_ms() + 5000;
    while (fakesrv_request_count(srv) < 1 && s_mono_ms() < end)
        ivs_client_poll(c, 20);
    CHECK_INT_EQ(1, ivs_client_poll(c, 150));
    CHECK_INT_EQ(1, fakesrv_request_count(srv));
    CHECK_INT_EQ(0, out.fired);
    t.now_ms += 24;
    CHECK_INT_EQ(1, ivs_client_poll(c, 60));
    CHECK_INT_EQ(1, fakesrv_request_count(srv));
    t.now_ms += 1; /* due now */
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(2, fakesrv_request_count(srv));
    CHECK_INT_EQ(1, out.fired);
    CHECK_INT_EQ(IVS_OK, out.status);
    CHECK(out.response && strcmp(out.response, "{\"channels\":[]}") == 0);
    CHECK_INT_EQ(0, t.sleeps); /* the non-blocking path never sleeps */
    free(out.response);
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* Adaptive mode on the non-blocking engine: after a throttle, the retry waits for its 500 ms
 * backoff and then for a token of the client-side bucket (1.5 s more, see test_client.c),
 * both as timers inside poll. */
static void test_adaptive_rate_limit_is_a_timer_inside_poll(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){
                          .status = 429,
                          .headers = "x-amzn-ErrorType: ThrottlingException\r\n",
                          .body = "{\"message\":\"slow down\"}",
                      });
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"channels\":[]}"});
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    o.retry_mode = "adaptive";
    struct ivs_client *c = fixture_client(&o);
    struct outcome out = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "ListChannels", "{}", 2, s_record, &out, &err));
    int64_t end = s_mono_ms() + 5000;
    while (fakesrv_request_count(srv) < 1 && s_mono_ms() < end)
        ivs_client_poll(c, 20);
    CHECK_INT_EQ(1, ivs_client_poll(c, 100));
    t.now_ms += 500; /* the backoff is over; the bucket still needs 1.5 s */
    CHECK_INT_EQ(1, ivs_client_poll(c, 100));
    CHECK_INT_EQ(1, ivs_client_poll(c, 100));
    CHECK_INT_EQ(1, fakesrv_request_count(srv));
    t.now_ms += 1499;
    CHECK_INT_EQ(1, ivs_client_poll(c, 100));
    CHECK_INT_EQ(1, fakesrv_request_count(srv));
    t.now_ms += 1;
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(2, fakesrv_request_count(srv));
    CHECK_INT_EQ(1, out.fired);
    CHECK_INT_EQ(IVS_OK, out.status);
    CHECK_INT_EQ(0, t.sleeps);
    free(out.response);
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_retries_use_real_time_without_a_clock_hook(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    for (int i = 0; i < 2; i++)
        fakesrv_push(srv, &(struct fakesrv_response){.status = 500, .body = "{}"});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{\"streamKeys\":[]}"});
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out = {0};
    struct ivs_error err = {0};
    const char *in = "{\"channelArn\":\"" ARN_PREFIX "abc\"}";
    CHECK_INT_EQ(IVS_OK,
                 ivs_client_start(c, "ListStreamKeys", in, strlen(in), s_record, &out, &err));
    CHECK_INT_EQ(0, s_drain(c, 5000)); /* backoffs are at most 50 + 100 ms */
    CHECK_INT_EQ(3, fakesrv_request_count(srv));
    CHECK_INT_EQ(IVS_OK, out.status);
    CHECK(out.response && strstr(out.response, "streamKeys"));
    free(out.response);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_client_errors_are_not_retried(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(
        srv, &(struct fakesrv_response){
                 .status = 404,
                 .headers =
                     "x-amzn-ErrorType: ResourceNotFoundException\r\nx-amzn-RequestId: rid-404\r\n",
                 .body = "{\"exceptionMessage\":\"no such channel\"}",
             });
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.0};
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, s_start_get_channel(c, 7, &out, &err));
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(1, out.fired);
    CHECK_INT_EQ(IVS_ERR_SERVICE, out.status);
    CHECK_STR_EQ("ResourceNotFoundException", out.code);
    CHECK_INT_EQ(404, out.http_status);
    CHECK_INT_EQ(1, out.attempts);
    CHECK(out.response == NULL);
    CHECK_INT_EQ(1, fakesrv_request_count(srv));
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_network_failures_are_retried_then_reported(void)
{
    /* A port nobody listens on: take one from a server and stop it. */
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_stop(srv);
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.0}; /* zero backoff */
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "ListChannels", NULL, 0, s_record, &out, &err));
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(1, out.fired);
    CHECK_INT_EQ(IVS_ERR_NETWORK, out.status);
    CHECK_STR_EQ("ConnectionError", out.code);
    CHECK_INT_EQ(3, out.attempts);
    CHECK_INT_EQ(0, t.sleeps);
    ivs_client_free(c);
}

static void test_invalid_requests_fail_at_once(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_client_start(c, "GetChannel", "{}", 2, s_record, &out, &err));
    CHECK_STR_EQ("ParamValidationError", err.code);
    CHECK(err.message && strstr(err.message, "arn"));
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 ivs_client_start(c, "GetChannel", "[1]", 3, s_record, &out, &err));
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_client_start(c, "NoSuchThing", "{}", 2, s_record, &out, &err));
    CHECK_STR_EQ("UnknownOperation", err.code);
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_client_start(c, "GetChannel", "{}", 2, NULL, &out, &err));
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_USAGE,
                 ivs_client_start(NULL, "GetChannel", "{}", 2, s_record, &out, &err));
    ivs_error_clear(&err);
    CHECK_INT_EQ(0, ivs_client_in_flight(c));
    CHECK_INT_EQ(0, ivs_client_poll(c, 0));
    CHECK_INT_EQ(0, out.fired);
    CHECK_INT_EQ(0, fakesrv_request_count(srv));
    CHECK_INT_EQ(-1, ivs_client_poll(NULL, 0));
    CHECK_INT_EQ(0, ivs_client_in_flight(NULL));
    ivs_client_cancel_all(NULL);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* Polls until the server has seen `count` requests (the calls are on the wire). */
static int s_poll_until_sent(struct ivs_client *c, struct fakesrv *srv, size_t count)
{
    int64_t end = s_mono_ms() + 5000;
    while (fakesrv_request_count(srv) < count && s_mono_ms() < end)
        ivs_client_poll(c, 10);
    return fakesrv_request_count(srv) >= count;
}

static void test_free_cancels_calls_in_flight(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct echo e = {.delay_ms = 3000};
    fakesrv_set_handler(srv, s_echo_channel, &e);
    struct fake_time t = {.now_ms = 1700000000000LL, .rnd = 0.5};
    fakesrv_push(srv, &(struct fakesrv_response){.status = 503, .body = "{}"}); /* call 0 retries */
    struct ivs_client_options o;
    s_options(&o, url, &t);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out[5] = {{0}};
    struct ivs_error err = {0};
    for (int i = 0; i < 5; i++)
        CHECK_INT_EQ(IVS_OK, s_start_get_channel(c, i, &out[i], &err));
    CHECK(s_poll_until_sent(c, srv, 5));
    /* Every call is now either on the wire (delayed answers) or waiting out a backoff. */
    CHECK_INT_EQ(5, ivs_client_poll(c, 50));
    int64_t t0 = s_mono_ms();
    ivs_client_free(c);
    CHECK_MSG(s_mono_ms() - t0 < 1000, "free waited %lld ms for the server",
              (long long)(s_mono_ms() - t0));
    for (int i = 0; i < 5; i++) {
        CHECK_INT_EQ(1, out[i].fired);
        CHECK_INT_EQ(IVS_ERR_CANCELLED, out[i].status);
        CHECK_STR_EQ("Cancelled", out[i].code);
        CHECK_INT_EQ(1, out[i].attempts);
    }
    CHECK_STR_EQ("cancelled", ivs_status_name(IVS_ERR_CANCELLED));
    fakesrv_stop(srv);
}

static void test_cancel_all_then_keep_using_the_client(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct echo e = {.delay_ms = 3000};
    fakesrv_set_handler(srv, s_echo_channel, &e);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out[3] = {{0}};
    struct ivs_error err = {0};
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(IVS_OK, s_start_get_channel(c, i, &out[i], &err));
    CHECK(s_poll_until_sent(c, srv, 3));
    ivs_client_cancel_all(c);
    CHECK_INT_EQ(0, ivs_client_in_flight(c));
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(IVS_ERR_CANCELLED, out[i].status);
    /* The client is still usable, and no cancelled response leaks into a new call. */
    __atomic_store_n(&e.delay_ms, 0, __ATOMIC_RELAXED);
    struct outcome again = {0};
    CHECK_INT_EQ(IVS_OK, s_start_get_channel(c, 42, &again, &err));
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(IVS_OK, again.status);
    CHECK(again.response && strstr(again.response, "n-ch0042"));
    free(again.response);
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(1, out[i].fired);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* Pages of ListChannels: page n answers nextToken "p<n+1>" until the last. */
struct pager {
    char body[128];
};

static void s_pages(void *ud, const struct fakesrv_request *req, struct fakesrv_response *resp)
{
    struct pager *p = ud;
    int page = 1;
    const char *tok = req->body ? strstr(req->body, "\"nextToken\":\"p") : NULL;
    if (tok)
        page = atoi(tok + strlen("\"nextToken\":\"p"));
    if (page < 5)
        snprintf(p->body, sizeof p->body,
                 "{\"channels\":[{\"name\":\"c%d\"}],\"nextToken\":\"p%d\"}", page, page + 1);
    else
        snprintf(p->body, sizeof p->body, "{\"channels\":[{\"name\":\"c%d\"}]}", page);
    resp->status = 200;
    resp->body = p->body;
}

struct walk {
    struct ivs_client *client;
    int pages;
    int failures;
    int blocking_ok;
    char names[64];
};

static void s_next_page(void *ud, enum ivs_status status, const char *json, size_t len,
                        const struct ivs_error *err)
{
    (void)len;
    (void)err;
    struct walk *w = ud;
    if (status != IVS_OK) {
        w->failures++;
        return;
    }
    w->pages++;
    const char *name = strstr(json, "\"name\":\"");
    if (name)
        strncat(w->names, name + 8, strcspn(name + 8, "\""));
    const char *tok = strstr(json, "\"nextToken\":\"");
    if (!tok)
        return;
    tok += strlen("\"nextToken\":\"");
    char in[96];
    int n = snprintf(in, sizeof in, "{\"nextToken\":\"%.*s\"}", (int)strcspn(tok, "\""), tok);
    struct ivs_error e = {0};
    if (ivs_client_start(w->client, "ListChannels", in, (size_t)n, s_next_page, w, &e) != IVS_OK)
        w->failures++;
    ivs_error_clear(&e);
    if (w->pages == 2) {
        /* A blocking call from inside a callback works too (its own connection). */
        char *out = NULL;
        if (ivs_client_call(w->client, "ListChannels", "{\"nextToken\":\"p5\"}", 18, &out, NULL,
                            &e) == IVS_OK &&
            strstr(out, "c5"))
            w->blocking_ok = 1;
        ivs_free(out);
        ivs_error_clear(&e);
    }
}

static void test_callbacks_may_start_calls(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct pager p;
    fakesrv_set_handler(srv, s_pages, &p);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    struct walk w = {.client = c};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "ListChannels", "{}", 2, s_next_page, &w, &err));
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(5, w.pages);
    CHECK_INT_EQ(0, w.failures);
    CHECK_STR_EQ("c1c2c3c4c5", w.names);
    CHECK_INT_EQ(1, w.blocking_ok);
    CHECK_INT_EQ(6, fakesrv_request_count(srv));
    ivs_client_free(c);
    fakesrv_stop(srv);
}

struct freeing {
    struct ivs_client *client;
    int fired;
    int cancelled;
    enum ivs_status late_start;
};

static void s_free_from_callback(void *ud, enum ivs_status status, const char *json, size_t len,
                                 const struct ivs_error *err)
{
    (void)json;
    (void)len;
    (void)err;
    struct freeing *f = ud;
    f->fired++;
    if (status == IVS_ERR_CANCELLED) {
        f->cancelled++;
        /* Starting on a client being freed is refused, not queued. */
        struct ivs_error e = {0};
        f->late_start =
            ivs_client_start(f->client, "ListChannels", "{}", 2, s_free_from_callback, f, &e);
        ivs_error_clear(&e);
        return;
    }
    ivs_client_free(f->client);
}

static void s_fast_or_slow(void *ud, const struct fakesrv_request *req,
                           struct fakesrv_response *resp)
{
    (void)ud;
    resp->status = 200;
    resp->body = "{\"channels\":[]}";
    resp->delay_ms = strstr(req->body ? req->body : "", "maxResults") ? 3000 : 0;
}

static void test_free_from_a_callback_is_deferred(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_set_handler(srv, s_fast_or_slow, NULL);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    struct freeing f = {.client = c};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "ListChannels", "{\"maxResults\":5}", 16,
                                          s_free_from_callback, &f, &err));
    CHECK_INT_EQ(IVS_OK,
                 ivs_client_start(c, "ListChannels", "{}", 2, s_free_from_callback, &f, &err));
    int64_t end = s_mono_ms() + 5000;
    int n = 2;
    while (n > 0 && s_mono_ms() < end)
        n = ivs_client_poll(c, 50); /* the fast call's callback frees the client */
    CHECK_INT_EQ(0, n);
    CHECK_INT_EQ(2, f.fired);
    CHECK_INT_EQ(1, f.cancelled);
    CHECK_INT_EQ(IVS_ERR_USAGE, f.late_start);
    fakesrv_stop(srv);
}

static void test_poll_zero_never_waits(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){
                          .status = 200, .body = "{\"channels\":[]}", .delay_ms = 500});
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "ListChannels", "{}", 2, s_record, &out, &err));
    enum { MAX_SAMPLES = 4096 };
    static double samples[MAX_SAMPLES];
    int count = 0;
    int64_t end = s_mono_ms() + 5000;
    while (!out.fired && s_mono_ms() < end && count < MAX_SAMPLES) {
        double t0 = s_mono_us();
        ivs_client_poll(c, 0);
        samples[count++] = s_mono_us() - t0;
        struct timespec pause = {0, 1000000}; /* a 1 ms "frame" */
        nanosleep(&pause, NULL);
    }
    CHECK_INT_EQ(1, out.fired);
    CHECK_INT_EQ(IVS_OK, out.status);
    CHECK_MSG(count > 100, "only %d polls while the server waited 500 ms", count);
    double worst = 0;
    int slow = 0;
    for (int i = 0; i < count; i++) {
        if (samples[i] > worst)
            worst = samples[i];
        if (samples[i] > 3000)
            slow++;
    }
    /* A loaded machine may deschedule us once or twice; a poll that waits would show up on
     * every sample. */
    CHECK_MSG(slow <= count / 50, "%d of %d polls took over 3 ms (worst %.0f us)", slow, count,
              worst);
    CHECK_MSG(worst < 50000, "a poll(0) took %.0f us", worst);

    /* A positive timeout bounds the wait when nothing completes. */
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}", .delay_ms = 500});
    CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "ListChannels", "{}", 2, s_record, &out, &err));
    int64_t t0 = s_mono_ms();
    CHECK_INT_EQ(1, ivs_client_poll(c, 100));
    int64_t waited = s_mono_ms() - t0;
    CHECK_MSG(waited >= 90 && waited < 400, "poll(100) returned after %lld ms", (long long)waited);
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(2, out.fired);
    free(out.response);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

static void test_negative_timeout_waits_for_a_callback(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}", .delay_ms = 100});
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    struct outcome out = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "ListChannels", "{}", 2, s_record, &out, &err));
    CHECK_INT_EQ(0, ivs_client_poll(c, -1));
    CHECK_INT_EQ(1, out.fired);
    CHECK(out.response && strcmp(out.response, "{}") == 0);
    CHECK_INT_EQ(0, ivs_client_poll(c, -1)); /* nothing in flight: returns at once */
    free(out.response);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* The cJSON variant the Lua binding uses: the callback owns the output. */
struct json_outcome {
    int fired;
    cJSON *output;
    char code[64];
};

static void s_json_done(void *ud, enum ivs_status status, cJSON *output, struct ivs_error *err)
{
    struct json_outcome *o = ud;
    o->fired++;
    o->output = output;
    if (status != IVS_OK && err) {
        snprintf(o->code, sizeof o->code, "%s", err->code ? err->code : "");
        struct ivs_error mine = {0};
        ivs_error_move(&mine, err); /* taking the error is allowed */
        ivs_error_clear(&mine);
    }
}

static void test_json_variant_hands_over_the_output(void)
{
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200,
                                                 .body = "{\"channels\":[{\"name\":\"a\"}]}"});
    fakesrv_push(srv,
                 &(struct fakesrv_response){.status = 409,
                                            .headers = "x-amzn-ErrorType: ConflictException\r\n",
                                            .body = "{}"});
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    struct ivs_client *c = fixture_client(&o);
    const struct model_operation *op =
        model_find_operation(model_default_service(), "list_channels");
    struct json_outcome ok = {0}, bad = {0};
    struct ivs_error err = {0};
    cJSON *input = cJSON_Parse("{\"maxResults\":2}");
    CHECK_INT_EQ(IVS_OK, client_start_json(c, op, input, s_json_done, &ok, &err));
    cJSON_Delete(input); /* not kept by the call */
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(IVS_OK, client_start_json(c, op, NULL, s_json_done, &bad, &err));
    CHECK_INT_EQ(0, s_drain(c, 5000));
    CHECK_INT_EQ(1, ok.fired);
    const cJSON *channels = cJSON_GetObjectItemCaseSensitive(ok.output, "channels");
    CHECK(cJSON_IsArray(channels) && cJSON_GetArraySize(channels) == 1);
    cJSON_Delete(ok.output);
    CHECK_INT_EQ(1, bad.fired);
    CHECK(bad.output == NULL);
    CHECK_STR_EQ("ConflictException", bad.code);
    CHECK_INT_EQ(IVS_ERR_VALIDATION,
                 client_start_json(c, model_find_operation(model_default_service(), "GetChannel"),
                                   NULL, s_json_done, &ok, &err));
    ivs_error_clear(&err);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

/* The non-blocking path checks a response exactly as the blocking one does (the same text
 * checker, the same limits, the same errors) and hands the text on as the service sent it,
 * never parsed and printed again; the tree variant parses that same checked text once. */
struct same_outcome {
    enum ivs_status status;
    char code[64];
    char message[256];
    long http_status;
    int attempts;
    char *text;
};

static void s_same_record(struct same_outcome *o, enum ivs_status status, const char *json,
                          size_t len, const struct ivs_error *err)
{
    o->status = status;
    if (json) {
        o->text = malloc(len + 1);
        memcpy(o->text, json, len);
        o->text[len] = '\0';
    }
    if (err) {
        snprintf(o->code, sizeof o->code, "%s", err->code ? err->code : "");
        snprintf(o->message, sizeof o->message, "%s", err->message ? err->message : "");
        o->http_status = err->status;
        o->attempts = err->attempts;
    }
}

static void s_same_text(void *ud, enum ivs_status status, const char *json, size_t len,
                        const struct ivs_error *err)
{
    s_same_record(ud, status, json, len, err);
}

static void s_same_tree(void *ud, enum ivs_status status, cJSON *output, struct ivs_error *err)
{
    char *text = output ? cJSON_PrintUnformatted(output) : NULL;
    s_same_record(ud, status, text, text ? strlen(text) : 0, err);
    free(text);
    cJSON_Delete(output);
}

static void test_blocking_and_non_blocking_check_a_body_alike(void)
{
    static const char *const bodies[] = {
        "{ \"channel\" : { \"name\" : \"lobby\", \"n\": 1.50 } }\n", /* passed on verbatim */
        "{\"channel\":{\"name\":\"a\"}} trailing",                   /* junk after the object */
        "{\"channel\":{}}{\"channel\":{}}",                          /* two objects */
        "{\"channel\":{\"name\":",                                   /* cut short */
        "[]",                                                        /* not an object */
        "{\"channel\":{\"name\":\"\\q\"}}",                          /* a bad escape */
        "",                                                          /* nothing: {} */
    };
    struct fakesrv *srv = fakesrv_start();
    if (!srv)
        SKIP("no fake server");
    char url[64];
    fakesrv_url(srv, url, sizeof url);
    struct ivs_client_options o;
    s_options(&o, url, NULL);
    o.max_attempts = 1;
    struct ivs_client *c = fixture_client(&o);
    const struct model_operation *op = model_find_operation(model_default_service(), "GetChannel");
    const char *in = "{\"arn\":\"" ARN_PREFIX "abc\"}";
    cJSON *input = cJSON_Parse(in);
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        for (int k = 0; k < 3; k++)
            fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = bodies[i]});
        struct same_outcome blocking = {0}, text = {0}, tree = {0};
        struct ivs_error err = {0};
        char *out = NULL;
        size_t len = 0;
        enum ivs_status st = ivs_client_call(c, "GetChannel", in, 0, &out, &len, &err);
        s_same_record(&blocking, st, out, len, st == IVS_OK ? NULL : &err);
        ivs_free(out);
        ivs_error_clear(&err);
        CHECK_INT_EQ(IVS_OK, ivs_client_start(c, "GetChannel", in, 0, s_same_text, &text, &err));
        CHECK_INT_EQ(0, s_drain(c, 5000));
        CHECK_INT_EQ(IVS_OK, client_start_json(c, op, input, s_same_tree, &tree, &err));
        CHECK_INT_EQ(0, s_drain(c, 5000));
        const struct same_outcome *got[] = {&text, &tree};
        for (int k = 0; k < 2; k++) {
            CHECK_MSG(got[k]->status == blocking.status, "body %zu, %s: status %d, blocking %d", i,
                      k ? "tree" : "text", (int)got[k]->status, (int)blocking.status);
            CHECK_STR_EQ(blocking.code, got[k]->code);
            CHECK_STR_EQ(blocking.message, got[k]->message);
            CHECK_INT_EQ(blocking.http_status, got[k]->http_status);
            CHECK_INT_EQ(blocking.attempts, got[k]->attempts);
        }
        if (i == 0 || i + 1 == sizeof bodies / sizeof *bodies) {
            CHECK_INT_EQ(IVS_OK, blocking.status);
            CHECK_STR_EQ(i ? "{}" : bodies[0], blocking.text);
            CHECK_STR_EQ(blocking.text, text.text); /* the service's text, not a reprint */
            CHECK_STR_EQ(i ? "{}" : "{\"channel\":{\"name\":\"lobby\",\"n\":1.5}}", tree.text);
        } else {
            CHECK_INT_EQ(IVS_ERR_INTERNAL, blocking.status);
            CHECK_STR_EQ("InvalidResponse", blocking.code);
            CHECK_INT_EQ(200, blocking.http_status);
            CHECK(text.text == NULL && tree.text == NULL);
        }
        free(blocking.text);
        free(text.text);
        free(tree.text);
    }
    cJSON_Delete(input);
    ivs_client_free(c);
    fakesrv_stop(srv);
}

int main(void)
{
    RUN(test_hundred_calls_with_32_in_flight);
    RUN(test_connection_cap_is_honoured);
    RUN(test_retry_backoff_is_a_timer_inside_poll);
    RUN(test_adaptive_rate_limit_is_a_timer_inside_poll);
    RUN(test_retries_use_real_time_without_a_clock_hook);
    RUN(test_client_errors_are_not_retried);
    RUN(test_network_failures_are_retried_then_reported);
    RUN(test_invalid_requests_fail_at_once);
    RUN(test_free_cancels_calls_in_flight);
    RUN(test_cancel_all_then_keep_using_the_client);
    RUN(test_callbacks_may_start_calls);
    RUN(test_free_from_a_callback_is_deferred);
    RUN(test_poll_zero_never_waits);
    RUN(test_negative_timeout_waits_for_a_callback);
    RUN(test_json_variant_hands_over_the_output);
    RUN(test_blocking_and_non_blocking_check_a_body_alike);
    return harness_finish();
}
