/* fakesrv.h: a tiny scripted HTTP/1.1 server on 127.0.0.1 for the C tests.
 *
 * It listens on a free loopback port, serves every accepted connection on its own thread with
 * keep-alive, records each request, and answers with the next scripted response (a FIFO),
 * else with the handler's answer, else 404. It understands Content-Length request bodies and
 * answers "Expect: 100-continue" with an interim 100. Everything is bounded: threads poll with
 * short timeouts and fakesrv_stop() joins them all.
 *
 *   struct fakesrv *s = fakesrv_start();
 *   fakesrv_push(s, &(struct fakesrv_response){.status = 200, .body = "{}"});
 *   ... point a client at fakesrv_url() ...
 *   CHECK_STR_EQ("POST", fakesrv_request(s, 0)->method);
 *   fakesrv_stop(s);
 */
#ifndef IVS_TEST_FAKESRV_H
#define IVS_TEST_FAKESRV_H

#include <stddef.h>

struct fakesrv;

struct fakesrv_request {
    char method[16];
    char *target;  /* path?query exactly as received */
    char *headers; /* raw "Name: value\r\n" lines, in order */
    char *body;    /* NUL-terminated for convenience; body_len excludes the NUL */
    size_t body_len;
};

struct fakesrv_response {
    int status;            /* 0 = 200 */
    const char *headers;   /* extra "Name: value\r\n" lines, or NULL */
    const char *body;      /* NULL = empty */
    size_t body_len;       /* 0 = strlen(body); set it for binary bodies */
    int delay_ms;          /* wait this long before answering */
    int drop;              /* close the connection without answering */
    int close_after;       /* answer with "Connection: close", then close */
    int no_content_length; /* omit Content-Length (then the connection closes after the body) */
};

/* Called for a request when the FIFO is empty. Calls are serialised, and the strings put in
 * resp must stay valid until the next call. */
typedef void (*fakesrv_handler)(void *ud, const struct fakesrv_request *req,
                                struct fakesrv_response *resp);

/* Starts the server on 127.0.0.1 and a free port; NULL on failure. */
struct fakesrv *fakesrv_start(void);

int fakesrv_port(const struct fakesrv *s);

/* Writes "http://127.0.0.1:PORT" into out. */
void fakesrv_url(const struct fakesrv *s, char *out, size_t n);

/* Appends a scripted response (its strings are copied). */
void fakesrv_push(struct fakesrv *s, const struct fakesrv_response *r);

/* Sets the handler used when the FIFO is empty (fn NULL: 404). */
void fakesrv_set_handler(struct fakesrv *s, fakesrv_handler fn, void *ud);

/* How many requests were fully received so far. */
size_t fakesrv_request_count(struct fakesrv *s);

/* Request i (0-based, in arrival order), or NULL when out of range. The pointer stays valid
 * until fakesrv_stop(). */
const struct fakesrv_request *fakesrv_request(struct fakesrv *s, size_t i);

/* The value of the first header of r with this name (case-insensitive, surrounding spaces
 * trimmed), copied into buf; NULL when absent (or r is NULL). */
const char *fakesrv_request_header(const struct fakesrv_request *r, const char *name, char *buf,
                                   size_t n);

/* How many TCP connections were accepted so far. */
size_t fakesrv_connection_count(struct fakesrv *s);

/* Waits (at most timeout_ms) until at least `count` requests were received; returns 1 when
 * they were, 0 on timeout. For tests whose client gives up before the server answers. */
int fakesrv_wait_requests(struct fakesrv *s, size_t count, int timeout_ms);

/* Stops accepting, closes every connection, joins every thread and frees everything.
 * NULL is accepted. */
void fakesrv_stop(struct fakesrv *s);

#endif
