/*
 * atomicdoc.h - what the Redis glue files share: the stored document, the
 * configuration, statistics, and the command skeleton every command runs
 * through (see command.c).
 *
 * A command is a list of *ops* over a list of *key slots*. A single-key
 * command is one op on one slot; DOC.MSET is several SET ops; DOC.TXN is any
 * ops over its declared keys. Ops change documents only through the core's
 * undoable edits, so a failing op rolls every change of the command back.
 */
#ifndef ATOMICDOC_GLUE_H
#define ATOMICDOC_GLUE_H

#include "doc.h"
#include "redismodule.h"

/* The value stored under a Redis key. */
typedef struct adoc {
    doc_node *root;   /* root box: the document's value */
    uint64_t version; /* 1 at creation, +1 per changing command */
    char *text;       /* read cache: the whole document's JSON text, or NULL;
                            dropped by any edit (see command.c) */
    size_t text_len;  /* its length */
} adoc;

/* The read cache (command.c): whole-document JSON kept by DOC.GET until the
 * document's next change, within a global byte budget. */
void adoc_text_drop(adoc *d);
/* The cached text of d, or NULL. */
const char *adoc_text(const adoc *d, size_t *len);
/* Offers freshly printed text of the whole document for caching (a copy). */
void adoc_text_offer(adoc *d, const char *text, size_t len);
/* Offers the buffer itself: on 1 the document owns b->data (shrunk to
 * b->len) and b must not free it; on 0 (cached already, empty, over the
 * budget) b is untouched. */
int adoc_text_adopt(adoc *d, doc_buf *b);
extern long long adoc_cache_bytes; /* bytes cached now (atomic) */

extern RedisModuleType *adoc_type;
/* 1 under the load argument `rdb-encoding text` (module.c): the type is
 * registered with encver 1 and saves JSON text, as before encver 2 (for
 * comparison benchmarks and for RDBs an older atomicdoc must read). */
extern int adoc_rdb_text;

/* Versions never repeat for a key: a new document (DOC.SET of a missing key,
 * an upsert, a write that creates, COPY) gets a version greater than any
 * version this server has given or loaded, so a client holding the version of
 * a deleted document can never mistake a re-created one for it. This floor is
 * part of the dataset: saved in the RDB (aux data), written first in an AOF
 * rewrite, raised by every loaded or restored document, and advanced only by
 * commands, so a replica or an AOF replay computes the same versions. */
extern uint64_t adoc_version_floor;
/* The version a new document gets (advances the floor). */
uint64_t version_next(void);
/* Raises the floor to v (a version given or loaded). */
static inline void version_seen(uint64_t v) {
    if (v > adoc_version_floor) adoc_version_floor = v;
}

adoc *adoc_new_take(doc_node *root);
void adoc_free(void *value);

/* Large committed garbage freed on the module's thread (lazyfree.c). */
int lazyfree_start(RedisModuleCtx *ctx);    /* OnLoad: starts the thread */
void lazyfree_reap(doc_node *n, void *arg); /* the shared undo log's reaper */
int lazyfree_config_get(const char *name, void *privdata);
int lazyfree_config_set(const char *name, int val, void *privdata, RedisModuleString **err);
void lazyfree_info(RedisModuleInfoCtx *ctx); /* INFO fields lazyfree* */

/* Configuration (module configs, see module.c). */
typedef struct adoc_config {
    long long max_depth;         /* nesting limit of documents and paths */
    long long max_document_size; /* largest JSON argument accepted, bytes */
    long long max_txn_ops;       /* most ops in one DOC.TXN */
    long long read_cache_max;    /* byte budget of the read cache; 0: off */
} adoc_config;
extern adoc_config adoc_cfg;

/* The loading rule: what we wrote must load whatever the configs say now.
 * Commands from a primary's replication stream and from the AOF loader replay
 * writes that were accepted once (perhaps under other configs, or as RDB or
 * RESTORE data that only the hard limits bound), so they are held to the hard
 * limits (DOC_DEPTH_LIMIT, no size or op-count limit) instead of max-depth,
 * max-document-size and max-txn-ops. Checked lazily, only when a config limit
 * is about to refuse something, so the common path pays nothing.
 * cmd_begin() is called by every handler before it parses anything. */
