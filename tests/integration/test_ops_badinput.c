/* test_ops_badinput.c - every atomic op (INCR, MUL, MIN, MAX, STRAPPEND, PUSH, POP,
 * PULL, ADDTOSET, INDEXOF, TOGGLE, CLEAR, MERGE, CAS) refusing bad input: wrong arity
 * (Redis's ERR), syntax (SYNTAX), a key of another type (WRONGTYPE), malformed paths (BADPATH),
 * missing paths (NOPATH), values of the wrong JSON type (BADTYPE), integer overflow
 * and non-finite results (OVERFLOW), malformed JSON (BADJSON) and malformed filters
 * (BADFILTER).
 *
 * One table holds every refused command with the code word its error must start
 * with. Each row is run against the same starting documents; after it the documents
 * must be byte-identical at the same version, and a key the command would have
 * created must not exist. The last test runs the whole table on a primary with a
 * replica attached: the replica must receive none of it (its commandstats show only
 * the one marker write that follows), and both end with the same digest and
 * versions.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(ops_badinput);

/* ---- the starting state -------------------------------------------------------- */

/* "k" holds this at version 2 (written twice, so a reset to 1 would show); "str"
 * is a plain Redis string; "fresh" does not exist. */
static const char start_doc[] =
    "{\"n\":5,\"d\":1.5,\"big\":9223372036854775807,\"small\":-9223372036854775808,"
    "\"huge\":1e308,\"s\":\"text\",\"b\":true,\"z\":null,\"o\":{\"x\":1},"
    "\"a\":[1,2,{\"q\":1}]}";

static void write_start_state(redisContext *to) {
    expect_ok(cmd(to, "DOC.SET k $ %s", "{}"));
    expect_ok(cmd(to, "DOC.SET k $ %s", start_doc));
    expect_ok(cmd(to, "SET str %s", "plain"));
}

/* Checks that "k" is start_doc at version 2, "str" is untouched and "fresh" does not
 * exist; `after` names the refused command in the message. */
static void expect_unchanged(redisContext *on, const char *after) {
    redisReply *r = cmd(on, "DOC.GET k WITHVERSION");
    char got[1024];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 2 &&
              r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len == strlen(start_doc) &&
              !memcmp(r->element[1]->str, start_doc, r->element[1]->len);
    freeReplyObject(r);
    cr_expect(ok, "after %s: expected k at version 2 holding %s, got %s", after, start_doc, got);

    r = cmd(on, "GET str");
    ok = r->type == REDIS_REPLY_STRING && !strcmp(r->str, "plain");
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    cr_expect(ok, "after %s: expected str to hold \"plain\", got %s", after, got);

    r = cmd(on, "EXISTS fresh");
    ok = r->type == REDIS_REPLY_INTEGER && r->integer == 0;
    freeReplyObject(r);
    cr_expect(ok, "after %s: the key fresh was created", after);
}

/* ---- the table ----------------------------------------------------------------- */

#define MAX_ARGS 10

/* A refused command: the code word its error starts with, and its words. */
typedef struct bad {
    const char *code;               /* ERR, WRONGTYPE, BADPATH, ... */
    const char *argv[MAX_ARGS + 1]; /* the command, NULL-terminated */
} bad;

