/* client.h: the generic call path behind ivs_client_call(), shared with the Lua binding so
 * that Lua tables go straight to cJSON without a detour through JSON text. */
#ifndef IVS_CLIENT_H
#define IVS_CLIENT_H

#include <cJSON.h>

#include "ivs.h"
#include "model.h"

struct buf;

/*
 * Validates, serialises, signs and sends one operation, retrying per the client's policy.
 * input may be NULL (= {}); it is not modified. On success *output is a new cJSON object the
 * caller deletes (an empty object for operations that return nothing). On failure *output is
 * NULL and err says why (err->attempts counts the attempts made; 0 when nothing was sent).
 */
enum ivs_status client_call_json(struct ivs_client *c, const struct model_operation *op,
                                 const cJSON *input, cJSON **output, struct ivs_error *err);

/*
 * client_call_json for a caller who reads the response text itself (ivs_client_call, the Lua
 * binding): on success *body (BUF_INIT on entry) holds the body as the service sent it, checked
 * to be one well-formed JSON object, or is empty when the service sent nothing; no tree is
 * built. The caller frees it with buf_free(). On failure *body is left empty.
 */
enum ivs_status client_call_text(struct ivs_client *c, const struct model_operation *op,
                                 const cJSON *input, struct buf *body, struct ivs_error *err);

/*
 * Receives the outcome of a call started with client_start_json(), exactly once, from
 * ivs_client_poll(), ivs_client_cancel_all() or ivs_client_free(). On success output is the
 * result, which the callback now owns (it deletes or keeps it), and err is NULL; on failure
 * output is NULL and err holds the error, which the callback may ivs_error_move() out (the
 * library clears it afterwards).
 */
typedef void (*client_done_json_fn)(void *ud, enum ivs_status status, cJSON *output,
                                    struct ivs_error *err);

/*
 * The non-blocking twin of client_call_json (what ivs_client_start does after parsing its
 * JSON text; see "Non-blocking calls" in ivs.h). input may be NULL and is not kept. Usage,
 * validation and setup failures are returned and nothing is queued; after IVS_OK, done fires
 * exactly once.
 */
enum ivs_status client_start_json(struct ivs_client *c, const struct model_operation *op,
                                  const cJSON *input, client_done_json_fn done, void *ud,
                                  struct ivs_error *err);

/*
 * Receives the outcome of a call started with client_start_text(), exactly once, like
 * client_done_json_fn. On success body holds the response text as client_call_text() gives
 * it (checked once to be one JSON object, or empty when the service sent nothing) and err is
 * NULL; the callback may move the buffer out (leaving it BUF_INIT), else the library frees it.
 * On failure body is NULL.
 */
typedef void (*client_done_text_fn)(void *ud, enum ivs_status status, struct buf *body,
                                    struct ivs_error *err);

/*
 * The non-blocking twin of client_call_text (the Lua binding's client:start): no tree is
 * built for the response. Otherwise as client_start_json.
 */
enum ivs_status client_start_text(struct ivs_client *c, const struct model_operation *op,
                                  const cJSON *input, client_done_text_fn done, void *ud,
                                  struct ivs_error *err);

/*
 * Parses a service error response into err: kind IVS_ERR_SERVICE; code from x-amzn-ErrorType
 * (text before the first ':' and after the last '#'), else the body's code/Code/__type, else
 * one derived from the status; message from exceptionMessage, message, Message, then the
 * x-amzn-ErrorMessage header, then the status. header_lookup returns a response header's
 * value (case-insensitive name) or NULL. Exposed for tests.
 */
void client_parse_service_error(long status, const char *body, size_t body_len,
                                const char *(*header_lookup)(const void *ctx, const char *name),
                                const void *ctx, struct ivs_error *err);

/*
 * Turns one HTTP response of `operation` into its output or its error, as every call does:
 * a 2xx with a JSON object body (or none, read as {}) gives IVS_OK and a new *output the
 * caller deletes; any other status goes through client_parse_service_error (IVS_ERR_SERVICE);
 * a 2xx whose body is not a JSON object is IVS_ERR_INTERNAL "InvalidResponse". *output is
 * NULL on failure. header_lookup may be NULL. Also the response-parser fuzzing entry point.
 */
enum ivs_status
client_parse_response(const char *operation, long status, const char *body, size_t body_len,
                      const char *(*header_lookup)(const void *ctx, const char *name),
                      const void *ctx, cJSON **output, struct ivs_error *err);

#endif
