/*
 * module.c - RedisModule_OnLoad: the allocator hook, module options, configs,
 * the type, INFO atomicdoc, and the command table with its key specs.
 *
 * Reads are `readonly fast` with RO|ACCESS key specs (an ACL user with
 * %R~pattern can run them); writes are `write deny-oom` with RW key specs,
 * plus ACCESS where the reply reveals the document (op_def.keyflags).
 * Key positions come from key specs, so Redis Cluster routes every command
 * and rejects multi-key commands across slots with CROSSSLOT.
 */
#include "atomicdoc.h"

#include <string.h>

adoc_config adoc_cfg = {DOC_DEPTH_DEFAULT, 512LL << 20, 1000, 64LL << 20};
adoc_stats adoc_st;
long long adoc_documents;

/* ---- allocator hook: Redis's allocator, so used_memory sees every byte.
 * The core counts its document bytes itself (doc_memory_in_use) at the few
 * places it allocates nodes, rather than asking the allocator for sizes
 * around every allocation (which cost as much as a whole HINCRBY). ---- */

static void *hook_alloc(size_t n) { return RedisModule_Alloc(n); }
static void *hook_realloc(void *p, size_t n) { return RedisModule_Realloc(p, n); }
static void hook_free(void *p) { RedisModule_Free(p); }
static size_t hook_usable(void *p) { return RedisModule_MallocSize(p); }

/* ---- commands ---- */

extern const op_def op_aofload;
int cmd_mset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int cmd_mget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#define SINGLE(fn, def)                                                              \
    static int fn(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {        \
        return exec_single(ctx, argv, argc, &def);                                  \
    }

/* Calls per command for INFO atomicdoc, counted by a wrapper per row
 * (commands[] below, same order). */
#define NCOMMANDS 26
static long long calls[NCOMMANDS];
#define COUNTED(i, fn)                                                              \
    static int counted_##i(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) { \
        if (!RedisModule_IsKeysPositionRequest(ctx)) calls[i]++;                   \
        return fn(ctx, argv, argc);                                                 \
    }
