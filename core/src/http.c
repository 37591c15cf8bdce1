/* http.c: the one place that talks to libcurl. */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "errors.h"
#include "url.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 60000L
#define ACCEPT_ENCODING "gzip, deflate"

/* What every transfer of one owner (a blocking connection or a multi) is sent with. */
struct http_settings {
    long connect_timeout_ms;
    long timeout_ms;
    int close_connection;
    int accept_encoding;
    int sensitive_body;
    char *ca_bundle;
    char *user_agent;
    /* The proxy environment as libcurl would read it, taken once when the owner is created
     * (NULL: unset or empty, which libcurl treats alike). */
    char *http_proxy;  /* http_proxy only: libcurl never reads HTTP_PROXY (CGI's httpoxy) */
    char *https_proxy; /* https_proxy, else HTTPS_PROXY */
    char *all_proxy;   /* all_proxy, else ALL_PROXY */
    char *no_proxy;    /* no_proxy, else NO_PROXY */
};

/* The requests of one easy handle, one at a time, from setup to completion; what the curl
 * callbacks write into. It lives as long as its easy handle, so the pointers curl keeps (the
 * error buffer, the callbacks' data) stay valid and are set only once. */
struct transfer {
    struct http_response *resp;
    int failed;            /* allocation failure inside a callback */
    int too_large;         /* the body passed HTTP_MAX_RESPONSE_BYTES */
    int headers_too_large; /* the headers passed HTTP_MAX_RESPONSE_HEADER_BYTES */
    size_t header_bytes;   /* received for this request so far */
    int body_started;      /* on_body ran for this request */
    char curl_error[CURL_ERROR_SIZE];
    /* The request's header list: nodes and text are ours and reused by the next request, so
     * building it costs no allocation once they have grown to size. curl only reads it. */
    struct curl_slist *header_nodes;
    size_t header_node_cap;
    struct buf header_text; /* the lines, each NUL-terminated, back to back */
    /* Options that outlive a request on the handle: set once, or undone when the next
     * request does not want them. */
    /* The URL pre-parsed (CURLOPT_CURLU), with the text it was parsed from: a handle sending
     * to the same URL again skips libcurl's parse and re-print of it. NULL when libcurl
     * could not parse it (CURLOPT_URL alone then lets libcurl report why). */
    CURLU *url;
    struct buf url_text;
    const char *proxy, *no_proxy; /* what CURLOPT_PROXY and CURLOPT_NOPROXY were set to */
    unsigned char proxy_set;      /* they were set at all */
    unsigned char configured;     /* the per-owner options are set */
    unsigned char custom_method, head, posted;
};

struct http_conn {
    CURL *easy;
    struct http_settings settings;
    struct transfer t;
};

/* A copy of the first of these variables that is set and not empty (libcurl's
 * curl_getenv() also takes an empty value for an unset one); NULL when none is. *failed is
 * set when a copy cannot be made. */
static char *env_copy(const char *lower, const char *upper, int *failed)
{
    const char *v = getenv(lower);
    if ((!v || !*v) && upper)
        v = getenv(upper);
    if (!v || !*v)
        return NULL;
    char *copy = ivs_strdup(v);
    if (!copy)
        *failed = 1;
    return copy;
}

