/*
 * module.c - RedisModule_OnLoad: the allocator hook, module options, configs,
 * the type, INFO atomicdoc, and the command table with its key specs.
 *
 * Reads are `readonly fast` with RO|ACCESS key specs (an ACL user with
 * %R~pattern can run them); writes are `write deny-oom` with RW key specs,
 * plus ACCESS where the reply reveals the document (op_def.keyflags).
 * Key positions come from key specs, so Redis Cluster routes every command
 * and rejects multi-key commands across slots with CROSSSLOT.
 *
 * Built against the Redis 8.0 header, loaded by Redis 7.0 and 8.0 and Valkey
 * 8.0 and 8.1: an API call a server may lack is made only after
 * RMAPI_FUNC_SUPPORTED says it is there (the header leaves the pointer NULL).
 * ACL categories (servers from 7.2 on) follow from each row's flags, as
 * Redis derives its own commands' categories: write -> @write, readonly ->
 * @read, fast -> @fast, else @slow; plus @atomicdoc, our own category, and
 * for JSON.* @json, RedisJSON's category (servers with
 * RedisModule_AddACLCategory: Redis 7.4+, Valkey 8; on Redis 7.0 a module
 * can add no category, README "Coming from RedisJSON").
 */
#include "atomicdoc.h"

#include <errno.h>
#include <assert.h>
#include <string.h>

adoc_config adoc_cfg = {DOC_DEPTH_DEFAULT, 512LL << 20, 1000, 64LL << 20};
adoc_stats adoc_st;
long long adoc_documents;

/* ---- allocator hook: Redis's allocator, so used_memory sees every byte.
 * The core counts its document bytes itself (doc_memory_in_use) at the few
 * places it allocates nodes, rather than asking the allocator for sizes
 * around every allocation (which cost as much as a whole HINCRBY).
 * The hooks are the API's own function pointers (set by RedisModule_Init),
 * not wrappers: one call less per node allocated or freed. */

/* ---- the command registry ----
 * Every command is declared once, with ADOC_COMMAND next to its op in the
 * op's file (atomicdoc.h); the constructors it makes add it here when the
 * module is loaded, before OnLoad registers them all. */

#define MAX_COMMANDS 64 /* room for every DOC.* and JSON.* command */

typedef struct registered {
    const command_def *def; /* the description */
    RedisModuleCmdFunc fn;  /* its trampoline (command_dispatch with its slot) */
    int *slot;              /* where the trampoline reads its slot */
} registered;
static registered registry[MAX_COMMANDS];
static int ncommands;
static long long calls[MAX_COMMANDS]; /* INFO atomicdoc calls_<name>, by slot */

void command_add(const command_def *c, RedisModuleCmdFunc fn, int *slot) {
    assert(ncommands < MAX_COMMANDS); /* ours: raise MAX_COMMANDS */
    registry[ncommands].def = c;
    registry[ncommands].fn = fn;
    registry[ncommands].slot = slot;
    ncommands++;
}

static int by_name(const void *a, const void *b) {
    return strcasecmp(((const registered *)a)->def->name, ((const registered *)b)->def->name);
}

/* Constructors run in an order the linker chooses (link-time optimization
 * changes it): the registry is sorted by name once, so that registration,
 * INFO and the names-taken check see one order on every build. */
static void registry_sort(void) {
    qsort(registry, (size_t)ncommands, sizeof *registry, by_name);
    for (int i = 0; i < ncommands; i++) *registry[i].slot = i;
}

/* DOC.TXN's op names, hashed once at load (txn_names_build): a TXN looks up
 * every op's name, and a scan of the registry with a case-insensitive compare
 * per command cost about 370 instructions a name. DOC.* ops by their op name
 * (SET), CHECK, and JSON.* ones by their command name (JSON.SET, JSON.FORGET:
 * the op of JSON.DEL), these only when the JSON.* commands were registered
 * (with RedisJSON loaded instead, JSON.SET is RedisJSON's). */
#define TXN_NAME_SLOTS 128 /* a power of two, over twice the names */

static struct txn_name {
    const char *name; /* as written above, any case; NULL: empty slot */
    size_t len;       /* its length */
    const op_def *op; /* the op it names */
} txn_names[TXN_NAME_SLOTS];

