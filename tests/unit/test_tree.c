/*
 * test_tree.c - the packed tree: building, lookup in small and indexed
 * containers, edits through cursors, and the undo log restoring a tree to
 * exactly what it was (printed bytes equal) after random edit sequences.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_doc.h"

static char *print_value(const uint8_t *v) {
    doc_buf b;
    doc_buf_init(&b);
    doc_print(v, &b);
    char *s = strdup(doc_buf_cstr(&b));
    doc_buf_free(&b);
    return s;
}

Test(tree, builder_and_lookup_small_and_large) {
    for (int n = 1; n <= 200; n += 37) {
        doc_builder *b = doc_builder_new(128);
        doc_builder_begin_object(b);
        char key[32];
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "k%d", i);
            doc_builder_key(b, key, strlen(key));
            doc_builder_int(b, i * 1000);
        }
        doc_builder_end(b);
        doc_error err;
        doc_error_clear(&err);
        doc_node *box = doc_builder_finish(b, &err);
        doc_builder_free(b);
        cr_assert(box);
        doc_view v;
        doc_value_decode(doc_box_value(box), &v);
        cr_assert_eq(v.type, DOC_OBJECT);
        cr_assert_eq(doc_node_count(v.node), (uint32_t)n);
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "k%d", i);
            const uint8_t *x = doc_object_get(v.node, key, strlen(key), NULL, NULL);
            cr_assert(x, "missing %s in %d", key, n);
            doc_view xv;
            doc_value_decode(x, &xv);
            cr_assert_eq(xv.i, i * 1000);
        }
        cr_assert_null(doc_object_get(v.node, "nope", 4, NULL, NULL));
        doc_node_free(box);
    }
}

Test(tree, duplicate_key_in_large_object_is_badjson) {
    doc_buf t;
    doc_buf_init(&t);
    doc_buf_append(&t, "{", 1);
    for (int i = 0; i < 1000; i++) {
        char m[32];
        snprintf(m, sizeof m, "%s\"k%d\":%d", i ? "," : "", i == 999 ? 3 : i, i);
        doc_buf_append(&t, m, strlen(m));
    }
    doc_buf_append(&t, "}", 1);
    doc_error err;
    doc_error_clear(&err);
    doc_node *box = doc_parse(t.data, t.len, 128, &err);
    cr_assert_null(box);
    cr_assert_eq(err.code, DOC_BADJSON);
    cr_assert(strstr(err.msg, "duplicate"), "%s", err.msg);
    doc_buf_free(&t);
}

Test(tree, set_creates_missing_parents_and_remove) {
    doc_node *root = parse_ok("{\"a\":1}");
    doc_cursor c;
    doc_error err;
    doc_error_clear(&err);
    doc_cursor_init(&c, &root);
    doc_path *p = path_ok("$.x.y.z");
    cr_assert_eq(doc_resolve_write(&c, p, NULL, &err), DOC_OK);
    cr_assert(c.missing);
    cr_assert_eq(doc_edit_set_take(&c, parse_ok("[1,2]"), NULL, &err), DOC_OK);
    char *s = print_value(doc_box_value(root));
    cr_assert_str_eq(s, "{\"a\":1,\"x\":{\"y\":{\"z\":[1,2]}}}");
    free(s);
    doc_path_free(p);

    p = path_ok("$.a");
    cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
    cr_assert_eq(doc_edit_remove(&c, NULL, &err), DOC_OK);
    s = print_value(doc_box_value(root));
    cr_assert_str_eq(s, "{\"x\":{\"y\":{\"z\":[1,2]}}}");
    free(s);
    doc_path_free(p);

    /* A scalar on the way is BADTYPE and nothing is created. */
    p = path_ok("$.x.y.z.w");
    cr_assert_eq(doc_resolve_write(&c, p, NULL, &err), DOC_BADTYPE);
    doc_path_free(p);
    doc_error_clear(&err);
    p = path_ok("$.n.m[3]");
    doc_undo *u = doc_undo_new();
    cr_assert_eq(doc_resolve_write(&c, p, u, &err), DOC_BADTYPE, "%s", err.msg);
    cr_assert_eq(doc_undo_size(u), 0);
    s = print_value(doc_box_value(root));
    cr_assert_str_eq(s, "{\"x\":{\"y\":{\"z\":[1,2]}}}");
    free(s);
    doc_undo_free(u);
    doc_path_free(p);
    doc_cursor_free(&c);
    doc_node_free(root);
}

