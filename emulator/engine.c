/* engine.c: the generic resource engine (see engine.h). Resources live in partitions (one per
 * account and region); each partition keeps a creation-ordered vector per kind and one map
 * from ARN to resource. Responses are projected onto the operation's output shape, so a list
 * entry has exactly the members of the model's summary shape. */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "sigv4.h"
#include "util.h"

enum { MAX_TAGS = 50 };

struct vec {
    struct eng_res **items; /* ascending seq */
    size_t n, cap;
};

struct eng_part {
    struct engine *eng;
    char *account;
    char *region;
    char prefix[13];
    struct strmap by_arn;
    struct vec *lists; /* engine->kind_total vectors */
};

/* What one call may have changed, for the journal. A resource is listed when the call looked
 * it up by ARN or created it, or when a walk changed it (eng_touch); one it removed moves to the
 * removed list (by name: it is freed). Over-reporting is harmless: a put carries the whole value.
 */
struct touched {
    struct eng_res **res;
    size_t n, cap;
    char **removed; /* "kind\nid" */
    size_t nr, capr;
    int active;
};

struct engine {
    struct touched touched;
    const struct eng_service *const *services;
    size_t service_count;
    size_t *kind_base; /* per service: index of its first kind in a partition's lists */
    size_t kind_total;
    struct eng_host host;
    struct eng_part **parts;
    size_t part_count;
    uint64_t seq;
};

/* ---- JSON helpers ---------------------------------------------------------------------- */

const char *eng_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int eng_streq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

const char *eng_str0(const cJSON *o, const char *key)
{
    const char *s = eng_str(o, key);
    return s ? s : "";
}

void eng_set(cJSON *o, const char *key, cJSON *v)
{
    if (!o || !v) {
        cJSON_Delete(v);
        return;
    }
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    else
        cJSON_AddItemToObject(o, key, v);
}

/* Adds what `defaults` has and `obj` lacks, descending into objects present in both. */
static void merge_defaults(cJSON *obj, const cJSON *defaults)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, defaults)
    {
        cJSON *have = cJSON_GetObjectItemCaseSensitive(obj, d->string);
        if (!have)
            cJSON_AddItemToObject(obj, d->string, cJSON_Duplicate(d, 1));
        else if (cJSON_IsObject(have) && cJSON_IsObject(d))
            merge_defaults(have, d);
    }
}

/* A member reached through a dotted path ("messageReviewHandler.uri"). */
static const cJSON *jpath(const cJSON *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

void eng_now_iso(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000L) % 1000);
}

/* ---- replies --------------------------------------------------------------------------- */

void eng_reply(struct eng_ctx *ctx, cJSON *body)
{
    int status = ctx->op && ctx->op->success_status ? ctx->op->success_status : 200;
    ctx->out->status = status;
    ctx->out->error_type = NULL;
    if (status == 204) {
        cJSON_Delete(body);
        ctx->out->body = NULL;
        return;
    }
    if (!body)
        body = cJSON_CreateObject();
    ctx->out->body = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!ctx->out->body)
        emu_reply_error(ctx->out, 500, "InternalServerException", "Out of memory.");
}

/* The members a service's error shapes add to the message (Chat's), for a resource id. */
static void error_members(struct eng_ctx *ctx, int status, const char *resource_id, long limit)
{
    const char *type = ctx->svc ? ctx->svc->error_resource_type : NULL;
    if (!type)
        return;
    cJSON *m = cJSON_CreateObject();
    if (status == 400) {
        cJSON_AddStringToObject(m, "reason", "FIELD_VALIDATION_FAILED");
    } else if (status == 402 || status == 404 || status == 409 || status == 429) {
        cJSON_AddStringToObject(m, "resourceId", resource_id ? resource_id : "");
        cJSON_AddStringToObject(m, "resourceType", type);
        if (limit >= 0)
            cJSON_AddNumberToObject(m, "limit", (double)limit);
    }
    ctx->out->error_members = m;
}