/* Wipes and frees a string that may hold credentials (a proxy URL's user:password). */
static void free_secret(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static enum ivs_status settings_init(struct http_settings *s, const struct http_options *opts,
                                     struct ivs_error *err)
{
    static const struct http_options defaults = {0};
    if (!opts)
        opts = &defaults;
    s->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    s->connect_timeout_ms =
        opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    /* A connect timeout beyond the total one would never fire; keep the reported cause right. */
    if (s->connect_timeout_ms > s->timeout_ms)
        s->connect_timeout_ms = s->timeout_ms;
    s->close_connection = opts->close_connection;
    s->accept_encoding = opts->accept_encoding;
    s->sensitive_body = opts->sensitive_body;
    s->ca_bundle = ivs_strdup(opts->ca_bundle);
    s->user_agent = ivs_strdup(opts->user_agent ? opts->user_agent : "libivs/" IVS_VERSION);
    if (!s->user_agent || (opts->ca_bundle && !s->ca_bundle))
        return ivs_error_nomem(err);
    /* Read here once rather than by libcurl on every transfer (a getenv() walk of the whole
     * environment per variable, several per request); transfers get them back as explicit
     * CURLOPT_PROXY / CURLOPT_NOPROXY, chosen as libcurl chooses (set_proxy). */
    int failed = 0;
    s->http_proxy = env_copy("http_proxy", NULL, &failed);
    s->https_proxy = env_copy("https_proxy", "HTTPS_PROXY", &failed);
    s->all_proxy = env_copy("all_proxy", "ALL_PROXY", &failed);
    s->no_proxy = env_copy("no_proxy", "NO_PROXY", &failed);
    if (failed)
        return ivs_error_nomem(err);
    return IVS_OK;
}

static void settings_cleanup(struct http_settings *s)
{
    free(s->ca_bundle);
    free(s->user_agent);
    free_secret(s->http_proxy);
    free_secret(s->https_proxy);
    free_secret(s->all_proxy);
    free(s->no_proxy);
    memset(s, 0, sizeof *s);
}

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
    enum ivs_status st = settings_init(&c->settings, opts, err);
    if (st != IVS_OK) {
        http_conn_free(c);
        return st;
    }
    c->easy = curl_easy_init();
    if (!c->easy) {
        http_conn_free(c);
        return ivs_error_nomem(err);
    }
    *out = c;
    return IVS_OK;
}

static void transfer_cleanup(struct transfer *t)
{
    curl_url_cleanup(t->url);
    buf_free(&t->url_text);
    free(t->header_nodes);
    buf_free(&t->header_text);
    memset(t, 0, sizeof *t);
}

void http_conn_free(struct http_conn *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    transfer_cleanup(&c->t);
    settings_cleanup(&c->settings);
    free(c);
}

