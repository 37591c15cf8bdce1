#include "credentials.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "errors.h"
#include "http.h"
#include "identity_http.h"
#include "sso_login.h"
#include "profile.h"
#include "timeutil.h"

extern char **environ;

#define PROCESS_TIMEOUT_MS 60000L
#define PROCESS_MAX_STDOUT (1024 * 1024)
#define PROCESS_MAX_STDERR (64 * 1024)
#define CRED_REFRESH_RETRY_MS 30000LL
#define CONTAINER_HOST "http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS 2000L
#define CONTAINER_ATTEMPTS 3
#define IMDS_TOKEN_TTL "21600"
#define IMDS_DEFAULT_TIMEOUT_MS 1000L
#define IMDS_IPV4 "http://169.254.169.254"
#define IMDS_IPV6 "http://[fd00:ec2::254]"

struct cred_chain {
    const struct ivs_config *cfg;
    char *explicit_key_id, *explicit_secret, *explicit_token;
    int anonymous;
    long process_timeout_ms;
    struct credentials cached;
    int have_cached;
    int cached_provider;      /* index into s_providers, -1 for explicit keys */
    int64_t refresh_retry_ms; /* after a failed refresh, the next try waits until then */
    int64_t session_time_s;   /* fixes the default role session name for the chain's life */
    ivs_mfa_token_fn mfa;
    void *mfa_ud;
    struct ident_ctx ident;
    void (*log)(void *ud, const char *line);
    void *log_ud;
};

/* ------------------------------------------------------------------------------------------
 * Secrets
 * ---------------------------------------------------------------------------------------- */

static void secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static void credentials_clear(struct credentials *cr)
{
    free(cr->detail);
    free(cr->access_key_id);
    secret_free(cr->secret_access_key);
    secret_free(cr->session_token);
    memset(cr, 0, sizeof *cr);
}

static void buf_wipe_free(struct buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    buf_free(b);
}

/* Overwrites every string of a parsed document (credential responses hold secrets). */
static void json_wipe(cJSON *j)
{
    for (; j; j = j->next) {
        if (j->valuestring)
            explicit_bzero(j->valuestring, strlen(j->valuestring));
        json_wipe(j->child);
    }
}

static void json_wipe_delete(cJSON *j)
{
    json_wipe(j);
    cJSON_Delete(j);
}

static enum ivs_status credentials_set(struct credentials *out, const char *key_id,
                                       const char *secret, const char *token, int64_t expires_ms,
                                       const char *provider, struct ivs_error *err)
{
    memset(out, 0, sizeof *out);
    out->access_key_id = ivs_strdup(key_id);
    out->secret_access_key = ivs_strdup(secret);
    out->session_token = token && *token ? ivs_strdup(token) : NULL;
    out->expires_ms = expires_ms;
    out->provider = provider;
    if (!out->access_key_id || !out->secret_access_key ||
        (token && *token && !out->session_token)) {
        credentials_clear(out);
        return ivs_error_nomem(err);
    }
    return IVS_OK;
}

/* Records where credentials came from (for the log and identity; never a secret). */
static void set_detail(struct credentials *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_detail(struct credentials *out, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    free(out->detail);
    out->detail = buf_steal(&b); /* NULL when memory ran out: the detail is optional */
}

enum ivs_status cred_set(struct credentials *out, const char *key_id, const char *secret,
                         const char *token, int64_t expires_ms, const char *provider,
                         struct ivs_error *err)
{
    return credentials_set(out, key_id, secret, token, expires_ms, provider, err);
}

/* ------------------------------------------------------------------------------------------
 * Times
 * ---------------------------------------------------------------------------------------- */

int cred_parse_time(const char *text, int64_t *ms_out)
{
    int64_t secs;
    long nanos;
    if (ivs_parse_iso8601(text, IVS_ISO8601_ZONE_OPTIONAL, &secs, &nanos) != 0)
        return -1;
    *ms_out = secs * 1000 + nanos / 1000000;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * JSON credential documents (process, container, IMDS)
 * ---------------------------------------------------------------------------------------- */

static const char *json_string(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* Reads AccessKeyId, SecretAccessKey, token_field, Expiration from a parsed document. On a
 * problem, writes a secret-free explanation into why and returns -1. */
static int json_credentials(const cJSON *doc, const char *token_field, const char *provider,
                            struct credentials *out, struct buf *why, struct ivs_error *err,
                            enum ivs_status *status)
{
    *status = IVS_OK;
    if (!cJSON_IsObject(doc)) {
        buf_puts(why, "it is not a JSON object");
        return -1;
    }
    const char *key_id = json_string(doc, "AccessKeyId");
    const char *secret = json_string(doc, "SecretAccessKey");
    if (!key_id || !secret) {
        buf_printf(why, "%s is missing", key_id ? "SecretAccessKey" : "AccessKeyId");
        return -1;
    }
    int64_t expires = 0;
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(doc, "Expiration");
    if (exp && !cJSON_IsNull(exp)) {
        if (!cJSON_IsString(exp) || cred_parse_time(exp->valuestring, &expires) != 0) {
            buf_puts(why, "Expiration is not an ISO 8601 time");
            return -1;
        }
    }
    *status =
        credentials_set(out, key_id, secret, json_string(doc, token_field), expires, provider, err);
    return *status == IVS_OK ? 0 : -1;
}

enum ivs_status cred_parse_document(enum cred_document kind, const char *text, size_t len,
                                    struct credentials *out, struct buf *why, struct ivs_error *err)
{
    memset(out, 0, sizeof *out);
    cJSON *doc = cJSON_ParseWithLength(text, len);
    enum ivs_status st = IVS_OK;
    struct buf detail = BUF_INIT;
    if (kind == CRED_DOC_PROCESS) {
        const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "Version");
        if (!cJSON_IsObject(doc))
            buf_puts(why, "printed something that is not a JSON object");
        else if (!cJSON_IsNumber(version) || version->valuedouble != 1)
            buf_puts(why, "printed a document whose Version is not 1");
        else if (json_credentials(doc, "SessionToken", "process", out, &detail, err, &st) != 0 &&
                 st == IVS_OK)
            buf_printf(why, "printed unusable credentials: %s", buf_str(&detail));
    } else {
        const char *code = kind == CRED_DOC_IMDS ? json_string(doc, "Code") : NULL;
        if (code && strcmp(code, "Success") != 0)
            buf_printf(why, "the credentials are not available (Code %.40s)", code);
        else
            json_credentials(doc, "Token", kind == CRED_DOC_IMDS ? "imds" : "container", out, why,
                             err, &st);
    }
    buf_free(&detail);
    json_wipe_delete(doc);
    return st;
}

/* ------------------------------------------------------------------------------------------
 * Providers. Each returns IVS_OK with out filled (found), IVS_OK with out empty and a reason
 * in why (nothing here, try the next one), or an error that stops the chain (a provider that
 * is configured but broken, as botocore treats them).
 * ---------------------------------------------------------------------------------------- */

/* Where a provider looks: the profile it reads and whether the environment counts (not when
 * the options name the profile, nor inside a source profile's sub-chain, as in botocore). */
struct pctx {
    const char *profile;
    int env_disabled;
    int64_t now_ms;
    struct visited *visited; /* the profiles of an assume-role chain so far */
};

typedef enum ivs_status (*provider_fn)(struct cred_chain *c, const struct pctx *p,
                                       struct credentials *out, struct buf *why,
                                       struct ivs_error *err);

/* A value of a profile in the merged view: the credentials file's, else the config file's. */
static const char *pval(const struct cred_chain *c, const char *profile, const char *key)
{
    const char *v = profile_get(c->cfg->credentials_file, profile, key);
    if (v && *v)
        return v;
    v = profile_get(c->cfg->config_file, profile, key);
    return v && *v ? v : NULL;
}

static const char *env(const struct cred_chain *c, const char *name)
{
    return config_env(c->cfg, name);
}

/* The AWS_* key variables. `force` reads them even when the environment is disabled for the
 * chain (credential_source = Environment has its own environment provider in botocore). */
static enum ivs_status env_keys(struct cred_chain *c, struct credentials *out, struct buf *why,
                                struct ivs_error *err)
{
    const char *key_id = env(c, "AWS_ACCESS_KEY_ID");
    const char *secret = env(c, "AWS_SECRET_ACCESS_KEY");
    if (!key_id && !secret) {
        buf_puts(why, "AWS_ACCESS_KEY_ID not set");
        return IVS_OK;
    }
    if (!key_id || !secret)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "PartialCredentials",
                             "the environment sets %s but not %s",
                             key_id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                             key_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    const char *token = env(c, "AWS_SESSION_TOKEN");
    if (!token)
        token = env(c, "AWS_SECURITY_TOKEN");
    int64_t expires = 0;
    const char *exp = env(c, "AWS_CREDENTIAL_EXPIRATION");
    if (exp && cred_parse_time(exp, &expires) != 0)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "InvalidConfig",
                             "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
    enum ivs_status st = credentials_set(out, key_id, secret, token, expires, "environment", err);
    if (st == IVS_OK)
        set_detail(out, "AWS_ACCESS_KEY_ID in the environment");
    return st;
}

static enum ivs_status provider_environment(struct cred_chain *c, const struct pctx *p,
                                            struct credentials *out, struct buf *why,
                                            struct ivs_error *err)
{
    if (p->env_disabled) {
        buf_printf(why, "skipped because the options name profile '%s'", p->profile);
        return IVS_OK;
    }
    return env_keys(c, out, why, err);
}

static enum ivs_status static_keys_from(const struct profile_file *f, const char *profile,
                                        const char *path, const char *provider,
                                        struct credentials *out, struct buf *why,
                                        struct ivs_error *err)
{
    if (!path) {
        buf_puts(why, "no path (HOME is not set)");
        return IVS_OK;
    }
    if (!f) {
        buf_printf(why, "%s not found or unreadable", path);
        return IVS_OK;
    }
    if (!profile_section_exists(f, PROFILE_SECTION_PROFILE, profile)) {
        buf_printf(why, "%s has no profile '%s'", path, profile);
        return IVS_OK;
    }
    const char *key_id = profile_get(f, profile, "aws_access_key_id");
    const char *secret = profile_get(f, profile, "aws_secret_access_key");
    if (key_id && !*key_id)
        key_id = NULL;
    if (secret && !*secret)
        secret = NULL;
    if (!key_id && !secret) {
        buf_printf(why, "profile '%s' in %s has no aws_access_key_id", profile, path);
        return IVS_OK;
    }
    if (!key_id || !secret)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "PartialCredentials",
                             "profile '%s' in %s sets %s but not %s", profile, path,
                             key_id ? "aws_access_key_id" : "aws_secret_access_key",
                             key_id ? "aws_secret_access_key" : "aws_access_key_id");
    const char *token = profile_get(f, profile, "aws_session_token");
    if (!token || !*token)
        token = profile_get(f, profile, "aws_security_token");
    enum ivs_status st = credentials_set(out, key_id, secret, token, 0, provider, err);
    if (st == IVS_OK)
        set_detail(out, "profile '%s' in %s", profile, path);
    return st;
}

static enum ivs_status provider_credentials_file(struct cred_chain *c, const struct pctx *p,
                                                 struct credentials *out, struct buf *why,
                                                 struct ivs_error *err)
{
    return static_keys_from(c->cfg->credentials_file, p->profile, c->cfg->credentials_path,
                            "shared-credentials-file", out, why, err);
}

static enum ivs_status provider_config_file(struct cred_chain *c, const struct pctx *p,
                                            struct credentials *out, struct buf *why,
                                            struct ivs_error *err)
{
    return static_keys_from(c->cfg->config_file, p->profile, c->cfg->config_path, "config-file",
                            out, why, err);
}

/* ---- credential_process ---- */

struct process_result {
    struct buf out, errout;
    int exit_code; /* when exited */
    int signal;    /* when killed by a signal */
    int timed_out;
    int too_large;
};

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is available from fd into b (up to max bytes kept). Returns 1 at EOF. */
static int drain(int fd, struct buf *b, size_t max, int *too_large)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            if (b->len + (size_t)n > max)
                *too_large = 1;
            else
                buf_append(b, chunk, (size_t)n);
            continue;
        }
        explicit_bzero(chunk, sizeof chunk);
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
    }
}

