/* http.c: the one place that talks to libcurl. */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "errors.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 60000L

struct http_conn {
    CURL *easy;
    long connect_timeout_ms;
    long timeout_ms;
    int close_connection;
    char *ca_bundle;
    char *user_agent;
    int accept_encoding;
    char curl_error[CURL_ERROR_SIZE];
};

enum ivs_status http_conn_new(const struct http_options *opts, struct http_conn **out,
                              struct ivs_error *err)
{
    if (!out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_conn_new needs an output pointer");
    *out = NULL;
    if (ivs_global_init() < 0)
        return ivs_error_set(err, IVS_ERR_INTERNAL, "CurlInitFailed",
                             "libcurl could not be initialised");
    struct http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return ivs_error_nomem(err);
    static const struct http_options defaults = {0};
    if (!opts)
        opts = &defaults;
    c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->connect_timeout_ms =
        opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    /* A connect timeout beyond the total one would never fire; keep the reported cause right. */
    if (c->connect_timeout_ms > c->timeout_ms)
        c->connect_timeout_ms = c->timeout_ms;
    c->close_connection = opts->close_connection;
    c->accept_encoding = opts->accept_encoding;
    c->ca_bundle = ivs_strdup(opts->ca_bundle);
    c->user_agent = ivs_strdup(opts->user_agent ? opts->user_agent : "libivs/" IVS_VERSION);
    c->easy = curl_easy_init();
    if (!c->easy || !c->user_agent || (opts->ca_bundle && !c->ca_bundle)) {
        http_conn_free(c);
        return ivs_error_nomem(err);
    }
    *out = c;
    return IVS_OK;
}

void http_conn_free(struct http_conn *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    free(c->ca_bundle);
    free(c->user_agent);
    free(c);
}

void http_response_cleanup(struct http_response *r)
{
    if (!r)
        return;
    buf_free(&r->body);
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    memset(r, 0, sizeof *r);
}

const char *http_response_header(const struct http_response *r, const char *name)
{
    if (!r || !name)
        return NULL;
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* What the curl callbacks write into during one transfer. */
struct transfer {
    struct http_response *resp;
    int failed; /* allocation failure inside a callback */
};

static void drop_headers(struct http_response *r)
{
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->header_count = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct transfer *t = ud;
    size_t n = size * nmemb;
    buf_append(&t->resp->body, data, n);
    if (buf_failed(&t->resp->body)) {
        t->failed = 1;
        return 0;
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct transfer *t = ud;
    struct http_response *r = t->resp;
    size_t n = size * nmemb;
    size_t len = n;
    while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
        len--;
    /* Each status line starts a new header block (after a 100 Continue or an unfollowed
     * redirect's predecessor): only the final response's headers must remain. */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        drop_headers(r);
        return n;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon || colon == data)
        return n; /* the blank line ending the block, or a malformed line */
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1;
    const char *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (r->header_count == r->header_cap) {
        size_t cap = r->header_cap ? r->header_cap * 2 : 16;
        struct http_header_line *p = realloc(r->headers, cap * sizeof *p);
        if (!p) {
            t->failed = 1;
            return 0;
        }
        r->headers = p;
        r->header_cap = cap;
    }
    char *name = ivs_strndup(data, name_len);
    char *value = ivs_strndup(v, (size_t)(end - v));
    if (!name || !value) {
        free(name);
        free(value);
        t->failed = 1;
        return 0;
    }
    r->headers[r->header_count].name = name;
    r->headers[r->header_count].value = value;
    r->header_count++;
    return n;
}

/* The host part of a URL, for error messages (never includes userinfo or the path). */
static void url_host(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *end = p + strcspn(p, "/?#");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    size_t len = (size_t)(end - p);
    if (len >= n)
        len = n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

static enum ivs_status map_curl_error(struct http_conn *c, CURLcode rc, const char *url,
                                      struct ivs_error *err)
{
    char host[256];
    url_host(url, host, sizeof host);
    const char *detail = c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return ivs_error_set(err, IVS_ERR_TIMEOUT, "Timeout", "request to %s timed out: %s", host,
                             detail);
    case CURLE_OUT_OF_MEMORY:
        return ivs_error_nomem(err);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidEndpoint",
                             "cannot send a request to %s: %s", host, detail);
    default:
        /* Resolve, connect, send, receive, TLS and anything else on the wire. */
        return ivs_error_set(err, IVS_ERR_NETWORK, "ConnectionError", "could not talk to %s: %s",
                             host, detail);
    }
}

static int has_header(const struct ivs_header *headers, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (headers[i].name && strcasecmp(headers[i].name, name) == 0)
            return 1;
    return 0;
}

static struct curl_slist *build_header_list(const struct ivs_header *headers, size_t count,
                                            int *failed)
{
    struct curl_slist *list = NULL;
    struct buf line = BUF_INIT;
    *failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (!headers[i].name)
            continue;
        buf_reset(&line);
        const char *v = headers[i].value ? headers[i].value : "";
        /* "Name;" is curl's way to send a header with an empty value; "Name:" would remove it. */
        if (*v)
            buf_printf(&line, "%s: %s", headers[i].name, v);
        else
            buf_printf(&line, "%s;", headers[i].name);
        struct curl_slist *next = buf_failed(&line) ? NULL : curl_slist_append(list, line.data);
        if (!next) {
            *failed = 1;
            break;
        }
        list = next;
    }
    /* Suppress what curl would add on its own: "Expect: 100-continue" costs a round trip, and
     * a default form Content-Type would be a header the caller neither set nor signed. */
    static const char *const suppressed[] = {"Expect", "Content-Type"};
    for (size_t i = 0; !*failed && i < sizeof suppressed / sizeof suppressed[0]; i++) {
        if (has_header(headers, count, suppressed[i]))
            continue;
        buf_reset(&line);
        buf_printf(&line, "%s:", suppressed[i]);
        struct curl_slist *next = buf_failed(&line) ? NULL : curl_slist_append(list, line.data);
        if (!next)
            *failed = 1;
        else
            list = next;
    }
    buf_free(&line);
    if (*failed) {
        curl_slist_free_all(list);
        return NULL;
    }
    return list;
}

