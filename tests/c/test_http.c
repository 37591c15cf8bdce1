/* test_http.c: the libcurl transport against the loopback fake server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "http.h"
#include "support/fakesrv.h"

/* {"channel":{"name":"gzipped","latencyMode":"LOW"}} compressed with gzip (mtime 0). */
static const unsigned char k_gzip_body[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0x4a, 0xce,
    0x48, 0xcc, 0xcb, 0x4b, 0xcd, 0x51, 0xb2, 0xaa, 0x56, 0xca, 0x4b, 0xcc, 0x4d, 0x55,
    0xb2, 0x52, 0x4a, 0xaf, 0xca, 0x2c, 0x28, 0x48, 0x4d, 0x51, 0xd2, 0x51, 0xca, 0x49,
    0x2c, 0x49, 0xcd, 0x4b, 0xae, 0xf4, 0xcd, 0x4f, 0x01, 0x89, 0xfb, 0xf8, 0x87, 0x2b,
    0xd5, 0xd6, 0x02, 0x00, 0x4b, 0x9b, 0x46, 0xa2, 0x32, 0x00, 0x00, 0x00};
/* The same text with zlib (Content-Encoding: deflate). */
static const unsigned char k_deflate_body[] = {
    0x78, 0x9c, 0xab, 0x56, 0x4a, 0xce, 0x48, 0xcc, 0xcb, 0x4b, 0xcd, 0x51, 0xb2, 0xaa,
    0x56, 0xca, 0x4b, 0xcc, 0x4d, 0x55, 0xb2, 0x52, 0x4a, 0xaf, 0xca, 0x2c, 0x28, 0x48,
    0x4d, 0x51, 0xd2, 0x51, 0xca, 0x49, 0x2c, 0x49, 0xcd, 0x4b, 0xae, 0xf4, 0xcd, 0x4f,
    0x01, 0x89, 0xfb, 0xf8, 0x87, 0x2b, 0xd5, 0xd6, 0x02, 0x00, 0xb5, 0xc1, 0x10, 0xf3};
static const char k_plain_body[] = "{\"channel\":{\"name\":\"gzipped\",\"latencyMode\":\"LOW\"}}";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How many header lines of r carry this name (case-insensitive). */
static int count_header_lines(const struct fakesrv_request *r, const char *name)
{
    int n = 0;
    size_t len = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        if (strncasecmp(p, name, len) == 0 && p[len] == ':')
            n++;
        p = strstr(p, "\r\n");
        p = p ? p + 2 : NULL;
    }
    return n;
}

/* Starts a server and a connection; returns 0 (after recording a failure) when either fails. */
static int setup(struct fakesrv **srv, struct http_conn **conn, const struct http_options *opts,
                 char *url, size_t url_len)
{
    struct ivs_error err = {0};
    *srv = fakesrv_start();
    *conn = NULL;
    CHECK(*srv != NULL);
    if (!*srv)
        return 0;
    fakesrv_url(*srv, url, url_len);
    enum ivs_status st = http_conn_new(opts, conn, &err);
    CHECK_INT_EQ(IVS_OK, st);
    ivs_error_clear(&err);
    if (st != IVS_OK) {
        fakesrv_stop(*srv);
        return 0;
    }
    return 1;
}

static void test_keep_alive_reuses_one_connection(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64], url[128];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    struct http_response resp = {0};
    struct ivs_error err = {0};
    for (int i = 0; i < 3; i++) {
        fakesrv_push(
            srv, &(struct fakesrv_response){.status = 200, .body = i == 1 ? "second" : "other"});
        snprintf(url, sizeof url, "%s/channels/%d?x=y%%20z", base, i);
        CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", url, NULL, 0, NULL, 0, &resp, &err));
        CHECK_INT_EQ(200, resp.status);
        if (i == 1)
            CHECK_STR_EQ("second", buf_str(&resp.body));
    }
    CHECK_INT_EQ(3, fakesrv_request_count(srv));
    CHECK_INT_EQ(1, fakesrv_connection_count(srv));
    CHECK_STR_EQ("/channels/2?x=y%20z", fakesrv_request(srv, 2)->target);
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_sensitive_bodies_are_marked_and_intact(void)
{
    /* Credential responses are read with sensitive_body: the buffer then grows by copy and
     * wipe instead of realloc, which must still deliver every byte. */
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64];
    struct http_options opts = {.sensitive_body = 1};
    if (!setup(&srv, &conn, &opts, base, sizeof base))
        return;
    size_t n = 200000;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    if (!big) {
        http_conn_free(conn);
        fakesrv_stop(srv);
        return;
    }
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = big});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", base, NULL, 0, NULL, 0, &resp, &err));
    CHECK_INT_EQ(1, resp.body.sensitive);
    CHECK_INT_EQ((long long)n, (long long)resp.body.len);
    CHECK(resp.body.len == n && memcmp(resp.body.data, big, n) == 0);
    http_response_cleanup(&resp);
    ivs_error_clear(&err);
    http_conn_free(conn);
    fakesrv_stop(srv);
    free(big);
}

