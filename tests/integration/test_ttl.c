/* test_ttl.c - time to live (issue 10, section 6): DOC.SET's EX, PX, EXAT, PXAT and
 * KEEPTTL as SET has them, DOC.UPDATE ... UPSERT's EX/PX/EXAT/PXAT for the document
 * it creates, a root DOC.SET clearing a TTL (unless KEEPTTL) while a path DOC.SET
 * keeps it, SET's refusals of bad times, and replicas and the AOF expiring a key at
 * the same absolute instant as the primary (PEXPIRETIME equal): a relative EX / PX
 * reaches them as PXAT.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

SRV_SUITE(ttl);

static long long now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static long long integer_of(redisContext *on, const char *command, const char *key) {
    redisReply *r = cmd(on, "%s %s", command, key);
    char got[128];
    reply_describe(r, got, sizeof got);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "%s %s: %s", command, key, got);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}
#define pttl(on, key) integer_of((on), "PTTL", (key))
#define pexpiretime(on, key) integer_of((on), "PEXPIRETIME", (key))

Test(ttl, ex_px_exat_and_pxat_set_the_ttl_of_the_document) {
    long long t0 = now_ms();
    expect_ok(cmd(c, "DOC.SET a $ %s EX 100", "{\"x\":1}"));
    long long left = pttl(c, "a");
    cr_expect(left > 99000 && left <= 100000, "EX 100: PTTL %lld", left);
    expect_ok(cmd(c, "DOC.SET b $ 1 PX 5000"));
    left = pttl(c, "b");
    cr_expect(left > 4000 && left <= 5000, "PX 5000: PTTL %lld", left);
    long long at = (t0 / 1000 + 1000) * 1000;
    expect_ok(cmd(c, "DOC.SET e $ 1 EXAT %lld", at / 1000));
    cr_expect_eq(pexpiretime(c, "e"), at, "EXAT: PEXPIRETIME");
    expect_ok(cmd(c, "DOC.SET p $ 1 PXAT %lld", t0 + 123456));
    cr_expect_eq(pexpiretime(c, "p"), t0 + 123456, "PXAT: PEXPIRETIME");
    /* options in any order, with NX / XX */
    expect_ok(cmd(c, "DOC.SET q $ 1 EX 50 NX"));
    expect_nil(cmd(c, "DOC.SET q $ 2 NX EX 9")); /* not met: the TTL stays */
    left = pttl(c, "q");
    cr_expect(left > 49000, "a DOC.SET whose NX was not met changed the TTL: %lld", left);
    /* a TTL on a path write is the key's TTL; the document is still written */
    expect_ok(cmd(c, "DOC.SET r $.a.b 1 PX 70000"));
    expect_str(cmd(c, "DOC.GET r"), "{\"a\":{\"b\":1}}");
    cr_expect(pttl(c, "r") > 60000, "PX on a path write");
    /* the key really expires */
    /* (PTTL, not EXISTS: on a busy machine 30 ms may pass before the next command,
     * and the key be gone already: -2) */
    expect_ok(cmd(c, "DOC.SET gone $ 1 PX 30"));
    left = pttl(c, "gone");
    cr_expect(left == -2 || (left >= 0 && left <= 30), "PX 30: PTTL %lld", left);
    long long deadline = now_ms() + 5000;
    int exists = 1;
    while (exists && now_ms() < deadline) {
        redisReply *r = cmd(c, "EXISTS gone");
        exists = (int)r->integer;
        freeReplyObject(r);
    }
    cr_expect_eq(exists, 0, "PX 30 did not expire the key within 5 s");
}

Test(ttl, a_root_set_clears_the_ttl_unless_keepttl_and_a_path_set_keeps_it) {
    expect_ok(cmd(c, "DOC.SET k $ %s EX 100", "{\"a\":1}"));
    long long at = pexpiretime(c, "k");
    /* a write below the root edits the document: the TTL stays */
    expect_ok(cmd(c, "DOC.SET k $.a 2"));
    expect_int(cmd(c, "DOC.INCR k $.a 1"), 3);
    cr_expect_eq(pexpiretime(c, "k"), at, "a path write changed the TTL");
    /* KEEPTTL: the root is replaced, the TTL stays */
    expect_ok(cmd(c, "DOC.SET k $ %s KEEPTTL", "{\"b\":1}"));
    cr_expect_eq(pexpiretime(c, "k"), at, "KEEPTTL");
    /* a root write without it clears the TTL, as SET does, even when the text is the same
     * (the version does not move: the document did not change) */
    expect_int(cmd(c, "DOC.VERSION k"), 4);
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"b\":1}"));
    expect_int(cmd(c, "PTTL k"), -1);
    expect_int(cmd(c, "DOC.VERSION k"), 4);
    /* a TTL set again, then a root write with a new one */
    expect_ok(cmd(c, "DOC.SET k $ %s EX 100", "{\"b\":1}"));
    expect_ok(cmd(c, "DOC.SET k $ %s PX 2000", "{\"c\":1}"));
    cr_expect(pttl(c, "k") <= 2000, "the second TTL wins");
    /* inside a DOC.TXN the last op that says something wins */
    expect_array_len(cmd(c, "DOC.TXN 1 k SET 1 $ %s EX 500 SET 1 $.x 2 KEEPTTL", "{}"), 2);
    cr_expect(pttl(c, "k") > 400000, "TXN SET EX then a path SET");
    expect_array_len(cmd(c, "DOC.TXN 1 k SET 1 $ 1 EX 500 SET 1 $ 2"), 2);
    expect_int(cmd(c, "PTTL k"), -1);
    /* DOC.MSET's root writes are root writes */
    expect_ok(cmd(c, "DOC.SET m $ 1 EX 500"));
    expect_ok(cmd(c, "DOC.SET n $ %s EX 500", "{}"));
    expect_ok(cmd(c, "DOC.MSET m $ 2 n $.x 3"));
    expect_int(cmd(c, "PTTL m"), -1);
    cr_expect(pttl(c, "n") > 400000, "DOC.MSET path write kept the TTL");
    /* deleted and created again in one TXN: the new document starts without a TTL */
    expect_ok(cmd(c, "DOC.SET k $ 1 EX 500"));
    expect_array_len(cmd(c, "DOC.TXN 1 k DEL 1 $ SET 1 $ 2"), 2);
    expect_int(cmd(c, "PTTL k"), -1);
}

