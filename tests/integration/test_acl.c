/*
 * test_acl.c - ACL key permissions: every command, and every kind of DOC.TXN op,
 * declares exactly what it does to its keys. A read-only user (%R~) may run what
 * only reads; a write-only user (%W~) may run what only writes and reveals nothing
 * of the document (no value, no comparison), as Redis's own INCR, GETDEL and LPOP
 * refuse such a user; a user without the key may run nothing. The real replies
 * agree with ACL DRYRUN, which reads the same key specs and key-position answers.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

SRV_SUITE(acl);

/* What a command needs on its keys: read (it reveals data), write, or both. */
enum { NEEDS_READ = 1, NEEDS_WRITE = 2, NEEDS_BOTH = 3 };

static const struct {
    const char *command; /* hiredis format without %: arguments split at spaces */
    int needs;           /* NEEDS_* */
} rows[] = {
    {"DOC.GET doc:1", NEEDS_READ},
    {"DOC.GET doc:1 WITHVERSION $.n", NEEDS_READ},
    {"DOC.MGET doc:1 doc:2 $", NEEDS_READ},
    {"DOC.TYPE doc:1 $.l", NEEDS_READ},
    {"DOC.LEN doc:1 $.l", NEEDS_READ},
    {"DOC.KEYS doc:1", NEEDS_READ},
    {"DOC.VERSION doc:1", NEEDS_READ},
    {"DOC.INDEXOF doc:1 $.l 2", NEEDS_READ},
    {"DOC.TXN 1 doc:1 GET 1 $", NEEDS_READ},
    {"DOC.TXN 1 doc:1 CHECK 1 $.n GE 0", NEEDS_READ},
    {"DOC.TXN 1 doc:1 CHECK 1 VERSION 1", NEEDS_READ},
    {"DOC.TXN 2 doc:1 doc:2 TYPE 1 $ LEN 1 $.l VERSION 2 KEYS 1 $ INDEXOF 1 $.l 1", NEEDS_READ},

    {"DOC.SET doc:1 $.a 1", NEEDS_WRITE},
    {"DOC.SET doc:1 $.a 1 NX", NEEDS_WRITE},
    {"DOC.MSET doc:1 $.a 1 doc:2 $ 2", NEEDS_WRITE},
    {"DOC.DEL doc:1 $.a", NEEDS_WRITE},
    {"DOC.DEL doc:1", NEEDS_WRITE},
    {"DOC.STRAPPEND doc:1 $.s x", NEEDS_WRITE},
    {"DOC.PUSH doc:1 $.l 5", NEEDS_WRITE},
    {"DOC.PUSH doc:1 $.l KEEP 2 5", NEEDS_WRITE},
    {"DOC.PULL doc:1 $.l 1", NEEDS_WRITE},
    {"DOC.PULL doc:1 $.l WHERE {\"$gt\":1}", NEEDS_WRITE},
    {"DOC.ADDTOSET doc:1 $.l 9", NEEDS_WRITE},
    {"DOC.CLEAR doc:1 $.l", NEEDS_WRITE},
    {"DOC.MERGE doc:1 $ {\"z\":1}", NEEDS_WRITE},
    {"DOC.UPDATE doc:1 {\"$set\":{\"a\":1}}", NEEDS_WRITE},
    {"DOC.UPDATE doc:1 {\"$set\":{\"a\":1}} UPSERT", NEEDS_WRITE},
    {"DOC.UPDATE doc:1 {\"$set\":{\"l.$[x]\":1}} ARRAYFILTERS [{\"x\":2}]", NEEDS_WRITE},
    {"DOC.TXN 1 doc:1 SET 1 $.a 1", NEEDS_WRITE},
    /* query paths change nothing here: what the op does decides */
    {"DOC.SET doc:1 $.l[*] 0", NEEDS_WRITE},
    {"DOC.DEL doc:1 $.l[?@>1]", NEEDS_WRITE},
    {"DOC.PUSH doc:1 $..l 5", NEEDS_WRITE},
    {"DOC.TXN 1 doc:1 CLEAR 1 $.*", NEEDS_WRITE},
    {"DOC.TXN 2 doc:1 doc:2 PUSH 1 $.l 1 DEL 1 $.a MERGE 2 $ 5 UPDATE 1 {\"$inc\":{\"n\":1}}", NEEDS_WRITE},

    {"DOC.INCR doc:1 $.n 1", NEEDS_BOTH},
    {"DOC.INCR doc:1 $.n 1 MAX 5", NEEDS_BOTH},
    {"DOC.INCR doc:1 $.l[*] 1", NEEDS_BOTH},
    {"DOC.CAS doc:1 $..n 1 2", NEEDS_BOTH},
    {"DOC.TXN 1 doc:1 POP 1 $.l[0:1]", NEEDS_BOTH},
    {"DOC.MUL doc:1 $.n 2", NEEDS_BOTH},
    {"DOC.MIN doc:1 $.n 0", NEEDS_BOTH},
    {"DOC.MAX doc:1 $.n 9", NEEDS_BOTH},
    {"DOC.POP doc:1 $.l", NEEDS_BOTH},
    {"DOC.TOGGLE doc:1 $.b", NEEDS_BOTH},
    {"DOC.CAS doc:1 $.n 1 2", NEEDS_BOTH},
    {"DOC.CAS doc:1 $.owner ABSENT \"w1\"", NEEDS_BOTH},
    {"DOC.UPDATE doc:1 {\"$set\":{\"a\":1}} IF {\"n\":1}", NEEDS_BOTH},
    {"DOC.UPDATE doc:1 {\"$set\":{\"a\":1}} RETURN AFTER", NEEDS_BOTH},
    {"DOC.UPDATE doc:1 {\"$set\":{\"a\":1}} UPSERT RETURN BEFORE", NEEDS_BOTH},
    {"DOC.TXN 1 doc:1 INCR 1 $.n 1", NEEDS_BOTH},
    {"DOC.TXN 1 doc:1 CHECK 1 $.n GE 0 SET 1 $.a 1", NEEDS_BOTH},
    {"DOC.TXN 1 doc:1 UPDATE 1 {\"$inc\":{\"n\":1}} RETURN BEFORE", NEEDS_BOTH},
    {"DOC.TXN 1 doc:1 POP 1 $.l FIRST", NEEDS_BOTH},
    {"DOC.TXN 1 doc:1 CAS 1 $.n 1 2", NEEDS_BOTH},
    /* one key read, the other written: each user lacks one of the two */
    {"DOC.TXN 2 doc:1 doc:2 GET 1 $ SET 2 $ 1", NEEDS_BOTH},
    /* a malformed TXN asks for everything (it fails anyway) */
    {"DOC.TXN 1 doc:1 NOSUCHOP 1 $", NEEDS_BOTH},
};

