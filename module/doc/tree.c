/*
 * tree.c - a whole tree as one position-independent byte string, and back:
 * the binary RDB encoding (encver 2, see module/type.c and README "Design").
 *
 * A node's packed bytes are already position-independent except for its
 * child containers, which are 8-byte pointers. The serialized form keeps
 * every node's bytes as they are, with each pointer slot zeroed, and writes
 * the nodes one after another in depth-first pre-order (a node, then the
 * subtree of each child slot in slot order):
 *
 *     tree   := record(box)
 *     record := varint count, varint len, bytes[len], record(child)...
 *
 * count and len are the node's entry count and packed length (LEB128, as in
 * the nodes, minimal). The box's count is 1. A child's kind is its slot's
 * tag. Loading is a memcpy per node plus one validating walk over its bytes,
 * with no parsing of text: about 0.4x the instructions of doc_parse on the
 * bench documents (README "Binary persistence" has the profile). The walk is
 * the fast check (tight loops, SSE2, key memos; it may read a little past a
 * node and names no fault) and, on a node it does not prove valid, the
 * precise check, which decides and names the fault (see "The fast check").
 *
 * The bytes come from an RDB file or a RESTORE payload, so doc_tree_load
 * trusts nothing: every varint is bounded and minimal, every length and
 * count is checked against what holds it, every tag is known, integers use
 * the smallest encoding (as doc_encode_int makes them), doubles are finite,
 * keys and strings are UTF-8 (RFC 3629), an object has no duplicate key,
 * pointer slots are zero, nesting stays within max_depth, and the input has
 * no byte left over. A node is made only from bytes that passed; indexes
 * are built by doc_node_make as for parsed nodes (the value hash of large
 * arrays stays lazy), and NODE_PLAIN is set when no key or string of the
 * node needs an escape (seen in the bytes; the parser also clears it for a
 * needless escape), so a loaded tree is the tree doc_parse makes of the same
 * JSON, byte for byte and allocation for allocation.
 *
 * Both directions are iterative (explicit stacks, no recursion on depth).
 * Integers and the pointer slots are stored as the host holds them: the
 * format is defined as little-endian with 8-byte slots, and this file
 * refuses to build on other hosts (big-endian or 32-bit).
 */
#include "node.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ /* gcc and clang define it */
#error "tree.c: the serialized tree is little-endian; this host is not"
#endif

/* Bytes of a child pointer slot after its tag. */
#define SLOT_BYTES 8
_Static_assert(sizeof(doc_node *) == SLOT_BYTES, "a child slot holds one 8-byte pointer");

/* ------------------------------------------------------------------ */
/* Serializing                                                        */
/* ------------------------------------------------------------------ */

/* A node being written: the offset of the next entry to look at for a
 * child slot. */
typedef struct save_frame {
    const doc_node *node; /* the node whose children are being written */
    uint32_t off;         /* next entry to scan in its bytes */
} save_frame;

/* Offset just past the entry at off (key included for objects) and the
 * offset of its value. Trusted bytes. */
static uint32_t entry_skip(const uint8_t *b, uint32_t off, int kind, uint32_t *val) {
    if (kind == DOC_KIND_OBJECT) {
        const char *k;
        size_t kl;
        off += (uint32_t)doc_key_decode(b + off, &k, &kl);
    }
    *val = off;
    return off + (uint32_t)doc_value_size(b + off);
}

/* Appends the record of n (its children's records follow separately). */
static void save_record(const doc_node *n, doc_buf *out) {
    uint32_t len = doc_node_len(n);
    if (doc_buf_reserve(out, 2 * DOC_VARINT_MAX + (size_t)len) < 0) return;
    uint8_t *w = (uint8_t *)out->data + out->len;
    w += doc_varint_put(w, doc_node_count(n));
    w += doc_varint_put(w, len);
    const uint8_t *b = node_cbytes(n);
    memcpy(w, b, len);
    if (n->flags & NODE_PARENT) {
        uint32_t off = 0, val;
        while (off < len) {
            off = entry_skip(b, off, n->kind, &val);
            if (b[val] == DOC_TAG_OBJECT || b[val] == DOC_TAG_ARRAY) memset(w + val + 1, 0, SLOT_BYTES);
        }
    }
    out->len = (size_t)(w + len - (uint8_t *)out->data);
}