/* Runs `/bin/sh -c command` in its own process group with stdin from /dev/null, collecting
 * stdout and stderr, killing the group after timeout_ms. Returns -1 (errno set) when it could
 * not start. posix_spawn rather than fork: safe in a multi-threaded host. */
static int run_process(const char *command, long timeout_ms, struct process_result *r)
{
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    if (pipe2(out_pipe, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        int saved = errno;
        close(out_pipe[0]);
        close(out_pipe[1]);
        errno = saved;
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t default_signals;
    sigemptyset(&default_signals);
    sigaddset(&default_signals, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &default_signals);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)command, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        errno = rc; /* posix_spawn reports its error as the return value */
        return -1;
    }
    fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
    int64_t deadline = monotonic_ms() + timeout_ms;
    int out_open = 1, err_open = 1, exited = 0, status = 0;
    while (!exited) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0 || r->too_large) {
            r->timed_out = left <= 0;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            exited = 1;
            break;
        }
        struct pollfd fds[2];
        int n = 0;
        if (out_open)
            fds[n++] = (struct pollfd){.fd = out_pipe[0], .events = POLLIN};
        if (err_open)
            fds[n++] = (struct pollfd){.fd = err_pipe[0], .events = POLLIN};
        /* Wake up now and then to notice an exit even if a grandchild keeps a pipe open. */
        int wait_ms = left < 50 ? (int)left : 50;
        if (n > 0)
            poll(fds, (nfds_t)n, wait_ms);
        else
            usleep((useconds_t)wait_ms * 1000);
        if (out_open && drain(out_pipe[0], &r->out, PROCESS_MAX_STDOUT, &r->too_large))
            out_open = 0;
        if (err_open && drain(err_pipe[0], &r->errout, PROCESS_MAX_STDERR, &r->too_large))
            err_open = 0;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR)) {
            exited = 1;
            /* Whatever the process wrote is in the pipes now. */
            if (out_open)
                drain(out_pipe[0], &r->out, PROCESS_MAX_STDOUT, &r->too_large);
            if (err_open)
                drain(err_pipe[0], &r->errout, PROCESS_MAX_STDERR, &r->too_large);
            if (w < 0)
                status = -1;
        }
    }
    close(out_pipe[0]);
    close(err_pipe[0]);
    if (status == -1)
        r->exit_code = -1;
    else if (WIFEXITED(status))
        r->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->signal = WTERMSIG(status);
    return 0;
}

/* The first line of a process's stderr, cut to a readable length, control characters
 * replaced (it goes into an error message). */
static void first_line(const struct buf *b, struct buf *out)
{
    const char *s = buf_str(b);
    size_t n = strcspn(s, "\r\n");
    if (n > 200)
        n = 200;
    for (size_t i = 0; i < n; i++)
        buf_putc(out, (unsigned char)s[i] < ' ' || s[i] == 0x7f ? '?' : s[i]);
}

static enum ivs_status process_error(struct ivs_error *err, const char *profile, const char *what,
                                     const struct buf *errout)
{
    struct buf msg = BUF_INIT;
    first_line(errout, &msg);
    enum ivs_status st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "CredentialProcessError",
                                       "credential_process of profile '%s' %s%s%s", profile, what,
                                       msg.len ? "; stderr: " : "", buf_str(&msg));
    buf_free(&msg);
    return st;
}

static enum ivs_status provider_process(struct cred_chain *c, const struct pctx *p,
                                        struct credentials *out, struct buf *why,
                                        struct ivs_error *err)
{
    const char *profile = p->profile;
    const char *command = pval(c, profile, "credential_process");
    if (!command) {
        buf_printf(why, "not set in profile '%s'", profile);
        return IVS_OK;
    }
    struct process_result r = {BUF_INIT, BUF_INIT, 0, 0, 0, 0};
    r.out.sensitive = 1; /* the credential document */
    enum ivs_status st = IVS_OK;
    if (run_process(command, c->process_timeout_ms, &r) != 0) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "CredentialProcessError",
                           "credential_process of profile '%s' could not be started: %s", profile,
                           strerror(errno));
    } else if (r.timed_out) {
        char what[96];
        snprintf(what, sizeof what, "was killed after running for %ld ms", c->process_timeout_ms);
        st = process_error(err, profile, what, &r.errout);
    } else if (r.too_large) {
        st = process_error(err, profile, "wrote more output than a credential document can need",
                           &r.errout);
    } else if (r.signal) {
        char what[64];
        snprintf(what, sizeof what, "was killed by signal %d", r.signal);
        st = process_error(err, profile, what, &r.errout);
    } else if (r.exit_code != 0) {
        char what[64];
        snprintf(what, sizeof what, "exited with status %d", r.exit_code);
        st = process_error(err, profile, what, &r.errout);
    } else if (buf_failed(&r.out)) {
        st = ivs_error_nomem(err);
    } else {
        /* Its stdout holds secrets: it never goes into a message, whatever its shape. */
        struct buf problem = BUF_INIT;
        st = cred_parse_document(CRED_DOC_PROCESS, buf_str(&r.out), r.out.len, out, &problem, err);
        if (st == IVS_OK && problem.len)
            st = process_error(err, profile, buf_str(&problem), &r.errout);
        buf_free(&problem);
    }
    if (st == IVS_OK && out->access_key_id)
        set_detail(out, "credential_process of profile '%s'", profile);
    buf_wipe_free(&r.out);
    buf_free(&r.errout);
    return st;
}

