/* test_credentials.c: the credential chain. Every provider, the order between them, caching
 * and refresh, and the messages. HTTP providers run against fakesrv on 127.0.0.1 only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "buf.h"
#include "credentials.h"
#include "support/fakesrv.h"
#include "harness.h"
#include "ivs.h"

/* 2030-01-01T00:00:00Z */
#define T2030 1893456000000LL
#define MINUTE 60000LL

struct env {
    const char *vars[64];
};

static const char *env_get(void *ud, const char *name)
{
    const struct env *e = ud;
    for (size_t i = 0; e->vars[i]; i += 2) {
        if (strcmp(e->vars[i], name) == 0)
            return e->vars[i + 1];
    }
    return NULL;
}

static void env_add(struct env *e, const char *name, const char *value)
{
    size_t n = 0;
    while (e->vars[n])
        n += 2;
    e->vars[n] = name;
    e->vars[n + 1] = value;
    e->vars[n + 2] = NULL;
}

/* Temporary files, removed by cleanup_files(). */
static char s_paths[32][64];
static int s_path_count;

static const char *temp_file(const char *text, int mode)
{
    char *path = s_paths[s_path_count++];
    strcpy(path, "/tmp/ivs-cred-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        harness_fail(__FILE__, __LINE__, "mkstemp failed");
        return "/nonexistent";
    }
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        harness_fail(__FILE__, __LINE__, "short write");
    close(fd);
    chmod(path, (mode_t)mode);
    return path;
}

static void cleanup_files(void)
{
    for (int i = 0; i < s_path_count; i++)
        unlink(s_paths[i]);
    s_path_count = 0;
}

/* A client's config and chain built from an environment table. The shared files default to
 * nonexistent paths and instance metadata to disabled, so nothing outside loopback is ever
 * contacted. */
struct fixture {
    struct env env;
    struct ivs_client_options opts;
    struct ivs_config cfg;
    struct cred_chain *chain;
};

static enum ivs_status fixture_init(struct fixture *fx, struct ivs_error *err)
{
    struct env *e = &fx->env;
    if (!env_get(e, "AWS_CONFIG_FILE"))
        env_add(e, "AWS_CONFIG_FILE", "/nonexistent/ivs-config");
    if (!env_get(e, "AWS_SHARED_CREDENTIALS_FILE"))
        env_add(e, "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ivs-credentials");
    if (!env_get(e, "AWS_EC2_METADATA_SERVICE_ENDPOINT") &&
        !env_get(e, "AWS_EC2_METADATA_DISABLED"))
        env_add(e, "AWS_EC2_METADATA_DISABLED", "true");
    if (!env_get(e, "AWS_REGION"))
        env_add(e, "AWS_REGION", "us-east-1");
    fx->opts.getenv = env_get;
    fx->opts.getenv_ud = e;
    fx->chain = NULL;
    enum ivs_status st = config_resolve(&fx->opts, &fx->cfg, err);
    if (st != IVS_OK)
        return st;
    st = cred_chain_new(&fx->opts, &fx->cfg, &fx->chain, err);
    if (st != IVS_OK)
        config_cleanup(&fx->cfg);
    return st;
}

static void fixture_free(struct fixture *fx)
{
    cred_chain_free(fx->chain);
    config_cleanup(&fx->cfg);
    fx->chain = NULL;
}

/* Resolves once and returns the key id (a static copy) or NULL on error. */
static const char *key_for(struct fixture *fx, int64_t now, const char **provider,
                           struct ivs_error *err)
{
    static char key[128];
    const struct credentials *cr = NULL;
    if (fixture_init(fx, err) != IVS_OK)
        return NULL;
    enum ivs_status st = cred_chain_get(fx->chain, now, &cr, err);
    const char *result = NULL;
    if (st == IVS_OK && cr) {
        snprintf(key, sizeof key, "%s", cr->access_key_id);
        if (provider)
            *provider = cr->provider;
        result = key;
    }
    fixture_free(fx);
    return result;
}

