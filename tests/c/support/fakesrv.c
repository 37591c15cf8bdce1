#include "fakesrv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Threads wake up this often to notice fakesrv_stop(). */
#define POLL_SLICE_MS 20
/* A request head larger than this is a test bug; the connection is dropped. */
#define MAX_HEAD_BYTES (256 * 1024)
#define MAX_BODY_BYTES (64 * 1024 * 1024)

struct scripted {
    struct fakesrv_response resp; /* strings owned (copied) */
    struct scripted *next;
};

struct worker {
    pthread_t thread;
    int fd;
    struct fakesrv *srv;
    struct worker *next;
};

struct fakesrv {
    int listen_fd;
    int port;
    atomic_int stopping;
    pthread_t acceptor;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t request_arrived;
    struct scripted *fifo_head, *fifo_tail;
    fakesrv_handler handler;
    void *handler_ud;
    struct fakesrv_request **requests;
    size_t request_count, request_cap;
    size_t connection_count;
    struct worker *workers;

    /* Serialises handler calls so the strings a handler returns stay valid while its response
     * is being formatted. */
    pthread_mutex_t handler_lock;
};

static char *dup_mem(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *dup_str(const char *s) { return s ? dup_mem(s, strlen(s)) : NULL; }

static void free_request(struct fakesrv_request *r)
{
    if (!r)
        return;
    free(r->target);
    free(r->headers);
    free(r->body);
    free(r);
}

static void free_scripted(struct scripted *sc)
{
    free((char *)sc->resp.headers);
    free((char *)sc->resp.body);
    free(sc);
}

static int should_stop(struct fakesrv *s) { return atomic_load(&s->stopping); }

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Waits for fd to become readable; 1 readable, 0 stopping, -1 error. */
static int wait_readable(struct fakesrv *s, int fd)
{
    for (;;) {
        if (should_stop(s))
            return 0;
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, POLL_SLICE_MS);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static int send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A per-connection input buffer: bytes read but not yet consumed survive between requests
 * (pipelining). */
struct inbuf {
    char *data;
    size_t len, cap;
};

static int inbuf_fill(struct fakesrv *s, int fd, struct inbuf *in)
{
    if (in->cap - in->len < 4096) {
        size_t cap = in->cap ? in->cap * 2 : 8192;
        char *p = realloc(in->data, cap);
        if (!p)
            return -1;
        in->data = p;
        in->cap = cap;
    }
    int r = wait_readable(s, fd);
    if (r <= 0)
        return -1;
    ssize_t n;
    do {
        n = recv(fd, in->data + in->len, in->cap - in->len, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    in->len += (size_t)n;
    return 0;
}

static void inbuf_consume(struct inbuf *in, size_t n)
{
    memmove(in->data, in->data + n, in->len - n);
    in->len -= n;
}

static const char *find_header_in(const char *lines, const char *name, size_t *value_len)
{
    size_t name_len = strlen(name);
    const char *p = lines;
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t line_len = eol ? (size_t)(eol - p) : strlen(p);
        if (line_len > name_len && strncasecmp(p, name, name_len) == 0 && p[name_len] == ':') {
            const char *v = p + name_len + 1;
            const char *end = p + line_len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            *value_len = (size_t)(end - v);
            return v;
        }
        p = eol ? eol + 2 : NULL;
    }
    return NULL;
}

const char *fakesrv_request_header(const struct fakesrv_request *r, const char *name, char *buf,
                                   size_t n)
{
    if (!r || !r->headers || !buf || n == 0)
        return NULL;
    size_t len;
    const char *v = find_header_in(r->headers, name, &len);
    if (!v)
        return NULL;
    if (len >= n)
        len = n - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
}

/* Reads one request; NULL when the peer closed, the server stops or the input is garbage. */
static struct fakesrv_request *read_request(struct fakesrv *s, int fd, struct inbuf *in)
{
    char *end;
    for (;;) {
        end = in->len ? memmem(in->data, in->len, "\r\n\r\n", 4) : NULL;
        if (end)
            break;
        if (in->len > MAX_HEAD_BYTES || inbuf_fill(s, fd, in) != 0)
            return NULL;
    }
    size_t head_len = (size_t)(end - in->data) + 4;
    struct fakesrv_request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    char *head = dup_mem(in->data, head_len - 2); /* keeps the last line's CRLF */
    inbuf_consume(in, head_len);
    if (!head) {
        free(r);
        return NULL;
    }
    char *line_end = strstr(head, "\r\n");
    char *sp1 = memchr(head, ' ', (size_t)(line_end - head));
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || (size_t)(sp1 - head) >= sizeof r->method) {
        free(head);
        free(r);
        return NULL;
    }
    memcpy(r->method, head, (size_t)(sp1 - head));
    r->target = dup_mem(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    r->headers = dup_str(line_end + 2);
    free(head);
    if (!r->target || !r->headers) {
        free_request(r);
        return NULL;
    }

    size_t vlen;
    const char *v = find_header_in(r->headers, "Expect", &vlen);
    if (v && vlen == 12 && strncasecmp(v, "100-continue", 12) == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send_all(fd, cont, sizeof cont - 1) != 0) {
            free_request(r);
            return NULL;
        }
    }
    size_t body_len = 0;
    v = find_header_in(r->headers, "Content-Length", &vlen);
    if (v) {
        char tmp[32];
        if (vlen == 0 || vlen >= sizeof tmp) {
            free_request(r);
            return NULL;
        }
        memcpy(tmp, v, vlen);
        tmp[vlen] = '\0';
        char *e;
        unsigned long long n = strtoull(tmp, &e, 10);
        if (*e || n > MAX_BODY_BYTES) {
            free_request(r);
            return NULL;
        }
        body_len = (size_t)n;
    }
    while (in->len < body_len) {
        if (inbuf_fill(s, fd, in) != 0) {
            free_request(r);
            return NULL;
        }
    }
    r->body = dup_mem(in->data ? in->data : "", body_len);
    r->body_len = body_len;
    if (body_len)
        inbuf_consume(in, body_len);
    if (!r->body) {
        free_request(r);
        return NULL;
    }
    return r;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

/* Formats the response into a malloc'd buffer; NULL on allocation failure. */
static char *format_response(const struct fakesrv_request *req, const struct fakesrv_response *resp,
                             size_t *out_len, int *close_after)
{
    int status = resp->status ? resp->status : 200;
    const char *extra = resp->headers ? resp->headers : "";
    size_t body_len = resp->body ? (resp->body_len ? resp->body_len : strlen(resp->body)) : 0;
    int no_body = strcmp(req->method, "HEAD") == 0 || status == 204 || status == 304;
    size_t vlen;
    const char *conn = find_header_in(req->headers, "Connection", &vlen);
    int closing = resp->close_after || resp->no_content_length ||
                  (conn && vlen == 5 && strncasecmp(conn, "close", 5) == 0);
    *close_after = closing;

    char head[512];
    int n;
    if (resp->no_content_length)
        n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n%s", status, reason_phrase(status),
                     closing ? "Connection: close\r\n" : "");
    else
        n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s", status,
                     reason_phrase(status), body_len, closing ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof head)
        return NULL;
    size_t extra_len = strlen(extra);
    size_t total = (size_t)n + extra_len + 2 + (no_body ? 0 : body_len);
    char *out = malloc(total + 1);
    if (!out)
        return NULL;
    memcpy(out, head, (size_t)n);
    memcpy(out + n, extra, extra_len);
    memcpy(out + n + extra_len, "\r\n", 2);
    if (!no_body && body_len)
        memcpy(out + n + extra_len + 2, resp->body, body_len);
    out[total] = '\0';
    *out_len = total;
    return out;
}

static int record_request(struct fakesrv *s, struct fakesrv_request *r)
{
    pthread_mutex_lock(&s->lock);
    if (s->request_count == s->request_cap) {
        size_t cap = s->request_cap ? s->request_cap * 2 : 16;
        struct fakesrv_request **p = realloc(s->requests, cap * sizeof *p);
        if (!p) {
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
        s->requests = p;
        s->request_cap = cap;
    }
    s->requests[s->request_count++] = r;
    pthread_cond_broadcast(&s->request_arrived);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* Answers one request. Returns 1 to keep the connection, 0 to close it. */
static int answer(struct fakesrv *s, int fd, const struct fakesrv_request *req)
{
    pthread_mutex_lock(&s->lock);
    struct scripted *sc = s->fifo_head;
    if (sc) {
        s->fifo_head = sc->next;
        if (!s->fifo_head)
            s->fifo_tail = NULL;
    }
    fakesrv_handler fn = s->handler;
    void *ud = s->handler_ud;
    pthread_mutex_unlock(&s->lock);

    struct fakesrv_response resp = {.status = 404, .body = "no scripted response\n"};
    char *wire = NULL;
    size_t wire_len = 0;
    int close_after = 0;
    if (sc) {
        resp = sc->resp;
        wire = format_response(req, &resp, &wire_len, &close_after);
    } else if (fn) {
        pthread_mutex_lock(&s->handler_lock);
        memset(&resp, 0, sizeof resp);
        fn(ud, req, &resp);
        wire = format_response(req, &resp, &wire_len, &close_after);
        pthread_mutex_unlock(&s->handler_lock);
    } else {
        wire = format_response(req, &resp, &wire_len, &close_after);
    }
    if (sc)
        free_scripted(sc);

    for (int waited = 0; waited < resp.delay_ms && !should_stop(s); waited += POLL_SLICE_MS)
        sleep_ms(resp.delay_ms - waited < POLL_SLICE_MS ? resp.delay_ms - waited : POLL_SLICE_MS);
    int keep = 0;
    if (!resp.drop && wire && !should_stop(s))
        keep = send_all(fd, wire, wire_len) == 0 && !close_after;
    free(wire);
    return keep;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct fakesrv *s = w->srv;
    struct inbuf in = {0};
    for (;;) {
        struct fakesrv_request *r = read_request(s, w->fd, &in);
        if (!r)
            break;
        if (record_request(s, r) != 0) {
            free_request(r);
            break;
        }
        if (!answer(s, w->fd, r))
            break;
    }
    free(in.data);
    shutdown(w->fd, SHUT_RDWR);
    close(w->fd);
    w->fd = -1;
    return NULL;
}

static void *acceptor_main(void *arg)
{
    struct fakesrv *s = arg;
    while (!should_stop(s)) {
        struct pollfd p = {s->listen_fd, POLLIN, 0};
        int n = poll(&p, 1, POLL_SLICE_MS);
        if (n <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        struct worker *w = calloc(1, sizeof *w);
        if (!w) {
            close(fd);
            continue;
        }
        w->fd = fd;
        w->srv = s;
        /* Counted before the worker runs: it may answer (and the client read the count)
         * before this thread is scheduled again. */
        pthread_mutex_lock(&s->lock);
        s->connection_count++;
        pthread_mutex_unlock(&s->lock);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            close(fd);
            free(w);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        w->next = s->workers;
        s->workers = w;
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

struct fakesrv *fakesrv_start(void)
{
    struct fakesrv *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0) {
        free(s);
        return NULL;
    }
    int one = 1;
    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t alen = sizeof addr;
    if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(s->listen_fd, 64) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&addr, &alen) != 0) {
        close(s->listen_fd);
        free(s);
        return NULL;
    }
    s->port = ntohs(addr.sin_port);
    atomic_init(&s->stopping, 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->handler_lock, NULL);
    pthread_cond_init(&s->request_arrived, NULL);
    if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) {
        close(s->listen_fd);
        pthread_mutex_destroy(&s->lock);
        pthread_mutex_destroy(&s->handler_lock);
        pthread_cond_destroy(&s->request_arrived);
        free(s);
        return NULL;
    }
    return s;
}

int fakesrv_port(const struct fakesrv *s) { return s ? s->port : 0; }

void fakesrv_url(const struct fakesrv *s, char *out, size_t n)
{
    if (out && n)
        snprintf(out, n, "http://127.0.0.1:%d", fakesrv_port(s));
}

void fakesrv_push(struct fakesrv *s, const struct fakesrv_response *r)
{
    if (!s || !r)
        return;
    struct scripted *sc = calloc(1, sizeof *sc);
    if (!sc)
        return;
    sc->resp = *r;
    sc->resp.headers = dup_str(r->headers);
    if (r->body) {
        size_t len = r->body_len ? r->body_len : strlen(r->body);
        sc->resp.body = dup_mem(r->body, len);
        sc->resp.body_len = len;
    }
    pthread_mutex_lock(&s->lock);
    if (s->fifo_tail)
        s->fifo_tail->next = sc;
    else
        s->fifo_head = sc;
    s->fifo_tail = sc;
    pthread_mutex_unlock(&s->lock);
}

void fakesrv_set_handler(struct fakesrv *s, fakesrv_handler fn, void *ud)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->handler = fn;
    s->handler_ud = ud;
    pthread_mutex_unlock(&s->lock);
}

size_t fakesrv_request_count(struct fakesrv *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    size_t n = s->request_count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

const struct fakesrv_request *fakesrv_request(struct fakesrv *s, size_t i)
{
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->lock);
    const struct fakesrv_request *r = i < s->request_count ? s->requests[i] : NULL;
    pthread_mutex_unlock(&s->lock);
    return r;
}

size_t fakesrv_connection_count(struct fakesrv *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    size_t n = s->connection_count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int fakesrv_wait_requests(struct fakesrv *s, size_t count, int timeout_ms)
{
    if (!s)
        return 0;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (s->request_count < count && rc == 0)
        rc = pthread_cond_timedwait(&s->request_arrived, &s->lock, &deadline);
    int ok = s->request_count >= count;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void fakesrv_stop(struct fakesrv *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    pthread_join(s->acceptor, NULL);
    close(s->listen_fd);
    /* The acceptor is gone, so the worker list no longer changes. */
    struct worker *w = s->workers;
    while (w) {
        struct worker *next = w->next;
        pthread_join(w->thread, NULL);
        free(w);
        w = next;
    }
    struct scripted *sc = s->fifo_head;
    while (sc) {
        struct scripted *next = sc->next;
        free_scripted(sc);
        sc = next;
    }
    for (size_t i = 0; i < s->request_count; i++)
        free_request(s->requests[i]);
    free(s->requests);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->handler_lock);
    pthread_cond_destroy(&s->request_arrived);
    free(s);
}
