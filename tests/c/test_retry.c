/* test_retry.c: retry classification, backoff and quota with fixed random numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "buf.h"
#include "harness.h"
#include "retry.h"

static struct retry_policy policy(const char *mode, int max_attempts, int new2026)
{
    struct retry_policy p;
    struct ivs_error err = {0};
    enum ivs_status st = retry_policy_init(&p, mode, max_attempts, new2026, &err);
    CHECK_INT_EQ(IVS_OK, st);
    ivs_error_clear(&err);
    return p;
}

static void test_2026_parameters_are_the_default(void)
{
    struct retry_policy p = policy(NULL, 0, 1);
    CHECK_INT_EQ(3, p.max_attempts);
    CHECK_INT_EQ(0, p.legacy);
    CHECK_INT_EQ(50, p.base_transient_ms);
    CHECK_INT_EQ(1000, p.base_throttle_ms);
    CHECK_INT_EQ(20000, p.cap_ms);
    CHECK_INT_EQ(500, p.quota_max);
    CHECK_INT_EQ(14, p.cost_retry);
    CHECK_INT_EQ(5, p.cost_throttle);
    CHECK_INT_EQ(14, p.cost_timeout);
    CHECK(p.use_quota);
    CHECK(p.honour_retry_after);
    struct retry_policy s = policy("standard", 0, 1);
    CHECK(memcmp(&p, &s, sizeof p) == 0);
}

static void test_classic_parameters(void)
{
    struct retry_policy p = policy("standard", 0, 0);
    CHECK_INT_EQ(3, p.max_attempts);
    CHECK_INT_EQ(1000, p.base_transient_ms);
    CHECK_INT_EQ(1000, p.base_throttle_ms);
    CHECK_INT_EQ(20000, p.cap_ms);
    CHECK_INT_EQ(500, p.quota_max);
    CHECK_INT_EQ(5, p.cost_retry);
    CHECK_INT_EQ(5, p.cost_throttle);
    CHECK_INT_EQ(10, p.cost_timeout);
    CHECK(p.use_quota);
    CHECK(!p.honour_retry_after);
}

static void test_legacy_mode(void)
{
    for (int flag = 0; flag <= 1; flag++) {
        struct retry_policy p = policy("legacy", 0, flag);
        CHECK_INT_EQ(5, p.max_attempts);
        CHECK(p.legacy);
        CHECK(!p.use_quota);
        CHECK(!p.honour_retry_after);
        CHECK_INT_EQ(1000, p.base_transient_ms);
        CHECK_INT_EQ(1000, p.base_throttle_ms);
        CHECK_INT_EQ(20000, p.cap_ms);
        struct retry_quota q;
        retry_quota_init(&q, &p);
        for (int i = 0; i < 1000; i++)
            CHECK_INT_EQ(0, retry_quota_acquire(&q, &p, RETRY_TRANSIENT));
        CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_TRANSIENT, 1, 0.5, NULL));
        CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, NULL));
        CHECK_INT_EQ(7999, retry_backoff_ms(&p, RETRY_TRANSIENT, 4, 0.999999, NULL));
        CHECK_INT_EQ(20000 / 2, retry_backoff_ms(&p, RETRY_TIMEOUT, 9, 0.5, "30000"));
    }
    CHECK_INT_EQ(2, policy("legacy", 2, 1).max_attempts);
}

static void test_max_attempts_and_invalid_config(void)
{
    CHECK_INT_EQ(1, policy(NULL, 1, 1).max_attempts);
    CHECK_INT_EQ(10, policy("standard", 10, 0).max_attempts);
    struct retry_policy p;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_ERR_CONFIG, retry_policy_init(&p, NULL, -1, 1, &err));
    CHECK_STR_EQ("InvalidConfig", err.code);
    ivs_error_clear(&err);
    const char *bad[] = {"Adaptive", "Standard", "", "fast", "legacy "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT_EQ(IVS_ERR_CONFIG, retry_policy_init(&p, bad[i], 0, 1, &err));
        CHECK_STR_EQ("InvalidConfig", err.code);
        CHECK(err.message && strstr(err.message, "standard") && strstr(err.message, "legacy"));
        ivs_error_clear(&err);
    }
    CHECK_INT_EQ(IVS_ERR_CONFIG, retry_policy_init(&p, "Adaptive", 0, 1, NULL));
}

/* Adaptive is standard mode (same parameters) plus the rate limiter. */
static void test_adaptive_mode(void)
{
    struct retry_policy a = policy("adaptive", 0, 1);
    struct retry_policy s = policy("standard", 0, 1);
    CHECK_INT_EQ(1, a.adaptive);
    CHECK_INT_EQ(0, s.adaptive);
    a.adaptive = 0;
    CHECK(memcmp(&a, &s, sizeof a) == 0);
    CHECK_INT_EQ(0, policy("legacy", 0, 1).adaptive);
}

