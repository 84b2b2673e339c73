/*
 * test_legacy_path.c - the JSON.* face's core helpers: RedisJSON legacy
 * paths translated to RFC 9535 text (doc_legacy_path_to_query), write
 * targets of a query in document order, each once (doc_query_targets), and
 * JSON.GET's pretty printing (doc_json_format).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "doc.h"

static const struct {
    const char *legacy; /* RedisJSON legacy path */
    const char *query;  /* expected RFC 9535 text, or NULL: BADPATH */
} legacy_rows[] = {
    {".", "$"},
    {".a", "$['a']"},
    {"a", "$['a']"},
    {"a.b", "$['a']['b']"},
    {".a.b[0]", "$['a']['b'][0]"},
    {"[\"k\"]", "$[\"k\"]"},
    {"[-1]", "$[-1]"},
    {".a[*]", "$['a'][*]"},
    {".*", "$[*]"},
    {"..a", "$..['a']"},
    {"..*", "$..*"},
    {".a-b", "$['a-b']"},
    {".1", "$['1']"},
    {".it's", "$['it\\'s']"},
    {".a[\"x]y\"].b", "$['a'][\"x]y\"]['b']"},
    {"", NULL},
    {"a.", NULL},
    {".a[0", NULL},
    {"a..", NULL},
};

Test(legacy_path, translates_every_form_of_the_table) {
    for (size_t i = 0; i < sizeof legacy_rows / sizeof legacy_rows[0]; i++) {
        doc_buf out;
        doc_error err;
        doc_buf_init(&out);
        doc_error_clear(&err);
        doc_status st =
            doc_legacy_path_to_query(legacy_rows[i].legacy, strlen(legacy_rows[i].legacy), &out, &err);
        if (!legacy_rows[i].query) {
            cr_expect_eq(st, DOC_BADPATH, "%s should be BADPATH", legacy_rows[i].legacy);
        } else {
            cr_expect_eq(st, DOC_OK, "%s: %s", legacy_rows[i].legacy, err.msg);
            cr_expect_str_eq(doc_buf_cstr(&out), legacy_rows[i].query, "legacy %s", legacy_rows[i].legacy);
            doc_query *q = NULL;
            cr_expect_eq(doc_query_compile(out.data, out.len, 64, &q, &err), DOC_OK, "%s compiles", out.data);
            if (q) doc_query_free(q);
        }
        doc_buf_free(&out);
    }
}

/* The targets of `query` on `json`, as canonical paths joined by spaces. */
static void targets(const char *json, const char *query, char *out, size_t cap) {
    doc_error err;
    doc_error_clear(&err);
    doc_node *root = doc_parse(json, strlen(json), 64, &err);
    cr_assert(root, "%s", err.msg);
    doc_query *q;
    cr_assert_eq(doc_query_compile(query, strlen(query), 64, &q, &err), DOC_OK, "%s", err.msg);
    doc_targets t;
    cr_assert_eq(doc_query_targets(q, &root, &t, &err), DOC_OK);
    doc_buf b;
    doc_buf_init(&b);
    for (size_t i = 0; i < t.n; i++) {
        if (i) doc_buf_putc(&b, ' ');
        doc_path_print(t.paths[i], t.paths[i]->nseg, &b);
    }
    snprintf(out, cap, "%s", b.len ? doc_buf_cstr(&b) : "");
    doc_buf_free(&b);
    doc_targets_free(&t);
    doc_query_free(q);
    doc_node_free(root);
}

Test(query_targets, come_in_document_order_each_once) {
    char got[512];
    targets("[10,11,12]", "$[2,0,0,2]", got, sizeof got);
    cr_expect_str_eq(got, "$[0] $[2]");
    targets("{\"b\":1,\"a\":2}", "$['a','b']", got, sizeof got);
    cr_expect_str_eq(got, "$[\"b\"] $[\"a\"]"); /* stored order, not the union's */
    targets("{\"a\":{\"a\":{\"a\":1}},\"x\":[{\"a\":2}]}", "$..a", got, sizeof got);
    cr_expect_str_eq(got, "$[\"a\"] $[\"a\"][\"a\"] $[\"a\"][\"a\"][\"a\"] $[\"x\"][0][\"a\"]");
    targets("{\"a\":1}", "$.nope", got, sizeof got);
    cr_expect_str_eq(got, "");
    targets("{\"a\":1}", "$", got, sizeof got);
    cr_expect_str_eq(got, "$");
}

Test(query_targets, written_last_first_no_edit_moves_a_later_target) {
    /* Deleting every element with a filter, from the last target to the first. */
    const char *json = "{\"items\":[{\"q\":1},{\"q\":5},{\"q\":2},{\"q\":7}]}";
    doc_error err;
    doc_error_clear(&err);
    doc_node *root = doc_parse(json, strlen(json), 64, &err);
    doc_query *q;
    cr_assert_eq(doc_query_compile("$.items[?@.q > 1]", 17, 64, &q, &err), DOC_OK);
    doc_targets t;
    cr_assert_eq(doc_query_targets(q, &root, &t, &err), DOC_OK);
    cr_assert_eq(t.n, 3);
    doc_undo *u = doc_undo_new();
    for (size_t i = t.n; i-- > 0;) {
        doc_cursor c;
        doc_cursor_init(&c, &root);
        cr_assert_eq(doc_resolve(&c, t.paths[i], &err), DOC_OK);
        cr_assert_eq(doc_edit_remove(&c, u, &err), DOC_OK);
        doc_cursor_free(&c);
    }
    doc_buf b;
    doc_buf_init(&b);
    doc_print(doc_box_value(root), &b);
    cr_expect_str_eq(doc_buf_cstr(&b), "{\"items\":[{\"q\":1}]}");
    doc_undo_rollback(u); /* and all of it comes back */
    b.len = 0;
    doc_print(doc_box_value(root), &b);
    cr_expect_str_eq(doc_buf_cstr(&b), json);
    doc_buf_free(&b);
    doc_undo_free(u);
    doc_targets_free(&t);
    doc_query_free(q);
    doc_node_free(root);
}

Test(json_format, indents_newlines_and_spaces_like_redisjson) {
    const char *in = "{\"a\":[1,{\"b\":\"x,:[\\\"\"}],\"e\":{},\"f\":[]}";
    doc_buf out;
    doc_buf_init(&out);
    doc_json_format(in, strlen(in), "  ", 2, "\n", 1, " ", 1, &out);
    cr_expect_str_eq(
        doc_buf_cstr(&out),
        "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x,:[\\\"\"\n    }\n  ],\n  \"e\": {},\n  \"f\": []\n}");
    out.len = 0;
    doc_json_format(in, strlen(in), "", 0, "", 0, " ", 1, &out);
    cr_expect_str_eq(doc_buf_cstr(&out), "{\"a\": [1,{\"b\": \"x,:[\\\"\"}],\"e\": {},\"f\": []}");
    doc_buf_free(&out);
}