static const bad rows[] = {
    /* ---- arity (Redis's ERR) and syntax (SYNTAX) ---- */
    {"ERR", {"DOC.INCR", "k", "$.n"}},
    {"ERR", {"DOC.INCR", "k"}},
    {"ERR", {"DOC.INCR", "k", "$.n", "1", "MIN", "0", "MAX", "9", "MIN"}},
    {"SYNTAX", {"DOC.INCR", "k", "$.n", "x"}},
    {"SYNTAX", {"DOC.INCR", "k", "$.n", "1", "MIN"}},
    {"SYNTAX", {"DOC.INCR", "k", "$.n", "1", "MIN", "zero"}},
    {"SYNTAX", {"DOC.INCR", "k", "$.n", "1", "LIMIT", "3"}},
    {"ERR", {"DOC.MUL", "k", "$.n"}},
    {"ERR", {"DOC.MUL", "k", "$.n", "2", "3"}},
    {"SYNTAX", {"DOC.MUL", "k", "$.n", "two"}},
    {"ERR", {"DOC.MIN", "k", "$.n"}},
    {"ERR", {"DOC.MIN", "k", "$.n", "1", "2"}},
    {"ERR", {"DOC.MAX", "k", "$.n"}},
    {"ERR", {"DOC.MAX", "k", "$.n", "1", "2"}},
    {"ERR", {"DOC.STRAPPEND", "k", "$.s"}},
    {"ERR", {"DOC.STRAPPEND", "k", "$.s", "x", "y"}},
    {"ERR", {"DOC.PUSH", "k", "$.a"}},
    {"ERR", {"DOC.PUSH", "k"}},
    {"SYNTAX", {"DOC.PUSH", "k", "$.a", "KEEP", "3"}},
    {"SYNTAX", {"DOC.PUSH", "k", "$.a", "AT", "x", "1"}},
    {"SYNTAX", {"DOC.PUSH", "k", "$.a", "KEEP", "many", "1"}},
    {"ERR", {"DOC.POP", "k"}},
    {"ERR", {"DOC.POP", "k", "$.a", "FIRST", "1"}},
    {"SYNTAX", {"DOC.POP", "k", "$.a", "MIDDLE"}},
    {"ERR", {"DOC.PULL", "k", "$.a"}},
    {"SYNTAX", {"DOC.PULL", "k", "$.a", "WHERE"}},
    {"SYNTAX", {"DOC.PULL", "k", "$.a", "WHERE", "{}", "{}"}},
    {"ERR", {"DOC.ADDTOSET", "k", "$.a"}},
    {"ERR", {"DOC.INDEXOF", "k", "$.a"}},
    {"ERR", {"DOC.INDEXOF", "k", "$.a", "1", "2"}},
    {"ERR", {"DOC.TOGGLE", "k"}},
    {"ERR", {"DOC.TOGGLE", "k", "$.b", "$.b"}},
    {"ERR", {"DOC.CLEAR", "k"}},
    {"ERR", {"DOC.CLEAR", "k", "$.a", "$.o"}},
    {"ERR", {"DOC.MERGE", "k", "$"}},
    {"ERR", {"DOC.MERGE", "k", "$", "{}", "{}"}},
    {"ERR", {"DOC.CAS", "k", "$.z", "null"}},
    {"ERR", {"DOC.CAS", "k", "$.z", "ABSENT"}},
    {"ERR", {"DOC.CAS", "k", "$.z", "null", "1", "2"}},

    /* ---- a plain string key ---- */
    {"WRONGTYPE", {"DOC.INCR", "str", "$.n", "1"}},
    {"WRONGTYPE", {"DOC.MUL", "str", "$.n", "2"}},
    {"WRONGTYPE", {"DOC.MIN", "str", "$.n", "1"}},
    {"WRONGTYPE", {"DOC.MAX", "str", "$.n", "1"}},
    {"WRONGTYPE", {"DOC.STRAPPEND", "str", "$.s", "x"}},
    {"WRONGTYPE", {"DOC.PUSH", "str", "$.a", "1"}},
    {"WRONGTYPE", {"DOC.POP", "str", "$.a"}},
    {"WRONGTYPE", {"DOC.PULL", "str", "$.a", "1"}},
    {"WRONGTYPE", {"DOC.PULL", "str", "$.a", "WHERE", "{\"q\":1}"}},
    {"WRONGTYPE", {"DOC.ADDTOSET", "str", "$.a", "1"}},
    {"WRONGTYPE", {"DOC.INDEXOF", "str", "$.a", "1"}},
    {"WRONGTYPE", {"DOC.TOGGLE", "str", "$.b"}},
    {"WRONGTYPE", {"DOC.CLEAR", "str", "$.a"}},
    {"WRONGTYPE", {"DOC.MERGE", "str", "$", "{\"a\":1}"}},
    {"WRONGTYPE", {"DOC.CAS", "str", "$.z", "ABSENT", "1"}},

    /* ---- malformed paths ---- */
    {"BADPATH", {"DOC.INCR", "k", "$[", "1"}},
    {"BADPATH", {"DOC.MUL", "k", "n..x", "2"}},
    {"BADPATH", {"DOC.MIN", "k", "$.a[x]", "1"}},
    {"BADPATH", {"DOC.MAX", "k", "$.", "1"}},
    {"BADPATH", {"DOC.STRAPPEND", "k", "$[\"s", "x"}},
    {"BADPATH", {"DOC.PUSH", "k", "$.a[", "1"}},
    {"BADPATH", {"DOC.POP", "k", "a.", "FIRST"}},
    {"BADPATH", {"DOC.PULL", "k", "$.a]", "1"}},
    {"BADPATH", {"DOC.PULL", "k", "$$", "WHERE", "{\"q\":1}"}},
    {"BADPATH", {"DOC.ADDTOSET", "k", "$['a", "1"}},
    {"BADPATH", {"DOC.INDEXOF", "k", "$[1", "1"}},
    {"BADPATH", {"DOC.TOGGLE", "k", "$.b["}},
    {"BADPATH", {"DOC.CLEAR", "k", "..a"}},
    {"BADPATH", {"DOC.MERGE", "k", "$x", "{}"}},
    {"BADPATH", {"DOC.CAS", "k", "$.z[", "null", "1"}},
    {"BADPATH", {"DOC.INCR", "fresh", "$.a[", "1"}},

    /* ---- missing paths where a value must be, and array slots past the end ---- */
    {"NOPATH", {"DOC.SET", "k", "$.a[3]", "1"}},
    {"NOPATH", {"DOC.TOGGLE", "k", "$.missing"}},
    {"NOPATH", {"DOC.TOGGLE", "k", "$.a[7]"}},
    {"NOPATH", {"DOC.TOGGLE", "fresh", "$.b"}},
    {"NOPATH", {"DOC.INCR", "k", "$.a[3]", "1"}},
    {"NOPATH", {"DOC.INCR", "k", "$.a[-4]", "1"}},
    {"NOPATH", {"DOC.MUL", "k", "$.a[5]", "2"}},
    {"NOPATH", {"DOC.MIN", "k", "$.a[3]", "1"}},
    {"NOPATH", {"DOC.MAX", "k", "$.a[3].x", "1"}},
    {"NOPATH", {"DOC.STRAPPEND", "k", "$.a[3]", "x"}},
    {"NOPATH", {"DOC.PUSH", "k", "$.a[3]", "1"}},
    {"NOPATH", {"DOC.ADDTOSET", "k", "$.a[3]", "1"}},
    {"NOPATH", {"DOC.MERGE", "k", "$.a[3]", "{\"x\":1}"}},
    {"NOPATH", {"DOC.CAS", "k", "$.a[3]", "ABSENT", "1"}},

    /* ---- the wrong JSON type for the op ---- */
    {"BADTYPE", {"DOC.INCR", "k", "$.s", "1"}},
    {"BADTYPE", {"DOC.INCR", "k", "$.z", "1"}},
    {"BADTYPE", {"DOC.INCR", "k", "$.o", "1"}},
    {"BADTYPE", {"DOC.INCR", "k", "$.n.x", "1"}},
    {"BADTYPE", {"DOC.INCR", "k", "$.b.c.d", "1", "MIN", "0"}},
    {"BADTYPE", {"DOC.MUL", "k", "$.b", "2"}},
    {"BADTYPE", {"DOC.MUL", "k", "$.a", "2"}},
    {"BADTYPE", {"DOC.MIN", "k", "$.n", "{\"x\":1}"}},
    {"BADTYPE", {"DOC.MIN", "k", "$.n", "[1]"}},
    {"BADTYPE", {"DOC.MIN", "k", "$.n", "null"}},
    {"BADTYPE", {"DOC.MIN", "k", "$.n", "\"5\""}},
    {"BADTYPE", {"DOC.MIN", "k", "$.a", "1"}},
    {"BADTYPE", {"DOC.MAX", "k", "$.n", "true"}},
    {"BADTYPE", {"DOC.MAX", "k", "$.s", "1"}},
    {"BADTYPE", {"DOC.MAX", "k", "$.o", "\"a\""}},
    {"BADTYPE", {"DOC.STRAPPEND", "k", "$.n", "x"}},
    {"BADTYPE", {"DOC.STRAPPEND", "k", "$.a", "x"}},
    {"BADTYPE", {"DOC.STRAPPEND", "k", "$.z", "x"}},
    {"BADTYPE", {"DOC.PUSH", "k", "$.o", "1"}},
    {"BADTYPE", {"DOC.PUSH", "k", "$.s", "1"}},
    {"BADTYPE", {"DOC.PUSH", "k", "$.n", "1", "2"}},
    {"BADTYPE", {"DOC.POP", "k", "$.n"}},
    {"BADTYPE", {"DOC.POP", "k", "$.o", "FIRST"}},
    {"BADTYPE", {"DOC.PULL", "k", "$.o", "1"}},
    {"BADTYPE", {"DOC.PULL", "k", "$.s", "WHERE", "{\"q\":1}"}},
    {"BADTYPE", {"DOC.ADDTOSET", "k", "$.n", "1"}},
    {"BADTYPE", {"DOC.ADDTOSET", "k", "$.o", "1"}},
    {"BADTYPE", {"DOC.INDEXOF", "k", "$.s", "1"}},
    {"BADTYPE", {"DOC.TOGGLE", "k", "$.n"}},
    {"BADTYPE", {"DOC.TOGGLE", "k", "$.z"}},
    {"BADTYPE", {"DOC.TOGGLE", "k", "$.s"}},
    {"BADTYPE", {"DOC.MERGE", "k", "$.n.x", "{\"a\":1}"}},
    {"BADTYPE", {"DOC.MERGE", "k", "$.a.x", "1"}},
    {"BADTYPE", {"DOC.CAS", "k", "$.n.x", "ABSENT", "1"}},
    {"BADTYPE", {"DOC.MERGE", "fresh", "$.a[0]", "1"}},
    {"BADTYPE", {"DOC.PUSH", "fresh", "$.a[0]", "1"}},
    {"BADTYPE", {"DOC.CAS", "fresh", "$.a[0]", "ABSENT", "1"}},

    /* ---- integer overflow, non-finite results ---- */
    {"OVERFLOW", {"DOC.INCR", "k", "$.big", "1"}},
    {"OVERFLOW", {"DOC.INCR", "k", "$.big", "9223372036854775807"}},
    {"OVERFLOW", {"DOC.INCR", "k", "$.small", "-1"}},
    {"OVERFLOW", {"DOC.INCR", "k", "$.big", "1", "MAX", "9223372036854775807"}},
    {"OVERFLOW", {"DOC.INCR", "k", "$.huge", "1e308"}},
    {"OVERFLOW", {"DOC.INCR", "k", "$.huge", "1.7976931348623157e308"}},
    {"OVERFLOW", {"DOC.MUL", "k", "$.big", "2"}},
    {"OVERFLOW", {"DOC.MUL", "k", "$.small", "-1"}},
    {"OVERFLOW", {"DOC.MUL", "k", "$.huge", "10"}},
    {"OVERFLOW", {"DOC.MUL", "k", "$.huge", "-10"}},
    {"OVERFLOW", {"DOC.MUL", "k", "$.huge", "1e300"}},
    {"OVERFLOW", {"DOC.MUL", "k", "$.d", "1.7976931348623157e308"}},

    /* ---- malformed JSON values ---- */
    {"BADJSON", {"DOC.PUSH", "k", "$.a", "[1"}},
    {"BADJSON", {"DOC.PUSH", "k", "$.a", "1", "{x}"}},
    {"BADJSON", {"DOC.PUSH", "fresh", "$.a", "[1,]"}},
    {"BADJSON", {"DOC.PULL", "k", "$.a", "[1,]"}},
    {"BADJSON", {"DOC.PULL", "k", "$.a", "WHERE", "{\"q\":"}},
    {"BADJSON", {"DOC.ADDTOSET", "k", "$.a", "3", "tru"}},
    {"BADJSON", {"DOC.INDEXOF", "k", "$.a", "'1'"}},
    {"BADJSON", {"DOC.MIN", "k", "$.n", "01"}},
    {"BADJSON", {"DOC.MAX", "k", "$.s", "\"abc"}},
    {"BADJSON", {"DOC.MERGE", "k", "$", "{\"a\":1,\"a\":2}"}},
    {"BADJSON", {"DOC.MERGE", "fresh", "$", "{"}},
    {"BADJSON", {"DOC.CAS", "k", "$.z", "nul", "1"}},
    {"BADJSON", {"DOC.CAS", "k", "$.z", "null", "{\"a\"}"}},
    {"BADJSON", {"DOC.CAS", "fresh", "$.z", "ABSENT", "["}},
    {"BADJSON", {"DOC.STRAPPEND", "k", "$.s", "\xff"}},
    {"BADJSON", {"DOC.STRAPPEND", "k", "$.s", "ok\xc3"}},

    /* ---- malformed filters ---- */
    {"BADFILTER", {"DOC.PULL", "k", "$.a", "WHERE", "{\"a\":{\"$bogus\":1}}"}},
    {"BADFILTER", {"DOC.PULL", "k", "$.a", "WHERE", "{\"$and\":5}"}},
    {"BADFILTER", {"DOC.PULL", "k", "$.a", "WHERE", "{\"$or\":[]}"}},
    {"BADFILTER", {"DOC.PULL", "k", "$.a", "WHERE", "{\"q\":{\"$in\":5}}"}},
    {"BADFILTER", {"DOC.PULL", "k", "$.a", "WHERE", "[1]"}},
    {"BADFILTER", {"DOC.PULL", "k", "$.a", "WHERE", "{\"q\":{\"$gt\":1,\"$bogus\":2}}"}},
    {"BADFILTER", {"DOC.PULL", "fresh", "$.a", "WHERE", "{\"$and\":5}"}},
};

