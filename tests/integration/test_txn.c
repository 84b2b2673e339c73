/* test_txn.c - DOC.TXN as applications use it: money moves between accounts under
 * contention and the total never changes; a debit and its outbox task land together
 * or not at all; optimistic writers with CHECK VERSION have exactly one winner; a hot
 * key shared by every TXN never aborts and never loses an increment; a TXN that fails
 * on its third op leaves both documents, their versions, a replica and the AOF
 * exactly as they were; keys are created and deleted inside a TXN; a key named twice
 * is one document; later ops see earlier ones; every op kind runs inside a TXN;
 * max-txn-ops; and malformed TXNs are refused whole with an error naming the op.
 *
 * Concurrency tests run real clients on pthreads, each with its own connections.
 * Worker threads never call cr_assert or the harness's failing helpers (they are
 * for the test's own thread): they record the first thing that went wrong in their
 * own struct, and the test asserts on it after joining them.
 *
 * Every test gets its own server (the suite fixture) so no test sees another's keys.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(txn);

/* ---- helpers for the test's thread ------------------------------------------- */

/* Fails unless `r` describes (reply_describe) exactly as `want`; frees r. */
static void expect_reply_at(int line, redisReply *r, const char *want) {
    char got[8192];
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    cr_assert_str_eq(got, want, "line %d: expected %s\n got %s", line, want, got);
}
#define expect_reply(r, want) expect_reply_at(__LINE__, (r), (want))

/* Fails unless `r` is an error starting with `prefix` and containing `part`
 * (NULL: anything); frees r. */
static void expect_err_text_at(int line, redisReply *r, const char *prefix, const char *part) {
    char got[2048];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, prefix, strlen(prefix)) &&
              (!part || strstr(r->str, part));
    freeReplyObject(r);
    cr_assert(ok, "line %d: expected an error starting \"%s\"%s%s%s, got %s", line, prefix,
              part ? " containing \"" : "", part ? part : "", part ? "\"" : "", got);
}
#define expect_err_text(r, prefix, part) expect_err_text_at(__LINE__, (r), (prefix), (part))

/* DOC.GET key (whole document) as a malloc'd string; "(nil)" for a missing key. */
/* An integer reply of `fmt` (DOC.GET of an integer path replies its JSON text). */
static long long int_of_at(int line, redisContext *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    va_end(ap);
    cr_assert(r, "line %d: no reply", line);
    char got[256];
    reply_describe(r, got, sizeof got);
    long long v = 0;
    bool ok = r->type == REDIS_REPLY_INTEGER;
    if (ok) {
        v = r->integer;
    } else if (r->type == REDIS_REPLY_STRING) {
        char *end;
        v = strtoll(r->str, &end, 10);
        ok = end != r->str && !*end;
    }
    freeReplyObject(r);
    cr_assert(ok, "line %d: expected an integer, got %s", line, got);
    return v;
}
#define int_of(ctx, ...) int_of_at(__LINE__, (ctx), __VA_ARGS__)

/* ---- helpers for worker threads ----------------------------------------------- */

/* What a worker thread reports back: the first problem it saw. */
typedef struct problem {
    bool seen;     /* something went wrong */
    char msg[600]; /* what, with the reply */
} problem;

static void note(problem *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(problem *p, const char *fmt, ...) {
    if (p->seen) return;
    p->seen = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
}

/* A reply's description for a worker's message (static per thread buffer). */
static const char *desc(const redisReply *r) {
    static __thread char buf[400];
    return reply_describe(r, buf, sizeof buf);
}

/* Integer value of an integer reply or of a bulk string holding one; -1 with
 * *ok = false otherwise. */
static long long reply_ll(const redisReply *r, bool *ok) {
    if (r && r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (r && r->type == REDIS_REPLY_STRING) {
        char *end;
        long long v = strtoll(r->str, &end, 10);
        if (end != r->str && !*end) return v;
    }
    *ok = false;
    return -1;
}

/* A small deterministic generator per thread (xorshift64*). */
static unsigned rnd(unsigned long long *st) {
    unsigned long long x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return (unsigned)((x * 2685821657736338717ULL) >> 33);
}

/* Starts n threads running fn(&args[i * size]) and joins them all. */
static void run_threads(int n, void *(*fn)(void *), void *args, size_t size) {
    pthread_t *t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, fn, (char *)args + (size_t)i * size), 0);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    free(t);
}

/* A watcher: a separate client reading an invariant in a loop until told to stop. */
typedef struct watcher {
    redisContext *ctx;                /* its connection */
    bool (*check)(struct watcher *w); /* one observation; false: stop (problem noted) */
    volatile int stop;                /* set by the test when the workers are done */
    long observations;                /* how many reads it made */
    problem p;                        /* the first violation */
    void *arg;                        /* test data */
} watcher;

static void *watch(void *arg) {
    watcher *w = arg;
    while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE) && !w->p.seen) {
        if (!w->check(w)) break;
        w->observations++;
    }
    return NULL;
}

/* ---- account transfers --------------------------------------------------------- */

#define XFER_CLIENTS 8
#define XFER_EACH 300
#define XFER_TOTAL 200 /* a and b start at 100 each */

typedef struct xfer_worker {
    redisContext *w, *r; /* writer, and a second client reading after each reply */
    unsigned long long seed;
    long commits, aborts; /* replies of each kind */
    long long net_to_a;   /* what committed transfers moved into a */
    problem p;
} xfer_worker;

/* Both balances at one instant (DOC.MGET is one command): never negative, and
 * always summing to the total. */
static bool balances_ok(redisContext *ctx, problem *p, const char *who) {
    redisReply *r = redisCommand(ctx, "DOC.MGET a b $.balance");
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2;
    long long a = ok ? reply_ll(r->element[0], &ok) : -1;
    long long b = ok ? reply_ll(r->element[1], &ok) : -1;
    if (!ok)
        note(p, "%s: DOC.MGET a b $.balance replied %s", who, r ? desc(r) : "nothing");
    else if (a < 0 || b < 0 || a + b != XFER_TOTAL)
        note(p, "%s saw a=%lld b=%lld (total must stay %d, none negative)", who, a, b, XFER_TOTAL);
    if (r) freeReplyObject(r);
    return ok && !p->seen;
}

static void *xfer_run(void *arg) {
    xfer_worker *x = arg;
    for (int j = 0; j < XFER_EACH && !x->p.seen; j++) {
        bool to_b = rnd(&x->seed) & 1;
        /* every tenth asks for more than exists: must abort */
        int amt = j % 10 == 9 ? XFER_TOTAL + 1 : 1 + (int)(rnd(&x->seed) % 60);
        const char *from = to_b ? "a" : "b", *to = to_b ? "b" : "a";
        redisReply *r = redisCommand(x->w,
                                     "DOC.TXN 2 %s %s CHECK 1 $.balance GE %d "
                                     "INCR 1 $.balance %d INCR 2 $.balance %d",
                                     from, to, amt, -amt, amt);
        if (!r) {
            note(&x->p, "transfer %d: connection lost (%s)", j, x->w->errstr);
            break;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STATUS &&
            !strcmp(r->element[0]->str, "OK")) {
            bool ok = true;
            long long f = reply_ll(r->element[1], &ok), t = reply_ll(r->element[2], &ok);
            if (!ok || f < 0 || f + t != XFER_TOTAL)
                note(&x->p, "transfer %d of %d %s->%s replied %s", j, amt, from, to, desc(r));
            if (amt > XFER_TOTAL)
                note(&x->p, "transfer %d of %d (more than exists) committed: %s", j, amt, desc(r));
            x->commits++;
            x->net_to_a += to_b ? -amt : amt;
        } else if (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "ABORTED op 1: CHECK GE failed", 29)) {
            x->aborts++;
        } else {
            note(&x->p, "transfer %d of %d %s->%s replied %s", j, amt, from, to, desc(r));
        }
        freeReplyObject(r);
        balances_ok(x->r, &x->p, "a reader after a reply");
    }
    return NULL;
}

static bool xfer_watch(watcher *w) { return balances_ok(w->ctx, &w->p, "a watcher"); }

