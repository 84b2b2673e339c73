/* test_badinput.c - hostile and malformed input is refused with the right code word,
 * and a refusal leaves everything as it was: after each one DOC.GET prints the same
 * bytes, DOC.VERSION has not moved, and the server still answers PING. Also the
 * inputs that look suspicious but are valid: a 20-digit integer, a 64 MB document,
 * NUL characters, and the max-depth / max-document-size configs.
 *
 * Every test gets its own server (the suite fixture), with a document "k" whose state
 * is snapshotted before the bad input and compared after it.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(badinput);

/* The document every test starts from: written twice, so at version 2. */
static const char start_doc[] = "{\"a\":{\"b\":[1,2,3]},\"s\":\"text\",\"n\":null}";

static void write_start_doc(void) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{}"));
    expect_ok(cmd(c, "DOC.SET k $ %s", start_doc));
}

/* ---- "nothing changed" -------------------------------------------------------- */

/* Checks that "k" is still start_doc at version 2 and the server answers; `after`
 * names the refused input in the message. */
static void expect_unchanged(const char *after) {
    redisReply *r = cmd(c, "DOC.GET k WITHVERSION");
    char got[1024];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 2 &&
              r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len == strlen(start_doc) &&
              !memcmp(r->element[1]->str, start_doc, r->element[1]->len);
    freeReplyObject(r);
    cr_expect(ok, "after %s: expected version 2 and %s, got %s", after, start_doc, got);
    expect_status(cmd(c, "PING"), "PONG");
}

/* Checks that `r` is an error whose first word is one of `codes` (a space-separated
 * list) and, when `unit` is given ("byte", "character"), that it ends with
 * " at <unit> N" with N <= max. Frees r. `what` names the input for messages. */
static void expect_refused(redisReply *r, const char *codes, const char *unit, size_t max, const char *what) {
    char got[1024];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ERROR && !strpbrk(r->str, "\r\n");
    if (ok) {
        size_t w = strcspn(r->str, " ");
        char word[32];
        snprintf(word, sizeof word, " %.*s ", (int)(w < 30 ? w : 30), r->str);
        char list[128];
        snprintf(list, sizeof list, " %s ", codes);
        ok = strstr(list, word) != NULL;
    }
    if (ok && unit) {
        char needle[32];
        snprintf(needle, sizeof needle, " at %s ", unit);
        const char *at = strstr(r->str, needle);
        char *end = NULL;
        unsigned long long n = at ? strtoull(at + strlen(needle), &end, 10) : 0;
        ok = at && end && end != at + strlen(needle) && *end == '\0' && n <= max;
    }
    freeReplyObject(r);
    cr_expect(ok, "%s: expected %s%s%s, got %s", what, codes, unit ? " at <" : "", unit ? unit : "", got);
}

/* The offset reported in an error reply (after " at <unit> "), or -1. Frees r. */
static long long error_offset(redisReply *r, const char *unit) {
    long long n = -1;
    char needle[32];
    snprintf(needle, sizeof needle, " at %s ", unit);
    const char *at = r->type == REDIS_REPLY_ERROR ? strstr(r->str, needle) : NULL;
    if (at) n = strtoll(at + strlen(needle), NULL, 10);
    freeReplyObject(r);
    return n;
}

/* DOC.SET k <path> <json bytes>, binary-safe. */
static redisReply *set_bytes(const char *path, const char *json, size_t len) {
    const char *argv[] = {"DOC.SET", "k", path, json};
    size_t lens[] = {7, 1, strlen(path), len};
    return cmdv(c, 4, argv, lens);
}

/* `n` copies of `open`, then `mid`, then `n` copies of `close` (NULL: none),
 * malloc'd; *len is its length. */
static char *nested_around(const char *open, const char *mid, const char *close, size_t n, size_t *len) {
    size_t o = strlen(open), m = strlen(mid), k = close ? strlen(close) : 0;
    char *buf = malloc(n * (o + k) + m + 1);
    cr_assert(buf);
    for (size_t i = 0; i < n; i++) memcpy(buf + i * o, open, o);
    memcpy(buf + n * o, mid, m);
    for (size_t i = 0; close && i < n; i++) memcpy(buf + n * o + m + i * k, close, k);
    *len = n * (o + k) + m;
    buf[*len] = '\0';
    return buf;
}

static char *nested(const char *open, const char *close, size_t n, size_t *len) {
    return nested_around(open, "", close, n, len);
}