static void error_v(struct eng_ctx *ctx, int status, const char *type, const char *resource_id,
                    long limit, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
static void error_v(struct eng_ctx *ctx, int status, const char *type, const char *resource_id,
                    long limit, const char *fmt, va_list ap)
{
    struct buf b = BUF_INIT;
    buf_vprintf(&b, fmt, ap);
    emu_reply_error(ctx->out, status, type, "%s", buf_str(&b));
    buf_free(&b);
    error_members(ctx, status, resource_id, limit);
}

void eng_error(struct eng_ctx *ctx, int status, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_v(ctx, status, type, NULL, -1, fmt, ap);
    va_end(ap);
}

/* eng_error naming the resource (its id: the last segment of an ARN) and a quota's limit. */
static void error_about(struct eng_ctx *ctx, int status, const char *type, const char *arn,
                        long limit, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void error_about(struct eng_ctx *ctx, int status, const char *type, const char *arn,
                        long limit, const char *fmt, ...)
{
    const char *slash = arn ? strrchr(arn, '/') : NULL;
    va_list ap;
    va_start(ap, fmt);
    error_v(ctx, status, type, slash ? slash + 1 : arn, limit, fmt, ap);
    va_end(ap);
}

void eng_error_resource(struct eng_ctx *ctx, const char *arn)
{
    cJSON *m = ctx->out->error_members;
    const char *slash = arn ? strrchr(arn, '/') : NULL;
    if (m && cJSON_GetObjectItemCaseSensitive(m, "resourceId"))
        eng_set(m, "resourceId", cJSON_CreateString(slash ? slash + 1 : arn ? arn : ""));
}

void eng_not_found(struct eng_ctx *ctx, const char *arn)
{
    error_about(ctx, 404, "ResourceNotFoundException", arn, -1, "Resource %s not found.",
                arn ? arn : "");
}

/* ---- partitions and resources ---------------------------------------------------------- */

static size_t service_index(const struct engine *e, const struct eng_service *svc)
{
    for (size_t i = 0; i < e->service_count; i++)
        if (e->services[i] == svc)
            return i;
    return 0;
}

static struct vec *list_of(struct engine *e, struct eng_part *p, const struct eng_service *svc,
                           int kind)
{
    return &p->lists[e->kind_base[service_index(e, svc)] + (size_t)kind];
}

static void touch(struct engine *e, struct eng_res *r)
{
    struct touched *t = &e->touched;
    if (!t->active || !r)
        return;
    for (size_t i = 0; i < t->n; i++)
        if (t->res[i] == r)
            return;
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        struct eng_res **nr = realloc(t->res, ncap * sizeof *nr);
        if (!nr)
            return;
        t->res = nr;
        t->cap = ncap;
    }
    t->res[t->n++] = r;
}

void eng_touch(struct eng_res *r) { touch(r->part->eng, r); }

static void journal_kind(char *out, size_t n, const struct eng_res *r)
{
    snprintf(out, n, "%s:%s", r->svc->name, r->svc->kinds[r->kind].type);
}

static void untouch(struct engine *e, const struct eng_res *r)
{
    struct touched *t = &e->touched;
    if (!t->active)
        return;
    for (size_t i = 0; i < t->n; i++) {
        if (t->res[i] == r) {
            t->res[i] = t->res[--t->n];
            break;
        }
    }
    if (t->nr == t->capr) {
        size_t ncap = t->capr ? t->capr * 2 : 8;
        char **nr = realloc(t->removed, ncap * sizeof *nr);
        if (!nr)
            return;
        t->removed = nr;
        t->capr = ncap;
    }
    char kind[96];
    journal_kind(kind, sizeof kind, r);
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s\n%s", kind, r->arn);
    t->removed[t->nr++] = buf_steal(&b);
}

static cJSON *journal_value(const struct eng_res *r)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "account", r->part->account);
    cJSON_AddStringToObject(v, "region", r->part->region);
    cJSON_AddNumberToObject(v, "seq", (double)r->seq);
    cJSON_AddItemToObject(v, "obj", cJSON_Duplicate(r->obj, 1));
    cJSON_AddItemToObject(v, "priv", cJSON_Duplicate(r->priv, 1));
    return v;
}

static void call_begin(struct engine *e) { e->touched.active = 1; }

/* Reports what the call changed (when it changed anything) and forgets the lists. */
static void call_end(struct engine *e, int changed)
{
    struct touched *t = &e->touched;
    for (size_t i = 0; changed && e->host.journal_put && i < t->n; i++) {
        char kind[96];
        journal_kind(kind, sizeof kind, t->res[i]);
        cJSON *v = journal_value(t->res[i]);
        e->host.journal_put(e->host.ud, kind, t->res[i]->arn, v);
        cJSON_Delete(v);
    }
    for (size_t i = 0; i < t->nr; i++) {
        char *nl = strchr(t->removed[i], '\n');
        if (changed && e->host.journal_del && nl) {
            *nl = '\0';
            e->host.journal_del(e->host.ud, t->removed[i], nl + 1);
        }
        free(t->removed[i]);
    }
    t->n = t->nr = 0;
    t->active = 0;
}

static void res_free(struct eng_res *r)
{
    if (!r)
        return;
    free(r->arn);
    cJSON_Delete(r->obj);
    cJSON_Delete(r->priv);
    free(r);
}

static void part_free(struct engine *e, struct eng_part *p)
{
    if (!p)
        return;
    for (size_t k = 0; p->lists && k < e->kind_total; k++) {
        for (size_t i = 0; i < p->lists[k].n; i++)
            res_free(p->lists[k].items[i]);
        free(p->lists[k].items);
    }
    free(p->lists);
    strmap_free(&p->by_arn);
    free(p->account);
    free(p->region);
    free(p);
}

struct eng_part *eng_partition(struct engine *e, const char *account, const char *region)
{
    for (size_t i = 0; i < e->part_count; i++)
        if (!strcmp(e->parts[i]->account, account) && !strcmp(e->parts[i]->region, region))
            return e->parts[i];
    struct eng_part **np = realloc(e->parts, (e->part_count + 1) * sizeof *np);
    if (!np)
        return NULL;
    e->parts = np;
    struct eng_part *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->eng = e;
    p->account = ivs_strdup(account);
    p->region = ivs_strdup(region);
    p->lists = calloc(e->kind_total ? e->kind_total : 1, sizeof *p->lists);
    if (!p->account || !p->region || !p->lists) {
        part_free(e, p);
        return NULL;
    }
    /* The same derivation as the low-latency store: one stable host prefix per account. */
    char hex[65];
    struct buf b = BUF_INIT;
    buf_printf(&b, "ivs-emulator-account-prefix:%s", account);
    sigv4_sha256_hex(buf_str(&b), b.len, hex);
    buf_free(&b);
    memcpy(p->prefix, hex, 12);
    p->prefix[12] = '\0';
    e->parts[e->part_count++] = p;
    return p;
}

