/*
 * test_query.c - doc_query_*: the whole JSONPath Compliance Test Suite
 * (RFC 9535), normalized paths, error offsets, nesting limits, singular
 * queries, I-Regexp details, early stop, a 10,000-deep document and
 * allocation failure at every step.
 *
 * The suite is cts.json, found at $ATOMICDOC_SHARED/conformance/jsonpath-cts/
 * or at shared/conformance/jsonpath-cts/ in the current directory or an
 * ancestor of it (the tests run from the project root, next to shared/). It
 * is parsed with doc_parse and walked with the read API. Each case is either
 * `invalid_selector` (compiling must fail with BADPATH) or has `result` /
 * `results` (several acceptable orders) with matching `result_paths` /
 * `results_paths`: the matches, printed with doc_print and parsed back as
 * one array, must deep-equal one alternative, and their normalized paths
 * must be that alternative's paths, in order. Every failure is collected and
 * reported in one assertion.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "unit_doc.h"
#include "unit_alloc.h"
#include "../test_util.h"
#include "iregexp.h"

#define CTS_SUBDIR "conformance/jsonpath-cts/cts.json"
/* Names of failing cases quoted in the assertion message. */
#define REPORT_MAX 30

/* Cases the implementation knowingly does not pass, with the reason. Empty:
 * every case passes, \p{..} classes included. */
static const struct {
    const char *name;   /* the case's "name" */
    const char *reason; /* why it is skipped */
} cts_skip[] = {
    {NULL, NULL},
};

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* The whole file, malloc'd, or NULL. */
static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t cap = 0, n = 0, got;

    if (!f) return NULL;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            nb = realloc(buf, cap);
            cr_assert(nb);
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        if (got == 0) break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

static doc_node *parse_text(const char *text) {
    doc_error err;
    doc_node *box;

    doc_error_clear(&err);
    box = doc_parse(text, strlen(text), DOC_DEPTH_LIMIT, &err);
    cr_assert(box, "cannot parse %s: %s", text, err.msg);
    return box;
}

/* Member `key` of the object value v, or NULL. */
static const uint8_t *member(const uint8_t *v, const char *key) {
    doc_view view;

    doc_value_decode(v, &view);
    if (view.type != DOC_OBJECT) return NULL;
    return doc_object_get(view.node, key, strlen(key), NULL, NULL);
}

/* A NUL-terminated malloc'd copy of the string value v ("" if not a string). */
static char *string_of(const uint8_t *v) {
    doc_view view;
    char *s;

    doc_value_decode(v, &view);
    if (view.type != DOC_STRING) view.slen = 0;
    s = malloc(view.slen + 1);
    cr_assert(s);
    if (view.slen) memcpy(s, view.s, view.slen);
    s[view.slen] = '\0';
    return s;
}

/* What one evaluation found: the matches as a JSON array text, and their
 * normalized paths as a JSON array of strings. */
typedef struct found {
    doc_buf values; /* "[v1,v2,...]" once closed */
    doc_buf paths;  /* "[\"$...\",...]" once closed (paths are plain JSON strings) */
    size_t n;       /* matches */
    size_t stop_at; /* stop after this many matches (0: never) */
} found;

static void put_json_string(doc_buf *b, const char *s) {
    doc_node *box = doc_box_string(s, strlen(s));

    cr_assert(box);
    doc_print(doc_box_value(box), b);
    doc_node_free(box);
}

static int collect(void *ctx, const uint8_t *value, const char *norm) {
    found *f = ctx;

    if (f->n++) {
        doc_buf_putc(&f->values, ',');
        if (norm) doc_buf_putc(&f->paths, ',');
    }
    doc_print(value, &f->values);
    if (norm) put_json_string(&f->paths, norm);
    return f->stop_at && f->n >= f->stop_at;
}

static void found_init(found *f) {
    memset(f, 0, sizeof *f);
    doc_buf_init(&f->values);
    doc_buf_init(&f->paths);
    doc_buf_putc(&f->values, '[');
    doc_buf_putc(&f->paths, '[');
}

static void found_close(found *f) {
    doc_buf_putc(&f->values, ']');
    doc_buf_putc(&f->paths, ']');
    doc_buf_cstr(&f->values);
    doc_buf_cstr(&f->paths);
    cr_assert(!f->values.oom && !f->paths.oom);
}

static void found_free(found *f) {
    doc_buf_free(&f->values);
    doc_buf_free(&f->paths);
}

/* Compiles and runs q on the JSON text doc; fills f (closed). */
static void run_query(const char *q, const char *doc, found *f) {
    doc_query *cq = NULL;
    doc_node *box = parse_text(doc);
    doc_error err;
    doc_status st;

    doc_error_clear(&err);
    st = doc_query_compile(q, strlen(q), DOC_DEPTH_DEFAULT, &cq, &err);
    cr_assert_eq(st, DOC_OK, "%s: %s at %zu", q, err.msg, err.offset);
    found_init(f);
    st = doc_query_eval(cq, doc_box_value(box), collect, f, 1, &err);
    cr_assert_eq(st, DOC_OK, "%s: eval %s", q, err.msg);
    found_close(f);
    doc_query_free(cq);
    doc_node_free(box);
}

