#include "model.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "timeutil.h"

const struct model_operation *model_find_operation(const char *name)
{
    if (!name)
        return NULL;
    size_t lo = 0, hi = ivs_model_operation_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, ivs_model_operations[mid].name);
        if (c == 0)
            return &ivs_model_operations[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    lo = 0, hi = ivs_model_operation_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct model_operation *op =
            &ivs_model_operations[ivs_model_operations_by_snake_name[mid]];
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

const struct model_shape *model_shape(int index)
{
    assert(index >= 0 && (size_t)index < ivs_model_shape_count);
    return &ivs_model_shapes[index];
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

int model_pattern_match(const struct model_shape *shape, const char *s, size_t len)
{
    if (!shape || !shape->pattern || shape->pattern_mode == MP_NONE)
        return 1;
    int r = pattern_search(shape->pattern, s, len);
    /* A pattern this matcher cannot compile must not reject input the service may accept;
     * test_model checks that every enforced pattern of the model compiles. */
    return r != 0;
}

struct model_pattern_cache {
    struct pattern **compiled; /* ivs_model_shape_count slots, NULL until first needed */
    size_t compilations;
};

struct model_pattern_cache *model_pattern_cache_new(void)
{
    struct model_pattern_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return NULL;
    cache->compiled = calloc(ivs_model_shape_count, sizeof *cache->compiled);
    if (!cache->compiled) {
        free(cache);
        return NULL;
    }
    return cache;
}

void model_pattern_cache_free(struct model_pattern_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < ivs_model_shape_count; i++)
        pattern_free(cache->compiled[i]);
    free(cache->compiled);
    free(cache);
}

size_t model_pattern_cache_compilations(const struct model_pattern_cache *cache)
{
    return cache ? cache->compilations : 0;
}

int model_pattern_match_cached(struct model_pattern_cache *cache, int shape_index, const char *s,
                               size_t len)
{
    const struct model_shape *shape = model_shape(shape_index);
    if (!cache)
        return model_pattern_match(shape, s, len);
    if (!shape->pattern || shape->pattern_mode == MP_NONE)
        return 1;
    struct pattern *p = cache->compiled[shape_index];
    if (!p) {
        /* A failure (out of memory) is not remembered: the next match tries again. */
        if (pattern_compile(shape->pattern, &p, NULL))
            return 1; /* as model_pattern_match: never reject what we cannot check */
        cache->compiled[shape_index] = p;
        cache->compilations++;
    }
    return pattern_match(p, s, len) != 0;
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
