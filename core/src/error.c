#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const char *const s_status_names[] = {
    "ok",      "validation", "config", "credentials", "network",   "timeout",
    "service", "usage",      "nomem",  "internal",    "cancelled",
};

const char *ivs_status_name(enum ivs_status status)
{
    if ((unsigned)status < sizeof s_status_names / sizeof s_status_names[0])
        return s_status_names[status];
    return "unknown";
}

void ivs_error_clear(struct ivs_error *err)
{
    if (!err)
        return;
    free(err->code);
    free(err->message);
    free(err->request_id);
    memset(err, 0, sizeof *err);
}

void ivs_free(void *ptr) { free(ptr); }

enum ivs_status ivs_error_set(struct ivs_error *err, enum ivs_status kind, const char *code,
                              const char *fmt, ...)
{
    if (!err)
        return kind;
    ivs_error_clear(err);
    err->kind = kind;
    err->code = ivs_strdup(code);
    struct buf msg = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    err->message = buf_steal(&msg);
    return kind;
}

void ivs_error_prefix(struct ivs_error *err, const char *prefix)
{
    if (!err || !prefix)
        return;
    struct buf msg = BUF_INIT;
    buf_printf(&msg, "%s: %s", prefix, err->message ? err->message : "");
    char *m = buf_steal(&msg);
    if (m) {
        free(err->message);
        err->message = m;
    }
}

enum ivs_status ivs_error_nomem(struct ivs_error *err)
{
    return ivs_error_set(err, IVS_ERR_NOMEM, "OutOfMemory", "out of memory");
}

void ivs_error_move(struct ivs_error *dst, struct ivs_error *src)
{
    if (!dst) {
        ivs_error_clear(src);
        return;
    }
    ivs_error_clear(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}
