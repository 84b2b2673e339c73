/*
 * fuzz_query.c - libFuzzer target for doc_query_compile / doc_query_eval.
 *
 * The input is a query text. It either fails cleanly (BADPATH with a
 * character offset no larger than the input and a one-line message, or
 * TOODEEP; out stays NULL) or compiles and runs on a fixed document that
 * has a bit of everything (nesting, odd keys, numbers of both kinds, strings
 * for the regex functions). Each match's normalized path must itself compile
 * to a single path that selects exactly that node: the paths are checked
 * against the evaluator. Any violation traps.
 */
#include <stdint.h>
#include <string.h>

#include "doc.h"

/* Small, so the TOODEEP branch is reached too. */
#define FUZZ_MAX_DEPTH 64
/* Normalized paths re-checked per input: enough to cover every node of the
 * document once or twice, few enough to keep `$..*..*` style inputs fast. */
#define FUZZ_NORM_CHECKS 64

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

static const char fuzz_doc_text[] =
    "{\"a\":[1,2.5,\"x\",true,null,{\"b\":[[],{}]},-7,1e300],"
    "\"b\":{\"c\":\"abc\",\"\":[0,{\"a\":\"A\"}],\"re\":\"[a-c]+\"},"
    "\"it's\":\"\\u0001\\\\\",\"n\":-3,\"s\":\"\\u00c5\\u03a9\\ud83d\\ude00\","
    "\"books\":[{\"t\":\"Ab\",\"p\":8.95},{\"t\":\"Zz\",\"p\":12,\"tags\":[\"x\",\"y\"]}]}";

/* The document of the current input. Parsed afresh for each input and
 * freed after: a document kept across inputs would show as a leak, since
 * child node pointers sit unaligned in packed bytes where LeakSanitizer does
 * not look for them. */
static doc_node *fuzz_doc;

/* One match: counts, and re-checks its normalized path. */
typedef struct seen {
    size_t n;       /* matches */
    size_t checked; /* normalized paths re-checked */
} seen;

/* A single path's only match. */
typedef struct only {
    const uint8_t *val; /* the match */
    size_t n;           /* matches */
} only;

static int take_only(void *ctx, const uint8_t *value, const char *norm) {
    only *o = ctx;

    CHECK(norm != NULL);
    o->val = value;
    o->n++;
    return 0;
}

static int on_match(void *ctx, const uint8_t *value, const char *norm) {
    seen *s = ctx;
    doc_query *q = NULL;
    doc_error err;
    only o = {NULL, 0};
    doc_buf b;

    s->n++;
    CHECK(norm != NULL && norm[0] == '$');
    /* Every match prints. */
    doc_buf_init(&b);
    doc_print(value, &b);
    CHECK(!b.oom && b.len > 0);
    doc_buf_free(&b);
    if (s->checked++ >= FUZZ_NORM_CHECKS) return 0;
    doc_error_clear(&err);
    CHECK(doc_query_compile(norm, strlen(norm), FUZZ_MAX_DEPTH, &q, &err) == DOC_OK);
    CHECK(doc_query_is_single(q));
    CHECK(doc_query_eval(q, doc_box_value(fuzz_doc), take_only, &o, 1, &err) == DOC_OK);
    CHECK(o.n == 1 && o.val == value);
    doc_query_free(q);
    return 0;
}

/* Without normalized paths: only counts, and no path may be given. */
static int on_match_plain(void *ctx, const uint8_t *value, const char *norm) {
    seen *s = ctx;

    CHECK(value != NULL && norm == NULL);
    s->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    doc_query *q = (doc_query *)&q; /* must become NULL on failure */
    doc_error err;
    doc_status st;
    seen s = {0, 0};

    doc_error_clear(&err);
    st = doc_query_compile((const char *)data, size, FUZZ_MAX_DEPTH, &q, &err);
    if (st != DOC_OK) {
        CHECK(q == NULL && err.code == st);
        CHECK(st == DOC_BADPATH || st == DOC_TOODEEP);
        CHECK(st != DOC_BADPATH || (err.has_offset && err.offset <= size));
        CHECK(strchr(err.msg, '\n') == NULL && err.msg[0] != '\0');
        return 0;
    }
    CHECK(err.code == DOC_OK);
    fuzz_doc = doc_parse(fuzz_doc_text, sizeof fuzz_doc_text - 1, FUZZ_MAX_DEPTH, &err);
    CHECK(fuzz_doc != NULL);
    CHECK(doc_query_eval(q, doc_box_value(fuzz_doc), on_match, &s, 1, &err) == DOC_OK);
    /* Without paths, the same matches. */
    {
        seen again = {0, 0};

        CHECK(doc_query_eval(q, doc_box_value(fuzz_doc), on_match_plain, &again, 0, &err) == DOC_OK);
        CHECK(again.n == s.n);
    }
    doc_node_free(fuzz_doc);
    fuzz_doc = NULL;
    doc_query_free(q);
    return 0;
}