static void test_parse_time(void)
{
    int64_t ms = 0;
    CHECK_INT_EQ(0, cred_parse_time("2030-01-01T00:00:00Z", &ms));
    CHECK_INT_EQ(T2030, ms);
    CHECK_INT_EQ(0, cred_parse_time("2030-01-01T01:30:00+01:30", &ms));
    CHECK_INT_EQ(T2030, ms);
    CHECK_INT_EQ(0, cred_parse_time("2029-12-31T23:00:00.250-0100", &ms));
    CHECK_INT_EQ(T2030 + 250, ms);
    CHECK_INT_EQ(0, cred_parse_time("1970-01-01T00:00:00", &ms));
    CHECK_INT_EQ(0, ms);
    CHECK_INT_EQ(0, cred_parse_time("2024-02-29T12:00:00.123456Z", &ms));
    CHECK_INT_EQ(1709208000123LL, ms);
    static const char *const bad[] = {"",
                                      "2030-01-01",
                                      "2030-13-01T00:00:00Z",
                                      "2030-01-32T00:00:00Z",
                                      "2030-01-01T24:00:00Z",
                                      "2030-01-01T00:00:00Zjunk",
                                      "2030-01-01T00:00:00.Z",
                                      "20300101T000000Z",
                                      "soon"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(cred_parse_time(bad[i], &ms) == -1, "accepted %s", bad[i]);
}

static void test_explicit_and_anonymous(void)
{
    struct ivs_error err = {0};
    struct fixture fx = {
        .env = {{"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "env-secret", NULL}}};
    fx.opts.access_key_id = "AKIDEXPLICIT";
    fx.opts.secret_access_key = "explicit-secret";
    fx.opts.session_token = "explicit-token";
    CHECK(fixture_init(&fx, &err) == IVS_OK);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, 0, &cr, &err));
    CHECK(cr != NULL);
    if (cr) {
        CHECK_STR_EQ("AKIDEXPLICIT", cr->access_key_id);
        CHECK_STR_EQ("explicit-secret", cr->secret_access_key);
        CHECK_STR_EQ("explicit-token", cr->session_token);
        CHECK_STR_EQ("explicit", cr->provider);
        CHECK_INT_EQ(0, cr->expires_ms);
    }
    fixture_free(&fx);

    struct fixture lone = {.env = {{NULL}}};
    lone.opts.access_key_id = "AKIDLONE";
    CHECK_INT_EQ(IVS_ERR_CONFIG, fixture_init(&lone, &err));
    CHECK_STR_EQ("InvalidConfig", err.code);
    CHECK(err.message && strstr(err.message, "secret_access_key"));
    CHECK(!strstr(err.message ? err.message : "", "AKIDLONE"));
    struct fixture lone_secret = {.env = {{NULL}}};
    lone_secret.opts.secret_access_key = "only-secret";
    CHECK_INT_EQ(IVS_ERR_CONFIG, fixture_init(&lone_secret, &err));
    CHECK(!strstr(err.message ? err.message : "", "only-secret"));
    struct fixture lone_token = {.env = {{NULL}}};
    lone_token.opts.session_token = "only-token";
    CHECK_INT_EQ(IVS_ERR_CONFIG, fixture_init(&lone_token, &err));

    struct fixture anon = {
        .env = {{"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "s", NULL}}};
    anon.opts.anonymous = 1;
    CHECK(fixture_init(&anon, &err) == IVS_OK);
    cr = (const struct credentials *)&err; /* must be reset */
    CHECK_INT_EQ(IVS_OK, cred_chain_get(anon.chain, 0, &cr, &err));
    CHECK(cr == NULL);
    fixture_free(&anon);
    ivs_error_clear(&err);
}

static void test_environment(void)
{
    struct ivs_error err = {0};
    const char *provider = NULL;
    struct fixture fx = {.env = {{"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY",
                                  "env-secret", "AWS_SESSION_TOKEN", "env-token", NULL}}};
    CHECK(fixture_init(&fx, &err) == IVS_OK);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, 0, &cr, &err));
    if (cr) {
        CHECK_STR_EQ("AKIDENV", cr->access_key_id);
        CHECK_STR_EQ("env-secret", cr->secret_access_key);
        CHECK_STR_EQ("env-token", cr->session_token);
        CHECK_STR_EQ("environment", cr->provider);
    }
    fixture_free(&fx);

    struct fixture exp = {.env = {{"AWS_ACCESS_KEY_ID", "AKIDEXP", "AWS_SECRET_ACCESS_KEY", "s",
                                   "AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z", NULL}}};
    CHECK(fixture_init(&exp, &err) == IVS_OK);
    CHECK_INT_EQ(IVS_OK, cred_chain_get(exp.chain, T2030 - 60 * MINUTE, &cr, &err));
    CHECK(cr && cr->expires_ms == T2030);
    fixture_free(&exp);

    struct fixture partial = {.env = {{"AWS_ACCESS_KEY_ID", "AKIDPART", NULL}}};
    CHECK(key_for(&partial, 0, NULL, &err) == NULL);
    CHECK_INT_EQ(IVS_ERR_CREDENTIALS, err.kind);
    CHECK_STR_EQ("PartialCredentials", err.code);
    CHECK(err.message && strstr(err.message, "AWS_SECRET_ACCESS_KEY"));

    /* A profile named in the options skips the environment, as botocore does... */
    const char *creds =
        temp_file("[named]\naws_access_key_id = AKIDFILE\naws_secret_access_key = fs\n", 0600);
    struct fixture named = {.env = {{"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "s",
                                     "AWS_SHARED_CREDENTIALS_FILE", creds, NULL}}};
    named.opts.profile = "named";
    CHECK_STR_EQ("AKIDFILE", key_for(&named, 0, &provider, &err));
    CHECK_STR_EQ("shared-credentials-file", provider);
    /* ...but AWS_PROFILE does not. */
    struct fixture via_env = {
        .env = {{"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "s",
                 "AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_PROFILE", "named", NULL}}};
    CHECK_STR_EQ("AKIDENV", key_for(&via_env, 0, &provider, &err));
    CHECK_STR_EQ("environment", provider);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_shared_files(void)
{
    struct ivs_error err = {0};
    const char *provider = NULL;
    const char *creds =
        temp_file("[default]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = cs\n"
                  "aws_session_token = ct\n"
                  "[partial]\naws_access_key_id = AKIDPARTIAL\n",
                  0600);
    const char *config =
        temp_file("[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = xs\n"
                  "[profile cfgonly]\naws_access_key_id = AKIDCFGONLY\n"
                  "aws_secret_access_key = ys\n"
                  "[profile partial]\n",
                  0600);
    struct fixture both = {
        .env = {{"AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_CONFIG_FILE", config, NULL}}};
    CHECK_STR_EQ("AKIDCREDS", key_for(&both, 0, &provider, &err));
    CHECK_STR_EQ("shared-credentials-file", provider);
    struct fixture cfg_only = {.env = {{"AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_CONFIG_FILE",
                                        config, "AWS_PROFILE", "cfgonly", NULL}}};
    CHECK_STR_EQ("AKIDCFGONLY", key_for(&cfg_only, 0, &provider, &err));
    CHECK_STR_EQ("config-file", provider);
    struct fixture no_creds_file = {.env = {{"AWS_CONFIG_FILE", config, NULL}}};
    CHECK_STR_EQ("AKIDCONFIG", key_for(&no_creds_file, 0, &provider, &err));
    struct fixture env_first = {.env = {{"AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_ACCESS_KEY_ID",
                                         "AKIDENV", "AWS_SECRET_ACCESS_KEY", "s", NULL}}};
    CHECK_STR_EQ("AKIDENV", key_for(&env_first, 0, &provider, &err));
    struct fixture partial = {.env = {{"AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_CONFIG_FILE",
                                       config, "AWS_PROFILE", "partial", NULL}}};
    CHECK(key_for(&partial, 0, NULL, &err) == NULL);
    CHECK_STR_EQ("PartialCredentials", err.code);
    CHECK(err.message && strstr(err.message, "aws_secret_access_key") &&
          strstr(err.message, creds));
    cleanup_files();
    ivs_error_clear(&err);
}

/* A credential_process script. `body` is the shell code. */
static const char *script(const char *body)
{
    char text[2048];
    snprintf(text, sizeof text, "#!/bin/sh\n%s\n", body);
    return temp_file(text, 0700);
}

static const char *config_with_process(const char *command)
{
    char text[1024];
    snprintf(text, sizeof text, "[default]\ncredential_process = %s\n", command);
    return temp_file(text, 0600);
}

static void test_process_success_and_refresh(void)
{
    struct ivs_error err = {0};
    char counter[64];
    strcpy(counter, "/tmp/ivs-cred-count-XXXXXX");
    int fd = mkstemp(counter);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    char body[1024];
    snprintf(
        body, sizeof body,
        "n=$(cat %s); n=$((n+1)); echo $n > %s\n"
        "printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC%%s\", \"SecretAccessKey\": \"ps\", "
        "\"SessionToken\": \"pt\", \"Expiration\": \"2030-01-01T00:00:00Z\"}' $n",
        counter, counter);
    const char *cmd = script(body);
    struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config_with_process(cmd), NULL}}};
    CHECK(fixture_init(&fx, &err) == IVS_OK);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 60 * MINUTE, &cr, &err));
    if (cr) {
        CHECK_STR_EQ("AKIDPROC1", cr->access_key_id);
        CHECK_STR_EQ("ps", cr->secret_access_key);
        CHECK_STR_EQ("pt", cr->session_token);
        CHECK_STR_EQ("process", cr->provider);
        CHECK_INT_EQ(T2030, cr->expires_ms);
    }
    /* Cached while far from expiry. */
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 6 * MINUTE, &cr, &err));
    CHECK(cr && strcmp(cr->access_key_id, "AKIDPROC1") == 0);
    /* Within five minutes of expiry: the process runs again. */
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 4 * MINUTE, &cr, &err));
    CHECK(cr && strcmp(cr->access_key_id, "AKIDPROC2") == 0);
    /* Past expiry, the process answers with expired credentials: an error, not stale keys. */
    CHECK_INT_EQ(IVS_ERR_CREDENTIALS, cred_chain_get(fx.chain, T2030 + MINUTE, &cr, &err));
    CHECK_STR_EQ("ExpiredCredentials", err.code);
    CHECK(cr == NULL);
    fixture_free(&fx);
    unlink(counter);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_process_refresh_failure_keeps_valid_credentials(void)
{
    struct ivs_error err = {0};
    char flag[64];
    strcpy(flag, "/tmp/ivs-cred-flag-XXXXXX");
    int fd = mkstemp(flag);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    unlink(flag);
    char body[1024];
    /* The first run succeeds, later runs fail. */
    snprintf(body, sizeof body,
             "if [ -e %s ]; then echo 'later run fails' >&2; exit 2; fi\n"
             "touch %s\n"
             "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDONCE\", \"SecretAccessKey\": \"s\", "
             "\"Expiration\": \"2030-01-01T00:00:00Z\"}'",
             flag, flag);
    struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config_with_process(script(body)), NULL}}};
    CHECK(fixture_init(&fx, &err) == IVS_OK);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 60 * MINUTE, &cr, &err));
    CHECK(cr && cr->session_token == NULL);
    /* Refresh fails but the credentials are still valid for two minutes. */
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 2 * MINUTE, &cr, &err));
    CHECK(cr && strcmp(cr->access_key_id, "AKIDONCE") == 0);
    /* Expired and refresh fails: the failure surfaces. */
    CHECK_INT_EQ(IVS_ERR_CREDENTIALS, cred_chain_get(fx.chain, T2030, &cr, &err));
    CHECK_STR_EQ("CredentialProcessError", err.code);
    CHECK(err.message && strstr(err.message, "later run fails"));
    fixture_free(&fx);
    unlink(flag);
    cleanup_files();
    ivs_error_clear(&err);
}

