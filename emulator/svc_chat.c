/* svc_chat.c: Amazon IVS Chat (ivschat) on the resource engine. Rooms and logging
 * configurations are plain engine kinds; the code here is what is special to chat: a room's
 * links to logging configurations, chat tokens (opaque, single use, one minute to connect,
 * a session of 1..180 minutes), the messaging operations (SendEvent, DeleteMessage,
 * DisconnectUser) and the admin API that stands in for the messaging WebSocket: connect with
 * a token, publish frames, read what the room's subscribers received and what the room's
 * logging destinations got. */
#include "svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"
#include "util.h"

enum { K_ROOM, K_LOGGING };

enum {
    TOKEN_CONNECT_SECONDS = 60,
    FRAMES_KEPT = 1000,
    RECORDS_KEPT = 1000,
    ATTRIBUTES_MAX_BYTES = 1024
};

/* ---- helpers --------------------------------------------------------------------------- */

static cJSON *priv_array(struct eng_res *r, const char *key)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(r->priv, key);
    if (!cJSON_IsArray(a)) {
        a = cJSON_CreateArray();
        eng_set(r->priv, key, a);
    }
    return a;
}

static cJSON *priv_object(struct eng_res *r, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(r->priv, key);
    if (!cJSON_IsObject(o)) {
        o = cJSON_CreateObject();
        eng_set(r->priv, key, o);
    }
    return o;
}

static void push_bounded(cJSON *arr, cJSON *item, int keep)
{
    cJSON_AddItemToArray(arr, item);
    while (cJSON_GetArraySize(arr) > keep)
        cJSON_DeleteItemFromArray(arr, 0);
}

/* The documented limit on token and event attributes: 1 KB for keys and values together. */
static int attributes_fit(struct eng_ctx *ctx, const cJSON *attrs)
{
    size_t total = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs) total +=
        strlen(a->string) + strlen(cJSON_IsString(a) ? a->valuestring : "");
    if (total > ATTRIBUTES_MAX_BYTES) {
        eng_error(ctx, 400, "ValidationException", "attributes may hold at most %d bytes in total.",
                  ATTRIBUTES_MAX_BYTES);
        return 0;
    }
    return 1;
}

/* Message length is counted in Unicode code points, not bytes. */
static size_t code_points(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* RFC 3339 with nanoseconds, trailing zeros trimmed (how chat stamps SendTime). */
static void send_time(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[24], frac[16];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(frac, sizeof frac, "%09ld", ts.tv_nsec);
    size_t n = strlen(frac);
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    snprintf(out, 40, n ? "%s.%sZ" : "%s%sZ", base, frac);
}

/* Delivers a frame to the room's subscribers and, for messages and events, to each of the
 * room's logging configurations (the record a destination would receive). */
static void broadcast(struct eng_ctx *ctx, struct eng_res *room, cJSON *frame)
{
    const char *type = eng_str(frame, "Type");
    if (type && strcmp(type, "ERROR") != 0) {
        char when[32];
        eng_now_iso(when);
        const cJSON *id;
        cJSON_ArrayForEach(
            id, cJSON_GetObjectItemCaseSensitive(room->obj, "loggingConfigurationIdentifiers"))
        {
            struct eng_res *lc = eng_find(ctx->part, ctx->svc, K_LOGGING,
                                          cJSON_IsString(id) ? id->valuestring : NULL);
            if (!lc)
                continue;
            cJSON *rec = cJSON_CreateObject();
            cJSON_AddStringToObject(rec, "event_timestamp", when);
            cJSON_AddStringToObject(rec, "type", type);
            cJSON_AddItemToObject(rec, "payload", cJSON_Duplicate(frame, 1));
            cJSON_AddStringToObject(rec, "version", "1.0");
            cJSON_AddStringToObject(rec, "roomArn", room->arn);
            push_bounded(priv_array(lc, "records"), rec, RECORDS_KEPT);
        }
    }
    push_bounded(priv_array(room, "frames"), frame, FRAMES_KEPT);
    ctx->changed = 1;
}

static cJSON *event_frame(const char *name, cJSON *attributes, const char *request_id)
{
    char id[13], when[40];
    emu_random_alnum(id, 12);
    send_time(when);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "Type", "EVENT");
    cJSON_AddStringToObject(f, "Id", id);
    if (request_id)
        cJSON_AddStringToObject(f, "RequestId", request_id);
    cJSON_AddStringToObject(f, "EventName", name);
    cJSON_AddItemToObject(f, "Attributes", attributes ? attributes : cJSON_CreateObject());
    cJSON_AddStringToObject(f, "SendTime", when);
    return f;
}