void cmd_begin(RedisModuleCtx *ctx);
/* 1 when the running command comes from a primary or the AOF loader. */
int cmd_replaying(void);
/* 1 when the running command's client speaks RESP3 (HELLO 3): the JSON.*
 * ops' reply shapes and default path depend on it, inside DOC.TXN too. */
int cmd_resp3(void);
/* 1 when err is a config limit's TOODEEP that a replayed command may pass:
 * the caller then retries with DOC_DEPTH_LIMIT (err is cleared). */
int limit_waived(doc_error *err);

/* Statistics for INFO atomicdoc (main thread only, except the counters
 * touched by the allocator and the lazy-free thread, which are atomic). */
typedef struct adoc_stats {
    long long errors[DOC_STATUS_COUNT + 1]; /* error replies by code; last: WRONGTYPE */
    long long txn_commits;                  /* DOC.TXN that committed */
    long long txn_aborts;                   /* DOC.TXN that aborted */
} adoc_stats;
extern adoc_stats adoc_st;
extern long long adoc_documents; /* documents alive (atomic) */

/* ------------------------------------------------------------------ */
/* Results: what a command replies, built before any reply is sent.   */
/* ------------------------------------------------------------------ */

/* RES_DOUBLE and RES_BOOL reply by the client's protocol (reply.c): RESP3
 * gets a double / a boolean, RESP2 the JSON text as a bulk string. */
typedef enum {
    RES_NONE,
    RES_OK,
    RES_NIL,
    RES_INT,
    RES_BULK,
    RES_SIMPLE,
    RES_ARRAY,
    RES_DOUBLE,
    RES_BOOL
} res_kind;

typedef struct result {
    res_kind kind;        /* what this is */
    long long i;          /* RES_INT; RES_BOOL: 0 or 1 */
    double d;             /* RES_DOUBLE */
    doc_buf text;         /* RES_BULK / RES_SIMPLE; RES_DOUBLE: its JSON text */
    int borrowed;         /* text.data is a document's cached text (see
                                exec_ctx.borrow): res_free leaves it alone */
    size_t n;             /* RES_ARRAY: items */
    struct result *items; /* RES_ARRAY: n items */
} result;

void res_int(result *r, long long v);
void res_nil(result *r);
void res_ok(result *r);
void res_simple(result *r, const char *s);
/* A double (RESP3 double, RESP2 its JSON text) / a boolean (RESP3 boolean,
 * RESP2 "true"/"false"); reply.c. */
void res_double(result *r, double d);
void res_bool(result *r, int b);
/* Prints the JSON text of an encoded value as a bulk string. */
void res_json(result *r, const uint8_t *val);
/* Makes r an array of n empty results; returns its items (NULL on OOM). */
result *res_array(result *r, size_t n);
void res_free(result *r);

/* ------------------------------------------------------------------ */
/* Key slots, ops, execution                                          */
/* ------------------------------------------------------------------ */

typedef struct keyslot {
    RedisModuleString *name; /* key name */
    RedisModuleKey *key;     /* open key */
    int wrongtype;           /* holds a non-atomicdoc value */
    adoc *orig;              /* the document when the command began, or NULL */
    adoc *doc;               /* the document now (NULL: none, or deleted) */
    int changed;             /* written by this command */
    const char *event;       /* notification of the first change */
    long long set_version;   /* > 0: commit sets this version (AOF rebuild) */
    int ttl;                 /* TTL_*: what commit does to the key's expiry */
    long long expire_at;     /* TTL_SET: the absolute expiry, ms */
} keyslot;

/* What a command does to a key's time to live (keyslot.ttl); the last op
 * that says something wins. */
enum { TTL_KEEP, TTL_CLEAR, TTL_SET };

