/*
 * print.c - an encoded value to compact JSON text.
 *
 * The printer walks the packed bytes directly: each value's tag is read once
 * and its text written through a local write pointer into space reserved in
 * the output doc_buf (a value reserves its worst case before writing; only
 * escaped string bytes reserve again). This is the hot path of DOC.GET, RDB
 * saves and AOF rewrites, so it avoids per-byte calls.
 *
 * Iterative: open containers sit on an explicit stack (a small array on the
 * C stack, moved to doc_malloc'd memory when a document nests deeper), so any
 * depth prints without recursion. Output goes to a doc_buf, whose sticky oom
 * flag the caller checks once; when the stack cannot grow the printer sets
 * that flag too and stops.
 *
 * Strings escape only what JSON requires: '"', '\\' and the control
 * characters below 0x20 (\b \f \n \r \t short, the others \u00XX). DEL and
 * all other UTF-8 bytes are copied as they are (the parser proved them
 * valid). Numbers print through doc_format_int / doc_format_double, so a
 * double always reads back as the same double.
 */
#include "node.h"

#include <string.h>

/* Frames kept on the C stack before the printer allocates: documents
 * nesting deeper than this are rare (the default max-depth is 128). */
#define PRINT_STACK_LOCAL 32

/* Escape of each byte: 0 none, 'u' for \u00XX, else the letter after '\\'. */
static const char print_escape[256] = {
    ['\0'] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0B] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [0x0E] = 'u', [0x0F] = 'u', [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1A] = 'u', [0x1B] = 'u', [0x1C] = 'u', [0x1D] = 'u',
    [0x1E] = 'u', [0x1F] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

static const char print_hex[16] = "0123456789abcdef";

/* One open container being printed. */
typedef struct print_frame {
    const uint8_t *p;     /* next entry in the container's packed bytes */
    const uint8_t *end;   /* end of those bytes */
    int object;           /* 1: members (key:value), 0: elements */
    char close;           /* '}' or ']' */
} print_frame;

/* The output: a write pointer into out->data with out->len lagging behind
 * until sync. */
typedef struct writer {
    doc_buf *out;   /* the buffer */
    char *w;        /* next byte to write */
    char *end;      /* end of reserved space */
} writer;

static void w_sync(writer *wr) { wr->out->len = (size_t)(wr->w - wr->out->data); }

/* Makes room for n more bytes; 0 on success, -1 (oom set) on failure. */
static int w_room_slow(writer *wr, size_t n);
static inline int w_room(writer *wr, size_t n) {
    if (__builtin_expect((size_t)(wr->end - wr->w) >= n, 1)) return 0;
    return w_room_slow(wr, n);
}
static int w_room_slow(writer *wr, size_t n) {
    w_sync(wr);
    if (doc_buf_reserve(wr->out, n < 256 ? 256 : n) < 0) return -1;
    wr->w = wr->out->data + wr->out->len;
    wr->end = wr->out->data + wr->out->cap;
    return 0;
}

/* 1 when one of the 8 bytes in x needs an escape: < 0x20, '"' or '\\'.
 * Exact (the borrow of these tests starts only at a matching byte). */
static inline int needs_escape8(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * 0x22), b = x ^ (ones * 0x5C);
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs ? 1 : 0;
}

/* The slow part of w_string: escapes from s[i] on. */
static int w_string_escaped(writer *wr, const char *s, size_t i, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t run = i;
    for (; i < n; i++) {
        char e = print_escape[u[i]];
        if (!e) continue;
        if (w_room(wr, (i - run) + 6 + (n - i) + 1) < 0) return -1;
        memcpy(wr->w, s + run, i - run);
        wr->w += i - run;
        *wr->w++ = '\\';
        *wr->w++ = e;
        if (e == 'u') {
            *wr->w++ = '0';
            *wr->w++ = '0';
            *wr->w++ = print_hex[u[i] >> 4];
            *wr->w++ = print_hex[u[i] & 15];
        }
        run = i + 1;
    }
    if (w_room(wr, (n - run) + 1) < 0) return -1;
    memcpy(wr->w, s + run, n - run);
    wr->w += n - run;
    *wr->w++ = '"';
    return 0;
}

/* A JSON string literal of s[0..n). Clean bytes are checked and copied
 * eight at a time; the first escape hands over to w_string_escaped. */
