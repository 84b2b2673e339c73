/* test_lazyfree.c - large committed garbage (an old document or subtree a
 * write replaced or deleted) is freed on the module's background thread
 * (module/lazyfree.c), small garbage at commit, and with
 * `atomicdoc.lazyfree no` everything at commit as before.
 *
 * Memory is checked through INFO atomicdoc: memory_bytes (bytes of live and
 * not yet freed nodes), lazyfree_pending_objects, lazyfreed_objects. Every
 * wait polls with a deadline (wait_until).
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Bytes a small document may keep after a big member came and went: its
 * node's grown capacity (nodes never shrink in place). */
#define SLACK 256

static long long adoc_info(redisContext *c, const char *field) {
    char name[64];
    snprintf(name, sizeof name, "atomicdoc_%s", field);
    return srv_info_int(c, "atomicdoc", name);
}

/* An array of n objects, malloc'd: ~60 bytes of JSON, 2 nodes each. */
static char *big_array(int n, int tag) {
    size_t cap = (size_t)n * 80 + 16, len = 0;
    char *t = malloc(cap);
    cr_assert(t);
    t[len++] = '[';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len, "%s{\"i\":%d,\"t\":%d,\"tags\":[\"a\",\"b\"]}",
                                i ? "," : "", i, tag);
    t[len++] = ']';
    t[len] = 0;
    return t;
}

/* Arguments of the polls below. */
typedef struct mem_wait {
    redisContext *c;
    long long at_most; /* memory_bytes to reach */
    long long freed;   /* lazyfreed_objects to reach */
} mem_wait;

static bool memory_back(void *arg) {
    mem_wait *w = arg;
    return adoc_info(w->c, "lazyfree_pending_objects") == 0 &&
           adoc_info(w->c, "memory_bytes") <= w->at_most && adoc_info(w->c, "lazyfreed_objects") >= w->freed;
}

Test(lazyfree, replacing_a_big_document_frees_the_old_tree_in_the_background, .timeout = 60) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    cr_assert_str_eq(srv_info_field(c, "atomicdoc", "atomicdoc_lazyfree"), "yes");
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"b\":1}"));
    long long small = adoc_info(c, "memory_bytes");
    char *big = big_array(20000, 1);
    expect_ok(cmd(c, "DOC.SET k $ %s", big));
    cr_assert_gt(adoc_info(c, "memory_bytes"), small + (1 << 20));
    long long freed = adoc_info(c, "lazyfreed_objects");

    /* The whole document replaced: one tree to the thread. */
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"b\":1}"));
    expect_str(cmd(c, "DOC.GET k"), "{\"b\":1}");
    mem_wait w = {c, small, freed + 1};
    cr_assert(wait_until(memory_back, &w, 20000), "memory_bytes %lld (want %lld), lazyfreed_objects %lld",
              adoc_info(c, "memory_bytes"), small, adoc_info(c, "lazyfreed_objects"));

    /* A big subtree deleted (DOC.DEL at a path), then one replaced by DOC.SET.
     * The root node keeps the capacity it grew to (nodes never shrink): a
     * few bytes of slack. */
    w.at_most = small + SLACK;
    expect_ok(cmd(c, "DOC.SET k $.a %s", big));
    expect_int(cmd(c, "DOC.DEL k $.a"), 1);
    w.freed = freed + 2;
    cr_assert(wait_until(memory_back, &w, 20000), "after DOC.DEL of a subtree: memory_bytes %lld, want %lld",
              adoc_info(c, "memory_bytes"), small);
    expect_ok(cmd(c, "DOC.SET k $.a %s", big));
    expect_ok(cmd(c, "DOC.SET k $.a %s", "0"));
    expect_int(cmd(c, "DOC.DEL k $.a"), 1);
    w.freed = freed + 3;
    cr_assert(wait_until(memory_back, &w, 20000), "after DOC.SET over a subtree");

    /* A TXN that replaces the subtree and commits. */
    expect_ok(cmd(c, "DOC.SET k $.a %s", big));
    expect_array_len(cmd(c, "DOC.TXN 1 k SET 1 $.a %s DEL 1 $.a", "[1]"), 2);
    w.freed = freed + 4;
    cr_assert(wait_until(memory_back, &w, 20000), "after a TXN");
    expect_str(cmd(c, "DOC.GET k"), "{\"b\":1}");
    free(big);
    redisFree(c);
    srv_stop(s);
}

