/* identity.c: STS, the SSO portal, SSO-OIDC and signin for ivs-emulator (see identity.h and
 * the "Identity services" section of emulator/README.md for the rules a test can rely on).
 *
 * Wire formats follow the services' models (STS query protocol with XML bodies and
 * <ErrorResponse> errors; rest-json for the other three). Every token the emulator accepts was
 * either issued by it or registered through the admin API, so a test can reach each success
 * and each failure: unknown, expired or rotated tokens, unknown roles, bad signatures. */
#include "identity.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "buf.h"
#include "sigv4.h"
#include "util.h"

#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"
#define STS_VERSION "2011-06-15"

/* STS limits (model and IAM defaults). */
enum {
    MIN_DURATION = 900,
    MAX_DURATION = 43200,
    DEFAULT_ROLE_MAX_SESSION = 3600, /* IAM's default MaxSessionDuration */
    CHAINED_MAX_DURATION = 3600,     /* role chaining caps sessions at one hour */
    SSO_ROLE_DURATION = 3600,
    LOGIN_MAX_EXPIRES_IN = 900, /* signin's ExpiresIn maximum */
    DPOP_MAX_SKEW = 300,
    MAX_TEMP_CREDENTIALS = 100000,
    MAX_USED_JTI = 10000,
};

struct temp_cred {
    char akid[24];
    char secret[48];
    char *token;
    const char *account; /* interned */
    char *arn;           /* the caller identity GetCallerIdentity reports */
    char *user_id;
    int chained; /* a role session: AssumeRole from it is role chaining */
    long long expires;
    struct temp_cred *prev, *next; /* the identity's list, for pruning and expiring */
};

struct role {
    char *arn;
    char *external_id; /* NULL: none required */
    char *mfa_serial;  /* NULL: no MFA */
    char *mfa_code;
    long max_session;
    struct role *next;
};

struct sso_session {
    char *client_id, *client_secret;
    long long registration_expires;
    char *refresh_token; /* NULL once none is valid */
    long long refresh_expires;
    long token_lifetime; /* expiresIn of tokens CreateToken issues */
    int rotate;          /* CreateToken returns a new refresh token (and retires the old) */
    cJSON *roles;        /* [{accountId, roleName}]; NULL: every role */
    long role_duration;
    char *user;
    struct sso_session *next;
};

struct sso_token {
    char *token;
    long long expires;
    struct sso_session *session;
    struct sso_token *next;
};

struct login_session {
    char *client_id;
    char *refresh_token;
    long long refresh_expires;
    char *arn;
    const char *account;        /* interned */
    unsigned char x[32], y[32]; /* the DPoP public key the refresh token is bound to */
    char *error;                /* AccessDeniedException code forced on the next refresh */
    long expires_in;
    struct login_session *next;
};

struct account_id {
    struct account_id *next;
    char id[];
};

struct identity {
    pthread_mutex_t lock;
    const char *default_account; /* interned */
    struct account_id *accounts; /* interned account ids; never shrinks before identity_free */
    struct strmap temp;          /* access key id -> struct temp_cred */
    struct temp_cred *temp_list; /* the same credentials, newest first */
    struct role *roles;
    struct sso_session *sso_sessions;
    struct sso_token *sso_tokens;
    struct login_session *logins;
    cJSON *used_jti; /* object: jti -> true, for proofs that already won a token */
    cJSON *calls;    /* object: operation -> count */
    long long clock_offset;
};

/* ------------------------------------------------------------------------------------ */
/* Small helpers */

static long long id_now(const struct identity *id)
{
    return (long long)time(NULL) + id->clock_offset;
}

static void iso_time(long long t, char out[21]) { emu_iso_time((double)t, out); }

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number member, or def when absent; -1 in *bad when present but not a number. */
static double jnum(const cJSON *o, const char *key, double def, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return def;
    if (!cJSON_IsNumber(v)) {
        *bad = 1;
        return def;
    }
    return v->valuedouble;
}

static const char *intern_account(struct identity *id, const char *account)
{
    for (const struct account_id *a = id->accounts; a; a = a->next)
        if (!strcmp(a->id, account))
            return a->id;
    size_t n = strlen(account);
    struct account_id *a = malloc(sizeof *a + n + 1);
    if (!a)
        return id->default_account;
    memcpy(a->id, account, n + 1);
    a->next = id->accounts;
    id->accounts = a;
    return a->id;
}

static void random_upper(char *out, size_t n)
{
    emu_random_alnum(out, n);
    for (size_t i = 0; i < n; i++) {
        out[i] = (char)toupper((unsigned char)out[i]);
        if (out[i] == '0')
            out[i] = '7'; /* IAM ids avoid 0/O confusion; any other digit will do */
    }
}

static char *random_token(const char *prefix, size_t n)
{
    size_t pl = strlen(prefix);
    char *s = malloc(pl + n + 1);
    if (!s)
        return NULL;
    memcpy(s, prefix, pl);
    emu_random_alnum(s + pl, n);
    return s;
}

static void count_call(struct identity *id, const char *op)
{
    pthread_mutex_lock(&id->lock);
    cJSON *c = cJSON_GetObjectItemCaseSensitive(id->calls, op);
    if (c)
        cJSON_SetNumberValue(c, c->valuedouble + 1);
    else
        cJSON_AddNumberToObject(id->calls, op, 1);
    pthread_mutex_unlock(&id->lock);
}

/* base64url without padding -> bytes (malloc'd, NUL-terminated); NULL when malformed. */
static char *b64url_decode(const char *s, size_t n, size_t *len_out)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/' || c == '=')
            c = '!'; /* not base64url: make the decoder refuse it */
        buf_putc(&b, c);
    }
    while (b.len % 4)
        buf_putc(&b, '=');
    char *out = buf_failed(&b) || !b.len ? NULL : emu_base64_decode(buf_str(&b), len_out);
    buf_free(&b);
    return out;
}

static void b64url_put(struct buf *b, const void *data, size_t len)
{
    char *t = emu_base64_encode(data, len);
    if (!t) {
        b->failed = 1;
        return;
    }
    for (char *p = t; *p && *p != '='; p++)
        buf_putc(b, *p == '+' ? '-' : *p == '/' ? '_' : *p);
    free(t);
}

/* Decodes an application/x-www-form-urlencoded text into an object of strings (the last of
 * repeated keys wins). */
static void form_decode_into(struct buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            buf_putc(out, ' ');
        } else if (s[i] == '%' && i + 2 < n && ivs_hex_value(s[i + 1]) >= 0 &&
                   ivs_hex_value(s[i + 2]) >= 0) {
            buf_putc(out, (char)(ivs_hex_value(s[i + 1]) * 16 + ivs_hex_value(s[i + 2])));
            i += 2;
        } else {
            buf_putc(out, s[i]);
        }
    }
}

static void form_parse(cJSON *into, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&')
            j++;
        size_t eq = i;
        while (eq < j && s[eq] != '=')
            eq++;
        struct buf k = BUF_INIT, v = BUF_INIT;
        form_decode_into(&k, s + i, eq - i);
        if (eq < j)
            form_decode_into(&v, s + eq + 1, j - eq - 1);
        if (k.len && !buf_failed(&k) && !buf_failed(&v)) {
            cJSON_DeleteItemFromObjectCaseSensitive(into, buf_str(&k));
            cJSON_AddStringToObject(into, buf_str(&k), buf_str(&v));
        }
        buf_free(&k);
        buf_free(&v);
        i = j + 1;
    }
}

static void xml_put(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&apos;"); break;
        default: buf_putc(b, *s);
        }
    }
}

static void xml_elem(struct buf *b, const char *name, const char *value)
{
    buf_printf(b, "<%s>", name);
    xml_put(b, value);
    buf_printf(b, "</%s>", name);
}

/* A verbatim reply: body (taken over) with its content type; error_type (may be NULL) is
 * sent as x-amzn-ErrorType. */
