#include "redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#define MASK "***"
/* Nesting deeper than this is not redacted structurally: the text is masked as non-JSON. */
#define MAX_DEPTH 128

static const char *const k_secret_members[] = {
    "value",        "passphrase",        "metadata",
    "privateKey",   "SecretAccessKey",   "aws_secret_access_key",
    "SessionToken", "aws_session_token", "Token",
    "password",
};

static const char *const k_secret_headers[] = {
    "Authorization", "Proxy-Authorization", "X-Amz-Security-Token",
    "Cookie",        "Set-Cookie",          "X-aws-ec2-metadata-token",
};

static int is_secret_member(const char *name)
{
    for (size_t i = 0; i < sizeof k_secret_members / sizeof k_secret_members[0]; i++)
        if (strcasecmp(name, k_secret_members[i]) == 0)
            return 1;
    return 0;
}

int redact_header_is_secret(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof k_secret_headers / sizeof k_secret_headers[0]; i++)
        if (strcasecmp(name, k_secret_headers[i]) == 0)
            return 1;
    return 0;
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Whether s starts with a stream key's prefix: "sk_" (low-latency IVS) or "rt_" (an IVS
 * Real-Time ingest configuration's key). */
static int is_stream_key_prefix(const char *s)
{
    return (s[0] == 's' && s[1] == 'k' && s[2] == '_') ||
           (s[0] == 'r' && s[1] == 't' && s[2] == '_');
}

/* Appends s[0..len) with every "sk_<run>" or "rt_<run>" that starts a word replaced by MASK. */
static void append_masking_stream_keys(struct buf *out, const char *s, size_t len)
{
    size_t i = 0, copied = 0;
    while (i + 3 <= len) {
        if (is_stream_key_prefix(s + i) && (i == 0 || !is_key_char(s[i - 1]))) {
            buf_append(out, s + copied, i - copied);
            buf_puts(out, MASK);
            i += 3;
            while (i < len && is_key_char(s[i]))
                i++;
            copied = i;
        } else {
            i++;
        }
    }
    buf_append(out, s + copied, len - copied);
}

/* A streaming pass over text already known to be valid JSON: copies it, swapping secret
 * values for MASK. */
struct scanner {
    const char *p, *end;
    struct buf *out;
};

static void skip_ws(struct scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        buf_putc(s->out, *s->p++);
}

/* The extent of the string token at s->p (which is '"'): returns the byte after its closing
 * quote. */
static const char *string_end(const char *p, const char *end)
{
    p++;
    while (p < end && *p != '"')
        p += *p == '\\' ? 2 : 1;
    return p < end ? p + 1 : end;
}

/* Decodes a string token's contents into dst (at most n-1 bytes kept, NUL-terminated).
 * \u escapes outside ASCII decode as '?', which never matches a member name or "sk_". */
static void decode_string(const char *tok, const char *tok_end, char *dst, size_t n)
{
    size_t k = 0;
    const char *p = tok + 1, *end = tok_end - 1;
    while (p < end && k + 1 < n) {
        char c = *p++;
        if (c == '\\' && p < end) {
            char e = *p++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4 && p < end; i++, p++) {
                    char h = *p;
                    v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                c = v > 0 && v < 0x80 ? (char)v : '?';
                break;
            }
            default: c = e; break; /* \" \\ \/ */
            }
        }
        dst[k++] = c;
    }
    dst[k] = '\0';
}

static void copy_value(struct scanner *s, int secret);

/* Skips a whole value without copying it. */
static void skip_value(struct scanner *s)
{
    int depth = 0;
    do {
        if (s->p >= s->end)
            return;
        char c = *s->p;
        if (c == '"') {
            s->p = string_end(s->p, s->end);
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        s->p++;
        if (depth == 0 && c != '{' && c != '[' && c != '}' && c != ']') {
            /* A scalar: consume the rest of it. */
            while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
                s->p++;
        }
    } while (depth > 0);
}

static void copy_string_value(struct scanner *s)
{
    const char *tok = s->p, *tok_end = string_end(s->p, s->end);
    char head[4];
    decode_string(tok, tok_end, head, sizeof head);
    if (strlen(head) == 3 && is_stream_key_prefix(head))
        buf_puts(s->out, "\"" MASK "\"");
    else
        append_masking_stream_keys(s->out, tok, (size_t)(tok_end - tok));
    s->p = tok_end;
}

static void copy_object(struct scanner *s)
{
    buf_putc(s->out, *s->p++); /* { */
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end)
            return;
        if (*s->p == '}') {
            buf_putc(s->out, *s->p++);
            return;
        }
        if (*s->p == ',') {
            buf_putc(s->out, *s->p++);
            continue;
        }
        const char *key = s->p, *key_end = string_end(s->p, s->end);
        char name[64];
        decode_string(key, key_end, name, sizeof name);
        append_masking_stream_keys(s->out, key, (size_t)(key_end - key));
        s->p = key_end;
        skip_ws(s);
        if (s->p < s->end && *s->p == ':')
            buf_putc(s->out, *s->p++);
        skip_ws(s);
        copy_value(s, is_secret_member(name));
    }
}

