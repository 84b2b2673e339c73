/*
 * type.c - the `atomicdoc` Redis module type: RDB save/load, AOF rewrite,
 * DEBUG DIGEST-VALUE, MEMORY USAGE, COPY, and the lazy-free effort.
 *
 * RDB encoding, encver 1: the version (unsigned), then the document as compact
 * JSON text (one string). Loading runs the same hardened parser as DOC.SET:
 * it validates UTF-8, duplicate keys and numbers, never recurses, and bounds
 * depth (by DOC_DEPTH_LIMIT, not the config: lowering max-depth must never
 * make an existing RDB unloadable). Every load call is followed by an IO
 * error check (REDISMODULE_OPTIONS_HANDLE_IO_ERRORS is set), so a truncated or
 * forged RESTORE payload is an error, never a crash. There is no count in the
 * payload to forge: the only length is the string's, which Redis checks
 * against the payload before it allocates.
 *
 * AOF rewrite emits DOC.AOFLOAD commands (cmd_basic.c): one per document
 * when its JSON is at most AOF_CHUNK bytes, else the document's containers
 * in batches of at most AOF_CHUNK bytes each, so no emitted argument comes
 * near proto-max-bulk-len. Each command carries the version.
 */
#include "atomicdoc.h"

#include <string.h>

#define ADOC_ENCVER 1
/* Largest JSON argument one AOF command carries (bytes). 4 MB keeps each
 * command far below proto-max-bulk-len (512 MB by default) and the AOF
 * loader's memory spikes small; a single string larger than this is emitted
 * whole (it cannot be split), and still fits proto-max-bulk-len because it
 * entered through a command. */
#define AOF_CHUNK (4u << 20)

RedisModuleType *adoc_type;

static void rdb_save(RedisModuleIO *io, void *value) {
    adoc *d = value;
    doc_buf text;
    doc_buf_init(&text);
    doc_print(doc_box_value(d->root), &text);
    RedisModule_SaveUnsigned(io, d->version);
    RedisModule_SaveStringBuffer(io, text.data ? text.data : "", text.len);
    doc_buf_free(&text);
}

