/* test_validate.c: model_validate, one test per rule and per known trap. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "harness.h"
#include "model.h"

/* The cases below are low-latency IVS's. */
#define IVS model_default_service()

static struct ivs_error g_err;
/* One cache shared by every case, as a client's is shared by its calls. */
static struct model_pattern_cache *g_cache;

/* Validates JSON text for an operation; returns the status and leaves the error in g_err.
 * Every case runs both without and with a pattern cache, and both must say the same. */
static enum ivs_status run(const char *op_name, const char *json)
{
    const struct model_operation *op = model_find_operation(IVS, op_name);
    CHECK_MSG(op != NULL, "no operation %s", op_name);
    ivs_error_clear(&g_err);
    cJSON *input = json ? cJSON_Parse(json) : NULL;
    CHECK_MSG(!json || input, "bad test JSON: %s", json);
    enum ivs_status st = model_validate(op, input, &g_err);
    struct ivs_error cached = {0};
    enum ivs_status cst = model_validate_cached(op, input, g_cache, &cached);
    CHECK_MSG(cst == st, "%s: cached validation says %d, uncached %d", op_name, (int)cst, (int)st);
    CHECK_STR_EQ(g_err.message ? g_err.message : "", cached.message ? cached.message : "");
    ivs_error_clear(&cached);
    cJSON_Delete(input);
    return st;
}

static const char *msg(void) { return g_err.message ? g_err.message : ""; }
static const char *show(const char *json) { return json ? json : "(no input)"; }

#define EXPECT_OK(op, json)                                                                        \
    do {                                                                                           \
        enum ivs_status st_ = run(op, json);                                                       \
        CHECK_MSG(st_ == IVS_OK, "%s %s: unexpected failure: %s", op, show(json), msg());          \
    } while (0)

#define EXPECT_FAIL(op, json, fragment)                                                            \
    do {                                                                                           \
        enum ivs_status st_ = run(op, json);                                                       \
        CHECK_MSG(st_ == IVS_ERR_VALIDATION, "%s %s: accepted", op, show(json));                   \
        CHECK_MSG(strstr(msg(), fragment) != NULL, "message \"%s\" lacks \"%s\"", msg(),           \
                  fragment);                                                                       \
        if (st_ == IVS_ERR_VALIDATION)                                                             \
            CHECK_STR_EQ("ParamValidationError", g_err.code);                                      \
    } while (0)

static const char *const CHANNEL_ARN = "arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234";

static void test_valid_inputs(void)
{
    EXPECT_OK("create_channel", "{}");
    EXPECT_OK("CreateChannel", NULL);
    EXPECT_OK("create_channel",
              "{\"name\":\"my-channel\",\"latencyMode\":\"LOW\",\"type\":\"STANDARD\","
              "\"authorized\":false,\"insecureIngest\":false,\"tags\":{\"env\":\"prod\"},"
              "\"multitrackInputConfiguration\":{\"enabled\":true,\"policy\":\"ALLOW\","
              "\"maximumResolution\":\"HD\"},\"containerFormat\":\"FRAGMENTED_MP4\"}");
    EXPECT_OK("create_recording_configuration",
              "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"my-bucket.1\"}},"
              "\"recordingReconnectWindowSeconds\":0,"
              "\"thumbnailConfiguration\":{\"recordingMode\":\"INTERVAL\","
              "\"targetIntervalSeconds\":60,\"storage\":[\"SEQUENTIAL\",\"LATEST\"]}}");
    EXPECT_OK("list_channels", "{\"maxResults\":100,\"nextToken\":\"abc+/=_-\"}");
    EXPECT_OK("list_stream_keys", "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/"
                                  "abcdABCD1234\",\"maxResults\":50}");
}

static void test_unknown_parameter_suggests_closest(void)
{
    EXPECT_FAIL("create_channel", "{\"latencymode\":\"LOW\"}",
                "create_channel: latencymode: unknown parameter, did you mean 'latencyMode'?");
    EXPECT_FAIL("create_channel", "{\"nmae\":\"x\"}", "did you mean 'name'?");
    /* JSON kinds are what they are: the Lua binding alone turns an empty table into the kind
     * its shape wants (validation_spec checks that side). */
    EXPECT_FAIL("create_channel", "[]", "expected an object of parameters, got an array");
    EXPECT_FAIL("create_channel", "{\"tags\":[]}", "tags: expected an object, got an array");
    EXPECT_FAIL("create_recording_configuration",
                "{\"destinationConfiguration\":[],\"thumbnailConfiguration\":{\"storage\":{}}}",
                "expected an object, got an array");
    EXPECT_FAIL("create_recording_configuration",
                "{\"destinationConfiguration\":{\"s3\":{\"bucket\":\"abc\"}}}",
                "create_recording_configuration: destinationConfiguration.s3.bucket: unknown "
                "parameter, did you mean 'bucketName'?");
    /* Nothing close: list what is valid. */
    EXPECT_FAIL("get_channel", "{\"arn\":\"x\",\"zzzzzzzzzzzz\":1}",
                "get_channel: zzzzzzzzzzzz: unknown parameter (valid parameters: arn)");
}