/* Runs a failing credential_process and returns the error message (static copy). */
static const char *process_failure(const char *body, struct ivs_error *err)
{
    static char msg[1024];
    struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config_with_process(script(body)), NULL}}};
    msg[0] = '\0';
    if (key_for(&fx, 0, NULL, err) != NULL) {
        harness_fail(__FILE__, __LINE__, "process unexpectedly succeeded");
        return msg;
    }
    CHECK_INT_EQ(IVS_ERR_CREDENTIALS, err->kind);
    CHECK_STR_EQ("CredentialProcessError", err->code);
    snprintf(msg, sizeof msg, "%s", err->message ? err->message : "");
    return msg;
}

static void test_process_failures(void)
{
    struct ivs_error err = {0};
    const char *m = process_failure("echo 'STDOUT-SECRET-1'; echo 'first line of trouble' >&2; "
                                    "echo 'second line' >&2; exit 3",
                                    &err);
    CHECK(strstr(m, "status 3"));
    CHECK(strstr(m, "first line of trouble"));
    CHECK(!strstr(m, "second line"));
    CHECK(!strstr(m, "STDOUT-SECRET"));
    CHECK(strstr(m, "'default'"));

    m = process_failure("echo 'not json STDOUT-SECRET-2 {'", &err);
    CHECK(strstr(m, "not a JSON object"));
    CHECK(!strstr(m, "STDOUT-SECRET"));

    m = process_failure("echo '{\"Version\": 2, \"AccessKeyId\": \"AKIDV2\", \"SecretAccessKey\": "
                        "\"STDOUT-SECRET-3\"}'",
                        &err);
    CHECK(strstr(m, "Version"));
    CHECK(!strstr(m, "STDOUT-SECRET") && !strstr(m, "AKIDV2"));

    m = process_failure("echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDNOSECRET\"}'", &err);
    CHECK(strstr(m, "SecretAccessKey is missing"));

    m = process_failure("echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": "
                        "\"STDOUT-SECRET-4\", \"Expiration\": \"tomorrow\"}'",
                        &err);
    CHECK(strstr(m, "Expiration"));
    CHECK(!strstr(m, "STDOUT-SECRET"));

    /* The shell running the command kills itself. */
    struct fixture killed = {.env = {{"AWS_CONFIG_FILE", config_with_process("kill -9 $$"), NULL}}};
    CHECK(key_for(&killed, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "signal 9"));

    struct fixture missing = {
        .env = {{"AWS_CONFIG_FILE", config_with_process("/nonexistent/ivs-helper"), NULL}}};
    CHECK(key_for(&missing, 0, NULL, &err) == NULL);
    CHECK_STR_EQ("CredentialProcessError", err.code);
    CHECK(err.message && strstr(err.message, "status 127"));
    cleanup_files();
    ivs_error_clear(&err);
}