static void test_oversized_response_is_refused(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64];
    struct http_options opts = {0};
    if (!setup(&srv, &conn, &opts, base, sizeof base))
        return;
    size_t n = (size_t)HTTP_MAX_RESPONSE_BYTES + 4096;
    char *big = malloc(n);
    CHECK(big != NULL);
    if (!big) {
        http_conn_free(conn);
        fakesrv_stop(srv);
        return;
    }
    memset(big, 'x', n);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = big, .body_len = n});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_ERR_INTERNAL, http_perform(conn, "GET", base, NULL, 0, NULL, 0, &resp, &err));
    CHECK_STR_EQ("ResponseTooLarge", err.code);
    CHECK(resp.body.len <= (size_t)HTTP_MAX_RESPONSE_BYTES);
    http_response_cleanup(&resp);
    ivs_error_clear(&err);
    /* The handle is still usable after the aborted transfer. */
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", base, NULL, 0, NULL, 0, &resp, &err));
    CHECK_STR_EQ("{}", buf_str(&resp.body));
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
    free(big);
}

static void test_close_connection_opens_one_per_request(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64];
    struct http_options opts = {.close_connection = 1};
    if (!setup(&srv, &conn, &opts, base, sizeof base))
        return;
    struct http_response resp = {0};
    struct ivs_error err = {0};
    for (int i = 0; i < 4; i++) {
        fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
        CHECK_INT_EQ(IVS_OK, http_perform(conn, "POST", base, NULL, 0, "{}", 2, &resp, &err));
        CHECK_INT_EQ(200, resp.status);
    }
    CHECK_INT_EQ(4, fakesrv_request_count(srv));
    CHECK_INT_EQ(4, fakesrv_connection_count(srv));
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_post_sends_exact_body_and_headers(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64], url[128], hv[256];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    snprintf(url, sizeof url, "%s/CreateChannel", base);
    static const char body[] = "{\"name\":\"a\0b\"}"; /* binary-safe: an embedded NUL */
    const size_t body_len = sizeof body - 1;
    const struct ivs_header headers[] = {
        {"Content-Type", "application/json"},
        {"X-Amz-Date", "20261101T000000Z"},
        {"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261101/us-west-2/ivs/aws4_request, "
                          "SignedHeaders=host, Signature=abc"},
        {"X-Empty", ""},
    };
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "POST", url, headers, 4, body, body_len, &resp, &err));
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK(r != NULL);
    if (!r)
        goto out;
    CHECK_STR_EQ("POST", r->method);
    CHECK_STR_EQ("/CreateChannel", r->target);
    CHECK_INT_EQ(body_len, r->body_len);
    CHECK(memcmp(body, r->body, body_len) == 0);
    CHECK_STR_EQ("application/json", fakesrv_request_header(r, "content-type", hv, sizeof hv));
    CHECK_STR_EQ("20261101T000000Z", fakesrv_request_header(r, "X-Amz-Date", hv, sizeof hv));
    CHECK_STR_EQ(headers[2].value, fakesrv_request_header(r, "Authorization", hv, sizeof hv));
    CHECK_STR_EQ("", fakesrv_request_header(r, "X-Empty", hv, sizeof hv));
    CHECK_STR_EQ("14", fakesrv_request_header(r, "Content-Length", hv, sizeof hv));
    CHECK_STR_EQ("libivs/" IVS_VERSION, fakesrv_request_header(r, "User-Agent", hv, sizeof hv));
    CHECK(fakesrv_request_header(r, "Expect", hv, sizeof hv) == NULL);
    CHECK(fakesrv_request_header(r, "Transfer-Encoding", hv, sizeof hv) == NULL);
    CHECK(fakesrv_request_header(r, "Accept-Encoding", hv, sizeof hv) == NULL);
    /* libcurl's own "Accept" line is not sent. */
    CHECK(fakesrv_request_header(r, "Accept", hv, sizeof hv) == NULL);
    /* Exactly one Content-Type: the caller's. */
    CHECK_INT_EQ(1, count_header_lines(r, "Content-Type"));
out:
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

