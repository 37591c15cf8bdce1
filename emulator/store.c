#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "engine.h"
#include "identity.h"
#include "journal.h"
#include "keys.h"
#include "sigv4.h"
#include "svc.h"
#include "util.h"

/* Resource-count quotas per account and region. Channels follow the documented default; the
 * others are not published in any copy we could read and are our choice (README). */
enum {
    QUOTA_CHANNELS = 5000,
    QUOTA_STREAM_KEYS_PER_CHANNEL = 1,
    QUOTA_PLAYBACK_KEYS = 3,
    QUOTA_RECORDING_CONFIGURATIONS = 20,
    QUOTA_PLAYBACK_RESTRICTION_POLICIES = 20,
    QUOTA_AD_CONFIGURATIONS = 20,
    QUOTA_TAGS = 50,
    METADATA_MAX_BYTES = 1024,
    METADATA_PER_CHANNEL_PER_SECOND = 5,
    METADATA_PER_ACCOUNT_PER_SECOND = 155,
    EVENTS_KEPT = 10000,
    SESSIONS_KEPT = 100
};

enum rtype { RT_CHANNEL, RT_STREAM_KEY, RT_PLAYBACK_KEY, RT_RECORDING, RT_PRP, RT_AD, RT_COUNT };

static const char *const s_type_names[RT_COUNT] = {
    "channel",
    "stream-key",
    "playback-key",
    "recording-configuration",
    "playback-restriction-policy",
    "ad-configuration",
};

struct partition;

struct res {
    enum rtype type;
    uint64_t seq;
    char *arn;
    cJSON *obj; /* the full representation as the API returns it, tags included */
    struct partition *part;
    int refs; /* channels pointing at this recording configuration, policy or ad config */
    /* Channels only. */
    struct res *stream_key;
    cJSON *stream;   /* the Stream while live, NULL when offline */
    cJSON *sessions; /* StreamSession objects, oldest first; "_" keys are private */
    double meta_times[METADATA_PER_CHANNEL_PER_SECOND];
    unsigned meta_pos;
};

struct resvec {
    struct res **items; /* ascending seq */
    size_t n, cap;
};

struct partition {
    struct store *store;
    char *account;
    char *region;
    char prefix[13]; /* the per-account host prefix of ingest and playback URLs */
    struct strmap by_arn;
    struct resvec lists[RT_COUNT];
    struct resvec live; /* live channels */
    cJSON *events;
    double meta_times[METADATA_PER_ACCOUNT_PER_SECOND];
    unsigned meta_pos;
};

struct fault {
    char operation[64];
    struct emu_fault_action action;
    long remaining; /* < 0: until cleared */
};

struct store {
    pthread_mutex_t lock;
    char *default_region;
    char *default_account;
    char *state_path;
    struct partition **parts;
    size_t part_count;
    struct strmap key_values; /* stream-key value -> stream key */
    uint64_t seq;
    struct fault *faults;
    size_t fault_count;
    double started;
    struct engine *eng; /* IVS Chat and IVS Real-Time (engine.h) */
    /* Saver thread. */
    pthread_t saver;
    int saver_running;
    int stopping;
    int dirty;
    pthread_cond_t cond;
    pthread_mutex_t save_lock; /* serialises file writes */
    /* Write-ahead journal (journal.h), with a state path only. */
    struct journal *journal;
    uint64_t journal_gen;    /* the generation being appended to */
    uint64_t journal_oldest; /* the oldest generation whose file may still exist */
    int fsync_journal;
    int journal_failed; /* an append failed during the current request */
};

/* ------------------------------------------------------------------------------------ */
/* Replies */

void emu_reply_cleanup(struct emu_reply *r)
{
    if (!r)
        return;
    free(r->message);
    free(r->body);
    cJSON_Delete(r->error_members);
    memset(r, 0, sizeof *r);
}

void emu_reply_error(struct emu_reply *r, int status, const char *type, const char *fmt, ...)
{
    free(r->message);
    free(r->body);
    r->body = NULL;
    cJSON_Delete(r->error_members);
    r->error_members = NULL;
    r->status = status;
    /* Copied: fault types come from request-scoped buffers. */
    snprintf(r->type_buf, sizeof r->type_buf, "%s", type);
    r->error_type = r->type_buf;
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    r->message = buf_steal(&b);
}

/* Takes ownership of body. */
static void reply_json(struct emu_reply *r, int status, cJSON *body)
{
    r->status = status;
    r->error_type = NULL;
    r->body = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
}

static void reply_wrap(struct emu_reply *r, const char *key, cJSON *item)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, key, item);
    reply_json(r, 200, o);
}

/* reply_wrap without the copy: the body refers to the stored item while it is printed (under
 * the store's lock, which the caller holds), so a read-only answer costs one print, not a
 * duplicate, a print and a delete. */
static void reply_wrap_ref(struct emu_reply *r, const char *key, cJSON *item)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(o, key, item);
    reply_json(r, 200, o);
}

#define NOT_FOUND(r, arn)                                                                          \
    emu_reply_error(r, 404, "ResourceNotFoundException", "Resource %s not found.", arn)

/* ------------------------------------------------------------------------------------ */
/* Small JSON helpers */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *jget(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void jset(cJSON *o, const char *key, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else
        cJSON_AddItemToObject(o, key, v);
}

static void jset_str(cJSON *o, const char *key, const char *v)
{
    jset(o, key, cJSON_CreateString(v));
}

static cJSON *jdup(const cJSON *v) { return cJSON_Duplicate(v, 1); }

/* A copy without the private "_" keys. */
static cJSON *jpublic(const cJSON *obj)
{
    cJSON *o = jdup(obj);
    cJSON *c = o ? o->child : NULL;
    while (c) {
        cJSON *next = c->next;
        if (c->string && c->string[0] == '_')
            cJSON_Delete(cJSON_DetachItemViaPointer(o, c));
        c = next;
    }
    return o;
}

/* ------------------------------------------------------------------------------------ */
/* ARNs */

/* Parses arn:aws:ivs:{region}:{account}:{type}/{id} with the model's character classes,
 * anchored at both ends (the model's own patterns are not). Returns the type or -1. */
static int arn_parse(const char *arn, char *region, size_t rlen, char *account, size_t alen)
{
    if (!arn || strncmp(arn, "arn:aws:ivs:", 12) != 0 || strlen(arn) > 128)
        return -1;
    const char *p = arn + 12, *q = p;
    while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-')
        q++;
    if (q == p || *q != ':' || (size_t)(q - p) >= rlen)
        return -1;
    memcpy(region, p, (size_t)(q - p));
    region[q - p] = '\0';
    p = ++q;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == p || *q != ':' || (size_t)(q - p) >= alen)
        return -1;
    memcpy(account, p, (size_t)(q - p));
    account[q - p] = '\0';
    p = ++q;
    const char *slash = strchr(p, '/');
    if (!slash)
        return -1;
    int type = -1;
    for (int t = 0; t < RT_COUNT; t++)
        if (strlen(s_type_names[t]) == (size_t)(slash - p) &&
            !strncmp(p, s_type_names[t], (size_t)(slash - p)))
            type = t;
    q = slash + 1;
    if (!*q)
        return -1;
    for (; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '-'))
            return -1;
    return type;
}

static const char *arn_id(const char *arn)
{
    const char *s = strrchr(arn, '/');
    return s ? s + 1 : arn;
}

/* ------------------------------------------------------------------------------------ */
/* Vectors, partitions, resources */

static int resvec_push(struct resvec *v, struct res *r)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 16;
        struct res **ni = realloc(v->items, ncap * sizeof *ni);
        if (!ni)
            return -1;
        v->items = ni;
        v->cap = ncap;
    }
    /* Usually appended at the end; loading or going live may insert in the middle. */
    size_t i = v->n;
    while (i > 0 && v->items[i - 1]->seq > r->seq)
        i--;
    memmove(v->items + i + 1, v->items + i, (v->n - i) * sizeof *v->items);
    v->items[i] = r;
    v->n++;
    return 0;
}

/* Index of the first item with seq >= seq. */
static size_t resvec_lower_bound(const struct resvec *v, uint64_t seq)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->items[mid]->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void resvec_remove(struct resvec *v, struct res *r)
{
    size_t i = resvec_lower_bound(v, r->seq);
    if (i < v->n && v->items[i] == r) {
        memmove(v->items + i, v->items + i + 1, (v->n - i - 1) * sizeof *v->items);
        v->n--;
    }
}

static void res_free(struct res *r)
{
    if (!r)
        return;
    free(r->arn);
    cJSON_Delete(r->obj);
    cJSON_Delete(r->stream);
    cJSON_Delete(r->sessions);
    free(r);
}

static void partition_free(struct partition *p)
{
    if (!p)
        return;
    for (int t = 0; t < RT_COUNT; t++) {
        for (size_t i = 0; i < p->lists[t].n; i++)
            res_free(p->lists[t].items[i]);
        free(p->lists[t].items);
    }
    free(p->live.items);
    strmap_free(&p->by_arn);
    cJSON_Delete(p->events);
    free(p->account);
    free(p->region);
    free(p);
}

static struct partition *partition_get(struct store *s, const char *account, const char *region)
{
    for (size_t i = 0; i < s->part_count; i++)
        if (!strcmp(s->parts[i]->account, account) && !strcmp(s->parts[i]->region, region))
            return s->parts[i];
    struct partition **np = realloc(s->parts, (s->part_count + 1) * sizeof *np);
    struct partition *p = calloc(1, sizeof *p);
    if (!np || !p) {
        free(p);
        if (np)
            s->parts = np;
        return NULL;
    }
    s->parts = np;
    p->store = s;
    p->account = ivs_strdup(account);
    p->region = ivs_strdup(region);
    p->events = cJSON_CreateArray();
    /* Stable across restarts: real accounts keep one prefix for every channel. */
    char hex[65];
    struct buf b = BUF_INIT;
    buf_printf(&b, "ivs-emulator-account-prefix:%s", account);
    sigv4_sha256_hex(buf_str(&b), b.len, hex);
    buf_free(&b);
    memcpy(p->prefix, hex, 12);
    p->prefix[12] = '\0';
    s->parts[s->part_count++] = p;
    return p;
}

static struct res *res_add(struct store *s, struct partition *p, enum rtype type, const char *arn,
                           cJSON *obj, uint64_t seq)
{
    struct res *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->type = type;
    r->seq = seq ? seq : ++s->seq;
    if (r->seq > s->seq)
        s->seq = r->seq;
    r->arn = ivs_strdup(arn);
    r->obj = obj;
    r->part = p;
    if (type == RT_CHANNEL)
        r->sessions = cJSON_CreateArray();
    if (resvec_push(&p->lists[type], r) != 0 || strmap_put(&p->by_arn, r->arn, r) != 0) {
        resvec_remove(&p->lists[type], r);
        r->obj = NULL;
        res_free(r);
        return NULL;
    }
    return r;
}

static void journal_gone(struct store *s, const struct res *r);

/* Removes a resource that a request deleted (journaled). */
static void res_remove(struct store *s, struct res *r)
{
    struct partition *p = r->part;
    journal_gone(s, r);
    strmap_remove(&p->by_arn, r->arn);
    resvec_remove(&p->lists[r->type], r);
    if (r->type == RT_STREAM_KEY) {
        const char *value = jstr(r->obj, "value");
        if (value)
            strmap_remove(&s->key_values, value);
    }
    res_free(r);
}

static struct res *res_find(struct partition *p, const char *arn, enum rtype type)
{
    struct res *r = arn ? strmap_get(&p->by_arn, arn) : NULL;
    return r && r->type == type ? r : NULL;
}

static void make_arn(char *out, size_t n, const struct partition *p, enum rtype type,
                     char id_out[13])
{
    emu_random_alnum(id_out, 12);
    snprintf(out, n, "arn:aws:ivs:%s:%s:%s/%s", p->region, p->account, s_type_names[type], id_out);
}

/* The prologue of every create operation: refuses with 402 when the partition already holds
 * quota resources of this type (what names them in the message), else draws a new id and ARN
 * and returns the resource's JSON object holding its "arn". NULL when refused. */