/* ---- arity ------------------------------------------------------------------- */

Test(badinput, wrong_arity_is_an_error_and_changes_nothing) {
    static const char *const cmds[] = {
        "DOC.SET k $", "DOC.MSET k $.a 1 k", "DOC.MSET k $.a", "DOC.DEL k $.a $.s",
        "DOC.GET",     "DOC.MGET k",         "DOC.TYPE k $ $", "DOC.VERSION k k",
    };
    write_start_doc();
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        expect_refused(cmd(c, cmds[i]), "ERR", NULL, 0, cmds[i]);
        expect_unchanged(cmds[i]);
    }
}

/* ---- nesting ------------------------------------------------------------------ */

Test(badinput, arrays_nested_100000_deep_are_refused_and_change_nothing) {
    write_start_doc();
    size_t len;
    char *deep = nested("[", "]", 100000, &len);
    expect_refused(set_bytes("$", deep, len), "TOODEEP BADJSON", "byte", len, "100000 [ ]");
    expect_unchanged("100000 nested arrays at $");
    expect_refused(set_bytes("$.a", deep, len), "TOODEEP BADJSON", "byte", len, "at $.a");
    expect_unchanged("100000 nested arrays at $.a");
    expect_refused(set_bytes("$.new", deep, len), "TOODEEP BADJSON", "byte", len, "at $.new");
    expect_unchanged("100000 nested arrays at a new member");
    free(deep);

    /* never closed */
    deep = nested("[", NULL, 100000, &len);
    expect_refused(set_bytes("$", deep, len), "TOODEEP BADJSON", "byte", len, "100000 [");
    expect_unchanged("100000 unclosed [");
    free(deep);
}

Test(badinput, objects_nested_100000_deep_are_refused_and_change_nothing) {
    write_start_doc();
    size_t len;
    char *deep = nested_around("{\"a\":", "1", "}", 100000, &len); /* valid JSON */
    expect_refused(set_bytes("$", deep, len), "TOODEEP BADJSON", "byte", len, "100000 nested objects");
    expect_unchanged("100000 nested objects");
    free(deep);
    char *inner = nested("{\"a\":", NULL, 100000, &len);
    expect_refused(set_bytes("$.a.b", inner, len), "TOODEEP BADJSON", "byte", len, "100000 unclosed objects");
    expect_unchanged("100000 unclosed objects");
    free(inner);
    /* and a missing key must not be created by the refusal */
    deep = nested("[", "]", 100000, &len);
    const char *argv[] = {"DOC.SET", "fresh", "$", deep};
    size_t lens[] = {7, 5, 1, len};
    expect_refused(cmdv(c, 4, argv, lens), "TOODEEP BADJSON", NULL, 0, "deep into a new key");
    expect_int(cmd(c, "EXISTS fresh"), 0);
    free(deep);
}

Test(badinput, max_depth_128_is_the_default_limit) {
    write_start_doc();
    size_t len;
    char *deep = nested("[", "]", 129, &len);
    expect_refused(set_bytes("$", deep, len), "TOODEEP", "byte", len, "129 nested arrays");
    expect_unchanged("129 nested arrays");
    free(deep);
    deep = nested("[", "]", 128, &len);
    expect_ok(set_bytes("$", deep, len));
    expect_int(cmd(c, "DOC.VERSION k"), 3);
    redisReply *r = cmd(c, "DOC.GET k");
    cr_assert(r->type == REDIS_REPLY_STRING && r->len == len && !memcmp(r->str, deep, len));
    freeReplyObject(r);
    free(deep);
}

Test(badinput, a_value_set_below_the_root_cannot_make_the_document_deeper_than_max_depth) {
    write_start_doc();
    size_t len;
    /* $.s is at depth 1 (inside the root object): 128 more levels make 129 */
    char *deep = nested("[", "]", 128, &len);
    expect_refused(set_bytes("$.s", deep, len), "TOODEEP", NULL, 0, "128 levels under $.s");
    expect_unchanged("128 levels under $.s");
    free(deep);
    /* 127 more levels make 128: allowed */
    deep = nested("[", "]", 127, &len);
    expect_ok(set_bytes("$.s", deep, len));
    free(deep);
}

/* ---- strings ------------------------------------------------------------------ */