doc_status doc_tree_serialize(const doc_node *box, doc_buf *out) {
    save_frame local[64], *st = local;
    size_t depth = 0, cap = sizeof local / sizeof *local;
    save_record(box, out);
    if (box->flags & NODE_PARENT) st[depth++] = (save_frame){box, 0};
    while (depth && !out->oom) {
        save_frame *f = &st[depth - 1];
        const doc_node *n = f->node;
        const uint8_t *b = node_cbytes(n);
        const doc_node *child = NULL;
        while (f->off < n->len && !child) {
            uint32_t val;
            f->off = entry_skip(b, f->off, n->kind, &val);
            if (b[val] == DOC_TAG_OBJECT || b[val] == DOC_TAG_ARRAY) child = value_child(b + val);
        }
        if (!child) {
            depth--;
            continue;
        }
        save_record(child, out);
        if (!(child->flags & NODE_PARENT)) continue;
        if (depth == cap) {
            save_frame *m =
                st == local ? doc_malloc(2 * cap * sizeof *m) : doc_realloc(st, 2 * cap * sizeof *m);
            if (!m) {
                out->oom = 1;
                break;
            }
            if (st == local) memcpy(m, local, sizeof local);
            st = m;
            cap *= 2;
        }
        st[depth++] = (save_frame){child, 0};
    }
    if (st != local) doc_free(st);
    return out->oom ? DOC_NOMEM : DOC_OK;
}

/* ------------------------------------------------------------------ */
/* Loading                                                            */
/* ------------------------------------------------------------------ */

/* A child slot of a loaded node still to fill, and the nesting depth of
 * the child that goes into it. */
typedef struct pending {
    uint8_t *slot;  /* the slot's tag byte, in its node's bytes */
    uint32_t depth; /* 1 for a child of the root value */
} pending;

/* Slots check_node makes room for at most before checking a node (those of
 * a node holding more child slots are added as they come). */
#define SLOT_RESERVE_MAX 65536

/* Bytes the fast checks may read past the end of a node's bytes (they test
 * 16 bytes at a time and look at a value's bytes before knowing it ends in
 * its node; whatever they read out there only ever leads to a refusal). */
#define FAST_SLACK 64
/* A node closer than FAST_SLACK to the end of the input is copied into a
 * padded buffer of this size (and checked there) when it fits. */
#define FAST_PAD 512

#if defined(__SSE2__)
/* The shape memos of the fast object check (fast_object): the keys of the
 * last small object checked of a member count (count % MEMOS picks the
 * memo), when all of them were plain ASCII of at most 15 bytes. Objects in
 * an array mostly share their keys, and an array of records often holds a
 * few shapes interleaved (an order, its address, the address's position):
 * a key equal to the memo's key at its position is known to be UTF-8,
 * plain and distinct from the keys before it, so its checks are skipped. */
typedef struct memo_key {
    __m128i bytes; /* 16 bytes from the key's length byte on */
    uint64_t bit;  /* its bit in the duplicate filter (key_bit) */
    uint32_t mask; /* (1 << size) - 1: the bytes of `bytes` that count; bit 16
                      (never equal) in the sentinel after the last key */
    uint8_t size;  /* 1 + the key's length */
} memo_key;
typedef struct key_memo {
    memo_key key[DOC_INDEX_MIN + 1]; /* the keys, in order, and a sentinel */
    uint32_t n;                      /* keys held (the count of their object), UINT32_MAX: none */
} key_memo;
#define MEMOS 4 /* a power of two */
#endif

typedef struct loader {
    const uint8_t *buf; /* the input */
    const uint8_t *end; /* its end */
    uint32_t *slots;    /* child slot offsets of the open nodes, in order */
    size_t nslots;      /* in use */
    size_t slotcap;     /* allocated */
    doc_error *err;     /* first failure */
    int nomem;          /* the slot list could not grow (err says so) */
    long long mem;      /* bytes of the nodes made and not yet counted (doc_mem_count) */
#if defined(__SSE2__)
    key_memo memo[MEMOS]; /* see key_memo */
#endif
} loader;

static int load_fail(loader *ld, const uint8_t *at, const char *msg) {
    doc_error_at(ld->err, DOC_BADJSON, (size_t)(at - ld->buf), "bad serialized tree: %s", msg);
    return -1;
}

/* A length (LEB128, minimal, at most DOC_NODE_MAX_BYTES) at p, not past e.
 * Returns the byte after it, or NULL. */
static const uint8_t *get_len_slow(const uint8_t *p, const uint8_t *e, uint32_t *out) {
    uint64_t v = 0;
    for (unsigned i = 0; i < 5; i++) {
        if (p + i >= e) return NULL;
        uint8_t c = p[i];
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            if ((i && c == 0) || v > DOC_NODE_MAX_BYTES) return NULL; /* not minimal, too big */
            *out = (uint32_t)v;
            return p + i + 1;
        }
    }
    return NULL;
}

static inline const uint8_t *get_len(const uint8_t *p, const uint8_t *e, uint32_t *out) {
    if (__builtin_expect(p < e && *p < 0x80, 1)) {
        *out = *p;
        return p + 1;
    }
    return get_len_slow(p, e, out);
}

/* The high bit of the lowest byte of x that is '"', '\\', below 0x20 or
 * above 0x7F is set (a borrow may flag higher bytes too, never a lower one). */
static inline uint64_t special8(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull;
    return ((x - ones * 0x20) | ((x ^ ones * '"') - ones) | ((x ^ ones * '\\') - ones) | x) & (ones * 0x80);
}

