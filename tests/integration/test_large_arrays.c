/* test_large_arrays.c - large arrays through a real server: DOC.ADDTOSET, DOC.INDEXOF
 * and DOC.PULL by value on 100,000 elements answer from the array's value hash
 * (README "Large arrays") with the same results as on small arrays (1 equals 1.0,
 * strings bytewise), MEMORY USAGE and INFO memory_bytes count the hash and give it
 * back when the document goes, and a failed DOC.TXN leaves the array and its answers
 * exactly as they were.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

SRV_SUITE(large);

/* DOC.SET key $ ["u0","u1",...,"u{n-1}"]. */
static void set_visitors(const char *key, int n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert(f);
    fputc('[', f);
    for (int i = 0; i < n; i++) fprintf(f, "%s\"u%d\"", i ? "," : "", i);
    fputc(']', f);
    fclose(f);
    const char *argv[] = {"DOC.SET", key, "$", text};
    size_t lens[] = {7, strlen(key), 1, len};
    expect_status(cmdv(c, 4, argv, lens), "OK");
    free(text);
}

static long long memory_usage(const char *key)
{
    redisReply *r = cmd(c, "MEMORY USAGE %s SAMPLES 0", key);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

Test(large, addtoset_indexof_and_pull_on_100000_visitors_match_the_small_array_rules)
{
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

Test(large, the_value_hash_is_counted_by_memory_usage_and_info_and_freed_with_the_document)
{
    set_visitors("page", 100000);
    long long before = memory_usage("page");
    long long info_before = srv_info_int(c, "atomicdoc", "atomicdoc_memory_bytes");
    expect_int(cmd(c, "DOC.INDEXOF page $ %s", "\"u1\""), 1);
    long long after = memory_usage("page");
    long long info_after = srv_info_int(c, "atomicdoc", "atomicdoc_memory_bytes");
    /* about 1.5 four-byte slots per element */
    cr_expect_gt(after - before, 500000, "MEMORY USAGE %lld -> %lld", before, after);
    cr_expect_lt(after - before, 800000, "MEMORY USAGE %lld -> %lld", before, after);
    cr_expect_gt(info_after - info_before, 500000, "memory_bytes %lld -> %lld", info_before, info_after);
    expect_int(cmd(c, "DEL page"), 1);
    cr_expect_lt(srv_info_int(c, "atomicdoc", "atomicdoc_memory_bytes"), info_before - 1000000,
                 "memory_bytes after DEL");
}

Test(large, an_aborted_txn_leaves_the_array_and_its_answers_as_they_were)
{
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
