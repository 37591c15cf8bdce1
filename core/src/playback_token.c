/* playback_token.c: ES384 playback authorization tokens for private IVS channels, and the
 * playback URL that carries one. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "buf.h"
#include "errors.h"
#include "ivs.h"
#include "jws.h"

#define CLAIMS_ERROR "InvalidPlaybackTokenClaims"

/* The service refuses single-use and viewer-bound tokens that live longer than this. */
#define SHORT_TOKEN_MAX_LIFETIME_S 600
#define VIEWER_ID_MAX_CHARS 40
#define STRICT_ORIGIN_MAX 5

/* arn:aws:ivs:<region [a-z0-9-]+>:<account [0-9]+>:channel/<id [a-zA-Z0-9-]+>, the model's
 * channel ARN pattern. */
static int is_channel_arn(const char *arn) { return jws_is_ivs_arn(arn, "ivs", "channel"); }

/* Counts the comma-separated origins; -1 when one of them is empty. */
static int count_origins(const char *list)
{
    int count = 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        size_t blank = strspn(p, " \t");
        if (blank >= n)
            return -1;
        count++;
        if (!p[n])
            return count;
        p += n + 1;
    }
}

/* Checks a claim string that is set; adds to problems and returns its code-point length, or
 * -1 when it is unusable. */
static long check_string_claim(struct buf *problems, const char *claim, const char *value)
{
    long n = jws_utf8_length(value);
    if (n < 0)
        jws_problem(problems, "%s is not valid UTF-8", claim);
    else if (n == 0)
        jws_problem(problems, "%s is empty (leave it unset to omit it)", claim);
    return n > 0 ? n : -1;
}

/* Collects every problem with the claims into one message. */
static void validate_claims(const struct ivs_playback_token_claims *c, int64_t now,
                            struct buf *problems)
{
    if (!c->channel_arn)
        jws_problem(problems, "%s is required", "aws:channel-arn");
    else if (!is_channel_arn(c->channel_arn))
        jws_problem(problems,
                    "%s must be an IVS channel ARN (arn:aws:ivs:<region>:<account>:channel/<id>, "
                    "at most 128 characters)",
                    "aws:channel-arn");

    int short_lived = c->single_use_uuid || c->viewer_id;
    if (c->expires_at <= 0)
        jws_problem(problems, "%s is required (Unix time in seconds)", "exp");
    else if (c->expires_at <= now)
        jws_problem(problems, "%s is not in the future", "exp");
    else if (short_lived && c->expires_at - now > SHORT_TOKEN_MAX_LIFETIME_S)
        jws_problem(problems,
                    "%s may be at most 600 seconds ahead when aws:single-use-uuid or aws:viewer-id "
                    "is set",
                    "exp");

    if (c->access_control_allow_origin &&
        check_string_claim(problems, "aws:access-control-allow-origin",
                           c->access_control_allow_origin) > 0) {
        int origins = count_origins(c->access_control_allow_origin);
        if (origins < 0)
            jws_problem(problems, "%s has an empty entry in its comma-separated list",
                        "aws:access-control-allow-origin");
        else if (c->strict_origin_enforcement && origins > STRICT_ORIGIN_MAX)
            jws_problem(
                problems,
                "%s lists more than 5 origins, the limit with aws:strict-origin-enforcement",
                "aws:access-control-allow-origin");
    }

    if (c->single_use_uuid)
        check_string_claim(problems, "aws:single-use-uuid", c->single_use_uuid);

    if (c->viewer_id) {
        long n = check_string_claim(problems, "aws:viewer-id", c->viewer_id);
        if (n > VIEWER_ID_MAX_CHARS)
            jws_problem(problems, "%s is longer than 40 characters", "aws:viewer-id");
    }
    if (c->viewer_session_version < 0)
        jws_problem(problems, "%s is negative", "aws:viewer-session-version");
    else if (c->viewer_session_version && !c->viewer_id)
        jws_problem(problems, "%s is only meaningful with aws:viewer-id",
                    "aws:viewer-session-version");

    if (c->maximum_resolution && strcmp(c->maximum_resolution, "SD") != 0 &&
        strcmp(c->maximum_resolution, "HD") != 0 && strcmp(c->maximum_resolution, "FULL_HD") != 0)
        jws_problem(problems, "%s must be SD, HD or FULL_HD", "aws:maximum-resolution");
}

static int add_raw_int(cJSON *obj, const char *name, int64_t value)
{
    /* Raw, because cJSON numbers are doubles and would round versions above 2^53. */
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)value);
    return cJSON_AddRawToObject(obj, name, text) != NULL;
}

