/* svc_realtime.c: Amazon IVS Real-Time (ivs-realtime) on the resource engine. Stages, public
 * keys, encoder, storage and ingest configurations and compositions are engine kinds; the
 * code here is what is special to stages:
 *   - endpoints from the account's host prefix, participant tokens (a JWS whose header says
 *     alg KMS, with the claims in the order real tokens have them), the default recording
 *     configuration;
 *   - stage sessions, participants and participant events, which only the admin API creates
 *     (join with an API-issued or a self-signed ES384 token, publish, subscribe, leave), with
 *     the EventBridge events they cause;
 *   - compositions that reference a stage, encoder and storage configurations and IVS
 *     channels, and the conflicts those references cause on delete;
 *   - ingest configurations with rt_ stream keys, and participant replication. */
#include "svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "keys.h"
#include "util.h"

enum { K_STAGE, K_PUBKEY, K_ENCODER, K_STORAGE, K_COMPOSITION, K_INGEST };

enum {
    PUBLISHERS_PER_STAGE = 12,
    COMPOSITIONS_PER_STAGE = 5,
    COMPOSITIONS_PER_ACCOUNT = 20,
    REPLICAS_PER_PARTICIPANT = 5,
    SELF_SIGNED_MAX_SECONDS = 14 * 24 * 3600,
    ATTRIBUTES_MAX_BYTES = 1024,
    EVENTS_PER_PARTICIPANT = 200
};

static const char k_events_url[] = "wss://global.events.live-video.net";

static const char k_recording_defaults[] =
    "{\"storageConfigurationArn\":\"\",\"mediaTypes\":[\"AUDIO_VIDEO\"],"
    "\"thumbnailConfiguration\":{\"targetIntervalSeconds\":60,\"storage\":[\"SEQUENTIAL\"],"
    "\"recordingMode\":\"DISABLED\"},\"recordingReconnectWindowSeconds\":0,"
    "\"hlsConfiguration\":{\"targetSegmentDurationSeconds\":6},\"recordParticipantReplicas\":true}";

/* ---- helpers --------------------------------------------------------------------------- */

static cJSON *jitem(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static cJSON *priv_array(struct eng_res *r, const char *key)
{
    cJSON *a = jitem(r->priv, key);
    if (!cJSON_IsArray(a)) {
        a = cJSON_CreateArray();
        eng_set(r->priv, key, a);
    }
    return a;
}

static cJSON *priv_object(struct eng_res *r, const char *key)
{
    cJSON *o = jitem(r->priv, key);
    if (!cJSON_IsObject(o)) {
        o = cJSON_CreateObject();
        eng_set(r->priv, key, o);
    }
    return o;
}

static int attributes_fit(struct eng_ctx *ctx, const cJSON *attrs)
{
    size_t total = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs) total +=
        strlen(a->string) + strlen(cJSON_IsString(a) ? a->valuestring : "");
    if (total > ATTRIBUTES_MAX_BYTES) {
        eng_error(ctx, 400, "ValidationException", "attributes may hold at most %d bytes in total.",
                  ATTRIBUTES_MAX_BYTES);
        return 0;
    }
    return 1;
}

static const char *arn_id(const char *arn)
{
    const char *s = strrchr(arn, '/');
    return s ? s + 1 : arn;
}

static void reply_object(struct eng_ctx *ctx, cJSON *o)
{
    ctx->out->status = 200;
    ctx->out->error_type = NULL;
    ctx->out->body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
}

/* An ARN input of a kind that may also be "" (not set): 1 when set and found, 0 when empty,
 * -1 after an error. */
static int optional_ref(struct eng_ctx *ctx, int kind, const char *arn)
{
    if (!arn || !*arn)
        return 0;
    return eng_need(ctx, kind, arn) ? 1 : -1;
}

/* ---- stages ---------------------------------------------------------------------------- */

static void stage_endpoints(struct eng_ctx *ctx, struct eng_res *r)
{
    cJSON *e = cJSON_CreateObject();
    char url[128];
    cJSON_AddStringToObject(e, "events", k_events_url);
    snprintf(url, sizeof url, "https://%s.global-bm.whip.live-video.net", ctx->prefix);
    cJSON_AddStringToObject(e, "whip", url);
    snprintf(url, sizeof url, "rtmp://%s.global-contribute.live-video.net/app/", ctx->prefix);
    cJSON_AddStringToObject(e, "rtmp", url);
    snprintf(url, sizeof url, "rtmps://%s.global-contribute.live-video.net:443/app/", ctx->prefix);
    cJSON_AddStringToObject(e, "rtmps", url);
    eng_set(r->obj, "endpoints", e);
}

/* A participant token as CreateParticipantToken and CreateStage issue it: header
 * {"alg":"KMS","typ":"JWT"}, the claims in the order real tokens carry them, version "0.0",
 * and a DER ECDSA P-384 signature. The stage remembers it by its id (jti). */
static cJSON *issue_token(struct eng_ctx *ctx, struct eng_res *stage, const cJSON *cfg)
{
    char jti[13];
    emu_random_alnum(jti, 12);
    const cJSON *dur = jitem(cfg, "duration"), *user = jitem(cfg, "userId");
    const cJSON *attrs = jitem(cfg, "attributes"), *caps = jitem(cfg, "capabilities");
    double minutes = cJSON_IsNumber(dur) ? dur->valuedouble : 720;
    long long iat = (long long)emu_now(), exp = iat + (long long)(minutes * 60);
    int pub = !caps, sub = !caps;
    const cJSON *c;
    cJSON_ArrayForEach(c, caps)
    {
        if (cJSON_IsString(c) && !strcmp(c->valuestring, "PUBLISH"))
            pub = 1;
        if (cJSON_IsString(c) && !strcmp(c->valuestring, "SUBSCRIBE"))
            sub = 1;
    }
    const cJSON *endpoints = jitem(stage->obj, "endpoints");
    cJSON *claims = cJSON_CreateObject();
    cJSON_AddNumberToObject(claims, "exp", (double)exp);
    cJSON_AddNumberToObject(claims, "iat", (double)iat);
    cJSON_AddStringToObject(claims, "jti", jti);
    cJSON_AddStringToObject(claims, "resource", stage->arn);
    cJSON_AddStringToObject(claims, "topic", arn_id(stage->arn));
    cJSON_AddStringToObject(claims, "events_url", eng_str(endpoints, "events"));
    cJSON_AddStringToObject(claims, "whip_url", eng_str(endpoints, "whip"));
    if (cJSON_IsString(user))
        cJSON_AddStringToObject(claims, "user_id", user->valuestring);
    if (attrs)
        cJSON_AddItemToObject(claims, "attributes", cJSON_Duplicate(attrs, 1));
    cJSON *cl = cJSON_AddObjectToObject(claims, "capabilities");
    if (pub)
        cJSON_AddTrueToObject(cl, "allow_publish");
    if (sub)
        cJSON_AddTrueToObject(cl, "allow_subscribe");
    cJSON_AddStringToObject(claims, "version", "0.0");
    char *payload_text = cJSON_PrintUnformatted(claims);
    cJSON_Delete(claims);
    char *payload = payload_text ? emu_b64url_encode(payload_text, strlen(payload_text)) : NULL;
    free(payload_text);
    struct buf tok = BUF_INIT;
    buf_printf(&tok, "eyJhbGciOiJLTVMiLCJ0eXAiOiJKV1QifQ.%s", payload ? payload : "");
    char *sig = emu_kms_like_signature(tok.data, tok.len);
    buf_printf(&tok, ".%s", sig ? sig : "");
    free(payload);
    free(sig);

    char when[21];
    emu_iso_time((double)exp, when);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "participantId", jti);
    cJSON_AddStringToObject(t, "token", buf_str(&tok));
    if (cJSON_IsString(user))
        cJSON_AddStringToObject(t, "userId", user->valuestring);
    if (attrs)
        cJSON_AddItemToObject(t, "attributes", cJSON_Duplicate(attrs, 1));
    cJSON_AddNumberToObject(t, "duration", minutes);
    cJSON *tc = cJSON_AddArrayToObject(t, "capabilities");
    if (pub)
        cJSON_AddItemToArray(tc, cJSON_CreateString("PUBLISH"));
    if (sub)
        cJSON_AddItemToArray(tc, cJSON_CreateString("SUBSCRIBE"));
    cJSON_AddStringToObject(t, "expirationTime", when);
    buf_free(&tok);

    /* The record joins are checked against (the token itself is a secret: not kept). */
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "userId", cJSON_IsString(user) ? user->valuestring : "");
    cJSON_AddItemToObject(rec, "attributes",
                          attrs ? cJSON_Duplicate(attrs, 1) : cJSON_CreateObject());
    cJSON_AddBoolToObject(rec, "publish", pub);
    cJSON_AddBoolToObject(rec, "subscribe", sub);
    cJSON_AddNumberToObject(rec, "exp", (double)exp);
    eng_set(priv_object(stage, "tokens"), jti, rec);
    ctx->changed = 1;
    return t;
}

static int recording_rules(struct eng_ctx *ctx, struct eng_res *r)
{
    cJSON *rec = jitem(r->obj, "autoParticipantRecordingConfiguration");
    if (!cJSON_IsObject(rec)) {
        eng_set(r->obj, "autoParticipantRecordingConfiguration", cJSON_Parse(k_recording_defaults));
        return 0;
    }
    const char *storage = eng_str(rec, "storageConfigurationArn");
    if (optional_ref(ctx, K_STORAGE, storage) < 0)
        return -1;
    if (!storage || !*storage) {
        /* Turning recording off resets every other field to its default. */
        eng_set(r->obj, "autoParticipantRecordingConfiguration", cJSON_Parse(k_recording_defaults));
        return 0;
    }
    eng_merge_defaults(rec, k_recording_defaults);
    return 0;
}

