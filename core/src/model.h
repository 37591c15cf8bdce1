/* model.h: the IVS family's APIs as data. The tables are generated from the botocore-format
 * service models in models/ by scripts/gen-model.lua into model_<prefix>.c and services.c
 * (`make model`); nothing here is written by hand per operation or per service. The
 * serializer, the validator, the Lua binding and the emulator all read these tables. */
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
    MP_NONE,  /* no pattern, or one we deliberately do not enforce (ResourceArn) */
    MP_SEARCH /* the model's regex, matched unanchored as the model specifies */
};

struct model_shape;

struct model_member {
    const char *name;          /* member name; also the JSON key */
    const char *location_name; /* wire name for uri/querystring/header members; NULL else */
    enum model_location location;
    const struct model_shape *shape;
    unsigned char required;
    /* The model's idempotencyToken trait: the client fills in a fresh UUID when the caller
     * gives none, once per call, so that its retries are recognised as the same request. */
    unsigned char idempotency_token;
};

/* Shapes point at each other directly, so walking a value needs no service at hand. */
struct model_shape {
    const char *name;
    int index; /* position in its service's shapes[] (tables and tests refer to shapes by it) */
    enum model_type type;
    const struct model_member *members; /* structure members, in model order */
    size_t member_count;
    const struct model_shape *member_shape; /* list element or map value; NULL otherwise */
    const struct model_shape *key_shape;    /* map key; NULL otherwise */
    unsigned char has_min, has_max;
    int64_t min, max; /* string length (UTF-8 code points), list/map size, or number range */
    const char *const *enum_values;
    size_t enum_count;
    const char *pattern; /* the model's pattern text, NULL when none */
    enum model_pattern_mode pattern_mode;
    unsigned char sensitive;
    unsigned char is_error;
    int error_status;             /* HTTP status of an error shape; 0 otherwise */
    const char *timestamp_format; /* "iso8601" for timestamps; NULL otherwise */
};

struct model_operation {
    const char *name;                        /* "CreateChannel" */
    const char *snake_name;                  /* "create_channel" */
    const char *method;                      /* "POST" */
    const char *uri;                         /* "/CreateChannel" or "/tags/{resourceArn}" */
    const struct model_shape *input;         /* NULL when none */
    const struct model_shape *output;        /* NULL when none */
    int success_status;                      /* 200 or 204 */
    const struct model_shape *const *errors; /* the operation's error shapes */
    size_t error_count;
    unsigned char readonly_;
    unsigned char idempotent;
    /* Pagination, derived from the shapes: input has nextToken and output has nextToken. */
    unsigned char paginated;
    const char *result_key; /* the output list member holding the items; NULL if not paginated */
    const char *summary;    /* one sentence of our own (models/<service>/summaries.json) */
};

/* One of botocore's paginators-1.json entries (a subset of the paginated operations). */
struct model_paginator {
    const char *operation; /* API name */
    const char *input_token, *output_token, *limit_key, *result_key;
};

/* One service's generated tables (core/src/model_<endpoint prefix>.c, `make model`). */
struct model_tables {
    const char *api_version;          /* "2020-07-14" */
    const struct model_shape *shapes; /* sorted by name */
    size_t shape_count;
    const struct model_operation *operations; /* sorted by name */
    size_t operation_count;
    /* Indexes into operations sorted by snake_name (whose order differs from the API names':
     * "list_stream_sessions" < "list_streams"), for binary search by either name. */
    const int *operations_by_snake_name;
    const struct model_paginator *paginators; /* sorted by operation */
    size_t paginator_count;
};

/*
 * A service of the family: everything that tells one from another (core/src/services.c,
 * generated from models/<name>/). The client, the signer and the configuration read these
 * fields instead of naming a service.
 */
struct model_service {
    const char *name;            /* API and CLI name: "ivs", "ivschat", "ivs-realtime" */
    const char *endpoint_prefix; /* host label: "ivs", "ivschat", "ivsrealtime" */
    const char *signing_name;    /* SigV4 credential scope: "ivs", "ivschat", "ivs" (Real-Time!) */
    const char *service_id;      /* botocore's service id: "ivs", "ivschat", "IVS RealTime" */
    const char *env_name;        /* AWS_ENDPOINT_URL_<env_name>: "IVS", ..., "IVS_REALTIME" */
    const char *config_key;      /* key in a [services] section: "ivs", ..., "ivs_realtime" */
    unsigned char fips;          /* the endpoint rules have {prefix}-fips hosts */
    unsigned char dualstack;     /* ... and dual-stack hosts */
    const struct model_tables *model;
};