/* Random edits on a random tree, then rollback: the printed text must be
 * byte-identical to the text before the edits. Containers pass the index
 * threshold both ways on purpose. */
Test(tree, undo_restores_exactly_after_random_edits) {
    long long baseline = doc_memory_in_use();
    srand(12345);
    for (int round = 0; round < 60; round++) {
        doc_buf t;
        doc_buf_init(&t);
        doc_buf_append(&t, "{\"arr\":[", 8);
        int n = rand() % 80;
        for (int i = 0; i < n; i++) {
            char m[64];
            snprintf(m, sizeof m, "%s{\"id\":%d,\"s\":\"v%d\"}", i ? "," : "", i, rand());
            doc_buf_append(&t, m, strlen(m));
        }
        doc_buf_append(&t, "],\"obj\":{", 9);
        int m2 = rand() % 80;
        for (int i = 0; i < m2; i++) {
            char m[64];
            snprintf(m, sizeof m, "%s\"k%d\":[%d]", i ? "," : "", i, i);
            doc_buf_append(&t, m, strlen(m));
        }
        doc_buf_append(&t, "}}", 2);
        doc_node *root = parse_ok(doc_buf_cstr(&t));
        char *before = print_value(doc_box_value(root));
        doc_undo *u = doc_undo_new();
        doc_cursor c;
        doc_cursor_init(&c, &root);
        doc_error err;
        for (int e = 0; e < 50; e++) {
            doc_error_clear(&err);
            char path[64];
            int op = rand() % 8;
            if (op == 7) {
                /* Size-neutral edits: a small int for a small int in the
                 * array, a double (9 bytes) for a child pointer (9 bytes)
                 * in the object; no offset moves, the indexes stay right. */
                snprintf(path, sizeof path, rand() % 2 ? "$.arr[%d].id" : "$.obj.k%d", rand() % 100);
                doc_path *p = path_ok(path);
                if (doc_resolve(&c, p, &err) == DOC_OK) {
                    const uint8_t *cur = doc_cursor_value(&c);
                    doc_node *nv =
                        *cur == DOC_TAG_ARRAY ? doc_box_double(rand() + 0.5) : doc_box_int(rand() % 100);
                    cr_assert_eq(doc_edit_set_take(&c, nv, u, &err), DOC_OK);
                }
                doc_path_free(p);
            } else if (op == 0) {
                snprintf(path, sizeof path, "$.obj.k%d", rand() % 120);
                doc_path *p = path_ok(path);
                if (doc_resolve_write(&c, p, u, &err) == DOC_OK)
                    doc_edit_set_take(&c, parse_ok("{\"new\":[1,2,3],\"s\":\"a longer string value\"}"), u,
                                      &err);
                doc_path_free(p);
            } else if (op == 1) {
                snprintf(path, sizeof path, "$.obj.k%d", rand() % 120);
                doc_path *p = path_ok(path);
                if (doc_resolve(&c, p, &err) == DOC_OK) doc_edit_remove(&c, u, &err);
                doc_path_free(p);
            } else if (op == 2) {
                doc_path *p = path_ok("$.arr");
                cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
                doc_view v;
                doc_value_decode(doc_cursor_value(&c), &v);
                uint32_t at = (uint32_t)rand() % (doc_node_count(v.node) + 1);
                cr_assert_eq(doc_edit_insert_take(&c, at, parse_ok("[\"x\",{\"deep\":true}]"), u, &err),
                             DOC_OK);
                doc_path_free(p);
            } else if (op == 3) {
                snprintf(path, sizeof path, "$.arr[%d]", rand() % 100);
                doc_path *p = path_ok(path);
                if (doc_resolve(&c, p, &err) == DOC_OK) doc_edit_remove(&c, u, &err);
                doc_path_free(p);
            } else if (op == 5) {
                doc_path *p = path_ok("$.arr");
                cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
                doc_view v;
                doc_value_decode(doc_cursor_value(&c), &v);
                uint32_t at = (uint32_t)rand() % (doc_node_count(v.node) + 1);
                doc_node *boxes[3] = {parse_ok("1"), parse_ok("{\"z\":[]}"), parse_ok("\"three\"")};
                cr_assert_eq(doc_edit_insert_many_take(&c, at, boxes, 3, u, &err), DOC_OK);
                doc_path_free(p);
            } else if (op == 6) {
                doc_path *p = path_ok("$.arr");
                cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
                doc_view v;
                doc_value_decode(doc_cursor_value(&c), &v);
                uint32_t cnt = doc_node_count(v.node);
                uint32_t from = cnt ? (uint32_t)rand() % cnt : 0;
                uint32_t k = cnt ? (uint32_t)rand() % (cnt - from + 1) : 0;
                cr_assert_eq(doc_edit_remove_range(&c, from, k, u, &err), DOC_OK);
                doc_path_free(p);
            } else {
                snprintf(path, sizeof path, "$.arr[%d].id", rand() % 100);
                doc_path *p = path_ok(path);
                if (doc_resolve_write(&c, p, u, &err) == DOC_OK)
                    doc_edit_set_take(&c, doc_box_int(rand() % 2 ? 5 : 1234567890123LL), u, &err);
                doc_path_free(p);
            }
            /* The array's index must agree with a sequential walk. */
            {
                doc_path *ap = path_ok("$.arr");
                cr_assert_eq(doc_resolve(&c, ap, &err), DOC_OK);
                doc_view av;
                doc_value_decode(doc_cursor_value(&c), &av);
                doc_iter ait;
                const uint8_t *el;
                doc_iter_init(&ait, av.node);
                for (uint32_t i = 0; doc_iter_next(&ait, NULL, NULL, &el, NULL); i++)
                    cr_assert_eq(doc_array_get(av.node, i, NULL), el, "element %u", i);
                doc_path_free(ap);
            }
            /* The object's index must still find every key. */
            doc_path *p = path_ok("$.obj");
            cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
            doc_view ov;
            doc_value_decode(doc_cursor_value(&c), &ov);
            doc_iter it;
            const char *k;
            size_t kl;
            const uint8_t *val;
            doc_iter_init(&it, ov.node);
            while (doc_iter_next(&it, &k, &kl, &val, NULL))
                cr_assert_eq(doc_object_get(ov.node, k, kl, NULL, NULL), val);
            doc_path_free(p);
        }
        doc_undo_rollback(u);
        char *after = print_value(doc_box_value(root));
        cr_assert_str_eq(after, before, "round %d", round);
        free(before);
        free(after);
        doc_undo_free(u);
        doc_cursor_free(&c);
        doc_node_free(root);
        doc_buf_free(&t);
    }
    /* Every node and index counted on the way in was uncounted on the way out. */
    cr_assert_eq(doc_memory_in_use(), baseline, "node bytes leaked from the count: %lld",
                 doc_memory_in_use() - baseline);
}