static int stage_create(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in, cJSON *resp)
{
    if (recording_rules(ctx, r) != 0)
        return -1;
    stage_endpoints(ctx, r);
    const cJSON *cfgs = jitem(in, "participantTokenConfigurations"), *cfg;
    cJSON_ArrayForEach(cfg, cfgs)
    {
        if (!attributes_fit(ctx, jitem(cfg, "attributes")))
            return -1;
    }
    cJSON *tokens = cJSON_AddArrayToObject(resp, "participantTokens");
    cJSON_ArrayForEach(cfg, cfgs) cJSON_AddItemToArray(tokens, issue_token(ctx, r, cfg));
    return 0;
}

static cJSON *active_session(struct eng_res *stage)
{
    const char *id = eng_str(stage->obj, "activeSessionId");
    const cJSON *s;
    cJSON_ArrayForEach(s, jitem(stage->priv, "sessions"))
    {
        if (id && eng_streq(eng_str(s, "sessionId"), id))
            return (cJSON *)s;
    }
    return NULL;
}

static int stage_update(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in, cJSON *resp)
{
    (void)resp;
    if (jitem(in, "autoParticipantRecordingConfiguration")) {
        /* Recording settings cannot change under participants being recorded. */
        const cJSON *p;
        cJSON_ArrayForEach(p, jitem(active_session(r), "participants"))
        {
            const char *rs = eng_str(p, "recordingState");
            if (rs && !strcmp(rs, "ACTIVE")) {
                eng_error(ctx, 409, "ConflictException",
                          "The recording configuration cannot change while participants are "
                          "being recorded.");
                return -1;
            }
        }
    }
    return recording_rules(ctx, r);
}

static void create_participant_token(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *stage = eng_need(ctx, K_STAGE, eng_str(in, "stageArn"));
    if (!stage || !attributes_fit(ctx, jitem(in, "attributes")))
        return;
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(resp, "participantToken", issue_token(ctx, stage, in));
    eng_reply(ctx, resp);
}

/* ---- sessions, participants, events ---------------------------------------------------- */

static void stage_update_event(struct eng_ctx *ctx, struct eng_res *stage, const cJSON *session,
                               const cJSON *p, const char *name, const char *error)
{
    char when[32];
    eng_now_iso(when);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "session_id", eng_str(session, "sessionId"));
    cJSON_AddStringToObject(d, "event_name", name);
    cJSON_AddStringToObject(d, "event_time", when);
    cJSON_AddStringToObject(d, "user_id", eng_str(p, "userId") ? eng_str(p, "userId") : "");
    cJSON_AddStringToObject(d, "participant_id", eng_str(p, "participantId"));
    if (error)
        cJSON_AddStringToObject(d, "error_code", error);
    eng_emit(ctx, "IVS Stage Update", stage->arn, d);
}

/* Records a participant event (ListParticipantEvents); extra (taken) adds members. */
static void participant_event(cJSON *p, const char *name, cJSON *extra)
{
    char when[32];
    eng_now_iso(when);
    cJSON *e = extra ? extra : cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "participantId", eng_str(p, "participantId"));
    cJSON_AddStringToObject(e, "eventTime", when);
    if (cJSON_IsTrue(jitem(p, "_replica")))
        cJSON_AddTrueToObject(e, "replica");
    cJSON *events = jitem(p, "_events");
    if (!cJSON_IsArray(events)) {
        events = cJSON_CreateArray();
        cJSON_AddItemToObject(p, "_events", events);
    }
    cJSON_AddItemToArray(events, e);
    while (cJSON_GetArraySize(events) > EVENTS_PER_PARTICIPANT)
        cJSON_DeleteItemFromArray(events, 0);
}

static cJSON *session_start(struct eng_ctx *ctx, struct eng_res *stage)
{
    cJSON *s = active_session(stage);
    if (s)
        return s;
    char id[17], when[32];
    memcpy(id, "st-", 3);
    emu_random_alnum(id + 3, 13);
    eng_now_iso(when);
    s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "sessionId", id);
    cJSON_AddStringToObject(s, "startTime", when);
    cJSON_AddArrayToObject(s, "participants");
    cJSON_AddItemToArray(priv_array(stage, "sessions"), s);
    eng_set(stage->obj, "activeSessionId", cJSON_CreateString(id));
    ctx->changed = 1;
    return s;
}

static cJSON *find_participant(const cJSON *session, const char *id)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, jitem(session, "participants"))
    {
        if (id && eng_streq(eng_str(p, "participantId"), id))
            return (cJSON *)p;
    }
    return NULL;
}

static int connected(const cJSON *p)
{
    const char *st = eng_str(p, "state");
    return st && !strcmp(st, "CONNECTED");
}

static void session_end_if_empty(struct eng_ctx *ctx, struct eng_res *stage, cJSON *session)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, jitem(session, "participants"))
    {
        if (connected(p))
            return;
    }
    char when[32];
    eng_now_iso(when);
    eng_set(session, "endTime", cJSON_CreateString(when));
    cJSON_DeleteItemFromObjectCaseSensitive(stage->obj, "activeSessionId");
    ctx->changed = 1;
}

static void recording_event(struct eng_ctx *ctx, struct eng_res *stage, const cJSON *session,
                            const cJSON *p, const char *name)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "session_id", eng_str(session, "sessionId"));
    cJSON_AddStringToObject(d, "event_name", name);
    cJSON_AddStringToObject(d, "participant_id", eng_str(p, "participantId"));
    cJSON_AddStringToObject(d, "recording_s3_bucket_name", eng_str(p, "recordingS3BucketName"));
    cJSON_AddStringToObject(d, "recording_s3_key_prefix", eng_str(p, "recordingS3Prefix"));
    eng_emit(ctx, "IVS Participant Recording State Change", stage->arn, d);
}

/* Starts publishing; returns 0, or -1 after filling ctx->out (the failure is also recorded as
 * a PUBLISH_ERROR event, as the service reports it). */
static int publish(struct eng_ctx *ctx, struct eng_res *stage, cJSON *session, cJSON *p)
{
    if (cJSON_IsTrue(jitem(p, "published")))
        return 0;
    const char *error = NULL;
    if (!cJSON_IsTrue(jitem(p, "_publish")))
        error = "INSUFFICIENT_CAPABILITIES";
    int publishers = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, jitem(session, "participants")) publishers +=
        connected(o) && cJSON_IsTrue(jitem(o, "published"));
    if (!error && publishers >= PUBLISHERS_PER_STAGE)
        error = "QUOTA_EXCEEDED";
    if (error) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "errorCode", error);
        participant_event(p, "PUBLISH_ERROR", x);
        stage_update_event(ctx, stage, session, p, "Participant Publish Error", error);
        eng_error(ctx, 409, "ConflictException", "The participant cannot publish: %s.", error);
        return -1;
    }
    eng_set(p, "published", cJSON_CreateTrue());
    participant_event(p, "PUBLISH_STARTED", NULL);
    stage_update_event(ctx, stage, session, p, "Participant Published", NULL);
    const cJSON *rec = jitem(stage->obj, "autoParticipantRecordingConfiguration");
    const char *storage_arn = eng_str(rec, "storageConfigurationArn");
    struct eng_res *storage =
        storage_arn && *storage_arn ? eng_find(ctx->part, ctx->svc, K_STORAGE, storage_arn) : NULL;
    int replica = cJSON_IsTrue(jitem(p, "_replica"));
    if (storage && (!replica || cJSON_IsTrue(jitem(rec, "recordParticipantReplicas")))) {
        char when[32], prefix[256];
        eng_now_iso(when);
        /* {stageId}/{sessionId}/{participantId}/{YYYY-MM-DDTHH-MM-SSZ} */
        snprintf(prefix, sizeof prefix, "%s/%s/%s/%.10sT%.2s-%.2s-%.2sZ", arn_id(stage->arn),
                 eng_str0(session, "sessionId"), eng_str0(p, "participantId"), when, when + 11,
                 when + 14, when + 17);
        eng_set(p, "recordingS3BucketName",
                cJSON_CreateString(eng_str(jitem(storage->obj, "s3"), "bucketName")));
        eng_set(p, "recordingS3Prefix", cJSON_CreateString(prefix));
        eng_set(p, "recordingState", cJSON_CreateString("ACTIVE"));
        recording_event(ctx, stage, session, p, "Recording Start");
    }
    ctx->changed = 1;
    return 0;
}

static void unpublish(struct eng_ctx *ctx, struct eng_res *stage, cJSON *session, cJSON *p)
{
    if (!cJSON_IsTrue(jitem(p, "published")))
        return;
    eng_set(p, "published", cJSON_CreateFalse());
    participant_event(p, "PUBLISH_STOPPED", NULL);
    stage_update_event(ctx, stage, session, p, "Participant Unpublished", NULL);
    const char *rs = eng_str(p, "recordingState");
    if (rs && !strcmp(rs, "ACTIVE")) {
        eng_set(p, "recordingState", cJSON_CreateString("STOPPED"));
        recording_event(ctx, stage, session, p, "Recording End");
    }
    ctx->changed = 1;
}

static void stop_replications_of(struct eng_ctx *ctx, struct eng_res *stage, cJSON *p);

/* A participant leaves (DisconnectParticipant, the admin API, DeleteStage). */
static void leave(struct eng_ctx *ctx, struct eng_res *stage, cJSON *session, cJSON *p,
                  const char *reason)
{
    if (!connected(p))
        return;
    stop_replications_of(ctx, stage, p);
    unpublish(ctx, stage, session, p);
    eng_set(p, "state", cJSON_CreateString("DISCONNECTED"));
    cJSON *x = NULL;
    if (reason) {
        x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "_reason", reason);
    }
    participant_event(p, "LEFT", x);
    /* An ingest publisher leaving makes its configuration inactive. */
    const char *ingest = eng_str(p, "ingestConfigurationArn");
    struct eng_res *ic = ingest ? eng_find(ctx->part, ctx->svc, K_INGEST, ingest) : NULL;
    if (ic)
        eng_set(ic->obj, "state", cJSON_CreateString("INACTIVE"));
    ctx->changed = 1;
    session_end_if_empty(ctx, stage, session);
}

