/* floor.c: the floors that `make bench` measures every call figure against, and the C API's
 * sequential figure beside them.
 *
 * The floors answer "how fast can this emulator, on this machine, answer a signed GetChannel
 * at all?". They sign one request once and then repeat it, so their per-call cost is what the
 * wire, the kernel and the emulator take, plus (libcurl mode) what libcurl itself takes:
 *   raw      the pre-signed request written over one kept-alive TCP socket with write(2); the
 *            response is read into a fixed buffer, its Content-Length found and the body read.
 *            No signing, no JSON, nothing allocated per call.
 *   libcurl  the same pre-signed request sent by one bare libcurl easy handle whose options
 *            (URL, method, body, header list) are set once; the body goes to a callback that
 *            only counts bytes.
 *   capi     ivs_client_call("GetChannel") through the library, the C API user's figure.
 *   load     the emulator's own ceiling: CONNECTIONS threads, each writing the pre-signed
 *            request over its own kept-alive socket as the raw floor does, for SECONDS; the
 *            client costs next to nothing, so the figure is the emulator's (every check on).
 * What lies between raw and libcurl is libcurl's; what lies above libcurl is ours.
 *
 * Usage: floor MODE ENDPOINT ARN N WARMUP   (MODE: raw, libcurl or capi; ENDPOINT
 *        floor load ENDPOINT ARN SECONDS CONNECTIONS   (prints {"mode":"load",..,"per_second":..})
 * http://127.0.0.1:PORT; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)
 * Prints {"mode":..,"calls":N,"wall_s":..,"cpu_s":..}: cpu_s is this process's user + system
 * time over the N timed calls (getrusage), the client's own CPU. Exits 1 on any failure
 * (a non-200 answer included: a floor that measures errors is no floor). */
#include <arpa/inet.h>
#include <pthread.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ivs.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "floor: %s\n", what);
    exit(1);
}

/* The one signed request, in both forms the floors need. */
struct presigned {
    char body[1024];
    size_t body_len;
    char amz_date[32];
    char authorization[512];
    char wire[4096]; /* the whole HTTP/1.1 request for the raw floor */
    size_t wire_len;
};

static void presign(struct presigned *p, const char *endpoint, const char *arn)
{
    const char *akid = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (!akid || !secret)
        die("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");
    int n = snprintf(p->body, sizeof p->body, "{\"arn\":\"%s\"}", arn);
    if (n < 0 || (size_t)n >= sizeof p->body)
        die("arn too long");
    p->body_len = (size_t)n;
    char url[512];
    n = snprintf(url, sizeof url, "%s/GetChannel", endpoint);
    if (n < 0 || (size_t)n >= sizeof url)
        die("endpoint too long");
    struct ivs_header headers[] = {{"Content-Type", "application/json"}};
    struct ivs_sign_request req = {0};
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.header_count = 1;
    req.body = p->body;
    req.body_len = p->body_len;
    req.region = "us-west-2";
    struct ivs_credentials creds = {akid, secret, NULL};
    struct ivs_signature sig = {0};
    struct ivs_error err = {0};
    if (ivs_sign(&req, &creds, &sig, &err) != IVS_OK)
        die(err.message ? err.message : "ivs_sign failed");
    snprintf(p->amz_date, sizeof p->amz_date, "X-Amz-Date: %s", sig.amz_date);
    n = snprintf(p->authorization, sizeof p->authorization, "Authorization: %s", sig.authorization);
    if (n < 0 || (size_t)n >= sizeof p->authorization)
        die("authorization too long");
    const char *host = strstr(endpoint, "://");
    host = host ? host + 3 : endpoint;
    n = snprintf(p->wire, sizeof p->wire,
                 "POST /GetChannel HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                 "%s\r\n%s\r\nContent-Length: %zu\r\n\r\n%s",
                 host, p->amz_date, p->authorization, p->body_len, p->body);
    if (n < 0 || (size_t)n >= sizeof p->wire)
        die("request too long");
    p->wire_len = (size_t)n;
    ivs_signature_clear(&sig);
}

/* ---- raw ---------------------------------------------------------------------------- */

static int connect_to(const char *endpoint)
{
    const char *host = strstr(endpoint, "://");
    host = host ? host + 3 : endpoint;
    const char *colon = strrchr(host, ':');
    if (!colon)
        die("the endpoint needs a port");
    char ip[64];
    size_t ip_len = (size_t)(colon - host);
    if (ip_len >= sizeof ip)
        die("bad endpoint");
    memcpy(ip, host, ip_len);
    ip[ip_len] = '\0';
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        die("the raw floor needs an IPv4 endpoint");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect failed");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* One request and its whole response. buf is reused by every call. */
static void raw_call(int fd, const struct presigned *p, char *buf, size_t cap)
{
    size_t off = 0;
    while (off < p->wire_len) {
        ssize_t w = write(fd, p->wire + off, p->wire_len - off);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            die("write failed");
        }
        off += (size_t)w;
    }
    size_t have = 0;
    char *end = NULL;
    for (;;) {
        ssize_t r = read(fd, buf + have, cap - 1 - have);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            die("the emulator closed the connection");
        }
        have += (size_t)r;
        buf[have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL)
            break;
        if (have >= cap - 1)
            die("response headers too large");
    }
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
        die("the emulator did not answer 200");
    size_t head = (size_t)(end - buf) + 4, length = 0;
    for (char *line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n"))
        if (!strncasecmp(line + 2, "Content-Length:", 15)) {
            length = strtoul(line + 17, NULL, 10);
            break;
        }
    if (head + length >= cap)
        die("response too large");
    while (have < head + length) {
        ssize_t r = read(fd, buf + have, head + length - have);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            die("short body");
        }
        have += (size_t)r;
    }
}