enum ivs_status http_perform(struct http_conn *c, const char *method, const char *url,
                             const struct ivs_header *headers, size_t header_count,
                             const void *body, size_t body_len, struct http_response *resp,
                             struct ivs_error *err)
{
    if (!resp)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_perform needs a response");
    http_response_cleanup(resp);
    if (!c || !method || !url)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_perform needs a connection, method and URL");
    if (has_header(headers, header_count, "Content-Length"))
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_perform computes Content-Length itself; do not pass it");

    int failed = 0;
    struct curl_slist *list = build_header_list(headers, header_count, &failed);
    if (failed)
        return ivs_error_nomem(err);

    CURL *e = c->easy;
    /* Options persist on an easy handle; start from a clean slate each time while keeping
     * its connection cache (curl_easy_reset leaves live connections alone). */
    curl_easy_reset(e);
    struct transfer t = {resp, 0};
    c->curl_error[0] = '\0';
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_error);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* Peer and host verification are libcurl's defaults; pin them so nothing can relax them. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_bundle);
    /* No CURLOPT_PROXY/NOPROXY: left unset, libcurl reads http_proxy, https_proxy and
     * no_proxy from the environment itself. */
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    if (c->accept_encoding)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    if (c->close_connection) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);

    static const char empty[] = "";
    const void *payload = body ? body : empty;
    size_t payload_len = body ? body_len : 0;
    if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
               strcmp(method, "PATCH") == 0) {
        /* POSTFIELDS with an explicit size sends the bytes as they are (binary-safe) with a
         * computed Content-Length; CUSTOMREQUEST only renames the method. */
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)payload_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, payload);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else {
        /* DELETE, OPTIONS and friends without a body: no body, no Content-Length. */
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }

    CURLcode rc = curl_easy_perform(e);
    /* Do not let the handle keep pointers into this call's stack and header list. */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
    curl_slist_free_all(list);

    enum ivs_status st;
    if (t.failed) {
        st = ivs_error_nomem(err);
    } else if (rc != CURLE_OK) {
        st = map_curl_error(c, rc, url, err);
    } else {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
        st = IVS_OK;
    }
    if (st != IVS_OK) {
        http_response_cleanup(resp);
        return st;
    }
    /* Always hand back a NUL-terminated body, even an empty one. */
    buf_append(&resp->body, "", 0);
    if (buf_failed(&resp->body)) {
        http_response_cleanup(resp);
        return ivs_error_nomem(err);
    }
    return IVS_OK;
}
