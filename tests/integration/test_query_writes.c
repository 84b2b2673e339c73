/*
 * test_query_writes.c - DOC.* writes at RFC 9535 query paths (README
 * "Documents, paths, versions"): the op runs at every match, the reply is an
 * array with what the single-path form replies for each match, in document
 * order; no match is an empty array and changes nothing; a failure at any
 * match changes nothing; nested matches are written deepest first; CAS swaps
 * at every match or at none; the version moves once; a replica and an AOF
 * replay end identical. Matches that are elements of one array, written in
 * one pass (README "Writes at query paths", Cost), reply and write exactly
 * what single-path writes at each element would, all or nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

SRV_SUITE(query_writes);

/* One row: a document, a command on it (argv after the key, NULL-ended),
 * the reply (reply_describe's text) and the document after. */
typedef struct row {
    const char *doc;     /* the document before */
    const char *args[8]; /* command name, then the arguments after the key */
    const char *reply;   /* reply_describe() of the reply */
    const char *after;   /* the document after */
} row;

/* Runs r on key `key` (set to r->doc first) and checks reply and document. */
static void run_row(redisContext *cc, const char *key, const row *r) {
    expect_ok(cmd(cc, "DOC.SET %s $ %s", key, r->doc));
    const char *argv[10];
    int argc = 0;
    argv[argc++] = r->args[0];
    argv[argc++] = key;
    for (int i = 1; r->args[i]; i++) argv[argc++] = r->args[i];
    redisReply *rep = cmdv(cc, argc, argv, NULL);
    char got[1024];
    reply_describe(rep, got, sizeof got);
    freeReplyObject(rep);
    cr_expect_str_eq(got, r->reply, "%s %s on %s", r->args[0], r->args[1], r->doc);
    char *text = doc_text(cc, key);
    cr_expect_str_eq(text, r->after, "%s %s on %s: document after", r->args[0], r->args[1], r->doc);
    free(text);
}

static const char *const ORDER =
    "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"X\",\"qty\":2},{\"sku\":\"X\",\"qty\":5}]}";

