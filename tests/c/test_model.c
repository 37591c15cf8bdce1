/* test_model.c: the generated tables of every service (against models/ and ../shared),
 * lookups, the regex matcher and the timestamp helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "harness.h"
#include "model.h"
#include "pattern.h"
#include "timeutil.h"

static const struct model_service *svc_named(const char *name)
{
    const struct model_service *svc = model_find_service(name);
    CHECK_MSG(svc != NULL, "service %s missing", name);
    return svc;
}

/* A model file of a service: "models/ivs/ivs-2020-07-14.model.json" under the repository
 * (`repo` 1) or "../shared/ivs/..." beside it (`repo` 0). */
static char *model_file_path(const struct model_service *svc, int repo)
{
    const char *root = harness_root();
    size_t need = strlen(root) + 2 * strlen(svc->name) + 64;
    char *p = malloc(need);
    if (p)
        snprintf(p, need, "%s/%s/%s/%s-%s.model.json", root, repo ? "models" : "../shared",
                 svc->name, svc->name, svc->model->api_version);
    return p;
}

static cJSON *load_model(const struct model_service *svc, int repo)
{
    char *path = model_file_path(svc, repo);
    char *text = path ? harness_read_file(path, NULL) : NULL;
    free(path);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static const struct model_shape *find_shape(const struct model_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->model->shape_count; i++)
        if (strcmp(svc->model->shapes[i].name, name) == 0)
            return &svc->model->shapes[i];
    return NULL;
}

static void test_services_table(void)
{
    /* name, endpoint prefix, signing name, env name, config key, operations */
    static const struct {
        const char *name, *prefix, *signing, *env, *key;
        size_t ops;
    } want[] = {
        {"ivs", "ivs", "ivs", "IVS", "ivs", 41},
        {"ivs-realtime", "ivsrealtime", "ivs", "IVS_REALTIME", "ivs_realtime", 39},
        {"ivschat", "ivschat", "ivschat", "IVSCHAT", "ivschat", 17},
    };
    CHECK_INT_EQ(3, model_service_count);
    for (size_t i = 0; i < 3 && i < model_service_count; i++) {
        const struct model_service *svc = &model_services[i];
        CHECK_STR_EQ(want[i].name, svc->name);
        CHECK_STR_EQ(want[i].prefix, svc->endpoint_prefix);
        CHECK_STR_EQ(want[i].signing, svc->signing_name);
        CHECK_STR_EQ(want[i].env, svc->env_name);
        CHECK_STR_EQ(want[i].key, svc->config_key);
        CHECK_INT_EQ(want[i].ops, svc->model->operation_count);
        CHECK_STR_EQ("2020-07-14", svc->model->api_version);
        CHECK(svc->fips && svc->dualstack);
        CHECK(svc->model->shape_count > 90);
        CHECK(model_find_service(want[i].name) == svc);
    }
    CHECK(model_find_service("ivsrealtime") == NULL); /* the endpoint prefix is not a name */
    CHECK(model_find_service("IVS") == NULL);
    CHECK(model_find_service(NULL) == NULL);
    CHECK(model_default_service() == model_find_service("ivs"));
    CHECK_STR_EQ("IVS RealTime", model_find_service("ivs-realtime")->service_id);
}

static void test_operations_sorted_and_unique(void)
{
    for (size_t k = 0; k < model_service_count; k++) {
        const struct model_tables *t = model_services[k].model;
        for (size_t i = 1; i < t->operation_count; i++)
            CHECK_MSG(strcmp(t->operations[i - 1].name, t->operations[i].name) < 0, "%s before %s",
                      t->operations[i - 1].name, t->operations[i].name);
        for (size_t i = 0; i < t->shape_count; i++) {
            CHECK_INT_EQ(i, t->shapes[i].index);
            if (i)
                CHECK(strcmp(t->shapes[i - 1].name, t->shapes[i].name) < 0);
        }
        for (size_t i = 1; i < t->operation_count; i++) {
            const struct model_operation *a = &t->operations[t->operations_by_snake_name[i - 1]];
            const struct model_operation *b = &t->operations[t->operations_by_snake_name[i]];
            CHECK(strcmp(a->snake_name, b->snake_name) < 0);
        }
    }
}

/* Every operation of every service carries its one-line summary (models/<service>/summaries.json):
 * one line, a sentence ending with a period, short enough for `ivs help`. */
static void test_operation_summaries(void)
{
    for (size_t k = 0; k < model_service_count; k++) {
        const struct model_tables *t = model_services[k].model;
        for (size_t i = 0; i < t->operation_count; i++) {
            const char *s = t->operations[i].summary;
            CHECK_MSG(s != NULL && *s != '\0', "%s %s has no summary", model_services[k].name,
                      t->operations[i].name);
            if (!s || !*s)
                continue;
            size_t n = strlen(s);
            CHECK_MSG(s[n - 1] == '.' && n <= 150 && !strchr(s, '\n'), "%s: \"%s\"",
                      t->operations[i].name, s);
        }
    }
}

