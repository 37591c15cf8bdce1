/* test_emulator_family.c: IVS Chat and IVS Real-Time on the one ivs-emulator port, through
 * raw requests signed by the core's SigV4 signer: every operation of both services with the
 * services' formats, relations, conflicts, quotas, tags and errors; the admin API's simulated
 * chat connections and stage participants; persistence of both services' resources; a guard
 * that every operation of the three services is routed and that each of the 56 Chat and
 * Real-Time operations was answered with success here; and boto3 and the AWS CLI as
 * independent clients where they are installed. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>

#include "harness.h"
#include "model.h"
#include "test_emulator_client.h"

static struct emu_child g_emu;
static CURL *g_curl;
static pid_t g_watchdog_pid;

/* The operations answered with success so far (the coverage guard reads it). */
static char g_served[128][48];
static size_t g_served_n;

static void on_alarm(int sig)
{
    (void)sig;
    if (g_watchdog_pid > 0)
        kill(g_watchdog_pid, SIGKILL);
    static const char msg[] = "not ok - watchdog: test_emulator_family took too long\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

static void served(const char *op)
{
    for (size_t i = 0; i < g_served_n; i++)
        if (!strcmp(g_served[i], op))
            return;
    if (g_served_n < sizeof g_served / sizeof g_served[0])
        snprintf(g_served[g_served_n++], sizeof g_served[0], "%s", op);
}

/* POST /{op} signed for a signing name ("ivschat", or "ivs" for Real-Time). */
static void send_op(const char *service, const char *op, const char *json, struct emu_resp *r)
{
    char path[128];
    snprintf(path, sizeof path, "/%s", op);
    struct emu_sign s = {.service = service};
    emu_send(g_curl, &g_emu, "POST", path, NULL, json ? json : "{}", &s, r);
    if (r->status >= 200 && r->status < 300)
        served(op);
}

static void vcall(const char *service, const char *op, struct emu_resp *r, const char *fmt,
                  va_list ap) __attribute__((format(printf, 4, 0)));
static void vcall(const char *service, const char *op, struct emu_resp *r, const char *fmt,
                  va_list ap)
{
    struct buf b = BUF_INIT;
    buf_vprintf(&b, fmt, ap);
    send_op(service, op, buf_str(&b), r);
    buf_free(&b);
}

static void chat(const char *op, struct emu_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void chat(const char *op, struct emu_resp *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcall("ivschat", op, r, fmt, ap);
    va_end(ap);
}

static void rt(const char *op, struct emu_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void rt(const char *op, struct emu_resp *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcall("ivs", op, r, fmt, ap);
    va_end(ap);
}

static void admin(const char *method, const char *path, const char *json, struct emu_resp *r)
{
    struct emu_sign s = {.unsigned_request = 1};
    emu_send(g_curl, &g_emu, method, path, NULL, json, &s, r);
}

static void adminf(const char *path, struct emu_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void adminf(const char *path, struct emu_resp *r, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    admin("POST", path, buf_str(&b), r);
    buf_free(&b);
}

/* Tag operations: method on /tags/{arn} (percent-encoded), signed for service. */
static void tags_op(const char *service, const char *method, const char *arn, const char *query,
                    const char *body, struct emu_resp *r)
{
    struct buf path = BUF_INIT;
    buf_puts(&path, "/tags/");
    for (const char *p = arn; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.')
            buf_putc(&path, *p);
        else
            buf_printf(&path, "%%%02X", (unsigned char)*p);
    }
    struct emu_sign s = {.service = service};
    emu_send(g_curl, &g_emu, method, buf_str(&path), query, body, &s, r);
    buf_free(&path);
    if (r->status == 200)
        served(!strcmp(method, "GET")    ? "ListTagsForResource"
               : !strcmp(method, "POST") ? "TagResource"
                                         : "UntagResource");
}

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *js(const cJSON *o, const char *k)
{
    const cJSON *v = jget(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jn(const cJSON *o, const char *k)
{
    const cJSON *v = jget(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int alnum_of(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* "arn:aws:{svc}:us-west-2:123456789012:{type}/" + 12 alphanumerics */
static int arn_of(const char *arn, const char *svc, const char *type)
{
    char want[160];
    snprintf(want, sizeof want, "arn:aws:%s:us-west-2:123456789012:%s/", svc, type);
    return arn && !strncmp(arn, want, strlen(want)) && alnum_of(arn + strlen(want), 12);
}

static void copy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

static void check_error(const struct emu_resp *r, long status, const char *type)
{
    CHECK_INT_EQ(status, r->status);
    CHECK_STR_EQ(type, r->error_type);
    CHECK(cJSON_IsString(jget(r->json, "message")));
}

/* ISO 8601 UTC as the emulator writes it ("...Z"), to epoch seconds. */
static double iso_seconds(const char *s)
{
    double t = 0;
    return s && model_parse_iso8601(s, &t) == 0 ? t : -1;
}

/* ---- Chat ------------------------------------------------------------------------------ */

static void test_chat_rooms_and_logging(void)
{
    struct emu_resp r;
    chat("CreateLoggingConfiguration", &r,
         "{\"name\":\"logs\",\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"chat-logs\"}},"
         "\"tags\":{\"team\":\"a\"}}");
    CHECK_INT_EQ(200, r.status);
    char lc[160];
    copy(lc, sizeof lc, js(r.json, "arn"));
    CHECK(arn_of(lc, "ivschat", "logging-configuration"));
    CHECK_STR_EQ(lc + strlen(lc) - 12, js(r.json, "id"));
    CHECK_STR_EQ("ACTIVE", js(r.json, "state"));
    CHECK(iso_seconds(js(r.json, "createTime")) > 0);
    CHECK_STR_EQ("chat-logs",
                 js(jget(jget(r.json, "destinationConfiguration"), "s3"), "bucketName"));
    emu_resp_free(&r);
    chat("CreateLoggingConfiguration", &r,
         "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"abc\"},"
         "\"firehose\":{\"deliveryStreamName\":\"x\"}}}");
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);

    chat("CreateRoom", &r, "{}");
    CHECK_INT_EQ(200, r.status);
    char plain[160];
    copy(plain, sizeof plain, js(r.json, "arn"));
    CHECK(arn_of(plain, "ivschat", "room"));
    CHECK_INT_EQ(10, jn(r.json, "maximumMessageRatePerSecond"));
    CHECK_INT_EQ(500, jn(r.json, "maximumMessageLength"));
    CHECK_STR_EQ("", js(r.json, "name"));
    CHECK(cJSON_IsObject(jget(r.json, "tags")));
    CHECK(!jget(r.json, "messageReviewHandler"));
    emu_resp_free(&r);

    chat(
        "CreateRoom", &r,
        "{\"name\":\"lobby\",\"loggingConfigurationIdentifiers\":[\"%s\"],\"maximumMessageLength\":"
        "200,\"messageReviewHandler\":{\"uri\":\"arn:aws:lambda:us-west-2:123456789012:function:"
        "review\"}}",
        lc);
    CHECK_INT_EQ(200, r.status);
    char room[160];
    copy(room, sizeof room, js(r.json, "arn"));
    CHECK_STR_EQ("ALLOW", js(jget(r.json, "messageReviewHandler"), "fallbackResult"));
    CHECK_STR_EQ(
        lc, cJSON_GetArrayItem(jget(r.json, "loggingConfigurationIdentifiers"), 0)->valuestring);
    emu_resp_free(&r);
    chat("CreateRoom", &r,
         "{\"loggingConfigurationIdentifiers\":[\"arn:aws:ivschat:us-west-2:123456789012:"
         "logging-configuration/AAAAAAAAAAAA\"]}");
    check_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);

    chat("GetRoom", &r, "{\"identifier\":\"%s\"}", room);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("lobby", js(r.json, "name"));
    CHECK_INT_EQ(200, jn(r.json, "maximumMessageLength"));
    emu_resp_free(&r);
    /* An empty handler uri detaches the handler. */
    chat("UpdateRoom", &r,
         "{\"identifier\":\"%s\",\"maximumMessageRatePerSecond\":5,"
         "\"messageReviewHandler\":{\"uri\":\"\"}}",
         room);
    CHECK_INT_EQ(200, r.status);
    CHECK_INT_EQ(5, jn(r.json, "maximumMessageRatePerSecond"));
    CHECK(!jget(r.json, "messageReviewHandler"));
    CHECK(iso_seconds(js(r.json, "updateTime")) >= iso_seconds(js(r.json, "createTime")));
    emu_resp_free(&r);

    /* Newest update first; summaries have no maximumMessage* members. */
    chat("ListRooms", &r, "{}");
    CHECK_INT_EQ(200, r.status);
    const cJSON *rooms = jget(r.json, "rooms");
    CHECK_INT_EQ(2, cJSON_GetArraySize(rooms));
    CHECK_STR_EQ(room, js(cJSON_GetArrayItem(rooms, 0), "arn"));
    CHECK(!jget(cJSON_GetArrayItem(rooms, 0), "maximumMessageLength"));
    CHECK(js(cJSON_GetArrayItem(rooms, 0), "id") != NULL);
    emu_resp_free(&r);
    chat("ListRooms", &r, "{\"loggingConfigurationIdentifier\":\"%s\"}", lc);
    CHECK_INT_EQ(1, cJSON_GetArraySize(jget(r.json, "rooms")));
    emu_resp_free(&r);
    chat("ListRooms", &r, "{\"name\":\"nothing-like-this\"}");
    CHECK_INT_EQ(0, cJSON_GetArraySize(jget(r.json, "rooms")));
    emu_resp_free(&r);
    chat("ListRooms", &r, "{\"maxResults\":1}");
    CHECK_INT_EQ(1, cJSON_GetArraySize(jget(r.json, "rooms")));
    char token[512];
    copy(token, sizeof token, js(r.json, "nextToken"));
    CHECK(*token);
    emu_resp_free(&r);
    chat("ListRooms", &r, "{\"maxResults\":1,\"nextToken\":\"%s\"}", token);
    CHECK_STR_EQ(plain, js(cJSON_GetArrayItem(jget(r.json, "rooms"), 0), "arn"));
    CHECK(!jget(r.json, "nextToken"));
    emu_resp_free(&r);
    chat("ListRooms", &r, "{\"name\":\"lobby\",\"nextToken\":\"%s\"}", token);
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);

    /* A logging configuration that a room names cannot be deleted. */
    chat("DeleteLoggingConfiguration", &r, "{\"identifier\":\"%s\"}", lc);
    check_error(&r, 409, "ConflictException");
    CHECK_STR_EQ(lc + strlen(lc) - 12, js(r.json, "resourceId"));
    emu_resp_free(&r);
    chat("UpdateLoggingConfiguration", &r,
         "{\"identifier\":\"%s\",\"name\":\"renamed\",\"destinationConfiguration\":"
         "{\"cloudWatchLogs\":{\"logGroupName\":\"/chat/lobby\"}}}",
         lc);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("renamed", js(r.json, "name"));
    CHECK(!jget(jget(r.json, "destinationConfiguration"), "s3"));
    emu_resp_free(&r);
    chat("GetLoggingConfiguration", &r, "{\"identifier\":\"%s\"}", lc);
    CHECK_STR_EQ("/chat/lobby", js(jget(jget(r.json, "destinationConfiguration"), "cloudWatchLogs"),
                                   "logGroupName"));
    emu_resp_free(&r);
    chat("ListLoggingConfigurations", &r, "{}");
    CHECK_INT_EQ(1, cJSON_GetArraySize(jget(r.json, "loggingConfigurations")));
    CHECK_STR_EQ("ACTIVE",
                 js(cJSON_GetArrayItem(jget(r.json, "loggingConfigurations"), 0), "state"));
    emu_resp_free(&r);

    chat("DeleteRoom", &r, "{\"identifier\":\"%s\"}", room);
    CHECK_INT_EQ(204, r.status);
    CHECK_INT_EQ(0, r.body.len);
    emu_resp_free(&r);
    chat("GetRoom", &r, "{\"identifier\":\"%s\"}", room);
    check_error(&r, 404, "ResourceNotFoundException");
    /* Chat's error shapes name the resource (its type enum holds only ROOM). */
    CHECK_STR_EQ(room + strlen(room) - 12, js(r.json, "resourceId"));
    CHECK_STR_EQ("ROOM", js(r.json, "resourceType"));
    emu_resp_free(&r);
    chat("DeleteLoggingConfiguration", &r, "{\"identifier\":\"%s\"}", lc);
    CHECK_INT_EQ(204, r.status);
    emu_resp_free(&r);
    chat("GetLoggingConfiguration", &r, "{\"identifier\":\"%s\"}", lc);
    check_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    chat("DeleteRoom", &r, "{\"identifier\":\"%s\"}", plain);
    emu_resp_free(&r);
}

static void test_chat_messaging(void)
{
    struct emu_resp r;
    chat("CreateLoggingConfiguration", &r,
         "{\"destinationConfiguration\":{\"firehose\":{\"deliveryStreamName\":\"chat\"}}}");
    char lc[160];
    copy(lc, sizeof lc, js(r.json, "arn"));
    emu_resp_free(&r);
    chat("CreateRoom", &r,
         "{\"maximumMessageLength\":5,\"maximumMessageRatePerSecond\":2,"
         "\"loggingConfigurationIdentifiers\":[\"%s\"]}",
         lc);
    char room[160];
    copy(room, sizeof room, js(r.json, "arn"));
    emu_resp_free(&r);

    double before = (double)time(NULL);
    chat("CreateChatToken", &r,
         "{\"roomIdentifier\":\"%s\",\"userId\":\"mod\",\"capabilities\":[\"SEND_MESSAGE\","
         "\"DELETE_MESSAGE\",\"DISCONNECT_USER\"],\"sessionDurationInMinutes\":30,"
         "\"attributes\":{\"role\":\"moderator\"}}",
         room);
    CHECK_INT_EQ(200, r.status);
    char mod_token[256];
    copy(mod_token, sizeof mod_token, js(r.json, "token"));
    /* An opaque token of HTTP token characters: fits a WebSocket subprotocol. */
    CHECK(!strncmp(mod_token, "AQICAH", 6));
    CHECK(strlen(mod_token) > 40 && !strcmp(mod_token + strlen(mod_token) - 2, "#0"));
    CHECK(strspn(mod_token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_!#") ==
          strlen(mod_token));
    double texp = iso_seconds(js(r.json, "tokenExpirationTime"));
    double sexp = iso_seconds(js(r.json, "sessionExpirationTime"));
    CHECK(texp >= before + 59 && texp <= before + 62);
    CHECK(sexp >= before + 30 * 60 - 1 && sexp <= before + 30 * 60 + 2);
    emu_resp_free(&r);
    chat("CreateChatToken", &r, "{\"roomIdentifier\":\"%s\",\"userId\":\"viewer\"}", room);
    char viewer_token[256];
    copy(viewer_token, sizeof viewer_token, js(r.json, "token"));
    emu_resp_free(&r);
    chat("CreateChatToken", &r,
         "{\"roomIdentifier\":\"%s\",\"userId\":\"u\",\"attributes\":{\"a\":\"%01100d\"}}", room,
         0);
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);

    /* One token opens one connection. */
    adminf("/_emulator/chat/connect", &r, "{\"token\":\"%s\"}", mod_token);
    CHECK_INT_EQ(200, r.status);
    char mod[32];
    copy(mod, sizeof mod, js(r.json, "connectionId"));
    CHECK_STR_EQ(room, js(r.json, "roomArn"));
    emu_resp_free(&r);
    adminf("/_emulator/chat/connect", &r, "{\"token\":\"%s\"}", mod_token);
    CHECK_INT_EQ(401, r.status);
    emu_resp_free(&r);
    adminf("/_emulator/chat/connect", &r, "{\"token\":\"%s\"}", viewer_token);
    char viewer[32];
    copy(viewer, sizeof viewer, js(r.json, "connectionId"));
    emu_resp_free(&r);

    adminf("/_emulator/chat/publish", &r,
           "{\"connectionId\":\"%s\",\"frame\":{\"Action\":\"SEND_MESSAGE\",\"RequestId\":\"r1\","
           "\"Content\":\"héllo\",\"Attributes\":{\"k\":\"v\"}}}",
           mod);
    CHECK_INT_EQ(200, r.status);
    const cJSON *f = jget(r.json, "frame");
    CHECK_STR_EQ("MESSAGE", js(f, "Type"));
    CHECK(alnum_of(js(f, "Id"), 12));
    CHECK_STR_EQ("r1", js(f, "RequestId"));
    CHECK_STR_EQ("mod", js(jget(f, "Sender"), "UserId"));
    CHECK_STR_EQ("moderator", js(jget(jget(f, "Sender"), "Attributes"), "role"));
    CHECK(js(f, "SendTime") && js(f, "SendTime")[strlen(js(f, "SendTime")) - 1] == 'Z');
    char msg_id[16];
    copy(msg_id, sizeof msg_id, js(f, "Id"));
    emu_resp_free(&r);
    /* Length in code points (5 here), capabilities, the room's rate: ERROR frames. */
    adminf("/_emulator/chat/publish", &r,
           "{\"connectionId\":\"%s\",\"frame\":{\"Action\":\"SEND_MESSAGE\",\"RequestId\":\"r2\","
           "\"Content\":\"toolong\"}}",
           mod);
    f = jget(r.json, "frame");
    CHECK_STR_EQ("ERROR", js(f, "Type"));
    CHECK_INT_EQ(400, jn(f, "ErrorCode"));
    CHECK_STR_EQ("r2", js(f, "RequestId"));
    emu_resp_free(&r);
    adminf("/_emulator/chat/publish", &r,
           "{\"connectionId\":\"%s\",\"frame\":{\"Action\":\"SEND_MESSAGE\",\"Content\":\"hi\"}}",
           viewer);
    CHECK_INT_EQ(403, jn(jget(r.json, "frame"), "ErrorCode"));
    emu_resp_free(&r);
    int limited = 0;
    for (int i = 0; i < 4; i++) {
        adminf("/_emulator/chat/publish", &r,
               "{\"connectionId\":\"%s\",\"frame\":{\"Action\":\"SEND_MESSAGE\",\"Content\":"
               "\"x\"}}",
               mod);
        limited += jn(jget(r.json, "frame"), "ErrorCode") == 429;
        emu_resp_free(&r);
    }
    CHECK(limited >= 1);

    chat("SendEvent", &r,
         "{\"roomIdentifier\":\"%s\",\"eventName\":\"app:poll\",\"attributes\":{\"q\":\"1\"}}",
         room);
    CHECK_INT_EQ(200, r.status);
    CHECK(alnum_of(js(r.json, "id"), 12));
    emu_resp_free(&r);
    chat("DeleteMessage", &r, "{\"roomIdentifier\":\"%s\",\"id\":\"%s\",\"reason\":\"spam\"}", room,
         msg_id);
    CHECK_INT_EQ(200, r.status);
    CHECK(alnum_of(js(r.json, "id"), 12));
    emu_resp_free(&r);
    chat("DisconnectUser", &r, "{\"roomIdentifier\":\"%s\",\"userId\":\"viewer\",\"reason\":\"x\"}",
         room);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    adminf("/_emulator/chat/publish", &r,
           "{\"connectionId\":\"%s\",\"frame\":{\"Action\":\"SEND_MESSAGE\",\"Content\":\"hi\"}}",
           viewer);
    CHECK_INT_EQ(404, r.status);
    emu_resp_free(&r);

    struct buf path = BUF_INIT;
    buf_printf(&path, "/_emulator/chat/frames?roomArn=%s", room);
    admin("GET", buf_str(&path), NULL, &r);
    CHECK_INT_EQ(200, r.status);
    int messages = 0, deletes = 0, events = 0, disconnects = 0;
    const cJSON *fr;
    cJSON_ArrayForEach(fr, jget(r.json, "frames"))
    {
        const char *type = js(fr, "Type"), *name = js(fr, "EventName");
        messages += type && !strcmp(type, "MESSAGE");
        if (name && !strcmp(name, "aws:DELETE_MESSAGE")) {
            deletes++;
            CHECK_STR_EQ(msg_id, js(jget(fr, "Attributes"), "MessageId"));
            CHECK_STR_EQ(msg_id, js(jget(fr, "Attributes"), "MessageID"));
        }
        events += name && !strcmp(name, "app:poll");
        disconnects += name && !strcmp(name, "aws:DISCONNECT_USER");
    }
    CHECK(messages >= 2 && deletes == 1 && events == 1 && disconnects == 1);
    CHECK_INT_EQ(1, cJSON_GetArraySize(jget(r.json, "connections")));
    emu_resp_free(&r);
    buf_reset(&path);
    buf_printf(&path, "/_emulator/chat/logs?loggingConfigurationArn=%s", lc);
    admin("GET", buf_str(&path), NULL, &r);
    const cJSON *rec = cJSON_GetArrayItem(jget(r.json, "records"), 0);
    CHECK_STR_EQ("MESSAGE", js(rec, "type"));
    CHECK_STR_EQ("1.0", js(rec, "version"));
    CHECK_STR_EQ("héllo", js(jget(rec, "payload"), "Content"));
    emu_resp_free(&r);
    buf_free(&path);
    chat("DeleteRoom", &r, "{\"identifier\":\"%s\"}", room);
    emu_resp_free(&r);
    chat("DeleteLoggingConfiguration", &r, "{\"identifier\":\"%s\"}", lc);
    emu_resp_free(&r);
}

/* Sends one message on a new connection to room; returns the frame the sender gets. */
static cJSON *send_one(const char *room, const char *content)
{
    struct emu_resp r;
    chat("CreateChatToken", &r,
         "{\"roomIdentifier\":\"%s\",\"userId\":\"w\",\"capabilities\":[\"SEND_MESSAGE\"]}", room);
    char token[256], conn[32];
    copy(token, sizeof token, js(r.json, "token"));
    emu_resp_free(&r);
    adminf("/_emulator/chat/connect", &r, "{\"token\":\"%s\"}", token);
    copy(conn, sizeof conn, js(r.json, "connectionId"));
    emu_resp_free(&r);
    adminf("/_emulator/chat/publish", &r,
           "{\"connectionId\":\"%s\",\"frame\":{\"Action\":\"SEND_MESSAGE\",\"Content\":"
           "\"%s\"}}",
           conn, content);
    cJSON *f = cJSON_Duplicate(jget(r.json, "frame"), 1);
    emu_resp_free(&r);
    return f;
}

static void test_chat_review_handler(void)
{
    struct emu_resp r;
    chat("CreateRoom", &r,
         "{\"messageReviewHandler\":{\"uri\":\"arn:aws:lambda:us-west-2:123456789012:function:"
         "f\",\"fallbackResult\":\"DENY\"}}");
    char room[160];
    copy(room, sizeof room, js(r.json, "arn"));
    emu_resp_free(&r);
    adminf("/_emulator/chat/review", &r,
           "{\"roomArn\":\"%s\",\"result\":\"DENY\",\"attributes\":{\"Reason\":\"rude\"}}", room);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    cJSON *f = send_one(room, "hey");
    CHECK_INT_EQ(406, jn(f, "ErrorCode"));
    CHECK(js(f, "ErrorMessage") && strstr(js(f, "ErrorMessage"), "rude"));
    cJSON_Delete(f);
    adminf("/_emulator/chat/review", &r,
           "{\"roomArn\":\"%s\",\"result\":\"ALLOW\",\"content\":"
           "\"***\",\"attributes\":{\"reviewed\":\"yes\"}}",
           room);
    emu_resp_free(&r);
    f = send_one(room, "darn");
    CHECK_STR_EQ("MESSAGE", js(f, "Type"));
    CHECK_STR_EQ("***", js(f, "Content"));
    CHECK_STR_EQ("yes", js(jget(f, "Attributes"), "reviewed"));
    cJSON_Delete(f);
    /* A failing handler: the room's fallbackResult (DENY here). */
    adminf("/_emulator/chat/review", &r, "{\"roomArn\":\"%s\",\"fail\":true}", room);
    emu_resp_free(&r);
    f = send_one(room, "hello");
    CHECK_INT_EQ(406, jn(f, "ErrorCode"));
    cJSON_Delete(f);
    adminf("/_emulator/chat/review", &r, "{\"roomArn\":\"%s\",\"result\":\"MAYBE\"}", room);
    CHECK_INT_EQ(400, r.status);
    emu_resp_free(&r);
    chat("DeleteRoom", &r, "{\"identifier\":\"%s\"}", room);
    emu_resp_free(&r);
}

static void test_chat_tags_errors_quotas(void)
{
    struct emu_resp r;
    chat("CreateRoom", &r, "{\"tags\":{\"env\":\"dev\"}}");
    char room[160];
    copy(room, sizeof room, js(r.json, "arn"));
    emu_resp_free(&r);
    /* A real ARN passes although the model's ResourceArn pattern would reject it. */
    tags_op("ivschat", "POST", room, NULL, "{\"tags\":{\"team\":\"live\"}}", &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    tags_op("ivschat", "DELETE", room, "tagKeys=env", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    tags_op("ivschat", "GET", room, NULL, NULL, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("live", js(jget(r.json, "tags"), "team"));
    CHECK(!jget(jget(r.json, "tags"), "env"));
    emu_resp_free(&r);
    tags_op("ivschat", "GET", "arn:aws:ivschat:us-west-2:123456789012:room/AAAAAAAAAAAA", NULL,
            NULL, &r);
    check_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    /* The model's pattern on a room identifier. */
    chat("GetRoom", &r, "{\"identifier\":\"room-1\"}");
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    chat("CreateRoom", &r, "{\"maximumMessageLength\":501}");
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    /* Faults apply to the family's operations too. */
    admin("POST", "/_emulator/faults",
          "{\"operation\":\"ListRooms\",\"status\":503,\"errorCode\":\"ServiceUnavailable\"}", &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    chat("ListRooms", &r, "{}");
    check_error(&r, 503, "ServiceUnavailable");
    emu_resp_free(&r);
    chat("ListRooms", &r, "{}");
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    /* Chat's scope is ivschat: the same request signed for ivs is refused. */
    send_op("ivs", "GetRoom", "{}", &r);
    check_error(&r, 403, "InvalidSignatureException");
    emu_resp_free(&r);
    /* 10 logging configurations per account and region. */
    char arns[11][160];
    int made = 0;
    for (int i = 0; i < 11; i++) {
        chat("CreateLoggingConfiguration", &r,
             "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"bucket-%d\"}}}", i);
        if (r.status == 200)
            copy(arns[made++], sizeof arns[0], js(r.json, "arn"));
        else {
            check_error(&r, 402, "ServiceQuotaExceededException");
            CHECK_INT_EQ(10, jn(r.json, "limit"));
        }
        emu_resp_free(&r);
    }
    CHECK_INT_EQ(10, made);
    for (int i = 0; i < made; i++) {
        chat("DeleteLoggingConfiguration", &r, "{\"identifier\":\"%s\"}", arns[i]);
        emu_resp_free(&r);
    }
    chat("DeleteRoom", &r, "{\"identifier\":\"%s\"}", room);
    emu_resp_free(&r);
}

/* ---- Real-Time ------------------------------------------------------------------------- */

static unsigned char *b64url_decode(const char *s, size_t len, size_t *out_len)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < len; i++)
        buf_putc(&b, s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i]);
    while (b.len % 4)
        buf_putc(&b, '=');
    unsigned char *out = malloc(b.len);
    int n = out ? EVP_DecodeBlock(out, (const unsigned char *)buf_str(&b), (int)b.len) : -1;
    size_t pad = 0;
    for (size_t i = b.len; i > 0 && b.data[i - 1] == '='; i--)
        pad++;
    buf_free(&b);
    if (n < 0) {
        free(out);
        return NULL;
    }
    *out_len = (size_t)n - pad;
    return out;
}

static char *b64url(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (out[i] == '=')
            break;
        out[o++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    out[o] = '\0';
    return out;
}

/* The payload of a JWS as text (malloc'd). */
static char *jws_payload(const char *token)
{
    const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2)
        return NULL;
    size_t n = 0;
    unsigned char *p = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &n);
    char *s = p ? malloc(n + 1) : NULL;
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    free(p);
    return s;
}

static void new_stage(const char *json, char arn[160])
{
    struct emu_resp r;
    rt("CreateStage", &r, "%s", json);
    CHECK_INT_EQ(200, r.status);
    copy(arn, 160, js(jget(r.json, "stage"), "arn"));
    emu_resp_free(&r);
}

static void new_stage_quiet(void)
{
    char arn[160];
    new_stage("{}", arn);
}

static void test_stages_and_tokens(void)
{
    struct emu_resp r;
    rt("CreateStage", &r,
       "{\"name\":\"show\",\"tags\":{\"a\":\"b\"},\"participantTokenConfigurations\":["
       "{\"userId\":\"host\",\"capabilities\":[\"PUBLISH\"],\"duration\":60,\"attributes\":{\"r\":"
       "\"1\"}},{\"capabilities\":[\"SUBSCRIBE\"]}]}");
    CHECK_INT_EQ(200, r.status);
    const cJSON *stage = jget(r.json, "stage");
    char arn[160];
    copy(arn, sizeof arn, js(stage, "arn"));
    CHECK(arn_of(arn, "ivs", "stage"));
    CHECK_STR_EQ("show", js(stage, "name"));
    CHECK(!jget(stage, "activeSessionId"));
    const cJSON *ep = jget(stage, "endpoints");
    CHECK_STR_EQ("wss://global.events.live-video.net", js(ep, "events"));
    const char *whip = js(ep, "whip");
    CHECK(whip && strlen(whip) == 8 + 12 + strlen(".global-bm.whip.live-video.net") &&
          !strncmp(whip, "https://", 8) && strspn(whip + 8, "0123456789abcdef") == 12);
    CHECK(js(ep, "rtmps") && !strncmp(js(ep, "rtmps"), "rtmps://", 8));
    CHECK(js(ep, "rtmp") && !strncmp(js(ep, "rtmp"), "rtmp://", 7));
    const cJSON *rec = jget(stage, "autoParticipantRecordingConfiguration");
    CHECK_STR_EQ("", js(rec, "storageConfigurationArn"));
    CHECK_STR_EQ("AUDIO_VIDEO", cJSON_GetArrayItem(jget(rec, "mediaTypes"), 0)->valuestring);
    CHECK_STR_EQ("DISABLED", js(jget(rec, "thumbnailConfiguration"), "recordingMode"));
    CHECK_INT_EQ(6, jn(jget(rec, "hlsConfiguration"), "targetSegmentDurationSeconds"));
    CHECK(cJSON_IsTrue(jget(rec, "recordParticipantReplicas")));

    const cJSON *toks = jget(r.json, "participantTokens");
    CHECK_INT_EQ(2, cJSON_GetArraySize(toks));
    const cJSON *t0 = cJSON_GetArrayItem(toks, 0), *t1 = cJSON_GetArrayItem(toks, 1);
    CHECK(alnum_of(js(t0, "participantId"), 12));
    CHECK_STR_EQ("host", js(t0, "userId"));
    CHECK_INT_EQ(60, jn(t0, "duration"));
    const char *tok = js(t0, "token");
    /* {"alg":"KMS","typ":"JWT"}, claims in the real order, version 0.0. */
    CHECK(tok && !strncmp(tok, "eyJhbGciOiJLTVMiLCJ0eXAiOiJKV1QifQ.", 35));
    char *payload = tok ? jws_payload(tok) : NULL;
    CHECK(payload && !strncmp(payload, "{\"exp\":", 7));
    cJSON *claims = cJSON_Parse(payload ? payload : "");
    CHECK_INT_EQ(3600, jn(claims, "exp") - jn(claims, "iat"));
    CHECK_STR_EQ(js(t0, "participantId"), js(claims, "jti"));
    CHECK_STR_EQ(arn, js(claims, "resource"));
    CHECK_STR_EQ(arn + strlen(arn) - 12, js(claims, "topic"));
    CHECK_STR_EQ(whip, js(claims, "whip_url"));
    CHECK_STR_EQ("host", js(claims, "user_id"));
    CHECK_STR_EQ("0.0", js(claims, "version"));
    CHECK(cJSON_IsTrue(jget(jget(claims, "capabilities"), "allow_publish")));
    CHECK(!jget(jget(claims, "capabilities"), "allow_subscribe"));
    CHECK_INT_EQ((long long)jn(claims, "exp"), (long long)iso_seconds(js(t0, "expirationTime")));
    cJSON_Delete(claims);
    free(payload);
    payload = jws_payload(js(t1, "token") ? js(t1, "token") : "");
    CHECK(payload && !strstr(payload, "user_id") && !strstr(payload, "allow_publish"));
    free(payload);
    emu_resp_free(&r);

    rt("CreateParticipantToken", &r, "{\"stageArn\":\"%s\",\"duration\":20160}", arn);
    CHECK_INT_EQ(200, r.status);
    const cJSON *pt = jget(r.json, "participantToken");
    CHECK_INT_EQ(20160, jn(pt, "duration"));
    CHECK_INT_EQ(2, cJSON_GetArraySize(jget(pt, "capabilities")));
    emu_resp_free(&r);
    rt("CreateParticipantToken", &r, "{\"stageArn\":\"%s\",\"duration\":20161}", arn);
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);

    rt("GetStage", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_STR_EQ("show", js(jget(r.json, "stage"), "name"));
    emu_resp_free(&r);
    rt("UpdateStage", &r, "{\"arn\":\"%s\",\"name\":\"renamed\"}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("renamed", js(jget(r.json, "stage"), "name"));
    CHECK(jget(jget(r.json, "stage"), "endpoints") != NULL);
    emu_resp_free(&r);
    rt("ListStages", &r, "{}");
    const cJSON *s0 = cJSON_GetArrayItem(jget(r.json, "stages"), 0);
    CHECK_STR_EQ(arn, js(s0, "arn"));
    CHECK(!jget(s0, "endpoints") && jget(s0, "tags"));
    emu_resp_free(&r);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK(cJSON_IsObject(r.json));
    emu_resp_free(&r);
    rt("GetStage", &r, "{\"arn\":\"%s\"}", arn);
    check_error(&r, 404, "ResourceNotFoundException");
    CHECK(cJSON_IsString(jget(r.json, "exceptionMessage")));
    emu_resp_free(&r);
    rt("GetStage", &r, "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/AAAAAAAAAAAA\"}");
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
}

/* Joins with a token through the admin API; copies the participant id. */
static void join(const char *token, char id[80])
{
    struct emu_resp r;
    adminf("/_emulator/stages/join", &r, "{\"token\":\"%s\",\"browserName\":\"firefox\"}", token);
    CHECK_INT_EQ(200, r.status);
    copy(id, 80, js(jget(r.json, "participant"), "participantId"));
    emu_resp_free(&r);
}

static void new_token(const char *stage, const char *caps, char *out, size_t n)
{
    struct emu_resp r;
    rt("CreateParticipantToken", &r,
       "{\"stageArn\":\"%s\",\"userId\":\"u-%s\",\"capabilities\":%s}", stage,
       caps[2] == 'P' ? "pub" : "sub", caps);
    copy(out, n, js(jget(r.json, "participantToken"), "token"));
    emu_resp_free(&r);
}

static void test_sessions_participants_events(void)
{
    char stage[160];
    new_stage("{}", stage);
    char pub_tok[1024], sub_tok[1024], a[80], b[80];
    new_token(stage, "[\"PUBLISH\",\"SUBSCRIBE\"]", pub_tok, sizeof pub_tok);
    new_token(stage, "[\"SUBSCRIBE\"]", sub_tok, sizeof sub_tok);
    struct emu_resp r;
    join(pub_tok, a);
    join(sub_tok, b);
    adminf("/_emulator/stages/join", &r, "{\"token\":\"%s\"}", pub_tok);
    CHECK_INT_EQ(409, r.status);
    emu_resp_free(&r);
    rt("GetStage", &r, "{\"arn\":\"%s\"}", stage);
    char session[32];
    copy(session, sizeof session, js(jget(r.json, "stage"), "activeSessionId"));
    CHECK(strlen(session) == 16 && !strncmp(session, "st-", 3) && alnum_of(session + 3, 13));
    emu_resp_free(&r);

    adminf("/_emulator/stages/publish", &r, "{\"stageArn\":\"%s\",\"participantId\":\"%s\"}", stage,
           a);
    CHECK_INT_EQ(200, r.status);
    CHECK(cJSON_IsTrue(jget(jget(r.json, "participant"), "published")));
    emu_resp_free(&r);
    adminf("/_emulator/stages/publish", &r, "{\"stageArn\":\"%s\",\"participantId\":\"%s\"}", stage,
           b);
    CHECK_INT_EQ(409, r.status);
    emu_resp_free(&r);
    adminf("/_emulator/stages/subscribe", &r,
           "{\"stageArn\":\"%s\",\"participantId\":\"%s\",\"remoteParticipantId\":\"%s\"}", stage,
           b, a);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);

    rt("GetStageSession", &r, "{\"stageArn\":\"%s\",\"sessionId\":\"%s\"}", stage, session);
    CHECK_INT_EQ(200, r.status);
    CHECK(iso_seconds(js(jget(r.json, "stageSession"), "startTime")) > 0);
    CHECK(!jget(jget(r.json, "stageSession"), "endTime"));
    emu_resp_free(&r);
    rt("ListParticipants", &r, "{\"stageArn\":\"%s\",\"sessionId\":\"%s\"}", stage, session);
    CHECK_INT_EQ(2, cJSON_GetArraySize(jget(r.json, "participants")));
    CHECK(!jget(cJSON_GetArrayItem(jget(r.json, "participants"), 0), "browserName"));
    emu_resp_free(&r);
    rt("ListParticipants", &r,
       "{\"stageArn\":\"%s\",\"sessionId\":\"%s\",\"filterByPublished\":true}", stage, session);
    CHECK_INT_EQ(1, cJSON_GetArraySize(jget(r.json, "participants")));
    CHECK_STR_EQ(a, js(cJSON_GetArrayItem(jget(r.json, "participants"), 0), "participantId"));
    emu_resp_free(&r);
    rt("ListParticipants", &r,
       "{\"stageArn\":\"%s\",\"sessionId\":\"%s\",\"filterByPublished\":true,"
       "\"filterByState\":\"CONNECTED\"}",
       stage, session);
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    rt("GetParticipant", &r, "{\"stageArn\":\"%s\",\"sessionId\":\"%s\",\"participantId\":\"%s\"}",
       stage, session, a);
    const cJSON *p = jget(r.json, "participant");
    CHECK_STR_EQ("CONNECTED", js(p, "state"));
    CHECK_STR_EQ("firefox", js(p, "browserName"));
    CHECK_STR_EQ("u-pub", js(p, "userId"));
    CHECK_STR_EQ("NONE", js(p, "replicationType"));
    CHECK_STR_EQ("", js(p, "recordingS3BucketName"));
    emu_resp_free(&r);
    rt("ListParticipantEvents", &r,
       "{\"stageArn\":\"%s\",\"sessionId\":\"%s\",\"participantId\":\"%s\"}", stage, session, b);
    const cJSON *ev = jget(r.json, "events");
    CHECK_INT_EQ(3, cJSON_GetArraySize(ev));
    CHECK_STR_EQ("SUBSCRIBE_STARTED", js(cJSON_GetArrayItem(ev, 0), "name"));
    CHECK_STR_EQ(a, js(cJSON_GetArrayItem(ev, 0), "remoteParticipantId"));
    CHECK_STR_EQ("PUBLISH_ERROR", js(cJSON_GetArrayItem(ev, 1), "name"));
    CHECK_STR_EQ("INSUFFICIENT_CAPABILITIES", js(cJSON_GetArrayItem(ev, 1), "errorCode"));
    CHECK_STR_EQ("JOINED", js(cJSON_GetArrayItem(ev, 2), "name"));
    emu_resp_free(&r);

    struct buf q = BUF_INIT;
    buf_printf(&q, "/_emulator/events?resourceArn=%s", stage);
    admin("GET", buf_str(&q), NULL, &r);
    int published = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, jget(r.json, "events"))
    {
        if (!strcmp(js(e, "detail-type"), "IVS Stage Update") &&
            !strcmp(js(jget(e, "detail"), "event_name"), "Participant Published")) {
            published++;
            CHECK_STR_EQ(session, js(jget(e, "detail"), "session_id"));
            CHECK_STR_EQ(a, js(jget(e, "detail"), "participant_id"));
            CHECK_STR_EQ("aws.ivs", js(e, "source"));
        }
    }
    CHECK_INT_EQ(1, published);
    emu_resp_free(&r);
    buf_free(&q);

    rt("DisconnectParticipant", &r,
       "{\"stageArn\":\"%s\",\"participantId\":\"%s\",\"reason\":\"bye\"}", stage, a);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    adminf("/_emulator/stages/join", &r, "{\"token\":\"%s\"}", pub_tok);
    CHECK_INT_EQ(401, r.status);
    emu_resp_free(&r);
    adminf("/_emulator/stages/leave", &r, "{\"stageArn\":\"%s\",\"participantId\":\"%s\"}", stage,
           b);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    /* The last one out ends the session. */
    rt("ListStageSessions", &r, "{\"stageArn\":\"%s\"}", stage);
    const cJSON *ss = cJSON_GetArrayItem(jget(r.json, "stageSessions"), 0);
    CHECK_STR_EQ(session, js(ss, "sessionId"));
    CHECK(iso_seconds(js(ss, "endTime")) > 0);
    emu_resp_free(&r);
    rt("GetStage", &r, "{\"arn\":\"%s\"}", stage);
    CHECK(!jget(jget(r.json, "stage"), "activeSessionId"));
    emu_resp_free(&r);
    rt("GetParticipant", &r, "{\"stageArn\":\"%s\",\"sessionId\":\"%s\",\"participantId\":\"%s\"}",
       stage, session, a);
    CHECK_STR_EQ("DISCONNECTED", js(jget(r.json, "participant"), "state"));
    emu_resp_free(&r);
    rt("DisconnectParticipant", &r, "{\"stageArn\":\"%s\",\"participantId\":\"nobody\"}", stage);
    check_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", stage);
    emu_resp_free(&r);
}

/* A P-384 key pair: the public half as PEM into pem[1024]. */
static EVP_PKEY *p384_key(const char *curve, char pem[1024])
{
    EVP_PKEY *key = EVP_EC_gen(curve);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    int n = BIO_read(bio, pem, 1023);
    pem[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
    return key;
}

/* A self-signed ES384 participant token (JWS raw r||s signature). */
static char *self_signed(EVP_PKEY *key, const char *kid, const char *claims)
{
    char header[512];
    snprintf(header, sizeof header, "{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    char *h = b64url(header, strlen(header)), *c = b64url(claims, strlen(claims));
    struct buf in = BUF_INIT;
    buf_printf(&in, "%s.%s", h, c);
    free(h);
    free(c);
    unsigned char der[160], raw[96] = {0};
    size_t der_len = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key);
    EVP_DigestSign(md, der, &der_len, (const unsigned char *)in.data, in.len);
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 48);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 48, 48);
    ECDSA_SIG_free(sig);
    char *s = b64url(raw, sizeof raw);
    buf_printf(&in, ".%s", s);
    free(s);
    return buf_steal(&in);
}

static void test_public_keys_and_self_signed_tokens(void)
{
    char pem[1024], pem256[1024];
    EVP_PKEY *key = p384_key("P-384", pem);
    EVP_PKEY *k256 = p384_key("P-256", pem256);
    EVP_PKEY_free(k256);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "publicKeyMaterial", pem);
    cJSON_AddStringToObject(body, "name", "signer");
    char *json = cJSON_PrintUnformatted(body);
    struct emu_resp r;
    rt("ImportPublicKey", &r, "%s", json);
    CHECK_INT_EQ(200, r.status);
    const cJSON *pk = jget(r.json, "publicKey");
    char karn[160];
    copy(karn, sizeof karn, js(pk, "arn"));
    CHECK(arn_of(karn, "ivs", "public-key"));
    CHECK(js(pk, "fingerprint") && strlen(js(pk, "fingerprint")) == 47);
    CHECK_STR_EQ(pem, js(pk, "publicKeyMaterial"));
    emu_resp_free(&r);
    rt("ImportPublicKey", &r, "%s", json);
    check_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    free(json);
    cJSON_ReplaceItemInObjectCaseSensitive(body, "publicKeyMaterial", cJSON_CreateString(pem256));
    json = cJSON_PrintUnformatted(body);
    rt("ImportPublicKey", &r, "%s", json);
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    free(json);
    cJSON_Delete(body);
    rt("GetPublicKey", &r, "{\"arn\":\"%s\"}", karn);
    CHECK_STR_EQ("signer", js(jget(r.json, "publicKey"), "name"));
    emu_resp_free(&r);
    rt("ListPublicKeys", &r, "{}");
    const cJSON *k0 = cJSON_GetArrayItem(jget(r.json, "publicKeys"), 0);
    CHECK_STR_EQ(karn, js(k0, "arn"));
    CHECK(!jget(k0, "fingerprint") && !jget(k0, "publicKeyMaterial"));
    emu_resp_free(&r);

    char stage[160];
    new_stage("{}", stage);
    rt("GetStage", &r, "{\"arn\":\"%s\"}", stage);
    char whip[160];
    copy(whip, sizeof whip, js(jget(jget(r.json, "stage"), "endpoints"), "whip"));
    emu_resp_free(&r);
    long long now = (long long)time(NULL);
    char claims[1024];
    snprintf(claims, sizeof claims,
             "{\"exp\":%lld,\"iat\":%lld,\"jti\":\"self_signed-1\",\"resource\":\"%s\",\"topic\":"
             "\"%s\",\"events_url\":\"wss://global.events.live-video.net\",\"whip_url\":\"%s\","
             "\"user_id\":\"me\",\"capabilities\":{\"allow_publish\":true},\"version\":\"1.0\"}",
             now + 3600, now, stage, stage + strlen(stage) - 12, whip);
    char *tok = self_signed(key, karn, claims);
    char id[80];
    join(tok, id);
    CHECK_STR_EQ("self_signed-1", id);
    /* A changed signature, version or lifetime is refused. */
    tok[strlen(tok) - 3] = tok[strlen(tok) - 3] == 'A' ? 'B' : 'A';
    adminf("/_emulator/stages/join", &r, "{\"token\":\"%s\"}", tok);
    CHECK_INT_EQ(401, r.status);
    emu_resp_free(&r);
    free(tok);
    snprintf(claims, sizeof claims,
             "{\"exp\":%lld,\"iat\":%lld,\"jti\":\"late\",\"resource\":\"%s\",\"topic\":\"%s\","
             "\"events_url\":\"wss://global.events.live-video.net\",\"whip_url\":\"%s\","
             "\"capabilities\":{\"allow_publish\":true},\"version\":\"1.0\"}",
             now + 15 * 86400, now, stage, stage + strlen(stage) - 12, whip);
    tok = self_signed(key, karn, claims);
    adminf("/_emulator/stages/join", &r, "{\"token\":\"%s\"}", tok);
    CHECK_INT_EQ(401, r.status);
    emu_resp_free(&r);
    free(tok);

    /* Three keys per region. */
    char extra[3][160];
    int made = 0;
    for (int i = 0; i < 3; i++) {
        char p2[1024];
        EVP_PKEY *k = p384_key("P-384", p2);
        EVP_PKEY_free(k);
        cJSON *b2 = cJSON_CreateObject();
        cJSON_AddStringToObject(b2, "publicKeyMaterial", p2);
        char *j2 = cJSON_PrintUnformatted(b2);
        rt("ImportPublicKey", &r, "%s", j2);
        if (r.status == 200)
            copy(extra[made++], sizeof extra[0], js(jget(r.json, "publicKey"), "arn"));
        else
            check_error(&r, 402, "ServiceQuotaExceededException");
        emu_resp_free(&r);
        free(j2);
        cJSON_Delete(b2);
    }
    CHECK_INT_EQ(2, made);
    for (int i = 0; i < made; i++) {
        rt("DeletePublicKey", &r, "{\"arn\":\"%s\"}", extra[i]);
        CHECK_INT_EQ(200, r.status);
        emu_resp_free(&r);
    }
    /* After DeletePublicKey, its tokens cannot join. */
    rt("DeletePublicKey", &r, "{\"arn\":\"%s\"}", karn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    snprintf(claims, sizeof claims,
             "{\"exp\":%lld,\"iat\":%lld,\"jti\":\"after\",\"resource\":\"%s\",\"topic\":\"%s\","
             "\"events_url\":\"wss://global.events.live-video.net\",\"whip_url\":\"%s\","
             "\"capabilities\":{\"allow_publish\":true},\"version\":\"1.0\"}",
             now + 60, now, stage, stage + strlen(stage) - 12, whip);
    tok = self_signed(key, karn, claims);
    adminf("/_emulator/stages/join", &r, "{\"token\":\"%s\"}", tok);
    CHECK_INT_EQ(401, r.status);
    emu_resp_free(&r);
    free(tok);
    EVP_PKEY_free(key);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", stage);
    emu_resp_free(&r);
}

static void test_compositions_and_configurations(void)
{
    struct emu_resp r;
    rt("CreateEncoderConfiguration", &r, "{\"name\":\"hd\"}");
    CHECK_INT_EQ(200, r.status);
    const cJSON *ec = jget(r.json, "encoderConfiguration");
    char enc[160];
    copy(enc, sizeof enc, js(ec, "arn"));
    CHECK(arn_of(enc, "ivs", "encoder-configuration"));
    CHECK_INT_EQ(1280, jn(jget(ec, "video"), "width"));
    CHECK_INT_EQ(720, jn(jget(ec, "video"), "height"));
    CHECK_INT_EQ(30, jn(jget(ec, "video"), "framerate"));
    CHECK_INT_EQ(2500000, jn(jget(ec, "video"), "bitrate"));
    emu_resp_free(&r);
    rt("CreateEncoderConfiguration", &r, "{\"video\":{\"width\":1281,\"height\":720}}");
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    rt("CreateEncoderConfiguration", &r, "{\"video\":{\"width\":1920,\"height\":1920}}");
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    rt("CreateStorageConfiguration", &r, "{\"s3\":{\"bucketName\":\"recordings\"}}");
    CHECK_INT_EQ(200, r.status);
    char sto[160];
    copy(sto, sizeof sto, js(jget(r.json, "storageConfiguration"), "arn"));
    CHECK(arn_of(sto, "ivs", "storage-configuration"));
    emu_resp_free(&r);
    rt("GetEncoderConfiguration", &r, "{\"arn\":\"%s\"}", enc);
    CHECK_STR_EQ("hd", js(jget(r.json, "encoderConfiguration"), "name"));
    emu_resp_free(&r);
    rt("GetStorageConfiguration", &r, "{\"arn\":\"%s\"}", sto);
    CHECK_STR_EQ("recordings", js(jget(jget(r.json, "storageConfiguration"), "s3"), "bucketName"));
    emu_resp_free(&r);
    rt("ListEncoderConfigurations", &r, "{}");
    CHECK(!jget(cJSON_GetArrayItem(jget(r.json, "encoderConfigurations"), 0), "video"));
    emu_resp_free(&r);
    rt("ListStorageConfigurations", &r, "{}");
    CHECK(jget(cJSON_GetArrayItem(jget(r.json, "storageConfigurations"), 0), "s3") != NULL);
    emu_resp_free(&r);

    /* An IVS low-latency channel on the same port, for the channel destination. */
    send_op("ivs", "CreateChannel", "{\"name\":\"program\"}", &r);
    char channel[160];
    copy(channel, sizeof channel, js(jget(r.json, "channel"), "arn"));
    emu_resp_free(&r);
    char stage[160];
    new_stage("{}", stage);
    rt("StartComposition", &r,
       "{\"stageArn\":\"%s\",\"idempotencyToken\":\"once\",\"destinations\":[{\"channel\":{"
       "\"channelArn\":\"%s\",\"encoderConfigurationArn\":\"%s\"}},{\"s3\":{"
       "\"storageConfigurationArn\":\"%s\",\"encoderConfigurationArns\":[\"%s\"]}}]}",
       stage, channel, enc, sto, enc);
    CHECK_INT_EQ(200, r.status);
    const cJSON *c = jget(r.json, "composition");
    char comp[160];
    copy(comp, sizeof comp, js(c, "arn"));
    CHECK(arn_of(comp, "ivs", "composition"));
    CHECK_STR_EQ("STARTING", js(c, "state"));
    CHECK_INT_EQ(2, jn(jget(jget(c, "layout"), "grid"), "gridGap"));
    const cJSON *d1 = cJSON_GetArrayItem(jget(c, "destinations"), 1);
    CHECK(alnum_of(js(d1, "id"), 12));
    CHECK_STR_EQ(
        "HLS", js(jget(jget(jget(d1, "configuration"), "s3"), "recordingConfiguration"), "format"));
    const char *prefix = js(jget(jget(d1, "detail"), "s3"), "recordingPrefix");
    CHECK(prefix && strstr(prefix, comp + strlen(comp) - 12) && strstr(prefix, "/composite"));
    emu_resp_free(&r);
    rt("StartComposition", &r,
       "{\"stageArn\":\"%s\",\"idempotencyToken\":\"once\",\"destinations\":[{\"channel\":{"
       "\"channelArn\":\"%s\"}}]}",
       stage, channel);
    CHECK_STR_EQ(comp, js(jget(r.json, "composition"), "arn"));
    emu_resp_free(&r);
    rt("StartComposition", &r,
       "{\"stageArn\":\"%s\",\"destinations\":[{\"channel\":{\"channelArn\":"
       "\"arn:aws:ivs:us-west-2:123456789012:channel/AAAAAAAAAAAA\"}}]}",
       stage);
    check_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    rt("GetComposition", &r, "{\"arn\":\"%s\"}", comp);
    CHECK_STR_EQ("ACTIVE", js(jget(r.json, "composition"), "state"));
    emu_resp_free(&r);
    rt("ListCompositions", &r, "{\"filterByEncoderConfigurationArn\":\"%s\"}", enc);
    const cJSON *cs = cJSON_GetArrayItem(jget(r.json, "compositions"), 0);
    CHECK_STR_EQ(comp, js(cs, "arn"));
    CHECK(!jget(cs, "layout") &&
          !jget(cJSON_GetArrayItem(jget(cs, "destinations"), 0), "configuration"));
    emu_resp_free(&r);
    rt("ListCompositions", &r,
       "{\"filterByStageArn\":\"arn:aws:ivs:us-west-2:123456789012:stage/AAAAAAAAAAAA\"}");
    CHECK_INT_EQ(0, cJSON_GetArraySize(jget(r.json, "compositions")));
    emu_resp_free(&r);
    /* In-use configurations cannot be deleted. */
    rt("DeleteEncoderConfiguration", &r, "{\"arn\":\"%s\"}", enc);
    check_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    rt("DeleteStorageConfiguration", &r, "{\"arn\":\"%s\"}", sto);
    check_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    rt("StopComposition", &r, "{\"arn\":\"%s\"}", comp);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    rt("GetComposition", &r, "{\"arn\":\"%s\"}", comp);
    CHECK_STR_EQ("STOPPED", js(jget(r.json, "composition"), "state"));
    CHECK(iso_seconds(js(jget(r.json, "composition"), "endTime")) > 0);
    emu_resp_free(&r);
    struct buf q = BUF_INIT;
    buf_printf(&q, "/_emulator/events?resourceArn=%s", comp);
    admin("GET", buf_str(&q), NULL, &r);
    int starts = 0, ends = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, jget(r.json, "events"))
    {
        CHECK_STR_EQ("IVS Composition State Change", js(e, "detail-type"));
        starts += !strcmp(js(jget(e, "detail"), "event_name"), "Session Start");
        ends += !strcmp(js(jget(e, "detail"), "event_name"), "Session End");
    }
    CHECK(starts == 1 && ends == 1);
    emu_resp_free(&r);
    buf_free(&q);
    /* A stage recording to the storage configuration also holds it. */
    rt("UpdateStage", &r,
       "{\"arn\":\"%s\",\"autoParticipantRecordingConfiguration\":{\"storageConfigurationArn\":"
       "\"%s\"}}",
       stage, sto);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("AUDIO_VIDEO",
                 cJSON_GetArrayItem(
                     jget(jget(jget(r.json, "stage"), "autoParticipantRecordingConfiguration"),
                          "mediaTypes"),
                     0)
                     ->valuestring);
    emu_resp_free(&r);
    rt("DeleteStorageConfiguration", &r, "{\"arn\":\"%s\"}", sto);
    check_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", stage);
    emu_resp_free(&r);
    rt("DeleteEncoderConfiguration", &r, "{\"arn\":\"%s\"}", enc);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    rt("DeleteStorageConfiguration", &r, "{\"arn\":\"%s\"}", sto);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
}

static void test_ingest_configurations(void)
{
    char stage[160];
    new_stage("{\"autoParticipantRecordingConfiguration\":{\"storageConfigurationArn\":\"\"}}",
              stage);
    struct emu_resp r;
    rt("CreateIngestConfiguration", &r,
       "{\"ingestProtocol\":\"RTMPS\",\"stageArn\":\"%s\",\"userId\":\"obs\",\"name\":\"cam\"}",
       stage);
    CHECK_INT_EQ(200, r.status);
    const cJSON *ic = jget(r.json, "ingestConfiguration");
    char arn[160], key[200], pid[32];
    copy(arn, sizeof arn, js(ic, "arn"));
    copy(key, sizeof key, js(ic, "streamKey"));
    copy(pid, sizeof pid, js(ic, "participantId"));
    CHECK(arn_of(arn, "ivs", "ingest-configuration"));
    char want[160];
    snprintf(want, sizeof want, "rt_123456789012_us-west-2_%s_", arn + strlen(arn) - 12);
    CHECK(!strncmp(key, want, strlen(want)) && alnum_of(key + strlen(want), 32));
    CHECK(alnum_of(pid, 12));
    CHECK_STR_EQ("INACTIVE", js(ic, "state"));
    CHECK(cJSON_IsFalse(jget(ic, "redundantIngest")));
    emu_resp_free(&r);
    rt("CreateIngestConfiguration", &r, "{\"ingestProtocol\":\"RTMP\",\"redundantIngest\":true}");
    CHECK_INT_EQ(200, r.status);
    char spare[160];
    copy(spare, sizeof spare, js(jget(r.json, "ingestConfiguration"), "arn"));
    CHECK_STR_EQ("", js(jget(r.json, "ingestConfiguration"), "stageArn"));
    CHECK_INT_EQ(1, cJSON_GetArraySize(
                        jget(jget(r.json, "ingestConfiguration"), "redundantIngestCredentials")));
    emu_resp_free(&r);

    adminf("/_emulator/ingest/start", &r, "{\"streamKey\":\"%s\"}", key);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("RTMPS", js(jget(r.json, "participant"), "protocol"));
    CHECK_STR_EQ(pid, js(jget(r.json, "participant"), "participantId"));
    CHECK_STR_EQ(arn, js(jget(r.json, "participant"), "ingestConfigurationArn"));
    emu_resp_free(&r);
    rt("GetIngestConfiguration", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_STR_EQ("ACTIVE", js(jget(r.json, "ingestConfiguration"), "state"));
    emu_resp_free(&r);
    rt("UpdateIngestConfiguration", &r, "{\"arn\":\"%s\",\"stageArn\":\"\"}", arn);
    check_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    rt("DeleteIngestConfiguration", &r, "{\"arn\":\"%s\"}", arn);
    check_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    rt("ListIngestConfigurations", &r, "{\"filterByState\":\"ACTIVE\"}");
    CHECK_INT_EQ(1, cJSON_GetArraySize(jget(r.json, "ingestConfigurations")));
    CHECK(!jget(cJSON_GetArrayItem(jget(r.json, "ingestConfigurations"), 0), "streamKey"));
    emu_resp_free(&r);
    rt("ListIngestConfigurations", &r, "{\"filterByState\":\"ACTIVE\",\"filterByStageArn\":\"%s\"}",
       stage);
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    adminf("/_emulator/ingest/stop", &r, "{\"streamKey\":\"%s\"}", key);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    rt("UpdateIngestConfiguration", &r, "{\"arn\":\"%s\",\"stageArn\":\"\"}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("", js(jget(r.json, "ingestConfiguration"), "stageArn"));
    emu_resp_free(&r);
    rt("UpdateIngestConfiguration", &r,
       "{\"arn\":\"%s\",\"stageArn\":\"arn:aws:ivs:us-west-2:123456789012:stage/AAAAAAAAAAAA\"}",
       arn);
    check_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    rt("DeleteIngestConfiguration", &r, "{\"arn\":\"%s\",\"force\":true}", arn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    rt("DeleteIngestConfiguration", &r, "{\"arn\":\"%s\"}", spare);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", stage);
    emu_resp_free(&r);
}

static void test_replication(void)
{
    char src[160], dst[160], tok[1024], id[80];
    new_stage("{}", src);
    new_stage("{}", dst);
    new_token(src, "[\"PUBLISH\",\"SUBSCRIBE\"]", tok, sizeof tok);
    join(tok, id);
    struct emu_resp r;
    rt("StartParticipantReplication", &r,
       "{\"sourceStageArn\":\"%s\",\"destinationStageArn\":\"%s\",\"participantId\":\"%s\"}", src,
       dst, id);
    check_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    adminf("/_emulator/stages/publish", &r, "{\"stageArn\":\"%s\",\"participantId\":\"%s\"}", src,
           id);
    emu_resp_free(&r);
    rt("StartParticipantReplication", &r,
       "{\"sourceStageArn\":\"%s\",\"destinationStageArn\":\"%s\",\"participantId\":\"%s\","
       "\"attributes\":{\"from\":\"src\"}}",
       src, dst, id);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    rt("ListParticipantReplicas", &r, "{\"sourceStageArn\":\"%s\",\"participantId\":\"%s\"}", src,
       id);
    const cJSON *rep = cJSON_GetArrayItem(jget(r.json, "replicas"), 0);
    CHECK_STR_EQ(dst, js(rep, "destinationStageArn"));
    CHECK_STR_EQ("ACTIVE", js(rep, "replicationState"));
    char dsession[32];
    copy(dsession, sizeof dsession, js(rep, "destinationSessionId"));
    emu_resp_free(&r);
    rt("GetParticipant", &r, "{\"stageArn\":\"%s\",\"sessionId\":\"%s\",\"participantId\":\"%s\"}",
       dst, dsession, id);
    const cJSON *p = jget(r.json, "participant");
    CHECK_STR_EQ("REPLICA", js(p, "replicationType"));
    CHECK_STR_EQ(src, js(p, "sourceStageArn"));
    CHECK_STR_EQ("src", js(jget(p, "attributes"), "from"));
    CHECK(cJSON_IsTrue(jget(p, "published")));
    emu_resp_free(&r);
    rt("StopParticipantReplication", &r,
       "{\"sourceStageArn\":\"%s\",\"destinationStageArn\":\"%s\",\"participantId\":\"%s\"}", src,
       dst, id);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    rt("ListParticipantReplicas", &r, "{\"sourceStageArn\":\"%s\",\"participantId\":\"%s\"}", src,
       id);
    CHECK_STR_EQ("STOPPED",
                 js(cJSON_GetArrayItem(jget(r.json, "replicas"), 0), "replicationState"));
    emu_resp_free(&r);
    rt("StopParticipantReplication", &r,
       "{\"sourceStageArn\":\"%s\",\"destinationStageArn\":\"%s\",\"participantId\":\"%s\"}", src,
       dst, id);
    check_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", src);
    emu_resp_free(&r);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", dst);
    emu_resp_free(&r);
}

static void test_realtime_tags(void)
{
    char stage[160];
    new_stage("{\"tags\":{\"env\":\"dev\"}}", stage);
    struct emu_resp r;
    tags_op("ivs", "POST", stage, NULL, "{\"tags\":{\"team\":\"live\"}}", &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    tags_op("ivs", "DELETE", stage, "tagKeys=env", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    tags_op("ivs", "GET", stage, NULL, NULL, &r);
    CHECK_STR_EQ("live", js(jget(r.json, "tags"), "team"));
    CHECK(!jget(jget(r.json, "tags"), "env"));
    emu_resp_free(&r);
    /* 50 tags at most. */
    struct buf many = BUF_INIT;
    buf_puts(&many, "{\"tags\":{");
    for (int i = 0; i < 50; i++)
        buf_printf(&many, "%s\"k%d\":\"v\"", i ? "," : "", i);
    buf_puts(&many, "}}");
    tags_op("ivs", "POST", stage, NULL, buf_str(&many), &r);
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    buf_free(&many);
    /* The same /tags path of a channel still reaches IVS low-latency. */
    send_op("ivs", "CreateChannel", "{}", &r);
    char channel[160];
    copy(channel, sizeof channel, js(jget(r.json, "channel"), "arn"));
    emu_resp_free(&r);
    tags_op("ivs", "GET", channel, NULL, NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    struct buf del = BUF_INIT;
    buf_printf(&del, "{\"arn\":\"%s\"}", channel);
    send_op("ivs", "DeleteChannel", buf_str(&del), &r);
    CHECK_INT_EQ(204, r.status);
    emu_resp_free(&r);
    buf_free(&del);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", stage);
    emu_resp_free(&r);
}

/* ---- persistence ----------------------------------------------------------------------- */

static void test_family_persistence(void)
{
    char dir[] = "/tmp/ivs-emu-family-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("no temporary directory");
    char state[256];
    snprintf(state, sizeof state, "%s/state.json", dir);
    const char *args[] = {"--state", state, NULL};
    struct emu_child saved = g_emu, c;
    CHECK(emu_start(&c, args) == 0);
    g_emu = c;
    g_watchdog_pid = c.pid;
    struct emu_resp r;
    chat("CreateRoom", &r, "{\"name\":\"durable\"}");
    char room[160];
    copy(room, sizeof room, js(r.json, "arn"));
    emu_resp_free(&r);
    chat("CreateChatToken", &r, "{\"roomIdentifier\":\"%s\",\"userId\":\"u\"}", room);
    char chat_token[256];
    copy(chat_token, sizeof chat_token, js(r.json, "token"));
    emu_resp_free(&r);
    char stage[160], tok[1024], id[80];
    new_stage("{\"name\":\"kept\"}", stage);
    new_token(stage, "[\"PUBLISH\"]", tok, sizeof tok);
    join(tok, id);
    CHECK_INT_EQ(0, emu_stop(&c, SIGTERM));
    /* Tokens are secrets: the state file has neither the chat token nor the participant one. */
    char *saved_state = harness_read_file(state, NULL);
    CHECK(saved_state && !strstr(saved_state, chat_token) && !strstr(saved_state, tok));
    free(saved_state);

    CHECK(emu_start(&c, args) == 0);
    g_emu = c;
    g_watchdog_pid = c.pid;
    chat("GetRoom", &r, "{\"identifier\":\"%s\"}", room);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("durable", js(r.json, "name"));
    emu_resp_free(&r);
    rt("GetStage", &r, "{\"arn\":\"%s\"}", stage);
    CHECK_STR_EQ("kept", js(jget(r.json, "stage"), "name"));
    char session[32];
    copy(session, sizeof session, js(jget(r.json, "stage"), "activeSessionId"));
    emu_resp_free(&r);
    rt("GetParticipant", &r, "{\"stageArn\":\"%s\",\"sessionId\":\"%s\",\"participantId\":\"%s\"}",
       stage, session, id);
    CHECK_STR_EQ("CONNECTED", js(jget(r.json, "participant"), "state"));
    emu_resp_free(&r);
    /* The chat token still opens its one connection after the restart. */
    adminf("/_emulator/chat/connect", &r, "{\"token\":\"%s\"}", chat_token);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    CHECK_INT_EQ(0, emu_stop(&c, SIGTERM));

    /* Private state of odd shapes (sessions without ids, participants that are not a list)
     * loads and is served without harm. */
    char *saved_text = harness_read_file(state, NULL);
    cJSON *root = cJSON_Parse(saved_text ? saved_text : "");
    free(saved_text);
    cJSON *res;
    cJSON_ArrayForEach(res, jget(jget(root, "family"), "resources"))
    {
        if (!strcmp(js(res, "type"), "stage"))
            cJSON_ReplaceItemInObjectCaseSensitive(
                res, "priv",
                cJSON_Parse("{\"sessions\":[{\"participants\":\"x\"},{},[]],\"tokens\":[1],"
                            "\"replicas\":{\"a\":2}}"));
    }
    char *odd = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    FILE *of = fopen(state, "wb");
    CHECK(of && odd);
    if (of && odd) {
        fputs(odd, of);
        fclose(of);
    }
    free(odd);
    CHECK(emu_start(&c, args) == 0);
    g_emu = c;
    g_watchdog_pid = c.pid;
    rt("ListStageSessions", &r, "{\"stageArn\":\"%s\"}", stage);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    rt("ListParticipants", &r, "{\"stageArn\":\"%s\",\"sessionId\":\"%s\"}", stage, session);
    CHECK_INT_EQ(404, r.status);
    emu_resp_free(&r);
    rt("ListParticipantReplicas", &r, "{\"sourceStageArn\":\"%s\",\"participantId\":\"%s\"}", stage,
       id);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    new_token(stage, "[\"PUBLISH\"]", tok, sizeof tok);
    join(tok, id);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", stage);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    CHECK_INT_EQ(0, emu_stop(&c, SIGTERM));

    /* A resource whose ARN does not fit its service is not loaded: the file is refused. */
    size_t len = 0;
    char *text = harness_read_file(state, &len);
    char *at = text ? strstr(text, "arn:aws:ivschat:") : NULL;
    if (at) {
        memcpy(at, "arn:aws:ivsxxxx:", 16);
        FILE *f = fopen(state, "wb");
        fwrite(text, 1, len, f);
        fclose(f);
        CHECK(emu_start(&c, args) != 0);
    }
    CHECK(at != NULL);
    free(text);
    g_emu = saved;
    g_watchdog_pid = saved.pid;
    unlink(state);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", state);
    unlink(tmp);
    rmdir(dir);
}

/* Every acknowledged Chat and Real-Time change is in the journal before the reply: it
 * survives kill -9 (no time for the debounced snapshot). */
static void test_family_journal_survives_kill(void)
{
    char dir[] = "/tmp/ivs-emu-family-journal-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("no temporary directory");
    char state[256];
    snprintf(state, sizeof state, "%s/state.json", dir);
    const char *args[] = {"--state", state, NULL};
    struct emu_child saved = g_emu, c;
    CHECK(emu_start(&c, args) == 0);
    g_emu = c;
    g_watchdog_pid = c.pid;
    struct emu_resp r;
    chat("CreateRoom", &r, "{\"name\":\"journaled\"}");
    char room[160], gone[160];
    copy(room, sizeof room, js(r.json, "arn"));
    emu_resp_free(&r);
    chat("CreateRoom", &r, "{}");
    copy(gone, sizeof gone, js(r.json, "arn"));
    emu_resp_free(&r);
    chat("DeleteRoom", &r, "{\"identifier\":\"%s\"}", gone);
    emu_resp_free(&r);
    char stage[160], tok[1024], id[80];
    new_stage("{\"name\":\"journaled\"}", stage);
    new_token(stage, "[\"PUBLISH\"]", tok, sizeof tok);
    join(tok, id);
    /* Deleting a stage changes what points at it (found by walking, not by ARN): its ingest
     * configuration loses its stageArn, its composition stops. */
    char doomed[160], ingest[160], comp[160];
    new_stage("{}", doomed);
    rt("CreateIngestConfiguration", &r, "{\"ingestProtocol\":\"RTMPS\",\"stageArn\":\"%s\"}",
       doomed);
    copy(ingest, sizeof ingest, js(jget(r.json, "ingestConfiguration"), "arn"));
    emu_resp_free(&r);
    rt("CreateStorageConfiguration", &r, "{\"s3\":{\"bucketName\":\"journal-rec\"}}");
    char sto[160];
    copy(sto, sizeof sto, js(jget(r.json, "storageConfiguration"), "arn"));
    emu_resp_free(&r);
    rt("CreateEncoderConfiguration", &r, "{}");
    char enc[160];
    copy(enc, sizeof enc, js(jget(r.json, "encoderConfiguration"), "arn"));
    emu_resp_free(&r);
    rt("StartComposition", &r,
       "{\"stageArn\":\"%s\",\"destinations\":[{\"s3\":{\"storageConfigurationArn\":\"%s\","
       "\"encoderConfigurationArns\":[\"%s\"]}}]}",
       doomed, sto, enc);
    copy(comp, sizeof comp, js(jget(r.json, "composition"), "arn"));
    emu_resp_free(&r);
    rt("DeleteStage", &r, "{\"arn\":\"%s\"}", doomed);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    CHECK_INT_EQ(-1, emu_stop(&c, SIGKILL));

    CHECK(emu_start(&c, args) == 0);
    g_emu = c;
    g_watchdog_pid = c.pid;
    chat("GetRoom", &r, "{\"identifier\":\"%s\"}", room);
    CHECK_STR_EQ("journaled", js(r.json, "name"));
    emu_resp_free(&r);
    chat("GetRoom", &r, "{\"identifier\":\"%s\"}", gone);
    CHECK_INT_EQ(404, r.status);
    emu_resp_free(&r);
    rt("GetStage", &r, "{\"arn\":\"%s\"}", stage);
    CHECK_STR_EQ("journaled", js(jget(r.json, "stage"), "name"));
    char session[32];
    copy(session, sizeof session, js(jget(r.json, "stage"), "activeSessionId"));
    emu_resp_free(&r);
    rt("GetParticipant", &r, "{\"stageArn\":\"%s\",\"sessionId\":\"%s\",\"participantId\":\"%s\"}",
       stage, session, id);
    CHECK_STR_EQ("CONNECTED", js(jget(r.json, "participant"), "state"));
    emu_resp_free(&r);
    rt("GetIngestConfiguration", &r, "{\"arn\":\"%s\"}", ingest);
    CHECK_STR_EQ("", js(jget(r.json, "ingestConfiguration"), "stageArn"));
    emu_resp_free(&r);
    rt("GetComposition", &r, "{\"arn\":\"%s\"}", comp);
    CHECK_STR_EQ("STOPPED", js(jget(r.json, "composition"), "state"));
    emu_resp_free(&r);
    CHECK_INT_EQ(0, emu_stop(&c, SIGTERM));
    g_emu = saved;
    g_watchdog_pid = saved.pid;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* ---- independent clients --------------------------------------------------------------- */

static void test_boto3_oracle(void)
{
    if (system("python3 -c 'import boto3' >/dev/null 2>&1") != 0)
        SKIP("boto3 is not installed");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 %s/tests/oracle/emulator_family_boto3.py %s", harness_root(),
             g_emu.base);
    int st = system(cmd);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the boto3 scenario failed (status %d)", st);
}

static int run_cli(const char *dir, const char *service, const char *args, struct buf *out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_CONFIG_FILE=/dev/null "
             "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_DATA_PATH=%s/data AWS_PAGER= "
             "aws %s %s --endpoint-url %s --region us-west-2 --output json 2>&1",
             dir, EMU_KEY_ID, EMU_SECRET, dir, service, args, g_emu.base);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char chunk[4096];
    size_t n;
    buf_reset(out);
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(out, chunk, n);
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_aws_cli_family(void)
{
    if (system("aws --version >/dev/null 2>&1") != 0)
        SKIP("the AWS CLI is not installed");
    char dir[] = "/tmp/ivs-emu-cli-family-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("no temporary directory");
    /* The shared models, when present, stand in for whatever the installed CLI bundles. */
    static const char *const models[][3] = {
        {"ivschat", "ivschat/ivschat-2020-07-14.model.json", "ivschat"},
        {"ivs-realtime", "ivs-realtime/ivs-realtime-2020-07-14.model.json", "ivs-realtime"}};
    char cmd[2048];
    for (size_t i = 0; i < 2; i++) {
        char model[512];
        snprintf(model, sizeof model, "%s/../shared/%s", harness_root(), models[i][1]);
        if (access(model, R_OK) == 0) {
            snprintf(cmd, sizeof cmd,
                     "mkdir -p %s/data/%s/2020-07-14 && cp %s %s/data/%s/2020-07-14/service-2.json",
                     dir, models[i][2], model, dir, models[i][2]);
            CHECK(system(cmd) == 0);
        }
    }
    struct buf out = BUF_INIT;
    CHECK_INT_EQ(0, run_cli(dir, "ivschat", "create-room --name cli-room --tags env=cli", &out));
    cJSON *j = cJSON_Parse(buf_str(&out));
    char room[160];
    copy(room, sizeof room, js(j, "arn"));
    CHECK(arn_of(room, "ivschat", "room"));
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "create-chat-token --room-identifier %s --user-id cli", room);
    CHECK_INT_EQ(0, run_cli(dir, "ivschat", cmd, &out));
    CHECK(strstr(buf_str(&out), "\"token\": \"AQICAH") != NULL);
    /* Each CLI run costs seconds: a few calls that cover signing, routing, parsing, errors. */
    snprintf(cmd, sizeof cmd, "get-room --identifier %.*sAAAAAAAAAAAA", (int)strlen(room) - 12,
             room);
    CHECK(run_cli(dir, "ivschat", cmd, &out) != 0);
    CHECK(strstr(buf_str(&out), "ResourceNotFoundException") != NULL);

    CHECK_INT_EQ(0, run_cli(dir, "ivs-realtime",
                            "create-stage --name cli-stage --participant-token-configurations "
                            "userId=a,capabilities=PUBLISH",
                            &out));
    j = cJSON_Parse(buf_str(&out));
    char stage[160];
    copy(stage, sizeof stage, js(jget(j, "stage"), "arn"));
    CHECK(arn_of(stage, "ivs", "stage"));
    CHECK_INT_EQ(1, cJSON_GetArraySize(jget(j, "participantTokens")));
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "create-participant-token --stage-arn %s --user-id b", stage);
    CHECK_INT_EQ(0, run_cli(dir, "ivs-realtime", cmd, &out));
    CHECK(strstr(buf_str(&out), "eyJhbGciOiJLTVMiLCJ0eXAiOiJKV1QifQ.") != NULL);
    snprintf(cmd, sizeof cmd, "get-stage --arn %.*sAAAAAAAAAAAA", (int)strlen(stage) - 12, stage);
    CHECK(run_cli(dir, "ivs-realtime", cmd, &out) != 0);
    CHECK(strstr(buf_str(&out), "ResourceNotFoundException") != NULL);
    buf_free(&out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* ---- guards ---------------------------------------------------------------------------- */

/* Every operation of the three services reaches a handler on this one port: its route is
 * known (not the front door's unknown-route 403) and nothing answers "not handled" (500). */
static void test_every_operation_is_routed(void)
{
    static const char *const names[] = {"ivs", "ivschat", "ivs-realtime"};
    static const char *const arns[] = {"arn:aws:ivs:us-west-2:123456789012:channel/AAAAAAAAAAAA",
                                       "arn:aws:ivschat:us-west-2:123456789012:room/AAAAAAAAAAAA",
                                       "arn:aws:ivs:us-west-2:123456789012:stage/AAAAAAAAAAAA"};
    size_t total = 0;
    for (size_t s = 0; s < 3; s++) {
        const struct model_service *svc = model_find_service(names[s]);
        CHECK(svc != NULL);
        if (!svc)
            continue;
        for (size_t i = 0; i < svc->model->operation_count; i++) {
            const struct model_operation *op = &svc->model->operations[i];
            struct emu_resp r;
            if (strstr(op->uri, "{resourceArn}")) {
                tags_op(svc->signing_name, op->method, arns[s],
                        !strcmp(op->method, "DELETE") ? "tagKeys=x" : NULL,
                        !strcmp(op->method, "POST") ? "{\"tags\":{\"a\":\"b\"}}" : NULL, &r);
                /* The tag routes answer for a resource of the right service: not found. */
                CHECK_MSG(r.status == 404, "%s %s: %ld", names[s], op->name, r.status);
            } else {
                struct emu_sign sg = {.service = svc->signing_name};
                emu_send(g_curl, &g_emu, op->method, op->uri, NULL, "{}", &sg, &r);
                CHECK_MSG(r.status != 500 &&
                              strcmp(r.error_type, "MissingAuthenticationTokenException") != 0,
                          "%s %s: %ld %s", names[s], op->name, r.status, r.error_type);
            }
            emu_resp_free(&r);
            total++;
        }
    }
    CHECK_INT_EQ(97, total);
}

/* Each Chat and Real-Time operation was answered with success by a test above: a new
 * operation in a model fails here until it is served and tested. */
static void test_every_family_operation_was_served(void)
{
    static const char *const names[] = {"ivschat", "ivs-realtime"};
    size_t total = 0;
    for (size_t s = 0; s < 2; s++) {
        const struct model_service *svc = model_find_service(names[s]);
        CHECK(svc != NULL);
        for (size_t i = 0; svc && i < svc->model->operation_count; i++) {
            const char *name = svc->model->operations[i].name;
            int hit = 0;
            for (size_t j = 0; j < g_served_n; j++)
                hit |= !strcmp(g_served[j], name);
            CHECK_MSG(hit, "%s %s was never answered with success", names[s], name);
            total++;
        }
    }
    CHECK_INT_EQ(56, total);
}

/* A client that kept the real host name is routed by it (here without signatures, so the
 * Host header can be chosen freely). */
static void test_host_routing(void)
{
    const char *args[] = {"--no-auth", NULL};
    struct emu_child saved = g_emu, c;
    CHECK(emu_start(&c, args) == 0);
    g_emu = c;
    g_watchdog_pid = c.pid;
    struct emu_resp r;
    struct emu_sign s = {.unsigned_request = 1,
                         .extra_header = "Host: ivsrealtime.us-west-2.amazonaws.com"};
    /* The tags path of a channel ARN goes to low-latency by the ARN, but to Real-Time by the
     * host, where a channel is no resource of its own. */
    emu_send(g_curl, &g_emu, "GET",
             "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FAAAAAAAAAAAA", NULL,
             NULL, &s, &r);
    check_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    s.extra_header = "Host: ivschat.us-west-2.amazonaws.com";
    emu_send(g_curl, &g_emu, "POST", "/CreateRoom", NULL, "{\"name\":\"by-host\"}", &s, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(arn_of(js(r.json, "arn"), "ivschat", "room"));
    emu_resp_free(&r);
    /* Chat's paths are not Real-Time's. */
    s.extra_header = "Host: ivsrealtime.us-west-2.amazonaws.com";
    emu_send(g_curl, &g_emu, "POST", "/CreateRoom", NULL, "{}", &s, &r);
    check_error(&r, 403, "MissingAuthenticationTokenException");
    emu_resp_free(&r);
    CHECK_INT_EQ(0, emu_stop(&c, SIGTERM));
    g_emu = saved;
    g_watchdog_pid = saved.pid;
}

static void test_reset_clears_the_family(void)
{
    struct emu_resp r;
    chat("CreateRoom", &r, "{}");
    emu_resp_free(&r);
    new_stage_quiet();
    admin("POST", "/_emulator/reset", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    chat("ListRooms", &r, "{}");
    CHECK_INT_EQ(0, cJSON_GetArraySize(jget(r.json, "rooms")));
    emu_resp_free(&r);
    rt("ListStages", &r, "{}");
    CHECK_INT_EQ(0, cJSON_GetArraySize(jget(r.json, "stages")));
    emu_resp_free(&r);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(240);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_curl = curl_easy_init();
    if (emu_start(&g_emu, NULL) != 0) {
        printf("not ok - could not start ivs-emulator (is IVS_BUILD set and the emulator "
               "built?)\n");
        return harness_finish() || 1;
    }
    g_watchdog_pid = g_emu.pid;
    RUN(test_chat_rooms_and_logging);
    RUN(test_chat_messaging);
    RUN(test_chat_review_handler);
    RUN(test_chat_tags_errors_quotas);
    RUN(test_stages_and_tokens);
    RUN(test_sessions_participants_events);
    RUN(test_public_keys_and_self_signed_tokens);
    RUN(test_compositions_and_configurations);
    RUN(test_ingest_configurations);
    RUN(test_replication);
    RUN(test_realtime_tags);
    RUN(test_every_operation_is_routed);
    RUN(test_every_family_operation_was_served);
    RUN(test_reset_clears_the_family);
    RUN(test_host_routing);
    RUN(test_family_persistence);
    RUN(test_family_journal_survives_kill);
    RUN(test_boto3_oracle);
    RUN(test_aws_cli_family);
    int st = emu_stop(&g_emu, SIGTERM);
    if (st != 0)
        printf("not ok - ivs-emulator exited with status %d after SIGTERM\n", st);
    curl_easy_cleanup(g_curl);
    curl_global_cleanup();
    return harness_finish() || st != 0;
}