/* Closes every connection of a user in a room; returns how many. */
static int close_user(struct eng_res *room, const char *user)
{
    cJSON *conns = priv_object(room, "connections");
    int n = 0;
    cJSON *c = conns->child;
    while (c) {
        cJSON *next = c->next;
        const char *u = eng_str(c, "userId");
        if (u && !strcmp(u, user)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(conns, c));
            n++;
        }
        c = next;
    }
    return n;
}

/* ---- rooms and logging configurations --------------------------------------------------- */

static int room_rules(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in, cJSON *resp)
{
    (void)resp;
    const cJSON *id;
    cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(in, "loggingConfigurationIdentifiers"))
    {
        if (!eng_need(ctx, K_LOGGING, cJSON_IsString(id) ? id->valuestring : NULL))
            return -1;
    }
    cJSON *h = cJSON_GetObjectItemCaseSensitive(r->obj, "messageReviewHandler");
    if (cJSON_IsObject(h)) {
        const char *uri = eng_str(h, "uri");
        /* An empty uri detaches the handler. */
        if (cJSON_GetObjectItemCaseSensitive(in, "messageReviewHandler") && uri && !*uri)
            cJSON_DeleteItemFromObjectCaseSensitive(r->obj, "messageReviewHandler");
        else if (!eng_str(h, "fallbackResult"))
            cJSON_AddStringToObject(h, "fallbackResult", "ALLOW");
    }
    return 0;
}

static int destination_rules(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in, cJSON *resp)
{
    (void)in;
    (void)resp;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r->obj, "destinationConfiguration");
    if (cJSON_GetArraySize(d) != 1) {
        eng_error(ctx, 400, "ValidationException",
                  "destinationConfiguration must hold exactly one of s3, cloudWatchLogs or "
                  "firehose.");
        return -1;
    }
    return 0;
}

struct uses {
    const char *arn;
    const char *by;
};

static int room_uses(struct eng_res *room, void *arg)
{
    struct uses *u = arg;
    const cJSON *id;
    cJSON_ArrayForEach(
        id, cJSON_GetObjectItemCaseSensitive(room->obj, "loggingConfigurationIdentifiers"))
    {
        if (cJSON_IsString(id) && !strcmp(id->valuestring, u->arn)) {
            u->by = room->arn;
            return 1;
        }
    }
    return 0;
}

/* Deleting a logging configuration that rooms still name would leave them dangling. */
static int logging_in_use(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in)
{
    (void)in;
    struct uses u = {r->arn, NULL};
    if (eng_each(ctx->part, ctx->svc, K_ROOM, room_uses, &u)) {
        eng_error(ctx, 409, "ConflictException", "Logging configuration %s is used by room %s.",
                  r->arn, u.by);
        eng_error_resource(ctx, r->arn);
        return -1;
    }
    return 0;
}

/* ---- tokens and messaging operations ---------------------------------------------------- */

/* An opaque token from HTTP token characters only (it travels as a WebSocket subprotocol):
 * the KMS-blob prefix real tokens show, base64url with '!' for padding, then "#0". */
static void new_chat_token(char *out, size_t cap)
{
    unsigned char raw[50];
    char alnum[sizeof raw + 1];
    emu_random_alnum(alnum, sizeof raw);
    memcpy(raw, alnum, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)(raw[i] * 131u + i * 7u);
    char *b64 = emu_base64_encode(raw, sizeof raw);
    size_t o = (size_t)snprintf(out, cap, "AQICAH");
    for (const char *p = b64 ? b64 : ""; *p && o + 3 < cap; p++)
        out[o++] = *p == '+' ? '-' : *p == '/' ? '_' : *p == '=' ? '!' : *p;
    snprintf(out + o, cap - o, "#0");
    free(b64);
}

/* Tokens are secrets: the room keeps their SHA-256, never the token (the state file is
 * written to disk). */
static void token_digest(const char *token, char out[65])
{
    sigv4_sha256_hex(token, strlen(token), out);
}