#define NROWS (sizeof rows / sizeof *rows)

static int argc_of(const bad *b) {
    int n = 0;
    while (n < MAX_ARGS && b->argv[n]) n++;
    return n;
}

/* The row as one line for messages: words joined by spaces. */
static const char *describe(const bad *b, char *buf, size_t len) {
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; b->argv[i] && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "", b->argv[i]);
    return buf;
}

/* Checks that `r` is a one-line error starting with the word `code` followed by a
 * space and a message. Frees r. */
static void expect_code(redisReply *r, const char *code, const char *what) {
    char got[1024];
    reply_describe(r, got, sizeof got);
    size_t n = strlen(code);
    bool ok = r->type == REDIS_REPLY_ERROR && !strpbrk(r->str, "\r\n") && !strncmp(r->str, code, n) &&
              r->str[n] == ' ' && r->str[n + 1] != '\0';
    freeReplyObject(r);
    cr_expect(ok, "%s: expected an error \"%s <message>\", got %s", what, code, got);
}

/* Runs every row whose code is `code` (NULL: every row) on `on`, checking the error
 * and, when `check` is set, that nothing changed after each. Returns the count. */
static size_t run_rows(redisContext *on, const char *code, bool check) {
    size_t ran = 0;
    for (size_t i = 0; i < NROWS; i++) {
        if (code && strcmp(rows[i].code, code)) continue;
        char what[512];
        describe(&rows[i], what, sizeof what);
        expect_code(cmdv(on, argc_of(&rows[i]), (const char **)rows[i].argv, NULL), rows[i].code, what);
        if (check) expect_unchanged(on, what);
        ran++;
    }
    return ran;
}