/* Joins a stage as a participant; the token's facts are in tok (userId, attributes,
 * publish, subscribe). Returns the participant or NULL after filling ctx->out. */
static cJSON *join(struct eng_ctx *ctx, struct eng_res *stage, const char *participant_id,
                   const cJSON *tok, const cJSON *client)
{
    cJSON *session = active_session(stage);
    cJSON *old = session ? find_participant(session, participant_id) : NULL;
    if (old && connected(old)) {
        eng_error(ctx, 409, "ConflictException", "Participant %s is already connected.",
                  participant_id);
        return NULL;
    }
    session = session_start(ctx, stage);
    char when[32];
    eng_now_iso(when);
    cJSON *p = old;
    if (!p) {
        p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "participantId", participant_id);
        cJSON_AddStringToObject(p, "firstJoinTime", when);
        cJSON_AddItemToArray(jitem(session, "participants"), p);
    }
    eng_set(p, "userId", cJSON_CreateString(eng_str(tok, "userId") ? eng_str(tok, "userId") : ""));
    const cJSON *attrs = jitem(tok, "attributes");
    eng_set(p, "attributes", attrs ? cJSON_Duplicate(attrs, 1) : cJSON_CreateObject());
    eng_set(p, "state", cJSON_CreateString("CONNECTED"));
    eng_set(p, "published", cJSON_CreateFalse());
    static const char *const client_keys[] = {
        "ispName", "osName", "osVersion", "browserName", "browserVersion", "sdkVersion", NULL};
    for (const char *const *k = client_keys; *k; k++) {
        const char *v = eng_str(client, *k);
        eng_set(p, *k, cJSON_CreateString(v ? v : ""));
    }
    eng_set(p, "protocol",
            cJSON_CreateString(eng_str(tok, "protocol") ? eng_str(tok, "protocol") : "WHIP"));
    eng_set(p, "recordingS3BucketName", cJSON_CreateString(""));
    eng_set(p, "recordingS3Prefix", cJSON_CreateString(""));
    eng_set(p, "recordingState", cJSON_CreateString("DISABLED"));
    if (!jitem(p, "replicationType"))
        cJSON_AddStringToObject(p, "replicationType", "NONE");
    eng_set(p, "_publish", cJSON_CreateBool(cJSON_IsTrue(jitem(tok, "publish"))));
    eng_set(p, "_subscribe", cJSON_CreateBool(cJSON_IsTrue(jitem(tok, "subscribe"))));
    participant_event(p, "JOINED", NULL);
    ctx->changed = 1;
    return p;
}

/* ---- the session operations -------------------------------------------------------------- */

static cJSON *find_session(struct eng_res *stage, const char *id)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, jitem(stage->priv, "sessions"))
    {
        if (id && eng_streq(eng_str(s, "sessionId"), id))
            return (cJSON *)s;
    }
    return NULL;
}

/* The stage and session an input names: 404 for either. */
static cJSON *need_session(struct eng_ctx *ctx, const cJSON *in, struct eng_res **stage_out)
{
    struct eng_res *stage = eng_need(ctx, K_STAGE, eng_str(in, "stageArn"));
    if (!stage)
        return NULL;
    cJSON *s = find_session(stage, eng_str(in, "sessionId"));
    if (!s)
        eng_error(ctx, 404, "ResourceNotFoundException", "Stage session %s not found.",
                  eng_str(in, "sessionId"));
    if (stage_out)
        *stage_out = stage;
    return s;
}

static void get_stage_session(struct eng_ctx *ctx, const cJSON *in)
{
    cJSON *s = need_session(ctx, in, NULL);
    if (!s)
        return;
    cJSON *resp = cJSON_CreateObject();
    const struct model_member *m = model_find_member(ctx->op->output, "stageSession");
    cJSON_AddItemToObject(resp, "stageSession", eng_project(s, m ? m->shape : NULL));
    eng_reply(ctx, resp);
}

/* Newest first: the order the service's examples show. */
static cJSON *reversed_projection(const cJSON *arr, const struct model_shape *shape,
                                  int (*keep)(const cJSON *item, const cJSON *in), const cJSON *in)
{
    cJSON *out = cJSON_CreateArray();
    for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--) {
        const cJSON *item = cJSON_GetArrayItem(arr, i);
        if (!keep || keep(item, in))
            cJSON_AddItemToArray(out, eng_project(item, shape));
    }
    return out;
}

static void list_stage_sessions(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *stage = eng_need(ctx, K_STAGE, eng_str(in, "stageArn"));
    if (!stage)
        return;
    cJSON *items =
        reversed_projection(jitem(stage->priv, "sessions"), eng_result_shape(ctx), NULL, in);
    cJSON *resp = cJSON_CreateObject();
    if (eng_page(ctx, in, items, "stageSessions", stage->arn, 50, resp) == 0)
        eng_reply(ctx, resp);
    else
        cJSON_Delete(resp);
}

static void get_participant(struct eng_ctx *ctx, const cJSON *in)
{
    cJSON *s = need_session(ctx, in, NULL);
    if (!s)
        return;
    cJSON *p = find_participant(s, eng_str(in, "participantId"));
    if (!p) {
        eng_error(ctx, 404, "ResourceNotFoundException", "Participant %s not found.",
                  eng_str(in, "participantId"));
        return;
    }
    cJSON *resp = cJSON_CreateObject();
    const struct model_member *m = model_find_member(ctx->op->output, "participant");
    cJSON_AddItemToObject(resp, "participant", eng_project(p, m ? m->shape : NULL));
    eng_reply(ctx, resp);
}

static int participant_filter(const cJSON *p, const cJSON *in)
{
    const cJSON *f;
    if ((f = jitem(in, "filterByUserId")))
        return cJSON_IsString(f) && eng_streq(eng_str(p, "userId"), f->valuestring);
    if ((f = jitem(in, "filterByPublished")))
        return cJSON_IsTrue(f) == cJSON_IsTrue(jitem(p, "published"));
    if ((f = jitem(in, "filterByState")))
        return cJSON_IsString(f) && eng_streq(eng_str(p, "state"), f->valuestring);
    if ((f = jitem(in, "filterByRecordingState")))
        return cJSON_IsString(f) && eng_streq(eng_str(p, "recordingState"), f->valuestring);
    return 1;
}

static void list_participants(struct eng_ctx *ctx, const cJSON *in)
{
    static const char *const filters[] = {"filterByUserId", "filterByPublished", "filterByState",
                                          "filterByRecordingState", NULL};
    int given = 0;
    struct buf fp = BUF_INIT;
    for (const char *const *f = filters; *f; f++) {
        const cJSON *v = jitem(in, *f);
        if (!v)
            continue;
        given++;
        char *text = cJSON_PrintUnformatted(v);
        buf_printf(&fp, "%s=%s;", *f, text ? text : "");
        free(text);
    }
    if (given > 1) {
        buf_free(&fp);
        eng_error(ctx, 400, "ValidationException", "Only one filter may be given per request.");
        return;
    }
    cJSON *s = need_session(ctx, in, NULL);
    if (!s) {
        buf_free(&fp);
        return;
    }
    buf_printf(&fp, "%s", eng_str0(s, "sessionId"));
    cJSON *items = cJSON_CreateArray();
    const cJSON *p;
    cJSON_ArrayForEach(p, jitem(s, "participants"))
    {
        if (participant_filter(p, in))
            cJSON_AddItemToArray(items, eng_project(p, eng_result_shape(ctx)));
    }
    cJSON *resp = cJSON_CreateObject();
    if (eng_page(ctx, in, items, "participants", buf_str(&fp), 50, resp) == 0)
        eng_reply(ctx, resp);
    else
        cJSON_Delete(resp);
    buf_free(&fp);
}

static void list_participant_events(struct eng_ctx *ctx, const cJSON *in)
{
    cJSON *s = need_session(ctx, in, NULL);
    if (!s)
        return;
    const char *id = eng_str(in, "participantId");
    cJSON *p = find_participant(s, id);
    if (!p) {
        eng_error(ctx, 404, "ResourceNotFoundException", "Participant %s not found.", id);
        return;
    }
    cJSON *items = reversed_projection(jitem(p, "_events"), eng_result_shape(ctx), NULL, in);
    cJSON *resp = cJSON_CreateObject();
    char fp[128];
    snprintf(fp, sizeof fp, "%s|%s", eng_str0(s, "sessionId"), id);
    if (eng_page(ctx, in, items, "events", fp, 50, resp) == 0)
        eng_reply(ctx, resp);
    else
        cJSON_Delete(resp);
}

static void disconnect_participant(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *stage = eng_need(ctx, K_STAGE, eng_str(in, "stageArn"));
    if (!stage)
        return;
    const char *id = eng_str(in, "participantId");
    cJSON *session = active_session(stage);
    cJSON *p = session ? find_participant(session, id) : NULL;
    cJSON *tokens = jitem(stage->priv, "tokens");
    cJSON *tok = id ? jitem(tokens, id) : NULL;
    if (p && connected(p)) {
        /* The participant is disconnected and its token cannot join again. */
        leave(ctx, stage, session, p, eng_str(in, "reason"));
        const char *ingest = eng_str(p, "ingestConfigurationArn");
        struct eng_res *ic = ingest ? eng_find(ctx->part, ctx->svc, K_INGEST, ingest) : NULL;
        if (ic)
            eng_set(ic->obj, "stageArn", cJSON_CreateString(""));
    } else if (!tok) {
        eng_error(ctx, 404, "ResourceNotFoundException", "Participant %s not found.", id);
        return;
    }
    if (tok)
        eng_set(tok, "revoked", cJSON_CreateTrue());
    else {
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddTrueToObject(rec, "revoked");
        eng_set(priv_object(stage, "tokens"), id, rec);
    }
    ctx->changed = 1;
    eng_reply(ctx, NULL);
}