static void chat_token(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *room = eng_need(ctx, K_ROOM, eng_str(in, "roomIdentifier"));
    if (!room || !attributes_fit(ctx, cJSON_GetObjectItemCaseSensitive(in, "attributes")))
        return;
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(in, "sessionDurationInMinutes");
    double now = emu_now(), minutes = cJSON_IsNumber(dur) ? dur->valuedouble : 60;
    cJSON *tokens = priv_object(room, "tokens");
    /* Tokens that can no longer open a connection are forgotten. */
    cJSON *t = tokens->child;
    while (t) {
        cJSON *next = t->next;
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(t, "tokenExpiry");
        if (!cJSON_IsNumber(exp) || exp->valuedouble < now)
            cJSON_Delete(cJSON_DetachItemViaPointer(tokens, t));
        t = next;
    }
    char token[160], texp[21], sexp[21];
    new_chat_token(token, sizeof token);
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "userId", eng_str(in, "userId"));
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(in, "capabilities");
    cJSON_AddItemToObject(rec, "capabilities",
                          caps ? cJSON_Duplicate(caps, 1) : cJSON_CreateArray());
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(in, "attributes");
    cJSON_AddItemToObject(rec, "attributes",
                          attrs ? cJSON_Duplicate(attrs, 1) : cJSON_CreateObject());
    cJSON_AddNumberToObject(rec, "tokenExpiry", now + TOKEN_CONNECT_SECONDS);
    cJSON_AddNumberToObject(rec, "sessionExpiry", now + minutes * 60);
    char digest[65];
    token_digest(token, digest);
    cJSON_AddItemToObject(tokens, digest, rec);
    ctx->changed = 1;
    emu_iso_time(now + TOKEN_CONNECT_SECONDS, texp);
    emu_iso_time(now + minutes * 60, sexp);
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "token", token);
    cJSON_AddStringToObject(resp, "tokenExpirationTime", texp);
    cJSON_AddStringToObject(resp, "sessionExpirationTime", sexp);
    eng_reply(ctx, resp);
}

static void send_event(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *room = eng_need(ctx, K_ROOM, eng_str(in, "roomIdentifier"));
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(in, "attributes");
    if (!room || !attributes_fit(ctx, attrs))
        return;
    cJSON *f =
        event_frame(eng_str(in, "eventName"), attrs ? cJSON_Duplicate(attrs, 1) : NULL, NULL);
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "id", eng_str(f, "Id"));
    broadcast(ctx, room, f);
    eng_reply(ctx, resp);
}

static cJSON *delete_event(const char *message_id, const char *reason, const char *request_id)
{
    cJSON *a = cJSON_CreateObject();
    /* Both keys: the docs call MessageID deprecated, yet the JS SDK reads it. */
    cJSON_AddStringToObject(a, "MessageId", message_id);
    cJSON_AddStringToObject(a, "MessageID", message_id);
    if (reason)
        cJSON_AddStringToObject(a, "Reason", reason);
    return event_frame("aws:DELETE_MESSAGE", a, request_id);
}

static cJSON *disconnect_event(const char *user, const char *reason, const char *request_id)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "UserId", user);
    if (reason)
        cJSON_AddStringToObject(a, "Reason", reason);
    return event_frame("aws:DISCONNECT_USER", a, request_id);
}

static void delete_message(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *room = eng_need(ctx, K_ROOM, eng_str(in, "roomIdentifier"));
    if (!room)
        return;
    /* Messages are not kept by the service, so the id is not checked. */
    cJSON *f = delete_event(eng_str(in, "id"), eng_str(in, "reason"), NULL);
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "id", eng_str(f, "Id"));
    broadcast(ctx, room, f);
    eng_reply(ctx, resp);
}

static void disconnect_user(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *room = eng_need(ctx, K_ROOM, eng_str(in, "roomIdentifier"));
    if (!room)
        return;
    const char *user = eng_str(in, "userId");
    broadcast(ctx, room, disconnect_event(user, eng_str(in, "reason"), NULL));
    close_user(room, user);
    eng_reply(ctx, NULL);
}

/* ---- admin: the messaging WebSocket, simulated ------------------------------------------- */

struct token_hit {
    const char *token;
    struct eng_res *room;
    cJSON *rec;
};

static int find_token(struct eng_res *room, void *arg)
{
    struct token_hit *h = arg;
    cJSON *rec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(room->priv, "tokens"), h->token);
    if (rec) {
        h->room = room;
        eng_touch(room);
        h->rec = rec;
        return 1;
    }
    return 0;
}