static cJSON *new_resource(const struct partition *p, enum rtype type, size_t quota,
                           const char *what, char arn[160], char id[13], struct emu_reply *out)
{
    if (p->lists[type].n >= quota) {
        emu_reply_error(out, 402, "ServiceQuotaExceededException", "%s quota of %zu exceeded.",
                        what, quota);
        return NULL;
    }
    make_arn(arn, 160, p, type, id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arn", arn);
    return o;
}

static void touch(struct store *s)
{
    s->dirty = 1;
    pthread_cond_signal(&s->cond);
}

/* ------------------------------------------------------------------------------------ */
/* Journal records (journal.h): kind "ivs:" + the type name, id the ARN, value the resource
 * as the snapshot holds it (without its type). Written under the lock, before the reply. */

static cJSON *entry_json(const struct res *r)
{
    cJSON *rj = cJSON_CreateObject();
    cJSON_AddNumberToObject(rj, "seq", (double)r->seq);
    cJSON_AddItemToObject(rj, "obj", jdup(r->obj));
    if (r->stream)
        cJSON_AddItemToObject(rj, "stream", jdup(r->stream));
    if (r->type == RT_CHANNEL)
        cJSON_AddItemToObject(rj, "sessions", jdup(r->sessions));
    return rj;
}

static void journal_kind(char *out, size_t n, enum rtype t)
{
    snprintf(out, n, "ivs:%s", s_type_names[t]);
}

static void journal_done(struct store *s, int rc)
{
    if (rc != 0 && !s->journal_failed) {
        s->journal_failed = 1;
        fprintf(stderr, "ivs-emulator: could not append to the journal of %s: %s\n", s->state_path,
                strerror(errno));
    }
}

/* Without a journal while a state path is set (it could not be created): nothing is durable. */
static int journal_missing(struct store *s)
{
    if (s->journal || !s->state_path)
        return 0;
    s->journal_failed = 1;
    return 1;
}

static void journal_res(struct store *s, const struct res *r)
{
    if (journal_missing(s) || !s->journal)
        return;
    char kind[64];
    journal_kind(kind, sizeof kind, r->type);
    cJSON *v = entry_json(r);
    journal_done(s, v ? journal_put(s->journal, kind, r->arn, v) : -1);
    cJSON_Delete(v);
}

static void journal_gone(struct store *s, const struct res *r)
{
    if (journal_missing(s) || !s->journal)
        return;
    char kind[64];
    journal_kind(kind, sizeof kind, r->type);
    journal_done(s, journal_del(s->journal, kind, r->arn));
}

static void journal_event(struct store *s, const cJSON *e)
{
    if (journal_missing(s) || !s->journal)
        return;
    journal_done(s, journal_put(s->journal, "ivs:event", jstr(e, "id"), e));
}

static void journal_record_clear(struct store *s, const char *kind)
{
    if (journal_missing(s) || !s->journal)
        return;
    journal_done(s, journal_clear(s->journal, kind));
}

/* A change that could not be journaled is not acknowledged as done. */
static void journal_verdict(struct store *s, struct emu_reply *out)
{
    if (s->journal_failed && out->status < 400)
        emu_reply_error(out, 500, "InternalServerException",
                        "The change could not be recorded durably.");
    s->journal_failed = 0;
}

/* Looks up an ARN argument of a given type: 400 when malformed, 404 when unknown. */
static struct res *need(struct partition *p, const char *arn, enum rtype type,
                        struct emu_reply *out)
{
    char region[64], account[32];
    if (!arn) {
        emu_reply_error(out, 400, "ValidationException", "Missing required parameter.");
        return NULL;
    }
    if (arn_parse(arn, region, sizeof region, account, sizeof account) != (int)type) {
        emu_reply_error(out, 400, "ValidationException", "Invalid %s ARN: %s", s_type_names[type],
                        arn);
        return NULL;
    }
    struct res *r = res_find(p, arn, type);
    if (!r)
        NOT_FOUND(out, arn);
    return r;
}

/* ------------------------------------------------------------------------------------ */
/* Tags */

static int tags_valid(const cJSON *tags, struct emu_reply *out)
{
    if (!tags)
        return 1;
    if (!cJSON_IsObject(tags)) {
        emu_reply_error(out, 400, "ValidationException", "tags must be a map of strings.");
        return 0;
    }
    int n = 0;
    for (const cJSON *t = tags->child; t; t = t->next, n++) {
        if (!cJSON_IsString(t) || !t->string || !*t->string || strlen(t->string) > 128 ||
            strlen(t->valuestring) > 256) {
            emu_reply_error(out, 400, "ValidationException", "Invalid tag: %s",
                            t->string ? t->string : "");
            return 0;
        }
    }
    if (n > QUOTA_TAGS) {
        emu_reply_error(out, 400, "ValidationException", "A resource can have at most %d tags.",
                        QUOTA_TAGS);
        return 0;
    }
    return 1;
}

static cJSON *tags_copy(const cJSON *tags) { return tags ? jdup(tags) : cJSON_CreateObject(); }

/* ------------------------------------------------------------------------------------ */
/* Pagination */

struct page {
    long max;
    uint64_t cursor; /* first seq (or index) to return */
    uint64_t fingerprint;
    const char *op;
};

static int page_begin(const cJSON *in, const char *op, const char *filter, long def, long limit,
                      struct page *pg, struct emu_reply *out)
{
    pg->op = op;
    pg->cursor = 0;
    struct buf fp = BUF_INIT;
    buf_printf(&fp, "%s|%s", op, filter ? filter : "");
    pg->fingerprint = emu_hash(buf_str(&fp));
    buf_free(&fp);
    const cJSON *m = jget(in, "maxResults");
    pg->max = def;
    if (m) {
        if (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > (double)limit) {
            emu_reply_error(out, 400, "ValidationException",
                            "maxResults must be between 1 and %ld.", limit);
            return -1;
        }
        pg->max = (long)m->valuedouble;
    }
    const char *tok = jstr(in, "nextToken");
    if (tok && *tok) {
        size_t len = 0;
        char *raw = strlen(tok) <= 1024 ? emu_base64_decode(tok, &len) : NULL;
        char opname[64];
        unsigned long long fpv = 0, cur = 0;
        int ok = raw && strlen(raw) == len &&
                 sscanf(raw, "v1|%63[A-Za-z]|%llx|%llu", opname, &fpv, &cur) == 3 &&
                 !strcmp(opname, op) && fpv == pg->fingerprint;
        free(raw);
        if (!ok) {
            emu_reply_error(out, 400, "ValidationException",
                            "The nextToken is not valid for this request.");
            return -1;
        }
        pg->cursor = cur;
    }
    return 0;
}

static void page_token(cJSON *o, const struct page *pg, uint64_t next_cursor)
{
    char raw[160];
    snprintf(raw, sizeof raw, "v1|%s|%llx|%llu", pg->op, (unsigned long long)pg->fingerprint,
             (unsigned long long)next_cursor);
    char *tok = emu_base64_encode(raw, strlen(raw));
    if (tok)
        cJSON_AddStringToObject(o, "nextToken", tok);
    free(tok);
}

typedef int (*res_pred)(const struct res *r, const void *arg);
typedef cJSON *(*res_view)(const struct res *r);

/* Lists a vector in creation order, filtered and paged; adds `key` and nextToken to o. */
static void page_list(cJSON *o, const char *key, const struct resvec *v, const struct page *pg,
                      res_pred pred, const void *arg, res_view view)
{
    cJSON *arr = cJSON_AddArrayToObject(o, key);
    long taken = 0;
    for (size_t i = resvec_lower_bound(v, pg->cursor); i < v->n; i++) {
        const struct res *r = v->items[i];
        if (pred && !pred(r, arg))
            continue;
        if (taken == pg->max) {
            page_token(o, pg, r->seq);
            return;
        }
        cJSON_AddItemToArray(arr, view(r));
        taken++;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Views */

/* A list operation's entries as the model's summary shape has them (ChannelSummary...), so
 * no member list is copied here by hand. */
static const struct model_shape *summary_shape(const char *operation, const char *member)
{
    const struct model_operation *op = model_find_operation(model_default_service(), operation);
    const struct model_member *m = op && op->output ? model_find_member(op->output, member) : NULL;
    return m && m->shape ? m->shape->member_shape : NULL;
}

static cJSON *view_channel_summary(const struct res *r)
{
    return eng_project(r->obj, summary_shape("ListChannels", "channels"));
}
static cJSON *view_key_summary(const struct res *r)
{
    return eng_project(r->obj, summary_shape("ListStreamKeys", "streamKeys"));
}
static cJSON *view_keypair_summary(const struct res *r)
{
    return eng_project(r->obj, summary_shape("ListPlaybackKeyPairs", "keyPairs"));
}
static cJSON *view_recording_summary(const struct res *r)
{
    return eng_project(r->obj,
                       summary_shape("ListRecordingConfigurations", "recordingConfigurations"));
}
static cJSON *view_policy_summary(const struct res *r)
{
    return eng_project(
        r->obj, summary_shape("ListPlaybackRestrictionPolicies", "playbackRestrictionPolicies"));
}
static cJSON *view_ad_summary(const struct res *r)
{
    return eng_project(r->obj, summary_shape("ListAdConfigurations", "adConfigurations"));
}
static cJSON *view_stream_summary(const struct res *r)
{
    return eng_project(r->stream, summary_shape("ListStreams", "streams"));
}

/* ------------------------------------------------------------------------------------ */
/* Events */

static void emit_event(struct partition *p, const char *detail_type, const char *channel_arn,
                       cJSON *detail)
{
    char id[37], when[21];
    emu_uuid(id);
    emu_iso_time(emu_now(), when);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "version", "0");
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddStringToObject(e, "detail-type", detail_type);
    cJSON_AddStringToObject(e, "source", "aws.ivs");
    cJSON_AddStringToObject(e, "account", p->account);
    cJSON_AddStringToObject(e, "time", when);
    cJSON_AddStringToObject(e, "region", p->region);
    cJSON *resources = cJSON_AddArrayToObject(e, "resources");
    if (channel_arn)
        cJSON_AddItemToArray(resources, cJSON_CreateString(channel_arn));
    cJSON_AddItemToObject(e, "detail", detail);
    cJSON_AddItemToArray(p->events, e);
    journal_event(p->store, e);
    while (cJSON_GetArraySize(p->events) > EVENTS_KEPT)
        cJSON_DeleteItemFromArray(p->events, 0);
}

/* Records a stream event in the session (newest first) and emits the matching EventBridge
 * event of the "IVS Stream State Change" family. */
static void stream_event(cJSON *session, const char *detail_type, const char *name,
                         const char *code)
{
    char when[21];
    emu_iso_time(emu_now(), when);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "name", name);
    cJSON_AddStringToObject(ev, "type", detail_type);
    cJSON_AddStringToObject(ev, "eventTime", when);
    if (code)
        cJSON_AddStringToObject(ev, "code", code);
    cJSON *events = cJSON_GetObjectItemCaseSensitive(session, "truncatedEvents");
    cJSON_InsertItemInArray(events, 0, ev);
    while (cJSON_GetArraySize(events) > 500)
        cJSON_DeleteItemFromArray(events, 500);
}

static void emit_stream_state(struct res *ch, cJSON *session, const char *detail_type,
                              const char *name, const char *code)
{
    stream_event(session, detail_type, name, code);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "event_name", name);
    cJSON_AddStringToObject(d, "channel_name", jstr(ch->obj, "name") ? jstr(ch->obj, "name") : "");
    cJSON_AddStringToObject(d, "stream_id", jstr(session, "streamId"));
    if (code)
        cJSON_AddStringToObject(d, "code", code);
    emit_event(ch->part, detail_type, ch->arn, d);
}

static void emit_recording(struct res *ch, cJSON *session, const char *status, double duration_ms)
{
    const cJSON *rec = jget(session, "recordingConfiguration");
    if (!rec)
        return;
    stream_event(session, "IVS Recording State Change", status, NULL);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "channel_name", jstr(ch->obj, "name") ? jstr(ch->obj, "name") : "");
    cJSON_AddStringToObject(d, "stream_id", jstr(session, "streamId"));
    cJSON_AddStringToObject(d, "recording_status", status);
    cJSON_AddStringToObject(d, "recording_status_reason", "");
    const cJSON *s3 = jget(jget(rec, "destinationConfiguration"), "s3");
    cJSON_AddStringToObject(d, "recording_s3_bucket_name",
                            jstr(s3, "bucketName") ? jstr(s3, "bucketName") : "");
    cJSON_AddStringToObject(d, "recording_s3_key_prefix", jstr(session, "_recordingPrefix"));
    cJSON_AddNumberToObject(d, "recording_duration_ms", duration_ms);
    cJSON_AddStringToObject(d, "recording_session_id", jstr(session, "_recordingSessionId"));
    if (!strcmp(status, "Recording End")) {
        cJSON *ids = cJSON_AddArrayToObject(d, "recording_session_stream_ids");
        cJSON_AddItemToArray(ids, cJSON_CreateString(jstr(session, "streamId")));
    }
    emit_event(ch->part, "IVS Recording State Change", ch->arn, d);
}

/* ------------------------------------------------------------------------------------ */
/* Channels */

static int is_advanced(const char *type) { return type && !strncmp(type, "ADVANCED_", 9); }

/* Resolves and checks a reference from a channel to another resource; "" detaches. */
static int check_ref(struct partition *p, const cJSON *in, const char *key, enum rtype type,
                     struct emu_reply *out)
{
    const char *arn = jstr(in, key);
    if (!arn || !*arn)
        return 1;
    return need(p, arn, type, out) != NULL;
}

static void set_ref(struct partition *p, cJSON *obj, const char *key, const char *arn,
                    enum rtype type)
{
    struct res *old = res_find(p, jstr(obj, key), type);
    if (old)
        old->refs--;
    struct res *nw = res_find(p, arn, type);
    if (nw)
        nw->refs++;
    jset_str(obj, key, arn ? arn : "");
}

/* The cross-field rules of Create/UpdateChannel, checked on the merged result. */
static int channel_rules(const cJSON *ch, struct emu_reply *out)
{
    const char *type = jstr(ch, "type");
    const char *preset = jstr(ch, "preset");
    if (preset && *preset && !is_advanced(type)) {
        emu_reply_error(out, 400, "ValidationException",
                        "preset can only be set on ADVANCED_SD and ADVANCED_HD channels.");
        return 0;
    }
    const cJSON *mt = jget(ch, "multitrackInputConfiguration");
    if (cJSON_IsTrue(jget(mt, "enabled"))) {
        if (!type || strcmp(type, "STANDARD") != 0) {
            emu_reply_error(out, 400, "ValidationException",
                            "Multitrack input is only supported on STANDARD channels.");
            return 0;
        }
        const char *cf = jstr(ch, "containerFormat");
        if (!cf || strcmp(cf, "FRAGMENTED_MP4") != 0) {
            emu_reply_error(out, 400, "ValidationException",
                            "Multitrack input requires containerFormat FRAGMENTED_MP4.");
            return 0;
        }
    }
    return 1;
}

static void apply_channel_fields(struct partition *p, cJSON *ch, const cJSON *in, int creating)
{
    static const char *const scalar_keys[] = {"name", "latencyMode", "type", "containerFormat",
                                              NULL};
    for (const char *const *k = scalar_keys; *k; k++)
        if (jstr(in, *k))
            jset_str(ch, *k, jstr(in, *k));
    if (jget(in, "authorized"))
        jset(ch, "authorized", cJSON_CreateBool(cJSON_IsTrue(jget(in, "authorized"))));
    if (jget(in, "insecureIngest"))
        jset(ch, "insecureIngest", cJSON_CreateBool(cJSON_IsTrue(jget(in, "insecureIngest"))));
    if (jstr(in, "preset"))
        jset_str(ch, "preset", jstr(in, "preset"));
    else if (jstr(in, "type"))
        /* Changing the type without a preset resets it to the type's default. */
        jset_str(ch, "preset", is_advanced(jstr(in, "type")) ? "HIGHER_BANDWIDTH_DELIVERY" : "");
    const cJSON *mt = jget(in, "multitrackInputConfiguration");
    if (cJSON_IsObject(mt)) {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(ch, "multitrackInputConfiguration");
        for (const cJSON *m = mt->child; m; m = m->next)
            jset(cur, m->string, jdup(m));
    }
    static const struct {
        const char *key;
        enum rtype type;
    } refs[] = {{"recordingConfigurationArn", RT_RECORDING},
                {"playbackRestrictionPolicyArn", RT_PRP},
                {"adConfigurationArn", RT_AD}};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        if (jstr(in, refs[i].key) || creating)
            set_ref(p, ch, refs[i].key, jstr(in, refs[i].key) ? jstr(in, refs[i].key) : "",
                    refs[i].type);
}

static struct res *new_stream_key(struct store *s, struct partition *p, struct res *ch,
                                  const cJSON *tags)
{
    char arn[160], id[13], tail[31];
    make_arn(arn, sizeof arn, p, RT_STREAM_KEY, id);
    emu_random_alnum(tail, 30);
    struct buf value = BUF_INIT;
    buf_printf(&value, "sk_%s_%s_%s", p->region, id, tail);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arn", arn);
    cJSON_AddStringToObject(o, "value", buf_str(&value));
    cJSON_AddStringToObject(o, "channelArn", ch->arn);
    cJSON_AddItemToObject(o, "tags", tags_copy(tags));
    buf_free(&value);
    struct res *k = res_add(s, p, RT_STREAM_KEY, arn, o, 0);
    if (!k) {
        cJSON_Delete(o);
        return NULL;
    }
    strmap_put(&s->key_values, jstr(k->obj, "value"), k);
    ch->stream_key = k;
    return k;
}

