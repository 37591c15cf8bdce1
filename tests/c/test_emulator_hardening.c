/* test_emulator_hardening.c: ivs-emulator against hostile or unlucky conditions: state files
 * that must be refused with one clear line (never a crash), a connection flood (slowloris),
 * oversized bodies, kill -9 in the middle of acknowledged writes, region strings under
 * --no-auth, and the small command-line contract (--version, the non-loopback warning). Every
 * emulator here is a child process on 127.0.0.1 with a free port; every wait is bounded. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "ivs.h"
#include "test_emulator_client.h"

/* The emulator's default body cap (emulator/README.md). */
#define EMU_BODY_CAP (1024 * 1024)

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

static void sleep_ms(long ms);

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

/* ------------------------------------------------------------------------------------ */
/* State files */

struct tmpdir {
    char path[64];
};

static int tmpdir_make(struct tmpdir *d)
{
    snprintf(d->path, sizeof d->path, "/tmp/ivs-emu-hard-XXXXXX");
    return mkdtemp(d->path) ? 0 : -1;
}

static void tmpdir_remove(struct tmpdir *d)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    int rc = system(cmd);
    (void)rc;
}

/* POST /{op} signed with the test key; returns the status, the parsed body in *json. */
static long api(CURL *curl, const struct emu_child *c, const char *op, const char *body,
                cJSON **json)
{
    char path[128];
    snprintf(path, sizeof path, "/%s", op);
    struct emu_resp r;
    emu_send(curl, c, "POST", path, NULL, body, NULL, &r);
    long st = r.status;
    if (json) {
        *json = r.json;
        r.json = NULL;
    }
    emu_resp_free(&r);
    return st;
}

static long admin_post(CURL *curl, const struct emu_child *c, const char *path, const char *body)
{
    struct emu_sign s = {.unsigned_request = 1};
    struct emu_resp r;
    emu_send(curl, c, "POST", path, NULL, body, &s, &r);
    long st = r.status;
    emu_resp_free(&r);
    return st;
}

static const char *jstr_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *p384_public_key(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-384");
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *out = ivs_strndup(data, (size_t)len);
    BIO_free(bio);
    EVP_PKEY_free(key);
    return out;
}

/* A state file holding one of every resource type and a live stream with a recording
 * configuration, written by the emulator itself; parsed into *root. */
/* Reports which step of a multi-step setup failed. */
static int step(int ok, int line)
{
    if (!ok)
        harness_fail(__FILE__, line, "setup step failed");
    return ok;
}

static int make_good_state(const char *state, cJSON **root)
{
    const char *args[] = {"--state", state, NULL};
    struct emu_child c;
    if (start(&c, args) != 0)
        return -1;
    CURL *curl = curl_easy_init();
    cJSON *j = NULL;
    int ok = 1;
    ok &= step(api(curl, &c, "CreateRecordingConfiguration",
                   "{\"destinationConfiguration\":{\"s3\":{\"bucketName\":\"my-bucket\"}}}",
                   &j) == 200,
               __LINE__);
    char rec[160], ch[160], body[512];
    snprintf(rec, sizeof rec, "%s",
             jstr_at(j, "recordingConfiguration", "arn")
                 ? jstr_at(j, "recordingConfiguration", "arn")
                 : "");
    cJSON_Delete(j);
    snprintf(body, sizeof body, "{\"name\":\"c\",\"recordingConfigurationArn\":\"%s\"}", rec);
    ok &= step(api(curl, &c, "CreateChannel", body, &j) == 200, __LINE__);
    snprintf(ch, sizeof ch, "%s", jstr_at(j, "channel", "arn") ? jstr_at(j, "channel", "arn") : "");
    cJSON_Delete(j);
    ok &= step(api(curl, &c, "CreateChannel", "{\"name\":\"idle\",\"tags\":{\"a\":\"b\"}}", NULL) ==
                   200,
               __LINE__);
    ok &= step(api(curl, &c, "CreatePlaybackRestrictionPolicy", "{}", NULL) == 200, __LINE__);
    ok &= step(api(curl, &c, "CreateAdConfiguration",
                   "{\"mediaTailorPlaybackConfigurations\":[{\"playbackConfigurationArn\":"
                   "\"arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/z\"}]}",
                   NULL) == 200,
               __LINE__);
    char *pem = p384_public_key();
    cJSON *imp = cJSON_CreateObject();
    cJSON_AddStringToObject(imp, "publicKeyMaterial", pem);
    char *text = cJSON_PrintUnformatted(imp);
    ok &= step(api(curl, &c, "ImportPlaybackKeyPair", text, NULL) == 200, __LINE__);
    free(text);
    cJSON_Delete(imp);
    free(pem);
    snprintf(body, sizeof body, "{\"channelArn\":\"%s\"}", ch);
    ok &= step(admin_post(curl, &c, "/_emulator/streams/start", body) == 200, __LINE__);
    curl_easy_cleanup(curl);
    ok &= step(stop(&c, SIGTERM) == 0, __LINE__);
    size_t len = 0;
    char *saved = harness_read_file(state, &len);
    *root = saved ? cJSON_ParseWithLength(saved, len) : NULL;
    free(saved);
    return ok && *root ? 0 : -1;
}