/* ---- deleting a stage -------------------------------------------------------------------- */

static void composition_stop(struct eng_ctx *ctx, struct eng_res *c, const char *state);

static int stop_compositions_on(struct eng_res *c, void *arg)
{
    struct eng_ctx *ctx = ((void **)arg)[0];
    const char *stage = ((void **)arg)[1];
    if (eng_streq(eng_str(c->obj, "stageArn"), stage))
        composition_stop(ctx, c, "STOPPED");
    return 0;
}

static int blank_ingest_stage(struct eng_res *ic, void *arg)
{
    const char *stage = arg;
    if (eng_streq(eng_str(ic->obj, "stageArn"), stage)) {
        eng_touch(ic);
        eng_set(ic->obj, "stageArn", cJSON_CreateString(""));
        eng_set(ic->obj, "state", cJSON_CreateString("INACTIVE"));
    }
    return 0;
}

static int stage_delete(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in)
{
    (void)in;
    cJSON *session = active_session(r);
    cJSON *p;
    cJSON_ArrayForEach(p, jitem(session, "participants"))
        leave(ctx, r, session, p, "stage deleted");
    void *arg[2] = {ctx, r->arn};
    eng_each(ctx->part, ctx->svc, K_COMPOSITION, stop_compositions_on, arg);
    eng_each(ctx->part, ctx->svc, K_INGEST, blank_ingest_stage, r->arn);
    return 0;
}

/* ---- public keys, encoder and storage configurations ------------------------------------- */

struct fp_hit {
    const char *fingerprint;
    const struct eng_res *self;
    const char *arn;
};

static int same_fingerprint(struct eng_res *r, void *arg)
{
    struct fp_hit *h = arg;
    const char *fp = eng_str(r->obj, "fingerprint");
    if (r != h->self && fp && !strcmp(fp, h->fingerprint)) {
        h->arn = r->arn;
        return 1;
    }
    return 0;
}

static int public_key_import(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in, cJSON *resp)
{
    (void)resp;
    char fp[48];
    const char *why = NULL;
    if (emu_p384_fingerprint(eng_str(in, "publicKeyMaterial"), fp, &why) != 0) {
        eng_error(ctx, 400, "ValidationException", "%s", why);
        return -1;
    }
    struct fp_hit h = {fp, r, NULL};
    if (eng_each(ctx->part, ctx->svc, K_PUBKEY, same_fingerprint, &h)) {
        eng_error(ctx, 409, "ConflictException", "This public key is already imported as %s.",
                  h.arn);
        return -1;
    }
    eng_set(r->obj, "fingerprint", cJSON_CreateString(fp));
    return 0;
}

static int encoder_rules(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in, cJSON *resp)
{
    (void)in;
    (void)resp;
    const cJSON *v = jitem(r->obj, "video");
    double w = cJSON_GetNumberValue(jitem(v, "width")),
           h = cJSON_GetNumberValue(jitem(v, "height"));
    if ((long)w % 2 || (long)h % 2) {
        eng_error(ctx, 400, "ValidationException", "video width and height must be even.");
        return -1;
    }
    if (w * h > 1920.0 * 1080.0) {
        eng_error(ctx, 400, "ValidationException",
                  "video width x height may be at most 2,073,600 (1920x1080 or 1080x1920).");
        return -1;
    }
    return 0;
}

static int composition_live(const struct eng_res *c)
{
    const char *st = eng_str(c->obj, "state");
    return st && strcmp(st, "STOPPED") != 0 && strcmp(st, "FAILED") != 0;
}

/* Does a live composition reference this ARN (as encoder or storage configuration)? */
static int composition_uses(const struct eng_res *c, const char *arn)
{
    if (!composition_live(c))
        return 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, jitem(c->obj, "destinations"))
    {
        const cJSON *cfg = jitem(d, "configuration");
        const cJSON *ch = jitem(cfg, "channel"), *s3 = jitem(cfg, "s3");
        const char *enc = eng_str(ch, "encoderConfigurationArn");
        const char *st = eng_str(s3, "storageConfigurationArn");
        if ((enc && !strcmp(enc, arn)) || (st && !strcmp(st, arn)))
            return 1;
        const cJSON *e;
        cJSON_ArrayForEach(e, jitem(s3, "encoderConfigurationArns"))
        {
            if (cJSON_IsString(e) && !strcmp(e->valuestring, arn))
                return 1;
        }
    }
    return 0;
}

struct use_hit {
    const char *arn;
    const char *by;
};

static int composition_uses_walk(struct eng_res *c, void *arg)
{
    struct use_hit *u = arg;
    if (composition_uses(c, u->arn)) {
        u->by = c->arn;
        return 1;
    }
    return 0;
}

static int stage_records_to(struct eng_res *s, void *arg)
{
    struct use_hit *u = arg;
    const char *st =
        eng_str(jitem(s->obj, "autoParticipantRecordingConfiguration"), "storageConfigurationArn");
    if (st && !strcmp(st, u->arn)) {
        u->by = s->arn;
        return 1;
    }
    return 0;
}

/* Deleting an encoder or storage configuration that a live composition (or, for storage, a
 * stage's participant recording) uses is a conflict. */
static int config_in_use(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in)
{
    (void)in;
    struct use_hit u = {r->arn, NULL};
    if (eng_each(ctx->part, ctx->svc, K_COMPOSITION, composition_uses_walk, &u) ||
        (r->kind == K_STORAGE && eng_each(ctx->part, ctx->svc, K_STAGE, stage_records_to, &u))) {
        eng_error(ctx, 409, "ConflictException", "%s is in use by %s.", r->arn, u.by);
        return -1;
    }
    return 0;
}

/* ---- compositions ------------------------------------------------------------------------ */

static void composition_event(struct eng_ctx *ctx, struct eng_res *c, const char *name,
                              const char *destination_id)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "event_name", name);
    cJSON_AddStringToObject(d, "stage_arn", eng_str(c->obj, "stageArn"));
    if (destination_id)
        cJSON_AddStringToObject(d, "destination_id", destination_id);
    eng_emit(ctx, "IVS Composition State Change", c->arn, d);
}

static void composition_stop(struct eng_ctx *ctx, struct eng_res *c, const char *state)
{
    if (!composition_live(c))
        return;
    eng_touch(c);
    char when[32];
    eng_now_iso(when);
    cJSON *d;
    cJSON_ArrayForEach(d, jitem(c->obj, "destinations"))
    {
        eng_set(d, "state", cJSON_CreateString("STOPPED"));
        eng_set(d, "endTime", cJSON_CreateString(when));
        composition_event(ctx, c, "Destination End", eng_str(d, "id"));
    }
    eng_set(c->obj, "state", cJSON_CreateString(state));
    eng_set(c->obj, "endTime", cJSON_CreateString(when));
    composition_event(ctx, c, "Session End", NULL);
    ctx->changed = 1;
}

struct comp_count {
    const char *stage;
    const char *token;
    size_t account, on_stage;
    struct eng_res *same_token;
};

static int count_compositions(struct eng_res *c, void *arg)
{
    struct comp_count *n = arg;
    const char *tok = eng_str(c->priv, "idempotencyToken");
    if (n->token && tok && !strcmp(tok, n->token))
        n->same_token = c;
    if (!composition_live(c))
        return 0;
    n->account++;
    if (eng_streq(eng_str(c->obj, "stageArn"), n->stage))
        n->on_stage++;
    return 0;
}

static int destination_config(struct eng_ctx *ctx, cJSON *cfg, int *channels, int *s3s)
{
    cJSON *ch = jitem(cfg, "channel"), *s3 = jitem(cfg, "s3");
    if (!ch == !s3) {
        eng_error(ctx, 400, "ValidationException",
                  "Each destination needs exactly one of channel or s3.");
        return -1;
    }
    if (!jitem(cfg, "name"))
        cJSON_AddStringToObject(cfg, "name", "");
    if (ch) {
        const char *arn = eng_str(ch, "channelArn");
        if (++*channels > 1) {
            eng_error(ctx, 400, "ValidationException", "At most one channel destination.");
            return -1;
        }
        if (!eng_ivs_exists(ctx, arn)) {
            eng_not_found(ctx, arn);
            return -1;
        }
        return optional_ref(ctx, K_ENCODER, eng_str(ch, "encoderConfigurationArn")) < 0 ? -1 : 0;
    }
    if (++*s3s > 1) {
        eng_error(ctx, 400, "ValidationException", "At most one s3 destination.");
        return -1;
    }
    if (!eng_need(ctx, K_STORAGE, eng_str(s3, "storageConfigurationArn")))
        return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, jitem(s3, "encoderConfigurationArns"))
    {
        if (!eng_need(ctx, K_ENCODER, cJSON_IsString(e) ? e->valuestring : NULL))
            return -1;
    }
    eng_merge_defaults(s3, "{\"recordingConfiguration\":{\"format\":\"HLS\","
                           "\"hlsConfiguration\":{\"targetSegmentDurationSeconds\":2}}}");
    cJSON *thumbs = jitem(s3, "thumbnailConfigurations"), *t;
    cJSON_ArrayForEach(t, thumbs) eng_merge_defaults(t, "{\"targetIntervalSeconds\":60,"
                                                        "\"storage\":[\"SEQUENTIAL\"]}");
    return 0;
}

static const char k_grid_defaults[] =
    "{\"featuredParticipantAttribute\":\"\",\"gridGap\":2,\"omitStoppedVideo\":false,"
    "\"participantOrderAttribute\":\"\",\"videoAspectRatio\":\"VIDEO\",\"videoFillMode\":\"\"}";