static void reply_raw(struct emu_reply *out, int status, const char *error_type,
                      const char *content_type, struct buf *body)
{
    emu_reply_cleanup(out);
    out->status = status;
    if (error_type) {
        snprintf(out->type_buf, sizeof out->type_buf, "%s", error_type);
        out->error_type = out->type_buf;
    }
    out->content_type = content_type;
    if (buf_failed(body)) {
        buf_free(body);
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    out->body = buf_steal(body);
}

static void reply_json_raw(struct emu_reply *out, int status, const char *error_type, cJSON *o)
{
    struct buf b = BUF_INIT;
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (text)
        buf_puts(&b, text);
    else
        b.failed = 1;
    free(text);
    reply_raw(out, status, error_type, "application/json", &b);
}

/* ------------------------------------------------------------------------------------ */
/* Temporary credentials */

static void temp_free(struct temp_cred *t)
{
    if (!t)
        return;
    if (t->token)
        explicit_bzero(t->token, strlen(t->token));
    explicit_bzero(t->secret, sizeof t->secret);
    free(t->token);
    free(t->arn);
    free(t->user_id);
    free(t);
}

/* Drops credentials that expired more than an hour ago, so a long-running emulator does not
 * grow without bound (recently expired ones still answer ExpiredToken). */
static void temp_prune(struct identity *id)
{
    long long cutoff = id_now(id) - 3600;
    for (struct temp_cred *t = id->temp_list, *n; t; t = n) {
        n = t->next;
        if (t->expires < cutoff) {
            strmap_remove(&id->temp, t->akid);
            if (t->prev)
                t->prev->next = t->next;
            else
                id->temp_list = t->next;
            if (t->next)
                t->next->prev = t->prev;
            temp_free(t);
        }
    }
}

struct issued {
    char akid[24];
    char secret[48];
    char token[400];
    long long expires;
};

/* Issues temporary credentials for the caller identity arn in account; called with the lock
 * held. Returns 0 or -1 (out of memory, or too many live credentials). */
static int issue(struct identity *id, const char *account, const char *arn, const char *user_id,
                 int chained, long long duration, struct issued *out)
{
    if (id->temp.count >= MAX_TEMP_CREDENTIALS)
        temp_prune(id);
    if (id->temp.count >= MAX_TEMP_CREDENTIALS)
        return -1;
    struct temp_cred *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    memcpy(t->akid, "ASIA", 4);
    random_upper(t->akid + 4, 16);
    emu_random_alnum(t->secret, 40);
    /* Session tokens are long opaque base64 in real life; the prefix is the common one. */
    t->token = random_token("IQoJb3JpZ2luX2VjE", 300);
    t->account = intern_account(id, account);
    t->arn = strdup(arn);
    t->user_id = strdup(user_id);
    t->chained = chained;
    t->expires = id_now(id) + duration;
    if (!t->token || !t->arn || !t->user_id || strmap_get(&id->temp, t->akid) ||
        strmap_put(&id->temp, t->akid, t) != 0) {
        temp_free(t);
        return -1;
    }
    t->next = id->temp_list;
    if (t->next)
        t->next->prev = t;
    id->temp_list = t;
    memcpy(out->akid, t->akid, sizeof out->akid);
    memcpy(out->secret, t->secret, sizeof out->secret);
    snprintf(out->token, sizeof out->token, "%s", t->token);
    out->expires = t->expires;
    return 0;
}

static void issued_wipe(struct issued *c) { explicit_bzero(c, sizeof *c); }

int identity_lookup(void *ud, const char *access_key_id, const char *session_token,
                    struct emu_temp_credential *out)
{
    struct identity *id = ud;
    int rc = -1;
    pthread_mutex_lock(&id->lock);
    struct temp_cred *t = strmap_get(&id->temp, access_key_id);
    if (t) {
        rc = 1;
        if (session_token && sigv4_equal_ct(session_token, t->token)) {
            snprintf(out->secret_access_key, sizeof out->secret_access_key, "%s", t->secret);
            out->account = t->account;
            out->expired = id_now(id) >= t->expires;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&id->lock);
    return rc;
}

/* ------------------------------------------------------------------------------------ */
/* Life cycle */

static void free_roles(struct role *r)
{
    while (r) {
        struct role *n = r->next;
        free(r->arn);
        free(r->external_id);
        free(r->mfa_serial);
        free(r->mfa_code);
        free(r);
        r = n;
    }
}

static void free_secret(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

static void clear_state(struct identity *id)
{
    for (struct temp_cred *t = id->temp_list, *n; t; t = n) {
        n = t->next;
        temp_free(t);
    }
    id->temp_list = NULL;
    strmap_free(&id->temp);
    memset(&id->temp, 0, sizeof id->temp);
    free_roles(id->roles);
    id->roles = NULL;
    for (struct sso_session *s = id->sso_sessions, *n; s; s = n) {
        n = s->next;
        free(s->client_id);
        free_secret(s->client_secret);
        free_secret(s->refresh_token);
        cJSON_Delete(s->roles);
        free(s->user);
        free(s);
    }
    id->sso_sessions = NULL;
    for (struct sso_token *t = id->sso_tokens, *n; t; t = n) {
        n = t->next;
        free_secret(t->token);
        free(t);
    }
    id->sso_tokens = NULL;
    for (struct login_session *l = id->logins, *n; l; l = n) {
        n = l->next;
        free(l->client_id);
        free_secret(l->refresh_token);
        free(l->arn);
        free(l->error);
        free(l);
    }
    id->logins = NULL;
    cJSON_Delete(id->used_jti);
    id->used_jti = cJSON_CreateObject();
    cJSON_Delete(id->calls);
    id->calls = cJSON_CreateObject();
    id->clock_offset = 0;
}

struct identity *identity_new(const char *default_account)
{
    struct identity *id = calloc(1, sizeof *id);
    if (!id)
        return NULL;
    pthread_mutex_init(&id->lock, NULL);
    id->used_jti = cJSON_CreateObject();
    id->calls = cJSON_CreateObject();
    id->default_account = intern_account(id, default_account);
    if (!id->used_jti || !id->calls || !id->default_account) {
        identity_free(id);
        return NULL;
    }
    return id;
}

void identity_reset(struct identity *id)
{
    pthread_mutex_lock(&id->lock);
    clear_state(id);
    pthread_mutex_unlock(&id->lock);
}

void identity_free(struct identity *id)
{
    if (!id)
        return;
    clear_state(id);
    cJSON_Delete(id->used_jti);
    cJSON_Delete(id->calls);
    for (struct account_id *a = id->accounts, *n; a; a = n) {
        n = a->next;
        free(a);
    }
    pthread_mutex_destroy(&id->lock);
    free(id);
}

/* ------------------------------------------------------------------------------------ */
/* Routing */

enum route { R_NONE, R_STS, R_PORTAL, R_OIDC, R_SIGNIN };

static enum route route_of(const struct emu_request_view *req)
{
    const char *m = req->method, *p = req->raw_path;
    if (!strcmp(p, "/federation/credentials") && !strcmp(m, "GET"))
        return R_PORTAL;
    if (!strcmp(p, "/token") && !strcmp(m, "POST"))
        return R_OIDC;
    if (!strcmp(p, "/v1/token") && !strcmp(m, "POST"))
        return R_SIGNIN;
    if (strcmp(p, "/") != 0 || (strcmp(m, "POST") != 0 && strcmp(m, "GET") != 0))
        return R_NONE;
    /* IVS has no operation at "/": the query protocol's shapes and the sts scope decide. */
    const char *ct = emu_header(req, "content-type");
    if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        return R_STS;
    if (!strncmp(req->raw_query, "Action=", 7) || strstr(req->raw_query, "&Action="))
        return R_STS;
    char akid[128], svc[64];
    if (auth_scope_key(emu_header(req, "authorization"), akid, sizeof akid, svc, sizeof svc) == 0 &&
        !strcmp(svc, "sts"))
        return R_STS;
    return R_NONE;
}

int identity_route(const struct emu_request_view *req) { return route_of(req) != R_NONE; }

int identity_is_operation(const char *name)
{
    static const char *const ops[] = {"AssumeRole",        "AssumeRoleWithWebIdentity",
                                      "GetCallerIdentity", "GetRoleCredentials",
                                      "CreateToken",       "CreateOAuth2Token"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i], name))
            return 1;
    return 0;
}

/* Applies a fault armed for op: 1 when it answered (or dropped, *drop set), else 0. */
static int take_fault(struct store *store, const char *op, int *drop,
                      void (*answer)(struct emu_reply *, int, const char *, const char *, void *),
                      void *ctx, struct emu_reply *out)
{
    struct emu_fault_action f;
    if (!store || !store_take_fault(store, op, &f))
        return 0;
    if (f.latency_ms > 0) {
        struct timespec t = {f.latency_ms / 1000, (f.latency_ms % 1000) * 1000000L};
        while (nanosleep(&t, &t) != 0)
            ;
    }
    if (f.drop_connection) {
        *drop = 1;
        return 1;
    }
    if (!f.status)
        return 0;
    answer(out, f.status, f.error_type, f.message, ctx);
    return 1;
}

/* ------------------------------------------------------------------------------------ */
/* STS */

struct sts_ctx {
    const char *request_id;
};

static void sts_error(struct emu_reply *out, int status, const char *code, const char *message,
                      void *ctx)
{
    const struct sts_ctx *c = ctx;
    struct buf b = BUF_INIT;
    buf_puts(&b, "<ErrorResponse xmlns=\"" STS_NS "\">\n  <Error>\n    <Type>");
    buf_puts(&b, status >= 500 ? "Receiver" : "Sender");
    buf_puts(&b, "</Type>\n    ");
    xml_elem(&b, "Code", code);
    buf_puts(&b, "\n    ");
    xml_elem(&b, "Message", message);
    buf_puts(&b, "\n  </Error>\n  ");
    xml_elem(&b, "RequestId", c->request_id);
    buf_puts(&b, "\n</ErrorResponse>\n");
    reply_raw(out, status, NULL, "text/xml", &b);
}

static void sts_errorf(struct emu_reply *out, const struct sts_ctx *c, int status, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void sts_errorf(struct emu_reply *out, const struct sts_ctx *c, int status, const char *code,
                       const char *fmt, ...)
{
    struct buf m = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&m, fmt, ap);
    va_end(ap);
    sts_error(out, status, code, buf_str(&m), (void *)c);
    buf_free(&m);
}

static void sts_success(struct emu_reply *out, const struct sts_ctx *c, const char *action,
                        struct buf *result)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "<%sResponse xmlns=\"" STS_NS "\">\n  <%sResult>\n", action, action);
    buf_append(&b, result->data ? result->data : "", result->len);
    buf_printf(&b, "  </%sResult>\n  <ResponseMetadata>\n    ", action);
    xml_elem(&b, "RequestId", c->request_id);
    buf_printf(&b, "\n  </ResponseMetadata>\n</%sResponse>\n", action);
    if (result->data)
        explicit_bzero(result->data, result->len);
    buf_free(result);
    reply_raw(out, 200, NULL, "text/xml", &b);
}

