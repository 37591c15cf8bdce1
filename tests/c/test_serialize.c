/* test_serialize.c: model_serialize for every operation (expected requests were produced once
 * by botocore's rest-json serializer and are checked in as bytes), nasty ARNs and tag keys,
 * the round trip through model_deserialize_request, and a live comparison with botocore
 * (tests/oracle/botocore_serialize.py) when python3 + botocore and ../shared are present. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "buf.h"
#include "harness.h"
#include "model.h"
#include "request.h"

/* The cases below are low-latency IVS's. */
#define IVS model_default_service()

struct wire_case {
    const char *op;
    const char *input;
    const char *method;
    const char *path;
    const char *query;
    const char *body;
};

/* One representative input per operation, every member set (booleans false, enums, lists,
 * maps, nested structures), in the model's member order. */
static const struct wire_case every_operation[] = {
    {"BatchGetChannel", "{\"arns\":[\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"]}",
     "POST", "/BatchGetChannel", NULL,
     "{\"arns\":[\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"]}"},
    {"BatchGetStreamKey", "{\"arns\":[\"arn:aws:ivs:us-west-2:123456789012:stream-key/Sk1\"]}",
     "POST", "/BatchGetStreamKey", NULL,
     "{\"arns\":[\"arn:aws:ivs:us-west-2:123456789012:stream-key/Sk1\"]}"},
    {"BatchStartViewerSessionRevocation",
     "{\"viewerSessions\":[{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channe"
     "l/abcdABCD1234\",\"viewerId\":\"viewer-1\",\"viewerSessionVersionsLessThanOrEqua"
     "lTo\":5}]}",
     "POST", "/BatchStartViewerSessionRevocation", NULL,
     "{\"viewerSessions\":[{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channe"
     "l/abcdABCD1234\",\"viewerId\":\"viewer-1\",\"viewerSessionVersionsLessThanOrEqua"
     "lTo\":5}]}"},
    {"CreateAdConfiguration",
     "{\"name\":\"ads-1\",\"mediaTailorPlaybackConfigurations\":[{\"playbackConfigurat"
     "ionArn\":\"arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/Mt1\""
     "}],\"postRollConfiguration\":{\"durationSeconds\":1,\"enabled\":false},\"tags\":"
     "{\"env\":\"prod\"}}",
     "POST", "/CreateAdConfiguration", NULL,
     "{\"name\":\"ads-1\",\"mediaTailorPlaybackConfigurations\":[{\"playbackConfigurat"
     "ionArn\":\"arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/Mt1\""
     "}],\"postRollConfiguration\":{\"durationSeconds\":1,\"enabled\":false},\"tags\":"
     "{\"env\":\"prod\"}}"},
    {"CreateChannel",
     "{\"name\":\"my-channel\",\"latencyMode\":\"LOW\",\"type\":\"ADVANCED_HD\",\"auth"
     "orized\":false,\"recordingConfigurationArn\":\"arn:aws:ivs:us-west-2:12345678901"
     "2:recording-configuration/Rc1\",\"tags\":{\"env\":\"prod\"},\"insecureIngest\":f"
     "alse,\"preset\":\"CONSTRAINED_BANDWIDTH_DELIVERY\",\"playbackRestrictionPolicyAr"
     "n\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/Prp1\",\"mu"
     "ltitrackInputConfiguration\":{\"enabled\":false,\"policy\":\"REQUIRE\",\"maximum"
     "Resolution\":\"FULL_HD\"},\"containerFormat\":\"FRAGMENTED_MP4\",\"adConfigurati"
     "onArn\":\"\"}",
     "POST", "/CreateChannel", NULL,
     "{\"name\":\"my-channel\",\"latencyMode\":\"LOW\",\"type\":\"ADVANCED_HD\",\"auth"
     "orized\":false,\"recordingConfigurationArn\":\"arn:aws:ivs:us-west-2:12345678901"
     "2:recording-configuration/Rc1\",\"tags\":{\"env\":\"prod\"},\"insecureIngest\":f"
     "alse,\"preset\":\"CONSTRAINED_BANDWIDTH_DELIVERY\",\"playbackRestrictionPolicyAr"
     "n\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/Prp1\",\"mu"
     "ltitrackInputConfiguration\":{\"enabled\":false,\"policy\":\"REQUIRE\",\"maximum"
     "Resolution\":\"FULL_HD\"},\"containerFormat\":\"FRAGMENTED_MP4\",\"adConfigurati"
     "onArn\":\"\"}"},
    {"CreatePlaybackRestrictionPolicy",
     "{\"allowedCountries\":[\"US\"],\"allowedOrigins\":[\"https://example.com\"],\"en"
     "ableStrictOriginEnforcement\":false,\"name\":\"prp-1\",\"tags\":{\"env\":\"prod\""
     "}}",
     "POST", "/CreatePlaybackRestrictionPolicy", NULL,
     "{\"allowedCountries\":[\"US\"],\"allowedOrigins\":[\"https://example.com\"],\"en"
     "ableStrictOriginEnforcement\":false,\"name\":\"prp-1\",\"tags\":{\"env\":\"prod\""
     "}}"},
    {"CreateRecordingConfiguration",
     "{\"name\":\"rec-1\",\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"my-bu"
     "cket\"}},\"tags\":{\"env\":\"prod\"},\"thumbnailConfiguration\":{\"recordingMode"
     "\":\"INTERVAL\",\"targetIntervalSeconds\":1,\"resolution\":\"LOWEST_RESOLUTION\""
     ",\"storage\":[\"LATEST\"]},\"recordingReconnectWindowSeconds\":5,\"renditionConf"
     "iguration\":{\"renditionSelection\":\"CUSTOM\",\"renditions\":[\"LOWEST_RESOLUTI"
     "ON\"]}}",
     "POST", "/CreateRecordingConfiguration", NULL,
     "{\"name\":\"rec-1\",\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"my-bu"
     "cket\"}},\"tags\":{\"env\":\"prod\"},\"thumbnailConfiguration\":{\"recordingMode"
     "\":\"INTERVAL\",\"targetIntervalSeconds\":1,\"resolution\":\"LOWEST_RESOLUTION\""
     ",\"storage\":[\"LATEST\"]},\"recordingReconnectWindowSeconds\":5,\"renditionConf"
     "iguration\":{\"renditionSelection\":\"CUSTOM\",\"renditions\":[\"LOWEST_RESOLUTI"
     "ON\"]}}"},
    {"CreateStreamKey",
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"ta"
     "gs\":{\"env\":\"prod\"}}",
     "POST", "/CreateStreamKey", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"ta"
     "gs\":{\"env\":\"prod\"}}"},
    {"DeleteAdConfiguration",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:ad-configuration/AdCfg1\"}", "POST",
     "/DeleteAdConfiguration", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:ad-configuration/AdCfg1\"}"},
    {"DeleteChannel", "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}",
     "POST", "/DeleteChannel", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}"},
    {"DeletePlaybackKeyPair", "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-key/Pk1\"}",
     "POST", "/DeletePlaybackKeyPair", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-key/Pk1\"}"},
    {"DeletePlaybackRestrictionPolicy",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/Prp1\"}", "POST",
     "/DeletePlaybackRestrictionPolicy", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/Prp1\"}"},
    {"DeleteRecordingConfiguration",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:recording-configuration/Rc1\"}", "POST",
     "/DeleteRecordingConfiguration", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:recording-configuration/Rc1\"}"},
    {"DeleteStreamKey", "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:stream-key/Sk1\"}", "POST",
     "/DeleteStreamKey", NULL, "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:stream-key/Sk1\"}"},
    {"GetAdConfiguration",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:ad-configuration/AdCfg1\"}", "POST",
     "/GetAdConfiguration", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:ad-configuration/AdCfg1\"}"},
    {"GetChannel", "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}", "POST",
     "/GetChannel", NULL, "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}"},
    {"GetPlaybackKeyPair", "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-key/Pk1\"}",
     "POST", "/GetPlaybackKeyPair", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-key/Pk1\"}"},
    {"GetPlaybackRestrictionPolicy",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/Prp1\"}", "POST",
     "/GetPlaybackRestrictionPolicy", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/Prp1\"}"},
    {"GetRecordingConfiguration",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:recording-configuration/Rc1\"}", "POST",
     "/GetRecordingConfiguration", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:recording-configuration/Rc1\"}"},
    {"GetStream", "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}",
     "POST", "/GetStream", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}"},
    {"GetStreamKey", "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:stream-key/Sk1\"}", "POST",
     "/GetStreamKey", NULL, "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:stream-key/Sk1\"}"},
    {"GetStreamSession",
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"st"
     "reamId\":\"st-1A2b3C4d5E6f7G8h9I0jKlM\"}",
     "POST", "/GetStreamSession", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"st"
     "reamId\":\"st-1A2b3C4d5E6f7G8h9I0jKlM\"}"},
    {"ImportPlaybackKeyPair",
     "{\"publicKeyMaterial\":\"-----BEGIN PUBLIC KEY-----\\nMHYw\\n-----END PUBLIC KEY"
     "-----\\n\",\"name\":\"key-1\",\"tags\":{\"env\":\"prod\"}}",
     "POST", "/ImportPlaybackKeyPair", NULL,
     "{\"publicKeyMaterial\":\"-----BEGIN PUBLIC KEY-----\\nMHYw\\n-----END PUBLIC KEY"
     "-----\\n\",\"name\":\"key-1\",\"tags\":{\"env\":\"prod\"}}"},
    {"InsertAdBreak",
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"du"
     "rationSeconds\":1}",
     "POST", "/InsertAdBreak", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"du"
     "rationSeconds\":1}"},
    {"ListAdConfigurations", "{\"nextToken\":\"tok+/=\",\"maxResults\":1}", "POST",
     "/ListAdConfigurations", NULL, "{\"nextToken\":\"tok+/=\",\"maxResults\":1}"},
    {"ListChannels",
     "{\"filterByName\":\"my-channel\",\"filterByRecordingConfigurationArn\":\"arn:aws"
     ":ivs:us-west-2:123456789012:recording-configuration/Rc1\",\"filterByPlaybackRest"
     "rictionPolicyArn\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-pol"
     "icy/Prp1\",\"filterByAdConfigurationArn\":\"\",\"nextToken\":\"tok+/=\",\"maxRes"
     "ults\":1}",
     "POST", "/ListChannels", NULL,
     "{\"filterByName\":\"my-channel\",\"filterByRecordingConfigurationArn\":\"arn:aws"
     ":ivs:us-west-2:123456789012:recording-configuration/Rc1\",\"filterByPlaybackRest"
     "rictionPolicyArn\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-pol"
     "icy/Prp1\",\"filterByAdConfigurationArn\":\"\",\"nextToken\":\"tok+/=\",\"maxRes"
     "ults\":1}"},
    {"ListPlaybackKeyPairs", "{\"nextToken\":\"tok+/=\",\"maxResults\":1}", "POST",
     "/ListPlaybackKeyPairs", NULL, "{\"nextToken\":\"tok+/=\",\"maxResults\":1}"},
    {"ListPlaybackRestrictionPolicies", "{\"nextToken\":\"tok+/=\",\"maxResults\":1}", "POST",
     "/ListPlaybackRestrictionPolicies", NULL, "{\"nextToken\":\"tok+/=\",\"maxResults\":1}"},
    {"ListRecordingConfigurations", "{\"nextToken\":\"tok+/=\",\"maxResults\":1}", "POST",
     "/ListRecordingConfigurations", NULL, "{\"nextToken\":\"tok+/=\",\"maxResults\":1}"},
    {"ListStreamKeys",
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"ne"
     "xtToken\":\"tok+/=\",\"maxResults\":1}",
     "POST", "/ListStreamKeys", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"ne"
     "xtToken\":\"tok+/=\",\"maxResults\":1}"},
    {"ListStreamSessions",
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"ne"
     "xtToken\":\"tok+/=\",\"maxResults\":1}",
     "POST", "/ListStreamSessions", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"ne"
     "xtToken\":\"tok+/=\",\"maxResults\":1}"},
    {"ListStreams",
     "{\"filterBy\":{\"health\":\"UNKNOWN\"},\"nextToken\":\"tok+/=\",\"maxResults\":1}", "POST",
     "/ListStreams", NULL,
     "{\"filterBy\":{\"health\":\"UNKNOWN\"},\"nextToken\":\"tok+/=\",\"maxResults\":1}"},
    {"ListTagsForResource",
     "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}", "GET",
     "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdABCD1234", NULL, NULL},
    {"PutMetadata",
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"me"
     "tadata\":\"{\\\"score\\\":1}\"}",
     "POST", "/PutMetadata", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"me"
     "tadata\":\"{\\\"score\\\":1}\"}"},
    {"StartViewerSessionRevocation",
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"vi"
     "ewerId\":\"viewer-1\",\"viewerSessionVersionsLessThanOrEqualTo\":5}",
     "POST", "/StartViewerSessionRevocation", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"vi"
     "ewerId\":\"viewer-1\",\"viewerSessionVersionsLessThanOrEqualTo\":5}"},
    {"StopStream", "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}",
     "POST", "/StopStream", NULL,
     "{\"channelArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\"}"},
    {"TagResource",
     "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"t"
     "ags\":{\"env\":\"prod\"}}",
     "POST", "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdABCD1234", NULL,
     "{\"tags\":{\"env\":\"prod\"}}"},
    {"UntagResource",
     "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"t"
     "agKeys\":[\"env\"]}",
     "DELETE", "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdABCD1234",
     "tagKeys=env", NULL},
    {"UpdateAdConfiguration",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:ad-configuration/AdCfg1\",\"name\""
     ":\"ads-1\",\"mediaTailorPlaybackConfigurations\":[{\"playbackConfigurationArn\":"
     "\"arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/Mt1\"}],\"pos"
     "tRollConfiguration\":{\"durationSeconds\":1,\"enabled\":false}}",
     "POST", "/UpdateAdConfiguration", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:ad-configuration/AdCfg1\",\"name\""
     ":\"ads-1\",\"mediaTailorPlaybackConfigurations\":[{\"playbackConfigurationArn\":"
     "\"arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/Mt1\"}],\"pos"
     "tRollConfiguration\":{\"durationSeconds\":1,\"enabled\":false}}"},
    {"UpdateChannel",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"name\":\""
     "my-channel\",\"latencyMode\":\"LOW\",\"type\":\"ADVANCED_HD\",\"authorized\":fal"
     "se,\"recordingConfigurationArn\":\"arn:aws:ivs:us-west-2:123456789012:recording-"
     "configuration/Rc1\",\"insecureIngest\":false,\"preset\":\"CONSTRAINED_BANDWIDTH_"
     "DELIVERY\",\"playbackRestrictionPolicyArn\":\"arn:aws:ivs:us-west-2:123456789012"
     ":playback-restriction-policy/Prp1\",\"multitrackInputConfiguration\":{\"enabled\""
     ":false,\"policy\":\"REQUIRE\",\"maximumResolution\":\"FULL_HD\"},\"containerForm"
     "at\":\"FRAGMENTED_MP4\",\"adConfigurationArn\":\"\"}",
     "POST", "/UpdateChannel", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234\",\"name\":\""
     "my-channel\",\"latencyMode\":\"LOW\",\"type\":\"ADVANCED_HD\",\"authorized\":fal"
     "se,\"recordingConfigurationArn\":\"arn:aws:ivs:us-west-2:123456789012:recording-"
     "configuration/Rc1\",\"insecureIngest\":false,\"preset\":\"CONSTRAINED_BANDWIDTH_"
     "DELIVERY\",\"playbackRestrictionPolicyArn\":\"arn:aws:ivs:us-west-2:123456789012"
     ":playback-restriction-policy/Prp1\",\"multitrackInputConfiguration\":{\"enabled\""
     ":false,\"policy\":\"REQUIRE\",\"maximumResolution\":\"FULL_HD\"},\"containerForm"
     "at\":\"FRAGMENTED_MP4\",\"adConfigurationArn\":\"\"}"},
    {"UpdatePlaybackRestrictionPolicy",
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/Prp1\""
     ",\"allowedCountries\":[\"US\"],\"allowedOrigins\":[\"https://example.com\"],\"en"
     "ableStrictOriginEnforcement\":false,\"name\":\"prp-1\"}",
     "POST", "/UpdatePlaybackRestrictionPolicy", NULL,
     "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/Prp1\""
     ",\"allowedCountries\":[\"US\"],\"allowedOrigins\":[\"https://example.com\"],\"en"
     "ableStrictOriginEnforcement\":false,\"name\":\"prp-1\"}"},
};

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void test_every_operation(void)
{
    size_t n = sizeof every_operation / sizeof every_operation[0];
    CHECK_INT_EQ(IVS->model->operation_count, n);
    for (size_t i = 0; i < n; i++) {
        const struct wire_case *c = &every_operation[i];
        const struct model_operation *op = model_find_operation(IVS, c->op);
        CHECK_MSG(op != NULL, "%s", c->op);
        if (!op)
            continue;
        CHECK_STR_EQ(IVS->model->operations[i].name, c->op); /* one case per op, in order */
        cJSON *input = cJSON_Parse(c->input);
        struct ivs_error err = {0};
        CHECK_MSG(model_validate(op, input, &err) == IVS_OK, "%s: %s", c->op,
                  err.message ? err.message : "");
        ivs_error_clear(&err);
        struct model_request r;
        enum ivs_status st = model_serialize(op, input, &r, &err);
        CHECK_MSG(st == IVS_OK, "%s: %s", c->op, err.message ? err.message : "");
        if (st == IVS_OK) {
            CHECK_STR_EQ(c->method, r.method);
            CHECK_STR_EQ(c->path, r.path);
            CHECK_MSG(same(c->query, r.query), "%s query: %s", c->op, r.query ? r.query : "(none)");
            CHECK_MSG(same(c->body, r.body), "%s body: %s", c->op, r.body ? r.body : "(none)");
            CHECK(!r.body || r.body_len == strlen(r.body));

            /* Round trip: the emulator's reading of the request gives the input back. */
            const struct model_operation *back = NULL;
            cJSON *again = NULL;
            st = model_deserialize_request(IVS, r.method, r.path, r.query, r.body,
                                           r.body ? r.body_len : 0, &back, &again, &err);
            CHECK_MSG(st == IVS_OK, "%s: %s", c->op, err.message ? err.message : "");
            CHECK(back == op);
            CHECK_MSG(again && cJSON_Compare(again, input, 1), "%s: round trip differs", c->op);
            cJSON_Delete(again);
        }
        ivs_error_clear(&err);
        model_request_cleanup(&r);
        cJSON_Delete(input);
    }
}