/* The caller's own Accept and Expect headers go out as given, whatever the body size. */
static void test_caller_accept_and_expect_are_sent(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64], hv[64];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    const struct ivs_header h[] = {{"accept", "application/json"}};
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "POST", base, h, 1, "{}", 2, &resp, &err));
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK(r != NULL);
    if (r) {
        CHECK_STR_EQ("application/json", fakesrv_request_header(r, "Accept", hv, sizeof hv));
        CHECK_INT_EQ(1, count_header_lines(r, "Accept"));
        CHECK(fakesrv_request_header(r, "Expect", hv, sizeof hv) == NULL);
    }
    /* A body over 1 KiB, where old libcurl versions add Expect on their own: still none. */
    char mid[4096];
    memset(mid, 'x', sizeof mid);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "{}"});
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "POST", base, NULL, 0, mid, sizeof mid, &resp, &err));
    r = fakesrv_request(srv, 1);
    CHECK(r && r->body_len == sizeof mid);
    CHECK(r && fakesrv_request_header(r, "Expect", hv, sizeof hv) == NULL);
    CHECK(r && fakesrv_request_header(r, "Accept", hv, sizeof hv) == NULL);
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_large_post_has_no_expect(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64], hv[64];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    /* libcurl adds "Expect: 100-continue" on its own above 1 MiB unless told not to. */
    size_t len = 3u * 1024 * 1024;
    char *big = malloc(len);
    CHECK(big != NULL);
    if (!big)
        goto out;
    for (size_t i = 0; i < len; i++)
        big[i] = (char)('a' + i % 26);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    const struct ivs_header h[] = {{"Content-Type", "application/octet-stream"}};
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "PUT", base, h, 1, big, len, &resp, &err));
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK(r && strcmp(r->method, "PUT") == 0);
    CHECK(r && r->body_len == len && memcmp(r->body, big, len) == 0);
    CHECK(r && fakesrv_request_header(r, "Expect", hv, sizeof hv) == NULL);
    http_response_cleanup(&resp);
    free(big);
out:
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_get_and_delete_send_no_body_or_content_type(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64], hv[64];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    struct http_response resp = {0};
    struct ivs_error err = {0};
    const char *methods[] = {"GET", "DELETE", "POST"};
    for (int i = 0; i < 3; i++) {
        fakesrv_push(srv, &(struct fakesrv_response){.status = 204});
        /* POST with no body is the IVS case of an operation without input members. */
        CHECK_INT_EQ(IVS_OK, http_perform(conn, methods[i], base, NULL, 0, NULL, 0, &resp, &err));
        CHECK_INT_EQ(204, resp.status);
        const struct fakesrv_request *r = fakesrv_request(srv, (size_t)i);
        CHECK(r != NULL);
        if (!r)
            break;
        CHECK_STR_EQ(methods[i], r->method);
        CHECK_INT_EQ(0, r->body_len);
        CHECK(fakesrv_request_header(r, "Content-Type", hv, sizeof hv) == NULL);
        CHECK(fakesrv_request_header(r, "Expect", hv, sizeof hv) == NULL);
        if (i < 2)
            CHECK(fakesrv_request_header(r, "Content-Length", hv, sizeof hv) == NULL);
        else
            CHECK_STR_EQ("0", fakesrv_request_header(r, "Content-Length", hv, sizeof hv));
    }
    CHECK_INT_EQ(1, fakesrv_connection_count(srv));
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

/* One request of a sequence sent on one handle: whatever an earlier request set on the handle
 * (a body, a custom method, HEAD, headers) must not leak into a later one. */
struct seq_step {
    const char *method;
    const char *body;                       /* NULL: none */
    const char *header_name, *header_value; /* one extra header, or NULL */
};

static const struct seq_step k_sequence[] = {
    {"POST", "{\"a\":1}", "Content-Type", "application/json"},
    {"GET", NULL, NULL, NULL},
    {"PUT", "put-body", "X-One", "1"},
    {"HEAD", NULL, NULL, NULL},
    {"DELETE", NULL, "X-Two", "2"},
    {"PATCH", "patch", NULL, NULL},
    {"GET", NULL, "X-Empty", ""},
    {"POST", NULL, NULL, NULL},
    {"OPTIONS", NULL, NULL, NULL},
    {"POST", "last", "X-Three", "3"},
};
enum { SEQUENCE_LEN = sizeof k_sequence / sizeof k_sequence[0] };

static void check_sequence_request(const struct fakesrv_request *r, const struct seq_step *st)
{
    char hv[64];
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_STR_EQ(st->method, r->method);
    size_t body_len = st->body ? strlen(st->body) : 0;
    CHECK_MSG(r->body_len == body_len, "%s: body of %zu bytes, expected %zu", st->method,
              r->body_len, body_len);
    if (st->body)
        CHECK_STR_EQ(st->body, r->body);
    const char *cl = fakesrv_request_header(r, "Content-Length", hv, sizeof hv);
    if (st->body || strcmp(st->method, "POST") == 0)
        CHECK_MSG(cl && (size_t)atol(cl) == body_len, "%s: Content-Length %s", st->method,
                  cl ? cl : "absent");
    else
        CHECK_MSG(cl == NULL, "%s: Content-Length %s on a request without a body", st->method, cl);
    static const char *const extras[] = {"Content-Type", "X-One", "X-Two", "X-Three", "X-Empty"};
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        const char *v = fakesrv_request_header(r, extras[i], hv, sizeof hv);
        if (st->header_name && strcmp(st->header_name, extras[i]) == 0)
            CHECK_MSG(v && strcmp(v, st->header_value) == 0, "%s: %s is %s", st->method, extras[i],
                      v ? v : "absent");
        else
            CHECK_MSG(v == NULL, "%s: unexpected %s: %s", st->method, extras[i], v);
    }
    CHECK(fakesrv_request_header(r, "Expect", hv, sizeof hv) == NULL);
    CHECK_INT_EQ(1, count_header_lines(r, "User-Agent"));
}