Test(txn, concurrent_transfers_conserve_the_total_and_never_overdraw, .timeout = 60) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"balance\":100}"));
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"balance\":100}"));

    xfer_worker xs[XFER_CLIENTS];
    memset(xs, 0, sizeof xs);
    for (int i = 0; i < XFER_CLIENTS; i++) {
        xs[i].w = srv_connect(s);
        xs[i].r = srv_connect(s);
        xs[i].seed = 0x9E3779B97F4A7C15ULL * (unsigned long long)(i + 1);
    }
    watcher wt = {.ctx = srv_connect(s), .check = xfer_watch};
    pthread_t wth;
    cr_assert_eq(pthread_create(&wth, NULL, watch, &wt), 0);
    run_threads(XFER_CLIENTS, xfer_run, xs, sizeof xs[0]);
    __atomic_store_n(&wt.stop, 1, __ATOMIC_RELEASE);
    pthread_join(wth, NULL);

    long commits = 0, aborts = 0;
    long long net = 0;
    for (int i = 0; i < XFER_CLIENTS; i++) {
        cr_assert(!xs[i].p.seen, "client %d: %s", i, xs[i].p.msg);
        commits += xs[i].commits;
        aborts += xs[i].aborts;
        net += xs[i].net_to_a;
        redisFree(xs[i].w);
        redisFree(xs[i].r);
    }
    cr_assert(!wt.p.seen, "%s", wt.p.msg);
    redisFree(wt.ctx);

    cr_assert_eq(commits + aborts, XFER_CLIENTS * XFER_EACH);
    cr_assert_geq(aborts, XFER_CLIENTS * XFER_EACH / 10, "every tenth transfer must abort");
    cr_assert_gt(commits, XFER_CLIENTS * XFER_EACH / 2, "most transfers should commit");
    /* the committed transfers, replayed, give the final balances exactly */
    cr_assert_eq(int_of(c, "DOC.GET a $.balance"), 100 + net);
    cr_assert_eq(int_of(c, "DOC.GET b $.balance"), 100 - net);
    /* both documents moved once per committed TXN, never for an aborted one */
    cr_assert_eq(doc_version(c, "a"), 1 + commits);
    cr_assert_eq(doc_version(c, "b"), 2 + commits); /* created after a */
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_commits"), commits);
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_aborts"), aborts);
}

/* ---- debit + outbox ----------------------------------------------------------- */

#define OUTBOX_CLIENTS 8
#define OUTBOX_EACH 300
#define OUTBOX_START 3000

typedef struct outbox_worker {
    redisContext *w;
    int id;
    unsigned long long seed;
    long commits, aborts;
    unsigned char *lens_seen; /* shared: lens_seen[n] = 1 once a PUSH replied length n */
    pthread_mutex_t *lock;    /* guards lens_seen */
    problem p;
} outbox_worker;

static void *outbox_run(void *arg) {
    outbox_worker *o = arg;
    for (int j = 0; j < OUTBOX_EACH && !o->p.seen; j++) {
        int amt = 1 + (int)(rnd(&o->seed) % 9);
        bool check_last = j & 1;
        char task[96];
        snprintf(task, sizeof task, "{\"amt\":%d,\"client\":%d,\"seq\":%d}", amt, o->id, j);
        /* Half check first; half debit and push first and check after both writes,
         * so the abort has two changes on two keys to undo. */
        redisReply *r = check_last
                            ? redisCommand(o->w,
                                           "DOC.TXN 2 acct outbox INCR 1 $.balance %d PUSH 2 $.tasks %s "
                                           "CHECK 1 $.balance GE 0",
                                           -amt, task)
                            : redisCommand(o->w,
                                           "DOC.TXN 2 acct outbox CHECK 1 $.balance GE %d "
                                           "INCR 1 $.balance %d PUSH 2 $.tasks %s",
                                           amt, -amt, task);
        if (!r) {
            note(&o->p, "debit %d: connection lost (%s)", j, o->w->errstr);
            break;
        }
        const char *abort_prefix =
            check_last ? "ABORTED op 3: CHECK GE failed" : "ABORTED op 1: CHECK GE failed";
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
            bool ok = true;
            long long len = reply_ll(r->element[check_last ? 1 : 2], &ok);
            long long bal = reply_ll(r->element[check_last ? 0 : 1], &ok);
            if (!ok || bal < 0 || len < 1 || len > OUTBOX_CLIENTS * OUTBOX_EACH) {
                note(&o->p, "debit %d replied %s", j, desc(r));
            } else {
                pthread_mutex_lock(o->lock);
                if (o->lens_seen[len]) note(&o->p, "two PUSHes replied the same length %lld", len);
                o->lens_seen[len] = 1;
                pthread_mutex_unlock(o->lock);
            }
            o->commits++;
        } else if (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, abort_prefix, strlen(abort_prefix))) {
            o->aborts++;
        } else {
            note(&o->p, "debit %d (%s) replied %s", j, check_last ? "check last" : "check first", desc(r));
        }
        freeReplyObject(r);
    }
    return NULL;
}

/* Sum and count of the "amt" members in the outbox's JSON text. */
static void outbox_sum(const char *json, long long *sum, long *count) {
    *sum = 0;
    *count = 0;
    for (const char *p = json; (p = strstr(p, "\"amt\":")); p += 6) {
        *sum += strtoll(p + 6, NULL, 10);
        (*count)++;
    }
}

/* One snapshot of both keys (a TXN of reads runs at one instant): the balance
 * plus every task's amount is the starting balance, always. */
static bool outbox_watch(watcher *w) {
    redisReply *r = redisCommand(w->ctx, "DOC.TXN 2 acct outbox GET 1 $.balance GET 2 $.tasks");
    bool ok =
        r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING;
    long long bal = ok ? reply_ll(r->element[0], &ok) : -1, sum;
    long count;
    if (!ok) {
        note(&w->p, "snapshot replied %s", r ? desc(r) : "nothing");
    } else {
        outbox_sum(r->element[1]->str, &sum, &count);
        if (bal < 0 || bal + sum != OUTBOX_START)
            note(&w->p, "snapshot: balance %lld + %ld tasks worth %lld != %d", bal, count, sum, OUTBOX_START);
    }
    if (r) freeReplyObject(r);
    return ok && !w->p.seen;
}

Test(txn, a_debit_and_its_outbox_task_are_never_half_applied, .timeout = 60) {
    expect_ok(cmd(c, "DOC.SET acct $ {\"balance\":%d}", OUTBOX_START));
    expect_ok(cmd(c, "DOC.SET outbox $ %s", "{\"tasks\":[]}"));

    unsigned char *lens_seen = calloc(OUTBOX_CLIENTS * OUTBOX_EACH + 1, 1);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    outbox_worker os[OUTBOX_CLIENTS];
    memset(os, 0, sizeof os);
    for (int i = 0; i < OUTBOX_CLIENTS; i++) {
        os[i].w = srv_connect(s);
        os[i].id = i;
        os[i].seed = 0xD1B54A32D192ED03ULL * (unsigned long long)(i + 7);
        os[i].lens_seen = lens_seen;
        os[i].lock = &lock;
    }
    watcher wt = {.ctx = srv_connect(s), .check = outbox_watch};
    pthread_t wth;
    cr_assert_eq(pthread_create(&wth, NULL, watch, &wt), 0);
    run_threads(OUTBOX_CLIENTS, outbox_run, os, sizeof os[0]);
    __atomic_store_n(&wt.stop, 1, __ATOMIC_RELEASE);
    pthread_join(wth, NULL);

    long commits = 0, aborts = 0;
    for (int i = 0; i < OUTBOX_CLIENTS; i++) {
        cr_assert(!os[i].p.seen, "client %d: %s", i, os[i].p.msg);
        commits += os[i].commits;
        aborts += os[i].aborts;
        redisFree(os[i].w);
    }
    cr_assert(!wt.p.seen, "%s", wt.p.msg);
    cr_assert_gt(wt.observations, 0);
    redisFree(wt.ctx);

    cr_assert_eq(commits + aborts, OUTBOX_CLIENTS * OUTBOX_EACH);
    cr_assert_gt(aborts, 0, "the account should run dry and debits abort");
    /* the PUSHes that committed replied every length 1..commits exactly once */
    for (long n = 1; n <= commits; n++) cr_assert(lens_seen[n], "no committed PUSH replied length %ld", n);
    free(lens_seen);

    cr_assert_eq(int_of(c, "DOC.LEN outbox $.tasks"), commits, "one task per committed debit");
    long long balance = int_of(c, "DOC.GET acct $.balance"), sum;
    long count;
    char *tasks = doc_text(c, "outbox");
    outbox_sum(tasks, &sum, &count);
    free(tasks);
    cr_assert_eq(count, commits);
    cr_assert_geq(balance, 0);
    cr_assert_eq(balance + sum, OUTBOX_START, "balance %lld + tasks %lld", balance, sum);
    cr_assert_eq(doc_version(c, "acct"), 1 + commits);
    cr_assert_eq(doc_version(c, "outbox"), 2 + commits); /* created after acct */
}

/* ---- optimistic writers: CHECK VERSION ------------------------------------------ */

#define OPT_CLIENTS 20
#define OPT_ROUNDS 10

typedef struct opt_worker {
    redisContext *w;
    int id;
    pthread_barrier_t *barrier;
    int *winners;   /* shared: winners[round], atomically incremented */
    int *winner_id; /* shared: winner_id[round] */
    problem p;
} opt_worker;

