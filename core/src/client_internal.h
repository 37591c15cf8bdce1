/* client_internal.h: what client.c (construction, the blocking call) and async.c (the
 * non-blocking calls) share: the client itself and the one call path both drive.
 *
 * A call is: call_begin (validate, serialise, build the URL), then per attempt
 * call_prepare_attempt (credentials, headers, signature) → send (blocking or on the multi)
 * → call_finish_attempt (status → output or error, retry decision and backoff), and finally
 * call_end. The two paths differ only in how they send and how they wait out a backoff. */
#ifndef IVS_CLIENT_INTERNAL_H
#define IVS_CLIENT_INTERNAL_H

#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "client.h"
#include "config.h"
#include "http.h"
#include "ivs.h"
#include "model.h"
#include "retry.h"
#include "sigv4.h"

#define CLIENT_MAGIC 0x49565343u /* "IVSC": catches use of a freed or foreign pointer */

struct ivs_call;

struct ivs_client {
    unsigned magic;
    struct ivs_config cfg;
    struct cred_chain *creds;
    struct http_conn *http;
    struct sigv4_key_cache *keys;
    struct model_pattern_cache *patterns; /* compiled input patterns, for validation */
    struct retry_policy retry;
    struct retry_quota quota;
    struct retry_rate rate; /* adaptive mode's client-side rate limiter */
    char *url_base;         /* scheme://host[:port] */
    char *base_path;        /* path prefix of the endpoint, "" when none */
    char *host;             /* Host header value: host[:port] with the default port left out */
    char *user_agent;
    /* Copies of the secret access key and session token last used to sign: every log line
     * and every error the client hands out is scrubbed of them by value (redact_scrub),
     * whatever a service echoes back. Wiped when replaced or freed. */
    char *known_secrets[2];
    /* sigv4_secret_digest() of known_secrets[0] (valid when secret_digest_set), so signing
     * does not hash the secret again on every call. Wiped when freed. */
    unsigned char secret_digest[32];
    int secret_digest_set;
    ivs_log_fn log;
    void *log_ud;
    int log_level; /* highest level passed to log */
    ivs_clock_fn clock;
    ivs_sleep_fn sleep;
    ivs_random_fn random;
    void *hooks_ud;
    uint64_t rng; /* xorshift state when no random hook is given */
    /* The blocking path's per-call buffers, kept from one call to the next so a call
     * allocates none of them once they have grown to size. s_call takes them and gives them
     * back; a call made while they are taken (from a log hook, say) uses its own. */
    struct call_scratch {
        int taken;
        struct buf wire_path, url;
        struct buf req_path, req_body; /* what the serialised request points into */
        struct http_response resp;
    } scratch;

    /* Non-blocking calls (async.c). */
    int max_connections;
    struct http_multi *multi;               /* created by the first ivs_client_start() */
    struct ivs_call *active;                /* sending or waiting for a retry; doubly linked */
    struct ivs_call *done_head, *done_tail; /* completed, callback not yet fired */
    int in_flight;                          /* active + completed-undelivered */
    int delivering;                         /* depth of nested callback delivery */
    int free_pending;                       /* ivs_client_free() was called from a callback */
};

/* One call from start to end, whichever path drives it. */
struct call_state {
    const struct model_operation *op;
    struct model_request req;
    struct buf wire_path, url;
    struct buf req_path, req_body; /* blocking calls: req's path and body live here */
    struct http_response resp;
    struct ivs_error attempt_err; /* the last attempt's failure */
    enum ivs_status status;       /* the last attempt's outcome */
    int attempt, last_cost;
    int sent; /* the current attempt went to the transport (prepare succeeded) */
    /* The attempt being sent: headers point into sig and the client. */
    struct ivs_header headers[8];
    size_t header_count;
    struct sigv4_result sig;
    int64_t sent_at_ms; /* monotonic */
    /* Set after call_begin(): a successful response is only checked to be one JSON object and
     * stays in resp.body (output is NULL) for a caller who wants the text, not a tree. */
    int raw_output;
    int from_scratch; /* wire_path, url and resp are the client's scratch, given back at the end */
};

enum call_next { CALL_DONE, CALL_RETRY };

/* Whether op's output has members bound to response headers: they exist only in the parsed
 * tree, so such a call cannot set raw_output (its text is the tree printed). */
int call_output_has_headers(const struct model_operation *op);

/* Validates and serialises input for op and builds the URL. On failure cs needs no cleanup
 * and err says why (validation, nomem). */
enum ivs_status call_begin(struct ivs_client *c, const struct model_operation *op,
                           const cJSON *input, struct call_state *cs, struct ivs_error *err);

/* Starts the next attempt: credentials, headers and signature into cs->headers. Returns
 * IVS_OK when the attempt is ready to send (cs->method/url/body from cs->req and cs->url);
 * otherwise the failure is in cs->attempt_err and the caller goes straight to
 * call_finish_attempt(). */
enum ivs_status call_prepare_attempt(struct ivs_client *c, struct call_state *cs);

/*
 * Ends the current attempt. st is what the transport returned (its error already in
 * cs->attempt_err), or the failure of call_prepare_attempt(). On success *output receives the
 * parsed result and CALL_DONE is returned. On failure decides, with the client's policy and
 * quota, whether to retry: CALL_RETRY with the backoff in *delay_ms, or CALL_DONE.
 */
enum call_next call_finish_attempt(struct ivs_client *c, struct call_state *cs, enum ivs_status st,
                                   cJSON **output, int64_t *delay_ms);

/* Adaptive mode: milliseconds to wait before the next attempt may be sent (0: send now, a
 * token was taken). After waiting that long call call_rate_take(). Always 0 in the other
 * modes. */
int64_t call_rate_delay_ms(struct ivs_client *c);
void call_rate_take(struct ivs_client *c);

/* Moves the final error (with its attempt count) into err when the call failed, releases
 * what cs holds and returns the call's status. */
enum ivs_status call_end(struct call_state *cs, struct ivs_error *err);

/* Finds the operation of the client's service (API or snake_case name) and parses the request text
 * (NULL or empty = no input, *input_out NULL); IVS_ERR_USAGE "UnknownOperation" or
 * IVS_ERR_VALIDATION when the text is not a JSON object. The caller deletes *input_out. */
enum ivs_status client_parse_request(const struct ivs_client *c, const char *operation,
                                     const char *request_json, size_t request_len,
                                     const struct model_operation **op_out, cJSON **input_out,
                                     struct ivs_error *err);

/* The transport settings of the client (blocking connection and multi alike). */
void client_http_options(const struct ivs_client *c, struct http_options *out);

/* The time retry timers are measured in: the clock hook when set, else monotonic ms. */
int64_t client_timer_now_ms(const struct ivs_client *c);

/* Logs one line through the client's hook (when its level is enabled). */
/* Masks in err (code and message) every secret the client knows of and every secret shape
 * redact_scrub recognises. Every error the client returns goes through it. */
void client_scrub_error(const struct ivs_client *c, struct ivs_error *err);

void client_log(const struct ivs_client *c, enum ivs_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Cancels the non-blocking calls in flight and releases the multi; called by
 * ivs_client_free(). Returns nonzero when the release must wait because a callback is
 * running (the outermost delivery frees the client). */
int async_client_shutdown(struct ivs_client *c);

/* Releases everything the client holds (ivs_client_free() once no callback is running). */
void client_destroy(struct ivs_client *c);

#endif