struct eng_part *eng_partition_at(struct engine *e, size_t i)
{
    return i < e->part_count ? e->parts[i] : NULL;
}

void eng_use_partition(struct eng_ctx *ctx, struct eng_part *p)
{
    ctx->part = p;
    ctx->account = p->account;
    ctx->region = p->region;
    ctx->prefix = p->prefix;
}

static int vec_push(struct vec *v, struct eng_res *r)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 8;
        struct eng_res **ni = realloc(v->items, ncap * sizeof *ni);
        if (!ni)
            return -1;
        v->items = ni;
        v->cap = ncap;
    }
    /* Loaded resources arrive in file order; keep the vector sorted by seq. */
    size_t i = v->n;
    while (i > 0 && v->items[i - 1]->seq > r->seq) {
        v->items[i] = v->items[i - 1];
        i--;
    }
    v->items[i] = r;
    v->n++;
    return 0;
}

static void vec_remove(struct vec *v, const struct eng_res *r)
{
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i] == r) {
            memmove(v->items + i, v->items + i + 1, (v->n - i - 1) * sizeof *v->items);
            v->n--;
            return;
        }
    }
}

static struct eng_res *res_insert(struct engine *e, struct eng_part *p,
                                  const struct eng_service *svc, int kind, const char *arn,
                                  cJSON *obj, cJSON *priv, uint64_t seq)
{
    struct eng_res *r = calloc(1, sizeof *r);
    if (!r) {
        cJSON_Delete(obj);
        cJSON_Delete(priv);
        return NULL;
    }
    r->svc = svc;
    r->kind = kind;
    r->seq = seq ? seq : ++e->seq;
    if (r->seq > e->seq)
        e->seq = r->seq;
    r->arn = ivs_strdup(arn);
    r->obj = obj;
    r->priv = priv ? priv : cJSON_CreateObject();
    r->part = p;
    struct vec *v = list_of(e, p, svc, kind);
    if (!r->arn || !r->priv || vec_push(v, r) != 0) {
        res_free(r);
        return NULL;
    }
    if (strmap_put(&p->by_arn, r->arn, r) != 0) {
        vec_remove(v, r);
        res_free(r);
        return NULL;
    }
    touch(e, r);
    return r;
}

struct eng_res *eng_find(struct eng_part *p, const struct eng_service *svc, int kind,
                         const char *arn)
{
    struct eng_res *r = p && arn ? strmap_get(&p->by_arn, arn) : NULL;
    if (!r || r->svc != svc || (kind >= 0 && r->kind != kind))
        return NULL;
    touch(p->eng, r);
    return r;
}

int eng_each(struct eng_part *p, const struct eng_service *svc, int kind,
             int (*fn)(struct eng_res *r, void *arg), void *arg)
{
    struct engine *e = p->eng;
    size_t first = e->kind_base[service_index(e, svc)];
    size_t lo = kind >= 0 ? first + (size_t)kind : first;
    size_t hi = kind >= 0 ? lo + 1 : first + svc->kind_count;
    for (size_t k = lo; k < hi; k++) {
        /* fn may remove the resource it is given: walk a copy of the vector. */
        struct vec *v = &p->lists[k];
        size_t n = v->n;
        struct eng_res **items = n ? malloc(n * sizeof *items) : NULL;
        if (n && !items)
            return 0;
        if (n)
            memcpy(items, v->items, n * sizeof *items);
        int rc = 0;
        for (size_t i = 0; i < n && !rc; i++)
            rc = fn(items[i], arg);
        free(items);
        if (rc)
            return rc;
    }
    return 0;
}

/* Checks arn:aws:{svc}:{region}:{account}:{type}/{id} with the model's character classes,
 * anchored (the model's own ResourceArn patterns match no real ARN). Fills region/account and
 * returns a pointer to the type, or NULL. */
static const char *arn_split(const struct eng_service *svc, const char *arn, char *region,
                             size_t rlen, char *account, size_t alen, size_t *type_len)
{
    size_t sl = strlen(svc->arn_service);
    if (!arn || strlen(arn) > 256 || strncmp(arn, "arn:aws:", 8) != 0 ||
        strncmp(arn + 8, svc->arn_service, sl) != 0 || arn[8 + sl] != ':')
        return NULL;
    const char *p = arn + 9 + sl, *q = p;
    while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-')
        q++;
    if (q == p || *q != ':' || (size_t)(q - p) >= rlen)
        return NULL;
    memcpy(region, p, (size_t)(q - p));
    region[q - p] = '\0';
    p = ++q;
    while (*q >= '0' && *q <= '9')
        q++;
    if (q == p || *q != ':' || (size_t)(q - p) >= alen)
        return NULL;
    memcpy(account, p, (size_t)(q - p));
    account[q - p] = '\0';
    p = q + 1;
    const char *slash = strchr(p, '/');
    if (!slash || slash == p || !slash[1])
        return NULL;
    for (q = slash + 1; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '-'))
            return NULL;
    *type_len = (size_t)(slash - p);
    return p;
}

