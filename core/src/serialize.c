/* serialize.c: the rest-json wire form of an operation's input (model_serialize). Everything is
 * driven by the model tables: the URI template, each member's location, and each shape's type.
 * The reverse (a request back into an input) is the emulator's and lives in emulator/request.c. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "buf.h"
#include "errors.h"
#include "json_scan.h"
#include "model.h"

/* Every byte outside the RFC 3986 unreserved set is encoded; `keep_slash` leaves '/' as is
 * (greedy URI labels). */
static void put_encoded(struct buf *b, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    /* At most three bytes out for each byte in: reserve once, write in place. */
    if (len > ((size_t)-1) / 4 || buf_reserve(b, 3 * len) != 0) {
        b->failed = 1;
        return;
    }
    char *w = b->data + b->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    b->len = (size_t)(w - b->data);
    *w = '\0';
}

static int is_integer_type(enum model_type t) { return t == MT_INTEGER || t == MT_LONG; }

/* The text form of a scalar for a URI label or a query value. */
static int scalar_text(const struct model_shape *shape, const cJSON *j, struct buf *out)
{
    if (cJSON_IsString(j)) {
        buf_puts(out, j->valuestring);
    } else if (cJSON_IsBool(j)) {
        buf_puts(out, cJSON_IsTrue(j) ? "true" : "false");
    } else if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        if (shape->type == MT_TIMESTAMP) {
            char ts[48];
            model_format_iso8601(d, ts, sizeof ts);
            buf_puts(out, ts);
        } else if (is_integer_type(shape->type) || d == floor(d)) {
            if (!isfinite(d))
                return -1;
            buf_printf(out, "%lld", (long long)d);
        } else {
            buf_printf(out, "%.17g", d);
        }
    } else {
        return -1;
    }
    return 0;
}

/* ---- JSON body --------------------------------------------------------------------------- */

/* The body is written straight from the input as text, byte for byte what printing a converted
 * cJSON tree with cJSON_PrintUnformatted() gave (the emulator and the signature see the same
 * bytes as before), without building and freeing that tree: one allocation instead of one per
 * member, key and value. The print_* helpers follow cJSON 1.7's printer. */

/* A string as cJSON prints one: \" \\ \b \f \n \r \t, \u00XX (lowercase) below 0x20, every
 * other byte as is; NULL as "". */
static void print_string(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    const unsigned char *end = p + strlen((const char *)p);
    while (*p) {
        const unsigned char *run = p;
        /* The next byte to escape, sixteen bytes at a time (the NUL at end stops it too). */
        p = (const unsigned char *)json_string_stop((const char *)p, (const char *)end);
        buf_append(b, run, (size_t)(p - run));
        if (!*p)
            break;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
            break;
        }
        buf_append(b, esc, n);
        p++;
    }
    buf_putc(b, '"');
}

/* A number as cJSON prints one: null for NaN and infinities, the integer when valueint holds
 * it exactly, else 15 significant digits when they read back equal, else 17; the locale's
 * decimal point as '.'. */
static void print_number(struct buf *b, const cJSON *j)
{
    double d = j->valuedouble;
    char num[32];
    if (isnan(d) || isinf(d)) {
        buf_append(b, "null", 4);
        return;
    }
    if (d == (double)j->valueint) {
        snprintf(num, sizeof num, "%d", j->valueint);
    } else {
        snprintf(num, sizeof num, "%1.15g", d);
        double back = strtod(num, NULL);
        double max = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
        if (!(fabs(back - d) <= max * DBL_EPSILON))
            snprintf(num, sizeof num, "%1.17g", d);
    }
    const struct lconv *lc = localeconv();
    char point = lc && lc->decimal_point ? lc->decimal_point[0] : '.';
    for (char *p = num; *p; p++)
        if (*p == point)
            *p = '.';
    buf_puts(b, num);
}