static void run_code(const char *code) {
    write_start_state(c);
    size_t n = run_rows(c, code, true);
    cr_assert_gt(n, 0, "no rows for %s", code);
}

/* ---- one test per code word -------------------------------------------------------- */

Test(ops_badinput, wrong_arity_is_err_and_changes_nothing) { run_code("ERR"); }

Test(ops_badinput, malformed_arguments_are_syntax_and_change_nothing) { run_code("SYNTAX"); }

Test(ops_badinput, every_op_on_a_plain_string_key_is_wrongtype_and_leaves_it_alone) { run_code("WRONGTYPE"); }

Test(ops_badinput, malformed_paths_are_badpath_and_change_nothing) { run_code("BADPATH"); }

Test(ops_badinput, a_missing_value_or_an_array_slot_past_the_end_is_nopath) { run_code("NOPATH"); }

Test(ops_badinput, the_wrong_json_type_is_badtype_and_creates_nothing) { run_code("BADTYPE"); }

Test(ops_badinput, integer_overflow_and_non_finite_results_are_overflow) { run_code("OVERFLOW"); }

Test(ops_badinput, malformed_json_values_are_badjson) { run_code("BADJSON"); }

Test(ops_badinput, malformed_filters_are_badfilter) { run_code("BADFILTER"); }