/* The kind an ARN names in a service, or -1. */
static int arn_kind(const struct eng_service *svc, const char *arn, char region[64],
                    char account[32])
{
    size_t tl = 0;
    const char *type = arn_split(svc, arn, region, 64, account, 32, &tl);
    if (!type)
        return -1;
    for (size_t k = 0; k < svc->kind_count; k++)
        if (strlen(svc->kinds[k].type) == tl && !strncmp(type, svc->kinds[k].type, tl))
            return (int)k;
    return -1;
}

int eng_arn_place(const struct eng_service *svc, const char *arn, char *region, char *account)
{
    return arn_kind(svc, arn, region, account) >= 0 ? 0 : -1;
}

struct eng_res *eng_need(struct eng_ctx *ctx, int kind, const char *arn)
{
    char region[64], account[32];
    const struct eng_kind *k = &ctx->svc->kinds[kind];
    if (!arn) {
        eng_error(ctx, 400, "ValidationException", "A %s ARN is required.", k->what);
        return NULL;
    }
    if (arn_kind(ctx->svc, arn, region, account) != kind) {
        eng_error(ctx, 400, "ValidationException", "Invalid %s ARN: %s", k->what, arn);
        return NULL;
    }
    struct eng_res *r = eng_find(ctx->part, ctx->svc, kind, arn);
    if (!r)
        eng_not_found(ctx, arn);
    return r;
}

struct eng_res *eng_create(struct eng_ctx *ctx, int kind, cJSON *obj)
{
    const struct eng_kind *k = &ctx->svc->kinds[kind];
    if (k->quota && list_of(ctx->eng, ctx->part, ctx->svc, kind)->n >= k->quota) {
        cJSON_Delete(obj);
        error_about(ctx, 402, "ServiceQuotaExceededException", NULL, (long)k->quota,
                    "%s quota of %zu exceeded.", k->what, k->quota);
        return NULL;
    }
    char id[13], arn[256];
    emu_random_alnum(id, 12);
    snprintf(arn, sizeof arn, "arn:aws:%s:%s:%s:%s/%s", ctx->svc->arn_service, ctx->region,
             ctx->account, k->type, id);
    if (!obj)
        obj = cJSON_CreateObject();
    eng_set(obj, "arn", cJSON_CreateString(arn));
    if (k->with_id)
        eng_set(obj, "id", cJSON_CreateString(id));
    if (k->with_times) {
        char now[32];
        eng_now_iso(now);
        eng_set(obj, "createTime", cJSON_CreateString(now));
        eng_set(obj, "updateTime", cJSON_CreateString(now));
    }
    if (k->defaults) {
        cJSON *d = cJSON_Parse(k->defaults);
        merge_defaults(obj, d);
        cJSON_Delete(d);
    }
    struct eng_res *r = res_insert(ctx->eng, ctx->part, ctx->svc, kind, arn, obj, NULL, 0);
    if (!r) {
        eng_error(ctx, 500, "InternalServerException", "Out of memory.");
        return NULL;
    }
    ctx->changed = 1;
    return r;
}

void eng_remove(struct eng_ctx *ctx, struct eng_res *r)
{
    struct eng_part *p = r->part;
    untouch(ctx->eng, r);
    strmap_remove(&p->by_arn, r->arn);
    vec_remove(list_of(ctx->eng, p, r->svc, r->kind), r);
    res_free(r);
    ctx->changed = 1;
}

/* ---- projection and pages -------------------------------------------------------------- */

cJSON *eng_project(const cJSON *value, const struct model_shape *s)
{
    if (!s)
        return cJSON_Duplicate(value, 1);
    if (s->type == MT_STRUCTURE) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < s->member_count; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(value, s->members[i].name);
            if (v && !cJSON_IsNull(v))
                cJSON_AddItemToObject(o, s->members[i].name, eng_project(v, s->members[i].shape));
        }
        return o;
    }
    if (s->type == MT_LIST && cJSON_IsArray(value)) {
        cJSON *a = cJSON_CreateArray();
        const cJSON *v;
        cJSON_ArrayForEach(v, value) cJSON_AddItemToArray(a, eng_project(v, s->member_shape));
        return a;
    }
    return cJSON_Duplicate(value, 1);
}

/* The shape of an output member (NULL when the output has no such member). */
static const struct model_shape *output_member_shape(const struct eng_ctx *ctx, const char *member)
{
    const struct model_member *m =
        ctx->op->output && member ? model_find_member(ctx->op->output, member) : NULL;
    return m ? m->shape : NULL;
}

const struct model_shape *eng_result_shape(const struct eng_ctx *ctx)
{
    const struct model_shape *l = output_member_shape(ctx, ctx->op->result_key);
    return l ? l->member_shape : NULL;
}

void eng_merge_defaults(cJSON *obj, const char *json)
{
    cJSON *d = cJSON_Parse(json);
    merge_defaults(obj, d);
    cJSON_Delete(d);
}

