/* fuzz.h: what the fuzz harnesses in tests/fuzz share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput and is built two ways: with clang's
 * libFuzzer (`make fuzz`, under ASan/UBSan, tests/fuzz/run-fuzz runs it) and, with any
 * compiler, linked to replay.c as a plain program that runs every file of
 * tests/fuzz/corpus/NAME/ once (`make test`). A harness never prints, keeps no state between
 * inputs beyond what it creates once and resets, and aborts (through FUZZ_ASSERT) when a
 * property that must hold for every input does not. */
#ifndef IVS_FUZZ_H
#define IVS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: say which and abort, so libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated copy of n bytes (the parsers under test take C strings). */
static inline char *fuzz_strndup(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* One line of an HTTP-like message: [*pos, end of line) without the "\r\n" or "\n"; advances
 * *pos past the line break. Returns the line length, or (size_t)-1 when no bytes are left. */
static inline size_t fuzz_next_line(const uint8_t *data, size_t size, size_t *pos,
                                    const uint8_t **line)
{
    if (*pos >= size)
        return (size_t)-1;
    const uint8_t *start = data + *pos;
    const uint8_t *nl = memchr(start, '\n', size - *pos);
    size_t n = nl ? (size_t)(nl - start) : size - *pos;
    *pos += n + (nl ? 1 : 0);
    *line = start;
    if (n && start[n - 1] == '\r')
        n--;
    return n;
}

/* A header of a parsed message: NUL-terminated copies. */
struct fuzz_header {
    char *name, *value;
};

/* An HTTP-like message as the harnesses read their input: a start line, "Name: value" header
 * lines up to an empty line, then the body. */
struct fuzz_message {
    char *start;                    /* the first line */
    struct fuzz_header headers[64]; /* more are ignored */
    size_t header_count;
    const uint8_t *body; /* points into the input */
    size_t body_len;
};

/* Parses one message from data[*pos...]; the body runs to the end of the input, or for
 * `Content-Length: n` n bytes (at most what is left) when use_length. Returns 0, -1 when
 * nothing is left or memory runs out. */
static inline int fuzz_parse_message(const uint8_t *data, size_t size, size_t *pos, int use_length,
                                     struct fuzz_message *m)
{
    memset(m, 0, sizeof *m);
    const uint8_t *line;
    size_t n = fuzz_next_line(data, size, pos, &line);
    if (n == (size_t)-1)
        return -1;
    m->start = fuzz_strndup(line, n);
    if (!m->start)
        return -1;
    long long content_length = -1;
    while ((n = fuzz_next_line(data, size, pos, &line)) != (size_t)-1 && n > 0) {
        const uint8_t *colon = memchr(line, ':', n);
        if (!colon || m->header_count == sizeof m->headers / sizeof m->headers[0])
            continue;
        size_t name_len = (size_t)(colon - line);
        const uint8_t *v = colon + 1;
        size_t v_len = n - name_len - 1;
        while (v_len && (*v == ' ' || *v == '\t'))
            v++, v_len--;
        struct fuzz_header *h = &m->headers[m->header_count];
        h->name = fuzz_strndup(line, name_len);
        h->value = fuzz_strndup(v, v_len);
        if (!h->name || !h->value) {
            free(h->name);
            free(h->value);
            return -1;
        }
        m->header_count++;
        if (name_len == 14 && !strncasecmp(h->name, "content-length", 14))
            content_length = strtoll(h->value, NULL, 10);
    }
    size_t left = *pos < size ? size - *pos : 0;
    m->body = data + (*pos < size ? *pos : size);
    m->body_len = left;
    if (use_length) {
        m->body_len = content_length >= 0 && (unsigned long long)content_length < left
                          ? (size_t)content_length
                          : (content_length >= 0 ? left : 0);
        *pos += m->body_len;
    } else {
        *pos = size;
    }
    return 0;
}

static inline void fuzz_message_free(struct fuzz_message *m)
{
    free(m->start);
    for (size_t i = 0; i < m->header_count; i++) {
        free(m->headers[i].name);
        free(m->headers[i].value);
    }
    memset(m, 0, sizeof *m);
}

/* The value of the first header with this name (any case), NULL when absent. */
static inline const char *fuzz_header(const struct fuzz_message *m, const char *name)
{
    for (size_t i = 0; i < m->header_count; i++)
        if (!strcasecmp(m->headers[i].name, name))
            return m->headers[i].value;
    return NULL;
}

#endif
