/* fuzz_credentials.c: the JSON credential documents (core/src/credentials.c): what a
 * credential_process prints, what the container endpoint (ECS / EKS Pod Identity) and EC2
 * instance metadata answer; plus the ISO 8601 reader behind Expiration and the container
 * endpoint URL rules.
 *
 * The input is one document, read as each of the three providers reads it. A usable result
 * must have both keys; an unusable one must say why without quoting any secret of the input.
 * The first two lines are also tried as a time and as the container URI pair. */
#include "buf.h"
#include "credentials.h"
#include "fuzz.h"

static void free_credentials(struct credentials *c)
{
    free(c->access_key_id);
    free(c->secret_access_key);
    free(c->session_token);
    memset(c, 0, sizeof *c);
}

/* The secret values that appear in the input as JSON strings of the secret members, found
 * crudely (no parser: the parser is what is under test). */
static int mentions_secret_value(const char *why, const char *text)
{
    static const char *const members[] = {"\"SecretAccessKey\"", "\"SessionToken\"", "\"Token\""};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        for (const char *m = strstr(text, members[i]); m; m = strstr(m + 1, members[i])) {
            const char *q = m + strlen(members[i]);
            while (*q == ' ' || *q == ':' || *q == '\n' || *q == '\t' || *q == '\r')
                q++;
            if (*q != '"')
                continue;
            q++;
            size_t n = strcspn(q, "\"\\");
            /* Short values could match by chance (a member name, "1"); real secrets are long. */
            if (n >= 12) {
                char *value = fuzz_strndup(q, n);
                int found = value && strstr(why, value) != NULL;
                free(value);
                if (found)
                    return 1;
            }
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    static const enum cred_document kinds[] = {CRED_DOC_PROCESS, CRED_DOC_CONTAINER, CRED_DOC_IMDS};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        struct credentials c;
        struct buf why = BUF_INIT;
        struct ivs_error err = {0};
        enum ivs_status st =
            cred_parse_document(kinds[i], (const char *)data, size, &c, &why, &err);
        if (st == IVS_OK && c.access_key_id) {
            FUZZ_ASSERT(c.secret_access_key && *c.access_key_id && *c.secret_access_key);
            FUZZ_ASSERT(why.len == 0);
        } else if (st == IVS_OK) {
            FUZZ_ASSERT(why.len > 0);
            /* IMDS echoes its Code member, which the input may set to anything. */
            if (kinds[i] != CRED_DOC_IMDS)
                FUZZ_ASSERT(!mentions_secret_value(buf_str(&why), text));
        }
        free_credentials(&c);
        buf_free(&why);
        ivs_error_clear(&err);
    }

    size_t first_len = strcspn(text, "\n");
    char *first = fuzz_strndup(text, first_len);
    const char *rest = text[first_len] ? text + first_len + 1 : "";
    char *second = fuzz_strndup(rest, strcspn(rest, "\n"));
    if (first && second) {
        int64_t ms;
        cred_parse_time(first, &ms);
        char *url = NULL;
        struct ivs_error err = {0};
        if (cred_container_url(*first ? first : NULL, *second ? second : NULL, &url, &err) ==
            IVS_OK) {
            if (url)
                FUZZ_ASSERT(!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8));
        }
        free(url);
        ivs_error_clear(&err);
    }
    free(first);
    free(second);
    free(text);
    return 0;
}