static inline int w_string(writer *wr, const char *s, size_t n) {
    if (n > SIZE_MAX - 16 || w_room(wr, n + 10) < 0) return -1;
    char *w = wr->w;
    *w++ = '"';
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        if (needs_escape8(x)) break;
        memcpy(w + i, &x, 8);
    }
    if (i == n) {
        w[n] = '"';
        wr->w = w + n + 1;
        return 0;
    }
    if (i + 8 > n) {
        /* The tail, fewer than 8 bytes: check the last 8 bytes of the
         * string when it has them (overlapping checked ones), else build a
         * word byte by byte, padded with 'a' (no escape). */
        uint64_t x;
        char *at;
        if (n >= 8) {
            memcpy(&x, s + n - 8, 8);
            at = w + n - 8;
        } else {
            /* Every string printed here lies in a node's packed bytes,
             * after the node's 16-byte header (node.h), so the 8 bytes
             * ending at its last byte are inside the same allocation. The
             * string is the top n bytes of that word (little-endian). */
            memcpy(&x, s + n - 8, 8);
            x >>= 8 * (8 - n);
            x |= 0x6161616161616161ull << (8 * n);
            at = w;
        }
        if (!needs_escape8(x)) {
            memcpy(at, &x, 8);   /* room: n + 10 was reserved */
            w[n] = '"';
            wr->w = w + n + 1;
            return 0;
        }
    }
    wr->w = w + i;
    return w_string_escaped(wr, s, i, n);
}

/* Writes the value at *pp and advances *pp past it. For a container,
 * writes the opening bracket and returns its node. */
static doc_node *w_value(writer *wr, const uint8_t **pp) {
    const uint8_t *p = *pp;
    uint8_t tag = *p;
    if (w_room(wr, 40) < 0) return NULL;   /* any number or literal fits */
    if (tag >= DOC_TAG_SMALLINT) {
        unsigned v = tag - DOC_TAG_SMALLINT;
        if (v >= 100) *wr->w++ = (char)('0' + v / 100);
        if (v >= 10) *wr->w++ = (char)('0' + v / 10 % 10);
        *wr->w++ = (char)('0' + v % 10);
        *pp = p + 1;
        return NULL;
    }
    switch (tag) {
    case DOC_TAG_NULL: memcpy(wr->w, "null", 4); wr->w += 4; *pp = p + 1; return NULL;
    case DOC_TAG_TRUE: memcpy(wr->w, "true", 4); wr->w += 4; *pp = p + 1; return NULL;
    case DOC_TAG_FALSE: memcpy(wr->w, "false", 5); wr->w += 5; *pp = p + 1; return NULL;
    case DOC_TAG_OBJECT:
    case DOC_TAG_ARRAY:
        *wr->w++ = tag == DOC_TAG_OBJECT ? '{' : '[';
        *pp = p + 1 + sizeof(doc_node *);
        return value_child(p);
    case DOC_TAG_STRING: {
        uint64_t n;
        size_t h = doc_varint_get(p + 1, &n);
        *pp = p + 1 + h + n;
        w_string(wr, (const char *)p + 1 + h, (size_t)n);
        return NULL;
    }
    default: {
        doc_view v;
        *pp = doc_value_decode(p, &v);
        wr->w += v.type == DOC_INT ? doc_format_int(v.i, wr->w) : doc_format_double(v.d, wr->w);
        return NULL;
    }
    }
}

void doc_print(const uint8_t *val, doc_buf *out) {
    print_frame local[PRINT_STACK_LOCAL];
    print_frame *stack = local;
    size_t cap = PRINT_STACK_LOCAL;
    size_t depth = 0;
    writer wr = {out, NULL, NULL};
    if (out->oom || doc_buf_reserve(out, 64) < 0) return;
    wr.w = out->data + out->len;
    wr.end = out->data + out->cap;

    const uint8_t *p = val;
    doc_node *n = w_value(&wr, &p);
    for (;;) {
        if (n) {
            /* Open a container: push its frame. */
            if (depth == cap) {
                size_t ncap = cap * 2;
                print_frame *m;
                if (stack == local) {
                    m = doc_malloc(ncap * sizeof *m);
                    if (m) memcpy(m, local, sizeof local);
                } else {
                    m = doc_realloc(stack, ncap * sizeof *m);
                }
                if (!m) {
                    out->oom = 1;
                    break;
                }
                stack = m;
                cap = ncap;
            }
            print_frame *f = &stack[depth++];
            f->p = doc_node_bytes(n);
            f->end = f->p + doc_node_len(n);
            f->object = doc_node_kind(n) == DOC_KIND_OBJECT;
            f->close = f->object ? '}' : ']';
            n = NULL;
            /* The first entry needs no comma. */
            if (f->p == f->end) continue;
            goto entry;
        }
        if (!depth || out->oom) break;
        {
            print_frame *f = &stack[depth - 1];
            if (f->p == f->end) {
                if (w_room(&wr, 1) < 0) break;
                *wr.w++ = f->close;
                depth--;
                continue;
            }
            if (w_room(&wr, 1) < 0) break;
            *wr.w++ = ',';
        }
    entry:;
        print_frame *f = &stack[depth - 1];
        if (f->object) {
            uint64_t kl;
            size_t h = doc_varint_get(f->p, &kl);
            if (w_string(&wr, (const char *)f->p + h, (size_t)kl) < 0 || w_room(&wr, 1) < 0) break;
            *wr.w++ = ':';
            f->p += h + kl;
        }
        n = w_value(&wr, &f->p);
        if (out->oom) break;
    }
    if (!out->oom) w_sync(&wr);
    if (stack != local) doc_free(stack);
}