static void test_missing_required(void)
{
    EXPECT_FAIL("create_stream_key", "{}",
                "create_stream_key: channelArn: missing required parameter");
    /* destinationConfiguration.s3 is optional in the model; postRollConfiguration's are not */
    EXPECT_FAIL("create_ad_configuration",
                "{\"mediaTailorPlaybackConfigurations\":[{\"arn\":\"arn:aws:mediatailor:us-west-2:"
                "123456789012:playbackConfiguration/abc\"}],\"postRollConfiguration\":{}}",
                "create_ad_configuration: postRollConfiguration.durationSeconds: missing required "
                "parameter");
    /* null counts as not given */
    EXPECT_FAIL("get_channel", "{\"arn\":null}", "get_channel: arn: missing required parameter");
    EXPECT_FAIL("untag_resource", "{}", "untag_resource: resourceArn: missing required parameter");
    EXPECT_FAIL("untag_resource", "{}", "untag_resource: tagKeys: missing required parameter");
}

static void test_wrong_types(void)
{
    EXPECT_FAIL("create_channel", "{\"name\":5}",
                "create_channel: name: expected a string, got a number");
    EXPECT_FAIL("create_channel", "{\"authorized\":\"false\"}",
                "create_channel: authorized: expected a boolean, got a string");
    EXPECT_FAIL("list_channels", "{\"maxResults\":\"10\"}",
                "list_channels: maxResults: expected an integer, got a string");
    EXPECT_FAIL("list_channels", "{\"maxResults\":1.5}",
                "list_channels: maxResults: expected an integer, got 1.5");
    EXPECT_FAIL("batch_get_channel", "{\"arns\":\"x\"}",
                "batch_get_channel: arns: expected an array, got a string");
    EXPECT_FAIL("create_channel", "{\"tags\":[\"a\"]}",
                "create_channel: tags: expected an object, got an array");
    EXPECT_FAIL("create_channel", "{\"multitrackInputConfiguration\":true}",
                "expected an object, got a boolean");
    EXPECT_FAIL("create_channel", "5", "create_channel: input: expected an object of parameters");
    /* Integers stay integers: 60.0 is an integral number, fine. */
    EXPECT_OK("list_channels", "{\"maxResults\":60.0}");
    /* A 32-bit integer shape refuses what does not fit. */
    EXPECT_FAIL("start_viewer_session_revocation",
                "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abc\","
                "\"viewerId\":\"v\",\"viewerSessionVersionsLessThanOrEqualTo\":3000000000}",
                "does not fit a 32-bit integer");
}

static void test_empty_containers_from_lua(void)
{
    /* JSON kinds are strict in C: an empty object is no list and [] no map. The Lua binding
     * gives an empty table the kind its shape wants (validation_spec checks that side). */
    EXPECT_FAIL("create_playback_restriction_policy", "{\"allowedCountries\":{}}",
                "expected an array, got an object");
    EXPECT_FAIL("create_playback_restriction_policy", "{\"tags\":[]}",
                "expected an object, got an array");
    EXPECT_OK("create_playback_restriction_policy", "{\"allowedCountries\":[],\"tags\":{}}");
}

static void test_string_length_in_code_points(void)
{
    /* 128 two-byte characters: 256 bytes but 128 code points, within the name limit */
    char json[1024];
    strcpy(json, "{\"tags\":{\"");
    for (int i = 0; i < 128; i++)
        strcat(json, "\xC3\xA9");
    strcat(json, "\":\"v\"}}");
    EXPECT_OK("create_channel", json);
    strcpy(json, "{\"tags\":{\"");
    for (int i = 0; i < 129; i++)
        strcat(json, "\xC3\xA9");
    strcat(json, "\":\"v\"}}");
    EXPECT_FAIL("create_channel", json, "key is 129 characters, more than the maximum 128");
    EXPECT_FAIL("create_channel", "{\"tags\":{\"\":\"v\"}}",
                "create_channel: tags[\"\"]: key is 0 characters, less than the minimum 1");
    EXPECT_FAIL("get_channel", "{\"arn\":\"\"}",
                "get_channel: arn: is 0 characters, less than the minimum 1");
    EXPECT_FAIL("put_metadata",
                "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/a\","
                "\"metadata\":\"\"}",
                "put_metadata: metadata: is 0 characters, less than the minimum 1");
}

