/*
 * target.c - what a write to an RFC 9535 query path changes: every node the
 * query matches, as a single path, each once, in document order.
 *
 * The evaluator reports matches in the RFC's nodelist order, which is not
 * document order for unions (`$.a[2,0]`) and may name a node twice
 * (`$.a[0,0]`); a write needs each node once, in an order in which editing
 * one target never moves another still to come (doc.h says which). So each
 * match's normalized path is compiled back into a single path, resolved
 * once to read its position (the byte offset of the entry at every level,
 * which grows with document order in objects and arrays alike), and the
 * targets are sorted by that sequence of offsets (a prefix, i.e. an
 * ancestor, first) and deduplicated. Cost: O(m log m x depth) for m matches,
 * before any edit, so a failure here changes nothing.
 */
#include "doc.h"

#include <stdlib.h>
#include <string.h>

/* One match while sorting: its path and its position key. */
typedef struct tgt {
    doc_path *path; /* compiled from the normalized path */
    uint32_t *key;  /* entry offsets, one per level below the root */
    size_t nkey;    /* levels */
} tgt;

typedef struct collect_ctx {
    doc_buf list;     /* tgt records */
    doc_node **rootp; /* the document */
    doc_status st;    /* first failure */
    doc_error *err;
} collect_ctx;

static int collect(void *ctx, const uint8_t *value, const char *norm) {
    (void)value;
    collect_ctx *cc = ctx;
    tgt t = {NULL, NULL, 0};
    if (doc_path_compile(norm, strlen(norm), DOC_DEPTH_LIMIT + 1, &t.path, cc->err)) {
        cc->st = cc->err->code;
        return 1;
    }
    doc_cursor c;
    doc_cursor_init(&c, cc->rootp);
    doc_error miss;
    doc_error_clear(&miss);
    if (doc_resolve(&c, t.path, &miss) == DOC_OK && c.depth > 0) {
        t.nkey = c.depth - 1;
        t.key = doc_malloc((t.nkey ? t.nkey : 1) * sizeof *t.key);
        if (t.key)
            for (size_t i = 0; i < t.nkey; i++) t.key[i] = c.frames[i + 1].entry_off;
    }
    doc_cursor_free(&c);
    if (!t.key) { /* a match always resolves: only memory can fail here */
        doc_path_free(t.path);
        cc->st = doc_error_set(cc->err, DOC_NOMEM, "out of memory resolving query matches");
        return 1;
    }
    doc_buf_append(&cc->list, &t, sizeof t);
    if (cc->list.oom) {
        doc_free(t.key);
        doc_path_free(t.path);
        cc->st = doc_error_set(cc->err, DOC_NOMEM, "out of memory resolving query matches");
        return 1;
    }
    return 0;
}

static int cmp_tgt(const void *pa, const void *pb) {
    const tgt *a = pa, *b = pb;
    size_t n = a->nkey < b->nkey ? a->nkey : b->nkey;
    for (size_t i = 0; i < n; i++)
        if (a->key[i] != b->key[i]) return a->key[i] < b->key[i] ? -1 : 1;
    return (a->nkey > b->nkey) - (a->nkey < b->nkey);
}

doc_status doc_query_targets(const doc_query *q, doc_node **rootp, doc_targets *out, doc_error *err) {
    out->n = 0;
    out->paths = NULL;
    collect_ctx cc;
    doc_buf_init(&cc.list);
    cc.rootp = rootp;
    cc.st = DOC_OK;
    cc.err = err;
    doc_status st = doc_query_eval(q, doc_box_value(*rootp), collect, &cc, 1, err);
    if (!st) st = cc.st;
    size_t n = cc.list.len / sizeof(tgt);
    tgt *all = (tgt *)cc.list.data;
    if (!st && n) {
        qsort(all, n, sizeof *all, cmp_tgt);
        out->paths = doc_malloc(n * sizeof *out->paths);
        if (!out->paths) st = doc_error_set(err, DOC_NOMEM, "out of memory resolving query matches");
    }
    for (size_t i = 0; i < n; i++) {
        if (!st && (out->n == 0 || cmp_tgt(&all[i - 1], &all[i]) != 0)) {
            out->paths[out->n++] = all[i].path;
            all[i].path = NULL;
        }
    }
    for (size_t i = 0; i < n; i++) { /* keys last: the loop above compares neighbours */
        doc_path_free(all[i].path);
        doc_free(all[i].key);
    }
    doc_buf_free(&cc.list);
    return st;
}

void doc_targets_free(doc_targets *t) {
    for (size_t i = 0; i < t->n; i++) doc_path_free(t->paths[i]);
    doc_free(t->paths);
    t->n = 0;
    t->paths = NULL;
}

int doc_target_siblings(const doc_path *a, const doc_path *b) {
    if (a->nseg != b->nseg || a->nseg == 0 || a->segs[a->nseg - 1].kind != DOC_SEG_INDEX ||
        b->segs[b->nseg - 1].kind != DOC_SEG_INDEX)
        return 0;
    for (size_t i = 0; i + 1 < a->nseg; i++) {
        const doc_seg *x = &a->segs[i], *y = &b->segs[i];
        if (x->kind != y->kind) return 0;
        if (x->kind == DOC_SEG_INDEX ? x->index != y->index
                                     : x->len != y->len || memcmp(x->name, y->name, x->len))
            return 0;
    }
    return 1;
}