static int64_t now_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_process_is_killed_after_timeout(void)
{
    struct ivs_error err = {0};
    /* A grandchild holding the pipes must not keep us waiting either. */
    struct fixture fx = {
        .env = {{"AWS_CONFIG_FILE", config_with_process(script("sleep 30 & sleep 30")), NULL}}};
    CHECK(fixture_init(&fx, &err) == IVS_OK);
    cred_chain_set_process_timeout(fx.chain, 300);
    const struct credentials *cr = NULL;
    int64_t start = now_monotonic_ms();
    CHECK_INT_EQ(IVS_ERR_CREDENTIALS, cred_chain_get(fx.chain, 0, &cr, &err));
    int64_t took = now_monotonic_ms() - start;
    CHECK_MSG(took < 2000, "took %lld ms", (long long)took);
    CHECK_STR_EQ("CredentialProcessError", err.code);
    CHECK(err.message && strstr(err.message, "killed after"));
    fixture_free(&fx);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_no_credentials_lists_every_provider(void)
{
    struct ivs_error err = {0};
    const char *config = temp_file("[profile other]\nregion = us-east-1\n", 0600);
    struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, NULL}}};
    CHECK(key_for(&fx, 0, NULL, &err) == NULL);
    CHECK_INT_EQ(IVS_ERR_CREDENTIALS, err.kind);
    CHECK_STR_EQ("NoCredentials", err.code);
    const char *m = err.message ? err.message : "";
    static const char *const expected[] = {
        "explicit options:",
        "anonymous:",
        "environment: AWS_ACCESS_KEY_ID not set",
        "shared credentials file: /nonexistent/ivs-credentials not found",
        "config file: ",
        "has no profile 'default'",
        "credential_process: not set in profile 'default'",
        "assume role: profile 'default' sets no role_arn",
        "web identity: neither AWS_WEB_IDENTITY_TOKEN_FILE",
        "SSO: profile 'default' sets no sso_account_id",
        "login: profile 'default' sets no login_session",
        ("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI "
         "not set"),
        "EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        CHECK_MSG(strstr(m, expected[i]), "message lacks \"%s\": %s", expected[i], m);
    CHECK(strstr(m, config));

    struct fixture named = {.env = {{"AWS_CONFIG_FILE", config, NULL}}};
    named.opts.profile = "other";
    CHECK(key_for(&named, 0, NULL, &err) == NULL);
    CHECK(err.message &&
          strstr(err.message, "environment: skipped because the options name profile 'other'"));
    CHECK(err.message && strstr(err.message, "profile 'other' in"));
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_container_url(void)
{
    struct ivs_error err = {0};
    char *url = NULL;
    CHECK_INT_EQ(IVS_OK,
                 cred_container_url("/v2/credentials/abc", "https://ignored.example", &url, &err));
    CHECK_STR_EQ("http://169.254.170.2/v2/credentials/abc", url);
    free(url);
    CHECK_INT_EQ(IVS_OK, cred_container_url("v2/x", NULL, &url, &err));
    CHECK_STR_EQ("http://169.254.170.2/v2/x", url);
    free(url);
    CHECK_INT_EQ(IVS_OK, cred_container_url(NULL, NULL, &url, &err));
    CHECK(url == NULL);
    CHECK_INT_EQ(IVS_OK, cred_container_url("", "", &url, &err));
    CHECK(url == NULL);
    static const char *const allowed[] = {
        "https://creds.example.com/path",
        "https://203.0.113.9:8443/x",
        "http://127.0.0.1:8080/creds",
        "http://127.1.2.3/x",
        "http://localhost:1234/",
        "http://LOCALHOST/x",
        "http://[::1]:99/x",
        "http://169.254.170.2/v1",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/x",
    };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        CHECK_MSG(cred_container_url(NULL, allowed[i], &url, &err) == IVS_OK, "refused %s",
                  allowed[i]);
        CHECK_STR_EQ(allowed[i], url);
        free(url);
        url = NULL;
    }
    static const char *const refused[] = {
        "http://example.com/creds",
        "http://169.254.169.254/latest",
        "http://128.0.0.1/",
        "http://127.0.0.1.evil.example/",
        "http://127.0.0/",
        "http://[::2]/",
        "http://localhost.evil/",
        "ftp://127.0.0.1/",
        "http:///x",
        "http://10.0.0.1:80/",
        "http://127.0.0.256/",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK_MSG(cred_container_url(NULL, refused[i], &url, &err) == IVS_ERR_CREDENTIALS,
                  "allowed %s", refused[i]);
        CHECK(url == NULL);
        CHECK_STR_EQ("ContainerCredentialsError", err.code);
    }
    ivs_error_clear(&err);
}