static void op_create_channel(struct store *s, struct partition *p, const cJSON *in,
                              struct emu_reply *out)
{
    if (!tags_valid(jget(in, "tags"), out) ||
        !check_ref(p, in, "recordingConfigurationArn", RT_RECORDING, out) ||
        !check_ref(p, in, "playbackRestrictionPolicyArn", RT_PRP, out) ||
        !check_ref(p, in, "adConfigurationArn", RT_AD, out))
        return;
    char arn[160], id[13], pass[80];
    cJSON *ch = new_resource(p, RT_CHANNEL, QUOTA_CHANNELS, "Channel", arn, id, out);
    if (!ch)
        return;
    emu_random_alnum(pass, 79);
    cJSON_AddStringToObject(ch, "name", "");
    cJSON_AddStringToObject(ch, "latencyMode", "LOW");
    cJSON_AddStringToObject(ch, "type", "STANDARD");
    cJSON_AddStringToObject(ch, "recordingConfigurationArn", "");
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s.global-contribute.live-video.net", p->prefix);
    cJSON_AddStringToObject(ch, "ingestEndpoint", buf_str(&b));
    buf_reset(&b);
    buf_printf(&b, "https://%s.%s.playback.live-video.net/api/video/v1/%s.%s.channel.%s.m3u8",
               p->prefix, p->region, p->region, p->account, id);
    cJSON_AddStringToObject(ch, "playbackUrl", buf_str(&b));
    cJSON_AddBoolToObject(ch, "authorized", 0);
    cJSON_AddItemToObject(ch, "tags", tags_copy(jget(in, "tags")));
    cJSON_AddBoolToObject(ch, "insecureIngest", 0);
    cJSON_AddStringToObject(ch, "preset", "");
    cJSON *srt = cJSON_AddObjectToObject(ch, "srt");
    buf_reset(&b);
    buf_printf(&b, "%s.srt.live-video.net", p->prefix);
    cJSON_AddStringToObject(srt, "endpoint", buf_str(&b));
    cJSON_AddStringToObject(srt, "passphrase", pass);
    buf_free(&b);
    cJSON_AddStringToObject(ch, "playbackRestrictionPolicyArn", "");
    cJSON *mt = cJSON_AddObjectToObject(ch, "multitrackInputConfiguration");
    cJSON_AddBoolToObject(mt, "enabled", 0);
    cJSON_AddStringToObject(mt, "maximumResolution", "FULL_HD");
    cJSON_AddStringToObject(mt, "policy", "ALLOW");
    cJSON_AddStringToObject(ch, "containerFormat", "TS");
    cJSON_AddStringToObject(ch, "adConfigurationArn", "");
    if (jstr(in, "type") && is_advanced(jstr(in, "type")) && !jstr(in, "preset"))
        jset_str(ch, "preset", "HIGHER_BANDWIDTH_DELIVERY");
    /* Check the rules on a scratch copy so a refusal leaves no references behind. */
    cJSON *probe = jdup(ch);
    static const char *const plain[] = {"name",   "latencyMode", "type", "containerFormat",
                                        "preset", NULL};
    for (const char *const *k = plain; *k; k++)
        if (jstr(in, *k))
            jset_str(probe, *k, jstr(in, *k));
    if (cJSON_IsObject(jget(in, "multitrackInputConfiguration")))
        jset(probe, "multitrackInputConfiguration", jdup(jget(in, "multitrackInputConfiguration")));
    int ok = channel_rules(probe, out);
    cJSON_Delete(probe);
    if (!ok) {
        cJSON_Delete(ch);
        return;
    }
    apply_channel_fields(p, ch, in, 1);
    struct res *r = res_add(s, p, RT_CHANNEL, arn, ch, 0);
    if (!r) {
        cJSON_Delete(ch);
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    struct res *k = new_stream_key(s, p, r, jget(in, "tags"));
    journal_res(s, r);
    if (k)
        journal_res(s, k);
    touch(s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "channel", jdup(r->obj));
    if (k)
        cJSON_AddItemToObject(o, "streamKey", jdup(k->obj));
    reply_json(out, 200, o);
}

static void op_update_channel(struct store *s, struct partition *p, const cJSON *in,
                              struct emu_reply *out)
{
    struct res *r = need(p, jstr(in, "arn"), RT_CHANNEL, out);
    if (!r || !check_ref(p, in, "recordingConfigurationArn", RT_RECORDING, out) ||
        !check_ref(p, in, "playbackRestrictionPolicyArn", RT_PRP, out) ||
        !check_ref(p, in, "adConfigurationArn", RT_AD, out))
        return;
    if (r->stream) {
        emu_reply_error(out, 409, "ConflictException", "Live channels cannot be updated.");
        return;
    }
    cJSON *probe = jdup(r->obj);
    static const char *const plain[] = {"name",   "latencyMode", "type", "containerFormat",
                                        "preset", NULL};
    for (const char *const *k = plain; *k; k++)
        if (jstr(in, *k))
            jset_str(probe, *k, jstr(in, *k));
    if (jstr(in, "type") && !jstr(in, "preset"))
        jset_str(probe, "preset", is_advanced(jstr(in, "type")) ? "HIGHER_BANDWIDTH_DELIVERY" : "");
    const cJSON *mt = jget(in, "multitrackInputConfiguration");
    if (cJSON_IsObject(mt))
        for (const cJSON *m = mt->child; m; m = m->next)
            jset(cJSON_GetObjectItemCaseSensitive(probe, "multitrackInputConfiguration"), m->string,
                 jdup(m));
    int ok = channel_rules(probe, out);
    cJSON_Delete(probe);
    if (!ok)
        return;
    apply_channel_fields(p, r->obj, in, 0);
    journal_res(s, r);
    touch(s);
    reply_wrap(out, "channel", jdup(r->obj));
}

static void op_delete_channel(struct store *s, struct partition *p, const cJSON *in,
                              struct emu_reply *out)
{
    struct res *r = need(p, jstr(in, "arn"), RT_CHANNEL, out);
    if (!r)
        return;
    if (r->stream) {
        emu_reply_error(out, 409, "ConflictException",
                        "Cannot delete a live channel; stop the stream first.");
        return;
    }
    set_ref(p, r->obj, "recordingConfigurationArn", "", RT_RECORDING);
    set_ref(p, r->obj, "playbackRestrictionPolicyArn", "", RT_PRP);
    set_ref(p, r->obj, "adConfigurationArn", "", RT_AD);
    if (r->stream_key)
        res_remove(s, r->stream_key);
    res_remove(s, r);
    touch(s);
    reply_json(out, 204, NULL);
}

static void op_batch_get(struct partition *p, const cJSON *in, enum rtype type, const char *key,
                         struct emu_reply *out)
{
    const cJSON *arns = jget(in, "arns");
    int n = cJSON_GetArraySize(arns);
    if (!cJSON_IsArray(arns) || n < 1 || n > 50) {
        emu_reply_error(out, 400, "ValidationException", "arns must hold between 1 and 50 ARNs.");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(o, key);
    cJSON *errors = cJSON_AddArrayToObject(o, "errors");
    const cJSON *a;
    cJSON_ArrayForEach(a, arns)
    {
        const char *arn = cJSON_IsString(a) ? a->valuestring : "";
        struct res *r = res_find(p, arn, type);
        if (r) {
            cJSON_AddItemToArray(items, jdup(r->obj));
            continue;
        }
        char region[64], account[32];
        int bad = arn_parse(arn, region, sizeof region, account, sizeof account) != (int)type;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "arn", arn);
        cJSON_AddStringToObject(e, "code", bad ? "400" : "404");
        cJSON_AddStringToObject(e, "message", bad ? "invalid ARN" : "not found");
        cJSON_AddItemToArray(errors, e);
    }
    reply_json(out, 200, o);
}

struct channel_filter {
    const char *key;
    const char *value;
};

static int pred_channel(const struct res *r, const void *arg)
{
    const struct channel_filter *f = arg;
    if (!f->key)
        return 1;
    const char *v = jstr(r->obj, f->key);
    return v && !strcmp(v, f->value);
}

static void op_list_channels(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    static const struct {
        const char *input;
        const char *field;
    } filters[] = {{"filterByName", "name"},
                   {"filterByRecordingConfigurationArn", "recordingConfigurationArn"},
                   {"filterByPlaybackRestrictionPolicyArn", "playbackRestrictionPolicyArn"},
                   {"filterByAdConfigurationArn", "adConfigurationArn"}};
    struct channel_filter f = {NULL, NULL};
    int count = 0;
    struct buf fp = BUF_INIT;
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        const char *v = jstr(in, filters[i].input);
        if (v) {
            count++;
            f.key = filters[i].field;
            f.value = v;
            buf_printf(&fp, "%s=%s;", filters[i].input, v);
        }
    }
    if (count > 1) {
        buf_free(&fp);
        emu_reply_error(out, 409, "ConflictException", "Only one filter can be used at a time.");
        return;
    }
    struct page pg;
    int rc = page_begin(in, "ListChannels", buf_str(&fp), 100, 100, &pg, out);
    buf_free(&fp);
    if (rc != 0)
        return;
    cJSON *o = cJSON_CreateObject();
    page_list(o, "channels", &p->lists[RT_CHANNEL], &pg, pred_channel, &f, view_channel_summary);
    reply_json(out, 200, o);
}

/* ------------------------------------------------------------------------------------ */
/* Stream keys */

static void op_create_stream_key(struct store *s, struct partition *p, const cJSON *in,
                                 struct emu_reply *out)
{
    struct res *ch = need(p, jstr(in, "channelArn"), RT_CHANNEL, out);
    if (!ch || !tags_valid(jget(in, "tags"), out))
        return;
    if (ch->stream_key) {
        emu_reply_error(
            out, 402, "ServiceQuotaExceededException",
            "A channel can have at most %d stream key; delete it before creating another.",
            QUOTA_STREAM_KEYS_PER_CHANNEL);
        return;
    }
    struct res *k = new_stream_key(s, p, ch, jget(in, "tags"));
    if (!k) {
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    journal_res(s, k);
    touch(s);
    reply_wrap(out, "streamKey", jdup(k->obj));
}

static void op_delete_stream_key(struct store *s, struct partition *p, const cJSON *in,
                                 struct emu_reply *out)
{
    struct res *r = need(p, jstr(in, "arn"), RT_STREAM_KEY, out);
    if (!r)
        return;
    struct res *ch = res_find(p, jstr(r->obj, "channelArn"), RT_CHANNEL);
    if (ch && ch->stream_key == r)
        ch->stream_key = NULL;
    res_remove(s, r);
    touch(s);
    reply_json(out, 204, NULL);
}

static void op_list_stream_keys(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    struct res *ch = need(p, jstr(in, "channelArn"), RT_CHANNEL, out);
    struct page pg;
    if (!ch || page_begin(in, "ListStreamKeys", ch->arn, 1, 50, &pg, out) != 0)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "streamKeys");
    if (ch->stream_key && ch->stream_key->seq >= pg.cursor)
        cJSON_AddItemToArray(arr, view_key_summary(ch->stream_key));
    reply_json(out, 200, o);
}

/* ------------------------------------------------------------------------------------ */
/* Recording configurations */

