/* test_consistency.c - one random workload, then every copy of the data must agree.
 *
 * A primary with an AOF (appendfsync everysec, aof-use-rdb-preamble no so that an
 * AOF rewrite goes through the module's own DOC.AOFLOAD emitter) and a replica. Four
 * clients on pthreads send 100,000 random commands in total, pipelined in batches,
 * over 200 documents (doc:0 .. doc:199) that start as one realistic shape with nested
 * objects and arrays, so that most paths resolve. Every write command atomicdoc has
 * is in the mix: SET (NX/XX), MSET, DEL (key and path), INCR (MIN/MAX), MUL, MIN,
 * MAX, STRAPPEND, PUSH (AT/KEEP), POP, PULL (values and WHERE), ADDTOSET, TOGGLE,
 * CLEAR, MERGE, CAS, UPDATE (IF, UPSERT, ARRAYFILTERS) and multi-key TXNs whose
 * CHECKs sometimes fail. Error replies are part of the game (NOPATH, BADTYPE,
 * OVERFLOW, ABORTED) and are counted; an error no generated command can deserve
 * (BADJSON, ERR, ...) fails the test, as does a command kind that never succeeded.
 *
 * Then the copies are compared: primary and replica (DEBUG DIGEST, and per key DEBUG
 * DIGEST-VALUE, DOC.VERSION and the JSON), the primary after DEBUG RELOAD, after a
 * restart replaying the verbatim AOF, after BGREWRITEAOF and a restart from the
 * rewritten AOF, and a server started from the primary's RDB with appendonly no.
 *
 * The seed is printed; SEED=<n> replays the same command streams (their interleaving
 * across the four clients still varies).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define NKEYS 200        /* doc:0 .. doc:199 */
#define NCLIENTS 4       /* client threads */
#define NCOMMANDS 100000 /* in total, split evenly across the clients */
#define BATCH 50         /* commands in flight per client (pipelining) */

/* Every document starts as this: numbers (int and double), a string, a boolean, an
 * array of numbers and an object holding an array of objects. */
#define BASE_DOC "{\"n\":0,\"f\":1.5,\"s\":\"x\",\"a\":[1,2],\"o\":{\"k\":[{\"id\":1,\"q\":2}]},\"b\":true}"

/* ---- a small PRNG (splitmix64): the same seed gives the same command streams ---- */

typedef struct {
    uint64_t s; /* state */
} rng;

