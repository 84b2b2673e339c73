/*
 * command.c - the one skeleton every atomicdoc command runs through:
 *
 *     parse arguments -> open keys -> run ops -> commit or roll back
 *       -> bump versions -> notify -> replicate -> reply
 *
 * Ops write documents only through the core's undoable edits (one undo log
 * per command), so when any op fails, doc_undo_rollback() puts every tree back
 * byte for byte, documents the command created are freed, and documents it
 * deleted are still there: an error reply means nothing changed and nothing
 * is replicated. Replication is verbatim: every command is deterministic
 * given the same data (integer and IEEE double arithmetic, shortest double
 * printing; a query path's matches are found on the data, in document
 * order, by the same code), so replaying it on a replica or from the AOF
 * reproduces the exact bytes and versions; commands that change nothing
 * send nothing.
 *
 * A write whose path is an RFC 9535 query runs its op once per match
 * (op_each_match) inside the same command: one undo log, one version bump,
 * one notification, one replication entry, all matches or none.
 */
#include "atomicdoc.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Results                                                            */
/* ------------------------------------------------------------------ */

void res_int(result *r, long long v) {
    r->kind = RES_INT;
    r->i = v;
}
void res_nil(result *r) { r->kind = RES_NIL; }
void res_ok(result *r) { r->kind = RES_OK; }
void res_simple(result *r, const char *s) {
    r->kind = RES_SIMPLE;
    doc_buf_append(&r->text, s, strlen(s));
    doc_buf_cstr(&r->text);
}
/* Size of the last JSON reply, to reserve the next one in one allocation
 * (replies of one workload tend to be alike); capped at 1 MB. */
static size_t json_hint = 256;

void res_json(result *r, const uint8_t *val) {
    r->kind = RES_BULK;
    doc_buf_reserve(&r->text, json_hint);
    doc_print(val, &r->text);
    json_hint = r->text.len < 256 ? 256 : r->text.len > (1u << 20) ? (1u << 20) : r->text.len + 16;
}
result *res_array(result *r, size_t n) {
    r->kind = RES_ARRAY;
    r->n = n;
    /* At least one slot, so an empty array is not mistaken for OOM. */
    r->items = doc_malloc((n ? n : 1) * sizeof *r->items);
    if (!r->items) {
        r->n = 0;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        memset(&r->items[i], 0, sizeof r->items[i]);
        doc_buf_init(&r->items[i].text);
    }
    return r->items;
}
void res_free(result *r) {
    /* The borrowed text is the document's cached text: left alone. */
    if (r->text.data && !r->borrowed) doc_free(r->text.data);
    if (r->items) {
        for (size_t i = 0; i < r->n; i++) res_free(&r->items[i]);
        doc_free(r->items);
    }
    memset(r, 0, sizeof *r); /* an empty doc_buf is all zero (doc_buf_init) */
}

/* ------------------------------------------------------------------ */
/* The loading rule (atomicdoc.h)                                     */
/* ------------------------------------------------------------------ */

static RedisModuleCtx *cmd_ctx; /* the running command's context */
static int cmd_replay = -1;     /* cmd_replaying(), once known; -1: not asked yet */
static int cmd_proto3 = -1;     /* cmd_resp3(), once known; -1: not asked yet */

void cmd_begin(RedisModuleCtx *ctx) {
    cmd_ctx = ctx;
    cmd_replay = -1;
    cmd_proto3 = -1;
}

int cmd_resp3(void) {
    if (cmd_proto3 < 0)
        cmd_proto3 = cmd_ctx && (RedisModule_GetContextFlags(cmd_ctx) & REDISMODULE_CTX_FLAGS_RESP3) ? 1 : 0;
    return cmd_proto3;
}

int cmd_replaying(void) {
    if (cmd_replay < 0)
        cmd_replay = cmd_ctx && (RedisModule_GetContextFlags(cmd_ctx) &
                                 (REDISMODULE_CTX_FLAGS_REPLICATED | REDISMODULE_CTX_FLAGS_LOADING))
                         ? 1
                         : 0;
    return cmd_replay;
}

