#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "buf.h"

struct prop {
    char *key; /* lower case */
    char *value;
    struct prop *subs;
    size_t sub_count, sub_cap;
};

struct section {
    enum profile_section_kind kind;
    char *name;
    struct prop *props;
    size_t prop_count, prop_cap;
};

struct profile_file {
    struct section *sections;
    size_t section_count, section_cap;
    int failed;
};

/* Files larger than this are not AWS config files; refusing them bounds memory use. */
#define PROFILE_MAX_FILE_BYTES (16u * 1024u * 1024u)

static void wipe_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static void prop_clear(struct prop *p)
{
    free(p->key);
    wipe_free(p->value);
    for (size_t i = 0; i < p->sub_count; i++)
        prop_clear(&p->subs[i]);
    free(p->subs);
    memset(p, 0, sizeof *p);
}

void profile_file_free(struct profile_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->section_count; i++) {
        struct section *s = &f->sections[i];
        for (size_t j = 0; j < s->prop_count; j++)
            prop_clear(&s->props[j]);
        free(s->props);
        free(s->name);
    }
    free(f->sections);
    free(f);
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* Trims [*start, *end) of surrounding whitespace. */
static void trim(const char **start, const char **end)
{
    while (*start < *end && is_blank(**start))
        (*start)++;
    while (*end > *start && is_blank((*end)[-1]))
        (*end)--;
}

/* Cuts a trailing comment: `#` or `;` preceded by whitespace. */
static const char *comment_cut(const char *start, const char *end)
{
    for (const char *p = start; p < end; p++) {
        if ((*p == '#' || *p == ';') && (p == start || is_blank(p[-1])))
            return p;
    }
    return end;
}

static char *lower_dup(const char *s, size_t n)
{
    char *d = ivs_strndup(s, n);
    if (d) {
        for (char *p = d; *p; p++) {
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        }
    }
    return d;
}

static struct section *section_find(const struct profile_file *f, enum profile_section_kind kind,
                                    const char *name)
{
    if (!f || !name)
        return NULL;
    for (size_t i = 0; i < f->section_count; i++) {
        if (f->sections[i].kind == kind && strcmp(f->sections[i].name, name) == 0)
            return &f->sections[i];
    }
    return NULL;
}

/* Opens (or finds again) a section; takes over copy. */
static struct section *section_open(struct profile_file *f, enum profile_section_kind kind,
                                    char *copy)
{
    struct section *s = section_find(f, kind, copy);
    if (s) {
        free(copy);
        return s;
    }
    if (f->section_count == f->section_cap) {
        size_t cap = f->section_cap ? f->section_cap * 2 : 8;
        struct section *grown = realloc(f->sections, cap * sizeof *grown);
        if (!grown) {
            free(copy);
            f->failed = 1;
            return NULL;
        }
        f->sections = grown;
        f->section_cap = cap;
    }
    s = &f->sections[f->section_count++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->name = copy;
    return s;
}

/* Sets key = value in a property list, replacing an earlier value (and nested map). Returns
 * the property, or NULL when memory ran out. */
static struct prop *prop_set(struct prop **list, size_t *count, size_t *cap, const char *key,
                             size_t key_len, const char *value, size_t value_len)
{
    char *k = lower_dup(key, key_len);
    char *v = ivs_strndup(value, value_len);
    if (!k || !v) {
        free(k);
        free(v);
        return NULL;
    }
    for (size_t i = 0; i < *count; i++) {
        if (strcmp((*list)[i].key, k) == 0) {
            prop_clear(&(*list)[i]);
            (*list)[i].key = k;
            (*list)[i].value = v;
            return &(*list)[i];
        }
    }
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct prop *grown = realloc(*list, ncap * sizeof *grown);
        if (!grown) {
            free(k);
            wipe_free(v);
            return NULL;
        }
        *list = grown;
        *cap = ncap;
    }
    struct prop *p = &(*list)[(*count)++];
    memset(p, 0, sizeof *p);
    p->key = k;
    p->value = v;
    return p;
}

/* Splits `key = value` (value trimmed, trailing comment removed). Returns 0 when the line
 * has no `=` or an empty key. */
static int split_property(const char *start, const char *end, const char **key, size_t *key_len,
                          const char **value, size_t *value_len)
{
    const char *eq = memchr(start, '=', (size_t)(end - start));
    if (!eq)
        return 0;
    const char *ks = start, *ke = eq;
    trim(&ks, &ke);
    if (ks == ke)
        return 0;
    const char *vs = eq + 1, *ve = end;
    ve = comment_cut(vs, ve);
    trim(&vs, &ve);
    *key = ks;
    *key_len = (size_t)(ke - ks);
    *value = vs;
    *value_len = (size_t)(ve - vs);
    return 1;
}

