#include "credentials.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
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
#include "profile.h"
#include "timeutil.h"

extern char **environ;

#define PROCESS_TIMEOUT_MS 60000L
#define PROCESS_MAX_STDOUT (1024 * 1024)
#define PROCESS_MAX_STDERR (64 * 1024)
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
    int cached_provider; /* index into s_providers, -1 for explicit keys */
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

/* ------------------------------------------------------------------------------------------
 * Times
 * ---------------------------------------------------------------------------------------- */

static int digits(const char **p, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *value = v;
    return 0;
}

int cred_parse_time(const char *text, int64_t *ms_out)
{
    if (!text)
        return -1;
    const char *p = text;
    int year, mon, day, hour, min, sec, ms = 0;
    if (digits(&p, 4, &year) || *p++ != '-' || digits(&p, 2, &mon) || *p++ != '-' ||
        digits(&p, 2, &day))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (digits(&p, 2, &hour) || *p++ != ':' || digits(&p, 2, &min) || *p++ != ':' ||
        digits(&p, 2, &sec))
        return -1;
    if (*p == '.' || *p == ',') {
        p++;
        int n = 0, scale = 100;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                ms += (*p - '0') * scale, scale /= 10;
            n++, p++;
        }
        if (n == 0)
            return -1;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_min = sign * (oh * 60 + om);
    }
    if (*p)
        return -1;
    if (!ivs_valid_date(year, mon, day) || hour > 23 || min > 59 || sec > 60)
        return -1;
    int64_t days = ivs_days_from_civil(year, mon, day);
    int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec - (int64_t)offset_min * 60;
    *ms_out = secs * 1000 + ms;
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

typedef enum ivs_status (*provider_fn)(struct cred_chain *c, struct credentials *out,
                                       struct buf *why, struct ivs_error *err);

static const char *env(const struct cred_chain *c, const char *name)
{
    return config_env(c->cfg, name);
}

static enum ivs_status provider_environment(struct cred_chain *c, struct credentials *out,
                                            struct buf *why, struct ivs_error *err)
{
    if (c->cfg->profile_explicit) {
        buf_printf(why, "skipped because the options name profile '%s'", c->cfg->profile);
        return IVS_OK;
    }
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
    return credentials_set(out, key_id, secret, token, expires, "environment", err);
}

static enum ivs_status static_keys_from(const struct cred_chain *c, const struct profile_file *f,
                                        const char *path, const char *provider,
                                        struct credentials *out, struct buf *why,
                                        struct ivs_error *err)
{
    const char *profile = c->cfg->profile;
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
    return credentials_set(out, key_id, secret, token, 0, provider, err);
}

static enum ivs_status provider_credentials_file(struct cred_chain *c, struct credentials *out,
                                                 struct buf *why, struct ivs_error *err)
{
    return static_keys_from(c, c->cfg->credentials_file, c->cfg->credentials_path,
                            "shared-credentials-file", out, why, err);
}

static enum ivs_status provider_config_file(struct cred_chain *c, struct credentials *out,
                                            struct buf *why, struct ivs_error *err)
{
    return static_keys_from(c, c->cfg->config_file, c->cfg->config_path, "config-file", out, why,
                            err);
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

static enum ivs_status provider_process(struct cred_chain *c, struct credentials *out,
                                        struct buf *why, struct ivs_error *err)
{
    const char *profile = c->cfg->profile;
    const char *command = config_profile_value(c->cfg, "credential_process");
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
    buf_wipe_free(&r.out);
    buf_free(&r.errout);
    return st;
}

/* ---- assume role, web identity, SSO: recognised, not yet usable ---- */

static enum ivs_status provider_unsupported(struct cred_chain *c, struct credentials *out,
                                            struct buf *why, struct ivs_error *err)
{
    (void)out;
    (void)err;
    const char *profile = c->cfg->profile;
    static const struct {
        const char *key, *what;
    } keys[] = {
        {"role_arn", "role_arn (assume role)"},
        {"web_identity_token_file", "web_identity_token_file (web identity)"},
        {"sso_session", "sso_session (IAM Identity Center)"},
        {"sso_start_url", "sso_start_url (IAM Identity Center)"},
    };
    const char *sep = "";
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (config_profile_value(c->cfg, keys[i].key)) {
            buf_printf(why, "%sprofile '%s' sets %s, which this version of libivs cannot use yet",
                       sep, profile, keys[i].what);
            sep = "; ";
        }
    }
    if (env(c, "AWS_WEB_IDENTITY_TOKEN_FILE")) {
        buf_printf(why,
                   "%sAWS_WEB_IDENTITY_TOKEN_FILE is set, but web identity credentials are not "
                   "supported by this version of libivs",
                   sep);
        sep = "; ";
    }
    if (!*sep)
        buf_printf(why, "profile '%s' sets no role_arn, web_identity_token_file or sso_session",
                   profile);
    return IVS_OK;
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
        FILE *fp = fopen(path, "rb");
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

static enum ivs_status provider_container(struct cred_chain *c, struct credentials *out,
                                          struct buf *why, struct ivs_error *err)
{
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
        if (st == IVS_OK && problem.len)
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
    }
    s->base = ivs_strdup(base);
    return s->base ? 0 : -1;
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

static enum ivs_status provider_imds(struct cred_chain *c, struct credentials *out, struct buf *why,
                                     struct ivs_error *err)
{
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
        if (st == IVS_OK && problem.len)
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

static const struct provider s_providers[] = {
    {"environment", provider_environment},
    {"shared credentials file", provider_credentials_file},
    {"config file", provider_config_file},
    {"credential_process", provider_process},
    {"assume role / web identity / SSO", provider_unsupported},
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
                                     struct credentials *found, int *which, struct buf *report,
                                     struct ivs_error *err)
{
    for (size_t i = first; i <= last; i++) {
        struct buf why = BUF_INIT;
        memset(found, 0, sizeof *found);
        enum ivs_status st = s_providers[i].fetch(c, found, &why, err);
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
    if (c->have_cached && !needs_refresh(&c->cached, now_ms)) {
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
        st = run_providers(c, p, p, &fresh, &which, &report, err);
        if (st != IVS_OK && err && err->code && strcmp(err->code, "NoCredentials") == 0)
            st = ivs_error_set(err, IVS_ERR_CREDENTIALS, "NoCredentials",
                               "the credentials from %s expire and refreshing them gave nothing%s",
                               s_providers[p].label, buf_str(&report));
        if (st != IVS_OK && now_ms < c->cached.expires_ms) {
            /* Still valid: keep using them and try again on the next call. */
            buf_free(&report);
            ivs_error_clear(err);
            *out = &c->cached;
            return IVS_OK;
        }
    } else {
        st = run_providers(c, 0, PROVIDER_COUNT - 1, &fresh, &which, &report, err);
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
    credentials_clear(&c->cached);
    c->cached = fresh;
    c->have_cached = 1;
    c->cached_provider = which;
    *out = &c->cached;
    return IVS_OK;
}