/* Serializes JSON text for an operation; the caller cleans up r. */
static enum ivs_status ser(const char *op_name, const char *json, struct model_request *r)
{
    cJSON *input = cJSON_Parse(json);
    CHECK_MSG(input != NULL, "bad test JSON %s", json);
    struct ivs_error err = {0};
    enum ivs_status st = model_serialize(model_find_operation(IVS, op_name), input, r, &err);
    ivs_error_clear(&err);
    cJSON_Delete(input);
    return st;
}

static void round_trip(const char *op_name, const char *json)
{
    struct model_request r;
    cJSON *input = cJSON_Parse(json);
    struct ivs_error err = {0};
    const struct model_operation *op = model_find_operation(IVS, op_name);
    CHECK(model_serialize(op, input, &r, &err) == IVS_OK);
    const struct model_operation *back = NULL;
    cJSON *again = NULL;
    CHECK(model_deserialize_request(IVS, r.method, r.path, r.query, r.body, r.body_len, &back,
                                    &again, &err) == IVS_OK);
    CHECK(back == op);
    CHECK_MSG(again && cJSON_Compare(again, input, 1), "round trip of %s", json);
    cJSON_Delete(again);
    cJSON_Delete(input);
    model_request_cleanup(&r);
    ivs_error_clear(&err);
}

