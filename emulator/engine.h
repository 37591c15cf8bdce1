/* engine.h: the emulator's generic resource engine. A service is described by data (struct
 * eng_service): the kinds of resource it stores (ARN type, quota, defaults), and for each
 * operation what it does to which kind (create, get, list, update, delete, tag) and through
 * which input member. The engine runs those operations for every service the same way: ids and
 * ARNs, defaults, quotas, opaque page tokens, filters, list entries projected from the model's
 * summary shapes, tags. Only what is really special to one service (tokens, stage sessions,
 * compositions...) is code, in hooks that the service's file (svc_*.c) supplies.
 *
 * The engine holds no lock of its own: its owner (the store) calls every function under the
 * store's mutex. */
#ifndef EMU_ENGINE_H
#define EMU_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "model.h"
#include "store.h"

struct engine;
struct eng_part;
struct eng_ctx;

/* One stored resource. obj is the representation the API returns (tags included); priv holds
 * what the API never shows (tokens, sessions...); both are saved with the state. */
struct eng_res {
    const struct eng_service *svc;
    int kind; /* index into svc->kinds */
    uint64_t seq;
    char *arn;
    cJSON *obj;
    cJSON *priv;
    struct eng_part *part;
};

/* Hooks of the special behaviour. They return 0 to go on, -1 after filling ctx->out with the
 * error. `resp` is the response object being built (the hook may add to it). */
typedef int (*eng_create_hook)(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in,
                               cJSON *resp);
typedef int (*eng_check_hook)(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in);
/* A whole operation in code. */
typedef void (*eng_custom_op)(struct eng_ctx *ctx, const cJSON *in);
/* A list filter in code: 1 keeps the resource. */
typedef int (*eng_filter_pred)(const struct eng_res *r, const cJSON *value);

struct eng_kind {
    const char *type;         /* ARN resource type: "room", "stage" */
    const char *what;         /* for messages: "Room" */
    size_t quota;             /* per account and region; 0 = none */
    const char *defaults;     /* JSON object merged under a new resource (deeply) */
    unsigned char with_id;    /* the object carries "id" (chat) */
    unsigned char with_times; /* createTime / updateTime (chat) */
    const char *summary_of;   /* list operation whose result entries summarise this kind */
};

enum eng_action { EA_CREATE, EA_GET, EA_LIST, EA_UPDATE, EA_DELETE, EA_CUSTOM };

struct eng_filter {
    const char *input;    /* input member: "filterByStageArn" */
    const char *path;     /* resource member, dotted for nested: "messageReviewHandler.uri" */
    unsigned char member; /* 1: the resource member is a list that must contain the value */
    eng_filter_pred pred; /* instead of path */
};

enum { ENG_MAX_FILTERS = 4 };

struct eng_op {
    const char *name; /* the model's operation name */
    enum eng_action action;
    int kind;                /* index into the service's kinds (not for EA_CUSTOM) */
    const char *ident;       /* input member naming the resource by ARN: "arn", "identifier" */
    const char *wrap;        /* output member holding the resource; NULL: the output is it */
    const char *const *skip; /* input members not copied into the resource */
    struct eng_filter filters[ENG_MAX_FILTERS];
    unsigned char one_filter;   /* at most one filter per request */
    unsigned char newest_first; /* list by updateTime, newest first (else creation order) */
    int default_max;            /* maxResults default */
    eng_create_hook on_create;  /* create: after defaults; update: after the merge */
    eng_check_hook check;       /* get/update/delete: before acting (conflicts) */
    eng_check_hook on_delete;   /* delete: after the checks, before removal (cascades) */
    eng_custom_op custom;
};

/* One admin API path of a service. The handler finds its partition itself (from an ARN or a
 * token in the body) with eng_partition and sets ctx->part before changing anything. */
typedef void (*eng_admin_fn)(struct eng_ctx *ctx, const cJSON *query, const cJSON *body);
struct eng_admin_route {
    const char *method;
    const char *path; /* below /_emulator: "/stages/join" */
    eng_admin_fn fn;
};

struct eng_service {
    const char *name;        /* the model service's name: "ivschat", "ivs-realtime" */
    const char *arn_service; /* ARN namespace: "ivschat", "ivs" */
    const struct eng_kind *kinds;
    size_t kind_count;
    const struct eng_op *ops;
    size_t op_count;
    /* Chat's errors carry resourceId and resourceType (an enum holding only this value), a
     * quota's the limit, a validation error the reason: NULL for services without them. */
    const char *error_resource_type;
    const struct eng_admin_route *admin; /* admin API paths of this service */
    size_t admin_count;
};

/* What the engine needs from its owner: the event log and the IVS low-latency resources that
 * Real-Time compositions reference. */
struct eng_host {
    void *ud;
    void (*emit)(void *ud, const char *account, const char *region, const char *detail_type,
                 const char *resource_arn, cJSON *detail);
    int (*ivs_exists)(void *ud, const char *account, const char *region, const char *arn);
    /* Durability (may be NULL): after each call that changed state, the engine reports every
     * resource the call may have changed (kind "SERVICE:TYPE", id the ARN, value as
     * engine_apply() takes it back) and every resource it removed. */
    void (*journal_put)(void *ud, const char *kind, const char *id, const cJSON *value);
    void (*journal_del)(void *ud, const char *kind, const char *id);
};

/* The context one operation runs in. */
struct eng_ctx {
    struct engine *eng;
    const struct eng_service *svc;
    struct eng_part *part;
    const char *account;
    const char *region;
    const char *prefix; /* the per-account 12-hex host prefix */
    const struct model_operation *op;
    struct emu_reply *out;
    int changed; /* set when state changed (the owner saves) */
};