static const char *users[] = {"reader", "writer", "nobody"};

/* Whether `user` may run a command that needs `needs`. */
static bool allowed(const char *user, int needs) {
    if (!strcmp(user, "reader")) return !(needs & NEEDS_WRITE);
    if (!strcmp(user, "writer")) return !(needs & NEEDS_READ);
    return false;
}

static void reset_data(void) {
    expect_ok(cmd(c, "FLUSHALL"));
    expect_ok(cmd(c, "DOC.SET doc:1 $ %s", "{\"n\":1,\"l\":[1,2,3],\"s\":\"a\",\"b\":true,\"a\":0}"));
    expect_ok(cmd(c, "DOC.SET doc:2 $ 1"));
}

static bool is_noperm(const redisReply *r) {
    return r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOPERM", 6);
}

Test(acl, every_command_needs_exactly_the_key_permissions_its_reply_and_effect_need) {
    expect_ok(cmd(c, "ACL SETUSER reader on nopass +@all %s", "%R~doc:*"));
    expect_ok(cmd(c, "ACL SETUSER writer on nopass +@all %s", "%W~doc:*"));
    expect_ok(cmd(c, "ACL SETUSER nobody on nopass +@all ~other:*"));
    redisContext *as[3];
    for (int u = 0; u < 3; u++) {
        as[u] = srv_connect(s);
        expect_ok(cmd(as[u], "AUTH %s x", users[u]));
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (int u = 0; u < 3; u++) {
            bool want = allowed(users[u], rows[i].needs);
            char dry[512];
            snprintf(dry, sizeof dry, "ACL DRYRUN %s %s", users[u], rows[i].command);
            redisReply *d = cmd(c, dry);
            char got[256];
            reply_describe(d, got, sizeof got);
            bool dry_ok = d->type == REDIS_REPLY_STATUS && !strcmp(d->str, "OK");
            freeReplyObject(d);
            cr_expect_eq(dry_ok, want, "ACL DRYRUN %s %s: %s, expected %s", users[u], rows[i].command, got,
                         want ? "OK" : "a refusal");
            reset_data();
            redisReply *r = cmd(as[u], rows[i].command);
            reply_describe(r, got, sizeof got);
            cr_expect_eq(!is_noperm(r), want, "%s as %s: %s, expected %s", rows[i].command, users[u], got,
                         want ? "no NOPERM" : "NOPERM");
            freeReplyObject(r);
        }
    }
    for (int u = 0; u < 3; u++) redisFree(as[u]);
}