/* Any value as cJSON prints it. -1 for what cJSON cannot print (a raw item without text). */
static int print_value(struct buf *b, const cJSON *j)
{
    switch (j->type & 0xFF) {
    case cJSON_NULL: buf_append(b, "null", 4); return 0;
    case cJSON_False: buf_append(b, "false", 5); return 0;
    case cJSON_True: buf_append(b, "true", 4); return 0;
    case cJSON_Number: print_number(b, j); return 0;
    case cJSON_Raw:
        if (!j->valuestring)
            return -1;
        buf_puts(b, j->valuestring);
        return 0;
    case cJSON_String: print_string(b, j->valuestring); return 0;
    case cJSON_Array:
    case cJSON_Object: {
        int object = (j->type & 0xFF) == cJSON_Object;
        buf_putc(b, object ? '{' : '[');
        for (const cJSON *c = j->child; c; c = c->next) {
            if (c != j->child)
                buf_putc(b, ',');
            if (object) {
                print_string(b, c->string);
                buf_putc(b, ':');
            }
            if (print_value(b, c) != 0)
                return -1;
        }
        buf_putc(b, object ? '}' : ']');
        return 0;
    }
    default: return -1;
    }
}

static int write_json(struct buf *b, const struct model_shape *shape, const cJSON *j);

/* A random (version 4) UUID in its 36-character text form; -1 when OpenSSL has no
 * randomness to give. */
static int new_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

/* The members of a structure present in j, in model order, so the same input always gives
 * the same bytes whatever the caller's key order (a Lua table has none). */
static int write_structure(struct buf *b, const struct model_shape *shape, const cJSON *j,
                           int body_only)
{
    int first = 1;
    buf_putc(b, '{');
    for (size_t i = 0; i < shape->member_count; i++) {
        const struct model_member *m = &shape->members[i];
        if (body_only && m->location != ML_BODY)
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, m->name);
        int token = (!v || cJSON_IsNull(v)) && body_only && m->idempotency_token;
        if (!token && (!v || cJSON_IsNull(v)))
            continue;
        if (!first)
            buf_putc(b, ',');
        first = 0;
        print_string(b, m->name);
        buf_putc(b, ':');
        if (token) {
            /* As botocore does for the top-level members with the trait. */
            char uuid[37];
            if (new_uuid(uuid) != 0)
                return -1;
            print_string(b, uuid);
        } else if (write_json(b, m->shape, v) != 0) {
            return -1;
        }
    }
    buf_putc(b, '}');
    return 0;
}

/* j converted to the shape's wire form: integers as their digits, timestamps as ISO 8601,
 * everything else as given. */
static int write_json(struct buf *b, const struct model_shape *shape, const cJSON *j)
{
    switch (shape->type) {
    case MT_STRUCTURE: return write_structure(b, shape, j, 0);
    case MT_LIST: {
        /* An empty object stands for an empty list (the Lua binding cannot tell them apart). */
        buf_putc(b, '[');
        const cJSON *item;
        cJSON_ArrayForEach(item, j)
        {
            if (item != j->child)
                buf_putc(b, ',');
            if (write_json(b, shape->member_shape, item) != 0)
                return -1;
        }
        buf_putc(b, ']');
        return 0;
    }
    case MT_MAP: {
        int first = 1;
        const cJSON *item;
        buf_putc(b, '{');
        cJSON_ArrayForEach(item, j)
        {
            if (!item->string)
                continue; /* an empty array standing for an empty map */
            if (!first)
                buf_putc(b, ',');
            first = 0;
            print_string(b, item->string);
            buf_putc(b, ':');
            if (write_json(b, shape->member_shape, item) != 0)
                return -1;
        }
        buf_putc(b, '}');
        return 0;
    }
    case MT_INTEGER:
    case MT_LONG:
        /* Raw digits: cJSON would print large integral doubles as "1e+15". */
        if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
            return print_value(b, j);
        buf_printf(b, "%lld", (long long)j->valuedouble);
        return 0;
    case MT_TIMESTAMP:
        if (cJSON_IsNumber(j)) {
            char ts[48];
            model_format_iso8601(j->valuedouble, ts, sizeof ts);
            print_string(b, ts);
            return 0;
        }
        return print_value(b, j);
    case MT_FLOAT:
    case MT_DOUBLE:
    case MT_BOOLEAN:
    case MT_STRING:
    case MT_BLOB: return print_value(b, j);
    }
    return -1;
}

/* ---- Serialize --------------------------------------------------------------------------- */

