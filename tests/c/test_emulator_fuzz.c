/* test_emulator_fuzz.c: a bounded fuzz and stress run against ivs-emulator. Thousands of
 * random or mutated requests go over loopback (raw bytes, broken HTTP, random JSON bodies for
 * every operation, mangled signatures, concurrent clients); afterwards the server must
 * still answer correctly and exit cleanly. The random seed is printed so a failure can be
 * replayed with IVS_FUZZ_SEED. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "harness.h"
#include "test_emulator_client.h"

static struct emu_child g_auth, g_open;
static unsigned g_seed;

static void on_alarm(int sig)
{
    (void)sig;
    if (g_auth.pid > 0)
        kill(g_auth.pid, SIGKILL);
    if (g_open.pid > 0)
        kill(g_open.pid, SIGKILL);
    static const char msg[] = "not ok - watchdog: fuzz run took too long\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

static unsigned rnd(unsigned *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

/* Sends raw bytes on a fresh connection and reads whatever comes back (bounded). Returns
 * the number of response bytes, or -1 when the connection could not be made. */
static long raw_exchange(unsigned port, const char *data, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
    (void)w;
    shutdown(fd, SHUT_WR);
    /* Wait a little for the first bytes, then only drain what is already coming: a kept-alive
     * connection would otherwise hold every exchange for the whole timeout. */
    char buf[4096];
    long total = 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    while (total < 1 << 20 && poll(&pfd, 1, total ? 20 : 150) > 0) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        total += r;
    }
    close(fd);
    return total;
}

static const char *const k_ops[] = {"BatchGetChannel",
                                    "BatchGetStreamKey",
                                    "BatchStartViewerSessionRevocation",
                                    "CreateAdConfiguration",
                                    "CreateChannel",
                                    "CreatePlaybackRestrictionPolicy",
                                    "CreateRecordingConfiguration",
                                    "CreateStreamKey",
                                    "DeleteAdConfiguration",
                                    "DeleteChannel",
                                    "DeletePlaybackKeyPair",
                                    "DeletePlaybackRestrictionPolicy",
                                    "DeleteRecordingConfiguration",
                                    "DeleteStreamKey",
                                    "GetAdConfiguration",
                                    "GetChannel",
                                    "GetPlaybackKeyPair",
                                    "GetPlaybackRestrictionPolicy",
                                    "GetRecordingConfiguration",
                                    "GetStream",
                                    "GetStreamKey",
                                    "GetStreamSession",
                                    "ImportPlaybackKeyPair",
                                    "InsertAdBreak",
                                    "ListAdConfigurations",
                                    "ListChannels",
                                    "ListPlaybackKeyPairs",
                                    "ListPlaybackRestrictionPolicies",
                                    "ListRecordingConfigurations",
                                    "ListStreamKeys",
                                    "ListStreamSessions",
                                    "ListStreams",
                                    "PutMetadata",
                                    "StartViewerSessionRevocation",
                                    "StopStream",
                                    "UpdateAdConfiguration",
                                    "UpdateChannel",
                                    "UpdatePlaybackRestrictionPolicy"};
static const char *const k_keys[] = {"arn",
                                     "arns",
                                     "channelArn",
                                     "name",
                                     "tags",
                                     "maxResults",
                                     "nextToken",
                                     "filterBy",
                                     "health",
                                     "viewerSessions",
                                     "viewerId",
                                     "metadata",
                                     "durationSeconds",
                                     "type",
                                     "latencyMode",
                                     "preset",
                                     "publicKeyMaterial",
                                     "destinationConfiguration",
                                     "s3",
                                     "bucketName",
                                     "mediaTailorPlaybackConfigurations",
                                     "recordingConfigurationArn",
                                     "adConfigurationArn",
                                     "playbackRestrictionPolicyArn",
                                     "multitrackInputConfiguration",
                                     "enabled",
                                     "containerFormat",
                                     "renditionConfiguration",
                                     "renditionSelection",
                                     "thumbnailConfiguration",
                                     "streamId",
                                     "filterByName",
                                     "filterByRecordingConfigurationArn",
                                     "allowedCountries",
                                     "postRollConfiguration",
                                     "viewerSessionVersionsLessThanOrEqualTo",
                                     "authorized",
                                     "insecureIngest"};

