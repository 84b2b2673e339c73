/*
 * find.c - finding the elements of an array that deep-equal a value, and the
 * value hash that makes it O(1) in large arrays.
 *
 * An array of DOC_FIND_HASH_MIN elements or more that is searched for a
 * scalar (DOC.ADDTOSET, DOC.INDEXOF, DOC.PULL by value) gets a hash of its
 * scalar elements, built on that first search and kept with the node's index
 * (doc_index.vh) until the index goes: counted like the node (memory_bytes,
 * MEMORY USAGE), freed with it. Open addressing with linear probing over
 * about 1.5 slots per element; a slot holds an element index (>= 0),
 * VH_DEAD (a removed element) or an empty mark (any other negative value).
 * Signed slots let the passes that renumber after a removal or insertion in
 * the middle run four slots per few SIMD instructions.
 * Containers are not in it: a scalar never equals a container, so a scalar
 * probe is answered from the hash alone; a container probe scans.
 *
 * Equal values hash equal under doc_value_equal's rules: an integer and a
 * double that is integral hash as that integer (1 and 1.0; -0.0 and 0),
 * strings by their bytes. The hash is derived data: every edit of the node
 * keeps it right (doc_node_splice calls vh_before and vh_after), and when
 * memory to grow it is lacking it is dropped, never wrong, so rollback (which
 * must not fail) and the packed bytes are unaffected: undo stays byte-exact.
 *
 * Costs: a search is O(chain) with chains short at a load of at most 3/4;
 * replacing one element O(1); inserting k elements O(k), plus one pass over
 * the slots when not at the end; removing a run one pass over the slots
 * unless at the end (a run of up to VH_FORGET_MAX elements is marked dead
 * through its own hashes first, so that pass only renumbers: one compare,
 * one and, one subtract per four slots). That pass is of the same order as
 * the byte move and index shift the edit pays anyway. Renumbering cannot be
 * deferred for less: every later element's number changes, and a pending
 * shift must be applied to each slot eventually (a lazy list of shifts was
 * tried: flushing it cost as much as the passes it replaced).
 */
#include "node.h"

#include <stdlib.h>

typedef int32_t i32x4 __attribute__((vector_size(16))); /* gcc and clang */

/* A removed element's slot: keeps probe chains through it intact. */
#define VH_DEAD (-1)
/* Fresh slots are memset to this byte: a negative other than VH_DEAD. */
#define VH_EMPTY_BYTE 0x80
#define VH_EMPTY(v) ((v) < VH_DEAD)
/* Element indexes must fit a slot; longer arrays scan. */
#define VH_MAX_COUNT (1u << 30)

struct doc_vhash {
    uint32_t nslots; /* slots, a multiple of 4 */
    uint32_t live;   /* slots holding an element */
    uint32_t dead;   /* VH_DEAD slots */
    int32_t slot[];  /* element index, VH_DEAD, or empty (VH_EMPTY) */
};

static size_t vh_size(uint32_t slots) { return sizeof(doc_vhash) + (size_t)slots * sizeof(int32_t); }

size_t doc_vhash_bytes(const doc_vhash *h) { return vh_size(h->nslots); }

void doc_vhash_free(doc_vhash *h) {
    if (!h) return;
    doc_mem_count(-(long long)vh_size(h->nslots));
    doc_free(h);
}

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* Hash of a scalar value under doc_value_equal; 0 with *ok = 0 for
 * containers. */
static uint64_t value_hash(const uint8_t *v, int *ok) {
    doc_view x;
    *ok = 1;
    doc_value_decode(v, &x);
    switch (x.type) {
    case DOC_NULL: return 0x9e3779b97f4a7c15ull;
    case DOC_BOOL: return x.b ? 0x7f4a7c159e3779b9ull : 0x3c6ef372fe94f82bull;
    case DOC_INT: return mix((uint64_t)x.i);
    case DOC_DOUBLE:
        /* Integral doubles in int64 range hash as the integer they equal. */
        if (x.d >= -9223372036854775808.0 && x.d < 9223372036854775808.0 && x.d == (double)(int64_t)x.d)
            return mix((uint64_t)(int64_t)x.d);
        {
            uint64_t bits;
            memcpy(&bits, &x.d, sizeof bits);
            return mix(bits ^ 0x5bd1e995ull);
        }
    case DOC_STRING: {
        /* Eight bytes at a time, then the tail and the length. */
        uint64_t h = 0x27d4eb2f165667c5ull ^ x.slen;
        size_t i = 0;
        for (; i + 8 <= x.slen; i += 8) {
            uint64_t w;
            memcpy(&w, x.s + i, 8);
            h = (h ^ mix(w)) * 0x9e3779b97f4a7c15ull;
        }
        uint64_t t = 0;
        memcpy(&t, x.s + i, x.slen - i);
        return mix(h ^ t ^ ((uint64_t)(x.slen - i) << 59));
    }
    default: *ok = 0; return 0;
    }
}