static void test_requests_on_one_handle_do_not_inherit_settings(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64], url[128];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    struct http_response resp = {0};
    struct ivs_error err = {0};
    for (size_t i = 0; i < SEQUENCE_LEN; i++) {
        const struct seq_step *st = &k_sequence[i];
        struct ivs_header h = {st->header_name, st->header_value};
        fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "ok"});
        snprintf(url, sizeof url, "%s/step/%zu", base, i);
        CHECK_INT_EQ(IVS_OK, http_perform(conn, st->method, url, &h, st->header_name ? 1 : 0,
                                          st->body, st->body ? strlen(st->body) : 0, &resp, &err));
        CHECK_INT_EQ(200, resp.status);
        /* HEAD has no response body; everything else reads it whole. */
        CHECK_STR_EQ(strcmp(st->method, "HEAD") == 0 ? "" : "ok", buf_str(&resp.body));
        check_sequence_request(fakesrv_request(srv, i), st);
    }
    CHECK_INT_EQ(SEQUENCE_LEN, fakesrv_request_count(srv));
    CHECK_INT_EQ(1, fakesrv_connection_count(srv));
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

struct multi_done {
    int calls;
    enum ivs_status st;
};

static void on_multi_done(void *ud, enum ivs_status st, struct ivs_error *err)
{
    (void)err;
    struct multi_done *d = ud;
    d->calls++;
    d->st = st;
}

static void test_multi_handles_reused_do_not_inherit_settings(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    char base[64], url[128];
    fakesrv_url(srv, base, sizeof base);
    struct ivs_error err = {0};
    struct http_multi *m = NULL;
    CHECK_INT_EQ(IVS_OK, http_multi_new(NULL, 2, &m, &err));
    struct http_response resp = {0};
    for (size_t i = 0; m && i < SEQUENCE_LEN; i++) {
        const struct seq_step *st = &k_sequence[i];
        struct ivs_header h = {st->header_name, st->header_value};
        fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "ok"});
        snprintf(url, sizeof url, "%s/step/%zu", base, i);
        struct multi_done done = {0};
        struct http_async *a = NULL;
        CHECK_INT_EQ(IVS_OK, http_multi_start(m, st->method, url, &h, st->header_name ? 1 : 0,
                                              st->body, st->body ? strlen(st->body) : 0, &resp,
                                              on_multi_done, &done, &a, &err));
        int64_t deadline = now_ms() + 5000;
        while (a && done.calls == 0 && now_ms() < deadline)
            if (http_multi_perform(m) > 0)
                http_multi_wait(m, 100);
        CHECK_INT_EQ(1, done.calls);
        CHECK_INT_EQ(IVS_OK, done.st);
        CHECK_INT_EQ(200, resp.status);
        check_sequence_request(fakesrv_request(srv, i), st);
        http_response_cleanup(&resp);
    }
    CHECK_INT_EQ(SEQUENCE_LEN, fakesrv_request_count(srv));
    CHECK_INT_EQ(1, fakesrv_connection_count(srv));
    ivs_error_clear(&err);
    http_multi_free(m);
    fakesrv_stop(srv);
}

