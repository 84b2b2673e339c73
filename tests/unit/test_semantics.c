/*
 * test_semantics.c - the operation semantics the commands and the update
 * operators share, tested in the core: the two orders (compare.c),
 * arithmetic and index arithmetic (number.c), RFC 7396 merge (merge.c),
 * empty containers, string literal decoding (utf8.c), doc_edit_remove_where,
 * and doc_update_apply under failing allocations (on an error the document
 * is byte-identical to what it was).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_doc.h"
#include "unit_alloc.h"

static doc_view view_of(const doc_node *box) {
    doc_view v;
    doc_value_decode(doc_box_value(box), &v);
    return v;
}

/* ------------------------------------------------------------------ */
/* Orders                                                             */
/* ------------------------------------------------------------------ */

Test(semantics, same_type_order_compares_numbers_with_numbers_and_strings_with_strings) {
    static const struct {
        const char *a, *b; /* JSON values */
        int ok;            /* comparable */
        int cmp;           /* sign of a - b when ok */
    } rows[] = {
        {"1", "2", 1, -1},
        {"2", "1.5", 1, 1},
        {"1", "1.0", 1, 0},
        {"9007199254740993", "9007199254740992.0", 1, 1}, /* exact across int/double */
        {"-0.0", "0", 1, 0},
        {"\"a\"", "\"b\"", 1, -1},
        {"\"ab\"", "\"a\"", 1, 1},
        {"\"\"", "\"\"", 1, 0},
        {"\"\\u00e9\"", "\"z\"", 1, 1}, /* bytewise: 0xC3 > 'z' */
        {"1", "\"1\"", 0, 0},
        {"null", "null", 0, 0},
        {"true", "false", 0, 0},
        {"[1]", "[1]", 0, 0},
        {"{}", "1", 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_node *a = parse_ok(rows[i].a), *b = parse_ok(rows[i].b);
        doc_view va = view_of(a), vb = view_of(b);
        int ok = -1;
        int cmp = doc_compare_same_type(&va, &vb, &ok);
        cr_expect_eq(ok, rows[i].ok, "row %zu: ok %d", i, ok);
        cr_expect_eq(cmp, rows[i].cmp, "row %zu: cmp %d", i, cmp);
        if (ok) cr_expect_eq(doc_compare_same_type(&vb, &va, &ok), -rows[i].cmp, "row %zu reversed", i);
        doc_node_free(a);
        doc_node_free(b);
    }
}

Test(semantics, bson_order_ranks_types_then_values) {
    /* Ascending, each strictly below the next. */
    static const char *sorted[] = {
        "null",
        "-5",
        "1",
        "1.5",
        "2",
        "\"\"",
        "\"a\"",
        "\"b\"",
        "{}",
        "{\"a\":null}",
        "{\"a\":1}",
        "{\"b\":1}",
        "{\"b\":1,\"c\":1}",
        "{\"a\":\"x\"}",
        "[]",
        "[1]",
        "[1,2]",
        "[2]",
        "[\"a\"]",
        "false",
        "true",
    };
    size_t n = sizeof sorted / sizeof sorted[0];
    doc_order o;
    doc_order_init(&o);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            doc_node *a = parse_ok(sorted[i]), *b = parse_ok(sorted[j]);
            int want = (i > j) - (i < j);
            int got = doc_compare_bson(&o, doc_box_value(a), doc_box_value(b));
            cr_expect_eq(got, want, "%s vs %s: %d", sorted[i], sorted[j], got);
            doc_node_free(a);
            doc_node_free(b);
        }
    }
    /* 1 and 1.0 are the same number; deep nesting needs no recursion. */
    doc_node *a = parse_ok("[[[[[[1]]]]]]"), *b = parse_ok("[[[[[[1.0]]]]]]");
    cr_expect_eq(doc_compare_bson(&o, doc_box_value(a), doc_box_value(b)), 0);
    cr_expect_eq(o.oom, 0);
    doc_node_free(a);
    doc_node_free(b);
    doc_order_free(&o);
}