static void test_snake_names(void)
{
    const struct model_service *ivs = svc_named("ivs");
    static const char *const pairs[][2] = {
        {"CreateChannel", "create_channel"},
        {"BatchGetStreamKey", "batch_get_stream_key"},
        {"ListTagsForResource", "list_tags_for_resource"},
        {"BatchStartViewerSessionRevocation", "batch_start_viewer_session_revocation"},
        {"ListPlaybackRestrictionPolicies", "list_playback_restriction_policies"},
        {"InsertAdBreak", "insert_ad_break"},
        {"UpdateAdConfiguration", "update_ad_configuration"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const struct model_operation *a = model_find_operation(ivs, pairs[i][0]);
        const struct model_operation *b = model_find_operation(ivs, pairs[i][1]);
        CHECK_MSG(a && b && a == b, "lookup of %s / %s", pairs[i][0], pairs[i][1]);
        if (a)
            CHECK_STR_EQ(pairs[i][1], a->snake_name);
    }
    for (size_t k = 0; k < model_service_count; k++) {
        const struct model_service *svc = &model_services[k];
        for (size_t i = 0; i < svc->model->operation_count; i++) {
            const struct model_operation *op = &svc->model->operations[i];
            CHECK(model_find_operation(svc, op->name) == op);
            CHECK(model_find_operation(svc, op->snake_name) == op);
            /* snake names are lower case with single underscores */
            for (const char *c = op->snake_name; *c; c++)
                CHECK((*c >= 'a' && *c <= 'z') || (*c == '_' && c[1] != '_'));
        }
    }
    const struct model_service *rt = svc_named("ivs-realtime");
    const struct model_operation *op = model_find_operation(rt, "CreateParticipantToken");
    CHECK(op && strcmp(op->snake_name, "create_participant_token") == 0);
    CHECK(model_find_operation(ivs, "CreateParticipantToken") == NULL); /* scoped per service */
    CHECK(model_find_operation(svc_named("ivschat"), "create_chat_token") != NULL);
    CHECK(model_find_operation(ivs, "NoSuchThing") == NULL);
    CHECK(model_find_operation(ivs, "createchannel") == NULL);
    CHECK(model_find_operation(ivs, "") == NULL);
    CHECK(model_find_operation(ivs, NULL) == NULL);
    CHECK(model_find_operation(NULL, "CreateChannel") == NULL);
}

static void test_operation_details(void)
{
    const struct model_service *ivs = svc_named("ivs");
    const struct model_operation *op = model_find_operation(ivs, "UntagResource");
    CHECK(op != NULL);
    if (!op)
        return;
    CHECK_STR_EQ("DELETE", op->method);
    CHECK_STR_EQ("/tags/{resourceArn}", op->uri);
    CHECK(op->idempotent);
    const struct model_shape *in = op->input;
    const struct model_member *m = model_find_member(in, "tagKeys");
    CHECK(m && m->location == ML_QUERY && m->required);
    if (m)
        CHECK_STR_EQ("tagKeys", m->location_name);
    m = model_find_member(in, "resourceArn");
    CHECK(m && m->location == ML_URI);
    CHECK(model_find_member(in, "nope") == NULL);

    op = model_find_operation(ivs, "DeleteChannel");
    CHECK(op && op->success_status == 204 && op->output == NULL);
    op = model_find_operation(ivs, "StartViewerSessionRevocation");
    CHECK(op && op->readonly_);
    op = model_find_operation(ivs, "CreateChannel");
    CHECK(op && !op->readonly_ && op->success_status == 200 && op->error_count == 5);
    for (size_t k = 0; k < model_service_count; k++) {
        const struct model_tables *t = model_services[k].model;
        for (size_t i = 0; i < t->operation_count; i++) {
            op = &t->operations[i];
            CHECK_MSG(op->input != NULL, "%s has no input", op->name);
            for (size_t e = 0; e < op->error_count; e++)
                CHECK(op->errors[e]->is_error);
        }
    }
    const struct model_shape *sq = find_shape(ivs, "ServiceQuotaExceededException");
    CHECK(sq && sq->error_status == 402);
    sq = find_shape(svc_named("ivs-realtime"), "ServiceQuotaExceededException");
    CHECK(sq && sq->error_status == 402);
    /* Real-Time's two replication calls answer with header-bound output members only. */
    op = model_find_operation(svc_named("ivs-realtime"), "StartParticipantReplication");
    CHECK(op && op->output && op->output->member_count == 7 &&
          op->output->members[0].location == ML_HEADER);
}

static void test_pagination_from_shapes(void)
{
    static const char *const expected[][2] = {
        {"ListAdConfigurations", "adConfigurations"},
        {"ListChannels", "channels"},
        {"ListPlaybackKeyPairs", "keyPairs"},
        {"ListPlaybackRestrictionPolicies", "playbackRestrictionPolicies"},
        {"ListRecordingConfigurations", "recordingConfigurations"},
        {"ListStreamKeys", "streamKeys"},
        {"ListStreamSessions", "streamSessions"},
        {"ListStreams", "streams"},
    };
    const struct model_service *ivs = svc_named("ivs");
    size_t n = 0;
    for (size_t i = 0; i < ivs->model->operation_count; i++) {
        const struct model_operation *op = &ivs->model->operations[i];
        if (!op->paginated) {
            CHECK(op->result_key == NULL);
            continue;
        }
        CHECK_MSG(n < 8, "unexpected paginated operation %s", op->name);
        if (n < 8) {
            CHECK_STR_EQ(expected[n][0], op->name);
            CHECK_STR_EQ(expected[n][1], op->result_key);
        }
        n++;
    }
    CHECK_INT_EQ(8, n);
    const struct model_operation *lt = model_find_operation(ivs, "ListTagsForResource");
    CHECK(lt && !lt->paginated);
    /* Chat has no botocore paginators at all, yet its two List calls page. */
    size_t want[] = {8, 10, 2}; /* ivs, ivs-realtime, ivschat */
    for (size_t k = 0; k < model_service_count && k < 3; k++) {
        const struct model_service *svc = &model_services[k];
        n = 0;
        for (size_t i = 0; i < svc->model->operation_count; i++)
            n += svc->model->operations[i].paginated;
        CHECK_MSG(n == want[k], "%s: %zu paginated operations", svc->name, n);
        /* Where botocore has a paginator, it agrees with the shapes. */
        for (size_t i = 0; i < svc->model->paginator_count; i++) {
            const struct model_paginator *p = &svc->model->paginators[i];
            const struct model_operation *op = model_find_operation(svc, p->operation);
            CHECK_MSG(op && op->paginated, "%s: paginator %s", svc->name, p->operation);
            if (op && op->result_key && p->result_key)
                CHECK_STR_EQ(p->result_key, op->result_key);
            CHECK(p->input_token && strcmp(p->input_token, "nextToken") == 0);
            CHECK(p->output_token && strcmp(p->output_token, "nextToken") == 0);
            CHECK(model_find_paginator(svc, p->operation) == p);
        }
    }
    CHECK_INT_EQ(0, svc_named("ivschat")->model->paginator_count);
    CHECK_INT_EQ(3, svc_named("ivs-realtime")->model->paginator_count);
    CHECK(model_find_paginator(ivs, "GetChannel") == NULL);
}

/* ARNs in the formats the services really use (../shared/<service>/SERVICE-BEHAVIOUR.md:
 * arn:aws:<service>:<region>:<account>:<type>/<12 alphanumerics>), one per resource type. */
static const char *const real_arns[] = {
    "arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234",
    "arn:aws:ivs:us-west-2:123456789012:stream-key/g1H2I3j4k5L6",
    "arn:aws:ivs:us-west-2:123456789012:playback-key/f99cde61c2b0",
    "arn:aws:ivs:us-west-2:123456789012:recording-configuration/SGZkQ04U7B6h",
    "arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/ABcdef34ghIJ",
    "arn:aws:ivs:us-west-2:123456789012:ad-configuration/ABcdef34ghIJ",
    "arn:aws:ivs:us-west-2:123456789012:stage/8h86yWuvnf17",
    "arn:aws:ivs:us-west-2:123456789012:public-key/YFHfoNuk1NyV",
    "arn:aws:ivs:us-west-2:123456789012:encoder-configuration/PAAwglkRtjge",
    "arn:aws:ivs:us-west-2:123456789012:storage-configuration/ZBcEbgbE24Cq",
    "arn:aws:ivs:us-west-2:123456789012:composition/s2AdaGUbvQgp",
    "arn:aws:ivs:us-west-2:123456789012:ingest-configuration/AbCdEfGh1234",
    "arn:aws:ivschat:us-west-2:123456789012:room/g1H2I3j4k5L6",
    "arn:aws:ivschat:us-west-2:123456789012:logging-configuration/ABcdef34ghIJ",
    "arn:aws:lambda:us-west-2:123456789012:function:review-handler",
    "arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/my-config",
};

/* The resource type of an ARN ("channel/", "function:") and its "arn:aws:<service>:" head. */
static void arn_parts(const char *arn, char *head, size_t head_size, char *type, size_t type_size)
{
    const char *svc_end = strchr(arn + 8, ':');
    snprintf(head, head_size, "%.*s", (int)(svc_end - arn + 1), arn);
    const char *p = arn;
    for (int colons = 0; colons < 5; p++)
        colons += *p == ':';
    size_t n = strcspn(p, "/:");
    snprintf(type, type_size, "%.*s", (int)n + 1, p);
}

/*
 * Finds every broken ARN pattern of every service, generically: a pattern that names resource
 * types ("...:channel/...") must match a real ARN of one of them; one that names none (the
 * generic ResourceArn) must match a real ARN of its service. A pattern that matches none of
 * its ARNs would make the client reject valid input, so it must be one that the generator
 * lists as unenforced (MP_NONE); and every other pattern must be enforced. This fails when
 * a new model breaks or fixes a pattern and scripts/gen-model.lua's list was not updated.
 */
static void test_broken_arn_patterns_are_exactly_the_unenforced_ones(void)
{
    size_t broken = 0;
    size_t narns = sizeof real_arns / sizeof real_arns[0];
    for (size_t k = 0; k < model_service_count; k++) {
        const struct model_service *svc = &model_services[k];
        for (size_t i = 0; i < svc->model->shape_count; i++) {
            const struct model_shape *s = &svc->model->shapes[i];
            if (!s->pattern)
                continue;
            if (!strstr(s->pattern, "arn:")) {
                CHECK_MSG(s->pattern_mode == MP_SEARCH, "%s %s: pattern not enforced", svc->name,
                          s->name);
                continue;
            }
            int names_type = 0, candidates = 0, matched = 0;
            char head[64], type[64];
            for (size_t a = 0; a < narns; a++) {
                arn_parts(real_arns[a], head, sizeof head, type, sizeof type);
                names_type |= strstr(s->pattern, head) && strstr(s->pattern, type);
            }
            for (size_t a = 0; a < narns; a++) {
                arn_parts(real_arns[a], head, sizeof head, type, sizeof type);
                if (!strstr(s->pattern, head) || (names_type && !strstr(s->pattern, type)))
                    continue;
                candidates++;
                matched += pattern_search(s->pattern, real_arns[a], strlen(real_arns[a])) == 1;
            }
            CHECK_MSG(candidates > 0, "%s %s: no real ARN to try %s on", svc->name, s->name,
                      s->pattern);
            int is_broken = candidates > 0 && matched == 0;
            broken += is_broken;
            CHECK_MSG(is_broken == (s->pattern_mode == MP_NONE),
                      "%s %s: pattern %s %s real ARNs but is %s", svc->name, s->name, s->pattern,
                      is_broken ? "rejects" : "accepts",
                      s->pattern_mode == MP_NONE ? "not enforced" : "enforced");
            if (is_broken) {
                /* Not enforced, so the client accepts what the service really uses. */
                for (size_t a = 0; a < narns; a++)
                    CHECK(model_pattern_match(s, real_arns[a], strlen(real_arns[a])) == 1);
            }
        }
    }
    CHECK_INT_EQ(3, broken); /* the ResourceArn of each service */
}

static void test_patterns_compile(void)
{
    int enforced = 0;
    for (size_t k = 0; k < model_service_count; k++) {
        const struct model_tables *t = model_services[k].model;
        for (size_t i = 0; i < t->shape_count; i++) {
            const struct model_shape *s = &t->shapes[i];
            if (!s->pattern)
                continue;
            const char *why = NULL;
            CHECK_MSG(pattern_check(s->pattern, &why) == 0, "%s: %s: %s", s->name, s->pattern,
                      why ? why : "?");
            enforced += s->pattern_mode == MP_SEARCH;
        }
    }
    CHECK(enforced >= 60);
}

static void test_pattern_cache_across_services(void)
{
    struct model_pattern_cache *cache = model_pattern_cache_new();
    CHECK(cache != NULL);
    if (!cache)
        return;
    const struct model_shape *stage = find_shape(svc_named("ivs-realtime"), "StageArn");
    const struct model_shape *room = find_shape(svc_named("ivschat"), "RoomArn");
    const struct model_shape *chan = find_shape(svc_named("ivs"), "ChannelArn");
    const char *sa = "arn:aws:ivs:us-west-2:123456789012:stage/8h86yWuvnf17";
    const char *ra = "arn:aws:ivschat:us-west-2:123456789012:room/g1H2I3j4k5L6";
    for (int round = 0; round < 3; round++) {
        CHECK_INT_EQ(1, model_pattern_match_cached(cache, stage, sa, strlen(sa)));
        CHECK_INT_EQ(0, model_pattern_match_cached(cache, stage, ra, strlen(ra)));
        CHECK_INT_EQ(1, model_pattern_match_cached(cache, room, ra, strlen(ra)));
        CHECK_INT_EQ(0, model_pattern_match_cached(cache, chan, sa, strlen(sa)));
    }
    CHECK_INT_EQ(3, model_pattern_cache_compilations(cache));
    /* Many shapes: the table grows and keeps every compiled pattern. */
    size_t patterns = 3;
    for (size_t k = 0; k < model_service_count; k++) {
        const struct model_tables *t = model_services[k].model;
        for (size_t i = 0; i < t->shape_count; i++) {
            const struct model_shape *s = &t->shapes[i];
            if (s->pattern_mode != MP_SEARCH || s == stage || s == room || s == chan)
                continue;
            model_pattern_match_cached(cache, s, "x", 1);
            patterns++;
        }
    }
    CHECK_INT_EQ(patterns, model_pattern_cache_compilations(cache));
    CHECK_INT_EQ(1, model_pattern_match_cached(cache, stage, sa, strlen(sa)));
    CHECK_INT_EQ(patterns, model_pattern_cache_compilations(cache));
    model_pattern_cache_free(cache);
}

/* Searches with the one-shot and the compiled entry points and insists they agree, so every
 * pattern case below covers both. A compiled pattern is matched twice: matching must not
 * change it. The pattern is also padded with an alternative that always matches empty and is
 * too long for the bit-set matcher, so the general matcher must agree on every case too. */
static int search(const char *pattern, const char *s)
{
    int once = pattern_search(pattern, s, strlen(s));
    struct pattern *p = NULL;
    if (pattern_compile(pattern, &p, NULL) == 0) {
        char padded[512];
        snprintf(padded, sizeof padded, "(?:%s)(?:z{70}|)", pattern);
        CHECK_MSG(pattern_search(padded, s, strlen(s)) == once, "%s on \"%s\": long form differs",
                  pattern, s);
        CHECK_MSG(pattern_match(p, s, strlen(s)) == once, "%s on \"%s\": compiled differs", pattern,
                  s);
        CHECK_MSG(pattern_match(p, s, strlen(s)) == once, "%s on \"%s\": second match differs",
                  pattern, s);
    } else {
        CHECK_MSG(once == -1, "%s: compiles for pattern_search only", pattern);
    }
    pattern_free(p);
    return once;
}

static void test_pattern_compile_api(void)
{
    struct pattern *p = (struct pattern *)&p; /* must be reset on failure */
    const char *why = NULL;
    CHECK_INT_EQ(-1, pattern_compile("(abc", &p, &why));
    CHECK(p == NULL);
    CHECK(why != NULL && *why);
    CHECK_INT_EQ(-1, pattern_match(NULL, "abc", 3));
    pattern_free(NULL);

    /* The compiled form does not point into the pattern text. */
    char text[] = "^a[0-9]+z$";
    CHECK_INT_EQ(0, pattern_compile(text, &p, &why));
    CHECK(why == NULL);
    memset(text, 'x', sizeof text - 1);
    CHECK_INT_EQ(1, pattern_match(p, "a123z", 5));
    CHECK_INT_EQ(0, pattern_match(p, "a12", 3));
    CHECK_INT_EQ(0, pattern_match(p, "a1z\xff", 4)); /* not UTF-8 */
    pattern_free(p);

    /* A program too long for the matcher's stack scratch space takes the allocated path. */
    CHECK_INT_EQ(0, pattern_compile("^(ab|cd){40,60}$", &p, &why));
    char subject[200] = "";
    for (int i = 0; i < 50; i++)
        strcat(subject, i % 2 ? "ab" : "cd");
    CHECK_INT_EQ(1, pattern_match(p, subject, strlen(subject)));
    CHECK_INT_EQ(0, pattern_match(p, subject, 30));
    pattern_free(p);
}

static void test_pattern_unicode_tags(void)
{
    const char *tag = "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)";
    const char *anchored = "^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+$";
    static const char *const good[] = {
        "env",
        "café",
        "é",
        "日本語",
        "Ελληνικά",
        ("a\xC2\xA0"
         "b") /* U+00A0 no-break space */,
        "\xD9\xA0\xD9\xA1\xD9\xA2" /* Arabic-Indic digits 0 1 2 */,
        "key:with/=+-@._",
        "a b",
        "\xE2\x80\x83" /* U+2003 em space (Zs) */,
        "\xE2\x85\xA0" /* U+2160 roman numeral (Nl) */,
        "\xF0\x9D\x90\x80" /* U+1D400 mathematical bold A (L, 4 bytes) */,
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_MSG(search(tag, good[i]) == 1, "tag pattern rejects %s", good[i]);
        CHECK_MSG(search(anchored, good[i]) == 1, "anchored tag pattern rejects %s", good[i]);
    }
    static const char *const bad[] = {
        "\xF0\x9F\x98\x80" /* U+1F600 emoji */, "\x01", "\t", "#", "\xE2\x82\xAC" /* euro (Sc) */,
        "\xF0\x9F\x98\x80\xF0\x9F\x8E\x89",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(search(tag, bad[i]) == 0, "tag pattern accepts bad value %zu", i);
    /* Search semantics: an unanchored + class only needs one good character... */
    CHECK_INT_EQ(1, search(tag, "ok\xF0\x9F\x98\x80"));
    /* ...while an anchored one needs them all. */
    CHECK_INT_EQ(0, search(anchored, "ok\xF0\x9F\x98\x80"));
    CHECK_INT_EQ(0, search(anchored, "ok\x01"));
    CHECK(pattern_unicode_is('L', 0x65E5));
    CHECK(pattern_unicode_is('N', 0x0661));
    CHECK(pattern_unicode_is('Z', 0x00A0));
    CHECK(!pattern_unicode_is('L', 0x1F600));
    CHECK(pattern_unicode_is('L', 0x4E00) && pattern_unicode_is('L', 0x9FFF)); /* a CJK range */
    CHECK(pattern_unicode_is('L', 0xAC00) && pattern_unicode_is('L', 0xD7A3)); /* Hangul range */
}

static void test_pattern_constructs(void)
{
    CHECK_INT_EQ(1, search("st-[a-zA-Z0-9]+", "st-1AbC"));
    CHECK_INT_EQ(1, search("st-[a-zA-Z0-9]+", "xx st-1 yy")); /* unanchored */
    CHECK_INT_EQ(0, search("st-[a-zA-Z0-9]+", "st-"));
    CHECK_INT_EQ(0, search("^st-[a-z]+$", "xst-ab"));
    /* The empty-string-or-ARN form. */
    const char *p = "^$|^arn:aws:ivs:[a-z0-9-]+:[0-9]+:recording-configuration/[a-zA-Z0-9-]+$";
    CHECK_INT_EQ(1, search(p, ""));
    CHECK_INT_EQ(1, search(p, "arn:aws:ivs:us-west-2:123456789012:recording-configuration/AbC12"));
    CHECK_INT_EQ(0, search(p, "arn:aws:ivs:us-west-2:123456789012:channel/AbC12"));
    CHECK_INT_EQ(0, search(p, " "));
    /* '-' literal after a range and at the end; '.' literal inside a class. */
    CHECK_INT_EQ(1, search("^[a-z0-9-.]+$", "my-bucket.name"));
    CHECK_INT_EQ(0, search("^[a-z0-9-.]+$", "My_bucket"));
    CHECK_INT_EQ(1, search("^[a-zA-Z0-9+/=_-]*$", "abc+/=_-"));
    CHECK_INT_EQ(0, search("^[a-zA-Z0-9+/=_-]*$", "abc!"));
    /* Quantifiers, groups, alternation, escapes, negation, dot. */
    CHECK_INT_EQ(1, search("^a{2,3}$", "aaa"));
    CHECK_INT_EQ(0, search("^a{2,3}$", "aaaa"));
    CHECK_INT_EQ(0, search("^a{2,3}$", "a"));
    CHECK_INT_EQ(1, search("^a{2}$", "aa"));
    CHECK_INT_EQ(1, search("^a{2,}$", "aaaaa"));
    CHECK_INT_EQ(1, search("^(ab|cd)+e?$", "abcdab"));
    CHECK_INT_EQ(0, search("^(ab|cd)+e?$", "abc"));
    CHECK_INT_EQ(1, search("^\\d+\\.\\d+$", "3.14"));
    CHECK_INT_EQ(1, search("^[^a-z]+$", "ABC"));
    CHECK_INT_EQ(0, search("^[^a-z]+$", "AbC"));
    CHECK_INT_EQ(1, search("^.$", "é"));
    CHECK_INT_EQ(1, search("^\\P{L}$", "1"));
    CHECK_INT_EQ(0, search("^\\P{L}$", "x"));
    CHECK_INT_EQ(1, search("^(a*)*$", "aaaa")); /* empty loops terminate */
    CHECK_INT_EQ(1, search("", "anything"));
    /* Linear time: a pattern that backtracking engines choke on. */
    char *big = malloc(5001);
    if (big) {
        memset(big, 'a', 5000);
        big[5000] = '\0';
        CHECK_INT_EQ(0, search("^(a|aa)*(a|aa)*b$", big));
        free(big);
    }
    /* Invalid UTF-8 never matches. */
    CHECK_INT_EQ(0, search("[a-z]+", "ab\xC3"));
    CHECK_INT_EQ(0, search(".*", "\xC0\xAF"));     /* overlong '/' */
    CHECK_INT_EQ(0, search(".*", "\xED\xA0\x80")); /* a surrogate */
    /* Unsupported constructs are reported, not guessed at. */
    const char *why = NULL;
    CHECK_INT_EQ(-1, pattern_check("(abc", &why));
    CHECK(why != NULL);
    CHECK_INT_EQ(-1, pattern_check("\\p{Sc}", &why));
    CHECK_INT_EQ(-1, pattern_check("[z-a]", &why));
    CHECK_INT_EQ(-1, pattern_check("a{5,2}", &why));
    CHECK_INT_EQ(-1, pattern_check("\\q", &why));
    CHECK_INT_EQ(-1, search("*a", "a"));
}

/* The library's one ISO 8601 reader: what model timestamps and credential documents each
 * accept is a flag of it, not a second parser. */
static void test_one_iso8601_reader(void)
{
    int64_t t = -1;
    long ns = -1;
    CHECK_INT_EQ(0, ivs_parse_iso8601("2024-05-01T12:00:00.123456789123Z", 0, &t, &ns));
    CHECK(t == 1714564800 && ns == 123456789);
    CHECK_INT_EQ(-1, ivs_parse_iso8601("2024-05-01", 0, &t, &ns));
    CHECK_INT_EQ(0, ivs_parse_iso8601("2024-05-01", IVS_ISO8601_DATE_ONLY, &t, &ns));
    CHECK(t == 1714521600 && ns == 0);
    CHECK_INT_EQ(-1, ivs_parse_iso8601("2024-05-01T12:00:00", 0, &t, NULL));
    CHECK_INT_EQ(0, ivs_parse_iso8601("2024-05-01T12:00:00", IVS_ISO8601_ZONE_OPTIONAL, &t, NULL));
    CHECK(t == 1714564800);
    CHECK_INT_EQ(0, ivs_parse_iso8601("2024-05-01 13:30:00,5+0130", 0, &t, &ns));
    CHECK(t == 1714564800 && ns == 500000000);
    CHECK_INT_EQ(-1, ivs_parse_iso8601("2024-05-01T12:00:00.Z", 0, &t, NULL));
    CHECK_INT_EQ(-1, ivs_parse_iso8601("2024-05-01T24:00:00Z", 0, &t, NULL));
    CHECK_INT_EQ(-1, ivs_parse_iso8601("2024-05-01T12:00:00Zjunk", 0, &t, NULL));
    CHECK_INT_EQ(-1, ivs_parse_iso8601(NULL, 0, &t, NULL));
}

static void test_iso8601(void)
{
    double t = -1;
    CHECK_INT_EQ(0, model_parse_iso8601("2024-05-01T12:00:00Z", &t));
    CHECK(t == 1714564800.0);
    CHECK_INT_EQ(0, model_parse_iso8601("2024-05-01T14:00:00+02:00", &t));
    CHECK(t == 1714564800.0);
    CHECK_INT_EQ(0, model_parse_iso8601("2024-05-01T12:00:00.250Z", &t));
    CHECK(t == 1714564800.25);
    CHECK_INT_EQ(0, model_parse_iso8601("1970-01-01", &t));
    CHECK(t == 0.0);
    CHECK_INT_EQ(-1, model_parse_iso8601("2024-02-30T00:00:00Z", &t));
    CHECK_INT_EQ(-1, model_parse_iso8601("2023-02-29T00:00:00Z", &t));
    CHECK_INT_EQ(0, model_parse_iso8601("2024-02-29T00:00:00Z", &t));
    CHECK_INT_EQ(-1, model_parse_iso8601("2024-05-01T12:00:00", &t)); /* no zone */
    CHECK_INT_EQ(-1, model_parse_iso8601("yesterday", &t));
    char buf[48];
    model_format_iso8601(1714564800.0, buf, sizeof buf);
    CHECK_STR_EQ("2024-05-01T12:00:00Z", buf);
    model_format_iso8601(1714564800.5, buf, sizeof buf);
    CHECK_STR_EQ("2024-05-01T12:00:00.500000Z", buf);
    model_format_iso8601(-1.0, buf, sizeof buf);
    CHECK_STR_EQ("1969-12-31T23:59:59Z", buf);
}

/* ---- Conformance with the model file ------------------------------------------------------ */

static int json_int(const cJSON *o, const char *k, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v))
        return 0;
    *out = (long long)v->valuedouble;
    return 1;
}