static void test_response_headers_captured_in_order(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    fakesrv_push(srv, &(struct fakesrv_response){
                          .status = 302,
                          .headers = "Location: http://127.0.0.1:1/elsewhere\r\nX-First: one\r\n",
                          .body = "moved"});
    fakesrv_push(
        srv,
        &(struct fakesrv_response){
            .status = 400,
            .headers =
                "x-amzn-RequestId: 11111111-2222\r\nX-Amzn-ErrorType:  ValidationException \r\n"
                "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n",
            .body = "{\"message\":\"bad\"}"});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    /* A redirect is returned as it is, not followed. */
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", base, NULL, 0, NULL, 0, &resp, &err));
    CHECK_INT_EQ(302, resp.status);
    CHECK_STR_EQ("moved", buf_str(&resp.body));
    CHECK_STR_EQ("one", http_response_header(&resp, "x-first"));
    CHECK_INT_EQ(1, fakesrv_request_count(srv));

    /* The next response on the same connection starts with fresh headers. */
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", base, NULL, 0, NULL, 0, &resp, &err));
    CHECK_INT_EQ(400, resp.status);
    CHECK(http_response_header(&resp, "X-First") == NULL);
    CHECK(http_response_header(&resp, "Location") == NULL);
    CHECK_STR_EQ("11111111-2222", http_response_header(&resp, "X-AMZN-REQUESTID"));
    CHECK_STR_EQ("ValidationException", http_response_header(&resp, "x-amzn-errortype"));
    CHECK_STR_EQ("a=1", http_response_header(&resp, "set-cookie"));
    CHECK_STR_EQ("{\"message\":\"bad\"}", buf_str(&resp.body));
    /* Order and spelling as received: Content-Length (the server's first), then the rest. */
    CHECK_INT_EQ(5, resp.header_count);
    if (resp.header_count == 5) {
        CHECK_STR_EQ("Content-Length", resp.headers[0].name);
        CHECK_STR_EQ("x-amzn-RequestId", resp.headers[1].name);
        CHECK_STR_EQ("X-Amzn-ErrorType", resp.headers[2].name);
        CHECK_STR_EQ("b=2", resp.headers[4].value);
    }
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_compressed_responses_are_decoded(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64], hv[64];
    struct http_options opts = {.accept_encoding = 1, .user_agent = "lua-ivs/9 test"};
    if (!setup(&srv, &conn, &opts, base, sizeof base))
        return;
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200,
                                                 .headers = "Content-Encoding: gzip\r\n",
                                                 .body = (const char *)k_gzip_body,
                                                 .body_len = sizeof k_gzip_body});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200,
                                                 .headers = "Content-Encoding: deflate\r\n",
                                                 .body = (const char *)k_deflate_body,
                                                 .body_len = sizeof k_deflate_body});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    for (int i = 0; i < 2; i++) {
        CHECK_INT_EQ(IVS_OK, http_perform(conn, "POST", base, NULL, 0, "{}", 2, &resp, &err));
        CHECK_STR_EQ(k_plain_body, buf_str(&resp.body));
        CHECK_INT_EQ(strlen(k_plain_body), resp.body.len);
    }
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK_STR_EQ("gzip, deflate", fakesrv_request_header(r, "Accept-Encoding", hv, sizeof hv));
    CHECK_STR_EQ("lua-ivs/9 test", fakesrv_request_header(r, "User-Agent", hv, sizeof hv));
    CHECK_INT_EQ(1, count_header_lines(r, "Accept-Encoding"));
    CHECK_INT_EQ(1, count_header_lines(fakesrv_request(srv, 1), "Accept-Encoding"));
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_timeout_is_reported_within_bound(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64];
    struct http_options opts = {.timeout_ms = 300};
    if (!setup(&srv, &conn, &opts, base, sizeof base))
        return;
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .delay_ms = 3000});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "after"});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    int64_t t0 = now_ms();
    CHECK_INT_EQ(IVS_ERR_TIMEOUT, http_perform(conn, "GET", base, NULL, 0, NULL, 0, &resp, &err));
    int64_t elapsed = now_ms() - t0;
    CHECK_MSG(elapsed >= 250 && elapsed < 2000, "timeout took %lld ms", (long long)elapsed);
    CHECK_STR_EQ("Timeout", err.code);
    CHECK(err.message && strstr(err.message, "127.0.0.1") != NULL);
    CHECK_INT_EQ(0, resp.status);
    ivs_error_clear(&err);
    /* The handle recovers: the timed-out connection is not reused for a stale answer. */
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", base, NULL, 0, NULL, 0, &resp, &err));
    CHECK_STR_EQ("after", buf_str(&resp.body));
    http_response_cleanup(&resp);
    ivs_error_clear(&err);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_connection_refused_is_network_error(void)
{
    /* A port that was free a moment ago and has nobody listening now. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&addr, &alen) == 0);
    int port = ntohs(addr.sin_port);
    close(fd);

    struct http_conn *conn = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK,
                 http_conn_new(&(struct http_options){.connect_timeout_ms = 2000}, &conn, &err));
    char url[64], expect[32];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    snprintf(expect, sizeof expect, "127.0.0.1:%d", port);
    struct http_response resp = {0};
    const struct ivs_header h[] = {{"Authorization", "Signature=topsecretsignature"}};
    CHECK_INT_EQ(IVS_ERR_NETWORK, http_perform(conn, "GET", url, h, 1, NULL, 0, &resp, &err));
    CHECK_STR_EQ("ConnectionError", err.code);
    CHECK(err.message && strstr(err.message, expect) != NULL);
    CHECK(err.message && strstr(err.message, "topsecret") == NULL);
    ivs_error_clear(&err);
    http_response_cleanup(&resp);
    http_conn_free(conn);
}

/* The handle keeps the last URL pre-parsed: a request to another URL (and back) must go
 * there, and an error must name the host of the request that failed. */
static void test_url_changes_between_requests(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64], url[128], dead[64], expect[32];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
          getsockname(fd, (struct sockaddr *)&addr, &alen) == 0);
    close(fd);
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d/gone", ntohs(addr.sin_port));
    snprintf(expect, sizeof expect, "127.0.0.1:%d", ntohs(addr.sin_port));
    for (int i = 0; i < 3; i++)
        fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "ok"});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    snprintf(url, sizeof url, "%s/one", base);
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", url, NULL, 0, NULL, 0, &resp, &err));
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", url, NULL, 0, NULL, 0, &resp, &err));
    CHECK_INT_EQ(IVS_ERR_NETWORK, http_perform(conn, "GET", dead, NULL, 0, NULL, 0, &resp, &err));
    CHECK(err.message && strstr(err.message, expect) != NULL);
    ivs_error_clear(&err);
    snprintf(url, sizeof url, "%s/two?x=1", base);
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", url, NULL, 0, NULL, 0, &resp, &err));
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK(r && strcmp(r->target, "/one") == 0);
    r = fakesrv_request(srv, 1);
    CHECK(r && strcmp(r->target, "/one") == 0);
    r = fakesrv_request(srv, 2);
    CHECK(r && strcmp(r->target, "/two?x=1") == 0);
    ivs_error_clear(&err);
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_dropped_connection_is_network_error(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    fakesrv_push(srv, &(struct fakesrv_response){.drop = 1});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "fine"});
    struct http_response resp = {0};
    struct ivs_error err = {0};
    const struct ivs_header h[] = {{"X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN"}};
    CHECK_INT_EQ(IVS_ERR_NETWORK, http_perform(conn, "POST", base, h, 1, "{}", 2, &resp, &err));
    CHECK_STR_EQ("ConnectionError", err.code);
    CHECK(err.message && strstr(err.message, "EXAMPLETOKEN") == NULL);
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "POST", base, h, 1, "{}", 2, &resp, &err));
    CHECK_STR_EQ("fine", buf_str(&resp.body));
    CHECK_INT_EQ(2, fakesrv_connection_count(srv));
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void test_rejects_caller_content_length_and_bad_urls(void)
{
    struct http_conn *conn = NULL;
    struct ivs_error err = {0};
    struct http_response resp = {0};
    CHECK_INT_EQ(IVS_OK, http_conn_new(NULL, &conn, &err));
    const struct ivs_header h[] = {{"content-length", "2"}};
    CHECK_INT_EQ(IVS_ERR_USAGE,
                 http_perform(conn, "POST", "http://127.0.0.1:1/", h, 1, "{}", 2, &resp, &err));
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_CONFIG,
                 http_perform(conn, "GET", "ftp://127.0.0.1:1/x", NULL, 0, NULL, 0, &resp, &err));
    CHECK_STR_EQ("InvalidEndpoint", err.code);
    ivs_error_clear(&err);
    http_response_cleanup(&resp);
    http_conn_free(conn);
    http_conn_free(NULL);
}