static uint64_t rng_next(rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* 0 .. n-1 */
static int rnd(rng *r, int n) { return (int)(rng_next(r) % (uint64_t)n); }

/* true with probability pct % */
static bool chance(rng *r, int pct) { return rnd(r, 100) < pct; }

#define PICK(r, table) ((table)[rnd((r), (int)(sizeof(table) / sizeof *(table)))])

/* ---- what the generator draws from -------------------------------------------- */

/* Paths by the type they usually hold, in both path styles; some are missing at
 * first ($.m.c, $.o.t, $.l) so that writes create them. */
static const char *const num_paths[] = {
    "$.n",          "n",      "$.f",     "f",        "$.o.k[0].q", "o.k.0.q",
    "$.o.k[-1].id", "$.a[0]", "$.a[-1]", "$[\"n\"]", "$.m.c",      "a.1",
};
static const char *const str_paths[] = {"$.s", "s", "$.o.t", "$['s']"};
static const char *const arr_paths[] = {"$.a", "a", "$.o.k", "o.k", "$.l"};
static const char *const bool_paths[] = {"$.b", "b", "$.o.k[0].f"};
static const char *const del_paths[] = {
    "$.a[0]", "$.a[-1]", "$.o.k[0]", "$.o.k[-1]", "$.s", "$.m", "$.l", "o.t", "$.o.k[0].q",
};
static const char *const clear_paths[] = {"$.a", "$.o.k", "$.n", "$.f", "$.o.k[0]", "$.l", "$.o"};

/* The big ones make INCR and MUL overflow now and then (an error, nothing changed). */
static const char *const int_vals[] = {"0", "1",  "-1", "2",    "3",
                                       "7", "-5", "40", "1000", "9223372036854775000"};
static const char *const dbl_vals[] = {"1.5", "0.25", "-2.5", "0.1", "1e2", "3.0", "1e308"};
static const char *const any_vals[] = {
    "1",
    "-7",
    "2.5",
    "\"v\"",
    "\"\\u00e9t\\u00e9 \\\"q\\\"\"",
    "true",
    "false",
    "null",
    "{\"id\":5,\"q\":1}",
    "[1,2,3]",
    "{\"z\":{\"y\":[true,null]}}",
    "[]",
    "{}",
};
static const char *const a_elems[] = {"1", "2", "3", "\"x\"", "[1]", "2.0", "null"};
static const char *const k_elems[] = {
    "{\"id\":1,\"q\":2}",
    "{\"id\":2,\"q\":5}",
    "{\"id\":3,\"q\":0}",
    "{\"id\":4,\"q\":9,\"t\":[1]}",
};
static const char *const k_filters[] = {
    "{\"id\":2}",
    "{\"q\":{\"$gt\":4}}",
    "{\"id\":{\"$in\":[3,4]}}",
    "{\"t\":{\"$exists\":true}}",
    "{\"$or\":[{\"q\":0},{\"id\":1}]}",
};
static const char *const a_filters[] = {
    "{\"$gt\":2}",
    "{\"$type\":\"string\"}",
    "{\"$in\":[1,\"x\"]}",
};
static const char *const str_vals[] = {"y", " and more", "\xc3\xa9", "z"};
static const char *const merge_patches[] = {
    "{\"n\":5,\"s\":\"m\"}",     "{\"o\":{\"t\":\"new\",\"w\":{\"x\":1}}}",
    "{\"m\":null,\"l\":[1,2]}",  "{\"o\":{\"w\":null},\"b\":false}",
    "{\"f\":0.5,\"a\":[9,8,7]}",
};
/* DOC.MERGE at a path other than $ */
static const char *const merge_at[][2] = {
    {"$.o", "{\"t\":\"o\",\"u\":2}"},
    {"$.o.k[0]", "{\"q\":11,\"n\":null}"},
    {"$.m", "{\"c\":3}"},
};
/* DOC.UPDATE: update document, and ARRAYFILTERS when the update needs it */
static const char *const updates[][2] = {
    {"{\"$inc\":{\"n\":1},\"$set\":{\"s\":\"u\"}}", NULL},
    {"{\"$inc\":{\"o.k.$[e].q\":1}}", "[{\"e.id\":{\"$gte\":2}}]"},
    {"{\"$set\":{\"o.k.$[e].hit\":true}}", "[{\"e.q\":{\"$lt\":5}}]"},
    {"{\"$inc\":{\"o.k.$[].q\":2}}", NULL},
    {"{\"$push\":{\"a\":{\"$each\":[3,4],\"$slice\":-6}}}", NULL},
    {"{\"$push\":{\"o.k\":{\"$each\":[{\"id\":3,\"q\":1}],\"$sort\":{\"id\":1}}}}", NULL},
    {"{\"$pull\":{\"o.k\":{\"id\":2}}}", NULL},
    {"{\"$addToSet\":{\"a\":{\"$each\":[1,7]}}}", NULL},
    {"{\"$unset\":{\"m\":\"\"},\"$mul\":{\"f\":2}}", NULL},
    {"{\"$min\":{\"n\":-3},\"$max\":{\"f\":20}}", NULL},
    {"{\"$rename\":{\"s\":\"s2\"}}", NULL},
    {"{\"$rename\":{\"s2\":\"s\"}}", NULL},
    {"{\"$pop\":{\"a\":-1}}", NULL},
    {"{\"$pullAll\":{\"a\":[1,2]}}", NULL},
    {"{\"$set\":{\"b\":false},\"$setOnInsert\":{\"created\":1}}", NULL},
};
static const char *const update_ifs[] = {
    "{\"b\":true}",
    "{\"n\":{\"$lt\":10}}",
    "{\"o.k\":{\"$elemMatch\":{\"id\":1}}}",
    "{\"a\":{\"$size\":2}}",
    "{\"$or\":[{\"s\":\"x\"},{\"f\":{\"$gte\":3}}]}",
};

/* ---- a command under construction ---------------------------------------------- */

#define MAX_ARGS 64

typedef struct {
    int argc;                   /* arguments so far */
    const char *argv[MAX_ARGS]; /* pointers into buf */
    size_t len[MAX_ARGS];       /* their lengths */
    char buf[8192];             /* the argument bytes, each NUL-terminated */
    size_t used;                /* bytes of buf used */
} cmdline;

static void arg(cmdline *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(cmdline *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *at = c->buf + c->used;
    int n = vsnprintf(at, sizeof c->buf - c->used, fmt, ap);
    va_end(ap);
    /* The generator's commands are a few hundred bytes: running out is our bug. */
    if (n < 0 || (size_t)n + 1 > sizeof c->buf - c->used || c->argc == MAX_ARGS) abort();
    c->argv[c->argc] = at;
    c->len[c->argc++] = (size_t)n;
    c->used += (size_t)n + 1;
}

/* The command as one line, for messages. */
static void cmdline_text(const cmdline *c, char *out, size_t len) {
    size_t pos = 0;
    out[0] = '\0';
    for (int i = 0; i < c->argc && pos + 1 < len; i++)
        pos += (size_t)snprintf(out + pos, len - pos, "%s%s", i ? " " : "", c->argv[i]);
}

/* ---- the kinds of command, and what each got back --------------------------------- */

enum kind {
    K_SET,
    K_SETNX,
    K_MSET,
    K_DEL,
    K_DELKEY,
    K_INCR,
    K_MUL,
    K_MIN,
    K_MAX,
    K_STRAPPEND,
    K_PUSH,
    K_POP,
    K_PULL,
    K_ADDTOSET,
    K_TOGGLE,
    K_CLEAR,
    K_MERGE,
    K_CAS,
    K_UPDATE,
    K_TXN,
    K_COUNT
};
static const char *const kind_names[K_COUNT] = {
    "SET",  "SET-$-NX/XX", "MSET", "DEL-path", "DEL-key", "INCR",  "MUL",   "MIN", "MAX",    "STRAPPEND",
    "PUSH", "POP",         "PULL", "ADDTOSET", "TOGGLE",  "CLEAR", "MERGE", "CAS", "UPDATE", "TXN",
};
/* Relative frequencies; TXN is the most interesting, so it is frequent. */
static const int kind_weight[K_COUNT] = {
    6, 3, 3, 4, 1, 10, 3, 3, 3, 3, 6, 4, 5, 4, 3, 2, 4, 4, 8, 12,
};

/* Error code words the workload legitimately earns; anything else is a failure. */
enum outcome { O_OK, O_NIL, O_NOPATH, O_BADTYPE, O_OVERFLOW, O_ABORTED, O_OTHER, O_COUNT };
static const char *const outcome_names[O_COUNT] = {
    "ok", "nil", "NOPATH", "BADTYPE", "OVERFLOW", "ABORTED", "other",
};

/* What an aborted TXN may name as its failing op's cause. */
static const char *const abort_causes[] = {"CHECK", "NOPATH", "BADTYPE", "OVERFLOW"};

/* ---- generating one command -------------------------------------------------------- */

static void key_arg(cmdline *c, rng *r) { arg(c, "doc:%d", rnd(r, NKEYS)); }

static const char *num_val(rng *r) { return chance(r, 75) ? PICK(r, int_vals) : PICK(r, dbl_vals); }

/* The arguments of one single-key op after its key (or key position, in a TXN).
 * `in_txn` limits variadic ops to one value and DEL to one path, as a TXN wants. */
static void op_args(cmdline *c, rng *r, enum kind k, bool in_txn) {
    switch (k) {
    case K_SET:
        if (chance(r, 60)) {
            arg(c, "%s", PICK(r, num_paths));
            arg(c, "%s", num_val(r));
        } else {
            static const char *const any_paths[] = {"$.s",   "$.o.k[0]", "$.m.c",     "$.l",
                                                    "$.o.t", "$.a[1]",   "$.o.k[0].f"};
            arg(c, "%s", PICK(r, any_paths));
            arg(c, "%s", PICK(r, any_vals));
        }
        if (chance(r, 15)) arg(c, "%s", chance(r, 50) ? "NX" : "XX");
        break;
    case K_SETNX: /* the whole document, which recreates deleted keys */
        arg(c, "$");
        arg(c, "%s", BASE_DOC);
        if (chance(r, 70)) arg(c, "%s", chance(r, 50) ? "NX" : "XX");
        break;
    case K_DEL: arg(c, "%s", PICK(r, del_paths)); break;
    case K_DELKEY: arg(c, "$"); break;
    case K_INCR:
        arg(c, "%s", PICK(r, num_paths));
        arg(c, "%s", chance(r, 8) ? "0" : num_val(r));
        if (chance(r, 25)) {
            arg(c, "MIN");
            arg(c, "%d", rnd(r, 3) - 2);
        }
        if (chance(r, 25)) {
            arg(c, "MAX");
            arg(c, "%d", 5 + rnd(r, 20));
        }
        break;
    case K_MUL:
        arg(c, "%s", PICK(r, num_paths));
        arg(c, "%s", PICK(r, ((const char *const[]){"2", "-1", "3", "0", "1.5", "0.5", "1"})));
        break;
    case K_MIN:
    case K_MAX:
        if (chance(r, 80)) {
            arg(c, "%s", PICK(r, num_paths));
            arg(c, "%s", num_val(r));
        } else {
            arg(c, "%s", PICK(r, str_paths));
            arg(c, "%s", PICK(r, ((const char *const[]){"\"a\"", "\"x\"", "\"zz\""})));
        }
        break;
    case K_STRAPPEND:
        arg(c, "%s", PICK(r, str_paths));
        arg(c, "%s", PICK(r, str_vals));
        break;
    case K_PUSH: {
        bool objs = chance(r, 40);
        arg(c, "%s",
            objs ? PICK(r, ((const char *const[]){"$.o.k", "o.k"}))
                 : PICK(r, ((const char *const[]){"$.a", "a", "$.l"})));
        if (chance(r, 30)) {
            arg(c, "AT");
            arg(c, "%d", rnd(r, 7) - 3);
        }
        if (chance(r, 40)) {
            arg(c, "KEEP");
            arg(c, "%d", chance(r, 70) ? 3 + rnd(r, 6) : -(2 + rnd(r, 5)));
        }
        int n = in_txn ? 1 : 1 + rnd(r, 3);
        for (int i = 0; i < n; i++) arg(c, "%s", objs ? PICK(r, k_elems) : PICK(r, a_elems));
        break;
    }
    case K_POP:
        arg(c, "%s", PICK(r, arr_paths));
        if (chance(r, 70))
            arg(c, "%s", PICK(r, ((const char *const[]){"FIRST", "LAST", "0", "1", "-1", "5"})));
        break;
    case K_PULL:
        if (chance(r, 50)) {
            arg(c, "%s", PICK(r, ((const char *const[]){"$.o.k", "o.k"})));
            if (chance(r, 60)) {
                arg(c, "WHERE");
                arg(c, "%s", PICK(r, k_filters));
            } else {
                int n = in_txn ? 1 : 1 + rnd(r, 2);
                for (int i = 0; i < n; i++) arg(c, "%s", PICK(r, k_elems));
            }
        } else {
            arg(c, "%s", PICK(r, ((const char *const[]){"$.a", "a", "$.l"})));
            if (chance(r, 40)) {
                arg(c, "WHERE");
                arg(c, "%s", PICK(r, a_filters));
            } else {
                int n = in_txn ? 1 : 1 + rnd(r, 2);
                for (int i = 0; i < n; i++) arg(c, "%s", PICK(r, a_elems));
            }
        }
        break;
    case K_ADDTOSET: {
        bool objs = chance(r, 40);
        arg(c, "%s", objs ? "$.o.k" : PICK(r, ((const char *const[]){"$.a", "$.l"})));
        int n = in_txn ? 1 : 1 + rnd(r, 3);
        for (int i = 0; i < n; i++) arg(c, "%s", objs ? PICK(r, k_elems) : PICK(r, a_elems));
        break;
    }
    case K_TOGGLE: arg(c, "%s", PICK(r, bool_paths)); break;
    case K_CLEAR: arg(c, "%s", chance(r, 90) ? PICK(r, clear_paths) : "$"); break;
    case K_MERGE:
        if (chance(r, 60)) {
            arg(c, "$");
            arg(c, "%s", PICK(r, merge_patches));
        } else {
            int i = rnd(r, (int)(sizeof merge_at / sizeof *merge_at));
            arg(c, "%s", merge_at[i][0]);
            arg(c, "%s", merge_at[i][1]);
        }
        break;
    case K_CAS: {
        static const char *const cas[][3] = {
            {"$.b", "true", "false"},
            {"$.b", "false", "true"},
            {"$.n", "0", "1"},
            {"$.n", "1", "0"},
            {"$.s", "\"x\"", "\"cas\""},
            {"$.m.c", "ABSENT", "5"},
            {"$.o.k[0]", "{\"q\":2,\"id\":1}", "{\"id\":1,\"q\":3}"},
            {"$.a", "[1,2]", "[2,1]"},
        };
        int i = rnd(r, (int)(sizeof cas / sizeof *cas));
        for (int j = 0; j < 3; j++) arg(c, "%s", cas[i][j]);
        break;
    }
    case K_UPDATE: {
        int i = rnd(r, (int)(sizeof updates / sizeof *updates));
        arg(c, "%s", updates[i][0]);
        if (chance(r, 40)) {
            arg(c, "IF");
            arg(c, "%s", PICK(r, update_ifs));
        }
        if (updates[i][1]) {
            arg(c, "ARRAYFILTERS");
            arg(c, "%s", updates[i][1]);
        }
        if (chance(r, 20)) arg(c, "UPSERT");
        break;
    }
    default: abort();
    }
}

/* A TXN's CHECK op on key position `pos`; some of them fail often. */
static void check_args(cmdline *c, rng *r, int pos) {
    arg(c, "CHECK");
    arg(c, "%d", pos);
    switch (rnd(r, 8)) {
    case 0:
        arg(c, "$.n");
        arg(c, "GE");
        arg(c, "0");
        break;
    case 1:
        arg(c, "$.b");
        arg(c, "EQ");
        arg(c, "true");
        break;
    case 2:
        arg(c, "VERSION");
        arg(c, "%d", 1 + rnd(r, 4));
        break;
    case 3:
        arg(c, "$.o.k");
        arg(c, "EXISTS");
        break;
    case 4:
        arg(c, "$.m");
        arg(c, "MISSING");
        break;
    case 5:
        arg(c, "$");
        arg(c, "MATCH");
        arg(c, "{\"n\":{\"$lt\":20}}");
        break;
    case 6:
        arg(c, "$.s");
        arg(c, "NE");
        arg(c, "\"cas\"");
        break;
    default:
        arg(c, "$.f");
        arg(c, "LT");
        arg(c, "100");
        break;
    }
}

/* Ops a TXN draws from (every write kind that has a TXN form). */
static const enum kind txn_kinds[] = {
    K_SET,  K_SETNX, K_DEL,  K_DELKEY,   K_INCR,   K_MUL,   K_MIN,   K_MAX, K_STRAPPEND,
    K_PUSH, K_POP,   K_PULL, K_ADDTOSET, K_TOGGLE, K_CLEAR, K_MERGE, K_CAS, K_UPDATE,
};
static const char *const txn_op_name[K_COUNT] = {
    [K_SET] = "SET",           [K_SETNX] = "SET",     [K_DEL] = "DEL",
    [K_DELKEY] = "DEL",        [K_INCR] = "INCR",     [K_MUL] = "MUL",
    [K_MIN] = "MIN",           [K_MAX] = "MAX",       [K_STRAPPEND] = "STRAPPEND",
    [K_PUSH] = "PUSH",         [K_POP] = "POP",       [K_PULL] = "PULL",
    [K_ADDTOSET] = "ADDTOSET", [K_TOGGLE] = "TOGGLE", [K_CLEAR] = "CLEAR",
    [K_MERGE] = "MERGE",       [K_CAS] = "CAS",       [K_UPDATE] = "UPDATE",
};

static enum kind pick_kind(rng *r) {
    int total = 0;
    for (int k = 0; k < K_COUNT; k++) total += kind_weight[k];
    int x = rnd(r, total);
    for (int k = 0; k < K_COUNT; k++) {
        if (x < kind_weight[k]) return (enum kind)k;
        x -= kind_weight[k];
    }
    return K_SET;
}

static void gen_command(cmdline *c, rng *r, enum kind k) {
    c->argc = 0;
    c->used = 0;
    if (k == K_MSET) {
        arg(c, "DOC.MSET");
        int n = 2 + rnd(r, 2);
        for (int i = 0; i < n; i++) {
            key_arg(c, r);
            arg(c, "%s", PICK(r, num_paths));
            arg(c, "%s", num_val(r));
        }
        return;
    }
    if (k == K_DELKEY) {
        arg(c, "DOC.DEL");
        key_arg(c, r);
        return;
    }
    if (k == K_TXN) {
        int nkeys = 1 + rnd(r, 3);
        arg(c, "DOC.TXN");
        arg(c, "%d", nkeys);
        for (int i = 0; i < nkeys; i++) key_arg(c, r);
        int nops = 2 + rnd(r, 4);
        enum kind prev = K_COUNT;
        for (int i = 0; i < nops; i++) {
            int pos = 1 + rnd(r, nkeys);
            enum kind ok = PICK(r, txn_kinds);
            /* After INCR, a MIN or MAX op reads as INCR's own MIN/MAX option (the TXN
             * grammar is ambiguous there; reported): put a CHECK in between. */
            if (chance(r, 25) || (prev == K_INCR && (ok == K_MIN || ok == K_MAX))) {
                check_args(c, r, pos);
                prev = K_COUNT;
                continue;
            }
            prev = ok;
            arg(c, "%s", txn_op_name[ok]);
            arg(c, "%d", pos);
            op_args(c, r, ok, true);
        }
        return;
    }
    static const char *const names[K_COUNT] = {
        [K_SET] = "DOC.SET",       [K_SETNX] = "DOC.SET",
        [K_DEL] = "DOC.DEL",       [K_INCR] = "DOC.INCR",
        [K_MUL] = "DOC.MUL",       [K_MIN] = "DOC.MIN",
        [K_MAX] = "DOC.MAX",       [K_STRAPPEND] = "DOC.STRAPPEND",
        [K_PUSH] = "DOC.PUSH",     [K_POP] = "DOC.POP",
        [K_PULL] = "DOC.PULL",     [K_ADDTOSET] = "DOC.ADDTOSET",
        [K_TOGGLE] = "DOC.TOGGLE", [K_CLEAR] = "DOC.CLEAR",
        [K_MERGE] = "DOC.MERGE",   [K_CAS] = "DOC.CAS",
        [K_UPDATE] = "DOC.UPDATE",
    };
    arg(c, "%s", names[k]);
    key_arg(c, r);
    op_args(c, r, k, false);
}

/* ---- the clients ------------------------------------------------------------------- */

typedef struct client {
    redisContext *conn;                /* its own connection (made on the main thread) */
    int id;                            /* 0 .. NCLIENTS-1 */
    uint64_t seed;                     /* its command stream */
    int commands;                      /* how many to send */
    long long count[K_COUNT][O_COUNT]; /* replies by command kind and outcome */
    char err[1024];                    /* empty, or the first unexpected thing (it stopped) */
} client;

static bool starts_with_word(const char *s, const char *w) {
    size_t n = strlen(w);
    return !strncmp(s, w, n) && (s[n] == ' ' || s[n] == '\0');
}

/* Sorts a reply into an outcome; O_OTHER for an error the workload cannot earn. */
static enum outcome classify(const redisReply *rep, enum kind k) {
    if (rep->type == REDIS_REPLY_NIL) return O_NIL;
    if (rep->type != REDIS_REPLY_ERROR) return O_OK;
    const char *e = rep->str;
    if (k == K_TXN) {
        if (!starts_with_word(e, "ABORTED")) return O_OTHER;
        const char *colon = strstr(e, ": ");
        if (!colon) return O_OTHER;
        for (size_t i = 0; i < sizeof abort_causes / sizeof *abort_causes; i++)
            if (starts_with_word(colon + 2, abort_causes[i])) return O_ABORTED;
        return O_OTHER;
    }
    if (starts_with_word(e, "NOPATH")) return O_NOPATH;
    if (starts_with_word(e, "BADTYPE")) return O_BADTYPE;
    if (starts_with_word(e, "OVERFLOW")) return O_OVERFLOW;
    return O_OTHER;
}

static void *client_main(void *arg_) {
    client *cl = arg_;
    rng r = {cl->seed};
    cmdline *lines = calloc(BATCH, sizeof *lines);
    enum kind kinds[BATCH];
    if (!lines) {
        snprintf(cl->err, sizeof cl->err, "client %d: out of memory", cl->id);
        return NULL;
    }
    for (int done = 0; done < cl->commands && !cl->err[0];) {
        int n = cl->commands - done < BATCH ? cl->commands - done : BATCH;
        for (int i = 0; i < n; i++) {
            kinds[i] = pick_kind(&r);
            gen_command(&lines[i], &r, kinds[i]);
            redisAppendCommandArgv(cl->conn, lines[i].argc, lines[i].argv, lines[i].len);
        }
        for (int i = 0; i < n; i++) {
            redisReply *rep = NULL;
            if (redisGetReply(cl->conn, (void **)&rep) != REDIS_OK || !rep) {
                snprintf(cl->err, sizeof cl->err, "client %d: connection error: %s", cl->id,
                         cl->conn->errstr);
                break;
            }
            enum outcome o = classify(rep, kinds[i]);
            cl->count[kinds[i]][o]++;
            if (o == O_OTHER && !cl->err[0]) {
                char text[600], got[300];
                cmdline_text(&lines[i], text, sizeof text);
                snprintf(cl->err, sizeof cl->err,
                         "client %d: an error no generated command deserves: %s -> %s", cl->id, text,
                         reply_describe(rep, got, sizeof got));
            }
            freeReplyObject(rep);
        }
        done += n;
    }
    free(lines);
    return NULL;
}

/* ---- comparing copies of the dataset ------------------------------------------------- */

/* One key as a server holds it. */
typedef struct {
    long long version; /* DOC.VERSION (0: missing) */
    char digest[48];   /* DEBUG DIGEST-VALUE, or "" for a missing key */
    char *json;        /* DOC.GET key, malloc'd, or NULL for a missing key */
} key_state;

/* All of them, and the dataset digest. */
typedef struct {
    key_state k[NKEYS];
    char *digest; /* DEBUG DIGEST, malloc'd */
    int present;  /* keys that exist */
} snapshot;

/* Reads every key of `c` (pipelined: three commands a key). */
static void take_snapshot(redisContext *c, snapshot *s) {
    memset(s, 0, sizeof *s);
    s->digest = srv_digest(c);
    for (int i = 0; i < NKEYS; i++) {
        char key[16];
        snprintf(key, sizeof key, "doc:%d", i);
        redisAppendCommand(c, "DOC.VERSION %s", key);
        redisAppendCommand(c, "DOC.GET %s", key);
        redisAppendCommand(c, "DEBUG DIGEST-VALUE %s", key);
    }
    for (int i = 0; i < NKEYS; i++) {
        redisReply *v = NULL, *g = NULL, *d = NULL;
        cr_assert_eq(redisGetReply(c, (void **)&v), REDIS_OK, "snapshot: %s", c->errstr);
        cr_assert_eq(redisGetReply(c, (void **)&g), REDIS_OK, "snapshot: %s", c->errstr);
        cr_assert_eq(redisGetReply(c, (void **)&d), REDIS_OK, "snapshot: %s", c->errstr);
        char got[300];
        cr_assert_eq(v->type, REDIS_REPLY_INTEGER, "DOC.VERSION doc:%d: %s", i,
                     reply_describe(v, got, sizeof got));
        s->k[i].version = v->integer;
        if (g->type == REDIS_REPLY_STRING) {
            s->k[i].json = strdup(g->str);
            s->present++;
        } else {
            cr_assert_eq(g->type, REDIS_REPLY_NIL, "DOC.GET doc:%d: %s", i,
                         reply_describe(g, got, sizeof got));
        }
        cr_assert(
            d->type == REDIS_REPLY_ARRAY && d->elements == 1 &&
                (d->element[0]->type == REDIS_REPLY_STRING || d->element[0]->type == REDIS_REPLY_STATUS),
            "DEBUG DIGEST-VALUE doc:%d: %s", i, reply_describe(d, got, sizeof got));
        if (g->type == REDIS_REPLY_STRING)
            snprintf(s->k[i].digest, sizeof s->k[i].digest, "%s", d->element[0]->str);
        cr_assert_eq(s->k[i].version > 0, g->type == REDIS_REPLY_STRING,
                     "doc:%d: DOC.VERSION %lld but DOC.GET %s", i, s->k[i].version,
                     reply_describe(g, got, sizeof got));
        freeReplyObject(v);
        freeReplyObject(g);
        freeReplyObject(d);
    }
}

static void free_snapshot(snapshot *s) {
    for (int i = 0; i < NKEYS; i++) free(s->k[i].json);
    free(s->digest);
    memset(s, 0, sizeof *s);
}

/* Fails at the first key that differs, naming both sides. */
static void expect_same(const snapshot *want, const snapshot *got, const char *what) {
    for (int i = 0; i < NKEYS; i++) {
        const key_state *a = &want->k[i], *b = &got->k[i];
        bool same_json = (!a->json && !b->json) || (a->json && b->json && !strcmp(a->json, b->json));
        cr_assert(same_json && a->version == b->version,
                  "%s: doc:%d differs:\n  expected version %lld %s\n  got      version %lld %s", what, i,
                  a->version, a->json ? a->json : "(missing)", b->version, b->json ? b->json : "(missing)");
        cr_assert_str_eq(a->digest, b->digest, "%s: DEBUG DIGEST-VALUE doc:%d differs", what, i);
    }
    cr_assert_str_eq(want->digest, got->digest, "%s: DEBUG DIGEST differs", what);
}

/* ---- AOF helpers -------------------------------------------------------------------- */

static bool no_aof_rewrite(void *c) {
    return srv_info_int(c, "persistence", "aof_rewrite_in_progress") == 0 &&
           srv_info_int(c, "persistence", "aof_rewrite_scheduled") == 0;
}

/* Number of occurrences of `needle` in the base AOF file the manifest names. */
static long count_in_base_aof(const srv *s, const char *needle) {
    char path[640], name[256] = "", line[512];
    snprintf(path, sizeof path, "%s/appendonlydir/appendonly.aof.manifest", s->dir);
    FILE *m = fopen(path, "r");
    cr_assert(m, "cannot open %s", path);
    while (fgets(line, sizeof line, m))
        if (!strncmp(line, "file ", 5) && strstr(line, " type b"))
            snprintf(name, sizeof name, "%.*s", (int)strcspn(line + 5, " "), line + 5);
    fclose(m);
    cr_assert(name[0], "the AOF manifest names no base file");
    snprintf(path, sizeof path, "%s/appendonlydir/%s", s->dir, name);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    long n = 0;
    size_t m_len = strlen(needle), have = 0;
    char buf[1 << 16];
    for (;;) {
        size_t got = fread(buf + have, 1, sizeof buf - have, f);
        if (!got) break;
        have += got;
        size_t i = 0;
        for (; i + m_len <= have; i++)
            if (!memcmp(buf + i, needle, m_len)) n++;
        memmove(buf, buf + i, have - i); /* keep a possible partial match */
        have -= i;
    }
    fclose(f);
    return n;
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    cr_assert(in && out, "cannot copy %s to %s", from, to);
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) cr_assert_eq(fwrite(buf, 1, n, out), n, "writing %s", to);
    fclose(in);
    cr_assert_eq(fclose(out), 0, "writing %s", to);
}

/* ---- the test ------------------------------------------------------------------------- */

static uint64_t the_seed(void) {
    const char *e = getenv("SEED");
    if (e && *e) return strtoull(e, NULL, 10);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(consistency, random_workload_agrees_on_replica_reload_aof_and_rdb, .timeout = 180) {
    uint64_t seed = the_seed();
    fprintf(stderr, "consistency: SEED=%llu (set SEED to replay)\n", (unsigned long long)seed);
    cr_log_info("consistency: SEED=%llu", (unsigned long long)seed);

    srv *p = srv_start(&(srv_opts){
        .aof = true,
        .config = (const char *[]){"appendfsync", "everysec", "aof-use-rdb-preamble", "no", NULL},
    });
    srv *rep = srv_start_replica(p);
    redisContext *pc = srv_connect(p);

    /* Every key starts as the base document. */
    for (int i = 0; i < NKEYS; i++) redisAppendCommand(pc, "DOC.SET doc:%d $ %s", i, BASE_DOC);
    for (int i = 0; i < NKEYS; i++) {
        redisReply *r = NULL;
        cr_assert_eq(redisGetReply(pc, (void **)&r), REDIS_OK, "%s", pc->errstr);
        expect_ok(r);
    }

    /* The workload: four clients at once. */
    static client cls[NCLIENTS];
    memset(cls, 0, sizeof cls);
    pthread_t t[NCLIENTS];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < NCLIENTS; i++) {
        cls[i].conn = srv_connect(p);
        cls[i].id = i;
        cls[i].seed = seed * 0x100000001b3ULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
        cls[i].commands = NCOMMANDS / NCLIENTS;
    }
    for (int i = 0; i < NCLIENTS; i++) cr_assert_eq(pthread_create(&t[i], NULL, client_main, &cls[i]), 0);
    for (int i = 0; i < NCLIENTS; i++) pthread_join(t[i], NULL);
    double took = seconds_since(&t0);
    for (int i = 0; i < NCLIENTS; i++) {
        redisFree(cls[i].conn);
        cls[i].conn = NULL;
    }
    for (int i = 0; i < NCLIENTS; i++)
        cr_assert(!cls[i].err[0], "SEED=%llu: %s", (unsigned long long)seed, cls[i].err);

    /* What the workload did: every kind succeeded at least sometimes, and TXNs both
     * committed and aborted (else the generator tests nothing). */
    long long sum[K_COUNT][O_COUNT] = {{0}}, total = 0;
    for (int i = 0; i < NCLIENTS; i++)
        for (int k = 0; k < K_COUNT; k++)
            for (int o = 0; o < O_COUNT; o++) {
                sum[k][o] += cls[i].count[k][o];
                total += cls[i].count[k][o];
            }
    char table[4096];
    size_t pos = (size_t)snprintf(table, sizeof table, "%-12s", "command");
    for (int o = 0; o < O_COUNT - 1; o++)
        pos += (size_t)snprintf(table + pos, sizeof table - pos, "%9s", outcome_names[o]);
    for (int k = 0; k < K_COUNT; k++) {
        pos += (size_t)snprintf(table + pos, sizeof table - pos, "\n%-12s", kind_names[k]);
        for (int o = 0; o < O_COUNT - 1; o++)
            pos += (size_t)snprintf(table + pos, sizeof table - pos, "%9lld", sum[k][o]);
    }
    fprintf(stderr, "consistency: %lld commands in %.1f s\n%s\n", total, took, table);
    cr_assert_eq(total, NCOMMANDS);
    for (int k = 0; k < K_COUNT; k++)
        cr_assert(sum[k][O_OK] > 0, "no %s command ever succeeded: the generator is off", kind_names[k]);
    cr_assert(sum[K_TXN][O_ABORTED] > 0, "no TXN aborted");
    cr_assert(sum[K_INCR][O_NIL] > 0, "no INCR ever hit its MIN/MAX bound");

    /* The replica has the very same documents and versions. */
    srv_wait_replica_synced(p, rep);
    redisContext *rc = srv_connect(rep);
    snapshot primary, other;
    take_snapshot(pc, &primary);
    cr_assert(primary.present > NKEYS / 2, "only %d of %d keys exist after the workload", primary.present,
              NKEYS);
    take_snapshot(rc, &other);
    expect_same(&primary, &other, "replica");
    free_snapshot(&other);
    redisFree(rc);
    srv_stop(rep);

    /* DEBUG RELOAD: save and load the RDB in place. */
    expect_ok(cmd(pc, "DEBUG RELOAD"));
    take_snapshot(pc, &other);
    expect_same(&primary, &other, "after DEBUG RELOAD");
    free_snapshot(&other);

    /* A restart replaying the AOF as written (every command verbatim, no rewrite). */
    redisFree(pc);
    srv_restart(p);
    pc = srv_connect(p);
    take_snapshot(pc, &other);
    expect_same(&primary, &other, "after a restart from the verbatim AOF");
    free_snapshot(&other);

    /* BGREWRITEAOF: the base file is then DOC.AOFLOAD commands; restart from it. */
    cr_assert(wait_until(no_aof_rewrite, pc, 20000), "an earlier AOF rewrite never ended");
    redisReply *r = cmd(pc, "BGREWRITEAOF");
    char got[300];
    cr_assert_eq(r->type, REDIS_REPLY_STATUS, "BGREWRITEAOF: %s", reply_describe(r, got, sizeof got));
    freeReplyObject(r);
    cr_assert(wait_until(no_aof_rewrite, pc, 30000), "the AOF rewrite did not finish");
    char *status = srv_info_field(pc, "persistence", "aof_last_bgrewrite_status");
    cr_assert(status && !strcmp(status, "ok"), "aof_last_bgrewrite_status: %s", status ? status : "(none)");
    free(status);
    long emitted = count_in_base_aof(p, "DOC.AOFLOAD");
    /* one per document, and the version floor first */
    cr_assert_eq(emitted, primary.present + (primary.present > 0),
                 "the rewritten AOF holds %ld DOC.AOFLOAD commands for %d documents", emitted,
                 primary.present);
    redisFree(pc);
    srv_restart(p);
    pc = srv_connect(p);
    take_snapshot(pc, &other);
    expect_same(&primary, &other, "after a restart from the rewritten AOF");
    free_snapshot(&other);

    /* The RDB alone: SAVE, then a server with appendonly no starts from a copy. */
    expect_ok(cmd(pc, "SAVE"));
    srv *from_rdb = srv_start(NULL);
    srv_kill(from_rdb);
    char src[256], dst[256];
    snprintf(src, sizeof src, "%s/dump.rdb", p->dir);
    snprintf(dst, sizeof dst, "%s/dump.rdb", from_rdb->dir);
    copy_file(src, dst);
    srv_restart(from_rdb);
    redisContext *fc = srv_connect(from_rdb);
    char *aof = srv_info_field(fc, "persistence", "aof_enabled");
    cr_assert(aof && !strcmp(aof, "0"), "the RDB server runs with aof_enabled:%s", aof);
    free(aof);
    take_snapshot(fc, &other);
    expect_same(&primary, &other, "after a start from the RDB (appendonly no)");
    free_snapshot(&other);
    redisFree(fc);
    srv_stop(from_rdb);

    free_snapshot(&primary);
    redisFree(pc);
    srv_stop(p);
}