SINGLE(cmd_set, op_set)
SINGLE(cmd_get, op_get)
SINGLE(cmd_del, op_del)
SINGLE(cmd_type, op_type)
SINGLE(cmd_len, op_len)
SINGLE(cmd_keys, op_keys)
SINGLE(cmd_version, op_version)
int cmd_aofload(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
SINGLE(cmd_incr, op_incr)
SINGLE(cmd_mul, op_mul)
SINGLE(cmd_min, op_min)
SINGLE(cmd_max, op_max)
SINGLE(cmd_strappend, op_strappend)
SINGLE(cmd_push, op_push)
SINGLE(cmd_pop, op_pop)
SINGLE(cmd_pull, op_pull)
SINGLE(cmd_addtoset, op_addtoset)
SINGLE(cmd_indexof, op_indexof)
SINGLE(cmd_toggle, op_toggle)
SINGLE(cmd_clear, op_clear)
SINGLE(cmd_merge, op_merge)
SINGLE(cmd_cas, op_cas)
SINGLE(cmd_update, op_update)
int cmd_txn(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* Key-spec shapes. */
enum { KS_ONE, KS_MSET, KS_MGET, KS_TXN };

/* One row of the command table. */
typedef struct cmd_row {
    const char *name;                 /* as registered */
    RedisModuleCmdFunc fn;            /* handler */
    const char *flags;                /* Redis command flags */
    int first, last, step;            /* legacy key positions */
    int arity;                        /* Redis arity (negative: at least) */
    int keyshape;                     /* KS_* */
    uint64_t keyflags;                /* REDISMODULE_CMD_KEY_* */
    const char *summary;              /* COMMAND DOCS */
    const char *complexity;           /* COMMAND DOCS */
} cmd_row;

/* Commands whose flags depend on their arguments (DOC.UPDATE's IF/RETURN,
 * DOC.TXN's ops) declare the widest flags plus VARIABLE_FLAGS, and answer
 * Redis's key-position request with the exact ones (getkeys-api). */
#define KF_VARIES (KF_READ_UPDATE | REDISMODULE_CMD_KEY_VARIABLE_FLAGS)

COUNTED(0, cmd_set)
COUNTED(1, cmd_mset)
COUNTED(2, cmd_get)
COUNTED(3, cmd_mget)
COUNTED(4, cmd_del)
COUNTED(5, cmd_type)
COUNTED(6, cmd_len)
COUNTED(7, cmd_keys)
COUNTED(8, cmd_version)
COUNTED(9, cmd_incr)
COUNTED(10, cmd_mul)
COUNTED(11, cmd_min)
COUNTED(12, cmd_max)
COUNTED(13, cmd_strappend)
COUNTED(14, cmd_push)
COUNTED(15, cmd_pop)
COUNTED(16, cmd_pull)
COUNTED(17, cmd_addtoset)
COUNTED(18, cmd_indexof)
COUNTED(19, cmd_toggle)
COUNTED(20, cmd_clear)
COUNTED(21, cmd_merge)
COUNTED(22, cmd_cas)
COUNTED(23, cmd_update)
COUNTED(24, cmd_txn)
COUNTED(25, cmd_aofload)

static const cmd_row commands[] = {
    {"doc.set", counted_0, "write deny-oom", 1, 1, 1, -4, KS_ONE, KF_UPDATE,
     "Sets the JSON value at a path, creating the document and missing parents",
     "O(depth + size of the value + size of the container changed)"},
    {"doc.mset", counted_1, "write deny-oom", 1, -1, 3, -4, KS_MSET, KF_UPDATE,
     "Sets several values in several documents, all or nothing", "O(sum of the DOC.SET costs)"},
    {"doc.get", counted_2, "readonly fast", 1, 1, 1, -2, KS_ONE, KF_READ,
     "Returns the JSON text at one or more paths", "O(depth + size of the reply)"},
    {"doc.mget", counted_3, "readonly", 1, -2, 1, -3, KS_MGET, KF_READ,
     "Returns the JSON text at one path of several documents", "O(keys x (depth + reply))"},
    {"doc.del", counted_4, "write", 1, 1, 1, -2, KS_ONE,
     KF_DELETE,
     "Deletes a document, or the member or element at a path", "O(depth + size of the container)"},
    {"doc.type", counted_5, "readonly fast", 1, 1, 1, -2, KS_ONE, KF_READ,
     "Returns the JSON type at a path", "O(depth)"},
    {"doc.len", counted_6, "readonly fast", 1, 1, 1, -2, KS_ONE, KF_READ,
     "Returns the size of the object, array or string at a path", "O(depth)"},
    {"doc.keys", counted_7, "readonly fast", 1, 1, 1, -2, KS_ONE, KF_READ,
     "Returns the member names of the object at a path", "O(depth + members)"},
    {"doc.version", counted_8, "readonly fast", 1, 1, 1, 2, KS_ONE, KF_READ,
     "Returns the version of a document (0 when missing)", "O(1)"},
    {"doc.incr", counted_9, "write deny-oom fast", 1, 1, 1, -4, KS_ONE, KF_READ_UPDATE,
     "Adds to a number (int64 exact, else double), optionally within MIN/MAX bounds",
     "O(depth + size of the container changed)"},
    {"doc.mul", counted_10, "write deny-oom fast", 1, 1, 1, 4, KS_ONE, KF_READ_UPDATE,
     "Multiplies a number (int64 exact, else double)", "O(depth + size of the container changed)"},
    {"doc.min", counted_11, "write deny-oom", 1, 1, 1, 4, KS_ONE, KF_READ_UPDATE,
     "Keeps the smaller of the value at a path and the given one", "O(depth + size of the container changed)"},
    {"doc.max", counted_12, "write deny-oom", 1, 1, 1, 4, KS_ONE, KF_READ_UPDATE,
     "Keeps the larger of the value at a path and the given one", "O(depth + size of the container changed)"},
    {"doc.strappend", counted_13, "write deny-oom", 1, 1, 1, 4, KS_ONE, KF_INSERT,
     "Appends to a string", "O(depth + length of the string)"},
    {"doc.push", counted_14, "write deny-oom", 1, 1, 1, -4, KS_ONE, KF_INSERT,
     "Appends or inserts values into an array, optionally keeping only n elements",
     "O(depth + size of the array)"},
    {"doc.pop", counted_15, "write deny-oom", 1, 1, 1, -3, KS_ONE, KF_READ_DELETE,
     "Removes and returns one element of an array", "O(depth + size of the array)"},
    {"doc.pull", counted_16, "write deny-oom", 1, 1, 1, -4, KS_ONE, KF_DELETE,
     "Removes every array element equal to a value or matching a filter", "O(depth + size of the array)"},
    {"doc.addtoset", counted_17, "write deny-oom", 1, 1, 1, -4, KS_ONE, KF_INSERT,
     "Appends the values an array does not hold yet", "O(depth + size of the array x values)"},
    {"doc.indexof", counted_18, "readonly fast", 1, 1, 1, 4, KS_ONE, KF_READ,
     "Returns the first index of a value in an array, or -1", "O(depth + size of the array)"},
    {"doc.toggle", counted_19, "write deny-oom fast", 1, 1, 1, 3, KS_ONE, KF_READ_UPDATE,
     "Flips a boolean", "O(depth)"},
    {"doc.clear", counted_20, "write deny-oom", 1, 1, 1, 3, KS_ONE, KF_UPDATE,
     "Empties a container or zeroes a number", "O(depth + size of what is cleared)"},
    {"doc.merge", counted_21, "write deny-oom", 1, 1, 1, 4, KS_ONE, KF_UPDATE,
     "Applies a JSON Merge Patch (RFC 7396)", "O(depth + size of the patch x containers touched)"},
    {"doc.cas", counted_22, "write deny-oom", 1, 1, 1, 5, KS_ONE, KF_READ_UPDATE,
     "Sets a value only if the current one deep-equals the expected one (or is ABSENT)",
     "O(depth + size of the values)"},
    {"doc.update", counted_23, "write deny-oom getkeys-api", 1, 1, 1, -3, KS_ONE, KF_VARIES,
     "Applies a MongoDB-style update document, optionally only if the document matches a filter",
     "O(size of the document touched by the operators)"},
    {"doc.txn", counted_24, "write deny-oom getkeys-api", 0, 0, 0, -4, KS_TXN, KF_VARIES,
     "Runs several ops on several documents atomically, all or nothing, with CHECK assertions",
     "O(sum of the ops' costs)"},
    {"doc.aofload", counted_25, "write deny-oom", 1, 1, 1, -5, KS_ONE,
     KF_UPDATE,
     "Internal: rebuilds a document and its version from an AOF rewrite", "O(size of the value)"},
};

RedisModuleCommandArg *cmdinfo_args(const char *name);

static int register_command(RedisModuleCtx *ctx, const cmd_row *r) {
    if (RedisModule_CreateCommand(ctx, r->name, r->fn, r->flags, r->first, r->last, r->step) ==
        REDISMODULE_ERR)
        return REDISMODULE_ERR;
    RedisModuleCommand *cmd = RedisModule_GetCommand(ctx, r->name);
    RedisModuleCommandKeySpec specs[2];
    memset(specs, 0, sizeof specs);
    specs[0].flags = r->keyflags;
    specs[0].begin_search_type = REDISMODULE_KSPEC_BS_INDEX;
    specs[0].bs.index.pos = 1;
    if (r->keyshape == KS_TXN) {
        /* DOC.TXN numkeys key ...: like EVAL. */
        specs[0].find_keys_type = REDISMODULE_KSPEC_FK_KEYNUM;
        specs[0].fk.keynum.keynumidx = 0;
        specs[0].fk.keynum.firstkey = 1;
        specs[0].fk.keynum.keystep = 1;
    } else {
        specs[0].find_keys_type = REDISMODULE_KSPEC_FK_RANGE;
        specs[0].fk.range.lastkey = r->keyshape == KS_ONE ? 0 : r->keyshape == KS_MSET ? -1 : -2;
        specs[0].fk.range.keystep = r->keyshape == KS_MSET ? 3 : 1;
        specs[0].fk.range.limit = 0;
    }
    RedisModuleCommandInfo info = {
        .version = REDISMODULE_COMMAND_INFO_VERSION,
        .summary = r->summary,
        .complexity = r->complexity,
        .since = "1.0.0",
        .arity = r->arity,
        .key_specs = specs,
        .args = cmdinfo_args(r->name),
    };
    return RedisModule_SetCommandInfo(cmd, &info);
}

/* ---- configs ---- */

static long long *config_slot(const char *name) {
    if (!strcasecmp(name, "max-depth")) return &adoc_cfg.max_depth;
    if (!strcasecmp(name, "max-document-size")) return &adoc_cfg.max_document_size;
    if (!strcasecmp(name, "read-cache-max-memory")) return &adoc_cfg.read_cache_max;
    return &adoc_cfg.max_txn_ops;
}
static long long config_get(const char *name, void *privdata) {
    (void)privdata;
    return *config_slot(name);
}
static int config_set(const char *name, long long val, void *privdata, RedisModuleString **err) {
    (void)privdata;
    (void)err;
    *config_slot(name) = val;
    if (!strcasecmp(name, "max-depth")) path_cache_flush();
    return REDISMODULE_OK;
}

/* ---- the version floor (atomicdoc.h) ----
 * Loading an RDB or AOF replaces the dataset (a restart, DEBUG RELOAD, a
 * replica's full sync): the floor starts again from what is loaded (the RDB's
 * aux data or the AOF's FLOOR, and every loaded version), so a replica ends
 * up with its primary's floor, not a higher one of the data it dropped. */
static void on_loading(RedisModuleCtx *ctx, RedisModuleEvent e, uint64_t sub, void *data) {
    (void)ctx;
    (void)e;
    (void)data;
    if (sub == REDISMODULE_SUBEVENT_LOADING_RDB_START || sub == REDISMODULE_SUBEVENT_LOADING_AOF_START ||
        sub == REDISMODULE_SUBEVENT_LOADING_REPL_START)
        adoc_version_floor = 0;
}

/* ---- INFO atomicdoc ---- */

static void info(RedisModuleInfoCtx *ctx, int for_crash_report) {
    (void)for_crash_report;
    RedisModule_InfoAddSection(ctx, "");
    RedisModule_InfoAddFieldLongLong(ctx, "documents", __atomic_load_n(&adoc_documents, __ATOMIC_RELAXED));
    RedisModule_InfoAddFieldLongLong(ctx, "memory_bytes", doc_memory_in_use());
    RedisModule_InfoAddFieldLongLong(ctx, "read_cache_bytes",
                                     __atomic_load_n(&adoc_cache_bytes, __ATOMIC_RELAXED));
    RedisModule_InfoAddFieldLongLong(ctx, "txn_commits", adoc_st.txn_commits);
    RedisModule_InfoAddFieldLongLong(ctx, "txn_aborts", adoc_st.txn_aborts);
    RedisModule_InfoAddFieldULongLong(ctx, "version_floor", adoc_version_floor);
    for (int i = 0; i < NCOMMANDS; i++) {
        char name[48];
        snprintf(name, sizeof name, "calls_%s", commands[i].name + 4);   /* skip "doc." */
        RedisModule_InfoAddFieldLongLong(ctx, name, calls[i]);
    }
    for (int c = DOC_ERR; c < DOC_STATUS_COUNT; c++) {
        if (c == DOC_TOOBIG) continue;   /* reported under ERR's word */
        char field[48];
        const char *w = doc_status_word((doc_status)c);
        size_t i = 0;
        for (; i < 30 && w[i]; i++) field[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
        field[i] = '\0';
        char name[64];
        snprintf(name, sizeof name, "errors_%s", field);
        long long n = adoc_st.errors[c] + (c == DOC_ERR ? adoc_st.errors[DOC_TOOBIG] : 0);
        RedisModule_InfoAddFieldLongLong(ctx, name, n);
    }
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx,
                                                              RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    if (RedisModule_Init(ctx, "atomicdoc", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    RedisModule_SetModuleOptions(ctx, REDISMODULE_OPTIONS_HANDLE_IO_ERRORS |
                                          REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED);
    doc_allocator a = {hook_alloc, hook_realloc, hook_free, hook_usable};
    doc_alloc_set(&a);

    if (RedisModule_RegisterNumericConfig(ctx, "max-depth", DOC_DEPTH_DEFAULT, REDISMODULE_CONFIG_DEFAULT,
                                          1, DOC_DEPTH_LIMIT, config_get, config_set, NULL, NULL) ||
        RedisModule_RegisterNumericConfig(ctx, "max-document-size", 512LL << 20,
                                          REDISMODULE_CONFIG_MEMORY, 1024, 4LL << 30, config_get,
                                          config_set, NULL, NULL) ||
        RedisModule_RegisterNumericConfig(ctx, "max-txn-ops", 1000, REDISMODULE_CONFIG_DEFAULT, 1,
                                          100000, config_get, config_set, NULL, NULL) ||
        RedisModule_RegisterNumericConfig(ctx, "read-cache-max-memory", 64LL << 20,
                                          REDISMODULE_CONFIG_MEMORY, 0, 1LL << 40, config_get,
                                          config_set, NULL, NULL) ||
        RedisModule_LoadConfigs(ctx))
        return REDISMODULE_ERR;

    if (type_register(ctx) == REDISMODULE_ERR) return REDISMODULE_ERR;
    _Static_assert(sizeof commands / sizeof commands[0] == NCOMMANDS, "one counter per command");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (register_command(ctx, &commands[i]) == REDISMODULE_ERR) {
            RedisModule_Log(ctx, "warning", "atomicdoc: cannot register %s", commands[i].name);
            return REDISMODULE_ERR;
        }
    RedisModule_RegisterInfoFunc(ctx, info);
    RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_Loading, on_loading);
    return REDISMODULE_OK;
}
