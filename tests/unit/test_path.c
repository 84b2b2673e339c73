/*
 * test_path.c - doc_path_compile / doc_path_print: every single-path form of
 * both styles, valid and invalid, with the expected status and character
 * offset; the segment limit; allocation failures; printing and round trips.
 *
 * Tables describe compiled segments as text, one token per segment:
 *   n:<name>        DOC_SEG_NAME
 *   i:<index>       DOC_SEG_INDEX
 *   d:<index>:<name> DOC_SEG_DOTNUM
 * with name bytes outside printable ASCII written as \xHH.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_alloc.h"

#define NONE ((size_t)-1) /* row.len: use strlen(text) */

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* Writes the table description of p's segments into out (cap bytes). */
static void describe(const doc_path *p, char *out, size_t cap) {
    size_t i, j, used = 0;

    out[0] = '\0';
    for (i = 0; i < p->nseg; i++) {
        const doc_seg *g = &p->segs[i];

        if (i > 0) used += (size_t)snprintf(out + used, cap - used, " ");
        if (g->kind == DOC_SEG_INDEX) {
            used += (size_t)snprintf(out + used, cap - used, "i:%lld", (long long)g->index);
            continue;
        }
        if (g->kind == DOC_SEG_DOTNUM)
            used += (size_t)snprintf(out + used, cap - used, "d:%lld:", (long long)g->index);
        else
            used += (size_t)snprintf(out + used, cap - used, "n:");
        for (j = 0; j < g->len; j++) {
            unsigned char c = (unsigned char)g->name[j];

            if (c >= 0x20 && c < 0x7F)
                used += (size_t)snprintf(out + used, cap - used, "%c", c);
            else
                used += (size_t)snprintf(out + used, cap - used, "\\x%02x", c);
        }
        cr_assert_lt(used, cap, "description too long");
    }
}

static size_t row_len(const char *text, size_t len) { return len == NONE ? strlen(text) : len; }

/* Compiles and prints p canonically into a NUL-terminated malloc'd string. */
static char *print_all(const doc_path *p) {
    doc_buf b;
    char *s;

    doc_buf_init(&b);
    doc_path_print(p, p->nseg, &b);
    cr_assert(!b.oom);
    s = malloc(b.len + 1);
    cr_assert(s);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    doc_buf_free(&b);
    return s;
}

/* Segments equal after a print/compile round trip: DOTNUM comes back as the
 * INDEX it prints as; NAME and INDEX come back as they were. */
static int seg_round_equal(const doc_seg *a, const doc_seg *b) {
    if (a->kind == DOC_SEG_NAME)
        return b->kind == DOC_SEG_NAME && a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
    return b->kind == DOC_SEG_INDEX && a->index == b->index;
}

/* ------------------------------------------------------------------ */
/* Valid paths                                                        */
/* ------------------------------------------------------------------ */

typedef struct ok_row {
    const char *text; /* the path */
    size_t len;       /* its length, or NONE for strlen */
    const char *segs; /* expected description */
} ok_row;

