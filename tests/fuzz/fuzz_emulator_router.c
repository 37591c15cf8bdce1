/* fuzz_emulator_router.c: the emulator's front door and store (emulator/server.c, auth.c,
 * store.c) without sockets: requests go straight to emu_server_dispatch().
 *
 * The input is one or more HTTP requests back to back ("POST /CreateChannel HTTP/1.1",
 * headers, an empty line, Content-Length bytes of body), run in order against a store reset
 * to s_base_state, so a sequence can create, change and read resources. A request without an
 * Authorization header goes to a --no-auth front door; one with "Authorization: fuzz-sign"
 * is signed by the harness (now, us-west-2, the emulator's key) and checked for real; any
 * other Authorization value goes to the checking front door as it is. Invariants: every
 * reply has a status, an error reply has a type, a success body is JSON, and a request the
 * harness signed is never refused for its signature. Admin requests that would arm a fault
 * with latency are skipped (the delay is real sleeping, which would only slow fuzzing
 * down). */
#include <time.h>

#include <cJSON.h>

#include "fuzz.h"
#include "server.h"
#include "sigv4.h"
#include "store.h"

#define MAX_REQUESTS 16

static struct store *s_store;
static struct emu_server *s_auth, *s_open;
static struct emu_credential s_cred = {(char *)"AKIDFUZZEXAMPLE", (char *)"fuzz-secret-key",
                                       (char *)"123456789012"};
static struct sigv4_key_cache *s_cache;
static int s_verbose; /* FUZZ_VERBOSE=1: print each reply's status (to check the seeds) */

static void setup(void)
{
    char errbuf[256];
    s_store = store_new("us-west-2", "123456789012", NULL);
    s_cache = sigv4_key_cache_new();
    s_verbose = getenv("FUZZ_VERBOSE") != NULL;
    struct emu_server_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.region = "us-west-2";
    cfg.account = "123456789012";
    cfg.credentials = &s_cred;
    cfg.credential_count = 1;
    cfg.store = s_store;
    cfg.no_listen = 1;
    s_auth = emu_server_start(&cfg, errbuf, sizeof errbuf);
    cfg.no_auth = 1;
    s_open = emu_server_start(&cfg, errbuf, sizeof errbuf);
    if (!s_store || !s_cache || !s_auth || !s_open)
        abort();
}

/* What every input starts from: a saved state (from a real run) with two channels, one of
 * them live (with its current session and events), their stream keys, a recording
 * configuration and a playback restriction policy,
 * under fixed ARNs (channel/AbCdEfGhIjKl, channel/MnOpQrStUvWx, stream-key/KeyAAAAAAAAA,
 * recording-configuration/RecCCCCCCCCC, playback-restriction-policy/PrpDDDDDDDDD in
 * 123456789012/us-west-2), so requests can name existing resources. */