static cJSON *partition0(cJSON *root)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "partitions"), 0);
}

/* The first resource entry of a type in the first partition. */
static cJSON *entry_of(cJSON *root, const char *type)
{
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(partition0(root), "resources"))
    {
        if (!strcmp(jstr_at(e, "type", NULL), type))
            return e;
    }
    return NULL;
}

static cJSON *obj_of(cJSON *root, const char *type)
{
    return cJSON_GetObjectItemCaseSensitive(entry_of(root, type), "obj");
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Starts the emulator on a state file that must be refused: exit status 1 and exactly one
 * line on stderr naming the file and containing `problem`. Never a crash, never a start. */
static void expect_refused(const char *label, const char *state, const char *problem)
{
    const char *args[] = {"--port", "0", "--state", state, NULL};
    struct buf out = BUF_INIT, err = BUF_INIT;
    struct stat before, after;
    int regular = stat(state, &before) == 0 && S_ISREG(before.st_mode);
    size_t len_before = 0, len_after = 0;
    char *text_before = regular ? harness_read_file(state, &len_before) : NULL;
    int st = run_emulator(args, &out, &err);
    char *text_after = regular ? harness_read_file(state, &len_after) : NULL;
    /* A refused file is left exactly as it was. */
    CHECK_MSG(!regular || (text_after && len_before == len_after &&
                           !memcmp(text_before, text_after, len_before)),
              "%s: the refused file was changed", label);
    CHECK_MSG(regular || (stat(state, &after) == 0 && after.st_mode == before.st_mode),
              "%s: the refused path was changed", label);
    free(text_before);
    free(text_after);
    CHECK_MSG(st == 1, "%s: exit status %d, stdout %s, stderr %s", label, st, buf_str(&out),
              buf_str(&err));
    CHECK_MSG(count_lines(buf_str(&err)) == 1 && strstr(buf_str(&err), state) &&
                  strstr(buf_str(&err), problem),
              "%s: stderr %s", label, buf_str(&err));
    CHECK_MSG(out.len == 0, "%s: it started: %s", label, buf_str(&out));
    buf_free(&out);
    buf_free(&err);
}

typedef void (*state_mutation)(cJSON *root);

static void mut_stream_without_health(cJSON *root)
{
    cJSON_DeleteItemFromObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(entry_of(root, "channel"), "stream"), "health");
}

static void mut_partition_twice(cJSON *root)
{
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(root, "partitions"),
                         cJSON_Duplicate(partition0(root), 1));
}

static void mut_resource_twice(cJSON *root)
{
    cJSON *copy = cJSON_Duplicate(entry_of(root, "ad-configuration"), 1);
    cJSON_ReplaceItemInObjectCaseSensitive(copy, "seq", cJSON_CreateNumber(9999));
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(partition0(root), "resources"), copy);
}

static void mut_seq_twice(cJSON *root)
{
    cJSON *seq = cJSON_GetObjectItemCaseSensitive(entry_of(root, "channel"), "seq");
    cJSON_ReplaceItemInObjectCaseSensitive(entry_of(root, "ad-configuration"), "seq",
                                           cJSON_CreateNumber(seq->valuedouble));
}

static void mut_no_fingerprint(cJSON *root)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj_of(root, "playback-key"), "fingerprint");
}

static void mut_tags_string(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(obj_of(root, "channel"), "tags",
                                           cJSON_CreateString("x"));
}

static void mut_name_number(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(obj_of(root, "recording-configuration"), "name",
                                           cJSON_CreateNumber(3));
}

static void mut_key_orphan(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(
        obj_of(root, "stream-key"), "channelArn",
        cJSON_CreateString("arn:aws:ivs:us-west-2:123456789012:channel/AAAAAAAAAAAA"));
}

static void mut_arn_other_region(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(
        obj_of(root, "playback-restriction-policy"), "arn",
        cJSON_CreateString("arn:aws:ivs:eu-west-1:123456789012:playback-restriction-policy/"
                           "AAAAAAAAAAAA"));
}

static void mut_arn_wrong_type(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(
        obj_of(root, "ad-configuration"), "arn",
        cJSON_CreateString("arn:aws:ivs:us-west-2:123456789012:channel/AAAAAAAAAAAA"));
}

static void mut_dangling_ref(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(
        obj_of(root, "channel"), "adConfigurationArn",
        cJSON_CreateString("arn:aws:ivs:us-west-2:123456789012:ad-configuration/AAAAAAAAAAAA"));
}

static void mut_session_no_stream_id(cJSON *root)
{
    cJSON *sessions = cJSON_GetObjectItemCaseSensitive(entry_of(root, "channel"), "sessions");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetArrayItem(sessions, 0), "streamId");
}

static void mut_live_without_session(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(entry_of(root, "channel"), "sessions",
                                           cJSON_CreateArray());
}

static void mut_event_no_type(cJSON *root)
{
    cJSON *events = cJSON_GetObjectItemCaseSensitive(partition0(root), "events");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetArrayItem(events, 0), "detail-type");
}