/* The table shape a JSON shape reference names (NULL when the reference is absent). */
static const struct model_shape *ref_shape(const struct model_service *svc, const cJSON *ref)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(ref, "shape");
    return cJSON_IsString(s) ? find_shape(svc, s->valuestring) : NULL;
}

static void check_shape(const struct model_service *svc, const char *name, const cJSON *js)
{
    const struct model_shape *s = find_shape(svc, name);
    CHECK_MSG(s != NULL, "%s: shape %s missing from the tables", svc->name, name);
    if (!s)
        return;
    const char *type = cJSON_GetObjectItemCaseSensitive(js, "type")->valuestring;
    static const char *const type_names[] = {"structure", "list",      "map",   "string",
                                             "integer",   "long",      "float", "double",
                                             "boolean",   "timestamp", "blob"};
    CHECK_MSG(strcmp(type_names[s->type], type) == 0, "%s: type %s", name, type);
    long long v = 0;
    CHECK_MSG(s->has_min == json_int(js, "min", &v) && (!s->has_min || s->min == v), "%s min",
              name);
    CHECK_MSG(s->has_max == json_int(js, "max", &v) && (!s->has_max || s->max == v), "%s max",
              name);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(js, "pattern");
    if (pat)
        CHECK_MSG(s->pattern && strcmp(s->pattern, pat->valuestring) == 0, "%s pattern", name);
    else
        CHECK_MSG(!s->pattern && s->pattern_mode == MP_NONE, "%s has no pattern", name);
    /* Which patterns are enforced: test_broken_arn_patterns_are_exactly_the_unenforced_ones. */
    CHECK_MSG(s->sensitive == cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(js, "sensitive")),
              "%s sensitive", name);
    const cJSON *exc = cJSON_GetObjectItemCaseSensitive(js, "exception");
    CHECK_MSG(s->is_error == cJSON_IsTrue(exc), "%s is_error", name);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(js, "error");
    if (err && json_int(err, "httpStatusCode", &v))
        CHECK_MSG(s->error_status == v, "%s error status", name);
    else
        CHECK_MSG(s->error_status == 0 || !err, "%s error status", name);
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(js, "enum");
    CHECK_MSG((size_t)cJSON_GetArraySize(en) == s->enum_count, "%s enum count", name);
    for (size_t i = 0; en && i < s->enum_count; i++)
        CHECK_STR_EQ(cJSON_GetArrayItem(en, (int)i)->valuestring, s->enum_values[i]);
    if (s->type == MT_LIST)
        CHECK(s->member_shape == ref_shape(svc, cJSON_GetObjectItemCaseSensitive(js, "member")));
    if (s->type == MT_MAP) {
        CHECK(s->member_shape == ref_shape(svc, cJSON_GetObjectItemCaseSensitive(js, "value")));
        CHECK(s->key_shape == ref_shape(svc, cJSON_GetObjectItemCaseSensitive(js, "key")));
    }
    if (s->type != MT_LIST && s->type != MT_MAP)
        CHECK(s->member_shape == NULL && s->key_shape == NULL);
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(js, "members");
    CHECK_MSG((size_t)cJSON_GetArraySize(members) == s->member_count, "%s member count", name);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(js, "required");
    size_t i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, members)
    {
        if (i >= s->member_count)
            break;
        const struct model_member *mm = &s->members[i++];
        CHECK_MSG(strcmp(mm->name, m->string) == 0, "%s member order: %s", name, m->string);
        CHECK(mm->shape != NULL && mm->shape == ref_shape(svc, m));
        const cJSON *loc = cJSON_GetObjectItemCaseSensitive(m, "location");
        const cJSON *lname = cJSON_GetObjectItemCaseSensitive(m, "locationName");
        enum model_location want = ML_BODY;
        if (loc && strcmp(loc->valuestring, "uri") == 0)
            want = ML_URI;
        else if (loc && strcmp(loc->valuestring, "querystring") == 0)
            want = ML_QUERY;
        else if (loc && strcmp(loc->valuestring, "header") == 0)
            want = ML_HEADER;
        CHECK_MSG(mm->location == want, "%s.%s location", name, mm->name);
        if (loc)
            CHECK_STR_EQ(lname ? lname->valuestring : mm->name, mm->location_name);
        int is_req = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, req) is_req |= strcmp(r->valuestring, mm->name) == 0;
        CHECK_MSG(mm->required == is_req, "%s.%s required", name, mm->name);
        CHECK_MSG(mm->idempotency_token ==
                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "idempotencyToken")),
                  "%s.%s idempotency token", name, mm->name);
    }
}