static const ok_row ok_rows[] = {
    /* JSONPath: root, shorthand, brackets */
    {"$", NONE, ""},
    {"$.a", NONE, "n:a"},
    {"$.a.b", NONE, "n:a n:b"},
    {"$._x9", NONE, "n:_x9"},
    {"$.A_b_1", NONE, "n:A_b_1"},
    {"$._", NONE, "n:_"},
    {"$.\xc3\xa9t\xc3\xa9", NONE, "n:\\xc3\\xa9t\\xc3\\xa9"},
    {"$.\xe6\x97\xa5\xe6\x9c\xac", NONE, "n:\\xe6\\x97\\xa5\\xe6\\x9c\\xac"},
    {"$.\xf0\x9f\x98\x80x", NONE, "n:\\xf0\\x9f\\x98\\x80x"},
    {"$.a[0]", NONE, "n:a i:0"},
    {"$[0]", NONE, "i:0"},
    {"$[7]", NONE, "i:7"},
    {"$[10]", NONE, "i:10"},
    {"$[-1]", NONE, "i:-1"},
    {"$[-10]", NONE, "i:-10"},
    {"$[9007199254740991]", NONE, "i:9007199254740991"},
    {"$[-9007199254740991]", NONE, "i:-9007199254740991"},
    {"$[\"any key\"]", NONE, "n:any key"},
    {"$['k']", NONE, "n:k"},
    {"$[\"\"]", NONE, "n:"},
    {"$['']", NONE, "n:"},
    {"$.a[\"b\"][0]['c'][-2]", NONE, "n:a n:b i:0 n:c i:-2"},
    {"$[\"a.b\"]", NONE, "n:a.b"},
    {"$[\"$\"]", NONE, "n:$"},
    {"$[\"[0]\"]", NONE, "n:[0]"},
    {"$[\"0\"]", NONE, "n:0"},
    /* blank space where RFC 9535 allows it */
    {"$[ 0 ]", NONE, "i:0"},
    {"$[ \"a\" ]", NONE, "n:a"},
    {"$[\t'a'\n]", NONE, "n:a"},
    {"$[\r\n -3 \r\n]", NONE, "i:-3"},
    {"$ .a", NONE, "n:a"},
    {"$ [0]", NONE, "i:0"},
    {"$.a  [0] .b", NONE, "n:a i:0 n:b"},
    /* string escapes */
    {"$[\"\\b\\f\\n\\r\\t\\/\\\\\\\"\"]", NONE, "n:\\x08\\x0c\\x0a\\x0d\\x09/\\\""},
    {"$['\\b\\f\\n\\r\\t\\/\\\\\\'']", NONE, "n:\\x08\\x0c\\x0a\\x0d\\x09/\\'"},
    {"$[\"'\"]", NONE, "n:'"},
    {"$['\"']", NONE, "n:\""},
    {"$[\"\\u0041\"]", NONE, "n:A"},
    {"$[\"\\u00e9\\u00E9\"]", NONE, "n:\\xc3\\xa9\\xc3\\xa9"},
    {"$[\"\\u0000\"]", NONE, "n:\\x00"},
    {"$[\"a\\u0000b\"]", NONE, "n:a\\x00b"},
    {"$[\"\\u001f\\u007f\"]", NONE, "n:\\x1f\\x7f"},
    {"$[\"\\u20ac\"]", NONE, "n:\\xe2\\x82\\xac"},
    {"$[\"\\uFFFF\"]", NONE, "n:\\xef\\xbf\\xbf"},
    {"$[\"\\uD83D\\uDE00\"]", NONE, "n:\\xf0\\x9f\\x98\\x80"},
    {"$['\\ud83d\\ude00']", NONE, "n:\\xf0\\x9f\\x98\\x80"},
    {"$[\"\\uDBFF\\uDFFF\"]", NONE, "n:\\xf4\\x8f\\xbf\\xbf"},
    {"$[\"\x7f\"]", NONE, "n:\\x7f"},
    {"$[\"\xe6\x97\xa5 \xe6\x9c\xac\"]", NONE, "n:\\xe6\\x97\\xa5 \\xe6\\x9c\\xac"},
    /* dot style */
    {".", NONE, ""},
    {"a", NONE, "n:a"},
    {"a.b", NONE, "n:a n:b"},
    {".a.b", NONE, "n:a n:b"},
    {"0", NONE, "d:0:0"},
    {".0", NONE, "d:0:0"},
    {"a.0", NONE, "n:a d:0:0"},
    {"a.10.b", NONE, "n:a d:10:10 n:b"},
    {"a.01", NONE, "n:a n:01"},
    {"a.00", NONE, "n:a n:00"},
    {"a.-1", NONE, "n:a n:-1"},
    {"a.+1", NONE, "n:a n:+1"},
    {"a.1e3", NONE, "n:a n:1e3"},
    {"9007199254740991", NONE, "d:9007199254740991:9007199254740991"},
    {"9007199254740992", NONE, "n:9007199254740992"},
    {"99999999999999999999", NONE, "n:99999999999999999999"},
    {" a", NONE, "n: a"},
    {"a b.c ", NONE, "n:a b n:c "},
    {"a.$b", NONE, "n:a n:$b"},
    {".$", NONE, "n:$"},
    {"a\\b", NONE, "n:a\\b"},
    {"a\0b", 3, "n:a\\x00b"},
    {"\t", NONE, "n:\\x09"},
    {"\xc3\xa9.\xc3\xbc", NONE, "n:\\xc3\\xa9 n:\\xc3\\xbc"},
    {"\xef\xbb\xbf"
     "a",
     NONE, "n:\\xef\\xbb\\xbfa"},
};