static void put_credentials_xml(struct buf *b, const struct issued *cr)
{
    char exp[21];
    iso_time(cr->expires, exp);
    buf_puts(b, "    <Credentials>\n      ");
    xml_elem(b, "AccessKeyId", cr->akid);
    buf_puts(b, "\n      ");
    xml_elem(b, "SecretAccessKey", cr->secret);
    buf_puts(b, "\n      ");
    xml_elem(b, "SessionToken", cr->token);
    buf_puts(b, "\n      ");
    xml_elem(b, "Expiration", exp);
    buf_puts(b, "\n    </Credentials>\n");
}

/* The front door's SigV4 errors, as STS names them. */
static void sts_auth_error(struct emu_reply *out, const struct sts_ctx *c)
{
    static const struct {
        const char *front, *code, *message;
        int status;
    } map[] = {
        {"MissingAuthenticationTokenException", "MissingAuthenticationToken",
         "Request is missing Authentication Token", 403},
        {"IncompleteSignatureException", "IncompleteSignature", NULL, 400},
        {"InvalidSignatureException", "SignatureDoesNotMatch", NULL, 403},
        {"UnrecognizedClientException", "InvalidClientTokenId",
         "The security token included in the request is invalid.", 403},
        {"ExpiredTokenException", "ExpiredToken",
         "The security token included in the request is expired", 403},
    };
    char *msg = out->message ? strdup(out->message) : NULL;
    const char *type = out->error_type ? out->type_buf : "";
    size_t i = 0;
    while (i < sizeof map / sizeof map[0] - 1 && strcmp(map[i].front, type) != 0)
        i++;
    if (strcmp(map[i].front, type) != 0)
        i = 2; /* anything else the verifier says is a signature problem */
    sts_error(out, map[i].status, map[i].code,
              map[i].message ? map[i].message
              : msg          ? msg
                             : "",
              (void *)c);
    free(msg);
}

/* Parses arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME. */
static int parse_role_arn(const char *arn, char partition[32], char account[13], const char **name)
{
    const char *p = arn;
    if (strncmp(p, "arn:", 4) != 0)
        return -1;
    p += 4;
    const char *colon = strchr(p, ':');
    if (!colon || colon == p || (size_t)(colon - p) >= 32)
        return -1;
    memcpy(partition, p, (size_t)(colon - p));
    partition[colon - p] = '\0';
    p = colon + 1;
    if (strncmp(p, "iam::", 5) != 0)
        return -1;
    p += 5;
    for (int i = 0; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    memcpy(account, p, 12);
    account[12] = '\0';
    p += 12;
    if (strncmp(p, ":role/", 6) != 0)
        return -1;
    p += 6;
    const char *slash = strrchr(p, '/');
    *name = slash ? slash + 1 : p;
    return **name ? 0 : -1;
}

/* The role's unique id: AROA + 17 characters derived from its ARN, stable across restarts. */
static void role_id(const char *arn, char out[22])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNPQRSTUVWXYZ23456789";
    uint64_t h = emu_hash(arn), h2 = emu_hash(arn) ^ 0x9e3779b97f4a7c15ULL;
    memcpy(out, "AROA", 4);
    for (int i = 0; i < 17; i++) {
        uint64_t *src = i < 9 ? &h : &h2;
        out[4 + i] = alphabet[*src % 33];
        *src /= 33;
        if (i == 8)
            h2 = h2 * 0x100000001b3ULL + h;
    }
    out[21] = '\0';
}

static int session_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 64)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_+=,.@-", *s))
            return 0;
    return 1;
}

/* Whether a role may be assumed: a registered role, or any well-formed role of an account
 * that has no registered roles. Called with the lock held; *reg is the registration. */
static int role_known(const struct identity *id, const char *arn, const char *account,
                      const struct role **reg)
{
    int closed = 0;
    *reg = NULL;
    for (const struct role *r = id->roles; r; r = r->next) {
        if (!strcmp(r->arn, arn)) {
            *reg = r;
            return 1;
        }
        char part[32], acct[13];
        const char *name;
        if (parse_role_arn(r->arn, part, acct, &name) == 0 && !strcmp(acct, account))
            closed = 1;
    }
    return !closed;
}

/* The common AssumeRole* inputs: RoleArn, RoleSessionName, DurationSeconds. Returns 0, or
 * answers the validation error and returns -1. */
static int sts_role_inputs(const cJSON *params, const struct sts_ctx *c, struct emu_reply *out,
                           const char **arn, const char **session, long *duration, int *have_dur)
{
    *arn = jstr(params, "RoleArn");
    *session = jstr(params, "RoleSessionName");
    const char *dur = jstr(params, "DurationSeconds");
    if (!*arn) {
        sts_errorf(out, c, 400, "ValidationError",
                   "1 validation error detected: Value null at 'roleArn' failed to satisfy "
                   "constraint: Member must not be null");
        return -1;
    }
    if (!*session) {
        sts_errorf(out, c, 400, "ValidationError",
                   "1 validation error detected: Value null at 'roleSessionName' failed to "
                   "satisfy constraint: Member must not be null");
        return -1;
    }
    if (!session_name_ok(*session)) {
        sts_errorf(out, c, 400, "ValidationError",
                   "1 validation error detected: Value '%s' at 'roleSessionName' failed to "
                   "satisfy constraint: Member must have length between 2 and 64 and match "
                   "regular expression pattern: [\\w+=,.@-]*",
                   *session);
        return -1;
    }
    *have_dur = dur != NULL;
    *duration = DEFAULT_ROLE_MAX_SESSION;
    if (dur) {
        char *end = NULL;
        long v = strtol(dur, &end, 10);
        if (!*dur || *end || v < MIN_DURATION || v > MAX_DURATION) {
            sts_errorf(out, c, 400, "ValidationError",
                       "1 validation error detected: Value '%s' at 'durationSeconds' failed to "
                       "satisfy constraint: Member must have value between %d and %d",
                       dur, MIN_DURATION, MAX_DURATION);
            return -1;
        }
        *duration = v;
    }
    char part[32], acct[13];
    const char *name;
    if (strlen(*arn) < 20 || parse_role_arn(*arn, part, acct, &name) != 0) {
        sts_errorf(out, c, 400, "ValidationError", "%s is invalid", *arn);
        return -1;
    }
    return 0;
}

struct caller {
    char arn[512];
    char user_id[160];
    char account[16];
    int chained;
};

/* Who signed the request (after auth_verify accepted it). */
static void sts_caller(struct identity *id, const struct emu_request_view *req, const char *account,
                       struct caller *who)
{
    char akid[128], svc[64];
    memset(who, 0, sizeof *who);
    snprintf(who->account, sizeof who->account, "%s", account);
    snprintf(who->arn, sizeof who->arn, "arn:aws:iam::%s:root", account);
    snprintf(who->user_id, sizeof who->user_id, "%s", account);
    if (auth_scope_key(emu_header(req, "authorization"), akid, sizeof akid, svc, sizeof svc) != 0)
        return;
    pthread_mutex_lock(&id->lock);
    const struct temp_cred *t = strmap_get(&id->temp, akid);
    if (t) {
        snprintf(who->arn, sizeof who->arn, "%s", t->arn);
        snprintf(who->user_id, sizeof who->user_id, "%s", t->user_id);
        who->chained = t->chained;
    }
    pthread_mutex_unlock(&id->lock);
}