static void test_tag_operations_with_nasty_values(void)
{
    struct model_request r;
    CHECK(ser("untag_resource",
              "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/a+b c\","
              "\"tagKeys\":[\"a b\",\"c+d\",\"e=f\",\"g/h\",\"caf\xC3\xA9\",\"x&y\",\"~_.-\"]}",
              &r) == IVS_OK);
    CHECK_STR_EQ("DELETE", r.method);
    CHECK_STR_EQ("/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2Fa%2Bb%20c", r.path);
    CHECK_STR_EQ("tagKeys=a%20b&tagKeys=c%2Bd&tagKeys=e%3Df&tagKeys=g%2Fh&tagKeys=caf%C3%A9"
                 "&tagKeys=x%26y&tagKeys=~_.-",
                 r.query);
    CHECK(r.body == NULL);
    model_request_cleanup(&r);

    CHECK(ser("tag_resource",
              "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:stream-key/K1\","
              "\"tags\":{\"a b\":\"1\",\"c+d\":\"\",\"\xE6\x97\xA5\xE6\x9C\xAC\":\"=/\"}}",
              &r) == IVS_OK);
    CHECK_STR_EQ("POST", r.method);
    CHECK_STR_EQ("/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astream-key%2FK1", r.path);
    CHECK(r.query == NULL);
    CHECK_STR_EQ("{\"tags\":{\"a b\":\"1\",\"c+d\":\"\",\"\xE6\x97\xA5\xE6\x9C\xAC\":\"=/\"}}",
                 r.body);
    model_request_cleanup(&r);

    /* An empty tagKeys list sends no query at all; an empty Lua table works the same. */
    CHECK(ser("untag_resource", "{\"resourceArn\":\"arn:x\",\"tagKeys\":{}}", &r) == IVS_OK);
    CHECK(r.query == NULL && r.body == NULL);
    CHECK_STR_EQ("/tags/arn%3Ax", r.path);
    model_request_cleanup(&r);

    round_trip("untag_resource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:1:channel/a+b c%\","
                                 "\"tagKeys\":[\"a b\",\"c+d\",\"caf\xC3\xA9\",\"%41\",\"\"]}");
    round_trip("tag_resource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:1:channel/x\","
                               "\"tags\":{\"a b\":\"c+d\"}}");
    round_trip("list_tags_for_resource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:1:channel/x\"}");
}

