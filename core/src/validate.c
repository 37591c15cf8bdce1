/* validate.c: model_validate, the client-side check of an operation's input against the
 * model. It reports every problem it finds in one error, so a caller fixes a request in one
 * round instead of one problem at a time. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "model.h"
#include "pattern.h"
#include "suggest.h"

/* Beyond this many problems the message only says how many more there were. */
#define MAX_REPORTED 25
/* Values quoted in messages are cut to this many bytes. */
#define MAX_QUOTED 64

/* One step of the path to the value being checked, on the C stack of the walk: the path is
 * only written out when a problem is reported, so a valid request costs no path building (it
 * cost an allocation and a printf per list item). */
struct vframe {
    const struct vframe *up;
    char kind;        /* '.' a structure member, '[' a list index, 'k' a map key */
    const char *name; /* member name or map key */
    int index;        /* list index */
};

struct vctx {
    const char *op_name;
    struct model_pattern_cache *patterns; /* may be NULL */
    const struct vframe *top;             /* NULL at the top level */
    struct buf msg;
    int problems;
};

static void put_quoted(struct buf *b, const char *s, size_t max);

/* Writes the path of f (outermost first): "a.b[2][\"key\"]". */
static void put_path(struct buf *b, const struct vframe *f)
{
    if (!f)
        return;
    put_path(b, f->up);
    switch (f->kind) {
    case '.':
        if (b->len)
            buf_putc(b, '.');
        buf_puts(b, f->name);
        break;
    case '[': buf_printf(b, "[%d]", f->index); break;
    default:
        buf_putc(b, '[');
        put_quoted(b, f->name, 40);
        buf_putc(b, ']');
        break;
    }
}

static void problem(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct vctx *v, const char *fmt, ...)
{
    v->problems++;
    if (v->problems > MAX_REPORTED)
        return;
    if (v->problems > 1)
        buf_puts(&v->msg, "; ");
    struct buf path = BUF_INIT;
    put_path(&path, v->top);
    if (buf_failed(&path))
        v->msg.failed = 1;
    buf_printf(&v->msg, "%s: %s: ", v->op_name, path.len ? buf_str(&path) : "input");
    buf_free(&path);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&v->msg, fmt, ap);
    va_end(ap);
}

/* Enters f (filled by the caller) as the innermost step of the path. */
static void path_push(struct vctx *v, struct vframe *f)
{
    f->up = v->top;
    v->top = f;
}

static void path_pop(struct vctx *v, const struct vframe *f) { v->top = f->up; }

/* Appends s (at most `max` bytes, cut on a code point boundary) with JSON-style escapes for
 * quotes, backslashes and control characters. */
static void put_quoted(struct buf *b, const char *s, size_t max)
{
    size_t len = strlen(s), cut = len;
    if (cut > max) {
        cut = max;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
    }
    buf_putc(b, '"');
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7F)
            buf_printf(b, "\\u%04x", c);
        else
            buf_putc(b, (char)c);
    }
    buf_putc(b, '"');
    if (cut < len)
        buf_puts(b, "...");
}

static const char *json_kind(const cJSON *j)
{
    if (cJSON_IsNull(j))
        return "null";
    if (cJSON_IsBool(j))
        return "a boolean";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsArray(j))
        return "an array";
    if (cJSON_IsObject(j))
        return "an object";
    return "an unknown JSON value";
}

/* ---- Closest-name suggestions ------------------------------------------------------------ */

static int lower_ascii(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static void unknown_member(struct vctx *v, const struct model_shape *shape, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < shape->member_count; i++) {
        size_t d = suggest_distance(name, shape->members[i].name);
        if (d < best_d) {
            best_d = d;
            best = shape->members[i].name;
        }
    }
    /* Close enough to be a typo: a third of the name's length, at least two edits. */
    size_t limit = strlen(name) * 2 / 3;
    if (limit < 4)
        limit = 4;
    /* ...or a prefix of a member name ("bucket" for "bucketName"). */
    size_t nlen = strlen(name);
    for (size_t i = 0; !(best && best_d <= limit) && nlen >= 3 && i < shape->member_count; i++) {
        const char *cand = shape->members[i].name;
        size_t k = 0;
        while (k < nlen && cand[k] && lower_ascii(name[k]) == lower_ascii(cand[k]))
            k++;
        if (k == nlen) {
            best = cand;
            best_d = 0;
        }
    }
    if (best && best_d <= limit) {
        problem(v, "unknown parameter, did you mean '%s'?", best);
        return;
    }
    struct buf names = BUF_INIT;
    for (size_t i = 0; i < shape->member_count; i++)
        buf_printf(&names, "%s%s", i ? ", " : "", shape->members[i].name);
    if (shape->member_count)
        problem(v, "unknown parameter (valid parameters: %s)", buf_str(&names));
    else
        problem(v, "unknown parameter (this operation takes no parameters)");
    buf_free(&names);
}

