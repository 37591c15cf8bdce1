/* profile.h: the shared AWS config and credentials files (~/.aws/config, ~/.aws/credentials).
 *
 * The format follows botocore: `[profile name]` and `[default]` sections in the config file,
 * where a header starting with "profile", "services" or "sso-session" is split with shell
 * rules and must give exactly two words (`[profile 'my dev']` names "my dev", as `aws
 * configure` writes it); `[name]` in the credentials file (where `[profile foo]` is the
 * literal name "profile foo"),
 * `[services name]` and `[sso-session name]` sections kept apart from profiles, `key = value`
 * properties, and a property with an empty value followed by indented `key = value` lines
 * forming a nested map (`ivs =` / `  endpoint_url = ...`). Comments start with `#` or `;` at
 * the beginning of a line, or after whitespace following a value. Keys are folded to lower
 * case (botocore's parser does the same); section names are case-sensitive. Sections that
 * appear twice are merged, later keys winning. Lines that make no sense are skipped: a
 * broken line never makes a whole file unusable. A leading UTF-8 byte-order mark is ignored
 * (botocore refuses such a file). */
#ifndef IVS_PROFILE_H
#define IVS_PROFILE_H

#include <stddef.h>

enum profile_file_kind {
    PROFILE_FILE_CONFIG,      /* ~/.aws/config: `[profile name]`, `[default]` */
    PROFILE_FILE_CREDENTIALS, /* ~/.aws/credentials: `[name]` */
};

enum profile_section_kind {
    PROFILE_SECTION_PROFILE,
    PROFILE_SECTION_SERVICES,    /* `[services name]` (config file only) */
    PROFILE_SECTION_SSO_SESSION, /* `[sso-session name]` (config file only) */
};

struct profile_file;

/* Parses `len` bytes of file text (NUL bytes and invalid UTF-8 are tolerated). Returns NULL
 * only when memory runs out. */
struct profile_file *profile_file_parse(const char *text, size_t len, enum profile_file_kind kind);

/* Reads and parses a file. NULL when it cannot be read (missing, a directory, no permission,
 * out of memory): an unreadable file counts as absent, as in every AWS SDK. */
struct profile_file *profile_file_load(const char *path, enum profile_file_kind kind);

/* Releases a parsed file, overwriting every stored value first (the credentials file holds
 * secret keys). NULL is accepted. */
void profile_file_free(struct profile_file *f);

/* Nonzero when the file has a section of this kind and name. f may be NULL (absent file). */
int profile_section_exists(const struct profile_file *f, enum profile_section_kind kind,
                           const char *name);

/* How many keys a section holds: 0 when it is empty or absent (f may be NULL). */
size_t profile_section_key_count(const struct profile_file *f, enum profile_section_kind kind,
                                 const char *name);

/* The value of `key` (any case) in a section; NULL when the file, the section or the key is
 * absent, or when the key only holds a nested map. The string belongs to the file. */
const char *profile_section_get(const struct profile_file *f, enum profile_section_kind kind,
                                const char *name, const char *key);

/* Shorthand for profile_section_get(f, PROFILE_SECTION_PROFILE, profile, key). */
const char *profile_get(const struct profile_file *f, const char *profile, const char *key);

/* A nested value: `subkey` inside the `key =` block of a section, e.g.
 * profile_get_sub(f, PROFILE_SECTION_SERVICES, "local", "ivs", "endpoint_url"). */
const char *profile_get_sub(const struct profile_file *f, enum profile_section_kind kind,
                            const char *name, const char *key, const char *subkey);

#endif
