/* test_ops.c - the atomic single-key operations as a user meets them through a real
 * server: DOC.INCR (with MIN/MAX bounds), DOC.MUL, DOC.MIN, DOC.MAX, DOC.STRAPPEND,
 * DOC.PUSH (AT, KEEP), DOC.POP, DOC.PULL (values and WHERE filters), DOC.ADDTOSET,
 * DOC.INDEXOF, DOC.TOGGLE, DOC.CLEAR, DOC.MERGE (every example of RFC 7396 Appendix A)
 * and DOC.CAS.
 *
 * Each test checks the exact reply, the exact document afterwards and its version: +1
 * for a command that changed something, unchanged for one that did not (a PULL that
 * removes nothing, CLEAR of an empty array, INCR by 0, a failed CAS, ...). The last
 * tests check the keyspace events of a scripted session: one per change, none for
 * no-ops and failures.
 *
 * Every test gets its own server (the suite fixture) so no test sees another's keys.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(ops);

/* ---- helpers ------------------------------------------------------------------- */

/* Checks that `key` holds exactly the JSON text `json` at version `version`, read at
 * one instant (DOC.GET WITHVERSION). `line` is the caller's, for the message. */
static void expect_doc_at(int line, const char *key, const char *json, long long version) {
    redisReply *r = cmd(c, "DOC.GET %s WITHVERSION", key);
    char got[4096];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == version &&
              r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len == strlen(json) &&
              !memcmp(r->element[1]->str, json, r->element[1]->len);
    freeReplyObject(r);
    cr_expect(ok, "line %d: expected %s at version %lld to hold %s, got %s", line, key, version, json, got);
}
#define expect_doc(key, json, version) expect_doc_at(__LINE__, (key), (json), (version))

/* Checks that `key` does not exist (not even as an empty document). */
static void expect_no_key_at(int line, const char *key) {
    redisReply *r = cmd(c, "EXISTS %s", key);
    long long n = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    cr_expect_eq(n, 0, "line %d: expected no key %s, EXISTS says %lld", line, key, n);
    expect_int(cmd(c, "DOC.VERSION %s", key), 0);
}
#define expect_no_key(key) expect_no_key_at(__LINE__, (key))

/* A growing string (open_memstream), for documents built in a loop. */
typedef struct text {
    char *str;  /* the text so far, NUL-terminated after text_end() */
    size_t len; /* its length */
    FILE *f;    /* the stream writing it */
} text;

static void text_begin(text *t) {
    t->str = NULL;
    t->len = 0;
    t->f = open_memstream(&t->str, &t->len);
    cr_assert(t->f);
}

static char *text_end(text *t) {
    fclose(t->f);
    return t->str;
}

/* ---- DOC.INCR -------------------------------------------------------------------- */

Test(ops, incr_adds_exactly_and_replies_integers_as_integers_and_doubles_as_text) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":5}"));
    expect_int(cmd(c, "DOC.INCR k $.n 3"), 8);
    expect_doc("k", "{\"n\":8}", 2);
    expect_int(cmd(c, "DOC.INCR k n -10"), -2);
    expect_doc("k", "{\"n\":-2}", 3);
    expect_str(cmd(c, "DOC.INCR k $.n 2.5"), "0.5");
    expect_doc("k", "{\"n\":0.5}", 4);
    expect_str(cmd(c, "DOC.INCR k $.n 0.25"), "0.75");
    expect_doc("k", "{\"n\":0.75}", 5);
}

Test(ops, incr_stays_exact_up_to_int64_max) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":9223372036854775800}"));
    expect_int(cmd(c, "DOC.INCR k $.n 7"), 9223372036854775807LL);
    expect_doc("k", "{\"n\":9223372036854775807}", 2);
    expect_int(cmd(c, "DOC.INCR k $.n -9223372036854775807"), 0);
    expect_int(cmd(c, "DOC.INCR k $.n -9223372036854775807"), -9223372036854775807LL);
    expect_int(cmd(c, "DOC.INCR k $.n -1"), (-9223372036854775807LL - 1));
    expect_doc("k", "{\"n\":-9223372036854775808}", 5);
}

Test(ops, incr_of_a_missing_field_creates_it_as_the_delta_with_its_parents) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{}"));
    expect_int(cmd(c, "DOC.INCR k $.a.b 7"), 7);
    expect_doc("k", "{\"a\":{\"b\":7}}", 2);
    expect_str(cmd(c, "DOC.INCR k $.a.c -1.5"), "-1.5");
    expect_doc("k", "{\"a\":{\"b\":7,\"c\":-1.5}}", 3);
    /* a missing key: the document is created above every version given so far (k: 3) */
    expect_int(cmd(c, "DOC.INCR fresh $.hits 1"), 1);
    expect_doc("fresh", "{\"hits\":1}", 4);
}

Test(ops, incr_by_zero_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":5,\"d\":1.5}"));
    expect_int(cmd(c, "DOC.INCR k $.n 0"), 5);
    expect_int(cmd(c, "DOC.INCR k $.n -0"), 5);
    expect_str(cmd(c, "DOC.INCR k $.d 0"), "1.5");
    expect_str(cmd(c, "DOC.INCR k $.d 0.0"), "1.5");
    expect_doc("k", "{\"n\":5,\"d\":1.5}", 1);
}

Test(ops, incr_below_min_replies_nil_and_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET stock $ %s", "{\"n\":2}"));
    expect_int(cmd(c, "DOC.INCR stock $.n -1 MIN 0"), 1);
    expect_int(cmd(c, "DOC.INCR stock $.n -1 MIN 0"), 0);
    expect_doc("stock", "{\"n\":0}", 3);
    expect_nil(cmd(c, "DOC.INCR stock $.n -1 MIN 0"));
    expect_nil(cmd(c, "DOC.INCR stock $.n -5 MIN 0"));
    expect_doc("stock", "{\"n\":0}", 3);
    /* the bound is on the result, inclusive, and compares int with double */
    expect_nil(cmd(c, "DOC.INCR stock $.n -0.5 MIN -0.25"));
    expect_str(cmd(c, "DOC.INCR stock $.n -0.25 MIN -0.25"), "-0.25");
    expect_doc("stock", "{\"n\":-0.25}", 4);
}

Test(ops, incr_above_max_replies_nil_and_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"seats\":8}"));
    expect_nil(cmd(c, "DOC.INCR k $.seats 3 MAX 10"));
    expect_doc("k", "{\"seats\":8}", 1);
    expect_int(cmd(c, "DOC.INCR k $.seats 2 MAX 10"), 10);
    expect_nil(cmd(c, "DOC.INCR k $.seats 1 MAX 10"));
    expect_doc("k", "{\"seats\":10}", 2);
    /* both bounds at once */
    expect_nil(cmd(c, "DOC.INCR k $.seats -11 MIN 0 MAX 10"));
    expect_nil(cmd(c, "DOC.INCR k $.seats 1 MIN 0 MAX 10"));
    expect_int(cmd(c, "DOC.INCR k $.seats -10 MAX 10 MIN 0"), 0);
    expect_doc("k", "{\"seats\":0}", 3);
}

Test(ops, incr_out_of_bounds_creates_neither_the_document_nor_missing_parents) {
    expect_nil(cmd(c, "DOC.INCR fresh $.a.b 5 MAX 3"));
    expect_no_key("fresh");
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"x\":1}"));
    expect_nil(cmd(c, "DOC.INCR k $.new.deep -1 MIN 0"));
    expect_doc("k", "{\"x\":1}", 1);
    /* in bounds, the same command creates them */
    expect_int(cmd(c, "DOC.INCR k $.new.deep 1 MIN 0"), 1);
    expect_doc("k", "{\"x\":1,\"new\":{\"deep\":1}}", 2);
}