static void op_create_recording(struct store *s, struct partition *p, const cJSON *in,
                                struct emu_reply *out)
{
    const cJSON *dest = jget(in, "destinationConfiguration");
    const char *bucket = jstr(jget(dest, "s3"), "bucketName");
    if (!bucket) {
        emu_reply_error(out, 400, "ValidationException",
                        "destinationConfiguration.s3.bucketName is required.");
        return;
    }
    const cJSON *rend = jget(in, "renditionConfiguration");
    const char *sel = jstr(rend, "renditionSelection");
    if (sel && !strcmp(sel, "CUSTOM") && cJSON_GetArraySize(jget(rend, "renditions")) == 0) {
        emu_reply_error(out, 400, "ValidationException",
                        "renditions is required when renditionSelection is CUSTOM.");
        return;
    }
    if (!tags_valid(jget(in, "tags"), out))
        return;
    char arn[160], id[13];
    cJSON *o = new_resource(p, RT_RECORDING, QUOTA_RECORDING_CONFIGURATIONS,
                            "Recording configuration", arn, id, out);
    if (!o)
        return;
    cJSON_AddStringToObject(o, "name", jstr(in, "name") ? jstr(in, "name") : "");
    cJSON_AddItemToObject(o, "destinationConfiguration", jdup(dest));
    cJSON_AddStringToObject(o, "state", "ACTIVE");
    cJSON_AddItemToObject(o, "tags", tags_copy(jget(in, "tags")));
    cJSON *th = cJSON_AddObjectToObject(o, "thumbnailConfiguration");
    cJSON_AddStringToObject(th, "recordingMode", "INTERVAL");
    cJSON_AddNumberToObject(th, "targetIntervalSeconds", 60);
    cJSON_AddStringToObject(th, "resolution", "");
    cJSON *storage = cJSON_AddArrayToObject(th, "storage");
    cJSON_AddItemToArray(storage, cJSON_CreateString("SEQUENTIAL"));
    const cJSON *tin = jget(in, "thumbnailConfiguration");
    if (cJSON_IsObject(tin))
        for (const cJSON *m = tin->child; m; m = m->next)
            jset(th, m->string, jdup(m));
    const cJSON *window = jget(in, "recordingReconnectWindowSeconds");
    cJSON_AddNumberToObject(o, "recordingReconnectWindowSeconds",
                            cJSON_IsNumber(window) ? window->valuedouble : 0);
    cJSON *rc = cJSON_AddObjectToObject(o, "renditionConfiguration");
    cJSON_AddStringToObject(rc, "renditionSelection", "ALL");
    cJSON_AddArrayToObject(rc, "renditions");
    if (cJSON_IsObject(rend))
        for (const cJSON *m = rend->child; m; m = m->next)
            jset(rc, m->string, jdup(m));
    struct res *r = res_add(s, p, RT_RECORDING, arn, o, 0);
    if (!r) {
        cJSON_Delete(o);
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    journal_res(s, r);
    touch(s);
    reply_wrap(out, "recordingConfiguration", jdup(r->obj));
}

/* Shared by the Get and Delete operations of the simpler resource types. */
static void op_get_simple(struct partition *p, const cJSON *in, enum rtype type, const char *key,
                          struct emu_reply *out)
{
    struct res *r = need(p, jstr(in, "arn"), type, out);
    if (r)
        reply_wrap_ref(out, key, r->obj);
}

static void op_delete_simple(struct store *s, struct partition *p, const cJSON *in, enum rtype type,
                             int status, struct emu_reply *out)
{
    struct res *r = need(p, jstr(in, "arn"), type, out);
    if (!r)
        return;
    if (r->refs > 0) {
        emu_reply_error(out, 409, "ConflictException", "Resource %s is in use by %d channel(s).",
                        r->arn, r->refs);
        return;
    }
    res_remove(s, r);
    touch(s);
    reply_json(out, status, status == 204 ? NULL : cJSON_CreateObject());
}

static void op_list_simple(struct partition *p, const cJSON *in, enum rtype type, const char *op,
                           const char *key, long def, res_view view, struct emu_reply *out)
{
    struct page pg;
    if (page_begin(in, op, "", def, 100, &pg, out) != 0)
        return;
    cJSON *o = cJSON_CreateObject();
    page_list(o, key, &p->lists[type], &pg, NULL, NULL, view);
    reply_json(out, 200, o);
}

/* ------------------------------------------------------------------------------------ */
/* Playback key pairs */

static void op_import_playback_key(struct store *s, struct partition *p, const cJSON *in,
                                   struct emu_reply *out)
{
    const char *pem = jstr(in, "publicKeyMaterial");
    char fp[48];
    if (!pem) {
        emu_reply_error(out, 400, "ValidationException", "publicKeyMaterial is required.");
        return;
    }
    const char *why = NULL;
    if (emu_p384_fingerprint(pem, fp, &why) != 0) {
        emu_reply_error(out, 400, "ValidationException", "%s", why);
        return;
    }
    if (!tags_valid(jget(in, "tags"), out))
        return;
    const struct resvec *v = &p->lists[RT_PLAYBACK_KEY];
    for (size_t i = 0; i < v->n; i++) {
        if (!strcmp(jstr(v->items[i]->obj, "fingerprint"), fp)) {
            emu_reply_error(out, 409, "ConflictException",
                            "This public key is already imported as %s.", v->items[i]->arn);
            return;
        }
    }
    char arn[160], id[13];
    cJSON *o =
        new_resource(p, RT_PLAYBACK_KEY, QUOTA_PLAYBACK_KEYS, "Playback key pair", arn, id, out);
    if (!o)
        return;
    cJSON_AddStringToObject(o, "name", jstr(in, "name") ? jstr(in, "name") : "");
    cJSON_AddStringToObject(o, "fingerprint", fp);
    cJSON_AddItemToObject(o, "tags", tags_copy(jget(in, "tags")));
    struct res *r = res_add(s, p, RT_PLAYBACK_KEY, arn, o, 0);
    if (!r) {
        cJSON_Delete(o);
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    journal_res(s, r);
    touch(s);
    reply_wrap(out, "keyPair", jdup(r->obj));
}

/* ------------------------------------------------------------------------------------ */
/* Playback restriction policies and ad configurations */

static void copy_members(cJSON *o, const cJSON *in, const char *const *keys)
{
    for (; *keys; keys++)
        if (jget(in, *keys))
            jset(o, *keys, jdup(jget(in, *keys)));
}

static const char *const k_prp_fields[] = {"allowedCountries", "allowedOrigins",
                                           "enableStrictOriginEnforcement", "name", NULL};
static const char *const k_ad_fields[] = {"name", "mediaTailorPlaybackConfigurations",
                                          "postRollConfiguration", NULL};

static void op_create_prp(struct store *s, struct partition *p, const cJSON *in,
                          struct emu_reply *out)
{
    if (!tags_valid(jget(in, "tags"), out))
        return;
    char arn[160], id[13];
    cJSON *o = new_resource(p, RT_PRP, QUOTA_PLAYBACK_RESTRICTION_POLICIES,
                            "Playback restriction policy", arn, id, out);
    if (!o)
        return;
    cJSON_AddArrayToObject(o, "allowedCountries");
    cJSON_AddArrayToObject(o, "allowedOrigins");
    cJSON_AddBoolToObject(o, "enableStrictOriginEnforcement", 0);
    cJSON_AddStringToObject(o, "name", "");
    cJSON_AddItemToObject(o, "tags", tags_copy(jget(in, "tags")));
    copy_members(o, in, k_prp_fields);
    struct res *r = res_add(s, p, RT_PRP, arn, o, 0);
    if (!r) {
        cJSON_Delete(o);
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    journal_res(s, r);
    touch(s);
    reply_wrap(out, "playbackRestrictionPolicy", jdup(r->obj));
}

static int ad_rules(const cJSON *in, struct emu_reply *out)
{
    const cJSON *list = jget(in, "mediaTailorPlaybackConfigurations");
    if (list) {
        int n = cJSON_GetArraySize(list);
        if (!cJSON_IsArray(list) || n < 1 || n > 3) {
            emu_reply_error(out, 400, "ValidationException",
                            "mediaTailorPlaybackConfigurations must hold 1 to 3 items.");
            return 0;
        }
    }
    return 1;
}

static void op_create_ad(struct store *s, struct partition *p, const cJSON *in,
                         struct emu_reply *out)
{
    if (!jget(in, "mediaTailorPlaybackConfigurations")) {
        emu_reply_error(out, 400, "ValidationException",
                        "mediaTailorPlaybackConfigurations is required.");
        return;
    }
    if (!ad_rules(in, out) || !tags_valid(jget(in, "tags"), out))
        return;
    char arn[160], id[13];
    cJSON *o = new_resource(p, RT_AD, QUOTA_AD_CONFIGURATIONS, "Ad configuration", arn, id, out);
    if (!o)
        return;
    cJSON_AddStringToObject(o, "name", "");
    cJSON *post = cJSON_AddObjectToObject(o, "postRollConfiguration");
    cJSON_AddNumberToObject(post, "durationSeconds", 15);
    cJSON_AddBoolToObject(post, "enabled", 0);
    cJSON_AddItemToObject(o, "tags", tags_copy(jget(in, "tags")));
    copy_members(o, in, k_ad_fields);
    struct res *r = res_add(s, p, RT_AD, arn, o, 0);
    if (!r) {
        cJSON_Delete(o);
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    journal_res(s, r);
    touch(s);
    reply_wrap(out, "adConfiguration", jdup(r->obj));
}

static void op_update_simple(struct store *s, struct partition *p, const cJSON *in, enum rtype type,
                             const char *key, struct emu_reply *out)
{
    struct res *r = need(p, jstr(in, "arn"), type, out);
    if (!r || (type == RT_AD && !ad_rules(in, out)))
        return;
    copy_members(r->obj, in, type == RT_AD ? k_ad_fields : k_prp_fields);
    journal_res(s, r);
    touch(s);
    reply_wrap(out, key, jdup(r->obj));
}

/* ------------------------------------------------------------------------------------ */
/* Tags */

static struct res *need_any(struct partition *p, const char *arn, struct emu_reply *out)
{
    char region[64], account[32];
    if (!arn || arn_parse(arn, region, sizeof region, account, sizeof account) < 0) {
        emu_reply_error(out, 400, "ValidationException", "Invalid resource ARN: %s",
                        arn ? arn : "");
        return NULL;
    }
    struct res *r = strmap_get(&p->by_arn, arn);
    if (!r)
        NOT_FOUND(out, arn);
    return r;
}

static void op_tag(struct store *s, struct partition *p, const cJSON *in, struct emu_reply *out)
{
    struct res *r = need_any(p, jstr(in, "resourceArn"), out);
    const cJSON *tags = jget(in, "tags");
    if (!r || !tags_valid(tags, out))
        return;
    if (!tags) {
        emu_reply_error(out, 400, "ValidationException", "tags is required.");
        return;
    }
    cJSON *merged = jdup(jget(r->obj, "tags"));
    for (const cJSON *t = tags->child; t; t = t->next)
        jset(merged, t->string, jdup(t));
    if (!tags_valid(merged, out)) {
        cJSON_Delete(merged);
        return;
    }
    jset(r->obj, "tags", merged);
    journal_res(s, r);
    touch(s);
    reply_json(out, 200, cJSON_CreateObject());
}

static void op_untag(struct store *s, struct partition *p, const cJSON *in, struct emu_reply *out)
{
    struct res *r = need_any(p, jstr(in, "resourceArn"), out);
    if (!r)
        return;
    const cJSON *keys = jget(in, "tagKeys");
    if (!cJSON_IsArray(keys)) {
        emu_reply_error(out, 400, "ValidationException", "tagKeys is required.");
        return;
    }
    cJSON *tags = cJSON_GetObjectItemCaseSensitive(r->obj, "tags");
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        if (cJSON_IsString(k))
            cJSON_DeleteItemFromObjectCaseSensitive(tags, k->valuestring);
    }
    journal_res(s, r);
    touch(s);
    reply_json(out, 200, cJSON_CreateObject());
}

static void op_list_tags(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    struct res *r = need_any(p, jstr(in, "resourceArn"), out);
    if (r)
        reply_wrap(out, "tags", jdup(jget(r->obj, "tags")));
}

/* ------------------------------------------------------------------------------------ */
/* Streams */

static struct res *need_live(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    struct res *ch = need(p, jstr(in, "channelArn"), RT_CHANNEL, out);
    if (ch && !ch->stream) {
        emu_reply_error(out, 404, "ChannelNotBroadcasting", "Channel %s is not broadcasting.",
                        ch->arn);
        return NULL;
    }
    return ch;
}

static cJSON *current_session(struct res *ch)
{
    int n = cJSON_GetArraySize(ch->sessions);
    return n ? cJSON_GetArrayItem(ch->sessions, n - 1) : NULL;
}

/* Ends the live stream of a channel: endTime, events, and the channel leaves the live set. */
static void stream_end(struct store *s, struct res *ch, const char *code)
{
    cJSON *session = current_session(ch);
    double now = emu_now();
    char when[21];
    emu_iso_time(now, when);
    if (session) {
        jset_str(session, "endTime", when);
        if (code)
            jset(session, "_hasErrorEvent", cJSON_CreateTrue());
        emit_stream_state(ch, session, "IVS Stream State Change", "Session Ended", code);
        emit_stream_state(ch, session, "IVS Stream State Change", "Stream End", NULL);
        const cJSON *start = jget(session, "_startEpoch");
        emit_recording(ch, session, "Recording End",
                       cJSON_IsNumber(start) ? (now - start->valuedouble) * 1000.0 : 0);
    }
    cJSON_Delete(ch->stream);
    ch->stream = NULL;
    resvec_remove(&ch->part->live, ch);
    journal_res(s, ch);
    touch(s);
}

static void op_stop_stream(struct store *s, struct partition *p, const cJSON *in,
                           struct emu_reply *out)
{
    struct res *ch = need_live(p, in, out);
    if (!ch)
        return;
    stream_end(s, ch, NULL);
    reply_json(out, 200, cJSON_CreateObject());
}

static void op_get_stream(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    struct res *ch = need_live(p, in, out);
    if (ch)
        reply_wrap(out, "stream", jdup(ch->stream));
}

static int pred_health(const struct res *r, const void *arg)
{
    const char *want = arg;
    return !want || !strcmp(jstr(r->stream, "health"), want);
}

static void op_list_streams(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    const char *health = jstr(jget(in, "filterBy"), "health");
    struct page pg;
    if (page_begin(in, "ListStreams", health, 100, 100, &pg, out) != 0)
        return;
    cJSON *o = cJSON_CreateObject();
    page_list(o, "streams", &p->live, &pg, pred_health, health, view_stream_summary);
    reply_json(out, 200, o);
}

static void op_get_stream_session(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    struct res *ch = need(p, jstr(in, "channelArn"), RT_CHANNEL, out);
    if (!ch)
        return;
    const char *id = jstr(in, "streamId");
    cJSON *found = NULL;
    if (!id) {
        found = current_session(ch);
    } else {
        cJSON *ss;
        cJSON_ArrayForEach(ss, ch->sessions)
        {
            if (!strcmp(jstr(ss, "streamId"), id))
                found = ss;
        }
    }
    if (!found) {
        emu_reply_error(out, 404, "ResourceNotFoundException",
                        "No stream session %s for channel %s.", id ? id : "(latest)", ch->arn);
        return;
    }
    reply_wrap(out, "streamSession", jpublic(found));
}

static void op_list_stream_sessions(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    struct res *ch = need(p, jstr(in, "channelArn"), RT_CHANNEL, out);
    struct page pg;
    if (!ch || page_begin(in, "ListStreamSessions", ch->arn, 100, 100, &pg, out) != 0)
        return;
    /* Newest first; the cursor counts from the newest session of the first page. */
    int n = cJSON_GetArraySize(ch->sessions);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "streamSessions");
    long taken = 0;
    /* The cursor is the 1-based index (from the oldest) of the next session to return. */
    int start = pg.cursor ? (int)pg.cursor - 1 : n - 1;
    if (start > n - 1)
        start = n - 1;
    for (int i = start; i >= 0; i--) {
        if (taken == pg.max) {
            page_token(o, &pg, (uint64_t)i + 1);
            break;
        }
        cJSON *ss = cJSON_GetArrayItem(ch->sessions, i);
        cJSON *sum = cJSON_CreateObject();
        cJSON_AddStringToObject(sum, "streamId", jstr(ss, "streamId"));
        cJSON_AddStringToObject(sum, "startTime", jstr(ss, "startTime"));
        if (jstr(ss, "endTime"))
            cJSON_AddStringToObject(sum, "endTime", jstr(ss, "endTime"));
        cJSON_AddBoolToObject(sum, "hasErrorEvent", cJSON_IsTrue(jget(ss, "_hasErrorEvent")));
        cJSON_AddItemToArray(arr, sum);
        taken++;
    }
    reply_json(out, 200, o);
}

/* A sliding one-second window over the last N timestamps; 1 when another call fits. */
static int rate_ok(double *times, unsigned n, unsigned *pos, double now)
{
    double oldest = times[*pos % n];
    if (oldest > 0 && now - oldest < 1.0)
        return 0;
    times[*pos % n] = now;
    (*pos)++;
    return 1;
}

static void op_put_metadata(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    const char *md = jstr(in, "metadata");
    if (!md || !*md || strlen(md) > METADATA_MAX_BYTES) {
        emu_reply_error(out, 400, "ValidationException",
                        "metadata must be between 1 byte and %d bytes.", METADATA_MAX_BYTES);
        return;
    }
    struct res *ch = need_live(p, in, out);
    if (!ch)
        return;
    double now = emu_now();
    if (!rate_ok(ch->meta_times, METADATA_PER_CHANNEL_PER_SECOND, &ch->meta_pos, now) ||
        !rate_ok(p->meta_times, METADATA_PER_ACCOUNT_PER_SECOND, &p->meta_pos, now)) {
        emu_reply_error(out, 429, "ThrottlingException",
                        "PutMetadata rate exceeded for channel %s.", ch->arn);
        return;
    }
    reply_json(out, 204, NULL);
}

static void op_insert_ad_break(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    const cJSON *d = jget(in, "durationSeconds");
    if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > 300) {
        emu_reply_error(out, 400, "ValidationException",
                        "durationSeconds must be between 1 and 300.");
        return;
    }
    struct res *ch = need_live(p, in, out);
    if (!ch)
        return;
    const char *ad = jstr(ch->obj, "adConfigurationArn");
    if (!ad || !*ad) {
        emu_reply_error(out, 409, "ConflictException", "Channel %s has no ad configuration.",
                        ch->arn);
        return;
    }
    char id[13];
    emu_random_alnum(id, 12);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "adBreakId", id);
    reply_json(out, 200, o);
}

/* ------------------------------------------------------------------------------------ */
/* Viewer-session revocation */

static int revoke_one(struct partition *p, const cJSON *item, const char **code, const char **msg)
{
    const char *arn = jstr(item, "channelArn"), *viewer = jstr(item, "viewerId");
    char region[64], account[32];
    if (!arn || !viewer || !*viewer || strlen(viewer) > 40 ||
        arn_parse(arn, region, sizeof region, account, sizeof account) != RT_CHANNEL) {
        *code = "400";
        *msg = "invalid channelArn or viewerId";
        return 0;
    }
    const cJSON *ver = jget(item, "viewerSessionVersionsLessThanOrEqualTo");
    if (ver && (!cJSON_IsNumber(ver) || ver->valuedouble < 0)) {
        *code = "400";
        *msg = "viewerSessionVersionsLessThanOrEqualTo must be 0 or more";
        return 0;
    }
    if (!res_find(p, arn, RT_CHANNEL)) {
        *code = "404";
        *msg = "channel not found";
        return 0;
    }
    return 1;
}

static void op_revoke(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    const char *code, *msg;
    if (need(p, jstr(in, "channelArn"), RT_CHANNEL, out) == NULL)
        return;
    if (!revoke_one(p, in, &code, &msg)) {
        emu_reply_error(out, 400, "ValidationException", "%s", msg);
        return;
    }
    reply_json(out, 200, cJSON_CreateObject());
}

static void op_batch_revoke(struct partition *p, const cJSON *in, struct emu_reply *out)
{
    const cJSON *list = jget(in, "viewerSessions");
    int n = cJSON_GetArraySize(list);
    if (!cJSON_IsArray(list) || n < 1 || n > 20) {
        emu_reply_error(out, 400, "ValidationException",
                        "viewerSessions must hold between 1 and 20 items.");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *errors = cJSON_AddArrayToObject(o, "errors");
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        const char *code, *msg;
        if (revoke_one(p, item, &code, &msg))
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "channelArn",
                                jstr(item, "channelArn") ? jstr(item, "channelArn") : "");
        cJSON_AddStringToObject(e, "viewerId",
                                jstr(item, "viewerId") ? jstr(item, "viewerId") : "");
        cJSON_AddStringToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddItemToArray(errors, e);
    }
    reply_json(out, 200, o);
}

/* ------------------------------------------------------------------------------------ */
/* Dispatch */

/* How an operation is run: most are one of the generic get/list/update/delete/batch-get
 * handlers on a resource type; the rest have a handler of their own. */
enum ivs_how { H_GET, H_BATCH_GET, H_DELETE, H_LIST, H_UPDATE, H_STORE, H_PART };

struct ivs_op {
    const char *name;
    enum ivs_how how;
    enum rtype type;
    const char *key; /* the output member (get, batch get, update, list) */
    long default_max;
    res_view view;
    void (*with_store)(struct store *, struct partition *, const cJSON *, struct emu_reply *);
    void (*with_part)(struct partition *, const cJSON *, struct emu_reply *);
};

#define OP_GET(n, t, k)                                                                            \
    {                                                                                              \
        n, H_GET, t, k, 0, NULL, NULL, NULL                                                        \
    }
