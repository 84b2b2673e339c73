/*
 * find.c - finding the elements of an array that deep-equal a value, and the
 * value hash that makes it O(1) in large arrays.
 *
 * An array of DOC_FIND_HASH_MIN elements or more that is searched for a
 * scalar (DOC.ADDTOSET, DOC.INDEXOF, DOC.PULL by value) gets a hash of its
 * scalar elements, built on that first search and kept with the node's index
 * (doc_index.vh) until the index goes: counted like the node (memory_bytes,
 * MEMORY USAGE), freed with it. Open addressing with linear probing over
 * about 1.5 slots per element. One slot per distinct value: it holds the
 * index of the value's first element (>= 0), VH_DEAD (a value gone) or an
 * empty mark (any other negative value), with a byte of the value's hash
 * (probes compare values only when it matches) and a byte counting the
 * value's elements: an upper bound, exact from 1 to 254, 255 when no longer
 * known. Equal elements share their slot, so a value repeated 100,000 times
 * is one slot, not a probe chain of 100,000 (which made every search through
 * that part of the table walk it, and building the hash quadratic).
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
 * Costs: a search is O(chain) with chains short at a load of at most 3/4
 * (a search from a later index than the first element scans from there:
 * DOC.PULL's walk over the equal elements is one pass); replacing one
 * element O(1); inserting k elements O(k), plus one pass over the slots when
 * not at the end; removing a run one pass over the slots unless at the end
 * (a run of up to VH_FORGET_MAX elements is forgotten through its own hashes
 * first, so that pass only renumbers: one compare, one and, one subtract per
 * four slots). Removing the first of several equal elements scans for the
 * next one (at most the array's length per edit, else the hash is dropped).
 * A longer run removed before the end drops the hash (the next search builds
 * it again, O(n) as the removal is). That pass is of the same order as the
 * byte move and index shift the edit pays anyway. Renumbering cannot be
 * deferred for less: every later element's number changes, and a pending
 * shift must be applied to each slot eventually (a lazy list of shifts was
 * tried: flushing it cost as much as the passes it replaced).
 */
#include "node.h"

#include <stdlib.h>

typedef int32_t i32x4 __attribute__((vector_size(16))); /* gcc and clang */

/* A value gone: keeps probe chains through its slot intact. */
#define VH_DEAD (-1)
/* Fresh slots are memset to this byte: a negative other than VH_DEAD. */
#define VH_EMPTY_BYTE 0x80
#define VH_EMPTY(v) ((v) < VH_DEAD)
/* Element indexes must fit a slot; longer arrays scan. */
#define VH_MAX_COUNT (1u << 30)
/* A count byte that no longer knows (255 elements or more once). */
#define VH_MANY 255
/* No such slot. */
#define VH_NONE UINT32_MAX

/* nslots int32 slots, then nslots hash bytes, then nslots count bytes. */
struct doc_vhash {
    uint32_t nslots; /* slots, a multiple of 4 */
    uint32_t live;   /* slots holding a value */
    uint32_t dead;   /* VH_DEAD slots */
    int32_t slot[];  /* first element's index, VH_DEAD, or empty (VH_EMPTY) */
};

static size_t vh_size(uint32_t slots) { return sizeof(doc_vhash) + (size_t)slots * (sizeof(int32_t) + 2); }
static uint8_t *vh_tag(doc_vhash *h) { return (uint8_t *)(h->slot + h->nslots); }
static uint8_t *vh_count(doc_vhash *h) { return (uint8_t *)(h->slot + h->nslots) + h->nslots; }

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

/* Smallest index >= from of an element equal to val, by scanning; at most
 * *budget elements looked at when budget is given (-2 when it runs out). */
static int64_t scan_some(const doc_node *arr, const uint8_t *val, uint32_t from, uint64_t *budget) {
    if (from >= arr->count) return -1;
    doc_iter it;
    const uint8_t *el;
    doc_iter_init(&it, arr);
    if (from) doc_array_get(arr, from, &it.off);
    uint64_t left = budget ? *budget : UINT64_MAX;
    int64_t found = -1;
    for (uint32_t i = from; doc_iter_next(&it, NULL, NULL, &el, NULL); i++) {
        if (left-- == 0) {
            found = -2;
            break;
        }
        if (doc_value_equal(el, val)) {
            found = i;
            break;
        }
    }
    if (budget) *budget = left;
    return found;
}

static int64_t scan(const doc_node *arr, const uint8_t *val, uint32_t from) {
    return scan_some(arr, val, from, NULL);
}