static void test_json_types(void)
{
    struct model_request r;
    /* Empty object where the shape is a list becomes []; [] where it is a map becomes {}. */
    CHECK(ser("create_playback_restriction_policy",
              "{\"allowedCountries\":{},\"allowedOrigins\":[],\"tags\":[],"
              "\"enableStrictOriginEnforcement\":false}",
              &r) == IVS_OK);
    CHECK_STR_EQ("{\"allowedCountries\":[],\"allowedOrigins\":[],"
                 "\"enableStrictOriginEnforcement\":false,\"tags\":{}}",
                 r.body);
    model_request_cleanup(&r);
    /* Integers stay integers, large ones too; null members are left out. */
    CHECK(ser("start_viewer_session_revocation",
              "{\"channelArn\":\"c\",\"viewerId\":\"v\","
              "\"viewerSessionVersionsLessThanOrEqualTo\":2000000000.0}",
              &r) == IVS_OK);
    CHECK_STR_EQ("{\"channelArn\":\"c\",\"viewerId\":\"v\","
                 "\"viewerSessionVersionsLessThanOrEqualTo\":2000000000}",
                 r.body);
    model_request_cleanup(&r);
    CHECK(ser("list_channels", "{\"maxResults\":50.0,\"nextToken\":null}", &r) == IVS_OK);
    CHECK_STR_EQ("{\"maxResults\":50}", r.body);
    model_request_cleanup(&r);
    /* Every POST sends an object, even with no parameters. */
    CHECK(ser("list_channels", "{}", &r) == IVS_OK);
    CHECK_STR_EQ("{}", r.body);
    CHECK_INT_EQ(2, r.body_len);
    model_request_cleanup(&r);
    CHECK(model_serialize(model_find_operation(IVS, "list_streams"), NULL, &r, NULL) == IVS_OK);
    CHECK_STR_EQ("{}", r.body);
    model_request_cleanup(&r);
    /* Unknown keys are not sent (validation reports them). */
    CHECK(ser("list_streams", "{\"bogus\":1}", &r) == IVS_OK);
    CHECK_STR_EQ("{}", r.body);
    model_request_cleanup(&r);
}

