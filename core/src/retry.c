#include "retry.h"

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
    int legacy;
    if (!mode || strcmp(mode, "standard") == 0)
        legacy = 0;
    else if (strcmp(mode, "legacy") == 0)
        legacy = 1;
    else
        return ivs_error_set(
            err, IVS_ERR_CONFIG, "InvalidConfig",
            "retry mode \"%.40s\" is not supported; use \"standard\" or \"legacy\"", mode);
    if (max_attempts < 0)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "max_attempts must be at least 1 (got %d)", max_attempts);

    p->legacy = legacy;
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