/* ---- DOC.INCR written in place (the last edit of a single-op command) --------------- */

/* A single DOC.INCR whose result keeps the number's encoded size is written in
 * place without an undo record; inside a DOC.TXN of two ops it goes through the undo
 * log. Both must leave the same text, move the version the same way, reply the same
 * and drop the cached text the same way. `a` takes the single command, `b` the TXN
 * (INCR then an INCR by 0, which writes nothing). */
static void incr_both_at(int line, const char *path, const char *delta) {
    long long va = doc_version(c, "a"), vb = doc_version(c, "b");
    char *ta0 = doc_text(c, "a"); /* caches the whole text of a */
    char *tb0 = doc_text(c, "b");
    cr_assert_str_eq(ta0, tb0, "line %d: a and b differ before", line);
    redisReply *one = cmd(c, "DOC.INCR a %s %s", path, delta);
    redisReply *txn = cmd(c, "DOC.TXN 1 b INCR 1 %s %s INCR 1 %s 0", path, delta, path);
    char d1[256], d2[256];
    reply_describe(one, d1, sizeof d1);
    cr_assert(txn->type == REDIS_REPLY_ARRAY || txn->type == REDIS_REPLY_ERROR, "line %d: %s", line, d1);
    if (txn->type == REDIS_REPLY_ARRAY) {
        reply_describe(txn->element[0], d2, sizeof d2);
        cr_expect_str_eq(d1, d2, "line %d: DOC.INCR %s %s", line, path, delta);
    } else { /* the same error word, and neither document changed */
        cr_expect_eq(one->type, REDIS_REPLY_ERROR, "line %d: %s", line, d1);
        const char *word = strchr(txn->str, ':'); /* "ABORTED op 1: CODE ..." */
        cr_expect(word && !strncmp(word + 2, one->str, strcspn(one->str, " ")), "line %d: %s / %s", line,
                  one->str, txn->str);
    }
    char *ta = doc_text(c, "a"), *tb = doc_text(c, "b");
    cr_expect_str_eq(ta, tb, "line %d: DOC.INCR %s %s", line, path, delta);
    cr_expect_eq(doc_version(c, "a") - va, doc_version(c, "b") - vb, "line %d: version moves", line);
    cr_expect_eq(doc_version(c, "a") - va, strcmp(ta, ta0) != 0, "line %d: a version per change", line);
    freeReplyObject(one);
    freeReplyObject(txn);
    free(ta0);
    free(tb0);
    free(ta);
    free(tb);
}
#define incr_both(path, delta) incr_both_at(__LINE__, (path), (delta))

Test(ops, an_incr_written_in_place_matches_the_logged_one_in_text_version_reply_and_cache) {
    text t;
    text_begin(&t);
    fprintf(t.f, "{\"n\":5,\"d\":1.5,\"big\":9223372036854775806,\"s\":\"x\",\"l\":[");
    for (int i = 0; i < 100; i++) fprintf(t.f, "%s%d", i ? "," : "", 1000 + i);
    fprintf(t.f, "],\"o\":{");
    for (int i = 0; i < 40; i++) fprintf(t.f, "%s\"m%d\":%d", i ? "," : "", i, 2000 + i);
    fprintf(t.f, "}}");
    char *json = text_end(&t);
    expect_ok(cmd(c, "DOC.SET a $ %s", json));
    expect_ok(cmd(c, "DOC.SET b $ %s", json));
    free(json);
    /* the value hash of both arrays is built (searched), so edits must keep it */
    expect_int(cmd(c, "DOC.INDEXOF a $.l 1070"), 70);
    expect_int(cmd(c, "DOC.INDEXOF b $.l 1070"), 70);

    incr_both("$.n", "1");       /* a small integer, same size */
    incr_both("$.n", "121");     /* 127: the largest one-byte integer */
    incr_both("$.n", "1");       /* 128: three bytes, logged in both */
    incr_both("$.n", "-1");      /* back to one byte */
    incr_both("$.d", "1");       /* a double, same size */
    incr_both("$.d", "0.5");     /* a double that becomes the integer 3 */
    incr_both("$.l[70]", "929"); /* an element of an indexed, hashed array */
    incr_both("$.l[-1]", "1");   /* from the end */
    incr_both("$.o.m30", "7");   /* a member of an indexed object */
    incr_both("$.n", "0");       /* the same bytes: no change, no version */
    incr_both("$.big", "1");     /* int64 max */
    incr_both("$.big", "1");     /* OVERFLOW: nothing changes */
    incr_both("$.s", "1");       /* BADTYPE: nothing changes */
    incr_both("$.l[100]", "1");  /* NOPATH: nothing changes */
    incr_both("$.new", "1");     /* a new member: logged in both */
    /* the value hash follows the in-place write: the new value is found, the old not */
    expect_int(cmd(c, "DOC.INDEXOF a $.l 1999"), 70);
    expect_int(cmd(c, "DOC.INDEXOF a $.l 1070"), -1);
    expect_int(cmd(c, "DOC.INDEXOF b $.l 1999"), 70);
}

Test(ops, an_incr_written_in_place_reaches_a_replica_and_a_watcher_and_runs_in_multi, .timeout = 60) {
    srv *rep = srv_start_replica(s);
    redisContext *rc = srv_connect(rep);
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":1,\"l\":[1,2,3],\"d\":0.5}"));
    expect_int(cmd(c, "EXPIRE k 1000"), 1);
    expect_int(cmd(c, "DOC.INCR k $.n 1"), 2);
    expect_int(cmd(c, "DOC.INCR k $.l[1] 5"), 7);
    expect_str(cmd(c, "DOC.INCR k $.d 1"), "1.5");
    redisReply *r = cmd(c, "PTTL k");
    cr_expect(r->type == REDIS_REPLY_INTEGER && r->integer > 990000, "the TTL stays");
    freeReplyObject(r);

    /* in MULTI: each command on its own (the failing one changes nothing) */
    expect_ok(cmd(c, "MULTI"));
    expect_status(cmd(c, "DOC.INCR k $.n 1"), "QUEUED");
    expect_status(cmd(c, "DOC.INCR k $.l 1"), "QUEUED");
    r = cmd(c, "EXEC");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    cr_expect(r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == 3);
    cr_expect(r->element[1]->type == REDIS_REPLY_ERROR && !strncmp(r->element[1]->str, "BADTYPE", 7));
    freeReplyObject(r);

    /* a client watching the key sees the in-place write: its EXEC is refused */
    redisContext *w = srv_connect(s);
    expect_ok(cmd(w, "WATCH k"));
    expect_int(cmd(c, "DOC.INCR k $.n 1"), 4);
    expect_ok(cmd(w, "MULTI"));
    expect_status(cmd(w, "DOC.INCR k $.n 100"), "QUEUED");
    r = cmd(w, "EXEC");
    cr_expect(r->type == REDIS_REPLY_NIL, "EXEC after the watched key changed runs nothing");
    freeReplyObject(r);
    redisFree(w);

    /* set at 1, then 5 changes */
    expect_doc("k", "{\"n\":4,\"l\":[1,7,3],\"d\":1.5}", 6);
    srv_wait_replica_synced(s, rep);
    char want[256], got[256];
    r = cmd(c, "DOC.GET k WITHVERSION");
    reply_describe(r, want, sizeof want);
    freeReplyObject(r);
    r = cmd(rc, "DOC.GET k WITHVERSION");
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    cr_expect_str_eq(got, want, "the replica holds the same document at the same version");
    r = cmd(rc, "PTTL k");
    cr_expect(r->type == REDIS_REPLY_INTEGER && r->integer > 0, "the replica keeps the TTL");
    freeReplyObject(r);
    char *pd = srv_digest(c), *rd = srv_digest(rc);
    cr_expect_str_eq(rd, pd, "DEBUG DIGEST of primary and replica");
    free(pd);
    free(rd);
    redisFree(rc);
    srv_stop(rep);
}