/* The body is written as text straight from the input: it must be byte for byte what cJSON
 * prints for the same values (escapes, number forms, nested values under a string member). */
static void test_body_prints_as_cjson_does(void)
{
    static const char *const values[] = {
        "\"a\\\"b\\\\c\\u0001\\n\\t\\u001f\\b\\f\\r caf\xC3\xA9 \xF0\x9F\x98\x80 \x7F/\"",
        "0.1",
        "0.3333333333333333",
        "1e300",
        "-2.5e-7",
        "2147483648",
        "-2147483649",
        "123456789.123",
        "9007199254740993",
        "true",
        "[1,\"x\",{\"k\":[]},false,null]",
        "{\"a\":{\"b\":\"\\u0002\"},\"\":{}}",
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char json[512];
        snprintf(json, sizeof json, "{\"tags\":{\"k\\\"e\\u0003y\":%s},\"name\":%s}", values[i],
                 values[i]);
        char model_order[512];
        snprintf(model_order, sizeof model_order, "{\"name\":%s,\"tags\":{\"k\\\"e\\u0003y\":%s}}",
                 values[i], values[i]);
        cJSON *tree = cJSON_Parse(model_order);
        char *expected = tree ? cJSON_PrintUnformatted(tree) : NULL;
        struct model_request r;
        CHECK_MSG(expected && ser("create_channel", json, &r) == IVS_OK, "%s", values[i]);
        if (expected && r.body) {
            CHECK_STR_EQ(expected, r.body);
            CHECK_INT_EQ(strlen(expected), r.body_len);
        }
        model_request_cleanup(&r);
        free(expected);
        cJSON_Delete(tree);
    }
    /* Values a parser never makes but a caller building a tree can: NaN and infinities print
     * as null, a raw value as its text. */
    cJSON *in = cJSON_CreateObject();
    cJSON_AddItemToObject(in, "name", cJSON_CreateNumber(NAN));
    cJSON *tags = cJSON_AddObjectToObject(in, "tags");
    cJSON_AddItemToObject(tags, "inf", cJSON_CreateNumber(-INFINITY));
    cJSON_AddItemToObject(tags, "raw", cJSON_CreateRaw("[1, 2]"));
    struct model_request r;
    CHECK(model_serialize(model_find_operation(IVS, "create_channel"), in, &r, NULL) == IVS_OK);
    CHECK_STR_EQ("{\"name\":null,\"tags\":{\"inf\":null,\"raw\":[1, 2]}}", r.body);
    model_request_cleanup(&r);
    cJSON_Delete(in);
}

/* model_serialize_into gives what model_serialize gives, from buffers reused call after call
 * (a long body, then a short one, then a path label and a query). */