/* ---- assume role, web identity, SSO, login: claimed by their keys ---- */

/* The web identity token file and where it was found (env unless disabled, then profile). */
static const char *web_identity_file(const struct cred_chain *c, const struct pctx *p,
                                     const char **source)
{
    *source = "AWS_WEB_IDENTITY_TOKEN_FILE";
    if (!p->env_disabled) {
        /* Set but empty still counts as the environment's answer, "no web identity", even
         * when the profile has a token file (botocore reads it with `in environ`). */
        const char *raw =
            c->cfg->getenv_fn ? c->cfg->getenv_fn(c->cfg->getenv_ud, *source) : getenv(*source);
        if (raw)
            return *raw ? raw : NULL;
    }
    *source = "web_identity_token_file";
    return pval(c, p->profile, "web_identity_token_file");
}

/* fopen(path, "rb") for a regular file only: opening a FIFO for reading would wait for a
 * writer, forever, so the type is checked on a descriptor opened without blocking. Anything
 * else fails with EINVAL. */
static FILE *open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp)
        close(fd);
    return fp;
}

int cred_read_secret_file(const char *path, size_t max, char **out, size_t *len_out)
{
    *out = NULL;
    FILE *fp = open_regular(path);
    if (!fp)
        return -1;
    struct buf b = BUF_INIT;
    b.sensitive = 1;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        buf_append(&b, chunk, n);
        if (b.len > max)
            break;
    }
    explicit_bzero(chunk, sizeof chunk);
    int failed = ferror(fp);
    fclose(fp);
    if (failed || b.len > max || buf_failed(&b)) {
        buf_wipe_free(&b);
        errno = failed ? EIO : EFBIG;
        return -1;
    }
    *len_out = b.len;
    *out = buf_steal(&b);
    if (!*out) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

/* The default role session name: fixed when the chain first needs one, as botocore fixes
 * botocore-session-<time> when its provider loads. */
static const char *default_session_name(struct cred_chain *c, int64_t now_ms, char *buf, size_t n)
{
    if (!c->session_time_s)
        c->session_time_s = now_ms / 1000 > 0 ? now_ms / 1000 : (int64_t)time(NULL);
    snprintf(buf, n, "libivs-session-%lld", (long long)c->session_time_s);
    return buf;
}

/* Credentials from an STS answer (AssumeRole and AssumeRoleWithWebIdentity alike). */
static enum ivs_status sts_credentials(const struct xml_doc *doc, const char *provider,
                                       const char *context, struct credentials *out,
                                       struct ivs_error *err)
{
    static const char *const fields[] = {"Credentials/AccessKeyId", "Credentials/SecretAccessKey",
                                         "Credentials/SessionToken", "Credentials/Expiration"};
    const char *v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = xml_doc_get(doc, fields[i]);
        if (!v[i] || !*v[i])
            return ivs_error_set(err, IVS_ERR_CREDENTIALS, "InvalidResponse",
                                 "%s: STS's answer lacks %s", context, fields[i]);
    }
    int64_t expires;
    if (cred_parse_time(v[3], &expires) != 0)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "InvalidResponse",
                             "%s: STS's Expiration is not an ISO 8601 time", context);
    return credentials_set(out, v[0], v[1], v[2], expires, provider, err);
}

/* ---- assume role ---- */

#define ROLE_CHAIN_MAX 16

/* The profiles visited along a role chain (botocore's _visited_profiles). */
struct visited {
    const char *names[ROLE_CHAIN_MAX];
    size_t n;
};

static int has_static_keys(const struct cred_chain *c, const char *profile)
{
    return pval(c, profile, "aws_access_key_id") || pval(c, profile, "aws_secret_access_key");
}

static int profile_exists(const struct cred_chain *c, const char *profile)
{
    return profile_section_exists(c->cfg->config_file, PROFILE_SECTION_PROFILE, profile) ||
           profile_section_exists(c->cfg->credentials_file, PROFILE_SECTION_PROFILE, profile);
}

static enum ivs_status provider_web_identity(struct cred_chain *c, const struct pctx *p,
                                             struct credentials *out, struct buf *why,
                                             struct ivs_error *err);
static enum ivs_status provider_sso(struct cred_chain *c, const struct pctx *p,
                                    struct credentials *out, struct buf *why,
                                    struct ivs_error *err);
static enum ivs_status provider_login(struct cred_chain *c, const struct pctx *p,
                                      struct credentials *out, struct buf *why,
                                      struct ivs_error *err);
static enum ivs_status provider_assume_role(struct cred_chain *c, const struct pctx *p,
                                            struct credentials *out, struct buf *why,
                                            struct ivs_error *err);
static enum ivs_status provider_container(struct cred_chain *c, const struct pctx *p,
                                          struct credentials *out, struct buf *why,
                                          struct ivs_error *err);
static enum ivs_status provider_imds(struct cred_chain *c, const struct pctx *p,
                                     struct credentials *out, struct buf *why,
                                     struct ivs_error *err);

/* The credentials of a source profile (botocore's _resolve_credentials_from_profile): its own
 * sub-chain (web identity, SSO, credentials file, login, process, config file; no
 * environment, container or instance metadata) when it has static keys or no role of its
 * own, else its role, assumed first. */
static enum ivs_status resolve_source_profile(struct cred_chain *c, const char *source,
                                              struct visited *v, int64_t now_ms,
                                              struct credentials *out, struct ivs_error *err)
{
    struct pctx sp = {source, 1, now_ms, v};
    if (!has_static_keys(c, source) && pval(c, source, "role_arn") &&
        !pval(c, source, "web_identity_token_file")) {
        struct buf why = BUF_INIT;
        enum ivs_status st = provider_assume_role(c, &sp, out, &why, err);
        buf_free(&why);
        return st;
    }
    static const provider_fn sub[] = {provider_web_identity,     provider_sso,
                                      provider_credentials_file, provider_login,
                                      provider_process,          provider_config_file};
    struct buf report = BUF_INIT;
    for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
        struct buf why = BUF_INIT;
        memset(out, 0, sizeof *out);
        enum ivs_status st = sub[i](c, &sp, out, &why, err);
        if (why.len)
            buf_printf(&report, "; %s", buf_str(&why));
        buf_free(&why);
        if (st != IVS_OK || out->access_key_id) {
            buf_free(&report);
            return st;
        }
    }
    enum ivs_status st = ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                       "the source profile '%s' must have credentials (static "
                                       "keys, role_arn, web identity, SSO, login_session or "
                                       "credential_process)%s",
                                       source, buf_str(&report));
    buf_free(&report);
    return st;
}

/* credential_source: the named provider of the chain itself, environment included. */
static enum ivs_status resolve_credential_source(struct cred_chain *c, const struct pctx *p,
                                                 const char *source, struct credentials *out,
                                                 struct ivs_error *err)
{
    struct buf why = BUF_INIT;
    enum ivs_status st;
    memset(out, 0, sizeof *out);
    if (strcmp(source, "Environment") == 0)
        st = env_keys(c, out, &why, err);
    else if (strcmp(source, "Ec2InstanceMetadata") == 0)
        st = provider_imds(c, p, out, &why, err);
    else
        st = provider_container(c, p, out, &why, err);
    if (st == IVS_OK && !out->access_key_id)
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "CredentialRetrievalError",
                           "no credentials from credential_source %s of profile '%s' (%s)", source,
                           p->profile, why.len ? buf_str(&why) : "nothing found");
    buf_free(&why);
    return st;
}