struct conn_hit {
    const char *id;
    struct eng_res *room;
    cJSON *conn;
};

static int find_conn(struct eng_res *room, void *arg)
{
    struct conn_hit *h = arg;
    cJSON *c = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(room->priv, "connections"), h->id);
    if (c) {
        h->room = room;
        eng_touch(room);
        h->conn = c;
        return 1;
    }
    return 0;
}

/* Runs fn over every partition's rooms until one matches (tokens and connection ids are
 * unique across accounts). */
static int each_room(struct eng_ctx *ctx, int (*fn)(struct eng_res *, void *), void *arg)
{
    for (size_t i = 0;; i++) {
        struct eng_part *p = eng_partition_at(ctx->eng, i);
        if (!p)
            return 0;
        if (eng_each(p, ctx->svc, K_ROOM, fn, arg)) {
            eng_use_partition(ctx, p);
            return 1;
        }
    }
}

static void admin_connect(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    const char *token = eng_str(body, "token");
    char digest[65];
    token_digest(token ? token : "", digest);
    struct token_hit h = {digest, NULL, NULL};
    if (!token || !each_room(ctx, find_token, &h)) {
        eng_error(ctx, 401, "UnauthorizedException", "The chat token is not valid.");
        return;
    }
    double now = emu_now();
    const cJSON *texp = cJSON_GetObjectItemCaseSensitive(h.rec, "tokenExpiry");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h.rec, "used")) || !cJSON_IsNumber(texp) ||
        texp->valuedouble < now) {
        eng_error(ctx, 401, "UnauthorizedException",
                  "The chat token has expired or was already used (a token opens one connection).");
        return;
    }
    eng_set(h.rec, "used", cJSON_CreateTrue());
    char id[13];
    emu_random_alnum(id, 12);
    cJSON *conn = cJSON_CreateObject();
    cJSON_AddStringToObject(conn, "userId", eng_str(h.rec, "userId"));
    cJSON_AddItemToObject(
        conn, "capabilities",
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(h.rec, "capabilities"), 1));
    cJSON_AddItemToObject(
        conn, "attributes",
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(h.rec, "attributes"), 1));
    cJSON_AddItemToObject(
        conn, "sessionExpiry",
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(h.rec, "sessionExpiry"), 1));
    cJSON_AddItemToObject(priv_object(h.room, "connections"), id, conn);
    ctx->changed = 1;
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "connectionId", id);
    cJSON_AddStringToObject(resp, "roomArn", h.room->arn);
    cJSON_AddStringToObject(resp, "userId", eng_str(conn, "userId"));
    cJSON_AddItemToObject(
        resp, "capabilities",
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(conn, "capabilities"), 1));
    ctx->out->status = 200;
    ctx->out->body = cJSON_PrintUnformatted(resp);
    cJSON_Delete(resp);
}

static cJSON *error_frame(const char *request_id, int code, const char *message)
{
    char id[13];
    emu_random_alnum(id, 12);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "Type", "ERROR");
    cJSON_AddStringToObject(f, "Id", id);
    if (request_id)
        cJSON_AddStringToObject(f, "RequestId", request_id);
    cJSON_AddNumberToObject(f, "ErrorCode", code);
    cJSON_AddStringToObject(f, "ErrorMessage", message);
    return f;
}

static int has_capability(const cJSON *conn, const char *cap)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(conn, "capabilities"))
    {
        if (cJSON_IsString(c) && !strcmp(c->valuestring, cap))
            return 1;
    }
    return 0;
}

/* The room's message rate (maximumMessageRatePerSecond, across all its clients). */
static int rate_ok(struct eng_res *room, double now)
{
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(room->obj, "maximumMessageRatePerSecond");
    cJSON *recent = priv_array(room, "recentSends");
    while (recent->child && now - recent->child->valuedouble >= 1.0)
        cJSON_DeleteItemFromArray(recent, 0);
    if (cJSON_IsNumber(limit) && cJSON_GetArraySize(recent) >= (int)limit->valuedouble)
        return 0;
    cJSON_AddItemToArray(recent, cJSON_CreateNumber(now));
    return 1;
}

/* One publish frame from a connection: what the sender gets back is the frame it receives
 * (its own broadcast, or an ERROR echoing its RequestId). */