/* ------------------------------------------------------------------ */
/* The compliance suite                                               */
/* ------------------------------------------------------------------ */

/* Whether the JSON text `text` deep-equals the value `want`. */
static int text_equals(const char *text, const uint8_t *want) {
    doc_error err;
    doc_node *box;
    int eq;

    doc_error_clear(&err);
    box = doc_parse(text, strlen(text), DOC_DEPTH_LIMIT, &err);
    if (!box) return 0;
    eq = doc_value_equal(doc_box_value(box), want);
    doc_node_free(box);
    return eq;
}

/* Whether the matches fit `result` (+ `result_paths`) or one of `results`
 * (+ `results_paths`) of the case. */
static int case_matches(const uint8_t *tc, const found *f) {
    const uint8_t *one = member(tc, "result"), *many = member(tc, "results");
    const uint8_t *paths = member(tc, "result_paths"), *mpaths = member(tc, "results_paths");
    const uint8_t *alt, *alt_paths;
    doc_view va, vp;
    uint32_t i;

    if (one) return text_equals(f->values.data, one) && (!paths || text_equals(f->paths.data, paths));
    if (!many) return 0;
    doc_value_decode(many, &va);
    if (mpaths) doc_value_decode(mpaths, &vp);
    for (i = 0; i < doc_node_count(va.node); i++) {
        alt = doc_array_get(va.node, i, NULL);
        alt_paths = mpaths ? doc_array_get(vp.node, i, NULL) : NULL;
        if (text_equals(f->values.data, alt) && (!alt_paths || text_equals(f->paths.data, alt_paths)))
            return 1;
    }
    return 0;
}

static const char *skip_reason(const char *name) {
    size_t i;

    for (i = 0; i < sizeof cts_skip / sizeof cts_skip[0]; i++)
        if (cts_skip[i].name && !strcmp(cts_skip[i].name, name)) return cts_skip[i].reason;
    return NULL;
}

/* Runs one case; on failure appends "name: why" to report and returns 0. */
static int run_case(const uint8_t *tc, doc_buf *why) {
    const uint8_t *sel_v = member(tc, "selector"), *inv = member(tc, "invalid_selector");
    const uint8_t *doc_v = member(tc, "document");
    char *sel = string_of(sel_v);
    doc_view vsel, vinv;
    doc_query *q = NULL;
    doc_error err;
    doc_status st;
    found f;
    int ok = 1;

    doc_value_decode(sel_v, &vsel);
    doc_error_clear(&err);
    st = doc_query_compile(vsel.s, vsel.slen, DOC_DEPTH_DEFAULT, &q, &err);
    if (inv && (doc_value_decode(inv, &vinv), vinv.type == DOC_BOOL && vinv.b)) {
        if (st != DOC_BADPATH || q || !err.has_offset || err.offset > vsel.slen) {
            doc_buf_append(why, "accepted an invalid selector", 28);
            ok = 0;
        }
        doc_query_free(q);
        free(sel);
        return ok;
    }
    if (st != DOC_OK) {
        char m[300];

        snprintf(m, sizeof m, "refused: %s at %zu", err.msg, err.offset);
        doc_buf_append(why, m, strlen(m));
        free(sel);
        return 0;
    }
    found_init(&f);
    st = doc_query_eval(q, doc_v, collect, &f, 1, &err);
    found_close(&f);
    if (st != DOC_OK || !case_matches(tc, &f)) {
        doc_buf_append(why, "got ", 4);
        doc_buf_append(why, f.values.data, f.values.len > 200 ? 200 : f.values.len);
        doc_buf_append(why, " at ", 4);
        doc_buf_append(why, f.paths.data, f.paths.len > 200 ? 200 : f.paths.len);
        ok = 0;
    }
    found_free(&f);
    doc_query_free(q);
    free(sel);
    return ok;
}