/* Appends "&Name=value" form-encoded. */
static void form_add(struct buf *form, const char *name, const char *value)
{
    buf_printf(form, "&%s=", name);
    ident_form_encode(form, value);
}

static enum ivs_status provider_assume_role(struct cred_chain *c, const struct pctx *p,
                                            struct credentials *out, struct buf *why,
                                            struct ivs_error *err)
{
    const char *profile = p->profile;
    const char *role_arn = pval(c, profile, "role_arn");
    /* Only the profile's token file turns a role profile into a web identity one
     * (botocore's _has_assume_role_config_vars); the environment's does not. */
    if (!role_arn || pval(c, profile, "web_identity_token_file")) {
        buf_printf(why, "profile '%s' sets no role_arn", profile);
        return IVS_OK;
    }
    /* Validation in botocore's order (AssumeRoleProvider._validate_role_config...). */
    const char *source_profile = pval(c, profile, "source_profile");
    const char *credential_source = pval(c, profile, "credential_source");
    if (source_profile && credential_source)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "profile '%s' sets both source_profile and credential_source; keep "
                             "the one that should assume role %s",
                             profile, role_arn);
    if (!source_profile && !credential_source)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "PartialCredentials",
                             "profile '%s' sets role_arn but neither source_profile nor "
                             "credential_source; add one to say which credentials assume the role",
                             profile);
    if (credential_source && strcmp(credential_source, "Environment") != 0 &&
        strcmp(credential_source, "Ec2InstanceMetadata") != 0 &&
        strcmp(credential_source, "EcsContainer") != 0)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "the credential_source \"%.40s\" of profile '%s' is not valid; use "
                             "Environment, Ec2InstanceMetadata or EcsContainer (exact case)",
                             credential_source, profile);
    if (source_profile && !profile_exists(c, source_profile))
        return ivs_error_set(
            err, IVS_ERR_CONFIG, "InvalidConfig",
            "the source_profile '%s' named by profile '%s' does not exist in %s "
            "or %s",
            source_profile, profile, c->cfg->config_path ? c->cfg->config_path : "the config file",
            c->cfg->credentials_path ? c->cfg->credentials_path : "the credentials file");
    struct visited top = {{profile}, 1};
    struct visited *v = p->visited ? p->visited : &top;
    if (source_profile) {
        int seen = 0;
        for (size_t i = 0; i < v->n; i++)
            seen |= strcmp(v->names[i], source_profile) == 0;
        if (seen && !(strcmp(source_profile, profile) == 0 && has_static_keys(c, source_profile))) {
            struct buf list = BUF_INIT;
            for (size_t i = 0; i < v->n; i++)
                buf_printf(&list, "%s'%s'", i ? ", " : "", v->names[i]);
            enum ivs_status st = ivs_error_set(
                err, IVS_ERR_CONFIG, "InfiniteLoopConfig",
                "the role chain loops: profile '%s' names source_profile '%s', which was already "
                "visited (visited profiles: %s); a profile may be its own source only when it "
                "holds static keys",
                profile, source_profile, buf_str(&list));
            buf_free(&list);
            return st;
        }
        if (v->n == ROLE_CHAIN_MAX)
            return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                 "the role chain from profile '%s' is longer than %d profiles",
                                 v->names[0], ROLE_CHAIN_MAX);
        v->names[v->n++] = source_profile;
    }

    /* The request, checked against the model's minimums as botocore checks them. */
    char session_buf[64];
    const char *session = pval(c, profile, "role_session_name");
    if (!session)
        session = default_session_name(c, p->now_ms, session_buf, sizeof session_buf);
    const char *external_id = pval(c, profile, "external_id");
    const char *mfa_serial = pval(c, profile, "mfa_serial");
    const char *duration = pval(c, profile, "duration_seconds");
    long duration_s = 0;
    if (duration) {
        char *end;
        errno = 0;
        long d = strtol(duration, &end, 10);
        int parsed = !errno && end != duration && !*end;
        if (parsed && d < 900)
            return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                 "duration_seconds of profile '%s' is %ld; AssumeRole needs at "
                                 "least 900",
                                 profile, d);
        if (parsed)
            duration_s = d; /* a value that does not parse is dropped, as botocore does */
    }
    if (strlen(session) < 2)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "role_session_name of profile '%s' must have at least 2 characters",
                             profile);
    if (external_id && strlen(external_id) < 2)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "external_id of profile '%s' must have at least 2 characters",
                             profile);
    if (mfa_serial && strlen(mfa_serial) < 9)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "mfa_serial of profile '%s' must have at least 9 characters", profile);
    if (mfa_serial && !c->mfa)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "MfaTokenRequired",
                             "profile '%s' assumes role %s with MFA device %s, but no MFA code "
                             "source is set: give the client an mfa_token callback (C: "
                             "ivs_client_options.mfa_token; Lua: mfa_token = function(serial) "
                             "... end)",
                             profile, role_arn, mfa_serial);

    struct credentials source = {0};
    enum ivs_status st = source_profile
                             ? resolve_source_profile(c, source_profile, v, p->now_ms, &source, err)
                             : resolve_credential_source(c, p, credential_source, &source, err);
    if (st != IVS_OK)
        return st;

    struct buf form = BUF_INIT;
    form.sensitive = 1; /* the MFA code */
    buf_puts(&form, "Action=AssumeRole&Version=2011-06-15");
    form_add(&form, "RoleArn", role_arn);
    form_add(&form, "RoleSessionName", session);
    if (external_id)
        form_add(&form, "ExternalId", external_id);
    if (duration_s)
        buf_printf(&form, "&DurationSeconds=%ld", duration_s);
    if (mfa_serial) {
        char code[64] = {0};
        if (c->mfa(c->mfa_ud, mfa_serial, code, sizeof code) != 0 ||
            strnlen(code, sizeof code) < 6 || strnlen(code, sizeof code) == sizeof code) {
            explicit_bzero(code, sizeof code);
            buf_wipe_free(&form);
            credentials_clear(&source);
            return ivs_error_set(err, IVS_ERR_CREDENTIALS, "MfaTokenRequired",
                                 "profile '%s': the mfa_token callback gave no code of at least "
                                 "6 characters for MFA device %s",
                                 profile, mfa_serial);
        }
        form_add(&form, "SerialNumber", mfa_serial);
        form_add(&form, "TokenCode", code);
        explicit_bzero(code, sizeof code);
    }
    struct buf context = BUF_INIT;
    buf_printf(&context, "profile '%s' (role %s, credentials from %s %s)", profile, role_arn,
               source_profile ? "source_profile" : "credential_source",
               source_profile ? source_profile : credential_source);
    struct xml_doc doc;
    struct ident_signer signer = {source.access_key_id, source.secret_access_key,
                                  source.session_token};
    st = buf_failed(&form) ? ivs_error_nomem(err)
                           : ident_sts_call(&c->ident, "AssumeRole", buf_str(&form), &signer,
                                            buf_str(&context), IVS_ERR_CREDENTIALS, &doc, err);
    buf_wipe_free(&form);
    credentials_clear(&source);
    if (st == IVS_OK) {
        st = sts_credentials(&doc, "assume-role", buf_str(&context), out, err);
        if (st == IVS_OK)
            set_detail(out, "%s, session %s", buf_str(&context), session);
        xml_doc_free(&doc);
    }
    buf_free(&context);
    return st;
}

/* ---- web identity ---- */

#define WEB_IDENTITY_TOKEN_MAX (64 * 1024)