static const char *json_shape_name(const cJSON *ref)
{
    return cJSON_GetObjectItemCaseSensitive(ref, "shape")->valuestring;
}

static int has_json_member(const cJSON *shape, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(shape, "members"),
                                            name) != NULL;
}

static void check_service_against(const struct model_service *svc, const cJSON *model)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(model, "metadata");
    const cJSON *shapes = cJSON_GetObjectItemCaseSensitive(model, "shapes");
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(model, "operations");
    CHECK_STR_EQ(cJSON_GetObjectItemCaseSensitive(meta, "endpointPrefix")->valuestring,
                 svc->endpoint_prefix);
    CHECK_STR_EQ(cJSON_GetObjectItemCaseSensitive(meta, "signingName")->valuestring,
                 svc->signing_name);
    CHECK_STR_EQ(cJSON_GetObjectItemCaseSensitive(meta, "serviceId")->valuestring, svc->service_id);
    CHECK_STR_EQ(cJSON_GetObjectItemCaseSensitive(meta, "apiVersion")->valuestring,
                 svc->model->api_version);
    CHECK_INT_EQ(cJSON_GetArraySize(shapes), svc->model->shape_count);
    CHECK_INT_EQ(cJSON_GetArraySize(ops), svc->model->operation_count);
    const cJSON *js;
    cJSON_ArrayForEach(js, shapes) check_shape(svc, js->string, js);
    const cJSON *jo;
    cJSON_ArrayForEach(jo, ops)
    {
        const struct model_operation *op = model_find_operation(svc, jo->string);
        CHECK_MSG(op != NULL, "%s: operation %s missing", svc->name, jo->string);
        if (!op)
            continue;
        const cJSON *http = cJSON_GetObjectItemCaseSensitive(jo, "http");
        CHECK_STR_EQ(cJSON_GetObjectItemCaseSensitive(http, "method")->valuestring, op->method);
        CHECK_STR_EQ(cJSON_GetObjectItemCaseSensitive(http, "requestUri")->valuestring, op->uri);
        long long code = 200;
        json_int(http, "responseCode", &code);
        CHECK_INT_EQ(code, op->success_status);
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(jo, "input");
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(jo, "output");
        CHECK(op->input == (in ? ref_shape(svc, in) : NULL));
        CHECK(op->output == (out ? ref_shape(svc, out) : NULL));
        const cJSON *errs = cJSON_GetObjectItemCaseSensitive(jo, "errors");
        CHECK_INT_EQ(cJSON_GetArraySize(errs), op->error_count);
        for (size_t i = 0; i < op->error_count && errs; i++)
            CHECK(op->errors[i] == ref_shape(svc, cJSON_GetArrayItem(errs, (int)i)));
        CHECK(op->readonly_ == cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(jo, "readonly")));
        CHECK(op->idempotent == cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(jo, "idempotent")));
        /* Pagination recomputed from the JSON shapes. */
        const cJSON *ins =
            in ? cJSON_GetObjectItemCaseSensitive(shapes, json_shape_name(in)) : NULL;
        const cJSON *outs =
            out ? cJSON_GetObjectItemCaseSensitive(shapes, json_shape_name(out)) : NULL;
        int pag =
            ins && outs && has_json_member(ins, "nextToken") && has_json_member(outs, "nextToken");
        CHECK_MSG(op->paginated == pag, "%s paginated", op->name);
    }
}