Test(query_writes, every_write_command_applies_at_every_match_and_replies_one_slot_per_match) {
    const row rows[] = {
        {ORDER,
         {"DOC.INCR", "$.items[?@.sku==\"X\"].qty", "-1"},
         "array(2) [integer 1, integer 4]",
         "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"X\",\"qty\":1},{\"sku\":\"X\",\"qty\":4}]}"},
        {ORDER,
         {"DOC.MUL", "$.items[*].qty", "2"},
         "array(3) [integer 2, integer 4, integer 10]",
         "{\"items\":[{\"sku\":\"A\",\"qty\":2},{\"sku\":\"X\",\"qty\":4},{\"sku\":\"X\",\"qty\":10}]}"},
        {ORDER,
         {"DOC.MIN", "$..qty", "2"},
         "array(3) [string \"1\", string \"2\", string \"2\"]",
         "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"X\",\"qty\":2},{\"sku\":\"X\",\"qty\":2}]}"},
        {ORDER,
         {"DOC.MAX", "$.items[0:2].qty", "2"},
         "array(2) [string \"2\", string \"2\"]",
         "{\"items\":[{\"sku\":\"A\",\"qty\":2},{\"sku\":\"X\",\"qty\":2},{\"sku\":\"X\",\"qty\":5}]}"},
        {ORDER,
         {"DOC.STRAPPEND", "$.items[0,2].sku", "!"},
         "array(2) [integer 2, integer 2]",
         "{\"items\":[{\"sku\":\"A!\",\"qty\":1},{\"sku\":\"X\",\"qty\":2},{\"sku\":\"X!\",\"qty\":5}]}"},
        {ORDER,
         {"DOC.SET", "$.items[*].qty", "0"},
         "array(3) [status \"OK\", status \"OK\", status \"OK\"]",
         "{\"items\":[{\"sku\":\"A\",\"qty\":0},{\"sku\":\"X\",\"qty\":0},{\"sku\":\"X\",\"qty\":0}]}"},
        /* NX at a match never holds (a match exists); XX always does */
        {ORDER, {"DOC.SET", "$.items[*].qty", "0", "NX"}, "array(3) [nil, nil, nil]", ORDER},
        {ORDER,
         {"DOC.SET", "$.items[1:].sku", "\"Y\"", "XX"},
         "array(2) [status \"OK\", status \"OK\"]",
         "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"Y\",\"qty\":2},{\"sku\":\"Y\",\"qty\":5}]}"},
        {ORDER,
         {"DOC.DEL", "$.items[?@.sku==\"X\"]"},
         "array(2) [integer 1, integer 1]",
         "{\"items\":[{\"sku\":\"A\",\"qty\":1}]}"},
        {"{\"f\":{\"a\":true,\"b\":false}}",
         {"DOC.TOGGLE", "$.f.*"},
         "array(2) [string \"false\", string \"true\"]",
         "{\"f\":{\"a\":false,\"b\":true}}"},
        /* CLEAR leaves strings alone, as with a single path (0) */
        {"{\"a\":[1],\"b\":{\"x\":1},\"c\":5,\"d\":\"s\"}",
         {"DOC.CLEAR", "$.*"},
         "array(4) [integer 1, integer 1, integer 1, integer 0]",
         "{\"a\":[],\"b\":{},\"c\":0,\"d\":\"s\"}"},
        {"{\"u\":[{\"n\":1},{\"n\":2}]}",
         {"DOC.MERGE", "$.u[*]", "{\"ok\":true,\"n\":null}"},
         "array(2) [status \"OK\", status \"OK\"]",
         "{\"u\":[{\"ok\":true},{\"ok\":true}]}"},
        {"{\"l\":[[1],[2,3]]}",
         {"DOC.PUSH", "$.l[*]", "9"},
         "array(2) [integer 2, integer 3]",
         "{\"l\":[[1,9],[2,3,9]]}"},
        {"{\"l\":[[1],[2,3]]}",
         {"DOC.PUSH", "$.l[*]", "AT", "0", "KEEP", "-2", "0"},
         "array(2) [integer 2, integer 2]",
         "{\"l\":[[0,1],[0,2]]}"},
        /* POP: nil for an empty array, as with a single path */
        {"{\"l\":[[1,2],[],[3]]}",
         {"DOC.POP", "$.l[*]"},
         "array(3) [string \"2\", nil, string \"3\"]",
         "{\"l\":[[1],[],[]]}"},
        {"{\"l\":[[1,2],[],[3]]}",
         {"DOC.POP", "$.l[*]", "FIRST"},
         "array(3) [string \"1\", nil, string \"3\"]",
         "{\"l\":[[2],[],[]]}"},
        {"{\"l\":[[1,2,1],[3],[1]]}",
         {"DOC.PULL", "$.l[*]", "1"},
         "array(3) [integer 2, integer 0, integer 1]",
         "{\"l\":[[2],[3],[]]}"},
        {"{\"l\":[[1,2,1],[3],[1]]}",
         {"DOC.PULL", "$.l[*]", "WHERE", "{\"$gt\":1}"},
         "array(3) [integer 1, integer 1, integer 0]",
         "{\"l\":[[1,1],[],[1]]}"},
        {"{\"l\":[[1],[2]]}",
         {"DOC.ADDTOSET", "$.l[*]", "1", "2"},
         "array(2) [integer 1, integer 1]",
         "{\"l\":[[1,2],[2,1]]}"},
        /* CAS: every match equals `expected`, so every match swaps */
        {"{\"s\":[{\"o\":null},{\"o\":null}]}",
         {"DOC.CAS", "$.s[*].o", "null", "\"al\""},
         "array(2) [integer 1, integer 1]",
         "{\"s\":[{\"o\":\"al\"},{\"o\":\"al\"}]}"},
        /* one match differs: no swap at all */
        {"{\"s\":[{\"o\":null},{\"o\":\"bo\"}]}",
         {"DOC.CAS", "$.s[*].o", "null", "\"al\""},
         "array(2) [integer 0, integer 0]",
         "{\"s\":[{\"o\":null},{\"o\":\"bo\"}]}"},
        /* ABSENT as expected never holds at a match */
        {"{\"s\":[{\"o\":null}]}",
         {"DOC.CAS", "$.s[*].o", "ABSENT", "1"},
         "array(1) [integer 0]",
         "{\"s\":[{\"o\":null}]}"},
        /* ABSENT as new removes every match */
        {"{\"s\":[{\"o\":1},{\"o\":1}]}",
         {"DOC.CAS", "$.s[*].o", "1", "ABSENT"},
         "array(2) [integer 1, integer 1]",
         "{\"s\":[{},{}]}"},
        /* INCR's bounds are per match: a match out of bounds is nil and stays */
        {ORDER,
         {"DOC.INCR", "$.items[*].qty", "-2", "MIN", "0"},
         "array(3) [nil, integer 0, integer 3]",
         "{\"items\":[{\"sku\":\"A\",\"qty\":1},{\"sku\":\"X\",\"qty\":0},{\"sku\":\"X\",\"qty\":3}]}"},
        /* a union naming one node twice writes it once, in document order */
        {"{\"a\":[1,2,3]}",
         {"DOC.INCR", "$.a[2,0,2]", "10"},
         "array(2) [integer 11, integer 13]",
         "{\"a\":[11,2,13]}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) run_row(c, "q", &rows[i]);
}

Test(query_writes, mset_sets_every_match_and_still_replies_ok) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"x\":[1,2]}"));
    expect_ok(cmd(c, "DOC.MSET a %s 0 b $ 1", "$.x[*]"));
    expect_str(cmd(c, "DOC.GET a"), "{\"x\":[0,0]}");
    expect_str(cmd(c, "DOC.GET b"), "1");
}

Test(query_writes, a_single_path_in_query_spelling_keeps_the_single_reply_and_creates_parents) {
    expect_ok(cmd(c, "DOC.SET k $ %s", ORDER));
    expect_int(cmd(c, "DOC.INCR k %s 1", "$['items'][1][\"qty\"]"), 3);
    expect_int(cmd(c, "DOC.INCR k %s 1", "$.new.deep"), 1);
    expect_int(cmd(c, "DOC.DEL k %s", "$.new"), 1);
    expect_int(cmd(c, "DOC.INCR fresh %s 1", "$.a.b"), 1);
    expect_str(cmd(c, "DOC.GET fresh"), "{\"a\":{\"b\":1}}");
}

