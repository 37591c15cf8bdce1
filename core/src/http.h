/* http.h: HTTP over libcurl. Two ways to send, which put requests on the wire identically:
 *  - http_conn: one blocking request at a time on one CURL easy handle, whose connection is
 *    reused across requests (keep-alive) unless close_connection is set;
 *  - http_multi: many requests in flight at once on a CURL multi handle, driven by the
 *    caller (http_multi_perform / http_multi_wait) without blocking; connections are shared
 *    through the multi handle's connection cache and capped per host.
 *
 * Proxies: the environment variables libcurl reads (http_proxy, https_proxy/HTTPS_PROXY,
 * all_proxy/ALL_PROXY, no_proxy/NO_PROXY; never HTTP_PROXY) with libcurl's precedence, but
 * read once, when the http_conn or http_multi is created, not on every transfer. TLS peer and host
 * verification are always on. Redirects are never followed. libcurl never adds "Expect:
 * 100-continue" nor a default Content-Type: only the caller's headers (plus Host, User-Agent,
 * Content-Length and, with accept_encoding, Accept-Encoding) go out. An http_conn or http_multi is
 * used by one thread at a time. */
#ifndef IVS_HTTP_H
#define IVS_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "ivs.h"

/* Responses larger than this, counted after decompression (a few kB of gzip can expand to
 * gigabytes), fail with "ResponseTooLarge" (IVS answers are a few kB; a list page of 100
 * channels is well under 1 MiB). */
#define HTTP_MAX_RESPONSE_BYTES (16 * 1024 * 1024)

/* Response headers beyond this in total fail with "ResponseHeaderTooLarge" (an IVS answer
 * has about ten short ones; libcurl itself refuses any one line over 100 KiB). */
#define HTTP_MAX_RESPONSE_HEADER_BYTES (256 * 1024)

struct http_options {
    long connect_timeout_ms; /* 0 = 10000 */
    long timeout_ms;         /* whole request; 0 = 60000 */
    int close_connection;
    const char *ca_bundle;  /* NULL = system store */
    const char *user_agent; /* NULL = libivs/<version> */
    int accept_encoding;    /* nonzero: send Accept-Encoding: gzip, deflate and decode */
    int sensitive_body;     /* nonzero: response bodies hold secrets (buf.sensitive) */
};

struct http_response {
    long status;
    struct buf body;
    /* Every response header in order, names as received. name and value point into
     * header_text (set once the response is complete); the offsets are where they live in it
     * while it still grows. */
    struct http_header_line {
        char *name;
        char *value;
        size_t name_off, value_off;
    } * headers;
    size_t header_count;
    size_t header_cap;
    struct buf header_text; /* every name and value, each NUL-terminated: one block for all */
};

struct http_conn;

/* Creates a blocking connection (opts may be NULL: defaults). */
enum ivs_status http_conn_new(const struct http_options *opts, struct http_conn **out,
                              struct ivs_error *err);
/* Closes the connection and releases the handle; NULL is accepted. */
void http_conn_free(struct http_conn *c);

/*
 * Sends one request and reads the whole response. Returns IVS_OK whenever an HTTP response
 * arrived (whatever its status); IVS_ERR_NETWORK ("ConnectionError") or IVS_ERR_TIMEOUT
 * ("Timeout") when none did. headers must not contain Content-Length (it is computed).
 * body may be NULL (no body). resp is reset first; release it with http_response_cleanup().
 */
enum ivs_status http_perform(struct http_conn *c, const char *method, const char *url,
                             const struct ivs_header *headers, size_t header_count,
                             const void *body, size_t body_len, struct http_response *resp,
                             struct ivs_error *err);

/* Releases what a response holds and zeroes it; NULL is accepted. */
void http_response_cleanup(struct http_response *r);

/* Empties a response but keeps its blocks for the next request (a sensitive body is wiped
 * first); blocks grown past a large response are released. NULL is accepted. */
void http_response_reset(struct http_response *r);

/* The value of the first header with this name (case-insensitive); NULL when absent. */
const char *http_response_header(const struct http_response *r, const char *name);

/* ---------------------------------------------------------------------------------------
 * Non-blocking transfers
 * ------------------------------------------------------------------------------------- */

#define HTTP_DEFAULT_MAX_CONNECTIONS 32

struct http_multi;
struct http_async; /* one transfer in flight, owned by its multi */

/*
 * Called once per transfer from http_multi_perform(), after libcurl has returned (never from
 * inside a libcurl callback), with what http_perform() would have returned: IVS_OK when a
 * response arrived (it is in the resp given to http_multi_start), else the network or
 * timeout error in err (which the callback may move out; it is cleared afterwards). The
 * transfer's handle is already invalid when this runs.
 */
typedef void (*http_done_fn)(void *ud, enum ivs_status st, struct ivs_error *err);

/*
 * Creates a multi. At most max_connections connections are open at once (0 =
 * HTTP_DEFAULT_MAX_CONNECTIONS); transfers beyond that wait inside libcurl for a free
 * connection, and that many idle connections are kept alive for reuse.
 */
enum ivs_status http_multi_new(const struct http_options *opts, int max_connections,
                               struct http_multi **out, struct ivs_error *err);

/* Releases a multi and closes its connections. Every transfer must have completed or been
 * aborted. NULL is accepted. */
void http_multi_free(struct http_multi *m);

/*
 * Queues one request, with the same arguments and checks as http_perform(). url and headers
 * are copied; body and resp are not: both must stay valid until done has run or the
 * transfer was aborted. Nothing is sent before the next http_multi_perform(). On success
 * *out identifies the transfer (for http_multi_abort) until done runs.
 */
enum ivs_status http_multi_start(struct http_multi *m, const char *method, const char *url,
                                 const struct ivs_header *headers, size_t header_count,
                                 const void *body, size_t body_len, struct http_response *resp,
                                 http_done_fn done, void *ud, struct http_async **out,
                                 struct ivs_error *err);

/* Stops a transfer that has not completed; its done callback never runs and its response is
 * released. */
void http_multi_abort(struct http_multi *m, struct http_async *a);

/* Moves every transfer forward as far as it can go without waiting, then runs done for each
 * one that completed. Returns how many transfers are still in flight. */
int http_multi_perform(struct http_multi *m);

/* Waits at most timeout_ms (clamped to >= 0) for network activity or for one of libcurl's
 * own timers to fall due, whichever comes first. Returns 0, or -1 on failure. */
int http_multi_wait(struct http_multi *m, int timeout_ms);

/* How many transfers are in flight. */
int http_multi_active(const struct http_multi *m);

#endif
