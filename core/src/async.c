/* async.c: non-blocking calls. Each call runs the shared call path of client.c (prepare an
 * attempt, finish an attempt) with transfers on the client's multi handle; backoffs are
 * timers checked by ivs_client_poll(). Completed calls wait in a queue and their callbacks
 * fire only once libcurl has returned, so user code (and a Lua error) never unwinds through
 * libcurl, and a callback may start, cancel or poll calls on the same client. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"
#include "errors.h"

struct ivs_call {
    struct ivs_client *client;
    struct call_state cs;
    struct http_async *transfer; /* the attempt on the wire, NULL otherwise */
    int waiting;                 /* a backoff (or rate-limit) timer runs until due_ms */
    int rate_waited;             /* the timer was the adaptive rate limiter's wait */
    int64_t due_ms;              /* in client_timer_now_ms() time */
    /* Exactly one callback: the public one (JSON text), a tree, or the text buffer. */
    ivs_call_done_fn done;
    client_done_json_fn done_json;
    client_done_text_fn done_text;
    void *ud;
    /* Set once complete: the output the callback takes (a tree for done_json, else text). */
    enum ivs_status status;
    cJSON *output;
    struct buf body;
    struct ivs_error err;
    struct ivs_call *prev, *next; /* in c->active, then in the done queue (next only) */
};

static int64_t s_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_link_active(struct ivs_client *c, struct ivs_call *call)
{
    call->prev = NULL;
    call->next = c->active;
    if (c->active)
        c->active->prev = call;
    c->active = call;
}

static void s_unlink_active(struct ivs_client *c, struct ivs_call *call)
{
    if (call->prev)
        call->prev->next = call->next;
    else
        c->active = call->next;
    if (call->next)
        call->next->prev = call->prev;
    call->prev = call->next = NULL;
}

static const char *s_response_header(const void *resp, const char *name)
{
    return http_response_header(resp, name);
}

/* Turns a successful call's response into what its callback takes while the response is still
 * there. The text, checked once by call_finish_attempt exactly as a blocking call's, is moved
 * out, not printed from a tree; only an operation with header-bound members has a tree (they
 * exist nowhere else), printed once. A tree callback gets the one parse of the checked text.
 * A failure here (memory) becomes the call's error. */
static void s_take_output(struct ivs_call *call, cJSON *output)
{
    struct call_state *cs = &call->cs;
    enum ivs_status st = IVS_OK;
    if (cs->raw_output) {
        if (call->done_json)
            st = client_parse_response(cs->op->name, cs->resp.status, cs->resp.body.data,
                                       cs->resp.body.len, s_response_header, &cs->resp,
                                       &call->output, &cs->attempt_err);
        else {
            call->body = cs->resp.body;
            cs->resp.body = (struct buf)BUF_INIT;
        }
    } else if (call->done_json) {
        call->output = output;
        output = NULL;
    } else if (output) {
        char *text = cJSON_PrintUnformatted(output);
        if (text)
            buf_puts(&call->body, text);
        else
            st = ivs_error_nomem(&cs->attempt_err);
        free(text);
    }
    cJSON_Delete(output);
    if (st == IVS_OK && call->done && call->body.len == 0)
        buf_puts(&call->body, "{}"); /* the public text is never empty, as ivs_client_call's */
    if (st == IVS_OK && buf_failed(&call->body)) {
        buf_free(&call->body);
        st = ivs_error_nomem(&cs->attempt_err);
    }
    if (st != IVS_OK) {
        cs->status = st;
        client_scrub_error(call->client, &cs->attempt_err);
    }
}

/* Moves a finished call from the active list to the back of the delivery queue. */
static void s_complete(struct ivs_call *call, cJSON *output)
{
    struct ivs_client *c = call->client;
    s_unlink_active(c, call);
    if (call->cs.status == IVS_OK)
        s_take_output(call, output);
    else
        cJSON_Delete(output);
    call->status = call_end(&call->cs, &call->err);
    if (c->done_tail)
        c->done_tail->next = call;
    else
        c->done_head = call;
    c->done_tail = call;
}

/* After an attempt: complete the call, or arm its backoff timer. */
static void s_after_attempt(struct ivs_call *call, enum ivs_status st)
{
    struct ivs_client *c = call->client;
    cJSON *output = NULL;
    int64_t delay = 0;
    if (call_finish_attempt(c, &call->cs, st, &output, &delay) == CALL_RETRY) {
        call->waiting = 1;
        call->due_ms = client_timer_now_ms(c) + delay;
        return;
    }
    s_complete(call, output);
}