/* ---- DOC.MUL --------------------------------------------------------------------- */

Test(ops, mul_of_integers_is_exact) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"q\":7}"));
    expect_int(cmd(c, "DOC.MUL k $.q 6"), 42);
    expect_int(cmd(c, "DOC.MUL k $.q -1"), -42);
    expect_doc("k", "{\"q\":-42}", 3);
    /* 3037000499^2 = 9223372030926249001 fits int64 and must not go through a double */
    expect_ok(cmd(c, "DOC.SET k $.big %s", "3037000499"));
    expect_int(cmd(c, "DOC.MUL k $.big 3037000499"), 9223372030926249001LL);
    expect_doc("k", "{\"q\":-42,\"big\":9223372030926249001}", 5);
}

Test(ops, mul_integer_overflow_is_an_error_and_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"q\":4611686018427387904}"));
    expect_err_prefix(cmd(c, "DOC.MUL k $.q 2"), "OVERFLOW");
    expect_err_prefix(cmd(c, "DOC.MUL k $.q -3"), "OVERFLOW");
    expect_doc("k", "{\"q\":4611686018427387904}", 1);
    expect_int(cmd(c, "DOC.MUL k $.q -2"), (-9223372036854775807LL - 1));
    expect_doc("k", "{\"q\":-9223372036854775808}", 2);
}

Test(ops, mul_with_a_double_gives_a_double) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"p\":2,\"r\":0.1}"));
    expect_str(cmd(c, "DOC.MUL k $.p 1.5"), "3.0");
    expect_str(cmd(c, "DOC.MUL k $.r 3"), "0.30000000000000004");
    expect_doc("k", "{\"p\":3.0,\"r\":0.30000000000000004}", 3);
}

Test(ops, mul_of_a_missing_field_creates_it_as_0) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{}"));
    expect_int(cmd(c, "DOC.MUL k $.a.m 5"), 0);
    expect_doc("k", "{\"a\":{\"m\":0}}", 2);
    expect_str(cmd(c, "DOC.MUL k $.d 2.5"), "0.0");
    expect_doc("k", "{\"a\":{\"m\":0},\"d\":0.0}", 3);
    expect_int(cmd(c, "DOC.MUL fresh $.m 9"), 0);
    expect_doc("fresh", "{\"m\":0}", 4);
}

Test(ops, mul_by_1_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"q\":7,\"d\":0.5}"));
    expect_int(cmd(c, "DOC.MUL k $.q 1"), 7);
    expect_str(cmd(c, "DOC.MUL k $.d 1"), "0.5");
    expect_str(cmd(c, "DOC.MUL k $.d 1.0"), "0.5");
    expect_doc("k", "{\"q\":7,\"d\":0.5}", 1);
}

/* ---- DOC.MIN / DOC.MAX ------------------------------------------------------------- */

Test(ops, min_keeps_the_smaller_number_and_replies_the_result) {
    expect_ok(cmd(c, "DOC.SET game $ %s", "{\"best\":40}"));
    expect_str(cmd(c, "DOC.MIN game $.best 31"), "31");
    expect_doc("game", "{\"best\":31}", 2);
    expect_str(cmd(c, "DOC.MIN game $.best 50"), "31");
    expect_str(cmd(c, "DOC.MIN game $.best 31"), "31");
    expect_str(cmd(c, "DOC.MIN game $.best 31.0"), "31");
    expect_doc("game", "{\"best\":31}", 2);
    expect_str(cmd(c, "DOC.MIN game $.best 30.5"), "30.5");
    expect_doc("game", "{\"best\":30.5}", 3);
    /* a missing field is set */
    expect_str(cmd(c, "DOC.MIN game $.worst 99"), "99");
    expect_doc("game", "{\"best\":30.5,\"worst\":99}", 4);
}

Test(ops, max_keeps_the_larger_number_or_string) {
    expect_ok(cmd(c, "DOC.SET game $ %s", "{\"high\":10,\"name\":\"alpha\"}"));
    expect_str(cmd(c, "DOC.MAX game $.high 12"), "12");
    expect_str(cmd(c, "DOC.MAX game $.high 11.5"), "12");
    expect_str(cmd(c, "DOC.MAX game $.high 12.0"), "12");
    expect_doc("game", "{\"high\":12,\"name\":\"alpha\"}", 2);
    expect_str(cmd(c, "DOC.MAX game $.name %s", "\"zeta\""), "\"zeta\"");
    expect_str(cmd(c, "DOC.MAX game $.name %s", "\"beta\""), "\"zeta\"");
    expect_str(cmd(c, "DOC.MIN game $.name %s", "\"zet\""), "\"zet\"");
    expect_doc("game", "{\"high\":12,\"name\":\"zet\"}", 4);
    expect_str(cmd(c, "DOC.MAX fresh $.x -3"), "-3");
    expect_doc("fresh", "{\"x\":-3}", 5);
}

/* ---- DOC.STRAPPEND --------------------------------------------------------------- */

Test(ops, strappend_appends_raw_bytes_and_replies_the_length_in_bytes) {
    expect_ok(cmd(c, "DOC.SET log $ %s", "{\"text\":\"ab\"}"));
    expect_int(cmd(c, "DOC.STRAPPEND log $.text %s", "cd"), 4);
    expect_doc("log", "{\"text\":\"abcd\"}", 2);
    /* the argument is bytes, not JSON: quotes and backslashes are kept as such */
    expect_int(cmd(c, "DOC.STRAPPEND log $.text %s", "\"\\"), 6);
    expect_doc("log", "{\"text\":\"abcd\\\"\\\\\"}", 3);
    /* é is 2 bytes in UTF-8 */
    expect_int(cmd(c, "DOC.STRAPPEND log $.text %s", "\xc3\xa9"), 8);
    expect_doc("log", "{\"text\":\"abcd\\\"\\\\\xc3\xa9\"}", 4);
}

Test(ops, strappend_to_a_missing_field_creates_it_and_empty_changes_nothing) {
    expect_int(cmd(c, "DOC.STRAPPEND log $.text %s", "hi"), 2);
    expect_doc("log", "{\"text\":\"hi\"}", 1);
    expect_int(cmd(c, "DOC.STRAPPEND log $.text %s", ""), 2);
    expect_doc("log", "{\"text\":\"hi\"}", 1);
}

/* ---- DOC.PUSH -------------------------------------------------------------------- */

Test(ops, push_appends_several_values_in_order_with_one_version_bump) {
    expect_ok(cmd(c, "DOC.SET feed $ %s", "{\"items\":[1]}"));
    expect_int(cmd(c, "DOC.PUSH feed $.items 2 %s %s", "{\"id\":3}", "[4]"), 4);
    expect_doc("feed", "{\"items\":[1,2,{\"id\":3},[4]]}", 2);
    /* a missing array is created */
    expect_int(cmd(c, "DOC.PUSH feed $.other.list %s %s", "\"a\"", "\"b\""), 2);
    expect_doc("feed", "{\"items\":[1,2,{\"id\":3},[4]],\"other\":{\"list\":[\"a\",\"b\"]}}", 3);
    expect_int(cmd(c, "DOC.PUSH fresh $.q %s", "null"), 1);
    expect_doc("fresh", "{\"q\":[null]}", 4);
}