int eng_page(struct eng_ctx *ctx, const cJSON *in, cJSON *items, const char *key,
             const char *filter, int default_max, cJSON *resp)
{
    struct buf fp = BUF_INIT;
    buf_printf(&fp, "%s|%s", ctx->op->name, filter ? filter : "");
    unsigned long long fingerprint = (unsigned long long)emu_hash(buf_str(&fp));
    buf_free(&fp);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, "maxResults");
    long max = cJSON_IsNumber(m) && m->valuedouble >= 1 ? (long)m->valuedouble : default_max;
    long start = 0;
    const char *tok = eng_str(in, "nextToken");
    if (tok && *tok) {
        size_t len = 0;
        char *raw = strlen(tok) <= 1024 ? emu_base64_decode(tok, &len) : NULL;
        char opname[64];
        unsigned long long fpv = 0;
        long cur = -1;
        int ok = raw && strlen(raw) == len &&
                 sscanf(raw, "v1|%63[A-Za-z]|%llx|%ld", opname, &fpv, &cur) == 3 &&
                 !strcmp(opname, ctx->op->name) && fpv == fingerprint && cur >= 0;
        free(raw);
        if (!ok) {
            cJSON_Delete(items);
            eng_error(ctx, 400, "ValidationException",
                      "The nextToken is not valid for this request.");
            return -1;
        }
        start = cur;
    }
    cJSON *arr = cJSON_AddArrayToObject(resp, key);
    long n = cJSON_GetArraySize(items), i = 0;
    cJSON *item = items ? items->child : NULL;
    while (item && i < start) {
        item = item->next;
        i++;
    }
    long taken = 0;
    while (item && taken < max) {
        cJSON *next = item->next;
        cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(items, item));
        item = next;
        taken++;
        i++;
    }
    if (i < n) {
        char raw[160];
        snprintf(raw, sizeof raw, "v1|%s|%llx|%ld", ctx->op->name, fingerprint, i);
        char *t = emu_base64_encode(raw, strlen(raw));
        if (t)
            cJSON_AddStringToObject(resp, "nextToken", t);
        free(t);
    }
    cJSON_Delete(items);
    return 0;
}

/* ---- events ---------------------------------------------------------------------------- */

void eng_emit(struct eng_ctx *ctx, const char *detail_type, const char *resource_arn, cJSON *detail)
{
    if (ctx->eng->host.emit)
        ctx->eng->host.emit(ctx->eng->host.ud, ctx->account, ctx->region, detail_type, resource_arn,
                            detail);
    else
        cJSON_Delete(detail);
    ctx->changed = 1;
}

int eng_ivs_exists(struct eng_ctx *ctx, const char *arn)
{
    return ctx->eng->host.ivs_exists &&
           ctx->eng->host.ivs_exists(ctx->eng->host.ud, ctx->account, ctx->region, arn);
}

/* ---- the generic operations ------------------------------------------------------------ */

static int in_list(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (!strcmp(*list, name))
            return 1;
    return 0;
}

static void respond_resource(struct eng_ctx *ctx, const struct eng_op *o, struct eng_res *r,
                             cJSON *resp)
{
    if (o->wrap) {
        eng_set(resp, o->wrap, eng_project(r->obj, output_member_shape(ctx, o->wrap)));
    } else {
        cJSON *flat = eng_project(r->obj, ctx->op->output);
        cJSON *v;
        cJSON_ArrayForEach(v, flat)
        {
            if (!cJSON_GetObjectItemCaseSensitive(resp, v->string))
                cJSON_AddItemToObject(resp, v->string, cJSON_Duplicate(v, 1));
        }
        cJSON_Delete(flat);
    }
    eng_reply(ctx, resp);
}

static int tags_ok(struct eng_ctx *ctx, const cJSON *tags)
{
    if (cJSON_GetArraySize(tags) > MAX_TAGS) {
        eng_error(ctx, 400, "ValidationException", "A resource can have at most %d tags.",
                  MAX_TAGS);
        return 0;
    }
    return 1;
}

static void op_create(struct eng_ctx *ctx, const struct eng_op *o, const cJSON *in)
{
    if (!tags_ok(ctx, cJSON_GetObjectItemCaseSensitive(in, "tags")))
        return;
    cJSON *obj = cJSON_CreateObject();
    const cJSON *v;
    cJSON_ArrayForEach(v, in)
    {
        if (!in_list(o->skip, v->string))
            cJSON_AddItemToObject(obj, v->string, cJSON_Duplicate(v, 1));
    }
    struct eng_res *r = eng_create(ctx, o->kind, obj);
    if (!r)
        return;
    cJSON *resp = cJSON_CreateObject();
    if (o->on_create && o->on_create(ctx, r, in, resp) != 0) {
        cJSON_Delete(resp);
        eng_remove(ctx, r);
        return;
    }
    respond_resource(ctx, o, r, resp);
}

static struct eng_res *target(struct eng_ctx *ctx, const struct eng_op *o, const cJSON *in)
{
    struct eng_res *r = eng_need(ctx, o->kind, eng_str(in, o->ident));
    if (r && o->check && o->check(ctx, r, in) != 0)
        return NULL;
    return r;
}

static void op_get(struct eng_ctx *ctx, const struct eng_op *o, const cJSON *in)
{
    struct eng_res *r = target(ctx, o, in);
    if (r)
        respond_resource(ctx, o, r, cJSON_CreateObject());
}

static void op_update(struct eng_ctx *ctx, const struct eng_op *o, const cJSON *in)
{
    struct eng_res *r = target(ctx, o, in);
    if (!r)
        return;
    /* Hooks see the old values in a copy, so a refused update changes nothing. */
    cJSON *before = cJSON_Duplicate(r->obj, 1);
    const cJSON *v;
    cJSON_ArrayForEach(v, in)
    {
        if (strcmp(v->string, o->ident) != 0 && !in_list(o->skip, v->string))
            eng_set(r->obj, v->string, cJSON_Duplicate(v, 1));
    }
    if (ctx->svc->kinds[o->kind].with_times) {
        char now[32];
        eng_now_iso(now);
        eng_set(r->obj, "updateTime", cJSON_CreateString(now));
    }
    cJSON *resp = cJSON_CreateObject();
    if (o->on_create && o->on_create(ctx, r, in, resp) != 0) {
        cJSON_Delete(r->obj);
        r->obj = before;
        cJSON_Delete(resp);
        return;
    }
    cJSON_Delete(before);
    ctx->changed = 1;
    respond_resource(ctx, o, r, resp);
}