/* Splits [s, e) into words with POSIX shell rules, as Python's shlex.split does (quotes,
 * backslash escapes, no comments). Copies the second word into *second (when there is one)
 * and returns the number of words, or -1 for an unbalanced quote or a trailing backslash. */
static int shell_words(const char *s, const char *e, struct buf *second)
{
    enum { PLAIN, SINGLE, DOUBLE } state = PLAIN;
    int words = 0, in_word = 0;
    for (const char *p = s; p < e; p++) {
        char c = *p;
        if (state == SINGLE) {
            if (c == '\'')
                state = PLAIN;
            else if (words == 2)
                buf_putc(second, c);
            continue;
        }
        if (state == DOUBLE) {
            if (c == '"') {
                state = PLAIN;
                continue;
            }
            if (c == '\\' && p + 1 < e && (p[1] == '"' || p[1] == '\\'))
                c = *++p;
            if (words == 2)
                buf_putc(second, c);
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            in_word = 0;
            continue;
        }
        if (!in_word) {
            in_word = 1;
            words++;
        }
        if (c == '\'') {
            state = SINGLE;
        } else if (c == '"') {
            state = DOUBLE;
        } else {
            if (c == '\\') {
                if (p + 1 >= e)
                    return -1;
                c = *++p;
            }
            if (words == 2)
                buf_putc(second, c);
        }
    }
    return state == PLAIN ? words : -1;
}

/* Interprets the text between brackets of a section header (not trimmed: "[ profile x ]" is
 * not a profile, as in botocore). In the config file a header that starts with "profile",
 * "services" or "sso-session" is split with shell rules and names a section only when it has
 * exactly two words: `[profile 'my dev']` and `[profile "my dev"]` (what `aws configure` writes)
 * are the profile "my dev", `[profile my dev]` is nothing. Returns 0 for sections that are
 * not profiles, services or sso-sessions (they are parsed but their keys dropped); otherwise
 * the name goes to *name (the caller frees it). */
static int classify_header(enum profile_file_kind file_kind, const char *s, const char *e,
                           enum profile_section_kind *kind, char **name)
{
    *name = NULL;
    if (s == e)
        return 0;
    size_t len = (size_t)(e - s);
    if (file_kind == PROFILE_FILE_CREDENTIALS || (len == 7 && memcmp(s, "default", 7) == 0)) {
        /* Credentials-file names are literal; trimmed as they always were here. */
        const char *ts = s, *te = e;
        trim(&ts, &te);
        if (ts == te || (file_kind != PROFILE_FILE_CREDENTIALS && (ts != s || te != e)))
            return 0;
        *kind = PROFILE_SECTION_PROFILE;
        *name = ivs_strndup(ts, (size_t)(te - ts));
        return *name ? 1 : -1;
    }
    /* botocore tests the prefix with startswith, so "[profilex dev]" is the profile "dev". */
    static const struct {
        const char *prefix;
        enum profile_section_kind kind;
    } prefixes[] = {
        {"profile", PROFILE_SECTION_PROFILE},
        {"services", PROFILE_SECTION_SERVICES},
        {"sso-session", PROFILE_SECTION_SSO_SESSION},
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t plen = strlen(prefixes[i].prefix);
        if (len < plen || memcmp(s, prefixes[i].prefix, plen) != 0)
            continue;
        struct buf word = BUF_INIT;
        int n = shell_words(s, e, &word);
        if (n != 2 || buf_failed(&word)) {
            int failed = buf_failed(&word);
            buf_free(&word);
            return failed ? -1 : 0;
        }
        *kind = prefixes[i].kind;
        *name = ivs_strdup(buf_str(&word));
        buf_free(&word);
        return *name ? 1 : -1;
    }
    return 0;
}