struct echo_state {
    int dummy;
};

/* Echoes the request target as the body so each thread can check it got its own answer. */
static void echo_handler(void *ud, const struct fakesrv_request *req, struct fakesrv_response *resp)
{
    (void)ud;
    resp->status = 200;
    resp->body = req->target;
}

struct thread_job {
    const char *base;
    int id;
    int failures;
};

static void *thread_main(void *arg)
{
    struct thread_job *job = arg;
    struct http_conn *conn = NULL;
    struct ivs_error err = {0};
    if (http_conn_new(NULL, &conn, &err) != IVS_OK) {
        job->failures++;
        ivs_error_clear(&err);
        return NULL;
    }
    struct http_response resp = {0};
    for (int i = 0; i < 25; i++) {
        char url[128], target[64];
        snprintf(target, sizeof target, "/thread/%d/call/%d", job->id, i);
        snprintf(url, sizeof url, "%s%s", job->base, target);
        if (http_perform(conn, "GET", url, NULL, 0, NULL, 0, &resp, &err) != IVS_OK ||
            strcmp(buf_str(&resp.body), target) != 0)
            job->failures++;
        ivs_error_clear(&err);
    }
    http_response_cleanup(&resp);
    http_conn_free(conn);
    return NULL;
}

static void test_several_connections_on_several_threads(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    char base[64];
    fakesrv_url(srv, base, sizeof base);
    struct echo_state st = {0};
    fakesrv_set_handler(srv, echo_handler, &st);
    enum { N = 4 };
    pthread_t threads[N];
    struct thread_job jobs[N];
    int started = 0;
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct thread_job){base, i, 0};
        if (pthread_create(&threads[i], NULL, thread_main, &jobs[i]) == 0)
            started++;
        else
            break;
    }
    CHECK_INT_EQ(N, started);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT_EQ(0, jobs[i].failures);
    }
    CHECK_INT_EQ(N * 25, fakesrv_request_count(srv));
    CHECK_INT_EQ(N, fakesrv_connection_count(srv));
    fakesrv_stop(srv);
}

static void test_fakesrv_answers_expect_continue(void)
{
    /* The server half of the contract other suites rely on: a client that does send
     * "Expect: 100-continue" (curl's own default for large bodies) still gets its answer. */
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    char base[64], hv[64];
    fakesrv_url(srv, base, sizeof base);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 201, .body = "made"});
    struct http_conn *conn = NULL;
    struct ivs_error err = {0};
    struct http_response resp = {0};
    CHECK_INT_EQ(IVS_OK, http_conn_new(NULL, &conn, &err));
    const struct ivs_header h[] = {{"Expect", "100-continue"}};
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "POST", base, h, 1, "abc", 3, &resp, &err));
    CHECK_INT_EQ(201, resp.status);
    CHECK_STR_EQ("made", buf_str(&resp.body));
    /* The interim 100 left no headers behind: only the final response's. */
    CHECK_INT_EQ(1, resp.header_count);
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK(r && r->body_len == 3 && strcmp(r->body, "abc") == 0);
    CHECK_STR_EQ("100-continue", fakesrv_request_header(r, "expect", hv, sizeof hv));
    http_response_cleanup(&resp);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