/* ---- Scalars ----------------------------------------------------------------------------- */

static void check_string(struct vctx *v, const struct model_shape *shape, const char *s,
                         const char *what)
{
    size_t len = strlen(s), pos = 0;
    int64_t count = 0;
    while (pos < len) {
        if ((unsigned char)s[pos] < 0x80) {
            pos++;
            count++;
            continue;
        }
        if (pattern_utf8_next(s, len, &pos) < 0) {
            problem(v, "%sis not valid UTF-8", what);
            return;
        }
        count++;
    }
    if (shape->has_min && count < shape->min)
        problem(v, "%sis %lld characters, less than the minimum %lld", what, (long long)count,
                (long long)shape->min);
    if (shape->has_max && count > shape->max)
        problem(v, "%sis %lld characters, more than the maximum %lld", what, (long long)count,
                (long long)shape->max);
    if (shape->enum_count) {
        int found = 0;
        for (size_t i = 0; i < shape->enum_count && !found; i++)
            found = strcmp(s, shape->enum_values[i]) == 0;
        if (!found) {
            struct buf b = BUF_INIT;
            if (!shape->sensitive) {
                put_quoted(&b, s, MAX_QUOTED);
                buf_putc(&b, ' ');
            }
            buf_puts(&b, "is not one of ");
            for (size_t i = 0; i < shape->enum_count; i++)
                buf_printf(&b, "%s%s", i ? ", " : "", shape->enum_values[i]);
            problem(v, "%s%s", what, buf_str(&b));
            buf_free(&b);
        }
    }
    if (!model_pattern_match_cached(v->patterns, shape, s, len)) {
        struct buf b = BUF_INIT;
        if (!shape->sensitive) {
            put_quoted(&b, s, MAX_QUOTED);
            buf_putc(&b, ' ');
        }
        problem(v, "%s%sdoes not match the pattern %s", what, buf_str(&b), shape->pattern);
        buf_free(&b);
    }
}

static void check_number(struct vctx *v, const struct model_shape *shape, double d)
{
    if (!isfinite(d)) {
        problem(v, "must be a finite number");
        return;
    }
    if (shape->type == MT_INTEGER || shape->type == MT_LONG) {
        /* 2^31 and 2^63 are exactly representable; anything at or past them overflows. */
        double limit = shape->type == MT_INTEGER ? 2147483648.0 : 9223372036854775808.0;
        if (d != floor(d)) {
            problem(v, "expected an integer, got %.17g", d);
            return;
        }
        if (d >= limit || d < -limit) {
            problem(v, "%.17g does not fit a %s", d,
                    shape->type == MT_INTEGER ? "32-bit integer" : "64-bit integer");
            return;
        }
        long long n = (long long)d;
        if (shape->has_min && n < shape->min)
            problem(v, "%lld is less than the minimum %lld", n, (long long)shape->min);
        if (shape->has_max && n > shape->max)
            problem(v, "%lld is more than the maximum %lld", n, (long long)shape->max);
        return;
    }
    if (shape->has_min && d < (double)shape->min)
        problem(v, "%.17g is less than the minimum %lld", d, (long long)shape->min);
    if (shape->has_max && d > (double)shape->max)
        problem(v, "%.17g is more than the maximum %lld", d, (long long)shape->max);
}

static void check_size(struct vctx *v, const struct model_shape *shape, int64_t n, const char *unit)
{
    if (shape->has_min && n < shape->min)
        problem(v, "has %lld %s, fewer than the minimum %lld", (long long)n, unit,
                (long long)shape->min);
    if (shape->has_max && n > shape->max)
        problem(v, "has %lld %s, more than the maximum %lld", (long long)n, unit,
                (long long)shape->max);
}

/* ---- The walk ---------------------------------------------------------------------------- */

static void validate_value(struct vctx *v, const struct model_shape *shape, const cJSON *j);

static void validate_structure(struct vctx *v, const struct model_shape *shape, const cJSON *j)
{
    struct vframe f = {.kind = '.'};
    const cJSON *child;
    cJSON_ArrayForEach(child, j)
    {
        if (!child->string)
            continue; /* an empty array standing for an empty object has no children */
        f.name = child->string;
        path_push(v, &f);
        const struct model_member *m = model_find_member(shape, child->string);
        if (!m)
            unknown_member(v, shape, child->string);
        else if (!cJSON_IsNull(child)) /* null means "not given", as nil does in Lua */
            validate_value(v, m->shape, child);
        path_pop(v, &f);
    }
    for (size_t i = 0; i < shape->member_count; i++) {
        const struct model_member *m = &shape->members[i];
        if (!m->required)
            continue;
        const cJSON *given = cJSON_GetObjectItemCaseSensitive(j, m->name);
        if (given && !cJSON_IsNull(given))
            continue;
        f.name = m->name;
        path_push(v, &f);
        problem(v, "missing required parameter");
        path_pop(v, &f);
    }
}