Test(ops_badinput, every_row_of_the_table_has_a_known_code_and_every_op_is_covered) {
    static const char *const codes[] = {"ERR",     "WRONGTYPE", "BADPATH", "NOPATH",   "SYNTAX",
                                        "BADTYPE", "OVERFLOW",  "BADJSON", "BADFILTER"};
    static const char *const ops[] = {"DOC.INCR",   "DOC.MUL",   "DOC.MIN",   "DOC.MAX",      "DOC.STRAPPEND",
                                      "DOC.PUSH",   "DOC.POP",   "DOC.PULL",  "DOC.ADDTOSET", "DOC.INDEXOF",
                                      "DOC.TOGGLE", "DOC.CLEAR", "DOC.MERGE", "DOC.CAS"};
    for (size_t i = 0; i < NROWS; i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof codes / sizeof *codes; k++)
            known = known || !strcmp(rows[i].code, codes[k]);
        cr_expect(known, "row %zu has code %s", i, rows[i].code);
    }
    /* ERR, WRONGTYPE and BADPATH apply to every op: each has a row of each */
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
        for (size_t k = 0; k < 3; k++) {
            bool found = false;
            for (size_t i = 0; i < NROWS && !found; i++)
                found = !strcmp(rows[i].code, codes[k]) && !strcmp(rows[i].argv[0], ops[o]);
            cr_expect(found, "no %s row for %s", codes[k], ops[o]);
        }
    }
}