static void *rdb_load(RedisModuleIO *io, int encver) {
    if (encver != ADOC_ENCVER) {
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
    if (version == 0) {
        RedisModule_Free(text);
        RedisModule_LogIOError(io, "warning", "atomicdoc: version 0 in payload");
        return NULL;
    }
    doc_error err;
    doc_error_clear(&err);
    doc_node *root = doc_parse(text, len, DOC_DEPTH_LIMIT, &err);
    RedisModule_Free(text);
    if (!root) {
        RedisModule_LogIOError(io, "warning", "atomicdoc: bad payload: %s %s at byte %zu",
                               doc_status_word(err.code), err.msg, err.offset);
        return NULL;
    }
    adoc *d = adoc_new_take(root);
    d->version = version;
    return d;
}

/* ---- AOF rewrite ---- */

/* Appends the JSON text of a string (a key) to out. */
static void print_key(const char *k, size_t klen, doc_buf *out) {
    doc_node *box = doc_box_string(k, klen);
    if (!box) {
        out->oom = 1;
        return;
    }
    doc_print(doc_box_value(box), out);
    doc_node_free(box);
}

static void emit(RedisModuleIO *aof, RedisModuleString *key, const adoc *d, doc_buf *path,
                 doc_buf *json) {
    RedisModule_EmitAOF(aof, "DOC.AOFLOAD", "slbb", key, (long long)d->version, path->data,
                        path->len, json->data, json->len);
}

/* Emits the container `val` at `path` (already present in the rebuilt
 * document, possibly empty) in batches; children larger than a chunk are
 * emitted as empty placeholders and then filled by a recursive call. The
 * recursion follows document depth, which max-depth bounds. */
static void emit_children(RedisModuleIO *aof, RedisModuleString *key, const adoc *d,
                          doc_buf *path, const uint8_t *val) {
    doc_view v;
    doc_value_decode(val, &v);
    int is_obj = v.type == DOC_OBJECT;
    doc_buf batch, pending;  /* pending: (path length, child value ptr) of big children */
    doc_buf_init(&batch);
    doc_buf_init(&pending);
    doc_iter it;
    const char *k;
    size_t klen;
    const uint8_t *child;
    doc_iter_init(&it, v.node);
    uint32_t index = 0;
    int any = 0;
    for (;;) {
        int more = doc_iter_next(&it, &k, &klen, &child, NULL);
        if (!more || batch.len >= AOF_CHUNK) {
            if (any) {
                doc_buf_putc(&batch, is_obj ? '}' : ']');
                emit(aof, key, d, path, &batch);
            }
            /* Fill the placeholders of this batch now that they exist. */
            for (size_t off = 0; off < pending.len;) {
                const uint8_t *cv;
                size_t plen;
                memcpy(&cv, pending.data + off, sizeof cv);
                memcpy(&plen, pending.data + off + sizeof cv, sizeof plen);
                doc_buf sub;
                doc_buf_init(&sub);
                doc_buf_append(&sub, path->data, path->len);
                doc_buf_append(&sub, pending.data + off + sizeof cv + sizeof plen, plen);
                emit_children(aof, key, d, &sub, cv);
                doc_buf_free(&sub);
                off += sizeof cv + sizeof plen + plen;
            }
            batch.len = 0;
            pending.len = 0;
            any = 0;
            if (!more) break;
        }
        doc_buf_putc(&batch, any ? ',' : (is_obj ? '{' : '['));
        any = 1;
        if (is_obj) {
            print_key(k, klen, &batch);
            doc_buf_putc(&batch, ':');
        }
        size_t before = batch.len;
        doc_print(child, &batch);
        if (batch.len - before > AOF_CHUNK && (*child == DOC_TAG_OBJECT || *child == DOC_TAG_ARRAY)) {
            batch.len = before;
            doc_buf_append(&batch, *child == DOC_TAG_OBJECT ? "{}" : "[]", 2);
            doc_buf seg;
            doc_buf_init(&seg);
            if (is_obj) {
                doc_buf_putc(&seg, '[');
                print_key(k, klen, &seg);
                doc_buf_putc(&seg, ']');
            } else {
                char num[32];
                int n = snprintf(num, sizeof num, "[%u]", index);
                doc_buf_append(&seg, num, (size_t)n);
            }
            size_t plen = seg.len;
            doc_buf_append(&pending, &child, sizeof child);
            doc_buf_append(&pending, &plen, sizeof plen);
            doc_buf_append(&pending, seg.data, seg.len);
            doc_buf_free(&seg);
        }
        index++;
    }
    doc_buf_free(&batch);
    doc_buf_free(&pending);
}

static void aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    adoc *d = value;
    const uint8_t *root = doc_box_value(d->root);
    doc_buf json, path;
    doc_buf_init(&json);
    doc_buf_init(&path);
    doc_buf_putc(&path, '$');
    doc_print(root, &json);
    if (json.len <= AOF_CHUNK || (*root != DOC_TAG_OBJECT && *root != DOC_TAG_ARRAY)) {
        emit(aof, key, d, &path, &json);
    } else {
        json.len = 0;
        doc_buf_append(&json, *root == DOC_TAG_OBJECT ? "{}" : "[]", 2);
        emit(aof, key, d, &path, &json);
        emit_children(aof, key, d, &path, root);
    }
    doc_buf_free(&json);
    doc_buf_free(&path);
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
    return RedisModule_MallocSize((void *)d) + doc_node_memory(d->root);
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
    c->version = d->version;
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
    };
    adoc_type = RedisModule_CreateDataType(ctx, "atomicdoc", ADOC_ENCVER, &tm);
    return adoc_type ? REDISMODULE_OK : REDISMODULE_ERR;
}
