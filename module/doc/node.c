/*
 * node.c - the packed node: encoding, decoding, lookup, the key/offset index
 * of large containers, splicing, copying and freeing. The builder that makes
 * nodes bottom-up is builder.c.
 *
 * See node.h for the layout. Everything here either reads trusted bytes (built
 * by this file) or builds them; nothing recurses on the depth of a document:
 * freeing, copying and counting walk with an explicit stack.
 */
#include "node.h"

#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Varints and scalar encodings                                       */
/* ------------------------------------------------------------------ */

size_t doc_varint_put(uint8_t *out, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t doc_varint_get(const uint8_t *p, uint64_t *v) {
    uint64_t r = 0;
    size_t n = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b = p[n++];
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        shift += 7;
    }
    *v = r;
    return n;
}

size_t doc_encode_int(uint8_t *out, int64_t v) {
    if (v >= 0 && v <= 127) {
        out[0] = (uint8_t)(DOC_TAG_SMALLINT + v);
        return 1;
    }
    if (v >= INT8_MIN && v <= INT8_MAX) {
        int8_t x = (int8_t)v;
        out[0] = DOC_TAG_I8;
        memcpy(out + 1, &x, 1);
        return 2;
    }
    if (v >= INT16_MIN && v <= INT16_MAX) {
        int16_t x = (int16_t)v;
        out[0] = DOC_TAG_I16;
        memcpy(out + 1, &x, 2);
        return 3;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        int32_t x = (int32_t)v;
        out[0] = DOC_TAG_I32;
        memcpy(out + 1, &x, 4);
        return 5;
    }
    out[0] = DOC_TAG_I64;
    memcpy(out + 1, &v, 8);
    return 9;
}

size_t doc_encode_double(uint8_t *out, double v) {
    out[0] = DOC_TAG_DOUBLE;
    memcpy(out + 1, &v, 8);
    return 9;
}

size_t doc_encode_string_header(uint8_t *out, size_t len) {
    out[0] = DOC_TAG_STRING;
    return 1 + doc_varint_put(out + 1, len);
}

size_t doc_encode_number(uint8_t *out, const doc_view *v) {
    return v->type == DOC_INT ? doc_encode_int(out, v->i) : doc_encode_double(out, v->d);
}

size_t doc_key_decode(const uint8_t *p, const char **key, size_t *klen) {
    if (!(p[0] & 0x80)) { /* keys under 128 bytes: one length byte */
        *key = (const char *)p + 1;
        *klen = p[0];
        return 1 + (size_t)p[0];
    }
    uint64_t n;
    size_t h = doc_varint_get(p, &n);
    *key = (const char *)p + h;
    *klen = (size_t)n;
    return h + (size_t)n;
}

const char *doc_type_name(doc_type t) {
    switch (t) {
    case DOC_NULL: return "null";
    case DOC_BOOL: return "boolean";
    case DOC_INT: return "integer";
    case DOC_DOUBLE: return "number";
    case DOC_STRING: return "string";
    case DOC_OBJECT: return "object";
    case DOC_ARRAY: return "array";
    }
    return "unknown";
}

const char *doc_type_phrase(doc_type t) {
    switch (t) {
    case DOC_NULL: return "null";
    case DOC_BOOL: return "a boolean";
    case DOC_INT: return "an integer";
    case DOC_DOUBLE: return "a number";
    case DOC_STRING: return "a string";
    case DOC_OBJECT: return "an object";
    case DOC_ARRAY: return "an array";
    }
    return "a value";
}

const uint8_t *doc_value_decode(const uint8_t *p, doc_view *out) {
    uint8_t tag = *p;
    if (tag >= DOC_TAG_SMALLINT) {
        out->type = DOC_INT;
        out->i = tag - DOC_TAG_SMALLINT;
        return p + 1;
    }
    switch (tag) {
    case DOC_TAG_NULL: out->type = DOC_NULL; return p + 1;
    case DOC_TAG_FALSE:
        out->type = DOC_BOOL;
        out->b = 0;
        return p + 1;
    case DOC_TAG_TRUE:
        out->type = DOC_BOOL;
        out->b = 1;
        return p + 1;
    case DOC_TAG_I8: {
        int8_t x;
        memcpy(&x, p + 1, 1);
        out->type = DOC_INT;
        out->i = x;
        return p + 2;
    }
    case DOC_TAG_I16: {
        int16_t x;
        memcpy(&x, p + 1, 2);
        out->type = DOC_INT;
        out->i = x;
        return p + 3;
    }
    case DOC_TAG_I32: {
        int32_t x;
        memcpy(&x, p + 1, 4);
        out->type = DOC_INT;
        out->i = x;
        return p + 5;
    }
    case DOC_TAG_I64:
        memcpy(&out->i, p + 1, 8);
        out->type = DOC_INT;
        return p + 9;
    case DOC_TAG_DOUBLE:
        memcpy(&out->d, p + 1, 8);
        out->type = DOC_DOUBLE;
        return p + 9;
    case DOC_TAG_STRING: {
        uint64_t n;
        size_t h = doc_varint_get(p + 1, &n);
        out->type = DOC_STRING;
        out->s = (const char *)p + 1 + h;
        out->slen = (size_t)n;
        return p + 1 + h + n;
    }
    case DOC_TAG_OBJECT:
    case DOC_TAG_ARRAY:
        out->type = tag == DOC_TAG_OBJECT ? DOC_OBJECT : DOC_ARRAY;
        out->node = value_child(p);
        return p + 1 + sizeof(doc_node *);
    default:
        /* Our own bytes only: an unknown tag is a broken invariant. */
        abort();
    }
}