/* First slot of a hash's chain: the high half of hv scaled to nslots. */
static uint32_t home(const doc_vhash *h, uint64_t hv) { return (uint32_t)(((hv >> 32) * h->nslots) >> 32); }

static uint32_t next(const doc_vhash *h, uint32_t at) { return at + 1 == h->nslots ? 0 : at + 1; }

static const uint8_t *element(const doc_node *arr, uint32_t i) {
    return node_cbytes(arr) + node_index(arr)->off[i];
}

/* Puts element i (already in the node) into h, which has room. */
static void put(doc_vhash *h, const doc_node *arr, uint32_t i) {
    int ok;
    uint64_t hv = value_hash(element(arr, i), &ok);
    if (!ok) return;
    uint32_t at = home(h, hv);
    while (h->slot[at] >= 0) at = next(h, at);
    if (h->slot[at] == VH_DEAD) h->dead--;
    h->slot[at] = (int32_t)i;
    h->live++;
}

/* A fresh hash of arr's scalar elements sized for `want` of them; NULL on
 * out of memory. */
static doc_vhash *build(const doc_node *arr, uint32_t want) {
    if (want >= VH_MAX_COUNT) return NULL;
    /* 1.5 slots per element: a load of 2/3, rebuilt past 3/4. */
    uint32_t slots = (want + want / 2 + 64) & ~3u;
    doc_vhash *h = doc_malloc(vh_size(slots));
    if (!h) return NULL;
    doc_mem_count((long long)vh_size(slots));
    h->nslots = slots;
    h->live = h->dead = 0;
    memset(h->slot, VH_EMPTY_BYTE, (size_t)slots * sizeof(int32_t));
    for (uint32_t i = 0; i < arr->count; i++) put(h, arr, i);
    return h;
}

static void drop(doc_node *arr) {
    doc_index *ix = node_index(arr);
    doc_vhash_free(ix->vh);
    ix->vh = NULL;
}

/* Replaces arr's hash with one built from its bytes as they are now (when
 * the load passed 3/4: bigger, tombstones gone); none when that fails. */
static void rebuild(doc_node *arr) {
    doc_index *ix = node_index(arr);
    doc_vhash_free(ix->vh);
    ix->vh = build(arr, arr->count);
}

static int crowded(const doc_vhash *h, uint32_t more) {
    return (uint64_t)(h->live + h->dead + more) * 4 > (uint64_t)h->nslots * 3;
}

/* Runs of at most this many removed elements have their slots found
 * through their own hashes before they go (O(run x chain)), so the pass
 * after the removal only renumbers; longer runs are found by that pass. */
#define VH_FORGET_MAX 64

/* Marks element i's slot dead while its bytes are there to hash; 0 when it
 * is not found (never expected: the caller drops the hash). */
static int forget(doc_vhash *h, const doc_node *arr, uint32_t i) {
    int ok;
    uint64_t hv = value_hash(element(arr, i), &ok);
    if (!ok) return 1; /* a container: not in the hash */
    for (uint32_t at = home(h, hv); !VH_EMPTY(h->slot[at]); at = next(h, at)) {
        if (h->slot[at] == (int32_t)i) {
            h->slot[at] = VH_DEAD;
            h->live--;
            h->dead++;
            return 1;
        }
    }
    return 0;
}

void doc_vhash_before(doc_node *arr, int count_delta, uint32_t entry_index) {
    doc_vhash *h = node_index(arr)->vh;
    if (!h || count_delta > 0 || count_delta < -VH_FORGET_MAX) return;
    /* Elements about to be replaced or removed: forget them now. */
    uint32_t k = count_delta ? (uint32_t)-count_delta : 1;
    for (uint32_t i = entry_index; i < entry_index + k; i++) {
        if (!forget(h, arr, i)) {
            drop(arr); /* a dropped hash is never wrong */
            return;
        }
    }
}