static void test_serialize_into_reused_buffers(void)
{
    static const char *const cases[][2] = {
        {"create_channel", "{\"name\":\"a-long-channel-name-that-fills-the-buffer-well\","
                           "\"tags\":{\"k1\":\"v1\",\"k2\":\"v2\",\"k3\":\"v3\"}}"},
        {"get_channel", "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/x\"}"},
        {"untag_resource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/a b\","
                           "\"tagKeys\":[\"a\",\"b c\"]}"},
        {"list_tags_for_resource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:1:channel/y\"}"},
    };
    struct buf path = BUF_INIT, body = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct model_operation *op = model_find_operation(IVS, cases[i][0]);
        cJSON *input = cJSON_Parse(cases[i][1]);
        struct model_request own, into;
        CHECK_INT_EQ(IVS_OK, model_serialize(op, input, &own, NULL));
        CHECK_INT_EQ(IVS_OK, model_serialize_into(op, input, &into, &path, &body, NULL));
        CHECK(into.borrowed && into.path == path.data);
        CHECK_STR_EQ(own.method, into.method);
        CHECK_STR_EQ(own.path, into.path);
        CHECK(same(own.query, into.query));
        CHECK(same(own.body, into.body));
        CHECK_INT_EQ(own.body_len, into.body_len);
        model_request_cleanup(&own);
        model_request_cleanup(&into); /* releases the query only: the buffers stay the caller's */
        CHECK(path.data != NULL);
        cJSON_Delete(input);
    }
    buf_free(&path);
    buf_free(&body);
}

static void test_missing_uri_label(void)
{
    struct model_request r;
    struct ivs_error err = {0};
    cJSON *input = cJSON_Parse("{\"resourceArn\":\"\"}");
    CHECK(model_serialize(model_find_operation(IVS, "list_tags_for_resource"), input, &r, &err) ==
          IVS_ERR_VALIDATION);
    CHECK(err.message && strstr(err.message, "list_tags_for_resource: resourceArn:"));
    CHECK(r.path == NULL && r.body == NULL);
    ivs_error_clear(&err);
    cJSON_Delete(input);
    CHECK(model_serialize(model_find_operation(IVS, "list_tags_for_resource"), NULL, &r, &err) ==
          IVS_ERR_VALIDATION);
    ivs_error_clear(&err);
}

static void test_header_members(void)
{
    /* The client sends no header-bound input members: no operation of any service has one... */
    for (size_t s = 0; s < model_service_count; s++) {
        const struct model_service *svc = &model_services[s];
        for (size_t i = 0; i < svc->model->operation_count; i++) {
            const struct model_operation *op = &svc->model->operations[i];
            const struct model_shape *in = op->input;
            for (size_t k = 0; in && k < in->member_count; k++)
                CHECK_MSG(in->members[k].location != ML_HEADER, "%s: %s is bound to a header",
                          op->name, in->members[k].name);
        }
    }
    /* ...and a model that had one would fail loudly instead of dropping the value. Borrow an
     * error shape (its members are header-bound) as the input of a made-up operation. */
    const struct model_shape *shape = NULL;
    for (size_t i = 0; i < IVS->model->shape_count; i++)
        if (strcmp(IVS->model->shapes[i].name, "ValidationException") == 0)
            shape = &IVS->model->shapes[i];
    CHECK(shape != NULL);
    if (!shape)
        return;
    struct model_operation op = {.name = "Fake",
                                 .snake_name = "fake",
                                 .method = "GET",
                                 .uri = "/fake?x-id=Fake",
                                 .input = shape,
                                 .output = NULL,
                                 .success_status = 200};
    cJSON *input = cJSON_Parse("{\"xAmznErrorType\":\"ValidationException\","
                               "\"exceptionMessage\":\"hi\"}");
    struct model_request r;
    struct ivs_error err = {0};
    CHECK(model_serialize(&op, input, &r, &err) == IVS_ERR_INTERNAL);
    CHECK(err.message && strstr(err.message, "xAmznErrorType is bound to an HTTP header"));
    ivs_error_clear(&err);
    cJSON_Delete(input);
    input = cJSON_Parse("{\"exceptionMessage\":\"hi\"}");
    CHECK(model_serialize(&op, input, &r, NULL) == IVS_OK);
    CHECK_STR_EQ("{\"exceptionMessage\":\"hi\"}", r.body);
    model_request_cleanup(&r);
    cJSON_Delete(input);
}

/* StartComposition's idempotencyToken: filled with a fresh UUID v4 when not given (as botocore
 * does), kept when given. */
static void test_idempotency_token_is_filled_in(void)
{
    const struct model_service *rt = model_find_service("ivs-realtime");
    const struct model_operation *op = model_find_operation(rt, "StartComposition");
    CHECK(op != NULL);
    if (!op)
        return;
    cJSON *input = cJSON_Parse("{\"stageArn\":\"arn:aws:ivs:us-west-2:123456789012:stage/abc\","
                               "\"destinations\":[]}");
    struct model_request r1, r2;
    CHECK(model_serialize(op, input, &r1, NULL) == IVS_OK);
    CHECK(model_serialize(op, input, &r2, NULL) == IVS_OK);
    cJSON *b1 = cJSON_Parse(r1.body), *b2 = cJSON_Parse(r2.body);
    const char *t1 = cJSON_GetStringValue(cJSON_GetObjectItem(b1, "idempotencyToken"));
    const char *t2 = cJSON_GetStringValue(cJSON_GetObjectItem(b2, "idempotencyToken"));
    CHECK(t1 && t2 && strlen(t1) == 36 && strcmp(t1, t2) != 0);
    CHECK(t1 && t1[8] == '-' && t1[13] == '-' && t1[14] == '4' && t1[18] == '-' && t1[23] == '-' &&
          strchr("89ab", t1[19]) && strspn(t1, "0123456789abcdef-") == 36);
    cJSON_Delete(b1);
    cJSON_Delete(b2);
    model_request_cleanup(&r1);
    model_request_cleanup(&r2);
    cJSON_AddStringToObject(input, "idempotencyToken", "mine-1");
    CHECK(model_serialize(op, input, &r1, NULL) == IVS_OK);
    CHECK(r1.body && strstr(r1.body, "\"idempotencyToken\":\"mine-1\""));
    model_request_cleanup(&r1);
    cJSON_Delete(input);
}

