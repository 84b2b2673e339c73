/* test_large_arrays.c - large arrays through a real server: DOC.ADDTOSET, DOC.INDEXOF
 * and DOC.PULL by value on 100,000 elements answer from the array's value hash
 * (README "Large arrays") with the same results as on small arrays (1 equals 1.0,
 * strings bytewise), MEMORY USAGE and INFO memory_bytes count the hash and give it
 * back when the document goes, and a failed DOC.TXN leaves the array and its answers
 * exactly as they were.
 */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../test_util.h"

SRV_SUITE(large);

/* DOC.SET key $ [...] of n elements: "u{i}" at position i, or, when `same` is
 * given, that value at even positions. */
static void set_with_repeats(const char *key, int n, const char *same) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert(f);
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', f);
        if (same && i % 2 == 0)
            fputs(same, f);
        else
            fprintf(f, "\"u%d\"", i);
    }
    fputc(']', f);
    fclose(f);
    const char *argv[] = {"DOC.SET", key, "$", text};
    size_t lens[] = {7, strlen(key), 1, len};
    expect_status(cmdv(c, 4, argv, lens), "OK");
    free(text);
}

/* DOC.SET key $ ["u0","u1",...,"u{n-1}"]. */
static void set_visitors(const char *key, int n) { set_with_repeats(key, n, NULL); }

static long long memory_usage(const char *key) {
    redisReply *r = cmd(c, "MEMORY USAGE %s SAMPLES 0", key);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

Test(large, addtoset_indexof_and_pull_on_100000_visitors_match_the_small_array_rules) {
    set_visitors("page", 100000);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u77777\""), 77777);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u100000\""), -1);
    expect_int(cmd(c, "DOC.ADDTOSET page $ %s %s", "\"u5\"", "\"new\""), 1);
    expect_int(cmd(c, "DOC.LEN page $"), 100001);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"new\""), 100000);
    /* 1 equals 1.0; "1" is a string */
    expect_int(cmd(c, "DOC.ADDTOSET page $ %s", "1"), 1);
    expect_int(cmd(c, "DOC.ADDTOSET page $ %s %s", "1.0", "\"1\""), 1);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "1.0"), 100001);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"1\""), 100002);
    /* PULL in the middle: later elements move down, the hash follows */
    expect_int(cmd(c, "DOC.PULL page $ %s %s", "\"u50000\"", "1.0"), 2);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u50001\""), 50000);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u50000\""), -1);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"new\""), 99999);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"1\""), 100000);
    /* a duplicate inserted before the first: INDEXOF finds the first */
    expect_int(cmd(c, "DOC.PUSH page $ AT 10 %s", "\"u99999\""), 100002);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u99999\""), 10);
    expect_int(cmd(c, "DOC.PULL page $ %s", "\"u99999\""), 2);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u99999\""), -1);
    expect_int(cmd(c, "DOC.LEN page $"), 100000);
}

Test(large, the_value_hash_is_counted_by_memory_usage_and_info_and_freed_with_the_document) {
    set_visitors("page", 100000);
    long long before = memory_usage("page");
    long long info_before = srv_info_int(c, "atomicdoc", "atomicdoc_memory_bytes");
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u1\""), 1);
    long long after = memory_usage("page");
    long long info_after = srv_info_int(c, "atomicdoc", "atomicdoc_memory_bytes");
    /* about 1.5 six-byte slots per element */
    cr_expect_gt(after - before, 800000, "MEMORY USAGE %lld -> %lld", before, after);
    cr_expect_lt(after - before, 1100000, "MEMORY USAGE %lld -> %lld", before, after);
    cr_expect_gt(info_after - info_before, 800000, "memory_bytes %lld -> %lld", info_before, info_after);
    expect_int(cmd(c, "DEL page"), 1);
    cr_expect_lt(srv_info_int(c, "atomicdoc", "atomicdoc_memory_bytes"), info_before - 1000000,
                 "memory_bytes after DEL");
}

