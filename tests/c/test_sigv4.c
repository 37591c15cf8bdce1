/* test_sigv4.c: SigV4 against the published vector suites (aws-c-auth, botocore, smithy-rs
 * extras, read from ../shared at run time), against botocore run live as a second signer, and
 * against our own vectors for what the suites leave out. */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "buf.h"
#include "ivs.h"
#include "sigv4.h"

#define EXAMPLE_AKID "AKIDEXAMPLE"
#define EXAMPLE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T_20150830_123600 1440938160LL
#define MAX_HEADERS 32

/* ------------------------------------------------------------------------------------- */
/* Files and request parsing                                                              */
/* ------------------------------------------------------------------------------------- */

static char s_vectors[1024]; /* <root>/../shared/sigv4, or "" when absent */

static int vectors_present(void)
{
    if (!s_vectors[0]) {
        struct stat sb;
        snprintf(s_vectors, sizeof s_vectors, "%s/../shared/sigv4", harness_root());
        if (stat(s_vectors, &sb) != 0 || !S_ISDIR(sb.st_mode))
            snprintf(s_vectors, sizeof s_vectors, "-");
    }
    return strcmp(s_vectors, "-") != 0;
}

/* Reads dir/name; strips one trailing newline (canonical requests, strings to sign and
 * signatures never end in one; some extras files carry it). */
static char *read_expected(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    char *s = harness_read_file(path, &len);
    if (s && len && s[len - 1] == '\n')
        s[len - 1] = '\0';
    return s;
}

struct request {
    char *method;
    char *path;
    char *query;
    size_t header_count;
    char *names[MAX_HEADERS];
    struct buf values[MAX_HEADERS];
    struct ivs_header headers[MAX_HEADERS];
    char *body;
    size_t body_len;
};

static void request_free(struct request *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->names[i]);
        buf_free(&r->values[i]);
    }
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* The aws-c-auth harness's reading of request.txt: the target is everything between the first
 * space and the final " HTTP/1.1"; header continuation lines are appended with their newline
 * and indentation; everything after the first blank line is the body, verbatim. */
static int parse_request(const char *text, size_t len, struct request *r)
{
    memset(r, 0, sizeof *r);
    const char *end = text + len;
    const char *eol = memchr(text, '\n', len);
    if (!eol)
        eol = end;
    const char *sp = memchr(text, ' ', (size_t)(eol - text));
    if (!sp)
        return -1;
    r->method = ivs_strndup(text, (size_t)(sp - text));
    const char *target = sp + 1, *target_end = eol;
    static const char proto[] = " HTTP/1.1";
    if ((size_t)(eol - target) >= sizeof proto - 1 &&
        memcmp(eol - (sizeof proto - 1), proto, sizeof proto - 1) == 0)
        target_end = eol - (sizeof proto - 1);
    const char *q = memchr(target, '?', (size_t)(target_end - target));
    r->path = ivs_strndup(target, (size_t)((q ? q : target_end) - target));
    r->query = q ? ivs_strndup(q + 1, (size_t)(target_end - q - 1)) : ivs_strdup("");

    const char *line = eol < end ? eol + 1 : end;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        if (le == line) { /* blank line: the body follows */
            r->body_len = (size_t)(end - le - 1);
            r->body = ivs_strndup(le + 1, r->body_len);
            break;
        }
        if (*line == ' ' || *line == '\t') {
            if (!r->header_count)
                return -1;
            buf_putc(&r->values[r->header_count - 1], '\n');
            buf_append(&r->values[r->header_count - 1], line, (size_t)(le - line));
        } else {
            const char *colon = memchr(line, ':', (size_t)(le - line));
            if (!colon || r->header_count == MAX_HEADERS)
                return -1;
            r->names[r->header_count] = ivs_strndup(line, (size_t)(colon - line));
            buf_append(&r->values[r->header_count], colon + 1, (size_t)(le - colon - 1));
            r->header_count++;
        }
        line = nl ? nl + 1 : end;
    }
    for (size_t i = 0; i < r->header_count; i++) {
        r->headers[i].name = r->names[i];
        r->headers[i].value = buf_str(&r->values[i]);
    }
    return 0;
}

/* Removes header `name` (any case) and returns its value (caller frees), or NULL. */
static char *take_header(struct request *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++) {
        if (strcasecmp(r->names[i], name) != 0)
            continue;
        char *v = ivs_strdup(buf_str(&r->values[i]));
        free(r->names[i]);
        buf_free(&r->values[i]);
        for (size_t j = i + 1; j < r->header_count; j++) {
            r->names[j - 1] = r->names[j];
            r->values[j - 1] = r->values[j];
        }
        r->header_count--;
        memset(&r->values[r->header_count], 0, sizeof(struct buf));
        for (size_t j = 0; j < r->header_count; j++) {
            r->headers[j].name = r->names[j];
            r->headers[j].value = buf_str(&r->values[j]);
        }
        return v;
    }
    return NULL;
}

static int load_request(const char *dir, const char *name, struct request *r)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    char *text = harness_read_file(path, &len);
    if (!text)
        return -1;
    int rc = parse_request(text, len, r);
    free(text);
    return rc;
}

static void params_from_request(struct sigv4_params *p, const struct request *r)
{
    memset(p, 0, sizeof *p);
    p->method = r->method;
    p->path = r->path;
    p->query = r->query;
    p->headers = r->headers;
    p->header_count = r->header_count;
    p->body = r->body;
    p->body_len = r->body_len;
    p->access_key_id = EXAMPLE_AKID;
    p->secret_access_key = EXAMPLE_SECRET;
    p->normalize_path = 1;
    p->double_encode = 1;
}

static int64_t amz_time(const char *s)
{
    int64_t t = -1;
    CHECK_MSG(sigv4_parse_amz_date(s, &t) == 0, "bad X-Amz-Date %s", s ? s : "(null)");
    return t;
}

/* ------------------------------------------------------------------------------------- */
/* aws-c-auth v4 suite (and the extras in the same format)                                */
/* ------------------------------------------------------------------------------------- */

static char s_case_dir[PATH_MAX];
static int s_case_presign;

