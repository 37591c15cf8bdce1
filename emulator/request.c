/* request.c: an HTTP request back into an operation's input, the reverse of the client's
 * model_serialize (core/src/serialize.c). Only the emulator routes requests, so this lives here
 * and not in libivs. Everything is driven by the model tables, as the serializer is. */
#include "request.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"

/* The input member bound to the URI label `label` (the serializer has its twin). */
/* Percent-decodes s[0..len); '+' becomes a space when plus_is_space (query strings, as
 * HTML forms and most servers read them). A malformed escape is kept as it is. */
static char *decode(const char *s, size_t len, int plus_is_space)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = ivs_hex_value(s[i + 1])) >= 0 &&
            (lo = ivs_hex_value(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (plus_is_space && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

struct label_capture {
    const char *label;
    size_t label_len;
    const char *value;
    size_t value_len;
};

#define MAX_LABELS 8

/* Matches a wire path against a URI template (its path part); fills the raw label values. */
static int match_template(const char *tmpl, const char *path, size_t path_len,
                          struct label_capture *caps, int *ncaps)
{
    size_t p = 0;
    *ncaps = 0;
    while (*tmpl && *tmpl != '?') {
        if (*tmpl != '{') {
            if (p >= path_len || path[p] != *tmpl)
                return 0;
            p++;
            tmpl++;
            continue;
        }
        const char *close = strchr(tmpl, '}');
        if (!close || *ncaps >= MAX_LABELS)
            return 0;
        struct label_capture *c = &caps[(*ncaps)++];
        c->label = tmpl + 1;
        c->label_len = (size_t)(close - tmpl - 1);
        int greedy = c->label_len > 0 && c->label[c->label_len - 1] == '+';
        if (greedy)
            c->label_len--;
        tmpl = close + 1;
        size_t start = p;
        if (greedy) {
            /* The rest of the template must be literal: it has to end the path. */
            size_t rest = 0;
            while (tmpl[rest] && tmpl[rest] != '?') {
                if (tmpl[rest] == '{')
                    return 0;
                rest++;
            }
            if (path_len - p < rest || memcmp(path + path_len - rest, tmpl, rest) != 0)
                return 0;
            p = path_len - rest;
        } else {
            while (p < path_len && path[p] != '/')
                p++;
        }
        if (p == start)
            return 0; /* labels are never empty */
        c->value = path + start;
        c->value_len = p - start;
    }
    return p == path_len;
}

/* Converts a text value from a label, query or header into JSON of the shape's type. */
static cJSON *text_to_json(const struct model_shape *shape, const char *s)
{
    char *end;
    switch (shape->type) {
    case MT_INTEGER:
    case MT_LONG: {
        long long n = strtoll(s, &end, 10);
        if (!*s || *end)
            return NULL;
        return cJSON_CreateNumber((double)n);
    }
    case MT_FLOAT:
    case MT_DOUBLE: {
        double d = strtod(s, &end);
        if (!*s || *end)
            return NULL;
        return cJSON_CreateNumber(d);
    }
    case MT_BOOLEAN:
        if (strcmp(s, "true") == 0)
            return cJSON_CreateTrue();
        if (strcmp(s, "false") == 0)
            return cJSON_CreateFalse();
        return NULL;
    default: return cJSON_CreateString(s);
    }
}

static void set_member(cJSON *obj, const char *name, cJSON *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    cJSON_AddItemToObject(obj, name, value);
}

struct query_param {
    char *name;
    char *value;
};

static void free_params(struct query_param *qp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(qp[i].name);
        free(qp[i].value);
    }
    free(qp);
}

static int parse_query(const char *q, struct query_param **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (!q || !*q)
        return 0;
    size_t cap = 1;
    for (const char *s = q; *s; s++)
        cap += *s == '&';
    struct query_param *qp = calloc(cap, sizeof *qp);
    if (!qp)
        return -1;
    size_t n = 0;
    const char *s = q;
    while (*s) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        if (len) {
            const char *eq = memchr(s, '=', len);
            size_t nlen = eq ? (size_t)(eq - s) : len;
            qp[n].name = decode(s, nlen, 1);
            qp[n].value = eq ? decode(eq + 1, len - nlen - 1, 1) : ivs_strdup("");
            if (!qp[n].name || !qp[n].value) {
                free_params(qp, n + 1);
                return -1;
            }
            n++;
        }
        s += len;
        if (*s == '&')
            s++;
    }
    *out = qp;
    *count = n;
    return 0;
}

/* Adds the querystring members of `in` to obj. Returns 0, -1 out of memory, or 1 when a
 * value does not fit its member's type (*bad names the member). */
static int apply_query(const struct model_shape *in, const struct query_param *qp, size_t nq,
                       cJSON *obj, const char **bad)
{
    for (size_t i = 0; i < in->member_count; i++) {
        const struct model_member *m = &in->members[i];
        if (m->location != ML_QUERY)
            continue;
        const struct model_shape *shape = m->shape;
        *bad = m->name;
        if (shape->type == MT_LIST || shape->type == MT_MAP) {
            cJSON *coll = shape->type == MT_LIST ? cJSON_CreateArray() : cJSON_CreateObject();
            if (!coll)
                return -1;
            int any = 0;
            for (size_t k = 0; k < nq; k++) {
                int claimed = 0;
                for (size_t o = 0; o < in->member_count && !claimed; o++)
                    claimed = in->members[o].location == ML_QUERY &&
                              in->members[o].shape->type != MT_MAP &&
                              strcmp(in->members[o].location_name, qp[k].name) == 0;
                if (shape->type == MT_LIST ? strcmp(qp[k].name, m->location_name) != 0 : claimed)
                    continue;
                const struct model_shape *es = shape->member_shape;
                if (shape->type == MT_MAP && es->type == MT_LIST) {
                    cJSON *list = cJSON_GetObjectItemCaseSensitive(coll, qp[k].name);
                    if (!list) {
                        list = cJSON_AddArrayToObject(coll, qp[k].name);
                        if (!list) {
                            cJSON_Delete(coll);
                            return -1;
                        }
                    }
                    cJSON *e = text_to_json(es->member_shape, qp[k].value);
                    if (!e) {
                        cJSON_Delete(coll);
                        return 1;
                    }
                    cJSON_AddItemToArray(list, e);
                    any = 1;
                    continue;
                }
                cJSON *e = text_to_json(es, qp[k].value);
                if (!e) {
                    cJSON_Delete(coll);
                    return 1;
                }
                if (shape->type == MT_LIST)
                    cJSON_AddItemToArray(coll, e);
                else
                    set_member(coll, qp[k].name, e);
                any = 1;
            }
            if (any)
                set_member(obj, m->name, coll);
            else
                cJSON_Delete(coll);
            continue;
        }
        for (size_t k = 0; k < nq; k++) {
            if (strcmp(qp[k].name, m->location_name) != 0)
                continue;
            cJSON *e = text_to_json(shape, qp[k].value);
            if (!e)
                return 1;
            set_member(obj, m->name, e);
            break;
        }
    }
    return 0;
}

enum ivs_status model_deserialize_request(const struct model_service *svc, const char *method,
                                          const char *path, const char *query, const char *body,
                                          size_t body_len, const struct model_operation **op_out,
                                          cJSON **input_out, struct ivs_error *err)
{
    if (op_out)
        *op_out = NULL;
    if (input_out)
        *input_out = NULL;
    if (!svc || !method || !path || !op_out || !input_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "model_deserialize_request needs a service, a method, a path and "
                             "outputs");
    size_t path_len = strcspn(path, "?");
    if (!query && path[path_len] == '?')
        query = path + path_len + 1;

    const struct model_operation *op = NULL;
    struct label_capture caps[MAX_LABELS];
    int ncaps = 0;
    for (size_t i = 0; i < svc->model->operation_count && !op; i++) {
        const struct model_operation *cand = &svc->model->operations[i];
        if (strcmp(cand->method, method) == 0 &&
            match_template(cand->uri, path, path_len, caps, &ncaps))
            op = cand;
    }
    if (!op)
        return ivs_error_set(err, IVS_ERR_USAGE, "UnknownOperation",
                             "no %s operation matches %s %.*s", svc->name, method, (int)path_len,
                             path);

    cJSON *input = NULL;
    const char *p = body;
    size_t left = body ? body_len : 0;
    while (left && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        left--;
    }
    if (left) {
        const char *end = NULL;
        input = cJSON_ParseWithLengthOpts(p, left, &end, 0);
        if (input && end) {
            size_t used = (size_t)(end - p);
            while (used < left &&
                   (p[used] == ' ' || p[used] == '\t' || p[used] == '\r' || p[used] == '\n'))
                used++;
            if (used != left) {
                cJSON_Delete(input);
                input = NULL;
            }
        }
        if (!input)
            return ivs_error_set(err, IVS_ERR_VALIDATION, "SerializationException",
                                 "%s: the request body is not valid JSON", op->snake_name);
        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            return ivs_error_set(err, IVS_ERR_VALIDATION, "SerializationException",
                                 "%s: the request body must be a JSON object", op->snake_name);
        }
    } else {
        input = cJSON_CreateObject();
        if (!input)
            return ivs_error_nomem(err);
    }

    const struct model_shape *in = op->input;
    enum ivs_status st = IVS_OK;
    for (int i = 0; i < ncaps && in; i++) {
        const struct model_member *m = model_find_uri_member(in, caps[i].label, caps[i].label_len);
        if (!m)
            continue;
        char *text = decode(caps[i].value, caps[i].value_len, 0);
        cJSON *v = text ? text_to_json(m->shape, text) : NULL;
        free(text);
        if (!v) {
            st = text ? ivs_error_set(err, IVS_ERR_VALIDATION, "SerializationException",
                                      "%s: %s: the path value does not fit the parameter's type",
                                      op->snake_name, m->name)
                      : ivs_error_nomem(err);
            goto fail;
        }
        set_member(input, m->name, v);
    }
    if (in) {
        struct query_param *qp;
        size_t nq;
        if (parse_query(query, &qp, &nq)) {
            st = ivs_error_nomem(err);
            goto fail;
        }
        const char *bad = NULL;
        int rc = apply_query(in, qp, nq, input, &bad);
        free_params(qp, nq);
        if (rc < 0) {
            st = ivs_error_nomem(err);
            goto fail;
        }
        if (rc > 0) {
            st = ivs_error_set(err, IVS_ERR_VALIDATION, "SerializationException",
                               "%s: %s: the query value does not fit the parameter's type",
                               op->snake_name, bad);
            goto fail;
        }
    }
    *op_out = op;
    *input_out = input;
    return IVS_OK;
fail:
    cJSON_Delete(input);
    return st;
}