/* The payload JSON, claims in a fixed order; NULL when out of memory. */
static char *claims_json(const struct ivs_playback_token_claims *c)
{
    cJSON *obj = cJSON_CreateObject();
    int ok = obj && cJSON_AddStringToObject(obj, "aws:channel-arn", c->channel_arn);
    if (ok && c->access_control_allow_origin)
        ok = cJSON_AddStringToObject(obj, "aws:access-control-allow-origin",
                                     c->access_control_allow_origin) != NULL;
    if (ok && c->strict_origin_enforcement)
        ok = cJSON_AddTrueToObject(obj, "aws:strict-origin-enforcement") != NULL;
    if (ok && c->single_use_uuid)
        ok = cJSON_AddStringToObject(obj, "aws:single-use-uuid", c->single_use_uuid) != NULL;
    if (ok && c->viewer_id)
        ok = cJSON_AddStringToObject(obj, "aws:viewer-id", c->viewer_id) != NULL;
    if (ok && c->viewer_session_version)
        ok = add_raw_int(obj, "aws:viewer-session-version", c->viewer_session_version);
    if (ok && c->maximum_resolution)
        ok = cJSON_AddStringToObject(obj, "aws:maximum-resolution", c->maximum_resolution) != NULL;
    if (ok)
        ok = add_raw_int(obj, "exp", c->expires_at);
    char *text = ok ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    return text;
}

enum ivs_status ivs_playback_token(const char *private_key_pem, size_t pem_len,
                                   const struct ivs_playback_token_claims *claims, int64_t now,
                                   char **token_out, struct ivs_error *err)
{
    if (!private_key_pem || !claims || !token_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_playback_token needs a private key, claims and token_out");
    *token_out = NULL;
    if (now == 0)
        now = (int64_t)time(NULL);
    if (pem_len == 0)
        pem_len = strlen(private_key_pem);

    struct buf problems = BUF_INIT;
    validate_claims(claims, now, &problems);
    if (problems.len || buf_failed(&problems)) {
        enum ivs_status rc;
        if (buf_failed(&problems))
            rc = ivs_error_nomem(err);
        else
            rc = ivs_error_set(err, IVS_ERR_VALIDATION, CLAIMS_ERROR,
                               "invalid playback token claims: %s", buf_str(&problems));
        buf_free(&problems);
        return rc;
    }
    buf_free(&problems);

    char *payload = claims_json(claims);
    if (!payload)
        return ivs_error_nomem(err);
    enum ivs_status rc = jws_sign_es384(
        private_key_pem, pem_len, "{\"alg\":\"ES384\",\"typ\":\"JWT\"}", payload, token_out, err);
    free(payload);
    return rc;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Whether the query parameter starting at p (up to end) is named "token". */
static int is_token_param(const char *p, size_t len)
{
    size_t name_len = strcspn(p, "=&");
    if (name_len > len)
        name_len = len;
    return name_len == 5 && memcmp(p, "token", 5) == 0;
}

enum ivs_status ivs_playback_url(const char *playback_url, const char *token, char **url_out,
                                 struct ivs_error *err)
{
    if (!playback_url || !*playback_url || !token || !*token || !url_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_playback_url needs a playback URL, a token and url_out");
    *url_out = NULL;
    size_t before_fragment = strcspn(playback_url, "#");
    const char *fragment = playback_url + before_fragment;
    size_t base_len = strcspn(playback_url, "?#");

    struct buf url = BUF_INIT;
    buf_append(&url, playback_url, base_len);
    char sep = '?';
    if (base_len < before_fragment) {
        /* Keep every parameter but an old token, in order. */
        const char *p = playback_url + base_len + 1;
        const char *end = fragment;
        while (p < end) {
            size_t n = strcspn(p, "&#");
            if (p + n > end)
                n = (size_t)(end - p);
            if (n > 0 && !is_token_param(p, n)) {
                buf_putc(&url, sep);
                buf_append(&url, p, n);
                sep = '&';
            }
            p += n + 1;
        }
    }
    buf_putc(&url, sep);
    buf_puts(&url, "token=");
    for (const unsigned char *t = (const unsigned char *)token; *t; t++) {
        if (is_unreserved(*t))
            buf_putc(&url, (char)*t);
        else
            buf_printf(&url, "%%%02X", *t);
    }
    buf_puts(&url, fragment);
    *url_out = buf_steal(&url);
    buf_free(&url);
    return *url_out ? IVS_OK : ivs_error_nomem(err);
}