void doc_vhash_after(doc_node *arr, int count_delta, uint32_t entry_index) {
    doc_vhash *h = node_index(arr)->vh;
    if (!h) return;
    uint32_t n = h->nslots;
    if (count_delta < 0 && count_delta >= -VH_FORGET_MAX) {
        /* A short run left (its slots died in doc_vhash_before): later
         * elements move down (empty and dead slots are negative, so they
         * never compare above the run); four slots at a time, no branches. */
        int32_t k = -count_delta, hi = (int32_t)entry_index + k - 1;
        i32x4 vhi = {hi, hi, hi, hi}, vk = {k, k, k, k};
        if (entry_index < arr->count) {
            for (uint32_t s = 0; s < n; s += 4) {
                i32x4 v;
                memcpy(&v, h->slot + s, sizeof v);
                v -= (v > vhi) & vk;
                memcpy(h->slot + s, &v, sizeof v);
            }
        }
        if (crowded(h, 0)) rebuild(arr);
        return;
    }
    if (count_delta < 0) {
        /* A long run of k elements left: their slots die (VH_DEAD is all
         * ones), later ones move down, in one pass. */
        int32_t k = -count_delta, lo = (int32_t)entry_index, hi = lo + k - 1;
        i32x4 vlo = {lo - 1, lo - 1, lo - 1, lo - 1}, vhi = {hi, hi, hi, hi}, vk = {k, k, k, k};
        i32x4 gone = {0, 0, 0, 0};
        for (uint32_t s = 0; s < n; s += 4) {
            i32x4 v;
            memcpy(&v, h->slot + s, sizeof v);
            i32x4 after = v > vhi;
            i32x4 in = (v > vlo) & ~after;
            gone -= in;
            v = (v | in) - (after & vk);
            memcpy(h->slot + s, &v, sizeof v);
        }
        uint32_t g = (uint32_t)(gone[0] + gone[1] + gone[2] + gone[3]);
        h->live -= g;
        h->dead += g;
        if (crowded(h, 0)) rebuild(arr);
        return;
    }
    uint32_t k = count_delta > 0 ? (uint32_t)count_delta : 1;
    if (crowded(h, k) || arr->count >= VH_MAX_COUNT) {
        rebuild(arr); /* the new elements are in the bytes already */
        return;
    }
    if (count_delta > 0 && entry_index + k < arr->count) {
        /* Inserted before existing elements: those move up by k. */
        int32_t e = (int32_t)entry_index - 1, kk = (int32_t)k;
        i32x4 ve = {e, e, e, e}, vk = {kk, kk, kk, kk};
        for (uint32_t s = 0; s < n; s += 4) {
            i32x4 v;
            memcpy(&v, h->slot + s, sizeof v);
            v += (v > ve) & vk;
            memcpy(h->slot + s, &v, sizeof v);
        }
    }
    for (uint32_t i = entry_index; i < entry_index + k; i++) put(h, arr, i);
}

/* Smallest index >= from of an element equal to val, by scanning. */
static int64_t scan(const doc_node *arr, const uint8_t *val, uint32_t from) {
    if (from >= arr->count) return -1;
    doc_iter it;
    const uint8_t *el;
    doc_iter_init(&it, arr);
    if (from) doc_array_get(arr, from, &it.off);
    for (uint32_t i = from; doc_iter_next(&it, NULL, NULL, &el, NULL); i++)
        if (doc_value_equal(el, val)) return i;
    return -1;
}

int64_t doc_array_find(doc_node *arr, const uint8_t *val, uint32_t from) {
    int ok;
    if (arr->count < DOC_FIND_HASH_MIN || !arr->indexed) return scan(arr, val, from);
    uint64_t hv = value_hash(val, &ok);
    if (!ok) return scan(arr, val, from);
    doc_index *ix = node_index(arr);
    if (!ix->vh && !(ix->vh = build(arr, arr->count))) return scan(arr, val, from);
    doc_vhash *h = ix->vh;
    int64_t best = -1;
    /* Equal elements may sit anywhere along the chain: walk all of it. */
    for (uint32_t at = home(h, hv); !VH_EMPTY(h->slot[at]); at = next(h, at)) {
        int32_t v = h->slot[at];
        if (v < 0 || (uint32_t)v < from || (best >= 0 && v >= best)) continue;
        if (doc_value_equal(element(arr, (uint32_t)v), val)) best = v;
    }
    return best;
}