Test(path, valid_forms) {
    size_t i;
    char got[512];

    for (i = 0; i < sizeof ok_rows / sizeof ok_rows[0]; i++) {
        const ok_row *r = &ok_rows[i];
        doc_path *p = (doc_path *)1;
        doc_error err;
        doc_status st;

        doc_error_clear(&err);
        st = doc_path_compile(r->text, row_len(r->text, r->len), 128, &p, &err);
        cr_expect_eq(st, DOC_OK, "row %zu [%s]: status %d (%s at %zu)", i, r->text, st, err.msg, err.offset);
        if (st != DOC_OK) continue;
        cr_expect_eq(err.code, DOC_OK, "row %zu: err touched on success", i);
        describe(p, got, sizeof got);
        cr_expect_str_eq(got, r->segs, "row %zu [%s]", i, r->text);
        doc_path_free(p);
    }
}

/* ------------------------------------------------------------------ */
/* Invalid paths                                                      */
/* ------------------------------------------------------------------ */

typedef struct bad_row {
    const char *text; /* the path */
    size_t len;       /* its length, or NONE for strlen */
    size_t offset;    /* expected character offset */
    const char *msg;  /* expected message, or NULL to skip the check */
} bad_row;

#define QUERY "query paths are not supported here"

static const bad_row bad_rows[] = {
    {"", NONE, 0, "empty path"},
    /* JSONPath structure */
    {"$a", NONE, 1, "expected '.' or '['"},
    {"$$", NONE, 1, NULL},
    {"$.", NONE, 2, "expected a member name after '.'"},
    {"$.a.", NONE, 4, NULL},
    {"$.a.0", NONE, 4, "a member name after '.' cannot start with a digit"},
    {"$.0", NONE, 2, NULL},
    {"$.-a", NONE, 2, NULL},
    {"$.a-b", NONE, 3, "expected '.' or '['"},
    {"$. a", NONE, 2, NULL},
    {"$.a b", NONE, 4, NULL},
    {"$.\"a\"", NONE, 2, NULL},
    {"$ ", NONE, 1, "blank space after the end of the path"},
    {"$.a \t", NONE, 3, NULL},
    {"$[0] ", NONE, 4, NULL},
    /* brackets */
    {"$[", NONE, 2, "expected a name or an index"},
    {"$[ ", NONE, 3, NULL},
    {"$[]", NONE, 2, NULL},
    {"$[a]", NONE, 2, NULL},
    {"$[0", NONE, 3, "expected ']'"},
    {"$[0 ", NONE, 4, NULL},
    {"$[0 1]", NONE, 4, NULL},
    {"$[1.0]", NONE, 3, NULL},
    {"$[1e2]", NONE, 3, NULL},
    {"$[\"a\"", NONE, 5, NULL},
    {"$[\"a\" \"b\"]", NONE, 6, NULL},
    {"$[0]]", NONE, 4, NULL},
    {"$[[0]]", NONE, 2, NULL},
    /* indexes */
    {"$[01]", NONE, 2, "an index cannot be -0 or have leading zeros"},
    {"$[00]", NONE, 2, NULL},
    {"$[-0]", NONE, 2, NULL},
    {"$[-01]", NONE, 2, NULL},
    {"$[-]", NONE, 3, "expected a digit"},
    {"$[- 1]", NONE, 3, NULL},
    {"$[-", NONE, 3, NULL},
    {"$[+1]", NONE, 2, NULL},
    {"$[9007199254740992]", NONE, 2, "index out of range"},
    {"$[-9007199254740992]", NONE, 2, NULL},
    {"$[9223372036854775808]", NONE, 2, NULL},
    {"$[99999999999999999999999]", NONE, 2, NULL},
    /* strings */
    {"$[\"a", NONE, 2, "unterminated string"},
    {"$['a\"]", NONE, 2, NULL},
    {"$[\"a\\", NONE, 2, NULL},
    {"$[\"\\'\"]", NONE, 3, "invalid escape"},
    {"$['\\\"']", NONE, 3, NULL},
    {"$[\"\\x41\"]", NONE, 3, NULL},
    {"$[\"\\a\"]", NONE, 3, NULL},
    {"$[\"\\U0041\"]", NONE, 3, NULL},
    {"$[\"\\u12\"]", NONE, 3, "invalid \\u escape"},
    {"$[\"\\u12G4\"]", NONE, 3, NULL},
    {"$[\"\\u", NONE, 3, NULL},
    {"$[\"\\uD800\"]", NONE, 3, "lone surrogate in \\u escape"},
    {"$[\"\\uDC00\"]", NONE, 3, NULL},
    {"$[\"ab\\uDFFF\"]", NONE, 5, NULL},
    {"$[\"\\uD800\\u0041\"]", NONE, 3, NULL},
    {"$[\"\\uD800\\uD800\"]", NONE, 3, NULL},
    {"$[\"\\uD800x\"]", NONE, 3, NULL},
    {"$[\"\\uD800\\", NONE, 3, NULL},
    {"$[\"a\nb\"]", NONE, 4, "control character in string (escape it)"},
    {"$[\"\x01\"]", NONE, 3, NULL},
    {"$['\t']", NONE, 3, NULL},
    {"$[\"\0\"]", 6, 3, NULL},
    /* query constructs */
    {"$.*", NONE, 2, QUERY},
    {"$..a", NONE, 2, QUERY},
    {"$..[0]", NONE, 2, QUERY},
    {"$[*]", NONE, 2, QUERY},
    {"$[ *]", NONE, 3, QUERY},
    {"$[1:2]", NONE, 3, QUERY},
    {"$[1 :2]", NONE, 4, QUERY},
    {"$[:2]", NONE, 2, QUERY},
    {"$[::-1]", NONE, 2, QUERY},
    {"$[-1:]", NONE, 4, QUERY},
    {"$[0,1]", NONE, 3, QUERY},
    {"$['a','b']", NONE, 5, QUERY},
    {"$[\"a\" , 0]", NONE, 6, QUERY},
    {"$[?@.a]", NONE, 2, QUERY},
    {"$.a[*].b", NONE, 4, QUERY},
    /* character offsets count code points */
    {"$.\xc3\xa9.0", NONE, 4, NULL},
    {"$[\"\xe6\x97\xa5\xe6\x9c\xac\" x]", NONE, 7, NULL},
    {"$.\xf0\x9f\x98\x80\xf0\x9f\x98\x80 ?", NONE, 5, NULL},
    {"\xe6\x97\xa5\xe6\x9c\xac..", NONE, 3, NULL},
    /* invalid UTF-8, both styles */
    {"$.\xff", NONE, 2, "invalid UTF-8"},
    {"a.\xc3", NONE, 2, NULL},
    {"\xc3\xa9\xc0\x80", NONE, 1, NULL},
    {"\xed\xa0\x80", NONE, 0, NULL},
    {"\xf4\x90\x80\x80", NONE, 0, NULL},
    {"\xe0\x80\xaf", NONE, 0, NULL},
    {"$[\"\x80\"]", NONE, 3, NULL},
    {"a\xe6\x97", NONE, 1, NULL},
    /* dot style */
    {"..", NONE, 1, "empty path segment"},
    {"..a", NONE, 1, NULL},
    {"a..b", NONE, 2, NULL},
    {"a.", NONE, 2, NULL},
    {".a.", NONE, 3, NULL},
    {"a.b..", NONE, 4, NULL},
    /* dot style has no brackets or quotes: a RedisJSON user's `.a[0]` means an index */
    {"a[0]", NONE, 1, "'[' in a dot-style path: indexes need JSONPath, e.g. $.a[0]"},
    {".b[1]", NONE, 2, "'[' in a dot-style path: indexes need JSONPath, e.g. $.b[1]"},
    {".items[0].sku", NONE, 6, "'[' in a dot-style path: indexes need JSONPath, e.g. $.items[0].sku"},
    {"a.b[-1]", NONE, 3, NULL},
    {"a['b']", NONE, 1, NULL},
    {"a]", NONE, 1, "']' in a dot-style path: names with brackets or quotes need JSONPath ($[\"name\"])"},
    {"a.\"b\"", NONE, 2,
     "'\"' in a dot-style path: names with brackets or quotes need JSONPath ($[\"name\"])"},
    {"it's", NONE, 2, NULL},
    {"\xc3\xa9[0]", NONE, 1, NULL},
};