static enum ivs_status provider_web_identity(struct cred_chain *c, const struct pctx *p,
                                             struct credentials *out, struct buf *why,
                                             struct ivs_error *err)
{
    const char *file_source;
    const char *file = web_identity_file(c, p, &file_source);
    if (!file) {
        buf_printf(why,
                   "neither AWS_WEB_IDENTITY_TOKEN_FILE nor web_identity_token_file in profile "
                   "'%s' is set",
                   p->profile);
        return IVS_OK;
    }
    /* Each value separately: the environment first unless it is disabled, then the profile. */
    const char *role_arn = p->env_disabled ? NULL : env(c, "AWS_ROLE_ARN");
    if (!role_arn)
        role_arn = pval(c, p->profile, "role_arn");
    const char *session = p->env_disabled ? NULL : env(c, "AWS_ROLE_SESSION_NAME");
    if (!session)
        session = pval(c, p->profile, "role_session_name");
    char session_buf[64];
    if (!session)
        session = default_session_name(c, p->now_ms, session_buf, sizeof session_buf);
    if (!role_arn)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "profile '%s' is set up for web identity (%s = %s) but has no role "
                             "ARN: set role_arn in the profile or AWS_ROLE_ARN",
                             p->profile, file_source, file);
    /* Read at every fetch: the tool that writes it (EKS, CI) renews it in place. */
    char *token = NULL;
    size_t token_len = 0;
    if (cred_read_secret_file(file, WEB_IDENTITY_TOKEN_MAX, &token, &token_len) != 0)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "CredentialRetrievalError",
                             "the web identity token file %s (from %s, profile '%s') cannot be "
                             "read: %s",
                             file, file_source, p->profile, strerror(errno));
    if (token_len < 4 || strlen(token) != token_len) {
        secret_free(token);
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "CredentialRetrievalError",
                             "the web identity token file %s (from %s) holds no usable token "
                             "(fewer than 4 characters, or NUL bytes)",
                             file, file_source);
    }
    struct buf form = BUF_INIT;
    form.sensitive = 1;
    buf_puts(&form, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15");
    form_add(&form, "RoleArn", role_arn);
    form_add(&form, "RoleSessionName", session);
    form_add(&form, "WebIdentityToken", token);
    secret_free(token);
    struct buf context = BUF_INIT;
    buf_printf(&context, "profile '%s' (web identity, role %s, token file %s from %s)", p->profile,
               role_arn, file, file_source);
    struct xml_doc doc;
    enum ivs_status st =
        buf_failed(&form) ? ivs_error_nomem(err)
                          : ident_sts_call(&c->ident, "AssumeRoleWithWebIdentity", buf_str(&form),
                                           NULL, buf_str(&context), IVS_ERR_CREDENTIALS, &doc, err);
    buf_wipe_free(&form);
    if (st == IVS_OK) {
        st = sts_credentials(&doc, "assume-role-with-web-identity", buf_str(&context), out, err);
        if (st == IVS_OK)
            set_detail(out, "%s, session %s", buf_str(&context), session);
        xml_doc_free(&doc);
    } else if (err && err->code && strcmp(err->code, "ExpiredTokenException") == 0) {
        ivs_error_prefix(err, "the web identity token has expired; the tool that writes the "
                              "token file must renew it");
    }
    buf_free(&context);
    return st;
}

/* ---- SSO and login ---- */

static void chain_warn(void *ud, const char *line)
{
    const struct cred_chain *c = ud;
    if (c->log)
        c->log(c->log_ud, line);
}

static enum ivs_status provider_sso(struct cred_chain *c, const struct pctx *p,
                                    struct credentials *out, struct buf *why, struct ivs_error *err)
{
    const char *profile = p->profile;
    if (!pval(c, profile, "sso_account_id") && !pval(c, profile, "sso_role_name")) {
        buf_printf(why, "profile '%s' sets no sso_account_id or sso_role_name", profile);
        return IVS_OK;
    }
    /* botocore's _load_sso_config: the sso-session's keys over the profile's, which must not
     * contradict them. */
    static const char *const keys[] = {"sso_start_url", "sso_region"};
    const char *values[2] = {pval(c, profile, keys[0]), pval(c, profile, keys[1])};
    const char *session = pval(c, profile, "sso_session");
    if (session) {
        if (!profile_section_exists(c->cfg->config_file, PROFILE_SECTION_SSO_SESSION, session))
            return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                 "profile '%s' names sso_session '%s', but %s has no "
                                 "[sso-session %s] section",
                                 profile, session,
                                 c->cfg->config_path ? c->cfg->config_path : "the config file",
                                 session);
        for (int i = 0; i < 2; i++) {
            const char *v = profile_section_get(c->cfg->config_file, PROFILE_SECTION_SSO_SESSION,
                                                session, keys[i]);
            if (!v || !*v)
                continue;
            if (values[i] && strcmp(values[i], v) != 0)
                return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                     "the value of %s differs between profile '%s' (%s) and "
                                     "sso-session '%s' (%s)",
                                     keys[i], profile, values[i], session, v);
            values[i] = v;
        }
    }
    struct sso_settings s = {profile,
                             session,
                             values[0],
                             values[1],
                             pval(c, profile, "sso_account_id"),
                             pval(c, profile, "sso_role_name"),
                             env(c, "HOME")};
    struct buf missing = BUF_INIT;
    if (!s.role_name)
        buf_puts(&missing, ", sso_role_name");
    if (!s.account_id)
        buf_puts(&missing, ", sso_account_id");
    if (!s.start_url)
        buf_puts(&missing, ", sso_start_url");
    if (!s.region)
        buf_puts(&missing, ", sso_region");
    if (missing.len) {
        enum ivs_status st = ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                                           "profile '%s' is set up for SSO but lacks %s", profile,
                                           buf_str(&missing) + 2);
        buf_free(&missing);
        return st;
    }
    enum ivs_status st = sso_fetch(&c->ident, &s, p->now_ms, chain_warn, c, out, err);
    if (st == IVS_OK)
        set_detail(out, "profile '%s' (SSO account %s, role %s, %s %s)", profile, s.account_id,
                   s.role_name, session ? "sso-session" : "start URL",
                   session ? session : s.start_url);
    return st;
}

static enum ivs_status provider_login(struct cred_chain *c, const struct pctx *p,
                                      struct credentials *out, struct buf *why,
                                      struct ivs_error *err)
{
    const char *session = pval(c, p->profile, "login_session");
    if (!session) {
        buf_printf(why, "profile '%s' sets no login_session", p->profile);
        return IVS_OK;
    }
    struct login_settings s = {p->profile, session, env(c, "AWS_LOGIN_CACHE_DIRECTORY"),
                               env(c, "HOME")};
    enum ivs_status st = login_fetch(&c->ident, &s, p->now_ms, chain_warn, c, out, err);
    if (st == IVS_OK)
        set_detail(out, "profile '%s' (login session %s)", p->profile, session);
    return st;
}

/* ---- HTTP helpers for the container and IMDS providers ---- */

static enum ivs_status http_once(const char *method, const char *url,
                                 const struct ivs_header *headers, size_t header_count,
                                 long timeout_ms, const char *ca_bundle, struct http_response *resp,
                                 struct ivs_error *err)
{
    struct http_options ho = {0};
    ho.timeout_ms = timeout_ms;
    ho.connect_timeout_ms = timeout_ms;
    ho.close_connection = 1;
    ho.ca_bundle = ca_bundle;
    ho.sensitive_body = 1;
    struct http_conn *conn = NULL;
    enum ivs_status st = http_conn_new(&ho, &conn, err);
    if (st == IVS_OK)
        st = http_perform(conn, method, url, headers, header_count, NULL, 0, resp, err);
    http_conn_free(conn);
    return st;
}

static void response_wipe(struct http_response *resp)
{
    if (resp->body.data)
        explicit_bzero(resp->body.data, resp->body.cap);
    http_response_cleanup(resp);
}

/* ---- container provider ---- */

static int host_is_loopback_or_container(const char *host, size_t len)
{
    static const char *const allowed[] = {"localhost", "169.254.170.2", "169.254.170.23", "[::1]",
                                          "[fd00:ec2::23]"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strlen(allowed[i]) == len && strncasecmp(host, allowed[i], len) == 0)
            return 1;
    }
    /* 127.0.0.0/8: four dotted decimal parts, the first 127. */
    if (len < 9 || len > 15 || strncmp(host, "127.", 4) != 0)
        return 0;
    int parts = 2, part_digits = 0, value = 0; /* "127." was the first part */
    for (size_t i = 4; i < len; i++) {
        if (host[i] == '.') {
            if (part_digits == 0)
                return 0;
            parts++, part_digits = 0, value = 0;
        } else if (host[i] >= '0' && host[i] <= '9') {
            value = value * 10 + (host[i] - '0');
            if (++part_digits > 3 || value > 255)
                return 0;
        } else {
            return 0;
        }
    }
    return parts == 4 && part_digits > 0;
}