/* The write commands with a query that matches nothing, all at once. */
static const char *const NONE[][6] = {
    {"DOC.SET", "$.none[*]", "1"},
    {"DOC.DEL", "$.none[*]"},
    {"DOC.INCR", "$..none", "1"},
    {"DOC.MUL", "$..none", "2"},
    {"DOC.MIN", "$..none", "1"},
    {"DOC.MAX", "$..none", "1"},
    {"DOC.STRAPPEND", "$..none", "x"},
    {"DOC.PUSH", "$..none", "1"},
    {"DOC.POP", "$..none"},
    {"DOC.PULL", "$..none", "1"},
    {"DOC.ADDTOSET", "$..none", "1"},
    {"DOC.TOGGLE", "$..none"},
    {"DOC.CLEAR", "$..none"},
    {"DOC.MERGE", "$..none", "{}"},
    {"DOC.CAS", "$..none", "1", "2"},
    {"DOC.INCR", "$.items[?@.qty > 100].qty", "1"},
};

Test(query_writes, no_match_replies_an_empty_array_and_changes_nothing_not_even_the_offset) {
    expect_ok(cmd(c, "DOC.SET k $ %s", ORDER));
    long long offset = srv_info_int(c, "replication", "master_repl_offset");
    for (size_t i = 0; i < sizeof NONE / sizeof NONE[0]; i++) {
        for (int missing = 0; missing < 2; missing++) {
            const char *argv[6];
            int argc = 0;
            argv[argc++] = NONE[i][0];
            argv[argc++] = missing ? "nokey" : "k";
            for (int j = 1; NONE[i][j]; j++) argv[argc++] = NONE[i][j];
            expect_array_len(cmdv(c, argc, argv, NULL), 0);
        }
    }
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    expect_int(cmd(c, "EXISTS nokey"), 0);
    char *text = doc_text(c, "k");
    cr_assert_str_eq(text, ORDER);
    free(text);
    cr_assert_eq(srv_info_int(c, "replication", "master_repl_offset"), offset,
                 "a write that matched nothing was replicated");
}

/* Runs rows [from, n) of fails ({command, path, args..., error prefix}, NULL
 * after the prefix) on key k: each must fail with its prefix and leave k as
 * `doc`, at version 1. */
static void expect_each_fails(redisContext *cc, const char *const (*fails)[5], size_t from, size_t n,
                              const char *doc) {
    for (size_t i = from; i < n; i++) {
        const char *argv[6];
        int argc = 0, j = 1;
        argv[argc++] = fails[i][0];
        argv[argc++] = "k";
        for (; fails[i][j + 1]; j++) argv[argc++] = fails[i][j];
        expect_err_prefix(cmdv(cc, argc, argv, NULL), fails[i][j]);
    }
    char *text = doc_text(cc, "k");
    cr_assert_str_eq(text, doc);
    free(text);
    expect_int(cmd(cc, "DOC.VERSION k"), 1);
}

Test(query_writes, a_failure_at_one_match_changes_no_match_and_no_version) {
    static const char *const fails[][5] = {
        {"DOC.INCR", "$.l[*]", "1", "BADTYPE"},  {"DOC.INCR", "$.big[*]", "1", "OVERFLOW"},
        {"DOC.MUL", "$.l[*]", "2", "BADTYPE"},   {"DOC.PUSH", "$..*", "1", "BADTYPE"},
        {"DOC.TOGGLE", "$.flags[*]", "BADTYPE"}, {"DOC.STRAPPEND", "$.l[*]", "x", "BADTYPE"},
        {"DOC.MIN", "$.l[*]", "0", "BADTYPE"},   {"DOC.POP", "$..*", "BADTYPE"},
        {"DOC.PULL", "$..*", "1", "BADTYPE"},    {"DOC.ADDTOSET", "$..*", "1", "BADTYPE"},
    };
    const char *doc = "{\"l\":[1,2,\"x\",4],\"big\":[1,9223372036854775807],\"flags\":[true,1]}";
    expect_ok(cmd(c, "DOC.SET k $ %s", doc));
    expect_each_fails(c, fails, 0, sizeof fails / sizeof fails[0], doc);
}

Test(query_writes, copies_of_the_values_for_every_match_are_bounded_by_max_document_size) {
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-document-size 1024"));
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}"));
    char big[300];
    memset(big, 'x', sizeof big);
    big[0] = big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    /* 20 matches x a 298-byte string: past 1 KB of copies */
    redisReply *r = cmd(c, "DOC.SET k %s %s", "$.l[*]", big);
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(!strncmp(r->str, "TOOBIG 20 matches x ", 20), "%s", r->str);
    freeReplyObject(r);
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    /* 3 matches fit */
    expect_array_len(cmd(c, "DOC.SET k %s %s", "$.l[0:3]", big), 3);
    expect_int(cmd(c, "DOC.VERSION k"), 2);
}

