/* test_emulator_identity.c: the identity services of ivs-emulator over HTTP: STS (query
 * protocol, XML), the SSO portal, SSO-OIDC and signin (DPoP), the temporary credentials they
 * issue being accepted by the IVS endpoints until they expire, each failure a credential chain
 * must handle, and the admin API that seeds them. A last part drives boto3 and the AWS CLI v1
 * against the same emulator as independent oracles when they are installed. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "test_emulator_client.h"

#define FORM "application/x-www-form-urlencoded; charset=utf-8"
#define ROLE "arn:aws:iam::123456789012:role/app"

static struct emu_child g_emu;
static CURL *g_curl;
static pid_t g_watchdog_pid;

static void on_alarm(int sig)
{
    (void)sig;
    if (g_watchdog_pid > 0)
        kill(g_watchdog_pid, SIGKILL);
    static const char msg[] = "not ok - watchdog: test_emulator_identity took too long\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

static void admin(const char *method, const char *path, const char *json, struct emu_resp *r)
{
    struct emu_sign s = {.unsigned_request = 1};
    emu_send(g_curl, &g_emu, method, path, NULL, json, &s, r);
}

static const char *jstr(const cJSON *o, const char *a)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The text of the first <name> element of an XML body, copied into out (tests may use
 * string search; the client parses with a real XML parser). */
static const char *xml_text(const struct emu_resp *r, const char *name, char *out, size_t cap)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", name);
    snprintf(close, sizeof close, "</%s>", name);
    const char *s = strstr(buf_str(&r->body), open);
    const char *e = s ? strstr(s, close) : NULL;
    if (!s || !e)
        return NULL;
    s += strlen(open);
    size_t n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

struct creds {
    char akid[64], secret[128], token[1024];
};

/* An STS call: a form POST to "/" signed for sts (or unsigned), with an optional session
 * token. */
static void sts(const char *form, const struct creds *c, int sign, struct emu_resp *r)
{
    char tok[1100];
    struct emu_sign s = {
        .service = "sts", .region = "us-east-1", .content_type = FORM, .unsigned_request = !sign};
    if (c) {
        s.key_id = c->akid;
        s.secret = c->secret;
        if (c->token[0]) {
            snprintf(tok, sizeof tok, "X-Amz-Security-Token: %s", c->token);
            s.extra_header = tok;
        }
    }
    emu_send(g_curl, &g_emu, "POST", "/", NULL, form, &s, r);
}