static const char s_base_state[] =
    "{\"format\":\"ivs-emulator-state\",\"version\":1,\"seq\":6,\"partitions\":[{\"account\":"
    "\"123456789012\",\"region\":\"us-west-2\",\"resources\":[{\"type\":\"channel\",\"seq\":1"
    ",\"obj\":{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl\",\"name\":"
    "\"studio-a\",\"latencyMode\":\"LOW\",\"type\":\"STANDARD\",\"recordingConfigurationArn\""
    ":\"\",\"ingestEndpoint\":\"5ca33026d006.global-contribute.live-video.net\",\"playbackUrl"
    "\":\"https://5ca33026d006.us-west-2.playback.live-video.net/api/video/v1/us-west-2.12345"
    "6789012.channel.AbCdEfGhIjKl.m3u8\",\"authorized\":false,\"tags\":{\"team\":\"video\"},"
    "\"insecureIngest\":false,\"preset\":\"\",\"srt\":{\"endpoint\":\"5ca33026d006.srt.live-v"
    "ideo.net\",\"passphrase\":\"fuzzpassphrase\"},\"playbackRestrictionPolicyArn\":\"\",\"mu"
    "ltitrackInputConfiguration\":{\"enabled\":false,\"maximumResolution\":\"FULL_HD\",\"poli"
    "cy\":\"ALLOW\"},\"containerFormat\":\"TS\",\"adConfigurationArn\":\"\"},\"stream\":{\"ch"
    "annelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl\",\"streamId\":\"st"
    "-238LrN1MbW98s5jkzhSG57P\",\"playbackUrl\":\"https://5ca33026d006.us-west-2.playback.liv"
    "e-video.net/api/video/v1/us-west-2.123456789012.channel.AbCdEfGhIjKl.m3u8\",\"startTime"
    "\":\"2026-11-30T02:23:00Z\",\"state\":\"LIVE\",\"health\":\"HEALTHY\",\"viewerCount\":3}"
    ",\"sessions\":[{\"streamId\":\"st-238LrN1MbW98s5jkzhSG57P\",\"startTime\":\"2026-11-30T0"
    "2:23:00Z\",\"channel\":{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjK"
    "l\",\"name\":\"studio-a\",\"latencyMode\":\"LOW\",\"type\":\"STANDARD\",\"recordingConfi"
    "gurationArn\":\"\",\"ingestEndpoint\":\"5ca33026d006.global-contribute.live-video.net\","
    "\"playbackUrl\":\"https://5ca33026d006.us-west-2.playback.live-video.net/api/video/v1/us"
    "-west-2.123456789012.channel.AbCdEfGhIjKl.m3u8\",\"authorized\":false,\"tags\":{\"team\""
    ":\"video\"},\"insecureIngest\":false,\"preset\":\"\",\"srt\":{\"endpoint\":\"5ca33026d00"
    "6.srt.live-video.net\",\"passphrase\":\"fuzzpassphrase\"},\"playbackRestrictionPolicyArn"
    "\":\"\",\"multitrackInputConfiguration\":{\"enabled\":false,\"maximumResolution\":\"FULL"
    "_HD\",\"policy\":\"ALLOW\"},\"containerFormat\":\"TS\",\"adConfigurationArn\":\"\"},\"in"
    "gestConfiguration\":{\"video\":{\"avcProfile\":\"Main\",\"avcLevel\":\"4.1\",\"codec\":"
    "\"avc1.4D4029\",\"encoder\":\"ivs-emulator\",\"targetBitrate\":6000000,\"targetFramerate"
    "\":30,\"videoHeight\":1080,\"videoWidth\":1920,\"level\":\"4.1\",\"track\":\"Track0\",\""
    "profile\":\"Main\"},\"audio\":{\"codec\":\"mp4a.40.2\",\"targetBitrate\":160000,\"sample"
    "Rate\":48000,\"channels\":2,\"track\":\"Track0\"}},\"ingestConfigurations\":{\"videoConf"
    "igurations\":[{\"avcProfile\":\"Main\",\"avcLevel\":\"4.1\",\"codec\":\"avc1.4D4029\",\""
    "encoder\":\"ivs-emulator\",\"targetBitrate\":6000000,\"targetFramerate\":30,\"videoHeigh"
    "t\":1080,\"videoWidth\":1920,\"level\":\"4.1\",\"track\":\"Track0\",\"profile\":\"Main\""
    "}],\"audioConfigurations\":[{\"codec\":\"mp4a.40.2\",\"targetBitrate\":160000,\"sampleRa"
    "te\":48000,\"channels\":2,\"track\":\"Track0\"}]},\"truncatedEvents\":[{\"name\":\"Strea"
    "m Start\",\"type\":\"IVS Stream State Change\",\"eventTime\":\"2026-11-30T02:23:00Z\"},{"
    "\"name\":\"Session Created\",\"type\":\"IVS Stream State Change\",\"eventTime\":\"2026-1"
    "1-30T02:23:00Z\"}],\"_startEpoch\":1796005380.8516564,\"_recordingSessionId\":\"BXlScqGJ"
    "6v3MpYhB\",\"_recordingPrefix\":\"ivs/v1/123456789012/AbCdEfGhIjKl/2026/11/30/2/23/Lj2M8"
    "uvjRolq\"}]},{\"type\":\"channel\",\"seq\":3,\"obj\":{\"arn\":\"arn:aws:ivs:us-west-2:12"
    "3456789012:channel/MnOpQrStUvWx\",\"name\":\"studio-b\",\"latencyMode\":\"NORMAL\",\"typ"
    "e\":\"ADVANCED_HD\",\"recordingConfigurationArn\":\"\",\"ingestEndpoint\":\"5ca33026d006"
    ".global-contribute.live-video.net\",\"playbackUrl\":\"https://5ca33026d006.us-west-2.pla"
    "yback.live-video.net/api/video/v1/us-west-2.123456789012.channel.MnOpQrStUvWx.m3u8\",\"a"
    "uthorized\":false,\"tags\":{},\"insecureIngest\":false,\"preset\":\"HIGHER_BANDWIDTH_DEL"
    "IVERY\",\"srt\":{\"endpoint\":\"5ca33026d006.srt.live-video.net\",\"passphrase\":\"fuzzp"
    "assphrase\"},\"playbackRestrictionPolicyArn\":\"\",\"multitrackInputConfiguration\":{\"e"
    "nabled\":false,\"maximumResolution\":\"FULL_HD\",\"policy\":\"ALLOW\"},\"containerFormat"
    "\":\"TS\",\"adConfigurationArn\":\"\"},\"sessions\":[]},{\"type\":\"stream-key\",\"seq\""
    ":2,\"obj\":{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:stream-key/KeyAAAAAAAAA\",\"val"
    "ue\":\"sk_us-west-2_KeyAAAAAAAAA_VK1omHvCAZInALrRpFhlooq5zEL05d\",\"channelArn\":\"arn:a"
    "ws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl\",\"tags\":{\"team\":\"video\"}}},{\""
    "type\":\"stream-key\",\"seq\":4,\"obj\":{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:st"
    "ream-key/KeyBBBBBBBBB\",\"value\":\"sk_us-west-2_KeyBBBBBBBBB_sHGN2UBd5C1qhStjYAf8p2ICHP"
    "mMEb\",\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/MnOpQrStUvWx\",\"tags"
    "\":{}}},{\"type\":\"recording-configuration\",\"seq\":5,\"obj\":{\"arn\":\"arn:aws:ivs:u"
    "s-west-2:123456789012:recording-configuration/RecCCCCCCCCC\",\"name\":\"rec\",\"destinat"
    "ionConfiguration\":{\"s3\":{\"bucketName\":\"my-bucket\"}},\"state\":\"ACTIVE\",\"tags\""
    ":{},\"thumbnailConfiguration\":{\"recordingMode\":\"INTERVAL\",\"targetIntervalSeconds\""
    ":60,\"resolution\":\"\",\"storage\":[\"SEQUENTIAL\"]},\"recordingReconnectWindowSeconds"
    "\":0,\"renditionConfiguration\":{\"renditionSelection\":\"ALL\",\"renditions\":[]}}},{\""
    "type\":\"playback-restriction-policy\",\"seq\":6,\"obj\":{\"arn\":\"arn:aws:ivs:us-west-"
    "2:123456789012:playback-restriction-policy/PrpDDDDDDDDD\",\"allowedCountries\":[\"US\"],"
    "\"allowedOrigins\":[\"https://example.com\"],\"enableStrictOriginEnforcement\":false,\"n"
    "ame\":\"prp\",\"tags\":{}}}],\"events\":[{\"version\":\"0\",\"id\":\"6e7511db-5115-4573-"
    "a723-f68440dc5803\",\"detail-type\":\"IVS Stream State Change\",\"source\":\"aws.ivs\","
    "\"account\":\"123456789012\",\"time\":\"2026-11-30T02:23:00Z\",\"region\":\"us-west-2\","
    "\"resources\":[\"arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl\"],\"detail\":{"
    "\"event_name\":\"Session Created\",\"channel_name\":\"studio-a\",\"stream_id\":\"st-238L"
    "rN1MbW98s5jkzhSG57P\"}},{\"version\":\"0\",\"id\":\"e253e468-db99-489f-b324-f63891deb4dd"
    "\",\"detail-type\":\"IVS Stream State Change\",\"source\":\"aws.ivs\",\"account\":\"1234"
    "56789012\",\"time\":\"2026-11-30T02:23:00Z\",\"region\":\"us-west-2\",\"resources\":[\"a"
    "rn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl\"],\"detail\":{\"event_name\":\"S"
    "tream Start\",\"channel_name\":\"studio-a\",\"stream_id\":\"st-238LrN1MbW98s5jkzhSG57P\""
    "}}]}]}";