static void validate_value(struct vctx *v, const struct model_shape *shape, const cJSON *j)
{
    switch (shape->type) {
    case MT_STRUCTURE:
        /* JSON kinds as they are: the Lua binding, which alone cannot tell an empty table's
         * kind, gives each empty table the kind its shape wants before validation. */
        if (!cJSON_IsObject(j)) {
            problem(v, "expected an object, got %s", json_kind(j));
            return;
        }
        validate_structure(v, shape, j);
        return;
    case MT_LIST: {
        if (!cJSON_IsArray(j)) {
            problem(v, "expected an array, got %s", json_kind(j));
            return;
        }
        check_size(v, shape, cJSON_GetArraySize(j), "items");
        struct vframe f = {.kind = '['};
        const cJSON *item;
        cJSON_ArrayForEach(item, j)
        {
            path_push(v, &f);
            if (cJSON_IsNull(item))
                problem(v, "list items cannot be null");
            else
                validate_value(v, shape->member_shape, item);
            path_pop(v, &f);
            f.index++;
        }
        return;
    }
    case MT_MAP: {
        if (!cJSON_IsObject(j)) {
            problem(v, "expected an object, got %s", json_kind(j));
            return;
        }
        check_size(v, shape, cJSON_GetArraySize(j), "entries");
        struct vframe f = {.kind = 'k'};
        const cJSON *item;
        cJSON_ArrayForEach(item, j)
        {
            if (!item->string)
                continue;
            f.name = item->string;
            path_push(v, &f);
            if (shape->key_shape)
                check_string(v, shape->key_shape, item->string, "key ");
            if (cJSON_IsNull(item))
                problem(v, "map values cannot be null");
            else
                validate_value(v, shape->member_shape, item);
            path_pop(v, &f);
        }
        return;
    }
    case MT_STRING:
    case MT_BLOB:
        if (!cJSON_IsString(j)) {
            problem(v, "expected a string, got %s", json_kind(j));
            return;
        }
        check_string(v, shape, j->valuestring, "");
        return;
    case MT_INTEGER:
    case MT_LONG:
    case MT_FLOAT:
    case MT_DOUBLE:
        if (!cJSON_IsNumber(j)) {
            problem(v, "expected %s, got %s",
                    shape->type == MT_INTEGER || shape->type == MT_LONG ? "an integer" : "a number",
                    json_kind(j));
            return;
        }
        check_number(v, shape, j->valuedouble);
        return;
    case MT_BOOLEAN:
        if (!cJSON_IsBool(j))
            problem(v, "expected a boolean, got %s", json_kind(j));
        return;
    case MT_TIMESTAMP:
        if (cJSON_IsNumber(j)) {
            if (!isfinite(j->valuedouble))
                problem(v, "must be a finite number of seconds since the epoch");
        } else if (cJSON_IsString(j)) {
            double secs;
            if (model_parse_iso8601(j->valuestring, &secs))
                problem(v, "is not an ISO 8601 date and time (like 2024-05-01T12:00:00Z)");
        } else {
            problem(v, "expected an ISO 8601 string or seconds since the epoch, got %s",
                    json_kind(j));
        }
        return;
    }
}

enum ivs_status model_validate(const struct model_operation *op, const cJSON *input,
                               struct ivs_error *err)
{
    return model_validate_cached(op, input, NULL, err);
}

enum ivs_status model_validate_cached(const struct model_operation *op, const cJSON *input,
                                      struct model_pattern_cache *cache, struct ivs_error *err)
{
    if (!op)
        return ivs_error_set(err, IVS_ERR_USAGE, "UnknownOperation", "no operation given");
    struct vctx v = {op->snake_name, cache, NULL, BUF_INIT, 0};
    if (input && !cJSON_IsObject(input)) {
        problem(&v, "expected an object of parameters, got %s", json_kind(input));
    } else if (input) {
        if (op->input) {
            validate_structure(&v, op->input, input);
        } else {
            static const struct model_shape no_members = {.name = ""};
            validate_structure(&v, &no_members, input);
        }
    } else if (op->input) {
        cJSON empty;
        memset(&empty, 0, sizeof empty);
        empty.type = cJSON_Object;
        validate_structure(&v, op->input, &empty);
    }
    if (v.problems > MAX_REPORTED)
        buf_printf(&v.msg, "; and %d more problems", v.problems - MAX_REPORTED);
    enum ivs_status st = IVS_OK;
    if (buf_failed(&v.msg))
        st = ivs_error_nomem(err);
    else if (v.problems)
        st = ivs_error_set(err, IVS_ERR_VALIDATION, "ParamValidationError", "%s", buf_str(&v.msg));
    buf_free(&v.msg);
    return st;
}