#define OP_BATCH(n, t, k)                                                                          \
    {                                                                                              \
        n, H_BATCH_GET, t, k, 0, NULL, NULL, NULL                                                  \
    }
#define OP_DELETE(n, t)                                                                            \
    {                                                                                              \
        n, H_DELETE, t, NULL, 0, NULL, NULL, NULL                                                  \
    }
#define OP_LIST(n, t, k, d, v)                                                                     \
    {                                                                                              \
        n, H_LIST, t, k, d, v, NULL, NULL                                                          \
    }
#define OP_UPDATE(n, t, k)                                                                         \
    {                                                                                              \
        n, H_UPDATE, t, k, 0, NULL, NULL, NULL                                                     \
    }
#define OP_STORE(n, f)                                                                             \
    {                                                                                              \
        n, H_STORE, RT_COUNT, NULL, 0, NULL, f, NULL                                               \
    }
#define OP_PART(n, f)                                                                              \
    {                                                                                              \
        n, H_PART, RT_COUNT, NULL, 0, NULL, NULL, f                                                \
    }

/* Sorted by name (binary search); the routing guard test fails on any operation missing. */
static const struct ivs_op s_ivs_ops[] = {
    OP_BATCH("BatchGetChannel", RT_CHANNEL, "channels"),
    OP_BATCH("BatchGetStreamKey", RT_STREAM_KEY, "streamKeys"),
    OP_PART("BatchStartViewerSessionRevocation", op_batch_revoke),
    OP_STORE("CreateAdConfiguration", op_create_ad),
    OP_STORE("CreateChannel", op_create_channel),
    OP_STORE("CreatePlaybackRestrictionPolicy", op_create_prp),
    OP_STORE("CreateRecordingConfiguration", op_create_recording),
    OP_STORE("CreateStreamKey", op_create_stream_key),
    OP_DELETE("DeleteAdConfiguration", RT_AD),
    OP_STORE("DeleteChannel", op_delete_channel),
    OP_DELETE("DeletePlaybackKeyPair", RT_PLAYBACK_KEY),
    OP_DELETE("DeletePlaybackRestrictionPolicy", RT_PRP),
    OP_DELETE("DeleteRecordingConfiguration", RT_RECORDING),
    OP_STORE("DeleteStreamKey", op_delete_stream_key),
    OP_GET("GetAdConfiguration", RT_AD, "adConfiguration"),
    OP_GET("GetChannel", RT_CHANNEL, "channel"),
    OP_GET("GetPlaybackKeyPair", RT_PLAYBACK_KEY, "keyPair"),
    OP_GET("GetPlaybackRestrictionPolicy", RT_PRP, "playbackRestrictionPolicy"),
    OP_GET("GetRecordingConfiguration", RT_RECORDING, "recordingConfiguration"),
    OP_PART("GetStream", op_get_stream),
    OP_GET("GetStreamKey", RT_STREAM_KEY, "streamKey"),
    OP_PART("GetStreamSession", op_get_stream_session),
    OP_STORE("ImportPlaybackKeyPair", op_import_playback_key),
    OP_PART("InsertAdBreak", op_insert_ad_break),
    OP_LIST("ListAdConfigurations", RT_AD, "adConfigurations", QUOTA_AD_CONFIGURATIONS,
            view_ad_summary),
    OP_PART("ListChannels", op_list_channels),
    OP_LIST("ListPlaybackKeyPairs", RT_PLAYBACK_KEY, "keyPairs", QUOTA_PLAYBACK_KEYS,
            view_keypair_summary),
    OP_LIST("ListPlaybackRestrictionPolicies", RT_PRP, "playbackRestrictionPolicies", 1,
            view_policy_summary),
    OP_LIST("ListRecordingConfigurations", RT_RECORDING, "recordingConfigurations",
            QUOTA_RECORDING_CONFIGURATIONS, view_recording_summary),
    OP_PART("ListStreamKeys", op_list_stream_keys),
    OP_PART("ListStreamSessions", op_list_stream_sessions),
    OP_PART("ListStreams", op_list_streams),
    OP_PART("ListTagsForResource", op_list_tags),
    OP_PART("PutMetadata", op_put_metadata),
    OP_PART("StartViewerSessionRevocation", op_revoke),
    OP_STORE("StopStream", op_stop_stream),
    OP_STORE("TagResource", op_tag),
    OP_STORE("UntagResource", op_untag),
    OP_UPDATE("UpdateAdConfiguration", RT_AD, "adConfiguration"),
    OP_STORE("UpdateChannel", op_update_channel),
    OP_UPDATE("UpdatePlaybackRestrictionPolicy", RT_PRP, "playbackRestrictionPolicy"),
};

static int ivs_op_cmp(const void *key, const void *item)
{
    return strcmp(key, ((const struct ivs_op *)item)->name);
}

void store_call(struct store *s, const char *account, const char *region,
                const struct model_operation *op, const cJSON *in, struct emu_reply *out)
{
    pthread_mutex_lock(&s->lock);
    struct partition *p = partition_get(s, account, region);
    const struct ivs_op *o = bsearch(op->name, s_ivs_ops, sizeof s_ivs_ops / sizeof s_ivs_ops[0],
                                     sizeof s_ivs_ops[0], ivs_op_cmp);
    if (!p)
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
    else if (!o)
        emu_reply_error(out, 500, "InternalServerException", "Operation %s is not handled.",
                        op->name);
    else if (o->how == H_GET)
        op_get_simple(p, in, o->type, o->key, out);
    else if (o->how == H_BATCH_GET)
        op_batch_get(p, in, o->type, o->key, out);
    else if (o->how == H_DELETE)
        op_delete_simple(s, p, in, o->type, op->success_status, out);
    else if (o->how == H_LIST)
        op_list_simple(p, in, o->type, o->name, o->key, o->default_max, o->view, out);
    else if (o->how == H_UPDATE)
        op_update_simple(s, p, in, o->type, o->key, out);
    else if (o->how == H_STORE)
        o->with_store(s, p, in, out);
    else
        o->with_part(p, in, out);
    journal_verdict(s, out);
    pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------------------------ */
/* Admin API */

/* Finds the channel an admin request names by channelArn or streamKey (the key value). */
static struct res *admin_channel(struct store *s, const cJSON *body, struct emu_reply *out)
{
    const char *arn = jstr(body, "channelArn");
    const char *key = jstr(body, "streamKey");
    if (!arn && key) {
        struct res *k = strmap_get(&s->key_values, key);
        if (!k) {
            emu_reply_error(out, 404, "ResourceNotFoundException",
                            "No channel has this stream key.");
            return NULL;
        }
        arn = jstr(k->obj, "channelArn");
    }
    char region[64], account[32];
    if (!arn || arn_parse(arn, region, sizeof region, account, sizeof account) != RT_CHANNEL) {
        emu_reply_error(out, 400, "ValidationException",
                        "Give a channel ARN (channelArn) or a stream key value (streamKey).");
        return NULL;
    }
    struct partition *p = partition_get(s, account, region);
    struct res *ch = p ? res_find(p, arn, RT_CHANNEL) : NULL;
    if (!ch)
        NOT_FOUND(out, arn);
    return ch;
}

static cJSON *ingest_video(const cJSON *overrides)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "avcProfile", "Main");
    cJSON_AddStringToObject(v, "avcLevel", "4.1");
    cJSON_AddStringToObject(v, "codec", "avc1.4D4029");
    cJSON_AddStringToObject(v, "encoder", "ivs-emulator");
    cJSON_AddNumberToObject(v, "targetBitrate", 6000000);
    cJSON_AddNumberToObject(v, "targetFramerate", 30);
    cJSON_AddNumberToObject(v, "videoHeight", 1080);
    cJSON_AddNumberToObject(v, "videoWidth", 1920);
    cJSON_AddStringToObject(v, "level", "4.1");
    cJSON_AddStringToObject(v, "track", "Track0");
    cJSON_AddStringToObject(v, "profile", "Main");
    if (cJSON_IsObject(overrides))
        for (const cJSON *m = overrides->child; m; m = m->next)
            jset(v, m->string, jdup(m));
    return v;
}

static cJSON *ingest_audio(const cJSON *overrides)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "codec", "mp4a.40.2");
    cJSON_AddNumberToObject(a, "targetBitrate", 160000);
    cJSON_AddNumberToObject(a, "sampleRate", 48000);
    cJSON_AddNumberToObject(a, "channels", 2);
    cJSON_AddStringToObject(a, "track", "Track0");
    if (cJSON_IsObject(overrides))
        for (const cJSON *m = overrides->child; m; m = m->next)
            jset(a, m->string, jdup(m));
    return a;
}

static const char *valid_health(const char *h)
{
    if (h && (!strcmp(h, "HEALTHY") || !strcmp(h, "STARVING") || !strcmp(h, "UNKNOWN")))
        return h;
    return NULL;
}

static void admin_start(struct store *s, const cJSON *body, struct emu_reply *out)
{
    struct res *ch = admin_channel(s, body, out);
    if (!ch)
        return;
    if (ch->stream) {
        emu_reply_error(out, 409, "ConflictException", "Channel %s is already live.", ch->arn);
        return;
    }
    const char *health = jstr(body, "health");
    if (health && !valid_health(health)) {
        emu_reply_error(out, 400, "ValidationException",
                        "health must be HEALTHY, STARVING or UNKNOWN.");
        return;
    }
    const cJSON *viewers = jget(body, "viewerCount");
    double now = emu_now();
    char when[21], sid[27], rec_id[17];
    emu_iso_time(now, when);
    memcpy(sid, "st-", 3);
    emu_random_alnum(sid + 3, 23);
    emu_random_alnum(rec_id, 16);
    struct partition *p = ch->part;

    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "channelArn", ch->arn);
    cJSON_AddStringToObject(st, "streamId", sid);
    cJSON_AddStringToObject(st, "playbackUrl", jstr(ch->obj, "playbackUrl"));
    cJSON_AddStringToObject(st, "startTime", when);
    cJSON_AddStringToObject(st, "state", "LIVE");
    cJSON_AddStringToObject(st, "health", health ? health : "HEALTHY");
    cJSON_AddNumberToObject(st, "viewerCount", cJSON_IsNumber(viewers) ? viewers->valuedouble : 0);

    cJSON *ss = cJSON_CreateObject();
    cJSON_AddStringToObject(ss, "streamId", sid);
    cJSON_AddStringToObject(ss, "startTime", when);
    cJSON_AddItemToObject(ss, "channel", jdup(ch->obj));
    cJSON *video = ingest_video(jget(body, "video"));
    cJSON *audio = ingest_audio(jget(body, "audio"));
    cJSON *ic = cJSON_AddObjectToObject(ss, "ingestConfiguration");
    cJSON_AddItemToObject(ic, "video", jdup(video));
    cJSON_AddItemToObject(ic, "audio", jdup(audio));
    cJSON *ics = cJSON_AddObjectToObject(ss, "ingestConfigurations");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ics, "videoConfigurations"), video);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ics, "audioConfigurations"), audio);
    struct res *rec = res_find(p, jstr(ch->obj, "recordingConfigurationArn"), RT_RECORDING);
    if (rec)
        cJSON_AddItemToObject(ss, "recordingConfiguration", jdup(rec->obj));
    cJSON_AddArrayToObject(ss, "truncatedEvents");
    cJSON_AddNumberToObject(ss, "_startEpoch", now);
    cJSON_AddStringToObject(ss, "_recordingSessionId", rec_id);
    time_t secs = (time_t)now;
    struct tm tm;
    gmtime_r(&secs, &tm);
    struct buf prefix = BUF_INIT;
    char rec_key[13];
    emu_random_alnum(rec_key, 12);
    buf_printf(&prefix, "ivs/v1/%s/%s/%d/%d/%d/%d/%d/%s", p->account, arn_id(ch->arn),
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, rec_key);
    cJSON_AddStringToObject(ss, "_recordingPrefix", buf_str(&prefix));
    buf_free(&prefix);

    cJSON_AddItemToArray(ch->sessions, ss);
    while (cJSON_GetArraySize(ch->sessions) > SESSIONS_KEPT)
        cJSON_DeleteItemFromArray(ch->sessions, 0);
    ch->stream = st;
    resvec_push(&p->live, ch);
    emit_stream_state(ch, ss, "IVS Stream State Change", "Session Created", NULL);
    emit_stream_state(ch, ss, "IVS Stream State Change", "Stream Start", NULL);
    emit_recording(ch, ss, "Recording Start", 0);
    journal_res(s, ch);
    touch(s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "stream", jdup(st));
    cJSON_AddItemToObject(o, "streamSession", jpublic(ss));
    reply_json(out, 200, o);
}

static void admin_stop(struct store *s, const cJSON *body, struct emu_reply *out)
{
    struct res *ch = admin_channel(s, body, out);
    if (!ch)
        return;
    if (!ch->stream) {
        emu_reply_error(out, 404, "ChannelNotBroadcasting", "Channel %s is not broadcasting.",
                        ch->arn);
        return;
    }
    stream_end(s, ch, jstr(body, "code"));
    reply_wrap(out, "streamSession", jpublic(current_session(ch)));
}

static void admin_health(struct store *s, const cJSON *body, struct emu_reply *out)
{
    struct res *ch = admin_channel(s, body, out);
    if (!ch)
        return;
    if (!ch->stream) {
        emu_reply_error(out, 404, "ChannelNotBroadcasting", "Channel %s is not broadcasting.",
                        ch->arn);
        return;
    }
    const char *health = jstr(body, "health");
    if (health && !valid_health(health)) {
        emu_reply_error(out, 400, "ValidationException",
                        "health must be HEALTHY, STARVING or UNKNOWN.");
        return;
    }
    if (health) {
        const char *was = jstr(ch->stream, "health");
        int starving_now = !strcmp(health, "STARVING"), starving_before = !strcmp(was, "STARVING");
        if (starving_now != starving_before)
            emit_stream_state(ch, current_session(ch), "IVS Stream Health Change",
                              starving_now ? "Starvation Start" : "Starvation End", NULL);
        jset_str(ch->stream, "health", health);
    }
    const cJSON *viewers = jget(body, "viewerCount");
    if (cJSON_IsNumber(viewers))
        jset(ch->stream, "viewerCount", cJSON_CreateNumber(viewers->valuedouble));
    journal_res(s, ch);
    touch(s);
    reply_wrap(out, "stream", jdup(ch->stream));
}

static void admin_events(struct store *s, const cJSON *query, struct emu_reply *out)
{
    const char *channel = jstr(query, "channelArn"), *type = jstr(query, "detailType");
    if (!channel)
        channel = jstr(query, "resourceArn");
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "events");
    for (size_t i = 0; i < s->part_count; i++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, s->parts[i]->events)
        {
            if (type && strcmp(jstr(e, "detail-type"), type) != 0)
                continue;
            if (channel) {
                const cJSON *r0 = cJSON_GetArrayItem(jget(e, "resources"), 0);
                if (!cJSON_IsString(r0) || strcmp(r0->valuestring, channel) != 0)
                    continue;
            }
            cJSON_AddItemToArray(arr, jdup(e));
        }
    }
    reply_json(out, 200, o);
}

static const char *default_error_for(int status)
{
    switch (status) {
    case 400: return "ValidationException";
    case 402: return "ServiceQuotaExceededException";
    case 403: return "AccessDeniedException";
    case 404: return "ResourceNotFoundException";
    case 409: return "ConflictException";
    case 429: return "ThrottlingException";
    case 503: return "ServiceUnavailable";
    default: return "InternalServerException";
    }
}