Test(lazyfree, small_garbage_is_freed_at_commit) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"b\":1}"));
    /* One round first: the root node grows to hold $.a once, for good. */
    expect_ok(cmd(c, "DOC.SET k $.a %s", "{\"x\":[1,2,{\"y\":3}],\"z\":{}}"));
    expect_int(cmd(c, "DOC.DEL k $.a"), 1);
    long long small = adoc_info(c, "memory_bytes");
    long long freed = adoc_info(c, "lazyfreed_objects");
    for (int i = 0; i < 50; i++) {
        expect_ok(cmd(c, "DOC.SET k $.a %s", "{\"x\":[1,2,{\"y\":3}],\"z\":{}}"));
        expect_int(cmd(c, "DOC.DEL k $.a"), 1);
        /* No wait: freed before the reply. */
        cr_assert_eq(adoc_info(c, "memory_bytes"), small, "round %d", i);
    }
    cr_assert_eq(adoc_info(c, "lazyfreed_objects"), freed, "small trees went to the thread");
    redisFree(c);
    srv_stop(s);
}

Test(lazyfree, config_no_frees_everything_before_the_reply, .timeout = 60) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "CONFIG SET atomicdoc.lazyfree no"));
    redisReply *r = cmd(c, "CONFIG GET atomicdoc.lazyfree");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    cr_assert_str_eq(r->element[1]->str, "no");
    freeReplyObject(r);
    cr_assert_str_eq(srv_info_field(c, "atomicdoc", "atomicdoc_lazyfree"), "no");
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"b\":1}"));
    long long small = adoc_info(c, "memory_bytes");
    long long freed = adoc_info(c, "lazyfreed_objects");
    char *big = big_array(20000, 1);
    for (int i = 0; i < 3; i++) {
        expect_ok(cmd(c, "DOC.SET k $ %s", big));
        expect_ok(cmd(c, "DOC.SET k $ %s", "{\"b\":1}"));
        cr_assert_eq(adoc_info(c, "memory_bytes"), small, "round %d: freed after the reply", i);
    }
    cr_assert_eq(adoc_info(c, "lazyfreed_objects"), freed);
    /* And back on. */
    expect_ok(cmd(c, "CONFIG SET atomicdoc.lazyfree yes"));
    expect_ok(cmd(c, "DOC.SET k $ %s", big));
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"b\":1}"));
    mem_wait w = {c, small, freed + 1};
    cr_assert(wait_until(memory_back, &w, 20000), "lazyfree yes again");
    expect_err_prefix(cmd(c, "CONFIG SET atomicdoc.lazyfree maybe"), "ERR");
    free(big);
    redisFree(c);
    srv_stop(s);
}

/* ---- many clients on the same keys ---- */

#define WRITERS 4
#define READERS 4
#define ROUNDS 60
#define BIG_N 3000

typedef struct client {
    redisContext *conn; /* made on the main thread */
    int id;             /* writers 0..WRITERS-1, then readers */
    const char *big;    /* the big subtree's JSON */
    char err[256];      /* first thing that went wrong, or empty */
} client;