Test(ttl, bad_expire_times_are_refused_as_set_refuses_them_and_change_nothing) {
    static const char *const bad[][2] = {
        {"EX", "0"},
        {"EX", "-1"},
        {"PX", "0"},
        {"PX", "-5"},
        {"EXAT", "0"},
        {"PXAT", "-1"},
        {"EX", "9223372036854775807"},
        {"EX", "9223372036854776"},
        {"PX", "9223372036854775807"},
    };
    expect_ok(cmd(c, "DOC.SET k $ 1"));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        redisReply *r = cmd(c, "DOC.SET k $ 2 %s %s", bad[i][0], bad[i][1]);
        char got[256];
        reply_describe(r, got, sizeof got);
        cr_expect(r->type == REDIS_REPLY_ERROR &&
                      !strcmp(r->str, "SYNTAX invalid expire time in 'doc.set' command"),
                  "%s %s: %s", bad[i][0], bad[i][1], got);
        freeReplyObject(r);
        /* SET refuses the same */
        r = cmd(c, "SET plain x %s %s", bad[i][0], bad[i][1]);
        cr_expect(r->type == REDIS_REPLY_ERROR && strstr(r->str, "invalid expire time"), "SET %s %s",
                  bad[i][0], bad[i][1]);
        freeReplyObject(r);
    }
    expect_err_prefix(cmd(c, "DOC.SET k $ 2 EX ten"), "SYNTAX");
    expect_err_prefix(cmd(c, "DOC.SET k $ 2 EX"), "SYNTAX");
    expect_err_prefix(cmd(c, "DOC.SET k $ 2 EX 10 PX 10"), "SYNTAX");
    expect_err_prefix(cmd(c, "DOC.SET k $ 2 EX 10 KEEPTTL"), "SYNTAX");
    expect_err_prefix(cmd(c, "DOC.MSET k $ 2 EX 10"), "ERR"); /* MSET takes triples only */
    expect_str(cmd(c, "DOC.GET k"), "1");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    expect_int(cmd(c, "PTTL k"), -1);
    expect_int(cmd(c, "EXISTS plain"), 0);
}

Test(ttl, an_upsert_gives_its_ttl_to_the_document_it_creates_only) {
    expect_int(cmd(c, "DOC.UPDATE s %s UPSERT EX 100", "{\"$inc\":{\"n\":1}}"), 1);
    long long at = pexpiretime(c, "s");
    cr_expect(at > now_ms() + 90000, "UPSERT EX 100 on a missing key: PEXPIRETIME %lld", at);
    /* it exists now: an update leaves the TTL as it is */
    expect_int(cmd(c, "DOC.UPDATE s %s UPSERT EX 5", "{\"$inc\":{\"n\":1}}"), 1);
    cr_expect_eq(pexpiretime(c, "s"), at, "an upsert that updated changed the TTL");
    expect_str(cmd(c, "DOC.GET s"), "{\"n\":2}");
    /* nor does it add one to a document without */
    expect_ok(cmd(c, "DOC.SET t $ %s", "{}"));
    expect_int(cmd(c, "DOC.UPDATE t %s UPSERT PX 5000", "{\"$set\":{\"a\":1}}"), 1);
    expect_int(cmd(c, "PTTL t"), -1);
    /* an upsert whose IF fails on a missing key still creates: with its TTL */
    expect_int(cmd(c, "DOC.UPDATE u %s IF %s UPSERT PXAT %lld", "{\"$set\":{\"a\":1}}", "{\"id\":7}",
                   now_ms() + 60000),
               1);
    cr_expect(pttl(c, "u") > 50000, "UPSERT PXAT");
    /* inside a TXN */
    expect_array_len(cmd(c, "DOC.TXN 1 w UPDATE 1 %s UPSERT EX 100", "{\"$set\":{\"a\":1}}"), 1);
    cr_expect(pttl(c, "w") > 90000, "TXN UPDATE UPSERT EX");
}