enum ivs_status cred_container_url(const char *relative_uri, const char *full_uri, char **url,
                                   struct ivs_error *err)
{
    *url = NULL;
    if (relative_uri && *relative_uri) {
        struct buf b = BUF_INIT;
        buf_printf(&b, "%s%s%s", CONTAINER_HOST, relative_uri[0] == '/' ? "" : "/", relative_uri);
        *url = buf_steal(&b);
        return *url ? IVS_OK : ivs_error_nomem(err);
    }
    if (!full_uri || !*full_uri)
        return IVS_OK;
    struct ivs_error inner = {0};
    char *normalized = NULL;
    if (config_check_endpoint_url(full_uri, "AWS_CONTAINER_CREDENTIALS_FULL_URI", &normalized,
                                  &inner) != IVS_OK) {
        enum ivs_status st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "ContainerCredentialsError",
                                           "%s", inner.message ? inner.message : "invalid URL");
        ivs_error_clear(&inner);
        return st;
    }
    free(normalized);
    if (strncasecmp(full_uri, "http://", 7) == 0) {
        const char *host = full_uri + 7;
        size_t len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/?#");
        if (!host_is_loopback_or_container(host, len))
            return ivs_error_set(err, IVS_ERR_CREDENTIALS, "ContainerCredentialsError",
                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI uses plain http with host "
                                 "%.*s; http is only allowed for loopback addresses and the "
                                 "container credential hosts (use https otherwise)",
                                 (int)(len > 100 ? 100 : len), host);
    }
    *url = ivs_strdup(full_uri);
    return *url ? IVS_OK : ivs_error_nomem(err);
}

/* The token to send as Authorization: the file's content wins over the variable. */
static enum ivs_status container_token(struct cred_chain *c, char **token, struct ivs_error *err)
{
    *token = NULL;
    const char *path = env(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (path) {
        FILE *fp = open_regular(path);
        if (!fp)
            return ivs_error_set(err, IVS_ERR_CREDENTIALS, "ContainerCredentialsError",
                                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s cannot be read: %s",
                                 path, strerror(errno));
        char chunk[16384];
        size_t n = fread(chunk, 1, sizeof chunk - 1, fp);
        fclose(fp);
        chunk[n] = '\0';
        while (n > 0 && (chunk[n - 1] == '\n' || chunk[n - 1] == '\r' || chunk[n - 1] == ' '))
            chunk[--n] = '\0';
        *token = ivs_strndup(chunk, n);
        explicit_bzero(chunk, sizeof chunk);
    } else {
        const char *v = env(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
        if (!v)
            return IVS_OK;
        *token = ivs_strdup(v);
    }
    if (!*token)
        return ivs_error_nomem(err);
    for (const char *p = *token; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            secret_free(*token);
            *token = NULL;
            return ivs_error_set(err, IVS_ERR_CREDENTIALS, "ContainerCredentialsError",
                                 "the container authorization token contains a line break");
        }
    }
    return IVS_OK;
}

static enum ivs_status provider_container(struct cred_chain *c, const struct pctx *p,
                                          struct credentials *out, struct buf *why,
                                          struct ivs_error *err)
{
    (void)p;
    char *url = NULL;
    enum ivs_status st =
        cred_container_url(env(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
                           env(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI"), &url, err);
    if (st != IVS_OK)
        return st;
    if (!url) {
        buf_puts(why,
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI "
                 "not set");
        return IVS_OK;
    }
    char *token = NULL;
    st = container_token(c, &token, err);
    if (st != IVS_OK) {
        free(url);
        return st;
    }
    struct ivs_header headers[2] = {{"Accept", "application/json"}, {"Authorization", token}};
    struct http_response resp = {0};
    struct ivs_error net = {0};
    for (int attempt = 0; attempt < CONTAINER_ATTEMPTS; attempt++) {
        st = http_once("GET", url, headers, token ? 2 : 1, CONTAINER_TIMEOUT_MS, c->cfg->ca_bundle,
                       &resp, &net);
        if (st == IVS_OK && resp.status < 500)
            break;
        if (attempt + 1 < CONTAINER_ATTEMPTS)
            response_wipe(&resp);
    }
    if (st != IVS_OK) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "ContainerCredentialsError",
                           "the container credential endpoint did not answer: %s",
                           net.message ? net.message : "no response");
    } else if (resp.status != 200) {
        st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "ContainerCredentialsError",
                           "the container credential endpoint answered HTTP %ld", resp.status);
    } else {
        struct buf problem = BUF_INIT;
        st = cred_parse_document(CRED_DOC_CONTAINER, buf_str(&resp.body), resp.body.len, out,
                                 &problem, err);
        if (st == IVS_OK && out->access_key_id)
            set_detail(out, "container endpoint %s", url);
        else if (st == IVS_OK)
            st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "ContainerCredentialsError",
                               "the container credential endpoint's answer is unusable: %s",
                               buf_str(&problem));
        buf_free(&problem);
    }
    ivs_error_clear(&net);
    response_wipe(&resp);
    secret_free(token);
    free(url);
    return st;
}

/* ---- EC2 instance metadata ---- */

struct imds_settings {
    char *base; /* endpoint without trailing "/" */
    long timeout_ms;
    int attempts;
    const char *v1_disabled_by; /* NULL: IMDSv1 fallback allowed */
};

static const char *env_or_profile(const struct cred_chain *c, const char *env_name,
                                  const char *profile_key, const char **source)
{
    const char *v = env(c, env_name);
    *source = env_name;
    if (!v) {
        v = config_profile_value(c->cfg, profile_key);
        *source = profile_key;
    }
    return v;
}

/* Resolves the IMDS settings; a bad one is explained in why and yields -1 (the provider is
 * then skipped, as a misconfigured last resort should not hide the other providers' story). */
static int imds_settings(const struct cred_chain *c, struct imds_settings *s, struct buf *why)
{
    memset(s, 0, sizeof *s);
    const char *source;
    const char *v =
        env_or_profile(c, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout", &source);
    s->timeout_ms = IMDS_DEFAULT_TIMEOUT_MS;
    if (v) {
        char *end;
        double seconds = strtod(v, &end);
        if (end == v || *end || !(seconds > 0) || seconds > 3600) {
            buf_printf(why, "%s is not a number of seconds", source);
            return -1;
        }
        s->timeout_ms = (long)(seconds * 1000.0 + 0.5);
        if (s->timeout_ms < 1)
            s->timeout_ms = 1;
    }
    v = env_or_profile(c, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts",
                       &source);
    s->attempts = 1;
    if (v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 1 || n > 100) {
            buf_printf(why, "%s is not a whole number between 1 and 100", source);
            return -1;
        }
        s->attempts = (int)n;
    }
    v = env_or_profile(c, "AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled", &source);
    if (config_is_true(v))
        s->v1_disabled_by = source;
    v = env_or_profile(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint",
                       &source);
    if (v) {
        struct ivs_error e = {0};
        if (config_check_endpoint_url(v, source, &s->base, &e) != IVS_OK) {
            buf_puts(why, e.message ? e.message : "invalid endpoint");
            ivs_error_clear(&e);
            return -1;
        }
        return 0;
    }
    v = env_or_profile(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                       "ec2_metadata_service_endpoint_mode", &source);
    const char *base = IMDS_IPV4;
    if (v && strcasecmp(v, "IPv6") == 0) {
        base = IMDS_IPV6;
    } else if (v && strcasecmp(v, "IPv4") != 0) {
        buf_printf(why, "%s must be IPv4 or IPv6", source);
        return -1;
    } else if (!v) {
        /* The older switch, which botocore still honours when no mode is set. */
        v = env_or_profile(c, "AWS_IMDS_USE_IPV6", "imds_use_ipv6", &source);
        if (config_is_true(v))
            base = IMDS_IPV6;
    }
    s->base = ivs_strdup(base);
    return s->base ? 0 : -1;
}

char *cred_imds_endpoint(const struct cred_chain *c, struct buf *why)
{
    struct imds_settings s;
    if (imds_settings(c, &s, why) != 0) {
        free(s.base);
        return NULL;
    }
    return s.base;
}

/* One IMDS request with the configured timeout and attempts (server errors and silence are
 * retried). Returns 0 when a response arrived, -1 (with why filled) when none did. */