static void *opt_run(void *arg) {
    opt_worker *o = arg;
    for (int round = 0; round < OPT_ROUNDS; round++) {
        pthread_barrier_wait(o->barrier); /* the previous round is over */
        redisReply *r = redisCommand(o->w, "DOC.GET slot WITHVERSION");
        long long v = -1;
        bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2;
        if (ok) v = reply_ll(r->element[0], &ok);
        if (!ok) note(&o->p, "round %d: DOC.GET slot WITHVERSION replied %s", round, r ? desc(r) : "nothing");
        if (r) freeReplyObject(r);
        pthread_barrier_wait(o->barrier); /* everyone has read the same version */
        if (!ok) continue;
        r = redisCommand(o->w,
                         "DOC.TXN 1 slot CHECK 1 VERSION %lld SET 1 $.owner \"c%d-r%d\" "
                         "INCR 1 $.claims 1",
                         v, o->id, round);
        if (!r) {
            note(&o->p, "round %d: connection lost", round);
        } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
            __atomic_add_fetch(&o->winners[round], 1, __ATOMIC_RELAXED);
            o->winner_id[round] = o->id;
        } else if (!(r->type == REDIS_REPLY_ERROR &&
                     !strncmp(r->str, "ABORTED op 1: CHECK VERSION failed", 34))) {
            note(&o->p, "round %d: the TXN replied %s", round, desc(r));
        }
        if (r) freeReplyObject(r);
    }
    return NULL;
}

Test(txn, writers_checking_the_same_version_have_exactly_one_winner, .timeout = 60) {
    expect_ok(cmd(c, "DOC.SET slot $ %s", "{\"owner\":null,\"claims\":0}"));
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, OPT_CLIENTS);
    int winners[OPT_ROUNDS] = {0}, winner_id[OPT_ROUNDS];
    opt_worker os[OPT_CLIENTS];
    memset(os, 0, sizeof os);
    for (int i = 0; i < OPT_CLIENTS; i++) {
        os[i].w = srv_connect(s);
        os[i].id = i;
        os[i].barrier = &barrier;
        os[i].winners = winners;
        os[i].winner_id = winner_id;
    }
    run_threads(OPT_CLIENTS, opt_run, os, sizeof os[0]);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < OPT_CLIENTS; i++) {
        cr_assert(!os[i].p.seen, "client %d: %s", i, os[i].p.msg);
        redisFree(os[i].w);
    }
    for (int round = 0; round < OPT_ROUNDS; round++)
        cr_assert_eq(winners[round], 1, "round %d had %d winners", round, winners[round]);
    char want[64];
    snprintf(want, sizeof want, "\"c%d-r%d\"", winner_id[OPT_ROUNDS - 1], OPT_ROUNDS - 1);
    expect_str(cmd(c, "DOC.GET slot $.owner"), want);
    expect_str(cmd(c, "DOC.GET slot $.claims"), "10");
    cr_assert_eq(doc_version(c, "slot"), 1 + OPT_ROUNDS);
}

/* ---- a hot key in every TXN -------------------------------------------------- */

#define HOT_CLIENTS 8
#define HOT_EACH 500

typedef struct hot_worker {
    redisContext *w;
    int id;
    unsigned char *seen; /* shared: seen[n] = 1 once the hot INCR replied n */
    pthread_mutex_t *lock;
    problem p;
} hot_worker;

static void *hot_run(void *arg) {
    hot_worker *h = arg;
    char own[32];
    snprintf(own, sizeof own, "own:%d", h->id);
    for (int j = 1; j <= HOT_EACH && !h->p.seen; j++) {
        redisReply *r = redisCommand(h->w, "DOC.TXN 2 hot %s INCR 1 $.n 1 INCR 2 $.n 1", own);
        bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2;
        long long hot = ok ? reply_ll(r->element[0], &ok) : -1;
        long long mine = ok ? reply_ll(r->element[1], &ok) : -1;
        if (!ok || mine != j || hot < 1 || hot > HOT_CLIENTS * HOT_EACH) {
            note(&h->p, "TXN %d replied %s", j, r ? desc(r) : "nothing");
        } else {
            pthread_mutex_lock(h->lock);
            if (h->seen[hot]) note(&h->p, "two TXNs saw the hot counter at %lld", hot);
            h->seen[hot] = 1;
            pthread_mutex_unlock(h->lock);
        }
        if (r) freeReplyObject(r);
    }
    return NULL;
}

Test(txn, a_hot_counter_in_every_txn_counts_exactly_and_never_aborts, .timeout = 60) {
    unsigned char *seen = calloc(HOT_CLIENTS * HOT_EACH + 1, 1);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    hot_worker hs[HOT_CLIENTS];
    memset(hs, 0, sizeof hs);
    for (int i = 0; i < HOT_CLIENTS; i++) {
        hs[i].w = srv_connect(s);
        hs[i].id = i;
        hs[i].seen = seen;
        hs[i].lock = &lock;
    }
    run_threads(HOT_CLIENTS, hot_run, hs, sizeof hs[0]);
    for (int i = 0; i < HOT_CLIENTS; i++) {
        cr_assert(!hs[i].p.seen, "client %d: %s", i, hs[i].p.msg);
        redisFree(hs[i].w);
    }
    for (int n = 1; n <= HOT_CLIENTS * HOT_EACH; n++)
        cr_assert(seen[n], "no TXN saw the hot counter at %d", n);
    free(seen);
    expect_str(cmd(c, "DOC.GET hot"), "{\"n\":4000}");
    /* created by the first TXN (version 1), then one bump per TXN */
    cr_assert_eq(doc_version(c, "hot"), HOT_CLIENTS * HOT_EACH);
    for (int i = 0; i < HOT_CLIENTS; i++) {
        char key[32];
        snprintf(key, sizeof key, "own:%d", i);
        cr_assert_eq(int_of(c, "DOC.GET %s $.n", key), HOT_EACH);
        /* created by its client's first TXN above every version given so far (an
         * order the threads decide), then one bump per later TXN */
        cr_assert_geq(doc_version(c, key), HOT_EACH);
    }
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_aborts"), 0);
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_commits"), HOT_CLIENTS * HOT_EACH);
}

/* ---- serializability: no write skew ---------------------------------------------- */

#define SKEW_CLIENTS 8
#define SKEW_EACH 250

typedef struct skew_worker {
    redisContext *w;
    unsigned long long seed;
    long offs; /* TXNs that took a doctor off call */
    problem p;
} skew_worker;

/* Two doctors on call; one may go off call only if the other is still on. Run
 * concurrently, a TXN that reads one key and writes the other must never let
 * both go off (the classic write skew that snapshot isolation allows). */
static void *skew_run(void *arg) {
    skew_worker *k = arg;
    for (int j = 0; j < SKEW_EACH && !k->p.seen; j++) {
        bool first = rnd(&k->seed) & 1;
        const char *me = first ? "dr1" : "dr2", *other = first ? "dr2" : "dr1";
        redisReply *r =
            rnd(&k->seed) % 3
                ? redisCommand(k->w, "DOC.TXN 2 %s %s CHECK 2 $.on EQ true SET 1 $.on false", me, other)
                : redisCommand(k->w, "DOC.SET %s $.on true", me);
        if (!r)
            note(&k->p, "connection lost");
        else if (r->type == REDIS_REPLY_ARRAY)
            k->offs++;
        else if (!(r->type == REDIS_REPLY_STATUS ||
                   (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "ABORTED op 1: CHECK EQ", 22))))
            note(&k->p, "%s", desc(r));
        if (r) freeReplyObject(r);
    }
    return NULL;
}

static bool skew_watch(watcher *w) {
    redisReply *r = redisCommand(w->ctx, "DOC.MGET dr1 dr2 $.on");
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING;
    if (!ok)
        note(&w->p, "DOC.MGET replied %s", r ? desc(r) : "nothing");
    else if (!strcmp(r->element[0]->str, "false") && !strcmp(r->element[1]->str, "false"))
        note(&w->p, "both doctors are off call");
    if (r) freeReplyObject(r);
    return ok && !w->p.seen;
}