Test(path, invalid_forms) {
    size_t i;

    for (i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        const bad_row *r = &bad_rows[i];
        doc_path *p = (doc_path *)1;
        doc_error err;
        doc_status st;

        doc_error_clear(&err);
        st = doc_path_compile(r->text, row_len(r->text, r->len), 128, &p, &err);
        cr_expect_eq(st, DOC_BADPATH, "row %zu [%s]: status %d", i, r->text, st);
        cr_expect_null(p, "row %zu: out not NULL on failure", i);
        cr_expect_eq(err.code, DOC_BADPATH, "row %zu: err.code %d", i, err.code);
        cr_expect(err.has_offset, "row %zu: no offset", i);
        cr_expect_eq(err.offset, r->offset, "row %zu [%s]: offset %zu, expected %zu (%s)", i, r->text,
                     err.offset, r->offset, err.msg);
        if (r->msg) cr_expect_str_eq(err.msg, r->msg, "row %zu [%s]", i, r->text);
        if (st == DOC_OK) doc_path_free(p);
    }
}

/* Only a leading '$' makes a JSONPath: " $" is the dot-style member " $". */
Test(path, dot_style_dollar) {
    doc_path *p;
    doc_error err;
    char got[64];

    doc_error_clear(&err);
    cr_assert_eq(doc_path_compile(" $", 2, 8, &p, &err), DOC_OK);
    describe(p, got, sizeof got);
    cr_expect_str_eq(got, "n: $");
    doc_path_free(p);
}

