/* buf.h: a growable byte buffer, the one string builder of the core.
 * Allocation failures are sticky: after one, every append is a no-op and buf_failed() is
 * true, so callers check once at the end instead of after every append. */
#ifndef IVS_BUF_H
#define IVS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    int failed;
    /* Nonzero: the contents are secret, so every block the buffer lets go of (when it grows,
     * on buf_free) is overwritten first. Survives buf_free and buf_reset. */
    int sensitive;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0, 0, 0                                                                           \
    }

/* Ensures room for `extra` more bytes plus the terminating NUL; returns 0 or -1. */
int buf_reserve(struct buf *b, size_t extra);
/* The growing path of buf_append (what the inline fast path below falls back to). */
void buf_append_slow(struct buf *b, const void *data, size_t len);
/* Appends len bytes (data may be NULL when len is 0). Inline: most appends fit the room the
 * buffer already has, and the core makes a great many small ones per call. */
static inline void buf_append(struct buf *b, const void *data, size_t len)
{
    if (b->data && !b->failed && len < b->cap - b->len) {
        if (len)
            memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return;
    }
    buf_append_slow(b, data, len);
}
static inline void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }
static inline void buf_putc(struct buf *b, char c) { buf_append(b, &c, 1); }
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends the lowercase hex form of `len` bytes. */
void buf_put_hex(struct buf *b, const unsigned char *bytes, size_t len);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Hands the data to the caller (never NULL unless allocation failed: an empty buffer gives
 * ""), leaving the buffer empty. Returns NULL if any earlier append failed. */
char *buf_steal(struct buf *b);
static inline int buf_failed(const struct buf *b) { return b->failed; }
/* The contents as a C string ("" when empty). */
static inline const char *buf_str(const struct buf *b) { return b->data ? b->data : ""; }

/* The value of a hexadecimal digit (either case), or -1 when c is not one. */
static inline int ivs_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* strdup that accepts NULL (returns NULL). */
char *ivs_strdup(const char *s);
char *ivs_strndup(const char *s, size_t n);

#endif