static void run_c_auth_case(void)
{
    char *ctx_text = read_expected(s_case_dir, "context.json");
    cJSON *ctx = ctx_text ? cJSON_Parse(ctx_text) : NULL;
    struct request r;
    int parsed = load_request(s_case_dir, "request.txt", &r);
    CHECK_MSG(ctx && parsed == 0, "cannot read %s", s_case_dir);
    if (!ctx || parsed != 0) {
        cJSON_Delete(ctx);
        free(ctx_text);
        if (parsed == 0)
            request_free(&r);
        return;
    }
    struct sigv4_params p;
    params_from_request(&p, &r);
    const cJSON *creds = cJSON_GetObjectItemCaseSensitive(ctx, "credentials");
    p.access_key_id =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(creds, "access_key_id"));
    p.secret_access_key =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(creds, "secret_access_key"));
    p.session_token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(creds, "token"));
    p.region = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "region"));
    p.service = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "service"));
    p.normalize_path = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, "normalize"));
    p.omit_session_token =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, "omit_session_token"));
    int sign_body = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, "sign_body"));
    const char *fixed =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "signed_body_value"));
    if (fixed)
        p.payload_hash = fixed;
    else if (!sign_body)
        p.payload_hash = EMPTY_SHA256;
    p.add_content_sha256 = sign_body && !s_case_presign;
    p.presign = s_case_presign;
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(ctx, "expiration_in_seconds");
    p.expires_s = cJSON_IsNumber(exp) ? (long)exp->valuedouble : 3600;

    /* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
    const char *ts = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "timestamp"));
    char basic[32] = "";
    size_t n = 0;
    for (const char *c = ts ? ts : ""; *c && n + 1 < sizeof basic; c++)
        if (*c != '-' && *c != ':')
            basic[n++] = *c;
    basic[n] = '\0';
    p.time = amz_time(basic);

    const char *mode = s_case_presign ? "query" : "header";
    char creq_name[64], sts_name[64], sig_name[64];
    snprintf(creq_name, sizeof creq_name, "%s-canonical-request.txt", mode);
    snprintf(sts_name, sizeof sts_name, "%s-string-to-sign.txt", mode);
    snprintf(sig_name, sizeof sig_name, "%s-signature.txt", mode);
    char *creq = read_expected(s_case_dir, creq_name);
    char *sts = read_expected(s_case_dir, sts_name);
    char *sig = read_expected(s_case_dir, sig_name);

    struct sigv4_result res;
    struct ivs_error err = {0};
    enum ivs_status rc = sigv4_sign(&p, NULL, &res, &err);
    CHECK_MSG(rc == IVS_OK, "sign failed: %s", err.message ? err.message : "?");
    if (rc == IVS_OK) {
        CHECK_STR_EQ(creq, res.canonical_request);
        CHECK_STR_EQ(sts, res.string_to_sign);
        CHECK_STR_EQ(sig, res.signature);
        if (s_case_presign) {
            char want[96];
            snprintf(want, sizeof want, "X-Amz-Signature=%s", res.signature);
            CHECK(res.query && strstr(res.query, want) != NULL);
            CHECK(res.authorization == NULL);
        } else {
            CHECK(res.authorization && strstr(res.authorization, res.signature) != NULL);
        }
    }
    sigv4_result_cleanup(&res);
    ivs_error_clear(&err);
    free(creq);
    free(sts);
    free(sig);
    cJSON_Delete(ctx);
    free(ctx_text);
    request_free(&r);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted subdirectory names of dir; returns the count, fills *names (caller frees). */
static size_t list_dirs(const char *dir, char ***names)
{
    *names = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            *names = realloc(*names, cap * sizeof **names);
        }
        (*names)[count++] = ivs_strdup(e->d_name);
    }
    closedir(d);
    if (count)
        qsort(*names, count, sizeof **names, compare_names);
    return count;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void run_c_auth_suite(void)
{
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/aws-c-auth-v4", s_vectors);
    char **names;
    size_t n = list_dirs(dir, &names);
    for (size_t i = 0; i < n; i++) {
        for (int presign = 0; presign <= 1; presign++) {
            char label[256];
            snprintf(s_case_dir, sizeof s_case_dir, "%s/%s", dir, names[i]);
            snprintf(label, sizeof label, "aws-c-auth-v4 %s %s", presign ? "query" : "header",
                     names[i]);
            s_case_presign = presign;
            harness_run(label, run_c_auth_case);
        }
    }
    free_names(names, n);
}

/* ------------------------------------------------------------------------------------- */
/* botocore aws4_testsuite                                                                */
/* ------------------------------------------------------------------------------------- */

static char s_case_name[256];

static char *sts_readme_token(void)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/botocore-aws4/post-sts-token/readme.txt", s_vectors);
    char *text = harness_read_file(path, NULL);
    if (!text)
        return NULL;
    /* The example token is the readme's last non-empty line. */
    size_t len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    char *last = strrchr(text, '\n');
    char *tok = ivs_strdup(last ? last + 1 : text);
    free(text);
    return tok;
}

static void run_botocore_case(void)
{
    char file[300];
    struct request r;
    snprintf(file, sizeof file, "%s.req", s_case_name);
    if (load_request(s_case_dir, file, &r) != 0) {
        CHECK_MSG(0, "cannot read %s/%s", s_case_dir, file);
        return;
    }
    snprintf(file, sizeof file, "%s.creq", s_case_name);
    char *creq = read_expected(s_case_dir, file);
    snprintf(file, sizeof file, "%s.sts", s_case_name);
    char *sts = read_expected(s_case_dir, file);
    snprintf(file, sizeof file, "%s.authz", s_case_name);
    char *authz = read_expected(s_case_dir, file);
    CHECK(creq && sts && authz);

    /* The .req already carries X-Amz-Date: it is the signing time, added back by the signer. */
    char *date = take_header(&r, "X-Amz-Date");
    char *token = take_header(&r, "X-Amz-Security-Token");
    struct sigv4_params p;
    params_from_request(&p, &r);
    p.region = "us-east-1";
    p.service = "service";
    p.time = amz_time(date);
    /* A token header in the .req is the session token (the signer adds it back); otherwise,
     * as botocore's harness does, the token comes from the expected canonical request. */
    const char *tl = creq ? strstr(creq, "\nx-amz-security-token:") : NULL;
    if (token) {
        /* taken from the request */
    } else if (tl) {
        tl += strlen("\nx-amz-security-token:");
        token = ivs_strndup(tl, strcspn(tl, "\n"));
    } else if (strcmp(s_case_name, "post-sts-header-after") == 0) {
        token = sts_readme_token();
        p.omit_session_token = 1;
        CHECK(token != NULL);
    }
    p.session_token = token;

    struct sigv4_result res;
    struct ivs_error err = {0};
    enum ivs_status rc = sigv4_sign(&p, NULL, &res, &err);
    CHECK_MSG(rc == IVS_OK, "sign failed: %s", err.message ? err.message : "?");
    if (rc == IVS_OK) {
        CHECK_STR_EQ(creq, res.canonical_request);
        CHECK_STR_EQ(sts, res.string_to_sign);
        CHECK_STR_EQ(authz, res.authorization);
    }
    sigv4_result_cleanup(&res);
    ivs_error_clear(&err);
    free(token);
    free(date);
    free(creq);
    free(sts);
    free(authz);
    request_free(&r);
}

static void run_botocore_dir(const char *dir, const char *prefix)
{
    char **names;
    size_t n = list_dirs(dir, &names);
    for (size_t i = 0; i < n; i++) {
        char sub[2048], req[4096];
        struct stat sb;
        snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
        snprintf(req, sizeof req, "%s/%s.req", sub, names[i]);
        if (stat(req, &sb) != 0) { /* a grouping folder: normalize-path/, post-sts-token/ */
            char pre[256];
            snprintf(pre, sizeof pre, "%s/", names[i]);
            run_botocore_dir(sub, pre);
            continue;
        }
        char label[600];
        snprintf(label, sizeof label, "botocore-aws4 %s%s", prefix, names[i]);
        snprintf(s_case_dir, sizeof s_case_dir, "%s", sub);
        snprintf(s_case_name, sizeof s_case_name, "%s", names[i]);
        harness_run(label, run_botocore_case);
    }
    free_names(names, n);
}