static void sts_assume_role(struct identity *id, const cJSON *params, const struct caller *who,
                            const struct sts_ctx *c, struct emu_reply *out)
{
    const char *arn, *session;
    long duration;
    int have_dur;
    if (sts_role_inputs(params, c, out, &arn, &session, &duration, &have_dur) != 0)
        return;
    const char *external_id = jstr(params, "ExternalId");
    const char *serial = jstr(params, "SerialNumber");
    const char *code = jstr(params, "TokenCode");
    char part[32], account[13];
    const char *name;
    parse_role_arn(arn, part, account, &name);
    if (who->chained && duration > CHAINED_MAX_DURATION) {
        sts_errorf(out, c, 400, "ValidationError",
                   "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                   "assumed by role chaining.");
        return;
    }
    pthread_mutex_lock(&id->lock);
    const struct role *reg;
    int known = role_known(id, arn, account, &reg);
    long max_session = reg ? reg->max_session : DEFAULT_ROLE_MAX_SESSION;
    int denied = !known || (reg && reg->external_id &&
                            (!external_id || strcmp(reg->external_id, external_id) != 0));
    int mfa_missing = reg && reg->mfa_serial && (!serial || strcmp(reg->mfa_serial, serial) != 0);
    int mfa_bad = reg && reg->mfa_serial && !mfa_missing &&
                  (!code || strcmp(code, reg->mfa_code ? reg->mfa_code : "123456") != 0);
    if (denied || mfa_missing) {
        pthread_mutex_unlock(&id->lock);
        sts_errorf(out, c, 403, "AccessDenied",
                   "User: %s is not authorized to perform: sts:AssumeRole on resource: %s",
                   who->arn, arn);
        return;
    }
    if (mfa_bad) {
        pthread_mutex_unlock(&id->lock);
        sts_errorf(out, c, 403, "AccessDenied",
                   "MultiFactorAuthentication failed with invalid MFA one time pass code. ");
        return;
    }
    if (have_dur && duration > max_session) {
        pthread_mutex_unlock(&id->lock);
        sts_errorf(out, c, 400, "ValidationError",
                   "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                   "role.");
        return;
    }
    char rid[22], user_id[160], assumed[512];
    role_id(arn, rid);
    snprintf(user_id, sizeof user_id, "%s:%s", rid, session);
    snprintf(assumed, sizeof assumed, "arn:%s:sts::%s:assumed-role/%s/%s", part, account, name,
             session);
    struct issued cr;
    int rc = issue(id, account, assumed, user_id, 1, duration, &cr);
    pthread_mutex_unlock(&id->lock);
    if (rc != 0) {
        sts_error(out, 500, "InternalFailure", "The credentials could not be issued.", (void *)c);
        return;
    }
    struct buf r = BUF_INIT;
    put_credentials_xml(&r, &cr);
    buf_puts(&r, "    <AssumedRoleUser>\n      ");
    xml_elem(&r, "AssumedRoleId", user_id);
    buf_puts(&r, "\n      ");
    xml_elem(&r, "Arn", assumed);
    buf_puts(&r, "\n    </AssumedRoleUser>\n");
    issued_wipe(&cr);
    sts_success(out, c, "AssumeRole", &r);
}

/* The claims of a web identity token: a JWT whose payload carries sub (required), iss, aud and
 * exp. The signature is not checked (there is no identity provider to ask). */
static int web_identity_claims(const char *token, cJSON **claims)
{
    *claims = NULL;
    size_t n = strlen(token);
    /* The token file's trailing newline is not part of the token. */
    while (n && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
        n--;
    const char *d1 = memchr(token, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - token)))
        return -1;
    size_t plen;
    char *payload = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &plen);
    if (!payload)
        return -1;
    cJSON *o = cJSON_ParseWithLength(payload, plen);
    free(payload);
    if (!cJSON_IsObject(o) || !jstr(o, "sub") || !*jstr(o, "sub")) {
        cJSON_Delete(o);
        return -1;
    }
    *claims = o;
    return 0;
}