static void mut_seq_fraction(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(entry_of(root, "channel"), "seq",
                                           cJSON_CreateNumber(1.5));
}

static void mut_bad_type(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(entry_of(root, "channel"), "type",
                                           cJSON_CreateString("stage"));
}

static void mut_partitions_object(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(root, "partitions", cJSON_CreateObject());
}

static void mut_bad_account(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(partition0(root), "account", cJSON_CreateString("1"));
}

static void mut_two_keys(cJSON *root)
{
    cJSON *copy = cJSON_Duplicate(entry_of(root, "stream-key"), 1);
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(copy, "obj");
    cJSON_ReplaceItemInObjectCaseSensitive(copy, "seq", cJSON_CreateNumber(9999));
    cJSON_ReplaceItemInObjectCaseSensitive(
        obj, "arn",
        cJSON_CreateString("arn:aws:ivs:us-west-2:123456789012:stream-key/ZZZZZZZZZZZZ"));
    cJSON_ReplaceItemInObjectCaseSensitive(obj, "value", cJSON_CreateString("sk_other"));
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(partition0(root), "resources"), copy);
}

static void mut_version(cJSON *root)
{
    cJSON_ReplaceItemInObjectCaseSensitive(root, "version", cJSON_CreateNumber(7));
}

static void test_state_files_refused(void)
{
    struct tmpdir d;
    if (tmpdir_make(&d) != 0)
        SKIP("no temporary directory");
    char good[128], bad[128];
    snprintf(good, sizeof good, "%s/good.json", d.path);
    snprintf(bad, sizeof bad, "%s/bad.json", d.path);
    cJSON *root = NULL;
    int made = make_good_state(good, &root);
    CHECK(made == 0);
    if (made != 0) {
        cJSON_Delete(root);
        tmpdir_remove(&d);
        return;
    }
    static const struct {
        const char *label;
        state_mutation fn;
        const char *problem;
    } cases[] = {
        {"stream without health", mut_stream_without_health, "stream.health is missing"},
        {"partition listed twice", mut_partition_twice, "listed twice"},
        {"resource listed twice", mut_resource_twice, "listed twice"},
        {"same seq twice", mut_seq_twice, "same seq"},
        {"key pair without fingerprint", mut_no_fingerprint, "obj.fingerprint is missing"},
        {"tags not a map", mut_tags_string, "obj.tags is not a tag map"},
        {"name not a string", mut_name_number, "obj.name is not a string"},
        {"stream key of no channel", mut_key_orphan, "names a channel"},
        {"ARN of another region", mut_arn_other_region, "another account or region"},
        {"ARN of another type", mut_arn_wrong_type, "is not a ad-configuration ARN"},
        {"dangling reference", mut_dangling_ref, "adConfigurationArn names no"},
        {"session without stream id", mut_session_no_stream_id, "sessions[].streamId is missing"},
        {"live without session", mut_live_without_session, "no session"},
        {"event without detail-type", mut_event_no_type, "detail-type is missing"},
        {"fractional seq", mut_seq_fraction, "seq is not a whole number"},
        {"unknown resource type", mut_bad_type, "type is not a resource type"},
        {"partitions not an array", mut_partitions_object, "partitions is not an array"},
        {"bad account", mut_bad_account, "account is not 12 digits"},
        {"two keys for a channel", mut_two_keys, "more than one stream key"},
        {"future version", mut_version, "version 7 is not supported"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *copy = cJSON_Duplicate(root, 1);
        cases[i].fn(copy);
        char *text = cJSON_PrintUnformatted(copy);
        write_text(bad, text);
        free(text);
        cJSON_Delete(copy);
        expect_refused(cases[i].label, bad, cases[i].problem);
    }
    /* Text-level damage: a member named twice, not JSON, not an object, empty. */
    char *text = cJSON_PrintUnformatted(root);
    char *dup = malloc(strlen(text) + 32);
    const char *at = strstr(text, "\"name\":\"idle\"");
    CHECK(at != NULL);
    if (at) {
        size_t head = (size_t)(at - text);
        memcpy(dup, text, head);
        strcpy(dup + head, "\"name\":\"twice\",");
        strcat(dup, at);
        write_text(bad, dup);
        expect_refused("member named twice", bad, "named twice");
    }
    free(dup);
    text[strlen(text) / 2] = '\0';
    write_text(bad, text);
    expect_refused("truncated", bad, "not valid JSON");
    free(text);
    write_text(bad, "[]");
    expect_refused("array", bad, "not a JSON object");
    write_text(bad, "");
    expect_refused("empty", bad, "not valid JSON");
    /* Not a regular file: a directory, and a FIFO (which would block a plain open). */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/dir", d.path);
    mkdir(sub, 0700);
    expect_refused("directory", sub, "not a regular file");
    snprintf(sub, sizeof sub, "%s/fifo", d.path);
    if (mkfifo(sub, 0600) == 0)
        expect_refused("fifo", sub, "not a regular file");

    /* The untouched file still loads, and what it holds works, including the requests the
     * broken files crashed. */
    const char *args[] = {"--state", good, NULL};
    struct emu_child c;
    CHECK(start(&c, args) == 0);
    if (c.pid > 0) {
        CURL *curl = curl_easy_init();
        CHECK_INT_EQ(200,
                     api(curl, &c, "ListStreams", "{\"filterBy\":{\"health\":\"HEALTHY\"}}", NULL));
        CHECK_INT_EQ(200, api(curl, &c, "ListChannels", "{}", NULL));
        curl_easy_cleanup(curl);
        CHECK_INT_EQ(0, stop(&c, SIGTERM));
    }
    cJSON_Delete(root);
    tmpdir_remove(&d);
}

/* ------------------------------------------------------------------------------------ */
/* Floods and oversized bodies */

static long fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls %s 2>/dev/null | wc -l", path);
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p) {
        if (fscanf(p, "%ld", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

/* Server-side sockets of a port in CLOSE-WAIT (state 08 in /proc/net/tcp). */
static int close_wait_count(unsigned port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned laddr = 0, lport = 0, st = 0;
        if (sscanf(line, " %*d: %x:%x %*x:%*x %x", &laddr, &lport, &st) == 3 &&
            laddr == 0x0100007F && lport == port && st == 0x08)
            n++;
    }
    if (f)
        fclose(f);
    return n;
}

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1000.0 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* A socket connected (non-blocking) from a given loopback address. */
static int connect_from(const char *src, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    if (src) {
        inet_pton(AF_INET, src, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            close(fd);
            return -1;
        }
    }
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A signed ListChannels on a fresh connection: its status and how long it took. */
static long timed_call(const struct emu_child *c, double *ms)
{
    CURL *curl = curl_easy_init();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long st = api(curl, c, "ListChannels", "{}", NULL);
    *ms = ms_since(&t0);
    curl_easy_cleanup(curl);
    return st;
}

enum { FLOOD = 1500 };

static void test_slowloris(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < FLOOD + 256) {
        rl.rlim_cur =
            rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FLOOD + 256 ? FLOOD + 256 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < FLOOD + 256)
            SKIP("cannot raise the descriptor limit to hold the flood");
    }
    int probe = connect_from("127.0.0.2", 1);
    if (probe < 0)
        SKIP("cannot bind a socket to 127.0.0.2");
    close(probe);
    const char *args[] = {"--header-timeout", "2", NULL};
    struct emu_child c;
    if (start(&c, args) != 0) {
        CHECK_MSG(0, "could not start the emulator");
        return;
    }
    long base_fds = fd_count(c.pid);
    /* Half-open requests from 127.0.0.2: a request line and one header, never finished. */
    static int flood[FLOOD];
    int opened = 0;
    for (int i = 0; i < FLOOD; i++) {
        flood[i] = connect_from("127.0.0.2", c.port);
        opened += flood[i] >= 0;
    }
    CHECK_MSG(opened == FLOOD, "opened %d of %d flood connections", opened, FLOOD);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    while (ms_since(&t) < 300) {
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    static const char partial[] = "POST /ListChannels HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < FLOOD; i++)
        if (flood[i] >= 0) {
            ssize_t w = send(flood[i], partial, sizeof partial - 1, MSG_NOSIGNAL);
            (void)w;
        }
    double ms = 0;
    long st = timed_call(&c, &ms);
    CHECK_MSG(st == 200 && ms < 2000, "during the flood: status %ld after %.0f ms", st, ms);
    /* Past the header deadline the stalled connections are released by the server even
     * though the client keeps them open. */
    clock_gettime(CLOCK_MONOTONIC, &t);
    long fds = -1;
    while (ms_since(&t) < 6000) {
        fds = fd_count(c.pid);
        if (fds >= 0 && fds <= base_fds + 4)
            break;
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    CHECK_MSG(fds >= 0 && fds <= base_fds + 4,
              "stalled connections still held: %ld descriptors (%ld before the flood)", fds,
              base_fds);
    st = timed_call(&c, &ms);
    CHECK_MSG(st == 200 && ms < 2000, "after the deadline: status %ld after %.0f ms", st, ms);
    for (int i = 0; i < FLOOD; i++)
        if (flood[i] >= 0)
            close(flood[i]);
    clock_gettime(CLOCK_MONOTONIC, &t);
    int cw = 0;
    while (ms_since(&t) < 3000 && (cw = close_wait_count(c.port)) > 0) {
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    CHECK_MSG(cw == 0, "%d connections linger in CLOSE-WAIT", cw);
    st = timed_call(&c, &ms);
    CHECK_MSG(st == 200 && ms < 2000, "after the flood: status %ld after %.0f ms", st, ms);
    CHECK_INT_EQ(0, stop(&c, SIGTERM));
}

/* The total limit holds when the flood comes from many addresses: the emulator never holds
 * more connections than allowed, and once the stalled ones pass their deadline a normal
 * client is served. */
static void test_connection_limit(void)
{
    int probe = connect_from("127.0.0.5", 1);
    if (probe < 0)
        SKIP("cannot bind a socket to 127.0.0.5");
    close(probe);
    const char *args[] = {"--max-connections",
                          "200",
                          "--max-connections-per-ip",
                          "100",
                          "--header-timeout",
                          "2",
                          NULL};
    struct emu_child c;
    if (start(&c, args) != 0) {
        CHECK_MSG(0, "could not start the emulator");
        return;
    }
    long base_fds = fd_count(c.pid);
    static const char *const sources[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"};
    static int flood[4][120];
    static const char partial[] = "POST /ListChannels HTTP/1.1\r\nHost: x\r\n";
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < 120; i++)
            flood[s][i] = connect_from(sources[s], c.port);
    sleep_ms(300);
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < 120; i++)
            if (flood[s][i] >= 0) {
                ssize_t w = send(flood[s][i], partial, sizeof partial - 1, MSG_NOSIGNAL);
                (void)w;
            }
    long fds = fd_count(c.pid);
    CHECK_MSG(fds >= 0 && fds <= base_fds + 200 + 4, "%ld descriptors held (limit 200, base %ld)",
              fds, base_fds);
    /* Within the header deadline (2 s) plus a margin the normal client gets through. */
    double ms = 0;
    long st = timed_call(&c, &ms);
    CHECK_MSG(st == 200 && ms < 5000, "status %ld after %.0f ms", st, ms);
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < 120; i++)
            if (flood[s][i] >= 0)
                close(flood[s][i]);
    CHECK_INT_EQ(0, stop(&c, SIGTERM));
}

/* Sends raw bytes and reads the reply until the server closes or `ms` pass. */
static void raw_request(unsigned port, const char *head, const char *body, size_t body_len, int ms,
                        struct buf *reply)
{
    int fd = connect_from(NULL, port);
    if (fd < 0)
        return;
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ssize_t w = send(fd, head, strlen(head), MSG_NOSIGNAL);
    for (size_t done = 0; body && w >= 0 && done < body_len; done += (size_t)w) {
        w = send(fd, body + done, body_len - done, MSG_NOSIGNAL);
        if (w <= 0)
            break;
    }
    char chunk[4096];
    ssize_t r;
    while ((r = recv(fd, chunk, sizeof chunk, 0)) > 0)
        buf_append(reply, chunk, (size_t)r);
    close(fd);
}

struct big_call {
    const struct emu_child *c;
    const char *body;
    long status;
};

static void *big_call_main(void *arg)
{
    struct big_call *b = arg;
    CURL *curl = curl_easy_init();
    b->status = api(curl, b->c, "CreateChannel", b->body, NULL);
    curl_easy_cleanup(curl);
    return NULL;
}

/* Four concurrent calls with the same body; returns how many got `want`. */
static int four_calls(const struct emu_child *c, const char *body, long want)
{
    pthread_t th[4];
    struct big_call calls[4];
    for (int i = 0; i < 4; i++) {
        calls[i] = (struct big_call){c, body, 0};
        pthread_create(&th[i], NULL, big_call_main, &calls[i]);
    }
    int n = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        n += calls[i].status == want;
    }
    return n;
}

/* {"name":[1,1,1,...]} of about `len` bytes: cheap to send, costly to parse. */
static char *array_body(size_t len)
{
    char *b = malloc(len + 1);
    size_t n = (size_t)sprintf(b, "{\"name\":[1");
    while (n + 4 < len) {
        b[n++] = ',';
        b[n++] = '1';
    }
    strcpy(b + n, "]}");
    return b;
}

static void test_body_limits(void)
{
    struct emu_child c;
    if (start(&c, NULL) != 0) {
        CHECK_MSG(0, "could not start the emulator");
        return;
    }
    /* A declared length over the cap is refused before any body byte is sent. */
    struct buf reply = BUF_INIT;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    raw_request(c.port,
                "POST /CreateChannel HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                "application/json\r\nContent-Length: 20971520\r\n\r\n",
                NULL, 0, 3000, &reply);
    CHECK_MSG(!strncmp(buf_str(&reply), "HTTP/1.1 413", 12) && ms_since(&t) < 2500,
              "early refusal: %.0f ms, reply %.80s", ms_since(&t), buf_str(&reply));
    CHECK(strstr(buf_str(&reply), "RequestTooLargeException") != NULL);
    CHECK(strstr(buf_str(&reply), "{\"message\":\"Request Too Long\"}") != NULL);
    /* A chunked body that outgrows the cap: 413 too, and nothing of it is kept. */
    buf_reset(&reply);
    size_t chunk = 64 * 1024, chunks = 40;
    struct buf body = BUF_INIT;
    char *block = malloc(chunk);
    memset(block, ' ', chunk);
    for (size_t i = 0; i < chunks; i++) {
        buf_printf(&body, "%zx\r\n", chunk);
        buf_append(&body, block, chunk);
        buf_puts(&body, "\r\n");
    }
    buf_puts(&body, "0\r\n\r\n");
    free(block);
    raw_request(c.port,
                "POST /CreateChannel HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                "application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                body.data, body.len, 5000, &reply);
    CHECK_MSG(!strncmp(buf_str(&reply), "HTTP/1.1 413", 12), "chunked: %.80s", buf_str(&reply));
    buf_free(&body);
    buf_free(&reply);

    /* Memory: four concurrent bodies over the cap cost nothing; four just under it are parsed
     * and refused, and the memory goes back. A sanitizer's allocator keeps freed memory in
     * quarantine, so the resident size says nothing there (`make asan` sets
     * IVS_TEST_SANITIZER). */
    int measure = getenv("IVS_TEST_SANITIZER") == NULL;
    long base = rss_kib(c.pid);
    char *over = array_body(4 * 1024 * 1024);
    CHECK_INT_EQ(4, four_calls(&c, over, 413));
    free(over);
    long after_over = rss_kib(c.pid);
    CHECK_MSG(!measure || after_over - base < 16 * 1024,
              "RSS %ld KiB -> %ld KiB after refused bodies", base, after_over);
    char *under = array_body(EMU_BODY_CAP - 1024);
    CHECK_INT_EQ(4, four_calls(&c, under, 400));
    free(under);
    /* The memory is given back once each request has completed (just after its reply). */
    long after_under = rss_kib(c.pid);
    clock_gettime(CLOCK_MONOTONIC, &t);
    while (measure && after_under - base >= 32 * 1024 && ms_since(&t) < 2000) {
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
        after_under = rss_kib(c.pid);
    }
    CHECK_MSG(!measure || after_under - base < 32 * 1024,
              "RSS %ld KiB -> %ld KiB after parsed bodies", base, after_under);
    printf("# RSS %ld KiB at start, %ld after 4 x 4 MiB, %ld after 4 x 1 MiB\n", base, after_over,
           after_under);
    /* Still serving normally. */
    double ms;
    CHECK_INT_EQ(200, timed_call(&c, &ms));
    CHECK_INT_EQ(0, stop(&c, SIGTERM));
}

/* ------------------------------------------------------------------------------------ */
/* Durability: kill -9 in the middle of acknowledged writes */

enum { MAX_TRACKED = 4096 };

/* What a client was told about one channel. */
struct tracked {
    char arn[96];
    int created;      /* CreateChannel acknowledged */
    int deleted;      /* DeleteChannel acknowledged */
    int delete_tried; /* DeleteChannel sent (maybe applied, maybe not) */
    int tag;          /* value of the last acknowledged TagResource "n" (0: none) */
    int tag_unsure;   /* a later TagResource got no answer */
};

struct writer {
    const struct emu_child *c;
    struct tracked *t;
    int n;
    int ops;
    unsigned seed;
    volatile int *stop;
};

static unsigned next_rand(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Creates, tags and deletes channels until the emulator dies or `ops` are done. */
static void *writer_main(void *arg)
{
    struct writer *w = arg;
    CURL *curl = curl_easy_init();
    char body[256];
    for (int i = 0; i < w->ops && !*w->stop && w->n < MAX_TRACKED / 2; i++) {
        unsigned r = next_rand(&w->seed) % 10;
        long st;
        if (r < 5 || w->n == 0) {
            cJSON *j = NULL;
            st = api(curl, w->c, "CreateChannel", "{\"name\":\"durable\"}", &j);
            const char *arn = jstr_at(j, "channel", "arn");
            if (st == 200 && arn) {
                struct tracked *t = &w->t[w->n++];
                memset(t, 0, sizeof *t);
                snprintf(t->arn, sizeof t->arn, "%s", arn);
                t->created = 1;
            }
            cJSON_Delete(j);
        } else {
            struct tracked *t = &w->t[next_rand(&w->seed) % (unsigned)w->n];
            if (t->delete_tried)
                continue;
            if (r < 8) {
                int v = i + 1;
                snprintf(body, sizeof body, "{\"resourceArn\":\"%s\",\"tags\":{\"n\":\"%d\"}}",
                         t->arn, v);
                st = api(curl, w->c, "TagResource", body, NULL);
                if (st == 200) {
                    t->tag = v;
                    t->tag_unsure = 0;
                } else {
                    t->tag_unsure = 1;
                }
            } else {
                t->delete_tried = 1;
                snprintf(body, sizeof body, "{\"arn\":\"%s\"}", t->arn);
                st = api(curl, w->c, "DeleteChannel", body, NULL);
                t->deleted = st == 204;
            }
        }
        if (st == 0)
            break; /* the emulator is gone */
    }
    curl_easy_cleanup(curl);
    return NULL;
}

/* Every acknowledged change is there after the restart: created channels exist with their
 * last acknowledged tag, deleted ones stay deleted. Returns the number of mismatches. */
static int verify_tracked(const struct emu_child *c, const struct tracked *t, int n)
{
    CURL *curl = curl_easy_init();
    int bad = 0;
    char body[160];
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body, "{\"arn\":\"%s\"}", t[i].arn);
        cJSON *j = NULL;
        long st = api(curl, c, "GetChannel", body, &j);
        if (t[i].deleted && st != 404) {
            if (bad++ < 5)
                printf("# %s: deleted (acknowledged) but GetChannel says %ld\n", t[i].arn, st);
        } else if (!t[i].delete_tried && st != 200) {
            if (bad++ < 5)
                printf("# %s: created (acknowledged) but GetChannel says %ld\n", t[i].arn, st);
        } else if (st == 200 && t[i].tag && !t[i].tag_unsure) {
            const cJSON *tags = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "channel"), "tags");
            char want[16];
            snprintf(want, sizeof want, "%d", t[i].tag);
            const char *got = jstr_at(tags, "n", NULL);
            if (!got || strcmp(got, want) != 0) {
                if (bad++ < 5)
                    printf("# %s: tag n=%s acknowledged, found %s\n", t[i].arn, want,
                           got ? got : "none");
            }
        }
        cJSON_Delete(j);
    }
    curl_easy_cleanup(curl);
    return bad;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
}