#define CHECK_NEAR(expected, actual)                                                               \
    CHECK_MSG(fabs((expected) - (actual)) < 1e-5, "%s: expected %.7f, got %.7f", #actual,          \
              (double)(expected), (double)(actual))

/* botocore's own vectors (PROVIDERS.md 7.7, observed with its classes and a fake clock). */
static void test_adaptive_cubic_vectors(void)
{
    struct retry_rate r;
    retry_rate_init(&r, 0.0);
    /* Before any throttle: W_max 0, K 0, last failure at the start. */
    CHECK_NEAR(0.4, retry_rate_cubic_success(&r, 1.0));
    CHECK_NEAR(3.2, retry_rate_cubic_success(&r, 2.0));
    CHECK_NEAR(7.0, retry_rate_cubic_error(&r, 10.0, 10.0));
    CHECK_NEAR(1.9574338, r.k);
    const double t[] = {10, 11, 12, 13, 15};
    const double want[] = {7.0, 9.648936, 10.000031, 10.453285, 21.266268};
    for (size_t i = 0; i < 5; i++)
        CHECK_NEAR(want[i], retry_rate_cubic_success(&r, t[i]));
}

static void test_adaptive_rate_measurement(void)
{
    struct retry_rate r;
    retry_rate_init(&r, 0.0);
    const double t[] = {0.1, 0.2, 0.3, 0.6, 0.7, 1.1, 1.6, 2.05};
    const double want[] = {0, 0, 0, 6.4, 6.4, 4.48, 2.496, 2.0992};
    for (size_t i = 0; i < 8; i++)
        CHECK_NEAR(want[i], retry_rate_measure(&r, t[i]));
}

static void test_adaptive_bucket(void)
{
    struct retry_rate r;
    retry_rate_init(&r, 100.0);
    /* Not enabled: nothing is limited, nothing taken. */
    for (int i = 0; i < 10; i++)
        CHECK_NEAR(0.0, retry_rate_acquire(&r, 100.0));
    retry_rate_set_bucket(&r, 0.2, 100.0);
    CHECK_NEAR(0.5, r.fill_rate);
    CHECK_NEAR(1.0, r.capacity);
    retry_rate_set_bucket(&r, 7.5, 100.0);
    CHECK_NEAR(7.5, r.fill_rate);
    CHECK_NEAR(7.5, r.capacity);
    /* Enabled, empty at 100 s, filling at 7.5/s: a token is 1/7.5 s away. */
    r.enabled = 1;
    CHECK_NEAR(0.0, r.tokens);
    CHECK_NEAR(1.0 / 7.5, retry_rate_acquire(&r, 100.0));
    CHECK_NEAR(0.0, r.tokens); /* nothing taken while waiting */
    CHECK_NEAR(0.0, retry_rate_acquire(&r, 100.0 + 1.0 / 7.5 + 1e-9));
    CHECK_NEAR(0.0, r.tokens);
    /* A full second later the bucket holds 7.5 (its capacity), not more. */
    CHECK_NEAR(0.0, retry_rate_acquire(&r, 102.0));
    CHECK_NEAR(6.5, r.tokens);
    /* Lowering the rate clips the balance to the new capacity. */
    retry_rate_set_bucket(&r, 2.0, 102.0);
    CHECK_NEAR(2.0, r.tokens);
    retry_rate_take(&r, 102.0);
    retry_rate_take(&r, 102.0);
    retry_rate_take(&r, 102.0);
    CHECK_NEAR(-1.0, r.tokens);
    CHECK_NEAR(1.0, retry_rate_acquire(&r, 102.0)); /* 2 tokens short at 2/s */
}

