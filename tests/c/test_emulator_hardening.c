/* test_emulator_hardening.c: ivs-emulator against hostile or unlucky conditions: state files
 * that must be refused with one clear line (never a crash), a connection flood (slowloris),
 * oversized bodies, kill -9 in the middle of acknowledged writes, region strings under
 * --no-auth, and the small command-line contract (--version, the non-loopback warning). Every
 * emulator here is a child process on 127.0.0.1 with a free port; every wait is bounded. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "harness.h"
#include "ivs.h"
#include "test_emulator_client.h"

static pid_t g_children[8];

static void on_alarm(int sig)
{
    (void)sig;
    for (size_t i = 0; i < sizeof g_children / sizeof g_children[0]; i++)
        if (g_children[i] > 0)
            kill(g_children[i], SIGKILL);
    static const char msg[] = "not ok - watchdog: test_emulator_hardening took too long\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

static void watch(pid_t pid)
{
    for (size_t i = 0; i < sizeof g_children / sizeof g_children[0]; i++)
        if (g_children[i] <= 0) {
            g_children[i] = pid;
            return;
        }
}

static void unwatch(pid_t pid)
{
    for (size_t i = 0; i < sizeof g_children / sizeof g_children[0]; i++)
        if (g_children[i] == pid)
            g_children[i] = 0;
}

static const char *emulator_path(void)
{
    static char exe[1024];
    const char *build = getenv("IVS_BUILD");
    snprintf(exe, sizeof exe, "%s/ivs-emulator", build ? build : "build");
    return exe;
}

/* Runs the emulator with args (NULL-terminated) until it exits (at most 10 s); stdout and
 * stderr are captured. Returns the exit status, or -1 when it crashed or hung. */
static int run_emulator(const char *const *args, struct buf *out, struct buf *err)
{
    int po[2], pe[2];
    if (pipe(po) != 0 || pipe(pe) != 0)
        return -1;
    const char *argv[32];
    int n = 0;
    argv[n++] = emulator_path();
    for (; args && *args && n < 30; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        close(po[1]);
        close(pe[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    if (pid < 0) {
        close(po[0]);
        close(pe[0]);
        return -1;
    }
    watch(pid);
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (open_fds > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left =
            10000 - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left <= 0 || poll(fds, 2, (int)left) <= 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char chunk[4096];
            ssize_t r = read(fds[i].fd, chunk, sizeof chunk);
            if (r <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else {
                buf_append(i ? err : out, chunk, (size_t)r);
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int status = 0;
    pid_t w = 0;
    for (int i = 0; i < 500 && (w = waitpid(pid, &status, WNOHANG)) == 0; i++) {
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    if (w != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        unwatch(pid);
        return -1;
    }
    unwatch(pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Starts an emulator (emu_start) and registers it with the watchdog. */
static int start(struct emu_child *c, const char *const *args)
{
    if (emu_start(c, args) != 0)
        return -1;
    watch(c->pid);
    return 0;
}

static int stop(struct emu_child *c, int sig)
{
    pid_t pid = c->pid;
    int st = emu_stop(c, sig);
    unwatch(pid);
    return st;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* Command line */

static void test_version(void)
{
    struct buf out = BUF_INIT, err = BUF_INIT;
    const char *args[] = {"--version", NULL};
    CHECK_INT_EQ(0, run_emulator(args, &out, &err));
    CHECK_STR_EQ("ivs-emulator " IVS_VERSION "\n", buf_str(&out));
    CHECK_INT_EQ(0, (long)err.len);
    buf_free(&out);
    buf_free(&err);
}

/* 192.0.2.1 (TEST-NET-1) is never assigned to this machine, so the bind fails after the
 * warning and no test server listens beyond loopback. */
static void test_non_loopback_warning(void)
{
    struct buf out = BUF_INIT, err = BUF_INIT;
    const char *args[] = {"--host", "192.0.2.1", "--port", "0", NULL};
    CHECK(run_emulator(args, &out, &err) != 0);
    CHECK_MSG(strstr(buf_str(&err), "warning: 192.0.2.1 is not a loopback address") != NULL,
              "stderr: %s", buf_str(&err));
    buf_free(&out);
    buf_free(&err);
    /* Loopback: no warning at all. */
    const char *lo[] = {"--host", "127.0.0.1", "--port", "0", NULL};
    struct emu_child c;
    char path[] = "/tmp/ivs-emu-stderr-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    int started = start(&c, lo);
    dup2(saved, 2);
    close(saved);
    CHECK(started == 0);
    if (started == 0)
        CHECK_INT_EQ(0, stop(&c, SIGTERM));
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
    close(fd);
    unlink(path);
}

static void test_bad_region_option(void)
{
    struct buf out = BUF_INIT, err = BUF_INIT;
    const char *args[] = {"--region", "us-west-2\"}", NULL};
    CHECK_INT_EQ(2, run_emulator(args, &out, &err));
    CHECK(strstr(buf_str(&err), "bad --region") != NULL);
    CHECK_INT_EQ(1, count_lines(buf_str(&err)));
    buf_free(&out);
    buf_free(&err);
}

/* ------------------------------------------------------------------------------------ */
/* --no-auth and the region of the credential scope */

static void test_no_auth_region(void)
{
    const char *args[] = {"--no-auth", NULL};
    struct emu_child c;
    if (start(&c, args) != 0) {
        CHECK_MSG(0, "could not start the emulator");
        return;
    }
    CURL *curl = curl_easy_init();
    struct emu_resp r;
    static const char *const bad[] = {"evil", "xx-evil-9", "us-west-2x", "US-WEST-2", "eu-west-9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct emu_sign s = {.region = bad[i]};
        emu_send(curl, &c, "POST", "/CreateChannel", NULL, "{}", &s, &r);
        CHECK_MSG(r.status == 403, "region %s: status %ld", bad[i], r.status);
        CHECK_STR_EQ("InvalidSignatureException", r.error_type);
        emu_resp_free(&r);
    }
    struct emu_sign good = {.region = "eu-west-1"};
    emu_send(curl, &c, "POST", "/CreateChannel", NULL, "{}", &good, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(strstr(buf_str(&r.body), "arn:aws:ivs:eu-west-1:") != NULL);
    emu_resp_free(&r);
    /* Without an Authorization header the default region applies. */
    struct emu_sign none = {.unsigned_request = 1};
    emu_send(curl, &c, "POST", "/CreateChannel", NULL, "{}", &none, &r);
    CHECK_INT_EQ(200, r.status);
    CHECK(strstr(buf_str(&r.body), "arn:aws:ivs:us-west-2:") != NULL);
    emu_resp_free(&r);
    curl_easy_cleanup(curl);
    CHECK_INT_EQ(0, stop(&c, SIGTERM));
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(240);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_version);
    RUN(test_non_loopback_warning);
    RUN(test_bad_region_option);
    RUN(test_no_auth_region);
    curl_global_cleanup();
    return harness_finish();
}