/* Runs from http_multi_perform() once libcurl has returned: only bookkeeping, no user code. */
static void s_on_transfer_done(void *ud, enum ivs_status st, struct ivs_error *err)
{
    struct ivs_call *call = ud;
    call->transfer = NULL;
    if (st != IVS_OK)
        ivs_error_move(&call->cs.attempt_err, err);
    s_after_attempt(call, st);
}

/* Prepares the next attempt and queues it on the multi (sent by the next perform). */
static void s_launch(struct ivs_call *call)
{
    struct ivs_client *c = call->client;
    struct call_state *cs = &call->cs;
    if (call->rate_waited) {
        call->rate_waited = 0;
        call_rate_take(c);
    } else {
        int64_t wait = call_rate_delay_ms(c);
        if (wait > 0) {
            /* Adaptive mode's client-side limit: wait on the timer like a backoff. */
            call->waiting = 1;
            call->rate_waited = 1;
            call->due_ms = client_timer_now_ms(c) + wait;
            return;
        }
    }
    enum ivs_status st = call_prepare_attempt(c, cs);
    if (st == IVS_OK) {
        st = http_multi_start(c->multi, cs->req.method, buf_str(&cs->url), cs->headers,
                              cs->header_count, cs->req.body, cs->req.body ? cs->req.body_len : 0,
                              &cs->resp, s_on_transfer_done, call, &call->transfer,
                              &cs->attempt_err);
        if (st == IVS_OK)
            return;
    }
    s_after_attempt(call, st);
}

/* Sends the retries whose backoff has elapsed. */
static void s_fire_timers(struct ivs_client *c)
{
    int64_t now = 0;
    int have_now = 0;
    for (struct ivs_call *call = c->active, *next; call; call = next) {
        next = call->next; /* s_launch may complete (unlink) the call */
        if (!call->waiting)
            continue;
        if (!have_now) {
            now = client_timer_now_ms(c);
            have_now = 1;
        }
        if (call->due_ms > now)
            continue;
        call->waiting = 0;
        s_launch(call);
    }
}

/* Milliseconds until the earliest backoff timer falls due (0 when one is due); -1 when none
 * is running. */
static int64_t s_next_timer_in(const struct ivs_client *c)
{
    int64_t earliest = 0;
    int found = 0;
    for (const struct ivs_call *call = c->active; call; call = call->next) {
        if (call->waiting && (!found || call->due_ms < earliest)) {
            earliest = call->due_ms;
            found = 1;
        }
    }
    if (!found)
        return -1;
    int64_t in = earliest - client_timer_now_ms(c);
    return in > 0 ? in : 0;
}

static void s_fire_one(struct ivs_call *call)
{
    int ok = call->status == IVS_OK;
    struct ivs_error *err = ok ? NULL : &call->err;
    if (call->done_json) {
        cJSON *output = call->output;
        call->output = NULL;
        call->done_json(call->ud, call->status, output, err);
    } else if (call->done_text) {
        call->done_text(call->ud, call->status, ok ? &call->body : NULL, err);
    } else {
        call->done(call->ud, call->status, ok ? call->body.data : NULL, ok ? call->body.len : 0,
                   err);
    }
}

/* Fires the callbacks of the completed calls, in completion order, including calls that
 * complete meanwhile (a callback cancelling others). Re-entrant: a nested delivery (from a
 * callback that polls or cancels) drains the same queue. Returns how many fired. */
static int s_deliver(struct ivs_client *c)
{
    int fired = 0;
    c->delivering++;
    struct ivs_call *call;
    while ((call = c->done_head)) {
        c->done_head = call->next;
        if (!c->done_head)
            c->done_tail = NULL;
        call->next = NULL;
        c->in_flight--;
        s_fire_one(call);
        cJSON_Delete(call->output);
        buf_free(&call->body);
        ivs_error_clear(&call->err);
        free(call);
        fired++;
    }
    c->delivering--;
    return fired;
}

/* Frees the client when ivs_client_free() was deferred and no callback runs any more.
 * Returns nonzero when it did (the caller must not touch c again). */
static int s_reap(struct ivs_client *c)
{
    if (!c->free_pending || c->delivering)
        return 0;
    client_destroy(c);
    return 1;
}

/* Stops every active call and queues it with a "Cancelled" error. */
static void s_cancel_active(struct ivs_client *c)
{
    while (c->active) {
        struct ivs_call *call = c->active;
        if (call->transfer) {
            http_multi_abort(c->multi, call->transfer);
            call->transfer = NULL;
        }
        call->waiting = 0;
        ivs_error_set(&call->cs.attempt_err, IVS_ERR_CANCELLED, "Cancelled",
                      "%s: the call was cancelled before it completed", call->cs.op->name);
        call->cs.status = IVS_ERR_CANCELLED;
        s_complete(call, NULL);
    }
}

