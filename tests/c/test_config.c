/* test_config.c: resolution of client settings (precedence, files, endpoints, errors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "config.h"
#include "harness.h"
#include "ivs.h"
#include "partitions.h"

/* A fake environment: pairs of name, value, ended by NULL. */
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

static char s_config_path[64], s_credentials_path[64];

static void write_file(char *path_out, const char *text)
{
    strcpy(path_out, "/tmp/ivs-config-XXXXXX");
    int fd = mkstemp(path_out);
    if (fd < 0) {
        harness_fail(__FILE__, __LINE__, "mkstemp failed");
        return;
    }
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        harness_fail(__FILE__, __LINE__, "short write");
    close(fd);
}

/* Writes the two shared files (NULL: a path that does not exist). */
static void files(const char *config_text, const char *credentials_text)
{
    if (config_text)
        write_file(s_config_path, config_text);
    else
        strcpy(s_config_path, "/nonexistent/ivs-config");
    if (credentials_text)
        write_file(s_credentials_path, credentials_text);
    else
        strcpy(s_credentials_path, "/nonexistent/ivs-credentials");
}

static void remove_files(void)
{
    if (strncmp(s_config_path, "/tmp/", 5) == 0)
        unlink(s_config_path);
    if (strncmp(s_credentials_path, "/tmp/", 5) == 0)
        unlink(s_credentials_path);
}

/* Options wired to an environment that starts with the two file paths. */
static void setup(struct ivs_client_options *o, struct env *e)
{
    memset(o, 0, sizeof *o);
    size_t n = 0;
    while (e->vars[n] && strcmp(e->vars[n], "AWS_CONFIG_FILE") != 0)
        n += 2;
    e->vars[n] = "AWS_CONFIG_FILE";
    e->vars[n + 1] = s_config_path;
    e->vars[n + 2] = "AWS_SHARED_CREDENTIALS_FILE";
    e->vars[n + 3] = s_credentials_path;
    e->vars[n + 4] = NULL;
    o->getenv = env_get;
    o->getenv_ud = e;
}

/* Resolves and returns the status; cfg is left resolved (caller cleans up) on success. */
static enum ivs_status resolve(struct env *e, struct ivs_client_options *o, struct ivs_config *cfg,
                               struct ivs_error *err)
{
    setup(o, e);
    return config_resolve(o, cfg, err);
}

static void test_getenv_hook_and_fallback(void)
{
    struct env e = {{"X_IVS_SET", "1", "X_IVS_EMPTY", "", NULL}};
    struct ivs_client_options o = {0};
    o.getenv = env_get;
    o.getenv_ud = &e;
    CHECK_STR_EQ("1", config_getenv(&o, "X_IVS_SET"));
    CHECK(config_getenv(&o, "X_IVS_EMPTY") == NULL);
    CHECK(config_getenv(&o, "PATH") == NULL); /* the hook is the whole environment */
    CHECK(config_getenv(NULL, "PATH") != NULL);
    CHECK(config_getenv(NULL, "X_IVS_SURELY_UNSET_VARIABLE") == NULL);
}

static void test_region_precedence(void)
{
    files("[default]\nregion = eu-west-1\n[profile p]\nregion = ap-south-1\n", NULL);
    struct ivs_config cfg;
    struct ivs_error err = {0};
    struct ivs_client_options o;
    {
        struct env e = {{"AWS_REGION", "us-east-1", "AWS_DEFAULT_REGION", "us-west-1", NULL}};
        setup(&o, &e);
        o.region = "ca-central-1";
        CHECK_INT_EQ(IVS_OK, config_resolve(&o, &cfg, &err));
        CHECK_STR_EQ("ca-central-1", cfg.region);
        config_cleanup(&cfg);
    }
    {
        struct env e = {{"AWS_REGION", "us-east-1", "AWS_DEFAULT_REGION", "us-west-1", NULL}};
        CHECK_INT_EQ(IVS_OK, resolve(&e, &o, &cfg, &err));
        CHECK_STR_EQ("us-east-1", cfg.region);
        config_cleanup(&cfg);
    }
    {
        struct env e = {{"AWS_DEFAULT_REGION", "us-west-1", NULL}};
        CHECK_INT_EQ(IVS_OK, resolve(&e, &o, &cfg, &err));
        CHECK_STR_EQ("us-west-1", cfg.region);
        config_cleanup(&cfg);
    }
    {
        struct env e = {{NULL}};
        CHECK_INT_EQ(IVS_OK, resolve(&e, &o, &cfg, &err));
        CHECK_STR_EQ("eu-west-1", cfg.region);
        CHECK_STR_EQ("default", cfg.profile);
        CHECK(!cfg.profile_explicit);
        config_cleanup(&cfg);
    }
    {
        struct env e = {{"AWS_PROFILE", "p", NULL}};
        CHECK_INT_EQ(IVS_OK, resolve(&e, &o, &cfg, &err));
        CHECK_STR_EQ("ap-south-1", cfg.region);
        CHECK_STR_EQ("p", cfg.profile);
        CHECK(!cfg.profile_explicit);
        config_cleanup(&cfg);
    }
    {
        struct env e = {{"AWS_PROFILE", "default", NULL}};
        setup(&o, &e);
        o.profile = "p";
        CHECK_INT_EQ(IVS_OK, config_resolve(&o, &cfg, &err));
        CHECK_STR_EQ("ap-south-1", cfg.region);
        CHECK(cfg.profile_explicit);
        config_cleanup(&cfg);
    }
    {
        struct env e = {{"AWS_DEFAULT_PROFILE", "p", NULL}};
        CHECK_INT_EQ(IVS_OK, resolve(&e, &o, &cfg, &err));
        CHECK_STR_EQ("p", cfg.profile);
        config_cleanup(&cfg);
    }
    {
        /* botocore reads AWS_DEFAULT_PROFILE first (PROVIDERS.md 7.3). */
        struct env e = {{"AWS_DEFAULT_PROFILE", "p", "AWS_PROFILE", "default", NULL}};
        CHECK_INT_EQ(IVS_OK, resolve(&e, &o, &cfg, &err));
        CHECK_STR_EQ("p", cfg.profile);
        CHECK_STR_EQ("ap-south-1", cfg.region);
        config_cleanup(&cfg);
    }
    {
        /* Set but empty names the profile "", which does not exist. */
        struct env e = {{"AWS_DEFAULT_PROFILE", "", "AWS_PROFILE", "p", NULL}};
        CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&e, &o, &cfg, &err));
        CHECK_STR_EQ("ProfileNotFound", err.code);
        CHECK(err.message && strstr(err.message, "AWS_DEFAULT_PROFILE"));
        ivs_error_clear(&err);
    }
    remove_files();
    ivs_error_clear(&err);
}