static cJSON *fault_json(const struct fault *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "operation", f->operation);
    cJSON_AddNumberToObject(o, "status", f->action.status);
    if (f->action.status)
        cJSON_AddStringToObject(o, "errorCode", f->action.error_type);
    cJSON_AddStringToObject(o, "message", f->action.message);
    cJSON_AddNumberToObject(o, "count", (double)f->remaining);
    cJSON_AddNumberToObject(o, "latencyMs", (double)f->action.latency_ms);
    cJSON_AddBoolToObject(o, "dropConnection", f->action.drop_connection);
    return o;
}

static void admin_add_fault(struct store *s, const cJSON *body, struct emu_reply *out)
{
    const char *op = jstr(body, "operation");
    const cJSON *status = jget(body, "status"), *count = jget(body, "count"),
                *lat = jget(body, "latencyMs");
    int known = op && (!strcmp(op, "*") || identity_is_operation(op));
    for (size_t i = 0; op && !known && i < model_service_count; i++)
        known = model_find_operation(&model_services[i], op) != NULL;
    if (!op || !*op || strlen(op) >= 64 || !known) {
        emu_reply_error(out, 400, "ValidationException",
                        "operation must name an operation of IVS, IVS Chat, IVS Real-Time or the "
                        "identity services, or be \"*\".");
        return;
    }
    if (status && (!cJSON_IsNumber(status) ||
                   (status->valueint != 0 && (status->valueint < 400 || status->valueint > 599)))) {
        emu_reply_error(out, 400, "ValidationException",
                        "status must be 0 or an HTTP error status (400-599).");
        return;
    }
    if ((count && !cJSON_IsNumber(count)) ||
        (lat && (!cJSON_IsNumber(lat) || lat->valuedouble < 0 || lat->valuedouble > 60000))) {
        emu_reply_error(out, 400, "ValidationException",
                        "count must be a number; latencyMs between 0 and 60000.");
        return;
    }
    struct fault f;
    memset(&f, 0, sizeof f);
    snprintf(f.operation, sizeof f.operation, "%s", op);
    f.action.status = status ? status->valueint : 0;
    f.action.drop_connection = cJSON_IsTrue(jget(body, "dropConnection"));
    f.action.latency_ms = lat ? (long)lat->valuedouble : 0;
    if (!f.action.status && !f.action.drop_connection && !f.action.latency_ms)
        f.action.status = 500;
    const char *code = jstr(body, "errorCode");
    snprintf(f.action.error_type, sizeof f.action.error_type, "%s",
             code ? code : default_error_for(f.action.status));
    const char *msg = jstr(body, "message");
    snprintf(f.action.message, sizeof f.action.message, "%s",
             msg ? msg : "Injected by the emulator.");
    f.remaining = count ? (long)count->valuedouble : 1;
    if (f.remaining == 0)
        f.remaining = -1;
    struct fault *nf = realloc(s->faults, (s->fault_count + 1) * sizeof *nf);
    if (!nf) {
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    s->faults = nf;
    s->faults[s->fault_count++] = f;
    reply_wrap(out, "fault", fault_json(&f));
}

static void admin_list_faults(struct store *s, struct emu_reply *out)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < s->fault_count; i++)
        cJSON_AddItemToArray(arr, fault_json(&s->faults[i]));
    reply_wrap(out, "faults", arr);
}

static void clear_all(struct store *s)
{
    for (size_t i = 0; i < s->part_count; i++)
        partition_free(s->parts[i]);
    free(s->parts);
    s->parts = NULL;
    s->part_count = 0;
    strmap_free(&s->key_values);
    free(s->faults);
    s->faults = NULL;
    s->fault_count = 0;
    if (s->eng)
        engine_reset(s->eng);
}

void store_admin(struct store *s, const char *method, const char *path, const cJSON *query,
                 const cJSON *body, struct emu_reply *out)
{
    pthread_mutex_lock(&s->lock);
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST"),
        del = !strcmp(method, "DELETE");
    if (!strcmp(path, "/health") && get) {
        cJSON *o = cJSON_CreateObject();
        size_t channels = 0;
        for (size_t i = 0; i < s->part_count; i++)
            channels += s->parts[i]->lists[RT_CHANNEL].n;
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddNumberToObject(o, "uptimeSeconds", emu_now() - s->started);
        cJSON_AddStringToObject(o, "region", s->default_region);
        cJSON_AddStringToObject(o, "account", s->default_account);
        cJSON_AddNumberToObject(o, "channels", (double)channels);
        cJSON_AddNumberToObject(o, "familyResources", (double)engine_count(s->eng));
        reply_json(out, 200, o);
    } else if (!strcmp(path, "/reset") && post) {
        clear_all(s);
        journal_record_clear(s, "*");
        touch(s);
        reply_json(out, 200, cJSON_CreateObject());
    } else if (!strcmp(path, "/streams/start") && post) {
        admin_start(s, body, out);
    } else if (!strcmp(path, "/streams/stop") && post) {
        admin_stop(s, body, out);
    } else if (!strcmp(path, "/streams/health") && post) {
        admin_health(s, body, out);
    } else if (!strcmp(path, "/events") && get) {
        admin_events(s, query, out);
    } else if (!strcmp(path, "/events") && del) {
        for (size_t i = 0; i < s->part_count; i++) {
            cJSON_Delete(s->parts[i]->events);
            s->parts[i]->events = cJSON_CreateArray();
        }
        journal_record_clear(s, "ivs:event");
        touch(s);
        reply_json(out, 200, cJSON_CreateObject());
    } else if (!strcmp(path, "/faults") && post) {
        admin_add_fault(s, body, out);
    } else if (!strcmp(path, "/faults") && get) {
        admin_list_faults(s, out);
    } else if (!strcmp(path, "/faults") && del) {
        free(s->faults);
        s->faults = NULL;
        s->fault_count = 0;
        reply_json(out, 200, cJSON_CreateObject());
    } else {
        int changed = 0;
        if (engine_admin(s->eng, method, path, query, body, s->default_account, s->default_region,
                         out, &changed)) {
            if (changed)
                touch(s);
        } else {
            emu_reply_error(out, 404, "UnknownAdminEndpoint",
                            "No admin endpoint %s %s (see emulator/README.md).", method, path);
        }
    }
    journal_verdict(s, out);
    pthread_mutex_unlock(&s->lock);
}

int store_take_fault(struct store *s, const char *operation, struct emu_fault_action *out)
{
    int hit = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->fault_count; i++) {
        struct fault *f = &s->faults[i];
        if (strcmp(f->operation, "*") != 0 && strcmp(f->operation, operation) != 0)
            continue;
        *out = f->action;
        hit = 1;
        if (f->remaining > 0 && --f->remaining == 0) {
            memmove(f, f + 1, (s->fault_count - i - 1) * sizeof *f);
            s->fault_count--;
        }
        break;
    }
    pthread_mutex_unlock(&s->lock);
    return hit;
}

/* ------------------------------------------------------------------------------------ */
/* Persistence */