Test(query, compliance_suite_passes_every_case) {
    char path[PATH_MAX];
    size_t len, i, n, passed = 0, failed = 0, skipped = 0;
    char *text;
    doc_node *cts;
    doc_error err;
    const uint8_t *tests, *tc;
    doc_view vt;
    doc_buf report, why;

    cr_assert(test_find_shared(CTS_SUBDIR, 0, path, sizeof path),
              "cannot find $ATOMICDOC_SHARED/" CTS_SUBDIR " or shared/" CTS_SUBDIR " above the cwd");
    text = read_all(path, &len);
    cr_assert(text, "cannot read %s", path);
    doc_error_clear(&err);
    cts = doc_parse(text, len, DOC_DEPTH_LIMIT, &err);
    cr_assert(cts, "cannot parse %s: %s at %zu", path, err.msg, err.offset);
    tests = member(doc_box_value(cts), "tests");
    cr_assert(tests);
    doc_value_decode(tests, &vt);
    cr_assert_eq(vt.type, DOC_ARRAY);
    n = doc_node_count(vt.node);
    cr_assert_gt(n, 700, "the suite has %zu cases", n);
    doc_buf_init(&report);
    for (i = 0; i < n; i++) {
        char *name;

        tc = doc_array_get(vt.node, (uint32_t)i, NULL);
        name = string_of(member(tc, "name"));
        if (skip_reason(name)) {
            skipped++;
            free(name);
            continue;
        }
        doc_buf_init(&why);
        if (run_case(tc, &why)) {
            passed++;
        } else {
            if (failed++ < REPORT_MAX) {
                doc_buf_append(&report, "\n  ", 3);
                doc_buf_append(&report, name, strlen(name));
                doc_buf_append(&report, ": ", 2);
                doc_buf_append(&report, why.data, why.len);
            }
        }
        doc_buf_free(&why);
        free(name);
    }
    doc_buf_cstr(&report);
    cr_assert_eq(failed, 0, "%zu of %zu CTS cases failed (%zu passed, %zu skipped):%s", failed, n, passed,
                 skipped, report.data);
    cr_assert_eq(passed + skipped, n);
    cr_log_info("CTS: %zu of %zu cases passed, %zu skipped", passed, n, skipped);
    doc_buf_free(&report);
    doc_node_free(cts);
    free(text);
}

/* ------------------------------------------------------------------ */
/* Normalized paths                                                   */
/* ------------------------------------------------------------------ */

typedef struct norm_row {
    const char *doc;   /* JSON document */
    const char *query; /* the query */
    const char *paths; /* expected normalized paths, as a JSON array */
} norm_row;

static const norm_row norm_rows[] = {
    {"1", "$", "[\"$\"]"},
    {"{\"a\":[10,20,30]}", "$.a[-1]", "[\"$['a'][2]\"]"},
    {"{\"a\":[10,20,30]}", "$.a[::-2]", "[\"$['a'][2]\",\"$['a'][0]\"]"},
    {"{\"a\":{\"b\":1},\"c\":[2]}", "$..*", "[\"$['a']\",\"$['c']\",\"$['a']['b']\",\"$['c'][0]\"]"},
    /* ' and \ are escaped; other printable bytes, DEL and UTF-8 are not */
    {"{\"it's\":1,\"a\\\\b\":2,\"\\u007f\":3,\"\\u00e9\\u4e2d\":4}", "$.*",
     "[\"$['it\\\\'s']\",\"$['a\\\\\\\\b']\",\"$['\\u007f']\",\"$['\\u00e9\\u4e2d']\"]"},
    /* control characters: the five short escapes, the rest \u00xx lowercase */
    {"{\"\\b\\f\\n\\r\\t\":1,\"\\u0000\\u0001\\u000b\\u001f\":2}", "$.*",
     "[\"$['\\\\b\\\\f\\\\n\\\\r\\\\t']\",\"$['\\\\u0000\\\\u0001\\\\u000b\\\\u001f']\"]"},
    {"{\"\":{\"\":0}}", "$..*", "[\"$['']\",\"$['']['']\"]"},
    {"[[1,[2]]]", "$..[?@ == 2]", "[\"$[0][1][0]\"]"},
};

Test(query, normalized_paths_follow_rfc9535_section_2_7) {
    size_t i;
    found f;

    for (i = 0; i < sizeof norm_rows / sizeof norm_rows[0]; i++) {
        const norm_row *r = &norm_rows[i];
        doc_node *want = parse_text(r->paths);

        run_query(r->query, r->doc, &f);
        cr_assert(text_equals(f.paths.data, doc_box_value(want)), "%s on %s: paths %s, want %s", r->query,
                  r->doc, f.paths.data, r->paths);
        doc_node_free(want);
        found_free(&f);
    }
}

/* ------------------------------------------------------------------ */
/* Errors and limits                                                  */
/* ------------------------------------------------------------------ */

typedef struct err_row {
    const char *query; /* the query */
    doc_status code;   /* expected status */
    size_t offset;     /* expected character offset (BADPATH) */
} err_row;