Test(large, an_aborted_txn_leaves_the_array_and_its_answers_as_they_were) {
    set_visitors("page", 1000);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u500\""), 500);
    redisReply *r = cmd(c, "DOC.TXN 1 page PULL 1 $ %s PUSH 1 $ AT 0 %s ADDTOSET 1 $ %s CHECK 1 VERSION 999",
                        "\"u500\"", "\"u999\"", "\"zz\"");
    cr_expect(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "ABORTED op 4", 12));
    freeReplyObject(r);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u500\""), 500);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u999\""), 999);
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"zz\""), -1);
    expect_int(cmd(c, "DOC.LEN page $"), 1000);
}

static void expect_same_str(redisReply *r, const char *want) {
    cr_assert(r->type == REDIS_REPLY_STRING, "reply type %d", r->type);
    cr_expect_str_eq(r->str, want);
    freeReplyObject(r);
}

static char *digest_of(const char *key) {
    redisReply *r = cmd(c, "DEBUG DIGEST-VALUE %s", key);
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
              (r->element[0]->type == REDIS_REPLY_STRING || r->element[0]->type == REDIS_REPLY_STATUS));
    char *d = strdup(r->element[0]->str);
    freeReplyObject(r);
    return d;
}

/* Runs a command that must fail with an error starting with `aborted` (a DOC.TXN whose
 * later op fails: "ABORTED op 3") and checks that `key` is exactly as it was before
 * (DEBUG DIGEST-VALUE). */
static void expect_undone(const char *key, const char *aborted, const char *fmt, ...) {
    char *before = digest_of(key);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert(r, "%s", c->errstr);
    cr_assert(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, aborted, strlen(aborted)), "%s",
              r->type == REDIS_REPLY_ERROR ? r->str : "not an error");
    freeReplyObject(r);
    char *after = digest_of(key);
    cr_expect_str_eq(after, before, "the document changed");
    free(before);
    free(after);
}

/* README "Edits in large containers": a $[] write that changes every element's size
 * rewrites the array once (it took minutes at this size when each element's edit moved
 * the rest of the array); inside a DOC.TXN that fails it is rolled back whole. */
Test(large, a_size_changing_dollar_all_write_over_1000000_elements_finishes_and_rolls_back_in_a_failed_txn) {
    expect_status(cmd(c, "DOC.SET big $ %s", "{\"l\":[]}"), "OK");
    expect_int(cmd(c, "DOC.UPDATE big %s", "{\"$set\":{\"l.999999\":null}}"), 1);
    long long t0 = test_now_ms();
    expect_int(cmd(c, "DOC.UPDATE big %s", "{\"$set\":{\"l.$[]\":\"abc\"}}"), 1);
    long long took = test_now_ms() - t0;
    /* a bound against hanging only (the harness allows 30 s a command; this takes
     * about 0.1 s, ASan builds included) */
    cr_expect_lt(took, 20000, "DOC.UPDATE $[] over 1,000,000 elements took %lld ms", took);
    expect_int(cmd(c, "DOC.LEN big $.l"), 1000000);
    expect_same_str(cmd(c, "DOC.GET big $.l[0]"), "\"abc\"");
    expect_same_str(cmd(c, "DOC.GET big $.l[999999]"), "\"abc\"");
    /* filtered: every other element back to a number, the rest kept */
    expect_int(cmd(c, "DOC.UPDATE big %s ARRAYFILTERS %s", "{\"$set\":{\"l.$[e]\":7}}",
                   "[{\"e\":{\"$in\":[\"abc\"]}}]"),
               1);
    expect_same_str(cmd(c, "DOC.GET big $.l[500000]"), "7");
    expect_int(cmd(c, "DOC.UPDATE big %s", "{\"$set\":{\"l.$[]\":\"abc\"}}"), 1);
    long long version = 0;
    redisReply *v = cmd(c, "DOC.VERSION big");
    cr_assert_eq(v->type, REDIS_REPLY_INTEGER);
    version = v->integer;
    freeReplyObject(v);
    /* the write, then a CHECK that fails: all of it is undone */
    expect_undone("big", "ABORTED op 3", "DOC.TXN 1 big UPDATE 1 %s PUSH 1 $.l %s CHECK 1 VERSION 1",
                  "{\"$set\":{\"l.$[]\":{\"n\":[1]}}}", "5");
    expect_int(cmd(c, "DOC.VERSION big"), version);
    expect_int(cmd(c, "DOC.LEN big $.l"), 1000000);
    expect_same_str(cmd(c, "DOC.GET big $.l[123456]"), "\"abc\"");
    /* and a write that fails half-way in DOC.UPDATE itself changes nothing */
    expect_status(cmd(c, "DOC.SET big $.l[700000] %s", "{\"x\":1}"), "OK");
    expect_undone("big", "BADTYPE", "DOC.UPDATE big %s", "{\"$inc\":{\"l.$[]\":1}}");
}