Test(ops, push_at_inserts_before_the_index_counting_negative_from_the_end_and_clamps) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[1,2,3]}"));
    expect_int(cmd(c, "DOC.PUSH k $.l AT 0 %s", "\"first\""), 4);
    expect_doc("k", "{\"l\":[\"first\",1,2,3]}", 2);
    expect_int(cmd(c, "DOC.PUSH k $.l AT 2 %s %s", "\"x\"", "\"y\""), 6);
    expect_doc("k", "{\"l\":[\"first\",1,\"x\",\"y\",2,3]}", 3);
    expect_int(cmd(c, "DOC.PUSH k $.l AT -1 %s", "\"before-last\""), 7);
    expect_doc("k", "{\"l\":[\"first\",1,\"x\",\"y\",2,\"before-last\",3]}", 4);
    expect_int(cmd(c, "DOC.PUSH k $.l AT 100 %s", "\"end\""), 8);
    expect_int(cmd(c, "DOC.PUSH k $.l AT -100 %s", "\"start\""), 9);
    expect_doc("k", "{\"l\":[\"start\",\"first\",1,\"x\",\"y\",2,\"before-last\",3,\"end\"]}", 6);
}

Test(ops, push_keep_n_keeps_the_last_n) {
    expect_ok(cmd(c, "DOC.SET feed $ %s", "{\"l\":[1,2,3]}"));
    expect_int(cmd(c, "DOC.PUSH feed $.l KEEP 4 4 5"), 4);
    expect_doc("feed", "{\"l\":[2,3,4,5]}", 2);
    expect_int(cmd(c, "DOC.PUSH feed $.l KEEP 2 6"), 2);
    expect_doc("feed", "{\"l\":[5,6]}", 3);
    /* KEEP larger than the array keeps everything */
    expect_int(cmd(c, "DOC.PUSH feed $.l KEEP 10 7"), 3);
    expect_doc("feed", "{\"l\":[5,6,7]}", 4);
    /* with AT: insert first, then keep the last n */
    expect_int(cmd(c, "DOC.PUSH feed $.l AT 1 KEEP 3 4"), 3);
    expect_doc("feed", "{\"l\":[4,6,7]}", 5);
    expect_int(cmd(c, "DOC.PUSH feed $.l KEEP 3 AT 1 %s", "\"x\""), 3);
    expect_doc("feed", "{\"l\":[\"x\",6,7]}", 6);
}

Test(ops, push_keep_minus_n_keeps_the_first_n) {
    expect_ok(cmd(c, "DOC.SET top $ %s", "{\"l\":[1,2]}"));
    expect_int(cmd(c, "DOC.PUSH top $.l KEEP -3 3 4 5"), 3);
    expect_doc("top", "{\"l\":[1,2,3]}", 2);
    expect_int(cmd(c, "DOC.PUSH top $.l AT 0 KEEP -3 0"), 3);
    expect_doc("top", "{\"l\":[0,1,2]}", 3);
}

Test(ops, push_whose_values_keep_trims_away_at_once_changes_nothing) {
    /* A full capped list that keeps its first 3: the pushed value is dropped, the
     * document is the same, so the version must not move. */
    expect_ok(cmd(c, "DOC.SET top $ %s", "{\"l\":[1,2,3]}"));
    expect_int(cmd(c, "DOC.PUSH top $.l KEEP -3 4"), 3);
    expect_doc("top", "{\"l\":[1,2,3]}", 1);
    expect_int(cmd(c, "DOC.PUSH top $.l AT 0 KEEP 3 0"), 3);
    expect_doc("top", "{\"l\":[1,2,3]}", 1);
}

/* ---- DOC.POP --------------------------------------------------------------------- */

Test(ops, pop_removes_first_last_or_an_index_and_replies_the_element) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[\"a\",{\"b\":1},[2],3.5,null,true]}"));
    expect_str(cmd(c, "DOC.POP k $.l FIRST"), "\"a\"");
    expect_doc("k", "{\"l\":[{\"b\":1},[2],3.5,null,true]}", 2);
    expect_str(cmd(c, "DOC.POP k $.l LAST"), "true");
    expect_str(cmd(c, "DOC.POP k $.l"), "null");
    expect_doc("k", "{\"l\":[{\"b\":1},[2],3.5]}", 4);
    expect_str(cmd(c, "DOC.POP k $.l 1"), "[2]");
    expect_str(cmd(c, "DOC.POP k $.l -2"), "{\"b\":1}");
    expect_doc("k", "{\"l\":[3.5]}", 6);
    expect_str(cmd(c, "DOC.POP k $.l first"), "3.5");
    expect_doc("k", "{\"l\":[]}", 7);
}

Test(ops, pop_of_an_empty_array_a_missing_index_or_a_missing_path_is_nil) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[1,2],\"e\":[]}"));
    expect_nil(cmd(c, "DOC.POP k $.e"));
    expect_nil(cmd(c, "DOC.POP k $.e FIRST"));
    expect_nil(cmd(c, "DOC.POP k $.l 2"));
    expect_nil(cmd(c, "DOC.POP k $.l -3"));
    expect_nil(cmd(c, "DOC.POP k $.nothing"));
    expect_doc("k", "{\"l\":[1,2],\"e\":[]}", 1);
    expect_nil(cmd(c, "DOC.POP fresh $.l"));
    expect_no_key("fresh");
}

Test(ops, push_pop_and_pull_in_the_middle_of_a_large_array_keep_every_index_right) {
    /* 40 elements: past the size where arrays carry an element index */
    text t;
    text_begin(&t);
    fputs("{\"l\":[", t.f);
    for (int i = 0; i < 40; i++) fprintf(t.f, "%s%d", i ? "," : "", i);
    fputs("]}", t.f);
    char *json = text_end(&t);
    expect_ok(cmd(c, "DOC.SET k $ %s", json));
    free(json);

    expect_int(cmd(c, "DOC.PUSH k $.l AT 20 %s %s", "\"x\"", "\"y\""), 42);
    expect_str(cmd(c, "DOC.GET k $.l[19]"), "19");
    expect_str(cmd(c, "DOC.GET k $.l[20]"), "\"x\"");
    expect_str(cmd(c, "DOC.GET k $.l[21]"), "\"y\"");
    expect_str(cmd(c, "DOC.GET k $.l[22]"), "20");
    expect_str(cmd(c, "DOC.GET k $.l[41]"), "39");
    expect_str(cmd(c, "DOC.POP k $.l 5"), "5");
    expect_str(cmd(c, "DOC.GET k $.l[5]"), "6");
    expect_str(cmd(c, "DOC.GET k $.l[-1]"), "39");
    /* 0..9 without 5 (9 values) and every even number from 10 on (15 values) */
    expect_int(cmd(c, "DOC.PULL k $.l WHERE %s", "{\"$lt\":10}"), 9);
    expect_int(cmd(c, "DOC.PULL k $.l 10 12 14 16 18 20 22 24 26 28 30 32 34 36 38"), 15);
    expect_doc("k", "{\"l\":[11,13,15,17,19,\"x\",\"y\",21,23,25,27,29,31,33,35,37,39]}", 5);
    expect_int(cmd(c, "DOC.INDEXOF k $.l 39"), 16);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"y\""), 6);
    expect_int(cmd(c, "DOC.PUSH k $.l KEEP 3 40"), 3);
    expect_doc("k", "{\"l\":[37,39,40]}", 6);
}