Test(txn, txns_reading_one_key_and_writing_another_never_write_skew, .timeout = 60) {
    expect_ok(cmd(c, "DOC.SET dr1 $ %s", "{\"on\":true}"));
    expect_ok(cmd(c, "DOC.SET dr2 $ %s", "{\"on\":true}"));
    skew_worker ks[SKEW_CLIENTS];
    memset(ks, 0, sizeof ks);
    for (int i = 0; i < SKEW_CLIENTS; i++) {
        ks[i].w = srv_connect(s);
        ks[i].seed = 0xA0761D6478BD642FULL * (unsigned long long)(i + 3);
    }
    watcher wt = {.ctx = srv_connect(s), .check = skew_watch};
    pthread_t wth;
    cr_assert_eq(pthread_create(&wth, NULL, watch, &wt), 0);
    run_threads(SKEW_CLIENTS, skew_run, ks, sizeof ks[0]);
    __atomic_store_n(&wt.stop, 1, __ATOMIC_RELEASE);
    pthread_join(wth, NULL);
    long offs = 0;
    for (int i = 0; i < SKEW_CLIENTS; i++) {
        cr_assert(!ks[i].p.seen, "client %d: %s", i, ks[i].p.msg);
        offs += ks[i].offs;
        redisFree(ks[i].w);
    }
    cr_assert(!wt.p.seen, "%s", wt.p.msg);
    redisFree(wt.ctx);
    cr_assert_gt(offs, 0);
    /* the final state too */
    redisReply *r = cmd(c, "DOC.MGET dr1 dr2 $.on");
    char got[256];
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    cr_assert_str_neq(got, "array(2) [string \"false\", string \"false\"]");
}

/* ---- a failing op undoes everything: documents, versions, replica, AOF ---------- */

/* Size of the AOF's current incremental file (named by the manifest). */
static long long aof_incr_size(const srv *sv) {
    char path[512], line[512], name[256] = "";
    snprintf(path, sizeof path, "%s/appendonlydir/appendonly.aof.manifest", sv->dir);
    FILE *f = fopen(path, "r");
    cr_assert(f, "no AOF manifest at %s", path);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "file ", 5) && strstr(line, " type i"))
            snprintf(name, sizeof name, "%.*s", (int)strcspn(line + 5, " "), line + 5);
    fclose(f);
    cr_assert(name[0], "the AOF manifest names no incremental file");
    snprintf(path, sizeof path, "%s/appendonlydir/%s", sv->dir, name);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (long long)st.st_size;
}

typedef struct aof_wait {
    const srv *sv;
    long long at_least;
} aof_wait;

static bool aof_reached(void *arg) {
    aof_wait *w = arg;
    return aof_incr_size(w->sv) >= w->at_least;
}

static bool aof_rewrite_done(void *arg) {
    redisContext *ctx = arg;
    char *busy = srv_info_field(ctx, "persistence", "aof_rewrite_in_progress");
    char *sched = srv_info_field(ctx, "persistence", "aof_rewrite_scheduled");
    bool done = busy && sched && !strcmp(busy, "0") && !strcmp(sched, "0");
    free(busy);
    free(sched);
    return done;
}

static char *digest_value(redisContext *ctx, const char *k1, const char *k2) {
    redisReply *r = cmd(ctx, "DEBUG DIGEST-VALUE %s %s", k1, k2);
    char got[512];
    reply_describe(r, got, sizeof got);
    freeReplyObject(r);
    return strdup(got);
}

Test(txn, a_failing_third_op_leaves_documents_versions_replica_and_aof_untouched, .timeout = 60) {
    suite_stop();
    s = srv_start(&(srv_opts){.aof = true});
    c = srv_connect(s);
    srv *rep = srv_start_replica(s);
    redisContext *rc = srv_connect(rep);

    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"n\":1,\"s\":\"text\",\"deep\":{\"x\":[1,2,3]}}"));
    expect_ok(cmd(c, "DOC.SET b $ %s", "{\"list\":[1],\"k\":{\"v\":true}}"));
    expect_int(cmd(c, "DOC.INCR a $.n 1"), 2);
    expect_ok(cmd(c, "SET marker 0")); /* the AOF has its SELECT already */
    srv_wait_replica_synced(s, rep);

    char *a0 = doc_text(c, "a"), *b0 = doc_text(c, "b");
    long long va = doc_version(c, "a"), vb = doc_version(c, "b");
    char *digest0 = srv_digest(c);
    char *rdigest0 = digest_value(rc, "a", "b");
    long long aof0 = aof_incr_size(s);

    /* ops 1 and 2 change both documents (and create members), op 3 fails */
    expect_err_text(cmd(c,
                        "DOC.TXN 2 a b INCR 1 $.n 5 PUSH 2 $.list %s SET 2 $.new.deep %s "
                        "DEL 1 $.deep.x[0] INCR 1 $.s 1",
                        "{\"big\":[1,2,3]}", "{\"z\":1}"),
                    "ABORTED op 5: BADTYPE", NULL);
    /* two ops on two keys, then a third that fails when it runs */
    expect_err_text(cmd(c, "DOC.TXN 2 a b INCR 1 $.n 5 PUSH 2 $.list 7 INCR 1 $.s 1"),
                    "ABORTED op 3: BADTYPE", NULL);
    /* the same with a failing CHECK at the end, and with a malformed last op */
    expect_err_text(cmd(c, "DOC.TXN 2 a b INCR 1 $.n 5 PUSH 2 $.list 7 CHECK 1 $.n LT 0"),
                    "ABORTED op 3: CHECK LT failed", NULL);
    expect_err_text(cmd(c, "DOC.TXN 2 a b INCR 1 $.n 5 PUSH 2 $.list 7 SET 1 $.x %s", "{bad"),
                    "ABORTED op 3: BADJSON", NULL);

    char *a1 = doc_text(c, "a"), *b1 = doc_text(c, "b");
    cr_assert_str_eq(a1, a0);
    cr_assert_str_eq(b1, b0);
    cr_assert_eq(doc_version(c, "a"), va);
    cr_assert_eq(doc_version(c, "b"), vb);
    char *digest1 = srv_digest(c);
    cr_assert_str_eq(digest1, digest0, "DEBUG DIGEST of the primary");
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_aborts"), 4);
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_commits"), 0);

    /* A write after the failures: once it is in the AOF, whatever the failures
     * appended would be before it. Only the marker's bytes may have been added. */
    const char marker[] = "*3\r\n$3\r\nSET\r\n$6\r\nmarker\r\n$1\r\n1\r\n";
    expect_ok(cmd(c, "SET marker 1"));
    aof_wait aw = {s, aof0 + (long long)strlen(marker)};
    cr_assert(wait_until(aof_reached, &aw, 5000), "the marker never reached the AOF");
    cr_assert_eq(aof_incr_size(s), aof0 + (long long)strlen(marker),
                 "the AOF grew by %lld bytes; the marker is %zu", aof_incr_size(s) - aof0, strlen(marker));

    /* The replica got the marker (so anything sent before it), and nothing else. */
    srv_wait_replica_synced(s, rep);
    expect_str(cmd(rc, "GET marker"), "1");
    char *rdigest1 = digest_value(rc, "a", "b");
    cr_assert_str_eq(rdigest1, rdigest0, "DEBUG DIGEST-VALUE a b on the replica");
    char *ra = doc_text(rc, "a"), *rb = doc_text(rc, "b");
    cr_assert_str_eq(ra, a0);
    cr_assert_str_eq(rb, b0);
    cr_assert_eq(doc_version(rc, "a"), va);
    cr_assert_eq(doc_version(rc, "b"), vb);

    /* a replica with AOF rewrites its AOF after the sync and refuses to exit until done */
    cr_assert(wait_until(aof_rewrite_done, rc, 10000), "the replica's AOF rewrite never ended");
    free(a0), free(b0), free(a1), free(b1), free(ra), free(rb);
    free(digest0), free(digest1), free(rdigest0), free(rdigest1);
    redisFree(rc);
    srv_stop(rep);
}

/* ---- what a TXN can do ----------------------------------------------------------- */

Test(txn, a_txn_creates_one_key_and_deletes_another) {
    expect_ok(cmd(c, "DOC.SET order:old $ %s", "{\"id\":1,\"state\":\"open\"}"));
    expect_reply(cmd(c, "DOC.TXN 2 order:new order:old SET 1 $ %s DEL 2 $", "{\"id\":2,\"from\":1}"),
                 "array(2) [status \"OK\", integer 1]");
    expect_int(cmd(c, "EXISTS order:old"), 0);
    expect_int(cmd(c, "DOC.VERSION order:old"), 0);
    expect_str(cmd(c, "DOC.GET order:new"), "{\"id\":2,\"from\":1}");
    expect_int(cmd(c, "DOC.VERSION order:new"), 2); /* new, above order:old's 1 */
    expect_status(cmd(c, "TYPE order:new"), "atomicdoc");

    /* the same with a failing op at the end: neither happens */
    expect_ok(cmd(c, "DOC.SET order:old2 $ %s", "{\"id\":3}"));
    expect_err_text(
        cmd(c, "DOC.TXN 2 order:new2 order:old2 SET 1 $ %s DEL 2 $ CHECK 1 $.id EQ 5", "{\"id\":4}"),
        "ABORTED op 3: CHECK EQ failed", NULL);
    expect_int(cmd(c, "EXISTS order:new2"), 0);
    expect_str(cmd(c, "DOC.GET order:old2"), "{\"id\":3}");
    expect_int(cmd(c, "DOC.VERSION order:old2"), 3); /* as created, after order:new's 2 */
}

