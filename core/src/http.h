/* http.h: HTTP over libcurl. One connection (a CURL easy handle) per http_conn, reused across
 * requests (keep-alive) unless close_connection is set.
 *
 * Proxies: libcurl's own environment handling applies (http_proxy, https_proxy/HTTPS_PROXY,
 * all_proxy, no_proxy); nothing here overrides it. TLS peer and host verification are always
 * on. Redirects are never followed. libcurl never adds "Expect: 100-continue" nor a default
 * Content-Type: only the caller's headers (plus Host, User-Agent, Content-Length and, with
 * accept_encoding, Accept-Encoding) go out. An http_conn is used by one thread at a time. */
#ifndef IVS_HTTP_H
#define IVS_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "ivs.h"

struct http_options {
    long connect_timeout_ms; /* 0 = 10000 */
    long timeout_ms;         /* whole request; 0 = 60000 */
    int close_connection;
    const char *ca_bundle;   /* NULL = system store */
    const char *user_agent;  /* NULL = libivs/<version> */
    int accept_encoding;     /* nonzero: send Accept-Encoding: gzip, deflate and decode */
};

struct http_response {
    long status;
    struct buf body;
    /* Every response header in order, names as received. */
    struct http_header_line {
        char *name;
        char *value;
    } *headers;
    size_t header_count;
    size_t header_cap;
};

struct http_conn;

enum ivs_status http_conn_new(const struct http_options *opts, struct http_conn **out, struct ivs_error *err);
void http_conn_free(struct http_conn *c);

/*
 * Sends one request and reads the whole response. Returns IVS_OK whenever an HTTP response
 * arrived (whatever its status); IVS_ERR_NETWORK ("ConnectionError") or IVS_ERR_TIMEOUT
 * ("Timeout") when none did. headers must not contain Content-Length (it is computed).
 * body may be NULL (no body). resp is reset first; release it with http_response_cleanup().
 */
enum ivs_status http_perform(struct http_conn *c, const char *method, const char *url,
                             const struct ivs_header *headers, size_t header_count, const void *body,
                             size_t body_len, struct http_response *resp, struct ivs_error *err);

void http_response_cleanup(struct http_response *r);

/* The value of the first header with this name (case-insensitive); NULL when absent. */
const char *http_response_header(const struct http_response *r, const char *name);

#endif