void http_response_cleanup(struct http_response *r)
{
    if (!r)
        return;
    buf_free(&r->body);
    buf_free(&r->header_text);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

/* What a reused response may keep between requests: an IVS answer needs far less. */
#define KEEP_BODY_BYTES (64 * 1024)
#define KEEP_HEADER_BYTES (16 * 1024)
#define KEEP_HEADER_LINES 64

void http_response_reset(struct http_response *r)
{
    if (!r)
        return;
    if (r->body.failed || r->body.cap > KEEP_BODY_BYTES) {
        buf_free(&r->body);
    } else {
        if (r->body.sensitive && r->body.data)
            explicit_bzero(r->body.data, r->body.cap);
        buf_reset(&r->body);
    }
    if (r->header_text.failed || r->header_text.cap > KEEP_HEADER_BYTES)
        buf_free(&r->header_text);
    else
        buf_reset(&r->header_text);
    if (r->header_cap > KEEP_HEADER_LINES) {
        free(r->headers);
        r->headers = NULL;
        r->header_cap = 0;
    }
    r->header_count = 0;
    r->status = 0;
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

static void drop_headers(struct http_response *r)
{
    r->header_count = 0;
    buf_reset(&r->header_text);
}

/* Points every header line into the finished header text. */
static void fix_header_pointers(struct http_response *r)
{
    for (size_t i = 0; i < r->header_count; i++) {
        r->headers[i].name = r->header_text.data + r->headers[i].name_off;
        r->headers[i].value = r->header_text.data + r->headers[i].value_off;
    }
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct transfer *t = ud;
    size_t n = size * nmemb;
    t->body_started = 1;
    if (n > HTTP_MAX_RESPONSE_BYTES - t->resp->body.len) {
        /* A misbehaving or hostile endpoint must not be able to exhaust the host's memory. */
        t->too_large = 1;
        return 0;
    }
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
    /* Counted over every header block of the request (interim ones included): a peer must
     * not make us keep megabytes of headers line by line. */
    t->header_bytes += n;
    if (t->header_bytes > HTTP_MAX_RESPONSE_HEADER_BYTES) {
        t->headers_too_large = 1;
        return 0;
    }
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
    /* Appended to one text block rather than copied line by line: the pointers are set when
     * the block has stopped moving (transfer_finish). */
    struct buf *text = &r->header_text;
    size_t value_len = (size_t)(end - v);
    /* The call only when the text must grow: a dozen lines per response, every response. */
    if ((text->failed || !text->data || text->cap - text->len <= name_len + value_len + 2) &&
        buf_reserve(text, name_len + value_len + 2) != 0) {
        t->failed = 1;
        return 0;
    }
    struct http_header_line *h = &r->headers[r->header_count];
    h->name = h->value = NULL;
    h->name_off = text->len;
    memcpy(text->data + text->len, data, name_len);
    text->len += name_len;
    text->data[text->len++] = '\0';
    h->value_off = text->len;
    memcpy(text->data + text->len, v, value_len);
    text->len += value_len;
    text->data[text->len++] = '\0';
    text->data[text->len] = '\0'; /* the buffer's own terminator, inside the reserved room */
    r->header_count++;
    return n;
}

/* The host part of a URL, for error messages (never includes userinfo or the path). */
static void url_host(const char *url, char *out, size_t n)
{
    struct url_parts parts;
    size_t len = 0;
    if (!url_split(url, &parts)) {
        len = (size_t)(parts.path - parts.host);
        if (len >= n)
            len = n - 1;
        memcpy(out, parts.host, len);
    }
    out[len] = '\0';
}

static enum ivs_status map_curl_error(const struct transfer *t, CURLcode rc, const char *url,
                                      struct ivs_error *err)
{
    char host[256];
    url_host(url ? url : "", host, sizeof host);
    const char *detail = t->curl_error[0] ? t->curl_error : curl_easy_strerror(rc);
    /* libcurl reports these with codes that would mislead: a header line over its own limit
     * (100 KiB) as out of memory with no message (before the body, by far the likelier of
     * the two causes), an HTTP/0.9 (or non-HTTP) answer as an unsupported protocol, which
     * reads like a bad endpoint URL. */
    if (rc == CURLE_OUT_OF_MEMORY && !t->body_started && !t->curl_error[0])
        return ivs_error_set(err, IVS_ERR_NETWORK, "ResponseHeaderTooLarge",
                             "%s answered with a response header line too large to read", host);
    if (rc == CURLE_UNSUPPORTED_PROTOCOL && strstr(detail, "HTTP/0.9"))
        return ivs_error_set(err, IVS_ERR_NETWORK, "ProtocolError",
                             "%s did not answer in HTTP/1.x or HTTP/2 (an HTTP/0.9 reply, or "
                             "not HTTP at all): %s",
                             host, detail);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return ivs_error_set(err, IVS_ERR_TIMEOUT, "Timeout", "request to %s timed out: %s", host,
                             detail);
    case CURLE_OUT_OF_MEMORY: return ivs_error_nomem(err);
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

/* Appends one header line for curl: "Name: value", or "Name;" for an empty value ("Name:"
 * would remove the header instead). An empty suppress line "Name:" is made with value NULL. */
static void put_header_line(struct buf *b, const char *name, const char *value, int suppress)
{
    size_t name_len = strlen(name), value_len = !suppress && value ? strlen(value) : 0;
    /* name, ": " or one of ':' ';', the value and the line's own NUL (buf keeps one more) */
    if ((b->failed || !b->data || b->cap - b->len <= name_len + value_len + 3) &&
        buf_reserve(b, name_len + value_len + 3) != 0)
        return;
    char *w = b->data + b->len;
    memcpy(w, name, name_len);
    w += name_len;
    if (suppress) {
        *w++ = ':';
    } else if (value_len) {
        *w++ = ':';
        *w++ = ' ';
        memcpy(w, value, value_len);
        w += value_len;
    } else {
        *w++ = ';';
    }
    *w++ = '\0';
    b->len = (size_t)(w - b->data);
    *w = '\0';
}

/* The header names whose presence among the caller's changes what is sent. */
enum {
    HAS_CONTENT_LENGTH = 1,
    HAS_USER_AGENT = 2,
    HAS_ACCEPT_ENCODING = 4,
    HAS_EXPECT = 8,
    HAS_CONTENT_TYPE = 16,
    HAS_ACCEPT = 32,
};

/* The largest body libcurl sends without adding "Expect: 100-continue" on its own, in every
 * version (1 KiB in old ones, 1 MiB in newer ones): up to it, suppressing Expect would be one
 * more line for libcurl to compare on each of its header look-ups, for nothing. */
#define EXPECT_FREE_BODY_BYTES 1024

/* Which of those names the caller's headers hold (case-insensitive), in one pass. */
static unsigned special_headers(const struct ivs_header *headers, size_t count)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"Content-Length", HAS_CONTENT_LENGTH},   {"User-Agent", HAS_USER_AGENT},
        {"Accept-Encoding", HAS_ACCEPT_ENCODING}, {"Expect", HAS_EXPECT},
        {"Content-Type", HAS_CONTENT_TYPE},       {"Accept", HAS_ACCEPT},
    };
    unsigned found = 0;
    for (size_t i = 0; i < count; i++) {
        const char *n = headers[i].name;
        if (!n)
            continue;
        int first = n[0] | 0x20; /* every special name starts with a letter */
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (first == (names[k].name[0] | 0x20) && strcasecmp(n, names[k].name) == 0)
                found |= names[k].bit;
    }
    return found;
}