typedef struct exec_ctx {
    RedisModuleCtx *ctx;       /* the command's context */
    keyslot *keys;             /* the slots */
    int nkeys;                 /* how many */
    doc_undo *undo;            /* every edit of this command */
    doc_error err;             /* the first failure */
    doc_buf graveyard;         /* adoc* created then deleted by this command:
                                  freed after commit/rollback, since the undo
                                  log may point into them until then */
    int borrow;                /* 1: no op of this command writes, so a cached
                                  text stays until the reply is sent and a
                                  result may point into it instead of copying
                                  (DOC.GET, DOC.MGET; never DOC.TXN, where a
                                  later op can drop the text) */
    const struct op *final_op; /* the op running, when it is the command's
                                  only op at a single path: if it succeeds
                                  the command commits, so its last edit
                                  (after which it cannot fail) needs no
                                  inverse (doc_edit_set_encoded_final);
                                  else NULL */
} exec_ctx;

/* Paths and values an op holds without allocating. */
#define OP_INLINE 4

/* A parsed op. The fields a kind needs are filled by its parser; the rest
 * stay zero, but num, lo and hi, which only the parsers of the ops that read
 * them set (exec_single does not zero them). Everything here is owned by
 * the op (op_reset frees it). */
typedef struct op {
    const struct op_def *def; /* what it is */
    int key;                  /* slot index */
    doc_path **paths;         /* paths; NULL where queries[i] is set */
    doc_query **queries;      /* RFC 9535 query paths of reads, or NULL (npaths slots) */
    int npaths;
    doc_node **values; /* parsed JSON values (boxes) */
    int nvalues;
    int flags;              /* OPF_* */
    long long n1, n2;       /* numeric arguments */
    RedisModuleString *raw; /* an argument kept as is */
    doc_view num;           /* INCR's delta / MUL's factor */
    doc_view lo, hi;        /* INCR's MIN / MAX bounds (numbers) */
    /* First slots of paths/queries/values, so most ops parse without
     * allocating. An op must not move once it holds them (DOC.TXN sizes its
     * op array before parsing). */
    doc_path *path_slot[OP_INLINE];
    doc_query *query_slot[OP_INLINE];
    doc_node *value_slot[OP_INLINE];
    doc_filter *filter;             /* a compiled filter (PULL WHERE, UPDATE IF, CHECK MATCH) */
    doc_update *update;             /* a compiled update document (UPDATE) */
    long long expire_ms;            /* SET / UPSERT: EX PX EXAT PXAT as an absolute
                                  time in ms (> 0), or 0 */
    RedisModuleString **expire_arg; /* a relative EX / PX keyword in the
                                  command's argv (rewritten to PXAT for
                                  replicas and the AOF), or NULL */
} op;

#define OPF_NX 1
#define OPF_XX 2
#define OPF_WITHVERSION 4
#define OPF_KEEPTTL (1 << 20)
/* DOC.MSET: an op with a query path replies OK as a whole, not one result
 * per match (op_each_match). */
#define OPF_REPLY_OK (1 << 21)
/* paths[0] is NULL and queries[0] an RFC 9535 query: exec_ops runs the op
 * through its def's run_query (set by op_add_write_path). */
#define OPF_QUERY (1 << 22)