Test(txn, a_txn_of_only_reads_changes_no_version) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"a\":1}"));
    expect_reply(cmd(c, "DOC.TXN 2 k missing GET 1 $ GET 2 $ VERSION 1 VERSION 2 CHECK 2 $ MISSING"),
                 "array(5) [string \"{\\\"a\\\":1}\", nil, integer 1, integer 0, status \"OK\"]");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    expect_int(cmd(c, "EXISTS missing"), 0);
}

Test(txn, a_key_named_twice_is_one_document_bumped_once) {
    expect_reply(cmd(c, "DOC.TXN 2 k k INCR 1 $.n 1 INCR 2 $.n 10 GET 1 $.n GET 2 $"),
                 "array(4) [integer 1, integer 11, string \"11\", string \"{\\\"n\\\":11}\"]");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    expect_reply(cmd(c, "DOC.TXN 3 k other k INCR 3 $.n 1 SET 2 $ 0 INCR 1 $.n 1"),
                 "array(3) [integer 12, status \"OK\", integer 13]");
    expect_int(cmd(c, "DOC.VERSION k"), 2);
    /* deleting through one name is seen through the other */
    expect_reply(cmd(c, "DOC.TXN 2 k k DEL 1 $ GET 2 $ SET 2 $.again true"),
                 "array(3) [integer 1, nil, status \"OK\"]");
    expect_str(cmd(c, "DOC.GET k"), "{\"again\":true}");
}

Test(txn, each_op_sees_the_effects_of_the_ops_before_it) {
    expect_reply(cmd(c,
                     "DOC.TXN 1 k SET 1 $ %s GET 1 $.x INCR 1 $.x 1 GET 1 $.x PUSH 1 $.l 1 "
                     "PUSH 1 $.l 2 GET 1 $ CHECK 1 $.l MATCH %s POP 1 $.l LAST GET 1 $.l "
                     "CHECK 1 $.x EQ 6 DEL 1 $.l CHECK 1 $.l MISSING",
                     "{\"x\":5}", "{\"$size\":2}"),
                 "array(13) [status \"OK\", string \"5\", integer 6, string \"6\", integer 1, "
                 "integer 2, string \"{\\\"x\\\":6,\\\"l\\\":[1,2]}\", status \"OK\", string \"2\", "
                 "string \"[1]\", status \"OK\", integer 1, status \"OK\"]");
    expect_str(cmd(c, "DOC.GET k"), "{\"x\":6}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

/* Op names, CHECK's words and option keywords match in any case, as the
 * commands' own keywords do; only letters fold: 0x0E is one case bit away
 * from '.', and JSON<0x0E>SET is not JSON.SET. */
Test(txn, op_names_comparisons_and_options_match_in_any_case_and_only_letters_fold) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":5,\"l\":[1]}"));
    expect_reply(cmd(c,
                     "DOC.TXN 1 k check 1 $.n ge 1 Check 1 version 1 cHeCk 1 $.m missing "
                     "incr 1 $.n 10 min 0 Max 99 json.set 1 $.s %s push 1 $.l at 0 2 check 1 $.s Exists",
                     "\"x\""),
                 "array(7) [status \"OK\", status \"OK\", status \"OK\", integer 15, status \"OK\", "
                 "integer 2, status \"OK\"]");
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":15,\"l\":[2,1],\"s\":\"x\"}");
    const char *argv[] = {"DOC.TXN", "1", "k", "JSON\x0eSET", "1", "$.s", "1"};
    expect_err_text(cmdv(c, 7, argv, NULL), "ABORTED op 1: SYNTAX expected an op name", "JSON\x0eSET");
    expect_int(cmd(c, "DOC.VERSION k"), 2);
}

/* A CHECK's +OK (and every +OK) is sent as the bytes of an UNWATCH reply kept at
 * load (reply.c); a server where UNWATCH is renamed away gives the module none,
 * and it replies through RedisModule_ReplyWithSimpleString: the same replies. */
Test(txn, ok_replies_are_the_same_when_unwatch_is_renamed_away) {
    srv *r = srv_start(&(srv_opts){.config = (const char *[]){"rename-command", "UNWATCH nowatch", NULL}});
    redisContext *rc = srv_connect(r);
    expect_ok(cmd(rc, "DOC.SET a $ %s", "{\"n\":1}"));
    expect_reply(cmd(rc, "DOC.TXN 1 a CHECK 1 $.n EQ 1 INCR 1 $.n 1 SET 1 $.m 2"),
                 "array(3) [status \"OK\", integer 2, status \"OK\"]");
    expect_str(cmd(rc, "DOC.GET a"), "{\"n\":2,\"m\":2}");
    redisFree(rc);
    srv_stop(r);
}

Test(txn, every_op_kind_runs_inside_a_txn) {
    expect_ok(cmd(c, "DOC.SET d $ %s",
                  "{\"n\":1,\"s\":\"x\",\"arr\":[1,2,3],\"flag\":true,\"o\":{\"p\":1},\"old\":0}"));
    const char *argv[] = {
        "DOC.TXN",
        "2",
        "d",
        "e",
        "SET",
        "1",
        "$.m",
        "5",
        "SET",
        "1",
        "$.m",
        "6",
        "XX",
        "SET",
        "2",
        "$",
        "{\"made\":true}",
        "NX",
        "GET",
        "1",
        "$.m",
        "TYPE",
        "1",
        "$.arr",
        "LEN",
        "1",
        "$.arr",
        "KEYS",
        "1",
        "$.o",
        "VERSION",
        "1",
        "INCR",
        "1",
        "$.n",
        "2",
        "INCR",
        "1",
        "$.n",
        "100",
        "MAX",
        "50",
        "MUL",
        "1",
        "$.n",
        "3",
        "MIN",
        "1",
        "$.n",
        "4",
        "MAX",
        "1",
        "$.n",
        "10",
        "STRAPPEND",
        "1",
        "$.s",
        "yz",
        "PUSH",
        "1",
        "$.arr",
        "AT",
        "0",
        "0",
        "PUSH",
        "1",
        "$.arr",
        "KEEP",
        "4",
        "4",
        "POP",
        "1",
        "$.arr",
        "FIRST",
        "POP",
        "1",
        "$.arr",
        "0",
        "PULL",
        "1",
        "$.arr",
        "3",
        "PULL",
        "1",
        "$.arr",
        "WHERE",
        "{\"$gt\":3}",
        "ADDTOSET",
        "1",
        "$.arr",
        "9",
        "INDEXOF",
        "1",
        "$.arr",
        "9",
        "TOGGLE",
        "1",
        "$.flag",
        "CLEAR",
        "1",
        "$.o",
        "MERGE",
        "1",
        "$",
        "{\"m\":null,\"mg\":1}",
        "CAS",
        "1",
        "$.n",
        "10",
        "11",
        "CAS",
        "1",
        "$.lock",
        "ABSENT",
        "\"me\"",
        "UPDATE",
        "1",
        "{\"$inc\":{\"n\":1},\"$rename\":{\"old\":\"new\"}}",
        "UPDATE",
        "1",
        "{\"$set\":{\"u\":1}}",
        "IF",
        "{\"n\":12}",
        "RETURN",
        "AFTER",
        "CHECK",
        "1",
        "$.n",
        "EQ",
        "12",
        "CHECK",
        "1",
        "$.n",
        "NE",
        "13",
        "CHECK",
        "1",
        "$.n",
        "GT",
        "11",
        "CHECK",
        "1",
        "$.n",
        "GE",
        "12",
        "CHECK",
        "1",
        "$.n",
        "LT",
        "13",
        "CHECK",
        "1",
        "$.n",
        "LE",
        "12",
        "CHECK",
        "1",
        "$.arr",
        "EXISTS",
        "CHECK",
        "1",
        "$.nope",
        "MISSING",
        "CHECK",
        "1",
        "$",
        "MATCH",
        "{\"flag\":false}",
        "CHECK",
        "1",
        "VERSION",
        "1",
        "DEL",
        "1",
        "$.s",
        "GET",
        "2",
        "$",
    };
    int argc = (int)(sizeof argv / sizeof *argv);
    expect_reply(cmdv(c, argc, argv, NULL),
                 "array(41) [status \"OK\", status \"OK\", status \"OK\", string \"6\", "
                 "status \"array\", integer 3, array(1) [string \"p\"], integer 1, "
                 "integer 3, nil, integer 9, string \"4\", string \"10\", integer 3, "
                 "integer 4, integer 4, string \"1\", string \"2\", integer 1, integer 1, "
                 "integer 1, integer 0, string \"false\", integer 1, status \"OK\", "
                 "integer 1, integer 1, integer 1, "
                 "string \"{\\\"n\\\":12,\\\"s\\\":\\\"xyz\\\",\\\"arr\\\":[9],\\\"flag\\\":false,"
                 "\\\"o\\\":{},\\\"mg\\\":1,\\\"lock\\\":\\\"me\\\",\\\"new\\\":0,\\\"u\\\":1}\", "
                 "status \"OK\", status \"OK\", status \"OK\", status \"OK\", status \"OK\", "
                 "status \"OK\", status \"OK\", status \"OK\", status \"OK\", status \"OK\", "
                 "integer 1, string \"{\\\"made\\\":true}\"]");
    expect_str(cmd(c, "DOC.GET d"), "{\"n\":12,\"arr\":[9],\"flag\":false,\"o\":{},\"mg\":1,\"lock\":\"me\","
                                    "\"new\":0,\"u\":1}");
    expect_int(cmd(c, "DOC.VERSION d"), 2);
    expect_int(cmd(c, "DOC.VERSION e"), 3); /* created after d's bump to 2 */
}