/* A throttle enables the limiter at 0.7 x the measured rate (capped at 2 x measured), and
 * successes then grow the rate along the cubic curve. */
/* The same script through botocore's classes (tests/oracle/botocore_adaptive.py) and through
 * retry_rate_update: the bucket rate, the measured rate and the enabled flag agree after
 * every outcome. */
static void test_adaptive_matches_botocore(void)
{
    if (system("python3 -c 'import botocore' >/dev/null 2>&1") != 0)
        SKIP("python3 with botocore is not installed");
    /* Bursts of sends with throttles among them, at uneven times. */
    struct buf script = BUF_INIT;
    double t[80];
    int thr[80];
    const double start = 5000.25;
    double now = start;
    buf_printf(&script, "{\"start\": %.17g, \"events\": [", start);
    for (int i = 0; i < 80; i++) {
        now += (i % 7 == 0) ? 0.9 : (i % 3 == 0 ? 0.05 : 0.13);
        t[i] = now;
        thr[i] = (i >= 10 && i < 14) || i == 30 || i == 31 || i == 55 || (i > 70 && i % 2);
        buf_printf(&script, "%s[%.17g, %s]", i ? ", " : "", t[i], thr[i] ? "true" : "false");
    }
    buf_puts(&script, "]}");
    char in_path[] = "/tmp/ivs-adaptive-XXXXXX";
    int fd = mkstemp(in_path);
    CHECK(fd >= 0);
    if (fd < 0) {
        buf_free(&script);
        return;
    }
    CHECK(write(fd, script.data, script.len) == (ssize_t)script.len);
    close(fd);
    buf_free(&script);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 '%s/tests/oracle/botocore_adaptive.py' < '%s'",
             harness_root(), in_path);
    FILE *p = popen(cmd, "r");
    struct buf out = BUF_INIT;
    char chunk[4096];
    size_t n;
    while (p && (n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(&out, chunk, n);
    int st = p ? pclose(p) : -1;
    unlink(in_path);
    CHECK_INT_EQ(0, st);
    cJSON *o = cJSON_Parse(buf_str(&out));
    const cJSON *rates = cJSON_GetObjectItemCaseSensitive(o, "rates");
    const cJSON *measured = cJSON_GetObjectItemCaseSensitive(o, "measured");
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(o, "enabled");
    CHECK_MSG(cJSON_GetArraySize(rates) == 80, "oracle said: %.200s", buf_str(&out));
    struct retry_rate r;
    retry_rate_init(&r, start);
    for (int i = 0; i < 80 && cJSON_GetArraySize(rates) == 80 && !harness_current_failed(); i++) {
        retry_rate_update(&r, thr[i], t[i]);
        double want = cJSON_GetArrayItem(rates, i)->valuedouble;
        double want_m = cJSON_GetArrayItem(measured, i)->valuedouble;
        CHECK_MSG(fabs(want - r.fill_rate) <= 1e-9 * (1 + fabs(want)),
                  "event %d: bucket rate %.12f, botocore %.12f", i, r.fill_rate, want);
        CHECK_MSG(fabs(want_m - r.measured) <= 1e-9 * (1 + fabs(want_m)),
                  "event %d: measured %.12f, botocore %.12f", i, r.measured, want_m);
        CHECK_INT_EQ(cJSON_IsTrue(cJSON_GetArrayItem(enabled, i)), r.enabled);
    }
    cJSON_Delete(o);
    buf_free(&out);
}

static void test_adaptive_update(void)
{
    struct retry_rate r;
    retry_rate_init(&r, 0.0);
    /* Ten sends a second for two seconds, all fine. */
    double rate = 0;
    for (int i = 1; i <= 20; i++)
        rate = retry_rate_update(&r, 0, i * 0.1);
    CHECK_INT_EQ(0, r.enabled);
    CHECK(rate > 0);
    double measured = r.measured;
    CHECK(measured > 9.0 && measured < 10.5);
    rate = retry_rate_update(&r, 1, 2.05);
    CHECK_INT_EQ(1, r.enabled);
    CHECK_NEAR(r.measured * 0.7, rate);
    CHECK_NEAR(r.measured, r.w_max);
    CHECK_NEAR(2.05, r.last_fail);
    CHECK_NEAR(rate, r.fill_rate);
    /* Right after the throttle CUBIC sits at W_max * beta; at K it is back at W_max. */
    double k = r.k, w = r.w_max;
    CHECK_NEAR(w, retry_rate_cubic_success(&r, 2.05 + k));
    /* A second throttle while enabled uses min(measured, the bucket's rate). */
    double fill = r.fill_rate;
    rate = retry_rate_update(&r, 1, 2.06);
    CHECK_NEAR((r.measured < fill ? r.measured : fill) * 0.7, rate);
}

static void test_backoff_2026(void)
{
    struct retry_policy p = policy(NULL, 0, 1);
    /* Transient: 50 ms * 2^(n-1), full jitter. */
    CHECK_INT_EQ(0, retry_backoff_ms(&p, RETRY_TRANSIENT, 1, 0.0, NULL));
    CHECK_INT_EQ(25, retry_backoff_ms(&p, RETRY_TRANSIENT, 1, 0.5, NULL));
    CHECK_INT_EQ(49, retry_backoff_ms(&p, RETRY_TRANSIENT, 1, 0.999, NULL));
    CHECK_INT_EQ(50, retry_backoff_ms(&p, RETRY_TRANSIENT, 2, 0.5, NULL));
    CHECK_INT_EQ(100, retry_backoff_ms(&p, RETRY_TRANSIENT, 3, 0.5, NULL));
    CHECK_INT_EQ(75, retry_backoff_ms(&p, RETRY_TRANSIENT, 3, 0.375, NULL));
    /* Timeouts back off like transient errors. */
    CHECK_INT_EQ(100, retry_backoff_ms(&p, RETRY_TIMEOUT, 3, 0.5, NULL));
    /* Throttling: 1 s base. */
    CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, NULL));
    CHECK_INT_EQ(1000, retry_backoff_ms(&p, RETRY_THROTTLE, 2, 0.5, NULL));
    CHECK_INT_EQ(8000, retry_backoff_ms(&p, RETRY_THROTTLE, 5, 0.5, NULL));
    /* The cap applies before the jitter: 2^5 s = 32 s becomes 20 s. */
    CHECK_INT_EQ(10000, retry_backoff_ms(&p, RETRY_THROTTLE, 6, 0.5, NULL));
    CHECK_INT_EQ(19998, retry_backoff_ms(&p, RETRY_THROTTLE, 6, 0.9999, NULL));
    /* 50 ms * 2^8 = 12.8 s is under the cap; 50 ms * 2^9 = 25.6 s is capped too. */
    CHECK_INT_EQ(6400, retry_backoff_ms(&p, RETRY_TRANSIENT, 9, 0.5, NULL));
    CHECK_INT_EQ(10000, retry_backoff_ms(&p, RETRY_TRANSIENT, 10, 0.5, NULL));
    CHECK_INT_EQ(10000, retry_backoff_ms(&p, RETRY_TRANSIENT, 5000, 0.5, NULL));
    CHECK_INT_EQ(0, retry_backoff_ms(&p, RETRY_NONE, 2, 0.5, NULL));
    /* Out-of-range random numbers cannot produce a delay beyond the ceiling. */
    CHECK(retry_backoff_ms(&p, RETRY_THROTTLE, 1, 7.0, NULL) < 1000);
    CHECK(retry_backoff_ms(&p, RETRY_THROTTLE, 1, -1.0, NULL) >= 0);
}