/* FNV-1a of the name with ASCII letters folded to lower case. */
static uint32_t name_hash(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)(s[i] | 0x20)) * 16777619u;
    return h;
}

static void txn_name_add(const char *name, const op_def *def, int *used) {
    assert(*used < TXN_NAME_SLOTS / 2); /* ours: raise TXN_NAME_SLOTS */
    size_t len = strlen(name);
    uint32_t i = name_hash(name, len) & (TXN_NAME_SLOTS - 1);
    while (txn_names[i].name) i = (i + 1) & (TXN_NAME_SLOTS - 1);
    txn_names[i].name = name;
    txn_names[i].len = len;
    txn_names[i].op = def;
    ++*used;
}

static void txn_names_build(int with_json) {
    int used = 0;
    memset(txn_names, 0, sizeof txn_names);
    txn_name_add(op_check.name, &op_check, &used);
    for (int i = 0; i < ncommands; i++) {
        const command_def *c = registry[i].def;
        if (!c->op || !c->op->txn_usage || (c->json && !with_json)) continue;
        txn_name_add(c->json ? c->name : c->op->name, c->op, &used);
    }
}

const op_def *txn_op_named(RedisModuleString *name) {
    size_t len;
    const char *s = RedisModule_StringPtrLen(name, &len);
    if (!len || len > 32) return NULL; /* no op name is longer */
    for (uint32_t i = name_hash(s, len) & (TXN_NAME_SLOTS - 1); txn_names[i].name;
         i = (i + 1) & (TXN_NAME_SLOTS - 1))
        if (word_is(s, len, txn_names[i].name, txn_names[i].len)) return txn_names[i].op;
    return NULL;
}

int command_dispatch(int slot, RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    const command_def *c = registry[slot].def;
    if (RedisModule_IsKeysPositionRequest(ctx))
        return c->handler ? c->handler(ctx, argv, argc) : exec_single(ctx, argv, argc, c->op);
    calls[slot]++;
    if (c->handler) return c->handler(ctx, argv, argc);
    return exec_single_run(ctx, argv, argc, c->op); /* asked above */
}

/* Our own ACL category, and RedisJSON's for JSON.*, when the server let us
 * add them (OnLoad). */
#define ACL_CATEGORY "atomicdoc"
#define JSON_ACL_CATEGORY "json"
static int own_category, json_category;

/* Adds an ACL category; 1 when it is there to use. A category stays once
 * added, so a reload (MODULE UNLOAD + LOAD) finds it there (EBUSY) and uses
 * it again. */
static int add_category(RedisModuleCtx *ctx, const char *name) {
    if (!RMAPI_FUNC_SUPPORTED(RedisModule_AddACLCategory)) return 0;
    errno = 0;
    return RedisModule_AddACLCategory(ctx, name) == REDISMODULE_OK || errno == EBUSY;
}

/* The ACL categories of a row, from its command flags (see the top). */
static void acl_categories(const command_def *r, char *out, size_t len) {
    char flags[64];
    snprintf(flags, sizeof flags, " %s ", r->flags);
    snprintf(out, len, "%s %s%s%s", strstr(flags, " write ") ? "write" : "read",
             strstr(flags, " fast ") ? "fast" : "slow", own_category ? " " ACL_CATEGORY : "",
             r->json && json_category ? " " JSON_ACL_CATEGORY : "");
}

