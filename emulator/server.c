#include "server.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "buf.h"
#include "identity.h"
#include "model.h"
#include "request.h"
#include "sigv4.h"
#include "util.h"

/* The seven regions that offer IVS low-latency streaming. */
static const char *const s_ivs_regions[] = {"us-east-1",      "us-west-2",      "ap-south-1",
                                            "ap-northeast-1", "ap-northeast-2", "eu-central-1",
                                            "eu-west-1"};

/* Request headers larger than this in total get 431, like the AWS front door's limit.
 * CONNECTION_MEMORY is libmicrohttpd's per-connection pool: it must hold a little more than
 * MAX_HEADER_BYTES so that our 431 (not libmicrohttpd's) answers headers up to about twice
 * that, and no more, because libmicrohttpd 0.9.7x zeroes the whole pool after every request:
 * at 128 KiB that memset was more than half of the emulator's instructions per request. */
enum { MAX_HEADER_BYTES = 16 * 1024, CONNECTION_MEMORY = 40 * 1024 };

/* A keep-alive connection may wait this long for its next request (MHD's idle timeout). */
enum { IDLE_TIMEOUT_S = 60, LARGE_BODY = 64 * 1024 };

/* One open connection, watched for the header deadline (slowloris): libmicrohttpd's own
 * timeout only counts inactivity, so a client trickling a byte now and then would keep the
 * connection forever. The watcher thread shuts down (never closes: the descriptor stays
 * libmicrohttpd's) a connection whose headers are late; libmicrohttpd then sees the end of the
 * stream and releases it. */
struct conn_watch {
    struct conn_watch *prev, *next;
    int fd;
    double deadline; /* monotonic seconds; 0 while a request is being handled */
    int shut;
};

struct emu_server {
    struct MHD_Daemon *daemon;
    pthread_mutex_t watch_lock;
    pthread_cond_t watch_cond;
    struct conn_watch *watched;
    pthread_t watcher;
    int watcher_running, stopping;
    struct emu_server_config cfg;
    struct emu_auth auth;
    struct identity *identity; /* STS, SSO portal, SSO-OIDC, signin (identity.c) */
    const char *regions[sizeof s_ivs_regions / sizeof s_ivs_regions[0] + 2];
    pthread_key_t cache_key;   /* one signing-key cache per worker thread */
    pthread_key_t pattern_key; /* one compiled-pattern cache per worker thread */
    unsigned port;
};

struct request_ctx {
    struct buf body;
    int too_large;
    int replied; /* the 413 went out before the body was read */
};

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct conn_watch *watch_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Arms (seconds > 0) or disarms (0) the header deadline of a connection. */
static void watch_arm(struct emu_server *srv, struct MHD_Connection *c, double seconds)
{
    struct conn_watch *w = watch_of(c);
    if (!w)
        return;
    pthread_mutex_lock(&srv->watch_lock);
    w->deadline = seconds > 0 ? mono_now() + seconds : 0;
    pthread_mutex_unlock(&srv->watch_lock);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct emu_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_watch *w = info ? calloc(1, sizeof *w) : NULL;
        if (!w)
            return;
        w->fd = info->connect_fd;
        pthread_mutex_lock(&srv->watch_lock);
        w->deadline = mono_now() + srv->cfg.header_timeout_s;
        w->next = srv->watched;
        if (w->next)
            w->next->prev = w;
        srv->watched = w;
        pthread_mutex_unlock(&srv->watch_lock);
        *socket_context = w;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        /* Called before libmicrohttpd closes the descriptor: once unlinked here, the watcher
         * can no longer touch it. */
        struct conn_watch *w = *socket_context;
        pthread_mutex_lock(&srv->watch_lock);
        if (w->prev)
            w->prev->next = w->next;
        else
            srv->watched = w->next;
        if (w->next)
            w->next->prev = w->prev;
        pthread_mutex_unlock(&srv->watch_lock);
        free(w);
        *socket_context = NULL;
    }
}

static void *watcher_main(void *arg)
{
    struct emu_server *srv = arg;
    pthread_mutex_lock(&srv->watch_lock);
    while (!srv->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->watch_cond, &srv->watch_lock, &until);
        double now = mono_now();
        for (struct conn_watch *w = srv->watched; w; w = w->next) {
            if (w->deadline > 0 && now > w->deadline && !w->shut) {
                shutdown(w->fd, SHUT_RDWR);
                w->shut = 1;
            }
        }
    }
    pthread_mutex_unlock(&srv->watch_lock);
    return NULL;
}