static void test_number_ranges(void)
{
    EXPECT_OK("list_channels", "{\"maxResults\":1}");
    EXPECT_OK("list_channels", "{\"maxResults\":100}");
    EXPECT_FAIL("list_channels", "{\"maxResults\":101}",
                "list_channels: maxResults: 101 is more than the maximum 100");
    EXPECT_FAIL("list_channels", "{\"maxResults\":0}", "0 is less than the minimum 1");
    char json[256];
    snprintf(json, sizeof json, "{\"channelArn\":\"%s\",\"maxResults\":50}", CHANNEL_ARN);
    EXPECT_OK("list_stream_keys", json);
    snprintf(json, sizeof json, "{\"channelArn\":\"%s\",\"maxResults\":51}", CHANNEL_ARN);
    EXPECT_FAIL("list_stream_keys", json,
                "list_stream_keys: maxResults: 51 is more than the maximum 50");
    snprintf(json, sizeof json, "{\"channelArn\":\"%s\",\"durationSeconds\":301}", CHANNEL_ARN);
    EXPECT_FAIL("insert_ad_break", json, "301 is more than the maximum 300");
}

static void test_list_and_map_sizes(void)
{
    struct buf_like {
        char data[16384];
    } *b = malloc(sizeof *b);
    if (!b)
        return;
    /* 50 ARNs fine, 51 too many, 0 too few */
    for (int n = 50; n <= 51; n++) {
        strcpy(b->data, "{\"arns\":[");
        for (int i = 0; i < n; i++) {
            char one[128];
            snprintf(one, sizeof one, "%s\"%s%d\"", i ? "," : "", CHANNEL_ARN, i);
            strcat(b->data, one);
        }
        strcat(b->data, "]}");
        if (n == 50)
            EXPECT_OK("batch_get_channel", b->data);
        else
            EXPECT_FAIL("batch_get_channel", b->data,
                        "batch_get_channel: arns: has 51 items, more than the maximum 50");
    }
    EXPECT_FAIL("batch_get_channel", "{\"arns\":[]}", "has 0 items, fewer than the minimum 1");
    /* 50 tags fine, 51 too many */
    for (int n = 50; n <= 51; n++) {
        strcpy(b->data, "{\"tags\":{");
        for (int i = 0; i < n; i++) {
            char one[64];
            snprintf(one, sizeof one, "%s\"k%d\":\"v\"", i ? "," : "", i);
            strcat(b->data, one);
        }
        strcat(b->data, "}}");
        if (n == 50)
            EXPECT_OK("create_channel", b->data);
        else
            EXPECT_FAIL("create_channel", b->data,
                        "create_channel: tags: has 51 entries, more than the maximum 50");
    }
    free(b);
}

static void test_enums(void)
{
    EXPECT_FAIL("create_channel", "{\"latencyMode\":\"FAST\"}",
                "create_channel: latencyMode: \"FAST\" is not one of NORMAL, LOW");
    EXPECT_FAIL("create_channel", "{\"type\":\"basic\"}",
                "is not one of BASIC, STANDARD, ADVANCED_SD, ADVANCED_HD");
    EXPECT_FAIL("create_recording_configuration",
                "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"abc\"}},"
                "\"thumbnailConfiguration\":{\"storage\":[\"SEQUENTIAL\",\"NEWEST\"]}}",
                "create_recording_configuration: thumbnailConfiguration.storage[1]: \"NEWEST\" is "
                "not one of SEQUENTIAL, LATEST");
}