static void sts_web_identity(struct identity *id, const cJSON *params, const struct sts_ctx *c,
                             struct emu_reply *out)
{
    const char *arn, *session;
    long duration;
    int have_dur;
    if (sts_role_inputs(params, c, out, &arn, &session, &duration, &have_dur) != 0)
        return;
    const char *token = jstr(params, "WebIdentityToken");
    if (!token) {
        sts_errorf(out, c, 400, "ValidationError",
                   "1 validation error detected: Value null at 'webIdentityToken' failed to "
                   "satisfy constraint: Member must not be null");
        return;
    }
    cJSON *claims;
    if (strlen(token) < 4 || web_identity_claims(token, &claims) != 0) {
        sts_errorf(out, c, 400, "InvalidIdentityToken",
                   "The web identity token that was passed could not be validated by AWS. Get a "
                   "new identity token from the identity provider and then retry the request.");
        return;
    }
    const char *sub = jstr(claims, "sub");
    const char *iss = jstr(claims, "iss");
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud");
    if (cJSON_IsArray(aud))
        aud = cJSON_GetArrayItem(aud, 0);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
    long long now = id_now(id);
    if (cJSON_IsNumber(exp) && (long long)exp->valuedouble <= now) {
        char a[21], b[21];
        iso_time(now, a);
        iso_time((long long)exp->valuedouble, b);
        sts_errorf(out, c, 400, "ExpiredTokenException",
                   "Token expired: current date/time %s must be before the expiration date/time "
                   "%s",
                   a, b);
        cJSON_Delete(claims);
        return;
    }
    char part[32], account[13];
    const char *name;
    parse_role_arn(arn, part, account, &name);
    pthread_mutex_lock(&id->lock);
    const struct role *reg;
    int known = role_known(id, arn, account, &reg);
    long max_session = reg ? reg->max_session : DEFAULT_ROLE_MAX_SESSION;
    if (!known) {
        pthread_mutex_unlock(&id->lock);
        cJSON_Delete(claims);
        sts_errorf(out, c, 403, "AccessDenied",
                   "Not authorized to perform sts:AssumeRoleWithWebIdentity");
        return;
    }
    if (have_dur && duration > max_session) {
        pthread_mutex_unlock(&id->lock);
        cJSON_Delete(claims);
        sts_errorf(out, c, 400, "ValidationError",
                   "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                   "role.");
        return;
    }
    char rid[22], user_id[160], assumed[512];
    role_id(arn, rid);
    snprintf(user_id, sizeof user_id, "%s:%s", rid, session);
    snprintf(assumed, sizeof assumed, "arn:%s:sts::%s:assumed-role/%s/%s", part, account, name,
             session);
    struct issued cr;
    int rc = issue(id, account, assumed, user_id, 1, duration, &cr);
    pthread_mutex_unlock(&id->lock);
    if (rc != 0) {
        cJSON_Delete(claims);
        sts_error(out, 500, "InternalFailure", "The credentials could not be issued.", (void *)c);
        return;
    }
    struct buf r = BUF_INIT;
    if (cJSON_IsString(aud)) {
        buf_puts(&r, "    ");
        xml_elem(&r, "Audience", aud->valuestring);
        buf_puts(&r, "\n");
    }
    buf_puts(&r, "    <AssumedRoleUser>\n      ");
    xml_elem(&r, "AssumedRoleId", user_id);
    buf_puts(&r, "\n      ");
    xml_elem(&r, "Arn", assumed);
    buf_puts(&r, "\n    </AssumedRoleUser>\n");
    if (iss) {
        buf_puts(&r, "    ");
        xml_elem(&r, "Provider", iss);
        buf_puts(&r, "\n");
    }
    put_credentials_xml(&r, &cr);
    buf_puts(&r, "    ");
    xml_elem(&r, "SubjectFromWebIdentityToken", sub);
    buf_puts(&r, "\n");
    issued_wipe(&cr);
    cJSON_Delete(claims);
    sts_success(out, c, "AssumeRoleWithWebIdentity", &r);
}

static int sts_handle(struct identity *id, const struct emu_auth *auth,
                      struct sigv4_key_cache *cache, struct store *store,
                      const struct emu_request_view *req, const char *request_id,
                      struct emu_reply *out)
{
    struct sts_ctx c = {request_id};
    cJSON *params = cJSON_CreateObject();
    if (!params) {
        sts_error(out, 500, "InternalFailure", "Out of memory.", &c);
        return 0;
    }
    form_parse(params, req->raw_query, strlen(req->raw_query));
    const char *ct = emu_header(req, "content-type");
    if (req->body_len && ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        form_parse(params, req->body, req->body_len);
    const char *action = jstr(params, "Action");
    const char *version = jstr(params, "Version");
    int drop = 0;
    if (!action) {
        sts_error(out, 400, "MissingAction", "Missing Action", &c);
    } else if ((version && strcmp(version, STS_VERSION) != 0) ||
               (strcmp(action, "AssumeRole") != 0 &&
                strcmp(action, "AssumeRoleWithWebIdentity") != 0 &&
                strcmp(action, "GetCallerIdentity") != 0)) {
        sts_errorf(out, &c, 400, "InvalidAction", "Could not find operation %s for version %s",
                   action, version ? version : STS_VERSION);
    } else {
        count_call(id, action);
        if (take_fault(store, action, &drop, sts_error, &c, out)) {
            /* answered (or dropped) by the injected fault */
        } else if (!strcmp(action, "AssumeRoleWithWebIdentity")) {
            /* Unsigned by design: the token is the credential. */
            sts_web_identity(id, params, &c, out);
        } else {
            const char *account = id->default_account;
            char region[64];
            struct caller who;
            struct emu_auth sts_auth;
            if (auth) {
                sts_auth = *auth;
                sts_auth.service = "sts";
            }
            /* Without an auth (--no-auth) the signer is taken at its word. */
            if (auth && auth_verify(&sts_auth, req, (long long)time(NULL), cache, &account, region,
                                    sizeof region, out) != 0) {
                sts_auth_error(out, &c);
            } else {
                sts_caller(id, req, account, &who);
                if (!strcmp(action, "AssumeRole")) {
                    sts_assume_role(id, params, &who, &c, out);
                } else {
                    struct buf r = BUF_INIT;
                    buf_puts(&r, "    ");
                    xml_elem(&r, "Arn", who.arn);
                    buf_puts(&r, "\n    ");
                    xml_elem(&r, "UserId", who.user_id);
                    buf_puts(&r, "\n    ");
                    xml_elem(&r, "Account", who.account);
                    buf_puts(&r, "\n");
                    sts_success(out, &c, "GetCallerIdentity", &r);
                }
            }
        }
    }
    cJSON_Delete(params);
    return drop ? -1 : 0;
}

/* ------------------------------------------------------------------------------------ */
/* IAM Identity Center portal: GetRoleCredentials */

static void portal_error(struct emu_reply *out, int status, const char *type, const char *message,
                         void *ctx)
{
    (void)ctx;
    emu_reply_error(out, status, type, "%s", message);
    out->front_door = 1; /* {"message": ...} only, as the portal's model says */
}

static int role_assigned(const struct sso_session *s, const char *account, const char *role)
{
    if (!s->roles)
        return 1;
    const cJSON *r;
    cJSON_ArrayForEach(r, s->roles)
    {
        const char *a = jstr(r, "accountId"), *n = jstr(r, "roleName");
        if (a && n && !strcmp(a, account) && !strcmp(n, role))
            return 1;
    }
    return 0;
}

static int portal_handle(struct identity *id, struct store *store,
                         const struct emu_request_view *req, struct emu_reply *out)
{
    int drop = 0;
    count_call(id, "GetRoleCredentials");
    if (take_fault(store, "GetRoleCredentials", &drop, portal_error, NULL, out))
        return drop ? -1 : 0;
    cJSON *q = cJSON_CreateObject();
    if (q)
        form_parse(q, req->raw_query, strlen(req->raw_query));
    const char *role = jstr(q, "role_name"), *account = jstr(q, "account_id");
    const char *token = emu_header(req, "x-amz-sso_bearer_token");
    if (!token || !*token) {
        portal_error(out, 401, "UnauthorizedException", "Session token not found or invalid", NULL);
    } else if (!role || !*role || !account || strlen(account) != 12) {
        portal_error(out, 400, "InvalidRequestException",
                     "role_name and a 12-digit account_id are required", NULL);
    } else {
        pthread_mutex_lock(&id->lock);
        long long now = id_now(id);
        const struct sso_token *t = id->sso_tokens;
        while (t && !sigv4_equal_ct(t->token, token))
            t = t->next;
        if (!t || t->expires <= now) {
            pthread_mutex_unlock(&id->lock);
            portal_error(out, 401, "UnauthorizedException", "Session token not found or invalid",
                         NULL);
        } else if (!role_assigned(t->session, account, role)) {
            pthread_mutex_unlock(&id->lock);
            portal_error(out, 403, "ForbiddenException", "No access", NULL);
        } else {
            char rid[22], user_id[200], arn[512], role_arn[300];
            snprintf(role_arn, sizeof role_arn, "arn:aws:iam::%s:role/AWSReservedSSO_%s", account,
                     role);
            role_id(role_arn, rid);
            snprintf(user_id, sizeof user_id, "%s:%s", rid, t->session->user);
            snprintf(arn, sizeof arn, "arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s/%s", account,
                     role, t->session->user);
            struct issued cr;
            int rc = issue(id, account, arn, user_id, 1, t->session->role_duration, &cr);
            pthread_mutex_unlock(&id->lock);
            if (rc != 0) {
                portal_error(out, 500, "InternalServerException",
                             "The credentials could not be issued.", NULL);
            } else {
                cJSON *o = cJSON_CreateObject();
                cJSON *rc_obj = cJSON_AddObjectToObject(o, "roleCredentials");
                cJSON_AddStringToObject(rc_obj, "accessKeyId", cr.akid);
                cJSON_AddStringToObject(rc_obj, "secretAccessKey", cr.secret);
                cJSON_AddStringToObject(rc_obj, "sessionToken", cr.token);
                cJSON_AddNumberToObject(rc_obj, "expiration", (double)cr.expires * 1000.0);
                issued_wipe(&cr);
                reply_json_raw(out, 200, NULL, o);
            }
        }
    }
    cJSON_Delete(q);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* SSO-OIDC: CreateToken */

static void oidc_error(struct emu_reply *out, int status, const char *type, const char *message,
                       void *ctx)
{
    (void)ctx;
    static const struct {
        const char *type, *error;
    } codes[] = {{"InvalidRequestException", "invalid_request"},
                 {"InvalidClientException", "invalid_client"},
                 {"InvalidGrantException", "invalid_grant"},
                 {"UnsupportedGrantTypeException", "unsupported_grant_type"},
                 {"ExpiredTokenException", "expired_token"},
                 {"AccessDeniedException", "access_denied"},
                 {"InternalServerException", "server_error"}};
    const char *error = NULL;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (!strcmp(codes[i].type, type))
            error = codes[i].error;
    cJSON *o = cJSON_CreateObject();
    if (error)
        cJSON_AddStringToObject(o, "error", error);
    cJSON_AddStringToObject(o, "error_description", message);
    reply_json_raw(out, status, type, o);
}

static int oidc_handle(struct identity *id, struct store *store, const struct emu_request_view *req,
                       struct emu_reply *out)
{
    int drop = 0;
    count_call(id, "CreateToken");
    if (take_fault(store, "CreateToken", &drop, oidc_error, NULL, out))
        return drop ? -1 : 0;
    cJSON *in = cJSON_ParseWithLength(req->body, req->body_len);
    const char *client_id = jstr(in, "clientId"), *secret = jstr(in, "clientSecret");
    const char *grant = jstr(in, "grantType"), *refresh = jstr(in, "refreshToken");
    if (!cJSON_IsObject(in) || !client_id || !secret || !grant) {
        oidc_error(out, 400, "InvalidRequestException",
                   "clientId, clientSecret and grantType are required", NULL);
        cJSON_Delete(in);
        return 0;
    }
    if (strcmp(grant, "refresh_token") != 0) {
        oidc_error(out, 400, "UnsupportedGrantTypeException",
                   "The emulator serves only the refresh_token grant", NULL);
        cJSON_Delete(in);
        return 0;
    }
    if (!refresh || !*refresh) {
        oidc_error(out, 400, "InvalidRequestException",
                   "refreshToken is required for the refresh_token grant", NULL);
        cJSON_Delete(in);
        return 0;
    }
    pthread_mutex_lock(&id->lock);
    long long now = id_now(id);
    struct sso_session *s = id->sso_sessions;
    int client_known = 0;
    for (; s; s = s->next) {
        if (strcmp(s->client_id, client_id) != 0)
            continue;
        client_known = 1;
        if (s->refresh_token && sigv4_equal_ct(s->refresh_token, refresh))
            break;
    }
    const char *type = NULL, *msg = NULL;
    int status = 400;
    if (!client_known || (s && !sigv4_equal_ct(s->client_secret, secret))) {
        status = 401, type = "InvalidClientException", msg = "Invalid client credentials";
    } else if (!s) {
        type = "InvalidGrantException", msg = "Invalid refresh token provided";
    } else if (s->registration_expires <= now) {
        status = 401, type = "InvalidClientException", msg = "The client registration has expired";
    } else if (s->refresh_expires <= now) {
        type = "ExpiredTokenException", msg = "The refresh token has expired";
    }
    if (type) {
        pthread_mutex_unlock(&id->lock);
        cJSON_Delete(in);
        oidc_error(out, status, type, msg, NULL);
        return 0;
    }
    struct sso_token *t = calloc(1, sizeof *t);
    char *next_refresh = s->rotate ? random_token("aorAAAAAG", 120) : NULL;
    if (t)
        t->token = random_token("aoaAAAAAG", 200);
    if (!t || !t->token || (s->rotate && !next_refresh)) {
        pthread_mutex_unlock(&id->lock);
        free(t ? t->token : NULL);
        free(t);
        free(next_refresh);
        cJSON_Delete(in);
        oidc_error(out, 500, "InternalServerException", "Out of memory", NULL);
        return 0;
    }
    t->expires = now + s->token_lifetime;
    t->session = s;
    t->next = id->sso_tokens;
    id->sso_tokens = t;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "accessToken", t->token);
    cJSON_AddStringToObject(o, "tokenType", "Bearer");
    cJSON_AddNumberToObject(o, "expiresIn", (double)s->token_lifetime);
    if (next_refresh) {
        free_secret(s->refresh_token);
        s->refresh_token = next_refresh;
        cJSON_AddStringToObject(o, "refreshToken", next_refresh);
    }
    pthread_mutex_unlock(&id->lock);
    cJSON_Delete(in);
    reply_json_raw(out, 200, NULL, o);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* signin: CreateOAuth2Token with a DPoP proof */

static void signin_error_code(struct emu_reply *out, int status, const char *type,
                              const char *error, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", error);
    cJSON_AddStringToObject(o, "message", message);
    reply_json_raw(out, status, type, o);
}

static void signin_fault(struct emu_reply *out, int status, const char *type, const char *message,
                         void *ctx)
{
    (void)ctx;
    signin_error_code(out, status, type,
                      status >= 500                            ? "server_error"
                      : !strcmp(type, "AccessDeniedException") ? "TOKEN_EXPIRED"
                                                               : "INVALID_REQUEST",
                      message);
}

/* An EC P-256 public key from its affine coordinates; NULL when they are not a point of the
 * curve. */
static EVP_PKEY *p256_public(const unsigned char x[32], const unsigned char y[32])
{
    unsigned char pub[65];
    pub[0] = 4;
    memcpy(pub + 1, x, 32);
    memcpy(pub + 33, y, 32);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (bld && ctx &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    if (pkey) {
        /* fromdata does not always check the point: make sure it is on the curve. */
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        int ok = chk && EVP_PKEY_public_check(chk) == 1;
        EVP_PKEY_CTX_free(chk);
        if (!ok) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    return pkey;
}

/* ES256 verification of a JWS signature (raw r||s, 64 bytes) over input. */
static int es256_verify(EVP_PKEY *key, const char *input, size_t input_len,
                        const unsigned char *sig)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    int der_len = -1, ok = 0;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        der_len = i2d_ECDSA_SIG(es, &der);
    }
    if (der_len > 0) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)input, input_len) ==
                 1;
        EVP_MD_CTX_free(md);
    }
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return ok;
}

