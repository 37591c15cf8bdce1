/* fuzz_emulator_state.c: the emulator's state loader (emulator/store.c, store_load_text) and
 * what the store then does with what it loaded.
 *
 * The input is a state file. It is loaded into a fresh store; when the loader accepts it, every
 * list operation runs in every partition the file names, every Get/Delete-style read runs on
 * every ARN it names, the admin views run, and the store is released. Whatever the file says,
 * the loader must either refuse it cleanly or leave a store on which all of this works. */
#include <cJSON.h>

#include "fuzz.h"
#include "model.h"
#include "store.h"

/* Read-only operations over a partition (input {}), and those taking one resource ARN. */
static const char *const s_lists[] = {
    "ListChannels",
    "ListStreams",
    "ListPlaybackKeyPairs",
    "ListRecordingConfigurations",
    "ListPlaybackRestrictionPolicies",
    "ListStreamSessions",
    "ListStreamKeys",
    "ListTagsForResource",
};
static const struct {
    const char *op, *member;
} s_gets[] = {
    {"GetChannel", "arn"},
    {"GetStream", "channelArn"},
    {"GetStreamKey", "arn"},
    {"ListStreamKeys", "channelArn"},
    {"ListStreamSessions", "channelArn"},
    {"GetStreamSession", "channelArn"},
    {"GetPlaybackKeyPair", "arn"},
    {"GetRecordingConfiguration", "arn"},
    {"GetPlaybackRestrictionPolicy", "arn"},
    {"ListTagsForResource", "resourceArn"},
    {"BatchGetChannel", NULL},
    {"StopStream", "channelArn"},
    {"DeleteChannel", "arn"},
};

static void call(struct store *s, const char *account, const char *region, const char *opname,
                 const cJSON *input)
{
    const struct model_operation *op = model_find_operation(model_find_service("ivs"), opname);
    struct ivs_error err = {0};
    /* The front door validates every input before the store sees it; do the same. */
    if (!op || model_validate(op, input, &err) != IVS_OK) {
        ivs_error_clear(&err);
        return;
    }
    struct emu_reply r;
    memset(&r, 0, sizeof r);
    store_call(s, account, region, op, input, &r);
    FUZZ_ASSERT(r.status >= 200 && r.status <= 599);
    if (r.body) {
        cJSON *b = cJSON_Parse(r.body);
        FUZZ_ASSERT(b != NULL);
        cJSON_Delete(b);
    }
    emu_reply_cleanup(&r);
}

/* Every string that looks like an ARN, anywhere in the document (bounded). */
static void collect_arns(const cJSON *j, const char **arns, size_t *n, size_t max)
{
    for (; j && *n < max; j = j->next) {
        if (cJSON_IsString(j) && !strncmp(j->valuestring, "arn:", 4))
            arns[(*n)++] = j->valuestring;
        collect_arns(j->child, arns, n, max);
    }
}

static void exercise(struct store *s, const cJSON *doc)
{
    const char *arns[8]; /* bounded: each costs every get below, per partition */
    size_t narns = 0;
    collect_arns(doc, arns, &narns, sizeof arns / sizeof arns[0]);
    const cJSON *pj;
    int parts = 0;
    cJSON_ArrayForEach(pj, cJSON_GetObjectItemCaseSensitive(doc, "partitions"))
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(pj, "account");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(pj, "region");
        if (!cJSON_IsString(a) || !cJSON_IsString(r) || ++parts > 2)
            continue;
        cJSON *empty = cJSON_CreateObject();
        for (size_t i = 0; i < sizeof s_lists / sizeof s_lists[0]; i++)
            call(s, a->valuestring, r->valuestring, s_lists[i], empty);
        cJSON_Delete(empty);
        for (size_t g = 0; g < sizeof s_gets / sizeof s_gets[0]; g++) {
            for (size_t i = 0; i < narns; i++) {
                cJSON *in = cJSON_CreateObject();
                if (s_gets[g].member) {
                    cJSON_AddStringToObject(in, s_gets[g].member, arns[i]);
                    if (!strcmp(s_gets[g].op, "GetStreamSession"))
                        cJSON_AddStringToObject(in, "streamId", "st-fuzz");
                } else {
                    cJSON *list = cJSON_AddArrayToObject(in, "arns");
                    cJSON_AddItemToArray(list, cJSON_CreateString(arns[i]));
                }
                call(s, a->valuestring, r->valuestring, s_gets[g].op, in);
                cJSON_Delete(in);
            }
        }
    }
    static const char *const views[] = {"/health", "/events", "/faults"};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        cJSON *q = cJSON_CreateObject();
        struct emu_reply r;
        memset(&r, 0, sizeof r);
        store_admin(s, "GET", views[i], q, NULL, &r);
        FUZZ_ASSERT(r.status == 200);
        emu_reply_cleanup(&r);
        cJSON_Delete(q);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store *s = store_new("us-west-2", "123456789012", NULL);
    if (!s)
        return 0;
    char errbuf[256] = "";
    if (store_load_text(s, (const char *)data, size, "fuzz input", errbuf, sizeof errbuf) == 0) {
        cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
        if (doc)
            exercise(s, doc);
        cJSON_Delete(doc);
    } else {
        FUZZ_ASSERT(errbuf[0] != '\0');
    }
    if (getenv("FUZZ_VERBOSE")) /* to check what a seed reaches */
        fprintf(stderr, "load: %s\n", errbuf[0] ? errbuf : "accepted");
    store_free(s);
    return 0;
}
