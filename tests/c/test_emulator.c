/* test_emulator.c: drives build/ivs-emulator over HTTP with signed requests: every
 * operation's happy path, the service's errors, SigV4 failures, the admin API, fault
 * injection, robustness, persistence across a restart and the exit status on SIGTERM. A
 * second part replays a scenario through the AWS CLI when it is installed. */
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "test_emulator_client.h"

static struct emu_child g_emu;
static CURL *g_curl;
static pid_t g_watchdog_pid;

static void on_alarm(int sig)
{
    (void)sig;
    if (g_watchdog_pid > 0)
        kill(g_watchdog_pid, SIGKILL);
    static const char msg[] = "not ok - watchdog: test_emulator took too long\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

/* POST /{op} with a JSON body, signed with the test key. */
static void call(const char *op, const char *json, struct emu_resp *r)
{
    char path[128];
    snprintf(path, sizeof path, "/%s", op);
    emu_send(g_curl, &g_emu, "POST", path, NULL, json ? json : "{}", NULL, r);
}

static void callf(const char *op, struct emu_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void callf(const char *op, struct emu_resp *r, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    call(op, buf_str(&b), r);
    buf_free(&b);
}

static void admin(const char *method, const char *path, const char *json, struct emu_resp *r)
{
    struct emu_sign s = {.unsigned_request = 1};
    emu_send(g_curl, &g_emu, method, path, NULL, json, &s, r);
}

static const char *jpath(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int all_alnum(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* Checks an error reply as the service sends it. */
static void check_error(const struct emu_resp *r, long status, const char *type)
{
    CHECK_INT_EQ(status, r->status);
    CHECK_STR_EQ(type, r->error_type);
    CHECK(strlen(r->request_id) == 36);
    CHECK(strstr(r->content_type, "application/json") != NULL);
    CHECK(cJSON_IsObject(r->json));
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r->json, "message")));
}

static void check_modelled_error(const struct emu_resp *r, long status, const char *type)
{
    check_error(r, status, type);
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r->json, "exceptionMessage")));
}

/* Creates a channel and copies its ARN into arn[160]. */
static void new_channel(const char *json, char arn[160])
{
    struct emu_resp r;
    call("CreateChannel", json, &r);
    CHECK_INT_EQ(200, r.status);
    const char *a = jpath(r.json, "channel", "arn");
    snprintf(arn, 160, "%s", a ? a : "");
    emu_resp_free(&r);
}