Test(query_writes, the_version_moves_once_per_command_whatever_the_number_of_matches) {
    expect_ok(cmd(c, "DOC.SET k $ %s", ORDER));
    expect_array_len(cmd(c, "DOC.INCR k %s 1", "$..qty"), 3);
    expect_int(cmd(c, "DOC.VERSION k"), 2);
    /* matches whose writes change nothing do not move it */
    expect_array_len(cmd(c, "DOC.INCR k %s 0", "$..qty"), 3);
    expect_array_len(cmd(c, "DOC.MAX k %s 0", "$..qty"), 3);
    expect_int(cmd(c, "DOC.VERSION k"), 2);
}

Test(query_writes, nested_matches_are_written_deepest_first_and_replied_in_document_order) {
    /* DEL: each match is removed (inner ones first), each counts */
    row del = {"{\"a\":{\"a\":{\"a\":1}},\"b\":2}",
               {"DOC.DEL", "$..a"},
               "array(3) [integer 1, integer 1, integer 1]",
               "{\"b\":2}"};
    run_row(c, "n", &del);
    /* SET: the outer write replaces what the inner ones did */
    row set = {"{\"a\":{\"a\":{\"a\":1}}}",
               {"DOC.SET", "$..a", "{\"v\":1}"},
               "array(3) [status \"OK\", status \"OK\", status \"OK\"]",
               "{\"a\":{\"v\":1}}"};
    run_row(c, "n", &set);
    /* CLEAR: the inner number is zeroed, then each container emptied */
    row clear = {"{\"a\":{\"a\":{\"a\":1}}}",
                 {"DOC.CLEAR", "$..a"},
                 "array(3) [integer 1, integer 1, integer 1]",
                 "{\"a\":{}}"};
    run_row(c, "n", &clear);
    /* POP: the outer pop removes the element the inner pop already shortened */
    row pop = {"{\"a\":[1,{\"a\":[2,3]}]}",
               {"DOC.POP", "$..a"},
               "array(2) [string \"{\\\"a\\\":[2]}\", string \"3\"]",
               "{\"a\":[1]}"};
    run_row(c, "n", &pop);
    /* PUSH: each array gets the value, the inner one first */
    row push = {"{\"a\":[{\"a\":[]}]}",
                {"DOC.PUSH", "$..a", "0"},
                "array(2) [integer 2, integer 1]",
                "{\"a\":[{\"a\":[0]},0]}"};
    run_row(c, "n", &push);
    /* CAS compares every match on the document as it was: the outer match
     * differs from `expected` (the inner removal would have made it equal) */
    row cas = {"{\"p\":{\"t\":1,\"q\":{\"t\":1}}}",
               {"DOC.CAS", "$..[?@.t==1]", "{\"t\":1}", "ABSENT"},
               "array(2) [integer 0, integer 0]",
               "{\"p\":{\"t\":1,\"q\":{\"t\":1}}}"};
    run_row(c, "n", &cas);
}

Test(query_writes, txn_ops_take_query_paths_and_a_later_failure_undoes_every_match) {
    expect_ok(cmd(c, "DOC.MSET a $ %s b $ %s", "{\"l\":[1,2]}", "{\"x\":[{\"v\":0},{\"v\":0}]}"));
    long long va = doc_version(c, "a"), vb = doc_version(c, "b");
    redisReply *r = cmd(c, "DOC.TXN 2 a b INCR 1 %s 1 SET 2 %s true GET 1 $", "$.l[*]", "$.x[*].v");
    char got[512];
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    cr_assert_str_eq(got,
                     "array(3) [array(2) [integer 2, integer 3], array(2) [status \"OK\", status \"OK\"], "
                     "string \"{\\\"l\\\":[2,3]}\"]");
    cr_assert_eq(doc_version(c, "a"), va + 1);
    cr_assert_eq(doc_version(c, "b"), vb + 1);
    r = cmd(c, "DOC.TXN 2 a b DEL 2 %s INCR 1 %s 1 CHECK 1 $.l[0] EQ 100", "$.x[*]", "$.l[*]");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strstr(r->str, "ABORTED op 3"), "%s", r->str);
    freeReplyObject(r);
    expect_str(cmd(c, "DOC.GET a"), "{\"l\":[2,3]}");
    expect_str(cmd(c, "DOC.GET b"), "{\"x\":[{\"v\":true},{\"v\":true}]}");
    cr_assert_eq(doc_version(c, "a"), va + 1);
    cr_assert_eq(doc_version(c, "b"), vb + 1);
}

Test(query_writes, a_malformed_query_is_badpath_and_single_path_hints_stay) {
    expect_ok(cmd(c, "DOC.SET k $ %s", ORDER));
    redisReply *r = cmd(c, "DOC.INCR k %s 1", "$.items[?@.qty >");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(!strncmp(r->str, "BADPATH", 7) && strstr(r->str, "at character"), "%s", r->str);
    cr_assert(!strstr(r->str, "not supported"), "%s", r->str);
    freeReplyObject(r);
    r = cmd(c, "DOC.SET k %s 1", "$.a.0");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strstr(r->str, "cannot start with a digit"), "%s", r->str);
    freeReplyObject(r);
    /* INDEXOF (a read of one array) and CHECK take single paths */
    expect_err_prefix(cmd(c, "DOC.INDEXOF k %s 1", "$.items[*]"), "BADPATH");
    expect_err_prefix(cmd(c, "DOC.TXN 1 k CHECK 1 %s EQ 1", "$..qty"), "ABORTED");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