/* README "Large arrays": a value repeated all over the array is one slot of the hash
 * with its first position and a count (a probe chain of 50,000 equal entries made the
 * first search, and every later one whose chain ran into it, take seconds), and PULL
 * of all its elements is one rewrite of the array (one edit per run of neighbours
 * moved the tail 50,000 times). Before the change this test took minutes. */
Test(large, a_value_repeated_50000_times_is_found_added_to_and_pulled_like_any_other) {
    set_with_repeats("rep", 100000, "0");
    expect_int(cmd(c, "DOC.INDEXOF rep $ 0"), 0);
    expect_int(cmd(c, "DOC.INDEXOF rep $ 0.0"), 0);
    expect_int(cmd(c, "DOC.INDEXOF rep $ %s", "\"u99999\""), 99999);
    expect_int(cmd(c, "DOC.ADDTOSET rep $ 0 %s", "\"u1\""), 0);
    expect_int(cmd(c, "DOC.ADDTOSET rep $ %s", "\"new\""), 1);
    /* the first 0 gone: the next one is found */
    expect_str(cmd(c, "DOC.POP rep $ 0"), "0");
    expect_int(cmd(c, "DOC.INDEXOF rep $ 0"), 1);
    /* a 0 put first again */
    expect_int(cmd(c, "DOC.PUSH rep $ AT 0 0"), 100001);
    expect_int(cmd(c, "DOC.INDEXOF rep $ 0"), 0);
    /* every 0 pulled at once: the strings left, in order */
    expect_int(cmd(c, "DOC.PULL rep $ 0"), 50000);
    expect_int(cmd(c, "DOC.LEN rep $"), 50001);
    expect_int(cmd(c, "DOC.INDEXOF rep $ 0"), -1);
    expect_same_str(cmd(c, "DOC.GET rep $[0]"), "\"u1\"");
    expect_same_str(cmd(c, "DOC.GET rep $[49999]"), "\"u99999\"");
    expect_int(cmd(c, "DOC.INDEXOF rep $ %s", "\"u50001\""), 25000);
    expect_int(cmd(c, "DOC.INDEXOF rep $ %s", "\"new\""), 50000);

    /* the same, removed by a failing TXN: all of it undone, answers included */
    set_with_repeats("rep", 100000, "\"x\"");
    expect_undone("rep", "ABORTED op 2", "DOC.TXN 1 rep PULL 1 $ %s CHECK 1 $[0] EQ 1", "\"x\"");
    expect_int(cmd(c, "DOC.INDEXOF rep $ %s", "\"x\""), 0);
    expect_int(cmd(c, "DOC.LEN rep $"), 100000);
    expect_int(cmd(c, "DOC.PULL rep $ %s", "\"x\""), 50000);
}

/* README "Large arrays": many values at once are looked up in a set (DOC.ADDTOSET's
 * values, `$in` / `$nin` of 8 literals or more, `$addToSet` `$each` and `$pullAll` of 8
 * or more), with the equality of one-by-one comparison: 1 equals 1.0, strings by their
 * bytes, containers deep. 5,000 values against 100,000 elements took ~5 s each before
 * (every value compared with every element). */