static void test_create_channel_defaults(void)
{
    struct emu_resp r;
    call("CreateChannel", "{}", &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(strlen(r.request_id) == 36);
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(r.json, "channel");
    const char *arn = jpath(ch, "arn", NULL);
    CHECK(arn && !strncmp(arn, "arn:aws:ivs:us-west-2:123456789012:channel/", 43) &&
          all_alnum(arn + 43, 12));
    CHECK_STR_EQ("", jpath(ch, "name", NULL));
    CHECK_STR_EQ("LOW", jpath(ch, "latencyMode", NULL));
    CHECK_STR_EQ("STANDARD", jpath(ch, "type", NULL));
    CHECK_STR_EQ("", jpath(ch, "preset", NULL));
    CHECK_STR_EQ("TS", jpath(ch, "containerFormat", NULL));
    CHECK_STR_EQ("", jpath(ch, "recordingConfigurationArn", NULL));
    CHECK_STR_EQ("", jpath(ch, "playbackRestrictionPolicyArn", NULL));
    CHECK_STR_EQ("", jpath(ch, "adConfigurationArn", NULL));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ch, "authorized")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ch, "insecureIngest")));
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(ch, "multitrackInputConfiguration");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(mt, "enabled")));
    CHECK_STR_EQ("ALLOW", jpath(mt, "policy", NULL));
    CHECK_STR_EQ("FULL_HD", jpath(mt, "maximumResolution", NULL));
    const char *ingest = jpath(ch, "ingestEndpoint", NULL);
    CHECK(ingest && strlen(ingest) == 12 + strlen(".global-contribute.live-video.net") &&
          !strcmp(ingest + 12, ".global-contribute.live-video.net"));
    char want[256];
    snprintf(want, sizeof want,
             "https://%.12s.us-west-2.playback.live-video.net/api/video/v1/"
             "us-west-2.123456789012.channel.%s.m3u8",
             ingest ? ingest : "", arn ? arn + 43 : "");
    CHECK_STR_EQ(want, jpath(ch, "playbackUrl", NULL));
    snprintf(want, sizeof want, "%.12s.srt.live-video.net", ingest ? ingest : "");
    CHECK_STR_EQ(want, jpath(ch, "srt", "endpoint"));
    CHECK(all_alnum(jpath(ch, "srt", "passphrase"), 79));
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ch, "tags")));
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(r.json, "streamKey");
    const char *karn = jpath(key, "arn", NULL), *value = jpath(key, "value", NULL);
    CHECK(karn && !strncmp(karn, "arn:aws:ivs:us-west-2:123456789012:stream-key/", 46));
    CHECK_STR_EQ(arn, jpath(key, "channelArn", NULL));
    /* sk_{region}_{key id}_{30 alnum} */
    CHECK(value && strlen(value) == 56 && !strncmp(value, "sk_us-west-2_", 13) && karn &&
          !strncmp(value + 13, karn + 46, 12) && value[25] == '_' && all_alnum(value + 26, 30));
    emu_resp_free(&r);

    call("CreateChannel", "{\"type\":\"ADVANCED_HD\",\"name\":\"adv\"}", &r);
    CHECK_STR_EQ("HIGHER_BANDWIDTH_DELIVERY", jpath(r.json, "channel", "preset"));
    emu_resp_free(&r);
    call("CreateChannel", "{\"type\":\"BASIC\",\"preset\":\"CONSTRAINED_BANDWIDTH_DELIVERY\"}", &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    call("CreateChannel",
         "{\"multitrackInputConfiguration\":{\"enabled\":true,\"policy\":\"ALLOW\","
         "\"maximumResolution\":\"HD\"}}",
         &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    call("CreateChannel",
         "{\"recordingConfigurationArn\":\"arn:aws:ivs:us-west-2:123456789012:recording-"
         "configuration/nope\"}",
         &r);
    check_modelled_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
}

static void test_channel_crud(void)
{
    char arn[160];
    new_channel("{\"name\":\"crud\",\"tags\":{\"team\":\"a\"}}", arn);
    struct emu_resp r;
    callf("GetChannel", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("crud", jpath(r.json, "channel", "name"));
    emu_resp_free(&r);
    callf("UpdateChannel", &r,
          "{\"arn\":\"%s\",\"name\":\"renamed\",\"latencyMode\":\"NORMAL\",\"authorized\":true}",
          arn);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("renamed", jpath(r.json, "channel", "name"));
    CHECK_STR_EQ("NORMAL", jpath(r.json, "channel", "latencyMode"));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.json, "channel"), "authorized")));
    emu_resp_free(&r);

    callf("ListChannels", &r, "{\"filterByName\":\"renamed\"}");
    CHECK_INT_EQ(200, r.status);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(r.json, "channels");
    CHECK_INT_EQ(1, cJSON_GetArraySize(list));
    const cJSON *sum = cJSON_GetArrayItem(list, 0);
    CHECK_STR_EQ(arn, jpath(sum, "arn", NULL));
    CHECK(!cJSON_GetObjectItemCaseSensitive(sum, "ingestEndpoint"));
    CHECK(!cJSON_GetObjectItemCaseSensitive(sum, "playbackUrl"));
    CHECK(!cJSON_GetObjectItemCaseSensitive(sum, "srt"));
    CHECK(cJSON_GetObjectItemCaseSensitive(sum, "preset") != NULL);
    emu_resp_free(&r);

    callf("BatchGetChannel", &r,
          "{\"arns\":[\"%s\",\"arn:aws:ivs:us-west-2:123456789012:channel/missing00000\"]}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK_INT_EQ(1, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "channels")));
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(r.json, "errors");
    CHECK_INT_EQ(1, cJSON_GetArraySize(errs));
    CHECK_STR_EQ("arn:aws:ivs:us-west-2:123456789012:channel/missing00000",
                 jpath(cJSON_GetArrayItem(errs, 0), "arn", NULL));
    emu_resp_free(&r);

    callf("DeleteChannel", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_INT_EQ(204, r.status);
    CHECK(r.body.len == 0);
    CHECK(strlen(r.request_id) == 36);
    emu_resp_free(&r);
    callf("GetChannel", &r, "{\"arn\":\"%s\"}", arn);
    check_modelled_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    callf("DeleteChannel", &r, "{\"arn\":\"%s\"}", arn);
    check_modelled_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    call("GetChannel", "{\"arn\":\"not-an-arn\"}", &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
}

static void test_stream_keys(void)
{
    char arn[160];
    struct emu_resp r;
    call("CreateChannel", "{\"name\":\"keys\"}", &r);
    snprintf(arn, sizeof arn, "%s", jpath(r.json, "channel", "arn"));
    char karn[160];
    snprintf(karn, sizeof karn, "%s", jpath(r.json, "streamKey", "arn"));
    emu_resp_free(&r);
    callf("CreateStreamKey", &r, "{\"channelArn\":\"%s\"}", arn);
    check_modelled_error(&r, 402, "ServiceQuotaExceededException");
    emu_resp_free(&r);
    callf("GetStreamKey", &r, "{\"arn\":\"%s\"}", karn);
    CHECK_INT_EQ(200, r.status);
    CHECK(jpath(r.json, "streamKey", "value") != NULL);
    emu_resp_free(&r);
    callf("ListStreamKeys", &r, "{\"channelArn\":\"%s\"}", arn);
    CHECK_INT_EQ(1, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "streamKeys")));
    CHECK(!cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "streamKeys"), 0), "value"));
    emu_resp_free(&r);
    callf("BatchGetStreamKey", &r, "{\"arns\":[\"%s\"]}", karn);
    CHECK_INT_EQ(1, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "streamKeys")));
    emu_resp_free(&r);
    callf("DeleteStreamKey", &r, "{\"arn\":\"%s\"}", karn);
    CHECK_INT_EQ(204, r.status);
    emu_resp_free(&r);
    callf("ListStreamKeys", &r, "{\"channelArn\":\"%s\"}", arn);
    CHECK_INT_EQ(0, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "streamKeys")));
    emu_resp_free(&r);
    callf("CreateStreamKey", &r, "{\"channelArn\":\"%s\",\"tags\":{\"k\":\"v\"}}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ(arn, jpath(r.json, "streamKey", "channelArn"));
    emu_resp_free(&r);
    call("CreateStreamKey",
         "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/nope00000000\"}", &r);
    check_modelled_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
}