/* ------------------------------------------------------------------------------------- */
/* Extras                                                                                 */
/* ------------------------------------------------------------------------------------- */

static void test_extra_double_url_encode(void)
{
    if (!vectors_present())
        SKIP("../shared/sigv4 is absent");
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/extras/smithy-rs-v4/double-url-encode", s_vectors);
    struct request r;
    if (load_request(dir, "request.txt", &r) != 0) {
        CHECK_MSG(0, "cannot read %s", dir);
        return;
    }
    char *date = take_header(&r, "X-Amz-Date");
    struct sigv4_params p;
    params_from_request(&p, &r);
    p.region = "us-east-2";
    p.service = "lambda";
    p.time = amz_time(date);
    char *creq = read_expected(dir, "header-canonical-request.txt");
    char *sts = read_expected(dir, "header-string-to-sign.txt");
    char *signed_req = read_expected(dir, "header-signed-request.txt");
    struct sigv4_result res;
    CHECK_INT_EQ(IVS_OK, sigv4_sign(&p, NULL, &res, NULL));
    CHECK_STR_EQ(creq, res.canonical_request);
    CHECK_STR_EQ(sts, res.string_to_sign);
    const char *s = signed_req ? strstr(signed_req, "Signature=") : NULL;
    CHECK(s && res.authorization && strncmp(s + 10, res.signature, 64) == 0);
    sigv4_result_cleanup(&res);
    free(creq);
    free(sts);
    free(signed_req);
    free(date);
    request_free(&r);
}

static void test_extra_double_encode_path(void)
{
    if (!vectors_present())
        SKIP("../shared/sigv4 is absent");
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/extras/smithy-rs-v4/double-encode-path", s_vectors);
    struct request r;
    if (load_request(dir, "request.txt", &r) != 0) {
        CHECK_MSG(0, "cannot read %s", dir);
        return;
    }
    /* request.txt carries another date; the canonical request is the trustworthy part, so
     * its own x-amz-date line gives the time. */
    free(take_header(&r, "X-Amz-Date"));
    char *creq = read_expected(dir, "header-canonical-request.txt");
    const char *dl = creq ? strstr(creq, "\nx-amz-date:") : NULL;
    char date[17] = "";
    if (dl)
        snprintf(date, sizeof date, "%.16s", dl + strlen("\nx-amz-date:"));
    struct sigv4_params p;
    params_from_request(&p, &r);
    p.region = "us-east-1";
    p.service = "execute-api";
    p.time = amz_time(date);
    struct sigv4_result res;
    CHECK_INT_EQ(IVS_OK, sigv4_sign(&p, NULL, &res, NULL));
    CHECK_STR_EQ(creq, res.canonical_request);
    sigv4_result_cleanup(&res);
    free(creq);
    request_free(&r);
}

static void run_extra_c_auth_format(const char *sub, int presign)
{
    snprintf(s_case_dir, sizeof s_case_dir, "%s/extras/%s", s_vectors, sub);
    s_case_presign = presign;
    run_c_auth_case();
}

static void test_extra_get_query_plus_header(void)
{
    if (!vectors_present())
        SKIP("../shared/sigv4 is absent");
    run_extra_c_auth_format("smithy-rs-v4/get-query-plus", 0);
}

static void test_extra_get_query_plus_query(void)
{
    if (!vectors_present())
        SKIP("../shared/sigv4 is absent");
    run_extra_c_auth_format("smithy-rs-v4/get-query-plus", 1);
}

static void test_extra_post_unsigned_payload(void)
{
    if (!vectors_present())
        SKIP("../shared/sigv4 is absent");
    run_extra_c_auth_format("aws-c-auth-v4-removed/post-unsigned-payload", 0);
}

/* ------------------------------------------------------------------------------------- */
/* Our own vectors                                                                        */
/* ------------------------------------------------------------------------------------- */

static void base_params(struct sigv4_params *p, const struct ivs_header *headers, size_t n)
{
    memset(p, 0, sizeof *p);
    p->method = "GET";
    p->path = "/";
    p->headers = headers;
    p->header_count = n;
    p->region = "us-east-1";
    p->service = "service";
    p->time = T_20150830_123600;
    p->access_key_id = EXAMPLE_AKID;
    p->secret_access_key = EXAMPLE_SECRET;
    p->normalize_path = 1;
    p->double_encode = 1;
}

/* The third line of the canonical request. */
static char *canonical_query_of(const char *query)
{
    struct ivs_header h[] = {{"Host", "example.amazonaws.com"}};
    struct sigv4_params p;
    base_params(&p, h, 1);
    p.query = query;
    struct sigv4_result res;
    if (sigv4_sign(&p, NULL, &res, NULL) != IVS_OK)
        return NULL;
    const char *l2 = strchr(res.canonical_request, '\n');
    const char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
    char *q = l3 ? ivs_strndup(l3 + 1, strcspn(l3 + 1, "\n")) : NULL;
    sigv4_result_cleanup(&res);
    return q;
}

static void check_query(const char *wire, const char *canonical)
{
    char *got = canonical_query_of(wire);
    CHECK_MSG(got && strcmp(got, canonical) == 0, "query \"%s\": expected \"%s\", got \"%s\"", wire,
              canonical, got ? got : "(null)");
    free(got);
}

static void test_query_empty_values(void)
{
    check_query("k", "k=");
    check_query("k=", "k=");
    check_query("b&a=", "a=&b=");
    check_query("list-type=2&prefix=~objprefix&single&k=&unreserved=-_.~",
                "k=&list-type=2&prefix=~objprefix&single=&unreserved=-_.~");
    check_query("", "");
    check_query("a=1&&b=2&", "a=1&b=2");
}

static void test_query_duplicates_and_encoding(void)
{
    check_query("b=2&a=3&a=1&a=", "a=&a=1&a=3&b=2");
    check_query("Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2");
    check_query("q.options=x&q=y", "q=y&q.options=x");
    check_query("a+b=c d", "a%2Bb=c%20d");
    check_query("x=%7e%2a%20%2B", "x=~%2A%20%2B");
    check_query("x=%zz%4", "x=%25zz%254");
    check_query("eq=a=b", "eq=a%3Db");
}

static char *sign_header_line(const struct ivs_header *h, size_t n, const char *name)
{
    struct sigv4_params p;
    base_params(&p, h, n);
    struct sigv4_result res;
    if (sigv4_sign(&p, NULL, &res, NULL) != IVS_OK)
        return NULL;
    char want[64];
    snprintf(want, sizeof want, "\n%s:", name);
    const char *l = strstr(res.canonical_request, want);
    char *line = l ? ivs_strndup(l + 1, strcspn(l + 1, "\n")) : NULL;
    sigv4_result_cleanup(&res);
    return line;
}