static void test_backoff_classic(void)
{
    struct retry_policy p = policy(NULL, 0, 0);
    CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_TRANSIENT, 1, 0.5, NULL));
    CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, NULL));
    CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_TIMEOUT, 1, 0.5, NULL));
    CHECK_INT_EQ(1000, retry_backoff_ms(&p, RETRY_TRANSIENT, 2, 0.5, NULL));
    CHECK_INT_EQ(3999, retry_backoff_ms(&p, RETRY_TRANSIENT, 3, 1.0 - 1e-12, NULL));
    CHECK_INT_EQ(10000, retry_backoff_ms(&p, RETRY_TRANSIENT, 20, 0.5, NULL));
    /* x-amz-retry-after is not part of the classic behaviour. */
    CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, "3000"));
}

static void test_retry_after_clamping(void)
{
    struct retry_policy p = policy(NULL, 0, 1);
    /* t = 500 (throttle, attempt 1, rnd .5). */
    CHECK_INT_EQ(3000, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, "3000"));
    /* Never shorter than the computed backoff. */
    CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, "100"));
    CHECK_INT_EQ(500, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, "0"));
    /* Never more than 5 s beyond it. */
    CHECK_INT_EQ(5500, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, "60000"));
    CHECK_INT_EQ(5500, retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, "99999999999999999999999"));
    CHECK_INT_EQ(5025, retry_backoff_ms(&p, RETRY_TRANSIENT, 1, 0.5, "5025"));
    CHECK_INT_EQ(5025, retry_backoff_ms(&p, RETRY_TRANSIENT, 1, 0.5, " 5025 "));
    CHECK_INT_EQ(5025, retry_backoff_ms(&p, RETRY_TRANSIENT, 1, 0.5, "9000"));
    /* Invalid values are ignored. */
    const char *invalid[] = {"", "abc", "-3000", "3000ms", "1.5", "3 000", "+3000", "0x10"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        CHECK_MSG(retry_backoff_ms(&p, RETRY_THROTTLE, 1, 0.5, invalid[i]) == 500,
                  "value \"%s\" was not ignored", invalid[i]);
    /* The header does not turn a non-retryable failure into a wait. */
    CHECK_INT_EQ(0, retry_backoff_ms(&p, RETRY_NONE, 1, 0.5, "3000"));
}