struct engine *engine_new(const struct eng_service *const *services, size_t count,
                          const struct eng_host *host);
void engine_free(struct engine *e);
/* Forgets every resource. */
void engine_reset(struct engine *e);

/* Finds the service table for a name ("ivschat", "ivs-realtime"); NULL when absent. */
const struct eng_service *engine_service(const struct engine *e, const char *name);

/* Runs one validated operation; returns 1 when the state changed. */
int engine_call(struct engine *e, const struct eng_service *svc, const char *account,
                const char *region, const struct model_operation *op, const cJSON *in,
                struct emu_reply *out);

/* Handles an admin path owned by a service's hooks (e.g. "/stages/join"); returns 0 when no
 * service knows the path. *changed is set when state changed. */
int engine_admin(struct engine *e, const char *method, const char *path, const cJSON *query,
                 const cJSON *body, const char *account, const char *region, struct emu_reply *out,
                 int *changed);

/* The engine's part of the state file, and loading it back (-1 when malformed). */
cJSON *engine_snapshot(const struct engine *e);
int engine_load(struct engine *e, const cJSON *snap);
/* Applies one journal record whose kind is one of the engine's ("ivschat:room"...) to the
 * "family" object of a state document (replay works on the document, which is then loaded
 * and checked like any state file): "put" stores the value in place of the ARN's entry, "del"
 * removes it. Returns 0, -1 with a message in errbuf for a record the engine did not write, 1
 * when the kind is not the engine's. */
int engine_apply_record(const struct engine *e, cJSON *family, const cJSON *record, char *errbuf,
                        size_t errlen);
/* Resources held (health check). */
size_t engine_count(const struct engine *e);

/* ---- for the service files -------------------------------------------------------------- */

/* The partition of an account and region (created on first use); NULL when out of memory. */
struct eng_part *eng_partition(struct engine *e, const char *account, const char *region);
/* The i-th partition (NULL past the last): for lookups across accounts (tokens). */
struct eng_part *eng_partition_at(struct engine *e, size_t i);
/* Points ctx at another partition (admin handlers act where the resource lives). */
void eng_use_partition(struct eng_ctx *ctx, struct eng_part *p);
/* Reads the region and account of an ARN of svc (any of its kinds): 0, or -1 when it is not
 * one. region needs 64 bytes, account 32. */
int eng_arn_place(const struct eng_service *svc, const char *arn, char *region, char *account);
/* Marks a resource as changed by the current call (resources found with eng_find and
 * eng_need, or created, already are). */
void eng_touch(struct eng_res *r);
/* Looks a resource up by ARN in a partition; NULL when absent or of another service/kind
 * (kind < 0: any kind of svc). */
struct eng_res *eng_find(struct eng_part *p, const struct eng_service *svc, int kind,
                         const char *arn);
/* Resolves an ARN-valued input member: 400 when it is not an ARN of that kind, 404 when no
 * such resource. NULL after filling ctx->out. */
struct eng_res *eng_need(struct eng_ctx *ctx, int kind, const char *arn);
/* Calls fn for every resource of a kind in the partition, in creation order; stops when fn
 * returns non-zero and returns that value. A walk reads: fn calls eng_touch on a resource it
 * changes (or hands on to be changed), so the journal records it. */
int eng_each(struct eng_part *p, const struct eng_service *svc, int kind,
             int (*fn)(struct eng_res *r, void *arg), void *arg);
/* Creates a resource (quota checked, id and ARN drawn, defaults merged). NULL after filling
 * ctx->out. obj is taken. */
struct eng_res *eng_create(struct eng_ctx *ctx, int kind, cJSON *obj);
/* Removes a resource and frees it. */
void eng_remove(struct eng_ctx *ctx, struct eng_res *r);
/* Projects a value onto a model shape: only the shape's members, recursively (NULL shape:
 * a plain copy). */
cJSON *eng_project(const cJSON *value, const struct model_shape *shape);
/* The element shape of the operation's result list (op->result_key); NULL when none. */
const struct model_shape *eng_result_shape(const struct eng_ctx *ctx);
/* Merges a JSON object text under obj: adds what obj lacks, deeply. */
void eng_merge_defaults(cJSON *obj, const char *json);
/* Pages a JSON array (taken) into resp[key] with nextToken; `filter` goes into the token's
 * fingerprint. Returns 0, -1 after filling ctx->out (bad token). */
int eng_page(struct eng_ctx *ctx, const cJSON *in, cJSON *items, const char *key,
             const char *filter, int default_max, cJSON *resp);
/* Emits an EventBridge event (source aws.ivs) through the host. detail is taken. */
void eng_emit(struct eng_ctx *ctx, const char *detail_type, const char *resource_arn,
              cJSON *detail);
/* Whether an IVS low-latency resource exists (composition channel destinations). */
int eng_ivs_exists(struct eng_ctx *ctx, const char *arn);
/* Replies: a JSON body (taken) with the operation's success status; errors. */
void eng_reply(struct eng_ctx *ctx, cJSON *body);
void eng_error(struct eng_ctx *ctx, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void eng_not_found(struct eng_ctx *ctx, const char *arn);
/* Names the resource an error (just made with eng_error) is about, for services whose errors
 * carry a resourceId. */
void eng_error_resource(struct eng_ctx *ctx, const char *arn);
/* ISO 8601 UTC with milliseconds into out[32]. */
void eng_now_iso(char out[32]);
/* Small JSON helpers shared by the service files. */
const char *eng_str(const cJSON *o, const char *key);
void eng_set(cJSON *o, const char *key, cJSON *v);
/* Both strings present and equal (state loaded from a file may lack any member). */
int eng_streq(const char *a, const char *b);
/* The string member, or "" when absent. */
const char *eng_str0(const cJSON *o, const char *key);

#endif