static const char k_pip_defaults[] =
    "{\"featuredParticipantAttribute\":\"\",\"gridGap\":0,\"omitStoppedVideo\":false,"
    "\"participantOrderAttribute\":\"\",\"pipBehavior\":\"STATIC\",\"pipOffset\":0,"
    "\"pipParticipantAttribute\":\"\",\"pipPosition\":\"BOTTOM_RIGHT\",\"videoFillMode\":"
    "\"COVER\"}";

static void start_composition(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *stage = eng_need(ctx, K_STAGE, eng_str(in, "stageArn"));
    if (!stage)
        return;
    struct comp_count n = {stage->arn, eng_str(in, "idempotencyToken"), 0, 0, NULL};
    eng_each(ctx->part, ctx->svc, K_COMPOSITION, count_compositions, &n);
    const struct model_member *wrap = model_find_member(ctx->op->output, "composition");
    if (n.same_token) {
        /* The same client token: the same composition, not a second one. */
        cJSON *resp = cJSON_CreateObject();
        cJSON_AddItemToObject(resp, "composition",
                              eng_project(n.same_token->obj, wrap ? wrap->shape : NULL));
        eng_reply(ctx, resp);
        return;
    }
    if (n.on_stage >= COMPOSITIONS_PER_STAGE || n.account >= COMPOSITIONS_PER_ACCOUNT) {
        eng_error(ctx, 402, "ServiceQuotaExceededException",
                  "Composition quota exceeded (%d per stage, %d per account).",
                  COMPOSITIONS_PER_STAGE, COMPOSITIONS_PER_ACCOUNT);
        return;
    }
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "stageArn", stage->arn);
    cJSON_AddStringToObject(obj, "state", "ACTIVE");
    cJSON *layout = cJSON_Duplicate(jitem(in, "layout"), 1);
    if (!cJSON_IsObject(layout) || !layout->child) {
        cJSON_Delete(layout);
        layout = cJSON_Parse("{\"grid\":{}}");
    }
    if (jitem(layout, "grid"))
        eng_merge_defaults(jitem(layout, "grid"), k_grid_defaults);
    if (jitem(layout, "pip"))
        eng_merge_defaults(jitem(layout, "pip"), k_pip_defaults);
    cJSON_AddItemToObject(obj, "layout", layout);
    char when[32];
    eng_now_iso(when);
    cJSON *dests = cJSON_AddArrayToObject(obj, "destinations");
    int channels = 0, s3s = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, jitem(in, "destinations"))
    {
        cJSON *cfg = cJSON_Duplicate(d, 1);
        if (destination_config(ctx, cfg, &channels, &s3s) != 0) {
            cJSON_Delete(cfg);
            cJSON_Delete(obj);
            return;
        }
        char id[13];
        emu_random_alnum(id, 12);
        cJSON *dest = cJSON_CreateObject();
        cJSON_AddStringToObject(dest, "id", id);
        cJSON_AddStringToObject(dest, "state", "ACTIVE");
        cJSON_AddStringToObject(dest, "startTime", when);
        cJSON_AddItemToObject(dest, "configuration", cfg);
        cJSON_AddItemToArray(dests, dest);
    }
    cJSON_AddItemToObject(obj, "tags",
                          jitem(in, "tags") ? cJSON_Duplicate(jitem(in, "tags"), 1)
                                            : cJSON_CreateObject());
    cJSON_AddStringToObject(obj, "startTime", when);
    struct eng_res *c = eng_create(ctx, K_COMPOSITION, obj);
    if (!c)
        return;
    cJSON *dest;
    cJSON_ArrayForEach(dest, jitem(c->obj, "destinations"))
    {
        if (jitem(jitem(dest, "configuration"), "s3")) {
            /* {12 alnum}/{compositionId}/{destinationId}/composite */
            char head[13], prefix[128];
            emu_random_alnum(head, 12);
            snprintf(prefix, sizeof prefix, "%s/%s/%s/composite", head, arn_id(c->arn),
                     eng_str(dest, "id"));
            cJSON *detail = cJSON_AddObjectToObject(dest, "detail");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(detail, "s3"), "recordingPrefix",
                                    prefix);
        }
    }
    if (n.token)
        eng_set(c->priv, "idempotencyToken", cJSON_CreateString(n.token));
    composition_event(ctx, c, "Session Start", NULL);
    cJSON_ArrayForEach(dest, jitem(c->obj, "destinations"))
        composition_event(ctx, c, "Destination Start", eng_str(dest, "id"));
    /* The first answer shows everything still starting. */
    cJSON *first = eng_project(c->obj, wrap ? wrap->shape : NULL);
    eng_set(first, "state", cJSON_CreateString("STARTING"));
    cJSON_ArrayForEach(dest, jitem(first, "destinations"))
    {
        eng_set(dest, "state", cJSON_CreateString("STARTING"));
        cJSON_DeleteItemFromObjectCaseSensitive(dest, "startTime");
    }
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(resp, "composition", first);
    eng_reply(ctx, resp);
}

static void stop_composition(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *c = eng_need(ctx, K_COMPOSITION, eng_str(in, "arn"));
    if (!c)
        return;
    composition_stop(ctx, c, "STOPPED");
    eng_reply(ctx, NULL);
}

static int composition_by_encoder(const struct eng_res *c, const cJSON *value)
{
    const char *arn = cJSON_IsString(value) ? value->valuestring : "";
    const cJSON *d;
    cJSON_ArrayForEach(d, jitem(c->obj, "destinations"))
    {
        const cJSON *cfg = jitem(d, "configuration");
        const char *enc = eng_str(jitem(cfg, "channel"), "encoderConfigurationArn");
        if (enc && !strcmp(enc, arn))
            return 1;
        const cJSON *e;
        cJSON_ArrayForEach(e, jitem(jitem(cfg, "s3"), "encoderConfigurationArns"))
        {
            if (cJSON_IsString(e) && !strcmp(e->valuestring, arn))
                return 1;
        }
    }
    return 0;
}

/* ---- ingest configurations ---------------------------------------------------------------- */

static void stream_key(struct eng_ctx *ctx, const char *id, char out[160])
{
    char secret[33];
    emu_random_alnum(secret, 32);
    snprintf(out, 160, "rt_%s_%s_%s_%s", ctx->account, ctx->region, id, secret);
}

static int ingest_create(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in, cJSON *resp)
{
    (void)resp;
    if (optional_ref(ctx, K_STAGE, eng_str(r->obj, "stageArn")) < 0 ||
        !attributes_fit(ctx, jitem(in, "attributes")))
        return -1;
    char pid[13], key[160];
    emu_random_alnum(pid, 12);
    stream_key(ctx, arn_id(r->arn), key);
    eng_set(r->obj, "participantId", cJSON_CreateString(pid));
    eng_set(r->obj, "streamKey", cJSON_CreateString(key));
    if (cJSON_IsTrue(jitem(r->obj, "redundantIngest"))) {
        cJSON *creds = cJSON_CreateArray();
        cJSON *c = cJSON_CreateObject();
        emu_random_alnum(pid, 12);
        stream_key(ctx, arn_id(r->arn), key);
        cJSON_AddStringToObject(c, "participantId", pid);
        cJSON_AddStringToObject(c, "streamKey", key);
        cJSON_AddItemToArray(creds, c);
        eng_set(r->obj, "redundantIngestCredentials", creds);
    }
    return 0;
}

static int ingest_active(const struct eng_res *r)
{
    const char *st = eng_str(r->obj, "state");
    return st && !strcmp(st, "ACTIVE");
}

static int ingest_not_active(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in)
{
    (void)in;
    if (ingest_active(r)) {
        eng_error(ctx, 409, "ConflictException",
                  "Ingest configuration %s is publishing; it cannot be updated now.", r->arn);
        return -1;
    }
    return 0;
}

static int ingest_update(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in, cJSON *resp)
{
    (void)resp;
    if (optional_ref(ctx, K_STAGE, eng_str(r->obj, "stageArn")) < 0)
        return -1;
    const cJSON *red = jitem(in, "redundantIngest");
    if (cJSON_IsFalse(red))
        cJSON_DeleteItemFromObjectCaseSensitive(r->obj, "redundantIngestCredentials");
    else if (cJSON_IsTrue(red) && !jitem(r->obj, "redundantIngestCredentials")) {
        char pid[13], key[160];
        emu_random_alnum(pid, 12);
        stream_key(ctx, arn_id(r->arn), key);
        cJSON *creds = cJSON_CreateArray(), *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "participantId", pid);
        cJSON_AddStringToObject(c, "streamKey", key);
        cJSON_AddItemToArray(creds, c);
        eng_set(r->obj, "redundantIngestCredentials", creds);
    }
    return 0;
}

static int ingest_deletable(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in)
{
    if (ingest_active(r) && !cJSON_IsTrue(jitem(in, "force"))) {
        eng_error(ctx, 409, "ConflictException",
                  "Ingest configuration %s is publishing; delete it with force.", r->arn);
        return -1;
    }
    return 0;
}

/* Forced delete of an active configuration disconnects its publisher first. */
static int ingest_delete(struct eng_ctx *ctx, struct eng_res *r, const cJSON *in)
{
    (void)in;
    struct eng_res *stage = eng_find(ctx->part, ctx->svc, K_STAGE, eng_str(r->obj, "stageArn"));
    cJSON *session = stage ? active_session(stage) : NULL;
    cJSON *p = session ? find_participant(session, eng_str(r->obj, "participantId")) : NULL;
    if (p)
        leave(ctx, stage, session, p, "ingest configuration deleted");
    return 0;
}

/* ---- replication -------------------------------------------------------------------------- */

