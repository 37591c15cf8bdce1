/* test_redact.c: nothing secret reaches a log line; everything else survives intact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "harness.h"
#include "redact.h"

#define STREAM_KEY "sk_us-west-2_AbCdEf012345_GhIjKlMnOpQrStUvWxYz"
#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SESSION_TOKEN "FwoGZXIvYXdzEBYaDEXAMPLESESSIONTOKENvalue+/=="

static char *redacted(const char *json)
{
    struct buf out = BUF_INIT;
    redact_json(&out, json, strlen(json));
    return buf_steal(&out);
}

/* Checks that none of the secrets occur in s and that s parses as JSON. */
static void check_clean_json(const char *s, const char *const *secrets, size_t n)
{
    CHECK(s != NULL);
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(strstr(s, secrets[i]) == NULL, "secret \"%s\" survived in %s", secrets[i], s);
    cJSON *j = cJSON_Parse(s);
    CHECK_MSG(j != NULL, "not valid JSON: %s", s);
    cJSON_Delete(j);
}

/* s with the first occurrence of from replaced by to (a copy; NULL when absent). */
static char *replace_once(const char *s, const char *from, const char *to)
{
    const char *at = s ? strstr(s, from) : NULL;
    if (!at)
        return NULL;
    struct buf b = BUF_INIT;
    buf_append(&b, s, (size_t)(at - s));
    buf_puts(&b, to);
    buf_puts(&b, at + strlen(from));
    return buf_steal(&b);
}

static const char *path_string(const cJSON *root, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static void test_create_channel_output(void)
{
    const char *in =
        "{\"channel\":{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGh1234\","
        "\"authorized\":false,\"ingestEndpoint\":\"a1b2c3d4e5f6.global-contribute.live-video.net\","
        "\"insecureIngest\":false,\"latencyMode\":\"LOW\",\"name\":\"lobby\",\"playbackUrl\":"
        "\"https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/x.m3u8\","
        "\"preset\":\"\",\"recordingConfigurationArn\":\"\",\"tags\":{\"team\":\"games\",\"value\":"
        "\"tagged\"},"
        "\"type\":\"STANDARD\"},\"streamKey\":{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:stream-"
        "key/"
        "Zyx987\",\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/"
        "AbCdEfGh1234\",\"tags\":{},"
        "\"value\":\"" STREAM_KEY "\"}}";
    char *out = redacted(in);
    const char *secrets[] = {STREAM_KEY, "AbCdEf012345", "tagged"};
    check_clean_json(out, secrets, 3);
    cJSON *j = cJSON_Parse(out ? out : "");
    CHECK_STR_EQ("***", path_string(j, "streamKey", "value"));
    CHECK_STR_EQ("lobby", path_string(j, "channel", "name"));
    CHECK_STR_EQ("LOW", path_string(j, "channel", "latencyMode"));
    CHECK_STR_EQ("arn:aws:ivs:us-west-2:123456789012:stream-key/Zyx987",
                 path_string(j, "streamKey", "arn"));
    CHECK_STR_EQ("https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/x.m3u8",
                 path_string(j, "channel", "playbackUrl"));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "channel"), "authorized")));
    cJSON_Delete(j);
    /* Everything but the secrets is byte for byte the same (the tag named "value" is masked
     * too: member names are matched at any depth). */
    char *expected = replace_once(in, STREAM_KEY, "***");
    char *expected2 = replace_once(expected, "\"tagged\"", "\"***\"");
    CHECK_STR_EQ(expected2, out);
    free(expected);
    free(expected2);
    free(out);
}