static struct curl_slist *build_header_list(struct transfer *t, const struct ivs_header *headers,
                                            size_t count, unsigned given, size_t body_len,
                                            const struct http_settings *s, int *failed)
{
    *failed = 0;
    if (buf_failed(&t->header_text))
        buf_free(&t->header_text);
    buf_reset(&t->header_text);
    /* The lines hold the Authorization and X-Amz-Security-Token values: wiped when the buffer
     * grows or is freed. */
    t->header_text.sensitive = 1;
    size_t lines = 0;
    for (size_t i = 0; i < count; i++) {
        if (!headers[i].name)
            continue;
        put_header_line(&t->header_text, headers[i].name, headers[i].value, 0);
        lines++;
    }
    /* The User-Agent travels as one of these lines, not as CURLOPT_USERAGENT: with that
     * option libcurl formats "User-Agent: ..." through its own printf on every request, about
     * 23k instructions for our agent string against 10k as a custom line (a tenth of a call).
     * A caller's own User-Agent wins, as it would over the option. */
    if (s->user_agent && !(given & HAS_USER_AGENT)) {
        put_header_line(&t->header_text, "User-Agent", s->user_agent, 0);
        lines++;
    }
    /* Likewise Accept-Encoding: libcurl formats its own line with aprintf() per request
     * unless one is given, and still decodes the answer because CURLOPT_ACCEPT_ENCODING is
     * set (configure_handle). The same value as that option. */
    if (s->accept_encoding && !(given & HAS_ACCEPT_ENCODING)) {
        put_header_line(&t->header_text, "Accept-Encoding", ACCEPT_ENCODING, 0);
        lines++;
    }
    /* Suppress what curl would add on its own: "Expect: 100-continue" costs a round trip, and
     * a default form Content-Type would be a header the caller neither set nor signed.
     * Its Accept line (any media type) says nothing: AWS services ignore it, botocore sends
     * none. And libcurl formats each byte of its request head through its own printf, a
     * character at a time (about a hundred instructions per byte): its 13 bytes cost more
     * than this line. */
    if (!(given & HAS_ACCEPT)) {
        put_header_line(&t->header_text, "Accept", NULL, 1);
        lines++;
    }
    if (!(given & HAS_EXPECT) && body_len > EXPECT_FREE_BODY_BYTES) {
        put_header_line(&t->header_text, "Expect", NULL, 1);
        lines++;
    }
    if (!(given & HAS_CONTENT_TYPE)) {
        put_header_line(&t->header_text, "Content-Type", NULL, 1);
        lines++;
    }
    if (lines > t->header_node_cap) {
        struct curl_slist *nodes = realloc(t->header_nodes, lines * sizeof *nodes);
        if (!nodes) {
            *failed = 1;
            return NULL;
        }
        t->header_nodes = nodes;
        t->header_node_cap = lines;
    }
    if (buf_failed(&t->header_text)) {
        *failed = 1;
        return NULL;
    }
    /* Link the nodes only now: the text may have moved while it grew. */
    char *line = t->header_text.data;
    for (size_t i = 0; i < lines; i++) {
        t->header_nodes[i].data = line;
        t->header_nodes[i].next = i + 1 < lines ? &t->header_nodes[i + 1] : NULL;
        line += strlen(line) + 1;
    }
    return lines ? t->header_nodes : NULL;
}

/* Sets what never changes between the requests of one owner on easy handle e, once per
 * handle: curl keeps options from one transfer to the next. */
static void configure_handle(const struct http_settings *s, struct transfer *t, CURL *e)
{
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* Peer and host verification are libcurl's defaults; pin them so nothing can relax them. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_bundle);
    if (s->accept_encoding)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ACCEPT_ENCODING);
    if (s->close_connection) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    t->configured = 1;
}

/* Sets the method and body of one request, first undoing what an earlier request on the
 * handle set that this one must not inherit (a custom method, HEAD, a body). */
