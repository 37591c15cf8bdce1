/* fuzz_profile.c: the shared config and credentials file parser (core/src/profile.c) and the
 * settings read from it (core/src/config.c).
 *
 * The input is one file's text. It is parsed as a config file and as a credentials file, every
 * section it names is queried, and then the whole client configuration is resolved with that
 * text as both ~/.aws/config and ~/.aws/credentials (through memfd files, so nothing touches
 * the disk), once for the default profile and once for the first section named. */
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "profile.h"

static int s_fd = -1;
static char s_path[64];
static const char *s_profile;

/* The environment the resolver sees: the file paths, the profile under test, nothing else
 * (so the developer's own environment can never change a run). */
static const char *fuzz_getenv(void *ud, const char *name)
{
    (void)ud;
    if (!strcmp(name, "AWS_CONFIG_FILE") || !strcmp(name, "AWS_SHARED_CREDENTIALS_FILE"))
        return s_path;
    if (!strcmp(name, "AWS_PROFILE"))
        return s_profile;
    return NULL;
}

static void query(const struct profile_file *f, const char *name, size_t size)
{
    static const char *const keys[] = {"region",
                                       "aws_access_key_id",
                                       "aws_secret_access_key",
                                       "services",
                                       "endpoint_url",
                                       "credential_process",
                                       "sso_session",
                                       "ivs",
                                       ""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = profile_get(f, name, keys[i]);
        /* A value is a piece of the text: never longer than it. */
        if (v)
            FUZZ_ASSERT(strlen(v) <= size);
        profile_section_get(f, PROFILE_SECTION_SSO_SESSION, name, keys[i]);
    }
    profile_section_exists(f, PROFILE_SECTION_PROFILE, name);
    profile_section_exists(f, PROFILE_SECTION_SERVICES, name);
    profile_get_sub(f, PROFILE_SECTION_SERVICES, name, "ivs", "endpoint_url");
    profile_get_sub(f, PROFILE_SECTION_PROFILE, name, "s3", "addressing_style");
}

static void resolve(void)
{
    struct ivs_client_options opts;
    memset(&opts, 0, sizeof opts);
    opts.getenv = fuzz_getenv;
    struct ivs_config cfg;
    struct ivs_error err = {0};
    if (config_resolve(&opts, &cfg, &err) == IVS_OK) {
        FUZZ_ASSERT(cfg.region && cfg.endpoint && cfg.profile);
        config_profile_value(&cfg, "region");
        config_cleanup(&cfg);
    } else {
        FUZZ_ASSERT(err.code && err.message);
    }
    ivs_error_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (s_fd < 0) {
        s_fd = memfd_create("fuzz-profile", MFD_CLOEXEC);
        if (s_fd < 0)
            abort();
        snprintf(s_path, sizeof s_path, "/proc/self/fd/%d", s_fd);
    }
    const char *text = (const char *)data;
    struct profile_file *files[2] = {profile_file_parse(text, size, PROFILE_FILE_CONFIG),
                                     profile_file_parse(text, size, PROFILE_FILE_CREDENTIALS)};
    FUZZ_ASSERT(files[0] && files[1]);

    /* Every bracketed name in the text, as written and without a "profile " prefix. */
    char *first = NULL;
    size_t pos = 0, seen = 0;
    const uint8_t *line;
    size_t n;
    while (seen < 16 && (n = fuzz_next_line(data, size, &pos, &line)) != (size_t)-1) {
        const uint8_t *open = memchr(line, '[', n);
        const uint8_t *close = open ? memchr(open, ']', n - (size_t)(open - line)) : NULL;
        if (!close)
            continue;
        char *name = fuzz_strndup(open + 1, (size_t)(close - open - 1));
        if (!name)
            continue;
        char *bare = name;
        while (*bare == ' ')
            bare++;
        if (!strncmp(bare, "profile ", 8))
            bare += 8;
        for (int i = 0; i < 2; i++) {
            query(files[i], name, size);
            query(files[i], bare, size);
        }
        if (!first && *bare && !strchr(bare, ' '))
            first = strdup(bare);
        free(name);
        seen++;
    }
    query(files[0], "default", size);
    profile_file_free(files[0]);
    profile_file_free(files[1]);

    if (ftruncate(s_fd, 0) == 0 && pwrite(s_fd, data, size, 0) == (ssize_t)size) {
        s_profile = NULL;
        resolve();
        if (first) {
            s_profile = first;
            resolve();
        }
    }
    s_profile = NULL;
    free(first);
    return 0;
}
