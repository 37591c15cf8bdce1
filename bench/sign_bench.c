/* sign_bench.c: SigV4 signing throughput of the C core, for `make bench`.
 *
 * Signs the same IVS requests the botocore side signs (POST /CreateChannel with a JSON body,
 * GET /tags/{arn}) in a tight loop and prints one JSON object per line:
 *   {"what":"sigv4_sign+cache","request":"create_channel","signs":N,"seconds":S,"per_second":R}
 * "sigv4_sign+cache" is what the client does on every call (one signing-key cache per client);
 * "ivs_sign" is the public entry point, which parses the URL and derives the key every time.
 *
 * Usage: sign_bench [seconds-per-run (default 1.0)] [runs (default 3)]
 * Every run of every variant is printed; the runner takes the medians. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ivs.h"
#include "sigv4.h"

#define ACCESS_KEY_ID "AKIDEXAMPLEBENCH0001"
#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define REGION "us-west-2"
#define HOST "ivs.us-west-2.amazonaws.com"

static const char create_body[] =
    "{\"name\":\"bench-channel\",\"latencyMode\":\"LOW\",\"type\":\"STANDARD\","
    "\"authorized\":false,\"tags\":{\"team\":\"games\",\"env\":\"bench\"}}";

/* The ARN percent-encoded once, as the serializer puts it on the wire. */
#define TAGS_PATH "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2FabcdEFGH1234"

struct request {
    const char *name;
    const char *method;
    const char *path;
    const struct ivs_header *headers;
    size_t header_count;
    const char *body;
};

static const struct ivs_header create_headers[] = {
    {"Host", HOST},
    {"Content-Type", "application/json"},
};
static const struct ivs_header tags_headers[] = {
    {"Host", HOST},
};

static const struct request requests[] = {
    {"create_channel", "POST", "/CreateChannel", create_headers, 2, create_body},
    {"list_tags", "GET", TAGS_PATH, tags_headers, 1, ""},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sign_core(const struct request *rq, struct sigv4_key_cache *cache)
{
    struct sigv4_params p = {0};
    p.method = rq->method;
    p.path = rq->path;
    p.headers = rq->headers;
    p.header_count = rq->header_count;
    p.body = rq->body;
    p.body_len = strlen(rq->body);
    p.region = REGION;
    p.service = "ivs";
    p.time = (int64_t)time(NULL);
    p.access_key_id = ACCESS_KEY_ID;
    p.secret_access_key = SECRET_KEY;
    p.normalize_path = 1;
    p.double_encode = 1;
    struct sigv4_result r;
    struct ivs_error err = {0};
    if (sigv4_sign(&p, cache, &r, &err) != IVS_OK) {
        fprintf(stderr, "sign_bench: sigv4_sign failed: %s\n", err.message ? err.message : "?");
        ivs_error_clear(&err);
        return -1;
    }
    int ok = r.authorization != NULL;
    sigv4_result_cleanup(&r);
    return ok ? 0 : -1;
}

static int sign_public(const struct request *rq)
{
    char url[512];
    snprintf(url, sizeof url, "https://%s%s", HOST, rq->path);
    struct ivs_sign_request req = {0};
    req.method = rq->method;
    req.url = url;
    /* Host comes from the URL, as a caller of the public API would leave it. */
    req.headers = rq->headers + 1;
    req.header_count = rq->header_count - 1;
    req.body = rq->body;
    req.body_len = strlen(rq->body);
    req.region = REGION;
    struct ivs_credentials creds = {ACCESS_KEY_ID, SECRET_KEY, NULL};
    struct ivs_signature sig;
    struct ivs_error err = {0};
    if (ivs_sign(&req, &creds, &sig, &err) != IVS_OK) {
        fprintf(stderr, "sign_bench: ivs_sign failed: %s\n", err.message ? err.message : "?");
        ivs_error_clear(&err);
        return -1;
    }
    ivs_signature_clear(&sig);
    return 0;
}

/* Signs for about `seconds`, checking the clock only every 256 signatures. */
static int run(const char *what, const struct request *rq, struct sigv4_key_cache *cache,
               double seconds)
{
    long n = 0;
    double start = now_s(), elapsed = 0;
    do {
        for (int i = 0; i < 256; i++, n++)
            if ((cache ? sign_core(rq, cache) : sign_public(rq)) != 0)
                return -1;
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    printf(
        "{\"what\":\"%s\",\"request\":\"%s\",\"signs\":%ld,\"seconds\":%.6f,\"per_second\":%.1f}\n",
        what, rq->name, n, elapsed, (double)n / elapsed);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    if (seconds <= 0 || runs < 1) {
        fprintf(stderr, "usage: sign_bench [seconds-per-run] [runs]\n");
        return 2;
    }
    struct sigv4_key_cache *cache = sigv4_key_cache_new();
    if (!cache) {
        fprintf(stderr, "sign_bench: out of memory\n");
        return 1;
    }
    int rc = 0;
    for (size_t r = 0; r < sizeof requests / sizeof requests[0] && rc == 0; r++) {
        /* Warm-up: fills the key cache and the instruction cache before anything is timed. */
        if (run("warmup", &requests[r], cache, seconds / 10) != 0 ||
            run("warmup", &requests[r], NULL, seconds / 10) != 0) {
            rc = 1;
            break;
        }
        for (int i = 0; i < runs && rc == 0; i++)
            if (run("sigv4_sign+cache", &requests[r], cache, seconds) != 0 ||
                run("ivs_sign", &requests[r], NULL, seconds) != 0)
                rc = 1;
    }
    sigv4_key_cache_free(cache);
    return rc;
}