static void client_fail(client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void client_fail(client *cl, const char *fmt, ...) {
    if (cl->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cl->err, sizeof cl->err, fmt, ap);
    va_end(ap);
}

static void *writer(void *arg) {
    client *cl = arg;
    for (int i = 0; i < ROUNDS && !cl->err[0]; i++) {
        const char *key = (i + cl->id) % 2 ? "k1" : "k0";
        redisReply *r;
        switch (i % 3) {
        case 0:
            r = redisCommand(cl->conn, "DOC.SET %s $.big %s", key, cl->big);
            if (!r || r->type != REDIS_REPLY_STATUS)
                client_fail(cl, "SET $.big: %s", r ? r->str : "no reply");
            break;
        case 1:
            r = redisCommand(cl->conn, "DOC.DEL %s $.big", key);
            if (!r || r->type != REDIS_REPLY_INTEGER)
                client_fail(cl, "DEL $.big: %s", r ? r->str : "no reply");
            break;
        default:
            r = redisCommand(cl->conn, "DOC.TXN 1 %s SET 1 $.big %s SET 1 $.big [0]", key, cl->big);
            if (!r || r->type != REDIS_REPLY_ARRAY) client_fail(cl, "TXN: %s", r ? r->str : "no reply");
        }
        if (r) freeReplyObject(r);
    }
    return NULL;
}

static void *reader(void *arg) {
    client *cl = arg;
    for (int i = 0; i < ROUNDS * 3 && !cl->err[0]; i++) {
        const char *key = i % 2 ? "k1" : "k0";
        redisReply *r = redisCommand(cl->conn, "DOC.GET %s $.keep", key);
        if (!r || r->type != REDIS_REPLY_STRING || strcmp(r->str, "\"stays\""))
            client_fail(cl, "GET $.keep: %s", r && r->str ? r->str : "no reply");
        if (r) freeReplyObject(r);
        /* $.big is missing, [0], or the whole big array: never anything else. */
        r = redisCommand(cl->conn, "DOC.LEN %s $.big", key);
        if (!r)
            client_fail(cl, "LEN: no reply");
        else if (r->type == REDIS_REPLY_INTEGER && r->integer != 1 && r->integer != BIG_N)
            client_fail(cl, "LEN $.big: %lld", r->integer);
        else if (r->type != REDIS_REPLY_INTEGER && r->type != REDIS_REPLY_NIL &&
                 !(r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOPATH", 6)))
            client_fail(cl, "LEN $.big: type %d %s", r->type, r->str ? r->str : "");
        if (r) freeReplyObject(r);
    }
    return NULL;
}

Test(lazyfree, many_clients_replace_and_delete_big_subtrees_while_others_read, .timeout = 180) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET k0 $ %s", "{\"keep\":\"stays\"}"));
    expect_ok(cmd(c, "DOC.SET k1 $ %s", "{\"keep\":\"stays\"}"));
    long long base = adoc_info(c, "memory_bytes");
    long long freed = adoc_info(c, "lazyfreed_objects");
    char *big = big_array(BIG_N, 2);
    client cl[WRITERS + READERS];
    pthread_t th[WRITERS + READERS];
    for (int i = 0; i < WRITERS + READERS; i++) {
        cl[i] = (client){srv_connect(s), i, big, ""};
        cr_assert_eq(pthread_create(&th[i], NULL, i < WRITERS ? writer : reader, &cl[i]), 0);
    }
    for (int i = 0; i < WRITERS + READERS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < WRITERS + READERS; i++) {
        cr_assert_eq(cl[i].err[0], 0, "client %d: %s", i, cl[i].err);
        redisFree(cl[i].conn);
    }
    cr_assert_gt(adoc_info(c, "lazyfreed_objects"), freed, "no tree went to the thread");
    /* Both documents back to their small selves: memory back to the baseline. */
    for (int k = 0; k < 2; k++) {
        redisReply *r = cmd(c, "DOC.DEL k%d $.big", k);
        cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
        expect_str(cmd(c, "DOC.GET k%d", k), "{\"keep\":\"stays\"}");
    }
    mem_wait w = {c, base + SLACK, 0};
    cr_assert(wait_until(memory_back, &w, 30000), "memory_bytes %lld, baseline %lld, pending %lld",
              adoc_info(c, "memory_bytes"), base, adoc_info(c, "lazyfree_pending_objects"));
    free(big);
    redisFree(c);
    srv_stop(s);
}

/* A forked child (BGSAVE) saves while the thread frees: the RDB has what
 * the documents hold, the child does not wait for the thread. */
typedef struct bg_wait {
    redisContext *c;
} bg_wait;

static bool bgsave_done(void *arg) {
    bg_wait *w = arg;
    return srv_info_int(w->c, "persistence", "rdb_bgsave_in_progress") == 0;
}

Test(lazyfree, bgsave_while_the_thread_frees_saves_the_current_documents, .timeout = 120) {
    srv *s = srv_start(NULL);
    redisContext *c = srv_connect(s);
    /* Two texts: a SET of the text a document already holds changes nothing. */
    char *big = big_array(20000, 3), *other = big_array(20000, 5);
    for (int k = 0; k < 4; k++) expect_ok(cmd(c, "DOC.SET d%d $ {\"n\":%d,\"big\":%s}", k, k, big));
    long long freed = adoc_info(c, "lazyfreed_objects");
    for (int round = 0; round < 3; round++) {
        /* Queue old trees, fork at once, queue more while the child runs. */
        for (int k = 0; k < 4; k++) expect_ok(cmd(c, "DOC.SET d%d $.big %s", k, other));
        redisReply *r = cmd(c, "BGSAVE");
        cr_assert(r->type == REDIS_REPLY_STATUS, "BGSAVE: %s", r->str);
        freeReplyObject(r);
        for (int k = 0; k < 4; k++) expect_ok(cmd(c, "DOC.SET d%d $.big %s", k, big));
        bg_wait bw = {c};
        cr_assert(wait_until(bgsave_done, &bw, 60000), "BGSAVE never finished");
        char *st = srv_info_field(c, "persistence", "rdb_last_bgsave_status");
        cr_assert_str_eq(st, "ok");
        free(st);
    }
    expect_ok(cmd(c, "DEBUG RELOAD")); /* loads the RDB just saved */
    for (int k = 0; k < 4; k++) {
        char n[16];
        snprintf(n, sizeof n, "%d", k);
        expect_str(cmd(c, "DOC.GET d%d $.n", k), n);
        expect_int(cmd(c, "DOC.LEN d%d $.big", k), 20000);
    }
    /* 24 trees replaced, each queued whole (DEBUG RELOAD frees the keys
     * through Redis, not through us). */
    mem_wait w = {c, 1LL << 62, freed + 24};
    cr_assert(wait_until(memory_back, &w, 30000), "lazyfreed_objects %lld, want %lld",
              adoc_info(c, "lazyfreed_objects"), freed + 24);
    free(big);
    free(other);
    redisFree(c);
    srv_stop(s);
}

static bool same_memory(void *arg) {
    redisContext **cs = arg;
    return adoc_info(cs[0], "lazyfree_pending_objects") == 0 &&
           adoc_info(cs[1], "lazyfree_pending_objects") == 0 &&
           adoc_info(cs[0], "memory_bytes") == adoc_info(cs[1], "memory_bytes");
}

Test(lazyfree, a_replica_frees_replaced_trees_in_its_background_too, .timeout = 120) {
    srv *p = srv_start(NULL);
    redisContext *pc = srv_connect(p);
    srv *r = srv_start_replica(p);
    redisContext *rc = srv_connect(r);
    char *big = big_array(20000, 4);
    long long rfreed = adoc_info(rc, "lazyfreed_objects");
    for (int i = 0; i < 5; i++) {
        expect_ok(cmd(pc, "DOC.SET k $ {\"i\":%d,\"big\":%s}", i, big));
        expect_ok(cmd(pc, "DOC.SET k $.big %s", "[]"));
    }
    srv_wait_replica_synced(p, r);
    expect_str(cmd(rc, "DOC.GET k"), "{\"i\":4,\"big\":[]}");
    char *dp = srv_digest(pc), *dr = srv_digest(rc);
    cr_assert_str_eq(dr, dp);
    free(dp);
    free(dr);
    redisContext *cs[2] = {pc, rc};
    cr_assert(wait_until(same_memory, cs, 30000), "memory_bytes primary %lld, replica %lld",
              adoc_info(pc, "memory_bytes"), adoc_info(rc, "memory_bytes"));
    cr_assert_geq(adoc_info(rc, "lazyfreed_objects"), rfreed + 5, "the replica freed on its thread");
    free(big);
    redisFree(rc);
    redisFree(pc);
    srv_stop(r);
    srv_stop(p);
}