static void test_no_region(void)
{
    files("[default]\noutput = json\n", NULL);
    struct env e = {{NULL}};
    struct ivs_client_options o;
    struct ivs_config cfg;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&e, &o, &cfg, &err));
    CHECK_STR_EQ("NoRegion", err.code);
    CHECK(err.message && strstr(err.message, "AWS_REGION"));
    CHECK(err.message && strstr(err.message, "region option"));
    CHECK(cfg.region == NULL && cfg.profile == NULL);
    struct env bad = {{"AWS_REGION", "us-east-1.evil.com/", NULL}};
    CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&bad, &o, &cfg, &err));
    CHECK_STR_EQ("InvalidRegion", err.code);
    remove_files();
    ivs_error_clear(&err);
}

static void test_profile_not_found(void)
{
    files("[profile inconfig]\nregion = us-east-1\n", "[increds]\naws_access_key_id = A\n");
    struct ivs_client_options o;
    struct ivs_config cfg;
    struct ivs_error err = {0};
    struct env e1 = {{"AWS_PROFILE", "missing", "AWS_REGION", "us-east-1", NULL}};
    CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&e1, &o, &cfg, &err));
    CHECK_STR_EQ("ProfileNotFound", err.code);
    CHECK(err.message && strstr(err.message, "missing") && strstr(err.message, "AWS_PROFILE"));
    struct env e2 = {{"AWS_REGION", "us-east-1", NULL}};
    setup(&o, &e2);
    o.profile = "gone";
    CHECK_INT_EQ(IVS_ERR_CONFIG, config_resolve(&o, &cfg, &err));
    CHECK_STR_EQ("ProfileNotFound", err.code);
    /* A profile that exists only in the credentials file is found. */
    struct env e3 = {{"AWS_PROFILE", "increds", "AWS_REGION", "us-east-1", NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&e3, &o, &cfg, &err));
    config_cleanup(&cfg);
    struct env e4 = {{"AWS_PROFILE", "inconfig", NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&e4, &o, &cfg, &err));
    config_cleanup(&cfg);
    /* "default" may be absent, even when named. */
    struct env e5 = {{"AWS_PROFILE", "default", "AWS_REGION", "us-east-1", NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&e5, &o, &cfg, &err));
    config_cleanup(&cfg);
    /* A config-file section without the "profile " prefix is not the profile. */
    remove_files();
    files("[plain]\nregion = us-east-1\n", NULL);
    struct env e6 = {{"AWS_PROFILE", "plain", "AWS_REGION", "us-east-1", NULL}};
    CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&e6, &o, &cfg, &err));
    remove_files();
    ivs_error_clear(&err);
}

static void test_credentials_file_wins_over_config(void)
{
    files("[profile p]\nregion = eu-west-1\nretry_mode = legacy\n", "[p]\nregion = us-west-2\n");
    struct env e = {{"AWS_PROFILE", "p", NULL}};
    struct ivs_client_options o;
    struct ivs_config cfg;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, resolve(&e, &o, &cfg, &err));
    CHECK_STR_EQ("us-west-2", cfg.region);
    CHECK_STR_EQ("legacy", cfg.retry_mode);
    CHECK_STR_EQ("us-west-2", config_profile_value(&cfg, "region"));
    config_cleanup(&cfg);
    remove_files();
}

static void test_default_file_paths_use_home(void)
{
    struct ivs_client_options o = {0};
    struct env e = {{"HOME", "/nonexistent/home", "AWS_REGION", "us-east-1", NULL}};
    o.getenv = env_get;
    o.getenv_ud = &e;
    struct ivs_config cfg;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, config_resolve(&o, &cfg, &err));
    CHECK_STR_EQ("/nonexistent/home/.aws/config", cfg.config_path);
    CHECK_STR_EQ("/nonexistent/home/.aws/credentials", cfg.credentials_path);
    CHECK(cfg.config_file == NULL && cfg.credentials_file == NULL);
    config_cleanup(&cfg);
    struct env e2 = {{"HOME", "/h", "AWS_CONFIG_FILE", "~/cfg", "AWS_REGION", "us-east-1", NULL}};
    o.getenv_ud = &e2;
    CHECK_INT_EQ(IVS_OK, config_resolve(&o, &cfg, &err));
    CHECK_STR_EQ("/h/cfg", cfg.config_path);
    config_cleanup(&cfg);
    struct env e3 = {{"AWS_REGION", "us-east-1", NULL}}; /* no HOME: no default paths */
    o.getenv_ud = &e3;
    CHECK_INT_EQ(IVS_OK, config_resolve(&o, &cfg, &err));
    CHECK(cfg.config_path == NULL && cfg.credentials_path == NULL);
    config_cleanup(&cfg);
}

/* Resolves with the given files and environment, returning the endpoint (static copy). */
static const char *endpoint_for(struct env *e, const char *explicit_endpoint, int fips, int dual,
                                const char **source, struct ivs_error *err)
{
    static char result[256];
    struct ivs_client_options o;
    struct ivs_config cfg;
    setup(&o, e);
    o.endpoint = explicit_endpoint;
    o.use_fips_endpoint = fips;
    o.use_dualstack_endpoint = dual;
    if (config_resolve(&o, &cfg, err) != IVS_OK)
        return NULL;
    snprintf(result, sizeof result, "%s", cfg.endpoint);
    static char source_copy[160];
    snprintf(source_copy, sizeof source_copy, "%s", cfg.endpoint_source);
    if (source)
        *source = source_copy;
    config_cleanup(&cfg);
    return result;
}