Test(large, many_values_at_once_follow_the_one_by_one_rules) {
    /* [0..99, "s0".."s49", [1], {"a":1}] */
    char text[4096];
    size_t at = (size_t)snprintf(text, sizeof text, "{\"l\":[");
    for (int i = 0; i < 100; i++) at += (size_t)snprintf(text + at, sizeof text - at, "%d,", i);
    for (int i = 0; i < 50; i++) at += (size_t)snprintf(text + at, sizeof text - at, "\"s%d\",", i);
    snprintf(text + at, sizeof text - at, "[1],{\"a\":1}]}");
    expect_status(cmd(c, "DOC.SET m $ %s", text), "OK");

    /* present (5.0, "s3", [1], {"a":1}), repeated among themselves (7 and 7.0,
     * "n1", {"b":[2]}): only the first of each new one is added, in order */
    expect_int(cmd(c, "DOC.UPDATE m %s",
                   "{\"$addToSet\":{\"l\":{\"$each\":[5.0,\"s3\",\"n1\",100,7,[1],\"n1\",{\"b\":[2]},"
                   "100.0,{\"a\":1},{\"b\":[2]},\"n2\"]}}}"),
               1);
    expect_int(cmd(c, "DOC.LEN m $.l"), 156);
    expect_same_str(cmd(c, "DOC.GET m $.l[152:]"), "[\"n1\",100,{\"b\":[2]},\"n2\"]");
    expect_int(cmd(c, "DOC.ADDTOSET m $.l 1 2.0 %s %s %s %s %s %s %s %s", "\"s1\"", "\"n3\"", "\"n3\"", "[1]",
                   "[2]", "[2]", "{\"a\":1.0}", "\"n4\""),
               3);
    expect_same_str(cmd(c, "DOC.GET m $.l[156:]"), "[\"n3\",[2],\"n4\"]");

    /* $pullAll of 9: 1.0 takes 1, {"a":1} its equal, "S1" nothing (bytes differ) */
    expect_int(cmd(c, "DOC.UPDATE m %s",
                   "{\"$pullAll\":{\"l\":[1.0,\"s4\",{\"a\":1},\"S1\",[2],99,98.0,\"n9\",\"n3\"]}}"),
               1);
    expect_int(cmd(c, "DOC.LEN m $.l"), 152);
    expect_int(cmd(c, "DOC.INDEXOF m $.l 1"), -1);
    expect_int(cmd(c, "DOC.INDEXOF m $.l %s", "\"s1\""), 98);
    expect_int(cmd(c, "DOC.INDEXOF m $.l %s", "{\"a\":1}"), -1);
    /* $pull with $in of 10 and DOC.PULL WHERE $nin of 8 */
    expect_int(
        cmd(c, "DOC.UPDATE m %s", "{\"$pull\":{\"l\":{\"$in\":[0,2,4,6,8,\"s0\",\"s2\",[1],\"zz\",10.0]}}}"),
        1);
    expect_int(cmd(c, "DOC.LEN m $.l"), 143);
    expect_int(cmd(c, "DOC.PULL m $.l WHERE %s", "{\"$nin\":[3,5,7,9,\"s1\",\"s3\",\"n1\",{\"b\":[2]}]}"),
               135);
    expect_same_str(cmd(c, "DOC.GET m $.l"), "[3,5,7,9,\"s1\",\"s3\",\"n1\",{\"b\":[2]}]");
}

/* README "Edits in large containers": a DOC.MERGE with many nulls removes those
 * members in one rewrite of the object (100,000 of 200,000 took 6 s one by one); the
 * members kept, containers included, stay as they were, in their order, and a failing
 * DOC.TXN that also grew a kept container after the merge is undone exactly. */