static void test_recording_configurations(void)
{
    struct emu_resp r;
    call("CreateRecordingConfiguration",
         "{\"name\":\"rec\",\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"my-bucket\"}}}",
         &r);
    CHECK_INT_EQ(200, r.status);
    char rarn[160];
    snprintf(rarn, sizeof rarn, "%s", jpath(r.json, "recordingConfiguration", "arn"));
    CHECK_STR_EQ("ACTIVE", jpath(r.json, "recordingConfiguration", "state"));
    CHECK(!strncmp(rarn, "arn:aws:ivs:us-west-2:123456789012:recording-configuration/", 59));
    emu_resp_free(&r);
    char arn[160];
    char body[512];
    snprintf(body, sizeof body, "{\"recordingConfigurationArn\":\"%s\"}", rarn);
    new_channel(body, arn);
    callf("DeleteRecordingConfiguration", &r, "{\"arn\":\"%s\"}", rarn);
    check_modelled_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    callf("ListChannels", &r, "{\"filterByRecordingConfigurationArn\":\"%s\"}", rarn);
    CHECK_INT_EQ(1, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "channels")));
    emu_resp_free(&r);
    callf("ListChannels", &r,
          "{\"filterByRecordingConfigurationArn\":\"%s\",\"filterByName\":\"x\"}", rarn);
    check_modelled_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    call("ListRecordingConfigurations", "{}", &r);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "recordingConfigurations")) >=
          1);
    emu_resp_free(&r);
    callf("GetRecordingConfiguration", &r, "{\"arn\":\"%s\"}", rarn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    callf("UpdateChannel", &r, "{\"arn\":\"%s\",\"recordingConfigurationArn\":\"\"}", arn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    callf("DeleteRecordingConfiguration", &r, "{\"arn\":\"%s\"}", rarn);
    CHECK_INT_EQ(204, r.status);
    emu_resp_free(&r);
}

static char *public_key_pem(const char *curve)
{
    EVP_PKEY *key = EVP_EC_gen(curve);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *out = ivs_strndup(data, (size_t)len);
    BIO_free(bio);
    EVP_PKEY_free(key);
    return out;
}

static void import_key(const char *pem, struct emu_resp *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "publicKeyMaterial", pem);
    cJSON_AddStringToObject(o, "name", "k");
    char *text = cJSON_PrintUnformatted(o);
    call("ImportPlaybackKeyPair", text, r);
    free(text);
    cJSON_Delete(o);
}

static void test_playback_keys(void)
{
    struct emu_resp r;
    char *pems[4];
    for (int i = 0; i < 4; i++)
        pems[i] = public_key_pem("P-384");
    import_key(pems[0], &r);
    CHECK_INT_EQ(200, r.status);
    const char *fp = jpath(r.json, "keyPair", "fingerprint");
    CHECK(fp && strlen(fp) == 47 && fp[2] == ':');
    char arn[160];
    snprintf(arn, sizeof arn, "%s", jpath(r.json, "keyPair", "arn"));
    CHECK(!strncmp(arn, "arn:aws:ivs:us-west-2:123456789012:playback-key/", 48));
    emu_resp_free(&r);
    import_key(pems[0], &r);
    check_modelled_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    char *p256 = public_key_pem("P-256");
    import_key(p256, &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    free(p256);
    import_key("-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----\n", &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    import_key(pems[1], &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    import_key(pems[2], &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    import_key(pems[3], &r);
    check_modelled_error(&r, 402, "ServiceQuotaExceededException");
    emu_resp_free(&r);
    call("ListPlaybackKeyPairs", "{\"maxResults\":2}", &r);
    CHECK_INT_EQ(2, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "keyPairs")));
    CHECK(jpath(r.json, "nextToken", NULL) != NULL);
    emu_resp_free(&r);
    callf("GetPlaybackKeyPair", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    callf("DeletePlaybackKeyPair", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK(cJSON_IsObject(r.json) && !r.json->child);
    emu_resp_free(&r);
    for (int i = 0; i < 4; i++)
        free(pems[i]);
}

static void test_policies_and_ads(void)
{
    struct emu_resp r;
    call("CreatePlaybackRestrictionPolicy", "{\"allowedCountries\":[\"US\"],\"name\":\"prp\"}", &r);
    CHECK_INT_EQ(200, r.status);
    char parn[160];
    snprintf(parn, sizeof parn, "%s", jpath(r.json, "playbackRestrictionPolicy", "arn"));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.json, "playbackRestrictionPolicy"),
        "enableStrictOriginEnforcement")));
    emu_resp_free(&r);
    callf("UpdatePlaybackRestrictionPolicy", &r,
          "{\"arn\":\"%s\",\"allowedOrigins\":[\"https://a.example\"]}", parn);
    CHECK_INT_EQ(200, r.status);
    CHECK_INT_EQ(1, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(r.json, "playbackRestrictionPolicy"),
                        "allowedOrigins")));
    emu_resp_free(&r);
    callf("GetPlaybackRestrictionPolicy", &r, "{\"arn\":\"%s\"}", parn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    call("ListPlaybackRestrictionPolicies", "{}", &r);
    CHECK_INT_EQ(1, cJSON_GetArraySize(
                        cJSON_GetObjectItemCaseSensitive(r.json, "playbackRestrictionPolicies")));
    emu_resp_free(&r);

    call("CreateAdConfiguration",
         "{\"name\":\"ads\",\"mediaTailorPlaybackConfigurations\":[{\"playbackConfigurationArn\":"
         "\"arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/x\"}]}",
         &r);
    CHECK_INT_EQ(200, r.status);
    char aarn[160];
    snprintf(aarn, sizeof aarn, "%s", jpath(r.json, "adConfiguration", "arn"));
    emu_resp_free(&r);
    callf("UpdateAdConfiguration", &r, "{\"arn\":\"%s\",\"name\":\"ads2\"}", aarn);
    CHECK_STR_EQ("ads2", jpath(r.json, "adConfiguration", "name"));
    emu_resp_free(&r);
    callf("GetAdConfiguration", &r, "{\"arn\":\"%s\"}", aarn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    call("ListAdConfigurations", "{}", &r);
    CHECK_INT_EQ(1,
                 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "adConfigurations")));
    emu_resp_free(&r);

    char arn[160], body[512];
    snprintf(body, sizeof body,
             "{\"playbackRestrictionPolicyArn\":\"%s\",\"adConfigurationArn\":\"%s\"}", parn, aarn);
    new_channel(body, arn);
    callf("DeletePlaybackRestrictionPolicy", &r, "{\"arn\":\"%s\"}", parn);
    check_modelled_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    callf("DeleteAdConfiguration", &r, "{\"arn\":\"%s\"}", aarn);
    check_modelled_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    callf("ListChannels", &r, "{\"filterByAdConfigurationArn\":\"%s\"}", aarn);
    CHECK_INT_EQ(1, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "channels")));
    emu_resp_free(&r);
    callf("DeleteChannel", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_INT_EQ(204, r.status);
    emu_resp_free(&r);
    callf("DeletePlaybackRestrictionPolicy", &r, "{\"arn\":\"%s\"}", parn);
    CHECK_INT_EQ(204, r.status);
    emu_resp_free(&r);
    callf("DeleteAdConfiguration", &r, "{\"arn\":\"%s\"}", aarn);
    CHECK_INT_EQ(204, r.status);
    emu_resp_free(&r);
}

