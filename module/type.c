/*
 * type.c - the `atomicdoc` Redis module type: RDB save/load, AOF rewrite,
 * DEBUG DIGEST-VALUE, MEMORY USAGE, COPY, and the lazy-free effort.
 *
 * RDB encoding, encver 2 (written by default): the version (unsigned), then
 * the document's tree in the binary form of doc_tree_serialize (one string):
 * each node's packed bytes as they are in memory, child pointers zeroed,
 * nodes in depth-first order. Loading is a copy and one validating walk per
 * node (doc_tree_load), no JSON parsing; it trusts nothing in the payload
 * (lengths, counts, tags, integer encodings, finite doubles, UTF-8, duplicate
 * keys, depth, trailing bytes) and bounds depth by DOC_DEPTH_LIMIT, not the
 * config: lowering max-depth must never make an existing RDB unloadable.
 *
 * RDB encoding, encver 1 (still loaded; written only under the load argument
 * `rdb-encoding text`, which registers the type with encver 1, for the
 * benchmark and for an RDB an older atomicdoc must read): the version, then
 * the document as compact JSON text (one string), loaded by the same
 * hardened parser as DOC.SET.
 *
 * Either way every load call is followed by an IO error check
 * (REDISMODULE_OPTIONS_HANDLE_IO_ERRORS is set), so a truncated or forged
 * RESTORE payload is an error, never a crash: the payload's one string is
 * read by Redis into a buffer of its length (a forged length makes the read
 * or the allocation fail: an IO error), and every length and count inside
 * it is checked by the core against that buffer. A version of 0 or beyond
 * int64 is refused too.
 *
 * AOF rewrite emits DOC.AOFLOAD commands (cmd_basic.c): one per document
 * when its JSON is at most AOF_CHUNK bytes, else the JSON text in slices of
 * at most AOF_CHUNK bytes, so no emitted argument comes near
 * proto-max-bulk-len. Each command carries the version.
 */
#include "atomicdoc.h"

#include <string.h>

/* The encoding written: 2, the binary tree; 1, JSON text (see above). */
#define ADOC_ENCVER 2
#define ADOC_ENCVER_TEXT 1
/* Largest JSON argument one AOF command carries (bytes). 4 MB keeps each
 * command far below proto-max-bulk-len (512 MB by default) and the AOF
 * loader's memory spikes small. */
#define AOF_CHUNK (4u << 20)

RedisModuleType *adoc_type;
int adoc_rdb_text;

static void rdb_save(RedisModuleIO *io, void *value) {
    adoc *d = value;
    doc_buf out;
    doc_buf_init(&out);
    if (adoc_rdb_text)
        doc_print(doc_box_value(d->root), &out);
    else
        doc_tree_serialize(d->root, &out);
    /* Out of memory (out.oom) cannot be reported from here; the allocator
     * hook is Redis's, which aborts on OOM before the core would see NULL. */
    RedisModule_SaveUnsigned(io, d->version);
    RedisModule_SaveStringBuffer(io, out.data ? out.data : "", out.len);
    doc_buf_free(&out);
}

static void *rdb_load(RedisModuleIO *io, int encver) {
    if (encver != ADOC_ENCVER && encver != ADOC_ENCVER_TEXT) {
        RedisModule_LogIOError(io, "warning", "atomicdoc: unknown encoding version %d", encver);
        return NULL;
    }
    uint64_t version = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io)) return NULL;
    size_t len = 0;
    char *text = RedisModule_LoadStringBuffer(io, &len);
    if (RedisModule_IsIOError(io) || !text) {
        if (text) RedisModule_Free(text);
        return NULL;
    }
    if (version == 0 || version > (uint64_t)INT64_MAX) {
        RedisModule_Free(text);
        RedisModule_LogIOError(io, "warning", "atomicdoc: version %llu out of range in payload",
                               (unsigned long long)version);
        return NULL;
    }
    doc_error err;
    doc_error_clear(&err);
    doc_node *root = encver == ADOC_ENCVER ? doc_tree_load((const uint8_t *)text, len, DOC_DEPTH_LIMIT, &err)
                                           : doc_parse(text, len, DOC_DEPTH_LIMIT, &err);
    RedisModule_Free(text);
    if (!root) {
        RedisModule_LogIOError(io, "warning", "atomicdoc: bad payload: %s %s at byte %zu",
                               doc_status_word(err.code), err.msg, err.offset);
        return NULL;
    }
    adoc *d = adoc_new_take(root);
    d->version = version;
    version_seen(version);
    return d;
}

/* The version floor (atomicdoc.h) as RDB aux data, saved before the keys: a
 * replica's full sync, DEBUG RELOAD and a restart from the RDB keep it, so
 * versions of documents deleted before the save are never given again. */
