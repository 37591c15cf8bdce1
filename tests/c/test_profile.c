/* test_profile.c: the shared config/credentials file parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "profile.h"

static struct profile_file *parse(const char *text, enum profile_file_kind kind)
{
    return profile_file_parse(text, strlen(text), kind);
}

static void test_config_sections(void)
{
    struct profile_file *f = parse("[default]\n"
                                   "region = us-east-1\n"
                                   "[profile dev]\n"
                                   "region=eu-west-1\n"
                                   "  \n"
                                   "[profile   'spaced name'  ]\n"
                                   "region = ap-south-1\n"
                                   "[profile three words here]\n"
                                   "region = dropped\n"
                                   "[plain]\n"
                                   "region = us-west-2\n"
                                   "[profilefoo]\n"
                                   "region = us-west-1\n",
                                   PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("us-east-1", profile_get(f, "default", "region"));
    CHECK_STR_EQ("eu-west-1", profile_get(f, "dev", "region"));
    CHECK_STR_EQ("ap-south-1", profile_get(f, "spaced name", "region"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "three words here"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "three"));
    /* Sections without the "profile " prefix are not profiles in the config file. */
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "plain"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "profilefoo"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "foo"));
    CHECK(profile_get(f, "dev", "missing") == NULL);
    CHECK(profile_get(f, "nobody", "region") == NULL);
    profile_file_free(f);
}

/* Section headers as botocore reads them: shell words (quotes as `aws configure` writes them),
 * exactly two, the prefix tested with startswith, nothing trimmed. */
static void test_quoted_section_names(void)
{
    struct profile_file *f = parse("[profile 'my dev']\nregion = a\n"
                                   "[profile \"my prod\"]\nregion = b\n"
                                   "[profile\tdev]\nregion = c\n"
                                   "[profile my dev]\nregion = lost\n"
                                   "[profile 'unbalanced]\nregion = lost\n"
                                   "[profile]\nregion = lost\n"
                                   "[ profile spaced ]\nregion = lost\n"
                                   "[profilex quirk]\nregion = d\n"
                                   "[profile it\\'s]\nregion = e\n"
                                   "[profile \"say \\\"hi\\\"\"]\nregion = f\n"
                                   "[sso-session 'my sso']\nsso_region = us-east-1\n"
                                   "[services 'my local']\nivs =\n  endpoint_url = http://x\n"
                                   "[ default ]\nregion = lost\n",
                                   PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("a", profile_get(f, "my dev", "region"));
    CHECK_STR_EQ("b", profile_get(f, "my prod", "region"));
    CHECK_STR_EQ("c", profile_get(f, "dev", "region"));
    CHECK_STR_EQ("d", profile_get(f, "quirk", "region"));
    CHECK_STR_EQ("e", profile_get(f, "it's", "region"));
    CHECK_STR_EQ("f", profile_get(f, "say \"hi\"", "region"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "my"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "'unbalanced"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "unbalanced"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "spaced"));
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "default"));
    CHECK_STR_EQ("us-east-1",
                 profile_section_get(f, PROFILE_SECTION_SSO_SESSION, "my sso", "sso_region"));
    CHECK_STR_EQ("http://x",
                 profile_get_sub(f, PROFILE_SECTION_SERVICES, "my local", "ivs", "endpoint_url"));
    profile_file_free(f);
    /* The credentials file keeps its names literally. */
    f = parse("['my dev']\nk = 1\n", PROFILE_FILE_CREDENTIALS);
    CHECK_STR_EQ("1", profile_get(f, "'my dev'", "k"));
    profile_file_free(f);
}

