/* test_identity.c: the providers that call identity services (assume role, web identity,
 * SSO, login), their precedence and failures, and the endpoints and XML they rely on. The
 * services are played by fakesrv on 127.0.0.1 (one handler answers STS, the SSO portal,
 * SSO-OIDC, signin and IMDS), reached through AWS_ENDPOINT_URL. */
#include <cJSON.h>
#include <ftw.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "credentials.h"
#include "identity_http.h"
#include "sso_login.h"
#include "support/fakesrv.h"
#include "harness.h"
#include "ivs.h"

/* 2030-01-01T00:00:00Z */
#define T2030 1893456000000LL
#define MINUTE 60000LL

/* ---- environment and files ---- */

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

static char s_paths[32][64];
static int s_path_count;

static const char *temp_file(const char *text)
{
    char *path = s_paths[s_path_count++];
    strcpy(path, "/tmp/ivs-ident-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        harness_fail(__FILE__, __LINE__, "mkstemp failed");
        return "/nonexistent";
    }
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        harness_fail(__FILE__, __LINE__, "short write");
    close(fd);
    return path;
}

static void rewrite_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        harness_fail(__FILE__, __LINE__, "cannot rewrite %s", path);
        return;
    }
    fputs(text, fp);
    fclose(fp);
}

static void cleanup_files(void)
{
    for (int i = 0; i < s_path_count; i++)
        unlink(s_paths[i]);
    s_path_count = 0;
}

/* ---- the fake identity services ---- */

struct fake {
    struct fakesrv *srv;
    char url[64];
    int sts_calls;
    const char *sts_error_code; /* answer STS with this error (XML) */
    int sts_error_status;
    const char *sts_raw; /* answer STS with this body as is */
    int sts_raw_status;
    const char *expiration;   /* of issued credentials */
    int portal_status;        /* 0: answer GetRoleCredentials */
    int oidc_status;          /* 0: answer CreateToken */
    const char *oidc_refresh; /* refreshToken in CreateToken's answer, or NULL */
    const char *signin_error; /* answer CreateOAuth2Token with AccessDeniedException */
    int portal_calls, oidc_calls, signin_calls;
    char body[1024];
};

static void fake_handler(void *ud, const struct fakesrv_request *req, struct fakesrv_response *resp)
{
    struct fake *f = ud;
    if (strcmp(req->method, "POST") == 0 && strcmp(req->target, "/") == 0 && req->body &&
        strncmp(req->body, "Action=", 7) == 0) {
        f->sts_calls++;
        if (f->sts_raw) {
            resp->status = f->sts_raw_status;
            resp->body = f->sts_raw;
            return;
        }
        if (f->sts_error_code) {
            resp->status = f->sts_error_status ? f->sts_error_status : 403;
            snprintf(f->body, sizeof f->body,
                     "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>no way"
                     "</Message></Error><RequestId>rid-1</RequestId></ErrorResponse>",
                     f->sts_error_code);
            resp->body = f->body;
            return;
        }
        if (strncmp(req->body, "Action=GetCallerIdentity", 24) == 0) {
            resp->body = "<GetCallerIdentityResponse><GetCallerIdentityResult>"
                         "<Arn>arn:aws:sts::123456789012:assumed-role/app/s</Arn>"
                         "<UserId>AROA:s</UserId><Account>123456789012</Account>"
                         "</GetCallerIdentityResult></GetCallerIdentityResponse>";
            return;
        }
        int web = strncmp(req->body, "Action=AssumeRoleWithWebIdentity", 32) == 0;
        snprintf(f->body, sizeof f->body,
                 "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><%sResult>"
                 "<Credentials><AccessKeyId>ASIA%s%d</AccessKeyId>"
                 "<SecretAccessKey>role-secret-%d</SecretAccessKey>"
                 "<SessionToken>role-token-%d</SessionToken>"
                 "<Expiration>%s</Expiration></Credentials></%sResult></%sResponse>",
                 web ? "AssumeRoleWithWebIdentity" : "AssumeRole",
                 web ? "AssumeRoleWithWebIdentity" : "AssumeRole", web ? "WEB" : "ROLE",
                 f->sts_calls, f->sts_calls, f->sts_calls,
                 f->expiration ? f->expiration : "2030-01-01T01:00:00Z",
                 web ? "AssumeRoleWithWebIdentity" : "AssumeRole",
                 web ? "AssumeRoleWithWebIdentity" : "AssumeRole");
        resp->body = f->body;
        return;
    }
    if (strcmp(req->method, "GET") == 0 &&
        strncmp(req->target, "/federation/credentials", 23) == 0) {
        f->portal_calls++;
        if (f->portal_status) {
            resp->status = f->portal_status;
            resp->headers = "x-amzn-ErrorType: UnauthorizedException\r\n";
            resp->body = "{\"message\": \"Session token not found or invalid\"}";
            return;
        }
        snprintf(f->body, sizeof f->body,
                 "{\"roleCredentials\": {\"accessKeyId\": \"ASIASSO%d\", \"secretAccessKey\": "
                 "\"role-secret-sso\", \"sessionToken\": \"role-token-sso\", \"expiration\": "
                 "%lld}}",
                 f->portal_calls, (long long)(T2030 + 60 * MINUTE));
        resp->body = f->body;
        return;
    }
    if (strcmp(req->method, "POST") == 0 && strcmp(req->target, "/ListChannels") == 0) {
        resp->body = "{\"channels\": []}"; /* IVS itself, for calls through a client */
        return;
    }
    if (strcmp(req->method, "POST") == 0 && strcmp(req->target, "/token") == 0) {
        f->oidc_calls++;
        if (f->oidc_status) {
            resp->status = f->oidc_status;
            resp->body = "{\"error\": \"invalid_grant\"}";
            return;
        }
        snprintf(f->body, sizeof f->body,
                 "{\"accessToken\": \"sso-access-new\", \"expiresIn\": 3600, \"tokenType\": "
                 "\"Bearer\"%s%s%s}",
                 f->oidc_refresh ? ", \"refreshToken\": \"" : "",
                 f->oidc_refresh ? f->oidc_refresh : "", f->oidc_refresh ? "\"" : "");
        resp->body = f->body;
        return;
    }
    if (strcmp(req->method, "POST") == 0 && strcmp(req->target, "/v1/token") == 0) {
        f->signin_calls++;
        if (f->signin_error) {
            resp->status = 400;
            snprintf(f->body, sizeof f->body,
                     "{\"__type\": \"AccessDeniedException\", \"error\": \"%s\", "
                     "\"message\": \"denied\"}",
                     f->signin_error);
            resp->body = f->body;
            return;
        }
        resp->body = "{\"accessToken\": {\"accessKeyId\": \"ASIALOGIN2\", \"secretAccessKey\": "
                     "\"role-secret-login\", \"sessionToken\": \"role-token-login\"}, "
                     "\"tokenType\": \"aws_sigv4\", \"expiresIn\": 900, \"refreshToken\": "
                     "\"login-refresh-2\"}";
        return;
    }
    resp->status = 404;
}

static int fake_start(struct fake *f)
{
    memset(f, 0, sizeof *f);
    f->srv = fakesrv_start();
    if (!f->srv)
        return -1;
    fakesrv_url(f->srv, f->url, sizeof f->url);
    fakesrv_set_handler(f->srv, fake_handler, f);
    return 0;
}

static const struct fakesrv_request *nth(struct fake *f, size_t i)
{
    return fakesrv_request(f->srv, i);
}

/* ---- the chain ---- */

struct fixture {
    struct env env;
    struct ivs_client_options opts;
    struct ivs_config cfg;
    struct cred_chain *chain;
};