#define FIXED_SMALLINTS \
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
/* clang-format off */
const uint8_t doc_value_fixed_size[256] = {
    [DOC_TAG_NULL] = 1, [DOC_TAG_FALSE] = 1, [DOC_TAG_TRUE] = 1, [DOC_TAG_I8] = 2,
    [DOC_TAG_I16] = 3, [DOC_TAG_I32] = 5, [DOC_TAG_I64] = 9, [DOC_TAG_DOUBLE] = 9,
    [DOC_TAG_STRING] = 0, [DOC_TAG_OBJECT] = 1 + sizeof(doc_node *),
    [DOC_TAG_ARRAY] = 1 + sizeof(doc_node *),
    [DOC_TAG_SMALLINT] = FIXED_SMALLINTS, FIXED_SMALLINTS, FIXED_SMALLINTS, FIXED_SMALLINTS};
/* clang-format on */

/* The one full definition of a value's encoded size; node_value_size
 * (node.h) is its inline fast path and comes here for long strings. */
size_t doc_value_size(const uint8_t *p) {
    if (*p == DOC_TAG_STRING) {
        uint64_t n;
        size_t h = doc_varint_get(p + 1, &n);
        return 1 + h + (size_t)n;
    }
    /* Our own bytes only: an unknown tag is a broken invariant. */
    if (!doc_value_fixed_size[*p]) abort();
    return doc_value_fixed_size[*p];
}

/* ------------------------------------------------------------------ */
/* Accessors and iteration                                            */
/* ------------------------------------------------------------------ */

int doc_node_kind(const doc_node *n) { return n->kind; }
uint32_t doc_node_count(const doc_node *n) { return n->count; }
uint32_t doc_node_len(const doc_node *n) { return n->len; }
const uint8_t *doc_node_bytes(const doc_node *n) { return node_cbytes(n); }
const uint8_t *doc_box_value(const doc_node *box) { return node_cbytes(box); }

void doc_iter_init(doc_iter *it, const doc_node *n) {
    it->node = n;
    it->off = 0;
    it->index = 0;
}

int doc_iter_next(doc_iter *it, const char **key, size_t *klen, const uint8_t **val, uint32_t *val_off) {
    const doc_node *n = it->node;
    const uint8_t *b = node_cbytes(n);
    if (it->off >= n->len) return 0;
    uint32_t off = it->off;
    if (n->kind == DOC_KIND_OBJECT) {
        const char *k;
        size_t kl;
        off += (uint32_t)doc_key_decode(b + off, &k, &kl);
        if (key) *key = k;
        if (klen) *klen = kl;
    } else {
        if (key) *key = NULL;
        if (klen) *klen = 0;
    }
    if (val) *val = b + off;
    if (val_off) *val_off = off;
    it->off = off + (uint32_t)node_value_size(b + off);
    it->index++;
    return 1;
}

