/* emu_load: a small load generator for ivs-emulator. It starts its own emulator (or uses
 * --url), creates --channels channels, then N threads send signed GetChannel requests over
 * keep-alive connections for --seconds and it prints the requests per second.
 *   build/tools/emu_load [--threads 4] [--seconds 5] [--channels 1] [--url http://127.0.0.1:PORT]
 */
#include <pthread.h>
#include <stdatomic.h>

#include "test_emulator_client.h"

struct worker {
    struct emu_child *emu;
    char (*arns)[160];
    int arn_count;
    double deadline;
    long done;
    long failed;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    CURL *curl = curl_easy_init();
    char body[256];
    for (long i = 0; now_s() < w->deadline; i++) {
        snprintf(body, sizeof body, "{\"arn\":\"%s\"}", w->arns[i % w->arn_count]);
        struct emu_resp r;
        emu_send(curl, w->emu, "POST", "/GetChannel", NULL, body, NULL, &r);
        if (r.status == 200)
            w->done++;
        else
            w->failed++;
        emu_resp_free(&r);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 4, seconds = 5, channels = 1;
    const char *url = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--channels"))
            channels = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--url"))
            url = argv[i + 1];
    }
    if (threads < 1 || threads > 64 || seconds < 1 || seconds > 600 || channels < 1 ||
        channels > 5000) {
        fprintf(stderr, "emu_load: bad arguments\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct emu_child emu = {0};
    if (url) {
        const char *colon = strrchr(url, ':');
        emu.port = colon ? (unsigned)atoi(colon + 1) : 0;
        snprintf(emu.base, sizeof emu.base, "%s", url);
    } else if (emu_start(&emu, NULL) != 0) {
        fprintf(stderr, "emu_load: cannot start the emulator\n");
        return 1;
    }
    char(*arns)[160] = calloc((size_t)channels, sizeof *arns);
    CURL *curl = curl_easy_init();
    double t0 = now_s();
    for (int i = 0; i < channels; i++) {
        struct emu_resp r;
        emu_send(curl, &emu, "POST", "/CreateChannel", NULL, "{\"name\":\"load\"}", NULL, &r);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r.json, "channel"), "arn");
        snprintf(arns[i], sizeof arns[i], "%s", cJSON_IsString(a) ? a->valuestring : "");
        emu_resp_free(&r);
    }
    double created = now_s() - t0;
    curl_easy_cleanup(curl);
    pthread_t tids[64];
    struct worker ws[64];
    double start = now_s();
    for (int i = 0; i < threads; i++) {
        ws[i] = (struct worker){&emu, arns, channels, start + seconds, 0, 0};
        pthread_create(&tids[i], NULL, work, &ws[i]);
    }
    long done = 0, failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        done += ws[i].done;
        failed += ws[i].failed;
    }
    double elapsed = now_s() - start;
    printf("created %d channels in %.2f s; %ld signed GetChannel ok, %ld failed, in %.2f s with %d "
           "connections: "
           "%.0f requests/s\n",
           channels, created, done, failed, elapsed, threads, (double)done / elapsed);
    if (!url)
        emu_stop(&emu, SIGTERM);
    free(arns);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