static cJSON *random_value(unsigned *st, int depth, const char *arn)
{
    switch (rnd(st) % (depth > 2 ? 6 : 8)) {
    case 0: return cJSON_CreateNull();
    case 1: return cJSON_CreateBool(rnd(st) & 1);
    case 2: return cJSON_CreateNumber((double)(int)rnd(st) / (rnd(st) % 3 ? 1 : 1000.0));
    case 3: return cJSON_CreateString(arn);
    case 4: {
        char s[64];
        size_t n = rnd(st) % sizeof s;
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(1 + rnd(st) % 255);
        s[n] = '\0';
        return cJSON_CreateString(s);
    }
    case 5: return cJSON_CreateString(k_keys[rnd(st) % (sizeof k_keys / sizeof k_keys[0])]);
    case 6: {
        cJSON *a = cJSON_CreateArray();
        for (unsigned i = rnd(st) % 4; i > 0; i--)
            cJSON_AddItemToArray(a, random_value(st, depth + 1, arn));
        return a;
    }
    default: {
        cJSON *o = cJSON_CreateObject();
        for (unsigned i = rnd(st) % 5; i > 0; i--)
            cJSON_AddItemToObject(o, k_keys[rnd(st) % (sizeof k_keys / sizeof k_keys[0])],
                                  random_value(st, depth + 1, arn));
        return o;
    }
    }
}

struct fuzz_worker {
    unsigned seed;
    int iterations;
    char arn[160];
    long answered;
    long no_answer;
};

/* Random JSON bodies to real operations, without auth so they reach the handlers. */
static void *json_worker(void *arg)
{
    struct fuzz_worker *w = arg;
    unsigned st = w->seed;
    CURL *curl = curl_easy_init();
    struct emu_sign nosig = {.unsigned_request = 1};
    for (int i = 0; i < w->iterations; i++) {
        const char *op = k_ops[rnd(&st) % (sizeof k_ops / sizeof k_ops[0])];
        cJSON *body = cJSON_CreateObject();
        for (unsigned k = rnd(&st) % 6; k > 0; k--)
            cJSON_AddItemToObject(body, k_keys[rnd(&st) % (sizeof k_keys / sizeof k_keys[0])],
                                  random_value(&st, 0, w->arn));
        char *text = cJSON_PrintUnformatted(body);
        cJSON_Delete(body);
        if (text && rnd(&st) % 8 == 0)
            text[rnd(&st) % (strlen(text) + 1)] = '\0'; /* truncated JSON */
        char path[96];
        snprintf(path, sizeof path, "/%s", op);
        struct emu_resp r;
        emu_send(curl, &g_open, "POST", path, NULL, text ? text : "{}", &nosig, &r);
        if (r.status >= 200 && strlen(r.request_id) == 36)
            w->answered++;
        else
            w->no_answer++;
        emu_resp_free(&r);
        free(text);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static void test_random_json_to_every_operation(void)
{
    struct emu_resp r;
    CURL *curl = curl_easy_init();
    struct emu_sign nosig = {.unsigned_request = 1};
    emu_send(curl, &g_open, "POST", "/CreateChannel", NULL, "{\"name\":\"fuzz\"}", &nosig, &r);
    CHECK_INT_EQ(200, r.status);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.json, "channel"), "arn");
    char arn[160];
    snprintf(arn, sizeof arn, "%s", cJSON_IsString(a) ? a->valuestring : "");
    emu_resp_free(&r);
    char body[300];
    snprintf(body, sizeof body, "{\"channelArn\":\"%s\"}", arn);
    emu_send(curl, &g_open, "POST", "/_emulator/streams/start", NULL, body, &nosig, &r);
    emu_resp_free(&r);
    struct fuzz_worker ws[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        ws[i] = (struct fuzz_worker){g_seed + (unsigned)i * 7919u, 600, "", 0, 0};
        snprintf(ws[i].arn, sizeof ws[i].arn, "%s", arn);
        pthread_create(&t[i], NULL, json_worker, &ws[i]);
    }
    long answered = 0, lost = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        answered += ws[i].answered;
        lost += ws[i].no_answer;
    }
    CHECK_INT_EQ(2400, answered);
    CHECK_INT_EQ(0, lost);
    emu_send(curl, &g_open, "GET", "/_emulator/health", NULL, NULL, &nosig, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    curl_easy_cleanup(curl);
}