static void test_header_values(void)
{
    struct ivs_header h[] = {{"Host", "example.amazonaws.com"},
                             {"X-Tabs", "\ta\t\tb  \t c\t"},
                             {"X-DUP", " one "},
                             {"x-dup", "two  three"},
                             {"X-Empty", "   "}};
    char *tabs = sign_header_line(h, 5, "x-tabs");
    CHECK_STR_EQ("x-tabs:a b c", tabs);
    char *dup = sign_header_line(h, 5, "x-dup");
    CHECK_STR_EQ("x-dup:one,two three", dup);
    char *emp = sign_header_line(h, 5, "x-empty");
    CHECK_STR_EQ("x-empty:", emp);
    free(tabs);
    free(dup);
    free(emp);
}

static void test_host_port_via_public_api(void)
{
    static const struct {
        const char *url, *host;
    } cases[] = {
        {"http://127.0.0.1:8080/x", "host:127.0.0.1:8080"},
        {"https://Example.COM:443/", "host:example.com"},
        {"http://user:pw@h.example:80/", "host:h.example"},
        {"https://h.example:8443", "host:h.example:8443"},
        {"http://[::1]:4566/a", "host:[::1]:4566"},
        {"https://h.example:80/", "host:h.example:80"},
    };
    struct ivs_credentials creds = {EXAMPLE_AKID, EXAMPLE_SECRET, NULL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ivs_sign_request req = {0};
        req.method = "GET";
        req.url = cases[i].url;
        req.region = "us-east-1";
        req.time = T_20150830_123600;
        struct ivs_signature sig;
        struct ivs_error err = {0};
        CHECK_INT_EQ(IVS_OK, ivs_sign(&req, &creds, &sig, &err));
        char want[128];
        snprintf(want, sizeof want, "\n%s\n", cases[i].host);
        CHECK_MSG(sig.canonical_request && strstr(sig.canonical_request, want), "%s: %s",
                  cases[i].url, sig.canonical_request ? sig.canonical_request : "(null)");
        CHECK(strstr(sig.authorization, "/us-east-1/ivs/aws4_request") != NULL);
        CHECK(sig.security_token == NULL);
        ivs_signature_clear(&sig);
        ivs_error_clear(&err);
    }
    /* A Host the caller set wins, and is not duplicated. */
    struct ivs_header h[] = {{"host", "override.example"}};
    struct ivs_sign_request req = {"GET", "https://h.example/", h, 1, NULL, 0, "us-east-1",
                                   NULL,  T_20150830_123600};
    struct ivs_signature sig;
    CHECK_INT_EQ(IVS_OK, ivs_sign(&req, &creds, &sig, NULL));
    CHECK(strstr(sig.canonical_request, "\nhost:override.example\nx-amz-date") != NULL);
    CHECK_STR_EQ("host;x-amz-date", sig.signed_headers);
    ivs_signature_clear(&sig);
    ivs_signature_clear(NULL);
}

static void expect_usage(const struct sigv4_params *p, const char *what)
{
    struct sigv4_result res;
    struct ivs_error err = {0};
    enum ivs_status rc = sigv4_sign(p, NULL, &res, &err);
    CHECK_MSG(rc == IVS_ERR_USAGE, "%s: expected usage error, got %d", what, (int)rc);
    CHECK_MSG(err.code && strcmp(err.code, "InvalidArgument") == 0, "%s: code %s", what,
              err.code ? err.code : "(null)");
    CHECK(res.canonical_request == NULL && res.authorization == NULL);
    /* The secret never leaks into a message. */
    CHECK(!err.message || !strstr(err.message, EXAMPLE_SECRET));
    ivs_error_clear(&err);
    sigv4_result_cleanup(&res);
}

static void test_rejects_bad_input(void)
{
    static const char *const forbidden_headers[] = {
        "X-Amz-Date", "authorization", "X-AMZ-SECURITY-TOKEN", " Host", "a:b", ""};
    for (size_t i = 0; i < sizeof forbidden_headers / sizeof forbidden_headers[0]; i++) {
        struct ivs_header h[] = {{"Host", "example.amazonaws.com"}, {forbidden_headers[i], "x"}};
        struct sigv4_params p;
        base_params(&p, h, 2);
        expect_usage(&p, forbidden_headers[i]);
    }
    static const char *const forbidden_queries[] = {
        "X-Amz-Signature=abc",      "a=1&X-Amz-Date=20150830T123600Z",
        "x-amz-credential=a",       "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-SignedHeaders=host", "X-Amz-%53ignature=1"};
    for (size_t i = 0; i < sizeof forbidden_queries / sizeof forbidden_queries[0]; i++) {
        struct ivs_header h[] = {{"Host", "example.amazonaws.com"}};
        struct sigv4_params p;
        base_params(&p, h, 1);
        p.query = forbidden_queries[i];
        expect_usage(&p, forbidden_queries[i]);
        p.presign = 1;
        p.expires_s = 60;
        expect_usage(&p, forbidden_queries[i]);
    }
    struct ivs_header h[] = {{"Host", "example.amazonaws.com"}};
    struct sigv4_params p;
    base_params(&p, h, 1);
    p.region = NULL;
    expect_usage(&p, "no region");
    base_params(&p, h, 1);
    p.service = "";
    expect_usage(&p, "no service");
    base_params(&p, h, 1);
    p.method = NULL;
    expect_usage(&p, "no method");
    base_params(&p, h, 1);
    p.secret_access_key = NULL;
    expect_usage(&p, "no secret");
    base_params(&p, h, 1);
    p.access_key_id = "";
    expect_usage(&p, "no key id");
    base_params(&p, h, 1);
    p.presign = 1;
    p.expires_s = 604801;
    expect_usage(&p, "expires too long");
    p.expires_s = 0;
    expect_usage(&p, "expires zero");

    /* The public wrappers. */
    struct ivs_credentials creds = {EXAMPLE_AKID, EXAMPLE_SECRET, NULL};
    struct ivs_credentials nocreds = {EXAMPLE_AKID, NULL, NULL};
    struct ivs_sign_request req = {"GET", "https://h.example/", NULL, 0, NULL,
                                   0,     "us-east-1",          NULL, 0};
    static const char *const bad_urls[] = {
        "h.example/x",  "://h/",        "https:///x", "http://h:99999/",
        "http://h:8a/", "http://[::1/", NULL};
    struct ivs_signature sig;
    struct ivs_error err = {0};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        req.url = bad_urls[i];
        CHECK_MSG(ivs_sign(&req, &creds, &sig, &err) == IVS_ERR_USAGE, "url %s",
                  bad_urls[i] ? bad_urls[i] : "(null)");
        CHECK_STR_EQ("InvalidArgument", err.code);
        ivs_error_clear(&err);
    }
    req.url = "https://h.example/";
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_sign(&req, &nocreds, &sig, &err));
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_sign(&req, NULL, &sig, &err));
    ivs_error_clear(&err);
    req.region = NULL;
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_sign(&req, &creds, &sig, &err));
    ivs_error_clear(&err);
    req.region = "us-east-1";
    char *url = (char *)"sentinel";
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_presign_url(&req, &creds, 0, &url, &err));
    CHECK(url == NULL);
    ivs_error_clear(&err);
    CHECK_INT_EQ(IVS_ERR_USAGE, ivs_presign_url(&req, &creds, 604801, &url, &err));
    ivs_error_clear(&err);
}