int limit_waived(doc_error *err) {
    if (err->code != DOC_TOODEEP || adoc_cfg.max_depth >= DOC_DEPTH_LIMIT || !cmd_replaying()) return 0;
    doc_error_clear(err);
    return 1;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                          */
/* ------------------------------------------------------------------ */

/* Recently compiled paths, shared with the ops that use them: applications
 * send the same few paths over and over, and compiling one costs more than
 * the rest of a DOC.INCR's document work. Direct-mapped by a hash of the
 * text; paths longer than PATH_CACHE_TEXT are not cached. Main thread only.
 * Flushed when max-depth changes (it decides which paths compile). */
#define PATH_CACHE_SLOTS 64
#define PATH_CACHE_TEXT 96

static struct path_cache_slot {
    size_t len;                 /* text length; 0: empty slot */
    char text[PATH_CACHE_TEXT]; /* the path as sent */
    doc_path *path;             /* compiled; the cache holds one reference */
    int read_single;            /* the query compiler found it a single path too
                                   (arg_read_path may take it as it is) */
} path_cache[PATH_CACHE_SLOTS];

void path_cache_flush(void) {
    for (int i = 0; i < PATH_CACHE_SLOTS; i++) {
        if (path_cache[i].len) doc_path_free(path_cache[i].path);
        path_cache[i].len = 0;
        path_cache[i].path = NULL;
    }
}

/* The slot for path text p (len 1..PATH_CACHE_TEXT); *hit: it holds p. */
static inline __attribute__((always_inline)) struct path_cache_slot *cache_slot(const char *p, size_t len,
                                                                                int *hit) {
    /* Eight bytes a step (multiply and fold), the tail zero-padded; the
     * words are kept to compare with the slot's text (zero-padded too). */
    uint64_t h = len * 0x9e3779b97f4a7c15ull, words[PATH_CACHE_TEXT / 8];
    size_t nw = (len + 7) / 8;
    for (size_t i = 0; i < nw; i++) {
        uint64_t w = 0;
        if (len - i * 8 >= 8)
            memcpy(&w, p + i * 8, 8);
        else
            memcpy(&w, p + i * 8, len - i * 8);
        words[i] = w;
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    struct path_cache_slot *slot = &path_cache[(h ^ (h >> 32)) % PATH_CACHE_SLOTS];
    *hit = 0;
    if (slot->len == len) {
        size_t i = 0;
        for (uint64_t t; i < nw; i++) {
            memcpy(&t, slot->text + i * 8, 8);
            if (t != words[i]) break;
        }
        *hit = i == nw;
    }
    return slot;
}

doc_status arg_path(RedisModuleString *s, doc_path **out, doc_error *err) {
    size_t len;
    const char *p = RedisModule_StringPtrLen(s, &len);
    if (len == 0 || len > PATH_CACHE_TEXT) {
        doc_status st = doc_path_compile(p, len, (size_t)adoc_cfg.max_depth, out, err);
        if (st && limit_waived(err)) st = doc_path_compile(p, len, DOC_DEPTH_LIMIT, out, err);
        return st;
    }
    int hit;
    struct path_cache_slot *slot = cache_slot(p, len, &hit);
    if (hit) {
        *out = doc_path_ref(slot->path);
        return DOC_OK;
    }
    doc_status st = doc_path_compile(p, len, (size_t)adoc_cfg.max_depth, out, err);
    if (st && limit_waived(err)) /* deeper than max-depth: not cached */
        return doc_path_compile(p, len, DOC_DEPTH_LIMIT, out, err);
    if (st) return st;
    if (slot->len) doc_path_free(slot->path);
    slot->len = len;
    memset(slot->text, 0, sizeof slot->text);
    memcpy(slot->text, p, len);
    slot->path = doc_path_ref(*out);
    slot->read_single = 0;
    return DOC_OK;
}

/* A bare word where JSON is expected (`DOC.SET k $.name Ada`) is the most
 * common mistake of a new user: when the text cannot even start a JSON value
 * (its first byte is not one of { [ " - 0-9 and not white space; true, false
 * and null parsed already), the message says values are JSON and shows the
 * word quoted when it can be quoted as is. The offset stays last, where
 * clients read it. */
static void bare_word_hint(const char *p, size_t len, doc_error *err) {
    unsigned char c = len ? (unsigned char)p[0] : '"';
    if (strchr("{[\"-0123456789 \t\r\n", c) || c == '\0') return;
    int quotable = len <= 40;
    for (size_t i = 0; i < len && quotable; i++)
        quotable = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\' && p[i] != '\'';
    size_t l = strlen(err->msg);
    if (l + 1 >= sizeof err->msg) return;
    if (quotable)
        snprintf(err->msg + l, sizeof err->msg - l, " (values are JSON: a string is '\"%.*s\"')", (int)len,
                 p);
    else
        snprintf(err->msg + l, sizeof err->msg - l, " (values are JSON: strings go in double quotes)");
}

doc_status arg_json(RedisModuleString *s, doc_node **out, doc_error *err) {
    size_t len;
    const char *p = RedisModule_StringPtrLen(s, &len);
    if ((long long)len > adoc_cfg.max_document_size && !cmd_replaying())
        return doc_error_set(err, DOC_TOOBIG,
                             "JSON text of %zu bytes is larger than max-document-size (%lld)", len,
                             adoc_cfg.max_document_size);
    *out = doc_parse(p, len, (uint32_t)adoc_cfg.max_depth, err);
    if (!*out && limit_waived(err)) *out = doc_parse(p, len, DOC_DEPTH_LIMIT, err);
    if (!*out && err->code == DOC_BADJSON) bare_word_hint(p, len, err);
    return *out ? DOC_OK : err->code;
}

doc_status arg_filter(const uint8_t *f, doc_filter **out, doc_error *err) {
    doc_status st = doc_filter_compile(f, (uint32_t)adoc_cfg.max_depth, out, err);
    if (st && limit_waived(err)) st = doc_filter_compile(f, DOC_DEPTH_LIMIT, out, err);
    return st;
}

doc_status arg_ll(RedisModuleString *s, long long *out, const char *what, doc_error *err) {
    if (RedisModule_StringToLongLong(s, out) != REDISMODULE_OK)
        return doc_error_set(err, DOC_SYNTAX, "%s is not an integer or out of range", what);
    return DOC_OK;
}

/* SET's rules (Redis's t_string.c), so that DOC.SET refuses what SET refuses:
 * not an integer; zero or negative; seconds that overflow as milliseconds; a
 * relative time that overflows once the current time is added. */
int arg_ttl(op *o, RedisModuleString **argv, int i, int argc, int keep_ok, const char *cmd, doc_error *err) {
    static const char *const words[] = {"EX", "PX", "EXAT", "PXAT"};
    int w = -1;
    for (int j = 0; j < 4 && w < 0; j++)
        if (arg_is(argv[i], words[j])) w = j;
    int keep = w < 0 && keep_ok && arg_is(argv[i], "KEEPTTL");
    if (w < 0 && !keep) return 0;
    if (o->expire_ms || (o->flags & OPF_KEEPTTL)) {
        doc_error_set(err, DOC_SYNTAX, "at most one of EX, PX, EXAT, PXAT%s", keep_ok ? ", KEEPTTL" : "");
        return -1;
    }
    if (keep) {
        o->flags |= OPF_KEEPTTL;
        return 1;
    }
    long long v;
    if (i + 1 >= argc) {
        doc_error_set(err, DOC_SYNTAX, "%s needs a time", words[w]);
        return -1;
    }
    if (RedisModule_StringToLongLong(argv[i + 1], &v) != REDISMODULE_OK) {
        doc_error_set(err, DOC_SYNTAX, "value is not an integer or out of range");
        return -1;
    }
    int seconds = w == 0 || w == 2, relative = w < 2;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) goto invalid;
    if (seconds) v *= 1000;
    if (relative) {
        long long now = RedisModule_Milliseconds();
        if (v > LLONG_MAX - now) goto invalid;
        v += now;
        o->expire_arg = &argv[i];
    }
    o->expire_ms = v;
    return 2;
invalid:
    doc_error_set(err, DOC_SYNTAX, "invalid expire time in '%s' command", cmd);
    return -1;
}

doc_status arg_misplaced(RedisModuleString *word, const char *where, const char *usage, doc_error *err) {
    size_t len;
    const char *w = RedisModule_StringPtrLen(word, &len);
    return doc_error_set(err, DOC_SYNTAX, "%.*s goes %s: %s", (int)(len > 20 ? 20 : len), w, where, usage);
}

int arg_is(RedisModuleString *s, const char *word) {
    size_t len;
    const char *p = RedisModule_StringPtrLen(s, &len);
    return word_is(p, len, word, strlen(word));
}

doc_status arg_read_path(RedisModuleString *s, doc_path **out, doc_query **query, doc_error *err) {
    size_t len;
    const char *p = RedisModule_StringPtrLen(s, &len);
    *out = NULL;
    *query = NULL;
    if (!len || p[0] != '$') return arg_path(s, out, err);
    /* A text both compilers took as a single path before: the cached path,
     * without compiling the query again (about a third of a field read). */
    int hit = 0;
    struct path_cache_slot *slot = len <= PATH_CACHE_TEXT ? cache_slot(p, len, &hit) : NULL;
    if (hit && slot->read_single) {
        *out = doc_path_ref(slot->path);
        return DOC_OK;
    }
    if (doc_query_compile(p, len, (uint32_t)adoc_cfg.max_depth, query, err) &&
        (!limit_waived(err) || doc_query_compile(p, len, DOC_DEPTH_LIMIT, query, err)))
        return err->code;
    if (!doc_query_is_single(*query)) return DOC_OK;
    doc_query_free(*query);
    *query = NULL;
    doc_status st = arg_path(s, out, err);
    /* Cached by arg_path now (unless deeper than max-depth): mark it. */
    if (!st && slot && slot->len == len && slot->path == *out) slot->read_single = 1;
    return st;
}

doc_status arg_write_query(op *o, RedisModuleString *s, doc_query **q, doc_error *err) {
    doc_status st = err->code;
    size_t len;
    const char *p = RedisModule_StringPtrLen(s, &len);
    if (st != DOC_BADPATH || !len || p[0] != '$') return st;
    doc_error qerr;
    doc_error_clear(&qerr);
    doc_status qst = doc_query_compile(p, len, (uint32_t)adoc_cfg.max_depth, q, &qerr);
    if (qst && limit_waived(&qerr)) qst = doc_query_compile(p, len, DOC_DEPTH_LIMIT, q, &qerr);
    if (!qst && !doc_query_is_single(*q)) {
        doc_error_clear(err);
        o->flags |= OPF_QUERY;
        return DOC_OK;
    }
    if (!qst) { /* the compilers disagree on a single path: cannot happen; keep the path's error */
        doc_query_free(*q);
        *q = NULL;
        return st;
    }
    *q = NULL;
    /* Neither: a query too deep (or out of memory) says so; else the error
     * of the compiler that read further. */
    if (qerr.code != DOC_BADPATH || (qerr.has_offset && err->has_offset && qerr.offset > err->offset)) {
        *err = qerr;
        return qst;
    }
    return st;
}

doc_status op_add_read_path(op *o, doc_path *p, doc_query *q, doc_error *err) {
    if (!o->paths) {
        o->paths = o->path_slot;
        o->queries = o->query_slot;
    }
    if (o->npaths >= OP_INLINE) {
        /* Past the inline slots: both arrays move to the heap together. */
        size_t n = (size_t)o->npaths + 1;
        doc_path **m = doc_malloc(n * sizeof *m);
        doc_query **mq = doc_malloc(n * sizeof *mq);
        if (!m || !mq) {
            doc_free(m);
            doc_free(mq);
            doc_path_free(p);
            if (q) doc_query_free(q);
            return doc_error_set(err, DOC_NOMEM, "out of memory");
        }
        memcpy(m, o->paths, (size_t)o->npaths * sizeof *m);
        memcpy(mq, o->queries, (size_t)o->npaths * sizeof *mq);
        if (o->paths != o->path_slot) {
            doc_free(o->paths);
            doc_free(o->queries);
        }
        o->paths = m;
        o->queries = mq;
    }
    o->paths[o->npaths] = p;
    o->queries[o->npaths++] = q;
    return DOC_OK;
}

doc_status op_add_path(op *o, doc_path *p, doc_error *err) { return op_add_read_path(o, p, NULL, err); }

doc_status op_add_value(op *o, doc_node *v, doc_error *err) {
    if (!o->values) o->values = o->value_slot;
    if (o->nvalues >= OP_INLINE) {
        doc_node **m = doc_malloc(((size_t)o->nvalues + 1) * sizeof *m);
        if (!m) {
            doc_node_free(v);
            return doc_error_set(err, DOC_NOMEM, "out of memory");
        }
        memcpy(m, o->values, (size_t)o->nvalues * sizeof *m);
        if (o->values != o->value_slot) doc_free(o->values);
        o->values = m;
    }
    o->values[o->nvalues++] = v;
    return DOC_OK;
}

void op_reset(op *o) {
    /* The common op: one single path, nothing else to free. */
    if (o->npaths == 1 && o->paths == o->path_slot && (!o->queries || !o->queries[0]) && !o->nvalues &&
        (!o->values || o->values == o->value_slot) && !o->filter && !o->update) {
        doc_path_free(o->path_slot[0]);
        o->paths = NULL;
        o->queries = NULL;
        o->values = NULL;
        o->npaths = 0;
        return;
    }
    for (int i = 0; i < o->npaths; i++) {
        doc_path_free(o->paths[i]);
        if (o->queries && o->queries[i]) doc_query_free(o->queries[i]);
    }
    for (int i = 0; i < o->nvalues; i++) doc_node_free(o->values[i]);
    if (o->paths != o->path_slot) {
        doc_free(o->queries);
        doc_free(o->paths);
    }
    if (o->values != o->value_slot) doc_free(o->values);
    if (o->filter) doc_filter_free(o->filter);
    if (o->update) doc_update_free(o->update);
    /* What it held is gone; its other fields are left as they were (no op
     * is parsed again after a reset). */
    o->paths = NULL;
    o->queries = NULL;
    o->values = NULL;
    o->npaths = o->nvalues = 0;
    o->filter = NULL;
    o->update = NULL;
}

/* ------------------------------------------------------------------ */
/* Slots                                                              */
/* ------------------------------------------------------------------ */

/* ---- the read cache ----
 * A whole-document DOC.GET prints the tree; documents read more often than
 * written pay that again and again. The printed text is kept in the
 * document itself until its next change: any op that edits a document drops
 * it at once (before the next op of a TXN can read it), a rollback drops the
 * text of every document the command touched, and freeing a document (on
 * any thread: lazy free) frees it. A global budget (read-cache-max-memory)
 * bounds the extra memory; past it, texts are simply not kept. Cached bytes
 * are Redis allocations, so used_memory, MEMORY USAGE and eviction see them. */
long long adoc_cache_bytes;

void adoc_text_drop(adoc *d) {
    if (!d || !d->text) return;
    __atomic_sub_fetch(&adoc_cache_bytes, (long long)d->text_len, __ATOMIC_RELAXED);
    RedisModule_Free(d->text);
    d->text = NULL;
    d->text_len = 0;
}

const char *adoc_text(const adoc *d, size_t *len) {
    *len = d->text_len;
    return d->text;
}

void adoc_text_offer(adoc *d, const char *text, size_t len) {
    if (d->text || !len) return;
    long long now = __atomic_load_n(&adoc_cache_bytes, __ATOMIC_RELAXED);
    if ((long long)len > adoc_cfg.read_cache_max - now) return;
    d->text = RedisModule_Alloc(len);
    memcpy(d->text, text, len);
    d->text_len = len;
    __atomic_add_fetch(&adoc_cache_bytes, (long long)len, __ATOMIC_RELAXED);
}

int adoc_text_adopt(adoc *d, doc_buf *b) {
    size_t len = b->len;
    if (d->text || !len || b->oom) return 0;
    long long now = __atomic_load_n(&adoc_cache_bytes, __ATOMIC_RELAXED);
    if ((long long)len > adoc_cfg.read_cache_max - now) return 0;
    /* The printer grows its buffer fourfold: give back the unused tail
     * (an in-place shrink for the allocator) so the budget counts what
     * is held. */
    char *m = b->cap - len > len / 8 ? RedisModule_Realloc(b->data, len) : b->data;
    d->text = m;
    d->text_len = len;
    b->data = m;
    b->cap = len;
    __atomic_add_fetch(&adoc_cache_bytes, (long long)len, __ATOMIC_RELAXED);
    return 1;
}

uint64_t adoc_version_floor;

uint64_t version_next(void) { return ++adoc_version_floor; }

adoc *adoc_new_take(doc_node *root) {
    adoc *d = RedisModule_Alloc(sizeof *d);
    d->root = root;
    d->version = 0;
    d->text = NULL;
    d->text_len = 0;
    __atomic_add_fetch(&adoc_documents, 1, __ATOMIC_RELAXED);
    return d;
}

void adoc_free(void *value) {
    adoc *d = value;
    if (!d) return;
    adoc_text_drop(d);
    doc_node_free(d->root);
    RedisModule_Free(d);
    __atomic_sub_fetch(&adoc_documents, 1, __ATOMIC_RELAXED);
}

adoc *slot_ensure(exec_ctx *x, keyslot *k) {
    (void)x;
    if (!k->doc) {
        doc_node *box = doc_box_empty(DOC_OBJECT);
        if (!box) {
            doc_error_set(&x->err, DOC_NOMEM, "out of memory");
            return NULL;
        }
        k->doc = adoc_new_take(box);
    }
    return k->doc;
}

void slot_touch(keyslot *k, const op *o) {
    if (!k->changed) k->event = o->def->event;
    k->changed = 1;
}

void slot_delete(exec_ctx *x, keyslot *k, const op *o) {
    if (k->doc && k->doc != k->orig) doc_buf_append(&x->graveyard, &k->doc, sizeof k->doc);
    k->doc = NULL;
    k->ttl = TTL_KEEP; /* a document created again starts without a TTL */
    slot_touch(k, o);
}

void slot_ttl(keyslot *k, const op *o, int replaces) {
    if (o->expire_ms > 0) {
        k->ttl = TTL_SET;
        k->expire_at = o->expire_ms;
    } else if (replaces && !(o->flags & OPF_KEEPTTL)) {
        k->ttl = TTL_CLEAR;
    }
}

/* Applies the slot's TTL change at commit; 1 when the expiry changed. A
 * document replaced as a new value (ModuleTypeSetValue) has already lost
 * its old expiry, as a key deleted and created again does. */
static int commit_ttl(exec_ctx *x, keyslot *k) {
    if (!k->doc || k->ttl == TTL_KEEP) return 0;
    if (k->ttl == TTL_SET) {
        RedisModule_SetAbsExpire(k->key, k->expire_at);
        RedisModule_NotifyKeyspaceEvent(x->ctx, REDISMODULE_NOTIFY_GENERIC, "expire", k->name);
        return 1;
    }
    if (RedisModule_GetExpire(k->key) == REDISMODULE_NO_EXPIRE) return 0;
    RedisModule_SetExpire(k->key, REDISMODULE_NO_EXPIRE);
    return 1;
}

static void bury(exec_ctx *x) {
    if (!x->graveyard.data) return;
    for (size_t at = 0; at < x->graveyard.len; at += sizeof(adoc *)) {
        adoc *d;
        memcpy(&d, x->graveyard.data + at, sizeof d);
        adoc_free(d);
    }
    doc_buf_free(&x->graveyard);
}

/* Opens every key once (a name given twice shares one slot: slot_of). */
static int open_slots(exec_ctx *x, RedisModuleString **names, int n, int write) {
    for (int i = 0; i < n; i++) {
        keyslot *k = &x->keys[i];
        memset(k, 0, sizeof *k);
        k->name = names[i];
        k->key = RedisModule_OpenKey(x->ctx, names[i], REDISMODULE_READ | (write ? REDISMODULE_WRITE : 0));
        /* Our type first (NULL for an empty key or any other type): one
         * API call fewer for the common case. */
        if (RedisModule_ModuleTypeGetType(k->key) == adoc_type)
            k->orig = k->doc = RedisModule_ModuleTypeGetValue(k->key);
        else if (RedisModule_KeyType(k->key) != REDISMODULE_KEYTYPE_EMPTY)
            k->wrongtype = 1;
    }
    return 0;
}

static void close_slots(exec_ctx *x) {
    for (int i = 0; i < x->nkeys; i++)
        if (x->keys[i].key) RedisModule_CloseKey(x->keys[i].key);
}

/* Puts the slots back as they were: trees by the undo log, then documents
 * created by the command freed (after the log: it may point into them). */
static void rollback(exec_ctx *x) {
    doc_undo_rollback(x->undo);
    for (int i = 0; i < x->nkeys; i++) {
        keyslot *k = &x->keys[i];
        /* A GET between an edit and the failure may have cached text of a
         * state that never was: drop whatever the command saw. */
        adoc_text_drop(k->orig);
        if (k->doc && k->doc != k->orig) adoc_free(k->doc);
        k->doc = k->orig;
        k->changed = 0;
    }
}

/* Makes the changes visible to Redis; returns how many keys changed. */
static int commit(exec_ctx *x) {
    int changed = 0;
    doc_undo_commit(x->undo);
    for (int i = 0; i < x->nkeys; i++) {
        keyslot *k = &x->keys[i];
        /* Created and deleted again by the same TXN: nothing happened. */
        if (!k->changed || (!k->orig && !k->doc)) continue;
        changed++;
        if (!k->doc) {
            RedisModule_DeleteKey(k->key);
        } else {
            if (k->doc != k->orig) RedisModule_ModuleTypeSetValue(k->key, adoc_type, k->doc);
            if (k->set_version > 0)
                k->doc->version = (uint64_t)k->set_version;
            else
                k->doc->version = k->doc != k->orig ? version_next() : k->doc->version + 1;
            version_seen(k->doc->version);
        }
        RedisModule_SignalModifiedKey(x->ctx, k->name);
        RedisModule_NotifyKeyspaceEvent(x->ctx, REDISMODULE_NOTIFY_MODULE, k->event, k->name);
    }
    /* TTLs last: a document set anew holds its key only now. A TTL change
     * alone (DOC.SET of the same text with EX) moves no version but is a
     * change of the key: WATCH sees it and replicas get it. */
    for (int i = 0; i < x->nkeys; i++) {
        keyslot *k = &x->keys[i];
        if (!commit_ttl(x, k)) continue;
        if (!k->changed) {
            changed++;
            RedisModule_SignalModifiedKey(x->ctx, k->name);
        }
    }
    return changed;
}

/* Replicas and the AOF must expire a key at the same instant as this server:
 * a relative EX / PX is sent as PXAT with the absolute time this server used
 * (as Redis's SET does), everything else verbatim. */
static void replicate(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, const op *ops, int nops) {
    int rewrite = 0;
    for (int i = 0; i < nops && !rewrite; i++) rewrite = ops[i].expire_arg != NULL;
    if (!rewrite) {
        RedisModule_ReplicateVerbatim(ctx);
        return;
    }
    RedisModuleString **copy = RedisModule_Alloc((size_t)argc * sizeof *copy);
    memcpy(copy, argv, (size_t)argc * sizeof *copy);
    for (int i = 0; i < nops; i++) {
        if (!ops[i].expire_arg) continue;
        long at = (long)(ops[i].expire_arg - argv);
        if (at < 1 || at + 1 >= argc) continue; /* not in this argv: cannot happen */
        copy[at] = RedisModule_CreateString(ctx, "PXAT", 4);
        copy[at + 1] = RedisModule_CreateStringFromLongLong(ctx, ops[i].expire_ms);
    }
    RedisModule_Replicate(ctx, RedisModule_StringPtrLen(argv[0], NULL), "v", copy + 1, (size_t)argc - 1);
    for (int i = 1; i < argc; i++)
        if (copy[i] != argv[i]) RedisModule_FreeString(ctx, copy[i]);
    RedisModule_Free(copy);
}

/* ------------------------------------------------------------------ */
/* Writes to every match of a query path                              */
/* ------------------------------------------------------------------ */

/* Fresh copies of the op's parsed values for one match: runners move their
 * values into the document (SET, PUSH, MIN, CAS, ...). */
static doc_status copy_values(doc_node **to, doc_node *const *from, int n, exec_ctx *x) {
    for (int j = 0; j < n; j++) {
        to[j] = doc_value_copy(doc_box_value(from[j]));
        if (!to[j]) {
            while (j-- > 0) doc_node_free(to[j]);
            return doc_error_set(&x->err, DOC_NOMEM, "out of memory");
        }
    }
    return DOC_OK;
}

/* Runs the op's single-path runner at `at` into out, with fresh copies of
 * the values, or (own) the parsed values themselves (what remains of them
 * is then op_reset's, as for a single path). */
static doc_status run_one(op *o, exec_ctx *x, keyslot *k, doc_path *at, result *out, int own, doc_node **orig,
                          int norig, doc_node **copies) {
    if (!own && copy_values(copies, orig, norig, x)) return x->err.code;
    o->values = own ? orig : copies;
    o->nvalues = norig;
    o->paths[0] = at;
    doc_status st = o->def->run(o, x, k, out);
    o->paths[0] = NULL;
    if (!own)
        for (int j = 0; j < o->nvalues; j++) doc_node_free(o->values[j]);
    o->values = orig;
    o->nvalues = norig;
    return st;
}

/* The array the sibling targets t[lo..hi] are elements of, at cursor c. */
static doc_status resolve_parent(doc_cursor *c, keyslot *k, const doc_path *element, exec_ctx *x) {
    doc_path parent = *element; /* the same segments but the last index */
    parent.nseg--;
    doc_cursor_free(c);
    doc_cursor_init(c, &k->doc->root);
    return doc_resolve(c, &parent, &x->err);
}

/* Targets t->paths[lo..hi] are elements of one array (doc_target_siblings).
 * Each is visited last first, as one by one. Once a write has changed a
 * size (below), the op's runner runs on each element alone on a stage
 * (doc_stage: same depth, its own log), so every reply, error and limit is
 * the single path's; the new values are set aside and the array is written
 * once, O(array) where one write per element moved the array's tail each
 * time (O(n^2) for `DOC.SET k $.l[*] '"xx"'`). A container element of an op
 * that may edit inside it (MERGE, PUSH, ...) is written on the document
 * itself, after a flush of what was set aside. */
static doc_status run_siblings(op *o, exec_ctx *x, keyslot *k, doc_targets *t, size_t lo, size_t hi,
                               result *items, doc_node **orig, int norig, doc_node **copies) {
    doc_stage *s = NULL;
    adoc staged = {NULL, 0, NULL, 0}; /* the stage's document; its root box never moves */
    keyslot sk = *k;
    sk.orig = sk.doc = &staged;
    doc_undo *real = x->undo;
    doc_cursor c;
    doc_cursor_init(&c, &k->doc->root);
    /* Elements are written on the document itself, as one by one, until a
     * write changes a size (INCR 127 -> 128, a SET of a longer value, a
     * DEL): size-keeping writes cost what they cost, and the first write
     * that moves the tail is the only one that does. From then on, on the
     * stage. The array is resolved then, and again after any write on the
     * document (runs on the stage leave the document alone). */
    doc_status st = DOC_OK;
    for (size_t i = hi + 1; !st && i-- > lo;) {
        doc_path *at = t->paths[i];
        if (!s) {
            size_t mark = doc_undo_mark(real);
            st = run_one(o, x, k, at, &items[i], 0, orig, norig, copies);
            /* (edits inside an element, a PUSH into it, move nothing here) */
            if (st || !doc_undo_resized_since(real, mark, (uint32_t)at->nseg)) continue;
            if (!(s = doc_stage_new((uint32_t)at->nseg, real)))
                st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
            else
                staged.root = *doc_stage_root(s);
            if (!st) st = resolve_parent(&c, k, at, x);
            continue;
        }
        int loaded;
        if ((st = doc_stage_load(s, &c, (uint32_t)at->segs[at->nseg - 1].index, o->def->whole_values, &loaded,
                                 &x->err)))
            break;
        if (!loaded) {
            if (!(st = doc_stage_flush(s, &c, real, &x->err)))
                st = run_one(o, x, k, at, &items[i], 0, orig, norig, copies);
            if (!st) st = resolve_parent(&c, k, at, x);
            continue;
        }
        x->undo = doc_stage_undo(s);
        st = run_one(o, x, &sk, doc_stage_path(s), &items[i], 0, orig, norig, copies);
        x->undo = real;
        k->ttl = sk.ttl; /* SET ... EX at a query path */
        k->expire_at = sk.expire_at;
        if (st)
            doc_stage_drop(s);
        else
            st = doc_stage_keep(s, &x->err);
    }
    if (!st && s) st = doc_stage_flush(s, &c, real, &x->err);
    doc_cursor_free(&c);
    doc_stage_free(s);
    return st;
}

doc_status op_each_match(op *o, exec_ctx *x, keyslot *k, result *out) {
    doc_targets t = {0, NULL};
    doc_status st = k->doc ? doc_query_targets(o->queries[0], &k->doc->root, &t, &x->err) : DOC_OK;
    result *items = st ? NULL : res_array(out, t.n);
    if (!st && !items) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    doc_node **orig = o->values, *local[OP_INLINE];
    int norig = o->nvalues;
    /* Each match gets its own copy of the values: bound what a command may
     * copy as one JSON argument is bounded (`DOC.SET k $..* <1 MB>` on a
     * document of 10,000 nodes would hold 10 GB until commit). Replayed
     * writes were accepted once: held to no such limit (the loading rule). */
    if (!st && t.n > 1 && norig > 0) {
        size_t bytes = 0;
        for (int j = 0; j < norig; j++) bytes += doc_node_memory(orig[j]);
        if (bytes && t.n > (size_t)adoc_cfg.max_document_size / bytes && !cmd_replaying())
            st = doc_error_set(&x->err, DOC_TOOBIG,
                               "%zu matches x %zu bytes of values is larger than max-document-size (%lld)",
                               t.n, bytes, adoc_cfg.max_document_size);
    }
    doc_node **copies = norig <= OP_INLINE ? local : doc_malloc((size_t)norig * sizeof *copies);
    if (!st && !copies) st = doc_error_set(&x->err, DOC_NOMEM, "out of memory");
    /* Last first (doc.h: doc_query_targets): no edit moves a target still
     * to come, and nested matches are written deepest first. Neighbours in
     * that order that are elements of one array are written together. */
    for (size_t i = t.n; !st && i-- > 0;) {
        size_t lo = i;
        while (lo > 0 && doc_target_siblings(t.paths[lo - 1], t.paths[i])) lo--;
        if (lo < i) {
            st = run_siblings(o, x, k, &t, lo, i, items, orig, norig, copies);
            i = lo;
        } else {
            /* The last match visited takes the parsed values themselves. */
            st = run_one(o, x, k, t.paths[i], &items[i], i == 0, orig, norig, copies);
        }
    }
    if (copies != local) doc_free(copies);
    doc_targets_free(&t);
    if (!st && (o->flags & OPF_REPLY_OK)) {
        res_free(out);
        res_ok(out);
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* Running                                                            */
/* ------------------------------------------------------------------ */

/* Commands run one at a time on the main thread, so one undo log serves
 * them all and its buffers are reused (no allocation per command). */
static doc_undo *the_undo;

static doc_undo *shared_undo(void) {
    static long long limits_depth = -1; /* max-depth the log was last given */
    if (!the_undo) {
        the_undo = doc_undo_new();
        if (the_undo) doc_undo_set_reaper(the_undo, lazyfree_reap, NULL);
        limits_depth = -1;
    }
    /* The config's max-depth, waived for writes replayed from the primary
     * or the AOF (they must apply exactly as they did there). */
    if (the_undo && limits_depth != adoc_cfg.max_depth) {
        doc_limits limits = {(uint32_t)adoc_cfg.max_depth, cmd_replaying};
        doc_undo_set_limits(the_undo, &limits);
        limits_depth = adoc_cfg.max_depth;
    }
    return the_undo;
}

/* Empty after commit or rollback; a log that grew past 1 MB (a huge TXN)
 * is dropped so its memory goes back to Redis. */
static void release_undo(doc_undo *u) {
    if (doc_undo_bytes(u) > (1u << 20)) {
        doc_undo_free(u);
        the_undo = NULL;
    }
}

/* Runs op o on its slot into out; its changes are logged in x->undo. */
static doc_status run_op(exec_ctx *x, op *o, result *out, int mode, int only) {
    keyslot *k = &x->keys[o->key];
    if (k->wrongtype) {
        if (mode & EXEC_OTHER_TYPE_NIL) {
            res_nil(out);
            return DOC_OK;
        }
        return doc_error_set(&x->err, DOC_WRONGTYPE,
                             "Operation against a key holding the wrong kind of value");
    }
    size_t mark = doc_undo_mark(x->undo), unlogged = doc_undo_unlogged(x->undo);
    adoc *before = k->doc;
    /* A query path runs the op once per match: no run is the last. */
    x->final_op = only && !(o->flags & OPF_QUERY) ? o : NULL;
    doc_status st = (o->flags & OPF_QUERY) ? o->def->run_query(o, x, k, out) : o->def->run(o, x, k, out);
    x->final_op = NULL;
    /* Edits whose net effect is nothing (DOC.PUSH KEEP dropping what it
     * pushed, ...) are reverted: they change nothing. */
    if (!st && k->doc == before) doc_undo_settle(x->undo, mark);
    /* Changed = an edit was made (logged or final), or the document was
     * created or deleted; ops need not say so themselves. */
    if (!st && (doc_undo_mark(x->undo) > mark || doc_undo_unlogged(x->undo) > unlogged || k->doc != before)) {
        slot_touch(k, o);
        adoc_text_drop(k->doc); /* the next op must not read stale text */
        adoc_text_drop(before);
    }
    return st;
}

int exec_ops(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, RedisModuleString **keynames, int nkeys,
             op *ops, int nops, int mode) {
    int write = (mode & EXEC_WRITE) != 0, per_op = (mode & EXEC_PER_OP) != 0;
    keyslot stack_slots[8];
    exec_ctx x; /* field by field: a memset of it showed in DOC.INCR's count */
    doc_error_clear(&x.err);
    doc_buf_init(&x.graveyard);
    x.ctx = ctx;
    x.nkeys = nkeys;
    x.keys = nkeys <= 8 ? stack_slots : RedisModule_Alloc((size_t)nkeys * sizeof *x.keys);
    x.undo = shared_undo();
    x.borrow = !write;
    x.final_op = NULL;
    open_slots(&x, keynames, nkeys, write);

    /* One result per op: in place for a few ops (no allocation), else an
     * array (res_array). */
    result res, stack_items[8];
    memset(&res, 0, sizeof res);
    result *outs = &res;
    if (per_op && nops <= 8) {
        memset(stack_items, 0, (size_t)nops * sizeof *stack_items);
        res.kind = RES_ARRAY;
        res.n = (size_t)nops;
        res.items = outs = stack_items;
    } else if (per_op) {
        outs = res_array(&res, (size_t)nops);
    }
    doc_status st = outs ? DOC_OK : doc_error_set(&x.err, DOC_NOMEM, "out of memory");
    int failed_op = -1;
    size_t start = nops > 1 ? doc_undo_mark(x.undo) : 0; /* only multi-op commands need it */
    for (int i = 0; i < nops && !st; i++) {
        if (!per_op && i > 0) { /* only the last op's result is the reply */
            res_free(&res);
            doc_buf_init(&res.text);
        }
        st = run_op(&x, &ops[i], per_op ? &outs[i] : &res, mode, nops == 1);
        if (st) failed_op = i;
    }
    /* Several ops on one document that cancel out (a TXN's INCR +1 then -1,
     * an MSET that sets a value back): that document did not change. */
    if (!st && nops > 1)
        for (int i = 0; i < x.nkeys; i++) {
            keyslot *k = &x.keys[i];
            if (k->changed && k->doc && k->doc == k->orig &&
                !doc_undo_changed_doc(x.undo, start, &k->doc->root))
                k->changed = 0;
        }

    int ret;
    if (st) {
        rollback(&x);
        ret = (mode & EXEC_TXN) && failed_op >= 0 ? reply_txn_error(ctx, &x.err, failed_op + 1)
                                                  : reply_error(ctx, &x.err);
    } else {
        if (commit(&x) > 0) replicate(ctx, argv, argc, ops, nops);
        if (mode & EXEC_TXN) adoc_st.txn_commits++;
        ret = reply_result(ctx, &res);
    }
    if (res.items == stack_items) { /* res_free would free the array */
        for (size_t i = 0; i < res.n; i++) res_free(&stack_items[i]);
        res.items = NULL;
        res.n = 0;
    }
    res_free(&res);
    bury(&x);
    close_slots(&x);
    release_undo(x.undo);
    if (x.keys != stack_slots) RedisModule_Free(x.keys);
    return ret;
}

int reply_arity(RedisModuleCtx *ctx, RedisModuleString *name) {
    /* Redis's own text: it refuses too few arguments itself, before a
     * module command runs, and clients know this line. */
    size_t len;
    const char *n = RedisModule_StringPtrLen(name, &len);
    char lower[32];
    size_t i = 0;
    for (; i < len && i < sizeof lower - 1; i++)
        lower[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
    lower[i] = '\0';
    doc_error err;
    doc_error_clear(&err);
    doc_error_set(&err, DOC_ERR, "wrong number of arguments for '%s' command", lower);
    return reply_error(ctx, &err);
}

uint64_t op_keyflags(const op_def *def, RedisModuleString **argv, int argc) {
    return def->keyflags_of ? def->keyflags_of(argv, argc) : def->keyflags;
}

int exec_single(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, const op_def *def) {
    if (RedisModule_IsKeysPositionRequest(ctx)) { /* commands whose flags vary */
        if (argc >= 2) RedisModule_KeyAtPosWithFlags(ctx, 1, (int)op_keyflags(def, argv + 2, argc - 2));
        return REDISMODULE_OK;
    }
    return exec_single_run(ctx, argv, argc, def);
}

int exec_single_run(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, const op_def *def) {
    cmd_begin(ctx);
    int nargs = argc - 2;
    doc_error err;
    doc_error_clear(&err);
    if (nargs < def->min_args || (def->max_args >= 0 && nargs > def->max_args))
        return reply_arity(ctx, argv[0]);
    op o;
    /* Zero but for the numbers (set by the parsers of the ops that read
     * them) and the inline slots (read only below npaths / nvalues): a
     * memset of the whole op showed in DOC.INCR's count. */
    memset(&o, 0, offsetof(op, num));
    memset(&o.filter, 0, sizeof o - offsetof(op, filter));
    o.def = def;
    if (def->parse && def->parse(&o, argv + 2, nargs, &err)) {
        op_reset(&o);
        return reply_error(ctx, &err);
    }
    int ret = exec_ops(ctx, argv, argc, &argv[1], 1, &o, 1, def->write ? EXEC_WRITE : 0);
    op_reset(&o);
    return ret;
}