static void test_deserialize_errors(void)
{
    const struct model_operation *op = (const void *)1;
    cJSON *input = (cJSON *)1;
    struct ivs_error err = {0};
    CHECK(model_deserialize_request(IVS, "POST", "/NoSuchOperation", NULL, "{}", 2, &op, &input,
                                    &err) == IVS_ERR_USAGE);
    CHECK_STR_EQ("UnknownOperation", err.code);
    CHECK(op == NULL && input == NULL);
    ivs_error_clear(&err);
    CHECK(model_deserialize_request(IVS, "PUT", "/tags/x", NULL, NULL, 0, &op, &input, &err) ==
          IVS_ERR_USAGE);
    ivs_error_clear(&err);
    CHECK(model_deserialize_request(IVS, "GET", "/tags/", NULL, NULL, 0, &op, &input, &err) ==
          IVS_ERR_USAGE);
    ivs_error_clear(&err);
    CHECK(model_deserialize_request(IVS, "GET", "/tags/a/b", NULL, NULL, 0, &op, &input, &err) ==
          IVS_ERR_USAGE);
    ivs_error_clear(&err);
    CHECK(model_deserialize_request(IVS, "POST", "/CreateChannel", NULL, "[1]", 3, &op, &input,
                                    &err) == IVS_ERR_VALIDATION);
    CHECK(err.message && strstr(err.message, "JSON object"));
    ivs_error_clear(&err);
    CHECK(model_deserialize_request(IVS, "POST", "/CreateChannel", NULL, "{\"a\":", 5, &op, &input,
                                    &err) == IVS_ERR_VALIDATION);
    ivs_error_clear(&err);
    CHECK(model_deserialize_request(IVS, "POST", "/CreateChannel", NULL, "{} x", 4, &op, &input,
                                    &err) == IVS_ERR_VALIDATION);
    ivs_error_clear(&err);
    /* Empty body = no parameters; the query may ride on the path. */
    CHECK(model_deserialize_request(IVS, "POST", "/CreateChannel", NULL, "", 0, &op, &input,
                                    &err) == IVS_OK);
    CHECK(op == model_find_operation(IVS, "CreateChannel"));
    CHECK(cJSON_IsObject(input) && input->child == NULL);
    cJSON_Delete(input);
    CHECK(model_deserialize_request(IVS, "DELETE",
                                    "/tags/arn%3Ax?tagKeys=a+b&tagKeys=c%2Bd&other=1", NULL, NULL,
                                    0, &op, &input, &err) == IVS_OK);
    char *text = cJSON_PrintUnformatted(input);
    CHECK_STR_EQ("{\"resourceArn\":\"arn:x\",\"tagKeys\":[\"a b\",\"c+d\"]}", text);
    free(text);
    cJSON_Delete(input);
    ivs_error_clear(&err);
}

/* ---- Live comparison with botocore ------------------------------------------------------ */

static void add_query_param(cJSON *q, const char *name, size_t nlen, const char *val, size_t vlen)
{
    char *n = malloc(nlen + 1), *v = malloc(vlen + 1);
    size_t o = 0;
    for (size_t i = 0; i < nlen; i++) {
        unsigned x;
        if (name[i] == '%' && i + 2 < nlen && sscanf(name + i + 1, "%2x", &x) == 1) {
            n[o++] = (char)x;
            i += 2;
        } else {
            n[o++] = name[i];
        }
    }
    n[o] = 0;
    o = 0;
    for (size_t i = 0; i < vlen; i++) {
        unsigned x;
        if (val[i] == '%' && i + 2 < vlen && sscanf(val + i + 1, "%2x", &x) == 1) {
            v[o++] = (char)x;
            i += 2;
        } else {
            v[o++] = val[i];
        }
    }
    v[o] = 0;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(q, n);
    if (!list)
        list = cJSON_AddArrayToObject(q, n);
    cJSON_AddItemToArray(list, cJSON_CreateString(v));
    free(n);
    free(v);
}

/* Our wire query as {name: [decoded values]}, botocore's shape for it. */
static cJSON *parse_our_query(const char *q)
{
    cJSON *obj = cJSON_CreateObject();
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t nlen = eq ? (size_t)(eq - q) : len;
        add_query_param(obj, q, nlen, eq ? eq + 1 : "", eq ? len - nlen - 1 : 0);
        q += len + (amp ? 1 : 0);
    }
    return obj;
}