static void test_broken_http(void)
{
    unsigned st = g_seed ^ 0x5bd1e995u;
    static const char valid[] =
        "POST /ListChannels HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-Amz-Date: 20240101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 "
        "Credential=AKIAIVSEMULATOR00001/20240101/"
        "us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=abcdef\r\nContent-Length: 2\r\n\r\n{}";
    char buf[2048];
    int lost = 0;
    for (int i = 0; i < 700; i++) {
        size_t len;
        if (i % 4 == 0) {
            len = rnd(&st) % sizeof buf;
            for (size_t k = 0; k < len; k++)
                buf[k] = (char)rnd(&st);
        } else {
            len = sizeof valid - 1;
            memcpy(buf, valid, len);
            for (unsigned flips = 1 + rnd(&st) % 8; flips > 0; flips--)
                buf[rnd(&st) % len] = (char)rnd(&st);
            if (rnd(&st) % 4 == 0)
                len = rnd(&st) % len;
        }
        struct emu_child *target = i % 2 ? &g_auth : &g_open;
        if (raw_exchange(target->port, buf, len) < 0)
            lost++;
    }
    CHECK_INT_EQ(0, lost);
}

static void test_still_correct_afterwards(void)
{
    CURL *curl = curl_easy_init();
    struct emu_resp r;
    emu_send(curl, &g_auth, "POST", "/CreateChannel", NULL, "{\"name\":\"after\"}", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.json, "channel"), "arn");
    char body[300];
    snprintf(body, sizeof body, "{\"arn\":\"%s\"}", cJSON_IsString(a) ? a->valuestring : "");
    emu_resp_free(&r);
    emu_send(curl, &g_auth, "POST", "/GetChannel", NULL, body, NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    emu_send(curl, &g_auth, "POST", "/GetChannel", NULL, body, &(struct emu_sign){.secret = "bad"},
             &r);
    CHECK_INT_EQ(403, r.status);
    CHECK_STR_EQ("InvalidSignatureException", r.error_type);
    emu_resp_free(&r);
    emu_send(curl, &g_open, "POST", "/ListChannels", NULL, "{\"maxResults\":100}", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r.json, "channels")));
    emu_resp_free(&r);
    curl_easy_cleanup(curl);
    CHECK_INT_EQ(0, emu_stop(&g_auth, SIGTERM));
    CHECK_INT_EQ(0, emu_stop(&g_open, SIGTERM));
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(150);
    const char *seed = getenv("IVS_FUZZ_SEED");
    g_seed = seed ? (unsigned)strtoul(seed, NULL, 10) : (unsigned)time(NULL) | 1u;
    printf("# seed %u\n", g_seed);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *no_auth[] = {"--no-auth", NULL};
    if (emu_start(&g_auth, NULL) != 0 || emu_start(&g_open, no_auth) != 0) {
        printf("not ok - could not start ivs-emulator\n");
        emu_stop(&g_auth, SIGKILL);
        return 1;
    }
    RUN(test_random_json_to_every_operation);
    RUN(test_broken_http);
    RUN(test_still_correct_afterwards);
    emu_stop(&g_auth, SIGKILL);
    emu_stop(&g_open, SIGKILL);
    curl_global_cleanup();
    return harness_finish();
}