static void copy_array(struct scanner *s)
{
    buf_putc(s->out, *s->p++); /* [ */
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end)
            return;
        if (*s->p == ']') {
            buf_putc(s->out, *s->p++);
            return;
        }
        if (*s->p == ',') {
            buf_putc(s->out, *s->p++);
            continue;
        }
        copy_value(s, 0);
    }
}

static void copy_value(struct scanner *s, int secret)
{
    if (s->p >= s->end)
        return;
    char c = *s->p;
    if (secret && !(c == 'n' && s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0)) {
        skip_value(s);
        buf_puts(s->out, "\"" MASK "\"");
    } else if (c == '"') {
        copy_string_value(s);
    } else if (c == '{') {
        copy_object(s);
    } else if (c == '[') {
        copy_array(s);
    } else {
        const char *start = s->p;
        while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
            s->p++;
        /* Always move forward, whatever byte is here (strchr matches a NUL too). */
        if (s->p == start)
            s->p++;
        buf_append(s->out, start, (size_t)(s->p - start));
    }
}

/* The deepest nesting in a JSON text (strings skipped). */
static int max_depth(const char *p, const char *end)
{
    int depth = 0, deepest = 0;
    while (p < end) {
        if (*p == '"') {
            p = string_end(p, end);
            continue;
        }
        if (*p == '{' || *p == '[') {
            if (++depth > deepest)
                deepest = depth;
        } else if (*p == '}' || *p == ']') {
            depth--;
        }
        p++;
    }
    return deepest;
}

/* Best effort for text that is not valid JSON (a truncated body, an error page): masks
 * "sk_..." runs and, after a quoted secret member name and a colon, the next token, so a
 * cut-off JSON document still leaks nothing. */
static void redact_text(struct buf *out, const char *text, size_t len)
{
    const char *p = text, *end = text + len, *copied = text;
    while (p < end) {
        if (*p != '"') {
            p++;
            continue;
        }
        const char *tok_end = string_end(p, end);
        char name[64];
        decode_string(p, tok_end, name, sizeof name);
        const char *q = tok_end;
        while (q < end && strchr(" \t\r\n", *q))
            q++;
        if (q >= end || *q != ':' || !is_secret_member(name)) {
            p = tok_end;
            continue;
        }
        q++;
        while (q < end && strchr(" \t\r\n", *q))
            q++;
        if (q >= end) {
            p = q;
            continue;
        }
        const char *value_end = *q == '"' ? string_end(q, end) : q;
        if (*q != '"')
            while (value_end < end && !strchr(",}] \t\r\n", *value_end))
                value_end++;
        if (value_end - q == 4 && memcmp(q, "null", 4) == 0) {
            p = value_end;
            continue;
        }
        append_masking_stream_keys(out, copied, (size_t)(q - copied));
        buf_puts(out, "\"" MASK "\"");
        copied = p = value_end;
    }
    append_masking_stream_keys(out, copied, (size_t)(end - copied));
}

void redact_json(struct buf *out, const char *json, size_t len)
{
    if (!out || !json)
        return;
    /* The structural pass relies on well-formed input; anything else is treated as text.
     * cJSON takes every control byte (NUL included) for whitespace, which JSON does not and
     * the scanner cannot step over (a NUL there once made it loop forever), so a text with
     * one is not JSON here. */
    int valid = 1;
    for (size_t i = 0; i < len && valid; i++)
        if ((unsigned char)json[i] < 0x20 && json[i] != '\t' && json[i] != '\n' && json[i] != '\r')
            valid = 0;
    if (valid) {
        cJSON *parsed = cJSON_ParseWithLength(json, len);
        valid = parsed != NULL;
        cJSON_Delete(parsed);
    }
    if (!valid || max_depth(json, json + len) > MAX_DEPTH) {
        redact_text(out, json, len);
        return;
    }
    struct scanner s = {json, json + len, out};
    skip_ws(&s);
    copy_value(&s, 0);
    /* Whatever follows the value (whitespace, or trailing bytes cJSON tolerated). */
    if (s.p < s.end)
        redact_text(out, s.p, (size_t)(s.end - s.p));
}

