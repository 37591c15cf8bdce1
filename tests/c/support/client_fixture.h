/* client_fixture.h: what the client-level C suites share: fake clock, sleep and random hooks,
 * an environment without instance metadata, and client options pointed at a fake server. */
#ifndef IVS_TEST_CLIENT_FIXTURE_H
#define IVS_TEST_CLIENT_FIXTURE_H

#include <stdint.h>

#include "ivs.h"

/* Time as the hooks see it: now_ms moves only when the code under test sleeps; every sleep
 * is recorded (the first 16 of them). rnd is what the random hook returns. */
struct fake_time {
    int64_t now_ms;
    int64_t slept[16];
    int sleeps;
    double rnd;
};

int64_t fake_clock(void *ud);
void fake_sleep(void *ud, int64_t ms);
double fake_random(void *ud);

/* A getenv hook whose only variable is AWS_EC2_METADATA_DISABLED=true, so no test can wait
 * on instance metadata, whatever the developer's environment holds. */
const char *fake_env_no_imds(void *ud, const char *name);

/* Options for a client of us-west-2 at url, with explicit keys (akid, secret) and, when t is
 * not NULL, the fake time hooks. */
void fixture_options(struct ivs_client_options *o, const char *url, const char *akid,
                     const char *secret, struct fake_time *t);

/* Creates a client; a failure is a test failure (and returns NULL). */
struct ivs_client *fixture_client(const struct ivs_client_options *o);

#endif