/* The tables against the repository's own copy of each model (always there), and that copy
 * against ../shared (when present): the files must be botocore's, unchanged. */
static void test_conformance_with_model_files(void)
{
    int shared = 0;
    for (size_t k = 0; k < model_service_count; k++) {
        const struct model_service *svc = &model_services[k];
        cJSON *model = load_model(svc, 1);
        CHECK_MSG(model != NULL, "models/%s: model file missing", svc->name);
        if (!model)
            continue;
        check_service_against(svc, model);
        cJSON_Delete(model);
        static const char *const files[] = {"model", "paginators-1.json",
                                            "endpoint-rule-set-1.json"};
        for (size_t f = 0; f < 3; f++) {
            char *paths[2];
            for (int repo = 0; repo < 2; repo++) {
                if (f == 0) {
                    paths[repo] = model_file_path(svc, repo);
                } else {
                    const char *root = harness_root();
                    size_t need = strlen(root) + strlen(svc->name) + 64;
                    paths[repo] = malloc(need);
                    snprintf(paths[repo], need, "%s/%s/%s/%s", root, repo ? "models" : "../shared",
                             svc->name, files[f]);
                }
            }
            size_t la = 0, lb = 0;
            char *a = harness_read_file(paths[0], &la), *b = harness_read_file(paths[1], &lb);
            CHECK_MSG(b != NULL, "%s missing", paths[1]);
            if (a) {
                shared++;
                CHECK_MSG(b && la == lb && memcmp(a, b, la) == 0, "%s differs from %s", paths[1],
                          paths[0]);
            }
            free(a);
            free(b);
            free(paths[0]);
            free(paths[1]);
        }
    }
    if (!shared)
        SKIP("../shared not available: the repository's models were checked alone");
}

