/* test_emulator_client.h: what the emulator tests and tools share, compiled into each of them (not
 * a support file, so other suites do not link it): start ivs-emulator as a child process and send
 * it signed requests over libcurl. Header-only on purpose (static functions). */
#ifndef IVS_TEST_EMULATOR_CLIENT_H
#define IVS_TEST_EMULATOR_CLIENT_H

#include <errno.h>
#include <stddef.h>
#include <strings.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "sigv4.h"

#define EMU_FN static __attribute__((unused))

#define EMU_KEY_ID "AKIAIVSEMULATOR00001"
#define EMU_SECRET "ivsEmulatorTestSecretAccessKey0000000000"

struct emu_child {
    pid_t pid;
    unsigned port;
    char base[64];
};

/* Starts build/ivs-emulator --port 0 with extra arguments (NULL-terminated) and waits for
 * its "listening on" line (at most 10 s). Returns 0 or -1. */
EMU_FN int emu_start(struct emu_child *c, const char *const *extra)
{
    const char *build = getenv("IVS_BUILD");
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/ivs-emulator", build ? build : "build");
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    const char *argv[32];
    int n = 0;
    argv[n++] = exe;
    argv[n++] = "--port";
    argv[n++] = "0";
    for (; extra && *extra && n < 30; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    c->pid = pid;
    c->port = 0;
    char line[256];
    size_t len = 0;
    struct pollfd pfd = {fds[0], POLLIN, 0};
    while (len < sizeof line - 1 && poll(&pfd, 1, 10000) > 0) {
        ssize_t r = read(fds[0], line + len, 1);
        if (r <= 0)
            break;
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    close(fds[0]);
    const char *colon = strrchr(line, ':');
    if (strncmp(line, "listening on http://127.0.0.1:", 30) != 0 || !colon) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        c->pid = 0;
        return -1;
    }
    c->port = (unsigned)atoi(colon + 1);
    snprintf(c->base, sizeof c->base, "http://127.0.0.1:%u", c->port);
    return 0;
}

/* Sends sig and waits (at most 10 s, then SIGKILL); returns the exit status, or -1 when it
 * did not exit normally. */
EMU_FN int emu_stop(struct emu_child *c, int sig)
{
    if (c->pid <= 0)
        return -1;
    kill(c->pid, sig);
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(c->pid, &status, WNOHANG);
        if (r == c->pid) {
            c->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    c->pid = 0;
    return -1;
}

/* How to sign one request; zero fields take the defaults (the test key, now, ivs, us-west-2). */
struct emu_sign {
    const char *key_id;
    const char *secret;
    const char *region;
    const char *service;
    long time_offset;
    int unsigned_request;
    const char *content_type; /* default application/json when there is a body */
    const char *extra_header; /* "Name: value" */
};

struct emu_resp {
    long status;
    int curl_error;
    struct buf body;
    char error_type[128];
    char request_id[64];
    char content_type[128];
    cJSON *json;
};

EMU_FN size_t emu_write_cb(char *data, size_t size, size_t n, void *ud)
{
    buf_append(ud, data, size * n);
    return size * n;
}

EMU_FN void emu_copy_header(char *dst, size_t cap, const char *value, size_t len)
{
    while (len && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' '))
        len--;
    while (len && *value == ' ') {
        value++;
        len--;
    }
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, value, len);
    dst[len] = '\0';
}

EMU_FN size_t emu_header_cb(char *data, size_t size, size_t n, void *ud)
{
    struct emu_resp *r = ud;
    size_t len = size * n;
    static const struct {
        const char *name;
        size_t off;
        size_t cap;
    } wanted[] = {{"x-amzn-errortype:", offsetof(struct emu_resp, error_type),
                   sizeof((struct emu_resp *)0)->error_type},
                  {"x-amzn-requestid:", offsetof(struct emu_resp, request_id),
                   sizeof((struct emu_resp *)0)->request_id},
                  {"content-type:", offsetof(struct emu_resp, content_type),
                   sizeof((struct emu_resp *)0)->content_type}};
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        size_t nl = strlen(wanted[i].name);
        if (len > nl && !strncasecmp(data, wanted[i].name, nl))
            emu_copy_header((char *)r + wanted[i].off, wanted[i].cap, data + nl, len - nl);
    }
    return len;
}

