/* errors.h: filling a struct ivs_error from inside the core. */
#ifndef IVS_ERRORS_H
#define IVS_ERRORS_H

#include "ivs.h"

/*
 * Sets err (when not NULL) to kind/code and a printf-formatted message, replacing whatever
 * it held, and returns kind so callers can `return ivs_error_set(...)`. The message must
 * never be built from secrets.
 */
enum ivs_status ivs_error_set(struct ivs_error *err, enum ivs_status kind, const char *code,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Prefixes the message of an already-set error with "prefix: ". */
void ivs_error_prefix(struct ivs_error *err, const char *prefix);

/* Sets err to IVS_ERR_NOMEM ("OutOfMemory") and returns IVS_ERR_NOMEM. */
enum ivs_status ivs_error_nomem(struct ivs_error *err);

/* Moves src into dst (dst is cleared first; src is left zeroed). */
void ivs_error_move(struct ivs_error *dst, struct ivs_error *src);

#endif