typedef struct op_def {
    const char *name;  /* op / command name without "DOC." */
    const char *event; /* keyspace event on change */
    int write;         /* 1: writes */
    int min_args;      /* arguments after the key, at least */
    int max_args;      /* at most; -1: no limit */
    /* Parses argv (the arguments after the key). */
    doc_status (*parse)(op *o, RedisModuleString **argv, int argc, doc_error *err);
    /* Runs on slot k; fills out. On error the command is rolled back. */
    doc_status (*run)(op *o, exec_ctx *x, keyslot *k, result *out);
    /* What the op does to its key, as key-spec flags (KF_*): ACL and key
     * specs read them. ACCESS whenever the reply reveals anything of the
     * document beyond its existence and counts (a value, a comparison). */
    uint64_t keyflags;
    /* When the flags depend on the arguments (UPDATE with IF or RETURN),
     * the flags for these arguments (those after the key); else NULL. */
    uint64_t (*keyflags_of)(RedisModuleString **argv, int argc);
    /* Inside DOC.TXN (txn_usage NULL: not a TXN op): the required arguments
     * after the key, the option keywords allowed ("AT:1" takes one
     * parameter, "#" an integer), where they may stand (TXN_OPT_*), and the
     * op's shape in a TXN for error messages (cmd_txn.c). */
    int txn_positional;
    const char *txn_options;
    const char *txn_usage;
    int txn_option_place;
    /* Writes whose path may be an RFC 9535 query (their parser stores it
     * in queries[0] through op_add_write_path): runs the op at every match,
     * one result per match (op_each_match, or an op's own wrapper around
     * it). NULL: the op takes single paths only (its parser refuses
     * queries), or handles queries itself (reads, JSON.*). */
    doc_status (*run_query)(op *o, exec_ctx *x, keyslot *k, result *out);
    /* 1: the runner replaces or removes the value at its path whole and
     * never edits inside a container there (SET, DEL, INCR, CLEAR, CAS, ...;
     * not MERGE, PUSH, POP, PULL, ADDTOSET). op_each_match then runs it at
     * elements that are containers on a stand-in too (doc_stage, which
     * borrows their nodes); scalars always are. */
    int whole_values;
} op_def;

/* Where a TXN op's options stand among its required arguments. */
enum {
    TXN_OPT_AFTER_FIRST, /* anywhere after the first (DOC.PUSH k path [AT i] json) */
    TXN_OPT_LEADING,     /* only before the first (JSON.GET k [INDENT s] path) */
    TXN_OPT_TRAILING     /* only after the last (JSON.ARRINDEX k path json [start [stop]]) */
};

/* Key-spec flags of ops (op_def.keyflags). */
#define KF_READ (REDISMODULE_CMD_KEY_RO | REDISMODULE_CMD_KEY_ACCESS)
#define KF_UPDATE (REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_UPDATE)
#define KF_INSERT (REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_INSERT)
#define KF_DELETE (REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_DELETE)
#define KF_READ_UPDATE (KF_UPDATE | REDISMODULE_CMD_KEY_ACCESS)
#define KF_READ_DELETE (KF_DELETE | REDISMODULE_CMD_KEY_ACCESS)
/* Commands whose flags depend on their arguments (DOC.UPDATE's IF/RETURN,
 * DOC.TXN's ops) declare the widest flags plus VARIABLE_FLAGS, and answer
 * Redis's key-position request with the exact ones (getkeys-api). */
#define KF_VARIES (KF_READ_UPDATE | REDISMODULE_CMD_KEY_VARIABLE_FLAGS)
/* The flags op `def` has with these arguments. */
uint64_t op_keyflags(const op_def *def, RedisModuleString **argv, int argc);

/* Helpers for parsers and runners (command.c). */
doc_status arg_path(RedisModuleString *s, doc_path **out, doc_error *err);
/* Forgets the compiled paths arg_path keeps (max-depth changed). */
void path_cache_flush(void);
/* A read's path: a single path (*out), or an RFC 9535 query with wildcards,
 * descendants, slices, unions or filters (*query). Exactly one is set. */
doc_status arg_read_path(RedisModuleString *s, doc_path **out, doc_query **query, doc_error *err);
doc_status arg_json(RedisModuleString *s, doc_node **out, doc_error *err);
/* The generic run_query: resolves the targets of o->queries[0]
 * (doc_query_targets: each matched node once), runs o->def->run at each,
 * deepest and last first, with o->paths[0] set to the target and fresh
 * copies of the op's values, and fills `out` with an array of the results
 * in document order. No document or no match: an empty array. The first
 * failing match fails the op (the command then rolls every match back).
 * Neighbouring matches that are elements of one array run on a stand-in
 * (doc_stage) and the array is written once (command.c run_siblings). */
