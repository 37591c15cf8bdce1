/* model.h: the IVS API as data. The tables are generated from the botocore-format service
 * model by scripts/gen-model.lua into model_gen.c (`make model`); nothing here is written by
 * hand per operation. The serializer, the validator, the Lua binding and the emulator all
 * read these tables. */
#ifndef IVS_MODEL_H
#define IVS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "ivs.h"

enum model_type {
    MT_STRUCTURE,
    MT_LIST,
    MT_MAP,
    MT_STRING,
    MT_INTEGER,
    MT_LONG,
    MT_FLOAT,
    MT_DOUBLE,
    MT_BOOLEAN,
    MT_TIMESTAMP,
    MT_BLOB
};

enum model_location { ML_BODY, ML_URI, ML_QUERY, ML_HEADER };

/* Pattern handling decided by the generator (see scripts/gen-model.lua for why). */
enum model_pattern_mode {
    MP_NONE,      /* no pattern, or one we deliberately do not enforce (ResourceArn) */
    MP_SEARCH     /* the model's regex, matched unanchored as the model specifies */
};

struct model_member {
    const char *name;          /* member name; also the JSON key */
    const char *location_name; /* wire name for uri/querystring/header members; NULL else */
    enum model_location location;
    int shape;                 /* index into ivs_model_shapes */
    unsigned char required;
};

struct model_shape {
    const char *name;
    enum model_type type;
    const struct model_member *members; /* structure members, in model order */
    size_t member_count;
    int member_shape; /* list element or map value shape; -1 when not a list/map */
    int key_shape;    /* map key shape; -1 when not a map */
    unsigned char has_min, has_max;
    int64_t min, max; /* string length (UTF-8 code points), list/map size, or number range */
    const char *const *enum_values;
    size_t enum_count;
    const char *pattern; /* the model's pattern text, NULL when none */
    enum model_pattern_mode pattern_mode;
    unsigned char sensitive;
    unsigned char is_error;
    int error_status;    /* HTTP status of an error shape; 0 otherwise */
    const char *timestamp_format; /* "iso8601" for timestamps; NULL otherwise */
};

struct model_operation {
    const char *name;       /* "CreateChannel" */
    const char *snake_name; /* "create_channel" */
    const char *method;     /* "POST" */
    const char *uri;        /* "/CreateChannel" or "/tags/{resourceArn}" */
    int input;              /* shape index, -1 when none */
    int output;             /* shape index, -1 when none */
    int success_status;     /* 200 or 204 */
    const int *errors;      /* error shape indexes */
    size_t error_count;
    unsigned char readonly_;
    unsigned char idempotent;
    /* Pagination, derived from the shapes: input has nextToken and output has nextToken. */
    unsigned char paginated;
    const char *result_key; /* the output list member holding the items; NULL if not paginated */
};

extern const struct model_shape ivs_model_shapes[];
extern const size_t ivs_model_shape_count;
extern const struct model_operation ivs_model_operations[]; /* sorted by name */
extern const size_t ivs_model_operation_count;
/* Indexes into ivs_model_operations sorted by snake_name (whose order differs from the API
 * names': "list_stream_sessions" < "list_streams"), for binary search by either name. */
extern const int ivs_model_operations_by_snake_name[];
extern const char ivs_model_api_version[];   /* "2020-07-14" */
extern const char ivs_model_signing_name[];  /* "ivs" */
extern const char ivs_model_endpoint_prefix[]; /* "ivs" */

/* Finds an operation by API name or snake_case name; NULL when unknown. */
const struct model_operation *model_find_operation(const char *name);

/* The shape with a given index (asserts the index is valid). */
const struct model_shape *model_shape(int index);

/* Finds a member of a structure shape by name; NULL when absent. */
const struct model_member *model_find_member(const struct model_shape *shape, const char *name);