/* Decodes a base64url coordinate of exactly 32 bytes. */
static int coord32(const char *b64, unsigned char out[32])
{
    size_t n = 0;
    char *raw = b64 ? b64url_decode(b64, strlen(b64), &n) : NULL;
    int ok = raw && n == 32;
    if (ok)
        memcpy(out, raw, 32);
    free(raw);
    return ok ? 0 : -1;
}

/* Checks the DPoP proof of req (RFC 9449 as PROVIDERS.md 5.5 describes botocore's): returns
 * NULL and fills the key and jti, or the reason it is refused. */
static const char *dpop_check(const struct emu_request_view *req, unsigned char x[32],
                              unsigned char y[32], char jti[130])
{
    const char *proof = emu_header(req, "dpop");
    if (!proof || !*proof)
        return "the DPoP header is missing";
    const char *d1 = strchr(proof, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.'))
        return "the DPoP proof is not a compact JWS";
    size_t hl, pl, sl;
    char *h = b64url_decode(proof, (size_t)(d1 - proof), &hl);
    char *p = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &pl);
    char *sig = b64url_decode(d2 + 1, strlen(d2 + 1), &sl);
    cJSON *hdr = h ? cJSON_ParseWithLength(h, hl) : NULL;
    cJSON *pay = p ? cJSON_ParseWithLength(p, pl) : NULL;
    const char *why = NULL;
    const cJSON *jwk = cJSON_GetObjectItemCaseSensitive(hdr, "jwk");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(pay, "iat");
    const char *htu = jstr(pay, "htu"), *host = emu_header(req, "host");
    long long now = (long long)time(NULL);
    if (!cJSON_IsObject(hdr) || !cJSON_IsObject(pay) || !sig)
        why = "the DPoP proof does not decode";
    else if (!jstr(hdr, "typ") || strcmp(jstr(hdr, "typ"), "dpop+jwt") != 0)
        why = "the DPoP proof's typ is not dpop+jwt";
    else if (!jstr(hdr, "alg") || strcmp(jstr(hdr, "alg"), "ES256") != 0)
        why = "the DPoP proof's alg is not ES256";
    else if (!cJSON_IsObject(jwk) || !jstr(jwk, "kty") || strcmp(jstr(jwk, "kty"), "EC") != 0 ||
             !jstr(jwk, "crv") || strcmp(jstr(jwk, "crv"), "P-256") != 0 ||
             coord32(jstr(jwk, "x"), x) != 0 || coord32(jstr(jwk, "y"), y) != 0)
        why = "the DPoP proof's jwk is not an EC P-256 public key";
    else if (!jstr(pay, "htm") || strcmp(jstr(pay, "htm"), req->method) != 0)
        why = "the DPoP proof's htm does not match the request method";
    else if (!htu || !host)
        why = "the DPoP proof's htu does not match the request URL";
    else if (!cJSON_IsNumber(iat) || (long long)iat->valuedouble < now - DPOP_MAX_SKEW ||
             (long long)iat->valuedouble > now + DPOP_MAX_SKEW)
        why = "the DPoP proof's iat is not within 5 minutes of the server's time";
    else if (!jstr(pay, "jti") || !*jstr(pay, "jti") || strlen(jstr(pay, "jti")) >= 130)
        why = "the DPoP proof has no jti";
    else if (sl != 64)
        why = "the DPoP proof's signature is not 64 bytes (r||s)";
    if (!why) {
        /* htu is the URL posted to, without query: http (or https behind a proxy) + Host. */
        struct buf u1 = BUF_INIT, u2 = BUF_INIT;
        buf_printf(&u1, "http://%s%s", host, req->raw_path);
        buf_printf(&u2, "https://%s%s", host, req->raw_path);
        if (strcmp(htu, buf_str(&u1)) != 0 && strcmp(htu, buf_str(&u2)) != 0)
            why = "the DPoP proof's htu does not match the request URL";
        buf_free(&u1);
        buf_free(&u2);
    }
    if (!why) {
        EVP_PKEY *key = p256_public(x, y);
        if (!key)
            why = "the DPoP proof's jwk is not a point of P-256";
        else if (!es256_verify(key, proof, (size_t)(d2 - proof), (const unsigned char *)sig))
            why = "the DPoP proof's signature does not verify";
        EVP_PKEY_free(key);
    }
    if (!why)
        snprintf(jti, 130, "%s", jstr(pay, "jti"));
    cJSON_Delete(hdr);
    cJSON_Delete(pay);
    free(h);
    free(p);
    free(sig);
    return why;
}

static int signin_handle(struct identity *id, struct store *store,
                         const struct emu_request_view *req, struct emu_reply *out)
{
    int drop = 0;
    count_call(id, "CreateOAuth2Token");
    if (take_fault(store, "CreateOAuth2Token", &drop, signin_fault, NULL, out))
        return drop ? -1 : 0;
    cJSON *in = cJSON_ParseWithLength(req->body, req->body_len);
    const char *client_id = jstr(in, "clientId"), *grant = jstr(in, "grantType");
    const char *refresh = jstr(in, "refreshToken");
    unsigned char x[32], y[32];
    char jti[130];
    const char *why = NULL;
    if (!cJSON_IsObject(in) || !client_id || !grant) {
        signin_error_code(out, 400, "ValidationException", "INVALID_REQUEST",
                          "clientId and grantType are required");
    } else if (strcmp(grant, "refresh_token") != 0) {
        signin_error_code(out, 400, "ValidationException", "INVALID_REQUEST",
                          "The emulator serves only the refresh_token grant");
    } else if (!refresh || !*refresh) {
        signin_error_code(out, 400, "ValidationException", "INVALID_REQUEST",
                          "refreshToken is required for the refresh_token grant");
    } else if ((why = dpop_check(req, x, y, jti)) != NULL) {
        char msg[160];
        snprintf(msg, sizeof msg, "Invalid DPoP proof: %s", why);
        signin_error_code(out, 400, "ValidationException", "INVALID_REQUEST", msg);
    } else {
        pthread_mutex_lock(&id->lock);
        long long now = id_now(id);
        struct login_session *l = id->logins;
        while (l && !sigv4_equal_ct(l->refresh_token, refresh))
            l = l->next;
        const char *type = "AccessDeniedException", *code = NULL, *msg = NULL;
        if (!l || l->refresh_expires <= now) {
            code = "TOKEN_EXPIRED", msg = "Your session has expired. Please reauthenticate.";
        } else if (strcmp(l->client_id, client_id) != 0) {
            type = "ValidationException", code = "INVALID_REQUEST",
            msg = "The clientId does not match the refresh token";
        } else if (memcmp(l->x, x, 32) != 0 || memcmp(l->y, y, 32) != 0) {
            type = "ValidationException", code = "INVALID_REQUEST",
            msg = "Invalid DPoP proof: the key is not the one the refresh token is bound to";
        } else if (cJSON_GetObjectItemCaseSensitive(id->used_jti, jti)) {
            type = "ValidationException", code = "INVALID_REQUEST",
            msg = "Invalid DPoP proof: this jti was already used";
        } else if (l->error) {
            code = l->error, msg = "Unable to refresh the login session.";
        }
        if (code) {
            char mbuf[160], cbuf[64];
            snprintf(mbuf, sizeof mbuf, "%s", msg);
            snprintf(cbuf, sizeof cbuf, "%s", code);
            pthread_mutex_unlock(&id->lock);
            signin_error_code(out, 400, type, cbuf, mbuf);
        } else {
            struct issued cr;
            char *next = random_token("lrt-", 100);
            int rc = next ? issue(id, l->account, l->arn, l->arn, 0, l->expires_in, &cr) : -1;
            if (rc == 0) {
                free_secret(l->refresh_token);
                l->refresh_token = next;
                if (cJSON_GetArraySize(id->used_jti) >= MAX_USED_JTI) {
                    cJSON_Delete(id->used_jti);
                    id->used_jti = cJSON_CreateObject();
                }
                cJSON_AddTrueToObject(id->used_jti, jti);
                cJSON *o = cJSON_CreateObject();
                cJSON *at = cJSON_AddObjectToObject(o, "accessToken");
                cJSON_AddStringToObject(at, "accessKeyId", cr.akid);
                cJSON_AddStringToObject(at, "secretAccessKey", cr.secret);
                cJSON_AddStringToObject(at, "sessionToken", cr.token);
                cJSON_AddStringToObject(o, "tokenType", "aws_sigv4");
                cJSON_AddNumberToObject(o, "expiresIn", (double)l->expires_in);
                cJSON_AddStringToObject(o, "refreshToken", next);
                issued_wipe(&cr);
                pthread_mutex_unlock(&id->lock);
                reply_json_raw(out, 200, NULL, o);
            } else {
                free(next);
                pthread_mutex_unlock(&id->lock);
                signin_error_code(out, 500, "InternalServerException", "server_error",
                                  "The credentials could not be issued.");
            }
        }
    }
    cJSON_Delete(in);
    return 0;
}