doc_status op_each_match(op *o, exec_ctx *x, keyslot *k, result *out);
/* Compiles a filter document (held to max-depth under the loading rule). */
doc_status arg_filter(const uint8_t *f, doc_filter **out, doc_error *err);
doc_status arg_ll(RedisModuleString *s, long long *out, const char *what, doc_error *err);
/* A TTL option at argv[i] (EX s, PX ms, EXAT t, PXAT t; KEEPTTL when
 * keep_ok) into o->expire_ms / expire_arg / OPF_KEEPTTL, held to SET's rules
 * (`cmd` names the command in "invalid expire time in 'doc.set' command").
 * Returns the arguments it took (0: not a TTL option), or -1 with err set. */
int arg_ttl(op *o, RedisModuleString **argv, int i, int argc, int keep_ok, const char *cmd, doc_error *err);
/* SYNTAX error for a keyword out of place: "<word> goes <where>: <usage>". */
doc_status arg_misplaced(RedisModuleString *word, const char *where, const char *usage, doc_error *err);
int arg_is(RedisModuleString *s, const char *word);
/* 1 when the len bytes at p are `word` (len bytes too) in any ASCII case:
 * arg_is's rule on text already in hand, inline and without libc (DOC.TXN
 * compares a few words per op; strncasecmp's call cost ~40 instructions a
 * word there). Letters fold; every other byte must be equal. */
static inline int word_is(const char *p, size_t len, const char *word, size_t wlen) {
    if (len != wlen) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char a = (unsigned char)p[i], b = (unsigned char)word[i];
        if (a != b && ((a | 0x20) != (b | 0x20) || (unsigned char)((b | 0x20) - 'a') > 'z' - 'a')) return 0;
    }
    return 1;
}
/* Frees what the op holds (paths, queries, values, filter, update). */
void op_reset(op *o);
/* Adds a path / value to the op (takes ownership). */
doc_status op_add_path(op *o, doc_path *p, doc_error *err);
/* Adds a read path: a single path or a query (one of them NULL). */
doc_status op_add_read_path(op *o, doc_path *p, doc_query *q, doc_error *err);
doc_status op_add_value(op *o, doc_node *v, doc_error *err);
/* The slow half of op_add_write_path, once arg_path refused s (err says
 * why): when s is an RFC 9535 query that is not a single path, compiles it
 * into *q, marks the op OPF_QUERY, clears err and returns DOC_OK; else
 * returns the query compiler's TOODEEP / NOMEM, or the BADPATH of whichever
 * compiler read further (so single-path mistakes keep their hints). */
doc_status arg_write_query(op *o, RedisModuleString *s, doc_query **q, doc_error *err);
/* Adds a write's path to the op: a single path, or an RFC 9535 query with
 * wildcards, descendants, slices, unions or filters (then OPF_QUERY: the op
 * runs at every match, op_def.run_query). Inline, and the query check only
 * runs when the path compiler refused the text, so a cached single path
 * costs what it cost before writes took queries (DOC.INCR's hot path). */
static inline doc_status op_add_write_path(op *o, RedisModuleString *s, doc_error *err) {
    doc_path *p;
    doc_query *q = NULL;
    if (arg_path(s, &p, err) && arg_write_query(o, s, &q, err)) return err->code;
    if (!o->paths && !q) { /* the first path, as op_add_read_path adds it */
        o->paths = o->path_slot;
        o->queries = o->query_slot;
        o->path_slot[0] = p;
        o->query_slot[0] = NULL;
        o->npaths = 1;
        return DOC_OK;
    }
    return op_add_read_path(o, p, q, err);
}

/* The slot's document, created as {} (version 0 until commit) if missing. */
adoc *slot_ensure(exec_ctx *x, keyslot *k);
/* Marks the slot changed. */
void slot_touch(keyslot *k, const op *o);
/* Deletes the slot's document (kept alive until the command ends). */
void slot_delete(exec_ctx *x, keyslot *k, const op *o);
/* Records what op o does to the key's TTL: its EX/PX/EXAT/PXAT, or, when it
 * replaced the whole document without KEEPTTL (`replaces`), clearing it. */
void slot_ttl(keyslot *k, const op *o, int replaces);