static void set_method(struct transfer *t, CURL *e, const char *method, const void *body,
                       size_t body_len)
{
    int is_get = strcmp(method, "GET") == 0 && !body;
    int is_head = !is_get && strcmp(method, "HEAD") == 0;
    int with_body = !is_get && !is_head &&
                    (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                     strcmp(method, "PATCH") == 0);
    /* Undo first: clearing POSTFIELDS makes curl switch the method to POST, so it must come
     * before the method is set. */
    if (t->posted && !with_body) {
        /* curl would not send it without a POST-like method, but no pointer to a freed body
         * stays behind. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
    }
    if (t->custom_method)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    if (t->head && !is_head)
        curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
    t->posted = (unsigned char)with_body;
    t->head = (unsigned char)is_head;
    t->custom_method = 0;

    static const char empty[] = "";
    if (is_get) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (is_head) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (with_body) {
        /* POSTFIELDS with an explicit size sends the bytes as they are (binary-safe) with a
         * computed Content-Length; CUSTOMREQUEST only renames the method. The bytes are not
         * copied: they must outlive the transfer (the caller's body does). */
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : empty);
        if (strcmp(method, "POST") != 0) {
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
            t->custom_method = 1;
        }
    } else {
        /* DELETE, OPTIONS and friends without a body: no body, no Content-Length. */
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        t->custom_method = 1;
    }
}

/* The proxy libcurl would take from the environment for url, from the copies made when the
 * owner was created: <scheme>_proxy (for http the lowercase name only, for https either
 * case), else all_proxy, else none. With a proxy, no_proxy goes to CURLOPT_NOPROXY, which
 * libcurl applies exactly as it applies the variable ("" when unset: NULL would send libcurl
 * back to the environment). Without one, CURLOPT_NOPROXY "*" says so: libcurl then neither
 * reads the environment nor copies an empty proxy string on every transfer. */
static void set_proxy(const struct http_settings *s, struct transfer *t, CURL *e, const char *url)
{
    static const char none[] = "", every_host[] = "*";
    /* http for everything but https: libcurl takes a URL without a scheme as http, and refuses
     * any other scheme (CURLOPT_PROTOCOLS_STR) before it looks for a proxy. */
    const char *scheme_proxy =
        strncasecmp(url, "https://", 8) == 0 ? s->https_proxy : s->http_proxy;
    const char *proxy = scheme_proxy ? scheme_proxy : s->all_proxy;
    const char *no_proxy = !proxy ? every_host : s->no_proxy ? s->no_proxy : none;
    if (!t->proxy_set || proxy != t->proxy) {
        curl_easy_setopt(e, CURLOPT_PROXY, proxy);
        t->proxy = proxy;
    }
    if (!t->proxy_set || no_proxy != t->no_proxy) {
        curl_easy_setopt(e, CURLOPT_NOPROXY, no_proxy);
        t->no_proxy = no_proxy;
    }
    t->proxy_set = 1;
}

/* Points the handle at url, when it does not point there already. CURLOPT_URL is set too
 * (it is only copied: what libcurl reports as the effective URL); CURLOPT_CURLU, which libcurl
 * prefers when both are set, carries the URL parsed with the flags libcurl itself parses
 * CURLOPT_URL with, once per distinct URL. url_text is only non-empty while both are set. */