Test(badinput, invalid_utf8_inside_a_string_is_badjson_at_its_byte) {
    static const struct {
        const char *what;
        const char *json;
        long long at; /* the first byte of the bad sequence */
    } rows[] = {
        {"a lone continuation byte", "\"ab\x80\"", 3},
        {"0xff",
         "\"ab\xff"
         "cd\"",
         3},
        {"an overlong '/'", "{\"a\":\"\xc0\xaf\"}", 6},
        {"an overlong NUL", "\"\xc0\x80\"", 1},
        {"a UTF-8 encoded surrogate", "\"a\xed\xa0\x80\"", 2},
        {"a code point above U+10FFFF", "\"a\xf4\x90\x80\x80\"", 2},
        {"a truncated 3-byte sequence", "\"a\xe2\x82\"", 2},
        {"a lead byte then ASCII", "[\"\xc3(\"]", 2},
        {"bad UTF-8 in a member name", "{\"k\xfe\":1}", 3},
        {"a 5-byte form", "\"\xf8\x88\x80\x80\x80\"", 1},
    };
    write_start_doc();
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        size_t len = strlen(rows[i].json);
        redisReply *r = set_bytes("$.s", rows[i].json, len);
        char got[512];
        reply_describe(r, got, sizeof got);
        bool bad = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "BADJSON ", 8);
        long long at = error_offset(r, "byte");
        cr_expect(bad && at == rows[i].at, "%s: expected BADJSON at byte %lld, got %s", rows[i].what,
                  rows[i].at, got);
        expect_unchanged(rows[i].what);
    }
}

Test(badinput, raw_control_characters_inside_a_string_are_badjson) {
    write_start_doc();
    static const char nul[] = {'"', 'a', '\0', 'b', '"'};
    expect_refused(set_bytes("$.s", nul, sizeof nul), "BADJSON", "byte", sizeof nul, "a raw NUL");
    expect_unchanged("a raw NUL");
    expect_refused(set_bytes("$.s", "\"a\nb\"", 5), "BADJSON", "byte", 5, "a raw newline");
    expect_unchanged("a raw newline");
    expect_refused(set_bytes("$.s", "\"\x1f\"", 3), "BADJSON", "byte", 3, "a raw 0x1f");
    expect_unchanged("a raw 0x1f");
}

Test(badinput, lone_surrogate_escapes_are_badjson) {
    static const char *const bad[] = {
        "\"\\ud800\"",        "\"\\udc00\"",        "\"\\uD800x\"",    "\"\\ud800\\u0041\"",
        "\"\\udc00\\ud800\"", "\"\\ud800\\ud800\"", "{\"\\udfff\":1}", "[\"ok\",\"\\udbff\"]",
    };
    write_start_doc();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        expect_refused(cmd(c, "DOC.SET k $.s %s", bad[i]), "BADJSON", "byte", strlen(bad[i]), bad[i]);
        expect_unchanged(bad[i]);
    }
    /* a proper pair is one character */
    expect_ok(cmd(c, "DOC.SET k $.s %s", "\"\\ud83d\\ude00\""));
    expect_str(cmd(c, "DOC.GET k $.s"), "\"\xf0\x9f\x98\x80\"");
    expect_int(cmd(c, "DOC.LEN k $.s"), 4);
}

/* ---- numbers and other values --------------------------------------------------- */

Test(badinput, numbers_beyond_the_double_range_are_badjson) {
    static const char *const bad[] = {"1e400",     "-1e400",         "1e309",
                                      "[1,1e400]", "{\"x\":-2e308}", "123456789e999"};
    write_start_doc();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        expect_refused(cmd(c, "DOC.SET k $.a %s", bad[i]), "BADJSON", "byte", strlen(bad[i]), bad[i]);
        expect_unchanged(bad[i]);
    }
}

Test(badinput, nan_and_infinities_are_badjson) {
    static const char *const bad[] = {"NaN",  "Infinity", "-Infinity",        "nan",          "inf",
                                      "-inf", "[NaN]",    "{\"x\":Infinity}", "[1,-Infinity]"};
    write_start_doc();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        expect_refused(cmd(c, "DOC.SET k $.a %s", bad[i]), "BADJSON", "byte", strlen(bad[i]), bad[i]);
        expect_unchanged(bad[i]);
    }
}