/* The first failure wins: a caller's earlier error is kept. */
Test(path, first_error_wins) {
    doc_path *p;
    doc_error err;

    doc_error_clear(&err);
    doc_error_set(&err, DOC_NOPATH, "earlier");
    cr_expect_eq(doc_path_compile("$[", 2, 8, &p, &err), DOC_BADPATH);
    cr_expect_eq(err.code, DOC_NOPATH);
    cr_expect_str_eq(err.msg, "earlier");
}

/* ------------------------------------------------------------------ */
/* Segment limit and allocation                                       */
/* ------------------------------------------------------------------ */

/* A path of n segments: "$[0][0]..." (json) or "a.a.a..." (dot). */
static char *deep_path(size_t n, int json, size_t *len) {
    size_t i, unit = json ? 3 : 2;
    char *s = malloc(n * unit + 2), *w = s;

    cr_assert(s);
    if (json) *w++ = '$';
    for (i = 0; i < n; i++) {
        memcpy(w, json ? "[0]" : "a.", unit);
        w += unit;
    }
    if (!json && n > 0) w--; /* no trailing '.' */
    *len = (size_t)(w - s);
    return s;
}

Test(path, too_many_segments) {
    static const struct {
        size_t nseg;     /* segments in the path */
        size_t max;      /* max_segments */
        doc_status code; /* expected */
    } rows[] = {
        {10000, 128, DOC_TOODEEP},   {10000, 9999, DOC_TOODEEP}, {10000, 10000, DOC_OK},
        {10001, 10000, DOC_TOODEEP}, {1, 0, DOC_TOODEEP},        {129, 128, DOC_TOODEEP},
        {128, 128, DOC_OK},
    };
    size_t i;
    int json;
    char want[80];

    unit_alloc_fail_at((size_t)-1);
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (json = 0; json <= 1; json++) {
            size_t len;
            char *s = deep_path(rows[i].nseg, json, &len);
            doc_path *p;
            doc_error err;
            doc_status st;

            unit_alloc_fail_at((size_t)-1);
            doc_error_clear(&err);
            st = doc_path_compile(s, len, rows[i].max, &p, &err);
            cr_expect_eq(st, rows[i].code, "row %zu json %d: status %d", i, json, st);
            if (st == DOC_OK) {
                cr_expect_eq(p->nseg, rows[i].nseg);
                doc_path_free(p);
            } else {
                snprintf(want, sizeof want, "path has more than %zu segments", rows[i].max);
                cr_expect_str_eq(err.msg, want);
                cr_expect(!err.has_offset);
                cr_expect_null(p);
                cr_expect_eq(unit_alloc_calls(), 0, "row %zu: allocated before refusing", i);
            }
            cr_expect_eq(unit_alloc_live(), 0, "row %zu json %d: leak", i, json);
            free(s);
        }
    }
    /* The root has no segments, so any limit takes it. */
    {
        doc_path *p;
        doc_error err;

        doc_error_clear(&err);
        cr_expect_eq(doc_path_compile("$", 1, 0, &p, &err), DOC_OK);
        doc_path_free(p);
        cr_expect_eq(doc_path_compile(".", 1, 0, &p, &err), DOC_OK);
        doc_path_free(p);
    }
}