/* Length of the well-formed UTF-8 sequence at s[0..n) (s[0] >= 0x80), or 0. */
static size_t utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c0 = s[0];
    if (c0 >= 0xC2 && c0 <= 0xDF) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c0 >= 0xE0 && c0 <= 0xEF) {
        if (n < 3 || (s[2] & 0xC0) != 0x80) return 0;
        uint8_t lo = c0 == 0xE0 ? 0xA0 : 0x80, hi = c0 == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c0 >= 0xF0 && c0 <= 0xF4) {
        if (n < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        uint8_t lo = c0 == 0xF0 ? 0x90 : 0x80, hi = c0 == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

/* The string s[0..n) byte by byte from its first special byte on: 1 when
 * it is UTF-8 (clears NODE_PLAIN in *flags when a byte needs an escape). */
static __attribute__((noinline)) int str_slow(const uint8_t *s, size_t n, unsigned *flags) {
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            uint64_t m = special8(x);
            if (!m) {
                i += 8;
                continue;
            }
            i += (size_t)__builtin_ctzll(m) >> 3;
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == '"' || c == '\\') *flags &= ~(unsigned)NODE_PLAIN;
            i++;
            continue;
        }
        size_t k = utf8_seq(s + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

/* lowmask[n]: the low n bytes of a word (n <= 8). */
static const uint64_t lowmask[9] = {
    0, 0xff, 0xffff, 0xffffff, 0xffffffffull, 0xffffffffffull, 0xffffffffffffull, 0xffffffffffffffull, ~0ull,
};

/* 1 when s[0..n) (inside the input, which ends at e) is UTF-8; see str_slow. */
static inline int str_ok(const uint8_t *s, size_t n, const uint8_t *e, unsigned *flags) {
    if (n <= 8 && e - s >= 8) {
        /* One word covers it (bytes past the string are masked off; they are
         * input bytes, so the read stays in bounds). */
        uint64_t x;
        memcpy(&x, s, 8);
        if (!(special8(x) & lowmask[n])) return 1;
    }
    return str_slow(s, n, flags);
}

/* Bit of the duplicate-key filter for a key (as the parser's). */
static inline uint64_t key_bit(const uint8_t *s, size_t len) {
    unsigned h = (unsigned)len * 31u;
    if (len) h += s[0] * 7u + s[len - 1];
    return 1ull << (h & 63);
}

/* 1 when the (validated) object entries b[0..stop) hold the key s[0..len). */
static int has_key(const uint8_t *b, const uint8_t *stop, const uint8_t *s, size_t len) {
    while (b < stop) {
        const char *k;
        size_t kl;
        b += doc_key_decode(b, &k, &kl);
        if (kl == len && memcmp(k, s, len) == 0) return 1;
        b += doc_value_size(b);
    }
    return 0;
}

/* Grows the slot list to hold at least `need` slots (twice what it held,
 * at least). */
static __attribute__((noinline)) int grow_slots(loader *ld, size_t need) {
    size_t cap = ld->slotcap ? 2 * ld->slotcap : 64;
    if (cap < need) cap = need;
    uint32_t *m = doc_realloc(ld->slots, cap * sizeof *m);
    if (!m) {
        doc_error_set(ld->err, DOC_NOMEM, "out of memory");
        ld->nomem = 1;
        return -1;
    }
    ld->slots = m;
    ld->slotcap = cap;
    return 0;
}

static inline int push_slot(loader *ld, uint32_t off) {
    if (__builtin_expect(ld->nslots == ld->slotcap, 0) && grow_slots(ld, 0) < 0) return -1;
    ld->slots[ld->nslots++] = off;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The precise check                                                  */
/* ------------------------------------------------------------------ */

/* The precise check reads nothing past a node's bytes and names the first
 * fault; it runs on a node the fast check (below) did not prove valid,
 * whether the node is bad (then it says why) or merely one the fast check
 * does not take (near the end of the input). */

/* Validates the value at p (inside a node whose bytes are b[0..e)); returns
 * the byte after it, or NULL with the error set. A child slot is appended to
 * ld->slots and sets NODE_PARENT in *flags. */
static inline __attribute__((always_inline)) const uint8_t *
check_value(loader *ld, const uint8_t *p, const uint8_t *b, const uint8_t *e, unsigned *flags) {
    uint8_t tag = *p;
    if (__builtin_expect(tag >= DOC_TAG_SMALLINT || tag <= DOC_TAG_TRUE, 1)) return p + 1;
    switch (tag) {
    case DOC_TAG_I8: {
        int8_t v;
        if (e - p < 2) break;
        memcpy(&v, p + 1, 1);
        if (v >= 0) return load_fail(ld, p, "integer not in its smallest encoding"), NULL;
        return p + 2;
    }
    case DOC_TAG_I16: {
        int16_t v;
        if (e - p < 3) break;
        memcpy(&v, p + 1, 2);
        if (v >= INT8_MIN && v <= INT8_MAX)
            return load_fail(ld, p, "integer not in its smallest encoding"), NULL;
        return p + 3;
    }
    case DOC_TAG_I32: {
        int32_t v;
        if (e - p < 5) break;
        memcpy(&v, p + 1, 4);
        if (v >= INT16_MIN && v <= INT16_MAX)
            return load_fail(ld, p, "integer not in its smallest encoding"), NULL;
        return p + 5;
    }
    case DOC_TAG_I64: {
        int64_t v;
        if (e - p < 9) break;
        memcpy(&v, p + 1, 8);
        if (v >= INT32_MIN && v <= INT32_MAX)
            return load_fail(ld, p, "integer not in its smallest encoding"), NULL;
        return p + 9;
    }
    case DOC_TAG_DOUBLE: {
        uint64_t bits;
        if (e - p < 9) break;
        memcpy(&bits, p + 1, 8);
        if ((bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull)
            return load_fail(ld, p, "number is not finite"), NULL;
        return p + 9;
    }
    case DOC_TAG_STRING: {
        uint32_t sl;
        const uint8_t *s = get_len(p + 1, e, &sl);
        if (!s || sl > (size_t)(e - s)) return load_fail(ld, p, "string length past its node"), NULL;
        if (!str_ok(s, sl, ld->end, flags)) return load_fail(ld, s, "string is not UTF-8"), NULL;
        return s + sl;
    }
    case DOC_TAG_OBJECT:
    case DOC_TAG_ARRAY: {
        uint64_t ptr;
        if (e - p < 9) break;
        memcpy(&ptr, p + 1, 8);
        if (ptr) return load_fail(ld, p, "child slot not zero"), NULL;
        if (push_slot(ld, (uint32_t)(p - b)) < 0) return NULL;
        *flags |= NODE_PARENT;
        return p + 9;
    }
    default: return load_fail(ld, p, "unknown value tag"), NULL;
    }
    return load_fail(ld, p, "value past its node"), NULL;
}

/* Validates the bytes b[0..len) of an object said to hold `count` members
 * (duplicate keys of a large object are found by its index, in load_record). */
static int check_object(loader *ld, const uint8_t *b, uint32_t len, uint32_t count, unsigned *flags) {
    const uint8_t *p = b, *e = b + len;
    uint64_t keybits = 0;
    uint32_t n = 0;
    int small = count < DOC_INDEX_MIN;
    while (p < e) {
        if (n == count) return load_fail(ld, b, "entry count does not match the node's bytes");
        uint32_t kl;
        const uint8_t *k = get_len(p, e, &kl);
        if (!k || kl > (size_t)(e - k)) return load_fail(ld, p, "key length past its node");
        if (!str_ok(k, kl, ld->end, flags)) return load_fail(ld, k, "key is not UTF-8");
        if (small) {
            uint64_t bit = key_bit(k, kl);
            if ((keybits & bit) && has_key(b, p, k, kl)) return load_fail(ld, p, "duplicate key");
            keybits |= bit;
        }
        p = k + kl;
        if (p == e) return load_fail(ld, p, "key without a value");
        p = check_value(ld, p, b, e, flags);
        if (!p) return -1;
        n++;
    }
    if (n != count) return load_fail(ld, b, "entry count does not match the node's bytes");
    return 0;
}

/* Validates the bytes b[0..len) of an array (or a box) said to hold `count`
 * values. */
static int check_array(loader *ld, const uint8_t *b, uint32_t len, uint32_t count, unsigned *flags) {
    const uint8_t *p = b, *e = b + len;
    uint32_t n = 0;
    while (p < e) {
        if (n == count) return load_fail(ld, b, "entry count does not match the node's bytes");
        p = check_value(ld, p, b, e, flags);
        if (!p) return -1;
        n++;
    }
    if (n != count) return load_fail(ld, b, "entry count does not match the node's bytes");
    return 0;
}

/* The precise check of the packed bytes b[0..len) of a node of `kind` said
 * to hold `count` entries; appends its child slots to ld->slots and returns
 * the node flags (NODE_PARENT, NODE_PLAIN), or -1 with the error set. */
static int check_bytes(loader *ld, int kind, const uint8_t *b, uint32_t len, uint32_t count) {
    unsigned flags = NODE_PLAIN;
    int st = kind == DOC_KIND_OBJECT ? check_object(ld, b, len, count, &flags)
                                     : check_array(ld, b, len, count, &flags);
    return st < 0 ? -1 : (int)flags;
}

/* ------------------------------------------------------------------ */
/* The fast check                                                     */
/* ------------------------------------------------------------------ */

/* The same rules as the precise check, in tight loops that name no fault:
 * it answers "valid, with these flags" or "not proven" (then the precise
 * check runs and is the one that decides). It may read up to FAST_SLACK
 * bytes past a node (check_node sees to it that they are there): a value
 * is looked at before it is known to end inside its node, and a node whose
 * entries run past its end is refused at the end of the loop. Strings and
 * keys are tested 16 bytes at a time (SSE2, as parse.c does), the byte by
 * byte UTF-8 walk running only from a string's first byte that is not
 * plain ASCII. */
#if defined(__SSE2__)

/* Bit i set: s[i] is '"', '\\', below 0x20 or above 0x7F (a signed
 * comparison: bytes above 0x7F are negative). */
static inline unsigned special16(const uint8_t *s) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
        _mm_cmpgt_epi8(_mm_set1_epi8(0x20), x));
    return (unsigned)_mm_movemask_epi8(m);
}

/* s[0..n) (inside its node): -1 when it is not UTF-8, else the flags it
 * clears (NODE_PLAIN when a byte needs an escape, else 0). A result rather
 * than a flags pointer keeps the callers' flags in a register. */
static __attribute__((noinline)) int str_fast_long(const uint8_t *s, size_t n) {
    size_t i = 0;
    unsigned flags = NODE_PLAIN;
    for (; i + 16 <= n; i += 16)
        if (special16(s + i)) break;
    if (i < n && (special16(s + i) & (n - i >= 16 ? 0xffffu : (1u << (n - i)) - 1)) &&
        !str_slow(s + i, n - i, &flags))
        return -1;
    return (int)(NODE_PLAIN & ~flags);
}

/* low16[n]: the low n bits (n <= 16), the mask of an n-byte string's bits
 * in special16. */
static const uint32_t low16[17] = {0,   1,    3,    7,    15,   31,    63,    127,  255,
                                   511, 1023, 2047, 4095, 8191, 16383, 32767, 65535};

/* What the fast check does with a value, by its tag. */
enum { V_ONE, V_I8, V_I16, V_I32, V_I64, V_DOUBLE, V_STRING, V_CHILD, V_BAD };
#define V_ONE16                                                                                              \
    V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, V_ONE, \
        V_ONE
#define V_BAD16                                                                                              \
    V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, V_BAD, \
        V_BAD
static const uint8_t value_class[256] = {
    /* 0x00-0x0f: null false true I8 I16 I32 I64 double string object array, unknown */
    V_ONE,    V_ONE,   V_ONE,   V_I8,    V_I16,   V_I32,   V_I64,   V_DOUBLE,
    V_STRING, V_CHILD, V_CHILD, V_BAD,   V_BAD,   V_BAD,   V_BAD,   V_BAD,
    V_BAD16,  V_BAD16, V_BAD16, V_BAD16, V_BAD16, V_BAD16, V_BAD16,          /* 0x10-0x7f */
    V_ONE16,  V_ONE16, V_ONE16, V_ONE16, V_ONE16, V_ONE16, V_ONE16, V_ONE16, /* SMALLINT + 0..127 */
};
_Static_assert(DOC_TAG_ARRAY == 0x0A && DOC_TAG_SMALLINT == 0x80, "value_class follows the tags");

/* The value at p inside a node whose bytes are b[0..e): the byte after it,
 * or NULL when not proven valid (ld->nomem says if the slot list could not
 * grow). The value may end past e: the caller finds that out. */
static inline __attribute__((always_inline)) const uint8_t *
fast_value(loader *ld, const uint8_t *p, const uint8_t *b, const uint8_t *e, unsigned *flags) {
    switch (value_class[*p]) {
    case V_ONE: return p + 1;
    case V_I8: return (int8_t)p[1] < 0 ? p + 2 : NULL;
    case V_I16: {
        int16_t v;
        memcpy(&v, p + 1, 2);
        return (uint32_t)(v + 128) >= 256u ? p + 3 : NULL; /* int16 + 128: no overflow */
    }
    case V_I32: {
        int32_t v;
        memcpy(&v, p + 1, 4);
        return (uint32_t)v + 32768u >= 65536u ? p + 5 : NULL;
    }
    case V_I64: {
        int64_t v;
        memcpy(&v, p + 1, 8);
        return (uint64_t)v + 0x80000000ull >= 0x100000000ull ? p + 9 : NULL;
    }
    case V_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, p + 1, 8);
        return (bits & 0x7ff0000000000000ull) != 0x7ff0000000000000ull ? p + 9 : NULL;
    }
    case V_STRING: {
        uint32_t sl = p[1];
        const uint8_t *s = p + 2;
        if (sl <= 16) {
            if (!(special16(s) & low16[sl])) return s + sl;
        } else if (sl >= 0x80) {
            uint32_t ll;
            s = get_len_slow(p + 1, e, &ll);
            if (!s) return NULL;
            sl = ll;
        }
        if ((ptrdiff_t)sl > e - s) return NULL; /* signed: s may be past e */
        int clear = str_fast_long(s, sl);
        if (clear < 0) return NULL;
        *flags &= ~(unsigned)clear;
        return s + sl;
    }
    case V_CHILD: {
        uint64_t ptr;
        memcpy(&ptr, p + 1, 8);
        if (ptr || push_slot(ld, (uint32_t)(p - b)) < 0) return NULL;
        *flags |= NODE_PARENT;
        return p + 9;
    }
    case V_BAD: return NULL;
    default: __builtin_unreachable();
    }
}