static cJSON *publish(struct eng_ctx *ctx, struct conn_hit *h, const cJSON *frame)
{
    const char *action = eng_str(frame, "Action"), *rid = eng_str(frame, "RequestId");
    double now = emu_now();
    const cJSON *sexp = cJSON_GetObjectItemCaseSensitive(h->conn, "sessionExpiry");
    if (cJSON_IsNumber(sexp) && sexp->valuedouble < now) {
        cJSON *conns = priv_object(h->room, "connections");
        cJSON_Delete(cJSON_DetachItemViaPointer(conns, h->conn));
        ctx->changed = 1;
        return error_frame(rid, 401, "The chat session has expired.");
    }
    if (!action)
        return error_frame(rid, 400, "Action is required.");
    if (!strcmp(action, "SEND_MESSAGE")) {
        const char *content = eng_str(frame, "Content");
        const cJSON *max = cJSON_GetObjectItemCaseSensitive(h->room->obj, "maximumMessageLength");
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(frame, "Attributes");
        if (!has_capability(h->conn, "SEND_MESSAGE"))
            return error_frame(rid, 403, "The token lacks the SEND_MESSAGE capability.");
        if (!content || !*content)
            return error_frame(rid, 400, "Content is required.");
        if (cJSON_IsNumber(max) && code_points(content) > (size_t)max->valuedouble)
            return error_frame(rid, 400, "Content is longer than the room's maximumMessageLength.");
        if (attrs && !cJSON_IsObject(attrs))
            return error_frame(rid, 400, "Attributes must be a map of strings.");
        if (!rate_ok(h->room, now))
            return error_frame(rid, 429, "The room's message rate was exceeded.");
        /* The room's review handler (its answer set through the admin API) may reject the
         * message or replace its content and attributes; a failing handler means the room's
         * fallbackResult. */
        const cJSON *handler =
            cJSON_GetObjectItemCaseSensitive(h->room->obj, "messageReviewHandler");
        const char *uri = eng_str(handler, "uri");
        if (uri && *uri) {
            const cJSON *review = cJSON_GetObjectItemCaseSensitive(h->room->priv, "review");
            const char *result = eng_str(review, "result");
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(review, "fail")))
                result = eng_str(handler, "fallbackResult");
            if (eng_streq(result, "DENY")) {
                const char *reason =
                    eng_str(cJSON_GetObjectItemCaseSensitive(review, "attributes"), "Reason");
                char msg[300];
                snprintf(msg, sizeof msg, "The message was rejected by the review handler%s%.200s.",
                         reason ? ": " : "", reason ? reason : "");
                return error_frame(rid, 406, msg);
            }
            if (eng_str(review, "content") &&
                !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(review, "fail")))
                content = eng_str(review, "content");
            const cJSON *ra = cJSON_GetObjectItemCaseSensitive(review, "attributes");
            if (cJSON_IsObject(ra) &&
                !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(review, "fail")))
                attrs = ra;
        }
        char id[13], when[40];
        emu_random_alnum(id, 12);
        send_time(when);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "Type", "MESSAGE");
        cJSON_AddStringToObject(f, "Id", id);
        if (rid)
            cJSON_AddStringToObject(f, "RequestId", rid);
        cJSON_AddStringToObject(f, "Content", content);
        cJSON_AddItemToObject(f, "Attributes",
                              attrs ? cJSON_Duplicate(attrs, 1) : cJSON_CreateObject());
        cJSON_AddStringToObject(f, "SendTime", when);
        cJSON *sender = cJSON_AddObjectToObject(f, "Sender");
        cJSON_AddStringToObject(sender, "UserId", eng_str(h->conn, "userId"));
        cJSON_AddItemToObject(
            sender, "Attributes",
            cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(h->conn, "attributes"), 1));
        broadcast(ctx, h->room, cJSON_Duplicate(f, 1));
        return f;
    }
    if (!strcmp(action, "DELETE_MESSAGE")) {
        if (!has_capability(h->conn, "DELETE_MESSAGE"))
            return error_frame(rid, 403, "The token lacks the DELETE_MESSAGE capability.");
        if (!eng_str(frame, "Id"))
            return error_frame(rid, 400, "Id is required.");
        cJSON *f = delete_event(eng_str(frame, "Id"), eng_str(frame, "Reason"), rid);
        broadcast(ctx, h->room, cJSON_Duplicate(f, 1));
        return f;
    }
    if (!strcmp(action, "DISCONNECT_USER")) {
        if (!has_capability(h->conn, "DISCONNECT_USER"))
            return error_frame(rid, 403, "The token lacks the DISCONNECT_USER capability.");
        const char *user = eng_str(frame, "UserId");
        if (!user)
            return error_frame(rid, 400, "UserId is required.");
        cJSON *f = disconnect_event(user, eng_str(frame, "Reason"), rid);
        broadcast(ctx, h->room, cJSON_Duplicate(f, 1));
        close_user(h->room, user);
        return f;
    }
    return error_frame(rid, 400, "Unknown Action.");
}