/* Orders keys by bytes, a proper prefix first. */
static int key_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Position in the sorted index of the first entry whose key is >= key. */
static uint32_t index_lower_bound(const doc_node *obj, const char *key, size_t klen) {
    const doc_index *ix = node_index(obj);
    const uint8_t *b = node_cbytes(obj);
    uint32_t lo = 0, hi = obj->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const char *k;
        size_t kl;
        doc_key_decode(b + ix->off[mid], &k, &kl);
        if (key_cmp(k, kl, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const uint8_t *doc_object_get(const doc_node *obj, const char *key, size_t klen, uint32_t *entry_off,
                              uint32_t *val_off) {
    const uint8_t *b = node_cbytes(obj);
    if (obj->indexed) {
        const doc_index *ix = node_index(obj);
        uint32_t pos = index_lower_bound(obj, key, klen);
        if (pos < obj->count) {
            const char *k;
            size_t kl;
            uint32_t eo = ix->off[pos];
            size_t h = doc_key_decode(b + eo, &k, &kl);
            if (kl == klen && memcmp(k, key, klen) == 0) {
                if (entry_off) *entry_off = eo;
                if (val_off) *val_off = eo + (uint32_t)h;
                return b + eo + h;
            }
        }
        return NULL;
    }
    uint32_t off = node_object_scan(obj, key, klen, entry_off, val_off);
    return off == UINT32_MAX ? NULL : b + off;
}

const uint8_t *doc_array_get(const doc_node *arr, uint32_t i, uint32_t *val_off) {
    const uint8_t *b = node_cbytes(arr);
    if (i >= arr->count) return NULL;
    uint32_t off = arr->indexed ? node_index(arr)->off[i] : node_array_scan(arr, i);
    if (val_off) *val_off = off;
    return b + off;
}

/* Position of entry `i` (offset of its key for objects). */
static uint32_t entry_offset_at(const doc_node *n, uint32_t i) {
    const uint8_t *b = node_cbytes(n);
    if (n->kind == DOC_KIND_ARRAY && n->indexed) return node_index(n)->off[i];
    uint32_t off = 0;
    for (uint32_t k = 0; k < i && off < n->len; k++) {
        if (n->kind == DOC_KIND_OBJECT) {
            const char *key;
            size_t kl;
            off += (uint32_t)doc_key_decode(b + off, &key, &kl);
        }
        off += (uint32_t)node_value_size(b + off);
    }
    return off;
}

/* ------------------------------------------------------------------ */
/* The index                                                          */
/* ------------------------------------------------------------------ */

/* qsort_r context: the packed bytes of the object being indexed. */
static int index_sort_cmp(const void *a, const void *b, void *ctx) {
    const uint8_t *bytes = ctx;
    uint32_t oa = *(const uint32_t *)a, ob = *(const uint32_t *)b;
    const char *ka, *kb;
    size_t la, lb;
    doc_key_decode(bytes + oa, &ka, &la);
    doc_key_decode(bytes + ob, &kb, &lb);
    return key_cmp(ka, la, kb, lb);
}

/* Fills a fresh index of n (count slots, icap >= count) from its bytes.
 * Objects: *dup receives the offset of a duplicated key, or UINT32_MAX. */
static void index_fill(doc_node *n, doc_index *ix, uint32_t *dup) {
    const uint8_t *b = node_bytes(n);
    uint32_t off = 0;
    for (uint32_t i = 0; i < n->count; i++) {
        ix->off[i] = off;
        if (n->kind == DOC_KIND_OBJECT) {
            const char *k;
            size_t kl;
            off += (uint32_t)doc_key_decode(b + off, &k, &kl);
        }
        off += (uint32_t)node_value_size(b + off);
    }
    if (dup) *dup = UINT32_MAX;
    if (n->kind != DOC_KIND_OBJECT) return;
    qsort_r(ix->off, n->count, sizeof(uint32_t), index_sort_cmp, (void *)b);
    if (!dup) return;
    for (uint32_t i = 1; i < n->count; i++) {
        if (index_sort_cmp(&ix->off[i - 1], &ix->off[i], (void *)b) == 0) {
            uint32_t first = ix->off[i] > ix->off[i - 1] ? ix->off[i] : ix->off[i - 1];
            if (first < *dup) *dup = first;
        }
    }
}

/* Bytes held by nodes and indexes, as requested from the allocator (the
 * allocator may round up). Updated at every node allocation site below;
 * atomic because lazy-free frees documents on another thread. */
static long long mem_live;

static void mem_count(long long delta) { __atomic_add_fetch(&mem_live, delta, __ATOMIC_RELAXED); }
void doc_mem_count(long long delta) { mem_count(delta); }
long long doc_memory_in_use(void) { return __atomic_load_n(&mem_live, __ATOMIC_RELAXED); }

static size_t index_size(uint32_t slots) { return sizeof(doc_index) + (size_t)slots * sizeof(uint32_t); }

static doc_index *index_alloc(uint32_t slots) {
    doc_index *ix = doc_malloc(index_size(slots));
    if (ix) {
        ix->vh = NULL;
        ix->icap = slots;
        mem_count((long long)index_size(slots));
    }
    return ix;
}

static void index_release(doc_index *ix) {
    doc_vhash_free(ix->vh);
    mem_count(-(long long)index_size(ix->icap));
    doc_free(ix);
}

/* ------------------------------------------------------------------ */
/* Making nodes                                                       */
/* ------------------------------------------------------------------ */

/* 1 when a packed range holds a container value (with_keys: the range is
 * object entries). */
static int bytes_have_children(const uint8_t *p, uint32_t len, int with_keys) {
    uint32_t off = 0;
    while (off < len) {
        if (with_keys) {
            const char *k;
            size_t kl;
            off += (uint32_t)doc_key_decode(p + off, &k, &kl);
        }
        if (p[off] == DOC_TAG_OBJECT || p[off] == DOC_TAG_ARRAY) return 1;
        off += (uint32_t)node_value_size(p + off);
    }
    return 0;
}

static size_t node_header_size(int indexed) { return sizeof(doc_node) + (indexed ? sizeof(doc_index *) : 0); }

/* doc_node_make with the NODE_PARENT flag known to the caller (parent: 0 or
 * NODE_PARENT), or found by scanning the bytes (parent < 0). */
static doc_node *node_make(int kind, const uint8_t *bytes, uint32_t len, uint32_t count, uint32_t *dup,
                           int parent);

doc_node *doc_node_make(int kind, const uint8_t *bytes, uint32_t len, uint32_t count, uint32_t *dup) {
    return node_make(kind, bytes, len, count, dup, -1);
}

doc_node *doc_node_make_known(int kind, const uint8_t *bytes, uint32_t len, uint32_t count, uint32_t *dup,
                              int parent) {
    /* The parser's common case, without node_make's branches: no index, no
     * duplicate check. */
    if (!dup && (kind == DOC_KIND_BOX || count < DOC_INDEX_MIN)) {
        doc_node *n = doc_malloc(sizeof(doc_node) + len);
        if (!n) return NULL;
        mem_count((long long)(sizeof(doc_node) + len));
        n->len = n->cap = len;
        n->count = count;
        n->kind = (uint8_t)kind;
        n->indexed = 0;
        n->flags = (uint16_t)parent;
        if (len) memcpy(n + 1, bytes, len);
        return n;
    }
    return node_make(kind, bytes, len, count, dup, parent);
}

static doc_node *node_make(int kind, const uint8_t *bytes, uint32_t len, uint32_t count, uint32_t *dup,
                           int parent) {
    int indexed = kind != DOC_KIND_BOX && count >= DOC_INDEX_MIN;
    doc_node *n = doc_malloc(node_header_size(indexed) + len);
    if (!n) return NULL;
    mem_count((long long)(node_header_size(indexed) + len));
    n->len = len;
    n->cap = len;
    n->count = count;
    n->kind = (uint8_t)kind;
    n->indexed = 0;
    if (parent < 0) parent = bytes_have_children(bytes, len, kind == DOC_KIND_OBJECT) ? NODE_PARENT : 0;
    n->flags = (uint16_t)parent;
    if (dup) *dup = UINT32_MAX;
    if (indexed) {
        doc_index *ix = index_alloc(count);
        if (!ix) {
            mem_count(-(long long)(node_header_size(indexed) + len));
            doc_free(n);
            return NULL;
        }
        n->indexed = 1;
        memcpy(n + 1, &ix, sizeof ix);
        if (len) memcpy(node_bytes(n), bytes, len);
        index_fill(n, ix, dup);
    } else if (len) {
        memcpy(node_bytes(n), bytes, len);
        if (dup && kind == DOC_KIND_OBJECT) {
            /* Small object: compare each key with the ones before it. */
            const uint8_t *b = node_bytes(n);
            uint32_t off = 0;
            for (uint32_t i = 0; i < count && *dup == UINT32_MAX; i++) {
                const char *k;
                size_t kl;
                size_t h = doc_key_decode(b + off, &k, &kl);
                uint32_t o2 = 0;
                for (uint32_t j = 0; j < i; j++) {
                    const char *k2;
                    size_t kl2;
                    size_t h2 = doc_key_decode(b + o2, &k2, &kl2);
                    if (kl2 == kl && memcmp(k, k2, kl) == 0) {
                        *dup = off;
                        break;
                    }
                    o2 += (uint32_t)(h2 + node_value_size(b + o2 + h2));
                }
                off += (uint32_t)(h + node_value_size(b + off + h));
            }
        }
    }
    return n;
}

/* Boxes one scalar encoding. */
static doc_node *box_of(const uint8_t *enc, size_t len) {
    return doc_node_make(DOC_KIND_BOX, enc, (uint32_t)len, 1, NULL);
}

doc_node *doc_box_int(int64_t v) {
    uint8_t e[9];
    return box_of(e, doc_encode_int(e, v));
}
doc_node *doc_box_double(double v) {
    uint8_t e[9];
    return box_of(e, doc_encode_double(e, v));
}
doc_node *doc_box_bool(int v) {
    uint8_t e = v ? DOC_TAG_TRUE : DOC_TAG_FALSE;
    return box_of(&e, 1);
}
doc_node *doc_box_null(void) {
    uint8_t e = DOC_TAG_NULL;
    return box_of(&e, 1);
}
doc_node *doc_box_empty(doc_type container) {
    doc_builder *b = doc_builder_new(2);
    if (!b) return NULL;
    if (container == DOC_ARRAY)
        doc_builder_begin_array(b);
    else
        doc_builder_begin_object(b);
    doc_builder_end(b);
    doc_node *box = doc_builder_finish(b, NULL);
    doc_builder_free(b);
    return box;
}
doc_node *doc_box_string(const char *s, size_t len) {
    uint8_t h[1 + DOC_VARINT_MAX];
    size_t hl = doc_encode_string_header(h, len);
    if (len > DOC_NODE_MAX_BYTES - hl) return NULL;
    doc_node *n = doc_malloc(sizeof(doc_node) + hl + len);
    if (!n) return NULL;
    mem_count((long long)(sizeof(doc_node) + hl + len));
    n->len = n->cap = (uint32_t)(hl + len);
    n->count = 1;
    n->kind = DOC_KIND_BOX;
    n->indexed = 0;
    n->flags = 0;
    memcpy(node_bytes(n), h, hl);
    if (len) memcpy(node_bytes(n) + hl, s, len);
    return n;
}

void doc_box_free_shell(doc_node *box) {
    if (!box) return;
    mem_count(-(long long)(node_header_size(0) + box->cap));
    doc_free(box);
}

/* ------------------------------------------------------------------ */
/* Splicing                                                           */
/* ------------------------------------------------------------------ */

/* Adds delta to every offset in off[from..to) that is above `after` (or at
 * it, when `at_too`): a branch-free loop the compiler vectorizes, since a
 * size-changing edit in a large container pays it once per slot. */
typedef uint32_t u32x4 __attribute__((vector_size(16))); /* gcc and clang */

static void index_shift(uint32_t *off, uint32_t from, uint32_t to, uint32_t after, int at_too,
                        int64_t delta) {
    uint32_t d = (uint32_t)delta; /* modular: offsets stay in range */
    uint32_t lim = at_too ? after : after + 1;
    uint32_t i = from;
    /* Four slots at a time (-O2 does not vectorize loops of unknown length). */
    u32x4 vl = {lim, lim, lim, lim}, vd = {d, d, d, d};
    for (; i + 4 <= to; i += 4) {
        u32x4 v;
        memcpy(&v, off + i, sizeof v);
        v += (u32x4)(v >= vl) & vd;
        memcpy(off + i, &v, sizeof v);
    }
    for (; i < to; i++) off[i] += off[i] >= lim ? d : 0;
}

/* off[dst + i] = off[src + i] + delta for i in [0, n), the ranges possibly
 * overlapping: the slot move and the shift of an insertion or removal in
 * one pass over the slots instead of two. */
static void index_move_shift(uint32_t *off, uint32_t dst, uint32_t src, uint32_t n, int64_t delta) {
    uint32_t d = (uint32_t)delta; /* modular: offsets stay in range */
    u32x4 vd = {d, d, d, d};
    uint32_t i;
    if (dst <= src) { /* forward: each load is ahead of every store so far */
        for (i = 0; i + 4 <= n; i += 4) {
            u32x4 v;
            memcpy(&v, off + src + i, sizeof v);
            v += vd;
            memcpy(off + dst + i, &v, sizeof v);
        }
        for (; i < n; i++) off[dst + i] = off[src + i] + d;
        return;
    }
    for (i = n; i >= 4; i -= 4) { /* backward, likewise */
        u32x4 v;
        memcpy(&v, off + src + i - 4, sizeof v);
        v += vd;
        memcpy(off + dst + i - 4, &v, sizeof v);
    }
    for (; i > 0; i--) off[dst + i - 1] = off[src + i - 1] + d;
}

/* Index maintenance after the bytes of n changed (see doc_node_splice):
 * offsets after the edit move by the size difference; an inserted entry gets
 * a slot (arrays: at its position; objects: at its key's sorted place), a
 * removed one loses its slot. A size-neutral change of one entry costs
 * nothing here; any other edit is O(count), like the byte move it follows. */
static void index_update(doc_node *n, uint32_t off, uint32_t oldlen, uint32_t newlen, int count_delta,
                         uint32_t entry_index) {
    doc_index *ix = node_index(n);
    int64_t delta = (int64_t)newlen - (int64_t)oldlen;
    uint32_t old_count = n->count - (uint32_t)count_delta;
    const uint8_t *b = node_bytes(n);

    if (count_delta == 0 && delta == 0) return;
    if (n->kind == DOC_KIND_ARRAY) {
        /* count_delta entries were inserted (> 0) or removed (< 0) as one
         * run starting at position entry_index. */
        /* Slots after the edit all lie past it: they move by the size
         * difference (and by the entries added or removed, in one pass). */
        if (count_delta == 0) {
            index_shift(ix->off, entry_index + 1, n->count, 0, 1, delta);
        } else if (count_delta > 0) {
            uint32_t k = (uint32_t)count_delta;
            index_move_shift(ix->off, entry_index + k, entry_index, old_count - entry_index, delta);
            uint32_t o = off;
            for (uint32_t i = 0; i < k; i++) {
                ix->off[entry_index + i] = o;
                o += (uint32_t)node_value_size(b + o);
            }
        } else {
            uint32_t k = (uint32_t)-count_delta;
            index_move_shift(ix->off, entry_index, entry_index + k, old_count - entry_index - k, delta);
        }
        return;
    }
    /* Object: slots are in key order, so every slot is looked at. */
    uint32_t w = old_count;
    if (count_delta < 0) {
        /* Drop the removed entry's slot (objects remove one entry at a time). */
        uint32_t i = 0;
        while (i < old_count && ix->off[i] != off) i++;
        if (i < old_count) {
            memmove(&ix->off[i], &ix->off[i + 1], (size_t)(old_count - i - 1) * sizeof(uint32_t));
            w--;
        }
    }
    /* An inserted entry pushes the one that was at `off` along with the rest;
     * an edit that ends the bytes (an appended member: the common case of
     * building an object) has nothing after it to shift. */
    if (off + newlen < n->len) index_shift(ix->off, 0, w, off, count_delta > 0, delta);
    if (count_delta > 0) {
        const char *k;
        size_t kl;
        doc_key_decode(b + off, &k, &kl);
        uint32_t lo = 0, hi = w;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            const char *mk;
            size_t mkl;
            doc_key_decode(b + ix->off[mid], &mk, &mkl);
            if (key_cmp(mk, mkl, k, kl) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        memmove(&ix->off[lo + 1], &ix->off[lo], (size_t)(w - lo) * sizeof(uint32_t));
        ix->off[lo] = off;
    }
}

doc_status doc_node_splice(doc_node **np, uint32_t off, uint32_t oldlen, const uint8_t *nb, uint32_t newlen,
                           int count_delta, uint32_t entry_index) {
    doc_node *n = *np;
    /* A value replaced by one of its size (an INCR, a TOGGLE) outside an
     * indexed array (whose value hash follows every element): the bytes only. */
    if (count_delta == 0 && oldlen == newlen && !(n->indexed && n->kind == DOC_KIND_ARRAY)) {
        n->flags &= (uint16_t)~NODE_PLAIN;
        if (bytes_have_children(nb, newlen, 0)) n->flags |= NODE_PARENT;
        memcpy(node_bytes(n) + off, nb, newlen);
        return DOC_OK;
    }
    uint64_t want = (uint64_t)n->len - oldlen + newlen;
    if (want > DOC_NODE_MAX_BYTES) return DOC_TOOBIG;
    uint32_t new_count = (uint32_t)((int64_t)n->count + count_delta);
    int had_index = n->indexed;
    doc_index *ix = node_index(n);

    /* Grow the index first (can fail without touching anything). */
    if (had_index && count_delta > 0 && new_count > ix->icap) {
        uint32_t slots = ix->icap + ix->icap / 2 + 8;
        if (slots < new_count) slots = new_count;
        doc_index *nix = doc_realloc(ix, index_size(slots));
        if (!nix) return DOC_NOMEM;
        mem_count((long long)index_size(slots) - (long long)index_size(nix->icap));
        nix->icap = slots;
        ix = nix;
        memcpy(n + 1, &ix, sizeof ix);
    }
    /* Then the bytes. */
    n->flags &= (uint16_t)~NODE_PLAIN; /* the new bytes were not checked */
    if (want > n->cap) {
        uint64_t cap = want + want / 4 + 16;
        if (cap > DOC_NODE_MAX_BYTES) cap = want;
        doc_node *m = doc_realloc(n, node_header_size(n->indexed) + (size_t)cap);
        if (!m) return DOC_NOMEM;
        n = m;
        mem_count((long long)cap - (long long)n->cap);
        n->cap = (uint32_t)cap;
        *np = n;
    }
    if (newlen && bytes_have_children(nb, newlen, n->kind == DOC_KIND_OBJECT && count_delta != 0))
        n->flags |= NODE_PARENT;
    /* Every element rewritten at once (some maybe removed, or added back by
     * its undo): renumbered from the bytes below. An object's entries only
     * come and go all at once through a rewrite (doc_edit_remove_members and
     * its undo); one member's edit never spans an indexed object's bytes. */
    int whole = had_index && off == 0 && oldlen == n->len && (n->kind == DOC_KIND_ARRAY || count_delta != 0);
    if (whole && node_index(n)->vh) {
        doc_vhash_free(node_index(n)->vh); /* built again by the next search */
        node_index(n)->vh = NULL;
    }
    int hashed = had_index && n->kind == DOC_KIND_ARRAY && node_index(n)->vh;
    if (hashed) doc_vhash_before(n, count_delta, entry_index);
    uint8_t *b = node_bytes(n);
    /* A size-neutral edit moves nothing: its cost is the new bytes only. */
    if (newlen != oldlen) memmove(b + off + newlen, b + off + oldlen, n->len - off - oldlen);
    if (newlen) memcpy(b + off, nb, newlen);
    n->len = (uint32_t)want;
    n->count = new_count;

    if (whole)
        index_fill(n, node_index(n), NULL);
    else if (had_index)
        index_update(n, off, oldlen, newlen, count_delta, entry_index);
    if (hashed && new_count >= DOC_INDEX_MIN / 2) doc_vhash_after(n, count_delta, entry_index);
    /* Add an index to a container that grew large; drop it (with some
     * hysteresis) from one that became small. Failing to add one is fine. */
    if (!had_index && n->kind != DOC_KIND_BOX && new_count >= DOC_INDEX_MIN) {
        doc_index *nix = index_alloc(new_count + new_count / 2);
        if (nix) {
            doc_node *m = doc_realloc(n, node_header_size(1) + n->cap);
            if (m) {
                n = m;
                *np = n;
                mem_count((long long)(node_header_size(1) - node_header_size(0)));
                memmove((uint8_t *)(n + 1) + sizeof nix, n + 1, n->len);
                memcpy(n + 1, &nix, sizeof nix);
                n->indexed = 1;
                index_fill(n, nix, NULL);
            } else {
                index_release(nix);
            }
        }
    } else if (had_index && new_count < DOC_INDEX_MIN / 2) {
        memmove(n + 1, (uint8_t *)(n + 1) + sizeof ix, n->len);
        n->indexed = 0;
        index_release(ix);
        doc_node *m = doc_realloc(n, node_header_size(0) + n->cap);
        /* The node no longer needs the index slot; a failed shrinking
         * realloc leaves n valid, the slot merely unused. */
        mem_count(-(long long)(node_header_size(1) - node_header_size(0)));
        if (m) *np = m;
    }
    return DOC_OK;
}

/* ------------------------------------------------------------------ */
/* Freeing, measuring, counting (explicit stacks, no recursion)       */
/* ------------------------------------------------------------------ */

/* A stack of nodes for tree walks. Grows through the allocator; when it
 * cannot grow, walkers fall back to a bounded recursion (the depth of any
 * tree is bounded by max-depth, which DOC_DEPTH_LIMIT caps). */
typedef struct node_stack {
    doc_node **items;    /* the nodes */
    size_t n;            /* used */
    size_t cap;          /* allocated */
    doc_node *local[64]; /* first slots, no allocation for shallow trees */
} node_stack;

static void stack_init(node_stack *s) {
    s->items = s->local;
    s->n = 0;
    s->cap = 64;
}
/* Doubles the stack; -1 when it cannot. */
static __attribute__((noinline)) int stack_grow(node_stack *s) {
    size_t cap = s->cap * 2;
    doc_node **m;
    if (s->items == s->local) {
        m = doc_malloc(cap * sizeof *m);
        if (m) memcpy(m, s->local, sizeof s->local);
    } else {
        m = doc_realloc(s->items, cap * sizeof *m);
    }
    if (!m) return -1;
    s->items = m;
    s->cap = cap;
    return 0;
}
static inline int stack_push(node_stack *s, doc_node *x) {
    if (s->n == s->cap && stack_grow(s) < 0) return -1;
    s->items[s->n++] = x;
    return 0;
}
static void stack_free(node_stack *s) {
    if (s->items != s->local) doc_free(s->items);
}

static void node_free_one(doc_node *n) {
    if (n->indexed) index_release(node_index(n));
    mem_count(-(long long)(node_header_size(n->indexed) + n->cap));
    doc_free(n);
}

/* The next child node a packed range p[0..len) of a node of `kind` points
 * to, from *off on (advanced past it); NULL at the end. */
static inline doc_node *next_child(const uint8_t *p, uint32_t len, uint32_t *off, int kind) {
    while (*off < len) {
        if (kind == DOC_KIND_OBJECT) {
            const char *k;
            size_t kl;
            *off += (uint32_t)doc_key_decode(p + *off, &k, &kl);
        }
        const uint8_t *v = p + *off;
        *off += (uint32_t)node_value_size(v);
        if (*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY) return value_child(v);
    }
    return NULL;
}

/* Pushes the child nodes referenced by a packed range (a child the stack
 * has no room for is freed recursively). */
static void push_children(node_stack *s, const uint8_t *p, uint32_t len, int kind) {
    uint32_t off = 0;
    for (doc_node *c; (c = next_child(p, len, &off, kind));)
        if (stack_push(s, c) < 0) doc_node_free(c);
}

void doc_bytes_free_children(const uint8_t *p, uint32_t len, int kind) {
    node_stack s;
    stack_init(&s);
    push_children(&s, p, len, kind);
    while (s.n) {
        doc_node *n = s.items[--s.n];
        if (n->flags & NODE_PARENT) push_children(&s, node_bytes(n), n->len, n->kind);
        node_free_one(n);
    }
    stack_free(&s);
}

void doc_node_free(doc_node *n) {
    if (!n) return;
    doc_bytes_free_children(node_bytes(n), n->len, n->kind);
    node_free_one(n);
}

void doc_bytes_reap_children(const uint8_t *p, uint32_t len, int kind, doc_reap_fn reap, void *arg) {
    uint32_t off = 0;
    for (doc_node *c; (c = next_child(p, len, &off, kind));) reap(c, arg);
}

size_t doc_node_free_effort(const doc_node *root, size_t limit) {
    /* What doc_node_free does, counted: one unit per allocation (a node,
     * its index, an array's value hash) and one per eight entries scanned
     * in parent nodes (stepping over an entry costs a few instructions, a
     * free some tens). A child node counts when its parent's scan finds it,
     * before it is scanned itself: an array of 100 objects reaches 64 in
     * one scan. Leaf containers are not scanned, as free does not scan
     * them. Stops at `limit`, so the cost of this call is bounded whatever
     * the tree's size; the scan is free's own (a short key is skipped on
     * its length byte), not doc_iter's. */
    node_stack s;
    size_t effort = 1;
    stack_init(&s);
    if (stack_push(&s, (doc_node *)root) < 0) return limit;
    while (s.n && effort < limit) {
        doc_node *n = s.items[--s.n];
        if (n->indexed) effort += node_index(n)->vh ? 2 : 1;
        if (!(n->flags & NODE_PARENT)) continue;
        const uint8_t *p = node_cbytes(n), *end = p + n->len;
        int object = n->kind == DOC_KIND_OBJECT;
        size_t entries = 0;
        while (p < end && effort + entries / 8 < limit) {
            if (object) {
                if (*p < 0x80) {
                    p += 1 + *p;
                } else {
                    const char *k;
                    size_t kl;
                    p += doc_key_decode(p, &k, &kl);
                }
            }
            if (*p == DOC_TAG_OBJECT || *p == DOC_TAG_ARRAY) {
                effort++;
                if (stack_push(&s, value_child(p)) < 0) {
                    effort = limit; /* no memory to look further: call it large */
                    break;
                }
            }
            p += node_value_size(p);
            entries++;
        }
        effort += entries / 8;
    }
    stack_free(&s);
    return effort < limit ? effort : limit;
}

size_t doc_node_memory(const doc_node *root) {
    node_stack s;
    size_t total = 0;
    stack_init(&s);
    if (stack_push(&s, (doc_node *)root) < 0) return 0;
    while (s.n) {
        doc_node *n = s.items[--s.n];
        total += doc_alloc_size(n, node_header_size(n->indexed) + n->cap);
        if (n->indexed) {
            doc_index *ix = node_index(n);
            total += doc_alloc_size(ix, sizeof(doc_index) + (size_t)ix->icap * sizeof(uint32_t));
            if (ix->vh) total += doc_alloc_size(ix->vh, doc_vhash_bytes(ix->vh));
        }
        if (!(n->flags & NODE_PARENT)) continue;
        doc_iter it;
        const uint8_t *v;
        doc_iter_init(&it, n);
        while (doc_iter_next(&it, NULL, NULL, &v, NULL))
            if (*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY)
                if (stack_push(&s, value_child(v)) < 0) total += doc_node_memory(value_child(v));
    }
    stack_free(&s);
    return total;
}

uint64_t doc_node_values(const doc_node *root) {
    node_stack s;
    uint64_t total = 1;
    stack_init(&s);
    if (stack_push(&s, (doc_node *)root) < 0) return root->count + 1;
    while (s.n) {
        doc_node *n = s.items[--s.n];
        total += n->count;
        if (!(n->flags & NODE_PARENT)) continue;
        doc_iter it;
        const uint8_t *v;
        doc_iter_init(&it, n);
        while (doc_iter_next(&it, NULL, NULL, &v, NULL))
            if ((*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY) && stack_push(&s, value_child(v)) < 0)
                total += doc_node_values(value_child(v)) - 1;
    }
    stack_free(&s);
    return total;
}

uint32_t doc_value_depth(const uint8_t *val) {
    if (*val != DOC_TAG_OBJECT && *val != DOC_TAG_ARRAY) return 0;
    /* Walk with (node, level) pairs, pushing only the children that have
     * children of their own: a leaf child is one level deeper and done.
     * Levels fit the frames of any tree max-depth allows. */
    struct item {
        const doc_node *n;
        uint32_t level;
    };
    struct item local[64], *st = local;
    size_t top = 0, cap = sizeof local / sizeof local[0];
    uint32_t deepest = 1;
    st[top++] = (struct item){value_child(val), 1};
    while (top) {
        struct item it = st[--top];
        if (it.level > deepest) deepest = it.level;
        if (!(it.n->flags & NODE_PARENT)) continue;
        const uint8_t *p = node_cbytes(it.n), *end = p + it.n->len;
        while (p < end) {
            if (it.n->kind == DOC_KIND_OBJECT) {
                const char *k;
                size_t kl;
                p += doc_key_decode(p, &k, &kl);
            }
            if (*p == DOC_TAG_OBJECT || *p == DOC_TAG_ARRAY) {
                const doc_node *c = value_child(p);
                if (!(c->flags & NODE_PARENT)) {
                    if (it.level + 1 > deepest) deepest = it.level + 1;
                } else {
                    if (top == cap) {
                        struct item *m = st == local ? doc_malloc(2 * cap * sizeof *m)
                                                     : doc_realloc(st, 2 * cap * sizeof *m);
                        if (!m) {
                            /* Out of memory: UINT32_MAX, which callers report as DOC_NOMEM. */
                            if (st != local) doc_free(st);
                            return UINT32_MAX;
                        }
                        if (st == local) memcpy(m, local, sizeof local);
                        st = m;
                        cap *= 2;
                    }
                    st[top++] = (struct item){c, it.level + 1};
                }
            }
            p += node_value_size(p);
        }
    }
    if (st != local) doc_free(st);
    return deepest;
}

size_t doc_node_count_nodes(const doc_node *root, size_t limit) {
    /* Counts nodes and the children looked at, stopping at `limit`: the
     * cost of this call is bounded by limit whatever the document's size. */
    node_stack s;
    size_t work = 0;
    stack_init(&s);
    if (stack_push(&s, (doc_node *)root) < 0) return 1;
    while (s.n && work < limit) {
        doc_node *n = s.items[--s.n];
        work++;
        doc_iter it;
        const uint8_t *v;
        doc_iter_init(&it, n);
        while (work < limit && doc_iter_next(&it, NULL, NULL, &v, NULL)) {
            work++;
            if ((*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY) && stack_push(&s, value_child(v)) < 0) break;
        }
    }
    stack_free(&s);
    return work;
}

/* ------------------------------------------------------------------ */
/* Deep copy                                                          */
/* ------------------------------------------------------------------ */

/* Copies a node's bytes, replacing each child pointer with a fresh copy of
 * the child. Iterative: a work list of (copied node whose children still
 * point at the originals). */
doc_node *doc_value_copy(const uint8_t *val) {
    doc_node *box = doc_node_make(DOC_KIND_BOX, val, (uint32_t)node_value_size(val), 1, NULL);
    if (!box) return NULL;
    node_stack s;
    stack_init(&s);
    if (stack_push(&s, box) < 0) {
        doc_box_free_shell(box);
        return NULL;
    }
    int failed = 0;
    while (s.n) {
        doc_node *n = s.items[--s.n];
        if (!(n->flags & NODE_PARENT)) continue;
        uint8_t *b = node_bytes(n);
        uint32_t off = 0;
        while (off < n->len) {
            if (n->kind == DOC_KIND_OBJECT) {
                const char *k;
                size_t kl;
                off += (uint32_t)doc_key_decode(b + off, &k, &kl);
            }
            uint8_t tag = b[off];
            if (tag == DOC_TAG_OBJECT || tag == DOC_TAG_ARRAY) {
                doc_node *orig = value_child(b + off);
                doc_node *c = failed ? NULL
                                     : node_make(orig->kind, node_cbytes(orig), orig->len, orig->count, NULL,
                                                 orig->flags & NODE_PARENT);
                if (!c || stack_push(&s, c) < 0) {
                    /* Out of memory: turn the slot into a same-size integer
                     * so freeing the partial copy never reaches an original. */
                    if (c) node_free_one(c);
                    failed = 1;
                    b[off] = DOC_TAG_I64;
                    memset(b + off + 1, 0, sizeof(uintptr_t)); /* the pointer slot */
                    off += (uint32_t)node_value_size(b + off);
                    continue;
                }
                value_set_child(b + off, c);
            }
            off += (uint32_t)node_value_size(b + off);
        }
    }
    stack_free(&s);
    if (failed) {
        doc_node_free(box);
        return NULL;
    }
    return box;
}

/* Exposed for edit.c: offset of entry i. */
uint32_t doc_node_entry_offset(const doc_node *n, uint32_t i);
uint32_t doc_node_entry_offset(const doc_node *n, uint32_t i) { return entry_offset_at(n, i); }