EMU_FN void emu_resp_free(struct emu_resp *r)
{
    buf_free(&r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}

/* Sends one request (path and query as they go on the wire) with a reusable easy handle
 * (keep-alive). The response is parsed as JSON when it is. */
EMU_FN void emu_send(CURL *curl, const struct emu_child *c, const char *method, const char *path,
                     const char *query, const char *body, const struct emu_sign *sign,
                     struct emu_resp *out)
{
    memset(out, 0, sizeof *out);
    struct emu_sign d = {0};
    if (!sign)
        sign = &d;
    char url[4096], host[64];
    snprintf(url, sizeof url, "%s%s%s%s", c->base, path, query && *query ? "?" : "",
             query ? query : "");
    snprintf(host, sizeof host, "127.0.0.1:%u", c->port);
    size_t body_len = body ? strlen(body) : 0;
    struct curl_slist *hl = NULL;
    char line[8192];
    if (body) {
        snprintf(line, sizeof line, "Content-Type: %s",
                 sign->content_type ? sign->content_type : "application/json");
        hl = curl_slist_append(hl, line);
    } else {
        hl = curl_slist_append(hl, "Content-Type:");
    }
    /* Small bodies go at once. A body over 1 MiB keeps curl's "Expect: 100-continue" and
     * waits for the answer (the timeout below): a server that refuses it before the body (413)
     * then closes a connection with nothing unread, whereas a body already on the way into that
     * close makes the kernel reset the connection, and the client may lose the 413 with it. */
    if (body_len <= 1024 * 1024)
        hl = curl_slist_append(hl, "Expect:");
    hl = curl_slist_append(hl, "Accept:");
    if (sign->extra_header)
        hl = curl_slist_append(hl, sign->extra_header);
    if (!sign->unsigned_request) {
        struct ivs_header hs[2] = {{"Host", host}, {"Content-Type", "application/json"}};
        if (sign->content_type)
            hs[1].value = sign->content_type;
        struct sigv4_params p;
        memset(&p, 0, sizeof p);
        p.method = method;
        p.path = path;
        p.query = query;
        p.headers = hs;
        p.header_count = body ? 2 : 1;
        p.body = body;
        p.body_len = body_len;
        p.region = sign->region ? sign->region : "us-west-2";
        p.service = sign->service ? sign->service : "ivs";
        p.time = (int64_t)time(NULL) + sign->time_offset;
        p.access_key_id = sign->key_id ? sign->key_id : EMU_KEY_ID;
        p.secret_access_key = sign->secret ? sign->secret : EMU_SECRET;
        p.normalize_path = 1;
        p.double_encode = 1;
        struct sigv4_result res;
        struct ivs_error err = {0};
        if (sigv4_sign(&p, NULL, &res, &err) == IVS_OK) {
            snprintf(line, sizeof line, "X-Amz-Date: %s", res.amz_date);
            hl = curl_slist_append(hl, line);
            snprintf(line, sizeof line, "Authorization: %s", res.authorization);
            hl = curl_slist_append(hl, line);
            sigv4_result_cleanup(&res);
        }
        ivs_error_clear(&err);
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, emu_write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, emu_header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    /* A large body waits for the server's answer to Expect: 100-continue however loaded the
     * machine is; with curl's 1 s default it may start sending into a 413 the emulator has
     * already answered and closed, and report a send error instead of the status. */
    curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 30000L);
    CURLcode rc = curl_easy_perform(curl);
    out->curl_error = rc != CURLE_OK;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->body.len)
        out->json = cJSON_ParseWithLength(buf_str(&out->body), out->body.len);
    curl_slist_free_all(hl);
}

#endif