static void op_delete(struct eng_ctx *ctx, const struct eng_op *o, const cJSON *in)
{
    struct eng_res *r = target(ctx, o, in);
    if (!r)
        return;
    if (o->on_delete && o->on_delete(ctx, r, in) != 0)
        return;
    eng_remove(ctx, r);
    eng_reply(ctx, NULL);
}

struct list_walk {
    struct eng_ctx *ctx;
    const struct eng_op *o;
    const cJSON *in;
    cJSON *items;
    const struct model_shape *elem_shape;
};

static int filter_match(const struct eng_filter *f, const struct eng_res *r, const cJSON *value)
{
    if (f->pred)
        return f->pred(r, value);
    const cJSON *have = jpath(r->obj, f->path);
    if (f->member) {
        const cJSON *x;
        cJSON_ArrayForEach(x, have)
        {
            if (cJSON_Compare(x, value, 1))
                return 1;
        }
        return 0;
    }
    return have && cJSON_Compare(have, value, 1);
}

static int list_one(struct eng_res *r, void *arg)
{
    struct list_walk *w = arg;
    for (size_t i = 0; i < ENG_MAX_FILTERS && w->o->filters[i].input; i++) {
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(w->in, w->o->filters[i].input);
        if (value && !filter_match(&w->o->filters[i], r, value))
            return 0;
    }
    cJSON_AddItemToArray(w->items, eng_project(r->obj, w->elem_shape));
    return 0;
}

static int newer_first(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    const char *tx = eng_str(x, "updateTime"), *ty = eng_str(y, "updateTime");
    int c = strcmp(ty ? ty : "", tx ? tx : "");
    return c;
}

static void op_list(struct eng_ctx *ctx, const struct eng_op *o, const cJSON *in)
{
    struct buf filter = BUF_INIT;
    int given = 0;
    for (size_t i = 0; i < ENG_MAX_FILTERS && o->filters[i].input; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, o->filters[i].input);
        if (!v)
            continue;
        given++;
        char *text = cJSON_PrintUnformatted(v);
        buf_printf(&filter, "%s=%s;", o->filters[i].input, text ? text : "");
        free(text);
    }
    if (o->one_filter && given > 1) {
        buf_free(&filter);
        eng_error(ctx, 400, "ValidationException", "Only one filter may be given per request.");
        return;
    }
    const char *key = ctx->op->result_key;
    const struct model_shape *list_shape = output_member_shape(ctx, key);
    struct list_walk w = {ctx, o, in, cJSON_CreateArray(),
                          list_shape ? list_shape->member_shape : NULL};
    eng_each(ctx->part, ctx->svc, o->kind, list_one, &w);
    if (o->newest_first) {
        /* Sort through an array of pointers, then rebuild the list in that order. */
        int n = cJSON_GetArraySize(w.items);
        cJSON **v = calloc((size_t)n + 1, sizeof *v);
        cJSON *sorted = cJSON_CreateArray();
        if (v && sorted) {
            int i = 0;
            for (cJSON *c = w.items->child; c; c = c->next)
                v[i++] = c;
            /* The stable creation order breaks ties: reverse it first so the newest is first. */
            for (int a = 0, b = n - 1; a < b; a++, b--) {
                cJSON *t = v[a];
                v[a] = v[b];
                v[b] = t;
            }
            qsort(v, (size_t)n, sizeof *v, newer_first);
            for (i = 0; i < n; i++)
                cJSON_AddItemToArray(sorted, cJSON_Duplicate(v[i], 1));
            cJSON_Delete(w.items);
            w.items = sorted;
        } else {
            cJSON_Delete(sorted);
        }
        free(v);
    }
    cJSON *resp = cJSON_CreateObject();
    if (eng_page(ctx, in, w.items, key, buf_str(&filter), o->default_max ? o->default_max : 50,
                 resp) == 0)
        eng_reply(ctx, resp);
    else
        cJSON_Delete(resp);
    buf_free(&filter);
}

/* ---- tags, the same for every service ------------------------------------------------- */

static struct eng_res *tag_target(struct eng_ctx *ctx, const cJSON *in)
{
    const char *arn = eng_str(in, "resourceArn");
    char region[64], account[32];
    if (!arn || arn_kind(ctx->svc, arn, region, account) < 0) {
        eng_error(ctx, 400, "ValidationException", "Invalid resource ARN: %s", arn ? arn : "");
        return NULL;
    }
    struct eng_res *r = eng_find(ctx->part, ctx->svc, -1, arn);
    if (!r)
        eng_not_found(ctx, arn);
    return r;
}

