#include "model.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "timeutil.h"

const struct model_service *model_find_service(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < model_service_count; i++)
        if (strcmp(model_services[i].name, name) == 0)
            return &model_services[i];
    return NULL;
}

const struct model_service *model_default_service(void)
{
    const struct model_service *svc = model_find_service("ivs");
    assert(svc);
    return svc;
}

const struct model_operation *model_find_operation(const struct model_service *svc,
                                                   const char *name)
{
    if (!svc || !name)
        return NULL;
    const struct model_tables *t = svc->model;
    size_t lo = 0, hi = t->operation_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, t->operations[mid].name);
        if (c == 0)
            return &t->operations[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    lo = 0, hi = t->operation_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct model_operation *op = &t->operations[t->operations_by_snake_name[mid]];
        int c = strcmp(name, op->snake_name);
        if (c == 0)
            return op;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct model_paginator *model_find_paginator(const struct model_service *svc,
                                                   const char *operation)
{
    if (!svc || !operation)
        return NULL;
    for (size_t i = 0; i < svc->model->paginator_count; i++)
        if (strcmp(svc->model->paginators[i].operation, operation) == 0)
            return &svc->model->paginators[i];
    return NULL;
}

const struct model_member *model_find_member(const struct model_shape *shape, const char *name)
{
    if (!shape || !name)
        return NULL;
    /* Comparing the first byte first skips most strcmp calls: member names of one shape
     * rarely share it, and the Lua binding looks up every key of every response object. */
    for (size_t i = 0; i < shape->member_count; i++)
        if (shape->members[i].name[0] == name[0] && strcmp(shape->members[i].name, name) == 0)
            return &shape->members[i];
    return NULL;
}

const struct model_member *model_find_uri_member(const struct model_shape *in, const char *label,
                                                 size_t label_len)
{
    for (size_t i = 0; in && i < in->member_count; i++) {
        const struct model_member *m = &in->members[i];
        if (m->location == ML_URI && m->location_name && strlen(m->location_name) == label_len &&
            memcmp(m->location_name, label, label_len) == 0)
            return m;
    }
    return NULL;
}

int model_pattern_match(const struct model_shape *shape, const char *s, size_t len)
{
    if (!shape || !shape->pattern || shape->pattern_mode == MP_NONE)
        return 1;
    int r = pattern_search(shape->pattern, s, len);
    /* A pattern this matcher cannot compile must not reject input the service may accept;
     * test_model checks that every enforced pattern of the model compiles. */
    return r != 0;
}

/* An open-addressing table from shape to compiled pattern. Keyed by the shape's address, so
 * one cache serves every service (the emulator's workers see all three); it only ever holds
 * the few patterns that were checked, so it stays small. */
struct pattern_slot {
    const struct model_shape *shape;
    struct pattern *compiled;
};

struct model_pattern_cache {
    struct pattern_slot *slots;
    size_t cap, used; /* cap is a power of two; used < cap / 2 */
    size_t compilations;
};

struct model_pattern_cache *model_pattern_cache_new(void)
{
    struct model_pattern_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return NULL;
    cache->cap = 64;
    cache->slots = calloc(cache->cap, sizeof *cache->slots);
    if (!cache->slots) {
        free(cache);
        return NULL;
    }
    return cache;
}

void model_pattern_cache_free(struct model_pattern_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < cache->cap; i++)
        pattern_free(cache->slots[i].compiled);
    free(cache->slots);
    free(cache);
}

size_t model_pattern_cache_compilations(const struct model_pattern_cache *cache)
{
    return cache ? cache->compilations : 0;
}

static size_t slot_of(const struct pattern_slot *slots, size_t cap, const struct model_shape *shape)
{
    size_t h = ((size_t)(uintptr_t)shape >> 4) * (size_t)0x9E3779B97F4A7C15ull;
    size_t i = h & (cap - 1);
    while (slots[i].shape && slots[i].shape != shape)
        i = (i + 1) & (cap - 1);
    return i;
}

/* Doubles the table; 0 on success, -1 when memory runs out (the cache keeps working). */
static int cache_grow(struct model_pattern_cache *cache)
{
    size_t cap = cache->cap * 2;
    struct pattern_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < cache->cap; i++)
        if (cache->slots[i].shape)
            slots[slot_of(slots, cap, cache->slots[i].shape)] = cache->slots[i];
    free(cache->slots);
    cache->slots = slots;
    cache->cap = cap;
    return 0;
}

int model_pattern_match_cached(struct model_pattern_cache *cache, const struct model_shape *shape,
                               const char *s, size_t len)
{
    if (!cache)
        return model_pattern_match(shape, s, len);
    if (!shape || !shape->pattern || shape->pattern_mode == MP_NONE)
        return 1;
    size_t i = slot_of(cache->slots, cache->cap, shape);
    if (!cache->slots[i].shape) {
        struct pattern *p;
        /* A failure (out of memory) is not remembered: the next match tries again. */
        if (pattern_compile(shape->pattern, &p, NULL))
            return 1; /* as model_pattern_match: never reject what we cannot check */
        if ((cache->used + 1) * 2 > cache->cap) {
            if (cache_grow(cache) != 0) {
                int r = pattern_match(p, s, len) != 0;
                pattern_free(p);
                return r;
            }
            i = slot_of(cache->slots, cache->cap, shape);
        }
        cache->slots[i].shape = shape;
        cache->slots[i].compiled = p;
        cache->used++;
        cache->compilations++;
    }
    return pattern_match(cache->slots[i].compiled, s, len) != 0;
}

int model_parse_iso8601(const char *s, double *seconds_out)
{
    int64_t secs;
    long nanos;
    if (ivs_parse_iso8601(s, IVS_ISO8601_DATE_ONLY, &secs, &nanos) != 0)
        return -1;
    if (seconds_out)
        *seconds_out = (double)secs + (double)nanos / 1e9;
    return 0;
}

void model_format_iso8601(double seconds, char *out, size_t out_size)
{
    double whole = floor(seconds);
    int64_t t = (int64_t)whole;
    long micros = lround((seconds - whole) * 1e6);
    if (micros >= 1000000) {
        t++;
        micros -= 1000000;
    }
    int64_t days, rem;
    ivs_split_epoch(t, &days, &rem);
    int64_t y;
    int m, d;
    ivs_civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / 3600), mm = (int)(rem % 3600 / 60), ss = (int)(rem % 60);
    if (micros)
        snprintf(out, out_size, "%04lld-%02d-%02dT%02d:%02d:%02d.%06ldZ", (long long)y, m, d, hh,
                 mm, ss, micros);
    else
        snprintf(out, out_size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, hh, mm, ss);
}
