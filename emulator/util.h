/* util.h: small helpers of the emulator: random identifiers, time formatting, base64 and a
 * string-keyed hash map. */
#ifndef EMU_UTIL_H
#define EMU_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Fills out[0..n-1] with uniformly random [A-Za-z0-9] characters and NUL-terminates it. */
void emu_random_alnum(char *out, size_t n);
/* Fills out[0..n-1] with random lowercase hex characters and NUL-terminates it. */
void emu_random_hex(char *out, size_t n);
/* A random RFC 4122 version-4 UUID, lowercase, into out[37]: unique, not unpredictable (a
 * per-thread generator seeded from the system's random source; never use it for a secret). */
void emu_uuid(char out[37]);
/* Wall-clock time in seconds (fractional). */
double emu_now(void);
/* Formats t (seconds since the epoch) as "YYYY-MM-DDTHH:MM:SSZ" into out[21]. */
void emu_iso_time(double t, char out[21]);
/* Standard base64 (with padding) of data; malloc'd. */
char *emu_base64_encode(const void *data, size_t len);
/* Decodes standard base64; returns a malloc'd NUL-terminated buffer and its length, or NULL
 * when the text is not valid base64. */
char *emu_base64_decode(const char *text, size_t *len_out);
/* 1 when s has the shape of an AWS region name (us-west-2, ap-southeast-1, us-gov-east-1,
 * cn-north-1): lowercase words joined by '-', two letters first, a number last. */
int emu_region_valid(const char *s);
/* 64-bit FNV-1a of a NUL-terminated string. */
uint64_t emu_hash(const char *s);

/* An open-addressing map from string keys (not owned; they must outlive their entry) to
 * pointers. Lookups, inserts and removals are O(1) on average. */
struct strmap {
    struct strmap_slot {
        const char *key; /* NULL: empty; STRMAP_TOMBSTONE: removed */
        void *value;
        uint64_t hash;
    } * slots;
    size_t cap;   /* power of two, 0 when unallocated */
    size_t count; /* live entries */
    size_t used;  /* live entries + tombstones */
};

void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces; returns 0, or -1 when out of memory. */
int strmap_put(struct strmap *m, const char *key, void *value);
/* Removes the entry; returns its value, or NULL when absent. */
void *strmap_remove(struct strmap *m, const char *key);
void strmap_free(struct strmap *m);

#endif