/* An array's (or a box's) bytes b[0..len): flags, or -1. */
static int fast_array(loader *ld, const uint8_t *b, uint32_t len, uint32_t count) {
    const uint8_t *p = b, *e = b + len;
    unsigned flags = NODE_PLAIN;
    uint32_t n = 0;
    while (p < e) {
        p = fast_value(ld, p, b, e, &flags);
        if (!p) return -1;
        n++;
    }
    return p == e && n == count ? (int)flags : -1;
}

/* A key at p of an object whose bytes end at e, not one of the memo: its
 * length and bytes checked; *kp and *klp set. Returns 1 when the key can
 * go into the memo (plain ASCII, at most 15 bytes), 0 when not, -1 when
 * not proven valid. */
static inline __attribute__((always_inline)) int fast_key(const uint8_t *p, const uint8_t *e, unsigned *flags,
                                                          const uint8_t **kp, uint32_t *klp) {
    uint32_t kl = *p;
    const uint8_t *k = p + 1;
    if (kl >= 0x80) {
        k = get_len_slow(p, e, &kl);
        if (!k) return -1;
    }
    if (kl > (size_t)(e - k)) return -1;
    *kp = k;
    *klp = kl;
    if (kl <= 15 && !(special16(k) & low16[kl])) return 1;
    int clear = str_fast_long(k, kl);
    if (clear < 0) return -1;
    *flags &= ~(unsigned)clear;
    return 0;
}

