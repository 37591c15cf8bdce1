/* participant_token.c: self-signed IVS Real-Time tokens (participant and connection tokens),
 * ES384 JWTs whose kid is the ARN of a public key imported with ImportPublicKey. The claims
 * and limits follow the Real-Time user guide's "Distribute Tokens" page. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <openssl/rand.h>

#include "buf.h"
#include "errors.h"
#include "ivs.h"
#include "jws.h"

#define PARTICIPANT_ERROR "InvalidParticipantTokenClaims"
#define CONNECTION_ERROR "InvalidConnectionTokenClaims"

/* IVS refuses participant tokens that live longer than 14 days, connection tokens longer
 * than 4 weeks. */
#define PARTICIPANT_MAX_LIFETIME_S (14 * 24 * 3600)
#define CONNECTION_MAX_LIFETIME_S (28 * 24 * 3600)
#define USER_ID_MAX_CHARS 128
#define ATTRIBUTES_MAX_BYTES 1024
#define JTI_MAX_CHARS 64
#define RANDOM_JTI_CHARS 12
#define GLOBAL_EVENTS_URL "wss://global.events.live-video.net"

/* Whether s is 1..64 characters of [A-Za-z0-9_-] (the jti rule). */
static int is_jti(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > JTI_MAX_CHARS)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Fills out with n random alphanumerics and a NUL (uniform: bytes past 247 are redrawn).
 * Returns -1 when OpenSSL has no randomness to give. */
static int random_id(char *out, size_t n)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t have = 0;
    while (have < n) {
        unsigned char bytes[32];
        if (RAND_bytes(bytes, sizeof bytes) != 1)
            return -1;
        for (size_t i = 0; i < sizeof bytes && have < n; i++)
            if (bytes[i] < 248)
                out[have++] = alnum[bytes[i] % 62];
    }
    out[n] = '\0';
    return 0;
}

/* Whether url starts with scheme (e.g. "wss://") and has a host after it. */
static int has_scheme_and_host(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncmp(url, scheme, n) == 0 && url[n] && url[n] != '/' &&
           strcspn(url, " \t\r\n") == strlen(url);
}

/* exp and iat against now and the longest lifetime allowed. */
static void check_times(struct buf *problems, int64_t issued_at, int64_t expires_at, int64_t now,
                        int64_t max_lifetime, const char *max_words)
{
    if (issued_at < 0)
        jws_problem(problems, "iat is negative");
    if (expires_at <= 0)
        jws_problem(problems, "exp is required (Unix time in seconds)");
    else if (expires_at <= now)
        jws_problem(problems, "exp is not in the future");
    else if (expires_at <= issued_at)
        jws_problem(problems, "exp is not after iat");
    else if (expires_at - issued_at > max_lifetime)
        jws_problem(problems, "exp may be at most %s after iat", max_words);
}

static void check_jti(struct buf *problems, const char *jti)
{
    if (jti && !is_jti(jti))
        jws_problem(problems, "jti must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -");
}

static void check_public_key_arn(struct buf *problems, const char *arn)
{
    if (!arn)
        jws_problem(problems, "kid (the public key ARN) is required");
    else if (!jws_is_ivs_arn(arn, "ivs", "public-key"))
        jws_problem(problems, "kid must be an IVS public key ARN "
                              "(arn:aws:ivs:<region>:<account>:public-key/<id>)");
}

