/* test_model.c: the generated tables (against the model JSON in ../shared when present),
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

static char *shared_model_path(void)
{
    static const char rel[] = "/../shared/ivs/ivs-2020-07-14.model.json";
    const char *root = harness_root();
    char *p = malloc(strlen(root) + sizeof rel);
    if (p)
        sprintf(p, "%s%s", root, rel);
    return p;
}

static cJSON *load_shared_model(void)
{
    char *path = shared_model_path();
    char *text = path ? harness_read_file(path, NULL) : NULL;
    free(path);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static int shape_index_by_name(const char *name)
{
    for (size_t i = 0; i < ivs_model_shape_count; i++)
        if (strcmp(ivs_model_shapes[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void test_metadata(void)
{
    CHECK_INT_EQ(41, ivs_model_operation_count);
    CHECK_STR_EQ("2020-07-14", ivs_model_api_version);
    CHECK_STR_EQ("ivs", ivs_model_signing_name);
    CHECK_STR_EQ("ivs", ivs_model_endpoint_prefix);
    CHECK(ivs_model_shape_count > 100);
}

static void test_operations_sorted_and_unique(void)
{
    for (size_t i = 1; i < ivs_model_operation_count; i++)
        CHECK_MSG(strcmp(ivs_model_operations[i - 1].name, ivs_model_operations[i].name) < 0,
                  "%s before %s", ivs_model_operations[i - 1].name, ivs_model_operations[i].name);
    for (size_t i = 1; i < ivs_model_shape_count; i++)
        CHECK(strcmp(ivs_model_shapes[i - 1].name, ivs_model_shapes[i].name) < 0);
    for (size_t i = 1; i < ivs_model_operation_count; i++) {
        const struct model_operation *a =
            &ivs_model_operations[ivs_model_operations_by_snake_name[i - 1]];
        const struct model_operation *b =
            &ivs_model_operations[ivs_model_operations_by_snake_name[i]];
        CHECK(strcmp(a->snake_name, b->snake_name) < 0);
    }
}

static void test_snake_names(void)
{
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
        const struct model_operation *a = model_find_operation(pairs[i][0]);
        const struct model_operation *b = model_find_operation(pairs[i][1]);
        CHECK_MSG(a && b && a == b, "lookup of %s / %s", pairs[i][0], pairs[i][1]);
        if (a)
            CHECK_STR_EQ(pairs[i][1], a->snake_name);
    }
    for (size_t i = 0; i < ivs_model_operation_count; i++) {
        const struct model_operation *op = &ivs_model_operations[i];
        CHECK(model_find_operation(op->name) == op);
        CHECK(model_find_operation(op->snake_name) == op);
        /* snake names are lower case with single underscores */
        for (const char *c = op->snake_name; *c; c++)
            CHECK((*c >= 'a' && *c <= 'z') || (*c == '_' && c[1] != '_'));
    }
    CHECK(model_find_operation("NoSuchThing") == NULL);
    CHECK(model_find_operation("createchannel") == NULL);
    CHECK(model_find_operation("") == NULL);
    CHECK(model_find_operation(NULL) == NULL);
}