/* No AOF rewrite running or scheduled (a replica with an AOF rewrites it after
 * its sync, and refuses to shut down meanwhile). */
static bool no_aof_rewrite(void *cc) {
    return srv_info_int(cc, "persistence", "aof_rewrite_in_progress") == 0 &&
           srv_info_int(cc, "persistence", "aof_rewrite_scheduled") == 0;
}

/* A workload of query writes (nested, bounded, failing, in a TXN). */
static void query_workload(redisContext *cc) {
    expect_ok(
        cmd(cc, "DOC.SET w:1 $ %s",
            "{\"items\":[{\"sku\":\"A\",\"qty\":1,\"tags\":[\"x\"]},{\"sku\":\"X\",\"qty\":2,\"tags\":[]},"
            "{\"sku\":\"X\",\"qty\":5,\"tags\":[\"x\",\"y\"]}],\"a\":{\"a\":{\"a\":[1.5]}}}"));
    freeReplyObject(cmd(cc, "DOC.INCR w:1 %s -1", "$.items[?@.sku==\"X\"].qty"));
    freeReplyObject(cmd(cc, "DOC.INCR w:1 %s -2 MIN 0", "$..qty"));
    freeReplyObject(cmd(cc, "DOC.MUL w:1 %s 1.5", "$..a[0]"));
    freeReplyObject(cmd(cc, "DOC.PUSH w:1 %s %s", "$.items[*].tags", "\"z\""));
    freeReplyObject(cmd(cc, "DOC.PULL w:1 %s WHERE %s", "$..tags", "{\"$eq\":\"x\"}"));
    freeReplyObject(cmd(cc, "DOC.ADDTOSET w:1 %s %s", "$..tags", "\"y\""));
    freeReplyObject(cmd(cc, "DOC.POP w:1 %s FIRST", "$..tags"));
    freeReplyObject(cmd(cc, "DOC.INCR w:1 %s 1", "$.items[*].sku")); /* fails: nothing */
    freeReplyObject(cmd(cc, "DOC.SET w:1 %s %s", "$..a", "{\"v\":[1]}"));
    freeReplyObject(cmd(cc, "DOC.STRAPPEND w:1 %s -", "$.items[*].sku"));
    freeReplyObject(cmd(cc, "DOC.MERGE w:1 %s %s", "$.items[1:]", "{\"m\":true}"));
    freeReplyObject(cmd(cc, "DOC.TOGGLE w:1 %s", "$..m"));
    freeReplyObject(cmd(cc, "DOC.CAS w:1 %s false true", "$..m"));
    freeReplyObject(cmd(cc, "DOC.DEL w:1 %s", "$.items[?@.qty == 0]"));
    freeReplyObject(cmd(cc, "DOC.SET w:2 $ %s", "{\"n\":[1,2,3]}"));
    freeReplyObject(cmd(cc, "DOC.TXN 2 w:1 w:2 CLEAR 1 %s INCR 2 %s 3", "$.items[*].tags", "$.n[*]"));
    freeReplyObject(cmd(cc, "DOC.SET w:2 %s 0 EX 1000", "$.n[?@ > 4]"));
}

Test(query_writes, a_replica_and_an_aof_replay_end_identical, .timeout = 60) {
    suite_stop();
    srv *p = srv_start(&(srv_opts){.aof = true});
    srv *rep = srv_start_replica(p);
    redisContext *pc = srv_connect(p), *rc = srv_connect(rep);
    query_workload(pc);
    srv_wait_replica_synced(p, rep);
    char *pd = srv_digest(pc), *rd = srv_digest(rc);
    cr_expect_str_eq(pd, rd, "DEBUG DIGEST of primary and replica differ");
    const char *keys[] = {"w:1", "w:2"};
    char *texts[2];
    long long versions[2];
    for (int i = 0; i < 2; i++) {
        texts[i] = doc_text(pc, keys[i]);
        versions[i] = doc_version(pc, keys[i]);
        char *t = doc_text(rc, keys[i]);
        cr_expect_str_eq(t, texts[i], "%s on the replica", keys[i]);
        free(t);
        cr_expect_eq(doc_version(rc, keys[i]), versions[i], "%s version on the replica", keys[i]);
    }
    cr_assert(wait_until(no_aof_rewrite, rc, 20000), "the replica's AOF rewrite did not finish");
    redisFree(rc);
    srv_stop(rep);
    /* The AOF replays the same commands to the same bytes and versions. */
    redisFree(pc);
    srv_kill(p);
    srv_restart(p);
    pc = srv_connect(p);
    char *ad = srv_digest(pc);
    cr_expect_str_eq(ad, pd, "DEBUG DIGEST after the AOF replay differs");
    for (int i = 0; i < 2; i++) {
        char *t = doc_text(pc, keys[i]);
        cr_expect_str_eq(t, texts[i], "%s after the AOF replay", keys[i]);
        free(t);
        cr_expect_eq(doc_version(pc, keys[i]), versions[i], "%s version after the AOF replay", keys[i]);
        free(texts[i]);
    }
    free(pd);
    free(rd);
    free(ad);
    redisFree(pc);
    srv_stop(p);
}