static void test_quota_2026_drains_and_refills(void)
{
    struct retry_policy p = policy(NULL, 0, 1);
    struct retry_quota q;
    retry_quota_init(&q, &p);
    CHECK_INT_EQ(500, q.tokens);
    CHECK_INT_EQ(14, retry_quota_acquire(&q, &p, RETRY_TRANSIENT));
    CHECK_INT_EQ(14, retry_quota_acquire(&q, &p, RETRY_TIMEOUT));
    CHECK_INT_EQ(5, retry_quota_acquire(&q, &p, RETRY_THROTTLE));
    CHECK_INT_EQ(0, retry_quota_acquire(&q, &p, RETRY_NONE));
    CHECK_INT_EQ(467, q.tokens);
    /* 467 = 33 * 14 + 5: 33 more transient retries, then only a throttling one fits. */
    for (int i = 0; i < 33; i++)
        CHECK_INT_EQ(14, retry_quota_acquire(&q, &p, RETRY_TRANSIENT));
    CHECK_INT_EQ(5, q.tokens);
    CHECK_INT_EQ(-1, retry_quota_acquire(&q, &p, RETRY_TRANSIENT));
    CHECK_INT_EQ(5, q.tokens);
    CHECK_INT_EQ(5, retry_quota_acquire(&q, &p, RETRY_THROTTLE));
    CHECK_INT_EQ(-1, retry_quota_acquire(&q, &p, RETRY_THROTTLE));
    CHECK_INT_EQ(0, q.tokens);
    /* Success without retry refunds 1; after a retry, what the last retry took. */
    retry_quota_on_success(&q, &p, 0);
    CHECK_INT_EQ(1, q.tokens);
    retry_quota_on_success(&q, &p, 14);
    CHECK_INT_EQ(15, q.tokens);
    CHECK_INT_EQ(14, retry_quota_acquire(&q, &p, RETRY_TRANSIENT));
    for (int i = 0; i < 600; i++)
        retry_quota_on_success(&q, &p, 0);
    CHECK_INT_EQ(500, q.tokens);
    retry_quota_on_success(&q, &p, 14);
    CHECK_INT_EQ(500, q.tokens);
}

