#include "retry.h"

#include <math.h>
#include <string.h>

#include "errors.h"

#define QUOTA_TOKENS 500
#define BACKOFF_CAP_MS 20000
/* x-amz-retry-after may stretch a backoff by at most this much. */
#define RETRY_AFTER_MAX_EXTRA_MS 5000
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Codes the AWS SDKs treat as throttling (botocore's list, IVS's ThrottlingException first). */
static const char *const k_throttling_codes[] = {
    "ThrottlingException",
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
    "EC2ThrottledException",
};

/* PriorRequestNotComplete is on both lists in the SDKs; the throttling list is checked first,
 * so it gets the gentler throttling backoff and cost. */
static const char *const k_transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
};

static int code_in(const char *code, const char *const *list, size_t n)
{
    if (!code)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return 1;
    return 0;
}

enum ivs_status retry_policy_init(struct retry_policy *p, const char *mode, int max_attempts,
                                  int new_retries_2026, struct ivs_error *err)
{
    if (!p)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "retry_policy_init needs a policy");
    memset(p, 0, sizeof *p);
    int legacy = 0, adaptive = 0;
    if (!mode || strcmp(mode, "standard") == 0)
        legacy = 0;
    else if (strcmp(mode, "legacy") == 0)
        legacy = 1;
    else if (strcmp(mode, "adaptive") == 0)
        adaptive = 1;
    else
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "retry mode \"%.40s\" is not supported; use \"standard\", "
                             "\"legacy\" or \"adaptive\"",
                             mode);
    if (max_attempts < 0)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "max_attempts must be at least 1 (got %d)", max_attempts);

    p->legacy = legacy;
    p->adaptive = adaptive;
    p->cap_ms = BACKOFF_CAP_MS;
    p->quota_max = QUOTA_TOKENS;
    if (legacy) {
        /* botocore's legacy handler: 5 attempts, no retry quota, delay rand * 2^(n-1) s.
         * botocore leaves that uncapped; we apply the same 20 s cap as standard mode so a
         * large max_attempts cannot stall a script for minutes. No x-amz-retry-after. */
        p->max_attempts = max_attempts ? max_attempts : 5;
        p->base_transient_ms = p->base_throttle_ms = 1000;
        p->use_quota = 0;
        p->honour_retry_after = 0;
    } else if (new_retries_2026) {
        p->max_attempts = max_attempts ? max_attempts : 3;
        p->base_transient_ms = 50;
        p->base_throttle_ms = 1000;
        p->cost_retry = 14;
        p->cost_throttle = 5;
        p->cost_timeout = 14;
        p->use_quota = 1;
        p->honour_retry_after = 1;
    } else {
        p->max_attempts = max_attempts ? max_attempts : 3;
        p->base_transient_ms = p->base_throttle_ms = 1000;
        p->cost_retry = 5;
        p->cost_throttle = 5;
        p->cost_timeout = 10;
        p->use_quota = 1;
        p->honour_retry_after = 0;
    }
    return IVS_OK;
}

void retry_quota_init(struct retry_quota *q, const struct retry_policy *p)
{
    if (q)
        q->tokens = p ? p->quota_max : QUOTA_TOKENS;
}

enum retry_class retry_classify(const struct ivs_error *err)
{
    if (!err)
        return RETRY_NONE;
    switch (err->kind) {
    case IVS_ERR_TIMEOUT: return RETRY_TIMEOUT;
    case IVS_ERR_NETWORK: return RETRY_TRANSIENT;
    case IVS_ERR_SERVICE: break;
    default: return RETRY_NONE;
    }
    if (err->status == 429 || code_in(err->code, k_throttling_codes, COUNT_OF(k_throttling_codes)))
        return RETRY_THROTTLE;
    if (code_in(err->code, k_transient_codes, COUNT_OF(k_transient_codes)))
        return RETRY_TRANSIENT;
    switch (err->status) {
    case 500:
    case 502:
    case 503:
    case 504: return RETRY_TRANSIENT;
    default: return RETRY_NONE;
    }
}

/* Parses a non-negative decimal integer of milliseconds, spaces around allowed; -1 when the
 * value is not one. Values beyond what matters saturate. */
static int64_t parse_retry_after(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    int64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v < INT64_C(1) << 40)
            v = v * 10 + (*s - '0');
        s++;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    return *s ? -1 : v;
}