/* ---- DOC.PULL by values ---------------------------------------------------------- */

Test(ops, pull_removes_every_occurrence_of_a_value) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[1,2,1,3,1,1,\"1\"]}"));
    expect_int(cmd(c, "DOC.PULL k $.l 1"), 4);
    expect_doc("k", "{\"l\":[2,3,\"1\"]}", 2);
}

Test(ops, pull_of_several_values_removes_each) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[\"a\",\"b\",\"c\",\"a\",null,false]}"));
    expect_int(cmd(c, "DOC.PULL k $.l %s %s %s %s", "\"a\"", "null", "\"zz\"", "false"), 4);
    expect_doc("k", "{\"l\":[\"b\",\"c\"]}", 2);
}

Test(ops, pull_compares_deeply_objects_in_any_member_order_and_1_equal_to_1_0) {
    expect_ok(cmd(c, "DOC.SET k $ %s",
                  "{\"l\":[1,1.0,{\"x\":1,\"y\":[1,2]},{\"y\":[1,2],\"x\":1.0},"
                  "{\"x\":1,\"y\":[2,1]},{\"x\":1},[1,{\"b\":2,\"a\":1}],[1,{\"a\":1}],\"1\",true]}"));
    expect_int(cmd(c, "DOC.PULL k $.l 1.0"), 2);
    expect_doc("k",
               "{\"l\":[{\"x\":1,\"y\":[1,2]},{\"y\":[1,2],\"x\":1.0},{\"x\":1,\"y\":[2,1]},"
               "{\"x\":1},[1,{\"b\":2,\"a\":1}],[1,{\"a\":1}],\"1\",true]}",
               2);
    /* objects: same members in any order; arrays: element by element, in order;
     * a subset is not equal */
    expect_int(cmd(c, "DOC.PULL k $.l %s %s", "{\"y\":[1.0,2],\"x\":1}", "[1,{\"a\":1,\"b\":2}]"), 3);
    expect_doc("k", "{\"l\":[{\"x\":1,\"y\":[2,1]},{\"x\":1},[1,{\"a\":1}],\"1\",true]}", 3);
}

Test(ops, pull_that_removes_nothing_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[1,{\"a\":1}]}"));
    expect_int(cmd(c, "DOC.PULL k $.l 2 %s %s", "\"1\"", "{\"a\":1,\"b\":2}"), 0);
    expect_int(cmd(c, "DOC.PULL k $.l WHERE %s", "{\"a\":2}"), 0);
    expect_int(cmd(c, "DOC.PULL k $.missing 1"), 0);
    expect_doc("k", "{\"l\":[1,{\"a\":1}]}", 1);
    expect_int(cmd(c, "DOC.PULL fresh $.l 1"), 0);
    expect_no_key("fresh");
}

/* ---- DOC.PULL WHERE filter ------------------------------------------------------- */

Test(ops, pull_where_removes_the_50_matching_elements_among_100) {
    text doc, left;
    text_begin(&doc);
    text_begin(&left);
    fputs("{\"orders\":[", doc.f);
    fputs("{\"orders\":[", left.f);
    for (int i = 0; i < 100; i++) {
        const char *status = i % 2 ? "open" : "done";
        fprintf(doc.f, "%s{\"id\":%d,\"status\":\"%s\"}", i ? "," : "", i, status);
        if (i % 2) fprintf(left.f, "%s{\"id\":%d,\"status\":\"open\"}", i > 1 ? "," : "", i);
    }
    fputs("]}", doc.f);
    fputs("]}", left.f);
    char *json = text_end(&doc), *want = text_end(&left);

    expect_ok(cmd(c, "DOC.SET k $ %s", json));
    expect_int(cmd(c, "DOC.PULL k $.orders WHERE %s", "{\"status\":\"done\"}"), 50);
    expect_doc("k", want, 2);
    expect_int(cmd(c, "DOC.LEN k $.orders"), 50);
    expect_int(cmd(c, "DOC.PULL k $.orders WHERE %s", "{\"status\":\"done\"}"), 0);
    expect_doc("k", want, 2);

    /* the same with operators on numbers: ids below 25 or from 75 on */
    expect_ok(cmd(c, "DOC.SET k $ %s", json));
    expect_int(
        cmd(c, "DOC.PULL k $.orders WHERE %s", "{\"$or\":[{\"id\":{\"$lt\":25}},{\"id\":{\"$gte\":75}}]}"),
        50);
    expect_int(cmd(c, "DOC.LEN k $.orders"), 50);
    expect_str(cmd(c, "DOC.GET k $.orders[0].id"), "25");
    expect_str(cmd(c, "DOC.GET k $.orders[-1].id"), "74");
    free(json);
    free(want);
}

Test(ops, pull_where_matches_a_dotted_path_into_nested_objects) {
    expect_ok(cmd(c, "DOC.SET order $ %s",
                  "{\"items\":[{\"item\":{\"sku\":\"x\"},\"qty\":3},"
                  "{\"item\":{\"sku\":\"y\"},\"qty\":1},"
                  "{\"item\":{\"sku\":\"x\",\"size\":\"L\"},\"qty\":1},"
                  "{\"item\":{\"sku\":\"z\"},\"qty\":2}]}"));
    expect_int(cmd(c, "DOC.PULL order $.items WHERE %s", "{\"item.sku\":\"x\"}"), 2);
    expect_doc("order",
               "{\"items\":[{\"item\":{\"sku\":\"y\"},\"qty\":1},"
               "{\"item\":{\"sku\":\"z\"},\"qty\":2}]}",
               2);
}

Test(ops, pull_where_matches_an_operator_on_a_member) {
    expect_ok(cmd(c, "DOC.SET order $ %s",
                  "{\"items\":[{\"item\":{\"sku\":\"x\"},\"qty\":3},"
                  "{\"item\":{\"sku\":\"y\"},\"qty\":1},"
                  "{\"item\":{\"sku\":\"x\"},\"qty\":1},"
                  "{\"item\":{\"sku\":\"z\"},\"qty\":2.0},"
                  "{\"item\":{\"sku\":\"w\"},\"qty\":\"5\"}]}"));
    expect_int(cmd(c, "DOC.PULL order $.items WHERE %s", "{\"qty\":{\"$gte\":2}}"), 2);
    expect_doc("order",
               "{\"items\":[{\"item\":{\"sku\":\"y\"},\"qty\":1},"
               "{\"item\":{\"sku\":\"x\"},\"qty\":1},"
               "{\"item\":{\"sku\":\"w\"},\"qty\":\"5\"}]}",
               2);
    /* a subset match on a nested object plus an operator, combined */
    expect_int(cmd(c, "DOC.PULL order $.items WHERE %s", "{\"item.sku\":\"x\",\"qty\":{\"$lte\":1}}"), 1);
    expect_doc("order",
               "{\"items\":[{\"item\":{\"sku\":\"y\"},\"qty\":1},"
               "{\"item\":{\"sku\":\"w\"},\"qty\":\"5\"}]}",
               3);
}

/* MongoDB's array rules inside elements: a condition on an array member matches when
 * the array or any of its elements matches, and a dotted path runs through arrays. */
static const char nested_doc[] =
    "{\"l\":[{\"tags\":[\"a\",\"b\"],\"lines\":[{\"sku\":\"x\",\"qty\":1},{\"sku\":\"y\",\"qty\":5}]},"
    "{\"tags\":[\"c\"],\"lines\":[{\"sku\":\"y\",\"qty\":1}]},"
    "{\"tags\":\"a\",\"lines\":[]}]}";