/* ---- many elements of one array: one rewrite (README "Writes at query
 * paths", Cost) must equal one single-path write per element ---- */

/* One case: a document {"l": [...]}, a command at a query path, and the
 * indexes of "l" it matches (document order), so the reference can run the
 * single-path command at $.l[i] for each, last first, as op_each_match does. */
typedef struct elem_case {
    const char *list;    /* the array "l" */
    const char *args[5]; /* command, query path, then its other arguments (NULL-ended) */
    int idx[16];         /* matched indexes, document order, -1 ends */
} elem_case;

/* Runs the query form on key q and, on key ref, the single path at every
 * match last first; the documents and each reply slot must be the same. */
static void compare_with_single_paths(const elem_case *e) {
    char doc[512];
    snprintf(doc, sizeof doc, "{\"l\":%s}", e->list);
    expect_ok(cmd(c, "DOC.SET q $ %s", doc));
    expect_ok(cmd(c, "DOC.SET ref $ %s", doc));
    const char *argv[8];
    int argc = 0;
    argv[argc++] = e->args[0];
    argv[argc++] = "q";
    for (int i = 1; i < 5 && e->args[i]; i++) argv[argc++] = e->args[i];
    redisReply *r = cmdv(c, argc, argv, NULL);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s %s on %s", e->args[0], e->args[1], e->list);
    size_t n = 0;
    while (n < 16 && e->idx[n] >= 0) n++;
    cr_assert_eq(r->elements, n, "%s %s on %s: matches", e->args[0], e->args[1], e->list);
    for (size_t k = n; k-- > 0;) {
        char path[32], want[256], got[256];
        snprintf(path, sizeof path, "$.l[%d]", e->idx[k]);
        argv[1] = "ref";
        argv[2] = path;
        redisReply *one = cmdv(c, argc, argv, NULL);
        reply_describe(one, want, sizeof want);
        reply_describe(r->element[k], got, sizeof got);
        freeReplyObject(one);
        cr_expect_str_eq(got, want, "%s %s on %s: slot %zu", e->args[0], e->args[1], e->list, k);
    }
    freeReplyObject(r);
    char *a = doc_text(c, "q"), *b = doc_text(c, "ref");
    cr_expect_str_eq(a, b, "%s %s on %s: document after", e->args[0], e->args[1], e->list);
    free(a);
    free(b);
}