static const err_row err_rows[] = {
    {"", DOC_BADPATH, 0},
    {" $", DOC_BADPATH, 0},
    {"$ ", DOC_BADPATH, 1}, /* blank space must lead to a segment */
    {"$.a b", DOC_BADPATH, 3},
    {"$. a", DOC_BADPATH, 2},
    {"$['a'", DOC_BADPATH, 5},
    {"$['\xc3\xa9',x]", DOC_BADPATH, 6}, /* offsets count characters, not bytes */
    {"$['a\\'b']", DOC_OK, 0},
    {"$[\"a\\'b\"]", DOC_BADPATH, 4}, /* \' only inside '...' */
    {"$['\\uD800']", DOC_BADPATH, 3}, /* lone surrogate */
    {"$['\\uD83D\\uDE00']", DOC_OK, 0},
    {"$['\x01']", DOC_BADPATH, 3}, /* control characters must be escaped */
    {"$[01]", DOC_BADPATH, 2},
    {"$[-0]", DOC_BADPATH, 2},
    {"$[9007199254740991]", DOC_OK, 0},
    {"$[9007199254740992]", DOC_BADPATH, 2},
    {"$[1:2:-9007199254740992]", DOC_BADPATH, 6},
    {"$..", DOC_BADPATH, 3},
    {"$...a", DOC_BADPATH, 3},
    {"$[?@.a==]", DOC_BADPATH, 8},
    {"$[?(@.a]", DOC_BADPATH, 7},
    {"$[?1]", DOC_BADPATH, 3},         /* a literal is not a test */
    {"$[?@.* == 1]", DOC_BADPATH, 3},  /* non-singular query compared */
    {"$[?length(@)]", DOC_BADPATH, 3}, /* ValueType used as a test */
    {"$[?match(@, 'a') == true]", DOC_BADPATH, 3},
    {"$[?count(@.a, 1) > 0]", DOC_BADPATH, 3},
    {"$[?count(1) == 1]", DOC_BADPATH, 9},
    {"$[?length(@.*) == 1]", DOC_BADPATH, 10},
    {"$[?nosuch(@)]", DOC_BADPATH, 3},
    {"$[?!@.a == 1]", DOC_BADPATH, 8},
    {"$[?@.a == 1e999]", DOC_BADPATH, 10},
    {"$[?@.a == True]", DOC_BADPATH, 10},
    {"$['a'\xff]", DOC_BADPATH, 5},   /* invalid UTF-8 */
    {"$[?match(@, '(')]", DOC_OK, 0}, /* a bad pattern is false, not an error */
};

Test(query, errors_give_badpath_with_character_offset) {
    size_t i;

    for (i = 0; i < sizeof err_rows / sizeof err_rows[0]; i++) {
        const err_row *r = &err_rows[i];
        doc_query *q = (doc_query *)&q;
        doc_error err;
        doc_status st;

        doc_error_clear(&err);
        st = doc_query_compile(r->query, strlen(r->query), DOC_DEPTH_DEFAULT, &q, &err);
        cr_expect_eq(st, r->code, "%s: status %s (%s)", r->query, doc_status_word(st), err.msg);
        if (st == DOC_OK) {
            doc_query_free(q);
            continue;
        }
        cr_expect_null(q, "%s: out not NULL on failure", r->query);
        cr_expect(err.has_offset, "%s: no offset", r->query);
        cr_expect_eq(err.offset, r->offset, "%s: offset %zu, want %zu (%s)", r->query, err.offset, r->offset,
                     err.msg);
        cr_expect(err.msg[0] != '\0' && !strchr(err.msg, '\n'));
    }
}

/* "$[?" + n parentheses around @.a + "]": n + 1 nesting levels. */
static char *nested_parens(size_t n) {
    char *s = malloc(2 * n + 8), *w = s;

    cr_assert(s);
    w += sprintf(w, "$[?");
    memset(w, '(', n), w += n;
    w += sprintf(w, "@.a");
    memset(w, ')', n), w += n;
    strcpy(w, "]");
    return s;
}

Test(query, nesting_deeper_than_max_depth_is_toodeep) {
    static const struct {
        size_t parens;   /* parentheses: nesting is parens + 1 */
        uint32_t max;    /* max_depth */
        doc_status code; /* expected */
    } rows[] = {
        {127, 128, DOC_OK},        {128, 128, DOC_TOODEEP},      {0, 1, DOC_OK},
        {0, 0, DOC_TOODEEP},       {511, 10000, DOC_OK}, /* QUERY_NEST_MAX caps max_depth at 512 */
        {512, 10000, DOC_TOODEEP}, {100000, 10000, DOC_TOODEEP},
    };
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *s = nested_parens(rows[i].parens);
        doc_query *q = NULL;
        doc_error err;
        doc_status st;

        doc_error_clear(&err);
        st = doc_query_compile(s, strlen(s), rows[i].max, &q, &err);
        cr_expect_eq(st, rows[i].code, "row %zu: %s (%s)", i, doc_status_word(st), err.msg);
        if (st == DOC_OK) {
            doc_node *d = parse_text("[{\"a\":1},{\"b\":2}]");
            found f;

            found_init(&f);
            cr_expect_eq(doc_query_eval(q, doc_box_value(d), collect, &f, 1, &err), DOC_OK);
            found_close(&f);
            cr_expect_str_eq(f.values.data, "[{\"a\":1}]");
            found_free(&f);
            doc_node_free(d);
        }
        doc_query_free(q);
        free(s);
    }
    /* The root has no nesting, so any limit takes it. */
    {
        doc_query *q = NULL;
        doc_error err;

        doc_error_clear(&err);
        cr_expect_eq(doc_query_compile("$.a[0]", 6, 0, &q, &err), DOC_OK);
        doc_query_free(q);
    }
}

