/*
 * node.c - the packed node: encoding, decoding, lookup, the key/offset index
 * of large containers, the builder that makes nodes bottom-up, and freeing.
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
    case DOC_TAG_FALSE: out->type = DOC_BOOL; out->b = 0; return p + 1;
    case DOC_TAG_TRUE: out->type = DOC_BOOL; out->b = 1; return p + 1;
    case DOC_TAG_I8: { int8_t x; memcpy(&x, p + 1, 1); out->type = DOC_INT; out->i = x; return p + 2; }
    case DOC_TAG_I16: { int16_t x; memcpy(&x, p + 1, 2); out->type = DOC_INT; out->i = x; return p + 3; }
    case DOC_TAG_I32: { int32_t x; memcpy(&x, p + 1, 4); out->type = DOC_INT; out->i = x; return p + 5; }
    case DOC_TAG_I64: memcpy(&out->i, p + 1, 8); out->type = DOC_INT; return p + 9;
    case DOC_TAG_DOUBLE: memcpy(&out->d, p + 1, 8); out->type = DOC_DOUBLE; return p + 9;
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

size_t doc_value_size(const uint8_t *p) {
    uint8_t tag = *p;
    if (tag >= DOC_TAG_SMALLINT || tag <= DOC_TAG_TRUE) return 1;
    switch (tag) {
    case DOC_TAG_I8: return 2;
    case DOC_TAG_I16: return 3;
    case DOC_TAG_I32: return 5;
    case DOC_TAG_I64:
    case DOC_TAG_DOUBLE: return 9;
    case DOC_TAG_OBJECT:
    case DOC_TAG_ARRAY: return 1 + sizeof(doc_node *);
    default: {
        uint64_t n;
        size_t h = doc_varint_get(p + 1, &n);
        return 1 + h + (size_t)n;
    }
    }
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

int doc_iter_next(doc_iter *it, const char **key, size_t *klen, const uint8_t **val,
                  uint32_t *val_off) {
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

const uint8_t *doc_object_get(const doc_node *obj, const char *key, size_t klen,
                              uint32_t *entry_off, uint32_t *val_off) {
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
    uint32_t off = 0;
    while (off < obj->len) {
        const char *k;
        size_t kl;
        size_t h = doc_key_decode(b + off, &k, &kl);
        if (kl == klen && memcmp(k, key, klen) == 0) {
            if (entry_off) *entry_off = off;
            if (val_off) *val_off = off + (uint32_t)h;
            return b + off + h;
        }
        off += (uint32_t)(h + node_value_size(b + off + h));
    }
    return NULL;
}

const uint8_t *doc_array_get(const doc_node *arr, uint32_t i, uint32_t *val_off) {
    const uint8_t *b = node_cbytes(arr);
    if (i >= arr->count) return NULL;
    uint32_t off;
    if (arr->indexed) {
        off = node_index(arr)->off[i];
    } else {
        off = 0;
        for (uint32_t k = 0; k < i; k++) off += (uint32_t)node_value_size(b + off);
    }
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

static size_t node_header_size(int indexed) {
    return sizeof(doc_node) + (indexed ? sizeof(doc_index *) : 0);
}

/* doc_node_make with the NODE_PARENT flag known to the caller (parent: 0 or
 * NODE_PARENT), or found by scanning the bytes (parent < 0). */
static doc_node *node_make(int kind, const uint8_t *bytes, uint32_t len, uint32_t count,
                           uint32_t *dup, int parent);

doc_node *doc_node_make(int kind, const uint8_t *bytes, uint32_t len, uint32_t count,
                        uint32_t *dup) {
    return node_make(kind, bytes, len, count, dup, -1);
}