/* ---- max-txn-ops --------------------------------------------------------------- */

/* DOC.TXN 1 k followed by n times `INCR 1 $.n 1`, as argv (static strings). */
static const char **incr_txn(int n, int *argc) {
    const char **argv = malloc(sizeof *argv * (size_t)(3 + 4 * n));
    int k = 0;
    argv[k++] = "DOC.TXN";
    argv[k++] = "1";
    argv[k++] = "k";
    for (int i = 0; i < n; i++) {
        argv[k++] = "INCR";
        argv[k++] = "1";
        argv[k++] = "$.n";
        argv[k++] = "1";
    }
    *argc = k;
    return argv;
}

/* The error for a TXN over the default limit of 1000 ops: TOOBIG, or an
 * ABORTED naming op 1001 (the first one past the limit), saying which limit. */
static void expect_over_limit_at(int line, redisReply *r) {
    char got[512];
    reply_describe(r, got, sizeof got);
    bool ok = r->type == REDIS_REPLY_ERROR && strstr(r->str, "max-txn-ops") &&
              (!strncmp(r->str, "TOOBIG ", 7) || !strncmp(r->str, "ABORTED op 1001: TOOBIG", 23));
    freeReplyObject(r);
    cr_assert(ok, "line %d: expected TOOBIG or ABORTED op 1001 naming max-txn-ops, got %s", line, got);
}
#define expect_over_limit(r) expect_over_limit_at(__LINE__, (r))

Test(txn, more_ops_than_max_txn_ops_is_refused_whole, .timeout = 60) {
    expect_ok(cmd(c, "DOC.SET k $ %s", "{\"n\":0}"));
    int argc;
    const char **argv = incr_txn(10000, &argc);
    expect_over_limit(cmdv(c, argc, argv, NULL));
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":0}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    free(argv);

    /* the limit itself is allowed; one more is not */
    argv = incr_txn(1000, &argc);
    redisReply *r = cmdv(c, argc, argv, NULL);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1000);
    cr_assert_eq(r->element[999]->integer, 1000);
    freeReplyObject(r);
    free(argv);
    argv = incr_txn(1001, &argc);
    expect_over_limit(cmdv(c, argc, argv, NULL));
    free(argv);
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":1000}");
    expect_int(cmd(c, "DOC.VERSION k"), 2);
}

Test(txn, raising_max_txn_ops_allows_a_10000_op_txn, .timeout = 60) {
    expect_ok(cmd(c, "CONFIG SET atomicdoc.max-txn-ops 20000"));
    int argc;
    const char **argv = incr_txn(10000, &argc);
    redisReply *r = cmdv(c, argc, argv, NULL);
    free(argv);
    char got[256];
    cr_assert(r->type == REDIS_REPLY_ARRAY && r->elements == 10000, "%s", reply_describe(r, got, sizeof got));
    for (size_t i = 0; i < r->elements; i++)
        cr_assert(r->element[i]->type == REDIS_REPLY_INTEGER && r->element[i]->integer == (long long)i + 1,
                  "reply %zu: %s", i, reply_describe(r->element[i], got, sizeof got));
    freeReplyObject(r);
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":10000}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
    /* and a failure at its last op still undoes the 9,999 before it */
    argv = incr_txn(10000, &argc);
    argv[argc - 1] = "\"not a number\"";
    expect_err_text(cmdv(c, argc, argv, NULL), "ABORTED op 10000", NULL);
    free(argv);
    argv = incr_txn(10000, &argc);
    argv[argc - 2] = "$.n.x"; /* a member of a number: BADTYPE when it runs */
    expect_err_text(cmdv(c, argc, argv, NULL), "ABORTED op 10000: BADTYPE", NULL);
    free(argv);
    expect_str(cmd(c, "DOC.GET k"), "{\"n\":10000}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

/* ---- malformed TXNs ------------------------------------------------------------ */

/* One malformed TXN: its words (NULL-terminated), and what the error starts with
 * and contains. */
typedef struct bad_txn {
    const char *argv[24];
    const char *prefix;
    const char *part;
} bad_txn;

static const bad_txn bad_txns[] = {
    /* the command's own shape */
    {{"DOC.TXN", "0", "a", "INCR", "1", "$.n", "1"}, "SYNTAX", "numkeys"},
    {{"DOC.TXN", "-1", "a", "INCR", "1", "$.n", "1"}, "SYNTAX", "numkeys"},
    {{"DOC.TXN", "x", "a", "INCR", "1", "$.n", "1"}, "SYNTAX", "numkeys"},
    {{"DOC.TXN", "9", "a", "INCR", "1", "$.n", "1"}, "SYNTAX", "numkeys"},
    {{"DOC.TXN", "5", "a", "INCR", "1", "$.n", "1"}, "SYNTAX", NULL},
    {{"DOC.TXN", "4", "a", "INCR", "1", "$.n", "1"}, "ABORTED op 1: SYNTAX", "expected an op name"},
    {{"DOC.TXN", "2", "a", "b"}, "SYNTAX", "at least one op"},
    {{"DOC.TXN", "1", "a"}, "ERR", NULL},
    {{"DOC.TXN", "1"}, "ERR", NULL},
    /* an op's name and key position */
    {{"DOC.TXN", "1", "a", "FROB", "1", "$.n"}, "ABORTED op 1: SYNTAX", "FROB"},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "FROB", "1"}, "ABORTED op 2: SYNTAX", "FROB"},
    {{"DOC.TXN", "1", "a", "DOC.INCR", "1", "$.n", "1"}, "ABORTED op 1: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "INCR", "0", "$.n", "1"}, "ABORTED op 1: SYNTAX", "key position"},
    {{"DOC.TXN", "2", "a", "b", "INCR", "3", "$.n", "1"}, "ABORTED op 1: SYNTAX", "key position"},
    {{"DOC.TXN", "1", "a", "INCR", "-1", "$.n", "1"}, "ABORTED op 1: SYNTAX", "key position"},
    {{"DOC.TXN", "1", "a", "INCR", "a", "$.n", "1"}, "ABORTED op 1: SYNTAX", "key position"},
    {{"DOC.TXN", "1", "a", "INCR"}, "ABORTED op 1: SYNTAX", NULL},
    /* missing or extra arguments */
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n"}, "ABORTED op 1: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "SET", "1", "$.n"}, "ABORTED op 1: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "CAS", "1", "$.n", "1"}, "ABORTED op 2: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "MIN"}, "ABORTED op 1: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "CHECK", "1", "$.n"}, "ABORTED op 1: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "CHECK", "1", "$.n", "ABOUT", "1"}, "ABORTED op 1: SYNTAX", "ABOUT"},
    {{"DOC.TXN", "1", "a", "CHECK", "1", "VERSION", "x"}, "ABORTED op 1: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "CHECK", "1", "VERSION", "1", "2"}, "ABORTED op 2: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "PUSH", "1", "$.l", "1", "2"}, "ABORTED op 2: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "2"}, "ABORTED op 2: SYNTAX", NULL},
    /* malformed values inside an op, at any position */
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "x"}, "ABORTED op 1: SYNTAX", NULL},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "SET", "1", "$.x", "{bad"},
     "ABORTED op 2: BADJSON",
     NULL},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "INCR", "1", "$[", "1"}, "ABORTED op 2: BADPATH", NULL},
    {{"DOC.TXN", "1", "a", "CHECK", "1", "$.n", "MATCH", "{\"$bogus\":1}"}, "ABORTED op 1: BADFILTER", NULL},
    {{"DOC.TXN", "1", "a", "PULL", "1", "$.l", "WHERE", "[1]"}, "ABORTED op 1: BADFILTER", NULL},
    /* UPDATE with an unknown operator, a bad operand, a bad filter */
    {{"DOC.TXN", "1", "a", "UPDATE", "1", "{\"$frob\":{\"n\":1}}"}, "ABORTED op 1: BADUPDATE", "$frob"},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "UPDATE", "1", "{\"$frob\":{\"n\":1}}"},
     "ABORTED op 2: BADUPDATE",
     "$frob"},
    {{"DOC.TXN", "1", "a", "UPDATE", "1", "{\"$inc\":{\"n\":\"x\"}}"}, "ABORTED op 1", NULL},
    {{"DOC.TXN", "1", "a", "UPDATE", "1", "{\"$set\":{\"n\":1}}", "IF", "{\"n\":{\"$frob\":1}}"},
     "ABORTED op 1: BADFILTER",
     NULL},
    {{"DOC.TXN", "1", "a", "UPDATE", "1", "{\"$set\":{\"n\":1}}", "RETURN", "SIDEWAYS"},
     "ABORTED op 1",
     NULL},
    /* failing when run, after ops that changed the document */
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "INCR", "1", "$.s", "1"}, "ABORTED op 2: BADTYPE", NULL},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "SET", "1", "$.l[9]", "1"}, "ABORTED op 2: NOPATH", NULL},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "INCR", "1", "$.big", "1"},
     "ABORTED op 2: OVERFLOW",
     NULL},
    {{"DOC.TXN", "1", "a", "INCR", "1", "$.n", "1", "UPDATE", "1", "{\"$inc\":{\"s\":1}}"},
     "ABORTED op 2: BADTYPE",
     NULL},
    {{"DOC.TXN", "2", "a", "str", "INCR", "1", "$.n", "1", "GET", "2", "$"}, "ABORTED op 2: WRONGTYPE", NULL},
};