static const struct {
    const char *filter; /* the WHERE filter */
    int removed;        /* the reply */
    const char *left;   /* the array afterwards, as indexes into nested_doc's: "02" */
} nested_rows[] = {
    {"{\"tags\":\"a\"}", 2, "1"},
    {"{\"lines.sku\":\"x\"}", 1, "12"},
    {"{\"lines.qty\":{\"$gte\":5}}", 1, "12"},
    {"{\"lines\":{\"$elemMatch\":{\"sku\":\"y\",\"qty\":{\"$lt\":2}}}}", 1, "02"},
    {"{\"tags\":{\"$size\":1}}", 1, "02"},
    {"{\"tags\":[\"c\"]}", 1, "02"},
    {"{\"lines.sku\":{\"$in\":[\"x\",\"y\"]}}", 2, "2"},
    {"{\"tags\":{\"$all\":[\"b\",\"a\"]}}", 1, "12"},
};

Test(ops, pull_where_follows_mongodb_array_rules_inside_elements) {
    static const char *const elements[] = {
        "{\"tags\":[\"a\",\"b\"],\"lines\":[{\"sku\":\"x\",\"qty\":1},{\"sku\":\"y\",\"qty\":5}]}",
        "{\"tags\":[\"c\"],\"lines\":[{\"sku\":\"y\",\"qty\":1}]}",
        "{\"tags\":\"a\",\"lines\":[]}",
    };
    for (size_t i = 0; i < sizeof nested_rows / sizeof *nested_rows; i++) {
        char want[512] = "{\"l\":[";
        for (const char *e = nested_rows[i].left; *e; e++) {
            if (e != nested_rows[i].left) strcat(want, ",");
            strcat(want, elements[*e - '0']);
        }
        strcat(want, "]}");
        expect_ok(cmd(c, "DOC.SET k $ %s", nested_doc));
        redisReply *r = cmd(c, "DOC.PULL k $.l WHERE %s", nested_rows[i].filter);
        bool ok = r->type == REDIS_REPLY_INTEGER && r->integer == nested_rows[i].removed;
        char got[256];
        reply_describe(r, got, sizeof got);
        freeReplyObject(r);
        cr_expect(ok, "WHERE %s: expected integer %d, got %s", nested_rows[i].filter, nested_rows[i].removed,
                  got);
        r = cmd(c, "DOC.GET k");
        ok = r->type == REDIS_REPLY_STRING && !strcmp(r->str, want);
        char doc[1024];
        reply_describe(r, doc, sizeof doc);
        freeReplyObject(r);
        cr_expect(ok, "WHERE %s: expected %s, got %s", nested_rows[i].filter, want, doc);
    }
}

/* ---- DOC.ADDTOSET ---------------------------------------------------------------- */

Test(ops, addtoset_appends_only_values_not_already_present) {
    expect_ok(cmd(c, "DOC.SET page $ %s", "{\"v\":[\"u1\",1,{\"a\":1,\"b\":[2]}]}"));
    expect_int(cmd(c, "DOC.ADDTOSET page $.v %s %s", "\"u1\"", "\"u2\""), 1);
    expect_doc("page", "{\"v\":[\"u1\",1,{\"a\":1,\"b\":[2]},\"u2\"]}", 2);
    /* deep equality: 1.0 is 1, member order does not matter */
    expect_int(cmd(c, "DOC.ADDTOSET page $.v %s %s", "1.0", "{\"b\":[2.0],\"a\":1}"), 0);
    expect_doc("page", "{\"v\":[\"u1\",1,{\"a\":1,\"b\":[2]},\"u2\"]}", 2);
    /* a value given twice is added once, and several new ones keep their order */
    expect_int(cmd(c, "DOC.ADDTOSET page $.v %s %s %s %s %s", "\"u3\"", "[1]", "\"u3\"", "[1.0]", "\"u1\""),
               2);
    expect_doc("page", "{\"v\":[\"u1\",1,{\"a\":1,\"b\":[2]},\"u2\",\"u3\",[1]]}", 3);
}

Test(ops, addtoset_creates_a_missing_array) {
    expect_int(cmd(c, "DOC.ADDTOSET page $.visitors %s %s %s", "\"u1\"", "\"u1\"", "\"u2\""), 2);
    expect_doc("page", "{\"visitors\":[\"u1\",\"u2\"]}", 1);
}

/* ---- DOC.INDEXOF ----------------------------------------------------------------- */

Test(ops, indexof_finds_the_first_deep_equal_element_and_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[\"a\",{\"x\":1,\"y\":2},2.0,\"a\",[1]]}"));
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"a\""), 0);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "{\"y\":2,\"x\":1.0}"), 1);
    expect_int(cmd(c, "DOC.INDEXOF k $.l 2"), 2);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "[1.0]"), 4);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"b\""), -1);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "{\"x\":1}"), -1);
    expect_int(cmd(c, "DOC.INDEXOF k $.missing 1"), -1);
    expect_doc("k", "{\"l\":[\"a\",{\"x\":1,\"y\":2},2.0,\"a\",[1]]}", 1);
    expect_int(cmd(c, "DOC.INDEXOF fresh $.l 1"), -1);
    expect_no_key("fresh");
}

/* ---- DOC.TOGGLE ------------------------------------------------------------------ */

Test(ops, toggle_flips_a_boolean_and_replies_the_new_value) {
    expect_ok(cmd(c, "DOC.SET user $ %s", "{\"active\":true,\"flags\":[false]}"));
    expect_str(cmd(c, "DOC.TOGGLE user $.active"), "false");
    expect_doc("user", "{\"active\":false,\"flags\":[false]}", 2);
    expect_str(cmd(c, "DOC.TOGGLE user active"), "true");
    expect_str(cmd(c, "DOC.TOGGLE user $.flags[0]"), "true");
    expect_doc("user", "{\"active\":true,\"flags\":[true]}", 4);
}

/* ---- DOC.CLEAR ------------------------------------------------------------------- */

Test(ops, clear_empties_containers_and_zeroes_numbers) {
    expect_ok(
        cmd(c, "DOC.SET cart $ %s", "{\"items\":[1,[2]],\"meta\":{\"a\":{\"b\":1}},\"n\":5,\"d\":-2.5}"));
    expect_int(cmd(c, "DOC.CLEAR cart $.items"), 1);
    expect_doc("cart", "{\"items\":[],\"meta\":{\"a\":{\"b\":1}},\"n\":5,\"d\":-2.5}", 2);
    expect_int(cmd(c, "DOC.CLEAR cart $.meta"), 1);
    expect_int(cmd(c, "DOC.CLEAR cart $.n"), 1);
    expect_int(cmd(c, "DOC.CLEAR cart $.d"), 1);
    expect_doc("cart", "{\"items\":[],\"meta\":{},\"n\":0,\"d\":0.0}", 5);
    expect_int(cmd(c, "DOC.CLEAR cart $"), 1);
    expect_doc("cart", "{}", 6);
}

Test(ops, clear_of_something_already_empty_or_not_clearable_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s",
                  "{\"e\":[],\"o\":{},\"z\":0,\"zd\":0.0,\"s\":\"text\",\"b\":true,\"n\":null}"));
    static const char *const paths[] = {"$.e", "$.o", "$.z", "$.zd", "$.s", "$.b", "$.n", "$.missing"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        expect_int(cmd(c, "DOC.CLEAR k %s", paths[i]), 0);
    expect_doc("k", "{\"e\":[],\"o\":{},\"z\":0,\"zd\":0.0,\"s\":\"text\",\"b\":true,\"n\":null}", 1);
    expect_int(cmd(c, "DOC.CLEAR fresh $.e"), 0);
    expect_no_key("fresh");
}