static void test_signing_key_and_cache(void)
{
    static const char *const k0830 =
        "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75";
    static const char *const k_iam =
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d";
    struct sigv4_key_cache *c = sigv4_key_cache_new();
    CHECK(c != NULL);
    unsigned char key[32], again[32], next[32], other[32];
    struct buf hex = BUF_INIT;

    CHECK_INT_EQ(0, sigv4_signing_key(c, EXAMPLE_SECRET, "20150830", "us-east-1", "service", key));
    buf_put_hex(&hex, key, 32);
    CHECK_STR_EQ(k0830, buf_str(&hex));
    CHECK_INT_EQ(1,
                 sigv4_signing_key(c, EXAMPLE_SECRET, "20150830", "us-east-1", "service", again));
    CHECK(memcmp(key, again, 32) == 0);
    /* Without a cache the same key comes out, derived every time. */
    CHECK_INT_EQ(
        0, sigv4_signing_key(NULL, EXAMPLE_SECRET, "20150830", "us-east-1", "service", again));
    CHECK(memcmp(key, again, 32) == 0);
    CHECK_INT_EQ(0, sigv4_signing_key(c, EXAMPLE_SECRET, "20120215", "us-east-1", "iam", again));
    buf_reset(&hex);
    buf_put_hex(&hex, again, 32);
    CHECK_STR_EQ(k_iam, buf_str(&hex));

    /* Rollover: the next UTC day misses and gives another key. */
    CHECK_INT_EQ(0, sigv4_signing_key(c, EXAMPLE_SECRET, "20150831", "us-east-1", "service", next));
    CHECK(memcmp(key, next, 32) != 0);
    CHECK_INT_EQ(1,
                 sigv4_signing_key(c, EXAMPLE_SECRET, "20150831", "us-east-1", "service", again));
    /* Another secret never hits, whatever the rest. */
    CHECK_INT_EQ(0,
                 sigv4_signing_key(c, "another-secret", "20150830", "us-east-1", "service", other));
    CHECK(memcmp(key, other, 32) != 0);
    CHECK_INT_EQ(
        0, sigv4_signing_key(c, EXAMPLE_SECRET "x", "20150830", "us-east-1", "service", other));
    /* Region and service are part of the key too. */
    CHECK_INT_EQ(0,
                 sigv4_signing_key(c, EXAMPLE_SECRET, "20150830", "us-west-2", "service", other));
    CHECK_INT_EQ(0, sigv4_signing_key(c, EXAMPLE_SECRET, "20150830", "us-east-1", "ivs", other));
    /* Eviction keeps the cache bounded and still correct. */
    for (int i = 0; i < 40; i++) {
        char region[32];
        snprintf(region, sizeof region, "region-%d", i);
        CHECK_INT_EQ(0, sigv4_signing_key(c, EXAMPLE_SECRET, "20150830", region, "service", other));
    }
    CHECK_INT_EQ(0,
                 sigv4_signing_key(c, EXAMPLE_SECRET, "20150830", "us-east-1", "service", again));
    CHECK(memcmp(key, again, 32) == 0);
    CHECK_INT_EQ(-1,
                 sigv4_signing_key(c, EXAMPLE_SECRET, "2015083", "us-east-1", "service", again));

    /* Through sigv4_sign across UTC midnight: the scope follows the clock and the cached
     * signatures equal uncached ones. */
    struct ivs_header h[] = {{"Host", "example.amazonaws.com"}};
    struct sigv4_params p;
    base_params(&p, h, 1);
    int64_t midnight = T_20150830_123600 - 12 * 3600 - 36 * 60 + 86400; /* 2015-08-31T00:00:00Z */
    int64_t times[] = {midnight - 1, midnight, midnight - 1, midnight};
    for (size_t i = 0; i < 4; i++) {
        struct sigv4_result cached, plain;
        p.time = times[i];
        CHECK_INT_EQ(IVS_OK, sigv4_sign(&p, c, &cached, NULL));
        CHECK_INT_EQ(IVS_OK, sigv4_sign(&p, NULL, &plain, NULL));
        CHECK_STR_EQ(plain.signature, cached.signature);
        CHECK_STR_EQ(times[i] < midnight ? "20150830/us-east-1/service/aws4_request"
                                         : "20150831/us-east-1/service/aws4_request",
                     cached.credential_scope);
        CHECK_STR_EQ(times[i] < midnight ? "20150830T235959Z" : "20150831T000000Z",
                     cached.amz_date);
        sigv4_result_cleanup(&cached);
        sigv4_result_cleanup(&plain);
    }
    /* A key derived around the cache (a region too long for it) must not disturb the key the
     * cache holds ready for the next signature. */
    {
        struct ivs_header hh[] = {{"Host", "example.amazonaws.com"}};
        struct sigv4_params q;
        base_params(&q, hh, 1);
        struct sigv4_result first, second, plain;
        CHECK_INT_EQ(IVS_OK, sigv4_sign(&q, c, &first, NULL));
        unsigned char around[32];
        CHECK_INT_EQ(0, sigv4_signing_key(c, "another-secret", "20150830",
                                          "a-region-name-that-is-far-too-long-for-the-cache-of-"
                                          "signing-keys-xx",
                                          "service", around));
        CHECK_INT_EQ(IVS_OK, sigv4_sign(&q, c, &second, NULL));
        CHECK_INT_EQ(IVS_OK, sigv4_sign(&q, NULL, &plain, NULL));
        CHECK_STR_EQ(plain.signature, first.signature);
        CHECK_STR_EQ(plain.signature, second.signature);
        sigv4_result_cleanup(&first);
        sigv4_result_cleanup(&second);
        sigv4_result_cleanup(&plain);
    }
    buf_free(&hex);
    sigv4_key_cache_free(c);
    sigv4_key_cache_free(NULL);
}

/* A small deterministic generator for the differential test below. */
static uint64_t diff_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void diff_text(uint64_t *s, char *out, size_t max, const char *alphabet)
{
    size_t n = diff_next(s) % max, k = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[diff_next(s) % k];
    out[n] = '\0';
}

/* Signing through one long-lived cache must give exactly what a fresh signer gives, whatever
 * came before: another key, region, token, header set or mode; sigv4_signing_key calls that
 * bypass the cache in between included. */