Test(badinput, duplicate_member_names_are_badjson) {
    static const struct {
        const char *json;
        long long at; /* the second occurrence */
    } rows[] = {
        {"{\"a\":1,\"a\":2}", 7},
        {"{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", 18},
        {"{\"\\u0061\":1,\"a\":2}", 12}, /* the same name, escaped once */
    };
    write_start_doc();
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        redisReply *r = cmd(c, "DOC.SET k $.a %s", rows[i].json);
        char got[512];
        reply_describe(r, got, sizeof got);
        bool bad = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "BADJSON ", 8);
        long long at = error_offset(r, "byte");
        cr_expect(bad && at == rows[i].at, "%s: expected BADJSON at byte %lld, got %s", rows[i].json,
                  rows[i].at, got);
        expect_unchanged(rows[i].json);
    }
}

Test(badinput, a_20_digit_integer_is_stored_as_a_number) {
    write_start_doc();
    expect_ok(cmd(c, "DOC.SET k $.big %s", "12345678901234567890"));
    expect_status(cmd(c, "DOC.TYPE k $.big"), "number");
    redisReply *r = cmd(c, "DOC.GET k $.big");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_expect_eq(strtod(r->str, NULL), 12345678901234567890.0, "printed %s", r->str);
    cr_expect(strpbrk(r->str, ".eE"), "printed %s", r->str);
    freeReplyObject(r);
    expect_ok(cmd(c, "DOC.SET k $.neg %s", "-98765432109876543210"));
    expect_status(cmd(c, "DOC.TYPE k $.neg"), "number");
    expect_int(cmd(c, "DOC.VERSION k"), 4);
}

/* ---- paths -------------------------------------------------------------------- */

Test(badinput, an_empty_path_is_badpath) {
    write_start_doc();
    expect_refused(cmd(c, "DOC.SET k %s %s", "", "1"), "BADPATH", "character", 0, "SET ''");
    expect_unchanged("DOC.SET with an empty path");
    expect_refused(cmd(c, "DOC.GET k %s", ""), "BADPATH", "character", 0, "GET ''");
    expect_refused(cmd(c, "DOC.GET k $.a %s", ""), "BADPATH", "character", 0, "GET $.a ''");
    expect_refused(cmd(c, "DOC.DEL k %s", ""), "BADPATH", "character", 0, "DEL ''");
    expect_unchanged("DOC.DEL with an empty path");
    expect_refused(cmd(c, "DOC.TYPE k %s", ""), "BADPATH", "character", 0, "TYPE ''");
    expect_refused(cmd(c, "DOC.MSET k $.x %s k %s %s", "1", "", "2"), "BADPATH", "character", 0,
                   "MSET with an empty path");
    expect_unchanged("DOC.MSET with an empty path");
}

/* "$" (or nothing, for dot style) then `n` times `seg`, malloc'd. */
static char *long_path(const char *root, const char *seg, size_t n) {
    size_t r = strlen(root), k = strlen(seg);
    char *p = malloc(r + n * k + 1);
    cr_assert(p);
    memcpy(p, root, r);
    for (size_t i = 0; i < n; i++) memcpy(p + r + i * k, seg, k);
    p[r + n * k] = '\0';
    return p;
}

Test(badinput, a_path_of_10000_segments_is_refused) {
    write_start_doc();
    char *paths[] = {long_path("$", ".a", 10000), long_path("$", "[0]", 10000), long_path("a", ".a", 9999)};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        expect_refused(cmd(c, "DOC.SET k %s %s", paths[i], "1"), "TOODEEP BADPATH", NULL, 0,
                       "DOC.SET at 10000 segments");
        expect_unchanged("DOC.SET at a path of 10000 segments");
        expect_refused(cmd(c, "DOC.GET k %s", paths[i]), "TOODEEP BADPATH", NULL, 0,
                       "DOC.GET at 10000 segments");
        expect_refused(cmd(c, "DOC.DEL k %s", paths[i]), "TOODEEP BADPATH", NULL, 0,
                       "DOC.DEL at 10000 segments");
        expect_unchanged("DOC.DEL at a path of 10000 segments");
        free(paths[i]);
    }
    /* a missing key is not created either */
    char *p = long_path("$", ".a", 10000);
    expect_refused(cmd(c, "DOC.SET fresh %s %s", p, "1"), "TOODEEP BADPATH", NULL, 0, "into a new key");
    expect_int(cmd(c, "EXISTS fresh"), 0);
    free(p);
}