int identity_handle(struct identity *id, const struct emu_auth *auth, struct sigv4_key_cache *cache,
                    struct store *store, const struct emu_request_view *req, const char *request_id,
                    struct emu_reply *out)
{
    switch (route_of(req)) {
    case R_STS: return sts_handle(id, auth, cache, store, req, request_id, out);
    case R_PORTAL: return portal_handle(id, store, req, out);
    case R_OIDC: return oidc_handle(id, store, req, out);
    case R_SIGNIN: return signin_handle(id, store, req, out);
    case R_NONE: break;
    }
    emu_reply_error(out, 403, "MissingAuthenticationTokenException",
                    "Missing Authentication Token");
    out->front_door = 1;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Admin API */

static void admin_bad(struct emu_reply *out, const char *msg)
{
    emu_reply_error(out, 400, "ValidationException", "%s", msg);
}

static void admin_add_role(struct identity *id, const cJSON *body, struct emu_reply *out)
{
    const char *arn = jstr(body, "roleArn");
    char part[32], account[13];
    const char *name;
    int bad = 0;
    double max = jnum(body, "maxSessionDuration", DEFAULT_ROLE_MAX_SESSION, &bad);
    if (!arn || parse_role_arn(arn, part, account, &name) != 0) {
        admin_bad(out, "roleArn must be arn:aws:iam::<12 digits>:role/<name>");
        return;
    }
    if (bad || max < 3600 || max > MAX_DURATION) {
        admin_bad(out, "maxSessionDuration must be a number between 3600 and 43200");
        return;
    }
    struct role *r = calloc(1, sizeof *r);
    if (!r) {
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    r->arn = strdup(arn);
    r->external_id = dup_or_null(jstr(body, "externalId"));
    r->mfa_serial = dup_or_null(jstr(body, "mfaSerial"));
    r->mfa_code = dup_or_null(jstr(body, "mfaCode"));
    r->max_session = (long)max;
    if (!r->arn) {
        free_roles(r);
        {
            emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
            return;
        }
    }
    pthread_mutex_lock(&id->lock);
    /* Registering again replaces the role's rules. */
    for (struct role **pp = &id->roles; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->arn, arn)) {
            struct role *old = *pp;
            *pp = old->next;
            old->next = NULL;
            free_roles(old);
            break;
        }
    }
    r->next = id->roles;
    id->roles = r;
    pthread_mutex_unlock(&id->lock);
    char rid[22];
    role_id(arn, rid);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "roleArn", arn);
    cJSON_AddStringToObject(o, "roleId", rid);
    cJSON_AddNumberToObject(o, "maxSessionDuration", max);
    reply_json_raw(out, 200, NULL, o);
}

static void admin_list_roles(struct identity *id, struct emu_reply *out)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "roles");
    pthread_mutex_lock(&id->lock);
    for (const struct role *r = id->roles; r; r = r->next) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "roleArn", r->arn);
        if (r->external_id)
            cJSON_AddStringToObject(e, "externalId", r->external_id);
        if (r->mfa_serial)
            cJSON_AddStringToObject(e, "mfaSerial", r->mfa_serial);
        cJSON_AddNumberToObject(e, "maxSessionDuration", (double)r->max_session);
        cJSON_AddItemToArray(a, e);
    }
    pthread_mutex_unlock(&id->lock);
    reply_json_raw(out, 200, NULL, o);
}

static void admin_credentials(struct identity *id, const cJSON *body, struct emu_reply *out)
{
    int bad = 0;
    double expires_in = jnum(body, "expiresInSeconds", 3600, &bad);
    const char *account = jstr(body, "account");
    const char *arn = jstr(body, "arn");
    if (bad || expires_in < -86400 * 365.0 || expires_in > 86400 * 365.0) {
        admin_bad(out, "expiresInSeconds must be a number of seconds (may be negative)");
        return;
    }
    if (account && strlen(account) != 12) {
        admin_bad(out, "account must be 12 digits");
        return;
    }
    pthread_mutex_lock(&id->lock);
    if (!account)
        account = id->default_account;
    char def_arn[64];
    snprintf(def_arn, sizeof def_arn, "arn:aws:iam::%s:user/emulator-user", account);
    struct issued cr;
    int rc =
        issue(id, account, arn ? arn : def_arn, arn ? arn : def_arn, 0, (long long)expires_in, &cr);
    pthread_mutex_unlock(&id->lock);
    if (rc != 0) {
        emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
        return;
    }
    char exp[21];
    iso_time(cr.expires, exp);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "accessKeyId", cr.akid);
    cJSON_AddStringToObject(o, "secretAccessKey", cr.secret);
    cJSON_AddStringToObject(o, "sessionToken", cr.token);
    cJSON_AddStringToObject(o, "expiration", exp);
    cJSON_AddStringToObject(o, "account", account);
    issued_wipe(&cr);
    reply_json_raw(out, 200, NULL, o);
}

static void admin_expire(struct identity *id, const cJSON *body, struct emu_reply *out)
{
    const char *akid = jstr(body, "accessKeyId");
    size_t n = 0;
    pthread_mutex_lock(&id->lock);
    long long past = id_now(id) - 1;
    for (struct temp_cred *t = id->temp_list; t; t = t->next) {
        if ((!akid || !strcmp(akid, t->akid)) && t->expires > past) {
            t->expires = past;
            n++;
        }
    }
    pthread_mutex_unlock(&id->lock);
    if (akid && !n) {
        emu_reply_error(out, 404, "ResourceNotFoundException",
                        "No live credentials with access key id %s.", akid);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "expired", (double)n);
    reply_json_raw(out, 200, NULL, o);
}

static int valid_roles_list(const cJSON *roles)
{
    if (!roles)
        return 1;
    if (!cJSON_IsArray(roles))
        return 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, roles)
    {
        const char *a = jstr(r, "accountId");
        if (!a || strlen(a) != 12 || !jstr(r, "roleName"))
            return 0;
    }
    return 1;
}

static void admin_sso_session(struct identity *id, const cJSON *body, struct emu_reply *out)
{
    int bad = 0;
    double expires_in = jnum(body, "expiresInSeconds", 3600, &bad);
    double reg_in = jnum(body, "registrationExpiresInSeconds", 90 * 86400.0, &bad);
    double refresh_in = jnum(body, "refreshTokenExpiresInSeconds", 90 * 86400.0, &bad);
    double lifetime = jnum(body, "tokenLifetimeSeconds", 3600, &bad);
    double role_duration = jnum(body, "roleCredentialsDurationSeconds", SSO_ROLE_DURATION, &bad);
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(body, "roles");
    const cJSON *rotate = cJSON_GetObjectItemCaseSensitive(body, "rotateRefreshToken");
    if (bad || lifetime < 1 || role_duration < 1 || role_duration > MAX_DURATION) {
        admin_bad(out, "the *Seconds members must be numbers (lifetimes at least 1)");
        return;
    }
    if (!valid_roles_list(roles)) {
        admin_bad(out, "roles must be an array of {accountId (12 digits), roleName}");
        return;
    }
    if (rotate && !cJSON_IsBool(rotate)) {
        admin_bad(out, "rotateRefreshToken must be a boolean");
        return;
    }
    struct sso_session *s = calloc(1, sizeof *s);
    struct sso_token *t = calloc(1, sizeof *t);
    if (s && t) {
        const char *v;
        s->client_id = (v = jstr(body, "clientId")) ? strdup(v) : random_token("emu-client-", 22);
        s->client_secret =
            (v = jstr(body, "clientSecret")) ? strdup(v) : random_token("emu-secret-", 60);
        s->refresh_token =
            (v = jstr(body, "refreshToken")) ? strdup(v) : random_token("aorAAAAAG", 120);
        s->user = strdup((v = jstr(body, "userName")) ? v : "emulator-user");
        s->roles = roles ? cJSON_Duplicate(roles, 1) : NULL;
        t->token = (v = jstr(body, "accessToken")) ? strdup(v) : random_token("aoaAAAAAG", 200);
    }
    if (!s || !t || !s->client_id || !s->client_secret || !s->refresh_token || !s->user ||
        (roles && !s->roles) || !t->token) {
        if (s) {
            free(s->client_id);
            free(s->client_secret);
            free(s->refresh_token);
            free(s->user);
            cJSON_Delete(s->roles);
        }
        free(s);
        free(t ? t->token : NULL);
        free(t);
        {
            emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
            return;
        }
    }
    s->token_lifetime = (long)lifetime;
    s->role_duration = (long)role_duration;
    s->rotate = !cJSON_IsFalse(rotate);
    pthread_mutex_lock(&id->lock);
    long long now = id_now(id);
    s->registration_expires = now + (long long)reg_in;
    s->refresh_expires = now + (long long)refresh_in;
    t->expires = now + (long long)expires_in;
    t->session = s;
    s->next = id->sso_sessions;
    id->sso_sessions = s;
    t->next = id->sso_tokens;
    id->sso_tokens = t;
    /* The answer is the token cache file `aws sso login` would write (PROVIDERS.md 4.2). */
    char exp[21], reg[21];
    iso_time(t->expires, exp);
    iso_time(s->registration_expires, reg);
    cJSON *o = cJSON_CreateObject();
    const char *v;
    if ((v = jstr(body, "startUrl")) != NULL)
        cJSON_AddStringToObject(o, "startUrl", v);
    if ((v = jstr(body, "region")) != NULL)
        cJSON_AddStringToObject(o, "region", v);
    cJSON_AddStringToObject(o, "accessToken", t->token);
    cJSON_AddStringToObject(o, "expiresAt", exp);
    cJSON_AddStringToObject(o, "clientId", s->client_id);
    cJSON_AddStringToObject(o, "clientSecret", s->client_secret);
    cJSON_AddStringToObject(o, "registrationExpiresAt", reg);
    cJSON_AddStringToObject(o, "refreshToken", s->refresh_token);
    pthread_mutex_unlock(&id->lock);
    reply_json_raw(out, 200, NULL, o);
}