static int register_command(RedisModuleCtx *ctx, const command_def *r, RedisModuleCmdFunc fn) {
    /* Legacy key positions: from the key shape, unless the row gives them
     * (JSON.DEBUG MEMORY key: first 2). */
    int first = r->first, last = r->last, step = r->step;
    if (!first && r->keyshape != KS_TXN) {
        first = 1;
        last = r->keyshape == KS_ONE ? 1 : r->keyshape == KS_MSET ? -1 : -2;
        step = r->keyshape == KS_MSET ? 3 : 1;
    }
    if (RedisModule_CreateCommand(ctx, r->name, fn, r->flags, first, last, step) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    RedisModuleCommand *cmd = RedisModule_GetCommand(ctx, r->name);
    RedisModuleCommandKeySpec specs[2];
    memset(specs, 0, sizeof specs);
    specs[0].flags = r->keyflags ? r->keyflags : r->op->keyflags;
    specs[0].begin_search_type = REDISMODULE_KSPEC_BS_INDEX;
    specs[0].bs.index.pos = r->first > 1 ? r->first : 1; /* JSON.DEBUG MEMORY key */
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
        .args = (RedisModuleCommandArg *)r->args,
    };
    if (RedisModule_SetCommandInfo(cmd, &info) == REDISMODULE_ERR) return REDISMODULE_ERR;
    if (RMAPI_FUNC_SUPPORTED(RedisModule_SetCommandACLCategories)) {
        char cats[64];
        acl_categories(r, cats, sizeof cats);
        return RedisModule_SetCommandACLCategories(cmd, cats);
    }
    return REDISMODULE_OK;
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

/* JSON.* registration (OnLoad): the config / load argument, and the outcome
 * INFO shows: on, off, or off_names_taken. */
static int json_enabled = 1;
static const char *json_state = "off";

static int config_get_bool(const char *name, void *privdata) {
    (void)name;
    (void)privdata;
    return json_enabled;
}
static int config_set_bool(const char *name, int val, void *privdata, RedisModuleString **err) {
    (void)name;
    (void)privdata;
    (void)err;
    json_enabled = val;
    return REDISMODULE_OK;
}

static void info(RedisModuleInfoCtx *ctx, int for_crash_report) {
    (void)for_crash_report;
    RedisModule_InfoAddSection(ctx, "");
    RedisModule_InfoAddFieldLongLong(ctx, "documents", __atomic_load_n(&adoc_documents, __ATOMIC_RELAXED));
    RedisModule_InfoAddFieldLongLong(ctx, "memory_bytes", doc_memory_in_use());
    lazyfree_info(ctx);
    RedisModule_InfoAddFieldLongLong(ctx, "read_cache_bytes",
                                     __atomic_load_n(&adoc_cache_bytes, __ATOMIC_RELAXED));
    RedisModule_InfoAddFieldLongLong(ctx, "txn_commits", adoc_st.txn_commits);
    RedisModule_InfoAddFieldLongLong(ctx, "txn_aborts", adoc_st.txn_aborts);
    RedisModule_InfoAddFieldULongLong(ctx, "version_floor", adoc_version_floor);
    RedisModule_InfoAddFieldCString(ctx, "json_commands", (char *)json_state);
    for (int i = 0; i < ncommands; i++) {
        char name[48];
        /* calls_set for doc.set, calls_json_set for json.set */
        const command_def *c = registry[i].def;
        snprintf(name, sizeof name, "calls_%s%s", c->json ? "json_" : "", strchr(c->name, '.') + 1);
        RedisModule_InfoAddFieldLongLong(ctx, name, calls[i]);
    }
    for (int c = DOC_ERR; c < DOC_STATUS_COUNT; c++) {
        char field[48];
        const char *w = doc_status_word((doc_status)c);
        size_t i = 0;
        for (; i < 30 && w[i]; i++) field[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
        field[i] = '\0';
        char name[64];
        snprintf(name, sizeof name, "errors_%s", field);
        RedisModule_InfoAddFieldLongLong(ctx, name, adoc_st.errors[c]);
    }
}

/* 1 when the server already knows the command `name` (another module's).
 * RedisModule_GetCommand cannot tell: it finds only the calling module's own
 * commands; COMMAND INFO sees them all (nil for an unknown name). */
static int command_taken(RedisModuleCtx *ctx, const char *name) {
    RedisModuleCallReply *r = RedisModule_Call(ctx, "COMMAND", "cc", "INFO", name);
    int taken = r && RedisModule_CallReplyType(r) == REDISMODULE_REPLY_ARRAY &&
                RedisModule_CallReplyLength(r) == 1 &&
                RedisModule_CallReplyType(RedisModule_CallReplyArrayElement(r, 0)) == REDISMODULE_REPLY_ARRAY;
    if (r) RedisModule_FreeCallReply(r);
    return taken;
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv,
                                                              int argc) {
    if (RedisModule_Init(ctx, "atomicdoc", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    registry_sort();
    RedisModule_SetModuleOptions(ctx, REDISMODULE_OPTIONS_HANDLE_IO_ERRORS |
                                          REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED);
    doc_allocator a = {RedisModule_Alloc, RedisModule_Realloc, RedisModule_Free, RedisModule_MallocSize};
    doc_alloc_set(&a);

    if (RedisModule_RegisterNumericConfig(ctx, "max-depth", DOC_DEPTH_DEFAULT, REDISMODULE_CONFIG_DEFAULT, 1,
                                          DOC_DEPTH_LIMIT, config_get, config_set, NULL, NULL) ||
        RedisModule_RegisterNumericConfig(ctx, "max-document-size", 512LL << 20, REDISMODULE_CONFIG_MEMORY,
                                          1024, 4LL << 30, config_get, config_set, NULL, NULL) ||
        RedisModule_RegisterNumericConfig(ctx, "max-txn-ops", 1000, REDISMODULE_CONFIG_DEFAULT, 1, 100000,
                                          config_get, config_set, NULL, NULL) ||
        RedisModule_RegisterNumericConfig(ctx, "read-cache-max-memory", 64LL << 20, REDISMODULE_CONFIG_MEMORY,
                                          0, 1LL << 40, config_get, config_set, NULL, NULL) ||
        RedisModule_RegisterBoolConfig(ctx, "json-commands", 1, REDISMODULE_CONFIG_IMMUTABLE, config_get_bool,
                                       config_set_bool, NULL, NULL) ||
        RedisModule_RegisterBoolConfig(ctx, "lazyfree", 1, REDISMODULE_CONFIG_DEFAULT, lazyfree_config_get,
                                       lazyfree_config_set, NULL, NULL) ||
        RedisModule_LoadConfigs(ctx) || lazyfree_start(ctx))
        return REDISMODULE_ERR;

    /* Hidden load argument rdb-encoding text|binary (default binary): see
     * type.c. Not a config: the encoding version is fixed when the type is
     * registered. */
    for (int i = 0; i + 1 < argc; i += 2)
        if (!strcasecmp(RedisModule_StringPtrLen(argv[i], NULL), "rdb-encoding"))
            adoc_rdb_text = !strcasecmp(RedisModule_StringPtrLen(argv[i + 1], NULL), "text");
    if (type_register(ctx) == REDISMODULE_ERR) return REDISMODULE_ERR;
    own_category = add_category(ctx, ACL_CATEGORY);
    /* JSON.*: on unless turned off (config json-commands no, or the load
     * argument JSON-COMMANDS NO); left out whole when another module (RedisJSON)
     * holds any of the names. */
    for (int i = 0; i + 1 < argc; i += 2)
        if (!strcasecmp(RedisModule_StringPtrLen(argv[i], NULL), "json-commands"))
            json_enabled = strcasecmp(RedisModule_StringPtrLen(argv[i + 1], NULL), "no") != 0;
    json_state = json_enabled ? "on" : "off";
    for (int i = 0; json_enabled && i < ncommands; i++)
        if (registry[i].def->json && command_taken(ctx, registry[i].def->name)) {
            json_state = "off_names_taken";
            RedisModule_Log(
                ctx, "warning",
                "atomicdoc: %s is already registered (RedisJSON loaded?): loading without JSON.* commands",
                registry[i].def->name);
            break;
        }
    int with_json = strcmp(json_state, "on") == 0;
    txn_names_build(with_json);
    if (with_json) json_category = add_category(ctx, JSON_ACL_CATEGORY);
    for (int i = 0; i < ncommands; i++) {
        const command_def *c = registry[i].def;
        if (c->json && !with_json) continue;
        if (register_command(ctx, c, registry[i].fn) == REDISMODULE_ERR) {
            RedisModule_Log(ctx, "warning", "atomicdoc: cannot register %s", c->name);
            return REDISMODULE_ERR;
        }
    }
    reply_ok_prepare(ctx);
    RedisModule_RegisterInfoFunc(ctx, info);
    RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_Loading, on_loading);
    return REDISMODULE_OK;
}