static void test_get_and_batch_stream_keys(void)
{
    const char *in =
        "{\n  \"streamKeys\": [\n    {\"arn\": \"arn:aws:ivs:us-west-2:1:stream-key/a\", "
        "\"value\": \"" STREAM_KEY "\"},\n    {\"arn\": \"arn:aws:ivs:us-west-2:1:stream-key/b\", "
        "\"value\" : \"sk_eu-west-1_ZZZZZZZZ\"}\n  ],"
        "\n  \"errors\": []\n}\n";
    char *out = redacted(in);
    const char *secrets[] = {STREAM_KEY, "ZZZZZZZZ"};
    check_clean_json(out, secrets, 2);
    CHECK(out &&
          strstr(out, "\"arn\": \"arn:aws:ivs:us-west-2:1:stream-key/b\", \"value\" : \"***\"}") !=
              NULL);
    CHECK(out && strstr(out, "\n  \"errors\": []\n}\n") != NULL);
    free(out);
}

static void test_credential_outputs(void)
{
    const char *process =
        "{\"Version\": 1, \"AccessKeyId\": \"AKIAIOSFODNN7EXAMPLE\", \"SecretAccessKey\": "
        "\"" SECRET_KEY "\", \"SessionToken\": \"" SESSION_TOKEN
        "\", \"Expiration\": \"2026-11-20T12:00:00Z\"}";
    const char *imds =
        "{\"Code\":\"Success\",\"LastUpdated\":\"2026-11-20T11:00:00Z\",\"Type\":\"AWS-HMAC\","
        "\"AccessKeyId\":\"ASIAEXAMPLEIMDS\",\"SecretAccessKey\":\"" SECRET_KEY
        "\",\"Token\":\"" SESSION_TOKEN "\",\"Expiration\":\"2026-11-20T17:00:00Z\"}";
    const char *sts =
        "{\"Credentials\":{\"accessKeyId\":\"ASIASTS\",\"secretAccessKey\":\"" SECRET_KEY
        "\",\"sessionToken\":\"" SESSION_TOKEN "\",\"expiration\":1795000000000}}";
    const char *ini = "{\"aws_access_key_id\":\"AKIDINI\",\"aws_secret_access_key\":\"" SECRET_KEY
                      "\",\"aws_session_token\":\"" SESSION_TOKEN "\"}";
    const char *inputs[] = {process, imds, sts, ini};
    const char *kept[] = {"AKIAIOSFODNN7EXAMPLE", "ASIAEXAMPLEIMDS", "ASIASTS", "AKIDINI"};
    const char *secrets[] = {SECRET_KEY, SESSION_TOKEN, "EXAMPLEKEY", "SESSIONTOKEN"};
    for (size_t i = 0; i < 4; i++) {
        char *out = redacted(inputs[i]);
        check_clean_json(out, secrets, 4);
        CHECK_MSG(out && strstr(out, kept[i]), "access key id lost in %s", out ? out : "(null)");
        free(out);
    }
    char *out = redacted(process);
    CHECK(out && strstr(out, "\"Expiration\": \"2026-11-20T12:00:00Z\"") != NULL);
    CHECK(out && strstr(out, "\"Version\": 1,") != NULL);
    free(out);
}

static void test_other_secret_members(void)
{
    const char *in =
        "{\"channelArn\":\"arn:aws:ivs:us-west-2:1:channel/x\",\"metadata\":\"{\\\"score\\\":42}\","
        "\"passphrase\":\"open sesame\",\"privateKey\":{\"pem\":\"-----BEGIN PRIVATE KEY-----\"},"
        "\"token\":[\"eyJhbGciOi\"],\"password\":12345,\"\\u0076alue\":\"escaped-name\","
        "\"publicKeyMaterial\":\"-----BEGIN PUBLIC KEY-----\",\"Token\":null,\"count\":-1.5e3}";
    char *out = redacted(in);
    const char *secrets[] = {"score", "sesame", "PRIVATE", "eyJhbGciOi", "12345", "escaped-name"};
    check_clean_json(out, secrets, 6);
    CHECK(out && strstr(out, "\"publicKeyMaterial\":\"-----BEGIN PUBLIC KEY-----\"") != NULL);
    CHECK(out && strstr(out, "\"Token\":null") != NULL);
    CHECK(out && strstr(out, "\"count\":-1.5e3}") != NULL);
    CHECK(out && strstr(out, "\"channelArn\":\"arn:aws:ivs:us-west-2:1:channel/x\"") != NULL);
    free(out);
}

