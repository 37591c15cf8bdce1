/* conc_bench.c: many CreateChannel calls with a fixed number in flight, for `make bench`.
 *
 * THREADS threads, each with its own client (a client serves one thread at a time), take
 * call numbers from a shared counter until TOTAL calls have been made: at most THREADS calls
 * are in flight at any moment, which is what a thread pool of that size does.
 *
 * Usage: conc_bench ENDPOINT TOTAL THREADS   (credentials from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, passed to the clients explicitly)
 * Prints {"calls":N,"threads":T,"errors":E,"wall_s":S}; exits 1 when a call failed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ivs.h"

struct shared {
    const char *endpoint;
    const char *access_key_id;
    const char *secret_access_key;
    long total;
    atomic_long next;
    atomic_long errors;
    pthread_barrier_t start; /* every client is created before the clock starts */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    struct shared *sh = arg;
    struct ivs_client_options opts = {0};
    opts.region = "us-west-2";
    opts.endpoint = sh->endpoint;
    opts.access_key_id = sh->access_key_id;
    opts.secret_access_key = sh->secret_access_key;
    struct ivs_client *client = NULL;
    struct ivs_error err = {0};
    if (ivs_client_new(&opts, &client, &err) != IVS_OK) {
        fprintf(stderr, "conc_bench: ivs_client_new: %s\n", err.message ? err.message : "?");
        ivs_error_clear(&err);
        atomic_fetch_add(&sh->errors, 1);
    }
    pthread_barrier_wait(&sh->start);
    if (!client)
        return NULL;
    for (;;) {
        long i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->total)
            break;
        char body[64];
        int len = snprintf(body, sizeof body, "{\"name\":\"conc-%ld\"}", i);
        char *out = NULL;
        if (ivs_client_call(client, "CreateChannel", body, (size_t)len, &out, NULL, &err) !=
            IVS_OK) {
            fprintf(stderr, "conc_bench: CreateChannel: %s: %s\n", err.code ? err.code : "?",
                    err.message ? err.message : "?");
            ivs_error_clear(&err);
            atomic_fetch_add(&sh->errors, 1);
        }
        ivs_free(out);
    }
    ivs_client_free(client);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atol(argv[2]) < 1 || atoi(argv[3]) < 1) {
        fprintf(stderr, "usage: conc_bench ENDPOINT TOTAL THREADS\n");
        return 2;
    }
    struct shared sh;
    memset(&sh, 0, sizeof sh);
    sh.endpoint = argv[1];
    sh.total = atol(argv[2]);
    sh.access_key_id = getenv("AWS_ACCESS_KEY_ID");
    sh.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
    atomic_init(&sh.next, 0);
    atomic_init(&sh.errors, 0);
    int threads = atoi(argv[3]);
    if (!sh.access_key_id || !sh.secret_access_key) {
        fprintf(stderr, "conc_bench: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set\n");
        return 2;
    }
    /* libcurl's advice: initialise it before starting threads. */
    if (ivs_global_init() < 0) {
        fprintf(stderr, "conc_bench: ivs_global_init failed\n");
        return 1;
    }
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    if (!ids || pthread_barrier_init(&sh.start, NULL, (unsigned)threads + 1) != 0) {
        fprintf(stderr, "conc_bench: out of memory\n");
        return 1;
    }
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&ids[t], NULL, worker, &sh) != 0) {
            fprintf(stderr, "conc_bench: cannot start thread %d\n", t);
            return 1;
        }
    }
    pthread_barrier_wait(&sh.start);
    double start = now_s();
    for (int t = 0; t < threads; t++)
        pthread_join(ids[t], NULL);
    double wall = now_s() - start;
    long errors = atomic_load(&sh.errors);
    printf("{\"calls\":%ld,\"threads\":%d,\"errors\":%ld,\"wall_s\":%.6f}\n", sh.total, threads,
           errors, wall);
    pthread_barrier_destroy(&sh.start);
    free(ids);
    return errors ? 1 : 0;
}