/* How exec_ops runs a command (its `mode`, EXEC_* or-ed). */
#define EXEC_WRITE 1  /* opens the keys for writing */
#define EXEC_PER_OP 2 /* replies an array: one result per op (DOC.MGET, DOC.TXN) */
#define EXEC_TXN \
    4 /* an error names the op that failed ("ABORTED op N: ...")
                                  and the INFO txn_commits / txn_aborts count it */
#define EXEC_OTHER_TYPE_NIL \
    8 /* an op on a key of another type replies nil instead of
                                  failing (DOC.MGET, as MGET does for non-strings) */

/* Runs one command made of ops: opens the keys, runs, commits or rolls back,
 * notifies, replicates when something changed (argv, argc: the command as
 * sent; verbatim unless a relative TTL must become absolute), replies: the
 * result, or the first error through reply.c (nothing changed then). */
int exec_ops(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, RedisModuleString **keynames, int nkeys,
             op *ops, int nops, int mode);
/* The generic handler of a single-key command: DOC.<def> key args... */
int exec_single(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, const op_def *def);
/* The same for a caller that has already seen this is not a key position
 * request (command_dispatch asks once). */
int exec_single_run(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, const op_def *def);

/* Replies (reply.c): the only place errors and results become replies. */
int reply_error(RedisModuleCtx *ctx, const doc_error *err);
int reply_wrongtype(RedisModuleCtx *ctx);
/* DOC.TXN's failure: "ABORTED op N: <code word> <message>" (a failed CHECK,
 * already ABORTED, keeps its message alone); counted in INFO txn_aborts. */
int reply_txn_error(RedisModuleCtx *ctx, const doc_error *err, int op_number);
int reply_result(RedisModuleCtx *ctx, const result *r);
/* Keeps the bytes of a +OK reply for reply_result to send as they are
 * (OnLoad, once; reply.c says why). */
void reply_ok_prepare(RedisModuleCtx *ctx);
/* ERR wrong number of arguments for '<command>' command (command.c), the one
 * error that keeps Redis's ERR: Redis itself replies it for too few. */
int reply_arity(RedisModuleCtx *ctx, RedisModuleString *name);

/* Command tables (cmd_*.c) and registration. */
extern const op_def op_set, op_get, op_del, op_type, op_len, op_keys, op_version;
extern const op_def op_incr, op_mul, op_min, op_max, op_strappend, op_push, op_pop, op_pull, op_addtoset,
    op_indexof, op_toggle, op_clear, op_merge, op_cas, op_update, op_check;
/* The JSON.* face (cmd_json.c): RedisJSON's commands as ops. */
extern const op_def op_json_set, op_json_get, op_json_del, op_json_type, op_json_strlen, op_json_arrlen,
    op_json_objlen, op_json_objkeys, op_json_resp, op_json_numincrby, op_json_nummultby, op_json_strappend,
    op_json_arrappend, op_json_arrinsert, op_json_arrindex, op_json_arrpop, op_json_arrtrim, op_json_clear,
    op_json_toggle, op_json_merge;
