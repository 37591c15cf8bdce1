/* test_json_scan.c: the recogniser the C API checks a response body with before handing the
 * text on (json_scan.h): what it accepts is exactly one JSON object, and every kind of
 * malformed text is refused. */
#include <string.h>

#include "harness.h"
#include "json_scan.h"

static int ok(const char *s) { return json_is_object(s, strlen(s), 64); }

static void test_objects_are_accepted(void)
{
    CHECK(ok("{}"));
    CHECK(ok(" \t\r\n{ } \n"));
    CHECK(ok("{\"a\":1}"));
    CHECK(ok("{\"channel\":{\"arn\":\"arn:aws:ivs:us-west-2:1:channel/x\",\"authorized\":false,"
             "\"tags\":{},\"list\":[1,-2.5e+3,0.25,true,null,\"\\u00e9\\n\\\"\\\\\\/\"]}}"));
    CHECK(ok("{\"nested\":[[[]],{\"k\":[{}]}]}"));
    CHECK(ok("{\"utf8\":\"caf\xc3\xa9\"}"));
    CHECK(ok("{\"n\":0,\"m\":-0,\"e\":1E9,\"f\":1e-9}"));
}

static void test_non_objects_and_malformed_text_are_refused(void)
{
    static const char *const bad[] = {
        "",
        " ",
        "[]",
        "1",
        "\"s\"",
        "null",
        "{",
        "}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{,}",
        "{\"a\":1 \"b\":2}",
        "{a:1}",
        "{'a':1}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":-}",
        "{\"a\":+1}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":True}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12G4\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"open}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":[1,2}",
        "{\"a\":[1,]}",
        "{} {}",
        "{}x",
        "{\"a\":NaN}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(!ok(bad[i]), "accepted: %s", bad[i]);
    CHECK(!json_is_object(NULL, 0, 64));
    /* The length is the text's: a NUL inside it is not the end. */
    CHECK(!json_is_object("{}\0{}", 5, 64));
    CHECK(json_is_object("{}\0{}", 2, 64));
}

static void test_depth_is_bounded(void)
{
    char deep[260];
    deep[0] = '{';
    memcpy(deep + 1, "\"a\":", 4);
    size_t n = 5;
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    CHECK(json_is_object(deep, n, 101));
    CHECK(!json_is_object(deep, n, 100));
}

int main(void)
{
    RUN(test_objects_are_accepted);
    RUN(test_non_objects_and_malformed_text_are_refused);
    RUN(test_depth_is_bounded);
    return harness_finish();
}