static void reset(void)
{
    struct emu_reply r;
    cJSON *q = cJSON_CreateObject();
    memset(&r, 0, sizeof r);
    store_admin(s_store, "POST", "/reset", q, NULL, &r);
    emu_reply_cleanup(&r);
    memset(&r, 0, sizeof r);
    store_admin(s_store, "DELETE", "/faults", q, NULL, &r);
    emu_reply_cleanup(&r);
    cJSON_Delete(q);
    char errbuf[256];
    if (store_load_text(s_store, s_base_state, sizeof s_base_state - 1, "base state", errbuf,
                        sizeof errbuf) != 0)
        abort();
}

static int arms_latency(const char *path, const uint8_t *body, size_t len)
{
    if (strncmp(path, "/_emulator/", 11) != 0 || !len)
        return 0;
    cJSON *b = cJSON_ParseWithLength((const char *)body, len);
    int yes = cJSON_GetObjectItemCaseSensitive(b, "latencyMs") != NULL;
    cJSON_Delete(b);
    return yes;
}

/* Nonzero when every header is what an HTTP server would pass on: a token for a name (RFC
 * 9110), no control bytes in a value, and exactly one Host. */
static int plain_headers(const struct ivs_header *h, size_t n)
{
    int hosts = 0;
    for (size_t i = 0; i < n; i++) {
        if (!*h[i].name)
            return 0;
        for (const char *c = h[i].name; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || strchr("!#$%&'*+-.^_`|~", *c)))
                return 0;
        for (const char *c = h[i].value; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return 0;
        hosts += !strcasecmp(h[i].name, "host");
    }
    return hosts == 1;
}

