/*
 * print.c - an encoded value to compact JSON text.
 *
 * Iterative: open containers sit on an explicit stack of iterators (a small
 * array on the C stack, moved to doc_malloc'd memory when a document nests
 * deeper), so any depth prints without recursion. Output goes to a doc_buf,
 * whose sticky oom flag the caller checks once; when the stack cannot grow
 * the printer sets that flag too and stops.
 *
 * Strings escape only what JSON requires: '"', '\\' and the control
 * characters below 0x20 (\b \f \n \r \t short, the others \u00XX). DEL and
 * all other UTF-8 bytes are copied as they are (the parser proved them
 * valid). Runs of bytes that need no escape are copied with one append.
 * Numbers print through doc_format_int / doc_format_double straight into
 * reserved space, so a double always reads back as the same double.
 */
#include "doc.h"

#include <string.h>

/* Iterators kept on the C stack before the printer allocates: documents
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
    doc_iter it;      /* position within the container */
    int object;       /* 1: members (key:value), 0: elements */
    uint32_t done;    /* children printed so far (for the commas) */
} print_frame;

/* Appends s[0..n) as a JSON string literal. */
static void print_string(doc_buf *out, const char *s, size_t n)
{
    /* Room for the common case (nothing to escape) in one go. */
    if (n > SIZE_MAX - 2 || doc_buf_reserve(out, n + 2) < 0) {
        out->oom = 1;
        return;
    }
    out->data[out->len++] = '"';
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char e = print_escape[u[i]];
        if (!e)
            continue;
        doc_buf_append(out, s + run, i - run);
        char seq[6] = {'\\', e, '0', '0', 0, 0};
        if (e == 'u') {
            seq[4] = print_hex[u[i] >> 4];
            seq[5] = print_hex[u[i] & 15];
            doc_buf_append(out, seq, 6);
        } else {
            doc_buf_append(out, seq, 2);
        }
        run = i + 1;
    }
    doc_buf_append(out, s + run, n - run);
    doc_buf_putc(out, '"');
}

/* Appends a scalar; for a container, appends its opening bracket and
 * returns the container node (the caller pushes it), else NULL. */
static doc_node *print_value(doc_buf *out, const uint8_t *val)
{
    doc_view v;
    doc_value_decode(val, &v);
    switch (v.type) {
    case DOC_NULL:
        doc_buf_append(out, "null", 4);
        return NULL;
    case DOC_BOOL:
        if (v.b)
            doc_buf_append(out, "true", 4);
        else
            doc_buf_append(out, "false", 5);
        return NULL;
    case DOC_INT:
        /* Written in place: 21 bytes hold any int64 and its NUL. */
        if (doc_buf_reserve(out, 21) == 0)
            out->len += doc_format_int(v.i, out->data + out->len);
        return NULL;
    case DOC_DOUBLE:
        if (doc_buf_reserve(out, 32) == 0)
            out->len += doc_format_double(v.d, out->data + out->len);
        return NULL;
    case DOC_STRING:
        print_string(out, v.s, v.slen);
        return NULL;
    case DOC_OBJECT:
        doc_buf_putc(out, '{');
        return v.node;
    case DOC_ARRAY:
        doc_buf_putc(out, '[');
        return v.node;
    }
    return NULL;
}

void doc_print(const uint8_t *val, doc_buf *out)
{
    print_frame local[PRINT_STACK_LOCAL];
    print_frame *stack = local;
    size_t cap = PRINT_STACK_LOCAL;
    size_t depth = 0;

    doc_node *n = print_value(out, val);
    if (n) {
        doc_iter_init(&stack[0].it, n);
        stack[0].object = doc_node_kind(n) == DOC_KIND_OBJECT;
        stack[0].done = 0;
        depth = 1;
    }
    while (depth > 0 && !out->oom) {
        print_frame *f = &stack[depth - 1];
        const char *key;
        size_t klen;
        const uint8_t *child;
        if (!doc_iter_next(&f->it, &key, &klen, &child, NULL)) {
            doc_buf_putc(out, f->object ? '}' : ']');
            depth--;
            continue;
        }
        if (f->done++)
            doc_buf_putc(out, ',');
        if (f->object) {
            print_string(out, key, klen);
            doc_buf_putc(out, ':');
        }
        n = print_value(out, child);
        if (!n)
            continue;
        if (depth == cap) {
            /* Grow the stack (f is not used past this point). */
            if (cap > SIZE_MAX / 2 / sizeof *stack) {
                out->oom = 1;
                break;
            }
            size_t ncap = cap * 2;
            print_frame *m;
            if (stack == local) {
                m = doc_malloc(ncap * sizeof *m);
                if (m)
                    memcpy(m, local, sizeof local);
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
        doc_iter_init(&stack[depth].it, n);
        stack[depth].object = doc_node_kind(n) == DOC_KIND_OBJECT;
        stack[depth].done = 0;
        depth++;
    }
    if (stack != local)
        doc_free(stack);
}