/* ---- DOC.MERGE ------------------------------------------------------------------- */

/* RFC 7396, Appendix A: every row of the example table, as target, patch, result. */
static const struct {
    const char *target, *patch, *result;
} rfc7396[] = {
    {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
    {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
    {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
    {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
    {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
    {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
    {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
    {"{\"a\":\"foo\"}", "null", "null"},
    {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
    {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
    {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
    {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
};

Test(ops, merge_gives_every_result_of_rfc7396_appendix_a) {
    for (size_t i = 0; i < sizeof rfc7396 / sizeof *rfc7396; i++) {
        char key[16];
        snprintf(key, sizeof key, "row:%zu", i + 1);
        expect_ok(cmd(c, "DOC.SET %s $ %s", key, rfc7396[i].target));
        redisReply *v = cmd(c, "DOC.VERSION %s", key);
        long long v0 = v->integer; /* a new document's first version */
        freeReplyObject(v);
        expect_ok(cmd(c, "DOC.MERGE %s $ %s", key, rfc7396[i].patch));
        redisReply *r = cmd(c, "DOC.GET %s WITHVERSION", key);
        char got[1024];
        reply_describe(r, got, sizeof got);
        bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                  r->element[0]->type == REDIS_REPLY_INTEGER && r->element[0]->integer == v0 + 1 &&
                  r->element[1]->type == REDIS_REPLY_STRING && !strcmp(r->element[1]->str, rfc7396[i].result);
        freeReplyObject(r);
        cr_expect(ok, "RFC 7396 row %zu: %s merged with %s: expected %s at version %lld, got %s", i + 1,
                  rfc7396[i].target, rfc7396[i].patch, rfc7396[i].result, v0 + 1, got);
    }
}

Test(ops, merge_below_the_root_creates_missing_members) {
    expect_ok(cmd(c, "DOC.SET user $ %s", "{\"name\":\"Ada\",\"age\":36}"));
    expect_ok(cmd(c, "DOC.MERGE user $ %s", "{\"name\":null,\"age\":37}"));
    expect_doc("user", "{\"age\":37}", 2);
    expect_ok(cmd(c, "DOC.MERGE user $.address %s", "{\"city\":\"Paris\",\"zip\":null}"));
    expect_doc("user", "{\"age\":37,\"address\":{\"city\":\"Paris\"}}", 3);
    expect_ok(cmd(c, "DOC.MERGE user address %s", "{\"city\":{\"name\":\"Lyon\"}}"));
    expect_doc("user", "{\"age\":37,\"address\":{\"city\":{\"name\":\"Lyon\"}}}", 4);
}

Test(ops, merge_that_changes_nothing_keeps_the_version) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1,\"o\":{\"x\":[1],\"y\":{\"z\":true}}}"));
    expect_ok(cmd(c, "DOC.MERGE k $ %s", "{}"));
    expect_ok(cmd(c, "DOC.MERGE k $ %s", "{\"a\":1}"));
    expect_ok(cmd(c, "DOC.MERGE k $ %s", "{\"gone\":null}"));
    expect_ok(cmd(c, "DOC.MERGE k $ %s", "{\"o\":{\"y\":{\"z\":true}}}"));
    expect_doc("k", "{\"a\":1,\"o\":{\"x\":[1],\"y\":{\"z\":true}}}", 1);
    /* a patch value that is an array equal to the one there changes nothing either */
    expect_ok(cmd(c, "DOC.MERGE k $ %s", "{\"o\":{\"x\":[1]}}"));
    expect_doc("k", "{\"a\":1,\"o\":{\"x\":[1],\"y\":{\"z\":true}}}", 1);
}

/* ---- DOC.CAS --------------------------------------------------------------------- */

Test(ops, cas_swaps_only_when_the_value_equals_expected) {
    expect_ok(cmd(c, "DOC.SET seat:1A $ %s", "{\"claimedBy\":null}"));
    expect_int(cmd(c, "DOC.CAS seat:1A $.claimedBy null %s", "\"alice\""), 1);
    expect_doc("seat:1A", "{\"claimedBy\":\"alice\"}", 2);
    expect_int(cmd(c, "DOC.CAS seat:1A $.claimedBy null %s", "\"bob\""), 0);
    expect_int(cmd(c, "DOC.CAS seat:1A $.claimedBy %s %s", "\"bob\"", "\"carol\""), 0);
    expect_int(cmd(c, "DOC.CAS seat:1A $.claimedBy ABSENT %s", "\"dave\""), 0);
    expect_doc("seat:1A", "{\"claimedBy\":\"alice\"}", 2);
    expect_int(cmd(c, "DOC.CAS seat:1A $.claimedBy %s null", "\"alice\""), 1);
    expect_doc("seat:1A", "{\"claimedBy\":null}", 3);
}

Test(ops, cas_compares_deeply) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"v\":{\"a\":1,\"b\":[1,2]},\"n\":1}"));
    expect_int(cmd(c, "DOC.CAS k $.v %s %s", "{\"b\":[1,2],\"a\":1.0}", "\"swapped\""), 1);
    expect_int(cmd(c, "DOC.CAS k $.n 1.0 2"), 1);
    expect_doc("k", "{\"v\":\"swapped\",\"n\":2}", 3);
    expect_int(cmd(c, "DOC.CAS k $.n %s 3", "\"2\""), 0);
    expect_doc("k", "{\"v\":\"swapped\",\"n\":2}", 3);
}

Test(ops, cas_absent_sets_only_a_missing_value) {
    expect_int(cmd(c, "DOC.CAS lock:job $.owner ABSENT %s", "\"w1\""), 1);
    expect_doc("lock:job", "{\"owner\":\"w1\"}", 1);
    expect_int(cmd(c, "DOC.CAS lock:job $.owner ABSENT %s", "\"w2\""), 0);
    expect_int(cmd(c, "DOC.CAS lock:job owner absent %s", "\"w2\""), 0);
    expect_doc("lock:job", "{\"owner\":\"w1\"}", 1);
    /* null is a value, not absence */
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"owner\":null}"));
    expect_int(cmd(c, "DOC.CAS k $.owner ABSENT %s", "\"w1\""), 0);
    expect_int(cmd(c, "DOC.CAS k $.lease.owner ABSENT %s", "\"w1\""), 1);
    expect_doc("k", "{\"owner\":null,\"lease\":{\"owner\":\"w1\"}}", 3);
}

Test(ops, cas_on_a_missing_key_with_an_expected_value_creates_nothing) {
    expect_int(cmd(c, "DOC.CAS fresh $.owner null %s", "\"w1\""), 0);
    expect_no_key("fresh");
}

Test(ops, cas_to_the_value_already_there_changes_nothing) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":1,\"l\":[1]}"));
    expect_int(cmd(c, "DOC.CAS k $.n 1 1"), 1);
    expect_int(cmd(c, "DOC.CAS k $.l %s %s", "[1]", "[1]"), 1);
    expect_doc("k", "{\"n\":1,\"l\":[1]}", 1);
}

/* ---- keyspace notifications ------------------------------------------------------ */

/* A connection subscribed to every keyspace event of db 0, after
 * CONFIG SET notify-keyspace-events KEA on the user's connection. */