Test(badinput, unbalanced_brackets_in_paths_are_badpath_at_a_character) {
    static const char *const bad[] = {
        "$[0",     "$.a]",  "$[\"a\"", "$[",      "$]",   "$.a[[0]]", "$[\"a]",
        "$['a\"]", "$[0]]", "$.a[0",   "$.a[0][", "$[']", "$[[",      "$.a[-1",
    };
    write_start_doc();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        expect_refused(cmd(c, "DOC.SET k %s %s", bad[i], "1"), "BADPATH", "character", strlen(bad[i]),
                       bad[i]);
        expect_unchanged(bad[i]);
        expect_refused(cmd(c, "DOC.GET k %s", bad[i]), "BADPATH", "character", strlen(bad[i]), bad[i]);
        expect_refused(cmd(c, "DOC.DEL k %s", bad[i]), "BADPATH", "character", strlen(bad[i]), bad[i]);
        expect_unchanged(bad[i]);
    }
}

Test(badinput, badpath_points_at_the_offending_character) {
    write_start_doc();
    cr_expect_eq(error_offset(cmd(c, "DOC.GET k %s", "$.a]"), "character"), 3);
    cr_expect_eq(error_offset(cmd(c, "DOC.GET k %s", "$.a.b[x]"), "character"), 6);
    cr_expect_eq(error_offset(cmd(c, "DOC.GET k %s", "$.a[0]]"), "character"), 6);
}

/* ---- big and unusual valid input ------------------------------------------------ */

Test(badinput, a_64mb_document_is_stored_and_read_back_whole, .timeout = 60) {
    /* an array of small objects, compact: exactly how DOC.GET prints it */
    size_t want = 64u << 20, len = 0, cap = want + 256, count = 0;
    char *json = malloc(cap);
    cr_assert(json);
    json[len++] = '[';
    while (len < want) {
        len += (size_t)snprintf(json + len, cap - len, "%s{\"id\":%zu,\"tag\":\"t%zu\"}", count ? "," : "",
                                count, count % 977);
        count++;
    }
    json[len++] = ']';
    const char *argv[] = {"DOC.SET", "huge", "$", json};
    size_t lens[] = {7, 4, 1, len};
    expect_ok(cmdv(c, 4, argv, lens));
    expect_int(cmd(c, "DOC.LEN huge"), (long long)count);
    expect_int(cmd(c, "DOC.VERSION huge"), 1);
    char path[64];
    snprintf(path, sizeof path, "$[%zu].id", count - 1);
    char last[32];
    snprintf(last, sizeof last, "%zu", count - 1);
    expect_str(cmd(c, "DOC.GET huge %s", path), last);
    redisReply *r = cmd(c, "DOC.GET huge");
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    cr_assert_eq(r->len, len, "DOC.GET returned %zu bytes, the compact form has %zu", r->len, len);
    cr_assert(!memcmp(r->str, json, len), "DOC.GET differs from what was set");
    freeReplyObject(r);
    free(json);
    expect_status(cmd(c, "PING"), "PONG");
}

Test(badinput, nul_escapes_round_trip_in_member_names_values_and_key_names) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\\u0000b\":\"x\\u0000y\",\"\\u0000\":[\"\\u0000\"]}"));
    expect_str(cmd(c, "DOC.GET k"), "{\"a\\u0000b\":\"x\\u0000y\",\"\\u0000\":[\"\\u0000\"]}");
    expect_str(cmd(c, "DOC.GET k %s", "$[\"a\\u0000b\"]"), "\"x\\u0000y\"");
    expect_int(cmd(c, "DOC.LEN k %s", "$[\"a\\u0000b\"]"), 3);

    /* a raw NUL in a dot-style path names the same member */
    expect_str(cmd(c, "DOC.GET k %b", "a\0b", (size_t)3), "\"x\\u0000y\"");

    redisReply *r = cmd(c, "DOC.KEYS k");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    cr_assert(r->element[0]->len == 3 && !memcmp(r->element[0]->str, "a\0b", 3));
    cr_assert(r->element[1]->len == 1 && r->element[1]->str[0] == '\0');
    freeReplyObject(r);

    /* a key name with NUL bytes is its own key */
    expect_ok(cmd(c, "DOC.SET %b $ %s", "k\0z", (size_t)3, "\"nul key\""));
    expect_str(cmd(c, "DOC.GET %b", "k\0z", (size_t)3), "\"nul key\"");
}

/* ---- limits set by configuration ------------------------------------------------ */