struct profile_file *profile_file_parse(const char *text, size_t len, enum profile_file_kind kind)
{
    struct profile_file *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    /* Positions are kept as indexes because arrays move when they grow. */
    size_t section_index = (size_t)-1; /* current section, or none */
    size_t prop_index = (size_t)-1;    /* last property of the current section, for continuations */
    const char *p = text ? text : "", *limit = p + (text ? len : 0);
    /* A UTF-8 byte-order mark (Windows editors write one) is not part of the first line.
     * botocore refuses such a file outright; reading it is the friendlier choice. */
    if (limit - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < limit && !f->failed) {
        const char *nl = memchr(p, '\n', (size_t)(limit - p));
        const char *line_end = nl ? nl : limit;
        const char *s = p, *e = line_end;
        p = nl ? nl + 1 : limit;
        int indented = s < e && is_blank(*s);
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (indented && section_index != (size_t)-1 && prop_index != (size_t)-1) {
            struct prop *parent = &f->sections[section_index].props[prop_index];
            if (parent->value[0] == '\0' || parent->sub_count > 0) {
                const char *k, *v;
                size_t kl, vl;
                if (split_property(s, e, &k, &kl, &v, &vl) &&
                    !prop_set(&parent->subs, &parent->sub_count, &parent->sub_cap, k, kl, v, vl))
                    f->failed = 1;
            } else {
                /* A continuation line: botocore joins it to the value with a newline. */
                const char *ce = comment_cut(s, e);
                trim(&s, &ce);
                struct buf joined = BUF_INIT;
                buf_puts(&joined, parent->value);
                buf_putc(&joined, '\n');
                buf_append(&joined, s, (size_t)(ce - s));
                char *v = buf_steal(&joined);
                if (!v) {
                    f->failed = 1;
                } else {
                    wipe_free(parent->value);
                    parent->value = v;
                }
            }
            continue;
        }
        if (*s == '[') {
            section_index = (size_t)-1;
            prop_index = (size_t)-1;
            const char *close = memchr(s, ']', (size_t)(e - s));
            if (!close)
                continue;
            const char *rest = close + 1, *rest_end = e;
            trim(&rest, &rest_end);
            if (rest < rest_end && *rest != '#' && *rest != ';')
                continue; /* text after the header: the whole header is invalid */
            enum profile_section_kind sk;
            char *name;
            int cls = classify_header(kind, s + 1, close, &sk, &name);
            if (cls < 0)
                f->failed = 1;
            if (cls <= 0)
                continue;
            struct section *sec = section_open(f, sk, name);
            if (sec)
                section_index = (size_t)(sec - f->sections);
            continue;
        }
        prop_index = (size_t)-1;
        if (section_index == (size_t)-1)
            continue;
        const char *k, *v;
        size_t kl, vl;
        if (!split_property(s, e, &k, &kl, &v, &vl))
            continue;
        struct section *sec = &f->sections[section_index];
        struct prop *pr = prop_set(&sec->props, &sec->prop_count, &sec->prop_cap, k, kl, v, vl);
        if (!pr)
            f->failed = 1;
        else
            prop_index = (size_t)(pr - sec->props);
    }
    if (f->failed) {
        profile_file_free(f);
        return NULL;
    }
    return f;
}

struct profile_file *profile_file_load(const char *path, enum profile_file_kind kind)
{
    if (!path || !*path)
        return NULL;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
     * The type is checked on the open descriptor (no race with a path swapped in between);
     * anything but a regular file is skipped like a missing one. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (unsigned long long)st.st_size > PROFILE_MAX_FILE_BYTES) {
        close(fd);
        return NULL;
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return NULL;
    }
    /* Read in one go into a buffer sized up front, so no secret-bearing copy is left behind
     * by a realloc. */
    size_t cap = (size_t)st.st_size + 1;
    char *text = malloc(cap);
    if (!text) {
        fclose(fp);
        return NULL;
    }
    size_t len = fread(text, 1, cap - 1, fp);
    int read_error = ferror(fp);
    fclose(fp);
    struct profile_file *f = read_error ? NULL : profile_file_parse(text, len, kind);
    explicit_bzero(text, cap);
    free(text);
    return f;
}

int profile_section_exists(const struct profile_file *f, enum profile_section_kind kind,
                           const char *name)
{
    return section_find(f, kind, name) != NULL;
}

size_t profile_section_key_count(const struct profile_file *f, enum profile_section_kind kind,
                                 const char *name)
{
    const struct section *s = section_find(f, kind, name);
    return s ? s->prop_count : 0;
}

static const struct prop *prop_find(const struct prop *list, size_t count, const char *key)
{
    if (!key)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(list[i].key, key) == 0)
            return &list[i];
    }
    return NULL;
}

const char *profile_section_get(const struct profile_file *f, enum profile_section_kind kind,
                                const char *name, const char *key)
{
    const struct section *s = section_find(f, kind, name);
    if (!s)
        return NULL;
    const struct prop *p = prop_find(s->props, s->prop_count, key);
    if (!p || p->sub_count > 0)
        return NULL;
    return p->value;
}

const char *profile_get(const struct profile_file *f, const char *profile, const char *key)
{
    return profile_section_get(f, PROFILE_SECTION_PROFILE, profile, key);
}

const char *profile_get_sub(const struct profile_file *f, enum profile_section_kind kind,
                            const char *name, const char *key, const char *subkey)
{
    const struct section *s = section_find(f, kind, name);
    if (!s)
        return NULL;
    const struct prop *p = prop_find(s->props, s->prop_count, key);
    if (!p)
        return NULL;
    const struct prop *sub = prop_find(p->subs, p->sub_count, subkey);
    return sub ? sub->value : NULL;
}