extern const struct model_service model_services[]; /* sorted by name */
extern const size_t model_service_count;

/* The service with an API name ("ivs", "ivschat", "ivs-realtime"); NULL when unknown. */
const struct model_service *model_find_service(const char *name);

/* The low-latency IVS service, the default of every client. */
const struct model_service *model_default_service(void);

/* Finds an operation of a service by API name or snake_case name; NULL when unknown. */
const struct model_operation *model_find_operation(const struct model_service *svc,
                                                   const char *name);

/* The paginator botocore defines for an operation; NULL when it defines none. */
const struct model_paginator *model_find_paginator(const struct model_service *svc,
                                                   const char *operation);

/* Finds a member of a structure shape by name; NULL when absent. */
const struct model_member *model_find_member(const struct model_shape *shape, const char *name);

/* Finds the member of an input shape bound to the URI label {label} (label_len bytes, without
 * the braces or a greedy '+'); NULL when none. The client builds paths with it and the
 * emulator reads them back with it. */
const struct model_member *model_find_uri_member(const struct model_shape *in, const char *label,
                                                 size_t label_len);

/*
 * Validates an operation's input against the model: unknown members (with the closest valid
 * name suggested), missing required members, wrong JSON types, string length, number range,
 * list and map size, enum membership, patterns. Every problem is reported, each with the
 * operation and the parameter path, in one IVS_ERR_VALIDATION error with code
 * "ParamValidationError"; the message joins them with "; ". input may be NULL (= {}).
 */
enum ivs_status model_validate(const struct model_operation *op, const cJSON *input,
                               struct ivs_error *err);

/* Does a UTF-8 string match a shape's pattern as the generator decided (MP_*)? 1 yes, 0 no.
 * Compiles the pattern for this one match; model_pattern_match_cached() does not. */
int model_pattern_match(const struct model_shape *shape, const char *s, size_t len);

/*
 * The models' patterns compiled on first use and kept, keyed by shape (so one cache serves
 * every service: an emulator worker sees all three). Compiling a pattern costs far more than
 * matching it, and every call of an operation checks the same few patterns. A cache belongs
 * to one thread at a time (each client holds one, each emulator worker thread too); there is
 * no process-wide cache.
 */
struct model_pattern_cache;

/* Creates an empty cache; NULL when memory runs out. */
struct model_pattern_cache *model_pattern_cache_new(void);

/* Releases a cache and its compiled patterns; NULL is accepted. */
void model_pattern_cache_free(struct model_pattern_cache *cache);

/* How many patterns this cache has compiled so far (each at most once unless compiling
 * failed); lets tests see that repeated validation reuses them. */
size_t model_pattern_cache_compilations(const struct model_pattern_cache *cache);

/* model_pattern_match() with the shape's compiled pattern taken from (or added to) cache.
 * cache may be NULL: compile for this match only. One cache serves every service. */
int model_pattern_match_cached(struct model_pattern_cache *cache, const struct model_shape *shape,
                               const char *s, size_t len);

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
    const char *method; /* static */
    char *path;         /* wire path, labels percent-encoded: "/tags/arn%3Aaws%3A..." */
    char *query;        /* wire query without '?', NULL when none: "tagKeys=a%20b&tagKeys=c" */
    char *body;         /* JSON body; NULL when the operation sends none (GET/DELETE) */
    size_t body_len;
    int borrowed; /* path and body live in the caller's buffers (model_serialize_into) */
};

/* Builds the HTTP request for a (validated) input. */
enum ivs_status model_serialize(const struct model_operation *op, const cJSON *input,
                                struct model_request *out, struct ivs_error *err);
void model_request_cleanup(struct model_request *r);
/* model_serialize with the path and the body written into the caller's buffers (emptied
 * first; their blocks are reused), which out points into until they change: a caller that
 * serialises request after request allocates neither. model_request_cleanup() then releases
 * only what is out's own. */
struct buf;
enum ivs_status model_serialize_into(const struct model_operation *op, const cJSON *input,
                                     struct model_request *out, struct buf *path, struct buf *body,
                                     struct ivs_error *err);

#endif