static const char s_container_body[] =
    "{\"AccessKeyId\": \"AKIDCONTAINER\", \"SecretAccessKey\": \"cs\", \"Token\": \"ct\", "
    "\"Expiration\": \"2030-01-01T00:00:00Z\", \"RoleArn\": \"arn:aws:iam::1:role/r\"}";

static void test_container_full_uri(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    struct ivs_error err = {0};
    char base[64], full[128];
    fakesrv_url(srv, base, sizeof base);
    snprintf(full, sizeof full, "%s/v1/credentials", base);
    const char *token_file = temp_file("token-from-file\n", 0600);

    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = s_container_body});
    struct fixture fx = {
        .env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full, "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                 "token-from-env", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file, NULL}}};
    CHECK(fixture_init(&fx, &err) == IVS_OK);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 60 * MINUTE, &cr, &err));
    if (cr) {
        CHECK_STR_EQ("AKIDCONTAINER", cr->access_key_id);
        CHECK_STR_EQ("ct", cr->session_token);
        CHECK_STR_EQ("container", cr->provider);
        CHECK_INT_EQ(T2030, cr->expires_ms);
    }
    char value[128];
    const struct fakesrv_request *req = fakesrv_request(srv, 0);
    CHECK(req != NULL);
    if (req) {
        CHECK_STR_EQ("GET", req->method);
        CHECK_STR_EQ("/v1/credentials", req->target);
        CHECK_STR_EQ("token-from-file",
                     fakesrv_request_header(req, "Authorization", value, sizeof value));
    }
    /* Refreshed near expiry, with the token file read again (EKS rotates it in place). */
    FILE *rotate = fopen(token_file, "w");
    if (rotate) {
        fputs("token-rotated", rotate);
        fclose(rotate);
    }
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = s_container_body});
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 3 * MINUTE, &cr, &err));
    CHECK_INT_EQ(2, fakesrv_request_count(srv));
    req = fakesrv_request(srv, 1);
    CHECK(req && fakesrv_request_header(req, "Authorization", value, sizeof value) &&
          strcmp(value, "token-rotated") == 0);
    fixture_free(&fx);

    /* Without the file, the variable is sent. */
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = s_container_body});
    struct fixture env_token = {
        .env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full, "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                 "token-from-env", NULL}}};
    CHECK_STR_EQ("AKIDCONTAINER", key_for(&env_token, 0, NULL, &err));
    req = fakesrv_request(srv, 2);
    CHECK(req &&
          strcmp(fakesrv_request_header(req, "Authorization", value, sizeof value) ? value : "",
                 "token-from-env") == 0);

    /* No token at all: no Authorization header. */
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = s_container_body});
    struct fixture no_token = {.env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full, NULL}}};
    CHECK_STR_EQ("AKIDCONTAINER", key_for(&no_token, 0, NULL, &err));
    req = fakesrv_request(srv, 3);
    CHECK(req && fakesrv_request_header(req, "Authorization", value, sizeof value) == NULL);

    /* Errors: an error status, server errors until attempts run out, unusable JSON. */
    fakesrv_push(
        srv, &(struct fakesrv_response){.status = 403, .body = "{\"message\":\"STDOUT-SECRET\"}"});
    struct fixture denied = {.env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full, NULL}}};
    CHECK(key_for(&denied, 0, NULL, &err) == NULL);
    CHECK_STR_EQ("ContainerCredentialsError", err.code);
    CHECK(err.message && strstr(err.message, "403"));
    for (int i = 0; i < 3; i++)
        fakesrv_push(srv, &(struct fakesrv_response){.status = 500});
    size_t before = fakesrv_request_count(srv);
    struct fixture failing = {.env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full, NULL}}};
    CHECK(key_for(&failing, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "500"));
    CHECK_INT_EQ(before + 3, fakesrv_request_count(srv));
    fakesrv_push(srv,
                 &(struct fakesrv_response){.status = 200, .body = "{\"AccessKeyId\": \"A\"}"});
    struct fixture bad_json = {.env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full, NULL}}};
    CHECK(key_for(&bad_json, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "SecretAccessKey is missing"));

    /* A disallowed host is refused before anything is sent. */
    struct fixture refused = {
        .env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", NULL}}};
    before = fakesrv_request_count(srv);
    CHECK(key_for(&refused, 0, NULL, &err) == NULL);
    CHECK_STR_EQ("ContainerCredentialsError", err.code);
    CHECK_INT_EQ(before, fakesrv_request_count(srv));

    /* Environment credentials come before the container. */
    struct fixture env_first = {
        .env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full, "AWS_ACCESS_KEY_ID", "AKIDENV",
                 "AWS_SECRET_ACCESS_KEY", "s", NULL}}};
    CHECK_STR_EQ("AKIDENV", key_for(&env_first, 0, NULL, &err));
    CHECK_INT_EQ(before, fakesrv_request_count(srv));
    fakesrv_stop(srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* A scripted instance metadata service. */
struct imds {
    int token_status; /* status of PUT /latest/api/token (200: gives "imds-token") */
    const char *creds_body;
};

static const char s_imds_creds[] =
    "{\"Code\": \"Success\", \"Type\": \"AWS-HMAC\", \"AccessKeyId\": "
    "\"AKIDIMDS\", \"SecretAccessKey\": \"is\", \"Token\": \"it\", "
    "\"Expiration\": \"2030-01-01T00:00:00Z\"}";

static void imds_handler(void *ud, const struct fakesrv_request *req, struct fakesrv_response *resp)
{
    const struct imds *m = ud;
    char token[64];
    const char *sent = fakesrv_request_header(req, "X-aws-ec2-metadata-token", token, sizeof token);
    if (strcmp(req->method, "PUT") == 0 && strcmp(req->target, "/latest/api/token") == 0) {
        resp->status = m->token_status;
        resp->body = m->token_status == 200 ? "imds-token" : "";
        return;
    }
    /* With a v2 token issued, requests must carry it. */
    if (m->token_status == 200 && (!sent || strcmp(sent, "imds-token") != 0)) {
        resp->status = 401;
        return;
    }
    if (strcmp(req->target, "/latest/meta-data/iam/security-credentials/") == 0) {
        resp->status = 200;
        resp->body = "ivs-role\n";
    } else if (strcmp(req->target, "/latest/meta-data/iam/security-credentials/ivs-role") == 0) {
        resp->status = 200;
        resp->body = m->creds_body;
    } else {
        resp->status = 404;
    }
}

static void test_imds_v2(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    struct imds m = {200, s_imds_creds};
    fakesrv_set_handler(srv, imds_handler, &m);
    struct ivs_error err = {0};
    char base[64], value[64];
    fakesrv_url(srv, base, sizeof base);
    struct fixture fx = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    CHECK(fixture_init(&fx, &err) == IVS_OK);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 60 * MINUTE, &cr, &err));
    if (cr) {
        CHECK_STR_EQ("AKIDIMDS", cr->access_key_id);
        CHECK_STR_EQ("is", cr->secret_access_key);
        CHECK_STR_EQ("it", cr->session_token);
        CHECK_STR_EQ("imds", cr->provider);
        CHECK_INT_EQ(T2030, cr->expires_ms);
    }
    CHECK_INT_EQ(3, fakesrv_request_count(srv));
    const struct fakesrv_request *put = fakesrv_request(srv, 0);
    CHECK(put && strcmp(put->method, "PUT") == 0);
    CHECK_STR_EQ("21600", fakesrv_request_header(put, "X-aws-ec2-metadata-token-ttl-seconds", value,
                                                 sizeof value));
    const struct fakesrv_request *role = fakesrv_request(srv, 2);
    CHECK_STR_EQ("imds-token",
                 fakesrv_request_header(role, "X-aws-ec2-metadata-token", value, sizeof value));
    /* Cached, then refreshed within five minutes of expiry. */
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 10 * MINUTE, &cr, &err));
    CHECK_INT_EQ(3, fakesrv_request_count(srv));
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 - 4 * MINUTE, &cr, &err));
    CHECK_INT_EQ(6, fakesrv_request_count(srv));
    CHECK(cr && strcmp(cr->access_key_id, "AKIDIMDS") == 0);
    fixture_free(&fx);

    /* The endpoint can come from the profile too. */
    char profile_text[256];
    snprintf(profile_text, sizeof profile_text, "[default]\nec2_metadata_service_endpoint = %s/\n",
             base);
    struct fixture from_profile = {.env = {{"AWS_CONFIG_FILE", temp_file(profile_text, 0600),
                                            "AWS_EC2_METADATA_DISABLED", "false", NULL}}};
    CHECK_STR_EQ("AKIDIMDS", key_for(&from_profile, 0, NULL, &err));
    CHECK_INT_EQ(9, fakesrv_request_count(srv));

    /* Disabled: nothing is sent. */
    struct fixture disabled = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base,
                                        "AWS_EC2_METADATA_DISABLED", "TRUE", NULL}}};
    CHECK(key_for(&disabled, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "disabled by AWS_EC2_METADATA_DISABLED"));
    CHECK_INT_EQ(9, fakesrv_request_count(srv));

    /* A failure answer is reported in the provider's line. */
    m.creds_body = "{\"Code\": \"AssumeRoleUnauthorizedAccess\"}";
    struct fixture failing = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    CHECK(key_for(&failing, 0, NULL, &err) == NULL);
    CHECK_STR_EQ("NoCredentials", err.code);
    CHECK(err.message && strstr(err.message, "AssumeRoleUnauthorizedAccess"));
    fakesrv_stop(srv);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_imds_v1_fallback(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    struct ivs_error err = {0};
    char base[64], value[64];
    fakesrv_url(srv, base, sizeof base);
    static const int fallback_statuses[] = {403, 404, 405};
    size_t seen = 0;
    for (size_t i = 0; i < 3; i++) {
        struct imds m = {fallback_statuses[i], s_imds_creds};
        fakesrv_set_handler(srv, imds_handler, &m);
        struct fixture fx = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
        CHECK_STR_EQ("AKIDIMDS", key_for(&fx, 0, NULL, &err));
        CHECK_INT_EQ(seen + 3, fakesrv_request_count(srv));
        CHECK(fakesrv_request_header(fakesrv_request(srv, seen + 1), "X-aws-ec2-metadata-token",
                                     value, sizeof value) == NULL);
        seen += 3;
    }
    /* No fallback on other statuses. */
    struct imds m400 = {400, s_imds_creds};
    fakesrv_set_handler(srv, imds_handler, &m400);
    struct fixture bad = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    CHECK(key_for(&bad, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "HTTP 400"));
    CHECK_INT_EQ(seen + 1, fakesrv_request_count(srv));
    seen++;

    /* v1 disabled, by the environment or the profile. */
    struct imds m403 = {403, s_imds_creds};
    fakesrv_set_handler(srv, imds_handler, &m403);
    struct fixture off = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base,
                                   "AWS_EC2_METADATA_V1_DISABLED", "true", NULL}}};
    CHECK(key_for(&off, 0, NULL, &err) == NULL);
    CHECK_STR_EQ("NoCredentials", err.code);
    CHECK(err.message &&
          strstr(err.message, "IMDSv1 fallback is disabled by AWS_EC2_METADATA_V1_DISABLED"));
    CHECK_INT_EQ(seen + 1, fakesrv_request_count(srv));
    struct fixture off_profile = {
        .env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base, "AWS_CONFIG_FILE",
                 temp_file("[default]\nec2_metadata_v1_disabled = true\n", 0600), NULL}}};
    CHECK(key_for(&off_profile, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "disabled by ec2_metadata_v1_disabled"));
    fakesrv_stop(srv);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_imds_timeout_is_bounded(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    struct ivs_error err = {0};
    char base[64];
    fakesrv_url(srv, base, sizeof base);
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "late", .delay_ms = 5000});
    struct fixture fx = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    int64_t start = now_monotonic_ms();
    CHECK(key_for(&fx, 0, NULL, &err) == NULL);
    int64_t took = now_monotonic_ms() - start;
    CHECK_MSG(took < 2000, "took %lld ms", (long long)took);
    CHECK_STR_EQ("NoCredentials", err.code);
    CHECK(err.message && strstr(err.message, "EC2 instance metadata: no answer from"));

    /* Attempts and timeout come from the environment. */
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "late", .delay_ms = 5000});
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = "late", .delay_ms = 5000});
    struct fixture two = {
        .env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base, "AWS_METADATA_SERVICE_TIMEOUT", "0.2",
                 "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2", NULL}}};
    start = now_monotonic_ms();
    CHECK(key_for(&two, 0, NULL, &err) == NULL);
    took = now_monotonic_ms() - start;
    CHECK_MSG(took < 1500, "took %lld ms", (long long)took);
    CHECK(fakesrv_wait_requests(srv, 3, 2000));
    CHECK(err.message && strstr(err.message, "within 200 ms"));

    struct fixture bad = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base,
                                   "AWS_METADATA_SERVICE_TIMEOUT", "soon", NULL}}};
    CHECK(key_for(&bad, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "AWS_METADATA_SERVICE_TIMEOUT is not a number"));
    struct fixture bad_mode = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5",
                                        "AWS_EC2_METADATA_DISABLED", "false", NULL}}};
    CHECK(key_for(&bad_mode, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "must be IPv4 or IPv6"));

    /* The legacy AWS_IMDS_USE_IPV6 (or imds_use_ipv6) picks the IPv6 address only when no
     * endpoint mode is set, as botocore does. Only the resolved address is checked: a test
     * never contacts a real metadata service (this machine may have one). */
    const char *v6_profile = temp_file("[default]\nimds_use_ipv6 = true\n", 0600);
    struct {
        const char *mode, *use_ipv6, *config, *want;
    } legacy[] = {
        {NULL, NULL, NULL, "http://169.254.169.254"},
        {NULL, "true", NULL, "http://[fd00:ec2::254]"},
        {NULL, "TRUE", NULL, "http://[fd00:ec2::254]"},
        {NULL, NULL, v6_profile, "http://[fd00:ec2::254]"},
        {NULL, "false", v6_profile, "http://169.254.169.254"},
        {"IPv4", "true", NULL, "http://169.254.169.254"},
        {"ipv6", "false", NULL, "http://[fd00:ec2::254]"},
    };
    for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
        struct fixture lf = {
            .env = {{"AWS_CONFIG_FILE", legacy[i].config ? legacy[i].config : "/nonexistent/config",
                     NULL}}};
        if (legacy[i].mode)
            env_add(&lf.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", legacy[i].mode);
        if (legacy[i].use_ipv6)
            env_add(&lf.env, "AWS_IMDS_USE_IPV6", legacy[i].use_ipv6);
        CHECK(fixture_init(&lf, &err) == IVS_OK);
        struct buf why = BUF_INIT;
        char *got = lf.chain ? cred_imds_endpoint(lf.chain, &why) : NULL;
        CHECK_MSG(got && strcmp(got, legacy[i].want) == 0, "case %zu: %s (%s)", i,
                  got ? got : "(none)", buf_str(&why));
        free(got);
        buf_free(&why);
        fixture_free(&lf);
    }
    fakesrv_stop(srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* A profile that names a provider claims the request: with a container and instance metadata
 * both answering, the chain must fail on that provider, never sign as the machine's role. */
static void test_configured_provider_never_falls_through(void)
{
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    struct imds m = {200, s_imds_creds};
    fakesrv_set_handler(srv, imds_handler, &m);
    char base[64], full[128];
    fakesrv_url(srv, base, sizeof base);
    snprintf(full, sizeof full, "%s/container", base);
    struct ivs_error err = {0};
    const char *config = temp_file("[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
                                   "credential_source = Nowhere\n"
                                   "[profile sso]\nsso_session = corp\nsso_account_id = 1\n"
                                   "[profile web]\nrole_arn = arn:aws:iam::123456789012:role/w\n"
                                   "web_identity_token_file = /nonexistent/token\n"
                                   "[profile login]\nlogin_session = arn:aws:iam::1:user/a\n",
                                   0600);
    static const char *const profiles[] = {"role", "sso", "web", "login"};
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "AWS_PROFILE", profiles[i],
                                      "AWS_CONTAINER_CREDENTIALS_FULL_URI", full,
                                      "AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
        CHECK_MSG(key_for(&fx, 0, NULL, &err) == NULL, "profile %s fell through", profiles[i]);
        CHECK(err.kind == IVS_ERR_CREDENTIALS || err.kind == IVS_ERR_CONFIG);
        CHECK_MSG(err.message && strstr(err.message, profiles[i]), "%s: %s", profiles[i],
                  err.message ? err.message : "");
    }
    /* Web identity from the environment claims too. */
    struct fixture web = {
        .env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", "AWS_ROLE_ARN",
                 "arn:aws:iam::123456789012:role/w", "AWS_CONTAINER_CREDENTIALS_FULL_URI", full,
                 "AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    CHECK(key_for(&web, 0, NULL, &err) == NULL);
    CHECK_INT_EQ(IVS_ERR_CREDENTIALS, err.kind);
    CHECK(err.message && strstr(err.message, "AWS_WEB_IDENTITY_TOKEN_FILE"));
    CHECK_INT_EQ(0, fakesrv_request_count(srv));
    fakesrv_stop(srv);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_chain_order(void)
{
    /* Credentials file, then config keys, then process, then container, then IMDS. */
    struct fakesrv *srv = fakesrv_start();
    CHECK(srv != NULL);
    if (!srv)
        return;
    struct imds m = {200, s_imds_creds};
    fakesrv_set_handler(srv, imds_handler, &m);
    struct ivs_error err = {0};
    char base[64], full[128];
    fakesrv_url(srv, base, sizeof base);
    snprintf(full, sizeof full, "%s/container", base);
    const char *provider = NULL;
    const char *proc = script(
        "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"s\"}'");
    char config_text[512];
    snprintf(config_text, sizeof config_text,
             "[default]\ncredential_process = %s\n[profile keys]\naws_access_key_id = AKIDCFG\n"
             "aws_secret_access_key = s\ncredential_process = %s\n",
             proc, proc);
    const char *config = temp_file(config_text, 0600);
    const char *creds =
        temp_file("[keys]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = s\n", 0600);

    struct fixture a = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                 "AWS_PROFILE", "keys", "AWS_CONTAINER_CREDENTIALS_FULL_URI", full,
                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    CHECK_STR_EQ("AKIDCREDS", key_for(&a, 0, &provider, &err));
    struct fixture b = {.env = {{"AWS_CONFIG_FILE", config, "AWS_PROFILE", "keys",
                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", full,
                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    /* credential_process beats static keys of the config file (botocore's order). */
    CHECK_STR_EQ("AKIDPROC", key_for(&b, 0, &provider, &err));
    struct fixture c = {.env = {{"AWS_CONFIG_FILE", config, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                 full, "AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    CHECK_STR_EQ("AKIDPROC", key_for(&c, 0, &provider, &err));
    CHECK_STR_EQ("process", provider);
    CHECK_INT_EQ(0, fakesrv_request_count(srv));
    fakesrv_push(srv, &(struct fakesrv_response){.status = 200, .body = s_container_body});
    struct fixture d = {.env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", full,
                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    CHECK_STR_EQ("AKIDCONTAINER", key_for(&d, 0, &provider, &err));
    CHECK_INT_EQ(1, fakesrv_request_count(srv));
    struct fixture e = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", base, NULL}}};
    CHECK_STR_EQ("AKIDIMDS", key_for(&e, 0, &provider, &err));
    CHECK_STR_EQ("imds", provider);
    fakesrv_stop(srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* Issue 13 item 7: a FIFO as a token file is refused at once, not waited on. */
static void test_secret_file_fifo_does_not_block(void)
{
    char dir[] = "/tmp/ivs-fifo-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/token", dir);
    CHECK(mkfifo(path, 0600) == 0);
    alarm(10); /* a hang kills the binary: run-tests reports it */
    char *text = NULL;
    size_t len = 0;
    CHECK_INT_EQ(-1, cred_read_secret_file(path, 4096, &text, &len));
    CHECK(text == NULL);
    alarm(0);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    RUN(test_parse_time);
    RUN(test_secret_file_fifo_does_not_block);
    RUN(test_explicit_and_anonymous);
    RUN(test_environment);
    RUN(test_shared_files);
    RUN(test_process_success_and_refresh);
    RUN(test_process_refresh_failure_keeps_valid_credentials);
    RUN(test_process_failures);
    RUN(test_process_is_killed_after_timeout);
    RUN(test_configured_provider_never_falls_through);
    RUN(test_no_credentials_lists_every_provider);
    RUN(test_container_url);
    RUN(test_container_full_uri);
    RUN(test_imds_v2);
    RUN(test_imds_v1_fallback);
    RUN(test_imds_timeout_is_bounded);
    RUN(test_chain_order);
    return harness_finish();
}