static void tags_path(char *out, size_t n, const char *arn)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "/tags/");
    sigv4_uri_encode(&b, arn, strlen(arn), 0);
    snprintf(out, n, "%s", buf_str(&b));
    buf_free(&b);
}

static void test_tags(void)
{
    char arn[160], path[400];
    new_channel("{\"tags\":{\"a\":\"1\"}}", arn);
    tags_path(path, sizeof path, arn);
    struct emu_resp r;
    emu_send(g_curl, &g_emu, "POST", path, NULL, "{\"tags\":{\"b\":\"2\",\"c d\":\"3\"}}", NULL,
             &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    emu_send(g_curl, &g_emu, "DELETE", path, "tagKeys=a&tagKeys=c%20d", NULL, NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    emu_send(g_curl, &g_emu, "GET", path, NULL, NULL, NULL, &r);
    CHECK_INT_EQ(200, r.status);
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(r.json, "tags");
    CHECK_INT_EQ(1, cJSON_GetArraySize(tags));
    CHECK_STR_EQ("2", jpath(tags, "b", NULL));
    emu_resp_free(&r);
    /* 50 is the limit per resource. */
    struct buf many = BUF_INIT;
    buf_puts(&many, "{\"tags\":{");
    for (int i = 0; i < 50; i++)
        buf_printf(&many, "%s\"k%d\":\"v\"", i ? "," : "", i);
    buf_puts(&many, "}}");
    emu_send(g_curl, &g_emu, "POST", path, NULL, buf_str(&many), NULL, &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    buf_free(&many);
    tags_path(path, sizeof path, "arn:aws:ivs:us-west-2:123456789012:channel/unknown00000");
    emu_send(g_curl, &g_emu, "GET", path, NULL, NULL, NULL, &r);
    check_modelled_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
}

static void start_stream(const char *arn, struct emu_resp *r)
{
    char body[256];
    snprintf(body, sizeof body, "{\"channelArn\":\"%s\",\"viewerCount\":42}", arn);
    admin("POST", "/_emulator/streams/start", body, r);
}

static void test_streams(void)
{
    struct emu_resp r;
    call("CreateRecordingConfiguration",
         "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"rec-bucket\"}}}", &r);
    char rarn[160], arn[160], body[512];
    snprintf(rarn, sizeof rarn, "%s", jpath(r.json, "recordingConfiguration", "arn"));
    emu_resp_free(&r);
    snprintf(body, sizeof body, "{\"name\":\"live\",\"recordingConfigurationArn\":\"%s\"}", rarn);
    new_channel(body, arn);

    callf("GetStream", &r, "{\"channelArn\":\"%s\"}", arn);
    check_modelled_error(&r, 404, "ChannelNotBroadcasting");
    emu_resp_free(&r);
    callf("PutMetadata", &r, "{\"channelArn\":\"%s\",\"metadata\":\"x\"}", arn);
    check_modelled_error(&r, 404, "ChannelNotBroadcasting");
    emu_resp_free(&r);
    callf("StopStream", &r, "{\"channelArn\":\"%s\"}", arn);
    check_modelled_error(&r, 404, "ChannelNotBroadcasting");
    emu_resp_free(&r);

    start_stream(arn, &r);
    CHECK_INT_EQ(200, r.status);
    const char *sid = jpath(r.json, "stream", "streamId");
    CHECK(sid && strlen(sid) == 26 && !strncmp(sid, "st-", 3));
    char stream_id[32];
    snprintf(stream_id, sizeof stream_id, "%s", sid ? sid : "");
    emu_resp_free(&r);
    start_stream(arn, &r);
    CHECK_INT_EQ(409, r.status);
    emu_resp_free(&r);

    callf("GetStream", &r, "{\"channelArn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("LIVE", jpath(r.json, "stream", "state"));
    CHECK_STR_EQ("HEALTHY", jpath(r.json, "stream", "health"));
    CHECK_STR_EQ(stream_id, jpath(r.json, "stream", "streamId"));
    emu_resp_free(&r);
    call("ListStreams", "{\"filterBy\":{\"health\":\"HEALTHY\"}}", &r);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "streams")) >= 1);
    emu_resp_free(&r);
    call("ListStreams", "{\"filterBy\":{\"health\":\"STARVING\"}}", &r);
    CHECK_INT_EQ(0, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "streams")));
    emu_resp_free(&r);

    callf("UpdateChannel", &r, "{\"arn\":\"%s\",\"name\":\"nope\"}", arn);
    check_modelled_error(&r, 409, "ConflictException");
    emu_resp_free(&r);
    callf("DeleteChannel", &r, "{\"arn\":\"%s\"}", arn);
    check_modelled_error(&r, 409, "ConflictException");
    emu_resp_free(&r);

    /* PutMetadata: 1 KB payload limit and 5 calls per second per channel. */
    char big[1100];
    memset(big, 'm', 1025);
    big[1025] = '\0';
    callf("PutMetadata", &r, "{\"channelArn\":\"%s\",\"metadata\":\"%s\"}", arn, big);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    int ok = 0, throttled = 0;
    for (int i = 0; i < 6; i++) {
        callf("PutMetadata", &r, "{\"channelArn\":\"%s\",\"metadata\":\"hello\"}", arn);
        if (r.status == 204)
            ok++;
        else if (r.status == 429 && !strcmp(r.error_type, "ThrottlingException"))
            throttled++;
        emu_resp_free(&r);
    }
    CHECK_INT_EQ(5, ok);
    CHECK_INT_EQ(1, throttled);

    callf("InsertAdBreak", &r, "{\"channelArn\":\"%s\",\"durationSeconds\":30}", arn);
    check_modelled_error(&r, 409, "ConflictException");
    emu_resp_free(&r);

    callf("StartViewerSessionRevocation", &r, "{\"channelArn\":\"%s\",\"viewerId\":\"v1\"}", arn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    callf("BatchStartViewerSessionRevocation", &r,
          "{\"viewerSessions\":[{\"channelArn\":\"%s\",\"viewerId\":\"v1\"},"
          "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/"
          "gone00000000\",\"viewerId\":\"v2\"}]}",
          arn);
    CHECK_INT_EQ(200, r.status);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(r.json, "errors");
    CHECK_INT_EQ(1, cJSON_GetArraySize(errs));
    CHECK_STR_EQ("v2", jpath(cJSON_GetArrayItem(errs, 0), "viewerId", NULL));
    emu_resp_free(&r);

    admin("POST", "/_emulator/streams/health", NULL, &r);
    emu_resp_free(&r);
    snprintf(body, sizeof body, "{\"channelArn\":\"%s\",\"health\":\"STARVING\"}", arn);
    admin("POST", "/_emulator/streams/health", body, &r);
    CHECK_STR_EQ("STARVING", jpath(r.json, "stream", "health"));
    emu_resp_free(&r);

    callf("StopStream", &r, "{\"channelArn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    callf("GetStream", &r, "{\"channelArn\":\"%s\"}", arn);
    check_modelled_error(&r, 404, "ChannelNotBroadcasting");
    emu_resp_free(&r);

    callf("GetStreamSession", &r, "{\"channelArn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(r.json, "streamSession");
    CHECK_STR_EQ(stream_id, jpath(ss, "streamId", NULL));
    CHECK(jpath(ss, "endTime", NULL) != NULL);
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ss, "recordingConfiguration")));
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ss, "ingestConfigurations")));
    CHECK(!cJSON_GetObjectItemCaseSensitive(ss, "_startEpoch"));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ss, "truncatedEvents")) >= 6);
    emu_resp_free(&r);
    callf("GetStreamSession", &r,
          "{\"channelArn\":\"%s\",\"streamId\":\"st-0000000000000000000000a\"}", arn);
    check_modelled_error(&r, 404, "ResourceNotFoundException");
    emu_resp_free(&r);
    callf("ListStreamSessions", &r, "{\"channelArn\":\"%s\"}", arn);
    CHECK_INT_EQ(1, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "streamSessions")));
    emu_resp_free(&r);

    char query[400];
    struct buf q = BUF_INIT;
    buf_puts(&q, "/_emulator/events?channelArn=");
    sigv4_uri_encode(&q, arn, strlen(arn), 0);
    snprintf(query, sizeof query, "%s", buf_str(&q));
    buf_free(&q);
    admin("GET", query, NULL, &r);
    CHECK_INT_EQ(200, r.status);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(r.json, "events");
    const char *want[] = {"Session Created", "Stream Start", "Recording Start", "Starvation Start",
                          "Session Ended",   "Stream End",   "Recording End"};
    int found[7] = {0};
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "detail");
        const char *name = jpath(d, "event_name", NULL) ? jpath(d, "event_name", NULL)
                                                        : jpath(d, "recording_status", NULL);
        CHECK_STR_EQ("aws.ivs", jpath(e, "source", NULL));
        CHECK_STR_EQ(stream_id, jpath(d, "stream_id", NULL));
        for (int i = 0; i < 7; i++)
            if (name && !strcmp(name, want[i]))
                found[i]++;
        if (name && !strcmp(name, "Recording Start")) {
            CHECK_STR_EQ("IVS Recording State Change", jpath(e, "detail-type", NULL));
            CHECK_STR_EQ("rec-bucket", jpath(d, "recording_s3_bucket_name", NULL));
            CHECK(all_alnum(jpath(d, "recording_session_id", NULL), 16));
        }
    }
    for (int i = 0; i < 7; i++)
        CHECK_MSG(found[i] == 1, "event %s seen %d times", want[i], found[i]);
    emu_resp_free(&r);
}