Test(large, a_merge_with_many_nulls_removes_them_at_once_and_rolls_back) {
    char *text = NULL, *patch = NULL;
    size_t len = 0, plen = 0;
    FILE *f = open_memstream(&text, &len), *pf = open_memstream(&patch, &plen);
    cr_assert(f && pf);
    fputc('{', f);
    fputc('{', pf);
    for (int i = 0; i < 1000; i++) {
        /* members: {"a":[i]} at even i, i at odd i; the patch nulls every i % 4 < 2 */
        if (i % 2 == 0)
            fprintf(f, "%s\"m%d\":{\"a\":[%d]}", i ? "," : "", i, i);
        else
            fprintf(f, ",\"m%d\":%d", i, i);
        if (i % 4 < 2) fprintf(pf, "%s\"m%d\":null", i ? "," : "", i);
    }
    fputs("}", f);
    fputs(",\"m3\":{\"b\":1},\"new\":true}", pf);
    fclose(f);
    fclose(pf);
    expect_status(cmd(c, "DOC.SET o $ %s", text), "OK");

    /* a failing TXN: the merge, a kept container grown (it moves), then a CHECK */
    expect_undone("o", "ABORTED op 3", "DOC.TXN 1 o MERGE 1 $ %s PUSH 1 $.m2.a %s CHECK 1 $.m3 EQ 0", patch,
                  "\"a string long enough to move the array\"");
    expect_int(cmd(c, "DOC.LEN o $"), 1000);

    expect_status(cmd(c, "DOC.MERGE o $ %s", patch), "OK");
    expect_int(cmd(c, "DOC.LEN o $"), 501);
    expect_same_str(cmd(c, "DOC.GET o $.m2"), "{\"a\":[2]}");
    expect_same_str(cmd(c, "DOC.GET o $.m3"), "{\"b\":1}");
    expect_same_str(cmd(c, "DOC.GET o $.new"), "true");
    expect_nil(cmd(c, "DOC.GET o $.m4"));
    expect_int(cmd(c, "DOC.PUSH o $.m998.a 1"), 2);
    /* the members left, in their order: m2 m3 m6 m7 ... then new */
    redisReply *r = cmd(c, "DOC.KEYS o $");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 501);
    cr_expect_str_eq(r->element[0]->str, "m2");
    cr_expect_str_eq(r->element[1]->str, "m3");
    cr_expect_str_eq(r->element[2]->str, "m6");
    cr_expect_str_eq(r->element[499]->str, "m999");
    cr_expect_str_eq(r->element[500]->str, "new");
    freeReplyObject(r);
    free(text);
    free(patch);
}

/* README "Edits in large containers": sibling `$unset`s remove their members in one
 * rewrite of the object, and a failing DOC.TXN undoes it exactly. */
Test(large, many_sibling_unsets_remove_members_at_once_and_roll_back) {
    char *set = NULL, *unset = NULL;
    size_t slen = 0, ulen = 0;
    FILE *f = open_memstream(&set, &slen), *uf = open_memstream(&unset, &ulen);
    cr_assert(f && uf);
    fputs("{\"$set\":{", f);
    fputs("{\"$unset\":{", uf);
    for (int i = 0; i < 2000; i++) {
        fprintf(f, "%s\"o.f%d\":%s", i ? "," : "", i, i % 3 ? "1" : "{\"l\":[1]}");
        if (i % 2 == 0) fprintf(uf, "%s\"o.f%d\":\"\"", i ? "," : "", i);
    }
    fputs("}}", f);
    fputs("}}", uf);
    fclose(f);
    fclose(uf);
    expect_status(cmd(c, "DOC.SET u $ %s", "{\"o\":{}}"), "OK");
    expect_int(cmd(c, "DOC.UPDATE u %s", set), 1);
    expect_undone("u", "ABORTED op 3", "DOC.TXN 1 u UPDATE 1 %s PUSH 1 $.o.f3.l %s CHECK 1 $.o EQ 0", unset,
                  "\"a string long enough to move the array\"");
    expect_int(cmd(c, "DOC.UPDATE u %s", unset), 1);
    expect_int(cmd(c, "DOC.LEN u $.o"), 1000);
    expect_nil(cmd(c, "DOC.GET u $.o.f0"));
    expect_same_str(cmd(c, "DOC.GET u $.o.f3"), "{\"l\":[1]}");
    expect_same_str(cmd(c, "DOC.GET u $.o.f1999"), "1");
    free(set);
    free(unset);
}
