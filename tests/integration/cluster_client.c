/* cluster_client.c - key slots, a slot table and redirect following over hiredis.
 *
 * See cluster_client.h. Invariants: owner[] only ever holds ports learned from
 * CLUSTER SLOTS or from a MOVED reply; node[] never holds two entries for one port; a
 * context that reported an error (ctx->err) is freed at once, never reused.
 */
#include "cluster_client.h"
#include "../test_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define CONNECT_TIMEOUT_S 5      /* a local node that does not accept in 5 s is hung */
#define COMMAND_TIMEOUT_S 30     /* the same limit the harness puts on one command */
#define RETRY_PAUSE_MS 10        /* between TRYAGAIN / CLUSTERDOWN retries */
#define DEFAULT_TIMEOUT_MS 30000 /* a failover takes seconds; 30 s is plenty */

uint16_t cc_crc16(const char *buf, size_t len) {
    /* Bit by bit, most significant first: slow, but obviously the CCITT polynomial
     * x^16 + x^12 + x^5 + 1 with a zero start value, as the cluster spec says. */
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

int cc_key_slot(const char *key, size_t len) {
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1) return cc_crc16(open + 1, (size_t)(close - open - 1)) % CC_SLOTS;
    }
    return cc_crc16(key, len) % CC_SLOTS;
}

static void set_err(cc_client *cc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(cc_client *cc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cc->err, sizeof cc->err, fmt, ap);
    va_end(ap);
}

static void pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int find_node(const cc_client *cc, int port) {
    for (int i = 0; i < cc->nnodes; i++)
        if (cc->node[i].port == port) return i;
    return -1;
}

void cc_forget(cc_client *cc, int port) {
    int i = find_node(cc, port);
    if (i >= 0 && cc->node[i].ctx) {
        redisFree(cc->node[i].ctx);
        cc->node[i].ctx = NULL;
    }
}

redisContext *cc_node(cc_client *cc, int port) {
    int i = find_node(cc, port);
    if (i < 0) {
        if (cc->nnodes == CC_MAX_NODES) {
            set_err(cc, "more than %d nodes", CC_MAX_NODES);
            return NULL;
        }
        i = cc->nnodes++;
        cc->node[i].port = port;
        cc->node[i].ctx = NULL;
    }
    if (cc->node[i].ctx) return cc->node[i].ctx;
    struct timeval tv = {CONNECT_TIMEOUT_S, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        set_err(cc, "connect to 127.0.0.1:%d: %s", port, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    struct timeval cmd_tv = {COMMAND_TIMEOUT_S, 0};
    redisSetTimeout(c, cmd_tv);
    cc->node[i].ctx = c;
    return c;
}

/* A connection that failed mid-command: record why and drop it. */
static void conn_failed(cc_client *cc, int port, const char *what) {
    int i = find_node(cc, port);
    const char *why = (i >= 0 && cc->node[i].ctx) ? cc->node[i].ctx->errstr : "?";
    set_err(cc, "%s on 127.0.0.1:%d: %s", what, port, why);
    cc_forget(cc, port);
}

/* Fills owner[] from one node's CLUSTER SLOTS. 0, or -1 with cc->err set. */
static int load_slots(cc_client *cc, int port) {
    redisContext *c = cc_node(cc, port);
    if (!c) return -1;
    redisReply *r = redisCommand(c, "CLUSTER SLOTS");
    if (!r) {
        conn_failed(cc, port, "CLUSTER SLOTS");
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        set_err(cc, "CLUSTER SLOTS on %d: unexpected reply type %d %s", port, r->type,
                r->type == REDIS_REPLY_ERROR ? r->str : "");
        freeReplyObject(r);
        return -1;
    }
    uint16_t owner[CC_SLOTS] = {0};
    for (size_t i = 0; i < r->elements; i++) {
        /* [from, to, [host, port, id, ...] primary, replicas...] */
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
            e->element[2]->elements < 2 || e->element[2]->element[1]->type != REDIS_REPLY_INTEGER) {
            set_err(cc, "CLUSTER SLOTS on %d: malformed entry %zu", port, i);
            freeReplyObject(r);
            return -1;
        }
        long long from = e->element[0]->integer, to = e->element[1]->integer;
        long long p = e->element[2]->element[1]->integer;
        if (from < 0 || to >= CC_SLOTS || from > to || p <= 0 || p > 65535) {
            set_err(cc, "CLUSTER SLOTS on %d: bad range %lld-%lld port %lld", port, from, to, p);
            freeReplyObject(r);
            return -1;
        }
        for (long long s = from; s <= to; s++) owner[s] = (uint16_t)p;
    }
    freeReplyObject(r);
    memcpy(cc->owner, owner, sizeof owner);
    return 0;
}

int cc_refresh(cc_client *cc) {
    if (load_slots(cc, cc->seed_port) == 0) return 0;
    for (int i = 0; i < cc->nnodes; i++)
        if (cc->node[i].port != cc->seed_port && load_slots(cc, cc->node[i].port) == 0) return 0;
    return -1;
}

cc_client *cc_new(int seed_port) {
    cc_client *cc = calloc(1, sizeof *cc);
    if (!cc) return NULL;
    cc->seed_port = seed_port;
    cc->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (cc_refresh(cc) != 0) {
        fprintf(stderr, "cluster_client: %s\n", cc->err);
        cc_free(cc);
        return NULL;
    }
    return cc;
}

void cc_free(cc_client *cc) {
    if (!cc) return;
    for (int i = 0; i < cc->nnodes; i++)
        if (cc->node[i].ctx) redisFree(cc->node[i].ctx);
    free(cc);
}

/* Parses "MOVED 3999 127.0.0.1:6381" / "ASK ..." after the word: slot and port. */
static int parse_redirect(const char *s, int *slot, int *port) {
    const char *sp = strchr(s, ' ');
    if (!sp) return -1;
    char *end;
    long sl = strtol(sp + 1, &end, 10);
    if (end == sp + 1 || *end != ' ' || sl < 0 || sl >= CC_SLOTS) return -1;
    const char *colon = strrchr(end, ':');
    if (!colon) return -1;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p <= 0 || p > 65535) return -1;
    *slot = (int)sl;
    *port = (int)p;
    return 0;
}