/* The slot of the value val (hash hv) when it is in h, else VH_NONE with
 * *room (when given) the slot a new value goes to: the first dead one on the
 * chain, or the empty one ending it. */
static uint32_t lookup(doc_vhash *h, const doc_node *arr, uint64_t hv, const uint8_t *val, uint32_t *room) {
    const uint8_t *tag = vh_tag(h), t = (uint8_t)hv;
    uint32_t at = home(h, hv), free_at = VH_NONE;
    for (;; at = next(h, at)) {
        int32_t v = h->slot[at];
        if (VH_EMPTY(v)) break;
        if (v == VH_DEAD) {
            if (free_at == VH_NONE) free_at = at;
        } else if (tag[at] == t && doc_value_equal(element(arr, (uint32_t)v), val)) {
            return at;
        }
    }
    if (room) *room = free_at == VH_NONE ? at : free_at;
    return VH_NONE;
}

/* Counts element i (in the node, numbered as the slots are) in h, which has
 * room for one more value. */
static void put(doc_vhash *h, const doc_node *arr, uint32_t i) {
    int ok;
    const uint8_t *el = element(arr, i);
    uint64_t hv = value_hash(el, &ok);
    if (!ok) return;
    uint32_t room, at = lookup(h, arr, hv, el, &room);
    uint8_t *count = vh_count(h);
    if (at != VH_NONE) { /* an equal value is there: one more of it */
        if ((uint32_t)h->slot[at] > i) h->slot[at] = (int32_t)i;
        if (count[at] != VH_MANY) count[at]++;
        return;
    }
    if (h->slot[room] == VH_DEAD) h->dead--;
    h->slot[room] = (int32_t)i;
    vh_tag(h)[room] = (uint8_t)hv;
    count[room] = 1;
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

/* Runs of at most this many removed elements are forgotten through their
 * own hashes before they go (O(run x chain)), so the pass after the removal
 * only renumbers; longer runs drop the hash unless they end the array. */
#define VH_FORGET_MAX 64

/* Element i is about to go (removed with the run before `after`, or
 * replaced: after = i + 1) while its bytes are there to hash: one fewer of
 * its value; when it was the value's first element, the next one at or past
 * `after` takes the slot (found by a scan charged to *budget). 0 when that
 * cannot be done (not found, never expected, or the budget spent): the
 * caller drops the hash. */
static int forget(doc_vhash *h, const doc_node *arr, uint32_t i, uint32_t after, uint64_t *budget) {
    int ok;
    const uint8_t *el = element(arr, i);
    uint64_t hv = value_hash(el, &ok);
    if (!ok) return 1; /* a container: not in the hash */
    uint32_t at = lookup(h, arr, hv, el, NULL);
    if (at == VH_NONE) return 0;
    uint8_t *count = vh_count(h);
    int64_t first = h->slot[at];
    if (first == (int64_t)i) {
        int64_t j = count[at] == 1 ? -1 : scan_some(arr, el, after, budget);
        if (j == -2) return 0;
        if (j < 0) {
            h->slot[at] = VH_DEAD;
            h->live--;
            h->dead++;
            return 1;
        }
        h->slot[at] = (int32_t)j;
    } else if (count[at] == 1) {
        return 0; /* another element holds the only one: wrong, drop it */
    }
    if (count[at] != VH_MANY) count[at]--;
    return 1;
}

void doc_vhash_before(doc_node *arr, int count_delta, uint32_t entry_index) {
    doc_vhash *h = node_index(arr)->vh;
    if (!h || count_delta > 0) return;
    uint32_t k = count_delta ? (uint32_t)-count_delta : 1;
    if (k > VH_FORGET_MAX) {
        /* A long run: at the end, doc_vhash_after's pass clears its slots
         * (every element equal to one of the run is in the run); elsewhere
         * the hash goes, built again by the next search. */
        if (entry_index + k < arr->count) drop(arr);
        return;
    }
    /* Elements about to be replaced or removed: forgotten now. */
    uint64_t budget = arr->count;
    for (uint32_t i = entry_index; i < entry_index + k; i++) {
        if (!forget(h, arr, i, entry_index + k, &budget)) {
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
        /* A short run left (its elements forgotten in doc_vhash_before):
         * later elements move down (empty and dead slots are negative, so
         * they never compare above the run); four slots at a time, no
         * branches. */
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
        /* A long run left the end of the array: the values whose first
         * element was in it are gone (VH_DEAD is all ones); the counts of
         * the others stay upper bounds. One pass. */
        int32_t lo = (int32_t)entry_index;
        i32x4 vlo = {lo - 1, lo - 1, lo - 1, lo - 1}, gone = {0, 0, 0, 0};
        for (uint32_t s = 0; s < n; s += 4) {
            i32x4 v;
            memcpy(&v, h->slot + s, sizeof v);
            i32x4 in = v > vlo;
            gone -= in;
            v |= in;
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

uint32_t doc_array_hashed_values(const doc_node *arr) {
    return arr->indexed && node_index(arr)->vh ? node_index(arr)->vh->live : 0;
}

int64_t doc_array_find(doc_node *arr, const uint8_t *val, uint32_t from) {
    int ok;
    if (arr->count < DOC_FIND_HASH_MIN || !arr->indexed) return scan(arr, val, from);
    uint64_t hv = value_hash(val, &ok);
    if (!ok) return scan(arr, val, from);
    doc_index *ix = node_index(arr);
    if (!ix->vh && !(ix->vh = build(arr, arr->count))) return scan(arr, val, from);
    doc_vhash *h = ix->vh;
    uint32_t at = lookup(h, arr, hv, val, NULL);
    if (at == VH_NONE) return -1;
    int64_t first = h->slot[at];
    if (first >= (int64_t)from) return first;
    /* Past the first: the only one, or the next by a scan from `from`. */
    return vh_count(h)[at] == 1 ? -1 : scan(arr, val, from);
}

/* ------------------------------------------------------------------ */
/* A set of values (doc_valueset)                                      */
/* ------------------------------------------------------------------ */

/* Scalars by hash in open addressing (a power of two of slots, at most
 * half full); containers, which never equal a scalar, in a list compared
 * one by one. */
typedef struct vs_slot {
    uint64_t hash;
    const uint8_t *v; /* NULL: empty */
} vs_slot;

struct doc_valueset {
    size_t mask;          /* slots - 1 */
    size_t ncont;         /* containers in cont */
    const uint8_t **cont; /* room for as many values as the set was made for */
    size_t room;          /* values it was made for */
    size_t n;             /* values in it */
    vs_slot slot[];
};

doc_valueset *doc_valueset_new(size_t n) {
    size_t slots = 16;
    while (slots < 2 * n) {
        if (slots > SIZE_MAX / 4 / sizeof(vs_slot)) return NULL;
        slots *= 2;
    }
    doc_valueset *s = doc_malloc(sizeof *s + slots * sizeof(vs_slot));
    if (!s) return NULL;
    s->cont = doc_malloc((n ? n : 1) * sizeof *s->cont);
    if (!s->cont) {
        doc_free(s);
        return NULL;
    }
    s->mask = slots - 1;
    s->ncont = s->n = 0;
    s->room = n;
    memset(s->slot, 0, slots * sizeof(vs_slot));
    return s;
}

void doc_valueset_free(doc_valueset *s) {
    if (!s) return;
    doc_free(s->cont);
    doc_free(s);
}

/* The slot holding a value equal to v (hash hv), or the empty one its
 * chain ends at. */
static vs_slot *vs_find(const doc_valueset *s, uint64_t hv, const uint8_t *v) {
    for (size_t at = (size_t)hv & s->mask;; at = (at + 1) & s->mask) {
        const vs_slot *e = &s->slot[at];
        if (!e->v || (e->hash == hv && doc_value_equal(e->v, v))) return (vs_slot *)e;
    }
}

int doc_valueset_add(doc_valueset *s, const uint8_t *v) {
    int ok;
    uint64_t hv = value_hash(v, &ok);
    if (!ok) {
        for (size_t i = 0; i < s->ncont; i++)
            if (doc_value_equal(s->cont[i], v)) return 0;
        if (s->n == s->room) return -1;
        s->cont[s->ncont++] = v;
        s->n++;
        return 1;
    }
    vs_slot *e = vs_find(s, hv, v);
    if (e->v) return 0;
    if (s->n == s->room) return -1;
    e->hash = hv;
    e->v = v;
    s->n++;
    return 1;
}

int doc_valueset_has(const doc_valueset *s, const uint8_t *v) {
    int ok;
    uint64_t hv = value_hash(v, &ok);
    if (!ok) {
        for (size_t i = 0; i < s->ncont; i++)
            if (doc_value_equal(s->cont[i], v)) return 1;
        return 0;
    }
    return vs_find(s, hv, v)->v != NULL;
}