static void run_one(struct fuzz_message *m)
{
    char *method = m->start;
    char *target = strchr(method, ' ');
    if (!target)
        return;
    *target++ = '\0';
    char *version = strchr(target, ' ');
    if (version)
        *version = '\0';
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    if (!*method || *target != '/' || arms_latency(target, m->body, m->body_len))
        return;

    struct ivs_header headers[66];
    size_t n = 0;
    const char *authorization = fuzz_header(m, "authorization");
    int self_sign = authorization && !strcmp(authorization, "fuzz-sign");
    for (size_t i = 0; i < m->header_count; i++) {
        if (self_sign && (!strcasecmp(m->headers[i].name, "authorization") ||
                          !strcasecmp(m->headers[i].name, "x-amz-date") ||
                          !strcasecmp(m->headers[i].name, "x-amz-security-token")))
            continue;
        headers[n].name = m->headers[i].name;
        headers[n].value = m->headers[i].value;
        n++;
    }
    struct sigv4_result sig;
    memset(&sig, 0, sizeof sig);
    if (self_sign) {
        struct sigv4_params p = {
            .method = method,
            .path = target,
            .query = query,
            .headers = headers,
            .header_count = n,
            .body = m->body,
            .body_len = m->body_len,
            .region = "us-west-2",
            .service = "ivs",
            .time = (int64_t)time(NULL),
            .access_key_id = s_cred.access_key_id,
            .secret_access_key = s_cred.secret_access_key,
            .normalize_path = 1,
            .double_encode = 1,
        };
        struct ivs_error err = {0};
        enum ivs_status st = sigv4_sign(&p, s_cache, &sig, &err);
        ivs_error_clear(&err);
        if (st != IVS_OK) {
            sigv4_result_cleanup(&sig);
            return;
        }
        headers[n].name = "X-Amz-Date";
        headers[n++].value = sig.amz_date;
        headers[n].name = "Authorization";
        headers[n++].value = sig.authorization;
    }
    struct emu_request_view req = {method,      target, query ? query : "",
                                   headers,     n,      m->body_len ? (const void *)m->body : "",
                                   m->body_len, NULL};
    struct emu_reply out;
    memset(&out, 0, sizeof out);
    /* -1: an injected fault dropped the connection, so there is no reply to check. */
    int rc = emu_server_dispatch(authorization ? s_auth : s_open, &req, "fuzz-request", &out);
    if (s_verbose)
        fprintf(stderr, "%s %s -> %d %s %s\n", method, target, rc ? -1 : out.status,
                out.error_type ? out.error_type : "", out.message ? out.message : "");
    if (rc == 0) {
        /* What our signer signs, our verifier accepts: the client and the emulator agree on
         * canonicalisation (for requests an HTTP server would let through). */
        if (self_sign && out.status == 403 && out.error_type && plain_headers(headers, n - 2) &&
            (!strcmp(out.error_type, "InvalidSignatureException") ||
             !strcmp(out.error_type, "IncompleteSignatureException")))
            FUZZ_ASSERT(!"a request signed by sigv4_sign was refused by auth_verify");
        FUZZ_ASSERT(out.status >= 100 && out.status <= 599);
        if (out.status >= 400)
            FUZZ_ASSERT(out.error_type != NULL);
    }
    if (out.body) {
        cJSON *b = cJSON_Parse(out.body);
        FUZZ_ASSERT(b != NULL);
        cJSON_Delete(b);
    }
    emu_reply_cleanup(&out);
    sigv4_result_cleanup(&sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_store)
        setup();
    reset();
    size_t pos = 0;
    for (int i = 0; i < MAX_REQUESTS && pos < size; i++) {
        struct fuzz_message m;
        if (fuzz_parse_message(data, size, &pos, 1, &m) == 0)
            run_one(&m);
        fuzz_message_free(&m);
    }
    return 0;
}
