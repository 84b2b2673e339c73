/*
 * fuzz_path.c - libFuzzer target for doc_path_compile / doc_path_print.
 *
 * Any bytes either fail cleanly (BADPATH with an offset no larger than the
 * input, or TOODEEP; out stays NULL) or compile to a path whose canonical
 * print compiles back to the same segments (a DOTNUM comes back as the INDEX
 * it prints as) and prints again to the same bytes. Prefixes print and
 * compile back to that many segments. Any violation traps.
 */
#include <stdint.h>
#include <string.h>

#include "doc.h"

/* Small, so the TOODEEP branch is reached too. */
#define FUZZ_MAX_SEGMENTS 64

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

static int seg_round_equal(const doc_seg *a, const doc_seg *b) {
    if (a->kind == DOC_SEG_NAME)
        return b->kind == DOC_SEG_NAME && a->len == b->len &&
               (a->len == 0 || memcmp(a->name, b->name, a->len) == 0);
    return b->kind == DOC_SEG_INDEX && a->index == b->index && b->name == NULL;
}

/* Compiles the first n segments of p printed; checks they come back. */
static void check_print(const doc_path *p, size_t n, doc_buf *out) {
    doc_path *q = NULL;
    doc_error err;
    doc_buf again;
    size_t i;

    doc_error_clear(&err);
    doc_path_print(p, n, out);
    CHECK(!out->oom);
    CHECK(doc_path_compile(out->data, out->len, FUZZ_MAX_SEGMENTS, &q, &err) == DOC_OK);
    CHECK(q->nseg == n);
    for (i = 0; i < n; i++) CHECK(seg_round_equal(&p->segs[i], &q->segs[i]));
    doc_buf_init(&again);
    doc_path_print(q, q->nseg, &again);
    CHECK(!again.oom && again.len == out->len && memcmp(again.data, out->data, out->len) == 0);
    doc_buf_free(&again);
    doc_path_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    doc_path *p = (doc_path *)&p; /* must become NULL on failure */
    doc_error err;
    doc_status st;
    doc_buf b;
    size_t i;

    doc_error_clear(&err);
    st = doc_path_compile((const char *)data, size, FUZZ_MAX_SEGMENTS, &p, &err);
    if (st != DOC_OK) {
        CHECK(p == NULL && err.code == st);
        CHECK(st == DOC_BADPATH || st == DOC_TOODEEP);
        CHECK(st != DOC_BADPATH || (err.has_offset && err.offset <= size));
        CHECK(strchr(err.msg, '\n') == NULL && err.msg[0] != '\0');
        return 0;
    }
    CHECK(err.code == DOC_OK && p->nseg <= FUZZ_MAX_SEGMENTS);
    for (i = 0; i < p->nseg; i++) {
        const doc_seg *g = &p->segs[i];

        CHECK(g->kind == DOC_SEG_NAME || g->kind == DOC_SEG_INDEX || g->kind == DOC_SEG_DOTNUM);
        CHECK(g->kind == DOC_SEG_INDEX || g->name != NULL);
        CHECK(g->kind != DOC_SEG_DOTNUM || g->index >= 0);
    }
    doc_buf_init(&b);
    check_print(p, p->nseg, &b);
    doc_buf_free(&b);
    doc_buf_init(&b);
    check_print(p, p->nseg / 2, &b);
    doc_buf_free(&b);
    doc_path_free(p);
    return 0;
}