static enum ivs_status fixture_init(struct fixture *fx, struct fake *f, struct ivs_error *err)
{
    struct env *e = &fx->env;
    if (!env_get(e, "AWS_CONFIG_FILE"))
        env_add(e, "AWS_CONFIG_FILE", "/nonexistent/ivs-config");
    if (!env_get(e, "AWS_SHARED_CREDENTIALS_FILE"))
        env_add(e, "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ivs-credentials");
    if (!env_get(e, "AWS_EC2_METADATA_SERVICE_ENDPOINT"))
        env_add(e, "AWS_EC2_METADATA_DISABLED", "true");
    if (!env_get(e, "AWS_REGION"))
        env_add(e, "AWS_REGION", "us-east-1");
    if (f && !env_get(e, "AWS_ENDPOINT_URL"))
        env_add(e, "AWS_ENDPOINT_URL", f->url);
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

/* Resolves once: the key id (static copy) or NULL with err set. */
static const char *key_for(struct fixture *fx, struct fake *f, const char **provider,
                           struct ivs_error *err)
{
    static char key[128];
    const struct credentials *cr = NULL;
    ivs_error_clear(err);
    if (fixture_init(fx, f, err) != IVS_OK)
        return NULL;
    enum ivs_status st = cred_chain_get(fx->chain, T2030, &cr, err);
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

static const char *header(const struct fakesrv_request *r, const char *name)
{
    static char buf[1024];
    return fakesrv_request_header(r, name, buf, sizeof buf);
}

/* No secret of the fake services may show up in a message. */
static void check_no_secret(const char *text)
{
    static const char *const secrets[] = {"role-secret", "role-token", "base-secret", "web-token-",
                                          "123456-mfa",  "sso-access", "sso-refresh", "csecret"};
    for (size_t i = 0; text && i < sizeof secrets / sizeof *secrets; i++)
        CHECK_MSG(!strstr(text, secrets[i]), "secret %s in: %s", secrets[i], text);
}

/* ------------------------------------------------------------------------------------------
 * XML and endpoints
 * ---------------------------------------------------------------------------------------- */

static void test_xml_leaves(void)
{
    struct xml_doc d;
    const char *xml = "<?xml version=\"1.0\"?><A xmlns=\"x\"><B><C>one</C><D>t&amp;wo</D></B>"
                      "<E/><F>  </F></A>";
    CHECK_INT_EQ(0, xml_doc_parse(&d, xml, strlen(xml)));
    CHECK_STR_EQ("one", xml_doc_get(&d, "B/C"));
    CHECK_STR_EQ("t&wo", xml_doc_get(&d, "D"));
    CHECK_STR_EQ("one", xml_doc_get(&d, "A/B/C"));
    CHECK_STR_EQ("", xml_doc_get(&d, "E"));
    CHECK(xml_doc_get(&d, "B") == NULL); /* not a leaf */
    CHECK(xml_doc_get(&d, "C/X") == NULL);
    xml_doc_free(&d);
    static const char *const bad[] = {"", "not xml", "<A><B></A>", "{\"json\": 1}", "<A>"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(xml_doc_parse(&d, bad[i], strlen(bad[i])) == -1, "accepted %s", bad[i]);
}

static char *endpoint_for(struct env *e, enum ident_service svc, const char *region, char **signing,
                          struct ivs_error *err)
{
    struct ivs_client_options opts = {0};
    if (!env_get(e, "AWS_CONFIG_FILE"))
        env_add(e, "AWS_CONFIG_FILE", "/nonexistent/c");
    env_add(e, "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/k");
    if (!env_get(e, "AWS_REGION"))
        env_add(e, "AWS_REGION", region);
    opts.getenv = env_get;
    opts.getenv_ud = e;
    struct ivs_config cfg;
    *signing = NULL;
    if (config_resolve(&opts, &cfg, err) != IVS_OK)
        return NULL;
    char *url = NULL;
    const char *source;
    if (ident_endpoint(&cfg, svc, region, &url, signing, &source, err) != IVS_OK)
        url = NULL;
    config_cleanup(&cfg);
    return url;
}

static void test_endpoints(void)
{
    struct ivs_error err = {0};
    static const struct {
        const char *region, *mode, *fips;
        enum ident_service svc;
        const char *url, *signing;
    } cases[] = {
        {"us-west-2", NULL, NULL, IDENT_STS, "https://sts.us-west-2.amazonaws.com", "us-west-2"},
        {"eu-west-1", "legacy", NULL, IDENT_STS, "https://sts.amazonaws.com", "us-east-1"},
        {"eu-west-1", "regional", NULL, IDENT_STS, "https://sts.eu-west-1.amazonaws.com",
         "eu-west-1"},
        {"af-south-1", "legacy", NULL, IDENT_STS, "https://sts.af-south-1.amazonaws.com",
         "af-south-1"},
        {"eu-west-1", "legacy", "true", IDENT_STS, "https://sts-fips.eu-west-1.amazonaws.com",
         "eu-west-1"},
        {"cn-north-1", NULL, NULL, IDENT_STS, "https://sts.cn-north-1.amazonaws.com.cn",
         "cn-north-1"},
        {"us-iso-east-1", NULL, NULL, IDENT_STS, "https://sts.us-iso-east-1.c2s.ic.gov",
         "us-iso-east-1"},
        {"us-east-1", NULL, NULL, IDENT_SSO, "https://portal.sso.us-east-1.amazonaws.com",
         "us-east-1"},
        {"cn-north-1", NULL, NULL, IDENT_SSO_OIDC, "https://oidc.cn-north-1.amazonaws.com.cn",
         "cn-north-1"},
        {"us-east-1", NULL, NULL, IDENT_SIGNIN, "https://us-east-1.signin.aws.amazon.com",
         "us-east-1"},
        {"cn-north-1", NULL, NULL, IDENT_SIGNIN, "https://cn-north-1.signin.amazonaws.cn",
         "cn-north-1"},
        {"us-gov-west-1", NULL, NULL, IDENT_SIGNIN,
         "https://us-gov-west-1.signin.amazonaws-us-gov.com", "us-gov-west-1"},
        {"us-iso-east-1", NULL, NULL, IDENT_SIGNIN, "https://signin.us-iso-east-1.c2s.ic.gov",
         "us-iso-east-1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct env e = {{NULL}};
        if (cases[i].mode)
            env_add(&e, "AWS_STS_REGIONAL_ENDPOINTS", cases[i].mode);
        if (cases[i].fips)
            env_add(&e, "AWS_USE_FIPS_ENDPOINT", cases[i].fips);
        char *signing = NULL;
        char *url = endpoint_for(&e, cases[i].svc, cases[i].region, &signing, &err);
        CHECK_STR_EQ(cases[i].url, url);
        CHECK_STR_EQ(cases[i].signing, signing);
        free(url);
        free(signing);
    }
    /* An invalid regional-endpoints value is an error (exact, case-sensitive values). */
    struct env bogus = {{"AWS_STS_REGIONAL_ENDPOINTS", "Legacy", NULL}};
    char *signing = NULL;
    CHECK(endpoint_for(&bogus, IDENT_STS, "us-east-1", &signing, &err) == NULL);
    CHECK_STR_EQ("InvalidConfig", err.code);
    CHECK(err.message && strstr(err.message, "legacy"));
    /* Configured endpoints: service variable, then the global one, then [services]. */
    const char *config = temp_file("[default]\nservices = local\n"
                                   "[services local]\nsts =\n  endpoint_url = http://svc:1\n"
                                   "sso =\n  endpoint_url = http://svc:2\n");
    struct env a = {{"AWS_ENDPOINT_URL_STS", "http://sts:9/", "AWS_ENDPOINT_URL", "http://all:9",
                     "AWS_CONFIG_FILE", config, NULL}};
    char *url = endpoint_for(&a, IDENT_STS, "eu-west-1", &signing, &err);
    CHECK_STR_EQ("http://sts:9", url);
    CHECK_STR_EQ("eu-west-1", signing);
    free(url);
    free(signing);
    struct env b = {{"AWS_ENDPOINT_URL", "http://all:9", "AWS_CONFIG_FILE", config, NULL}};
    url = endpoint_for(&b, IDENT_SSO_OIDC, "eu-west-1", &signing, &err);
    CHECK_STR_EQ("http://all:9", url);
    free(url);
    free(signing);
    struct env c = {{"AWS_CONFIG_FILE", config, NULL}};
    url = endpoint_for(&c, IDENT_SSO, "eu-west-1", &signing, &err);
    CHECK_STR_EQ("http://svc:2", url);
    free(url);
    free(signing);
    struct env d = {{"AWS_CONFIG_FILE", config, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true",
                     "AWS_ENDPOINT_URL_STS", "http://sts:9", NULL}};
    url = endpoint_for(&d, IDENT_STS, "eu-west-1", &signing, &err);
    CHECK_STR_EQ("https://sts.eu-west-1.amazonaws.com", url);
    free(url);
    free(signing);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_form_encoding(void)
{
    struct buf b = BUF_INIT;
    ident_form_encode(&b, "arn:aws:iam::1:role/a b~-_.+");
    CHECK_STR_EQ("arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa+b~-_.%2B", buf_str(&b));
    buf_free(&b);
}

/* ------------------------------------------------------------------------------------------
 * botocore as an oracle: which provider it picks (or which error it raises) for the same
 * files and environment. Loading needs no network for these providers (assume role, web
 * identity and SSO are deferred). NULL when python3 or botocore is not installed.
 * ---------------------------------------------------------------------------------------- */

static const char s_oracle_py[] =
    "import json, os, sys\n"
    "try:\n"
    "    import botocore.session\n"
    "except Exception:\n"
    "    print('unavailable'); raise SystemExit\n"
    "base = dict(os.environ)\n"
    "for sc in json.load(open(sys.argv[1])):\n"
    "    os.environ.clear(); os.environ.update(base); os.environ.update(sc['env'])\n"
    "    try:\n"
    "        c = botocore.session.Session(profile=sc.get('profile')).get_credentials()\n"
    "        print(c.method if c else 'none')\n"
    "    except Exception as e:\n"
    "        print('error ' + type(e).__name__)\n"
    "    sys.stdout.flush()\n";

/* Scenarios waiting for one botocore run (one interpreter start per test, not per case). */
static cJSON *s_oracle_cases;
static const char *s_oracle_expect[64];
static int s_oracle_available = -1;

static const char *botocore_method_name(const char *method);

/* Records that botocore, given env (and the explicit profile, or NULL), should answer
 * `expected`: our provider name, or "error <botocore exception>". */
static void oracle_expect(const struct env *e, const char *profile, const char *expected)
{
    if (s_oracle_available == 0)
        return;
    if (!s_oracle_cases)
        s_oracle_cases = cJSON_CreateArray();
    int n = cJSON_GetArraySize(s_oracle_cases);
    if (n >= 64)
        return;
    cJSON *sc = cJSON_CreateObject(), *vars = cJSON_AddObjectToObject(sc, "env");
    cJSON_AddStringToObject(vars, "HOME", "/nonexistent/oracle-home");
    cJSON_AddStringToObject(vars, "AWS_EC2_METADATA_DISABLED", "true");
    for (size_t i = 0; e->vars[i]; i += 2) {
        cJSON_DeleteItemFromObject(vars, e->vars[i]);
        cJSON_AddStringToObject(vars, e->vars[i], e->vars[i + 1]);
    }
    if (profile)
        cJSON_AddStringToObject(sc, "profile", profile);
    cJSON_AddItemToArray(s_oracle_cases, sc);
    s_oracle_expect[n] = expected;
}

/* Runs botocore over the recorded scenarios (their files must still exist) and checks each
 * answer; skips quietly when python3 or botocore is missing. */
static void oracle_flush(void)
{
    cJSON *cases = s_oracle_cases;
    s_oracle_cases = NULL;
    if (!cases)
        return;
    char script[] = "/tmp/ivs-oracle-XXXXXX", input[] = "/tmp/ivs-oracle-in-XXXXXX";
    int fd = mkstemp(script), fd2 = mkstemp(input);
    char *json = cJSON_PrintUnformatted(cases);
    int ok = fd >= 0 && fd2 >= 0 && json &&
             write(fd, s_oracle_py, sizeof s_oracle_py - 1) == (ssize_t)(sizeof s_oracle_py - 1) &&
             write(fd2, json, strlen(json)) == (ssize_t)strlen(json);
    if (fd >= 0)
        close(fd);
    if (fd2 >= 0)
        close(fd2);
    /* The interpreter that has botocore may be a shim (pyenv) needing the caller's
     * environment: find the real executable first, then run it in a clean environment. */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && "
             "env -i PATH=/usr/local/bin:/usr/bin:/bin timeout 120 \"$PY\" %s %s 2>/dev/null",
             script, input);
    FILE *p = ok ? popen(cmd, "r") : NULL;
    char line[256];
    int n = cJSON_GetArraySize(cases);
    for (int i = 0; p && i < n; i++) {
        if (!fgets(line, sizeof line, p))
            break;
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "unavailable") == 0) {
            s_oracle_available = 0;
            break;
        }
        s_oracle_available = 1;
        const char *ours = strncmp(line, "error ", 6) == 0 ? line : botocore_method_name(line);
        CHECK_MSG(strcmp(ours, s_oracle_expect[i]) == 0, "scenario %d: botocore says %s, we %s", i,
                  line, s_oracle_expect[i]);
    }
    if (p)
        pclose(p);
    free(json);
    unlink(script);
    unlink(input);
    cJSON_Delete(cases);
}

/* Our provider name for botocore's METHOD. */
static const char *botocore_method_name(const char *method)
{
    static const char *const map[][2] = {
        {"env", "environment"},
        {"custom-process", "process"},
        {"assume-role", "assume-role"},
        {"assume-role-with-web-identity", "assume-role-with-web-identity"},
        {"sso", "sso"},
        {"shared-credentials-file", "shared-credentials-file"},
        {"config-file", "config-file"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(method, map[i][0]) == 0)
            return map[i][1];
    return method;
}

/* ------------------------------------------------------------------------------------------
 * Assume role
 * ---------------------------------------------------------------------------------------- */

static const char s_base_creds[] = "[base]\naws_access_key_id = AKIDBASE\n"
                                   "aws_secret_access_key = base-secret\n";

static void test_assume_role_from_source_profile(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *config = temp_file("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\n"
                                   "source_profile = base\nregion = eu-west-1\n");
    const char *creds = temp_file(s_base_creds);
    struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                  "AWS_PROFILE", "app", "AWS_REGION", "us-west-2", NULL}}};
    CHECK(fixture_init(&fx, &f, &err) == IVS_OK);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030, &cr, &err));
    CHECK(cr != NULL);
    if (cr) {
        CHECK_STR_EQ("ASIAROLE1", cr->access_key_id);
        CHECK_STR_EQ("role-secret-1", cr->secret_access_key);
        CHECK_STR_EQ("role-token-1", cr->session_token);
        CHECK_STR_EQ("assume-role", cr->provider);
        CHECK_INT_EQ(T2030 + 60 * MINUTE, cr->expires_ms);
        CHECK(cr->detail && strstr(cr->detail, "profile 'app'") &&
              strstr(cr->detail, "source_profile base"));
        check_no_secret(cr->detail);
    }
    const struct fakesrv_request *r = nth(&f, 0);
    CHECK(r != NULL);
    if (r) {
        CHECK_STR_EQ("POST", r->method);
        CHECK(strncmp(r->body,
                      "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
                      "123456789012%3Arole%2Fapp&RoleSessionName=libivs-session-1893456000",
                      strlen("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
                             "123456789012%3Arole%2Fapp&RoleSessionName=libivs-session-"
                             "1893456000")) == 0);
        CHECK_STR_EQ("application/x-www-form-urlencoded; charset=utf-8", header(r, "Content-Type"));
        /* Signed with the source's key for the client's region, not the profile's. */
        const char *auth = header(r, "Authorization");
        CHECK(auth && strstr(auth, "Credential=AKIDBASE/") &&
              strstr(auth, "/us-west-2/sts/aws4_request"));
        CHECK(header(r, "X-Amz-Security-Token") == NULL);
    }
    /* Cached: no second call while valid; refreshed inside the margin. */
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 + 30 * MINUTE, &cr, &err));
    CHECK_INT_EQ(1, f.sts_calls);
    f.expiration = "2030-01-01T02:00:00Z";
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 + 57 * MINUTE, &cr, &err));
    CHECK_INT_EQ(2, f.sts_calls);
    CHECK(cr && strcmp(cr->access_key_id, "ASIAROLE2") == 0);
    /* The session name stays the same on refresh. */
    r = nth(&f, 1);
    CHECK(r && strstr(r->body, "RoleSessionName=libivs-session-1893456000"));
    /* A failed refresh keeps valid credentials and waits before asking again. */
    f.sts_error_code = "Throttling";
    f.sts_error_status = 400;
    int before = f.sts_calls;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 + 117 * MINUTE, &cr, &err));
    CHECK(cr && strcmp(cr->access_key_id, "ASIAROLE2") == 0);
    int after_failure = f.sts_calls;
    CHECK(after_failure > before);
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 + 117 * MINUTE + 1000, &cr, &err));
    CHECK_INT_EQ(after_failure, f.sts_calls);
    /* Once expired, the failure is the error. */
    CHECK(cred_chain_get(fx.chain, T2030 + 121 * MINUTE, &cr, &err) != IVS_OK);
    CHECK_STR_EQ("Throttling", err.code);
    fixture_free(&fx);
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_assume_role_chains(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *provider = NULL;
    const char *config =
        temp_file("[profile top]\nrole_arn = arn:aws:iam::1:role/top\nsource_profile = mid\n"
                  "[profile mid]\nrole_arn = arn:aws:iam::1:role/mid\nsource_profile = base\n"
                  "[profile midkeys]\nrole_arn = arn:aws:iam::1:role/midkeys\n"
                  "source_profile = base\naws_access_key_id = AKIDMID\n"
                  "aws_secret_access_key = mid-secret\n"
                  "[profile top2]\nrole_arn = arn:aws:iam::1:role/top2\n"
                  "source_profile = midkeys\n"
                  "[profile self]\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = self\n"
                  "[profile selfnokeys]\nrole_arn = arn:aws:iam::1:role/s\n"
                  "source_profile = selfnokeys\n"
                  "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
                  "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
                  "[profile x]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = y\n"
                  "[profile y]\nrole_arn = arn:aws:iam::1:role/y\nsource_profile = z\n"
                  "[profile z]\nrole_arn = arn:aws:iam::1:role/z\nsource_profile = y\n"
                  "[profile empty]\nregion = us-east-1\n"
                  "[profile fromempty]\nrole_arn = arn:aws:iam::1:role/e\n"
                  "source_profile = empty\n");
    const char *creds = temp_file("[base]\naws_access_key_id = AKIDBASE\n"
                                  "aws_secret_access_key = base-secret\n"
                                  "[self]\naws_access_key_id = AKIDSELF\n"
                                  "aws_secret_access_key = self-secret\n");

    /* top → mid → base: two calls, the second signed with the first's temporary key. */
    struct fixture top = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                   "AWS_PROFILE", "top", NULL}}};
    CHECK_STR_EQ("ASIAROLE2", key_for(&top, &f, &provider, &err));
    CHECK_INT_EQ(2, f.sts_calls);
    const struct fakesrv_request *r0 = nth(&f, 0), *r1 = nth(&f, 1);
    CHECK(r0 && strstr(r0->body, "role%2Fmid&") &&
          strstr(header(r0, "Authorization"), "Credential=AKIDBASE/"));
    CHECK(r1 && strstr(r1->body, "role%2Ftop&") &&
          strstr(header(r1, "Authorization"), "Credential=ASIAROLE1/"));
    CHECK(r1 && header(r1, "X-Amz-Security-Token") &&
          strcmp(header(r1, "X-Amz-Security-Token"), "role-token-1") == 0);

    /* A middle profile with static keys is used as plain keys. */
    f.sts_calls = 0;
    size_t n0 = fakesrv_request_count(f.srv);
    struct fixture top2 = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                    "AWS_PROFILE", "top2", NULL}}};
    CHECK_STR_EQ("ASIAROLE1", key_for(&top2, &f, &provider, &err));
    CHECK_INT_EQ(1, f.sts_calls);
    const struct fakesrv_request *r = nth(&f, n0);
    CHECK(r && strstr(header(r, "Authorization"), "Credential=AKIDMID/"));

    /* A profile may be its own source when it holds keys... */
    f.sts_calls = 0;
    n0 = fakesrv_request_count(f.srv);
    struct fixture self = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                    "AWS_PROFILE", "self", NULL}}};
    CHECK_STR_EQ("ASIAROLE1", key_for(&self, &f, &provider, &err));
    r = nth(&f, n0);
    CHECK(r && strstr(header(r, "Authorization"), "Credential=AKIDSELF/"));
    /* ...and loops are errors that list the visited profiles. */
    static const struct {
        const char *profile, *again, *visited;
    } loops[] = {
        {"selfnokeys", "'selfnokeys'", "'selfnokeys'"},
        {"a", "source_profile 'a'", "'a', 'b'"},
        {"x", "source_profile 'y'", "'x', 'y', 'z'"},
    };
    for (size_t i = 0; i < sizeof loops / sizeof *loops; i++) {
        struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE",
                                      creds, "AWS_PROFILE", loops[i].profile, NULL}}};
        CHECK(key_for(&fx, &f, NULL, &err) == NULL);
        CHECK_STR_EQ("InfiniteLoopConfig", err.code);
        oracle_expect(&fx.env, NULL, "error InfiniteLoopConfigError");
        CHECK_MSG(err.message && strstr(err.message, loops[i].again) &&
                      strstr(err.message, loops[i].visited),
                  "%s", err.message ? err.message : "");
    }
    struct fixture fe = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                  "AWS_PROFILE", "fromempty", NULL}}};
    CHECK(key_for(&fe, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("InvalidConfig", err.code);
    CHECK(err.message && strstr(err.message, "source profile 'empty' must have credentials"));
    oracle_flush();
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_assume_role_validation(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *config =
        temp_file("[profile both]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
                  "credential_source = Environment\n"
                  "[profile neither]\nrole_arn = arn:aws:iam::1:role/r\n"
                  "[profile lower]\nrole_arn = arn:aws:iam::1:role/r\n"
                  "credential_source = environment\n"
                  "[profile missing]\nrole_arn = arn:aws:iam::1:role/r\n"
                  "source_profile = nothere\n"
                  "[profile short]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
                  "duration_seconds = 600\n"
                  "[profile params]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
                  "duration_seconds = 1800\nexternal_id = ext-123\nrole_session_name = my sess\n"
                  "[profile sloppy]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
                  "duration_seconds = 30m\n");
    const char *creds = temp_file(s_base_creds);
    static const struct {
        const char *profile, *code, *text, *botocore;
    } bad[] = {
        {"both", "InvalidConfig", "both source_profile and credential_source",
         "error InvalidConfigError"},
        {"neither", "PartialCredentials", "neither source_profile nor credential_source",
         "error PartialCredentialsError"},
        {"lower", "InvalidConfig", "credential_source \"environment\"", "error InvalidConfigError"},
        {"missing", "InvalidConfig", "source_profile 'nothere'", "error InvalidConfigError"},
        {"short", "InvalidConfig", "at least 900", NULL}, /* botocore: at the first call */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE",
                                      creds, "AWS_PROFILE", bad[i].profile, NULL}}};
        CHECK(key_for(&fx, &f, NULL, &err) == NULL);
        CHECK_STR_EQ(bad[i].code, err.code);
        CHECK_MSG(err.message && strstr(err.message, bad[i].text) &&
                      strstr(err.message, bad[i].profile),
                  "%s", err.message ? err.message : "");
        if (bad[i].botocore)
            oracle_expect(&fx.env, NULL, bad[i].botocore);
    }
    oracle_flush();
    CHECK_INT_EQ(0, f.sts_calls);
    struct fixture params = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE",
                                      creds, "AWS_PROFILE", "params", NULL}}};
    CHECK_STR_EQ("ASIAROLE1", key_for(&params, &f, NULL, &err));
    const struct fakesrv_request *r = nth(&f, 0);
    CHECK(r && strstr(r->body, "&RoleSessionName=my+sess&ExternalId=ext-123&DurationSeconds=1800"));
    struct fixture sloppy = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE",
                                      creds, "AWS_PROFILE", "sloppy", NULL}}};
    CHECK_STR_EQ("ASIAROLE2", key_for(&sloppy, &f, NULL, &err));
    r = nth(&f, 1);
    CHECK(r && !strstr(r->body, "DurationSeconds"));
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