/* Every allocation failing in turn: NOMEM, out NULL, nothing leaked; then OK. */
Test(path, allocation_failure) {
    static const char *paths[] = {"$", ".", "$.a[0]['b\\u0000']", "a.0.b", "$[\"\"]"};
    size_t i, k;

    unit_alloc_fail_at((size_t)-1);
    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        for (k = 0;; k++) {
            doc_path *p = (doc_path *)1;
            doc_error err;
            doc_status st;

            unit_alloc_fail_at(k);
            doc_error_clear(&err);
            st = doc_path_compile(paths[i], strlen(paths[i]), 16, &p, &err);
            if (st == DOC_OK) {
                cr_expect_eq(unit_alloc_calls(), k, "[%s]: failure %zu not reported", paths[i], k);
                doc_path_free(p);
                cr_expect_eq(unit_alloc_live(), 0);
                break;
            }
            cr_expect_eq(st, DOC_NOMEM, "[%s] fail_at %zu: status %d", paths[i], k, st);
            cr_expect_eq(err.code, DOC_NOMEM);
            cr_expect_null(p);
            cr_expect_eq(unit_alloc_live(), 0, "[%s] fail_at %zu: leak", paths[i], k);
            cr_assert_lt(k, 10);
        }
    }
    unit_alloc_plain();
}

/* doc_path_free takes NULL, and paths built by hand (separate blocks). */
Test(path, free_null_and_hand_built) {
    doc_path *p = doc_malloc(sizeof *p);

    doc_path_free(NULL);
    cr_assert(p);
    p->nseg = 1;
    p->refs = 0;
    p->segs = doc_malloc(sizeof(doc_seg));
    p->text = doc_malloc(1);
    cr_assert(p->segs && p->text);
    p->text[0] = 'x';
    p->segs[0].kind = DOC_SEG_NAME;
    p->segs[0].name = p->text;
    p->segs[0].len = 1;
    p->segs[0].index = 0;
    doc_path_free(p);
}

/* ------------------------------------------------------------------ */
/* Printing                                                           */
/* ------------------------------------------------------------------ */

typedef struct print_row {
    const char *text;    /* compiled first */
    size_t len;          /* its length, or NONE for strlen */
    const char *printed; /* canonical form */
} print_row;