/* journal_gen: the first journal generation the snapshot does not contain (0: none). */
static char *snapshot_locked(struct store *s, uint64_t journal_gen)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "ivs-emulator-state");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "seq", (double)s->seq);
    if (journal_gen)
        cJSON_AddNumberToObject(root, "journal", (double)journal_gen);
    cJSON *parts = cJSON_AddArrayToObject(root, "partitions");
    for (size_t i = 0; i < s->part_count; i++) {
        struct partition *p = s->parts[i];
        cJSON *pj = cJSON_CreateObject();
        cJSON_AddStringToObject(pj, "account", p->account);
        cJSON_AddStringToObject(pj, "region", p->region);
        cJSON *rs = cJSON_AddArrayToObject(pj, "resources");
        for (int t = 0; t < RT_COUNT; t++) {
            for (size_t j = 0; j < p->lists[t].n; j++) {
                cJSON *rj = entry_json(p->lists[t].items[j]);
                cJSON_AddStringToObject(rj, "type", s_type_names[t]);
                cJSON_AddItemToArray(rs, rj);
            }
        }
        cJSON_AddItemToObject(pj, "events", jdup(p->events));
        cJSON_AddItemToArray(parts, pj);
    }
    cJSON_AddItemToObject(root, "family", engine_snapshot(s->eng));
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static int write_atomically(const char *path, const char *text)
{
    struct buf tmp = BUF_INIT;
    buf_printf(&tmp, "%s.tmp", path);
    int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1;
    /* The state holds stream keys: a leftover temp file from an older run keeps its old mode
     * under O_CREAT, so the mode is set explicitly. */
    if (fd >= 0 && fchmod(fd, 0600) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0) {
        size_t len = strlen(text), done = 0;
        while (done < len) {
            ssize_t w = write(fd, text + done, len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        if (done == len && fsync(fd) == 0)
            rc = 0;
        close(fd);
        if (rc == 0)
            rc = rename(buf_str(&tmp), path);
        if (rc != 0)
            unlink(buf_str(&tmp));
    }
    if (rc == 0) {
        /* The rename itself is durable only once the directory is synced. */
        char *dir = ivs_strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        const char *dname = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
        int dfd = open(dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    buf_free(&tmp);
    return rc;
}

static void unlink_journals(const struct store *s, uint64_t from, uint64_t to)
{
    for (uint64_t g = from; g < to; g++) {
        char *path = journal_path(s->state_path, g);
        if (path)
            unlink(path);
        free(path);
    }
}

/* Compaction: the snapshot is taken and the next journal generation begun in one step under
 * the lock, so every change is in exactly one of them; the older journals are removed once
 * the snapshot is safely renamed into place. With `final` (exit) no new journal is begun. */
static void save_now(struct store *s, int final)
{
    pthread_mutex_lock(&s->save_lock);
    pthread_mutex_lock(&s->lock);
    s->dirty = 0;
    uint64_t next = s->journal_gen + 1;
    char *text = snapshot_locked(s, next);
    journal_close(s->journal);
    s->journal = NULL;
    if (!final) {
        char *path = journal_path(s->state_path, next);
        char err[512] = "";
        s->journal = path ? journal_open(path, s->fsync_journal, err, sizeof err) : NULL;
        if (!s->journal)
            fprintf(stderr, "ivs-emulator: %s; changes are refused until it can be\n",
                    err[0] ? err : "out of memory");
        free(path);
    }
    s->journal_gen = next;
    pthread_mutex_unlock(&s->lock);
    if (text && write_atomically(s->state_path, text) == 0) {
        unlink_journals(s, s->journal_oldest, next);
        s->journal_oldest = next;
    } else {
        fprintf(stderr, "ivs-emulator: could not save state to %s: %s\n", s->state_path,
                text ? strerror(errno) : "out of memory");
    }
    free(text);
    pthread_mutex_unlock(&s->save_lock);
}

static void *saver_main(void *arg)
{
    struct store *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        if (!s->dirty) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        pthread_mutex_unlock(&s->lock);
        /* Debounce: a burst of changes costs one write. */
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
        save_now(s, 0);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int store_start_saver(struct store *s)
{
    if (!s->state_path)
        return 0;
    if (pthread_create(&s->saver, NULL, saver_main, s) != 0)
        return -1;
    s->saver_running = 1;
    return 0;
}

static enum rtype type_from_name(const char *name)
{
    for (int t = 0; t < RT_COUNT; t++)
        if (name && !strcmp(name, s_type_names[t]))
            return (enum rtype)t;
    return RT_COUNT;
}

/* State file validation. Everything the code later reads from a loaded resource is checked
 * before anything is loaded: a file that is accepted can never crash a request, and a file
 * that is refused leaves the store empty. Messages name the place and the member, never a
 * value (the file holds stream keys). */

struct state_check {
    char *err;
    size_t errlen;
    char where[160]; /* "partitions[0].resources[3]" */
};

static int state_bad(struct state_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int state_bad(struct state_check *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s%s%s", c->where, c->where[0] ? ": " : "", msg);
    return -1;
}

enum { F_STR = 1, F_BOOL, F_NUM, F_OBJ, F_ARR, F_TAGS, F_HEALTH };

static const char *const k_kind_text[] = {"",          "a string", "a boolean", "a number",
                                          "an object", "an array", "a tag map", "a stream health"};

struct state_field {
    const char *key;
    unsigned char kind;
    unsigned char required;
};

static int tags_ok(const cJSON *tags)
{
    struct emu_reply scratch;
    memset(&scratch, 0, sizeof scratch);
    int ok = cJSON_IsObject(tags) && tags_valid(tags, &scratch);
    emu_reply_cleanup(&scratch);
    return ok;
}

/* Checks the members of o listed in fields; what prefixes the member names in messages. */
static int check_fields(struct state_check *c, const cJSON *o, const char *what,
                        const struct state_field *f)
{
    for (; f->key; f++) {
        const cJSON *v = jget(o, f->key);
        if (!v) {
            if (f->required)
                return state_bad(c, "%s%s is missing", what, f->key);
            continue;
        }
        int ok = 0;
        switch (f->kind) {
        case F_STR: ok = cJSON_IsString(v); break;
        case F_BOOL: ok = cJSON_IsBool(v); break;
        case F_NUM: ok = cJSON_IsNumber(v); break;
        case F_OBJ: ok = cJSON_IsObject(v); break;
        case F_ARR: ok = cJSON_IsArray(v); break;
        case F_TAGS: ok = tags_ok(v); break;
        case F_HEALTH: ok = cJSON_IsString(v) && valid_health(v->valuestring); break;
        default: break;
        }
        if (!ok)
            return state_bad(c, "%s%s is not %s", what, f->key, k_kind_text[f->kind]);
    }
    return 0;
}

/* Members outside fields are refused where the file's layout is ours alone. */
static int check_no_other_members(struct state_check *c, const cJSON *o, const char *what,
                                  const struct state_field *fields)
{
    for (const cJSON *m = o->child; m; m = m->next) {
        const struct state_field *f = fields;
        while (f->key && strcmp(f->key, m->string) != 0)
            f++;
        if (!f->key)
            return state_bad(c, "%sunknown member", what);
    }
    return 0;
}

/* Refuses any object, at any depth, that names a member twice (cJSON keeps both, and the
 * code would read one and save both). */
static int check_unique_keys(struct state_check *c, const cJSON *v)
{
    int is_obj = cJSON_IsObject(v);
    size_t n = 0;
    for (const cJSON *i = v->child; i; i = i->next)
        n++;
    struct strmap seen = {0};
    int rc = 0;
    for (const cJSON *i = v->child; i && rc == 0; i = i->next) {
        if (is_obj) {
            if (!i->string) {
                rc = state_bad(c, "an object member has no name");
            } else if (n <= 8) {
                for (const cJSON *j = i->next; j; j = j->next)
                    if (j->string && !strcmp(i->string, j->string))
                        rc = state_bad(c, "a member is named twice in one object");
            } else if (strmap_get(&seen, i->string)) {
                rc = state_bad(c, "a member is named twice in one object");
            } else if (strmap_put(&seen, i->string, (void *)i) != 0) {
                rc = state_bad(c, "out of memory");
            }
        }
        if (rc == 0 && i->child)
            rc = check_unique_keys(c, i);
    }
    strmap_free(&seen);
    return rc;
}

static const struct state_field k_root_fields[] = {{"format", F_STR, 1},
                                                   {"version", F_NUM, 1},
                                                   {"seq", F_NUM, 1},
                                                   {"partitions", F_ARR, 1},
                                                   {"journal", F_NUM, 0},
                                                   {"family", F_OBJ, 0},
                                                   {0}};
static const struct state_field k_partition_fields[] = {{"account", F_STR, 1},
                                                        {"region", F_STR, 1},
                                                        {"resources", F_ARR, 1},
                                                        {"events", F_ARR, 1},
                                                        {0}};
static const struct state_field k_entry_fields[] = {{"type", F_STR, 1},     {"seq", F_NUM, 1},
                                                    {"obj", F_OBJ, 1},      {"stream", F_OBJ, 0},
                                                    {"sessions", F_ARR, 0}, {0}};
static const struct state_field k_channel_fields[] = {{"arn", F_STR, 1},
                                                      {"name", F_STR, 1},
                                                      {"latencyMode", F_STR, 1},
                                                      {"type", F_STR, 1},
                                                      {"recordingConfigurationArn", F_STR, 1},
                                                      {"ingestEndpoint", F_STR, 1},
                                                      {"playbackUrl", F_STR, 1},
                                                      {"authorized", F_BOOL, 1},
                                                      {"tags", F_TAGS, 1},
                                                      {"insecureIngest", F_BOOL, 1},
                                                      {"preset", F_STR, 1},
                                                      {"srt", F_OBJ, 1},
                                                      {"playbackRestrictionPolicyArn", F_STR, 1},
                                                      {"multitrackInputConfiguration", F_OBJ, 1},
                                                      {"containerFormat", F_STR, 1},
                                                      {"adConfigurationArn", F_STR, 1},
                                                      {0}};
static const struct state_field k_srt_fields[] = {
    {"endpoint", F_STR, 1}, {"passphrase", F_STR, 1}, {0}};
static const struct state_field k_multitrack_fields[] = {
    {"enabled", F_BOOL, 1}, {"maximumResolution", F_STR, 1}, {"policy", F_STR, 1}, {0}};
static const struct state_field k_stream_key_fields[] = {
    {"arn", F_STR, 1}, {"value", F_STR, 1}, {"channelArn", F_STR, 1}, {"tags", F_TAGS, 1}, {0}};
static const struct state_field k_playback_key_fields[] = {
    {"arn", F_STR, 1}, {"name", F_STR, 1}, {"fingerprint", F_STR, 1}, {"tags", F_TAGS, 1}, {0}};
static const struct state_field k_recording_fields[] = {
    {"arn", F_STR, 1},
    {"name", F_STR, 1},
    {"destinationConfiguration", F_OBJ, 1},
    {"state", F_STR, 1},
    {"tags", F_TAGS, 1},
    {"thumbnailConfiguration", F_OBJ, 1},
    {"recordingReconnectWindowSeconds", F_NUM, 1},
    {"renditionConfiguration", F_OBJ, 1},
    {0}};
static const struct state_field k_prp_state_fields[] = {
    {"arn", F_STR, 1},
    {"allowedCountries", F_ARR, 1},
    {"allowedOrigins", F_ARR, 1},
    {"enableStrictOriginEnforcement", F_BOOL, 1},
    {"name", F_STR, 1},
    {"tags", F_TAGS, 1},
    {0}};
static const struct state_field k_ad_state_fields[] = {
    {"arn", F_STR, 1},
    {"name", F_STR, 1},
    {"mediaTailorPlaybackConfigurations", F_ARR, 1},
    {"postRollConfiguration", F_OBJ, 1},
    {"tags", F_TAGS, 1},
    {0}};
static const struct state_field *const k_obj_fields[RT_COUNT] = {
    k_channel_fields,   k_stream_key_fields, k_playback_key_fields,
    k_recording_fields, k_prp_state_fields,  k_ad_state_fields};
static const struct state_field k_stream_fields[] = {
    {"channelArn", F_STR, 1},  {"streamId", F_STR, 1},
    {"playbackUrl", F_STR, 1}, {"startTime", F_STR, 1},
    {"state", F_STR, 1},       {"health", F_HEALTH, 1},
    {"viewerCount", F_NUM, 1}, {0}};
static const struct state_field k_session_fields[] = {{"streamId", F_STR, 1},
                                                      {"startTime", F_STR, 1},
                                                      {"endTime", F_STR, 0},
                                                      {"channel", F_OBJ, 1},
                                                      {"ingestConfiguration", F_OBJ, 1},
                                                      {"ingestConfigurations", F_OBJ, 0},
                                                      {"recordingConfiguration", F_OBJ, 0},
                                                      {"truncatedEvents", F_ARR, 1},
                                                      {"_startEpoch", F_NUM, 1},
                                                      {"_recordingSessionId", F_STR, 1},
                                                      {"_recordingPrefix", F_STR, 1},
                                                      {"_hasErrorEvent", F_BOOL, 0},
                                                      {0}};
static const struct state_field k_event_fields[] = {
    {"version", F_STR, 1},     {"id", F_STR, 1},
    {"detail-type", F_STR, 1}, {"source", F_STR, 1},
    {"account", F_STR, 1},     {"time", F_STR, 1},
    {"region", F_STR, 1},      {"resources", F_ARR, 1},
    {"detail", F_OBJ, 1},      {0}};

/* A whole number in [lo, 2^53]: counters and sequence numbers. */
static int whole_number(const cJSON *v, double lo)
{
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= 9007199254740992.0 &&
           v->valuedouble == (double)(uint64_t)v->valuedouble;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* One resource entry: its members, its ARN (type, account and region of its partition,
 * unique) and, for channels, the live stream and the sessions. */
static int check_entry(struct state_check *c, const cJSON *rj, const char *account,
                       const char *region, struct strmap *arns)
{
    if (!cJSON_IsObject(rj))
        return state_bad(c, "not an object");
    if (check_fields(c, rj, "", k_entry_fields) != 0 ||
        check_no_other_members(c, rj, "", k_entry_fields) != 0)
        return -1;
    enum rtype t = type_from_name(jstr(rj, "type"));
    if (t == RT_COUNT)
        return state_bad(c, "type is not a resource type");
    if (!whole_number(jget(rj, "seq"), 1))
        return state_bad(c, "seq is not a whole number of at least 1");
    const cJSON *obj = jget(rj, "obj");
    if (check_fields(c, obj, "obj.", k_obj_fields[t]) != 0)
        return -1;
    const char *arn = jstr(obj, "arn");
    char ar[64], aa[32];
    if (arn_parse(arn, ar, sizeof ar, aa, sizeof aa) != (int)t)
        return state_bad(c, "obj.arn is not a %s ARN", s_type_names[t]);
    if (strcmp(ar, region) != 0 || strcmp(aa, account) != 0)
        return state_bad(c, "%s belongs to another account or region than its partition", arn);
    if (strmap_get(arns, arn))
        return state_bad(c, "%s is listed twice", arn);
    if (strmap_put(arns, arn, (void *)rj) != 0)
        return state_bad(c, "out of memory");
    if (t == RT_CHANNEL) {
        if (check_fields(c, jget(obj, "srt"), "obj.srt.", k_srt_fields) != 0 ||
            check_fields(c, jget(obj, "multitrackInputConfiguration"),
                         "obj.multitrackInputConfiguration.", k_multitrack_fields) != 0)
            return -1;
        const cJSON *stream = jget(rj, "stream"), *sessions = jget(rj, "sessions");
        if (!sessions)
            return state_bad(c, "sessions is missing");
        if (stream && check_fields(c, stream, "stream.", k_stream_fields) != 0)
            return -1;
        const cJSON *ss;
        cJSON_ArrayForEach(ss, sessions)
        {
            if (!cJSON_IsObject(ss))
                return state_bad(c, "sessions holds a non-object");
            if (check_fields(c, ss, "sessions[].", k_session_fields) != 0)
                return -1;
        }
        if (stream && cJSON_GetArraySize(sessions) == 0)
            return state_bad(c, "a live channel has no session");
    } else if (jget(rj, "stream") || jget(rj, "sessions")) {
        return state_bad(c, "only channels have a stream and sessions");
    }
    return 0;
}

/* Links between the resources of one partition: a stream key's channel exists and has no
 * other key; a channel's references name existing resources of the right type. */
static int check_links(struct state_check *c, const cJSON *resources, const struct strmap *arns,
                       struct strmap *key_values)
{
    struct strmap keyed = {0};
    int rc = 0;
    const cJSON *rj;
    cJSON_ArrayForEach(rj, resources)
    {
        enum rtype t = type_from_name(jstr(rj, "type"));
        const cJSON *obj = jget(rj, "obj");
        if (t == RT_STREAM_KEY) {
            const char *ch = jstr(obj, "channelArn"), *value = jstr(obj, "value");
            const cJSON *target = strmap_get(arns, ch);
            if (!target || type_from_name(jstr(target, "type")) != RT_CHANNEL)
                rc = state_bad(c, "stream key %s names a channel that is not in its partition",
                               jstr(obj, "arn"));
            else if (strmap_get(&keyed, ch))
                rc = state_bad(c, "%s has more than one stream key", ch);
            else if (strmap_get(key_values, value))
                rc = state_bad(c, "two stream keys have the same value");
            else if (strmap_put(&keyed, ch, (void *)obj) != 0 ||
                     strmap_put(key_values, value, (void *)obj) != 0)
                rc = state_bad(c, "out of memory");
        } else if (t == RT_CHANNEL) {
            static const struct {
                const char *key;
                enum rtype type;
            } refs[] = {{"recordingConfigurationArn", RT_RECORDING},
                        {"playbackRestrictionPolicyArn", RT_PRP},
                        {"adConfigurationArn", RT_AD}};
            for (size_t j = 0; j < 3 && rc == 0; j++) {
                const char *ref = jstr(obj, refs[j].key);
                const cJSON *target = *ref ? strmap_get(arns, ref) : NULL;
                if (*ref && (!target || type_from_name(jstr(target, "type")) != refs[j].type))
                    rc = state_bad(c, "channel %s: %s names no %s of its partition",
                                   jstr(obj, "arn"), refs[j].key, s_type_names[refs[j].type]);
            }
        }
        if (rc != 0)
            break;
    }
    strmap_free(&keyed);
    return rc;
}

static int valid_account_id(const char *s)
{
    if (!s || strlen(s) != 12)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* The whole document, before anything is loaded. */
static int check_state(struct state_check *c, const cJSON *root)
{
    if (!cJSON_IsObject(root))
        return state_bad(c, "not a JSON object");
    if (check_unique_keys(c, root) != 0 || check_fields(c, root, "", k_root_fields) != 0 ||
        check_no_other_members(c, root, "", k_root_fields) != 0)
        return -1;
    if (strcmp(jstr(root, "format"), "ivs-emulator-state") != 0)
        return state_bad(c, "format is not \"ivs-emulator-state\"");
    if (jget(root, "version")->valuedouble != 1)
        return state_bad(c, "version %g is not supported (1 is)",
                         jget(root, "version")->valuedouble);
    if (!whole_number(jget(root, "seq"), 0))
        return state_bad(c, "seq is not a whole number");
    if (jget(root, "journal") && !whole_number(jget(root, "journal"), 1))
        return state_bad(c, "journal is not a whole number of at least 1");
    const cJSON *parts = jget(root, "partitions");
    size_t nres = 0;
    const cJSON *pj;
    cJSON_ArrayForEach(pj, parts) { nres += (size_t)cJSON_GetArraySize(jget(pj, "resources")); }
    uint64_t *seqs = malloc((nres ? nres : 1) * sizeof *seqs);
    struct strmap partitions = {0}, key_values = {0};
    int rc = seqs ? 0 : state_bad(c, "out of memory");
    size_t nseq = 0;
    int pi = 0;
    cJSON_ArrayForEach(pj, parts)
    {
        if (rc != 0)
            break;
        snprintf(c->where, sizeof c->where, "partitions[%d]", pi++);
        if (!cJSON_IsObject(pj)) {
            rc = state_bad(c, "not an object");
            break;
        }
        if (check_fields(c, pj, "", k_partition_fields) != 0 ||
            check_no_other_members(c, pj, "", k_partition_fields) != 0) {
            rc = -1;
            break;
        }
        const char *account = jstr(pj, "account"), *region = jstr(pj, "region");
        if (!valid_account_id(account) || !emu_region_valid(region)) {
            rc = state_bad(c, "account is not 12 digits or region is not a region name");
            break;
        }
        char key[64];
        snprintf(key, sizeof key, "%s/%s", account, region);
        if (strmap_get(&partitions, key)) {
            rc = state_bad(c, "account %s region %s is listed twice", account, region);
            break;
        }
        /* The key must outlive the map: the region and account strings of the document. */
        char *owned = ivs_strdup(key);
        if (!owned || strmap_put(&partitions, owned, owned) != 0) {
            free(owned);
            rc = state_bad(c, "out of memory");
            break;
        }
        struct strmap arns = {0};
        const cJSON *resources = jget(pj, "resources"), *rj;
        int ri = 0;
        size_t base = strlen(c->where);
        cJSON_ArrayForEach(rj, resources)
        {
            snprintf(c->where + base, sizeof c->where - base, ".resources[%d]", ri++);
            if (check_entry(c, rj, account, region, &arns) != 0) {
                rc = -1;
                break;
            }
            seqs[nseq++] = (uint64_t)jget(rj, "seq")->valuedouble;
        }
        c->where[base] = '\0';
        if (rc == 0)
            rc = check_links(c, resources, &arns, &key_values);
        strmap_free(&arns);
        const cJSON *e;
        int ei = 0;
        cJSON_ArrayForEach(e, jget(pj, "events"))
        {
            if (rc != 0)
                break;
            snprintf(c->where + base, sizeof c->where - base, ".events[%d]", ei++);
            if (!cJSON_IsObject(e))
                rc = state_bad(c, "not an object");
            else
                rc = check_fields(c, e, "", k_event_fields);
        }
    }
    if (rc == 0) {
        c->where[0] = '\0';
        qsort(seqs, nseq, sizeof *seqs, cmp_u64);
        for (size_t i = 1; i < nseq; i++)
            if (seqs[i] == seqs[i - 1]) {
                rc = state_bad(c, "two resources have the same seq %llu",
                               (unsigned long long)seqs[i]);
                break;
            }
    }
    for (size_t i = 0; i < partitions.cap; i++)
        if (partitions.slots[i].key && partitions.slots[i].value)
            free(partitions.slots[i].value);
    strmap_free(&partitions);
    strmap_free(&key_values);
    free(seqs);
    return rc;
}

/* Loads one partition of a document that check_state accepted. */
static int load_partition(struct store *s, const cJSON *pj)
{
    struct partition *p = partition_get(s, jstr(pj, "account"), jstr(pj, "region"));
    if (!p)
        return -1;
    const cJSON *rj;
    cJSON_ArrayForEach(rj, jget(pj, "resources"))
    {
        enum rtype t = type_from_name(jstr(rj, "type"));
        const cJSON *obj = jget(rj, "obj");
        cJSON *copy = jdup(obj);
        struct res *r =
            copy ? res_add(s, p, t, jstr(obj, "arn"), copy, (uint64_t)jget(rj, "seq")->valuedouble)
                 : NULL;
        if (!r) {
            cJSON_Delete(copy);
            return -1;
        }
        if (t == RT_CHANNEL) {
            cJSON_Delete(r->sessions);
            r->sessions = jdup(jget(rj, "sessions"));
            if (jget(rj, "stream")) {
                r->stream = jdup(jget(rj, "stream"));
                if (resvec_push(&p->live, r) != 0)
                    return -1;
            }
        }
    }
    /* Links that the file stores only once: keys to channels, reference counts. */
    for (size_t i = 0; i < p->lists[RT_STREAM_KEY].n; i++) {
        struct res *k = p->lists[RT_STREAM_KEY].items[i];
        struct res *ch = res_find(p, jstr(k->obj, "channelArn"), RT_CHANNEL);
        if (ch)
            ch->stream_key = k;
        if (strmap_put(&s->key_values, jstr(k->obj, "value"), k) != 0)
            return -1;
    }
    for (size_t i = 0; i < p->lists[RT_CHANNEL].n; i++) {
        struct res *ch = p->lists[RT_CHANNEL].items[i];
        struct res *refs[] = {res_find(p, jstr(ch->obj, "recordingConfigurationArn"), RT_RECORDING),
                              res_find(p, jstr(ch->obj, "playbackRestrictionPolicyArn"), RT_PRP),
                              res_find(p, jstr(ch->obj, "adConfigurationArn"), RT_AD)};
        for (size_t j = 0; j < 3; j++)
            if (refs[j])
                refs[j]->refs++;
    }
    cJSON_Delete(p->events);
    p->events = jdup(jget(pj, "events"));
    return p->events ? 0 : -1;
}

/* Checks a parsed document (taken) and loads it into the store. */
static int load_document(struct store *s, cJSON *root, struct state_check *c)
{
    int rc = root ? check_state(c, root) : state_bad(c, "not valid JSON");
    if (rc != 0) {
        cJSON_Delete(root);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    const cJSON *pj;
    cJSON_ArrayForEach(pj, jget(root, "partitions"))
    {
        if (rc == 0 && load_partition(s, pj) != 0)
            rc = state_bad(c, "out of memory");
    }
    /* Chat and Real-Time: the engine checks its part as strictly. */
    if (rc == 0 && engine_load(s->eng, jget(root, "family")) != 0)
        rc = state_bad(c, "family: a resource that is not valid");
    uint64_t seq = (uint64_t)jget(root, "seq")->valuedouble;
    if (seq > s->seq)
        s->seq = seq;
    if (rc != 0)
        clear_all(s);
    pthread_mutex_unlock(&s->lock);
    cJSON_Delete(root);
    return rc;
}

int store_load_text(struct store *s, const char *text, size_t len, const char *what, char *errbuf,
                    size_t errlen)
{
    char why[384] = "";
    struct state_check c = {why, sizeof why, ""};
    int rc = load_document(s, cJSON_ParseWithLength(text, len), &c);
    if (rc != 0)
        snprintf(errbuf, errlen, "%s is not a valid state file: %s", what, why);
    return rc;
}

/* Journal replay works on the state document before it is checked: each record rewrites it,
 * and the result goes through the same checks as any state file. */
struct replay_entry {
    cJSON *parent; /* the partition's "resources" array */
    cJSON *entry;
    char arn[];
};

struct replay {
    cJSON *root;
    struct strmap index;      /* ARN -> struct replay_entry */
    const struct engine *eng; /* Chat and Real-Time records */
};

static void replay_forget_all(struct replay *r)
{
    for (size_t i = 0; i < r->index.cap; i++) {
        const char *k = r->index.slots[i].key;
        if (k && r->index.slots[i].value && strmap_get(&r->index, k) == r->index.slots[i].value)
            free(r->index.slots[i].value);
    }
    strmap_free(&r->index);
}

static int replay_index(struct replay *r, cJSON *resources, cJSON *entry, const char *arn)
{
    size_t n = strlen(arn);
    struct replay_entry *e = malloc(sizeof *e + n + 1);
    if (!e)
        return -1;
    e->parent = resources;
    e->entry = entry;
    memcpy(e->arn, arn, n + 1);
    struct replay_entry *old = strmap_get(&r->index, arn);
    if (strmap_put(&r->index, e->arn, e) != 0) {
        free(e);
        return -1;
    }
    free(old);
    return 0;
}

/* The document's partition object for (account, region), created when missing. */
static cJSON *replay_partition(struct replay *r, const char *account, const char *region)
{
    cJSON *parts = cJSON_GetObjectItemCaseSensitive(r->root, "partitions");
    cJSON *pj;
    cJSON_ArrayForEach(pj, parts)
    {
        const char *a = jstr(pj, "account"), *g = jstr(pj, "region");
        if (a && g && !strcmp(a, account) && !strcmp(g, region))
            return pj;
    }
    if (!cJSON_IsArray(parts))
        return NULL;
    pj = cJSON_CreateObject();
    cJSON_AddStringToObject(pj, "account", account);
    cJSON_AddStringToObject(pj, "region", region);
    cJSON_AddArrayToObject(pj, "resources");
    cJSON_AddArrayToObject(pj, "events");
    cJSON_AddItemToArray(parts, pj);
    return pj;
}

static int replay_start(struct replay *r)
{
    const cJSON *pj;
    cJSON_ArrayForEach(pj, jget(r->root, "partitions"))
    {
        cJSON *resources = cJSON_GetObjectItemCaseSensitive(pj, "resources"), *rj;
        cJSON_ArrayForEach(rj, resources)
        {
            const char *arn = jstr(jget(rj, "obj"), "arn");
            if (arn && replay_index(r, resources, rj, arn) != 0)
                return -1;
        }
    }
    return 0;
}

static int apply_record(void *ctx, const cJSON *rec, char *err, size_t errlen)
{
    struct replay *r = ctx;
    const char *op = jstr(rec, "op"), *kind = jstr(rec, "kind"), *id = jstr(rec, "id");
    const cJSON *value = jget(rec, "value");
    if (!kind) {
        snprintf(err, errlen, "a record without a kind");
        return -1;
    }
    if (!strcmp(op, "clear")) {
        if (!strcmp(kind, "*")) {
            replay_forget_all(r);
            jset(r->root, "partitions", cJSON_CreateArray());
            cJSON_DeleteItemFromObjectCaseSensitive(r->root, "family");
            return 0;
        }
        if (!strcmp(kind, "ivs:event")) {
            cJSON *pj;
            cJSON_ArrayForEach(pj, cJSON_GetObjectItemCaseSensitive(r->root, "partitions"))
            {
                if (cJSON_IsObject(pj))
                    jset(pj, "events", cJSON_CreateArray());
            }
            return 0;
        }
        snprintf(err, errlen, "cannot clear kind %.64s", kind);
        return -1;
    }
    int put = !strcmp(op, "put");
    if ((!put && strcmp(op, "del") != 0) || !id || (put && !cJSON_IsObject(value))) {
        snprintf(err, errlen, "a %.16s record of kind %.64s is incomplete", op, kind);
        return -1;
    }
    /* The engine's kinds ("ivschat:room", "ivs-realtime:stage"...) live in "family". */
    if (strncmp(kind, "ivs:", 4) != 0) {
        cJSON *family = cJSON_GetObjectItemCaseSensitive(r->root, "family");
        if (!cJSON_IsObject(family)) {
            family = cJSON_CreateObject();
            jset(r->root, "family", family);
        }
        int st = engine_apply_record(r->eng, family, rec, err, errlen);
        if (st <= 0)
            return st;
    }
    if (!strcmp(kind, "ivs:event")) {
        const char *account = jstr(value, "account"), *region = jstr(value, "region");
        cJSON *pj = put && account && region ? replay_partition(r, account, region) : NULL;
        if (!pj) {
            snprintf(err, errlen, "an event record without its account and region");
            return -1;
        }
        cJSON *events = cJSON_GetObjectItemCaseSensitive(pj, "events");
        cJSON_AddItemToArray(events, jdup(value));
        while (cJSON_GetArraySize(events) > EVENTS_KEPT)
            cJSON_DeleteItemFromArray(events, 0);
        return 0;
    }
    enum rtype t = strncmp(kind, "ivs:", 4) == 0 ? type_from_name(kind + 4) : RT_COUNT;
    char region[64], account[32];
    if (t == RT_COUNT) {
        snprintf(err, errlen, "unknown kind %.64s", kind);
        return -1;
    }
    if (arn_parse(id, region, sizeof region, account, sizeof account) != (int)t ||
        (put &&
         (!jstr(jget(value, "obj"), "arn") || strcmp(jstr(jget(value, "obj"), "arn"), id)))) {
        snprintf(err, errlen, "a %s record whose id is not the resource's ARN", kind);
        return -1;
    }
    struct replay_entry *known = strmap_get(&r->index, id);
    if (!put) {
        if (known) {
            cJSON_Delete(cJSON_DetachItemViaPointer(known->parent, known->entry));
            strmap_remove(&r->index, id);
            free(known);
        }
        return 0;
    }
    cJSON *entry = jdup(value);
    cJSON *seq = cJSON_GetObjectItemCaseSensitive(r->root, "seq");
    const cJSON *vseq = jget(value, "seq");
    if (!entry) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(entry, "type");
    cJSON_AddStringToObject(entry, "type", s_type_names[t]);
    if (cJSON_IsNumber(seq) && cJSON_IsNumber(vseq) && vseq->valuedouble > seq->valuedouble)
        cJSON_SetNumberValue(seq, vseq->valuedouble);
    if (known) {
        cJSON_ReplaceItemViaPointer(known->parent, known->entry, entry);
        known->entry = entry;
        return 0;
    }
    cJSON *pj = replay_partition(r, account, region);
    cJSON *resources = cJSON_GetObjectItemCaseSensitive(pj, "resources");
    if (!cJSON_IsArray(resources)) {
        cJSON_Delete(entry);
        snprintf(err, errlen, "the state file has no resources array for %s", id);
        return -1;
    }
    cJSON_AddItemToArray(resources, entry);
    if (replay_index(r, resources, entry, id) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int load_file(struct store *s, char *errbuf, size_t errlen);

int store_load(struct store *s, char *errbuf, size_t errlen)
{
    if (!s->state_path)
        return 0;
    int rc = load_file(s, errbuf, errlen);
    if (rc != 0) {
        /* Never overwrite what could not be loaded: the store forgets the path. */
        free(s->state_path);
        s->state_path = NULL;
    }
    return rc;
}

/* The engine's events join the low-latency ones in one log (the admin API's /events). */
static void host_emit(void *ud, const char *account, const char *region, const char *detail_type,
                      const char *resource_arn, cJSON *detail)
{
    struct partition *p = partition_get(ud, account, region);
    if (p)
        emit_event(p, detail_type, resource_arn, detail);
    else
        cJSON_Delete(detail);
}

/* What the engine changed goes to the same journal as the low-latency resources. */
static void host_journal_put(void *ud, const char *kind, const char *id, const cJSON *value)
{
    struct store *s = ud;
    if (journal_missing(s) || !s->journal)
        return;
    journal_done(s, journal_put(s->journal, kind, id, value));
}

static void host_journal_del(void *ud, const char *kind, const char *id)
{
    struct store *s = ud;
    if (journal_missing(s) || !s->journal)
        return;
    journal_done(s, journal_del(s->journal, kind, id));
}

/* Real-Time compositions send to IVS channels of the same account and region. */
static int host_ivs_exists(void *ud, const char *account, const char *region, const char *arn)
{
    struct partition *p = partition_get(ud, account, region);
    return p && res_find(p, arn, RT_CHANNEL) != NULL;
}

void store_call_service(struct store *s, const char *service, const char *account,
                        const char *region, const struct model_operation *op, const cJSON *input,
                        struct emu_reply *out)
{
    const struct eng_service *svc = service ? engine_service(s->eng, service) : NULL;
    if (!svc) {
        store_call(s, account, region, op, input, out);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (engine_call(s->eng, svc, account, region, op, input, out))
        touch(s);
    journal_verdict(s, out);
    pthread_mutex_unlock(&s->lock);
}

/* The snapshot's bytes; 1 when there is no snapshot, -1 with a message on error. */
static int read_snapshot(const char *path, struct buf *text, char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    /* Only a regular file: a FIFO would block the start, a directory reads as nothing. */
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(errbuf, errlen, "%s is not a regular file", path);
        return -1;
    }
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        buf_append(text, chunk, (size_t)n);
    }
    close(fd);
    if (n < 0 || buf_failed(text)) {
        snprintf(errbuf, errlen, "cannot read %s: %s", path,
                 n < 0 ? strerror(errno) : "out of memory");
        return -1;
    }
    return 0;
}

/* Snapshot, then the journals from the generation the snapshot names, then a compaction when
 * any journal was replayed (so that appends never follow a torn line), then a journal for
 * what comes next. */
static int load_file(struct store *s, char *errbuf, size_t errlen)
{
    struct buf text = BUF_INIT;
    int have = read_snapshot(s->state_path, &text, errbuf, errlen);
    if (have < 0) {
        buf_free(&text);
        return -1;
    }
    cJSON *root = have == 0 ? cJSON_ParseWithLength(buf_str(&text), text.len)
                            : cJSON_Parse("{\"format\":\"ivs-emulator-state\",\"version\":1,"
                                          "\"seq\":0,\"partitions\":[]}");
    buf_free(&text);
    const cJSON *jg = jget(root, "journal");
    uint64_t first = whole_number(jg, 1) ? (uint64_t)jg->valuedouble : 1, gen = first;
    int replayed = 0, rc = 0;
    char why[384] = "";
    if (root && cJSON_IsObject(root)) {
        struct replay r = {root, {0}, s->eng};
        if (replay_start(&r) != 0) {
            snprintf(why, sizeof why, "out of memory");
            rc = -1;
        }
        for (; rc == 0; gen++) {
            char *path = journal_path(s->state_path, gen);
            int torn = 0;
            int st = path ? journal_replay(path, apply_record, &r, &torn, why, sizeof why) : -1;
            if (st < 0)
                snprintf(errbuf, errlen, "%s: %s", path ? path : s->state_path,
                         path ? why : "out of memory");
            else if (torn)
                fprintf(stderr,
                        "ivs-emulator: warning: %s: ignored an incomplete last record (the "
                        "process stopped while writing it; it was never acknowledged)\n",
                        path);
            free(path);
            if (st != 0) {
                rc = st < 0 ? -2 : 0;
                break;
            }
            replayed = 1;
        }
        replay_forget_all(&r);
    }
    if (rc == -2) {
        cJSON_Delete(root);
        return -1;
    }
    struct state_check c = {why, sizeof why, ""};
    if (rc != 0 || load_document(s, root, &c) != 0) {
        if (rc != 0)
            cJSON_Delete(root);
        snprintf(errbuf, errlen, "%s%s is not a valid state file: %s", s->state_path,
                 replayed ? " with its journal" : "", why);
        return -1;
    }
    /* Journals older than the snapshot are leftovers of a compaction cut short. */
    for (uint64_t g = first - 1; g >= 1; g--) {
        char *path = journal_path(s->state_path, g);
        int gone = path && unlink(path) != 0 && errno == ENOENT;
        free(path);
        if (gone)
            break;
    }
    s->journal_oldest = first;
    if (replayed) {
        s->journal_gen = gen - 1;
        save_now(s, 0);
    } else {
        s->journal_gen = first;
        char *path = journal_path(s->state_path, first);
        s->journal = path ? journal_open(path, s->fsync_journal, errbuf, errlen) : NULL;
        free(path);
    }
    if (!s->journal) {
        if (!errbuf[0])
            snprintf(errbuf, errlen, "cannot start the journal of %s", s->state_path);
        pthread_mutex_lock(&s->lock);
        clear_all(s);
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    return 0;
}

void store_set_fsync(struct store *s, int on) { s->fsync_journal = on; }

struct store *store_new(const char *default_region, const char *default_account,
                        const char *state_path)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->save_lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->default_region = ivs_strdup(default_region);
    s->default_account = ivs_strdup(default_account);
    s->state_path = ivs_strdup(state_path);
    s->started = emu_now();
    static const struct eng_service *const services[] = {&svc_chat, &svc_realtime};
    struct eng_host host = {s, host_emit, host_ivs_exists, host_journal_put, host_journal_del};
    s->eng = engine_new(services, sizeof services / sizeof services[0], &host);
    if (!s->eng) {
        free(s->state_path);
        s->state_path = NULL; /* nothing to save: nothing was loaded */
        store_free(s);
        return NULL;
    }
    return s;
}

void store_free(struct store *s)
{
    if (!s)
        return;
    if (s->saver_running) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->saver, NULL);
    }
    if (s->state_path)
        save_now(s, 1);
    clear_all(s);
    engine_free(s->eng);
    free(s->default_region);
    free(s->default_account);
    free(s->state_path);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->save_lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
