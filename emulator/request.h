/* request.h: the emulator's request parser, the reverse of the client's serializer. */
#ifndef IVS_EMU_REQUEST_H
#define IVS_EMU_REQUEST_H

#include <stddef.h>

#include <cJSON.h>

#include "model.h"

/*
 * Reverse of model_serialize: finds the operation of svc for a method and a wire path (and
 * fills *input_out with the input rebuilt from labels, query and JSON body). Returns IVS_OK,
 * IVS_ERR_USAGE when no operation matches the route (code "UnknownOperation"), or
 * IVS_ERR_VALIDATION when the body is not a JSON object or a member has the wrong type.
 */
enum ivs_status model_deserialize_request(const struct model_service *svc, const char *method,
                                          const char *path, const char *query, const char *body,
                                          size_t body_len, const struct model_operation **op_out,
                                          cJSON **input_out, struct ivs_error *err);

#endif