/* An object's bytes b[0..len): flags, or -1. Small objects (fewer than
 * DOC_INDEX_MIN members) are checked for duplicate keys here (the filter
 * and scan of the precise check) and use the memo; a large one's index
 * finds its duplicates (load_record). */
static int fast_object(loader *ld, const uint8_t *b, uint32_t len, uint32_t count) {
    const uint8_t *p = b, *e = b + len;
    unsigned flags = NODE_PLAIN;
    uint32_t n = 0;
    if (count >= DOC_INDEX_MIN) {
        while (p < e) {
            const uint8_t *k;
            uint32_t kl;
            if (fast_key(p, e, &flags, &k, &kl) < 0) return -1;
            p = fast_value(ld, k + kl, b, e, &flags);
            if (!p) return -1;
            n++;
        }
        return p == e && n == count ? (int)flags : -1;
    }
    key_memo *m = &ld->memo[count & (MEMOS - 1)];
    uint64_t keybits = 0;
    if (count == m->n) {
        /* The memo's keys, one by one, while they match. */
        while (p < e && n < count) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            const memo_key *mk = &m->key[n];
            unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, mk->bytes));
            if (~eq & mk->mask) break;
            p = fast_value(ld, p + mk->size, b, e, &flags);
            if (!p) return -1;
            n++;
        }
        if (n == count) return p == e ? (int)flags : -1;
        for (uint32_t i = 0; i < n; i++) keybits |= m->key[i].bit;
    }
    /* From here on the memo takes this object's keys (n of them are there). */
    int memo_ok = 1;
    m->n = UINT32_MAX;
    while (p < e) {
        if (n == count) return -1;
        const uint8_t *k;
        uint32_t kl;
        int st = fast_key(p, e, &flags, &k, &kl);
        if (st < 0) return -1;
        uint64_t bit = key_bit(k, kl);
        if ((keybits & bit) && has_key(b, p, k, kl)) return -1;
        keybits |= bit;
        if (st) {
            memo_key *mk = &m->key[n];
            mk->bytes = _mm_loadu_si128((const __m128i *)(const void *)p);
            mk->bit = bit;
            mk->size = (uint8_t)(kl + 1);
            mk->mask = (1u << (kl + 1)) - 1;
        } else {
            memo_ok = 0;
        }
        p = fast_value(ld, k + kl, b, e, &flags);
        if (!p) return -1;
        n++;
    }
    if (p != e || n != count) return -1;
    if (memo_ok) {
        m->key[count].mask = 1u << 16; /* the sentinel */
        m->n = count;
    }
    return (int)flags;
}