static void test_endpoint_precedence(void)
{
    files(
        "[default]\nregion = us-west-2\nservices = local\nendpoint_url = http://profile.example/\n"
        "[profile plain]\nregion = us-west-2\nendpoint_url = http://plain.example\n"
        "[services local]\nivs =\n  endpoint_url = http://services.example:8080/\n"
        "s3 =\n  endpoint_url = http://s3.example\n",
        NULL);
    struct ivs_error err = {0};
    const char *src = NULL;
    struct env all = {{"AWS_ENDPOINT_URL_IVS", "http://ivs-env.example", "AWS_ENDPOINT_URL",
                       "http://global-env.example", NULL}};
    CHECK_STR_EQ("http://explicit.example:1234",
                 endpoint_for(&all, "http://explicit.example:1234/", 0, 0, &src, &err));
    CHECK_STR_EQ("explicit", src);
    CHECK_STR_EQ("http://ivs-env.example", endpoint_for(&all, NULL, 0, 0, &src, &err));
    CHECK_STR_EQ("env AWS_ENDPOINT_URL_IVS", src);
    struct env global = {{"AWS_ENDPOINT_URL", "https://global-env.example/base//", NULL}};
    CHECK_STR_EQ("https://global-env.example/base", endpoint_for(&global, NULL, 0, 0, &src, &err));
    CHECK_STR_EQ("env AWS_ENDPOINT_URL", src);
    struct env none = {{NULL}};
    CHECK_STR_EQ("http://services.example:8080", endpoint_for(&none, NULL, 0, 0, &src, &err));
    CHECK(src && strstr(src, "services"));
    struct env plain = {{"AWS_PROFILE", "plain", NULL}};
    CHECK_STR_EQ("http://plain.example", endpoint_for(&plain, NULL, 0, 0, &src, &err));
    CHECK_STR_EQ("profile endpoint_url", src);

    /* The ignore flag drops env and file endpoints, never the explicit one. */
    struct env ignore = {{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", "AWS_ENDPOINT_URL_IVS",
                          "http://ivs-env.example", NULL}};
    CHECK_STR_EQ("https://ivs.us-west-2.amazonaws.com",
                 endpoint_for(&ignore, NULL, 0, 0, &src, &err));
    CHECK_STR_EQ("default", src);
    CHECK_STR_EQ("http://explicit.example",
                 endpoint_for(&ignore, "http://explicit.example", 0, 0, &src, &err));
    struct env not_ignored = {{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", NULL}};
    CHECK_STR_EQ("http://services.example:8080",
                 endpoint_for(&not_ignored, NULL, 0, 0, &src, &err));
    remove_files();

    files("[default]\nregion = us-west-2\nendpoint_url = http://profile.example\n"
          "ignore_configured_endpoint_urls = true\n",
          NULL);
    CHECK_STR_EQ("https://ivs.us-west-2.amazonaws.com",
                 endpoint_for(&none, NULL, 0, 0, &src, &err));
    CHECK_STR_EQ("https://ivs.us-west-2.amazonaws.com", endpoint_for(&all, NULL, 0, 0, &src, &err));
    /* The environment's false beats the profile's true. */
    CHECK_STR_EQ("http://profile.example", endpoint_for(&not_ignored, NULL, 0, 0, &src, &err));
    remove_files();
    ivs_error_clear(&err);
}

/* A profile whose `services` names a missing or empty section is an error, but only when the
 * lookup gets that far (botocore's ConfiguredEndpointProvider). */
static void test_services_section_must_exist(void)
{
    files("[default]\nregion = us-west-2\nservices = nope\n"
          "[profile empty]\nregion = us-west-2\nservices = blank\n"
          "[profile other]\nregion = us-west-2\nservices = s3only\n"
          "[profile own]\nregion = us-west-2\nservices = nope\nendpoint_url = http://own\n"
          "[services blank]\n"
          "[services s3only]\ns3 =\n  endpoint_url = http://s3.example\n",
          NULL);
    struct ivs_error err = {0};
    const char *src = NULL;
    struct env none = {{NULL}};
    CHECK(endpoint_for(&none, NULL, 0, 0, &src, &err) == NULL);
    CHECK_STR_EQ("InvalidConfig", err.code);
    CHECK(err.message && strstr(err.message, "services = nope") &&
          strstr(err.message, "[services nope]"));
    ivs_error_clear(&err);
    struct env empty = {{"AWS_PROFILE", "empty", NULL}};
    CHECK(endpoint_for(&empty, NULL, 0, 0, &src, &err) == NULL);
    CHECK_STR_EQ("InvalidConfig", err.code);
    ivs_error_clear(&err);
    /* The profile's own endpoint_url comes after the services section: still an error. */
    struct env own = {{"AWS_PROFILE", "own", NULL}};
    CHECK(endpoint_for(&own, NULL, 0, 0, &src, &err) == NULL);
    ivs_error_clear(&err);
    /* A section without an ivs entry is fine. */
    struct env other = {{"AWS_PROFILE", "other", NULL}};
    CHECK_STR_EQ("https://ivs.us-west-2.amazonaws.com",
                 endpoint_for(&other, NULL, 0, 0, &src, &err));
    /* Not reached: an environment endpoint, the ignore flag, an explicit endpoint. */
    struct env env_url = {{"AWS_ENDPOINT_URL", "http://env.example", NULL}};
    CHECK_STR_EQ("http://env.example", endpoint_for(&env_url, NULL, 0, 0, &src, &err));
    struct env ivs_url = {{"AWS_ENDPOINT_URL_IVS", "http://ivs.example", NULL}};
    CHECK_STR_EQ("http://ivs.example", endpoint_for(&ivs_url, NULL, 0, 0, &src, &err));
    struct env ignore = {{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", NULL}};
    CHECK_STR_EQ("https://ivs.us-west-2.amazonaws.com",
                 endpoint_for(&ignore, NULL, 0, 0, &src, &err));
    CHECK_STR_EQ("http://explicit", endpoint_for(&none, "http://explicit", 0, 0, &src, &err));
    remove_files();
    ivs_error_clear(&err);
}

/* The partition table generated from models/partitions.json: membership by name or regex in
 * file order, the aws fallback, and the suffixes it gives the endpoints. */
static void test_partitions(void)
{
    static const struct {
        const char *region, *partition;
    } cases[] = {
        {"us-east-1", "aws"},
        {"aws-global", "aws"},
        {"xx-unknown-1", "aws"},
        {"cn-north-1", "aws-cn"},
        {"eusc-de-east-1", "aws-eusc"},
        {"eusc-fr-east-1", "aws"},
        {"us-iso-east-1", "aws-iso"},
        {"aws-iso-global", "aws-iso"},
        {"us-isob-east-1", "aws-iso-b"},
        {"eu-isoe-west-1", "aws-iso-e"},
        {"us-isof-south-1", "aws-iso-f"},
        {"us-gov-west-1", "aws-us-gov"},
        {"us-gov-east-1", "aws-us-gov"},
        {"il-central-1", "aws"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR_EQ(cases[i].partition, partition_for_region(cases[i].region)->id);
    files(NULL, NULL);
    struct ivs_error err = {0};
    static const struct {
        const char *region;
        int fips, dual;
        const char *url;
    } urls[] = {
        {"eusc-de-east-1", 0, 0, "https://ivs.eusc-de-east-1.amazonaws.eu"},
        {"eusc-de-east-1", 0, 1, "https://ivs.eusc-de-east-1.api.amazonwebservices.eu"},
        {"eusc-fr-east-1", 0, 0, "https://ivs.eusc-fr-east-1.amazonaws.com"},
        {"us-iso-east-1", 0, 0, "https://ivs.us-iso-east-1.c2s.ic.gov"},
        {"us-iso-east-1", 0, 1, "https://ivs.us-iso-east-1.api.aws.ic.gov"},
        {"us-isob-east-1", 0, 1, "https://ivs.us-isob-east-1.api.aws.scloud"},
        {"eu-isoe-west-1", 0, 0, "https://ivs.eu-isoe-west-1.cloud.adc-e.uk"},
        {"eu-isoe-west-1", 1, 1, "https://ivs-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk"},
        {"us-isof-south-1", 0, 1, "https://ivs.us-isof-south-1.api.aws.hci.ic.gov"},
        {"xx-unknown-1", 0, 0, "https://ivs.xx-unknown-1.amazonaws.com"},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct env e = {{"AWS_REGION", urls[i].region, NULL}};
        CHECK_STR_EQ(urls[i].url, endpoint_for(&e, NULL, urls[i].fips ? 1 : -1,
                                               urls[i].dual ? 1 : -1, NULL, &err));
    }
    remove_files();
    ivs_error_clear(&err);
}

/* core/src/partitions_gen.c is what the generator makes of models/partitions.json, and that
 * file is botocore's (the reference copy in ../shared, when present). */
static void test_partitions_are_generated_from_the_model(void)
{
    if (system("lua5.4 -e 'require(\"cjson\")' >/dev/null 2>&1") != 0)
        SKIP("lua5.4 with lua-cjson is not installed");
    char cmd[2048];
    const char *root = harness_root();
    snprintf(cmd, sizeof cmd,
             "cd '%s' && lua5.4 scripts/gen-partitions.lua models/partitions.json | "
             "cmp -s - core/src/partitions_gen.c",
             root);
    CHECK_MSG(system(cmd) == 0, "core/src/partitions_gen.c is stale: run make partitions");
    char shared[1024];
    snprintf(shared, sizeof shared, "%s/../shared/identity/partitions.json", root);
    if (access(shared, R_OK) != 0)
        return;
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s/models/partitions.json'", shared, root);
    CHECK_MSG(system(cmd) == 0, "models/partitions.json differs from %s", shared);
}

/* The same files and environment through botocore (tests/oracle/botocore_config.py) and
 * through config_resolve: the same profile, region and endpoint, or both refuse. Scenarios
 * avoid the deliberate differences (AWS_REGION, inline comments, duplicate sections, BOM,
 * dual-stack in the ISO partitions, where botocore 1.43's legacy resolver answers api.aws or
 * raises and we follow the rule set with partitions.json). */
static void test_resolution_matches_botocore(void)
{
    if (system("python3 -c 'import botocore' >/dev/null 2>&1") != 0)
        SKIP("python3 with botocore is not installed");
    static const struct {
        const char *config, *credentials;
        const char *env[8];
    } sc[] = {
        {"[profile a]\nregion = eu-west-1\n[profile b]\nregion = ap-south-1\n",
         NULL,
         {"AWS_DEFAULT_PROFILE", "a", "AWS_PROFILE", "b"}},
        {"[profile b]\nregion = ap-south-1\n", NULL, {"AWS_PROFILE", "b"}},
        {"[default]\nregion = us-east-2\n", NULL, {"AWS_DEFAULT_PROFILE", ""}},
        {"[profile 'my dev']\nregion = eu-west-2\n", NULL, {"AWS_PROFILE", "my dev"}},
        {"[profile \"my prod\"]\nregion = eu-west-3\n", NULL, {"AWS_PROFILE", "my prod"}},
        {"[profile my dev]\nregion = eu-west-2\n", NULL, {"AWS_PROFILE", "my dev"}},
        {"[profilex quirk]\nregion = sa-east-1\n", NULL, {"AWS_PROFILE", "quirk"}},
        {"[profile\tdev]\nregion = ca-central-1\n", NULL, {"AWS_PROFILE", "dev"}},
        {"[ profile dev ]\nregion = ca-central-1\n", NULL, {"AWS_PROFILE", "dev"}},
        {"[default]\nregion = us-west-2\nservices = nope\n", NULL, {NULL}},
        {"[default]\nregion = us-west-2\nservices = blank\n[services blank]\n", NULL, {NULL}},
        {"[default]\nregion = us-west-2\nservices = nope\n",
         NULL,
         {"AWS_ENDPOINT_URL", "http://localhost:4566"}},
        {"[default]\nregion = us-west-2\nservices = 'my local'\n"
         "[services 'my local']\nivs =\n  endpoint_url = http://127.0.0.1:9\n",
         NULL,
         {NULL}},
        {"[default]\nregion = us-west-2\nservices = s\n[services s]\ns3 =\n"
         "  endpoint_url = http://s3\n",
         NULL,
         {NULL}},
        {"[default]\nregion = us-west-2\nservices = nope\n",
         NULL,
         {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}},
        {NULL, NULL, {"AWS_DEFAULT_REGION", "eusc-de-east-1"}},
        {NULL,
         NULL,
         {"AWS_DEFAULT_REGION", "eusc-de-east-1", "AWS_USE_DUALSTACK_ENDPOINT", "true"}},
        {NULL, NULL, {"AWS_DEFAULT_REGION", "eusc-fr-east-1"}},
        {NULL,
         NULL,
         {"AWS_DEFAULT_REGION", "cn-northwest-1", "AWS_USE_DUALSTACK_ENDPOINT", "true"}},
        {NULL, NULL, {"AWS_DEFAULT_REGION", "us-iso-east-1"}},
        {NULL, NULL, {"AWS_DEFAULT_REGION", "eu-isoe-west-1"}},
        {NULL, NULL, {"AWS_DEFAULT_REGION", "us-gov-west-1", "AWS_USE_FIPS_ENDPOINT", "true"}},
        {NULL, NULL, {"AWS_DEFAULT_REGION", "xx-unknown-1"}},
        {"[default]\nREGION = us-east-2\n", NULL, {NULL}},
        {"[default]\nregion = eu-north-1\n", "[default]\nregion = eu-south-1\n", {NULL}},
    };
    size_t n = sizeof sc / sizeof sc[0];
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (sc[i].config)
            cJSON_AddStringToObject(o, "config", sc[i].config);
        if (sc[i].credentials)
            cJSON_AddStringToObject(o, "credentials", sc[i].credentials);
        cJSON *env = cJSON_AddObjectToObject(o, "env");
        for (size_t j = 0; j < 8 && sc[i].env[j]; j += 2)
            cJSON_AddStringToObject(env, sc[i].env[j], sc[i].env[j + 1]);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    char in_path[] = "/tmp/ivs-config-oracle-XXXXXX";
    int fd = mkstemp(in_path);
    CHECK(fd >= 0 && text);
    if (fd < 0 || !text) {
        free(text);
        return;
    }
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    free(text);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 '%s/tests/oracle/botocore_config.py' < '%s'", harness_root(),
             in_path);
    FILE *p = popen(cmd, "r");
    char *out = NULL;
    size_t cap = 0, len = 0;
    char chunk[4096];
    size_t got;
    while (p && (got = fread(chunk, 1, sizeof chunk, p)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            out = realloc(out, cap);
        }
        memcpy(out + len, chunk, got);
        len += got;
        out[len] = '\0';
    }
    CHECK(p && pclose(p) == 0);
    unlink(in_path);
    cJSON *results = out ? cJSON_Parse(out) : NULL;
    CHECK_MSG(cJSON_GetArraySize(results) == (int)n, "oracle said: %.300s", out ? out : "");
    for (size_t i = 0; i < n && cJSON_GetArraySize(results) == (int)n; i++) {
        const cJSON *want = cJSON_GetArrayItem(results, (int)i);
        files(sc[i].config, sc[i].credentials);
        struct env e = {{NULL}};
        size_t k = 0;
        for (size_t j = 0; j < 8 && sc[i].env[j]; j++)
            e.vars[k++] = sc[i].env[j];
        e.vars[k] = NULL;
        struct ivs_client_options o;
        struct ivs_config cfg;
        struct ivs_error err = {0};
        enum ivs_status st = resolve(&e, &o, &cfg, &err);
        const cJSON *werr = cJSON_GetObjectItemCaseSensitive(want, "error");
        if (werr) {
            CHECK_MSG(st != IVS_OK, "scenario %zu: botocore raised %s, we resolved %s", i,
                      werr->valuestring, st == IVS_OK ? cfg.endpoint : "");
        } else {
            const char *wp = cJSON_GetObjectItemCaseSensitive(want, "profile")->valuestring;
            const cJSON *wr = cJSON_GetObjectItemCaseSensitive(want, "region");
            const char *we = cJSON_GetObjectItemCaseSensitive(want, "endpoint")->valuestring;
            CHECK_MSG(st == IVS_OK, "scenario %zu: we refused (%s), botocore resolved %s", i,
                      err.message ? err.message : "?", we);
            if (st == IVS_OK) {
                CHECK_MSG(!strcmp(wp, cfg.profile), "scenario %zu: profile %s, botocore %s", i,
                          cfg.profile, wp);
                CHECK_MSG(cJSON_IsString(wr) && !strcmp(wr->valuestring, cfg.region),
                          "scenario %zu: region %s", i, cfg.region);
                CHECK_MSG(!strcmp(we, cfg.endpoint), "scenario %zu: endpoint %s, botocore %s", i,
                          cfg.endpoint, we);
            }
        }
        if (st == IVS_OK)
            config_cleanup(&cfg);
        ivs_error_clear(&err);
        remove_files();
    }
    cJSON_Delete(results);
    free(out);
}

static void test_endpoint_variants(void)
{
    files(NULL, NULL);
    struct ivs_error err = {0};
    struct env us = {{"AWS_REGION", "us-east-1", NULL}};
    CHECK_STR_EQ("https://ivs.us-east-1.amazonaws.com", endpoint_for(&us, NULL, 0, 0, NULL, &err));
    CHECK_STR_EQ("https://ivs-fips.us-east-1.amazonaws.com",
                 endpoint_for(&us, NULL, 1, 0, NULL, &err));
    CHECK_STR_EQ("https://ivs.us-east-1.api.aws", endpoint_for(&us, NULL, 0, 1, NULL, &err));
    CHECK_STR_EQ("https://ivs-fips.us-east-1.api.aws", endpoint_for(&us, NULL, 1, 1, NULL, &err));
    CHECK_STR_EQ("https://ivs.us-east-1.amazonaws.com",
                 endpoint_for(&us, NULL, -1, -1, NULL, &err));
    struct env cn = {{"AWS_REGION", "cn-north-1", NULL}};
    CHECK_STR_EQ("https://ivs.cn-north-1.amazonaws.com.cn",
                 endpoint_for(&cn, NULL, 0, 0, NULL, &err));
    CHECK_STR_EQ("https://ivs-fips.cn-north-1.amazonaws.com.cn",
                 endpoint_for(&cn, NULL, 1, 0, NULL, &err));
    CHECK_STR_EQ("https://ivs.cn-north-1.api.amazonwebservices.com.cn",
                 endpoint_for(&cn, NULL, 0, 1, NULL, &err));
    CHECK_STR_EQ("https://ivs-fips.cn-north-1.api.amazonwebservices.com.cn",
                 endpoint_for(&cn, NULL, 1, 1, NULL, &err));
    struct env gov = {{"AWS_REGION", "us-gov-west-1", NULL}};
    CHECK_STR_EQ("https://ivs-fips.us-gov-west-1.amazonaws.com",
                 endpoint_for(&gov, NULL, 1, 0, NULL, &err));

    /* Environment and profile flags. */
    struct env env_flags = {{"AWS_REGION", "us-east-1", "AWS_USE_FIPS_ENDPOINT", "true",
                             "AWS_USE_DUALSTACK_ENDPOINT", "True", NULL}};
    CHECK_STR_EQ("https://ivs-fips.us-east-1.api.aws",
                 endpoint_for(&env_flags, NULL, 0, 0, NULL, &err));
    /* Explicit off beats the environment. */
    CHECK_STR_EQ("https://ivs.us-east-1.amazonaws.com",
                 endpoint_for(&env_flags, NULL, -1, -1, NULL, &err));
    struct env bad_flag = {{"AWS_REGION", "us-east-1", "AWS_USE_FIPS_ENDPOINT", "yes", NULL}};
    CHECK(endpoint_for(&bad_flag, NULL, 0, 0, NULL, &err) == NULL);
    CHECK_STR_EQ("InvalidConfig", err.code);
    CHECK(err.message && strstr(err.message, "AWS_USE_FIPS_ENDPOINT"));

    /* A custom endpoint cannot be combined with FIPS or dual-stack. */
    CHECK(endpoint_for(&us, "http://127.0.0.1:1", 1, 0, NULL, &err) == NULL);
    CHECK_INT_EQ(IVS_ERR_CONFIG, err.kind);
    CHECK(err.message && strstr(err.message, "FIPS"));
    CHECK(endpoint_for(&us, "http://127.0.0.1:1", 0, 1, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "dual-stack"));
    struct env env_custom = {{"AWS_REGION", "us-east-1", "AWS_ENDPOINT_URL", "http://x.example",
                              "AWS_USE_DUALSTACK_ENDPOINT", "true", NULL}};
    CHECK(endpoint_for(&env_custom, NULL, 0, 0, NULL, &err) == NULL);
    CHECK(err.message && strstr(err.message, "AWS_ENDPOINT_URL"));
    remove_files();

    files("[default]\nregion = eu-central-1\nuse_fips_endpoint = true\nuse_dualstack_endpoint = "
          "false\n",
          NULL);
    struct env none = {{NULL}};
    CHECK_STR_EQ("https://ivs-fips.eu-central-1.amazonaws.com",
                 endpoint_for(&none, NULL, 0, 0, NULL, &err));
    struct env env_off = {{"AWS_USE_FIPS_ENDPOINT", "false", NULL}};
    CHECK_STR_EQ("https://ivs.eu-central-1.amazonaws.com",
                 endpoint_for(&env_off, NULL, 0, 0, NULL, &err));
    remove_files();
    ivs_error_clear(&err);
}

/* The endpoint of a client of `service` (NULL: the default). */
static const char *service_endpoint(struct env *e, const char *service, int fips, int dual,
                                    const char **source, struct ivs_error *err)
{
    static char result[256], source_copy[160];
    struct ivs_client_options o;
    struct ivs_config cfg;
    setup(&o, e);
    o.service = service;
    o.use_fips_endpoint = fips;
    o.use_dualstack_endpoint = dual;
    if (config_resolve(&o, &cfg, err) != IVS_OK)
        return NULL;
    snprintf(result, sizeof result, "%s", cfg.endpoint);
    snprintf(source_copy, sizeof source_copy, "%s", cfg.endpoint_source);
    if (source)
        *source = source_copy;
    config_cleanup(&cfg);
    return result;
}

/* Each service has its own host, its own AWS_ENDPOINT_URL_<ID> and its own [services] key
 * (botocore's rule: the service id, spaces as underscores), and shares the global ones. */
static void test_service_endpoints(void)
{
    files("[default]\nregion = us-west-2\nservices = local\n"
          "[services local]\nivs =\n  endpoint_url = http://ivs.local\n"
          "ivs_realtime =\n  endpoint_url = http://realtime.local:8443\n",
          NULL);
    struct ivs_error err = {0};
    const char *src = NULL;
    struct env none = {{NULL}};
    CHECK_STR_EQ("http://ivs.local", service_endpoint(&none, NULL, 0, 0, &src, &err));
    CHECK_STR_EQ("http://ivs.local", service_endpoint(&none, "ivs", 0, 0, &src, &err));
    CHECK_STR_EQ("http://realtime.local:8443",
                 service_endpoint(&none, "ivs-realtime", 0, 0, &src, &err));
    CHECK(src && strstr(src, "ivs_realtime endpoint_url"));
    /* Chat has no entry in the section: the default host. */
    CHECK_STR_EQ("https://ivschat.us-west-2.amazonaws.com",
                 service_endpoint(&none, "ivschat", 0, 0, &src, &err));
    CHECK_STR_EQ("default", src);

    struct env env = {{"AWS_ENDPOINT_URL_IVSCHAT", "http://chat-env.example",
                       "AWS_ENDPOINT_URL_IVS_REALTIME", "http://rt-env.example", NULL}};
    CHECK_STR_EQ("http://chat-env.example", service_endpoint(&env, "ivschat", 0, 0, &src, &err));
    CHECK_STR_EQ("env AWS_ENDPOINT_URL_IVSCHAT", src);
    CHECK_STR_EQ("http://rt-env.example", service_endpoint(&env, "ivs-realtime", 0, 0, &src, &err));
    CHECK_STR_EQ("env AWS_ENDPOINT_URL_IVS_REALTIME", src);
    CHECK_STR_EQ("http://ivs.local", service_endpoint(&env, "ivs", 0, 0, &src, &err));
    struct env global = {{"AWS_ENDPOINT_URL", "http://all.example", NULL}};
    CHECK_STR_EQ("http://all.example", service_endpoint(&global, "ivschat", 0, 0, &src, &err));
    CHECK_STR_EQ("http://all.example", service_endpoint(&global, "ivs-realtime", 0, 0, &src, &err));
    remove_files();

    files(NULL, NULL);
    struct env us = {{"AWS_REGION", "eu-west-1", NULL}};
    CHECK_STR_EQ("https://ivsrealtime.eu-west-1.amazonaws.com",
                 service_endpoint(&us, "ivs-realtime", 0, 0, NULL, &err));
    CHECK_STR_EQ("https://ivsrealtime-fips.eu-west-1.api.aws",
                 service_endpoint(&us, "ivs-realtime", 1, 1, NULL, &err));
    CHECK_STR_EQ("https://ivschat-fips.eu-west-1.amazonaws.com",
                 service_endpoint(&us, "ivschat", 1, 0, NULL, &err));
    struct env cn = {{"AWS_REGION", "cn-north-1", NULL}};
    CHECK_STR_EQ("https://ivschat.cn-north-1.api.amazonwebservices.com.cn",
                 service_endpoint(&cn, "ivschat", 0, 1, NULL, &err));

    /* An unknown service fails at creation and names the known ones. */
    CHECK(service_endpoint(&us, "ivs-chat", 0, 0, NULL, &err) == NULL);
    CHECK_INT_EQ(IVS_ERR_CONFIG, err.kind);
    CHECK_STR_EQ("UnknownService", err.code);
    CHECK(err.message && strstr(err.message, "\"ivs-chat\"") &&
          strstr(err.message, "ivs, ivs-realtime, ivschat"));
    ivs_error_clear(&err);
    CHECK(service_endpoint(&us, "", 0, 0, NULL, &err) != NULL); /* "" is the default */
    remove_files();
    ivs_error_clear(&err);
}

static void test_endpoint_validation(void)
{
    struct ivs_error err = {0};
    char *out = NULL;
    static const char *const good[][2] = {
        {"http://127.0.0.1:4566", "http://127.0.0.1:4566"},
        {"HTTPS://Example.com/", "HTTPS://Example.com"},
        {"http://[::1]:8080/", "http://[::1]:8080"},
        {"https://h/path/", "https://h/path"},
        {"http://h", "http://h"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_INT_EQ(IVS_OK, config_check_endpoint_url(good[i][0], "test", &out, &err));
        CHECK_STR_EQ(good[i][1], out);
        free(out);
    }
    static const char *const bad[] = {
        "ftp://h",      "127.0.0.1:4566", "http://",          "http:///path", "http://h:",
        "http://h:12x", "http://h st",    "http://user:pw@h", "http://[::1",  "",
        "http://h\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(config_check_endpoint_url(bad[i], "AWS_ENDPOINT_URL", &out, &err) ==
                      IVS_ERR_CONFIG,
                  "accepted %s", bad[i]);
        CHECK(out == NULL);
        CHECK_STR_EQ("InvalidEndpoint", err.code);
        CHECK(err.message && strstr(err.message, "AWS_ENDPOINT_URL"));
    }
    files(NULL, NULL);
    struct env e = {{"AWS_REGION", "us-east-1", "AWS_ENDPOINT_URL_IVS", "localhost:4566", NULL}};
    CHECK(endpoint_for(&e, NULL, 0, 0, NULL, &err) == NULL);
    CHECK_STR_EQ("InvalidEndpoint", err.code);
    CHECK(err.message && strstr(err.message, "AWS_ENDPOINT_URL_IVS"));
    remove_files();
    ivs_error_clear(&err);
}

static void test_retry_settings(void)
{
    files("[default]\nregion = us-east-1\nmax_attempts = 7\nretry_mode = legacy\n"
          "[profile bad]\nregion = us-east-1\nmax_attempts = lots\n"
          "[profile badmode]\nregion = us-east-1\nretry_mode = hopeful\n",
          NULL);
    struct ivs_client_options o;
    struct ivs_config cfg;
    struct ivs_error err = {0};
    struct env none = {{NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&none, &o, &cfg, &err));
    CHECK_INT_EQ(7, cfg.max_attempts);
    CHECK_STR_EQ("legacy", cfg.retry_mode);
    CHECK_INT_EQ(1, cfg.new_retries_2026);
    config_cleanup(&cfg);

    struct env env = {{"AWS_MAX_ATTEMPTS", "4", "AWS_RETRY_MODE", "legacy", "AWS_NEW_RETRIES_2026",
                       "FALSE", NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&env, &o, &cfg, &err));
    CHECK_INT_EQ(4, cfg.max_attempts);
    CHECK_STR_EQ("legacy", cfg.retry_mode);
    CHECK_INT_EQ(0, cfg.new_retries_2026);
    config_cleanup(&cfg);

    setup(&o, &env);
    o.max_attempts = 2;
    o.retry_mode = "standard";
    CHECK_INT_EQ(IVS_OK, config_resolve(&o, &cfg, &err));
    CHECK_INT_EQ(2, cfg.max_attempts);
    CHECK_STR_EQ("standard", cfg.retry_mode);
    config_cleanup(&cfg);

    struct env other = {{"AWS_NEW_RETRIES_2026", "no", NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&other, &o, &cfg, &err));
    CHECK_INT_EQ(1, cfg.new_retries_2026);
    config_cleanup(&cfg);

    /* 101: the option's own limit (core/src/options.c) holds for the environment too. */
    static const char *const bad_numbers[] = {"0",   "-1", "3x", "abc", "99999999999999999999",
                                              "1.5", "101"};
    for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers[0]; i++) {
        struct env b = {{"AWS_MAX_ATTEMPTS", bad_numbers[i], NULL}};
        CHECK_MSG(resolve(&b, &o, &cfg, &err) == IVS_ERR_CONFIG, "accepted %s", bad_numbers[i]);
        CHECK_STR_EQ("InvalidConfig", err.code);
        CHECK(err.message && strstr(err.message, "AWS_MAX_ATTEMPTS"));
    }
    struct env bp = {{"AWS_PROFILE", "bad", NULL}};
    CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&bp, &o, &cfg, &err));
    CHECK(err.message && strstr(err.message, "max_attempts"));
    struct env bm = {{"AWS_PROFILE", "badmode", NULL}};
    CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&bm, &o, &cfg, &err));
    CHECK(err.message && strstr(err.message, "retry_mode"));
    struct env em = {{"AWS_RETRY_MODE", "Standard", NULL}};
    CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&em, &o, &cfg, &err));
    struct env adaptive = {{"AWS_RETRY_MODE", "Adaptive", NULL}};
    CHECK_INT_EQ(IVS_ERR_CONFIG, resolve(&adaptive, &o, &cfg, &err));
    CHECK(err.message && strstr(err.message, "AWS_RETRY_MODE") && strstr(err.message, "adaptive"));
    ivs_error_clear(&err);
    struct env ok_adaptive = {{"AWS_RETRY_MODE", "adaptive", NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&ok_adaptive, &o, &cfg, &err));
    CHECK_STR_EQ("adaptive", cfg.retry_mode);
    config_cleanup(&cfg);
    setup(&o, &none);
    o.max_attempts = -3;
    CHECK_INT_EQ(IVS_ERR_CONFIG, config_resolve(&o, &cfg, &err));
    remove_files();
    ivs_error_clear(&err);
}