Test(badinput, max_depth_set_with_config_set_applies_to_documents_and_paths) {
    write_start_doc();
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 8"));
    redisReply *r = cmd(c, "CONFIG GET atomicdoc.max-depth");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && !strcmp(r->element[1]->str, "8"));
    freeReplyObject(r);
    size_t len;
    char *deep = nested("[", "]", 9, &len);
    expect_refused(set_bytes("$.a", deep, len), "TOODEEP", NULL, 0, "9 levels with max-depth 8");
    expect_unchanged("9 levels with max-depth 8");
    free(deep);
    expect_refused(cmd(c, "DOC.GET k $.a.a.a.a.a.a.a.a.a"), "TOODEEP BADPATH", NULL, 0,
                   "a 9-segment path with max-depth 8");
    deep = nested("[", "]", 7, &len);
    expect_ok(set_bytes("$.a", deep, len));
    free(deep);

    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 128"));
    deep = nested("[", "]", 100, &len);
    expect_ok(set_bytes("$", deep, len));
    free(deep);
    expect_refused(cmd(c, "CONFIG SET atomicdoc.max-depth 0"), "ERR", NULL, 0, "max-depth 0");
}

Test(badinput, max_depth_from_the_server_config_applies_from_startup) {
    srv *small = srv_start(&(srv_opts){.config = (const char *[]){"atomicdoc.max-depth", "4", NULL}});
    redisContext *sc = srv_connect(small);
    redisReply *r = cmd(sc, "CONFIG GET atomicdoc.max-depth");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && !strcmp(r->element[1]->str, "4"));
    freeReplyObject(r);
    expect_err_prefix(cmd(sc, "DOC.SET k $ %s", "[[[[[1]]]]]"), "TOODEEP");
    expect_ok(cmd(sc, "DOC.SET k $ %s", "[[[[1]]]]"));
    expect_int(cmd(sc, "EXISTS k"), 1);
    redisFree(sc);
    srv_stop(small);
}

Test(badinput, json_larger_than_max_document_size_is_refused) {
    write_start_doc();
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-document-size 2048"));
    char big[4000];
    memset(big, 'x', sizeof big);
    big[0] = '"';
    big[sizeof big - 1] = '"';
    redisReply *r = set_bytes("$.s", big, sizeof big);
    char got[512];
    cr_expect_eq(r->type, REDIS_REPLY_ERROR, "4000 bytes over a 2048 limit: %s",
                 reply_describe(r, got, sizeof got));
    freeReplyObject(r);
    expect_unchanged("JSON larger than max-document-size");
    /* 2000 bytes fit */
    big[1999] = '"';
    expect_ok(set_bytes("$.s", big, 2000));
    expect_int(cmd(c, "DOC.LEN k $.s"), 1998);
}

/* README "Query paths": a nodelist keeps duplicates, so each '..' after a '..' revisits
 * everything below: `$..*..*..*..*..*` on 100 nested arrays (200 bytes) was 2.5 GB of
 * reply and half a minute of a blocked server. A query may take 16 steps per value of
 * the document (at least 100,000), then TOOBIG, for reads and writes alike. */
Test(badinput, queries_whose_repeated_descendants_explode_are_toobig) {
    char deep[256];
    memset(deep, '[', 100);
    deep[100] = '1';
    memset(deep + 101, ']', 100);
    deep[201] = 0;
    write_start_doc();
    expect_ok(cmd(c, "DOC.SET deep $ %s", deep));
    const char *bad = "$..*..*..*..*..*";
    expect_err_prefix(cmd(c, "DOC.GET deep %s", bad), "TOOBIG query takes more than 100000 steps");
    expect_err_prefix(cmd(c, "DOC.GET deep %s", "$[?count(@..*..*..*..*..*) > 0]"), "TOOBIG");
    expect_err_prefix(cmd(c, "DOC.SET deep %s 1", bad), "TOOBIG");
    expect_err_prefix(cmd(c, "DOC.DEL deep %s", bad), "TOOBIG");
    expect_err_prefix(cmd(c, "DOC.TXN 2 deep k SET 2 $.s 1 GET 1 %s", bad), "ABORTED op 2: TOOBIG");
    expect_str(cmd(c, "DOC.GET deep"), deep);
    redisReply *r = cmd(c, "DOC.GET deep %s", "$..*..*");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "two '..' on 100 levels: 4,950 nodes, within the budget");
    freeReplyObject(r);
    expect_unchanged(bad);
}