static void test_patterns(void)
{
    EXPECT_FAIL("create_recording_configuration",
                "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"UPPER_CASE!\"}}}",
                "create_recording_configuration: destinationConfiguration.s3.bucketName: "
                "\"UPPER_CASE!\" does not match the pattern [a-z0-9-.]+");
    EXPECT_FAIL("get_channel", "{\"arn\":\"not-an-arn\"}",
                "get_channel: arn: \"not-an-arn\" does not match the pattern");
    char json[256];
    snprintf(json, sizeof json, "{\"arns\":[\"%s\",\"%s\",\"%s\",\"bogus\"]}", CHANNEL_ARN,
             CHANNEL_ARN, CHANNEL_ARN);
    EXPECT_FAIL("batch_get_channel", json, "batch_get_channel: arns[3]: \"bogus\" does not match");
    /* An emoji-only or control-character tag is refused. */
    EXPECT_FAIL("create_channel", "{\"tags\":{\"\xF0\x9F\x98\x80\":\"v\"}}",
                "create_channel: tags[\"\xF0\x9F\x98\x80\"]: key \"\xF0\x9F\x98\x80\" does not "
                "match the pattern");
    EXPECT_FAIL("create_channel", "{\"tags\":{\"\\u0001\":\"v\"}}",
                "create_channel: tags[\"\\u0001\"]: key \"\\u0001\" does not match the pattern");
    /* TagValue's pattern ends in '*': searched unanchored it matches the empty string
     * anywhere, so the client lets the service judge values. */
    EXPECT_OK("create_channel", "{\"tags\":{\"k\":\"\\u0001\"}}");
}

static void test_trap_real_arns_for_tag_operations(void)
{
    char json[512];
    snprintf(json, sizeof json, "{\"resourceArn\":\"%s\"}", CHANNEL_ARN);
    EXPECT_OK("list_tags_for_resource", json);
    snprintf(json, sizeof json, "{\"resourceArn\":\"%s\",\"tags\":{\"a\":\"b\"}}", CHANNEL_ARN);
    EXPECT_OK("tag_resource", json);
    EXPECT_OK("untag_resource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:"
                                "playback-restriction-policy/AbCd1234\","
                                "\"tagKeys\":[\"a\",\"b c\"]}");
    EXPECT_OK("untag_resource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:"
                                "stream-key/AbCd1234\",\"tagKeys\":[]}");
    /* Length is still enforced on ResourceArn. */
    EXPECT_FAIL("list_tags_for_resource", "{\"resourceArn\":\"\"}",
                "list_tags_for_resource: resourceArn: is 0 characters");
}

static void test_trap_empty_string_arns(void)
{
    EXPECT_OK("create_channel", "{\"recordingConfigurationArn\":\"\","
                                "\"playbackRestrictionPolicyArn\":\"\","
                                "\"adConfigurationArn\":\"\"}");
    char json[512];
    snprintf(json, sizeof json, "{\"arn\":\"%s\",\"recordingConfigurationArn\":\"\"}", CHANNEL_ARN);
    EXPECT_OK("update_channel", json);
    EXPECT_OK("create_channel",
              "{\"recordingConfigurationArn\":\"arn:aws:ivs:us-west-2:123456789012:"
              "recording-configuration/AbCd1234\"}");
    EXPECT_FAIL("create_channel", "{\"recordingConfigurationArn\":\" \"}",
                "create_channel: recordingConfigurationArn: \" \" does not match");
    EXPECT_OK("list_channels", "{\"filterByRecordingConfigurationArn\":\"\"}");
}

static void test_trap_non_ascii_tags(void)
{
    EXPECT_OK("create_channel", "{\"tags\":{\"café\":\"日本語\",\"Ελληνικά\":\"a\xC2\xA0"
                                "b\","
                                "\"\xD9\xA1\xD9\xA2\":\"x/y=z+w@v-u.t:s_r\"}}");
    char json[256];
    snprintf(json, sizeof json, "{\"resourceArn\":\"%s\",\"tags\":{\"é\":\"ü\"}}", CHANNEL_ARN);
    EXPECT_OK("tag_resource", json);
    snprintf(json, sizeof json, "{\"resourceArn\":\"%s\",\"tagKeys\":[\"日本語\"]}", CHANNEL_ARN);
    EXPECT_OK("untag_resource", json);
}

static void test_trap_booleans_and_next_token(void)
{
    EXPECT_OK("create_channel", "{\"authorized\":false,\"insecureIngest\":false}");
    EXPECT_OK("create_playback_restriction_policy", "{\"enableStrictOriginEnforcement\":false}");
    EXPECT_OK("list_channels", "{\"nextToken\":\"\"}");
    EXPECT_OK("list_stream_sessions", "{\"channelArn\":\"arn:aws:ivs:us-west-2:1:channel/a\","
                                      "\"nextToken\":\"AAMA-EFRSDQwMjg1OTQ5MTcwNQ==\"}");
    char big[1200];
    memset(big, 0, sizeof big);
    strcpy(big, "{\"nextToken\":\"");
    memset(big + strlen(big), 'a', 1025);
    strcat(big, "\"}");
    EXPECT_FAIL("list_channels", big,
                "list_channels: nextToken: is 1025 characters, more than the maximum 1024");
}