static void put_query_pair(struct buf *q, const char *name, size_t name_len, const char *value)
{
    if (q->len)
        buf_putc(q, '&');
    put_encoded(q, name, name_len, 0);
    buf_putc(q, '=');
    put_encoded(q, value, strlen(value), 0);
}

/* Appends name=value pairs for one querystring member (lists repeat the name). */
static int put_query_member(struct buf *q, const struct model_member *m, const cJSON *v)
{
    const struct model_shape *shape = m->shape;
    struct buf text = BUF_INIT;
    int rc = 0;
    const cJSON *item;
    if (shape->type == MT_LIST) {
        const struct model_shape *es = shape->member_shape;
        cJSON_ArrayForEach(item, v)
        {
            buf_reset(&text);
            if ((rc = scalar_text(es, item, &text)) != 0)
                break;
            put_query_pair(q, m->location_name, strlen(m->location_name), buf_str(&text));
        }
    } else if (shape->type == MT_MAP) {
        /* A querystring map spreads its entries as parameters of their own. */
        const struct model_shape *vs = shape->member_shape;
        cJSON_ArrayForEach(item, v)
        {
            if (!item->string)
                continue;
            if (vs->type == MT_LIST) {
                const cJSON *e;
                const struct model_shape *es = vs->member_shape;
                cJSON_ArrayForEach(e, item)
                {
                    buf_reset(&text);
                    if ((rc = scalar_text(es, e, &text)) != 0)
                        break;
                    put_query_pair(q, item->string, strlen(item->string), buf_str(&text));
                }
            } else {
                buf_reset(&text);
                if ((rc = scalar_text(vs, item, &text)) != 0)
                    break;
                put_query_pair(q, item->string, strlen(item->string), buf_str(&text));
            }
            if (rc)
                break;
        }
    } else {
        rc = scalar_text(shape, v, &text);
        if (rc == 0)
            put_query_pair(q, m->location_name, strlen(m->location_name), buf_str(&text));
    }
    buf_free(&text);
    return rc;
}

static int method_has_no_body(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0 ||
           strcmp(method, "HEAD") == 0;
}

void model_request_cleanup(struct model_request *r)
{
    if (!r)
        return;
    if (!r->borrowed) {
        free(r->path);
        free(r->body);
    }
    free(r->query);
    memset(r, 0, sizeof *r);
}

/* model_serialize's work with the path and the body built in path and json (emptied first):
 * out gets the method, the query and the body's length; *has_body says whether json holds
 * one. On failure out holds nothing to release. */