static cJSON *find_replica(struct eng_res *src, const char *pid, const char *dest, int active)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, jitem(src->priv, "replicas"))
    {
        const char *st = eng_str(r, "replicationState");
        if (eng_streq(eng_str(r, "participantId"), pid) &&
            (!dest || eng_streq(eng_str(r, "destinationStageArn"), dest)) &&
            (!active || (st && !strcmp(st, "ACTIVE"))))
            return (cJSON *)r;
    }
    return NULL;
}

static void replica_stop(struct eng_ctx *ctx, struct eng_res *src, cJSON *src_p, cJSON *rep)
{
    eng_set(rep, "replicationState", cJSON_CreateString("STOPPED"));
    struct eng_res *dst =
        eng_find(ctx->part, ctx->svc, K_STAGE, eng_str(rep, "destinationStageArn"));
    cJSON *dsession = dst ? active_session(dst) : NULL;
    cJSON *dp = dsession ? find_participant(dsession, eng_str(rep, "participantId")) : NULL;
    if (dp && connected(dp)) {
        eng_set(dp, "replicationState", cJSON_CreateString("STOPPED"));
        leave(ctx, dst, dsession, dp, NULL);
    }
    if (src_p) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "destinationStageArn", eng_str(rep, "destinationStageArn"));
        cJSON_AddStringToObject(x, "destinationSessionId", eng_str(rep, "destinationSessionId"));
        participant_event(src_p, "REPLICATION_STOPPED", x);
        if (!find_replica(src, eng_str(rep, "participantId"), NULL, 1))
            eng_set(src_p, "replicationState", cJSON_CreateString("STOPPED"));
        stage_update_event(ctx, src, active_session(src), src_p, "Participant Replication Stopped",
                           NULL);
    }
    ctx->changed = 1;
}

static void stop_replications_of(struct eng_ctx *ctx, struct eng_res *stage, cJSON *p)
{
    const char *pid = eng_str(p, "participantId");
    cJSON *rep;
    while ((rep = find_replica(stage, pid, NULL, 1)))
        replica_stop(ctx, stage, p, rep);
}

static void start_replication(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *src = eng_need(ctx, K_STAGE, eng_str(in, "sourceStageArn"));
    struct eng_res *dst = src ? eng_need(ctx, K_STAGE, eng_str(in, "destinationStageArn")) : NULL;
    if (!dst)
        return;
    const char *pid = eng_str(in, "participantId");
    if (src == dst) {
        eng_error(ctx, 400, "ValidationException",
                  "The source and destination stages must differ.");
        return;
    }
    cJSON *session = active_session(src);
    cJSON *p = session ? find_participant(session, pid) : NULL;
    if (!p || !connected(p)) {
        eng_error(ctx, 404, "ResourceNotFoundException",
                  "Participant %s is not connected to the source stage.", pid);
        return;
    }
    if (!cJSON_IsTrue(jitem(p, "published"))) {
        eng_error(ctx, 409, "ConflictException", "Participant %s is not publishing.", pid);
        return;
    }
    if (find_replica(src, pid, dst->arn, 1)) {
        eng_error(ctx, 409, "ConflictException",
                  "Participant %s is already replicated to that stage.", pid);
        return;
    }
    int active = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, jitem(src->priv, "replicas"))
    {
        const char *st = eng_str(r, "replicationState");
        active += eng_streq(eng_str(r, "participantId"), pid) && st && !strcmp(st, "ACTIVE");
    }
    if (active >= REPLICAS_PER_PARTICIPANT) {
        eng_error(ctx, 402, "ServiceQuotaExceededException",
                  "At most %d concurrent replications per participant.", REPLICAS_PER_PARTICIPANT);
        return;
    }
    /* The replica carries the participant's attributes with the new ones merged over them. */
    cJSON *tok = cJSON_CreateObject();
    cJSON_AddStringToObject(tok, "userId", eng_str(p, "userId"));
    cJSON *attrs = cJSON_Duplicate(jitem(p, "attributes"), 1);
    if (!attrs)
        attrs = cJSON_CreateObject();
    const cJSON *a;
    cJSON_ArrayForEach(a, jitem(in, "attributes")) eng_set(attrs, a->string, cJSON_Duplicate(a, 1));
    cJSON_AddItemToObject(tok, "attributes", attrs);
    cJSON_AddTrueToObject(tok, "publish");
    cJSON_AddStringToObject(tok, "protocol", eng_str(p, "protocol"));
    cJSON *dp = join(ctx, dst, pid, tok, p);
    cJSON_Delete(tok);
    if (!dp)
        return;
    cJSON *dsession = active_session(dst);
    eng_set(dp, "_replica", cJSON_CreateTrue());
    eng_set(dp, "replicationType", cJSON_CreateString("REPLICA"));
    eng_set(dp, "replicationState", cJSON_CreateString("ACTIVE"));
    eng_set(dp, "sourceStageArn", cJSON_CreateString(src->arn));
    eng_set(dp, "sourceSessionId", cJSON_CreateString(eng_str(session, "sessionId")));
    publish(ctx, dst, dsession, dp);
    eng_set(p, "replicationType", cJSON_CreateString("SOURCE"));
    eng_set(p, "replicationState", cJSON_CreateString("ACTIVE"));
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "sourceStageArn", src->arn);
    cJSON_AddStringToObject(rep, "participantId", pid);
    cJSON_AddStringToObject(rep, "sourceSessionId", eng_str(session, "sessionId"));
    cJSON_AddStringToObject(rep, "destinationStageArn", dst->arn);
    cJSON_AddStringToObject(rep, "destinationSessionId", eng_str(dsession, "sessionId"));
    cJSON_AddStringToObject(rep, "replicationState", "ACTIVE");
    cJSON_AddItemToArray(priv_array(src, "replicas"), rep);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "destinationStageArn", dst->arn);
    cJSON_AddStringToObject(x, "destinationSessionId", eng_str(dsession, "sessionId"));
    participant_event(p, "REPLICATION_STARTED", x);
    stage_update_event(ctx, src, session, p, "Participant Replication Started", NULL);
    ctx->changed = 1;
    eng_reply(ctx, NULL);
}

static void stop_replication(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *src = eng_need(ctx, K_STAGE, eng_str(in, "sourceStageArn"));
    struct eng_res *dst = src ? eng_need(ctx, K_STAGE, eng_str(in, "destinationStageArn")) : NULL;
    if (!dst)
        return;
    const char *pid = eng_str(in, "participantId");
    cJSON *rep = find_replica(src, pid, dst->arn, 1);
    if (!rep) {
        eng_error(ctx, 404, "ResourceNotFoundException", "No active replication of %s to %s.", pid,
                  dst->arn);
        return;
    }
    cJSON *session = find_session(src, eng_str(rep, "sourceSessionId"));
    replica_stop(ctx, src, session ? find_participant(session, pid) : NULL, rep);
    eng_reply(ctx, NULL);
}

static int replica_of(const cJSON *item, const cJSON *in)
{
    return eng_streq(eng_str(item, "participantId"), eng_str(in, "participantId"));
}

static void list_replicas(struct eng_ctx *ctx, const cJSON *in)
{
    struct eng_res *src = eng_need(ctx, K_STAGE, eng_str(in, "sourceStageArn"));
    if (!src)
        return;
    cJSON *items =
        reversed_projection(jitem(src->priv, "replicas"), eng_result_shape(ctx), replica_of, in);
    char fp[300];
    snprintf(fp, sizeof fp, "%s|%s", src->arn, eng_str(in, "participantId"));
    cJSON *resp = cJSON_CreateObject();
    if (eng_page(ctx, in, items, "replicas", fp, 50, resp) == 0)
        eng_reply(ctx, resp);
    else
        cJSON_Delete(resp);
}

/* ---- admin: participants --------------------------------------------------------------- */

static int use_arn_partition(struct eng_ctx *ctx, const char *arn)
{
    char region[64], account[32];
    if (!arn || eng_arn_place(ctx->svc, arn, region, account) != 0) {
        eng_error(ctx, 400, "ValidationException", "A valid ivs-realtime ARN is required.");
        return -1;
    }
    struct eng_part *p = eng_partition(ctx->eng, account, region);
    if (!p) {
        eng_error(ctx, 500, "InternalServerException", "Out of memory.");
        return -1;
    }
    eng_use_partition(ctx, p);
    return 0;
}

static cJSON *decode_json_segment(const char *s, size_t len)
{
    size_t n = 0;
    unsigned char *raw = emu_b64url_decode(s, len, &n);
    cJSON *j = raw ? cJSON_ParseWithLength((const char *)raw, n) : NULL;
    free(raw);
    return j;
}

/* Checks a self-signed token (ImportPublicKey flow) and fills tok with its facts; returns the
 * stage or NULL after filling ctx->out. */