/* hiredis: send a command on `on` without waiting for its reply. */
static void send_only(redisContext *on, const char *command) {
    cr_assert_eq(redisAppendCommand(on, command), REDIS_OK);
    int done = 0;
    while (!done) cr_assert_eq(redisBufferWrite(on, &done), REDIS_OK);
}

static void expect_same_expiry(redisContext *p, redisContext *r, const char *key) {
    long long ap = pexpiretime(p, key), ar = pexpiretime(r, key);
    cr_expect(ap > 0, "%s has no expiry on the primary", key);
    cr_expect_eq(ar, ap, "%s: the replica's PEXPIRETIME %lld differs from the primary's %lld", key, ar, ap);
}

Test(ttl, a_replica_expires_the_document_at_the_same_absolute_time) {
    srv *r = srv_start_replica(s);
    redisContext *rc = srv_connect(r), *rc_sleep = srv_connect(r);
    expect_ok(cmd(c, "DOC.SET u $ %s EX 1000", "{\"a\":1}"));
    /* the replica sleeps while the primary runs the relative commands: a replica that
     * computed its own expiry from EX / PX would land at least 200 ms later */
    send_only(rc_sleep, "DEBUG SLEEP 0.2");
    expect_ok(cmd(c, "DOC.SET a $ %s EX 1000", "{\"a\":1}"));
    expect_nil(cmd(c, "DOC.SET b $.x 1 PX 900000 XX")); /* b missing: XX not met */
    expect_ok(cmd(c, "DOC.SET b $.x 1 PX 900000"));
    expect_int(cmd(c, "DOC.UPDATE d %s UPSERT EX 1000", "{\"$set\":{\"a\":1}}"), 1);
    expect_array_len(cmd(c, "DOC.TXN 2 e f SET 1 $ 1 PX 800000 SET 2 $ 2 EX 700"), 2);
    expect_ok(cmd(c, "DOC.SET u $ %s", "{\"a\":1}")); /* same text: the TTL goes */
    redisReply *slept;
    cr_assert_eq(redisGetReply(rc_sleep, (void **)&slept), REDIS_OK);
    freeReplyObject(slept);
    srv_wait_replica_synced(s, r);
    expect_same_expiry(c, rc, "a");
    expect_same_expiry(c, rc, "b");
    expect_same_expiry(c, rc, "d");
    expect_same_expiry(c, rc, "e");
    expect_same_expiry(c, rc, "f");
    expect_int(cmd(rc, "PTTL u"), -1);
    expect_str(cmd(rc, "DOC.GET b"), "{\"x\":1}");
    redisFree(rc_sleep);
    redisFree(rc);
    srv_stop(r);
}

Test(ttl, an_aof_restart_expires_the_document_at_the_same_absolute_time) {
    suite_stop();
    s = srv_start(&(srv_opts){.aof = true});
    c = srv_connect(s);
    expect_ok(cmd(c, "DOC.SET a $ %s EX 1000", "{\"a\":1}"));
    expect_int(cmd(c, "DOC.UPDATE b %s UPSERT PX 900000", "{\"$set\":{\"a\":1}}"), 1);
    expect_array_len(cmd(c, "DOC.TXN 1 t SET 1 $ 1 EX 800"), 1);
    long long a = pexpiretime(c, "a"), b = pexpiretime(c, "b"), t = pexpiretime(c, "t");
    redisFree(c);
    srv_restart(s); /* loads the AOF: the commands are replayed */
    c = srv_connect(s);
    cr_expect_eq(pexpiretime(c, "a"), a, "a after the AOF replay");
    cr_expect_eq(pexpiretime(c, "b"), b, "b after the AOF replay");
    cr_expect_eq(pexpiretime(c, "t"), t, "t after the AOF replay");
    expect_str(cmd(c, "DOC.GET a"), "{\"a\":1}");
    /* and after a rewrite (Redis writes PEXPIREAT after our DOC.AOFLOAD) */
    redisReply *r = cmd(c, "BGREWRITEAOF");
    freeReplyObject(r);
    long long deadline = now_ms() + 10000;
    for (;;) {
        char *v = srv_info_field(c, "persistence", "aof_rewrite_in_progress");
        char *w = srv_info_field(c, "persistence", "aof_rewrite_scheduled");
        bool busy = (v && strcmp(v, "0")) || (w && strcmp(w, "0"));
        free(v);
        free(w);
        if (!busy) break;
        cr_assert(now_ms() < deadline, "BGREWRITEAOF did not finish within 10 s");
        usleep(10000);
    }
    redisFree(c);
    srv_restart(s);
    c = srv_connect(s);
    cr_expect_eq(pexpiretime(c, "a"), a, "a after a rewrite and restart");
    cr_expect_eq(pexpiretime(c, "t"), t, "t after a rewrite and restart");
}
