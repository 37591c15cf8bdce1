#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/rand.h>

static const char s_alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static void random_bytes(unsigned char *out, size_t n)
{
    if (RAND_bytes(out, (int)n) == 1)
        return;
    /* RAND_bytes only fails without an entropy source; getrandom is the same source. */
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
}

void emu_random_alnum(char *out, size_t n)
{
    size_t filled = 0;
    unsigned char pool[64];
    while (filled < n) {
        random_bytes(pool, sizeof pool);
        for (size_t i = 0; i < sizeof pool && filled < n; i++) {
            /* 248 = 4 * 62: rejecting above it keeps every character equally likely. */
            if (pool[i] < 248)
                out[filled++] = s_alnum[pool[i] % 62];
        }
    }
    out[n] = '\0';
}

void emu_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char pool[64];
    for (size_t i = 0; i < n; i++) {
        if (i % sizeof pool == 0)
            random_bytes(pool, sizeof pool);
        out[i] = hex[pool[i % sizeof pool] & 15];
    }
    out[n] = '\0';
}

/* Request and event ids need to be unique, not secret: drawing 16 bytes from OpenSSL's DRBG
 * for every request cost about a tenth of the emulator's instructions per request. Each thread
 * keeps a splitmix64 generator seeded once from RAND_bytes (per thread: the request threads
 * never contend for it; the seed makes two emulators' ids differ). */
static _Thread_local struct {
    uint64_t state;
    int seeded;
} s_ids;

static uint64_t next_id_bits(void)
{
    if (!s_ids.seeded) {
        random_bytes((unsigned char *)&s_ids.state, sizeof s_ids.state);
        s_ids.seeded = 1;
    }
    uint64_t z = (s_ids.state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void emu_uuid(char out[37])
{
    unsigned char b[16];
    uint64_t hi = next_id_bits(), lo = next_id_bits();
    memcpy(b, &hi, 8);
    memcpy(b + 8, &lo, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    /* Formatted by hand: this runs for every request, and a 16-conversion snprintf costs about
     * as much as drawing the bytes. */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < sizeof b; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

double emu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void emu_iso_time(double t, char out[21])
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *emu_base64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = s_b64[(v >> 18) & 63];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? s_b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? s_b64[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(s_b64, c) : NULL;
    return p ? (int)(p - s_b64) : -1;
}

char *emu_base64_decode(const char *text, size_t *len_out)
{
    size_t n = strlen(text);
    if (n == 0 || n % 4 != 0)
        return NULL;
    char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            char c = text[i + j];
            /* Padding is only legal in the last two places of the last quantum. */
            if (c == '=' && i + 4 == n && j >= 2 && (j == 3 || text[i + 3] == '=')) {
                v[j] = -2;
                continue;
            }
            v[j] = b64_value(c);
            if (v[j] < 0) {
                free(out);
                return NULL;
            }
        }
        unsigned word = ((unsigned)v[0] << 18) | ((unsigned)v[1] << 12);
        out[o++] = (char)(word >> 16);
        if (v[2] >= 0) {
            word |= (unsigned)v[2] << 6;
            out[o - 1] = (char)(word >> 16);
            out[o++] = (char)((word >> 8) & 255);
            if (v[3] >= 0) {
                word |= (unsigned)v[3];
                out[o++] = (char)(word & 255);
            }
        } else if (v[3] >= 0) {
            free(out);
            return NULL;
        }
    }
    out[o] = '\0';
    if (len_out)
        *len_out = o;
    return out;
}

uint64_t emu_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static const char s_tombstone_mark = 0;
#define STRMAP_TOMBSTONE (&s_tombstone_mark)

static struct strmap_slot *strmap_find(const struct strmap *m, const char *key, uint64_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask, probes = 0; probes < m->cap; i = (i + 1) & mask, probes++) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != STRMAP_TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
    return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct strmap_slot *s = strmap_find(m, key, emu_hash(key));
    return s ? s->value : NULL;
}

static int strmap_grow(struct strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    /* Tombstones alone can fill the table; rehashing at the same size clears them. */
    if (m->count * 4 < m->cap)
        ncap = m->cap;
    struct strmap_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key || s->key == STRMAP_TOMBSTONE)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->used = m->count;
    return 0;
}

int strmap_put(struct strmap *m, const char *key, void *value)
{
    uint64_t h = emu_hash(key);
    struct strmap_slot *s = strmap_find(m, key, h);
    if (s) {
        s->key = key;
        s->value = value;
        return 0;
    }
    if ((m->used + 1) * 4 >= m->cap * 3 && strmap_grow(m) != 0)
        return -1;
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].key && m->slots[i].key != STRMAP_TOMBSTONE)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i].key = key;
    m->slots[i].value = value;
    m->slots[i].hash = h;
    m->count++;
    return 0;
}

void *strmap_remove(struct strmap *m, const char *key)
{
    struct strmap_slot *s = strmap_find(m, key, emu_hash(key));
    if (!s)
        return NULL;
    void *v = s->value;
    s->key = STRMAP_TOMBSTONE;
    s->value = NULL;
    m->count--;
    return v;
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

int emu_region_valid(const char *s)
{
    if (!s || strlen(s) > 32 || !(s[0] >= 'a' && s[0] <= 'z') || !(s[1] >= 'a' && s[1] <= 'z') ||
        s[2] != '-')
        return 0;
    /* Words of letters after the prefix, then a final word of one or two digits. */
    const char *p = s + 3;
    for (;;) {
        const char *w = p;
        while (*p >= 'a' && *p <= 'z')
            p++;
        if (p == w)
            break;
        if (*p != '-')
            return 0;
        p++;
    }
    const char *d = p;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > d && p - d <= 2 && *p == '\0' && d > s + 3;
}