doc_node *doc_node_make_known(int kind, const uint8_t *bytes, uint32_t len, uint32_t count,
                              uint32_t *dup, int parent) {
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

static doc_node *node_make(int kind, const uint8_t *bytes, uint32_t len, uint32_t count,
                           uint32_t *dup, int parent) {
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
typedef uint32_t u32x4 __attribute__((vector_size(16)));   /* gcc and clang */

static void index_shift(uint32_t *off, uint32_t from, uint32_t to, uint32_t after, int at_too,
                        int64_t delta) {
    uint32_t d = (uint32_t)delta;   /* modular: offsets stay in range */
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

/* Index maintenance after the bytes of n changed (see doc_node_splice):
 * offsets after the edit move by the size difference; an inserted entry gets
 * a slot (arrays: at its position; objects: at its key's sorted place), a
 * removed one loses its slot. A size-neutral change of one entry costs
 * nothing here; any other edit is O(count), like the byte move it follows. */
static void index_update(doc_node *n, uint32_t off, uint32_t oldlen, uint32_t newlen,
                         int count_delta, uint32_t entry_index) {
    doc_index *ix = node_index(n);
    int64_t delta = (int64_t)newlen - (int64_t)oldlen;
    uint32_t old_count = n->count - (uint32_t)count_delta;
    const uint8_t *b = node_bytes(n);

    if (count_delta == 0 && delta == 0) return;
    if (n->kind == DOC_KIND_ARRAY) {
        /* count_delta entries were inserted (> 0) or removed (< 0) as one
         * run starting at position entry_index. */
        uint32_t first_after;   /* first slot whose entry lies after the edit */
        if (count_delta == 0) {
            first_after = entry_index + 1;
        } else if (count_delta > 0) {
            uint32_t k = (uint32_t)count_delta;
            memmove(&ix->off[entry_index + k], &ix->off[entry_index],
                    (size_t)(old_count - entry_index) * sizeof(uint32_t));
            uint32_t o = off;
            for (uint32_t i = 0; i < k; i++) {
                ix->off[entry_index + i] = o;
                o += (uint32_t)node_value_size(b + o);
            }
            first_after = entry_index + k;
        } else {
            uint32_t k = (uint32_t)-count_delta;
            memmove(&ix->off[entry_index], &ix->off[entry_index + k],
                    (size_t)(old_count - entry_index - k) * sizeof(uint32_t));
            first_after = entry_index;
        }
        /* Slots after the edit all lie past it: shift them all. */
        index_shift(ix->off, first_after, n->count, 0, 1, delta);
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
    /* An inserted entry pushes the one that was at `off` along with the rest. */
    index_shift(ix->off, 0, w, off, count_delta > 0, delta);
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

doc_status doc_node_splice(doc_node **np, uint32_t off, uint32_t oldlen, const uint8_t *nb,
                           uint32_t newlen, int count_delta, uint32_t entry_index) {
    doc_node *n = *np;
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
    n->flags &= (uint16_t)~NODE_PLAIN;   /* the new bytes were not checked */
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
    int hashed = had_index && n->kind == DOC_KIND_ARRAY && node_index(n)->vh;
    if (hashed) doc_vhash_before(n, count_delta, entry_index);
    uint8_t *b = node_bytes(n);
    /* A size-neutral edit moves nothing: its cost is the new bytes only. */
    if (newlen != oldlen) memmove(b + off + newlen, b + off + oldlen, n->len - off - oldlen);
    if (newlen) memcpy(b + off, nb, newlen);
    n->len = (uint32_t)want;
    n->count = new_count;

    if (had_index) index_update(n, off, oldlen, newlen, count_delta, entry_index);
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
    doc_node **items;   /* the nodes */
    size_t n;           /* used */
    size_t cap;         /* allocated */
    doc_node *local[64];/* first slots, no allocation for shallow trees */
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

/* Pushes the child nodes referenced by a packed range; returns -1 when the
 * stack could not grow (those children are then freed recursively). */
static void push_children(node_stack *s, const uint8_t *p, uint32_t len, int kind) {
    uint32_t off = 0;
    while (off < len) {
        if (kind == DOC_KIND_OBJECT) {
            const char *k;
            size_t kl;
            off += (uint32_t)doc_key_decode(p + off, &k, &kl);
        }
        uint8_t tag = p[off];
        if (tag == DOC_TAG_OBJECT || tag == DOC_TAG_ARRAY) {
            doc_node *c = value_child(p + off);
            if (stack_push(s, c) < 0) doc_node_free(c);
        }
        off += (uint32_t)node_value_size(p + off);
    }
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

uint32_t doc_value_depth(const uint8_t *val) {
    if (*val != DOC_TAG_OBJECT && *val != DOC_TAG_ARRAY) return 0;
    /* Walk with (node, level) pairs, pushing only the children that have
     * children of their own: a leaf child is one level deeper and done.
     * Levels fit the frames of any tree max-depth allows. */
    struct item { const doc_node *n; uint32_t level; };
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
            if ((*v == DOC_TAG_OBJECT || *v == DOC_TAG_ARRAY) && stack_push(&s, value_child(v)) < 0)
                break;
        }
    }
    stack_free(&s);
    return work;
}

/* ------------------------------------------------------------------ */
/* The builder                                                        */
/* ------------------------------------------------------------------ */

/* One open container: its packed bytes so far. */
typedef struct build_frame {
    doc_buf bytes;     /* packed entries so far (keys and values) */
    uint32_t count;    /* entries so far */
    int kind;          /* DOC_KIND_* */
    int want_value;    /* objects: a key was given, its value is next */
    size_t start;      /* input offset where it opened (error messages) */
    uint64_t keybits;  /* objects: a 64-bit filter of the keys so far (length,
                          first and last byte), so most keys skip the
                          duplicate scan */
    int parent;        /* NODE_PARENT once a child node was added, else 0 */
} build_frame;

/* Room for n more bytes in a frame's buffer: the common case inline. */
#define FRAME_ROOM(buf, n) ((buf)->cap - (buf)->len >= (n) ? 0 : doc_buf_reserve((buf), (n)))

struct doc_builder {
    build_frame *frames;  /* frames[0] is the box */
    uint32_t depth;       /* frames open, the box included */
    uint32_t cap;         /* frames allocated */
    uint32_t max_depth;   /* containers may nest this deep */
    size_t offset;        /* caller's input position */
    doc_error err;        /* sticky first error */
};

doc_builder *doc_builder_new(uint32_t max_depth) {
    doc_builder *b = doc_malloc(sizeof *b);
    if (!b) return NULL;
    memset(b, 0, sizeof *b);
    b->cap = 8;
    b->frames = doc_malloc(b->cap * sizeof *b->frames);
    if (!b->frames) {
        doc_free(b);
        return NULL;
    }
    b->max_depth = max_depth > DOC_DEPTH_LIMIT ? DOC_DEPTH_LIMIT : max_depth;
    b->depth = 1;
    for (uint32_t i = 0; i < b->cap; i++) doc_buf_init(&b->frames[i].bytes);
    b->frames[0].count = 0;
    b->frames[0].kind = DOC_KIND_BOX;
    b->frames[0].want_value = 0;
    b->frames[0].start = 0;
    b->frames[0].parent = 0;
    return b;
}

/* Frees the nodes already made inside open frames, then the builder. */
void doc_builder_free(doc_builder *b) {
    if (!b) return;
    for (uint32_t i = 0; i < b->depth; i++) {
        build_frame *f = &b->frames[i];
        if (!f->bytes.oom && f->bytes.len) {
            /* A dangling key without its value is not a complete entry. */
            if (f->kind == DOC_KIND_OBJECT && f->want_value) {
                uint32_t off = 0, last = 0;
                const uint8_t *p = (const uint8_t *)f->bytes.data;
                for (uint32_t e = 0; e < f->count; e++) {
                    const char *k;
                    size_t kl;
                    off += (uint32_t)doc_key_decode(p + off, &k, &kl);
                    off += (uint32_t)node_value_size(p + off);
                }
                last = off;
                doc_bytes_free_children(p, last, f->kind);
            } else {
                doc_bytes_free_children((const uint8_t *)f->bytes.data, (uint32_t)f->bytes.len,
                                        f->kind);
            }
        }
    }
    for (uint32_t i = 0; i < b->cap; i++) doc_buf_free(&b->frames[i].bytes);
    doc_free(b->frames);
    doc_free(b);
}

void doc_builder_set_offset(doc_builder *b, size_t offset) { b->offset = offset; }
const doc_error *doc_builder_error(const doc_builder *b) { return &b->err; }

/* Checks that a value may come now; returns the frame it goes in or NULL. */
static build_frame *value_frame(doc_builder *b) {
    if (b->err.code) return NULL;
    build_frame *f = &b->frames[b->depth - 1];
    if (f->kind == DOC_KIND_OBJECT && !f->want_value) {
        doc_error_at(&b->err, DOC_BADJSON, b->offset, "object member without a key");
        return NULL;
    }
    if (f->kind == DOC_KIND_BOX && f->count) {
        doc_error_at(&b->err, DOC_BADJSON, b->offset, "more than one value");
        return NULL;
    }
    return f;
}

static doc_status value_done(doc_builder *b, build_frame *f) {
    if (f->bytes.oom) return doc_error_set(&b->err, DOC_NOMEM, "out of memory");
    if (f->bytes.len > DOC_NODE_MAX_BYTES)
        return doc_error_at(&b->err, DOC_TOOBIG, b->offset, "container larger than 4 GB");
    f->count++;
    f->want_value = 0;
    return DOC_OK;
}

static doc_status put_encoded(doc_builder *b, const uint8_t *enc, size_t n) {
    build_frame *f = value_frame(b);
    if (!f) return b->err.code;
    if (FRAME_ROOM(&f->bytes, n) == 0) {
        memcpy(f->bytes.data + f->bytes.len, enc, n);
        f->bytes.len += n;
    }
    return value_done(b, f);
}

doc_status doc_builder_null(doc_builder *b) {
    uint8_t e = DOC_TAG_NULL;
    return put_encoded(b, &e, 1);
}
doc_status doc_builder_bool(doc_builder *b, int v) {
    uint8_t e = v ? DOC_TAG_TRUE : DOC_TAG_FALSE;
    return put_encoded(b, &e, 1);
}
doc_status doc_builder_int(doc_builder *b, int64_t v) {
    uint8_t e[9];
    return put_encoded(b, e, doc_encode_int(e, v));
}
doc_status doc_builder_double(doc_builder *b, double v) {
    uint8_t e[9];
    if (b->err.code) return b->err.code;
    if (v != v || v - v != 0)
        return doc_error_at(&b->err, DOC_OVERFLOW, b->offset, "number is not finite");
    return put_encoded(b, e, doc_encode_double(e, v));
}
doc_status doc_builder_string(doc_builder *b, const char *s, size_t len) {
    uint8_t h[1 + DOC_VARINT_MAX];
    build_frame *f = value_frame(b);
    if (!f) return b->err.code;
    if (len > DOC_NODE_MAX_BYTES)
        return doc_error_at(&b->err, DOC_TOOBIG, b->offset, "string larger than 4 GB");
    if (FRAME_ROOM(&f->bytes, sizeof h + len) == 0) {
        uint8_t *dst = (uint8_t *)f->bytes.data + f->bytes.len;
        size_t hl = doc_encode_string_header(dst, len);
        memcpy(dst + hl, s, len);
        f->bytes.len += hl + len;
    }
    return value_done(b, f);
}

/* Bit of the key filter for a key. */
static uint64_t key_bit(const char *s, size_t len) {
    unsigned h = (unsigned)len * 31u;
    if (len) h += (unsigned char)s[0] * 7u + (unsigned char)s[len - 1];
    return 1ull << (h & 63);
}

doc_status doc_builder_key(doc_builder *b, const char *s, size_t len) {
    if (b->err.code) return b->err.code;
    build_frame *f = &b->frames[b->depth - 1];
    if (f->kind != DOC_KIND_OBJECT || f->want_value)
        return doc_error_at(&b->err, DOC_BADJSON, b->offset, "unexpected key");
    if (len > DOC_NODE_MAX_BYTES)
        return doc_error_at(&b->err, DOC_TOOBIG, b->offset, "key larger than 4 GB");
    /* Small objects are checked for a duplicate here, with a short scan
     * when the filter says a match is possible; large ones once, through the
     * sorted index made when they close. */
    uint64_t bit = key_bit(s, len);
    if (f->count < DOC_INDEX_MIN && (f->keybits & bit) && !f->bytes.oom) {
        const uint8_t *p = (const uint8_t *)f->bytes.data;
        uint32_t off = 0;
        for (uint32_t i = 0; i < f->count; i++) {
            const char *k;
            size_t kl;
            size_t kh = doc_key_decode(p + off, &k, &kl);
            if (kl == len && memcmp(k, s, len) == 0)
                return doc_error_at(&b->err, DOC_BADJSON, b->offset, "duplicate key \"%.*s\"",
                                    (int)(len > 40 ? 40 : len), s);
            off += (uint32_t)(kh + node_value_size(p + off + kh));
        }
    }
    f->keybits |= bit;
    if (FRAME_ROOM(&f->bytes, DOC_VARINT_MAX + len) < 0)
        return doc_error_set(&b->err, DOC_NOMEM, "out of memory");
    uint8_t *dst = (uint8_t *)f->bytes.data + f->bytes.len;
    size_t h = doc_varint_put(dst, len);
    memcpy(dst + h, s, len);
    f->bytes.len += h + len;
    f->want_value = 1;
    return DOC_OK;
}

static doc_status begin(doc_builder *b, int kind) {
    if (!value_frame(b)) return b->err.code;
    if (b->depth > b->max_depth)
        return doc_error_at(&b->err, DOC_TOODEEP, b->offset,
                            "nesting deeper than max-depth %u", b->max_depth);
    if (b->depth == b->cap) {
        uint32_t cap = b->cap * 2;
        build_frame *m = doc_realloc(b->frames, cap * sizeof *m);
        if (!m) return doc_error_set(&b->err, DOC_NOMEM, "out of memory");
        b->frames = m;
        for (uint32_t i = b->cap; i < cap; i++) doc_buf_init(&b->frames[i].bytes);
        b->cap = cap;
    }
    build_frame *f = &b->frames[b->depth++];
    f->bytes.len = 0;   /* reuse the buffer of an earlier sibling */
    f->bytes.oom = 0;
    f->count = 0;
    f->kind = kind;
    f->want_value = 0;
    f->start = b->offset;
    f->keybits = 0;
    f->parent = 0;
    return DOC_OK;
}

doc_status doc_builder_begin_object(doc_builder *b) { return begin(b, DOC_KIND_OBJECT); }
doc_status doc_builder_begin_array(doc_builder *b) { return begin(b, DOC_KIND_ARRAY); }

doc_status doc_builder_end(doc_builder *b) {
    if (b->err.code) return b->err.code;
    build_frame *f = &b->frames[b->depth - 1];
    if (f->kind == DOC_KIND_BOX || f->want_value)
        return doc_error_at(&b->err, DOC_BADJSON, b->offset, "unexpected end of container");
    uint32_t dup = UINT32_MAX;
    /* Objects below DOC_INDEX_MIN were checked key by key already. */
    doc_node *n = node_make(f->kind, (const uint8_t *)f->bytes.data, (uint32_t)f->bytes.len,
                            f->count,
                            f->kind == DOC_KIND_OBJECT && f->count >= DOC_INDEX_MIN ? &dup : NULL,
                            f->parent);
    if (!n) return doc_error_set(&b->err, DOC_NOMEM, "out of memory");
    if (dup != UINT32_MAX) {
        const char *k;
        size_t kl;
        doc_key_decode(node_bytes(n) + dup, &k, &kl);
        doc_error_at(&b->err, DOC_BADJSON, b->offset, "duplicate key \"%.*s\" in the object at byte %zu",
                     (int)(kl > 40 ? 40 : kl), k, f->start);
        /* n adopted the children: free through it, and forget them here. */
        doc_node_free(n);
        f->bytes.len = 0;
        f->count = 0;
        return b->err.code;
    }
    b->depth--;
    build_frame *p = &b->frames[b->depth - 1];
    uint8_t e[1 + sizeof(doc_node *)];
    e[0] = f->kind == DOC_KIND_OBJECT ? DOC_TAG_OBJECT : DOC_TAG_ARRAY;
    value_set_child(e, n);
    doc_buf_append(&p->bytes, e, sizeof e);
    p->parent = NODE_PARENT;
    if (p->bytes.oom) {
        doc_node_free(n);
        return doc_error_set(&b->err, DOC_NOMEM, "out of memory");
    }
    return value_done(b, p);
}

doc_status doc_builder_copy(doc_builder *b, const uint8_t *val) {
    doc_node *c = doc_value_copy(val);
    if (!c) return doc_error_set(&b->err, DOC_NOMEM, "out of memory");
    build_frame *f = value_frame(b);
    if (!f) {
        doc_node_free(c);
        return b->err.code;
    }
    doc_buf_append(&f->bytes, node_bytes(c), c->len);
    if (f->bytes.oom) {
        doc_node_free(c);
        return doc_error_set(&b->err, DOC_NOMEM, "out of memory");
    }
    f->parent |= c->flags & NODE_PARENT;
    doc_box_free_shell(c);
    return value_done(b, f);
}

doc_node *doc_builder_finish(doc_builder *b, doc_error *err) {
    if (!b->err.code && (b->depth != 1 || b->frames[0].count != 1))
        doc_error_at(&b->err, DOC_BADJSON, b->offset, "incomplete JSON value");
    if (b->err.code) {
        if (err && !err->code) *err = b->err;
        return NULL;
    }
    build_frame *f = &b->frames[0];
    doc_node *box = node_make(DOC_KIND_BOX, (const uint8_t *)f->bytes.data,
                              (uint32_t)f->bytes.len, 1, NULL, f->parent);
    if (!box) {
        doc_error_set(&b->err, DOC_NOMEM, "out of memory");
        if (err && !err->code) *err = b->err;
        return NULL;
    }
    f->bytes.len = 0;   /* the box owns the children now */
    f->count = 0;
    return box;
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
                                     : node_make(orig->kind, node_cbytes(orig), orig->len,
                                                 orig->count, NULL, orig->flags & NODE_PARENT);
                if (!c || stack_push(&s, c) < 0) {
                    /* Out of memory: turn the slot into a same-size integer
                     * so freeing the partial copy never reaches an original. */
                    if (c) node_free_one(c);
                    failed = 1;
                    b[off] = DOC_TAG_I64;
                    memset(b + off + 1, 0, sizeof(uintptr_t));   /* the pointer slot */
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