/*
 * Validates an operation's input against the model: unknown members (with the closest valid
 * name suggested), missing required members, wrong JSON types, string length, number range,
 * list and map size, enum membership, patterns. Every problem is reported, each with the
 * operation and the parameter path, in one IVS_ERR_VALIDATION error with code
 * "ParamValidationError"; the message joins them with "; ". input may be NULL (= {}).
 */
enum ivs_status model_validate(const struct model_operation *op, const cJSON *input, struct ivs_error *err);

/* Does a UTF-8 string match a shape's pattern as the generator decided (MP_*)? 1 yes, 0 no.
 * Compiles the pattern for this one match; model_pattern_match_cached() does not. */
int model_pattern_match(const struct model_shape *shape, const char *s, size_t len);

/*
 * The model's patterns compiled on first use and kept, one slot per shape. Compiling a
 * pattern costs far more than matching it, and every call of an operation checks the same
 * few patterns. A cache belongs to one thread at a time (each client holds one, each emulator
 * worker thread too); there is no process-wide cache.
 */
struct model_pattern_cache;

/* Creates an empty cache; NULL when memory runs out. */
struct model_pattern_cache *model_pattern_cache_new(void);

/* Releases a cache and its compiled patterns; NULL is accepted. */
void model_pattern_cache_free(struct model_pattern_cache *cache);

/* How many patterns this cache has compiled so far (each at most once unless compiling
 * failed); lets tests see that repeated validation reuses them. */
size_t model_pattern_cache_compilations(const struct model_pattern_cache *cache);

/* model_pattern_match() for the shape ivs_model_shapes[shape_index], with its compiled
 * pattern taken from (or added to) cache. cache may be NULL: compile for this match only. */
int model_pattern_match_cached(struct model_pattern_cache *cache, int shape_index, const char *s,
                               size_t len);

/* model_validate() with patterns from cache (NULL: compile each one as it is checked).
 * Same checks, same errors. */
enum ivs_status model_validate_cached(const struct model_operation *op, const cJSON *input,
                                      struct model_pattern_cache *cache, struct ivs_error *err);

/*
 * Parses an ISO 8601 / RFC 3339 date and time ("2024-05-01T12:00:00Z", "...T12:00:00.250Z",
 * "...T14:00:00+02:00", or a bare date "2024-05-01" meaning midnight UTC) into seconds since
 * the Unix epoch. Returns 0, or -1 when s is not such a timestamp.
 */
int model_parse_iso8601(const char *s, double *seconds_out);

/* Formats seconds since the Unix epoch as ISO 8601 UTC: "2024-05-01T12:00:00Z", with six
 * fractional digits only when the value has a fraction (as botocore sends them). out needs
 * at least 40 bytes. */
void model_format_iso8601(double seconds, char *out, size_t out_size);

/* An HTTP request as the serializer builds it; strings are owned and freed by
 * model_request_cleanup(). */
struct model_request {
    const char *method;  /* static */
    char *path;          /* wire path, labels percent-encoded: "/tags/arn%3Aaws%3A..." */
    char *query;         /* wire query without '?', NULL when none: "tagKeys=a%20b&tagKeys=c" */
    char *body;          /* JSON body; NULL when the operation sends none (GET/DELETE) */
    size_t body_len;
};

/* Builds the HTTP request for a (validated) input. */
enum ivs_status model_serialize(const struct model_operation *op, const cJSON *input,
                                struct model_request *out, struct ivs_error *err);
void model_request_cleanup(struct model_request *r);

/*
 * Reverse of model_serialize, for the emulator: finds the operation for a method and a wire
 * path (and fills *out with the input rebuilt from labels, query and JSON body). Returns
 * IVS_OK, IVS_ERR_USAGE when no operation matches the route (code "UnknownOperation"), or
 * IVS_ERR_VALIDATION when the body is not a JSON object or a member has the wrong type.
 */
enum ivs_status model_deserialize_request(const char *method, const char *path, const char *query,
                                          const char *body, size_t body_len,
                                          const struct model_operation **op_out, cJSON **input_out,
                                          struct ivs_error *err);

#endif