Test(semantics, bson_order_out_of_memory_is_sticky) {
    doc_node *a = parse_ok("[[1]]"), *b = parse_ok("[[2]]");
    doc_order o;
    doc_order_init(&o);
    unit_alloc_fail_after(0);
    cr_expect_eq(doc_compare_bson(&o, doc_box_value(a), doc_box_value(b)), 0);
    unit_alloc_plain();
    cr_expect_eq(o.oom, 1);
    doc_order_free(&o);
    doc_node_free(a);
    doc_node_free(b);
}

Test(semantics, bytes_order_puts_a_prefix_first) {
    cr_expect_eq(doc_bytes_cmp("ab", 2, "abc", 3), -1);
    cr_expect_eq(doc_bytes_cmp("abc", 3, "ab", 2), 1);
    cr_expect_eq(doc_bytes_cmp("", 0, "", 0), 0);
    cr_expect_eq(doc_bytes_cmp(NULL, 0, "a", 1), -1);
    cr_expect_eq(doc_bytes_cmp("\x80", 1, "\x7f", 1), 1); /* unsigned bytes */
}

/* ------------------------------------------------------------------ */
/* Arithmetic and indexes                                             */
/* ------------------------------------------------------------------ */

Test(semantics, arithmetic_stays_integer_while_it_fits) {
    static const struct {
        doc_arith_op op;
        const char *a, *b;
        doc_status st;
        const char *want; /* printed result when DOC_OK */
        doc_type type;    /* result type (also on OVERFLOW) */
    } rows[] = {
        {DOC_ARITH_ADD, "1", "2", DOC_OK, "3", DOC_INT},
        {DOC_ARITH_ADD, "1", "0.5", DOC_OK, "1.5", DOC_DOUBLE},
        {DOC_ARITH_ADD, "0.5", "0.5", DOC_OK, "1.0", DOC_DOUBLE},
        {DOC_ARITH_ADD, "9223372036854775807", "1", DOC_OVERFLOW, NULL, DOC_INT},
        {DOC_ARITH_ADD, "-9223372036854775808", "-1", DOC_OVERFLOW, NULL, DOC_INT},
        {DOC_ARITH_ADD, "1.7e308", "1.7e308", DOC_OVERFLOW, NULL, DOC_DOUBLE},
        {DOC_ARITH_MUL, "3", "-4", DOC_OK, "-12", DOC_INT},
        {DOC_ARITH_MUL, "3", "0.5", DOC_OK, "1.5", DOC_DOUBLE},
        {DOC_ARITH_MUL, "4611686018427387904", "2", DOC_OVERFLOW, NULL, DOC_INT},
        {DOC_ARITH_MUL, "1e200", "1e200", DOC_OVERFLOW, NULL, DOC_DOUBLE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_node *a = parse_ok(rows[i].a), *b = parse_ok(rows[i].b);
        doc_view va = view_of(a), vb = view_of(b), r;
        doc_status st = doc_number_arith(rows[i].op, &va, &vb, &r);
        cr_expect_eq(st, rows[i].st, "row %zu: status %d", i, st);
        cr_expect_eq(r.type, rows[i].type, "row %zu: type %d", i, r.type);
        if (st == DOC_OK) {
            char buf[32];
            size_t n = r.type == DOC_INT ? doc_format_int(r.i, buf) : doc_format_double(r.d, buf);
            buf[n] = '\0';
            cr_expect_str_eq(buf, rows[i].want, "row %zu", i);
        }
        doc_node_free(a);
        doc_node_free(b);
    }
}

Test(semantics, decimal_index_is_canonical_and_bounded_by_the_caller) {
    static const struct {
        const char *s;
        int64_t max;
        int64_t want;
    } rows[] = {
        {"0", 10, 0},
        {"7", 10, 7},
        {"10", 10, 10},
        {"11", 10, -1},
        {"", 10, -1},
        {"01", 10, -1},
        {"00", 10, -1},
        {"-1", 10, -1},
        {"1a", 10, -1},
        {"4294967295", UINT32_MAX, 4294967295},
        {"4294967296", UINT32_MAX, -1},
        {"99999999999999999999", UINT32_MAX, -1},
        {"9007199254740991", INT64_C(9007199254740991), INT64_C(9007199254740991)},
        {"9007199254740992", INT64_C(9007199254740991), -1},
        {"9223372036854775807", INT64_MAX, INT64_MAX},
        {"9223372036854775808", INT64_MAX, -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect_eq(doc_decimal_index(rows[i].s, strlen(rows[i].s), rows[i].max), rows[i].want,
                     "row %zu (%s)", i, rows[i].s);
}

Test(semantics, index_clamp_counts_negatives_from_the_end) {
    cr_expect_eq(doc_index_clamp(0, 5), 0u);
    cr_expect_eq(doc_index_clamp(3, 5), 3u);
    cr_expect_eq(doc_index_clamp(5, 5), 5u);
    cr_expect_eq(doc_index_clamp(99, 5), 5u);
    cr_expect_eq(doc_index_clamp(-1, 5), 4u);
    cr_expect_eq(doc_index_clamp(-5, 5), 0u);
    cr_expect_eq(doc_index_clamp(-6, 5), 0u);
    cr_expect_eq(doc_index_clamp(INT64_MIN, 5), 0u);
    cr_expect_eq(doc_index_clamp(INT64_MAX, 0), 0u);
}

Test(semantics, keep_window_keeps_the_first_or_the_last_elements) {
    static const struct {
        uint64_t total, count;
        int from_end;
        uint64_t from, to;
    } rows[] = {
        {10, 3, 0, 0, 3}, {10, 3, 1, 7, 10}, {10, 0, 0, 0, 0}, {10, 0, 1, 10, 10},
        {2, 5, 0, 0, 2},  {2, 5, 1, 0, 2},   {0, 5, 1, 0, 0},  {4, UINT64_MAX, 1, 0, 4},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t from = 99, to = 99;
        doc_keep_window(rows[i].total, rows[i].count, rows[i].from_end, &from, &to);
        cr_expect_eq(from, rows[i].from, "row %zu: from %lu", i, (unsigned long)from);
        cr_expect_eq(to, rows[i].to, "row %zu: to %lu", i, (unsigned long)to);
    }
}

/* ------------------------------------------------------------------ */
/* Empty containers and merge                                         */
/* ------------------------------------------------------------------ */

Test(semantics, empty_containers) {
    doc_node *a = doc_box_empty(DOC_ARRAY), *o = doc_box_empty(DOC_OBJECT);
    cr_assert(a && o);
    char *sa = box_text(a), *so = box_text(o);
    cr_expect_str_eq(sa, "[]");
    cr_expect_str_eq(so, "{}");
    free(sa);
    free(so);
    doc_node_free(a);
    doc_node_free(o);
    unit_alloc_fail_after(0);
    cr_expect_null(doc_box_empty(DOC_ARRAY));
    unit_alloc_plain();
}

/* RFC 7396 appendix A, plus a missing target and a patch at a member. */
Test(semantics, merge_follows_rfc_7396) {
    static const struct {
        const char *doc, *path, *patch, *want;
    } rows[] = {
        {"{\"a\":\"b\"}", "$", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "$", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "$", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "$", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "$", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "$", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "$", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "$", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "$", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "$", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "$", "null", "null"},
        {"{\"a\":\"foo\"}", "$", "\"bar\"", "\"bar\""},
        {"{\"e\":null}", "$", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "$", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "$", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
        {"{\"x\":1}", "$.y", "{\"a\":null,\"b\":2}", "{\"x\":1,\"y\":{\"b\":2}}"},
        {"{\"x\":{\"k\":1}}", "$.x", "{\"k\":null}", "{\"x\":{}}"},
        {"{\"x\":1}", "$.x", "{\"k\":1}", "{\"x\":{\"k\":1}}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_node *root = parse_ok(rows[i].doc), *patch = parse_ok(rows[i].patch);
        doc_path *p = NULL;
        doc_error err;
        doc_error_clear(&err);
        cr_assert_eq(doc_path_compile(rows[i].path, strlen(rows[i].path), 16, &p, &err), DOC_OK);
        doc_undo *u = doc_undo_new();
        doc_cursor c;
        doc_cursor_init(&c, &root);
        cr_assert_eq(doc_resolve_write(&c, p, u, &err), DOC_OK, "row %zu: %s", i, err.msg);
        cr_expect_eq(doc_edit_merge(&c, doc_box_value(patch), u, &err), DOC_OK, "row %zu: %s", i, err.msg);
        doc_cursor_free(&c);
        char *got = box_text(root);
        cr_expect_str_eq(got, rows[i].want, "row %zu", i);
        free(got);
        /* The log takes it all back, byte for byte. */
        doc_undo_rollback(u);
        got = box_text(root);
        doc_node *orig = parse_ok(rows[i].doc);
        char *want = box_text(orig);
        cr_expect_str_eq(got, want, "row %zu: rollback", i);
        free(got);
        free(want);
        doc_node_free(orig);
        doc_undo_free(u);
        doc_path_free(p);
        doc_node_free(patch);
        doc_node_free(root);
    }
}

/* A merge that fails part-way (max-depth) without a log leaves the document
 * as it was; out of memory at every step likewise. */
Test(semantics, merge_without_a_log_is_all_or_nothing) {
    const char *doc = "{\"a\":1,\"b\":{\"c\":2}}";
    doc_node *patch = parse_ok("{\"a\":2,\"z\":{\"y\":[1,{\"x\":true}]},\"b\":{\"c\":null,\"d\":\"e\"}}");
    int succeeded = 0;
    for (long n = 0; n < 1000 && !succeeded; n++) {
        doc_node *root = parse_ok(doc);
        doc_error err;
        doc_error_clear(&err);
        doc_cursor c;
        doc_cursor_init(&c, &root);
        doc_path rootpath = {0, NULL, NULL, 0};
        cr_assert_eq(doc_resolve(&c, &rootpath, &err), DOC_OK);
        unit_alloc_fail_after(n);
        doc_status st = doc_edit_merge(&c, doc_box_value(patch), NULL, &err);
        unit_alloc_plain();
        doc_cursor_free(&c);
        char *got = box_text(root);
        if (st == DOC_OK) {
            succeeded = 1;
            cr_expect_str_eq(got, "{\"a\":2,\"b\":{\"d\":\"e\"},\"z\":{\"y\":[1,{\"x\":true}]}}");
        } else {
            cr_expect_eq(st, DOC_NOMEM, "n=%ld: %s", n, err.msg);
            cr_expect_str_eq(got, doc, "n=%ld: not all or nothing", n);
        }
        free(got);
        doc_node_free(root);
    }
    cr_expect(succeeded);
    doc_node_free(patch);
}

/* ------------------------------------------------------------------ */
/* String literals                                                    */
/* ------------------------------------------------------------------ */

static void put_buf(void *ctx, const char *bytes, size_t n) { doc_buf_append(ctx, bytes, n); }

Test(semantics, string_literals_decode_or_say_where_they_fail) {
    static const struct {
        const char *text; /* the literal and what follows it */
        doc_status st;
        const char *want; /* decoded bytes (DOC_OK) or the message */
        size_t at;        /* DOC_OK: *pos after; else the fault's byte offset */
    } rows[] = {
        {"'abc'", DOC_OK, "abc", 5},
        {"\"a'b\"]", DOC_OK, "a'b", 5},
        {"'a\\'b'", DOC_OK, "a'b", 6},
        {"'\\b\\f\\n\\r\\t\\/\\\\'", DOC_OK, "\b\f\n\r\t/\\", 16},
        {"'\\u00e9\\ud83d\\ude00'", DOC_OK, "\xc3\xa9\xf0\x9f\x98\x80", 20},
        {"'\xc3\xa9x'", DOC_OK, "\xc3\xa9x", 5},
        {"'abc", DOC_BADPATH, "unterminated string", 0},
        {"'ab\\", DOC_BADPATH, "unterminated string", 0},
        {"'a\\\"'", DOC_BADPATH, "invalid escape", 2},
        {"'a\\x'", DOC_BADPATH, "invalid escape", 2},
        {"'a\\u12'", DOC_BADPATH, "invalid \\u escape", 2},
        {"'\\udc00'", DOC_BADPATH, "lone surrogate in \\u escape", 1},
        {"'\\ud800x'", DOC_BADPATH, "lone surrogate in \\u escape", 1},
        {"'\\ud800\\u0041'", DOC_BADPATH, "lone surrogate in \\u escape", 1},
        {"'a\nb'", DOC_BADPATH, "control character in string (escape it)", 2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_buf out;
        doc_buf_init(&out);
        size_t pos = 0, at = 99;
        const char *msg = NULL;
        doc_status st =
            doc_string_literal_decode(rows[i].text, strlen(rows[i].text), &pos, put_buf, &out, &at, &msg);
        cr_expect_eq(st, rows[i].st, "row %zu: status %d", i, st);
        if (st == DOC_OK) {
            cr_expect_eq(out.len, strlen(rows[i].want), "row %zu: length", i);
            cr_expect(out.len == 0 || !memcmp(out.data, rows[i].want, out.len), "row %zu: bytes", i);
            cr_expect_eq(pos, rows[i].at, "row %zu: pos %zu", i, pos);
        } else {
            cr_expect_str_eq(msg, rows[i].want, "row %zu", i);
            cr_expect_eq(at, rows[i].at, "row %zu: at %zu", i, at);
        }
        doc_buf_free(&out);
    }
}

/* ------------------------------------------------------------------ */
/* doc_edit_remove_where                                              */
/* ------------------------------------------------------------------ */

/* Matches elements equal to any value of the array in ctx. */
static int in_list(void *ctx, const uint8_t *el) {
    doc_view list;
    doc_iter it;
    const uint8_t *v;
    doc_value_decode(ctx, &list);
    doc_iter_init(&it, list.node);
    while (doc_iter_next(&it, NULL, NULL, &v, NULL))
        if (doc_value_equal(el, v)) return 1;
    return 0;
}

Test(semantics, remove_where_removes_every_match_and_undoes_exactly) {
    static const struct {
        const char *doc;  /* the array at $.a */
        const char *drop; /* values to remove */
        const char *want;
        uint32_t removed;
    } rows[] = {
        {"[1,2,3,2,1]", "[2]", "[1,3,1]", 2},
        {"[1,2,3]", "[4]", "[1,2,3]", 0},
        {"[]", "[1]", "[]", 0},
        {"[1,1,1]", "[1]", "[]", 3},
        {"[1,2,2,3,3,4]", "[2,3]", "[1,4]", 4},
        {"[{\"a\":1},[1],\"x\",null]", "[{\"a\":1.0},null]", "[[1],\"x\"]", 2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        /* Large arrays too (the indexed encoding): the rows repeated. */
        for (int big = 0; big <= 1; big++) {
            doc_buf text;
            doc_buf_init(&text);
            doc_buf_append(&text, "{\"a\":[", 6);
            int reps = big ? 40 : 1;
            size_t inner = strlen(rows[i].doc) - 2;
            for (int r = 0; r < reps; r++) {
                if (r && inner) doc_buf_putc(&text, ',');
                doc_buf_append(&text, rows[i].doc + 1, inner);
            }
            doc_buf_append(&text, "]}", 2);
            const char *orig = doc_buf_cstr(&text);
            doc_node *root = parse_ok(orig), *drop = parse_ok(rows[i].drop);
            doc_path *p = NULL;
            doc_error err;
            doc_error_clear(&err);
            cr_assert_eq(doc_path_compile("$.a", 3, 8, &p, &err), DOC_OK);
            doc_cursor c;
            doc_cursor_init(&c, &root);
            cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
            doc_undo *u = doc_undo_new();
            uint32_t removed = 99;
            cr_expect_eq(doc_edit_remove_where(&c, in_list, (void *)doc_box_value(drop), u, &removed, &err),
                         DOC_OK);
            cr_expect_eq(removed, rows[i].removed * (uint32_t)reps, "row %zu big %d: removed %u", i, big,
                         removed);
            doc_view arr;
            doc_value_decode(doc_cursor_value(&c), &arr);
            doc_iter it;
            const uint8_t *el;
            doc_iter_init(&it, arr.node);
            while (doc_iter_next(&it, NULL, NULL, &el, NULL))
                cr_expect(!in_list((void *)doc_box_value(drop), el), "row %zu: a match is left", i);
            if (!big) {
                doc_node *want = parse_ok(rows[i].want);
                cr_expect(doc_value_identical(doc_cursor_value(&c), doc_box_value(want)), "row %zu", i);
                doc_node_free(want);
            }
            doc_cursor_free(&c);
            doc_undo_rollback(u);
            char *back = box_text(root);
            cr_expect_str_eq(back, orig, "row %zu big %d: rollback", i, big);
            free(back);
            doc_undo_free(u);
            doc_path_free(p);
            doc_node_free(drop);
            doc_node_free(root);
            doc_buf_free(&text);
        }
    }
}

Test(semantics, remove_where_on_a_non_array_is_badtype_and_changes_nothing) {
    doc_node *root = parse_ok("{\"a\":{\"b\":1}}"), *drop = parse_ok("[1]");
    doc_path *p = NULL;
    doc_error err;
    doc_error_clear(&err);
    cr_assert_eq(doc_path_compile("$.a", 3, 8, &p, &err), DOC_OK);
    doc_cursor c;
    doc_cursor_init(&c, &root);
    cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
    uint32_t removed = 99;
    cr_expect_eq(doc_edit_remove_where(&c, in_list, (void *)doc_box_value(drop), NULL, &removed, &err),
                 DOC_BADTYPE);
    char *got = box_text(root);
    cr_expect_str_eq(got, "{\"a\":{\"b\":1}}");
    free(got);
    doc_cursor_free(&c);
    doc_path_free(p);
    doc_node_free(drop);
    doc_node_free(root);
}

/* Out of memory at every step: NOMEM, and after rolling the log back to its
 * mark (doc.h's contract) the document is what it was. */
Test(semantics, remove_where_out_of_memory_rolls_back_to_the_mark) {
    doc_buf text;
    doc_buf_init(&text);
    doc_buf_append(&text, "{\"a\":[", 6);
    for (int i = 0; i < 100; i++) doc_buf_append(&text, i ? ",1,2,\"x\"" : "1,2,\"x\"", i ? 8 : 7);
    doc_buf_append(&text, "]}", 2);
    const char *orig = doc_buf_cstr(&text);
    doc_node *drop = parse_ok("[2,\"x\"]");
    int succeeded = 0;
    for (long n = 0; n < 2000 && !succeeded; n++) {
        doc_node *root = parse_ok(orig);
        doc_path *p = NULL;
        doc_error err;
        doc_error_clear(&err);
        cr_assert_eq(doc_path_compile("$.a", 3, 8, &p, &err), DOC_OK);
        doc_undo *u = doc_undo_new();
        size_t mark = doc_undo_mark(u);
        doc_cursor c;
        doc_cursor_init(&c, &root);
        cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
        uint32_t removed = 0;
        unit_alloc_fail_after(n);
        doc_status st = doc_edit_remove_where(&c, in_list, (void *)doc_box_value(drop), u, &removed, &err);
        unit_alloc_plain();
        doc_cursor_free(&c);
        if (st == DOC_OK) {
            succeeded = 1;
            cr_expect_eq(removed, 200u);
        } else {
            cr_expect_eq(st, DOC_NOMEM, "n=%ld: %s", n, err.msg);
            doc_undo_rollback_to(u, mark);
            char *back = box_text(root);
            cr_expect_str_eq(back, orig, "n=%ld", n);
            free(back);
        }
        doc_undo_free(u);
        doc_path_free(p);
        doc_node_free(root);
    }
    cr_expect(succeeded);
    doc_node_free(drop);
    doc_buf_free(&text);
}

/* ------------------------------------------------------------------ */
/* doc_update_apply under failing allocations                         */
/* ------------------------------------------------------------------ */

/* Every allocation failing in turn, for updates that touch every operator:
 * NOMEM, and the document byte-identical (a private log without undo; the
 * caller's log rolled back to its mark with one), then success. */
Test(semantics, update_apply_out_of_memory_at_every_step) {
    static const struct {
        const char *doc, *update, *filters, *want;
    } rows[] = {
        {"{\"a\":1,\"l\":[3,1,2],\"s\":\"x\",\"o\":{\"p\":1},\"o2\":{\"p\":1}}",
         "{\"$set\":{\"n.m.k\":[1,{\"z\":2}],\"l.5\":7},\"$inc\":{\"a\":2},\"$mul\":{\"q\":2},"
         "\"$min\":{\"s\":\"a\"},\"$max\":{\"b\":3},\"$unset\":{\"o2.p\":\"\"},\"$rename\":{\"o\":\"r.o\"}}",
         NULL,
         "{\"a\":3,\"l\":[3,1,2,null,null,7],\"s\":\"a\",\"n\":{\"m\":{\"k\":[1,{\"z\":2}]}},\"q\":0,\"b\":3,"
         "\"o2\":{},\"r\":{\"o\":{\"p\":1}}}"},
        {"{\"l\":[{\"q\":1},{\"q\":5}],\"t\":[1,2,3,4]}",
         "{\"$push\":{\"t\":{\"$each\":[9,0],\"$sort\":-1,\"$slice\":3},\"u\":{\"$each\":[{\"k\":1}]}},"
         "\"$addToSet\":{\"v\":{\"$each\":[1,1,2]}},\"$set\":{\"l.$[big].q\":0,\"l.$[].w\":true}}",
         "[{\"big.q\":{\"$gt\":2}}]",
         "{\"l\":[{\"q\":1,\"w\":true},{\"q\":0,\"w\":true}],\"t\":[9,4,3],\"u\":[{\"k\":1}],\"v\":[1,2]}"},
        {"{\"a\":[1,2,3,2],\"b\":[{\"x\":1},{\"x\":5}],\"c\":[1,2,3],\"d\":[1,2]}",
         "{\"$pull\":{\"a\":2,\"b\":{\"x\":{\"$gt\":2}}},\"$pullAll\":{\"c\":[1,3]},\"$pop\":{\"d\":-1}}",
         NULL, "{\"a\":[1,3],\"b\":[{\"x\":1}],\"c\":[2],\"d\":[2]}"},
        /* $[] / $[id] rewrites: kept containers shared, new ones copied */
        {"{\"l\":[{\"q\":1},\"s\",[2],\"t\"],\"n\":[1,2.5,300]}",
         "{\"$set\":{\"l.$[x]\":{\"k\":[1]}},\"$inc\":{\"n.$[]\":100000}}",
         "[{\"x\":{\"$type\":\"string\"}}]",
         "{\"l\":[{\"q\":1},{\"k\":[1]},[2],{\"k\":[1]}],\"n\":[100001,100002.5,100300]}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_node *upd = parse_ok(rows[i].update);
        doc_node *flt = rows[i].filters ? parse_ok(rows[i].filters) : NULL;
        doc_update *u = NULL;
        doc_error err;
        doc_error_clear(&err);
        cr_assert_eq(doc_update_compile(doc_box_value(upd), flt ? doc_box_value(flt) : NULL, 32, &u, &err),
                     DOC_OK, "row %zu: %s", i, err.msg);
        doc_node *orig = parse_ok(rows[i].doc);
        char *orig_text = box_text(orig);
        for (int with_log = 0; with_log <= 1; with_log++) {
            int succeeded = 0;
            for (long n = 0; n < 5000 && !succeeded; n++) {
                doc_node *root = parse_ok(rows[i].doc);
                doc_undo *log = with_log ? doc_undo_new() : NULL;
                size_t mark = log ? doc_undo_mark(log) : 0;
                int changed = -1;
                doc_error_clear(&err);
                unit_alloc_fail_after(n);
                doc_status st = doc_update_apply(u, &root, 0, log, &changed, &err);
                unit_alloc_plain();
                if (st != DOC_OK) {
                    cr_expect_eq(st, DOC_NOMEM, "row %zu n=%ld: %s %s", i, n, doc_status_word(st), err.msg);
                    if (log) doc_undo_rollback_to(log, mark);
                    char *back = box_text(root);
                    cr_expect_str_eq(back, orig_text, "row %zu n=%ld log %d", i, n, with_log);
                    free(back);
                } else {
                    succeeded = 1;
                    cr_expect_eq(changed, 1);
                    char *got = box_text(root);
                    doc_node *want = parse_ok(rows[i].want);
                    cr_expect(doc_value_equal(doc_box_value(root), doc_box_value(want)), "row %zu: %s", i,
                              got);
                    doc_node_free(want);
                    free(got);
                }
                doc_undo_free(log);
                doc_node_free(root);
            }
            cr_expect(succeeded, "row %zu log %d never succeeded", i, with_log);
        }
        free(orig_text);
        doc_node_free(orig);
        doc_update_free(u);
        doc_node_free(upd);
        doc_node_free(flt);
    }
}