int64_t retry_backoff_ms(const struct retry_policy *p, enum retry_class c, int attempt, double rnd,
                         const char *retry_after)
{
    if (!p || c == RETRY_NONE)
        return 0;
    if (attempt < 1)
        attempt = 1;
    if (!(rnd >= 0.0)) /* also catches NaN */
        rnd = 0.0;
    if (rnd >= 1.0)
        rnd = 0.0;
    int64_t ceiling = c == RETRY_THROTTLE ? p->base_throttle_ms : p->base_transient_ms;
    /* base * 2^(attempt-1), stopping as soon as the cap is reached (no overflow). */
    for (int i = 1; i < attempt && ceiling < p->cap_ms; i++)
        ceiling *= 2;
    if (ceiling > p->cap_ms)
        ceiling = p->cap_ms;
    int64_t t = (int64_t)(rnd * (double)ceiling);
    if (p->honour_retry_after && retry_after) {
        int64_t ra = parse_retry_after(retry_after);
        if (ra >= 0) {
            int64_t upper = t + RETRY_AFTER_MAX_EXTRA_MS;
            int64_t wanted = ra < upper ? ra : upper;
            if (wanted > t)
                t = wanted;
        }
    }
    return t;
}

int retry_quota_acquire(struct retry_quota *q, const struct retry_policy *p, enum retry_class c)
{
    if (!q || !p || !p->use_quota || c == RETRY_NONE)
        return 0;
    int cost = c == RETRY_THROTTLE  ? p->cost_throttle
               : c == RETRY_TIMEOUT ? p->cost_timeout
                                    : p->cost_retry;
    if (q->tokens < cost)
        return -1;
    q->tokens -= cost;
    return cost;
}

void retry_quota_on_success(struct retry_quota *q, const struct retry_policy *p, int last_cost)
{
    if (!q || !p || !p->use_quota)
        return;
    int refund = last_cost > 0 ? last_cost : 1;
    q->tokens = q->tokens > p->quota_max - refund ? p->quota_max : q->tokens + refund;
}

/* botocore's adaptive constants (see retry.h). */
#define CUBIC_C 0.4
#define CUBIC_BETA 0.7
#define BUCKET_MIN_RATE 0.5
#define RATE_CAP_SCALE 2.0
#define MEASURE_SMOOTHING 0.8
#define MEASURE_BUCKET_S 0.5

static double cubic_zero_point(double w_max) { return cbrt(w_max * (1.0 - CUBIC_BETA) / CUBIC_C); }

static void bucket_refill(struct retry_rate *r, double now)
{
    double filled = r->tokens + (now - r->last_refill) * r->fill_rate;
    r->tokens = filled < r->capacity ? filled : r->capacity;
    r->last_refill = now;
}

void retry_rate_set_bucket(struct retry_rate *r, double rate, double now)
{
    bucket_refill(r, now);
    r->fill_rate = rate > BUCKET_MIN_RATE ? rate : BUCKET_MIN_RATE;
    r->capacity = rate >= 1.0 ? rate : 1.0;
    if (r->tokens > r->capacity)
        r->tokens = r->capacity;
}

void retry_rate_init(struct retry_rate *r, double now)
{
    memset(r, 0, sizeof *r);
    r->last_fail = now;
    r->k = cubic_zero_point(0.0);
    /* botocore starts the measurement at the whole second, not the half-second bucket. */
    r->last_bucket = floor(now);
    r->last_refill = now;
    r->fill_rate = 1.0;
    r->capacity = 1.0;
}

double retry_rate_acquire(struct retry_rate *r, double now)
{
    if (!r->enabled)
        return 0.0;
    bucket_refill(r, now);
    if (r->tokens >= 1.0) {
        r->tokens -= 1.0;
        return 0.0;
    }
    return (1.0 - r->tokens) / r->fill_rate;
}

void retry_rate_take(struct retry_rate *r, double now)
{
    bucket_refill(r, now);
    r->tokens -= 1.0;
}

double retry_rate_measure(struct retry_rate *r, double t)
{
    double bucket = floor(t / MEASURE_BUCKET_S) * MEASURE_BUCKET_S;
    r->count++;
    if (bucket > r->last_bucket) {
        double current = (double)r->count / (bucket - r->last_bucket);
        r->measured = current * MEASURE_SMOOTHING + r->measured * (1.0 - MEASURE_SMOOTHING);
        r->count = 0;
        r->last_bucket = bucket;
    }
    return r->measured;
}

double retry_rate_cubic_success(const struct retry_rate *r, double t)
{
    double dt = t - r->last_fail - r->k;
    return CUBIC_C * dt * dt * dt + r->w_max;
}

double retry_rate_cubic_error(struct retry_rate *r, double current, double t)
{
    r->w_max = current;
    r->k = cubic_zero_point(current);
    r->last_fail = t;
    return current * CUBIC_BETA;
}

double retry_rate_update(struct retry_rate *r, int throttled, double now)
{
    double measured = retry_rate_measure(r, now);
    double rate;
    if (!throttled) {
        rate = retry_rate_cubic_success(r, now);
    } else {
        double current = !r->enabled || measured < r->fill_rate ? measured : r->fill_rate;
        rate = retry_rate_cubic_error(r, current, now);
        r->enabled = 1;
    }
    double capped = RATE_CAP_SCALE * measured;
    if (capped < rate)
        rate = capped;
    retry_rate_set_bucket(r, rate, now);
    return rate;
}