static void test_stream_keys_anywhere(void)
{
    const char *in =
        "[\"" STREAM_KEY "\", {\"note\": \"ingest with rtmps://host:443/app/" STREAM_KEY " now\"},"
        " \"ask_me\", \"desk_lamp\", \"\\u0073k_escaped_key\"]";
    char *out = redacted(in);
    const char *secrets[] = {"AbCdEf012345", "escaped_key"};
    check_clean_json(out, secrets, 2);
    CHECK(out && strstr(out, "rtmps://host:443/app/*** now") != NULL);
    /* "sk_" inside a word is not a stream key. */
    CHECK(out && strstr(out, "\"ask_me\", \"desk_lamp\"") != NULL);
    free(out);
}

/* IVS Chat and Real-Time: chat and participant tokens (member "token"), Real-Time ingest
 * stream keys ("rt_...", as a value or anywhere in a string). */
static void test_chat_and_realtime_secrets(void)
{
    const char *in =
        "{\"ingestConfiguration\":{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:ingest-"
        "configuration/"
        "AbCdEfGh1234\",\"streamKey\":\"rt_123456789012_us-west-2_AbCdEfGh1234_SeCrEtPaRt\","
        "\"redundantIngestCredentials\":[{\"participantId\":\"xyZ654abC321\",\"streamKey\":"
        "\"rt_123456789012_us-west-2_AbCdEfGh1234_OtHeRsEcReT\"}],\"state\":\"INACTIVE\"},"
        "\"participantToken\":{\"participantId\":\"p1\",\"token\":\"eyJhbGciOiJLTVMifQ."
        "SIGNEDPART\"},"
        "\"note\":\"publish to rtmps://host/app/rt_1_us-west-2_x_ThIrDsEcReT "
        "now\",\"start_time\":\"art_x\"}";
    char *out = redacted(in);
    const char *secrets[] = {"SeCrEtPaRt", "OtHeRsEcReT", "SIGNEDPART", "ThIrDsEcReT"};
    check_clean_json(out, secrets, 4);
    CHECK(out && strstr(out, "\"participantId\":\"xyZ654abC321\"") != NULL);
    CHECK(out && strstr(out, "\"state\":\"INACTIVE\"") != NULL);
    CHECK(out && strstr(out, "\"start_time\":\"art_x\"") != NULL); /* rt_ inside a word */
    free(out);
}

static void test_non_json_text(void)
{
    const char *texts[] = {
        "<html>Bad Gateway for " STREAM_KEY "</html>",
        "{\"streamKey\":{\"value\":\"" STREAM_KEY, /* cut short */
        "{\"SecretAccessKey\": \"" SECRET_KEY "\", \"AccessKeyId\": \"AKIDTRUNC\"",
        "{\"Token\":\"" SESSION_TOKEN "\",",
        "not json at all: SecretAccessKey=",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *out = redacted(texts[i]);
        CHECK(out != NULL);
        if (!out)
            continue;
        CHECK_MSG(!strstr(out, "AbCdEf012345") && !strstr(out, "EXAMPLEKEY") &&
                      !strstr(out, "SESSIONTOKEN"),
                  "secret survived in %s", out);
        free(out);
    }
    char *out = redacted(texts[2]);
    CHECK(out && strstr(out, "AKIDTRUNC") != NULL);
    free(out);
    out = redacted(texts[0]);
    CHECK_STR_EQ("<html>Bad Gateway for ***</html>", out);
    free(out);
    /* Binary-safe length handling: only len bytes are read. */
    struct buf b = BUF_INIT;
    redact_json(&b, "{}garbage", 2);
    CHECK_STR_EQ("{}", buf_str(&b));
    buf_free(&b);
    out = redacted("");
    CHECK_STR_EQ("", out);
    free(out);
}