Test(query_writes, writes_to_many_elements_of_one_array_equal_a_single_path_write_at_each) {
    static const char *const NUMS = "[1,200,70000,-5,3.5,127,128,0,9223372036854775806]";
    static const char *const MIXED =
        "[1,{\"a\":1},\"s\",[2,3],null,true,4.5,{\"b\":[1]},\"long string here\"]";
    const elem_case cases[] = {
        {NUMS, {"DOC.SET", "$.l[*]", "\"xx\""}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {NUMS, {"DOC.SET", "$.l[*]", "{\"a\":[1,2]}"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {NUMS, {"DOC.SET", "$.l[?@>100]", "7"}, {1, 2, 5, 6, 8, -1}},
        {NUMS, {"DOC.SET", "$.l[*]", "1", "XX"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {NUMS, {"DOC.SET", "$.l[*]", "1", "NX"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {NUMS, {"DOC.INCR", "$.l[0:8]", "1000"}, {0, 1, 2, 3, 4, 5, 6, 7, -1}},
        {NUMS, {"DOC.INCR", "$.l[0:8]", "-100", "MIN", "0"}, {0, 1, 2, 3, 4, 5, 6, 7, -1}},
        {NUMS, {"DOC.MUL", "$.l[0:8]", "-3"}, {0, 1, 2, 3, 4, 5, 6, 7, -1}},
        {NUMS, {"DOC.MIN", "$.l[*]", "100"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {NUMS, {"DOC.MAX", "$.l[*]", "100.5"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {NUMS, {"DOC.CLEAR", "$.l[*]"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {NUMS, {"DOC.DEL", "$.l[?@<128]"}, {0, 3, 4, 5, 7, -1}},
        {NUMS, {"DOC.DEL", "$.l[*]"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {NUMS, {"DOC.CAS", "$.l[?@==128]", "128", "\"x\""}, {6, -1}},
        /* widths kept throughout (written in place), then kept until 110 -> 140 */
        {"[5,6,1000,1001,1002]", {"DOC.INCR", "$.l[*]", "100"}, {0, 1, 2, 3, 4, -1}},
        {"[1,2,100,110,1000,1001]", {"DOC.INCR", "$.l[*]", "30"}, {0, 1, 2, 3, 4, 5, -1}},
        {"[\"a\",\"\",\"ccc\",\"d\"]", {"DOC.STRAPPEND", "$.l[*]", "-tail-"}, {0, 1, 2, 3, -1}},
        {"[true,false,true]", {"DOC.TOGGLE", "$.l[*]"}, {0, 1, 2, -1}},
        {MIXED, {"DOC.SET", "$.l[*]", "0"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {MIXED, {"DOC.SET", "$.l[1,3,5]", "\"a longer string than before\""}, {1, 3, 5, -1}},
        {MIXED, {"DOC.DEL", "$.l[0,2,4,5,6,8]"}, {0, 2, 4, 5, 6, 8, -1}},
        {MIXED, {"DOC.DEL", "$.l[1,3,7]"}, {1, 3, 7, -1}},
        {MIXED, {"DOC.CLEAR", "$.l[*]"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {MIXED, {"DOC.CAS", "$.l[?@.a==1]", "{\"a\":1}", "ABSENT"}, {1, -1}},
        /* ops that edit inside containers: containers per match, scalars on the stage */
        {MIXED, {"DOC.MERGE", "$.l[*]", "{\"m\":{\"n\":null,\"o\":2}}"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, -1}},
        {"[[1],[2,3],[]]", {"DOC.PUSH", "$.l[*]", "9"}, {0, 1, 2, -1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) compare_with_single_paths(&cases[i]);
}

Test(query_writes, an_error_at_one_element_of_many_changes_no_element_and_no_version) {
    /* 100 integers with a string at 40 (INCR, STRAPPEND), an overflow at 70 */
    char doc[2048];
    size_t at = (size_t)snprintf(doc, sizeof doc, "{\"l\":[");
    for (int i = 0; i < 100; i++)
        at += (size_t)snprintf(doc + at, sizeof doc - at, "%s%s", i ? "," : "",
                               i == 40   ? "\"s\""
                               : i == 70 ? "9223372036854775807"
                                         : "1");
    snprintf(doc + at, sizeof doc - at, "],\"m\":[[1,2],[3,\"x\"],[5,6]]}");
    expect_ok(cmd(c, "DOC.SET k $ %s", doc));
    expect_int(cmd(c, "DOC.INDEXOF k $.l 1"), 0); /* builds the value hash */
    static const char *const fails[][5] = {
        {"DOC.INCR", "$.l[0:40]", "1", "OVERFLOW"}, /* no overflow there: nothing fails... */
        {"DOC.INCR", "$.l[*]", "1", "OVERFLOW"},    /* index 70 is visited before 40 */
        {"DOC.INCR", "$.l[0:69]", "1", "BADTYPE"},  {"DOC.STRAPPEND", "$.l[*]", "x", "BADTYPE"},
        {"DOC.TOGGLE", "$.l[*]", "BADTYPE"},        {"DOC.INCR", "$.m[*][*]", "1", "BADTYPE"},
        {"DOC.MIN", "$.l[*]", "\"a\"", "BADTYPE"},
    };
    expect_each_fails(c, fails, 1, sizeof fails / sizeof fails[0], doc);
    /* widths kept (1001, 1000: on the document), then changed (100 -> 130),
     * then a string: all of it undone */
    expect_ok(cmd(c, "DOC.SET k2 $ %s", "[1,\"s\",100,1000,1001]"));
    expect_err_prefix(cmd(c, "DOC.INCR k2 %s 30", "$[*]"), "BADTYPE");
    expect_str(cmd(c, "DOC.GET k2"), "[1,\"s\",100,1000,1001]");
    expect_int(cmd(c, "DOC.VERSION k2"), 2);
    /* the hash still answers for what is there */
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"s\""), 40);
    /* a TXN whose later op fails undoes a rewrite that removed elements
     * and kept containers */
    redisReply *r = cmd(c, "DOC.TXN 1 k DEL 1 %s INCR 1 %s 1 CHECK 1 $.l[0] EQ 100", "$.m[*][?@==2 || @==5]",
                        "$.l[0:10]");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strstr(r->str, "ABORTED op 3"), "%s", r->str);
    freeReplyObject(r);
    char *text = doc_text(c, "k");
    cr_assert_str_eq(text, doc);
    free(text);
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

Test(query_writes, nested_arrays_are_written_one_array_at_a_time) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"m\":[[1,2,3],[4,\"x\",6],[]],\"n\":{\"l\":[7,[8,9],10]}}"));
    expect_array_len(cmd(c, "DOC.SET k %s %s", "$.m[*][*]", "\"xx\""), 6);
    expect_str(cmd(c, "DOC.GET k $.m"), "[[\"xx\",\"xx\",\"xx\"],[\"xx\",\"xx\",\"xx\"],[]]");
    /* `..` reaches elements at two levels: the inner array first */
    expect_array_len(cmd(c, "DOC.INCR k %s 100", "$.n..[?@>7]"), 3);
    expect_str(cmd(c, "DOC.GET k $.n"), "{\"l\":[7,[108,109],110]}");
    expect_array_len(cmd(c, "DOC.DEL k %s", "$..[?@>100]"), 3);
    expect_str(cmd(c, "DOC.GET k $.n"), "{\"l\":[7,[]]}");
    /* every element and the arrays inside: deepest first, each slot kept */
    redisReply *r = cmd(c, "DOC.DEL k %s", "$.m..*");
    char got[256];
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    cr_assert_str_eq(got,
                     "array(9) [integer 1, integer 1, integer 1, integer 1, integer 1, integer 1, integer 1, "
                     "integer 1, integer 1]");
    expect_str(cmd(c, "DOC.GET k $.m"), "[]");
}

Test(query_writes, the_value_hash_of_a_large_array_is_right_after_a_write_to_many_elements) {
    char doc[4096];
    size_t at = (size_t)snprintf(doc, sizeof doc, "{\"l\":[");
    for (int i = 0; i < 100; i++)
        at += (size_t)snprintf(doc + at, sizeof doc - at, "%s\"s%d\"", i ? "," : "", i);
    snprintf(doc + at, sizeof doc - at, "]}");
    expect_ok(cmd(c, "DOC.SET k $ %s", doc));
    expect_int(cmd(c, "DOC.ADDTOSET k $.l %s", "\"s5\""), 0); /* builds the hash */
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"s7\""), 7);
    /* size-changing replacements */
    expect_array_len(cmd(c, "DOC.SET k %s %s", "$.l[?@==\"s5\" || @==\"s7\"]", "\"a new value\""), 2);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"a new value\""), 5);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"s7\""), -1);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"s99\""), 99);
    /* same-size replacements (in place) */
    expect_array_len(cmd(c, "DOC.SET k %s %s", "$.l[10,20]", "\"t10\""), 2);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"t10\""), 10);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"s20\""), -1);
    /* removals shift what follows */
    expect_array_len(cmd(c, "DOC.DEL k %s", "$.l[0:50:2]"), 25);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"s99\""), 74);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"s1\""), 0);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"a new value\""), 2); /* 5, less 0, 2 and 4 */
    expect_int(cmd(c, "DOC.ADDTOSET k $.l %s", "\"s0\""), 1);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"s0\""), 75);
    expect_int(cmd(c, "DOC.LEN k $.l"), 76);
}

