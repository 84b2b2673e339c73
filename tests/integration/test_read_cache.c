/*
 * test_read_cache.c - the read cache of whole-document JSON: a DOC.GET of a
 * whole document keeps its text until the document changes; every change,
 * inside a TXN too, and every rollback drops it, so no read ever sees text
 * of a state that is not the document's current one. The budget bounds it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(read_cache);

static long long cached(void) { return srv_info_int(c, "atomicdoc", "atomicdoc_read_cache_bytes"); }

Test(read_cache, a_whole_document_read_is_kept_until_the_document_changes) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":1,\"s\":\"x\"}"));
    cr_assert_eq(cached(), 0);
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":1,\"s\":\"x\"}");
    cr_assert_eq(cached(), (long long)strlen("{\"n\":1,\"s\":\"x\"}"));
    expect_str(cmd(c, "DOC.GET k $"), "{\"n\":1,\"s\":\"x\"}");
    expect_int(cmd(c, "DOC.INCR k $.n 1"), 2);
    cr_assert_eq(cached(), 0, "a change drops the text");
    expect_str(cmd(c, "DOC.GET k ."), "{\"n\":2,\"s\":\"x\"}");
    expect_int(cmd(c, "DOC.INCR k $.n 0"), 2); /* no change: the text stays */
    cr_assert_gt(cached(), 0);
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":2,\"s\":\"x\"}");
}

Test(read_cache, ops_of_a_txn_read_the_effects_of_the_ops_before_them) {
    expect_ok(cmd(c, "DOC.SET t $ %s", "{\"n\":1}"));
    redisReply *r = cmd(c, "DOC.TXN 1 t GET 1 $ INCR 1 $.n 5 GET 1 $ SET 1 $.m 1 GET 1 $");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 5);
    cr_assert_str_eq(r->element[0]->str, "{\"n\":1}");
    cr_assert_str_eq(r->element[2]->str, "{\"n\":6}");
    cr_assert_str_eq(r->element[4]->str, "{\"n\":6,\"m\":1}");
    freeReplyObject(r);
    expect_str(cmd(c, "DOC.GET t"), "{\"n\":6,\"m\":1}");
}

Test(read_cache, a_rolled_back_txn_leaves_no_text_of_its_undone_state) {
    expect_ok(cmd(c, "DOC.SET t $ %s", "{\"n\":1}"));
    expect_str(cmd(c, "DOC.GET t"), "{\"n\":1}");
    /* The GET inside sees n = 2 and might keep that text; the CHECK fails,
     * the INCR is undone, and the next read must see n = 1. */
    expect_err_prefix(cmd(c, "DOC.TXN 1 t INCR 1 $.n 1 GET 1 $ CHECK 1 $.n EQ 100"), "ABORTED");
    expect_str(cmd(c, "DOC.GET t"), "{\"n\":1}");
    expect_int(cmd(c, "DOC.VERSION t"), 1);
}

Test(read_cache, deleting_or_replacing_a_document_drops_its_text) {
    expect_ok(cmd(c, "DOC.SET d $ %s", "[1,2,3]"));
    expect_str(cmd(c, "DOC.GET d"), "[1,2,3]");
    cr_assert_gt(cached(), 0);
    expect_int(cmd(c, "DEL d"), 1);
    cr_assert_eq(cached(), 0);
    expect_ok(cmd(c, "DOC.SET d $ %s", "[4]"));
    expect_str(cmd(c, "DOC.GET d"), "[4]");
    expect_ok(cmd(c, "DOC.SET d $ %s", "[5]"));
    expect_str(cmd(c, "DOC.GET d"), "[5]");
}