static void clear_proxy_env(void)
{
    static const char *const names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                        "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

/* GETs url on a connection created under the current environment; returns the target the
 * fake server saw (the absolute URL when it was used as the proxy), or "" when nothing
 * reached it. */
static const char *get_through(struct fakesrv *srv, const char *url, char *target, size_t n)
{
    struct http_conn *conn = NULL;
    struct ivs_error err = {0};
    struct http_response resp = {0};
    size_t before = fakesrv_request_count(srv);
    target[0] = '\0';
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "seen"});
    if (http_conn_new(&(struct http_options){.connect_timeout_ms = 2000}, &conn, &err) == IVS_OK &&
        http_perform(conn, "GET", url, NULL, 0, NULL, 0, &resp, &err) == IVS_OK &&
        fakesrv_request_count(srv) > before) {
        const struct fakesrv_request *r = fakesrv_request(srv, before);
        snprintf(target, n, "%s", r ? r->target : "");
    }
    ivs_error_clear(&err);
    http_response_cleanup(&resp);
    http_conn_free(conn);
    return target;
}

static void test_proxy_environment_is_honoured(void)
{
    /* The fake server plays the proxy: libcurl must send it the absolute URL of a host that
     * is never resolved or contacted. The variables are read when the connection is made,
     * with libcurl's names and precedence. */
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    char base[64], direct[128], target[256], hv[128];
    fakesrv_url(srv, base, sizeof base);
    snprintf(direct, sizeof direct, "%s/direct", base);
    const char *far = "http://ivs.example.invalid/channels?x=1";

    clear_proxy_env();
    setenv("http_proxy", base, 1);
    struct http_conn *conn = NULL;
    struct ivs_error err = {0};
    struct http_response resp = {0};
    CHECK_INT_EQ(IVS_OK, http_conn_new(NULL, &conn, &err));
    /* Changed after the connection was made: not seen by it. */
    unsetenv("http_proxy");
    setenv("no_proxy", "*", 1);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "via proxy"});
    CHECK_INT_EQ(IVS_OK, http_perform(conn, "GET", far, NULL, 0, NULL, 0, &resp, &err));
    CHECK_STR_EQ("via proxy", buf_str(&resp.body));
    const struct fakesrv_request *r = fakesrv_request(srv, 0);
    CHECK(r && strcmp(r->target, far) == 0);
    CHECK_STR_EQ("ivs.example.invalid", fakesrv_request_header(r, "Host", hv, sizeof hv));
    ivs_error_clear(&err);
    http_response_cleanup(&resp);
    http_conn_free(conn);

    /* no_proxy (either case) wins for the hosts it names. */
    clear_proxy_env();
    setenv("http_proxy", base, 1);
    setenv("no_proxy", "127.0.0.1", 1);
    CHECK_STR_EQ("/direct", get_through(srv, direct, target, sizeof target));
    unsetenv("no_proxy");
    setenv("NO_PROXY", "example.invalid,127.0.0.1", 1);
    CHECK_STR_EQ("/direct", get_through(srv, direct, target, sizeof target));
    unsetenv("NO_PROXY");
    CHECK_STR_EQ(direct, get_through(srv, direct, target, sizeof target));

    /* HTTP_PROXY is never read for http (a request header could set it under CGI). */
    clear_proxy_env();
    setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
    CHECK_STR_EQ("/direct", get_through(srv, direct, target, sizeof target));

    /* all_proxy / ALL_PROXY stand in when the scheme has none; an empty value is unset. */
    clear_proxy_env();
    setenv("ALL_PROXY", base, 1);
    CHECK_STR_EQ(far, get_through(srv, far, target, sizeof target));
    setenv("http_proxy", "", 1);
    setenv("all_proxy", base, 1);
    CHECK_STR_EQ(far, get_through(srv, far, target, sizeof target));
    /* The scheme's own variable comes first: a dead proxy fails the request. */
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    CHECK_STR_EQ("", get_through(srv, far, target, sizeof target));

    /* https_proxy applies to https URLs only; HTTPS_PROXY is read too. The tunnel's TLS
     * then fails against the fake server, but the CONNECT shows which proxy was used. */
    clear_proxy_env();
    setenv("https_proxy", "http://127.0.0.1:1", 1);
    CHECK_STR_EQ("/direct", get_through(srv, direct, target, sizeof target));
    clear_proxy_env();
    setenv("HTTPS_PROXY", base, 1);
    size_t before = fakesrv_request_count(srv);
    get_through(srv, "https://ivs.example.invalid/x", target, sizeof target);
    r = fakesrv_request_count(srv) > before ? fakesrv_request(srv, before) : NULL;
    CHECK(r && strcmp(r->target, "ivs.example.invalid:443") == 0);

    clear_proxy_env();
    setenv("no_proxy", "*", 1);
    fakesrv_stop(srv);
}