/* cJSON reads control bytes as whitespace; the structural pass once looped forever on a NUL
 * between JSON tokens (found by tests/fuzz/fuzz_response). Such text is redacted as text. */
static void test_control_bytes_between_tokens(void)
{
    static const char in[] = "[\0\0]1,{\"password\":\0\"" SECRET_KEY "\"}";
    alarm(10); /* a hang fails the suite instead of stalling it */
    struct buf out = BUF_INIT;
    redact_json(&out, in, sizeof in - 1);
    alarm(0);
    CHECK(!buf_failed(&out));
    CHECK(out.len > 0 && memmem(out.data, out.len, "EXAMPLEKEY", 10) == NULL);
    buf_free(&out);
}

static void test_deep_nesting_is_bounded(void)
{
    struct buf in = BUF_INIT;
    for (int i = 0; i < 500; i++)
        buf_puts(&in, "{\"value\":[");
    buf_puts(&in, "\"" STREAM_KEY "\"");
    for (int i = 0; i < 500; i++)
        buf_puts(&in, "]}");
    char *out = redacted(buf_str(&in));
    CHECK(out && strstr(out, "AbCdEf012345") == NULL);
    free(out);
    buf_free(&in);
}

static void test_header_secrecy(void)
{
    const char *secret[] = {
        "Authorization", "authorization", "X-Amz-Security-Token", "x-amz-security-token",
        "Cookie",        "Set-Cookie",    "Proxy-Authorization",  "X-aws-ec2-metadata-token"};
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        CHECK_MSG(redact_header_is_secret(secret[i]) == 1, "%s", secret[i]);
    const char *fine[] = {
        "X-Amz-Content-Sha256", "X-Amz-Date",     "Content-Type",       "Host", "User-Agent",
        "x-amzn-RequestId",     "Content-Length", "Authorization-Info", ""};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        CHECK_MSG(redact_header_is_secret(fine[i]) == 0, "%s", fine[i]);
    CHECK_INT_EQ(0, redact_header_is_secret(NULL));
}