/* fast_object of a small object whose count is its memo's: flags, -1 when
 * not proven valid, -2 when a key departs from the memo (then fast_object
 * checks the object). A function of its own: the common case, with few
 * registers to save. */
static int fast_memo_object(loader *ld, const uint8_t *b, uint32_t len, const key_memo *m) {
    const uint8_t *p = b, *e = b + len;
    unsigned flags = NODE_PLAIN;
    const memo_key *mk = m->key, *mend = m->key + m->n;
    while (p < e) { /* (an entry past the count meets the sentinel: -2) */
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, mk->bytes));
        if (~eq & mk->mask) return -2;
        p = fast_value(ld, p + mk->size, b, e, &flags);
        if (!p) return -1;
        mk++;
    }
    return p == e && mk == mend ? (int)flags : -1;
}

static inline int fast_bytes(loader *ld, int kind, const uint8_t *b, uint32_t len, uint32_t count) {
    if (kind != DOC_KIND_OBJECT) return fast_array(ld, b, len, count);
    if (count < DOC_INDEX_MIN && ld->memo[count & (MEMOS - 1)].n == count) {
        size_t base = ld->nslots;
        int f = fast_memo_object(ld, b, len, &ld->memo[count & (MEMOS - 1)]);
        if (f != -2) return f;
        ld->nslots = base; /* (slots of the entries before the departing key) */
    }
    return fast_object(ld, b, len, count);
}

