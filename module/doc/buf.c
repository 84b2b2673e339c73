/*
 * buf.c - a growable byte string with a sticky out-of-memory flag, so a long
 * run of appends (printing a document) checks for failure once, at the end.
 */
#include "doc.h"

#include <string.h>

void doc_buf_free(doc_buf *b) {
    doc_free(b->data);
    doc_buf_init(b);
}

int doc_buf_reserve(doc_buf *b, size_t extra) {
    if (b->oom) return -1;
    if (extra <= b->cap - b->len) return 0;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t want = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < want) cap *= 2;
    char *m = doc_realloc(b->data, cap);
    if (!m) {
        b->oom = 1;
        return -1;
    }
    b->data = m;
    b->cap = cap;
    return 0;
}

void doc_buf_append(doc_buf *b, const void *p, size_t n) {
    if (!n || doc_buf_reserve(b, n) < 0) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void doc_buf_putc(doc_buf *b, char c) {
    if (b->len < b->cap && !b->oom) {
        b->data[b->len++] = c;
        return;
    }
    doc_buf_append(b, &c, 1);
}

const char *doc_buf_cstr(doc_buf *b) {
    if (doc_buf_reserve(b, 1) < 0) return "";
    b->data[b->len] = '\0';
    return b->data;
}
