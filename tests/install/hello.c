/*
 * hello.c: a program built against an installed libivs (tests/lua/install_spec.lua compiles it
 * with the flags the installed ivs.pc gives). It proves the header, the library and its
 * dependencies are usable from outside the source tree.
 * Prints three lines: "version <v>", "operations <n>", "client <region> <endpoint>".
 */
#include <stdio.h>

#include <ivs.h>

int main(void)
{
    printf("version %s\n", ivs_version());
    printf("operations %zu\n", ivs_operation_count());

    struct ivs_client_options opts;
    ivs_client_options_init(&opts);
    opts.region = "eu-west-1";
    opts.endpoint = "http://127.0.0.1:9";
    opts.anonymous = 1;
    struct ivs_client *client = NULL;
    struct ivs_error err = {0};
    if (ivs_client_new(&opts, &client, &err) != IVS_OK) {
        fprintf(stderr, "ivs_client_new: %s: %s\n", err.code ? err.code : "?",
                err.message ? err.message : "");
        ivs_error_clear(&err);
        return 1;
    }
    printf("client %s %s\n", ivs_client_region(client), ivs_client_endpoint(client));
    ivs_client_free(client);
    return 0;
}