static void admin_publish(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    const char *id = eng_str(body, "connectionId");
    struct conn_hit h = {id ? id : "", NULL, NULL};
    const cJSON *frame = cJSON_GetObjectItemCaseSensitive(body, "frame");
    if (!cJSON_IsObject(frame)) {
        eng_error(ctx, 400, "ValidationException", "frame (a publish frame object) is required.");
        return;
    }
    if (!id || !each_room(ctx, find_conn, &h)) {
        eng_error(ctx, 404, "ResourceNotFoundException",
                  "No open connection %s (it was closed or never opened).", id ? id : "");
        return;
    }
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(resp, "frame", publish(ctx, &h, frame));
    ctx->out->status = 200;
    ctx->out->body = cJSON_PrintUnformatted(resp);
    cJSON_Delete(resp);
}

static int partition_of(struct eng_ctx *ctx, const char *arn);

/* What the room's review handler answers from now on: {"result": "ALLOW"|"DENY", "content",
 * "attributes"} as a Lambda handler returns them, or {"fail": true} for a handler that errs or
 * times out. */
static void admin_review(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    const char *arn = eng_str(body, "roomArn"), *result = eng_str(body, "result");
    if (partition_of(ctx, arn) != 0)
        return;
    struct eng_res *room = eng_need(ctx, K_ROOM, arn);
    if (!room)
        return;
    int fail = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "fail"));
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(body, "attributes");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(body, "content");
    if ((!fail && !eng_streq(result, "ALLOW") && !eng_streq(result, "DENY")) ||
        (attrs && !cJSON_IsObject(attrs)) || (content && !cJSON_IsString(content))) {
        eng_error(ctx, 400, "ValidationException",
                  "result must be ALLOW or DENY (or fail true); content a string, attributes an "
                  "object.");
        return;
    }
    cJSON *review = cJSON_CreateObject();
    if (result)
        cJSON_AddStringToObject(review, "result", result);
    if (fail)
        cJSON_AddTrueToObject(review, "fail");
    if (content)
        cJSON_AddItemToObject(review, "content", cJSON_Duplicate(content, 1));
    if (attrs)
        cJSON_AddItemToObject(review, "attributes", cJSON_Duplicate(attrs, 1));
    eng_set(room->priv, "review", review);
    ctx->changed = 1;
    ctx->out->status = 200;
    ctx->out->body = cJSON_PrintUnformatted(review);
}

static int partition_of(struct eng_ctx *ctx, const char *arn)
{
    char region[64], account[32];
    if (!arn || eng_arn_place(ctx->svc, arn, region, account) != 0) {
        eng_error(ctx, 400, "ValidationException", "A valid %s ARN is required.", ctx->svc->name);
        return -1;
    }
    struct eng_part *p = eng_partition(ctx->eng, account, region);
    if (!p) {
        eng_error(ctx, 500, "InternalServerException", "Out of memory.");
        return -1;
    }
    eng_use_partition(ctx, p);
    return 0;
}

static void admin_frames(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)body;
    const char *arn = eng_str(query, "roomArn");
    if (partition_of(ctx, arn) != 0)
        return;
    struct eng_res *room = eng_need(ctx, K_ROOM, arn);
    if (!room)
        return;
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(resp, "frames", cJSON_Duplicate(priv_array(room, "frames"), 1));
    cJSON *conns = cJSON_AddArrayToObject(resp, "connections");
    const cJSON *c;
    cJSON_ArrayForEach(c, priv_object(room, "connections"))
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "connectionId", c->string);
        cJSON_AddStringToObject(o, "userId", eng_str(c, "userId") ? eng_str(c, "userId") : "");
        cJSON_AddItemToArray(conns, o);
    }
    ctx->out->status = 200;
    ctx->out->body = cJSON_PrintUnformatted(resp);
    cJSON_Delete(resp);
}