static void test_quota_classic_costs(void)
{
    struct retry_policy p = policy("standard", 0, 0);
    struct retry_quota q;
    retry_quota_init(&q, &p);
    CHECK_INT_EQ(5, retry_quota_acquire(&q, &p, RETRY_TRANSIENT));
    CHECK_INT_EQ(5, retry_quota_acquire(&q, &p, RETRY_THROTTLE));
    CHECK_INT_EQ(10, retry_quota_acquire(&q, &p, RETRY_TIMEOUT));
    CHECK_INT_EQ(480, q.tokens);
    int taken = 0;
    while (retry_quota_acquire(&q, &p, RETRY_TIMEOUT) == 10)
        taken++;
    CHECK_INT_EQ(48, taken);
    CHECK_INT_EQ(0, q.tokens);
    CHECK_INT_EQ(-1, retry_quota_acquire(&q, &p, RETRY_TRANSIENT));
    retry_quota_on_success(&q, &p, 10);
    CHECK_INT_EQ(10, q.tokens);
    CHECK_INT_EQ(10, retry_quota_acquire(&q, &p, RETRY_TIMEOUT));
}

static enum retry_class classify(enum ivs_status kind, long status, const char *code)
{
    struct ivs_error e = {0};
    e.kind = kind;
    e.status = status;
    e.code = (char *)code; /* only read */
    return retry_classify(&e);
}

static void test_classification_by_status(void)
{
    static const struct {
        long status;
        enum retry_class expected;
    } table[] = {
        {200, RETRY_NONE},      {301, RETRY_NONE}, {400, RETRY_NONE},      {401, RETRY_NONE},
        {402, RETRY_NONE},      {403, RETRY_NONE}, {404, RETRY_NONE},      {405, RETRY_NONE},
        {408, RETRY_NONE},      {409, RETRY_NONE}, {413, RETRY_NONE},      {429, RETRY_THROTTLE},
        {500, RETRY_TRANSIENT}, {501, RETRY_NONE}, {502, RETRY_TRANSIENT}, {503, RETRY_TRANSIENT},
        {504, RETRY_TRANSIENT}, {505, RETRY_NONE},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        enum retry_class got = classify(IVS_ERR_SERVICE, table[i].status, "SomeUnknownException");
        CHECK_MSG(got == table[i].expected, "status %ld: expected %d, got %d", table[i].status,
                  (int)table[i].expected, (int)got);
    }
}