Test(tree, copy_and_equal) {
    doc_node *a = parse_ok("{\"a\":[1,2.5,{\"b\":null}],\"c\":\"x\"}");
    doc_node *b = parse_ok("{\"c\":\"x\",\"a\":[1.0,2.5,{\"b\":null}]}");
    doc_node *c = parse_ok("{\"c\":\"x\",\"a\":[1,2.5,{\"b\":false}]}");
    cr_assert(doc_value_equal(doc_box_value(a), doc_box_value(b)));
    cr_assert_not(doc_value_equal(doc_box_value(a), doc_box_value(c)));
    doc_node *k = doc_value_copy(doc_box_value(a));
    cr_assert(doc_value_equal(doc_box_value(a), doc_box_value(k)));
    doc_node_free(a);
    cr_assert(doc_value_equal(doc_box_value(k), doc_box_value(b)));
    doc_node_free(b);
    doc_node_free(c);
    doc_node_free(k);
}

/* Same JSON text (the rule that makes DOC.SET of the text already there a
 * no-op): the node walk compares leaf nodes whole and keys and scalars by
 * their bytes; a difference anywhere, at any depth, is found. */
Test(tree, identical_means_the_same_json_text) {
    static const struct {
        const char *a, *b; /* JSON texts */
        int same;          /* doc_value_identical */
    } rows[] = {
        {"1", "1", 1},
        {"1", "1.0", 0},
        {"1.0", "1.00", 1}, /* the same double */
        {"0.0", "-0.0", 0},
        {"\"a\\u0062\"", "\"ab\"", 1}, /* escapes decode to the same bytes */
        {"{}", "[]", 0},
        {"{}", "{}", 1},
        {"[1]", "1", 0},
        {"{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2}", 1},
        {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", 0}, /* member order is text */
        {"{\"a\":1,\"b\":2}", "{\"a\":1,\"c\":2}", 0},
        {"{\"a\":1}", "{\"a\":1,\"b\":2}", 0},
        {"[1,[2,[3,{\"x\":\"y\"}]]]", "[1,[2,[3,{\"x\":\"y\"}]]]", 1},
        {"[1,[2,[3,{\"x\":\"y\"}]]]", "[1,[2,[3,{\"x\":\"z\"}]]]", 0},
        {"[1,[2,[3,{\"x\":\"y\"}]]]", "[1,[2,[3,{\"x\":[]}]]]", 0},
        {"[{\"a\":[]},{\"b\":{}}]", "[{\"a\":[]},{\"b\":[]}]", 0},
        {"[\"a\",true,null,1e300,-7]", "[\"a\",true,null,1e300,-7]", 1},
        {"[\"a\",true,null,1e300,-7]", "[\"a\",true,null,1e300,-8]", 0},
        {"[\"a\",true,null]", "[\"a\",false,null]", 0},
        {"[\"ab\",1]", "[\"a\",\"b\"]", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_node *a = parse_ok(rows[i].a), *b = parse_ok(rows[i].b);
        cr_expect_eq(doc_value_identical(doc_box_value(a), doc_box_value(b)), rows[i].same,
                     "row %zu: %s vs %s", i, rows[i].a, rows[i].b);
        cr_expect_eq(doc_value_identical(doc_box_value(b), doc_box_value(a)), rows[i].same,
                     "row %zu reversed", i);
        cr_expect(doc_value_identical(doc_box_value(a), doc_box_value(a)), "row %zu self", i);
        doc_node_free(a);
        doc_node_free(b);
    }
    /* Large (indexed) objects and arrays, and a copy, which shares no node. */
    doc_buf t;
    doc_buf_init(&t);
    doc_buf_append(&t, "{", 1);
    for (int i = 0; i < 300; i++) {
        char m[64];
        int n = snprintf(m, sizeof m, "%s\"k%d\":[%d,{\"v\":\"s%d\"}]", i ? "," : "", i, i, i);
        doc_buf_append(&t, m, (size_t)n);
    }
    doc_buf_append(&t, "}", 1);
    doc_node *big = parse_ok(doc_buf_cstr(&t));
    doc_node *copy = doc_value_copy(doc_box_value(big));
    cr_assert(doc_value_identical(doc_box_value(big), doc_box_value(copy)));
    char *last = strstr(t.data, "\"s299\"");
    last[2] = '8'; /* the last string of the last member */
    doc_node *other = parse_ok(doc_buf_cstr(&t));
    cr_assert_not(doc_value_identical(doc_box_value(big), doc_box_value(other)));
    doc_node_free(big);
    doc_node_free(copy);
    doc_node_free(other);
    doc_buf_free(&t);
}

/* Depth (what DOC.SET checks against max-depth where the value goes): a
 * scalar 0, each container one more than its deepest child; wide nodes of
 * nested children grow the walk's stack past its first 64 slots. */
Test(tree, value_depth_counts_the_deepest_chain) {
    static const struct {
        const char *json;
        uint32_t depth;
    } rows[] = {
        {"1", 0},
        {"\"s\"", 0},
        {"[]", 1},
        {"{}", 1},
        {"[1,2,3]", 1},
        {"[[]]", 2},
        {"{\"a\":[1,{\"b\":{}}],\"c\":2}", 4},
        {"[[],[[]],[[[1]]],[]]", 4},
        {"{\"a\":{\"b\":{\"c\":{\"d\":[5]}}},\"e\":[]}", 5},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        doc_node *b = parse_ok(rows[i].json);
        cr_expect_eq(doc_value_depth(doc_box_value(b)), rows[i].depth, "row %zu: %s", i, rows[i].json);
        doc_node_free(b);
    }
    doc_buf t;
    doc_buf_init(&t);
    doc_buf_append(&t, "[", 1);
    for (int i = 0; i < 300; i++) doc_buf_append(&t, i ? ",[[1]]" : "[[1]]", i ? 6 : 5);
    doc_buf_append(&t, ",[[[[7]]]]]", 11);
    doc_node *wide = parse_ok(doc_buf_cstr(&t));
    cr_assert_eq(doc_value_depth(doc_box_value(wide)), 5);
    doc_node_free(wide);
    doc_buf_free(&t);
}

/* Undo costs what the edit changed: one integer rewritten inside a ~1 MB
 * document logs a few dozen bytes, never a copy of the document; rolling it
 * back restores the exact text. */
Test(tree, undo_of_one_incr_in_a_1mb_document_logs_bytes_not_the_document) {
    doc_buf t;
    doc_buf_init(&t);
    doc_buf_append(&t, "{\"orders\":[", 11);
    for (int i = 0; i < 20000; i++) {
        char m[96];
        snprintf(m, sizeof m, "%s{\"id\":%d,\"sku\":\"SKU-%05d\",\"qty\":%d,\"price\":19.99}", i ? "," : "",
                 i, i, i % 7);
        doc_buf_append(&t, m, strlen(m));
    }
    doc_buf_append(&t, "],\"n\":41}", 9);
    cr_assert_gt(t.len, 1000000);
    doc_node *root = parse_ok(doc_buf_cstr(&t));
    char *before = print_value(doc_box_value(root));
    doc_undo *u = doc_undo_new();
    doc_cursor c;
    doc_cursor_init(&c, &root);
    doc_error err;
    doc_error_clear(&err);
    doc_path *p = path_ok("$.orders[9000].qty");
    cr_assert_eq(doc_resolve_write(&c, p, u, &err), DOC_OK);
    cr_assert_eq(doc_edit_set_take(&c, doc_box_int(1000000), u, &err), DOC_OK);
    doc_path_free(p);
    /* The log holds one record: a header, two path offsets, the old bytes. */
    cr_assert_eq(doc_undo_size(u), 1);
    cr_assert_lt(doc_undo_bytes(u), 512, "undo log of one INCR: %zu bytes for a %zu-byte document",
                 doc_undo_bytes(u), t.len);
    doc_undo_rollback(u);
    char *after = print_value(doc_box_value(root));
    cr_assert_str_eq(after, before);
    free(before);
    free(after);
    doc_undo_free(u);
    doc_cursor_free(&c);
    doc_node_free(root);
    doc_buf_free(&t);
}

/* Sets the value at `path` of *root to the encoded number v through
 * doc_edit_set_encoded_final (the last edit of a command). */
static doc_status set_final(doc_node **root, const char *path, doc_view v, doc_undo *u) {
    doc_cursor c;
    doc_cursor_init(&c, root);
    doc_error err;
    doc_error_clear(&err);
    doc_path *p = path_ok(path);
    doc_status st = doc_resolve_write(&c, p, u, &err);
    if (!st) {
        uint8_t enc[16];
        st = doc_edit_set_encoded_final(&c, enc, doc_encode_number(enc, &v), u, &err);
    }
    doc_path_free(p);
    doc_cursor_free(&c);
    return st;
}

static doc_view int_view(int64_t i) {
    doc_view v;
    memset(&v, 0, sizeof v);
    v.type = DOC_INT;
    v.i = i;
    return v;
}

/* Position of the first element of array $.l of root equal to integer i
 * (doc_array_find: the value hash in arrays of 64 elements or more). */
static int64_t find_in_l(doc_node **root, int64_t i) {
    doc_cursor c;
    doc_cursor_init(&c, root);
    doc_error err;
    doc_error_clear(&err);
    doc_path *p = path_ok("$.l");
    cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
    doc_view arr;
    doc_value_decode(doc_cursor_value(&c), &arr);
    doc_view v = int_view(i);
    uint8_t enc[16];
    doc_encode_number(enc, &v);
    int64_t at = doc_array_find(arr.node, enc, 0);
    doc_path_free(p);
    doc_cursor_free(&c);
    return at;
}

Test(tree, a_final_same_size_edit_is_made_in_place_without_a_record_and_counts_as_a_change) {
    /* a small object, an indexed array (value hash built by a search), an
     * indexed object: the same-size write keeps all of them right */
    doc_buf t;
    doc_buf_init(&t);
    doc_buf_append(&t, "{\"n\":5,\"d\":1.5,\"s\":\"ab\",\"l\":[", 29);
    for (int i = 0; i < 100; i++) {
        char m[16];
        snprintf(m, sizeof m, "%s%d", i ? "," : "", 1000 + i);
        doc_buf_append(&t, m, strlen(m));
    }
    doc_buf_append(&t, "],\"o\":{", 7);
    for (int i = 0; i < 40; i++) {
        char m[24];
        snprintf(m, sizeof m, "%s\"m%d\":%d", i ? "," : "", i, 2000 + i);
        doc_buf_append(&t, m, strlen(m));
    }
    doc_buf_append(&t, "}}", 2);
    doc_node *root = parse_ok(doc_buf_cstr(&t));
    doc_undo *u = doc_undo_new();
    cr_assert_eq(find_in_l(&root, 1050), 50); /* builds the value hash */
    size_t mark = doc_undo_mark(u);
    cr_assert_eq(set_final(&root, "$.n", int_view(6), u), DOC_OK);
    cr_assert_eq(set_final(&root, "$.l[50]", int_view(1999), u), DOC_OK);
    cr_assert_eq(set_final(&root, "$.o.m30", int_view(2999), u), DOC_OK);
    cr_assert_eq(doc_undo_size(u), 0, "same-size final edits log nothing");
    cr_assert_eq(doc_undo_unlogged(u), 3);
    cr_assert_eq(doc_undo_changed_since(u, mark), 1);
    cr_assert_eq(doc_undo_settle(u, mark), 0, "a final edit is never settled away");
    /* the same bytes again: no edit at all */
    cr_assert_eq(set_final(&root, "$.n", int_view(6), u), DOC_OK);
    cr_assert_eq(doc_undo_unlogged(u), 3);
    doc_undo_commit(u);
    cr_assert_eq(doc_undo_unlogged(u), 0);
    char *now = print_value(doc_box_value(root));
    cr_assert(strstr(now, "{\"n\":6,\"d\":1.5,"), "%s", now);
    cr_assert(strstr(now, ",1049,1999,1051,"), "%s", now);
    cr_assert(strstr(now, "\"m30\":2999,"), "%s", now);
    free(now);
    /* the value hash followed the element: the new value is found, the old is not */
    cr_assert_eq(find_in_l(&root, 1999), 50);
    cr_assert_eq(find_in_l(&root, 1050), -1);
    doc_undo_free(u);
    doc_node_free(root);
    doc_buf_free(&t);
}

Test(tree, a_final_edit_that_changes_the_size_or_creates_a_member_is_logged_and_undone) {
    doc_node *root = parse_ok("{\"n\":127,\"d\":1.5}");
    char *before = print_value(doc_box_value(root));
    doc_undo *u = doc_undo_new();
    cr_assert_eq(set_final(&root, "$.n", int_view(128), u), DOC_OK); /* 1 byte -> 3 */
    cr_assert_eq(set_final(&root, "$.d", int_view(2), u), DOC_OK);   /* a double -> a small int */
    cr_assert_eq(set_final(&root, "$.new", int_view(1), u), DOC_OK); /* a new member */
    cr_assert_eq(doc_undo_size(u), 3);
    cr_assert_eq(doc_undo_unlogged(u), 0);
    char *mid = print_value(doc_box_value(root));
    cr_assert_str_eq(mid, "{\"n\":128,\"d\":2,\"new\":1}");
    doc_undo_rollback(u);
    char *after = print_value(doc_box_value(root));
    cr_assert_str_eq(after, before);
    free(before);
    free(mid);
    free(after);
    doc_undo_free(u);
    doc_node_free(root);
}

/* Every key of obj found through its index (doc_object_get) where a scan finds it,
 * and keys absent from the scan not found. */
static void check_object_index(const doc_node *obj, int keys) {
    for (int k = 0; k < keys; k++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", k);
        doc_iter it;
        const char *key;
        size_t kl;
        const uint8_t *v, *want = NULL;
        doc_iter_init(&it, obj);
        while (doc_iter_next(&it, &key, &kl, &v, NULL))
            if (kl == strlen(name) && !memcmp(key, name, kl)) want = v;
        cr_assert_eq(doc_object_get(obj, name, strlen(name), NULL, NULL), want, "member %s", name);
    }
}

/* Members appended at the end skip the pass that shifts the index's offsets (there is
 * nothing after them); members removed, replaced or added back elsewhere still shift
 * it: after every edit each member is found where a scan finds it. */
Test(tree, an_indexed_object_finds_every_member_through_appends_removals_and_rollback) {
    doc_node *root = parse_ok("{\"o\":{}}");
    doc_undo *u = doc_undo_new();
    doc_cursor c;
    doc_cursor_init(&c, &root);
    doc_error err;
    srand(99);
    for (int e = 0; e < 3000; e++) {
        doc_error_clear(&err);
        char path[32];
        int k = rand() % 400;
        snprintf(path, sizeof path, "$.o.m%d", k);
        doc_path *p = path_ok(path);
        int op = rand() % 4;
        if (op < 2) { /* create (appended) or replace, sizes vary */
            char val[32];
            snprintf(val, sizeof val, rand() % 2 ? "%d" : "\"%d-long-string\"", rand());
            cr_assert_eq(doc_resolve_write(&c, p, u, &err), DOC_OK);
            cr_assert_eq(doc_edit_set_take(&c, parse_ok(val), u, &err), DOC_OK);
        } else if (op == 2) {
            if (doc_resolve(&c, p, &err) == DOC_OK) cr_assert_eq(doc_edit_remove(&c, u, &err), DOC_OK);
        } else if (rand() % 8 == 0) {
            doc_undo_rollback_to(u, doc_undo_size(u) / 2);
        }
        doc_path_free(p);
        if (e % 50 == 0 || e == 2999) {
            doc_path *op_path = path_ok("$.o");
            cr_assert_eq(doc_resolve(&c, op_path, &err), DOC_OK);
            doc_view v;
            doc_value_decode(doc_cursor_value(&c), &v);
            check_object_index(v.node, 400);
            doc_path_free(op_path);
        }
    }
    doc_undo_rollback(u);
    char *back = print_value(doc_box_value(root));
    cr_assert_str_eq(back, "{\"o\":{}}");
    free(back);
    doc_undo_free(u);
    doc_cursor_free(&c);
    doc_node_free(root);
}

/* doc_edit_remove_members's predicate in the test below: member m<k> goes when
 * bit k of the mask is set. */
static int member_in_mask(void *ctx, const char *key, size_t klen, const uint8_t *val) {
    (void)val;
    const unsigned char *mask = ctx;
    if (klen < 2 || key[0] != 'm') return 0;
    int k = atoi(key + 1);
    return k >= 0 && k < 400 && (mask[k / 8] >> (k % 8)) & 1;
}

/* Removing many members at once (one rewrite of the object, its record sharing the
 * kept containers) leaves what removing them one by one leaves, keeps the index
 * right, survives edits inside the kept containers made after it (they may move),
 * and rolls back byte for byte. */
Test(tree, removing_many_members_at_once_equals_one_by_one_and_rolls_back) {
    long long baseline = doc_memory_in_use();
    srand(4711);
    for (int round = 0; round < 40; round++) {
        doc_buf t;
        doc_buf_init(&t);
        doc_buf_append(&t, "{\"o\":{", 6);
        int n = 20 + rand() % 200;
        for (int i = 0; i < n; i++) {
            char m[64];
            int k = rand() % 3;
            snprintf(m, sizeof m, "%s\"m%d\":%s", i ? "," : "", i,
                     k == 0   ? "[1,{\"d\":2}]"
                     : k == 1 ? "\"s\""
                              : "{\"x\":[]}");
            doc_buf_append(&t, m, strlen(m));
        }
        doc_buf_append(&t, "}}", 2);
        doc_node *a = parse_ok(doc_buf_cstr(&t)), *b = parse_ok(doc_buf_cstr(&t));
        char *before = print_value(doc_box_value(a));
        doc_undo *u = doc_undo_new(), *ub = doc_undo_new();
        doc_cursor ca, cb;
        doc_cursor_init(&ca, &a);
        doc_cursor_init(&cb, &b);
        doc_error err;
        doc_path *op = path_ok("$.o");
        for (int e = 0; e < 6; e++) {
            doc_error_clear(&err);
            if (e % 2 == 0) {
                unsigned char mask[50] = {0};
                for (int k = 0; k < 400; k++)
                    if (rand() % 3 == 0) mask[k / 8] |= (unsigned char)(1u << (k % 8));
                uint32_t removed = 0, one_by_one = 0;
                cr_assert_eq(doc_resolve(&ca, op, &err), DOC_OK);
                cr_assert_eq(doc_edit_remove_members(&ca, member_in_mask, mask, u, &removed, &err), DOC_OK);
                for (int k = 0; k < 400; k++) {
                    if (!((mask[k / 8] >> (k % 8)) & 1)) continue;
                    char path[32];
                    snprintf(path, sizeof path, "$.o.m%d", k);
                    doc_path *p = path_ok(path);
                    if (doc_resolve(&cb, p, &err) == DOC_OK) {
                        cr_assert_eq(doc_edit_remove(&cb, ub, &err), DOC_OK);
                        one_by_one++;
                    }
                    doc_error_clear(&err);
                    doc_path_free(p);
                }
                cr_assert_eq(removed, one_by_one);
            } else {
                /* kept member arrays grown (their nodes move), on both */
                for (int k = 0; k < 30; k++) {
                    char path[32];
                    snprintf(path, sizeof path, "$.o.m%d", rand() % 220);
                    doc_path *p = path_ok(path);
                    doc_cursor *cs[2] = {&ca, &cb};
                    doc_undo *us[2] = {u, ub};
                    for (int s = 0; s < 2; s++) {
                        doc_error_clear(&err);
                        if (doc_resolve(cs[s], p, &err) == DOC_OK &&
                            *doc_cursor_value(cs[s]) == DOC_TAG_ARRAY)
                            cr_assert_eq(doc_edit_insert_take(cs[s], 0,
                                                              parse_ok("\"a string to grow the array\""),
                                                              us[s], &err),
                                         DOC_OK);
                    }
                    doc_path_free(p);
                }
            }
            char *pa = print_value(doc_box_value(a)), *pb = print_value(doc_box_value(b));
            cr_assert_str_eq(pa, pb, "round %d, step %d", round, e);
            free(pa);
            free(pb);
            doc_error_clear(&err);
            cr_assert_eq(doc_resolve(&ca, op, &err), DOC_OK);
            doc_view v;
            doc_value_decode(doc_cursor_value(&ca), &v);
            check_object_index(v.node, 220);
            if (e == 3) { /* half of it undone, then redone differently */
                doc_undo_rollback_to(u, doc_undo_size(u) / 2);
                doc_undo_rollback_to(ub, 0);
                doc_undo_rollback_to(u, 0);
            }
        }
        doc_undo_rollback(u);
        char *back = print_value(doc_box_value(a));
        cr_assert_str_eq(back, before, "round %d: undo is byte-exact", round);
        doc_error_clear(&err);
        cr_assert_eq(doc_resolve(&ca, op, &err), DOC_OK);
        doc_view v;
        doc_value_decode(doc_cursor_value(&ca), &v);
        check_object_index(v.node, 220);
        free(back);
        free(before);
        doc_path_free(op);
        doc_undo_free(u);
        doc_undo_free(ub);
        doc_cursor_free(&ca);
        doc_cursor_free(&cb);
        doc_node_free(a);
        doc_node_free(b);
        doc_buf_free(&t);
    }
    cr_assert_eq(doc_memory_in_use(), baseline, "bytes leaked from the count: %lld",
                 doc_memory_in_use() - baseline);
}