static void test_misc_settings(void)
{
    files(
        "[default]\nregion = us-east-1\nca_bundle = /profile/ca.pem\nsdk_ua_app_id = profile-app\n",
        NULL);
    struct ivs_client_options o;
    struct ivs_config cfg;
    struct ivs_error err = {0};
    struct env none = {{NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&none, &o, &cfg, &err));
    CHECK_STR_EQ("/profile/ca.pem", cfg.ca_bundle);
    CHECK_STR_EQ("profile-app", cfg.app_id);
    CHECK_INT_EQ(60000, cfg.timeout_ms);
    CHECK_INT_EQ(10000, cfg.connect_timeout_ms);
    CHECK_INT_EQ(0, cfg.close_connection);
    CHECK(cfg.max_attempts == 0 && cfg.retry_mode == NULL);
    config_cleanup(&cfg);

    struct env env = {{"AWS_CA_BUNDLE", "/env/ca.pem", "AWS_SDK_UA_APP_ID", "env-app", NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&env, &o, &cfg, &err));
    CHECK_STR_EQ("/env/ca.pem", cfg.ca_bundle);
    CHECK_STR_EQ("env-app", cfg.app_id);
    config_cleanup(&cfg);
    /* AWS_SDK_UA_APP_ID set but empty: no app id, the profile's is not used (botocore). */
    struct env cleared = {{"AWS_SDK_UA_APP_ID", "", NULL}};
    CHECK_INT_EQ(IVS_OK, resolve(&cleared, &o, &cfg, &err));
    CHECK(cfg.app_id == NULL);
    config_cleanup(&cfg);

    setup(&o, &env);
    o.ca_bundle = "/explicit/ca.pem";
    o.app_id = "explicit-app";
    o.timeout = 2.5;
    o.connect_timeout = 30;
    o.close_connection = 5;
    CHECK_INT_EQ(IVS_OK, config_resolve(&o, &cfg, &err));
    CHECK_STR_EQ("/explicit/ca.pem", cfg.ca_bundle);
    CHECK_STR_EQ("explicit-app", cfg.app_id);
    CHECK_INT_EQ(2500, cfg.timeout_ms);
    CHECK_INT_EQ(2500, cfg.connect_timeout_ms); /* capped at the timeout */
    CHECK_INT_EQ(1, cfg.close_connection);
    config_cleanup(&cfg);

    setup(&o, &none);
    o.timeout = -1;
    CHECK_INT_EQ(IVS_ERR_CONFIG, config_resolve(&o, &cfg, &err));
    CHECK_STR_EQ("InvalidConfig", err.code);
    remove_files();
    ivs_error_clear(&err);
}

