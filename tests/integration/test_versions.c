/*
 * test_versions.c - a version never repeats for a key: a document created after a
 * delete (DOC.DEL, DEL, expiry, FLUSHALL, a TXN that deletes and re-creates) gets a
 * version above every version the server gave before, on the primary, its replica,
 * after restarts from the RDB or the AOF (with and without the RDB preamble),
 * DEBUG RELOAD and RESTORE. So a client holding an old version (CHECK VERSION) can
 * never overwrite a newer document by mistake (the ABA problem).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

SRV_SUITE(versions);

static bool key_gone(void *arg) {
    redisReply *r = cmd((redisContext *)arg, "EXISTS v");
    bool gone = r->type == REDIS_REPLY_INTEGER && r->integer == 0;
    freeReplyObject(r);
    return gone;
}

static bool rewrite_done(void *arg) {
    redisContext *ctx = arg;
    return srv_info_int(ctx, "persistence", "aof_rewrite_in_progress") == 0 &&
           srv_info_int(ctx, "persistence", "aof_rewrite_scheduled") == 0;
}

static long long version_on(redisContext *ctx, const char *key) {
    redisReply *r = cmd(ctx, "DOC.VERSION %s", key);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "DOC.VERSION %s", key);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

Test(versions, a_recreated_document_never_shows_a_version_of_the_deleted_one) {
    expect_ok(cmd(c, "DOC.SET v $ %s", "{\"a\":1}"));
    long long held = version_on(c, "v"); /* a client reads this */
    cr_assert_eq(held, 1);
    expect_int(cmd(c, "DOC.DEL v"), 1);
    expect_ok(cmd(c, "DOC.SET v $ %s", "{\"a\":2}"));
    cr_assert_gt(version_on(c, "v"), held);
    /* the client's optimistic write with its old version is refused */
    expect_err_prefix(cmd(c, "DOC.TXN 1 v CHECK 1 VERSION %lld SET 1 $.a 9", held), "ABORTED");
    expect_str(cmd(c, "DOC.GET v"), "{\"a\":2}");
}

Test(versions, every_way_of_deleting_then_recreating_gives_a_higher_version) {
    long long last = 0;
    const char *deletes[] = {"DOC.DEL v", "DEL v",   "UNLINK v",
                             "FLUSHALL",  "FLUSHDB", "SET v string"}; /* overwritten by another type */
    for (size_t i = 0; i <= sizeof deletes / sizeof *deletes; i++) {
        expect_int(cmd(c, "EXISTS v"), 0);
        expect_ok(cmd(c, "DOC.SET v $ %s", "{\"n\":0}"));
        long long v = version_on(c, "v");
        cr_assert_gt(v, last, "re-created after %s: version %lld, not above %lld", i ? deletes[i - 1] : "-",
                     v, last);
        for (int j = 0; j < 3; j++) expect_int(cmd(c, "DOC.INCR v $.n 1"), j + 1);
        last = version_on(c, "v");
        if (i == sizeof deletes / sizeof *deletes) break;
        redisReply *r = cmd(c, deletes[i]);
        cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s", deletes[i]);
        freeReplyObject(r);
        if (!strcmp(deletes[i], "SET v string")) expect_int(cmd(c, "DEL v"), 1);
    }
    /* expiry */
    expect_ok(cmd(c, "DOC.SET v $ 1"));
    long long before = version_on(c, "v");
    expect_int(cmd(c, "PEXPIRE v 1"), 1);
    cr_assert(wait_until(key_gone, c, 5000), "the key did not expire");
    expect_ok(cmd(c, "DOC.SET v $ 2"));
    cr_assert_gt(version_on(c, "v"), before);
}

Test(versions, a_txn_that_deletes_and_recreates_a_key_moves_its_version_up) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    long long held = version_on(c, "k");
    redisReply *r = cmd(c, "DOC.TXN 1 k DEL 1 $ SET 1 $ %s", "{\"a\":2}");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    cr_assert_gt(version_on(c, "k"), held);
}

Test(versions, a_txn_that_creates_and_deletes_a_key_changes_nothing) {
    srv *r0 = srv_start_replica(s); /* so the primary keeps a replication offset */
    long long offset = srv_info_int(c, "replication", "master_repl_offset");
    redisReply *r = cmd(c, "DOC.TXN 1 tmp SET 1 $ %s DEL 1 $", "{\"a\":1}");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    expect_int(cmd(c, "EXISTS tmp"), 0);
    cr_assert_eq(srv_info_int(c, "replication", "master_repl_offset"), offset, "nothing to replicate");
    /* and no version was used up */
    expect_ok(cmd(c, "DOC.SET x $ 1"));
    cr_assert_eq(version_on(c, "x"), 1);
    srv_stop(r0);
}

/* Writes v, deletes it at a high version; returns that version. */
static long long write_then_delete(redisContext *ctx) {
    expect_ok(cmd(ctx, "DOC.SET v $ %s", "{\"n\":0}"));
    for (int j = 0; j < 20; j++) expect_int(cmd(ctx, "DOC.INCR v $.n 1"), j + 1);
    long long v = version_on(ctx, "v");
    expect_int(cmd(ctx, "DOC.DEL v"), 1);
    expect_ok(cmd(ctx, "DOC.SET keep $ 1")); /* so the dataset is not empty */
    return v;
}

static void expect_recreated_above(redisContext *ctx, long long old, const char *when) {
    expect_ok(cmd(ctx, "DOC.SET v $ %s", "{\"n\":0}"));
    long long now = version_on(ctx, "v");
    cr_assert_gt(now, old, "%s: the re-created document has version %lld, the deleted one had %lld", when,
                 now, old);
}