/* Starts a call for exactly one of done, done_json and done_text. */
static enum ivs_status s_start(struct ivs_client *c, const struct model_operation *op,
                               const cJSON *input, ivs_call_done_fn done,
                               client_done_json_fn done_json, client_done_text_fn done_text,
                               void *ud, struct ivs_error *err)
{
    if (c->free_pending)
        return ivs_error_set(err, IVS_ERR_USAGE, "ClientClosing",
                             "%s: the client is being freed; no call can start", op->name);
    struct ivs_call *call = calloc(1, sizeof *call);
    if (!call)
        return ivs_error_nomem(err);
    enum ivs_status st = call_begin(c, op, input, &call->cs, err);
    if (st != IVS_OK) {
        free(call);
        return st;
    }
    if (!c->multi) {
        struct http_options ho;
        client_http_options(c, &ho);
        st = http_multi_new(&ho, c->max_connections, &c->multi, err);
        if (st != IVS_OK) {
            call_end(&call->cs, NULL);
            free(call);
            return st;
        }
    }
    /* The body stays text, checked as a blocking call's is (the same limits, the same errors,
     * trailing bytes refused), unless header-bound members make the tree the output. */
    call->cs.raw_output = !call_output_has_headers(op);
    call->client = c;
    call->done = done;
    call->done_json = done_json;
    call->done_text = done_text;
    call->ud = ud;
    s_link_active(c, call);
    c->in_flight++;
    s_launch(call);
    return IVS_OK;
}

enum ivs_status client_start_json(struct ivs_client *c, const struct model_operation *op,
                                  const cJSON *input, client_done_json_fn done, void *ud,
                                  struct ivs_error *err)
{
    if (!c || c->magic != CLIENT_MAGIC || !op || !done)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "client_start_json: client, operation and callback are required");
    return s_start(c, op, input, NULL, done, NULL, ud, err);
}

enum ivs_status client_start_text(struct ivs_client *c, const struct model_operation *op,
                                  const cJSON *input, client_done_text_fn done, void *ud,
                                  struct ivs_error *err)
{
    if (!c || c->magic != CLIENT_MAGIC || !op || !done)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "client_start_text: client, operation and callback are required");
    return s_start(c, op, input, NULL, NULL, done, ud, err);
}

enum ivs_status ivs_client_start(struct ivs_client *c, const char *operation,
                                 const char *request_json, size_t request_len,
                                 ivs_call_done_fn done, void *ud, struct ivs_error *err)
{
    if (!c || c->magic != CLIENT_MAGIC || !operation || !done)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_client_start: client, operation and done are required");
    const struct model_operation *op;
    cJSON *input;
    enum ivs_status st =
        client_parse_request(c, operation, request_json, request_len, &op, &input, err);
    if (st != IVS_OK)
        return st;
    st = s_start(c, op, input, done, NULL, NULL, ud, err);
    cJSON_Delete(input);
    return st;
}

int ivs_client_poll(struct ivs_client *c, int timeout_ms)
{
    if (!c || c->magic != CLIENT_MAGIC)
        return -1;
    int64_t started = timeout_ms > 0 ? s_monotonic_ms() : 0;
    for (;;) {
        s_fire_timers(c);
        if (c->multi && http_multi_active(c->multi) > 0)
            http_multi_perform(c->multi);
        int fired = s_deliver(c);
        if (s_reap(c))
            return 0;
        if (fired > 0 || c->in_flight == 0 || timeout_ms == 0)
            return c->in_flight;
        int64_t wait = INT_MAX;
        if (timeout_ms > 0) {
            wait = timeout_ms - (s_monotonic_ms() - started);
            if (wait <= 0)
                return c->in_flight;
        }
        int64_t timer = s_next_timer_in(c);
        if (timer >= 0 && timer < wait)
            wait = timer;
        if (wait > 0)
            http_multi_wait(c->multi, (int)wait);
    }
}

int ivs_client_in_flight(const struct ivs_client *c)
{
    return c && c->magic == CLIENT_MAGIC ? c->in_flight : 0;
}

void ivs_client_cancel_all(struct ivs_client *c)
{
    if (!c || c->magic != CLIENT_MAGIC)
        return;
    s_cancel_active(c);
    s_deliver(c);
    s_reap(c);
}

int async_client_shutdown(struct ivs_client *c)
{
    if (c->free_pending)
        return 1; /* already being freed by an outer delivery */
    c->free_pending = 1;
    s_cancel_active(c);
    if (c->delivering)
        return 1; /* the outermost delivery frees the client once its callback returns */
    s_deliver(c);
    return 0;
}