static void test_insert_ad_break(void)
{
    struct emu_resp r;
    call("CreateAdConfiguration",
         "{\"mediaTailorPlaybackConfigurations\":[{\"playbackConfigurationArn\":\"arn:aws:"
         "mediatailor:us-west-2:123456789012:playbackConfiguration/y\"}]}",
         &r);
    char aarn[160], arn[160], body[400];
    snprintf(aarn, sizeof aarn, "%s", jpath(r.json, "adConfiguration", "arn"));
    emu_resp_free(&r);
    snprintf(body, sizeof body, "{\"adConfigurationArn\":\"%s\"}", aarn);
    new_channel(body, arn);
    callf("InsertAdBreak", &r, "{\"channelArn\":\"%s\",\"durationSeconds\":30}", arn);
    check_modelled_error(&r, 404, "ChannelNotBroadcasting");
    emu_resp_free(&r);
    char key[128];
    callf("ListStreamKeys", &r, "{\"channelArn\":\"%s\"}", arn);
    const char *karn = jpath(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "streamKeys"), 0), "arn", NULL);
    struct emu_resp k;
    callf("GetStreamKey", &k, "{\"arn\":\"%s\"}", karn ? karn : "");
    snprintf(key, sizeof key, "%s",
             jpath(k.json, "streamKey", "value") ? jpath(k.json, "streamKey", "value") : "");
    emu_resp_free(&k);
    emu_resp_free(&r);
    /* Going live by stream key, as an encoder would. */
    snprintf(body, sizeof body, "{\"streamKey\":\"%s\"}", key);
    admin("POST", "/_emulator/streams/start", body, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    callf("InsertAdBreak", &r, "{\"channelArn\":\"%s\",\"durationSeconds\":30}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK(all_alnum(jpath(r.json, "adBreakId", NULL), 12));
    emu_resp_free(&r);
    admin("POST", "/_emulator/streams/stop", body, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(jpath(r.json, "streamSession", "endTime") != NULL);
    emu_resp_free(&r);
}

static void test_pagination(void)
{
    struct emu_resp r;
    for (int i = 0; i < 5; i++) {
        callf("CreateChannel", &r, "{\"name\":\"page\"}");
        emu_resp_free(&r);
    }
    char token[1100] = "";
    int seen = 0, pages = 0;
    do {
        if (*token)
            callf("ListChannels", &r,
                  "{\"filterByName\":\"page\",\"maxResults\":2,\"nextToken\":\"%s\"}", token);
        else
            call("ListChannels", "{\"filterByName\":\"page\",\"maxResults\":2}", &r);
        CHECK_INT_EQ(200, r.status);
        seen += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "channels"));
        const char *t = jpath(r.json, "nextToken", NULL);
        snprintf(token, sizeof token, "%s", t ? t : "");
        emu_resp_free(&r);
        pages++;
    } while (*token && pages < 10);
    CHECK_INT_EQ(5, seen);
    CHECK_INT_EQ(3, pages);
    call("ListChannels", "{\"nextToken\":\"bm90LWEtdG9rZW4=\"}", &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    /* A token from one filter is not valid with another. */
    call("ListChannels", "{\"filterByName\":\"page\",\"maxResults\":1}", &r);
    snprintf(token, sizeof token, "%s",
             jpath(r.json, "nextToken", NULL) ? jpath(r.json, "nextToken", NULL) : "");
    emu_resp_free(&r);
    callf("ListChannels", &r, "{\"filterByName\":\"other\",\"nextToken\":\"%s\"}", token);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    call("ListChannels", "{\"maxResults\":101}", &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
}

static void test_sigv4_failures(void)
{
    struct emu_resp r;
    struct emu_sign s = {.unsigned_request = 1};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &s, &r);
    check_error(&r, 403, "MissingAuthenticationTokenException");
    CHECK_STR_EQ("Missing Authentication Token", jpath(r.json, "message", NULL));
    CHECK(!cJSON_GetObjectItemCaseSensitive(r.json, "exceptionMessage"));
    emu_resp_free(&r);
    struct emu_sign unknown = {.key_id = "AKIAUNKNOWN000000000"};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &unknown, &r);
    check_error(&r, 403, "UnrecognizedClientException");
    emu_resp_free(&r);
    struct emu_sign wrong = {.secret = "not-the-secret"};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &wrong, &r);
    check_error(&r, 403, "InvalidSignatureException");
    emu_resp_free(&r);
    struct emu_sign past = {.time_offset = -600};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &past, &r);
    check_error(&r, 403, "InvalidSignatureException");
    CHECK(jpath(r.json, "message", NULL) &&
          !strncmp(jpath(r.json, "message", NULL), "Signature expired: ", 19));
    emu_resp_free(&r);
    struct emu_sign future = {.time_offset = 600};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &future, &r);
    check_error(&r, 403, "InvalidSignatureException");
    CHECK(jpath(r.json, "message", NULL) &&
          !strncmp(jpath(r.json, "message", NULL), "Signature not yet current: ", 27));
    emu_resp_free(&r);
    struct emu_sign skew_ok = {.time_offset = -240};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &skew_ok, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    struct emu_sign service = {.service = "s3"};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &service, &r);
    check_error(&r, 403, "InvalidSignatureException");
    CHECK_STR_EQ("Credential should be scoped to correct service: 'ivs'. ",
                 jpath(r.json, "message", NULL));
    emu_resp_free(&r);
    struct emu_sign region = {.region = "mars-north-1"};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &region, &r);
    check_error(&r, 403, "InvalidSignatureException");
    emu_resp_free(&r);
    /* Another IVS region is another, empty, partition. */
    struct emu_sign other = {.region = "eu-west-1"};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &other, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK_INT_EQ(0, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "channels")));
    emu_resp_free(&r);
    /* The body is covered by the signature. */
    struct emu_sign tamper = {.extra_header = "Authorization: AWS4-HMAC-SHA256 "
                                              "Credential=AKIAIVSEMULATOR00001/20200101/us-west-2/"
                                              "ivs/aws4_request, SignedHeaders=host, Signature=00"};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &tamper, &r);
    CHECK_INT_EQ(403, r.status);
    emu_resp_free(&r);
    struct emu_sign incomplete = {.unsigned_request = 1,
                                  .extra_header =
                                      "Authorization: AWS4-HMAC-SHA256 SignedHeaders=host"};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &incomplete, &r);
    check_error(&r, 403, "IncompleteSignatureException");
    emu_resp_free(&r);
}