static void test_classification_by_code(void)
{
    /* IVS's own errors with their modelled statuses. */
    CHECK_INT_EQ(RETRY_THROTTLE, classify(IVS_ERR_SERVICE, 429, "ThrottlingException"));
    CHECK_INT_EQ(RETRY_TRANSIENT, classify(IVS_ERR_SERVICE, 500, "InternalServerException"));
    CHECK_INT_EQ(RETRY_TRANSIENT, classify(IVS_ERR_SERVICE, 503, "ServiceUnavailable"));
    CHECK_INT_EQ(RETRY_TRANSIENT, classify(IVS_ERR_SERVICE, 503, "StreamUnavailable"));
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 400, "ValidationException"));
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 403, "AccessDeniedException"));
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 403, "PendingVerification"));
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 404, "ResourceNotFoundException"));
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 404, "ChannelNotBroadcasting"));
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 409, "ConflictException"));
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 402, "ServiceQuotaExceededException"));
    /* Throttling codes win whatever the status. */
    const char *throttling[] = {"ThrottlingException",
                                "Throttling",
                                "ThrottledException",
                                "RequestThrottledException",
                                "TooManyRequestsException",
                                "ProvisionedThroughputExceededException",
                                "TransactionInProgressException",
                                "RequestLimitExceeded",
                                "BandwidthLimitExceeded",
                                "LimitExceededException",
                                "RequestThrottled",
                                "SlowDown",
                                "PriorRequestNotComplete",
                                "EC2ThrottledException"};
    for (size_t i = 0; i < sizeof throttling / sizeof throttling[0]; i++) {
        CHECK_MSG(classify(IVS_ERR_SERVICE, 400, throttling[i]) == RETRY_THROTTLE, "%s",
                  throttling[i]);
        CHECK_MSG(classify(IVS_ERR_SERVICE, 409, throttling[i]) == RETRY_THROTTLE, "%s",
                  throttling[i]);
    }
    CHECK_INT_EQ(RETRY_TRANSIENT, classify(IVS_ERR_SERVICE, 400, "RequestTimeout"));
    CHECK_INT_EQ(RETRY_TRANSIENT, classify(IVS_ERR_SERVICE, 408, "RequestTimeoutException"));
    /* Codes are exact: no prefix or case folding here. */
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 400, "throttlingexception"));
    CHECK_INT_EQ(RETRY_NONE, classify(IVS_ERR_SERVICE, 400, NULL));
}

static void test_classification_by_kind(void)
{
    CHECK_INT_EQ(RETRY_TRANSIENT, classify(IVS_ERR_NETWORK, 0, "ConnectionError"));
    CHECK_INT_EQ(RETRY_TIMEOUT, classify(IVS_ERR_TIMEOUT, 0, "Timeout"));
    /* Local failures are never retried, even with a status or code that would be. */
    const enum ivs_status never[] = {
        IVS_OK,        IVS_ERR_VALIDATION, IVS_ERR_CONFIG,  IVS_ERR_CREDENTIALS,
        IVS_ERR_USAGE, IVS_ERR_NOMEM,      IVS_ERR_INTERNAL};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        CHECK_MSG(classify(never[i], 503, "ThrottlingException") == RETRY_NONE, "kind %d",
                  (int)never[i]);
        CHECK_MSG(classify(never[i], 0, NULL) == RETRY_NONE, "kind %d", (int)never[i]);
    }
    CHECK_INT_EQ(RETRY_NONE, retry_classify(NULL));
}

int main(void)
{
    RUN(test_2026_parameters_are_the_default);
    RUN(test_classic_parameters);
    RUN(test_legacy_mode);
    RUN(test_max_attempts_and_invalid_config);
    RUN(test_adaptive_mode);
    RUN(test_adaptive_cubic_vectors);
    RUN(test_adaptive_rate_measurement);
    RUN(test_adaptive_bucket);
    RUN(test_adaptive_update);
    RUN(test_adaptive_matches_botocore);
    RUN(test_backoff_2026);
    RUN(test_backoff_classic);
    RUN(test_retry_after_clamping);
    RUN(test_quota_2026_drains_and_refills);
    RUN(test_quota_classic_costs);
    RUN(test_classification_by_status);
    RUN(test_classification_by_code);
    RUN(test_classification_by_kind);
    return harness_finish();
}