/* Runs two writers against c and kills the emulator with SIGKILL after `kill_ms`. */
static void write_then_kill(struct emu_child *c, struct writer w[2], long kill_ms)
{
    volatile int stop = 0;
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i].c = c;
        w[i].stop = &stop;
        pthread_create(&th[i], NULL, writer_main, &w[i]);
    }
    sleep_ms(kill_ms);
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    unwatch(c->pid);
    c->pid = 0;
    stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
}

static void durability_run(const char *const *extra, int ops, int rounds)
{
    struct tmpdir d;
    if (tmpdir_make(&d) != 0)
        SKIP("no temporary directory");
    char state[128];
    snprintf(state, sizeof state, "%s/state.json", d.path);
    const char *args[8] = {"--state", state};
    int na = 2;
    for (; extra && *extra && na < 7; extra++)
        args[na++] = *extra;
    args[na] = NULL;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *env = getenv("IVS_DURABILITY_SEED");
    if (env)
        seed = (unsigned)strtoul(env, NULL, 10);
    printf("# durability seed %u (IVS_DURABILITY_SEED replays it)\n", seed);
    static struct tracked tracked[2][MAX_TRACKED];
    struct writer w[2] = {{NULL, tracked[0], 0, ops, seed | 1, NULL},
                          {NULL, tracked[1], 0, ops, (seed * 7919) | 1, NULL}};
    struct emu_child c;
    for (int round = 0; round < rounds; round++) {
        if (start(&c, args) != 0) {
            CHECK_MSG(0, "round %d: the emulator did not start on its own state", round);
            break;
        }
        /* Everything acknowledged so far is back after the restart. */
        for (int i = 0; i < 2; i++)
            CHECK_INT_EQ(0, verify_tracked(&c, w[i].t, w[i].n));
        long kill_ms = 150 + (long)(next_rand(&seed) % 600);
        int before = w[0].n + w[1].n;
        write_then_kill(&c, w, kill_ms);
        printf("# round %d: killed after %ld ms, %d channels tracked (%d new)\n", round, kill_ms,
               w[0].n + w[1].n, w[0].n + w[1].n - before);
    }
    if (start(&c, args) == 0) {
        int bad = 0;
        for (int i = 0; i < 2; i++)
            bad += verify_tracked(&c, w[i].t, w[i].n);
        CHECK_MSG(bad == 0, "%d acknowledged changes lost after kill -9", bad);
        CHECK_INT_EQ(0, stop(&c, SIGTERM));
    } else {
        CHECK_MSG(0, "the emulator did not start after the last kill");
    }
    tmpdir_remove(&d);
}

