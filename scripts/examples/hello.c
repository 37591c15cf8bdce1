/*
 * hello.c: lua-ivs from C or C++. Creates a channel, lists the channels with its name, and
 * shows what a service error looks like. Region, endpoint and credentials come from the
 * environment and ~/.aws as for the AWS CLI (AWS_ENDPOINT_URL_IVS points it at ivs-emulator).
 *
 *   cc hello.c $(pkg-config --cflags --libs ivs) -o hello          # or: c++ -x c++ hello.c ...
 *   ./hello [channel-name]
 */
#include <stdio.h>

#include <ivs.h>

static int fail(const char *what, struct ivs_error *err)
{
    fprintf(stderr, "%s: %s: %s\n", what, err->code ? err->code : "?",
            err->message ? err->message : "");
    ivs_error_clear(err);
    return 1;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "hello-from-c";
    struct ivs_client_options opts;
    ivs_client_options_init(&opts); /* every setting from the environment and config */
    struct ivs_client *client = NULL;
    struct ivs_error err = IVS_ERROR_INIT;
    if (ivs_client_new(&opts, &client, &err) != IVS_OK)
        return fail("ivs_client_new", &err);

    /* A request is a JSON object; request_len 0 means "up to the NUL". */
    char request[200];
    snprintf(request, sizeof request, "{\"name\":\"%s\",\"latencyMode\":\"LOW\"}", name);
    char *out = NULL;
    if (ivs_client_call(client, "CreateChannel", request, 0, &out, NULL, &err) != IVS_OK) {
        ivs_client_free(client);
        return fail("create_channel", &err);
    }
    printf("created: %s\n", out);
    ivs_free(out);

    snprintf(request, sizeof request, "{\"filterByName\":\"%s\"}", name);
    if (ivs_client_call(client, "ListChannels", request, 0, &out, NULL, &err) != IVS_OK) {
        ivs_client_free(client);
        return fail("list_channels", &err);
    }
    printf("listed: %s\n", out);
    ivs_free(out);

    /* A service error: kind IVS_ERR_SERVICE, the service's code, the HTTP status. */
    const char *missing = "{\"arn\":\"arn:aws:ivs:us-west-2:123456789012:channel/missing0000\"}";
    if (ivs_client_call(client, "GetChannel", missing, 0, &out, NULL, &err) != IVS_OK) {
        printf("expected error: %s (HTTP %ld, %s)\n", err.code, err.status,
               err.kind == IVS_ERR_SERVICE ? "service" : "other");
        ivs_error_clear(&err);
    } else {
        ivs_free(out);
    }
    ivs_client_free(client);
    return 0;
}