static void validate_participant(const struct ivs_participant_token_claims *c, int64_t now,
                                 struct buf *problems)
{
    check_public_key_arn(problems, c->public_key_arn);
    if (!c->stage_arn)
        jws_problem(problems, "resource (the stage ARN) is required");
    else if (!jws_is_ivs_arn(c->stage_arn, "ivs", "stage"))
        jws_problem(
            problems,
            "resource must be an IVS stage ARN (arn:aws:ivs:<region>:<account>:stage/<id>)");
    if (!c->events_url)
        jws_problem(problems, "events_url (the stage's endpoints.events) is required");
    else if (!has_scheme_and_host(c->events_url, "wss://"))
        jws_problem(problems, "events_url must be a wss:// URL (the stage's endpoints.events)");
    if (!c->whip_url)
        jws_problem(problems, "whip_url (the stage's endpoints.whip) is required");
    else if (!has_scheme_and_host(c->whip_url, "https://"))
        jws_problem(problems, "whip_url must be an https:// URL (the stage's endpoints.whip)");
    if (c->user_id) {
        long n = jws_utf8_length(c->user_id);
        if (n < 0)
            jws_problem(problems, "user_id is not valid UTF-8");
        else if (n > USER_ID_MAX_CHARS)
            jws_problem(problems, "user_id is longer than 128 characters");
    }
    if (c->capabilities & ~(IVS_PARTICIPANT_PUBLISH | IVS_PARTICIPANT_SUBSCRIBE))
        jws_problem(problems, "capabilities has bits other than PUBLISH and SUBSCRIBE");
    if (c->attribute_count && !c->attributes)
        jws_problem(problems, "attributes is NULL with a nonzero count");
    size_t bytes = 0;
    for (size_t i = 0; c->attributes && i < c->attribute_count; i++) {
        const struct ivs_token_attribute *a = &c->attributes[i];
        if (!a->key || !a->value || !*a->key) {
            jws_problem(problems, "attribute %zu needs a non-empty key and a value", i + 1);
            continue;
        }
        if (jws_utf8_length(a->key) < 0 || jws_utf8_length(a->value) < 0)
            jws_problem(problems, "attribute '%.64s' is not valid UTF-8", a->key);
        for (size_t k = 0; k < i; k++)
            if (c->attributes[k].key && strcmp(c->attributes[k].key, a->key) == 0)
                jws_problem(problems, "attribute '%.64s' is given twice", a->key);
        bytes += strlen(a->key) + strlen(a->value);
    }
    if (bytes > ATTRIBUTES_MAX_BYTES)
        jws_problem(problems, "attributes hold %zu bytes of keys and values, more than 1 KB",
                    bytes);
    check_jti(problems, c->participant_id);
    check_times(problems, c->issued_at, c->expires_at, now, PARTICIPANT_MAX_LIFETIME_S, "14 days");
}

static int add_int(cJSON *obj, const char *name, int64_t value)
{
    /* Raw, so that no double conversion can write an exponent. */
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)value);
    return cJSON_AddRawToObject(obj, name, text) != NULL;
}

/* The JOSE header: {"alg":"ES384","typ":"JWT","kid":"<public key ARN>"}. */
static char *header_json(const char *kid)
{
    cJSON *h = cJSON_CreateObject();
    int ok = h && cJSON_AddStringToObject(h, "alg", "ES384") &&
             cJSON_AddStringToObject(h, "typ", "JWT") && cJSON_AddStringToObject(h, "kid", kid);
    char *text = ok ? cJSON_PrintUnformatted(h) : NULL;
    cJSON_Delete(h);
    return text;
}

/* The payload, claims in the order of the user guide's sample; NULL when out of memory. */
static char *participant_json(const struct ivs_participant_token_claims *c, int64_t iat,
                              const char *jti)
{
    cJSON *o = cJSON_CreateObject();
    const char *topic = strrchr(c->stage_arn, '/') + 1;
    int caps =
        c->capabilities ? c->capabilities : IVS_PARTICIPANT_PUBLISH | IVS_PARTICIPANT_SUBSCRIBE;
    int ok = o && add_int(o, "exp", c->expires_at) && add_int(o, "iat", iat) &&
             cJSON_AddStringToObject(o, "jti", jti);
    if (ok && c->user_id)
        ok = cJSON_AddStringToObject(o, "user_id", c->user_id) != NULL;
    ok = ok && cJSON_AddStringToObject(o, "resource", c->stage_arn) &&
         cJSON_AddStringToObject(o, "topic", topic) &&
         cJSON_AddStringToObject(o, "events_url", c->events_url) &&
         cJSON_AddStringToObject(o, "whip_url", c->whip_url);
    cJSON *cap = ok ? cJSON_AddObjectToObject(o, "capabilities") : NULL;
    ok = cap != NULL;
    if (ok && (caps & IVS_PARTICIPANT_PUBLISH))
        ok = cJSON_AddTrueToObject(cap, "allow_publish") != NULL;
    if (ok && (caps & IVS_PARTICIPANT_SUBSCRIBE))
        ok = cJSON_AddTrueToObject(cap, "allow_subscribe") != NULL;
    if (ok && c->attribute_count) {
        cJSON *attrs = cJSON_AddObjectToObject(o, "attributes");
        ok = attrs != NULL;
        for (size_t i = 0; ok && i < c->attribute_count; i++)
            ok = cJSON_AddStringToObject(attrs, c->attributes[i].key, c->attributes[i].value) !=
                 NULL;
    }
    ok = ok && cJSON_AddStringToObject(o, "version", "1.0");
    char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}

