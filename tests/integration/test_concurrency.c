/* test_concurrency.c - several real clients racing on the same documents.
 *
 * Each test starts one server and connects N hiredis clients from the main thread
 * (one redisContext per client), then runs each client on its own pthread. The
 * threads wait at a barrier and then hammer the same key; every reply they get is
 * recorded. Assertions run on the main thread after the join (a Criterion assertion
 * must not fire on another thread), so a worker that sees something unexpected writes
 * it into its `err` and stops; the main thread fails the test with that message.
 *
 * What is proven: the read-check-write commands (PULL, CAS, INCR with MIN, ADDTOSET,
 * PUSH with KEEP) are atomic, so the totals are exact however the clients interleave.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "harness.h"

/* s: this suite's server; c: the user's connection to it. */
SRV_SUITE(concurrency);

/* ---- clients on threads ---------------------------------------------------------- */

#define MAX_CLIENTS 32

struct race;

/* One client: its connection, what it counted, and the first thing that went wrong. */
typedef struct worker {
    struct race *race;  /* the race it runs in */
    redisContext *conn; /* its own connection (made on the main thread) */
    int id;             /* 0..n-1 */
    long long hits;     /* replies that did something (removed, swapped, added, ...) */
    long long calls;    /* commands sent */
    long long *per;     /* per-item counts, when the race needs them (calloc'd) */
    char err[512];      /* empty, or what went wrong (the worker then stopped) */
} worker;

/* A race: n workers running `fn` together after a barrier. */
typedef struct race {
    int n;                 /* number of workers */
    worker w[MAX_CLIENTS]; /* the workers */
    pthread_barrier_t go;  /* released when all n are ready */
    void (*fn)(worker *);  /* what each worker does */
    size_t per_items;      /* size of each worker's `per` array (0: none) */
    atomic_int running;    /* workers not yet finished */
} race;