Test(query, single_paths_are_names_and_indexes_only) {
    static const struct {
        const char *query; /* the query */
        int single;        /* expected doc_query_is_single */
    } rows[] = {
        {"$", 1},      {"$.a", 1},    {"$['a'][0][-1].b", 1}, {"$ [0] .a", 1},   {"$.*", 0},    {"$..a", 0},
        {"$[0,1]", 0}, {"$[0:1]", 0}, {"$[?@]", 0},           {"$['a','b']", 0}, {"$.a[*]", 0},
    };
    size_t i;

    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_query *q = NULL;
        doc_error err;

        doc_error_clear(&err);
        cr_assert_eq(doc_query_compile(rows[i].query, strlen(rows[i].query), 16, &q, &err), DOC_OK, "%s: %s",
                     rows[i].query, err.msg);
        cr_expect_eq(doc_query_is_single(q), rows[i].single, "%s", rows[i].query);
        doc_query_free(q);
    }
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                         */
/* ------------------------------------------------------------------ */

typedef struct eval_row {
    const char *doc;   /* JSON document */
    const char *query; /* the query */
    const char *want;  /* expected matches, as JSON text (compared exactly) */
} eval_row;

static const eval_row eval_rows[] = {
    /* descendants: each node before its descendants, children in order */
    {"[[1,[2]],[3]]", "$..[0]", "[[1,[2]],1,2,3]"},
    {"{\"a\":{\"a\":{\"a\":1}}}", "$..a", "[{\"a\":{\"a\":1}},{\"a\":1},1]"},
    /* slices with RFC normalization */
    {"[0,1,2,3,4,5]", "$[1:5:2]", "[1,3]"},
    {"[0,1,2,3,4,5]", "$[5:1:-2]", "[5,3]"},
    {"[0,1,2,3,4,5]", "$[::-1]", "[5,4,3,2,1,0]"},
    {"[0,1,2,3,4,5]", "$[-2:]", "[4,5]"},
    {"[0,1,2,3,4,5]", "$[-100:100:4]", "[0,4]"},
    {"[0,1,2,3,4,5]", "$[::0]", "[]"},
    /* numbers compare by value across int and double */
    {"[1,1.0,2,1e0,\"1\"]", "$[?@ == 1]", "[1,1.0,1.0]"},
    {"[9007199254740993,9007199254740992.0]", "$[?@ > 9007199254740992]", "[9007199254740993]"},
    {"[\"a\",\"b\",\"\xc3\xa9\",\"ab\"]", "$[?@ < 'b']", "[\"a\",\"ab\"]"},
    /* Nothing == Nothing; deep equality of containers */
    {"[{\"a\":1},{\"b\":1}]", "$[?@.x == @.y]", "[{\"a\":1},{\"b\":1}]"},
    {"[{\"a\":[1,{\"b\":2}],\"c\":[1,{\"b\":2.0}]}]", "$[?@.a == @.c]",
     "[{\"a\":[1,{\"b\":2}],\"c\":[1,{\"b\":2.0}]}]"},
    /* functions */
    {"[\"\xc3\xa9t\xc3\xa9\",[1,2],{\"a\":1},5]", "$[?length(@) == 3]", "[\"\xc3\xa9t\xc3\xa9\"]"},
    {"[[1,2],[1],[]]", "$[?count(@.*) >= 1]", "[[1,2],[1]]"},
    {"[[1],[1,2],[]]", "$[?value(@.*) == 1]", "[[1]]"},
    {"{\"re\":\"b+\",\"v\":[\"abb\",\"bb\"]}", "$.v[?match(@, $.re)]", "[\"bb\"]"},
    {"{\"re\":\"b+\",\"v\":[\"abb\",\"bb\"]}", "$.v[?search(@, $.re)]", "[\"abb\",\"bb\"]"},
    {"[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac\"]", "$[?match(@, '(a*)*b')]",
     "[]"},
    {"[\"ab\"]", "$[?match(@, '(')]", "[]"},
    /* a long && chain is one flat node */
    {"[{\"a\":1}]", "$[?@.a==1&&@.a==1&&@.a==1&&@.a==1&&@.a==1&&@.a==1&&@.a==1&&@.a==1]", "[{\"a\":1}]"},
};

Test(query, evaluation_follows_rfc9535_semantics) {
    size_t i;
    found f;

    for (i = 0; i < sizeof eval_rows / sizeof eval_rows[0]; i++) {
        const eval_row *r = &eval_rows[i];

        run_query(r->query, r->doc, &f);
        cr_expect_str_eq(f.values.data, r->want, "%s on %s", r->query, r->doc);
        found_free(&f);
    }
}

