/* test_json_scan.c: the recogniser the C API checks a response body with before handing the
 * text on (json_scan.h): what it accepts is exactly one JSON object, and every kind of
 * malformed text is refused. */
#include <stdint.h>
#include <stdio.h>
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

/* The count json_object_within bounds, as the client's size check (s_json_too_big) makes it:
 * one, plus one per ',', ':' and '[' outside strings. */
static size_t ref_values(const char *p, size_t len)
{
    size_t values = 1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"') {
            for (i++; i < len && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
        } else if (p[i] == ',' || p[i] == ':' || p[i] == '[') {
            values++;
        }
    }
    return values;
}

static void test_values_are_bounded(void)
{
    static const char *const texts[] = {
        "{}",
        "{\"a\":1}",
        "{\"a\":[]}",
        "{\"a\":[1,2,3],\"b\":{\"c\":[[],{}]}}",
        "{\"a,b:[\":\"x,[:\\\"]\"}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *t = texts[i];
        size_t n = strlen(t), v = ref_values(t, n);
        CHECK_MSG(json_object_within(t, n, 64, v), "refused at its own count %zu: %s", v, t);
        CHECK_MSG(!json_object_within(t, n, 64, v - 1), "accepted under its count %zu: %s", v, t);
    }
    CHECK(!json_object_within("{}", 2, 64, 0));
    CHECK(json_object_within("{}", 2, 64, SIZE_MAX));
    /* Depth is the same limit as json_is_object's, arrays and objects alike. */
    CHECK(json_object_within("{\"a\":[{}]}", 10, 3, 100));
    CHECK(!json_object_within("{\"a\":[{}]}", 10, 2, 100));
}

/* Strings are skipped a word at a time: every stop byte (quote, backslash, control
 * character) is found wherever it falls within or across words, and so is the text's end. */
static void test_strings_at_every_offset(void)
{
    char t[96];
    for (size_t len = 0; len < 40; len++) {
        for (size_t at = 0; at <= len; at++) {
            static const char *const inserts[] = {"\\\"", "\\\\", "\\u00e9", "\\n", "\x01",
                                                  "\x1f", "\\x",  "\\u12",   "\"",  "\xc3\xa9"};
            static const int good[] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 1};
            for (size_t k = 0; k < sizeof inserts / sizeof inserts[0]; k++) {
                size_t n = 0;
                memcpy(t + n, "{\"k\":\"", 6);
                n += 6;
                memset(t + n, 'a', at);
                n += at;
                size_t m = strlen(inserts[k]);
                memcpy(t + n, inserts[k], m);
                n += m;
                memset(t + n, 'z', len - at);
                n += len - at;
                memcpy(t + n, "\"}", 2);
                n += 2;
                CHECK_MSG(json_is_object(t, n, 64) == good[k], "len %zu at %zu insert %zu", len, at,
                          k);
                /* Cut inside the string: never accepted, never read past the length. */
                CHECK(!json_is_object(t, n - 2, 64));
            }
        }
    }
}

/* A deterministic walk over small texts from JSON's alphabet: json_object_within is exactly
 * json_is_object plus the reference count. */
static void test_values_match_the_reference(void)
{
    static const char alphabet[] = "{}[]\":,\\ 0-1ea\"x";
    uint32_t seed = 12345;
    char t[24];
    size_t accepted = 0;
    for (int iter = 0; iter < 200000; iter++) {
        seed = seed * 1664525u + 1013904223u;
        size_t n = 2 + (seed >> 28);
        t[0] = '{';
        for (size_t i = 1; i < n - 1; i++) {
            seed = seed * 1664525u + 1013904223u;
            t[i] = alphabet[(seed >> 24) % (sizeof alphabet - 1)];
        }
        t[n - 1] = '}';
        for (size_t v = 1; v < 8; v++) {
            int want = json_is_object(t, n, 3) && ref_values(t, n) <= v;
            accepted += (size_t)want;
            if (json_object_within(t, n, 3, v) != want) {
                CHECK_MSG(0, "differs at %zu values: %.*s", v, (int)n, t);
                return;
            }
        }
    }
    /* The walk reaches valid objects, at and over each bound, not only junk. */
    CHECK(accepted > 1000);
}

int main(void)
{
    RUN(test_objects_are_accepted);
    RUN(test_non_objects_and_malformed_text_are_refused);
    RUN(test_depth_is_bounded);
    RUN(test_values_are_bounded);
    RUN(test_strings_at_every_offset);
    RUN(test_values_match_the_reference);
    return harness_finish();
}