static void test_property_cache_matches_uncached(void)
{
    static const char *const secrets[] = {EXAMPLE_SECRET, "other-secret", "x", "s3cr3t/+="};
    static const char *const regions[] = {
        "us-east-1", "eu-west-1",
        "a-region-name-that-is-far-too-long-for-the-cache-of-signing-keys-xx"};
    static const char *const tokens[] = {NULL, "", "token-one", "tok en\ttwo  "};
    static const char *const names[] = {"Host", "X-Custom",     "x-custom", " Content-Type ",
                                        "a",    "X-Amz-Target", "zz-last",  "Accept"};
    struct sigv4_key_cache *c = sigv4_key_cache_new();
    CHECK(c != NULL);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int mismatches = 0;
    for (int round = 0; round < 3000 && mismatches < 3; round++) {
        struct ivs_header h[40];
        char values[40][96], path[64], query[160], body[64];
        size_t hn = 1 + diff_next(&seed) % 24;
        h[0].name = "Host";
        h[0].value = "example.amazonaws.com";
        for (size_t i = 1; i < hn; i++) {
            h[i].name = names[diff_next(&seed) % 8];
            diff_text(&seed, values[i], sizeof values[i] - 1, "ab c\t;:,=Z9");
            h[i].value = values[i];
        }
        diff_text(&seed, path, sizeof path - 1, "/a.%20b/../c");
        diff_text(&seed, query, sizeof query - 1, "a=b&c%2Fd+=~");
        diff_text(&seed, body, sizeof body - 1, "{}\"x:1");
        struct sigv4_params p = {0};
        p.method = diff_next(&seed) % 2 ? "GET" : "POST";
        p.path = path;
        p.query = query;
        p.headers = h;
        p.header_count = hn;
        p.body = body;
        p.body_len = strlen(body);
        p.region = regions[diff_next(&seed) % 3];
        p.service = diff_next(&seed) % 2 ? "ivs" : "service";
        /* another day, or another second of the same one (the cached X-Amz-Date) */
        p.time = T_20150830_123600 + (int64_t)(diff_next(&seed) % 3) * 86400 +
                 (int64_t)(diff_next(&seed) % 2);
        p.access_key_id = EXAMPLE_AKID;
        p.secret_access_key = secrets[diff_next(&seed) % 4];
        p.session_token = tokens[diff_next(&seed) % 4];
        p.normalize_path = p.double_encode = (int)(diff_next(&seed) % 2);
        p.add_content_sha256 = (int)(diff_next(&seed) % 2);
        p.omit_session_token = (int)(diff_next(&seed) % 4 == 0);
        p.presign = (int)(diff_next(&seed) % 3 == 0);
        p.expires_s = 300;
        if (p.presign)
            p.header_count = 1;
        if (diff_next(&seed) % 5 == 0) {
            unsigned char key[32];
            sigv4_signing_key(c, secrets[diff_next(&seed) % 4], "20150830",
                              regions[diff_next(&seed) % 3], "ivs", key);
        }
        struct sigv4_result cached, plain;
        enum ivs_status a = sigv4_sign(&p, c, &cached, NULL);
        enum ivs_status b = sigv4_sign(&p, NULL, &plain, NULL);
        CHECK_INT_EQ(b, a);
        if (a == IVS_OK && b == IVS_OK) {
            int same = strcmp(cached.amz_date, plain.amz_date) == 0 &&
                       strcmp(cached.signature, plain.signature) == 0 &&
                       strcmp(cached.canonical_request, plain.canonical_request) == 0 &&
                       strcmp(cached.string_to_sign, plain.string_to_sign) == 0 &&
                       strcmp(p.presign ? cached.query : cached.authorization,
                              p.presign ? plain.query : plain.authorization) == 0;
            CHECK_MSG(same, "round %d: cached and uncached signatures differ", round);
            mismatches += !same;
        }
        sigv4_result_cleanup(&cached);
        sigv4_result_cleanup(&plain);
    }
    sigv4_key_cache_free(c);
}

static void test_helpers(void)
{
    char hex[65], date[17];
    sigv4_sha256_hex("", 0, hex);
    CHECK_STR_EQ(EMPTY_SHA256, hex);
    sigv4_sha256_hex("Param1=value1", 13, hex);
    CHECK_STR_EQ("9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e", hex);

    sigv4_format_amz_date(T_20150830_123600, date);
    CHECK_STR_EQ("20150830T123600Z", date);
    sigv4_format_amz_date(0, date);
    CHECK_STR_EQ("19700101T000000Z", date);
    sigv4_format_amz_date(951782400, date); /* leap day 2000 */
    CHECK_STR_EQ("20000229T000000Z", date);
    sigv4_format_amz_date(4102444799LL, date);
    CHECK_STR_EQ("20991231T235959Z", date);
    int64_t t = 0;
    CHECK_INT_EQ(0, sigv4_parse_amz_date("20150830T123600Z", &t));
    CHECK_INT_EQ(T_20150830_123600, t);
    CHECK_INT_EQ(0, sigv4_parse_amz_date("20000229T000000Z", &t));
    CHECK_INT_EQ(951782400, t);
    CHECK_INT_EQ(-1, sigv4_parse_amz_date("20010229T000000Z", &t));
    CHECK_INT_EQ(-1, sigv4_parse_amz_date("20150830T123600", &t));
    CHECK_INT_EQ(-1, sigv4_parse_amz_date("2015-08-30T12:36:00Z", &t));
    CHECK_INT_EQ(-1, sigv4_parse_amz_date("20151330T123600Z", &t));
    CHECK_INT_EQ(-1, sigv4_parse_amz_date(NULL, &t));
    /* Round trip over many instants, days apart and inside days. */
    for (int64_t x = -86400LL * 365; x < 86400LL * 365 * 130; x += 86400LL * 7 + 3607) {
        char d[17];
        int64_t back = -1;
        sigv4_format_amz_date(x < 0 ? 0 : x, d);
        CHECK(sigv4_parse_amz_date(d, &back) == 0 && back == (x < 0 ? 0 : x));
        if (harness_current_failed())
            break;
    }

    CHECK_INT_EQ(1, sigv4_equal_ct("abc", "abc"));
    CHECK_INT_EQ(0, sigv4_equal_ct("abc", "abd"));
    CHECK_INT_EQ(0, sigv4_equal_ct("abc", "ab"));
    CHECK_INT_EQ(0, sigv4_equal_ct("", "a"));
    CHECK_INT_EQ(1, sigv4_equal_ct("", ""));
    CHECK_INT_EQ(0, sigv4_equal_ct(NULL, ""));

    struct buf b = BUF_INIT;
    sigv4_uri_encode(&b, "a b/+~\xe1\x88\xb4%", 10, 1);
    CHECK_STR_EQ("a%20b/%2B~%E1%88%B4%25", buf_str(&b));
    buf_reset(&b);
    sigv4_uri_encode(&b, "a/b", 3, 0);
    CHECK_STR_EQ("a%2Fb", buf_str(&b));
    buf_reset(&b);
    sigv4_uri_decode(&b, "a%2fb+c%E1%88%B4%", 17);
    CHECK_STR_EQ("a/b+c\xe1\x88\xb4%", buf_str(&b));
    buf_free(&b);
}

