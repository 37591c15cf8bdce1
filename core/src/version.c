/* Library-wide entry points: version and the one process-wide initialisation. */
#include <pthread.h>
#include <string.h>

#include <curl/curl.h>

#include "ivs.h"

const char *ivs_version(void) { return IVS_VERSION; }

static pthread_once_t s_init_once = PTHREAD_ONCE_INIT;
static int s_init_result = -1;

static void s_do_global_init(void)
{
    s_init_result = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int ivs_global_init(void)
{
    /* pthread_once makes this safe to race; only the first caller reports 0. */
    int first = 0;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int reported;
    pthread_once(&s_init_once, s_do_global_init);
    pthread_mutex_lock(&lock);
    if (!reported) {
        reported = 1;
        first = 1;
    }
    pthread_mutex_unlock(&lock);
    if (s_init_result != 0)
        return -1;
    return first ? 0 : 1;
}

void ivs_client_options_init_size(struct ivs_client_options *opts, size_t size)
{
    if (!opts || size < sizeof opts->struct_size)
        return;
    memset(opts, 0, size);
    opts->struct_size = size;
}

/* The exported symbol behind the macro of the same name (parenthesised so the macro does not
 * expand here), for binaries built before the macro existed. */
void(ivs_client_options_init)(struct ivs_client_options *opts)
{
    ivs_client_options_init_size(opts, sizeof *opts);
}