Test(read_cache, the_budget_bounds_it_and_zero_turns_it_off) {
    expect_ok(cmd(c, "CONFIG SET atomicdoc.read-cache-max-memory 0"));
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"x\":\"0123456789\"}"));
    expect_str(cmd(c, "DOC.GET a"), "{\"x\":\"0123456789\"}");
    cr_assert_eq(cached(), 0);
    long long one = (long long)strlen("{\"x\":\"0123456789\"}");
    expect_ok(cmd(c, "CONFIG SET atomicdoc.read-cache-max-memory 30"));
    expect_str(cmd(c, "DOC.GET a"), "{\"x\":\"0123456789\"}"); /* fits the budget: kept */
    cr_assert_eq(cached(), one);
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"y\":\"0123456789\"}"));
    expect_str(cmd(c, "DOC.GET b"), "{\"y\":\"0123456789\"}"); /* would pass 30: not kept */
    cr_assert_eq(cached(), one);
}

Test(read_cache, memory_usage_counts_the_kept_text) {
    char big[4096];
    memset(big, 'x', sizeof big - 3);
    big[0] = '"';
    big[sizeof big - 3] = '"';
    big[sizeof big - 2] = '\0';
    expect_ok(cmd(c, "DOC.SET m $ %s", big));
    redisReply *r = cmd(c, "MEMORY USAGE m");
    long long before = r->integer;
    freeReplyObject(r);
    freeReplyObject(cmd(c, "DOC.GET m"));
    r = cmd(c, "MEMORY USAGE m");
    cr_assert_geq(r->integer, before + (long long)strlen(big), "%lld vs %lld", r->integer, before);
    freeReplyObject(r);
}

/* A JSON array of n strings of 40 bytes each, about 44 * n bytes. */
static char *big_array(int n, char fill) {
    char *t = malloc((size_t)n * 44 + 8);
    size_t at = 0;
    t[at++] = '[';
    for (int i = 0; i < n; i++) {
        if (i) t[at++] = ',';
        t[at++] = '"';
        memset(t + at, fill, 40);
        at += 40;
        t[at++] = '"';
    }
    t[at++] = ']';
    t[at] = '\0';
    return t;
}

/* A plain DOC.GET replies straight from the cached text; a TXN copies it,
 * since a later op drops the text before the replies go out (under
 * `make sanitize` a reply from freed text is a use-after-free). */
Test(read_cache, a_txn_that_reads_cached_text_and_then_changes_the_document_replies_what_it_read) {
    char *a = big_array(3000, 'a'), *b = big_array(3000, 'b');
    expect_ok(cmd(c, "DOC.SET big $ %s", a));
    expect_str(cmd(c, "DOC.GET big"), a); /* printed and kept */
    expect_str(cmd(c, "DOC.GET big"), a); /* from the kept text */
    redisReply *r = cmd(c, "DOC.TXN 1 big GET 1 $ SET 1 $ %s GET 1 $", b);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 3);
    cr_assert_str_eq(r->element[0]->str, a);
    cr_assert_str_eq(r->element[2]->str, b);
    freeReplyObject(r);
    expect_str(cmd(c, "DOC.GET big"), b);
    free(a);
    free(b);
}

/* Several whole-document reads in one command share the text: the first
 * prints and keeps it, the others reply from it; DOC.MGET alike. */
Test(read_cache, several_whole_document_reads_in_one_command_reply_the_same_text) {
    char *a = big_array(500, 'z');
    expect_ok(cmd(c, "DOC.SET s $ %s", a));
    redisReply *r = cmd(c, "DOC.GET s $ . $");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 3);
    for (size_t i = 0; i < 3; i++) cr_assert_str_eq(r->element[i]->str, a);
    freeReplyObject(r);
    cr_assert_eq(cached(), (long long)strlen(a));
    r = cmd(c, "DOC.MGET s s nokey s $");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 4);
    cr_assert_str_eq(r->element[0]->str, a);
    cr_assert_str_eq(r->element[1]->str, a);
    cr_assert_eq(r->element[2]->type, REDIS_REPLY_NIL);
    cr_assert_str_eq(r->element[3]->str, a);
    freeReplyObject(r);
    free(a);
}