/* Keeps the URL and the query exactly as sent: SigV4 signs the wire form. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

struct header_list {
    struct ivs_header *items;
    size_t n, cap;
    size_t bytes;
    int failed;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct header_list *l = cls;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        struct ivs_header *ni = realloc(l->items, ncap * sizeof *ni);
        if (!ni) {
            l->failed = 1;
            return MHD_NO;
        }
        l->items = ni;
        l->cap = ncap;
    }
    l->items[l->n].name = key;
    l->items[l->n].value = value ? value : "";
    l->n++;
    l->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct buf *q = cls;
    if (q->len)
        buf_putc(q, '&');
    /* MHD turned '+' into ' ' before our (identity) unescape ran; the wire had '+'. */
    for (const char *p = key; *p; p++)
        buf_putc(q, *p == ' ' ? '+' : *p);
    buf_putc(q, '=');
    for (const char *p = value ? value : ""; *p; p++)
        buf_putc(q, *p == ' ' ? '+' : *p);
    return MHD_YES;
}

static enum MHD_Result collect_query_json(void *cls, enum MHD_ValueKind kind, const char *key,
                                          const char *value)
{
    (void)kind;
    struct buf dk = BUF_INIT, dv = BUF_INIT;
    sigv4_uri_decode(&dk, key, strlen(key));
    if (value)
        sigv4_uri_decode(&dv, value, strlen(value));
    cJSON_AddStringToObject(cls, buf_str(&dk), buf_str(&dv));
    buf_free(&dk);
    buf_free(&dv);
    return MHD_YES;
}

