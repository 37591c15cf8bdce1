/* spawn.c: runs a command several times and measures each run from the outside, for
 * `make bench` (cold start and peak memory). Lua's os.execute cannot report a child's
 * resource usage; wait4() can.
 *
 * Usage: spawn [-o FILE] [-t SECONDS] RUNS COMMAND [ARGS...]
 *   -o FILE     the child's stdout goes to FILE (truncated first; every run appends);
 *               default /dev/null
 *   -t SECONDS  a run still going after this long is killed (SIGKILL) and reported
 *               with status -1; default 120
 * Prints one JSON object: {"runs":[{"wall_s":..,"user_s":..,"sys_s":..,"maxrss_kb":..,
 * "status":..},...]}; status is the exit code, 128+N for a signal, -1 for a timeout.
 * Exits 0 when every run exited 0, 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void usage(void)
{
    fprintf(stderr, "usage: spawn [-o FILE] [-t SECONDS] RUNS COMMAND [ARGS...]\n");
}

int main(int argc, char **argv)
{
    const char *out_path = "/dev/null";
    double timeout_s = 120;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        if (!strcmp(argv[i], "-o"))
            out_path = argv[i + 1];
        else if (!strcmp(argv[i], "-t"))
            timeout_s = atof(argv[i + 1]);
        else {
            usage();
            return 2;
        }
    }
    if (argc - i < 2 || atoi(argv[i]) < 1 || timeout_s <= 0) {
        usage();
        return 2;
    }
    int runs = atoi(argv[i]);
    char **cmd = argv + i + 1;

    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) {
        fprintf(stderr, "spawn: %s: %s\n", out_path, strerror(errno));
        return 2;
    }

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);

    int all_ok = 1;
    printf("{\"runs\":[");
    for (int r = 0; r < runs; r++) {
        double start = now_s();
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "spawn: fork: %s\n", strerror(errno));
            return 2;
        }
        if (pid == 0) {
            sigprocmask(SIG_UNBLOCK, &chld, NULL);
            dup2(out_fd, STDOUT_FILENO);
            execvp(cmd[0], cmd);
            fprintf(stderr, "spawn: %s: %s\n", cmd[0], strerror(errno));
            _exit(127);
        }
        int status = 0, timed_out = 0;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        /* SIGCHLD is blocked, so waiting for it with a deadline costs no CPU while the child
         * runs (the measurement shares two cores with it). */
        for (;;) {
            pid_t got = wait4(pid, &status, WNOHANG, &ru);
            if (got == pid)
                break;
            if (got < 0 && errno != EINTR) {
                fprintf(stderr, "spawn: wait4: %s\n", strerror(errno));
                return 2;
            }
            double left = timeout_s - (now_s() - start);
            if (left <= 0) {
                if (!timed_out)
                    kill(pid, SIGKILL);
                timed_out = 1;
                left = 1;
            }
            struct timespec wait_for = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
            sigtimedwait(&chld, NULL, &wait_for);
        }
        double wall = now_s() - start;
        int code = timed_out             ? -1
                   : WIFEXITED(status)   ? WEXITSTATUS(status)
                   : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                         : -1;
        if (code != 0)
            all_ok = 0;
        printf("%s{\"wall_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f,\"maxrss_kb\":%ld,\"status\":%d}",
               r ? "," : "", wall, tv_s(ru.ru_utime), tv_s(ru.ru_stime), ru.ru_maxrss, code);
        fflush(stdout);
    }
    printf("]}\n");
    close(out_fd);
    return all_ok ? 0 : 1;
}