static void op_tags(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *r = tag_target(ctx, in);
    if (!r)
        return;
    cJSON *tags = cJSON_GetObjectItemCaseSensitive(r->obj, "tags");
    if (!cJSON_IsObject(tags)) {
        tags = cJSON_CreateObject();
        eng_set(r->obj, "tags", tags);
    }
    const char *name = ctx->op->name;
    if (!strcmp(name, "ListTagsForResource")) {
        cJSON *resp = cJSON_CreateObject();
        cJSON_AddItemToObject(resp, "tags", cJSON_Duplicate(tags, 1));
        eng_reply(ctx, resp);
        return;
    }
    if (!strcmp(name, "TagResource")) {
        cJSON *merged = cJSON_Duplicate(tags, 1);
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(in, "tags"))
            eng_set(merged, t->string, cJSON_Duplicate(t, 1));
        if (!tags_ok(ctx, merged)) {
            cJSON_Delete(merged);
            return;
        }
        eng_set(r->obj, "tags", merged);
    } else {
        const cJSON *k;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(in, "tagKeys"))
        {
            if (cJSON_IsString(k))
                cJSON_DeleteItemFromObjectCaseSensitive(tags, k->valuestring);
        }
    }
    ctx->changed = 1;
    eng_reply(ctx, NULL);
}

/* ---- entry points ---------------------------------------------------------------------- */

int engine_call(struct engine *e, const struct eng_service *svc, const char *account,
                const char *region, const struct model_operation *op, const cJSON *in,
                struct emu_reply *out)
{
    struct eng_ctx ctx = {e,   svc, eng_partition(e, account, region), account, region, NULL, op,
                          out, 0};
    if (!ctx.part) {
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return 0;
    }
    ctx.prefix = ctx.part->prefix;
    cJSON *empty = NULL;
    if (!in)
        in = empty = cJSON_CreateObject();
    call_begin(e);
    const char *name = op->name;
    if (!strcmp(name, "TagResource") || !strcmp(name, "UntagResource") ||
        !strcmp(name, "ListTagsForResource")) {
        op_tags(&ctx, in);
    } else {
        const struct eng_op *o = NULL;
        for (size_t i = 0; i < svc->op_count && !o; i++)
            if (!strcmp(svc->ops[i].name, name))
                o = &svc->ops[i];
        if (!o)
            emu_reply_error(out, 500, "InternalServerException", "Operation %s is not handled.",
                            name);
        else if (o->action == EA_CREATE)
            op_create(&ctx, o, in);
        else if (o->action == EA_GET)
            op_get(&ctx, o, in);
        else if (o->action == EA_UPDATE)
            op_update(&ctx, o, in);
        else if (o->action == EA_DELETE)
            op_delete(&ctx, o, in);
        else if (o->action == EA_LIST)
            op_list(&ctx, o, in);
        else
            o->custom(&ctx, in);
    }
    cJSON_Delete(empty);
    call_end(e, ctx.changed);
    return ctx.changed;
}

int engine_admin(struct engine *e, const char *method, const char *path, const cJSON *query,
                 const cJSON *body, const char *account, const char *region, struct emu_reply *out,
                 int *changed)
{
    for (size_t s = 0; s < e->service_count; s++) {
        const struct eng_service *svc = e->services[s];
        for (size_t i = 0; i < svc->admin_count; i++) {
            const struct eng_admin_route *rt = &svc->admin[i];
            if (strcmp(rt->method, method) != 0 || strcmp(rt->path, path) != 0)
                continue;
            struct eng_ctx ctx = {
                e, svc, eng_partition(e, account, region), account, region, NULL, NULL, out, 0};
            if (!ctx.part) {
                emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
                return 1;
            }
            ctx.prefix = ctx.part->prefix;
            cJSON *empty = NULL;
            if (!body)
                body = empty = cJSON_CreateObject();
            call_begin(e);
            rt->fn(&ctx, query, body);
            call_end(e, ctx.changed);
            cJSON_Delete(empty);
            *changed = ctx.changed;
            return 1;
        }
    }
    return 0;
}

const struct eng_service *engine_service(const struct engine *e, const char *name)
{
    for (size_t i = 0; i < e->service_count; i++)
        if (!strcmp(e->services[i]->name, name))
            return e->services[i];
    return NULL;
}

struct engine *engine_new(const struct eng_service *const *services, size_t count,
                          const struct eng_host *host)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->services = services;
    e->service_count = count;
    e->kind_base = calloc(count ? count : 1, sizeof *e->kind_base);
    if (!e->kind_base) {
        free(e);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        e->kind_base[i] = e->kind_total;
        e->kind_total += services[i]->kind_count;
    }
    if (host)
        e->host = *host;
    return e;
}

void engine_reset(struct engine *e)
{
    for (size_t i = 0; i < e->part_count; i++)
        part_free(e, e->parts[i]);
    free(e->parts);
    e->parts = NULL;
    e->part_count = 0;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    engine_reset(e);
    free(e->touched.res);
    free(e->touched.removed);
    free(e->kind_base);
    free(e);
}

size_t engine_count(const struct engine *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->part_count; i++)
        n += e->parts[i]->by_arn.count;
    return n;
}