static void test_all_problems_in_one_error(void)
{
    EXPECT_FAIL("create_channel",
                "{\"latencyMode\":\"FAST\",\"typo\":1,\"name\":\"" /* 129 chars */
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                "create_channel: latencyMode: \"FAST\" is not one of NORMAL, LOW; create_channel: "
                "typo: unknown parameter, did you mean 'type'?; create_channel: name: is 129 "
                "characters, more than the maximum 128");
    CHECK_INT_EQ(IVS_ERR_VALIDATION, g_err.kind);
    /* A flood of problems is capped, with a count of the rest. */
    char *big = malloc(64 * 1024);
    if (!big)
        return;
    strcpy(big, "{\"arns\":[");
    for (int i = 0; i < 40; i++)
        strcat(big, i ? ",\"x\"" : "\"x\"");
    strcat(big, "]}");
    EXPECT_FAIL("batch_get_channel", big, "; and 15 more problems");
    free(big);
}

static void test_sensitive_values_not_echoed(void)
{
    /* StreamMetadata is sensitive: its problems are described, its value never quoted. */
    run("put_metadata", "{\"channelArn\":\"arn:aws:ivs:us-west-2:1:channel/a\",\"metadata\":5}");
    CHECK(strstr(msg(), "put_metadata: metadata: expected a string") != NULL);
    const struct model_operation *op = model_find_operation(IVS, "put_metadata");
    const struct model_member *m = model_find_member(op->input, "metadata");
    CHECK(m && m->shape->sensitive);
}

/* ---- The pattern cache --------------------------------------------------------------- */

static enum ivs_status validate_text(struct model_pattern_cache *cache, const char *op_name,
                                     const char *json, struct ivs_error *err)
{
    cJSON *input = cJSON_Parse(json);
    enum ivs_status st =
        model_validate_cached(model_find_operation(IVS, op_name), input, cache, err);
    cJSON_Delete(input);
    return st;
}

static void test_cache_compiles_each_pattern_once(void)
{
    struct model_pattern_cache *cache = model_pattern_cache_new();
    CHECK(cache != NULL);
    if (!cache)
        return;
    CHECK_INT_EQ(0, (int)model_pattern_cache_compilations(cache));
    char json[256];
    snprintf(json, sizeof json, "{\"arn\":\"%s\"}", CHANNEL_ARN);
    struct ivs_error err = {0};
    for (int i = 0; i < 10; i++)
        CHECK_INT_EQ(IVS_OK, validate_text(cache, "get_channel", json, &err));
    CHECK_INT_EQ(1, (int)model_pattern_cache_compilations(cache));
    /* A rejected value goes through the same compiled pattern. */
    CHECK_INT_EQ(IVS_ERR_VALIDATION, validate_text(cache, "get_channel", "{\"arn\":\"x\"}", &err));
    CHECK(err.message && strstr(err.message, "does not match the pattern"));
    CHECK_INT_EQ(1, (int)model_pattern_cache_compilations(cache));
    /* Inputs without patterned strings compile nothing. */
    CHECK_INT_EQ(IVS_OK, validate_text(cache, "list_channels", "{\"maxResults\":5}", &err));
    CHECK_INT_EQ(1, (int)model_pattern_cache_compilations(cache));
    /* A second patterned shape (ChannelName) adds exactly one. */
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(IVS_OK, validate_text(cache, "create_channel", "{\"name\":\"a-b_c\"}", &err));
    CHECK_INT_EQ(2, (int)model_pattern_cache_compilations(cache));
    ivs_error_clear(&err);
    model_pattern_cache_free(cache);
    model_pattern_cache_free(NULL);
    CHECK_INT_EQ(0, (int)model_pattern_cache_compilations(NULL));
}

