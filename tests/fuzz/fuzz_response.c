/* fuzz_response.c: what the client makes of a service response (core/src/client.c: the
 * output or the service error, from the status, the headers and the body) and the log-safe
 * copies of it (core/src/redact.c).
 *
 * The input is an HTTP response as it arrives: "HTTP/1.1 404 Not Found", header lines, an
 * empty line, the body. Invariants: a success is a JSON object; a failure carries a code, a
 * message and the status; a body valid as JSON stays valid JSON once redacted; a secret
 * header's value never reaches its log line. */
#include <cJSON.h>

#include "buf.h"
#include "client.h"
#include "fuzz.h"
#include "redact.h"

static const char *lookup(const void *ctx, const char *name) { return fuzz_header(ctx, name); }

static long status_of(const char *start)
{
    const char *sp = strchr(start, ' ');
    if (!sp)
        return 200;
    return strtol(sp + 1, NULL, 10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_message m;
    size_t pos = 0;
    if (fuzz_parse_message(data, size, &pos, 0, &m) != 0) {
        fuzz_message_free(&m);
        return 0;
    }
    long status = status_of(m.start);
    const char *body = (const char *)m.body;

    cJSON *out = NULL;
    struct ivs_error err = {0};
    enum ivs_status st =
        client_parse_response("GetChannel", status, body, m.body_len, lookup, &m, &out, &err);
    if (st == IVS_OK) {
        FUZZ_ASSERT(cJSON_IsObject(out));
        FUZZ_ASSERT(status >= 200 && status <= 299);
    } else {
        FUZZ_ASSERT(out == NULL);
        FUZZ_ASSERT(err.code && *err.code && err.message);
        FUZZ_ASSERT(err.status == status);
    }
    cJSON_Delete(out);
    ivs_error_clear(&err);

    /* Redaction: valid JSON in, valid JSON out. cJSON takes every control byte (NUL too) for
     * whitespace, which JSON does not; such bodies are not JSON and not checked. */
    struct buf red = BUF_INIT;
    redact_json(&red, body, m.body_len);
    char *copy = fuzz_strndup(body, m.body_len);
    int controls = 0;
    for (size_t i = 0; i < m.body_len; i++)
        if ((unsigned char)body[i] < 0x20 && body[i] != '\t' && body[i] != '\n' && body[i] != '\r')
            controls = 1;
    if (copy && !controls && !buf_failed(&red)) {
        cJSON *in = cJSON_ParseWithLengthOpts(copy, m.body_len + 1, NULL, 1);
        if (in) {
            cJSON *again = cJSON_ParseWithLengthOpts(buf_str(&red), red.len + 1, NULL, 1);
            FUZZ_ASSERT(again != NULL);
            cJSON_Delete(again);
        }
        cJSON_Delete(in);
    }
    free(copy);
    buf_free(&red);

    for (size_t i = 0; i < m.header_count; i++) {
        const struct fuzz_header *h = &m.headers[i];
        struct buf line = BUF_INIT;
        redact_header_line(&line, h->name, h->value);
        if (!buf_failed(&line) && redact_header_is_secret(h->name) &&
            strcasecmp(h->name, "authorization") != 0 && strlen(h->value) >= 6) {
            const char *shown = buf_str(&line) + (line.len > strlen(h->name) ? strlen(h->name) : 0);
            FUZZ_ASSERT(strstr(shown, h->value) == NULL);
        }
        buf_free(&line);
    }
    fuzz_message_free(&m);
    return 0;
}
