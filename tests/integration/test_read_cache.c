/*
 * test_read_cache.c - the read cache of whole-document JSON: a DOC.GET of a
 * whole document keeps its text until the document changes; every change,
 * inside a TXN too, and every rollback drops it, so no read ever sees text
 * of a state that is not the document's current one. The budget bounds it.
 */
#include <criterion/criterion.h>
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
    expect_int(cmd(c, "DOC.INCR k $.n 0"), 2);   /* no change: the text stays */
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
    expect_str(cmd(c, "DOC.GET a"), "{\"x\":\"0123456789\"}");   /* fits the budget: kept */
    cr_assert_eq(cached(), one);
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"y\":\"0123456789\"}"));
    expect_str(cmd(c, "DOC.GET b"), "{\"y\":\"0123456789\"}");   /* would pass 30: not kept */
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