Test(query, callback_stops_the_evaluation) {
    doc_node *d = parse_text("{\"a\":[1,2,3],\"b\":{\"c\":[4,5]}}");
    doc_query *q = NULL;
    doc_error err;
    found f;

    doc_error_clear(&err);
    cr_assert_eq(doc_query_compile("$..*", 4, 16, &q, &err), DOC_OK);
    found_init(&f);
    f.stop_at = 2;
    cr_assert_eq(doc_query_eval(q, doc_box_value(d), collect, &f, 0, &err), DOC_OK);
    found_close(&f);
    cr_expect_eq(f.n, 2);
    cr_expect_str_eq(f.values.data, "[[1,2,3],{\"c\":[4,5]}]");
    cr_expect_str_eq(f.paths.data, "[]", "norm given though not asked for");
    found_free(&f);
    doc_query_free(q);
    doc_node_free(d);
}

/* Runs q on d counting matches: the status, *n the matches before it. */
static doc_status count_matches(const char *q, doc_node *d, size_t *n, doc_error *err) {
    doc_query *cq = NULL;
    found f;
    doc_error_clear(err);
    cr_assert_eq(doc_query_compile(q, strlen(q), DOC_DEPTH_DEFAULT, &cq, err), DOC_OK, "%s", q);
    found_init(&f);
    doc_status st = doc_query_eval(cq, doc_box_value(d), collect, &f, 0, err);
    *n = f.n;
    found_free(&f);
    doc_query_free(cq);
    return st;
}

/* A nodelist keeps duplicates, so '..' after '..' multiplies: on 100 nested arrays
 * `$..*..*..*..*..*` is ~80 million nodes (2.5 GB printed). A query may take 16
 * steps per value of the document and at least 100,000: past that, TOOBIG. */
Test(query, repeated_descendants_past_the_step_budget_are_toobig) {
    doc_buf t;
    doc_buf_init(&t);
    for (int i = 0; i < 100; i++) doc_buf_putc(&t, '[');
    doc_buf_putc(&t, '1');
    for (int i = 0; i < 100; i++) doc_buf_putc(&t, ']');
    doc_node *deep = parse_text(doc_buf_cstr(&t));
    doc_error err;
    size_t n;
    cr_assert_eq(count_matches("$..*", deep, &n, &err), DOC_OK);
    cr_assert_eq(n, 100);
    cr_assert_eq(count_matches("$..*..*", deep, &n, &err), DOC_OK);
    cr_assert_eq(n, 100 * 99 / 2);
    cr_assert_eq(count_matches("$..*..*..*..*..*", deep, &n, &err), DOC_TOOBIG);
    cr_assert(strstr(err.msg, "more than 100000 steps"), "%s", err.msg);
    cr_assert_lt(n, 100000, "stopped within the budget");
    /* the same inside a filter (count() walks on the same budget) */
    cr_assert_eq(count_matches("$[?count(@..*..*..*..*..*) > 0]", deep, &n, &err), DOC_TOOBIG);

    /* a large document: 16 steps per value (300,001 values) */
    doc_buf_free(&t);
    doc_node *wide = parse_text(array_text(&t, 100000, "{\"b\":[%d]}"));
    cr_assert_eq(count_matches("$..b", wide, &n, &err), DOC_OK);
    cr_assert_eq(n, 100000);
    cr_assert_eq(count_matches("$..*..*", wide, &n, &err), DOC_OK, "%s", err.msg);
    cr_assert_eq(n, 300000);
    cr_assert_eq(count_matches("$..*..*..*..*..*..*..*..*..*..*..*..*", wide, &n, &err), DOC_OK, "%s",
                 err.msg);
    doc_node_free(wide);
    doc_node_free(deep);
    doc_buf_free(&t);
}

/* ------------------------------------------------------------------ */
/* I-Regexp                                                           */
/* ------------------------------------------------------------------ */

typedef struct re_row {
    const char *pattern; /* I-Regexp */
    const char *text;    /* subject */
    int valid;           /* 1: compiles */
    int full;            /* expected match() (whole text) */
    int part;            /* expected search() (some substring) */
} re_row;