/* fast_bytes of a node too close to the end of the input, on a padded copy
 * (len <= FAST_PAD; the slot offsets are relative, so they hold for the
 * input too). */
static __attribute__((noinline)) int fast_padded(loader *ld, int kind, const uint8_t *b, uint32_t len,
                                                 uint32_t count) {
    uint8_t pad[FAST_PAD + FAST_SLACK];
    memcpy(pad, b, len);
    memset(pad + len, 0, FAST_SLACK);
    return fast_bytes(ld, kind, pad, len, count);
}
#endif

/* Validates the packed bytes b[0..len) of a node of `kind` said to hold
 * `count` entries (b + len inside the input); appends its child slots to
 * ld->slots and returns the node flags (NODE_PARENT, NODE_PLAIN), or -1
 * with the error set. The fast check first; the precise one when it did not
 * prove the node valid. */
static inline __attribute__((always_inline)) int check_node(loader *ld, int kind, const uint8_t *b,
                                                            uint32_t len, uint32_t count) {
    size_t base = ld->nslots;
    if (__builtin_expect(len >= 1024, 0)) {
        /* A child slot takes 9 bytes: room for all of a large node's in one
         * growth, up to a bound (a large node of scalars would not use it). */
        size_t most = len / 9 < SLOT_RESERVE_MAX ? len / 9 : SLOT_RESERVE_MAX;
        if (ld->slotcap - base < most && grow_slots(ld, base + most) < 0) return -1;
    }
#if defined(__SSE2__)
    int f = -1;
    if (__builtin_expect((size_t)(ld->end - b) - len >= FAST_SLACK, 1))
        f = fast_bytes(ld, kind, b, len, count);
    else if (len <= FAST_PAD)
        f = fast_padded(ld, kind, b, len, count);
    if (f >= 0) {
#if defined(DOC_TREE_CROSSCHECK)
        /* The fuzz build: the precise check must agree (flags and slots;
         * its slots go after the fast check's, then are dropped). */
        size_t fast_end = ld->nslots, ns = fast_end - base;
        int p = check_bytes(ld, kind, b, len, count);
        if (ld->nomem) return -1;
        if (p != f || ld->nslots != fast_end + ns ||
            (ns && memcmp(ld->slots + base, ld->slots + fast_end, ns * sizeof *ld->slots)))
            __builtin_trap();
        ld->nslots = fast_end;
#endif
        return f;
    }
    if (ld->nomem) return -1;
    ld->nslots = base;
    for (int i = 0; i < MEMOS; i++) ld->memo[i].n = UINT32_MAX; /* it may hold a part of this node */
#if defined(DOC_TREE_CROSSCHECK)
    {
        int p = check_bytes(ld, kind, b, len, count);
        if (ld->nomem) return -1;
        /* The fast check refuses only what the precise check refuses, except
         * near the end of the input, where it may not have run. */
        if (p >= 0 && (size_t)(ld->end - b) - len >= FAST_SLACK) __builtin_trap();
        return p;
    }
#endif
#endif
    ld->nslots = base;
    return check_bytes(ld, kind, b, len, count);
}

/* Turns the unfilled child slots slots[from..to) of n into the integer 0
 * (an I64 tag over the zeroed slot), so freeing n never follows them. */
static void slots_defuse(loader *ld, doc_node *n, size_t from, size_t to) {
    uint8_t *b = node_bytes(n);
    for (size_t i = from; i < to; i++) b[ld->slots[i]] = DOC_TAG_I64;
}

/* load_record for a large container (DOC_INDEX_MIN entries or more): made
 * with its index, which finds an object's duplicate keys. */
static __attribute__((noinline)) doc_node *load_large(loader *ld, int kind, const uint8_t *p, uint32_t len,
                                                      uint32_t count) {
    int flags = check_node(ld, kind, p, len, count);
    if (flags < 0) return NULL;
    uint32_t dup = UINT32_MAX;
    doc_node *n = doc_node_make_known(kind, p, len, count, kind == DOC_KIND_OBJECT ? &dup : NULL, flags);
    if (!n) {
        doc_error_set(ld->err, DOC_NOMEM, "out of memory");
        ld->nslots = 0;
        return NULL;
    }
    if (dup != UINT32_MAX) {
        slots_defuse(ld, n, 0, ld->nslots);
        ld->nslots = 0;
        doc_node_free(n);
        load_fail(ld, p + dup, "duplicate key");
        return NULL;
    }
    return n;
}

/* Reads, validates and makes the node of `kind` whose record is at *pp
 * (ld->slots empty); leaves its child slots (zero, to fill) in ld->slots.
 * NULL on failure (nothing made is left behind). */
