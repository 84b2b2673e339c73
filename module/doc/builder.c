/*
 * builder.c - makes packed nodes bottom-up from a stream of events (begin
 * object / array, key, scalar, end), for callers that do not start from JSON
 * text: doc_box_empty, the update operators, copies into a new container.
 * (parse.c writes its tree directly and does not go through here.)
 *
 * Invariants: one frame per open container, frames[0] being the box that
 * receives the single top-level value; a frame's bytes are its entries in
 * their final encoding, so closing a container is one node allocation and
 * one copy, after which the parent holds the 9-byte value pointing at it.
 * Errors are sticky: the first one (its code, message and the caller's input
 * offset) is kept and every later call returns it; doc_builder_free frees
 * whatever nodes the open frames already own, so a failed build leaks
 * nothing. Nesting is bounded by max_depth (at most DOC_DEPTH_LIMIT); small
 * objects are checked for duplicate keys as each key comes (a 64-bit key
 * filter spares most scans), objects of DOC_INDEX_MIN members or more once,
 * through their sorted index, when they close.
 */
#include "node.h"

#include <string.h>

/* One open container: its packed bytes so far. */
typedef struct build_frame {
    doc_buf bytes;    /* packed entries so far (keys and values) */
    uint32_t count;   /* entries so far */
    int kind;         /* DOC_KIND_* */
    int want_value;   /* objects: a key was given, its value is next */
    size_t start;     /* input offset where it opened (error messages) */
    uint64_t keybits; /* objects: a 64-bit filter of the keys so far (length,
                          first and last byte), so most keys skip the
                          duplicate scan */
    int parent;       /* NODE_PARENT once a child node was added, else 0 */
} build_frame;

/* Room for n more bytes in a frame's buffer: the common case inline. */
#define FRAME_ROOM(buf, n) ((buf)->cap - (buf)->len >= (n) ? 0 : doc_buf_reserve((buf), (n)))

struct doc_builder {
    build_frame *frames; /* frames[0] is the box */
    uint32_t depth;      /* frames open, the box included */
    uint32_t cap;        /* frames allocated */
    uint32_t max_depth;  /* containers may nest this deep */
    size_t offset;       /* caller's input position */
    doc_error err;       /* sticky first error */
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
                doc_bytes_free_children((const uint8_t *)f->bytes.data, (uint32_t)f->bytes.len, f->kind);
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
    if (v != v || v - v != 0) return doc_error_at(&b->err, DOC_OVERFLOW, b->offset, "number is not finite");
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
    if (len > DOC_NODE_MAX_BYTES) return doc_error_at(&b->err, DOC_TOOBIG, b->offset, "key larger than 4 GB");
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
        return doc_error_at(&b->err, DOC_TOODEEP, b->offset, "nesting deeper than max-depth %u",
                            b->max_depth);
    if (b->depth == b->cap) {
        uint32_t cap = b->cap * 2;
        build_frame *m = doc_realloc(b->frames, cap * sizeof *m);
        if (!m) return doc_error_set(&b->err, DOC_NOMEM, "out of memory");
        b->frames = m;
        for (uint32_t i = b->cap; i < cap; i++) doc_buf_init(&b->frames[i].bytes);
        b->cap = cap;
    }
    build_frame *f = &b->frames[b->depth++];
    f->bytes.len = 0; /* reuse the buffer of an earlier sibling */
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
    doc_node *n =
        doc_node_make_known(f->kind, (const uint8_t *)f->bytes.data, (uint32_t)f->bytes.len, f->count,
                            f->kind == DOC_KIND_OBJECT && f->count >= DOC_INDEX_MIN ? &dup : NULL, f->parent);
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
    doc_node *box = doc_node_make_known(DOC_KIND_BOX, (const uint8_t *)f->bytes.data, (uint32_t)f->bytes.len,
                                        1, NULL, f->parent);
    if (!box) {
        doc_error_set(&b->err, DOC_NOMEM, "out of memory");
        if (err && !err->code) *err = b->err;
        return NULL;
    }
    f->bytes.len = 0; /* the box owns the children now */
    f->count = 0;
    return box;
}