static struct eng_res *check_self_signed(struct eng_ctx *ctx, const cJSON *header,
                                         const cJSON *claims, const char *token, size_t signed_len,
                                         cJSON *tok)
{
    const char *kid = eng_str(header, "kid");
    if (use_arn_partition(ctx, kid) != 0)
        return NULL;
    struct eng_res *key = eng_find(ctx->part, ctx->svc, K_PUBKEY, kid);
    if (!key) {
        eng_error(ctx, 401, "UnauthorizedException", "No public key %s (deleted?).", kid);
        return NULL;
    }
    const char *sig_text = token + signed_len + 1;
    size_t sig_len = 0;
    unsigned char *sig = emu_b64url_decode(sig_text, strlen(sig_text), &sig_len);
    int ok = sig && emu_es384_verify(eng_str0(key->obj, "publicKeyMaterial"), token, signed_len,
                                     sig, sig_len);
    free(sig);
    if (!ok) {
        eng_error(ctx, 401, "UnauthorizedException",
                  "The token's ES384 signature does not verify with %s.", kid);
        return NULL;
    }
    const char *version = eng_str(claims, "version"), *jti = eng_str(claims, "jti");
    double exp = cJSON_GetNumberValue(jitem(claims, "exp"));
    double iat = cJSON_GetNumberValue(jitem(claims, "iat"));
    size_t jl = jti ? strlen(jti) : 0;
    int jti_ok = jl > 0 && jl <= 64;
    for (size_t i = 0; jti_ok && i < jl; i++)
        jti_ok = (jti[i] >= 'a' && jti[i] <= 'z') || (jti[i] >= 'A' && jti[i] <= 'Z') ||
                 (jti[i] >= '0' && jti[i] <= '9') || jti[i] == '-' || jti[i] == '_';
    if (!version || strcmp(version, "1.0") != 0 || !jti_ok || exp != exp || iat != iat ||
        exp <= emu_now() || exp - iat > SELF_SIGNED_MAX_SECONDS) {
        eng_error(ctx, 401, "UnauthorizedException",
                  "The token's claims are not valid (version 1.0, jti, exp in the future and at "
                  "most 14 days after iat).");
        return NULL;
    }
    struct eng_res *stage = eng_find(ctx->part, ctx->svc, K_STAGE, eng_str(claims, "resource"));
    const cJSON *ep = stage ? jitem(stage->obj, "endpoints") : NULL;
    const char *topic = eng_str(claims, "topic"), *ev = eng_str(claims, "events_url"),
               *whip = eng_str(claims, "whip_url");
    if (!stage || !topic || strcmp(topic, arn_id(stage->arn)) != 0 || !ev ||
        !eng_streq(ev, eng_str(ep, "events")) || !eng_streq(whip, eng_str(ep, "whip"))) {
        eng_error(ctx, 401, "UnauthorizedException",
                  "The token's resource, topic, events_url or whip_url do not match a stage.");
        return NULL;
    }
    const cJSON *caps = jitem(claims, "capabilities");
    cJSON_AddStringToObject(tok, "participantId", jti);
    if (eng_str(claims, "user_id"))
        cJSON_AddStringToObject(tok, "userId", eng_str(claims, "user_id"));
    if (cJSON_IsObject(jitem(claims, "attributes")))
        cJSON_AddItemToObject(tok, "attributes", cJSON_Duplicate(jitem(claims, "attributes"), 1));
    cJSON_AddBoolToObject(tok, "publish", cJSON_IsTrue(jitem(caps, "allow_publish")));
    cJSON_AddBoolToObject(tok, "subscribe", cJSON_IsTrue(jitem(caps, "allow_subscribe")));
    return stage;
}

/* An API-issued token: found by its jti in the stage that issued it. */
static struct eng_res *check_issued(struct eng_ctx *ctx, const cJSON *claims, cJSON *tok)
{
    const char *resource = eng_str(claims, "resource"), *jti = eng_str(claims, "jti");
    if (use_arn_partition(ctx, resource) != 0)
        return NULL;
    struct eng_res *stage = eng_find(ctx->part, ctx->svc, K_STAGE, resource);
    const cJSON *rec = stage && jti ? jitem(jitem(stage->priv, "tokens"), jti) : NULL;
    const cJSON *exp = jitem(rec, "exp");
    if (!rec || !cJSON_IsNumber(exp) || cJSON_IsTrue(jitem(rec, "revoked")) ||
        exp->valuedouble <= emu_now()) {
        eng_error(ctx, 401, "UnauthorizedException",
                  "The participant token is unknown, revoked or expired.");
        return NULL;
    }
    cJSON_AddStringToObject(tok, "participantId", jti);
    cJSON_AddStringToObject(tok, "userId", eng_str(rec, "userId"));
    cJSON_AddItemToObject(tok, "attributes", cJSON_Duplicate(jitem(rec, "attributes"), 1));
    cJSON_AddBoolToObject(tok, "publish", cJSON_IsTrue(jitem(rec, "publish")));
    cJSON_AddBoolToObject(tok, "subscribe", cJSON_IsTrue(jitem(rec, "subscribe")));
    return stage;
}

static void reply_participant(struct eng_ctx *ctx, struct eng_res *stage, const cJSON *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "stageArn", stage->arn);
    const cJSON *session = active_session(stage);
    if (session)
        cJSON_AddStringToObject(o, "sessionId", eng_str(session, "sessionId"));
    cJSON *pj = cJSON_Duplicate(p, 1);
    cJSON *c = pj ? pj->child : NULL;
    while (c) {
        cJSON *next = c->next;
        if (c->string && c->string[0] == '_')
            cJSON_Delete(cJSON_DetachItemViaPointer(pj, c));
        c = next;
    }
    cJSON_AddItemToObject(o, "participant", pj);
    reply_object(ctx, o);
}

static void admin_join(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    const char *token = eng_str(body, "token");
    const char *d1 = token ? strchr(token, '.') : NULL;
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.')) {
        eng_error(ctx, 400, "ValidationException", "token (a participant token) is required.");
        return;
    }
    cJSON *header = decode_json_segment(token, (size_t)(d1 - token));
    cJSON *claims = decode_json_segment(d1 + 1, (size_t)(d2 - d1 - 1));
    cJSON *tok = cJSON_CreateObject();
    const char *alg = eng_str(header, "alg");
    struct eng_res *stage = NULL;
    if (!cJSON_IsObject(claims) || !alg)
        eng_error(ctx, 401, "UnauthorizedException", "The token is not a JWS.");
    else if (!strcmp(alg, "ES384"))
        stage = check_self_signed(ctx, header, claims, token, (size_t)(d2 - token), tok);
    else if (!strcmp(alg, "KMS"))
        stage = check_issued(ctx, claims, tok);
    else
        eng_error(ctx, 401, "UnauthorizedException", "Tokens are signed with ES384.");
    cJSON *p = stage ? join(ctx, stage, eng_str(tok, "participantId"), tok, body) : NULL;
    if (p)
        reply_participant(ctx, stage, p);
    cJSON_Delete(tok);
    cJSON_Delete(header);
    cJSON_Delete(claims);
}

/* The stage and connected participant an admin body names. */
static cJSON *admin_participant(struct eng_ctx *ctx, const cJSON *body, struct eng_res **stage,
                                cJSON **session)
{
    const char *arn = eng_str(body, "stageArn"), *pid = eng_str(body, "participantId");
    if (use_arn_partition(ctx, arn) != 0 || !(*stage = eng_need(ctx, K_STAGE, arn)))
        return NULL;
    *session = active_session(*stage);
    cJSON *p = *session ? find_participant(*session, pid) : NULL;
    if (!p || !connected(p)) {
        eng_error(ctx, 404, "ResourceNotFoundException", "Participant %s is not connected.",
                  pid ? pid : "");
        return NULL;
    }
    return p;
}

static void admin_publish(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    struct eng_res *stage;
    cJSON *session, *p = admin_participant(ctx, body, &stage, &session);
    if (p && publish(ctx, stage, session, p) == 0)
        reply_participant(ctx, stage, p);
}

static void admin_unpublish(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    struct eng_res *stage;
    cJSON *session, *p = admin_participant(ctx, body, &stage, &session);
    if (!p)
        return;
    stop_replications_of(ctx, stage, p);
    unpublish(ctx, stage, session, p);
    reply_participant(ctx, stage, p);
}

static void admin_subscribe(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    struct eng_res *stage;
    cJSON *session, *p = admin_participant(ctx, body, &stage, &session);
    if (!p)
        return;
    const char *remote = eng_str(body, "remoteParticipantId");
    cJSON *rp = find_participant(session, remote);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "remoteParticipantId", remote ? remote : "");
    const char *error = !cJSON_IsTrue(jitem(p, "_subscribe")) ? "INSUFFICIENT_CAPABILITIES"
                        : !rp || !connected(rp) || !cJSON_IsTrue(jitem(rp, "published"))
                            ? "PUBLISHER_NOT_FOUND"
                            : NULL;
    if (error) {
        cJSON_AddStringToObject(x, "errorCode", error);
        participant_event(p, "SUBSCRIBE_ERROR", x);
        ctx->changed = 1;
        eng_error(ctx, 409, "ConflictException", "The participant cannot subscribe: %s.", error);
        return;
    }
    participant_event(p, "SUBSCRIBE_STARTED", x);
    ctx->changed = 1;
    reply_participant(ctx, stage, p);
}

static void admin_leave(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    struct eng_res *stage;
    cJSON *session, *p = admin_participant(ctx, body, &stage, &session);
    if (!p)
        return;
    leave(ctx, stage, session, p, NULL);
    reply_participant(ctx, stage, p);
}

struct key_hit {
    const char *key;
    struct eng_res *found;
};

static int has_stream_key(struct eng_res *r, void *arg)
{
    struct key_hit *h = arg;
    if (eng_streq(eng_str(r->obj, "streamKey"), h->key)) {
        h->found = r;
        eng_touch(r);
        return 1;
    }
    return 0;
}

/* The ingest configuration a stream key belongs to, in whichever account holds it. */
static struct eng_res *ingest_by_key(struct eng_ctx *ctx, const char *key)
{
    struct key_hit h = {key ? key : "", NULL};
    for (size_t i = 0;; i++) {
        struct eng_part *p = eng_partition_at(ctx->eng, i);
        if (!p)
            break;
        if (eng_each(p, ctx->svc, K_INGEST, has_stream_key, &h)) {
            eng_use_partition(ctx, p);
            return h.found;
        }
    }
    eng_error(ctx, 404, "ResourceNotFoundException",
              "No ingest configuration has that stream key.");
    return NULL;
}