/* Issue 13 item 8: megabytes of response headers are a clear error, not "out of memory". */
static void test_huge_response_headers_are_refused(void)
{
    struct fakesrv *srv;
    struct http_conn *conn;
    char base[64];
    if (!setup(&srv, &conn, NULL, base, sizeof base))
        return;
    size_t n = 4 * 1024 * 1024;
    char *one = malloc(n + 32), *many = malloc(n + 32);
    CHECK(one && many);
    if (!one || !many) {
        free(one);
        free(many);
        http_conn_free(conn);
        fakesrv_stop(srv);
        return;
    }
    /* One 4 MB line (over libcurl's own limit), and 4 MB of 1 KB lines (over ours). */
    memcpy(one, "X-Big: ", 7);
    memset(one + 7, 'a', n);
    memcpy(one + 7 + n, "\r\n", 3);
    size_t len = 0;
    while (len + 1024 < n) {
        len += (size_t)snprintf(many + len, 32, "X-Pad-%zu: ", len);
        memset(many + len, 'b', 1000);
        len += 1000;
        memcpy(many + len, "\r\n", 2);
        len += 2;
    }
    many[len] = '\0';
    const char *blocks[] = {one, many};
    for (size_t i = 0; i < 2; i++) {
        fakesrv_push(srv, &(struct fakesrv_response){
                              .status = 200, .headers = blocks[i], .body = "{}", .close_after = 1});
        struct http_response resp = {0};
        struct ivs_error err = {0};
        CHECK_INT_EQ(IVS_ERR_NETWORK,
                     http_perform(conn, "GET", base, NULL, 0, NULL, 0, &resp, &err));
        CHECK_STR_EQ("ResponseHeaderTooLarge", err.code);
        CHECK_MSG(err.message && strstr(err.message, "header"), "message: %s", err.message);
        http_response_cleanup(&resp);
        ivs_error_clear(&err);
    }
    free(one);
    free(many);
    http_conn_free(conn);
    fakesrv_stop(srv);
}

/* A server that answers anything with a line that is not HTTP (an HTTP/0.9 reply). */
struct raw_server {
    int fd;
    pthread_t thread;
};

static void *raw_server_main(void *arg)
{
    struct raw_server *rs = arg;
    struct timeval tv = {5, 0};
    setsockopt(rs->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int c = accept(rs->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    ssize_t got = recv(c, buf, sizeof buf, 0);
    (void)got;
    static const char reply[] = "hello, this is not HTTP\n";
    ssize_t sent = send(c, reply, sizeof reply - 1, MSG_NOSIGNAL);
    (void)sent;
    close(c);
    return NULL;
}

static void test_http09_reply_is_a_protocol_error(void)
{
    struct raw_server rs;
    rs.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    CHECK(rs.fd >= 0 && bind(rs.fd, (struct sockaddr *)&a, sizeof a) == 0 &&
          listen(rs.fd, 1) == 0 && getsockname(rs.fd, (struct sockaddr *)&a, &alen) == 0);
    CHECK(pthread_create(&rs.thread, NULL, raw_server_main, &rs) == 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    struct http_options opts = {0};
    struct http_conn *conn = NULL;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, http_conn_new(&opts, &conn, &err));
    struct http_response resp = {0};
    CHECK_INT_EQ(IVS_ERR_NETWORK, http_perform(conn, "GET", url, NULL, 0, NULL, 0, &resp, &err));
    CHECK_STR_EQ("ProtocolError", err.code);
    CHECK_MSG(err.message && strstr(err.message, "HTTP/0.9"), "message: %s", err.message);
    pthread_join(rs.thread, NULL);
    close(rs.fd);
    http_response_cleanup(&resp);
    ivs_error_clear(&err);
    http_conn_free(conn);
}

int main(void)
{
    /* These tests talk to 127.0.0.1 directly: a developer's proxy settings must not apply. */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    setenv("no_proxy", "*", 1);
    RUN(test_keep_alive_reuses_one_connection);
    RUN(test_close_connection_opens_one_per_request);
    RUN(test_sensitive_bodies_are_marked_and_intact);
    RUN(test_oversized_response_is_refused);
    RUN(test_post_sends_exact_body_and_headers);
    RUN(test_caller_accept_and_expect_are_sent);
    RUN(test_large_post_has_no_expect);
    RUN(test_get_and_delete_send_no_body_or_content_type);
    RUN(test_requests_on_one_handle_do_not_inherit_settings);
    RUN(test_multi_handles_reused_do_not_inherit_settings);
    RUN(test_response_headers_captured_in_order);
    RUN(test_compressed_responses_are_decoded);
    RUN(test_timeout_is_reported_within_bound);
    RUN(test_connection_refused_is_network_error);
    RUN(test_url_changes_between_requests);
    RUN(test_dropped_connection_is_network_error);
    RUN(test_rejects_caller_content_length_and_bad_urls);
    RUN(test_several_connections_on_several_threads);
    RUN(test_fakesrv_answers_expect_continue);
    RUN(test_proxy_environment_is_honoured);
    RUN(test_huge_response_headers_are_refused);
    RUN(test_http09_reply_is_a_protocol_error);
    return harness_finish();
}