static void test_header_lines(void)
{
    struct buf b = BUF_INIT;
    redact_header_line(
        &b, "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261120/us-west-2/ivs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    CHECK_STR_EQ("Authorization: AWS4-HMAC-SHA256 "
                 "Credential=AKIDEXAMPLE/20261120/us-west-2/ivs/aws4_request, "
                 "SignedHeaders=content-type;host;x-amz-date, Signature=***",
                 buf_str(&b));
    buf_reset(&b);
    redact_header_line(&b, "x-amz-security-token", SESSION_TOKEN);
    CHECK_STR_EQ("x-amz-security-token: ***", buf_str(&b));
    buf_reset(&b);
    redact_header_line(&b, "Authorization", "Bearer abcdef");
    CHECK_STR_EQ("Authorization: ***", buf_str(&b));
    buf_reset(&b);
    redact_header_line(&b, "Authorization",
                       "AWS4-HMAC-SHA256 Credential=AKID/x/y/ivs/aws4_request");
    CHECK_STR_EQ("Authorization: ***", buf_str(&b));
    buf_reset(&b);
    redact_header_line(&b, "X-Amz-Content-Sha256",
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR_EQ(
        "X-Amz-Content-Sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        buf_str(&b));
    buf_reset(&b);
    redact_header_line(&b, "X-Debug", "key=" STREAM_KEY);
    CHECK_STR_EQ("X-Debug: key=***", buf_str(&b));
    buf_reset(&b);
    redact_header_line(&b, "X-Empty", NULL);
    CHECK_STR_EQ("X-Empty: ", buf_str(&b));
    buf_free(&b);
}

static char *scrubbed(const char *text, const char *const *secrets, size_t n)
{
    struct buf out = BUF_INIT;
    redact_scrub(&out, text, strlen(text), secrets, n);
    return buf_steal(&out);
}

#define SIGNATURE "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
#define PEM_KEY                                                                                    \
    "-----BEGIN EC PRIVATE KEY-----\nMIGkAgEBBDAiLeXW0eJf1/WDyAHGkQPzbsJyZnuWMZWto21+iSR/\n"       \
    "-----END EC PRIVATE KEY-----"

/* Issue 13 item 6: secrets without a name around them are masked by value. */
static void test_scrub_by_value(void)
{
    const char *secrets[] = {SECRET_KEY, SESSION_TOKEN, NULL, "short"};
    char *s = scrubbed("echo: X-Amz-Security-Token: " SESSION_TOKEN ", key=" SECRET_KEY
                       " Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
                       "us-east-1/ivs/aws4_request, Signature=" SIGNATURE,
                       secrets, 4);
    CHECK(s && !strstr(s, SESSION_TOKEN) && !strstr(s, SECRET_KEY) && !strstr(s, SIGNATURE));
    CHECK_MSG(s && strstr(s, "Credential=AKIDEXAMPLE/20150830/us-east-1/ivs/aws4_request"),
              "the credential scope is not secret: %s", s);
    free(s);

    /* A signature on its own, a stream key as an ARN, a private key as a public one (in
     * JSON, with escaped line breaks, and as raw PEM). */
    s = scrubbed("sig " SIGNATURE ".", secrets, 0);
    CHECK_STR_EQ("sig ***.", s);
    free(s);
    s = scrubbed("arn 'sk_us-west-2_AbCdEf012345' does not match", secrets, 0);
    CHECK_STR_EQ("arn '***' does not match", s);
    free(s);
    s = scrubbed("{\"publicKeyMaterial\":\"" PEM_KEY "\\n\"}", secrets, 0);
    CHECK_STR_EQ("{\"publicKeyMaterial\":\"***\\n\"}", s);
    free(s);
    s = scrubbed("key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN", secrets, 0);
    CHECK_STR_EQ("key: ***", s);
    free(s);
    /* What is not secret survives: public keys, other hex lengths, words, short values. */
    const char *keep = "-----BEGIN PUBLIC KEY-----\nMHYw\n-----END PUBLIC KEY----- sha "
                       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf3 "
                       "task_sk_x short desk_top";
    s = scrubbed(keep, secrets, 4);
    CHECK_STR_EQ(keep, s);
    free(s);
    /* A secret right after a run of hex digits is still found. */
    s = scrubbed("abc" SESSION_TOKEN, secrets, 4);
    CHECK_STR_EQ("abc***", s);
    free(s);
}

static void test_scrub_error(void)
{
    const char *secrets[] = {SECRET_KEY};
    struct ivs_error err = {0};
    err.kind = IVS_ERR_SERVICE;
    err.code = strdup("Echo" SIGNATURE);
    err.message = strdup("you sent " SECRET_KEY " and sk_us-west-2_AbCdEf012345");
    err.request_id = strdup("rid-" SECRET_KEY);
    redact_error(&err, secrets, 1);
    CHECK_STR_EQ("rid-***", err.request_id);
    CHECK_STR_EQ("Echo" SIGNATURE, err.code); /* hex glued to a word is no signature */
    CHECK_STR_EQ("you sent *** and ***", err.message);
    ivs_error_clear(&err);
    redact_error(NULL, secrets, 1);
}

int main(void)
{
    RUN(test_scrub_by_value);
    RUN(test_scrub_error);
    RUN(test_create_channel_output);
    RUN(test_get_and_batch_stream_keys);
    RUN(test_credential_outputs);
    RUN(test_other_secret_members);
    RUN(test_stream_keys_anywhere);
    RUN(test_chat_and_realtime_secrets);
    RUN(test_non_json_text);
    RUN(test_control_bytes_between_tokens);
    RUN(test_deep_nesting_is_bounded);
    RUN(test_header_secrecy);
    RUN(test_header_lines);
    return harness_finish();
}