Test(txn, malformed_txns_are_refused_whole_with_an_error_naming_the_op) {
    const char *doc = "{\"n\":1,\"s\":\"x\",\"l\":[1],\"big\":9223372036854775807}";
    expect_ok(cmd(c, "DOC.SET a $ %s", doc));
    expect_ok(cmd(c, "SET str plain"));
    char *digest0 = srv_digest(c);
    for (size_t t = 0; t < sizeof bad_txns / sizeof *bad_txns; t++) {
        const bad_txn *b = &bad_txns[t];
        const char *argv[24];
        int argc = 0;
        while (b->argv[argc]) {
            argv[argc] = b->argv[argc];
            argc++;
        }
        redisReply *r = cmdv(c, argc, argv, NULL);
        char got[512];
        reply_describe(r, got, sizeof got);
        bool ok = r->type == REDIS_REPLY_ERROR && !strncmp(r->str, b->prefix, strlen(b->prefix)) &&
                  (!b->part || strstr(r->str, b->part)) && !strchr(r->str, '\n');
        freeReplyObject(r);
        cr_expect(ok, "row %zu (%s %s %s ...): expected an error starting \"%s\"%s%s, got %s", t,
                  b->argv[3] ? b->argv[3] : "", b->argv[4] ? b->argv[4] : "", b->argv[5] ? b->argv[5] : "",
                  b->prefix, b->part ? " with " : "", b->part ? b->part : "", got);
        char *now = doc_text(c, "a");
        cr_expect_str_eq(now, doc, "row %zu changed the document", t);
        free(now);
    }
    expect_int(cmd(c, "DOC.VERSION a"), 1);
    expect_int(cmd(c, "EXISTS b"), 0);
    char *digest1 = srv_digest(c);
    cr_assert_str_eq(digest1, digest0, "DEBUG DIGEST after the malformed TXNs");
    free(digest0);
    free(digest1);
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_commits"), 0);
}

/* A CHECK cut short at the end of the command: its comparison's value, or the
 * version, is missing. The op must be refused like any op missing arguments
 * (it must not read past the last argument, nor crash the server). */
Test(txn, a_check_missing_its_value_at_the_end_is_an_error) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"n\":1}"));
    expect_err_text(cmd(c, "DOC.TXN 1 a CHECK 1 $.n GT"), "ABORTED op 1: SYNTAX", NULL);
    expect_err_text(cmd(c, "DOC.TXN 1 a INCR 1 $.n 1 CHECK 1 $.n EQ"), "ABORTED op 2: SYNTAX", NULL);
    expect_str(cmd(c, "DOC.GET a"), "{\"n\":1}");
    expect_int(cmd(c, "DOC.VERSION a"), 1);
}

Test(txn, a_check_version_missing_its_number_at_the_end_is_an_error_not_a_crash) {
    expect_ok(cmd(c, "DOC.SET a $ %s", "{\"n\":1}"));
    expect_err_text(cmd(c, "DOC.TXN 1 a CHECK 1 VERSION"), "ABORTED op 1: SYNTAX", NULL);
    expect_err_text(cmd(c, "DOC.TXN 1 a INCR 1 $.n 1 CHECK 1 VERSION"), "ABORTED op 2: SYNTAX", NULL);
    expect_str(cmd(c, "DOC.GET a"), "{\"n\":1}");
    expect_int(cmd(c, "DOC.VERSION a"), 1);
}

/* ---- JSON.* ops inside a TXN ------------------------------------------------------ */

/* JSON.* ops run in a TXN beside DOC.* ops, named in full, with a key position like
 * every op; each replies what the command alone replies (RESP2 here: `$` paths give
 * JSON text for NUMINCRBY, arrays for the others; legacy paths the first match). The
 * documents change once each, versions move by one, and a replica gets the same. */
Test(txn, json_ops_mix_with_doc_ops_and_reply_as_the_commands_do, .timeout = 60) {
    srv *rep = srv_start_replica(s);
    redisContext *rc = srv_connect(rep);
    expect_ok(cmd(c, "JSON.SET k1 $ %s", "{\"a\":1,\"l\":[1,2],\"t\":true,\"s\":\"ab\"}"));
    expect_ok(cmd(c, "JSON.SET k2 $ %s", "{\"b\":\"y\"}"));
    long long v1 = doc_version(c, "k1"), v2 = doc_version(c, "k2");
    expect_reply(cmd(c,
                     "DOC.TXN 2 k1 k2 JSON.NUMINCRBY 1 $.a 1 JSON.SET 2 $.b %s INCR 1 $.a 10 "
                     "JSON.GET 2 $ JSON.ARRAPPEND 1 $.l 3 JSON.TYPE 1 .a JSON.DEL 2 .b "
                     "JSON.TOGGLE 1 $.t JSON.STRAPPEND 1 .s %s JSON.ARRPOP 1 .l 0 JSON.OBJLEN 1 . "
                     "JSON.MERGE 2 $ %s JSON.CLEAR 1 $.l JSON.ARRINSERT 1 .l 0 %s "
                     "JSON.ARRTRIM 1 .l 0 0 JSON.STRLEN 1 .s JSON.ARRLEN 1 .l JSON.OBJKEYS 2 . "
                     "JSON.ARRINDEX 1 $.l %s JSON.NUMMULTBY 1 .a 2 JSON.FORGET 1 .t GET 1 $",
                     "\"x\"", "\"c\"", "{\"m\":1}", "\"z\"", "\"z\""),
                 "array(22) [string \"[2]\", status \"OK\", integer 12, string \"[{\\\"b\\\":\\\"x\\\"}]\", "
                 "array(1) [integer 3], status \"integer\", integer 1, array(1) [integer 0], integer 3, "
                 "string \"1\", integer 4, status \"OK\", integer 1, integer 1, integer 1, "
                 "integer 3, integer 1, array(1) [string \"m\"], array(1) [integer 0], string \"24\", "
                 "integer 1, string \"{\\\"a\\\":24,\\\"l\\\":[\\\"z\\\"],\\\"s\\\":\\\"abc\\\"}\"]");
    char *t1 = doc_text(c, "k1"), *t2 = doc_text(c, "k2");
    cr_assert_str_eq(t1, "{\"a\":24,\"l\":[\"z\"],\"s\":\"abc\"}");
    cr_assert_str_eq(t2, "{\"m\":1}");
    cr_assert_eq(doc_version(c, "k1"), v1 + 1);
    cr_assert_eq(doc_version(c, "k2"), v2 + 1);
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_commits"), 1);

    srv_wait_replica_synced(s, rep);
    char *r1 = doc_text(rc, "k1"), *r2 = doc_text(rc, "k2");
    cr_assert_str_eq(r1, t1, "the replica's k1");
    cr_assert_str_eq(r2, t2, "the replica's k2");
    cr_assert_eq(doc_version(rc, "k1"), v1 + 1);
    cr_assert_eq(doc_version(rc, "k2"), v2 + 1);
    free(t1), free(t2), free(r1), free(r2);
    redisFree(rc);
    srv_stop(rep);
}

/* A JSON.* op that fails when it runs (its RedisJSON error text kept) undoes the ops
 * before it, DOC.* and JSON.* alike: documents and versions stay as they were. */