static int s_mfa_calls;
static int mfa_ok(void *ud, const char *serial, char *code, size_t size)
{
    s_mfa_calls++;
    CHECK_STR_EQ("arn:aws:iam::1:mfa/user", serial);
    snprintf(code, size, "%s", (const char *)ud);
    return 0;
}
static int mfa_refuse(void *ud, const char *serial, char *code, size_t size)
{
    (void)ud, (void)serial, (void)code, (void)size;
    return 1;
}

static void test_assume_role_mfa(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *config = temp_file("[profile mfa]\nrole_arn = arn:aws:iam::1:role/r\n"
                                   "source_profile = base\nmfa_serial = arn:aws:iam::1:mfa/user\n");
    const char *creds = temp_file(s_base_creds);
    struct fixture none = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                    "AWS_PROFILE", "mfa", NULL}}};
    CHECK(key_for(&none, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("MfaTokenRequired", err.code);
    CHECK(err.message && strstr(err.message, "mfa_token") && strstr(err.message, "'mfa'"));
    CHECK_INT_EQ(0, f.sts_calls);

    struct fixture ok = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                  "AWS_PROFILE", "mfa", NULL}}};
    ok.opts.mfa_token = mfa_ok;
    ok.opts.mfa_token_ud = (void *)"123456-mfa";
    s_mfa_calls = 0;
    CHECK_STR_EQ("ASIAROLE1", key_for(&ok, &f, NULL, &err));
    CHECK_INT_EQ(1, s_mfa_calls);
    const struct fakesrv_request *r = nth(&f, 0);
    CHECK(r && strstr(r->body, "&SerialNumber=arn%3Aaws%3Aiam%3A%3A1%3Amfa%2Fuser"
                               "&TokenCode=123456-mfa"));

    struct fixture refused = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE",
                                       creds, "AWS_PROFILE", "mfa", NULL}}};
    refused.opts.mfa_token = mfa_refuse;
    CHECK(key_for(&refused, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("MfaTokenRequired", err.code);
    CHECK_INT_EQ(1, f.sts_calls);
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_assume_role_credential_source(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *config = temp_file("[profile env]\nrole_arn = arn:aws:iam::1:role/r\n"
                                   "credential_source = Environment\n"
                                   "[profile ecs]\nrole_arn = arn:aws:iam::1:role/r\n"
                                   "credential_source = EcsContainer\n");
    /* Environment is read even when the options name the profile. */
    struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "AWS_ACCESS_KEY_ID", "AKIDENV",
                                  "AWS_SECRET_ACCESS_KEY", "env-secret", NULL}}};
    fx.opts.profile = "env";
    CHECK_STR_EQ("ASIAROLE1", key_for(&fx, &f, NULL, &err));
    const struct fakesrv_request *r = nth(&f, 0);
    CHECK(r && strstr(header(r, "Authorization"), "Credential=AKIDENV/"));
    oracle_expect(&fx.env, "env", "assume-role");
    /* With AWS_PROFILE the environment's keys win outright (provider 1 before 2). */
    struct fixture via_env = {
        .env = {{"AWS_CONFIG_FILE", config, "AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY",
                 "env-secret", "AWS_PROFILE", "env", NULL}}};
    const char *provider = NULL;
    CHECK_STR_EQ("AKIDENV", key_for(&via_env, &f, &provider, &err));
    CHECK_STR_EQ("environment", provider);
    oracle_expect(&via_env.env, NULL, "environment");
    oracle_flush();
    /* A source that gives nothing is an error naming it. */
    struct fixture empty = {.env = {{"AWS_CONFIG_FILE", config, NULL}}};
    empty.opts.profile = "env";
    CHECK(key_for(&empty, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("CredentialRetrievalError", err.code);
    CHECK(err.message && strstr(err.message, "credential_source Environment of profile 'env'"));
    struct fixture ecs = {.env = {{"AWS_CONFIG_FILE", config, NULL}}};
    ecs.opts.profile = "ecs";
    CHECK(key_for(&ecs, &f, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "EcsContainer"));
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

static void test_sts_errors(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *config = temp_file("[profile app]\nrole_arn = arn:aws:iam::1:role/r\n"
                                   "source_profile = base\n");
    const char *creds = temp_file(s_base_creds);
    struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                  "AWS_PROFILE", "app", NULL}}};
    f.sts_error_code = "AccessDenied";
    CHECK(key_for(&fx, &f, NULL, &err) == NULL);
    CHECK_INT_EQ(IVS_ERR_CREDENTIALS, err.kind);
    CHECK_STR_EQ("AccessDenied", err.code);
    CHECK_INT_EQ(403, err.status);
    CHECK_STR_EQ("rid-1", err.request_id);
    CHECK(err.message && strstr(err.message, "AssumeRole") && strstr(err.message, "no way") &&
          strstr(err.message, "profile 'app'"));
    check_no_secret(err.message);
    CHECK_INT_EQ(1, f.sts_calls); /* not retried */
    /* An error body that is not XML. */
    f.sts_error_code = NULL;
    f.sts_raw = "<html>gateway down";
    f.sts_raw_status = 502;
    f.sts_calls = 0;
    struct fixture fx2 = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                   "AWS_PROFILE", "app", "AWS_MAX_ATTEMPTS", "2", NULL}}};
    CHECK(key_for(&fx2, &f, NULL, &err) == NULL);
    CHECK_INT_EQ(502, err.status);
    CHECK(err.message && strstr(err.message, "not an XML error document"));
    CHECK_INT_EQ(2, f.sts_calls); /* 5xx is retried up to the attempts */
    /* A 200 whose body is not XML, or lacks a field. */
    f.sts_raw = "{\"json\": true}";
    f.sts_raw_status = 200;
    struct fixture fx3 = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                   "AWS_PROFILE", "app", NULL}}};
    CHECK(key_for(&fx3, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("InvalidResponse", err.code);
    f.sts_raw = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAX"
                "</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>";
    struct fixture fx4 = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                   "AWS_PROFILE", "app", NULL}}};
    CHECK(key_for(&fx4, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("InvalidResponse", err.code);
    CHECK(err.message && strstr(err.message, "SecretAccessKey"));
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* ------------------------------------------------------------------------------------------
 * Web identity
 * ---------------------------------------------------------------------------------------- */

static void test_web_identity(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *provider = NULL;
    const char *token = temp_file("web-token-1\n");
    char config_text[512];
    snprintf(config_text, sizeof config_text,
             "[profile web]\nrole_arn = arn:aws:iam::1:role/web\nweb_identity_token_file = %s\n"
             "role_session_name = websess\nsource_profile = base\n"
             "[profile norole]\nweb_identity_token_file = %s\n",
             token, token);
    const char *config = temp_file(config_text);
    const char *creds = temp_file("[web]\naws_access_key_id = AKIDWEBSTATIC\n"
                                  "aws_secret_access_key = s\n");
    /* From the environment; unsigned; the whole file, newline included. */
    struct fixture fx = {
        .env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", token, "AWS_ROLE_ARN", "arn:aws:iam::1:role/envweb",
                 "AWS_ROLE_SESSION_NAME", "envsess", NULL}}};
    CHECK(fixture_init(&fx, &f, &err) == IVS_OK);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030, &cr, &err));
    CHECK(cr && strcmp(cr->access_key_id, "ASIAWEB1") == 0);
    CHECK(cr && strcmp(cr->provider, "assume-role-with-web-identity") == 0);
    const struct fakesrv_request *r = nth(&f, 0);
    CHECK(r && strcmp(r->body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn="
                               "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fenvweb&RoleSessionName=envsess"
                               "&WebIdentityToken=web-token-1%0A") == 0);
    CHECK(r && header(r, "Authorization") == NULL && header(r, "X-Amz-Date") == NULL);
    /* The token file is read again at refresh. */
    rewrite_file(token, "web-token-2");
    CHECK_INT_EQ(IVS_OK, cred_chain_get(fx.chain, T2030 + 57 * MINUTE, &cr, &err));
    r = nth(&f, 1);
    CHECK(r && strstr(r->body, "&WebIdentityToken=web-token-2") != NULL);
    if (cr)
        check_no_secret(cr->detail);
    fixture_free(&fx);

    /* From the profile: web identity beats static keys in the credentials file and ignores
     * source_profile. */
    struct fixture prof = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                    "AWS_PROFILE", "web", NULL}}};
    size_t n0 = fakesrv_request_count(f.srv);
    CHECK_STR_EQ("ASIAWEB3", key_for(&prof, &f, &provider, &err));
    r = nth(&f, n0);
    CHECK(r && strstr(r->body, "role%2Fweb&RoleSessionName=websess&"));
    oracle_expect(&prof.env, NULL, "assume-role-with-web-identity");
    /* An explicit profile ignores the environment's web identity variables. */
    struct fixture expl = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds,
                                    "AWS_ROLE_ARN", "arn:aws:iam::1:role/envweb", NULL}}};
    expl.opts.profile = "web";
    n0 = fakesrv_request_count(f.srv);
    CHECK(key_for(&expl, &f, &provider, &err) != NULL);
    r = nth(&f, n0);
    CHECK(r && strstr(r->body, "role%2Fweb&"));
    oracle_expect(&expl.env, "web", "assume-role-with-web-identity");
    oracle_flush();

    /* Errors: no role ARN, unreadable file, an expired token. */
    struct fixture norole = {.env = {{"AWS_CONFIG_FILE", config, "AWS_PROFILE", "norole", NULL}}};
    CHECK(key_for(&norole, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("InvalidConfig", err.code);
    CHECK(err.message && strstr(err.message, "AWS_ROLE_ARN"));
    struct fixture nofile = {.env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/tok",
                                      "AWS_ROLE_ARN", "arn:aws:iam::1:role/w", NULL}}};
    CHECK(key_for(&nofile, &f, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "/nonexistent/tok"));
    f.sts_error_code = "ExpiredTokenException";
    f.sts_error_status = 400;
    struct fixture expired = {.env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", token, "AWS_ROLE_ARN",
                                       "arn:aws:iam::1:role/w", NULL}}};
    CHECK(key_for(&expired, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("ExpiredTokenException", err.code);
    CHECK(err.message && strstr(err.message, "has expired") && strstr(err.message, token));
    check_no_secret(err.message);
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* botocore's precedence between providers for one profile (PROVIDERS.md 1.3). */
static void test_precedence(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *provider = NULL;
    const char *token = temp_file("web-token-x");
    char config_text[1024];
    snprintf(config_text, sizeof config_text,
             "[profile rolekeys]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
             "[profile roleonly]\nrole_arn = arn:aws:iam::1:role/r\n"
             "[profile proc]\naws_access_key_id = AKIDCFG\naws_secret_access_key = s\n"
             "credential_process = echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
             "\"SecretAccessKey\": \"s\"}'\n"
             "[profile webrole]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
             "web_identity_token_file = %s\n",
             token);
    const char *config = temp_file(config_text);
    const char *creds = temp_file("[base]\naws_access_key_id = AKIDBASE\n"
                                  "aws_secret_access_key = base-secret\n"
                                  "[rolekeys]\naws_access_key_id = AKIDROLEKEYS\n"
                                  "aws_secret_access_key = s\n");
    static const struct {
        const char *profile;
        const char *env_name, *env_value, *env_name2, *env_value2;
        const char *provider;
    } cases[] = {
        {"rolekeys", NULL, NULL, NULL, NULL, "assume-role"},
        {"proc", NULL, NULL, NULL, NULL, "process"},
        {"webrole", NULL, NULL, NULL, NULL, "assume-role-with-web-identity"},
        /* Environment web identity loses to a role profile (provider 2 before 3)... */
        {"rolekeys", "AWS_WEB_IDENTITY_TOKEN_FILE", NULL, "AWS_ROLE_ARN", "arn:aws:iam::1:role/w",
         "assume-role"},
        /* ...and beats static keys of the credentials file. */
        {"base", "AWS_WEB_IDENTITY_TOKEN_FILE", NULL, "AWS_ROLE_ARN", "arn:aws:iam::1:role/w",
         "assume-role-with-web-identity"},
        /* Environment keys beat environment web identity. */
        {"base", "AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_WEB_IDENTITY_TOKEN_FILE", NULL,
         "environment"},

    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE",
                                      creds, "AWS_PROFILE", cases[i].profile, NULL}}};
        if (cases[i].env_name && strcmp(cases[i].env_name, "AWS_ACCESS_KEY_ID") == 0)
            env_add(&fx.env, "AWS_SECRET_ACCESS_KEY", "env-secret");
        if (cases[i].env_name)
            env_add(&fx.env, cases[i].env_name, cases[i].env_value ? cases[i].env_value : token);
        if (cases[i].env_name2)
            env_add(&fx.env, cases[i].env_name2, cases[i].env_value2 ? cases[i].env_value2 : token);
        provider = NULL;
        CHECK_MSG(key_for(&fx, &f, &provider, &err) != NULL, "case %zu: %s", i,
                  err.message ? err.message : "");
        CHECK_MSG(provider && strcmp(provider, cases[i].provider) == 0, "case %zu: %s", i,
                  provider ? provider : "(none)");
        oracle_expect(&fx.env, NULL, cases[i].provider);
    }
    /* Environment web identity and a role profile without a source: the role claims and
     * fails. */
    struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "AWS_PROFILE", "roleonly",
                                  "AWS_WEB_IDENTITY_TOKEN_FILE", token, "AWS_ROLE_ARN",
                                  "arn:aws:iam::1:role/w", NULL}}};
    CHECK(key_for(&fx, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("PartialCredentials", err.code);
    oracle_expect(&fx.env, NULL, "error PartialCredentialsError");
    /* An empty AWS_WEB_IDENTITY_TOKEN_FILE switches the profile's token file off as well, and
     * the profile's role_arn stays a web identity setting: nothing claims (botocore: none). */
    struct fixture empty = {
        .env = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_PROFILE",
                 "webrole", "AWS_WEB_IDENTITY_TOKEN_FILE", "", NULL}}};
    CHECK(key_for(&empty, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("NoCredentials", err.code);
    oracle_expect(&empty.env, NULL, "none");
    oracle_flush();
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* ------------------------------------------------------------------------------------------
 * SSO and login
 * ---------------------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void write_at(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    rewrite_file(path, text);
}

static char *read_at(const char *dir, const char *name, mode_t *mode)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (mode && stat(path, &st) == 0)
        *mode = st.st_mode & 0777;
    return harness_read_file(path, NULL);
}

static void test_cache_names(void)
{
    char *a = sso_cache_name("my-sso");
    CHECK_STR_EQ("0ad374308c5a4e22f723adf10145eafad7c4031c.json", a);
    free(a);
    a = sso_cache_name("https://my-sso-portal.awsapps.com/start");
    CHECK_STR_EQ("c7aaaf71fcc8777ae2475525ed049d39fe16c484.json", a);
    free(a);
    a = login_cache_name("arn:aws:iam::123456789012:user/alice");
    CHECK_STR_EQ("b7d71d383b9557a9bad4c3346c50365819226484c6824a0fdef66637be339db0.json", a);
    free(a);
}

struct log_lines {
    char text[2048];
};

static void collect_log(void *ud, const char *line)
{
    struct log_lines *l = ud;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s\n", line);
}

static void test_sso(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    char home[] = "/tmp/ivs-sso-XXXXXX";
    if (!mkdtemp(home))
        SKIP("mkdtemp failed");
    char cache[256];
    snprintf(cache, sizeof cache, "%s/.aws/sso/cache", home);
    char mk[300];
    snprintf(mk, sizeof mk, "%s/.aws", home);
    mkdir(mk, 0700);
    snprintf(mk, sizeof mk, "%s/.aws/sso", home);
    mkdir(mk, 0700);
    mkdir(cache, 0700);
    const char *session_file = "0ad374308c5a4e22f723adf10145eafad7c4031c.json";
    const char *legacy_file = "c7aaaf71fcc8777ae2475525ed049d39fe16c484.json";
    const char *config = temp_file(
        "[profile dev]\nsso_session = my-sso\nsso_account_id = 123456789012\n"
        "sso_role_name = ReadOnly\n"
        "[profile legacy]\nsso_start_url = https://my-sso-portal.awsapps.com/start\n"
        "sso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n"
        "[profile partial]\nsso_account_id = 1\n"
        "[profile nosession]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = r\n"
        "[profile clash]\nsso_session = my-sso\nsso_start_url = https://other/start\n"
        "sso_account_id = 1\nsso_role_name = r\n"
        "[sso-session my-sso]\nsso_start_url = https://my-sso-portal.awsapps.com/start\n"
        "sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n");
    const char *valid =
        "{\"accessToken\": \"sso-access-1\", \"expiresAt\": \"2030-01-01T08:00:00Z\","
        " \"refreshToken\": \"sso-refresh-1\", \"clientId\": \"cid\", "
        "\"clientSecret\": \"csecret\", \"registrationExpiresAt\": "
        "\"2030-06-01T00:00:00Z\", \"extra\": \"dropped on refresh\"}";
    write_at(cache, session_file, valid);
    struct fixture dev = {
        .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "dev", NULL}}};
    const char *provider = NULL;
    CHECK_STR_EQ("ASIASSO1", key_for(&dev, &f, &provider, &err));
    CHECK_STR_EQ("sso", provider);
    const struct fakesrv_request *r = nth(&f, 0);
    CHECK(r && strcmp(r->target,
                      "/federation/credentials?role_name=ReadOnly&account_id=123456789012") == 0);
    CHECK(r && header(r, "x-amz-sso_bearer_token") &&
          strcmp(header(r, "x-amz-sso_bearer_token"), "sso-access-1") == 0);
    CHECK(r && header(r, "Authorization") == NULL);
    CHECK_INT_EQ(0, f.oidc_calls);

    /* Inside the 15-minute window: CreateToken, the new token written back (0600), used. */
    const char *expiring = "{\"accessToken\": \"sso-access-1\", \"expiresAt\": "
                           "\"2030-01-01T00:10:00Z\", \"refreshToken\": \"sso-refresh-1\", "
                           "\"clientId\": \"cid\", \"clientSecret\": \"csecret\", "
                           "\"registrationExpiresAt\": \"2030-06-01T00:00:00Z\", \"extra\": 1}";
    write_at(cache, session_file, expiring);
    f.oidc_refresh = "sso-refresh-2";
    struct log_lines log = {""};
    struct fixture dev2 = {
        .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "dev", NULL}}};
    CHECK(fixture_init(&dev2, &f, &err) == IVS_OK);
    cred_chain_set_log(dev2.chain, collect_log, &log);
    const struct credentials *cr = NULL;
    CHECK_INT_EQ(IVS_OK, cred_chain_get(dev2.chain, T2030, &cr, &err));
    CHECK(cr && strcmp(cr->access_key_id, "ASIASSO2") == 0);
    CHECK_INT_EQ(1, f.oidc_calls);
    size_t count = fakesrv_request_count(f.srv);
    const struct fakesrv_request *tok = nth(&f, count - 2), *get = nth(&f, count - 1);
    CHECK(tok && strcmp(tok->target, "/token") == 0 &&
          strstr(tok->body, "\"grantType\":\"refresh_token\"") &&
          strstr(tok->body, "\"refreshToken\":\"sso-refresh-1\""));
    CHECK(get && strcmp(header(get, "x-amz-sso_bearer_token"), "sso-access-new") == 0);
    mode_t mode = 0;
    char *saved = read_at(cache, session_file, &mode);
    CHECK(saved && strstr(saved, "\"accessToken\":\"sso-access-new\"") &&
          strstr(saved, "\"refreshToken\":\"sso-refresh-2\"") &&
          strstr(saved, "\"expiresAt\":\"2030-01-01T01:00:00Z\"") && !strstr(saved, "extra") &&
          strstr(saved, "\"startUrl\":\"https://my-sso-portal.awsapps.com/start\""));
    CHECK_INT_EQ(0600, mode);
    free(saved);
    CHECK(strstr(log.text, "sso") && strstr(log.text, "profile 'dev'"));
    check_no_secret(log.text);
    fixture_free(&dev2);

    /* A refresh that fails while the token is valid: the old token is used. */
    write_at(cache, session_file, expiring);
    f.oidc_status = 400;
    struct fixture dev3 = {
        .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "dev", NULL}}};
    CHECK(key_for(&dev3, &f, NULL, &err) != NULL);
    get = nth(&f, fakesrv_request_count(f.srv) - 1);
    CHECK(get && strcmp(header(get, "x-amz-sso_bearer_token"), "sso-access-1") == 0);
    /* ...and once expired, the error says to log in again. */
    write_at(cache, session_file,
             "{\"accessToken\": \"sso-access-1\", \"expiresAt\": \"2029-12-31T00:00:00Z\", "
             "\"refreshToken\": \"sso-refresh-1\", \"clientId\": \"cid\", \"clientSecret\": "
             "\"csecret\", \"registrationExpiresAt\": \"2030-06-01T00:00:00Z\"}");
    struct fixture dev4 = {
        .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "dev", NULL}}};
    CHECK(key_for(&dev4, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("TokenRetrievalError", err.code);
    CHECK(err.message && strstr(err.message, "aws sso login --profile dev"));
    check_no_secret(err.message);
    f.oidc_status = 0;

    /* A token cache that cannot be written: credentials still come, the old file stays. */
    {
        /* A file size limit makes every write fail, for root as for anyone (chmod does not
         * stop root). */
        write_at(cache, session_file, expiring);
        struct log_lines wlog = {""};
        struct fixture dev5 = {
            .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "dev", NULL}}};
        CHECK(fixture_init(&dev5, &f, &err) == IVS_OK);
        cred_chain_set_log(dev5.chain, collect_log, &wlog);
        struct rlimit old_limit, tiny = {16, 16};
        getrlimit(RLIMIT_FSIZE, &old_limit);
        tiny.rlim_max = old_limit.rlim_max;
        void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &tiny);
        enum ivs_status got = cred_chain_get(dev5.chain, T2030, &cr, &err);
        setrlimit(RLIMIT_FSIZE, &old_limit);
        signal(SIGXFSZ, old_handler);
        CHECK_INT_EQ(IVS_OK, got);
        CHECK_MSG(strstr(wlog.text, "could not be written back"), "log: %s", wlog.text);
        check_no_secret(wlog.text);
        fixture_free(&dev5);
        saved = read_at(cache, session_file, NULL);
        CHECK(saved && strstr(saved, "sso-access-1") && strstr(saved, "extra"));
        free(saved);
    }

    /* Legacy form: keyed by the start URL; an expired token is not refreshed. */
    struct fixture legacy = {
        .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "legacy", NULL}}};
    CHECK(key_for(&legacy, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("SSOTokenLoadError", err.code);
    CHECK(err.message && strstr(err.message, "aws sso login --profile legacy"));
    write_at(cache, legacy_file,
             "{\"accessToken\": \"sso-access-1\", \"expiresAt\": \"2029-12-31T00:00:00Z\"}");
    struct fixture legacy2 = {
        .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "legacy", NULL}}};
    CHECK(key_for(&legacy2, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("UnauthorizedSSOToken", err.code);
    /* A corrupt cache file. */
    write_at(cache, legacy_file, "{\"accessToken\": \"sso-acc");
    struct fixture corrupt = {
        .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "legacy", NULL}}};
    CHECK(key_for(&corrupt, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("SSOTokenLoadError", err.code);
    CHECK(err.message && strstr(err.message, "invalid"));
    check_no_secret(err.message);
    /* The portal refusing the token. */
    write_at(cache, session_file, valid);
    f.portal_status = 401;
    struct fixture refused = {
        .env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE", "dev", NULL}}};
    CHECK(key_for(&refused, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("UnauthorizedSSOToken", err.code);
    f.portal_status = 0;
    /* Configuration errors. */
    static const struct {
        const char *profile, *text;
    } bad[] = {
        {"partial", "lacks sso_role_name, sso_start_url, sso_region"},
        {"nosession", "[sso-session nope]"},
        {"clash", "sso_start_url differs"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct fixture fx = {.env = {{"AWS_CONFIG_FILE", config, "HOME", home, "AWS_PROFILE",
                                      bad[i].profile, NULL}}};
        CHECK(key_for(&fx, &f, NULL, &err) == NULL);
        CHECK_STR_EQ("InvalidConfig", err.code);
        CHECK_MSG(err.message && strstr(err.message, bad[i].text), "%s",
                  err.message ? err.message : "");
        oracle_expect(&fx.env, NULL, "error InvalidConfigError");
    }
    struct fixture dev_oracle = {.env = {{"AWS_CONFIG_FILE", config, "AWS_PROFILE", "dev", NULL}}};
    oracle_expect(&dev_oracle.env, NULL, "sso");
    oracle_flush();
    rm_tree(home);
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* A P-256 key in SEC1 PEM, as `aws login` stores it. */
static char *new_p256_pem(EVP_PKEY **pkey_out)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    if (pkey && bio && PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL)) {
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        pem = strndup(data, (size_t)n);
    }
    BIO_free(bio);
    *pkey_out = pkey;
    return pem;
}

static int b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    size_t n = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const char *p = strchr(tab, in[i]);
        if (!p || !in[i])
            return -1;
        v = v << 6 | (unsigned)(p - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (unsigned char)(v >> bits);
        }
    }
    return (int)n;
}

/* Checks a DPoP proof: its header's key, its claims and its ES256 signature. */
static void check_dpop(const char *jwt, EVP_PKEY *pkey, const char *url)
{
    const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    CHECK(dot1 && dot2);
    if (!dot1 || !dot2)
        return;
    unsigned char hdr[512] = {0}, pay[512] = {0}, sig[64];
    CHECK(b64url_decode(jwt, (size_t)(dot1 - jwt), hdr, sizeof hdr - 1) > 0);
    CHECK(b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), pay, sizeof pay - 1) > 0);
    CHECK_INT_EQ(64, b64url_decode(dot2 + 1, strlen(dot2 + 1), sig, sizeof sig));
    static const char head[] =
        "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"x\":\"";
    CHECK_MSG(strncmp((char *)hdr, head, strlen(head)) == 0, "header %s", hdr);
    CHECK(strstr((char *)hdr, "\"crv\":\"P-256\"}}"));
    char htu[256];
    snprintf(htu, sizeof htu, "{\"htm\":\"POST\",\"htu\":\"%s\",\"iat\":1893456000,\"jti\":\"",
             url);
    CHECK_MSG(strncmp((char *)pay, htu, strlen(htu)) == 0, "payload %s", pay);
    /* r || s back to DER, then verify over header.payload. */
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(es, &der);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pkey) == 1 &&
             EVP_DigestVerify(m, der, (size_t)der_len, (const unsigned char *)jwt,
                              (size_t)(dot2 - jwt)) == 1;
    CHECK_MSG(ok, "the DPoP signature does not verify");
    EVP_MD_CTX_free(m);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
}

