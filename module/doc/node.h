/*
 * node.h - internals of the packed node shared by node.c, edit.c and compare.c.
 * Nothing outside module/doc/ includes this; the rest of the world sees the
 * opaque doc_node of doc.h.
 *
 * Memory layout of a node (one allocation):
 *
 *     struct doc_node | [uint32_t *index, when indexed] | packed bytes (cap)
 *
 * The index of an indexed array holds the offset of element i at index[i];
 * the index of an indexed object holds entry offsets sorted by key bytes
 * (shorter key first on a common prefix). Offsets are relative to the packed
 * bytes. Invariants: count is the number of entries in bytes[0..len); an
 * index, when present, has exactly count live slots; a box holds one value.
 */
#ifndef ATOMICDOC_NODE_H
#define ATOMICDOC_NODE_H

#include "doc.h"
#include <string.h>

struct doc_node {
    uint32_t len;    /* packed bytes in use */
    uint32_t cap;    /* packed bytes allocated after the header */
    uint32_t count;  /* entries (members, elements; 1 for a box) */
    uint8_t kind;    /* DOC_KIND_BOX / OBJECT / ARRAY */
    uint8_t indexed; /* 1: a uint32_t* index sits between header and bytes */
    uint16_t flags;  /* NODE_PARENT: may hold pointers to child nodes */
};

/* Set on a node whose bytes may point to child nodes (never cleared: it
 * is a hint that lets free/copy/measure skip scanning leaf containers). */
#define NODE_PARENT 1
/* Set on a node none of whose keys and strings needs an escape when printed
 * (none holds '"', '\\' or a byte below 0x20), so the printer copies them
 * without testing. Set only by code that built the bytes and saw every
 * string (the parser: strings without a backslash escape); cleared by
 * every doc_node_splice, never set again. */
#define NODE_PLAIN 2

/* The value hash of a large array (find.c); opaque here. */
typedef struct doc_vhash doc_vhash;

/* The index block: icap slots allocated, node->count of them live. */
typedef struct doc_index {
    doc_vhash *vh;  /* arrays: hash of the scalar elements, built by the
                          first search by value (find.c), or NULL; freed
                          with the index */
    uint32_t icap;  /* slots allocated */
    uint32_t off[]; /* entry offsets */
} doc_index;

/* Arrays this long get a value hash when searched (below it a scan is a
 * few microseconds at most and a hash would cost more memory than it saves
 * time). At least DOC_INDEX_MIN: the hash lives in the index. */
#define DOC_FIND_HASH_MIN 64

static inline uint8_t *node_bytes(doc_node *n) {
    return (uint8_t *)(n + 1) + (n->indexed ? sizeof(doc_index *) : 0);
}
static inline const uint8_t *node_cbytes(const doc_node *n) {
    return (const uint8_t *)(n + 1) + (n->indexed ? sizeof(doc_index *) : 0);
}
static inline doc_index *node_index(const doc_node *n) {
    doc_index *ix;
    if (!n->indexed) return NULL;
    memcpy(&ix, n + 1, sizeof ix);
    return ix;
}
static inline doc_node *value_child(const uint8_t *v) {
    doc_node *c;
    memcpy(&c, v + 1, sizeof c);
    return c;
}
static inline void value_set_child(uint8_t *v, doc_node *c) { memcpy(v + 1, &c, sizeof c); }

/* Encoded size by tag for the fixed-size tags; 0: a string (its length
 * follows) or a tag that is not ours (doc_value_size aborts on it). */
extern const uint8_t doc_value_fixed_size[256] __attribute__((visibility("hidden")));

/* doc_value_size inline, for the walks that step over every entry (lookups,
 * free, compare, the parser's duplicate-key scan): a table load, not a switch. */
static inline size_t node_value_size(const uint8_t *p) {
    size_t fixed = doc_value_fixed_size[*p];
    if (fixed) return fixed;
    if (!(p[1] & 0x80)) return 2 + (size_t)p[1]; /* a string under 128 bytes */
    return doc_value_size(p);
}