Test(query_writes, a_write_to_every_element_of_80000_is_one_command_with_80000_slots, .timeout = 120) {
    /* 80,000 integers; the timing is scripts/bench/query_writes.py's */
    size_t cap = 80000 * 8 + 64, at = 0;
    char *doc = malloc(cap);
    cr_assert(doc);
    at += (size_t)snprintf(doc + at, cap - at, "{\"l\":[");
    for (int i = 0; i < 80000; i++)
        at += (size_t)snprintf(doc + at, cap - at, "%s%d", i ? "," : "", i % 2 ? i : -1);
    snprintf(doc + at, cap - at, "]}");
    expect_ok(cmd(c, "DOC.SET k $ %s", doc));
    free(doc);
    expect_int(cmd(c, "DOC.INDEXOF k $.l 79999"), 79999);
    expect_array_len(cmd(c, "DOC.SET k %s %s", "$.l[*]", "\"xx\""), 80000);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"xx\""), 0);
    expect_str(cmd(c, "DOC.GET k $.l[79999]"), "\"xx\"");
    expect_int(cmd(c, "DOC.VERSION k"), 2);
    /* every other element removed: 40,000 left, in order */
    expect_array_len(cmd(c, "DOC.SET k %s %s", "$.l[1::2]", "7"), 40000);
    expect_array_len(cmd(c, "DOC.DEL k %s", "$.l[?@==\"xx\"]"), 40000);
    expect_int(cmd(c, "DOC.LEN k $.l"), 40000);
    expect_int(cmd(c, "DOC.INDEXOF k $.l %s", "\"xx\""), -1);
    expect_array_len(cmd(c, "DOC.INCR k %s 1000000", "$.l[*]"), 40000);
    expect_str(cmd(c, "DOC.GET k $.l[39999]"), "1000007");
    expect_int(cmd(c, "DOC.VERSION k"), 5);
}

Test(query_writes, set_with_a_ttl_at_many_elements_sets_it_once) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"l\":[1,2,3]}"));
    expect_array_len(cmd(c, "DOC.SET k %s %s EX 100", "$.l[*]", "\"xx\""), 3);
    redisReply *r = cmd(c, "TTL k");
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    cr_assert(r->integer > 0 && r->integer <= 100, "%lld", r->integer);
    freeReplyObject(r);
    expect_str(cmd(c, "DOC.GET k"), "{\"l\":[\"xx\",\"xx\",\"xx\"]}");
}

/* A MERGE at every element of an array: the scalars go to the stage and are
 * written by one rewrite that keeps the object element shared; the merge into
 * that object then grows it (it moves in memory). A later failing op of the
 * TXN rolls it all back: the object must be found where it is now. */
Test(query_writes, a_rolled_back_merge_at_every_element_restores_the_containers_it_grew) {
    const char *doc = "{\"l\":[{\"a\":3},\"$\",2]}";
    expect_ok(cmd(c, "DOC.SET k $ %s", doc));
    redisReply *r = cmd(c, "DOC.TXN 1 k MERGE 1 %s %s CHECK 1 $.nope EQ 1", "$.l[*]", "{\"a\":{\"x\":1}}");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_assert(strstr(r->str, "ABORTED op 2"), "%s", r->str);
    freeReplyObject(r);
    char *text = doc_text(c, "k");
    cr_assert_str_eq(text, doc);
    free(text);
    expect_array_len(cmd(c, "DOC.MERGE k %s %s", "$.l[*]", "{\"a\":{\"x\":1}}"), 3);
    text = doc_text(c, "k");
    cr_assert_str_eq(text, "{\"l\":[{\"a\":{\"x\":1}},{\"a\":{\"x\":1}},{\"a\":{\"x\":1}}]}");
    free(text);
}