static enum ivs_status serialize(const struct model_operation *op, const cJSON *input,
                                 struct model_request *out, struct buf *path, struct buf *json,
                                 int *has_body, struct ivs_error *err)
{
    *has_body = 0;
    if (!op || !out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "model_serialize needs an operation and an output request");
    memset(out, 0, sizeof *out);
    out->method = op->method;
    const struct model_shape *in = op->input;
    /* An object and nothing else: the Lua binding, which alone cannot tell an empty table's
     * kind, already makes one an object wherever the model expects a structure. */
    if (input && !cJSON_IsObject(input))
        return ivs_error_set(err, IVS_ERR_VALIDATION, "ParamValidationError",
                             "%s: input: expected an object of parameters", op->snake_name);

    struct buf query = BUF_INIT, text = BUF_INIT;
    enum ivs_status st = IVS_OK;
    buf_reset(path);
    buf_reset(json);

    /* Path, with labels filled in; a literal query in the template is kept. */
    const char *t = op->uri;
    while (*t && *t != '?') {
        if (*t != '{') {
            size_t run = strcspn(t, "{?");
            buf_append(path, t, run);
            t += run;
            continue;
        }
        const char *close = strchr(t, '}');
        if (!close) {
            st = ivs_error_set(err, IVS_ERR_INTERNAL, "BadModel", "%s: malformed URI template",
                               op->snake_name);
            goto done;
        }
        const char *label = t + 1;
        size_t label_len = (size_t)(close - label);
        int greedy = label_len > 0 && label[label_len - 1] == '+';
        if (greedy)
            label_len--;
        const struct model_member *m = model_find_uri_member(in, label, label_len);
        const cJSON *v = m ? cJSON_GetObjectItemCaseSensitive(input, m->name) : NULL;
        buf_reset(&text);
        if (!m || !v || cJSON_IsNull(v) || scalar_text(m->shape, v, &text) || text.len == 0) {
            st = ivs_error_set(err, IVS_ERR_VALIDATION, "ParamValidationError",
                               "%s: %.*s: missing required URI parameter (a non-empty value is "
                               "needed to build the path)",
                               op->snake_name, (int)label_len, label);
            goto done;
        }
        put_encoded(path, text.data, text.len, greedy);
        t = close + 1;
    }
    if (*t == '?')
        buf_puts(&query, t + 1);

    for (size_t i = 0; in && i < in->member_count; i++) {
        const struct model_member *m = &in->members[i];
        if (m->location == ML_HEADER && cJSON_GetObjectItemCaseSensitive(input, m->name)) {
            /* No input of the services this library carries is bound to a header
             * (test_model checks the tables), so the client never sends any: refuse rather
             * than drop a value a new model would bind to one. */
            st = ivs_error_set(err, IVS_ERR_INTERNAL, "BadModel",
                               "%s: %s is bound to an HTTP header, which this client never sends",
                               op->snake_name, m->name);
            goto done;
        }
        if (m->location != ML_QUERY)
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(input, m->name);
        if (!v || cJSON_IsNull(v))
            continue;
        if (put_query_member(&query, m, v)) {
            st = ivs_error_set(err, IVS_ERR_VALIDATION, "ParamValidationError",
                               "%s: %s: value cannot be sent in the query string", op->snake_name,
                               m->name);
            goto done;
        }
    }

    /* Body: the body members as JSON. Every POST sends an object, even an empty one (the
     * IVS convention); GET and DELETE send nothing unless a body member is given. */
    int body_given = 0;
    for (size_t i = 0; in && input && i < in->member_count; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(input, in->members[i].name);
        if (in->members[i].location == ML_BODY && v && !cJSON_IsNull(v))
            body_given = 1;
    }
    if (body_given || !method_has_no_body(op->method)) {
        if (json->cap < 256)
            buf_reserve(json, 255); /* most bodies fit: one allocation */
        int bad = in ? write_structure(json, in, input, 1) : (buf_puts(json, "{}"), 0);
        if (bad || buf_failed(json)) {
            st = ivs_error_nomem(err);
            goto done;
        }
        *has_body = 1;
        out->body_len = json->len;
    }

    if (!path->data)
        buf_append(path, "", 0); /* a template without a path still gives "" */
    if (buf_failed(path) || buf_failed(&query)) {
        st = ivs_error_nomem(err);
        goto done;
    }
    out->query = query.len ? buf_steal(&query) : NULL;
    if (query.len && !out->query)
        st = ivs_error_nomem(err);

done:
    buf_free(&query);
    buf_free(&text);
    if (st != IVS_OK) {
        model_request_cleanup(out);
        out->method = op->method;
        *has_body = 0;
    }
    return st;
}

enum ivs_status model_serialize(const struct model_operation *op, const cJSON *input,
                                struct model_request *out, struct ivs_error *err)
{
    struct buf path = BUF_INIT, json = BUF_INIT;
    int has_body;
    enum ivs_status st = serialize(op, input, out, &path, &json, &has_body, err);
    if (st == IVS_OK) {
        out->path = buf_steal(&path);
        out->body = has_body ? buf_steal(&json) : NULL;
        if (!out->path || (has_body && !out->body)) {
            model_request_cleanup(out);
            out->method = op->method;
            st = ivs_error_nomem(err);
        }
    }
    buf_free(&path);
    buf_free(&json);
    return st;
}

enum ivs_status model_serialize_into(const struct model_operation *op, const cJSON *input,
                                     struct model_request *out, struct buf *path, struct buf *body,
                                     struct ivs_error *err)
{
    int has_body;
    enum ivs_status st = serialize(op, input, out, path, body, &has_body, err);
    if (st == IVS_OK) {
        out->path = path->data;
        out->body = has_body ? body->data : NULL;
        out->borrowed = 1;
    }
    return st;
}