static int imds_request(const struct imds_settings *s, const char *method, const char *path,
                        const struct ivs_header *headers, size_t header_count,
                        struct http_response *resp, struct buf *why)
{
    struct buf url = BUF_INIT;
    buf_printf(&url, "%s%s", s->base, path);
    if (buf_failed(&url)) {
        buf_puts(why, "out of memory");
        return -1;
    }
    int result = -1;
    struct ivs_error e = {0};
    for (int attempt = 0; attempt < s->attempts; attempt++) {
        response_wipe(resp);
        if (http_once(method, buf_str(&url), headers, header_count, s->timeout_ms, NULL, resp,
                      &e) == IVS_OK) {
            result = 0;
            if (resp->status < 500)
                break;
        } else {
            result = -1;
        }
    }
    if (result != 0)
        buf_printf(why, "no answer from %s within %ld ms (%s)", buf_str(&url), s->timeout_ms,
                   e.message ? e.message : "no response");
    ivs_error_clear(&e);
    buf_free(&url);
    return result;
}

static int role_name_is_safe(const char *name)
{
    if (!*name)
        return 0;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr("+=,.@_-", ch)))
            return 0;
    }
    return 1;
}

static enum ivs_status provider_imds(struct cred_chain *c, const struct pctx *p,
                                     struct credentials *out, struct buf *why,
                                     struct ivs_error *err)
{
    (void)p;
    if (config_is_true(env(c, "AWS_EC2_METADATA_DISABLED"))) {
        buf_puts(why, "disabled by AWS_EC2_METADATA_DISABLED");
        return IVS_OK;
    }
    struct imds_settings s;
    if (imds_settings(c, &s, why) != 0) {
        free(s.base);
        return IVS_OK;
    }
    enum ivs_status st = IVS_OK;
    struct http_response resp = {0};
    char *token = NULL;
    char *role = NULL;
    struct ivs_header put_headers[] = {{"X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL}};
    if (imds_request(&s, "PUT", "/latest/api/token", put_headers, 1, &resp, why) != 0)
        goto done;
    if (resp.status == 200) {
        token = ivs_strndup(buf_str(&resp.body), strcspn(buf_str(&resp.body), "\r\n"));
        if (!token || !*token) {
            buf_puts(why, "the IMDSv2 token answer was empty");
            goto done;
        }
    } else if (resp.status == 403 || resp.status == 404 || resp.status == 405) {
        if (s.v1_disabled_by) {
            buf_printf(why,
                       "the IMDSv2 token request was refused (HTTP %ld) and the IMDSv1 fallback "
                       "is disabled by %s",
                       resp.status, s.v1_disabled_by);
            goto done;
        }
    } else {
        buf_printf(why, "the IMDSv2 token request answered HTTP %ld", resp.status);
        goto done;
    }
    struct ivs_header token_header[] = {{"X-aws-ec2-metadata-token", token}};
    size_t token_count = token ? 1 : 0;
    if (imds_request(&s, "GET", "/latest/meta-data/iam/security-credentials/", token_header,
                     token_count, &resp, why) != 0)
        goto done;
    if (resp.status == 404) {
        buf_puts(why, "this instance has no IAM role (instance profile)");
        goto done;
    }
    if (resp.status != 200) {
        buf_printf(why, "the role name request answered HTTP %ld", resp.status);
        goto done;
    }
    {
        const char *body = buf_str(&resp.body);
        while (*body == ' ' || *body == '\t' || *body == '\r' || *body == '\n')
            body++;
        role = ivs_strndup(body, strcspn(body, " \t\r\n"));
    }
    if (!role || !role_name_is_safe(role)) {
        buf_puts(why, role ? "the role name answer is empty or malformed" : "out of memory");
        goto done;
    }
    struct buf path = BUF_INIT;
    buf_printf(&path, "/latest/meta-data/iam/security-credentials/%s", role);
    int got = imds_request(&s, "GET", buf_str(&path), token_header, token_count, &resp, why);
    buf_free(&path);
    if (got != 0)
        goto done;
    if (resp.status != 200) {
        buf_printf(why, "the credentials request for role %s answered HTTP %ld", role, resp.status);
        goto done;
    }
    {
        struct buf problem = BUF_INIT;
        st = cred_parse_document(CRED_DOC_IMDS, buf_str(&resp.body), resp.body.len, out, &problem,
                                 err);
        if (st == IVS_OK && out->access_key_id)
            set_detail(out, "instance role %s at %s", role, s.base);
        else if (st == IVS_OK)
            buf_printf(why, "role %s: %s", role, buf_str(&problem));
        buf_free(&problem);
    }
done:
    response_wipe(&resp);
    secret_free(token);
    free(role);
    free(s.base);
    return st;
}

/* ------------------------------------------------------------------------------------------
 * The chain
 * ---------------------------------------------------------------------------------------- */

struct provider {
    const char *label; /* names the provider in messages */
    provider_fn fetch;
};

/* botocore's order (credentials.py create_credential_resolver). A provider whose settings are
 * present claims the request: it yields credentials or fails, and the chain never goes on to
 * the container or instance metadata in its place. */
static const struct provider s_providers[] = {
    {"environment", provider_environment},
    {"assume role", provider_assume_role},
    {"web identity", provider_web_identity},
    {"SSO", provider_sso},
    {"shared credentials file", provider_credentials_file},
    {"login", provider_login},
    {"credential_process", provider_process},
    {"config file", provider_config_file},
    {"container", provider_container},
    {"EC2 instance metadata", provider_imds},
};

#define PROVIDER_COUNT (sizeof s_providers / sizeof s_providers[0])

enum ivs_status cred_chain_new(const struct ivs_client_options *opts, const struct ivs_config *cfg,
                               struct cred_chain **out, struct ivs_error *err)
{
    *out = NULL;
    const char *key_id =
        opts && opts->access_key_id && *opts->access_key_id ? opts->access_key_id : NULL;
    const char *secret = opts && opts->secret_access_key && *opts->secret_access_key
                             ? opts->secret_access_key
                             : NULL;
    const char *token =
        opts && opts->session_token && *opts->session_token ? opts->session_token : NULL;
    if ((key_id != NULL) != (secret != NULL))
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "the options set %s without %s; give both or neither",
                             key_id ? "access_key_id" : "secret_access_key",
                             key_id ? "secret_access_key" : "access_key_id");
    if (token && !key_id)
        return ivs_error_set(err, IVS_ERR_CONFIG, "InvalidConfig",
                             "the options set session_token without access_key_id and "
                             "secret_access_key");
    struct cred_chain *c = calloc(1, sizeof *c);
    if (!c)
        return ivs_error_nomem(err);
    c->cfg = cfg;
    c->anonymous = opts && opts->anonymous;
    c->process_timeout_ms = PROCESS_TIMEOUT_MS;
    c->cached_provider = -1;
    c->mfa = opts ? opts->mfa_token : NULL;
    c->mfa_ud = opts ? opts->mfa_token_ud : NULL;
    c->ident.cfg = cfg;
    c->ident.sleep = opts ? opts->sleep : NULL;
    c->ident.sleep_ud = opts ? opts->hooks_ud : NULL;
    if (key_id) {
        c->explicit_key_id = ivs_strdup(key_id);
        c->explicit_secret = ivs_strdup(secret);
        c->explicit_token = ivs_strdup(token);
        if (!c->explicit_key_id || !c->explicit_secret || (token && !c->explicit_token)) {
            cred_chain_free(c);
            return ivs_error_nomem(err);
        }
    }
    *out = c;
    return IVS_OK;
}

void cred_chain_free(struct cred_chain *c)
{
    if (!c)
        return;
    credentials_clear(&c->cached);
    free(c->explicit_key_id);
    secret_free(c->explicit_secret);
    secret_free(c->explicit_token);
    free(c);
}

void cred_chain_set_log(struct cred_chain *c, void (*fn)(void *ud, const char *line), void *ud)
{
    if (c) {
        c->log = fn;
        c->log_ud = ud;
    }
}

static void cred_log(const struct cred_chain *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cred_log(const struct cred_chain *c, const char *fmt, ...)
{
    if (!c->log)
        return;
    struct buf line = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&line, fmt, ap);
    va_end(ap);
    if (!buf_failed(&line))
        c->log(c->log_ud, buf_str(&line));
    buf_free(&line);
}

void cred_mask_key(const char *key_id, char *out, size_t n)
{
    size_t len = key_id ? strlen(key_id) : 0;
    if (!n)
        return;
    if (len <= 4) {
        snprintf(out, n, "%s", len ? "****" : "");
        return;
    }
    size_t stars = len - 4 < n - 5 ? len - 4 : n - 5;
    memset(out, '*', stars);
    snprintf(out + stars, n - stars, "%s", key_id + len - 4);
}

void cred_format_time(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cred_chain_set_process_timeout(struct cred_chain *c, long timeout_ms)
{
    if (c)
        c->process_timeout_ms = timeout_ms > 0 ? timeout_ms : PROCESS_TIMEOUT_MS;
}

static int needs_refresh(const struct credentials *cr, int64_t now_ms)
{
    return cr->expires_ms != 0 && now_ms >= cr->expires_ms - CRED_REFRESH_MARGIN_MS;
}

/* Runs the providers from `first` to `last`, stopping at the first that yields or fails. The
 * reasons of those that gave nothing are collected in report. *which is the provider used. */
static enum ivs_status run_providers(struct cred_chain *c, size_t first, size_t last,
                                     int64_t now_ms, struct credentials *found, int *which,
                                     struct buf *report, struct ivs_error *err)
{
    struct pctx p = {c->cfg->profile, c->cfg->profile_explicit, now_ms, NULL};
    for (size_t i = first; i <= last; i++) {
        struct buf why = BUF_INIT;
        memset(found, 0, sizeof *found);
        enum ivs_status st = s_providers[i].fetch(c, &p, found, &why, err);
        if (st == IVS_OK && !found->access_key_id) {
            buf_printf(report, "; %s: %s", s_providers[i].label,
                       why.len ? buf_str(&why) : "nothing found");
            buf_free(&why);
            continue;
        }
        buf_free(&why);
        if (st != IVS_OK) {
            credentials_clear(found);
            return st;
        }
        *which = (int)i;
        return IVS_OK;
    }
    return ivs_error_set(err, IVS_ERR_CREDENTIALS, "NoCredentials", "no credentials found");
}

enum ivs_status cred_chain_get(struct cred_chain *c, int64_t now_ms, const struct credentials **out,
                               struct ivs_error *err)
{
    *out = NULL;
    if (!c)
        return ivs_error_set(err, IVS_ERR_USAGE, "InvalidArgument", "no credential chain");
    if (c->explicit_key_id) {
        if (!c->have_cached) {
            enum ivs_status st = credentials_set(&c->cached, c->explicit_key_id, c->explicit_secret,
                                                 c->explicit_token, 0, "explicit", err);
            if (st != IVS_OK)
                return st;
            c->have_cached = 1;
        }
        *out = &c->cached;
        return IVS_OK;
    }
    if (c->anonymous)
        return IVS_OK;
    if (c->have_cached && (!needs_refresh(&c->cached, now_ms) ||
                           (now_ms < c->refresh_retry_ms && now_ms < c->cached.expires_ms))) {
        *out = &c->cached;
        return IVS_OK;
    }
    struct credentials fresh;
    struct buf report = BUF_INIT;
    int which = -1;
    enum ivs_status st;
    if (c->have_cached) {
        /* Refresh from the provider that gave the current credentials. */
        size_t p = (size_t)c->cached_provider;
        st = run_providers(c, p, p, now_ms, &fresh, &which, &report, err);
        if (st != IVS_OK && err && err->code && strcmp(err->code, "NoCredentials") == 0)
            st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "NoCredentials",
                               "the credentials from %s expire and refreshing them gave nothing%s",
                               s_providers[p].label, buf_str(&report));
        if (st != IVS_OK && now_ms < c->cached.expires_ms) {
            /* Still valid: keep using them, and wait a little before asking again so that a
             * failing service is not called on every request. */
            cred_log(c,
                     "credentials: refreshing from %s failed (%s); the current ones stay "
                     "valid for %lld s",
                     s_providers[p].label, err && err->message ? err->message : "error",
                     (long long)((c->cached.expires_ms - now_ms) / 1000));
            c->refresh_retry_ms = now_ms + CRED_REFRESH_RETRY_MS;
            buf_free(&report);
            ivs_error_clear(err);
            *out = &c->cached;
            return IVS_OK;
        }
    } else {
        st = run_providers(c, 0, PROVIDER_COUNT - 1, now_ms, &fresh, &which, &report, err);
        if (st != IVS_OK && err && err->code && strcmp(err->code, "NoCredentials") == 0)
            st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "NoCredentials",
                               "no credentials found; tried: explicit options: no access_key_id; "
                               "anonymous: not requested%s",
                               buf_str(&report));
    }
    buf_free(&report);
    if (st != IVS_OK)
        return st;
    if (fresh.expires_ms != 0 && now_ms >= fresh.expires_ms) {
        credentials_clear(&fresh);
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "ExpiredCredentials",
                             "the credentials from %s had already expired when they were obtained",
                             s_providers[which].label);
    }
    {
        char masked[32];
        cred_mask_key(fresh.access_key_id, masked, sizeof masked);
        char when[32] = "never";
        if (fresh.expires_ms)
            cred_format_time(fresh.expires_ms, when, sizeof when);
        cred_log(c, "credentials: %s from %s (%s), access key %s, expire %s",
                 c->have_cached ? "refreshed" : "resolved", fresh.provider,
                 fresh.detail ? fresh.detail : s_providers[which].label, masked, when);
    }
    credentials_clear(&c->cached);
    c->cached = fresh;
    c->have_cached = 1;
    c->cached_provider = which;
    *out = &c->cached;
    return IVS_OK;
}