static const re_row re_rows[] = {
    {"a.c", "abc", 1, 1, 1},
    {"a.c", "a\nc", 1, 0, 0}, /* '.' excludes \n and \r */
    {"a.c", "a\rc", 1, 0, 0},
    {".", "\xe2\x80\xa8", 1, 1, 1},     /* ... but not U+2028 */
    {".", "\xf0\x9f\x98\x80", 1, 1, 1}, /* one code point, four bytes */
    {"[a-c]+", "abcabc", 1, 1, 1},
    {"[^a-c]", "d", 1, 1, 1},
    {"[^a-c]", "b", 1, 0, 0},
    {"(ab|cd){2}", "abcd", 1, 1, 1},
    {"(ab|cd){2}", "ab", 1, 0, 0},
    {"a{2,3}", "aaaa", 1, 0, 1},
    {"a{2,}", "aaaaa", 1, 1, 1},
    {"a{2,}", "a", 1, 0, 0},
    {"a{0}", "", 1, 1, 1},
    {"x*", "", 1, 1, 1},
    {"a|", "", 1, 1, 1},
    {"a|b|c", "c", 1, 1, 1},
    {"\\p{L}\\p{Nd}",
     "\xc3\xa9"
     "5",
     1, 1, 1},
    {"\\P{L}", "5", 1, 1, 1},
    {"\\P{L}", "a", 1, 0, 0},
    {"[\\p{Lu}0-9]+", "AB12", 1, 1, 1},
    {"[\\P{Lu}]", "A", 1, 0, 0},
    {"\\p{Zs}", "\xe3\x80\x80", 1, 1, 1},     /* U+3000 ideographic space */
    {"\\p{Cn}", "\xf4\x8f\xbf\xbf", 1, 1, 1}, /* U+10FFFF, unassigned */
    {"[a-]", "-", 1, 1, 1},
    {"[-a]", "-", 1, 1, 1},
    {"[\\]]", "]", 1, 1, 1},
    {"\\.", ".", 1, 1, 1},
    {"\\.", "a", 1, 0, 0},
    {"\\n\\t", "\n\t", 1, 1, 1},
    {"^ab", "xab", 1, 0, 0}, /* anchors, as the CTS expects */
    {"ab$", "xab", 1, 0, 1},
    {"ab$", "abx", 1, 0, 0},
    {"(a*)*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", 1, 0, 0},
    {"(a|aa)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 1, 0, 0},
    /* not I-Regexp, or past the limits */
    {"(", "", 0, 0, 0},
    {"a)", "", 0, 0, 0},
    {"a**", "", 0, 0, 0},
    {"*", "", 0, 0, 0},
    {"[]", "", 0, 0, 0},
    {"[^]", "", 0, 0, 0},
    {"[z-a]", "", 0, 0, 0},
    {"[a-c-e]", "", 0, 0, 0},
    {"[[]", "", 0, 0, 0},
    {"\\d", "", 0, 0, 0},
    {"\\p{Xx}", "", 0, 0, 0},
    {"\\p{IsBasicLatin}", "", 0, 0, 0},
    {"a{2,1}", "", 0, 0, 0},
    {"a{,2}", "", 0, 0, 0},
    {"{", "", 0, 0, 0},
    {"(a{1000}){1000}", "", 0, 0, 0},
    {"a{99999999999}", "", 0, 0, 0},
};

Test(query, iregexp_matches_rfc9485_patterns) {
    size_t i;

    for (i = 0; i < sizeof re_rows / sizeof re_rows[0]; i++) {
        const re_row *r = &re_rows[i];
        doc_iregexp *re = (doc_iregexp *)&re;
        doc_iregexp_status st = doc_iregexp_compile(r->pattern, strlen(r->pattern), &re);

        cr_expect_eq(st == DOC_IREGEXP_OK, r->valid, "/%s/: status %d", r->pattern, st);
        if (st != DOC_IREGEXP_OK) {
            cr_expect_null(re);
            continue;
        }
        cr_expect_eq(doc_iregexp_exec(re, r->text, strlen(r->text), 1), r->full, "/%s/ match on '%s'",
                     r->pattern, r->text);
        cr_expect_eq(doc_iregexp_exec(re, r->text, strlen(r->text), 0), r->part, "/%s/ search on '%s'",
                     r->pattern, r->text);
        doc_iregexp_free(re);
    }
}

/* Nested groups past the parser's bound are refused, not recursed into. */
Test(query, iregexp_deep_groups_are_refused) {
    size_t n = 100000, i;
    char *s = malloc(2 * n + 1);
    doc_iregexp *re = NULL;

    cr_assert(s);
    for (i = 0; i < n; i++) s[i] = '(', s[n + i] = ')';
    s[2 * n] = '\0';
    cr_expect_eq(doc_iregexp_compile(s, 2 * n, &re), DOC_IREGEXP_INVALID);
    cr_expect_null(re);
    cr_expect_eq(doc_iregexp_compile(s + n - 50, 100, &re), DOC_IREGEXP_OK);
    cr_expect_eq(doc_iregexp_exec(re, "", 0, 1), 1);
    doc_iregexp_free(re);
    free(s);
}

/* ------------------------------------------------------------------ */
/* A 10,000-deep document                                             */
/* ------------------------------------------------------------------ */

typedef struct deep_count {
    size_t n;        /* matches */
    size_t max_norm; /* longest normalized path seen */
} deep_count;

static int count_match(void *ctx, const uint8_t *value, const char *norm) {
    deep_count *c = ctx;

    (void)value;
    c->n++;
    if (norm && strlen(norm) > c->max_norm) c->max_norm = strlen(norm);
    return 0;
}

Test(query, deep_document_is_walked_without_recursion) {
    static const struct {
        const char *query; /* the query */
        size_t n;          /* expected matches */
        size_t max_norm;   /* expected longest normalized path */
    } rows[] = {
        {"$..*", DOC_DEPTH_LIMIT, 1 + 3 * DOC_DEPTH_LIMIT},
        {"$..[0]", DOC_DEPTH_LIMIT, 1 + 3 * DOC_DEPTH_LIMIT},
        {"$..[?@ == 7]", 1, 1 + 3 * DOC_DEPTH_LIMIT},
        {"$[?@..[?@ == 7]]", 1, 4},
        {"$..[?!@[0]]", 1, 1 + 3 * DOC_DEPTH_LIMIT},
        {"$..a", 0, 0},
    };
    doc_builder *b = doc_builder_new(DOC_DEPTH_LIMIT);
    doc_node *box;
    doc_error err;
    size_t i;

    /* DOC_DEPTH_LIMIT arrays around 7: [[[...[7]...]]] */
    cr_assert(b);
    for (i = 0; i < DOC_DEPTH_LIMIT; i++) cr_assert_eq(doc_builder_begin_array(b), DOC_OK);
    cr_assert_eq(doc_builder_int(b, 7), DOC_OK);
    for (i = 0; i < DOC_DEPTH_LIMIT; i++) cr_assert_eq(doc_builder_end(b), DOC_OK);
    doc_error_clear(&err);
    box = doc_builder_finish(b, &err);
    cr_assert(box, "%s", err.msg);
    doc_builder_free(b);
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        deep_count c = {0, 0};
        doc_query *q = NULL;

        doc_error_clear(&err);
        cr_assert_eq(doc_query_compile(rows[i].query, strlen(rows[i].query), DOC_DEPTH_LIMIT, &q, &err),
                     DOC_OK, "%s: %s", rows[i].query, err.msg);
        cr_assert_eq(doc_query_eval(q, doc_box_value(box), count_match, &c, 1, &err), DOC_OK);
        cr_expect_eq(c.n, rows[i].n, "%s: %zu matches", rows[i].query, c.n);
        cr_expect_eq(c.max_norm, rows[i].max_norm, "%s: longest path %zu", rows[i].query, c.max_norm);
        doc_query_free(q);
    }
    doc_node_free(box);
}