/* Fails with the claim problems collected, if any. */
static enum ivs_status report(struct buf *problems, const char *code, const char *what,
                              struct ivs_error *err)
{
    enum ivs_status rc = IVS_OK;
    if (buf_failed(problems))
        rc = ivs_error_nomem(err);
    else if (problems->len)
        rc = ivs_error_set(err, IVS_ERR_VALIDATION, code, "invalid %s token claims: %s", what,
                           buf_str(problems));
    buf_free(problems);
    return rc;
}

/* Signs header(kid) and payload. */
static enum ivs_status sign(const char *pem, size_t pem_len, const char *kid, char *payload,
                            char **token_out, struct ivs_error *err)
{
    char *header = payload ? header_json(kid) : NULL;
    enum ivs_status rc = header ? jws_sign_es384(pem, pem_len, header, payload, token_out, err)
                                : ivs_error_nomem(err);
    free(header);
    free(payload);
    return rc;
}

enum ivs_status ivs_participant_token(const char *private_key_pem, size_t pem_len,
                                      const struct ivs_participant_token_claims *claims,
                                      int64_t now, char **token_out, struct ivs_error *err)
{
    if (!private_key_pem || !claims || !token_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_participant_token needs a private key, claims and token_out");
    *token_out = NULL;
    if (now == 0)
        now = (int64_t)time(NULL);
    if (pem_len == 0)
        pem_len = strlen(private_key_pem);
    int64_t iat = claims->issued_at ? claims->issued_at : now;
    struct ivs_participant_token_claims c = *claims;
    c.issued_at = iat;
    struct buf problems = BUF_INIT;
    validate_participant(&c, now, &problems);
    enum ivs_status rc = report(&problems, PARTICIPANT_ERROR, "participant", err);
    if (rc != IVS_OK)
        return rc;
    char jti[RANDOM_JTI_CHARS + 1];
    if (!c.participant_id && random_id(jti, RANDOM_JTI_CHARS) != 0)
        return ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "no randomness for the jti");
    return sign(private_key_pem, pem_len, c.public_key_arn,
                participant_json(&c, iat, c.participant_id ? c.participant_id : jti), token_out,
                err);
}

enum ivs_status ivs_connection_token(const char *private_key_pem, size_t pem_len,
                                     const struct ivs_connection_token_claims *claims, int64_t now,
                                     char **token_out, struct ivs_error *err)
{
    if (!private_key_pem || !claims || !token_out)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument",
                             "ivs_connection_token needs a private key, claims and token_out");
    *token_out = NULL;
    if (now == 0)
        now = (int64_t)time(NULL);
    if (pem_len == 0)
        pem_len = strlen(private_key_pem);
    int64_t iat = claims->issued_at ? claims->issued_at : now;
    const char *events_url = claims->events_url ? claims->events_url : GLOBAL_EVENTS_URL;
    struct buf problems = BUF_INIT;
    check_public_key_arn(&problems, claims->public_key_arn);
    if (strcmp(events_url, GLOBAL_EVENTS_URL) != 0)
        jws_problem(&problems, "events_url must be " GLOBAL_EVENTS_URL);
    check_jti(&problems, claims->connection_id);
    check_times(&problems, iat, claims->expires_at, now, CONNECTION_MAX_LIFETIME_S, "4 weeks");
    enum ivs_status rc = report(&problems, CONNECTION_ERROR, "connection", err);
    if (rc != IVS_OK)
        return rc;
    char jti[RANDOM_JTI_CHARS + 1];
    if (!claims->connection_id && random_id(jti, RANDOM_JTI_CHARS) != 0)
        return ivs_error_set(err, IVS_ERR_INTERNAL, "CryptoError", "no randomness for the jti");
    /* arn:aws:ivs:<region>:<account>:public-key/<id>, already checked. */
    const char *region = claims->public_key_arn + strlen("arn:aws:ivs:");
    const char *account = strchr(region, ':') + 1;
    char region_s[64], account_s[64];
    snprintf(region_s, sizeof region_s, "%.*s", (int)(account - 1 - region), region);
    snprintf(account_s, sizeof account_s, "%.*s", (int)strcspn(account, ":"), account);
    cJSON *o = cJSON_CreateObject();
    int ok =
        o && add_int(o, "exp", claims->expires_at) && add_int(o, "iat", iat) &&
        cJSON_AddStringToObject(o, "jti", claims->connection_id ? claims->connection_id : jti) &&
        cJSON_AddStringToObject(o, "account_id", account_s) &&
        cJSON_AddStringToObject(o, "region", region_s) &&
        cJSON_AddStringToObject(o, "events_url", events_url) &&
        cJSON_AddStringToObject(o, "version", "1.0");
    char *payload = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return sign(private_key_pem, pem_len, claims->public_key_arn, payload, token_out, err);
}
