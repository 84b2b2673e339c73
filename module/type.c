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
 * forged RESTORE payload is an error, never a crash. There is no element
 * count in the payload to forge: the only length is the string's, which
 * Redis reads into one buffer of that size; a forged length makes the read
 * (or the allocation attempt) fail, and the load is refused as an IO error.
 * A version of 0 or beyond int64 is refused too.
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
    if (version == 0 || version > (uint64_t)INT64_MAX) {
        RedisModule_Free(text);
        RedisModule_LogIOError(io, "warning", "atomicdoc: version %llu out of range in payload",
                               (unsigned long long)version);
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

/* Big children of the current batch: (value pointer, path suffix). */
typedef struct pending_list {
    doc_buf items;   /* records: const uint8_t *value, size_t len, suffix bytes */
} pending_list;

static void emit_children(RedisModuleIO *aof, RedisModuleString *key, const adoc *d,
                          doc_buf *path, const uint8_t *val);

/* Sends the batch (closing it) and then fills its placeholders. */
static void flush_batch(RedisModuleIO *aof, RedisModuleString *key, const adoc *d, doc_buf *path,
                        doc_buf *batch, pending_list *pend, int is_obj) {
    doc_buf_putc(batch, is_obj ? '}' : ']');
    emit(aof, key, d, path, batch);
    batch->len = 0;
    for (size_t off = 0; off < pend->items.len;) {
        const uint8_t *cv;
        size_t slen;
        memcpy(&cv, pend->items.data + off, sizeof cv);
        memcpy(&slen, pend->items.data + off + sizeof cv, sizeof slen);
        doc_buf sub;
        doc_buf_init(&sub);
        doc_buf_append(&sub, path->data, path->len);
        doc_buf_append(&sub, pend->items.data + off + sizeof cv + sizeof slen, slen);
        emit_children(aof, key, d, &sub, cv);
        doc_buf_free(&sub);
        off += sizeof cv + sizeof slen + slen;
    }
    pend->items.len = 0;
}

/* Emits the container `val` at `path` (already present in the rebuilt
 * document, empty) in batches of at most AOF_CHUNK bytes of JSON; a child
 * larger than a chunk goes as an empty placeholder, filled by a recursive
 * call once its batch is sent. The recursion follows document depth, which
 * max-depth bounds. A single scalar larger than a chunk goes alone. */
static void emit_children(RedisModuleIO *aof, RedisModuleString *key, const adoc *d,
                          doc_buf *path, const uint8_t *val) {
    doc_view v;
    doc_value_decode(val, &v);
    int is_obj = v.type == DOC_OBJECT;
    doc_buf batch, item, seg;
    pending_list pend;
    doc_buf_init(&batch);
    doc_buf_init(&item);
    doc_buf_init(&seg);
    doc_buf_init(&pend.items);
    doc_iter it;
    const char *k;
    size_t klen;
    const uint8_t *child;
    doc_iter_init(&it, v.node);
    for (uint32_t index = 0; doc_iter_next(&it, &k, &klen, &child, NULL); index++) {
        /* Render the entry: key and value, or key and a placeholder. */
        item.len = 0;
        if (is_obj) {
            print_key(k, klen, &item);
            doc_buf_putc(&item, ':');
        }
        size_t vstart = item.len;
        doc_print(child, &item);
        int big = item.len - vstart > AOF_CHUNK && (*child == DOC_TAG_OBJECT || *child == DOC_TAG_ARRAY);
        if (big) {
            item.len = vstart;
            doc_buf_append(&item, *child == DOC_TAG_OBJECT ? "{}" : "[]", 2);
        }
        /* Send the batch first if this entry would push it past a chunk. */
        if (batch.len && batch.len + item.len + 1 > AOF_CHUNK)
            flush_batch(aof, key, d, path, &batch, &pend, is_obj);
        doc_buf_putc(&batch, batch.len ? ',' : (is_obj ? '{' : '['));
        doc_buf_append(&batch, item.data, item.len);
        if (big) {
            seg.len = 0;
            if (is_obj) {
                doc_buf_putc(&seg, '[');
                print_key(k, klen, &seg);
                doc_buf_putc(&seg, ']');
            } else {
                char num[32];
                int n = snprintf(num, sizeof num, "[%u]", index);
                doc_buf_append(&seg, num, (size_t)n);
            }
            size_t slen = seg.len;
            doc_buf_append(&pend.items, &child, sizeof child);
            doc_buf_append(&pend.items, &slen, sizeof slen);
            doc_buf_append(&pend.items, seg.data, seg.len);
        }
    }
    if (batch.len) flush_batch(aof, key, d, path, &batch, &pend, is_obj);
    doc_buf_free(&batch);
    doc_buf_free(&item);
    doc_buf_free(&seg);
    doc_buf_free(&pend.items);
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