Test(txn, a_failing_json_op_rolls_back_every_op_before_it) {
    const char *d1 = "{\"a\":1,\"l\":[1,2],\"m\":[[1],[2,3]]}", *d2 = "{\"l\":[]}";
    expect_ok(cmd(c, "JSON.SET k1 $ %s", d1));
    expect_ok(cmd(c, "DOC.SET k2 $ %s", d2));
    long long v1 = doc_version(c, "k1"), v2 = doc_version(c, "k2");
    expect_err_text(cmd(c, "DOC.TXN 2 k1 k2 JSON.NUMINCRBY 1 $.a 1 PUSH 2 $.l 1 JSON.ARRAPPEND 1 .missing 1"),
                    "ABORTED op 3: ERR Path '.missing' does not exist", NULL);
    expect_err_text(
        cmd(c, "DOC.TXN 2 k1 k2 INCR 1 $.a 1 JSON.SET 2 $.x 1 JSON.NUMINCRBY 1 $.l 1 JSON.NUMINCRBY 1 .l 1"),
        "ABORTED op 4: ERR Path '.l' does not exist or does not contains a number", NULL);
    /* one match of two out of range: neither array changes (RedisJSON's #1129) */
    expect_err_text(cmd(c, "DOC.TXN 2 k1 k2 JSON.ARRAPPEND 2 $.l 5 JSON.ARRINSERT 1 $.m[*] 2 %s", "0"),
                    "ABORTED op 2: ERR index out of bounds", NULL);
    expect_err_text(cmd(c, "DOC.TXN 2 k1 nokey JSON.TOGGLE 1 $.a JSON.NUMINCRBY 2 $.a 1"),
                    "ABORTED op 2: ERR could not perform this operation on a key that doesn't exist", NULL);
    expect_err_text(cmd(c, "DOC.TXN 2 k1 k2 JSON.SET 1 $.a 2 JSON.SET 2 $.x %s", "{bad"),
                    "ABORTED op 2: BADJSON", NULL);
    char *t1 = doc_text(c, "k1"), *t2 = doc_text(c, "k2");
    cr_assert_str_eq(t1, d1);
    cr_assert_str_eq(t2, d2);
    free(t1), free(t2);
    cr_assert_eq(doc_version(c, "k1"), v1);
    cr_assert_eq(doc_version(c, "k2"), v2);
    expect_int(cmd(c, "EXISTS nokey"), 0);
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_aborts"), 5);
    cr_assert_eq(srv_info_int(c, "atomicdoc", "atomicdoc_txn_commits"), 0);
}

/* A JSON.* op with too few or too many arguments, or a JSON command that is not an
 * op, is refused whole with an error naming the op and showing its TXN shape. */
Test(txn, json_ops_with_the_wrong_arguments_name_the_op_and_its_shape) {
    static const struct {
        const char *argv[12];
        const char *want;
    } rows[] = {
        {{"DOC.TXN", "1", "k", "JSON.NUMINCRBY", "1", "$.a"},
         "ABORTED op 1: SYNTAX JSON.NUMINCRBY is missing arguments: JSON.NUMINCRBY k path number"},
        {{"DOC.TXN", "1", "k", "JSON.GET", "1", "$", "JSON.ARRTRIM", "1", "$.l", "0"},
         "ABORTED op 2: SYNTAX JSON.ARRTRIM is missing arguments: JSON.ARRTRIM k path start stop"},
        {{"DOC.TXN", "1", "k", "JSON.ARRAPPEND", "1", "$.l", "1", "2"},
         "ABORTED op 2: SYNTAX expected an op name after op 1, got '2'; op 1 was JSON.ARRAPPEND k path "
         "json (one value inside DOC.TXN)"},
        {{"DOC.TXN", "1", "k", "JSON.ARRINDEX", "1", "$.l", "1", "0", "2", "3"},
         "ABORTED op 1: SYNTAX JSON.ARRINDEX has too many arguments: JSON.ARRINDEX k path json [start "
         "[stop]]"},
        {{"DOC.TXN", "1", "k", "JSON.DEL", "1"},
         "ABORTED op 1: SYNTAX JSON.DEL is missing arguments: JSON.DEL k path (JSON.FORGET alike; one path "
         "inside DOC.TXN)"},
        {{"DOC.TXN", "1", "k", "JSON.SET", "1", "$", "1", "NX", "XX"}, "ABORTED op 1: ERR syntax error"},
        {{"DOC.TXN", "1", "k", "JSON.NUMINCRBY", "2", "$.a", "1"},
         "ABORTED op 1: SYNTAX JSON.NUMINCRBY needs a key position between 1 and 1, got '2': "
         "JSON.NUMINCRBY k path number"},
        {{"DOC.TXN", "1", "k", "JSON.RESP", "1", "$"},
         "ABORTED op 1: SYNTAX JSON.RESP is not a DOC.TXN op: JSON.* ops are the single-key JSON commands "
         "but JSON.RESP and JSON.DEBUG, when json-commands is on"},
        {{"DOC.TXN", "1", "k", "INCR", "1", "$.a", "1", "JSON.MGET", "1", "$"},
         "ABORTED op 2: SYNTAX JSON.MGET is not a DOC.TXN op: JSON.* ops are the single-key JSON commands "
         "but JSON.RESP and JSON.DEBUG, when json-commands is on"},
    };
    expect_ok(cmd(c, "JSON.SET k $ %s", "{\"a\":1,\"l\":[1]}"));
    for (size_t t = 0; t < sizeof rows / sizeof rows[0]; t++) {
        const char *argv[12];
        int argc = 0;
        for (; argc < 12 && rows[t].argv[argc]; argc++) argv[argc] = rows[t].argv[argc];
        char got[512];
        redisReply *r = cmdv(c, argc, argv, NULL);
        reply_describe(r, got, sizeof got);
        bool ok = r->type == REDIS_REPLY_ERROR && !strcmp(r->str, rows[t].want);
        freeReplyObject(r);
        cr_expect(ok, "row %zu: expected the error \"%s\", got %s", t, rows[t].want, got);
    }
    expect_str(cmd(c, "JSON.GET k"), "{\"a\":1,\"l\":[1]}");
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}

/* CHECK's value, when it is a bare JSON number, is read as a number without building a
 * document node for it: it must compare exactly as the parsed JSON value would (1 equals
 * 1.0, a string "5" is not 5, exponents and negatives), and a number the parser refuses
 * is refused the same way. */
Test(txn, check_number_literals_compare_as_the_json_values_they_are) {
    expect_ok(
        cmd(c, "DOC.SET k $ %s", "{\"i\":1,\"d\":2.5,\"s\":\"5\",\"big\":9007199254740993,\"neg\":-3}"));
    static const struct {
        const char *path, *cmp, *value;
        int pass;
    } rows[] = {
        {"$.i", "EQ", "1", 1},
        {"$.i", "EQ", "1.0", 1},
        {"$.i", "EQ", "1e0", 1},
        {"$.i", "NE", "2", 1},
        {"$.i", "GT", "0.5", 1},
        {"$.i", "LT", "1", 0},
        {"$.d", "GE", "2.5", 1},
        {"$.d", "LT", "25e-1", 0},
        {"$.d", "LE", "3", 1},
        {"$.s", "EQ", "5", 0},
        {"$.s", "NE", "5", 1},
        {"$.s", "GT", "1", 0},
        {"$.neg", "LT", "-2.99", 1},
        {"$.neg", "EQ", "-3", 1},
        {"$.neg", "GT", "-3", 0},
        {"$.big", "EQ", "9007199254740993", 1},
        {"$.big", "GT", "9007199254740992", 1},
        {"$.missing", "NE", "0", 1},
        {"$.missing", "EQ", "0", 0},
        {"$.i", "EQ", " 1 ", 1}, /* white space: read by the JSON parser, same value */
    };
    for (size_t t = 0; t < sizeof rows / sizeof rows[0]; t++) {
        redisReply *r = cmd(c, "DOC.TXN 1 k CHECK 1 %s %s %s", rows[t].path, rows[t].cmp, rows[t].value);
        char got[512];
        reply_describe(r, got, sizeof got);
        bool ok = rows[t].pass ? r->type == REDIS_REPLY_ARRAY && r->elements == 1
                               : r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "ABORTED op 1: CHECK ", 20);
        freeReplyObject(r);
        cr_expect(ok, "CHECK %s %s %s: expected %s, got %s", rows[t].path, rows[t].cmp, rows[t].value,
                  rows[t].pass ? "a pass" : "a failed CHECK", got);
    }
    expect_err_text(cmd(c, "DOC.TXN 1 k CHECK 1 $.i EQ 1e400"), "ABORTED op 1: BADJSON", NULL);
    expect_err_text(cmd(c, "DOC.TXN 1 k CHECK 1 $.i EQ 01"), "ABORTED op 1: BADJSON", NULL);
    expect_int(cmd(c, "DOC.VERSION k"), 1);
}
