/* cluster_client.h - a small Redis Cluster client for the cluster tests.
 *
 * hiredis 0.14 knows nothing of Redis Cluster, so this does the client's share of
 * the cluster protocol by hand, on 127.0.0.1 only:
 *
 *   - key -> slot: CRC16 (CCITT, the XMODEM variant: polynomial 0x1021, initial value
 *     0, no reflection, no final xor) of the key, or of its hash tag (the bytes
 *     between the first `{` and the first `}` after it, when not empty), modulo 16384;
 *   - slot -> node: a table filled from CLUSTER SLOTS (primaries only);
 *   - redirects: `MOVED slot host:port` updates the table and resends there; `ASK slot
 *     host:port` sends ASKING then the command to that node once, without touching the
 *     table; `TRYAGAIN` (a multi-key command during a migration) and `CLUSTERDOWN`
 *     (a failover in progress) are retried after a short pause, until a deadline.
 *
 * A client owns one connection per node it has talked to; it is not thread-safe: give
 * each thread its own. Nothing here asserts or fails a test (worker threads use it):
 * a function that fails returns NULL / -1 and leaves a one-line reason in cc->err.
 *
 * Ownership: replies returned are the caller's (freeReplyObject). cc_free() closes
 * every connection.
 */
#ifndef ATOMICDOC_CLUSTER_CLIENT_H
#define ATOMICDOC_CLUSTER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define CC_SLOTS 16384  /* Redis Cluster's fixed number of hash slots */
#define CC_MAX_NODES 16 /* connections one client keeps; a test cluster has 6 */

/* What a client did, for tests to assert on (counts since cc_new). */
typedef struct cc_stats {
    long moved;    /* MOVED redirects followed */
    long ask;      /* ASK redirects followed (ASKING sent) */
    long retried;  /* TRYAGAIN / CLUSTERDOWN replies retried */
    long commands; /* commands that got a final reply */
} cc_stats;

typedef struct cc_client {
    uint16_t owner[CC_SLOTS]; /* port of the primary serving each slot; 0: unknown */
    struct {
        int port;          /* 127.0.0.1 port of this node */
        redisContext *ctx; /* its connection; NULL until first used */
    } node[CC_MAX_NODES];
    int nnodes;     /* entries used in node[] */
    int seed_port;  /* a node to ask for the slot table */
    int timeout_ms; /* how long one cc_command may keep retrying */
    cc_stats stats; /* counters, see cc_stats */
    char err[512];  /* why the last failing call failed */
} cc_client;

/* CRC16-CCITT (XMODEM) of `len` bytes. cc_crc16("123456789", 9) == 0x31C3. */
uint16_t cc_crc16(const char *buf, size_t len);

/* The hash slot of a key, honouring hash tags. */
int cc_key_slot(const char *key, size_t len);

/* A client that learns the slot table from the node on `seed_port` (CLUSTER SLOTS).
 * NULL when that fails; the reason is printed to stderr. */
cc_client *cc_new(int seed_port);

/* Re-reads the slot table, from the seed node or, when that is down, from any node
 * the client knows. Returns 0, or -1 with cc->err set. */
int cc_refresh(cc_client *cc);

/* The connection to the node on `port`, opened on first use (5 s connect timeout,
 * 30 s per command). NULL with cc->err set when it cannot connect. A connection
 * that failed is dropped, so the next call reconnects. */
redisContext *cc_node(cc_client *cc, int port);

/* Closes the connection to `port` (after the node died, say). */
void cc_forget(cc_client *cc, int port);

/* Runs argv on the node serving the slot of `key` (argv[key_index]), following
 * redirects as described above. Returns the final reply, which may be an error reply
 * other than MOVED/ASK/TRYAGAIN/CLUSTERDOWN; NULL with cc->err set when a connection
 * fails (the command may or may not have run) or retries outlast cc->timeout_ms. */
redisReply *cc_commandv(cc_client *cc, int key_index, int argc, const char **argv);

/* Closes everything and frees the client. NULL is fine. */
void cc_free(cc_client *cc);

#endif