static void set_url(struct transfer *t, CURL *e, const char *url)
{
    size_t len = strlen(url);
    if (len && t->url_text.len == len && memcmp(t->url_text.data, url, len) == 0)
        return; /* the handle still holds both, from the last request */
    curl_easy_setopt(e, CURLOPT_URL, url);
    buf_reset(&t->url_text);
    if (!t->url)
        t->url = curl_url();
    if (t->url && curl_url_set(t->url, CURLUPART_URL, url,
                               CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        buf_append(&t->url_text, url, len);
        if (!buf_failed(&t->url_text)) {
            curl_easy_setopt(e, CURLOPT_CURLU, t->url);
            return;
        }
        buf_free(&t->url_text);
    }
    curl_easy_setopt(e, CURLOPT_CURLU, NULL);
}

/*
 * Configures easy handle e for one request, writing into t and resp. The blocking and the
 * multi paths both go through here and through transfer_finish(), so a request is put on the
 * wire the same way whichever path sends it. On failure nothing is left to release.
 */
static enum ivs_status transfer_setup(const struct http_settings *s, struct transfer *t, CURL *e,
                                      const char *method, const char *url,
                                      const struct ivs_header *headers, size_t header_count,
                                      const void *body, size_t body_len, struct http_response *resp,
                                      struct ivs_error *err)
{
    if (!resp)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_perform needs a response");
    http_response_reset(resp);
    resp->body.sensitive = s->sensitive_body;
    if (!method || !url)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_perform needs a connection, method and URL");
    unsigned given = special_headers(headers, header_count);
    if (given & HAS_CONTENT_LENGTH)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_perform computes Content-Length itself; do not pass it");

    int failed = 0;
    struct curl_slist *list =
        build_header_list(t, headers, header_count, given, body ? body_len : 0, s, &failed);
    if (failed)
        return ivs_error_nomem(err);

    if (!t->configured)
        configure_handle(s, t, e);
    t->resp = resp;
    t->failed = 0;
    t->too_large = 0;
    t->headers_too_large = 0;
    t->header_bytes = 0;
    t->body_started = 0;
    t->curl_error[0] = '\0';
    set_url(t, e, url);
    set_proxy(s, t, e, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    set_method(t, e, method, body, body_len);
    return IVS_OK;
}

/* Turns the outcome of a transfer set up by transfer_setup() into a status, and detaches the
 * handle from this request's header list and response. */
static enum ivs_status transfer_finish(struct transfer *t, CURL *e, CURLcode rc,
                                       struct ivs_error *err)
{
    /* The handle keeps no pointer into this request's headers; the callbacks see no
     * response until the next request sets one. */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    struct http_response *resp = t->resp;
    t->resp = NULL;

    enum ivs_status st;
    if (t->failed) {
        st = ivs_error_nomem(err);
    } else if (t->headers_too_large) {
        char host[256];
        const char *url = NULL;
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
        url_host(url ? url : "", host, sizeof host);
        st = ivs_error_set(err, IVS_ERR_NETWORK, "ResponseHeaderTooLarge",
                           "%s answered with response headers over %d KiB", host,
                           HTTP_MAX_RESPONSE_HEADER_BYTES >> 10);
    } else if (t->too_large) {
        st = ivs_error_set(err, IVS_ERR_INTERNAL, "ResponseTooLarge",
                           "the response body exceeded %d MiB (counted after decompression)",
                           HTTP_MAX_RESPONSE_BYTES >> 20);
    } else if (rc != CURLE_OK) {
        const char *url = NULL;
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
        st = map_curl_error(t, rc, url, err);
    } else {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
        fix_header_pointers(resp);
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

enum ivs_status http_perform(struct http_conn *c, const char *method, const char *url,
                             const struct ivs_header *headers, size_t header_count,
                             const void *body, size_t body_len, struct http_response *resp,
                             struct ivs_error *err)
{
    if (!c) {
        if (resp)
            http_response_cleanup(resp);
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_perform needs a connection, method and URL");
    }
    enum ivs_status st = transfer_setup(&c->settings, &c->t, c->easy, method, url, headers,
                                        header_count, body, body_len, resp, err);
    if (st != IVS_OK)
        return st;
    CURLcode rc = curl_easy_perform(c->easy);
    return transfer_finish(&c->t, c->easy, rc, err);
}

/* ---------------------------------------------------------------------------------------
 * Many transfers at once on a multi handle
 * ------------------------------------------------------------------------------------- */

struct http_async {
    struct http_multi *multi;
    CURL *easy;
    struct transfer t;
    http_done_fn done;
    void *ud;
    struct http_async *next_idle;
};

struct http_multi {
    CURLM *multi;
    struct http_settings settings;
    struct http_async *idle; /* easy handles kept for the next transfers */
    size_t idle_count, idle_max;
    size_t active;
};

enum ivs_status http_multi_new(const struct http_options *opts, int max_connections,
                               struct http_multi **out, struct ivs_error *err)
{
    if (!out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_multi_new needs an output pointer");
    *out = NULL;
    if (ivs_global_init() < 0)
        return ivs_error_set(err, IVS_ERR_INTERNAL, "CurlInitFailed",
                             "libcurl could not be initialised");
    if (max_connections <= 0)
        max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    struct http_multi *m = calloc(1, sizeof *m);
    if (!m)
        return ivs_error_nomem(err);
    enum ivs_status st = settings_init(&m->settings, opts, err);
    if (st != IVS_OK) {
        http_multi_free(m);
        return st;
    }
    m->multi = curl_multi_init();
    if (!m->multi) {
        http_multi_free(m);
        return ivs_error_nomem(err);
    }
    m->idle_max = (size_t)max_connections;
    /* Transfers beyond the cap wait inside libcurl for a connection to free up; the cache
     * keeps every allowed connection alive between bursts. */
    curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_connections);
    curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_connections);
    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)max_connections);
    *out = m;
    return IVS_OK;
}

static void async_destroy(struct http_async *a)
{
    if (a->easy)
        curl_easy_cleanup(a->easy);
    transfer_cleanup(&a->t);
    free(a);
}

/* Detaches a finished or aborted transfer from the multi and keeps its handle for reuse. */
static void async_release(struct http_multi *m, struct http_async *a)
{
    curl_multi_remove_handle(m->multi, a->easy);
    m->active--;
    a->done = NULL;
    a->ud = NULL;
    if (m->idle_count >= m->idle_max) {
        async_destroy(a);
        return;
    }
    a->next_idle = m->idle;
    m->idle = a;
    m->idle_count++;
}

void http_multi_free(struct http_multi *m)
{
    if (!m)
        return;
    /* Every transfer must have been finished or aborted by its owner before this. */
    while (m->idle) {
        struct http_async *a = m->idle;
        m->idle = a->next_idle;
        async_destroy(a);
    }
    if (m->multi)
        curl_multi_cleanup(m->multi);
    settings_cleanup(&m->settings);
    free(m);
}

enum ivs_status http_multi_start(struct http_multi *m, const char *method, const char *url,
                                 const struct ivs_header *headers, size_t header_count,
                                 const void *body, size_t body_len, struct http_response *resp,
                                 http_done_fn done, void *ud, struct http_async **out,
                                 struct ivs_error *err)
{
    if (out)
        *out = NULL;
    if (!m || !done || !out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "http_multi_start needs a multi, a callback and an output pointer");
    struct http_async *a = m->idle;
    if (a) {
        m->idle = a->next_idle;
        m->idle_count--;
    } else {
        a = calloc(1, sizeof *a);
        if (!a)
            return ivs_error_nomem(err);
        a->multi = m;
        a->easy = curl_easy_init();
        if (!a->easy) {
            free(a);
            return ivs_error_nomem(err);
        }
    }
    a->next_idle = NULL;
    enum ivs_status st = transfer_setup(&m->settings, &a->t, a->easy, method, url, headers,
                                        header_count, body, body_len, resp, err);
    if (st == IVS_OK) {
        curl_easy_setopt(a->easy, CURLOPT_PRIVATE, (char *)a);
        if (curl_multi_add_handle(m->multi, a->easy) != CURLM_OK) {
            transfer_finish(&a->t, a->easy, CURLE_OK, NULL);
            http_response_cleanup(resp);
            st = ivs_error_nomem(err);
        }
    }
    if (st != IVS_OK) {
        async_destroy(a);
        return st;
    }
    a->done = done;
    a->ud = ud;
    m->active++;
    *out = a;
    return IVS_OK;
}

void http_multi_abort(struct http_multi *m, struct http_async *a)
{
    if (!m || !a)
        return;
    struct http_response *resp = a->t.resp;
    transfer_finish(&a->t, a->easy, CURLE_ABORTED_BY_CALLBACK, NULL);
    http_response_cleanup(resp);
    /* Removing the handle closes its connection if a response was half read, so a later
     * transfer never sees the rest of an abandoned response. */
    async_release(m, a);
}

int http_multi_perform(struct http_multi *m)
{
    if (!m)
        return 0;
    int running = 0;
    curl_multi_perform(m->multi, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result; /* msg is invalid once the handle is removed */
        char *priv = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        struct http_async *a = (struct http_async *)(void *)priv;
        struct ivs_error err = {0};
        enum ivs_status st = transfer_finish(&a->t, e, rc, &err);
        http_done_fn done = a->done;
        void *ud = a->ud;
        async_release(m, a);
        done(ud, st, &err);
        ivs_error_clear(&err);
    }
    return (int)m->active;
}

int http_multi_wait(struct http_multi *m, int timeout_ms)
{
    if (!m)
        return -1;
    if (timeout_ms < 0)
        timeout_ms = 0;
    int fds = 0;
    return curl_multi_poll(m->multi, NULL, 0, timeout_ms, &fds) == CURLM_OK ? 0 : -1;
}

int http_multi_active(const struct http_multi *m) { return m ? (int)m->active : 0; }