/* Hands r's body to the response (r keeps NULL) rather than copying it. */
static enum MHD_Result send_reply(struct MHD_Connection *c, struct emu_reply *r,
                                  const char *request_id)
{
    char *text = NULL;
    if (r->content_type) {
        text = r->body;
        r->body = NULL;
    } else if (r->error_type) {
        cJSON *o = cJSON_CreateObject();
        if (!r->front_door)
            cJSON_AddStringToObject(o, "exceptionMessage", r->message ? r->message : "");
        cJSON_AddStringToObject(o, "message", r->message ? r->message : "");
        for (cJSON *m = r->error_members ? r->error_members->child : NULL; m; m = m->next)
            cJSON_AddItemToObject(o, m->string, cJSON_Duplicate(m, 1));
        text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
    } else if (r->body && r->status != 204) {
        text = r->body;
        r->body = NULL;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(text ? strlen(text) : 0, text ? text : (void *)"",
                                        text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "x-amzn-RequestId", request_id);
    MHD_add_response_header(resp, "Content-Type",
                            r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                            "x-amzn-errortype,x-amzn-requestid,x-amzn-errormessage,x-amzn-trace-id,"
                            "x-amz-apigw-id,date");
    /* The API Gateway front door's security headers (Real-Time's replication operations model
     * them as their whole output). */
    MHD_add_response_header(resp, "Cache-Control", "no-store, no-cache");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; upgrade-insecure-requests;");
    MHD_add_response_header(resp, "Strict-Transport-Security",
                            "max-age:47304000; includeSubDomains");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (r->error_type)
        MHD_add_response_header(resp, "x-amzn-ErrorType", r->error_type);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static int json_content_type(const char *ct)
{
    if (!ct || !*ct)
        return 1;
    return !strncasecmp(ct, "application/json", 16) ||
           !strncasecmp(ct, "application/x-amz-json", 22) || strstr(ct, "+json") != NULL;
}

static struct sigv4_key_cache *thread_cache(struct emu_server *srv)
{
    struct sigv4_key_cache *c = pthread_getspecific(srv->cache_key);
    if (!c) {
        c = sigv4_key_cache_new();
        if (c)
            pthread_setspecific(srv->cache_key, c);
    }
    return c;
}

/* The worker thread's compiled patterns; NULL (validation compiles as it goes) when memory
 * runs out. */
static struct model_pattern_cache *thread_patterns(struct emu_server *srv)
{
    struct model_pattern_cache *c = pthread_getspecific(srv->pattern_key);
    if (!c) {
        c = model_pattern_cache_new();
        if (c && pthread_setspecific(srv->pattern_key, c) != 0) {
            model_pattern_cache_free(c);
            c = NULL;
        }
    }
    return c;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
}

/* Real-Time's resource types in the shared `ivs` ARN namespace. */
static int realtime_arn(const char *arn)
{
    static const char *const types[] = {
        "stage/",       "public-key/",          "encoder-configuration/", "storage-configuration/",
        "composition/", "ingest-configuration/"};
    if (strncmp(arn, "arn:aws:ivs:", 12) != 0)
        return 0;
    const char *p = strchr(arn + 12, ':');
    p = p ? strchr(p + 1, ':') : NULL;
    for (size_t i = 0; p && i < sizeof types / sizeof types[0]; i++)
        if (!strncmp(p + 1, types[i], strlen(types[i])))
            return 1;
    return 0;
}

static int known_region(const struct emu_server *srv, const char *region)
{
    for (const char *const *r = srv->regions; *r; r++)
        if (!strcmp(*r, region))
            return 1;
    return 0;
}

/* Is the service of the credential scope (AKID/date/region/SERVICE/aws4_request) this one? */
static int scope_service_is(const char *authorization, const char *service)
{
    const char *cred = authorization ? strstr(authorization, "Credential=") : NULL;
    if (!cred)
        return 0;
    cred += 11;
    size_t len = strcspn(cred, ", "), n = strlen(service);
    for (int slash = 0; len > 0; cred++, len--) {
        if (*cred == '/' && ++slash == 3)
            return len > n + 1 && !strncmp(cred + 1, service, n) && cred[1 + n] == '/';
    }
    return 0;
}

/*
 * The service a request is for, when something other than its operation path says it: the
 * three services share one port. The Host names it when a client kept the real host name;
 * Chat signs as ivschat; Real-Time and low-latency both sign as ivs, so their (distinct)
 * operation paths decide, except /tags/{arn}, which both have: there the ARN's resource type
 * decides. NULL: try every service's routes.
 */
static const struct model_service *route_hint(const struct emu_request_view *req)
{
    const char *host = emu_header(req, "host");
    if (host && !strncasecmp(host, "ivschat.", 8))
        return model_find_service("ivschat");
    if (host && !strncasecmp(host, "ivsrealtime.", 12))
        return model_find_service("ivs-realtime");
    if (scope_service_is(emu_header(req, "authorization"), "ivschat"))
        return model_find_service("ivschat");
    if (!strncmp(req->raw_path, "/tags/", 6)) {
        struct buf arn = BUF_INIT;
        sigv4_uri_decode(&arn, req->raw_path + 6, strcspn(req->raw_path + 6, "?"));
        const char *a = buf_str(&arn);
        const struct model_service *svc = !strncmp(a, "arn:aws:ivschat:", 16)
                                              ? model_find_service("ivschat")
                                          : realtime_arn(a) ? model_find_service("ivs-realtime")
                                                            : model_find_service("ivs");
        buf_free(&arn);
        return svc;
    }
    return NULL;
}

/* Finds the operation of the routed service (or of the first whose routes match). */
static enum ivs_status route(const struct emu_request_view *req,
                             const struct model_service **svc_out,
                             const struct model_operation **op, cJSON **input,
                             struct ivs_error *err)
{
    const struct model_service *hint = route_hint(req);
    enum ivs_status st = IVS_ERR_USAGE;
    for (size_t i = 0; i < model_service_count; i++) {
        const struct model_service *svc = hint ? hint : &model_services[i];
        ivs_error_clear(err);
        st = model_deserialize_request(svc, req->method, req->raw_path, req->raw_query, req->body,
                                       req->body_len, op, input, err);
        *svc_out = svc;
        if (hint || st != IVS_ERR_USAGE)
            break;
    }
    return st;
}

/* Handles an API request of any of the services; returns 0, or -1 when the connection must
 * be dropped. */
static int handle_api(struct emu_server *srv, const struct emu_request_view *wire,
                      struct emu_reply *out)
{
    const struct model_operation *op = NULL;
    const struct model_service *svc = NULL;
    cJSON *input = NULL;
    struct ivs_error err = {0};
    struct emu_request_view view = *wire;
    const struct emu_request_view *req = &view;
    enum ivs_status st = route(req, &svc, &op, &input, &err);
    view.service = svc ? svc->signing_name : NULL;
    if (st == IVS_ERR_USAGE || (st != IVS_OK && !op && st != IVS_ERR_VALIDATION)) {
        /* The front door answers an unknown route as it does a missing signature. */
        ivs_error_clear(&err);
        cJSON_Delete(input);
        emu_reply_error(out, 403, "MissingAuthenticationTokenException",
                        "Missing Authentication Token");
        out->front_door = 1;
        return 0;
    }
    const char *account = srv->cfg.account;
    char region[64];
    snprintf(region, sizeof region, "%s", srv->cfg.region);
    if (!srv->cfg.no_auth) {
        if (auth_verify(&srv->auth, req, (long long)time(NULL), thread_cache(srv), &account, region,
                        sizeof region, out) != 0) {
            ivs_error_clear(&err);
            cJSON_Delete(input);
            return 0;
        }
    } else {
        /* Even unsigned, a scope region ends up in ARNs and URLs: only the regions a signed
         * request may name are let in. */
        char scoped[64];
        if (auth_scope_region(emu_header(req, "authorization"), scoped, sizeof scoped) == 0) {
            if (!known_region(srv, scoped)) {
                ivs_error_clear(&err);
                cJSON_Delete(input);
                emu_reply_error(out, 403, "InvalidSignatureException",
                                "Credential should be scoped to a valid region.");
                out->front_door = 1;
                return 0;
            }
            snprintf(region, sizeof region, "%s", scoped);
        }
    }
    if (req->body_len && !json_content_type(emu_header(req, "content-type"))) {
        emu_reply_error(out, 415, "UnsupportedMediaTypeException", "Unsupported Media Type");
        out->front_door = 1;
    } else if (st != IVS_OK) {
        emu_reply_error(out, 400, "ValidationException", "%s",
                        err.message ? err.message : "Malformed request.");
    } else if (model_validate_cached(op, input, thread_patterns(srv), &err) != IVS_OK) {
        emu_reply_error(out, 400, "ValidationException", "%s",
                        err.message ? err.message : "Invalid request.");
    } else {
        struct emu_fault_action fault;
        int dropped = 0;
        if (store_take_fault(srv->cfg.store, op->name, &fault)) {
            if (fault.latency_ms > 0)
                sleep_ms(fault.latency_ms);
            if (fault.drop_connection)
                dropped = 1;
            else if (fault.status)
                emu_reply_error(out, fault.status, fault.error_type, "%s", fault.message);
        }
        if (dropped) {
            ivs_error_clear(&err);
            cJSON_Delete(input);
            return -1;
        }
        if (!out->status)
            store_call_service(srv->cfg.store, svc->name, account, region, op, input, out);
    }
    ivs_error_clear(&err);
    cJSON_Delete(input);
    return 0;
}

/* The admin API's query parameters as a JSON object of decoded strings, read from the raw
 * query (as libmicrohttpd splits it: '&' between pairs, the first '=' in each, '+' a space). */
static cJSON *admin_query(const char *raw)
{
    cJSON *query = cJSON_CreateObject();
    while (query && raw && *raw) {
        size_t n = strcspn(raw, "&");
        if (n) {
            struct buf pair = BUF_INIT;
            buf_append(&pair, raw, n);
            char *text = pair.data;
            if (!text)
                break;
            for (char *p = text; *p; p++)
                if (*p == '+')
                    *p = ' ';
            char *eq = strchr(text, '=');
            if (eq)
                *eq = '\0';
            collect_query_json(query, MHD_GET_ARGUMENT_KIND, text, eq ? eq + 1 : NULL);
            buf_free(&pair);
        }
        raw += n;
        if (*raw == '&')
            raw++;
    }
    return query;
}

static void handle_admin(struct emu_server *srv, const char *method, const char *path,
                         const struct emu_request_view *req, struct emu_reply *out)
{
    cJSON *query = admin_query(req->raw_query);
    int identity = !strncmp(path, "/identity", 9) && (!path[9] || path[9] == '/');
    cJSON *body = NULL;
    if (req->body_len) {
        body = cJSON_ParseWithLength(req->body, req->body_len);
        if (!cJSON_IsObject(body)) {
            emu_reply_error(out, 400, "ValidationException",
                            "The admin request body must be a JSON object.");
            cJSON_Delete(body);
            cJSON_Delete(query);
            return;
        }
    }
    if (identity)
        identity_admin(srv->identity, method, path + 9, body, out);
    else
        store_admin(srv->cfg.store, method, path, query, body, out);
    if (!strcmp(path, "/reset") && !strcmp(method, "POST"))
        identity_reset(srv->identity);
    cJSON_Delete(body);
    cJSON_Delete(query);
}

int emu_server_dispatch(struct emu_server *srv, const struct emu_request_view *req,
                        const char *request_id, struct emu_reply *out)
{
    if (!strcmp(req->method, "OPTIONS")) {
        out->status = 200;
        return 0;
    }
    if (!strncmp(req->raw_path, "/_emulator/", 11)) {
        handle_admin(srv, req->method, req->raw_path + 10, req, out);
        return 0;
    }
    if (identity_route(req))
        return identity_handle(srv->identity, srv->cfg.no_auth ? NULL : &srv->auth,
                               thread_cache(srv), srv->cfg.store, req, request_id, out) != 0
                   ? -1
                   : 0;
    return handle_api(srv, req, out);
}

static enum MHD_Result reply_too_large(struct MHD_Connection *c, struct request_ctx *ctx)
{
    char request_id[37];
    emu_uuid(request_id);
    struct emu_reply out;
    memset(&out, 0, sizeof out);
    emu_reply_error(&out, 413, "RequestTooLargeException", "Request Too Long");
    out.front_door = 1;
    enum MHD_Result ret = send_reply(c, &out, request_id);
    emu_reply_cleanup(&out);
    ctx->replied = ret == MHD_YES;
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct emu_server *srv = cls;
    struct request_ctx *ctx = *con_cls;
    if (!ctx) {
        /* The headers are complete: the deadline is met. */
        watch_arm(srv, c, 0);
        ctx = calloc(1, sizeof *ctx);
        if (!ctx)
            return MHD_NO;
        *con_cls = ctx;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > srv->cfg.max_body) {
            /* Refused before a byte of the body is read; libmicrohttpd then reads no more of
             * it and closes the connection after the reply. */
            ctx->too_large = 1;
            return reply_too_large(c, ctx);
        }
        return MHD_YES;
    }
    if (ctx->replied) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!ctx->too_large) {
            if (ctx->body.len + *upload_size > srv->cfg.max_body) {
                /* A chunked body (no Content-Length) that outgrows the cap: what was kept is
                 * dropped at once and the rest is not stored. */
                ctx->too_large = 1;
                buf_free(&ctx->body);
            } else {
                buf_append(&ctx->body, upload_data, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }

    char request_id[37];
    emu_uuid(request_id);
    struct emu_reply out;
    memset(&out, 0, sizeof out);
    struct header_list headers = {0};
    struct buf query = BUF_INIT;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &query);
    struct emu_request_view req = {method,        url,       buf_str(&query),
                                   headers.items, headers.n, ctx->body.data ? ctx->body.data : "",
                                   ctx->body.len, NULL};
    int drop = 0;
    if (headers.failed || buf_failed(&ctx->body) || buf_failed(&query)) {
        emu_reply_error(&out, 500, "InternalServerException", "Out of memory.");
    } else if (headers.bytes > MAX_HEADER_BYTES) {
        emu_reply_error(&out, 431, "RequestHeaderFieldsTooLargeException",
                        "Request Header Fields Too Large");
        out.front_door = 1;
    } else if (ctx->too_large) {
        emu_reply_error(&out, 413, "RequestTooLargeException", "Request Too Long");
        out.front_door = 1;
    } else {
        drop = emu_server_dispatch(srv, &req, request_id, &out) != 0;
    }
    enum MHD_Result ret = drop ? MHD_NO : send_reply(c, &out, request_id);
    emu_reply_cleanup(&out);
    free(headers.items);
    buf_free(&query);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct emu_server *srv = cls;
    struct request_ctx *ctx = *con_cls;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        watch_arm(srv, c, IDLE_TIMEOUT_S + srv->cfg.header_timeout_s);
    if (ctx) {
        int large = ctx->body.cap >= LARGE_BODY;
        buf_free(&ctx->body);
        free(ctx);
        *con_cls = NULL;
        /* A large body was parsed into many small blocks: hand the freed pages back to the
         * system rather than keep the peak for the life of the process. */
        if (large)
            malloc_trim(0);
    }
}

static void free_cache(void *p) { sigv4_key_cache_free(p); }

static void free_patterns(void *p) { model_pattern_cache_free(p); }

static void stop_watcher(struct emu_server *srv)
{
    if (srv->watcher_running) {
        pthread_mutex_lock(&srv->watch_lock);
        srv->stopping = 1;
        pthread_cond_signal(&srv->watch_cond);
        pthread_mutex_unlock(&srv->watch_lock);
        pthread_join(srv->watcher, NULL);
        srv->watcher_running = 0;
    }
    pthread_cond_destroy(&srv->watch_cond);
    pthread_mutex_destroy(&srv->watch_lock);
}

struct emu_server *emu_server_start(const struct emu_server_config *cfg, char *errbuf,
                                    size_t errlen)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1) {
        snprintf(errbuf, errlen, "--host must be a numeric IPv4 address, not %s", cfg->host);
        return NULL;
    }
    struct emu_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    /* Initialised first so that every later exit (and emu_server_stop) can tear them down. */
    pthread_mutex_init(&srv->watch_lock, NULL);
    pthread_cond_init(&srv->watch_cond, NULL);
    if (!srv->cfg.threads)
        srv->cfg.threads = 4;
    if (!srv->cfg.max_body)
        srv->cfg.max_body = EMU_DEFAULT_MAX_BODY;
    if (!srv->cfg.max_connections)
        srv->cfg.max_connections = EMU_DEFAULT_MAX_CONNECTIONS;
    if (!srv->cfg.max_connections_per_ip)
        srv->cfg.max_connections_per_ip = EMU_DEFAULT_MAX_CONNECTIONS_PER_IP;
    if (!srv->cfg.header_timeout_s)
        srv->cfg.header_timeout_s = EMU_DEFAULT_HEADER_TIMEOUT_S;
    /* Past the descriptor limit accept() fails and connections pile up unanswered in the
     * backlog: keep the connection limit below it (64 left for files and the listener). */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
        nofile.rlim_cur < (rlim_t)srv->cfg.max_connections + 64)
        srv->cfg.max_connections = nofile.rlim_cur > 128 ? (unsigned)nofile.rlim_cur - 64 : 64;
    if (srv->cfg.max_connections < srv->cfg.threads)
        srv->cfg.max_connections = srv->cfg.threads;
    size_t nr = 0;
    for (size_t i = 0; i < sizeof s_ivs_regions / sizeof s_ivs_regions[0]; i++)
        srv->regions[nr++] = s_ivs_regions[i];
    srv->regions[nr++] = cfg->region;
    srv->regions[nr] = NULL;
    srv->auth.credentials = cfg->credentials;
    srv->auth.credential_count = cfg->credential_count;
    srv->auth.regions = srv->regions;
    srv->auth.max_skew_s = 300;
    srv->identity = identity_new(cfg->account);
    if (!srv->identity) {
        stop_watcher(srv);
        free(srv);
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    srv->auth.temp_lookup = identity_lookup;
    srv->auth.temp_ud = srv->identity;
    if (pthread_key_create(&srv->cache_key, free_cache) != 0) {
        stop_watcher(srv);
        identity_free(srv->identity);
        free(srv);
        snprintf(errbuf, errlen, "cannot create thread key");
        return NULL;
    }
    if (pthread_key_create(&srv->pattern_key, free_patterns) != 0) {
        pthread_key_delete(srv->cache_key);
        stop_watcher(srv);
        identity_free(srv->identity);
        free(srv);
        snprintf(errbuf, errlen, "cannot create thread key");
        return NULL;
    }
    if (cfg->no_listen)
        return srv;
    if (pthread_create(&srv->watcher, NULL, watcher_main, srv) == 0)
        srv->watcher_running = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    srv->daemon =
        srv->watcher_running
            ? MHD_start_daemon(
                  flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
                  (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads,
                  MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                  on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
                  MHD_OPTION_CONNECTION_LIMIT, srv->cfg.max_connections,
                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->cfg.max_connections_per_ip,
                  MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END)
            : NULL;
    if (!srv->daemon) {
        stop_watcher(srv);
        pthread_key_delete(srv->cache_key);
        pthread_key_delete(srv->pattern_key);
        identity_free(srv->identity);
        free(srv);
        snprintf(errbuf, errlen, "cannot listen on %s:%u", cfg->host, cfg->port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->port;
    return srv;
}

unsigned emu_server_port(const struct emu_server *s) { return s->port; }

void emu_server_stop(struct emu_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    stop_watcher(s);
    pthread_key_delete(s->cache_key);
    pthread_key_delete(s->pattern_key);
    identity_free(s->identity);
    free(s);
}