static void check_sts_error(const struct emu_resp *r, long status, const char *code)
{
    char b[256];
    CHECK_INT_EQ(status, r->status);
    CHECK(strstr(r->content_type, "text/xml") != NULL);
    CHECK(strstr(buf_str(&r->body),
                 "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">") != NULL);
    CHECK_STR_EQ(code, xml_text(r, "Code", b, sizeof b));
    CHECK_STR_EQ("Sender", xml_text(r, "Type", b, sizeof b));
    CHECK_STR_EQ(r->request_id, xml_text(r, "RequestId", b, sizeof b));
    CHECK(r->error_type[0] == '\0'); /* the query protocol has no x-amzn-ErrorType */
}

static int take_creds(const struct emu_resp *r, struct creds *c)
{
    memset(c, 0, sizeof *c);
    return xml_text(r, "AccessKeyId", c->akid, sizeof c->akid) &&
                   xml_text(r, "SecretAccessKey", c->secret, sizeof c->secret) &&
                   xml_text(r, "SessionToken", c->token, sizeof c->token)
               ? 0
               : -1;
}

/* ListChannels signed with c (ivs scope); returns the status, the error type in type. */
static long ivs_call(const struct creds *c, char type[128])
{
    char tok[1100];
    snprintf(tok, sizeof tok, "X-Amz-Security-Token: %s", c->token);
    struct emu_sign s = {.key_id = c->akid, .secret = c->secret, .extra_header = tok};
    struct emu_resp r;
    emu_send(g_curl, &g_emu, "POST", "/ListChannels", NULL, "{}", &s, &r);
    long st = r.status;
    if (type)
        snprintf(type, 128, "%s", r.error_type);
    emu_resp_free(&r);
    return st;
}

static void assume(const char *extra, const struct creds *caller, struct emu_resp *r)
{
    char form[1024];
    snprintf(form, sizeof form,
             "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%%3Aaws%%3Aiam%%3A%%3A123456789012%%"
             "3Arole%%2Fapp&RoleSessionName=sess-1%s",
             extra ? extra : "");
    sts(form, caller, 1, r);
}

static void test_get_caller_identity_root(void)
{
    struct emu_resp r;
    char b[256];
    sts("Action=GetCallerIdentity&Version=2011-06-15", NULL, 1, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(strstr(r.content_type, "text/xml") != NULL);
    CHECK(strstr(buf_str(&r.body), "<GetCallerIdentityResponse "
                                   "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">") != NULL);
    CHECK_STR_EQ("arn:aws:iam::123456789012:root", xml_text(&r, "Arn", b, sizeof b));
    CHECK_STR_EQ("123456789012", xml_text(&r, "Account", b, sizeof b));
    CHECK_STR_EQ("123456789012", xml_text(&r, "UserId", b, sizeof b));
    CHECK_STR_EQ(r.request_id, xml_text(&r, "RequestId", b, sizeof b));
    emu_resp_free(&r);
    /* The same call as a signed GET with the query string. */
    struct emu_sign g = {.service = "sts", .region = "us-east-1"};
    emu_send(g_curl, &g_emu, "GET", "/", "Action=GetCallerIdentity&Version=2011-06-15", NULL, &g,
             &r);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("arn:aws:iam::123456789012:root", xml_text(&r, "Arn", b, sizeof b));
    emu_resp_free(&r);
}

static void test_sts_auth_errors(void)
{
    struct emu_resp r;
    char b[256];
    sts("Action=GetCallerIdentity&Version=2011-06-15", NULL, 0, &r);
    check_sts_error(&r, 403, "MissingAuthenticationToken");
    emu_resp_free(&r);
    struct creds bad = {"AKIAUNKNOWN000000000", "x", ""};
    sts("Action=GetCallerIdentity&Version=2011-06-15", &bad, 1, &r);
    check_sts_error(&r, 403, "InvalidClientTokenId");
    emu_resp_free(&r);
    struct creds wrong = {EMU_KEY_ID, "not-the-secret", ""};
    sts("Action=GetCallerIdentity&Version=2011-06-15", &wrong, 1, &r);
    check_sts_error(&r, 403, "SignatureDoesNotMatch");
    emu_resp_free(&r);
    /* Signed for ivs rather than sts. */
    struct emu_sign s = {.content_type = FORM};
    emu_send(g_curl, &g_emu, "POST", "/", NULL, "Action=GetCallerIdentity&Version=2011-06-15", &s,
             &r);
    check_sts_error(&r, 403, "SignatureDoesNotMatch");
    CHECK_STR_EQ("Credential should be scoped to correct service: &apos;sts&apos;. ",
                 xml_text(&r, "Message", b, sizeof b));
    emu_resp_free(&r);
    sts("Action=DeleteRole&Version=2011-06-15", NULL, 1, &r);
    check_sts_error(&r, 400, "InvalidAction");
    emu_resp_free(&r);
    sts("Version=2011-06-15", NULL, 1, &r);
    check_sts_error(&r, 400, "MissingAction");
    emu_resp_free(&r);
}

static void test_assume_role_and_temp_credentials(void)
{
    struct emu_resp r;
    char b[256];
    admin("DELETE", "/_emulator/identity", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    time_t before = time(NULL);
    assume("&DurationSeconds=900", NULL, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(strstr(buf_str(&r.body), "<AssumeRoleResponse "
                                   "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">") != NULL);
    CHECK(strstr(buf_str(&r.body), "<AssumeRoleResult>") != NULL);
    struct creds c;
    CHECK(take_creds(&r, &c) == 0);
    CHECK(!strncmp(c.akid, "ASIA", 4) && strlen(c.akid) == 20);
    CHECK(strlen(c.secret) == 40);
    CHECK(strlen(c.token) > 100);
    CHECK_STR_EQ("arn:aws:sts::123456789012:assumed-role/app/sess-1",
                 xml_text(&r, "Arn", b, sizeof b));
    CHECK(xml_text(&r, "AssumedRoleId", b, sizeof b) && !strncmp(b, "AROA", 4) &&
          strstr(b, ":sess-1") != NULL);
    /* DurationSeconds is honoured: the expiration is 900 s from now. */
    CHECK(xml_text(&r, "Expiration", b, sizeof b) != NULL);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    CHECK(strptime(b, "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL);
    long long exp = (long long)timegm(&tm);
    CHECK(exp >= (long long)before + 899 && exp <= (long long)time(NULL) + 901);
    emu_resp_free(&r);

    /* The temporary credentials work on IVS and on STS... */
    CHECK_INT_EQ(200, ivs_call(&c, NULL));
    sts("Action=GetCallerIdentity&Version=2011-06-15", &c, 1, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("arn:aws:sts::123456789012:assumed-role/app/sess-1",
                 xml_text(&r, "Arn", b, sizeof b));
    CHECK_STR_EQ("123456789012", xml_text(&r, "Account", b, sizeof b));
    CHECK(xml_text(&r, "UserId", b, sizeof b) && !strncmp(b, "AROA", 4));
    emu_resp_free(&r);
    /* ...only with their own session token... */
    struct creds notoken = c;
    notoken.token[0] = '\0';
    char type[128];
    CHECK_INT_EQ(403, ivs_call(&notoken, type));
    CHECK_STR_EQ("UnrecognizedClientException", type);
    struct creds othertoken = c;
    othertoken.token[5] ^= 1;
    CHECK_INT_EQ(403, ivs_call(&othertoken, type));
    CHECK_STR_EQ("UnrecognizedClientException", type);
    /* ...and role chaining is capped at one hour. */
    assume("&DurationSeconds=7200", &c, &r);
    check_sts_error(&r, 400, "ValidationError");
    emu_resp_free(&r);
    assume("&DurationSeconds=3600", &c, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);

    /* Expired: ExpiredTokenException on IVS, ExpiredToken on STS. */
    char body[128];
    snprintf(body, sizeof body, "{\"accessKeyId\":\"%s\"}", c.akid);
    admin("POST", "/_emulator/identity/expire", body, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    CHECK_INT_EQ(403, ivs_call(&c, type));
    CHECK_STR_EQ("ExpiredTokenException", type);
    sts("Action=GetCallerIdentity&Version=2011-06-15", &c, 1, &r);
    check_sts_error(&r, 403, "ExpiredToken");
    CHECK_STR_EQ("The security token included in the request is expired",
                 xml_text(&r, "Message", b, sizeof b));
    emu_resp_free(&r);

    /* Calls are counted per operation. */
    admin("GET", "/_emulator/identity/calls", NULL, &r);
    CHECK(cJSON_GetObjectItemCaseSensitive(r.json, "AssumeRole") &&
          cJSON_GetObjectItemCaseSensitive(r.json, "AssumeRole")->valueint == 3);
    emu_resp_free(&r);
}

static void test_assume_role_rules(void)
{
    struct emu_resp r;
    char b[512];
    admin("DELETE", "/_emulator/identity", NULL, &r);
    emu_resp_free(&r);
    assume("&DurationSeconds=899", NULL, &r);
    check_sts_error(&r, 400, "ValidationError");
    emu_resp_free(&r);
    assume("&DurationSeconds=7200", NULL, &r); /* above the default MaxSessionDuration */
    check_sts_error(&r, 400, "ValidationError");
    CHECK(xml_text(&r, "Message", b, sizeof b) && strstr(b, "MaxSessionDuration"));
    emu_resp_free(&r);
    sts("Action=AssumeRole&Version=2011-06-15&RoleSessionName=s1", NULL, 1, &r);
    check_sts_error(&r, 400, "ValidationError");
    emu_resp_free(&r);
    sts("Action=AssumeRole&Version=2011-06-15&RoleArn=" ROLE "&RoleSessionName=a+b", NULL, 1, &r);
    check_sts_error(&r, 400, "ValidationError");
    emu_resp_free(&r);
    sts("Action=AssumeRole&Version=2011-06-15&RoleArn=not-an-arn-at-all-really&"
        "RoleSessionName=s1",
        NULL, 1, &r);
    check_sts_error(&r, 400, "ValidationError");
    emu_resp_free(&r);

    /* Registering a role closes its account to unregistered roles. */
    admin("POST", "/_emulator/identity/roles",
          "{\"roleArn\":\"arn:aws:iam::123456789012:role/ext\",\"externalId\":\"ext-123\","
          "\"maxSessionDuration\":7200}",
          &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(jstr(r.json, "roleId") && !strncmp(jstr(r.json, "roleId"), "AROA", 4));
    emu_resp_free(&r);
    assume(NULL, NULL, &r);
    check_sts_error(&r, 403, "AccessDenied");
    CHECK_STR_EQ("User: arn:aws:iam::123456789012:root is not authorized to perform: "
                 "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/app",
                 xml_text(&r, "Message", b, sizeof b));
    emu_resp_free(&r);
    const char *ext = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:"
                      "role/ext&RoleSessionName=s1";
    sts(ext, NULL, 1, &r);
    check_sts_error(&r, 403, "AccessDenied");
    emu_resp_free(&r);
    char form[512];
    snprintf(form, sizeof form, "%s&ExternalId=wrong-id", ext);
    sts(form, NULL, 1, &r);
    check_sts_error(&r, 403, "AccessDenied");
    emu_resp_free(&r);
    snprintf(form, sizeof form, "%s&ExternalId=ext-123&DurationSeconds=7200", ext);
    sts(form, NULL, 1, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    /* Other accounts stay open. */
    sts("Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::210987654321:role/x&"
        "RoleSessionName=s1",
        NULL, 1, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("arn:aws:sts::210987654321:assumed-role/x/s1", xml_text(&r, "Arn", b, sizeof b));
    struct creds other;
    CHECK(take_creds(&r, &other) == 0);
    emu_resp_free(&r);
    sts("Action=GetCallerIdentity", &other, 1, &r);
    CHECK_STR_EQ("210987654321", xml_text(&r, "Account", b, sizeof b));
    emu_resp_free(&r);

    /* MFA. */
    admin("POST", "/_emulator/identity/roles",
          "{\"roleArn\":\"arn:aws:iam::123456789012:role/mfa\",\"mfaSerial\":\"arn:aws:iam::"
          "123456789012:mfa/user\",\"mfaCode\":\"654321\"}",
          &r);
    emu_resp_free(&r);
    const char *mfa = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:"
                      "role/mfa&RoleSessionName=s1";
    sts(mfa, NULL, 1, &r);
    check_sts_error(&r, 403, "AccessDenied");
    emu_resp_free(&r);
    snprintf(form, sizeof form, "%s&SerialNumber=arn:aws:iam::123456789012:mfa/user&TokenCode=1",
             mfa);
    sts(form, NULL, 1, &r);
    check_sts_error(&r, 403, "AccessDenied");
    CHECK(xml_text(&r, "Message", b, sizeof b) && strstr(b, "MultiFactorAuthentication"));
    emu_resp_free(&r);
    snprintf(form, sizeof form,
             "%s&SerialNumber=arn:aws:iam::123456789012:mfa/user&TokenCode=654321", mfa);
    sts(form, NULL, 1, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);

    admin("GET", "/_emulator/identity/roles", NULL, &r);
    CHECK_INT_EQ(2, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "roles")));
    emu_resp_free(&r);
    admin("POST", "/_emulator/identity/roles", "{\"roleArn\":\"nope\"}", &r);
    CHECK_INT_EQ(400, r.status);
    emu_resp_free(&r);
}

/* A JWT with the given payload (the signature is not checked by the emulator). */
static void make_jwt(const char *payload, char *out, size_t cap)
{
    struct buf b = BUF_INIT;
    const char *parts[2] = {"{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload};
    for (int i = 0; i < 2; i++) {
        unsigned char enc[2048];
        int n = EVP_EncodeBlock(enc, (const unsigned char *)parts[i], (int)strlen(parts[i]));
        for (int j = 0; j < n && enc[j] != '='; j++)
            buf_putc(&b, enc[j] == '+' ? '-' : enc[j] == '/' ? '_' : (char)enc[j]);
        buf_putc(&b, '.');
    }
    buf_puts(&b, "c2lnbmF0dXJl");
    snprintf(out, cap, "%s", buf_str(&b));
    buf_free(&b);
}

static void web_identity(const char *token, const char *role, struct emu_resp *r)
{
    char form[4096];
    snprintf(form, sizeof form,
             "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s&RoleSessionName="
             "web-1&WebIdentityToken=%s",
             role, token);
    sts(form, NULL, 0, r);
}

static void test_web_identity(void)
{
    struct emu_resp r;
    char b[512], jwt[2048], payload[512];
    admin("DELETE", "/_emulator/identity", NULL, &r);
    emu_resp_free(&r);
    snprintf(payload, sizeof payload,
             "{\"sub\":\"system:serviceaccount:default:app\",\"aud\":\"sts.amazonaws.com\","
             "\"iss\":\"https://oidc.example.com\",\"exp\":%lld}",
             (long long)time(NULL) + 600);
    make_jwt(payload, jwt, sizeof jwt);
    /* Unsigned, and a trailing newline (botocore sends the file untrimmed) is fine. */
    char with_nl[2100];
    snprintf(with_nl, sizeof with_nl, "%s%%0A", jwt);
    web_identity(with_nl, ROLE, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(strstr(buf_str(&r.body), "<AssumeRoleWithWebIdentityResult>") != NULL);
    CHECK_STR_EQ("system:serviceaccount:default:app",
                 xml_text(&r, "SubjectFromWebIdentityToken", b, sizeof b));
    CHECK_STR_EQ("sts.amazonaws.com", xml_text(&r, "Audience", b, sizeof b));
    CHECK_STR_EQ("https://oidc.example.com", xml_text(&r, "Provider", b, sizeof b));
    CHECK_STR_EQ("arn:aws:sts::123456789012:assumed-role/app/web-1",
                 xml_text(&r, "Arn", b, sizeof b));
    struct creds c;
    CHECK(take_creds(&r, &c) == 0);
    emu_resp_free(&r);
    CHECK_INT_EQ(200, ivs_call(&c, NULL));

    snprintf(payload, sizeof payload, "{\"sub\":\"x\",\"exp\":%lld}", (long long)time(NULL) - 5);
    make_jwt(payload, jwt, sizeof jwt);
    web_identity(jwt, ROLE, &r);
    check_sts_error(&r, 400, "ExpiredTokenException");
    emu_resp_free(&r);
    web_identity("not-a-jwt", ROLE, &r);
    check_sts_error(&r, 400, "InvalidIdentityToken");
    emu_resp_free(&r);
    make_jwt("{\"aud\":\"no-sub\"}", jwt, sizeof jwt);
    web_identity(jwt, ROLE, &r);
    check_sts_error(&r, 400, "InvalidIdentityToken");
    emu_resp_free(&r);
    sts("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" ROLE "&RoleSessionName=w1",
        NULL, 0, &r);
    check_sts_error(&r, 400, "ValidationError");
    emu_resp_free(&r);
    admin("POST", "/_emulator/identity/roles",
          "{\"roleArn\":\"arn:aws:iam::123456789012:role/other\"}", &r);
    emu_resp_free(&r);
    make_jwt("{\"sub\":\"x\"}", jwt, sizeof jwt);
    web_identity(jwt, ROLE, &r);
    check_sts_error(&r, 403, "AccessDenied");
    emu_resp_free(&r);
    /* The identity clock moves expirations: a token good now is expired an hour later. */
    snprintf(payload, sizeof payload, "{\"sub\":\"x\",\"exp\":%lld}", (long long)time(NULL) + 1800);
    make_jwt(payload, jwt, sizeof jwt);
    web_identity(jwt, "arn:aws:iam::123456789012:role/other", &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(take_creds(&r, &c) == 0);
    emu_resp_free(&r);
    admin("POST", "/_emulator/identity/clock", "{\"advanceSeconds\":3600}", &r);
    CHECK_INT_EQ(3600, cJSON_GetObjectItemCaseSensitive(r.json, "offsetSeconds")->valueint);
    emu_resp_free(&r);
    web_identity(jwt, "arn:aws:iam::123456789012:role/other", &r);
    check_sts_error(&r, 400, "ExpiredTokenException");
    emu_resp_free(&r);
    char type[128];
    CHECK_INT_EQ(403, ivs_call(&c, type));
    CHECK_STR_EQ("ExpiredTokenException", type);
    admin("DELETE", "/_emulator/identity", NULL, &r);
    emu_resp_free(&r);
}

static void portal(const char *token, const char *role, const char *account, struct emu_resp *r)
{
    char hdr[1024] = "", query[256];
    if (token)
        snprintf(hdr, sizeof hdr, "x-amz-sso_bearer_token: %s", token);
    snprintf(query, sizeof query, "role_name=%s&account_id=%s", role, account);
    struct emu_sign s = {.unsigned_request = 1, .extra_header = token ? hdr : NULL};
    emu_send(g_curl, &g_emu, "GET", "/federation/credentials", query, NULL, &s, r);
}

static void create_token(const char *client_id, const char *secret, const char *refresh,
                         struct emu_resp *r)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"grantType\":\"refresh_token\",\"clientId\":\"%s\",\"clientSecret\":\"%s\","
             "\"refreshToken\":\"%s\"}",
             client_id, secret, refresh);
    struct emu_sign s = {.unsigned_request = 1};
    emu_send(g_curl, &g_emu, "POST", "/token", NULL, body, &s, r);
}

static void test_sso(void)
{
    struct emu_resp r, t;
    admin("POST", "/_emulator/identity/sso-sessions",
          "{\"startUrl\":\"https://my-sso-portal.awsapps.com/start\",\"region\":\"us-east-1\","
          "\"roles\":[{\"accountId\":\"123456789012\",\"roleName\":\"ReadOnly\"}]}",
          &t);
    CHECK_INT_EQ(200, t.status);
    const char *access = jstr(t.json, "accessToken"), *refresh = jstr(t.json, "refreshToken");
    const char *cid = jstr(t.json, "clientId"), *csecret = jstr(t.json, "clientSecret");
    CHECK(access && refresh && cid && csecret && jstr(t.json, "expiresAt") &&
          jstr(t.json, "registrationExpiresAt"));
    CHECK_STR_EQ("https://my-sso-portal.awsapps.com/start", jstr(t.json, "startUrl"));
    if (!access || !refresh || !cid || !csecret) {
        emu_resp_free(&t);
        return;
    }
    portal(access, "ReadOnly", "123456789012", &r);
    CHECK_INT_EQ(200, r.status);
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(r.json, "roleCredentials");
    struct creds c;
    memset(&c, 0, sizeof c);
    snprintf(c.akid, sizeof c.akid, "%s", jstr(rc, "accessKeyId") ? jstr(rc, "accessKeyId") : "");
    snprintf(c.secret, sizeof c.secret, "%s",
             jstr(rc, "secretAccessKey") ? jstr(rc, "secretAccessKey") : "");
    snprintf(c.token, sizeof c.token, "%s",
             jstr(rc, "sessionToken") ? jstr(rc, "sessionToken") : "");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(rc, "expiration");
    /* Epoch milliseconds, an hour away. */
    CHECK(cJSON_IsNumber(exp) && exp->valuedouble > (double)(time(NULL) + 3500) * 1000 &&
          exp->valuedouble < (double)(time(NULL) + 3700) * 1000);
    emu_resp_free(&r);
    CHECK_INT_EQ(200, ivs_call(&c, NULL));
    char b[256];
    sts("Action=GetCallerIdentity", &c, 1, &r);
    CHECK_STR_EQ("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly/emulator-user",
                 xml_text(&r, "Arn", b, sizeof b));
    emu_resp_free(&r);

    portal(access, "Admin", "123456789012", &r);
    CHECK_INT_EQ(403, r.status);
    CHECK_STR_EQ("ForbiddenException", r.error_type);
    CHECK_STR_EQ("No access", jstr(r.json, "message"));
    emu_resp_free(&r);
    portal("unknown-token", "ReadOnly", "123456789012", &r);
    CHECK_INT_EQ(401, r.status);
    CHECK_STR_EQ("UnauthorizedException", r.error_type);
    emu_resp_free(&r);
    portal(NULL, "ReadOnly", "123456789012", &r);
    CHECK_INT_EQ(401, r.status);
    emu_resp_free(&r);
    portal(access, "ReadOnly", "12", &r);
    CHECK_INT_EQ(400, r.status);
    CHECK_STR_EQ("InvalidRequestException", r.error_type);
    emu_resp_free(&r);

    /* SSO-OIDC refresh: a new access token and a rotated refresh token. */
    create_token(cid, "wrong", refresh, &r);
    CHECK_INT_EQ(401, r.status);
    CHECK_STR_EQ("InvalidClientException", r.error_type);
    CHECK_STR_EQ("invalid_client", jstr(r.json, "error"));
    emu_resp_free(&r);
    create_token(cid, csecret, "not-the-refresh-token", &r);
    CHECK_INT_EQ(400, r.status);
    CHECK_STR_EQ("InvalidGrantException", r.error_type);
    CHECK_STR_EQ("invalid_grant", jstr(r.json, "error"));
    CHECK(jstr(r.json, "error_description") != NULL);
    emu_resp_free(&r);
    create_token(cid, csecret, refresh, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("Bearer", jstr(r.json, "tokenType"));
    CHECK_INT_EQ(3600, cJSON_GetObjectItemCaseSensitive(r.json, "expiresIn")->valueint);
    char new_access[512], new_refresh[512];
    snprintf(new_access, sizeof new_access, "%s",
             jstr(r.json, "accessToken") ? jstr(r.json, "accessToken") : "");
    snprintf(new_refresh, sizeof new_refresh, "%s",
             jstr(r.json, "refreshToken") ? jstr(r.json, "refreshToken") : "");
    CHECK(new_refresh[0] && strcmp(new_refresh, refresh) != 0);
    emu_resp_free(&r);
    portal(new_access, "ReadOnly", "123456789012", &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    create_token(cid, csecret, refresh, &r); /* the old refresh token was retired */
    CHECK_STR_EQ("InvalidGrantException", r.error_type);
    emu_resp_free(&r);
    struct emu_sign s = {.unsigned_request = 1};
    char body[512];
    snprintf(body, sizeof body,
             "{\"grantType\":\"authorization_code\",\"clientId\":\"%s\",\"clientSecret\":\"%s\"}",
             cid, csecret);
    emu_send(g_curl, &g_emu, "POST", "/token", NULL, body, &s, &r);
    CHECK_STR_EQ("UnsupportedGrantTypeException", r.error_type);
    emu_resp_free(&r);
    emu_send(g_curl, &g_emu, "POST", "/token", NULL, "{\"clientId\":\"x\"}", &s, &r);
    CHECK_INT_EQ(400, r.status);
    CHECK_STR_EQ("InvalidRequestException", r.error_type);
    emu_resp_free(&r);
    emu_resp_free(&t);

    /* Expired access token, expired refresh token, no rotation. */
    admin("POST", "/_emulator/identity/sso-sessions",
          "{\"accessToken\":\"tok-expired\",\"expiresInSeconds\":-10,\"refreshToken\":\"rt-old\","
          "\"refreshTokenExpiresInSeconds\":-1,\"clientId\":\"cid-2\",\"clientSecret\":\"cs-2\"}",
          &t);
    emu_resp_free(&t);
    portal("tok-expired", "Any", "123456789012", &r);
    CHECK_INT_EQ(401, r.status);
    CHECK_STR_EQ("UnauthorizedException", r.error_type);
    emu_resp_free(&r);
    create_token("cid-2", "cs-2", "rt-old", &r);
    CHECK_STR_EQ("ExpiredTokenException", r.error_type);
    CHECK_STR_EQ("expired_token", jstr(r.json, "error"));
    emu_resp_free(&r);
    admin("POST", "/_emulator/identity/sso-sessions",
          "{\"refreshToken\":\"rt-keep\",\"clientId\":\"cid-3\",\"clientSecret\":\"cs-3\","
          "\"rotateRefreshToken\":false,\"tokenLifetimeSeconds\":120}",
          &t);
    emu_resp_free(&t);
    create_token("cid-3", "cs-3", "rt-keep", &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(!cJSON_GetObjectItemCaseSensitive(r.json, "refreshToken"));
    CHECK_INT_EQ(120, cJSON_GetObjectItemCaseSensitive(r.json, "expiresIn")->valueint);
    emu_resp_free(&r);
    create_token("cid-3", "cs-3", "rt-keep", &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    admin("POST", "/_emulator/identity/sso-sessions",
          "{\"refreshToken\":\"rt-4\",\"clientId\":\"cid-4\",\"clientSecret\":\"cs-4\","
          "\"registrationExpiresInSeconds\":-1}",
          &t);
    emu_resp_free(&t);
    create_token("cid-4", "cs-4", "rt-4", &r);
    CHECK_INT_EQ(401, r.status);
    CHECK_STR_EQ("InvalidClientException", r.error_type);
    emu_resp_free(&r);
}

/* ------------------------------------------------------------------------------------ */
/* signin and DPoP */

static void b64url(struct buf *b, const unsigned char *data, size_t len)
{
    unsigned char enc[4096];
    int n = EVP_EncodeBlock(enc, data, (int)len);
    for (int j = 0; j < n && enc[j] != '='; j++)
        buf_putc(b, enc[j] == '+' ? '-' : enc[j] == '/' ? '_' : (char)enc[j]);
}

struct proof_opts {
    const char *htm, *htu, *typ, *alg, *jti;
    long iat_offset;
    int corrupt_signature;
};

/* A DPoP proof for POST url signed with the PEM key, laid out as botocore does it. */
static char *dpop_proof(const char *pem, const char *url, const struct proof_opts *o)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!key)
        return NULL;
    BIGNUM *bx = NULL, *by = NULL;
    unsigned char x[32], y[32];
    EVP_PKEY_get_bn_param(key, "qx", &bx);
    EVP_PKEY_get_bn_param(key, "qy", &by);
    BN_bn2binpad(bx, x, 32);
    BN_bn2binpad(by, y, 32);
    BN_free(bx);
    BN_free(by);
    struct buf hx = BUF_INIT, hy = BUF_INIT, header = BUF_INIT, payload = BUF_INIT, out = BUF_INIT;
    b64url(&hx, x, 32);
    b64url(&hy, y, 32);
    buf_printf(&header,
               "{\"typ\":\"%s\",\"alg\":\"%s\",\"jwk\":{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\","
               "\"crv\":\"P-256\"}}",
               o && o->typ ? o->typ : "dpop+jwt", o && o->alg ? o->alg : "ES256", buf_str(&hx),
               buf_str(&hy));
    char jti[37];
    snprintf(jti, sizeof jti, "%08lx-1111-4111-8111-%012lx", (unsigned long)random(),
             (unsigned long)random());
    buf_printf(&payload, "{\"htm\":\"%s\",\"htu\":\"%s\",\"iat\":%lld,\"jti\":\"%s\"}",
               o && o->htm ? o->htm : "POST", o && o->htu ? o->htu : url,
               (long long)time(NULL) + (o ? o->iat_offset : 0), o && o->jti ? o->jti : jti);
    b64url(&out, (const unsigned char *)buf_str(&header), header.len);
    buf_putc(&out, '.');
    b64url(&out, (const unsigned char *)buf_str(&payload), payload.len);
    unsigned char der[128];
    size_t der_len = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
    EVP_DigestSign(md, der, &der_len, (const unsigned char *)buf_str(&out), out.len);
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    unsigned char raw[64];
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
    ECDSA_SIG_free(sig);
    if (o && o->corrupt_signature)
        raw[10] ^= 0x40;
    buf_putc(&out, '.');
    b64url(&out, raw, 64);
    EVP_PKEY_free(key);
    buf_free(&hx);
    buf_free(&hy);
    buf_free(&header);
    buf_free(&payload);
    return buf_steal(&out);
}

static void oauth_token(const char *proof, const char *client_id, const char *refresh,
                        struct emu_resp *r)
{
    char body[1024], hdr[2048];
    snprintf(body, sizeof body,
             "{\"clientId\":\"%s\",\"refreshToken\":\"%s\",\"grantType\":\"refresh_token\"}",
             client_id, refresh);
    snprintf(hdr, sizeof hdr, "DPoP: %s", proof ? proof : "");
    struct emu_sign s = {.unsigned_request = 1, .extra_header = proof ? hdr : NULL};
    emu_send(g_curl, &g_emu, "POST", "/v1/token", NULL, body, &s, r);
}

static void check_signin_error(const struct emu_resp *r, const char *type, const char *error)
{
    CHECK_INT_EQ(400, r->status);
    CHECK_STR_EQ(type, r->error_type);
    CHECK_STR_EQ(error, jstr(r->json, "error"));
    CHECK(jstr(r->json, "message") != NULL);
}

static void test_signin_dpop(void)
{
    struct emu_resp t, r;
    admin("POST", "/_emulator/identity/login-sessions",
          "{\"arn\":\"arn:aws:iam::123456789012:user/alice\"}", &t);
    CHECK_INT_EQ(200, t.status);
    const char *pem = jstr(t.json, "dpopKey"), *refresh = jstr(t.json, "refreshToken");
    const char *cid = jstr(t.json, "clientId");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(t.json, "accessToken");
    CHECK(pem && !strncmp(pem, "-----BEGIN EC PRIVATE KEY-----\n", 31));
    CHECK_STR_EQ("arn:aws:signin:::devtools/same-device", cid);
    CHECK_STR_EQ("aws_sigv4", jstr(t.json, "tokenType"));
    CHECK_STR_EQ("123456789012", jstr(at, "accountId"));
    CHECK(jstr(at, "accessKeyId") && jstr(at, "expiresAt") && jstr(t.json, "idToken"));
    if (!pem || !refresh || !cid) {
        emu_resp_free(&t);
        return;
    }
    char url[128];
    snprintf(url, sizeof url, "%s/v1/token", g_emu.base);

    /* Each way a proof can be wrong. */
    oauth_token(NULL, cid, refresh, &r);
    check_signin_error(&r, "ValidationException", "INVALID_REQUEST");
    CHECK(strstr(jstr(r.json, "message"), "DPoP header is missing") != NULL);
    emu_resp_free(&r);
    struct {
        struct proof_opts o;
        const char *why;
    } bad[] = {
        {{.corrupt_signature = 1}, "signature does not verify"},
        {{.htu = "http://127.0.0.1:1/v1/token"}, "htu"},
        {{.htm = "GET"}, "htm"},
        {{.iat_offset = -400}, "iat"},
        {{.iat_offset = 400}, "iat"},
        {{.typ = "JWT"}, "typ"},
        {{.alg = "ES384"}, "alg"},
        {{.jti = ""}, "jti"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *proof = dpop_proof(pem, url, &bad[i].o);
        oauth_token(proof, cid, refresh, &r);
        check_signin_error(&r, "ValidationException", "INVALID_REQUEST");
        CHECK_MSG(jstr(r.json, "message") && strstr(jstr(r.json, "message"), bad[i].why),
                  "case %zu: %s", i, jstr(r.json, "message") ? jstr(r.json, "message") : "");
        emu_resp_free(&r);
        free(proof);
    }
    /* A valid proof with another key: the refresh token is bound to the session's key. */
    EVP_PKEY *other = EVP_EC_gen("P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, other, NULL, NULL, 0, NULL, NULL);
    char *other_pem = NULL;
    long n = BIO_get_mem_data(bio, &other_pem);
    char *other_copy = strndup(other_pem, (size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(other);
    char *proof = dpop_proof(other_copy, url, NULL);
    oauth_token(proof, cid, refresh, &r);
    check_signin_error(&r, "ValidationException", "INVALID_REQUEST");
    emu_resp_free(&r);
    free(proof);
    free(other_copy);
    proof = dpop_proof(pem, url, NULL);
    oauth_token(proof, cid, "unknown-refresh", &r);
    check_signin_error(&r, "AccessDeniedException", "TOKEN_EXPIRED");
    emu_resp_free(&r);
    free(proof);

    /* Success: new credentials for the session's identity and a rotated refresh token. */
    struct proof_opts fixed = {.jti = "c3f1c9a2-0d4e-4a57-9f43-8c2e0f6b1a11"};
    proof = dpop_proof(pem, url, &fixed);
    oauth_token(proof, cid, refresh, &r);
    CHECK_INT_EQ(200, r.status);
    const cJSON *nat = cJSON_GetObjectItemCaseSensitive(r.json, "accessToken");
    CHECK_STR_EQ("aws_sigv4", jstr(r.json, "tokenType"));
    CHECK_INT_EQ(900, cJSON_GetObjectItemCaseSensitive(r.json, "expiresIn")->valueint);
    char next_refresh[256];
    snprintf(next_refresh, sizeof next_refresh, "%s",
             jstr(r.json, "refreshToken") ? jstr(r.json, "refreshToken") : "");
    CHECK(next_refresh[0] && strcmp(next_refresh, refresh) != 0);
    struct creds c;
    memset(&c, 0, sizeof c);
    snprintf(c.akid, sizeof c.akid, "%s", jstr(nat, "accessKeyId") ? jstr(nat, "accessKeyId") : "");
    snprintf(c.secret, sizeof c.secret, "%s",
             jstr(nat, "secretAccessKey") ? jstr(nat, "secretAccessKey") : "");
    snprintf(c.token, sizeof c.token, "%s",
             jstr(nat, "sessionToken") ? jstr(nat, "sessionToken") : "");
    emu_resp_free(&r);
    CHECK_INT_EQ(200, ivs_call(&c, NULL));
    char b[256];
    sts("Action=GetCallerIdentity", &c, 1, &r);
    CHECK_STR_EQ("arn:aws:iam::123456789012:user/alice", xml_text(&r, "Arn", b, sizeof b));
    emu_resp_free(&r);
    /* The proof that won a token cannot be replayed; the old refresh token is retired. */
    oauth_token(proof, cid, next_refresh, &r);
    check_signin_error(&r, "ValidationException", "INVALID_REQUEST");
    CHECK(strstr(jstr(r.json, "message"), "jti") != NULL);
    emu_resp_free(&r);
    free(proof);
    proof = dpop_proof(pem, url, NULL);
    oauth_token(proof, cid, refresh, &r);
    check_signin_error(&r, "AccessDeniedException", "TOKEN_EXPIRED");
    emu_resp_free(&r);
    oauth_token(proof, "arn:aws:signin:::devtools/cross-device", next_refresh, &r);
    check_signin_error(&r, "ValidationException", "INVALID_REQUEST");
    emu_resp_free(&r);
    free(proof);
    emu_resp_free(&t);

    /* A session forced to fail with USER_CREDENTIALS_CHANGED; an expired refresh token. */
    admin("POST", "/_emulator/identity/login-sessions",
          "{\"refreshToken\":\"lrt-changed\",\"error\":\"USER_CREDENTIALS_CHANGED\"}", &t);
    proof = dpop_proof(jstr(t.json, "dpopKey"), url, NULL);
    oauth_token(proof, "arn:aws:signin:::devtools/same-device", "lrt-changed", &r);
    check_signin_error(&r, "AccessDeniedException", "USER_CREDENTIALS_CHANGED");
    emu_resp_free(&r);
    free(proof);
    emu_resp_free(&t);
    admin("POST", "/_emulator/identity/login-sessions",
          "{\"refreshToken\":\"lrt-old\",\"refreshTokenExpiresInSeconds\":-1,"
          "\"credentialsExpiresInSeconds\":-5}",
          &t);
    at = cJSON_GetObjectItemCaseSensitive(t.json, "accessToken");
    memset(&c, 0, sizeof c);
    snprintf(c.akid, sizeof c.akid, "%s", jstr(at, "accessKeyId") ? jstr(at, "accessKeyId") : "");
    snprintf(c.secret, sizeof c.secret, "%s",
             jstr(at, "secretAccessKey") ? jstr(at, "secretAccessKey") : "");
    snprintf(c.token, sizeof c.token, "%s",
             jstr(at, "sessionToken") ? jstr(at, "sessionToken") : "");
    char type[128];
    CHECK_INT_EQ(403, ivs_call(&c, type)); /* the cached credentials have expired */
    CHECK_STR_EQ("ExpiredTokenException", type);
    proof = dpop_proof(jstr(t.json, "dpopKey"), url, NULL);
    oauth_token(proof, "arn:aws:signin:::devtools/same-device", "lrt-old", &r);
    check_signin_error(&r, "AccessDeniedException", "TOKEN_EXPIRED");
    emu_resp_free(&r);
    free(proof);
    emu_resp_free(&t);
    admin("POST", "/_emulator/identity/login-sessions", "{\"dpopKey\":\"not a key\"}", &t);
    CHECK_INT_EQ(400, t.status);
    emu_resp_free(&t);
}

static void test_faults_and_routing(void)
{
    struct emu_resp r;
    char b[256];
    admin("POST", "/_emulator/faults",
          "{\"operation\":\"AssumeRole\",\"status\":400,\"errorCode\":\"Throttling\","
          "\"message\":\"Rate exceeded\"}",
          &r);
    emu_resp_free(&r);
    assume(NULL, NULL, &r);
    check_sts_error(&r, 400, "Throttling");
    CHECK_STR_EQ("Rate exceeded", xml_text(&r, "Message", b, sizeof b));
    emu_resp_free(&r);
    assume(NULL, NULL, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    admin("POST", "/_emulator/faults",
          "{\"operation\":\"GetRoleCredentials\",\"status\":429,\"errorCode\":"
          "\"TooManyRequestsException\"}",
          &r);
    emu_resp_free(&r);
    portal("x", "r", "123456789012", &r);
    CHECK_INT_EQ(429, r.status);
    CHECK_STR_EQ("TooManyRequestsException", r.error_type);
    emu_resp_free(&r);
    /* IVS routing is untouched: "/" without a form, an Action or an sts scope is not STS. */
    struct emu_sign s = {0};
    emu_send(g_curl, &g_emu, "POST", "/", NULL, "{}", &s, &r);
    CHECK_INT_EQ(403, r.status);
    CHECK_STR_EQ("MissingAuthenticationTokenException", r.error_type);
    emu_resp_free(&r);
    admin("GET", "/_emulator/identity/nothing", NULL, &r);
    CHECK_INT_EQ(404, r.status);
    emu_resp_free(&r);
    /* /_emulator/reset forgets the identity state too. */
    admin("POST", "/_emulator/identity/roles", "{\"roleArn\":\"" ROLE "\"}", &r);
    emu_resp_free(&r);
    admin("POST", "/_emulator/reset", NULL, &r);
    emu_resp_free(&r);
    admin("GET", "/_emulator/identity/roles", NULL, &r);
    CHECK_INT_EQ(0, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "roles")));
    emu_resp_free(&r);
}

static unsigned next_rnd(unsigned *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 17;
    *st ^= *st << 5;
    return *st;
}

/* Mangles a copy of text: flips, drops, duplicates and inserts bytes (including the
 * separators the parsers care about). */
static void mutate(const char *text, unsigned *st, char *out, size_t cap)
{
    static const char specials[] = "&=%+.{}[]\":,\\\0\n\xff<>'";
    size_t n = strlen(text);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, text, n);
    int edits = 1 + (int)(next_rnd(st) % 6);
    for (int i = 0; i < edits && n > 0; i++) {
        size_t at = next_rnd(st) % n;
        switch (next_rnd(st) % 4) {
        case 0: out[at] = (char)(next_rnd(st) & 0xff); break;
        case 1:
            memmove(out + at, out + at + 1, n - at - 1);
            n--;
            break;
        case 2:
            if (n + 1 < cap) {
                memmove(out + at + 1, out + at, n - at);
                out[at] = specials[next_rnd(st) % (sizeof specials - 1)];
                n++;
            }
            break;
        default: n = at + 1; break;
        }
    }
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (out[i] == '\0')
            out[i] = '0'; /* the request helpers take C strings */
}

/* Bounded random requests at every identity route; the emulator must keep answering (no
 * crash, no hang) and still serve a correct call afterwards. The seed is printed. */
static void test_identity_fuzz(void)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *env_seed = getenv("IVS_FUZZ_SEED");
    if (env_seed)
        seed = (unsigned)strtoul(env_seed, NULL, 10);
    if (!seed)
        seed = 1;
    printf("# identity fuzz seed %u\n", seed);
    unsigned st = seed;
    struct emu_resp r;
    admin("POST", "/_emulator/identity/login-sessions", "{\"refreshToken\":\"lrt-fuzz\"}", &r);
    char pem[1024];
    snprintf(pem, sizeof pem, "%s", jstr(r.json, "dpopKey") ? jstr(r.json, "dpopKey") : "");
    emu_resp_free(&r);
    char url[128], jwt[1024], m[4096];
    snprintf(url, sizeof url, "%s/v1/token", g_emu.base);
    make_jwt("{\"sub\":\"s\",\"aud\":[\"a\",\"b\"],\"exp\":4000000000}", jwt, sizeof jwt);
    char *proof = dpop_proof(pem, url, NULL);
    char web[2048];
    snprintf(web, sizeof web,
             "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" ROLE
             "&RoleSessionName=w1&DurationSeconds=900&WebIdentityToken=%s",
             jwt);
    const char *forms[] = {
        "Action=AssumeRole&Version=2011-06-15&RoleArn=" ROLE
        "&RoleSessionName=s1&DurationSeconds=900&ExternalId=abc&SerialNumber=arn:aws:iam::"
        "123456789012:mfa/u&TokenCode=123456",
        "Action=GetCallerIdentity&Version=2011-06-15",
        web,
    };
    for (int i = 0; i < 600; i++) {
        unsigned which = next_rnd(&st) % 6;
        if (which < 3) {
            mutate(forms[which], &st, m, sizeof m);
            sts(m, NULL, which != 2, &r);
        } else if (which == 3) {
            mutate("{\"grantType\":\"refresh_token\",\"clientId\":\"c\",\"clientSecret\":\"s\","
                   "\"refreshToken\":\"r\"}",
                   &st, m, sizeof m);
            struct emu_sign s = {.unsigned_request = 1};
            emu_send(g_curl, &g_emu, "POST", "/token", NULL, m, &s, &r);
        } else if (which == 4) {
            char hdr[4200];
            mutate(proof ? proof : "a.b.c", &st, m, sizeof m);
            snprintf(hdr, sizeof hdr, "DPoP: %s", m);
            for (char *c = hdr; *c; c++)
                if (*c == '\r' || *c == '\n')
                    *c = ' ';
            struct emu_sign s = {.unsigned_request = 1, .extra_header = hdr};
            emu_send(g_curl, &g_emu, "POST", "/v1/token", NULL,
                     "{\"clientId\":\"arn:aws:signin:::devtools/same-device\","
                     "\"refreshToken\":\"lrt-fuzz\",\"grantType\":\"refresh_token\"}",
                     &s, &r);
        } else {
            mutate("role_name=ReadOnly&account_id=123456789012", &st, m, sizeof m);
            for (char *c = m; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == '#' || (unsigned char)*c >= 0x7f)
                    *c = 'x';
            struct emu_sign s = {.unsigned_request = 1,
                                 .extra_header = "x-amz-sso_bearer_token: nope"};
            emu_send(g_curl, &g_emu, "GET", "/federation/credentials", m, NULL, &s, &r);
        }
        CHECK_MSG(!r.curl_error && r.status >= 200 && r.status < 500,
                  "request %d: curl error %d, status %ld (seed %u)", i, r.curl_error, r.status,
                  seed);
        emu_resp_free(&r);
        if (harness_current_failed())
            break;
    }
    free(proof);
    sts("Action=GetCallerIdentity&Version=2011-06-15", NULL, 1, &r);
    CHECK_INT_EQ(200, r.status);
    emu_resp_free(&r);
    admin("DELETE", "/_emulator/identity", NULL, &r);
    emu_resp_free(&r);
}

/* --no-auth: STS checks no signature either, and an assumed role still reports itself. */
static void test_no_auth_mode(void)
{
    struct emu_child other;
    const char *args[] = {"--no-auth", "--account", "111122223333", NULL};
    if (emu_start(&other, args) != 0) {
        CHECK_MSG(0, "could not start a second ivs-emulator");
        return;
    }
    struct emu_child saved = g_emu;
    g_emu = other;
    struct emu_resp r;
    char b[256];
    struct creds unknown = {"AKIANOBODY0000000000", "whatever", ""};
    sts("Action=GetCallerIdentity&Version=2011-06-15", &unknown, 1, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK_STR_EQ("arn:aws:iam::111122223333:root", xml_text(&r, "Arn", b, sizeof b));
    emu_resp_free(&r);
    assume(NULL, &unknown, &r);
    CHECK_INT_EQ(200, r.status);
    struct creds c;
    CHECK(take_creds(&r, &c) == 0);
    emu_resp_free(&r);
    sts("Action=GetCallerIdentity&Version=2011-06-15", &c, 1, &r);
    CHECK_STR_EQ("arn:aws:sts::123456789012:assumed-role/app/sess-1",
                 xml_text(&r, "Arn", b, sizeof b));
    emu_resp_free(&r);
    g_emu = saved;
    CHECK_INT_EQ(0, emu_stop(&other, SIGTERM));
}

/* boto3 (sts, sso, sso-oidc clients and botocore's own assume-role, web identity and SSO
 * credential providers) against the emulator: tests/oracle/boto3_identity.py prints one line
 * per check. */
static void test_boto3_oracle(void)
{
    if (system("python3 -c 'import boto3' >/dev/null 2>&1") != 0)
        SKIP("python3 with boto3 is not installed");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 '%s/tests/oracle/boto3_identity.py' '%s' 2>&1",
             harness_root(), g_emu.base);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p)
        return;
    char line[1024];
    int oks = 0, fails = 0;
    while (fgets(line, sizeof line, p)) {
        if (!strncmp(line, "ok ", 3))
            oks++;
        else {
            fails++;
            CHECK_MSG(0, "boto3 oracle: %s", line);
        }
    }
    int st = pclose(p);
    CHECK_INT_EQ(0, st);
    CHECK(oks >= 10);
    CHECK_INT_EQ(0, fails);
}

static void test_aws_cli(void)
{
    if (system("aws --version >/dev/null 2>&1") != 0)
        SKIP("the AWS CLI is not installed");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "env -i PATH=\"$PATH\" HOME=/nonexistent AWS_CONFIG_FILE=/nonexistent "
             "AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_ACCESS_KEY_ID=%s "
             "AWS_SECRET_ACCESS_KEY=%s aws sts get-caller-identity --endpoint-url %s --region "
             "us-west-2 --output json 2>&1",
             EMU_KEY_ID, EMU_SECRET, g_emu.base);
    FILE *p = popen(cmd, "r");
    struct buf out = BUF_INIT;
    char chunk[512];
    size_t n;
    while (p && (n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(&out, chunk, n);
    CHECK(p && pclose(p) == 0);
    cJSON *o = cJSON_Parse(buf_str(&out));
    CHECK_MSG(cJSON_IsObject(o), "aws said: %s", buf_str(&out));
    CHECK_STR_EQ("arn:aws:iam::123456789012:root", jstr(o, "Arn"));
    CHECK_STR_EQ("123456789012", jstr(o, "Account"));
    cJSON_Delete(o);
    buf_free(&out);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(240);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_curl = curl_easy_init();
    if (emu_start(&g_emu, NULL) != 0) {
        printf(
            "not ok - could not start ivs-emulator (is IVS_BUILD set and the emulator built?)\n");
        return harness_finish() || 1;
    }
    g_watchdog_pid = g_emu.pid;
    RUN(test_get_caller_identity_root);
    RUN(test_sts_auth_errors);
    RUN(test_assume_role_and_temp_credentials);
    RUN(test_assume_role_rules);
    RUN(test_web_identity);
    RUN(test_sso);
    RUN(test_signin_dpop);
    RUN(test_faults_and_routing);
    RUN(test_no_auth_mode);
    RUN(test_identity_fuzz);
    RUN(test_boto3_oracle);
    RUN(test_aws_cli);
    int st = emu_stop(&g_emu, SIGTERM);
    if (st != 0)
        printf("not ok - ivs-emulator exited with status %d after SIGTERM\n", st);
    curl_easy_cleanup(g_curl);
    curl_global_cleanup();
    return harness_finish() || st != 0;
}
