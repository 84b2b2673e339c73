/*
 * test_query_reads.c - RFC 9535 query paths in the read commands: DOC.GET,
 * DOC.MGET, DOC.TYPE, DOC.LEN and DOC.KEYS reply one result per match, in
 * document order (writes at query paths: test_query_writes.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

static srv *s;          /* this suite's server */
static redisContext *c; /* a user's connection */

static void start(void) {
    s = srv_start(NULL);
    c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET o $ %s",
                  "{\"orders\":[{\"id\":1,\"qty\":3,\"sku\":\"x\"},{\"id\":2,\"qty\":1,\"sku\":\"y\"},"
                  "{\"id\":7,\"qty\":5,\"sku\":\"x\"}],\"name\":\"n\",\"deep\":{\"sku\":\"z\"}}"));
}

static void stop(void) {
    redisFree(c);
    srv_stop(s);
}

TestSuite(query_reads, .init = start, .fini = stop);

Test(query_reads, a_filter_selects_the_matching_elements_in_document_order) {
    expect_str(cmd(c, "DOC.GET o %s", "$.orders[?@.qty > 2 && @.sku == 'x'].id"), "[1,7]");
    expect_str(cmd(c, "DOC.GET o %s", "$.orders[?@.qty > 100]"), "[]");
}

Test(query_reads, wildcards_descendants_slices_and_unions_reply_arrays) {
    expect_str(cmd(c, "DOC.GET o %s", "$..sku"), "[\"x\",\"y\",\"x\",\"z\"]");
    expect_str(cmd(c, "DOC.GET o %s", "$.orders[0:2].id"), "[1,2]");
    expect_str(cmd(c, "DOC.GET o %s", "$.orders[-1,0].id"), "[7,1]");
    expect_str(cmd(c, "DOC.GET o %s", "$.orders[*].qty"), "[3,1,5]");
}

Test(query_reads, a_single_path_written_as_a_query_still_replies_the_value_itself) {
    expect_str(cmd(c, "DOC.GET o %s", "$['name']"), "\"n\"");
    expect_str(cmd(c, "DOC.GET o %s", "$.orders[1].id"), "2");
}

Test(query_reads, several_paths_mix_single_and_query_paths) {
    redisReply *r = cmd(c, "DOC.GET o %s %s", "$.name", "$..id");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_assert_str_eq(r->element[0]->str, "\"n\"");
    cr_assert_str_eq(r->element[1]->str, "[1,2,7]");
    freeReplyObject(r);
}

Test(query_reads, mget_type_len_and_keys_answer_per_match) {
    redisReply *r = cmd(c, "DOC.MGET o missing %s", "$..id");
    cr_assert_eq(r->elements, 2);
    cr_assert_str_eq(r->element[0]->str, "[1,2,7]");
    cr_assert_eq(r->element[1]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);

    r = cmd(c, "DOC.TYPE o %s", "$.*");
    cr_assert_eq(r->elements, 3);
    cr_assert_str_eq(r->element[0]->str, "array");
    cr_assert_str_eq(r->element[1]->str, "string");
    cr_assert_str_eq(r->element[2]->str, "object");
    freeReplyObject(r);

    /* LEN of a number inside a query's matches is nil, not an error. */
    r = cmd(c, "DOC.LEN o %s", "$.orders[0].*");
    cr_assert_eq(r->elements, 3);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_NIL);
    cr_assert_eq(r->element[2]->integer, 1);
    freeReplyObject(r);

    r = cmd(c, "DOC.KEYS o %s", "$.orders[?@.id == 2]");
    cr_assert_eq(r->elements, 1);
    cr_assert_eq(r->element[0]->elements, 3);
    cr_assert_str_eq(r->element[0]->element[2]->str, "sku");
    freeReplyObject(r);
}

Test(query_reads, a_malformed_query_is_badpath_with_its_character_offset) {
    redisReply *r = cmd(c, "DOC.GET o %s", "$.orders[?bad");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strncmp(r->str, "BADPATH", 7) == 0, "%s", r->str);
    cr_assert(strstr(r->str, "at character"), "%s", r->str);
    freeReplyObject(r);
}

Test(query_reads, a_malformed_query_in_a_write_is_badpath_and_changes_nothing) {
    expect_err_prefix(cmd(c, "DOC.INCR o %s 1", "$.orders[*.qty"), "BADPATH");
    expect_err_prefix(cmd(c, "DOC.SET o %s 1", "$..[?"), "BADPATH");
    expect_int(cmd(c, "DOC.VERSION o"), 1);
}

/* Read paths use the compiled-path cache once both compilers have taken the
 * text as a single path: the reply is the same on the first read, on the
 * next (a cache hit), after a write cached the text first, after CONFIG SET
 * max-depth flushed the cache, and a query text is never taken for one. */
Test(query_reads, cached_read_paths_reply_as_the_first_read) {
    for (int round = 0; round < 3; round++) {
        expect_str(cmd(c, "DOC.GET o %s", "$.orders[2].sku"), "\"x\"");
        expect_str(cmd(c, "DOC.GET o %s", "$['deep']['sku']"), "\"z\"");
        expect_str(cmd(c, "DOC.GET o %s", "$.orders[*].id"), "[1,2,7]");
        expect_str(cmd(c, "DOC.GET o %s", "$..deep"), "[{\"sku\":\"z\"}]");
    }
    /* cached by a write first (not yet known to the query compiler) */
    expect_ok(cmd(c, "DOC.SET o %s %s", "$.deep.extra", "1"));
    for (int round = 0; round < 2; round++) expect_str(cmd(c, "DOC.GET o %s", "$.deep.extra"), "1");
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 64"));
    expect_str(cmd(c, "DOC.GET o %s", "$.deep.extra"), "1");
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-depth 128"));
    expect_str(cmd(c, "DOC.GET o %s", "$.deep.extra"), "1");
    expect_int(cmd(c, "DOC.DEL o %s", "$.deep.extra"), 1);
    /* a missing member and an error stay so however often they are sent */
    for (int round = 0; round < 2; round++) {
        expect_nil(cmd(c, "DOC.GET o %s", "$.orders[2].missing"));
        expect_err_prefix(cmd(c, "DOC.GET o %s", "$.a-b"), "BADPATH");
    }
}