static void test_robustness(void)
{
    struct emu_resp r;
    call("CreateChannel", "{\"name\":", &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    call("CreateChannel", "[1,2]", &r);
    check_modelled_error(&r, 400, "ValidationException");
    emu_resp_free(&r);
    call("NoSuchOperation", "{}", &r);
    check_error(&r, 403, "MissingAuthenticationTokenException");
    emu_resp_free(&r);
    struct emu_sign text = {.content_type = "text/plain"};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &text, &r);
    check_error(&r, 415, "UnsupportedMediaTypeException");
    emu_resp_free(&r);
    size_t big_len = 11 * 1024 * 1024;
    char *big = malloc(big_len + 1);
    memset(big, ' ', big_len);
    big[0] = '{';
    big[big_len - 1] = '}';
    big[big_len] = '\0';
    call("CreateChannel", big, &r);
    check_error(&r, 413, "RequestTooLargeException");
    emu_resp_free(&r);
    free(big);
    char *hdr = malloc(40 * 1024);
    strcpy(hdr, "X-Huge: ");
    memset(hdr + 8, 'h', 30 * 1024);
    hdr[8 + 30 * 1024] = '\0';
    struct emu_sign huge = {.extra_header = hdr};
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &huge, &r);
    check_error(&r, 431, "RequestHeaderFieldsTooLargeException");
    emu_resp_free(&r);
    free(hdr);
    emu_send(g_curl, &g_emu, "OPTIONS", "/CreateChannel", NULL, NULL,
             &(struct emu_sign){.unsigned_request = 1}, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    call("ListChannels", "{}", &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
}

static void test_admin_and_faults(void)
{
    struct emu_resp r;
    admin("GET", "/_emulator/health", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("ok", jpath(r.json, "status", NULL));
    emu_resp_free(&r);
    admin("POST", "/_emulator/faults",
          "{\"operation\":\"ListChannels\",\"status\":503,\"errorCode\":\"ServiceUnavailable\","
          "\"count\":2}",
          &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    for (int i = 0; i < 2; i++) {
        call("ListChannels", "{}", &r);
        check_modelled_error(&r, 503, "ServiceUnavailable");
        emu_resp_free(&r);
    }
    call("ListChannels", "{}", &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    admin("POST", "/_emulator/faults", "{\"operation\":\"ListChannels\",\"latencyMs\":300}", &r);
    emu_resp_free(&r);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    call("ListChannels", "{}", &r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK_INT_EQ(200, r.status);
    CHECK((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 >= 290);
    emu_resp_free(&r);
    admin("POST", "/_emulator/faults", "{\"operation\":\"GetChannel\",\"dropConnection\":true}",
          &r);
    emu_resp_free(&r);
    /* A fresh connection: curl silently retries a request whose reused connection died. */
    CURL *fresh = curl_easy_init();
    emu_send(fresh, &g_emu, "POST", "/GetChannel", NULL,
             "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abc\"}", NULL, &r);
    curl_easy_cleanup(fresh);
    CHECK(r.curl_error);
    emu_resp_free(&r);
    admin("POST", "/_emulator/faults", "{\"operation\":\"*\",\"status\":500,\"count\":0}", &r);
    emu_resp_free(&r);
    admin("GET", "/_emulator/faults", NULL, &r);
    CHECK_INT_EQ(1, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "faults")));
    emu_resp_free(&r);
    call("ListStreams", "{}", &r);
    check_modelled_error(&r, 500, "InternalServerException");
    emu_resp_free(&r);
    admin("DELETE", "/_emulator/faults", NULL, &r);
    emu_resp_free(&r);
    call("ListStreams", "{}", &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    admin("POST", "/_emulator/faults", "{\"operation\":\"Bogus\"}", &r);
    CHECK_INT_EQ(400, r.status);
    emu_resp_free(&r);
    admin("GET", "/_emulator/nothing", NULL, &r);
    CHECK_INT_EQ(404, r.status);
    emu_resp_free(&r);
    admin("POST", "/_emulator/reset", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    call("ListChannels", "{}", &r);
    CHECK_INT_EQ(0, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "channels")));
    emu_resp_free(&r);
}

static void test_persistence_and_sigterm(void)
{
    char dir[] = "/tmp/ivs-emu-test-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("no temporary directory");
    char state[256];
    snprintf(state, sizeof state, "%s/state.json", dir);
    const char *args[] = {"--state", state, NULL};
    struct emu_child saved = g_emu;
    struct emu_child c;
    CHECK(emu_start(&c, args) == 0);
    g_emu = c;
    g_watchdog_pid = c.pid;
    char arn[160];
    new_channel("{\"name\":\"durable\",\"tags\":{\"keep\":\"me\"}}", arn);
    struct emu_resp r;
    start_stream(arn, &r);
    emu_resp_free(&r);
    CHECK_INT_EQ(0, emu_stop(&c, SIGTERM));
    CHECK(access(state, F_OK) == 0);

    CHECK(emu_start(&c, args) == 0);
    g_emu = c;
    g_watchdog_pid = c.pid;
    callf("GetChannel", &r, "{\"arn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("durable", jpath(r.json, "channel", "name"));
    CHECK_STR_EQ("me",
                 jpath(r.json, "channel", "tags")
                     ? NULL
                     : jpath(cJSON_GetObjectItemCaseSensitive(r.json, "channel"), "tags", "keep"));
    emu_resp_free(&r);
    callf("CreateStreamKey", &r, "{\"channelArn\":\"%s\"}", arn);
    CHECK_INT_EQ(402, r.status);
    emu_resp_free(&r);
    callf("GetStream", &r, "{\"channelArn\":\"%s\"}", arn);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    CHECK_INT_EQ(0, emu_stop(&c, SIGINT));
    g_emu = saved;
    g_watchdog_pid = saved.pid;
    unlink(state);
    rmdir(dir);
}

/* The AWS CLI as an independent client: its own signer, serializer and parser. */
static int run_cli(const char *dir, const char *args, struct buf *out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_CONFIG_FILE=/dev/null "
             "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_DATA_PATH=%s/data AWS_PAGER= "
             "aws ivs %s --endpoint-url %s --region us-west-2 --output json 2>&1",
             dir, EMU_KEY_ID, EMU_SECRET, dir, args, g_emu.base);
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

static void test_aws_cli_scenario(void)
{
    if (system("aws --version >/dev/null 2>&1") != 0)
        SKIP("the AWS CLI is not installed");
    char dir[] = "/tmp/ivs-emu-cli-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("no temporary directory");
    /* The installed botocore predates UpdateAdConfiguration; the shared model has it. */
    char model[512], cmd[1400];
    snprintf(model, sizeof model, "%s/../shared/ivs/ivs-2020-07-14.model.json", harness_root());
    int have_model = access(model, R_OK) == 0;
    if (have_model) {
        snprintf(cmd, sizeof cmd,
                 "mkdir -p %s/data/ivs/2020-07-14 && cp %s %s/data/ivs/2020-07-14/service-2.json",
                 dir, model, dir);
        have_model = system(cmd) == 0;
    }
    struct buf out = BUF_INIT;
    CHECK_INT_EQ(0, run_cli(dir, "create-channel --name cli --tags env=test", &out));
    cJSON *j = cJSON_Parse(buf_str(&out));
    char arn[160];
    snprintf(arn, sizeof arn, "%s",
             jpath(cJSON_GetObjectItemCaseSensitive(j, "channel"), "arn", NULL)
                 ? jpath(cJSON_GetObjectItemCaseSensitive(j, "channel"), "arn", NULL)
                 : "");
    CHECK(!strncmp(arn, "arn:aws:ivs:us-west-2:", 22));
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "get-channel --arn %s", arn);
    CHECK_INT_EQ(0, run_cli(dir, cmd, &out));
    CHECK(strstr(buf_str(&out), "\"latencyMode\": \"LOW\"") != NULL);
    snprintf(cmd, sizeof cmd, "tag-resource --resource-arn %s --tags a=1", arn);
    CHECK_INT_EQ(0, run_cli(dir, cmd, &out));
    snprintf(cmd, sizeof cmd, "untag-resource --resource-arn %s --tag-keys env", arn);
    CHECK_INT_EQ(0, run_cli(dir, cmd, &out));
    snprintf(cmd, sizeof cmd, "list-tags-for-resource --resource-arn %s", arn);
    CHECK_INT_EQ(0, run_cli(dir, cmd, &out));
    CHECK(strstr(buf_str(&out), "\"a\": \"1\"") && !strstr(buf_str(&out), "env"));
    CHECK_INT_EQ(0, run_cli(dir, "list-channels --filter-by-name cli", &out));
    CHECK(strstr(buf_str(&out), arn) != NULL && !strstr(buf_str(&out), "ingestEndpoint"));
    snprintf(cmd, sizeof cmd, "get-stream --channel-arn %s", arn);
    CHECK(run_cli(dir, cmd, &out) != 0);
    CHECK(strstr(buf_str(&out), "ChannelNotBroadcasting") != NULL);
    snprintf(cmd, sizeof cmd, "create-stream-key --channel-arn %s", arn);
    CHECK(run_cli(dir, cmd, &out) != 0);
    CHECK(strstr(buf_str(&out), "ServiceQuotaExceededException") != NULL);
    CHECK_INT_EQ(0, run_cli(dir,
                            "create-ad-configuration --media-tailor-playback-configurations "
                            "playbackConfigurationArn=arn:aws:mediatailor:us-west-2:123456789012:"
                            "playbackConfiguration/z",
                            &out));
    j = cJSON_Parse(buf_str(&out));
    char aarn[160];
    snprintf(aarn, sizeof aarn, "%s",
             jpath(cJSON_GetObjectItemCaseSensitive(j, "adConfiguration"), "arn", NULL)
                 ? jpath(cJSON_GetObjectItemCaseSensitive(j, "adConfiguration"), "arn", NULL)
                 : "");
    cJSON_Delete(j);
    if (have_model) {
        snprintf(cmd, sizeof cmd, "update-ad-configuration --arn %s --name renamed", aarn);
        CHECK_INT_EQ(0, run_cli(dir, cmd, &out));
        CHECK(strstr(buf_str(&out), "\"renamed\"") != NULL);
    }
    snprintf(cmd, sizeof cmd, "delete-channel --arn %s", arn);
    CHECK_INT_EQ(0, run_cli(dir, cmd, &out));
    snprintf(cmd, sizeof cmd, "get-channel --arn %s", arn);
    CHECK(run_cli(dir, cmd, &out) != 0);
    CHECK(strstr(buf_str(&out), "ResourceNotFoundException") != NULL);
    buf_free(&out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(240);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_curl = curl_easy_init();
    if (emu_start(&g_emu, NULL) != 0) {
        printf(
            "not ok - could not start ivs-emulator (is IVS_BUILD set and the emulator built?)\n");
        return harness_finish() || 1;
    }
    g_watchdog_pid = g_emu.pid;
    RUN(test_create_channel_defaults);
    RUN(test_channel_crud);
    RUN(test_stream_keys);
    RUN(test_recording_configurations);
    RUN(test_playback_keys);
    RUN(test_policies_and_ads);
    RUN(test_tags);
    RUN(test_streams);
    RUN(test_insert_ad_break);
    RUN(test_pagination);
    RUN(test_sigv4_failures);
    RUN(test_robustness);
    RUN(test_aws_cli_scenario);
    RUN(test_admin_and_faults);
    RUN(test_persistence_and_sigterm);
    int st = emu_stop(&g_emu, SIGTERM);
    if (st != 0)
        printf("not ok - ivs-emulator exited with status %d after SIGTERM\n", st);
    curl_easy_cleanup(g_curl);
    curl_global_cleanup();
    return harness_finish() || st != 0;
}