/* Key bytes equal (n of each): short keys without a call to memcmp. */
static inline int key_eq(const char *a, const char *b, size_t n) {
    if (n > 16) return memcmp(a, b, n) == 0;
    if (n >= 8) {
        uint64_t x1, y1, x2, y2; /* two loads that overlap when n < 16 */
        memcpy(&x1, a, 8);
        memcpy(&y1, b, 8);
        memcpy(&x2, a + n - 8, 8);
        memcpy(&y2, b + n - 8, 8);
        return x1 == y1 && x2 == y2;
    }
    if (n >= 4) {
        uint32_t x1, y1, x2, y2;
        memcpy(&x1, a, 4);
        memcpy(&y1, b, 4);
        memcpy(&x2, a + n - 4, 4);
        memcpy(&y2, b + n - 4, 4);
        return x1 == y1 && x2 == y2;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

size_t doc_key_decode(const uint8_t *p, const char **key, size_t *klen);

/* The linear lookups of doc_object_get / doc_array_get in a node without an
 * index (fewer than DOC_INDEX_MIN entries), inline for the path walks. An
 * object's member: offset of its value (entry_off / val_off filled when not
 * NULL), UINT32_MAX when missing. A key shorter than 128 bytes is one length
 * byte and its bytes, so a key of another length is skipped on that byte. */
static inline __attribute__((always_inline)) uint32_t
node_object_scan(const doc_node *obj, const char *key, size_t klen, uint32_t *entry_off, uint32_t *val_off) {
    const uint8_t *b = node_cbytes(obj), *p = b, *end = b + obj->len;
    /* Keys under 128 bytes (one length byte): the loop of the common case,
     * a key of another length skipped on that byte, of another first byte
     * on that one. */
    while (p < end && *p < 0x80) {
        size_t kl = *p;
        const uint8_t *v = p + 1 + kl;
        if (kl == klen &&
            (klen == 0 || (p[1] == (uint8_t)key[0] && key_eq((const char *)p + 1, key, klen)))) {
            if (entry_off) *entry_off = (uint32_t)(p - b);
            if (val_off) *val_off = (uint32_t)(v - b);
            return (uint32_t)(v - b);
        }
        size_t fixed = doc_value_fixed_size[*v];
        p = v + (fixed ? fixed : node_value_size(v));
    }
    /* From the first long key on: any key. */
    while (p < end) {
        const char *k;
        size_t kl;
        const uint8_t *v = p + doc_key_decode(p, &k, &kl);
        if (kl == klen && memcmp(k, key, klen) == 0) {
            if (entry_off) *entry_off = (uint32_t)(p - b);
            if (val_off) *val_off = (uint32_t)(v - b);
            return (uint32_t)(v - b);
        }
        p = v + node_value_size(v);
    }
    return UINT32_MAX;
}

/* Offset of element i (< count) of an array without an index. */
static inline uint32_t node_array_scan(const doc_node *arr, uint32_t i) {
    const uint8_t *b = node_cbytes(arr);
    uint32_t off = 0;
    for (uint32_t k = 0; k < i; k++) off += (uint32_t)node_value_size(b + off);
    return off;
}

/* Varint (LEB128, unsigned). A 32-bit length takes at most 5 bytes. */
#define DOC_VARINT_MAX 10
size_t doc_varint_put(uint8_t *out, uint64_t v);
/* Reads a varint; returns bytes consumed. Trusted input. */
size_t doc_varint_get(const uint8_t *p, uint64_t *v);

/* Encoders: write the value into out (large enough: 1 + 8 for numbers,
 * 1 + DOC_VARINT_MAX for a string header); return bytes written. */
size_t doc_encode_int(uint8_t *out, int64_t v);
size_t doc_encode_double(uint8_t *out, double v);
size_t doc_encode_string_header(uint8_t *out, size_t len);

/* Reads an object entry's key at p; returns the offset of the value from p
 * (declared above the scans). */

/* Allocates a node of `kind` holding a copy of bytes[0..len) with `count`
 * entries (adopting the child nodes those bytes point to), indexed when
 * large. Objects: *dup is set to the offset of a duplicate key (or UINT32_MAX)
 * when dup != NULL. NULL on OOM. */
doc_node *doc_node_make(int kind, const uint8_t *bytes, uint32_t len, uint32_t count, uint32_t *dup);

/* doc_node_make for a builder that knows whether the bytes hold child nodes
 * (parent: 0 or NODE_PARENT, which spares the scan for them), or-ed with
 * NODE_PLAIN when it knows no string needs an escape. */
doc_node *doc_node_make_known(int kind, const uint8_t *bytes, uint32_t len, uint32_t count, uint32_t *dup,
                              int parent);

/* Bytes of a node without an index holding len packed bytes. */
static inline size_t node_small_size(uint32_t len) { return sizeof(doc_node) + len; }

/* The node doc_node_make_known makes of bytes[0..len) when it needs no
 * index (a box, or fewer than DOC_INDEX_MIN entries), flags being its
 * NODE_PARENT and NODE_PLAIN, but without counting its memory: the caller
 * adds node_small_size(len) to doc_mem_count itself, before the node can be
 * freed (the RDB loader does it once per tree). NULL on OOM. */
static inline doc_node *node_make_small_uncounted(int kind, const uint8_t *bytes, uint32_t len,
                                                  uint32_t count, unsigned flags) {
    doc_node *n = doc_malloc(node_small_size(len));
    if (!n) return NULL;
    n->len = n->cap = len;
    n->count = count;
    n->kind = (uint8_t)kind;
    n->indexed = 0;
    n->flags = (uint16_t)flags;
    memcpy(n + 1, bytes, len);
    return n;
}

/* Replaces bytes [off, off+oldlen) of *np with nb[0..newlen) and adjusts
 * count by count_delta (entry_index is the position of the first entry
 * added or removed, or of the entry changed). Keeps the index right: a
 * splice of all the bytes of an indexed array (a rewrite of every element,
 * doc_edit_rewrite or doc_stage_flush, or its undo; the count may change)
 * refills the index from the new bytes and drops the value hash; any other
 * is the edit of one entry or of one run of entries. May move the node
 * (*np updated). Does not free child nodes the old bytes pointed to. Returns
 * DOC_OK, or DOC_NOMEM / DOC_TOOBIG with *np untouched. */
doc_status doc_node_splice(doc_node **np, uint32_t off, uint32_t oldlen, const uint8_t *nb, uint32_t newlen,
                           int count_delta, uint32_t entry_index);

/* Frees every child node referenced by the values in a packed byte range of
 * a node of `kind` (object ranges start at a key). */
void doc_bytes_free_children(const uint8_t *p, uint32_t len, int kind);
/* Hands each child node a packed range references to reap (top level only). */
void doc_bytes_reap_children(const uint8_t *p, uint32_t len, int kind, doc_reap_fn reap, void *arg);

/* Adds delta to memory_bytes (doc_memory_in_use): every allocation that
 * belongs to a tree is counted where it is made and freed. */
void doc_mem_count(long long delta);

/* The value hash (find.c): bytes it was allocated with; free (counted);
 * upkeep around a splice of array arr (vh_before while the old bytes are
 * still there, vh_after once the bytes and the index are updated; the
 * arguments are doc_node_splice's). */
size_t doc_vhash_bytes(const doc_vhash *h);
void doc_vhash_free(doc_vhash *h);
void doc_vhash_before(doc_node *arr, int count_delta, uint32_t entry_index);
void doc_vhash_after(doc_node *arr, int count_delta, uint32_t entry_index);

/* Frees a box's shell only (its value's children have moved elsewhere). */
void doc_box_free_shell(doc_node *box);

#endif
