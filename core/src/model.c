#include "model.h"

#include <assert.h>
#include <string.h>

#include "pattern.h"

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
        const struct model_operation *op = &ivs_model_operations[ivs_model_operations_by_snake_name[mid]];
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
    for (size_t i = 0; i < shape->member_count; i++)
        if (strcmp(shape->members[i].name, name) == 0)
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