static inline __attribute__((always_inline)) doc_node *load_record(loader *ld, int kind, const uint8_t **pp) {
    const uint8_t *rec = *pp, *p = rec;
    uint32_t count, len;
    if (__builtin_expect(ld->end - p >= 2 && !((p[0] | p[1]) & 0x80), 1)) {
        count = p[0]; /* the common header: two one-byte varints */
        len = p[1];
        p += 2;
    } else {
        p = get_len(p, ld->end, &count);
        if (p) p = get_len(p, ld->end, &len);
        if (!p) {
            load_fail(ld, rec, "bad node header");
            return NULL;
        }
    }
    if (len > (size_t)(ld->end - p)) {
        load_fail(ld, rec, "node length past the end");
        return NULL;
    }
    if (kind == DOC_KIND_BOX && count != 1) {
        load_fail(ld, rec, "the root must hold one value");
        return NULL;
    }
    doc_node *n;
    if (__builtin_expect(kind != DOC_KIND_BOX && count >= DOC_INDEX_MIN, 0)) {
        n = load_large(ld, kind, p, len, count);
        if (!n) return NULL;
    } else {
        int flags = check_node(ld, kind, p, len, count);
        if (flags < 0) return NULL;
        n = node_make_small_uncounted(kind, p, len, count, (unsigned)flags);
        if (!n) {
            doc_error_set(ld->err, DOC_NOMEM, "out of memory");
            ld->nslots = 0;
            return NULL;
        }
        ld->mem += (long long)node_small_size(len);
    }
    *pp = p + len;
    return n;
}

/* Pushes the child slots ld->slots[0..nslots) of n (made with depth d)
 * onto the pending stack, last first (so the first is filled next: the
 * records come in pre-order), and empties the slot list. -1 on OOM (n's
 * slots then defused). */
static int push_pending(loader *ld, pending **pend, size_t *top, size_t *cap, pending *local, doc_node *n,
                        uint32_t d) {
    size_t k = ld->nslots;
    if (*cap - *top < k) {
        size_t c = 2 * *cap > *top + k ? 2 * *cap : *top + k;
        pending *m = *pend == local ? doc_malloc(c * sizeof *m) : doc_realloc(*pend, c * sizeof *m);
        if (!m) {
            doc_error_set(ld->err, DOC_NOMEM, "out of memory");
            slots_defuse(ld, n, 0, k); /* n's slots stay off the stack */
            return -1;
        }
        if (*pend == local) memcpy(m, local, *top * sizeof *m);
        *pend = m;
        *cap = c;
    }
    uint8_t *bytes = node_bytes(n);
    pending *w = *pend + *top + k;
    for (size_t i = 0; i < k; i++) *--w = (pending){bytes + ld->slots[i], d};
    *top += k;
    ld->nslots = 0;
    return 0;
}

doc_node *doc_tree_load(const uint8_t *data, size_t len, uint32_t max_depth, doc_error *err) {
    loader ld;
    ld.buf = data;
    ld.end = data + len;
    ld.slots = NULL;
    ld.nslots = ld.slotcap = 0;
    ld.err = err;
    ld.nomem = 0;
    ld.mem = 0;
#if defined(__SSE2__)
    for (int i = 0; i < MEMOS; i++) ld.memo[i].n = UINT32_MAX;
#endif
    const uint8_t *p = data;
    if (max_depth > DOC_DEPTH_LIMIT) max_depth = DOC_DEPTH_LIMIT;
    doc_node *box = load_record(&ld, DOC_KIND_BOX, &p);
    if (!box) {
        doc_mem_count(ld.mem);
        doc_free(ld.slots);
        return NULL;
    }
    /* The slots still to fill, the next one on top. Every slot on the stack
     * is zero; on failure each is made an integer before the tree is freed. */
    pending local[64], *pend = local;
    size_t top = 0, cap = sizeof local / sizeof *local;
    int failed = push_pending(&ld, &pend, &top, &cap, local, box, 1) < 0;
    while (top && !failed) {
        pending e = pend[top - 1];
        if (e.depth > max_depth) {
            doc_error_at(err, DOC_TOODEEP, (size_t)(p - data), "nesting deeper than max-depth %u", max_depth);
            failed = 1;
            break;
        }
        doc_node *c = load_record(&ld, *e.slot == DOC_TAG_OBJECT ? DOC_KIND_OBJECT : DOC_KIND_ARRAY, &p);
        if (!c) {
            failed = 1;
            break;
        }
        value_set_child(e.slot, c);
        top--;
        if (ld.nslots && push_pending(&ld, &pend, &top, &cap, local, c, e.depth + 1) < 0) failed = 1;
    }
    if (!failed && p != ld.end) {
        load_fail(&ld, p, "bytes after the tree");
        failed = 1;
    }
    doc_mem_count(ld.mem); /* before anything is freed */
    if (failed) {
        while (top) *pend[--top].slot = DOC_TAG_I64; /* (over the zeroed pointer) */
        doc_node_free(box);
        box = NULL;
    }
    if (pend != local) doc_free(pend);
    doc_free(ld.slots);
    return box;
}