int cmd_json_mget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int cmd_json_mset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int cmd_json_debug(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int commands_register(RedisModuleCtx *ctx);
int type_register(RedisModuleCtx *ctx);

/* ------------------------------------------------------------------ */
/* Commands: each described once, in the file of its op               */
/* ------------------------------------------------------------------ */

/* Key-spec shapes: one key after the name; MSET's key path json triples; MGET's
 * keys then a path; TXN's numkeys then keys (like EVAL). */
enum { KS_ONE, KS_MSET, KS_MGET, KS_TXN };

/* A command as Redis sees it. Declared with ADOC_COMMAND next to its op in the
 * op's file; registration, COMMAND DOCS, ACL categories (from .flags) and the
 * INFO counter (calls_<name>) all come from here (module.c). */
typedef struct command_def {
    const char *name;                  /* as registered: "doc.incr" */
    const op_def *op;                  /* the op it runs (exec_single), or NULL */
    RedisModuleCmdFunc handler;        /* a handler of its own (MSET, TXN, ...), or NULL */
    const char *flags;                 /* Redis command flags */
    int first, last, step;             /* legacy key positions; 0: from keyshape */
    int arity;                         /* Redis arity (negative: at least) */
    int keyshape;                      /* KS_* */
    uint64_t keyflags;                 /* key-spec flags; 0: the op's */
    const char *summary;               /* COMMAND DOCS */
    const char *complexity;            /* COMMAND DOCS */
    const RedisModuleCommandArg *args; /* COMMAND DOCS arguments, or NULL */
    int json;                          /* a JSON.* command (json-commands may leave it out) */
} command_def;

/* Adds a command to the registry (module.c); OnLoad sorts the registry by
 * name and writes the command's place in it to *slot. Called by the
 * constructors ADOC_COMMAND makes, before RedisModule_OnLoad. */
void command_add(const command_def *c, RedisModuleCmdFunc fn, int *slot);
/* The op DOC.TXN accepts under this name, or NULL: CHECK, a DOC.* command's
 * op by its name without DOC. (SET), a registered JSON.* command's by its
 * full name (JSON.SET). */
const op_def *txn_op_named(RedisModuleString *name);
/* Counts the call and runs the command in `slot` (its op, or its handler). */
int command_dispatch(int slot, RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* Declares a command: `id` names it in C, the rest are command_def fields. */
#define ADOC_COMMAND(id, ...)                                                      \
    static const command_def id##_def = {__VA_ARGS__};                             \
    static int id##_slot;                                                          \
    static int id##_run(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) { \
        return command_dispatch(id##_slot, ctx, argv, argc);                       \
    }                                                                              \
    __attribute__((constructor)) static void id##_add(void) { command_add(&id##_def, id##_run, &id##_slot); }

/* COMMAND DOCS argument shorthands (RedisModuleCommandArg; key arguments
 * point at key spec 0, which every command declares). Every argument that
 * takes a value carries its display_text (its name, as Redis's own command
 * tables do); pure tokens and groups carry none. The struct comes from the
 * Redis 8.0 header: servers from 7.2 on read display_text, Redis 7.0 reads the
 * same array with the size the header announces and skips what it does not know. */
#define KEY(n) \
    { .name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0 }
#define KEYS(n)                                                                              \
    {                                                                                        \
        .name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0, \
        .flags = REDISMODULE_CMD_ARG_MULTIPLE                                                \
    }
#define STR(n) \
    { .name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1 }
#define STR_OPT(n)                                                                               \
    {                                                                                            \
        .name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1, \
        .flags = REDISMODULE_CMD_ARG_OPTIONAL                                                    \
    }
#define STRS(n)                                                                                  \
    {                                                                                            \
        .name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1, \
        .flags = REDISMODULE_CMD_ARG_MULTIPLE                                                    \
    }
#define STRS_OPT(n)                                                                              \
    {                                                                                            \
        .name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_STRING, .key_spec_index = -1, \
        .flags = REDISMODULE_CMD_ARG_OPTIONAL | REDISMODULE_CMD_ARG_MULTIPLE                     \
    }
#define INT(n) \
    { .name = n, .display_text = n, .type = REDISMODULE_ARG_TYPE_INTEGER, .key_spec_index = -1 }
#define TOKEN(n, t) \
    { .name = n, .type = REDISMODULE_ARG_TYPE_PURE_TOKEN, .key_spec_index = -1, .token = t }
#define TOKEN_OPT(n, t)                                                                       \
    {                                                                                         \
        .name = n, .type = REDISMODULE_ARG_TYPE_PURE_TOKEN, .key_spec_index = -1, .token = t, \
        .flags = REDISMODULE_CMD_ARG_OPTIONAL                                                 \
    }
#define WITH_TOKEN(n, t, ty)                                                        \
    {                                                                               \
        .name = n, .display_text = n, .type = ty, .key_spec_index = -1, .token = t, \
        .flags = REDISMODULE_CMD_ARG_OPTIONAL                                       \
    }
#define END \
    { 0 }
#define TTL_ARG(n, t, ty) \
    { .name = n, .type = ty, .key_spec_index = -1, .token = t }

#endif