/* `make model` into a temporary directory must give the committed files byte for byte, and
 * core/src must hold no generated model file that the generator no longer writes. */
static void test_regenerating_gives_identical_bytes(void)
{
    if (access("/usr/share/unicode/UnicodeData.txt", R_OK) != 0)
        SKIP("/usr/share/unicode/UnicodeData.txt not installed (Debian unicode-data)");
    if (system("lua5.4 -e 'require \"cjson\"' >/dev/null 2>&1") != 0)
        SKIP("lua5.4 with lua-cjson not available");
    const char *root = harness_root();
    char out[] = "/tmp/ivs-model-gen-XXXXXX";
    CHECK(mkdtemp(out) != NULL);
    size_t need = strlen(root) * 3 + strlen(out) * 2 + 512;
    char *cmd = malloc(need);
    snprintf(cmd, need, "cd '%s' && lua5.4 scripts/gen-model.lua '%s' models/*/*.model.json", root,
             out);
    CHECK_INT_EQ(0, system(cmd));
    /* Every committed generated file, and every file the generator wrote, must be the same. */
    snprintf(cmd, need,
             "cd '%s/core/src' && src=$(pwd) && for f in model_*.c services.c; do "
             "cmp -s \"$f\" '%s/'\"$f\" || { echo \"core/src/$f is stale: run make model\" >&2; "
             "exit 1; }; done && cd '%s' && for f in *.c; do "
             "cmp -s \"$f\" \"$src/$f\" || { echo \"core/src/$f is missing or stale\" >&2; "
             "exit 1; }; done",
             root, out, out);
    CHECK_MSG(system(cmd) == 0, "core/src differs from a fresh `make model`");
    snprintf(cmd, need, "rm -rf '%s'", out);
    CHECK_INT_EQ(0, system(cmd));
    free(cmd);
}

int main(void)
{
    RUN(test_services_table);
    RUN(test_operations_sorted_and_unique);
    RUN(test_operation_summaries);
    RUN(test_snake_names);
    RUN(test_operation_details);
    RUN(test_pagination_from_shapes);
    RUN(test_patterns_compile);
    RUN(test_broken_arn_patterns_are_exactly_the_unenforced_ones);
    RUN(test_pattern_cache_across_services);
    RUN(test_pattern_unicode_tags);
    RUN(test_pattern_constructs);
    RUN(test_pattern_compile_api);
    RUN(test_one_iso8601_reader);
    RUN(test_iso8601);
    RUN(test_conformance_with_model_files);
    RUN(test_regenerating_gives_identical_bytes);
    return harness_finish();
}