cJSON *engine_snapshot(const struct engine *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seq", (double)e->seq);
    cJSON *rs = cJSON_AddArrayToObject(o, "resources");
    for (size_t i = 0; i < e->part_count; i++) {
        const struct eng_part *p = e->parts[i];
        for (size_t k = 0; k < e->kind_total; k++) {
            for (size_t j = 0; j < p->lists[k].n; j++) {
                const struct eng_res *r = p->lists[k].items[j];
                cJSON *rj = cJSON_CreateObject();
                cJSON_AddStringToObject(rj, "service", r->svc->name);
                cJSON_AddStringToObject(rj, "type", r->svc->kinds[r->kind].type);
                cJSON_AddStringToObject(rj, "account", p->account);
                cJSON_AddStringToObject(rj, "region", p->region);
                cJSON_AddNumberToObject(rj, "seq", (double)r->seq);
                cJSON_AddItemToObject(rj, "obj", cJSON_Duplicate(r->obj, 1));
                cJSON_AddItemToObject(rj, "priv", cJSON_Duplicate(r->priv, 1));
                cJSON_AddItemToArray(rs, rj);
            }
        }
    }
    return o;
}

/* One saved resource (rj: service, type, account, region, seq, obj, priv), checked as strictly
 * as a request: a known service and kind, an ARN of exactly that kind in that account and
 * region, objects where objects belong, each ARN once. */
static int load_one(struct engine *e, const cJSON *rj, char *errbuf, size_t errlen)
{
    const struct eng_service *svc = engine_service(e, eng_str0(rj, "service"));
    const char *account = eng_str(rj, "account"), *region = eng_str(rj, "region");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(rj, "obj");
    const cJSON *priv = cJSON_GetObjectItemCaseSensitive(rj, "priv");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(rj, "seq");
    const char *arn = eng_str(obj, "arn");
    char ar[64], aa[32];
    int kind = svc && arn ? arn_kind(svc, arn, ar, aa) : -1;
    if (kind < 0 || !account || !region || !cJSON_IsNumber(seq) || seq->valuedouble < 1 ||
        seq->valuedouble > 9007199254740992.0 || (priv && !cJSON_IsObject(priv)) ||
        !eng_streq(eng_str(rj, "type"), svc->kinds[kind].type) || strcmp(ar, region) != 0 ||
        strcmp(aa, account) != 0) {
        snprintf(errbuf, errlen, "a %s resource that is not one (%s)", svc ? svc->name : "family",
                 arn ? arn : "no arn");
        return -1;
    }
    struct eng_part *p = eng_partition(e, account, region);
    if (!p || strmap_get(&p->by_arn, arn)) {
        snprintf(errbuf, errlen, "%s twice", arn);
        return -1;
    }
    if (!res_insert(e, p, svc, kind, arn, cJSON_Duplicate(obj, 1),
                    priv ? cJSON_Duplicate(priv, 1) : NULL, (uint64_t)seq->valuedouble)) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int engine_apply_record(const struct engine *e, cJSON *family, const cJSON *record, char *errbuf,
                        size_t errlen)
{
    const char *kind = eng_str(record, "kind"), *op = eng_str(record, "op");
    const char *id = eng_str(record, "id");
    const char *colon = kind ? strchr(kind, ':') : NULL;
    char name[64];
    if (!colon || (size_t)(colon - kind) >= sizeof name)
        return 1;
    memcpy(name, kind, (size_t)(colon - kind));
    name[colon - kind] = '\0';
    const struct eng_service *svc = engine_service(e, name);
    if (!svc)
        return 1;
    int put = eng_streq(op, "put");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(record, "value");
    if ((!put && !eng_streq(op, "del")) || !id || (put && !cJSON_IsObject(value)) ||
        !cJSON_IsObject(family)) {
        snprintf(errbuf, errlen, "a %s record that the engine did not write", kind);
        return -1;
    }
    cJSON *rs = cJSON_GetObjectItemCaseSensitive(family, "resources");
    if (!cJSON_IsArray(rs)) {
        rs = cJSON_CreateArray();
        eng_set(family, "resources", rs);
    }
    /* The whole value replaces the entry of that ARN (so a record replayed twice is harmless);
     * loading checks the result like any state file. */
    cJSON *old = NULL;
    for (cJSON *x = rs->child; x && !old; x = x->next)
        if (eng_streq(eng_str(cJSON_GetObjectItemCaseSensitive(x, "obj"), "arn"), id))
            old = x;
    if (old)
        cJSON_Delete(cJSON_DetachItemViaPointer(rs, old));
    if (put) {
        cJSON *entry = cJSON_Duplicate(value, 1);
        eng_set(entry, "service", cJSON_CreateString(svc->name));
        eng_set(entry, "type", cJSON_CreateString(colon + 1));
        cJSON_AddItemToArray(rs, entry);
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(value, "seq");
        const cJSON *top = cJSON_GetObjectItemCaseSensitive(family, "seq");
        if (cJSON_IsNumber(seq) && (!cJSON_IsNumber(top) || seq->valuedouble > top->valuedouble))
            eng_set(family, "seq", cJSON_CreateNumber(seq->valuedouble));
    }
    return 0;
}

int engine_load(struct engine *e, const cJSON *snap)
{
    if (!snap)
        return 0;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(snap, "resources");
    if (!cJSON_IsObject(snap) || !cJSON_IsArray(rs))
        return -1;
    const cJSON *rj;
    cJSON_ArrayForEach(rj, rs)
    {
        char why[256];
        if (load_one(e, rj, why, sizeof why) != 0)
            return -1;
    }
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(snap, "seq");
    if (cJSON_IsNumber(seq) && seq->valuedouble > (double)e->seq &&
        seq->valuedouble <= 9007199254740992.0)
        e->seq = (uint64_t)seq->valuedouble;
    return 0;
}