void redact_header_line(struct buf *out, const char *name, const char *value)
{
    if (!out || !name)
        return;
    if (!value)
        value = "";
    buf_printf(out, "%s: ", name);
    if (!redact_header_is_secret(name)) {
        append_masking_stream_keys(out, value, strlen(value));
        return;
    }
    const char *sig = strstr(value, "Signature=");
    if (strcasecmp(name, "Authorization") == 0 && strncmp(value, "AWS4-", 5) == 0 && sig) {
        /* Credential=AKID/date/region/service/aws4_request and SignedHeaders are not secret. */
        sig += strlen("Signature=");
        buf_append(out, value, (size_t)(sig - value));
        buf_puts(out, MASK);
        const char *rest = sig + strcspn(sig, ",");
        append_masking_stream_keys(out, rest, strlen(rest));
        return;
    }
    buf_puts(out, MASK);
}

/* Scrubbing by value
 * ------------------------------------------------------------------------------------- */

#define MIN_SECRET_LEN 8
#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_alnum(char c)
{
    return is_hex(c) || (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z');
}

static const char *find_bytes(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= hay_len && i <= hay_len - n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* When p starts "-----BEGIN <label>-----" with a label ending in PRIVATE KEY, returns the
 * length of the whole block through the END line's dashes (or the rest of the text). */
static size_t pem_private_block(const char *p, size_t left)
{
    size_t blen = sizeof PEM_BEGIN - 1;
    if (left < blen || memcmp(p, PEM_BEGIN, blen) != 0)
        return 0;
    /* Labels are short ("ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY"): look no further. */
    size_t window = left - blen < 64 ? left - blen : 64;
    const char *dashes = find_bytes(p + blen, window, PEM_DASHES);
    if (!dashes)
        return 0;
    size_t label_len = (size_t)(dashes - (p + blen));
    if (label_len < 11 || memcmp(dashes - 11, "PRIVATE KEY", 11) != 0)
        return 0;
    const char *body = dashes + 5;
    const char *end = find_bytes(body, left - (size_t)(body - p), PEM_END);
    if (!end)
        return left;
    const char *tail = end + sizeof PEM_END - 1;
    size_t tail_left = left - (size_t)(tail - p);
    window = tail_left < 64 ? tail_left : 64;
    const char *close = find_bytes(tail, window, PEM_DASHES);
    return close ? (size_t)(close + 5 - p) : left;
}

void redact_scrub(struct buf *out, const char *text, size_t len, const char *const *secrets,
                  size_t nsecrets)
{
    size_t i = 0, copied = 0;
    while (i < len) {
        size_t skip = 0;
        for (size_t k = 0; k < nsecrets && !skip; k++) {
            const char *sec = secrets[k];
            if (!sec || sec[0] != text[i])
                continue;
            size_t sl = strlen(sec);
            if (sl >= MIN_SECRET_LEN && sl <= len - i && memcmp(text + i, sec, sl) == 0)
                skip = sl;
        }
        if (!skip && text[i] == '-')
            skip = pem_private_block(text + i, len - i);
        if (!skip && text[i] == 's' && i + 3 <= len && text[i + 1] == 'k' && text[i + 2] == '_' &&
            (i == 0 || !is_key_char(text[i - 1]))) {
            skip = 3;
            while (i + skip < len && is_key_char(text[i + skip]))
                skip++;
        }
        if (!skip && is_hex(text[i]) && (i == 0 || !is_alnum(text[i - 1]))) {
            size_t n = 0;
            while (i + n < len && is_hex(text[i + n]))
                n++;
            if (n == 64 && (i + n == len || !is_alnum(text[i + n])))
                skip = n;
        }
        if (skip) {
            buf_append(out, text + copied, i - copied);
            buf_puts(out, MASK);
            i += skip;
            copied = i;
        } else {
            i++;
        }
    }
    buf_append(out, text + copied, len - copied);
}

/* Replaces *field by its scrubbed copy; returns 0 when memory ran out. */
static int scrub_field(char **field, const char *const *secrets, size_t nsecrets)
{
    if (!*field)
        return 1;
    struct buf b = BUF_INIT;
    redact_scrub(&b, *field, strlen(*field), secrets, nsecrets);
    if (buf_failed(&b)) {
        buf_free(&b);
        return 0;
    }
    if (strcmp(buf_str(&b), *field) != 0) {
        char *copy = strdup(buf_str(&b));
        if (!copy) {
            buf_free(&b);
            return 0;
        }
        free(*field);
        *field = copy;
    }
    buf_free(&b);
    return 1;
}

void redact_error(struct ivs_error *err, const char *const *secrets, size_t nsecrets)
{
    if (!err)
        return;
    int ok = scrub_field(&err->code, secrets, nsecrets);
    ok = scrub_field(&err->message, secrets, nsecrets) && ok;
    ok = scrub_field(&err->request_id, secrets, nsecrets) && ok;
    if (!ok) {
        /* Never hand back a message that may still hold a secret. */
        free(err->message);
        free(err->code);
        free(err->request_id);
        err->code = err->request_id = NULL;
        err->message = strdup("(message withheld: out of memory while masking secrets)");
    }
}