void cred_chain_describe(struct cred_chain *c, int64_t now_ms, cJSON *obj)
{
    const struct credentials *cr = NULL;
    struct ivs_error err = {0};
    if (cred_chain_get(c, now_ms, &cr, &err) != IVS_OK) {
        cJSON_AddNullToObject(obj, "credential_provider");
        cJSON_AddStringToObject(obj, "credential_error_code", err.code ? err.code : "error");
        cJSON_AddStringToObject(obj, "credential_error", err.message ? err.message : "");
        ivs_error_clear(&err);
        return;
    }
    if (!cr) {
        cJSON_AddStringToObject(obj, "credential_provider", "anonymous");
        cJSON_AddStringToObject(obj, "credential_source", "the anonymous option");
        return;
    }
    char masked[64];
    cred_mask_key(cr->access_key_id, masked, sizeof masked);
    cJSON_AddStringToObject(obj, "credential_provider", cr->provider);
    if (cr->detail)
        cJSON_AddStringToObject(obj, "credential_source", cr->detail);
    else if (c->cached_provider >= 0)
        cJSON_AddStringToObject(obj, "credential_source", s_providers[c->cached_provider].label);
    else
        cJSON_AddStringToObject(obj, "credential_source", "the client options");
    cJSON_AddStringToObject(obj, "access_key_id", masked);
    cJSON_AddBoolToObject(obj, "session_token", cr->session_token != NULL);
    if (cr->expires_ms) {
        char when[32];
        cred_format_time(cr->expires_ms, when, sizeof when);
        cJSON_AddStringToObject(obj, "expires_at", when);
    } else {
        cJSON_AddNullToObject(obj, "expires_at");
    }
}

enum ivs_status cred_chain_whoami(struct cred_chain *c, int64_t now_ms, cJSON **out,
                                  struct ivs_error *err)
{
    *out = NULL;
    const struct credentials *cr = NULL;
    enum ivs_status st = cred_chain_get(c, now_ms, &cr, err);
    if (st != IVS_OK)
        return st;
    if (!cr)
        return ivs_error_set(err, IVS_ERR_CREDENTIALS, "NoCredentials",
                             "an anonymous client has no identity to ask STS about");
    struct ident_signer signer = {cr->access_key_id, cr->secret_access_key, cr->session_token};
    struct xml_doc doc;
    st = ident_sts_call(&c->ident, "GetCallerIdentity",
                        "Action=GetCallerIdentity&Version=2011-06-15", &signer, "whoami",
                        IVS_ERR_SERVICE, &doc, err);
    if (st != IVS_OK)
        return st;
    cJSON *obj = cJSON_CreateObject();
    static const char *const fields[] = {"UserId", "Account", "Arn"};
    for (size_t i = 0; obj && i < sizeof fields / sizeof *fields; i++) {
        const char *v = xml_doc_get(&doc, fields[i]);
        if (v)
            cJSON_AddStringToObject(obj, fields[i], v);
        else
            cJSON_AddNullToObject(obj, fields[i]);
    }
    xml_doc_free(&doc);
    if (!obj)
        return ivs_error_nomem(err);
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, "Arn"))) {
        cJSON_Delete(obj);
        return ivs_error_set(err, IVS_ERR_INTERNAL, "InvalidResponse",
                             "STS GetCallerIdentity answered without an Arn");
    }
    *out = obj;
    return IVS_OK;
}