static void test_kill9_durability(void) { durability_run(NULL, 3000, 3); }

static void test_kill9_durability_fsync(void)
{
    const char *extra[] = {"--fsync", NULL};
    durability_run(extra, 400, 1);
}

/* The journal with the highest generation in dir (the one being appended to). */
static int newest_journal(const char *dir, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s | grep '^state.json.journal.' | sort -t. -k4 -n | tail -1",
             dir);
    FILE *p = popen(cmd, "r");
    char name[128] = "";
    if (p) {
        if (!fgets(name, sizeof name, p))
            name[0] = '\0';
        pclose(p);
    }
    name[strcspn(name, "\n")] = '\0';
    snprintf(out, n, "%s/%s", dir, name);
    return name[0] ? 0 : -1;
}

static void append_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "ab");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A journal whose last line was cut short (the process died inside write, or the disk lost
 * the tail) starts with a warning; a damaged line before others stops the start. */
static void test_journal_damage(void)
{
    struct tmpdir d;
    if (tmpdir_make(&d) != 0)
        SKIP("no temporary directory");
    char state[128], journal[256];
    snprintf(state, sizeof state, "%s/state.json", d.path);
    const char *args[] = {"--state", state, NULL};
    struct emu_child c;
    CHECK(start(&c, args) == 0);
    CURL *curl = curl_easy_init();
    cJSON *j = NULL;
    CHECK_INT_EQ(200, api(curl, &c, "CreateChannel", "{\"name\":\"kept\"}", &j));
    char arn[96], body[160];
    snprintf(arn, sizeof arn, "%s",
             jstr_at(j, "channel", "arn") ? jstr_at(j, "channel", "arn") : "");
    cJSON_Delete(j);
    kill(c.pid, SIGKILL);
    waitpid(c.pid, NULL, 0);
    unwatch(c.pid);
    CHECK(newest_journal(d.path, journal, sizeof journal) == 0);
    append_text(journal, "{\"op\":\"put\",\"kind\":\"ivs:channel\",\"id\":\"arn:aws:iv");

    char errpath[160];
    snprintf(errpath, sizeof errpath, "%s/stderr", d.path);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int saved = dup(2);
    dup2(fd, 2);
    int started = start(&c, args);
    dup2(saved, 2);
    close(saved);
    close(fd);
    CHECK(started == 0);
    size_t len = 0;
    char *err = harness_read_file(errpath, &len);
    CHECK_MSG(err && strstr(err, "ignored an incomplete last record") && strstr(err, journal),
              "stderr: %s", err ? err : "");
    free(err);
    if (started == 0) {
        snprintf(body, sizeof body, "{\"arn\":\"%s\"}", arn);
        CHECK_INT_EQ(200, api(curl, &c, "GetChannel", body, NULL));
        CHECK_INT_EQ(200, api(curl, &c, "CreateChannel", "{\"name\":\"second\"}", NULL));
        kill(c.pid, SIGKILL);
        waitpid(c.pid, NULL, 0);
        unwatch(c.pid);
    }
    /* A damaged line followed by a good one: refused, with the file and the line named. */
    CHECK(newest_journal(d.path, journal, sizeof journal) == 0);
    size_t jlen = 0;
    char *good = harness_read_file(journal, &jlen);
    CHECK(good && jlen > 0);
    write_text(journal, "{\"op\":\n");
    append_text(journal, good ? good : "");
    free(good);
    char jname[256];
    snprintf(jname, sizeof jname, "%s", journal);
    struct buf out = BUF_INIT, errb = BUF_INIT;
    const char *pargs[] = {"--port", "0", "--state", state, NULL};
    CHECK_INT_EQ(1, run_emulator(pargs, &out, &errb));
    CHECK_MSG(count_lines(buf_str(&errb)) == 1 && strstr(buf_str(&errb), jname) &&
                  strstr(buf_str(&errb), "line 1: not a journal record"),
              "stderr: %s", buf_str(&errb));
    buf_free(&out);
    buf_free(&errb);
    curl_easy_cleanup(curl);
    tmpdir_remove(&d);
}