/* Records the first failure of a worker. */
static void fail_worker(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_worker(worker *w, const char *fmt, ...) {
    if (w->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
}

/* Runs a command on the worker's connection; NULL (and w->err set) when the
 * connection failed or the reply is an error. */
static redisReply *wcmd(worker *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(w->conn, fmt, ap);
    va_end(ap);
    w->calls++;
    if (!r) {
        fail_worker(w, "client %d: connection error: %s", w->id, w->conn->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fail_worker(w, "client %d: error reply: %s", w->id, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    pthread_barrier_wait(&w->race->go);
    w->race->fn(w);
    atomic_fetch_sub(&w->race->running, 1);
    return NULL;
}

/* Connects n clients (main thread), runs fn on each of them concurrently and waits
 * for all; `during`, when given, runs on the main thread meanwhile (it may poll
 * race->running). Fails the test with the first worker error. */
static void run_race(race *r, int n, void (*fn)(worker *), size_t per_items, void (*during)(race *)) {
    cr_assert(n <= MAX_CLIENTS);
    r->n = n;
    r->fn = fn;
    r->per_items = per_items;
    atomic_init(&r->running, n);
    pthread_barrier_init(&r->go, NULL, (unsigned)n + (during ? 1 : 0));
    pthread_t t[MAX_CLIENTS];
    for (int i = 0; i < n; i++) {
        worker *w = &r->w[i];
        memset(w, 0, sizeof *w);
        w->race = r;
        w->id = i;
        w->conn = srv_connect(s);
        if (per_items) {
            w->per = calloc(per_items, sizeof *w->per);
            cr_assert(w->per);
        }
    }
    for (int i = 0; i < n; i++) cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &r->w[i]), 0);
    if (during) {
        pthread_barrier_wait(&r->go);
        during(r);
    }
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&r->go);
    for (int i = 0; i < n; i++) {
        redisFree(r->w[i].conn);
        r->w[i].conn = NULL;
    }
    for (int i = 0; i < n; i++) cr_assert(!r->w[i].err[0], "%s", r->w[i].err);
}

static void free_race(race *r) {
    for (int i = 0; i < r->n; i++) free(r->w[i].per);
}

static long long total_hits(const race *r) {
    long long sum = 0;
    for (int i = 0; i < r->n; i++) sum += r->w[i].hits;
    return sum;
}

/* A permutation of 0..n-1 for worker `id`: a Fisher-Yates shuffle seeded by id, so
 * each client visits the items in its own order. */
static void shuffled(int *order, int n, unsigned id) {
    unsigned seed = 2654435761u * (id + 1);
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rand_r(&seed) % (unsigned)(i + 1));
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

static long long int_of(redisReply *r) {
    char got[512];
    reply_describe(r, got, sizeof got);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "expected an integer, got %s", got);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* ---- PULL: 8 clients, 200 elements ------------------------------------------------- */

#define PULL_ITEMS 200

/* Every element, in this client's order: even clients PULL by value, odd ones by
 * a WHERE filter on the id; each reply must be 0 or 1. */
static void pull_every_element(worker *w) {
    int order[PULL_ITEMS];
    shuffled(order, PULL_ITEMS, (unsigned)w->id);
    for (int k = 0; k < PULL_ITEMS && !w->err[0]; k++) {
        int i = order[k];
        char json[96];
        redisReply *r;
        if (w->id % 2 == 0) {
            snprintf(json, sizeof json, "{\"id\":%d,\"sku\":\"sku-%d\",\"qty\":%d}", i, i, i % 7);
            r = wcmd(w, "DOC.PULL order $.items %s", json);
        } else {
            snprintf(json, sizeof json, "{\"id\":%d}", i);
            r = wcmd(w, "DOC.PULL order $.items WHERE %s", json);
        }
        if (!r) break;
        if (r->type != REDIS_REPLY_INTEGER || r->integer < 0 || r->integer > 1)
            fail_worker(w, "client %d: PULL of element %d replied type %d", w->id, i, r->type);
        else if (r->integer == 1) {
            w->hits++;
            w->per[i]++;
        }
        freeReplyObject(r);
    }
}

Test(concurrency, eight_clients_pulling_the_same_200_elements_remove_each_exactly_once) {
    FILE *f;
    char *json = NULL;
    size_t len = 0;
    f = open_memstream(&json, &len);
    fputs("{\"items\":[", f);
    for (int i = 0; i < PULL_ITEMS; i++)
        fprintf(f, "%s{\"id\":%d,\"sku\":\"sku-%d\",\"qty\":%d}", i ? "," : "", i, i, i % 7);
    fputs("]}", f);
    fclose(f);
    expect_ok(cmd(c, "DOC.SET order $ %s", json));
    free(json);

    static race r;
    run_race(&r, 8, pull_every_element, PULL_ITEMS, NULL);

    cr_expect_eq(total_hits(&r), PULL_ITEMS, "removals in total: %lld", total_hits(&r));
    for (int i = 0; i < PULL_ITEMS; i++) {
        long long n = 0;
        for (int k = 0; k < r.n; k++) n += r.w[k].per[i];
        cr_expect_eq(n, 1, "element %d was removed %lld times", i, n);
    }
    expect_str(cmd(c, "DOC.GET order"), "{\"items\":[]}");
    /* one version per removal, none for the 1400 PULLs that removed nothing */
    expect_int(cmd(c, "DOC.VERSION order"), 1 + PULL_ITEMS);
    free_race(&r);
}

/* ---- CAS: 30 clients, one seat ----------------------------------------------------- */

#define SEATS 10

static void claim_every_seat(worker *w) {
    for (int seat = 0; seat < SEATS && !w->err[0]; seat++) {
        char key[32], me[32];
        snprintf(key, sizeof key, "seat:%d", seat);
        snprintf(me, sizeof me, "\"buyer-%d\"", w->id);
        redisReply *r = wcmd(w, "DOC.CAS %s $.claimedBy null %s", key, me);
        if (!r) break;
        if (r->type != REDIS_REPLY_INTEGER || r->integer < 0 || r->integer > 1)
            fail_worker(w, "client %d: CAS on %s replied type %d", w->id, key, r->type);
        else if (r->integer == 1) {
            w->hits++;
            w->per[seat]++;
        }
        freeReplyObject(r);
    }
}

Test(concurrency, thirty_clients_cas_the_same_null_and_exactly_one_wins) {
    for (int seat = 0; seat < SEATS; seat++)
        expect_ok(cmd(c, "DOC.SET seat:%d $ %s", seat, "{\"claimedBy\":null,\"row\":1}"));

    static race r;
    run_race(&r, 30, claim_every_seat, SEATS, NULL);

    cr_expect_eq(total_hits(&r), SEATS, "swaps in total: %lld", total_hits(&r));
    for (int seat = 0; seat < SEATS; seat++) {
        int winner = -1, winners = 0;
        for (int k = 0; k < r.n; k++) {
            if (r.w[k].per[seat]) {
                winner = k;
                winners += (int)r.w[k].per[seat];
            }
        }
        cr_expect_eq(winners, 1, "seat:%d: %d clients got 1", seat, winners);
        if (winners != 1) continue;
        char want[96];
        snprintf(want, sizeof want, "{\"claimedBy\":\"buyer-%d\",\"row\":1}", winner);
        expect_str(cmd(c, "DOC.GET seat:%d", seat), want);
        /* created in order as versions 1..SEATS, then one swap each */
        expect_int(cmd(c, "DOC.VERSION seat:%d", seat), seat + 2);
    }
    free_race(&r);
}

/* ---- a lock in a document: 6 clients acquire, release, re-acquire ------------------ */

#define LOCK_CLIENTS 6
#define LOCK_ROUNDS 40
#define LOCK_SECONDS 60

/* Clients holding the lock right now, by their own account: never more than one. */
static atomic_int lock_holders;

/* README's recipe, LOCK_ROUNDS times: take the lock with CAS ABSENT -> me, check the
 * document names me, count one round inside the critical section, release with CAS
 * me -> ABSENT (which must succeed: nobody else can have taken it). A client that
 * finds the lock taken tries again; a deadline bounds the whole run. */
static void lock_rounds(worker *w) {
    char me[32];
    snprintf(me, sizeof me, "\"w%d\"", w->id);
    time_t deadline = time(NULL) + LOCK_SECONDS;
    while (w->hits < LOCK_ROUNDS && !w->err[0]) {
        if (time(NULL) > deadline) {
            fail_worker(w, "client %d: only %lld of %d rounds in %d s", w->id, w->hits, LOCK_ROUNDS,
                        LOCK_SECONDS);
            break;
        }
        redisReply *r = wcmd(w, "DOC.CAS lock:job $.owner ABSENT %s", me);
        if (!r) break;
        long long got = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        freeReplyObject(r);
        if (got == 0) {
            sched_yield();
            continue;
        }
        if (got != 1) {
            fail_worker(w, "client %d: acquiring replied %lld", w->id, got);
            break;
        }
        if (atomic_fetch_add(&lock_holders, 1) != 0)
            fail_worker(w, "client %d: acquired a lock someone else holds", w->id);
        r = wcmd(w, "DOC.GET lock:job $.owner");
        if (r && (r->type != REDIS_REPLY_STRING || strcmp(r->str, me)))
            fail_worker(w, "client %d: holds the lock but the owner is %s", w->id,
                        r->type == REDIS_REPLY_STRING ? r->str : "not a string");
        if (r) freeReplyObject(r);
        r = wcmd(w, "DOC.INCR lock:job $.rounds 1");
        if (r) freeReplyObject(r);
        atomic_fetch_sub(&lock_holders, 1);
        r = wcmd(w, "DOC.CAS lock:job $.owner %s ABSENT", me);
        if (!r) break;
        if (r->type != REDIS_REPLY_INTEGER || r->integer != 1)
            fail_worker(w, "client %d: releasing its own lock did not swap", w->id);
        freeReplyObject(r);
        w->hits++;
    }
}

Test(concurrency, six_clients_take_release_and_retake_a_lock_one_at_a_time) {
    expect_ok(cmd(c, "DOC.SET lock:job $ %s", "{\"rounds\":0}"));
    atomic_init(&lock_holders, 0);
    static race r;
    run_race(&r, LOCK_CLIENTS, lock_rounds, 0, NULL);
    cr_expect_eq(total_hits(&r), LOCK_CLIENTS * LOCK_ROUNDS);
    /* every round counted once, and the lock is free (absent) at the end */
    char want[64];
    snprintf(want, sizeof want, "{\"rounds\":%d}", LOCK_CLIENTS * LOCK_ROUNDS);
    expect_str(cmd(c, "DOC.GET lock:job"), want);
    /* each round moved the version 3 times: acquire, count, release */
    expect_int(cmd(c, "DOC.VERSION lock:job"), 1 + 3 * LOCK_CLIENTS * LOCK_ROUNDS);
    free_race(&r);
}

/* ---- INCR: 8 clients x 500 --------------------------------------------------------- */

#define INCRS 500

static void incr_many(worker *w) {
    long long last = 0;
    for (int i = 0; i < INCRS && !w->err[0]; i++) {
        redisReply *r = wcmd(w, "DOC.INCR counter $.hits 1");
        if (!r) break;
        if (r->type != REDIS_REPLY_INTEGER || r->integer <= last)
            fail_worker(w, "client %d: INCR replied type %d (%lld) after %lld", w->id, r->type,
                        r->type == REDIS_REPLY_INTEGER ? r->integer : 0, last);
        else
            last = r->integer;
        w->hits++;
        freeReplyObject(r);
    }
}

Test(concurrency, eight_clients_incrementing_500_times_each_count_exactly_4000) {
    expect_ok(cmd(c, "DOC.SET counter $ %s", "{\"hits\":0}"));
    static race r;
    run_race(&r, 8, incr_many, 0, NULL);
    cr_expect_eq(total_hits(&r), 8 * INCRS);
    expect_str(cmd(c, "DOC.GET counter"), "{\"hits\":4000}");
    expect_int(cmd(c, "DOC.VERSION counter"), 1 + 8 * INCRS);
}

/* ---- ADDTOSET: 6 clients, 150 values ----------------------------------------------- */

#define SET_VALUES 150

/* Adds every value, in this client's order. Odd clients write the members of the
 * object in the other order (still deep-equal), and every third call adds the value
 * twice in one command. */
static void add_every_value(worker *w) {
    int order[SET_VALUES];
    shuffled(order, SET_VALUES, 100u + (unsigned)w->id);
    for (int k = 0; k < SET_VALUES && !w->err[0]; k++) {
        int i = order[k];
        char json[64];
        if (w->id % 2)
            snprintf(json, sizeof json, "{\"tag\":\"t\",\"id\":%d}", i);
        else
            snprintf(json, sizeof json, "{\"id\":%d,\"tag\":\"t\"}", i);
        redisReply *r = k % 3 ? wcmd(w, "DOC.ADDTOSET page $.visitors %s", json)
                              : wcmd(w, "DOC.ADDTOSET page $.visitors %s %s", json, json);
        if (!r) break;
        if (r->type != REDIS_REPLY_INTEGER || r->integer < 0 || r->integer > 1)
            fail_worker(w, "client %d: ADDTOSET of %d replied type %d (%lld)", w->id, i, r->type,
                        r->type == REDIS_REPLY_INTEGER ? r->integer : 0);
        else
            w->hits += r->integer;
        freeReplyObject(r);
    }
}

Test(concurrency, six_clients_adding_the_same_150_values_add_each_once) {
    expect_ok(cmd(c, "DOC.SET page $ %s", "{\"visitors\":[]}"));
    static race r;
    run_race(&r, 6, add_every_value, 0, NULL);
    cr_expect_eq(total_hits(&r), SET_VALUES, "added in total: %lld", total_hits(&r));
    expect_int(cmd(c, "DOC.LEN page $.visitors"), SET_VALUES);
    expect_int(cmd(c, "DOC.VERSION page"), 1 + SET_VALUES);
    /* each value is there exactly once: pulling it removes exactly one element */
    for (int i = 0; i < SET_VALUES; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"id\":%d,\"tag\":\"t\"}", i);
        long long removed = int_of(cmd(c, "DOC.PULL page $.visitors %s", json));
        cr_expect_eq(removed, 1, "value %d was present %lld times", i, removed);
    }
    expect_str(cmd(c, "DOC.GET page"), "{\"visitors\":[]}");
}

/* ---- PUSH KEEP 10: 8 pushers and a 9th client watching ----------------------------- */

#define PUSHES 200
#define KEEP 10

static void push_capped(worker *w) {
    for (int i = 0; i < PUSHES && !w->err[0]; i++) {
        char json[48];
        snprintf(json, sizeof json, "{\"c\":%d,\"i\":%d}", w->id, i);
        redisReply *r = wcmd(w, "DOC.PUSH feed $.items KEEP %d %s", KEEP, json);
        if (!r) break;
        if (r->type != REDIS_REPLY_INTEGER || r->integer < 1 || r->integer > KEEP)
            fail_worker(w, "client %d: PUSH KEEP %d replied type %d (%lld)", w->id, KEEP, r->type,
                        r->type == REDIS_REPLY_INTEGER ? r->integer : 0);
        freeReplyObject(r);
    }
}

/* The 9th client: DOC.LEN as fast as it can, for as long as the pushers run. */
typedef struct watch {
    redisContext *conn; /* the watcher's own connection */
    long long polls;    /* DOC.LEN calls made (the last after the pushers ended) */
    long long max_len;  /* largest length seen */
    char err[256];      /* empty, or what went wrong */
} watch;

static watch watcher;

static void watch_lengths(race *r) {
    bool more;
    do {
        more = atomic_load(&r->running) > 0; /* one last look after the pushers end */
        redisReply *rep = redisCommand(watcher.conn, "DOC.LEN feed $.items");
        if (!rep) {
            snprintf(watcher.err, sizeof watcher.err, "watcher: connection error: %s", watcher.conn->errstr);
            return;
        }
        if (rep->type != REDIS_REPLY_INTEGER) {
            snprintf(watcher.err, sizeof watcher.err, "watcher: DOC.LEN replied type %d", rep->type);
            freeReplyObject(rep);
            return;
        }
        watcher.polls++;
        if (rep->integer > watcher.max_len) watcher.max_len = rep->integer;
        freeReplyObject(rep);
    } while (more);
}

Test(concurrency, eight_clients_pushing_with_keep_10_never_let_the_array_exceed_10) {
    expect_ok(cmd(c, "DOC.SET feed $ %s", "{\"items\":[]}"));
    memset(&watcher, 0, sizeof watcher);
    watcher.conn = srv_connect(s);
    static race r;
    run_race(&r, 8, push_capped, 0, watch_lengths);
    redisFree(watcher.conn);
    cr_assert(!watcher.err[0], "%s", watcher.err);
    cr_expect_leq(watcher.max_len, KEEP, "the watcher saw DOC.LEN %lld (in %lld polls)", watcher.max_len,
                  watcher.polls);

    expect_int(cmd(c, "DOC.LEN feed $.items"), KEEP);
    expect_int(cmd(c, "DOC.VERSION feed"), 1 + 8 * PUSHES);
    /* the 10 kept are the newest: each client's own values appear in push order and
     * include its last push when it was the last client to push */
    redisReply *all = cmd(c, "DOC.GET feed $.items");
    char got[4096];
    reply_describe(all, got, sizeof got);
    cr_assert(all->type == REDIS_REPLY_STRING, "%s", got);
    int cs[KEEP], is[KEEP], n = 0;
    for (const char *t = strstr(all->str, "{\"c\":"); t && n < KEEP; t = strstr(t + 1, "{\"c\":")) {
        cr_assert_eq(sscanf(t, "{\"c\":%d,\"i\":%d}", &cs[n], &is[n]), 2, "%s", got);
        n++;
    }
    cr_assert_eq(n, KEEP, "%s", got);
    for (int a = 0; a < KEEP; a++)
        for (int b = a + 1; b < KEEP; b++)
            if (cs[a] == cs[b]) cr_expect_lt(is[a], is[b], "client %d's values out of order: %s", cs[a], got);
    cr_expect_eq(is[KEEP - 1], PUSHES - 1, "the last element is not a last push: %s", got);
    freeReplyObject(all);
}

/* ---- INCR MIN 0: 8 clients selling a stock of 100 ---------------------------------- */

#define STOCK 100

static void sell_until_sold_out(worker *w) {
    for (;;) {
        redisReply *r = wcmd(w, "DOC.INCR stock $.n -1 MIN 0");
        if (!r) return;
        if (r->type == REDIS_REPLY_NIL) {
            freeReplyObject(r);
            return;
        }
        if (r->type != REDIS_REPLY_INTEGER || r->integer < 0 || r->integer >= STOCK) {
            fail_worker(w, "client %d: INCR MIN 0 replied type %d (%lld)", w->id, r->type,
                        r->type == REDIS_REPLY_INTEGER ? r->integer : 0);
            freeReplyObject(r);
            return;
        }
        w->hits++;
        w->per[r->integer]++;
        freeReplyObject(r);
    }
}

Test(concurrency, eight_clients_decrementing_a_stock_of_100_with_min_0_sell_exactly_100) {
    expect_ok(cmd(c, "DOC.SET stock $ %s", "{\"n\":100}"));
    static race r;
    run_race(&r, 8, sell_until_sold_out, STOCK, NULL);
    cr_expect_eq(total_hits(&r), STOCK, "units sold: %lld", total_hits(&r));
    /* each remaining count 99..0 was replied to exactly one client */
    for (int v = 0; v < STOCK; v++) {
        long long n = 0;
        for (int k = 0; k < r.n; k++) n += r.w[k].per[v];
        cr_expect_eq(n, 1, "stock %d was replied %lld times", v, n);
    }
    expect_str(cmd(c, "DOC.GET stock"), "{\"n\":0}");
    expect_int(cmd(c, "DOC.VERSION stock"), 1 + STOCK);
    free_race(&r);
}
