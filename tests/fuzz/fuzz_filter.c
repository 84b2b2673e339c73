/*
 * fuzz_filter.c - libFuzzer target for doc_filter_compile / _match /
 * _equalities / _free.
 *
 * Input: filter JSON, a newline, value JSON (no newline: the value is the
 * filter itself). Both parse with max-depth 64; the filter compiles with a
 * max-depth taken from its first byte (1..64), so depth limits are hit
 * too. Compiling either succeeds or fails cleanly (BADFILTER / TOODEEP with
 * a one-line message, no filter returned); a compiled filter is matched
 * against the value, against the filter's own JSON and against each element
 * of the value when it is an array (as DOC.PULL WHERE does), must give the
 * same answer twice, and reports its equalities. Any violation traps; ASan
 * catches leaks and bad accesses.
 */
#include <stdint.h>
#include <string.h>

#include "doc.h"

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)
/* Parse depth: deep enough for any interesting filter, small enough that
 * one input runs fast. */
#define FUZZ_DEPTH 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Equalities callback: the path and value must be readable. */
static int seen(void *ctx, const char *path, size_t plen, const uint8_t *val) {
    size_t *n = ctx;
    doc_buf b;
    doc_buf_init(&b);
    doc_buf_append(&b, path, plen);
    doc_print(val, &b);
    CHECK(!b.oom && b.len > plen);
    doc_buf_free(&b);
    return ++*n > 1000;
}

static void match_twice(const doc_filter *f, const uint8_t *v) {
    int a = doc_filter_match(f, v);
    CHECK(a == 0 || a == 1);
    CHECK(doc_filter_match(f, v) == a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    size_t flen = nl ? (size_t)(nl - text) : size;
    doc_error err;

    doc_error_clear(&err);
    doc_node *fbox = doc_parse(text, flen, FUZZ_DEPTH, &err);
    if (!fbox) return 0;
    doc_node *vbox = NULL;
    if (nl) {
        doc_error_clear(&err);
        vbox = doc_parse(nl + 1, size - flen - 1, FUZZ_DEPTH, &err);
    }

    uint32_t depth = size ? 1 + data[0] % FUZZ_DEPTH : FUZZ_DEPTH;
    doc_filter *f = (doc_filter *)&f;
    doc_error_clear(&err);
    doc_status st = doc_filter_compile(doc_box_value(fbox), depth, &f, &err);
    if (st != DOC_OK) {
        CHECK(st == DOC_BADFILTER || st == DOC_TOODEEP);
        CHECK(err.code == st && f == NULL);
        CHECK(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
    } else {
        CHECK(f != NULL && err.code == DOC_OK);
        const uint8_t *v = vbox ? doc_box_value(vbox) : doc_box_value(fbox);
        match_twice(f, v);
        match_twice(f, doc_box_value(fbox));
        doc_view vv;
        doc_value_decode(v, &vv);
        if (vv.type == DOC_ARRAY) {
            doc_iter it;
            const uint8_t *e;
            doc_iter_init(&it, vv.node);
            while (doc_iter_next(&it, NULL, NULL, &e, NULL)) match_twice(f, e);
        }
        size_t n = 0;
        doc_filter_equalities(f, seen, &n);
        doc_filter_free(f);
    }
    doc_node_free(fbox);
    doc_node_free(vbox);
    return 0;
}