/* The SEC1 PEM ("EC PRIVATE KEY") of key, as `aws login` writes dpopKey; malloc'd. */
static char *sec1_pem(EVP_PKEY *key)
{
    OSSL_ENCODER_CTX *ctx =
        OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_KEYPAIR, "PEM", "type-specific", NULL);
    unsigned char *data = NULL;
    size_t len = 0;
    char *pem = NULL;
    if (ctx && OSSL_ENCODER_to_data(ctx, &data, &len) == 1) {
        pem = malloc(len + 1);
        if (pem) {
            memcpy(pem, data, len);
            pem[len] = '\0';
        }
    }
    if (data) {
        OPENSSL_cleanse(data, len);
        OPENSSL_free(data);
    }
    OSSL_ENCODER_CTX_free(ctx);
    return pem;
}

/* The affine coordinates of a P-256 key; -1 when it is another kind of key. */
static int p256_coords(EVP_PKEY *key, unsigned char x[32], unsigned char y[32])
{
    char group[64];
    size_t glen = 0;
    BIGNUM *bx = NULL, *by = NULL;
    int ok = EVP_PKEY_is_a(key, "EC") &&
             EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                            &glen) == 1 &&
             !strcmp(group, "prime256v1") &&
             EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
             EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
             BN_bn2binpad(bx, x, 32) == 32 && BN_bn2binpad(by, y, 32) == 32;
    BN_free(bx);
    BN_free(by);
    return ok ? 0 : -1;
}

static void admin_login_session(struct identity *id, const cJSON *body, struct emu_reply *out)
{
    int bad = 0;
    double expires_in = jnum(body, "expiresInSeconds", LOGIN_MAX_EXPIRES_IN, &bad);
    double initial_in = jnum(body, "credentialsExpiresInSeconds", expires_in, &bad);
    double refresh_in = jnum(body, "refreshTokenExpiresInSeconds", 86400, &bad);
    const char *arn = jstr(body, "arn"), *pem_in = jstr(body, "dpopKey");
    const char *error = jstr(body, "error");
    if (bad || expires_in < 1 || expires_in > LOGIN_MAX_EXPIRES_IN)
        return admin_bad(out, "expiresInSeconds must be between 1 and 900; the other *Seconds "
                              "members numbers");
    char account[13] = "";
    if (arn) {
        /* arn:PARTITION:iam::ACCOUNT:... or arn:PARTITION:sts::ACCOUNT:... */
        const char *p = strstr(arn, "::");
        if (strncmp(arn, "arn:", 4) != 0 || !p || strlen(p + 2) < 13 || p[14] != ':') {
            admin_bad(out, "arn must be an IAM ARN with a 12-digit account");
            return;
        }
        memcpy(account, p + 2, 12);
    }
    EVP_PKEY *key = NULL;
    if (pem_in) {
        BIO *bio = BIO_new_mem_buf(pem_in, -1);
        key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
    } else {
        key = EVP_EC_gen("P-256");
    }
    unsigned char x[32], y[32];
    if (!key || p256_coords(key, x, y) != 0) {
        EVP_PKEY_free(key);
        {
            admin_bad(out, "dpopKey must be a PEM EC P-256 private key");
            return;
        }
    }
    char *pem = sec1_pem(key);
    EVP_PKEY_free(key);
    struct login_session *l = calloc(1, sizeof *l);
    if (l) {
        const char *v;
        l->client_id =
            strdup((v = jstr(body, "clientId")) ? v : "arn:aws:signin:::devtools/same-device");
        l->refresh_token = (v = jstr(body, "refreshToken")) ? strdup(v) : random_token("lrt-", 100);
        l->error = dup_or_null(error);
    }
    if (!pem || !l || !l->client_id || !l->refresh_token || (error && !l->error)) {
        free_secret(pem);
        if (l) {
            free(l->client_id);
            free(l->refresh_token);
            free(l->error);
        }
        free(l);
        {
            emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
            return;
        }
    }
    memcpy(l->x, x, 32);
    memcpy(l->y, y, 32);
    l->expires_in = (long)expires_in;
    pthread_mutex_lock(&id->lock);
    if (!*account)
        snprintf(account, sizeof account, "%s", id->default_account);
    char def_arn[64];
    snprintf(def_arn, sizeof def_arn, "arn:aws:iam::%s:user/emulator-user", account);
    l->arn = strdup(arn ? arn : def_arn);
    l->account = intern_account(id, account);
    l->refresh_expires = id_now(id) + (long long)refresh_in;
    struct issued cr;
    if (!l->arn || issue(id, account, l->arn, l->arn, 0, (long long)initial_in, &cr) != 0) {
        pthread_mutex_unlock(&id->lock);
        free_secret(pem);
        free(l->client_id);
        free_secret(l->refresh_token);
        free(l->error);
        free(l->arn);
        free(l);
        {
            emu_reply_error(out, 500, "InternalServerException", "Out of memory.");
            return;
        }
    }
    l->next = id->logins;
    id->logins = l;
    /* The answer is the cache file `aws login` would write (PROVIDERS.md 5.1). */
    char exp[21];
    iso_time(cr.expires, exp);
    cJSON *o = cJSON_CreateObject();
    cJSON *at = cJSON_AddObjectToObject(o, "accessToken");
    cJSON_AddStringToObject(at, "accessKeyId", cr.akid);
    cJSON_AddStringToObject(at, "secretAccessKey", cr.secret);
    cJSON_AddStringToObject(at, "sessionToken", cr.token);
    cJSON_AddStringToObject(at, "accountId", account);
    cJSON_AddStringToObject(at, "expiresAt", exp);
    cJSON_AddStringToObject(o, "tokenType", "aws_sigv4");
    cJSON_AddStringToObject(o, "clientId", l->client_id);
    cJSON_AddStringToObject(o, "refreshToken", l->refresh_token);
    /* An id token whose sub is the session id (the ARN), as the CLI reads it. */
    struct buf idt = BUF_INIT;
    char *claims = NULL;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "sub", l->arn);
    claims = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    b64url_put(&idt, "{\"alg\":\"none\"}", 14);
    buf_putc(&idt, '.');
    if (claims)
        b64url_put(&idt, claims, strlen(claims));
    buf_putc(&idt, '.');
    free(claims);
    cJSON_AddStringToObject(o, "idToken", buf_str(&idt));
    buf_free(&idt);
    cJSON_AddStringToObject(o, "dpopKey", pem);
    issued_wipe(&cr);
    pthread_mutex_unlock(&id->lock);
    free_secret(pem);
    reply_json_raw(out, 200, NULL, o);
}

void identity_admin(struct identity *id, const char *method, const char *path, const cJSON *body,
                    struct emu_reply *out)
{
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST"),
        del = !strcmp(method, "DELETE");
    if ((!*path || !strcmp(path, "/")) && del) {
        identity_reset(id);
        reply_json_raw(out, 200, NULL, cJSON_CreateObject());
    } else if (!strcmp(path, "/roles") && post) {
        admin_add_role(id, body, out);
    } else if (!strcmp(path, "/roles") && get) {
        admin_list_roles(id, out);
    } else if (!strcmp(path, "/credentials") && post) {
        admin_credentials(id, body, out);
    } else if (!strcmp(path, "/expire") && post) {
        admin_expire(id, body, out);
    } else if (!strcmp(path, "/sso-sessions") && post) {
        admin_sso_session(id, body, out);
    } else if (!strcmp(path, "/login-sessions") && post) {
        admin_login_session(id, body, out);
    } else if (!strcmp(path, "/clock") && (post || get)) {
        int bad = 0;
        double adv = jnum(body, "advanceSeconds", 0, &bad);
        if (bad || adv < -86400 * 365.0 || adv > 86400 * 365.0) {
            admin_bad(out, "advanceSeconds must be a number of seconds");
            return;
        }
        pthread_mutex_lock(&id->lock);
        id->clock_offset += (long long)adv;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "offsetSeconds", (double)id->clock_offset);
        pthread_mutex_unlock(&id->lock);
        reply_json_raw(out, 200, NULL, o);
    } else if (!strcmp(path, "/calls") && get) {
        pthread_mutex_lock(&id->lock);
        cJSON *o = cJSON_Duplicate(id->calls, 1);
        pthread_mutex_unlock(&id->lock);
        reply_json_raw(out, 200, NULL, o);
    } else if (!strcmp(path, "/calls") && del) {
        pthread_mutex_lock(&id->lock);
        cJSON_Delete(id->calls);
        id->calls = cJSON_CreateObject();
        pthread_mutex_unlock(&id->lock);
        reply_json_raw(out, 200, NULL, cJSON_CreateObject());
    } else {
        emu_reply_error(out, 404, "UnknownAdminEndpoint",
                        "No admin endpoint %s /identity%s (see emulator/README.md).", method, path);
    }
}
