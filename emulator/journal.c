#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

struct journal {
    int fd;
    int sync;
};

char *journal_path(const char *state_path, uint64_t generation)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s.journal.%llu", state_path, (unsigned long long)generation);
    return buf_steal(&b);
}

/* A new directory entry is durable only once its directory is flushed. */
static void sync_parent(const char *path)
{
    char *dir = strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    const char *dname = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
    int dfd = dir ? open(dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
}

struct journal *journal_open(const char *path, int sync, char *errbuf, size_t errlen)
{
    struct journal *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    /* The journal holds stream keys: never readable by others, whatever the umask. */
    j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (j->fd < 0 || fchmod(j->fd, 0600) != 0) {
        snprintf(errbuf, errlen, "cannot create %s: %s", path, strerror(errno));
        if (j->fd >= 0)
            close(j->fd);
        free(j);
        return NULL;
    }
    j->sync = sync;
    if (sync)
        sync_parent(path);
    return j;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    close(j->fd);
    free(j);
}

int journal_append(struct journal *j, const cJSON *record)
{
    char *text = cJSON_PrintUnformatted(record);
    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    size_t len = strlen(text);
    /* One write() for the whole line: a process that dies cannot leave half of it, only the
     * disk can (power loss), and replay ignores such a last line. */
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        errno = ENOMEM;
        return -1;
    }
    line[len] = '\n';
    size_t done = 0;
    int rc = 0;
    while (done < len + 1) {
        ssize_t w = write(j->fd, line + done, len + 1 - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = -1;
            break;
        }
        done += (size_t)w;
    }
    free(line);
    if (rc == 0 && j->sync && fdatasync(j->fd) != 0)
        rc = -1;
    return rc;
}

static int append_op(struct journal *j, const char *op, const char *kind, const char *id,
                     const cJSON *value)
{
    cJSON *r = cJSON_CreateObject();
    int ok = r && cJSON_AddStringToObject(r, "op", op) && cJSON_AddStringToObject(r, "kind", kind);
    if (ok && id)
        ok = cJSON_AddStringToObject(r, "id", id) != NULL;
    if (ok && value) {
        cJSON *copy = cJSON_Duplicate(value, 1);
        ok = copy && cJSON_AddItemToObject(r, "value", copy);
        if (!ok)
            cJSON_Delete(copy);
    }
    int rc = ok ? journal_append(j, r) : -1;
    if (!ok)
        errno = ENOMEM;
    cJSON_Delete(r);
    return rc;
}

int journal_put(struct journal *j, const char *kind, const char *id, const cJSON *value)
{
    return append_op(j, "put", kind, id, value);
}

int journal_del(struct journal *j, const char *kind, const char *id)
{
    return append_op(j, "del", kind, id, NULL);
}

int journal_clear(struct journal *j, const char *kind)
{
    return append_op(j, "clear", kind, NULL, NULL);
}

int journal_replay(const char *path, journal_apply_fn apply, void *ctx, int *torn, char *errbuf,
                   size_t errlen)
{
    *torn = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(errbuf, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(errbuf, errlen, "not a regular file");
        return -1;
    }
    struct buf text = BUF_INIT;
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        buf_append(&text, chunk, (size_t)n);
    }
    close(fd);
    if (n < 0 || buf_failed(&text)) {
        snprintf(errbuf, errlen, "cannot read: %s", n < 0 ? strerror(errno) : "out of memory");
        buf_free(&text);
        return -1;
    }
    const char *p = buf_str(&text), *end = p + text.len;
    int rc = 0;
    for (long line = 1; p < end && rc == 0; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            *torn = 1;
            break;
        }
        if (nl > p) {
            cJSON *rec = cJSON_ParseWithLength(p, (size_t)(nl - p));
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(rec, "op");
            char why[256] = "";
            if (!cJSON_IsObject(rec) || !cJSON_IsString(op)) {
                snprintf(errbuf, errlen, "line %ld: not a journal record", line);
                rc = -1;
            } else if (apply(ctx, rec, why, sizeof why) != 0) {
                snprintf(errbuf, errlen, "line %ld: %s", line, why);
                rc = -1;
            }
            cJSON_Delete(rec);
        }
        p = nl + 1;
    }
    buf_free(&text);
    return rc;
}