/* ---- nothing replicated ------------------------------------------------------------ */

/* calls=N of a command in INFO commandstats (0 when never called). */
static long long calls(redisContext *on, const char *command) {
    char field[64];
    snprintf(field, sizeof field, "cmdstat_%s", command);
    char *v = srv_info_field(on, "commandstats", field);
    long long n = v && !strncmp(v, "calls=", 6) ? strtoll(v + 6, NULL, 10) : 0;
    free(v);
    return n;
}

/* How many doc.* commands `on` has run, by INFO commandstats. */
static long long doc_calls(redisContext *on) {
    static const char *const names[] = {"doc.set",   "doc.incr",      "doc.mul",     "doc.min",
                                        "doc.max",   "doc.strappend", "doc.push",    "doc.pop",
                                        "doc.pull",  "doc.addtoset",  "doc.indexof", "doc.toggle",
                                        "doc.clear", "doc.merge",     "doc.cas"};
    long long n = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) n += calls(on, names[i]);
    return n;
}

static long long version_on(redisContext *on, const char *key) {
    redisReply *r = cmd(on, "DOC.VERSION %s", key);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

Test(ops_badinput, refused_commands_send_nothing_to_a_replica) {
    write_start_state(c);
    srv *r = srv_start_replica(s);
    redisContext *rc = srv_connect(r);
    expect_ok(cmd(rc, "CONFIG RESETSTAT"));
    long long before = doc_calls(rc);
    cr_assert_eq(before, 0);

    size_t n = run_rows(c, NULL, false);
    cr_assert_eq(n, NROWS);
    expect_unchanged(c, "the whole table");
    expect_ok(cmd(c, "DOC.SET marker $ %s", "\"end\""));
    srv_wait_replica_synced(s, r);

    /* the replica ran the marker and nothing else */
    cr_expect_eq(doc_calls(rc), 1, "doc.* commands the replica ran: %lld", doc_calls(rc));
    cr_expect_eq(calls(rc, "doc.set"), 1);
    expect_unchanged(rc, "the whole table, on the replica");
    expect_str(cmd(rc, "DOC.GET marker"), "\"end\"");
    cr_expect_eq(version_on(rc, "k"), version_on(c, "k"));
    cr_expect_eq(version_on(rc, "marker"), version_on(c, "marker"));

    char *dp = srv_digest(c), *dr = srv_digest(rc);
    cr_expect_str_eq(dr, dp, "DEBUG DIGEST of replica and primary");
    free(dp);
    free(dr);
    redisFree(rc);
    srv_stop(r);
}
