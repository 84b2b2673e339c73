/*
 * test_find.c - doc_array_find and the value hash of large arrays: after
 * every edit of a random sequence (replace, insert, remove runs, rollback),
 * the answer for every probe equals a plain scan with doc_value_equal, the
 * memory counters come back to where they started, and MEMORY USAGE's walk
 * counts the hash.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "unit_doc.h"

/* Values with tricky equalities: 1 == 1.0, 0 == -0.0, strings by bytes. */
static const char *const VALUES[] = {
    "1",
    "1.0",
    "0",
    "-0.0",
    "2",
    "2.5",
    "-7",
    "300",
    "9007199254740993",
    "1e300",
    "\"u1\"",
    "\"u2\"",
    "\"\"",
    "\"a longer string of more than eight bytes\"",
    "\"1\"",
    "null",
    "true",
    "false",
    "[1]",
    "{\"a\":1}",
    "[]",
};
#define NVALUES (sizeof VALUES / sizeof VALUES[0])

static int64_t scan(const doc_node *arr, const uint8_t *val, uint32_t from) {
    doc_iter it;
    const uint8_t *el;
    doc_iter_init(&it, arr);
    for (uint32_t i = 0; doc_iter_next(&it, NULL, NULL, &el, NULL); i++)
        if (i >= from && doc_value_equal(el, val)) return i;
    return -1;
}

static doc_node *array_of(doc_node *root) {
    doc_view v;
    doc_value_decode(doc_box_value(root), &v);
    doc_value_decode(doc_box_value(root), &v);
    cr_assert_eq(v.type, DOC_OBJECT);
    const uint8_t *a = doc_object_get(v.node, "a", 1, NULL, NULL);
    cr_assert(a && *a == DOC_TAG_ARRAY);
    doc_view av;
    doc_value_decode(a, &av);
    return av.node;
}

static void check_all(doc_node *root, doc_node **probes) {
    doc_node *arr = array_of(root);
    uint32_t n = doc_node_count(arr);
    for (size_t k = 0; k < NVALUES; k++) {
        const uint8_t *pv = doc_box_value(probes[k]);
        uint32_t froms[3] = {0, n / 2, n};
        for (int f = 0; f < 3; f++)
            cr_assert_eq(doc_array_find(arr, pv, froms[f]), scan(arr, pv, froms[f]), "probe %s from %u of %u",
                         VALUES[k], froms[f], n);
    }
}