static int starts_with_word(const redisReply *r, const char *word) {
    size_t n = strlen(word);
    return r->type == REDIS_REPLY_ERROR && r->len >= n && !strncmp(r->str, word, n) &&
           (r->str[n] == ' ' || r->str[n] == '\0');
}

redisReply *cc_commandv(cc_client *cc, int key_index, int argc, const char **argv) {
    if (key_index < 0 || key_index >= argc) {
        set_err(cc, "key index %d out of 0..%d", key_index, argc - 1);
        return NULL;
    }
    int slot = cc_key_slot(argv[key_index], strlen(argv[key_index]));
    int port = cc->owner[slot];
    if (!port) {
        if (cc_refresh(cc) != 0) return NULL;
        port = cc->owner[slot] ? cc->owner[slot] : cc->seed_port;
    }
    int asking = 0;
    long long deadline = test_now_ms() + cc->timeout_ms;
    for (;;) {
        redisContext *c = cc_node(cc, port);
        if (!c) return NULL;
        redisReply *r = NULL;
        if (asking) {
            /* Pipelined, as the spec asks: ASKING holds for the next command only. */
            redisAppendCommand(c, "ASKING");
            redisAppendCommandArgv(c, argc, argv, NULL);
            redisReply *ok = NULL;
            if (redisGetReply(c, (void **)&ok) != REDIS_OK || !ok) {
                conn_failed(cc, port, "ASKING");
                return NULL;
            }
            int fine = ok->type == REDIS_REPLY_STATUS && !strcmp(ok->str, "OK");
            if (!fine)
                set_err(cc, "ASKING on %d replied %s", port,
                        ok->type == REDIS_REPLY_ERROR ? ok->str : "a non-OK reply");
            freeReplyObject(ok);
            if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
                conn_failed(cc, port, argv[0]);
                return NULL;
            }
            if (!fine) {
                freeReplyObject(r);
                return NULL;
            }
            asking = 0;
        } else {
            r = redisCommandArgv(c, argc, argv, NULL);
            if (!r) {
                conn_failed(cc, port, argv[0]);
                return NULL;
            }
        }
        int rslot, rport;
        if (starts_with_word(r, "MOVED")) {
            if (parse_redirect(r->str, &rslot, &rport) != 0 || rslot != slot) {
                set_err(cc, "%s for key %s (slot %d): not a MOVED for that slot", r->str, argv[key_index],
                        slot);
                freeReplyObject(r);
                return NULL;
            }
            cc->owner[slot] = (uint16_t)rport;
            port = rport;
            cc->stats.moved++;
        } else if (starts_with_word(r, "ASK")) {
            if (parse_redirect(r->str, &rslot, &rport) != 0 || rslot != slot) {
                set_err(cc, "%s for key %s (slot %d): not an ASK for that slot", r->str, argv[key_index],
                        slot);
                freeReplyObject(r);
                return NULL;
            }
            port = rport;
            asking = 1;
            cc->stats.ask++;
        } else if (starts_with_word(r, "TRYAGAIN") || starts_with_word(r, "CLUSTERDOWN")) {
            /* TRYAGAIN: the same node, once the migration of the keys is over.
             * CLUSTERDOWN: a failover is under way; the new primary shows up in a
             * fresh table (a failing refresh keeps the old one, and we retry). */
            cc->stats.retried++;
            pause_ms(RETRY_PAUSE_MS);
            if (starts_with_word(r, "CLUSTERDOWN")) (void)cc_refresh(cc);
            if (cc->owner[slot]) port = cc->owner[slot];
        } else {
            cc->stats.commands++;
            return r;
        }
        if (test_now_ms() > deadline) {
            set_err(cc, "%s %s: still redirected after %d ms, last: %s", argv[0], argv[key_index],
                    cc->timeout_ms, r->str);
            freeReplyObject(r);
            return NULL;
        }
        freeReplyObject(r);
    }
}