Test(versions, restarts_from_the_rdb_and_debug_reload_keep_the_floor) {
    long long old = write_then_delete(c);
    expect_ok(cmd(c, "DEBUG RELOAD"));
    expect_recreated_above(c, old, "after DEBUG RELOAD");
    expect_int(cmd(c, "DOC.DEL v"), 1);
    old = version_on(c, "keep") > old ? version_on(c, "keep") : old;
    redisFree(c);
    srv_restart(s);
    c = srv_connect(s);
    expect_recreated_above(c, old + 1, "after a restart from the RDB");
}

Test(versions, restarts_from_the_aof_keep_the_floor_with_and_without_the_rdb_preamble) {
    for (int preamble = 0; preamble < 2; preamble++) {
        srv *a = srv_start(&(srv_opts){
            .aof = true, .config = (const char *[]){"aof-use-rdb-preamble", preamble ? "yes" : "no", NULL}});
        redisContext *ac = srv_connect(a);
        long long old = write_then_delete(ac);
        /* the AOF tail alone */
        redisFree(ac);
        srv_restart(a);
        ac = srv_connect(a);
        expect_recreated_above(ac, old,
                               preamble ? "after an AOF replay" : "after an AOF replay (no preamble)");
        old = version_on(ac, "v");
        expect_int(cmd(ac, "DOC.DEL v"), 1);
        /* a rewrite, then a restart from it */
        cr_assert(wait_until(rewrite_done, ac, 20000), "an AOF rewrite never ended");
        redisReply *r = cmd(ac, "BGREWRITEAOF");
        freeReplyObject(r);
        cr_assert(wait_until(rewrite_done, ac, 30000), "the AOF rewrite did not finish");
        redisFree(ac);
        srv_restart(a);
        ac = srv_connect(a);
        expect_recreated_above(ac, old,
                               preamble ? "after BGREWRITEAOF (RDB preamble) and a restart"
                                        : "after BGREWRITEAOF (no preamble) and a restart");
        redisFree(ac);
        srv_stop(a);
    }
}

Test(versions, a_replica_gives_the_same_versions_and_keeps_the_floor_when_promoted) {
    long long old = write_then_delete(c); /* before the replica: it learns the floor by RDB */
    srv *r = srv_start_replica(s);
    redisContext *rc = srv_connect(r);
    expect_ok(cmd(c, "DOC.SET a $ 1"));
    expect_ok(cmd(c, "DOC.MSET b $ 1 v $ 2"));
    srv_wait_replica_synced(s, r);
    cr_assert_gt(version_on(c, "v"), old);
    cr_assert_eq(version_on(rc, "a"), version_on(c, "a"));
    cr_assert_eq(version_on(rc, "b"), version_on(c, "b"));
    cr_assert_eq(version_on(rc, "v"), version_on(c, "v"));
    old = version_on(c, "v");
    expect_int(cmd(c, "DOC.DEL v"), 1);
    srv_wait_replica_synced(s, r);
    /* promoted, the replica never gives the deleted document's version again */
    expect_ok(cmd(rc, "REPLICAOF NO ONE"));
    expect_recreated_above(rc, old, "on the promoted replica");
    redisFree(rc);
    srv_stop(r);
}

Test(versions, restore_keeps_the_dumped_version_and_raises_the_floor) {
    expect_ok(cmd(c, "DOC.SET src $ %s", "{\"n\":0}"));
    for (int j = 0; j < 10; j++) expect_int(cmd(c, "DOC.INCR src $.n 1"), j + 1);
    long long v = version_on(c, "src");
    redisReply *dump = cmd(c, "DUMP src");
    cr_assert_eq(dump->type, REDIS_REPLY_STRING);
    expect_ok(cmd(c, "FLUSHALL"));
    expect_ok(cmd(c, "RESTORE dst 0 %b", dump->str, dump->len));
    freeReplyObject(dump);
    cr_assert_eq(version_on(c, "dst"), v, "RESTORE keeps the version (the document moves)");
    expect_ok(cmd(c, "DOC.SET fresh $ 1"));
    cr_assert_gt(version_on(c, "fresh"), v);
}

Test(versions, txn_ops_that_cancel_out_change_nothing_and_send_nothing) {
    srv *r0 = srv_start_replica(s); /* so the primary keeps a replication offset */
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"n\":5,\"l\":[1]}"));
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"n\":0}"));
    long long va = version_on(c, "a"), vb = version_on(c, "b");
    long long offset = srv_info_int(c, "replication", "master_repl_offset");
    redisReply *r = cmd(c, "DOC.TXN 1 a INCR 1 $.n 1 INCR 1 $.n -1");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    cr_assert_eq(version_on(c, "a"), va, "INCR +1 then -1 moved the version");
    r = cmd(c, "DOC.TXN 1 a PUSH 1 $.l 2 POP 1 $.l");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    cr_assert_eq(version_on(c, "a"), va, "PUSH then POP moved the version");
    expect_ok(cmd(c, "DOC.MSET a $.n 6 a $.n 5"));
    cr_assert_eq(version_on(c, "a"), va, "a TXN / MSET whose ops cancel out moved the version");
    cr_assert_eq(srv_info_int(c, "replication", "master_repl_offset"), offset, "nothing to replicate");
    /* one key cancels out, the other changes: only the other moves */
    r = cmd(c, "DOC.TXN 2 a b INCR 1 $.n 1 INCR 1 $.n -1 INCR 2 $.n 1");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    cr_assert_eq(version_on(c, "a"), va);
    cr_assert_eq(version_on(c, "b"), vb + 1);
    /* 5 -> 5.0 is a change of the JSON text */
    r = cmd(c, "DOC.TXN 1 a INCR 1 $.n 1 INCR 1 $.n -1.0");
    freeReplyObject(r);
    cr_assert_eq(version_on(c, "a"), va + 1);
    srv_stop(r0);
}
