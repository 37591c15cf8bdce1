/* retry.h: the retry policy as pure functions (classification, backoff, retry quota).
 * The client's call loop owns the state and does the sleeping; nothing here blocks, reads the
 * clock or draws random numbers, so every decision can be tested with fixed inputs.
 *
 * Parameter sets (standard mode):
 *                          2026 (default)     classic (AWS_NEW_RETRIES_2026=false)
 *   backoff base           50 ms transient,   1 s
 *                          1 s throttling
 *   backoff cap            20 s               20 s
 *   quota                  500 tokens         500 tokens
 *   cost of a retry        14                 5
 *   throttling retry       5                  5
 *   timeout retry          14 (not special)   10
 *   x-amz-retry-after      honoured           ignored
 * Delay before retry n (n = 1 after the first failed attempt):
 *   t = rnd * min(base * 2^(n-1), cap), rnd uniform in [0, 1) ("full jitter").
 *
 * Adaptive mode is standard mode plus a client-side rate limiter (botocore's
 * retries/adaptive.py, bucket.py, throttling.py), with botocore's constants:
 *   CUBIC scale constant C 0.4, beta 0.7, starting W_max 0
 *   token bucket           initial rate 1/s, minimum fill rate 0.5/s, starts empty,
 *                          capacity = rate (at least 1)
 *   rate cap               2 x the measured send rate
 *   send-rate measurement  0.5 s buckets, smoothing 0.8
 * Until the first throttling error nothing is limited; from then on each attempt takes one
 * token from the bucket first.
 */
#ifndef IVS_RETRY_H
#define IVS_RETRY_H

#include <stdint.h>

#include "ivs.h"

enum retry_class {
    RETRY_NONE,      /* not retryable */
    RETRY_TRANSIENT, /* 500/502/503/504, transient codes, connection failures */
    RETRY_THROTTLE,  /* 429 and throttling codes */
    RETRY_TIMEOUT    /* no response within the timeout */
};

struct retry_policy {
    int max_attempts; /* total attempts, first included; >= 1 */
    int legacy;       /* nonzero in "legacy" mode */
    int adaptive;     /* nonzero in "adaptive" mode (standard + the rate limiter) */
    int64_t base_transient_ms, base_throttle_ms, cap_ms;
    int quota_max, cost_retry, cost_throttle, cost_timeout;
    int use_quota;          /* zero: retries never draw from the quota */
    int honour_retry_after; /* nonzero: x-amz-retry-after stretches the backoff */
};

/* The per-client retry token bucket. */
struct retry_quota {
    int tokens;
};

/* The adaptive rate limiter of one client. Times are seconds on any monotonic scale. */
struct retry_rate {
    int enabled; /* a throttling error has been seen: attempts take tokens */
    /* CUBIC */
    double w_max, k, last_fail;
    /* the measured send rate */
    double measured, last_bucket;
    long count;
    /* the token bucket */
    double fill_rate, capacity, tokens, last_refill;
};

/*
 * Fills p for a retry mode: "standard" (or NULL), "legacy" or "adaptive"; anything else is
 * IVS_ERR_CONFIG "InvalidConfig".
 * max_attempts 0 picks the mode's default (3 standard, 5 legacy); a negative value is
 * IVS_ERR_CONFIG "InvalidConfig". new_retries_2026 nonzero selects the 2026 parameters (the
 * default; callers pass 0 only for AWS_NEW_RETRIES_2026=false). Legacy mode ignores it.
 */
enum ivs_status retry_policy_init(struct retry_policy *p, const char *mode, int max_attempts,
                                  int new_retries_2026, struct ivs_error *err);

/* Fills the bucket to the policy's quota_max. */
void retry_quota_init(struct retry_quota *q, const struct retry_policy *p);

/*
 * The retry class of a failed attempt, from err->kind, err->status and err->code:
 * IVS_ERR_TIMEOUT is RETRY_TIMEOUT, IVS_ERR_NETWORK RETRY_TRANSIENT; a service error is
 * RETRY_THROTTLE for status 429 or a throttling code (whatever its status), RETRY_TRANSIENT
 * for 500/502/503/504 or a transient code; everything else (other 4xx, validation, config,
 * credentials, usage, nomem, internal; NULL) is RETRY_NONE.
 */
enum retry_class retry_classify(const struct ivs_error *err);

/*
 * Milliseconds to wait before the next attempt. attempt is the number of attempts made so
 * far (1 after the first failure); rnd is uniform in [0, 1) (clamped into it otherwise).
 * retry_after is the x-amz-retry-after header value (milliseconds) or NULL; when the policy
 * honours it and it is a valid non-negative integer, the result is
 * max(t, min(retry_after, t + 5000)). RETRY_NONE gives 0.
 */
int64_t retry_backoff_ms(const struct retry_policy *p, enum retry_class c, int attempt, double rnd,
                         const char *retry_after);

/*
 * Takes the cost of one retry of class c from the bucket. Returns the tokens taken (remember
 * them for retry_quota_on_success), 0 when the policy has no quota (or c is RETRY_NONE), or
 * -1 when the bucket cannot pay: then do not retry, return the error.
 */
int retry_quota_acquire(struct retry_quota *q, const struct retry_policy *p, enum retry_class c);

/*
 * Refunds after a successful response: last_cost tokens when the call succeeded after a
 * retry (what that last retry took), 1 token when it was not retried (last_cost 0); never
 * above quota_max. A no-op when the policy has no quota.
 */
void retry_quota_on_success(struct retry_quota *q, const struct retry_policy *p, int last_cost);

/* Starts a rate limiter at time now: rate 1, empty bucket, W_max 0, not enabled. */
void retry_rate_init(struct retry_rate *r, double now);

/*
 * Before sending an attempt at time now: 0 when it may go (a token was taken, or the limiter
 * is not enabled yet); otherwise the seconds to wait before asking again (nothing taken).
 */
double retry_rate_acquire(struct retry_rate *r, double now);

/* Takes a token after the wait retry_rate_acquire asked for, even if the clock says it is
 * not quite there (the balance may go below zero and delays the next attempts). */
void retry_rate_take(struct retry_rate *r, double now);

/*
 * After every attempt's outcome (success, error or connection failure) at time now;
 * throttled is nonzero for a throttling error. Measures the send rate, runs CUBIC and sets
 * the bucket's rate to min(CUBIC's rate, 2 x measured). Returns the new bucket rate.
 */
double retry_rate_update(struct retry_rate *r, int throttled, double now);

/* The CUBIC rate at time t after the last throttle (botocore's success_received). */
double retry_rate_cubic_success(const struct retry_rate *r, double t);

/* CUBIC after a throttle at time t while sending at current: W_max = current, K from it,
 * the last failure = t; returns current x beta (botocore's error_received). */
double retry_rate_cubic_error(struct retry_rate *r, double current, double t);

/* Measures one send at time t; returns the smoothed rate (botocore's RateClocker.record). */
double retry_rate_measure(struct retry_rate *r, double t);

/* Sets the bucket's rate at time now, refilling at the old rate first. */
void retry_rate_set_bucket(struct retry_rate *r, double rate, double now);

#endif