static void compare_with_botocore(cJSON *cases, const char *model_path)
{
    char in_path[] = "/tmp/ivs-oracle-in-XXXXXX";
    int fd = mkstemp(in_path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    char *text = cJSON_PrintUnformatted(cases);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    free(text);
    const char *root = harness_root();
    size_t need = strlen(root) + strlen(model_path) + strlen(in_path) + 128;
    char *cmd = malloc(need);
    snprintf(cmd, need, "python3 '%s/tests/oracle/botocore_serialize.py' '%s' < '%s'", root,
             model_path, in_path);
    FILE *p = popen(cmd, "r");
    free(cmd);
    struct {
        char *d;
        size_t n, cap;
    } out = {NULL, 0, 0};
    char chunk[4096];
    size_t got;
    while (p && (got = fread(chunk, 1, sizeof chunk, p)) > 0) {
        if (out.n + got + 1 > out.cap) {
            out.cap = (out.n + got + 1) * 2;
            out.d = realloc(out.d, out.cap);
        }
        memcpy(out.d + out.n, chunk, got);
        out.n += got;
        out.d[out.n] = 0;
    }
    int rc = p ? pclose(p) : -1;
    unlink(in_path);
    CHECK_MSG(rc == 0 && out.d, "oracle failed (status %d)", rc);
    cJSON *answers = out.d ? cJSON_Parse(out.d) : NULL;
    free(out.d);
    CHECK_INT_EQ(cJSON_GetArraySize(cases), cJSON_GetArraySize(answers));
    int i = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const cJSON *want = cJSON_GetArrayItem(answers, i++);
        if (!want)
            break;
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "operation")->valuestring;
        const cJSON *input = cJSON_GetObjectItemCaseSensitive(c, "input");
        struct model_request r;
        if (model_serialize(model_find_operation(IVS, name), input, &r, NULL) != IVS_OK) {
            CHECK_MSG(0, "%s: serialize failed", name);
            continue;
        }
        CHECK_STR_EQ(cJSON_GetObjectItemCaseSensitive(want, "method")->valuestring, r.method);
        /* botocore encodes labels exactly as we do (every byte outside the unreserved set). */
        CHECK_STR_EQ(cJSON_GetObjectItemCaseSensitive(want, "path")->valuestring, r.path);
        cJSON *ours = parse_our_query(r.query);
        CHECK_MSG(cJSON_Compare(ours, cJSON_GetObjectItemCaseSensitive(want, "query"), 1),
                  "%s: query differs: %s", name, r.query ? r.query : "(none)");
        cJSON_Delete(ours);
        const cJSON *wb = cJSON_GetObjectItemCaseSensitive(want, "body");
        if (cJSON_IsString(wb)) {
            cJSON *a = cJSON_Parse(wb->valuestring);
            cJSON *b = r.body ? cJSON_Parse(r.body) : NULL;
            CHECK_MSG(a && b && cJSON_Compare(a, b, 1), "%s: body differs: ours %s, botocore %s",
                      name, r.body ? r.body : "(none)", wb->valuestring);
            cJSON_Delete(a);
            cJSON_Delete(b);
        } else {
            CHECK_MSG(r.body == NULL, "%s: we send a body botocore does not: %s", name, r.body);
        }
        model_request_cleanup(&r);
    }
    cJSON_Delete(answers);
}

static void test_against_botocore(void)
{
    static const char rel[] = "/../shared/ivs/ivs-2020-07-14.model.json";
    const char *root = harness_root();
    char *model_path = malloc(strlen(root) + sizeof rel);
    sprintf(model_path, "%s%s", root, rel);
    if (access(model_path, R_OK) != 0) {
        free(model_path);
        SKIP("../shared/ivs/ivs-2020-07-14.model.json not available");
    }
    if (system("python3 -c 'import botocore' >/dev/null 2>&1") != 0) {
        free(model_path);
        SKIP("python3 with botocore not available");
    }
    cJSON *cases = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof every_operation / sizeof every_operation[0]; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "operation", every_operation[i].op);
        cJSON_AddItemToObject(c, "input", cJSON_Parse(every_operation[i].input));
        cJSON_AddItemToArray(cases, c);
    }
    /* The nasty ones. */
    static const char *const extra[][2] = {
        {"UntagResource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:123456789012:channel/a+b c\","
                          "\"tagKeys\":[\"a b\",\"c+d\",\"e=f\",\"g/h\",\"caf\xC3\xA9\",\"x&y\","
                          "\"~_.-\",\"\xE6\x97\xA5\"]}"},
        {"TagResource", "{\"resourceArn\":\"arn:aws:ivs:eu-west-1:1:playback-key/K\","
                        "\"tags\":{\"a b\":\"1\",\"c+d\":\"\",\"\xCE\x95\":\"=/\"}}"},
        {"ListTagsForResource", "{\"resourceArn\":\"arn:aws:ivs:us-west-2:1:channel/%41?#\"}"},
        {"CreateChannel", "{}"},
        {"ListChannels", "{\"maxResults\":100}"},
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "operation", extra[i][0]);
        cJSON_AddItemToObject(c, "input", cJSON_Parse(extra[i][1]));
        cJSON_AddItemToArray(cases, c);
    }
    compare_with_botocore(cases, model_path);
    cJSON_Delete(cases);
    free(model_path);
}

int main(void)
{
    RUN(test_every_operation);
    RUN(test_tag_operations_with_nasty_values);
    RUN(test_json_types);
    RUN(test_body_prints_as_cjson_does);
    RUN(test_serialize_into_reused_buffers);
    RUN(test_missing_uri_label);
    RUN(test_header_members);
    RUN(test_idempotency_token_is_filled_in);
    RUN(test_deserialize_errors);
    RUN(test_against_botocore);
    return harness_finish();
}