static void admin_logs(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)body;
    const char *arn = eng_str(query, "loggingConfigurationArn");
    if (partition_of(ctx, arn) != 0)
        return;
    struct eng_res *lc = eng_need(ctx, K_LOGGING, arn);
    if (!lc)
        return;
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(resp, "records", cJSON_Duplicate(priv_array(lc, "records"), 1));
    ctx->out->status = 200;
    ctx->out->body = cJSON_PrintUnformatted(resp);
    cJSON_Delete(resp);
}

/* ---- the table ------------------------------------------------------------------------ */

static const struct eng_kind s_kinds[] = {
    [K_ROOM] = {.type = "room",
                .what = "Room",
                /* Not published in any copy we could read: our choice (README). */
                .quota = 1000,
                .defaults = "{\"name\":\"\",\"maximumMessageRatePerSecond\":10,"
                            "\"maximumMessageLength\":500,\"loggingConfigurationIdentifiers\":[],"
                            "\"tags\":{}}",
                .with_id = 1,
                .with_times = 1},
    [K_LOGGING] = {.type = "logging-configuration",
                   .what = "Logging configuration",
                   .quota = 10,
                   .defaults = "{\"name\":\"\",\"state\":\"ACTIVE\",\"tags\":{}}",
                   .with_id = 1,
                   .with_times = 1},
};

static const char *const s_room_ident[] = {"identifier", NULL};

static const struct eng_op s_ops[] = {
    {.name = "CreateRoom", .action = EA_CREATE, .kind = K_ROOM, .on_create = room_rules},
    {.name = "GetRoom", .action = EA_GET, .kind = K_ROOM, .ident = "identifier"},
    {.name = "UpdateRoom",
     .action = EA_UPDATE,
     .kind = K_ROOM,
     .ident = "identifier",
     .skip = s_room_ident,
     .on_create = room_rules},
    {.name = "DeleteRoom", .action = EA_DELETE, .kind = K_ROOM, .ident = "identifier"},
    {.name = "ListRooms",
     .action = EA_LIST,
     .kind = K_ROOM,
     .filters = {{.input = "name", .path = "name"},
                 {.input = "messageReviewHandlerUri", .path = "messageReviewHandler.uri"},
                 {.input = "loggingConfigurationIdentifier",
                  .path = "loggingConfigurationIdentifiers",
                  .member = 1}},
     .newest_first = 1,
     .default_max = 50},
    {.name = "CreateLoggingConfiguration",
     .action = EA_CREATE,
     .kind = K_LOGGING,
     .on_create = destination_rules},
    {.name = "GetLoggingConfiguration", .action = EA_GET, .kind = K_LOGGING, .ident = "identifier"},
    {.name = "UpdateLoggingConfiguration",
     .action = EA_UPDATE,
     .kind = K_LOGGING,
     .ident = "identifier",
     .on_create = destination_rules},
    {.name = "DeleteLoggingConfiguration",
     .action = EA_DELETE,
     .kind = K_LOGGING,
     .ident = "identifier",
     .check = logging_in_use},
    {.name = "ListLoggingConfigurations", .action = EA_LIST, .kind = K_LOGGING, .default_max = 50},
    {.name = "CreateChatToken", .action = EA_CUSTOM, .custom = chat_token},
    {.name = "SendEvent", .action = EA_CUSTOM, .custom = send_event},
    {.name = "DeleteMessage", .action = EA_CUSTOM, .custom = delete_message},
    {.name = "DisconnectUser", .action = EA_CUSTOM, .custom = disconnect_user},
};

static const struct eng_admin_route s_admin[] = {
    {"POST", "/chat/connect", admin_connect}, {"POST", "/chat/publish", admin_publish},
    {"POST", "/chat/review", admin_review},   {"GET", "/chat/frames", admin_frames},
    {"GET", "/chat/logs", admin_logs},
};

const struct eng_service svc_chat = {
    .name = "ivschat",
    .arn_service = "ivschat",
    .kinds = s_kinds,
    .kind_count = sizeof s_kinds / sizeof s_kinds[0],
    .ops = s_ops,
    .op_count = sizeof s_ops / sizeof s_ops[0],
    .error_resource_type = "ROOM",
    .admin = s_admin,
    .admin_count = sizeof s_admin / sizeof s_admin[0],
};