Test(find, agrees_with_a_scan_through_random_edits_and_rollback) {
    long long baseline = doc_memory_in_use();
    doc_node *probes[NVALUES];
    for (size_t k = 0; k < NVALUES; k++) probes[k] = parse_ok(VALUES[k]);
    srand(4242);
    for (int round = 0; round < 12; round++) {
        doc_buf t;
        doc_buf_init(&t);
        doc_buf_append(&t, "{\"a\":[", 6);
        int n = 40 + rand() % 300;
        for (int i = 0; i < n; i++) {
            const char *v = VALUES[rand() % NVALUES];
            if (i) doc_buf_append(&t, ",", 1);
            doc_buf_append(&t, v, strlen(v));
        }
        doc_buf_append(&t, "]}", 2);
        doc_node *root = parse_ok(doc_buf_cstr(&t));
        doc_buf before;
        doc_buf_init(&before);
        doc_print(doc_box_value(root), &before);
        size_t mem0 = doc_node_memory(root);
        check_all(root, probes); /* builds the hash when long enough */
        if (doc_node_count(array_of(root)) >= 64)
            cr_assert_gt(doc_node_memory(root), mem0, "the hash is counted by MEMORY USAGE");
        doc_undo *u = doc_undo_new();
        doc_cursor c;
        doc_cursor_init(&c, &root);
        doc_error err;
        doc_path *ap;
        doc_error_clear(&err);
        cr_assert_eq(doc_path_compile("$.a", 3, 128, &ap, &err), DOC_OK);
        for (int e = 0; e < 60; e++) {
            doc_error_clear(&err);
            cr_assert_eq(doc_resolve(&c, ap, &err), DOC_OK);
            uint32_t cnt = doc_node_count(array_of(root));
            int op = rand() % 6;
            if (op == 0 && cnt) {
                /* replace one element (often size-neutral) */
                char path[32];
                snprintf(path, sizeof path, "$.a[%u]", (unsigned)rand() % cnt);
                doc_path *p;
                cr_assert_eq(doc_path_compile(path, strlen(path), 128, &p, &err), DOC_OK);
                cr_assert_eq(doc_resolve(&c, p, &err), DOC_OK);
                cr_assert_eq(doc_edit_set_take(&c, parse_ok(VALUES[rand() % NVALUES]), u, &err), DOC_OK);
                doc_path_free(p);
            } else if (op == 1) {
                /* insert a few anywhere (the end often) */
                uint32_t at = rand() % 2 ? cnt : (uint32_t)rand() % (cnt + 1);
                doc_node *boxes[3];
                size_t k = 1 + (size_t)rand() % 3;
                for (size_t i = 0; i < k; i++) boxes[i] = parse_ok(VALUES[rand() % NVALUES]);
                cr_assert_eq(doc_edit_insert_many_take(&c, at, boxes, k, u, &err), DOC_OK);
            } else if (op == 2 && cnt) {
                uint32_t from = (uint32_t)rand() % cnt;
                uint32_t most = rand() % 4 ? 20 : 100; /* past VH_FORGET_MAX too */
                uint32_t k = (uint32_t)rand() % (cnt - from < most ? cnt - from + 1 : most);
                cr_assert_eq(doc_edit_remove_range(&c, from, k, u, &err), DOC_OK);
            } else if (op == 3) {
                /* pull by value: every equal element goes */
                uint32_t removed = 0;
                doc_node *v = probes[rand() % NVALUES];
                int64_t had = doc_array_find(array_of(root), doc_box_value(v), 0);
                cr_assert_eq(doc_edit_remove_equal(&c, &v, 1, u, &removed, &err), DOC_OK);
                cr_assert_eq(had >= 0, removed > 0);
                cr_assert_eq(doc_array_find(array_of(root), doc_box_value(v), 0), -1);
            } else if (op == 5 && cnt) {
                /* every element rewritten at once (DOC.UPDATE $[]): scalars */
                doc_buf nb;
                doc_buf_init(&nb);
                doc_buf_append(&nb, "[", 1);
                for (uint32_t i = 0; i < cnt; i++) {
                    const char *v = VALUES[rand() % 18];
                    if (i) doc_buf_append(&nb, ",", 1);
                    doc_buf_append(&nb, v, strlen(v));
                }
                doc_buf_append(&nb, "]", 1);
                doc_node *box = parse_ok(doc_buf_cstr(&nb));
                doc_view nv;
                doc_value_decode(doc_box_value(box), &nv);
                cr_assert_eq(doc_edit_rewrite(&c, doc_node_bytes(nv.node), doc_node_len(nv.node), u, &err),
                             DOC_OK, "%s", err.msg);
                doc_node_free(box);
                doc_buf_free(&nb);
            } else {
                /* roll part of the log back */
                doc_undo_rollback_to(u, doc_undo_size(u) / 2);
            }
            check_all(root, probes);
        }
        doc_undo_rollback(u);
        doc_buf after;
        doc_buf_init(&after);
        doc_print(doc_box_value(root), &after);
        cr_assert_str_eq(doc_buf_cstr(&after), doc_buf_cstr(&before), "round %d: undo is byte-exact", round);
        check_all(root, probes);
        doc_buf_free(&after);
        doc_buf_free(&before);
        doc_path_free(ap);
        doc_undo_free(u);
        doc_cursor_free(&c);
        doc_node_free(root);
        doc_buf_free(&t);
    }
    for (size_t k = 0; k < NVALUES; k++) doc_node_free(probes[k]);
    cr_assert_eq(doc_memory_in_use(), baseline, "bytes leaked from the count: %lld",
                 doc_memory_in_use() - baseline);
}

Test(find, a_100000_element_array_answers_from_the_hash) {
    doc_buf t;
    doc_node *root = parse_ok(array_text(&t, 100000, "\"u%d\""));
    doc_view v;
    doc_value_decode(doc_box_value(root), &v);
    doc_node *hit = parse_ok("\"u77777\""), *miss = parse_ok("\"u100000\"");
    cr_assert_eq(doc_array_find(v.node, doc_box_value(hit), 0), 77777);
    cr_assert_eq(doc_array_find(v.node, doc_box_value(hit), 77778), -1);
    cr_assert_eq(doc_array_find(v.node, doc_box_value(miss), 0), -1);
    doc_node_free(hit);
    doc_node_free(miss);
    doc_node_free(root);
    doc_buf_free(&t);
}

/* A value repeated all over a large array is one slot of the hash (its first
 * element and a count), not one per element: a chain of 50,000 equal
 * entries made building the hash quadratic and every search whose chain ran
 * into it walk it (seconds at this size). */