static void admin_ingest_start(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    struct eng_res *ic = ingest_by_key(ctx, eng_str(body, "streamKey"));
    if (!ic)
        return;
    struct eng_res *stage = eng_find(ctx->part, ctx->svc, K_STAGE, eng_str(ic->obj, "stageArn"));
    if (!stage) {
        eng_error(ctx, 409, "ConflictException",
                  "The ingest configuration is not attached to a stage.");
        return;
    }
    if (ingest_active(ic)) {
        eng_error(ctx, 409, "ConflictException", "The ingest configuration is already publishing.");
        return;
    }
    cJSON *tok = cJSON_CreateObject();
    cJSON_AddStringToObject(tok, "userId", eng_str(ic->obj, "userId"));
    cJSON_AddItemToObject(tok, "attributes", cJSON_Duplicate(jitem(ic->obj, "attributes"), 1));
    cJSON_AddTrueToObject(tok, "publish");
    cJSON_AddStringToObject(tok, "protocol", eng_str(ic->obj, "ingestProtocol"));
    cJSON *p = join(ctx, stage, eng_str(ic->obj, "participantId"), tok, body);
    cJSON_Delete(tok);
    if (!p)
        return;
    eng_set(p, "ingestConfigurationArn", cJSON_CreateString(ic->arn));
    eng_set(p, "redundantIngest",
            cJSON_CreateBool(cJSON_IsTrue(jitem(ic->obj, "redundantIngest"))));
    eng_set(ic->obj, "state", cJSON_CreateString("ACTIVE"));
    if (publish(ctx, stage, active_session(stage), p) == 0)
        reply_participant(ctx, stage, p);
}

static void admin_ingest_stop(struct eng_ctx *ctx, const cJSON *query, const cJSON *body)
{
    (void)query;
    struct eng_res *ic = ingest_by_key(ctx, eng_str(body, "streamKey"));
    if (!ic)
        return;
    struct eng_res *stage = eng_find(ctx->part, ctx->svc, K_STAGE, eng_str(ic->obj, "stageArn"));
    cJSON *session = stage ? active_session(stage) : NULL;
    cJSON *p = session ? find_participant(session, eng_str(ic->obj, "participantId")) : NULL;
    if (!p || !connected(p)) {
        eng_error(ctx, 409, "ConflictException", "The ingest configuration is not publishing.");
        return;
    }
    leave(ctx, stage, session, p, NULL);
    reply_participant(ctx, stage, p);
}

/* ---- the table ------------------------------------------------------------------------- */

static const struct eng_kind s_kinds[] = {
    [K_STAGE] = {.type = "stage",
                 .what = "Stage",
                 .quota = 1000,
                 .defaults = "{\"name\":\"\",\"tags\":{}}"},
    [K_PUBKEY] = {.type = "public-key",
                  .what = "Public key",
                  .quota = 3,
                  .defaults = "{\"name\":\"\",\"tags\":{}}"},
    [K_ENCODER] = {.type = "encoder-configuration",
                   .what = "Encoder configuration",
                   .quota = 20,
                   .defaults = "{\"name\":\"\",\"tags\":{},\"video\":{\"width\":1280,"
                               "\"height\":720,\"framerate\":30,\"bitrate\":2500000}}"},
    [K_STORAGE] = {.type = "storage-configuration",
                   .what = "Storage configuration",
                   .quota = 5,
                   .defaults = "{\"name\":\"\",\"tags\":{}}"},
    [K_COMPOSITION] = {.type = "composition", .what = "Composition"},
    [K_INGEST] = {.type = "ingest-configuration",
                  .what = "Ingest configuration",
                  .quota = 100,
                  .defaults = "{\"name\":\"\",\"stageArn\":\"\",\"userId\":\"\",\"attributes\":{},"
                              "\"tags\":{},\"state\":\"INACTIVE\",\"insecureIngest\":false,"
                              "\"redundantIngest\":false}"},
};

static const char *const s_stage_skip[] = {"participantTokenConfigurations", NULL};

static const struct eng_op s_ops[] = {
    {.name = "CreateStage",
     .action = EA_CREATE,
     .kind = K_STAGE,
     .wrap = "stage",
     .skip = s_stage_skip,
     .on_create = stage_create},
    {.name = "GetStage", .action = EA_GET, .kind = K_STAGE, .ident = "arn", .wrap = "stage"},
    {.name = "UpdateStage",
     .action = EA_UPDATE,
     .kind = K_STAGE,
     .ident = "arn",
     .wrap = "stage",
     .on_create = stage_update},
    {.name = "DeleteStage",
     .action = EA_DELETE,
     .kind = K_STAGE,
     .ident = "arn",
     .on_delete = stage_delete},
    {.name = "ListStages", .action = EA_LIST, .kind = K_STAGE, .default_max = 50},
    {.name = "CreateParticipantToken", .action = EA_CUSTOM, .custom = create_participant_token},
    {.name = "DisconnectParticipant", .action = EA_CUSTOM, .custom = disconnect_participant},
    {.name = "GetStageSession", .action = EA_CUSTOM, .custom = get_stage_session},
    {.name = "ListStageSessions", .action = EA_CUSTOM, .custom = list_stage_sessions},
    {.name = "GetParticipant", .action = EA_CUSTOM, .custom = get_participant},
    {.name = "ListParticipants", .action = EA_CUSTOM, .custom = list_participants},
    {.name = "ListParticipantEvents", .action = EA_CUSTOM, .custom = list_participant_events},
    {.name = "ImportPublicKey",
     .action = EA_CREATE,
     .kind = K_PUBKEY,
     .wrap = "publicKey",
     .on_create = public_key_import},
    {.name = "GetPublicKey",
     .action = EA_GET,
     .kind = K_PUBKEY,
     .ident = "arn",
     .wrap = "publicKey"},
    {.name = "DeletePublicKey", .action = EA_DELETE, .kind = K_PUBKEY, .ident = "arn"},
    {.name = "ListPublicKeys", .action = EA_LIST, .kind = K_PUBKEY, .default_max = 50},
    {.name = "CreateEncoderConfiguration",
     .action = EA_CREATE,
     .kind = K_ENCODER,
     .wrap = "encoderConfiguration",
     .on_create = encoder_rules},
    {.name = "GetEncoderConfiguration",
     .action = EA_GET,
     .kind = K_ENCODER,
     .ident = "arn",
     .wrap = "encoderConfiguration"},
    {.name = "DeleteEncoderConfiguration",
     .action = EA_DELETE,
     .kind = K_ENCODER,
     .ident = "arn",
     .check = config_in_use},
    {.name = "ListEncoderConfigurations", .action = EA_LIST, .kind = K_ENCODER, .default_max = 100},
    {.name = "CreateStorageConfiguration",
     .action = EA_CREATE,
     .kind = K_STORAGE,
     .wrap = "storageConfiguration"},
    {.name = "GetStorageConfiguration",
     .action = EA_GET,
     .kind = K_STORAGE,
     .ident = "arn",
     .wrap = "storageConfiguration"},
    {.name = "DeleteStorageConfiguration",
     .action = EA_DELETE,
     .kind = K_STORAGE,
     .ident = "arn",
     .check = config_in_use},
    {.name = "ListStorageConfigurations", .action = EA_LIST, .kind = K_STORAGE, .default_max = 5},
    {.name = "StartComposition", .action = EA_CUSTOM, .custom = start_composition},
    {.name = "GetComposition",
     .action = EA_GET,
     .kind = K_COMPOSITION,
     .ident = "arn",
     .wrap = "composition"},
    {.name = "StopComposition", .action = EA_CUSTOM, .custom = stop_composition},
    {.name = "ListCompositions",
     .action = EA_LIST,
     .kind = K_COMPOSITION,
     .filters = {{.input = "filterByStageArn", .path = "stageArn"},
                 {.input = "filterByEncoderConfigurationArn", .pred = composition_by_encoder}},
     .default_max = 100},
    {.name = "CreateIngestConfiguration",
     .action = EA_CREATE,
     .kind = K_INGEST,
     .wrap = "ingestConfiguration",
     .on_create = ingest_create},
    {.name = "GetIngestConfiguration",
     .action = EA_GET,
     .kind = K_INGEST,
     .ident = "arn",
     .wrap = "ingestConfiguration"},
    {.name = "UpdateIngestConfiguration",
     .action = EA_UPDATE,
     .kind = K_INGEST,
     .ident = "arn",
     .wrap = "ingestConfiguration",
     .check = ingest_not_active,
     .on_create = ingest_update},
    {.name = "DeleteIngestConfiguration",
     .action = EA_DELETE,
     .kind = K_INGEST,
     .ident = "arn",
     .check = ingest_deletable,
     .on_delete = ingest_delete},
    {.name = "ListIngestConfigurations",
     .action = EA_LIST,
     .kind = K_INGEST,
     .filters = {{.input = "filterByStageArn", .path = "stageArn"},
                 {.input = "filterByState", .path = "state"}},
     .one_filter = 1,
     .default_max = 50},
    {.name = "StartParticipantReplication", .action = EA_CUSTOM, .custom = start_replication},
    {.name = "StopParticipantReplication", .action = EA_CUSTOM, .custom = stop_replication},
    {.name = "ListParticipantReplicas", .action = EA_CUSTOM, .custom = list_replicas},
};

static const struct eng_admin_route s_admin[] = {
    {"POST", "/stages/join", admin_join},           {"POST", "/stages/publish", admin_publish},
    {"POST", "/stages/unpublish", admin_unpublish}, {"POST", "/stages/subscribe", admin_subscribe},
    {"POST", "/stages/leave", admin_leave},         {"POST", "/ingest/start", admin_ingest_start},
    {"POST", "/ingest/stop", admin_ingest_stop},
};

const struct eng_service svc_realtime = {
    .name = "ivs-realtime",
    .arn_service = "ivs",
    .kinds = s_kinds,
    .kind_count = sizeof s_kinds / sizeof s_kinds[0],
    .ops = s_ops,
    .op_count = sizeof s_ops / sizeof s_ops[0],
    .admin = s_admin,
    .admin_count = sizeof s_admin / sizeof s_admin[0],
};