static void test_botocore_oracle(void)
{
    if (system("python3 -c 'import botocore' >/dev/null 2>&1") != 0)
        SKIP("botocore not available");
    files("[profile o]\nregion = eu-west-1\nservices = svc\n[services svc]\nivs =\n"
          "  endpoint_url = http://127.0.0.1:9999\n",
          NULL);
    char cmd[1024];
    snprintf(
        cmd, sizeof cmd,
        "env -u AWS_REGION -u AWS_DEFAULT_REGION -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_IVS "
        "-u AWS_IGNORE_CONFIGURED_ENDPOINT_URLS -u AWS_USE_FIPS_ENDPOINT "
        "-u AWS_USE_DUALSTACK_ENDPOINT AWS_CONFIG_FILE=%s AWS_SHARED_CREDENTIALS_FILE=%s "
        "AWS_PROFILE=o "
        "AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b python3 -c 'import botocore.session as s; "
        "c = s.get_session().create_client(\"ivs\"); print(c.meta.endpoint_url + \" \" + "
        "c.meta.region_name)' 2>/dev/null",
        s_config_path, s_credentials_path);
    FILE *p = popen(cmd, "r");
    char line[256] = "";
    if (p) {
        if (!fgets(line, sizeof line, p))
            line[0] = '\0';
        pclose(p);
    }
    line[strcspn(line, "\n")] = '\0';
    struct env e = {{"AWS_PROFILE", "o", NULL}};
    struct ivs_client_options o;
    struct ivs_config cfg;
    struct ivs_error err = {0};
    CHECK_INT_EQ(IVS_OK, resolve(&e, &o, &cfg, &err));
    char ours[256];
    snprintf(ours, sizeof ours, "%s %s", cfg.endpoint, cfg.region);
    CHECK_STR_EQ(line, ours);
    config_cleanup(&cfg);
    remove_files();
}

int main(void)
{
    RUN(test_getenv_hook_and_fallback);
    RUN(test_region_precedence);
    RUN(test_no_region);
    RUN(test_profile_not_found);
    RUN(test_credentials_file_wins_over_config);
    RUN(test_default_file_paths_use_home);
    RUN(test_endpoint_precedence);
    RUN(test_services_section_must_exist);
    RUN(test_endpoint_variants);
    RUN(test_service_endpoints);
    RUN(test_partitions);
    RUN(test_partitions_are_generated_from_the_model);
    RUN(test_resolution_matches_botocore);
    RUN(test_endpoint_validation);
    RUN(test_retry_settings);
    RUN(test_misc_settings);
    RUN(test_botocore_oracle);
    return harness_finish();
}
