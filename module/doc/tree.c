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
 * with no parsing of text: about half the instructions of doc_parse on the
 * bench documents (README "Binary persistence" has the profile).
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

/* A loaded node whose child slots are being filled: slots[next..end) of the
 * loader's slot list are the offsets (in its bytes) still to fill. */
typedef struct load_frame {
    doc_node *node; /* the node */
    size_t next;    /* its next slot in ld->slots */
    size_t end;     /* one past its last slot */
} load_frame;

typedef struct loader {
    const uint8_t *buf;                  /* the input */
    const uint8_t *end;                  /* its end */
    uint32_t *slots;                     /* child slot offsets of the open nodes, in order */
    size_t nslots;                       /* in use */
    size_t slotcap;                      /* allocated */
    doc_error *err;                      /* first failure */
    uint32_t shape_n;                    /* keys in the shape memo (check_object), UINT32_MAX: none */
    const uint8_t *shape[DOC_INDEX_MIN]; /* the memo: the keys (at their length) of
                                              the last small object validated */
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

static __attribute__((noinline)) int grow_slots(loader *ld) {
    {
        size_t cap = ld->slotcap ? 2 * ld->slotcap : 64;
        uint32_t *m = doc_realloc(ld->slots, cap * sizeof *m);
        if (!m) {
            doc_error_set(ld->err, DOC_NOMEM, "out of memory");
            return -1;
        }
        ld->slots = m;
        ld->slotcap = cap;
    }
    return 0;
}

static inline int push_slot(loader *ld, uint32_t off) {
    if (__builtin_expect(ld->nslots == ld->slotcap, 0) && grow_slots(ld) < 0) return -1;
    ld->slots[ld->nslots++] = off;
    return 0;
}

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

/* 1 when a[0..n) == b[0..n); both start inside the input, b before a, and
 * the input has 8 bytes from a on when fast (then from b too). */
static inline int bytes_eq(const uint8_t *a, const uint8_t *b, size_t n, int fast) {
    if (fast && n <= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return ((x ^ y) & lowmask[n]) == 0;
    }
    return memcmp(a, b, n) == 0;
}

/* Validates the bytes b[0..len) of an object said to hold `count` members.
 *
 * The shape memo: objects in an array mostly share their keys (records of a
 * kind). ld->shape[] points at the keys of the last small object validated;
 * while this object's keys are byte-equal to those, in order and in number,
 * they are known UTF-8 and distinct, so their checks are skipped. At the
 * first key that differs the memo is dropped and every key from there on is
 * checked (the duplicate filter refilled from the keys before it). */
static int check_object(loader *ld, const uint8_t *b, uint32_t len, uint32_t count, unsigned *flags) {
    const uint8_t *p = b, *e = b + len;
    uint64_t keybits = 0;
    uint32_t n = 0;
    int small = count < DOC_INDEX_MIN;
    int same = small && count == ld->shape_n;
    while (p < e) {
        if (n == count) return load_fail(ld, b, "entry count does not match the node's bytes");
        uint32_t kl;
        const uint8_t *k = get_len(p, e, &kl);
        if (!k || kl > (size_t)(e - k)) return load_fail(ld, p, "key length past its node");
        int fast = ld->end - p >= 8;
        if (same && bytes_eq(p, ld->shape[n], (size_t)(k - p) + kl, fast)) {
            /* the key of the memo, at the same position */
        } else {
            if (same) {
                same = 0;
                for (const uint8_t *q = b; q < p;) {
                    const char *qk;
                    size_t qkl;
                    size_t h = doc_key_decode(q, &qk, &qkl);
                    keybits |= key_bit((const uint8_t *)qk, qkl);
                    q += h;
                    q += doc_value_size(q);
                }
            }
            if (!str_ok(k, kl, ld->end, flags)) return load_fail(ld, k, "key is not UTF-8");
            if (small) {
                uint64_t bit = key_bit(k, kl);
                if (__builtin_expect((keybits & bit) != 0, 0) && has_key(b, p, k, kl))
                    return load_fail(ld, p, "duplicate key");
                keybits |= bit;
                ld->shape[n] = p; /* n < count < DOC_INDEX_MIN (checked above) */
            }
        }
        p = k + kl;
        if (p == e) return load_fail(ld, p, "key without a value");
        p = check_value(ld, p, b, e, flags);
        if (!p) return -1;
        n++;
    }
    if (n != count) return load_fail(ld, b, "entry count does not match the node's bytes");
    /* A key of the memo that needs an escape leaves NODE_PLAIN alone when
     * skipped: keep the memo only for plain keys' objects. */
    if (small) ld->shape_n = (*flags & NODE_PLAIN) ? count : UINT32_MAX;
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

/* Validates the packed bytes b[0..len) of a node of `kind` said to hold
 * `count` entries; appends its child slots to ld->slots and returns the
 * node flags (NODE_PARENT, NODE_PLAIN), or -1 with the error set. */
static int check_bytes(loader *ld, int kind, const uint8_t *b, uint32_t len, uint32_t count) {
    unsigned flags = NODE_PLAIN;
    int st = kind == DOC_KIND_OBJECT ? check_object(ld, b, len, count, &flags)
                                     : check_array(ld, b, len, count, &flags);
    return st < 0 ? -1 : (int)flags;
}

/* Turns the unfilled child slots slots[from..to) of n into the integer 0
 * (an I64 tag over the zeroed slot), so freeing n never follows them. */
static void slots_defuse(loader *ld, doc_node *n, size_t from, size_t to) {
    uint8_t *b = node_bytes(n);
    for (size_t i = from; i < to; i++) b[ld->slots[i]] = DOC_TAG_I64;
}

/* Reads, validates and makes the node of `kind` whose record is at *pp;
 * appends its child slots (zero, to fill) to ld->slots. NULL on failure
 * (nothing made is left behind). */
static doc_node *load_record(loader *ld, int kind, const uint8_t **pp) {
    const uint8_t *p = *pp;
    uint32_t count, len;
    p = get_len(p, ld->end, &count);
    if (p) p = get_len(p, ld->end, &len);
    if (!p) {
        load_fail(ld, *pp, "bad node header");
        return NULL;
    }
    if (len > (size_t)(ld->end - p)) {
        load_fail(ld, *pp, "node length past the end");
        return NULL;
    }
    if (kind == DOC_KIND_BOX && count != 1) {
        load_fail(ld, *pp, "the root must hold one value");
        return NULL;
    }
    size_t base = ld->nslots;
    int flags = check_bytes(ld, kind, p, len, count);
    if (flags < 0) return NULL;
    uint32_t dup = UINT32_MAX;
    int big_object = kind == DOC_KIND_OBJECT && count >= DOC_INDEX_MIN;
    doc_node *n = doc_node_make_known(kind, p, len, count, big_object ? &dup : NULL, flags);
    if (!n) {
        doc_error_set(ld->err, DOC_NOMEM, "out of memory");
        ld->nslots = base;
        return NULL;
    }
    if (dup != UINT32_MAX) {
        slots_defuse(ld, n, base, ld->nslots);
        ld->nslots = base;
        doc_node_free(n);
        load_fail(ld, p + dup, "duplicate key");
        return NULL;
    }
    *pp = p + len;
    return n;
}

doc_node *doc_tree_load(const uint8_t *data, size_t len, uint32_t max_depth, doc_error *err) {
    loader ld = {data, data + len, NULL, 0, 0, err, UINT32_MAX, {NULL}};
    const uint8_t *p = data;
    if (max_depth > DOC_DEPTH_LIMIT) max_depth = DOC_DEPTH_LIMIT;
    doc_node *box = load_record(&ld, DOC_KIND_BOX, &p);
    if (!box) {
        doc_free(ld.slots);
        return NULL;
    }
    /* frames[0] is the box; frames[d] a container at depth d. */
    load_frame local[64], *fr = local;
    size_t depth = 0, cap = sizeof local / sizeof *local;
    int failed = 0;
    if (ld.nslots) fr[depth++] = (load_frame){box, 0, ld.nslots};
    while (depth) {
        load_frame *f = &fr[depth - 1];
        if (f->next == f->end) {
            depth--;
            /* The slots of f are all filled; drop them (they are the last ones). */
            ld.nslots = depth ? fr[depth - 1].end : 0;
            continue;
        }
        uint8_t *slot = node_bytes(f->node) + ld.slots[f->next];
        if (depth > max_depth) {
            doc_error_at(err, DOC_TOODEEP, (size_t)(p - data), "nesting deeper than max-depth %u", max_depth);
            failed = 1;
            break;
        }
        if (depth == cap) {
            load_frame *m =
                fr == local ? doc_malloc(2 * cap * sizeof *m) : doc_realloc(fr, 2 * cap * sizeof *m);
            if (!m) {
                doc_error_set(err, DOC_NOMEM, "out of memory");
                failed = 1;
                break;
            }
            if (fr == local) memcpy(m, local, sizeof local);
            fr = m;
            cap *= 2;
            f = &fr[depth - 1];
        }
        size_t base = ld.nslots;
        doc_node *c = load_record(&ld, *slot == DOC_TAG_OBJECT ? DOC_KIND_OBJECT : DOC_KIND_ARRAY, &p);
        if (!c) {
            failed = 1;
            break;
        }
        value_set_child(slot, c);
        f->next++;
        if (ld.nslots > base) fr[depth++] = (load_frame){c, base, ld.nslots};
    }
    if (!failed && p != ld.end) {
        load_fail(&ld, p, "bytes after the tree");
        failed = 1;
    }
    if (failed) {
        for (size_t i = 0; i < depth; i++) slots_defuse(&ld, fr[i].node, fr[i].next, fr[i].end);
        doc_node_free(box);
        box = NULL;
    }
    if (fr != local) doc_free(fr);
    doc_free(ld.slots);
    return box;
}