static void test_login(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    char dir[] = "/tmp/ivs-login-XXXXXX";
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    EVP_PKEY *pkey = NULL;
    char *pem = new_p256_pem(&pkey);
    CHECK(pem != NULL);
    cJSON *pem_json = cJSON_CreateString(pem ? pem : "");
    char *pem_text = cJSON_PrintUnformatted(pem_json);
    cJSON_Delete(pem_json);
    const char *file = "b7d71d383b9557a9bad4c3346c50365819226484c6824a0fdef66637be339db0.json";
    const char *config =
        temp_file("[profile me]\nlogin_session = arn:aws:iam::123456789012:user/alice\n"
                  "[profile gone]\nlogin_session = arn:aws:iam::123456789012:user/bob\n");
    char doc[4096];
    snprintf(doc, sizeof doc,
             "{\"accessToken\": {\"accessKeyId\": \"ASIALOGIN1\", \"secretAccessKey\": "
             "\"role-secret-l1\", \"sessionToken\": \"role-token-l1\", \"accountId\": "
             "\"123456789012\", \"expiresAt\": \"%s\"}, \"tokenType\": \"aws_sigv4\", "
             "\"clientId\": \"arn:aws:signin:::devtools/same-device\", \"refreshToken\": "
             "\"login-refresh-1\", \"idToken\": \"id.jwt\", \"dpopKey\": %s}",
             "2030-01-01T00:12:00Z", pem_text ? pem_text : "\"\"");
    write_at(dir, file, doc);
    /* More than 5 minutes left: the cached credentials, no request. */
    struct fixture fresh = {.env = {{"AWS_CONFIG_FILE", config, "AWS_LOGIN_CACHE_DIRECTORY", dir,
                                     "AWS_PROFILE", "me", NULL}}};
    const char *provider = NULL;
    CHECK_STR_EQ("ASIALOGIN1", key_for(&fresh, &f, &provider, &err));
    CHECK_STR_EQ("login", provider);
    CHECK_INT_EQ(0, f.signin_calls);
    /* Less than 5 minutes: CreateOAuth2Token with a DPoP proof, written back. */
    char *old = strstr(doc, "2030-01-01T00:12:00Z");
    if (old)
        memcpy(old, "2030-01-01T00:03:00Z", 20);
    write_at(dir, file, doc);
    struct fixture stale = {.env = {{"AWS_CONFIG_FILE", config, "AWS_LOGIN_CACHE_DIRECTORY", dir,
                                     "AWS_PROFILE", "me", NULL}}};
    CHECK_STR_EQ("ASIALOGIN2", key_for(&stale, &f, &provider, &err));
    CHECK_INT_EQ(1, f.signin_calls);
    const struct fakesrv_request *r = nth(&f, fakesrv_request_count(f.srv) - 1);
    CHECK(r && strstr(r->body, "\"refreshToken\":\"login-refresh-1\"") &&
          strstr(r->body, "\"grantType\":\"refresh_token\"") &&
          strstr(r->body, "\"clientId\":\"arn:aws:signin:::devtools/same-device\""));
    char url[128];
    snprintf(url, sizeof url, "%s/v1/token", f.url);
    char dpop[2048] = "";
    if (r && header(r, "DPoP"))
        snprintf(dpop, sizeof dpop, "%s", header(r, "DPoP"));
    check_dpop(dpop, pkey, url);
    mode_t mode = 0;
    char *saved = read_at(dir, file, &mode);
    CHECK(saved && strstr(saved, "\"accessKeyId\":\"ASIALOGIN2\"") &&
          strstr(saved, "\"accountId\":\"123456789012\"") &&
          strstr(saved, "\"expiresAt\":\"2030-01-01T00:15:00Z\"") &&
          strstr(saved, "\"refreshToken\":\"login-refresh-2\"") &&
          strstr(saved, "\"idToken\":\"id.jwt\"") && strstr(saved, "BEGIN EC PRIVATE KEY"));
    CHECK_INT_EQ(0600, mode);
    free(saved);
    /* Refresh errors map to botocore's. */
    write_at(dir, file, doc);
    f.signin_error = "TOKEN_EXPIRED";
    struct fixture expired = {.env = {{"AWS_CONFIG_FILE", config, "AWS_LOGIN_CACHE_DIRECTORY", dir,
                                       "AWS_PROFILE", "me", NULL}}};
    CHECK(key_for(&expired, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("LoginRefreshRequired", err.code);
    CHECK(err.message && strstr(err.message, "aws login --profile me"));
    check_no_secret(err.message);
    CHECK(!strstr(err.message ? err.message : "", "login-refresh"));
    f.signin_error = "INSUFFICIENT_PERMISSIONS";
    struct fixture perm = {.env = {{"AWS_CONFIG_FILE", config, "AWS_LOGIN_CACHE_DIRECTORY", dir,
                                    "AWS_PROFILE", "me", NULL}}};
    CHECK(key_for(&perm, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("LoginInsufficientPermissions", err.code);
    f.signin_error = NULL;
    /* Load errors. */
    struct fixture gone = {.env = {{"AWS_CONFIG_FILE", config, "AWS_LOGIN_CACHE_DIRECTORY", dir,
                                    "AWS_PROFILE", "gone", NULL}}};
    CHECK(key_for(&gone, &f, NULL, &err) == NULL);
    CHECK_STR_EQ("LoginTokenLoadError", err.code);
    CHECK(err.message && strstr(err.message, "aws login --profile gone"));
    write_at(dir, file, "{\"accessToken\": {}, \"refreshToken\": \"r\", \"clientId\": \"c\"}");
    struct fixture nokey = {.env = {{"AWS_CONFIG_FILE", config, "AWS_LOGIN_CACHE_DIRECTORY", dir,
                                     "AWS_PROFILE", "me", NULL}}};
    CHECK(key_for(&nokey, &f, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "lacks dpopKey"));
    free(pem_text);
    free(pem);
    EVP_PKEY_free(pkey);
    rm_tree(dir);
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* ------------------------------------------------------------------------------------------
 * Say who you are: the client's identity, whoami and the log
 * ---------------------------------------------------------------------------------------- */

static void client_log_hook(void *ud, enum ivs_log_level level, const char *line)
{
    (void)level;
    collect_log(ud, line);
}

static void test_client_identity_and_whoami(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *config = temp_file("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\n"
                                   "source_profile = base\nregion = eu-west-1\n");
    const char *creds = temp_file(s_base_creds);
    struct env e = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_PROFILE",
                     "app", "AWS_ENDPOINT_URL_STS", f.url, "AWS_EC2_METADATA_DISABLED", "true",
                     NULL}};
    struct log_lines log = {""};
    struct ivs_client_options opts = {0};
    opts.getenv = env_get;
    opts.getenv_ud = &e;
    opts.log = client_log_hook;
    opts.log_ud = &log;
    struct ivs_client *client = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_new(&opts, &client, &err));
    char *json = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_identity(client, &json, &err));
    cJSON *doc = cJSON_Parse(json ? json : "");
    CHECK_STR_EQ("app", cJSON_GetStringValue(cJSON_GetObjectItem(doc, "profile")));
    CHECK_STR_EQ("AWS_PROFILE", cJSON_GetStringValue(cJSON_GetObjectItem(doc, "profile_source")));
    CHECK_STR_EQ("eu-west-1", cJSON_GetStringValue(cJSON_GetObjectItem(doc, "region")));
    CHECK_STR_EQ("https://ivs.eu-west-1.amazonaws.com",
                 cJSON_GetStringValue(cJSON_GetObjectItem(doc, "endpoint")));
    CHECK_STR_EQ("default", cJSON_GetStringValue(cJSON_GetObjectItem(doc, "endpoint_source")));
    CHECK_STR_EQ("assume-role",
                 cJSON_GetStringValue(cJSON_GetObjectItem(doc, "credential_provider")));
    CHECK_STR_EQ("*****OLE1", cJSON_GetStringValue(cJSON_GetObjectItem(doc, "access_key_id")));
    CHECK_STR_EQ("2030-01-01T01:00:00Z",
                 cJSON_GetStringValue(cJSON_GetObjectItem(doc, "expires_at")));
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "credential_source"));
    CHECK(src && strstr(src, "profile 'app'") && strstr(src, "role/app"));
    check_no_secret(json);
    CHECK(json && !strstr(json, "ASIAROLE1"));
    cJSON_Delete(doc);
    ivs_free(json);
    /* The debug log named the provider and the profile, never a secret. */
    CHECK_MSG(strstr(log.text, "credentials: resolved from assume-role (profile 'app'"), "%s",
              log.text);
    CHECK(strstr(log.text, "*****OLE1"));
    check_no_secret(log.text);
    CHECK(!strstr(log.text, "ASIAROLE1"));

    /* whoami: GetCallerIdentity signed with the role's credentials. */
    json = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_whoami(client, &json, &err));
    CHECK(json && strstr(json, "\"Arn\":\"arn:aws:sts::123456789012:assumed-role/app/s\"") &&
          strstr(json, "\"Account\":\"123456789012\""));
    ivs_free(json);
    const struct fakesrv_request *r = nth(&f, fakesrv_request_count(f.srv) - 1);
    CHECK(r && strcmp(r->body, "Action=GetCallerIdentity&Version=2011-06-15") == 0);
    CHECK(r && strstr(header(r, "Authorization"), "Credential=ASIAROLE1/") &&
          strstr(header(r, "Authorization"), "/eu-west-1/sts/aws4_request"));
    CHECK_INT_EQ(2, f.sts_calls); /* one AssumeRole for both: the credentials are cached */
    f.sts_error_code = "InvalidClientTokenId";
    CHECK(ivs_client_whoami(client, &json, &err) == IVS_ERR_SERVICE);
    CHECK_STR_EQ("InvalidClientTokenId", err.code);
    ivs_client_free(client);

    /* A client whose credentials fail still describes itself. */
    struct env none = {{"AWS_CONFIG_FILE", "/nonexistent/c", "AWS_SHARED_CREDENTIALS_FILE",
                        "/nonexistent/k", "AWS_REGION", "us-west-2", "AWS_EC2_METADATA_DISABLED",
                        "true", NULL}};
    opts.getenv_ud = &none;
    opts.log = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_new(&opts, &client, &err));
    CHECK_INT_EQ(IVS_OK, ivs_client_identity(client, &json, &err));
    CHECK(json && strstr(json, "\"credential_provider\":null") &&
          strstr(json, "\"credential_error_code\":\"NoCredentials\"") &&
          strstr(json, "\"region_source\":\"AWS_REGION\""));
    ivs_free(json);
    ivs_client_free(client);
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