static void test_operation_details(void)
{
    const struct model_operation *op = model_find_operation("UntagResource");
    CHECK(op != NULL);
    if (!op)
        return;
    CHECK_STR_EQ("DELETE", op->method);
    CHECK_STR_EQ("/tags/{resourceArn}", op->uri);
    CHECK(op->idempotent);
    const struct model_shape *in = model_shape(op->input);
    const struct model_member *m = model_find_member(in, "tagKeys");
    CHECK(m && m->location == ML_QUERY && m->required);
    if (m)
        CHECK_STR_EQ("tagKeys", m->location_name);
    m = model_find_member(in, "resourceArn");
    CHECK(m && m->location == ML_URI);
    CHECK(model_find_member(in, "nope") == NULL);

    op = model_find_operation("DeleteChannel");
    CHECK(op && op->success_status == 204 && op->output == -1);
    op = model_find_operation("StartViewerSessionRevocation");
    CHECK(op && op->readonly_);
    op = model_find_operation("CreateChannel");
    CHECK(op && !op->readonly_ && op->success_status == 200 && op->error_count == 5);
    for (size_t i = 0; i < ivs_model_operation_count; i++) {
        op = &ivs_model_operations[i];
        CHECK_MSG(op->input >= 0, "%s has no input", op->name);
        for (size_t e = 0; e < op->error_count; e++)
            CHECK(model_shape(op->errors[e])->is_error);
    }
    int sq = shape_index_by_name("ServiceQuotaExceededException");
    CHECK(sq >= 0 && ivs_model_shapes[sq].error_status == 402);
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
    size_t n = 0;
    for (size_t i = 0; i < ivs_model_operation_count; i++) {
        const struct model_operation *op = &ivs_model_operations[i];
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
    const struct model_operation *lt = model_find_operation("ListTagsForResource");
    CHECK(lt && !lt->paginated);
}

static void test_patterns_compile(void)
{
    for (size_t i = 0; i < ivs_model_shape_count; i++) {
        const struct model_shape *s = &ivs_model_shapes[i];
        if (!s->pattern)
            continue;
        const char *why = NULL;
        CHECK_MSG(pattern_check(s->pattern, &why) == 0, "%s: %s: %s", s->name, s->pattern,
                  why ? why : "?");
    }
    int ra = shape_index_by_name("ResourceArn");
    CHECK(ra >= 0);
    if (ra < 0)
        return;
    const struct model_shape *s = &ivs_model_shapes[ra];
    CHECK(s->pattern != NULL && s->pattern_mode == MP_NONE);
    /* The reason it is not enforced: the model's text really rejects a real ARN. */
    const char *arn = "arn:aws:ivs:us-west-2:123456789012:channel/abcdABCD1234";
    CHECK_INT_EQ(0, pattern_search(s->pattern, arn, strlen(arn)));
    CHECK_INT_EQ(1, model_pattern_match(s, arn, strlen(arn)));
    int enforced = 0;
    for (size_t i = 0; i < ivs_model_shape_count; i++)
        enforced += ivs_model_shapes[i].pattern_mode == MP_SEARCH;
    CHECK(enforced >= 20);
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

static int ref_index(const cJSON *ref)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(ref, "shape");
    return cJSON_IsString(s) ? shape_index_by_name(s->valuestring) : -1;
}

static void check_shape(const char *name, const cJSON *js)
{
    int idx = shape_index_by_name(name);
    CHECK_MSG(idx >= 0, "shape %s missing from the tables", name);
    if (idx < 0)
        return;
    const struct model_shape *s = &ivs_model_shapes[idx];
    const char *type = cJSON_GetObjectItemCaseSensitive(js, "type")->valuestring;
    static const char *const type_names[] = {"structure", "list",      "map",   "string",
                                             "integer",   "long",      "float", "double",
                                             "boolean",   "timestamp", "blob"};
    CHECK_MSG(strcmp(type_names[s->type], type) == 0, "%s: type %s", name, type);
    long long v;
    CHECK_MSG(s->has_min == json_int(js, "min", &v) && (!s->has_min || s->min == v), "%s min",
              name);
    CHECK_MSG(s->has_max == json_int(js, "max", &v) && (!s->has_max || s->max == v), "%s max",
              name);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(js, "pattern");
    if (pat)
        CHECK_MSG(s->pattern && strcmp(s->pattern, pat->valuestring) == 0, "%s pattern", name);
    else
        CHECK_MSG(!s->pattern && s->pattern_mode == MP_NONE, "%s has no pattern", name);
    if (pat && strcmp(name, "ResourceArn") != 0)
        CHECK_MSG(s->pattern_mode == MP_SEARCH, "%s pattern enforced", name);
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
        CHECK(s->member_shape == ref_index(cJSON_GetObjectItemCaseSensitive(js, "member")));
    if (s->type == MT_MAP) {
        CHECK(s->member_shape == ref_index(cJSON_GetObjectItemCaseSensitive(js, "value")));
        CHECK(s->key_shape == ref_index(cJSON_GetObjectItemCaseSensitive(js, "key")));
    }
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
        CHECK(mm->shape == ref_index(m));
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

static void test_conformance_with_model_file(void)
{
    cJSON *model = load_shared_model();
    if (!model)
        SKIP("../shared/ivs/ivs-2020-07-14.model.json not available");
    const cJSON *shapes = cJSON_GetObjectItemCaseSensitive(model, "shapes");
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(model, "operations");
    CHECK_INT_EQ(cJSON_GetArraySize(shapes), ivs_model_shape_count);
    CHECK_INT_EQ(cJSON_GetArraySize(ops), ivs_model_operation_count);
    const cJSON *js;
    cJSON_ArrayForEach(js, shapes) check_shape(js->string, js);
    const cJSON *jo;
    cJSON_ArrayForEach(jo, ops)
    {
        const struct model_operation *op = model_find_operation(jo->string);
        CHECK_MSG(op != NULL, "operation %s missing", jo->string);
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
        CHECK(op->input == (in ? ref_index(in) : -1));
        CHECK(op->output == (out ? ref_index(out) : -1));
        const cJSON *errs = cJSON_GetObjectItemCaseSensitive(jo, "errors");
        CHECK_INT_EQ(cJSON_GetArraySize(errs), op->error_count);
        for (size_t i = 0; i < op->error_count && errs; i++)
            CHECK(op->errors[i] == ref_index(cJSON_GetArrayItem(errs, (int)i)));
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
    cJSON_Delete(model);
}

static void test_regenerating_gives_identical_bytes(void)
{
    char *model = shared_model_path();
    if (!model || access(model, R_OK) != 0) {
        free(model);
        SKIP("../shared/ivs/ivs-2020-07-14.model.json not available");
    }
    if (access("/usr/share/unicode/UnicodeData.txt", R_OK) != 0) {
        free(model);
        SKIP("/usr/share/unicode/UnicodeData.txt not installed (Debian unicode-data)");
    }
    if (system("lua5.4 -e 'require \"cjson\"' >/dev/null 2>&1") != 0) {
        free(model);
        SKIP("lua5.4 with lua-cjson not available");
    }
    const char *root = harness_root();
    char out[] = "/tmp/ivs-model-gen-XXXXXX";
    int fd = mkstemp(out);
    CHECK(fd >= 0);
    if (fd < 0) {
        free(model);
        return;
    }
    close(fd);
    size_t need = strlen(root) * 2 + strlen(model) + strlen(out) + 64;
    char *cmd = malloc(need);
    snprintf(cmd, need, "lua5.4 '%s/scripts/gen-model.lua' '%s' > '%s'", root, model, out);
    CHECK_INT_EQ(0, system(cmd));
    free(cmd);
    char *committed_path = malloc(strlen(root) + 32);
    sprintf(committed_path, "%s/core/src/model_gen.c", root);
    size_t la = 0, lb = 0;
    char *a = harness_read_file(committed_path, &la);
    char *b = harness_read_file(out, &lb);
    CHECK(a != NULL && b != NULL);
    CHECK_MSG(a && b && la == lb && memcmp(a, b, la) == 0,
              "core/src/model_gen.c differs from a fresh `make model` (%zu vs %zu bytes)", la, lb);
    free(a);
    free(b);
    free(committed_path);
    free(model);
    unlink(out);
}

int main(void)
{
    RUN(test_metadata);
    RUN(test_operations_sorted_and_unique);
    RUN(test_snake_names);
    RUN(test_operation_details);
    RUN(test_pagination_from_shapes);
    RUN(test_patterns_compile);
    RUN(test_pattern_unicode_tags);
    RUN(test_pattern_constructs);
    RUN(test_pattern_compile_api);
    RUN(test_one_iso8601_reader);
    RUN(test_iso8601);
    RUN(test_conformance_with_model_file);
    RUN(test_regenerating_gives_identical_bytes);
    return harness_finish();
}