Test(acl, a_write_only_user_reads_nothing_through_txn_update_pop_incr_or_cas) {
    /* The defect: %W~ users got whole documents and values from these. */
    expect_ok(cmd(c, "ACL SETUSER writer on nopass +@all %s", "%W~doc:*"));
    reset_data();
    redisContext *w = srv_connect(s);
    expect_ok(cmd(w, "AUTH writer x"));
    expect_err_prefix(cmd(w, "DOC.TXN 1 doc:1 GET 1 $"), "NOPERM");
    expect_err_prefix(cmd(w, "DOC.UPDATE doc:1 %s RETURN BEFORE", "{\"$set\":{\"a\":1}}"), "NOPERM");
    expect_err_prefix(cmd(w, "DOC.POP doc:1 $.l"), "NOPERM");
    expect_err_prefix(cmd(w, "DOC.INCR doc:1 $.n 1"), "NOPERM");
    expect_err_prefix(cmd(w, "DOC.CAS doc:1 $.n 1 2"), "NOPERM");
    /* as for Redis's own commands that return what they change */
    expect_err_prefix(cmd(w, "INCR doc:counter"), "NOPERM");
    expect_err_prefix(cmd(w, "GETDEL doc:str"), "NOPERM");
    /* and it still writes */
    expect_int(cmd(w, "DOC.UPDATE doc:1 %s", "{\"$set\":{\"a\":1}}"), 1);
    expect_array_len(cmd(w, "DOC.TXN 1 doc:1 SET 1 $.a 2"), 1);
    expect_str(cmd(c, "DOC.GET doc:1 $.a"), "2");
    redisFree(w);
}

Test(acl, command_getkeysandflags_reports_what_each_txn_op_does_to_each_key) {
    redisReply *r = cmd(c, "COMMAND GETKEYSANDFLAGS DOC.TXN 2 a b GET 1 $ SET 2 $ 1");
    char got[512];
    reply_describe(r, got, sizeof got);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", got);
    cr_assert_eq(r->elements, 2, "%s", got);
    cr_expect(strstr(got, "\"a\"") && strstr(got, "RO") && strstr(got, "access"), "%s", got);
    cr_expect(strstr(got, "\"b\"") && strstr(got, "RW") && strstr(got, "update"), "%s", got);
    freeReplyObject(r);
}