Test(find, a_value_repeated_50000_times_is_one_slot) {
    doc_buf t;
    doc_buf_init(&t);
    doc_buf_append(&t, "{\"a\":[", 6);
    for (int i = 0; i < 100000; i++) {
        char m[32];
        /* "x" at every odd position, distinct integers between */
        snprintf(m, sizeof m, "%s%s", i ? "," : "", i % 2 ? "\"x\"" : "");
        if (!(i % 2)) snprintf(m + strlen(m), sizeof m - strlen(m), "%d", i);
        doc_buf_append(&t, m, strlen(m));
    }
    doc_buf_append(&t, "]}", 2);
    doc_node *root = parse_ok(doc_buf_cstr(&t));
    doc_node *x = parse_ok("\"x\""), *y = parse_ok("\"y\""), *n = parse_ok("4");
    doc_node *arr = array_of(root);
    cr_assert_eq(doc_array_find(arr, doc_box_value(x), 0), 1);
    cr_assert_eq(doc_array_hashed_values(arr), 50001, "one slot per distinct value");
    cr_assert_eq(doc_array_find(arr, doc_box_value(x), 2), 3, "past the first: the next one");
    cr_assert_eq(doc_array_find(arr, doc_box_value(x), 99999), 99999);
    cr_assert_eq(doc_array_find(arr, doc_box_value(y), 0), -1);
    cr_assert_eq(doc_array_find(arr, doc_box_value(n), 0), 4);
    cr_assert_eq(doc_array_find(arr, doc_box_value(n), 5), -1, "the only one is before `from`");

    doc_undo *u = doc_undo_new();
    doc_cursor c;
    doc_cursor_init(&c, &root);
    doc_error err;
    doc_error_clear(&err);
    doc_path *ap;
    cr_assert_eq(doc_path_compile("$.a", 3, 128, &ap, &err), DOC_OK);
    /* The first "x" goes: the next one is the value's first now. */
    cr_assert_eq(doc_resolve(&c, ap, &err), DOC_OK);
    cr_assert_eq(doc_edit_remove_range(&c, 1, 1, u, &err), DOC_OK);
    arr = array_of(root);
    cr_assert_eq(doc_array_find(arr, doc_box_value(x), 0), 2);
    cr_assert_eq(doc_array_hashed_values(arr), 50001);
    /* A "x" inserted before every other one: the value's first again. */
    cr_assert_eq(doc_resolve(&c, ap, &err), DOC_OK);
    doc_node *box = parse_ok("\"x\"");
    cr_assert_eq(doc_edit_insert_many_take(&c, 0, &box, 1, u, &err), DOC_OK);
    arr = array_of(root);
    cr_assert_eq(doc_array_find(arr, doc_box_value(x), 0), 0);
    /* Every "x" pulled: one rewrite, the integers left in order. */
    uint32_t removed = 0;
    cr_assert_eq(doc_resolve(&c, ap, &err), DOC_OK);
    cr_assert_eq(doc_edit_remove_equal(&c, &x, 1, u, &removed, &err), DOC_OK);
    cr_assert_eq(removed, 50000);
    arr = array_of(root);
    cr_assert_eq(doc_node_count(arr), 50000);
    cr_assert_eq(doc_array_find(arr, doc_box_value(x), 0), -1);
    cr_assert_eq(doc_array_find(arr, doc_box_value(n), 0), 2);
    cr_assert_eq(doc_array_find(arr, doc_box_value(n), 0), scan(arr, doc_box_value(n), 0));
    /* And all of it undone, byte for byte. */
    doc_undo_rollback(u);
    doc_buf after;
    doc_buf_init(&after);
    doc_print(doc_box_value(root), &after);
    cr_assert_str_eq(doc_buf_cstr(&after), doc_buf_cstr(&t));
    arr = array_of(root);
    cr_assert_eq(doc_array_find(arr, doc_box_value(x), 0), 1);
    cr_assert_eq(doc_array_find(arr, doc_box_value(x), 4), 5);
    doc_buf_free(&after);
    doc_path_free(ap);
    doc_undo_free(u);
    doc_cursor_free(&c);
    doc_node_free(x);
    doc_node_free(y);
    doc_node_free(n);
    doc_node_free(root);
    doc_buf_free(&t);
}

/* doc_valueset answers as comparing with each value would (doc_value_equal):
 * random subsets of VALUES (their tricky equalities, containers included). */
Test(find, a_value_set_agrees_with_comparing_one_by_one) {
    doc_node *vals[NVALUES];
    for (size_t k = 0; k < NVALUES; k++) vals[k] = parse_ok(VALUES[k]);
    srand(777);
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)rand() % (2 * NVALUES);
        const uint8_t *in[2 * NVALUES];
        size_t nin = 0;
        doc_valueset *s = doc_valueset_new(n);
        cr_assert(s);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *v = doc_box_value(vals[rand() % NVALUES]);
            int had = 0;
            for (size_t j = 0; j < nin && !had; j++) had = doc_value_equal(in[j], v);
            cr_assert_eq(doc_valueset_add(s, v), !had, "round %d: add %zu", round, i);
            if (!had) in[nin++] = v;
        }
        for (size_t k = 0; k < NVALUES; k++) {
            const uint8_t *v = doc_box_value(vals[k]);
            int want = 0;
            for (size_t j = 0; j < nin && !want; j++) want = doc_value_equal(in[j], v);
            cr_assert_eq(doc_valueset_has(s, v), want, "round %d: has %s", round, VALUES[k]);
        }
        doc_valueset_free(s);
    }
    /* full: a set made for one value takes no second */
    doc_valueset *s = doc_valueset_new(1);
    cr_assert_eq(doc_valueset_add(s, doc_box_value(vals[0])), 1);
    cr_assert_eq(doc_valueset_add(s, doc_box_value(vals[1])), 0, "1.0 equals 1: already there");
    cr_assert_eq(doc_valueset_add(s, doc_box_value(vals[4])), -1);
    doc_valueset_free(s);
    for (size_t k = 0; k < NVALUES; k++) doc_node_free(vals[k]);
}