static void aux_save(RedisModuleIO *io, int when) {
    (void)when;
    RedisModule_SaveUnsigned(io, adoc_version_floor);
}

static int aux_load(RedisModuleIO *io, int encver, int when) {
    (void)when;
    /* The same aux data under both encodings. */
    if (encver != ADOC_ENCVER && encver != ADOC_ENCVER_TEXT) {
        RedisModule_LogIOError(io, "warning", "atomicdoc: unknown aux encoding version %d", encver);
        return REDISMODULE_ERR;
    }
    uint64_t floor = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io)) return REDISMODULE_ERR;
    version_seen(floor);
    return REDISMODULE_OK;
}

/* ---- AOF rewrite ----
 * One pass: the document is printed once and its text is sent in slices of
 * at most AOF_CHUNK bytes (DOC.AOFLOAD key version PARTS i n slice), which the
 * loader joins and parses as one text once the last slice arrives. Time and
 * AOF size are linear in the document's size whatever its shape (the former
 * container-by-container emission printed every subtree once per level above
 * it: O(depth x size)). A document of at most AOF_CHUNK bytes is one
 * DOC.AOFLOAD key version $ json, as before. */

static void aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    adoc *d = value;
    /* The version floor goes first (once per rewrite: the rewrite runs in a
     * fresh child process, where this starts at 0). */
    static int floor_sent;
    if (!floor_sent) {
        floor_sent = 1;
        RedisModule_EmitAOF(aof, "DOC.AOFLOAD", "slcl", key, (long long)d->version, "FLOOR",
                            (long long)adoc_version_floor);
    }
    doc_buf json;
    doc_buf_init(&json);
    doc_print(doc_box_value(d->root), &json);
    if (json.len <= AOF_CHUNK) {
        RedisModule_EmitAOF(aof, "DOC.AOFLOAD", "slcb", key, (long long)d->version, "$", json.data, json.len);
    } else {
        long long n = (long long)((json.len + AOF_CHUNK - 1) / AOF_CHUNK);
        for (long long i = 0; i < n; i++) {
            size_t off = (size_t)i * AOF_CHUNK;
            size_t len = json.len - off < AOF_CHUNK ? json.len - off : AOF_CHUNK;
            RedisModule_EmitAOF(aof, "DOC.AOFLOAD", "slcllb", key, (long long)d->version, "PARTS", i + 1, n,
                                json.data + off, len);
        }
    }
    doc_buf_free(&json);
}

/* ---- the rest ---- */

static void digest(RedisModuleDigest *md, void *value) {
    adoc *d = value;
    doc_buf text;
    doc_buf_init(&text);
    doc_print(doc_box_value(d->root), &text);
    RedisModule_DigestAddStringBuffer(md, text.data ? text.data : "", text.len);
    RedisModule_DigestAddLongLong(md, (long long)d->version);
    RedisModule_DigestEndSequence(md);
    doc_buf_free(&text);
}

static size_t mem_usage(const void *value) {
    const adoc *d = value;
    return RedisModule_MallocSize((void *)d) + doc_node_memory(d->root) +
           (d->text ? RedisModule_MallocSize(d->text) : 0);
}

static size_t free_effort(RedisModuleString *key, const void *value) {
    (void)key;
    const adoc *d = value;
    /* Bounded walk: anything above Redis's lazy-free threshold (64) goes to
     * the background thread, so counting past a few hundred is pointless. */
    return doc_node_count_nodes(d->root, 1024);
}

static void *copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    (void)from;
    (void)to;
    const adoc *d = value;
    doc_node *root = doc_value_copy(doc_box_value(d->root));
    if (!root) return NULL;
    adoc *c = adoc_new_take(root);
    c->version = version_next(); /* a new document: COPY is replicated as is, and
                                      replicas advance the same floor */
    return c;
}

int type_register(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods tm = {
        .version = REDISMODULE_TYPE_METHOD_VERSION,
        .rdb_load = rdb_load,
        .rdb_save = rdb_save,
        .aof_rewrite = aof_rewrite,
        .mem_usage = mem_usage,
        .free = adoc_free,
        .digest = digest,
        .free_effort = free_effort,
        .copy = copy,
        .aux_load = aux_load,
        .aux_save = aux_save,
        .aux_save_triggers = REDISMODULE_AUX_BEFORE_RDB,
    };
    adoc_type =
        RedisModule_CreateDataType(ctx, "atomicdoc", adoc_rdb_text ? ADOC_ENCVER_TEXT : ADOC_ENCVER, &tm);
    return adoc_type ? REDISMODULE_OK : REDISMODULE_ERR;
}
