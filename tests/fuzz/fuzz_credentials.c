/* fuzz_credentials.c: the JSON credential documents (core/src/credentials.c): what a
 * credential_process prints, what the container endpoint (ECS / EKS Pod Identity) and EC2
 * instance metadata answer; plus the ISO 8601 reader behind Expiration and the container
 * endpoint URL rules.
 *
 * The input is one document, read as each of the three providers reads it. A usable result
 * must have both keys; an unusable one must say why, and why must not depend on any secret.
 * The first two lines are also tried as a time and as the container URI pair. */
#include <cJSON.h>

#include "buf.h"
#include "credentials.h"
#include "fuzz.h"

static void free_credentials(struct credentials *c)
{
    free(c->access_key_id);
    free(c->secret_access_key);
    free(c->session_token);
    free(c->detail);
    memset(c, 0, sizeof *c);
}

/* The reason a document is unusable, for a document given as text. */
static char *why_of(enum cred_document kind, const char *text)
{
    struct credentials c;
    struct buf why = BUF_INIT;
    struct ivs_error err = {0};
    cred_parse_document(kind, text, strlen(text), &c, &why, &err);
    free_credentials(&c);
    ivs_error_clear(&err);
    char *s = buf_failed(&why) ? NULL : fuzz_strndup(buf_str(&why), why.len);
    buf_free(&why);
    return s;
}

/* A reason never depends on a secret's value: the same document with every secret member's
 * value replaced by other characters of the same length must give the same reason. (IMDS
 * echoes its Code member, so Code is left as it is.) */
static void check_reasons_hide_secrets(const uint8_t *data, size_t size)
{
    static const char *const secrets[] = {"SecretAccessKey", "SessionToken", "Token"};
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    char *before = cJSON_IsObject(doc) ? cJSON_PrintUnformatted(doc) : NULL;
    int changed = 0;
    cJSON *m;
    cJSON *walk = before ? doc : NULL;
    cJSON_ArrayForEach(m, walk)
    {
        for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
            if (m->string && !strcmp(m->string, secrets[i]) && cJSON_IsString(m)) {
                for (char *p = m->valuestring; *p; p++)
                    *p = *p == 'Z' ? 'Y' : 'Z';
                changed = 1;
            }
        }
    }
    char *after = changed ? cJSON_PrintUnformatted(doc) : NULL;
    if (before && after) {
        static const enum cred_document kinds[] = {CRED_DOC_PROCESS, CRED_DOC_CONTAINER,
                                                   CRED_DOC_IMDS};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            char *w1 = why_of(kinds[i], before), *w2 = why_of(kinds[i], after);
            if (w1 && w2)
                FUZZ_ASSERT(!strcmp(w1, w2));
            free(w1);
            free(w2);
        }
    }
    cJSON_free(before);
    cJSON_free(after);
    cJSON_Delete(doc);
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
        }
        free_credentials(&c);
        buf_free(&why);
        ivs_error_clear(&err);
    }

    check_reasons_hide_secrets(data, size);

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