static void test_byte_order_mark(void)
{
    struct profile_file *f =
        parse("\xEF\xBB\xBF[default]\nregion = eu-west-1\n", PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("eu-west-1", profile_get(f, "default", "region"));
    profile_file_free(f);
    f = parse("\xEF\xBB\xBF[dev]\naws_access_key_id = AKID\n", PROFILE_FILE_CREDENTIALS);
    CHECK_STR_EQ("AKID", profile_get(f, "dev", "aws_access_key_id"));
    profile_file_free(f);
    /* Only at the very start. */
    f = parse("[default]\n\xEF\xBB\xBFregion = x\n", PROFILE_FILE_CONFIG);
    CHECK(profile_get(f, "default", "region") == NULL);
    profile_file_free(f);
}

static void test_credentials_sections_are_literal(void)
{
    struct profile_file *f = parse("[default]\naws_access_key_id = AKIDDEFAULT\n"
                                   "[profile foo]\naws_access_key_id = AKIDLITERAL\n"
                                   "[foo]\naws_access_key_id = AKIDFOO\n",
                                   PROFILE_FILE_CREDENTIALS);
    CHECK(f != NULL);
    CHECK_STR_EQ("AKIDDEFAULT", profile_get(f, "default", "aws_access_key_id"));
    CHECK_STR_EQ("AKIDLITERAL", profile_get(f, "profile foo", "aws_access_key_id"));
    CHECK_STR_EQ("AKIDFOO", profile_get(f, "foo", "aws_access_key_id"));
    profile_file_free(f);
}

static void test_services_and_sso_sections(void)
{
    struct profile_file *f = parse("[profile dev]\n"
                                   "services = local\n"
                                   "sso_session = corp\n"
                                   "[services local]\n"
                                   "ivs =\n"
                                   "  endpoint_url = http://127.0.0.1:4566\n"
                                   "\tother = x ; comment\n"
                                   "s3 =\n"
                                   "  endpoint_url = http://s3.local\n"
                                   "[sso-session corp]\n"
                                   "sso_region = us-east-1\n"
                                   "[profile local]\n"
                                   "region = should-not-mix\n",
                                   PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("local", profile_get(f, "dev", "services"));
    CHECK_STR_EQ("http://127.0.0.1:4566",
                 profile_get_sub(f, PROFILE_SECTION_SERVICES, "local", "ivs", "endpoint_url"));
    CHECK_STR_EQ("x", profile_get_sub(f, PROFILE_SECTION_SERVICES, "local", "ivs", "other"));
    CHECK_STR_EQ("http://s3.local",
                 profile_get_sub(f, PROFILE_SECTION_SERVICES, "local", "s3", "endpoint_url"));
    /* A nested block is not a plain value. */
    CHECK(profile_section_get(f, PROFILE_SECTION_SERVICES, "local", "ivs") == NULL);
    CHECK_STR_EQ("us-east-1",
                 profile_section_get(f, PROFILE_SECTION_SSO_SESSION, "corp", "sso_region"));
    CHECK(profile_section_exists(f, PROFILE_SECTION_SERVICES, "local"));
    CHECK(profile_section_exists(f, PROFILE_SECTION_PROFILE, "local"));
    CHECK_STR_EQ("should-not-mix", profile_get(f, "local", "region"));
    CHECK(profile_section_get(f, PROFILE_SECTION_SERVICES, "local", "region") == NULL);
    profile_file_free(f);
}

static void test_comments_and_whitespace(void)
{
    struct profile_file *f = parse("# leading comment\n"
                                   "; another\n"
                                   "[profile c] # header comment\n"
                                   "a = 1 # trailing\n"
                                   "b = 2 ; trailing\n"
                                   "c = pass#word\n"
                                   "d = semi;colon\n"
                                   "e   =   spaced value   \r\n"
                                   "f =\t\ttab\t\n"
                                   "  # indented comment\n"
                                   "g=\n"
                                   "h = x = y\n",
                                   PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("1", profile_get(f, "c", "a"));
    CHECK_STR_EQ("2", profile_get(f, "c", "b"));
    CHECK_STR_EQ("pass#word", profile_get(f, "c", "c"));
    CHECK_STR_EQ("semi;colon", profile_get(f, "c", "d"));
    CHECK_STR_EQ("spaced value", profile_get(f, "c", "e"));
    CHECK_STR_EQ("tab", profile_get(f, "c", "f"));
    CHECK_STR_EQ("", profile_get(f, "c", "g"));
    CHECK_STR_EQ("x = y", profile_get(f, "c", "h"));
    profile_file_free(f);
}

static void test_duplicates_merge_and_case(void)
{
    struct profile_file *f = parse("[profile m]\n"
                                   "region = one\n"
                                   "Output = json\n"
                                   "[profile other]\n"
                                   "x = 1\n"
                                   "[profile m]\n"
                                   "region = two\n"
                                   "REGION = three\n"
                                   "[profile M]\n"
                                   "region = upper\n",
                                   PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    /* Keys fold to lower case as in botocore, so the last spelling wins. */
    CHECK_STR_EQ("three", profile_get(f, "m", "region"));
    CHECK_STR_EQ("three", profile_get(f, "m", "Region"));
    CHECK_STR_EQ("json", profile_get(f, "m", "output"));
    /* Section names keep their case. */
    CHECK_STR_EQ("upper", profile_get(f, "M", "region"));
    profile_file_free(f);
}

static void test_invalid_lines_are_skipped(void)
{
    struct profile_file *f = parse("orphan = before any section\n"
                                   "[profile ok]\n"
                                   "no equals sign here\n"
                                   "= no key\n"
                                   "good = yes\n"
                                   "[unterminated\n"
                                   "lost = 1\n"
                                   "[profile bad] trailing junk\n"
                                   "lost2 = 1\n"
                                   "[profile ]\n"
                                   "lost3 = 1\n"
                                   "[profile after]\n"
                                   "k = v\n"
                                   "   continued line\n"
                                   "  more\n",
                                   PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("yes", profile_get(f, "ok", "good"));
    CHECK(profile_get(f, "ok", "lost") == NULL);
    CHECK(!profile_section_exists(f, PROFILE_SECTION_PROFILE, "bad"));
    CHECK(profile_get(f, "ok", "lost2") == NULL);
    CHECK(profile_get(f, "ok", "lost3") == NULL);
    /* A continuation joins the value with a newline, as botocore does. */
    CHECK_STR_EQ("v\ncontinued line\nmore", profile_get(f, "after", "k"));
    profile_file_free(f);
}

static void test_default_forms(void)
{
    struct profile_file *f =
        parse("[profile default]\nregion = a\n[default]\noutput = b\n", PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("a", profile_get(f, "default", "region"));
    CHECK_STR_EQ("b", profile_get(f, "default", "output"));
    profile_file_free(f);
}

static void test_load_and_absent(void)
{
    char path[] = "/tmp/ivs-profile-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *text = "[default]\nregion = us-west-2\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    struct profile_file *f = profile_file_load(path, PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("us-west-2", profile_get(f, "default", "region"));
    profile_file_free(f);
    unlink(path);
    CHECK(profile_file_load(path, PROFILE_FILE_CONFIG) == NULL);
    CHECK(profile_file_load("/tmp", PROFILE_FILE_CONFIG) == NULL);
    CHECK(profile_file_load(NULL, PROFILE_FILE_CONFIG) == NULL);
    /* NULL files behave as empty ones. */
    CHECK(profile_get(NULL, "default", "region") == NULL);
    CHECK(!profile_section_exists(NULL, PROFILE_SECTION_PROFILE, "default"));
    profile_file_free(NULL);
}

/* Issue 13 item 7: a FIFO as the config file must not block (open waits for a writer). */
static void test_fifo_is_skipped_without_blocking(void)
{
    char dir[] = "/tmp/ivs-fifo-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/config", dir);
    CHECK(mkfifo(path, 0600) == 0);
    /* A hang is a failure: the alarm kills the test binary, and run-tests reports it. */
    alarm(10);
    CHECK(profile_file_load(path, PROFILE_FILE_CONFIG) == NULL);
    CHECK(profile_file_load("/dev/null", PROFILE_FILE_CONFIG) == NULL);
    alarm(0);
    unlink(path);
    rmdir(dir);
}

static void test_empty_and_binary(void)
{
    struct profile_file *f = profile_file_parse("", 0, PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    profile_file_free(f);
    static const char nul_text[] = "[default]\nre\0gion = x\nregion = y\n";
    f = profile_file_parse(nul_text, sizeof nul_text - 1, PROFILE_FILE_CONFIG);
    CHECK(f != NULL);
    CHECK_STR_EQ("y", profile_get(f, "default", "region"));
    profile_file_free(f);
}

/* xorshift: deterministic inputs, the same on every run. */
static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static void test_random_input_never_crashes(void)
{
    static const char alphabet[] = "[]=#; \t\r\n\n\naprofilesvcedfult-_\0\xff\x80";
    uint32_t state = 0x1badcafe;
    char text[512];
    for (int i = 0; i < 4000; i++) {
        size_t len = next_random(&state) % sizeof text;
        int structured = i % 2;
        for (size_t j = 0; j < len; j++) {
            uint32_t r = next_random(&state);
            text[j] = structured ? alphabet[r % (sizeof alphabet - 1)] : (char)(r & 0xff);
        }
        struct profile_file *f =
            profile_file_parse(text, len, (enum profile_file_kind)(i % 3 == 0));
        CHECK(f != NULL);
        (void)profile_get(f, "default", "a");
        (void)profile_get_sub(f, PROFILE_SECTION_SERVICES, "x", "ivs", "endpoint_url");
        profile_file_free(f);
        if (harness_current_failed())
            break;
    }
}

int main(void)
{
    RUN(test_config_sections);
    RUN(test_quoted_section_names);
    RUN(test_byte_order_mark);
    RUN(test_credentials_sections_are_literal);
    RUN(test_services_and_sso_sections);
    RUN(test_comments_and_whitespace);
    RUN(test_duplicates_merge_and_case);
    RUN(test_invalid_lines_are_skipped);
    RUN(test_default_forms);
    RUN(test_load_and_absent);
    RUN(test_fifo_is_skipped_without_blocking);
    RUN(test_empty_and_binary);
    RUN(test_random_input_never_crashes);
    return harness_finish();
}