/* emulator/README.md names only files that are in the repository (a built tool by its source),
 * and nothing from the reference material beside it. */
static void test_readme_cites_existing_files(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/emulator/README.md", harness_root());
    size_t len = 0;
    char *text = harness_read_file(path, &len);
    if (!text)
        SKIP("emulator/README.md not found from IVS_ROOT");
    CHECK(!strstr(text, "../shared") && !strstr(text, "SERVICE-BEHAVIOUR"));
    static const char *const exts[] = {".c", ".h", ".md", ".lua", ".json", ".sh", NULL};
    int checked = 0;
    for (char *p = text; *p; p++) {
        int is_path_char = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                           (*p >= '0' && *p <= '9') || *p == '_' || *p == '/' || *p == '-';
        if (!is_path_char || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '/' ||
                                           p[-1] == '_' || p[-1] == '-' || p[-1] == '.')))
            continue;
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/-.");
        char tok[256];
        if (n == 0 || n >= sizeof tok)
            continue;
        memcpy(tok, p, n);
        tok[n] = '\0';
        while (n && tok[n - 1] == '.')
            tok[--n] = '\0';
        char rel[300] = "";
        if (!strncmp(tok, "build/tools/", 12)) {
            snprintf(rel, sizeof rel, "tests/tools/%s.c", tok + 12);
        } else if (strchr(tok, '/') && strncmp(tok, "/_emulator", 10) != 0 && tok[0] != '/') {
            for (const char *const *e = exts; *e; e++) {
                size_t el = strlen(*e);
                if (n > el && !strcmp(tok + n - el, *e))
                    snprintf(rel, sizeof rel, "%s", tok);
            }
        }
        if (!rel[0])
            continue;
        char full[1400];
        snprintf(full, sizeof full, "%s/%s", harness_root(), rel);
        CHECK_MSG(access(full, F_OK) == 0, "emulator/README.md cites %s, not in the repository",
                  tok);
        checked++;
    }
    CHECK(checked >= 1);
    free(text);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(240);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"test_version", test_version},
        {"test_non_loopback_warning", test_non_loopback_warning},
        {"test_bad_region_option", test_bad_region_option},
        {"test_no_auth_region", test_no_auth_region},
        {"test_state_files_refused", test_state_files_refused},
        {"test_slowloris", test_slowloris},
        {"test_connection_limit", test_connection_limit},
        {"test_body_limits", test_body_limits},
        {"test_kill9_durability", test_kill9_durability},
        {"test_kill9_durability_fsync", test_kill9_durability_fsync},
        {"test_journal_damage", test_journal_damage},
        {"test_readme_cites_existing_files", test_readme_cites_existing_files},
    };
    /* IVS_HARDENING_ONLY=name runs one test (e.g. against an older build via IVS_BUILD). */
    const char *only = getenv("IVS_HARDENING_ONLY");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!only || !strcmp(only, tests[i].name))
            harness_run(tests[i].name, tests[i].fn);
    curl_global_cleanup();
    return harness_finish();
}