static redisContext *subscribe_keyspace(void) {
    expect_ok(cmd(c, "CONFIG SET notify-keyspace-events KEA"));
    redisContext *sub = srv_connect(s);
    redisReply *r = cmd(sub, "PSUBSCRIBE __keyspace@0__:*");
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    freeReplyObject(r);
    return sub;
}

/* Reads events up to the one on key "sentinel" (written last, so everything before
 * it has been published) and returns them as "key event\n" lines, malloc'd. */
static char *events_until_sentinel(redisContext *sub) {
    text t;
    text_begin(&t);
    for (;;) {
        redisReply *r = NULL;
        int rc = redisGetReply(sub, (void **)&r);
        cr_assert(rc == REDIS_OK && r, "no event received: %s", sub->errstr);
        cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 4, "unexpected pubsub message");
        const char *channel = r->element[2]->str;
        const char *prefix = "__keyspace@0__:";
        cr_assert(!strncmp(channel, prefix, strlen(prefix)), "channel %s", channel);
        const char *key = channel + strlen(prefix);
        bool done = !strcmp(key, "sentinel");
        if (!done) fprintf(t.f, "%s %s\n", key, r->element[3]->str);
        freeReplyObject(r);
        if (done) break;
    }
    return text_end(&t);
}

Test(ops, each_op_notifies_its_event_once_per_change_and_never_for_no_ops_or_errors) {
    redisContext *sub = subscribe_keyspace();

    expect_ok(
        cmd(c, "DOC.SET k $ %s", "{\"n\":1,\"m\":3,\"s\":\"x\",\"a\":[1,2],\"b\":true,\"o\":{\"p\":1}}"));
    expect_int(cmd(c, "DOC.INCR k $.n 1"), 2); /* doc.incr */
    expect_int(cmd(c, "DOC.INCR k $.n 0"), 2);
    expect_nil(cmd(c, "DOC.INCR k $.n 10 MAX 5"));
    expect_err_prefix(cmd(c, "DOC.INCR k $.s 1"), "BADTYPE");
    expect_int(cmd(c, "DOC.MUL k $.n 2"), 4); /* doc.mul */
    expect_int(cmd(c, "DOC.MUL k $.n 1"), 4);
    expect_str(cmd(c, "DOC.MIN k $.m 2"), "2"); /* doc.min */
    expect_str(cmd(c, "DOC.MIN k $.m 9"), "2");
    expect_str(cmd(c, "DOC.MAX k $.m 7"), "7"); /* doc.max */
    expect_str(cmd(c, "DOC.MAX k $.m 1"), "7");
    expect_err_prefix(cmd(c, "DOC.MAX k $.s 1"), "BADTYPE");
    expect_int(cmd(c, "DOC.STRAPPEND k $.s %s", "y"), 2); /* doc.strappend */
    expect_int(cmd(c, "DOC.STRAPPEND k $.s %s", ""), 2);
    expect_int(cmd(c, "DOC.PUSH k $.a 3"), 3); /* doc.push */
    expect_err_prefix(cmd(c, "DOC.PUSH k $.o 1"), "BADTYPE");
    expect_str(cmd(c, "DOC.POP k $.a FIRST"), "1"); /* doc.pop */
    expect_nil(cmd(c, "DOC.POP k $.a 10"));
    expect_int(cmd(c, "DOC.PULL k $.a 3"), 1); /* doc.pull */
    expect_int(cmd(c, "DOC.PULL k $.a 99"), 0);
    expect_int(cmd(c, "DOC.PULL k $.a WHERE %s", "{\"$gt\":100}"), 0);
    expect_int(cmd(c, "DOC.ADDTOSET k $.a 5"), 1); /* doc.addtoset */
    expect_int(cmd(c, "DOC.ADDTOSET k $.a 5 2"), 0);
    expect_int(cmd(c, "DOC.INDEXOF k $.a 5"), 1);
    expect_str(cmd(c, "DOC.TOGGLE k $.b"), "false"); /* doc.toggle */
    expect_err_prefix(cmd(c, "DOC.TOGGLE k $.nothing"), "NOPATH");
    expect_int(cmd(c, "DOC.CLEAR k $.o"), 1); /* doc.clear */
    expect_int(cmd(c, "DOC.CLEAR k $.o"), 0);
    expect_ok(cmd(c, "DOC.MERGE k $ %s", "{\"q\":1}")); /* doc.merge */
    expect_ok(cmd(c, "DOC.MERGE k $ %s", "{\"gone\":null}"));
    expect_int(cmd(c, "DOC.CAS k $.q 1 2"), 1); /* doc.cas */
    expect_int(cmd(c, "DOC.CAS k $.q 1 3"), 0);
    expect_int(cmd(c, "DOC.CAS other $.lock ABSENT %s", "\"me\""), 1); /* other doc.cas */
    expect_int(cmd(c, "DOC.CAS other $.lock ABSENT %s", "\"you\""), 0);
    expect_int(cmd(c, "DOC.PULL missing $.a 1"), 0);
    expect_ok(cmd(c, "SET sentinel %s", "end"));

    char *events = events_until_sentinel(sub);
    cr_expect_str_eq(events, "k doc.set\n"
                             "k doc.incr\n"
                             "k doc.mul\n"
                             "k doc.min\n"
                             "k doc.max\n"
                             "k doc.strappend\n"
                             "k doc.push\n"
                             "k doc.pop\n"
                             "k doc.pull\n"
                             "k doc.addtoset\n"
                             "k doc.toggle\n"
                             "k doc.clear\n"
                             "k doc.merge\n"
                             "k doc.cas\n"
                             "other doc.cas\n");
    free(events);
    expect_doc("k", "{\"n\":4,\"m\":7,\"s\":\"xy\",\"a\":[2,5],\"b\":false,\"o\":{},\"q\":2}", 14);
    expect_doc("other", "{\"lock\":\"me\"}", 15); /* created after k's 14 */
    expect_no_key("missing");
    redisFree(sub);
}

Test(ops, a_pull_where_of_many_elements_sends_one_event) {
    redisContext *sub = subscribe_keyspace();
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[1,2,3,4,5,6]}"));
    expect_int(cmd(c, "DOC.PULL k $.l WHERE %s", "{\"$in\":[1,3,5]}"), 3);
    expect_int(cmd(c, "DOC.PUSH k $.l 7 8 9"), 6);
    expect_ok(cmd(c, "SET sentinel %s", "end"));
    char *events = events_until_sentinel(sub);
    cr_expect_str_eq(events, "k doc.set\nk doc.pull\nk doc.push\n");
    free(events);
    expect_doc("k", "{\"l\":[2,4,6,7,8,9]}", 3);
    redisFree(sub);
}

Test(ops, push_keep_of_int64_min_keeps_the_first_elements_and_everything) {
    /* KEEP -9223372036854775808: the first 2^63 elements, i.e. all of them. Its
     * magnitude has no int64 negation (undefined behaviour, an empty array before). */
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[1,2,3]}"));
    expect_int(cmd(c, "DOC.PUSH k $.l KEEP -9223372036854775808 4"), 4);
    expect_doc("k", "{\"l\":[1,2,3,4]}", 2);
    expect_int(cmd(c, "DOC.PUSH k $.l KEEP -9223372036854775807 5"), 5);
    expect_doc("k", "{\"l\":[1,2,3,4,5]}", 3);
    expect_int(cmd(c, "DOC.PUSH k $.l KEEP 9223372036854775807 6"), 6);
    expect_doc("k", "{\"l\":[1,2,3,4,5,6]}", 4);
}