/* Through a client, blocking and non-blocking: one AssumeRole for many calls, each signed
 * with the role's key and session token. */
static int s_async_done;
static void async_done(void *ud, enum ivs_status status, const char *json, size_t len,
                       const struct ivs_error *err)
{
    (void)ud, (void)json, (void)len, (void)err;
    CHECK_INT_EQ(IVS_OK, status);
    s_async_done++;
}

static void test_client_calls_assume_role_once(void)
{
    struct fake f;
    if (fake_start(&f) != 0)
        SKIP("fakesrv did not start");
    struct ivs_error err = {0};
    const char *config = temp_file("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\n"
                                   "source_profile = base\n");
    const char *creds = temp_file(s_base_creds);
    struct env e = {{"AWS_CONFIG_FILE", config, "AWS_SHARED_CREDENTIALS_FILE", creds, "AWS_PROFILE",
                     "app", "AWS_ENDPOINT_URL", f.url, "AWS_REGION", "us-west-2",
                     "AWS_EC2_METADATA_DISABLED", "true", NULL}};
    struct ivs_client_options opts = {0};
    opts.getenv = env_get;
    opts.getenv_ud = &e;
    struct ivs_client *client = NULL;
    CHECK_INT_EQ(IVS_OK, ivs_client_new(&opts, &client, &err));
    for (int i = 0; client && i < 3; i++) {
        char *out = NULL;
        CHECK_INT_EQ(IVS_OK, ivs_client_call(client, "ListChannels", "{}", 2, &out, NULL, &err));
        ivs_free(out);
    }
    s_async_done = 0;
    for (int i = 0; client && i < 2; i++)
        CHECK_INT_EQ(IVS_OK,
                     ivs_client_start(client, "ListChannels", "{}", 2, async_done, NULL, &err));
    for (int i = 0; client && i < 200 && ivs_client_in_flight(client) > 0; i++)
        ivs_client_poll(client, 50);
    CHECK_INT_EQ(2, s_async_done);
    CHECK_INT_EQ(1, f.sts_calls);
    size_t n = fakesrv_request_count(f.srv);
    CHECK_INT_EQ(6, n);
    for (size_t i = 1; i < n; i++) {
        const struct fakesrv_request *r = nth(&f, i);
        CHECK(r && strcmp(r->target, "/ListChannels") == 0);
        CHECK(r && strstr(header(r, "Authorization"), "Credential=ASIAROLE1/") &&
              strstr(header(r, "Authorization"), "/us-west-2/ivs/aws4_request"));
        CHECK(r && header(r, "X-Amz-Security-Token") &&
              strcmp(header(r, "X-Amz-Security-Token"), "role-token-1") == 0);
    }
    ivs_client_free(client);
    fakesrv_stop(f.srv);
    cleanup_files();
    ivs_error_clear(&err);
}

int main(void)
{
    RUN(test_xml_leaves);
    RUN(test_endpoints);
    RUN(test_form_encoding);
    RUN(test_assume_role_from_source_profile);
    RUN(test_assume_role_chains);
    RUN(test_assume_role_validation);
    RUN(test_assume_role_mfa);
    RUN(test_assume_role_credential_source);
    RUN(test_sts_errors);
    RUN(test_web_identity);
    RUN(test_precedence);
    RUN(test_cache_names);
    RUN(test_sso);
    RUN(test_login);
    RUN(test_client_identity_and_whoami);
    RUN(test_client_calls_assume_role_once);
    return harness_finish();
}