static void test_cache_agrees_on_every_model_pattern(void)
{
    static const char *const subjects[] = {
        "",
        "abc",
        "ABC-123_x",
        "my-bucket.1",
        "UPPER_CASE!",
        "st-abcDEF123",
        "arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234",
        "arn:aws:ivs:us-west-2:123456789012:stream-key/abcdABCD1234",
        "arn:aws:ivs:us-west-2:123456789012:playback-key/abcd",
        "arn:aws:ivs:us-west-2:123456789012:recording-configuration/abcd",
        "arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/abcd",
        "arn:aws:ivs:us-west-2:123456789012:ad-configuration/abcd",
        "arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/abcd",
        "arn:aws:ivs:us-west-2:1:channel/",
        "caf\xC3\xA9 \xE2\x80\x83 tag:/=+-@",
        "\xF0\x9F\x98\x80",
        "bad\xC3",
    };
    struct model_pattern_cache *cache = model_pattern_cache_new();
    CHECK(cache != NULL);
    size_t patterned = 0;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < IVS->model->shape_count; i++) {
            const struct model_shape *shape = &IVS->model->shapes[i];
            if (round == 0 && shape->pattern && shape->pattern_mode == MP_SEARCH)
                patterned++;
            for (size_t k = 0; k < sizeof subjects / sizeof subjects[0]; k++) {
                size_t len = strlen(subjects[k]);
                CHECK_MSG(model_pattern_match_cached(cache, shape, subjects[k], len) ==
                              model_pattern_match(shape, subjects[k], len),
                          "%s on \"%s\"", shape->name, subjects[k]);
                CHECK_INT_EQ(model_pattern_match(shape, subjects[k], len),
                             model_pattern_match_cached(NULL, shape, subjects[k], len));
            }
        }
    }
    /* Each enforced pattern once, whatever the number of rounds; unenforced ones never. */
    CHECK_INT_EQ((int)patterned, (int)model_pattern_cache_compilations(cache));
    model_pattern_cache_free(cache);
}

struct cache_job {
    int id;
    int failures;
    size_t compilations;
};

/* Validates a mix of good and bad inputs many times with the thread's own cache. */
static void *cache_thread(void *arg)
{
    struct cache_job *job = arg;
    struct model_pattern_cache *cache = model_pattern_cache_new();
    if (!cache) {
        job->failures++;
        return NULL;
    }
    char good[256], bad[256];
    snprintf(good, sizeof good, "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/t%d\"}",
             job->id);
    snprintf(bad, sizeof bad, "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:chanel/t%d\"}",
             job->id);
    struct ivs_error err = {0};
    for (int i = 0; i < 400; i++) {
        if (validate_text(cache, "get_channel", good, &err) != IVS_OK)
            job->failures++;
        if (validate_text(cache, "get_channel", bad, &err) != IVS_ERR_VALIDATION)
            job->failures++;
        if (validate_text(cache, "create_recording_configuration",
                          i % 2 ? "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"b-1\"}}}"
                                : "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"B!\"}}}",
                          &err) != (i % 2 ? IVS_OK : IVS_ERR_VALIDATION))
            job->failures++;
    }
    ivs_error_clear(&err);
    job->compilations = model_pattern_cache_compilations(cache);
    model_pattern_cache_free(cache);
    return NULL;
}

static void test_cache_per_thread(void)
{
    enum { THREADS = 4 };
    pthread_t tids[THREADS];
    struct cache_job jobs[THREADS];
    int started[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct cache_job){.id = i};
        started[i] = pthread_create(&tids[i], NULL, cache_thread, &jobs[i]) == 0;
        CHECK(started[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        if (!started[i])
            continue;
        pthread_join(tids[i], NULL);
        CHECK_INT_EQ(0, jobs[i].failures);
        CHECK_INT_EQ(2, (int)jobs[i].compilations); /* ChannelArn and S3DestinationBucketName */
    }
}

int main(void)
{
    g_cache = model_pattern_cache_new();
    if (!g_cache) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    RUN(test_valid_inputs);
    RUN(test_unknown_parameter_suggests_closest);
    RUN(test_missing_required);
    RUN(test_wrong_types);
    RUN(test_empty_containers_from_lua);
    RUN(test_string_length_in_code_points);
    RUN(test_number_ranges);
    RUN(test_list_and_map_sizes);
    RUN(test_enums);
    RUN(test_patterns);
    RUN(test_trap_real_arns_for_tag_operations);
    RUN(test_trap_empty_string_arns);
    RUN(test_trap_non_ascii_tags);
    RUN(test_trap_booleans_and_next_token);
    RUN(test_all_problems_in_one_error);
    RUN(test_sensitive_values_not_echoed);
    RUN(test_cache_compiles_each_pattern_once);
    RUN(test_cache_agrees_on_every_model_pattern);
    RUN(test_cache_per_thread);
    ivs_error_clear(&g_err);
    model_pattern_cache_free(g_cache);
    return harness_finish();
}