static const print_row print_rows[] = {
    {"$", NONE, "$"},
    {".", NONE, "$"},
    {"$.a", NONE, "$[\"a\"]"},
    {"$['a'][0][-1]", NONE, "$[\"a\"][0][-1]"},
    {"a.0.b", NONE, "$[\"a\"][0][\"b\"]"},
    {"a.01", NONE, "$[\"a\"][\"01\"]"},
    {"$ [ 'x' ] . y", NONE, NULL}, /* not valid: '.' then blank */
    {"$ [ 'x' ] .y", NONE, "$[\"x\"][\"y\"]"},
    {"$[\"\\u0000\\u001f\\\"\\\\\\b\\f\\n\\r\\t\"]", NONE, "$[\"\\u0000\\u001f\\\"\\\\\\b\\f\\n\\r\\t\"]"},
    {"$[\"\\u0001\\u000b\\u001e\"]", NONE, "$[\"\\u0001\\u000b\\u001e\"]"},
    {"$['\\'\\/']", NONE, "$[\"'/\"]"},
    {"$[\"\\u00e9\\uD83D\\uDE00\x7f\"]", NONE, "$[\"\xc3\xa9\xf0\x9f\x98\x80\x7f\"]"},
    {"a\0b.c", 5, "$[\"a\\u0000b\"][\"c\"]"},
    {"$[-9007199254740991]", NONE, "$[-9007199254740991]"},
    {"9007199254740991", NONE, "$[9007199254740991]"},
    {"$[\"a[\\\"q\\\"]\"]", NONE, "$[\"a[\\\"q\\\"]\"]"},
    {"a[\"q\"]", NONE, NULL}, /* dot style: BADPATH, brackets need JSONPath */
};

Test(path, print_canonical) {
    size_t i;

    for (i = 0; i < sizeof print_rows / sizeof print_rows[0]; i++) {
        const print_row *r = &print_rows[i];
        doc_path *p;
        doc_error err;
        doc_status st;
        char *got;

        doc_error_clear(&err);
        st = doc_path_compile(r->text, row_len(r->text, r->len), 128, &p, &err);
        if (!r->printed) {
            cr_expect_eq(st, DOC_BADPATH, "row %zu", i);
            continue;
        }
        cr_assert_eq(st, DOC_OK, "row %zu [%s]: %s", i, r->text, err.msg);
        got = print_all(p);
        cr_expect_str_eq(got, r->printed, "row %zu", i);
        free(got);
        doc_path_free(p);
    }
}

Test(path, print_prefix_and_append) {
    doc_path *p;
    doc_error err;
    doc_buf b;

    doc_error_clear(&err);
    cr_assert_eq(doc_path_compile("$.a[1].b", 8, 8, &p, &err), DOC_OK);
    doc_buf_init(&b);
    doc_buf_append(&b, "at ", 3);
    doc_path_print(p, 0, &b);
    doc_buf_putc(&b, ' ');
    doc_path_print(p, 2, &b);
    doc_buf_putc(&b, ' ');
    doc_path_print(p, 99, &b); /* more than nseg: the whole path */
    cr_expect_str_eq(doc_buf_cstr(&b), "at $ $[\"a\"][1] $[\"a\"][1][\"b\"]");
    doc_buf_free(&b);
    doc_path_free(p);
}

/* compile -> print -> compile gives the same segments (DOTNUM as INDEX), and
 * printing again gives the same bytes; over every valid table row. */
Test(path, round_trip) {
    size_t i, j;

    for (i = 0; i < sizeof ok_rows / sizeof ok_rows[0]; i++) {
        const ok_row *r = &ok_rows[i];
        doc_path *p, *q;
        doc_error err;
        char *once, *twice;

        doc_error_clear(&err);
        cr_assert_eq(doc_path_compile(r->text, row_len(r->text, r->len), 128, &p, &err), DOC_OK);
        once = print_all(p);
        cr_assert_eq(doc_path_compile(once, strlen(once), 128, &q, &err), DOC_OK,
                     "row %zu: [%s] printed as [%s] does not compile: %s at %zu", i, r->text, once, err.msg,
                     err.offset);
        cr_expect_eq(q->nseg, p->nseg, "row %zu", i);
        for (j = 0; j < p->nseg && j < q->nseg; j++)
            cr_expect(seg_round_equal(&p->segs[j], &q->segs[j]), "row %zu seg %zu", i, j);
        twice = print_all(q);
        cr_expect_str_eq(twice, once, "row %zu", i);
        free(once);
        free(twice);
        doc_path_free(p);
        doc_path_free(q);
    }
}