static void test_canonical_uri_cases(void)
{
    static const struct {
        const char *path;
        int normalize, double_encode;
        const char *want;
    } cases[] = {
        {"/a/b/../c/./d/", 1, 1, "/a/c/d/"},
        {"/a/b/..", 1, 1, "/a"},
        {"/../..", 1, 1, "/"},
        {"", 1, 1, "/"},
        {"//", 1, 1, "/"},
        {"/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A1%3Achannel%2Fx", 1, 1,
         "/tags/arn%253Aaws%253Aivs%253Aus-west-2%253A1%253Achannel%252Fx"},
        {"/a//b/", 0, 1, "/a//b/"},
        {"/a%20b//c", 0, 0, "/a%20b//c"},
        {"/a%20b//c/./", 1, 0, "/a%20b/c/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ivs_header h[] = {{"Host", "example.amazonaws.com"}};
        struct sigv4_params p;
        base_params(&p, h, 1);
        p.path = cases[i].path;
        p.normalize_path = cases[i].normalize;
        p.double_encode = cases[i].double_encode;
        struct sigv4_result res;
        CHECK_INT_EQ(IVS_OK, sigv4_sign(&p, NULL, &res, NULL));
        const char *l2 = res.canonical_request ? strchr(res.canonical_request, '\n') : NULL;
        char *uri = l2 ? ivs_strndup(l2 + 1, strcspn(l2 + 1, "\n")) : NULL;
        CHECK_MSG(uri && strcmp(uri, cases[i].want) == 0, "path \"%s\": expected %s, got %s",
                  cases[i].path, cases[i].want, uri ? uri : "(null)");
        free(uri);
        sigv4_result_cleanup(&res);
    }
}

/* Normalisation is idempotent and encoding only ever emits unreserved bytes, '/' and
 * uppercase %XX, over a few thousand pseudo-random paths. */
static void test_property_normalise_encode(void)
{
    static const char alphabet[] = {'/', '/', '/', '.', '.', 'a',    'b',    '%', '2', 'f',
                                    'F', ' ', '~', '-', '+', '\xe1', '\x88', '?', ':', '@'};
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (int iter = 0; iter < 4000 && !harness_current_failed(); iter++) {
        char path[48];
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = (size_t)(state >> 59) + (size_t)((state >> 40) & 15);
        for (size_t i = 0; i < len; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            path[i] = alphabet[(state >> 33) % sizeof alphabet];
        }
        path[len] = '\0';
        struct buf once = BUF_INIT, twice = BUF_INIT, enc = BUF_INIT;
        sigv4_normalize_path(&once, path, len);
        sigv4_normalize_path(&twice, buf_str(&once), once.len);
        CHECK_MSG(strcmp(buf_str(&once), buf_str(&twice)) == 0,
                  "not idempotent: \"%s\" -> \"%s\" -> \"%s\"", path, buf_str(&once),
                  buf_str(&twice));
        const char *n = buf_str(&once);
        CHECK_MSG(n[0] == '/' && !strstr(n, "//") && !strstr(n, "/./") && !strstr(n, "/../"),
                  "not normal: \"%s\" -> \"%s\"", path, n);
        sigv4_uri_encode(&enc, path, len, 1);
        const char *e = buf_str(&enc);
        for (size_t i = 0; e[i]; i++) {
            unsigned char c = (unsigned char)e[i];
            if (c == '%') {
                int ok = e[i + 1] && e[i + 2] && strchr("0123456789ABCDEF", e[i + 1]) &&
                         strchr("0123456789ABCDEF", e[i + 2]);
                CHECK_MSG(ok, "bad escape in \"%s\"", e);
                i += 2;
            } else {
                CHECK_MSG(
                    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~/",
                           c) != NULL,
                    "raw byte 0x%02x in \"%s\"", c, e);
            }
            if (harness_current_failed())
                break;
        }
        /* Decoding the encoding gives the path back. */
        struct buf dec = BUF_INIT;
        sigv4_uri_decode(&dec, e, enc.len);
        CHECK(dec.len == len && memcmp(buf_str(&dec), path, len) == 0);
        buf_free(&dec);
        buf_free(&once);
        buf_free(&twice);
        buf_free(&enc);
    }
}

static void test_presign_shape(void)
{
    struct ivs_header h[] = {{"Host", "example.amazonaws.com"}};
    struct sigv4_params p;
    base_params(&p, h, 1);
    p.presign = 1;
    p.expires_s = 900;
    p.query = "b=1&a=%20x";
    p.session_token = "tok/+=";
    struct sigv4_result res;
    CHECK_INT_EQ(IVS_OK, sigv4_sign(&p, NULL, &res, NULL));
    char want[512];
    snprintf(
        want, sizeof want,
        "b=1&a=%%20x&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%%2F20150830"
        "%%2Fus-east-1%%2Fservice%%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=900"
        "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=tok%%2F%%2B%%3D&X-Amz-Signature=%s",
        res.signature);
    CHECK_STR_EQ(want, res.query);
    CHECK(strstr(res.canonical_request, "\na=%20x&b=1&X-Amz-Algorithm=") == NULL);
    CHECK(strstr(res.canonical_request,
                 "X-Amz-Security-Token=tok%2F%2B%3D&X-Amz-SignedHeaders=host&a=%20x&b=1\n") !=
          NULL);
    sigv4_result_cleanup(&res);
}

/* ------------------------------------------------------------------------------------- */
/* botocore as a live second signer                                                       */
/* ------------------------------------------------------------------------------------- */

static int s_botocore = -1; /* unknown, 0 absent, 1 present */

static int botocore_available(void)
{
    if (s_botocore < 0) {
        char script[2048];
        struct stat sb;
        snprintf(script, sizeof script, "%s/tests/oracle/botocore_sign.py", harness_root());
        int rc = system("python3 -c 'import botocore.auth' >/dev/null 2>&1");
        s_botocore = rc == 0 && stat(script, &sb) == 0;
    }
    return s_botocore;
}

/* Runs tests/oracle/botocore_sign.py on spec; returns its parsed JSON output or NULL. */
static cJSON *botocore_sign(const cJSON *spec)
{
    char in_path[] = "/tmp/ivs-sigv4-oracle-XXXXXX";
    int fd = mkstemp(in_path);
    if (fd < 0)
        return NULL;
    char *text = cJSON_PrintUnformatted(spec);
    size_t len = text ? strlen(text) : 0;
    int ok = text && write(fd, text, len) == (ssize_t)len;
    close(fd);
    free(text);
    cJSON *out = NULL;
    if (ok) {
        char cmd[PATH_MAX * 2 + 64];
        snprintf(cmd, sizeof cmd, "python3 '%s/tests/oracle/botocore_sign.py' < '%s'",
                 harness_root(), in_path);
        FILE *f = popen(cmd, "r");
        if (f) {
            struct buf b = BUF_INIT;
            char chunk[4096];
            size_t n;
            while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
                buf_append(&b, chunk, n);
            int status = pclose(f);
            if (status == 0)
                out = cJSON_Parse(buf_str(&b));
            else
                harness_fail(__FILE__, __LINE__, "oracle exited with status %d", status);
            buf_free(&b);
        }
    }
    unlink(in_path);
    return out;
}

struct ivs_vector {
    const char *method, *url, *body, *content_type, *token;
    int64_t time;
};

