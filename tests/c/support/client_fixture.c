#include "support/client_fixture.h"

#include <string.h>

#include "harness.h"

int64_t fake_clock(void *ud) { return ((struct fake_time *)ud)->now_ms; }

void fake_sleep(void *ud, int64_t ms)
{
    struct fake_time *t = ud;
    if (t->sleeps < (int)(sizeof t->slept / sizeof t->slept[0]))
        t->slept[t->sleeps] = ms;
    t->sleeps++;
    t->now_ms += ms;
}

double fake_random(void *ud) { return ((struct fake_time *)ud)->rnd; }

const char *fake_env_no_imds(void *ud, const char *name)
{
    (void)ud;
    return strcmp(name, "AWS_EC2_METADATA_DISABLED") == 0 ? "true" : NULL;
}

void fixture_options(struct ivs_client_options *o, const char *url, const char *akid,
                     const char *secret, struct fake_time *t)
{
    memset(o, 0, sizeof *o);
    o->region = "us-west-2";
    o->endpoint = url;
    o->access_key_id = akid;
    o->secret_access_key = secret;
    o->getenv = fake_env_no_imds;
    if (t) {
        o->clock = fake_clock;
        o->sleep = fake_sleep;
        o->random = fake_random;
        o->hooks_ud = t;
    }
}

struct ivs_client *fixture_client(const struct ivs_client_options *o)
{
    struct ivs_client *c = NULL;
    struct ivs_error err = {0};
    enum ivs_status st = ivs_client_new(o, &c, &err);
    CHECK_MSG(st == IVS_OK, "ivs_client_new: %s", err.message ? err.message : "?");
    ivs_error_clear(&err);
    return c;
}