/* ------------------------------------------------------------------ */
/* Allocation failure                                                 */
/* ------------------------------------------------------------------ */

static int ignore_match(void *ctx, const uint8_t *value, const char *norm) {
    (void)ctx, (void)value, (void)norm;
    return 0;
}

/* Every allocation failing in turn: compile and eval report NOMEM, leave
 * out NULL and leak nothing; then both succeed. */
Test(query, allocation_failure_is_nomem_and_leaks_nothing) {
    static const char *queries[] = {
        "$",
        "$..book[?@.price < 10 && match(@.title, '[A-Z].{2,}') || count(@..x) > 1]",
        "$['a', 'b\\u00e9'][1:3, -1].*",
        "$..*[?search(@, $.re) || value(@..x) == 'y']",
    };
    const char *doc_text = "{\"re\":\"x+\",\"book\":[{\"price\":5,\"title\":\"Abc\"},"
                           "{\"price\":20,\"x\":{\"x\":1}}],\"a\":[1,2,3,\"xx\"]}";
    doc_node *d = parse_text(doc_text);
    size_t i, k;

    unit_alloc_fail_at((size_t)-1);
    for (i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        for (k = 0;; k++) {
            doc_query *q = (doc_query *)&q;
            doc_error err;
            doc_status st;

            unit_alloc_fail_at(k);
            doc_error_clear(&err);
            st = doc_query_compile(queries[i], strlen(queries[i]), 16, &q, &err);
            if (st == DOC_OK) {
                st = doc_query_eval(q, doc_box_value(d), ignore_match, NULL, 1, &err);
                doc_query_free(q);
            } else {
                cr_expect_null(q, "[%s] fail %zu: out not NULL", queries[i], k);
            }
            cr_expect_eq(unit_alloc_live(), 0, "[%s] fail %zu: leak", queries[i], k);
            if (st == DOC_OK) {
                cr_expect_lt(unit_alloc_calls(), k + 1, "[%s]: failure %zu not reported", queries[i], k);
                break;
            }
            cr_expect_eq(st, DOC_NOMEM, "[%s] fail %zu: %s", queries[i], k, doc_status_word(st));
            cr_expect_eq(err.code, DOC_NOMEM);
        }
    }
    unit_alloc_plain();
    doc_node_free(d);
}