static cJSON *oracle_spec(const struct ivs_vector *v, const char *region, int presign, long expires)
{
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "method", v->method);
    cJSON_AddStringToObject(spec, "url", v->url);
    cJSON *headers = cJSON_AddArrayToObject(spec, "headers");
    if (v->content_type) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString("Content-Type"));
        cJSON_AddItemToArray(pair, cJSON_CreateString(v->content_type));
        cJSON_AddItemToArray(headers, pair);
    }
    cJSON_AddStringToObject(spec, "body", v->body ? v->body : "");
    cJSON_AddStringToObject(spec, "region", region);
    cJSON_AddStringToObject(spec, "service", "ivs");
    cJSON_AddNumberToObject(spec, "time", (double)v->time);
    cJSON_AddStringToObject(spec, "access_key_id", EXAMPLE_AKID);
    cJSON_AddStringToObject(spec, "secret_access_key", EXAMPLE_SECRET);
    if (v->token)
        cJSON_AddStringToObject(spec, "session_token", v->token);
    cJSON_AddBoolToObject(spec, "presign", presign);
    cJSON_AddNumberToObject(spec, "expires", (double)expires);
    return spec;
}

static const char *json_str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void check_against_botocore(const struct ivs_vector *v)
{
    cJSON *spec = oracle_spec(v, "us-west-2", 0, 0);
    cJSON *want = botocore_sign(spec);
    CHECK_MSG(want != NULL, "botocore gave no answer for %s %s", v->method, v->url);
    struct ivs_header h[] = {{"Content-Type", v->content_type}};
    struct ivs_sign_request req = {v->method,
                                   v->url,
                                   v->content_type ? h : NULL,
                                   v->content_type ? 1 : 0,
                                   v->body,
                                   v->body ? strlen(v->body) : 0,
                                   "us-west-2",
                                   NULL,
                                   v->time};
    struct ivs_credentials creds = {EXAMPLE_AKID, EXAMPLE_SECRET, v->token};
    struct ivs_signature sig;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, ivs_sign(&req, &creds, &sig, &err));
    if (want) {
        CHECK_STR_EQ(json_str(want, "canonical_request"), sig.canonical_request);
        CHECK_STR_EQ(json_str(want, "string_to_sign"), sig.string_to_sign);
        CHECK_STR_EQ(json_str(want, "authorization"), sig.authorization);
    }
    if (v->token)
        CHECK_STR_EQ(v->token, sig.security_token);
    ivs_signature_clear(&sig);
    ivs_error_clear(&err);
    cJSON_Delete(want);
    cJSON_Delete(spec);
}

#define IVS_ENDPOINT "https://ivs.us-west-2.amazonaws.com"
#define CHANNEL_ARN_WIRE "arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdABCD"
#define TOKEN "AQoDYXdzEPT//////////wEXAMPLEtoken+with/slashes=="

static char *untag_url(void)
{
    /* Tag keys as UntagResource sends them: each key encoded once, repeated tagKeys. */
    static const char *const keys[] = {
        "team name", "a+b",     "x=y",        "path/seg",
        "k:v",       "me@host", "cl\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
        "aa",        "Zed"};
    struct buf b = BUF_INIT;
    buf_puts(&b, IVS_ENDPOINT "/tags/" CHANNEL_ARN_WIRE "?");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (i)
            buf_putc(&b, '&');
        buf_puts(&b, "tagKeys=");
        sigv4_uri_encode(&b, keys[i], strlen(keys[i]), 0);
    }
    return buf_steal(&b);
}

static void test_botocore_ivs_requests(void)
{
    if (!botocore_available())
        SKIP("python3 with botocore is not available");
    char *untag = untag_url();
    for (int with_token = 0; with_token <= 1; with_token++) {
        const char *tok = with_token ? TOKEN : NULL;
        struct ivs_vector vectors[] = {
            {"POST", IVS_ENDPOINT "/CreateChannel",
             "{\"name\":\"lobby \xc3\xa9\",\"latencyMode\":\"LOW\",\"type\":\"STANDARD\"}",
             "application/json", tok, 1700000000},
            {"GET", IVS_ENDPOINT "/tags/" CHANNEL_ARN_WIRE, NULL, NULL, tok, 1700000000},
            {"DELETE", untag, NULL, NULL, tok, 1700086399},
            {"POST", "http://127.0.0.1:4566/ListChannels", "{}", "application/json", tok,
             1700086400},
        };
        for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
            check_against_botocore(&vectors[i]);
    }
    free(untag);
}

static void test_botocore_presign(void)
{
    if (!botocore_available())
        SKIP("python3 with botocore is not available");
    static const struct ivs_vector vectors[] = {
        {"GET", IVS_ENDPOINT "/tags/" CHANNEL_ARN_WIRE, NULL, NULL, TOKEN, 1700000000},
        {"GET", IVS_ENDPOINT "/tags/" CHANNEL_ARN_WIRE, NULL, NULL, NULL, 1700000000},
        {"GET", "http://127.0.0.1:4566/ListChannels?maxResults=5", NULL, NULL, NULL, 1700000000},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct ivs_vector *v = &vectors[i];
        cJSON *spec = oracle_spec(v, "us-west-2", 1, 900);
        cJSON *want = botocore_sign(spec);
        CHECK(want != NULL);
        struct ivs_sign_request req = {v->method, v->url,      NULL,  0,      NULL,
                                       0,         "us-west-2", "ivs", v->time};
        struct ivs_credentials creds = {EXAMPLE_AKID, EXAMPLE_SECRET, v->token};
        char *url = NULL;
        struct ivs_error err = {0};
        CHECK_INT_EQ(IVS_OK, ivs_presign_url(&req, &creds, 900, &url, &err));
        if (want)
            CHECK_STR_EQ(json_str(want, "url"), url);
        ivs_free(url);
        ivs_error_clear(&err);
        cJSON_Delete(want);
        cJSON_Delete(spec);
    }
}

/* ------------------------------------------------------------------------------------- */

static void test_vectors_present(void)
{
    if (!vectors_present())
        SKIP("../shared/sigv4 is absent: aws-c-auth, botocore and extras suites not run");
}

int main(void)
{
    RUN(test_helpers);
    RUN(test_signing_key_and_cache);
    RUN(test_property_cache_matches_uncached);
    RUN(test_query_empty_values);
    RUN(test_query_duplicates_and_encoding);
    RUN(test_header_values);
    RUN(test_host_port_via_public_api);
    RUN(test_rejects_bad_input);
    RUN(test_canonical_uri_cases);
    RUN(test_property_normalise_encode);
    RUN(test_presign_shape);
    RUN(test_vectors_present);
    if (vectors_present()) {
        run_c_auth_suite();
        char dir[2048];
        snprintf(dir, sizeof dir, "%s/botocore-aws4", s_vectors);
        run_botocore_dir(dir, "");
    }
    RUN(test_extra_double_url_encode);
    RUN(test_extra_double_encode_path);
    RUN(test_extra_get_query_plus_header);
    RUN(test_extra_get_query_plus_query);
    RUN(test_extra_post_unsigned_payload);
    RUN(test_botocore_ivs_requests);
    RUN(test_botocore_presign);
    return harness_finish();
}