/* ---- load --------------------------------------------------------------------------- */

struct loader {
    const char *endpoint;
    const struct presigned *p;
    double deadline;
    long done;
};

static void *load_thread(void *arg)
{
    struct loader *l = arg;
    int fd = connect_to(l->endpoint);
    static _Thread_local char buf[65536];
    while (now_s() < l->deadline) {
        for (int i = 0; i < 64; i++)
            raw_call(fd, l->p, buf, sizeof buf);
        l->done += 64;
    }
    close(fd);
    return NULL;
}

/* ---- libcurl ------------------------------------------------------------------------ */

static size_t count_body(char *data, size_t size, size_t nmemb, void *ud)
{
    (void)data;
    *(size_t *)ud += size * nmemb;
    return size * nmemb;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: floor raw|libcurl|capi ENDPOINT ARN N WARMUP\n"
                        "       floor load ENDPOINT ARN SECONDS CONNECTIONS\n");
        return 2;
    }
    const char *mode = argv[1], *endpoint = argv[2], *arn = argv[3];
    long n = atol(argv[4]), warmup = atol(argv[5]);
    if (n <= 0 || warmup < 0)
        die("N must be positive");
    static struct presigned p;
    double t0 = 0, c0 = 0;
    if (!strcmp(mode, "load")) {
        enum { MAX_CONNECTIONS = 64 };
        long conns = warmup;
        if (conns < 1 || conns > MAX_CONNECTIONS)
            die("CONNECTIONS is 1..64");
        presign(&p, endpoint, arn);
        struct loader l[MAX_CONNECTIONS];
        pthread_t th[MAX_CONNECTIONS];
        t0 = now_s();
        for (long i = 0; i < conns; i++) {
            l[i] = (struct loader){endpoint, &p, t0 + (double)n, 0};
            if (pthread_create(&th[i], NULL, load_thread, &l[i]) != 0)
                die("pthread_create failed");
        }
        long total = 0;
        for (long i = 0; i < conns; i++) {
            pthread_join(th[i], NULL);
            total += l[i].done;
        }
        double wall = now_s() - t0;
        printf("{\"mode\":\"load\",\"connections\":%ld,\"requests\":%ld,\"wall_s\":%.6f,"
               "\"per_second\":%.0f}\n",
               conns, total, wall, (double)total / wall);
        return 0;
    }
    if (!strcmp(mode, "raw")) {
        presign(&p, endpoint, arn);
        int fd = connect_to(endpoint);
        static char buf[65536];
        for (long i = 0; i < warmup; i++)
            raw_call(fd, &p, buf, sizeof buf);
        c0 = cpu_s();
        t0 = now_s();
        for (long i = 0; i < n; i++)
            raw_call(fd, &p, buf, sizeof buf);
        close(fd);
    } else if (!strcmp(mode, "libcurl")) {
        presign(&p, endpoint, arn);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        CURL *e = curl_easy_init();
        if (!e)
            die("curl_easy_init failed");
        char url[512];
        snprintf(url, sizeof url, "%s/GetChannel", endpoint);
        struct curl_slist *list = NULL;
        list = curl_slist_append(list, "Content-Type: application/json");
        list = curl_slist_append(list, p.amz_date);
        list = curl_slist_append(list, p.authorization);
        size_t bytes = 0;
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, p.body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p.body_len);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, count_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &bytes);
        for (long i = 0; i < warmup + n; i++) {
            if (i == warmup) {
                c0 = cpu_s();
                t0 = now_s();
            }
            if (curl_easy_perform(e) != CURLE_OK)
                die("curl_easy_perform failed");
            long status = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (status != 200)
                die("the emulator did not answer 200");
        }
        curl_easy_cleanup(e);
        curl_slist_free_all(list);
    } else if (!strcmp(mode, "capi")) {
        struct ivs_client_options opts = {0};
        opts.region = "us-west-2";
        opts.endpoint = endpoint;
        opts.access_key_id = getenv("AWS_ACCESS_KEY_ID");
        opts.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
        struct ivs_client *client = NULL;
        struct ivs_error err = {0};
        if (ivs_client_new(&opts, &client, &err) != IVS_OK)
            die(err.message ? err.message : "ivs_client_new failed");
        char body[1024];
        int len = snprintf(body, sizeof body, "{\"arn\":\"%s\"}", arn);
        if (len < 0 || (size_t)len >= sizeof body)
            die("arn too long");
        for (long i = 0; i < warmup + n; i++) {
            if (i == warmup) {
                c0 = cpu_s();
                t0 = now_s();
            }
            char *out = NULL;
            size_t out_len = 0;
            if (ivs_client_call(client, "GetChannel", body, (size_t)len, &out, &out_len, &err) !=
                IVS_OK)
                die(err.message ? err.message : "ivs_client_call failed");
            ivs_free(out);
        }
        ivs_client_free(client);
    } else {
        die("MODE is raw, libcurl or capi");
    }
    double wall = now_s() - t0, cpu = cpu_s() - c0;
    printf("{\"mode\":\"%s\",\"calls\":%ld,\"wall_s\":%.6f,\"cpu_s\":%.6f}\n", mode, n, wall, cpu);
    return 0;
}
